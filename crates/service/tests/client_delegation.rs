//! Agent system users and their clients (authentication-api.md §3.10): which clients a firm
//! may delegate, delegation and its refusals, and every way a delegation ends — revoking the
//! client, the ER role or the package that made the client relation, deleting the agent — each
//! visible to the very next PDP decision and token lookup. On SQLite and (with
//! FULLMAKT_TEST_POSTGRES_URL) PostgreSQL.

mod common;

use common::{agent_system, decision_point, resource_with_policy, stores};
use fullmakt_domain::auth_error::ValidationCode;
use fullmakt_domain::{Catalogue, OrganisationNumber, SyntheticNumbers};
use fullmakt_service::access_management::AccessManagement;
use fullmakt_service::admin::{AdminError, Caller};
use fullmakt_service::client_delegation::Customer;
use fullmakt_service::grants::{grant_package, revoke_package, Recipient};
use fullmakt_service::pdp::{Api, DecisionPoint};
use fullmakt_service::register::{add_organisation, add_person, add_role, NewOrganisation, NewPerson, NewRole, RoleHolder};
use fullmakt_service::requests::{self, Approvals, NewRequest, RequestSettings, UserType, REQUEST_WRITE};
use fullmakt_service::{AuthError, StoreSystemUsers, SystemUserLookup, SystemUserQuery};
use fullmakt_store::{ErRoleRow, PartyKey, PartyRow, Store};
use serde_json::json;

const VENDOR: &str = "312000008";
const FIRM: &str = "312000016";
const OTHER_FIRM: &str = "312000024";
/// An AS that registered the firm as its accountant (REGN).
const BAKERY: &str = "312000032";
/// A housing cooperative (BRL): REGN and FFØR.
const COOP: &str = "312000040";
/// An AS that registered the firm as its business manager (FFØR) only: FFØR gives an AS no
/// client package (`forretningsforer-eiendom` is for ESEK and BRL), so it is no client.
const SHOP: &str = "312000059";
/// An AS that made the firm rettighetshaver for `lonn`.
const CARPENTER: &str = "312000067";
/// An AS with no relation to the firm.
const STRANGER: &str = "312000075";
const MANAGER: &str = "15058510170";
const CLERK: &str = "15058510251";
const OTHER_MANAGER: &str = "15058510332";
const AGENT_SYSTEM: &str = "312000008_accounting";
const CLIENT_RESOURCE: &str = "test-klient-lonn";
const PAYROLL: &str = "test-lonn";
const REGNSKAPSFORER_LONN: &str = "urn:altinn:accesspackage:regnskapsforer-lonn";
const FORRETNINGSFORER: &str = "urn:altinn:accesspackage:forretningsforer-eiendom";
const LONN: &str = "urn:altinn:accesspackage:lonn";

struct World {
    store: Store,
    firm: PartyRow,
    other_firm: PartyRow,
    manager: PartyRow,
    clerk: PartyRow,
    other_manager: PartyRow,
    pdp: std::sync::Arc<DecisionPoint>,
    gates: AccessManagement,
    settings: RequestSettings,
    vendor: Caller,
}

async fn party(store: &Store, key: PartyKey<'_>) -> PartyRow {
    store.find_party(key).await.unwrap().unwrap()
}

