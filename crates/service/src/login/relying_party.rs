//! fullmakt as an OpenID Connect relying party: person login for the portal and the API.
//!
//! `GET /authentication/api/v1/authentication?goto=…` ([`LoginService::begin`]) sends the
//! browser to the provider's authorization endpoint with a fresh `state`, `nonce` and PKCE
//! challenge, keeping them (with the checked `goto`) in the database under the state's hash
//! and binding them to the browser with a cookie. The callback ([`LoginService::complete`])
//! takes that row (once), exchanges the code at the provider's token endpoint over HTTP,
//! verifies the id_token against the provider's published keys (`iss`, `aud`, `azp`, `exp`,
//! `iat`, `nonce`), reads the person number from `pid` and issues fullmakt's Altinn person
//! token for the person in the register.
//!
//! The provider is found by OpenID Connect Discovery from its issuer, fetched when first needed
//! (not at start: the built-in test provider is this very server, which is not listening yet)
//! and again after an hour. Keys come from its `jwks_uri` through [`TrustedIssuers`], which
//! caches them and fetches again for an unknown `kid` at most every ten seconds.
//!
//! The network is reached through [`OidcHttp`], which the binary implements; this layer does no
//! I/O of its own beyond the database.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use fullmakt_domain::{PersonIdentifier, SyntheticNumbers};
use fullmakt_jose::{Algorithm, CompactJws};
use fullmakt_store::{LoginAttemptRow, Store};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::{is_secret_shaped, random_secret, safe_goto, secret_hash, ClientSecret, LOGIN_ATTEMPT_LIFETIME};
use crate::altinn_token::{AltinnTokenService, PersonToken, PersonTokenError, PersonTokenRequest};
use crate::clock;
use crate::token::CLOCK_SKEW;
use crate::trusted_issuers::{FetchFuture, JwksFetcher, TrustedIssuer, TrustedIssuers};

/// The login start, Altinn's path.
pub const LOGIN_PATH: &str = "/authentication/api/v1/authentication";
/// Where the provider sends the browser back: the redirect URI to register at the provider.
pub const CALLBACK_PATH: &str = "/authentication/api/v1/authentication/callback";
/// The discovery document is fetched again after this long.
pub const DISCOVERY_MAX_AGE: Duration = Duration::from_secs(3600);
/// After a failed discovery, logins fail at once for this long instead of asking again.
pub const DISCOVERY_RETRY: Duration = Duration::from_secs(10);
/// An id_token issued longer ago than this is refused, whatever its `exp` says.
pub const MAX_ID_TOKEN_AGE: i64 = 600;
/// Largest answer read from the provider.
pub const MAX_PROVIDER_RESPONSE: usize = 256 * 1024;

/// The OpenID Connect provider persons log in with.
#[derive(Debug, Clone)]
pub struct OidcProvider {
    /// The issuer exactly as the provider writes it in `iss` (e.g. `https://idporten.no`).
    pub issuer: String,
    pub client_id: String,
    /// `None`: the client is public (`none` + PKCE).
    pub client_secret: Option<ClientSecret>,
    /// Accept only synthetic person numbers (for the built-in test identity provider, which
    /// lets anyone log in as anyone).
    pub synthetic_only: bool,
}

#[derive(Debug, Clone)]
pub struct LoginConfig {
    pub provider: OidcProvider,
    /// fullmakt's public URL, without trailing slash.
    pub public_url: String,
}

/// An HTTP answer from the provider.
#[derive(Debug, Clone)]
pub struct HttpReply {
    pub status: u16,
    pub body: Vec<u8>,
}

pub type HttpFuture<'a> = Pin<Box<dyn Future<Output = Result<HttpReply, String>> + Send + 'a>>;

/// HTTP to the provider, supplied by the binary. Neither call follows redirects; each reads at
/// most [`MAX_PROVIDER_RESPONSE`] bytes and gives up after a timeout, with an error saying why.
pub trait OidcHttp: Send + Sync {
    fn get<'a>(&'a self, url: &'a str) -> HttpFuture<'a>;
    /// POST `body` (already `application/x-www-form-urlencoded`), with an `Authorization` header
    /// when given.
    fn post_form<'a>(&'a self, url: &'a str, body: String, authorization: Option<String>) -> HttpFuture<'a>;
}

/// The browser is sent to the provider.
#[derive(Debug)]
pub struct LoginStarted {
    pub location: String,
    /// A new login cookie to set, when the browser had none.
    pub new_browser: Option<String>,
}

