//! The portal in a real browser (headless Chromium): the journeys a customer organisation's
//! people make, logged in through the test identity provider's pages, with axe-core run on every
//! page and a screenshot of each (`target/screenshots/portal-*.png`). SQLite only: the same
//! flows run on both stores over HTTP in `portal.rs`; here the browser is what is tested.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use crate::browser::Browser;
use crate::harness::*;
use crate::login::{add_person, synthetic_pids};
use crate::requests::{post_request, register_system, seed, standard_request, CUSTOMER, REQUEST_READ, REQUEST_WRITE};

const WAIT: Duration = Duration::from_secs(10);
const UI: &str = "/accessmanagement/ui";

/// A test-data server with the customer, the payroll system, and three synthetic people: the managing
/// director, a clerk with one package from the customer, and a stranger.
struct Scene {
    server: TestServer,
    vendor: Vendor,
    db: TestDb,
    writer: String,
    system: String,
    landing: String,
    manager: String,
    clerk: String,
    stranger: String,
}

async fn scene() -> Option<(Browser, Scene)> {
    let browser = Browser::start_with_languages("nb-NO,nb,en").await?;
    let db = databases().await.remove(0);
    let server = TestServer::start_test_data(&db).await;
    let vendor = Vendor::setup(&server).await;
    seed(&server).await;
    let pids = synthetic_pids(3);
    add_person(&server, &pids[0], "Kari Daglig Leder").await;
    add_person(&server, &pids[1], "Ola Kontor").await;
    add_person(&server, &pids[2], "Per Fremmed").await;
    use fullmakt_service::register::{add_role, NewRole, RoleHolder};
    add_role(&server.store, &NewRole { unit: CUSTOMER.into(), role: "daglig-leder".into(), holder: RoleHolder::Person(pids[0].clone()) }, fullmakt_domain::SyntheticNumbers::Accept)
        .await
        .unwrap();
    let customer = fullmakt_service::grants::organisation(&server.store, CUSTOMER).await.unwrap();
    let clerk = server.store.find_party(fullmakt_store::PartyKey::PersonIdentifier(&pids[1])).await.unwrap().unwrap();
    fullmakt_service::grants::grant_package(&server.store, fullmakt_domain::Catalogue::embedded(), &customer, &fullmakt_service::grants::Recipient::Party(clerk), "urn:altinn:accesspackage:skatt-naering")
        .await
        .unwrap();
    // The vendor's site (redirect URLs must be https; the browser only has to get there, not
    // load it, on this machine without a network).
    let landing = "https://vendor.example/callback".to_owned();
    let client = vendor.client_id.clone();
    let system = register_system(&server, "payroll", move |s| s["clientId"] = json!([client])).await;
    let writer = api_token(&server, VENDOR_ORG, &[REQUEST_WRITE, REQUEST_READ]).await;
    let scene = Scene { server, vendor, db, writer, system, landing, manager: pids[0].clone(), clerk: pids[1].clone(), stranger: pids[2].clone() };
    Some((browser, scene))
}

impl Scene {
    /// A standard request from the vendor; `redirect` adds the landing page as its redirect URL.
    async fn request(&self, external_ref: &str, redirect: bool) -> (String, String) {
        let mut body = standard_request(&self.system);
        body["externalRef"] = json!(external_ref);
        if redirect {
            body["redirectUrl"] = json!(format!("{}?state=42", self.landing));
        } else {
            body.as_object_mut().unwrap().remove("redirectUrl");
        }
        let (status, created) = post_request(&self.server, &self.writer, "vendor", &body).await;
        assert_eq!(status, 201, "{created}");
        let id = created["id"].as_str().unwrap().to_owned();
        let confirm = created["confirmUrl"].as_str().unwrap().strip_prefix(&self.server.public_url).unwrap().to_owned();
        (id, confirm)
    }

    async fn status(&self, id: &str) -> Value {
        call(&self.server, Method::GET, &format!("/authentication/api/v1/systemuser/request/vendor/{id}"), Some(&self.writer), None).await.1["status"].clone()
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.public_url)
    }
}

/// Checks the page with axe-core and saves its screenshot.
async fn look(browser: &Browser, name: &str) {
    browser.check_accessibility(name).await;
    browser.screenshot(name).await;
}

