//! The customer's side over HTTP: a person approves or rejects a vendor's request in the portal;
//! the system user then gets tokens and Permits, until it is deleted, after which the very next
//! token request and decision fail. Every portal route refuses the wrong person and party.

use reqwest::Method;
use serde_json::{json, Value};

use crate::harness::*;
use crate::requests::{assert_auth, post_request, register_system, seed, standard_request, CUSTOMER, PAYROLL, REQUEST_READ, REQUEST_WRITE};

/// The customer's managing director (DAGL): an access manager through the role.
pub(crate) const MANAGER: &str = "01010012356";
/// An employee with one package from the customer, and so a relation but no authority.
const CLERK: &str = "17054026641";
/// A person with no relation to the customer.
const STRANGER: &str = "08089410003";
const BASE: &str = "/authentication/api/v1/systemuser";

pub(crate) async fn people(server: &TestServer) -> (i64, i64) {
    use fullmakt_domain::SyntheticNumbers;
    use fullmakt_service::register::{add_person, add_role, NewPerson, NewRole, RoleHolder};
    for pid in [MANAGER, CLERK, STRANGER] {
        add_person(&server.store, &NewPerson { person_identifier: pid.into(), name: pid.into(), ..Default::default() }, SyntheticNumbers::Refuse)
            .await
            .unwrap();
    }
    add_role(&server.store, &NewRole { unit: CUSTOMER.into(), role: "daglig-leder".into(), holder: RoleHolder::Person(MANAGER.into()) }, SyntheticNumbers::Refuse)
        .await
        .unwrap();
    let customer = fullmakt_service::grants::organisation(&server.store, CUSTOMER).await.unwrap();
    let clerk = server.store.find_party(fullmakt_store::PartyKey::PersonIdentifier(CLERK)).await.unwrap().unwrap();
    let to = fullmakt_service::grants::Recipient::Party(clerk);
    fullmakt_service::grants::grant_package(&server.store, fullmakt_domain::Catalogue::embedded(), &customer, &to, "urn:altinn:accesspackage:skatt-naering")
        .await
        .unwrap();
    let other = fullmakt_service::grants::organisation(&server.store, OTHER_ORG).await.unwrap();
    (customer.party_id, other.party_id)
}

fn system_user_grant(vendor: &Vendor) -> String {
    vendor.grant_with(|_, c| {
        c["authorization_details"] = json!([{"type": "urn:altinn:systemuser",
            "systemuser_org": {"authority": "iso6523-actorid-upis", "ID": format!("0192:{CUSTOMER}")}, "externalRef": "ref-1"}]);
    })
}

async fn decision(server: &TestServer, token: &str, system_user: &str) -> Value {
    let request = json!({"Request": {
        "AccessSubject": [{"Attribute": [{"AttributeId": "urn:altinn:systemuser:uuid", "Value": system_user}]}],
        "Action": [{"Attribute": [{"AttributeId": "urn:oasis:names:tc:xacml:1.0:action:action-id", "Value": "read"}]}],
        "Resource": [{"Attribute": [
            {"AttributeId": "urn:altinn:resource", "Value": PAYROLL},
            {"AttributeId": "urn:altinn:organization:identifier-no", "Value": CUSTOMER}]}]
    }});
    let (status, body) = call(server, Method::POST, "/authorization/api/v1/authorize", Some(token), Some(&request.to_string())).await;
    assert_eq!(status, 200, "{body}");
    body["response"][0]["decision"].clone()
}

