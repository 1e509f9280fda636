//! `/testidp/…`: the built-in test identity provider (`fullmakt_service::login::test_idp`),
//! served only when the instance runs with test data; otherwise every route answers 404.
//!
//! The person page is HTML with a search box and pages; each choice is a form post carrying
//! the request id and its anti-forgery token, and the pending request is bound to the browser
//! by a cookie (SameSite=Lax, so a cross-site post does not carry it).

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::header::{AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, ORIGIN, PRAGMA, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use fullmakt_service::login::test_idp::{AuthorizationRequest, AuthorizeError, Choice, PageError, PersonPage};
use serde_json::json;

use crate::callers::cookie;
use crate::html::{self, escape, query_value};
use crate::login::{append_cookie, failure, redirect, set_cookie, single_params};
use crate::problem::Problem;
use crate::{AppState, TraceId};

/// Binds pending authorizations to the browser that made them.
pub const TEST_IDP_COOKIE: &str = "fullmakt_testidp";
const COOKIE_PATH: &str = "/testidp";

/// Every route's answer when the instance does not run with test data.
fn disabled(trace: &TraceId) -> Response {
    Problem {
        status: 404,
        title: "Not found",
        detail: "The test identity provider runs only on instances started with test data (--test-data or --demo).".into(),
        trace_id: trace.0.clone(),
        errors: None,
    }
    .into_response()
}

#[utoipa::path(get, path = "/testidp/.well-known/openid-configuration", tag = "test identity provider",
    responses((status = 200, description = "OpenID Provider metadata of the test identity provider (test-data instances only)"),
              (status = 404, description = "The instance does not run with test data")))]
pub async fn discovery(State(state): State<AppState>, Extension(trace): Extension<TraceId>) -> Response {
    let Some(idp) = &state.test_idp else { return disabled(&trace) };
    ([(CACHE_CONTROL, "public, max-age=300")], Json(idp.discovery())).into_response()
}

#[utoipa::path(get, path = "/testidp/jwks", tag = "test identity provider",
    responses((status = 200, description = "The keys id_tokens are signed with: fullmakt's signing keys, the same set as /jwk"),
              (status = 404, description = "The instance does not run with test data")))]
pub async fn jwks(State(state): State<AppState>, Extension(trace): Extension<TraceId>) -> Response {
    if state.test_idp.is_none() {
        return disabled(&trace);
    }
    crate::token::published_keys(&state, &trace).await
}

#[utoipa::path(get, path = "/testidp/authorize", tag = "test identity provider",
    params(("response_type" = String, Query, description = "code"), ("client_id" = String, Query), ("redirect_uri" = String, Query),
           ("scope" = String, Query, description = "must include openid"), ("state" = Option<String>, Query), ("nonce" = Option<String>, Query),
           ("code_challenge" = String, Query, description = "PKCE S256 challenge (required)"), ("code_challenge_method" = String, Query, description = "S256")),
    responses((status = 303, description = "To the person page; sets the browser cookie"),
              (status = 302, description = "Back to the redirect URI with an OAuth error"),
              (status = 400, description = "Unknown client or redirect URI (an HTML page; never redirected)"),
              (status = 404, description = "The instance does not run with test data")))]
pub async fn authorize(State(state): State<AppState>, Extension(trace): Extension<TraceId>, RawQuery(query): RawQuery, headers: HeaderMap) -> Response {
    let Some(idp) = &state.test_idp else { return disabled(&trace) };
    let names = ["response_type", "client_id", "redirect_uri", "scope", "state", "nonce", "code_challenge", "code_challenge_method"];
    let request = match single_params(query.as_deref(), &names) {
        Ok(values) => {
            let mut v = values.into_iter();
            let mut next = || v.next().flatten();
            AuthorizationRequest {
                response_type: next(),
                client_id: next(),
                redirect_uri: next(),
                scope: next(),
                state: next(),
                nonce: next(),
                code_challenge: next(),
                code_challenge_method: next(),
            }
        }
        Err(detail) => return page_failure(StatusCode::BAD_REQUEST, &detail, &trace),
    };
    match idp.authorize(&request, cookie(&headers, TEST_IDP_COOKIE)).await {
        Ok(pending) => {
            let location = format!("{}/testidp/login?request={}", state.public_url, query_value(&pending.request_id));
            let mut response = redirect(StatusCode::SEE_OTHER, &location);
            if let Some(browser) = pending.new_browser {
                let secure = state.public_url.starts_with("https://");
                append_cookie(&mut response, &set_cookie(TEST_IDP_COOKIE, &browser, COOKIE_PATH, secure, None));
            }
            response
        }
        Err(AuthorizeError::Page(detail)) => page_failure(StatusCode::BAD_REQUEST, &detail, &trace),
        Err(AuthorizeError::Redirect(location)) => redirect(StatusCode::FOUND, &location),
        Err(AuthorizeError::Internal) => page_failure(StatusCode::INTERNAL_SERVER_ERROR, "The request could not be handled.", &trace),
    }
}

