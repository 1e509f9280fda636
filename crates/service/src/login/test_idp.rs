//! The built-in test identity provider: an OpenID Connect provider that lets you log in as a
//! synthetic person from the register, for instances that run with test data (demo,
//! development, tests). It plays ID-porten's part with the same protocol — authorization code
//! with PKCE (S256, required), an RS256 id_token with `pid`, `acr` (`idporten-loa-high`) and
//! `amr` (`TestID`) — so the relying party cannot tell it from a real provider and runs the
//! same code path everywhere.
//!
//! Its issuer is `{public_url}/testidp`, distinct from fullmakt's token-service and Altinn
//! issuers, so an id_token can never pass as an access token or the reverse (each verifier
//! insists on its own issuer). It signs with fullmakt's signing keys and publishes the same
//! key set.
//!
//! Only synthetic persons (Tenor numbers, month + 80) are offered and accepted: an instance
//! that runs with test data may still hold real persons, and anyone can log in here as anyone.
//!
//! Pending authorizations and codes live in the database (migration 0011), so any node can
//! show the page, take the choice or redeem the code. Codes live [`CODE_LIFETIME`] seconds and
//! are spent by the first token request that presents them, whatever its outcome.

use std::sync::Arc;

use fullmakt_domain::{PersonIdentifier, SyntheticNumbers};
use fullmakt_store::{PersonListRow, Store, TestIdpCodeRow, TestIdpRequestRow};
use serde::Serialize;
use serde_json::{json, Value};

use super::{is_secret_shaped, is_valid_s256_challenge, pkce_matches, random_secret, secret_hash, ClientSecret};
use crate::register::{find_party, PartyLookup, RegisterError};
use crate::signing_keys::KeyRing;
use crate::clock;

/// Where the test identity provider is mounted under the public URL.
pub const TEST_IDP_PATH: &str = "/testidp";
/// How long a person may take to choose, from the authorization request on.
pub const REQUEST_LIFETIME: i64 = 900;
/// Authorization codes are redeemed within a minute or never (RFC 6749 §4.1.2 recommends ≤ 10).
pub const CODE_LIFETIME: i64 = 60;
/// ID-porten's id_tokens live 120 s.
pub const ID_TOKEN_LIFETIME: i64 = 120;
/// The level of assurance every test login gets (ID-porten's TestID gives high).
pub const TEST_ACR: &str = "idporten-loa-high";
/// The authentication method ID-porten reports for its test identities.
pub const TEST_AMR: &str = "TestID";
/// Persons per page.
pub const PAGE_SIZE: i64 = 20;
/// Longest `state` and `nonce` accepted.
const MAX_PARAMETER_LEN: usize = 512;

/// A client of the test identity provider: fullmakt's own relying party.
#[derive(Debug, Clone)]
pub struct TestIdpClient {
    pub client_id: String,
    /// `None`: the client authenticates with `none` and PKCE alone.
    pub secret: Option<ClientSecret>,
    pub redirect_uris: Vec<String>,
}

pub struct TestIdentityProvider {
    store: Store,
    keys: Arc<KeyRing>,
    issuer: String,
    clients: Vec<TestIdpClient>,
}

/// An authorization request's parameters as they arrived (each at most once).
#[derive(Debug, Default, Clone)]
pub struct AuthorizationRequest {
    pub response_type: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
}