#[tokio::test]
async fn approve_use_and_delete_a_system_user() {
    for db in databases().await {
        eprintln!("store: {}", db.name);
        let server = TestServer::start_test_data(&db).await;
        let vendor = Vendor::setup(&server).await;
        seed(&server).await;
        let (customer, other) = people(&server).await;
        let client = vendor.client_id.clone();
        let system = register_system(&server, "payroll", |s| s["clientId"] = json!([client])).await;
        let writer = api_token(&server, VENDOR_ORG, &[REQUEST_WRITE, REQUEST_READ]).await;
        let (_, created) = post_request(&server, &writer, "vendor", &standard_request(&system)).await;
        let id = created["id"].as_str().unwrap().to_owned();
        let (manager, clerk, stranger) = (person_token(&db, MANAGER), person_token(&db, CLERK), person_token(&db, STRANGER));
        let pdp = api_token(&server, OWNER_ORG, &["altinn:authorization/authorize"]).await;

        // Before approval: no system user for the token service.
        let (status, body) = server.post_grant(&system_user_grant(&vendor)).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_altinn_customer_configuration")), "{body}");

        // The portal opens the request: the manager may approve, the clerk only escalate.
        let (status, seen) = call(&server, Method::GET, &format!("{BASE}/request/{id}"), Some(&manager), None).await;
        assert_eq!(status, 200, "{seen}");
        assert_eq!((seen["partyId"].as_i64(), seen["userMayEscalateButNotApprove"].as_bool()), (Some(customer), Some(false)), "{seen}");
        let (_, seen) = call(&server, Method::GET, &format!("{BASE}/request/{id}"), Some(&clerk), None).await;
        assert_eq!(seen["userMayEscalateButNotApprove"], true, "{seen}");
        assert_auth(&call(&server, Method::GET, &format!("{BASE}/request/{id}"), Some(&stranger), None).await, 403, "AUTH-00066");
        // A vendor token is not a person's.
        assert_eq!(call(&server, Method::GET, &format!("{BASE}/request/{id}"), Some(&writer), None).await.0, 401);

        // Escalation by the clerk shows in the manager's pending list.
        let (status, escalated) = call(&server, Method::POST, &format!("{BASE}/request/{customer}/{id}/escalate"), Some(&clerk), None).await;
        assert_eq!((status, escalated), (200, json!(true)));
        let (status, pending) = call(&server, Method::GET, &format!("{BASE}/request/{customer}/{CUSTOMER}/pending"), Some(&manager), None).await;
        assert_eq!(status, 200, "{pending}");
        assert_eq!(pending[0]["id"], id.as_str());
        assert_eq!(pending[0]["escalated"], true);
        assert_eq!(call(&server, Method::GET, &format!("{BASE}/request/{customer}/{OTHER_ORG}/pending"), Some(&manager), None).await.0, 403);

        // Only the manager, for the request's own party, approves.
        let approve = |party: i64, token: &str| {
            let path = format!("{BASE}/request/{party}/{id}/approve");
            let token = token.to_owned();
            let server = &server;
            async move { call(server, Method::POST, &path, Some(&token), None).await }
        };
        assert_eq!(approve(customer, &clerk).await.0, 403);
        assert_eq!(approve(other, &manager).await.0, 403, "no authority in the other organisation");
        assert_eq!(call(&server, Method::POST, &format!("{BASE}/request/x/{id}/approve"), Some(&manager), None).await.0, 400);
        assert_eq!(approve(customer, &manager).await, (200, json!(true)));
        assert_auth(&approve(customer, &manager).await, 409, "AUTH-00013");
        let (_, after) = call(&server, Method::GET, &format!("{BASE}/request/vendor/{id}"), Some(&writer), None).await;
        assert_eq!(after["status"], "Accepted");

        // The vendor gets a system-user token at once, and the PDP permits.
        let (status, body) = server.post_grant(&system_user_grant(&vendor)).await;
        assert_eq!(status, 200, "{body}");
        let claims = decode_jwt_part(body["access_token"].as_str().unwrap(), 1);
        assert_eq!(claims["authorization_details"][0]["systemuser_id"], json!([id]));
        assert_eq!(claims["authorization_details"][0]["system_id"], system.as_str());
        assert_eq!(decision(&server, &pdp, &id).await, "Permit");

        // The owner's views.
        let (status, list) = call(&server, Method::GET, &format!("{BASE}/{customer}"), Some(&manager), None).await;
        assert_eq!(status, 200, "{list}");
        assert_eq!(list.as_array().unwrap().len(), 1);
        assert_eq!(list[0]["id"], id.as_str());
        assert_eq!(list[0]["partyId"], customer.to_string());
        let (_, one) = call(&server, Method::GET, &format!("{BASE}/{customer}/{id}"), Some(&manager), None).await;
        assert_eq!(one["accessPackages"], json!([{"urn": "urn:altinn:accesspackage:lonn"}]), "{one}");
        assert_eq!(one["rights"][0]["resource"][0]["value"], PAYROLL, "{one}");
        assert_eq!(call(&server, Method::GET, &format!("{BASE}/{customer}"), Some(&stranger), None).await.0, 403);
        assert_eq!(call(&server, Method::GET, &format!("{BASE}/{other}/{id}"), Some(&manager), None).await.0, 403, "no authority there");

        // The vendor's and the token service's views.
        let (status, found) = call(&server, Method::GET, &format!("{BASE}/vendor/byquery?system-id={system}&orgno={CUSTOMER}&external-ref=ref-1"), Some(&writer), None).await;
        assert_eq!((status, found["id"].as_str()), (200, Some(id.as_str())), "{found}");
        let other_vendor = api_token(&server, OTHER_ORG, &[REQUEST_WRITE]).await;
        assert_eq!(call(&server, Method::GET, &format!("{BASE}/vendor/byquery?system-id={system}&orgno={CUSTOMER}&external-ref=ref-1"), Some(&other_vendor), None).await.0, 404);
        let lookup = api_token(&server, OWNER_ORG, &["altinn:maskinporten/systemuser.read"]).await;
        let by_external = format!("{BASE}/byExternalId?clientId={client}&systemProviderOrgNo={VENDOR_ORG}&systemUserOwnerOrgNo={CUSTOMER}&externalRef=ref-1");
        let (status, found) = call(&server, Method::GET, &by_external, Some(&lookup), None).await;
        assert_eq!((status, found["productName"].as_str()), (200, Some(system.as_str())), "{found}");
        // Every part of the identity must match: another externalRef (or none, which means the
        // owner's organisation number), client or vendor finds nothing.
        for wrong in [
            format!("clientId={client}&systemProviderOrgNo={VENDOR_ORG}&systemUserOwnerOrgNo={CUSTOMER}&externalRef=ref-2"),
            format!("clientId={client}&systemProviderOrgNo={VENDOR_ORG}&systemUserOwnerOrgNo={CUSTOMER}"),
            format!("clientId=another-client&systemProviderOrgNo={VENDOR_ORG}&systemUserOwnerOrgNo={CUSTOMER}&externalRef=ref-1"),
            format!("clientId={client}&systemProviderOrgNo={OTHER_ORG}&systemUserOwnerOrgNo={CUSTOMER}&externalRef=ref-1"),
        ] {
            assert_eq!(call(&server, Method::GET, &format!("{BASE}/byExternalId?{wrong}"), Some(&lookup), None).await, (404, Value::Null), "{wrong}");
        }
        let by_query = format!("{BASE}/vendor/byquery?system-id={system}&orgno={CUSTOMER}&external-ref=ref-2");
        assert_eq!(call(&server, Method::GET, &by_query, Some(&writer), None).await.0, 404);
        for external_ref in [Some("ref-2"), None] {
            let grant = vendor.grant_with(|_, c| {
                let mut details = json!({"type": "urn:altinn:systemuser", "systemuser_org": {"authority": "iso6523-actorid-upis", "ID": format!("0192:{CUSTOMER}")}});
                if let Some(r) = external_ref {
                    details["externalRef"] = json!(r);
                }
                c["authorization_details"] = json!([details]);
            });
            let (status, body) = server.post_grant(&grant).await;
            assert_eq!((status, body["error"].as_str()), (400, Some("invalid_altinn_customer_configuration")), "{external_ref:?}: {body}");
        }
        assert_eq!(call(&server, Method::GET, &format!("{BASE}/byExternalId?clientId={client}"), Some(&lookup), None).await.0, 400);
        assert_eq!(call(&server, Method::GET, &by_external, Some(&writer), None).await.0, 403);
        let register_token = api_token(&server, OWNER_ORG, &["altinn:authentication/systemuser.admin"]).await;
        let (_, stream) = call(&server, Method::GET, &format!("{BASE}/internal/systemusers/stream"), Some(&register_token), None).await;
        assert_eq!(stream["data"][0]["id"], id.as_str(), "{stream}");

        // Deleting revokes at once.
        assert_eq!(call(&server, Method::DELETE, &format!("{BASE}/{customer}/{id}"), Some(&clerk), None).await.0, 403);
        assert_eq!(call(&server, Method::DELETE, &format!("{BASE}/{customer}/{id}"), Some(&manager), None).await, (202, json!(1)));
        assert_eq!(call(&server, Method::DELETE, &format!("{BASE}/{customer}/{id}"), Some(&manager), None).await, (404, json!(0)));
        let (status, body) = server.post_grant(&system_user_grant(&vendor)).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_altinn_customer_configuration")), "{body}");
        assert_eq!(decision(&server, &pdp, &id).await, "NotApplicable");
        assert_eq!(call(&server, Method::GET, &by_external, Some(&lookup), None).await.0, 404);
        let (status, gone) = call(&server, Method::GET, &format!("{BASE}/internal/systemusers/{id}"), Some(&register_token), None).await;
        assert_eq!(status, 410, "{gone}");
        // The identity is free: the same request is created anew.
        assert_eq!(post_request(&server, &writer, "vendor", &standard_request(&system)).await.0, 201);
        server.stop().await;
    }
}

