//! `/authentication/api/v1/systemuser…`: requests, change requests and system users
//! (authentication-api.md §1.2–§1.4). Vendor routes take the vendor's bearer token; the
//! portal's routes a person's token. Bodies follow the reference's DTOs (camelCase, nulls
//! left out); lists are `Paginated` with an absolute `links.next` built from the public URL (or
//! the scheme and host a proxy forwarded).

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::header::LOCATION;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::{Extension, Json};
use base64::Engine;
use fullmakt_domain::system_register::{from_json_any_case, AccessPackage, Right};
use fullmakt_service::change_requests::{self, ChangeRequestView, NewChangeRequest};
use fullmakt_service::requests::{self, NewRequest, RequestSettings, RequestView, UserType};
use fullmakt_service::system_users::{self as users, SystemUserView};
use fullmakt_service::clock::rfc3339;
use fullmakt_store::{ListCursor, SystemUserRow};
use serde::{Deserialize, Serialize};

use crate::admin::caller;
use crate::altinn_problem::{AuthResult, Failure};
use crate::problem::Problem;
use crate::{AppState, TraceId};

/// Items per page of every list, as the reference's production setting.
pub const PAGE_SIZE: usize = 50;
const BASE: &str = "/authentication/api/v1";

// ---------------------------------------------------------------------------------------------
// Wire shapes.

/// `RequestSystemResponse` / `AgentRequestSystemResponse` (no `rights`).
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RequestSystemResponse {
    id: String,
    integration_title: String,
    external_ref: String,
    system_id: String,
    party_org_no: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    rights: Option<Vec<Right>>,
    #[schema(value_type = Vec<Object>)]
    access_packages: Vec<AccessPackage>,
    status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    redirect_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    confirm_url: Option<String>,
    escalated: bool,
    created: String,
    timed_out: bool,
}

fn request_response(v: RequestView, settings: Option<&RequestSettings>) -> RequestSystemResponse {
    RequestSystemResponse {
        confirm_url: settings.map(|s| s.confirm_url(v.user_type, &v.id)),
        rights: (v.user_type == UserType::Standard).then_some(v.rights),
        id: v.id,
        integration_title: v.integration_title,
        external_ref: v.external_ref,
        system_id: v.system_id,
        party_org_no: v.party_org_no,
        access_packages: v.access_packages,
        status: v.status,
        redirect_url: v.redirect_url,
        escalated: v.escalated,
        created: rfc3339(v.created),
        timed_out: v.timed_out,
    }
}

/// `ChangeRequestResponse`.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChangeRequestResponse {
    id: String,
    external_ref: String,
    system_id: String,
    system_user_id: String,
    party_org_no: String,
    #[schema(value_type = Vec<Object>)]
    required_rights: Vec<Right>,
    #[schema(value_type = Vec<Object>)]
    unwanted_rights: Vec<Right>,
    #[schema(value_type = Vec<Object>)]
    required_access_packages: Vec<AccessPackage>,
    #[schema(value_type = Vec<Object>)]
    unwanted_access_packages: Vec<AccessPackage>,
    status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    redirect_url: Option<String>,
    confirm_url: String,
    created: String,
    timed_out: bool,
}

fn change_response(v: ChangeRequestView, settings: &RequestSettings) -> ChangeRequestResponse {
    ChangeRequestResponse {
        confirm_url: v.confirm_url(settings),
        id: v.id,
        external_ref: v.external_ref,
        system_id: v.system_id,
        system_user_id: v.system_user_id,
        party_org_no: v.party_org_no,
        required_rights: v.required_rights,
        unwanted_rights: v.unwanted_rights,
        required_access_packages: v.required_access_packages,
        unwanted_access_packages: v.unwanted_access_packages,
        status: v.status,
        redirect_url: v.redirect_url,
        created: rfc3339(v.created),
        timed_out: v.timed_out,
    }
}

/// `SystemUserExternalDTO`: what vendors and the token service see of a system user.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SystemUserExternalDto {
    id: String,
    integration_title: String,
    system_id: String,
    product_name: String,
    reportee_org_no: String,
    created: String,
    is_deleted: bool,
    supplier_name: String,
    supplier_orgno: String,
    external_ref: String,
    user_type: String,
}

fn external_dto(v: SystemUserView) -> SystemUserExternalDto {
    SystemUserExternalDto {
        product_name: v.row.system_id.clone(),
        id: v.row.id,
        integration_title: v.row.integration_title,
        system_id: v.row.system_id,
        reportee_org_no: v.row.owner_org_no,
        created: rfc3339(v.row.created),
        is_deleted: v.row.is_deleted != 0,
        supplier_name: String::new(),
        supplier_orgno: v.vendor_orgno,
        external_ref: v.row.external_ref,
        user_type: v.row.user_type,
    }
}

/// `SystemUserRegisterDTO`: an entry of Register's change stream.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SystemUserRegisterDto {
    id: String,
    party_org_no: String,
    party_id: String,
    integration_title: String,
    is_deleted: bool,
    last_changed: String,
    created: String,
    sequence_no: i64,
    system_user_type: String,
}

fn register_dto(r: SystemUserRow) -> SystemUserRegisterDto {
    SystemUserRegisterDto {
        party_id: r.owner_party_id.to_string(),
        id: r.id,
        party_org_no: r.owner_org_no,
        integration_title: r.integration_title,
        is_deleted: r.is_deleted != 0,
        last_changed: rfc3339(r.last_changed),
        created: rfc3339(r.created),
        sequence_no: r.stream_position,
        system_user_type: r.user_type,
    }
}

// ---------------------------------------------------------------------------------------------
// Paging.

#[derive(Deserialize)]
pub struct PageQuery {
    token: Option<String>,
}

/// A page token is base64url (no padding) of the JSON of the key: `[list position, "id"]`.
fn decode_cursor(token: Option<&str>, t: &TraceId) -> Result<Option<ListCursor>, Problem> {
    let Some(token) = token.filter(|s| !s.is_empty()) else { return Ok(None) };
    let bad = || Problem::bad_request("the page token is not one this server gave out", t);
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token).map_err(|_| bad())?;
    serde_json::from_slice::<ListCursor>(&bytes).map(Some).map_err(|_| bad())
}

