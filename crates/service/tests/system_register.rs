//! The system register's use cases over the real store (SQLite, and PostgreSQL with
//! FULLMAKT_TEST_POSTGRES_URL): the order the checks run in, who may write, the lookups the
//! rest of Authentication uses, and that a refused write changes nothing.

use fullmakt_domain::auth_error::ValidationCode;
use fullmakt_domain::resource::ServiceResource;
use fullmakt_domain::system_register::{AccessPackage, RegisterSystemRequest};
use fullmakt_domain::OrganisationNumber;
use fullmakt_service::resource_registry::{create_resource, Writer};
use fullmakt_service::system_register::{
    self as register, find_live_system, find_live_system_by_client_id, find_system, Actor, SYSTEM_REGISTER_ADMIN,
    SYSTEM_REGISTER_WRITE,
};
use fullmakt_service::{AdminError, AuthError, Caller};
mod common;

use common::stores;
use fullmakt_store::Store;
use serde_json::{json, Value};

const VENDOR: &str = "314240979";
const OTHER: &str = "310702641";
const RESOURCE: &str = "skd-mva";

fn caller(org: &str, scopes: &[&str]) -> Caller {
    Caller {
        org: OrganisationNumber::parse(org).unwrap(),
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
        client_id: format!("client-of-{org}"),
    }
}

fn body(name: &str) -> Value {
    json!({
        "id": format!("{VENDOR}_{name}"),
        "vendor": {"ID": format!("0192:{VENDOR}")},
        "name": {"nb": "N", "en": "N", "nn": "N"},
        "description": {"nb": "D", "en": "D", "nn": "D"},
        "rights": [{"resource": [{"id": "urn:altinn:resource", "value": RESOURCE}]}],
        "accessPackages": [{"urn": "urn:altinn:accesspackage:skatt-naering"}],
        "clientId": [format!("Client-{name}")],
        "allowedRedirectUrls": ["https://vg.no"]
    })
}

fn request(v: &Value) -> RegisterSystemRequest {
    RegisterSystemRequest::from_json(v.to_string().as_bytes()).unwrap()
}

async fn seed(store: &Store) {
    let r = json!({
        "identifier": RESOURCE,
        "title": {"nb": "T", "nn": "T", "en": "T"},
        "description": {"nb": "D", "nn": "D", "en": "D"},
        "rightDescription": {"nb": "R", "nn": "R", "en": "R"},
        "contactPoints": [{"category": "Support", "email": "a@example.com", "telephone": "", "contactPage": ""}],
        "hasCompetentAuthority": {"organization": "974761076", "orgcode": "skd"},
        "resourceType": "GenericAccessResource"
    });
    create_resource(store, Writer::Operator, &ServiceResource::from_json(r.to_string().as_bytes()).unwrap()).await.unwrap();
}

fn codes(e: &AuthError) -> Vec<u16> {
    match e {
        AuthError::Validation(errors) => errors.iter().map(|e| e.code.number()).collect(),
        other => panic!("expected a validation problem, got {other:?}"),
    }
}

