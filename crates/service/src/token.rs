//! `POST /token`: the JWT-bearer grant of maskinporten.md §1–§3.
//!
//! The checks run in Maskinporten's order (§1.4): parse and header, client, key, signature,
//! audience, time window, replay, scopes, then delegation and the system-user lookup. Every
//! failure is a [`TokenFailure`] carrying its wire error. Configuration is read through
//! caches tagged with the change sequence, so a deactivated client, a removed key or a revoked
//! scope grant refuses the very next request, on every node.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use aws_lc_rs::rand::SecureRandom;
use fullmakt_domain::{OrganisationNumber, SystemUserAuthorizationRequest, TokenFailure, ISO6523_AUTHORITY, SYSTEMUSER_TYPE};
use fullmakt_jose::{b64, Algorithm, CompactJws, RsaPublicJwk, VerificationKey, VerifyError};
use fullmakt_store::{GrantUse, ScopeRow, Store};
use serde::Serialize;
use serde_json::Value;

use crate::cache::SequenceCache;
use crate::replay::ReplayRecorder;
use crate::signing_keys::{KeyRing, KeySet};
use crate::system_users::{SystemUserLookup, SystemUserQuery};
use crate::{clock, MAX_ACCESS_TOKEN_LIFETIME};

pub const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// Longest grant lifetime accepted, `exp - iat` (the real server's limit, §1.3).
pub const MAX_GRANT_LIFETIME: i64 = 180;
/// Clock skew tolerated in both directions (§1.4).
pub const CLOCK_SKEW: i64 = 10;
const ALLOWED_CLAIMS: [&str; 13] = [
    "aud", "iss", "sub", "iat", "exp", "nbf", "jti", "scope", "resource", "pid", "consumer_org", "iss_onbehalfof",
    "authorization_details",
];

/// A client as the token endpoint needs it.
struct ClientConfig {
    org: OrganisationNumber,
    access_token_lifetime: i64,
    integration_type: String,
    scopes: HashSet<String>,
    keys: HashMap<String, ClientKey>,
}

struct ClientKey {
    key: VerificationKey,
    expires: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedToken {
    pub access_token: String,
    pub expires_in: i64,
    pub scope: String,
    pub client_id: String,
    pub consumer: OrganisationNumber,
    pub system_user_id: Option<String>,
}

pub struct TokenService {
    store: Store,
    issuer: String,
    keys: Arc<KeyRing>,
    system_users: Arc<dyn SystemUserLookup>,
    replay: ReplayRecorder,
    /// The newest change sequence this node has seen; a hint for the caches, confirmed by the
    /// sequence the replay write returns.
    observed_sequence: AtomicI64,
    clients: SequenceCache<String, Option<Arc<ClientConfig>>>,
    scopes: SequenceCache<String, Option<Arc<ScopeRow>>>,
    scope_access: SequenceCache<(String, String), bool>,
}

/// Claim order of real Maskinporten tokens (§3.3, §3.4); downstream parsers need `type`
/// first inside `authorization_details`, so the struct order *is* the wire order.
#[derive(Serialize)]
struct AccessTokenClaims<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    authorization_details: Option<[SystemUserDetail<'a>; 1]>,
    scope: &'a str,
    iss: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    aud: Option<&'a Value>,
    client_amr: &'static str,
    token_type: &'static str,
    exp: i64,
    iat: i64,
    client_id: &'a str,
    jti: &'a str,
    consumer: OrgId,
    #[serde(skip_serializing_if = "Option::is_none")]
    pid: Option<&'a str>,
}

/// `{"kid":…,"alg":"RS256"}` in that order, no `typ`, as Maskinporten (§3.2).
#[derive(Serialize)]
struct AccessTokenHeader<'a> {
    kid: &'a str,
    alg: &'static str,
}

#[derive(Serialize)]
struct SystemUserDetail<'a> {
    #[serde(rename = "type")]
    type_: &'static str,
    systemuser_org: OrgId,
    systemuser_id: [&'a str; 1],
    system_id: &'a str,
    #[serde(rename = "externalRef", skip_serializing_if = "Option::is_none")]
    external_ref: Option<&'a str>,
}

#[derive(Serialize)]
struct OrgId {
    authority: &'static str,
    #[serde(rename = "ID")]
    id: String,
}

