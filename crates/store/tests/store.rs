//! Store behaviour on every configured backend: SQLite always, PostgreSQL when
//! FULLMAKT_TEST_POSTGRES_URL names a server (see README.md).

use fullmakt_store::{ClientRow, Store, StoreError};

async fn stores() -> Vec<(Store, Option<tempfile::TempDir>)> {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    let mut out = vec![(Store::connect(&url).await.unwrap(), Some(dir))];
    if let Some(pg) = test_postgres_url().await {
        out.push((Store::connect(&pg).await.unwrap(), None));
    }
    out
}

/// A fresh database per test on the PostgreSQL server named by FULLMAKT_TEST_POSTGRES_URL.
async fn test_postgres_url() -> Option<String> {
    let base = std::env::var("FULLMAKT_TEST_POSTGRES_URL").ok()?;
    use sqlx::Executor;
    sqlx::any::install_default_drivers();
    let admin = sqlx::AnyPool::connect(&base).await.expect("FULLMAKT_TEST_POSTGRES_URL is set but unreachable");
    // Random, so a leftover database from an earlier run (same pid, say) never collides.
    let name = format!("fullmakt_store_{:016x}{:016x}", std::process::id(), rand_suffix() ^ nanos());
    admin.execute(format!("CREATE DATABASE {name}").as_str()).await.unwrap();
    let (prefix, _) = base.rsplit_once('/').unwrap();
    Some(format!("{prefix}/{name}"))
}

fn nanos() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0)
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

fn client(id: &str) -> ClientRow {
    ClientRow {
        client_id: id.into(),
        client_name: "n".into(),
        description: "d".into(),
        client_orgno: "991825827".into(),
        integration_type: "maskinporten".into(),
        access_token_lifetime: 120,
        active: 1,
        created: 1,
        last_updated: 1,
    }
}

#[tokio::test]
async fn writes_bump_the_change_sequence_and_roll_back_when_dropped() {
    for (store, _dir) in stores().await {
        let before = store.change_sequence().await.unwrap();
        let mut tx = store.begin_write().await.unwrap();
        tx.insert_client(&client("a")).await.unwrap();
        tx.set_client_scopes("a", &["x:y".into(), "x:z".into()]).await.unwrap();
        assert_eq!(tx.sequence(), before + 1);
        tx.commit().await.unwrap();
        assert_eq!(store.change_sequence().await.unwrap(), before + 1);
        assert_eq!(store.client("a").await.unwrap().unwrap().client_name, "n");
        assert_eq!(store.client_scopes("a").await.unwrap(), vec!["x:y", "x:z"]);

        let mut tx = store.begin_write().await.unwrap();
        tx.insert_client(&client("b")).await.unwrap();
        drop(tx);
        assert!(store.client("b").await.unwrap().is_none());
        assert_eq!(store.change_sequence().await.unwrap(), before + 1);

        let mut tx = store.begin_write().await.unwrap();
        assert!(matches!(tx.insert_client(&client("a")).await, Err(StoreError::Conflict)));
    }
}

#[tokio::test]
async fn the_replay_store_remembers_each_grant_once_until_it_expires() {
    for (store, _dir) in stores().await {
        assert!(store.remember_grant("c", "j1", 100).await.unwrap());
        assert!(!store.remember_grant("c", "j1", 100).await.unwrap());
        assert!(store.remember_grant("other", "j1", 100).await.unwrap());
        assert_eq!(store.forget_expired_grants(101, 1).await.unwrap(), 1);
        assert_eq!(store.forget_expired_grants(101, 10).await.unwrap(), 1);
        assert_eq!(store.forget_expired_grants(101, 10).await.unwrap(), 0);
        assert!(store.remember_grant("c", "j1", 300).await.unwrap());
    }
}

#[tokio::test]
async fn a_batch_of_grant_uses_reports_each_and_the_sequence_after_them() {
    use fullmakt_store::GrantUse;
    for (store, _dir) in stores().await {
        let g = |c: &str, j: &str| GrantUse { client_id: c.into(), jti: j.into(), expires_at: 100 };
        assert!(store.remember_grant("c", "old", 100).await.unwrap());
        let mut tx = store.begin_write().await.unwrap();
        tx.insert_client(&client("seq")).await.unwrap();
        let committed = tx.sequence();
        tx.commit().await.unwrap();
        let (fresh, sequence) = store.remember_grants(&[g("c", "new1"), g("c", "old"), g("d", "old"), g("c", "new2")]).await.unwrap();
        assert_eq!(fresh, vec![true, false, true, true]);
        assert_eq!(sequence, committed, "the sequence read after the batch sees the committed write");
    }
}

#[tokio::test]
async fn a_background_checkpoint_keeps_committed_data() {
    for (store, _dir) in stores().await {
        let mut tx = store.begin_write().await.unwrap();
        tx.insert_client(&client("ckpt")).await.unwrap();
        tx.commit().await.unwrap();
        store.checkpoint().await.unwrap();
        assert!(store.client("ckpt").await.unwrap().is_some());
    }
}
