//! Who may manage a party's access: the gates of authentication-api.md §0 (AMR/AMW, SUO,
//! CAR/CAW). As in the reference, each gate is a PDP decision on a platform resource, not a
//! role list in code, so an operator can change who may approve system users by changing a
//! policy. The resources are created with their default policies at start when missing; an
//! instance's own edits to them are never overwritten.

use std::sync::Arc;

use fullmakt_xacml::{parse_request_json, Decision};
use serde_json::json;

use crate::admin::AdminError;
use crate::clock;
use crate::pdp::{Api, DecisionPoint};
use crate::resource_registry::{self as registry, altinn_policy, Writer};
use fullmakt_domain::resource::ServiceResource;
use fullmakt_store::Store;

/// Approving requests, creating and deleting system users (packages `tilgangsstyrer`,
/// `hovedadministrator`; the Altinn 2 roles ADMAI and HADM).
pub const ACCESS_MANAGEMENT: &str = "altinn_access_management";
/// Seeing a party's system users.
pub const SYSTEM_USER_OVERVIEW: &str = "altinn_system_user_overview";
/// Managing clients and client delegations (package `klientadministrator`).
pub const CLIENT_ADMINISTRATION: &str = "altinn_client_administration";

/// Digdir owns the platform resources, as in Altinn.
const PLATFORM_OWNER: (&str, &str, &str) = ("991825827", "digdir", "Digitaliseringsdirektoratet");

/// A gate of authentication-api.md §0: a resource and an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// AMR
    AccessManagementRead,
    /// AMW
    AccessManagementWrite,
    /// SUO
    SystemUserOverview,
    /// CAR
    ClientAdministrationRead,
    /// CAW
    ClientAdministrationWrite,
}

impl Gate {
    pub fn resource(self) -> &'static str {
        match self {
            Gate::AccessManagementRead | Gate::AccessManagementWrite => ACCESS_MANAGEMENT,
            Gate::SystemUserOverview => SYSTEM_USER_OVERVIEW,
            Gate::ClientAdministrationRead | Gate::ClientAdministrationWrite => CLIENT_ADMINISTRATION,
        }
    }

    pub fn action(self) -> &'static str {
        match self {
            Gate::AccessManagementWrite | Gate::ClientAdministrationWrite => "write",
            _ => "read",
        }
    }
}

struct PlatformResource {
    identifier: &'static str,
    title: &'static str,
    subjects: &'static [(&'static str, &'static str)],
    actions: &'static [&'static str],
}

const PACKAGE: &str = "urn:altinn:accesspackage";
const ROLE_CODE: &str = "urn:altinn:rolecode";

const PLATFORM_RESOURCES: [PlatformResource; 3] = [
    PlatformResource {
        identifier: ACCESS_MANAGEMENT,
        title: "Tilgangsstyring",
        subjects: &[(PACKAGE, "tilgangsstyrer"), (PACKAGE, "hovedadministrator"), (ROLE_CODE, "ADMAI"), (ROLE_CODE, "HADM")],
        actions: &["read", "write"],
    },
    PlatformResource {
        identifier: SYSTEM_USER_OVERVIEW,
        title: "Oversikt over systemtilganger",
        subjects: &[
            (PACKAGE, "tilgangsstyrer"),
            (PACKAGE, "hovedadministrator"),
            (PACKAGE, "klientadministrator"),
            (ROLE_CODE, "ADMAI"),
            (ROLE_CODE, "HADM"),
        ],
        actions: &["read"],
    },
    PlatformResource {
        identifier: CLIENT_ADMINISTRATION,
        title: "Klientadministrasjon",
        subjects: &[(PACKAGE, "klientadministrator")],
        actions: &["read", "write"],
    },
];

/// Creates each platform resource with its default policy unless it exists (a deleted one
/// stays deleted: the operator meant it). Idempotent; every node may run it.
pub async fn ensure_platform_resources(store: &Store) -> Result<(), AdminError> {
    let (orgno, orgcode, name) = PLATFORM_OWNER;
    for r in &PLATFORM_RESOURCES {
        let policy = altinn_policy(r.identifier, r.subjects, r.actions);
        match store.resource(r.identifier).await? {
            Some(row) if row.deleted != 0 || row.policy_xml.is_some() => continue,
            // Created by a start that stopped before its policy was stored.
            Some(_) => {
                registry::store_policy(store, Writer::Operator, r.identifier, &policy).await?;
                continue;
            }
            None => {}
        }
        let document = json!({
            "identifier": r.identifier,
            "title": {"nb": r.title, "nn": r.title, "en": r.title},
            "description": {"nb": r.title, "nn": r.title, "en": r.title},
            "rightDescription": {"nb": r.title, "nn": r.title, "en": r.title},
            "contactPoints": [{"category": "Support", "email": "", "telephone": "", "contactPage": ""}],
            "hasCompetentAuthority": {"organization": orgno, "orgcode": orgcode, "name": {"nb": name}},
            "resourceType": "Systemresource",
            "delegable": false,
            "visible": false
        });
        let resource = ServiceResource::from_json(document.to_string().as_bytes())
            .map_err(|e| AdminError::BadRequest(format!("platform resource {}: {e:?}", r.identifier)))?;
        match registry::create_resource(store, Writer::Operator, &resource).await {
            Ok(_) => {}
            // Another node created it a moment ago.
            Err(AdminError::Conflict(_)) => continue,
            Err(e) => return Err(e),
        }
        registry::store_policy(store, Writer::Operator, r.identifier, &policy).await?;
    }
    Ok(())
}

/// Asks the PDP whether a person (by user id) passes a gate for a party.
pub struct AccessManagement {
    pdp: Arc<DecisionPoint>,
}

impl AccessManagement {
    pub fn new(pdp: Arc<DecisionPoint>) -> Self {
        Self { pdp }
    }

    /// Permit passes; Deny, NotApplicable and Indeterminate (say, an unknown party) do not.
    pub async fn permits(&self, user_id: i64, party_id: i64, gate: Gate) -> bool {
        let request = json!({"Request": {
            "AccessSubject": [{"Attribute": [{"AttributeId": "urn:altinn:userid", "Value": user_id.to_string()}]}],
            "Action": [{"Attribute": [{"AttributeId": "urn:oasis:names:tc:xacml:1.0:action:action-id", "Value": gate.action()}]}],
            "Resource": [{"Attribute": [
                {"AttributeId": "urn:altinn:resource", "Value": gate.resource()},
                {"AttributeId": "urn:altinn:partyid", "Value": party_id.to_string()}
            ]}]
        }});
        let Ok(request) = parse_request_json(&request.to_string()) else {
            return false;
        };
        let now = fullmakt_xacml::DateTime::from_unix(clock::now(), 0);
        let outcomes = self.pdp.decide(&request, Api::Authorize, now, false).await;
        outcomes.len() == 1 && outcomes[0].result.decision == Decision::Permit
    }
}
