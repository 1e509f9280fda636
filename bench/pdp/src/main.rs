//! PDP benchmark programs (issue 3, "Benchmarks"). Programs that print figures, not tests.
//!
//!   pdp-bench generate --database-url URL [--orgs N --system-users N --packages-per-user N]
//!   pdp-bench requests --database-url URL --count N --out FILE     (JSON lines for wrk)
//!   pdp-bench inproc   --database-url URL [--count N --rounds N]   (fullmakt vs Cedar)
//!
//! The dataset is deterministic: organisation i, system user j and their grants are derived
//! from the indices and a fixed seed, so `requests` and `inproc` can name real system users
//! and parties without reading them back, and a re-run on a new implementation (the in-memory
//! index) sees the very same data and request sequence.

use std::collections::HashMap;
use std::str::FromStr;
use std::time::Instant;

use clap::{Args, Parser, Subcommand};
use fullmakt_domain::catalogue::{Catalogue, Package};
use fullmakt_service::decision_index::DecisionIndex;
use fullmakt_service::pdp::{Api, DecisionPoint};
use std::sync::Arc;
use fullmakt_service::resource_registry::{self, Writer};
use fullmakt_store::Store;
use fullmakt_xacml::{parse_request_json, DateTime, Decision};
use sqlx::any::AnyPoolOptions;
use sqlx::Row;

#[derive(Parser)]
#[command(about = "fullmakt PDP benchmarks: dataset, requests, in-process decisions vs Cedar")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Writes the dataset into a fresh database (migrations run first).
    Generate(GenerateArgs),
    /// Writes the request sequence as JSON lines (one XACML JSON request per line) for wrk.
    Requests(RequestArgs),
    /// Decides the request sequence in-process with fullmakt and with Cedar, and compares.
    Inproc(InprocArgs),
}

/// The dataset's shape; every subcommand needs it to derive ids.
#[derive(Args, Clone, Copy)]
struct Shape {
    #[arg(long, default_value_t = 100_000)]
    orgs: u64,
    #[arg(long, default_value_t = 1_000_000)]
    system_users: u64,
    /// Packages each system user holds from its organisation (grants = system users × this).
    #[arg(long, default_value_t = 5)]
    packages_per_user: u64,
    /// Divides --orgs and --system-users (e.g. 100 for a quick 1/100 run).
    #[arg(long, default_value_t = 1)]
    scale: u64,
}

impl Shape {
    fn orgs(&self) -> u64 {
        (self.orgs / self.scale).max(1)
    }
    fn system_users(&self) -> u64 {
        (self.system_users / self.scale).max(1)
    }
}

#[derive(Args)]
struct GenerateArgs {
    #[arg(long)]
    database_url: String,
    #[command(flatten)]
    shape: Shape,
    /// Rows per multi-row INSERT statement.
    #[arg(long, default_value_t = 2_000)]
    batch: usize,
    /// Rows per transaction.
    #[arg(long, default_value_t = 500_000)]
    transaction: usize,
}

#[derive(Args)]
struct RequestArgs {
    #[command(flatten)]
    shape: Shape,
    #[arg(long, default_value_t = 100_000)]
    count: usize,
    #[arg(long)]
    out: std::path::PathBuf,
    #[arg(long, default_value_t = 7)]
    seed: u64,
}

#[derive(Args)]
struct InprocArgs {
    #[arg(long)]
    database_url: String,
    #[command(flatten)]
    shape: Shape,
    /// Requests per timed round (the same sequence for both engines).
    #[arg(long, default_value_t = 20_000)]
    count: usize,
    /// Timed rounds per engine (after one untimed warm-up round of --warmup requests).
    #[arg(long, default_value_t = 2)]
    rounds: usize,
    #[arg(long, default_value_t = 2_000)]
    warmup: usize,
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// After the rounds, repeat the core decisions for this many seconds and print
    /// "profile window" lines around it (for `perf record` on the decision path alone).
    #[arg(long, default_value_t = 0.0)]
    profile_core_seconds: f64,
    /// Decide each request as it lies in the array of 20,000 parsed requests, cold in the cache
    /// (the method before 2026-11-22). By default each request is read through untimed just
    /// before its decision, as the server decides a request it has just parsed.
    #[arg(long)]
    cold_requests: bool,
}

