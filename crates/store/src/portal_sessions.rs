//! The portal's sessions (migration 0012). Written and read outside [`crate::WriteTx`]: a
//! session is not configuration, so it does not bump the change sequence.

use crate::{Result, Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PortalSessionRow {
    pub session_hash: String,
    pub person_party_id: i64,
    pub acting_party_id: Option<i64>,
    pub csrf_token: String,
    pub created_at: i64,
    pub expires_at: i64,
}

const COLUMNS: &str = "session_hash, person_party_id, acting_party_id, csrf_token, created_at, expires_at";

impl Store {
    pub async fn insert_portal_session(&self, row: &PortalSessionRow) -> Result<()> {
        sqlx::query(&format!("INSERT INTO portal_sessions ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"))
            .bind(&row.session_hash)
            .bind(row.person_party_id)
            .bind(row.acting_party_id)
            .bind(&row.csrf_token)
            .bind(row.created_at)
            .bind(row.expires_at)
            .execute(&self.pool)
            .await
            .map_err(StoreError::from_insert)?;
        Ok(())
    }

    /// The session with this hash if it has not expired at `now`.
    pub async fn portal_session(&self, session_hash: &str, now: i64) -> Result<Option<PortalSessionRow>> {
        Ok(sqlx::query_as(&format!("SELECT {COLUMNS} FROM portal_sessions WHERE session_hash = $1 AND expires_at > $2"))
            .bind(session_hash)
            .bind(now)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Moves the session's expiry (only forward, only while it lives); false when it is gone.
    pub async fn extend_portal_session(&self, session_hash: &str, expires_at: i64, now: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE portal_sessions SET expires_at = $2 WHERE session_hash = $1 AND expires_at > $3 AND expires_at < $2",
        )
        .bind(session_hash)
        .bind(expires_at)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records the party the session acts for; false when the session is gone or expired.
    pub async fn set_portal_acting_party(&self, session_hash: &str, party_id: i64, now: i64) -> Result<bool> {
        let done = sqlx::query("UPDATE portal_sessions SET acting_party_id = $2 WHERE session_hash = $1 AND expires_at > $3")
            .bind(session_hash)
            .bind(party_id)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Ends the session; true when there was one.
    pub async fn delete_portal_session(&self, session_hash: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM portal_sessions WHERE session_hash = $1").bind(session_hash).execute(&self.pool).await?;
        Ok(done.rows_affected() == 1)
    }
}
