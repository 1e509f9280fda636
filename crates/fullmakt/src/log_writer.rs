//! Where the server's log lines go: into a buffer that a thread of its own writes to stderr in
//! batches.
//!
//! A write that blocks on the file system must not stall the runtime (on one CPU that is every
//! request in flight), so lines are written by another thread. Handing each line over on its
//! own (as tracing-appender does) woke that thread for almost every issued token: about 0.7
//! context switches per token on a busy core. Here a line is appended to a shared buffer under a
//! mutex, and the writer thread, woken by the first line after it last wrote, lets lines gather
//! for [`GATHER`] before writing them with one call. Lines are never dropped: when the buffer
//! holds [`WAIT_AT`] bytes, loggers wait for the writer, as they would for stderr itself.

use std::io::Write;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// How long lines gather before the writer thread writes them. A line appears at most this
/// much later than it was logged.
const GATHER: Duration = Duration::from_millis(20);
/// A buffer this full is written without waiting out [`GATHER`].
const WRITE_AT: usize = 64 * 1024;
/// A buffer this full makes loggers wait until the writer has taken it.
const WAIT_AT: usize = 4 * 1024 * 1024;

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    /// The writer waits here for lines; loggers notify it.
    lines_arrived: Condvar,
    /// Loggers wait here when the buffer is full; the writer notifies them.
    buffer_taken: Condvar,
}

#[derive(Default)]
struct State {
    buffer: Vec<u8>,
    closing: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A logger that panicked mid-append leaves at worst a partial line; keep logging.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// False when there is no writer thread (any more) to take the line.
    fn append(&self, bytes: &[u8]) -> bool {
        let mut state = self.lock();
        while state.buffer.len() >= WAIT_AT && !state.closing {
            state = self.buffer_taken.wait(state).unwrap_or_else(|poisoned| poisoned.into_inner());
        }
        if state.closing {
            return false;
        }
        let was_empty = state.buffer.is_empty();
        state.buffer.extend_from_slice(bytes);
        let full = state.buffer.len() >= WRITE_AT;
        drop(state);
        // The writer sleeps until a first line arrives, and then only until the buffer fills.
        if was_empty || full {
            self.lines_arrived.notify_one();
        }
        true
    }

    /// The writer thread's loop, until the guard is dropped and everything is written.
    fn write_until_closed(&self, mut out: impl Write) {
        let mut batch = Vec::new();
        let mut state = self.lock();
        loop {
            while state.buffer.is_empty() && !state.closing {
                state = self.lines_arrived.wait(state).unwrap_or_else(|poisoned| poisoned.into_inner());
            }
            if state.buffer.is_empty() {
                return; // closing, and nothing left
            }
            if state.buffer.len() < WRITE_AT && !state.closing {
                state = self.lines_arrived.wait_timeout(state, GATHER).unwrap_or_else(|poisoned| poisoned.into_inner()).0;
            }
            std::mem::swap(&mut state.buffer, &mut batch);
            drop(state);
            self.buffer_taken.notify_all();
            // Nowhere to report a failed write to stderr; the next batch tries again.
            let _ = out.write_all(&batch).and_then(|()| out.flush());
            batch.clear();
            state = self.lock();
        }
    }
}

/// The `MakeWriter` for tracing-subscriber: each event's formatted line is one `write_all`.
#[derive(Clone)]
pub struct BatchedStderr {
    shared: Arc<Shared>,
}

/// Held while the process logs; dropping it writes what is buffered and stops the thread.
pub struct LogWriterGuard {
    shared: Arc<Shared>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl BatchedStderr {
    /// Starts the writer thread. Without a thread (the system refused one), lines go straight
    /// to stderr from the logging thread.
    pub fn start() -> (Self, LogWriterGuard) {
        Self::start_with(std::io::stderr)
    }

    fn start_with<W: Write + Send + 'static>(out: impl FnOnce() -> W + Send + 'static) -> (Self, LogWriterGuard) {
        let shared = Arc::new(Shared::default());
        let writer_side = shared.clone();
        let thread = std::thread::Builder::new()
            .name("fullmakt-log".into())
            .spawn(move || writer_side.write_until_closed(out()))
            .ok();
        if thread.is_none() {
            shared.lock().closing = true;
        }
        (Self { shared: shared.clone() }, LogWriterGuard { shared, thread })
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for BatchedStderr {
    type Writer = LineWriter<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        LineWriter { shared: &self.shared }
    }
}

pub struct LineWriter<'a> {
    shared: &'a Shared,
}

impl Write for LineWriter<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if self.shared.append(bytes) {
            Ok(bytes.len())
        } else {
            std::io::stderr().write(bytes)
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for LogWriterGuard {
    fn drop(&mut self) {
        self.shared.lock().closing = true;
        self.shared.lines_arrived.notify_one();
        self.shared.buffer_taken.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    /// Collects what the writer thread writes, one entry per write call.
    struct Sink(mpsc::Sender<Vec<u8>>);

    impl Write for Sink {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            let _ = self.0.send(bytes.to_vec());
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn started() -> (BatchedStderr, LogWriterGuard, mpsc::Receiver<Vec<u8>>) {
        let (tx, rx) = mpsc::channel();
        let (writer, guard) = BatchedStderr::start_with(move || Sink(tx));
        (writer, guard, rx)
    }

    fn log(writer: &BatchedStderr, line: &str) {
        use tracing_subscriber::fmt::MakeWriter;
        writer.make_writer().write_all(line.as_bytes()).unwrap();
    }

    #[test]
    fn lines_logged_within_the_gathering_time_are_written_together_and_in_order() {
        let (writer, guard, rx) = started();
        log(&writer, "first\n");
        assert_eq!(rx.recv_timeout(Duration::from_secs(5)).expect("a line is written without a flush"), b"first\n");
        // Time for the writer to go idle again: the next line must wake it, and it then
        // gathers the rest.
        std::thread::sleep(Duration::from_millis(50));
        for i in 0..10 {
            log(&writer, &format!("line {i}\n"));
            std::thread::sleep(Duration::from_millis(1));
        }
        let next = rx.recv_timeout(Duration::from_secs(5)).expect("lines logged after the writer went idle are written");
        drop(guard);
        let writes: Vec<Vec<u8>> = std::iter::once(next).chain(rx.try_iter()).collect();
        let expected: String = (0..10).map(|i| format!("line {i}\n")).collect();
        assert_eq!(String::from_utf8(writes.concat()).unwrap(), expected);
        // One or two writes (more only if this thread was held up on the way), not ten.
        assert!(writes.len() <= 5, "10 lines took {} writes", writes.len());
    }

    #[test]
    fn dropping_the_guard_writes_what_is_buffered() {
        let (writer, guard, rx) = started();
        log(&writer, "last words\n");
        drop(guard);
        let written: Vec<u8> = rx.try_iter().flatten().collect();
        assert_eq!(written, b"last words\n");
    }

    #[test]
    fn a_full_buffer_is_written_without_waiting_and_nothing_is_dropped() {
        let (writer, guard, rx) = started();
        let line = format!("{}\n", "x".repeat(1023));
        let lines = 2 * WAIT_AT / line.len(); // twice what the buffer holds before loggers wait
        for _ in 0..lines {
            log(&writer, &line);
        }
        drop(guard);
        let writes: Vec<Vec<u8>> = rx.try_iter().collect();
        assert_eq!(writes.iter().map(Vec::len).sum::<usize>(), lines * line.len());
        assert!(writes.len() > 1, "written in more than one batch");
    }
}
