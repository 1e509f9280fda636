//! Client-delegation benchmarks (issue 6, "Benchmark"). A program that prints figures, not a test.
//!
//!   clients-bench [--database-url URL] [--clients N] [--decisions N] [--listings N]
//!
//! One run seeds, on a fresh database, an accounting firm with `--clients` client companies
//! (each registered the firm as its accountant, REGN, through the register's bulk import), its
//! managing director (the client administrator), an agent system user approved from a vendor's
//! agent request with `regnskapsforer-lonn`, and a resource whose policy names that package.
//! Then, through the same service calls the portal and the API handlers make:
//!
//! 1. listing the firm's customers (the whole list, and the list filtered by the agent's
//!    packages that the manage-clients page shows);
//! 2. adding every client to the agent, one at a time, each its own transaction (the portal's
//!    "add all" does exactly this);
//! 3. PDP decisions for the agent on random clients, against the peer in the same run: decisions
//!    for a standard system user that one customer granted the same kind of package directly;
//! 4. listing the delegated clients.
//!
//! The measuring loop is one task on the server's own runtime: the figures are per core.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use fullmakt_domain::system_register::RegisterSystemRequest;
use fullmakt_domain::{Catalogue, OrganisationNumber, SyntheticNumbers};
use fullmakt_service::access_management::{ensure_platform_resources, AccessManagement};
use fullmakt_service::admin::Caller;
use fullmakt_service::decision_index::DecisionIndex;
use fullmakt_service::grants::{grant_package, Recipient};
use fullmakt_service::pdp::{Api, DecisionPoint};
use fullmakt_service::register::import::{import_file, ImportOptions};
use fullmakt_service::requests::{self, Approvals, NewRequest, RequestSettings, UserType, REQUEST_WRITE};
use fullmakt_service::resource_registry::{altinn_policy, create_resource, store_policy, Writer};
use fullmakt_service::system_register::{create_system, Actor};
use fullmakt_store::{PartyKey, PartyRow, Store};
use serde_json::json;

const VENDOR: &str = "314240979";
const FIRM: &str = "310000035";
const MANAGER: &str = "01010012356";
const CLIENT_RESOURCE: &str = "bench-klient-lonn";
const PAYROLL: &str = "bench-lonn";
const AGENT_SYSTEM: &str = "314240979_bench_agent";

#[derive(Parser)]
#[command(about = "fullmakt client-delegation benchmarks: customer lists, adding all clients, agent decisions")]
struct Cli {
    /// A fresh database (default: SQLite in a temporary directory). PostgreSQL: an empty database.
    #[arg(long)]
    database_url: Option<String>,
    #[arg(long, default_value_t = 10_000)]
    clients: usize,
    #[arg(long, default_value_t = 50_000)]
    decisions: usize,
    #[arg(long, default_value_t = 20)]
    listings: usize,
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn row(name: &str, mut latencies: Vec<Duration>, elapsed: Duration) {
    latencies.sort();
    let n = latencies.len();
    println!(
        "| {name} | {n} | {:.1}/s | {:.3} | {:.3} | {:.3} |",
        n as f64 / elapsed.as_secs_f64(),
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.9),
        percentile(&latencies, 0.99)
    );
}

/// Organisation numbers with a valid MOD11 check digit, from the eight-digit base `start` upwards.
fn org_numbers(start: u32, n: usize) -> Vec<String> {
    const WEIGHTS: [u32; 8] = [3, 2, 7, 6, 5, 4, 3, 2];
    let mut out = Vec::with_capacity(n);
    let mut base = start;
    while out.len() < n {
        let digits: Vec<u32> = base.to_string().bytes().map(|b| u32::from(b - b'0')).collect();
        let check = 11 - digits.iter().zip(WEIGHTS).map(|(d, w)| d * w).sum::<u32>() % 11;
        base += 1;
        match check {
            10 => continue,
            11 => out.push(format!("{}0", base - 1)),
            c => out.push(format!("{}{c}", base - 1)),
        }
    }
    out
}

/// A tiny xorshift generator: random clients without a dependency.
struct Random(u64);

