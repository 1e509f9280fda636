//! The few HTML pages fullmakt serves itself (the test identity provider's person page, login
//! errors): escaping, one layout, and headers that keep them out of frames and caches.

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, REFERRER_POLICY, X_FRAME_OPTIONS};
use axum::http::{HeaderName, StatusCode};
use axum::response::{IntoResponse, Response};

/// Text for HTML element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A text for a URL query value.
pub fn query_value(text: &str) -> String {
    serde_urlencoded::to_string([("v", text)]).map(|s| s[2..].to_owned()).unwrap_or_default()
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}\
h1{font-size:1.4rem}table{border-collapse:collapse;width:100%}td,th{padding:.4rem;border-bottom:1px solid #ddd;text-align:left}\
button{cursor:pointer}.note{color:#555;font-size:.9rem}.error{color:#a00}nav{margin:1rem 0;display:flex;gap:1rem}";

/// A complete page. `body` must already be escaped where it holds data.
pub fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{title}</title><style>{STYLE}</style></head><body><h1>{title}</h1>{body}</body></html>",
        title = escape(title),
    );
    (
        status,
        [
            (CONTENT_TYPE, "text/html; charset=utf-8"),
            (CACHE_CONTROL, "no-store"),
            // Forms post to this origin only; no scripts, no frames (no clickjacking of the
            // person picker), and no referrer carrying a request id elsewhere. `same-origin`,
            // not `no-referrer`: under `no-referrer` browsers send `Origin: null` with a form
            // post, and the test identity provider refuses a post that is not from its origin.
            (HeaderName::from_static("content-security-policy"), "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
            (X_FRAME_OPTIONS, "DENY"),
            (REFERRER_POLICY, "same-origin"),
        ],
        html,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_query_values() {
        assert_eq!(escape(r#"<a href="x">'Ø' & co</a>"#), "&lt;a href=&quot;x&quot;&gt;&#39;Ø&#39; &amp; co&lt;/a&gt;");
        assert_eq!(query_value("Ola Nordmann&x=1"), "Ola+Nordmann%26x%3D1");
    }
}
