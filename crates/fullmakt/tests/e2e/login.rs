//! Person login end to end: fullmakt's relying party against its built-in test identity
//! provider (over HTTP, as against any provider) and against a stand-in external provider that
//! can misbehave; the test identity provider's own endpoints; and instances without a provider.
//! A hand-driven browser (reqwest without automatic redirects, with a small cookie jar) walks
//! every step, so each redirect, cookie and page is seen and checked.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::response::IntoResponse;
use fullmakt::serve::LoginOptions;
use fullmakt_service::login::{pkce_challenge, ClientSecret};
use reqwest::header::HeaderMap;
use serde_json::{json, Value};
use tokio::net::TcpListener;

use crate::harness::*;

const LOGIN: &str = "/authentication/api/v1/authentication";
const CALLBACK: &str = "/authentication/api/v1/authentication/callback";
const REFRESH: &str = "/authentication/api/v1/refresh";
/// A person number that is not synthetic: never offered by the test identity provider.
const REAL_PERSON: &str = "01010012356";

/// `n` different valid person numbers starting with `prefix` (day, month, year).
fn pids(prefix: &str, n: usize) -> Vec<String> {
    let mut out = Vec::new();
    for individual in 100..1000 {
        for check in 0..100 {
            let candidate = format!("{prefix}{individual:03}{check:02}");
            if fullmakt_domain::PersonIdentifier::parse(&candidate, fullmakt_domain::SyntheticNumbers::Accept).is_ok() {
                out.push(candidate);
                break;
            }
        }
        if out.len() == n {
            return out;
        }
    }
    panic!("not enough person numbers");
}

/// `n` different synthetic (Tenor, month + 80) person numbers.
pub(crate) fn synthetic_pids(n: usize) -> Vec<String> {
    pids("018185", n)
}

pub(crate) async fn add_person(server: &TestServer, pid: &str, name: &str) -> fullmakt_service::register::PartyView {
    let input = fullmakt_service::register::NewPerson { person_identifier: pid.into(), name: name.into(), ..Default::default() };
    fullmakt_service::register::add_person(&server.store, &input, fullmakt_domain::SyntheticNumbers::Accept).await.unwrap()
}

/// One answer, with the redirect target and the body as text.
pub(crate) struct Reply {
    pub status: u16,
    pub location: String,
    pub body: String,
    pub headers: HeaderMap,
}

impl Reply {
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers.get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_owned()).collect()
    }
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// A browser that follows nothing by itself and keeps cookies by name and path.
pub(crate) struct Browser {
    http: reqwest::Client,
    pub cookies: Vec<(String, String, String)>,
}

impl Browser {
    pub fn new() -> Self {
        Self { http: reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap(), cookies: Vec::new() }
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies.iter().find(|(n, _, _)| n == name).map(|(_, v, _)| v.clone())
    }

    fn cookie_header(&self, url: &str) -> String {
        let path = url::Url::parse(url).unwrap().path().to_owned();
        self.cookies
            .iter()
            .filter(|(_, _, p)| path == *p || path.starts_with(&format!("{}/", p.trim_end_matches('/'))))
            .map(|(n, v, _)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn send(&mut self, request: reqwest::RequestBuilder, url: &str) -> Reply {
        let cookies = self.cookie_header(url);
        let request = if cookies.is_empty() { request } else { request.header("cookie", cookies) };
        let res = request.send().await.unwrap();
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let location = headers.get("location").map(|l| l.to_str().unwrap().to_owned()).unwrap_or_default();
        let reply = Reply { status, location, body: res.text().await.unwrap(), headers };
        for set in reply.set_cookies() {
            let mut parts = set.split(';').map(str::trim);
            let (name, value) = parts.next().unwrap().split_once('=').unwrap();
            let mut path = "/".to_owned();
            let mut gone = value.is_empty();
            for attribute in parts {
                if let Some(p) = attribute.strip_prefix("Path=") {
                    path = p.to_owned();
                }
                if attribute == "Max-Age=0" {
                    gone = true;
                }
            }
            self.cookies.retain(|(n, _, p)| !(n == name && *p == path));
            if !gone {
                self.cookies.push((name.to_owned(), value.to_owned(), path));
            }
        }
        reply
    }

    /// A browser's GET: asks for HTML.
    pub async fn get(&mut self, url: &str) -> Reply {
        let request = self.http.get(url).header("accept", "text/html");
        self.send(request, url).await
    }

    /// A GET with just these headers (no Accept: errors come as problem+json).
    pub async fn get_with(&mut self, url: &str, headers: &[(&str, &str)]) -> Reply {
        let mut request = self.http.get(url);
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        self.send(request, url).await
    }

    pub async fn post_form(&mut self, url: &str, form: &[(&str, &str)], headers: &[(&str, &str)]) -> Reply {
        let mut request = self.http.post(url).form(form);
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        self.send(request, url).await
    }
}

fn query(url: &str) -> HashMap<String, String> {
    url::Url::parse(url).unwrap().query_pairs().into_owned().collect()
}

/// A hidden form field's value on a page (the first with that name).
fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).unwrap_or_else(|| panic!("no {name} in {html}")) + marker.len();
    html[start..start + html[start..].find('"').unwrap()].to_owned()
}

/// Login start at fullmakt: the provider's authorization URL.
async fn start_login(browser: &mut Browser, server: &TestServer, goto: Option<&str>) -> String {
    let url = match goto {
        Some(goto) => format!("{}{LOGIN}?goto={}", server.base, url::form_urlencoded::byte_serialize(goto.as_bytes()).collect::<String>()),
        None => format!("{}{LOGIN}", server.base),
    };
    let reply = browser.get(&url).await;
    assert_eq!(reply.status, 302, "{}", reply.body);
    reply.location
}

/// From an authorization URL at the test identity provider to its person page: (page URL, HTML).
async fn person_page(browser: &mut Browser, authorize_url: &str) -> (String, String) {
    let reply = browser.get(authorize_url).await;
    assert_eq!(reply.status, 303, "{}", reply.body);
    let page_url = reply.location;
    let page = browser.get(&page_url).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.headers["content-type"].to_str().unwrap().starts_with("text/html"));
    assert_eq!(page.headers["x-frame-options"], "DENY");
    (page_url, page.body)
}

