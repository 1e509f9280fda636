//! Agent system users and their clients (authentication-api.md §1.4 #55–#62, §1.5 #63–#67):
//! the portal's routes under `systemuser/agent/{party}/…` (a person's token with the portal
//! scope) and the end-user client-delegation API under `enduser/systemuser/…` (a person's token
//! with `altinn:clientdelegations.read` or `.write`). Each handler authenticates the person,
//! reads the path and query, and calls one use case of `fullmakt_service::client_delegation`;
//! the PDP gates (CAR/CAW/AMW) are checked there.
//!
//! Query values are read by name case-insensitively, as ASP.NET binds them; a uuid that is
//! missing or malformed is refused as ASP.NET's model binding refuses it (400
//! `{"errors":{"<name>":[…]}}`), before any work.

use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::{Extension, Json};
use fullmakt_domain::auth_error::AuthCode;
use fullmakt_domain::Catalogue;
use fullmakt_service::client_delegation::{ClientDelegationView, Customer, CLIENT_DELEGATIONS_READ, CLIENT_DELEGATIONS_WRITE};
use fullmakt_service::AuthError;
use fullmakt_store::PartyRow;
use serde::Serialize;

use crate::altinn_problem::{AuthResult, Failure};
use crate::system_users::{approvals, internal_dto, party_id, person_with_scope, SystemUserInternalDto};
use crate::{AppState, TraceId};

// ---------------------------------------------------------------------------------------------
// Wire shapes (§2.5).

/// `DelegationResponse`: one client delegated to an agent. `delegationId` and `customerId` are
/// both the client's party uuid, as in the reference.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DelegationResponse {
    agent_system_user_id: String,
    delegation_id: String,
    customer_id: String,
    assignment_id: String,
    customer_name: String,
    customer_organization_number: String,
}

fn delegation_response(v: ClientDelegationView) -> DelegationResponse {
    DelegationResponse {
        agent_system_user_id: v.agent_system_user_id,
        delegation_id: v.client.party_uuid.clone(),
        customer_id: v.client.party_uuid,
        assignment_id: v.assignment_id,
        customer_name: v.client.name,
        customer_organization_number: v.client.org_number.unwrap_or_default(),
    }
}

/// `ExternalClientDto`: a facilitator's client and what each relation gives the facilitator.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExternalClientDto {
    party_uuid: String,
    display_name: String,
    organization_identifier: String,
    access: Vec<ClientRoleAccess>,
}

/// One relation of a client: the role's URN and the packages it gives, as URNs.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ClientRoleAccess {
    role: String,
    packages: Vec<String>,
}

fn external_client(c: Customer, catalogue: &Catalogue) -> ExternalClientDto {
    ExternalClientDto {
        party_uuid: c.party.party_uuid,
        display_name: c.party.name,
        organization_identifier: c.party.org_number.unwrap_or_default(),
        access: c
            .access
            .into_iter()
            .map(|a| ClientRoleAccess { role: a.role_urn, packages: a.packages.iter().map(|p| catalogue.package(p).urn.clone()).collect() })
            .collect(),
    }
}

/// An entry of `ClientInfoPaginated.data`.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClientInfo {
    client_id: String,
    client_organization_number: String,
    client_organization_name: String,
}

fn client_info(p: PartyRow) -> ClientInfo {
    ClientInfo { client_id: p.party_uuid, client_organization_number: p.org_number.unwrap_or_default(), client_organization_name: p.name }
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SystemUserInformation {
    system_user_id: String,
    system_user_owner_org: String,
}

/// `ClientInfoPaginated`: one page always (`links` empty), and the agent it is about.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClientInfoPaginated {
    #[schema(value_type = Object)]
    links: serde_json::Value,
    data: Vec<ClientInfo>,
    system_user_information: SystemUserInformation,
}

fn client_page(agent: &fullmakt_service::client_delegation::Agent, clients: impl Iterator<Item = PartyRow>) -> ClientInfoPaginated {
    ClientInfoPaginated {
        links: serde_json::json!({}),
        data: clients.map(client_info).collect(),
        system_user_information: SystemUserInformation { system_user_id: agent.row.id.clone(), system_user_owner_org: agent.row.owner_org_no.clone() },
    }
}