// ------------------------------------------------------------------------------------------
// Deterministic ids and choices.

const OWNER_ORG: &str = "991825827";
const RESOURCES: usize = 5;
/// Packages named by the resource policies (two per resource).
const POLICY_PACKAGES: usize = 2 * RESOURCES;
/// Of each system user's packages, this many come from the policy packages, the rest from the
/// other assignable packages: it sets the Permit share of the request mix (see `requests`).
const FROM_POLICY: u64 = 3;

fn org_party_id(i: u64) -> i64 {
    50_000_000 + i as i64
}
fn org_number(i: u64) -> String {
    // 9 digits, never a real organisation number range in use by the tests (3xxxxxxxx).
    format!("{}", 310_000_000 + i)
}
fn org_uuid(i: u64) -> String {
    uuid::Uuid::from_u128((0x0b0b_u128 << 112) | i as u128).to_string()
}
fn system_user(j: u64) -> String {
    uuid::Uuid::from_u128((0x5e5e_u128 << 112) | j as u128).to_string()
}
fn assignment_id(j: u64) -> String {
    uuid::Uuid::from_u128((0xa55a_u128 << 112) | j as u128).to_string()
}
/// The organisation that gave system user j its packages.
fn owner_of(j: u64, shape: &Shape) -> u64 {
    j % shape.orgs()
}

/// splitmix64: a small, fast, reproducible generator (no dependency needed for this).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The catalogue packages an organisation may assign, split into the ones the policies name
/// (also available to service owners) and the rest.
struct Packages {
    policy: Vec<&'static Package>,
    other: Vec<&'static Package>,
}

fn packages() -> Packages {
    let catalogue = Catalogue::embedded();
    let assignable: Vec<&Package> = catalogue.packages.iter().filter(|p| p.is_assignable && p.entity_type == "Organization").collect();
    let policy: Vec<&Package> = assignable.iter().copied().filter(|p| p.is_available_for_service_owners).take(POLICY_PACKAGES).collect();
    let other: Vec<&Package> = assignable.iter().copied().filter(|p| !policy.iter().any(|q| q.index == p.index)).collect();
    assert_eq!(policy.len(), POLICY_PACKAGES, "the catalogue has too few assignable organisation packages");
    Packages { policy, other }
}

/// The packages system user j holds from its organisation: FROM_POLICY distinct policy
/// packages and the rest distinct other packages.
fn packages_of(j: u64, shape: &Shape, p: &Packages) -> Vec<&'static Package> {
    let mut rng = Rng(j.wrapping_mul(0x2545_f491_4f6c_dd1d) ^ 0x1234);
    let mut out: Vec<&Package> = Vec::new();
    let from_policy = FROM_POLICY.min(shape.packages_per_user) as usize;
    while out.len() < from_policy {
        let c = p.policy[rng.below(p.policy.len() as u64) as usize];
        if !out.iter().any(|q| q.index == c.index) {
            out.push(c);
        }
    }
    while out.len() < shape.packages_per_user as usize {
        let c = p.other[rng.below(p.other.len() as u64) as usize];
        if !out.iter().any(|q| q.index == c.index) {
            out.push(c);
        }
    }
    out
}

fn resource_id(r: usize) -> String {
    format!("bench-pdp-{}", r + 1)
}

// ------------------------------------------------------------------------------------------
// generate