#[tokio::test]
async fn browser_portal_approve_with_the_keyboard_and_land_on_the_vendors_page() {
    let Some((browser, s)) = scene().await else { return };
    let (id, confirm) = s.request("ref-keyboard", true).await;

    // The vendor's confirm link, then the test identity provider, then back to the request.
    browser.log_in(&s.server, &s.manager, &confirm).await;
    browser.wait_for("button[value=approve]", WAIT).await;
    let page = browser.page_source().await;
    for words in ["Gi tilgang til system", "Leverandør AS", "Lønnssystemet", "Lønn", "Personale", "Tjeneste", "Kunde AS"] {
        assert!(page.contains(words), "{words} missing");
    }
    look(&browser, "portal-request").await;
    let session = browser.cookie("fullmakt_portal").await.expect("a portal session");
    assert!(session.http_only && session.same_site.as_deref() == Some("Lax"), "{session:?}");

    // Keyboard only: Tab to the approve button, Enter.
    let approve = browser.tab_to("button[value=approve]", 40).await;
    assert_eq!(approve.text().await, "Godkjenn systemtilgang");
    browser.press_enter().await;
    let landed = browser.wait_for_url(|u| u.starts_with(&s.landing), WAIT).await;
    assert_eq!(landed, format!("{}?state=42", s.landing), "on the vendor's redirect URL");
    assert_eq!(s.status(&id).await, "Accepted");

    // The vendor gets a system-user token at once.
    let grant = s.vendor.grant_with(|_, c| {
        c["authorization_details"] = json!([{"type": "urn:altinn:systemuser",
            "systemuser_org": {"authority": "iso6523-actorid-upis", "ID": format!("0192:{CUSTOMER}")}, "externalRef": "ref-keyboard"}]);
    });
    let (status, body) = s.server.post_grant(&grant).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(decode_jwt_part(body["access_token"].as_str().unwrap(), 1)["authorization_details"][0]["systemuser_id"], json!([id]));
    // Logged out: the portal asks for a login again.
    browser.goto(&s.url(&format!("{UI}/systemuser/overview"))).await;
    browser.wait_for_url(|u| u.contains("/testidp/login"), WAIT).await;
}

#[tokio::test]
async fn browser_portal_escalate_then_the_manager_rejects_from_the_overview() {
    let Some((browser, s)) = scene().await else { return };
    let (id, confirm) = s.request("ref-escalate", false).await;

    // A stranger is told they may not approve.
    browser.log_in(&s.server, &s.stranger, &confirm).await;
    assert!(browser.page_source().await.contains("ikke tilstrekkelige fullmakter"));
    look(&browser, "portal-error").await;
    browser.delete_all_cookies().await;

    // The clerk belongs to the customer: the escalation box instead of the buttons.
    browser.log_in(&s.server, &s.clerk, &confirm).await;
    browser.wait_for("button[value=escalate]", WAIT).await;
    assert!(browser.find_all("button[value=approve]").await.is_empty());
    look(&browser, "portal-escalate").await;
    browser.find("button[value=escalate]").await.click().await;
    browser.wait_for_url(|u| u.contains("escalated=true"), WAIT).await;
    assert!(browser.page_source().await.contains("Forespørsel sendt videre"));
    look(&browser, "portal-escalated").await;
    assert_eq!(s.status(&id).await, "New");
    browser.delete_all_cookies().await;

    // The manager finds it in the overview and rejects it from there.
    browser.log_in(&s.server, &s.manager, &format!("{UI}/systemuser/overview")).await;
    let link = browser.wait_for(&format!("a[href*='{id}']"), WAIT).await;
    assert!(link.text().await.contains("Godkjenn egen systemtilgang"));
    look(&browser, "portal-overview-pending").await;
    link.click().await;
    browser.wait_for("button[value=reject]", WAIT).await.click().await;
    browser.wait_for_url(|u| u.ends_with("/systemuser/overview"), WAIT).await;
    assert_eq!(s.status(&id).await, "Rejected");
    assert!(browser.find_all(&format!("a[href*='{id}']")).await.is_empty(), "no longer pending");
}

