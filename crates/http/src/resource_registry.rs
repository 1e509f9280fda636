//! `/resourceregistry/api/v1/resource…`: the resource registry's routes
//! (registry-delegation-ui.md §1.2). Reads are public; writes need a token (see
//! `fullmakt_service::resource_registry`).

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::header::LOCATION;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use fullmakt_domain::resource::ServiceResource;
use fullmakt_service::resource_registry::{self as registry, ResourceSearch, Writer};
use serde::Deserialize;

use crate::admin::caller;
use crate::problem::Problem;
use crate::{AppState, TraceId};

type ApiResult = Result<Response, Problem>;

macro_rules! call {
    ($trace:expr, $call:expr) => {
        $call.await.map_err(|e| Problem::from_admin(e, &$trace))?
    };
}

fn parse_resource(body: &[u8], t: &TraceId) -> Result<ServiceResource, Problem> {
    ServiceResource::from_json(body)
        .map_err(|e| Problem::bad_request(format!("the body is not a valid ServiceResource: {e}"), t))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ResourceListQuery {
    #[serde(default = "yes", alias = "includeapps", alias = "IncludeApps")]
    #[serde(rename = "includeApps")]
    include_apps: bool,
    #[serde(default, alias = "includemigratedapps", alias = "IncludeMigratedApps")]
    #[serde(rename = "includeMigratedApps")]
    include_migrated_apps: bool,
}

fn yes() -> bool {
    true
}

#[utoipa::path(get, path = "/resourceregistry/api/v1/resource/resourcelist", tag = "resourceregistry",
    params(ResourceListQuery), responses((status = 200, description = "Every current resource", body = Vec<Object>)))]
pub async fn resource_list(State(s): State<AppState>, Extension(t): Extension<TraceId>, Query(q): Query<ResourceListQuery>) -> ApiResult {
    Ok(Json(call!(t, registry::resource_list(&s.store, q.include_apps, q.include_migrated_apps))).into_response())
}

#[utoipa::path(get, path = "/resourceregistry/api/v1/resource/Search", tag = "resourceregistry",
    params(ResourceSearch), responses((status = 200, body = Vec<Object>), (status = 400)))]
pub async fn search(State(s): State<AppState>, Extension(t): Extension<TraceId>, Query(q): Query<ResourceSearch>) -> ApiResult {
    Ok(Json(call!(t, registry::search(&s.store, &q))).into_response())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct VersionQuery {
    #[serde(default, rename = "versionId", alias = "versionid", alias = "VersionId")]
    version_id: Option<i64>,
}

#[utoipa::path(get, path = "/resourceregistry/api/v1/resource/{id}", tag = "resourceregistry",
    params(("id" = String, Path), VersionQuery), responses((status = 200, body = Object), (status = 404)))]
pub async fn get_resource(
    State(s): State<AppState>,
    Extension(t): Extension<TraceId>,
    Path(id): Path<String>,
    Query(q): Query<VersionQuery>,
) -> ApiResult {
    Ok(Json(call!(t, registry::get_resource(&s.store, &id, q.version_id))).into_response())
}

#[utoipa::path(post, path = "/resourceregistry/api/v1/resource", tag = "resourceregistry",
    security(("bearer" = ["altinn:resourceregistry/resource.write"])), request_body = Object,
    responses((status = 201, description = "Created; Location names the resource"), (status = 400), (status = 401), (status = 403), (status = 409)))]
pub async fn create_resource(State(s): State<AppState>, Extension(t): Extension<TraceId>, h: HeaderMap, body: Bytes) -> ApiResult {
    let c = caller(&s, &h, &t).await?;
    let resource = parse_resource(&body, &t)?;
    let created = call!(t, registry::create_resource(&s.store, Writer::Api(&c), &resource));
    let location = format!("/resourceregistry/api/v1/resource/{}", created.identifier());
    Ok((StatusCode::CREATED, [(LOCATION, location)]).into_response())
}

#[utoipa::path(put, path = "/resourceregistry/api/v1/resource/{id}", tag = "resourceregistry",
    security(("bearer" = ["altinn:resourceregistry/resource.write"])), params(("id" = String, Path)), request_body = Object,
    responses((status = 200), (status = 400), (status = 401), (status = 403), (status = 404)))]
pub async fn update_resource(
    State(s): State<AppState>,
    Extension(t): Extension<TraceId>,
    h: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let c = caller(&s, &h, &t).await?;
    let resource = parse_resource(&body, &t)?;
    call!(t, registry::update_resource(&s.store, Writer::Api(&c), &id, &resource));
    Ok(StatusCode::OK.into_response())
}

#[utoipa::path(delete, path = "/resourceregistry/api/v1/resource/{id}", tag = "resourceregistry",
    security(("bearer" = ["altinn:resourceregistry/resource.write"])), params(("id" = String, Path)),
    responses((status = 204), (status = 401), (status = 403), (status = 404)))]
pub async fn delete_resource(State(s): State<AppState>, Extension(t): Extension<TraceId>, h: HeaderMap, Path(id): Path<String>) -> ApiResult {
    let c = caller(&s, &h, &t).await?;
    call!(t, registry::delete_resource(&s.store, Writer::Api(&c), &id));
    Ok(StatusCode::NO_CONTENT.into_response())
}