async fn generate(args: GenerateArgs) {
    let shape = args.shape;
    let p = packages();
    let started = Instant::now();
    // Store::connect creates the database and runs the migrations (and syncs the catalogue).
    let store = Store::connect(&args.database_url).await.expect("connect");
    create_resources(&store, &p).await;
    store.close().await;

    sqlx::any::install_default_drivers();
    let sqlite = args.database_url.starts_with("sqlite:");
    // One connection, so that the bulk-load PRAGMAs apply to every statement.
    let pool = AnyPoolOptions::new()
        .max_connections(1)
        .after_connect(move |conn, _| {
            Box::pin(async move {
                if sqlite {
                    use sqlx::Executor;
                    // Durability is not needed while loading: a crash means generating again.
                    conn.execute("PRAGMA synchronous = OFF").await?;
                    conn.execute("PRAGMA cache_size = -262144").await?; // 256 MiB
                }
                Ok(())
            })
        })
        .connect(&args.database_url)
        .await
        .expect("connect for the bulk load");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();

    let orgs = shape.orgs();
    let sus = shape.system_users();
    println!(
        "dataset: {orgs} organisations, {sus} system users, {} package grants ({} per system user); {} policy packages, {} other assignable",
        sus * shape.packages_per_user,
        shape.packages_per_user,
        p.policy.len(),
        p.other.len()
    );

    let t = Instant::now();
    bulk(&pool, "INSERT INTO parties (party_id, party_uuid, party_type, org_number, person_identifier, name, unit_type, main_unit_party_id, is_deleted, created, last_changed) VALUES ",
        orgs, args.batch, args.transaction, |i, sql| {
            use std::fmt::Write;
            let _ = write!(sql, "({}, '{}', 'organization', '{}', NULL, 'Bench org {i}', 'AS', NULL, 0, {now}, {now})", org_party_id(i), org_uuid(i), org_number(i));
            1
        }).await;
    report("parties", orgs, t);

    let t = Instant::now();
    bulk(&pool, "INSERT INTO assignments (id, from_party_id, to_uuid, to_kind, role_code, created) VALUES ", sus, args.batch, args.transaction, |j, sql| {
        use std::fmt::Write;
        let _ = write!(sql, "('{}', {}, '{}', 'systemuser', 'rettighetshaver', {now})", assignment_id(j), org_party_id(owner_of(j, &shape)), system_user(j));
        1
    })
    .await;
    report("assignments", sus, t);

    let t = Instant::now();
    let per = shape.packages_per_user as usize;
    // One "item" is one system user's packages (per rows), so batches hold batch/per items.
    bulk(&pool, "INSERT INTO assignment_packages (assignment_id, package_id, created) VALUES ", sus, (args.batch / per).max(1), (args.transaction / per).max(1), |j, sql| {
        use std::fmt::Write;
        let id = assignment_id(j);
        for (k, pkg) in packages_of(j, &shape, &p).iter().enumerate() {
            if k > 0 {
                sql.push_str(", ");
            }
            let _ = write!(sql, "('{id}', '{}', {now})", pkg.id);
        }
        per
    })
    .await;
    report("assignment_packages", sus * shape.packages_per_user, t);

    // Every committed write bumps the change sequence; the bulk load is one write, and like
    // any bulk import it logs a rebuild ('all') for nodes keeping the decision index, so a
    // server already running on this database rebuilds instead of missing the rows.
    let mut tx = pool.begin().await.expect("begin");
    sqlx::query("UPDATE change_sequence SET value = value + 1 WHERE id = 1").execute(&mut *tx).await.expect("bump change_sequence");
    sqlx::query("INSERT INTO index_changes (sequence, kind, party_id, other) SELECT value, 'all', 0, '' FROM change_sequence WHERE id = 1")
        .execute(&mut *tx)
        .await
        .expect("log the rebuild");
    tx.commit().await.expect("commit");
    if sqlite {
        let t = Instant::now();
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&pool).await.expect("checkpoint");
        sqlx::query("ANALYZE").execute(&pool).await.expect("analyze");
        println!("checkpoint + ANALYZE: {:.1} s", t.elapsed().as_secs_f64());
    }
    pool.close().await;
    println!("generated in {:.1} s", started.elapsed().as_secs_f64());
}

fn report(table: &str, rows: u64, t: Instant) {
    let s = t.elapsed().as_secs_f64();
    println!("{table:<20} {rows:>10} rows in {s:>7.1} s = {:>9.0} rows/s", rows as f64 / s);
}

