//! Persistence for fullmakt over sqlx: one schema, written for both SQLite (the embedded
//! default) and PostgreSQL (production), reached through sqlx's `Any` driver so every query
//! is written once and runs on both.
//!
//! Every state change runs in one [`WriteTx`], whose first statement bumps the global change
//! sequence. That does two jobs: readers that cache configuration compare one integer to know
//! whether anything changed (immediate revocation, DESIGN.md §4.3), and on SQLite the first
//! statement being a write takes the write lock at once, so concurrent writers queue on the
//! busy timeout instead of failing to upgrade a read snapshot.
//!
//! Connecting also copies the access-package catalogue embedded in the binary into its tables
//! (see `catalogue`), so every store the binary opens has the catalogue it was built with.

mod access_lists;
mod catalogue;
mod clients;
mod commit_watch;
mod grants;
mod index_changes;
mod instance;
mod login;
mod portal_sessions;
mod register;
mod replay;
mod resources;
mod scopes;
mod sequence_reader;
mod signing_keys;
mod system_users;
mod systems;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};
use std::str::FromStr;

pub use access_lists::{AccessListConnectionRow, AccessListMemberRow, AccessListMembershipRow, AccessListRow};
pub use clients::{ClientKeyRow, ClientRow};
pub use index_changes::{
    IndexChangeRow, IndexPartyRow, SystemUserGrantRow, CHANGE_ALL, CHANGE_ASSIGNMENT, CHANGE_CLIENT, CHANGE_PARTY, CHANGE_ROLE,
};
pub use grants::{AssignmentGrantRow, AssignmentRow, ClientDelegationPackageRow, ClientDelegationRow, FacilitatorDelegationRow, RecipientKind};
pub use login::{LoginAttemptRow, PersonListRow, TestIdpCodeRow, TestIdpRequestRow};
pub use portal_sessions::PortalSessionRow;
pub use register::{ErRoleRecord, ErRoleRow, PartyKey, PartyKeyRow, PartyRow, RoleUnitRow};
pub use replay::{GrantUse, GrantWriter, MAX_GRANT_BATCH};
pub use resources::{ResourceRow, ResourceSubjectRow, ServiceOwnerRow};
pub use scopes::{ScopeAccessRow, ScopeRow};
pub use signing_keys::SigningKeyRow;
pub use system_users::{ChangeRequestRow, ListCursor, RequestRow, SystemUserRow};
pub use systems::{SystemChangeLogRow, SystemClientRow, SystemRow};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL (use sqlite://PATH or postgres://…): {0}")]
    UnsupportedUrl(String),
    #[error("a row with this key exists already")]
    Conflict,
}