fn encode_cursor(cursor: &ListCursor) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(cursor).unwrap_or_default())
}

/// The base of `links.next`: the public URL, with the scheme and host a proxy forwarded when it
/// sends them (the last `X-Forwarded-Proto` and `X-Forwarded-Host` values, as the reference's
/// `Url.Link` behind ASP.NET's forwarded-headers middleware). A forwarded value that is not a
/// plain `http`/`https` or `host[:port]` is ignored rather than written into a link.
fn link_base(s: &AppState, h: &HeaderMap) -> String {
    let last = |name: &str| {
        h.get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .rfind(|v| !v.is_empty())
            .map(str::to_ascii_lowercase)
    };
    let (proto, host) = (last("x-forwarded-proto"), last("x-forwarded-host"));
    if proto.is_none() && host.is_none() {
        return s.public_url.clone();
    }
    let Ok(mut base) = url::Url::parse(&s.public_url) else { return s.public_url.clone() };
    if let Some(proto) = proto.filter(|p| p == "http" || p == "https") {
        // Between two special schemes this cannot fail.
        let _ = base.set_scheme(&proto);
    }
    if let Some(host) = host {
        let forwarded = url::Url::parse(&format!("{}://{host}", base.scheme())).ok().filter(|u| {
            u.path() == "/" && u.username().is_empty() && u.password().is_none() && u.query().is_none() && u.fragment().is_none()
        });
        if let Some(forwarded) = forwarded {
            if base.set_host(forwarded.host_str()).is_ok() {
                let _ = base.set_port(forwarded.port());
            }
        }
    }
    base.as_str().trim_end_matches('/').to_owned()
}

fn paginated<T: Serialize>(s: &AppState, h: &HeaderMap, path: &str, data: Vec<T>, next: Option<ListCursor>) -> serde_json::Value {
    let next = next.map(|c| format!("{}{path}?token={}", link_base(s, h), encode_cursor(&c)));
    match next {
        Some(next) => serde_json::json!({"links": {"next": next}, "data": data}),
        None => serde_json::json!({"links": {}, "data": data}),
    }
}

fn body<T: serde::de::DeserializeOwned>(bytes: &[u8], what: &str, t: &TraceId) -> Result<T, Failure> {
    from_json_any_case(bytes).map_err(|e| Failure::Problem(Problem::bad_request(format!("the body is not a valid {what}: {e}"), t)))
}

// ---------------------------------------------------------------------------------------------
// Vendor: requests.

async fn create_request(s: AppState, t: TraceId, h: HeaderMap, bytes: Bytes, kind: UserType) -> AuthResult {
    let c = caller(&s, &h, &t).await?;
    let input: NewRequest = body(&bytes, "CreateRequestSystemUser", &t)?;
    let (view, created) = auth_call!(t, requests::create(&s.store, s.catalogue, &s.requests, &c, kind, input));
    let location = s.requests.location(&view.id);
    let response = Json(request_response(view, Some(&s.requests)));
    Ok(if created { (StatusCode::CREATED, [(LOCATION, location)], response).into_response() } else { response.into_response() })
}

#[utoipa::path(post, path = "/authentication/api/v1/systemuser/request/vendor", tag = "authentication",
    security(("bearer" = ["altinn:authentication/systemuser.request.write"])), request_body(content = Object, description = "CreateRequestSystemUser"),
    responses((status = 201, body = RequestSystemResponse), (status = 200, body = RequestSystemResponse, description = "the existing request"),
        (status = 400), (status = 401), (status = 403), (status = 404)))]
pub async fn create_standard_request(State(s): State<AppState>, Extension(t): Extension<TraceId>, h: HeaderMap, bytes: Bytes) -> AuthResult {
    create_request(s, t, h, bytes, UserType::Standard).await
}

#[utoipa::path(post, path = "/authentication/api/v1/systemuser/request/vendor/agent", tag = "authentication",
    security(("bearer" = ["altinn:authentication/systemuser.request.write"])), request_body(content = Object, description = "CreateAgentRequestSystemUser"),
    responses((status = 201, body = RequestSystemResponse), (status = 200, body = RequestSystemResponse, description = "the existing request"),
        (status = 400), (status = 401), (status = 403), (status = 404)))]
pub async fn create_agent_request(State(s): State<AppState>, Extension(t): Extension<TraceId>, h: HeaderMap, bytes: Bytes) -> AuthResult {
    create_request(s, t, h, bytes, UserType::Agent).await
}

async fn vendor_request(s: AppState, t: TraceId, h: HeaderMap, id: String, kind: UserType) -> AuthResult {
    let c = caller(&s, &h, &t).await?;
    let view = auth_call!(t, requests::vendor_get(&s.store, &s.requests, &c, kind, &id));
    Ok(Json(request_response(view, Some(&s.requests))).into_response())
}

#[utoipa::path(get, path = "/authentication/api/v1/systemuser/request/vendor/{requestId}", tag = "authentication",
    security(("bearer" = ["altinn:authentication/systemuser.request.read"])), params(("requestId" = String, Path)),
    responses((status = 200, body = RequestSystemResponse), (status = 401), (status = 403), (status = 404)))]
pub async fn get_standard_request(State(s): State<AppState>, Extension(t): Extension<TraceId>, h: HeaderMap, Path(id): Path<String>) -> AuthResult {
    vendor_request(s, t, h, id, UserType::Standard).await
}

#[utoipa::path(get, path = "/authentication/api/v1/systemuser/request/vendor/agent/{requestId}", tag = "authentication",
    security(("bearer" = ["altinn:authentication/systemuser.request.read"])), params(("requestId" = String, Path)),
    responses((status = 200, body = RequestSystemResponse), (status = 401), (status = 403), (status = 404)))]
pub async fn get_agent_request(State(s): State<AppState>, Extension(t): Extension<TraceId>, h: HeaderMap, Path(id): Path<String>) -> AuthResult {
    vendor_request(s, t, h, id, UserType::Agent).await
}