/// Inserts `items` items with multi-row INSERTs of `batch` items, committing every
/// `transaction` items. `row` appends one item's VALUES tuple(s) and returns its row count.
/// The values are generated here (digits, uuids, catalogue ids), never user input, so they are
/// written as literals: binding 6 × 2,000 parameters per statement costs more than it saves.
async fn bulk(pool: &sqlx::AnyPool, head: &str, items: u64, batch: usize, transaction: usize, row: impl Fn(u64, &mut String) -> usize) {
    let mut tx = pool.begin().await.expect("begin");
    let mut in_tx = 0usize;
    let mut sql = String::with_capacity(batch * 160);
    let mut n = 0usize;
    for i in 0..items {
        if n == 0 {
            sql.clear();
            sql.push_str(head);
        } else {
            sql.push_str(", ");
        }
        row(i, &mut sql);
        n += 1;
        if n == batch || i + 1 == items {
            sqlx::raw_sql(&sql).execute(&mut *tx).await.expect("insert");
            in_tx += n;
            n = 0;
            if in_tx >= transaction {
                tx.commit().await.expect("commit");
                tx = pool.begin().await.expect("begin");
                in_tx = 0;
            }
        }
    }
    tx.commit().await.expect("commit");
}

/// The XACML policy of resource r: Altinn's shape, naming two of the policy packages.
fn policy_xml(r: usize, p: &Packages) -> String {
    let (a, b) = (&p.policy[2 * r].code, &p.policy[2 * r + 1].code);
    resource_registry::altinn_policy(&resource_id(r), &[("urn:altinn:accesspackage", a), ("urn:altinn:accesspackage", b)], &["read", "write"])
}

async fn create_resources(store: &Store, p: &Packages) {
    for r in 0..RESOURCES {
        let id = resource_id(r);
        let body = serde_json::json!({
            "identifier": id,
            "title": {"nb": "Benchmark", "nn": "Benchmark", "en": "Benchmark"},
            "description": {"nb": "PDP-benchmark", "nn": "PDP-benchmark", "en": "PDP benchmark"},
            "rightDescription": {"nb": "Får bruke", "nn": "Får bruke", "en": "May use"},
            "contactPoints": [{"category": "Support", "email": "support@example.com", "telephone": "", "contactPage": ""}],
            "hasCompetentAuthority": {"organization": OWNER_ORG, "orgcode": "digdir", "name": {"nb": "Digdir"}},
            "resourceType": "GenericAccessResource"
        });
        let resource = serde_json::from_value(body).expect("resource JSON");
        resource_registry::create_resource(store, Writer::Operator, &resource).await.expect("create_resource");
        resource_registry::store_policy(store, Writer::Operator, &id, &policy_xml(r, p)).await.expect("store_policy");
        println!("resource {id}: packages {} and {}, actions read and write", p.policy[2 * r].code, p.policy[2 * r + 1].code);
    }
}

// ------------------------------------------------------------------------------------------
// The request sequence: the same for the in-process run and for wrk.

struct Ask {
    system_user: String,
    org_number: String,
    resource: usize,
    action: &'static str,
}

/// 80 % ask about the system user's own organisation (a grant exists; Permit when a held
/// package is one the resource names and the action is read or write), 20 % about another
/// organisation (never a grant: NotApplicable). Actions: read 45 %, write 35 %, sign 20 %.
fn asks(shape: &Shape, count: usize, seed: u64) -> Vec<Ask> {
    let mut rng = Rng(seed);
    (0..count)
        .map(|_| {
            let j = rng.below(shape.system_users());
            let org = if rng.below(100) < 80 { owner_of(j, shape) } else { rng.below(shape.orgs()) };
            let a = rng.below(100);
            Ask {
                system_user: system_user(j),
                org_number: org_number(org),
                resource: rng.below(RESOURCES as u64) as usize,
                action: if a < 45 { "read" } else if a < 80 { "write" } else { "sign" },
            }
        })
        .collect()
}

fn request_json(a: &Ask) -> String {
    serde_json::json!({"Request": {
        "AccessSubject": [{"Attribute": [{"AttributeId": "urn:altinn:systemuser:uuid", "Value": a.system_user}]}],
        "Action": [{"Attribute": [{"AttributeId": "urn:oasis:names:tc:xacml:1.0:action:action-id", "Value": a.action,
            "DataType": "http://www.w3.org/2001/XMLSchema#string"}]}],
        "Resource": [{"Attribute": [{"AttributeId": "urn:altinn:resource", "Value": resource_id(a.resource)},
            {"AttributeId": "urn:altinn:organization:identifier-no", "Value": a.org_number}]}]
    }})
    .to_string()
}

