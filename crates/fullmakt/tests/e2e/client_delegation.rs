//! Agent system users and their clients over HTTP (authentication-api.md §1.4 #55–#62, §1.5
//! #63–#67, §3.10, §7 item 14): an accounting firm approves a vendor's agent request, lists its
//! clients, delegates one; the vendor's token for the agent is then permitted for exactly that
//! client, until the client is revoked. Every error the reference gives, the entity-variant rule,
//! and every route against the wrong caller and malformed input, with refused writes changing
//! nothing.

use fullmakt_service::register::{add_organisation, add_person, add_role, NewOrganisation, NewPerson, NewRole, RoleHolder};
use fullmakt_store::{PartyKey, PartyRow};
use reqwest::Method;
use serde_json::{json, Value};

use crate::approval::with_scope;
use crate::decisions::person_number;
use crate::harness::*;
use crate::requests::{assert_auth, post_request, register_system, seed, CLIENT_PACKAGE, REQUEST_READ, REQUEST_WRITE};

const BASE: &str = "/authentication/api/v1/systemuser";
const AGENT: &str = "/authentication/api/v1/systemuser/agent";
const ENDUSER: &str = "/authentication/api/v1/enduser/systemuser";
const READ: &str = "altinn:clientdelegations.read";
const WRITE: &str = "altinn:clientdelegations.write";

/// The accounting firm (facilitator) and another firm.
const FIRM: &str = "313000001";
const OTHER_FIRM: &str = "313000028";
/// Clients of FIRM through REGN.
const ALFA: &str = "313000036";
const BETA: &str = "313000044";
/// FIRM is forretningsfører of a housing cooperative (BRL: gives `forretningsforer-eiendom`) and
/// of a limited company (AS: gives nothing, so not a client).
const HOUSING: &str = "313000052";
const SHOP: &str = "313000060";
/// A client of OTHER_FIRM only.
const FOREIGN: &str = "313000079";
/// A resource whose policy lets holders of `regnskapsforer-lonn` read.
const LEDGER: &str = "test-klient-lonn";
const ESTATE_PACKAGE: &str = "urn:altinn:accesspackage:forretningsforer-eiendom";

struct World {
    db: TestDb,
    server: TestServer,
    vendor: Vendor,
    firm: PartyRow,
    other_firm: PartyRow,
    /// Party uuids by org number.
    alfa: String,
    beta: String,
    housing: String,
    shop: String,
    foreign: String,
    /// The firm's DAGL (client administrator and access manager), an employee with one package
    /// and no authority, and the other firm's DAGL.
    manager: String,
    clerk: String,
    other_manager: String,
    /// The firm's accounting agent, its estate agent, a standard system user of the firm and
    /// the other firm's accounting agent.
    agent: String,
    estate_agent: String,
    standard: String,
    other_agent: String,
}

async fn org(server: &TestServer, org_number: &str, name: &str, unit_type: &str) -> PartyRow {
    let input = NewOrganisation { org_number: org_number.into(), name: name.into(), unit_type: Some(unit_type.into()), ..Default::default() };
    add_organisation(&server.store, &input).await.unwrap();
    server.store.find_party(PartyKey::OrgNumber(org_number)).await.unwrap().unwrap()
}

async fn person(server: &TestServer, first9: &str) -> String {
    let pid = person_number(first9);
    add_person(&server.store, &NewPerson { person_identifier: pid.clone(), name: pid.clone(), ..Default::default() }, fullmakt_domain::SyntheticNumbers::Refuse)
        .await
        .unwrap();
    pid
}

async fn role(server: &TestServer, unit: &str, role: &str, holder: RoleHolder) {
    add_role(&server.store, &NewRole { unit: unit.into(), role: role.into(), holder }, fullmakt_domain::SyntheticNumbers::Refuse).await.unwrap();
}

/// Creates and approves an agent request of `system` for `owner` as `manager`: the agent
/// system user's id.
async fn approved_agent(server: &TestServer, writer: &str, system: &str, owner: &PartyRow, external_ref: &str, package: &str, manager: &str) -> String {
    let party = owner.party_id;
    let org = owner.org_number.as_deref().unwrap();
    let body = json!({"externalRef": external_ref, "systemId": system, "partyOrgNo": org, "accessPackages": [{"urn": package}]});
    let (status, created) = post_request(server, writer, "vendor/agent", &body).await;
    assert_eq!(status, 201, "{created}");
    let request = created["id"].as_str().unwrap();
    let approve = format!("{BASE}/request/agent/{party}/{request}/approve");
    assert_eq!(call(server, Method::POST, &approve, Some(manager), None).await, (200, json!(true)));
    let (_, agents) = call(server, Method::GET, &format!("{AGENT}/{party}"), Some(manager), None).await;
    let agent = agents.as_array().unwrap().iter().find(|a| a["systemId"] == system).unwrap_or_else(|| panic!("no agent of {system}: {agents}"));
    agent["id"].as_str().unwrap().to_owned()
}

