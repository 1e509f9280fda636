//! The access-management gates are PDP decisions on the platform resources: who passes them
//! follows from the register and the grants, on SQLite and (with FULLMAKT_TEST_POSTGRES_URL)
//! PostgreSQL.

mod common;

use std::sync::Arc;

use common::stores;
use fullmakt_domain::{Catalogue, SyntheticNumbers};
use fullmakt_service::access_management::{ensure_platform_resources, AccessManagement, Gate, ACCESS_MANAGEMENT};
use fullmakt_service::decision_index::DecisionIndex;
use fullmakt_service::grants::{grant_package, Recipient};
use fullmakt_service::pdp::DecisionPoint;
use fullmakt_service::register::{add_organisation, add_person, add_role, NewOrganisation, NewPerson, NewRole, RoleHolder};

const CUSTOMER: &str = "310000019";
const OTHER: &str = "310000035";
const MANAGER: &str = "01010012356";
const ADMINISTRATOR: &str = "17054026641";
const CLERK: &str = "08089410003";

#[tokio::test]
async fn gates_follow_roles_and_packages() {
    let catalogue = Catalogue::embedded();
    for (store, _dir) in stores().await {
        let org = |n: &str| NewOrganisation { org_number: n.into(), name: n.into(), unit_type: Some("AS".into()), ..Default::default() };
        let customer = add_organisation(&store, &org(CUSTOMER)).await.unwrap();
        let other = add_organisation(&store, &org(OTHER)).await.unwrap();
        let mut people = Vec::new();
        for pid in [MANAGER, ADMINISTRATOR, CLERK] {
            let p = NewPerson { person_identifier: pid.into(), name: pid.into(), ..Default::default() };
            people.push(add_person(&store, &p, SyntheticNumbers::Refuse).await.unwrap());
        }
        let (manager, administrator, clerk) = (&people[0], &people[1], &people[2]);
        add_role(&store, &NewRole { unit: CUSTOMER.into(), role: "daglig-leder".into(), holder: RoleHolder::Person(MANAGER.into()) }, SyntheticNumbers::Refuse)
            .await
            .unwrap();
        let customer_row = fullmakt_service::grants::organisation(&store, CUSTOMER).await.unwrap();
        let to = Recipient::Party(store.find_party(fullmakt_store::PartyKey::Id(administrator.party_id)).await.unwrap().unwrap());
        grant_package(&store, catalogue, &customer_row, &to, "urn:altinn:accesspackage:klientadministrator").await.unwrap();

        ensure_platform_resources(&store).await.unwrap();
        // Twice is the same as once.
        let before = store.change_sequence().await.unwrap();
        ensure_platform_resources(&store).await.unwrap();
        assert_eq!(store.change_sequence().await.unwrap(), before);
        assert!(store.resource(ACCESS_MANAGEMENT).await.unwrap().unwrap().policy_xml.is_some());

        let index = DecisionIndex::load(store.clone(), catalogue).await.unwrap();
        let gates = AccessManagement::new(Arc::new(DecisionPoint::new(store.clone(), catalogue, Arc::new(index))));
        // The managing director holds tilgangsstyrer and klientadministrator through the role.
        for gate in [Gate::AccessManagementRead, Gate::AccessManagementWrite, Gate::SystemUserOverview, Gate::ClientAdministrationWrite] {
            assert!(gates.permits(manager.party_id, customer.party_id, gate).await, "{gate:?}");
            assert!(!gates.permits(manager.party_id, other.party_id, gate).await, "no role in the other organisation: {gate:?}");
            assert!(!gates.permits(clerk.party_id, customer.party_id, gate).await, "no role at all: {gate:?}");
        }
        // klientadministrator given directly: client administration and the overview, not approval.
        assert!(gates.permits(administrator.party_id, customer.party_id, Gate::ClientAdministrationWrite).await);
        assert!(gates.permits(administrator.party_id, customer.party_id, Gate::SystemUserOverview).await);
        assert!(!gates.permits(administrator.party_id, customer.party_id, Gate::AccessManagementWrite).await);
        // An unknown party or user is not a permit.
        assert!(!gates.permits(manager.party_id, 1, Gate::AccessManagementWrite).await);
        assert!(!gates.permits(1, customer.party_id, Gate::AccessManagementWrite).await);
    }
}
