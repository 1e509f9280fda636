//! Browser tests: a real headless Chromium, driven through chromedriver with a small W3C
//! WebDriver client, plus axe-core for accessibility and screenshots of what a person sees.
//!
//! Why hand-written: the tests need some twenty WebDriver commands, and the client crates
//! (fantoccini, thirtyfour) bring their own HTTP and TLS stacks to build on a 2-core machine.
//! This one is `reqwest` (already a dev-dependency) and JSON.
//!
//! Running them: `apt-get install chromium chromium-driver`, then
//! `npm ci --prefix crates/fullmakt/tests/browser-tools` (axe-core, pinned by its lockfile), then
//! `cargo test -p fullmakt --test e2e browser` (the filter matches tests named `browser_…`).
//! Without the browser, the driver or axe-core the tests pass without running, and the binary
//! prints "browser tests skipped: …" once — unless `FULLMAKT_BROWSER_TESTS=required` (set by
//! `.ci/run`), when they fail. `FULLMAKT_CHROMIUM`, `FULLMAKT_CHROMEDRIVER` and
//! `FULLMAKT_AXE_JS` override the paths (`/usr/bin/chromium`, `/usr/bin/chromedriver`,
//! `browser-tools/node_modules/axe-core/axe.min.js`). Screenshots go to
//! `target/screenshots/<name>.png`; a test that panics with a browser open leaves
//! `target/screenshots/FAILED-<test name>.png` of the page it was on.
//!
//! A test (see browser_login.rs):
//!
//! ```ignore
//! for db in databases().await {
//!     let Some(browser) = Browser::start().await else { return };
//!     let server = TestServer::start_test_data(&db).await;
//!     seed(&server).await;
//!     people(&server).await;
//!     browser.log_in_with_token(&server, &person_token(&db, MANAGER), "/accessmanagement/ui/").await;
//!     browser.check_accessibility("overview").await;
//!     browser.screenshot(&format!("overview-{}", db.name)).await;
//!     assert_eq!(browser.find("h1").await.text().await, "…");
//!     drop(browser);
//!     server.stop().await;
//! }
//! ```
//!
//! Every call panics with what went wrong (the command, the driver's message, the page's URL),
//! like the rest of the harness. Each `Browser` is its own Chromium session with a fresh profile
//! (no cookies shared between tests or stores); the sessions of tests that run at the same time
//! share one chromedriver, started with the first and stopped with the last. Dropping a
//! `Browser` — at the end of the test, or while a failed test unwinds — ends its session and so
//! its Chromium processes, so none outlive `cargo test`.

// The portal tests use the rest of this API; the login test only part of it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{json, Value};

use crate::harness::TestServer;

/// W3C WebDriver's key for an element reference in JSON.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";
/// W3C WebDriver's codes for keys that are not characters.
pub const TAB: char = '\u{E004}';
pub const ENTER: char = '\u{E007}';
pub const SHIFT: char = '\u{E008}';
pub const ESCAPE: char = '\u{E00C}';
pub const SPACE: char = '\u{E00D}';
pub const ARROW_DOWN: char = '\u{E015}';
pub const ARROW_UP: char = '\u{E013}';

/// Norway's rules for public web pages require WCAG 2.1 A and AA; these are axe-core's tags
/// for the rules of WCAG 2.0 and 2.1 at those levels.
const AXE_TAGS: [&str; 4] = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];
/// Every WebDriver call gives up after this, so a hung driver fails the test instead of
/// stalling the suite.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);
const SKIP_HINT: &str = "install chromium chromium-driver and run `npm ci` in crates/fullmakt/tests/browser-tools";

/// Where the tools are, from the environment or Debian's and npm's places.
struct Tools {
    chromium: PathBuf,
    chromedriver: PathBuf,
    axe: PathBuf,
}

impl Tools {
    fn locate() -> Self {
        let path = |var: &str, default: PathBuf| std::env::var_os(var).map(PathBuf::from).unwrap_or(default);
        let axe_default = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser-tools/node_modules/axe-core/axe.min.js");
        Self {
            chromium: path("FULLMAKT_CHROMIUM", "/usr/bin/chromium".into()),
            chromedriver: path("FULLMAKT_CHROMEDRIVER", "/usr/bin/chromedriver".into()),
            axe: path("FULLMAKT_AXE_JS", axe_default),
        }
    }

