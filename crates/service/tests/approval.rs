//! Approving a request is one transaction: the system user, its grants and the request's new
//! status, or nothing. Deleting the system user revokes everything at once; the token service's
//! lookup and the PDP see both at their next call. On SQLite and (with
//! FULLMAKT_TEST_POSTGRES_URL) PostgreSQL.

mod common;

use std::sync::Arc;

use common::{execute, stores, stores_with_urls};
use fullmakt_domain::auth_error::AuthCode;
use fullmakt_domain::system_register::RegisterSystemRequest;
use fullmakt_domain::{Catalogue, OrganisationNumber, SyntheticNumbers};
use fullmakt_service::access_management::{ensure_platform_resources, AccessManagement};
use fullmakt_service::admin::Caller;
use fullmakt_service::decision_index::DecisionIndex;
use fullmakt_service::pdp::{Api, DecisionPoint};
use fullmakt_service::register::{add_organisation, add_person, add_role, NewOrganisation, NewPerson, NewRole, RoleHolder};
use fullmakt_service::requests::{self, Approvals, NewRequest, RequestSettings, UserType, REQUEST_WRITE};
use fullmakt_service::resource_registry::{altinn_policy, create_resource, store_policy, Writer};
use fullmakt_service::system_register::{create_system, Actor};
use fullmakt_service::{AuthError, StoreSystemUsers, SystemUserLookup, SystemUserQuery};
use fullmakt_store::{PartyKey, PartyRow, Store};
use serde_json::json;

const VENDOR: &str = "314240979";
const CUSTOMER: &str = "310000019";
const MANAGER: &str = "01010012356";
const CLERK: &str = "08089410003";
const PAYROLL: &str = "test-lonnsrapport";
const SYSTEM: &str = "314240979_payroll";

struct World {
    store: Store,
    customer: PartyRow,
    manager: PartyRow,
    clerk: PartyRow,
    pdp: Arc<DecisionPoint>,
    gates: AccessManagement,
    settings: RequestSettings,
    vendor: Caller,
}

