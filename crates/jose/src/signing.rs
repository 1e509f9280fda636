//! fullmakt's own RSA signing keys for access tokens.

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};

use crate::{b64, RsaPublicJwk};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RsaKeySize {
    Rsa2048,
    Rsa3072,
    Rsa4096,
}

impl RsaKeySize {
    pub fn from_bits(bits: u32) -> Option<Self> {
        match bits {
            2048 => Some(Self::Rsa2048),
            3072 => Some(Self::Rsa3072),
            4096 => Some(Self::Rsa4096),
            _ => None,
        }
    }
}

/// An RSA private key that signs RS256 JWTs. Its `kid` is the RFC 7638 thumbprint, which is
/// 43 base64url characters like Maskinporten's own key ids.
pub struct SigningKey {
    kid: String,
    key_pair: KeyPair,
    rng: SystemRandom,
}

#[derive(Debug, thiserror::Error)]
#[error("RSA key operation failed: {0}")]
pub struct KeyError(String);

impl SigningKey {
    pub fn generate(size: RsaKeySize) -> Result<Self, KeyError> {
        let size = match size {
            RsaKeySize::Rsa2048 => KeySize::Rsa2048,
            RsaKeySize::Rsa3072 => KeySize::Rsa3072,
            RsaKeySize::Rsa4096 => KeySize::Rsa4096,
        };
        let key_pair = KeyPair::generate(size).map_err(|e| KeyError(e.to_string()))?;
        Ok(Self::from_key_pair(key_pair))
    }

    pub fn from_pkcs8(der: &[u8]) -> Result<Self, KeyError> {
        let key_pair = KeyPair::from_pkcs8(der).map_err(|e| KeyError(e.to_string()))?;
        Ok(Self::from_key_pair(key_pair))
    }

    fn from_key_pair(key_pair: KeyPair) -> Self {
        let (n, e) = public_components(&key_pair);
        let kid = thumbprint(&n, &e);
        Self { kid, key_pair, rng: SystemRandom::new() }
    }

    pub fn to_pkcs8(&self) -> Result<Vec<u8>, KeyError> {
        let der: Pkcs8V1Der = self.key_pair.as_der().map_err(|e| KeyError(e.to_string()))?;
        Ok(der.as_ref().to_vec())
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn public_jwk(&self) -> RsaPublicJwk {
        let (n, e) = public_components(&self.key_pair);
        RsaPublicJwk {
            kty: "RSA".into(),
            use_: "sig".into(),
            kid: self.kid.clone(),
            alg: "RS256".into(),
            n: b64::encode(n),
            e: b64::encode(e),
        }
    }

    /// Signs `header.payload` (both already JSON) and returns the compact JWS.
    pub fn sign_compact(&self, header_json: &[u8], payload_json: &[u8]) -> Result<String, KeyError> {
        let mut out = String::with_capacity((header_json.len() + payload_json.len()) * 4 / 3 + 400);
        out.push_str(&b64::encode(header_json));
        out.push('.');
        out.push_str(&b64::encode(payload_json));
        let mut sig = vec![0u8; self.key_pair.public_modulus_len()];
        self.key_pair
            .sign(&RSA_PKCS1_SHA256, &self.rng, out.as_bytes(), &mut sig)
            .map_err(|e| KeyError(e.to_string()))?;
        out.push('.');
        out.push_str(&b64::encode(sig));
        Ok(out)
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey").field("kid", &self.kid).finish_non_exhaustive()
    }
}

fn public_components(key_pair: &KeyPair) -> (Vec<u8>, Vec<u8>) {
    let public = key_pair.public_key();
    (
        public.modulus().big_endian_without_leading_zero().to_vec(),
        public.exponent().big_endian_without_leading_zero().to_vec(),
    )
}

/// RFC 7638 JWK thumbprint (SHA-256) of an RSA public key.
fn thumbprint(n: &[u8], e: &[u8]) -> String {
    let canonical = format!(r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#, b64::encode(e), b64::encode(n));
    b64::encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, canonical.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Algorithm, CompactJws};

    #[test]
    fn signs_tokens_that_verify_with_the_published_jwk_and_survive_pkcs8() {
        let key = SigningKey::generate(RsaKeySize::Rsa2048).unwrap();
        assert_eq!(key.kid().len(), 43);
        let restored = SigningKey::from_pkcs8(&key.to_pkcs8().unwrap()).unwrap();
        assert_eq!(restored.kid(), key.kid());
        let token = restored.sign_compact(br#"{"alg":"RS256"}"#, br#"{"a":1}"#).unwrap();
        let jws = CompactJws::parse(&token).unwrap();
        let jwk = key.public_jwk();
        assert!(jws.verify_rsa(Algorithm::RS256, &jwk.modulus(), &jwk.exponent()));
        assert!(!jws.verify_rsa(Algorithm::RS384, &jwk.modulus(), &jwk.exponent()));
        let other = SigningKey::generate(RsaKeySize::Rsa2048).unwrap().public_jwk();
        assert!(!jws.verify_rsa(Algorithm::RS256, &other.modulus(), &other.exponent()));
    }
}