async fn by_external_ref(s: AppState, t: TraceId, h: HeaderMap, (system, org, external_ref): (String, String, String), kind: UserType) -> AuthResult {
    let c = caller(&s, &h, &t).await?;
    let view = auth_call!(t, requests::vendor_get_by_external_ref(&s.store, &s.requests, &c, kind, &system, &org, &external_ref));
    Ok(Json(request_response(view, Some(&s.requests))).into_response())
}

#[utoipa::path(get, path = "/authentication/api/v1/systemuser/request/vendor/byexternalref/{systemId}/{orgNo}/{externalRef}", tag = "authentication",
    security(("bearer" = ["altinn:authentication/systemuser.request.read"])),
    params(("systemId" = String, Path), ("orgNo" = String, Path), ("externalRef" = String, Path)),
    responses((status = 200, body = RequestSystemResponse), (status = 401), (status = 403), (status = 404)))]
pub async fn standard_request_by_external_ref(
    State(s): State<AppState>,
    Extension(t): Extension<TraceId>,
    h: HeaderMap,
    Path(key): Path<(String, String, String)>,
) -> AuthResult {
    by_external_ref(s, t, h, key, UserType::Standard).await
}

#[utoipa::path(get, path = "/authentication/api/v1/systemuser/request/vendor/agent/byexternalref/{systemId}/{orgNo}/{externalRef}", tag = "authentication",
    security(("bearer" = ["altinn:authentication/systemuser.request.read"])),
    params(("systemId" = String, Path), ("orgNo" = String, Path), ("externalRef" = String, Path)),
    responses((status = 200, body = RequestSystemResponse), (status = 401), (status = 403), (status = 404)))]
pub async fn agent_request_by_external_ref(
    State(s): State<AppState>,
    Extension(t): Extension<TraceId>,
    h: HeaderMap,
    Path(key): Path<(String, String, String)>,
) -> AuthResult {
    by_external_ref(s, t, h, key, UserType::Agent).await
}

async fn requests_by_system(s: AppState, t: TraceId, h: HeaderMap, system: String, q: PageQuery, kind: UserType) -> AuthResult {
    let c = caller(&s, &h, &t).await?;
    let after = decode_cursor(q.token.as_deref(), &t)?;
    let (views, next) = auth_call!(t, requests::vendor_list(&s.store, &s.requests, &c, kind, &system, after, PAGE_SIZE));
    let data: Vec<_> = views.into_iter().map(|v| request_response(v, Some(&s.requests))).collect();
    let path = match kind {
        UserType::Standard => format!("{BASE}/systemuser/request/vendor/bysystem/{system}"),
        UserType::Agent => format!("{BASE}/systemuser/request/vendor/agent/bysystem/{system}"),
    };
    Ok(Json(paginated(&s, &h, &path, data, next)).into_response())
}

#[utoipa::path(get, path = "/authentication/api/v1/systemuser/request/vendor/bysystem/{systemId}", tag = "authentication",
    security(("bearer" = ["altinn:authentication/systemuser.request.read"])), params(("systemId" = String, Path), ("token" = Option<String>, Query)),
    responses((status = 200, description = "Paginated<RequestSystemResponse>"), (status = 400), (status = 401), (status = 403), (status = 404)))]
pub async fn standard_requests_by_system(
    State(s): State<AppState>,
    Extension(t): Extension<TraceId>,
    h: HeaderMap,
    Path(system): Path<String>,
    Query(q): Query<PageQuery>,
) -> AuthResult {
    requests_by_system(s, t, h, system, q, UserType::Standard).await
}

#[utoipa::path(get, path = "/authentication/api/v1/systemuser/request/vendor/agent/bysystem/{systemId}", tag = "authentication",
    security(("bearer" = ["altinn:authentication/systemuser.request.read"])), params(("systemId" = String, Path), ("token" = Option<String>, Query)),
    responses((status = 200, description = "Paginated<AgentRequestSystemResponse>"), (status = 400), (status = 401), (status = 403), (status = 404)))]
pub async fn agent_requests_by_system(
    State(s): State<AppState>,
    Extension(t): Extension<TraceId>,
    h: HeaderMap,
    Path(system): Path<String>,
    Query(q): Query<PageQuery>,
) -> AuthResult {
    requests_by_system(s, t, h, system, q, UserType::Agent).await
}

#[utoipa::path(delete, path = "/authentication/api/v1/systemuser/request/vendor/{requestId}", tag = "authentication",
    security(("bearer" = ["altinn:authentication/systemuser.request.write"])), params(("requestId" = String, Path)),
    responses((status = 202), (status = 401), (status = 403), (status = 404)))]
pub async fn delete_request(State(s): State<AppState>, Extension(t): Extension<TraceId>, h: HeaderMap, Path(id): Path<String>) -> AuthResult {
    let c = caller(&s, &h, &t).await?;
    auth_call!(t, requests::vendor_delete(&s.store, &c, &id));
    Ok(StatusCode::ACCEPTED.into_response())
}

// ---------------------------------------------------------------------------------------------
// Vendor: change requests.

#[derive(Deserialize)]
pub struct ChangeRequestQuery {
    #[serde(rename = "correlation-id")]
    correlation_id: Option<String>,
    #[serde(rename = "system-user-id")]
    system_user_id: Option<String>,
}

#[utoipa::path(post, path = "/authentication/api/v1/systemuser/changerequest/vendor", tag = "authentication",
    security(("bearer" = ["altinn:authentication/systemuser.request.write"])),
    params(("correlation-id" = String, Query), ("system-user-id" = String, Query)),
    request_body(content = Object, description = "ChangeRequestSystemUser"),
    responses((status = 201, body = ChangeRequestResponse), (status = 200, body = ChangeRequestResponse, description = "existing, or NoChangeNeeded"),
        (status = 400), (status = 401), (status = 403), (status = 404)))]