    fn missing(&self) -> Vec<String> {
        [&self.chromium, &self.chromedriver, &self.axe].into_iter().filter(|p| !p.is_file()).map(|p| p.display().to_string()).collect()
    }
}

fn browser_tests_required() -> bool {
    std::env::var("FULLMAKT_BROWSER_TESTS").is_ok_and(|v| v == "required")
}

/// axe-core's source, read once per test binary.
fn axe_source() -> &'static str {
    static AXE: OnceLock<String> = OnceLock::new();
    AXE.get_or_init(|| {
        let path = Tools::locate().axe;
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading axe-core from {}: {e}", path.display()))
    })
}

/// The workspace's target directory: the test binary lives in `target/<profile>/deps/`.
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    exe.ancestors().nth(3).map(Path::to_path_buf).unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"))
}

pub fn screenshot_dir() -> PathBuf {
    target_dir().join("screenshots")
}

/// One chromedriver process, shared by the sessions that are open at the same time.
struct Driver {
    url: String,
    child: Child,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

static DRIVER: Mutex<Weak<Driver>> = Mutex::new(Weak::new());

impl Driver {
    /// The running driver, or a new one. A new one listens on a port it chose itself (`--port=0`)
    /// and names on its first lines of output, so no two test binaries race for a port.
    fn shared(path: &Path) -> Arc<Driver> {
        let mut slot = DRIVER.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(driver) = slot.upgrade() {
            return driver;
        }
        let mut child = Command::new(path)
            .args(["--port=0", "--log-level=SEVERE"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", path.display()));
        let stdout = child.stdout.take().expect("piped stdout");
        let (port_tx, port_rx) = std::sync::mpsc::channel();
        // Reads the port, then keeps draining the pipe so the driver never blocks writing to it.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("started successfully on port ").nth(1) {
                    let _ = port_tx.send(rest.trim_end_matches('.').trim().to_owned());
                }
            }
        });
        let port = match port_rx.recv_timeout(Duration::from_secs(20)) {
            Ok(port) => port,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{} did not say which port it listens on within 20 s", path.display());
            }
        };
        let driver = Arc::new(Driver { url: format!("http://127.0.0.1:{port}"), child });
        *slot = Arc::downgrade(&driver);
        driver
    }
}

/// An error answer from the driver.
#[derive(Debug)]
struct WebDriverError {
    status: u16,
    error: String,
    message: String,
}

impl std::fmt::Display for WebDriverError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The driver's messages carry a stack trace of its own after the first line or two.
        let message: Vec<&str> = self.message.lines().take(2).collect();
        write!(f, "{} {}: {}", self.status, self.error, message.join(" "))
    }
}

fn new_http_client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().timeout(COMMAND_TIMEOUT).build().expect("an HTTP client")
}

/// One WebDriver command on a fresh connection: `{"value": …}` or the error.
async fn command(http: &reqwest::Client, method: reqwest::Method, url: &str, body: Option<&Value>) -> Result<Value, WebDriverError> {
    let mut request = http.request(method, url);
    if let Some(body) = body {
        request = request.json(body);
    }
    let transport = |e: reqwest::Error| WebDriverError {
        status: 0,
        error: if e.is_connect() { "connect" } else { "transport" }.into(),
        message: e.to_string(),
    };
    let response = request.send().await.map_err(transport)?;
    let status = response.status().as_u16();
    let text = response.text().await.map_err(transport)?;
    let mut answer: Value = serde_json::from_str(&text)
        .map_err(|_| WebDriverError { status, error: "not JSON".into(), message: text.chars().take(300).collect() })?;
    let value = answer["value"].take();
    if status >= 400 || value.get("error").is_some_and(Value::is_string) {
        return Err(WebDriverError {
            status,
            error: value["error"].as_str().unwrap_or("unknown error").to_owned(),
            message: value["message"].as_str().unwrap_or_default().to_owned(),
        });
    }
    Ok(value)
}

/// A cookie as the browser holds it.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cookie {
    pub name: String,
    pub value: String,
    #[serde(default)]
    pub path: String,
    #[serde(default)]
    pub domain: String,
    #[serde(default)]
    pub secure: bool,
    #[serde(default)]
    pub http_only: bool,
    /// `Strict`, `Lax` or `None`, as the browser took it.
    #[serde(default)]
    pub same_site: Option<String>,
    /// Seconds since the epoch; `None` for a session cookie.
    #[serde(default)]
    pub expiry: Option<u64>,
}