impl World {
    async fn new(store: Store) -> Self {
        let org = |n: &str| NewOrganisation { org_number: n.into(), name: n.into(), unit_type: Some("AS".into()), ..Default::default() };
        add_organisation(&store, &org(VENDOR)).await.unwrap();
        add_organisation(&store, &org(CUSTOMER)).await.unwrap();
        let customer = store.find_party(PartyKey::OrgNumber(CUSTOMER)).await.unwrap().unwrap();
        for pid in [MANAGER, CLERK] {
            add_person(&store, &NewPerson { person_identifier: pid.into(), name: pid.into(), ..Default::default() }, SyntheticNumbers::Refuse).await.unwrap();
        }
        let role = NewRole { unit: CUSTOMER.into(), role: "daglig-leder".into(), holder: RoleHolder::Person(MANAGER.into()) };
        add_role(&store, &role, SyntheticNumbers::Refuse).await.unwrap();
        let resource = json!({
            "identifier": PAYROLL,
            "title": {"nb": "Lønn", "nn": "Løn", "en": "Payroll"},
            "description": {"nb": "d", "nn": "d", "en": "d"},
            "rightDescription": {"nb": "r", "nn": "r", "en": "r"},
            "contactPoints": [{"category": "Support", "email": "a@example.com", "telephone": "", "contactPage": ""}],
            "hasCompetentAuthority": {"organization": "991825827", "orgcode": "digdir", "name": {"nb": "Digdir"}},
            "resourceType": "GenericAccessResource"
        });
        let resource = fullmakt_domain::resource::ServiceResource::from_json(resource.to_string().as_bytes()).unwrap();
        create_resource(&store, Writer::Operator, &resource).await.unwrap();
        store_policy(&store, Writer::Operator, PAYROLL, &altinn_policy(PAYROLL, &[("urn:altinn:accesspackage", "lonn")], &["read", "write"])).await.unwrap();
        let system = RegisterSystemRequest::from_json(
            json!({
                "id": SYSTEM,
                "vendor": {"authority": "iso6523-actorid-upis", "ID": format!("0192:{VENDOR}")},
                "name": {"nb": "Lønnssystemet", "en": "Payroll", "nn": "Lønssystemet"},
                "description": {"nb": "d", "en": "d", "nn": "d"},
                "rights": [{"resource": [{"id": "urn:altinn:resource", "value": PAYROLL}]}],
                "accessPackages": [{"urn": "urn:altinn:accesspackage:lonn"}],
                "clientId": ["payroll-client"],
                "isVisible": true
            })
            .to_string()
            .as_bytes(),
        )
        .unwrap();
        create_system(&store, Actor::Operator, &system).await.unwrap();
        ensure_platform_resources(&store).await.unwrap();
        let catalogue = Catalogue::embedded();
        let index = DecisionIndex::load(store.clone(), catalogue).await.unwrap();
        let pdp = Arc::new(DecisionPoint::new(store.clone(), catalogue, Arc::new(index)));
        let find = |pid: &'static str| {
            let store = store.clone();
            async move { store.find_party(PartyKey::PersonIdentifier(pid)).await.unwrap().unwrap() }
        };
        World {
            manager: find(MANAGER).await,
            clerk: find(CLERK).await,
            customer,
            gates: AccessManagement::new(pdp.clone()),
            pdp,
            settings: RequestSettings::new("http://fullmakt.test", 180),
            vendor: Caller { org: OrganisationNumber::parse(VENDOR).unwrap(), scopes: vec![REQUEST_WRITE.into()], client_id: "payroll-client".into() },
            store,
        }
    }

    fn approvals(&self) -> Approvals<'_> {
        Approvals { store: &self.store, catalogue: Catalogue::embedded(), gates: &self.gates, settings: &self.settings }
    }

    async fn request(&self) -> String {
        let input = NewRequest {
            system_id: SYSTEM.into(),
            party_org_no: CUSTOMER.into(),
            rights: Some(serde_json::from_value(json!([{"resource": [{"id": "urn:altinn:resource", "value": PAYROLL}]}])).unwrap()),
            access_packages: Some(serde_json::from_value(json!([{"urn": "urn:altinn:accesspackage:lonn"}])).unwrap()),
            ..Default::default()
        };
        let (view, _) = requests::create(&self.store, Catalogue::embedded(), &self.settings, &self.vendor, UserType::Standard, input).await.unwrap();
        view.id
    }

    /// The PDP's answer for the system user reading the payroll resource for the customer.
    async fn decision(&self, system_user: &str) -> String {
        let request = json!({"Request": {
            "AccessSubject": [{"Attribute": [{"AttributeId": "urn:altinn:systemuser:uuid", "Value": system_user}]}],
            "Action": [{"Attribute": [{"AttributeId": "urn:oasis:names:tc:xacml:1.0:action:action-id", "Value": "read"}]}],
            "Resource": [{"Attribute": [
                {"AttributeId": "urn:altinn:resource", "Value": PAYROLL},
                {"AttributeId": "urn:altinn:organization:identifier-no", "Value": CUSTOMER}
            ]}]
        }});
        let request = fullmakt_xacml::parse_request_json(&request.to_string()).unwrap();
        let now = fullmakt_xacml::DateTime::from_unix(fullmakt_service::clock::now(), 0);
        format!("{:?}", self.pdp.decide(&request, Api::Decision, now, false).await[0].result.decision)
    }

    async fn token_lookup(&self) -> Option<String> {
        let query = SystemUserQuery {
            client_id: "PAYROLL-CLIENT".into(),
            vendor: OrganisationNumber::parse(VENDOR).unwrap(),
            owner: OrganisationNumber::parse(CUSTOMER).unwrap(),
            external_ref: CUSTOMER.into(),
        };
        StoreSystemUsers::new(self.store.clone()).find(&query).await.unwrap().map(|m| m.id)
    }
}

fn code(e: AuthError) -> Option<AuthCode> {
    match e {
        AuthError::Problem(p) => Some(p.code),
        _ => None,
    }
}

