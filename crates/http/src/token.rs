//! `POST /token`, `GET /jwk`, `GET /.well-known/oauth-authorization-server`.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, PRAGMA};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use fullmakt_domain::TokenFailure;
use serde_json::json;

use crate::{AppState, TraceId};

#[utoipa::path(post, path = "/token", tag = "token",
    request_body(content_type = "application/x-www-form-urlencoded", description = "grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<signed JWT>"),
    responses((status = 200, description = "Access token: access_token, token_type, expires_in (integer), scope"),
              (status = 400, description = "OAuth error body: error, error_description (ends with the trace id), error_uri"),
              (status = 403, description = "OAuth error body for missing scope access (error forbidden)")))]
pub async fn token(
    State(state): State<AppState>,
    Extension(trace): Extension<TraceId>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let is_form = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded")));
    let result = if !is_form {
        Err(TokenFailure::NotAForm)
    } else {
        match serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body) {
            Err(_) => Err(TokenFailure::NotAForm),
            Ok(form) => {
                let grant_types: Vec<&str> = form.iter().filter(|(k, _)| k == "grant_type").map(|(_, v)| v.as_str()).collect();
                let assertions: Vec<&str> = form.iter().filter(|(k, _)| k == "assertion").map(|(_, v)| v.as_str()).collect();
                let grant_type = match grant_types.as_slice() {
                    [one] => Some(*one),
                    _ => None,
                };
                state.tokens.issue(grant_type, &assertions).await
            }
        }
    };
    match result {
        Ok(issued) => {
            state.metrics.token_outcome("issued");
            tracing::info!(client_id = %issued.client_id, consumer = %issued.consumer,
                system_user = issued.system_user_id.as_deref().unwrap_or(""), "token issued");
            let body = json!({
                "access_token": issued.access_token,
                "token_type": "Bearer",
                "expires_in": issued.expires_in,
                "scope": issued.scope,
            });
            (StatusCode::OK, [(CACHE_CONTROL, "no-store"), (PRAGMA, "no-cache")], Json(body)).into_response()
        }
        Err(failure) => {
            let error = failure.oauth_error();
            state.metrics.token_outcome(error.as_str());
            tracing::info!(error = error.as_str(), code = failure.code().as_str(), description = %failure, "token refused");
            let body = json!({
                "error": error.as_str(),
                "error_description": format!("{failure} (trace_id: {})", trace.0),
                "error_uri": format!("{}errors/{}", state.issuer(), failure.code().as_str()),
            });
            let status = StatusCode::from_u16(error.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
            (status, [(CACHE_CONTROL, "no-store"), (PRAGMA, "no-cache")], Json(body)).into_response()
        }
    }
}

#[utoipa::path(get, path = "/jwk", tag = "token",
    responses((status = 200, description = "JWKS: the next, active and recently retired signing keys")))]
pub async fn jwks(State(state): State<AppState>, Extension(trace): Extension<TraceId>) -> Response {
    published_keys(&state, &trace).await
}

/// The JWKS of fullmakt's signing keys; both of its issuers publish it.
pub(crate) async fn published_keys(state: &AppState, trace: &TraceId) -> Response {
    let keys = async {
        let sequence = state.store.change_sequence().await.map_err(|e| e.to_string())?;
        state.tokens.key_ring().current(sequence).await.map_err(|e| e.to_string())
    }
    .await;
    match keys {
        Ok(keys) => (
            [(CACHE_CONTROL, "public, max-age=300")],
            Json(json!({ "keys": keys.published })),
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "cannot read signing keys");
            crate::problem::Problem {
                status: 500,
                title: "Internal server error",
                detail: "signing keys unavailable".into(),
                trace_id: trace.0.clone(),
                errors: None,
            }
                .into_response()
        }
    }
}

#[utoipa::path(get, path = "/.well-known/oauth-authorization-server", tag = "token",
    responses((status = 200, description = "RFC 8414 metadata in Maskinporten's shape")))]
pub async fn metadata(State(state): State<AppState>) -> Response {
    let issuer = state.issuer();
    Json(json!({
        "authorization_details_types_supported": ["urn:altinn:systemuser"],
        "grant_types_supported": [fullmakt_service::token::JWT_BEARER],
        "issuer": issuer,
        "jwks_uri": format!("{issuer}jwk"),
        "token_endpoint": format!("{issuer}token"),
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256", "RS384", "RS512"],
    }))
    .into_response()
}
