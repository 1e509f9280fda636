//! `/accessmanagement/api/v1/meta/info/accesspackages/…`: the public metadata API over the
//! access-package catalogue, in the reference's DTO shapes (registry-delegation-ui.md §2.2):
//! camelCase, names in the language of `Accept-Language` (nb by default, nn, en), nulls where
//! the reference has nothing to say. No token is needed, as in the reference.
//!
//! Deliberate difference: where the reference answers 204 No Content for an empty list
//! (no search hits, no resources for a package), fullmakt answers 200 with `[]`, which every
//! client of the reference also accepts.

use axum::extract::{Path, Query, State};
use axum::http::header::{ACCEPT_LANGUAGE, CONTENT_LANGUAGE, VARY};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use fullmakt_domain::catalogue::{Area, AreaGroup, Package, SearchHit};
use fullmakt_domain::{Catalogue, Language};
use fullmakt_service::access_packages::{self, CatalogueQueryError};
use serde::{Deserialize, Serialize};

use crate::problem::Problem;
use crate::{AppState, TraceId};

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AreaGroupDto {
    pub id: String,
    pub name: String,
    pub urn: Option<String>,
    pub description: Option<String>,
    /// The kind of party the group's packages are about (the entity type's name).
    #[serde(rename = "type")]
    pub entity_type: String,
    #[schema(no_recursion)]
    pub areas: Option<Vec<AreaDto>>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AreaDto {
    pub id: String,
    pub name: String,
    pub urn: String,
    pub description: Option<String>,
    pub icon_url: String,
    #[schema(no_recursion)]
    pub packages: Option<Vec<PackageDto>>,
    #[schema(no_recursion)]
    pub group: Option<Box<AreaGroupDto>>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PackageDto {
    pub id: String,
    pub name: String,
    pub urn: String,
    /// The catalogue extract carries no descriptions yet.
    pub description: Option<String>,
    pub is_delegable: bool,
    pub is_assignable: bool,
    /// Service owners may name the package in policies.
    pub is_resource_policy_available: bool,
    #[schema(no_recursion)]
    pub area: Option<Box<AreaDto>>,
    #[serde(rename = "type")]
    pub entity_type: TypeDto,
    pub resources: Vec<ResourceDto>,
}

/// The kind of party a package is about.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TypeDto {
    pub id: String,
    pub provider_id: Option<String>,
    pub name: String,
    pub provider: Option<ProviderDto>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProviderDto {
    pub id: String,
    pub name: String,
    pub code: String,
}

/// A registry resource whose policy names the package.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResourceDto {
    pub id: String,
    pub ref_id: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SearchObjectDto {
    pub object: PackageDto,
    pub score: f64,
    pub fields: Vec<SearchFieldDto>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SearchFieldDto {
    pub field: String,
    pub value: String,
    pub score: f64,
    pub words: Vec<SearchWordDto>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SearchWordDto {
    pub content: String,
    pub lowercase_content: String,
    pub is_match: bool,
    pub score: f64,
}

fn catalogue() -> &'static Catalogue {
    access_packages::catalogue()
}

fn type_dto(entity_type: &str, language: Language) -> TypeDto {
    let c = catalogue();
    match c.entity_type(entity_type) {
        Some(t) => {
            let provider = c.providers.iter().find(|p| p.code == t.provider);
            TypeDto {
                id: t.id.clone(),
                provider_id: provider.map(|p| p.id.clone()),
                name: t.name.get(language).to_owned(),
                provider: provider.map(|p| ProviderDto { id: p.id.clone(), name: p.name.clone(), code: p.code.clone() }),
            }
        }
        None => TypeDto { id: String::new(), provider_id: None, name: entity_type.to_owned(), provider: None },
    }
}

fn group_dto(g: &AreaGroup, language: Language, areas: Option<Vec<AreaDto>>) -> AreaGroupDto {
    AreaGroupDto {
        id: g.id.clone(),
        name: g.name.get(language).to_owned(),
        urn: g.urn.clone(),
        description: None,
        entity_type: type_dto(&g.entity_type, language).name,
        areas,
    }
}

fn area_dto(a: &Area, language: Language, packages: Option<Vec<PackageDto>>, with_group: bool) -> AreaDto {
    AreaDto {
        id: a.id.clone(),
        name: a.name.get(language).to_owned(),
        urn: a.urn.clone(),
        description: None,
        icon_url: a.icon_url.clone(),
        packages,
        group: with_group.then(|| Box::new(group_dto(catalogue().area_group(a.group), language, None))),
    }
}

fn package_dto(p: &Package, language: Language, with_area: bool) -> PackageDto {
    PackageDto {
        id: p.id.clone(),
        name: p.name.get(language).to_owned(),
        urn: p.urn.clone(),
        description: None,
        is_delegable: p.is_delegable,
        is_assignable: p.is_assignable,
        is_resource_policy_available: p.is_available_for_service_owners,
        area: with_area.then(|| Box::new(area_dto(catalogue().area(p.area), language, None, true))),
        entity_type: type_dto(&p.entity_type, language),
        resources: Vec::new(),
    }
}

fn search_dto(hit: &SearchHit, language: Language) -> SearchObjectDto {
    SearchObjectDto {
        object: package_dto(catalogue().package(hit.package), language, true),
        score: hit.score,
        fields: hit
            .fields
            .iter()
            .map(|f| SearchFieldDto {
                field: f.field.to_owned(),
                value: f.value.clone(),
                score: f.score,
                words: f
                    .words
                    .iter()
                    .map(|w| SearchWordDto {
                        content: w.content.clone(),
                        lowercase_content: w.lowercase_content.clone(),
                        is_match: w.is_match,
                        score: w.score,
                    })
                    .collect(),
            })
            .collect(),
    }
}

pub(crate) fn language(headers: &HeaderMap) -> Language {
    Language::from_accept_language(headers.get(ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()))
}

fn ok<T: Serialize>(language: Language, body: T) -> Result<Response, Problem> {
    let mut response = (StatusCode::OK, Json(body)).into_response();
    response.headers_mut().insert(CONTENT_LANGUAGE, HeaderValue::from_static(language.code()));
    response.headers_mut().insert(VARY, HeaderValue::from_static("Accept-Language"));
    Ok(response)
}

fn problem(e: CatalogueQueryError, trace: &TraceId) -> Problem {
    match e {
        CatalogueQueryError::Invalid(detail) => Problem::bad_request(detail, trace),
        CatalogueQueryError::NotFound(detail) => Problem { status: 404, title: "Not found", detail, trace_id: trace.0.clone(), errors: None },
        CatalogueQueryError::Unavailable => {
            Problem { status: 503, title: "Service unavailable", detail: "the resource registry could not be read".into(), trace_id: trace.0.clone(), errors: None }
        }
    }
}

type ApiResult = Result<Response, Problem>;

#[utoipa::path(get, path = "/accessmanagement/api/v1/meta/info/accesspackages/export", tag = "accessmanagement",
    params(("Accept-Language" = Option<String>, Header, description = "nb (default), nn or en")),
    responses((status = 200, body = Vec<AreaGroupDto>, description = "Every area group with its areas and their packages")))]
pub async fn export(headers: HeaderMap) -> ApiResult {
    let l = language(&headers);
    let c = catalogue();
    let groups: Vec<AreaGroupDto> = c
        .area_groups
        .iter()
        .map(|g| {
            let areas = g
                .areas
                .iter()
                .map(|a| {
                    let area = c.area(*a);
                    let packages = area.packages.iter().map(|p| package_dto(c.package(*p), l, false)).collect();
                    area_dto(area, l, Some(packages), false)
                })
                .collect();
            group_dto(g, l, Some(areas))
        })
        .collect();
    ok(l, groups)
}

#[utoipa::path(get, path = "/accessmanagement/api/v1/meta/info/accesspackages/group/", tag = "accessmanagement",
    responses((status = 200, body = Vec<AreaGroupDto>)))]
