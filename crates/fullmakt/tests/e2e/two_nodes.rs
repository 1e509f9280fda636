//! Two server processes over one database, as N stateless nodes would run: a grant used on
//! one node is refused on the other, and a revocation made by the CLI applies to both at once.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::harness::*;

struct Node {
    child: Child,
    base: String,
}

impl Node {
    /// `pinned`: run under `taskset -c 0`, so the node sees one CPU and takes its
    /// single-threaded runtime (when taskset is installed; otherwise unpinned).
    async fn start(db: &TestDb, pinned: bool) -> Self {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let base = format!("http://127.0.0.1:{port}");
        let taskset = pinned && Command::new("taskset").arg("--version").output().is_ok_and(|o| o.status.success());
        let mut command = if taskset {
            let mut c = Command::new("taskset");
            c.args(["-c", "0", env!("CARGO_BIN_EXE_fullmakt")]);
            c
        } else {
            Command::new(env!("CARGO_BIN_EXE_fullmakt"))
        };
        let child = command
            .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--public-url", "http://shared.test"])
            .env("FULLMAKT_DATABASE_URL", &db.url)
            .env("FULLMAKT_KEY_FILE", db.key_file())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let http = reqwest::Client::new();
        for _ in 0..200 {
            if http.get(format!("{base}/health")).send().await.is_ok_and(|r| r.status() == 200) {
                return Self { child, base };
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("node on {base} did not become healthy");
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `fullmakt admin ARGS` and reads its JSON, as an operator's script would.
fn cli(db: &TestDb, args: &[&str]) -> serde_json::Value {
    let (ok, stdout, stderr) = admin_cli(db, args);
    assert!(ok, "fullmakt admin {args:?}: {stderr}");
    serde_json::from_str(&stdout).unwrap()
}

#[tokio::test]
async fn replay_and_revocation_hold_across_two_server_processes() {
    for db in databases().await {
        eprintln!("store: {}", db.name);
        // Bootstrap with the CLI, exactly as an operator would.
        let scope = cli(&db, &["scope", "create", "--name", "shared:api", "--owner", OWNER_ORG]);
        assert_eq!(scope["name"], "shared:api");
        let granted = cli(&db, &["scope", "grant", "--scope", "shared:api", "--org", VENDOR_ORG]);
        assert_eq!(granted["state"], "APPROVED");
        let key = ClientKey::generate("node-key");
        let jwks_file = db.dir.path().join("jwks.json");
        std::fs::write(&jwks_file, key.jwks().to_string()).unwrap();
        let client = cli(&db, &["client", "create", "--org", VENDOR_ORG, "--name", "n", "--scope", "shared:api",
            "--jwks", jwks_file.to_str().unwrap()]);
        let client_id = client["client_id"].as_str().unwrap().to_owned();

        // Node a sees one CPU (single-threaded runtime), node b all of them.
        let (a, b) = (Node::start(&db, true).await, Node::start(&db, false).await);
        let http = reqwest::Client::new();
        let grant = |jti: &str| {
            let now = now();
            key.sign(
                &serde_json::json!({"alg": "RS256", "kid": "node-key"}),
                &serde_json::json!({"aud": "http://shared.test/", "iss": client_id, "scope": "shared:api",
                    "iat": now, "exp": now + 60, "jti": jti}),
            )
        };
        let g = grant(&unique_jti());
        let (status, body) = post_grant(&http, &a.base, &g).await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = post_grant(&http, &b.base, &g).await;
        assert_eq!(status, 400);
        assert_eq!(body["error"], "invalid_grant");
        assert!(body["error_description"].as_str().unwrap().starts_with("Grant is used before"));

        // Both nodes have served (and cached) this client; revoke and ask both again.
        assert_eq!(post_grant(&http, &b.base, &grant(&unique_jti())).await.0, 200);
        cli(&db, &["scope", "revoke", "--scope", "shared:api", "--org", VENDOR_ORG]);
        for node in [&a, &b] {
            let (status, body) = post_grant(&http, &node.base, &grant(&unique_jti())).await;
            assert_eq!(status, 403, "{body}");
            assert_eq!(body["error"], "forbidden");
        }
        // Key rotation by the CLI reaches both nodes' next tokens.
        let rotated = cli(&db, &["keys", "rotate"]);
        for node in [&a, &b] {
            cli(&db, &["scope", "grant", "--scope", "shared:api", "--org", VENDOR_ORG]);
            let (status, body) = post_grant(&http, &node.base, &grant(&unique_jti())).await;
            assert_eq!(status, 200, "{body}");
            let kid = decode_jwt_part(body["access_token"].as_str().unwrap(), 0)["kid"].clone();
            assert_eq!(kid, rotated["active_kid"]);
        }
    }
}

#[tokio::test]
async fn a_grant_revoked_by_the_cli_decides_the_next_decision_on_both_processes() {
    for db in databases().await {
        eprintln!("store: {}", db.name);
        let customer = "310702641";
        cli(&db, &["register", "add-org", "--orgno", OWNER_ORG, "--name", "Digdir"]);
        cli(&db, &["register", "add-org", "--orgno", customer, "--name", "Kunde AS", "--type", "AS"]);
        let resource_file = db.dir.path().join("resource.json");
        let policy_file = db.dir.path().join("policy.xml");
        std::fs::write(&resource_file, crate::resource_registry::resource("digdir-nodes").to_string()).unwrap();
        std::fs::write(&policy_file, altinn_policy("digdir-nodes", &[("urn:altinn:accesspackage", "lonn")], &["read"])).unwrap();
        cli(&db, &["resource", "create", "--file", resource_file.to_str().unwrap(), "--policy", policy_file.to_str().unwrap()]);
        let su = uuid::Uuid::new_v4().to_string();
        cli(&db, &["grant", "package", "--from", customer, "--to", &su, "--package", "lonn"]);

        let (a, b) = (Node::start(&db, true).await, Node::start(&db, false).await);
        let http = reqwest::Client::new();
        let request = serde_json::json!({"Request": {
            "AccessSubject": [{"Attribute": [{"AttributeId": "urn:altinn:systemuser:uuid", "Value": su}]}],
            "Action": [{"Attribute": [{"AttributeId": "urn:oasis:names:tc:xacml:1.0:action:action-id", "Value": "read"}]}],
            "Resource": [{"Attribute": [{"AttributeId": "urn:altinn:resource", "Value": "digdir-nodes"},
                {"AttributeId": "urn:altinn:organization:identifier-no", "Value": customer}]}]
        }});
        let decide = |base: String| {
            let (http, body) = (http.clone(), request.to_string());
            async move {
                let res = http
                    .post(format!("{base}/authorization/api/v1/decision"))
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                let v: serde_json::Value = res.json().await.unwrap();
                v["response"][0]["decision"].as_str().unwrap_or_default().to_owned()
            }
        };
        for node in [&a, &b] {
            assert_eq!(decide(node.base.clone()).await, "Permit");
        }
        cli(&db, &["grant", "revoke-package", "--from", customer, "--to", &su, "--package", "lonn"]);
        for node in [&a, &b] {
            assert_eq!(decide(node.base.clone()).await, "NotApplicable", "a revoked package still permits on {}", node.base);
        }
        cli(&db, &["grant", "package", "--from", customer, "--to", &su, "--package", "lonn"]);
        for node in [&a, &b] {
            assert_eq!(decide(node.base.clone()).await, "Permit");
        }
    }
}