/// `ClientDelegationResponse`: the agent and the client, by uuid.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ClientDelegationResponse {
    agent: String,
    client: String,
}

// ---------------------------------------------------------------------------------------------
// Query values.

/// The query string's pairs, looked up by name case-insensitively.
struct QueryParams(Vec<(String, String)>);

impl QueryParams {
    fn parse(raw: Option<String>) -> Self {
        Self(url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()).into_owned().collect())
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn all(&self, name: &str) -> Vec<String> {
        self.0.iter().filter(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone()).collect()
    }

    /// A required uuid, in its canonical lowercase form. Missing or malformed is ASP.NET's
    /// model-binding answer (400 with the parameter's name under `errors`).
    fn uuid(&self, name: &str, t: &TraceId) -> Result<String, Failure> {
        let refuse = |message: String| Failure::auth(AuthError::model_state(name, message), t);
        match self.get(name).map(str::trim).filter(|v| !v.is_empty()) {
            None => Err(refuse(format!("The {name} field is required."))),
            Some(v) => uuid::Uuid::parse_str(v).map(|u| u.to_string()).map_err(|_| refuse(format!("The value '{v}' is not valid."))),
        }
    }
}

/// The portal's person: a person token with the portal scope.
async fn person(s: &AppState, h: &HeaderMap, t: &TraceId) -> Result<PartyRow, Failure> {
    person_with_scope(s, h, t, fullmakt_service::PORTAL_SCOPE).await
}

/// Where the reference's controller checks the system user itself (#55, #57–#59), an unknown
/// one is its `ValidationProblem` under `return` (§1.4, §7 item 14) rather than AUTH-00015.
fn unknown_agent_as_model_state(e: AuthError) -> AuthError {
    match e {
        AuthError::Problem(p) if p.code == AuthCode::SystemUserNotFound => AuthError::model_state("return", "System user not found"),
        other => other,
    }
}

// ---------------------------------------------------------------------------------------------
// The portal's routes (§1.4 #55–#62).

#[utoipa::path(post, path = "/authentication/api/v1/systemuser/agent/{party}/{systemUserId}", tag = "authentication",
    security(("bearer" = ["altinn:portal/enduser"])),
    params(("party" = i64, Path), ("systemUserId" = String, Path), ("provider" = String, Query, description = "the facilitator's party uuid"),
        ("client" = String, Query, description = "the client's party uuid")),
    responses((status = 200, body = Vec<DelegationResponse>), (status = 400, description = "ASP.NET `return` for an unknown system user, AUTH-00034/00063/00079/00080/00039"),
        (status = 401), (status = 403)))]
pub async fn delegate_client(
    State(s): State<AppState>,
    Extension(t): Extension<TraceId>,
    h: HeaderMap,
    Path((party, id)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> AuthResult {
    let p = person(&s, &h, &t).await?;
    let party = party_id(&party, &t)?;
    let q = QueryParams::parse(q);
    let (provider, client) = (q.uuid("provider", &t)?, q.uuid("client", &t)?);
    let v = auth_call!(t, async { approvals(&s).delegate_client(&p, party, &id, &provider, &client).await.map_err(unknown_agent_as_model_state) });
    Ok(Json(vec![delegation_response(v)]).into_response())
}

#[utoipa::path(delete, path = "/authentication/api/v1/systemuser/agent/{party}/{systemUserId}/client", tag = "authentication",
    security(("bearer" = ["altinn:portal/enduser"])),
    params(("party" = i64, Path), ("systemUserId" = String, Path), ("client" = String, Query), ("provider" = String, Query)),
    responses((status = 200), (status = 400, description = "AUTH-00038 nothing delegated, AUTH-00039 another facilitator, AUTH-00034"),
        (status = 401), (status = 403), (status = 404, description = "AUTH-00015")))]