impl StoreError {
    /// Unique-constraint violations are client conflicts, not server failures.
    fn from_insert(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict,
            _ => StoreError::Database(e),
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// One set of migrations for both databases: the schema uses only types and syntax they share.
/// Should they ever need to differ, split the directory per backend here.
static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

const READ_CHANGE_SEQUENCE: &str = "SELECT value FROM change_sequence WHERE id = 1";

/// Pool settings shared by every pool a store opens; the caller sets the size.
fn pool_options(backend: Backend) -> AnyPoolOptions {
    AnyPoolOptions::new()
        // Checking a connection before handing it out guards against a server that hung up;
        // an SQLite connection lives in this process and cannot, so the check would only
        // add a hop to its worker thread to every statement.
        .test_before_acquire(backend == Backend::Postgres)
        .after_connect(move |conn, _| {
            Box::pin(async move {
                if backend == Backend::Sqlite {
                    conn.execute("PRAGMA journal_mode = WAL").await?;
                    conn.execute("PRAGMA synchronous = NORMAL").await?;
                    conn.execute("PRAGMA busy_timeout = 10000").await?;
                    conn.execute("PRAGMA foreign_keys = ON").await?;
                    // No checkpoint (and its fsync) inside a request's commit:
                    // `checkpoint` runs them in the background instead.
                    conn.execute("PRAGMA wal_autocheckpoint = 0").await?;
                }
                Ok(())
            })
        })
}

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// SQLite files only: see [`Store::change_sequence_inline`].
    sequence_reader: Option<std::sync::Arc<sequence_reader::SequenceReader>>,
    /// SQLite files only: the grant writer's connection for writes on the caller's thread.
    inline_path: Option<std::sync::Arc<std::path::Path>>,
    /// What the pool connected with, for [`Store::upkeep_handle`].
    connect_options: AnyConnectOptions,
}

impl Store {
    /// Connects, creating an SQLite file when it is missing, and runs the migrations.
    pub async fn connect(url: &str) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let (backend, url) = if url.starts_with("sqlite:") {
            let url = if url.contains("mode=") {
                url.to_owned()
            } else if url.contains('?') {
                format!("{url}&mode=rwc")
            } else {
                format!("{url}?mode=rwc")
            };
            (Backend::Sqlite, url)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Backend::Postgres, url.to_owned())
        } else {
            return Err(StoreError::UnsupportedUrl(url.to_owned()));
        };
        let options = AnyConnectOptions::from_str(&url)?;
        let pool = pool_options(backend).max_connections(if backend == Backend::Sqlite { 8 } else { 16 }).connect_with(options.clone()).await?;
        MIGRATIONS.run(&pool).await?;
        let inline_path: Option<std::sync::Arc<std::path::Path>> = match backend {
            Backend::Sqlite => sqlx::sqlite::SqliteConnectOptions::from_str(&url)
                .ok()
                .filter(|o| !o.get_filename().as_os_str().is_empty() && o.get_filename() != std::path::Path::new(":memory:") && !url.contains("mode=memory"))
                .map(|o| o.get_filename().into()),
            Backend::Postgres => None,
        };
        let sequence_reader = inline_path.as_deref().and_then(sequence_reader::SequenceReader::open).map(std::sync::Arc::new);
        let store = Self { pool, backend, sequence_reader, inline_path, connect_options: options };
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
        store.sync_catalogue(fullmakt_domain::Catalogue::embedded(), now).await?;
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// A handle on the same database with a pool of its own: one connection, made on the
    /// calling thread. On SQLite that connection's worker thread is spawned from the caller
    /// and so inherits the caller's scheduling priority, which is how the server keeps its
    /// background upkeep (checkpoints, sweeps) from taking the CPU from requests. None for an
    /// in-memory SQLite database, which cannot be opened twice: use this store itself.
    pub async fn upkeep_handle(&self) -> Result<Option<Store>> {
        if self.backend == Backend::Sqlite && self.inline_path.is_none() {
            return Ok(None);
        }
        let pool = pool_options(self.backend).max_connections(1).connect_with(self.connect_options.clone()).await?;
        Ok(Some(Self { pool, backend: self.backend, sequence_reader: None, inline_path: None, connect_options: self.connect_options.clone() }))
    }

    /// Moves committed WAL pages into the SQLite database file without blocking readers or
    /// writers (a passive checkpoint); a no-op on PostgreSQL. The server calls it every second,
    /// because connections do not checkpoint on commit (that would stall the request whose
    /// commit crossed the threshold).
    pub async fn checkpoint(&self) -> Result<()> {
        if self.backend == Backend::Sqlite {
            sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(&self.pool).await?;
        }
        Ok(())
    }