fn write_requests(args: RequestArgs) {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::fs::File::create(&args.out).expect("create --out"));
    for a in asks(&args.shape, args.count, args.seed) {
        writeln!(out, "{}", request_json(&a)).expect("write");
    }
    out.flush().expect("flush");
    println!("wrote {} requests to {}", args.count, args.out.display());
}

// ------------------------------------------------------------------------------------------
// inproc

struct Latencies {
    ns: Vec<u64>,
}

impl Latencies {
    fn pct(&self, p: f64) -> f64 {
        let mut v = self.ns.clone();
        v.sort_unstable();
        let i = ((p / 100.0) * (v.len() - 1) as f64).round() as usize;
        v[i] as f64 / 1000.0
    }
    /// Decisions per second of time spent deciding (the timed calls only: with
    /// `--cold-requests` off, each request is parsed between two of them).
    fn rate(&self) -> f64 {
        self.ns.len() as f64 / (self.ns.iter().sum::<u64>() as f64 / 1e9)
    }
    fn line(&self, name: &str, round: usize) -> String {
        format!(
            "{name:<9} round {round}: {:>10.0} decisions/s   p50 {:>9.2} µs   p99 {:>9.2} µs   max {:>9.1} µs   (load {})",
            self.rate(),
            self.pct(50.0),
            self.pct(99.0),
            self.pct(100.0),
            loadavg()
        )
    }
}

/// A line of /proc/self/status in MiB (VmRSS now, VmHWM peak).
fn rss_mib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(field)).and_then(|l| l.split_whitespace().nth(1)).and_then(|k| k.parse::<u64>().ok()))
        .map(|kb| kb / 1024)
        .unwrap_or(0)
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg").map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" ")).unwrap_or_default()
}

/// Cedar on the same data. anchors.md §2.8: few policies per resource and delegations as data
/// looked up by key. So: one policy per resource naming its packages, and the packages a system
/// user holds for the asked party looked up in a hash map keyed by (system user, party) and
/// attached to the principal entity — the work fullmakt's PIP does, done in memory.
struct CedarSide {
    authorizer: cedar_policy::Authorizer,
    policies: cedar_policy::PolicySet,
    /// (system user uuid as u128, party id) → package codes (indices into `codes`).
    grants: HashMap<(u128, i64), Vec<u16>>,
    org_party: HashMap<String, i64>,
    codes: Vec<String>,
    su_type: cedar_policy::EntityTypeName,
    resources: Vec<cedar_policy::EntityUid>,
    actions: HashMap<&'static str, cedar_policy::EntityUid>,
}

impl CedarSide {
    async fn load(url: &str, p: &Packages) -> CedarSide {
        let t = Instant::now();
        let pool = AnyPoolOptions::new().max_connections(1).connect(url).await.expect("connect");
        let catalogue = Catalogue::embedded();
        let codes: Vec<String> = catalogue.packages.iter().map(|p| p.code.to_lowercase()).collect();
        let mut org_party = HashMap::new();
        for row in sqlx::query("SELECT org_number, party_id FROM parties WHERE party_type = 'organization'").fetch_all(&pool).await.expect("parties") {
            let orgno: String = row.get(0);
            let id: i64 = row.get::<i64, _>(1);
            org_party.insert(orgno, id);
        }
        let mut grants: HashMap<(u128, i64), Vec<u16>> = HashMap::new();
        let rows = sqlx::query(
            "SELECT a.to_uuid, a.from_party_id, ap.package_id FROM assignments a JOIN assignment_packages ap ON ap.assignment_id = a.id \
             WHERE a.to_kind = 'systemuser' AND a.role_code = 'rettighetshaver'",
        )
        .fetch_all(&pool)
        .await
        .expect("grants");
        let n = rows.len();
        for row in rows {
            let su: String = row.get(0);
            let party: i64 = row.get(1);
            let pkg: String = row.get(2);
            let Some(pkg) = catalogue.package_by_id(&pkg) else { continue };
            let su = uuid::Uuid::parse_str(&su).expect("uuid").as_u128();
            grants.entry((su, party)).or_default().push(pkg.index.0);
        }
        pool.close().await;
        let mut src = String::new();
        for r in 0..RESOURCES {
            src.push_str(&format!(
                "permit(principal is SystemUser, action in [Action::\"read\", Action::\"write\"], resource == Resource::\"{}\") when {{ principal.packages.containsAny([\"{}\", \"{}\"]) }};\n",
                resource_id(r),
                p.policy[2 * r].code.to_lowercase(),
                p.policy[2 * r + 1].code.to_lowercase()
            ));
        }
        let policies = cedar_policy::PolicySet::from_str(&src).expect("cedar policies");
        let uid = |t: &str, id: &str| cedar_policy::EntityUid::from_type_name_and_id(cedar_policy::EntityTypeName::from_str(t).unwrap(), cedar_policy::EntityId::new(id));
        let resources = (0..RESOURCES).map(|r| uid("Resource", &resource_id(r))).collect();
        let actions = ["read", "write", "sign"].into_iter().map(|a| (a, uid("Action", a))).collect();
        println!("cedar: loaded {n} grant rows for {} (system user, party) keys and {} organisations in {:.1} s", grants.len(), org_party.len(), t.elapsed().as_secs_f64());
        CedarSide {
            authorizer: cedar_policy::Authorizer::new(),
            policies,
            grants,
            org_party,
            codes,
            su_type: cedar_policy::EntityTypeName::from_str("SystemUser").unwrap(),
            resources,
            actions,
        }
    }