pub async fn revoke_client(
    State(s): State<AppState>,
    Extension(t): Extension<TraceId>,
    h: HeaderMap,
    Path((party, id)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> AuthResult {
    let p = person(&s, &h, &t).await?;
    let party = party_id(&party, &t)?;
    let q = QueryParams::parse(q);
    let (client, provider) = (q.uuid("client", &t)?, q.uuid("provider", &t)?);
    auth_call!(t, approvals(&s).revoke_client(&p, party, &id, &provider, &client));
    Ok(axum::http::StatusCode::OK.into_response())
}

/// The three "own organisation" routes (#57–#59), with and without the trailing slash.
#[derive(Clone, Copy)]
enum Own {
    Add,
    Remove,
    Read,
}

async fn own_organisation(s: AppState, t: TraceId, h: HeaderMap, (party, id): (String, String), q: Option<String>, what: Own) -> AuthResult {
    let p = person(&s, &h, &t).await?;
    let party = party_id(&party, &t)?;
    let party_uuid = QueryParams::parse(q).uuid("partyUuid", &t)?;
    let a = approvals(&s);
    let answer = auth_call!(t, async {
        match what {
            Own::Add => a.add_own_organisation(&p, party, &id, &party_uuid).await.map(|()| true),
            Own::Remove => a.remove_own_organisation(&p, party, &id, &party_uuid).await.map(|()| true),
            Own::Read => a.has_own_organisation(&p, party, &id, &party_uuid).await,
        }
        .map_err(unknown_agent_as_model_state)
    });
    Ok(Json(answer).into_response())
}

macro_rules! own_organisation_route {
    ($name:ident, $method:ident, $path:literal, $what:expr, $doc:literal) => {
        #[utoipa::path($method, path = $path, tag = "authentication", description = $doc,
            security(("bearer" = ["altinn:portal/enduser"])),
            params(("party" = i64, Path), ("systemUserId" = String, Path), ("partyUuid" = String, Query, description = "the party's own uuid")),
            responses((status = 200, body = bool), (status = 400, description = "ASP.NET `return` for an unknown system user, AUTH-00034/00049/00063/00064/00053"),
                (status = 401), (status = 403)))]
        pub async fn $name(
            State(s): State<AppState>,
            Extension(t): Extension<TraceId>,
            h: HeaderMap,
            Path(path): Path<(String, String)>,
            RawQuery(q): RawQuery,
        ) -> AuthResult {
            own_organisation(s, t, h, path, q, $what).await
        }
    };
}

own_organisation_route!(add_own, post, "/authentication/api/v1/systemuser/agent/{party}/{systemUserId}/self", Own::Add, "The party gives its agent system user the agent's packages for itself (only assignable packages).");
own_organisation_route!(add_own_slash, post, "/authentication/api/v1/systemuser/agent/{party}/{systemUserId}/self/", Own::Add, "As without the trailing slash.");
own_organisation_route!(remove_own, delete, "/authentication/api/v1/systemuser/agent/{party}/{systemUserId}/self", Own::Remove, "Takes back what the party gave its agent for itself; client delegations stay.");
own_organisation_route!(remove_own_slash, delete, "/authentication/api/v1/systemuser/agent/{party}/{systemUserId}/self/", Own::Remove, "As without the trailing slash.");
own_organisation_route!(read_own, get, "/authentication/api/v1/systemuser/agent/{party}/{systemUserId}/self", Own::Read, "Whether the party has given its agent any package for itself.");
own_organisation_route!(read_own_slash, get, "/authentication/api/v1/systemuser/agent/{party}/{systemUserId}/self/", Own::Read, "As without the trailing slash.");

#[utoipa::path(delete, path = "/authentication/api/v1/systemuser/agent/{party}/{systemUserId}", tag = "authentication",
    security(("bearer" = ["altinn:portal/enduser"])),
    params(("party" = i64, Path), ("systemUserId" = String, Path), ("facilitatorId" = String, Query, description = "the party's uuid")),
    responses((status = 200), (status = 400, description = "AUTH-00034 not an agent, AUTH-00039 another facilitator"), (status = 401),
        (status = 403, description = "no authority, or AUTH-00024 another party's system user"), (status = 404, description = "AUTH-00015")))]
pub async fn delete_agent(
    State(s): State<AppState>,
    Extension(t): Extension<TraceId>,
    h: HeaderMap,
    Path((party, id)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> AuthResult {
    let p = person(&s, &h, &t).await?;
    let party = party_id(&party, &t)?;
    let facilitator = QueryParams::parse(q).uuid("facilitatorId", &t)?;
    auth_call!(t, approvals(&s).delete_agent(&p, party, &id, &facilitator));
    Ok(axum::http::StatusCode::OK.into_response())
}

#[utoipa::path(get, path = "/authentication/api/v1/systemuser/agent/{party}/clients", tag = "authentication",
    security(("bearer" = ["altinn:portal/enduser"])),
    params(("party" = i64, Path), ("facilitator" = String, Query, description = "the party's uuid"),
        ("packages" = Option<Vec<String>>, Query, description = "package codes or URNs every listed client must give")),
    responses((status = 200, body = Vec<ExternalClientDto>), (status = 400), (status = 401), (status = 403, description = "no authority, or AUTH-00044 another facilitator")))]
