//! `/api/v1/clients…` and `/api/v1/scopes…`: Digdir's self-service API shape. Each handler
//! authenticates the caller, parses, and calls one service function.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use fullmakt_service::admin::{clients, scopes, Caller, ClientInput, ScopeInput};
use serde::Deserialize;

use crate::problem::{parse_json, Problem};
use crate::{AppState, TraceId};

type ApiResult = Result<Response, Problem>;

/// The organisation behind a verified vendor token (also used by other areas; see `callers`).
pub(crate) async fn caller(state: &AppState, headers: &HeaderMap, trace: &TraceId) -> Result<Caller, Problem> {
    crate::callers::vendor_caller(state, headers, trace).await
}

fn ok<T: serde::Serialize>(status: StatusCode, body: T) -> ApiResult {
    Ok((status, Json(body)).into_response())
}

#[utoipa::path(get, path = "/api/v1/clients", tag = "admin", security(("bearer" = ["idporten:dcr.read"])),
    responses((status = 200, body = Vec<fullmakt_service::admin::ClientView>), (status = 401), (status = 403)))]
pub async fn list_clients(State(s): State<AppState>, Extension(t): Extension<TraceId>, h: HeaderMap) -> ApiResult {
    let c = caller(&s, &h, &t).await?;
    ok(StatusCode::OK, service_call!(t, clients::api_list_clients(&s.store, &c)))
}

#[utoipa::path(post, path = "/api/v1/clients", tag = "admin", security(("bearer" = ["idporten:dcr.write"])),
    request_body = ClientInput,
    responses((status = 201, body = fullmakt_service::admin::ClientView), (status = 400), (status = 401), (status = 403)))]
pub async fn create_client(State(s): State<AppState>, Extension(t): Extension<TraceId>, h: HeaderMap, body: Bytes) -> ApiResult {
    let c = caller(&s, &h, &t).await?;
    let input: ClientInput = parse_json(&body, &t)?;
    ok(StatusCode::CREATED, service_call!(t, clients::api_create_client(&s.store, &c, &input)))
}

#[utoipa::path(get, path = "/api/v1/clients/{client_id}", tag = "admin", security(("bearer" = ["idporten:dcr.read"])),
    params(("client_id" = String, Path)),
    responses((status = 200, body = fullmakt_service::admin::ClientView), (status = 403), (status = 404)))]
pub async fn get_client(State(s): State<AppState>, Extension(t): Extension<TraceId>, h: HeaderMap, Path(id): Path<String>) -> ApiResult {
    let c = caller(&s, &h, &t).await?;
    ok(StatusCode::OK, service_call!(t, clients::api_get_client(&s.store, &c, &id)))
}

#[utoipa::path(put, path = "/api/v1/clients/{client_id}", tag = "admin", security(("bearer" = ["idporten:dcr.modify"])),
    params(("client_id" = String, Path)), request_body = ClientInput,
    responses((status = 200, body = fullmakt_service::admin::ClientView), (status = 400), (status = 403), (status = 404)))]
pub async fn update_client(
    State(s): State<AppState>,
    Extension(t): Extension<TraceId>,
    h: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let c = caller(&s, &h, &t).await?;
    let input: ClientInput = parse_json(&body, &t)?;
    ok(StatusCode::OK, service_call!(t, clients::api_update_client(&s.store, &c, &id, &input)))
}

#[utoipa::path(delete, path = "/api/v1/clients/{client_id}", tag = "admin", security(("bearer" = ["idporten:dcr.write"])),
    params(("client_id" = String, Path)), responses((status = 204), (status = 403), (status = 404)))]
pub async fn delete_client(State(s): State<AppState>, Extension(t): Extension<TraceId>, h: HeaderMap, Path(id): Path<String>) -> ApiResult {
    let c = caller(&s, &h, &t).await?;
    service_call!(t, clients::api_delete_client(&s.store, &c, &id));
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(get, path = "/api/v1/clients/{client_id}/jwks", tag = "admin", security(("bearer" = ["idporten:dcr.read"])),
    params(("client_id" = String, Path)), responses((status = 200, body = fullmakt_service::admin::JwksView), (status = 403), (status = 404)))]
