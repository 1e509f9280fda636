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

/// How many expired grant uses a writer on an SQLite file forgets with each batch, per grant
/// recorded, plus a few: more than it adds, so a backlog shrinks while requests keep coming.
const FORGET_PER_GRANT: usize = 2;
const FORGET_EXTRA: usize = 8;

impl Store {
    /// Records a grant's use at time `now`. Returns false when the same `(client, jti)` was
    /// used before and its record has not expired by `now`.
    pub async fn remember_grant(&self, client_id: &str, jti: &str, expires_at: i64, now: i64) -> Result<bool> {
        let grant = GrantUse { client_id: client_id.to_owned(), jti: jti.to_owned(), expires_at };
        Ok(self.remember_grants(std::slice::from_ref(&grant), now).await?.0[0])
    }

    /// Records several grant uses in one statement (the caller removes duplicates within the
    /// batch) that also returns the change sequence. Returns, per grant, whether it was new,
    /// and the sequence: configuration committed before the statement began is visible under it
    /// (on SQLite it is read under the write lock, so nothing can commit in between). A record
    /// that expired before `now` counts as forgotten whether or not a sweep has deleted it yet.
    pub async fn remember_grants(&self, grants: &[GrantUse], now: i64) -> Result<(Vec<bool>, i64)> {
        let mut conn = self.pool.acquire().await?;
        remember_grants_on(&mut conn, grants, now).await
    }

    /// A writer for a task that records grant uses all day: see [`GrantWriter`].
    pub fn grant_writer(&self) -> GrantWriter {
        let inline = self.inline_path.as_deref().and_then(crate::sequence_reader::open_inline);
        // One cached statement per batch size.
        if let Some(connection) = &inline {
            connection.set_prepared_statement_cache_capacity(MAX_GRANT_BATCH);
        }
        GrantWriter { store: self.clone(), held: None, inline }
    }

    /// Forgets up to `limit` grant uses that expired before `now`; returns how many. Small
    /// batches keep each delete short, so token requests never wait long for the write lock.
    pub async fn forget_expired_grants(&self, now: i64, limit: i64) -> Result<u64> {
        self.forget_expired_rows("grant_replay", "(client_id, jti)", now, limit).await
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
///
/// On an SQLite file the writer first tries the statement on its own connection on the
/// caller's thread: an insert into the WAL takes tens of µs, less than the two thread wake-ups
/// a statement through sqlx's worker costs. That connection never waits for a lock; when
/// another writer holds it, the batch goes through the pool, which waits off the runtime.
///
/// That connection also forgets expired grant uses, a few more than each batch adds, in the
/// batch's transaction. A sweep by another connection would have to take SQLite's one write
/// lock, and the upkeep thread that sweeps runs at the lowest priority: preempted while it held
/// the lock, it stopped every token request for up to 200 ms under sustained load.
pub struct GrantWriter {
    store: Store,
    held: Option<PoolConnection<Any>>,
    inline: Option<rusqlite::Connection>,
}

impl GrantWriter {
    /// As [`Store::remember_grants`].
    pub async fn remember_grants(&mut self, grants: &[GrantUse], now: i64) -> Result<(Vec<bool>, i64)> {
        if let Some(connection) = &self.inline {
            if let Some(recorded) = remember_grants_inline(connection, grants, now) {
                return Ok(recorded);
            }
        }
        let conn = match &mut self.held {
            Some(conn) => conn,
            None => self.held.insert(self.store.pool.acquire().await?),
        };
        let recorded = remember_grants_on(conn, grants, now).await;
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
        self.inline = None;
    }
}

/// The batch statement and a sweep of expired uses, in one transaction on the writer's own
/// SQLite connection; None when it did not succeed at once (the database busy, or any other
/// error: nothing is kept, and the pool path then reports it properly).
fn remember_grants_inline(connection: &rusqlite::Connection, grants: &[GrantUse], now: i64) -> Option<(Vec<bool>, i64)> {
    let transaction = connection.unchecked_transaction().ok()?;
    let mut statement = connection.prepare_cached(&insert_grants_sql(grants.len())).ok()?;
    let parameters = grants
        .iter()
        .flat_map(|g| [&g.client_id as &dyn rusqlite::ToSql, &g.jti as &dyn rusqlite::ToSql, &g.expires_at as &dyn rusqlite::ToSql])
        .chain([&now as &dyn rusqlite::ToSql]);
    let mut rows = statement.query(rusqlite::params_from_iter(parameters)).ok()?;
    let mut inserted = Inserted::new(grants);
    while let Some(row) = rows.next().ok()? {
        inserted.row(&row.get::<_, String>(0).ok()?, &row.get::<_, String>(1).ok()?, row.get(2).ok()?);
    }
    drop(rows);
    drop(statement);
    let sequence = match inserted.sequence {
        Some(s) => s,
        None => connection.query_row(READ_CHANGE_SEQUENCE, [], |row| row.get(0)).ok()?,
    };
    let limit = (FORGET_PER_GRANT * grants.len() + FORGET_EXTRA) as i64;
    connection
        .prepare_cached(
            "DELETE FROM grant_replay WHERE rowid IN \
             (SELECT rowid FROM grant_replay WHERE expires_at < ?1 ORDER BY expires_at LIMIT ?2)",
        )
        .ok()?
        .execute(rusqlite::params![now, limit])
        .ok()?;
    transaction.commit().ok()?;
    Some((inserted.fresh, sequence))
}

/// What the batch statement's returned rows say: which grants were new, and the sequence.
struct Inserted<'a> {
    grants: &'a [GrantUse],
    fresh: Vec<bool>,
    /// None when no row came back (every grant a replay): read it separately.
    sequence: Option<i64>,
}

impl<'a> Inserted<'a> {
    fn new(grants: &'a [GrantUse]) -> Self {
        Self { grants, fresh: vec![false; grants.len()], sequence: None }
    }