impl OrgId {
    fn of(org: &OrganisationNumber) -> Self {
        Self { authority: ISO6523_AUTHORITY, id: org.iso6523() }
    }
}

/// The claims of a grant, read and shape-checked before anything is decided on them.
struct GrantClaims<'a> {
    claims: &'a serde_json::Map<String, Value>,
    exp: i64,
    scopes: Vec<&'a str>,
}

impl TokenService {
    /// Call from within a tokio runtime: it starts the replay writer.
    pub fn new(store: Store, issuer: String, keys: Arc<KeyRing>, system_users: Arc<dyn SystemUserLookup>) -> Self {
        Self {
            replay: ReplayRecorder::start(store.clone()),
            observed_sequence: AtomicI64::new(i64::MIN),
            store,
            issuer,
            keys,
            system_users,
            clients: SequenceCache::new(100_000),
            scopes: SequenceCache::new(10_000),
            scope_access: SequenceCache::new(100_000),
        }
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn key_ring(&self) -> &Arc<KeyRing> {
        &self.keys
    }

    /// Handles one token request. `assertions` holds every `assertion` form value (one is required).
    pub async fn issue(&self, grant_type: Option<&str>, assertions: &[&str]) -> Result<IssuedToken, TokenFailure> {
        if grant_type != Some(JWT_BEARER) {
            return Err(TokenFailure::UnsupportedGrantType);
        }
        let [assertion] = assertions else {
            return Err(TokenFailure::MissingAssertion);
        };
        let jws = CompactJws::parse(assertion).map_err(|e| TokenFailure::MalformedAssertion(jws_reason(&e)))?;
        let claims = jws.claims().map_err(|e| TokenFailure::MalformedAssertion(jws_reason(&e)))?;
        if Algorithm::parse(&jws.header.alg).is_none() {
            return Err(TokenFailure::AlgorithmNotAllowed);
        }

        let client_id = match claims.get("iss") {
            Some(Value::String(s)) if !s.is_empty() => s.as_str(),
            Some(_) => return Err(TokenFailure::InvalidClaim("iss")),
            None => return Err(TokenFailure::MissingClaim("iss")),
        };
        let kid = match (&jws.header.kid, jws.header.has_x5c) {
            (Some(kid), _) => kid.as_str(),
            (None, true) => return Err(TokenFailure::X5cNotSupported),
            (None, false) => return Err(TokenFailure::KidRequired),
        };
        let now = clock::now();
        // Authenticate under the newest sequence this node has seen. A success is confirmed
        // after the replay write below; a failure is confirmed here, since a stale cache could
        // miss a client or key created a moment ago on another node.
        let hint = self.observed_sequence.load(Ordering::Acquire);
        let (mut client, used_sequence) = match self.authenticate(hint, client_id, kid, &jws, now).await {
            Ok(client) => (client, hint),
            Err(failure) => {
                let current = self.store.change_sequence().await.map_err(internal)?;
                self.observed_sequence.fetch_max(current, Ordering::AcqRel);
                if current == hint {
                    return Err(failure);
                }
                (self.authenticate(current, client_id, kid, &jws, now).await?, current)
            }
        };

        let grant = self.check_claims(&claims, client_id, now)?;
        let jti = match claims.get("jti") {
            None => b64::encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, assertion.as_bytes())),
            Some(Value::String(s)) if !s.is_empty() && s.len() <= 255 => s.clone(),
            Some(_) => return Err(TokenFailure::InvalidClaim("jti")),
        };
        let system_user_request = grant
            .claims
            .get("authorization_details")
            .map(SystemUserAuthorizationRequest::parse)
            .transpose()?;
        let resource = match grant.claims.get("resource") {
            None => None,
            Some(v @ Value::String(s)) if !s.is_empty() => Some(v),
            Some(v @ Value::Array(items)) if !items.is_empty() && items.iter().all(|i| i.as_str().is_some_and(|s| !s.is_empty())) => {
                Some(v)
            }
            Some(_) => return Err(TokenFailure::InvalidClaim("resource")),
        };
        let pid = match grant.claims.get("pid") {
            None => None,
            Some(Value::String(s)) if s.len() == 11 && s.bytes().all(|b| b.is_ascii_digit()) => Some(s.as_str()),
            Some(_) => return Err(TokenFailure::InvalidClaim("pid")),
        };
        if grant.claims.contains_key("iss_onbehalfof") {
            return Err(TokenFailure::InvalidClaim("iss_onbehalfof"));
        }
        let consumer_org = match grant.claims.get("consumer_org") {
            None => None,
            Some(Value::String(s)) => Some(OrganisationNumber::parse(s).map_err(|_| TokenFailure::InvalidClaim("consumer_org"))?),
            Some(_) => return Err(TokenFailure::InvalidClaim("consumer_org")),
        };