pub async fn create_change_request(
    State(s): State<AppState>,
    Extension(t): Extension<TraceId>,
    h: HeaderMap,
    Query(q): Query<ChangeRequestQuery>,
    bytes: Bytes,
) -> AuthResult {
    let c = caller(&s, &h, &t).await?;
    let (Some(correlation), Some(system_user)) = (q.correlation_id, q.system_user_id) else {
        return Err(Failure::Auth(
            fullmakt_service::AuthError::text(400, "The correlation-id and system-user-id query parameters are required."),
            t.0.clone(),
        ));
    };
    let input: NewChangeRequest = if bytes.is_empty() { NewChangeRequest::default() } else { body(&bytes, "ChangeRequestSystemUser", &t)? };
    let (view, created) = auth_call!(t, change_requests::create(&s.store, s.catalogue, &s.requests, &c, &correlation, &system_user, input));
    let location = format!("{}{BASE}/systemuser/changerequest/{}", s.public_url, view.id);
    let response = Json(change_response(view, &s.requests));
    Ok(if created { (StatusCode::CREATED, [(LOCATION, location)], response).into_response() } else { response.into_response() })
}

#[utoipa::path(get, path = "/authentication/api/v1/systemuser/changerequest/vendor/{requestId}", tag = "authentication",
    security(("bearer" = ["altinn:authentication/systemuser.request.read"])), params(("requestId" = String, Path)),
    responses((status = 200, body = ChangeRequestResponse), (status = 401), (status = 403), (status = 404)))]
pub async fn get_change_request(State(s): State<AppState>, Extension(t): Extension<TraceId>, h: HeaderMap, Path(id): Path<String>) -> AuthResult {
    let c = caller(&s, &h, &t).await?;
    let view = auth_call!(t, change_requests::vendor_get(&s.store, &s.requests, &c, &id));
    Ok(Json(change_response(view, &s.requests)).into_response())
}

#[utoipa::path(get, path = "/authentication/api/v1/systemuser/changerequest/vendor/byexternalref/{systemId}/{orgNo}/{externalRef}", tag = "authentication",
    security(("bearer" = ["altinn:authentication/systemuser.request.read"])),
    params(("systemId" = String, Path), ("orgNo" = String, Path), ("externalRef" = String, Path)),
    responses((status = 200, body = ChangeRequestResponse), (status = 401), (status = 403), (status = 404)))]
pub async fn change_request_by_external_ref(
    State(s): State<AppState>,
    Extension(t): Extension<TraceId>,
    h: HeaderMap,
    Path((system, org, external_ref)): Path<(String, String, String)>,
) -> AuthResult {
    let c = caller(&s, &h, &t).await?;
    let view = auth_call!(t, change_requests::vendor_get_by_external_ref(&s.store, &s.requests, &c, &system, &org, &external_ref));
    Ok(Json(change_response(view, &s.requests)).into_response())
}

#[utoipa::path(get, path = "/authentication/api/v1/systemuser/changerequest/vendor/bysystem/{systemId}", tag = "authentication",
    security(("bearer" = ["altinn:authentication/systemuser.request.read"])), params(("systemId" = String, Path), ("token" = Option<String>, Query)),
    responses((status = 200, description = "Paginated<ChangeRequestResponse>"), (status = 400), (status = 401), (status = 403), (status = 404)))]
pub async fn change_requests_by_system(
    State(s): State<AppState>,
    Extension(t): Extension<TraceId>,
    h: HeaderMap,
    Path(system): Path<String>,
    Query(q): Query<PageQuery>,
) -> AuthResult {
    let c = caller(&s, &h, &t).await?;
    let after = decode_cursor(q.token.as_deref(), &t)?;
    let (views, next) = auth_call!(t, change_requests::vendor_list(&s.store, &s.requests, &c, &system, after, PAGE_SIZE));
    let data: Vec<_> = views.into_iter().map(|v| change_response(v, &s.requests)).collect();
    Ok(Json(paginated(&s, &h, &format!("{BASE}/systemuser/changerequest/vendor/bysystem/{system}"), data, next)).into_response())
}

#[utoipa::path(delete, path = "/authentication/api/v1/systemuser/changerequest/vendor/{requestId}", tag = "authentication",
    security(("bearer" = ["altinn:authentication/systemuser.request.write"])), params(("requestId" = String, Path)),
    responses((status = 202), (status = 401), (status = 403), (status = 404)))]
pub async fn delete_change_request(State(s): State<AppState>, Extension(t): Extension<TraceId>, h: HeaderMap, Path(id): Path<String>) -> AuthResult {
    let c = caller(&s, &h, &t).await?;
    auth_call!(t, change_requests::vendor_delete(&s.store, &c, &id));
    Ok(StatusCode::ACCEPTED.into_response())
}

// ---------------------------------------------------------------------------------------------
// Vendor, token service and Register: system users.

#[derive(Deserialize)]
pub struct ByExternalIdQuery {
    #[serde(rename = "clientId", alias = "clientid", alias = "ClientId")]
    client_id: Option<String>,
    #[serde(rename = "systemProviderOrgNo", alias = "systemproviderorgno", alias = "SystemProviderOrgNo")]
    system_provider_org_no: Option<String>,
    #[serde(rename = "systemUserOwnerOrgNo", alias = "systemuserownerorgno", alias = "SystemUserOwnerOrgNo")]
    system_user_owner_org_no: Option<String>,
    #[serde(rename = "externalRef", alias = "externalref", alias = "ExternalRef")]
    external_ref: Option<String>,
}

#[utoipa::path(get, path = "/authentication/api/v1/systemuser/byExternalId", tag = "authentication",
    security(("bearer" = ["altinn:maskinporten/systemuser.read"])),
    params(("clientId" = String, Query), ("systemProviderOrgNo" = String, Query), ("systemUserOwnerOrgNo" = String, Query), ("externalRef" = Option<String>, Query)),
    responses((status = 200, body = SystemUserExternalDto), (status = 400), (status = 401), (status = 403), (status = 404)))]
pub async fn by_external_id(State(s): State<AppState>, Extension(t): Extension<TraceId>, h: HeaderMap, Query(q): Query<ByExternalIdQuery>) -> AuthResult {
    let c = caller(&s, &h, &t).await?;
    let (Some(client), Some(vendor), Some(owner)) = (q.client_id, q.system_provider_org_no, q.system_user_owner_org_no) else {
        return Err(Failure::Problem(Problem::bad_request("clientId, systemProviderOrgNo and systemUserOwnerOrgNo are required", &t)));
    };
    let found = auth_call!(t, users::by_external_id(&s.store, &c, &client, &vendor, &owner, q.external_ref.as_deref()));
    let headers = [(axum::http::header::CACHE_CONTROL, "no-store")];
    Ok(match found {
        Some(v) => (headers, Json(external_dto(v))).into_response(),
        None => (StatusCode::NOT_FOUND, headers).into_response(),
    })
}