pub async fn groups(headers: HeaderMap) -> ApiResult {
    let l = language(&headers);
    ok(l, catalogue().area_groups.iter().map(|g| group_dto(g, l, None)).collect::<Vec<_>>())
}

/// The same list without the trailing slash (ASP.NET routes answer both).
#[utoipa::path(get, path = "/accessmanagement/api/v1/meta/info/accesspackages/group", tag = "accessmanagement",
    responses((status = 200, body = Vec<AreaGroupDto>)))]
pub async fn groups_without_slash(headers: HeaderMap) -> ApiResult {
    groups(headers).await
}

#[utoipa::path(get, path = "/accessmanagement/api/v1/meta/info/accesspackages/group/{id}", tag = "accessmanagement",
    params(("id" = String, Path, description = "Area group id (UUID)")),
    responses((status = 200, body = AreaGroupDto), (status = 400), (status = 404)))]
pub async fn group(Extension(t): Extension<TraceId>, headers: HeaderMap, Path(id): Path<String>) -> ApiResult {
    let l = language(&headers);
    let g = access_packages::area_group(&id).map_err(|e| problem(e, &t))?;
    ok(l, group_dto(g, l, None))
}

#[utoipa::path(get, path = "/accessmanagement/api/v1/meta/info/accesspackages/group/{id}/areas", tag = "accessmanagement",
    params(("id" = String, Path, description = "Area group id (UUID)")),
    responses((status = 200, body = Vec<AreaDto>), (status = 400), (status = 404)))]
