//! The portal (`/accessmanagement/ui/`) over HTTP, as a browser without JavaScript uses it:
//! sessions started from person login, forms with the session's anti-forgery token, the wrong
//! person and party, malformed input, and every state change checked through the vendor's API.
//! (The same journeys in a real browser are in `browser_portal.rs`.)

use reqwest::Method;
use serde_json::json;

use crate::approval::{people, MANAGER};
use crate::harness::*;
use crate::login::{Browser, Reply};
use crate::requests::{post_request, register_system, seed, standard_request, CUSTOMER, REQUEST_READ, REQUEST_WRITE};

const UI: &str = "/accessmanagement/ui";
const CLERK: &str = "17054026641";
const STRANGER: &str = "08089410003";

/// A browser logged in as `pid` (person login's cookie, as after the login callback).
fn logged_in(db: &TestDb, pid: &str) -> Browser {
    let mut browser = Browser::new();
    browser.cookies.push(("AltinnStudioRuntime".into(), person_token(db, pid), "/".into()));
    browser
}

/// The anti-forgery token of the page's first form.
fn csrf(page: &Reply) -> String {
    let start = page.body.find("name=\"csrf\" value=\"").unwrap_or_else(|| panic!("no form on the page: {}", page.body)) + 19;
    page.body[start..].split('"').next().unwrap().to_owned()
}

/// A test-data server with the vendor's client, the customer, its people and the payroll
/// resource; returns the vendor and the customer's party id.
async fn start(db: &TestDb) -> (TestServer, Vendor, i64) {
    let server = TestServer::start_test_data(db).await;
    let vendor = Vendor::setup(&server).await;
    seed(&server).await;
    let (customer, _) = people(&server).await;
    (server, vendor, customer)
}

