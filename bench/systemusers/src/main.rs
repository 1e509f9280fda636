//! System-user benchmarks (issue 4, "Benchmark"). A program that prints figures, not a test.
//!
//!   su-bench [--database-url URL] [--requests N] [--concurrency C] [--system-users N]
//!            [--pages N] [--tokens N]
//!
//! One run starts the real server (`fullmakt::serve::start_with`, the code `fullmakt serve`
//! runs) on a loopback port over a fresh database, seeds a vendor, a customer with its managing
//! director, a resource and a system, and then measures over HTTP:
//!
//! 1. requests created and approved per second: each of N items is `POST …/request/vendor`
//!    (the vendor) then `POST …/request/{party}/{id}/approve` (the managing director), C at a time;
//! 2. `GET …/systemuser/vendor/bysystem/{systemId}` page latency with `--system-users` system
//!    users on that one system (written straight into the table), at the first page and at
//!    random page tokens;
//! 3. system-user token issuance against plain token issuance in the same run: N pre-signed
//!    grants of each kind, C at a time, alternating plain / system-user twice.
//!
//! The client runs in the same process as the server (both share the machine's cores), so the
//! figures are a floor for the server alone; BENCHMARKS.md says so next to them.

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use clap::Parser;
use fullmakt::config::StoreArgs;
use fullmakt::serve::ServeOptions;
use fullmakt_domain::system_register::RegisterSystemRequest;
use fullmakt_domain::{OrganisationNumber, SyntheticNumbers};
use fullmakt_jose::{RsaKeySize, SigningKey};
use fullmakt_service::admin::{clients, scopes, ClientInput, ScopeInput};
use fullmakt_service::register::{add_organisation, add_person, add_role, NewOrganisation, NewPerson, NewRole, RoleHolder};
use fullmakt_service::resource_registry::{altinn_policy, create_resource, store_policy, Writer};
use fullmakt_service::system_register::{create_system, Actor};
use serde_json::{json, Value};
use tokio::net::TcpListener;

const DIGDIR: &str = "991825827";
const VENDOR: &str = "314240979";
const CUSTOMER: &str = "310000019";
const MANAGER: &str = "01010012356";
const RESOURCE: &str = "bench-lonn";
const SYSTEM: &str = "314240979_bench";
const PACKAGE: &str = "urn:altinn:accesspackage:lonn";
const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const SCOPES: [&str; 4] = [
    "altinn:authentication/systemregister.write",
    "altinn:authentication/systemuser.request.read",
    "altinn:authentication/systemuser.request.write",
    "altinn:instances.read",
];

#[derive(Parser)]
#[command(about = "fullmakt system-user benchmarks: requests+approvals, bysystem pages, system-user tokens")]
struct Cli {
    /// A fresh database (default: SQLite in a temporary directory). PostgreSQL: an empty database.
    #[arg(long)]
    database_url: Option<String>,
    #[arg(long, default_value_t = 2000)]
    requests: usize,
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    #[arg(long, default_value_t = 1_000_000)]
    system_users: usize,
    #[arg(long, default_value_t = 200)]
    pages: usize,
    #[arg(long, default_value_t = 2000)]
    tokens: usize,
}

struct Bench {
    http: reqwest::Client,
    base: String,
    issuer: String,
    client_id: String,
    key: SigningKey,
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn summary(name: &str, mut latencies: Vec<Duration>, elapsed: Duration, items: usize) -> String {
    latencies.sort();
    format!(
        "| {name} | {items} | {:.0}/s | {:.2} | {:.2} | {:.2} |",
        items as f64 / elapsed.as_secs_f64(),
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.9),
        percentile(&latencies, 0.99)
    )
}

impl Bench {
    fn grant(&self, scope: &str, details: Option<Value>) -> String {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
        let mut claims = json!({"aud": self.issuer, "iss": self.client_id, "scope": scope, "iat": now, "exp": now + 170,
            "jti": uuid::Uuid::new_v4().to_string()});
        if let Some(d) = details {
            claims["authorization_details"] = d;
        }
        let header = json!({"alg": "RS256", "kid": self.key.kid()});
        self.key.sign_compact(header.to_string().as_bytes(), claims.to_string().as_bytes()).unwrap()
    }

