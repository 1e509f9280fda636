//! `/resourceregistry/api/v1/resource…`: the resource registry's routes
//! (registry-delegation-ui.md §1.2). Reads are public; writes need a token (see
//! `fullmakt_service::resource_registry`).

use axum::body::Bytes;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::header::{CONTENT_TYPE, LOCATION};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use fullmakt_domain::resource::ServiceResource;
use fullmakt_service::resource_registry::{self as registry, ResourceSearch, Writer};
use serde::Deserialize;

use crate::admin::caller;
use crate::problem::Problem;
use crate::{one_page, AppState, TraceId};

type ApiResult = Result<Response, Problem>;

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
    Ok(Json(service_call!(t, registry::resource_list(&s.store, q.include_apps, q.include_migrated_apps))).into_response())
}

#[utoipa::path(get, path = "/resourceregistry/api/v1/resource/Search", tag = "resourceregistry",
    params(ResourceSearch), responses((status = 200, body = Vec<Object>), (status = 400)))]
pub async fn search(State(s): State<AppState>, Extension(t): Extension<TraceId>, Query(q): Query<ResourceSearch>) -> ApiResult {
    Ok(Json(service_call!(t, registry::search(&s.store, &q))).into_response())
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
    Ok(Json(service_call!(t, registry::get_resource(&s.store, &id, q.version_id))).into_response())
}

#[utoipa::path(post, path = "/resourceregistry/api/v1/resource", tag = "resourceregistry",
    security(("bearer" = ["altinn:resourceregistry/resource.write"])), request_body = Object,
    responses((status = 201, description = "Created; Location names the resource"), (status = 400), (status = 401), (status = 403), (status = 409)))]
pub async fn create_resource(State(s): State<AppState>, Extension(t): Extension<TraceId>, h: HeaderMap, body: Bytes) -> ApiResult {
    let c = caller(&s, &h, &t).await?;
    let resource = parse_resource(&body, &t)?;
    let created = service_call!(t, registry::create_resource(&s.store, Writer::Api(&c), &resource));
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
    service_call!(t, registry::update_resource(&s.store, Writer::Api(&c), &id, &resource));
    Ok(StatusCode::OK.into_response())
}

#[utoipa::path(delete, path = "/resourceregistry/api/v1/resource/{id}", tag = "resourceregistry",
    security(("bearer" = ["altinn:resourceregistry/resource.write"])), params(("id" = String, Path)),
    responses((status = 204), (status = 401), (status = 403), (status = 404)))]
pub async fn delete_resource(State(s): State<AppState>, Extension(t): Extension<TraceId>, h: HeaderMap, Path(id): Path<String>) -> ApiResult {
    let c = caller(&s, &h, &t).await?;
    service_call!(t, registry::delete_resource(&s.store, Writer::Api(&c), &id));
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Reads the multipart field `policyFile`, as the reference's upload form names it.
async fn policy_file(mut form: Multipart, t: &TraceId) -> Result<String, Problem> {
    let bad = |detail: String| Problem::bad_request(detail, t);
    while let Some(field) = form.next_field().await.map_err(|e| bad(format!("the body is not valid multipart form data: {e}")))? {
        if field.name() == Some("policyFile") {
            let bytes = field.bytes().await.map_err(|e| bad(format!("the policy file could not be read: {e}")))?;
            return String::from_utf8(bytes.to_vec()).map_err(|_| bad("the policy file is not UTF-8 text".into()));
        }
    }
    Err(bad("The policy file can not be null: send it as the multipart field policyFile".into()))
}

#[utoipa::path(post, path = "/resourceregistry/api/v1/resource/{id}/policy", tag = "resourceregistry",
    security(("bearer" = ["altinn:resourceregistry/resource.write"])), params(("id" = String, Path)),
    request_body(content_type = "multipart/form-data", description = "XACML 3.0 policy in the field policyFile"),
    responses((status = 201), (status = 400), (status = 401), (status = 403)))]
pub async fn write_policy(
    State(s): State<AppState>,
    Extension(t): Extension<TraceId>,
    h: HeaderMap,
    Path(id): Path<String>,
    form: Result<Multipart, MultipartRejection>,
) -> ApiResult {
    let c = caller(&s, &h, &t).await?;
    let form = form.map_err(|e| Problem::bad_request(format!("the body is not multipart form data: {e}"), &t))?;
    let xml = policy_file(form, &t).await?;
    service_call!(t, registry::store_policy(&s.store, Writer::Api(&c), &id, &xml));
    Ok((StatusCode::CREATED, [(LOCATION, format!("{id}/policy"))]).into_response())
}

