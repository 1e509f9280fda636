//! `/authorization/api/v1/…`: the decision point's routes (pdp.md §1). Decisions answer HTTP
//! 200 with Indeterminate for anything the PDP cannot evaluate; only a body that is not JSON or
//! XML at all, or a caller without the scope, gets an HTTP error.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use fullmakt_service::pdp::{Api, Explanation, Outcome};
use fullmakt_xacml::{parse_request_json, parse_request_xml, result_to_altinn, response_to_xml, AltinnResult, DateTime};
use serde::de::IgnoredAny;
use serde::Serialize;

use crate::admin::caller;
use crate::problem::Problem;
use crate::{AppState, TraceId};

pub const AUTHORIZE: &str = "altinn:authorization/authorize";
pub const AUTHORIZE_ADMIN: &str = "altinn:authorization/authorize.admin";

fn now() -> DateTime {
    let d = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    DateTime::from_unix(d.as_secs() as i64, d.subsec_nanos())
}

/// A JSON-profile request, or the Indeterminate the reference gives for one it cannot read.
/// The body is parsed once: only a request that fails to parse is looked at again, to tell a
/// body that is not JSON at all (400) from a JSON body that is no XACML request.
fn read_json(body: &[u8], api: Api, t: &TraceId) -> Result<Result<fullmakt_xacml::Request, Vec<Outcome>>, Problem> {
    let text = std::str::from_utf8(body).map_err(|_| Problem::bad_request("the body is not UTF-8", t))?;
    match parse_request_json(text) {
        Ok(request) => Ok(Ok(request)),
        Err(unreadable) => {
            serde_json::from_str::<IgnoredAny>(text).map_err(|e| Problem::bad_request(format!("the body is not JSON: {e}"), t))?;
            Ok(Err(vec![Outcome::unreadable(api, unreadable.to_string())]))
        }
    }
}

/// One result as the reference writes it, with the explain route's `explanation` after it.
#[derive(Serialize)]
struct ResultBody<'a> {
    #[serde(flatten)]
    result: AltinnResult,
    #[serde(skip_serializing_if = "Option::is_none")]
    explanation: Option<&'a Explanation>,
}

/// `{"response":[…]}`, serialized straight from the results in the reference's key order.
fn altinn_json(outcomes: &[Outcome], explain: bool) -> Response {
    #[derive(Serialize)]
    struct Body<'a> {
        response: Vec<ResultBody<'a>>,
    }
    let response = outcomes
        .iter()
        .map(|o| ResultBody { result: result_to_altinn(&o.result, o.echo), explanation: explain.then_some(&o.explanation) })
        .collect();
    match serde_json::to_vec(&Body { response }) {
        Ok(bytes) => ([(CONTENT_TYPE, "application/json; charset=utf-8")], bytes).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

async fn authorize_json(s: &AppState, t: &TraceId, h: &HeaderMap, body: &[u8], explain: bool) -> Result<Response, Problem> {
    let c = caller(s, h, t).await?;
    c.require_any(&[AUTHORIZE, AUTHORIZE_ADMIN]).map_err(|e| Problem::from_admin(e, t))?;
    let outcomes = match read_json(body, Api::Authorize, t)? {
        Ok(request) => s.pdp.decide(&request, Api::Authorize, now(), explain).await,
        Err(failed) => failed,
    };
    Ok(altinn_json(&outcomes, explain))
}

#[utoipa::path(post, path = "/authorization/api/v1/authorize", tag = "authorization",
    security(("bearer" = ["altinn:authorization/authorize"])),
    request_body(content = Object, description = "XACML 3.0 JSON profile request {\"Request\":{…}}"),
    responses((status = 200, description = "{\"response\":[…]} with one result per individual request"), (status = 400), (status = 401), (status = 403)))]
pub async fn authorize(State(s): State<AppState>, Extension(t): Extension<TraceId>, h: HeaderMap, body: Bytes) -> Result<Response, Problem> {
    authorize_json(&s, &t, &h, &body, false).await
}

#[utoipa::path(post, path = "/authorization/api/v1/authorize/explain", tag = "authorization",
    security(("bearer" = ["altinn:authorization/authorize"])),
    request_body(content = Object, description = "The same request as /authorize"),
    responses((status = 200, description = "The /authorize response with an `explanation` in each result: the rule that decided and the grant paths that satisfied it"),
        (status = 400), (status = 401), (status = 403)))]
pub async fn explain(State(s): State<AppState>, Extension(t): Extension<TraceId>, h: HeaderMap, body: Bytes) -> Result<Response, Problem> {
    authorize_json(&s, &t, &h, &body, true).await
}

#[utoipa::path(post, path = "/authorization/api/v1/decision", tag = "authorization",
    request_body(content = String, description = "XACML 3.0 request: JSON profile when Content-Type is application/json, XML otherwise"),
    responses((status = 200, description = "JSON or XACML XML response, in the request's form"), (status = 400)))]
pub async fn decision(State(s): State<AppState>, Extension(t): Extension<TraceId>, h: HeaderMap, body: Bytes) -> Result<Response, Problem> {
    let is_json = h
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().contains("application/json"));
    if is_json {
        let outcomes = match read_json(&body, Api::Decision, &t)? {
            Ok(request) => s.pdp.decide(&request, Api::Decision, now(), false).await,
            Err(failed) => failed,
        };
        return Ok(altinn_json(&outcomes, false));
    }
    let text = std::str::from_utf8(&body).map_err(|_| Problem::bad_request("the body is not UTF-8", &t))?;
    let outcomes = match parse_request_xml(text) {
        Ok(request) => s.pdp.decide(&request, Api::Decision, now(), false).await,
        Err(e) => vec![Outcome::unreadable(Api::Decision, e.to_string())],
    };
    let response = fullmakt_xacml::Response {
        results: outcomes
            .into_iter()
            .map(|mut o| {
                if !o.echo {
                    o.result.attributes.clear();
                }
                o.result
            })
            .collect(),
    };
    Ok((StatusCode::OK, [(CONTENT_TYPE, "application/xml; charset=utf-8")], response_to_xml(&response)).into_response())
}