#[tokio::test]
async fn change_requests_and_agent_requests_are_answered_in_the_portal() {
    for db in databases().await {
        eprintln!("store: {}", db.name);
        let server = TestServer::start_test_data(&db).await;
        let _vendor = Vendor::setup(&server).await;
        seed(&server).await;
        let (customer, _) = people(&server).await;
        let system = register_system(&server, "payroll", |_| {}).await;
        let writer = api_token(&server, VENDOR_ORG, &[REQUEST_WRITE, REQUEST_READ]).await;
        let manager = person_token(&db, MANAGER);
        let clerk = person_token(&db, CLERK);
        let (_, created) = post_request(&server, &writer, "vendor", &standard_request(&system)).await;
        let su = created["id"].as_str().unwrap().to_owned();
        assert_eq!(call(&server, Method::POST, &format!("{BASE}/request/{customer}/{su}/approve"), Some(&manager), None).await.0, 200);

        // The vendor asks to add skatt-naering and take the payroll right away.
        let correlation = uuid::Uuid::new_v4().to_string();
        let path = format!("{BASE}/changerequest/vendor?correlation-id={correlation}&system-user-id={su}");
        let change = json!({"requiredAccessPackages": [{"urn": "urn:altinn:accesspackage:skatt-naering"}],
            "unwantedRights": [{"resource": [{"id": "urn:altinn:resource", "value": PAYROLL}]}]});
        let (status, first) = call(&server, Method::POST, &path, Some(&writer), Some(&change.to_string())).await;
        assert_eq!(status, 201, "{first}");
        assert_eq!(first["status"], "New");
        assert!(first["confirmUrl"].as_str().unwrap().contains(&format!("/systemuser/changerequest?id={correlation}&")), "{first}");
        let (status, again) = call(&server, Method::POST, &path, Some(&writer), Some("{}")).await;
        assert_eq!((status, &again["id"]), (200, &first["id"]), "the same correlation id answers the same change request");
        let (status, none) = call(&server, Method::POST, &format!("{BASE}/changerequest/vendor?correlation-id={}&system-user-id={su}", uuid::Uuid::new_v4()), Some(&writer), Some("{}")).await;
        assert_eq!((status, none["status"].as_str(), none["confirmUrl"].as_str()), (200, Some("NoChangeNeeded"), Some("")), "{none}");
        assert_eq!(call(&server, Method::POST, &format!("{BASE}/changerequest/vendor?system-user-id={su}"), Some(&writer), Some("{}")).await.0, 400);
        assert_eq!(call(&server, Method::POST, &format!("{BASE}/changerequest/vendor?correlation-id={su}&system-user-id={su}"), Some(&writer), Some("{}")).await.0, 400);
        let other = api_token(&server, OTHER_ORG, &[REQUEST_WRITE, REQUEST_READ]).await;
        assert_auth(&call(&server, Method::GET, &format!("{BASE}/changerequest/vendor/{correlation}"), Some(&other), None).await, 404, "AUTH-00010");

        // The portal: the clerk may not approve; the manager does, once.
        let (status, seen) = call(&server, Method::GET, &format!("{BASE}/changerequest/{correlation}"), Some(&manager), None).await;
        assert_eq!((status, seen["partyId"].as_i64()), (200, Some(customer)), "{seen}");
        assert_auth(&call(&server, Method::GET, &format!("{BASE}/changerequest/{correlation}"), Some(&clerk), None).await, 403, "AUTH-00066");
        let approve = format!("{BASE}/changerequest/{customer}/{correlation}/approve");
        assert_eq!(call(&server, Method::POST, &approve, Some(&clerk), None).await.0, 403);
        assert_eq!(call(&server, Method::POST, &approve, Some(&manager), None).await, (200, json!(true)));
        assert_auth(&call(&server, Method::POST, &approve, Some(&manager), None).await, 409, "AUTH-00013");
        let (_, holds) = call(&server, Method::GET, &format!("{BASE}/{customer}/{su}/delegations"), Some(&manager), None).await;
        let mut packages: Vec<&str> = holds["accessPackages"].as_array().unwrap().iter().map(|p| p["urn"].as_str().unwrap()).collect();
        packages.sort();
        assert_eq!(packages, ["urn:altinn:accesspackage:lonn", "urn:altinn:accesspackage:skatt-naering"], "{holds}");
        assert_eq!(holds["rights"], json!([]), "the payroll right is gone: {holds}");

        // An agent request: approved without delegations, listed among the party's agents.
        let agent_system = register_system(&server, "accounting", |s| {
            s["accessPackages"] = json!([{"urn": crate::requests::CLIENT_PACKAGE}]);
            s["isVisible"] = json!(false);
        })
        .await;
        let agent = json!({"systemId": agent_system, "partyOrgNo": CUSTOMER, "accessPackages": [{"urn": crate::requests::CLIENT_PACKAGE}]});
        let (_, created) = post_request(&server, &writer, "vendor/agent", &agent).await;
        let agent_id = created["id"].as_str().unwrap().to_owned();
        assert_auth(&call(&server, Method::POST, &format!("{BASE}/request/{customer}/{agent_id}/approve"), Some(&manager), None).await, 404, "AUTH-00010");
        let approve_agent = format!("{BASE}/request/agent/{customer}/{agent_id}/approve");
        assert_eq!(call(&server, Method::POST, &approve_agent, Some(&manager), None).await, (200, json!(true)));
        assert_auth(&call(&server, Method::POST, &approve_agent, Some(&manager), None).await, 409, "AUTH-00013");
        let (status, agents) = call(&server, Method::GET, &format!("{BASE}/agent/{customer}"), Some(&manager), None).await;
        assert_eq!(status, 200, "{agents}");
        assert_eq!(agents[0]["id"], agent_id.as_str());
        assert_eq!(agents[0]["userType"], "agent");
        assert_eq!(agents[0]["accessPackages"], json!([{"urn": crate::requests::CLIENT_PACKAGE}]));
        let (_, standard) = call(&server, Method::GET, &format!("{BASE}/{customer}"), Some(&manager), None).await;
        assert_eq!(standard.as_array().unwrap().len(), 1, "agents are not among the standard system users: {standard}");
        // A standard deletion does not take agents.
        assert_auth(&call(&server, Method::DELETE, &format!("{BASE}/{customer}/{agent_id}"), Some(&manager), None).await, 400, "AUTH-00036");
        server.stop().await;
    }
}

