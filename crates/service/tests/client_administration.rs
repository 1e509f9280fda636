//! Access Management's client API as use cases: a facilitator's client administrator takes on
//! agents and delegates, per client relation, the packages a client gave the firm; the PDP
//! permits the agent for exactly those clients until a delegation, the agent or the relation
//! goes. Every refused write changes nothing. On SQLite and (with FULLMAKT_TEST_POSTGRES_URL)
//! PostgreSQL.

mod common;

use std::sync::Arc;

use common::{agent_system, decision_point, resource_with_policy, stores};
use fullmakt_domain::{Catalogue, OrganisationNumber, SyntheticNumbers};
use fullmakt_service::access_management::AccessManagement;
use fullmakt_service::admin::Caller;
use fullmakt_service::client_administration::{AgentParty, PackageBatch};
use fullmakt_service::grants::{grant_package, Recipient};
use fullmakt_service::pdp::{Api, DecisionPoint};
use fullmakt_service::register::{add_organisation, add_person, add_role, NewOrganisation, NewPerson, NewRole, RoleHolder};
use fullmakt_service::requests::{self, Approvals, NewRequest, RequestSettings, UserType, REQUEST_WRITE};
use fullmakt_service::AdminError;
use fullmakt_store::{PartyKey, PartyRow, Store};
use serde_json::json;

const VENDOR: &str = "314240979";
/// The accounting firm (facilitator).
const FIRM: &str = "310000019";
/// Another accounting firm.
const OTHER_FIRM: &str = "313000001";
/// A client through the ER role REGN.
const CLIENT: &str = "311000004";
/// A client through rettighetshaver (it gave the firm `lonn`).
const GIVER: &str = "312000008";
const FIRM_ADMIN: &str = "01010012356";
const OTHER_ADMIN: &str = "08089410003";
const EMPLOYEE: &str = "17054026641";
const PAYROLL: &str = "test-lonnsrapport";
const SYSTEM: &str = "314240979_accounting";
const REGN: &str = "urn:altinn:external-role:ccr:regnskapsforer";
const RIGHTHOLDER: &str = "urn:altinn:role:rettighetshaver";
const LONN: &str = "urn:altinn:accesspackage:regnskapsforer-lonn";

struct World {
    store: Store,
    firm: PartyRow,
    client: PartyRow,
    giver: PartyRow,
    admin: PartyRow,
    other_admin: PartyRow,
    employee: PartyRow,
    pdp: Arc<DecisionPoint>,
    gates: AccessManagement,
    settings: RequestSettings,
    vendor: Caller,
}

impl World {
    async fn new(store: Store) -> Self {
        let org = |n: &str| NewOrganisation { org_number: n.into(), name: format!("org {n}"), unit_type: Some("AS".into()), ..Default::default() };
        for n in [VENDOR, FIRM, OTHER_FIRM, CLIENT, GIVER] {
            add_organisation(&store, &org(n)).await.unwrap();
        }
        for pid in [FIRM_ADMIN, OTHER_ADMIN, EMPLOYEE] {
            add_person(&store, &NewPerson { person_identifier: pid.into(), name: format!("person {pid}"), ..Default::default() }, SyntheticNumbers::Refuse)
                .await
                .unwrap();
        }
        for (unit, pid) in [(FIRM, FIRM_ADMIN), (OTHER_FIRM, OTHER_ADMIN)] {
            add_role(&store, &NewRole { unit: unit.into(), role: "daglig-leder".into(), holder: RoleHolder::Person(pid.into()) }, SyntheticNumbers::Refuse)
                .await
                .unwrap();
        }
        add_role(&store, &NewRole { unit: CLIENT.into(), role: "regnskapsforer".into(), holder: RoleHolder::Organisation(FIRM.into()) }, SyntheticNumbers::Refuse)
            .await
            .unwrap();
        let find = |key: &'static str| {
            let store = store.clone();
            async move {
                let k = if key.len() == 9 { PartyKey::OrgNumber(key) } else { PartyKey::PersonIdentifier(key) };
                store.find_party(k).await.unwrap().unwrap()
            }
        };
        let (firm, giver) = (find(FIRM).await, find(GIVER).await);
        grant_package(&store, Catalogue::embedded(), &giver, &Recipient::Party(firm.clone()), "urn:altinn:accesspackage:lonn").await.unwrap();

