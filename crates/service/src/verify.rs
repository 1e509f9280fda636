//! Verifies the access tokens fullmakt's APIs accept, and says who is calling.
//!
//! Three issuers sign them: fullmakt's token service (`{public_url}/`, Maskinporten tokens),
//! fullmakt as Altinn's platform issuer (`{public_url}/authentication/api/v1/openid/`:
//! exchanged vendor tokens and person tokens), both with fullmakt's own signing keys, and
//! trusted Maskinporten-style issuers with keys from their JWKS ([`TrustedIssuers`]).
//!
//! A token is for a *vendor* (an organisation: [`Caller`]) or for a *person* ([`PersonCaller`]),
//! never both: a vendor token carries the `consumer` organisation and no user id; a person token
//! is an Altinn token with a user id and no `consumer`. Each kind is refused where the other is
//! asked for.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use fullmakt_domain::OrganisationNumber;
use fullmakt_jose::{Algorithm, CompactJws};
use fullmakt_store::Store;
use serde_json::{Map, Value};

use crate::admin::{AdminError, Caller};
use crate::clock;
use crate::signing_keys::KeyRing;
use crate::token::CLOCK_SKEW;
use crate::trusted_issuers::TrustedIssuers;

/// The scope Altinn gives person tokens from the portal login; the end-user APIs require it.
pub const PORTAL_SCOPE: &str = "altinn:portal/enduser";

/// The Altinn token issuer for a public URL: Altinn's own path under fullmakt's origin.
pub fn altinn_issuer_from_public_url(public_url: &str) -> String {
    format!("{}/authentication/api/v1/openid/", public_url.trim_end_matches('/'))
}

/// A person acting through a verified Altinn person token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonCaller {
    /// `urn:altinn:userid`: the person's party id (ARCHITECTURE.md, "User ids").
    pub user_id: i64,
    /// `urn:altinn:partyid`: the person's own party.
    pub party_id: i64,
    /// `urn:altinn:party:uuid`.
    pub party_uuid: String,
    /// `pid`: the person number.
    pub pid: String,
    /// `urn:altinn:authlevel`, 0 to 4.
    pub auth_level: u8,
    /// `urn:altinn:authenticatemethod` (Altinn's `NotDefined` when the token has none).
    pub authentication_method: String,
    pub scopes: Vec<String>,
    /// `sid`: the login session the token belongs to.
    pub session_id: Option<String>,
    /// `exp`, Unix seconds.
    pub expires_at: i64,
}

impl PersonCaller {
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    /// 403 unless the token carries `scope` (a whole scope, not a substring as in the reference).
    pub fn require_scope(&self, scope: &str) -> Result<(), AdminError> {
        if self.has_scope(scope) {
            Ok(())
        } else {
            Err(AdminError::MissingScope(scope.to_owned()))
        }
    }
}

/// Which issuer signed a verified token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenIssuer {
    /// fullmakt's token service (a Maskinporten token).
    TokenService,
    /// fullmakt as Altinn's platform issuer.
    Altinn,
    /// A configured trusted Maskinporten-style issuer.
    Trusted,
}

/// A token whose signature, issuer and lifetime hold; nothing else about it is checked yet.
#[derive(Debug)]
pub struct VerifiedToken<'a> {
    pub issuer: TokenIssuer,
    pub jws: CompactJws<'a>,
    pub claims: Map<String, Value>,
    pub exp: i64,
}

#[derive(Debug, Clone)]
enum Verified {
    Vendor(Caller),
    Person(PersonCaller),
}

pub struct AccessTokenVerifier {
    store: Store,
    issuer: String,
    altinn_issuer: String,
    keys: Arc<KeyRing>,
    trusted: Arc<TrustedIssuers>,
    /// `aud` values the vendor APIs accept when a token carries one (from a `resource` request).
    audiences: Vec<String>,
    /// Tokens already verified, with their callers and `exp`. A token's signature and claims
    /// never change, and a signing key stays published longer than any token lives (see
    /// `signing_keys`), so a verified token stays valid until it expires: clients that reuse a
    /// token, as they should, cost one RSA verification and no database read per token.
    verified: Mutex<HashMap<Box<str>, (Verified, i64)>>,
}

/// How many verified tokens are remembered; past that, expired ones are dropped, then all.
const VERIFIED_TOKENS: usize = 10_000;

fn unauthorized(why: &str) -> AdminError {
    AdminError::Unauthorized(why.to_owned())
}