        let recorded = self
            .replay
            .record(GrantUse { client_id: client_id.to_owned(), jti, expires_at: grant.exp + CLOCK_SKEW })
            .await
            .map_err(internal)?;
        self.observed_sequence.fetch_max(recorded.sequence, Ordering::AcqRel);
        if !recorded.fresh {
            return Err(TokenFailure::GrantUsedBefore);
        }
        let sequence = recorded.sequence;
        if sequence != used_sequence {
            // Configuration changed since the client was read: decide on the current one, so a
            // revocation committed before this grant was recorded applies to it.
            client = self.authenticate(sequence, client_id, kid, &jws, now).await?;
        }

        let lifetime = self.check_scopes(sequence, &client, &grant.scopes).await?;
        if let Some(consumer) = consumer_org {
            // Supplier delegation needs Altinn's delegation register, which fullmakt does not
            // hold yet: no consumer has delegated anything, so every such request is refused.
            if consumer == client.org {
                return Err(TokenFailure::ConsumerOrgIsOwnOrg);
            }
            return Err(TokenFailure::NoDelegationFromConsumer {
                consumer: consumer.to_string(),
                supplier: client.org.to_string(),
                scope: grant.scopes.join(" "),
            });
        }

        let system_user = match &system_user_request {
            None => None,
            Some(request) => {
                let query = SystemUserQuery {
                    client_id: client_id.to_owned(),
                    vendor: client.org,
                    owner: request.owner,
                    external_ref: request.effective_external_ref(),
                };
                let found = self.system_users.find(&query).await.map_err(|e| {
                    tracing::error!(error = %e, "system user lookup failed");
                    TokenFailure::Internal
                })?;
                Some((request, found.ok_or(TokenFailure::NoMatchingSystemUser)?))
            }
        };