impl World {
    async fn new(store: Store) -> Self {
        let org = |n: &str, t: &str| NewOrganisation { org_number: n.into(), name: format!("Org {n}"), unit_type: Some(t.into()), ..Default::default() };
        for (n, t) in [(VENDOR, "AS"), (FIRM, "AS"), (OTHER_FIRM, "AS"), (BAKERY, "AS"), (COOP, "BRL"), (SHOP, "AS"), (CARPENTER, "AS"), (STRANGER, "AS")] {
            add_organisation(&store, &org(n, t)).await.unwrap();
        }
        for pid in [MANAGER, CLERK, OTHER_MANAGER] {
            let person = NewPerson { person_identifier: pid.into(), name: pid.into(), ..Default::default() };
            add_person(&store, &person, SyntheticNumbers::Refuse).await.unwrap();
        }
        let roles = [
            (FIRM, "DAGL", RoleHolder::Person(MANAGER.into())),
            (OTHER_FIRM, "DAGL", RoleHolder::Person(OTHER_MANAGER.into())),
            (BAKERY, "REGN", RoleHolder::Organisation(FIRM.into())),
            (COOP, "REGN", RoleHolder::Organisation(FIRM.into())),
            (COOP, "FFØR", RoleHolder::Organisation(FIRM.into())),
            (SHOP, "FFØR", RoleHolder::Organisation(FIRM.into())),
            (CARPENTER, "DAGL", RoleHolder::Person(OTHER_MANAGER.into())),
            (BAKERY, "REGN", RoleHolder::Organisation(OTHER_FIRM.into())),
        ];
        for (unit, role, holder) in roles {
            add_role(&store, &NewRole { unit: unit.into(), role: role.into(), holder }, SyntheticNumbers::Refuse).await.unwrap();
        }
        resource_with_policy(&store, CLIENT_RESOURCE, &[("urn:altinn:accesspackage", "regnskapsforer-lonn")], &["read", "write"]).await;
        resource_with_policy(&store, PAYROLL, &[("urn:altinn:accesspackage", "lonn")], &["read", "write"]).await;
        agent_system(&store, AGENT_SYSTEM, VENDOR, &[REGNSKAPSFORER_LONN, FORRETNINGSFORER, LONN], "accounting-client").await;
        let pdp = decision_point(&store).await;
        let catalogue = Catalogue::embedded();
        let carpenter = party(&store, PartyKey::OrgNumber(CARPENTER)).await;
        let firm = party(&store, PartyKey::OrgNumber(FIRM)).await;
        grant_package(&store, catalogue, &carpenter, &Recipient::Party(firm.clone()), LONN).await.unwrap();
        World {
            firm,
            other_firm: party(&store, PartyKey::OrgNumber(OTHER_FIRM)).await,
            manager: party(&store, PartyKey::PersonIdentifier(MANAGER)).await,
            clerk: party(&store, PartyKey::PersonIdentifier(CLERK)).await,
            other_manager: party(&store, PartyKey::PersonIdentifier(OTHER_MANAGER)).await,
            gates: AccessManagement::new(pdp.clone()),
            pdp,
            settings: RequestSettings::new("http://fullmakt.test", 180),
            vendor: Caller { org: OrganisationNumber::parse(VENDOR).unwrap(), scopes: vec![REQUEST_WRITE.into()], client_id: "accounting-client".into() },
            store,
        }
    }

    fn approvals(&self) -> Approvals<'_> {
        Approvals { store: &self.store, catalogue: Catalogue::embedded(), gates: &self.gates, settings: &self.settings }
    }

    async fn org(&self, orgno: &str) -> PartyRow {
        party(&self.store, PartyKey::OrgNumber(orgno)).await
    }

    /// An agent system user of `owner` with `packages`, from an approved agent request.
    async fn agent(&self, owner: &str, approver: &PartyRow, packages: &[&str]) -> String {
        let input = NewRequest {
            system_id: AGENT_SYSTEM.into(),
            party_org_no: owner.into(),
            external_ref: Some(format!("ref-{}", packages.join("+"))),
            access_packages: Some(packages.iter().map(|urn| serde_json::from_value(json!({"urn": urn})).unwrap()).collect()),
            ..Default::default()
        };
        let (view, _) = requests::create(&self.store, Catalogue::embedded(), &self.settings, &self.vendor, UserType::Agent, input).await.unwrap();
        let owner = self.org(owner).await;
        self.approvals().approve(approver, owner.party_id, UserType::Agent, &view.id).await.unwrap();
        view.id
    }

    async fn customers(&self, packages: &[&str]) -> Vec<String> {
        let packages: Vec<String> = packages.iter().map(|p| p.to_string()).collect();
        let found = self.approvals().customers(&self.manager, self.firm.party_id, &self.firm.party_uuid, &packages).await.unwrap();
        names(&found)
    }

    async fn delegate(&self, agent: &str, client: &str) -> Result<(), AuthError> {
        let client = self.org(client).await;
        self.approvals().delegate_client(&self.manager, self.firm.party_id, agent, &self.firm.party_uuid, &client.party_uuid).await.map(|_| ())
    }

    /// The PDP's answer for the system user reading `resource` for the party `orgno`.
    async fn decision(&self, system_user: &str, resource: &str, orgno: &str) -> String {
        let request = json!({"Request": {
            "AccessSubject": [{"Attribute": [{"AttributeId": "urn:altinn:systemuser:uuid", "Value": system_user}]}],
            "Action": [{"Attribute": [{"AttributeId": "urn:oasis:names:tc:xacml:1.0:action:action-id", "Value": "read"}]}],
            "Resource": [{"Attribute": [
                {"AttributeId": "urn:altinn:resource", "Value": resource},
                {"AttributeId": "urn:altinn:organization:identifier-no", "Value": orgno}
            ]}]
        }});
        let request = fullmakt_xacml::parse_request_json(&request.to_string()).unwrap();
        let now = fullmakt_xacml::DateTime::from_unix(fullmakt_service::clock::now(), 0);
        format!("{:?}", self.pdp.decide(&request, Api::Decision, now, false).await[0].result.decision)
    }

    /// The token service's lookup: the agent is found under its owner, the facilitator.
    async fn token_lookup(&self, external_ref: &str) -> Option<String> {
        let query = SystemUserQuery {
            client_id: "accounting-client".into(),
            vendor: OrganisationNumber::parse(VENDOR).unwrap(),
            owner: OrganisationNumber::parse(FIRM).unwrap(),
            external_ref: external_ref.into(),
        };
        StoreSystemUsers::new(self.store.clone()).find(&query).await.unwrap().map(|m| m.id)
    }
}

