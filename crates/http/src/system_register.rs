//! `/authentication/api/v1/systemregister…`: Altinn Authentication's system register
//! (authentication-api.md §1.1). Vendor routes take a vendor's token (`callers::vendor_caller`);
//! the portal's routes a person's Altinn token with `altinn:portal/enduser` and are read-only
//! views of the same systems.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::{Extension, Json};
use fullmakt_domain::system_register::{access_packages_from_json, rights_from_json, RegisterSystemRequest};
use fullmakt_service::system_register::{self as register, Actor};
use fullmakt_service::PORTAL_SCOPE;

use crate::admin::caller;
use crate::callers::person_caller;
use crate::altinn_problem::AuthResult;
use crate::problem::Problem;
use crate::{AppState, TraceId};

fn bad_body(what: &str, e: String, t: &TraceId) -> Problem {
    Problem::bad_request(format!("the body is not a valid {what}: {e}"), t)
}

#[utoipa::path(get, path = "/authentication/api/v1/systemregister/vendor", tag = "authentication",
    security(("bearer" = ["altinn:authentication/systemregister.write"])),
    responses((status = 200, body = Vec<Object>, description = "RegisteredSystemDTO[]: the caller's systems that are not deleted"),
        (status = 401), (status = 403)))]
pub async fn vendor_systems(State(s): State<AppState>, Extension(t): Extension<TraceId>, h: HeaderMap) -> AuthResult {
    let c = caller(&s, &h, &t).await?;
    Ok(Json(auth_call!(t, register::vendor_systems(&s.store, &c))).into_response())
}

#[utoipa::path(post, path = "/authentication/api/v1/systemregister/vendor", tag = "authentication",
    security(("bearer" = ["altinn:authentication/systemregister.write"])),
    request_body(content = Object, description = "RegisterSystemRequest"),
    responses((status = 200, body = String, description = "The new system's internal id"),
        (status = 400, description = "STD-00000 validation problem with AUTH.VLD errors"), (status = 401), (status = 403),
        (status = 409, description = "text: The System already exist: {id}")))]
pub async fn create_system(State(s): State<AppState>, Extension(t): Extension<TraceId>, h: HeaderMap, body: Bytes) -> AuthResult {
    let c = caller(&s, &h, &t).await?;
    let request = RegisterSystemRequest::from_json(&body).map_err(|e| bad_body("RegisterSystemRequest", e, &t))?;
    let internal_id = auth_call!(t, register::create_system(&s.store, Actor::Api(&c), &request));
    Ok(Json(internal_id).into_response())
}

#[utoipa::path(get, path = "/authentication/api/v1/systemregister/vendor/{systemId}", tag = "authentication",
    security(("bearer" = ["altinn:authentication/systemregister.write"])), params(("systemId" = String, Path)),
    responses((status = 200, body = Object, description = "RegisteredSystemResponse"), (status = 401), (status = 403), (status = 404)))]
pub async fn vendor_system(State(s): State<AppState>, Extension(t): Extension<TraceId>, h: HeaderMap, Path(id): Path<String>) -> AuthResult {
    let c = caller(&s, &h, &t).await?;
    Ok(Json(auth_call!(t, register::vendor_system(&s.store, &c, &id))).into_response())
}

#[utoipa::path(put, path = "/authentication/api/v1/systemregister/vendor/{systemId}", tag = "authentication",
    security(("bearer" = ["altinn:authentication/systemregister.write"])), params(("systemId" = String, Path)),
    request_body(content = Object, description = "RegisterSystemRequest"),
    responses((status = 200, description = "{\"succeeded\":true}"),
        (status = 400, description = "validation problem, or text for a deleted system"), (status = 401), (status = 403),
        (status = 404, description = "text: System with ID '{id}' not found.")))]
pub async fn replace_system(
    State(s): State<AppState>,
    Extension(t): Extension<TraceId>,
    h: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> AuthResult {
    let c = caller(&s, &h, &t).await?;
    let request = RegisterSystemRequest::from_json(&body).map_err(|e| bad_body("RegisterSystemRequest", e, &t))?;
    Ok(Json(auth_call!(t, register::replace_system(&s.store, Actor::Api(&c), &id, &request))).into_response())
}

#[utoipa::path(put, path = "/authentication/api/v1/systemregister/vendor/{systemId}/rights", tag = "authentication",
    security(("bearer" = ["altinn:authentication/systemregister.write"])), params(("systemId" = String, Path)),
    request_body(content = Vec<Object>, description = "Right[]"),
    responses((status = 200, description = "{\"succeeded\":true}"), (status = 400), (status = 401), (status = 403), (status = 404)))]
pub async fn replace_rights(
    State(s): State<AppState>,
    Extension(t): Extension<TraceId>,
    h: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> AuthResult {
    let c = caller(&s, &h, &t).await?;
    let rights = rights_from_json(&body).map_err(|e| bad_body("list of rights", e, &t))?;
    Ok(Json(auth_call!(t, register::replace_rights(&s.store, Actor::Api(&c), &id, &rights))).into_response())
}

#[utoipa::path(put, path = "/authentication/api/v1/systemregister/vendor/{systemId}/accesspackages", tag = "authentication",
    security(("bearer" = ["altinn:authentication/systemregister.write"])), params(("systemId" = String, Path)),
    request_body(content = Vec<Object>, description = "AccessPackage[]"),
    responses((status = 200, description = "{\"succeeded\":true}"), (status = 400), (status = 401), (status = 403), (status = 404)))]