    async fn token(&self, grant: &str) -> (u16, Value) {
        let res = self.http.post(format!("{}/token", self.base)).form(&[("grant_type", GRANT_TYPE), ("assertion", grant)]).send().await.unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    async fn call(&self, method: reqwest::Method, path: &str, token: &str, body: Option<&Value>) -> (u16, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.base)).bearer_auth(token);
        if let Some(b) = body {
            req = req.json(b);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }
}

/// Runs `work(i)` for i in 0..n, `concurrency` at a time; returns each item's latency and the
/// wall time.
async fn run<F, Fut>(n: usize, concurrency: usize, work: F) -> (Vec<Duration>, Duration)
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let work = Arc::new(work);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (work, next) = (work.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= n {
                    break;
                }
                let t = Instant::now();
                work(i).await;
                latencies.push(t.elapsed());
            }
            latencies
        }));
    }
    let mut all = Vec::with_capacity(n);
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    (all, started.elapsed())
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let dir = tempfile::tempdir().unwrap();
    let url = cli.database_url.clone().unwrap_or_else(|| format!("sqlite://{}", dir.path().join("bench.db").display()));
    let args = StoreArgs { database_url: url.clone(), key_file: dir.path().join("bench.key"), signing_key_bits: 2048 };
    let (store, ring) = args.open().await.unwrap();

    // The world: Digdir's scopes, the vendor's client, the customer and its managing director,
    // a resource whose policy names `lonn`, and the vendor's system.
    let digdir = OrganisationNumber::parse(DIGDIR).unwrap();
    for s in SCOPES {
        scopes::create_scope(&store, digdir, &ScopeInput { name: Some(s.into()), ..Default::default() }, true).await.unwrap();
        scopes::set_access(&store, s, VENDOR, true).await.unwrap();
    }
    let key = SigningKey::generate(RsaKeySize::Rsa2048).unwrap();
    let jwks = json!({"keys": [serde_json::to_value(key.public_jwk()).unwrap()]});
    let input = ClientInput { client_name: Some("bench".into()), scopes: Some(SCOPES.iter().map(|s| s.to_string()).collect()), ..Default::default() };
    let client = clients::create_client(&store, OrganisationNumber::parse(VENDOR).unwrap(), &input, Some(&jwks)).await.unwrap();
    for org in [DIGDIR, VENDOR, CUSTOMER] {
        let o = NewOrganisation { org_number: org.into(), name: org.into(), unit_type: Some("AS".into()), ..Default::default() };
        add_organisation(&store, &o).await.unwrap();
    }
    add_person(&store, &NewPerson { person_identifier: MANAGER.into(), name: "Manager".into(), ..Default::default() }, SyntheticNumbers::Refuse).await.unwrap();
    let role = NewRole { unit: CUSTOMER.into(), role: "daglig-leder".into(), holder: RoleHolder::Person(MANAGER.into()) };
    add_role(&store, &role, SyntheticNumbers::Refuse).await.unwrap();
    let resource = json!({"identifier": RESOURCE, "title": {"nb": "Lønn", "nn": "Løn", "en": "Payroll"},
        "description": {"nb": "d", "nn": "d", "en": "d"}, "rightDescription": {"nb": "r", "nn": "r", "en": "r"},
        "contactPoints": [{"category": "Support", "email": "a@example.com", "telephone": "", "contactPage": ""}],
        "hasCompetentAuthority": {"organization": DIGDIR, "orgcode": "digdir", "name": {"nb": "Digdir"}},
        "resourceType": "GenericAccessResource"});
    let resource = fullmakt_domain::resource::ServiceResource::from_json(resource.to_string().as_bytes()).unwrap();
    create_resource(&store, Writer::Operator, &resource).await.unwrap();
    store_policy(&store, Writer::Operator, RESOURCE, &altinn_policy(RESOURCE, &[("urn:altinn:accesspackage", "lonn")], &["read", "write"])).await.unwrap();
    let system = json!({"id": SYSTEM, "vendor": {"authority": "iso6523-actorid-upis", "ID": format!("0192:{VENDOR}")},
        "name": {"nb": "Bench", "en": "Bench", "nn": "Bench"}, "description": {"nb": "d", "en": "d", "nn": "d"},
        "rights": [{"resource": [{"id": "urn:altinn:resource", "value": RESOURCE}]}], "accessPackages": [{"urn": PACKAGE}],
        "clientId": [client.client_id], "isVisible": true});
    create_system(&store, Actor::Operator, &RegisterSystemRequest::from_json(system.to_string().as_bytes()).unwrap()).await.unwrap();

    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let options = ServeOptions { public_url: base.clone(), test_data: true, ..ServeOptions::default() };
    let server = fullmakt::serve::start_with(store.clone(), ring, listener, options).await.unwrap();
    let (minting_store, minting_ring) = args.open().await.unwrap();
    let manager = fullmakt::admin::mint_test_person_token(&minting_store, minting_ring, MANAGER, 3).await.unwrap();
    let party = store.find_party(fullmakt_store::PartyKey::OrgNumber(CUSTOMER)).await.unwrap().unwrap().party_id;
    let bench = Arc::new(Bench {
        http: reqwest::Client::builder().pool_max_idle_per_host(cli.concurrency * 2).build().unwrap(),
        base: base.clone(),
        issuer: format!("{base}/"),
        client_id: client.client_id.clone(),
        key,
    });
    let (status, body) = bench.token(&bench.grant(&SCOPES[..3].join(" "), None)).await;
    assert_eq!(status, 200, "{body}");
    let vendor = Arc::new(body["access_token"].as_str().unwrap().to_owned());
    let manager = Arc::new(manager);
    println!("su-bench on {} ({} cores), concurrency {}", if url.starts_with("postgres") { "PostgreSQL" } else { "SQLite" },
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1), cli.concurrency);
    println!();
    println!("| measurement | items | rate | p50 ms | p90 ms | p99 ms |");
    println!("|---|---|---|---|---|---|");

    // 1. Requests created and approved.
    let (b, v, m) = (bench.clone(), vendor.clone(), manager.clone());
    let create_latency = Arc::new(std::sync::Mutex::new(Vec::new()));
    let approve_latency = Arc::new(std::sync::Mutex::new(Vec::new()));
    let (cl, al) = (create_latency.clone(), approve_latency.clone());
    let (items, elapsed) = run(cli.requests, cli.concurrency, move |i| {
        let (b, v, m, cl, al) = (b.clone(), v.clone(), m.clone(), cl.clone(), al.clone());
        async move {
            let request = json!({"systemId": SYSTEM, "partyOrgNo": CUSTOMER, "externalRef": format!("req-{i}"),
                "rights": [{"resource": [{"id": "urn:altinn:resource", "value": RESOURCE}]}], "accessPackages": [{"urn": PACKAGE}]});
            let t = Instant::now();
            let (status, body) = b.call(reqwest::Method::POST, "/authentication/api/v1/systemuser/request/vendor", &v, Some(&request)).await;
            assert_eq!(status, 201, "{body}");
            cl.lock().unwrap().push(t.elapsed());
            let id = body["id"].as_str().unwrap();
            let t = Instant::now();
            let (status, body) = b.call(reqwest::Method::POST, &format!("/authentication/api/v1/systemuser/request/{party}/{id}/approve"), &m, None).await;
            assert_eq!(status, 200, "{body}");
            al.lock().unwrap().push(t.elapsed());
        }
    })
    .await;
    println!("{}", summary("request created + approved (both calls)", items, elapsed, cli.requests));
    println!("{}", summary("  of which POST request/vendor", std::mem::take(&mut *create_latency.lock().unwrap()), elapsed, cli.requests));
    println!("{}", summary("  of which POST …/approve", std::mem::take(&mut *approve_latency.lock().unwrap()), elapsed, cli.requests));

    // 3. Tokens: plain against system-user, pre-signed, alternating.
    let details = |i: usize| {
        json!([{"type": "urn:altinn:systemuser", "systemuser_org": {"authority": "iso6523-actorid-upis", "ID": format!("0192:{CUSTOMER}")},
            "externalRef": format!("req-{}", i % cli.requests.max(1))}])
    };
    for round in 0..2 {
        for kind in ["plain", "system user"] {
            let grants: Arc<Vec<String>> = Arc::new(
                (0..cli.tokens).map(|i| bench.grant("altinn:instances.read", (kind == "system user").then(|| details(i)))).collect(),
            );
            let b = bench.clone();
            let (latencies, elapsed) = run(cli.tokens, cli.concurrency, move |i| {
                let (b, grants) = (b.clone(), grants.clone());
                async move {
                    let (status, body) = b.token(&grants[i]).await;
                    assert_eq!(status, 200, "{body}");
                }
            })
            .await;
            println!("{}", summary(&format!("{kind} token (round {})", round + 1), latencies, elapsed, cli.tokens));
        }
    }

    // 2. bysystem pages with --system-users on one system.
    let owner = party;
    let started = Instant::now();
    write_system_users(&url, owner, cli.system_users).await;
    let write = started.elapsed();
    let (status, first) = bench.call(reqwest::Method::GET, &format!("/authentication/api/v1/systemuser/vendor/bysystem/{SYSTEM}"), &vendor, None).await;
    assert_eq!(status, 200, "{first}");
    let mut latencies = Vec::new();
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    let started = Instant::now();
    for n in 0..cli.pages {
        let path = if n == 0 {
            format!("/authentication/api/v1/systemuser/vendor/bysystem/{SYSTEM}")
        } else {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let i = (seed % cli.system_users.max(1) as u64) as i64;
            let cursor = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json!([i / 1000, format!("{i:012}")]).to_string());
            format!("/authentication/api/v1/systemuser/vendor/bysystem/{SYSTEM}?token={cursor}")
        };
        let t = Instant::now();
        let (status, page) = bench.call(reqwest::Method::GET, &path, &vendor, None).await;
        latencies.push(t.elapsed());
        assert_eq!(status, 200, "{page}");
        assert_eq!(page["data"].as_array().unwrap().len(), 50, "{path}");
    }
    println!("{}", summary(&format!("bysystem page of 50, {} system users on the system", cli.system_users + cli.requests), latencies, started.elapsed(), cli.pages));
    println!();
    println!("(writing the {} system users straight into the table took {:.1} s)", cli.system_users, write.as_secs_f64());
    server.stop().await;
}