async fn request_status(server: &TestServer, writer: &str, id: &str) -> String {
    let (_, body) = call(server, Method::GET, &format!("/authentication/api/v1/systemuser/request/vendor/{id}"), Some(writer), None).await;
    body["status"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn a_manager_approves_in_the_portal_and_lands_on_the_vendors_redirect_url() {
    for db in databases().await {
        eprintln!("store: {}", db.name);
        let (server, vendor, _) = start(&db).await;
        let client = vendor.client_id.clone();
        let system = register_system(&server, "payroll", |s| s["clientId"] = json!([client])).await;
        let writer = api_token(&server, VENDOR_ORG, &[REQUEST_WRITE, REQUEST_READ]).await;
        let (_, created) = post_request(&server, &writer, "vendor", &standard_request(&system)).await;
        let id = created["id"].as_str().unwrap().to_owned();
        let confirm = created["confirmUrl"].as_str().unwrap().to_owned();

        // Not logged in: to person login, which comes back to the page.
        let mut anonymous = Browser::new();
        let away = anonymous.get(&confirm).await;
        assert_eq!(away.status, 303);
        let back = format!("{UI}/systemuser/request?id={id}&DONTCHOOSEREPORTEE=true");
        assert_eq!(away.location, format!("/authentication/api/v1/authentication?goto={}", url::form_urlencoded::byte_serialize(back.as_bytes()).collect::<String>()));

        let mut manager = logged_in(&db, MANAGER);
        let page = manager.get(&confirm).await;
        assert_eq!(page.status, 200, "{}", page.body);
        let session = manager.cookie("fullmakt_portal").expect("a portal session");
        let set = page.set_cookies().join("\n");
        assert!(set.contains("fullmakt_portal=") && set.contains("HttpOnly") && set.contains("SameSite=Lax") && set.contains("Path=/accessmanagement/ui"), "{set}");
        // What is granted, in words: the vendor, the system, the package with its area, the
        // resource's title.
        for words in ["Leverandør AS", "Lønnssystemet", "Kunde AS", "Lønn", "Personale", "Tjeneste", "Godkjenn systemtilgang"] {
            assert!(page.body.contains(words), "{words} missing: {}", page.body);
        }
        let csp = page.headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("form-action 'self' https://vendor.example") && csp.contains("frame-ancestors 'none'"), "{csp}");
        let token = csrf(&page);

        // Forged forms change nothing: no token, another token, another origin.
        let action = format!("{}{UI}/systemuser/request", server.public_url);
        for (form, headers) in [
            (vec![("id", id.as_str()), ("action", "approve")], vec![]),
            (vec![("id", id.as_str()), ("action", "approve"), ("csrf", "x".repeat(43).as_str())], vec![]),
            (vec![("id", id.as_str()), ("action", "approve"), ("csrf", token.as_str())], vec![("origin", "https://evil.example")]),
        ] {
            let form: Vec<(&str, &str)> = form;
            let refused = manager.post_form(&action, &form, &headers).await;
            assert_eq!(refused.status, 403, "{}", refused.body);
        }
        assert_eq!(request_status(&server, &writer, &id).await, "New");
        // Malformed: an unknown action.
        let odd = manager.post_form(&action, &[("id", &id), ("action", "approve-all"), ("csrf", &token)], &[]).await;
        assert_eq!(odd.status, 400);
        assert_eq!(request_status(&server, &writer, &id).await, "New");

        // Approve: the browser goes to the vendor's redirect URL, logged out.
        let done = manager.post_form(&action, &[("id", &id), ("action", "approve"), ("csrf", &token)], &[("origin", &server.public_url)]).await;
        assert_eq!((done.status, done.location.as_str()), (303, "https://vendor.example/callback?state=42"), "{}", done.body);
        assert_eq!(manager.cookie("fullmakt_portal"), None);
        assert_eq!(manager.cookie("AltinnStudioRuntime"), None);
        assert_eq!(request_status(&server, &writer, &id).await, "Accepted");
        let (status, body) = server.post_grant(&vendor.grant_with(|_, c| {
            c["authorization_details"] = json!([{"type": "urn:altinn:systemuser",
                "systemuser_org": {"authority": "iso6523-actorid-upis", "ID": format!("0192:{CUSTOMER}")}, "externalRef": "ref-1"}]);
        })).await;
        assert_eq!(status, 200, "{body}");

        // The session ended server-side: its cookie alone is worth nothing.
        let mut replay = Browser::new();
        replay.cookies.push(("fullmakt_portal".into(), session, UI.into()));
        assert_eq!(replay.get(&format!("{}{UI}/systemuser/overview", server.public_url)).await.status, 303);

        // A second answer is refused on the page, and the request stays accepted.
        let mut again = logged_in(&db, MANAGER);
        let page = again.get(&confirm).await;
        assert!(page.body.contains("Forespørselen er godkjent"), "{}", page.body);
        assert!(!page.body.contains("value=\"approve\""), "no buttons on an answered request");
        let token = csrf(&page);
        let late = again.post_form(&action, &[("id", &id), ("action", "reject"), ("csrf", &token)], &[]).await;
        assert_eq!(late.status, 409);
        assert!(late.body.contains("allerede behandlet"), "{}", late.body);
        assert_eq!(request_status(&server, &writer, &id).await, "Accepted");
    }
}

#[tokio::test]
async fn a_person_without_authority_escalates_and_the_manager_sees_it() {
    for db in databases().await {
        eprintln!("store: {}", db.name);
        let (server, _, _) = start(&db).await;
        let system = register_system(&server, "payroll", |_| {}).await;
        let writer = api_token(&server, VENDOR_ORG, &[REQUEST_WRITE, REQUEST_READ]).await;
        let mut body = standard_request(&system);
        body.as_object_mut().unwrap().remove("redirectUrl");
        let (_, created) = post_request(&server, &writer, "vendor", &body).await;
        let id = created["id"].as_str().unwrap().to_owned();
        let confirm = created["confirmUrl"].as_str().unwrap().to_owned();
        let action = format!("{}{UI}/systemuser/request", server.public_url);

        // A stranger has no relation to the customer.
        let mut stranger = logged_in(&db, STRANGER);
        let refused = stranger.get(&confirm).await;
        assert_eq!(refused.status, 403);
        assert!(refused.body.contains("ikke tilstrekkelige fullmakter"), "{}", refused.body);

        // The clerk belongs to the customer: no approve button, an escalation box instead.
        let mut clerk = logged_in(&db, CLERK);
        let page = clerk.get(&confirm).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.body.contains("Du mangler nødvendig fullmakt") && page.body.contains("value=\"escalate\""), "{}", page.body);
        assert!(!page.body.contains("value=\"approve\""));
        let token = csrf(&page);
        // Approving anyway is refused by the service and changes nothing.
        let forced = clerk.post_form(&action, &[("id", &id), ("action", "approve"), ("csrf", &token)], &[]).await;
        assert_eq!(forced.status, 409, "the page shows the refusal: {}", forced.body);
        assert_eq!(request_status(&server, &writer, &id).await, "New");
        let sent = clerk.post_form(&action, &[("id", &id), ("action", "escalate"), ("csrf", &token)], &[]).await;
        assert_eq!(sent.status, 303, "{}", sent.body);
        let after = clerk.get(&format!("{}{}", server.public_url, sent.location)).await;
        assert!(after.body.contains("Forespørsel sendt videre"), "{}", after.body);
        let later = clerk.get(&confirm).await;
        assert!(later.body.contains("allerede sendt videre"), "{}", later.body);
        // The clerk's overview: §6's warning, and none of the lists.
        let overview = clerk.get(&format!("{}{UI}/systemuser/overview", server.public_url)).await;
        assert_eq!(overview.status, 200, "{}", overview.body);
        assert!(overview.body.contains("Du mangler fullmakter for å kunne opprette systemtilgang"), "{}", overview.body);
        assert!(!overview.body.contains("Opprett ny systemtilgang") && !overview.body.contains(&id), "{}", overview.body);

        // The manager's overview lists it, and approving from there returns to the overview.
        let mut manager = logged_in(&db, MANAGER);
        let overview = manager.get(&format!("{}{UI}/systemuser/overview", server.public_url)).await;
        assert_eq!(overview.status, 200, "{}", overview.body);
        assert!(overview.body.contains("Godkjenn egen systemtilgang"), "{}", overview.body);
        let link = format!("{UI}/systemuser/request?id={id}&amp;skiplogout=true");
        assert!(overview.body.contains(&link), "{}", overview.body);
        let page = manager.get(&format!("{}{}", server.public_url, link.replace("&amp;", "&"))).await;
        assert_eq!(page.status, 200, "{}", page.body);
        let token = csrf(&page);
        let done = manager.post_form(&action, &[("id", &id), ("action", "approve"), ("csrf", &token), ("skiplogout", "true")], &[]).await;
        assert_eq!((done.status, done.location.as_str()), (303, "/accessmanagement/ui/systemuser/overview"), "{}", done.body);
        assert!(manager.cookie("fullmakt_portal").is_some(), "skiplogout keeps the session");
        assert_eq!(request_status(&server, &writer, &id).await, "Accepted");
        let overview = manager.get(&format!("{}{UI}/systemuser/overview", server.public_url)).await;
        assert!(overview.body.contains("Se fullmakter") && !overview.body.contains("Godkjenn egen systemtilgang"), "{}", overview.body);
    }
}