#[utoipa::path(get, path = "/testidp/login", tag = "test identity provider",
    params(("request" = String, Query, description = "The pending authorization"), ("q" = Option<String>, Query, description = "Search: start of a person number, or part of a name"),
           ("after" = Option<i64>, Query, description = "Show persons after this party id (the next page)")),
    responses((status = 200, description = "HTML: the synthetic persons one may log in as, with a search box and pages"),
              (status = 400, description = "Unknown, expired or another browser's request"),
              (status = 404, description = "The instance does not run with test data")))]
pub async fn person_page(State(state): State<AppState>, Extension(trace): Extension<TraceId>, RawQuery(query): RawQuery, headers: HeaderMap) -> Response {
    let Some(idp) = &state.test_idp else { return disabled(&trace) };
    let (request_id, search, after) = match single_params(query.as_deref(), &["request", "q", "after"]) {
        Ok(v) => {
            let after = match v[2].as_deref().map(str::parse::<i64>) {
                None => 0,
                Some(Ok(after)) => after,
                Some(Err(_)) => return page_failure(StatusCode::BAD_REQUEST, "after must be a party id.", &trace),
            };
            (v[0].clone().unwrap_or_default(), v[1].clone().unwrap_or_default(), after)
        }
        Err(detail) => return page_failure(StatusCode::BAD_REQUEST, &detail, &trace),
    };
    match idp.person_page(&request_id, cookie(&headers, TEST_IDP_COOKIE), &search, after).await {
        Ok(page) => render_person_page(&state.public_url, &page),
        Err(e) => choice_failure(&e, &trace),
    }
}

#[utoipa::path(post, path = "/testidp/login", tag = "test identity provider",
    request_body(content_type = "application/x-www-form-urlencoded", description = "request, csrf, and pid (the chosen person) or cancel"),
    responses((status = 303, description = "Back to the client's redirect URI with a code (or error=access_denied on cancel), state and iss"),
              (status = 400, description = "Unknown, used or expired request, another browser's, or a person who cannot log in"),
              (status = 403, description = "The anti-forgery token is wrong, or the form came from another origin"),
              (status = 404, description = "The instance does not run with test data")))]
pub async fn choose(State(state): State<AppState>, Extension(trace): Extension<TraceId>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(idp) = &state.test_idp else { return disabled(&trace) };
    // Browsers name the page a form was posted from; one from another origin is refused outright.
    if let Some(origin) = headers.get(ORIGIN).and_then(|o| o.to_str().ok()) {
        if origin != public_origin(&state.public_url) {
            return page_failure(StatusCode::FORBIDDEN, "The form was not sent from this identity provider's page.", &trace);
        }
    }
    if !is_form(&headers) {
        return page_failure(StatusCode::BAD_REQUEST, "The choice must be sent as a form.", &trace);
    }
    let query = String::from_utf8_lossy(&body);
    let (request_id, csrf, pid, cancel) = match single_params(Some(&query), &["request", "csrf", "pid", "cancel"]) {
        Ok(v) => (v[0].clone().unwrap_or_default(), v[1].clone().unwrap_or_default(), v[2].clone(), v[3].is_some()),
        Err(detail) => return page_failure(StatusCode::BAD_REQUEST, &detail, &trace),
    };
    let choice = match (pid, cancel) {
        (_, true) => Choice::Cancel,
        (Some(pid), false) => Choice::Person(pid),
        (None, false) => return page_failure(StatusCode::BAD_REQUEST, "Choose a person, or cancel.", &trace),
    };
    match idp.choose(&request_id, &csrf, cookie(&headers, TEST_IDP_COOKIE), &choice).await {
        Ok(location) => redirect(StatusCode::SEE_OTHER, &location),
        Err(e) => choice_failure(&e, &trace),
    }
}

#[utoipa::path(post, path = "/testidp/token", tag = "test identity provider",
    request_body(content_type = "application/x-www-form-urlencoded",
        description = "grant_type=authorization_code, code, redirect_uri, code_verifier (PKCE), client_id; the client authenticates with HTTP Basic, client_secret in the form, or none"),
    responses((status = 200, description = "access_token, token_type, expires_in, id_token (RS256: iss, aud, sub, pid, nonce, acr, amr, auth_time, iat, exp, jti), scope"),
              (status = 400, description = "OAuth error: invalid_request, invalid_grant (unknown, used or expired code, wrong redirect_uri or verifier), unsupported_grant_type"),
              (status = 401, description = "OAuth error invalid_client"),
              (status = 404, description = "The instance does not run with test data")))]
