//! `/accessmanagement/api/v1/enduser/clientdelegations/…` over HTTP: an accounting firm's
//! managing director lists the firm's clients, takes on its agent system user and delegates a
//! client's accountant package; the PDP then permits the agent for that client, until each route
//! of revocation takes it back. Every wrong caller and malformed input is refused with a
//! specific 4xx and changes nothing.

use reqwest::Method;
use serde_json::{json, Value};

use crate::approval::{people, with_scope, MANAGER};
use crate::harness::*;
use crate::requests::{post_request, register_system, seed, CLIENT_PACKAGE, CUSTOMER, REQUEST_READ, REQUEST_WRITE};

const BASE: &str = "/accessmanagement/api/v1/enduser/clientdelegations";
/// The firm's client through the ER role REGN.
const CLIENT_ORG: &str = "311000004";
/// An employee of the firm without klientadministrator (has one package from it).
const CLERK: &str = "17054026641";
/// The managing director of OTHER_ORG, another firm.
const STRANGER: &str = "08089410003";
const ACCOUNTS: &str = "test-regnskap";
const REGN: &str = "urn:altinn:external-role:ccr:regnskapsforer";

struct Firm {
    /// The firm (CUSTOMER in the shared seed) and its client, by party uuid.
    firm: String,
    client: String,
    other_firm: String,
    agent: String,
    pdp: String,
    /// The firm's managing director (klientadministrator through the key role), portal scope.
    manager: String,
}

/// The shared seed plus: a client that registered the firm as its accountant, a resource whose
/// policy names `regnskapsforer-lonn`, and an approved agent system user of the firm.
async fn firm(db: &TestDb, server: &TestServer) -> Firm {
    use fullmakt_domain::SyntheticNumbers;
    use fullmakt_service::register::{add_organisation, add_role, NewOrganisation, NewRole, RoleHolder};
    use fullmakt_service::resource_registry::{altinn_policy, create_resource, store_policy, Writer};
    seed(server).await;
    let (customer, _) = people(server).await;
    let manager = person_token(db, MANAGER);
    let input = NewOrganisation { org_number: CLIENT_ORG.into(), name: "Klient AS".into(), unit_type: Some("AS".into()), ..Default::default() };
    add_organisation(&server.store, &input).await.unwrap();
    let regn = NewRole { unit: CLIENT_ORG.into(), role: "regnskapsforer".into(), holder: RoleHolder::Organisation(CUSTOMER.into()) };
    add_role(&server.store, &regn, SyntheticNumbers::Refuse).await.unwrap();
    let dagl = NewRole { unit: OTHER_ORG.into(), role: "daglig-leder".into(), holder: RoleHolder::Person(STRANGER.into()) };
    add_role(&server.store, &dagl, SyntheticNumbers::Refuse).await.unwrap();
    let resource = crate::resource_registry::resource(ACCOUNTS);
    let resource = fullmakt_domain::resource::ServiceResource::from_json(resource.to_string().as_bytes()).unwrap();
    create_resource(&server.store, Writer::Operator, &resource).await.unwrap();
    let policy = altinn_policy(ACCOUNTS, &[("urn:altinn:accesspackage", "regnskapsforer-lonn")], &["read"]);
    store_policy(&server.store, Writer::Operator, ACCOUNTS, &policy).await.unwrap();

    let system = register_system(server, "accounting", |s| {
        s["accessPackages"] = json!([{"urn": CLIENT_PACKAGE}]);
        s["isVisible"] = json!(false);
    })
    .await;
    let writer = api_token(server, VENDOR_ORG, &[REQUEST_WRITE, REQUEST_READ]).await;
    let body = json!({"systemId": system, "partyOrgNo": CUSTOMER, "accessPackages": [{"urn": CLIENT_PACKAGE}]});
    let (status, created) = post_request(server, &writer, "vendor/agent", &body).await;
    assert_eq!(status, 201, "{created}");
    let agent = created["id"].as_str().unwrap().to_owned();
    let approve = format!("/authentication/api/v1/systemuser/request/agent/{customer}/{agent}/approve");
    assert_eq!(call(server, Method::POST, &approve, Some(&manager), None).await, (200, json!(true)));
    let uuid = |org: &'static str| {
        let store = server.store.clone();
        async move { store.find_party(fullmakt_store::PartyKey::OrgNumber(org)).await.unwrap().unwrap().party_uuid }
    };
    Firm {
        firm: uuid(CUSTOMER).await,
        client: uuid(CLIENT_ORG).await,
        other_firm: uuid(OTHER_ORG).await,
        agent,
        manager,
        pdp: api_token(server, OWNER_ORG, &["altinn:authorization/authorize"]).await,
    }
}