/// An accepted authorization request: show the person page for it.
#[derive(Debug)]
pub struct AuthorizationPending {
    pub request_id: String,
    /// A new browser binding to set as a cookie, when the browser had none.
    pub new_browser: Option<String>,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum AuthorizeError {
    /// The client or redirect URI cannot be trusted, so the error is shown, never redirected
    /// (RFC 6749 §4.1.2.1).
    #[error("{0}")]
    Page(String),
    /// Any other error goes back to the client's redirect URI.
    #[error("redirect to {0}")]
    Redirect(String),
    #[error("internal error")]
    Internal,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    #[error("This login request is unknown, was completed already or has expired. Start the login again.")]
    UnknownRequest,
    #[error("This login request was started in another browser (or cookies are blocked). Start the login again.")]
    OtherBrowser,
    #[error("The form was not sent from the login page. Reload the page and choose again.")]
    Forged,
    #[error("{0}")]
    UnknownPerson(String),
    #[error("internal error")]
    Internal,
}

/// The person page: who can be chosen, one page at a time.
#[derive(Debug)]
pub struct PersonPage {
    pub request_id: String,
    pub csrf_token: String,
    pub client_id: String,
    pub search: String,
    pub persons: Vec<PersonListRow>,
    /// The `after` of the next page, when there is one.
    pub next_after: Option<i64>,
    /// Whether this is the first page.
    pub first: bool,
}

/// The person's answer on the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    Person(String),
    Cancel,
}

/// An OAuth token error (RFC 6749 §5.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenError {
    pub status: u16,
    pub error: &'static str,
    pub description: String,
    /// `invalid_client` after Basic authentication also sends `WWW-Authenticate: Basic`.
    pub basic_challenge: bool,
}

impl TokenError {
    fn new(status: u16, error: &'static str, description: impl Into<String>) -> Self {
        Self { status, error, description: description.into(), basic_challenge: false }
    }
    fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(400, "invalid_request", description)
    }
    fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new(400, "invalid_grant", description)
    }
    fn invalid_client(description: impl Into<String>, basic: bool) -> Self {
        Self { basic_challenge: basic, ..Self::new(401, "invalid_client", description) }
    }
    fn internal() -> Self {
        Self::new(500, "server_error", "the token could not be issued")
    }
}

/// The token endpoint's answer.
#[derive(Debug, Clone, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub id_token: String,
    pub scope: String,
}

#[derive(Serialize)]
struct IdTokenClaims<'a> {
    iss: &'a str,
    aud: &'a str,
    sub: &'a str,
    pid: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<&'a str>,
    acr: &'static str,
    amr: [&'static str; 1],
    auth_time: i64,
    iat: i64,
    exp: i64,
    jti: &'a str,
}

impl TestIdentityProvider {
    pub fn new(store: Store, keys: Arc<KeyRing>, public_url: &str, clients: Vec<TestIdpClient>) -> Self {
        Self { store, keys, issuer: Self::issuer_for(public_url), clients }
    }

