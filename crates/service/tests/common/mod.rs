//! What the service tests share: a fresh store per configured database.
#![allow(dead_code)]

use fullmakt_store::Store;

/// A fresh SQLite store, and a fresh PostgreSQL database when FULLMAKT_TEST_POSTGRES_URL is set.
/// The temporary directory must outlive the SQLite store.
pub async fn stores() -> Vec<(Store, Option<tempfile::TempDir>)> {
    stores_with_urls().await.into_iter().map(|(store, _, dir)| (store, dir)).collect()
}

/// Like [`stores`], with each database's URL, for tests that reach the database around the store.
pub async fn stores_with_urls() -> Vec<(Store, String, Option<tempfile::TempDir>)> {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    let mut out = vec![(Store::connect(&url).await.unwrap(), url, Some(dir))];
    if let Ok(base) = std::env::var("FULLMAKT_TEST_POSTGRES_URL") {
        use sqlx::Executor;
        sqlx::any::install_default_drivers();
        let admin = sqlx::AnyPool::connect(&base).await.expect("FULLMAKT_TEST_POSTGRES_URL is set but unreachable");
        let name = format!("fullmakt_service_{}", uuid::Uuid::new_v4().simple());
        admin.execute(format!("CREATE DATABASE {name}").as_str()).await.unwrap();
        admin.close().await;
        let (prefix, _) = base.rsplit_once('/').unwrap();
        let url = format!("{prefix}/{name}");
        out.push((Store::connect(&url).await.unwrap(), url, None));
    }
    out
}

/// Runs SQL on the database behind a store through a connection of its own.
pub async fn execute(url: &str, sql: &str) {
    use sqlx::Executor;
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(url).await.unwrap();
    pool.execute(sql).await.unwrap();
    pool.close().await;
}
