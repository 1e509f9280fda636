//! Grants made and tokens verified by PyJWT, in the shapes of the two real Python clients.
//! The test builds its own virtual environment under target/ (PyPI reachable), so plain
//! `cargo test` runs it on any machine with python3.

use std::path::{Path, PathBuf};
use std::process::Command;

use fullmakt_domain::OrganisationNumber;
use fullmakt_service::admin::{clients, ClientInput};

use crate::harness::*;

fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop")
}

/// target/tmp/interop-venv with the pinned requirements; created once, reused after. The tests
/// of this file run in parallel threads: the first to call this builds the environment and the
/// others wait for it (two concurrent `venv` runs collide on its directories).
fn python() -> PathBuf {
    static PYTHON: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    PYTHON.get_or_init(prepare_python).clone()
}

fn prepare_python() -> PathBuf {
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("interop-venv");
    let python = venv.join("bin/python");
    let stamp = venv.join("requirements.installed");
    let requirements = std::fs::read_to_string(interop_dir().join("requirements.txt")).unwrap();
    if std::fs::read_to_string(&stamp).ok().as_deref() != Some(requirements.as_str()) {
        let status = Command::new("python3").args(["-m", "venv"]).arg(&venv).status().expect("python3 is needed for the interop test");
        assert!(status.success(), "python3 -m venv failed");
        let status = Command::new(&python)
            .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r"])
            .arg(interop_dir().join("requirements.txt"))
            .status()
            .unwrap();
        assert!(status.success(), "pip install of the interop requirements failed");
        std::fs::write(&stamp, requirements).unwrap();
    }
    python
}

/// Runs interop.py with `args` off the async runtime (the server answers meanwhile) and asserts
/// that every check passed.
async fn run_script(python: &Path, args: Vec<String>) {
    let python = python.to_owned();
    let out = tokio::task::spawn_blocking(move || Command::new(python).arg(interop_dir().join("interop.py")).args(args).output().unwrap())
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprintln!("{stdout}");
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains(" passed, 0 failed"));
}

#[tokio::test]
async fn pyjwt_grants_in_pymaskinporten_and_wenche_shape_get_tokens_pyjwt_verifies() {
    let python = tokio::task::spawn_blocking(python).await.unwrap();
    for db in databases().await {
        eprintln!("store: {}", db.name);
        let server = TestServer::start(&db).await;
        // The scope and its grant come from the fixture; the client's key comes from Python.
        let _fixture = Vendor::setup(&server).await;
        let dir = db.dir.path().to_str().unwrap().to_owned();
        let script = interop_dir().join("interop.py");
        let out = Command::new(&python).arg(&script).args(["keygen", &dir]).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let jwks: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let input = ClientInput { client_name: Some("python".into()), scopes: Some(vec![SCOPE.into()]), ..Default::default() };
        let client = clients::create_client(&server.store, OrganisationNumber::parse(VENDOR_ORG).unwrap(), &input, Some(&jwks))
            .await
            .unwrap();
        let base = server.base.clone();
        let python_for_run = python.clone();
        let out = tokio::task::spawn_blocking(move || {
            Command::new(python_for_run)
                .arg(&script)
                .args(["run", &base, &client.client_id, &dir, SCOPE, OTHER_ORG])
                .output()
                .unwrap()
        })
        .await
        .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        eprintln!("{stdout}");
        assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
        assert!(stdout.contains(" passed, 0 failed"));
        server.stop().await;
    }
}

#[tokio::test]
async fn pyjwt_finds_the_altinn_keys_through_the_openid_configuration_and_verifies_person_and_exchanged_tokens() {
    let python = tokio::task::spawn_blocking(python).await.unwrap();
    for db in databases().await {
        eprintln!("store: {}", db.name);
        let server = TestServer::start_test_data(&db).await;
        let person = fullmakt_service::register::NewPerson { person_identifier: "01010012356".into(), name: "Kari".into(), ..Default::default() };
        fullmakt_service::register::add_person(&server.store, &person, fullmakt_domain::SyntheticNumbers::Refuse).await.unwrap();
        let (ok, person_token, err) = admin_cli(&db, &["test-token", "person", "--pid", "01010012356"]);
        assert!(ok, "{err}");
        let maskinporten_token = api_token(&server, VENDOR_ORG, &["altinn:instances.read"]).await;
        let (base, python) = (server.base.clone(), python.clone());
        let out = tokio::task::spawn_blocking(move || {
            Command::new(python)
                .arg(interop_dir().join("interop.py"))
                .args(["altinn", &base, person_token.trim(), &maskinporten_token])
                .output()
                .unwrap()
        })
        .await
        .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        eprintln!("{stdout}");
        assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
        assert!(stdout.contains(" passed, 0 failed"));
        server.stop().await;
    }
}

/// wenche's and pymaskinporten's exact HTTP calls through the whole system-user journey, with
/// PyJWT grants; the customer's approval in between is the portal's call.
#[tokio::test]
async fn the_python_clients_calls_carry_a_system_user_from_registration_to_token() {
    use crate::requests::{CUSTOMER, PAYROLL, REGISTER_WRITE, REQUEST_READ, REQUEST_WRITE};
    let python = tokio::task::spawn_blocking(python).await.unwrap();
    for db in databases().await {
        eprintln!("store: {}", db.name);
        let server = TestServer::start_test_data(&db).await;
        let _fixture = Vendor::setup(&server).await;
        crate::requests::seed(&server).await;
        let (customer_party, _) = crate::approval::people(&server).await;
        let scopes = [REGISTER_WRITE, REQUEST_READ, REQUEST_WRITE, "altinn:instances.read"];
        // Creates the scopes and grants the vendor access to them.
        api_token(&server, VENDOR_ORG, &scopes).await;
        let dir = db.dir.path().to_str().unwrap().to_owned();
        let script = interop_dir().join("interop.py");
        let out = Command::new(&python).arg(&script).args(["keygen", &dir]).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let jwks: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let input = ClientInput { client_name: Some("wenche".into()), scopes: Some(scopes.iter().map(|s| s.to_string()).collect()), ..Default::default() };
        let client = clients::create_client(&server.store, OrganisationNumber::parse(VENDOR_ORG).unwrap(), &input, Some(&jwks)).await.unwrap();
        let manager = person_token(&db, crate::approval::MANAGER);
        let args = ["journey", &server.base, &client.client_id, &dir, CUSTOMER, PAYROLL, &manager, &customer_party.to_string()];
        run_script(&python, args.iter().map(|a| a.to_string()).collect()).await;
        server.stop().await;
    }
}