#[tokio::test]
async fn create_a_system_user_from_the_system_list_and_delete_it() {
    for db in databases().await {
        eprintln!("store: {}", db.name);
        let (server, _, customer) = start(&db).await;
        let system = register_system(&server, "payroll", |s| s["accessPackages"] = json!([{"urn": crate::requests::PACKAGE}])).await;
        let base = format!("{}{UI}", server.public_url);
        let manager_token = person_token(&db, MANAGER);
        let list = |token: String| {
            let server = &server;
            async move { call(server, Method::GET, &format!("/authentication/api/v1/systemuser/{customer}"), Some(&token), None).await.1 }
        };

        // The clerk may not create.
        let mut clerk = logged_in(&db, CLERK);
        let refused = clerk.get(&format!("{base}/systemuser/create")).await;
        assert_eq!(refused.status, 403);
        assert!(refused.body.contains("Tilgangsstyrer, Hovedadministrator eller Daglig leder"), "{}", refused.body);

        let mut manager = logged_in(&db, MANAGER);
        let step1 = manager.get(&format!("{base}/systemuser/create")).await;
        assert_eq!(step1.status, 200, "{}", step1.body);
        assert!(step1.body.contains(&format!("option value=\"{system}\"")), "{}", step1.body);
        let step2 = manager.get(&format!("{base}/systemuser/create?system={system}")).await;
        assert_eq!(step2.status, 200, "{}", step2.body);
        assert!(step2.body.contains("Lønn") && step2.body.contains("Tjeneste"), "{}", step2.body);
        assert_eq!(manager.get(&format!("{base}/systemuser/create?system=no-such-system")).await.status, 404);
        let token = csrf(&step2);
        // Nothing exists until the form is posted.
        assert_eq!(list(manager_token.clone()).await, json!([]));
        let created = manager.post_form(&format!("{base}/systemuser/create"), &[("system", &system), ("csrf", &token)], &[]).await;
        assert_eq!(created.status, 303, "{}", created.body);
        let users = list(manager_token.clone()).await;
        let id = users[0]["id"].as_str().unwrap().to_owned();
        assert_eq!(created.location, format!("{UI}/systemuser/{id}?created=true"));
        // Twice is refused (one system user per system and reference).
        let twice = manager.post_form(&format!("{base}/systemuser/create"), &[("system", &system), ("csrf", &token)], &[]).await;
        assert_eq!(twice.status, 400, "{}", twice.body);
        assert_eq!(list(manager_token.clone()).await.as_array().unwrap().len(), 1);

        let details = manager.get(&format!("{base}/systemuser/{id}?created=true")).await;
        assert_eq!(details.status, 200, "{}", details.body);
        assert!(details.body.contains("Systemtilgangen er opprettet") && details.body.contains("Lønn"), "{}", details.body);
        // Another person's view of another party's system user: not found for them.
        assert_eq!(clerk.get(&format!("{base}/systemuser/{id}")).await.status, 403);
        assert_eq!(manager.get(&format!("{base}/systemuser/{}", uuid::Uuid::new_v4())).await.status, 404);

        // Delete: a confirmation page first; the GET changes nothing.
        let confirm = manager.get(&format!("{base}/systemuser/{id}/delete")).await;
        assert_eq!(confirm.status, 200, "{}", confirm.body);
        assert!(confirm.body.contains("Vil du slette systemtilgangen?"), "{}", confirm.body);
        assert_eq!(list(manager_token.clone()).await.as_array().unwrap().len(), 1);
        let token = csrf(&confirm);
        assert_eq!(manager.post_form(&format!("{base}/systemuser/{id}/delete"), &[("csrf", "nope")], &[]).await.status, 403);
        let gone = manager.post_form(&format!("{base}/systemuser/{id}/delete"), &[("csrf", &token)], &[]).await;
        assert_eq!((gone.status, gone.location.as_str()), (303, "/accessmanagement/ui/systemuser/overview?deleted=true"));
        assert_eq!(list(manager_token.clone()).await, json!([]));
        assert_eq!(manager.post_form(&format!("{base}/systemuser/{id}/delete"), &[("csrf", &token)], &[]).await.status, 404);
    }
}

