//! HTTP for person login (`fullmakt_service::login::OidcHttp`): the identity provider's
//! discovery document, keys and token endpoint, over the same hyper + rustls stack as the
//! trusted issuers' keys (`jwks_fetch`).

use std::time::Duration;

use fullmakt_service::login::relying_party::{HttpFuture, HttpReply, MAX_PROVIDER_RESPONSE};
use fullmakt_service::login::OidcHttp;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, USER_AGENT};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;

/// Connecting, sending and reading the whole answer must take no longer than this.
const TIMEOUT: Duration = Duration::from_secs(10);

pub struct HyperOidcHttp {
    client: Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>,
}

impl HyperOidcHttp {
    /// HTTPS with Mozilla's root certificates built in, and plain HTTP (the built-in test
    /// identity provider at an http public URL, loopback tests). Redirects are not followed.
    pub fn new() -> Result<Self, String> {
        Ok(Self { client: crate::jwks_fetch::https_client().map_err(|e| format!("cannot set up TLS for the identity provider: {e}"))? })
    }

    async fn send(&self, request: hyper::Request<Full<Bytes>>) -> Result<HttpReply, String> {
        let response = self.client.request(request).await.map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let body = Limited::new(response.into_body(), MAX_PROVIDER_RESPONSE)
            .collect()
            .await
            .map_err(|e| format!("reading the answer: {e} (at most {MAX_PROVIDER_RESPONSE} bytes)"))?;
        Ok(HttpReply { status, body: body.to_bytes().to_vec() })
    }

    async fn timed(&self, what: String, request: Result<hyper::Request<Full<Bytes>>, String>) -> Result<HttpReply, String> {
        let request = request.map_err(|e| format!("{what}: {e}"))?;
        match tokio::time::timeout(TIMEOUT, self.send(request)).await {
            Ok(result) => result.map_err(|e| format!("{what}: {e}")),
            Err(_) => Err(format!("{what}: no answer within {} s", TIMEOUT.as_secs())),
        }
    }
}

fn user_agent() -> &'static str {
    concat!("fullmakt/", env!("CARGO_PKG_VERSION"))
}

impl OidcHttp for HyperOidcHttp {
    fn get<'a>(&'a self, url: &'a str) -> HttpFuture<'a> {
        Box::pin(async move {
            let request = url.parse::<hyper::Uri>().map_err(|e| e.to_string()).and_then(|uri| {
                hyper::Request::get(uri)
                    .header(ACCEPT, "application/json")
                    .header(USER_AGENT, user_agent())
                    .body(Full::new(Bytes::new()))
                    .map_err(|e| e.to_string())
            });
            self.timed(format!("GET {url}"), request).await
        })
    }

    fn post_form<'a>(&'a self, url: &'a str, body: String, authorization: Option<String>) -> HttpFuture<'a> {
        Box::pin(async move {
            let request = url.parse::<hyper::Uri>().map_err(|e| e.to_string()).and_then(|uri| {
                let mut builder = hyper::Request::post(uri)
                    .header(ACCEPT, "application/json")
                    .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .header(USER_AGENT, user_agent());
                if let Some(authorization) = &authorization {
                    builder = builder.header(AUTHORIZATION, authorization);
                }
                builder.body(Full::new(Bytes::from(body))).map_err(|e| e.to_string())
            });
            self.timed(format!("POST {url}"), request).await
        })
    }
}