/// The callback's query parameters.
#[derive(Debug, Default, Clone)]
pub struct CallbackParams {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
    pub iss: Option<String>,
}

/// A person logged in: the token to set, and where to go.
#[derive(Debug)]
pub struct LoginCompleted {
    pub token: PersonToken,
    pub goto: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoginError {
    /// The provider cannot be reached or its answer is unusable.
    #[error("the identity provider is not available: {0}")]
    ProviderUnavailable(String),
    /// The callback does not continue a login this browser started.
    #[error("{0}")]
    InvalidState(String),
    /// The provider answered with an error, or refused the code.
    #[error("{0}")]
    Refused(String),
    /// The provider's id_token does not hold.
    #[error("the identity provider's id_token is not valid: {0}")]
    InvalidIdToken(String),
    /// Authenticated, but not someone who may log in here.
    #[error("{0}")]
    PersonRefused(String),
    #[error("internal error")]
    Internal,
}

/// The part of the provider's metadata the login uses (OpenID Connect Discovery 1.0 §3).
#[derive(Debug, Clone, Deserialize)]
struct ProviderMetadata {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
    #[serde(default)]
    token_endpoint_auth_methods_supported: Option<Vec<String>>,
    #[serde(default)]
    authorization_response_iss_parameter_supported: bool,
}

struct Discovered {
    metadata: ProviderMetadata,
    keys: Arc<TrustedIssuers>,
    fetched_at: Instant,
}

#[derive(Default)]
struct ProviderState {
    current: Option<Arc<Discovered>>,
    failed_at: Option<Instant>,
}

/// Lets [`TrustedIssuers`] fetch the provider's JWKS through [`OidcHttp`].
struct JwksVia(Arc<dyn OidcHttp>);

impl JwksFetcher for JwksVia {
    fn fetch<'a>(&'a self, url: &'a str) -> FetchFuture<'a> {
        Box::pin(async move {
            let reply = self.0.get(url).await?;
            if reply.status != 200 {
                return Err(format!("GET {url}: HTTP {}", reply.status));
            }
            Ok(reply.body)
        })
    }
}

pub struct LoginService {
    store: Store,
    altinn: Arc<AltinnTokenService>,
    http: Arc<dyn OidcHttp>,
    config: LoginConfig,
    redirect_uri: String,
    provider: tokio::sync::Mutex<ProviderState>,
}

impl LoginService {
    pub fn new(store: Store, altinn: Arc<AltinnTokenService>, http: Arc<dyn OidcHttp>, mut config: LoginConfig) -> Self {
        config.public_url = config.public_url.trim_end_matches('/').to_owned();
        let redirect_uri = format!("{}{CALLBACK_PATH}", config.public_url);
        Self { store, altinn, http, config, redirect_uri, provider: tokio::sync::Mutex::new(ProviderState::default()) }
    }

    pub fn provider(&self) -> &OidcProvider {
        &self.config.provider
    }

    /// The redirect URI to register at the provider.
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// Whether cookies must be `Secure` (the public URL is https).
    pub fn secure_cookies(&self) -> bool {
        self.config.public_url.starts_with("https://")
    }

    /// The provider's metadata and keys: cached for [`DISCOVERY_MAX_AGE`]; fetched again when
    /// older, keeping the old ones if that fails.
    async fn discovered(&self) -> Result<Arc<Discovered>, LoginError> {
        let mut state = self.provider.lock().await;
        if let Some(current) = &state.current {
            if current.fetched_at.elapsed() < DISCOVERY_MAX_AGE {
                return Ok(current.clone());
            }
        }
        if state.failed_at.is_some_and(|t| t.elapsed() < DISCOVERY_RETRY) {
            if let Some(current) = &state.current {
                return Ok(current.clone());
            }
            return Err(LoginError::ProviderUnavailable("its discovery document could not be read a moment ago".into()));
        }
        match self.discover().await {
            Ok(metadata) => {
                // Same key location: keep the key cache (and its rate limit).
                let keys = match &state.current {
                    Some(old) if old.metadata.jwks_uri == metadata.jwks_uri => old.keys.clone(),
                    _ => Arc::new(TrustedIssuers::new(
                        vec![TrustedIssuer { issuer: metadata.issuer.clone(), jwks_url: metadata.jwks_uri.clone() }],
                        Arc::new(JwksVia(self.http.clone())),
                    )),
                };
                let discovered = Arc::new(Discovered { metadata, keys, fetched_at: Instant::now() });
                state.current = Some(discovered.clone());
                state.failed_at = None;
                Ok(discovered)
            }
            Err(why) => {
                tracing::warn!(issuer = %self.config.provider.issuer, error = %why, "cannot read the identity provider's discovery document");
                state.failed_at = Some(Instant::now());
                match &state.current {
                    Some(current) => Ok(current.clone()),
                    None => Err(LoginError::ProviderUnavailable(why)),
                }
            }
        }
    }

