//! How the instance runs, as its servers record it at start, for the CLI to read.
//!
//! Test-data mode is a switch each process reads (`--test-data`), but some CLI commands must
//! know how the *server* runs: `admin test-token` mints person tokens only for an instance that
//! runs with test data, and signs them for the server's own issuer. So every `serve` start
//! writes its mode and public URL here, in one transaction; the latest start decides. All
//! nodes of one instance are meant to be started alike.

use fullmakt_store::{Store, StoreError};

use crate::clock;

const TEST_DATA: &str = "test_data";
const PUBLIC_URL: &str = "public_url";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceMode {
    pub test_data: bool,
    /// The public base URL without trailing slash.
    pub public_url: String,
}

/// What a server records as it starts; nothing is written when the record already says so.
pub async fn record_start(store: &Store, mode: &InstanceMode) -> Result<(), StoreError> {
    let mode = InstanceMode { test_data: mode.test_data, public_url: mode.public_url.trim_end_matches('/').to_owned() };
    if recorded(store).await?.as_ref() == Some(&mode) {
        return Ok(());
    }
    let now = clock::now();
    let mut tx = store.begin_write().await?;
    tx.set_instance_setting(TEST_DATA, if mode.test_data { "true" } else { "false" }, now).await?;
    tx.set_instance_setting(PUBLIC_URL, mode.public_url.trim_end_matches('/'), now).await?;
    tx.commit().await
}

/// The mode the latest server start recorded; `None` when no server has started on this database.
pub async fn recorded(store: &Store) -> Result<Option<InstanceMode>, StoreError> {
    let (Some((test_data, _)), Some((public_url, _))) = (store.instance_setting(TEST_DATA).await?, store.instance_setting(PUBLIC_URL).await?)
    else {
        return Ok(None);
    };
    Ok(Some(InstanceMode { test_data: test_data == "true", public_url }))
}