/// A person token like `token` with another scope, signed by the server as its own.
pub(crate) async fn with_scope(db: &TestDb, token: &str, scope: &str) -> String {
    let mut claims = decode_jwt_part(token, 1);
    claims["scope"] = json!(scope);
    sign_as_server(db, &decode_jwt_part(token, 0), &claims).await
}

/// Makes the manager the managing director of OTHER_ORG too, so a party mismatch gets past the
/// access-management gate and meets the request check.
async fn manager_of_other_org(server: &TestServer) {
    use fullmakt_service::register::{add_role, NewRole, RoleHolder};
    let role = NewRole { unit: OTHER_ORG.into(), role: "daglig-leder".into(), holder: RoleHolder::Person(MANAGER.into()) };
    add_role(&server.store, &role, fullmakt_domain::SyntheticNumbers::Refuse).await.unwrap();
}

#[tokio::test]
async fn every_portal_route_needs_the_portal_scope() {
    for db in databases().await {
        eprintln!("store: {}", db.name);
        let server = TestServer::start_test_data(&db).await;
        seed(&server).await;
        let (customer, _) = people(&server).await;
        let system = register_system(&server, "payroll", |_| {}).await;
        let writer = api_token(&server, VENDOR_ORG, &[REQUEST_WRITE, REQUEST_READ]).await;
        let (_, created) = post_request(&server, &writer, "vendor", &standard_request(&system)).await;
        let id = created["id"].as_str().unwrap().to_owned();
        let manager = person_token(&db, MANAGER);
        let unscoped = with_scope(&db, &manager, "altinn:instances.read").await;
        let direct = json!({"systemId": system}).to_string();

        let mut routes: Vec<(Method, String, Option<&str>)> = vec![
            (Method::GET, format!("{BASE}/{customer}"), None),
            (Method::GET, format!("{BASE}/agent/{customer}"), None),
            (Method::GET, format!("{BASE}/{customer}/{id}"), None),
            (Method::GET, format!("{BASE}/{customer}/{id}/delegations"), None),
            (Method::POST, format!("{BASE}/{customer}/create"), Some(direct.as_str())),
            (Method::DELETE, format!("{BASE}/{customer}/{id}"), None),
            (Method::GET, format!("{BASE}/changerequest/{id}"), None),
            (Method::GET, format!("{BASE}/changerequest/{customer}/{id}"), None),
            (Method::POST, format!("{BASE}/changerequest/{customer}/{id}/approve"), None),
            (Method::POST, format!("{BASE}/changerequest/{customer}/{id}/reject"), None),
        ];
        for kind in ["", "/agent"] {
            routes.extend([
                (Method::GET, format!("{BASE}/request{kind}/{id}"), None),
                (Method::GET, format!("{BASE}/request{kind}/{customer}/{id}"), None),
                (Method::POST, format!("{BASE}/request{kind}/{customer}/{id}/approve"), None),
                (Method::POST, format!("{BASE}/request{kind}/{customer}/{id}/reject"), None),
                (Method::POST, format!("{BASE}/request{kind}/{customer}/{id}/escalate"), None),
                (Method::GET, format!("{BASE}/request{kind}/{customer}/{CUSTOMER}/pending"), None),
            ]);
        }
        let before = server.store.change_sequence().await.unwrap();
        for (method, path, body) in &routes {
            eprintln!("route: {method} {path}");
            assert_problem(&call(&server, method.clone(), path, Some(&unscoped), *body).await, 403, "altinn:portal/enduser");
        }
        assert_eq!(server.store.change_sequence().await.unwrap(), before, "nothing was written");
        let (_, still) = call(&server, Method::GET, &format!("{BASE}/request/vendor/{id}"), Some(&writer), None).await;
        assert_eq!((still["status"].as_str(), still["escalated"].as_bool()), (Some("New"), Some(false)), "{still}");
        // The same person with the scope may.
        assert_eq!(call(&server, Method::POST, &format!("{BASE}/request/{customer}/{id}/approve"), Some(&manager), None).await, (200, json!(true)));
        server.stop().await;
    }
}