        let lifetime = lifetime.min(client.access_token_lifetime).clamp(1, MAX_ACCESS_TOKEN_LIFETIME);
        let scope = grant.scopes.join(" ");
        let token_jti = random_jti()?;
        let claims = AccessTokenClaims {
            authorization_details: system_user.as_ref().map(|(request, found)| {
                [SystemUserDetail {
                    type_: SYSTEMUSER_TYPE,
                    systemuser_org: OrgId::of(&request.owner),
                    systemuser_id: [found.id.as_str()],
                    system_id: &found.system_id,
                    external_ref: request.external_ref.as_deref(),
                }]
            }),
            scope: &scope,
            iss: &self.issuer,
            aud: resource,
            client_amr: "private_key_jwt",
            token_type: "Bearer",
            exp: now + lifetime,
            iat: now,
            client_id,
            jti: &token_jti,
            consumer: OrgId::of(&client.org),
            pid,
        };
        let keys: Arc<KeySet> = self.keys.current(sequence).await.map_err(|e| {
            tracing::error!(error = %e, "no signing key");
            TokenFailure::Internal
        })?;
        let header = serde_json::to_vec(&AccessTokenHeader { kid: keys.active.kid(), alg: "RS256" }).map_err(internal)?;
        let payload = serde_json::to_vec(&claims).map_err(internal)?;
        let access_token = keys.active.sign_compact(&header, &payload).map_err(internal)?;
        Ok(IssuedToken {
            access_token,
            expires_in: lifetime,
            scope,
            client_id: client_id.to_owned(),
            consumer: client.org,
            system_user_id: system_user.map(|(_, found)| found.id),
        })
    }

    /// Client, key and signature, read under change sequence `sequence`.
    async fn authenticate(
        &self,
        sequence: i64,
        client_id: &str,
        kid: &str,
        jws: &CompactJws<'_>,
        now: i64,
    ) -> Result<Arc<ClientConfig>, TokenFailure> {
        let client = self.client(sequence, client_id).await?.ok_or(TokenFailure::ClientNotFound)?;
        let key = client.keys.get(kid).ok_or(TokenFailure::UnknownKeyId)?;
        if now > key.expires {
            return Err(TokenFailure::ExpiredKey);
        }
        // A key is registered for one algorithm (RFC 7517 `alg`); another one is not its signature.
        jws.verify_with(&key.key).map_err(|e| match e {
            VerifyError::AlgorithmNotAllowed => TokenFailure::AlgorithmNotAllowed,
            VerifyError::AlgorithmNotRegistered => TokenFailure::AlgorithmNotRegistered,
            VerifyError::Signature => TokenFailure::InvalidSignature,
        })?;
        Ok(client)
    }

    /// Claim allow-list, audience, subject and the time window.
    fn check_claims<'a>(
        &self,
        claims: &'a serde_json::Map<String, Value>,
        client_id: &str,
        now: i64,
    ) -> Result<GrantClaims<'a>, TokenFailure> {
        if let Some(unknown) = claims.keys().find(|k| !ALLOWED_CLAIMS.contains(&k.as_str())) {
            return Err(TokenFailure::UnknownClaim(unknown.clone()));
        }
        let audience_ok = match claims.get("aud") {
            Some(Value::String(aud)) => *aud == self.issuer,
            Some(Value::Array(auds)) => matches!(auds.as_slice(), [Value::String(aud)] if *aud == self.issuer),
            _ => false,
        };
        if !audience_ok {
            return Err(TokenFailure::InvalidAudience);
        }
        match claims.get("sub") {
            None => {}
            Some(Value::String(sub)) if sub == client_id => {}
            Some(_) => return Err(TokenFailure::SubjectIsNotIssuer),
        }
        let iat = numeric_date(claims, "iat")?.ok_or(TokenFailure::MissingClaim("iat"))?;
        let exp = numeric_date(claims, "exp")?.ok_or(TokenFailure::MissingClaim("exp"))?;
        if exp <= iat {
            return Err(TokenFailure::InvalidClaim("exp"));
        }
        if exp - iat > MAX_GRANT_LIFETIME {
            return Err(TokenFailure::LifetimeTooLong);
        }
        if iat > now + CLOCK_SKEW {
            return Err(TokenFailure::IssuedInFuture);
        }
        if now - CLOCK_SKEW > exp {
            return Err(TokenFailure::Expired);
        }
        if numeric_date(claims, "nbf")?.is_some_and(|nbf| nbf > now + CLOCK_SKEW) {
            return Err(TokenFailure::NotYetValid);
        }
        let scope = match claims.get("scope") {
            Some(Value::String(s)) => s,
            Some(_) => return Err(TokenFailure::InvalidClaim("scope")),
            None => return Err(TokenFailure::MissingClaim("scope")),
        };
        let mut scopes: Vec<&str> = Vec::new();
        for s in scope.split(' ').filter(|s| !s.is_empty()) {
            if !scopes.contains(&s) {
                scopes.push(s);
            }
        }
        if scopes.is_empty() {
            return Err(TokenFailure::MissingClaim("scope"));
        }
        Ok(GrantClaims { claims, exp, scopes })
    }

    /// The scope rules of §1.5; returns the shortest `at_max_age` of the requested scopes.
    async fn check_scopes(&self, sequence: i64, client: &ClientConfig, requested: &[&str]) -> Result<i64, TokenFailure> {
        let mut rows = Vec::with_capacity(requested.len());
        let mut not_on_client = Vec::new();
        for name in requested {
            let row = if client.scopes.contains(*name) { self.scope(sequence, name).await? } else { None };
            match row.filter(|r| r.active != 0) {
                Some(row) => rows.push(row),
                None => not_on_client.push((*name).to_owned()),
            }
        }
        if !not_on_client.is_empty() {
            return Err(TokenFailure::ScopesNotOnClient(not_on_client));
        }
        let wrong_type: Vec<String> = rows
            .iter()
            .filter(|r| !allows_integration_type(r, &client.integration_type))
            .map(|r| r.name.clone())
            .collect();
        if !wrong_type.is_empty() {
            return Err(TokenFailure::ScopeNotForMaskinporten(wrong_type));
        }
        let consumer = client.org.to_string();
        for row in &rows {
            let open = row.accessible_for_all != 0 || row.owner_orgno == consumer;
            if !open && !self.has_scope_access(sequence, &row.name, &consumer).await? {
                return Err(TokenFailure::ScopeAccessNotGranted(row.name.clone()));
            }
        }
        Ok(rows.iter().map(|r| r.at_max_age).min().unwrap_or(MAX_ACCESS_TOKEN_LIFETIME))
    }

    async fn client(&self, sequence: i64, client_id: &str) -> Result<Option<Arc<ClientConfig>>, TokenFailure> {
        if let Some(hit) = self.clients.get(sequence, &client_id.to_owned()) {
            return Ok(hit);
        }
        let loaded = self.load_client(client_id).await?;
        self.clients.put(sequence, client_id.to_owned(), loaded.clone());
        Ok(loaded)
    }

    async fn load_client(&self, client_id: &str) -> Result<Option<Arc<ClientConfig>>, TokenFailure> {
        let Some(row) = self.store.client(client_id).await.map_err(internal)? else {
            return Ok(None);
        };
        if !row.is_active() {
            return Ok(None);
        }
        let org = OrganisationNumber::parse(&row.client_orgno).map_err(internal)?;
        let scopes = self.store.client_scopes(client_id).await.map_err(internal)?.into_iter().collect();
        let mut keys = HashMap::new();
        for k in self.store.client_keys(client_id).await.map_err(internal)? {
            let jwk: RsaPublicJwk = serde_json::from_str(&k.jwk).map_err(internal)?;
            let key = VerificationKey::from_jwk(&jwk).ok_or_else(|| internal(format!("stored key {} is malformed", k.kid)))?;
            keys.insert(k.kid, ClientKey { key, expires: k.expires });
        }
        Ok(Some(Arc::new(ClientConfig {
            org,
            access_token_lifetime: row.access_token_lifetime,
            integration_type: row.integration_type,
            scopes,
            keys,
        })))
    }

    async fn scope(&self, sequence: i64, name: &str) -> Result<Option<Arc<ScopeRow>>, TokenFailure> {
        if let Some(hit) = self.scopes.get(sequence, &name.to_owned()) {
            return Ok(hit);
        }
        let loaded = self.store.scope(name).await.map_err(internal)?.map(Arc::new);
        self.scopes.put(sequence, name.to_owned(), loaded.clone());
        Ok(loaded)
    }

    async fn has_scope_access(&self, sequence: i64, scope: &str, consumer: &str) -> Result<bool, TokenFailure> {
        let key = (scope.to_owned(), consumer.to_owned());
        if let Some(hit) = self.scope_access.get(sequence, &key) {
            return Ok(hit);
        }
        let granted = self
            .store
            .scope_access(scope, consumer)
            .await
            .map_err(internal)?
            .is_some_and(|a| a.state == "APPROVED");
        self.scope_access.put(sequence, key, granted);
        Ok(granted)
    }
}

