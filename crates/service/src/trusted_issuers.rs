//! Maskinporten-style issuers other than fullmakt whose access tokens the vendor APIs and the
//! token exchange accept (`serve --trusted-issuer ISSUER=JWKS_URL`), for example Digdir's own
//! Maskinporten while vendors move over.
//!
//! Each issuer's keys come from its JWKS URL through a [`JwksFetcher`] (the binary supplies the
//! HTTP client; this layer does no network I/O of its own). They are kept in memory and fetched
//! again when older than [`KEYS_MAX_AGE`], or at once when a token names a kid that is not
//! known (the issuer rotated) — but never more often than once per [`MIN_REFETCH_INTERVAL`] per
//! issuer, so tokens with made-up kids cannot make fullmakt hammer the issuer. A failed fetch
//! keeps the keys already known. Concurrent requests for one issuer share one fetch.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use fullmakt_jose::VerificationKey;
use serde_json::Value;

/// Keys older than this are fetched again on the next use.
pub const KEYS_MAX_AGE: Duration = Duration::from_secs(3600);
/// At most one fetch per issuer in this interval, whatever the tokens say.
pub const MIN_REFETCH_INTERVAL: Duration = Duration::from_secs(10);
/// Largest JWKS document read, and most keys taken from it.
pub const MAX_JWKS_BYTES: usize = 256 * 1024;
pub const MAX_KEYS: usize = 100;

pub type FetchFuture<'a> = Pin<Box<dyn Future<Output = Result<Vec<u8>, String>> + Send + 'a>>;

/// Fetches a JWKS document (at most [`MAX_JWKS_BYTES`]); the error says why it failed.
pub trait JwksFetcher: Send + Sync {
    fn fetch<'a>(&'a self, url: &'a str) -> FetchFuture<'a>;
}

/// One configured issuer: its exact `iss` value and where its keys are published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedIssuer {
    pub issuer: String,
    pub jwks_url: String,
}

impl TrustedIssuer {
    /// Reads `ISSUER=JWKS_URL`, e.g. `https://test.maskinporten.no/=https://test.maskinporten.no/jwk`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let (issuer, jwks_url) = s
            .trim()
            .split_once('=')
            .ok_or_else(|| format!("trusted issuer `{s}`: write ISSUER=JWKS_URL"))?;
        let (issuer, jwks_url) = (issuer.trim(), jwks_url.trim());
        if issuer.is_empty() {
            return Err(format!("trusted issuer `{s}`: the issuer is empty"));
        }
        if !(jwks_url.starts_with("https://") || jwks_url.starts_with("http://")) {
            return Err(format!("trusted issuer `{s}`: the JWKS URL must be an http(s) URL"));
        }
        Ok(Self { issuer: issuer.to_owned(), jwks_url: jwks_url.to_owned() })
    }
}

pub struct TrustedIssuers {
    issuers: HashMap<String, IssuerKeys>,
    fetcher: Option<Arc<dyn JwksFetcher>>,
    max_age: Duration,
    min_refetch: Duration,
}

struct IssuerKeys {
    jwks_url: String,
    /// An async lock: a request that finds the keys stale fetches them while the others wait
    /// for its result instead of fetching too.
    cache: tokio::sync::Mutex<KeyCache>,
}

#[derive(Default)]
struct KeyCache {
    keys: HashMap<String, VerificationKey>,
    loaded_at: Option<Instant>,
    attempted_at: Option<Instant>,
}

impl TrustedIssuers {
    /// No issuer but fullmakt's own.
    pub fn none() -> Self {
        Self { issuers: HashMap::new(), fetcher: None, max_age: KEYS_MAX_AGE, min_refetch: MIN_REFETCH_INTERVAL }
    }

    pub fn new(issuers: Vec<TrustedIssuer>, fetcher: Arc<dyn JwksFetcher>) -> Self {
        Self::with_intervals(issuers, fetcher, KEYS_MAX_AGE, MIN_REFETCH_INTERVAL)
    }

    pub fn with_intervals(issuers: Vec<TrustedIssuer>, fetcher: Arc<dyn JwksFetcher>, max_age: Duration, min_refetch: Duration) -> Self {
        let issuers = issuers
            .into_iter()
            .map(|i| (i.issuer, IssuerKeys { jwks_url: i.jwks_url, cache: tokio::sync::Mutex::new(KeyCache::default()) }))
            .collect();
        Self { issuers, fetcher: Some(fetcher), max_age, min_refetch }
    }

    pub fn is_trusted(&self, issuer: &str) -> bool {
        self.issuers.contains_key(issuer)
    }

    pub fn issuers(&self) -> impl Iterator<Item = &str> {
        self.issuers.keys().map(String::as_str)
    }

    /// The key `kid` of `issuer`, fetching the issuer's JWKS when the keys are stale or the kid
    /// is unknown (within the limits above). `None`: not a trusted issuer, or no such key.
    pub async fn key(&self, issuer: &str, kid: &str) -> Option<VerificationKey> {
        let entry = self.issuers.get(issuer)?;
        let fetcher = self.fetcher.as_ref()?;
        let mut cache = entry.cache.lock().await;
        let now = Instant::now();
        let stale = cache.loaded_at.is_none_or(|t| now.duration_since(t) >= self.max_age);
        let unknown = !cache.keys.contains_key(kid);
        let may_fetch = cache.attempted_at.is_none_or(|t| now.duration_since(t) >= self.min_refetch);
        if (stale || unknown) && may_fetch {
            cache.attempted_at = Some(now);
            match fetcher.fetch(&entry.jwks_url).await.and_then(|body| parse_jwks(&body)) {
                Ok(keys) => {
                    tracing::info!(issuer, jwks_url = %entry.jwks_url, keys = keys.len(), "trusted issuer keys loaded");
                    cache.keys = keys;
                    cache.loaded_at = Some(now);
                }
                Err(e) => tracing::warn!(issuer, jwks_url = %entry.jwks_url, error = %e, "could not load a trusted issuer's keys"),
            }
        }
        cache.keys.get(kid).cloned()
    }
}