async fn world(db: TestDb) -> World {
    use fullmakt_service::grants::{grant_package, Recipient};
    use fullmakt_service::resource_registry::{altinn_policy, create_resource, store_policy, Writer};
    let server = TestServer::start_test_data(&db).await;
    let vendor = Vendor::setup(&server).await;
    seed(&server).await;
    let firm = org(&server, FIRM, "Regnskap AS", "AS").await;
    let other_firm = org(&server, OTHER_FIRM, "Annet Regnskap AS", "AS").await;
    let alfa = org(&server, ALFA, "Alfa AS", "AS").await.party_uuid;
    let beta = org(&server, BETA, "Beta AS", "AS").await.party_uuid;
    let housing = org(&server, HOUSING, "Solsiden Borettslag", "BRL").await.party_uuid;
    let shop = org(&server, SHOP, "Butikken AS", "AS").await.party_uuid;
    let foreign = org(&server, FOREIGN, "Fremmed AS", "AS").await.party_uuid;
    for client in [ALFA, BETA] {
        role(&server, client, "regnskapsforer", RoleHolder::Organisation(FIRM.into())).await;
    }
    for client in [HOUSING, SHOP] {
        role(&server, client, "forretningsforer", RoleHolder::Organisation(FIRM.into())).await;
    }
    role(&server, FOREIGN, "regnskapsforer", RoleHolder::Organisation(OTHER_FIRM.into())).await;
    let (manager, clerk, other_manager) = (person(&server, "050580123").await, person(&server, "060680123").await, person(&server, "070780123").await);
    role(&server, FIRM, "daglig-leder", RoleHolder::Person(manager.clone())).await;
    role(&server, OTHER_FIRM, "daglig-leder", RoleHolder::Person(other_manager.clone())).await;
    let clerk_row = server.store.find_party(PartyKey::PersonIdentifier(&clerk)).await.unwrap().unwrap();
    grant_package(&server.store, fullmakt_domain::Catalogue::embedded(), &firm, &Recipient::Party(clerk_row), "urn:altinn:accesspackage:skatt-naering")
        .await
        .unwrap();

    let resource = crate::resource_registry::resource(LEDGER);
    let resource = fullmakt_domain::resource::ServiceResource::from_json(resource.to_string().as_bytes()).unwrap();
    create_resource(&server.store, Writer::Operator, &resource).await.unwrap();
    let policy = altinn_policy(LEDGER, &[("urn:altinn:accesspackage", "regnskapsforer-lonn")], &["read"]);
    store_policy(&server.store, Writer::Operator, LEDGER, &policy).await.unwrap();

    let client_id = vendor.client_id.clone();
    let accounting = register_system(&server, "accounting", |s| {
        s["accessPackages"] = json!([{"urn": CLIENT_PACKAGE}]);
        s["clientId"] = json!([client_id]);
        s["isVisible"] = json!(false);
    })
    .await;
    let estate = register_system(&server, "estate", |s| {
        s["accessPackages"] = json!([{"urn": ESTATE_PACKAGE}]);
        s["isVisible"] = json!(false);
    })
    .await;
    let payroll = register_system(&server, "payroll", |_| {}).await;
    let writer = api_token(&server, VENDOR_ORG, &[REQUEST_WRITE, REQUEST_READ]).await;
    let (manager, clerk, other_manager) = (person_token(&db, &manager), person_token(&db, &clerk), person_token(&db, &other_manager));
    let agent = approved_agent(&server, &writer, &accounting, &firm, "agent-1", CLIENT_PACKAGE, &manager).await;
    let estate_agent = approved_agent(&server, &writer, &estate, &firm, "estate-1", ESTATE_PACKAGE, &manager).await;
    let other_agent = approved_agent(&server, &writer, &accounting, &other_firm, "agent-1", CLIENT_PACKAGE, &other_manager).await;
    let create = json!({"systemId": payroll}).to_string();
    let (status, standard) = call(&server, Method::POST, &format!("{BASE}/{}/create", firm.party_id), Some(&manager), Some(&create)).await;
    assert_eq!(status, 200, "{standard}");
    let standard = standard["id"].as_str().unwrap().to_owned();
    World { db, server, vendor, firm, other_firm, alfa, beta, housing, shop, foreign, manager, clerk, other_manager, agent, estate_agent, standard, other_agent }
}

impl World {
    fn party(&self) -> i64 {
        self.firm.party_id
    }

    fn delegate_path(&self, agent: &str, client: &str) -> String {
        format!("{AGENT}/{}/{agent}?provider={}&client={client}", self.party(), self.firm.party_uuid)
    }

    fn revoke_path(&self, agent: &str, client: &str) -> String {
        format!("{AGENT}/{}/{agent}/client?client={client}&provider={}", self.party(), self.firm.party_uuid)
    }

    fn delegations_path(&self, agent: &str) -> String {
        format!("{AGENT}/{}/{}/{agent}/delegations", self.party(), self.firm.party_uuid)
    }

    async fn as_manager(&self, method: Method, path: &str) -> (u16, Value) {
        call(&self.server, method, path, Some(&self.manager), None).await
    }

    /// The org numbers of the clients delegated to `agent`, as the portal lists them.
    async fn delegated(&self, agent: &str) -> Vec<String> {
        let (status, list) = self.as_manager(Method::GET, &self.delegations_path(agent)).await;
        assert_eq!(status, 200, "{list}");
        let mut orgs: Vec<String> = list.as_array().unwrap().iter().map(|d| d["customerOrganizationNumber"].as_str().unwrap().to_owned()).collect();
        orgs.sort();
        orgs
    }

    /// The vendor's system-user token for the firm's accounting agent.
    async fn agent_token(&self) -> (u16, Value) {
        let grant = self.vendor.grant_with(|_, c| {
            c["authorization_details"] = json!([{"type": "urn:altinn:systemuser",
                "systemuser_org": {"authority": "iso6523-actorid-upis", "ID": format!("0192:{FIRM}")}, "externalRef": "agent-1"}]);
        });
        self.server.post_grant(&grant).await
    }