pub async fn get_jwks(State(s): State<AppState>, Extension(t): Extension<TraceId>, h: HeaderMap, Path(id): Path<String>) -> ApiResult {
    let c = caller(&s, &h, &t).await?;
    ok(StatusCode::OK, service_call!(t, clients::api_get_jwks(&s.store, &c, &id)))
}

#[utoipa::path(post, path = "/api/v1/clients/{client_id}/jwks", tag = "admin", security(("bearer" = ["idporten:dcr.modify"])),
    params(("client_id" = String, Path)), request_body(content = Object, description = "JWKS {\"keys\":[…]} with 1–5 public RSA keys"),
    responses((status = 201, body = fullmakt_service::admin::JwksView), (status = 400), (status = 403), (status = 409)))]
pub async fn set_jwks(
    State(s): State<AppState>,
    Extension(t): Extension<TraceId>,
    h: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let c = caller(&s, &h, &t).await?;
    let jwks: serde_json::Value = parse_json(&body, &t)?;
    ok(StatusCode::CREATED, service_call!(t, clients::api_set_jwks(&s.store, &c, &id, &jwks)))
}

#[utoipa::path(delete, path = "/api/v1/clients/{client_id}/jwks", tag = "admin", security(("bearer" = ["idporten:dcr.modify"])),
    params(("client_id" = String, Path)), responses((status = 204), (status = 403), (status = 404)))]
pub async fn delete_jwks(State(s): State<AppState>, Extension(t): Extension<TraceId>, h: HeaderMap, Path(id): Path<String>) -> ApiResult {
    let c = caller(&s, &h, &t).await?;
    service_call!(t, clients::api_delete_jwks(&s.store, &c, &id));
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ScopeQuery {
    /// The scope, `prefix:subscope`. Without it, GET lists the caller's own scopes.
    scope: Option<String>,
    /// With GET and no scope: include deactivated scopes.
    #[serde(default)]
    inactive: bool,
}

fn required_scope(q: &ScopeQuery, t: &TraceId) -> Result<String, Problem> {
    q.scope.clone().ok_or_else(|| Problem::bad_request("the query parameter scope is required", t))
}

#[utoipa::path(get, path = "/api/v1/scopes", tag = "admin", security(("bearer" = ["idporten:scopes.write"])),
    params(ScopeQuery), responses((status = 200, body = Vec<fullmakt_service::admin::ScopeView>), (status = 403), (status = 404)))]
pub async fn get_scopes(State(s): State<AppState>, Extension(t): Extension<TraceId>, h: HeaderMap, Query(q): Query<ScopeQuery>) -> ApiResult {
    let c = caller(&s, &h, &t).await?;
    match &q.scope {
        Some(name) => ok(StatusCode::OK, service_call!(t, scopes::api_get_scope(&s.store, &c, name))),
        None => ok(StatusCode::OK, service_call!(t, scopes::api_list_own_scopes(&s.store, &c, q.inactive))),
    }
}

#[utoipa::path(post, path = "/api/v1/scopes", tag = "admin", security(("bearer" = ["idporten:scopes.write"])),
    request_body = ScopeInput, responses((status = 201, body = fullmakt_service::admin::ScopeView), (status = 400), (status = 403), (status = 409)))]
pub async fn create_scope(State(s): State<AppState>, Extension(t): Extension<TraceId>, h: HeaderMap, body: Bytes) -> ApiResult {
    let c = caller(&s, &h, &t).await?;
    let input: ScopeInput = parse_json(&body, &t)?;
    ok(StatusCode::CREATED, service_call!(t, scopes::api_create_scope(&s.store, &c, &input)))
}

#[utoipa::path(put, path = "/api/v1/scopes", tag = "admin", security(("bearer" = ["idporten:scopes.write"])),
    params(ScopeQuery), request_body = ScopeInput,
    responses((status = 200, body = fullmakt_service::admin::ScopeView), (status = 400), (status = 403), (status = 404)))]
