//! `/resourceregistry/api/v1/access-lists/…` (registry-delegation-ui.md §1.5). Lists carry an
//! aggregate version, sent as `ETag` and checked against `If-Match` on writes.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::header::{ETAG, IF_MATCH};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use fullmakt_service::access_lists::{self as lists, MemberChange};
use fullmakt_service::AdminError;
use serde::Deserialize;

use crate::admin::caller;
use crate::problem::{parse_json, Problem};
use crate::{one_page, AppState, TraceId};

type ApiResult = Result<Response, Problem>;

fn if_match(h: &HeaderMap, t: &TraceId) -> Result<Option<i64>, Problem> {
    let Some(value) = h.get(IF_MATCH).and_then(|v| v.to_str().ok()) else { return Ok(None) };
    let value = value.trim();
    if value == "*" {
        return Ok(None);
    }
    value
        .trim_start_matches("W/")
        .trim_matches('"')
        .parse()
        .map(Some)
        .map_err(|_| Problem::from_admin(AdminError::PreconditionFailed(format!("If-Match {value} is not a version of this list")), t))
}

fn with_etag(version: i64, body: serde_json::Value) -> Response {
    ([(ETAG, format!("\"{version}\""))], Json(body)).into_response()
}

#[derive(Debug, Deserialize)]
pub struct ListBody {
    name: String,
    #[serde(default)]
    description: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct MembersBody {
    data: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionBody {
    #[serde(default)]
    action_filters: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct IncludeQuery {
    #[serde(default)]
    include: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct MembershipQuery {
    party: String,
    resource: String,
}

#[utoipa::path(get, path = "/resourceregistry/api/v1/access-lists/{owner}", tag = "resourceregistry",
    security(("bearer" = ["altinn:resourceregistry/accesslist.read"])), params(("owner" = String, Path)),
    responses((status = 200, description = "{links, data:[access list]}"), (status = 401), (status = 403)))]
pub async fn lists_of_owner(State(s): State<AppState>, Extension(t): Extension<TraceId>, h: HeaderMap, Path(owner): Path<String>) -> ApiResult {
    let c = caller(&s, &h, &t).await?;
    Ok(Json(one_page(service_call!(t, lists::lists_of_owner(&s.store, &c, &owner)))).into_response())
}

#[utoipa::path(get, path = "/resourceregistry/api/v1/access-lists/{owner}/{identifier}", tag = "resourceregistry",
    security(("bearer" = ["altinn:resourceregistry/accesslist.read"])), params(("owner" = String, Path), ("identifier" = String, Path), IncludeQuery),
    responses((status = 200, body = lists::AccessListView), (status = 403), (status = 404)))]
pub async fn get_list(
    State(s): State<AppState>,
    Extension(t): Extension<TraceId>,
    h: HeaderMap,
    Path((owner, identifier)): Path<(String, String)>,
    Query(q): Query<IncludeQuery>,
) -> ApiResult {
    let c = caller(&s, &h, &t).await?;
    let with_connections = q.include.as_deref().is_some_and(|i| i.split(',').any(|x| x.trim() == "resource-connections"));
    let view = service_call!(t, lists::get_list(&s.store, &c, &owner, &identifier, with_connections));
    Ok(with_etag(view.version, serde_json::to_value(&view).unwrap_or_default()))
}

#[utoipa::path(put, path = "/resourceregistry/api/v1/access-lists/{owner}/{identifier}", tag = "resourceregistry",
    security(("bearer" = ["altinn:resourceregistry/accesslist.write"])), params(("owner" = String, Path), ("identifier" = String, Path)),
    request_body = Object, responses((status = 200, body = lists::AccessListView), (status = 400), (status = 403), (status = 412)))]