    async fn decide(&self, pdp: &str, system_user: &str, client_org: &str) -> String {
        let request = json!({"Request": {
            "AccessSubject": [{"Attribute": [{"AttributeId": "urn:altinn:systemuser:uuid", "Value": system_user}]}],
            "Action": [{"Attribute": [{"AttributeId": "urn:oasis:names:tc:xacml:1.0:action:action-id", "Value": "read"}]}],
            "Resource": [{"Attribute": [{"AttributeId": "urn:altinn:resource", "Value": LEDGER},
                {"AttributeId": "urn:altinn:organization:identifier-no", "Value": client_org}]}]
        }});
        let (status, body) = call(&self.server, Method::POST, "/authorization/api/v1/authorize", Some(pdp), Some(&request.to_string())).await;
        assert_eq!(status, 200, "{body}");
        body["response"][0]["decision"].as_str().unwrap().to_owned()
    }
}

fn org_numbers(clients: &Value, field: &str) -> Vec<String> {
    let mut out: Vec<String> = clients.as_array().unwrap().iter().map(|c| c[field].as_str().unwrap().to_owned()).collect();
    out.sort();
    out
}

/// ASP.NET's `ValidationProblem` with a message under `key`.
fn assert_model_state(response: &(u16, Value), key: &str) {
    let (status, body) = response;
    assert_eq!(*status, 400, "{body}");
    assert!(body["errors"][key].as_array().is_some_and(|e| !e.is_empty()), "{body} has no errors.{key}");
}

