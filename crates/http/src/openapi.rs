//! `/openapi.json`: every route fullmakt serves.

use axum::response::{IntoResponse, Response};
use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "fullmakt", description = "Maskinporten-compatible token service, Digdir-style client and scope administration, the Altinn token issuer and exchange, the register lookup API, the access-package metadata API and Altinn Authentication's system register"),
    paths(
        crate::token::token, crate::token::jwks, crate::token::metadata,
        crate::authentication::openid_configuration, crate::authentication::jwks, crate::authentication::exchange,
        crate::authentication::refresh,
        crate::login::start, crate::login::callback, crate::login::logout,
        crate::test_idp::discovery, crate::test_idp::jwks, crate::test_idp::authorize, crate::test_idp::person_page,
        crate::test_idp::choose, crate::test_idp::token,
        crate::portal::overview::home, crate::portal::overview::overview,
        crate::portal::requests::standard_page, crate::portal::requests::standard_action,
        crate::portal::requests::agent_page, crate::portal::requests::agent_action,
        crate::portal::requests::change_page, crate::portal::requests::change_action,
        crate::portal::system_users::details, crate::portal::system_users::delete_page, crate::portal::system_users::delete,
        crate::portal::system_users::create_page, crate::portal::system_users::create,
        crate::portal::clients::page, crate::portal::clients::action, crate::portal::clients::add_all,
        crate::portal::clients::delete_page, crate::portal::clients::delete,
        crate::portal::party::choose_page, crate::portal::party::choose, crate::portal::party::logout,
        crate::portal::party::logged_out, crate::portal::stylesheet,
        crate::admin::list_clients, crate::admin::create_client, crate::admin::get_client, crate::admin::update_client,
        crate::admin::delete_client, crate::admin::get_jwks, crate::admin::set_jwks, crate::admin::delete_jwks,
        crate::admin::get_scopes, crate::admin::create_scope, crate::admin::update_scope, crate::admin::delete_scope,
        crate::admin::public_scopes, crate::admin::list_scope_access, crate::admin::grant_scope_access,
        crate::admin::revoke_scope_access,
        crate::resource_registry::resource_list, crate::resource_registry::search, crate::resource_registry::get_resource,
        crate::resource_registry::create_resource, crate::resource_registry::update_resource,
        crate::resource_registry::delete_resource, crate::resource_registry::get_policy, crate::resource_registry::write_policy,
        crate::resource_registry::replace_policy, crate::resource_registry::policy_rules, crate::resource_registry::policy_subjects,
        crate::resource_registry::policy_rights, crate::resource_registry::policy_rights_v2, crate::resource_registry::by_subjects,
        crate::access_lists::lists_of_owner, crate::access_lists::get_list, crate::access_lists::upsert_list,
        crate::access_lists::delete_list, crate::access_lists::get_members, crate::access_lists::replace_members,
        crate::access_lists::add_members, crate::access_lists::remove_members, crate::access_lists::get_connections,
        crate::access_lists::connect, crate::access_lists::disconnect, crate::access_lists::memberships,
        crate::authorization::authorize, crate::authorization::explain, crate::authorization::decision,
        crate::register::lookup, crate::register::by_id, crate::register::by_uuid,
        crate::access_packages::export, crate::access_packages::groups, crate::access_packages::groups_without_slash,
        crate::access_packages::group, crate::access_packages::group_areas, crate::access_packages::area,
        crate::access_packages::area_packages, crate::access_packages::package, crate::access_packages::package_by_urn,
        crate::access_packages::package_resources, crate::access_packages::search,
        crate::system_register::vendor_systems, crate::system_register::create_system, crate::system_register::vendor_system,
        crate::system_register::replace_system, crate::system_register::replace_rights,
        crate::system_register::replace_access_packages, crate::system_register::delete_system, crate::system_register::change_log,
        crate::system_register::visible_systems, crate::system_register::system, crate::system_register::system_rights,
        crate::system_register::system_access_packages,
        crate::system_users::create_standard_request, crate::system_users::create_agent_request,
        crate::system_users::get_standard_request, crate::system_users::get_agent_request, crate::system_users::delete_request,
        crate::system_users::standard_request_by_external_ref, crate::system_users::agent_request_by_external_ref,
        crate::system_users::standard_requests_by_system, crate::system_users::agent_requests_by_system,
        crate::system_users::request_by_id, crate::system_users::party_request, crate::system_users::approve_request,
        crate::system_users::reject_request, crate::system_users::escalate_request, crate::system_users::pending_requests,
        crate::system_users::agent_request_by_id, crate::system_users::party_agent_request, crate::system_users::approve_agent_request,
        crate::system_users::reject_agent_request, crate::system_users::escalate_agent_request, crate::system_users::pending_agent_requests,
        crate::system_users::create_change_request, crate::system_users::get_change_request, crate::system_users::delete_change_request,
        crate::system_users::change_request_by_external_ref, crate::system_users::change_requests_by_system,
        crate::system_users::change_request_by_id, crate::system_users::party_change_request,
        crate::system_users::approve_change_request, crate::system_users::reject_change_request,
        crate::system_users::by_external_id, crate::system_users::vendor_by_query, crate::system_users::vendor_by_system,
        crate::system_users::stream, crate::system_users::internal_system_user,
        crate::system_users::system_users_of_party, crate::system_users::agent_system_users_of_party,
        crate::system_users::system_user_of_party, crate::system_users::delete_system_user,
        crate::system_users::delegations_of_system_user, crate::system_users::create_system_user,
        crate::client_delegation::delegate_client, crate::client_delegation::revoke_client,
        crate::client_delegation::add_own, crate::client_delegation::add_own_slash, crate::client_delegation::remove_own,
        crate::client_delegation::remove_own_slash, crate::client_delegation::read_own, crate::client_delegation::read_own_slash,
        crate::client_delegation::delete_agent, crate::client_delegation::customers, crate::client_delegation::delegated_clients,
        crate::client_delegation::enduser_available_clients, crate::client_delegation::enduser_delegated_clients,
        crate::client_delegation::enduser_add_client, crate::client_delegation::enduser_remove_client,
        crate::client_delegation::enduser_agents,
        crate::client_administration::clients_of_party, crate::client_administration::client_packages,
        crate::client_administration::agents_of_party, crate::client_administration::add_agent,
        crate::client_administration::remove_agent, crate::client_administration::agent_packages,
        crate::client_administration::delegate_packages, crate::client_administration::revoke_packages,
        crate::client_administration::remove_client,
        health_doc, metrics_doc, openapi_doc,
    ),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
        );
        components.add_security_scheme(
            "AltinnStudioRuntime",
            SecurityScheme::ApiKey(utoipa::openapi::security::ApiKey::Cookie(utoipa::openapi::security::ApiKeyValue::new(
                "AltinnStudioRuntime",
            ))),
        );
    }
}

#[utoipa::path(get, path = "/health", tag = "operations", responses((status = 200), (status = 503)))]
#[allow(dead_code)]
fn health_doc() {}

#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, description = "Prometheus text format")))]
#[allow(dead_code)]
fn metrics_doc() {}

#[utoipa::path(get, path = "/openapi.json", tag = "operations", responses((status = 200, description = "This document")))]
#[allow(dead_code)]
fn openapi_doc() {}

pub async fn document() -> Response {
    Json(ApiDoc::openapi()).into_response()
}
