//! fullmakt's HTTP surface: axum routers per area, thin handlers over the service layer,
//! error mapping to OAuth error bodies and problem+json, trace ids, metrics and OpenAPI.

/// Awaits a service call and maps its error to problem+json, for handlers returning
/// `Result<Response, Problem>`. Defined before the modules so every handler module sees it.
macro_rules! service_call {
    ($trace:expr, $call:expr) => {
        $call.await.map_err(|e| $crate::problem::Problem::from_admin(e, &$trace))?
    };
}

/// Awaits an Altinn Authentication service call and maps its `AuthError` (Altinn problem,
/// validation problem, text or fullmakt problem), for handlers returning `AuthResult`.
macro_rules! auth_call {
    ($trace:expr, $call:expr) => {
        $call.await.map_err(|e| $crate::altinn_problem::Failure::auth(e, &$trace))?
    };
}

mod access_packages;
mod access_lists;
mod admin;
mod altinn_problem;
mod authentication;
mod authorization;
mod client_delegation;
mod client_administration;
pub mod callers;
mod html;
mod login;
mod middleware;
mod metrics;
mod openapi;
mod portal;
mod problem;
mod register;
mod resource_registry;
mod system_register;
mod system_users;
mod test_idp;
mod token;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use fullmakt_service::{AccessTokenVerifier, AltinnTokenService, Store, TokenService};
use tower_http::limit::RequestBodyLimitLayer;

pub use metrics::Metrics;
pub use callers::{person_caller, vendor_caller, ALTINN_TOKEN_COOKIE};
pub use middleware::TraceId;
pub use problem::Problem;
pub use register::PARTY_LOOKUP_SCOPE;

/// Largest request body accepted anywhere (a grant is ~1–2 KB, a full JWKS ~5 KB).
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// Largest total size of request headers accepted.
pub const MAX_HEADER_BYTES: usize = 32 * 1024;

/// What every handler reaches: one shared [`Services`]. Axum clones the state for the
/// middleware and again for each handler call, so a clone is one reference count, not one
/// per service and a copy of the public URL.
#[derive(Clone)]
pub struct AppState(Arc<Services>);

impl AppState {
    pub fn new(services: Services) -> Self {
        Self(Arc::new(services))
    }
}

impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}

pub struct Services {
    pub store: Store,
    pub tokens: Arc<TokenService>,
    pub verifier: Arc<AccessTokenVerifier>,
    /// fullmakt as Altinn's token issuer: person tokens and the Maskinporten exchange.
    pub altinn: Arc<AltinnTokenService>,
    pub metrics: Arc<Metrics>,
    pub pdp: Arc<fullmakt_service::pdp::DecisionPoint>,
    pub catalogue: &'static fullmakt_domain::Catalogue,
    /// Who may manage a party's access (PDP decisions on the platform resources).
    pub gates: Arc<fullmakt_service::access_management::AccessManagement>,
    pub requests: Arc<fullmakt_service::requests::RequestSettings>,
    /// The public base URL without trailing slash.
    pub public_url: String,
    /// Person login (OpenID Connect relying party); `None` when no provider is configured.
    pub login: Option<Arc<fullmakt_service::login::LoginService>>,
    /// The built-in test identity provider; `None` unless the instance runs with test data.
    pub test_idp: Option<Arc<fullmakt_service::login::TestIdentityProvider>>,
}

impl Services {
    pub fn issuer(&self) -> &str {
        self.tokens.issuer()
    }
}

/// Altinn's `Paginated` body for a list that fits on one page.
pub(crate) fn one_page<T: serde::Serialize>(items: T) -> serde_json::Value {
    serde_json::json!({"links": {"next": null}, "data": items})
}

pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/clients", get(admin::list_clients).post(admin::create_client))
        .route(
            "/clients/{client_id}",
            get(admin::get_client).put(admin::update_client).delete(admin::delete_client),
        )
        .route(
            "/clients/{client_id}/jwks",
            get(admin::get_jwks).post(admin::set_jwks).delete(admin::delete_jwks),
        )
        .route(
            "/scopes",
            get(admin::get_scopes).post(admin::create_scope).put(admin::update_scope).delete(admin::delete_scope),
        )
        .route("/scopes/all", get(admin::public_scopes))
        .route("/scopes/access", get(admin::list_scope_access))
        .route("/scopes/access/{consumer_orgno}", axum::routing::put(admin::grant_scope_access).delete(admin::revoke_scope_access));

    let resource_registry = Router::new()
        .route("/resource", post(resource_registry::create_resource))
        .route("/resource/resourcelist", get(resource_registry::resource_list))
        .route("/resource/Search", get(resource_registry::search))
        .route("/resource/bysubjects", post(resource_registry::by_subjects))
        .route("/resource/bysubjects/", post(resource_registry::by_subjects))
        .route(
            "/resource/{id}",
            get(resource_registry::get_resource).put(resource_registry::update_resource).delete(resource_registry::delete_resource),
        )
        .route(
            "/resource/{id}/policy",
            get(resource_registry::get_policy).post(resource_registry::write_policy).put(resource_registry::replace_policy),
        )
        .route("/resource/{id}/policy/rules", get(resource_registry::policy_rules))
        .route("/resource/{id}/policy/subjects", get(resource_registry::policy_subjects))
        .route("/resource/{id}/policy/rights", get(resource_registry::policy_rights))
        .route("/access-lists/memberships", get(access_lists::memberships))
        .route("/access-lists/{owner}", get(access_lists::lists_of_owner))
        .route(
            "/access-lists/{owner}/{identifier}",
            get(access_lists::get_list).put(access_lists::upsert_list).delete(access_lists::delete_list),
        )
        .route(
            "/access-lists/{owner}/{identifier}/members",
            get(access_lists::get_members)
                .put(access_lists::replace_members)
                .post(access_lists::add_members)
                .delete(access_lists::remove_members),
        )
        .route("/access-lists/{owner}/{identifier}/resource-connections", get(access_lists::get_connections))
        .route(
            "/access-lists/{owner}/{identifier}/resource-connections/{resource}",
            axum::routing::put(access_lists::connect).delete(access_lists::disconnect),
        );
    let resource_registry_v2 = Router::new().route("/resource/{id}/policy/rights", get(resource_registry::policy_rights_v2));

    let register = Router::new()
        .route("/parties/lookup", post(register::lookup))
        .route("/parties/{party_id}", get(register::by_id))
        .route("/parties/byuuid/{party_uuid}", get(register::by_uuid));

    let access_packages = Router::new()
        .route("/export", get(access_packages::export))
        .route("/group/", get(access_packages::groups))
        .route("/group", get(access_packages::groups_without_slash))
        .route("/group/{id}", get(access_packages::group))
        .route("/group/{id}/areas", get(access_packages::group_areas))
        .route("/area/{id}", get(access_packages::area))
        .route("/area/{id}/packages", get(access_packages::area_packages))
        .route("/package/{id}", get(access_packages::package))
        .route("/package/urn/{urn_value}", get(access_packages::package_by_urn))
        .route("/package/{id}/resources", get(access_packages::package_resources))
        .route("/search", get(access_packages::search));

    let system_register_routes = Router::new()
        .route("/systemregister", get(system_register::visible_systems))
        .route("/systemregister/{system_id}", get(system_register::system))
        .route("/systemregister/{system_id}/rights", get(system_register::system_rights))
        .route("/systemregister/{system_id}/accesspackages", get(system_register::system_access_packages))
        .route("/systemregister/vendor", get(system_register::vendor_systems).post(system_register::create_system))
        .route(
            "/systemregister/vendor/{system_id}",
            get(system_register::vendor_system).put(system_register::replace_system).delete(system_register::delete_system),
        )
        .route("/systemregister/vendor/{system_id}/rights", axum::routing::put(system_register::replace_rights))
        .route("/systemregister/vendor/{system_id}/accesspackages", axum::routing::put(system_register::replace_access_packages))
        .route("/systemregister/vendor/{system_id}/changelog", get(system_register::change_log))
        // Requests. Positional parameters share one name per position, as the router requires:
        // `{key}` is a party id or a request id depending on the route.
        .route("/systemuser/request/vendor", post(system_users::create_standard_request))
        .route("/systemuser/request/vendor/agent", post(system_users::create_agent_request))
        .route("/systemuser/request/vendor/{id}", get(system_users::get_standard_request).delete(system_users::delete_request))
        .route("/systemuser/request/vendor/agent/{id}", get(system_users::get_agent_request))
        .route("/systemuser/request/vendor/byexternalref/{system_id}/{org_no}/{external_ref}", get(system_users::standard_request_by_external_ref))
        .route("/systemuser/request/vendor/agent/byexternalref/{system_id}/{org_no}/{external_ref}", get(system_users::agent_request_by_external_ref))
        .route("/systemuser/request/vendor/bysystem/{system_id}", get(system_users::standard_requests_by_system))
        .route("/systemuser/request/vendor/agent/bysystem/{system_id}", get(system_users::agent_requests_by_system))
        .route("/systemuser/request/{key}", get(system_users::request_by_id))
        .route("/systemuser/request/{key}/{id}", get(system_users::party_request))
        .route("/systemuser/request/{key}/{id}/approve", post(system_users::approve_request))
        .route("/systemuser/request/{key}/{id}/reject", post(system_users::reject_request))
        .route("/systemuser/request/{key}/{id}/escalate", post(system_users::escalate_request))
        .route("/systemuser/request/{key}/{id}/pending", get(system_users::pending_requests))
        .route("/systemuser/request/agent/{key}", get(system_users::agent_request_by_id))
        .route("/systemuser/request/agent/{key}/{id}", get(system_users::party_agent_request))
        .route("/systemuser/request/agent/{key}/{id}/approve", post(system_users::approve_agent_request))
        .route("/systemuser/request/agent/{key}/{id}/reject", post(system_users::reject_agent_request))
        .route("/systemuser/request/agent/{key}/{id}/escalate", post(system_users::escalate_agent_request))
        .route("/systemuser/request/agent/{key}/{id}/pending", get(system_users::pending_agent_requests))
        // Change requests.
        .route("/systemuser/changerequest/vendor", post(system_users::create_change_request))
        .route("/systemuser/changerequest/vendor/{id}", get(system_users::get_change_request).delete(system_users::delete_change_request))
        .route("/systemuser/changerequest/vendor/byexternalref/{system_id}/{org_no}/{external_ref}", get(system_users::change_request_by_external_ref))
        .route("/systemuser/changerequest/vendor/bysystem/{system_id}", get(system_users::change_requests_by_system))
        .route("/systemuser/changerequest/{key}", get(system_users::change_request_by_id))
        .route("/systemuser/changerequest/{key}/{id}", get(system_users::party_change_request))
        .route("/systemuser/changerequest/{key}/{id}/approve", post(system_users::approve_change_request))
        .route("/systemuser/changerequest/{key}/{id}/reject", post(system_users::reject_change_request))
        // System users.
        .route("/systemuser/byExternalId", get(system_users::by_external_id))
        .route("/systemuser/vendor/byquery", get(system_users::vendor_by_query))
        .route("/systemuser/vendor/bysystem/{system_id}", get(system_users::vendor_by_system))
        .route("/systemuser/internal/systemusers/stream", get(system_users::stream))
        .route("/systemuser/internal/systemusers/{id}", get(system_users::internal_system_user))
        .route("/systemuser/agent/{key}", get(system_users::agent_system_users_of_party))
        // Agents and their clients. `clients` is a static segment and so wins over `{id}`, a
        // system user's uuid; `agent` likewise wins over `{key}` of `/systemuser/{key}/{id}`.
        .route("/systemuser/agent/{key}/clients", get(client_delegation::customers))
        .route("/systemuser/agent/{key}/{id}", post(client_delegation::delegate_client).delete(client_delegation::delete_agent))
        .route("/systemuser/agent/{key}/{id}/client", axum::routing::delete(client_delegation::revoke_client))
        .route(
            "/systemuser/agent/{key}/{id}/self",
            post(client_delegation::add_own).delete(client_delegation::remove_own).get(client_delegation::read_own),
        )
        .route(
            "/systemuser/agent/{key}/{id}/self/",
            post(client_delegation::add_own_slash).delete(client_delegation::remove_own_slash).get(client_delegation::read_own_slash),
        )
        .route("/systemuser/agent/{key}/{id}/{system_user}/delegations", get(client_delegation::delegated_clients))
        .route("/enduser/systemuser/clients/available", get(client_delegation::enduser_available_clients))
        .route(
            "/enduser/systemuser/clients",
            get(client_delegation::enduser_delegated_clients)
                .post(client_delegation::enduser_add_client)
                .delete(client_delegation::enduser_remove_client),
        )
        .route("/enduser/systemuser/agents", get(client_delegation::enduser_agents))
        .route("/systemuser/{key}", get(system_users::system_users_of_party))
        .route("/systemuser/{key}/create", post(system_users::create_system_user))
        .route("/systemuser/{key}/{id}", get(system_users::system_user_of_party).delete(system_users::delete_system_user))
        .route("/systemuser/{key}/{id}/delegations", get(system_users::delegations_of_system_user));

    let client_administration_routes = Router::new()
        .route("/clients", get(client_administration::clients_of_party))
        .route("/clients/accesspackages", get(client_administration::client_packages))
        .route("/agents", get(client_administration::agents_of_party).post(client_administration::add_agent).delete(client_administration::remove_agent))
        .route(
            "/agents/accesspackages",
            get(client_administration::agent_packages).post(client_administration::delegate_packages).delete(client_administration::revoke_packages),
        )
        .route("/agents/clients", axum::routing::delete(client_administration::remove_client));

    Router::new()
        .route("/token", post(token::token))
        .route("/jwk", get(token::jwks))
        .route("/.well-known/oauth-authorization-server", get(token::metadata))
        .route("/authentication/api/v1/openid/.well-known/openid-configuration", get(authentication::openid_configuration))
        .route("/authentication/api/v1/openid/.well-known/openid-configuration/jwks", get(authentication::jwks))
        .route("/authentication/api/v1/exchange/{tokenProvider}", get(authentication::exchange))
        .route("/authentication/api/v1/refresh", get(authentication::refresh))
        .route("/authentication/api/v1/authentication", get(login::start))
        .route("/authentication/api/v1/authentication/callback", get(login::callback))
        .route("/authentication/api/v1/logout", get(login::logout))
        .route("/testidp/.well-known/openid-configuration", get(test_idp::discovery))
        .route("/testidp/authorize", get(test_idp::authorize))
        .route("/testidp/login", get(test_idp::person_page).post(test_idp::choose))
        .route("/testidp/token", post(test_idp::token))
        .route("/testidp/jwks", get(test_idp::jwks))
        .nest("/api/v1", api)
        .nest("/resourceregistry/api/v1", resource_registry)
        .nest("/resourceregistry/api/v2", resource_registry_v2)
        .route("/authorization/api/v1/authorize", post(authorization::authorize))
        .route("/authorization/api/v1/authorize/explain", post(authorization::explain))
        .route("/authorization/api/v1/decision", post(authorization::decision))
        .nest("/register/api/v1", register)
        .nest("/authentication/api/v1", system_register_routes)
        .nest("/accessmanagement/api/v1/meta/info/accesspackages", access_packages)
        .nest("/accessmanagement/api/v1/enduser/clientdelegations", client_administration_routes)
        .route("/health", get(health))
        .route("/metrics", get(metrics::render))
        .route("/openapi.json", get(openapi::document))
        .merge(portal::routes())
        .fallback(problem::not_found)
        .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::observe))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .with_state(state)
}

async fn health(axum::extract::State(state): axum::extract::State<AppState>) -> axum::response::Response {
    use axum::response::IntoResponse;
    match state.store.change_sequence().await {
        Ok(_) => (axum::http::StatusCode::OK, axum::Json(serde_json::json!({"status": "ok"}))).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unreachable");
            (axum::http::StatusCode::SERVICE_UNAVAILABLE, axum::Json(serde_json::json!({"status": "database unavailable"})))
                .into_response()
        }
    }
}