    async fn discover(&self) -> Result<ProviderMetadata, String> {
        let issuer = &self.config.provider.issuer;
        let url = format!("{}/.well-known/openid-configuration", issuer.trim_end_matches('/'));
        let reply = self.http.get(&url).await?;
        if reply.status != 200 {
            return Err(format!("GET {url}: HTTP {}", reply.status));
        }
        let metadata: ProviderMetadata =
            serde_json::from_slice(&reply.body).map_err(|e| format!("GET {url}: not an OpenID Provider metadata document: {e}"))?;
        // Discovery §4.3: the document must be the configured issuer's own.
        if &metadata.issuer != issuer {
            return Err(format!("GET {url}: the document names the issuer {}, not {issuer}", metadata.issuer));
        }
        let https = issuer.starts_with("https://");
        for (name, endpoint) in [
            ("authorization_endpoint", &metadata.authorization_endpoint),
            ("token_endpoint", &metadata.token_endpoint),
            ("jwks_uri", &metadata.jwks_uri),
        ] {
            let parsed = url::Url::parse(endpoint).map_err(|_| format!("{name} is not a URL: {endpoint}"))?;
            match parsed.scheme() {
                "https" => {}
                "http" if !https => {}
                _ => return Err(format!("{name} must be an https URL like the issuer: {endpoint}")),
            }
        }
        Ok(metadata)
    }

    /// Starts a login: where to send the browser, and a login cookie when it has none.
    pub async fn begin(&self, goto: Option<&str>, browser: Option<&str>) -> Result<LoginStarted, LoginError> {
        let provider = self.discovered().await?;
        let secret = || random_secret().map_err(|_| LoginError::Internal);
        let (state, nonce, verifier) = (secret()?, secret()?, secret()?);
        let (browser, new_browser) = match browser.filter(|b| is_secret_shaped(b)) {
            Some(b) => (b.to_owned(), None),
            None => {
                let b = secret()?;
                (b.clone(), Some(b))
            }
        };
        let row = LoginAttemptRow {
            state_hash: secret_hash(&state),
            browser_hash: secret_hash(&browser),
            nonce: nonce.clone(),
            code_verifier: verifier.clone(),
            goto: safe_goto(&self.config.public_url, goto),
            expires_at: clock::now() + LOGIN_ATTEMPT_LIFETIME,
        };
        self.store.insert_login_attempt(&row).await.map_err(|e| {
            tracing::error!(error = %e, "login: cannot store the login attempt");
            LoginError::Internal
        })?;
        let mut location = url::Url::parse(&provider.metadata.authorization_endpoint).map_err(|_| LoginError::Internal)?;
        location
            .query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.config.provider.client_id)
            .append_pair("redirect_uri", &self.redirect_uri)
            .append_pair("scope", "openid")
            .append_pair("state", &state)
            .append_pair("nonce", &nonce)
            .append_pair("code_challenge", &super::pkce_challenge(&verifier))
            .append_pair("code_challenge_method", "S256");
        Ok(LoginStarted { location: location.into(), new_browser })
    }