/// Chooses `pid` on the page: where the test identity provider sends the browser.
async fn choose(browser: &mut Browser, server: &TestServer, page: &str, pid: &str) -> Reply {
    let (request, csrf) = (hidden(page, "request"), hidden(page, "csrf"));
    let form = [("request", request.as_str()), ("csrf", csrf.as_str()), ("pid", pid)];
    browser.post_form(&format!("{}/testidp/login", server.base), &form, &[("origin", &server.public_url)]).await
}

/// The whole login through the test identity provider, up to fullmakt's answer to the callback.
async fn log_in(browser: &mut Browser, server: &TestServer, pid: &str, goto: Option<&str>) -> Reply {
    let authorize = start_login(browser, server, goto).await;
    let (_, page) = person_page(browser, &authorize).await;
    let chosen = choose(browser, server, &page, pid).await;
    assert_eq!(chosen.status, 303, "{}", chosen.body);
    browser.get(&chosen.location).await
}

#[tokio::test]
async fn a_person_logs_in_with_the_test_identity_provider_and_the_cookie_and_bearer_work() {
    for db in databases().await {
        eprintln!("store: {}", db.name);
        let server = TestServer::start_test_data(&db).await;
        let pid = &synthetic_pids(1)[0];
        let person = add_person(&server, pid, "Kari Testperson").await;
        let mut browser = Browser::new();
        let goto = format!("{}/accessmanagement/ui/overview?x=1", server.public_url);

        // fullmakt sends the browser to its test identity provider like to any provider.
        let authorize = start_login(&mut browser, &server, Some(&goto)).await;
        assert!(authorize.starts_with(&format!("{}/testidp/authorize?", server.public_url)), "{authorize}");
        let q = query(&authorize);
        assert_eq!(q["response_type"], "code");
        assert_eq!(q["client_id"], "fullmakt");
        assert_eq!(q["redirect_uri"], format!("{}{CALLBACK}", server.public_url));
        assert_eq!(q["scope"], "openid");
        assert_eq!(q["code_challenge_method"], "S256");
        assert_eq!(q["code_challenge"].len(), 43);
        assert_eq!(q["state"].len(), 43);
        assert_eq!(q["nonce"].len(), 43);
        assert!(browser.cookie("fullmakt_login").is_some());

        let (_, page) = person_page(&mut browser, &authorize).await;
        assert!(page.contains("Kari Testperson") && page.contains(pid.as_str()), "{page}");
        let chosen = choose(&mut browser, &server, &page, pid).await;
        assert_eq!(chosen.status, 303, "{}", chosen.body);
        assert!(chosen.location.starts_with(&format!("{}{CALLBACK}?", server.public_url)));
        let answer = query(&chosen.location);
        assert_eq!(answer["state"], q["state"]);
        assert_eq!(answer["iss"], format!("{}/testidp", server.public_url));

        let done = browser.get(&chosen.location).await;
        assert_eq!(done.status, 302, "{}", done.body);
        assert_eq!(done.location, goto);
        let set = done.set_cookies().into_iter().find(|c| c.starts_with("AltinnStudioRuntime=")).unwrap();
        assert!(set.contains("; Path=/;") && set.contains("; HttpOnly") && set.contains("; SameSite=Lax"), "{set}");
        assert!(!set.contains("Secure"), "an http public URL gets no Secure cookie: {set}");
        let token = browser.cookie("AltinnStudioRuntime").unwrap();
        let claims = decode_jwt_part(&token, 1);
        assert_eq!(claims["pid"], pid.as_str());
        assert_eq!(claims["urn:altinn:partyid"], json!(person.party_id));
        assert_eq!(claims["urn:altinn:authlevel"], 4, "TestID logs in at idporten-loa-high");
        assert_eq!(claims["urn:altinn:authenticatemethod"], "IdportenTestId");
        assert_eq!(claims["iss"], server.altinn_issuer());
        assert!(verifies_against(&token, &published_jwks(&server).await));

        // The cookie works, and so does the same token as a bearer token.
        let by_cookie = browser.get_with(&format!("{}{REFRESH}", server.base), &[]).await;
        assert_eq!(by_cookie.status, 200, "{}", by_cookie.body);
        assert_eq!(decode_jwt_part(&by_cookie.body, 1)["pid"], pid.as_str());
        let bearer = format!("Bearer {token}");
        let by_bearer = Browser::new().get_with(&format!("{}{REFRESH}", server.base), &[("authorization", &bearer)]).await;
        assert_eq!(by_bearer.status, 200, "{}", by_bearer.body);
        assert_eq!(decode_jwt_part(&by_bearer.body, 1)["sid"], claims["sid"], "a refreshed token keeps the login session");

        // The callback cannot be replayed: its state is spent.
        let again = browser.get(&chosen.location).await;
        assert_eq!(again.status, 400, "{}", again.body);
        assert!(again.body.contains("unknown, expired or completed already"), "{}", again.body);

        // Logout clears the cookie; refresh then needs a login.
        let out = browser.get(&format!("{}/authentication/api/v1/logout", server.base)).await;
        assert_eq!(out.status, 302);
        assert_eq!(out.location, format!("{}/", server.public_url));
        assert!(out.set_cookies().iter().any(|c| c.starts_with("AltinnStudioRuntime=;") && c.contains("Max-Age=0")));
        assert_eq!(browser.cookie("AltinnStudioRuntime"), None);
        assert_eq!(browser.get_with(&format!("{}{REFRESH}", server.base), &[]).await.status, 401);
        server.stop().await;
    }
}