#[tokio::test]
async fn approval_creates_and_deletion_revokes_for_the_next_token_and_decision() {
    for (store, _dir) in stores().await {
        let w = World::new(store).await;
        let id = w.request().await;
        let approvals = w.approvals();
        assert_eq!(w.token_lookup().await, None);

        // Without access-manager authority: refused, nothing written.
        let before = w.store.change_sequence().await.unwrap();
        let refused = approvals.approve(&w.clerk, w.customer.party_id, UserType::Standard, &id).await.unwrap_err();
        assert!(matches!(refused, AuthError::Admin(fullmakt_service::AdminError::Forbidden(_))), "{refused:?}");
        assert_eq!(w.store.change_sequence().await.unwrap(), before);

        approvals.approve(&w.manager, w.customer.party_id, UserType::Standard, &id).await.unwrap();
        let su = w.store.system_user(&id).await.unwrap().expect("the system user has the request's id");
        assert_eq!(su.owner_org_no, CUSTOMER);
        assert_eq!(su.created_by, format!("user_id:{}", w.manager.party_id));
        assert_eq!(w.store.request(&id).await.unwrap().unwrap().status, "Accepted");
        let grants = w.store.grants_from(w.customer.party_id, &id).await.unwrap();
        assert!(grants.iter().any(|g| g.package_id.is_some()), "{grants:?}");
        let rights: Vec<_> = grants.iter().filter_map(|g| g.action.clone()).collect();
        assert_eq!(rights.len(), 2, "read and write, both delegable by the manager: {grants:?}");
        assert_eq!(w.token_lookup().await.as_deref(), Some(id.as_str()));
        assert_eq!(w.decision(&id).await, "Permit");

        // Approving twice: 409.
        let twice = approvals.approve(&w.manager, w.customer.party_id, UserType::Standard, &id).await.unwrap_err();
        assert_eq!(code(twice), Some(AuthCode::RequestStatusNotNew));
        // The identity is taken now.
        let again = requests::create(&w.store, Catalogue::embedded(), &w.settings, &w.vendor, UserType::Standard, NewRequest {
            system_id: SYSTEM.into(),
            party_org_no: CUSTOMER.into(),
            access_packages: Some(serde_json::from_value(json!([{"urn": "urn:altinn:accesspackage:lonn"}])).unwrap()),
            ..Default::default()
        })
        .await
        .unwrap_err();
        assert_eq!(code(again), Some(AuthCode::SystemUserAlreadyExists));

        assert!(approvals.delete_standard(&w.manager, w.customer.party_id, &id).await.unwrap());
        assert_eq!(w.token_lookup().await, None, "no token after deletion");
        assert_eq!(w.decision(&id).await, "NotApplicable", "no permit after deletion");
        assert!(w.store.grants_from(w.customer.party_id, &id).await.unwrap().is_empty());
        // The identity is free again: a new request is created and can be approved.
        let renewed = w.request().await;
        assert_ne!(renewed, id);
        approvals.approve(&w.manager, w.customer.party_id, UserType::Standard, &renewed).await.unwrap();
        assert_eq!(w.token_lookup().await.as_deref(), Some(renewed.as_str()));
    }
}

#[tokio::test]
async fn a_failure_after_the_system_user_is_written_leaves_nothing() {
    for (store, url, _dir) in stores_with_urls().await {
        let w = World::new(store).await;
        let id = w.request().await;
        // Make the grant insert fail inside the approval's transaction, after the system user row.
        let postgres = url.starts_with("postgres");
        execute(
            &url,
            if postgres {
                "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$ LANGUAGE plpgsql; \
                 CREATE TRIGGER refuse_packages BEFORE INSERT ON assignment_packages FOR EACH ROW EXECUTE FUNCTION refuse();"
            } else {
                "CREATE TRIGGER refuse_packages BEFORE INSERT ON assignment_packages BEGIN SELECT RAISE(ABORT, 'injected failure'); END;"
            },
        )
        .await;
        let failed = w.approvals().approve(&w.manager, w.customer.party_id, UserType::Standard, &id).await;
        assert!(failed.is_err());
        assert_eq!(w.store.system_user(&id).await.unwrap(), None, "no system user");
        assert!(w.store.grants_from(w.customer.party_id, &id).await.unwrap().is_empty(), "no grants");
        assert_eq!(w.store.request(&id).await.unwrap().unwrap().status, "New", "the request is still New");
        assert_eq!(w.token_lookup().await, None);
    }
}