    /// The provider's callback: the person's Altinn token and where to go, or why not.
    pub async fn complete(&self, callback: &CallbackParams, browser: Option<&str>) -> Result<LoginCompleted, LoginError> {
        let restart = "Start the login again.";
        let state = callback
            .state
            .as_deref()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| LoginError::InvalidState(format!("The answer from the identity provider has no state. {restart}")))?;
        let attempt = self.store.take_login_attempt(&secret_hash(state)).await.map_err(|e| {
            tracing::error!(error = %e, "login: cannot read the login attempt");
            LoginError::Internal
        })?;
        let attempt = attempt.ok_or_else(|| {
            LoginError::InvalidState(format!("This login is unknown, expired or completed already (the state does not match). {restart}"))
        })?;
        if attempt.expires_at < clock::now() {
            return Err(LoginError::InvalidState(format!("This login took too long and has expired. {restart}")));
        }
        if browser.map(secret_hash).as_deref() != Some(attempt.browser_hash.as_str()) {
            return Err(LoginError::InvalidState(format!(
                "This login was started in another browser, or the browser does not keep cookies. {restart}"
            )));
        }
        let provider = self.discovered().await?;
        let issuer = &provider.metadata.issuer;
        // RFC 9207: the answer names its issuer, so an answer from another provider is refused.
        match callback.iss.as_deref() {
            Some(iss) if iss != issuer => return Err(LoginError::Refused("The answer comes from another identity provider.".into())),
            None if provider.metadata.authorization_response_iss_parameter_supported => {
                return Err(LoginError::Refused("The identity provider's answer does not name its issuer.".into()))
            }
            _ => {}
        }
        if let Some(error) = callback.error.as_deref() {
            let description = callback.error_description.as_deref().unwrap_or_default();
            return Err(LoginError::Refused(match error {
                "access_denied" => "The login was cancelled.".to_owned(),
                _ => format!("The identity provider refused the login: {error} {description}").trim_end().to_owned(),
            }));
        }
        let code = callback
            .code
            .as_deref()
            .filter(|c| !c.is_empty())
            .ok_or_else(|| LoginError::Refused("The identity provider's answer has neither a code nor an error.".into()))?;
        let id_token = self.redeem(&provider, code, &attempt.code_verifier).await?;
        let identity = self.verify_id_token(&provider, &id_token, &attempt.nonce).await?;
        if self.config.provider.synthetic_only
            && !PersonIdentifier::parse(&identity.pid, SyntheticNumbers::Accept).is_ok_and(|p| p.is_synthetic())
        {
            return Err(LoginError::PersonRefused("Only synthetic test persons can log in with the test identity provider.".into()));
        }
        let request = PersonTokenRequest {
            pid: &identity.pid,
            auth_level: identity.auth_level,
            authentication_method: identity.authentication_method,
            session_id: None,
        };
        let token = match self.altinn.issue_person_token(&request).await {
            Ok(token) => token,
            Err(PersonTokenError::UnknownPerson | PersonTokenError::DeletedPerson) => {
                return Err(LoginError::PersonRefused(
                    "You logged in, but you are not a person in this fullmakt instance's register, so you cannot use it.".into(),
                ))
            }
            Err(PersonTokenError::InvalidPersonIdentifier(why)) => {
                return Err(LoginError::InvalidIdToken(format!("its pid is not a person number: {why}")))
            }
            Err(e) => {
                tracing::error!(error = %e, "login: cannot issue the person token");
                return Err(LoginError::Internal);
            }
        };
        tracing::info!(party_id = token.party_id, auth_level = identity.auth_level, method = identity.authentication_method, "person logged in");
        Ok(LoginCompleted { token, goto: attempt.goto })
    }

    /// The authorization code for an id_token, at the provider's token endpoint.
    async fn redeem(&self, provider: &Discovered, code: &str, verifier: &str) -> Result<String, LoginError> {
        let client = &self.config.provider;
        // Built in a block: the serializer is not Send, so it must be gone before the await.
        let (body, authorization) = {
            let mut form = url::form_urlencoded::Serializer::new(String::new());
            form.append_pair("grant_type", "authorization_code")
                .append_pair("code", code)
                .append_pair("redirect_uri", &self.redirect_uri)
                .append_pair("code_verifier", verifier)
                .append_pair("client_id", &client.client_id);
            let mut authorization = None;
            if let Some(secret) = &client.client_secret {
                // client_secret_basic is the default (OpenID Connect Discovery §3); post only
                // when the provider lists post and not basic.
                let methods = provider.metadata.token_endpoint_auth_methods_supported.as_deref().unwrap_or_default();
                let post_only = methods.iter().any(|m| m == "client_secret_post") && !methods.iter().any(|m| m == "client_secret_basic");
                if post_only {
                    form.append_pair("client_secret", secret.expose());
                } else {
                    authorization = Some(basic_authorization(&client.client_id, secret.expose()));
                }
            }
            (form.finish(), authorization)
        };
        let endpoint = &provider.metadata.token_endpoint;
        let reply = self.http.post_form(endpoint, body, authorization).await.map_err(LoginError::ProviderUnavailable)?;
        let body: Option<Map<String, Value>> = serde_json::from_slice(&reply.body).ok();
        let text = |name: &str| body.as_ref().and_then(|b| b.get(name)).and_then(Value::as_str).unwrap_or_default().to_owned();
        match reply.status {
            200 => {}
            400 | 401 if body.is_some() => {
                let (error, description) = (text("error"), text("error_description"));
                tracing::info!(%error, %description, "login: the identity provider refused the code");
                return Err(LoginError::Refused(format!("The identity provider refused the login: {error} {description}").trim_end().to_owned()));
            }
            status => return Err(LoginError::ProviderUnavailable(format!("its token endpoint answered HTTP {status}"))),
        }
        let Some(body) = body else {
            return Err(LoginError::ProviderUnavailable("its token endpoint did not answer with a JSON object".into()));
        };
        body.get("id_token")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| LoginError::InvalidIdToken("the token response has no id_token".into()))
    }

    async fn verify_id_token(&self, provider: &Discovered, id_token: &str, nonce: &str) -> Result<Identity, LoginError> {
        let invalid = |why: &str| LoginError::InvalidIdToken(why.to_owned());
        let jws = CompactJws::parse(id_token).map_err(|e| invalid(&format!("not a signed JWT: {e}")))?;
        if Algorithm::parse(&jws.header.alg).is_none() {
            return Err(invalid("it is not signed with RS256, RS384 or RS512"));
        }
        let kid = jws.header.kid.as_deref().ok_or_else(|| invalid("its header has no kid"))?;
        let key = provider
            .keys
            .key(&provider.metadata.issuer, kid)
            .await
            .ok_or_else(|| invalid("it is signed with a key the provider does not publish"))?;
        jws.verify_with(&key).map_err(|e| invalid(&format!("its signature does not hold ({e})")))?;
        let claims = jws.claims().map_err(|_| invalid("its payload is not a JSON object"))?;
        let expected = Expected { issuer: &provider.metadata.issuer, client_id: &self.config.provider.client_id, nonce, now: clock::now() };
        check_claims(&claims, &expected).map_err(LoginError::InvalidIdToken)
    }
}

