//! `/resourceregistry/api/v1/resource…`: a service owner writes its resources; anyone reads
//! them; the wrong caller and malformed documents get a specific 4xx and change nothing.

use reqwest::Method;
use serde_json::{json, Value};

use crate::harness::*;

const WRITE: &str = "altinn:resourceregistry/resource.write";
const BASE: &str = "/resourceregistry/api/v1/resource";

/// A valid resource owned by OWNER_ORG (code `digdir`).
pub fn resource(id: &str) -> Value {
    json!({
        "identifier": id,
        "title": {"nb": "Tjeneste", "nn": "Teneste", "en": "Service"},
        "description": {"nb": "Om tjenesten", "nn": "Om tenesta", "en": "About the service"},
        "rightDescription": {"nb": "Får bruke", "nn": "Får bruke", "en": "May use"},
        "contactPoints": [{"category": "Support", "email": "support@example.com", "telephone": "", "contactPage": ""}],
        "hasCompetentAuthority": {"organization": OWNER_ORG, "orgcode": "digdir", "name": {"nb": "Digdir"}},
        "keywords": [{"word": "lønn", "language": "nb"}],
        "resourceType": "GenericAccessResource"
    })
}

async fn sequence(server: &TestServer) -> i64 {
    server.store.change_sequence().await.unwrap()
}

