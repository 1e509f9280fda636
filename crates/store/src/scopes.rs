use crate::{Result, Store, StoreError, WriteTx};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ScopeRow {
    pub name: String,
    pub prefix: String,
    pub subscope: String,
    pub description: String,
    pub long_description: String,
    pub owner_orgno: String,
    pub active: i64,
    pub visibility: String,
    /// JSON array of integration types, e.g. `["maskinporten"]`.
    pub allowed_integration_types: String,
    pub accessible_for_all: i64,
    pub at_max_age: i64,
    pub delegation_source: Option<String>,
    pub requires_user_consent: i64,
    pub created: i64,
    pub last_updated: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ScopeAccessRow {
    pub scope: String,
    pub consumer_orgno: String,
    /// `APPROVED` or `DENIED` (a revoked grant).
    pub state: String,
    pub created: i64,
    pub last_updated: i64,
}

const SCOPE_COLUMNS: &str = "name, prefix, subscope, description, long_description, owner_orgno, active, visibility, \
     allowed_integration_types, accessible_for_all, at_max_age, delegation_source, requires_user_consent, created, last_updated";

impl Store {
    pub async fn scope(&self, name: &str) -> Result<Option<ScopeRow>> {
        Ok(sqlx::query_as(&format!("SELECT {SCOPE_COLUMNS} FROM scopes WHERE name = $1"))
            .bind(name)
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn scopes_of_owner(&self, orgno: &str, include_inactive: bool) -> Result<Vec<ScopeRow>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {SCOPE_COLUMNS} FROM scopes WHERE owner_orgno = $1 AND (active = 1 OR $2 = 1) ORDER BY name"
        ))
        .bind(orgno)
        .bind(i64::from(include_inactive))
        .fetch_all(&self.pool)
        .await?)
    }

    /// The public catalogue: active scopes with visibility PUBLIC.
    pub async fn public_scopes(&self) -> Result<Vec<ScopeRow>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {SCOPE_COLUMNS} FROM scopes WHERE active = 1 AND visibility = 'PUBLIC' ORDER BY name"
        ))
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn scope_prefix_owner(&self, prefix: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT owner_orgno FROM scope_prefixes WHERE prefix = $1")
            .bind(prefix)
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn scope_access(&self, scope: &str, consumer_orgno: &str) -> Result<Option<ScopeAccessRow>> {
        Ok(sqlx::query_as(
            "SELECT scope, consumer_orgno, state, created, last_updated FROM scope_access \
             WHERE scope = $1 AND consumer_orgno = $2",
        )
        .bind(scope)
        .bind(consumer_orgno)
        .fetch_optional(&self.pool)
        .await?)
    }

    pub async fn scope_access_list(&self, scope: &str) -> Result<Vec<ScopeAccessRow>> {
        Ok(sqlx::query_as(
            "SELECT scope, consumer_orgno, state, created, last_updated FROM scope_access \
             WHERE scope = $1 ORDER BY consumer_orgno",
        )
        .bind(scope)
        .fetch_all(&self.pool)
        .await?)
    }
}

impl WriteTx {
    /// Assigns a prefix to an organisation; returns the owner it has after the call.
    pub async fn claim_scope_prefix(&mut self, prefix: &str, owner_orgno: &str) -> Result<String> {
        sqlx::query("INSERT INTO scope_prefixes (prefix, owner_orgno) VALUES ($1, $2) ON CONFLICT (prefix) DO NOTHING")
            .bind(prefix)
            .bind(owner_orgno)
            .execute(&mut *self.tx)
            .await?;
        Ok(sqlx::query_scalar("SELECT owner_orgno FROM scope_prefixes WHERE prefix = $1")
            .bind(prefix)
            .fetch_one(&mut *self.tx)
            .await?)
    }

    pub async fn insert_scope(&mut self, s: &ScopeRow) -> Result<()> {
        sqlx::query(&format!(
            "INSERT INTO scopes ({SCOPE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
        ))
        .bind(&s.name)
        .bind(&s.prefix)
        .bind(&s.subscope)
        .bind(&s.description)
        .bind(&s.long_description)
        .bind(&s.owner_orgno)
        .bind(s.active)
        .bind(&s.visibility)
        .bind(&s.allowed_integration_types)
        .bind(s.accessible_for_all)
        .bind(s.at_max_age)
        .bind(&s.delegation_source)
        .bind(s.requires_user_consent)
        .bind(s.created)
        .bind(s.last_updated)
        .execute(&mut *self.tx)
        .await
        .map_err(StoreError::from_insert)?;
        Ok(())
    }

    pub async fn update_scope(&mut self, s: &ScopeRow) -> Result<()> {
        sqlx::query(
            "UPDATE scopes SET description = $2, long_description = $3, active = $4, visibility = $5, \
             allowed_integration_types = $6, accessible_for_all = $7, at_max_age = $8, delegation_source = $9, \
             requires_user_consent = $10, last_updated = $11 WHERE name = $1",
        )
        .bind(&s.name)
        .bind(&s.description)
        .bind(&s.long_description)
        .bind(s.active)
        .bind(&s.visibility)
        .bind(&s.allowed_integration_types)
        .bind(s.accessible_for_all)
        .bind(s.at_max_age)
        .bind(&s.delegation_source)
        .bind(s.requires_user_consent)
        .bind(s.last_updated)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    pub async fn set_scope_access(&mut self, scope: &str, consumer_orgno: &str, state: &str, now: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO scope_access (scope, consumer_orgno, state, created, last_updated) VALUES ($1, $2, $3, $4, $4) \
             ON CONFLICT (scope, consumer_orgno) DO UPDATE SET state = $3, last_updated = $4",
        )
        .bind(scope)
        .bind(consumer_orgno)
        .bind(state)
        .bind(now)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }
}