#[tokio::test]
async fn goto_is_followed_only_on_the_public_origin() {
    for db in databases().await {
        eprintln!("store: {}", db.name);
        let server = TestServer::start_test_data(&db).await;
        let pid = &synthetic_pids(1)[0];
        add_person(&server, pid, "Kari Testperson").await;
        let front = format!("{}/", server.public_url);
        for (goto, expected) in [
            (Some("https://evil.example/steal".to_owned()), front.clone()),
            (Some("//evil.example/steal".to_owned()), front.clone()),
            (Some("/\\evil.example".to_owned()), front.clone()),
            (Some("javascript:alert(1)".to_owned()), front.clone()),
            (None, front.clone()),
            (Some("/accessmanagement/ui/".to_owned()), format!("{}/accessmanagement/ui/", server.public_url)),
        ] {
            let mut browser = Browser::new();
            let done = log_in(&mut browser, &server, pid, goto.as_deref()).await;
            assert_eq!(done.status, 302, "{goto:?}: {}", done.body);
            assert_eq!(done.location, expected, "{goto:?}");
        }
        // Two gotos are ambiguous: refused before anything is stored.
        let twice = Browser::new().get_with(&format!("{}{LOGIN}?goto=/a&goTo=/b", server.base), &[]).await;
        assert_problem(&(twice.status, twice.json()), 400, "more than once");
        server.stop().await;
    }
}

#[tokio::test]
async fn the_callback_refuses_a_missing_wrong_used_expired_or_foreign_state() {
    for db in databases().await {
        eprintln!("store: {}", db.name);
        let server = TestServer::start_test_data(&db).await;
        let pid = &synthetic_pids(1)[0];
        add_person(&server, pid, "Kari Testperson").await;
        let callback = format!("{}{CALLBACK}", server.base);

        let mut browser = Browser::new();
        let authorize = start_login(&mut browser, &server, None).await;
        let (_, page) = person_page(&mut browser, &authorize).await;
        let chosen = choose(&mut browser, &server, &page, pid).await;
        let answer = query(&chosen.location);
        let (code, iss) = (answer["code"].clone(), url::form_urlencoded::byte_serialize(answer["iss"].as_bytes()).collect::<String>());

        // No state, a made-up state: refused (problem+json for API clients, a page for browsers).
        let missing = browser.get_with(&format!("{callback}?code={code}&iss={iss}"), &[]).await;
        assert_problem(&(missing.status, missing.json()), 400, "has no state");
        let wrong = browser.get(&format!("{callback}?code={code}&state=made-up&iss={iss}")).await;
        assert_eq!(wrong.status, 400);
        assert!(wrong.headers["content-type"].to_str().unwrap().starts_with("text/html"));
        assert!(wrong.body.contains("the state does not match"), "{}", wrong.body);
        // A repeated parameter is refused before anything is looked up.
        let twice = browser.get_with(&format!("{}&state=x", chosen.location), &[]).await;
        assert_problem(&(twice.status, twice.json()), 400, "more than once");

        // The right state from another browser (no login cookie): refused, and the state is spent.
        let mut other = Browser::new();
        let foreign = other.get_with(&chosen.location, &[]).await;
        assert_problem(&(foreign.status, foreign.json()), 400, "another browser");
        let spent = browser.get_with(&chosen.location, &[]).await;
        assert_problem(&(spent.status, spent.json()), 400, "unknown, expired or completed already");
        assert_eq!(browser.cookie("AltinnStudioRuntime"), None);

        // A login left too long expires.
        let authorize = start_login(&mut browser, &server, None).await;
        let (_, page) = person_page(&mut browser, &authorize).await;
        let chosen = choose(&mut browser, &server, &page, pid).await;
        // (Whether the server's sweeper has removed the row yet or not, the answer is the same.)
        sql(&db, "UPDATE login_attempts SET expires_at = expires_at - 3600").await;
        let expired = browser.get_with(&chosen.location, &[]).await;
        assert_problem(&(expired.status, expired.json()), 400, "expired");
        assert_eq!(browser.cookie("AltinnStudioRuntime"), None);
        server.stop().await;
    }
}

#[tokio::test]
async fn the_person_page_searches_pages_and_offers_only_synthetic_persons() {
    for db in databases().await {
        eprintln!("store: {}", db.name);
        let server = TestServer::start_test_data(&db).await;
        let all = synthetic_pids(30);
        for (i, pid) in all[..25].iter().enumerate() {
            add_person(&server, pid, &format!("Person {i:02} Testesen")).await;
        }
        add_person(&server, &all[25], "Åse <script>Ørnes").await;
        add_person(&server, REAL_PERSON, "Ekte Person").await;
        let mut browser = Browser::new();
        let authorize = start_login(&mut browser, &server, None).await;
        let (page_url, page) = person_page(&mut browser, &authorize).await;
        assert_eq!(page.matches("<button>Log in as").count(), 20, "twenty to a page");
        assert!(!page.contains(REAL_PERSON), "a real person is never offered");
        assert!(page.contains("Next page") && !page.contains("First page"));

        let next = {
            let start = page.find("href=\"").unwrap() + 6;
            page[start..start + page[start..].find('"').unwrap()].replace("&amp;", "&")
        };
        let second = browser.get(&next).await;
        assert_eq!(second.status, 200, "{}", second.body);
        assert_eq!(second.body.matches("<button>Log in as").count(), 6);
        assert!(second.body.contains("First page") && !second.body.contains("Next page"));
        assert!(second.body.contains("Åse &lt;script&gt;Ørnes"), "names are escaped: {}", second.body);
        assert!(!second.body.contains("<script>"));

        let by_name = browser.get(&format!("{page_url}&q=person%2007")).await;
        assert_eq!(by_name.body.matches("<button>Log in as").count(), 1, "{}", by_name.body);
        assert!(by_name.body.contains(&all[7]));
        let by_number = browser.get(&format!("{page_url}&q={}", &all[3][..9])).await;
        assert!(by_number.body.contains(&all[3]), "{}", by_number.body);
        let nobody = browser.get(&format!("{page_url}&q=%25")).await;
        assert!(nobody.body.contains("No synthetic person matches"), "a % is searched for, not a wildcard");
        let bad_after = browser.get(&format!("{page_url}&after=x")).await;
        assert_eq!(bad_after.status, 400);

        // Choosing someone not offered: refused, and the request still stands.
        for pid in [REAL_PERSON, "12345678901", all[29].as_str()] {
            let refused = choose(&mut browser, &server, &page, pid).await;
            assert_eq!(refused.status, 400, "{pid}: {}", refused.body);
            assert!(refused.body.contains("only synthetic persons in the register"), "{}", refused.body);
        }
        let chosen = choose(&mut browser, &server, &page, &all[0]).await;
        assert_eq!(chosen.status, 303);
        server.stop().await;
    }
}