fn names(customers: &[Customer]) -> Vec<String> {
    let mut out: Vec<String> = customers.iter().map(|c| c.party.org_number.clone().unwrap_or_default()).collect();
    out.sort();
    out
}

fn code(e: AuthError) -> String {
    match e {
        AuthError::Problem(p) => p.code.code().to_owned(),
        AuthError::Validation(v) => v.iter().map(|e| format!("{}{}", e.code.code(), e.paths.join(""))).collect::<Vec<_>>().join(","),
        AuthError::Admin(AdminError::Forbidden(_)) => "403".into(),
        AuthError::Admin(AdminError::NotFound(m)) => format!("404 {m}"),
        AuthError::Admin(AdminError::Invalid(_)) => "400 return".into(),
        other => format!("{other:?}"),
    }
}

#[tokio::test]
async fn the_customer_list_follows_client_roles_entity_variants_and_rettighetshaver_packages() {
    for (store, _dir) in stores().await {
        let w = World::new(store).await;
        let sorted = |v: &[&str]| {
            let mut v: Vec<String> = v.iter().map(|s| s.to_string()).collect();
            v.sort();
            v
        };
        assert_eq!(w.customers(&[]).await, sorted(&[BAKERY, COOP, CARPENTER]), "the FFØR of an AS makes no client");
        assert_eq!(w.customers(&["regnskapsforer-lonn"]).await, sorted(&[BAKERY, COOP]));
        assert_eq!(w.customers(&[FORRETNINGSFORER]).await, sorted(&[COOP]), "forretningsforer-eiendom only from a BRL or ESEK");
        assert_eq!(w.customers(&["lonn"]).await, sorted(&[CARPENTER]));
        assert_eq!(w.customers(&["regnskapsforer-lonn", "forretningsforer-eiendom"]).await, sorted(&[COOP]));
        assert!(w.customers(&["no-such-package"]).await.is_empty());

        let all = w.approvals().customers(&w.manager, w.firm.party_id, &w.firm.party_uuid, &[]).await.unwrap();
        let coop = all.iter().find(|c| c.party.org_number.as_deref() == Some(COOP)).unwrap();
        let roles: Vec<&str> = coop.access.iter().map(|a| a.role_urn.as_str()).collect();
        assert!(roles.contains(&"urn:altinn:external-role:ccr:regnskapsforer"), "{roles:?}");
        assert!(roles.contains(&"urn:altinn:external-role:ccr:forretningsforer"), "{roles:?}");
        let carpenter = all.iter().find(|c| c.party.org_number.as_deref() == Some(CARPENTER)).unwrap();
        assert_eq!(carpenter.access[0].role_urn, "urn:altinn:role:rettighetshaver");

        // The list is the firm's own: another firm's uuid, a clerk and another firm's manager are refused.
        let other = w.approvals().customers(&w.manager, w.firm.party_id, &w.other_firm.party_uuid, &[]).await.unwrap_err();
        assert_eq!(code(other), "AUTH-00044");
        let clerk = w.approvals().customers(&w.clerk, w.firm.party_id, &w.firm.party_uuid, &[]).await.unwrap_err();
        assert_eq!(code(clerk), "403");
        let outsider = w.approvals().customers(&w.other_manager, w.firm.party_id, &w.firm.party_uuid, &[]).await.unwrap_err();
        assert_eq!(code(outsider), "403");
    }
}

