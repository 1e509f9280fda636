//! Background upkeep of the store, once a second: SQLite's WAL checkpoint, and the sweeps of
//! expired replay records, logins in progress and old index changes.
//!
//! It runs on a thread of its own at the lowest CPU priority (nice 19), with its own one-
//! connection pool whose SQLite worker thread inherits that priority. On a busy core the
//! checkpoint alone takes a few milliseconds each second; at normal priority the scheduler
//! gave it the core in slices of ~3 ms while token requests waited, and on a core that is
//! 90 % busy each such pause takes a hundred milliseconds or more to work off (BENCHMARKS.md,
//! "Upkeep at the lowest priority"). At nice 19 it gets all of any idle time and a small share
//! when the core is saturated (too small to keep the WAL from growing then: ARCHITECTURE.md).
//! It must never hold SQLite's write lock while requests wait for it, so it reads before each
//! delete and leaves recent expired replay records to the token path's writer.

use fullmakt_store::Store;
use std::time::Duration;
use tokio::sync::oneshot;

/// Replay records and logins are deleted in batches of this many, so a writer waiting for
/// the lock never waits long behind a sweep.
const BATCH: i64 = 250;

/// On SQLite the token path's grant writer forgets expired replay records as it records new
/// ones (`fullmakt_store::GrantWriter`); upkeep takes only those left expired for this many
/// seconds, after an idle spell. Then this low-priority thread takes SQLite's write lock only
/// when no writer is at work: preempted while holding it, it would stop every token request.
const WRITER_FORGETS_FIRST: i64 = 60;

/// The decision index's change log keeps the last million writes; a node further behind
/// than that rebuilds its index.
const KEEP_INDEX_CHANGES: i64 = 1_000_000;

/// The running upkeep thread. Dropping it stops the thread at its next tick.
pub struct Upkeep {
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Upkeep {
    /// Starts the thread; the store handle it works through is opened there.
    pub fn start(store: Store) -> std::io::Result<Self> {
        let (stop, stopped) = oneshot::channel();
        let thread = std::thread::Builder::new().name("fullmakt-upkeep".into()).spawn(move || {
            if !lower_this_threads_priority() {
                tracing::warn!("could not lower the upkeep thread's priority; it runs at normal priority");
            }
            let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(runtime) => runtime,
                Err(e) => {
                    tracing::error!(error = %e, "could not start the upkeep thread's runtime; no upkeep will run");
                    return;
                }
            };
            runtime.block_on(run(store, stopped));
        })?;
        Ok(Self { stop: Some(stop), thread: Some(thread) })
    }

    /// Stops the thread and waits for it to let go of its connection.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }
}

async fn run(store: Store, mut stopped: oneshot::Receiver<()>) {
    // Opened here, on this thread, so that the connection's worker thread is spawned from it.
    let own = match store.upkeep_handle().await {
        Ok(own) => own,
        Err(e) => {
            tracing::error!(error = %e, "could not open the upkeep connection; no upkeep will run");
            return;
        }
    };
    let upkeep_store = own.as_ref().unwrap_or(&store);
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => once(upkeep_store).await,
            // A send or a dropped sender: either way, stop.
            _ = &mut stopped => break,
        }
    }
    // Only a pool of its own: an in-memory store's pool is the server's.
    if let Some(own) = own {
        own.close().await;
    }
}

async fn once(store: &Store) {
    if let Err(e) = store.checkpoint().await {
        tracing::warn!(error = %e, "WAL checkpoint failed");
    }
    if let Err(e) = store.sweep_index_changes(KEEP_INDEX_CHANGES).await {
        tracing::warn!(error = %e, "could not sweep the index change log");
    }
    // Logins in progress and the test identity provider's requests and codes.
    if let Err(e) = store.forget_expired_logins(fullmakt_service::clock::now(), BATCH).await {
        tracing::warn!(error = %e, "could not sweep expired login records");
    }
    let grace = match store.backend() {
        fullmakt_store::Backend::Sqlite => WRITER_FORGETS_FIRST,
        fullmakt_store::Backend::Postgres => 0,
    };
    loop {
        match store.forget_expired_grants(fullmakt_service::clock::now() - grace, BATCH).await {
            Ok(n) if n as i64 == BATCH => tokio::time::sleep(Duration::from_millis(2)).await,
            Ok(_) => break,
            Err(e) => {
                tracing::warn!(error = %e, "could not sweep expired replay records");
                break;
            }
        }
    }
}

/// Nice 19 for the calling thread (and the threads it spawns from now on). On Linux the nice
/// value is per thread, and `setpriority` with `who` 0 sets the caller's.
#[cfg(target_os = "linux")]
fn lower_this_threads_priority() -> bool {
    // SAFETY: setpriority takes plain integers and touches no memory of ours.
    unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, 19) == 0 }
}

#[cfg(not(target_os = "linux"))]
fn lower_this_threads_priority() -> bool {
    false
}