    /// One decision, from the request's strings to the answer: parse the uuid, find the party,
    /// look up the grants, build the principal entity and the request, authorize.
    fn decide(&self, a: &Ask) -> bool {
        use cedar_policy::{Context, Entities, Entity, EntityId, EntityUid, Request, RestrictedExpression};
        let Ok(su) = uuid::Uuid::parse_str(&a.system_user) else { return false };
        let party = self.org_party.get(&a.org_number).copied().unwrap_or(-1);
        let held: &[u16] = self.grants.get(&(su.as_u128(), party)).map(|v| v.as_slice()).unwrap_or(&[]);
        let principal = EntityUid::from_type_name_and_id(self.su_type.clone(), EntityId::new(&a.system_user));
        let packages = RestrictedExpression::new_set(held.iter().map(|i| RestrictedExpression::new_string(self.codes[*i as usize].clone())));
        let entity = Entity::new(principal.clone(), [("packages".to_string(), packages)].into_iter().collect(), Default::default()).expect("entity");
        let entities = Entities::from_entities([entity], None).expect("entities");
        let request = Request::new(principal, self.actions[a.action].clone(), self.resources[a.resource].clone(), Context::empty(), None).expect("request");
        self.authorizer.is_authorized(&request, &self.policies, &entities).decision() == cedar_policy::Decision::Allow
    }
}

