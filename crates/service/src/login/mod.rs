//! Person login (issue 4): fullmakt as an OpenID Connect relying party ([`relying_party`]),
//! used by the portal and the API, and a built-in test identity provider ([`test_idp`]) for
//! instances that run with test data. The relying party talks to the test identity provider
//! over HTTP exactly as it talks to ID-porten, so production, demo and tests run one code path.
//!
//! This module holds what both sides share: random secrets, their hashes, PKCE (RFC 7636, S256
//! only) and the check that keeps redirects on fullmakt's own origin.

pub mod relying_party;
pub mod test_idp;

use aws_lc_rs::digest;
use aws_lc_rs::rand::SecureRandom;

pub use relying_party::{LoginCompleted, LoginConfig, LoginError, LoginService, LoginStarted, OidcHttp, OidcProvider};
pub use test_idp::{TestIdentityProvider, TestIdpClient};

/// How long a started login may take, from the redirect to the provider until the callback.
pub const LOGIN_ATTEMPT_LIFETIME: i64 = 900;

/// A client secret: never printed, compared in constant time.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientSecret(String);

impl ClientSecret {
    /// `None` for an empty secret (an unset variable or an empty file means "no secret").
    pub fn new(secret: &str) -> Option<Self> {
        let secret = secret.trim();
        (!secret.is_empty()).then(|| Self(secret.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn matches(&self, presented: &str) -> bool {
        aws_lc_rs::constant_time::verify_slices_are_equal(self.0.as_bytes(), presented.as_bytes()).is_ok()
    }
}

impl std::fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClientSecret(…)")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the system random generator failed")]
pub struct RandomUnavailable;

/// 32 random bytes, base64url: 43 characters, 256 bits (state, nonce, codes, cookies, and a
/// PKCE verifier, whose alphabet base64url fits).
pub fn random_secret() -> Result<String, RandomUnavailable> {
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::SystemRandom::new().fill(&mut bytes).map_err(|_| {
        tracing::error!("the system random generator failed");
        RandomUnavailable
    })?;
    Ok(fullmakt_jose::b64::encode(bytes))
}

/// Secrets fullmakt hands out ([`random_secret`]) are 43 base64url characters; a value of any
/// other shape was never one, and is not looked up.
pub fn is_secret_shaped(s: &str) -> bool {
    s.len() == 43 && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
}

/// SHA-256, base64url: how secrets are stored and looked up.
pub fn secret_hash(secret: &str) -> String {
    fullmakt_jose::b64::encode(digest::digest(&digest::SHA256, secret.as_bytes()))
}

/// The S256 code challenge of a PKCE code verifier.
pub fn pkce_challenge(verifier: &str) -> String {
    secret_hash(verifier)
}

/// RFC 7636 §4.1: 43 to 128 characters of `A-Z a-z 0-9 - . _ ~`.
pub fn is_valid_code_verifier(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len()) && verifier.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// An S256 challenge is the base64url of a SHA-256: exactly 43 characters of that alphabet.
pub fn is_valid_s256_challenge(challenge: &str) -> bool {
    challenge.len() == 43 && challenge.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
}

/// Does `verifier` answer `challenge` (S256)? Compared in constant time.
pub fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    is_valid_code_verifier(verifier)
        && aws_lc_rs::constant_time::verify_slices_are_equal(pkce_challenge(verifier).as_bytes(), challenge.as_bytes()).is_ok()
}

/// Longest `goto` followed; anything longer goes to the front page.
pub const MAX_GOTO_LEN: usize = 2048;

