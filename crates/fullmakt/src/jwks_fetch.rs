//! Fetches trusted issuers' JWKS over HTTP(S) for the service layer (`TrustedIssuers`).

use std::time::Duration;

use fullmakt_service::trusted_issuers::{FetchFuture, JwksFetcher, MAX_JWKS_BYTES};
use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// Connecting, sending and reading the whole JWKS must take no longer than this.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// fullmakt's outgoing HTTP client: HTTPS with Mozilla's root certificates built in (a container
/// without a system trust store works), rustls on the aws-lc-rs the crypto already uses with its
/// provider given explicitly (no process-wide state), plain HTTP for loopback and test-data
/// instances. Redirects are never followed.
pub fn https_client<B>() -> Result<Client<hyper_rustls::HttpsConnector<HttpConnector>, B>, String>
where
    B: hyper::body::Body + Send,
    B::Data: Send,
{
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_webpki_roots(rustls::crypto::aws_lc_rs::default_provider())
        .map_err(|e| e.to_string())?
        .https_or_http()
        .enable_http1()
        .build();
    Ok(Client::builder(TokioExecutor::new()).build(https))
}

pub struct HttpJwksFetcher {
    client: Client<hyper_rustls::HttpsConnector<HttpConnector>, Empty<Bytes>>,
}

impl HttpJwksFetcher {
    /// HTTPS with Mozilla's root certificates (built in, so a container without a system
    /// trust store works), and plain HTTP for loopback tests. Redirects are not followed.
    pub fn new() -> Result<Self, String> {
        Ok(Self { client: https_client().map_err(|e| format!("cannot set up TLS for trusted issuers' keys: {e}"))? })
    }

    async fn get(&self, url: &str) -> Result<Vec<u8>, String> {
        let uri: hyper::Uri = url.parse().map_err(|e| format!("{e}"))?;
        let request = hyper::Request::get(uri)
            .header(hyper::header::ACCEPT, "application/json")
            .header(hyper::header::USER_AGENT, concat!("fullmakt/", env!("CARGO_PKG_VERSION")))
            .body(Empty::new())
            .map_err(|e| e.to_string())?;
        let response = self.client.request(request).await.map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(format!("HTTP {}", response.status()));
        }
        let body = Limited::new(response.into_body(), MAX_JWKS_BYTES)
            .collect()
            .await
            .map_err(|e| format!("reading the body: {e} (at most {MAX_JWKS_BYTES} bytes)"))?;
        Ok(body.to_bytes().to_vec())
    }
}

impl JwksFetcher for HttpJwksFetcher {
    fn fetch<'a>(&'a self, url: &'a str) -> FetchFuture<'a> {
        Box::pin(async move {
            match tokio::time::timeout(FETCH_TIMEOUT, self.get(url)).await {
                Ok(result) => result.map_err(|e| format!("GET {url}: {e}")),
                Err(_) => Err(format!("GET {url}: no answer within {} s", FETCH_TIMEOUT.as_secs())),
            }
        })
    }
}
