//! Person login, Altinn's routes: `GET /authentication/api/v1/authentication?goto=…` starts an
//! OpenID Connect login at the configured provider, `…/authentication/callback` completes it
//! and sets the person token as the `AltinnStudioRuntime` cookie, `GET …/logout` clears it.
//! (`GET …/refresh` is in `authentication`.)
//!
//! These are browser routes: failures come as an HTML page when the client accepts HTML, else
//! as problem+json, with the same status and text either way.

use axum::extract::{RawQuery, State};
use axum::http::header::{ACCEPT, CACHE_CONTROL, LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use fullmakt_service::login::relying_party::CallbackParams;
use fullmakt_service::login::LoginError;

use crate::callers::cookie;
use crate::html;
use crate::problem::Problem;
use crate::{AppState, TraceId, ALTINN_TOKEN_COOKIE};

/// Binds a login in progress to the browser that started it.
pub const LOGIN_COOKIE: &str = "fullmakt_login";
const LOGIN_COOKIE_PATH: &str = "/authentication/api/v1/authentication";

#[utoipa::path(get, path = "/authentication/api/v1/authentication", tag = "login",
    params(("goto" = Option<String>, Query, description = "Where to go after login; only URLs on fullmakt's public origin are followed, anything else goes to the front page")),
    responses((status = 302, description = "To the identity provider's authorization endpoint (state, nonce, PKCE S256); sets the login cookie"),
              (status = 400, description = "Malformed query"),
              (status = 502, description = "The identity provider cannot be reached"),
              (status = 503, description = "No identity provider is configured (problem+json)")))]
pub async fn start(State(state): State<AppState>, Extension(trace): Extension<TraceId>, RawQuery(query): RawQuery, headers: HeaderMap) -> Response {
    let Some(login) = &state.login else { return not_configured(&trace) };
    let goto = match single_params(query.as_deref(), &["goto"]) {
        Ok(mut values) => values.remove(0),
        Err(detail) => return failure(StatusCode::BAD_REQUEST, "Login failed", &detail, &trace, &headers),
    };
    match login.begin(goto.as_deref(), cookie(&headers, LOGIN_COOKIE)).await {
        Ok(started) => {
            let mut response = redirect(StatusCode::FOUND, &started.location);
            if let Some(browser) = started.new_browser {
                let max_age = fullmakt_service::login::LOGIN_ATTEMPT_LIFETIME;
                append_cookie(&mut response, &set_cookie(LOGIN_COOKIE, &browser, LOGIN_COOKIE_PATH, login.secure_cookies(), Some(max_age)));
            }
            response
        }
        Err(e) => login_failure(&e, &trace, &headers),
    }
}

#[utoipa::path(get, path = "/authentication/api/v1/authentication/callback", tag = "login",
    params(("code" = Option<String>, Query, description = "The authorization code"),
           ("state" = Option<String>, Query, description = "The state this login was started with"),
           ("error" = Option<String>, Query, description = "The provider's error, e.g. access_denied"),
           ("error_description" = Option<String>, Query),
           ("iss" = Option<String>, Query, description = "The provider's issuer (RFC 9207)")),
    responses((status = 302, description = "Logged in: to goto, with the person token in the AltinnStudioRuntime cookie (HttpOnly, SameSite=Lax, Path=/, Secure on https)"),
              (status = 400, description = "Unknown, used, expired or foreign state; the provider refused or the login was cancelled"),
              (status = 403, description = "The person is not in the register (no token is issued)"),
              (status = 502, description = "The provider cannot be reached, or its id_token does not hold"),
              (status = 503, description = "No identity provider is configured (problem+json)")))]
pub async fn callback(State(state): State<AppState>, Extension(trace): Extension<TraceId>, RawQuery(query): RawQuery, headers: HeaderMap) -> Response {
    let Some(login) = &state.login else { return not_configured(&trace) };
    let params = match single_params(query.as_deref(), &["code", "state", "error", "error_description", "iss"]) {
        Ok(values) => {
            let mut v = values.into_iter();
            let mut next = || v.next().flatten();
            CallbackParams { code: next(), state: next(), error: next(), error_description: next(), iss: next() }
        }
        Err(detail) => return failure(StatusCode::BAD_REQUEST, "Login failed", &detail, &trace, &headers),
    };
    match login.complete(&params, cookie(&headers, LOGIN_COOKIE)).await {
        Ok(done) => {
            let mut response = redirect(StatusCode::FOUND, &done.goto);
            append_cookie(&mut response, &set_cookie(ALTINN_TOKEN_COOKIE, &done.token.token, "/", login.secure_cookies(), None));
            response
        }
        Err(e) => login_failure(&e, &trace, &headers),
    }
}

#[utoipa::path(get, path = "/authentication/api/v1/logout", tag = "login",
    responses((status = 302, description = "To the front page, with the AltinnStudioRuntime cookie cleared")))]