async fn decision(server: &TestServer, pdp: &str, agent: &str, org: &str) -> String {
    let request = json!({"Request": {
        "AccessSubject": [{"Attribute": [{"AttributeId": "urn:altinn:systemuser:uuid", "Value": agent}]}],
        "Action": [{"Attribute": [{"AttributeId": "urn:oasis:names:tc:xacml:1.0:action:action-id", "Value": "read"}]}],
        "Resource": [{"Attribute": [
            {"AttributeId": "urn:altinn:resource", "Value": ACCOUNTS},
            {"AttributeId": "urn:altinn:organization:identifier-no", "Value": org}]}]
    }});
    let (status, body) = call(server, Method::POST, "/authorization/api/v1/authorize", Some(pdp), Some(&request.to_string())).await;
    assert_eq!(status, 200, "{body}");
    body["response"][0]["decision"].as_str().unwrap().to_owned()
}

fn values(package: &str) -> String {
    json!({"values": [{"role": REGN, "packages": [package]}]}).to_string()
}

#[tokio::test]
async fn a_delegated_client_is_permitted_for_the_agent_until_each_route_revokes_it() {
    for db in databases().await {
        eprintln!("store: {}", db.name);
        let server = TestServer::start_test_data(&db).await;
        let f = firm(&db, &server).await;
        let manager = f.manager.clone();
        let (firm, client, agent) = (&f.firm, &f.client, &f.agent);
        let read = with_scope(&db, &manager, "altinn:clientdelegations.read").await;
        let write = with_scope(&db, &manager, "altinn:clientdelegations.write").await;

        // The clients, in the reference's ClientDto.
        let (status, clients) = call(&server, Method::GET, &format!("{BASE}/clients?party={firm}"), Some(&read), None).await;
        assert_eq!(status, 200, "{clients}");
        assert_eq!(clients["links"]["next"], Value::Null);
        let entry = &clients["data"][0];
        assert_eq!((entry["client"]["id"].as_str(), entry["client"]["organizationIdentifier"].as_str()), (Some(client.as_str()), Some(CLIENT_ORG)), "{clients}");
        assert_eq!((entry["client"]["type"].as_str(), entry["client"]["variant"].as_str()), (Some("Organisasjon"), Some("AS")));
        assert_eq!(entry["access"][0]["role"]["urn"], REGN);
        assert_eq!(entry["access"][0]["role"]["code"], "regnskapsforer");
        assert_eq!(entry["access"][0]["packages"].as_array().unwrap().len(), 3, "{entry}");
        assert!(entry["access"][0]["packages"][0]["areaId"].is_string());
        let (_, none) = call(&server, Method::GET, &format!("{BASE}/clients?party={firm}&roles=revisor"), Some(&read), None).await;
        assert_eq!(none["data"], json!([]));
        let (_, some) = call(&server, Method::GET, &format!("{BASE}/clients?party={firm}&packages=regnskapsforer-lonn"), Some(&read), None).await;
        assert_eq!(some["data"].as_array().unwrap().len(), 1);

        // Taking the agent on, then delegating the client's package.
        let (status, assignment) = call(&server, Method::POST, &format!("{BASE}/agents?party={firm}&to={agent}"), Some(&write), None).await;
        assert_eq!(status, 200, "{assignment}");
        assert_eq!((assignment["fromId"].as_str(), assignment["toId"].as_str()), (Some(firm.as_str()), Some(agent.as_str())));
        let (_, agents) = call(&server, Method::GET, &format!("{BASE}/agents?party={firm}"), Some(&read), None).await;
        assert_eq!((agents["data"][0]["agent"]["id"].as_str(), agents["data"][0]["agent"]["type"].as_str()), (Some(agent.as_str()), Some("Systembruker")), "{agents}");
        assert_eq!(agents["data"][0]["agent"]["variant"], "AgentSystem");
        assert_eq!(decision(&server, &f.pdp, agent, CLIENT_ORG).await, "NotApplicable");
        let delegate = format!("{BASE}/agents/accesspackages?party={firm}&from={client}&to={agent}");
        let (status, done) = call(&server, Method::POST, &delegate, Some(&write), Some(&values(CLIENT_PACKAGE))).await;
        assert_eq!(status, 200, "{done}");
        assert_eq!(done[0]["changed"], true);
        assert_eq!((done[0]["fromId"].as_str(), done[0]["viaId"].as_str(), done[0]["toId"].as_str()), (Some(client.as_str()), Some(firm.as_str()), Some(agent.as_str())));
        assert!(done[0]["roleId"].is_string() && done[0]["packageId"].is_string(), "{done}");
        let (_, again) = call(&server, Method::POST, &delegate, Some(&write), Some(&values(CLIENT_PACKAGE))).await;
        assert_eq!(again[0]["changed"], false, "delegating twice changes nothing");
        assert_eq!(decision(&server, &f.pdp, agent, CLIENT_ORG).await, "Permit");
        assert_eq!(decision(&server, &f.pdp, agent, OTHER_ORG).await, "NotApplicable");
        let (_, of_agent) = call(&server, Method::GET, &format!("{BASE}/agents/accesspackages?party={firm}&to={agent}"), Some(&read), None).await;
        assert_eq!(of_agent["data"][0]["client"]["id"], client.as_str(), "{of_agent}");
        assert_eq!(of_agent["data"][0]["access"][0]["packages"][0]["urn"], CLIENT_PACKAGE);
        let (_, of_client) = call(&server, Method::GET, &format!("{BASE}/clients/accesspackages?party={firm}&from={client}"), Some(&read), None).await;
        assert_eq!(of_client["data"][0]["agent"]["id"], agent.as_str(), "{of_client}");

        // Revoking the package.
        let (status, revoked) = call(&server, Method::DELETE, &delegate, Some(&write), Some(&values(CLIENT_PACKAGE))).await;
        assert_eq!((status, &revoked[0]["changed"]), (200, &json!(true)), "{revoked}");
        assert_eq!(decision(&server, &f.pdp, agent, CLIENT_ORG).await, "NotApplicable");
        // Removing the client.
        call(&server, Method::POST, &delegate, Some(&write), Some(&values(CLIENT_PACKAGE))).await;
        assert_eq!(decision(&server, &f.pdp, agent, CLIENT_ORG).await, "Permit");
        let remove_client = format!("{BASE}/agents/clients?party={firm}&from={client}&to={agent}");
        assert_eq!(call(&server, Method::DELETE, &remove_client, Some(&write), None).await, (204, Value::Null));
        assert_eq!(decision(&server, &f.pdp, agent, CLIENT_ORG).await, "NotApplicable");
        assert_problem(&call(&server, Method::DELETE, &remove_client, Some(&write), None).await, 404, "is not delegated");
        // Removing the agent: refused while it holds a client, unless cascading.
        call(&server, Method::POST, &delegate, Some(&write), Some(&values(CLIENT_PACKAGE))).await;
        let remove_agent = format!("{BASE}/agents?party={firm}&to={agent}");
        assert_problem(&call(&server, Method::DELETE, &remove_agent, Some(&write), None).await, 400, "cascade=true");
        assert_eq!(decision(&server, &f.pdp, agent, CLIENT_ORG).await, "Permit");
        assert_eq!(call(&server, Method::DELETE, &format!("{remove_agent}&cascade=true"), Some(&write), None).await, (204, Value::Null));
        assert_eq!(decision(&server, &f.pdp, agent, CLIENT_ORG).await, "NotApplicable");
        let (_, agents) = call(&server, Method::GET, &format!("{BASE}/agents?party={firm}"), Some(&manager), None).await;
        assert_eq!(agents["data"], json!([]), "the portal scope reads too");
        server.stop().await;
    }
}

