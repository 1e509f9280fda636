//! `/accessmanagement/api/v1/enduser/clientdelegations/…`: Access Management's client API
//! (registry-delegation-ui.md §4.2) for a facilitator's client administrators — its clients, its
//! agents, and the packages delegated per client and agent.
//!
//! Callers are persons with an Altinn token carrying `altinn:clientdelegations.read` (reads) or
//! `.write` (writes), or `altinn:portal/enduser`; the use case then checks the
//! client-administration gate for `?party=`. Bodies and lists are the reference's DTOs
//! (`ClientDto`, `AgentDto`, `AssignmentDto`, `DelegationDto`, lists as `PaginatedResult` with
//! everything on one page); errors are fullmakt's problem+json.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use fullmakt_domain::Catalogue;
use fullmakt_service::client_administration::{AgentAccess, AgentAssignment, AgentParty, DelegationChange, PackageBatch};
use fullmakt_service::client_delegation::{ClientAccess, Customer, CLIENT_DELEGATIONS_READ, CLIENT_DELEGATIONS_WRITE};
use fullmakt_service::requests::Approvals;
use fullmakt_service::{AdminError, PORTAL_SCOPE};
use fullmakt_store::{PartyKey, PartyRow};
use serde::{Deserialize, Serialize};

use crate::problem::{parse_json, Problem};
use crate::{AppState, TraceId};

// ---------------------------------------------------------------------------------------------
// Wire shapes.

/// `CompactEntityDto`: a client, a facilitator or an agent.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EntityDto {
    id: String,
    name: String,
    /// `Organisasjon`, `Person` or `Systembruker`.
    #[serde(rename = "type")]
    kind: &'static str,
    /// The unit type (`AS`, `ENK`, …), `Person`, or `AgentSystem`.
    variant: Option<String>,
    #[schema(value_type = Option<Object>)]
    key_values: Option<serde_json::Value>,
    #[schema(value_type = Option<Object>)]
    parent: Option<serde_json::Value>,
    #[schema(value_type = Option<Vec<Object>>)]
    children: Option<serde_json::Value>,
    #[serde(rename = "partyid")]
    party_id: Option<i64>,
    user_id: Option<i64>,
    username: Option<String>,
    organization_identifier: Option<String>,
    person_identifier: Option<String>,
    date_of_birth: Option<String>,
    date_of_death: Option<String>,
    is_deleted: bool,
    deleted_at: Option<String>,
}

impl EntityDto {
    fn bare(id: String, name: String, kind: &'static str, variant: Option<String>) -> Self {
        Self {
            id,
            name,
            kind,
            variant,
            key_values: None,
            parent: None,
            children: None,
            party_id: None,
            user_id: None,
            username: None,
            organization_identifier: None,
            person_identifier: None,
            date_of_birth: None,
            date_of_death: None,
            is_deleted: false,
            deleted_at: None,
        }
    }

    fn party(p: &PartyRow) -> Self {
        let person = p.party_type == "person";
        let variant = if person { Some("Person".to_owned()) } else { p.unit_type.clone() };
        let mut e = Self::bare(p.party_uuid.clone(), p.name.clone(), if person { "Person" } else { "Organisasjon" }, variant);
        e.party_id = Some(p.party_id);
        // A person's user id is their party id (ARCHITECTURE.md, "User ids").
        e.user_id = person.then_some(p.party_id);
        e.organization_identifier = p.org_number.clone();
        e.person_identifier = p.person_identifier.clone();
        e.is_deleted = p.is_deleted != 0;
        e
    }

    fn agent(a: &AgentParty) -> Self {
        match a {
            AgentParty::Person(p) => Self::party(p),
            AgentParty::SystemUser(row) => Self::bare(row.id.clone(), row.integration_title.clone(), "Systembruker", Some("AgentSystem".into())),
        }
    }
}

/// `CompactRoleDto`.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoleDto {
    id: String,
    code: String,
    urn: String,
    legacy_urn: Option<String>,
    #[schema(value_type = Option<Vec<Object>>)]
    children: Option<serde_json::Value>,
}

/// `CompactPackageDto`.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PackageDto {
    id: String,
    urn: String,
    area_id: String,
}