#[tokio::test]
async fn a_delegated_client_is_permitted_and_each_revocation_ends_it_at_the_next_decision() {
    for (store, _dir) in stores().await {
        let w = World::new(store).await;
        let agent = w.agent(FIRM, &w.manager, &[REGNSKAPSFORER_LONN]).await;
        let (_, available) = w.approvals().available_clients(&w.manager, w.firm.party_id, &agent).await.unwrap();
        assert_eq!(names(&available), vec![BAKERY.to_owned(), COOP.to_owned()]);
        assert_eq!(w.decision(&agent, CLIENT_RESOURCE, BAKERY).await, "NotApplicable");

        w.delegate(&agent, BAKERY).await.unwrap();
        w.delegate(&agent, BAKERY).await.unwrap();
        w.delegate(&agent, COOP).await.unwrap();
        assert_eq!(w.decision(&agent, CLIENT_RESOURCE, BAKERY).await, "Permit");
        assert_eq!(w.decision(&agent, CLIENT_RESOURCE, COOP).await, "Permit");
        assert_eq!(w.decision(&agent, CLIENT_RESOURCE, STRANGER).await, "NotApplicable");
        assert_eq!(w.decision(&agent, CLIENT_RESOURCE, FIRM).await, "NotApplicable", "the firm's own role packages do not flow to the agent");
        let delegated = w.approvals().delegated_clients(&w.manager, w.firm.party_id, &w.firm.party_uuid, &agent).await.unwrap();
        assert_eq!(delegated.len(), 2, "delegating twice is one delegation");

        // Revoking the client.
        let bakery = w.org(BAKERY).await;
        w.approvals().revoke_client(&w.manager, w.firm.party_id, &agent, &w.firm.party_uuid, &bakery.party_uuid).await.unwrap();
        assert_eq!(w.decision(&agent, CLIENT_RESOURCE, BAKERY).await, "NotApplicable");
        let again = w.approvals().revoke_client(&w.manager, w.firm.party_id, &agent, &w.firm.party_uuid, &bakery.party_uuid).await.unwrap_err();
        assert_eq!(code(again), "AUTH-00038");

        // Revoking the ER role that made the client relation.
        assert_eq!(w.decision(&agent, CLIENT_RESOURCE, COOP).await, "Permit");
        let coop = w.org(COOP).await;
        let mut tx = w.store.begin_write().await.unwrap();
        assert!(tx.delete_er_role(&ErRoleRow { from_party_id: coop.party_id, role_code: "regnskapsforer".into(), to_party_id: w.firm.party_id }).await.unwrap());
        tx.commit().await.unwrap();
        assert_eq!(w.decision(&agent, CLIENT_RESOURCE, COOP).await, "NotApplicable");
        let refused = w.delegate(&agent, COOP).await.unwrap_err();
        assert_eq!(code(refused), "AUTH-00080", "the cooperative now gives only forretningsforer-eiendom");

        // Deleting the agent: the next token lookup finds nothing, and neither does the PDP.
        w.delegate(&agent, BAKERY).await.unwrap();
        assert_eq!(w.decision(&agent, CLIENT_RESOURCE, BAKERY).await, "Permit");
        let external_ref = format!("ref-{REGNSKAPSFORER_LONN}");
        assert_eq!(w.token_lookup(&external_ref).await.as_deref(), Some(agent.as_str()));
        let wrong = w.approvals().delete_agent(&w.manager, w.firm.party_id, &agent, &w.other_firm.party_uuid).await.unwrap_err();
        assert_eq!(code(wrong), "AUTH-00039");
        assert_eq!(w.decision(&agent, CLIENT_RESOURCE, BAKERY).await, "Permit", "a refused delete changes nothing");
        w.approvals().delete_agent(&w.manager, w.firm.party_id, &agent, &w.firm.party_uuid).await.unwrap();
        assert_eq!(w.decision(&agent, CLIENT_RESOURCE, BAKERY).await, "NotApplicable");
        assert_eq!(w.token_lookup(&external_ref).await, None);
        assert!(w.store.clients_of_agent(&agent).await.unwrap().is_empty(), "the delegations went with the agent");
        let gone = w.approvals().delete_agent(&w.manager, w.firm.party_id, &agent, &w.firm.party_uuid).await.unwrap_err();
        assert_eq!(code(gone), "AUTH-00015");
        // The vendor may ask again: the request went with the agent.
        let again = w.agent(FIRM, &w.manager, &[REGNSKAPSFORER_LONN]).await;
        assert_ne!(again, agent);
    }
}