/// The usable RSA signing keys of a JWKS document; an error when there are none.
fn parse_jwks(body: &[u8]) -> Result<HashMap<String, VerificationKey>, String> {
    if body.len() > MAX_JWKS_BYTES {
        return Err(format!("the JWKS is larger than {MAX_JWKS_BYTES} bytes"));
    }
    let doc: Value = serde_json::from_slice(body).map_err(|e| format!("the JWKS is not JSON: {e}"))?;
    let keys = doc.get("keys").and_then(Value::as_array).ok_or("the JWKS has no keys array")?;
    let keys: HashMap<String, VerificationKey> = keys.iter().filter_map(fullmakt_jose::issuer_key_from_json).take(MAX_KEYS).collect();
    if keys.is_empty() {
        return Err("the JWKS holds no usable RSA signing key".into());
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;

    use fullmakt_jose::{RsaKeySize, SigningKey};

    /// Serves whatever JWKS it currently holds and counts the fetches.
    struct FakeFetcher {
        body: Mutex<Result<Vec<u8>, String>>,
        fetches: AtomicUsize,
    }

    impl JwksFetcher for FakeFetcher {
        fn fetch<'a>(&'a self, _url: &'a str) -> FetchFuture<'a> {
            self.fetches.fetch_add(1, Ordering::SeqCst);
            let body = self.body.lock().unwrap().clone();
            Box::pin(async move { body })
        }
    }

    fn jwks(keys: &[&SigningKey]) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({"keys": keys.iter().map(|k| k.public_jwk()).collect::<Vec<_>>()})).unwrap()
    }

    fn issuers(fetcher: Arc<FakeFetcher>, max_age: Duration, min_refetch: Duration) -> TrustedIssuers {
        let issuer = TrustedIssuer::parse("https://mp.example/=https://mp.example/jwk").unwrap();
        TrustedIssuers::with_intervals(vec![issuer], fetcher, max_age, min_refetch)
    }

    #[tokio::test]
    async fn fetches_once_serves_from_memory_and_refetches_for_a_new_kid() {
        let (a, b) = (SigningKey::generate(RsaKeySize::Rsa2048).unwrap(), SigningKey::generate(RsaKeySize::Rsa2048).unwrap());
        let fetcher = Arc::new(FakeFetcher { body: Mutex::new(Ok(jwks(&[&a]))), fetches: AtomicUsize::new(0) });
        let trusted = issuers(fetcher.clone(), KEYS_MAX_AGE, Duration::ZERO);
        assert!(trusted.key("https://mp.example/", a.kid()).await.is_some());
        assert!(trusted.key("https://mp.example/", a.kid()).await.is_some());
        assert_eq!(fetcher.fetches.load(Ordering::SeqCst), 1);
        // The issuer rotates: a token under the new kid makes fullmakt look again.
        *fetcher.body.lock().unwrap() = Ok(jwks(&[&a, &b]));
        assert!(trusted.key("https://mp.example/", b.kid()).await.is_some());
        assert_eq!(fetcher.fetches.load(Ordering::SeqCst), 2);
        // Not an issuer it trusts: no fetch at all.
        assert!(trusted.key("https://other.example/", a.kid()).await.is_none());
        assert_eq!(fetcher.fetches.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn unknown_kids_fetch_at_most_once_per_interval_and_failures_keep_the_old_keys() {
        let a = SigningKey::generate(RsaKeySize::Rsa2048).unwrap();
        let fetcher = Arc::new(FakeFetcher { body: Mutex::new(Ok(jwks(&[&a]))), fetches: AtomicUsize::new(0) });
        let trusted = issuers(fetcher.clone(), KEYS_MAX_AGE, Duration::from_secs(3600));
        assert!(trusted.key("https://mp.example/", a.kid()).await.is_some());
        for i in 0..20 {
            assert!(trusted.key("https://mp.example/", &format!("made-up-{i}")).await.is_none());
        }
        assert_eq!(fetcher.fetches.load(Ordering::SeqCst), 1);

        let stale = issuers(fetcher.clone(), Duration::ZERO, Duration::ZERO);
        assert!(stale.key("https://mp.example/", a.kid()).await.is_some());
        *fetcher.body.lock().unwrap() = Err("connection refused".into());
        assert!(stale.key("https://mp.example/", a.kid()).await.is_some(), "a failed refresh keeps the known keys");
        *fetcher.body.lock().unwrap() = Ok(br#"{"keys":[{"kty":"EC"}]}"#.to_vec());
        assert!(stale.key("https://mp.example/", a.kid()).await.is_some(), "a JWKS without usable keys changes nothing");
        assert_eq!(fetcher.fetches.load(Ordering::SeqCst), 4);
    }

    #[test]
    fn parses_the_flag() {
        assert_eq!(
            TrustedIssuer::parse(" https://test.maskinporten.no/=https://test.maskinporten.no/jwk ").unwrap(),
            TrustedIssuer { issuer: "https://test.maskinporten.no/".into(), jwks_url: "https://test.maskinporten.no/jwk".into() }
        );
        assert!(TrustedIssuer::parse("https://a/").is_err());
        assert!(TrustedIssuer::parse("=https://a/jwk").is_err());
        assert!(TrustedIssuer::parse("https://a/=file:///etc/passwd").is_err());
        assert!(parse_jwks(b"[]").is_err());
        assert!(parse_jwks(&vec![b' '; MAX_JWKS_BYTES + 1]).is_err());
    }
}