/// `RoleAccessPackages`: what one relation gives.
#[derive(Serialize, utoipa::ToSchema)]
pub struct RoleAccessDto {
    role: RoleDto,
    packages: Vec<PackageDto>,
}

fn role_access(catalogue: &Catalogue, a: &ClientAccess) -> RoleAccessDto {
    let role = match catalogue.role(&a.role_code) {
        Some(r) => RoleDto { id: r.id.clone(), code: r.code.clone(), urn: r.urn.clone(), legacy_urn: r.legacy_urn.clone(), children: None },
        None => RoleDto { id: String::new(), code: a.role_code.clone(), urn: a.role_urn.clone(), legacy_urn: None, children: None },
    };
    let packages = a
        .packages
        .iter()
        .map(|p| catalogue.package(p))
        .map(|p| PackageDto { id: p.id.clone(), urn: p.urn.clone(), area_id: catalogue.area(p.area).id.clone() })
        .collect();
    RoleAccessDto { role, packages }
}

/// `ClientDto`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ClientDto {
    client: EntityDto,
    access: Vec<RoleAccessDto>,
}

/// `AgentDto`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AgentDto {
    agent: EntityDto,
    access: Vec<RoleAccessDto>,
}

/// `PaginatedResult<T>`: every item on one page, `links.next` null.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Paginated<T> {
    links: PageLinks,
    data: Vec<T>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PageLinks {
    next: Option<String>,
}

fn page<T: Serialize>(data: Vec<T>) -> Response {
    (StatusCode::OK, Json(Paginated { links: PageLinks { next: None }, data })).into_response()
}

/// `AssignmentDto`.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AssignmentDto {
    id: String,
    role_id: String,
    from_id: String,
    to_id: String,
}

impl From<AgentAssignment> for AssignmentDto {
    fn from(a: AgentAssignment) -> Self {
        Self { id: a.id, role_id: a.role_id, from_id: a.from_id, to_id: a.to_id }
    }
}

/// `DelegationDto`.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DelegationDto {
    role_id: String,
    package_id: String,
    via_id: String,
    from_id: String,
    to_id: String,
    changed: bool,
}

impl From<DelegationChange> for DelegationDto {
    fn from(d: DelegationChange) -> Self {
        Self { role_id: d.role_id, package_id: d.package_id, via_id: d.via_id, from_id: d.from_id, to_id: d.to_id, changed: d.changed }
    }
}

/// `DelegationBatchInputDto`: `{"values": [{"role": URN, "packages": [URN, …]}]}`.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct DelegationBatchInput {
    #[schema(value_type = Vec<Object>)]
    values: Vec<PackageBatch>,
}

// ---------------------------------------------------------------------------------------------
// Reading the request.

/// The query string's parameters, names matched in any letter case as ASP.NET binds them.
struct Params(Vec<(String, String)>);

impl Params {
    fn new(raw: Option<String>) -> Self {
        Self(url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()).into_owned().collect())
    }

    fn values<'p>(&'p self, name: &'p str) -> impl Iterator<Item = &'p str> + 'p {
        self.0.iter().filter(move |(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn one<'p>(&'p self, name: &str, t: &TraceId) -> Result<Option<&'p str>, Problem> {
        let mut all = self.0.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str());
        let first = all.next();
        if all.next().is_some() {
            return Err(Problem::bad_request(format!("the query parameter {name} is given more than once"), t));
        }
        Ok(first)
    }

    fn required<'p>(&'p self, name: &str, t: &TraceId) -> Result<&'p str, Problem> {
        self.one(name, t)?.ok_or_else(|| Problem::bad_request(format!("the query parameter {name} is required"), t))
    }

    /// A repeatable list parameter (`roles=a&roles=b` or `roles=a,b`).
    fn list(&self, name: &str) -> Vec<String> {
        self.values(name).flat_map(|v| v.split(',')).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()).collect()
    }

    fn flag(&self, name: &str, t: &TraceId) -> Result<bool, Problem> {
        match self.one(name, t)? {
            None => Ok(false),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
            Some(_) => Err(Problem::bad_request(format!("the query parameter {name} must be true or false"), t)),
        }
    }
}

