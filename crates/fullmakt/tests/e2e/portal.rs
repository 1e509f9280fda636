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

// ---------------------------------------------------------------------------------------------
// An agent system user's clients (`…/systemuser/{id}/agentdelegation`)

/// `n` valid organisation numbers from `start` on (MOD11), for client organisations.
pub(crate) fn org_numbers(start: u32, n: usize) -> Vec<String> {
    (start..start + 100_000).map(|o| o.to_string()).filter(|o| fullmakt_domain::OrganisationNumber::parse(o).is_ok()).take(n).collect()
}

/// Client organisations of `facilitator`: each `(name, role)` a unit whose ER role (`REGN`,
/// `REVI`, …) is held by the facilitator. Returns them as the register has them.
pub(crate) async fn add_clients(server: &TestServer, facilitator: &str, clients: &[(&str, &str)]) -> Vec<fullmakt_store::PartyRow> {
    use fullmakt_service::register::{add_organisation, add_role, NewOrganisation, NewRole, RoleHolder};
    let mut out = Vec::new();
    for ((name, role), org) in clients.iter().zip(org_numbers(311_000_000, clients.len())) {
        let input = NewOrganisation { org_number: org.clone(), name: (*name).into(), unit_type: Some("AS".into()), ..Default::default() };
        add_organisation(&server.store, &input).await.unwrap();
        let role = NewRole { unit: org.clone(), role: (*role).into(), holder: RoleHolder::Organisation(facilitator.into()) };
        add_role(&server.store, &role, fullmakt_domain::SyntheticNumbers::Refuse).await.unwrap();
        out.push(server.store.find_party(fullmakt_store::PartyKey::OrgNumber(&org)).await.unwrap().unwrap());
    }
    out
}

/// A vendor system asking for `package` for clients, and its agent request from `facilitator`
/// approved by `approver` (a person token): the agent system user's id.
pub(crate) async fn approved_agent(server: &TestServer, facilitator: (i64, &str), approver: &str, system: &str, package: &str) -> String {
    let writer = api_token(server, VENDOR_ORG, &[REQUEST_WRITE, REQUEST_READ]).await;
    let system = register_system(server, system, |s| {
        s["accessPackages"] = json!([{"urn": package}]);
        s["rights"] = json!([]);
        s["isVisible"] = json!(false);
    })
    .await;
    let body = json!({"systemId": system, "partyOrgNo": facilitator.1, "accessPackages": [{"urn": package}]});
    let (status, created) = post_request(server, &writer, "vendor/agent", &body).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let approve = format!("/authentication/api/v1/systemuser/request/agent/{}/{id}/approve", facilitator.0);
    assert_eq!(call(server, Method::POST, &approve, Some(approver), None).await, (200, json!(true)));
    id
}

/// What the owner gave the agent for itself (the own organisation), from the store.
async fn own_grants(server: &TestServer, owner: i64, agent: &str) -> usize {
    server.store.grants_from(owner, agent).await.unwrap().len()
}

/// The names of the clients delegated to the agent, from the store.
async fn delegated(server: &TestServer, agent: &str) -> Vec<String> {
    let mut names: Vec<String> = server.store.clients_of_agent(agent).await.unwrap().into_iter().map(|p| p.name).collect();
    names.sort();
    names
}

