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

use crate::READ_CHANGE_SEQUENCE;

pub(crate) struct SequenceReader {
    connection: Mutex<Connection>,
}

impl SequenceReader {
    /// Opens a connection to the database file the pool uses (created and migrated already).
    pub(crate) fn open(path: &Path) -> Option<Self> {
        let connection = open_inline(path)?;
        connection.prepare_cached(READ_CHANGE_SEQUENCE).ok()?;
        Some(Self { connection: Mutex::new(connection) })
    }

    /// The committed sequence now, or None when the read did not succeed at once. Readers
    /// queue on the lock rather than fall back: a read holds it for a few µs.
    pub(crate) fn read(&self) -> Option<i64> {
        let connection = self.connection.lock().unwrap_or_else(|e| e.into_inner());
        let mut statement = connection.prepare_cached(READ_CHANGE_SEQUENCE).ok()?;
        statement.query_row([], |row| row.get(0)).ok()
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