    /// Deletes up to `limit` rows of `table` that expired before `now` (its `expires_at`),
    /// picked by `key` (one column, or a parenthesised list); returns how many. Reads first and
    /// deletes only when something has expired: a DELETE takes SQLite's write lock even when it
    /// finds no row, and the low-priority upkeep thread could be preempted while holding it.
    pub(crate) async fn forget_expired_rows(&self, table: &str, key: &str, now: i64, limit: i64) -> Result<u64> {
        let any = sqlx::query(&format!("SELECT 1 FROM {table} WHERE expires_at < $1 LIMIT 1")).bind(now).fetch_optional(&self.pool).await?;
        if any.is_none() {
            return Ok(0);
        }
        let columns = key.trim_start_matches('(').trim_end_matches(')');
        let done = sqlx::query(&format!(
            "DELETE FROM {table} WHERE {key} IN (SELECT {columns} FROM {table} WHERE expires_at < $1 LIMIT $2)"
        ))
        .bind(now)
        .bind(limit)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// The number of committed state changes so far. Caches tagged with an older value are stale.
    pub async fn change_sequence(&self) -> Result<i64> {
        let before = self.sequence_reader.as_ref().and_then(|r| r.header());
        let sequence = sqlx::query_scalar(READ_CHANGE_SEQUENCE).fetch_one(&self.pool).await?;
        if let Some(reader) = &self.sequence_reader {
            reader.remember(before, sequence);
        }
        Ok(sequence)
    }

    /// The change sequence without a query, when the store can tell that nothing has been
    /// committed since it last read it: on an SQLite file, from the header of the WAL index,
    /// which every commit of any process rewrites (`commit_watch`). None: read it.
    pub fn change_sequence_if_unchanged(&self) -> Option<i64> {
        self.sequence_reader.as_ref()?.unchanged()
    }

    /// [`Store::change_sequence`] read on the calling thread, for a caller on the request path
    /// that must see every committed write: an SQLite file answers in a few µs without a trip
    /// to a worker thread. None when that is not possible (PostgreSQL, an in-memory database,
    /// a busy file): then call `change_sequence`.
    pub fn change_sequence_inline(&self) -> Option<i64> {
        self.sequence_reader.as_ref()?.read()
    }

    /// Starts the transaction for one state change and bumps the change sequence in it.
    pub async fn begin_write(&self) -> Result<WriteTx> {
        let mut tx = self.pool.begin().await?;
        let sequence: i64 =
            sqlx::query_scalar("UPDATE change_sequence SET value = value + 1 WHERE id = 1 RETURNING value")
                .fetch_one(&mut *tx)
                .await?;
        Ok(WriteTx { tx, sequence, backend: self.backend })
    }
}

/// One state change: commit it or drop it (which rolls back).
pub struct WriteTx {
    tx: sqlx::Transaction<'static, sqlx::Any>,
    sequence: i64,
    backend: Backend,
}

impl WriteTx {
    /// The change sequence this write will be visible under once committed.
    pub fn sequence(&self) -> i64 {
        self.sequence
    }

    pub async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
        Ok(())
    }

    /// For bulk loads (the register import, run from the CLI): on SQLite, gives this connection
    /// a page cache big enough for the indexes being written (`BULK_CACHE_KIB`) instead of the
    /// default 2 MiB, with which millions of inserts into random-order indexes (uuids, person
    /// numbers) spend most of their time re-reading pages. The connection keeps the setting;
    /// SQLite allocates the cache only as it fills. A no-op on PostgreSQL.
    pub async fn prepare_bulk_load(&mut self) -> Result<()> {
        if self.backend == Backend::Sqlite {
            sqlx::query(&format!("PRAGMA cache_size = -{BULK_CACHE_KIB}")).execute(&mut *self.tx).await?;
        }
        Ok(())
    }
}

/// SQLite page cache for bulk loads, in KiB.
pub const BULK_CACHE_KIB: u64 = 256 * 1024;

pub(crate) fn flag(b: bool) -> i64 {
    i64::from(b)
}

/// Most bind parameters fullmakt puts in one statement: SQLite allows 32766 (the bundled
/// library's default), PostgreSQL 65535.
pub const MAX_BIND_PARAMETERS: usize = 32_000;

/// How many rows of `columns` values fit in one multi-row statement.
pub(crate) fn bind_rows_limit(columns: usize) -> usize {
    (MAX_BIND_PARAMETERS / columns.max(1)).max(1)
}

/// `($1, $2), ($3, $4), …` for `rows` rows of `columns` placeholders; on SQLite `(?, ?), …`.
///
/// The one exception to "`$n` everywhere": SQLite treats `$n` as a *named* parameter, and
/// looking a name up is linear in the number of names, both for SQLite when it parses and for
/// sqlx when it binds (`sqlite3_bind_parameter_name` per parameter). A statement with thousands
/// of `$n` therefore costs time quadratic in its size (measured: 3 k rows/s instead of hundreds
/// of thousands); anonymous `?` parameters bind positionally in constant time.
pub(crate) fn values_list(backend: Backend, rows: usize, columns: usize) -> String {
    use std::fmt::Write;
    let mut sql = String::with_capacity(rows * columns * 7);
    for r in 0..rows {
        sql.push_str(if r == 0 { "(" } else { ", (" });
        for c in 0..columns {
            let separator = if c == 0 { "" } else { ", " };
            let _ = match backend {
                Backend::Sqlite => write!(sql, "{separator}?"),
                Backend::Postgres => write!(sql, "{separator}${}", r * columns + c + 1),
            };
        }
        sql.push(')');
    }
    sql
}