/// What the login takes from a verified id_token.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Identity {
    pid: String,
    auth_level: u8,
    authentication_method: &'static str,
}

struct Expected<'a> {
    issuer: &'a str,
    client_id: &'a str,
    nonce: &'a str,
    now: i64,
}

/// OpenID Connect Core §3.1.3.7 on a token whose signature holds.
fn check_claims(claims: &Map<String, Value>, expected: &Expected<'_>) -> Result<Identity, String> {
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    if text("iss") != Some(expected.issuer) {
        return Err(format!("iss is not {}", expected.issuer));
    }
    let audiences: Vec<&str> = match claims.get("aud") {
        Some(Value::String(aud)) => vec![aud.as_str()],
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
        _ => return Err("aud is missing".into()),
    };
    if !audiences.contains(&expected.client_id) {
        return Err("aud does not name this client".into());
    }
    if (audiences.len() > 1 || claims.contains_key("azp")) && text("azp") != Some(expected.client_id) {
        return Err("azp does not name this client".into());
    }
    let number = |name: &str| claims.get(name).and_then(Value::as_number).and_then(|n| n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)));
    let exp = number("exp").ok_or("exp is missing")?;
    if exp < expected.now - CLOCK_SKEW {
        return Err("it has expired".into());
    }
    let iat = number("iat").ok_or("iat is missing")?;
    if iat > expected.now + CLOCK_SKEW {
        return Err("it is issued in the future".into());
    }
    if iat < expected.now - MAX_ID_TOKEN_AGE {
        return Err("it was issued too long ago".into());
    }
    if claims.contains_key("nbf") && number("nbf").is_none_or(|nbf| nbf > expected.now + CLOCK_SKEW) {
        return Err("it is not valid yet".into());
    }
    if text("nonce") != Some(expected.nonce) {
        return Err("its nonce is not this login's".into());
    }
    let pid = text("pid").filter(|p| !p.is_empty()).ok_or("it has no pid (person number)")?.to_owned();
    let amr_first = match claims.get("amr") {
        Some(Value::Array(list)) => list.first().and_then(Value::as_str),
        Some(Value::String(s)) => Some(s.as_str()),
        _ => None,
    };
    Ok(Identity {
        pid,
        auth_level: authentication_level(text("acr").unwrap_or_default()),
        authentication_method: authentication_method(amr_first.unwrap_or_default()),
    })
}

/// Altinn's `urn:altinn:authlevel` for an `acr` (ID-porten's levels of assurance and the older
/// Level0–4); anything else is 0, as in Altinn.
pub fn authentication_level(acr: &str) -> u8 {
    match acr.to_ascii_lowercase().as_str() {
        "level1" => 1,
        "level2" => 2,
        "level3" | "idporten-loa-substantial" => 3,
        "level4" | "idporten-loa-high" => 4,
        _ => 0,
    }
}

