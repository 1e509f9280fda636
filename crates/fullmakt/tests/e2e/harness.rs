//! Test harness: real servers on ephemeral loopback ports over real databases.
//!
//! Every test runs once per configured store: SQLite always, and PostgreSQL when the
//! environment variable FULLMAKT_TEST_POSTGRES_URL names a server we may create databases on
//! (for example `postgres://postgres@127.0.0.1:5432/postgres`; `.ci/run` sets it).

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::KeyPair as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use fullmakt::config::StoreArgs;
use fullmakt::serve::{Server, ServeOptions};
use fullmakt_service::admin::{clients, scopes, ClientInput, ScopeInput};
use fullmakt_store::Store;
use serde_json::{json, Value};
use tokio::net::TcpListener;

/// Runs the body against a fresh server and [`Vendor`] on every configured store, naming the
/// store on stderr so a failure says which one.
macro_rules! on_every_store {
    (|$server:ident, $vendor:ident| $body:block) => {
        on_every_store!(|_db, $server, $vendor| $body)
    };
    (|$db:ident, $server:ident, $vendor:ident| $body:block) => {
        for $db in databases().await {
            eprintln!("store: {}", $db.name);
            let $server = TestServer::start(&$db).await;
            let $vendor = Vendor::setup(&$server).await;
            $body
            $server.stop().await;
        }
    };
}
pub(crate) use on_every_store;

pub const OWNER_ORG: &str = "991825827";
pub const VENDOR_ORG: &str = "314240979";
pub const OTHER_ORG: &str = "310702641";
pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// One database to run a test against. The directory also holds the key-encryption key file.
pub struct TestDb {
    pub name: &'static str,
    pub url: String,
    pub dir: tempfile::TempDir,
}

impl TestDb {
    pub fn store_args(&self) -> StoreArgs {
        StoreArgs { database_url: self.url.clone(), key_file: self.key_file(), signing_key_bits: 2048 }
    }
    pub fn key_file(&self) -> PathBuf {
        self.dir.path().join("fullmakt.key")
    }
}

pub async fn databases() -> Vec<TestDb> {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("fullmakt.db").display());
    let mut out = vec![TestDb { name: "sqlite", url, dir }];
    if let Ok(base) = std::env::var("FULLMAKT_TEST_POSTGRES_URL") {
        use sqlx::Executor;
        sqlx::any::install_default_drivers();
        let admin = sqlx::AnyPool::connect(&base).await.expect("FULLMAKT_TEST_POSTGRES_URL is set but the server is unreachable");
        // Random, so a leftover database from an earlier run (same pid, say) never collides.
        let name = format!("fullmakt_e2e_{}", uuid::Uuid::new_v4().simple());
        admin.execute(format!("CREATE DATABASE {name}").as_str()).await.unwrap();
        admin.close().await;
        let (prefix, _) = base.rsplit_once('/').expect("postgres URL ends with /DATABASE");
        out.push(TestDb { name: "postgres", url: format!("{prefix}/{name}"), dir: tempfile::tempdir().unwrap() });
    }
    out
}

/// A server running in this process on a real socket.
pub struct TestServer {
    pub base: String,
    pub public_url: String,
    pub store: Store,
    pub http: reqwest::Client,
    server: Option<Server>,
}

impl TestServer {
    pub async fn start(db: &TestDb) -> Self {
        Self::start_with_public_url(db, None).await
    }

    /// `public_url` fixes the issuer, so a restarted server on another port is the same issuer.
    pub async fn start_with_public_url(db: &TestDb, public_url: Option<&str>) -> Self {
        let public_url = public_url.map(str::to_owned);
        Self::start_with(db, move |o| {
            if let Some(url) = public_url {
                o.public_url = url;
            }
        })
        .await
    }

    /// A server in test-data mode (`serve --test-data`).
    pub async fn start_test_data(db: &TestDb) -> Self {
        Self::start_with(db, |o| o.test_data = true).await
    }

    /// `configure` sees the options with the public URL set to the listening address.
    pub async fn start_with(db: &TestDb, configure: impl FnOnce(&mut ServeOptions)) -> Self {
        let (store, ring) = db.store_args().open().await.unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let mut options = ServeOptions { public_url: base.clone(), ..ServeOptions::default() };
        configure(&mut options);
        let public_url = options.public_url.clone();
        let server = fullmakt::serve::start_with(store.clone(), ring, listener, options).await.unwrap();
        Self { base, public_url, store, http: reqwest::Client::new(), server: Some(server) }
    }