pub async fn token(State(state): State<AppState>, Extension(trace): Extension<TraceId>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(idp) = &state.test_idp else { return disabled(&trace) };
    let no_store = [(CACHE_CONTROL, "no-store"), (PRAGMA, "no-cache")];
    let form = if is_form(&headers) { serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body).ok() } else { None };
    let Some(form) = form else {
        let body = json!({"error": "invalid_request", "error_description": "the body must be application/x-www-form-urlencoded"});
        return (StatusCode::BAD_REQUEST, no_store, Json(body)).into_response();
    };
    let authorization = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok());
    match idp.token(&form, authorization).await {
        Ok(tokens) => (StatusCode::OK, no_store, Json(tokens)).into_response(),
        Err(e) => {
            tracing::info!(error = e.error, description = %e.description, "test identity provider: token refused");
            let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
            let mut response = (status, no_store, Json(json!({"error": e.error, "error_description": e.description}))).into_response();
            if e.basic_challenge {
                response.headers_mut().insert(WWW_AUTHENTICATE, axum::http::HeaderValue::from_static("Basic realm=\"testidp\""));
            }
            response
        }
    }
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|ct| ct.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"))
}

/// `scheme://host[:port]` of the public URL, as browsers write `Origin`.
fn public_origin(public_url: &str) -> String {
    url::Url::parse(public_url).map(|u| u.origin().ascii_serialization()).unwrap_or_default()
}

fn page_failure(status: StatusCode, detail: &str, trace: &TraceId) -> Response {
    let mut html_only = HeaderMap::new();
    html_only.insert(axum::http::header::ACCEPT, axum::http::HeaderValue::from_static("text/html"));
    failure(status, "Test login", detail, trace, &html_only)
}

fn choice_failure(e: &PageError, trace: &TraceId) -> Response {
    let status = match e {
        PageError::UnknownRequest | PageError::OtherBrowser | PageError::UnknownPerson(_) => StatusCode::BAD_REQUEST,
        PageError::Forged => StatusCode::FORBIDDEN,
        PageError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    };
    page_failure(status, &e.to_string(), trace)
}

fn render_person_page(public_url: &str, page: &PersonPage) -> Response {
    let action = format!("{public_url}/testidp/login");
    let hidden = format!(
        "<input type=\"hidden\" name=\"request\" value=\"{}\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        escape(&page.request_id),
        escape(&page.csrf_token)
    );
    let mut body = format!(
        "<p class=\"note\">This is fullmakt's <b>test identity provider</b>, for instances with test data. \
         Anyone can log in here as any synthetic person in the register. You are logging in to <b>{}</b>.</p>\
         <form method=\"get\" action=\"{}\"><input type=\"hidden\" name=\"request\" value=\"{}\">\
         <input name=\"q\" value=\"{}\" placeholder=\"Name or start of person number\" aria-label=\"Search\"> <button>Search</button></form>",
        escape(&page.client_id),
        escape(&action),
        escape(&page.request_id),
        escape(&page.search),
    );
    if page.persons.is_empty() {
        body.push_str("<p>No synthetic person matches.</p>");
    } else {
        body.push_str("<table><thead><tr><th>Name</th><th>Person number</th><th></th></tr></thead><tbody>");
        for person in &page.persons {
            body.push_str(&format!(
                "<tr><td>{name}</td><td>{pid}</td><td><form method=\"post\" action=\"{action}\">{hidden}\
                 <input type=\"hidden\" name=\"pid\" value=\"{pid}\"><button>Log in as {name}</button></form></td></tr>",
                name = escape(&person.name),
                pid = escape(&person.person_identifier),
                action = escape(&action),
            ));
        }
        body.push_str("</tbody></table>");
    }
    let page_link = |after: Option<i64>| {
        let mut href = format!("{action}?request={}", query_value(&page.request_id));
        if !page.search.is_empty() {
            href.push_str(&format!("&q={}", query_value(&page.search)));
        }
        if let Some(after) = after {
            href.push_str(&format!("&after={after}"));
        }
        escape(&href)
    };
    body.push_str("<nav>");
    if !page.first {
        body.push_str(&format!("<a href=\"{}\">First page</a>", page_link(None)));
    }
    if let Some(next) = page.next_after {
        body.push_str(&format!("<a href=\"{}\">Next page</a>", page_link(Some(next))));
    }
    body.push_str("</nav>");
    body.push_str(&format!(
        "<form method=\"post\" action=\"{}\">{hidden}<input type=\"hidden\" name=\"cancel\" value=\"1\"><button>Cancel the login</button></form>",
        escape(&action)
    ));
    html::page(StatusCode::OK, "Test login: choose a person", &body)
}