/// Altinn's `urn:altinn:authenticatemethod` for ID-porten's first `amr` value.
pub fn authentication_method(amr: &str) -> &'static str {
    match amr {
        "Minid-PIN" => "MinIDPin",
        "Minid-OTC" => "MinIDOTC",
        "Minid-APP" => "MinIDApp",
        "Commfides" => "Commfides",
        "Buypass" => "BuyPass",
        "BankID" => "BankID",
        "BankID Mobil" => "BankIDMobil",
        "eIDAS" => "EIDAS",
        "Selfregistered-email" => "IdportenEpost",
        "TestID" => "IdportenTestId",
        "SelfIdentified" => "SelfIdentified",
        "StaticPassword" => "StaticPassword",
        _ => "NotDefined",
    }
}

/// `Basic base64(urlencode(id) ":" urlencode(secret))` (RFC 6749 §2.3.1).
fn basic_authorization(client_id: &str, secret: &str) -> String {
    use base64::Engine;
    let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let pair = format!("{}:{}", encode(client_id), encode(secret));
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    fn good(now: i64) -> Value {
        json!({"iss": "https://idp.example", "aud": "fullmakt", "sub": "s", "pid": "12877800170", "nonce": "n1",
               "acr": "idporten-loa-substantial", "amr": ["BankID"], "iat": now, "exp": now + 120})
    }

    #[test]
    fn accepts_a_good_id_token_and_reads_level_and_method() {
        let now = 1_800_000_000;
        let expected = Expected { issuer: "https://idp.example", client_id: "fullmakt", nonce: "n1", now };
        let identity = check_claims(&claims(good(now)), &expected).unwrap();
        assert_eq!(identity, Identity { pid: "12877800170".into(), auth_level: 3, authentication_method: "BankID" });
        let mut with_list = good(now);
        with_list["aud"] = json!(["other", "fullmakt"]);
        with_list["azp"] = json!("fullmakt");
        assert!(check_claims(&claims(with_list), &expected).is_ok());
    }

    #[test]
    fn refuses_every_broken_claim() {
        let now = 1_800_000_000;
        let expected = Expected { issuer: "https://idp.example", client_id: "fullmakt", nonce: "n1", now };
        for (name, change, why) in [
            ("iss", json!("https://other.example"), "iss"),
            ("aud", json!("other"), "aud"),
            ("aud", json!(["other", "fullmakt"]), "azp"),
            ("azp", json!("other"), "azp"),
            ("exp", json!(now - 11), "expired"),
            ("iat", json!(now + 11), "future"),
            ("iat", json!(now - MAX_ID_TOKEN_AGE - 1), "too long ago"),
            ("nbf", json!(now + 60), "not valid yet"),
            ("nonce", json!("n2"), "nonce"),
            ("pid", json!(""), "pid"),
        ] {
            let mut c = good(now);
            c[name] = change;
            let e = check_claims(&claims(c), &expected).unwrap_err();
            assert!(e.contains(why), "{name}: {e}");
        }
        for missing in ["iss", "aud", "exp", "iat", "nonce", "pid"] {
            let mut c = claims(good(now));
            c.remove(missing);
            assert!(check_claims(&c, &expected).is_err(), "{missing}");
        }
        // Within the clock skew is fine.
        let mut c = good(now);
        c["exp"] = json!(now - 10);
        assert!(check_claims(&claims(c), &expected).is_ok());
    }

    #[test]
    fn maps_levels_and_methods_as_altinn() {
        assert_eq!(authentication_level("idporten-loa-high"), 4);
        assert_eq!(authentication_level("Level3"), 3);
        assert_eq!(authentication_level("idporten-loa-low"), 0);
        assert_eq!(authentication_level(""), 0);
        assert_eq!(authentication_method("TestID"), "IdportenTestId");
        assert_eq!(authentication_method("BankID Mobil"), "BankIDMobil");
        assert_eq!(authentication_method("maskinporten"), "NotDefined");
    }

    #[test]
    fn basic_authorization_escapes_before_encoding() {
        use base64::Engine;
        let header = basic_authorization("my client", "a:b+c");
        let decoded = base64::engine::general_purpose::STANDARD.decode(header.strip_prefix("Basic ").unwrap()).unwrap();
        assert_eq!(String::from_utf8(decoded).unwrap(), "my+client:a%3Ab%2Bc");
    }
}
