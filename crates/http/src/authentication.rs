//! `/authentication/api/v1/…`: fullmakt as Altinn's platform token issuer — its OpenID
//! configuration and JWKS, and the exchange of Maskinporten tokens for Altinn tokens.

use axum::extract::{Path, RawQuery, State};
use axum::http::header::{ACCEPT, CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use fullmakt_service::altinn_token::ExchangeError;
use fullmakt_service::{AdminError, PersonTokenError};
use serde_json::json;

use crate::callers::bearer_token;
use crate::problem::Problem;
use crate::{AppState, TraceId};

/// The header of Altinn's retired enterprise-user (virksomhetsbruker) login.
const ENTERPRISE_USER_HEADER: &str = "x-altinn-enterpriseuser-authentication";

#[utoipa::path(get, path = "/authentication/api/v1/openid/.well-known/openid-configuration", tag = "authentication",
    responses((status = 200, description = "OpenID discovery document of fullmakt's Altinn token issuer: issuer, jwks_uri, response/subject types, RS256")))]
pub async fn openid_configuration(State(state): State<AppState>) -> Response {
    let altinn = &state.altinn;
    (
        [(CACHE_CONTROL, "public, max-age=300")],
        Json(json!({
            "issuer": altinn.issuer(),
            "jwks_uri": altinn.jwks_uri(),
            "response_types_supported": ["token"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
        })),
    )
        .into_response()
}

#[utoipa::path(get, path = "/authentication/api/v1/openid/.well-known/openid-configuration/jwks", tag = "authentication",
    responses((status = 200, description = "JWKS of the Altinn token issuer: fullmakt's signing keys, the same set as /jwk")))]
pub async fn jwks(State(state): State<AppState>, Extension(trace): Extension<TraceId>) -> Response {
    crate::token::published_keys(&state, &trace).await
}

#[utoipa::path(get, path = "/authentication/api/v1/exchange/{tokenProvider}", tag = "authentication",
    params(("tokenProvider" = String, Path, description = "maskinporten (any case); id-porten and altinnstudio are not supported"),
           ("test" = Option<bool>, Query, description = "With an altinn:serviceowner scope: Digdir acts as ttd")),
    security(("bearer" = [])),
    responses((status = 200, description = "The Altinn token: the raw JWT as text/plain, or a JSON string with Accept: application/json"),
              (status = 400, description = "Unknown or unsupported token provider (text/plain)"),
              (status = 401, description = "Missing, unreadable, expired, forged or foreign token, or no consumer (empty body)"),
              (status = 410, description = "The X-Altinn-EnterpriseUser-Authentication header: enterprise-user login is gone")))]
pub async fn exchange(
    State(state): State<AppState>,
    Extension(trace): Extension<TraceId>,
    Path(provider): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let test = match test_flag(query.as_deref()) {
        Ok(test) => test,
        Err(detail) => return Problem::bad_request(detail, &trace).into_response(),
    };
    let enterprise_user = headers.get(ENTERPRISE_USER_HEADER).is_some_and(|v| !v.is_empty());
    match state.altinn.exchange(&provider, bearer_token(&headers), test, enterprise_user).await {
        Ok(exchanged) => {
            tracing::info!(consumer = %exchanged.org, client_id = %exchanged.client_id, from = ?exchanged.original_issuer, "token exchanged");
            let (content_type, body) = if prefers_json(&headers) {
                ("application/json; charset=utf-8", serde_json::Value::String(exchanged.token).to_string())
            } else {
                ("text/plain; charset=utf-8", exchanged.token)
            };
            (StatusCode::OK, [(CONTENT_TYPE, content_type), (CACHE_CONTROL, "no-store")], body).into_response()
        }
        Err(ExchangeError::Unauthorized(why)) => {
            tracing::info!(reason = %why, "token exchange refused");
            StatusCode::UNAUTHORIZED.into_response()
        }
        Err(e @ (ExchangeError::UnknownProvider(_) | ExchangeError::UnsupportedProvider(_))) => {
            (StatusCode::BAD_REQUEST, [(CONTENT_TYPE, "text/plain; charset=utf-8")], e.to_string()).into_response()
        }
        Err(e @ ExchangeError::EnterpriseUserGone) => {
            Problem { status: 410, title: "Gone", detail: e.to_string(), trace_id: trace.0, errors: None }.into_response()
        }
        Err(ExchangeError::Internal) => {
            Problem { status: 500, title: "Internal server error", detail: "the token could not be exchanged".into(), trace_id: trace.0, errors: None }
                .into_response()
        }
    }
}