    /// The issuer for a public URL, for the relying party that uses this provider.
    pub fn issuer_for(public_url: &str) -> String {
        format!("{}{TEST_IDP_PATH}", public_url.trim_end_matches('/'))
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn key_ring(&self) -> &Arc<KeyRing> {
        &self.keys
    }

    /// The OpenID Provider metadata (OpenID Connect Discovery 1.0 §3).
    pub fn discovery(&self) -> Value {
        let i = &self.issuer;
        json!({
            "issuer": i,
            "authorization_endpoint": format!("{i}/authorize"),
            "token_endpoint": format!("{i}/token"),
            "jwks_uri": format!("{i}/jwks"),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
            "scopes_supported": ["openid", "profile"],
            "claims_supported": ["iss", "aud", "sub", "pid", "nonce", "acr", "amr", "auth_time", "iat", "exp", "jti"],
            "acr_values_supported": ["idporten-loa-substantial", "idporten-loa-high"],
            "authorization_response_iss_parameter_supported": true,
        })
    }

    fn client(&self, client_id: &str) -> Option<&TestIdpClient> {
        self.clients.iter().find(|c| c.client_id == client_id)
    }

    /// `GET authorize`: checks the request and keeps it for the person page.
    pub async fn authorize(&self, request: &AuthorizationRequest, browser: Option<&str>) -> Result<AuthorizationPending, AuthorizeError> {
        let page = |m: &str| AuthorizeError::Page(m.to_owned());
        let client_id = request.client_id.as_deref().ok_or_else(|| page("The request has no client_id."))?;
        let client = self.client(client_id).ok_or_else(|| page("The client_id is not a client of this identity provider."))?;
        let redirect_uri = request.redirect_uri.as_deref().ok_or_else(|| page("The request has no redirect_uri."))?;
        if !client.redirect_uris.iter().any(|r| r == redirect_uri) {
            return Err(page("The redirect_uri is not registered for this client."));
        }
        let back = |error: &str, description: &str| {
            AuthorizeError::Redirect(self.redirect_with(redirect_uri, &[("error", error), ("error_description", description)], request.state.as_deref()))
        };
        if request.state.as_deref().is_some_and(|s| s.len() > MAX_PARAMETER_LEN) {
            // The state itself is what is too long, so it is not echoed.
            return Err(AuthorizeError::Redirect(self.redirect_with(
                redirect_uri,
                &[("error", "invalid_request"), ("error_description", "state is longer than 512 characters")],
                None,
            )));
        }
        if request.response_type.as_deref() != Some("code") {
            return Err(back("unsupported_response_type", "only response_type=code is supported"));
        }
        let scope = request.scope.as_deref().unwrap_or_default();
        if !scope.split(' ').any(|s| s == "openid") {
            return Err(back("invalid_scope", "the scope must include openid"));
        }
        if request.nonce.as_deref().is_some_and(|n| n.len() > MAX_PARAMETER_LEN) {
            return Err(back("invalid_request", "nonce is longer than 512 characters"));
        }
        let Some(challenge) = request.code_challenge.as_deref() else {
            return Err(back("invalid_request", "PKCE is required: send code_challenge with code_challenge_method=S256"));
        };
        if request.code_challenge_method.as_deref() != Some("S256") {
            return Err(back("invalid_request", "code_challenge_method must be S256"));
        }
        if !is_valid_s256_challenge(challenge) {
            return Err(back("invalid_request", "code_challenge is not an S256 challenge (43 base64url characters)"));
        }
        let (browser, new_browser) = match browser.filter(|b| is_secret_shaped(b)) {
            Some(b) => (b.to_owned(), None),
            None => {
                let b = random_secret().map_err(|_| AuthorizeError::Internal)?;
                (b.clone(), Some(b))
            }
        };
        let request_id = random_secret().map_err(|_| AuthorizeError::Internal)?;
        let row = TestIdpRequestRow {
            request_hash: secret_hash(&request_id),
            browser_hash: secret_hash(&browser),
            csrf_token: random_secret().map_err(|_| AuthorizeError::Internal)?,
            client_id: client.client_id.clone(),
            redirect_uri: redirect_uri.to_owned(),
            state: request.state.clone(),
            nonce: request.nonce.clone(),
            code_challenge: challenge.to_owned(),
            scope: scope.to_owned(),
            expires_at: clock::now() + REQUEST_LIFETIME,
        };
        self.store.insert_test_idp_request(&row).await.map_err(|e| {
            tracing::error!(error = %e, "test identity provider: cannot store the authorization request");
            AuthorizeError::Internal
        })?;
        Ok(AuthorizationPending { request_id, new_browser })
    }

    /// The pending request, if it exists, lives and belongs to this browser.
    async fn pending(&self, request_id: &str, browser: Option<&str>) -> Result<TestIdpRequestRow, PageError> {
        if !is_secret_shaped(request_id) {
            return Err(PageError::UnknownRequest);
        }
        let row = self.store.test_idp_request(&secret_hash(request_id)).await.map_err(|e| {
            tracing::error!(error = %e, "test identity provider: cannot read the authorization request");
            PageError::Internal
        })?;
        let row = row.filter(|r| r.expires_at >= clock::now()).ok_or(PageError::UnknownRequest)?;
        if browser.map(secret_hash).as_deref() != Some(row.browser_hash.as_str()) {
            return Err(PageError::OtherBrowser);
        }
        Ok(row)
    }

    /// The person page of a pending request: persons whose number starts with, or whose name
    /// contains, `search`, after party id `after`.
    pub async fn person_page(&self, request_id: &str, browser: Option<&str>, search: &str, after: i64) -> Result<PersonPage, PageError> {
        let row = self.pending(request_id, browser).await?;
        let search = search.trim();
        let mut persons = self
            .store
            .synthetic_persons_page(Some(search).filter(|s| !s.is_empty()), after.max(0), PAGE_SIZE + 1)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "test identity provider: cannot list persons");
                PageError::Internal
            })?;
        let more = persons.len() as i64 > PAGE_SIZE;
        persons.truncate(PAGE_SIZE as usize);
        let next_after = if more { persons.last().map(|p| p.party_id) } else { None };
        Ok(PersonPage {
            request_id: request_id.to_owned(),
            csrf_token: row.csrf_token,
            client_id: row.client_id,
            search: search.to_owned(),
            persons,
            next_after,
            first: after <= 0,
        })
    }

    /// The person's choice (or cancel) on the page: where to send the browser, with a code or
    /// an error. The request is used up by the first choice that gets through.
    pub async fn choose(&self, request_id: &str, csrf_token: &str, browser: Option<&str>, choice: &Choice) -> Result<String, PageError> {
        let row = self.pending(request_id, browser).await?;
        if aws_lc_rs::constant_time::verify_slices_are_equal(row.csrf_token.as_bytes(), csrf_token.as_bytes()).is_err() {
            return Err(PageError::Forged);
        }
        let pid = match choice {
            Choice::Cancel => None,
            Choice::Person(pid) => Some(self.chosen_person(pid).await?),
        };
        let internal = |e: fullmakt_store::StoreError| {
            tracing::error!(error = %e, "test identity provider: cannot complete the authorization");
            PageError::Internal
        };
        let row = self.store.take_test_idp_request(&row.request_hash).await.map_err(internal)?.ok_or(PageError::UnknownRequest)?;
        let Some(pid) = pid else {
            return Ok(self.redirect_with(
                &row.redirect_uri,
                &[("error", "access_denied"), ("error_description", "the login was cancelled")],
                row.state.as_deref(),
            ));
        };
        let code = random_secret().map_err(|_| PageError::Internal)?;
        let now = clock::now();
        let code_row = TestIdpCodeRow {
            code_hash: secret_hash(&code),
            client_id: row.client_id,
            redirect_uri: row.redirect_uri.clone(),
            code_challenge: row.code_challenge,
            nonce: row.nonce,
            scope: row.scope,
            person_identifier: pid,
            auth_time: now,
            expires_at: now + CODE_LIFETIME,
        };
        self.store.insert_test_idp_code(&code_row).await.map_err(internal)?;
        Ok(self.redirect_with(&row.redirect_uri, &[("code", &code)], row.state.as_deref()))
    }

    /// A chosen person must be a synthetic person in the register (the page offers no others).
    async fn chosen_person(&self, pid: &str) -> Result<String, PageError> {
        let unknown = || PageError::UnknownPerson("That person cannot log in here: only synthetic persons in the register can.".into());
        let parsed = PersonIdentifier::parse(pid.trim(), SyntheticNumbers::Accept).map_err(|_| unknown())?;
        if !parsed.is_synthetic() {
            return Err(unknown());
        }
        match find_party(&self.store, &PartyLookup::PersonIdentifier(parsed.to_string())).await {
            Ok(person) if !person.is_deleted => Ok(parsed.to_string()),
            Ok(_) | Err(RegisterError::PartyNotFound(_)) | Err(RegisterError::Invalid { .. }) => Err(unknown()),
            Err(_) => Err(PageError::Internal),
        }
    }

    /// `redirect_uri` with the response parameters, the state and (RFC 9207) the issuer added
    /// to whatever query it has.
    fn redirect_with(&self, redirect_uri: &str, params: &[(&str, &str)], state: Option<&str>) -> String {
        let Ok(mut url) = url::Url::parse(redirect_uri) else { return redirect_uri.to_owned() };
        {
            let mut query = url.query_pairs_mut();
            for (k, v) in params {
                query.append_pair(k, v);
            }
            if let Some(state) = state {
                query.append_pair("state", state);
            }
            query.append_pair("iss", &self.issuer);
        }
        url.into()
    }

    /// `POST token` (authorization_code only). `form` is the body's pairs as sent; `authorization`
    /// the `Authorization` header, if any.
    pub async fn token(&self, form: &[(String, String)], authorization: Option<&str>) -> Result<TokenResponse, TokenError> {
        let param = |name: &str| -> Result<Option<&str>, TokenError> {
            let mut values = form.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str());
            match (values.next(), values.next()) {
                (_, Some(_)) => Err(TokenError::invalid_request(format!("{name} is sent more than once"))),
                (v, None) => Ok(v.filter(|v| !v.is_empty())),
            }
        };
        match param("grant_type")? {
            None => return Err(TokenError::invalid_request("grant_type is missing")),
            Some("authorization_code") => {}
            Some(_) => return Err(TokenError::new(400, "unsupported_grant_type", "Only authorization_code is supported")),
        }
        let client = self.authenticate_client(param("client_id")?, param("client_secret")?, authorization)?;
        let code = param("code")?.ok_or_else(|| TokenError::invalid_request("code is missing"))?;
        let redirect_uri = param("redirect_uri")?.ok_or_else(|| TokenError::invalid_request("redirect_uri is missing"))?;
        let verifier = param("code_verifier")?.ok_or_else(|| TokenError::invalid_request("code_verifier is missing: PKCE is required"))?;
        let spent = self.store.take_test_idp_code(&secret_hash(code)).await.map_err(|e| {
            tracing::error!(error = %e, "test identity provider: cannot redeem a code");
            TokenError::internal()
        })?;
        let row = spent.ok_or_else(|| TokenError::invalid_grant("the code is unknown, expired (and swept) or was used already"))?;
        let now = clock::now();
        if row.expires_at < now {
            return Err(TokenError::invalid_grant("the code has expired"));
        }
        if row.client_id != client.client_id {
            return Err(TokenError::invalid_grant("the code was issued to another client"));
        }
        if row.redirect_uri != redirect_uri {
            return Err(TokenError::invalid_grant("redirect_uri is not the one the code was issued for"));
        }
        if !pkce_matches(verifier, &row.code_challenge) {
            return Err(TokenError::invalid_grant("the code_verifier does not match the code_challenge"));
        }
        let id_token = self.id_token(&row, now).await?;
        let access_token = random_secret().map_err(|_| TokenError::internal())?;
        tracing::info!(client_id = %row.client_id, "test identity provider: login completed");
        Ok(TokenResponse { access_token, token_type: "Bearer", expires_in: ID_TOKEN_LIFETIME, id_token, scope: row.scope })
    }

    /// RFC 6749 §2.3: HTTP Basic (`client_secret_basic`), the secret in the form
    /// (`client_secret_post`), or no secret (`none`, for a client registered without one) —
    /// exactly one of them.
    fn authenticate_client(&self, form_id: Option<&str>, form_secret: Option<&str>, authorization: Option<&str>) -> Result<&TestIdpClient, TokenError> {
        let basic = authorization.map(parse_basic).transpose()?;
        if basic.is_some() && form_secret.is_some() {
            return Err(TokenError::invalid_request("the client authenticates in more than one way"));
        }
        let (client_id, secret) = match &basic {
            Some((id, secret)) => {
                if form_id.is_some_and(|f| f != id) {
                    return Err(TokenError::invalid_request("client_id in the form is not the one authenticated"));
                }
                (id.as_str(), Some(secret.as_str()))
            }
            None => (form_id.ok_or_else(|| TokenError::invalid_client("client_id is missing", false))?, form_secret),
        };
        let is_basic = basic.is_some();
        let client = self.client(client_id).ok_or_else(|| TokenError::invalid_client("unknown client", is_basic))?;
        match (&client.secret, secret) {
            (Some(expected), Some(presented)) if expected.matches(presented) => Ok(client),
            (Some(_), Some(_)) => Err(TokenError::invalid_client("the client secret is wrong", is_basic)),
            (Some(_), None) => Err(TokenError::invalid_client("this client must authenticate with its secret", is_basic)),
            (None, None) => Ok(client),
            (None, Some(_)) => Err(TokenError::invalid_client("this client has no secret; it authenticates with none and PKCE", is_basic)),
        }
    }

    async fn id_token(&self, code: &TestIdpCodeRow, now: i64) -> Result<String, TokenError> {
        // Pairwise, as ID-porten's: stable per client and person, meaningless elsewhere.
        let sub = secret_hash(&format!("{}|{}|{}", self.issuer, code.client_id, code.person_identifier));
        let jti = random_secret().map_err(|_| TokenError::internal())?;
        let claims = IdTokenClaims {
            iss: &self.issuer,
            aud: &code.client_id,
            sub: &sub,
            pid: &code.person_identifier,
            nonce: code.nonce.as_deref(),
            acr: TEST_ACR,
            amr: [TEST_AMR],
            auth_time: code.auth_time,
            iat: now,
            exp: now + ID_TOKEN_LIFETIME,
            jti: &jti,
        };
        let payload = serde_json::to_vec(&claims).map_err(|_| TokenError::internal())?;
        let sign = async {
            let sequence = self.store.change_sequence().await.map_err(|e| e.to_string())?;
            let keys = self.keys.current(sequence).await.map_err(|e| e.to_string())?;
            let header = serde_json::to_vec(&json!({"alg": "RS256", "kid": keys.active.kid(), "typ": "JWT"})).map_err(|e| e.to_string())?;
            keys.active.sign_compact(&header, &payload).map_err(|e| e.to_string())
        };
        sign.await.map_err(|e| {
            tracing::error!(error = %e, "test identity provider: cannot sign the id_token");
            TokenError::internal()
        })
    }
}