#[derive(Deserialize)]
pub struct ByQuery {
    #[serde(rename = "system-id")]
    system_id: Option<String>,
    orgno: Option<String>,
    #[serde(rename = "external-ref")]
    external_ref: Option<String>,
}

#[utoipa::path(get, path = "/authentication/api/v1/systemuser/vendor/byquery", tag = "authentication",
    security(("bearer" = ["altinn:authentication/systemuser.request.write"])),
    params(("system-id" = String, Query), ("orgno" = String, Query), ("external-ref" = Option<String>, Query)),
    responses((status = 200, body = SystemUserExternalDto), (status = 400), (status = 401), (status = 403), (status = 404)))]
pub async fn vendor_by_query(State(s): State<AppState>, Extension(t): Extension<TraceId>, h: HeaderMap, Query(q): Query<ByQuery>) -> AuthResult {
    let c = caller(&s, &h, &t).await?;
    let (Some(system), Some(org)) = (q.system_id, q.orgno) else {
        return Err(Failure::Problem(Problem::bad_request("system-id and orgno are required", &t)));
    };
    Ok(match auth_call!(t, users::vendor_by_query(&s.store, &c, &system, &org, q.external_ref.as_deref())) {
        Some(v) => Json(external_dto(v)).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    })
}

#[utoipa::path(get, path = "/authentication/api/v1/systemuser/vendor/bysystem/{systemId}", tag = "authentication",
    security(("bearer" = ["altinn:authentication/systemregister.write"])), params(("systemId" = String, Path), ("token" = Option<String>, Query)),
    responses((status = 200, description = "Paginated<SystemUserExternalDTO>"), (status = 400), (status = 401), (status = 403), (status = 404)))]
pub async fn vendor_by_system(
    State(s): State<AppState>,
    Extension(t): Extension<TraceId>,
    h: HeaderMap,
    Path(system): Path<String>,
    Query(q): Query<PageQuery>,
) -> AuthResult {
    let c = caller(&s, &h, &t).await?;
    let after = decode_cursor(q.token.as_deref(), &t)?;
    let (views, next) = auth_call!(t, users::vendor_by_system(&s.store, &c, &system, after, PAGE_SIZE));
    let data: Vec<_> = views.into_iter().map(external_dto).collect();
    Ok(Json(paginated(&s, &h, &format!("{BASE}/systemuser/vendor/bysystem/{system}"), data, next)).into_response())
}

#[derive(Deserialize)]
pub struct StreamQuery {
    token: Option<String>,
}

#[utoipa::path(get, path = "/authentication/api/v1/systemuser/internal/systemusers/stream", tag = "authentication",
    security(("bearer" = ["altinn:authentication/systemuser.admin"])), params(("token" = Option<String>, Query)),
    responses((status = 200, description = "ItemStream<SystemUserRegisterDTO>"), (status = 400), (status = 401), (status = 403)))]
pub async fn stream(State(s): State<AppState>, Extension(t): Extension<TraceId>, h: HeaderMap, Query(q): Query<StreamQuery>) -> AuthResult {
    let c = caller(&s, &h, &t).await?;
    let after = match q.token.as_deref().filter(|s| !s.is_empty()) {
        None => 0,
        Some(token) => base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token)
            .ok()
            .and_then(|b| serde_json::from_slice::<i64>(&b).ok())
            .ok_or_else(|| Failure::Problem(Problem::bad_request("the stream token is not one this server gave out", &t)))?,
    };
    let (rows, end) = auth_call!(t, users::stream(&s.store, &c, after));
    let (start, last) = match (rows.first(), rows.last()) {
        (Some(f), Some(l)) => (f.stream_position, l.stream_position),
        _ => (end, end),
    };
    let next_token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(last.max(after).to_string());
    let next = format!("{}{BASE}/systemuser/internal/systemusers/stream?token={next_token}", link_base(&s, &h));
    let data: Vec<_> = rows.into_iter().map(register_dto).collect();
    Ok(Json(serde_json::json!({
        "links": {"next": next},
        "stats": {"pageStart": start, "pageEnd": last, "sequenceMax": end},
        "data": data,
    }))
    .into_response())
}

#[utoipa::path(get, path = "/authentication/api/v1/systemuser/internal/systemusers/{id}", tag = "authentication",
    security(("bearer" = ["altinn:authentication/systemuser.admin"])), params(("id" = String, Path)),
    responses((status = 200, body = SystemUserRegisterDto), (status = 400), (status = 401), (status = 403), (status = 410)))]
pub async fn internal_system_user(State(s): State<AppState>, Extension(t): Extension<TraceId>, h: HeaderMap, Path(id): Path<String>) -> AuthResult {
    let c = caller(&s, &h, &t).await?;
    let id = uuid::Uuid::parse_str(&id).map_err(|_| Failure::Problem(Problem::bad_request(format!("{id} is not a GUID"), &t)))?;
    Ok(match auth_call!(t, users::internal_get(&s.store, &c, &id.to_string())) {
        Some(row) => Json(register_dto(row)).into_response(),
        None => StatusCode::GONE.into_response(),
    })
}

// ---------------------------------------------------------------------------------------------
// The portal: a person acting for a party (scope altinn:portal/enduser; the gates are PDP
// decisions in the service layer).

/// `RequestSystemResponseInternal`: a request as the portal shows it.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RequestSystemResponseInternal {
    id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    integration_title: String,
    external_ref: String,
    system_id: String,
    party_org_no: String,
    party_id: i64,
    party_uuid: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    rights: Option<Vec<Right>>,
    #[schema(value_type = Vec<Object>)]
    access_packages: Vec<AccessPackage>,
    status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    redirect_url: Option<String>,
    escalated: bool,
    user_may_escalate_but_not_approve: bool,
    created: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    system_user_type: Option<String>,
}