#[tokio::test]
async fn the_person_page_is_protected_against_forgery_and_other_browsers() {
    for db in databases().await {
        eprintln!("store: {}", db.name);
        let server = TestServer::start_test_data(&db).await;
        let pid = synthetic_pids(1).remove(0);
        let pid = pid.as_str();
        add_person(&server, pid, "Kari Testperson").await;
        let mut browser = Browser::new();
        let authorize = start_login(&mut browser, &server, None).await;
        let (page_url, page) = person_page(&mut browser, &authorize).await;
        let post = format!("{}/testidp/login", server.base);
        let request = hidden(&page, "request");
        let csrf = hidden(&page, "csrf");

        let forged = browser.post_form(&post, &[("request", &request), ("csrf", "forged"), ("pid", pid)], &[]).await;
        assert_eq!(forged.status, 403, "{}", forged.body);
        let no_csrf = browser.post_form(&post, &[("request", &request), ("pid", pid)], &[]).await;
        assert_eq!(no_csrf.status, 403);
        let cross_site =
            browser.post_form(&post, &[("request", &request), ("csrf", &csrf), ("pid", pid)], &[("origin", "https://evil.example")]).await;
        assert_eq!(cross_site.status, 403, "{}", cross_site.body);
        let not_a_form = browser.http.post(&post).body("request=x");
        assert_eq!(browser.send(not_a_form, &post).await.status, 400);

        // Another browser has neither the cookie nor any business here.
        let mut other = Browser::new();
        assert_eq!(other.get(&page_url).await.status, 400);
        let stolen = other.post_form(&post, &[("request", &request), ("csrf", &csrf), ("pid", pid)], &[]).await;
        assert_eq!(stolen.status, 400, "{}", stolen.body);
        assert!(stolen.body.contains("another browser"));
        let unknown = browser.get(&format!("{}/testidp/login?request=nonsense", server.base)).await;
        assert_eq!(unknown.status, 400);

        // Cancel: back to fullmakt with access_denied, which ends the login without a token.
        let cancelled = browser.post_form(&post, &[("request", &request), ("csrf", &csrf), ("cancel", "1")], &[]).await;
        assert_eq!(cancelled.status, 303);
        assert_eq!(query(&cancelled.location)["error"], "access_denied");
        let ended = browser.get_with(&cancelled.location, &[]).await;
        assert_problem(&(ended.status, ended.json()), 400, "cancelled");
        assert_eq!(browser.cookie("AltinnStudioRuntime"), None);
        // The request is used up.
        assert_eq!(browser.post_form(&post, &[("request", &request), ("csrf", &csrf), ("pid", pid)], &[]).await.status, 400);

        // A pending request expires.
        let authorize = start_login(&mut browser, &server, None).await;
        let (page_url, page) = person_page(&mut browser, &authorize).await;
        sql(&db, "UPDATE test_idp_requests SET expires_at = expires_at - 3600").await;
        assert_eq!(browser.get(&page_url).await.status, 400);
        assert_eq!(choose(&mut browser, &server, &page, pid).await.status, 400);
        server.stop().await;
    }
}

#[tokio::test]
async fn a_person_removed_from_the_register_gets_no_token() {
    for db in databases().await {
        eprintln!("store: {}", db.name);
        let server = TestServer::start_test_data(&db).await;
        let pid = &synthetic_pids(1)[0];
        add_person(&server, pid, "Kari Testperson").await;
        let mut browser = Browser::new();
        let authorize = start_login(&mut browser, &server, None).await;
        let (_, page) = person_page(&mut browser, &authorize).await;
        let chosen = choose(&mut browser, &server, &page, pid).await;
        sql(&db, &format!("UPDATE parties SET is_deleted = 1 WHERE person_identifier = '{pid}'")).await;
        let refused = browser.get(&chosen.location).await;
        assert_eq!(refused.status, 403, "{}", refused.body);
        assert!(refused.body.contains("not a person in this fullmakt instance"), "{}", refused.body);
        assert!(refused.set_cookies().is_empty());
        server.stop().await;
    }
}

/// A client of the test identity provider driven by hand: its own PKCE pair, state and nonce.
struct HandClient {
    verifier: String,
    state: String,
    nonce: String,
}

impl HandClient {
    fn new() -> Self {
        Self { verifier: format!("v{}", "erifier-".repeat(6)), state: "hand-state".into(), nonce: "hand-nonce".into() }
    }

    fn authorize_url(&self, server: &TestServer, client_id: &str) -> String {
        let mut url = url::Url::parse(&format!("{}/testidp/authorize", server.public_url)).unwrap();
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", client_id)
            .append_pair("redirect_uri", &format!("{}{CALLBACK}", server.public_url))
            .append_pair("scope", "openid profile")
            .append_pair("state", &self.state)
            .append_pair("nonce", &self.nonce)
            .append_pair("code_challenge", &pkce_challenge(&self.verifier))
            .append_pair("code_challenge_method", "S256");
        url.into()
    }

    /// A fresh code for `pid`.
    async fn code(&self, browser: &mut Browser, server: &TestServer, client_id: &str, pid: &str) -> String {
        let (_, page) = person_page(browser, &self.authorize_url(server, client_id)).await;
        let chosen = choose(browser, server, &page, pid).await;
        assert_eq!(chosen.status, 303, "{}", chosen.body);
        let answer = query(&chosen.location);
        assert_eq!(answer["state"], self.state);
        answer["code"].clone()
    }