    /// fullmakt's Altinn token issuer.
    pub fn altinn_issuer(&self) -> String {
        format!("{}/authentication/api/v1/openid/", self.public_url)
    }

    pub fn issuer(&self) -> String {
        format!("{}/", self.public_url)
    }

    pub async fn stop(mut self) {
        if let Some(s) = self.server.take() {
            s.stop().await;
        }
        self.store.close().await;
    }

    pub async fn post_grant(&self, assertion: &str) -> (u16, Value) {
        post_grant(&self.http, &self.base, assertion).await
    }
}

pub async fn post_grant(http: &reqwest::Client, base: &str, assertion: &str) -> (u16, Value) {
    let res = http
        .post(format!("{base}/token"))
        .form(&[("grant_type", GRANT_TYPE), ("assertion", assertion)])
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap())
}

/// An RSA key a test client signs grants with.
pub struct ClientKey {
    pub kid: String,
    key_pair: KeyPair,
}

impl ClientKey {
    pub fn generate(kid: &str) -> Self {
        Self { kid: kid.to_owned(), key_pair: KeyPair::generate(KeySize::Rsa2048).unwrap() }
    }

    pub fn jwk(&self) -> Value {
        let public = self.key_pair.public_key();
        json!({
            "kty": "RSA", "use": "sig", "alg": "RS256", "kid": self.kid,
            "n": b64(public.modulus().big_endian_without_leading_zero()),
            "e": b64(public.exponent().big_endian_without_leading_zero()),
        })
    }

    pub fn jwks(&self) -> Value {
        json!({ "keys": [self.jwk()] })
    }

    /// Signs any header and claims, so tests can build every kind of wrong grant.
    pub fn sign(&self, header: &Value, claims: &Value) -> String {
        self.sign_text(header, &claims.to_string())
    }

    /// Signs claims given as JSON text, for tests that depend on the members' order
    /// (`json!` sorts them).
    pub fn sign_text(&self, header: &Value, claims: &str) -> String {
        let alg = match header["alg"].as_str() {
            Some("RS384") => &aws_lc_rs::signature::RSA_PKCS1_SHA384,
            Some("RS512") => &aws_lc_rs::signature::RSA_PKCS1_SHA512,
            _ => &aws_lc_rs::signature::RSA_PKCS1_SHA256,
        };
        let input = format!("{}.{}", b64(header.to_string()), b64(claims));
        let mut sig = vec![0; self.key_pair.public_modulus_len()];
        self.key_pair.sign(alg, &SystemRandom::new(), input.as_bytes(), &mut sig).unwrap();
        format!("{input}.{}", b64(sig))
    }
}

pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn decode_jwt_part(token: &str, part: usize) -> Value {
    let segment = token.split('.').nth(part).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(segment).unwrap()).unwrap()
}

pub fn now() -> i64 {
    fullmakt_service::clock::now()
}

static JTI: AtomicU64 = AtomicU64::new(0);

pub fn unique_jti() -> String {
    format!("jti-{}-{}", uuid::Uuid::new_v4(), JTI.fetch_add(1, Ordering::Relaxed))
}

/// A vendor client with one key and the scope `owner:api.read` (owned by OWNER_ORG,
/// granted to VENDOR_ORG).
pub struct Vendor {
    pub client_id: String,
    pub key: ClientKey,
    pub issuer: String,
}

pub const SCOPE: &str = "owner:api.read";

impl Vendor {
    pub async fn setup(server: &TestServer) -> Self {
        let owner = fullmakt_domain::OrganisationNumber::parse(OWNER_ORG).unwrap();
        let vendor = fullmakt_domain::OrganisationNumber::parse(VENDOR_ORG).unwrap();
        let input = ScopeInput { name: Some(SCOPE.into()), at_max_age: Some(3600), ..Default::default() };
        scopes::create_scope(&server.store, owner, &input, true).await.unwrap();
        scopes::set_access(&server.store, SCOPE, VENDOR_ORG, true).await.unwrap();
        let key = ClientKey::generate("vendor-key-1");
        let input = ClientInput {
            client_name: Some("vendor".into()),
            scopes: Some(vec![SCOPE.into()]),
            ..Default::default()
        };
        let client = clients::create_client(&server.store, vendor, &input, Some(&key.jwks())).await.unwrap();
        Self { client_id: client.client_id, key, issuer: server.issuer() }
    }

    pub fn header(&self) -> Value {
        json!({"alg": "RS256", "kid": self.key.kid})
    }