#[tokio::test]
async fn the_portal_answers_unknown_ids_another_partys_requests_and_the_other_kind_with_their_codes() {
    for db in databases().await {
        eprintln!("store: {}", db.name);
        let server = TestServer::start_test_data(&db).await;
        seed(&server).await;
        let (customer, other) = people(&server).await;
        manager_of_other_org(&server).await;
        let system = register_system(&server, "payroll", |_| {}).await;
        let agent_system = register_system(&server, "accounting", |s| {
            s["accessPackages"] = json!([{"urn": crate::requests::CLIENT_PACKAGE}]);
            s["isVisible"] = json!(false);
        })
        .await;
        let writer = api_token(&server, VENDOR_ORG, &[REQUEST_WRITE, REQUEST_READ]).await;
        let (manager, clerk) = (person_token(&db, MANAGER), person_token(&db, CLERK));
        let get = |path: String, token: &str| {
            let token = token.to_owned();
            let server = &server;
            async move { call(server, Method::GET, &path, Some(&token), None).await }
        };
        let post = |path: String, token: &str| {
            let token = token.to_owned();
            let server = &server;
            async move { call(server, Method::POST, &path, Some(&token), None).await }
        };

        // An owner without system users has an empty list of each kind.
        assert_eq!(get(format!("{BASE}/{customer}"), &manager).await, (200, json!([])));
        assert_eq!(get(format!("{BASE}/agent/{customer}"), &manager).await, (200, json!([])));

        // Unknown ids: each route's own not-found.
        let unknown = uuid::Uuid::new_v4().to_string();
        for id in [unknown.as_str(), "not-a-uuid"] {
            assert_auth(&get(format!("{BASE}/request/{id}"), &manager).await, 404, "AUTH-00010");
            assert_auth(&get(format!("{BASE}/request/agent/{id}"), &manager).await, 404, "AUTH-00030");
            assert_auth(&get(format!("{BASE}/request/{customer}/{id}"), &manager).await, 404, "AUTH-00010");
            assert_auth(&get(format!("{BASE}/request/agent/{customer}/{id}"), &manager).await, 404, "AUTH-00030");
            assert_auth(&post(format!("{BASE}/request/{customer}/{id}/approve"), &manager).await, 404, "AUTH-00010");
            assert_auth(&post(format!("{BASE}/request/{customer}/{id}/reject"), &manager).await, 404, "AUTH-00010");
            assert_auth(&post(format!("{BASE}/request/agent/{customer}/{id}/approve"), &manager).await, 404, "AUTH-00030");
            assert_auth(&get(format!("{BASE}/changerequest/{id}"), &manager).await, 404, "AUTH-00010");
            assert_auth(&get(format!("{BASE}/{customer}/{id}"), &manager).await, 404, "AUTH-00015");
            assert_eq!(call(&server, Method::DELETE, &format!("{BASE}/{customer}/{id}"), Some(&manager), None).await, (404, json!(0)));
        }

        let (_, standard) = post_request(&server, &writer, "vendor", &standard_request(&system)).await;
        let standard = standard["id"].as_str().unwrap().to_owned();
        let agent_body = json!({"systemId": agent_system, "partyOrgNo": CUSTOMER, "accessPackages": [{"urn": crate::requests::CLIENT_PACKAGE}]});
        let (_, agent) = post_request(&server, &writer, "vendor/agent", &agent_body).await;
        let agent = agent["id"].as_str().unwrap().to_owned();
        let before = server.store.change_sequence().await.unwrap();

        // Another party the person manages: the request is not that party's.
        assert_auth(&post(format!("{BASE}/request/{other}/{standard}/approve"), &manager).await, 403, "AUTH-00041");
        assert_auth(&post(format!("{BASE}/request/{other}/{standard}/reject"), &manager).await, 403, "AUTH-00041");
        assert_auth(&post(format!("{BASE}/request/agent/{other}/{agent}/approve"), &manager).await, 403, "AUTH-00042");
        assert_auth(&post(format!("{BASE}/request/agent/{other}/{agent}/reject"), &manager).await, 403, "AUTH-00042");
        assert_auth(&get(format!("{BASE}/request/{other}/{standard}"), &manager).await, 404, "AUTH-00010");
        assert_auth(&post(format!("{BASE}/request/{other}/{standard}/escalate"), &manager).await, 404, "AUTH-00010");

        // The other kind's routes do not know the id.
        assert_auth(&get(format!("{BASE}/request/agent/{standard}"), &manager).await, 404, "AUTH-00030");
        assert_auth(&get(format!("{BASE}/request/{agent}"), &manager).await, 404, "AUTH-00010");
        assert_auth(&get(format!("{BASE}/request/agent/{customer}/{standard}"), &manager).await, 404, "AUTH-00030");
        assert_auth(&post(format!("{BASE}/request/agent/{customer}/{standard}/approve"), &manager).await, 404, "AUTH-00030");
        assert_auth(&post(format!("{BASE}/request/agent/{customer}/{standard}/reject"), &manager).await, 404, "AUTH-00030");
        assert_auth(&post(format!("{BASE}/request/{customer}/{agent}/reject"), &manager).await, 404, "AUTH-00010");
        assert_eq!(server.store.change_sequence().await.unwrap(), before, "nothing was written");
        for (path, id) in [("vendor", &standard), ("vendor/agent", &agent)] {
            let (_, request) = get(format!("{BASE}/request/{path}/{id}"), &writer).await;
            assert_eq!(request["status"], "New", "{request}");
        }

        // Pending: every New standard request, but agent requests only once escalated.
        let (_, pending) = get(format!("{BASE}/request/{customer}/{CUSTOMER}/pending"), &manager).await;
        assert_eq!((pending[0]["id"].as_str(), pending[0]["escalated"].as_bool()), (Some(standard.as_str()), Some(false)), "{pending}");
        let agent_pending = format!("{BASE}/request/agent/{customer}/{CUSTOMER}/pending");
        assert_eq!(get(agent_pending.clone(), &manager).await, (200, json!([])));
        assert_eq!(post(format!("{BASE}/request/agent/{customer}/{agent}/escalate"), &clerk).await, (200, json!(true)));
        let (status, pending) = get(agent_pending, &manager).await;
        assert_eq!(status, 200, "{pending}");
        assert_eq!(pending.as_array().unwrap().len(), 1, "{pending}");
        assert_eq!((pending[0]["id"].as_str(), pending[0]["escalated"].as_bool()), (Some(agent.as_str()), Some(true)), "{pending}");
        // The portal's view of an agent request says so.
        let (_, seen) = get(format!("{BASE}/request/agent/{agent}"), &manager).await;
        assert_eq!((seen["systemUserType"].as_str(), seen.get("rights")), (Some("Agent"), None), "{seen}");
        server.stop().await;
    }
}