fn internal_request(v: requests::PartyRequestView) -> RequestSystemResponseInternal {
    let r = v.request;
    RequestSystemResponseInternal {
        system_user_type: (r.user_type == UserType::Agent).then(|| "Agent".to_owned()),
        rights: (r.user_type == UserType::Standard).then_some(r.rights),
        id: r.id,
        integration_title: r.integration_title,
        external_ref: r.external_ref,
        system_id: r.system_id,
        party_org_no: r.party_org_no,
        party_id: v.party.party_id,
        party_uuid: v.party.party_uuid,
        access_packages: r.access_packages,
        status: r.status,
        redirect_url: r.redirect_url,
        escalated: r.escalated,
        user_may_escalate_but_not_approve: v.may_escalate_but_not_approve,
        created: rfc3339(r.created),
    }
}

/// `SystemUserInternalDTO` (and the detail's `rights`).
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SystemUserInternalDto {
    id: String,
    integration_title: String,
    system_id: String,
    product_name: String,
    system_internal_id: String,
    party_id: String,
    #[serde(rename = "partyUuId")]
    party_uu_id: String,
    reportee_org_no: String,
    created: String,
    is_deleted: bool,
    supplier_name: String,
    supplier_orgno: String,
    external_ref: String,
    user_type: String,
    #[schema(value_type = Vec<Object>)]
    access_packages: Vec<AccessPackage>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    rights: Option<Vec<Right>>,
}

pub(crate) fn internal_dto(v: SystemUserView, with_rights: bool) -> SystemUserInternalDto {
    SystemUserInternalDto {
        id: v.row.id,
        integration_title: v.row.integration_title,
        system_id: v.row.system_id,
        product_name: String::new(),
        system_internal_id: v.system_internal_id,
        party_id: v.row.owner_party_id.to_string(),
        party_uu_id: String::new(),
        reportee_org_no: v.row.owner_org_no,
        created: rfc3339(v.row.created),
        is_deleted: v.row.is_deleted != 0,
        supplier_name: String::new(),
        supplier_orgno: v.vendor_orgno,
        external_ref: v.row.external_ref,
        user_type: v.row.user_type,
        access_packages: v.access_packages,
        rights: with_rights.then_some(v.rights),
    }
}

/// The person's own register row, after the token and its portal scope are checked.
async fn person(s: &AppState, h: &HeaderMap, t: &TraceId) -> Result<fullmakt_store::PartyRow, Failure> {
    person_with_scope(s, h, t, fullmakt_service::PORTAL_SCOPE).await
}

/// The person's own register row, after the token and `scope` are checked (the portal's scope,
/// or the end-user client-delegation API's own).
pub(crate) async fn person_with_scope(s: &AppState, h: &HeaderMap, t: &TraceId, scope: &str) -> Result<fullmakt_store::PartyRow, Failure> {
    let caller = crate::callers::person_caller(s, h, t).await?;
    caller.require_scope(scope).map_err(|e| Problem::from_admin(e, t))?;
    match s.store.find_party(fullmakt_store::PartyKey::Id(caller.user_id)).await {
        Ok(Some(p)) if p.party_type == "person" && p.is_deleted == 0 => Ok(p),
        Ok(_) => Err(Problem::from_admin(fullmakt_service::AdminError::Unauthorized("the token's person is not in the register".into()), t).into()),
        Err(e) => Err(Problem::from_admin(e.into(), t).into()),
    }
}

pub(crate) fn approvals(s: &AppState) -> requests::Approvals<'_> {
    requests::Approvals { store: &s.store, catalogue: s.catalogue, gates: &s.gates, settings: &s.requests }
}

pub(crate) fn party_id(raw: &str, t: &TraceId) -> Result<i64, Failure> {
    raw.parse::<i64>().map_err(|_| Failure::Problem(Problem::bad_request(format!("{raw} is not a party id"), t)))
}