pub async fn upsert_list(
    State(s): State<AppState>,
    Extension(t): Extension<TraceId>,
    h: HeaderMap,
    Path((owner, identifier)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    let c = caller(&s, &h, &t).await?;
    let version = if_match(&h, &t)?;
    let b: ListBody = parse_json(&body, &t)?;
    let view = service_call!(t, lists::upsert_list(&s.store, &c, &owner, &identifier, &b.name, b.description.as_deref().unwrap_or(""), version));
    Ok(with_etag(view.version, serde_json::to_value(&view).unwrap_or_default()))
}

#[utoipa::path(delete, path = "/resourceregistry/api/v1/access-lists/{owner}/{identifier}", tag = "resourceregistry",
    security(("bearer" = ["altinn:resourceregistry/accesslist.write"])), params(("owner" = String, Path), ("identifier" = String, Path)),
    responses((status = 200, body = lists::AccessListView), (status = 204, description = "There was no such list"), (status = 403), (status = 412)))]
pub async fn delete_list(
    State(s): State<AppState>,
    Extension(t): Extension<TraceId>,
    h: HeaderMap,
    Path((owner, identifier)): Path<(String, String)>,
) -> ApiResult {
    let c = caller(&s, &h, &t).await?;
    let version = if_match(&h, &t)?;
    match service_call!(t, lists::delete_list(&s.store, &c, &owner, &identifier, version)) {
        Some(view) => Ok(Json(view).into_response()),
        None => Ok(StatusCode::NO_CONTENT.into_response()),
    }
}

#[utoipa::path(get, path = "/resourceregistry/api/v1/access-lists/{owner}/{identifier}/members", tag = "resourceregistry",
    security(("bearer" = ["altinn:resourceregistry/accesslist.read"])), params(("owner" = String, Path), ("identifier" = String, Path)),
    responses((status = 200, description = "{links, data:[member]}"), (status = 403), (status = 404)))]
pub async fn get_members(
    State(s): State<AppState>,
    Extension(t): Extension<TraceId>,
    h: HeaderMap,
    Path((owner, identifier)): Path<(String, String)>,
) -> ApiResult {
    let c = caller(&s, &h, &t).await?;
    let (members, version) = service_call!(t, lists::members(&s.store, &c, &owner, &identifier));
    Ok(with_etag(version, one_page(members)))
}

async fn change_members(s: AppState, t: TraceId, h: HeaderMap, owner: String, identifier: String, body: Bytes, change: MemberChange) -> ApiResult {
    let c = caller(&s, &h, &t).await?;
    let version = if_match(&h, &t)?;
    let b: MembersBody = parse_json(&body, &t)?;
    let (members, version) = service_call!(t, lists::change_members(&s.store, &c, &owner, &identifier, change, &b.data, version));
    Ok(with_etag(version, one_page(members)))
}

#[utoipa::path(put, path = "/resourceregistry/api/v1/access-lists/{owner}/{identifier}/members", tag = "resourceregistry",
    security(("bearer" = ["altinn:resourceregistry/accesslist.write"])), params(("owner" = String, Path), ("identifier" = String, Path)),
    request_body = Object, responses((status = 200), (status = 400), (status = 403), (status = 404), (status = 412)))]
pub async fn replace_members(State(s): State<AppState>, Extension(t): Extension<TraceId>, h: HeaderMap, Path((o, i)): Path<(String, String)>, body: Bytes) -> ApiResult {
    change_members(s, t, h, o, i, body, MemberChange::Replace).await
}

#[utoipa::path(post, path = "/resourceregistry/api/v1/access-lists/{owner}/{identifier}/members", tag = "resourceregistry",
    security(("bearer" = ["altinn:resourceregistry/accesslist.write"])), params(("owner" = String, Path), ("identifier" = String, Path)),
    request_body = Object, responses((status = 200), (status = 400), (status = 403), (status = 404), (status = 412)))]
pub async fn add_members(State(s): State<AppState>, Extension(t): Extension<TraceId>, h: HeaderMap, Path((o, i)): Path<(String, String)>, body: Bytes) -> ApiResult {
    change_members(s, t, h, o, i, body, MemberChange::Add).await
}