pub async fn customers(
    State(s): State<AppState>,
    Extension(t): Extension<TraceId>,
    h: HeaderMap,
    Path(party): Path<String>,
    RawQuery(q): RawQuery,
) -> AuthResult {
    let p = person(&s, &h, &t).await?;
    let party = party_id(&party, &t)?;
    let q = QueryParams::parse(q);
    let facilitator = q.uuid("facilitator", &t)?;
    let clients = auth_call!(t, approvals(&s).customers(&p, party, &facilitator, &q.all("packages")));
    Ok(Json(clients.into_iter().map(|c| external_client(c, s.catalogue)).collect::<Vec<_>>()).into_response())
}

#[utoipa::path(get, path = "/authentication/api/v1/systemuser/agent/{party}/{facilitator}/{systemUserId}/delegations", tag = "authentication",
    security(("bearer" = ["altinn:portal/enduser"])),
    params(("party" = i64, Path), ("facilitator" = String, Path), ("systemUserId" = String, Path)),
    responses((status = 200, body = Vec<DelegationResponse>, description = "`[]` also for an unknown, another party's or a standard system user, and another facilitator, as the reference"),
        (status = 400), (status = 401), (status = 403)))]
pub async fn delegated_clients(
    State(s): State<AppState>,
    Extension(t): Extension<TraceId>,
    h: HeaderMap,
    Path((party, facilitator, id)): Path<(String, String, String)>,
) -> AuthResult {
    let p = person(&s, &h, &t).await?;
    let party = party_id(&party, &t)?;
    // The reference answers every failure after its PDP gate with an empty list.
    let views = match approvals(&s).delegated_clients(&p, party, &facilitator, &id).await {
        Ok(views) => views,
        Err(AuthError::Problem(_)) => Vec::new(),
        Err(e) => return Err(Failure::auth(e, &t)),
    };
    Ok(Json(views.into_iter().map(delegation_response).collect::<Vec<_>>()).into_response())
}

// ---------------------------------------------------------------------------------------------
// The end-user client-delegation API (§1.5 #63–#67): the agent names its owner.

#[utoipa::path(get, path = "/authentication/api/v1/enduser/systemuser/clients/available", tag = "authentication",
    security(("bearer" = ["altinn:clientdelegations.read"])), params(("agent" = String, Query, description = "the agent system user's id")),
    responses((status = 200, body = ClientInfoPaginated), (status = 400, description = "AUTH.VLD-00014/00015 on `?agent`"), (status = 401), (status = 403),
        (status = 404, description = "System Owner not Found")))]
pub async fn enduser_available_clients(State(s): State<AppState>, Extension(t): Extension<TraceId>, h: HeaderMap, RawQuery(q): RawQuery) -> AuthResult {
    let p = person_with_scope(&s, &h, &t, CLIENT_DELEGATIONS_READ).await?;
    let q = QueryParams::parse(q);
    let (agent, clients) = auth_call!(t, approvals(&s).enduser_available_clients(&p, q.get("agent")));
    Ok(Json(client_page(&agent, clients.into_iter().map(|c| c.party))).into_response())
}

#[utoipa::path(get, path = "/authentication/api/v1/enduser/systemuser/clients", tag = "authentication",
    security(("bearer" = ["altinn:clientdelegations.read"])), params(("agent" = String, Query, description = "the agent system user's id")),
    responses((status = 200, body = ClientInfoPaginated), (status = 400, description = "AUTH.VLD-00014/00015 on `?agent`"), (status = 401), (status = 403),
        (status = 404, description = "System Owner not Found")))]