pub async fn group_areas(Extension(t): Extension<TraceId>, headers: HeaderMap, Path(id): Path<String>) -> ApiResult {
    let l = language(&headers);
    let g = access_packages::area_group(&id).map_err(|e| problem(e, &t))?;
    ok(l, g.areas.iter().map(|a| area_dto(catalogue().area(*a), l, None, false)).collect::<Vec<_>>())
}

#[utoipa::path(get, path = "/accessmanagement/api/v1/meta/info/accesspackages/area/{id}", tag = "accessmanagement",
    params(("id" = String, Path, description = "Area id (UUID)")),
    responses((status = 200, body = AreaDto), (status = 400), (status = 404)))]
pub async fn area(Extension(t): Extension<TraceId>, headers: HeaderMap, Path(id): Path<String>) -> ApiResult {
    let l = language(&headers);
    let a = access_packages::area(&id).map_err(|e| problem(e, &t))?;
    ok(l, area_dto(a, l, None, true))
}

#[utoipa::path(get, path = "/accessmanagement/api/v1/meta/info/accesspackages/area/{id}/packages", tag = "accessmanagement",
    params(("id" = String, Path, description = "Area id (UUID)")),
    responses((status = 200, body = Vec<PackageDto>), (status = 400), (status = 404)))]
pub async fn area_packages(Extension(t): Extension<TraceId>, headers: HeaderMap, Path(id): Path<String>) -> ApiResult {
    let l = language(&headers);
    let a = access_packages::area(&id).map_err(|e| problem(e, &t))?;
    ok(l, a.packages.iter().map(|p| package_dto(catalogue().package(*p), l, true)).collect::<Vec<_>>())
}

#[utoipa::path(get, path = "/accessmanagement/api/v1/meta/info/accesspackages/package/{id}", tag = "accessmanagement",
    params(("id" = String, Path, description = "Package id (UUID)")),
    responses((status = 200, body = PackageDto), (status = 400), (status = 404)))]
pub async fn package(Extension(t): Extension<TraceId>, headers: HeaderMap, Path(id): Path<String>) -> ApiResult {
    let l = language(&headers);
    let p = access_packages::package(&id).map_err(|e| problem(e, &t))?;
    ok(l, package_dto(p, l, true))
}

#[utoipa::path(get, path = "/accessmanagement/api/v1/meta/info/accesspackages/package/urn/{urnValue}", tag = "accessmanagement",
    params(("urnValue" = String, Path, description = "urn:altinn:accesspackage:CODE, :CODE or CODE")),
    responses((status = 200, body = PackageDto), (status = 400), (status = 404)))]
pub async fn package_by_urn(Extension(t): Extension<TraceId>, headers: HeaderMap, Path(value): Path<String>) -> ApiResult {
    let l = language(&headers);
    let p = access_packages::package_by_urn(&value).map_err(|e| problem(e, &t))?;
    ok(l, package_dto(p, l, true))
}

/// The registry resources whose policies name the package.
#[utoipa::path(get, path = "/accessmanagement/api/v1/meta/info/accesspackages/package/{id}/resources", tag = "accessmanagement",
    params(("id" = String, Path, description = "Package id (UUID)")),
    responses((status = 200, body = Vec<ResourceDto>), (status = 400), (status = 404)))]
pub async fn package_resources(
    State(s): State<AppState>,
    Extension(t): Extension<TraceId>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult {
    let l = language(&headers);
    let ids = access_packages::package_resources(&s.store, &id).await.map_err(|e| problem(e, &t))?;
    ok(l, ids.into_iter().map(|id| ResourceDto { ref_id: id.clone(), id }).collect::<Vec<_>>())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct SearchQuery {
    /// Words to find in package names (in the request's language); empty lists every package.
    term: Option<String>,
    /// Only packages about this kind of party: `Organization`/`Person` or its name.
    type_name: Option<String>,
    /// Accepted for compatibility; the search covers package names, not resources.
    #[allow(dead_code)]
    search_in_resources: Option<bool>,
    /// Accepted for compatibility; the search covers package names, not resources.
    #[allow(dead_code)]
    resource_provider_code: Option<String>,
}

#[utoipa::path(get, path = "/accessmanagement/api/v1/meta/info/accesspackages/search", tag = "accessmanagement",
    params(SearchQuery),
    responses((status = 200, body = Vec<SearchObjectDto>, description = "Best match first"), (status = 400)))]
pub async fn search(Extension(t): Extension<TraceId>, headers: HeaderMap, query: Result<Query<SearchQuery>, axum::extract::rejection::QueryRejection>) -> ApiResult {
    let Query(q) = query.map_err(|e| Problem::bad_request(format!("the query is malformed: {}", e.body_text()), &t))?;
    let l = language(&headers);
    let hits = access_packages::search(q.term.as_deref(), l, q.type_name.as_deref()).map_err(|e| problem(e, &t))?;
    ok(l, hits.iter().map(|h| search_dto(h, l)).collect::<Vec<_>>())
}