#[utoipa::path(delete, path = "/resourceregistry/api/v1/access-lists/{owner}/{identifier}/members", tag = "resourceregistry",
    security(("bearer" = ["altinn:resourceregistry/accesslist.write"])), params(("owner" = String, Path), ("identifier" = String, Path)),
    request_body = Object, responses((status = 200), (status = 400), (status = 403), (status = 404), (status = 412)))]
pub async fn remove_members(State(s): State<AppState>, Extension(t): Extension<TraceId>, h: HeaderMap, Path((o, i)): Path<(String, String)>, body: Bytes) -> ApiResult {
    change_members(s, t, h, o, i, body, MemberChange::Remove).await
}

#[utoipa::path(get, path = "/resourceregistry/api/v1/access-lists/{owner}/{identifier}/resource-connections", tag = "resourceregistry",
    security(("bearer" = ["altinn:resourceregistry/accesslist.read"])), params(("owner" = String, Path), ("identifier" = String, Path)),
    responses((status = 200, description = "{links, data:[connection]}"), (status = 403), (status = 404)))]
pub async fn get_connections(
    State(s): State<AppState>,
    Extension(t): Extension<TraceId>,
    h: HeaderMap,
    Path((owner, identifier)): Path<(String, String)>,
) -> ApiResult {
    let c = caller(&s, &h, &t).await?;
    Ok(Json(one_page(service_call!(t, lists::connections(&s.store, &c, &owner, &identifier)))).into_response())
}

#[utoipa::path(put, path = "/resourceregistry/api/v1/access-lists/{owner}/{identifier}/resource-connections/{resource}", tag = "resourceregistry",
    security(("bearer" = ["altinn:resourceregistry/accesslist.write"])),
    params(("owner" = String, Path), ("identifier" = String, Path), ("resource" = String, Path)),
    request_body = Object, responses((status = 200, body = lists::ConnectionView), (status = 400), (status = 403), (status = 404), (status = 412)))]
pub async fn connect(
    State(s): State<AppState>,
    Extension(t): Extension<TraceId>,
    h: HeaderMap,
    Path((owner, identifier, resource)): Path<(String, String, String)>,
    body: Bytes,
) -> ApiResult {
    let c = caller(&s, &h, &t).await?;
    let version = if_match(&h, &t)?;
    let b: ConnectionBody = if body.is_empty() { ConnectionBody { action_filters: None } } else { parse_json(&body, &t)? };
    Ok(Json(service_call!(t, lists::connect(&s.store, &c, &owner, &identifier, &resource, b.action_filters, version))).into_response())
}

#[utoipa::path(delete, path = "/resourceregistry/api/v1/access-lists/{owner}/{identifier}/resource-connections/{resource}", tag = "resourceregistry",
    security(("bearer" = ["altinn:resourceregistry/accesslist.write"])),
    params(("owner" = String, Path), ("identifier" = String, Path), ("resource" = String, Path)),
    responses((status = 204), (status = 403), (status = 404), (status = 412)))]
pub async fn disconnect(
    State(s): State<AppState>,
    Extension(t): Extension<TraceId>,
    h: HeaderMap,
    Path((owner, identifier, resource)): Path<(String, String, String)>,
) -> ApiResult {
    let c = caller(&s, &h, &t).await?;
    let version = if_match(&h, &t)?;
    service_call!(t, lists::disconnect(&s.store, &c, &owner, &identifier, &resource, version));
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(get, path = "/resourceregistry/api/v1/access-lists/memberships", tag = "resourceregistry",
    security(("bearer" = ["altinn:resourceregistry/accesslist.read"])), params(MembershipQuery),
    responses((status = 200, description = "{links, data:[{party, resource, since, actionFilters}]}"), (status = 400), (status = 403)))]
pub async fn memberships(State(s): State<AppState>, Extension(t): Extension<TraceId>, h: HeaderMap, Query(q): Query<MembershipQuery>) -> ApiResult {
    let c = caller(&s, &h, &t).await?;
    Ok(Json(one_page(service_call!(t, lists::memberships(&s.store, &c, &q.party, &q.resource)))).into_response())
}