pub async fn logout(State(state): State<AppState>) -> Response {
    let mut response = redirect(StatusCode::FOUND, &format!("{}/", state.public_url));
    let secure = state.public_url.starts_with("https://");
    append_cookie(&mut response, &format!("{ALTINN_TOKEN_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax{}", if secure { "; Secure" } else { "" }));
    response
}

/// The named query parameters, each at most once (OAuth forbids repeating them; for `goto`
/// a repeat is ambiguous). Names are matched in any case, as ASP.NET binds them.
pub(crate) fn single_params(query: Option<&str>, names: &[&str]) -> Result<Vec<Option<String>>, String> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(query.unwrap_or_default()).map_err(|_| "The query string is malformed.".to_owned())?;
    names
        .iter()
        .map(|name| {
            let mut values = pairs.iter().filter(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone());
            match (values.next(), values.next()) {
                (_, Some(_)) => Err(format!("The query parameter {name} is given more than once.")),
                (v, None) => Ok(v),
            }
        })
        .collect()
}

pub(crate) fn redirect(status: StatusCode, location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(location) => (status, [(LOCATION, location), (CACHE_CONTROL, HeaderValue::from_static("no-store"))]).into_response(),
        // Locations are serialised URLs, so this does not happen; say so rather than panic.
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// `Set-Cookie` for a cookie only this origin's pages send back: HttpOnly, SameSite=Lax (sent
/// on the top-level redirect back from the provider, not on cross-site posts), Secure on https.
/// Without `max_age` it is a session cookie.
pub(crate) fn set_cookie(name: &str, value: &str, path: &str, secure: bool, max_age: Option<i64>) -> String {
    let mut cookie = format!("{name}={value}; Path={path}; HttpOnly; SameSite=Lax");
    if let Some(max_age) = max_age {
        cookie.push_str(&format!("; Max-Age={max_age}"));
    }
    if secure {
        cookie.push_str("; Secure");
    }
    cookie
}

pub(crate) fn append_cookie(response: &mut Response, cookie: &str) {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(SET_COOKIE, value);
    }
}

fn not_configured(trace: &TraceId) -> Response {
    Problem {
        status: 503,
        title: "Service unavailable",
        detail: "Person login is not configured on this instance: start fullmakt with --oidc-issuer and --oidc-client-id, \
                 or with --test-data to use the built-in test identity provider."
            .into(),
        trace_id: trace.0.clone(),
        errors: None,
    }
    .into_response()
}

fn login_failure(e: &LoginError, trace: &TraceId, headers: &HeaderMap) -> Response {
    let (status, title) = match e {
        LoginError::ProviderUnavailable(_) => (StatusCode::BAD_GATEWAY, "The identity provider is not available"),
        LoginError::InvalidState(_) | LoginError::Refused(_) => (StatusCode::BAD_REQUEST, "Login failed"),
        LoginError::InvalidIdToken(_) => (StatusCode::BAD_GATEWAY, "Login failed"),
        LoginError::PersonRefused(_) => (StatusCode::FORBIDDEN, "You cannot log in here"),
        LoginError::Internal => (StatusCode::INTERNAL_SERVER_ERROR, "Login failed"),
    };
    if status.is_server_error() {
        tracing::warn!(error = %e, "login failed");
    } else {
        tracing::info!(error = %e, "login refused");
    }
    failure(status, title, &e.to_string(), trace, headers)
}

/// A failure for a browser route: an HTML page for browsers, problem+json for everyone else.
pub(crate) fn failure(status: StatusCode, title: &'static str, detail: &str, trace: &TraceId, headers: &HeaderMap) -> Response {
    let wants_html = headers.get_all(ACCEPT).iter().filter_map(|v| v.to_str().ok()).any(|v| v.contains("text/html"));
    if wants_html {
        let body = format!(
            "<p>{}</p><p class=\"note\">Trace id: {}</p>",
            html::escape(detail),
            html::escape(&trace.0)
        );
        html::page(status, title, &body)
    } else {
        Problem { status: status.as_u16(), title, detail: detail.to_owned(), trace_id: trace.0.clone(), errors: None }.into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_single_parameters_in_any_case() {
        assert_eq!(single_params(Some("goTo=%2Fx&y=1"), &["goto"]).unwrap(), vec![Some("/x".to_owned())]);
        assert_eq!(single_params(None, &["goto", "state"]).unwrap(), vec![None, None]);
        assert!(single_params(Some("state=a&state=b"), &["state"]).unwrap_err().contains("more than once"));
    }

    #[test]
    fn cookies_are_http_only_lax_and_secure_on_https() {
        assert_eq!(set_cookie("a", "b", "/", false, None), "a=b; Path=/; HttpOnly; SameSite=Lax");
        assert_eq!(set_cookie("a", "b", "/x", true, Some(60)), "a=b; Path=/x; HttpOnly; SameSite=Lax; Max-Age=60; Secure");
    }
}