    fn form(&self, server: &TestServer, code: &str) -> Vec<(String, String)> {
        vec![
            ("grant_type".into(), "authorization_code".into()),
            ("code".into(), code.into()),
            ("redirect_uri".into(), format!("{}{CALLBACK}", server.public_url)),
            ("code_verifier".into(), self.verifier.clone()),
            ("client_id".into(), "fullmakt".into()),
        ]
    }
}

async fn redeem(server: &TestServer, form: &[(String, String)], basic: Option<(&str, &str)>) -> Reply {
    let url = format!("{}/testidp/token", server.base);
    let mut request = reqwest::Client::new().post(&url).form(form);
    if let Some((id, secret)) = basic {
        request = request.basic_auth(id, Some(secret));
    }
    Browser::new().send(request, &url).await
}

/// `form` with `name` replaced by `value` (or removed).
fn with(form: &[(String, String)], name: &str, value: Option<&str>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = form.iter().filter(|(k, _)| k != name).cloned().collect();
    if let Some(value) = value {
        out.push((name.into(), value.into()));
    }
    out
}

fn assert_token_error(reply: &Reply, status: u16, error: &str, description: &str) {
    assert_eq!(reply.status, status, "{}", reply.body);
    let body = reply.json();
    assert_eq!(body["error"], error, "{body}");
    assert!(body["error_description"].as_str().unwrap().contains(description), "{body}");
    assert_eq!(reply.headers["cache-control"], "no-store");
}

#[tokio::test]
async fn the_test_identity_provider_issues_signed_id_tokens_for_valid_codes_only() {
    for db in databases().await {
        eprintln!("store: {}", db.name);
        let server = TestServer::start_test_data(&db).await;
        let pid = &synthetic_pids(1)[0];
        add_person(&server, pid, "Kari Testperson").await;
        let client = HandClient::new();
        let mut browser = Browser::new();
        let issuer = format!("{}/testidp", server.public_url);

        let discovery = browser.get_with(&format!("{}/testidp/.well-known/openid-configuration", server.base), &[]).await.json();
        assert_eq!(discovery["issuer"], issuer);
        assert_eq!(discovery["authorization_endpoint"], format!("{issuer}/authorize"));
        assert_eq!(discovery["token_endpoint"], format!("{issuer}/token"));
        assert_eq!(discovery["code_challenge_methods_supported"], json!(["S256"]));
        let jwks = browser.get_with(&format!("{}/testidp/jwks", server.base), &[]).await.json();
        assert_eq!(jwks, published_jwks(&server).await, "id_tokens are signed with fullmakt's keys");

        let code = client.code(&mut browser, &server, "fullmakt", pid).await;
        let form = client.form(&server, &code);
        let ok = redeem(&server, &form, None).await;
        assert_eq!(ok.status, 200, "{}", ok.body);
        let body = ok.json();
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["scope"], "openid profile");
        let id_token = body["id_token"].as_str().unwrap();
        assert!(verifies_against(id_token, &jwks));
        let header = decode_jwt_part(id_token, 0);
        assert_eq!((header["alg"].as_str(), header["typ"].as_str()), (Some("RS256"), Some("JWT")));
        let claims = decode_jwt_part(id_token, 1);
        assert_eq!(claims["iss"], issuer);
        assert_eq!(claims["aud"], "fullmakt");
        assert_eq!(claims["pid"], pid.as_str());
        assert_eq!(claims["nonce"], "hand-nonce");
        assert_eq!(claims["acr"], "idporten-loa-high");
        assert_eq!(claims["amr"], json!(["TestID"]));
        assert_eq!(claims["sub"].as_str().unwrap().len(), 43);
        let (iat, exp) = (claims["iat"].as_i64().unwrap(), claims["exp"].as_i64().unwrap());
        assert!((iat - now()).abs() <= 5 && exp - iat == 120, "{claims}");
        // An id_token is no access token for fullmakt's APIs (it has another issuer).
        let bearer = format!("Bearer {id_token}");
        let as_bearer = Browser::new().get_with(&format!("{}{REFRESH}", server.base), &[("authorization", &bearer)]).await;
        assert_eq!(as_bearer.status, 401);

        // A code works once.
        assert_token_error(&redeem(&server, &form, None).await, 400, "invalid_grant", "unknown, expired (and swept) or was used");
        // The wrong verifier fails, and spends the code.
        let code = client.code(&mut browser, &server, "fullmakt", pid).await;
        let wrong_verifier = with(&client.form(&server, &code), "code_verifier", Some(&"x".repeat(43)));
        assert_token_error(&redeem(&server, &wrong_verifier, None).await, 400, "invalid_grant", "code_verifier does not match");
        assert_token_error(&redeem(&server, &client.form(&server, &code), None).await, 400, "invalid_grant", "unknown, expired (and swept) or was used");
        // Another redirect_uri than the one authorised.
        let code = client.code(&mut browser, &server, "fullmakt", pid).await;
        let other_uri = with(&client.form(&server, &code), "redirect_uri", Some("http://127.0.0.1:1/elsewhere"));
        assert_token_error(&redeem(&server, &other_uri, None).await, 400, "invalid_grant", "redirect_uri");
        // An expired code.
        let code = client.code(&mut browser, &server, "fullmakt", pid).await;
        sql(&db, "UPDATE test_idp_codes SET expires_at = expires_at - 120").await;
        assert_token_error(&redeem(&server, &client.form(&server, &code), None).await, 400, "invalid_grant", "expired");

        // Malformed requests and failed client authentication leave the code usable.
        let code = client.code(&mut browser, &server, "fullmakt", pid).await;
        let form = client.form(&server, &code);
        assert_token_error(&redeem(&server, &with(&form, "code_verifier", None), None).await, 400, "invalid_request", "PKCE is required");
        assert_token_error(
            &redeem(&server, &with(&form, "grant_type", Some("client_credentials")), None).await,
            400,
            "unsupported_grant_type",
            "Only authorization_code",
        );
        assert_token_error(&redeem(&server, &with(&form, "grant_type", None), None).await, 400, "invalid_request", "grant_type is missing");
        let mut twice = form.clone();
        twice.push(("code".into(), code.clone()));
        assert_token_error(&redeem(&server, &twice, None).await, 400, "invalid_request", "more than once");
        assert_token_error(&redeem(&server, &with(&form, "client_id", Some("someone-else")), None).await, 401, "invalid_client", "unknown client");
        assert_token_error(&redeem(&server, &with(&form, "client_id", None), None).await, 401, "invalid_client", "client_id is missing");
        assert_token_error(&redeem(&server, &with(&form, "client_secret", Some("guess")), None).await, 401, "invalid_client", "has no secret");
        let basic = redeem(&server, &form, Some(("fullmakt", "guess"))).await;
        assert_token_error(&basic, 401, "invalid_client", "has no secret");
        assert_eq!(basic.headers["www-authenticate"], "Basic realm=\"testidp\"");
        let token_url = format!("{}/testidp/token", server.base);
        let json_body = reqwest::Client::new().post(&token_url).json(&json!({"grant_type": "authorization_code"}));
        assert_token_error(&Browser::new().send(json_body, &token_url).await, 400, "invalid_request", "x-www-form-urlencoded");
        assert_eq!(redeem(&server, &form, None).await.status, 200);
        server.stop().await;
    }
}