        let subjects = [("urn:altinn:accesspackage", "regnskapsforer-lonn"), ("urn:altinn:accesspackage", "lonn")];
        resource_with_policy(&store, PAYROLL, &subjects, &["read"]).await;
        agent_system(&store, SYSTEM, VENDOR, &[LONN, "urn:altinn:accesspackage:lonn"], "accounting-client").await;
        let pdp = decision_point(&store).await;
        World {
            client: find(CLIENT).await,
            admin: find(FIRM_ADMIN).await,
            other_admin: find(OTHER_ADMIN).await,
            employee: find(EMPLOYEE).await,
            firm,
            giver,
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

    /// A system user of `kind` for the organisation, approved by its managing director.
    async fn system_user(&self, org_no: &str, kind: UserType, package: &str, approver: &PartyRow) -> String {
        let input = NewRequest {
            system_id: SYSTEM.into(),
            party_org_no: org_no.into(),
            external_ref: Some(format!("{kind:?}")),
            access_packages: Some(serde_json::from_value(json!([{"urn": package}])).unwrap()),
            ..Default::default()
        };
        let (view, _) = requests::create(&self.store, Catalogue::embedded(), &self.settings, &self.vendor, kind, input).await.unwrap();
        let party = self.store.find_party(PartyKey::OrgNumber(org_no)).await.unwrap().unwrap();
        self.approvals().approve(approver, party.party_id, kind, &view.id).await.unwrap();
        view.id
    }

    /// The PDP's answer for `subject` (a system user id, or a person) reading payroll for `party`.
    async fn decision(&self, subject: &str, party: &PartyRow) -> String {
        let (id, value) = match uuid::Uuid::parse_str(subject) {
            Ok(_) => ("urn:altinn:systemuser:uuid", subject.to_owned()),
            Err(_) => ("urn:altinn:userid", subject.to_owned()),
        };
        let request = json!({"Request": {
            "AccessSubject": [{"Attribute": [{"AttributeId": id, "Value": value}]}],
            "Action": [{"Attribute": [{"AttributeId": "urn:oasis:names:tc:xacml:1.0:action:action-id", "Value": "read"}]}],
            "Resource": [{"Attribute": [
                {"AttributeId": "urn:altinn:resource", "Value": PAYROLL},
                {"AttributeId": "urn:altinn:organization:identifier-no", "Value": party.org_number.clone().unwrap()}
            ]}]
        }});
        let request = fullmakt_xacml::parse_request_json(&request.to_string()).unwrap();
        let now = fullmakt_xacml::DateTime::from_unix(fullmakt_service::clock::now(), 0);
        format!("{:?}", self.pdp.decide(&request, Api::Decision, now, false).await[0].result.decision)
    }

    async fn sequence(&self) -> i64 {
        self.store.change_sequence().await.unwrap()
    }
}

fn batch(role: &str, packages: &[&str]) -> Vec<PackageBatch> {
    vec![PackageBatch { role: role.into(), packages: packages.iter().map(|p| p.to_string()).collect() }]
}

fn bad_request(e: AdminError, contains: &str) {
    match e {
        AdminError::BadRequest(m) => assert!(m.contains(contains), "{m:?} should say {contains:?}"),
        other => panic!("expected 400 saying {contains:?}, got {other:?}"),
    }
}

#[tokio::test]
async fn delegated_packages_permit_the_agent_for_that_client_until_each_kind_of_revocation() {
    for (store, _dir) in stores().await {
        let w = World::new(store).await;
        let a = w.approvals();
        let (admin, firm) = (&w.admin, w.firm.party_uuid.as_str());
        let agent = w.system_user(FIRM, UserType::Agent, LONN, admin).await;
        let client = w.client.party_uuid.as_str();

        // The clients: REGN gives the three accountant packages, rettighetshaver `lonn`.
        let clients = a.facilitator_clients(admin, firm, &[], &[]).await.unwrap();
        let names: Vec<&str> = clients.iter().map(|c| c.party.org_number.as_deref().unwrap()).collect();
        assert_eq!(names, [CLIENT, GIVER]);
        assert_eq!(clients[0].access[0].role_urn, REGN);
        assert_eq!(clients[0].access[0].packages.len(), 3);
        assert_eq!(clients[1].access[0].role_code, "rettighetshaver");
        let regn_only = a.facilitator_clients(admin, firm, &["regnskapsforer".into()], &[]).await.unwrap();
        assert_eq!(regn_only.len(), 1);
        let lonn = a.facilitator_clients(admin, firm, &[], &["lonn".into()]).await.unwrap();
        assert_eq!(lonn.iter().map(|c| c.party.party_id).collect::<Vec<_>>(), [w.giver.party_id]);
        bad_request(a.facilitator_clients(admin, firm, &["no-such-role".into()], &[]).await.unwrap_err(), "not a role");
        bad_request(a.facilitator_clients(admin, firm, &[], &["no-such-package".into()]).await.unwrap_err(), "not an access package");

        // Delegating takes the agent on; again changes nothing.
        assert_eq!(w.decision(&agent, &w.client).await, "NotApplicable");
        let first = a.delegate_agent_packages(admin, firm, client, &agent, &batch(REGN, &[LONN])).await.unwrap();
        assert_eq!(first.len(), 1);
        assert!(first[0].changed);
        assert_eq!((first[0].from_id.as_str(), first[0].via_id.as_str(), first[0].to_id.as_str()), (client, firm, agent.as_str()));
        assert_eq!(first[0].package_id, Catalogue::embedded().package_by_urn(LONN).unwrap().id);
        assert_eq!(first[0].role_id, Catalogue::embedded().role(REGN).unwrap().id);
        let again = a.delegate_agent_packages(admin, firm, client, &agent, &batch(REGN, &[LONN])).await.unwrap();
        assert!(!again[0].changed);
        assert_eq!(w.decision(&agent, &w.client).await, "Permit");
        assert_eq!(w.decision(&agent, &w.giver).await, "NotApplicable", "only the delegated client");
        let agents = a.facilitator_agents(admin, firm).await.unwrap();
        assert!(matches!(&agents[..], [x] if x.agent.uuid() == agent && x.access[0].role_code == "agent"));
        let of_agent = a.agent_client_packages(admin, firm, &agent).await.unwrap();
        assert_eq!((of_agent.len(), of_agent[0].party.party_id, of_agent[0].access[0].packages.len()), (1, w.client.party_id, 1));
        let of_client = a.client_agent_packages(admin, firm, client).await.unwrap();
        assert!(matches!(&of_client[..], [x] if matches!(&x.agent, AgentParty::SystemUser(r) if r.id == agent)));

        // Revoking the package: NotApplicable at once, and the empty delegation is gone.
        let revoked = a.revoke_agent_packages(admin, firm, client, &agent, &batch(REGN, &[LONN])).await.unwrap();
        assert!(revoked[0].changed);
        assert_eq!(w.decision(&agent, &w.client).await, "NotApplicable");
        assert!(a.agent_client_packages(admin, firm, &agent).await.unwrap().is_empty());
        assert!(!a.revoke_agent_packages(admin, firm, client, &agent, &batch(REGN, &[LONN])).await.unwrap()[0].changed);

        // Removing the client.
        a.delegate_agent_packages(admin, firm, client, &agent, &batch(REGN, &[LONN])).await.unwrap();
        assert_eq!(w.decision(&agent, &w.client).await, "Permit");
        a.remove_agent_client(admin, firm, client, &agent).await.unwrap();
        assert_eq!(w.decision(&agent, &w.client).await, "NotApplicable");
        assert!(matches!(a.remove_agent_client(admin, firm, client, &agent).await, Err(AdminError::NotFound(_))));

        // Removing the agent: refused while it holds delegations, unless cascading.
        a.delegate_agent_packages(admin, firm, client, &agent, &batch(REGN, &[LONN])).await.unwrap();
        let before = w.sequence().await;
        bad_request(a.remove_facilitator_agent(admin, firm, &agent, false).await.unwrap_err(), "cascade=true");
        assert_eq!(w.sequence().await, before, "a refused removal writes nothing");
        assert_eq!(w.decision(&agent, &w.client).await, "Permit");
        a.remove_facilitator_agent(admin, firm, &agent, true).await.unwrap();
        assert_eq!(w.decision(&agent, &w.client).await, "NotApplicable");
        assert!(a.facilitator_agents(admin, firm).await.unwrap().is_empty());
        assert!(a.agent_client_packages(admin, firm, &agent).await.unwrap().is_empty());
        assert!(matches!(a.remove_facilitator_agent(admin, firm, &agent, true).await, Err(AdminError::NotFound(_))));

        // The ER role going revokes what it gave.
        a.delegate_agent_packages(admin, firm, client, &agent, &batch(REGN, &[LONN])).await.unwrap();
        assert_eq!(w.decision(&agent, &w.client).await, "Permit");
        let mut tx = w.store.begin_write().await.unwrap();
        let role = fullmakt_store::ErRoleRow { from_party_id: w.client.party_id, role_code: "regnskapsforer".into(), to_party_id: w.firm.party_id };
        tx.delete_er_role(&role).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(w.decision(&agent, &w.client).await, "NotApplicable");
        w.store.close().await;
    }
}

#[tokio::test]
async fn a_person_is_an_agent_once_taken_on_and_rettighetshaver_packages_pass_on() {
    for (store, _dir) in stores().await {
        let w = World::new(store).await;
        let a = w.approvals();
        let (admin, firm) = (&w.admin, w.firm.party_uuid.as_str());
        let (giver, employee) = (w.giver.party_uuid.as_str(), w.employee.party_uuid.as_str());
        let values = batch(RIGHTHOLDER, &["lonn"]);
        let who = w.employee.party_id.to_string();

        let before = w.sequence().await;
        bad_request(a.delegate_agent_packages(admin, firm, giver, employee, &values).await.unwrap_err(), "add the agent first");
        assert_eq!(w.sequence().await, before);
        let assignment = a.add_facilitator_agent(admin, firm, employee).await.unwrap();
        assert_eq!((assignment.from_id.as_str(), assignment.to_id.as_str()), (firm, employee));
        assert_eq!(a.add_facilitator_agent(admin, firm, employee).await.unwrap().id, assignment.id, "taking on twice is the same assignment");
        assert_eq!(w.decision(&who, &w.giver).await, "NotApplicable");
        let done = a.delegate_agent_packages(admin, firm, giver, employee, &values).await.unwrap();
        assert!(done[0].changed);
        assert_eq!(w.decision(&who, &w.giver).await, "Permit");
        let listed = a.facilitator_agents(admin, firm).await.unwrap();
        assert!(matches!(&listed[..], [x] if matches!(&x.agent, AgentParty::Person(p) if p.party_id == w.employee.party_id)));

        // The client taking its package back from the firm revokes the agent's too.
        fullmakt_service::grants::revoke_package(&w.store, Catalogue::embedded(), &w.giver, &Recipient::Party(w.firm.clone()), "lonn").await.unwrap();
        assert_eq!(w.decision(&who, &w.giver).await, "NotApplicable");
        grant_package(&w.store, Catalogue::embedded(), &w.giver, &Recipient::Party(w.firm.clone()), "lonn").await.unwrap();
        assert_eq!(w.decision(&who, &w.giver).await, "Permit", "the delegation stands while its chain does");
        a.remove_facilitator_agent(admin, firm, employee, true).await.unwrap();
        assert_eq!(w.decision(&who, &w.giver).await, "NotApplicable");
        w.store.close().await;
    }
}

#[tokio::test]
async fn every_refusal_says_why_and_changes_nothing() {
    for (store, _dir) in stores().await {
        let w = World::new(store).await;
        let a = w.approvals();
        let (admin, firm, client) = (&w.admin, w.firm.party_uuid.clone(), w.client.party_uuid.clone());
        let (firm, client) = (firm.as_str(), client.as_str());
        let agent = w.system_user(FIRM, UserType::Agent, LONN, admin).await;
        let standard = w.system_user(FIRM, UserType::Standard, "urn:altinn:accesspackage:lonn", admin).await;
        let foreign = w.system_user(OTHER_FIRM, UserType::Agent, LONN, &w.other_admin).await;
        let before = w.sequence().await;
        let delegate = |person: &'static str, party: String, from: String, to: String, values: Vec<PackageBatch>| {
            let a = w.approvals();
            let person = match person {
                "admin" => w.admin.clone(),
                "other" => w.other_admin.clone(),
                _ => w.employee.clone(),
            };
            async move { a.delegate_agent_packages(&person, &party, &from, &to, &values).await.unwrap_err() }
        };
        let ok = || batch(REGN, &[LONN]);

        // The caller: no klientadministrator for the party, or another firm's administrator.
        assert!(matches!(delegate("employee", firm.into(), client.into(), agent.clone(), ok()).await, AdminError::Forbidden(_)));
        assert!(matches!(delegate("other", firm.into(), client.into(), agent.clone(), ok()).await, AdminError::Forbidden(_)));
        assert!(matches!(a.facilitator_clients(&w.employee, firm, &[], &[]).await, Err(AdminError::Forbidden(_))));
        assert!(matches!(a.facilitator_agents(&w.other_admin, firm).await, Err(AdminError::Forbidden(_))));
        // The other firm's administrator on their own party cannot reach this firm's client.
        bad_request(delegate("other", w.store.find_party(PartyKey::OrgNumber(OTHER_FIRM)).await.unwrap().unwrap().party_uuid, client.into(), foreign.clone(), ok()).await, "has not registered");
        // Ids.
        bad_request(delegate("admin", "not-a-uuid".into(), client.into(), agent.clone(), ok()).await, "party must be a UUID");
        bad_request(delegate("admin", firm.into(), "x".into(), agent.clone(), ok()).await, "from must be a UUID");
        bad_request(delegate("admin", firm.into(), client.into(), "y".into(), ok()).await, "to must be a UUID");
        let unknown = uuid::Uuid::new_v4().to_string();
        assert!(matches!(delegate("admin", unknown.clone(), client.into(), agent.clone(), ok()).await, AdminError::NotFound(_)));
        assert!(matches!(delegate("admin", firm.into(), unknown.clone(), agent.clone(), ok()).await, AdminError::NotFound(_)));
        assert!(matches!(delegate("admin", firm.into(), client.into(), unknown.clone(), ok()).await, AdminError::NotFound(_)));
        bad_request(delegate("admin", firm.into(), firm.into(), agent.clone(), ok()).await, "not its own client");
        // Agents: a standard system user, another firm's agent, an organisation.
        bad_request(delegate("admin", firm.into(), client.into(), standard.clone(), ok()).await, "standard system user");
        bad_request(delegate("admin", firm.into(), client.into(), foreign.clone(), ok()).await, "another organisation");
        bad_request(delegate("admin", firm.into(), client.into(), w.giver.party_uuid.clone(), ok()).await, "is an organisation");
        bad_request(a.add_facilitator_agent(admin, firm, &standard).await.unwrap_err(), "standard system user");
        bad_request(a.add_facilitator_agent(admin, firm, &foreign).await.unwrap_err(), "another organisation");
        // The batch: empty, unknown role or package, not delegable, not given by the role, a
        // relation the client has not given, outside what the agent was approved for.
        bad_request(delegate("admin", firm.into(), client.into(), agent.clone(), vec![]).await, "at least one role");
        bad_request(delegate("admin", firm.into(), client.into(), agent.clone(), batch(REGN, &[])).await, "no packages");
        bad_request(delegate("admin", firm.into(), client.into(), agent.clone(), batch("urn:altinn:role:nothing", &[LONN])).await, "not a role");
        bad_request(delegate("admin", firm.into(), client.into(), agent.clone(), batch(REGN, &["urn:altinn:accesspackage:nothing"])).await, "not an access package");
        bad_request(delegate("admin", firm.into(), client.into(), agent.clone(), batch(REGN, &["klientadministrator"])).await, "cannot be delegated");
        bad_request(delegate("admin", firm.into(), client.into(), agent.clone(), batch(REGN, &["ansvarlig-revisor"])).await, "does not give");
        bad_request(delegate("admin", firm.into(), client.into(), agent.clone(), batch("revisor", &["ansvarlig-revisor"])).await, "has not registered");
        // Only the client roles and rettighetshaver make a client relation, even where the
        // client has registered the firm in another ER role.
        bad_request(delegate("admin", firm.into(), client.into(), agent.clone(), batch("daglig-leder", &[LONN])).await, "no client relation");
        assert_eq!(w.sequence().await, before, "no refusal so far wrote anything");
        add_role(&w.store, &NewRole { unit: CLIENT.into(), role: "komplementar".into(), holder: RoleHolder::Organisation(FIRM.into()) }, SyntheticNumbers::Refuse)
            .await
            .unwrap();
        let before = w.sequence().await;
        bad_request(delegate("admin", firm.into(), client.into(), agent.clone(), batch("komplementar", &[LONN])).await, "no client relation");
        bad_request(delegate("admin", firm.into(), client.into(), agent.clone(), batch("urn:altinn:role:agent", &[LONN])).await, "no client relation");
        bad_request(
            delegate("admin", firm.into(), client.into(), agent.clone(), batch(REGN, &["regnskapsforer-med-signeringsrettighet"])).await,
            "was not approved for",
        );
        // All or nothing: a good entry beside a bad one writes neither.
        let mut mixed = ok();
        mixed.extend(batch(REGN, &["ansvarlig-revisor"]));
        bad_request(delegate("admin", firm.into(), client.into(), agent.clone(), mixed).await, "does not give");
        assert_eq!(w.sequence().await, before, "no refusal wrote anything");
        assert!(a.agent_client_packages(admin, firm, &agent).await.unwrap().is_empty());
        assert_eq!(w.decision(&agent, &w.client).await, "NotApplicable");
        w.store.close().await;
    }
}
