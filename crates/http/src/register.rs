//! `/register/api/v1/parties…`: party lookups in the shape of Altinn Register's platform API,
//! for the services that resolve organisation numbers, person numbers, party ids and party uuids.
//!
//! Every route needs a bearer token from fullmakt's own token service carrying the scope
//! `altinn:register/partylookup.admin` (the scope Altinn's register accepts for the same calls).
//! The Party JSON follows the reference: `partyTypeName` 1 for persons and 2 for organisations
//! (sub-units included), `orgNumber` "" for persons and `ssn` null for organisations.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use fullmakt_service::register::{self, PartyLookup, PartyView, RegisterError};
use serde::{Deserialize, Serialize};

use crate::admin::caller;
use crate::problem::{parse_json, Problem};
use crate::{AppState, TraceId};

/// The scope the register lookup API requires.
pub const PARTY_LOOKUP_SCOPE: &str = "altinn:register/partylookup.admin";

/// A party as Altinn Register's v1 API returns it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AltinnParty {
    pub party_id: i64,
    pub party_uuid: String,
    /// 1 person, 2 organisation (sub-units too).
    pub party_type_name: u8,
    pub org_number: Option<String>,
    pub ssn: Option<String>,
    pub unit_type: Option<String>,
    pub name: String,
    pub is_deleted: bool,
    pub only_hierarchy_element_with_no_access: bool,
    pub person: Option<AltinnPerson>,
    pub organization: Option<AltinnOrganization>,
    #[schema(no_recursion)]
    pub child_parties: Option<Vec<AltinnParty>>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AltinnPerson {
    pub ssn: String,
    pub name: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AltinnOrganization {
    pub org_number: String,
    pub name: String,
    pub unit_type: Option<String>,
}

impl From<PartyView> for AltinnParty {
    fn from(p: PartyView) -> Self {
        let person = p.person_identifier.clone().map(|ssn| AltinnPerson { ssn, name: p.name.clone() });
        let organization =
            p.org_number.clone().map(|org_number| AltinnOrganization { org_number, name: p.name.clone(), unit_type: p.unit_type.clone() });
        let party_type_name = p.party_type().altinn_number();
        Self {
            party_id: p.party_id,
            party_uuid: p.party_uuid,
            party_type_name,
            org_number: if person.is_some() { Some(String::new()) } else { p.org_number },
            ssn: p.person_identifier,
            unit_type: p.unit_type,
            name: p.name,
            is_deleted: p.is_deleted,
            only_hierarchy_element_with_no_access: false,
            person,
            organization,
            child_parties: None,
        }
    }
}

/// Exactly one of `orgNo` and `ssn`, as the reference's `PartyLookup`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PartyLookupBody {
    pub org_no: Option<String>,
    pub ssn: Option<String>,
}

pub(crate) fn problem(e: RegisterError, trace: &TraceId) -> Problem {
    let (status, title) = match &e {
        RegisterError::PartyNotFound(_)
        | RegisterError::UnknownOrganisation(_)
        | RegisterError::UnknownPerson(_)
        | RegisterError::RoleNotFound { .. } => (404, "Not found"),
        RegisterError::Internal => (500, "Internal server error"),
        RegisterError::OrganisationExists(_)
        | RegisterError::PersonExists(_)
        | RegisterError::PartyIdTaken(_)
        | RegisterError::PartyUuidTaken(_)
        | RegisterError::RoleExists { .. } => (409, "Conflict"),
        RegisterError::Invalid { .. }
        | RegisterError::MainUnitIsSubUnit { .. }
        | RegisterError::OwnMainUnit
        | RegisterError::Role(_)
        | RegisterError::NoPartyIdLeft => (400, "Bad request"),
    };
    Problem { status, title, detail: e.to_string(), trace_id: trace.0.clone(), errors: None }
}

async fn authorised(state: &AppState, headers: &HeaderMap, trace: &TraceId) -> Result<(), Problem> {
    let c = caller(state, headers, trace).await?;
    c.require_any(&[PARTY_LOOKUP_SCOPE]).map_err(|e| Problem::from_admin(e, trace))
}

async fn answer(state: &AppState, lookup: PartyLookup, trace: &TraceId) -> Result<Response, Problem> {
    let party = register::find_party(&state.store, &lookup).await.map_err(|e| problem(e, trace))?;
    Ok((StatusCode::OK, Json(AltinnParty::from(party))).into_response())
}

#[utoipa::path(post, path = "/register/api/v1/parties/lookup", tag = "register",
    security(("bearer" = ["altinn:register/partylookup.admin"])),
    request_body = PartyLookupBody,
    responses((status = 200, body = AltinnParty), (status = 400), (status = 401), (status = 403), (status = 404)))]
pub async fn lookup(State(s): State<AppState>, Extension(t): Extension<TraceId>, h: HeaderMap, body: Bytes) -> Result<Response, Problem> {
    authorised(&s, &h, &t).await?;
    let body: PartyLookupBody = parse_json(&body, &t)?;
    let lookup = match (body.org_no, body.ssn) {
        (Some(org), None) => PartyLookup::OrgNumber(org),
        (None, Some(ssn)) => PartyLookup::PersonIdentifier(ssn),
        (None, None) => return Err(Problem::bad_request("either orgNo or ssn is required", &t)),
        (Some(_), Some(_)) => return Err(Problem::bad_request("only one of orgNo and ssn is allowed", &t)),
    };
    answer(&s, lookup, &t).await
}

#[utoipa::path(get, path = "/register/api/v1/parties/{partyId}", tag = "register",
    security(("bearer" = ["altinn:register/partylookup.admin"])),
    params(("partyId" = i64, Path)),
    responses((status = 200, body = AltinnParty), (status = 400), (status = 401), (status = 403), (status = 404)))]
pub async fn by_id(State(s): State<AppState>, Extension(t): Extension<TraceId>, h: HeaderMap, Path(id): Path<String>) -> Result<Response, Problem> {
    authorised(&s, &h, &t).await?;
    let id: i64 = id.parse().map_err(|_| Problem::bad_request(format!("the party id `{id}` is not an integer"), &t))?;
    answer(&s, PartyLookup::PartyId(id), &t).await
}

#[utoipa::path(get, path = "/register/api/v1/parties/byuuid/{partyUuid}", tag = "register",
    security(("bearer" = ["altinn:register/partylookup.admin"])),
    params(("partyUuid" = String, Path)),
    responses((status = 200, body = AltinnParty), (status = 400), (status = 401), (status = 403), (status = 404)))]
pub async fn by_uuid(State(s): State<AppState>, Extension(t): Extension<TraceId>, h: HeaderMap, Path(uuid): Path<String>) -> Result<Response, Problem> {
    authorised(&s, &h, &t).await?;
    answer(&s, PartyLookup::PartyUuid(uuid), &t).await
}
