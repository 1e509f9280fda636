use crate::{flag, Result, Store, StoreError, WriteTx};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ClientRow {
    pub client_id: String,
    pub client_name: String,
    pub description: String,
    pub client_orgno: String,
    pub integration_type: String,
    pub access_token_lifetime: i64,
    pub active: i64,
    pub created: i64,
    pub last_updated: i64,
}

impl ClientRow {
    pub fn is_active(&self) -> bool {
        self.active != 0
    }
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ClientKeyRow {
    pub kid: String,
    pub client_id: String,
    /// The public JWK as registered (normalised JSON).
    pub jwk: String,
    pub created: i64,
    pub expires: i64,
}

const CLIENT_COLUMNS: &str = "client_id, client_name, description, client_orgno, integration_type, \
     access_token_lifetime, active, created, last_updated";

impl Store {
    pub async fn client(&self, client_id: &str) -> Result<Option<ClientRow>> {
        Ok(sqlx::query_as(&format!("SELECT {CLIENT_COLUMNS} FROM clients WHERE client_id = $1"))
            .bind(client_id)
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn clients_of_org(&self, orgno: &str) -> Result<Vec<ClientRow>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {CLIENT_COLUMNS} FROM clients WHERE client_orgno = $1 AND active = 1 ORDER BY created, client_id"
        ))
        .bind(orgno)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn client_scopes(&self, client_id: &str) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar("SELECT scope FROM client_scopes WHERE client_id = $1 ORDER BY scope")
            .bind(client_id)
            .fetch_all(&self.pool)
            .await?)
    }

    pub async fn client_keys(&self, client_id: &str) -> Result<Vec<ClientKeyRow>> {
        Ok(sqlx::query_as(
            "SELECT kid, client_id, jwk, created, expires FROM client_keys WHERE client_id = $1 ORDER BY created, kid",
        )
        .bind(client_id)
        .fetch_all(&self.pool)
        .await?)
    }
}

impl WriteTx {
    pub async fn insert_client(&mut self, c: &ClientRow) -> Result<()> {
        sqlx::query(&format!(
            "INSERT INTO clients ({CLIENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        ))
        .bind(&c.client_id)
        .bind(&c.client_name)
        .bind(&c.description)
        .bind(&c.client_orgno)
        .bind(&c.integration_type)
        .bind(c.access_token_lifetime)
        .bind(c.active)
        .bind(c.created)
        .bind(c.last_updated)
        .execute(&mut *self.tx)
        .await
        .map_err(StoreError::from_insert)?;
        Ok(())
    }

    pub async fn update_client(&mut self, c: &ClientRow) -> Result<()> {
        sqlx::query(
            "UPDATE clients SET client_name = $2, description = $3, access_token_lifetime = $4, active = $5, \
             last_updated = $6 WHERE client_id = $1",
        )
        .bind(&c.client_id)
        .bind(&c.client_name)
        .bind(&c.description)
        .bind(c.access_token_lifetime)
        .bind(c.active)
        .bind(c.last_updated)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    pub async fn set_client_scopes(&mut self, client_id: &str, scopes: &[String]) -> Result<()> {
        sqlx::query("DELETE FROM client_scopes WHERE client_id = $1")
            .bind(client_id)
            .execute(&mut *self.tx)
            .await?;
        for scope in scopes {
            sqlx::query("INSERT INTO client_scopes (client_id, scope) VALUES ($1, $2)")
                .bind(client_id)
                .bind(scope)
                .execute(&mut *self.tx)
                .await
                .map_err(StoreError::from_insert)?;
        }
        Ok(())
    }

    /// Replaces the client's whole key set; a kid used by another client is a conflict.
    pub async fn replace_client_keys(&mut self, client_id: &str, keys: &[ClientKeyRow]) -> Result<()> {
        sqlx::query("DELETE FROM client_keys WHERE client_id = $1")
            .bind(client_id)
            .execute(&mut *self.tx)
            .await?;
        for k in keys {
            sqlx::query("INSERT INTO client_keys (kid, client_id, jwk, created, expires) VALUES ($1, $2, $3, $4, $5)")
                .bind(&k.kid)
                .bind(client_id)
                .bind(&k.jwk)
                .bind(k.created)
                .bind(k.expires)
                .execute(&mut *self.tx)
                .await
                .map_err(StoreError::from_insert)?;
        }
        Ok(())
    }

    pub async fn touch_client(&mut self, client_id: &str, now: i64) -> Result<()> {
        sqlx::query("UPDATE clients SET last_updated = $2 WHERE client_id = $1")
            .bind(client_id)
            .bind(now)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// Deletion is deactivation (as at Digdir): the row stays, its keys go.
    pub async fn deactivate_client(&mut self, client_id: &str, now: i64) -> Result<()> {
        sqlx::query("UPDATE clients SET active = $2, last_updated = $3 WHERE client_id = $1")
            .bind(client_id)
            .bind(flag(false))
            .bind(now)
            .execute(&mut *self.tx)
            .await?;
        sqlx::query("DELETE FROM client_keys WHERE client_id = $1")
            .bind(client_id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }
}