#[tokio::test]
async fn browser_portal_create_see_and_delete_a_system_user_in_three_languages() {
    let Some((browser, s)) = scene().await else { return };
    browser.log_in(&s.server, &s.manager, &format!("{UI}/systemuser/overview")).await;
    look(&browser, "portal-overview").await;

    // Create: choose the system, see what it gets, create.
    browser.find(&format!("a[href='{UI}/systemuser/create']")).await.click().await;
    browser.wait_for("select#system", WAIT).await;
    look(&browser, "portal-create").await;
    browser.find(&format!("option[value='{}']", s.system)).await.click().await;
    browser.find("main form[method=get] button[type=submit]").await.click().await;
    browser.wait_for_url(|u| u.contains("system="), WAIT).await;
    assert!(browser.page_source().await.contains("Lønnssystemet får disse fullmaktene"));
    look(&browser, "portal-create-confirm").await;
    browser.find("main form[method=post] button[type=submit]").await.click().await;
    browser.wait_for_url(|u| u.contains("created=true"), WAIT).await;
    let details = browser.page_source().await;
    assert!(details.contains("Systemtilgangen er opprettet") && details.contains("Lønn"), "the details page");
    look(&browser, "portal-details").await;

    // Languages: the switch, remembered on the next page.
    browser.find("nav.portal-language a[lang=en]").await.click().await;
    browser.wait_for("html[lang=en]", WAIT).await;
    assert!(browser.page_source().await.contains("Delete system access"));
    look(&browser, "portal-details-en").await;
    browser.find("nav.portal-language a[lang=nn]").await.click().await;
    browser.wait_for("html[lang=nn]", WAIT).await;
    assert!(browser.page_source().await.contains("Systemtilgang oppretta"));
    browser.find("nav.portal-language a[lang=nb]").await.click().await;
    browser.wait_for("html[lang=nb]", WAIT).await;

    // Delete: the confirmation step, then the system user is gone.
    browser.find("a[href$='/delete']").await.click().await;
    browser.wait_for("form[method=post] button[data-color=danger]", WAIT).await;
    look(&browser, "portal-delete").await;
    browser.find("form[method=post] button[data-color=danger]").await.click().await;
    browser.wait_for_url(|u| u.contains("deleted=true"), WAIT).await;
    assert!(browser.page_source().await.contains("Systemtilgangen er slettet"));
    let customer = s.server.store.find_party(fullmakt_store::PartyKey::OrgNumber(CUSTOMER)).await.unwrap().unwrap();
    let token = person_token(&s.db, &s.manager);
    let (_, list) = call(&s.server, Method::GET, &format!("/authentication/api/v1/systemuser/{}", customer.party_id), Some(&token), None).await;
    assert_eq!(list, json!([]));

    // The party picker and logout.
    browser.find("a[href*='/party?goto=']").await.click().await;
    browser.wait_for("fieldset.ds-fieldset", WAIT).await;
    look(&browser, "portal-party").await;
    browser.find("form.portal-logout button").await.click().await;
    browser.wait_for_url(|u| u.ends_with("/loggedout"), WAIT).await;
    look(&browser, "portal-logged-out").await;
    assert!(browser.cookie("fullmakt_portal").await.is_none() && browser.cookie("AltinnStudioRuntime").await.is_none());
}

#[tokio::test]
async fn browser_portal_approve_a_change_request() {
    let Some((browser, s)) = scene().await else { return };
    let (su, _) = s.request("ref-change", false).await;
    let customer = s.server.store.find_party(fullmakt_store::PartyKey::OrgNumber(CUSTOMER)).await.unwrap().unwrap();
    let manager = person_token(&s.db, &s.manager);
    let (status, _) = call(&s.server, Method::POST, &format!("/authentication/api/v1/systemuser/request/{}/{su}/approve", customer.party_id), Some(&manager), None).await;
    assert_eq!(status, 200);
    let correlation = uuid::Uuid::new_v4().to_string();
    let change = json!({"requiredAccessPackages": [{"urn": "urn:altinn:accesspackage:skatt-naering"}],
        "unwantedRights": [{"resource": [{"id": "urn:altinn:resource", "value": crate::requests::PAYROLL}]}]});
    let path = format!("/authentication/api/v1/systemuser/changerequest/vendor?correlation-id={correlation}&system-user-id={su}");
    let (status, created) = call(&s.server, Method::POST, &path, Some(&s.writer), Some(&change.to_string())).await;
    assert_eq!(status, 201, "{created}");
    let confirm = created["confirmUrl"].as_str().unwrap().strip_prefix(&s.server.public_url).unwrap().to_owned();

    browser.log_in(&s.server, &s.manager, &confirm).await;
    browser.wait_for("button[value=approve]", WAIT).await;
    let page = browser.page_source().await;
    assert!(page.contains("Dette blir lagt til") && page.contains("Skatt næring") && page.contains("Dette blir fjernet"));
    look(&browser, "portal-change-request").await;
    browser.find("button[value=approve]").await.click().await;
    browser.wait_for_url(|u| !u.contains("DONTCHOOSEREPORTEE"), WAIT).await;
    assert!(browser.page_source().await.contains("Endringen er godkjent"));
    let (_, holds) = call(&s.server, Method::GET, &format!("/authentication/api/v1/systemuser/{}/{su}/delegations", customer.party_id), Some(&manager), None).await;
    assert_eq!(holds["rights"], json!([]), "{holds}");
}