/// The validation problem (`STD-00000`) with exactly these `(code, path)` errors.
fn assert_validation(response: &(u16, Value), expected: &[(&str, &str)]) {
    let (status, body) = response;
    assert_eq!(*status, 400, "{body}");
    assert_eq!(body["code"], "STD-00000", "{body}");
    let got: Vec<(String, String)> = body["validationErrors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["code"].as_str().unwrap().to_owned(), e["paths"][0].as_str().unwrap().to_owned()))
        .collect();
    let expected: Vec<(String, String)> = expected.iter().map(|(c, p)| (c.to_string(), p.to_string())).collect();
    assert_eq!(got, expected, "{body}");
}

#[tokio::test]
async fn an_agent_acts_for_exactly_the_clients_delegated_to_it() {
    for db in databases().await {
        eprintln!("store: {}", db.name);
        let w = world(db).await;
        let party = w.party();
        let pdp = api_token(&w.server, OWNER_ORG, &["altinn:authorization/authorize"]).await;

        // The firm's clients: REGN clients and the BRL; not the AS it is forretningsfører for
        // (FFØR gives an AS nothing), not the other firm's client.
        let clients_path = format!("{AGENT}/{party}/clients?facilitator={}", w.firm.party_uuid);
        let (status, clients) = w.as_manager(Method::GET, &clients_path).await;
        assert_eq!(status, 200, "{clients}");
        assert_eq!(org_numbers(&clients, "organizationIdentifier"), [ALFA, BETA, HOUSING]);
        let alfa = clients.as_array().unwrap().iter().find(|c| c["organizationIdentifier"] == ALFA).unwrap();
        assert_eq!(alfa["partyUuid"], w.alfa.as_str());
        assert_eq!(alfa["displayName"], "Alfa AS");
        assert_eq!(alfa["access"][0]["role"], "urn:altinn:external-role:ccr:regnskapsforer", "{alfa}");
        assert!(alfa["access"][0]["packages"].as_array().unwrap().contains(&json!(CLIENT_PACKAGE)), "{alfa}");
        let housing = clients.as_array().unwrap().iter().find(|c| c["organizationIdentifier"] == HOUSING).unwrap();
        assert_eq!(housing["access"], json!([{"role": "urn:altinn:external-role:ccr:forretningsforer", "packages": [ESTATE_PACKAGE]}]));
        // Filtered by package, as a code (the portal's backend) or a URN, repeated.
        let (_, lonn) = w.as_manager(Method::GET, &format!("{clients_path}&packages=regnskapsforer-lonn")).await;
        assert_eq!(org_numbers(&lonn, "organizationIdentifier"), [ALFA, BETA]);
        let (_, estate) = w.as_manager(Method::GET, &format!("{clients_path}&packages={ESTATE_PACKAGE}")).await;
        assert_eq!(org_numbers(&estate, "organizationIdentifier"), [HOUSING]);
        let (_, both) = w.as_manager(Method::GET, &format!("{clients_path}&packages=regnskapsforer-lonn&packages=forretningsforer-eiendom")).await;
        assert_eq!(both, json!([]));
        let (_, unknown) = w.as_manager(Method::GET, &format!("{clients_path}&packages=no-such-package")).await;
        assert_eq!(unknown, json!([]));

        // The vendor gets a token for the agent at once; nothing is permitted yet.
        let (status, token) = w.agent_token().await;
        assert_eq!(status, 200, "{token}");
        let claims = decode_jwt_part(token["access_token"].as_str().unwrap(), 1);
        let system_user = claims["authorization_details"][0]["systemuser_id"][0].as_str().unwrap().to_owned();
        assert_eq!(system_user, w.agent);
        assert_eq!(w.decide(&pdp, &system_user, ALFA).await, "NotApplicable");

        // Delegate Alfa: one DelegationResponse.
        let (status, delegated) = w.as_manager(Method::POST, &w.delegate_path(&w.agent, &w.alfa)).await;
        assert_eq!(status, 200, "{delegated}");
        let entry = &delegated[0];
        assert_eq!(delegated.as_array().unwrap().len(), 1);
        assert_eq!(entry["agentSystemUserId"], w.agent.as_str());
        assert_eq!(entry["delegationId"], w.alfa.as_str());
        assert_eq!(entry["customerId"], w.alfa.as_str());
        assert_eq!(entry["customerName"], "Alfa AS");
        assert_eq!(entry["customerOrganizationNumber"], ALFA);
        assert!(uuid::Uuid::parse_str(entry["assignmentId"].as_str().unwrap()).is_ok(), "{entry}");
        // Idempotent: the same answer again, one delegation.
        assert_eq!(w.as_manager(Method::POST, &w.delegate_path(&w.agent, &w.alfa)).await, (200, delegated.clone()));
        let (_, list) = w.as_manager(Method::GET, &w.delegations_path(&w.agent)).await;
        assert_eq!(list, delegated);

        // The token's system user is permitted for Alfa, and for nobody else.
        assert_eq!(w.decide(&pdp, &system_user, ALFA).await, "Permit");
        assert_eq!(w.decide(&pdp, &system_user, BETA).await, "NotApplicable");
        assert_eq!(w.decide(&pdp, &system_user, FIRM).await, "NotApplicable", "the agent does not act for the firm itself");
        assert_eq!(w.decide(&pdp, &w.other_agent, ALFA).await, "NotApplicable");

        // Revoked: the very next decision is NotApplicable; revoking again is AUTH-00038.
        assert_eq!(w.as_manager(Method::DELETE, &w.revoke_path(&w.agent, &w.alfa)).await, (200, Value::Null));
        assert_eq!(w.decide(&pdp, &system_user, ALFA).await, "NotApplicable");
        assert!(w.delegated(&w.agent).await.is_empty());
        assert_auth(&w.as_manager(Method::DELETE, &w.revoke_path(&w.agent, &w.alfa)).await, 400, "AUTH-00038");

        // Delegated again, then the agent is deleted: its delegations go with it, its token
        // is refused, and its identity is free for a new request.
        w.as_manager(Method::POST, &w.delegate_path(&w.agent, &w.beta)).await;
        assert_eq!(w.decide(&pdp, &system_user, BETA).await, "Permit");
        let delete = format!("{AGENT}/{party}/{}?facilitatorId={}", w.agent, w.firm.party_uuid);
        assert_eq!(w.as_manager(Method::DELETE, &delete).await, (200, Value::Null));
        assert_eq!(w.decide(&pdp, &system_user, BETA).await, "NotApplicable");
        let (status, refused) = w.agent_token().await;
        assert_eq!(status, 400, "{refused}");
        let (_, agents) = w.as_manager(Method::GET, &format!("{AGENT}/{party}")).await;
        assert!(!agents.to_string().contains(&w.agent), "{agents}");
        assert_auth(&w.as_manager(Method::DELETE, &delete).await, 404, "AUTH-00015");
        w.server.stop().await;
    }
}

#[tokio::test]
async fn the_portal_routes_give_the_references_errors_and_change_nothing_when_refusing() {
    for db in databases().await {
        eprintln!("store: {}", db.name);
        let w = world(db).await;
        let party = w.party();
        let unknown = uuid::Uuid::new_v4().to_string();

        // #55: an unknown system user is ASP.NET's `return`; a standard one AUTH-00034; another
        // firm's agent AUTH-00024; a client that is not the firm's AUTH-00079 "Client not
        // found."; a client lacking a package AUTH-00080; the provider must be the party.
        assert_model_state(&w.as_manager(Method::POST, &w.delegate_path(&unknown, &w.alfa)).await, "return");
        assert_auth(&w.as_manager(Method::POST, &w.delegate_path(&w.standard, &w.alfa)).await, 400, "AUTH-00034");
        assert_auth(&w.as_manager(Method::POST, &w.delegate_path(&w.other_agent, &w.alfa)).await, 403, "AUTH-00024");
        for client in [&w.foreign, &w.shop, &unknown] {
            let refused = w.as_manager(Method::POST, &w.delegate_path(&w.agent, client)).await;
            assert_auth(&refused, 400, "AUTH-00079");
            assert_eq!(refused.1["title"], "Client not found.", "{}", refused.1);
        }
        let missing = w.as_manager(Method::POST, &w.delegate_path(&w.agent, &w.housing)).await;
        assert_auth(&missing, 400, "AUTH-00080");
        assert_eq!(missing.1["MissingPackages"], CLIENT_PACKAGE, "{}", missing.1);
        // The entity-variant rule: the BRL can be given to the estate agent, the AS cannot.
        assert_eq!(w.as_manager(Method::POST, &w.delegate_path(&w.estate_agent, &w.housing)).await.0, 200);
        assert_auth(&w.as_manager(Method::POST, &w.delegate_path(&w.estate_agent, &w.shop)).await, 400, "AUTH-00079");
        assert_auth(&w.as_manager(Method::POST, &w.delegate_path(&w.estate_agent, &w.alfa)).await, 400, "AUTH-00080");
        let other_provider = format!("{AGENT}/{party}/{}?provider={}&client={}", w.agent, w.other_firm.party_uuid, w.alfa);
        assert_auth(&w.as_manager(Method::POST, &other_provider).await, 400, "AUTH-00039");
        // Another party: no authority there.
        let other_party = format!("{AGENT}/{}/{}?provider={}&client={}", w.other_firm.party_id, w.other_agent, w.other_firm.party_uuid, w.foreign);
        assert_eq!(w.as_manager(Method::POST, &other_party).await.0, 403);
        assert!(w.delegated(&w.agent).await.is_empty(), "refusals delegated nothing");
        assert_eq!(w.delegated(&w.estate_agent).await, [HOUSING]);

        // #56: nothing delegated is AUTH-00038; another facilitator AUTH-00039; a standard
        // system user AUTH-00034; an unknown one AUTH-00015.
        assert_auth(&w.as_manager(Method::DELETE, &w.revoke_path(&w.agent, &w.beta)).await, 400, "AUTH-00038");
        let other_provider = format!("{AGENT}/{party}/{}/client?client={}&provider={}", w.estate_agent, w.housing, w.other_firm.party_uuid);
        assert_auth(&w.as_manager(Method::DELETE, &other_provider).await, 400, "AUTH-00039");
        assert_auth(&w.as_manager(Method::DELETE, &w.revoke_path(&w.standard, &w.alfa)).await, 400, "AUTH-00034");
        assert_auth(&w.as_manager(Method::DELETE, &w.revoke_path(&unknown, &w.alfa)).await, 404, "AUTH-00015");
        assert_eq!(w.delegated(&w.estate_agent).await, [HOUSING]);

        // #57–#59, the firm itself: client packages are not assignable (AUTH-00064); nothing
        // given, so GET is false and DELETE is idempotent; with and without the trailing slash.
        for slash in ["", "/"] {
            let own = |agent: &str, uuid: &str| format!("{AGENT}/{party}/{agent}/self{slash}?partyUuid={uuid}");
            let refused = w.as_manager(Method::POST, &own(&w.agent, &w.firm.party_uuid)).await;
            assert_auth(&refused, 400, "AUTH-00064");
            assert_eq!(refused.1["NotDelegablePackages"], CLIENT_PACKAGE);
            assert_eq!(w.as_manager(Method::GET, &own(&w.agent, &w.firm.party_uuid)).await, (200, json!(false)));
            assert_eq!(w.as_manager(Method::DELETE, &own(&w.agent, &w.firm.party_uuid)).await, (200, json!(true)));
            assert_auth(&w.as_manager(Method::POST, &own(&w.standard, &w.firm.party_uuid)).await, 400, "AUTH-00034");
            assert_model_state(&w.as_manager(Method::GET, &own(&unknown, &w.firm.party_uuid)).await, "return");
            assert_auth(&w.as_manager(Method::GET, &own(&w.agent, &unknown)).await, 400, "AUTH-00049");
            assert_eq!(w.as_manager(Method::GET, &own(&w.agent, &w.other_firm.party_uuid)).await.0, 403, "another party's uuid");
            assert_model_state(&w.as_manager(Method::GET, &own(&w.agent, "not-a-uuid")).await, "partyUuid");
            assert_model_state(&w.as_manager(Method::GET, &format!("{AGENT}/{party}/{}/self{slash}", w.agent)).await, "partyUuid");
        }

        // #60: a standard system user AUTH-00034, another firm's agent AUTH-00024, another
        // facilitator AUTH-00039; none of them deletes anything.
        let delete = |agent: &str, facilitator: &str| format!("{AGENT}/{party}/{agent}?facilitatorId={facilitator}");
        assert_auth(&w.as_manager(Method::DELETE, &delete(&w.standard, &w.firm.party_uuid)).await, 400, "AUTH-00034");
        assert_auth(&w.as_manager(Method::DELETE, &delete(&w.other_agent, &w.firm.party_uuid)).await, 403, "AUTH-00024");
        assert_auth(&w.as_manager(Method::DELETE, &delete(&w.estate_agent, &w.other_firm.party_uuid)).await, 400, "AUTH-00039");
        assert_auth(&w.as_manager(Method::DELETE, &delete(&unknown, &w.firm.party_uuid)).await, 404, "AUTH-00015");
        assert_eq!(w.delegated(&w.estate_agent).await, [HOUSING]);
        let (_, agents) = w.as_manager(Method::GET, &format!("{AGENT}/{party}")).await;
        assert_eq!(agents.as_array().unwrap().len(), 2, "{agents}");

        // #61: another facilitator is AUTH-00044.
        assert_auth(&w.as_manager(Method::GET, &format!("{AGENT}/{party}/clients?facilitator={}", w.other_firm.party_uuid)).await, 403, "AUTH-00044");

        // #62: the reference answers every failure behind its gate with an empty list.
        for agent in [&unknown, &w.standard, &w.other_agent] {
            assert_eq!(w.as_manager(Method::GET, &w.delegations_path(agent)).await, (200, json!([])));
        }
        let other_facilitator = format!("{AGENT}/{party}/{}/{}/delegations", w.other_firm.party_uuid, w.estate_agent);
        assert_eq!(w.as_manager(Method::GET, &other_facilitator).await, (200, json!([])));
        w.server.stop().await;
    }
}

#[tokio::test]
async fn the_enduser_api_delegates_and_lists_clients_with_its_own_scopes() {
    for db in databases().await {
        eprintln!("store: {}", db.name);
        let w = world(db).await;
        let reader = with_scope(&w.db, &w.manager, READ).await;
        let writer = with_scope(&w.db, &w.manager, WRITE).await;
        let get = |path: String| {
            let (server, token) = (&w.server, reader.clone());
            async move { call(server, Method::GET, &path, Some(&token), None).await }
        };
        let change = |method: Method, query: String| {
            let (server, token) = (&w.server, writer.clone());
            async move { call(server, method, &format!("{ENDUSER}/clients{query}"), Some(&token), None).await }
        };

        // Available clients: those giving every package of the agent.
        let (status, available) = get(format!("{ENDUSER}/clients/available?agent={}", w.agent)).await;
        assert_eq!(status, 200, "{available}");
        assert_eq!(available["links"], json!({}));
        assert_eq!(available["systemUserInformation"], json!({"systemUserId": w.agent, "systemUserOwnerOrg": FIRM}));
        assert_eq!(org_numbers(&available["data"], "clientOrganizationNumber"), [ALFA, BETA]);
        let alfa = available["data"].as_array().unwrap().iter().find(|c| c["clientOrganizationNumber"] == ALFA).unwrap();
        assert_eq!(alfa, &json!({"clientId": w.alfa, "clientOrganizationNumber": ALFA, "clientOrganizationName": "Alfa AS"}));
        let (_, estate) = get(format!("{ENDUSER}/clients/available?agent={}", w.estate_agent)).await;
        assert_eq!(org_numbers(&estate["data"], "clientOrganizationNumber"), [HOUSING]);

        // Delegate, list, idempotent, remove.
        assert_eq!(change(Method::POST, format!("?agent={}&client={}", w.agent, w.alfa)).await, (200, json!({"agent": w.agent, "client": w.alfa})));
        assert_eq!(change(Method::POST, format!("?agent={}&client={}", w.agent, w.alfa)).await.0, 200);
        let (status, delegated) = get(format!("{ENDUSER}/clients?agent={}", w.agent)).await;
        assert_eq!(status, 200, "{delegated}");
        assert_eq!(org_numbers(&delegated["data"], "clientOrganizationNumber"), [ALFA]);
        assert_eq!(delegated["systemUserInformation"]["systemUserId"], w.agent.as_str());
        assert_eq!(w.delegated(&w.agent).await, [ALFA], "the portal sees the same delegation");
        assert_eq!(change(Method::DELETE, format!("?agent={}&client={}", w.agent, w.alfa)).await, (200, json!({"agent": w.agent, "client": w.alfa})));
        assert_eq!(get(format!("{ENDUSER}/clients?agent={}", w.agent)).await.1["data"], json!([]));
        assert_auth(&change(Method::DELETE, format!("?agent={}&client={}", w.agent, w.alfa)).await, 400, "AUTH-00038");

        // Validation: both parameters missing name both; a standard system user is VLD-15; an
        // unknown or malformed agent VLD-14; the client's errors are AUTH-79/80.
        assert_validation(&change(Method::POST, String::new()).await, &[("AUTH.VLD-00014", "?agent"), ("AUTH.VLD-00016", "?client")]);
        assert_validation(&change(Method::DELETE, "?agent=x&client=y".into()).await, &[("AUTH.VLD-00014", "?agent"), ("AUTH.VLD-00016", "?client")]);
        assert_validation(&change(Method::POST, format!("?agent={}", w.agent)).await, &[("AUTH.VLD-00016", "?client")]);
        assert_validation(&change(Method::POST, format!("?client={}", w.alfa)).await, &[("AUTH.VLD-00014", "?agent")]);
        assert_validation(&change(Method::POST, format!("?agent={}&client={}", w.standard, w.alfa)).await, &[("AUTH.VLD-00015", "?agent")]);
        assert_validation(&change(Method::POST, format!("?agent={}&client={}", uuid::Uuid::new_v4(), w.alfa)).await, &[("AUTH.VLD-00014", "?agent")]);
        assert_validation(&get(format!("{ENDUSER}/clients/available?agent={}", w.standard)).await, &[("AUTH.VLD-00015", "?agent")]);
        assert_validation(&get(format!("{ENDUSER}/clients")).await, &[("AUTH.VLD-00014", "?agent")]);
        let not_found = change(Method::POST, format!("?agent={}&client={}", w.agent, w.foreign)).await;
        assert_auth(&not_found, 400, "AUTH-00079");
        assert_eq!(not_found.1["title"], "Client not found.");
        assert_auth(&change(Method::POST, format!("?agent={}&client={}", w.agent, w.housing)).await, 400, "AUTH-00080");
        assert_auth(&change(Method::POST, format!("?agent={}&client={}", w.estate_agent, w.shop)).await, 400, "AUTH-00079");
        // Another firm's agent: this person has no authority over its owner.
        assert_eq!(change(Method::POST, format!("?agent={}&client={}", w.other_agent, w.foreign)).await.0, 403);
        assert_eq!(get(format!("{ENDUSER}/clients?agent={}", w.other_agent)).await.0, 403);
        assert!(w.delegated(&w.agent).await.is_empty(), "refusals delegated nothing");

        // The organisation's agents, in SystemUserInternalDTO's shape.
        let (status, agents) = get(format!("{ENDUSER}/agents?party={FIRM}")).await;
        assert_eq!(status, 200, "{agents}");
        let mut ids: Vec<&str> = agents.as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap()).collect();
        ids.sort();
        let mut expected = [w.agent.as_str(), w.estate_agent.as_str()];
        expected.sort();
        assert_eq!(ids, expected);
        assert_eq!(agents[0]["userType"], "agent");
        assert_eq!(agents[0]["partyId"], w.party().to_string());
        assert_eq!(agents[0]["reporteeOrgNo"], FIRM);
        assert_problem(&get(format!("{ENDUSER}/agents?party=999999999")).await, 404, "Party not found");
        assert_problem(&get(format!("{ENDUSER}/agents")).await, 404, "Party not found");
        assert_eq!(get(format!("{ENDUSER}/agents?party={OTHER_FIRM}")).await.0, 403);

        // An agent whose owner is gone from the register: 404 "System Owner not Found".
        sql(&w.db, &format!("UPDATE parties SET is_deleted = 1 WHERE org_number = '{OTHER_FIRM}'")).await;
        let gone = get(format!("{ENDUSER}/clients?agent={}", w.other_agent)).await;
        assert_problem(&gone, 404, "System Owner not Found");
        assert!(gone.1["detail"].as_str().unwrap().contains(OTHER_FIRM), "{}", gone.1);
        assert_problem(&change(Method::POST, format!("?agent={}&client={}", w.other_agent, w.foreign)).await, 404, "System Owner not Found");
        w.server.stop().await;
    }
}