    /// Claims of a valid grant, for tests to alter.
    pub fn claims(&self) -> Value {
        let now = now();
        json!({
            "aud": self.issuer, "iss": self.client_id, "scope": SCOPE,
            "iat": now, "exp": now + 60, "jti": unique_jti(),
        })
    }

    pub fn grant(&self) -> String {
        self.key.sign(&self.header(), &self.claims())
    }

    pub fn grant_with(&self, alter: impl FnOnce(&mut Value, &mut Value)) -> String {
        let (mut header, mut claims) = (self.header(), self.claims());
        alter(&mut header, &mut claims);
        self.key.sign(&header, &claims)
    }
}

/// Asserts an OAuth error response: status, `error`, the `error_description` prefix, the
/// trace id suffix and the `error_uri` code.
pub fn assert_oauth_error(response: &(u16, Value), status: u16, error: &str, description_prefix: &str, code: &str) {
    let (got_status, body) = response;
    assert_eq!(*got_status, status, "{body}");
    assert_eq!(body["error"], error, "{body}");
    let description = body["error_description"].as_str().unwrap();
    assert!(description.starts_with(description_prefix), "description {description:?} does not start with {description_prefix:?}");
    let trace = description.rsplit_once("(trace_id: ").map(|(_, t)| t.trim_end_matches(')')).unwrap_or_default();
    assert_eq!(trace.len(), 32, "{description}");
    assert!(trace.bytes().all(|b| b.is_ascii_hexdigit()), "{description}");
    assert!(body["error_uri"].as_str().unwrap().ends_with(&format!("/errors/{code}")), "{body}");
}

pub async fn published_jwks(server: &TestServer) -> Value {
    server.http.get(format!("{}/jwk", server.base)).send().await.unwrap().json().await.unwrap()
}

/// Does `token` verify with the key its header names in `jwks`?
pub fn verifies_against(token: &str, jwks: &Value) -> bool {
    let kid = decode_jwt_part(token, 0)["kid"].clone();
    let Some(jwk) = jwks["keys"].as_array().unwrap().iter().find(|k| k["kid"] == kid) else { return false };
    let jwk: fullmakt_jose::RsaPublicJwk = serde_json::from_value(jwk.clone()).unwrap();
    fullmakt_jose::CompactJws::parse(token).unwrap().verify_rsa(fullmakt_jose::Algorithm::RS256, &jwk.modulus(), &jwk.exponent())
}

/// An access token from this server for `org` carrying `token_scopes`, from a client made for
/// the purpose. Scopes that do not exist yet are created with OWNER_ORG (Digdir) as owner.
pub async fn api_token(server: &TestServer, org: &str, token_scopes: &[&str]) -> String {
    let digdir = fullmakt_domain::OrganisationNumber::parse(OWNER_ORG).unwrap();
    for s in token_scopes {
        if server.store.scope(s).await.unwrap().is_none() {
            let input = ScopeInput { name: Some(s.to_string()), ..Default::default() };
            scopes::create_scope(&server.store, digdir, &input, true).await.unwrap();
        }
        scopes::set_access(&server.store, s, org, true).await.unwrap();
    }
    let key = ClientKey::generate(&format!("api-{}", uuid::Uuid::new_v4().simple()));
    let input = ClientInput {
        client_name: Some("api".into()),
        scopes: Some(token_scopes.iter().map(|s| s.to_string()).collect()),
        ..Default::default()
    };
    let client = clients::create_client(&server.store, fullmakt_domain::OrganisationNumber::parse(org).unwrap(), &input, Some(&key.jwks()))
        .await
        .unwrap();
    let now = now();
    let claims = json!({"aud": server.issuer(), "iss": client.client_id, "scope": token_scopes.join(" "),
        "iat": now, "exp": now + 60, "jti": unique_jti()});
    let (status, body) = server.post_grant(&key.sign(&json!({"alg": "RS256", "kid": key.kid}), &claims)).await;
    assert_eq!(status, 200, "{body}");
    body["access_token"].as_str().unwrap().to_owned()
}

/// One HTTP call with an optional bearer token and JSON body; the body comes back as JSON,
/// or as a JSON string when it is not JSON, or null when empty.
pub async fn call(server: &TestServer, method: reqwest::Method, path: &str, token: Option<&str>, body: Option<&str>) -> (u16, Value) {
    let mut req = server.http.request(method, format!("{}{path}", server.base));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.header("content-type", "application/json").body(b.to_owned());
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (status, if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) })
}