pub(crate) fn allows_integration_type(scope: &ScopeRow, integration_type: &str) -> bool {
    serde_json::from_str::<Vec<String>>(&scope.allowed_integration_types)
        .map(|types| types.iter().any(|t| t == integration_type))
        .unwrap_or(false)
}

/// A NumericDate claim: a JSON number (fractions are floored). `Ok(None)` when absent.
fn numeric_date(claims: &serde_json::Map<String, Value>, name: &'static str) -> Result<Option<i64>, TokenFailure> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.is_finite() && f.abs() < 1e15).map(|f| f.floor() as i64))
            .map(Some)
            .ok_or(TokenFailure::InvalidClaim(name)),
        Some(_) => Err(TokenFailure::InvalidClaim(name)),
    }
}

fn jws_reason(e: &fullmakt_jose::JwsError) -> &'static str {
    use fullmakt_jose::JwsError::*;
    match e {
        Shape => "not a compact JWS with three parts",
        Header => "the header is not base64url JSON",
        Payload => "the payload is not a base64url JSON object",
        Signature => "the signature is not base64url",
        MissingAlgorithm => "the header has no alg",
        Critical => "the header has crit parameters this server does not understand",
    }
}

fn random_jti() -> Result<String, TokenFailure> {
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::SystemRandom::new().fill(&mut bytes).map_err(|_| TokenFailure::Internal)?;
    Ok(b64::encode(bytes))
}

fn internal<E: std::fmt::Display>(e: E) -> TokenFailure {
    tracing::error!(error = %e, "token request failed inside the server");
    TokenFailure::Internal
}