pub async fn update_scope(
    State(s): State<AppState>,
    Extension(t): Extension<TraceId>,
    h: HeaderMap,
    Query(q): Query<ScopeQuery>,
    body: Bytes,
) -> ApiResult {
    let c = caller(&s, &h, &t).await?;
    let name = required_scope(&q, &t)?;
    let input: ScopeInput = parse_json(&body, &t)?;
    ok(StatusCode::OK, service_call!(t, scopes::api_update_scope(&s.store, &c, &name, &input)))
}

#[utoipa::path(delete, path = "/api/v1/scopes", tag = "admin", security(("bearer" = ["idporten:scopes.write"])),
    params(ScopeQuery), responses((status = 200, body = fullmakt_service::admin::ScopeView), (status = 403), (status = 404)))]
pub async fn delete_scope(State(s): State<AppState>, Extension(t): Extension<TraceId>, h: HeaderMap, Query(q): Query<ScopeQuery>) -> ApiResult {
    let c = caller(&s, &h, &t).await?;
    let name = required_scope(&q, &t)?;
    ok(StatusCode::OK, service_call!(t, scopes::api_delete_scope(&s.store, &c, &name)))
}

#[utoipa::path(get, path = "/api/v1/scopes/all", tag = "admin",
    responses((status = 200, body = Vec<fullmakt_service::admin::ScopeView>, description = "Public catalogue of active PUBLIC scopes; no token needed")))]
pub async fn public_scopes(State(s): State<AppState>, Extension(t): Extension<TraceId>) -> ApiResult {
    ok(StatusCode::OK, service_call!(t, scopes::public_catalogue(&s.store)))
}

#[utoipa::path(get, path = "/api/v1/scopes/access", tag = "admin", security(("bearer" = ["idporten:scopes.write"])),
    params(ScopeQuery), responses((status = 200, body = Vec<fullmakt_service::admin::ScopeAccessView>), (status = 403), (status = 404)))]
pub async fn list_scope_access(State(s): State<AppState>, Extension(t): Extension<TraceId>, h: HeaderMap, Query(q): Query<ScopeQuery>) -> ApiResult {
    let c = caller(&s, &h, &t).await?;
    let name = required_scope(&q, &t)?;
    ok(StatusCode::OK, service_call!(t, scopes::api_list_access(&s.store, &c, &name)))
}

#[utoipa::path(put, path = "/api/v1/scopes/access/{consumer_orgno}", tag = "admin", security(("bearer" = ["idporten:scopes.write"])),
    params(("consumer_orgno" = String, Path), ScopeQuery),
    responses((status = 200, body = fullmakt_service::admin::ScopeAccessView), (status = 400), (status = 403), (status = 404)))]
pub async fn grant_scope_access(
    State(s): State<AppState>,
    Extension(t): Extension<TraceId>,
    h: HeaderMap,
    Path(consumer): Path<String>,
    Query(q): Query<ScopeQuery>,
) -> ApiResult {
    set_scope_access(&s, &t, &h, &consumer, &q, true).await
}

#[utoipa::path(delete, path = "/api/v1/scopes/access/{consumer_orgno}", tag = "admin", security(("bearer" = ["idporten:scopes.write"])),
    params(("consumer_orgno" = String, Path), ScopeQuery),
    responses((status = 200, body = fullmakt_service::admin::ScopeAccessView), (status = 400), (status = 403), (status = 404)))]
pub async fn revoke_scope_access(
    State(s): State<AppState>,
    Extension(t): Extension<TraceId>,
    h: HeaderMap,
    Path(consumer): Path<String>,
    Query(q): Query<ScopeQuery>,
) -> ApiResult {
    set_scope_access(&s, &t, &h, &consumer, &q, false).await
}

async fn set_scope_access(s: &AppState, t: &TraceId, h: &HeaderMap, consumer: &str, q: &ScopeQuery, approve: bool) -> ApiResult {
    let c = caller(s, h, t).await?;
    let name = required_scope(q, t)?;
    ok(StatusCode::OK, service_call!(t, scopes::api_set_access(&s.store, &c, &name, consumer, approve)))
}
