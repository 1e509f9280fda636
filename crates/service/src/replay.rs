//! Group commit for the grant replay store.
//!
//! Every token request must record its `(client, jti)` in the database before it answers, and
//! on the token path that round trip (through sqlx's connection worker) costs more than
//! everything else but the RSA signature. Requests that arrive while one batch is being written
//! wait for the next, which records all of them with one statement and reads the change
//! sequence on the same connection. Under load, one round trip serves many requests; idle, a
//! request goes alone and waits for nobody. The writer keeps one connection for all batches
//! ([`fullmakt_store::GrantWriter`]), so a batch costs one round trip, not three.

use std::collections::HashSet;

use fullmakt_store::{GrantUse, Store, StoreError, MAX_GRANT_BATCH};
use tokio::sync::{mpsc, oneshot};

/// The outcome of recording one grant use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recorded {
    /// False when the grant was used before.
    pub fresh: bool,
    /// The change sequence read after the grant was recorded.
    pub sequence: i64,
}

struct Pending {
    grant: GrantUse,
    reply: oneshot::Sender<Result<Recorded, String>>,
}

pub struct ReplayRecorder {
    queue: mpsc::Sender<Pending>,
}

impl ReplayRecorder {
    /// Starts the writer task; call from within a tokio runtime.
    pub fn start(store: Store) -> Self {
        let (queue, rx) = mpsc::channel(4 * MAX_GRANT_BATCH);
        tokio::spawn(write_batches(store, rx));
        Self { queue }
    }

    pub async fn record(&self, grant: GrantUse) -> Result<Recorded, String> {
        let (reply, answer) = oneshot::channel();
        self.queue.send(Pending { grant, reply }).await.map_err(|_| "replay writer stopped".to_owned())?;
        answer.await.map_err(|_| "replay writer dropped the request".to_owned())?
    }
}

async fn write_batches(store: Store, mut rx: mpsc::Receiver<Pending>) {
    let mut writer = store.grant_writer();
    let closing = writer.closing();
    tokio::pin!(closing);
    let mut closed = false;
    let mut batch: Vec<Pending> = Vec::with_capacity(MAX_GRANT_BATCH);
    loop {
        tokio::select! {
            biased;
            // The store is closing: give the connection back; later batches fail.
            () = &mut closing, if !closed => {
                closed = true;
                writer.release();
                continue;
            }
            received = rx.recv_many(&mut batch, MAX_GRANT_BATCH) => if received == 0 { break },
        }
        // The same grant twice in one batch: the first one is the use, the rest are replays.
        let mut seen = HashSet::new();
        let (first, repeats): (Vec<Pending>, Vec<Pending>) =
            batch.drain(..).partition(|p| seen.insert((p.grant.client_id.clone(), p.grant.jti.clone())));
        let grants: Vec<GrantUse> = first.iter().map(|p| p.grant.clone()).collect();
        match writer.remember_grants(&grants, crate::clock::now()).await {
            Ok((fresh, sequence)) => {
                for (p, fresh) in first.into_iter().zip(fresh) {
                    let _ = p.reply.send(Ok(Recorded { fresh, sequence }));
                }
                for p in repeats {
                    let _ = p.reply.send(Ok(Recorded { fresh: false, sequence }));
                }
            }
            Err(e) => {
                let message = describe(&e);
                for p in first.into_iter().chain(repeats) {
                    let _ = p.reply.send(Err(message.clone()));
                }
            }
        }
    }
}

fn describe(e: &StoreError) -> String {
    format!("recording grant uses failed: {e}")
}
