//! Verifies fullmakt's own access tokens, for the APIs that fullmakt protects with them
//! (client and scope administration now; the Altinn APIs later).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use fullmakt_domain::OrganisationNumber;
use fullmakt_jose::{Algorithm, CompactJws};
use fullmakt_store::Store;
use serde_json::Value;

use crate::admin::{AdminError, Caller};
use crate::clock;
use crate::signing_keys::KeyRing;
use crate::token::CLOCK_SKEW;

pub struct AccessTokenVerifier {
    store: Store,
    issuer: String,
    keys: Arc<KeyRing>,
    /// `aud` values this API accepts when a token carries one (from a `resource` request).
    audiences: Vec<String>,
    /// Tokens already verified, with their callers and `exp`. A token's signature and claims
    /// never change, and a signing key stays published longer than any token lives (see
    /// `signing_keys`), so a verified token stays valid until it expires: clients that reuse a
    /// token, as they should, cost one RSA verification and no database read per token.
    verified: Mutex<HashMap<Box<str>, (Caller, i64)>>,
}

/// How many verified tokens are remembered; past that, expired ones are dropped, then all.
const VERIFIED_TOKENS: usize = 10_000;

impl AccessTokenVerifier {
    pub fn new(store: Store, issuer: String, keys: Arc<KeyRing>, audiences: Vec<String>) -> Self {
        Self { store, issuer, keys, audiences, verified: Mutex::new(HashMap::new()) }
    }

    pub async fn verify(&self, bearer: &str) -> Result<Caller, AdminError> {
        let now = clock::now();
        if let Some((caller, exp)) = self.verified.lock().unwrap_or_else(|e| e.into_inner()).get(bearer) {
            if now - CLOCK_SKEW <= *exp {
                return Ok(caller.clone());
            }
        }
        let (caller, exp) = self.verify_signed(bearer).await?;
        let mut verified = self.verified.lock().unwrap_or_else(|e| e.into_inner());
        if verified.len() >= VERIFIED_TOKENS {
            verified.retain(|_, (_, exp)| now - CLOCK_SKEW <= *exp);
            if verified.len() >= VERIFIED_TOKENS {
                verified.clear();
            }
        }
        verified.insert(bearer.into(), (caller.clone(), exp));
        Ok(caller)
    }

    async fn verify_signed(&self, bearer: &str) -> Result<(Caller, i64), AdminError> {
        let unauthorized = |why: &str| AdminError::Unauthorized(why.to_owned());
        let jws = CompactJws::parse(bearer).map_err(|_| unauthorized("the bearer token is not a JWT"))?;
        if Algorithm::parse(&jws.header.alg) != Some(Algorithm::RS256) {
            return Err(unauthorized("the bearer token is not RS256"));
        }
        let sequence = self.store.change_sequence().await.map_err(AdminError::internal)?;
        let keys = self.keys.current(sequence).await.map_err(AdminError::internal)?;
        let kid = jws.header.kid.as_deref().unwrap_or_default();
        let jwk = keys
            .published
            .iter()
            .find(|k| k.kid == kid)
            .ok_or_else(|| unauthorized("the bearer token was not signed by this server"))?;
        if !jws.verify_rsa(Algorithm::RS256, &jwk.modulus(), &jwk.exponent()) {
            return Err(unauthorized("the bearer token's signature is invalid"));
        }
        let claims = &jws.claims().map_err(|_| unauthorized("the bearer token's payload is not JSON"))?;
        if claims.get("iss").and_then(Value::as_str) != Some(self.issuer.as_str()) {
            return Err(unauthorized("the bearer token has another issuer"));
        }
        let exp = claims.get("exp").and_then(Value::as_i64).ok_or_else(|| unauthorized("the bearer token has no exp"))?;
        if clock::now() - CLOCK_SKEW > exp {
            return Err(unauthorized("the bearer token has expired"));
        }
        match claims.get("aud") {
            None => {}
            Some(Value::String(aud)) if self.audiences.iter().any(|a| a == aud) => {}
            Some(_) => return Err(unauthorized("the bearer token is meant for another audience")),
        }
        let org = claims
            .get("consumer")
            .and_then(|c| c.get("ID"))
            .and_then(Value::as_str)
            .and_then(OrganisationNumber::parse_iso6523)
            .ok_or_else(|| unauthorized("the bearer token has no consumer organisation"))?;
        let scopes = claims
            .get("scope")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        let client_id = claims.get("client_id").and_then(Value::as_str).unwrap_or_default().to_owned();
        Ok((Caller { org, scopes, client_id }, exp))
    }
}
