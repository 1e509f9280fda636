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
        assert!(fullmakt_service::system_register::find_system(&server.store, &fullmakt::demo::agent_system_id()).await.unwrap().is_some());
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

        // The agent side: both client-package resources with their policies, and the agent system
        // on a client of its own whose settings are in the demo directory.
        for (resource, package) in [
            (fullmakt::demo::CLIENT_PAYROLL_RESOURCE, "regnskapsforer-lonn"),
            (fullmakt::demo::PROPERTY_MANAGEMENT_RESOURCE, "forretningsforer-eiendom"),
        ] {
            let (status, body) = call(&server, Method::GET, &format!("/resourceregistry/api/v1/resource/{resource}"), None, None).await;
            assert_eq!((status, body["hasCompetentAuthority"]["organization"].clone()), (200, json!(fullmakt::demo::DIGDIR_ORG)), "{body}");
            let (status, rules) = call(&server, Method::GET, &format!("/resourceregistry/api/v1/resource/{resource}/policy/rules"), None, None).await;
            assert_eq!(status, 200, "{rules}");
            assert!(rules.to_string().contains(package), "{resource}: {rules}");
        }
        let system = fullmakt_service::system_register::find_system(&server.store, &fullmakt::demo::agent_system_id()).await.unwrap().expect("the agent system");
        assert_eq!(system.name.get("nb").map(String::as_str), Some("Demo Regnskap"));
        assert_eq!(system.vendor_orgno, VENDOR_ORG);
        assert!(!system.is_visible && !system.is_deleted, "a system with client packages is not visible (VLD-18)");
        assert_eq!(system.access_packages.iter().map(|p| p.urn.as_str()).collect::<Vec<_>>(), vec!["urn:altinn:accesspackage:regnskapsforer-lonn"]);
        let settings = std::fs::read_to_string(dir.path().join("agent-system.env")).unwrap();
        let client_id = settings.lines().find_map(|l| l.strip_prefix("CLIENT_ID=")).unwrap();
        let admin_settings = std::fs::read_to_string(dir.path().join("vendor-admin.env")).unwrap();
        assert!(!admin_settings.contains(client_id), "the agent system has a client of its own");
        assert_eq!(system.client_ids, vec![client_id.to_owned()]);
        assert!(report.contains("agentdelegation") && report.contains(&fullmakt::demo::agent_system_id()), "{report}");
    });
}