/// One axe-core finding.
#[derive(Debug, Clone)]
pub struct Violation {
    pub id: String,
    pub impact: String,
    pub help: String,
    pub help_url: String,
    /// One CSS selector per offending element (nested frames joined with " >>> ").
    pub targets: Vec<String>,
}

impl Violation {
    pub fn is_serious(&self) -> bool {
        matches!(self.impact.as_str(), "serious" | "critical")
    }
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {} <{}> at {}", self.id, self.impact, self.help, self.help_url, self.targets.join(", "))
    }
}

/// A Chromium session with its own profile. Ends the session when dropped.
pub struct Browser {
    http: reqwest::Client,
    /// `http://127.0.0.1:<port>/session/<id>`
    session: String,
    // Dropped in this order after `drop` has ended the session: the driver (stopped if no other
    // session uses it), then the profile directory the browser no longer writes to.
    driver: Arc<Driver>,
    profile: tempfile::TempDir,
}

impl Browser {
    /// A new headless Chromium session asking for English pages, or `None` (after printing why)
    /// when the browser, the driver or axe-core is not installed. With
    /// `FULLMAKT_BROWSER_TESTS=required` a missing tool fails the test instead.
    pub async fn start() -> Option<Browser> {
        Self::start_with_languages("en-US,en").await
    }

