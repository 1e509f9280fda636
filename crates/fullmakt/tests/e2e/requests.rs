//! `/authentication/api/v1/systemuser/request…` and `…/changerequest…`, the vendor's side:
//! creating requests (every rule of authentication-api.md §3.3 in order, with DESIGN.md §5's
//! fixes), idempotency, reads, pagination across page boundaries with inserts in between,
//! deletion, and every wrong caller and malformed body.

use reqwest::Method;
use serde_json::{json, Value};

use crate::harness::*;

pub const REQUEST_WRITE: &str = "altinn:authentication/systemuser.request.write";
pub const REQUEST_READ: &str = "altinn:authentication/systemuser.request.read";
pub const REGISTER_WRITE: &str = "altinn:authentication/systemregister.write";
const REQUESTS: &str = "/authentication/api/v1/systemuser/request";

/// The customer organisation the vendor asks (in the register).
pub const CUSTOMER: &str = "310000019";
/// A registry resource whose policy lets holders of `lonn` read and write.
pub const PAYROLL: &str = "test-lonnsrapport";
pub const PACKAGE: &str = "urn:altinn:accesspackage:lonn";
pub const OTHER_PACKAGE: &str = "urn:altinn:accesspackage:skatt-naering";
pub const CLIENT_PACKAGE: &str = "urn:altinn:accesspackage:regnskapsforer-lonn";
/// Assignable to a standard system user, never delegated to an agent's clients.
pub const ADMIN_PACKAGE: &str = "urn:altinn:accesspackage:tilgangsstyrer";

pub fn system_id(name: &str) -> String {
    format!("{VENDOR_ORG}_{name}")
}

/// Adds the customer to the register and the payroll resource with its policy.
pub async fn seed(server: &TestServer) {
    use fullmakt_service::register::{add_organisation, NewOrganisation};
    use fullmakt_service::resource_registry::{altinn_policy, create_resource, store_policy, Writer};
    for (org, name) in [(CUSTOMER, "Kunde AS"), (VENDOR_ORG, "Leverandør AS"), (OTHER_ORG, "Annen AS")] {
        let input = NewOrganisation { org_number: org.into(), name: name.into(), unit_type: Some("AS".into()), ..Default::default() };
        add_organisation(&server.store, &input).await.unwrap();
    }
    let resource = crate::resource_registry::resource(PAYROLL);
    let resource = fullmakt_domain::resource::ServiceResource::from_json(resource.to_string().as_bytes()).unwrap();
    create_resource(&server.store, Writer::Operator, &resource).await.unwrap();
    let policy = altinn_policy(PAYROLL, &[("urn:altinn:accesspackage", "lonn")], &["read", "write"]);
    store_policy(&server.store, Writer::Operator, PAYROLL, &policy).await.unwrap();
}

/// Registers a system of VENDOR_ORG through the API: the payroll right, `lonn` and
/// `skatt-naering`, one client id and one redirect URL.
pub async fn register_system(server: &TestServer, name: &str, alter: impl FnOnce(&mut Value)) -> String {
    let token = api_token(server, VENDOR_ORG, &[REGISTER_WRITE]).await;
    let mut body = json!({
        "id": system_id(name),
        "vendor": {"authority": "iso6523-actorid-upis", "ID": format!("0192:{VENDOR_ORG}")},
        "name": {"nb": "Lønnssystemet", "en": "The payroll system", "nn": "Lønssystemet"},
        "description": {"nb": "Test", "en": "Test", "nn": "Test"},
        "rights": [{"resource": [{"id": "urn:altinn:resource", "value": PAYROLL}]}],
        "accessPackages": [{"urn": PACKAGE}, {"urn": OTHER_PACKAGE}],
        "clientId": [format!("client-{name}")],
        "isVisible": true,
        "allowedRedirectUrls": ["https://vendor.example/callback"]
    });
    alter(&mut body);
    let (status, response) = call(server, Method::POST, "/authentication/api/v1/systemregister/vendor", Some(&token), Some(&body.to_string())).await;
    assert_eq!(status, 200, "{response}");
    system_id(name)
}

