//! The answers of Altinn Authentication's routes: `Altinn.Authorization.ProblemDetails` bodies
//! for `AUTH-nnnnn` problems and `STD-00000` validation problems, plain text where the
//! reference answers with a bare string, and fullmakt's usual problem+json for the rest.
//!
//! Handlers of these routes return [`AuthResult`] and call the service through `auth_call!`.

use axum::http::header::CONTENT_TYPE;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use fullmakt_domain::auth_error::{status_description, AuthProblem, ValidationError, VALIDATION_PROBLEM_CODE, VALIDATION_PROBLEM_TITLE};
use fullmakt_service::AuthError;
use serde_json::{json, Map, Value};

use crate::problem::Problem;
use crate::TraceId;

pub(crate) const PROBLEM_JSON: &str = "application/problem+json";

/// Why an Authentication route did not succeed.
pub enum Failure {
    /// From the shared request handling (caller, body parsing), already shaped.
    Problem(Problem),
    Auth(AuthError, String),
}

impl Failure {
    pub fn auth(e: AuthError, trace: &TraceId) -> Self {
        Self::Auth(e, trace.0.clone())
    }
}

impl From<Problem> for Failure {
    fn from(p: Problem) -> Self {
        Self::Problem(p)
    }
}

pub type AuthResult = Result<Response, Failure>;

/// The body of an `AUTH-nnnnn` problem: `type` `urn:altinn:error:AUTH-…`, `title`, `status`,
/// `detail` when given, `code`, `traceId`, `statusDescription`, and the extensions flattened to
/// the top level.
pub fn problem_body(p: &AuthProblem, trace_id: &str) -> Value {
    let code = p.code.code();
    let mut body = Map::new();
    body.insert("type".into(), json!(format!("urn:altinn:error:{code}")));
    body.insert("title".into(), json!(p.code.title()));
    body.insert("status".into(), json!(p.status()));
    if let Some(detail) = &p.detail {
        body.insert("detail".into(), json!(detail));
    }
    body.insert("code".into(), json!(code));
    body.insert("traceId".into(), json!(trace_id));
    body.insert("statusDescription".into(), json!(status_description(p.status())));
    for (k, v) in &p.extensions {
        body.entry(k.clone()).or_insert_with(|| json!(v));
    }
    Value::Object(body)
}

/// The body of the validation problem (`STD-00000`) with its `validationErrors`, each
/// `{code, title, paths, detail?, …extensions}`.
pub fn validation_body(errors: &[ValidationError], trace_id: &str) -> Value {
    let errors: Vec<Value> = errors
        .iter()
        .map(|e| {
            let mut error = Map::new();
            error.insert("code".into(), json!(e.code.code()));
            error.insert("title".into(), json!(e.code.title()));
            error.insert("paths".into(), json!(e.paths));
            if let Some(detail) = &e.detail {
                error.insert("detail".into(), json!(detail));
            }
            for (k, v) in &e.extensions {
                error.entry(k.clone()).or_insert_with(|| json!(v));
            }
            Value::Object(error)
        })
        .collect();
    json!({
        "type": format!("urn:altinn:error:{VALIDATION_PROBLEM_CODE}"),
        "title": VALIDATION_PROBLEM_TITLE,
        "status": 400,
        "code": VALIDATION_PROBLEM_CODE,
        "traceId": trace_id,
        "statusDescription": status_description(400),
        "validationErrors": errors,
    })
}

fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

pub fn auth_error_response(e: AuthError, trace_id: String) -> Response {
    match e {
        AuthError::Admin(admin) => Problem::from_admin(admin, &TraceId(trace_id)).into_response(),
        AuthError::Problem(p) => {
            let body = problem_body(&p, &trace_id);
            (status(p.status()), [(CONTENT_TYPE, PROBLEM_JSON)], body.to_string()).into_response()
        }
        AuthError::Validation(errors) => {
            let body = validation_body(&errors, &trace_id);
            (StatusCode::BAD_REQUEST, [(CONTENT_TYPE, PROBLEM_JSON)], body.to_string()).into_response()
        }
        AuthError::Text { status: code, text } => (status(code), [(CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response(),
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        match self {
            Failure::Problem(p) => p.into_response(),
            Failure::Auth(e, trace) => auth_error_response(e, trace),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fullmakt_domain::auth_error::{paths, AuthCode, ValidationCode};

    #[test]
    fn a_problem_has_altinns_shape_with_extensions_at_the_top() {
        let p = AuthProblem::new(AuthCode::AccessPackageNotDelegableStandard)
            .with_extension("NotDelegablePackages", "urn:altinn:accesspackage:regnskapsforer-lonn");
        let body = problem_body(&p, "abc");
        assert_eq!(
            body,
            json!({
                "type": "urn:altinn:error:AUTH-00064",
                "title": "One or more access packages cannot be delegated. Either they are intended for clients or they cannot be delegated further.",
                "status": 400, "code": "AUTH-00064", "traceId": "abc", "statusDescription": "Bad Request",
                "NotDelegablePackages": "urn:altinn:accesspackage:regnskapsforer-lonn"
            })
        );
        let with_detail = problem_body(&AuthProblem::new(AuthCode::SystemIdNotFound).with_detail("x"), "t");
        assert_eq!(with_detail["detail"], "x");
        assert_eq!(with_detail["statusDescription"], "Not Found");
    }

    #[test]
    fn a_validation_problem_lists_errors_with_their_extensions() {
        let errors = vec![
            ValidationError::new(ValidationCode::SystemIdExists, paths::SYSTEM_ID),
            ValidationError::new(ValidationCode::AccessPackageNotValid, paths::ACCESS_PACKAGES)
                .with_extension("Invalid Urn Details : ", "Not found: urn:altinn:accesspackage:x"),
        ];
        assert_eq!(
            validation_body(&errors, "t"),
            json!({
                "type": "urn:altinn:error:STD-00000", "title": "One or more validation errors occurred.", "status": 400,
                "code": "STD-00000", "traceId": "t", "statusDescription": "Bad Request",
                "validationErrors": [
                    {"code": "AUTH.VLD-00002", "title": "The system id already exists", "paths": ["/registersystemrequest/systemid"]},
                    {"code": "AUTH.VLD-00008",
                     "title": "One or all the accesspackage(s) is not found in altinn's access packages or is not delegable",
                     "paths": ["/registersystemrequest/accesspackages"],
                     "Invalid Urn Details : ": "Not found: urn:altinn:accesspackage:x"}
                ]
            })
        );
    }
}