    /// [`Browser::start`] with the languages the browser asks for (`Accept-Language`,
    /// `navigator.languages`), most wanted first: `"nb,nn,en"`.
    pub async fn start_with_languages(languages: &str) -> Option<Browser> {
        let tools = Tools::locate();
        let missing = tools.missing();
        if !missing.is_empty() {
            let message = format!("{SKIP_HINT} (missing: {})", missing.join(", "));
            assert!(!browser_tests_required(), "FULLMAKT_BROWSER_TESTS=required, but: {message}");
            // Straight to stderr, past the test harness's capture, so a plain `cargo test`
            // shows it; once per test binary.
            static SAID: std::sync::Once = std::sync::Once::new();
            SAID.call_once(|| {
                let _ = writeln!(std::io::stderr(), "browser tests skipped: {message}");
            });
            return None;
        }
        let driver = Driver::shared(&tools.chromedriver);
        let http = new_http_client();
        let profile = tempfile::tempdir().expect("a profile directory");
        let args = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1280,900",
        ]
        .map(str::to_owned)
        .into_iter()
        .chain([
            format!("--lang={}", languages.split(',').next().unwrap_or("en-US")),
            format!("--user-data-dir={}", profile.path().display()),
        ])
        .collect::<Vec<_>>();
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "pageLoadStrategy": "normal",
            "unhandledPromptBehavior": "dismiss and notify",
            "timeouts": {"implicit": 0, "pageLoad": 30_000, "script": 30_000},
            "goog:chromeOptions": {
                "binary": tools.chromium.display().to_string(),
                "args": args,
                "prefs": {"intl": {"accept_languages": languages}},
            },
        }}});
        // A driver that has just printed its port accepts at once; a few tries cover a slow start.
        let mut attempt = 0;
        let created = loop {
            attempt += 1;
            match command(&http, reqwest::Method::POST, &format!("{}/session", driver.url), Some(&capabilities)).await {
                Ok(value) => break value,
                Err(e) if e.error == "connect" && attempt < 20 => tokio::time::sleep(Duration::from_millis(100)).await,
                Err(e) => panic!("creating a Chromium session through {}: {e}", driver.url),
            }
        };
        let id = created["sessionId"].as_str().unwrap_or_else(|| panic!("a new session has an id: {created}"));
        Some(Browser { http, session: format!("{}/session/{id}", driver.url), driver, profile })
    }

    async fn try_call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Result<Value, WebDriverError> {
        command(&self.http, method, &format!("{}{path}", self.session), body.as_ref()).await
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let what = format!("{method} {path}");
        match self.try_call(method, path, body).await {
            Ok(value) => value,
            Err(e) => panic!("WebDriver {what}: {e}{}", self.whereabouts().await),
        }
    }

    async fn get(&self, path: &str) -> Value {
        self.call(reqwest::Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    /// " (on <url>)" for failure messages, when the browser can still say.
    async fn whereabouts(&self) -> String {
        match self.try_call(reqwest::Method::GET, "/url", None).await {
            Ok(Value::String(url)) => format!(" (on {url})"),
            _ => String::new(),
        }
    }

    fn element(&self, reference: &Value) -> Element<'_> {
        let id = reference[ELEMENT_KEY].as_str().unwrap_or_else(|| panic!("not an element reference: {reference}"));
        Element { browser: self, id: id.to_owned() }
    }

    /// Opens `url` and waits for the page to load.
    pub async fn goto(&self, url: &str) {
        self.post("/url", json!({"url": url})).await;
    }

    pub async fn back(&self) {
        self.post("/back", json!({})).await;
    }

    pub async fn refresh(&self) {
        self.post("/refresh", json!({})).await;
    }

    pub async fn current_url(&self) -> String {
        self.get("/url").await.as_str().unwrap_or_default().to_owned()
    }

    pub async fn title(&self) -> String {
        self.get("/title").await.as_str().unwrap_or_default().to_owned()
    }

    /// The page's HTML as the browser has it now (after any script ran).
    pub async fn page_source(&self) -> String {
        self.get("/source").await.as_str().unwrap_or_default().to_owned()
    }

    /// The first element matching the CSS selector; panics when there is none.
    pub async fn find(&self, css: &str) -> Element<'_> {
        let body = json!({"using": "css selector", "value": css});
        match self.try_call(reqwest::Method::POST, "/element", Some(body)).await {
            Ok(reference) => self.element(&reference),
            Err(e) if e.error == "no such element" => panic!("no element matches {css:?}{}", self.whereabouts().await),
            Err(e) => panic!("finding {css:?}: {e}{}", self.whereabouts().await),
        }
    }

    /// Every element matching the CSS selector, in document order (none is not an error).
    pub async fn find_all(&self, css: &str) -> Vec<Element<'_>> {
        let found = self.post("/elements", json!({"using": "css selector", "value": css})).await;
        found.as_array().map(|all| all.iter().map(|r| self.element(r)).collect()).unwrap_or_default()
    }

    /// Waits until an element matches the CSS selector; panics after `timeout`.
    pub async fn wait_for(&self, css: &str, timeout: Duration) -> Element<'_> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(first) = self.find_all(css).await.into_iter().next() {
                return first;
            }
            if Instant::now() >= deadline {
                panic!("no element matched {css:?} within {timeout:?}{}", self.whereabouts().await);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until the browser's URL is one `wanted` accepts (`|u| u.starts_with(…)`, …) and
    /// returns it; panics after `timeout`.
    pub async fn wait_for_url(&self, wanted: impl Fn(&str) -> bool, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let url = self.current_url().await;
            if wanted(&url) {
                return url;
            }
            assert!(Instant::now() < deadline, "the browser stayed on {url} for {timeout:?}, not a URL the test waited for");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Runs `script` as a function body in the page (`arguments` are `args`; pass elements with
    /// [`Element::to_arg`]) and returns what it returns. Runs outside the page's
    /// Content-Security-Policy, as the driver's scripts do.
    pub async fn execute(&self, script: &str, args: &[Value]) -> Value {
        self.post("/execute/sync", json!({"script": script, "args": args})).await
    }

    /// Like [`Browser::execute`], for a script that calls `arguments[arguments.length - 1]`
    /// with its result when done.
    pub async fn execute_async(&self, script: &str, args: &[Value]) -> Value {
        self.post("/execute/async", json!({"script": script, "args": args})).await
    }

    /// The focused element (the body when nothing is).
    pub async fn active_element(&self) -> Element<'_> {
        let reference = self.get("/element/active").await;
        self.element(&reference)
    }

    /// Types `keys` on the keyboard, into whatever has focus: each character pressed and
    /// released in turn; the key constants ([`TAB`], [`ENTER`], …) press those keys.
    pub async fn send_keys_to_active(&self, keys: &str) {
        let actions: Vec<Value> = keys
            .chars()
            .flat_map(|c| [json!({"type": "keyDown", "value": c.to_string()}), json!({"type": "keyUp", "value": c.to_string()})])
            .collect();
        self.post("/actions", json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]})).await;
    }

    pub async fn press_tab(&self) {
        self.send_keys_to_active(&TAB.to_string()).await;
    }

    pub async fn press_shift_tab(&self) {
        let (shift, tab) = (SHIFT.to_string(), TAB.to_string());
        let actions = json!([
            {"type": "keyDown", "value": shift}, {"type": "keyDown", "value": tab},
            {"type": "keyUp", "value": tab}, {"type": "keyUp", "value": shift},
        ]);
        self.post("/actions", json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]})).await;
    }

    pub async fn press_enter(&self) {
        self.send_keys_to_active(&ENTER.to_string()).await;
    }

    /// Presses Tab until the focused element matches the CSS selector, as a keyboard user
    /// would get there, and returns it; panics after `max_tabs` presses.
    pub async fn tab_to(&self, css: &str, max_tabs: usize) -> Element<'_> {
        let mut path = Vec::new();
        for _ in 0..max_tabs {
            self.press_tab().await;
            let focused = self
                .execute("const e = document.activeElement; return [e ? e.matches(arguments[0]) : false, e ? e.outerHTML.slice(0, 80) : ''];", &[json!(css)])
                .await;
            if focused[0] == true {
                return self.active_element().await;
            }
            path.push(focused[1].as_str().unwrap_or_default().to_owned());
        }
        panic!("{max_tabs} presses of Tab did not reach {css:?}; focus went through {path:#?}{}", self.whereabouts().await);
    }

    /// The cookies the current page can see (the browser's jar, filtered by the page's URL).
    pub async fn cookies(&self) -> Vec<Cookie> {
        let all = self.get("/cookie").await;
        serde_json::from_value(all.clone()).unwrap_or_else(|e| panic!("cookies {all}: {e}"))
    }

    pub async fn cookie(&self, name: &str) -> Option<Cookie> {
        self.cookies().await.into_iter().find(|c| c.name == name)
    }

    /// Puts a cookie for the current page's host (open a page there first), `Path=/`,
    /// `SameSite=Lax`, as fullmakt sets its own.
    pub async fn add_cookie(&self, name: &str, value: &str, http_only: bool) {
        let cookie = json!({"name": name, "value": value, "path": "/", "httpOnly": http_only, "sameSite": "Lax"});
        self.post("/cookie", json!({ "cookie": cookie })).await;
    }

    pub async fn delete_all_cookies(&self) {
        self.call(reqwest::Method::DELETE, "/cookie", None).await;
    }

    /// Logs in as `pid` the way a person does on a test-data server: fullmakt's login start with
    /// `goto` (a path), the test identity provider's page (searched for `pid`, so paging never
    /// hides the person), the person's button; returns the URL the browser lands on once it has
    /// left login's pages (`goto`, or where that page sent it). The person must be in the
    /// register with a synthetic number (the provider offers no others); for anyone else use
    /// [`Browser::log_in_with_token`].
    pub async fn log_in(&self, server: &TestServer, pid: &str, goto: &str) -> String {
        let goto_query: String = url::form_urlencoded::byte_serialize(goto.as_bytes()).collect();
        self.goto(&format!("{}/authentication/api/v1/authentication?goto={goto_query}", server.base)).await;
        let person_page = format!("{}/testidp/login?", server.public_url);
        let page = self.wait_for_url(|u| u.starts_with(&person_page), Duration::from_secs(10)).await;
        self.goto(&format!("{page}&q={pid}")).await;
        let button = format!("form:has(input[name=pid][value=\"{pid}\"]) button");
        let Some(choose) = self.find_all(&button).await.into_iter().next() else {
            panic!("the test identity provider does not offer {pid}: only synthetic persons in the register can log in there")
        };
        choose.click().await;
        let login_pages = [format!("{}/testidp/", server.public_url), format!("{}/authentication/api/v1/authentication", server.public_url)];
        self.wait_for_url(|u| !login_pages.iter().any(|p| u.starts_with(p.as_str())), Duration::from_secs(10)).await
    }

    /// Logs in with a person token made for the test (`person_token(&db, pid)`): puts it in the
    /// `AltinnStudioRuntime` cookie as login's callback does, then opens `goto` (a path). Works for
    /// any person in the register, and skips the provider's pages. Returns the URL the browser
    /// lands on.
    pub async fn log_in_with_token(&self, server: &TestServer, token: &str, goto: &str) -> String {
        // A cookie can only be put for the host of the page the browser is on.
        self.goto(&format!("{}/authentication/api/v1/openid/.well-known/openid-configuration", server.base)).await;
        self.add_cookie("AltinnStudioRuntime", token, true).await;
        self.goto(&format!("{}{goto}", server.base)).await;
        self.current_url().await
    }

    /// Saves what the window shows to `target/screenshots/<name>.png` and returns the path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.get("/screenshot").await;
        save_screenshot(name, png.as_str().unwrap_or_default())
    }

    /// Runs axe-core on the page with the WCAG 2.0 and 2.1 A and AA rules. Fails the test with
    /// every serious or critical violation (rule, help, the offending elements' selectors) and
    /// a screenshot `<page_name>-axe`; lesser ones are printed. Returns every violation.
    pub async fn check_accessibility(&self, page_name: &str) -> Vec<Violation> {
        let violations = self.accessibility_violations().await;
        for v in violations.iter().filter(|v| !v.is_serious()) {
            eprintln!("accessibility note on {page_name}: {v}");
        }
        if let Some(report) = serious_violations_report(page_name, &violations) {
            let shot = self.screenshot(&format!("{page_name}-axe")).await;
            panic!("{report}\npage: {}, screenshot: {}", self.current_url().await, shot.display());
        }
        violations
    }

    /// Every axe-core violation of the WCAG 2.0 and 2.1 A and AA rules on the page, whatever
    /// its impact, without failing the test.
    pub async fn accessibility_violations(&self) -> Vec<Violation> {
        // Every page load starts without axe; the source is sent again only then.
        let present = self.execute("return typeof window.axe === 'object';", &[]).await;
        if present != true {
            self.execute(&format!("{}\n;return true;", axe_source()), &[]).await;
        }
        let script = "const done = arguments[arguments.length - 1];
            axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}, resultTypes: ['violations']})
              .then(r => done({violations: r.violations.map(v => ({id: v.id, impact: v.impact || '', help: v.help,
                  helpUrl: v.helpUrl, targets: v.nodes.map(n => n.target.map(t => [].concat(t).join(' ')).join(' >>> '))}))}))
              .catch(e => done({error: String(e)}));";
        let report = self.execute_async(script, &[json!(AXE_TAGS)]).await;
        if let Some(error) = report.get("error") {
            panic!("axe-core failed: {error}{}", self.whereabouts().await);
        }
        let text = |v: &Value, k: &str| v[k].as_str().unwrap_or_default().to_owned();
        report["violations"]
            .as_array()
            .map(|all| {
                all.iter()
                    .map(|v| Violation {
                        id: text(v, "id"),
                        impact: text(v, "impact"),
                        help: text(v, "help"),
                        help_url: text(v, "helpUrl"),
                        targets: v["targets"].as_array().map(|t| t.iter().filter_map(Value::as_str).map(str::to_owned).collect()).unwrap_or_default(),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// The failure message for the serious and critical violations among `violations`, if any.
pub fn serious_violations_report(page_name: &str, violations: &[Violation]) -> Option<String> {
    let serious: Vec<String> = violations.iter().filter(|v| v.is_serious()).map(|v| format!("  - {v}")).collect();
    (!serious.is_empty()).then(|| format!("{} serious accessibility violation(s) on {page_name}:\n{}", serious.len(), serious.join("\n")))
}

fn save_screenshot(name: &str, base64_png: &str) -> PathBuf {
    let png = base64::engine::general_purpose::STANDARD.decode(base64_png).unwrap_or_else(|e| panic!("screenshot {name} is not base64: {e}"));
    let dir = screenshot_dir();
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
    let file_name: String = name.chars().map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '_' }).collect();
    let path = dir.join(format!("{file_name}.png"));
    std::fs::write(&path, png).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    path
}

impl Drop for Browser {
    /// Ends the session, also while a failed test unwinds (after a screenshot of where it
    /// failed). The test's runtime cannot be blocked on from here, so the calls run on a thread
    /// of their own with a runtime of their own.
    fn drop(&mut self) {
        let session = self.session.clone();
        let failed_test = std::thread::panicking().then(|| std::thread::current().name().unwrap_or("test").to_owned());
        let cleanup = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return false };
            runtime.block_on(async {
                let http = new_http_client();
                if let Some(test) = failed_test {
                    if let Ok(Value::String(png)) = command(&http, reqwest::Method::GET, &format!("{session}/screenshot"), None).await {
                        let path = save_screenshot(&format!("FAILED-{test}"), &png);
                        eprintln!("the browser's page when {test} failed: {}", path.display());
                    }
                }
                command(&http, reqwest::Method::DELETE, &session, None).await.is_ok()
            })
        });
        if !cleanup.join().unwrap_or(false) {
            // The driver did not end the session: its Chromium would outlive the driver, so end
            // the processes that use this session's own profile directory.
            kill_processes_using(self.profile.path());
        }
    }
}