pub async fn enduser_delegated_clients(State(s): State<AppState>, Extension(t): Extension<TraceId>, h: HeaderMap, RawQuery(q): RawQuery) -> AuthResult {
    let p = person_with_scope(&s, &h, &t, CLIENT_DELEGATIONS_READ).await?;
    let q = QueryParams::parse(q);
    let (agent, delegations) = auth_call!(t, approvals(&s).enduser_delegated_clients(&p, q.get("agent")));
    Ok(Json(client_page(&agent, delegations.into_iter().map(|d| d.client))).into_response())
}

async fn enduser_change(s: AppState, t: TraceId, h: HeaderMap, q: Option<String>, add: bool) -> AuthResult {
    let p = person_with_scope(&s, &h, &t, CLIENT_DELEGATIONS_WRITE).await?;
    let q = QueryParams::parse(q);
    let (agent, client) = auth_call!(t, approvals(&s).enduser_change_client(&p, q.get("agent"), q.get("client"), add));
    Ok(Json(ClientDelegationResponse { agent: agent.row.id, client: client.party_uuid }).into_response())
}

#[utoipa::path(post, path = "/authentication/api/v1/enduser/systemuser/clients", tag = "authentication",
    security(("bearer" = ["altinn:clientdelegations.write"])),
    params(("agent" = String, Query, description = "the agent system user's id"), ("client" = String, Query, description = "the client's party uuid")),
    responses((status = 200, body = ClientDelegationResponse),
        (status = 400, description = "AUTH.VLD-00014/00015 on `?agent`, AUTH.VLD-00016 on `?client`, AUTH-00079 client not found, AUTH-00080 missing packages"),
        (status = 401), (status = 403), (status = 404, description = "System Owner not Found")))]
pub async fn enduser_add_client(State(s): State<AppState>, Extension(t): Extension<TraceId>, h: HeaderMap, RawQuery(q): RawQuery) -> AuthResult {
    enduser_change(s, t, h, q, true).await
}

#[utoipa::path(delete, path = "/authentication/api/v1/enduser/systemuser/clients", tag = "authentication",
    security(("bearer" = ["altinn:clientdelegations.write"])),
    params(("agent" = String, Query, description = "the agent system user's id"), ("client" = String, Query, description = "the client's party uuid")),
    responses((status = 200, body = ClientDelegationResponse),
        (status = 400, description = "AUTH.VLD-00014/00015 on `?agent`, AUTH.VLD-00016 on `?client`, AUTH-00038 nothing delegated"),
        (status = 401), (status = 403), (status = 404, description = "System Owner not Found")))]
pub async fn enduser_remove_client(State(s): State<AppState>, Extension(t): Extension<TraceId>, h: HeaderMap, RawQuery(q): RawQuery) -> AuthResult {
    enduser_change(s, t, h, q, false).await
}

#[utoipa::path(get, path = "/authentication/api/v1/enduser/systemuser/agents", tag = "authentication",
    security(("bearer" = ["altinn:clientdelegations.read"])), params(("party" = String, Query, description = "the organisation number")),
    responses((status = 200, body = Vec<SystemUserInternalDto>), (status = 401), (status = 403), (status = 404, description = "Party not found")))]
pub async fn enduser_agents(State(s): State<AppState>, Extension(t): Extension<TraceId>, h: HeaderMap, RawQuery(q): RawQuery) -> AuthResult {
    let p = person_with_scope(&s, &h, &t, CLIENT_DELEGATIONS_READ).await?;
    let q = QueryParams::parse(q);
    let views = auth_call!(t, approvals(&s).enduser_agents(&p, q.get("party").unwrap_or_default()));
    Ok(Json(views.into_iter().map(|v| internal_dto(v, false)).collect::<Vec<_>>()).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_names_are_case_insensitive_and_uuids_canonical() {
        let q = QueryParams::parse(Some("Client=6F0F0A1B-2C3D-4E5F-8A9B-0C1D2E3F4A5B&packages=a&PACKAGES=b&provider=x".into()));
        let t = TraceId("t".into());
        assert_eq!(q.get("client"), Some("6F0F0A1B-2C3D-4E5F-8A9B-0C1D2E3F4A5B"));
        assert_eq!(q.all("packages"), ["a", "b"]);
        assert_eq!(q.uuid("client", &t).ok().as_deref(), Some("6f0f0a1b-2c3d-4e5f-8a9b-0c1d2e3f4a5b"));
        assert!(q.uuid("provider", &t).is_err());
        assert!(q.uuid("missing", &t).is_err());
    }
}