impl Random {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

async fn seed_register(store: &Store, dir: &Path, clients: &[String]) {
    use std::fmt::Write;
    let mut lines = String::new();
    for (orgno, name) in [(VENDOR, "Bench Vendor AS"), (FIRM, "Bench Regnskap AS")] {
        let _ = writeln!(lines, "{}", json!({"type": "organization", "orgNumber": orgno, "name": name, "unitType": "AS"}));
    }
    let _ = writeln!(lines, "{}", json!({"type": "person", "personIdentifier": MANAGER, "name": "Bench Manager"}));
    let _ = writeln!(lines, "{}", json!({"type": "role", "from": FIRM, "role": "DAGL", "toPerson": MANAGER}));
    for (i, orgno) in clients.iter().enumerate() {
        let _ = writeln!(lines, "{}", json!({"type": "organization", "orgNumber": orgno, "name": format!("Klient {i:05} AS"), "unitType": "AS"}));
        let _ = writeln!(lines, "{}", json!({"type": "role", "from": orgno, "role": "REGN", "toOrganization": FIRM}));
    }
    let path = dir.join("register.jsonl");
    std::fs::write(&path, lines).unwrap();
    import_file(store, &path, ImportOptions { synthetic: SyntheticNumbers::Refuse, ..Default::default() }).await.unwrap();
}

async fn seed_resource(store: &Store, id: &str, package: &str) {
    let document = json!({
        "identifier": id,
        "title": {"nb": id, "nn": id, "en": id},
        "description": {"nb": "d", "nn": "d", "en": "d"},
        "rightDescription": {"nb": "r", "nn": "r", "en": "r"},
        "contactPoints": [{"category": "Support", "email": "bench@example.com", "telephone": "", "contactPage": ""}],
        "hasCompetentAuthority": {"organization": "991825827", "orgcode": "digdir", "name": {"nb": "Digdir"}},
        "resourceType": "GenericAccessResource"
    });
    let document = fullmakt_domain::resource::ServiceResource::from_json(document.to_string().as_bytes()).unwrap();
    create_resource(store, Writer::Operator, &document).await.unwrap();
    store_policy(store, Writer::Operator, id, &altinn_policy(id, &[("urn:altinn:accesspackage", package)], &["read", "write"])).await.unwrap();
}

fn decision_request(system_user: &str, resource: &str, orgno: &str) -> fullmakt_xacml::Request {
    let request = json!({"Request": {
        "AccessSubject": [{"Attribute": [{"AttributeId": "urn:altinn:systemuser:uuid", "Value": system_user}]}],
        "Action": [{"Attribute": [{"AttributeId": "urn:oasis:names:tc:xacml:1.0:action:action-id", "Value": "read"}]}],
        "Resource": [{"Attribute": [
            {"AttributeId": "urn:altinn:resource", "Value": resource},
            {"AttributeId": "urn:altinn:organization:identifier-no", "Value": orgno}
        ]}]
    }});
    fullmakt_xacml::parse_request_json(&request.to_string()).unwrap()
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let cli = Cli::parse();
    let dir = tempfile::tempdir().unwrap();
    let url = cli.database_url.clone().unwrap_or_else(|| format!("sqlite://{}", dir.path().join("bench.db").display()));
    let store = Store::connect(&url).await.unwrap();
    let catalogue = Catalogue::embedded();
    let clients = org_numbers(32_000_000, cli.clients);

    let started = Instant::now();
    seed_register(&store, dir.path(), &clients).await;
    seed_resource(&store, CLIENT_RESOURCE, "regnskapsforer-lonn").await;
    seed_resource(&store, PAYROLL, "lonn").await;
    let system = json!({
        "id": AGENT_SYSTEM,
        "vendor": {"authority": "iso6523-actorid-upis", "ID": format!("0192:{VENDOR}")},
        "name": {"nb": "Bench Regnskap", "en": "Bench Accounting", "nn": "Bench Rekneskap"},
        "description": {"nb": "d", "en": "d", "nn": "d"},
        "accessPackages": [{"urn": "urn:altinn:accesspackage:regnskapsforer-lonn"}],
        "clientId": ["bench-agent-client"],
        "isVisible": false
    });
    create_system(&store, Actor::Operator, &RegisterSystemRequest::from_json(system.to_string().as_bytes()).unwrap()).await.unwrap();
    ensure_platform_resources(&store).await.unwrap();
    let index = Arc::new(DecisionIndex::load(store.clone(), catalogue).await.unwrap());
    let pdp = Arc::new(DecisionPoint::new(store.clone(), catalogue, index));
    let gates = AccessManagement::new(pdp.clone());
    let settings = RequestSettings::new("http://bench.test", 180);
    let approvals = Approvals { store: &store, catalogue, gates: &gates, settings: &settings };
    let find = |key: PartyKey<'static>| {
        let store = store.clone();
        async move { store.find_party(key).await.unwrap().unwrap() }
    };
    let firm: PartyRow = find(PartyKey::OrgNumber(FIRM)).await;
    let manager: PartyRow = find(PartyKey::PersonIdentifier(MANAGER)).await;
    let vendor = Caller { org: OrganisationNumber::parse(VENDOR).unwrap(), scopes: vec![REQUEST_WRITE.into()], client_id: "bench-agent-client".into() };
    let input = NewRequest {
        system_id: AGENT_SYSTEM.into(),
        party_org_no: FIRM.into(),
        access_packages: Some(vec![serde_json::from_value(json!({"urn": "urn:altinn:accesspackage:regnskapsforer-lonn"})).unwrap()]),
        ..Default::default()
    };
    let (request, _) = requests::create(&store, catalogue, &settings, &vendor, UserType::Agent, input).await.unwrap();
    approvals.approve(&manager, firm.party_id, UserType::Agent, &request.id).await.unwrap();
    let agent = request.id;
    // The peer: a standard system user holding `lonn` directly from one customer.
    let peer_owner: PartyRow = store.find_party(PartyKey::OrgNumber(&clients[0])).await.unwrap().unwrap();
    let peer = uuid::Uuid::new_v4().to_string();
    grant_package(&store, catalogue, &peer_owner, &Recipient::SystemUser(peer.clone()), "urn:altinn:accesspackage:lonn").await.unwrap();
    println!("database: {}", if url.starts_with("postgres") { "PostgreSQL" } else { "SQLite" });
    println!("seeded {} clients in {:.1} s", clients.len(), started.elapsed().as_secs_f64());
    println!();
    println!("| measurement | items | rate | p50 ms | p90 ms | p99 ms |");
    println!("|---|---|---|---|---|---|");

