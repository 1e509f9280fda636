//! Project Wycheproof's JWS vectors (tests/wycheproof/, Apache-2.0) against the verification
//! path the token endpoint uses: key registration rules, compact parsing, alg allow-list,
//! alg bound to the key, signature.
//!
//! Every `invalid` vector must be refused. A `valid` vector is accepted exactly when it is in
//! fullmakt's profile (RS256, RS384, RS512 with an RSA signing key); the out-of-profile valid
//! ones (HMAC, ECDSA, PSS) are counted so the figures can only change deliberately. Payloads
//! are not read here: the vectors' payloads are bytes, not JWT claims.

use fullmakt_jose::{CompactJws, RsaPublicJwk, VerificationKey};
use serde_json::Value;

/// Registers the vector's public key as a client would have to: `use` must be `sig` (a key
/// with neither `use` nor a `key_ops` that allows verify gets `sig` added, since the vectors'
/// bare keys would be registered that way). The kid is replaced by one in fullmakt's charset
/// (RFC 7520's "bilbo.baggins@hobbiton.example" has an `@`): kids only select the key.
fn register(public: &Value) -> Option<VerificationKey> {
    let mut key = public.clone();
    let ops_allow_verify = key.get("key_ops").map_or(true, |ops| ops.as_array().is_some_and(|a| a.iter().any(|o| o == "verify")));
    if key.get("use").is_none() && ops_allow_verify {
        key["use"] = "sig".into();
    }
    key["kid"] = "wycheproof".into();
    let jwk = RsaPublicJwk::from_client_json(&key).ok()?;
    VerificationKey::from_jwk(&jwk)
}

fn accepts(jws: &str, key: Option<&VerificationKey>) -> bool {
    let Some(key) = key else { return false };
    match CompactJws::parse(jws) {
        Ok(parsed) => parsed.verify_with(key).is_ok(),
        Err(_) => false,
    }
}

#[test]
fn wycheproof_json_web_signature_vectors() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/wycheproof/json_web_signature_test.json")).unwrap();
    let file: Value = serde_json::from_str(&text).unwrap();
    let (mut invalid_refused, mut valid_accepted, mut valid_out_of_profile) = (0, 0, 0);
    for group in file["testGroups"].as_array().unwrap() {
        let key = group.get("public").and_then(register);
        for test in group["tests"].as_array().unwrap() {
            let id = &test["tcId"];
            let jws = match &test["jws"] {
                Value::String(s) => s.clone(),
                other => other.to_string(), // JSON serialization: never a compact JWS
            };
            let accepted = accepts(&jws, key.as_ref());
            match test["result"].as_str().unwrap() {
                "invalid" => {
                    assert!(!accepted, "tcId {id} ({}) is invalid but was accepted", test["comment"]);
                    invalid_refused += 1;
                }
                "valid" if accepted => valid_accepted += 1,
                "valid" => valid_out_of_profile += 1,
                other => panic!("tcId {id}: unexpected result {other}"),
            }
        }
    }
    println!("wycheproof JWS: {invalid_refused} invalid refused, {valid_accepted} valid accepted, {valid_out_of_profile} valid outside fullmakt's profile");
    assert_eq!(invalid_refused, 355);
    assert_eq!(valid_accepted + valid_out_of_profile, 46);
    assert_eq!(valid_accepted, EXPECTED_VALID_ACCEPTED);
}

/// The valid RS256, RS384 and RS512 vectors (tcIds 33, 259–271, and RFC 7520 figure 13 with
/// and without key_ops).
const EXPECTED_VALID_ACCEPTED: usize = 16;