/// The vendor asks the demo accounting firm for an agent system user on the demo agent system,
/// the firm's manager approves, and the agent's own client gets a system-user token naming the
/// firm. With no client added yet, the PDP gives the agent nothing for a client; then it permits
/// the client resource for exactly the clients added, until the ER role behind one is removed.
#[tokio::test]
async fn the_demo_agent_system_becomes_the_firms_agent_system_user() {
    use fullmakt::demo::{agent_system_id, ACCOUNTANT_PID, ACCOUNTING_FIRM_ORG, CLIENT_PAYROLL_RESOURCE, CUSTOMER_ORG, HOUSING_COOP_ORG, SOLE_PROPRIETOR_ORG};
    for db in databases().await {
        eprintln!("store: {}", db.name);
        let server = TestServer::start_test_data(&db).await;
        let dir = tempfile::tempdir().unwrap();
        fullmakt::demo::seed(&server.store, &server.public_url, dir.path()).await.unwrap();

        let vendor = api_token(&server, VENDOR_ORG, &["altinn:authentication/systemuser.request.write"]).await;
        let body = json!({"systemId": agent_system_id(), "partyOrgNo": ACCOUNTING_FIRM_ORG,
            "accessPackages": [{"urn": "urn:altinn:accesspackage:regnskapsforer-lonn"}]});
        let (status, created) = call(&server, Method::POST, "/authentication/api/v1/systemuser/request/vendor/agent", Some(&vendor), Some(&body.to_string())).await;
        assert_eq!(status, 201, "{created}");
        let id = created["id"].as_str().unwrap().to_owned();
        assert!(created["confirmUrl"].as_str().unwrap().contains(&format!("/accessmanagement/ui/systemuser/agentrequest?id={id}")), "{created}");

        let firm = fullmakt_service::register::find_party(&server.store, &fullmakt_service::register::PartyLookup::OrgNumber(ACCOUNTING_FIRM_ORG.into())).await.unwrap();
        let accountant = person_token(&db, ACCOUNTANT_PID);
        let approve = format!("/authentication/api/v1/systemuser/request/agent/{}/{id}/approve", firm.party_id);
        assert_eq!(call(&server, Method::POST, &approve, Some(&accountant), None).await, (200, json!(true)));

        // The token, as `scripts/make-grant.sh demo/agent-system.env …` would ask for it.
        let settings = std::fs::read_to_string(dir.path().join("agent-system.env")).unwrap();
        let get = |name: &str| settings.lines().find_map(|l| l.strip_prefix(&format!("{name}="))).unwrap().to_owned();
        let pem = std::fs::read_to_string(get("KEY_FILE")).unwrap();
        let der = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, pem.lines().filter(|l| !l.starts_with("-----")).collect::<String>()).unwrap();
        let key = fullmakt_jose::SigningKey::from_pkcs8(&der).unwrap();
        let claims = json!({"aud": get("ISSUER"), "iss": get("CLIENT_ID"), "scope": "altinn:instances.read", "iat": now(), "exp": now() + 60, "jti": unique_jti(),
            "authorization_details": [{"type": "urn:altinn:systemuser",
                "systemuser_org": {"authority": "iso6523-actorid-upis", "ID": format!("0192:{ACCOUNTING_FIRM_ORG}")}}]});
        let grant = key.sign_compact(json!({"alg": "RS256", "kid": get("KID")}).to_string().as_bytes(), claims.to_string().as_bytes()).unwrap();
        let (status, body) = server.post_grant(&grant).await;
        assert_eq!(status, 200, "{body}");
        let details = &decode_jwt_part(body["access_token"].as_str().unwrap(), 1)["authorization_details"][0];
        assert_eq!(details["systemuser_id"], json!([id]), "{details}");
        assert_eq!(details["systemuser_org"]["ID"], format!("0192:{ACCOUNTING_FIRM_ORG}"));
        assert_eq!(details["system_id"], agent_system_id());

        let decision = json!({"Request": {
            "AccessSubject": [{"Attribute": [{"AttributeId": "urn:altinn:systemuser:uuid", "Value": id}]}],
            "Action": [{"Attribute": [{"AttributeId": "urn:oasis:names:tc:xacml:1.0:action:action-id", "Value": "read"}]}],
            "Resource": [{"Attribute": [{"AttributeId": "urn:altinn:resource", "Value": CLIENT_PAYROLL_RESOURCE},
                {"AttributeId": "urn:altinn:organization:identifier-no", "Value": CUSTOMER_ORG}]}]
        }});
        let (status, body) = call(&server, Method::POST, "/authorization/api/v1/decision", None, Some(&decision.to_string())).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["response"][0]["decision"], "NotApplicable", "no client has been added: {body}");

        // Step 3 of the walkthrough through the client-delegation use case (its routes and page
        // are not in this test): the firm's manager adds the bakery and the cooperative.
        let decide = |client: &'static str| {
            let mut request = decision.clone();
            request["Request"]["Resource"][0]["Attribute"][1]["Value"] = json!(client);
            let server = &server;
            async move {
                let (status, body) = call(server, Method::POST, "/authorization/api/v1/decision", None, Some(&request.to_string())).await;
                assert_eq!(status, 200, "{body}");
                body["response"][0]["decision"].as_str().unwrap().to_owned()
            }
        };
        let accountant = server.store.find_party(fullmakt_store::PartyKey::PersonIdentifier(ACCOUNTANT_PID)).await.unwrap().unwrap();
        let catalogue = fullmakt_domain::Catalogue::embedded();
        let index = fullmakt_service::decision_index::DecisionIndex::load(server.store.clone(), catalogue).await.unwrap();
        let pdp = std::sync::Arc::new(fullmakt_service::pdp::DecisionPoint::new(server.store.clone(), catalogue, std::sync::Arc::new(index)));
        let gates = fullmakt_service::access_management::AccessManagement::new(pdp);
        let settings = fullmakt_service::requests::RequestSettings::new(&server.public_url, 180);
        let approvals = fullmakt_service::requests::Approvals { store: &server.store, catalogue, gates: &gates, settings: &settings };
        for client in [CUSTOMER_ORG, HOUSING_COOP_ORG] {
            let client = server.store.find_party(fullmakt_store::PartyKey::OrgNumber(client)).await.unwrap().unwrap();
            approvals.delegate_client(&accountant, firm.party_id, &id, &firm.party_uuid, &client.party_uuid).await.unwrap();
        }
        for (client, expected) in [(CUSTOMER_ORG, "Permit"), (HOUSING_COOP_ORG, "Permit"), (SOLE_PROPRIETOR_ORG, "NotApplicable"), (ACCOUNTING_FIRM_ORG, "NotApplicable")] {
            assert_eq!(decide(client).await, expected, "{client}");
        }
        // The ER role behind the bakery's client relationship ends: the next decision has no client.
        let (ok, _, err) = admin_cli(&db, &["register", "remove-role", "--from", CUSTOMER_ORG, "--role", "REGN", "--to-org", ACCOUNTING_FIRM_ORG]);
        assert!(ok, "{err}");
        assert_eq!(decide(CUSTOMER_ORG).await, "NotApplicable");
        assert_eq!(decide(HOUSING_COOP_ORG).await, "Permit");
        server.stop().await;
    }
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
