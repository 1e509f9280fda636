//! The grant replay store: `(client, jti)` pairs remembered until the grant could no longer
//! be used anyway. In the database, so it holds across restarts and across nodes.

use std::future::Future;

use sqlx::any::Any;
use sqlx::pool::PoolConnection;
use sqlx::{AnyConnection, Row};

use crate::{Result, Store, READ_CHANGE_SEQUENCE};

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
        let mut conn = self.pool.acquire().await?;
        remember_grants_on(&mut conn, grants).await
    }

    /// A writer for a task that records grant uses all day: see [`GrantWriter`].
    pub fn grant_writer(&self) -> GrantWriter {
        GrantWriter { store: self.clone(), held: None }
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

/// Records grant uses on a connection it keeps between batches.
///
/// Every statement through the pool costs two more round trips than the statement itself:
/// sqlx checks the connection when it is taken and again when it is given back. For SQLite
/// each is a hop to the connection's worker thread, and on one core those hops cost the token
/// path more than the insert. A held connection also keeps its page cache, which SQLite drops
/// whenever another connection wrote since this one last read. A statement that fails gives
/// the connection back; the next batch takes a fresh one.
pub struct GrantWriter {
    store: Store,
    held: Option<PoolConnection<Any>>,
}

impl GrantWriter {
    /// As [`Store::remember_grants`].
    pub async fn remember_grants(&mut self, grants: &[GrantUse]) -> Result<(Vec<bool>, i64)> {
        let conn = match &mut self.held {
            Some(conn) => conn,
            None => self.held.insert(self.store.pool.acquire().await?),
        };
        let recorded = remember_grants_on(conn, grants).await;
        if recorded.is_err() {
            self.held = None;
        }
        recorded
    }

    /// Resolves when the store is being closed. The writer must then let go of its connection
    /// ([`GrantWriter::release`]): closing the pool does not reach a connection that is out,
    /// which would otherwise go on writing to a store everyone else has closed.
    pub fn closing(&self) -> impl Future<Output = ()> + Send + 'static {
        self.store.pool.close_event()
    }

    pub fn release(&mut self) {
        self.held = None;
    }
}

async fn remember_grants_on(conn: &mut AnyConnection, grants: &[GrantUse]) -> Result<(Vec<bool>, i64)> {
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
    let inserted = query.fetch_all(&mut *conn).await?;
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
        None => sqlx::query_scalar(READ_CHANGE_SEQUENCE).fetch_one(&mut *conn).await?,
    };
    Ok((fresh, sequence))
}