impl AccessTokenVerifier {
    /// `issuer` is the token service's (`{public_url}/`); the Altinn issuer is derived from it.
    pub fn new(store: Store, issuer: String, keys: Arc<KeyRing>, audiences: Vec<String>) -> Self {
        let altinn_issuer = altinn_issuer_from_public_url(&issuer);
        Self {
            store,
            issuer,
            altinn_issuer,
            keys,
            trusted: Arc::new(TrustedIssuers::none()),
            audiences,
            verified: Mutex::new(HashMap::new()),
        }
    }

    pub fn with_trusted_issuers(mut self, trusted: Arc<TrustedIssuers>) -> Self {
        self.trusted = trusted;
        self
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn altinn_issuer(&self) -> &str {
        &self.altinn_issuer
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// A vendor (organisation) token: fullmakt's own or a trusted issuer's Maskinporten token,
    /// or an Altinn token fullmakt exchanged for one. Person tokens are refused.
    pub async fn verify(&self, bearer: &str) -> Result<Caller, AdminError> {
        match self.verify_remembered(bearer).await? {
            Verified::Vendor(caller) => Ok(caller),
            Verified::Person(_) => Err(unauthorized("a person's token cannot be used here; this API needs an organisation's (Maskinporten) token")),
        }
    }

    /// A person token: an Altinn token fullmakt issued for a person. Vendor tokens are refused.
    pub async fn verify_person(&self, token: &str) -> Result<PersonCaller, AdminError> {
        match self.verify_remembered(token).await? {
            Verified::Person(person) => Ok(person),
            Verified::Vendor(_) => Err(unauthorized("an organisation's token cannot be used here; this API needs a person's Altinn token")),
        }
    }

    async fn verify_remembered(&self, token: &str) -> Result<Verified, AdminError> {
        let now = clock::now();
        if let Some((verified, exp)) = self.verified.lock().unwrap_or_else(|e| e.into_inner()).get(token) {
            if now - CLOCK_SKEW <= *exp {
                return Ok(verified.clone());
            }
        }
        let token_ = self.verify_jwt(token).await?;
        let verified = self.caller_of(&token_)?;
        let mut remembered = self.verified.lock().unwrap_or_else(|e| e.into_inner());
        if remembered.len() >= VERIFIED_TOKENS {
            remembered.retain(|_, (_, exp)| now - CLOCK_SKEW <= *exp);
            if remembered.len() >= VERIFIED_TOKENS {
                remembered.clear();
            }
        }
        remembered.insert(token.into(), (verified.clone(), token_.exp));
        Ok(verified)
    }

    /// Signature (with the key the issuer publishes under the token's `kid`), a known issuer,
    /// `exp` not passed and `nbf` reached (10 s skew each way).
    pub async fn verify_jwt<'a>(&self, token: &'a str) -> Result<VerifiedToken<'a>, AdminError> {
        let jws = CompactJws::parse(token).map_err(|_| unauthorized("the bearer token is not a JWT"))?;
        let claims = jws.claims().map_err(|_| unauthorized("the bearer token's payload is not a JSON object"))?;
        let iss = claims.get("iss").and_then(Value::as_str).unwrap_or_default();
        let kid = jws.header.kid.as_deref().ok_or_else(|| unauthorized("the bearer token has no kid"))?;
        let issuer = if iss == self.issuer {
            TokenIssuer::TokenService
        } else if iss == self.altinn_issuer {
            TokenIssuer::Altinn
        } else if self.trusted.is_trusted(iss) {
            TokenIssuer::Trusted
        } else {
            return Err(unauthorized("the bearer token's issuer is not one this server trusts"));
        };
        match issuer {
            TokenIssuer::TokenService | TokenIssuer::Altinn => {
                // fullmakt signs RS256 only.
                if Algorithm::parse(&jws.header.alg) != Some(Algorithm::RS256) {
                    return Err(unauthorized("the bearer token is not RS256"));
                }
                let sequence = self.store.change_sequence().await.map_err(AdminError::internal)?;
                let keys = self.keys.current(sequence).await.map_err(AdminError::internal)?;
                let jwk = keys
                    .published
                    .iter()
                    .find(|k| k.kid == kid)
                    .ok_or_else(|| unauthorized("the bearer token was not signed by this server"))?;
                if !jws.verify_rsa(Algorithm::RS256, &jwk.modulus(), &jwk.exponent()) {
                    return Err(unauthorized("the bearer token's signature is invalid"));
                }
            }
            TokenIssuer::Trusted => {
                let key = self
                    .trusted
                    .key(iss, kid)
                    .await
                    .ok_or_else(|| unauthorized("the bearer token's kid is not among its issuer's published keys"))?;
                jws.verify_with(&key).map_err(|_| unauthorized("the bearer token's signature is invalid"))?;
            }
        }
        let now = clock::now();
        let exp = numeric(&claims, "exp").ok_or_else(|| unauthorized("the bearer token has no exp"))?;
        if now - CLOCK_SKEW > exp {
            return Err(unauthorized("the bearer token has expired"));
        }
        if claims.contains_key("nbf") {
            let nbf = numeric(&claims, "nbf").ok_or_else(|| unauthorized("the bearer token's nbf is not a number"))?;
            if nbf > now + CLOCK_SKEW {
                return Err(unauthorized("the bearer token is not valid yet"));
            }
        }
        Ok(VerifiedToken { issuer, jws, claims, exp })
    }