#[tokio::test]
async fn an_owner_creates_reads_updates_and_deletes_a_resource() {
    on_every_store!(|server, _vendor| {
        let token = api_token(&server, OWNER_ORG, &[WRITE]).await;
        let res = server
            .http
            .post(format!("{}{BASE}", server.base))
            .bearer_auth(&token)
            .json(&resource("digdir-lonn"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
        assert_eq!(res.headers()["location"], "/resourceregistry/api/v1/resource/digdir-lonn");

        let (status, first) = call(&server, Method::GET, &format!("{BASE}/digdir-lonn"), None, None).await;
        assert_eq!(status, 200, "{first}");
        assert_eq!(first["identifier"], "digdir-lonn");
        assert_eq!(first["delegable"], true);
        assert_eq!(first["resourceType"], "GenericAccessResource");
        assert_eq!(first["authorizationReference"], json!([{"id": "urn:altinn:resource", "value": "digdir-lonn"}]));
        let first_version = first["versionId"].as_i64().unwrap();

        let mut changed = resource("digdir-lonn");
        changed["title"]["en"] = "Payroll".into();
        let (status, body) =
            call(&server, Method::PUT, &format!("{BASE}/digdir-lonn"), Some(&token), Some(&changed.to_string())).await;
        assert_eq!(status, 200, "{body}");
        let (_, now) = call(&server, Method::GET, &format!("{BASE}/digdir-lonn"), None, None).await;
        assert_eq!(now["title"]["en"], "Payroll");
        assert!(now["versionId"].as_i64().unwrap() > first_version);
        let (status, old) =
            call(&server, Method::GET, &format!("{BASE}/digdir-lonn?versionId={first_version}"), None, None).await;
        assert_eq!(status, 200);
        assert_eq!(old["title"]["en"], "Service");
        assert_eq!(old["versionId"], first_version);

        // Every instance also has the platform resources (`altinn_…`) the access-management gates decide on.
        let own = |list: &Value| list.as_array().unwrap().iter().filter(|r| !r["identifier"].as_str().unwrap().starts_with("altinn_")).count();
        let (_, list) = call(&server, Method::GET, &format!("{BASE}/resourcelist"), None, None).await;
        assert_eq!(own(&list), 1, "{list}");
        assert_eq!(list.as_array().unwrap().len(), 4, "{list}");
        for query in ["Title=payroll", "OrgCode=DIGDIR", "ResourceType=GenericAccessResource", "Keyword=lønn", "Id=lonn"] {
            let (status, found) = call(&server, Method::GET, &format!("{BASE}/Search?{query}"), None, None).await;
            assert_eq!(status, 200, "{query}: {found}");
            assert_eq!(own(&found), 1, "{query}: {found}");
        }
        for query in ["Title=tax", "OrgCode=skd", "ResourceType=MaskinportenSchema", "OrganizationId=310702641"] {
            let (_, found) = call(&server, Method::GET, &format!("{BASE}/Search?{query}"), None, None).await;
            assert_eq!(found, json!([]), "{query}");
        }

        let (status, _) = call(&server, Method::DELETE, &format!("{BASE}/digdir-lonn"), Some(&token), None).await;
        assert_eq!(status, 204);
        assert_problem(&call(&server, Method::GET, &format!("{BASE}/digdir-lonn"), None, None).await, 404, "digdir-lonn");
        let (_, list) = call(&server, Method::GET, &format!("{BASE}/resourcelist"), None, None).await;
        assert_eq!(own(&list), 0, "{list}");
        // The identifier stays taken, so old grants can never come to mean a new resource.
        let again = call(&server, Method::POST, BASE, Some(&token), Some(&resource("digdir-lonn").to_string())).await;
        assert_problem(&again, 409, "already exist");
    });
}

#[tokio::test]
async fn the_wrong_caller_changes_nothing() {
    on_every_store!(|server, _vendor| {
        let owner = api_token(&server, OWNER_ORG, &[WRITE]).await;
        let other = api_token(&server, OTHER_ORG, &[WRITE]).await;
        let unscoped = api_token(&server, OWNER_ORG, &["owner:api.read"]).await;
        let (status, _) = call(&server, Method::POST, BASE, Some(&owner), Some(&resource("digdir-owned").to_string())).await;
        assert_eq!(status, 201);
        let before = sequence(&server).await;

        let body = resource("digdir-new").to_string();
        assert_problem(&call(&server, Method::POST, BASE, None, Some(&body)).await, 401, "bearer token");
        assert_problem(&call(&server, Method::POST, BASE, Some("not.a.jwt"), Some(&body)).await, 401, "not a JWT");
        assert_problem(&call(&server, Method::POST, BASE, Some(&unscoped), Some(&body)).await, 403, WRITE);
        // Another organisation may not publish in Digdir's name…
        assert_problem(&call(&server, Method::POST, BASE, Some(&other), Some(&body)).await, 403, "competent authority");
        // …nor take over Digdir's resource by naming itself the authority…
        let mut hijack = resource("digdir-owned");
        hijack["hasCompetentAuthority"] = json!({"organization": OTHER_ORG, "orgcode": "other"});
        let path = format!("{BASE}/digdir-owned");
        assert_problem(&call(&server, Method::PUT, &path, Some(&other), Some(&hijack.to_string())).await, 403, "competent authority");
        // …nor delete it.
        assert_problem(&call(&server, Method::DELETE, &path, Some(&other), None).await, 403, "competent authority");
        assert_problem(&call(&server, Method::DELETE, &path, None, None).await, 401, "bearer token");
        // An org code belongs to the organisation that first used it.
        let mut squat = resource("other-service");
        squat["hasCompetentAuthority"] = json!({"organization": OTHER_ORG, "orgcode": "digdir"});
        let (status, problem) = call(&server, Method::POST, BASE, Some(&other), Some(&squat.to_string())).await;
        assert_eq!(status, 400, "{problem}");
        assert!(problem["errors"]["HasCompetentAuthority.Orgcode"][0].as_str().unwrap().contains("another organisation"));
        // Maskinporten scopes under another owner's prefix cannot be published.
        let mut schema = resource("other-api");
        schema["hasCompetentAuthority"] = json!({"organization": OTHER_ORG, "orgcode": "other"});
        schema["resourceType"] = "MaskinportenSchema".into();
        schema["resourceReferences"] = json!([{"referenceSource": "Default", "reference": "owner:api.read", "referenceType": "MaskinportenScope"}]);
        assert_problem(&call(&server, Method::POST, BASE, Some(&other), Some(&schema.to_string())).await, 403, "owner:api.read");

        assert_eq!(sequence(&server).await, before, "a refused write changed something");
        let (_, still) = call(&server, Method::GET, &path, None, None).await;
        assert_eq!(still["hasCompetentAuthority"]["organization"], OWNER_ORG);
    });
}

#[tokio::test]
async fn malformed_documents_get_specific_errors_and_change_nothing() {
    on_every_store!(|server, _vendor| {
        let token = api_token(&server, OWNER_ORG, &[WRITE]).await;
        let (status, _) = call(&server, Method::POST, BASE, Some(&token), Some(&resource("digdir-base").to_string())).await;
        assert_eq!(status, 201);
        let before = sequence(&server).await;

        assert_problem(&call(&server, Method::POST, BASE, Some(&token), Some("{not json")).await, 400, "not a valid ServiceResource");
        assert_problem(&call(&server, Method::POST, BASE, Some(&token), Some("[]")).await, 400, "not a valid ServiceResource");
        let mut bad_enum = resource("digdir-enum");
        bad_enum["resourceType"] = "Widget".into();
        assert_problem(&call(&server, Method::POST, BASE, Some(&token), Some(&bad_enum.to_string())).await, 400, "GenericAccessResource");

        let mut invalid = resource("AB");
        invalid["title"] = json!({"nb": "Bare bokmål"});
        invalid["hasCompetentAuthority"]["organization"] = "991825828".into();
        let (status, problem) = call(&server, Method::POST, BASE, Some(&token), Some(&invalid.to_string())).await;
        assert_eq!(status, 400, "{problem}");
        assert_eq!(problem["type"], "https://tools.ietf.org/html/rfc9110#section-15.5.1");
        assert_eq!(problem["title"], "One or more validation errors occurred.");
        let errors = problem["errors"].as_object().unwrap();
        for field in ["Identifier", "Title", "HasCompetentAuthority.Organization"] {
            assert!(errors.contains_key(field), "{field} missing in {problem}");
        }
        assert_eq!(problem["errors"]["Title"].as_array().unwrap().len(), 2, "{problem}");

        let path = format!("{BASE}/digdir-base");
        let other_id = resource("digdir-other").to_string();
        assert_problem(&call(&server, Method::PUT, &path, Some(&token), Some(&other_id)).await, 400, "does not match");
        assert_problem(
            &call(&server, Method::PUT, &format!("{BASE}/digdir-missing"), Some(&token), Some(&resource("digdir-missing").to_string())).await,
            404,
            "digdir-missing",
        );
        let (status, problem) = call(&server, Method::GET, &format!("{BASE}/Search?ResourceType=Widget"), None, None).await;
        assert_eq!(status, 400, "{problem}");
        assert_problem(&call(&server, Method::GET, &format!("{path}?versionId=1"), None, None).await, 404, "no version 1");
        assert_eq!(call(&server, Method::GET, &format!("{path}?versionId=x"), None, None).await.0, 400);

        assert_eq!(sequence(&server).await, before, "a refused write changed something");
    });
}

#[tokio::test]
async fn an_owner_uploads_a_policy_and_everyone_reads_its_rules_subjects_and_rights() {
    on_every_store!(|server, _vendor| {
        let token = api_token(&server, OWNER_ORG, &[WRITE]).await;
        let (status, _) = call(&server, Method::POST, BASE, Some(&token), Some(&resource("digdir-lonn").to_string())).await;
        assert_eq!(status, 201);
        assert_problem(&call(&server, Method::GET, &format!("{BASE}/digdir-lonn/policy"), None, None).await, 404, "Unable to find requested policy");

        let policy = altinn_policy("digdir-lonn", &[("urn:altinn:rolecode", "DAGL"), ("urn:altinn:accesspackage", "lonn")], &["read", "write"]);
        let (status, body) = upload_policy(&server, "digdir-lonn", Some(&token), "policyFile", &policy).await;
        assert_eq!(status, 201, "{body}");

        let res = server.http.get(format!("{}{BASE}/digdir-lonn/policy", server.base)).send().await.unwrap();
        assert_eq!(res.headers()["content-type"], "text/xml");
        assert_eq!(res.text().await.unwrap(), policy);

        let (_, rules) = call(&server, Method::GET, &format!("{BASE}/digdir-lonn/policy/rules"), None, None).await;
        assert_eq!(rules.as_array().unwrap().len(), 4, "2 subjects × 2 actions: {rules}");
        assert_eq!(rules[0]["resource"], json!([{"type": "urn:altinn:resource", "value": "digdir-lonn"}]));

        let (_, subjects) = call(&server, Method::GET, &format!("{BASE}/digdir-lonn/policy/subjects"), None, None).await;
        let urns: Vec<&str> = subjects["data"].as_array().unwrap().iter().map(|s| s["urn"].as_str().unwrap()).collect();
        assert_eq!(urns, ["urn:altinn:accesspackage:lonn", "urn:altinn:rolecode:dagl"]);
        assert_eq!(subjects["links"]["next"], Value::Null);

        let (_, rights) = call(&server, Method::GET, &format!("{BASE}/digdir-lonn/policy/rights"), None, None).await;
        assert_eq!(rights.as_array().unwrap().len(), 2, "{rights}");
        assert_eq!(rights[0]["action"], json!({"type": "urn:oasis:names:tc:xacml:1.0:action:action-id", "value": "read"}));
        assert_eq!(rights[0]["subjects"].as_array().unwrap().len(), 2);

        let v2 = |lang: &'static str| {
            let url = format!("{}/resourceregistry/api/v2/resource/digdir-lonn/policy/rights", server.base);
            let http = server.http.clone();
            async move { http.get(url).header("accept-language", lang).send().await.unwrap().json::<Value>().await.unwrap() }
        };
        let (nb, en) = (v2("nb-NO").await, v2("en").await);
        assert_eq!(nb.as_array().unwrap().len(), 2, "{nb}");
        let key = nb[0]["key"].as_str().unwrap();
        assert!(key.starts_with("01") && key.len() == 66, "{key}");
        assert_eq!(nb[0]["key"], en[0]["key"]);
        assert_eq!((nb[0]["name"].as_str(), en[0]["name"].as_str()), (Some("Les"), Some("Read")));

        // The catalogue links the package to the resources whose policies name it.
        let lonn = fullmakt_domain::Catalogue::embedded().package_by_urn("lonn").unwrap().id.clone();
        let path = format!("/accessmanagement/api/v1/meta/info/accesspackages/package/{lonn}/resources");
        let (status, linked) = call(&server, Method::GET, &path, None, None).await;
        assert_eq!(status, 200, "{linked}");
        assert_eq!(linked[0]["id"], "digdir-lonn", "{linked}");

        // Which resources a subject gets.
        let (status, by) = call(&server, Method::POST, &format!("{BASE}/bysubjects/"), None,
            Some(r#"["urn:altinn:rolecode:DAGL", "urn:altinn:rolecode:regna"]"#)).await;
        assert_eq!(status, 200, "{by}");
        assert_eq!(by["data"].as_array().unwrap().len(), 1, "{by}");
        assert_eq!(by["data"][0]["subject"]["urn"], "urn:altinn:rolecode:dagl");
        assert_eq!(by["data"][0]["resources"][0]["value"], "digdir-lonn");
        assert_eq!(call(&server, Method::POST, &format!("{BASE}/bysubjects"), None, Some(r#"["dagl"]"#)).await.0, 400);
        assert_eq!(call(&server, Method::POST, &format!("{BASE}/bysubjects"), None, Some("{")).await.0, 400);

        // The subject index follows the policy: replacing it replaces the subjects.
        let narrower = altinn_policy("digdir-lonn", &[("urn:altinn:accesspackage", "lonn")], &["read"]);
        let res = server
            .http
            .put(format!("{}{BASE}/digdir-lonn/policy", server.base))
            .bearer_auth(&token)
            .header("content-type", "multipart/form-data; boundary=b")
            .body(format!("--b\r\nContent-Disposition: form-data; name=\"policyFile\"; filename=\"p.xml\"\r\n\r\n{narrower}\r\n--b--\r\n"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
        let (_, subjects) = call(&server, Method::GET, &format!("{BASE}/digdir-lonn/policy/subjects"), None, None).await;
        assert_eq!(subjects["data"].as_array().unwrap().len(), 1);
    });
}

#[tokio::test]
async fn policy_uploads_from_the_wrong_caller_or_with_a_bad_policy_change_nothing() {
    on_every_store!(|server, _vendor| {
        let owner = api_token(&server, OWNER_ORG, &[WRITE]).await;
        let other = api_token(&server, OTHER_ORG, &[WRITE]).await;
        let (status, _) = call(&server, Method::POST, BASE, Some(&owner), Some(&resource("digdir-lonn").to_string())).await;
        assert_eq!(status, 201);
        let good = altinn_policy("digdir-lonn", &[("urn:altinn:rolecode", "DAGL")], &["read"]);
        let before = sequence(&server).await;

        assert_problem(&upload_policy(&server, "digdir-lonn", None, "policyFile", &good).await, 401, "bearer token");
        assert_problem(&upload_policy(&server, "digdir-lonn", Some(&other), "policyFile", &good).await, 403, "competent authority");
        assert_problem(&upload_policy(&server, "digdir-gone", Some(&owner), "policyFile", &good).await, 400, "Unknown resource");
        assert_problem(&upload_policy(&server, "digdir-lonn", Some(&owner), "policy", &good).await, 400, "policyFile");
        let elsewhere = altinn_policy("skd-mva", &[("urn:altinn:rolecode", "DAGL")], &["read"]);
        assert_problem(&upload_policy(&server, "digdir-lonn", Some(&owner), "policyFile", &elsewhere).await, 400, "another resource");
        let no_resource = good.replace(r#"AttributeId="urn:altinn:resource""#, r#"AttributeId="urn:altinn:task""#);
        assert_problem(&upload_policy(&server, "digdir-lonn", Some(&owner), "policyFile", &no_resource).await, 400, "no resource match");
        assert_problem(&upload_policy(&server, "digdir-lonn", Some(&owner), "policyFile", "<Policy").await, 400, "not valid");
        let entity = format!("<!DOCTYPE p [<!ENTITY a \"aaaa\">]>{good}");
        assert_problem(&upload_policy(&server, "digdir-lonn", Some(&owner), "policyFile", &entity).await, 400, "not valid");
        let plain = call(&server, Method::POST, &format!("{BASE}/digdir-lonn/policy"), Some(&owner), Some("{}")).await;
        assert_problem(&plain, 400, "multipart");

        assert_eq!(sequence(&server).await, before, "a refused upload changed something");
        assert_eq!(call(&server, Method::GET, &format!("{BASE}/digdir-lonn/policy"), None, None).await.0, 404);
        assert_problem(&call(&server, Method::GET, &format!("{BASE}/digdir-lonn/policy/rules"), None, None).await, 404, "policy");
    });
}

/// `fullmakt admin resource create` as an operator runs it: (success, stdout, stderr).
fn admin_resource_create(db: &TestDb, file: &std::path::Path, policy: Option<&std::path::Path>) -> (bool, String, String) {
    let file = file.to_str().unwrap();
    match policy {
        Some(p) => admin_cli(db, &["resource", "create", "--file", file, "--policy", p.to_str().unwrap()]),
        None => admin_cli(db, &["resource", "create", "--file", file]),
    }
}

#[tokio::test]
async fn the_operator_creates_a_resource_with_its_policy_from_files() {
    for db in databases().await {
        eprintln!("store: {}", db.name);
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("resource.json");
        let policy = dir.path().join("policy.xml");
        std::fs::write(&file, resource("digdir-cli").to_string()).unwrap();
        std::fs::write(&policy, altinn_policy("digdir-cli", &[("urn:altinn:accesspackage", "lonn")], &["read"])).unwrap();

        // A policy for another resource is refused before anything is written.
        let wrong = dir.path().join("wrong.xml");
        std::fs::write(&wrong, altinn_policy("skd-mva", &[("urn:altinn:accesspackage", "lonn")], &["read"])).unwrap();
        let (ok, _, err) = admin_resource_create(&db, &file, Some(&wrong));
        assert!(!ok && err.contains("another resource"), "{err}");

        let (ok, out, err) = admin_resource_create(&db, &file, Some(&policy));
        assert!(ok, "{err}");
        let created: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(created["identifier"], "digdir-cli");

        let server = TestServer::start(&db).await;
        let (status, subjects) = call(&server, Method::GET, &format!("{BASE}/digdir-cli/policy/subjects"), None, None).await;
        assert_eq!(status, 200, "{subjects}");
        assert_eq!(subjects["data"][0]["urn"], "urn:altinn:accesspackage:lonn");
        server.stop().await;

        let (ok, _, err) = admin_resource_create(&db, &file, None);
        assert!(!ok && err.contains("already exist"), "{err}");
    }
}