async fn inproc(args: InprocArgs) {
    let p = packages();
    let shape = args.shape;
    println!("machine load before start: {}", loadavg());
    let asks_all = asks(&shape, args.warmup + args.count, args.seed);
    let (warm, timed) = asks_all.split_at(args.warmup);
    // JSON parsing is not part of the in-process figure (the HTTP run has it): requests are
    // parsed once here and decided from the parsed form.
    let rendered: Vec<String> = asks_all.iter().map(request_json).collect();
    let (warm_json, timed_json) = rendered.split_at(args.warmup);
    let timed_req = Requests::new(timed_json, args.cold_requests);

    let t = Instant::now();
    let store = Store::connect(&args.database_url).await.expect("connect");
    let connected = t.elapsed().as_secs_f64();
    // The in-memory decision index (what `fullmakt serve` builds at start): its build time is
    // the "time to a ready index" of issue 3 (c).
    let index = DecisionIndex::load(store.clone(), Catalogue::embedded()).await.expect("decision index");
    let indexed = t.elapsed().as_secs_f64();
    let dp = DecisionPoint::new(store.clone(), Catalogue::embedded(), Arc::new(index));
    let now = DateTime::from_unix(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64, 0);
    let first = dp.decide(&parse(&timed_json[0]), Api::Authorize, now, false).await;
    println!(
        "fullmakt: connect {connected:.3} s, index built at {indexed:.3} s, first decision at {:.3} s ({:?}); RSS {} MiB",
        t.elapsed().as_secs_f64(),
        first[0].result.decision,
        rss_mib("VmRSS")
    );

    let cedar = CedarSide::load(&args.database_url, &p).await;
    println!("RSS with fullmakt's index and Cedar's grants loaded: {} MiB", rss_mib("VmRSS"));

    // Warm-up: SQLite page cache, the policy cache, Cedar's allocator state.
    for r in warm_json {
        dp.decide(&parse(r), Api::Authorize, now, false).await;
    }
    for a in warm {
        cedar.decide(a);
    }

    let mut fm_answers = Vec::new();
    let mut cedar_answers = Vec::new();
    let mut fm_rounds = Vec::new();
    let mut core_rounds: Vec<Latencies> = Vec::new();
    let mut cedar_rounds = Vec::new();
    for round in 1..=args.rounds {
        // fullmakt: `decide` may await sqlx (before the index: every lookup; with it: the
        // change-sequence read), whose SQLite connections run on sqlx's worker threads; this
        // loop itself is one thread on a current-thread runtime.
        for r in warm_json {
            dp.decide(&parse(r), Api::Authorize, now, false).await;
        }
        let mut ns = Vec::with_capacity(timed_json.len());
        let mut answers = Vec::with_capacity(timed_json.len());
        for i in 0..timed_json.len() {
            let r = timed_req.get(i);
            let t = Instant::now();
            let out = dp.decide(r, Api::Authorize, now, false).await;
            ns.push(t.elapsed().as_nanos() as u64);
            answers.push(out[0].result.decision);
        }
        let l = Latencies { ns };
        println!("{}", l.line("fullmakt", round));
        fm_rounds.push(l);
        fm_answers = answers;

        // The decision itself, apart from the freshness read: under load, one change-sequence
        // read serves every request waiting for it, so here it is taken once per round.
        let sequence = dp.index().fresh().await.expect("fresh");
        let mut ns = Vec::with_capacity(timed_json.len());
        for (i, expected) in fm_answers.iter().enumerate() {
            let r = timed_req.get(i);
            let t = Instant::now();
            let out = dp.decide_under(r, Api::Authorize, now, false, sequence).await;
            ns.push(t.elapsed().as_nanos() as u64);
            assert_eq!(out[0].result.decision, *expected, "the same decision with and without the freshness read");
        }
        let l = Latencies { ns };
        println!("{}", l.line("fm-core", round));
        core_rounds.push(l);

        // Each engine's timed loop starts warm: the other engine's loop just ran.
        for a in warm {
            cedar.decide(a);
        }
        let mut ns = Vec::with_capacity(timed.len());
        let mut answers = Vec::with_capacity(timed.len());
        for a in timed {
            let t = Instant::now();
            let allow = cedar.decide(a);
            ns.push(t.elapsed().as_nanos() as u64);
            answers.push(allow);
        }
        let l = Latencies { ns };
        println!("{}", l.line("cedar", round));
        cedar_rounds.push(l);
        cedar_answers = answers;
    }

    if args.profile_core_seconds > 0.0 {
        let sequence = dp.index().fresh().await.expect("fresh");
        println!("profile window: start (pid {})", std::process::id());
        let until = Instant::now() + std::time::Duration::from_secs_f64(args.profile_core_seconds);
        let mut n = 0u64;
        while Instant::now() < until {
            for i in 0..timed_json.len() {
                std::hint::black_box(dp.decide_under(timed_req.get(i), Api::Authorize, now, false, sequence).await);
            }
            n += timed_json.len() as u64;
        }
        println!("profile window: end, {n} decisions, {:.0} decisions/s", n as f64 / args.profile_core_seconds);
    }

    let permits = fm_answers.iter().filter(|d| **d == Decision::Permit).count();
    let not_applicable = fm_answers.iter().filter(|d| **d == Decision::NotApplicable).count();
    let other = fm_answers.len() - permits - not_applicable;
    let agree = fm_answers
        .iter()
        .zip(&cedar_answers)
        .filter(|(f, c)| match f {
            Decision::Permit => **c,
            Decision::NotApplicable => !**c,
            _ => false,
        })
        .count();
    println!("mix: {permits} Permit, {not_applicable} NotApplicable, {other} other (of {})", fm_answers.len());
    println!("agreement: {agree} of {} decisions{}", fm_answers.len(), if agree == fm_answers.len() { "" } else { "  !!! DISAGREEMENT" });
    let best = |v: &[Latencies]| v.iter().map(|l| l.rate()).fold(0.0, f64::max);
    let worst = |v: &[Latencies]| v.iter().map(|l| l.rate()).fold(f64::MAX, f64::min);
    println!(
        "summary: fullmakt {:.0}–{:.0} decisions/s, p50 {:.2}–{:.2} µs, p99 {:.2}–{:.2} µs; cedar {:.0}–{:.0} decisions/s, p50 {:.2}–{:.2} µs, p99 {:.2}–{:.2} µs",
        worst(&fm_rounds), best(&fm_rounds),
        fm_rounds.iter().map(|l| l.pct(50.0)).fold(f64::MAX, f64::min), fm_rounds.iter().map(|l| l.pct(50.0)).fold(0.0, f64::max),
        fm_rounds.iter().map(|l| l.pct(99.0)).fold(f64::MAX, f64::min), fm_rounds.iter().map(|l| l.pct(99.0)).fold(0.0, f64::max),
        worst(&cedar_rounds), best(&cedar_rounds),
        cedar_rounds.iter().map(|l| l.pct(50.0)).fold(f64::MAX, f64::min), cedar_rounds.iter().map(|l| l.pct(50.0)).fold(0.0, f64::max),
        cedar_rounds.iter().map(|l| l.pct(99.0)).fold(f64::MAX, f64::min), cedar_rounds.iter().map(|l| l.pct(99.0)).fold(0.0, f64::max),
    );
    let fm: f64 = fm_rounds.iter().map(|l| l.rate()).sum::<f64>() / fm_rounds.len() as f64;
    let cd: f64 = cedar_rounds.iter().map(|l| l.rate()).sum::<f64>() / cedar_rounds.len() as f64;
    println!("ratio fullmakt / cedar decisions/s (mean of rounds): {:.4}x  (target >= 5x; p50 target <= 0.5 µs)", fm / cd);
    let core: f64 = core_rounds.iter().map(|l| l.rate()).sum::<f64>() / core_rounds.len() as f64;
    println!(
        "fm-core (one freshness read per round): {:.0} decisions/s, p50 {:.2} µs, p99 {:.2} µs; ratio to cedar {:.4}x",
        core,
        core_rounds.iter().map(|l| l.pct(50.0)).fold(f64::MAX, f64::min),
        core_rounds.iter().map(|l| l.pct(99.0)).fold(0.0, f64::max),
        core / cd
    );
    store.close().await;
}

