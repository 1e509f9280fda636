//! The register: the operator CLI as scripts use it, the party lookup API (token, scope,
//! malformed input, shapes), the access-package metadata API, and the demo seed.


use reqwest::Method;
use serde_json::{json, Value};

use crate::harness::*;

const LOOKUP_SCOPE: &str = "altinn:register/partylookup.admin";
const ACME: &str = "310000019";
const ACME_BRANCH: &str = "310000027";
const LEDGER: &str = "310000035";
const PERSON: &str = "01010012356";

/// Runs `fullmakt admin ARGS` on `db`; returns the exit status, stdout as JSON (or Null) and stderr.
fn admin(db: &TestDb, args: &[&str]) -> (bool, Value, String) {
    let (ok, stdout, stderr) = admin_cli(db, args);
    (ok, serde_json::from_str(&stdout).unwrap_or(Value::Null), stderr)
}

fn synthetic_pid() -> &'static str {
    // Tenor style: 3 March 1985 with 80 added to the month.
    "03838500063"
}

#[tokio::test]
async fn the_register_cli_adds_imports_shows_and_refuses_with_a_reason() {
    for db in databases().await {
        eprintln!("store: {}", db.name);
        let (ok, acme, err) = admin(&db, &["register", "add-org", "--orgno", ACME, "--name", "Acme AS", "--type", "AS"]);
        assert!(ok, "{err}");
        assert_eq!(acme["partyId"], 50_000_000);
        assert_eq!(acme["orgNumber"], ACME);
        assert!(uuid::Uuid::parse_str(acme["partyUuid"].as_str().unwrap()).is_ok());
        let (ok, branch, err) = admin(
            &db,
            &["register", "add-org", "--orgno", ACME_BRANCH, "--name", "Acme Bergen", "--type", "BEDR", "--parent", ACME, "--party-id", "51483386", "--party-uuid", "b1e4611c-c366-478c-bb99-1171858ec5b4"],
        );
        assert!(ok, "{err}");
        assert_eq!((branch["partyId"].clone(), branch["mainUnitOrgNumber"].clone()), (json!(51483386), json!(ACME)));
        let (ok, person, err) = admin(&db, &["register", "add-person", "--pid", PERSON, "--name", "Kari Nordmann"]);
        assert!(ok, "{err}");
        assert_eq!(person["partyType"], "person");
        let (ok, role, err) = admin(&db, &["register", "add-role", "--from", ACME, "--role", "DAGL", "--to-person", PERSON]);
        assert!(ok, "{err}");
        assert_eq!((role["erCode"].clone(), role["roleCode"].clone(), role["to"]["personIdentifier"].clone()), (json!("DAGL"), json!("daglig-leder"), json!(PERSON)));

        // Refusals: a non-zero exit, the reason on stderr, nothing on stdout, nothing changed.
        let store = fullmakt_store::Store::connect(&db.url).await.unwrap();
        let sequence = store.change_sequence().await.unwrap();
        for (args, reason) in [
            (vec!["register", "add-org", "--orgno", ACME, "--name", "Again"], "organisation 310000019 is already in the register"),
            (vec!["register", "add-org", "--orgno", "310000018", "--name", "X"], "check digit is wrong"),
            (vec!["register", "add-org", "--orgno", LEDGER, "--name", "X", "--parent", ACME_BRANCH], "is itself a sub-unit"),
            (vec!["register", "add-org", "--orgno", LEDGER, "--name", "X", "--party-id", "51483386"], "party id 51483386 is already used"),
            (vec!["register", "add-person", "--pid", synthetic_pid(), "--name", "Test"], "synthetic test number"),
            (vec!["register", "add-role", "--from", ACME, "--role", "DAGL", "--to-person", PERSON], "already holds the role DAGL"),
            (vec!["register", "add-role", "--from", ACME, "--role", "rettighetshaver", "--to-person", PERSON], "is not an Enhetsregisteret (ER) role"),
            (vec!["register", "add-role", "--from", ACME, "--role", "REGN", "--to-org", LEDGER], "no organisation 310000035"),
        ] {
            let (ok, stdout, err) = admin(&db, &args);
            assert!(!ok, "{args:?} succeeded");
            assert!(err.contains(reason), "{args:?}: {err}");
            assert_eq!(stdout, Value::Null);
        }
        let (ok, _, err) = admin(&db, &["register", "add-role", "--from", ACME, "--role", "DAGL"]);
        assert!(!ok && err.contains("--to-person"), "{err}");
        assert_eq!(store.change_sequence().await.unwrap(), sequence, "refused commands change nothing");

        // Test-data mode admits the synthetic number, as a flag or from the environment.
        let (ok, _, err) = admin(&db, &["--test-data", "register", "add-person", "--pid", synthetic_pid(), "--name", "Test Testesen"]);
        assert!(ok, "{err}");

        // Import, and the same import again.
        let file = db.dir.path().join("register.jsonl");
        std::fs::write(
            &file,
            [
                format!(r#"{{"type":"organization","orgNumber":"{LEDGER}","name":"Ledger Regnskap AS","unitType":"AS"}}"#),
                format!(r#"{{"type":"role","from":"{ACME}","role":"regn","toOrganization":"{LEDGER}"}}"#),
                format!(r#"{{"type":"role","from":"{LEDGER}","role":"DAGL","toPerson":"{PERSON}"}}"#),
            ]
            .join("\n"),
        )
        .unwrap();
        let (ok, summary, err) = admin(&db, &["register", "import", file.to_str().unwrap()]);
        assert!(ok, "{err}");
        assert_eq!(summary["organizations"]["created"], 1, "{summary}");
        assert_eq!(summary["roles"]["created"], 2, "{summary}");
        assert!(summary["rowsPerSecond"].as_f64().unwrap() > 0.0);
        let (ok, again, err) = admin(&db, &["register", "import", file.to_str().unwrap()]);
        assert!(ok, "{err}");
        assert_eq!((again["organizations"]["unchanged"].clone(), again["roles"]["unchanged"].clone(), again["transactions"].clone()), (json!(1), json!(2), json!(0)));
        std::fs::write(&file, r#"{"type":"organization","orgNumber":"123","name":"X"}"#).unwrap();
        let (ok, _, err) = admin(&db, &["register", "import", file.to_str().unwrap()]);
        assert!(!ok && err.contains("line 1: orgNumber") && err.contains("nothing was imported"), "{err}");

        let (ok, shown, err) = admin(&db, &["register", "show", "--orgno", ACME]);
        assert!(ok, "{err}");
        assert_eq!(shown["subUnits"][0]["orgNumber"], ACME_BRANCH);
        let mut in_unit: Vec<&str> = shown["rolesInUnit"].as_array().unwrap().iter().map(|r| r["erCode"].as_str().unwrap()).collect();
        in_unit.sort();
        assert_eq!(in_unit, vec!["DAGL", "REGN"]);
        let (ok, shown, _) = admin(&db, &["register", "show", "--pid", PERSON]);
        assert!(ok);
        assert_eq!(shown["rolesHeld"].as_array().unwrap().len(), 2);
        store.close().await;
    }
}

/// `remove-role` takes add-role's arguments, prints the removed role, refuses a role nobody holds,
/// and a running server's PDP decides the very next request without the role.
#[tokio::test]
async fn the_register_cli_removes_a_role_and_the_next_decision_no_longer_sees_it() {
    use fullmakt::demo::{CUSTOMER_MANAGER_PID, CUSTOMER_ORG, DEMO_RESOURCE};
    on_every_store!(|db, server, _vendor| {
        let dir = tempfile::tempdir().unwrap();
        fullmakt::demo::seed(&server.store, &server.public_url, dir.path()).await.unwrap();
        let manager = fullmakt_service::register::find_party(&server.store, &fullmakt_service::register::PartyLookup::PersonIdentifier(CUSTOMER_MANAGER_PID.into()))
            .await
            .unwrap();
        // The demo resource's policy names the role DAGL: the bakery's manager may write.
        let decide = || {
            let body = json!({"Request": {
                "AccessSubject": [{"Attribute": [{"AttributeId": "urn:altinn:userid", "Value": manager.party_id.to_string()}]}],
                "Action": [{"Attribute": [{"AttributeId": "urn:oasis:names:tc:xacml:1.0:action:action-id", "Value": "write"}]}],
                "Resource": [{"Attribute": [{"AttributeId": "urn:altinn:resource", "Value": DEMO_RESOURCE},
                    {"AttributeId": "urn:altinn:organization:identifier-no", "Value": CUSTOMER_ORG}]}]
            }})
            .to_string();
            let server = &server;
            async move {
                let (status, body) = call(server, Method::POST, "/authorization/api/v1/decision", None, Some(&body)).await;
                assert_eq!(status, 200, "{body}");
                body["response"][0]["decision"].as_str().unwrap().to_owned()
            }
        };
        assert_eq!(decide().await, "Permit");

        // Refusals: a non-zero exit with the reason, nothing printed, nothing changed.
        let sequence = server.store.change_sequence().await.unwrap();
        for (args, reason) in [
            (vec!["register", "remove-role", "--from", CUSTOMER_ORG, "--role", "LEDE", "--to-person", CUSTOMER_MANAGER_PID], "does not hold the role LEDE in 310601004"),
            (vec!["register", "remove-role", "--from", CUSTOMER_ORG, "--role", "REVI", "--to-org", fullmakt::demo::ACCOUNTING_FIRM_ORG], "organisation 310603007 does not hold the role REVI"),
            (vec!["register", "remove-role", "--from", ACME, "--role", "DAGL", "--to-person", CUSTOMER_MANAGER_PID], "no organisation 310000019"),
            (vec!["register", "remove-role", "--from", CUSTOMER_ORG, "--role", "rettighetshaver", "--to-person", CUSTOMER_MANAGER_PID], "is not an Enhetsregisteret (ER) role"),
            (vec!["register", "remove-role", "--from", CUSTOMER_ORG, "--role", "DAGL", "--to-org", "310601005"], "check digit is wrong"),
        ] {
            let mut args = args;
            args.insert(0, "--test-data");
            let (ok, stdout, err) = admin(&db, &args);
            assert!(!ok, "{args:?} succeeded");
            assert!(err.contains(reason), "{args:?}: {err}");
            assert_eq!(stdout, Value::Null);
        }
        let (ok, _, err) = admin(&db, &["register", "remove-role", "--from", CUSTOMER_ORG, "--role", "DAGL"]);
        assert!(!ok && err.contains("--to-person"), "{err}");
        assert_eq!(server.store.change_sequence().await.unwrap(), sequence, "refused commands change nothing");
        assert_eq!(decide().await, "Permit");

        let (ok, role, err) = admin(&db, &["--test-data", "register", "remove-role", "--from", CUSTOMER_ORG, "--role", "dagl", "--to-person", CUSTOMER_MANAGER_PID]);
        assert!(ok, "{err}");
        assert_eq!(
            (role["erCode"].clone(), role["from"]["orgNumber"].clone(), role["to"]["partyId"].clone()),
            (json!("DAGL"), json!(CUSTOMER_ORG), json!(manager.party_id))
        );
        assert_eq!(decide().await, "NotApplicable", "the very next decision is without the role");
        let (ok, _, err) = admin(&db, &["--test-data", "register", "remove-role", "--from", CUSTOMER_ORG, "--role", "DAGL", "--to-person", CUSTOMER_MANAGER_PID]);
        assert!(!ok && err.contains("does not hold the role DAGL"), "{err}");
    });
}

async fn seed_parties(server: &TestServer) -> (Value, Value) {
    use fullmakt_service::register::{add_organisation, add_person, NewOrganisation, NewPerson};
    let acme = add_organisation(&server.store, &NewOrganisation { org_number: ACME.into(), name: "Acme AS".into(), unit_type: Some("AS".into()), ..Default::default() })
        .await
        .unwrap();
    let kari = add_person(&server.store, &NewPerson { person_identifier: PERSON.into(), name: "Kari Nordmann".into(), ..Default::default() }, Default::default())
        .await
        .unwrap();
    (serde_json::to_value(acme).unwrap(), serde_json::to_value(kari).unwrap())
}

#[tokio::test]
async fn party_lookups_answer_in_altinn_registers_shape() {
    on_every_store!(|server, _vendor| {
        let (acme, kari) = seed_parties(&server).await;
        let token = api_token(&server, VENDOR_ORG, &[LOOKUP_SCOPE]).await;
        let (status, party, _) = request(&server, Method::POST, "/register/api/v1/parties/lookup", Some(&token), Some(&json!({"orgNo": ACME}).to_string()), &[]).await;
        assert_eq!(status, 200, "{party}");
        assert_eq!(
            party,
            json!({
                "partyId": acme["partyId"], "partyUuid": acme["partyUuid"], "partyTypeName": 2, "orgNumber": ACME, "ssn": null,
                "unitType": "AS", "name": "Acme AS", "isDeleted": false, "onlyHierarchyElementWithNoAccess": false,
                "person": null, "organization": {"orgNumber": ACME, "name": "Acme AS", "unitType": "AS"}, "childParties": null,
            })
        );
        let (status, person, _) = request(&server, Method::POST, "/register/api/v1/parties/lookup", Some(&token), Some(&json!({"ssn": PERSON}).to_string()), &[]).await;
        assert_eq!(status, 200, "{person}");
        assert_eq!((person["partyTypeName"].clone(), person["orgNumber"].clone(), person["ssn"].clone()), (json!(1), json!(""), json!(PERSON)));
        assert_eq!(person["person"], json!({"ssn": PERSON, "name": "Kari Nordmann"}));
        assert_eq!(person["partyId"], kari["partyId"]);
        let (status, by_id, _) = request(&server, Method::GET, &format!("/register/api/v1/parties/{}", acme["partyId"]), Some(&token), None, &[]).await;
        assert_eq!((status, by_id["orgNumber"].clone()), (200, json!(ACME)));
        let uuid = acme["partyUuid"].as_str().unwrap().to_uppercase();
        let (status, by_uuid, _) = request(&server, Method::GET, &format!("/register/api/v1/parties/byuuid/{uuid}"), Some(&token), None, &[]).await;
        assert_eq!((status, by_uuid["partyId"].clone()), (200, acme["partyId"].clone()));
    });
}

#[tokio::test]
async fn party_lookups_refuse_missing_tokens_wrong_scopes_and_malformed_input() {
    on_every_store!(|server, _vendor| {
        seed_parties(&server).await;
        let token = api_token(&server, VENDOR_ORG, &[LOOKUP_SCOPE]).await;
        let wrong = api_token(&server, VENDOR_ORG, &["altinn:instances.read"]).await;
        let routes: [(Method, &str, Option<String>); 3] = [
            (Method::POST, "/register/api/v1/parties/lookup", Some(json!({"orgNo": ACME}).to_string())),
            (Method::GET, "/register/api/v1/parties/50000000", None),
            (Method::GET, "/register/api/v1/parties/byuuid/00000000-0000-4000-8000-000000000000", None),
        ];
        for (method, path, body) in &routes {
            let (status, problem, headers) = request(&server, method.clone(), path, None, body.as_deref(), &[]).await;
            assert_problem_json(status, &problem, &headers, 401, "bearer token is required");
            let (status, problem, headers) = request(&server, method.clone(), path, Some("not.a.jwt"), body.as_deref(), &[]).await;
            assert_problem_json(status, &problem, &headers, 401, "");
            let (status, problem, headers) = request(&server, method.clone(), path, Some(&wrong), body.as_deref(), &[]).await;
            assert_problem_json(status, &problem, &headers, 403, LOOKUP_SCOPE);
        }
        let lookup = "/register/api/v1/parties/lookup";
        for (body, detail) in [
            ("not json", "not valid JSON"),
            ("{}", "either orgNo or ssn is required"),
            (&*json!({"orgNo": ACME, "ssn": PERSON}).to_string(), "only one of orgNo and ssn"),
            (&*json!({"orgNo": "310000018"}).to_string(), "check digit is wrong"),
            (&*json!({"orgNo": 310000019}).to_string(), "not valid JSON"),
            (&*json!({"ssn": "0101001235"}).to_string(), "11 digits"),
            (&*json!({"orgno": ACME}).to_string(), "unknown field"),
        ] {
            let (status, problem, headers) = request(&server, Method::POST, lookup, Some(&token), Some(body), &[]).await;
            assert_problem_json(status, &problem, &headers, 400, detail);
        }
        for (path, status, detail) in [
            ("/register/api/v1/parties/abc", 400, "not an integer"),
            ("/register/api/v1/parties/0", 400, "party id"),
            ("/register/api/v1/parties/99999999", 404, "no party with party id 99999999"),
            ("/register/api/v1/parties/byuuid/xyz", 400, "not a UUID"),
            ("/register/api/v1/parties/byuuid/00000000-0000-4000-8000-000000000000", 404, "no party with party uuid"),
        ] {
            let (got, problem, headers) = request(&server, Method::GET, path, Some(&token), None, &[]).await;
            assert_problem_json(got, &problem, &headers, status, detail);
        }
        let (status, problem, headers) = request(&server, Method::POST, lookup, Some(&token), Some(&json!({"orgNo": LEDGER}).to_string()), &[]).await;
        assert_problem_json(status, &problem, &headers, 404, "no organisation 310000035");
    });
}

const META: &str = "/accessmanagement/api/v1/meta/info/accesspackages";

async fn meta(server: &TestServer, path: &str, language: Option<&str>) -> (u16, Value, reqwest::header::HeaderMap) {
    let headers: Vec<(&str, &str)> = language.map(|l| vec![("accept-language", l)]).unwrap_or_default();
    request(server, Method::GET, &format!("{META}{path}"), None, None, &headers).await
}

#[tokio::test]
async fn the_metadata_api_serves_the_catalogue_without_a_token() {
    let db = databases().await.remove(0);
    let server = TestServer::start(&db).await;
    let (status, export, headers) = meta(&server, "/export", None).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-language"], "nb");
    let groups = export.as_array().unwrap();
    assert_eq!(groups.len(), 5);
    let areas: Vec<&Value> = groups.iter().flat_map(|g| g["areas"].as_array().unwrap()).collect();
    assert_eq!(areas.len(), 49);
    let packages: Vec<&Value> = areas.iter().flat_map(|a| a["packages"].as_array().unwrap()).collect();
    assert_eq!(packages.len(), 223);
    let general = groups.iter().find(|g| g["name"] == "Allment").unwrap();
    assert_eq!((general["urn"].clone(), general["type"].clone()), (Value::Null, json!("Organisasjon")));

    let (status, package, _) = meta(&server, "/package/urn/urn:altinn:accesspackage:skatt-naering", None).await;
    assert_eq!(status, 200, "{package}");
    for key in ["id", "name", "urn", "description", "isDelegable", "isAssignable", "isResourcePolicyAvailable", "area", "type", "resources"] {
        assert!(package.get(key).is_some(), "{key} missing from {package}");
    }
    assert_eq!((package["urn"].clone(), package["isDelegable"].clone(), package["resources"].clone()), (json!("urn:altinn:accesspackage:skatt-naering"), json!(true), json!([])));
    let id = package["id"].as_str().unwrap().to_owned();
    for value in [":skatt-naering", "skatt-naering", "SKATT-NAERING"] {
        let (status, same, _) = meta(&server, &format!("/package/urn/{value}"), None).await;
        assert_eq!((status, same["id"].as_str()), (200, Some(id.as_str())), "{value}");
    }
    let (status, by_id, _) = meta(&server, &format!("/package/{id}"), Some("en")).await;
    assert_eq!(status, 200);
    assert_eq!((by_id["name"].clone(), package["name"].clone()), (json!("Business tax"), json!("Skatt næring")));
    let area_id = by_id["area"]["id"].as_str().unwrap().to_owned();
    let group_id = by_id["area"]["group"]["id"].as_str().unwrap().to_owned();
    let (status, resources, _) = meta(&server, &format!("/package/{id}/resources"), None).await;
    assert_eq!((status, resources), (200, json!([])));

    let (status, area, _) = meta(&server, &format!("/area/{area_id}"), Some("nn")).await;
    assert_eq!((status, area["name"].clone()), (200, json!("Skatt, avgift, rekneskap og toll")));
    assert!(area["iconUrl"].as_str().unwrap().starts_with("https://altinncdn.no/authorization/accesspackageicons/"));
    let (status, area_packages, _) = meta(&server, &format!("/area/{area_id}/packages"), None).await;
    assert_eq!((status, area_packages.as_array().unwrap().len()), (200, 12));
    let (status, group, _) = meta(&server, &format!("/group/{group_id}"), None).await;
    assert_eq!((status, group["name"].clone()), (200, json!("Allment")));
    let (status, group_areas, _) = meta(&server, &format!("/group/{group_id}/areas"), None).await;
    assert_eq!((status, group_areas.as_array().unwrap().len()), (200, 7));
    for path in ["/group/", "/group"] {
        let (status, list, _) = meta(&server, path, None).await;
        assert_eq!((status, list.as_array().unwrap().len()), (200, 5), "{path}");
    }

    let (status, hits, headers) = meta(&server, "/search?term=regnskapsf%C3%B8rer%20l%C3%B8nn", None).await;
    assert_eq!(status, 200, "{hits}");
    assert_eq!(headers["vary"], "Accept-Language");
    assert_eq!(hits[0]["object"]["urn"], "urn:altinn:accesspackage:regnskapsforer-lonn");
    assert_eq!(hits[0]["fields"][0]["field"], "name");
    assert!(hits[0]["fields"][0]["words"].as_array().unwrap().iter().any(|w| w["isMatch"] == true));
    let (status, english, headers) = meta(&server, "/search?term=agriculture", Some("en-GB,en;q=0.9")).await;
    assert_eq!((status, english[0]["object"]["urn"].clone()), (200, json!("urn:altinn:accesspackage:jordbruk")));
    assert_eq!(headers["content-language"], "en");
    let (status, none, _) = meta(&server, "/search?term=zzzzzz", None).await;
    assert_eq!((status, none), (200, json!([])));
    let (status, persons, _) = meta(&server, "/search?typeName=Person", None).await;
    assert_eq!((status, persons.as_array().unwrap().len()), (200, 76));
    server.stop().await;
}

#[tokio::test]
async fn the_metadata_api_answers_bad_ids_with_400_and_unknown_ones_with_404() {
    let db = databases().await.remove(0);
    let server = TestServer::start(&db).await;
    let unknown = "00000000-0000-4000-8000-000000000000";
    for (path, status, detail) in [
        ("/package/nope".to_owned(), 400, "not a UUID"),
        (format!("/package/{unknown}"), 404, "no access package"),
        ("/package/nope/resources".to_owned(), 400, "not a UUID"),
        (format!("/package/{unknown}/resources"), 404, "no access package"),
        ("/package/urn/urn:altinn:accesspackage:nope".to_owned(), 404, "no access package"),
        ("/package/urn/a%20b".to_owned(), 400, "give a package URN"),
        ("/area/1".to_owned(), 400, "not a UUID"),
        (format!("/area/{unknown}"), 404, "no area"),
        (format!("/area/{unknown}/packages"), 404, "no area"),
        ("/group/1".to_owned(), 400, "not a UUID"),
        (format!("/group/{unknown}"), 404, "no area group"),
        (format!("/group/{unknown}/areas"), 404, "no area group"),
        (format!("/search?term={}", "x".repeat(501)), 400, "at most 500"),
    ] {
        let (got, problem, headers) = meta(&server, &path, None).await;
        assert_problem_json(got, &problem, &headers, status, detail);
    }
    server.stop().await;
}
