//! Knowing that nothing was committed to an SQLite file since the change sequence was last
//! read, without reading it again.
//!
//! In WAL mode every commit rewrites the header of the WAL index, the shared memory (`-shm`)
//! that all connections to the database map (https://www.sqlite.org/walformat.html, "The
//! WAL-Index Header"): its transaction counter, last frame, and — after a checkpoint restarts
//! the WAL — its salts change. SQLite itself compares this header to decide whether a
//! connection's cached pages are stale. [`CommitWatch`] reads the same header: if it is the
//! header seen just before the last read of the change sequence, nothing has been committed
//! since, by this process or any other, and that read still holds. A decision then costs no
//! query at all.
//!
//! The header is read through the mapping SQLite made for one of its own connections (the VFS's
//! `xShmMap`), never by opening the file: closing a descriptor of a file drops every POSIX lock
//! the process holds on it, SQLite's WAL-index locks included, and another process may then
//! truncate the index under this one's mappings. While the connection stays open, SQLite keeps
//! its lock and its mapping, and no process truncates the index.
//!
//! The watch checks itself: at least once a second it lets a real read through, and if a real
//! read ever finds a different sequence under an unchanged header, it stops trusting the header
//! for good (logging why) and every caller reads the database again.

use std::ptr::NonNull;
use std::sync::atomic::{fence, AtomicBool, AtomicI64, AtomicU32, AtomicU64, Ordering};
use std::sync::Mutex;

use rusqlite::{ffi, Connection};

/// `WALINDEX_MAX_VERSION`, the only header version SQLite has written.
const HEADER_VERSION: u32 = 3_007_000;
/// The header is 48 bytes, stored twice: a writer updates the second copy, then the first, so a
/// reader that finds both equal has read a whole one.
const HEADER_WORDS: usize = 12;
/// The size of each region of the WAL index (`WALINDEX_PGSZ`); region 0 starts with the header.
const WAL_INDEX_REGION_BYTES: i32 = 32_768;
/// How long a header-confirmed sequence is used before a real read confirms it again.
const RECHECK_AFTER_MILLIS: u64 = 1000;

pub(crate) type Header = [u32; HEADER_WORDS];

/// The last real read of the sequence and the header just before it. Every decision reads it
/// and only real reads write it, so it is a sequence lock: readers never write to it (no cache
/// line moves between the runtime's threads) and retry nothing — a read that overlaps a write
/// is simply not used.
#[derive(Default)]
struct Seen {
    /// Even while stable, odd during a write; 0 until the first read is recorded.
    version: AtomicU64,
    header: [AtomicU32; HEADER_WORDS],
    sequence: AtomicI64,
    /// [`coarse_millis`] when the read was recorded.
    at: AtomicU64,
    /// Serialises writers.
    writer: Mutex<()>,
}

pub(crate) struct CommitWatch {
    /// The two header copies: 2 × [`HEADER_WORDS`] aligned words in shared memory.
    words: NonNull<AtomicU32>,
    seen: Seen,
    trusted: AtomicBool,
}

// The words are shared memory that other threads and processes write; they are only read,
// through atomics.
unsafe impl Send for CommitWatch {}
unsafe impl Sync for CommitWatch {}

impl CommitWatch {
    /// Watches the WAL index of the database `connection` has open, through SQLite's own
    /// mapping of it. None when the database is not in WAL mode or the connection has not
    /// mapped its index yet (it does on its first read).
    ///
    /// # Safety
    /// The watch must be dropped before `connection` is closed: the mapping is the connection's.
    pub(crate) unsafe fn of(connection: &Connection) -> Option<Self> {
        let mode: String = connection.query_row("PRAGMA journal_mode", [], |row| row.get(0)).ok()?;
        if !mode.eq_ignore_ascii_case("wal") {
            return None;
        }
        let mut file: *mut ffi::sqlite3_file = std::ptr::null_mut();
        // SAFETY: FILE_POINTER writes the main database's `sqlite3_file` pointer into `file`.
        let found = unsafe {
            ffi::sqlite3_file_control(
                connection.handle(),
                c"main".as_ptr(),
                ffi::SQLITE_FCNTL_FILE_POINTER,
                (&mut file as *mut *mut ffi::sqlite3_file).cast(),
            )
        };
        if found != ffi::SQLITE_OK || file.is_null() {
            return None;
        }
        // SAFETY: `file` is the open database file of `connection`; its methods live as long.
        let methods = unsafe { (*file).pMethods };
        if methods.is_null() {
            return None;
        }
        // SAFETY: as above. xShmMap exists from version 2 of the methods on.
        let map = unsafe { ((*methods).iVersion >= 2).then_some((*methods).xShmMap).flatten()? };
        let mut region: *mut std::ffi::c_void = std::ptr::null_mut();
        // SAFETY: bExtend 0 only returns the region the connection already maps (the WAL is
        // open, as journal_mode said), never creates one; no statement runs on the connection
        // meanwhile, because the caller holds it.
        let mapped = unsafe { map(file, 0, WAL_INDEX_REGION_BYTES, 0, &mut region) };
        if mapped != ffi::SQLITE_OK {
            return None;
        }
        // SAFETY: region 0 is WAL_INDEX_REGION_BYTES of page-aligned memory, which holds the
        // header, and stays mapped until `connection` closes its WAL.
        unsafe { Self::over(NonNull::new(region.cast())?) }
    }

