use crate::{Result, Store, WriteTx};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SigningKeyRow {
    pub kid: String,
    pub public_jwk: String,
    /// base64 of the sealed PKCS#8 private key.
    pub sealed_private_key: String,
    /// `next`, `active` or `retired`.
    pub state: String,
    pub created: i64,
    pub activated: Option<i64>,
    pub publish_until: Option<i64>,
}

impl Store {
    pub async fn signing_keys(&self) -> Result<Vec<SigningKeyRow>> {
        Ok(sqlx::query_as(
            "SELECT kid, public_jwk, sealed_private_key, state, created, activated, publish_until \
             FROM signing_keys ORDER BY created, kid",
        )
        .fetch_all(&self.pool)
        .await?)
    }
}

impl WriteTx {
    pub async fn signing_keys(&mut self) -> Result<Vec<SigningKeyRow>> {
        Ok(sqlx::query_as(
            "SELECT kid, public_jwk, sealed_private_key, state, created, activated, publish_until \
             FROM signing_keys ORDER BY created, kid",
        )
        .fetch_all(&mut *self.tx)
        .await?)
    }

    pub async fn insert_signing_key(&mut self, k: &SigningKeyRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO signing_keys (kid, public_jwk, sealed_private_key, state, created, activated, publish_until) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&k.kid)
        .bind(&k.public_jwk)
        .bind(&k.sealed_private_key)
        .bind(&k.state)
        .bind(k.created)
        .bind(k.activated)
        .bind(k.publish_until)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    pub async fn set_signing_key_state(
        &mut self,
        kid: &str,
        state: &str,
        activated: Option<i64>,
        publish_until: Option<i64>,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE signing_keys SET state = $2, activated = COALESCE($3, activated), publish_until = $4 WHERE kid = $1",
        )
        .bind(kid)
        .bind(state)
        .bind(activated)
        .bind(publish_until)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    pub async fn delete_signing_key(&mut self, kid: &str) -> Result<()> {
        sqlx::query("DELETE FROM signing_keys WHERE kid = $1").bind(kid).execute(&mut *self.tx).await?;
        Ok(())
    }
}