#[utoipa::path(put, path = "/resourceregistry/api/v1/resource/{id}/policy", tag = "resourceregistry",
    security(("bearer" = ["altinn:resourceregistry/resource.write"])), params(("id" = String, Path)),
    request_body(content_type = "multipart/form-data", description = "XACML 3.0 policy in the field policyFile"),
    responses((status = 201), (status = 400), (status = 401), (status = 403)))]
pub async fn replace_policy(
    state: State<AppState>,
    trace: Extension<TraceId>,
    h: HeaderMap,
    id: Path<String>,
    form: Result<Multipart, MultipartRejection>,
) -> ApiResult {
    write_policy(state, trace, h, id, form).await
}

#[utoipa::path(get, path = "/resourceregistry/api/v1/resource/{id}/policy", tag = "resourceregistry",
    params(("id" = String, Path)), responses((status = 200, content_type = "text/xml", body = String), (status = 404)))]
pub async fn get_policy(State(s): State<AppState>, Extension(t): Extension<TraceId>, Path(id): Path<String>) -> ApiResult {
    let xml = service_call!(t, registry::policy_xml(&s.store, &id));
    Ok(([(CONTENT_TYPE, "text/xml")], xml).into_response())
}

#[utoipa::path(get, path = "/resourceregistry/api/v1/resource/{id}/policy/rules", tag = "resourceregistry",
    params(("id" = String, Path)), responses((status = 200, body = Vec<registry::PolicyRule>), (status = 404)))]
pub async fn policy_rules(State(s): State<AppState>, Extension(t): Extension<TraceId>, Path(id): Path<String>) -> ApiResult {
    Ok(Json(service_call!(t, registry::policy_rules(&s.store, &id))).into_response())
}

#[utoipa::path(get, path = "/resourceregistry/api/v1/resource/{id}/policy/subjects", tag = "resourceregistry",
    params(("id" = String, Path)), responses((status = 200, description = "{\"links\":{\"next\":null},\"data\":[{type,value,urn}]}"), (status = 404)))]
pub async fn policy_subjects(State(s): State<AppState>, Extension(t): Extension<TraceId>, Path(id): Path<String>) -> ApiResult {
    let subjects = service_call!(t, registry::policy_subjects(&s.store, &id));
    Ok(Json(one_page(subjects)).into_response())
}

#[utoipa::path(get, path = "/resourceregistry/api/v1/resource/{id}/policy/rights", tag = "resourceregistry",
    params(("id" = String, Path)), responses((status = 200, body = Vec<registry::PolicyRight>), (status = 404)))]
pub async fn policy_rights(State(s): State<AppState>, Extension(t): Extension<TraceId>, Path(id): Path<String>) -> ApiResult {
    Ok(Json(service_call!(t, registry::policy_rights(&s.store, &id))).into_response())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct RightsV2Query {
    #[serde(default, rename = "includeServiceOwnerRights", alias = "includeserviceownerrights")]
    include_service_owner_rights: bool,
    #[serde(default, rename = "includeAppRights", alias = "includeapprights")]
    include_app_rights: bool,
}


#[utoipa::path(get, path = "/resourceregistry/api/v2/resource/{id}/policy/rights", tag = "resourceregistry",
    params(("id" = String, Path), RightsV2Query), responses((status = 200, body = Vec<registry::RightV2>), (status = 404)))]
pub async fn policy_rights_v2(
    State(s): State<AppState>,
    Extension(t): Extension<TraceId>,
    h: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<RightsV2Query>,
) -> ApiResult {
    let rights = service_call!(
        t,
        registry::policy_rights_v2(&s.store, &id, crate::access_packages::language(&h).code(), q.include_service_owner_rights, q.include_app_rights)
    );
    Ok(Json(rights).into_response())
}

#[utoipa::path(post, path = "/resourceregistry/api/v1/resource/bysubjects", tag = "resourceregistry",
    request_body(content = Vec<String>, description = "Subject URNs, e.g. urn:altinn:rolecode:dagl"),
    responses((status = 200, description = "{links, data:[{subject, resources}]}"), (status = 400)))]
pub async fn by_subjects(State(s): State<AppState>, Extension(t): Extension<TraceId>, body: Bytes) -> ApiResult {
    let subjects: Vec<String> = crate::problem::parse_json(&body, &t)?;
    let found = service_call!(t, registry::resources_by_subjects(&s.store, &subjects));
    Ok(Json(one_page(found)).into_response())
}