/// `Basic base64(urlencode(id) ":" urlencode(secret))` (RFC 6749 §2.3.1).
fn parse_basic(header: &str) -> Result<(String, String), TokenError> {
    let bad = || TokenError::invalid_client("the Authorization header is not valid HTTP Basic client authentication", true);
    let (scheme, encoded) = header.trim().split_once(' ').ok_or_else(bad)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(bad());
    }
    use base64::Engine;
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).map_err(|_| bad())?;
    let decoded = String::from_utf8(decoded).map_err(|_| bad())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(bad)?;
    // A literal `&` or `=` is not form-encoding, but keep it as itself rather than split on it.
    let unescape = |s: &str| {
        let pair = format!("x={}", s.replace('&', "%26").replace('=', "%3D"));
        url::form_urlencoded::parse(pair.as_bytes()).next().map(|(_, v)| v.into_owned())
    };
    let (id, secret) = (unescape(id).ok_or_else(bad)?, unescape(secret).ok_or_else(bad)?);
    if id.is_empty() {
        return Err(bad());
    }
    Ok((id, secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_basic_client_authentication() {
        use base64::Engine;
        let encode = |s: &str| format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(s));
        assert_eq!(parse_basic(&encode("fullmakt:s%3Acret+x")).unwrap(), ("fullmakt".into(), "s:cret x".into()));
        assert_eq!(parse_basic(&encode("a:")).unwrap(), ("a".into(), String::new()));
        for bad in ["Bearer abc", "Basic !!!", "Basic", &encode("no-colon"), &encode(":secret")] {
            let e = parse_basic(bad).unwrap_err();
            assert_eq!((e.status, e.error, e.basic_challenge), (401, "invalid_client", true), "{bad}");
        }
    }
}