#[tokio::test]
async fn every_client_delegation_route_refuses_the_wrong_caller_and_malformed_input() {
    for db in databases().await {
        eprintln!("store: {}", db.name);
        let w = world(db).await;
        let party = w.party();
        // One delegation that no refused call may touch.
        assert_eq!(w.as_manager(Method::POST, &w.delegate_path(&w.agent, &w.alfa)).await.0, 200);
        let unscoped = with_scope(&w.db, &w.manager, "altinn:instances.read").await;
        let vendor_token = api_token(&w.server, VENDOR_ORG, &[REQUEST_WRITE]).await;
        let firm = w.firm.party_uuid.clone();

        // The portal's routes: the portal scope, and client administration (or access
        // management) of the party.
        let portal: Vec<(Method, String)> = vec![
            (Method::POST, w.delegate_path(&w.agent, &w.beta)),
            (Method::DELETE, w.revoke_path(&w.agent, &w.alfa)),
            (Method::POST, format!("{AGENT}/{party}/{}/self?partyUuid={firm}", w.agent)),
            (Method::DELETE, format!("{AGENT}/{party}/{}/self/?partyUuid={firm}", w.agent)),
            (Method::GET, format!("{AGENT}/{party}/{}/self?partyUuid={firm}", w.agent)),
            (Method::DELETE, format!("{AGENT}/{party}/{}?facilitatorId={firm}", w.agent)),
            (Method::GET, format!("{AGENT}/{party}/clients?facilitator={firm}")),
            (Method::GET, w.delegations_path(&w.agent)),
        ];
        for (method, path) in &portal {
            let what = format!("{method} {path}");
            assert_eq!(call(&w.server, method.clone(), path, None, None).await.0, 401, "{what} without a token");
            assert_eq!(call(&w.server, method.clone(), path, Some(&vendor_token), None).await.0, 401, "{what} with a vendor's token");
            assert_eq!(call(&w.server, method.clone(), path, Some(&unscoped), None).await.0, 403, "{what} without the portal scope");
            assert_eq!(call(&w.server, method.clone(), path, Some(&w.clerk), None).await.0, 403, "{what} by an employee without authority");
            assert_eq!(call(&w.server, method.clone(), path, Some(&w.other_manager), None).await.0, 403, "{what} by another firm's manager");
            // A party id that is not one, before anything else.
            let bad_party = path.replacen(&format!("/agent/{party}/"), "/agent/not-a-party/", 1);
            assert_problem(&w.as_manager(method.clone(), &bad_party).await, 400, "not a party id");
        }
        // The other firm's manager on their own party cannot reach this firm's agent.
        let theirs = format!("{AGENT}/{}/{}?provider={}&client={}", w.other_firm.party_id, w.agent, w.other_firm.party_uuid, w.foreign);
        assert_auth(&call(&w.server, Method::POST, &theirs, Some(&w.other_manager), None).await, 403, "AUTH-00024");

        // Malformed or missing uuids in the query: ASP.NET's model-binding 400, naming the value.
        let malformed = [
            (Method::POST, format!("{AGENT}/{party}/{}?provider=x&client={}", w.agent, w.beta), "provider"),
            (Method::POST, format!("{AGENT}/{party}/{}?provider={firm}&client=", w.agent), "client"),
            (Method::POST, format!("{AGENT}/{party}/{}?provider={firm}", w.agent), "client"),
            (Method::DELETE, format!("{AGENT}/{party}/{}/client?client=x&provider={firm}", w.agent), "client"),
            (Method::DELETE, format!("{AGENT}/{party}/{}/client?client={}", w.agent, w.alfa), "provider"),
            (Method::POST, format!("{AGENT}/{party}/{}/self?partyUuid=1", w.agent), "partyUuid"),
            (Method::DELETE, format!("{AGENT}/{party}/{}?facilitatorId=nope", w.agent), "facilitatorId"),
            (Method::DELETE, format!("{AGENT}/{party}/{}", w.agent), "facilitatorId"),
            (Method::GET, format!("{AGENT}/{party}/clients?facilitator=%00"), "facilitator"),
            (Method::GET, format!("{AGENT}/{party}/clients"), "facilitator"),
        ];
        for (method, path, name) in &malformed {
            assert_model_state(&w.as_manager(method.clone(), path).await, name);
        }
        // Query names bind case-insensitively, as in ASP.NET.
        let (status, _) = w.as_manager(Method::GET, &format!("{AGENT}/{party}/clients?Facilitator={}", firm.to_uppercase())).await;
        assert_eq!(status, 200);
        // A system user id that is not a uuid is simply not found.
        assert_model_state(&w.as_manager(Method::POST, &w.delegate_path("not-a-uuid", &w.beta)).await, "return");
        assert_eq!(w.as_manager(Method::GET, &w.delegations_path("not-a-uuid")).await, (200, json!([])));

        // The end-user API: a person's token with the API's scope (the portal's is not enough).
        let reader = with_scope(&w.db, &w.manager, READ).await;
        let writer = with_scope(&w.db, &w.manager, WRITE).await;
        let enduser: Vec<(Method, String, &str)> = vec![
            (Method::GET, format!("{ENDUSER}/clients/available?agent={}", w.agent), READ),
            (Method::GET, format!("{ENDUSER}/clients?agent={}", w.agent), READ),
            (Method::POST, format!("{ENDUSER}/clients?agent={}&client={}", w.agent, w.beta), WRITE),
            (Method::DELETE, format!("{ENDUSER}/clients?agent={}&client={}", w.agent, w.alfa), WRITE),
            (Method::GET, format!("{ENDUSER}/agents?party={FIRM}"), READ),
        ];
        for (method, path, scope) in &enduser {
            let what = format!("{method} {path}");
            let wrong_scope = if *scope == READ { &writer } else { &reader };
            assert_eq!(call(&w.server, method.clone(), path, None, None).await.0, 401, "{what} without a token");
            assert_eq!(call(&w.server, method.clone(), path, Some(&vendor_token), None).await.0, 401, "{what} with a vendor's token");
            assert_eq!(call(&w.server, method.clone(), path, Some(&w.manager), None).await.0, 403, "{what} with the portal scope only");
            assert_eq!(call(&w.server, method.clone(), path, Some(wrong_scope), None).await.0, 403, "{what} with the other scope");
            let clerk = with_scope(&w.db, &w.clerk, scope).await;
            assert_eq!(call(&w.server, method.clone(), path, Some(&clerk), None).await.0, 403, "{what} by an employee without authority");
            let other = with_scope(&w.db, &w.other_manager, scope).await;
            assert_eq!(call(&w.server, method.clone(), path, Some(&other), None).await.0, 403, "{what} by another firm's manager");
        }

        // Nothing refused changed anything.
        assert_eq!(w.delegated(&w.agent).await, [ALFA]);
        let (_, agents) = w.as_manager(Method::GET, &format!("{AGENT}/{party}")).await;
        assert_eq!(agents.as_array().unwrap().len(), 2, "{agents}");
        w.server.stop().await;
    }
}

