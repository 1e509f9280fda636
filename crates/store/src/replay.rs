//! The grant replay store: `(client, jti)` pairs remembered until the grant could no longer
//! be used anyway. In the database, so it holds across restarts and across nodes.

use sqlx::Row;

use crate::{Result, Store};

/// One grant use to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantUse {
    pub client_id: String,
    pub jti: String,
    pub expires_at: i64,
}

/// Most grant uses recorded by one statement (3 parameters each).
pub const MAX_GRANT_BATCH: usize = 64;

impl Store {
    /// Records a grant's use. Returns false when the same `(client, jti)` was used before.
    pub async fn remember_grant(&self, client_id: &str, jti: &str, expires_at: i64) -> Result<bool> {
        let grant = GrantUse { client_id: client_id.to_owned(), jti: jti.to_owned(), expires_at };
        Ok(self.remember_grants(std::slice::from_ref(&grant)).await?.0[0])
    }

    /// Records several grant uses in one statement (the caller removes duplicates within the
    /// batch) that also returns the change sequence. Returns, per grant, whether it was new,
    /// and the sequence: configuration committed before the statement began is visible under it
    /// (on SQLite it is read under the write lock, so nothing can commit in between).
    pub async fn remember_grants(&self, grants: &[GrantUse]) -> Result<(Vec<bool>, i64)> {
        debug_assert!(!grants.is_empty() && grants.len() <= MAX_GRANT_BATCH);
        let mut sql = String::from("INSERT INTO grant_replay (client_id, jti, expires_at) VALUES ");
        for i in 0..grants.len() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("(${}, ${}, ${})", 3 * i + 1, 3 * i + 2, 3 * i + 3));
        }
        sql.push_str(
            " ON CONFLICT (client_id, jti) DO NOTHING \
             RETURNING client_id, jti, (SELECT value FROM change_sequence WHERE id = 1)",
        );
        let mut query = sqlx::query(&sql);
        for g in grants {
            query = query.bind(&g.client_id).bind(&g.jti).bind(g.expires_at);
        }
        let inserted = query.fetch_all(&self.pool).await?;
        let mut fresh = vec![false; grants.len()];
        let mut sequence = None;
        for row in inserted {
            let (client_id, jti): (String, String) = (row.try_get(0)?, row.try_get(1)?);
            sequence = Some(row.try_get::<i64, _>(2)?);
            if let Some(i) = grants.iter().position(|g| g.client_id == client_id && g.jti == jti) {
                fresh[i] = true;
            }
        }
        // Only when every grant was a replay did the statement return no row to carry it.
        let sequence = match sequence {
            Some(s) => s,
            None => self.change_sequence().await?,
        };
        Ok((fresh, sequence))
    }

    /// Forgets up to `limit` grant uses that expired before `now`; returns how many. Small
    /// batches keep each delete short, so token requests never wait long for the write lock.
    pub async fn forget_expired_grants(&self, now: i64, limit: i64) -> Result<u64> {
        let done = sqlx::query(
            "DELETE FROM grant_replay WHERE (client_id, jti) IN \
             (SELECT client_id, jti FROM grant_replay WHERE expires_at < $1 LIMIT $2)",
        )
        .bind(now)
        .bind(limit)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }
}