#[tokio::test]
async fn an_approved_identity_is_taken_for_both_kinds_and_titles_come_from_the_request_or_the_system() {
    for db in databases().await {
        eprintln!("store: {}", db.name);
        let server = TestServer::start_test_data(&db).await;
        seed(&server).await;
        let (customer, other) = people(&server).await;
        manager_of_other_org(&server).await;
        let system = register_system(&server, "payroll", |_| {}).await;
        let agent_system = register_system(&server, "accounting", |s| {
            s["accessPackages"] = json!([{"urn": crate::requests::CLIENT_PACKAGE}]);
            s["isVisible"] = json!(false);
        })
        .await;
        let writer = api_token(&server, VENDOR_ORG, &[REQUEST_WRITE, REQUEST_READ]).await;
        let manager = person_token(&db, MANAGER);
        let approve = |kind: &str, id: &str| {
            let path = format!("{BASE}/request{kind}/{customer}/{id}/approve");
            let (server, manager) = (&server, manager.clone());
            async move { call(server, Method::POST, &path, Some(&manager), None).await }
        };

        // A title given in the request is the system user's; without one it is the system's name.nb.
        // Without externalRef: the identity is (customer, customer, system), as a direct creation's.
        let mut untitled = standard_request(&system);
        untitled.as_object_mut().unwrap().remove("externalRef");
        let mut titled = standard_request(&system);
        titled["externalRef"] = json!("ref-2");
        titled["integrationTitle"] = json!("  Lønn for Kunde AS ");
        let agent_body = json!({"systemId": agent_system, "partyOrgNo": CUSTOMER, "accessPackages": [{"urn": crate::requests::CLIENT_PACKAGE}]});
        let mut ids = Vec::new();
        for (path, body) in [("vendor", &untitled), ("vendor", &titled), ("vendor/agent", &agent_body)] {
            let (status, created) = post_request(&server, &writer, path, body).await;
            assert_eq!(status, 201, "{created}");
            ids.push(created["id"].as_str().unwrap().to_owned());
        }
        assert_eq!(approve("", &ids[0]).await, (200, json!(true)));
        assert_eq!(approve("", &ids[1]).await, (200, json!(true)));
        assert_eq!(approve("/agent", &ids[2]).await, (200, json!(true)));
        let (_, users) = call(&server, Method::GET, &format!("{BASE}/{customer}"), Some(&manager), None).await;
        let title_of = |id: &str| users.as_array().unwrap().iter().find(|u| u["id"] == id).map(|u| u["integrationTitle"].clone());
        assert_eq!(title_of(&ids[0]), Some(json!("Lønnssystemet")), "{users}");
        assert_eq!(title_of(&ids[1]), Some(json!("Lønn for Kunde AS")), "{users}");

        // A rejected request is returned as it is when its identity is posted again (kept on
        // purpose, DESIGN.md §5: clients rely on it).
        let mut rejected = standard_request(&system);
        rejected["externalRef"] = json!("ref-3");
        let (_, created) = post_request(&server, &writer, "vendor", &rejected).await;
        let rejected_id = created["id"].as_str().unwrap().to_owned();
        let reject = format!("{BASE}/request/{customer}/{rejected_id}/reject");
        assert_eq!(call(&server, Method::POST, &reject, Some(&manager), None).await, (200, json!(true)));
        let (status, again) = post_request(&server, &writer, "vendor", &rejected).await;
        assert_eq!((status, again["id"].as_str(), again["status"].as_str()), (200, Some(rejected_id.as_str()), Some("Rejected")), "{again}");
        assert_auth(&approve("", &rejected_id).await, 409, "AUTH-00013");

        // Each approved identity is taken (400 AUTH-00004), for standard and agent requests alike.
        let before = server.store.change_sequence().await.unwrap();
        for (path, body) in [("vendor", &untitled), ("vendor", &titled), ("vendor/agent", &agent_body)] {
            assert_auth(&post_request(&server, &writer, path, body).await, 400, "AUTH-00004");
        }
        // The identity does not depend on the kind: a standard request for the agent's identity.
        let mut as_standard = agent_body.clone();
        as_standard["accessPackages"] = json!([]);
        as_standard["rights"] = json!([]);
        assert_auth(&post_request(&server, &writer, "vendor", &as_standard).await, 400, "AUTH-00004");
        // Direct creation of an identity that exists: the customer's own (orgno, orgno, system).
        let direct = format!("{BASE}/{customer}/create");
        assert_auth(&call(&server, Method::POST, &direct, Some(&manager), Some(&json!({"systemId": system}).to_string())).await, 400, "AUTH-00004");
        assert_eq!(server.store.change_sequence().await.unwrap(), before, "nothing was written");
        // Direct creation: once per identity.
        let direct_system = register_system(&server, "direct", |s| s["rights"] = json!([])).await;
        let body = json!({"systemId": direct_system, "integrationTitle": "Direkte"}).to_string();
        let (status, made) = call(&server, Method::POST, &direct, Some(&manager), Some(&body)).await;
        assert_eq!(status, 200, "{made}");
        assert_eq!((made["integrationTitle"].as_str(), made["externalRef"].as_str()), (Some("Direkte"), Some(CUSTOMER)), "{made}");
        assert_auth(&call(&server, Method::POST, &direct, Some(&manager), Some(&body)).await, 400, "AUTH-00004");

        // Another party the person manages does not own these system users.
        let su = &ids[0];
        assert_auth(&call(&server, Method::GET, &format!("{BASE}/{other}/{su}"), Some(&manager), None).await, 404, "AUTH-00015");
        assert_auth(&call(&server, Method::GET, &format!("{BASE}/{other}/{su}/delegations"), Some(&manager), None).await, 404, "AUTH-00015");
        assert_auth(&call(&server, Method::DELETE, &format!("{BASE}/{other}/{su}"), Some(&manager), None).await, 403, "AUTH-00024");
        assert_eq!(call(&server, Method::GET, &format!("{BASE}/{other}"), Some(&manager), None).await, (200, json!([])));
        assert_auth(&call(&server, Method::GET, &format!("{BASE}/{customer}/{}/delegations", ids[2]), Some(&manager), None).await, 400, "AUTH-00036");
        // No no-op routes: PUT systemuser is not served.
        let (status, _) = call(&server, Method::PUT, BASE, Some(&manager), Some("{}")).await;
        assert!(status == 404 || status == 405, "{status}");
        server.stop().await;
    }
}

