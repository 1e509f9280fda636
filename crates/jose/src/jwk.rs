//! RSA public JWKs as clients register them (maskinporten.md §6.1).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{b64, Algorithm};

/// A validated RSA public signing key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RsaPublicJwk {
    pub kty: String,
    #[serde(rename = "use")]
    pub use_: String,
    pub kid: String,
    pub alg: String,
    pub n: String,
    pub e: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwkError {
    #[error("a JWK must be a JSON object")]
    NotAnObject,
    #[error("only RSA keys (kty RSA) are supported, found {0}")]
    KeyType(String),
    #[error("the JWK contains private key material ({0}); register public keys only")]
    PrivateMaterial(&'static str),
    #[error("use must be \"sig\"")]
    Use,
    #[error("alg must be RS256, RS384 or RS512")]
    Algorithm,
    #[error("kid must be 1 to 100 characters of A-Z a-z 0-9 . _ -")]
    KeyId,
    #[error("n must be a base64url RSA modulus of 2048 to 8192 bits")]
    Modulus,
    #[error("e must be a base64url odd public exponent of at least 3")]
    Exponent,
}

const PRIVATE_MEMBERS: [&str; 7] = ["d", "p", "q", "dp", "dq", "qi", "oth"];

fn is_valid_kid(kid: &str) -> bool {
    (1..=100).contains(&kid.len()) && kid.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

impl RsaPublicJwk {
    /// Validates one JWK of a client's JWKS and keeps only the public members.
    pub fn from_client_json(value: &Value) -> Result<Self, JwkError> {
        let obj: &Map<String, Value> = value.as_object().ok_or(JwkError::NotAnObject)?;
        let text = |k: &str| obj.get(k).and_then(Value::as_str);
        match text("kty") {
            Some("RSA") => {}
            other => return Err(JwkError::KeyType(other.unwrap_or("nothing").to_owned())),
        }
        if let Some(m) = PRIVATE_MEMBERS.into_iter().find(|m| obj.contains_key(*m)) {
            return Err(JwkError::PrivateMaterial(m));
        }
        if text("use") != Some("sig") {
            return Err(JwkError::Use);
        }
        let alg = text("alg").filter(|a| Algorithm::parse(a).is_some()).ok_or(JwkError::Algorithm)?;
        let kid = text("kid").filter(|k| is_valid_kid(k)).ok_or(JwkError::KeyId)?;
        let n = text("n").ok_or(JwkError::Modulus)?;
        let n_bytes = b64::decode(n).ok_or(JwkError::Modulus)?;
        let bits = significant_bits(&n_bytes);
        if !(2048..=8192).contains(&bits) {
            return Err(JwkError::Modulus);
        }
        let e = text("e").ok_or(JwkError::Exponent)?;
        let e_bytes = b64::decode(e).ok_or(JwkError::Exponent)?;
        let odd = e_bytes.last().is_some_and(|b| b & 1 == 1);
        if !odd || significant_bits(&e_bytes) < 2 || e_bytes.len() > 8 {
            return Err(JwkError::Exponent);
        }
        Ok(Self {
            kty: "RSA".into(),
            use_: "sig".into(),
            kid: kid.into(),
            alg: alg.into(),
            n: n.into(),
            e: e.into(),
        })
    }

    pub fn modulus(&self) -> Vec<u8> {
        b64::decode(&self.n).unwrap_or_default()
    }
    pub fn exponent(&self) -> Vec<u8> {
        b64::decode(&self.e).unwrap_or_default()
    }
}

/// A key another issuer publishes in its JWKS, read leniently: issuers differ in which optional
/// members they write. RSA signing keys only; `use` may be absent, `alg` may be absent (then
/// the key verifies RS256 only, the algorithm every Maskinporten-style issuer uses); anything
/// else in the set is skipped, not an error, so one odd key does not hide the others.
pub fn issuer_key_from_json(value: &Value) -> Option<(String, crate::VerificationKey)> {
    let obj = value.as_object()?;
    let text = |k: &str| obj.get(k).and_then(Value::as_str);
    if text("kty") != Some("RSA") || obj.get("use").is_some_and(|u| u.as_str() != Some("sig")) {
        return None;
    }
    let kid = text("kid").filter(|k| !k.is_empty() && k.len() <= 256)?;
    let alg = match obj.get("alg") {
        None => Algorithm::RS256,
        Some(a) => Algorithm::parse(a.as_str()?)?,
    };
    let n = b64::decode(text("n")?)?;
    let e = b64::decode(text("e")?)?;
    if !(2048..=8192).contains(&significant_bits(&n)) || e.is_empty() || e.len() > 8 {
        return None;
    }
    Some((kid.to_owned(), crate::VerificationKey::new(alg, &n, &e)?))
}

fn significant_bits(be: &[u8]) -> usize {
    match be.iter().position(|b| *b != 0) {
        None => 0,
        Some(i) => (be.len() - i - 1) * 8 + (8 - be[i].leading_zeros() as usize),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{RsaKeySize, SigningKey};
    use serde_json::json;

    fn valid() -> Value {
        let key = SigningKey::generate(RsaKeySize::Rsa2048).unwrap();
        let mut jwk = serde_json::to_value(key.public_jwk()).unwrap();
        jwk["kid"] = json!("client-key.1");
        jwk
    }

    #[test]
    fn accepts_a_public_rsa_key_and_drops_extra_members() {
        let mut jwk = valid();
        jwk["x5t"] = json!("ignored");
        let parsed = RsaPublicJwk::from_client_json(&jwk).unwrap();
        assert_eq!(parsed.kid, "client-key.1");
        assert_eq!(parsed.modulus().len(), 256);
    }

    #[test]
    fn rejects_each_kind_of_bad_key() {
        let cases: Vec<(fn(&mut Value), JwkError)> = vec![
            (|j| j["kty"] = json!("EC"), JwkError::KeyType("EC".into())),
            (|j| j["d"] = json!("AAAA"), JwkError::PrivateMaterial("d")),
            (|j| j["use"] = json!("enc"), JwkError::Use),
            (|j| { j.as_object_mut().unwrap().remove("use"); }, JwkError::Use),
            (|j| j["alg"] = json!("HS256"), JwkError::Algorithm),
            (|j| j["kid"] = json!("has space"), JwkError::KeyId),
            (|j| j["kid"] = json!(""), JwkError::KeyId),
            (|j| j["n"] = json!(b64::encode([0xffu8; 128])), JwkError::Modulus),
            (|j| j["n"] = json!("not base64!"), JwkError::Modulus),
            (|j| j["e"] = json!(b64::encode([2u8])), JwkError::Exponent),
            (|j| j["e"] = json!(b64::encode([1u8])), JwkError::Exponent),
        ];
        for (mutate, expected) in cases {
            let mut jwk = valid();
            mutate(&mut jwk);
            assert_eq!(RsaPublicJwk::from_client_json(&jwk), Err(expected));
        }
        assert_eq!(RsaPublicJwk::from_client_json(&json!("x")), Err(JwkError::NotAnObject));
    }

    #[test]
    fn reads_issuer_keys_leniently_and_skips_what_it_cannot_use() {
        let jwk = valid();
        let (kid, key) = issuer_key_from_json(&jwk).unwrap();
        assert_eq!((kid.as_str(), key.alg()), ("client-key.1", Algorithm::RS256));
        let mut no_alg_no_use = jwk.clone();
        no_alg_no_use.as_object_mut().unwrap().remove("alg");
        no_alg_no_use.as_object_mut().unwrap().remove("use");
        no_alg_no_use["kid"] = json!("any kid: with spaces");
        assert_eq!(issuer_key_from_json(&no_alg_no_use).unwrap().1.alg(), Algorithm::RS256);
        let mut rs512 = jwk.clone();
        rs512["alg"] = json!("RS512");
        assert_eq!(issuer_key_from_json(&rs512).unwrap().1.alg(), Algorithm::RS512);
        for mutate in [
            (|j: &mut Value| j["kty"] = json!("EC")) as fn(&mut Value),
            |j| j["use"] = json!("enc"),
            |j| j["alg"] = json!("HS256"),
            |j| j["kid"] = json!(""),
            |j| j["n"] = json!(b64::encode([0xffu8; 128])),
            |j| j["e"] = json!(""),
        ] {
            let mut bad = jwk.clone();
            mutate(&mut bad);
            assert!(issuer_key_from_json(&bad).is_none(), "{bad}");
        }
    }
}
