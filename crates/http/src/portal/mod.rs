//! The end-user portal under `/accessmanagement/ui/` (issue 5; registry-delegation-ui.md §5–§6):
//! server-rendered pages where a customer organisation's people approve requests and manage
//! system users. No JavaScript: every flow is links and forms.
//!
//! Each page is a handler that resolves the [`Visit`] (session, person, language), calls the
//! same service use cases as the Authentication API (`requests::Approvals` and friends, so the
//! PDP gates and the delegation check are the API's), and renders with [`layout`]. Forms post
//! back to the portal with the session's anti-forgery token; every state change is one service
//! call, hence one transaction.

pub(crate) mod clients;
pub(crate) mod describe;
pub(crate) mod layout;
pub(crate) mod overview;
pub(crate) mod party;
pub(crate) mod requests;
pub(crate) mod system_users;
pub(crate) mod texts;
pub(crate) mod visit;

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::AppState;

/// Where the portal lives, as in Altinn (am.ui.altinn.no).
pub const BASE: &str = "/accessmanagement/ui";

/// The person-facing use cases, over the server's store, catalogue, gates and request settings.
pub(crate) fn approvals(state: &AppState) -> fullmakt_service::requests::Approvals<'_> {
    fullmakt_service::requests::Approvals { store: &state.store, catalogue: state.catalogue, gates: &state.gates, settings: &state.requests }
}

const STYLESHEET: &str = include_str!("../../assets/portal.css");

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(BASE, get(overview::home))
        .route(&format!("{BASE}/"), get(overview::home))
        .route(&format!("{BASE}/systemuser/overview"), get(overview::overview))
        .route(&format!("{BASE}/systemuser/request"), get(requests::standard_page).post(requests::standard_action))
        .route(&format!("{BASE}/systemuser/agentrequest"), get(requests::agent_page).post(requests::agent_action))
        .route(&format!("{BASE}/systemuser/changerequest"), get(requests::change_page).post(requests::change_action))
        .route(&format!("{BASE}/systemuser/create"), get(system_users::create_page).post(system_users::create))
        .route(&format!("{BASE}/systemuser/{{id}}"), get(system_users::details))
        .route(&format!("{BASE}/systemuser/{{id}}/delete"), get(system_users::delete_page).post(system_users::delete))
        .route(&format!("{BASE}/systemuser/{{id}}/agentdelegation"), get(clients::page).post(clients::action))
        .route(&format!("{BASE}/systemuser/{{id}}/agentdelegation/all"), axum::routing::post(clients::add_all))
        .route(&format!("{BASE}/systemuser/{{id}}/agentdelegation/delete"), get(clients::delete_page).post(clients::delete))
        .route(&format!("{BASE}/party"), get(party::choose_page).post(party::choose))
        .route(&format!("{BASE}/logout"), axum::routing::post(party::logout))
        .route(&format!("{BASE}/loggedout"), get(party::logged_out))
        .route(&format!("{BASE}/assets/portal.css"), get(stylesheet))
}

#[utoipa::path(get, path = "/accessmanagement/ui/assets/portal.css", tag = "portal", responses((status = 200, description = "The portal's stylesheet (text/css)")))]
pub(crate) async fn stylesheet() -> Response {
    ([(CONTENT_TYPE, "text/css; charset=utf-8"), (CACHE_CONTROL, "public, max-age=3600")], STYLESHEET).into_response()
}