#[tokio::test]
async fn the_authorization_endpoint_refuses_bad_requests_without_redirecting_to_strangers() {
    for db in databases().await {
        eprintln!("store: {}", db.name);
        let server = TestServer::start_test_data(&db).await;
        let client = HandClient::new();
        let mut browser = Browser::new();
        let good = client.authorize_url(&server, "fullmakt");
        let callback = format!("{}{CALLBACK}", server.public_url);
        let edit = |name: &str, value: Option<&str>| {
            let mut url = url::Url::parse(&good).unwrap();
            let pairs: Vec<(String, String)> = url.query_pairs().into_owned().filter(|(k, _)| k != name).collect();
            {
                let mut q = url.query_pairs_mut();
                q.clear();
                for (k, v) in &pairs {
                    q.append_pair(k, v);
                }
                if let Some(value) = value {
                    q.append_pair(name, value);
                }
            }
            String::from(url)
        };
        // The client or redirect URI is not trusted: a page, no redirect.
        for (url, text) in [
            (edit("client_id", Some("stranger")), "not a client"),
            (edit("client_id", None), "no client_id"),
            (edit("redirect_uri", Some("https://evil.example/cb")), "not registered"),
            (edit("redirect_uri", None), "no redirect_uri"),
        ] {
            let reply = browser.get(&url).await;
            assert_eq!(reply.status, 400, "{url}");
            assert!(reply.location.is_empty());
            assert!(reply.body.contains(text), "{}", reply.body);
        }
        // Everything else goes back to the client with an OAuth error and the state.
        for (url, error, text) in [
            (edit("response_type", Some("token")), "unsupported_response_type", "response_type=code"),
            (edit("scope", Some("profile")), "invalid_scope", "openid"),
            (edit("code_challenge", None), "invalid_request", "PKCE is required"),
            (edit("code_challenge_method", Some("plain")), "invalid_request", "S256"),
            (edit("code_challenge_method", None), "invalid_request", "S256"),
            (edit("code_challenge", Some("short")), "invalid_request", "43 base64url"),
        ] {
            let reply = browser.get(&url).await;
            assert_eq!(reply.status, 302, "{url}: {}", reply.body);
            assert!(reply.location.starts_with(&callback), "{}", reply.location);
            let answer = query(&reply.location);
            assert_eq!(answer["error"], error, "{url}");
            assert!(answer["error_description"].contains(text), "{answer:?}");
            assert_eq!(answer["state"], "hand-state");
            assert_eq!(answer["iss"], format!("{}/testidp", server.public_url));
        }
        let twice = browser.get(&format!("{good}&state=again")).await;
        assert_eq!(twice.status, 400);
        server.stop().await;
    }
}

#[tokio::test]
async fn a_client_secret_is_required_when_one_is_configured() {
    const SECRET: &str = "s3cret:&+ x";
    for db in databases().await {
        eprintln!("store: {}", db.name);
        let server = TestServer::start_with(&db, |o| {
            o.test_data = true;
            o.login = LoginOptions { client_id: Some("portal".into()), client_secret: ClientSecret::new(SECRET), ..LoginOptions::default() };
        })
        .await;
        let pid = &synthetic_pids(1)[0];
        add_person(&server, pid, "Kari Testperson").await;

        // fullmakt's own login authenticates with the secret.
        let mut browser = Browser::new();
        let authorize = start_login(&mut browser, &server, None).await;
        assert_eq!(query(&authorize)["client_id"], "portal");
        let (_, page) = person_page(&mut browser, &authorize).await;
        let chosen = choose(&mut browser, &server, &page, pid).await;
        let done = browser.get(&chosen.location).await;
        assert_eq!(done.status, 302, "{}", done.body);
        assert!(browser.cookie("AltinnStudioRuntime").is_some());

        let client = HandClient::new();
        let code = client.code(&mut browser, &server, "portal", pid).await;
        let form = with(&client.form(&server, &code), "client_id", Some("portal"));
        assert_token_error(&redeem(&server, &form, None).await, 401, "invalid_client", "must authenticate with its secret");
        assert_token_error(&redeem(&server, &with(&form, "client_secret", Some("wrong")), None).await, 401, "invalid_client", "secret is wrong");
        assert_token_error(&redeem(&server, &form, Some(("portal", "wrong"))).await, 401, "invalid_client", "secret is wrong");
        assert_token_error(
            &redeem(&server, &with(&form, "client_secret", Some(SECRET)), Some(("portal", SECRET))).await,
            400,
            "invalid_request",
            "more than one way",
        );
        // client_secret_post works …
        assert_eq!(redeem(&server, &with(&form, "client_secret", Some(SECRET)), None).await.status, 200);
        // … and so does client_secret_basic (id and secret form-encoded first, RFC 6749 §2.3.1).
        let code = client.code(&mut browser, &server, "portal", pid).await;
        let form = with(&client.form(&server, &code), "client_id", Some("portal"));
        let url = format!("{}/testidp/token", server.base);
        let encoded = format!("portal:{}", url::form_urlencoded::byte_serialize(SECRET.as_bytes()).collect::<String>());
        let basic = format!("Basic {}", base64::Engine::encode(&base64::engine::general_purpose::STANDARD, encoded));
        let reply = Browser::new().send(reqwest::Client::new().post(&url).form(&form).header("authorization", basic), &url).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        server.stop().await;
    }
}