/// `n` active system users of `owner` on the bench system, written with multi-row INSERTs in
/// transactions of 50 000 (ids `000000000000`…, list positions i / 1000, so positions tie and
/// the id orders within them, as in real data written many per change sequence).
async fn write_system_users(url: &str, owner: i64, n: usize) {
    use sqlx::Executor;
    sqlx::any::install_default_drivers();
    let pool = sqlx::any::AnyPoolOptions::new().max_connections(1).connect(url).await.unwrap();
    let base: i64 = sqlx::query_scalar("SELECT value FROM system_user_stream WHERE id = 1").fetch_one(&pool).await.unwrap();
    let mut i = 0;
    while i < n {
        let end = (i + 50_000).min(n);
        let mut tx = pool.begin().await.unwrap();
        let mut start = i;
        while start < end {
            let stop = (start + 500).min(end);
            let values: Vec<String> = (start..stop)
                .map(|k| {
                    format!(
                        "('{k:012}', '{SYSTEM}', 'bench', {owner}, '{CUSTOMER}', 'bulk-{k}', 'standard', '[]', 0, 1, 1, 'bench', 'bench', {}, {})",
                        base + 1 + k as i64,
                        k / 1000
                    )
                })
                .collect();
            tx.execute(
                format!(
                    "INSERT INTO system_users (id, system_id, integration_title, owner_party_id, owner_org_no, external_ref, user_type, \
                     access_packages, is_deleted, created, last_changed, created_by, changed_by, stream_position, list_position) VALUES {}",
                    values.join(", ")
                )
                .as_str(),
            )
            .await
            .unwrap();
            start = stop;
        }
        tx.commit().await.unwrap();
        i = end;
    }
    sqlx::query("UPDATE system_user_stream SET value = $1 WHERE id = 1").bind(base + n as i64).execute(&pool).await.unwrap();
    // What autovacuum would do soon after a bulk load: give the planner the table's statistics.
    if url.starts_with("postgres") {
        pool.execute("ANALYZE system_users").await.unwrap();
    }
    pool.close().await;
}