macro_rules! portal_request_routes {
    ($kind:expr, $get_party:ident, $get_id:ident, $approve:ident, $reject:ident, $escalate:ident, $pending:ident, $prefix:literal) => {
        #[utoipa::path(get, path = concat!("/authentication/api/v1/systemuser/request", $prefix, "/{party}/{requestId}"), tag = "authentication",
            security(("bearer" = ["altinn:portal/enduser"])), params(("party" = i64, Path), ("requestId" = String, Path)),
            responses((status = 200, body = RequestSystemResponseInternal), (status = 400), (status = 401), (status = 403), (status = 404)))]
        pub async fn $get_party(State(s): State<AppState>, Extension(t): Extension<TraceId>, h: HeaderMap, Path((party, id)): Path<(String, String)>) -> AuthResult {
            let p = person(&s, &h, &t).await?;
            let party = party_id(&party, &t)?;
            let v = auth_call!(t, approvals(&s).get_for_party(&p, party, $kind, &id));
            Ok(Json(internal_request(v)).into_response())
        }

        #[utoipa::path(get, path = concat!("/authentication/api/v1/systemuser/request", $prefix, "/{requestId}"), tag = "authentication",
            security(("bearer" = ["altinn:portal/enduser"])), params(("requestId" = String, Path)),
            responses((status = 200, body = RequestSystemResponseInternal), (status = 401), (status = 403), (status = 404)))]
        pub async fn $get_id(State(s): State<AppState>, Extension(t): Extension<TraceId>, h: HeaderMap, Path(id): Path<String>) -> AuthResult {
            let p = person(&s, &h, &t).await?;
            let v = auth_call!(t, approvals(&s).get_by_id(&p, $kind, &id));
            Ok(Json(internal_request(v)).into_response())
        }

        #[utoipa::path(post, path = concat!("/authentication/api/v1/systemuser/request", $prefix, "/{party}/{requestId}/approve"), tag = "authentication",
            security(("bearer" = ["altinn:portal/enduser"])), params(("party" = i64, Path), ("requestId" = String, Path)),
            responses((status = 200, body = bool), (status = 400), (status = 401), (status = 403), (status = 404), (status = 409)))]
        pub async fn $approve(State(s): State<AppState>, Extension(t): Extension<TraceId>, h: HeaderMap, Path((party, id)): Path<(String, String)>) -> AuthResult {
            let p = person(&s, &h, &t).await?;
            let party = party_id(&party, &t)?;
            auth_call!(t, approvals(&s).approve(&p, party, $kind, &id));
            Ok(Json(true).into_response())
        }

        #[utoipa::path(post, path = concat!("/authentication/api/v1/systemuser/request", $prefix, "/{party}/{requestId}/reject"), tag = "authentication",
            security(("bearer" = ["altinn:portal/enduser"])), params(("party" = i64, Path), ("requestId" = String, Path)),
            responses((status = 200, body = bool), (status = 400), (status = 401), (status = 403), (status = 404), (status = 409)))]
        pub async fn $reject(State(s): State<AppState>, Extension(t): Extension<TraceId>, h: HeaderMap, Path((party, id)): Path<(String, String)>) -> AuthResult {
            let p = person(&s, &h, &t).await?;
            let party = party_id(&party, &t)?;
            auth_call!(t, approvals(&s).reject(&p, party, $kind, &id));
            Ok(Json(true).into_response())
        }

        #[utoipa::path(post, path = concat!("/authentication/api/v1/systemuser/request", $prefix, "/{party}/{requestId}/escalate"), tag = "authentication",
            security(("bearer" = ["altinn:portal/enduser"])), params(("party" = i64, Path), ("requestId" = String, Path)),
            responses((status = 200, body = bool), (status = 400), (status = 401), (status = 403), (status = 404)))]
        pub async fn $escalate(State(s): State<AppState>, Extension(t): Extension<TraceId>, h: HeaderMap, Path((party, id)): Path<(String, String)>) -> AuthResult {
            let p = person(&s, &h, &t).await?;
            let party = party_id(&party, &t)?;
            Ok(Json(auth_call!(t, approvals(&s).escalate(&p, party, $kind, &id))).into_response())
        }

        #[utoipa::path(get, path = concat!("/authentication/api/v1/systemuser/request", $prefix, "/{party}/{orgno}/pending"), tag = "authentication",
            security(("bearer" = ["altinn:portal/enduser"])), params(("party" = i64, Path), ("orgno" = String, Path)),
            responses((status = 200, body = Vec<RequestSystemResponse>), (status = 400), (status = 401), (status = 403)))]
        pub async fn $pending(State(s): State<AppState>, Extension(t): Extension<TraceId>, h: HeaderMap, Path((party, org)): Path<(String, String)>) -> AuthResult {
            let p = person(&s, &h, &t).await?;
            let party = party_id(&party, &t)?;
            let views = auth_call!(t, approvals(&s).pending(&p, party, &org, $kind));
            Ok(Json(views.into_iter().map(|v| request_response(v, None)).collect::<Vec<_>>()).into_response())
        }
    };
}

portal_request_routes!(UserType::Standard, party_request, request_by_id, approve_request, reject_request, escalate_request, pending_requests, "");
portal_request_routes!(
    UserType::Agent,
    party_agent_request,
    agent_request_by_id,
    approve_agent_request,
    reject_agent_request,
    escalate_agent_request,
    pending_agent_requests,
    "/agent"
);

#[utoipa::path(get, path = "/authentication/api/v1/systemuser/{party}", tag = "authentication",
    security(("bearer" = ["altinn:portal/enduser"])), params(("party" = i64, Path)),
    responses((status = 200, body = Vec<SystemUserInternalDto>), (status = 400), (status = 401), (status = 403)))]
pub async fn system_users_of_party(State(s): State<AppState>, Extension(t): Extension<TraceId>, h: HeaderMap, Path(party): Path<String>) -> AuthResult {
    let p = person(&s, &h, &t).await?;
    let party = party_id(&party, &t)?;
    let views = auth_call!(t, approvals(&s).system_users_of(&p, party, UserType::Standard));
    Ok(Json(views.into_iter().map(|v| internal_dto(v, false)).collect::<Vec<_>>()).into_response())
}

#[utoipa::path(get, path = "/authentication/api/v1/systemuser/agent/{party}", tag = "authentication",
    security(("bearer" = ["altinn:portal/enduser"])), params(("party" = i64, Path)),
    responses((status = 200, body = Vec<SystemUserInternalDto>), (status = 400), (status = 401), (status = 403)))]
pub async fn agent_system_users_of_party(State(s): State<AppState>, Extension(t): Extension<TraceId>, h: HeaderMap, Path(party): Path<String>) -> AuthResult {
    let p = person(&s, &h, &t).await?;
    let party = party_id(&party, &t)?;
    let views = auth_call!(t, approvals(&s).system_users_of(&p, party, UserType::Agent));
    Ok(Json(views.into_iter().map(|v| internal_dto(v, false)).collect::<Vec<_>>()).into_response())
}

#[utoipa::path(get, path = "/authentication/api/v1/systemuser/{party}/{systemUserId}", tag = "authentication",
    security(("bearer" = ["altinn:portal/enduser"])), params(("party" = i64, Path), ("systemUserId" = String, Path)),
    responses((status = 200, body = SystemUserInternalDto), (status = 400), (status = 401), (status = 403), (status = 404)))]
pub async fn system_user_of_party(State(s): State<AppState>, Extension(t): Extension<TraceId>, h: HeaderMap, Path((party, id)): Path<(String, String)>) -> AuthResult {
    let p = person(&s, &h, &t).await?;
    let party = party_id(&party, &t)?;
    let v = auth_call!(t, approvals(&s).system_user_of(&p, party, &id));
    Ok(Json(internal_dto(v, true)).into_response())
}

#[utoipa::path(get, path = "/authentication/api/v1/systemuser/{party}/{systemUserId}/delegations", tag = "authentication",
    security(("bearer" = ["altinn:portal/enduser"])), params(("party" = i64, Path), ("systemUserId" = String, Path)),
    responses((status = 200, description = "StandardSystemUserDelegations"), (status = 400), (status = 401), (status = 403), (status = 404)))]