#[tokio::test]
async fn change_requests_are_answered_once_deleted_by_their_vendor_only_and_time_out() {
    for db in databases().await {
        eprintln!("store: {}", db.name);
        let server = TestServer::start_test_data(&db).await;
        seed(&server).await;
        let (customer, other) = people(&server).await;
        manager_of_other_org(&server).await;
        let system = register_system(&server, "payroll", |_| {}).await;
        let writer = api_token(&server, VENDOR_ORG, &[REQUEST_WRITE, REQUEST_READ]).await;
        let other_vendor = api_token(&server, OTHER_ORG, &[REQUEST_WRITE, REQUEST_READ]).await;
        let manager = person_token(&db, MANAGER);
        let (_, created) = post_request(&server, &writer, "vendor", &standard_request(&system)).await;
        let su = created["id"].as_str().unwrap().to_owned();
        assert_eq!(call(&server, Method::POST, &format!("{BASE}/request/{customer}/{su}/approve"), Some(&manager), None).await.0, 200);

        let create = |correlation: &str, body: Value| {
            let path = format!("{BASE}/changerequest/vendor?correlation-id={correlation}&system-user-id={su}");
            let (server, writer) = (&server, writer.clone());
            async move { call(server, Method::POST, &path, Some(&writer), Some(&body.to_string())).await }
        };
        let vendor_get = |id: &str| {
            let path = format!("{BASE}/changerequest/vendor/{id}");
            let (server, writer) = (&server, writer.clone());
            async move { call(server, Method::GET, &path, Some(&writer), None).await }
        };
        let add_package = |redirect: Option<&str>| {
            let mut body = json!({"requiredAccessPackages": [{"urn": "urn:altinn:accesspackage:skatt-naering"}]});
            if let Some(r) = redirect {
                body["redirectUrl"] = json!(r);
            }
            body
        };

        // A redirect URL longer than 255 characters is kept whole.
        let long = format!("https://vendor.example/callback?state={}", "y".repeat(300));
        let first = uuid::Uuid::new_v4().to_string();
        let (status, created) = create(&first, add_package(Some(&long))).await;
        assert_eq!((status, created["redirectUrl"].as_str()), (201, Some(long.as_str())), "{created}");
        let (status, read) = vendor_get(&first).await;
        assert_eq!((status, read["redirectUrl"].as_str(), read["status"].as_str()), (200, Some(long.as_str()), Some("New")), "{read}");
        // By the system user's identity: the New change request, with its creation time.
        let (status, by_ref) = call(&server, Method::GET, &format!("{BASE}/changerequest/vendor/byexternalref/{system}/{CUSTOMER}/ref-1"), Some(&writer), None).await;
        assert_eq!((status, by_ref["id"].as_str(), by_ref["status"].as_str()), (200, Some(first.as_str()), Some("New")), "{by_ref}");
        assert_eq!(by_ref["created"], read["created"]);
        assert!(by_ref["created"].as_str().is_some_and(|c| c.ends_with('Z')), "{by_ref}");
        // While it waits, another correlation id for the same system user is refused.
        assert_auth(&create(&uuid::Uuid::new_v4().to_string(), add_package(None)).await, 400, "AUTH-00007");

        // The portal's read names the party by id and uuid.
        let (status, seen) = call(&server, Method::GET, &format!("{BASE}/changerequest/{first}"), Some(&manager), None).await;
        assert_eq!(status, 200, "{seen}");
        let customer_uuid = server.store.find_party(fullmakt_store::PartyKey::Id(customer)).await.unwrap().unwrap().party_uuid;
        assert_eq!((seen["partyId"].as_i64(), seen["partyUuid"].as_str()), (Some(customer), Some(customer_uuid.as_str())), "{seen}");
        assert!(seen.get("created").is_none() && seen.get("timedOut").is_none(), "{seen}");

        // Another vendor may not delete it; another party the person manages may not answer it.
        let before = server.store.change_sequence().await.unwrap();
        assert_auth(&call(&server, Method::DELETE, &format!("{BASE}/changerequest/vendor/{first}"), Some(&other_vendor), None).await, 404, "AUTH-00010");
        for answer in ["approve", "reject"] {
            let path = format!("{BASE}/changerequest/{other}/{first}/{answer}");
            assert_auth(&call(&server, Method::POST, &path, Some(&manager), None).await, 403, "AUTH-00041");
        }
        assert_auth(&call(&server, Method::GET, &format!("{BASE}/changerequest/{other}/{first}"), Some(&manager), None).await, 404, "AUTH-00010");
        assert_eq!(server.store.change_sequence().await.unwrap(), before, "nothing was written");

        // Rejected once; then neither answer, and the correlation id cannot be reused.
        let answer = |what: &str, id: &str| {
            let path = format!("{BASE}/changerequest/{customer}/{id}/{what}");
            let (server, manager) = (&server, manager.clone());
            async move { call(server, Method::POST, &path, Some(&manager), None).await }
        };
        assert_eq!(answer("reject", &first).await, (200, json!(true)));
        assert_auth(&answer("reject", &first).await, 409, "AUTH-00013");
        assert_auth(&answer("approve", &first).await, 409, "AUTH-00013");
        assert_eq!(vendor_get(&first).await.1["status"], "Rejected");
        assert_auth(&create(&first, add_package(None)).await, 409, "AUTH-00061");
        let (_, holds) = call(&server, Method::GET, &format!("{BASE}/{customer}/{su}/delegations"), Some(&manager), None).await;
        assert_eq!(holds["accessPackages"], json!([{"urn": "urn:altinn:accesspackage:lonn"}]), "a rejected change changes nothing: {holds}");

        // A new correlation id: a new change request with its own confirmUrl.
        let second = uuid::Uuid::new_v4().to_string();
        let (status, created) = create(&second, add_package(None)).await;
        assert_eq!(status, 201, "{created}");
        assert_ne!(created["confirmUrl"], read["confirmUrl"]);
        assert!(created["confirmUrl"].as_str().unwrap().contains(&format!("changerequest?id={second}&DONTCHOOSEREPORTEE=true")), "{created}");
        // Its vendor deletes it: 202, then it is gone.
        let delete = format!("{BASE}/changerequest/vendor/{second}");
        assert_eq!(call(&server, Method::DELETE, &delete, Some(&writer), None).await, (202, Value::Null));
        assert_auth(&vendor_get(&second).await, 404, "AUTH-00010");
        assert_auth(&call(&server, Method::DELETE, &delete, Some(&writer), None).await, 404, "AUTH-00010");
        assert_auth(&answer("approve", &second).await, 404, "AUTH-00010");

        // A change request older than 180 days reads as Timedout, cannot be approved, and no
        // longer holds the system user's identity.
        let third = uuid::Uuid::new_v4().to_string();
        assert_eq!(create(&third, add_package(None)).await.0, 201);
        sql(&db, &format!("UPDATE system_user_change_requests SET created = created - 181 * 86400 WHERE id = '{third}'")).await;
        let (_, old) = vendor_get(&third).await;
        assert_eq!((old["status"].as_str(), old["timedOut"].as_bool()), (Some("Timedout"), Some(true)), "{old}");
        assert_auth(&answer("approve", &third).await, 409, "AUTH-00013");
        let fourth = uuid::Uuid::new_v4().to_string();
        assert_eq!(create(&fourth, add_package(None)).await.0, 201);
        assert_eq!(answer("approve", &fourth).await, (200, json!(true)));
        let (_, holds) = call(&server, Method::GET, &format!("{BASE}/{customer}/{su}/delegations"), Some(&manager), None).await;
        assert_eq!(holds["accessPackages"].as_array().map(Vec::len), Some(2), "{holds}");
        server.stop().await;
    }
}

/// Follows `links.next` from `first` (relative to the server), returning each page's ids.
async fn pages(server: &TestServer, token: &str, first: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut next = Some(first.to_owned());
    while let Some(path) = next {
        let (status, page) = call(server, Method::GET, &path, Some(token), None).await;
        assert_eq!(status, 200, "{path}: {page}");
        out.push(page["data"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap().to_owned()).collect());
        next = page["links"]["next"].as_str().map(|url| {
            assert!(url.starts_with(&server.public_url), "{url}");
            url.trim_start_matches(&server.public_url).to_owned()
        });
        assert!(out.len() <= 10, "too many pages");
    }
    out
}