pub async fn replace_access_packages(
    State(s): State<AppState>,
    Extension(t): Extension<TraceId>,
    h: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> AuthResult {
    let c = caller(&s, &h, &t).await?;
    let packages = access_packages_from_json(&body).map_err(|e| bad_body("list of access packages", e, &t))?;
    Ok(Json(auth_call!(t, register::replace_access_packages(&s.store, Actor::Api(&c), &id, &packages))).into_response())
}

#[utoipa::path(delete, path = "/authentication/api/v1/systemregister/vendor/{systemId}", tag = "authentication",
    security(("bearer" = ["altinn:authentication/systemregister.write"])), params(("systemId" = String, Path)),
    responses((status = 200, description = "{\"succeeded\":true}"),
        (status = 400, description = "{\"errors\":{\"return\":[\"System not found\"]}}"), (status = 401), (status = 403)))]
pub async fn delete_system(State(s): State<AppState>, Extension(t): Extension<TraceId>, h: HeaderMap, Path(id): Path<String>) -> AuthResult {
    let c = caller(&s, &h, &t).await?;
    Ok(Json(auth_call!(t, register::delete_system(&s.store, Actor::Api(&c), &id))).into_response())
}

#[utoipa::path(get, path = "/authentication/api/v1/systemregister/vendor/{systemId}/changelog", tag = "authentication",
    security(("bearer" = ["altinn:authentication/systemregister.write"])), params(("systemId" = String, Path)),
    responses((status = 200, body = Vec<Object>, description = "SystemChangeLog[], newest first"), (status = 401), (status = 403),
        (status = 404, description = "text: System with ID {id} not found.")))]
pub async fn change_log(State(s): State<AppState>, Extension(t): Extension<TraceId>, h: HeaderMap, Path(id): Path<String>) -> AuthResult {
    let c = caller(&s, &h, &t).await?;
    Ok(Json(auth_call!(t, register::change_log(&s.store, &c, &id))).into_response())
}

// ---------------------------------------------------------------------------------------------
// The portal's routes: a person's Altinn token with `altinn:portal/enduser`.

async fn portal_person(s: &AppState, h: &HeaderMap, t: &TraceId) -> Result<(), Problem> {
    let person = person_caller(s, h, t).await?;
    person.require_scope(PORTAL_SCOPE).map_err(|e| Problem::from_admin(e, t))
}

#[utoipa::path(get, path = "/authentication/api/v1/systemregister", tag = "authentication",
    security(("bearer" = ["altinn:portal/enduser"])),
    responses((status = 200, body = Vec<Object>, description = "RegisteredSystemDTO[]: every system neither deleted nor hidden"),
        (status = 401), (status = 403)))]
pub async fn visible_systems(State(s): State<AppState>, Extension(t): Extension<TraceId>, h: HeaderMap) -> AuthResult {
    portal_person(&s, &h, &t).await?;
    Ok(Json(auth_call!(t, register::visible_systems(&s.store))).into_response())
}

#[utoipa::path(get, path = "/authentication/api/v1/systemregister/{systemId}", tag = "authentication",
    security(("bearer" = ["altinn:portal/enduser"])), params(("systemId" = String, Path)),
    responses((status = 200, body = Object, description = "RegisteredSystemDTO, deleted systems too"), (status = 401), (status = 403),
        (status = 404)))]
pub async fn system(State(s): State<AppState>, Extension(t): Extension<TraceId>, h: HeaderMap, Path(id): Path<String>) -> AuthResult {
    portal_person(&s, &h, &t).await?;
    Ok(Json(auth_call!(t, register::system_dto(&s.store, &id))).into_response())
}

/// `useOldFormatForApp`, its name in any letter case as ASP.NET binds it; `true`/`false` in any case.
fn old_app_format(query: &HashMap<String, String>, t: &TraceId) -> Result<bool, Problem> {
    match query.iter().find(|(k, _)| k.eq_ignore_ascii_case("useOldFormatForApp")).map(|(_, v)| v.to_ascii_lowercase()) {
        None => Ok(false),
        Some(v) if v == "true" => Ok(true),
        Some(v) if v == "false" => Ok(false),
        Some(v) => Err(Problem::bad_request(format!("useOldFormatForApp must be true or false, not {v:?}"), t)),
    }
}

#[utoipa::path(get, path = "/authentication/api/v1/systemregister/{systemId}/rights", tag = "authentication",
    security(("bearer" = ["altinn:portal/enduser"])),
    params(("systemId" = String, Path), ("useOldFormatForApp" = Option<bool>, Query, description = "name apps by urn:altinn:org + urn:altinn:app")),
    responses((status = 200, body = Vec<Object>, description = "Right[]; [] for an unknown system"), (status = 400), (status = 401),
        (status = 403)))]
pub async fn system_rights(
    State(s): State<AppState>,
    Extension(t): Extension<TraceId>,
    h: HeaderMap,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> AuthResult {
    portal_person(&s, &h, &t).await?;
    let old_format = old_app_format(&query, &t)?;
    Ok(Json(auth_call!(t, register::system_rights(&s.store, &id, old_format))).into_response())
}

#[utoipa::path(get, path = "/authentication/api/v1/systemregister/{systemId}/accesspackages", tag = "authentication",
    security(("bearer" = ["altinn:portal/enduser"])), params(("systemId" = String, Path)),
    responses((status = 200, body = Vec<Object>, description = "AccessPackage[]; [] for an unknown system"), (status = 401),
        (status = 403)))]
pub async fn system_access_packages(State(s): State<AppState>, Extension(t): Extension<TraceId>, h: HeaderMap, Path(id): Path<String>) -> AuthResult {
    portal_person(&s, &h, &t).await?;
    Ok(Json(auth_call!(t, register::system_access_packages(&s.store, &id))).into_response())
}