    /// # Safety
    /// `words` points at 2 × [`HEADER_WORDS`] aligned words that stay valid while the watch
    /// lives.
    unsafe fn over(words: NonNull<AtomicU32>) -> Option<Self> {
        let watch = Self { words, seen: Seen::default(), trusted: AtomicBool::new(true) };
        watch.header()?;
        Some(watch)
    }

    /// The header now, if a whole and initialised one could be read.
    pub(crate) fn header(&self) -> Option<Header> {
        for _ in 0..4 {
            let first = self.copy(0);
            fence(Ordering::Acquire);
            let second = self.copy(HEADER_WORDS);
            // Word 3 holds isInit in its first byte: 1 once the header is valid.
            let initialised = first[3].to_ne_bytes()[0] == 1;
            if first == second && first[0] == HEADER_VERSION && initialised {
                return Some(first);
            }
            std::hint::spin_loop();
        }
        None
    }

    fn copy(&self, from: usize) -> Header {
        // SAFETY: `words` holds 2 * HEADER_WORDS aligned words (see `over`).
        std::array::from_fn(|i| unsafe { self.words.add(from + i).as_ref() }.load(Ordering::Relaxed))
    }

    /// The sequence last read, if nothing has been committed since and it was confirmed by a
    /// real read within the last second.
    pub(crate) fn unchanged(&self) -> Option<i64> {
        if !self.trusted.load(Ordering::Relaxed) {
            return None;
        }
        let now = self.header()?;
        let seen = &self.seen;
        let version = seen.version.load(Ordering::Acquire);
        if version == 0 || version & 1 == 1 {
            return None;
        }
        let header: Header = std::array::from_fn(|i| seen.header[i].load(Ordering::Relaxed));
        let sequence = seen.sequence.load(Ordering::Relaxed);
        let at = seen.at.load(Ordering::Relaxed);
        fence(Ordering::Acquire);
        if seen.version.load(Ordering::Relaxed) != version {
            return None;
        }
        (header == now && coarse_millis().saturating_sub(at) < RECHECK_AFTER_MILLIS).then_some(sequence)
    }

    /// Records a real read of the sequence, with the header read just before it. A read during
    /// which the header changed is not recorded: the commit may or may not be in it.
    pub(crate) fn remember(&self, before: Option<Header>, sequence: i64) {
        let Some(header) = before else { return };
        if self.header() != Some(header) {
            return;
        }
        let seen = &self.seen;
        let _writer = seen.writer.lock().unwrap_or_else(|e| e.into_inner());
        let version = seen.version.load(Ordering::Relaxed);
        let last: Header = std::array::from_fn(|i| seen.header[i].load(Ordering::Relaxed));
        let last_sequence = seen.sequence.load(Ordering::Relaxed);
        // Headers never repeat, and neither read had a commit land during it, so both read the
        // state as of this header.
        if version != 0 && last == header && last_sequence != sequence && self.trusted.swap(false, Ordering::Relaxed) {
            tracing::error!(
                was = last_sequence,
                now = sequence,
                "the change sequence moved while SQLite's WAL index header did not; reading the database before every decision from now on"
            );
        }
        seen.version.store(version + 1, Ordering::Relaxed);
        fence(Ordering::Release);
        for (word, value) in seen.header.iter().zip(header) {
            word.store(value, Ordering::Relaxed);
        }
        seen.sequence.store(sequence, Ordering::Relaxed);
        seen.at.store(coarse_millis(), Ordering::Relaxed);
        seen.version.store(version + 2, Ordering::Release);
    }
}

/// Milliseconds on a monotonic clock, read without a system call or a timer read: the kernel's
/// tick-granular clock (a few ms coarse) is plenty for a once-a-second recheck, and costs a few
/// ns where `Instant::now` costs tens on a virtual machine.
#[cfg(target_os = "linux")]
fn coarse_millis() -> u64 {
    let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime only writes `now`.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC_COARSE, &mut now) };
    now.tv_sec as u64 * 1000 + now.tv_nsec as u64 / 1_000_000
}