#[tokio::test]
async fn languages_logout_and_malformed_pages() {
    for db in databases().await {
        eprintln!("store: {}", db.name);
        let (server, _, _) = start(&db).await;
        let base = format!("{}{UI}", server.public_url);
        let mut manager = logged_in(&db, MANAGER);

        // Accept-Language, then the switch (remembered in a cookie).
        let nn = manager.get_with(&format!("{base}/systemuser/overview"), &[("accept-language", "nn-NO,nn;q=0.9")]).await;
        assert!(nn.body.contains("lang=\"nn\"") && nn.body.contains("Systemtilgangar for Kunde AS"), "{}", nn.body);
        let en = manager.get(&format!("{base}/systemuser/overview?lang=en")).await;
        assert!(en.body.contains("<html lang=\"en\"") && en.body.contains("System access for Kunde AS"), "{}", en.body);
        assert_eq!(manager.cookie("fullmakt_lang").as_deref(), Some("en"));
        let still = manager.get(&format!("{base}/systemuser/overview")).await;
        assert!(still.body.contains("System access for Kunde AS"), "{}", still.body);

        // Malformed input: a 4xx page, never a 500.
        assert_eq!(manager.get(&format!("{base}/systemuser/request")).await.status, 400);
        assert_eq!(manager.get(&format!("{base}/systemuser/request?id=a&id=b")).await.status, 400);
        assert_eq!(manager.get(&format!("{base}/systemuser/request?id=not-a-uuid")).await.status, 404);
        assert_eq!(manager.get(&format!("{base}/systemuser/agentrequest?id={}", uuid::Uuid::new_v4())).await.status, 404);
        assert_eq!(manager.get(&format!("{base}/systemuser/changerequest?id={}", uuid::Uuid::new_v4())).await.status, 404);
        assert_eq!(manager.get(&format!("{base}/party?goto=https://evil.example/")).await.status, 200);
        let page = manager.get(&format!("{base}/party?goto=//evil.example/")).await;
        assert!(page.body.contains("name=\"goto\" value=\"/accessmanagement/ui/systemuser/overview\""), "no open redirect: {}", page.body);
        let token = csrf(&page);
        assert_eq!(manager.post_form(&format!("{base}/party"), &[("csrf", &token), ("party", "x")], &[]).await.status, 400);
        // A party the person has no relation to.
        let other = server.store.find_party(fullmakt_store::PartyKey::OrgNumber(OTHER_ORG)).await.unwrap().unwrap();
        assert_eq!(manager.post_form(&format!("{base}/party"), &[("csrf", &token), ("party", &other.party_id.to_string())], &[]).await.status, 403);

        // Logout ends the session server-side and clears both cookies.
        let session = manager.cookie("fullmakt_portal").unwrap();
        let out = manager.post_form(&format!("{base}/logout"), &[("csrf", &token)], &[]).await;
        assert_eq!((out.status, out.location.as_str()), (303, "/accessmanagement/ui/loggedout"));
        assert_eq!((manager.cookie("fullmakt_portal"), manager.cookie("AltinnStudioRuntime")), (None, None));
        let mut stale = Browser::new();
        stale.cookies.push(("fullmakt_portal".into(), session, UI.into()));
        assert_eq!(stale.get(&format!("{base}/systemuser/overview")).await.status, 303);
        assert_eq!(stale.get(&format!("{base}/loggedout")).await.status, 200);
        // A vendor's token is not a person login.
        let mut vendor_browser = Browser::new();
        vendor_browser.cookies.push(("AltinnStudioRuntime".into(), api_token(&server, VENDOR_ORG, &[REQUEST_READ]).await, "/".into()));
        assert_eq!(vendor_browser.get(&format!("{base}/systemuser/overview")).await.status, 303);
    }
}

