use serde_json::{Map, Value};

use crate::b64;

/// The signature algorithms a grant may use (maskinporten.md §1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    RS256,
    RS384,
    RS512,
}

impl Algorithm {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "RS256" => Some(Self::RS256),
            "RS384" => Some(Self::RS384),
            "RS512" => Some(Self::RS512),
            _ => None,
        }
    }
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::RS256 => "RS256",
            Self::RS384 => "RS384",
            Self::RS512 => "RS512",
        }
    }
    pub(crate) fn verification(&self) -> &'static aws_lc_rs::signature::RsaParameters {
        use aws_lc_rs::signature::*;
        match self {
            Self::RS256 => &RSA_PKCS1_2048_8192_SHA256,
            Self::RS384 => &RSA_PKCS1_2048_8192_SHA384,
            Self::RS512 => &RSA_PKCS1_2048_8192_SHA512,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwsError {
    #[error("not a compact JWS with three dot-separated parts")]
    Shape,
    #[error("the header is not base64url-encoded JSON object")]
    Header,
    #[error("the payload is not base64url-encoded JSON object")]
    Payload,
    #[error("the signature is not base64url")]
    Signature,
    #[error("the header has no string alg")]
    MissingAlgorithm,
    #[error("the header has a crit parameter this server does not understand")]
    Critical,
}

/// The header parameters the token endpoint looks at. `typ` and anything else are tolerated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwsHeader {
    pub alg: String,
    pub kid: Option<String>,
    pub has_x5c: bool,
}

/// A parsed, not yet verified compact JWS.
#[derive(Debug)]
pub struct CompactJws<'a> {
    pub header: JwsHeader,
    payload: Vec<u8>,
    signing_input: &'a str,
    signature: Vec<u8>,
}

/// A token larger than this is refused before any decoding: no legitimate grant is near it.
pub const MAX_COMPACT_LEN: usize = 64 * 1024;

impl<'a> CompactJws<'a> {
    pub fn parse(token: &'a str) -> Result<Self, JwsError> {
        if token.len() > MAX_COMPACT_LEN {
            return Err(JwsError::Shape);
        }
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
            return Err(JwsError::Shape);
        };
        let header: Map<String, Value> = b64::decode(h)
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or(JwsError::Header)?;
        let payload = b64::decode(p).ok_or(JwsError::Payload)?;
        let signature = b64::decode(s).ok_or(JwsError::Signature)?;
        if header.contains_key("crit") {
            return Err(JwsError::Critical);
        }
        let alg = header.get("alg").and_then(Value::as_str).ok_or(JwsError::MissingAlgorithm)?.to_owned();
        let kid = header.get("kid").and_then(Value::as_str).map(str::to_owned);
        let has_x5c = header.contains_key("x5c");
        Ok(Self {
            header: JwsHeader { alg, kid, has_x5c },
            payload,
            signing_input: &token[..h.len() + 1 + p.len()],
            signature,
        })
    }

    /// The payload as JWT claims: it must be a JSON object.
    pub fn claims(&self) -> Result<Map<String, Value>, JwsError> {
        serde_json::from_slice(&self.payload).map_err(|_| JwsError::Payload)
    }

    /// The payload bytes exactly as signed (for copying claims in their original order).
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }

    /// Checks the signature with an RSA public key given as big-endian modulus and exponent.
    pub fn verify_rsa(&self, alg: Algorithm, n: &[u8], e: &[u8]) -> bool {
        let key = aws_lc_rs::signature::RsaPublicKeyComponents { n, e };
        key.verify(alg.verification(), self.signing_input.as_bytes(), &self.signature).is_ok()
    }

    /// Verifies against a registered key: the header's `alg` must be one this server allows
    /// *and* the one the key was registered for, and the signature must hold.
    pub fn verify_with(&self, key: &VerificationKey) -> Result<(), VerifyError> {
        let alg = Algorithm::parse(&self.header.alg).ok_or(VerifyError::AlgorithmNotAllowed)?;
        if alg != key.alg {
            return Err(VerifyError::AlgorithmNotRegistered);
        }
        if key.parsed.verify_sig(self.signing_input.as_bytes(), &self.signature).is_err() {
            return Err(VerifyError::Signature);
        }
        Ok(())
    }
}

/// A registered RSA key, built into aws-lc's key object once: verifying with the bare modulus
/// and exponent would rebuild that object, and the Montgomery constants of the modulus, for
/// every grant (about 12 % of a verification).
#[derive(Clone)]
pub struct VerificationKey {
    alg: Algorithm,
    parsed: aws_lc_rs::signature::ParsedPublicKey,
}

impl VerificationKey {
    /// A key for `alg` from its big-endian modulus and exponent; None when aws-lc cannot build it.
    /// Leading zero bytes are dropped: RFC 7518 forbids them, but registration tolerates them
    /// (some JWK writers emit one), and aws-lc refuses a component that starts with zero.
    pub fn new(alg: Algorithm, n: &[u8], e: &[u8]) -> Option<Self> {
        let components = aws_lc_rs::signature::RsaPublicKeyComponents { n: without_leading_zeros(n), e: without_leading_zeros(e) };
        let parsed = components.to_parsed_public_key(alg.verification()).ok()?;
        Some(Self { alg, parsed })
    }

    pub fn from_jwk(jwk: &crate::RsaPublicJwk) -> Option<Self> {
        Self::new(Algorithm::parse(&jwk.alg)?, &crate::b64::decode(&jwk.n)?, &crate::b64::decode(&jwk.e)?)
    }