#[tokio::test]
async fn a_client_administrator_adds_and_removes_clients_of_an_agent_system_user() {
    for db in databases().await {
        eprintln!("store: {}", db.name);
        let (server, _, customer) = start(&db).await;
        let clients = add_clients(&server, CUSTOMER, &[("Klient Alfa AS", "REGN"), ("Klient Beta AS", "REGN"), ("Klient Gamma AS", "REGN"), ("Revisjonsklient AS", "REVI")]).await;
        let (alfa, beta, audited) = (&clients[0], &clients[1], &clients[3]);
        let agent = approved_agent(&server, (customer, CUSTOMER), &person_token(&db, MANAGER), "accounting", crate::requests::CLIENT_PACKAGE).await;
        let base = format!("{}{UI}", server.public_url);
        let page_url = format!("{base}/systemuser/{agent}/agentdelegation");
        let mut manager = logged_in(&db, MANAGER);

        // The overview links the agent to its clients page; its details and delete pages lead there.
        let overview = manager.get(&format!("{base}/systemuser/overview")).await;
        assert!(overview.body.contains(&format!("{UI}/systemuser/{agent}/agentdelegation")), "{}", overview.body);
        let details = manager.get(&format!("{base}/systemuser/{agent}")).await;
        assert_eq!((details.status, details.location.as_str()), (303, format!("{UI}/systemuser/{agent}/agentdelegation").as_str()));
        let delete = manager.get(&format!("{base}/systemuser/{agent}/delete")).await;
        assert_eq!((delete.status, delete.location.as_str()), (303, format!("{UI}/systemuser/{agent}/agentdelegation/delete").as_str()));

        // The page: the package, nothing connected yet, the three clients with REGN; the client
        // that gave only REVI is not offered, and the own organisation is not offered either
        // (`regnskapsforer-lonn` is for clients only).
        let page = manager.get(&page_url).await;
        assert_eq!(page.status, 200, "{}", page.body);
        for words in ["Systemtilgangen har 1 tilgangspakke", "Regnskapsfører lønn", "Klienter koblet til systemtilgangen", "Ingen klienter er lagt til ennå",
            "Klient Alfa AS", "Klient Beta AS", "Klient Gamma AS", "Legg til alle klienter (3 klienter)", "Legg til i systemtilgang", "Søk etter klient"] {
            assert!(page.body.contains(words), "{words} missing: {}", page.body);
        }
        assert!(!page.body.contains("Revisjonsklient AS") && !page.body.contains("Legg til din virksomhet"), "{}", page.body);
        assert!(!page.body.contains("Kun klientadministratorer"), "{}", page.body);
        let token = csrf(&page);

        // Search by name (any case) and by organisation number with a space in it.
        let found = manager.get(&format!("{page_url}?q=alfa")).await;
        assert!(found.body.contains("Klient Alfa AS") && !found.body.contains("Klient Beta AS"), "{}", found.body);
        let spaced = format!("{} {}", &beta.org_number.as_deref().unwrap()[..3], &beta.org_number.as_deref().unwrap()[3..]);
        let found = manager.get(&format!("{page_url}?q={}", url::form_urlencoded::byte_serialize(spaced.as_bytes()).collect::<String>())).await;
        assert!(found.body.contains("Klient Beta AS") && !found.body.contains("Klient Alfa AS"), "{}", found.body);
        let none = manager.get(&format!("{page_url}?q=ingen-slik")).await;
        assert!(none.body.contains("Ingen klienter passer til søket «ingen-slik»"), "{}", none.body);

        // Forged forms change nothing: no token, another token, another origin.
        for (form, headers) in [
            (vec![("action", "add"), ("client", alfa.party_uuid.as_str())], vec![]),
            (vec![("action", "add"), ("client", alfa.party_uuid.as_str()), ("csrf", "x".repeat(43).as_str())], vec![]),
            (vec![("action", "add"), ("client", alfa.party_uuid.as_str()), ("csrf", token.as_str())], vec![("origin", "https://evil.example")]),
        ] {
            let form: Vec<(&str, &str)> = form;
            assert_eq!(manager.post_form(&page_url, &form, &headers).await.status, 403);
            assert_eq!(manager.post_form(&format!("{page_url}/all"), &form, &headers).await.status, 403);
        }
        assert!(delegated(&server, &agent).await.is_empty());

        // Add one: back to the page (the search kept), which says so and lists it as connected.
        let added = manager.post_form(&page_url, &[("action", "add"), ("client", &alfa.party_uuid), ("q", "klient"), ("csrf", &token)], &[]).await;
        assert_eq!(added.status, 303, "{}", added.body);
        assert_eq!(added.location, format!("{UI}/systemuser/{agent}/agentdelegation?q=klient&done=added&client={}", alfa.party_uuid));
        assert_eq!(delegated(&server, &agent).await, ["Klient Alfa AS"]);
        let after = manager.get(&format!("{}{}", server.public_url, added.location)).await;
        assert!(after.body.contains("Klient Alfa AS er lagt til i systemtilgangen.") && after.body.contains("Fjern fra systemtilgang"), "{}", after.body);
        assert!(after.body.contains("Legg til alle klienter (2 klienter)"), "{}", after.body);
        // Twice is the same (idempotent).
        assert_eq!(manager.post_form(&page_url, &[("action", "add"), ("client", &alfa.party_uuid), ("csrf", &token)], &[]).await.status, 303);
        assert_eq!(delegated(&server, &agent).await, ["Klient Alfa AS"]);
        // Hiding the added ones: Alfa is connected, no longer offered.
        let hidden = manager.get(&format!("{page_url}?hide=true")).await;
        let offered = hidden.body.split("Legg til eller fjern klienter").nth(1).unwrap();
        assert!(!offered.contains("Klient Alfa AS") && offered.contains("Klient Beta AS") && offered.contains("checked"), "{offered}");

        // Refusals are shown on the page with their reason, and change nothing.
        let refused = |response: &Reply, status: u16, words: &str| {
            assert_eq!(response.status, status, "{}", response.body);
            assert!(response.body.contains(words), "{words} missing: {}", response.body);
        };
        refused(&manager.post_form(&page_url, &[("action", "add"), ("client", "not-a-uuid"), ("csrf", &token)], &[]).await, 400, "Klienten finnes ikke blant virksomhetens klienter");
        refused(&manager.post_form(&page_url, &[("action", "add"), ("client", &audited.party_uuid), ("csrf", &token)], &[]).await, 400, "Klienten har ikke gitt virksomheten alle tilgangspakkene");
        refused(&manager.post_form(&page_url, &[("action", "remove"), ("client", &beta.party_uuid), ("csrf", &token)], &[]).await, 400, "Klienten er ikke lagt til i systemtilgangen");
        refused(&manager.post_form(&page_url, &[("action", "add-own"), ("csrf", &token)], &[]).await, 400, "Din virksomhet kan ikke legges til");
        // Malformed forms and ids: a 4xx page, never a 500.
        assert_eq!(manager.post_form(&page_url, &[("action", "add-everything"), ("client", &beta.party_uuid), ("csrf", &token)], &[]).await.status, 400);
        assert_eq!(manager.post_form(&page_url, &[("action", "add"), ("csrf", &token)], &[]).await.status, 400);
        assert_eq!(manager.get(&format!("{page_url}?q=a&q=b")).await.status, 400);
        assert_eq!(manager.get(&format!("{base}/systemuser/not-a-uuid/agentdelegation")).await.status, 404);
        let unknown = uuid::Uuid::new_v4();
        assert_eq!(manager.get(&format!("{base}/systemuser/{unknown}/agentdelegation")).await.status, 404);
        assert_eq!(manager.post_form(&format!("{base}/systemuser/{unknown}/agentdelegation"), &[("action", "add"), ("client", &beta.party_uuid), ("csrf", &token)], &[]).await.status, 404);
        assert_eq!(manager.post_form(&format!("{base}/systemuser/{unknown}/agentdelegation/all"), &[("csrf", &token)], &[]).await.status, 404);
        assert_eq!(delegated(&server, &agent).await, ["Klient Alfa AS"]);

        // Add all: a streamed page with a row per client, then the summary.
        let all = manager.post_form(&format!("{page_url}/all"), &[("csrf", &token)], &[]).await;
        assert_eq!(all.status, 200, "{}", all.body);
        assert_eq!(all.headers["content-type"], "text/html; charset=utf-8");
        assert_eq!(all.headers["x-accel-buffering"], "no");
        assert!(all.headers.get("content-length").is_none(), "streamed, not buffered: {:?}", all.headers);
        assert!(all.body.contains("role=\"log\"") && all.body.contains("2 av 2 klienter ble lagt til.") && all.body.contains("id=\"summary-heading\""), "{}", all.body);
        assert_eq!(all.body.matches("data-outcome=\"added\"").count(), 2, "{}", all.body);
        assert!(all.body.trim_end().ends_with("</html>"), "the page is whole: {}", all.body);
        assert_eq!(delegated(&server, &agent).await, ["Klient Alfa AS", "Klient Beta AS", "Klient Gamma AS"]);
        let again = manager.post_form(&format!("{page_url}/all"), &[("csrf", &token)], &[]).await;
        assert!(again.body.contains("Alle klientene var allerede lagt til.") && again.body.contains("0 av 0 klienter"), "{}", again.body);
        let page = manager.get(&page_url).await;
        assert!(!page.body.contains("Legg til alle klienter") && !page.body.contains("Legg til i systemtilgang"), "{}", page.body);
        let hidden = manager.get(&format!("{page_url}?hide=true")).await;
        assert!(hidden.body.contains("Alle klientene er lagt til."), "{}", hidden.body);

        // Remove one.
        let removed = manager.post_form(&page_url, &[("action", "remove"), ("client", &beta.party_uuid), ("csrf", &token)], &[]).await;
        assert_eq!(removed.status, 303, "{}", removed.body);
        assert_eq!(delegated(&server, &agent).await, ["Klient Alfa AS", "Klient Gamma AS"]);
        let after = manager.get(&format!("{}{}", server.public_url, removed.location)).await;
        assert!(after.body.contains("Klient Beta AS er fjernet fra systemtilgangen."), "{}", after.body);

        // In English too.
        let en = manager.get(&format!("{page_url}?lang=en")).await;
        assert!(en.body.contains("Clients connected to the system access") && en.body.contains("Add all clients (1 client)"), "{}", en.body);
        manager.get(&format!("{page_url}?lang=nb")).await;

        // Delete: a confirmation step with §5.3's warning, then the agent and its clients are gone.
        let confirm = manager.get(&format!("{page_url}/delete")).await;
        assert_eq!(confirm.status, 200, "{}", confirm.body);
        assert!(confirm.body.contains("Klienter som er tilordnet systemtilgangen vil også bli fjernet."), "{}", confirm.body);
        assert_eq!(manager.post_form(&format!("{page_url}/delete"), &[("csrf", "nope")], &[]).await.status, 403);
        assert_eq!(delegated(&server, &agent).await.len(), 2);
        let gone = manager.post_form(&format!("{page_url}/delete"), &[("csrf", &token)], &[]).await;
        assert_eq!((gone.status, gone.location.as_str()), (303, "/accessmanagement/ui/systemuser/overview?deleted=true"), "{}", gone.body);
        assert!(server.store.system_user(&agent).await.unwrap().unwrap().is_deleted != 0);
        assert!(delegated(&server, &agent).await.is_empty());
        assert_eq!(manager.post_form(&format!("{page_url}/delete"), &[("csrf", &token)], &[]).await.status, 404);
        assert_eq!(manager.get(&page_url).await.status, 404);
    }
}