/// A problem+json answer with this status whose detail mentions `detail_contains`.
pub fn assert_problem(response: &(u16, Value), status: u16, detail_contains: &str) {
    let (got, body) = response;
    assert_eq!(*got, status, "{body}");
    assert_eq!(body["status"], status, "{body}");
    assert!(body["detail"].as_str().unwrap().contains(detail_contains), "{body} lacks {detail_contains:?}");
    assert_eq!(body["traceId"].as_str().unwrap().len(), 32);
}

pub use fullmakt_service::resource_registry::altinn_policy;

/// Uploads `policy` as the multipart field `field` (the reference's is `policyFile`).
pub async fn upload_policy(server: &TestServer, resource_id: &str, token: Option<&str>, field: &str, policy: &str) -> (u16, Value) {
    let boundary = "fullmakt-test-boundary";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"policy.xml\"\r\nContent-Type: text/xml\r\n\r\n{policy}\r\n--{boundary}--\r\n"
    );
    let mut req = server
        .http
        .post(format!("{}/resourceregistry/api/v1/resource/{resource_id}/policy", server.base))
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (status, if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) })
}

/// Like [`call`], with extra request headers, and the response headers returned too.
pub async fn request(
    server: &TestServer,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
    headers: &[(&str, &str)],
) -> (u16, Value, reqwest::header::HeaderMap) {
    let mut req = server.http.request(method, format!("{}{path}", server.base));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.header("content-type", "application/json").body(b.to_owned());
    }
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let response_headers = res.headers().clone();
    let text = res.text().await.unwrap();
    (status, if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) }, response_headers)
}

/// [`assert_problem`], and the answer's content type is problem+json.
pub fn assert_problem_json(status: u16, body: &Value, headers: &reqwest::header::HeaderMap, expected: u16, detail_contains: &str) {
    assert_eq!(headers["content-type"], "application/problem+json", "{body}");
    assert_problem(&(status, body.clone()), expected, detail_contains);
}

/// Signs any header and claims with the server's active signing key, so tests can make tokens
/// the server itself would never issue (expired, other claims). The `kid` is filled in when the
/// header has none.
pub async fn sign_as_server(db: &TestDb, header: &Value, claims: &Value) -> String {
    let (store, ring) = db.store_args().open().await.unwrap();
    let keys = ring.current(store.change_sequence().await.unwrap()).await.unwrap();
    store.close().await;
    let mut header = header.clone();
    if header.get("kid").is_none() {
        header["kid"] = json!(keys.active.kid());
    }
    keys.active.sign_compact(header.to_string().as_bytes(), claims.to_string().as_bytes()).unwrap()
}

/// A JWT's payload member names in the order they were written.
pub fn claim_order(token: &str) -> Vec<String> {
    struct Keys;
    impl<'de> serde::de::Visitor<'de> for Keys {
        type Value = Vec<String>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Vec<String>, A::Error> {
            let mut keys = Vec::new();
            while let Some((k, _)) = map.next_entry::<String, serde::de::IgnoredAny>()? {
                keys.push(k);
            }
            Ok(keys)
        }
    }
    let segment = token.split('.').nth(1).unwrap();
    let bytes = URL_SAFE_NO_PAD.decode(segment).unwrap();
    serde::Deserializer::deserialize_map(&mut serde_json::Deserializer::from_slice(&bytes), Keys).unwrap()
}

/// Runs `fullmakt admin ARGS --database-url … --key-file …` on `db`, the store flags after the
/// subcommand as operators write them: the exit status, stdout and stderr.
pub fn admin_cli(db: &TestDb, args: &[&str]) -> (bool, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_fullmakt"))
        .arg("admin")
        .args(args)
        .args(["--database-url", &db.url, "--key-file"])
        .arg(db.key_file())
        .env_remove("FULLMAKT_TEST_DATA")
        .output()
        .unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// A person token for `pid` from `admin test-token person` (the server must run with test data).
pub fn person_token(db: &TestDb, pid: &str) -> String {
    let (ok, out, err) = admin_cli(db, &["test-token", "person", "--pid", pid]);
    assert!(ok, "test-token person --pid {pid}: {err}");
    out.trim().to_owned()
}

/// Runs SQL on the test database (to let time pass for a row, or remove a person).
pub async fn sql(db: &TestDb, statement: &str) {
    use sqlx::Executor;
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&db.url).await.unwrap();
    pool.execute(statement).await.unwrap();
    pool.close().await;
}