#[tokio::test]
async fn every_route_refuses_the_wrong_caller_and_malformed_input_and_changes_nothing() {
    for db in databases().await {
        eprintln!("store: {}", db.name);
        let server = TestServer::start_test_data(&db).await;
        let f = firm(&db, &server).await;
        let manager = f.manager.clone();
        let clerk = person_token(&db, CLERK);
        let stranger = person_token(&db, STRANGER);
        let (firm, client, agent) = (&f.firm, &f.client, &f.agent);
        let read = with_scope(&db, &manager, "altinn:clientdelegations.read").await;
        let wrong_scope = with_scope(&db, &manager, "altinn:instances.read").await;
        let vendor = api_token(&server, VENDOR_ORG, &["altinn:clientdelegations.write"]).await;
        let body = values(CLIENT_PACKAGE);
        let routes: Vec<(Method, String, Option<&str>, bool)> = vec![
            (Method::GET, format!("{BASE}/clients?party={firm}"), None, false),
            (Method::GET, format!("{BASE}/agents?party={firm}"), None, false),
            (Method::POST, format!("{BASE}/agents?party={firm}&to={agent}"), None, true),
            (Method::DELETE, format!("{BASE}/agents?party={firm}&to={agent}&cascade=true"), None, true),
            (Method::GET, format!("{BASE}/agents/accesspackages?party={firm}&to={agent}"), None, false),
            (Method::POST, format!("{BASE}/agents/accesspackages?party={firm}&from={client}&to={agent}"), Some(body.as_str()), true),
            (Method::DELETE, format!("{BASE}/agents/accesspackages?party={firm}&from={client}&to={agent}"), Some(body.as_str()), true),
            (Method::DELETE, format!("{BASE}/agents/clients?party={firm}&from={client}&to={agent}"), None, true),
            (Method::GET, format!("{BASE}/clients/accesspackages?party={firm}&from={client}"), None, false),
        ];
        // A delegation the refusals must leave standing.
        let delegate = format!("{BASE}/agents/accesspackages?party={firm}&from={client}&to={agent}");
        assert_eq!(call(&server, Method::POST, &delegate, Some(&manager), Some(&body)).await.0, 200);
        let before = server.store.change_sequence().await.unwrap();
        let other_party = |path: &str| path.replace(&format!("party={firm}"), &format!("party={}", f.other_firm));
        let expired = {
            let mut claims = decode_jwt_part(&manager, 1);
            claims["exp"] = json!(now() - 600);
            claims["iat"] = json!(now() - 1200);
            sign_as_server(&db, &decode_jwt_part(&manager, 0), &claims).await
        };
        for (method, path, body, write) in &routes {
            eprintln!("route: {method} {path}");
            let send = |token: Option<String>, path: String| {
                let (server, method) = (&server, method.clone());
                async move { call(server, method, &path, token.as_deref(), *body).await }
            };
            assert_problem(&send(None, path.clone()).await, 401, "token");
            assert_eq!(send(Some(expired.clone()), path.clone()).await.0, 401);
            assert_eq!(send(Some(vendor.clone()), path.clone()).await.0, 401, "a vendor token is not a person's");
            assert_problem(&send(Some(wrong_scope.clone()), path.clone()).await, 403, "altinn:clientdelegations");
            if *write {
                assert_problem(&send(Some(read.clone()), path.clone()).await, 403, "altinn:clientdelegations.write");
            }
            assert_problem(&send(Some(clerk.clone()), path.clone()).await, 403, "klientadministrator");
            assert_problem(&send(Some(stranger.clone()), path.clone()).await, 403, "klientadministrator");
            // Another firm's director on their own party: not their client or agent.
            let (status, answer) = send(Some(stranger.clone()), other_party(path)).await;
            let nothing = answer["data"] == json!([]) || answer.as_array().is_some_and(|a| a.iter().all(|d| d["changed"] == false));
            assert!([400, 404].contains(&status) || (status == 200 && nothing), "{status} {answer}");
            // Malformed and missing ids.
            assert_problem(&send(Some(manager.clone()), path.replace(&format!("party={firm}"), "party=nope")).await, 400, "party must be a UUID");
            assert_problem(&send(Some(manager.clone()), path.replace(&format!("party={firm}"), "x=1")).await, 400, "party is required");
            assert_problem(&send(Some(manager.clone()), path.replace(&format!("party={firm}"), &format!("party={}", uuid::Uuid::new_v4()))).await, 404, "no party");
            if path.contains("from=") {
                assert_problem(&send(Some(manager.clone()), path.replace(&format!("from={client}"), "from=1")).await, 400, "from must be a UUID");
            }
            if path.contains("to=") {
                assert_problem(&send(Some(manager.clone()), path.replace(&format!("to={agent}"), "to=2")).await, 400, "to must be a UUID");
            }
        }
        // Bodies.
        for bad in ["", "{", "[]", r#"{"values": null}"#, r#"{"values": [{"role": 1}]}"#] {
            for method in [Method::POST, Method::DELETE] {
                assert_problem(&call(&server, method, &delegate, Some(&manager), Some(bad)).await, 400, "not valid JSON");
            }
        }
        assert_problem(&call(&server, Method::POST, &delegate, Some(&manager), Some(r#"{"values": []}"#)).await, 400, "at least one role");
        assert_problem(&call(&server, Method::POST, &delegate, Some(&manager), Some(&values("ansvarlig-revisor"))).await, 400, "does not give");
        assert_problem(&call(&server, Method::POST, &delegate, Some(&manager), Some(&values("tilgangsstyrer"))).await, 400, "cannot be delegated");
        assert_problem(&call(&server, Method::POST, &delegate, Some(&manager), Some(&values("regnskapsforer-med-signeringsrettighet"))).await, 400, "was not approved for");
        let revisor = json!({"values": [{"role": "urn:altinn:external-role:ccr:revisor", "packages": ["ansvarlig-revisor"]}]}).to_string();
        assert_problem(&call(&server, Method::POST, &delegate, Some(&manager), Some(&revisor)).await, 400, "has not registered");
        assert_problem(&call(&server, Method::DELETE, &format!("{BASE}/agents?party={firm}&to={agent}&cascade=maybe"), Some(&manager), None).await, 400, "true or false");
        assert_problem(&call(&server, Method::GET, &format!("{BASE}/clients?party={firm}&party={firm}"), Some(&manager), None).await, 400, "more than once");
        assert_problem(&call(&server, Method::GET, &format!("{BASE}/clients?party={firm}&roles=nothing"), Some(&manager), None).await, 400, "not a role");
        // Agents that may not be: the client organisation, another firm's or a standard system user.
        assert_problem(&call(&server, Method::POST, &format!("{BASE}/agents?party={firm}&to={client}"), Some(&manager), None).await, 400, "is an organisation");
        assert_problem(&call(&server, Method::POST, &format!("{BASE}/agents?party={}&to={agent}", f.other_firm), Some(&stranger), None).await, 400, "another organisation");
        assert_eq!(server.store.change_sequence().await.unwrap(), before, "no refusal wrote anything");
        assert_eq!(decision(&server, &f.pdp, agent, CLIENT_ORG).await, "Permit", "the delegation stands");
        server.stop().await;
    }
}