#[tokio::test]
async fn old_requests_time_out_and_approvers_without_the_packages_create_nothing() {
    for (store, url, _dir) in stores_with_urls().await {
        let w = World::new(store).await;
        let approvals = w.approvals();

        // An access manager by a directly given tilgangsstyrer, without lonn: the gate passes,
        // the delegation check refuses the package, and nothing is created.
        let admin_pid = "17054026641";
        add_person(&w.store, &NewPerson { person_identifier: admin_pid.into(), name: "Admin".into(), ..Default::default() }, SyntheticNumbers::Refuse)
            .await
            .unwrap();
        let admin = w.store.find_party(PartyKey::PersonIdentifier(admin_pid)).await.unwrap().unwrap();
        let to = fullmakt_service::grants::Recipient::Party(admin.clone());
        fullmakt_service::grants::grant_package(&w.store, Catalogue::embedded(), &w.customer, &to, "urn:altinn:accesspackage:tilgangsstyrer").await.unwrap();
        let id = w.request().await;
        let refused = approvals.approve(&admin, w.customer.party_id, UserType::Standard, &id).await.unwrap_err();
        assert_eq!(code(refused), Some(AuthCode::AccessPackageDelegationMissingRequiredAccess));
        assert_eq!(w.store.system_user(&id).await.unwrap(), None);
        assert_eq!(w.store.request(&id).await.unwrap().unwrap().status, "New");

        // A request older than 180 days reads as Timedout and cannot be approved.
        execute(&url, &format!("UPDATE system_user_requests SET created = created - 181 * 86400 WHERE id = '{id}'")).await;
        let view = requests::vendor_get(&w.store, &w.settings, &Caller { scopes: vec![requests::REQUEST_READ.into()], ..w.vendor.clone() }, UserType::Standard, &id)
            .await
            .unwrap();
        assert_eq!((view.status.as_str(), view.timed_out), ("Timedout", true));
        let late = approvals.approve(&w.manager, w.customer.party_id, UserType::Standard, &id).await.unwrap_err();
        assert_eq!(code(late), Some(AuthCode::RequestStatusNotNew));
        assert_eq!(w.store.system_user(&id).await.unwrap(), None);

        // Direct creation: once per identity.
        let created = approvals.create_directly(&w.manager, w.customer.party_id, SYSTEM, None).await.unwrap();
        assert_eq!(created.row.external_ref, CUSTOMER);
        assert_eq!(created.access_packages.len(), 1, "every package of the system: {:?}", created.access_packages);
        let twice = approvals.create_directly(&w.manager, w.customer.party_id, SYSTEM, None).await.unwrap_err();
        assert_eq!(code(twice), Some(AuthCode::SystemUserAlreadyExists));
        let refused = approvals.create_directly(&w.clerk, w.customer.party_id, SYSTEM, None).await.unwrap_err();
        assert!(matches!(refused, AuthError::Admin(fullmakt_service::AdminError::Forbidden(_))), "{refused:?}");
    }
}

/// The reference revokes in Access Management, then soft-deletes; a failure in between leaves a
/// system user without its rights (AUTH-00054/56). Here deletion is one transaction: a failure
/// at its last step leaves the system user, its grants and its request as they were.
#[tokio::test]
async fn a_failure_while_deleting_leaves_the_system_user_whole() {
    for (store, url, _dir) in stores_with_urls().await {
        let w = World::new(store).await;
        let id = w.request().await;
        let approvals = w.approvals();
        approvals.approve(&w.manager, w.customer.party_id, UserType::Standard, &id).await.unwrap();
        let grants_before = w.store.grants_from(w.customer.party_id, &id).await.unwrap();
        assert!(!grants_before.is_empty());
        // Marking the request deleted is the deletion's last write: make it fail.
        let postgres = url.starts_with("postgres");
        execute(
            &url,
            if postgres {
                "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$ LANGUAGE plpgsql; \
                 CREATE TRIGGER refuse_requests BEFORE UPDATE ON system_user_requests FOR EACH ROW EXECUTE FUNCTION refuse();"
            } else {
                "CREATE TRIGGER refuse_requests BEFORE UPDATE ON system_user_requests BEGIN SELECT RAISE(ABORT, 'injected failure'); END;"
            },
        )
        .await;
        let before = w.store.change_sequence().await.unwrap();
        assert!(approvals.delete_standard(&w.manager, w.customer.party_id, &id).await.is_err());
        assert_eq!(w.store.change_sequence().await.unwrap(), before, "nothing committed");
        assert_eq!(w.store.system_user(&id).await.unwrap().map(|s| s.is_deleted), Some(0), "the system user is still active");
        assert_eq!(w.store.grants_from(w.customer.party_id, &id).await.unwrap(), grants_before, "with every grant");
        assert_eq!(w.store.request(&id).await.unwrap().map(|r| r.is_deleted), Some(0), "and its request");
        assert_eq!(w.token_lookup().await.as_deref(), Some(id.as_str()), "it still gets tokens");
        assert_eq!(w.decision(&id).await, "Permit");
    }
}
