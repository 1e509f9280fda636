//! Prometheus metrics: requests and latency per route, tokens issued by outcome.

use std::collections::BTreeSet;
use std::sync::{Mutex, RwLock};

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use crate::AppState;

// Label values are static text: recording a request copies no strings, and the set of series
// stays bounded whatever methods and paths clients send.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: &'static str,
    route: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: String,
}

fn latency_histogram() -> Histogram {
    // 0.25 ms … ~4 s
    Histogram::new(exponential_buckets(0.00025, 2.0, 15))
}

pub struct Metrics {
    registry: Mutex<Registry>,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
    tokens: Family<OutcomeLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(latency_histogram);
        let tokens = Family::<OutcomeLabels, Counter>::default();
        registry.register("fullmakt_http_requests", "HTTP requests by method, route and status", requests.clone());
        registry.register("fullmakt_http_request_duration_seconds", "HTTP request latency by route", latency.clone());
        registry.register("fullmakt_tokens", "Token requests by outcome (issued or the OAuth error)", tokens.clone());
        Self { registry: Mutex::new(registry), requests, latency, tokens }
    }
}

impl Metrics {
    /// `route` is the matched route template (None: no route matched).
    pub fn observe_request(&self, method: &Method, route: Option<&str>, status: u16, seconds: f64) {
        let (method, route) = (method_label(method), route.map_or("unmatched", route_label));
        self.requests.get_or_create(&RequestLabels { method, route, status }).inc();
        self.latency.get_or_create(&RouteLabels { method, route }).observe(seconds);
    }

    pub fn token_outcome(&self, outcome: &str) {
        self.tokens.get_or_create(&OutcomeLabels { outcome: outcome.to_owned() }).inc();
    }

    pub fn encode(&self) -> String {
        let mut out = String::new();
        let registry = self.registry.lock().unwrap_or_else(|p| p.into_inner());
        if prometheus_client::encoding::text::encode(&mut out, &registry).is_err() {
            out.clear();
        }
        out
    }
}

/// The standard methods by name; any other method a client invents is `other`.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "other",
    }
}

/// The route template as static text. Templates come from the router, so the set is fixed and
/// each is kept once for the life of the process.
fn route_label(template: &str) -> &'static str {
    static ROUTES: RwLock<BTreeSet<&'static str>> = RwLock::new(BTreeSet::new());
    if let Some(known) = ROUTES.read().unwrap_or_else(|p| p.into_inner()).get(template) {
        return known;
    }
    let mut routes = ROUTES.write().unwrap_or_else(|p| p.into_inner());
    match routes.get(template) {
        Some(known) => known,
        None => {
            let leaked: &'static str = Box::leak(template.into());
            routes.insert(leaked);
            leaked
        }
    }
}

pub async fn render(State(state): State<AppState>) -> Response {
    ([(CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], state.metrics.encode()).into_response()
}