    /// The one algorithm this key verifies.
    pub fn alg(&self) -> Algorithm {
        self.alg
    }
}

fn without_leading_zeros(bytes: &[u8]) -> &[u8] {
    &bytes[bytes.iter().take_while(|b| **b == 0).count()..]
}

/// Equal when registered for the same algorithm with the same public key (compared in its
/// canonical DER encoding, which aws-lc keeps with the parsed key).
impl PartialEq for VerificationKey {
    fn eq(&self, other: &Self) -> bool {
        self.alg == other.alg && self.parsed.as_ref() == other.parsed.as_ref()
    }
}

impl Eq for VerificationKey {}

impl std::fmt::Debug for VerificationKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerificationKey").field("alg", &self.alg).field("spki", &crate::b64::encode(self.parsed.as_ref())).finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("alg is not RS256, RS384 or RS512")]
    AlgorithmNotAllowed,
    #[error("alg is not the one registered for the key")]
    AlgorithmNotRegistered,
    #[error("the signature does not verify")]
    Signature,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_malformed_compact_forms() {
        assert_eq!(CompactJws::parse("a.b").unwrap_err(), JwsError::Shape);
        assert_eq!(CompactJws::parse("a.b.c.d").unwrap_err(), JwsError::Shape);
        assert_eq!(CompactJws::parse("!!.e30.").unwrap_err(), JwsError::Header);
        let h = b64::encode(r#"{"alg":"RS256"}"#);
        assert_eq!(CompactJws::parse(&format!("{h}.W10.")).unwrap().claims().unwrap_err(), JwsError::Payload);
        assert_eq!(CompactJws::parse(&format!("{h}.!.")).unwrap_err(), JwsError::Payload);
        assert_eq!(CompactJws::parse(&format!("{h}.e30.a=")).unwrap_err(), JwsError::Signature);
        let crit = b64::encode(r#"{"alg":"RS256","crit":["exp"]}"#);
        assert_eq!(CompactJws::parse(&format!("{crit}.e30.")).unwrap_err(), JwsError::Critical);
        let noalg = b64::encode(r#"{"kid":"x"}"#);
        assert_eq!(CompactJws::parse(&format!("{noalg}.e30.")).unwrap_err(), JwsError::MissingAlgorithm);
        assert_eq!(CompactJws::parse(&"a".repeat(MAX_COMPACT_LEN + 1)).unwrap_err(), JwsError::Shape);
    }

    fn signed_by_a_new_key() -> (String, crate::RsaPublicJwk) {
        let key = crate::SigningKey::generate(crate::RsaKeySize::Rsa2048).unwrap();
        (key.sign_compact(br#"{"alg":"RS256"}"#, br#"{"jti":"a"}"#).unwrap(), key.public_jwk())
    }

    #[test]
    fn a_key_built_once_verifies_every_grant_it_signed_and_nothing_else() {
        let (token, jwk) = signed_by_a_new_key();
        let key = VerificationKey::new(Algorithm::RS256, &jwk.modulus(), &jwk.exponent()).unwrap();
        for _ in 0..3 {
            assert_eq!(CompactJws::parse(&token).unwrap().verify_with(&key), Ok(()));
        }
        let (other_token, _) = signed_by_a_new_key();
        assert_eq!(CompactJws::parse(&other_token).unwrap().verify_with(&key), Err(VerifyError::Signature));
        let (head, _) = token.rsplit_once('.').unwrap();
        let (_, other_signature) = other_token.rsplit_once('.').unwrap();
        let spliced = format!("{head}.{other_signature}");
        assert_eq!(CompactJws::parse(&spliced).unwrap().verify_with(&key), Err(VerifyError::Signature));
        let rs384 = VerificationKey::new(Algorithm::RS384, &jwk.modulus(), &jwk.exponent()).unwrap();
        assert_eq!(CompactJws::parse(&token).unwrap().verify_with(&rs384), Err(VerifyError::AlgorithmNotRegistered));
    }

    #[test]
    fn a_modulus_written_with_a_leading_zero_still_verifies() {
        let (token, jwk) = signed_by_a_new_key();
        let padded = [&[0u8][..], &jwk.modulus()].concat();
        let key = VerificationKey::new(Algorithm::RS256, &padded, &[&[0u8, 0][..], &jwk.exponent()].concat()).unwrap();
        assert_eq!(key, VerificationKey::new(Algorithm::RS256, &jwk.modulus(), &jwk.exponent()).unwrap());
        assert_eq!(CompactJws::parse(&token).unwrap().verify_with(&key), Ok(()));
    }

    #[test]
    fn components_aws_lc_cannot_build_give_no_key() {
        assert!(VerificationKey::new(Algorithm::RS256, &[], &[1, 0, 1]).is_none());
        assert!(VerificationKey::new(Algorithm::RS256, &[0, 0], &[1, 0, 1]).is_none());
    }

    #[test]
    fn reads_header_fields() {
        let h = b64::encode(r#"{"alg":"RS256","kid":"k1","typ":"JWT","x5c":["AA"]}"#);
        let token = format!("{h}.e30.");
        let jws = CompactJws::parse(&token).unwrap();
        assert_eq!(jws.header, JwsHeader { alg: "RS256".into(), kid: Some("k1".into()), has_x5c: true });
        assert!(jws.claims().unwrap().is_empty());
    }
}