pub fn standard_request(system: &str) -> Value {
    json!({
        "externalRef": "ref-1",
        "systemId": system,
        "partyOrgNo": CUSTOMER,
        "rights": [{"resource": [{"id": "urn:altinn:resource", "value": PAYROLL}]}],
        "accessPackages": [{"urn": PACKAGE}],
        "redirectUrl": "https://vendor.example/callback?state=42"
    })
}

pub async fn post_request(server: &TestServer, token: &str, path: &str, body: &Value) -> (u16, Value) {
    call(server, Method::POST, &format!("{REQUESTS}/{path}"), Some(token), Some(&body.to_string())).await
}

/// Asserts an Altinn `AUTH-nnnnn` problem.
pub fn assert_auth(response: &(u16, Value), status: u16, code: &str) {
    let (got, body) = response;
    assert_eq!(*got, status, "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["type"], format!("urn:altinn:error:{code}"), "{body}");
    assert!(body["traceId"].as_str().is_some_and(|t| !t.is_empty()), "{body}");
}

#[tokio::test]
async fn a_request_is_created_once_and_read_back() {
    on_every_store!(|server, _vendor| {
        seed(&server).await;
        let system = register_system(&server, "payroll", |_| {}).await;
        let writer = api_token(&server, VENDOR_ORG, &[REQUEST_WRITE, REQUEST_READ]).await;

        let first = post_request(&server, &writer, "vendor", &standard_request(&system)).await;
        assert_eq!(first.0, 201, "{}", first.1);
        let body = &first.1;
        let id = body["id"].as_str().unwrap().to_owned();
        assert_eq!(body["status"], "New");
        assert_eq!(body["externalRef"], "ref-1");
        assert_eq!(body["partyOrgNo"], CUSTOMER);
        assert_eq!(body["integrationTitle"], "Lønnssystemet", "the title defaults to the system's name.nb");
        assert_eq!(body["escalated"], false);
        assert_eq!(body["timedOut"], false);
        assert_eq!(
            body["confirmUrl"],
            format!("{}/accessmanagement/ui/systemuser/request?id={id}&DONTCHOOSEREPORTEE=true", server.public_url)
        );
        assert_eq!(body["redirectUrl"], "https://vendor.example/callback?state=42");

        // The same identity again: 200 with the same request, whatever the body says.
        let mut changed = standard_request(&system);
        changed["accessPackages"] = json!([{"urn": OTHER_PACKAGE}]);
        let again = post_request(&server, &writer, "vendor", &changed).await;
        assert_eq!(again.0, 200, "{}", again.1);
        assert_eq!(again.1["id"], id.as_str());
        assert_eq!(again.1["confirmUrl"], body["confirmUrl"]);

        // Without externalRef it is the customer's organisation number: another identity.
        let mut no_ref = standard_request(&system);
        no_ref.as_object_mut().unwrap().remove("externalRef");
        let other = post_request(&server, &writer, "vendor", &no_ref).await;
        assert_eq!(other.0, 201, "{}", other.1);
        assert_eq!(other.1["externalRef"], CUSTOMER);
        assert_ne!(other.1["id"], id.as_str());

        let (status, read) = call(&server, Method::GET, &format!("{REQUESTS}/vendor/{id}"), Some(&writer), None).await;
        assert_eq!(status, 200, "{read}");
        assert_eq!(read, first.1);
        let by_ref = call(&server, Method::GET, &format!("{REQUESTS}/vendor/byexternalref/{system}/{CUSTOMER}/ref-1"), Some(&writer), None).await;
        assert_eq!(by_ref.1["id"], id.as_str(), "{}", by_ref.1);
        // A standard request is not an agent request.
        assert_auth(&call(&server, Method::GET, &format!("{REQUESTS}/vendor/agent/{id}"), Some(&writer), None).await, 404, "AUTH-00030");

        // The agent kind: packages that may be delegated to clients, no rights.
        let system_for_agents = register_system(&server, "accounting", |s| {
            s["accessPackages"] = json!([{"urn": CLIENT_PACKAGE}]);
            s["isVisible"] = json!(false);
        })
        .await;
        let agent = json!({"systemId": system_for_agents, "partyOrgNo": CUSTOMER, "accessPackages": [{"urn": CLIENT_PACKAGE}]});
        let created = post_request(&server, &writer, "vendor/agent", &agent).await;
        assert_eq!(created.0, 201, "{}", created.1);
        assert!(created.1.get("rights").is_none(), "{}", created.1);
        let agent_id = created.1["id"].as_str().unwrap();
        assert!(created.1["confirmUrl"].as_str().unwrap().contains(&format!("/systemuser/agentrequest?id={agent_id}&")));
        assert_eq!(post_request(&server, &writer, "vendor/agent", &agent).await.0, 200);
        assert_auth(&call(&server, Method::GET, &format!("{REQUESTS}/vendor/{agent_id}"), Some(&writer), None).await, 404, "AUTH-00010");
    });
}

#[tokio::test]
async fn every_rule_of_request_creation_has_its_code_and_changes_nothing() {
    on_every_store!(|server, _vendor| {
        seed(&server).await;
        let system = register_system(&server, "payroll", |_| {}).await;
        let no_redirects = register_system(&server, "plain", |s| s["allowedRedirectUrls"] = json!([])).await;
        let with_client_package = register_system(&server, "mixed", |s| {
            s["accessPackages"] = json!([{"urn": PACKAGE}, {"urn": CLIENT_PACKAGE}, {"urn": ADMIN_PACKAGE}]);
            s["isVisible"] = json!(false);
        })
        .await;
        let writer = api_token(&server, VENDOR_ORG, &[REQUEST_WRITE, REQUEST_READ]).await;
        let with = |f: &dyn Fn(&mut Value)| {
            let mut body = standard_request(&system);
            f(&mut body);
            body
        };
        let before = server.store.change_sequence().await.unwrap();
        let cases: Vec<(&str, Value, u16, &str)> = vec![
            ("unknown system", with(&|b| b["systemId"] = json!(system_id("nope"))), 404, "AUTH-00011"),
            ("malformed customer", with(&|b| b["partyOrgNo"] = json!("123")), 400, "AUTH-00000"),
            ("customer not in the register", with(&|b| b["partyOrgNo"] = json!("310000027")), 400, "AUTH-00000"),
            ("redirect not allowed", with(&|b| b["redirectUrl"] = json!("https://evil.example/callback")), 400, "AUTH-00021"),
            ("redirect on another path", with(&|b| b["redirectUrl"] = json!("https://vendor.example/other")), 400, "AUTH-00021"),
            ("system without redirects", {
                let mut b = with(&|_| {});
                b["systemId"] = json!(no_redirects);
                b
            }, 400, "AUTH-00026"),
            ("neither rights nor packages", with(&|b| {
                b.as_object_mut().unwrap().remove("rights");
                b.as_object_mut().unwrap().remove("accessPackages");
            }), 400, "AUTH-00001"),
            ("both empty", with(&|b| {
                b["rights"] = json!([]);
                b["accessPackages"] = json!([]);
            }), 400, "AUTH-00059"),
            ("a right the system lacks", with(&|b| b["rights"] = json!([{"resource": [{"id": "urn:altinn:resource", "value": "other"}]}])), 400, "AUTH-00001"),
            ("an extra sub-resource", with(&|b| b["rights"] = json!([{"resource": [
                {"id": "urn:altinn:resource", "value": PAYROLL}, {"id": "urn:altinn:subresource", "value": "x"}]}])), 400, "AUTH-00001"),
            ("a package the system lacks", with(&|b| b["accessPackages"] = json!([{"urn": "urn:altinn:accesspackage:post-og-arkiv"}])), 400, "AUTH-00063"),
            ("a client package on a standard request", {
                let mut b = with(&|b| b["accessPackages"] = json!([{"urn": CLIENT_PACKAGE}]));
                b["systemId"] = json!(with_client_package);
                b["rights"] = json!([]);
                b
            }, 400, "AUTH-00064"),
        ];
        for (what, body, status, code) in cases {
            let response = post_request(&server, &writer, "vendor", &body).await;
            eprintln!("case: {what}");
            assert_auth(&response, status, code);
        }
        let not_found = post_request(&server, &writer, "vendor", &with(&|b| b["accessPackages"] = json!([{"urn": "urn:altinn:accesspackage:post-og-arkiv"}]))).await;
        assert_eq!(not_found.1["NotFoundPackages"], "urn:altinn:accesspackage:post-og-arkiv");
        let mut client_package = with(&|b| b["accessPackages"] = json!([{"urn": PACKAGE}, {"urn": CLIENT_PACKAGE}]));
        client_package["systemId"] = json!(with_client_package);
        let not_assignable = post_request(&server, &writer, "vendor", &client_package).await;
        assert_auth(&not_assignable, 400, "AUTH-00064");
        assert_eq!(not_assignable.1["NotDelegablePackages"], CLIENT_PACKAGE, "only the package a standard system user cannot get");

        // Agent requests: packages required, and only ones that may be delegated on to clients.
        let agent = |packages: Value| json!({"systemId": with_client_package, "partyOrgNo": CUSTOMER, "accessPackages": packages});
        assert_auth(&post_request(&server, &writer, "vendor/agent", &agent(json!([]))).await, 400, "AUTH-00058");
        let no_packages = json!({"systemId": with_client_package, "partyOrgNo": CUSTOMER});
        assert_auth(&post_request(&server, &writer, "vendor/agent", &no_packages).await, 400, "AUTH-00058");
        let refused = post_request(&server, &writer, "vendor/agent", &agent(json!([{"urn": ADMIN_PACKAGE}]))).await;
        assert_auth(&refused, 400, "AUTH-00065");
        assert_eq!(refused.1["NotDelegablePackages"], ADMIN_PACKAGE);
        let with_rights = post_request(&server, &writer, "vendor/agent", &json!({"systemId": with_client_package, "partyOrgNo": CUSTOMER,
            "accessPackages": [{"urn": CLIENT_PACKAGE}], "rights": []})).await;
        assert_eq!(with_rights.0, 400, "{}", with_rights.1);

        // Malformed bodies.
        for bad in ["", "{", "[]", r#"{"partyOrgNo": "310000019"}"#, r#"{"systemId": 5, "partyOrgNo": "310000019"}"#] {
            let (status, body) = call(&server, Method::POST, &format!("{REQUESTS}/vendor"), Some(&writer), Some(bad)).await;
            assert_eq!(status, 400, "{bad}: {body}");
        }
        assert_eq!(server.store.change_sequence().await.unwrap(), before, "a refused request writes nothing");
    });
}

#[tokio::test]
async fn only_the_systems_vendor_may_create_read_list_and_delete() {
    on_every_store!(|db, server, _vendor| {
        seed(&server).await;
        let system = register_system(&server, "payroll", |_| {}).await;
        let writer = api_token(&server, VENDOR_ORG, &[REQUEST_WRITE, REQUEST_READ]).await;
        let created = post_request(&server, &writer, "vendor", &standard_request(&system)).await;
        let id = created.1["id"].as_str().unwrap().to_owned();

        let other = api_token(&server, OTHER_ORG, &[REQUEST_WRITE, REQUEST_READ]).await;
        let reader_only = api_token(&server, VENDOR_ORG, &[REQUEST_READ]).await;
        let writer_only = api_token(&server, VENDOR_ORG, &[REQUEST_WRITE]).await;
        let expired = sign_as_server(&db, &json!({"alg": "RS256"}), &json!({
            "iss": server.issuer(), "scope": REQUEST_WRITE, "exp": now() - 60, "iat": now() - 180,
            "consumer": {"authority": "iso6523-actorid-upis", "ID": format!("0192:{VENDOR_ORG}")}, "client_id": "x"
        })).await;

        // Another vendor: the system does not exist for it, and its requests are not found.
        let mut by_other = standard_request(&system);
        by_other["externalRef"] = json!("other-ref");
        assert_auth(&post_request(&server, &other, "vendor", &by_other).await, 404, "AUTH-00011");
        assert_auth(&post_request(&server, &other, "vendor", &standard_request(&system)).await, 404, "AUTH-00011");
        assert_auth(&call(&server, Method::GET, &format!("{REQUESTS}/vendor/{id}"), Some(&other), None).await, 404, "AUTH-00011");
        assert_auth(&call(&server, Method::GET, &format!("{REQUESTS}/vendor/bysystem/{system}"), Some(&other), None).await, 404, "AUTH-00011");
        assert_auth(&call(&server, Method::DELETE, &format!("{REQUESTS}/vendor/{id}"), Some(&other), None).await, 404, "AUTH-00010");

        // Scopes: reading needs .read, writing .write.
        assert_eq!(post_request(&server, &reader_only, "vendor", &by_other).await.0, 403);
        assert_eq!(call(&server, Method::GET, &format!("{REQUESTS}/vendor/{id}"), Some(&writer_only), None).await.0, 403);
        assert_eq!(call(&server, Method::DELETE, &format!("{REQUESTS}/vendor/{id}"), Some(&reader_only), None).await.0, 403);
        for token in [None, Some(expired.as_str()), Some("not-a-jwt")] {
            assert_eq!(post_request_raw(&server, token, &by_other).await, 401);
            assert_eq!(call(&server, Method::GET, &format!("{REQUESTS}/vendor/{id}"), token, None).await.0, 401);
        }
        // Malformed ids are simply not found.
        assert_auth(&call(&server, Method::GET, &format!("{REQUESTS}/vendor/not-a-uuid"), Some(&writer), None).await, 404, "AUTH-00010");

        let (status, _) = call(&server, Method::DELETE, &format!("{REQUESTS}/vendor/{id}"), Some(&writer), None).await;
        assert_eq!(status, 202);
        assert_auth(&call(&server, Method::GET, &format!("{REQUESTS}/vendor/{id}"), Some(&writer), None).await, 404, "AUTH-00010");
        assert_auth(&call(&server, Method::DELETE, &format!("{REQUESTS}/vendor/{id}"), Some(&writer), None).await, 404, "AUTH-00010");
        // A deleted request frees its identity.
        assert_eq!(post_request(&server, &writer, "vendor", &standard_request(&system)).await.0, 201);
    });
}

async fn post_request_raw(server: &TestServer, token: Option<&str>, body: &Value) -> u16 {
    call(server, Method::POST, &format!("{REQUESTS}/vendor"), token, Some(&body.to_string())).await.0
}

#[tokio::test]
async fn pages_neither_skip_nor_repeat_when_requests_arrive_between_reads() {
    on_every_store!(|server, _vendor| {
        seed(&server).await;
        let system = register_system(&server, "payroll", |_| {}).await;
        let writer = api_token(&server, VENDOR_ORG, &[REQUEST_WRITE, REQUEST_READ]).await;
        let create = |n: usize| {
            let mut body = standard_request(&system);
            body["externalRef"] = json!(format!("ref-{n:03}"));
            body
        };
        let mut expected = Vec::new();
        for n in 0..55 {
            let (status, body) = post_request(&server, &writer, "vendor", &create(n)).await;
            assert_eq!(status, 201, "{body}");
            expected.push(body["id"].as_str().unwrap().to_owned());
        }
        let mut seen: Vec<String> = Vec::new();
        let mut next = format!("{REQUESTS}/vendor/bysystem/{system}");
        let mut pages = 0;
        loop {
            let (status, page) = call(&server, Method::GET, &next, Some(&writer), None).await;
            assert_eq!(status, 200, "{page}");
            pages += 1;
            seen.extend(page["data"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap().to_owned()));
            if pages == 1 {
                assert_eq!(page["data"].as_array().unwrap().len(), 50);
                // Written between the page reads: must come later, exactly once.
                for n in 55..58 {
                    let (_, body) = post_request(&server, &writer, "vendor", &create(n)).await;
                    expected.push(body["id"].as_str().unwrap().to_owned());
                }
            }
            match page["links"]["next"].as_str() {
                Some(url) => {
                    assert!(url.starts_with(&server.public_url), "{url}");
                    next = url.trim_start_matches(&server.public_url).to_owned();
                }
                None => break,
            }
        }
        assert_eq!(pages, 2);
        assert_eq!(seen, expected);
        let bad = call(&server, Method::GET, &format!("{REQUESTS}/vendor/bysystem/{system}?token=%%%"), Some(&writer), None).await;
        assert_eq!(bad.0, 400, "{}", bad.1);
    });
}

#[tokio::test]
async fn a_deleted_system_takes_no_requests_and_an_agent_request_is_not_a_standard_one() {
    on_every_store!(|server, _vendor| {
        seed(&server).await;
        let payroll = register_system(&server, "payroll", |_| {}).await;
        let mixed = register_system(&server, "mixed", |s| {
            s["accessPackages"] = json!([{"urn": PACKAGE}, {"urn": CLIENT_PACKAGE}]);
            s["isVisible"] = json!(false);
        })
        .await;
        let writer = api_token(&server, VENDOR_ORG, &[REQUEST_WRITE, REQUEST_READ]).await;

        // One identity, both kinds: the agent duplicate check looks at agent requests only (the
        // reference looks at the standard table and would answer with the standard request).
        let mut standard = standard_request(&mixed);
        standard["externalRef"] = json!("shared");
        let agent = json!({"externalRef": "shared", "systemId": mixed, "partyOrgNo": CUSTOMER, "accessPackages": [{"urn": CLIENT_PACKAGE}]});
        let (status, first_standard) = post_request(&server, &writer, "vendor", &standard).await;
        assert_eq!(status, 201, "{first_standard}");
        let (status, first_agent) = post_request(&server, &writer, "vendor/agent", &agent).await;
        assert_eq!(status, 201, "an agent request of its own: {first_agent}");
        assert_ne!(first_agent["id"], first_standard["id"]);
        assert!(first_agent["confirmUrl"].as_str().unwrap().ends_with("&DONTCHOOSEREPORTEE=true"), "{first_agent}");
        // Each kind again: 200 with its own request, the same id and confirmUrl.
        for (path, body, first) in [("vendor", &standard, &first_standard), ("vendor/agent", &agent, &first_agent)] {
            let (status, again) = post_request(&server, &writer, path, body).await;
            assert_eq!(status, 200, "{path}: {again}");
            assert_eq!((&again["id"], &again["confirmUrl"]), (&first["id"], &first["confirmUrl"]), "{path}");
        }
        let by_ref = |kind: &str, external_ref: &str| format!("{REQUESTS}/vendor{kind}/byexternalref/{mixed}/{CUSTOMER}/{external_ref}");
        assert_eq!(call(&server, Method::GET, &by_ref("", "shared"), Some(&writer), None).await.1["id"], first_standard["id"]);
        assert_eq!(call(&server, Method::GET, &by_ref("/agent", "shared"), Some(&writer), None).await.1["id"], first_agent["id"]);
        // An identity only the other kind has is not found.
        let mut only_standard = standard_request(&mixed);
        only_standard["externalRef"] = json!("only-standard");
        assert_eq!(post_request(&server, &writer, "vendor", &only_standard).await.0, 201);
        assert_auth(&call(&server, Method::GET, &by_ref("/agent", "only-standard"), Some(&writer), None).await, 404, "AUTH-00030");
        assert_auth(&call(&server, Method::GET, &by_ref("", "nothing"), Some(&writer), None).await, 404, "AUTH-00010");

        // A deleted system takes no requests (the reference accepts them).
        let register = api_token(&server, VENDOR_ORG, &[REGISTER_WRITE]).await;
        let (status, _) = call(&server, Method::DELETE, &format!("/authentication/api/v1/systemregister/vendor/{payroll}"), Some(&register), None).await;
        assert_eq!(status, 200);
        let before = server.store.change_sequence().await.unwrap();
        let mut fresh = standard_request(&payroll);
        fresh["externalRef"] = json!("after-delete");
        assert_auth(&post_request(&server, &writer, "vendor", &fresh).await, 404, "AUTH-00011");
        assert_eq!(server.store.change_sequence().await.unwrap(), before, "nothing was written");
    });
}

#[tokio::test]
async fn exact_sub_resource_sets_long_redirect_urls_and_old_requests() {
    on_every_store!(|db, server, _vendor| {
        seed(&server).await;
        let attachment = crate::resource_registry::resource("test-lonnsvedlegg");
        let attachment = fullmakt_domain::resource::ServiceResource::from_json(attachment.to_string().as_bytes()).unwrap();
        fullmakt_service::resource_registry::create_resource(&server.store, fullmakt_service::resource_registry::Writer::Operator, &attachment)
            .await
            .unwrap();
        // A right named by two pairs.
        let pair = |values: &[&str]| json!([{"resource": values.iter().map(|v| json!({"id": "urn:altinn:resource", "value": v})).collect::<Vec<_>>()}]);
        let system = register_system(&server, "pairs", |s| s["rights"] = pair(&[PAYROLL, "test-lonnsvedlegg"])).await;
        let writer = api_token(&server, VENDOR_ORG, &[REQUEST_WRITE, REQUEST_READ]).await;
        let with_rights = |external_ref: &str, rights: Value| {
            let mut body = standard_request(&system);
            body["externalRef"] = json!(external_ref);
            body["rights"] = rights;
            body
        };
        assert_auth(&post_request(&server, &writer, "vendor", &with_rights("part", pair(&[PAYROLL]))).await, 400, "AUTH-00001");
        let extra = pair(&[PAYROLL, "test-lonnsvedlegg", "other"]);
        assert_auth(&post_request(&server, &writer, "vendor", &with_rights("extra", extra)).await, 400, "AUTH-00001");
        let (status, exact) = post_request(&server, &writer, "vendor", &with_rights("exact", pair(&["test-lonnsvedlegg", PAYROLL]))).await;
        assert_eq!(status, 201, "the same set of pairs in another order: {exact}");

        // A redirect URL longer than 255 characters is kept whole.
        let long = format!("https://vendor.example/callback?state={}", "x".repeat(300));
        let mut body = with_rights("long", pair(&[PAYROLL, "test-lonnsvedlegg"]));
        body["redirectUrl"] = json!(long);
        let (status, created) = post_request(&server, &writer, "vendor", &body).await;
        assert_eq!((status, created["redirectUrl"].as_str()), (201, Some(long.as_str())), "{created}");
        let id = created["id"].as_str().unwrap().to_owned();
        let (_, read) = call(&server, Method::GET, &format!("{REQUESTS}/vendor/{id}"), Some(&writer), None).await;
        assert_eq!(read["redirectUrl"], long.as_str());

        // A request older than 180 days reads as Timedout.
        sql(&db, &format!("UPDATE system_user_requests SET created = created - 181 * 86400 WHERE id = '{id}'")).await;
        let (status, old) = call(&server, Method::GET, &format!("{REQUESTS}/vendor/{id}"), Some(&writer), None).await;
        assert_eq!(status, 200, "{old}");
        assert_eq!((old["status"].as_str(), old["timedOut"].as_bool()), (Some("Timedout"), Some(true)), "{old}");
        assert!(old["confirmUrl"].as_str().unwrap().ends_with(&format!("?id={id}&DONTCHOOSEREPORTEE=true")), "{old}");
        let (_, page) = call(&server, Method::GET, &format!("{REQUESTS}/vendor/bysystem/{system}"), Some(&writer), None).await;
        let listed = page["data"].as_array().unwrap().iter().find(|r| r["id"] == id.as_str()).cloned().unwrap();
        assert_eq!((listed["status"].as_str(), listed["timedOut"].as_bool()), (Some("Timedout"), Some(true)));
        let (_, fresh) = call(&server, Method::GET, &format!("{REQUESTS}/vendor/{}", exact["id"].as_str().unwrap()), Some(&writer), None).await;
        assert_eq!((fresh["status"].as_str(), fresh["timedOut"].as_bool()), (Some("New"), Some(false)));
    });
}