#[tokio::test]
async fn agent_and_change_requests_are_answered_on_their_pages() {
    for db in databases().await {
        eprintln!("store: {}", db.name);
        let (server, _, customer) = start(&db).await;
        let base = format!("{}{UI}", server.public_url);
        let writer = api_token(&server, VENDOR_ORG, &[REQUEST_WRITE, REQUEST_READ]).await;
        let manager_token = person_token(&db, MANAGER);
        let mut manager = logged_in(&db, MANAGER);

        // An agent request: its page lists the packages for clients; approving creates the agent.
        let agent_system = register_system(&server, "accounting", |s| {
            s["accessPackages"] = json!([{"urn": crate::requests::CLIENT_PACKAGE}]);
            s["rights"] = json!([]);
            s["isVisible"] = json!(false);
        })
        .await;
        let agent = json!({"systemId": agent_system, "partyOrgNo": CUSTOMER, "accessPackages": [{"urn": crate::requests::CLIENT_PACKAGE}]});
        let (status, created) = post_request(&server, &writer, "vendor/agent", &agent).await;
        assert_eq!(status, 201, "{created}");
        let agent_id = created["id"].as_str().unwrap().to_owned();
        let confirm = created["confirmUrl"].as_str().unwrap().to_owned();
        assert!(confirm.contains("/accessmanagement/ui/systemuser/agentrequest?id="), "{confirm}");
        // The standard page does not show an agent request.
        assert_eq!(manager.get(&format!("{base}/systemuser/request?id={agent_id}&DONTCHOOSEREPORTEE=true")).await.status, 404);
        let page = manager.get(&confirm).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.body.contains("Godkjenn systemtilgang for klientene dine") && page.body.contains("Regnskapsfører lønn"), "{}", page.body);
        let token = csrf(&page);
        let done = manager.post_form(&format!("{base}/systemuser/agentrequest"), &[("id", &agent_id), ("action", "approve"), ("csrf", &token)], &[]).await;
        assert_eq!(done.status, 303, "{}", done.body);
        let (_, agents) = call(&server, Method::GET, &format!("/authentication/api/v1/systemuser/agent/{customer}"), Some(&manager_token), None).await;
        assert_eq!(agents[0]["id"], agent_id.as_str(), "{agents}");
        let overview = manager.get(&format!("{base}/systemuser/overview")).await;
        assert!(overview.body.contains("Administrere klienter"), "{}", overview.body);

        // A change request: what is added and what is removed, then approve.
        let system = register_system(&server, "payroll", |_| {}).await;
        let (_, created) = post_request(&server, &writer, "vendor", &standard_request(&system)).await;
        let su = created["id"].as_str().unwrap().to_owned();
        let page = manager.get(created["confirmUrl"].as_str().unwrap()).await;
        let token = csrf(&page);
        assert_eq!(manager.post_form(&format!("{base}/systemuser/request"), &[("id", &su), ("action", "approve"), ("csrf", &token), ("skiplogout", "true")], &[]).await.status, 303);
        let correlation = uuid::Uuid::new_v4().to_string();
        let change = json!({"requiredAccessPackages": [{"urn": "urn:altinn:accesspackage:skatt-naering"}],
            "unwantedRights": [{"resource": [{"id": "urn:altinn:resource", "value": crate::requests::PAYROLL}]}]});
        let path = format!("/authentication/api/v1/systemuser/changerequest/vendor?correlation-id={correlation}&system-user-id={su}");
        let (status, first) = call(&server, Method::POST, &path, Some(&writer), Some(&change.to_string())).await;
        assert_eq!(status, 201, "{first}");
        let page = manager.get(first["confirmUrl"].as_str().unwrap()).await;
        assert_eq!(page.status, 200, "{}", page.body);
        let (added, removed) = page.body.split_once("Dette blir fjernet").expect("a removal section");
        assert!(added.contains("Dette blir lagt til") && added.contains("Skatt næring"), "{added}");
        assert!(removed.contains("Tjeneste"), "{removed}");
        // The clerk is no access manager: AUTH-00066's text, no form.
        let mut clerk = logged_in(&db, CLERK);
        let refused = clerk.get(first["confirmUrl"].as_str().unwrap()).await;
        assert_eq!(refused.status, 403);
        let token = csrf(&page);
        let done = manager.post_form(&format!("{base}/systemuser/changerequest"), &[("id", &correlation), ("action", "approve"), ("csrf", &token)], &[]).await;
        assert_eq!(done.status, 303, "{}", done.body);
        assert_eq!(done.location, format!("{UI}/systemuser/changerequest?id={correlation}"), "no redirect URL: back to the change request");
        let after = manager.get(&format!("{}{}", server.public_url, done.location)).await;
        assert!(after.body.contains("Endringen er godkjent"), "{}", after.body);
        let (_, holds) = call(&server, Method::GET, &format!("/authentication/api/v1/systemuser/{customer}/{su}/delegations"), Some(&manager_token), None).await;
        assert_eq!(holds["rights"], json!([]), "the payroll right is gone: {holds}");
    }
}

