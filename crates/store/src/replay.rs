//! The grant replay store: `(client, jti)` pairs remembered until the grant could no longer
//! be used anyway. In the database, so it holds across restarts and across nodes.

use crate::{Result, Store};

impl Store {
    /// Records a grant's use. Returns false when the same `(client, jti)` was used before.
    pub async fn remember_grant(&self, client_id: &str, jti: &str, expires_at: i64) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO grant_replay (client_id, jti, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (client_id, jti) DO NOTHING",
        )
        .bind(client_id)
        .bind(jti)
        .bind(expires_at)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn forget_expired_grants(&self, now: i64) -> Result<u64> {
        let done = sqlx::query("DELETE FROM grant_replay WHERE expires_at < $1")
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}
