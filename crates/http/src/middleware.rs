use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tracing::Instrument;

use crate::{AppState, MAX_HEADER_BYTES};

/// The id of one request: in logs, in `error_description`s and in problem bodies, so a user's
/// error message leads straight to the server's log lines.
#[derive(Debug, Clone)]
pub struct TraceId(pub String);

impl TraceId {
    /// 32 hex digits, the shape of a UUID without dashes: a random half drawn once per process
    /// and a counter. Unique across processes and restarts without a system call per request
    /// (a random UUID per request cost one `getrandom` each); a trace id needs to be unique,
    /// not unguessable.
    fn new() -> Self {
        static PROCESS: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let process = *PROCESS.get_or_init(|| uuid::Uuid::new_v4().as_u64_pair().0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Self(format!("{process:016x}{n:016x}"))
    }
}

/// Trace id, header size limit, access log, and per-route metrics.
pub async fn observe(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let trace_id = TraceId::new();
    let route = req.extensions().get::<MatchedPath>().cloned();
    let method = req.method().clone();
    let header_bytes: usize = req.headers().iter().map(|(k, v)| k.as_str().len() + v.len() + 4).sum();
    let route_text = route.as_ref().map_or("unmatched", |r| r.as_str());
    let span = tracing::info_span!("request", trace_id = %trace_id.0, %method, route = %route_text);
    req.extensions_mut().insert(trace_id.clone());
    let started = Instant::now();
    let response = async {
        if header_bytes > MAX_HEADER_BYTES {
            return (StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, "request headers too large").into_response();
        }
        next.run(req).await
    }
    .instrument(span.clone())
    .await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    state.metrics.observe_request(&method, route.as_ref().map(|r| r.as_str()), status, elapsed.as_secs_f64());
    // Successful requests are logged at debug (token issuance has its own info line); refused
    // and failed ones at info, so the default log shows every problem without doubling volume.
    let elapsed_ms = elapsed.as_secs_f64() * 1000.0;
    span.in_scope(|| {
        if status < 400 {
            tracing::debug!(status, elapsed_ms, "request");
        } else {
            tracing::info!(status, elapsed_ms, "request");
        }
    });
    response
}

#[cfg(test)]
mod tests {
    use super::TraceId;

    #[test]
    fn trace_ids_are_32_hex_digits_and_never_repeat() {
        let ids: std::collections::HashSet<String> = (0..1000).map(|_| TraceId::new().0).collect();
        assert_eq!(ids.len(), 1000);
        assert!(ids.iter().all(|id| id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())));
    }
}