#[tokio::test]
async fn create_checks_the_vendor_first_and_ownership_before_reporting_errors() {
    for (store, _dir) in stores().await {
        seed(&store).await;
        let vendor = caller(VENDOR, &[SYSTEM_REGISTER_WRITE]);
        let other = caller(OTHER, &[SYSTEM_REGISTER_WRITE]);
        let before = store.change_sequence().await.unwrap();

        // Missing scope comes before everything.
        let e = register::create_system(&store, Actor::Api(&caller(VENDOR, &["x"])), &request(&body("a"))).await.unwrap_err();
        assert!(matches!(e, AuthError::Admin(AdminError::MissingScope(_))), "{e:?}");
        // VLD-00 is answered alone, before ownership and the other checks.
        let mut b = body("a b");
        b["vendor"]["ID"] = json!("0192:123");
        let e = register::create_system(&store, Actor::Api(&other), &request(&b)).await.unwrap_err();
        assert_eq!(codes(&e), vec![0]);
        // Another vendor gets 403 even when the body also has errors.
        let mut b = body("a b");
        b["allowedRedirectUrls"] = json!(["http://x"]);
        let e = register::create_system(&store, Actor::Api(&other), &request(&b)).await.unwrap_err();
        assert!(matches!(e, AuthError::Admin(AdminError::Forbidden(_))), "{e:?}");
        // The vendor gets every error at once.
        let e = register::create_system(&store, Actor::Api(&vendor), &request(&b)).await.unwrap_err();
        assert_eq!(codes(&e), vec![13, 5]);
        assert_eq!(store.change_sequence().await.unwrap(), before, "nothing was written");

        // Languages are checked before anything else that reads the body.
        let mut b = body("a");
        b["name"] = json!({"nb": "x"});
        b["vendor"]["ID"] = json!("nonsense");
        let e = register::create_system(&store, Actor::Api(&vendor), &request(&b)).await.unwrap_err();
        assert!(matches!(e, AuthError::Admin(AdminError::Invalid(_))), "{e:?}");

        // The administrator writes for any vendor; the operator (CLI) too.
        let admin = caller(OTHER, &[SYSTEM_REGISTER_ADMIN]);
        register::create_system(&store, Actor::Api(&admin), &request(&body("by_admin"))).await.unwrap();
        register::create_system(&store, Actor::Operator, &request(&body("by_operator"))).await.unwrap();
        let log = register::change_log(&store, &vendor, &format!("{VENDOR}_by_operator")).await.unwrap();
        assert_eq!((log.len(), log[0].changed_by_org_number.clone(), log[0].client_id.clone()), (1, None, None));
        let log = register::change_log(&store, &vendor, &format!("{VENDOR}_by_admin")).await.unwrap();
        assert_eq!(log[0].changed_by_org_number.as_deref(), Some(OTHER));
        assert_eq!(log[0].client_id.as_deref(), Some("client-of-310702641"));
    }
}

#[tokio::test]
async fn replace_checks_in_the_reference_order() {
    for (store, _dir) in stores().await {
        seed(&store).await;
        let vendor = caller(VENDOR, &[SYSTEM_REGISTER_WRITE]);
        let other = caller(OTHER, &[SYSTEM_REGISTER_WRITE]);
        register::create_system(&store, Actor::Api(&vendor), &request(&body("sys"))).await.unwrap();
        let id = format!("{VENDOR}_sys");
        let text = |e: AuthError| match e {
            AuthError::Text { status, text } => (status, text),
            other => panic!("expected text, got {other:?}"),
        };

        // Unknown → 404; another vendor → 403 before its body's vendor or id are looked at.
        let mut b = body("sys");
        b["vendor"]["ID"] = json!(format!("0192:{OTHER}"));
        b["id"] = json!("whatever");
        let e = register::replace_system(&store, Actor::Api(&vendor), "nope", &request(&b)).await.unwrap_err();
        assert_eq!(text(e), (404, "System with ID 'nope' not found.".into()));
        let e = register::replace_system(&store, Actor::Api(&other), &id, &request(&b)).await.unwrap_err();
        assert!(matches!(e, AuthError::Admin(AdminError::Forbidden(_))), "{e:?}");
        // The owner: vendor mismatch (404) before id mismatch (VLD-12) before deleted (400).
        let e = register::replace_system(&store, Actor::Api(&vendor), &id, &request(&b)).await.unwrap_err();
        assert_eq!(text(e), (404, format!("System with ID '{id}' not found.")));
        b["vendor"]["ID"] = json!(format!("0192:{VENDOR}"));
        register::delete_system(&store, Actor::Api(&vendor), &id).await.unwrap();
        let e = register::replace_system(&store, Actor::Api(&vendor), &id, &request(&b)).await.unwrap_err();
        assert_eq!(codes(&e), vec![12]);
        let e = register::replace_system(&store, Actor::Api(&vendor), &id, &request(&body("sys"))).await.unwrap_err();
        assert_eq!(text(e), (400, "Cannot update a system marked as deleted.".into()));

        // Partial updates on an unknown system are 404, never a server error.
        let e = register::replace_rights(&store, Actor::Api(&vendor), "nope", &[]).await.unwrap_err();
        assert_eq!(e.status(), 404);
        let e = register::replace_access_packages(&store, Actor::Api(&vendor), "nope", &[]).await.unwrap_err();
        assert_eq!(e.status(), 404);
        let packages = [AccessPackage { urn: "urn:altinn:accesspackage:nope".into() }];
        let e = register::replace_access_packages(&store, Actor::Api(&other), &id, &packages).await.unwrap_err();
        assert_eq!(e.status(), 403, "ownership before validation");
    }
}

