//! `/authentication/api/v1/systemregister…`: Altinn Authentication's system register
//! (authentication-api.md §1.1). Vendor routes take fullmakt's own bearer tokens; the portal's
//! routes (a person's token) are read-only views of the same systems.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::{Extension, Json};
use fullmakt_domain::system_register::{access_packages_from_json, rights_from_json, RegisterSystemRequest};
use fullmakt_service::system_register::{self as register, Actor};

use crate::admin::caller;
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