/// The calling person's register row, after the token and its scope are checked.
async fn person(s: &AppState, h: &HeaderMap, t: &TraceId, write: bool) -> Result<PartyRow, Problem> {
    let caller = crate::callers::person_caller(s, h, t).await?;
    let scope = if write { CLIENT_DELEGATIONS_WRITE } else { CLIENT_DELEGATIONS_READ };
    if !caller.has_scope(scope) && !caller.has_scope(PORTAL_SCOPE) {
        return Err(Problem::from_admin(AdminError::MissingScope(format!("{scope} (or {PORTAL_SCOPE})")), t));
    }
    match s.store.find_party(PartyKey::Id(caller.user_id)).await {
        Ok(Some(p)) if p.party_type == "person" && p.is_deleted == 0 => Ok(p),
        Ok(_) => Err(Problem::from_admin(AdminError::Unauthorized("the token's person is not in the register".into()), t)),
        Err(e) => Err(Problem::from_admin(e.into(), t)),
    }
}

fn approvals(s: &AppState) -> Approvals<'_> {
    Approvals { store: &s.store, catalogue: s.catalogue, gates: &s.gates, settings: &s.requests }
}

fn batch(body: &[u8], t: &TraceId) -> Result<Vec<PackageBatch>, Problem> {
    Ok(parse_json::<DelegationBatchInput>(body, t)?.values)
}

fn clients(s: &AppState, list: Vec<Customer>) -> Response {
    page(list.iter().map(|c| ClientDto { client: EntityDto::party(&c.party), access: c.access.iter().map(|a| role_access(s.catalogue, a)).collect() }).collect())
}

fn agents(s: &AppState, list: Vec<AgentAccess>) -> Response {
    page(list.iter().map(|a| AgentDto { agent: EntityDto::agent(&a.agent), access: a.access.iter().map(|x| role_access(s.catalogue, x)).collect() }).collect())
}

fn delegations(list: Vec<DelegationChange>) -> Response {
    (StatusCode::OK, Json(list.into_iter().map(DelegationDto::from).collect::<Vec<_>>())).into_response()
}

fn failed(t: &TraceId) -> impl Fn(AdminError) -> Problem + '_ {
    move |e| Problem::from_admin(e, t)
}

// ---------------------------------------------------------------------------------------------
// Handlers.

#[utoipa::path(get, path = "/accessmanagement/api/v1/enduser/clientdelegations/clients", tag = "access management",
    security(("bearer" = ["altinn:clientdelegations.read"]), ("bearer" = ["altinn:portal/enduser"])),
    params(("party" = String, Query, description = "The facilitator's party uuid"),
        ("roles" = Option<Vec<String>>, Query, description = "Only these relations (codes or URNs)"),
        ("packages" = Option<Vec<String>>, Query, description = "Only clients giving every one of these packages")),
    responses((status = 200, body = Paginated<ClientDto>), (status = 400), (status = 401), (status = 403), (status = 404)))]
pub async fn clients_of_party(State(s): State<AppState>, Extension(t): Extension<TraceId>, h: HeaderMap, RawQuery(q): RawQuery) -> Result<Response, Problem> {
    let q = Params::new(q);
    let person = person(&s, &h, &t, false).await?;
    let party = q.required("party", &t)?;
    let list = approvals(&s).facilitator_clients(&person, party, &q.list("roles"), &q.list("packages")).await.map_err(failed(&t))?;
    Ok(clients(&s, list))
}

#[utoipa::path(get, path = "/accessmanagement/api/v1/enduser/clientdelegations/agents", tag = "access management",
    security(("bearer" = ["altinn:clientdelegations.read"]), ("bearer" = ["altinn:portal/enduser"])),
    params(("party" = String, Query, description = "The facilitator's party uuid")),
    responses((status = 200, body = Paginated<AgentDto>), (status = 400), (status = 401), (status = 403), (status = 404)))]
pub async fn agents_of_party(State(s): State<AppState>, Extension(t): Extension<TraceId>, h: HeaderMap, RawQuery(q): RawQuery) -> Result<Response, Problem> {
    let q = Params::new(q);
    let person = person(&s, &h, &t, false).await?;
    let list = approvals(&s).facilitator_agents(&person, q.required("party", &t)?).await.map_err(failed(&t))?;
    Ok(agents(&s, list))
}