#[tokio::test]
async fn without_test_data_or_issuer_there_is_no_login_and_no_test_identity_provider() {
    for db in databases().await {
        eprintln!("store: {}", db.name);
        let server = TestServer::start(&db).await;
        let mut browser = Browser::new();
        for path in [LOGIN, CALLBACK] {
            let reply = browser.get_with(&format!("{}{path}?goto=/", server.base), &[]).await;
            assert_problem_json(reply.status, &reply.json(), &reply.headers, 503, "Person login is not configured");
        }
        for (method, path) in [
            ("GET", "/testidp/.well-known/openid-configuration"),
            ("GET", "/testidp/authorize"),
            ("GET", "/testidp/login"),
            ("POST", "/testidp/login"),
            ("POST", "/testidp/token"),
            ("GET", "/testidp/jwks"),
        ] {
            let url = format!("{}{path}", server.base);
            let request = browser.http.request(method.parse().unwrap(), &url);
            let reply = browser.send(request, &url).await;
            assert_problem_json(reply.status, &reply.json(), &reply.headers, 404, "runs only on instances started with test data");
        }
        // Logout needs no provider: it only clears the cookie.
        assert_eq!(browser.get(&format!("{}/authentication/api/v1/logout", server.base)).await.status, 302);
        server.stop().await;

        // A client id without an issuer or test data is a configuration mistake, said at start.
        let (store, ring) = db.store_args().open().await.unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let options = fullmakt::serve::ServeOptions {
            public_url: "http://127.0.0.1:1".into(),
            login: LoginOptions { client_id: Some("portal".into()), ..LoginOptions::default() },
            ..Default::default()
        };
        let refused = fullmakt::serve::start_with(store.clone(), ring, listener, options).await.err().unwrap();
        assert!(refused.contains("no --oidc-issuer"), "{refused}");
        store.close().await;
    }
}

/// How the stand-in external provider answers the token request.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    Good,
    /// Signed with a key it does not publish, under the published kid.
    Forged,
    WrongNonce,
    WrongAudience,
    Expired,
    /// `invalid_grant`, as for a bad code.
    Refuse,
    /// A 500 with a body that is no token response.
    Broken,
}

struct ProviderState {
    issuer: String,
    key: ClientKey,
    forger: ClientKey,
    mode: Mode,
    pid: String,
    nonce: String,
    /// What the last token request carried: the form and its Authorization header.
    seen: Option<(HashMap<String, String>, Option<String>)>,
}

impl ProviderState {
    fn token_response(&self) -> axum::response::Response {
        use axum::http::StatusCode;
        let now = now();
        let mut claims = json!({"iss": self.issuer, "aud": "portal", "sub": "pairwise-sub", "pid": self.pid,
            "nonce": self.nonce, "acr": "idporten-loa-substantial", "amr": ["BankID"], "iat": now, "exp": now + 120});
        match self.mode {
            Mode::WrongNonce => claims["nonce"] = json!("another-login"),
            Mode::WrongAudience => claims["aud"] = json!("someone-else"),
            Mode::Expired => {
                claims["iat"] = json!(now - 300);
                claims["exp"] = json!(now - 180);
            }
            Mode::Refuse => {
                let body = json!({"error": "invalid_grant", "error_description": "code expired"});
                return (StatusCode::BAD_REQUEST, axum::Json(body)).into_response();
            }
            Mode::Broken => return (StatusCode::INTERNAL_SERVER_ERROR, "<html>oops</html>").into_response(),
            Mode::Good | Mode::Forged => {}
        }
        let signer = if self.mode == Mode::Forged { &self.forger } else { &self.key };
        let id_token = signer.sign(&json!({"alg": "RS256", "kid": "idp-key-1"}), &claims);
        axum::Json(json!({"access_token": "opaque", "token_type": "Bearer", "expires_in": 120, "id_token": id_token})).into_response()
    }
}

/// "Any OIDC provider": discovery, keys and a token endpoint on a loopback port, whose
/// id_tokens the test controls.
struct ExternalProvider {
    issuer: String,
    state: Arc<Mutex<ProviderState>>,
    task: tokio::task::JoinHandle<()>,
}

impl ExternalProvider {
    async fn start() -> Self {
        use axum::routing::{get, post};
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(ProviderState {
            issuer: issuer.clone(),
            key: ClientKey::generate("idp-key-1"),
            forger: ClientKey::generate("idp-key-1"),
            mode: Mode::Good,
            pid: String::new(),
            nonce: String::new(),
            seen: None,
        }));
        let i = &issuer;
        let discovery = json!({"issuer": i, "authorization_endpoint": format!("{i}/authorize"), "token_endpoint": format!("{i}/token"),
            "jwks_uri": format!("{i}/jwks"), "token_endpoint_auth_methods_supported": ["client_secret_basic"],
            "response_types_supported": ["code"], "subject_types_supported": ["pairwise"], "id_token_signing_alg_values_supported": ["RS256"]});
        let jwks = state.lock().unwrap().key.jwks();
        let token_state = state.clone();
        let app = axum::Router::new()
            .route(
                "/.well-known/openid-configuration",
                get(move || {
                    let discovery = discovery.clone();
                    async move { axum::Json(discovery) }
                }),
            )
            .route(
                "/jwks",
                get(move || {
                    let jwks = jwks.clone();
                    async move { axum::Json(jwks) }
                }),
            )
            .route(
                "/token",
                post(move |headers: axum::http::HeaderMap, body: String| {
                    let state = token_state.clone();
                    async move {
                        let form: HashMap<String, String> = url::form_urlencoded::parse(body.as_bytes()).into_owned().collect();
                        let auth = headers.get("authorization").map(|v| v.to_str().unwrap().to_owned());
                        let mut state = state.lock().unwrap();
                        state.seen = Some((form, auth));
                        state.token_response()
                    }
                }),
            );
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { issuer, state, task }
    }

    fn answer(&self, mode: Mode, pid: &str, nonce: &str) {
        let mut s = self.state.lock().unwrap();
        s.mode = mode;
        s.pid = pid.to_owned();
        s.nonce = nonce.to_owned();
        s.seen = None;
    }
}

