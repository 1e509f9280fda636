//! Knowing that nothing was committed to an SQLite file since the change sequence was last
//! read, without reading it again.
//!
//! In WAL mode every commit rewrites the header of the WAL index, the `-shm` file that all
//! connections to the database map (https://www.sqlite.org/walformat.html, "The WAL-Index
//! Header"): its transaction counter, last frame, and — after a checkpoint restarts the WAL —
//! its salts change. SQLite itself compares this header to decide whether a connection's cached
//! pages are stale. [`CommitWatch`] maps the same header read-only: if it is the header seen just
//! before the last read of the change sequence, nothing has been committed since, by this process
//! or any other, and that read still holds. A decision then costs no query at all.
//!
//! The watch checks itself: at least once a second it lets a real read through, and if a real
//! read ever finds a different sequence under an unchanged header, it stops trusting the header
//! for good (logging why) and every caller reads the database again.

use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::Path;
use std::sync::atomic::{fence, AtomicBool, AtomicU32, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// `WALINDEX_MAX_VERSION`, the only header version SQLite has written.
const HEADER_VERSION: u32 = 3_007_000;
/// The header is 48 bytes, stored twice: a writer updates the second copy, then the first, so a
/// reader that finds both equal has read a whole one.
const HEADER_WORDS: usize = 12;
const MAPPED_BYTES: usize = 2 * HEADER_WORDS * 4;
/// How long a header-confirmed sequence is used before a real read confirms it again.
const RECHECK_AFTER: Duration = Duration::from_secs(1);

pub(crate) type Header = [u32; HEADER_WORDS];

struct Seen {
    header: Header,
    sequence: i64,
    at: Instant,
}

pub(crate) struct CommitWatch {
    words: *const AtomicU32,
    seen: Mutex<Option<Seen>>,
    trusted: AtomicBool,
}

// The mapping is read-only shared memory, read through atomics only.
unsafe impl Send for CommitWatch {}
unsafe impl Sync for CommitWatch {}

impl CommitWatch {
    /// Maps the WAL index of the database at `database`. The caller must hold a connection to
    /// the database open for as long as the watch lives: while one is open, SQLite never
    /// truncates the file (it does so only when the first connection of all opens it).
    pub(crate) fn open(database: &Path) -> Option<Self> {
        let mut shm = database.as_os_str().to_owned();
        shm.push("-shm");
        let file = File::open(shm).ok()?;
        if file.metadata().ok()?.len() < MAPPED_BYTES as u64 {
            return None;
        }
        // SAFETY: a read-only shared mapping of a file that is at least MAPPED_BYTES long and
        // stays so (see above); it is only read, through atomics, and unmapped on drop.
        let address = unsafe {
            libc::mmap(std::ptr::null_mut(), MAPPED_BYTES, libc::PROT_READ, libc::MAP_SHARED, file.as_raw_fd(), 0)
        };
        if address == libc::MAP_FAILED {
            return None;
        }
        let watch = Self { words: address.cast(), seen: Mutex::new(None), trusted: AtomicBool::new(true) };
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
        // SAFETY: `words` maps 2 * HEADER_WORDS aligned u32 words (a mapping is page-aligned).
        std::array::from_fn(|i| unsafe { &*self.words.add(from + i) }.load(Ordering::Relaxed))
    }

    /// The sequence last read, if nothing has been committed since and it was confirmed by a
    /// real read within the last second.
    pub(crate) fn unchanged(&self) -> Option<i64> {
        if !self.trusted.load(Ordering::Relaxed) {
            return None;
        }
        let now = self.header()?;
        let seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        let seen = seen.as_ref()?;
        (seen.header == now && seen.at.elapsed() < RECHECK_AFTER).then_some(seen.sequence)
    }

    /// Records a real read of the sequence, with the header read just before it.
    pub(crate) fn remember(&self, before: Option<Header>, sequence: i64) {
        let Some(header) = before else { return };
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(last) = seen.as_ref() {
            // Headers never repeat, so the same header means no commit since `last` was read.
            if last.header == header && last.sequence != sequence && self.trusted.swap(false, Ordering::Relaxed) {
                tracing::error!(
                    was = last.sequence,
                    now = sequence,
                    "the change sequence moved while SQLite's WAL index header did not; reading the database before every decision from now on"
                );
            }
        }
        *seen = Some(Seen { header, sequence, at: Instant::now() });
    }
}

impl Drop for CommitWatch {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly what `open` mapped.
        unsafe { libc::munmap(self.words as *mut libc::c_void, MAPPED_BYTES) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file shaped like a WAL index whose header never changes: what the watch would see if
    /// commits stopped reaching the header it maps.
    fn frozen_index(dir: &Path) -> std::path::PathBuf {
        let database = dir.join("frozen.db");
        let mut header = [0u32; HEADER_WORDS];
        header[0] = HEADER_VERSION;
        header[2] = 7;
        header[3] = u32::from_ne_bytes([1, 0, 0, 16]);
        let bytes: Vec<u8> = header.iter().chain(header.iter()).flat_map(|w| w.to_ne_bytes()).collect();
        std::fs::write(dir.join("frozen.db-shm"), bytes).unwrap();
        database
    }

    #[test]
    fn a_sequence_that_moves_under_an_unchanged_header_ends_the_trust() {
        let dir = tempfile::tempdir().unwrap();
        let watch = CommitWatch::open(&frozen_index(dir.path())).expect("a valid header maps");
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
    fn a_missing_short_or_uninitialised_index_is_not_watched() {
        let dir = tempfile::tempdir().unwrap();
        assert!(CommitWatch::open(&dir.path().join("none.db")).is_none());
        std::fs::write(dir.path().join("short.db-shm"), [0u8; 40]).unwrap();
        assert!(CommitWatch::open(&dir.path().join("short.db")).is_none());
        std::fs::write(dir.path().join("zero.db-shm"), [0u8; 200]).unwrap();
        assert!(CommitWatch::open(&dir.path().join("zero.db")).is_none());
    }
}