#[tokio::test]
async fn cookies_are_secure_behind_https() {
    let db = databases().await.remove(0);
    let server = TestServer::start_with(&db, |o| {
        o.test_data = true;
        o.public_url = "https://fullmakt.example".into();
    })
    .await;
    seed(&server).await;
    people(&server).await;
    let mut manager = logged_in(&db, MANAGER);
    let page = manager.get(&format!("{}{UI}/systemuser/overview?lang=nn", server.base)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let set = page.set_cookies();
    assert!(set.iter().any(|c| c.starts_with("fullmakt_portal=") && c.contains("; Secure") && c.contains("HttpOnly")), "{set:?}");
    assert!(set.iter().any(|c| c.starts_with("fullmakt_lang=nn") && c.contains("; Secure")), "{set:?}");
    // A form from the https origin is accepted, from the plain one refused.
    let token = csrf(&page);
    let refused = manager.post_form(&format!("{}{UI}/logout", server.base), &[("csrf", &token)], &[("origin", &server.base)]).await;
    assert_eq!(refused.status, 403);
    let out = manager.post_form(&format!("{}{UI}/logout", server.base), &[("csrf", &token)], &[("origin", "https://fullmakt.example")]).await;
    assert_eq!(out.status, 303);
    assert!(out.set_cookies().iter().all(|c| c.contains("; Secure")), "{:?}", out.set_cookies());
}