/// Ends every process whose command line names `profile` (a directory unique to one session).
fn kill_processes_using(profile: &Path) {
    let needle = format!("--user-data-dir={}", profile.display());
    let Ok(entries) = std::fs::read_dir("/proc") else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().filter(|n| n.bytes().all(|b| b.is_ascii_digit())) else { continue };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else { continue };
        if cmdline.split(|b| *b == 0).any(|arg| arg == needle.as_bytes()) {
            let _ = Command::new("kill").args(["-9", pid]).status();
        }
    }
}

/// An element on the page the browser showed when it was found.
pub struct Element<'b> {
    browser: &'b Browser,
    id: String,
}

impl<'b> Element<'b> {
    fn path(&self, rest: &str) -> String {
        format!("/element/{}{rest}", self.id)
    }

    /// The element as an argument for [`Browser::execute`].
    pub fn to_arg(&self) -> Value {
        json!({ ELEMENT_KEY: self.id })
    }

    pub async fn click(&self) {
        self.browser.post(&self.path("/click"), json!({})).await;
    }

    /// The text as rendered (hidden text left out, whitespace collapsed).
    pub async fn text(&self) -> String {
        self.browser.get(&self.path("/text")).await.as_str().unwrap_or_default().to_owned()
    }

    /// The attribute as written in the HTML, `None` when absent.
    pub async fn attribute(&self, name: &str) -> Option<String> {
        self.browser.get(&self.path(&format!("/attribute/{name}"))).await.as_str().map(str::to_owned)
    }