#[tokio::test]
async fn only_client_administrators_manage_clients_and_the_own_organisation_is_offered_when_it_can_be() {
    for db in databases().await {
        eprintln!("store: {}", db.name);
        let (server, _, customer) = start(&db).await;
        let clients = add_clients(&server, CUSTOMER, &[("Klient Alfa AS", "REGN")]).await;
        let manager_token = person_token(&db, MANAGER);
        let agent = approved_agent(&server, (customer, CUSTOMER), &manager_token, "accounting", crate::requests::CLIENT_PACKAGE).await;
        let base = format!("{}{UI}", server.public_url);
        let page_url = format!("{base}/systemuser/{agent}/agentdelegation");

        // An access manager who is no client administrator (the `tilgangsstyrer` package, not
        // `klientadministrator`): sees the agent and §6's warning instead of the controls, and a
        // post is refused.
        let owner = fullmakt_service::grants::organisation(&server.store, CUSTOMER).await.unwrap();
        let person = server.store.find_party(fullmakt_store::PartyKey::PersonIdentifier(STRANGER)).await.unwrap().unwrap();
        let to = fullmakt_service::grants::Recipient::Party(person);
        fullmakt_service::grants::grant_package(&server.store, fullmakt_domain::Catalogue::embedded(), &owner, &to, crate::requests::ADMIN_PACKAGE).await.unwrap();
        let mut access_manager = logged_in(&db, STRANGER);
        let overview = access_manager.get(&format!("{base}/systemuser/overview")).await;
        assert!(overview.body.contains(&format!("{UI}/systemuser/{agent}/agentdelegation")), "{}", overview.body);
        let page = access_manager.get(&page_url).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.body.contains("Kun klientadministratorer kan administrere klienter."), "{}", page.body);
        assert!(!page.body.contains("Klient Alfa AS") && !page.body.contains("Legg til i systemtilgang") && !page.body.contains("Legg til alle"), "{}", page.body);
        let token = csrf(&page);
        let refused = access_manager.post_form(&page_url, &[("action", "add"), ("client", &clients[0].party_uuid), ("csrf", &token)], &[]).await;
        assert_eq!(refused.status, 403, "{}", refused.body);
        assert!(refused.body.contains("Kun klientadministratorer"), "{}", refused.body);
        let refused = access_manager.post_form(&format!("{page_url}/all"), &[("csrf", &token)], &[]).await;
        assert_eq!(refused.status, 403, "{}", refused.body);
        assert!(delegated(&server, &agent).await.is_empty());
        // The clerk may not even see the agent.
        let mut clerk = logged_in(&db, CLERK);
        assert_eq!(clerk.get(&page_url).await.status, 403);
        let token = csrf(&clerk.get(&format!("{base}/systemuser/overview")).await);
        assert_eq!(clerk.post_form(&page_url, &[("action", "add"), ("client", &clients[0].party_uuid), ("csrf", &token)], &[]).await.status, 403);
        assert_eq!(clerk.post_form(&format!("{page_url}/delete"), &[("csrf", &token)], &[]).await.status, 403);
        assert!(delegated(&server, &agent).await.is_empty());
        assert!(server.store.system_user(&agent).await.unwrap().unwrap().is_deleted == 0);

        // An agent whose package can go to the organisation itself (`lonn`): no client gives it
        // (the empty-list text), and the own organisation can be added and removed.
        let own = approved_agent(&server, (customer, CUSTOMER), &manager_token, "payroll-agent", crate::requests::PACKAGE).await;
        let own_url = format!("{base}/systemuser/{own}/agentdelegation");
        let mut manager = logged_in(&db, MANAGER);
        let page = manager.get(&own_url).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.body.contains("Det finnes ingen klienter enda. Klienter må gi fullmakt til tilgangspakkene"), "{}", page.body);
        assert!(page.body.contains("Legg til din virksomhet") && !page.body.contains("Legg til alle"), "{}", page.body);
        let token = csrf(&page);
        assert_eq!(own_grants(&server, customer, &own).await, 0);
        let added = manager.post_form(&own_url, &[("action", "add-own"), ("csrf", &token)], &[]).await;
        assert_eq!((added.status, added.location.as_str()), (303, format!("{UI}/systemuser/{own}/agentdelegation?done=own-added").as_str()), "{}", added.body);
        assert!(own_grants(&server, customer, &own).await > 0);
        let after = manager.get(&format!("{}{}", server.public_url, added.location)).await;
        let connected = after.body.split("Klienter koblet til systemtilgangen").nth(1).unwrap();
        assert!(connected.contains("Din virksomhet") && connected.contains("Fjern din virksomhet") && !after.body.contains("Legg til din virksomhet"), "{}", after.body);
        assert!(after.body.contains("Din virksomhet er lagt til i systemtilgangen."), "{}", after.body);
        // The access manager who is no client administrator sees the warning, not the list.
        let theirs = access_manager.get(&own_url).await;
        assert!(theirs.body.contains("Kun klientadministratorer") && !theirs.body.contains("Fjern din virksomhet"), "{}", theirs.body);
        let removed = manager.post_form(&own_url, &[("action", "remove-own"), ("csrf", &token)], &[]).await;
        assert_eq!(removed.status, 303, "{}", removed.body);
        assert_eq!(own_grants(&server, customer, &own).await, 0);
        let after = manager.get(&format!("{}{}", server.public_url, removed.location)).await;
        assert!(after.body.contains("Din virksomhet er fjernet fra systemtilgangen.") && after.body.contains("Legg til din virksomhet"), "{}", after.body);
    }
}