#[utoipa::path(post, path = "/accessmanagement/api/v1/enduser/clientdelegations/agents", tag = "access management",
    security(("bearer" = ["altinn:clientdelegations.write"]), ("bearer" = ["altinn:portal/enduser"])),
    params(("party" = String, Query, description = "The facilitator's party uuid"),
        ("to" = String, Query, description = "A person's party uuid or an agent system user's id")),
    responses((status = 200, body = AssignmentDto), (status = 400), (status = 401), (status = 403), (status = 404)))]
pub async fn add_agent(State(s): State<AppState>, Extension(t): Extension<TraceId>, h: HeaderMap, RawQuery(q): RawQuery) -> Result<Response, Problem> {
    let q = Params::new(q);
    let person = person(&s, &h, &t, true).await?;
    let (party, to) = (q.required("party", &t)?, q.required("to", &t)?);
    let assignment = approvals(&s).add_facilitator_agent(&person, party, to).await.map_err(failed(&t))?;
    Ok((StatusCode::OK, Json(AssignmentDto::from(assignment))).into_response())
}

#[utoipa::path(delete, path = "/accessmanagement/api/v1/enduser/clientdelegations/agents", tag = "access management",
    security(("bearer" = ["altinn:clientdelegations.write"]), ("bearer" = ["altinn:portal/enduser"])),
    params(("party" = String, Query, description = "The facilitator's party uuid"), ("to" = String, Query, description = "The agent"),
        ("cascade" = Option<bool>, Query, description = "Remove the agent's client delegations too")),
    responses((status = 204), (status = 400), (status = 401), (status = 403), (status = 404)))]
pub async fn remove_agent(State(s): State<AppState>, Extension(t): Extension<TraceId>, h: HeaderMap, RawQuery(q): RawQuery) -> Result<Response, Problem> {
    let q = Params::new(q);
    let person = person(&s, &h, &t, true).await?;
    let (party, to, cascade) = (q.required("party", &t)?, q.required("to", &t)?, q.flag("cascade", &t)?);
    approvals(&s).remove_facilitator_agent(&person, party, to, cascade).await.map_err(failed(&t))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(get, path = "/accessmanagement/api/v1/enduser/clientdelegations/agents/accesspackages", tag = "access management",
    security(("bearer" = ["altinn:clientdelegations.read"]), ("bearer" = ["altinn:portal/enduser"])),
    params(("party" = String, Query, description = "The facilitator's party uuid"), ("to" = String, Query, description = "The agent")),
    responses((status = 200, body = Paginated<ClientDto>), (status = 400), (status = 401), (status = 403), (status = 404)))]
pub async fn agent_packages(State(s): State<AppState>, Extension(t): Extension<TraceId>, h: HeaderMap, RawQuery(q): RawQuery) -> Result<Response, Problem> {
    let q = Params::new(q);
    let person = person(&s, &h, &t, false).await?;
    let (party, to) = (q.required("party", &t)?, q.required("to", &t)?);
    let list = approvals(&s).agent_client_packages(&person, party, to).await.map_err(failed(&t))?;
    Ok(clients(&s, list))
}

#[utoipa::path(post, path = "/accessmanagement/api/v1/enduser/clientdelegations/agents/accesspackages", tag = "access management",
    security(("bearer" = ["altinn:clientdelegations.write"]), ("bearer" = ["altinn:portal/enduser"])),
    params(("party" = String, Query, description = "The facilitator's party uuid"), ("from" = String, Query, description = "The client's party uuid"),
        ("to" = String, Query, description = "The agent")),
    request_body = DelegationBatchInput,
    responses((status = 200, body = Vec<DelegationDto>), (status = 400), (status = 401), (status = 403), (status = 404), (status = 409)))]
pub async fn delegate_packages(State(s): State<AppState>, Extension(t): Extension<TraceId>, h: HeaderMap, RawQuery(q): RawQuery, body: Bytes) -> Result<Response, Problem> {
    let q = Params::new(q);
    let person = person(&s, &h, &t, true).await?;
    let (party, from, to) = (q.required("party", &t)?, q.required("from", &t)?, q.required("to", &t)?);
    let values = batch(&body, &t)?;
    let list = approvals(&s).delegate_agent_packages(&person, party, from, to, &values).await.map_err(failed(&t))?;
    Ok(delegations(list))
}