/// One login up to the external provider: the callback URL it would send the browser to (with
/// code `the-code`), the nonce and the PKCE challenge fullmakt sent.
async fn external_attempt(browser: &mut Browser, server: &TestServer, provider: &ExternalProvider) -> (String, String, String) {
    let authorize = start_login(browser, server, Some("/accessmanagement/ui/")).await;
    assert!(authorize.starts_with(&format!("{}/authorize?", provider.issuer)), "{authorize}");
    let q = query(&authorize);
    assert_eq!(q["client_id"], "portal");
    let callback = format!("{}{CALLBACK}?code=the-code&state={}", server.base, q["state"]);
    (callback, q["nonce"].clone(), q["code_challenge"].clone())
}

#[tokio::test]
async fn an_external_provider_is_used_the_same_way_and_its_id_tokens_are_verified() {
    for db in databases().await {
        eprintln!("store: {}", db.name);
        let provider = ExternalProvider::start().await;
        let issuer = provider.issuer.clone();
        let server = TestServer::start_with(&db, |o| {
            o.login = LoginOptions { oidc_issuer: Some(issuer), client_id: Some("portal".into()), client_secret: ClientSecret::new("s3cret") };
        })
        .await;
        let person = add_person(&server, REAL_PERSON, "Ola Nordmann").await;

        // Without test data there is no test identity provider, even with login configured.
        let mut browser = Browser::new();
        let reply = browser.get_with(&format!("{}/testidp/.well-known/openid-configuration", server.base), &[]).await;
        assert_eq!(reply.status, 404);

        let (callback, nonce, challenge) = external_attempt(&mut browser, &server, &provider).await;
        provider.answer(Mode::Good, REAL_PERSON, &nonce);
        let done = browser.get(&callback).await;
        assert_eq!(done.status, 302, "{}", done.body);
        assert_eq!(done.location, format!("{}/accessmanagement/ui/", server.public_url));
        let token = browser.cookie("AltinnStudioRuntime").unwrap();
        let claims = decode_jwt_part(&token, 1);
        assert_eq!(claims["urn:altinn:partyid"], json!(person.party_id));
        assert_eq!(claims["urn:altinn:authlevel"], 3);
        assert_eq!(claims["urn:altinn:authenticatemethod"], "BankID");
        // What fullmakt sent to the token endpoint: the code, its PKCE verifier and the secret.
        let (form, auth) = provider.state.lock().unwrap().seen.take().unwrap();
        assert_eq!(form["grant_type"], "authorization_code");
        assert_eq!(form["code"], "the-code");
        assert_eq!(form["redirect_uri"], format!("{}{CALLBACK}", server.public_url));
        assert_eq!(pkce_challenge(&form["code_verifier"]), challenge);
        assert!(!form.contains_key("client_secret"));
        let expected_basic = format!("Basic {}", base64::Engine::encode(&base64::engine::general_purpose::STANDARD, "portal:s3cret"));
        assert_eq!(auth.as_deref(), Some(expected_basic.as_str()));

        // Each broken answer is refused, and no cookie is set.
        let unknown_person = pids("020200", 1).remove(0);
        for (mode, pid, status, text) in [
            (Mode::Forged, REAL_PERSON, 502, "signature does not hold"),
            (Mode::WrongNonce, REAL_PERSON, 502, "nonce"),
            (Mode::WrongAudience, REAL_PERSON, 502, "aud"),
            (Mode::Expired, REAL_PERSON, 502, "expired"),
            (Mode::Refuse, REAL_PERSON, 400, "invalid_grant"),
            (Mode::Broken, REAL_PERSON, 502, "HTTP 500"),
            (Mode::Good, unknown_person.as_str(), 403, "not a person in this fullmakt instance"),
        ] {
            let mut browser = Browser::new();
            let (callback, nonce, _) = external_attempt(&mut browser, &server, &provider).await;
            provider.answer(mode, pid, &nonce);
            let reply = browser.get_with(&callback, &[]).await;
            assert_problem(&(reply.status, reply.json()), status, text);
            assert_eq!(browser.cookie("AltinnStudioRuntime"), None, "{mode:?}");
        }

        // An answer naming another issuer (RFC 9207) is refused before the code is used.
        let mut browser = Browser::new();
        let (callback, nonce, _) = external_attempt(&mut browser, &server, &provider).await;
        provider.answer(Mode::Good, REAL_PERSON, &nonce);
        let reply = browser.get_with(&format!("{callback}&iss=https%3A%2F%2Fevil.example"), &[]).await;
        assert_problem(&(reply.status, reply.json()), 400, "another identity provider");
        assert!(provider.state.lock().unwrap().seen.is_none());
        server.stop().await;
        provider.task.abort();
    }
}

#[tokio::test]
async fn an_unreachable_provider_is_a_clear_bad_gateway() {
    let db = databases().await.remove(0);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dead = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let server = TestServer::start_with(&db, |o| {
        o.login = LoginOptions { oidc_issuer: Some(dead), client_id: Some("portal".into()), client_secret: None };
    })
    .await;
    let reply = Browser::new().get_with(&format!("{}{LOGIN}", server.base), &[]).await;
    assert_problem(&(reply.status, reply.json()), 502, "identity provider is not available");
    server.stop().await;
}
