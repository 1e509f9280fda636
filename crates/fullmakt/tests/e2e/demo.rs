//! `serve --demo`'s seed: idempotent, and its register answers lookups.

use reqwest::Method;
use serde_json::json;

use crate::harness::*;

#[tokio::test]
async fn the_demo_seed_adds_the_register_once() {
    on_every_store!(|server, _vendor| {
        let dir = tempfile::tempdir().unwrap();
        fullmakt::demo::seed(&server.store, &server.public_url, dir.path()).await.unwrap();
        let parties = server.store.party_count().await.unwrap();
        let roles = server.store.er_role_count().await.unwrap();
        assert_eq!((parties, roles), (10, 8));
        let sequence = server.store.change_sequence().await.unwrap();
        let report = fullmakt::demo::seed(&server.store, &server.public_url, dir.path()).await.unwrap();
        assert_eq!(server.store.change_sequence().await.unwrap(), sequence, "a second seed writes nothing");
        assert!(report.contains(fullmakt::demo::ACCOUNTING_FIRM_ORG), "{report}");
        let token = api_token(&server, VENDOR_ORG, &["altinn:register/partylookup.admin"]).await;
        let body = json!({"orgNo": fullmakt::demo::CUSTOMER_BRANCH_ORG}).to_string();
        let (status, branch, _) = request(&server, Method::POST, "/register/api/v1/parties/lookup", Some(&token), Some(&body), &[]).await;
        assert_eq!((status, branch["unitType"].clone()), (200, json!("BEDR")));
        let ffor = fullmakt_service::register::roles_in_unit(&server.store, {
            let coop = fullmakt_service::register::find_party(&server.store, &fullmakt_service::register::PartyLookup::OrgNumber(fullmakt::demo::HOUSING_COOP_ORG.into())).await.unwrap();
            coop.party_id
        })
        .await
        .unwrap();
        assert!(ffor.iter().any(|r| r.er_code == "FFØR" && r.to.org_number.as_deref() == Some(fullmakt::demo::ACCOUNTING_FIRM_ORG)));
    });
}

#[tokio::test]
async fn the_demo_resource_permits_the_bakerys_manager_and_not_its_accountant() {
    on_every_store!(|server, _vendor| {
        let dir = tempfile::tempdir().unwrap();
        fullmakt::demo::seed(&server.store, &server.public_url, dir.path()).await.unwrap();
        let lookup = |pid: &str| fullmakt_service::register::PartyLookup::PersonIdentifier(pid.into());
        let manager = fullmakt_service::register::find_party(&server.store, &lookup(fullmakt::demo::CUSTOMER_MANAGER_PID)).await.unwrap();
        let accountant = fullmakt_service::register::find_party(&server.store, &lookup(fullmakt::demo::ACCOUNTANT_PID)).await.unwrap();
        let decide = |user: i64| {
            json!({"Request": {
                "AccessSubject": [{"Attribute": [{"AttributeId": "urn:altinn:userid", "Value": user.to_string()}]}],
                "Action": [{"Attribute": [{"AttributeId": "urn:oasis:names:tc:xacml:1.0:action:action-id", "Value": "write"}]}],
                "Resource": [{"Attribute": [{"AttributeId": "urn:altinn:resource", "Value": fullmakt::demo::DEMO_RESOURCE},
                    {"AttributeId": "urn:altinn:organization:identifier-no", "Value": fullmakt::demo::CUSTOMER_ORG}]}]
            }})
            .to_string()
        };
        for (user, expected) in [(manager.party_id, "Permit"), (accountant.party_id, "NotApplicable")] {
            let (status, body) = call(&server, Method::POST, "/authorization/api/v1/decision", None, Some(&decide(user))).await;
            assert_eq!(status, 200, "{body}");
            assert_eq!(body["response"][0]["decision"], expected, "user {user}: {body}");
        }
    });
}

/// `fullmakt demo` drives the whole journey against a running demo server, and can run again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_journey_runs_green_twice() {
    for db in databases().await {
        eprintln!("store: {}", db.name);
        let server = TestServer::start_test_data(&db).await;
        let dir = tempfile::tempdir().unwrap();
        fullmakt::demo::seed(&server.store, &server.public_url, dir.path()).await.unwrap();
        for run in 0..2 {
            let (url, demo_dir) = (server.base.clone(), dir.path().to_owned());
            let out = tokio::task::spawn_blocking(move || {
                std::process::Command::new(env!("CARGO_BIN_EXE_fullmakt")).args(["demo", "--url", &url]).arg("--demo-dir").arg(&demo_dir).output().unwrap()
            })
            .await
            .unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(out.status.success(), "run {run}: {stdout}\n{}", String::from_utf8_lossy(&out.stderr));
            for step in ["logs in through the test identity provider", "approves", "Permit", "invalid_altinn_customer_configuration", "NotApplicable", "The journey is complete."] {
                assert!(stdout.contains(step), "run {run} does not show {step:?}:\n{stdout}");
            }
        }
        server.stop().await;
    }
}