#[cfg(not(target_os = "linux"))]
fn coarse_millis() -> u64 {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    START.get_or_init(std::time::Instant::now).elapsed().as_millis() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Stands in for a WAL index: two header copies that a test rewrites as a writer would.
    struct Index(Box<[AtomicU32; 2 * HEADER_WORDS]>);

    impl Index {
        fn with_change(change: u32) -> Self {
            let index = Self(Box::new(std::array::from_fn(|_| AtomicU32::new(0))));
            index.commit(change);
            index
        }

        /// Writes a valid header with transaction counter `change`, second copy first.
        fn commit(&self, change: u32) {
            let mut header = [0u32; HEADER_WORDS];
            header[0] = HEADER_VERSION;
            header[2] = change;
            header[3] = u32::from_ne_bytes([1, 0, 0, 16]);
            for copy in [HEADER_WORDS, 0] {
                for (i, word) in header.iter().enumerate() {
                    self.0[copy + i].store(*word, Ordering::Release);
                }
            }
        }

        fn watch(&self) -> Option<CommitWatch> {
            // SAFETY: the index outlives every watch of it in these tests.
            unsafe { CommitWatch::over(NonNull::from(&self.0[0])) }
        }
    }

    #[test]
    fn a_sequence_that_moves_under_an_unchanged_header_ends_the_trust() {
        let index = Index::with_change(7);
        let watch = index.watch().expect("a valid header");
        assert_eq!(watch.unchanged(), None, "nothing read yet");
        watch.remember(watch.header(), 41);
        assert_eq!(watch.unchanged(), Some(41));
        watch.remember(watch.header(), 41);
        assert_eq!(watch.unchanged(), Some(41), "the same answer confirms it");
        watch.remember(watch.header(), 42);
        assert_eq!(watch.unchanged(), None, "a moved sequence under the same header is never trusted again");
        watch.remember(watch.header(), 42);
        assert_eq!(watch.unchanged(), None);
    }

    #[test]
    fn a_read_that_a_commit_overtook_is_neither_kept_nor_held_against_the_header() {
        let index = Index::with_change(7);
        let watch = index.watch().unwrap();
        // Two readers see the same header; a commit lands; one read saw it, one did not.
        let before = watch.header();
        index.commit(8);
        watch.remember(before, 41);
        watch.remember(before, 42);
        assert_eq!(watch.unchanged(), None, "neither read is known to be current");
        watch.remember(watch.header(), 42);
        assert_eq!(watch.unchanged(), Some(42), "the header is still trusted");
        index.commit(9);
        assert_eq!(watch.unchanged(), None, "the next commit is noticed");
    }

    #[test]
    fn a_read_older_than_a_second_is_confirmed_again() {
        let index = Index::with_change(7);
        let watch = index.watch().unwrap();
        watch.remember(watch.header(), 41);
        assert_eq!(watch.unchanged(), Some(41));
        watch.seen.at.store(coarse_millis() - RECHECK_AFTER_MILLIS - 1, Ordering::Relaxed);
        assert_eq!(watch.unchanged(), None, "the header alone does not vouch for an old read");
        watch.remember(watch.header(), 41);
        assert_eq!(watch.unchanged(), Some(41));
    }

    #[test]
    fn a_torn_or_uninitialised_header_is_not_read() {
        let index = Index::with_change(7);
        let watch = index.watch().unwrap();
        // A writer between its two copies: the header is not whole.
        index.0[HEADER_WORDS + 2].store(8, Ordering::Release);
        assert_eq!(watch.header(), None);
        index.0[2].store(8, Ordering::Release);
        assert!(watch.header().is_some());
        let zero = Index(Box::new(std::array::from_fn(|_| AtomicU32::new(0))));
        assert!(zero.watch().is_none(), "an index no connection has initialised");
    }

    #[test]
    fn only_a_connection_in_wal_mode_is_watched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("watched.db");
        let connection = Connection::open(&path).unwrap();
        connection.execute_batch("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);").unwrap();
        // SAFETY: each watch is dropped at once, before the connection.
        assert!(unsafe { CommitWatch::of(&connection) }.is_none(), "a rollback-journal database has no WAL index");
        let mode: String = connection.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0)).unwrap();
        assert_eq!(mode, "wal");
        let _: i64 = connection.query_row("SELECT x FROM t", [], |row| row.get(0)).unwrap();
        {
            let watch = unsafe { CommitWatch::of(&connection) }.expect("SQLite maps the index of a WAL database");
            let before = watch.header().unwrap();
            connection.execute("INSERT INTO t VALUES (2)", []).unwrap();
            assert_ne!(watch.header().unwrap(), before, "a commit rewrites the header the watch reads");
        }
        drop(connection);
        let memory = Connection::open_in_memory().unwrap();
        assert!(unsafe { CommitWatch::of(&memory) }.is_none());
    }
}