    fn row(&mut self, client_id: &str, jti: &str, sequence: i64) {
        self.sequence = Some(sequence);
        if let Some(i) = self.grants.iter().position(|g| g.client_id == client_id && g.jti == jti) {
            self.fresh[i] = true;
        }
    }
}

/// `INSERT … RETURNING` for `n` grant uses, returning the change sequence with each new row.
/// The last parameter is the time now: a conflicting record that has expired is taken over.
fn insert_grants_sql(n: usize) -> String {
    let mut sql = String::from("INSERT INTO grant_replay (client_id, jti, expires_at) VALUES ");
    for i in 0..n {
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&format!("(${}, ${}, ${})", 3 * i + 1, 3 * i + 2, 3 * i + 3));
    }
    sql.push_str(&format!(
        " ON CONFLICT (client_id, jti) DO UPDATE SET expires_at = excluded.expires_at \
         WHERE grant_replay.expires_at < ${} \
         RETURNING client_id, jti, (SELECT value FROM change_sequence WHERE id = 1)",
        3 * n + 1
    ));
    sql
}

async fn remember_grants_on(conn: &mut AnyConnection, grants: &[GrantUse], now: i64) -> Result<(Vec<bool>, i64)> {
    debug_assert!(!grants.is_empty() && grants.len() <= MAX_GRANT_BATCH);
    let sql = insert_grants_sql(grants.len());
    let mut query = sqlx::query(&sql);
    for g in grants {
        query = query.bind(&g.client_id).bind(&g.jti).bind(g.expires_at);
    }
    query = query.bind(now);
    let mut inserted = Inserted::new(grants);
    for row in query.fetch_all(&mut *conn).await? {
        inserted.row(&row.try_get::<String, _>(0)?, &row.try_get::<String, _>(1)?, row.try_get(2)?);
    }
    let sequence = match inserted.sequence {
        Some(s) => s,
        None => sqlx::query_scalar(READ_CHANGE_SEQUENCE).fetch_one(&mut *conn).await?,
    };
    Ok((inserted.fresh, sequence))
}