#[tokio::test]
async fn every_list_pages_without_skips_and_registers_stream_gives_100_the_remainder_then_an_empty_page() {
    for db in databases().await {
        eprintln!("store: {}", db.name);
        let server = TestServer::start_test_data(&db).await;
        seed(&server).await;
        let (customer, _) = people(&server).await;
        let system = register_system(&server, "payroll", |_| {}).await;
        let agent_system = register_system(&server, "accounting", |s| {
            s["accessPackages"] = json!([{"urn": crate::requests::CLIENT_PACKAGE}]);
            s["isVisible"] = json!(false);
        })
        .await;
        let writer = api_token(&server, VENDOR_ORG, &[REQUEST_WRITE, REQUEST_READ]).await;
        let manager = person_token(&db, MANAGER);

        // 103 system users, approved in order.
        let mut users = Vec::new();
        for n in 0..103 {
            let mut body = standard_request(&system);
            body["externalRef"] = json!(format!("ref-{n:03}"));
            let (status, created) = post_request(&server, &writer, "vendor", &body).await;
            assert_eq!(status, 201, "{created}");
            let id = created["id"].as_str().unwrap().to_owned();
            assert_eq!(call(&server, Method::POST, &format!("{BASE}/request/{customer}/{id}/approve"), Some(&manager), None).await.0, 200);
            users.push(id);
        }

        // The vendor's list of its system's users: 50, 50, 3, in order.
        let register_writer = api_token(&server, VENDOR_ORG, &[crate::requests::REGISTER_WRITE]).await;
        let listed = pages(&server, &register_writer, &format!("{BASE}/vendor/bysystem/{system}")).await;
        assert_eq!(listed.iter().map(Vec::len).collect::<Vec<_>>(), [50, 50, 3]);
        assert_eq!(listed.concat(), users);
        // Behind a proxy, `next` is on the host and scheme it forwarded (the last of each).
        let forwarded = [("x-forwarded-host", "first.example, proxy.example:8443"), ("x-forwarded-proto", "http, https")];
        let (_, page, _) = request(&server, Method::GET, &format!("{BASE}/vendor/bysystem/{system}"), Some(&register_writer), None, &forwarded).await;
        let next = page["links"]["next"].as_str().unwrap();
        assert!(next.starts_with(&format!("https://proxy.example:8443{BASE}/vendor/bysystem/{system}?token=")), "{next}");
        let (status, second) = call(&server, Method::GET, next.trim_start_matches("https://proxy.example:8443"), Some(&register_writer), None).await;
        assert_eq!((status, second["data"][0]["id"].as_str()), (200, Some(users[50].as_str())), "{second}");
        let (_, page, _) = request(&server, Method::GET, &format!("{BASE}/vendor/bysystem/{system}"), Some(&register_writer), None, &[("x-forwarded-host", "evil.example/path")]).await;
        assert!(page["links"]["next"].as_str().unwrap().starts_with(&server.public_url), "a forwarded host that is no host is ignored: {page}");

        // Register's stream: 100, then the remainder (with a system user deleted meanwhile, at
        // its new position), then an empty page that keeps its place.
        let register = api_token(&server, OWNER_ORG, &["altinn:authentication/systemuser.admin"]).await;
        let stream = format!("{BASE}/internal/systemusers/stream");
        let (status, page) = call(&server, Method::GET, &stream, Some(&register), None).await;
        assert_eq!(status, 200, "{page}");
        let ids = |page: &Value| page["data"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap().to_owned()).collect::<Vec<_>>();
        assert_eq!(ids(&page), users[..100]);
        let sequence = |page: &Value, i: usize| page["data"][i]["sequenceNo"].as_i64().unwrap();
        assert_eq!(page["stats"]["pageStart"].as_i64(), Some(sequence(&page, 0)));
        assert_eq!(page["stats"]["pageEnd"].as_i64(), Some(sequence(&page, 99)));
        assert_eq!(page["stats"]["sequenceMax"].as_i64(), Some(sequence(&page, 99) + 3), "{}", page["stats"]);
        assert_eq!(call(&server, Method::DELETE, &format!("{BASE}/{customer}/{}", users[7]), Some(&manager), None).await.0, 202);
        let next = page["links"]["next"].as_str().unwrap().trim_start_matches(&server.public_url).to_owned();
        let (status, rest) = call(&server, Method::GET, &next, Some(&register), None).await;
        assert_eq!(status, 200, "{rest}");
        let mut expected: Vec<String> = users[100..].to_vec();
        expected.push(users[7].clone());
        assert_eq!(ids(&rest), expected);
        assert_eq!(rest["data"][3]["isDeleted"], true, "{rest}");
        assert_eq!(rest["data"][0]["isDeleted"], false, "{rest}");
        let end = sequence(&rest, 3);
        assert_eq!(rest["stats"], json!({"pageStart": sequence(&rest, 0), "pageEnd": end, "sequenceMax": end}));
        let next = rest["links"]["next"].as_str().unwrap().trim_start_matches(&server.public_url).to_owned();
        for _ in 0..2 {
            let (status, empty) = call(&server, Method::GET, &next, Some(&register), None).await;
            assert_eq!(status, 200, "{empty}");
            assert_eq!(empty["data"], json!([]));
            assert_eq!(empty["stats"], json!({"pageStart": end, "pageEnd": end, "sequenceMax": end}));
            assert_eq!(empty["links"]["next"].as_str().unwrap().trim_start_matches(&server.public_url), next, "an empty page keeps its place");
        }
        assert_eq!(call(&server, Method::GET, &format!("{stream}?token=%%%"), Some(&register), None).await.0, 400);

        // Agent requests page in order too (the reference's list is unordered), with one
        // written between the reads coming last, once.
        let mut agents = Vec::new();
        let agent_request = |n: usize| json!({"externalRef": format!("agent-{n:03}"), "systemId": agent_system, "partyOrgNo": CUSTOMER,
            "accessPackages": [{"urn": crate::requests::CLIENT_PACKAGE}]});
        for n in 0..51 {
            let (status, created) = post_request(&server, &writer, "vendor/agent", &agent_request(n)).await;
            assert_eq!(status, 201, "{created}");
            agents.push(created["id"].as_str().unwrap().to_owned());
        }
        let first_page = format!("{BASE}/request/vendor/agent/bysystem/{agent_system}");
        let (_, page) = call(&server, Method::GET, &first_page, Some(&writer), None).await;
        assert_eq!(ids(&page), agents[..50]);
        let (_, late) = post_request(&server, &writer, "vendor/agent", &agent_request(51)).await;
        agents.push(late["id"].as_str().unwrap().to_owned());
        let next = page["links"]["next"].as_str().unwrap().trim_start_matches(&server.public_url).to_owned();
        assert_eq!(pages(&server, &writer, &next).await.concat(), agents[50..]);

        // Change requests page by their token (the reference's list ignores it).
        let mut changes = Vec::new();
        for su in &users[10..61] {
            let correlation = uuid::Uuid::new_v4().to_string();
            let path = format!("{BASE}/changerequest/vendor?correlation-id={correlation}&system-user-id={su}");
            let body = json!({"unwantedRights": [{"resource": [{"id": "urn:altinn:resource", "value": PAYROLL}]}]});
            let (status, created) = call(&server, Method::POST, &path, Some(&writer), Some(&body.to_string())).await;
            assert_eq!(status, 201, "{created}");
            changes.push(correlation);
        }
        let listed = pages(&server, &writer, &format!("{BASE}/changerequest/vendor/bysystem/{system}")).await;
        assert_eq!(listed.iter().map(Vec::len).collect::<Vec<_>>(), [50, 1]);
        assert_eq!(listed.concat(), changes);
        server.stop().await;
    }
}