#[tokio::test]
async fn revoking_the_package_a_client_gave_as_rettighetshaver_ends_the_delegation() {
    for (store, _dir) in stores().await {
        let w = World::new(store).await;
        let agent = w.agent(FIRM, &w.manager, &[LONN]).await;
        w.delegate(&agent, CARPENTER).await.unwrap();
        assert_eq!(w.decision(&agent, PAYROLL, CARPENTER).await, "Permit");
        let carpenter = w.org(CARPENTER).await;
        revoke_package(&w.store, Catalogue::embedded(), &carpenter, &Recipient::Party(w.firm.clone()), LONN).await.unwrap();
        assert_eq!(w.decision(&agent, PAYROLL, CARPENTER).await, "NotApplicable");
        let (_, available) = w.approvals().available_clients(&w.manager, w.firm.party_id, &agent).await.unwrap();
        assert!(available.is_empty());
    }
}

#[tokio::test]
async fn delegation_refusals_name_the_reason_and_change_nothing() {
    for (store, _dir) in stores().await {
        let w = World::new(store).await;
        let agent = w.agent(FIRM, &w.manager, &[REGNSKAPSFORER_LONN]).await;
        let stranger = w.org(STRANGER).await;
        let refused = |e: AuthError| code(e);
        assert_eq!(refused(w.delegate(&agent, STRANGER).await.unwrap_err()), "AUTH-00079");
        assert_eq!(refused(w.delegate(&agent, SHOP).await.unwrap_err()), "AUTH-00079", "no client package, no client");
        assert_eq!(refused(w.delegate(&agent, CARPENTER).await.unwrap_err()), "AUTH-00080");
        let malformed = w.approvals().delegate_client(&w.manager, w.firm.party_id, &agent, &w.firm.party_uuid, "not-a-uuid").await.unwrap_err();
        assert_eq!(refused(malformed), "AUTH-00079");
        let unknown = w.approvals().delegate_client(&w.manager, w.firm.party_id, &uuid::Uuid::new_v4().to_string(), &w.firm.party_uuid, &stranger.party_uuid).await;
        assert_eq!(refused(unknown.unwrap_err()), "AUTH-00015");
        let clerk = w.approvals().delegate_client(&w.clerk, w.firm.party_id, &agent, &w.firm.party_uuid, &stranger.party_uuid).await;
        assert_eq!(refused(clerk.unwrap_err()), "403");

        // Another firm's agent, through this firm's party: not this firm's (AUTH-00024); through
        // its own party, by this firm's manager: no client administration there (403).
        let others = w.agent(OTHER_FIRM, &w.other_manager, &[REGNSKAPSFORER_LONN]).await;
        let bakery = w.org(BAKERY).await;
        let foreign = w.approvals().delegate_client(&w.manager, w.firm.party_id, &others, &w.firm.party_uuid, &bakery.party_uuid).await;
        assert_eq!(refused(foreign.unwrap_err()), "AUTH-00024");
        let cross = w.approvals().delegate_client(&w.manager, w.other_firm.party_id, &others, &w.other_firm.party_uuid, &bakery.party_uuid).await;
        assert_eq!(refused(cross.unwrap_err()), "403");
        assert!(w.store.clients_of_agent(&agent).await.unwrap().is_empty());
        assert!(w.store.clients_of_agent(&others).await.unwrap().is_empty());
        // The bakery is the other firm's client too: each firm delegates only to its own agents.
        w.approvals().delegate_client(&w.other_manager, w.other_firm.party_id, &others, &w.other_firm.party_uuid, &bakery.party_uuid).await.unwrap();
        assert_eq!(w.decision(&others, CLIENT_RESOURCE, BAKERY).await, "Permit");
        assert_eq!(w.decision(&agent, CLIENT_RESOURCE, BAKERY).await, "NotApplicable");
    }
}