    fn caller_of(&self, token: &VerifiedToken<'_>) -> Result<Verified, AdminError> {
        let claims = &token.claims;
        let is_person = claims.contains_key("urn:altinn:userid");
        match token.issuer {
            TokenIssuer::Altinn if is_person => {
                if claims.contains_key("consumer") {
                    return Err(unauthorized("the bearer token names both a person and an organisation"));
                }
                Ok(Verified::Person(person_of(claims, token.exp)?))
            }
            TokenIssuer::Altinn if claims.get("urn:altinn:authenticatemethod").and_then(Value::as_str) != Some("maskinporten") => {
                Err(unauthorized("the bearer token is an Altinn token of a kind this server does not accept"))
            }
            _ if is_person => Err(unauthorized("the bearer token's issuer does not issue person tokens")),
            _ => {
                match claims.get("aud") {
                    None => {}
                    Some(Value::String(aud)) if self.audiences.iter().any(|a| a == aud) => {}
                    Some(_) => return Err(unauthorized("the bearer token is meant for another audience")),
                }
                Ok(Verified::Vendor(vendor_of(claims)?))
            }
        }
    }
}

fn scopes_of(claims: &Map<String, Value>) -> Vec<String> {
    claims
        .get("scope")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn vendor_of(claims: &Map<String, Value>) -> Result<Caller, AdminError> {
    let org = claims
        .get("consumer")
        .filter(|c| c.get("authority").and_then(Value::as_str) == Some(fullmakt_domain::ISO6523_AUTHORITY))
        .and_then(|c| c.get("ID"))
        .and_then(Value::as_str)
        .and_then(OrganisationNumber::parse_iso6523)
        .ok_or_else(|| unauthorized("the bearer token has no consumer organisation"))?;
    let client_id = claims.get("client_id").and_then(Value::as_str).unwrap_or_default().to_owned();
    Ok(Caller { org, scopes: scopes_of(claims), client_id })
}

fn person_of(claims: &Map<String, Value>, exp: i64) -> Result<PersonCaller, AdminError> {
    let id = |name: &str| match claims.get(name) {
        // Altinn writes the user id as a string and the party id as a number; read either.
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.parse().ok(),
        _ => None,
    };
    let user_id = id("urn:altinn:userid").ok_or_else(|| unauthorized("the person token's urn:altinn:userid is not a number"))?;
    let party_id = id("urn:altinn:partyid").ok_or_else(|| unauthorized("the person token has no urn:altinn:partyid"))?;
    let text = |name: &str| claims.get(name).and_then(Value::as_str).map(str::to_owned);
    let party_uuid = text("urn:altinn:party:uuid").ok_or_else(|| unauthorized("the person token has no urn:altinn:party:uuid"))?;
    let pid = text("pid").ok_or_else(|| unauthorized("the person token has no pid"))?;
    let auth_level = id("urn:altinn:authlevel")
        .and_then(|l| u8::try_from(l).ok())
        .filter(|l| *l <= 4)
        .ok_or_else(|| unauthorized("the person token's urn:altinn:authlevel is not 0 to 4"))?;
    Ok(PersonCaller {
        user_id,
        party_id,
        party_uuid,
        pid,
        auth_level,
        authentication_method: text("urn:altinn:authenticatemethod").unwrap_or_else(|| "NotDefined".to_owned()),
        scopes: scopes_of(claims),
        session_id: text("sid"),
        expires_at: exp,
    })
}

/// A NumericDate: an integer, or a number whose fraction is dropped.
fn numeric(claims: &Map<String, Value>, name: &str) -> Option<i64> {
    let n = claims.get(name)?.as_number()?;
    n.as_i64().or_else(|| n.as_f64().filter(|f| f.is_finite() && f.abs() < 1e15).map(|f| f.floor() as i64))
}
