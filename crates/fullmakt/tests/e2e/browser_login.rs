//! Person login in a real browser: from fullmakt's login start, through the test identity
//! provider's person page, to the page the login was for, with the keyboard only. The person
//! page must pass the accessibility check.

use std::time::Duration;

use crate::browser::{serious_violations_report, Browser};
use crate::harness::*;
use crate::login::{add_person, synthetic_pids};

const WAIT: Duration = Duration::from_secs(10);

#[tokio::test]
async fn browser_a_person_searches_and_logs_in_with_the_keyboard_only() {
    for db in databases().await {
        eprintln!("store: {}", db.name);
        // A session per store: cookies are per host, not per port, so one browser would carry
        // the first server's login into the second.
        let Some(browser) = Browser::start().await else { return };
        let server = TestServer::start_test_data(&db).await;
        let pids = synthetic_pids(2);
        add_person(&server, &pids[0], "Kari Testperson").await;
        add_person(&server, &pids[1], "Ola Nordmann").await;

        browser.goto(&format!("{}/authentication/api/v1/authentication?goto=/", server.base)).await;
        let person_page = format!("{}/testidp/login?", server.public_url);
        browser.wait_for_url(|u| u.starts_with(&person_page), WAIT).await;
        assert_eq!(browser.title().await, "Test login: choose a person");
        assert_eq!(browser.find_all("tbody tr").await.len(), 2, "both synthetic persons are offered");
        browser.check_accessibility("testidp-login").await;
        browser.screenshot(&format!("testidp-login-{}", db.name)).await;

        // Search: Tab to the search box, type, Enter.
        let search = browser.tab_to("input[name=q]", 5).await;
        assert_eq!(search.attribute("aria-label").await.as_deref(), Some("Search"));
        browser.send_keys_to_active("Ola").await;
        browser.press_enter().await;
        browser.wait_for_url(|u| u.starts_with(&person_page) && u.contains("q=Ola"), WAIT).await;
        let rows = browser.find_all("tbody tr").await;
        assert_eq!(rows.len(), 1, "the search leaves one person");
        assert!(rows[0].text().await.contains(&pids[1]), "{}", rows[0].text().await);
        assert_eq!(browser.find("input[name=q]").await.property("value").await, "Ola", "the search box keeps the search");
        browser.check_accessibility("testidp-login-search").await;
        browser.screenshot(&format!("testidp-login-search-{}", db.name)).await;

        // Choose: Tab to the person's button, Enter.
        let choose = browser.tab_to("tbody button", 10).await;
        assert_eq!(choose.text().await, "Log in as Ola Nordmann");
        browser.press_enter().await;
        let front = format!("{}/", server.public_url);
        browser.wait_for_url(|u| u == front, WAIT).await;

        let cookie = browser.cookie("AltinnStudioRuntime").await.expect("the login sets the AltinnStudioRuntime cookie");
        assert!(cookie.http_only, "{cookie:?}");
        assert_eq!(cookie.same_site.as_deref(), Some("Lax"), "{cookie:?}");
        assert_eq!(cookie.path, "/", "{cookie:?}");
        assert!(!cookie.secure, "an http public URL gets no Secure cookie: {cookie:?}");
        assert_eq!(decode_jwt_part(&cookie.value, 1)["pid"], pids[1].as_str(), "logged in as the chosen person");
        let scripts_see: serde_json::Value = browser.execute("return document.cookie;", &[]).await;
        assert!(!scripts_see.as_str().unwrap_or_default().contains("AltinnStudioRuntime"), "HttpOnly hides it from scripts: {scripts_see}");

        // The harness's shortcuts for tests that only need someone logged in: a token put in
        // the cookie works like one from a login …
        browser.delete_all_cookies().await;
        assert!(browser.cookie("AltinnStudioRuntime").await.is_none());
        let refresh = format!("{}/authentication/api/v1/refresh", server.public_url);
        assert_eq!(browser.log_in_with_token(&server, &cookie.value, "/authentication/api/v1/refresh").await, refresh);
        let refreshed = browser.find("body").await.text().await;
        assert_eq!(decode_jwt_part(refreshed.trim(), 1)["pid"], pids[1].as_str(), "{refreshed}");

        // … and so does the login with the provider's page in one call.
        browser.delete_all_cookies().await;
        assert_eq!(browser.log_in(&server, &pids[0], "/authentication/api/v1/refresh").await, refresh);
        let refreshed = browser.find("body").await.text().await;
        assert_eq!(decode_jwt_part(refreshed.trim(), 1)["pid"], pids[0].as_str(), "{refreshed}");
        drop(browser);
        server.stop().await;
    }
}

/// The harness itself: a browser asks for the languages it was started with, and the
/// accessibility check can fail — a page with an unlabelled field, no language and faint text
/// has serious violations, and the check names each with the offending element.
#[tokio::test]
async fn browser_harness_languages_and_an_accessibility_check_that_names_serious_violations() {
    let Some(browser) = Browser::start_with_languages("nb,en").await else { return };
    let page = "<!doctype html><html><head><title>Bad</title></head><body><main><h1>Bad</h1>\
                <form><input id=\"who\" name=\"who\"></form><p style=\"color:#bbb\">Faint text</p></main></body></html>";
    browser.goto(&format!("data:text/html,{}", url::form_urlencoded::byte_serialize(page.as_bytes()).collect::<String>().replace('+', "%20"))).await;
    assert_eq!(browser.title().await, "Bad");
    assert_eq!(browser.execute("return navigator.languages;", &[]).await, serde_json::json!(["nb", "en"]));

    let found = browser.accessibility_violations().await;
    let ids: Vec<&str> = found.iter().filter(|v| v.is_serious()).map(|v| v.id.as_str()).collect();
    for expected in ["label", "html-has-lang", "color-contrast"] {
        assert!(ids.contains(&expected), "{expected} not among {found:#?}");
    }
    let label = found.iter().find(|v| v.id == "label").unwrap();
    assert_eq!(label.targets, ["#who"]);

    // What the check fails the test with.
    let report = serious_violations_report("harness-bad-page", &found).expect("serious violations fail the check");
    assert!(report.starts_with(&format!("{} serious accessibility violation(s) on harness-bad-page:", ids.len())), "{report}");
    assert!(report.contains("label (critical): Form elements must have labels") && report.contains("at #who"), "{report}");
    assert!(report.contains("color-contrast (serious)"), "{report}");
    let minor_only: Vec<_> = found.into_iter().filter(|v| !v.is_serious()).collect();
    assert_eq!(serious_violations_report("harness-bad-page", &minor_only), None);
}