    /// The DOM property (`value`, `checked`, …).
    pub async fn property(&self, name: &str) -> Value {
        self.browser.get(&self.path(&format!("/property/{name}"))).await
    }

    pub async fn tag_name(&self) -> String {
        self.browser.get(&self.path("/name")).await.as_str().unwrap_or_default().to_lowercase()
    }

    pub async fn is_displayed(&self) -> bool {
        self.browser.get(&self.path("/displayed")).await == true
    }

    pub async fn is_enabled(&self) -> bool {
        self.browser.get(&self.path("/enabled")).await == true
    }

    pub async fn is_selected(&self) -> bool {
        self.browser.get(&self.path("/selected")).await == true
    }

    /// Does it have the keyboard focus?
    pub async fn is_focused(&self) -> bool {
        self.browser.execute("return arguments[0] === document.activeElement;", &[self.to_arg()]).await == true
    }

    /// Focuses the element and types `keys` into it (key constants allowed).
    pub async fn send_keys(&self, keys: &str) {
        self.browser.post(&self.path("/value"), json!({"text": keys})).await;
    }

    pub async fn clear(&self) {
        self.browser.post(&self.path("/clear"), json!({})).await;
    }

    /// The first descendant matching the CSS selector; panics when there is none.
    pub async fn find(&self, css: &str) -> Element<'b> {
        let body = json!({"using": "css selector", "value": css});
        match self.browser.try_call(reqwest::Method::POST, &self.path("/element"), Some(body)).await {
            Ok(reference) => self.browser.element(&reference),
            Err(e) => panic!("no descendant matches {css:?}: {e}{}", self.browser.whereabouts().await),
        }
    }

    pub async fn find_all(&self, css: &str) -> Vec<Element<'b>> {
        let found = self.browser.post(&self.path("/elements"), json!({"using": "css selector", "value": css})).await;
        found.as_array().map(|all| all.iter().map(|r| self.browser.element(r)).collect()).unwrap_or_default()
    }
}
