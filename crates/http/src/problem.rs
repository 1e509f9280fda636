//! problem+json (RFC 9457) for the REST APIs.

use axum::extract::Request;
use axum::http::header::CONTENT_TYPE;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use fullmakt_service::AdminError;
use serde::de::DeserializeOwned;

use crate::TraceId;

/// The `type` ASP.NET gives validation problems; clients of the reference switch on it.
const VALIDATION_PROBLEM_TYPE: &str = "https://tools.ietf.org/html/rfc9110#section-15.5.1";

pub struct Problem {
    pub status: u16,
    pub title: &'static str,
    pub detail: String,
    pub trace_id: String,
    /// Field → messages, for validation problems (ASP.NET's `ValidationProblemDetails`).
    pub errors: Option<serde_json::Value>,
}

impl Problem {
    pub fn from_admin(e: AdminError, trace: &TraceId) -> Self {
        let errors = match &e {
            AdminError::Invalid(fields) => serde_json::to_value(fields).ok(),
            _ => None,
        };
        Self { status: e.status(), title: e.title(), detail: e.to_string(), trace_id: trace.0.clone(), errors }
    }

    pub fn bad_request(detail: impl Into<String>, trace: &TraceId) -> Self {
        Self { status: 400, title: "Bad request", detail: detail.into(), trace_id: trace.0.clone(), errors: None }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let mut body = serde_json::json!({
            "type": if self.errors.is_some() { VALIDATION_PROBLEM_TYPE } else { "about:blank" },
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "traceId": self.trace_id,
        });
        if let Some(errors) = self.errors {
            body["errors"] = errors;
        }
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, [(CONTENT_TYPE, "application/problem+json")], body.to_string()).into_response()
    }
}

/// Parses a JSON body into `T`, answering malformed input with a 400 that says what is wrong.
pub fn parse_json<T: DeserializeOwned>(body: &[u8], trace: &TraceId) -> Result<T, Problem> {
    serde_json::from_slice(body).map_err(|e| Problem::bad_request(format!("the body is not valid JSON for this operation: {e}"), trace))
}

pub async fn not_found(req: Request) -> Response {
    let trace = req.extensions().get::<TraceId>().cloned().unwrap_or(TraceId(String::new()));
    Problem {
        status: 404,
        title: "Not found",
        detail: format!("no route for {} {}", req.method(), req.uri().path()),
        trace_id: trace.0,
        errors: None,
    }
        .into_response()
}