fn parse(json: &str) -> fullmakt_xacml::Request {
    parse_request_json(json).expect("request parses")
}

/// The timed requests, parsed up front. Unless `cold`, each is read through (untimed) just
/// before it is handed out, so its decision meets it in the cache as the server's decision
/// meets the request it has just parsed. Parsing each on demand instead would leave the
/// allocator fragmented for Cedar's loop, which then ran 20–40 % slower.
struct Requests {
    parsed: Vec<fullmakt_xacml::Request>,
    cold: bool,
}

impl Requests {
    fn new(json: &[String], cold: bool) -> Self {
        Self { parsed: json.iter().map(|j| parse(j)).collect(), cold }
    }

    fn get(&self, i: usize) -> &fullmakt_xacml::Request {
        let r = &self.parsed[i];
        if !self.cold {
            let mut sum = 0u64;
            for c in &r.categories {
                sum += c.category.bytes().map(u64::from).sum::<u64>();
                for a in &c.attributes {
                    sum += a.attribute_id.bytes().map(u64::from).sum::<u64>();
                    for v in &a.values {
                        sum += v.lexical().bytes().map(u64::from).sum::<u64>();
                    }
                }
            }
            std::hint::black_box(sum);
        }
        r
    }
}

/// The server's allocator, so both engines here allocate as they would in `fullmakt serve`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let cli = Cli::parse();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    match cli.command {
        Command::Generate(a) => rt.block_on(generate(a)),
        Command::Requests(a) => write_requests(a),
        Command::Inproc(a) => rt.block_on(inproc(a)),
    }
}