#[tokio::test]
async fn the_own_organisation_is_added_only_with_assignable_packages() {
    for (store, _dir) in stores().await {
        let w = World::new(store).await;
        let (party, uuid) = (w.firm.party_id, w.firm.party_uuid.clone());
        let client_only = w.agent(FIRM, &w.manager, &[REGNSKAPSFORER_LONN]).await;
        let e = w.approvals().add_own_organisation(&w.manager, party, &client_only, &uuid).await.unwrap_err();
        assert_eq!(code(e), "AUTH-00064");

        let ordinary = w.agent(FIRM, &w.manager, &[LONN]).await;
        assert!(!w.approvals().has_own_organisation(&w.manager, party, &ordinary, &uuid).await.unwrap());
        assert_eq!(w.decision(&ordinary, PAYROLL, FIRM).await, "NotApplicable");
        let e = w.approvals().add_own_organisation(&w.manager, party, &ordinary, &w.other_firm.party_uuid).await.unwrap_err();
        assert_eq!(code(e), "403");
        let e = w.approvals().add_own_organisation(&w.manager, party, &ordinary, "nope").await.unwrap_err();
        assert_eq!(code(e), "AUTH-00049");
        let e = w.approvals().add_own_organisation(&w.clerk, party, &ordinary, &uuid).await.unwrap_err();
        assert_eq!(code(e), "403");

        w.approvals().add_own_organisation(&w.manager, party, &ordinary, &uuid).await.unwrap();
        assert!(w.approvals().has_own_organisation(&w.manager, party, &ordinary, &uuid).await.unwrap());
        assert_eq!(w.decision(&ordinary, PAYROLL, FIRM).await, "Permit");
        w.delegate(&ordinary, CARPENTER).await.unwrap();
        w.approvals().remove_own_organisation(&w.manager, party, &ordinary, &uuid).await.unwrap();
        w.approvals().remove_own_organisation(&w.manager, party, &ordinary, &uuid).await.unwrap();
        assert!(!w.approvals().has_own_organisation(&w.manager, party, &ordinary, &uuid).await.unwrap());
        assert_eq!(w.decision(&ordinary, PAYROLL, FIRM).await, "NotApplicable");
        assert_eq!(w.decision(&ordinary, PAYROLL, CARPENTER).await, "Permit", "client delegations stay");
    }
}

#[tokio::test]
async fn the_end_user_api_finds_the_owner_through_the_agent() {
    for (store, _dir) in stores().await {
        let w = World::new(store).await;
        let agent = w.agent(FIRM, &w.manager, &[REGNSKAPSFORER_LONN]).await;
        let a = w.approvals();
        let e = a.enduser_change_client(&w.manager, None, None, true).await.unwrap_err();
        assert_eq!(code(e), "AUTH.VLD-00014?agent,AUTH.VLD-00016?client");
        let e = a.enduser_change_client(&w.manager, Some(&agent), Some("x"), true).await.unwrap_err();
        assert_eq!(code(e), "AUTH.VLD-00016?client");
        let e = a.enduser_available_clients(&w.manager, Some(&uuid::Uuid::new_v4().to_string())).await.unwrap_err();
        assert!(matches!(&e, AuthError::Validation(v) if v[0].code == ValidationCode::SystemUserIdNotFound), "{e:?}");
        let e = a.enduser_available_clients(&w.other_manager, Some(&agent)).await.unwrap_err();
        assert_eq!(code(e), "403");

        let (found, available) = a.enduser_available_clients(&w.manager, Some(&agent.to_uppercase())).await.unwrap();
        assert_eq!(found.owner.party_id, w.firm.party_id);
        assert_eq!(names(&available), vec![BAKERY.to_owned(), COOP.to_owned()]);
        let bakery = w.org(BAKERY).await;
        let (_, client) = a.enduser_change_client(&w.manager, Some(&agent), Some(&bakery.party_uuid), true).await.unwrap();
        assert_eq!(client.org_number.as_deref(), Some(BAKERY));
        let (_, delegated) = a.enduser_delegated_clients(&w.manager, Some(&agent)).await.unwrap();
        assert_eq!(delegated.len(), 1);
        assert_eq!(w.decision(&agent, CLIENT_RESOURCE, BAKERY).await, "Permit");
        a.enduser_change_client(&w.manager, Some(&agent), Some(&bakery.party_uuid), false).await.unwrap();
        assert_eq!(w.decision(&agent, CLIENT_RESOURCE, BAKERY).await, "NotApplicable");

        let agents = a.enduser_agents(&w.manager, FIRM).await.unwrap();
        assert_eq!(agents.iter().map(|v| v.row.id.as_str()).collect::<Vec<_>>(), vec![agent.as_str()]);
        assert_eq!(code(a.enduser_agents(&w.manager, STRANGER).await.unwrap_err()), "403");
        assert_eq!(code(a.enduser_agents(&w.manager, "999999999").await.unwrap_err()), "404 Party not found");
    }
}