#[tokio::test]
async fn an_agent_with_assignable_packages_serves_its_owner_and_rettighetshaver_clients() {
    use fullmakt_service::grants::{grant_package, Recipient};
    for db in databases().await {
        eprintln!("store: {}", db.name);
        let w = world(db).await;
        let party = w.party();
        const TAX: &str = "urn:altinn:accesspackage:skatt-naering";
        let tax = register_system(&w.server, "tax", |s| {
            s["accessPackages"] = json!([{"urn": TAX}]);
            s["isVisible"] = json!(false);
        })
        .await;
        let writer = api_token(&w.server, VENDOR_ORG, &[REQUEST_WRITE]).await;
        let agent = approved_agent(&w.server, &writer, &tax, &w.firm, "tax-1", TAX, &w.manager).await;

        // The firm gives the agent its packages for itself, and takes them back; client
        // delegations are not touched.
        let own = format!("{AGENT}/{party}/{agent}/self?partyUuid={}", w.firm.party_uuid);
        assert_eq!(w.as_manager(Method::GET, &own).await, (200, json!(false)));
        assert_eq!(w.as_manager(Method::POST, &own).await, (200, json!(true)));
        assert_eq!(w.as_manager(Method::GET, &own).await, (200, json!(true)));
        assert_eq!(w.as_manager(Method::POST, &own).await, (200, json!(true)), "again: nothing new");

        // Beta makes the firm rettighetshaver for the tax package: a client through that
        // relation, next to its REGN relation.
        let beta = w.server.store.find_party(PartyKey::OrgNumber(BETA)).await.unwrap().unwrap();
        grant_package(&w.server.store, fullmakt_domain::Catalogue::embedded(), &beta, &Recipient::Party(w.firm.clone()), TAX).await.unwrap();
        let (_, clients) = w.as_manager(Method::GET, &format!("{AGENT}/{party}/clients?facilitator={}&packages=skatt-naering", w.firm.party_uuid)).await;
        assert_eq!(org_numbers(&clients, "organizationIdentifier"), [BETA]);
        let roles: Vec<&Value> = clients[0]["access"].as_array().unwrap().iter().map(|a| &a["role"]).collect();
        assert_eq!(roles, [&json!("urn:altinn:external-role:ccr:regnskapsforer"), &json!("urn:altinn:role:rettighetshaver")], "{clients}");
        assert_eq!(clients[0]["access"][1]["packages"], json!([TAX]));
        assert_eq!(w.as_manager(Method::POST, &w.delegate_path(&agent, &w.beta)).await.0, 200);
        assert_auth(&w.as_manager(Method::POST, &w.delegate_path(&agent, &w.alfa)).await, 400, "AUTH-00080");
        assert_eq!(w.delegated(&agent).await, [BETA]);

        // Taking back the own packages leaves the client delegation; GET says so.
        assert_eq!(w.as_manager(Method::DELETE, &own).await, (200, json!(true)));
        assert_eq!(w.as_manager(Method::GET, &own).await, (200, json!(false)));
        assert_eq!(w.delegated(&agent).await, [BETA]);
        w.server.stop().await;
    }
}
