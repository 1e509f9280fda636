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

/// A Digdir resource whose policy permits `actions` to the holders of `subjects`
/// (attribute id, value) pairs.
pub async fn resource_with_policy(store: &Store, id: &str, subjects: &[(&str, &str)], actions: &[&str]) {
    use fullmakt_service::resource_registry::{altinn_policy, create_resource, store_policy, Writer};
    let document = serde_json::json!({
        "identifier": id,
        "title": {"nb": id, "nn": id, "en": id},
        "description": {"nb": "d", "nn": "d", "en": "d"},
        "rightDescription": {"nb": "r", "nn": "r", "en": "r"},
        "contactPoints": [{"category": "Support", "email": "a@example.com", "telephone": "", "contactPage": ""}],
        "hasCompetentAuthority": {"organization": "991825827", "orgcode": "digdir", "name": {"nb": "Digdir"}},
        "resourceType": "GenericAccessResource"
    });
    let document = fullmakt_domain::resource::ServiceResource::from_json(document.to_string().as_bytes()).unwrap();
    create_resource(store, Writer::Operator, &document).await.unwrap();
    store_policy(store, Writer::Operator, id, &altinn_policy(id, subjects, actions)).await.unwrap();
}

/// A vendor's system for agent system users: client packages keep it out of the visible list
/// (VLD-18), so agents come only from requests.
pub async fn agent_system(store: &Store, id: &str, vendor: &str, packages: &[&str], client_id: &str) {
    use fullmakt_service::system_register::{create_system, Actor};
    let packages: Vec<serde_json::Value> = packages.iter().map(|urn| serde_json::json!({"urn": urn})).collect();
    let system = serde_json::json!({
        "id": id,
        "vendor": {"authority": "iso6523-actorid-upis", "ID": format!("0192:{vendor}")},
        "name": {"nb": "Regnskap", "en": "Accounting", "nn": "Rekneskap"},
        "description": {"nb": "d", "en": "d", "nn": "d"},
        "accessPackages": packages,
        "clientId": [client_id],
        "isVisible": false
    });
    let system = fullmakt_domain::system_register::RegisterSystemRequest::from_json(system.to_string().as_bytes()).unwrap();
    create_system(store, Actor::Operator, &system).await.unwrap();
}

/// The PDP over the store, with the platform resources its gates decide on.
pub async fn decision_point(store: &Store) -> std::sync::Arc<fullmakt_service::pdp::DecisionPoint> {
    use fullmakt_service::decision_index::DecisionIndex;
    fullmakt_service::access_management::ensure_platform_resources(store).await.unwrap();
    let catalogue = fullmakt_domain::Catalogue::embedded();
    let index = DecisionIndex::load(store.clone(), catalogue).await.unwrap();
    std::sync::Arc::new(fullmakt_service::pdp::DecisionPoint::new(store.clone(), catalogue, std::sync::Arc::new(index)))
}
