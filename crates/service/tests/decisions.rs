//! Decisions and the writes before them, on SQLite and (with FULLMAKT_TEST_POSTGRES_URL)
//! PostgreSQL, through the service layer.

mod common;

use common::{decision_point, resource_with_policy, stores};
use fullmakt_domain::Catalogue;
use fullmakt_service::grants::{grant_package, organisation, Recipient};
use fullmakt_service::pdp::Api;
use fullmakt_service::register::{add_organisation, NewOrganisation};
use fullmakt_xacml::{parse_request_json, DateTime, Decision};

const CUSTOMER: &str = "310000019";

/// A decision that finds nothing committed since the last read of the change sequence takes
/// that read's sequence instead of reading again, and must decide under it, never under what the
/// index or the policy cache had reached before: here the read is the store's own (as a
/// concurrent decision's would be), made after a grant and before the index applied it.
#[tokio::test]
async fn a_decision_waits_for_the_index_to_apply_the_last_read_sequence() {
    let catalogue = Catalogue::embedded();
    for (store, _dir) in stores().await {
        add_organisation(&store, &NewOrganisation { org_number: CUSTOMER.into(), name: "Kunde AS".into(), unit_type: Some("AS".into()), ..Default::default() })
            .await
            .unwrap();
        resource_with_policy(&store, "freshness-check", &[("urn:altinn:accesspackage", "ansettelsesforhold")], &["read"]).await;
        let pdp = decision_point(&store).await;
        let system_user = uuid::Uuid::new_v4().to_string();
        let request = serde_json::json!({"Request": {
            "AccessSubject": [{"Attribute": [{"AttributeId": "urn:altinn:systemuser:uuid", "Value": system_user}]}],
            "Action": [{"Attribute": [{"AttributeId": "urn:oasis:names:tc:xacml:1.0:action:action-id", "Value": "read"}]}],
            "Resource": [{"Attribute": [{"AttributeId": "urn:altinn:resource", "Value": "freshness-check"},
                {"AttributeId": "urn:altinn:organization:identifier-no", "Value": CUSTOMER}]}]
        }});
        let request = parse_request_json(&request.to_string()).unwrap();
        let decide = || pdp.decide(&request, Api::Authorize, DateTime::from_unix(1_800_000_000, 0), false);
        // Repeated, so the policy is cached and the next decision could take the common path.
        for _ in 0..3 {
            assert_eq!(decide().await[0].result.decision, Decision::NotApplicable);
        }
        let customer = organisation(&store, CUSTOMER).await.unwrap();
        let to = Recipient::SystemUser(system_user.clone());
        grant_package(&store, catalogue, &customer, &to, "urn:altinn:accesspackage:ansettelsesforhold").await.unwrap();
        let granted = store.change_sequence().await.unwrap();
        assert!(pdp.index().applied() < granted, "the index has not seen the grant yet");
        assert_eq!(decide().await[0].result.decision, Decision::Permit);
        assert_eq!(pdp.index().applied(), granted);
        assert_eq!(decide().await[0].result.decision, Decision::Permit);
    }
}