#[tokio::test]
async fn browser_portal_manage_an_agents_clients_with_the_keyboard() {
    let Some((browser, s)) = scene().await else { return };
    let customer = s.server.store.find_party(fullmakt_store::PartyKey::OrgNumber(CUSTOMER)).await.unwrap().unwrap();
    let clients = crate::portal::add_clients(&s.server, CUSTOMER, &[("Klient Alfa AS", "REGN"), ("Klient Beta AS", "REGN"), ("Klient Gamma AS", "REGN")]).await;
    let manager = person_token(&s.db, &s.manager);
    let agent = crate::portal::approved_agent(&s.server, (customer.party_id, CUSTOMER), &manager, "accounting", crate::requests::CLIENT_PACKAGE).await;
    let connected = || async {
        let mut names: Vec<String> = s.server.store.clients_of_agent(&agent).await.unwrap().into_iter().map(|p| p.name).collect();
        names.sort();
        names
    };

    // From the overview to the agent's clients page.
    browser.log_in(&s.server, &s.manager, &format!("{UI}/systemuser/overview")).await;
    browser.wait_for(&format!("a[href$='/{agent}/agentdelegation']"), WAIT).await.click().await;
    browser.wait_for("#client-search", WAIT).await;
    let page = browser.page_source().await;
    for words in ["Klienter koblet til systemtilgangen", "Regnskapsfører lønn", "Klient Alfa AS", "Klient Gamma AS", "Legg til alle klienter (3 klienter)"] {
        assert!(page.contains(words), "{words} missing");
    }
    look(&browser, "portal-agent-clients-empty").await;

    // Keyboard only: search, Enter submits.
    browser.tab_to("#client-search", 60).await;
    browser.send_keys_to_active("beta").await;
    browser.press_enter().await;
    browser.wait_for_url(|u| u.contains("q=beta"), WAIT).await;
    let rows = browser.find_all("#clients > li").await;
    assert_eq!(rows.len(), 1);
    assert!(rows[0].text().await.contains("Klient Beta AS"));

    // Add the one found: Tab to its button, Enter; the page says so and the search stays.
    let add = browser.tab_to("#clients button[type=submit]", 40).await;
    assert!(add.text().await.starts_with("Legg til i systemtilgang"));
    browser.press_enter().await;
    browser.wait_for_url(|u| u.contains("done=added"), WAIT).await;
    assert!(browser.page_source().await.contains("Klient Beta AS er lagt til i systemtilgangen."));
    assert_eq!(browser.find("#client-search").await.attribute("value").await.as_deref(), Some("beta"));
    assert_eq!(connected().await, ["Klient Beta AS"]);

    // Add all: a page that fills in as each client is added, then the summary.
    let all = browser.tab_to("form[action$='/agentdelegation/all'] button", 60).await;
    assert!(all.text().await.contains("Legg til alle klienter (2 klienter)"));
    browser.press_enter().await;
    browser.wait_for("#summary-heading", WAIT).await;
    let summary = browser.page_source().await;
    assert!(summary.contains("2 av 2 klienter ble lagt til."), "the summary");
    assert_eq!(browser.find_all("li[data-outcome=added]").await.len(), 2);
    look(&browser, "portal-agent-clients-all").await;
    assert_eq!(connected().await, ["Klient Alfa AS", "Klient Beta AS", "Klient Gamma AS"]);

    // Back to the clients, and remove one with the keyboard.
    browser.tab_to("#summary a", 40).await;
    browser.press_enter().await;
    browser.wait_for_url(|u| u.ends_with("/agentdelegation"), WAIT).await;
    let alfa = &clients[0].party_uuid;
    let remove = browser.tab_to(&format!("section[aria-labelledby=delegated-heading] form:has(input[value='{alfa}']) button"), 60).await;
    assert!(remove.text().await.starts_with("Fjern fra systemtilgang"));
    browser.press_enter().await;
    browser.wait_for_url(|u| u.contains("done=removed"), WAIT).await;
    assert!(browser.page_source().await.contains("Klient Alfa AS er fjernet fra systemtilgangen."));
    assert_eq!(connected().await, ["Klient Beta AS", "Klient Gamma AS"]);
    browser.check_accessibility("portal-agent-clients").await;
    // The lists, for the README.
    browser.execute("document.getElementById('delegated-heading').scrollIntoView();", &[]).await;
    browser.screenshot("portal-agent-clients").await;
}