pub async fn delegations_of_system_user(State(s): State<AppState>, Extension(t): Extension<TraceId>, h: HeaderMap, Path((party, id)): Path<(String, String)>) -> AuthResult {
    let p = person(&s, &h, &t).await?;
    let party = party_id(&party, &t)?;
    let v = auth_call!(t, approvals(&s).delegations_of(&p, party, &id));
    Ok(Json(serde_json::json!({"systemUserId": v.row.id, "rights": v.rights, "accessPackages": v.access_packages})).into_response())
}

#[derive(Deserialize)]
struct DirectCreate {
    #[serde(rename = "integrationtitle", default)]
    integration_title: Option<String>,
    #[serde(rename = "systemid")]
    system_id: String,
}

#[utoipa::path(post, path = "/authentication/api/v1/systemuser/{party}/create", tag = "authentication",
    security(("bearer" = ["altinn:portal/enduser"])), params(("party" = i64, Path)), request_body(content = Object, description = "SystemUserRequestDto"),
    responses((status = 200, body = SystemUserInternalDto), (status = 400), (status = 401), (status = 403), (status = 404)))]
pub async fn create_system_user(State(s): State<AppState>, Extension(t): Extension<TraceId>, h: HeaderMap, Path(party): Path<String>, bytes: Bytes) -> AuthResult {
    let p = person(&s, &h, &t).await?;
    let party = party_id(&party, &t)?;
    let input: DirectCreate = body(&bytes, "SystemUserRequestDto", &t)?;
    let v = auth_call!(t, approvals(&s).create_directly(&p, party, &input.system_id, input.integration_title.as_deref()));
    Ok(Json(internal_dto(v, false)).into_response())
}

#[utoipa::path(delete, path = "/authentication/api/v1/systemuser/{party}/{systemUserId}", tag = "authentication",
    security(("bearer" = ["altinn:portal/enduser"])), params(("party" = i64, Path), ("systemUserId" = String, Path)),
    responses((status = 202, body = i32, description = "1"), (status = 404, body = i32, description = "0"), (status = 400), (status = 401), (status = 403)))]
pub async fn delete_system_user(State(s): State<AppState>, Extension(t): Extension<TraceId>, h: HeaderMap, Path((party, id)): Path<(String, String)>) -> AuthResult {
    let p = person(&s, &h, &t).await?;
    let party = party_id(&party, &t)?;
    Ok(if auth_call!(t, approvals(&s).delete_standard(&p, party, &id)) {
        (StatusCode::ACCEPTED, Json(1)).into_response()
    } else {
        (StatusCode::NOT_FOUND, Json(0)).into_response()
    })
}

/// `ChangeRequestResponseInternal`.
fn internal_change(v: change_requests::PartyChangeRequestView, settings: &RequestSettings) -> serde_json::Value {
    let mut body = serde_json::to_value(change_response(v.change, settings)).unwrap_or_default();
    if let Some(o) = body.as_object_mut() {
        o.remove("created");
        o.remove("timedOut");
        o.insert("partyId".into(), v.party.party_id.into());
        o.insert("partyUuid".into(), v.party.party_uuid.into());
    }
    body
}

#[utoipa::path(get, path = "/authentication/api/v1/systemuser/changerequest/{party}/{requestId}", tag = "authentication",
    security(("bearer" = ["altinn:portal/enduser"])), params(("party" = i64, Path), ("requestId" = String, Path)),
    responses((status = 200, description = "ChangeRequestResponseInternal"), (status = 400), (status = 401), (status = 403), (status = 404)))]
pub async fn party_change_request(State(s): State<AppState>, Extension(t): Extension<TraceId>, h: HeaderMap, Path((party, id)): Path<(String, String)>) -> AuthResult {
    let p = person(&s, &h, &t).await?;
    let party = party_id(&party, &t)?;
    let v = auth_call!(t, approvals(&s).change_request_for_party(&p, party, &id));
    Ok(Json(internal_change(v, &s.requests)).into_response())
}

#[utoipa::path(get, path = "/authentication/api/v1/systemuser/changerequest/{requestId}", tag = "authentication",
    security(("bearer" = ["altinn:portal/enduser"])), params(("requestId" = String, Path)),
    responses((status = 200, description = "ChangeRequestResponseInternal"), (status = 401), (status = 403), (status = 404)))]
pub async fn change_request_by_id(State(s): State<AppState>, Extension(t): Extension<TraceId>, h: HeaderMap, Path(id): Path<String>) -> AuthResult {
    let p = person(&s, &h, &t).await?;
    let v = auth_call!(t, approvals(&s).change_request_by_id(&p, &id));
    Ok(Json(internal_change(v, &s.requests)).into_response())
}

#[utoipa::path(post, path = "/authentication/api/v1/systemuser/changerequest/{party}/{requestId}/approve", tag = "authentication",
    security(("bearer" = ["altinn:portal/enduser"])), params(("party" = i64, Path), ("requestId" = String, Path)),
    responses((status = 200, body = bool), (status = 400), (status = 401), (status = 403), (status = 404), (status = 409)))]
pub async fn approve_change_request(State(s): State<AppState>, Extension(t): Extension<TraceId>, h: HeaderMap, Path((party, id)): Path<(String, String)>) -> AuthResult {
    let p = person(&s, &h, &t).await?;
    let party = party_id(&party, &t)?;
    auth_call!(t, approvals(&s).approve_change(&p, party, &id));
    Ok(Json(true).into_response())
}

#[utoipa::path(post, path = "/authentication/api/v1/systemuser/changerequest/{party}/{requestId}/reject", tag = "authentication",
    security(("bearer" = ["altinn:portal/enduser"])), params(("party" = i64, Path), ("requestId" = String, Path)),
    responses((status = 200, body = bool), (status = 400), (status = 401), (status = 403), (status = 404), (status = 409)))]
pub async fn reject_change_request(State(s): State<AppState>, Extension(t): Extension<TraceId>, h: HeaderMap, Path((party, id)): Path<(String, String)>) -> AuthResult {
    let p = person(&s, &h, &t).await?;
    let party = party_id(&party, &t)?;
    auth_call!(t, approvals(&s).reject_change(&p, party, &id));
    Ok(Json(true).into_response())
}
