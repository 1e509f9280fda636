//! Statements on an SQLite database on the caller's thread: the change-sequence read here, and
//! (through [`open_inline`]) the grant writer's replay insert.
//!
//! Every sqlx statement on SQLite runs on the connection's worker thread: the caller's task
//! parks, the worker wakes, runs the statement and wakes the task again. For the one-row read
//! a decision makes before it decides, those two thread wake-ups cost 20–100 µs, far more than
//! the read (a few µs in WAL mode, where readers never wait for writers). So the PDP reads the
//! sequence through this separate connection, synchronously, and only falls back to the pool
//! when this connection cannot answer at once.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{Connection, OpenFlags};

use crate::commit_watch::{CommitWatch, Header};
use crate::READ_CHANGE_SEQUENCE;

pub(crate) struct SequenceReader {
    /// Reads the connection's mapping of the WAL index, so it is declared (and dropped) first.
    commits: Option<CommitWatch>,
    connection: Mutex<Connection>,
}

impl SequenceReader {
    /// Opens a connection to the database file the pool uses (created and migrated already).
    pub(crate) fn open(path: &Path) -> Option<Self> {
        let connection = open_inline(path)?;
        // A first read opens and maps the WAL index, which this connection then keeps open.
        connection.prepare_cached(READ_CHANGE_SEQUENCE).ok()?.query_row([], |row| row.get::<_, i64>(0)).ok()?;
        // SAFETY: the watch lives beside the connection in `Self` and is dropped first.
        let commits = unsafe { CommitWatch::of(&connection) };
        if commits.is_none() {
            tracing::warn!(database = %path.display(), "cannot watch the WAL index; every decision reads the change sequence");
        }
        Some(Self { commits, connection: Mutex::new(connection) })
    }

    /// The sequence last read, if nothing has been committed since.
    pub(crate) fn unchanged(&self) -> Option<i64> {
        self.commits.as_ref()?.unchanged()
    }

    /// To call just before reading the sequence some other way, and then [`Self::remember`].
    pub(crate) fn header(&self) -> Option<Header> {
        self.commits.as_ref()?.header()
    }

    pub(crate) fn remember(&self, before: Option<Header>, sequence: i64) {
        if let Some(commits) = &self.commits {
            commits.remember(before, sequence);
        }
    }

    /// The committed sequence now, or None when the read did not succeed at once. Readers
    /// queue on the lock rather than fall back: a read holds it for a few µs.
    pub(crate) fn read(&self) -> Option<i64> {
        let before = self.header();
        let connection = self.connection.lock().unwrap_or_else(|e| e.into_inner());
        let mut statement = connection.prepare_cached(READ_CHANGE_SEQUENCE).ok()?;
        let sequence = statement.query_row([], |row| row.get(0)).ok()?;
        self.remember(before, sequence);
        Some(sequence)
    }
}

/// A connection for statements run on the caller's thread, set up as the pool's are.
pub(crate) fn open_inline(path: &Path) -> Option<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let connection = Connection::open_with_flags(path, flags).ok()?;
    // Never wait: a busy database (another writer, recovery after a crash) is left to the
    // pool, which may wait without holding a runtime thread.
    connection.busy_timeout(std::time::Duration::ZERO).ok()?;
    connection
        .execute_batch("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA wal_autocheckpoint = 0;")
        .ok()?;
    Some(connection)
}
