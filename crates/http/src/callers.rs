//! Who is calling: the two kinds of callers fullmakt's APIs serve, read from the request.
//!
//! - [`vendor_caller`]: an organisation with a Maskinporten token in `Authorization: Bearer` —
//!   fullmakt's own, a trusted issuer's, or an Altinn token fullmakt exchanged for one. Gives a
//!   [`Caller`] (organisation from `consumer`, scopes, client id).
//! - [`person_caller`]: a person with an Altinn person token in `Authorization: Bearer` or, when
//!   there is no such header, the `AltinnStudioRuntime` cookie (Altinn's portal cookie). Gives a
//!   [`PersonCaller`]; end-user APIs then call `require_scope(PORTAL_SCOPE)`.
//!
//! Each refuses the other kind of token with 401, as it refuses missing, expired, forged and
//! foreign tokens. Errors are problem+json, ready to return from a handler.

use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::HeaderMap;
use fullmakt_service::{AdminError, Caller, PersonCaller};

use crate::problem::Problem;
use crate::{AppState, TraceId};

/// The cookie Altinn's platform sets with the person token after login.
pub const ALTINN_TOKEN_COOKIE: &str = "AltinnStudioRuntime";

/// The organisation behind a verified vendor token.
pub async fn vendor_caller(state: &AppState, headers: &HeaderMap, trace: &TraceId) -> Result<Caller, Problem> {
    let bearer = bearer_token(headers).ok_or_else(|| Problem::from_admin(AdminError::Unauthorized("a bearer token is required".into()), trace))?;
    state.verifier.verify(bearer).await.map_err(|e| Problem::from_admin(e, trace))
}

/// The person behind a verified Altinn person token (bearer first, else the cookie). A handler
/// for end users follows with `caller.require_scope(PORTAL_SCOPE)`:
///
/// ```ignore
/// let person = person_caller(&state, &headers, &trace).await?;
/// person.require_scope(PORTAL_SCOPE).map_err(|e| Problem::from_admin(e, &trace))?;
/// ```
pub async fn person_caller(state: &AppState, headers: &HeaderMap, trace: &TraceId) -> Result<PersonCaller, Problem> {
    let token = bearer_token(headers).or_else(|| cookie(headers, ALTINN_TOKEN_COOKIE)).ok_or_else(|| {
        Problem::from_admin(
            AdminError::Unauthorized(format!("a person's Altinn token is required (Authorization: Bearer or the {ALTINN_TOKEN_COOKIE} cookie)")),
            trace,
        )
    })?;
    state.verifier.verify_person(token).await.map_err(|e| Problem::from_admin(e, trace))
}

/// The token of an `Authorization: Bearer …` header (scheme matched case-insensitively).
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The value of cookie `name` (the first one, across every `Cookie` header).
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.trim().trim_matches('"'))
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn reads_bearer_tokens_and_cookies() {
        let mut h = HeaderMap::new();
        assert_eq!(bearer_token(&h), None);
        h.insert(AUTHORIZATION, HeaderValue::from_static("BEARER  abc "));
        assert_eq!(bearer_token(&h), Some("abc"));
        h.insert(AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(bearer_token(&h), None);
        h.insert(AUTHORIZATION, HeaderValue::from_static("Bearer "));
        assert_eq!(bearer_token(&h), None);
        h.append(COOKIE, HeaderValue::from_static("a=1; AltinnStudioRuntime=tok.en.x"));
        h.append(COOKIE, HeaderValue::from_static("AltinnStudioRuntime=second"));
        assert_eq!(cookie(&h, ALTINN_TOKEN_COOKIE), Some("tok.en.x"));
        assert_eq!(cookie(&h, "a"), Some("1"));
        assert_eq!(cookie(&h, "AltinnStudio"), None);
    }
}