#[utoipa::path(get, path = "/authentication/api/v1/refresh", tag = "authentication",
    security(("bearer" = []), ("AltinnStudioRuntime" = [])),
    responses((status = 200, description = "A new person token for the same person and session (text/plain)"),
              (status = 401, description = "No valid person token (bearer or AltinnStudioRuntime cookie), or the person is gone")))]
pub async fn refresh(State(state): State<AppState>, Extension(trace): Extension<TraceId>, headers: HeaderMap) -> Response {
    let person = match crate::callers::person_caller(&state, &headers, &trace).await {
        Ok(person) => person,
        Err(problem) => return problem.into_response(),
    };
    match state.altinn.refresh_person_token(&person).await {
        Ok(token) => (StatusCode::OK, [(CONTENT_TYPE, "text/plain; charset=utf-8"), (CACHE_CONTROL, "no-store")], token.token).into_response(),
        Err(PersonTokenError::Internal) => {
            Problem { status: 500, title: "Internal server error", detail: "the token could not be refreshed".into(), trace_id: trace.0, errors: None }
                .into_response()
        }
        Err(e) => Problem::from_admin(AdminError::Unauthorized(format!("the token cannot be refreshed: {e}")), &trace).into_response(),
    }
}

/// `?test=true|false` (any case; absent is false), as ASP.NET binds a bool.
fn test_flag(query: Option<&str>) -> Result<bool, String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query.unwrap_or_default()).map_err(|_| "the query string is malformed".to_owned())?;
    match pairs.iter().rev().find(|(k, _)| k.eq_ignore_ascii_case("test")).map(|(_, v)| v.trim()) {
        None | Some("") => Ok(false),
        Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
        Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
        Some(v) => Err(format!("test must be true or false, not `{v}`")),
    }
}

/// ASP.NET's choice between its string formatters: the acceptable media ranges by quality
/// (ties in the order given); the first that names JSON or text decides; JSON only when asked.
fn prefers_json(headers: &HeaderMap) -> bool {
    let mut ranges: Vec<(String, f32)> = headers
        .get_all(ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|range| {
            let mut parts = range.split(';');
            let media = parts.next()?.trim().to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            (q > 0.0).then_some((media, q))
        })
        .collect();
    ranges.sort_by(|a, b| b.1.total_cmp(&a.1));
    for (media, _) in ranges {
        match media.as_str() {
            "application/json" | "text/json" | "application/*+json" => return true,
            "text/plain" | "text/*" | "*/*" => return false,
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn accept(v: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(ACCEPT, HeaderValue::from_static(v));
        h
    }

    #[test]
    fn json_only_when_the_client_prefers_it() {
        assert!(!prefers_json(&HeaderMap::new()));
        assert!(prefers_json(&accept("application/json")));
        assert!(prefers_json(&accept("application/json, text/plain")));
        assert!(!prefers_json(&accept("text/plain, application/json")));
        assert!(prefers_json(&accept("text/plain;q=0.5, application/json")));
        assert!(!prefers_json(&accept("*/*")));
        assert!(!prefers_json(&accept("application/json;q=0, text/html")));
    }

    #[test]
    fn reads_the_test_flag() {
        assert_eq!(test_flag(None), Ok(false));
        assert_eq!(test_flag(Some("test=TRUE")), Ok(true));
        assert_eq!(test_flag(Some("Test=false&x=1")), Ok(false));
        assert!(test_flag(Some("test=yes")).is_err());
    }
}