#[tokio::test]
async fn lookups_find_systems_by_id_and_by_client_id() {
    for (store, _dir) in stores().await {
        seed(&store).await;
        let vendor = caller(VENDOR, &[SYSTEM_REGISTER_WRITE]);
        let internal = register::create_system(&store, Actor::Api(&vendor), &request(&body("found"))).await.unwrap();
        let id = format!("{VENDOR}_found");

        let s = find_live_system_by_client_id(&store, "CLIENT-found").await.unwrap().expect("found by client id, any case");
        assert_eq!((s.internal_id.as_str(), s.system_id.as_str(), s.vendor_orgno.as_str()), (internal.as_str(), id.as_str(), VENDOR));
        assert_eq!(s.client_ids, vec!["Client-found".to_owned()]);
        assert_eq!(s.allowed_redirect_urls, vec!["https://vg.no/".to_owned()]);
        assert_eq!(s.rights[0].resource[0].value, RESOURCE);
        assert!(s.is_visible && !s.is_deleted);
        assert!(find_live_system_by_client_id(&store, "Client-other").await.unwrap().is_none());
        assert!(find_live_system(&store, &id).await.unwrap().is_some());

        register::delete_system(&store, Actor::Api(&vendor), &id).await.unwrap();
        assert!(find_live_system_by_client_id(&store, "Client-found").await.unwrap().is_none(), "a deleted system's ids are free");
        assert!(find_live_system(&store, &id).await.unwrap().is_none());
        let deleted = find_system(&store, &id).await.unwrap().expect("still readable");
        assert!(deleted.is_deleted);
        assert!(deleted.client_ids.is_empty());

        // The portal's reads.
        let mut hidden = body("hidden");
        hidden["isVisible"] = json!(false);
        register::create_system(&store, Actor::Api(&vendor), &request(&hidden)).await.unwrap();
        register::create_system(&store, Actor::Api(&vendor), &request(&body("shown"))).await.unwrap();
        let visible: Vec<String> = register::visible_systems(&store).await.unwrap().into_iter().map(|d| d.system_id).collect();
        assert_eq!(visible, vec![format!("{VENDOR}_shown")]);
        assert_eq!(register::system_dto(&store, &id).await.unwrap().system_id, id, "deleted systems are readable by id");
        assert!(register::system_dto(&store, "nope").await.is_err());
        assert!(register::system_rights(&store, "nope", false).await.unwrap().is_empty());
        assert_eq!(register::system_rights(&store, &id, true).await.unwrap()[0].resource[0].value, RESOURCE);
        assert_eq!(register::system_access_packages(&store, &id).await.unwrap()[0].urn, "urn:altinn:accesspackage:skatt-naering");
    }
}

#[tokio::test]
async fn a_client_id_taken_after_validation_is_refused_inside_the_write() {
    // Two creates racing for one client id (letter case aside): whichever writes second finds
    // the id taken, before its write or under the write lock, and answers VLD-04, never a 500.
    for (store, _dir) in stores().await {
        seed(&store).await;
        let vendor = caller(VENDOR, &[SYSTEM_REGISTER_WRITE]);
        let mut a = body("a");
        a["clientId"] = json!(["same"]);
        let mut b = body("b");
        b["clientId"] = json!(["SAME"]);
        let (a, b) = (request(&a), request(&b));
        let (ra, rb) = tokio::join!(
            register::create_system(&store, Actor::Api(&vendor), &a),
            register::create_system(&store, Actor::Api(&vendor), &b),
        );
        let outcomes = [ra.map(|_| ()), rb.map(|_| ())];
        assert_eq!(outcomes.iter().filter(|r| r.is_ok()).count(), 1, "{outcomes:?}");
        let refused = outcomes.iter().find_map(|r| r.as_ref().err()).unwrap();
        assert_eq!(codes(refused), vec![ValidationCode::ClientIdExists.number()]);
    }
}