#[utoipa::path(delete, path = "/accessmanagement/api/v1/enduser/clientdelegations/agents/accesspackages", tag = "access management",
    security(("bearer" = ["altinn:clientdelegations.write"]), ("bearer" = ["altinn:portal/enduser"])),
    params(("party" = String, Query, description = "The facilitator's party uuid"), ("from" = String, Query, description = "The client's party uuid"),
        ("to" = String, Query, description = "The agent")),
    request_body = DelegationBatchInput,
    responses((status = 200, body = Vec<DelegationDto>), (status = 400), (status = 401), (status = 403), (status = 404)))]
pub async fn revoke_packages(State(s): State<AppState>, Extension(t): Extension<TraceId>, h: HeaderMap, RawQuery(q): RawQuery, body: Bytes) -> Result<Response, Problem> {
    let q = Params::new(q);
    let person = person(&s, &h, &t, true).await?;
    let (party, from, to) = (q.required("party", &t)?, q.required("from", &t)?, q.required("to", &t)?);
    let values = batch(&body, &t)?;
    let list = approvals(&s).revoke_agent_packages(&person, party, from, to, &values).await.map_err(failed(&t))?;
    Ok(delegations(list))
}

#[utoipa::path(delete, path = "/accessmanagement/api/v1/enduser/clientdelegations/agents/clients", tag = "access management",
    security(("bearer" = ["altinn:clientdelegations.write"]), ("bearer" = ["altinn:portal/enduser"])),
    params(("party" = String, Query, description = "The facilitator's party uuid"), ("from" = String, Query, description = "The client's party uuid"),
        ("to" = String, Query, description = "The agent"),
        ("cascade" = Option<bool>, Query, description = "Accepted for the reference's clients; removing a client's delegations leaves nothing to cascade")),
    responses((status = 204), (status = 400), (status = 401), (status = 403), (status = 404)))]
pub async fn remove_client(State(s): State<AppState>, Extension(t): Extension<TraceId>, h: HeaderMap, RawQuery(q): RawQuery) -> Result<Response, Problem> {
    let q = Params::new(q);
    let person = person(&s, &h, &t, true).await?;
    let (party, from, to) = (q.required("party", &t)?, q.required("from", &t)?, q.required("to", &t)?);
    q.flag("cascade", &t)?;
    approvals(&s).remove_agent_client(&person, party, from, to).await.map_err(failed(&t))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(get, path = "/accessmanagement/api/v1/enduser/clientdelegations/clients/accesspackages", tag = "access management",
    security(("bearer" = ["altinn:clientdelegations.read"]), ("bearer" = ["altinn:portal/enduser"])),
    params(("party" = String, Query, description = "The facilitator's party uuid"), ("from" = String, Query, description = "The client's party uuid")),
    responses((status = 200, body = Paginated<AgentDto>), (status = 400), (status = 401), (status = 403), (status = 404)))]
pub async fn client_packages(State(s): State<AppState>, Extension(t): Extension<TraceId>, h: HeaderMap, RawQuery(q): RawQuery) -> Result<Response, Problem> {
    let q = Params::new(q);
    let person = person(&s, &h, &t, false).await?;
    let (party, from) = (q.required("party", &t)?, q.required("from", &t)?);
    let list = approvals(&s).client_agent_packages(&person, party, from).await.map_err(failed(&t))?;
    Ok(agents(&s, list))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parameters_are_read_in_any_case_and_lists_split() {
        let t = TraceId("t".into());
        let q = Params::new(Some("Party=a&roles=x,y&ROLES=z&cascade=TRUE&to=1&to=2".into()));
        assert_eq!(q.required("party", &t).ok(), Some("a"));
        assert_eq!(q.list("roles"), ["x", "y", "z"]);
        assert_eq!(q.flag("cascade", &t).ok(), Some(true));
        assert_eq!(q.one("to", &t).err().map(|e| e.status), Some(400));
        assert_eq!(q.required("from", &t).err().map(|e| e.status), Some(400));
        assert_eq!(Params::new(Some("cascade=yes".into())).flag("cascade", &t).err().map(|e| e.status), Some(400));
    }
}