/// Where to send the browser after login: `goto` when it resolves (relative to the public URL)
/// to a URL on the public URL's own origin — same scheme, host and port — else the public
/// URL's front page. Resolving first and comparing origins after is what defeats the usual
/// tricks (`//evil.example`, `/\evil.example`, `https://evil.example`, `javascript:`), because
/// the comparison sees the URL the browser would go to.
pub fn safe_goto(public_url: &str, goto: Option<&str>) -> String {
    let front = format!("{}/", public_url.trim_end_matches('/'));
    let Ok(base) = url::Url::parse(&front) else { return front };
    let Some(goto) = goto.map(str::trim).filter(|g| !g.is_empty() && g.len() <= MAX_GOTO_LEN) else { return front };
    match base.join(goto) {
        Ok(target) if target.origin() == base.origin() && matches!(target.scheme(), "http" | "https") => target.into(),
        _ => front,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_s256_matches_rfc_7636_appendix_b() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert_eq!(pkce_challenge(verifier), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
        assert!(pkce_matches(verifier, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
        assert!(!pkce_matches("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXj", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
        assert!(is_valid_s256_challenge("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
        assert!(!is_valid_s256_challenge("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-c"));
        assert!(!is_valid_s256_challenge("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM"));
    }

    #[test]
    fn code_verifiers_follow_rfc_7636() {
        assert!(!is_valid_code_verifier(&"a".repeat(42)));
        assert!(is_valid_code_verifier(&"a".repeat(43)));
        assert!(is_valid_code_verifier(&"a-._~9Z".repeat(19)[..128]));
        assert!(!is_valid_code_verifier(&"a".repeat(129)));
        assert!(!is_valid_code_verifier(&format!("{}+", "a".repeat(43))));
        // A short verifier never matches, even one whose hash someone precomputed.
        assert!(!pkce_matches("abc", &pkce_challenge("abc")));
    }

    #[test]
    fn random_secrets_are_43_unique_characters() {
        let (a, b) = (random_secret().unwrap(), random_secret().unwrap());
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
        assert!(is_valid_code_verifier(&a));
        assert!(is_secret_shaped(&a));
        assert!(!is_secret_shaped("short") && !is_secret_shaped(&"+".repeat(43)));
        assert_ne!(secret_hash(&a), a);
    }

    #[test]
    fn goto_stays_on_the_public_origin() {
        let public = "https://fullmakt.example";
        let front = "https://fullmakt.example/";
        for (goto, expected) in [
            (None, front),
            (Some(""), front),
            (Some("/accessmanagement/ui/"), "https://fullmakt.example/accessmanagement/ui/"),
            (Some("https://fullmakt.example/x?y=1#z"), "https://fullmakt.example/x?y=1#z"),
            (Some("https://FULLMAKT.example:443/x"), "https://fullmakt.example/x"),
            (Some("relative/path"), "https://fullmakt.example/relative/path"),
            (Some("https://evil.example/"), front),
            (Some("//evil.example/"), front),
            (Some("/\\evil.example/"), front),
            (Some("\\\\evil.example"), front),
            (Some("https://fullmakt.example.evil.example/"), front),
            (Some("https://fullmakt.example@evil.example/"), front),
            (Some("http://fullmakt.example/"), front),
            (Some("https://fullmakt.example:8443/"), front),
            (Some("javascript:alert(1)"), front),
            (Some("data:text/html,hi"), front),
            (Some(" /\t/evil.example"), front),
        ] {
            assert_eq!(safe_goto(public, goto), expected, "goto {goto:?}");
        }
        let long = format!("/{}", "a".repeat(MAX_GOTO_LEN));
        assert_eq!(safe_goto(public, Some(&long)), front);
        assert_eq!(safe_goto("http://127.0.0.1:8080/", Some("/x")), "http://127.0.0.1:8080/x");
        assert_eq!(safe_goto("http://127.0.0.1:8080", Some("http://127.0.0.1:8081/x")), "http://127.0.0.1:8080/");
    }

    #[test]
    fn secrets_do_not_print() {
        let secret = ClientSecret::new(" s3cret\n").unwrap();
        assert_eq!(format!("{secret:?}"), "ClientSecret(…)");
        assert!(secret.matches("s3cret"));
        assert!(!secret.matches("s3cre"));
        assert_eq!(ClientSecret::new("  "), None);
    }
}