    // 1. Customer lists.
    for (name, filtered) in [("customer list, all clients", false), ("customer list, filtered by the agent's packages", true)] {
        let mut latencies = Vec::new();
        let began = Instant::now();
        for _ in 0..cli.listings {
            let t = Instant::now();
            let n = if filtered {
                approvals.available_clients(&manager, firm.party_id, &agent).await.unwrap().1.len()
            } else {
                approvals.customers(&manager, firm.party_id, &firm.party_uuid, &[]).await.unwrap().len()
            };
            assert_eq!(n, clients.len());
            latencies.push(t.elapsed());
        }
        row(name, latencies, began.elapsed());
    }

    // 2. Add all, one client per transaction, as the portal does.
    let customers = approvals.available_clients(&manager, firm.party_id, &agent).await.unwrap().1;
    let mut latencies = Vec::with_capacity(customers.len());
    let began = Instant::now();
    for c in &customers {
        let t = Instant::now();
        approvals.delegate_client(&manager, firm.party_id, &agent, &firm.party_uuid, &c.party.party_uuid).await.unwrap();
        latencies.push(t.elapsed());
    }
    let add_all = began.elapsed();
    row("add a client (each of all, in turn)", latencies, add_all);
    println!("| … adding all {} clients took {:.1} s | | | | | |", customers.len(), add_all.as_secs_f64());

    // 3. Decisions: the agent on random clients, the peer on its one party, alternating rounds.
    let mut random = Random(0x9E37_79B9_7F4A_7C15);
    let peer_request = decision_request(&peer, PAYROLL, &clients[0]);
    let agent_requests: Vec<_> = (0..1000).map(|_| decision_request(&agent, CLIENT_RESOURCE, &clients[random.below(clients.len())])).collect();
    for round in 1..=2 {
        for (name, is_agent) in [("PDP decision, agent for a random client", true), ("PDP decision, standard system user (peer)", false)] {
            let mut latencies = Vec::with_capacity(cli.decisions);
            let began = Instant::now();
            for i in 0..cli.decisions {
                let request = if is_agent { &agent_requests[i % agent_requests.len()] } else { &peer_request };
                let t = Instant::now();
                let now = fullmakt_xacml::DateTime::from_unix(fullmakt_service::clock::now(), 0);
                let outcome = pdp.decide(request, Api::Decision, now, false).await;
                assert_eq!(outcome[0].result.decision, fullmakt_xacml::Decision::Permit);
                latencies.push(t.elapsed());
            }
            row(&format!("{name}, round {round}"), latencies, began.elapsed());
        }
    }

    // 4. The delegated clients, as the manage-clients page lists them.
    let mut latencies = Vec::new();
    let began = Instant::now();
    for _ in 0..cli.listings {
        let t = Instant::now();
        let n = approvals.delegated_clients(&manager, firm.party_id, &firm.party_uuid, &agent).await.unwrap().len();
        assert_eq!(n, clients.len());
        latencies.push(t.elapsed());
    }
    row("delegated clients list", latencies, began.elapsed());
    store.close().await;
}
