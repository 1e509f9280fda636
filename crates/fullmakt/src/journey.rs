//! `fullmakt demo`: the whole system-user journey against a running `serve --demo`, each step
//! printed as it happens, every step over HTTP. The vendor's calls use the demo vendor's client
//! (its key is in the demo directory); the customer's managing director logs in as a browser
//! would, through the test identity provider's pages, and then uses the portal API with the
//! `AltinnStudioRuntime` cookie's token.
//!
//! The journey ends where it began: the system user it created is deleted, so it can run again.

use std::path::PathBuf;

use fullmakt_jose::SigningKey;
use serde_json::{json, Value};

use crate::demo::{CUSTOMER_MANAGER_PID, CUSTOMER_ORG, DEMO_RESOURCE, VENDOR_ORG};

const SYSTEM_NAME: &str = "fullmaktdemo";
const EXTERNAL_REF: &str = "fullmakt-demo";
const PACKAGE: &str = "urn:altinn:accesspackage:lonn";
const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

#[derive(clap::Args)]
pub struct JourneyArgs {
    /// Base URL of the running server (started with --demo).
    #[arg(long, env = "FULLMAKT_PUBLIC_URL", default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// Where `serve --demo` wrote the vendor's key and settings.
    #[arg(long, env = "FULLMAKT_DEMO_DIR", default_value = "demo")]
    pub demo_dir: PathBuf,
    /// Leave the approval to you: open the printed link in a browser, log in as the bakery's
    /// managing director and approve in the portal; the journey waits (up to ten minutes) and
    /// then goes on.
    #[arg(long)]
    pub in_browser: bool,
}

type HttpClient = hyper_util::client::legacy::Client<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
    http_body_util::Full<hyper::body::Bytes>,
>;

struct Journey {
    http: HttpClient,
    base: String,
    client_id: String,
    kid: String,
    key: SigningKey,
    audience: String,
    step: usize,
}

fn settings(dir: &std::path::Path) -> Result<(String, String, PathBuf, String), String> {
    let path = dir.join("vendor-admin.env");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("reading {}: {e} (start `fullmakt serve --demo` first)", path.display()))?;
    let get = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}=")))
            .map(str::to_owned)
            .ok_or_else(|| format!("{} has no {name}", path.display()))
    };
    Ok((get("CLIENT_ID")?, get("KID")?, PathBuf::from(get("KEY_FILE")?), get("ISSUER")?))
}

fn private_key(path: &std::path::Path) -> Result<SigningKey, String> {
    use base64::Engine;
    let pem = std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = base64::engine::general_purpose::STANDARD.decode(b64).map_err(|e| format!("{} is not PEM: {e}", path.display()))?;
    SigningKey::from_pkcs8(&der).map_err(|e| format!("{}: {e}", path.display()))
}

impl Journey {
    /// Polls the vendor's view of the request until someone answers it in the portal.
    async fn wait_for_answer(&self, vendor: &str, request_id: &str) -> Result<String, String> {
        for _ in 0..300 {
            let (status, body) = self.call(hyper::Method::GET, &format!("/authentication/api/v1/systemuser/request/vendor/{request_id}"), vendor, None).await?;
            expect(status == 200, "reading the request", status, &body)?;
            match body["status"].as_str() {
                Some("New") | None => tokio::time::sleep(std::time::Duration::from_secs(2)).await,
                Some(other) => return Ok(other.to_owned()),
            }
        }
        Err("nobody answered the request in the portal within ten minutes".into())
    }
    fn say(&mut self, what: &str) {
        self.step += 1;
        println!("{:>2}. {what}", self.step);
    }

    fn detail(what: impl std::fmt::Display) {
        println!("    {what}");
    }

    /// A grant signed with the vendor's key, and the token endpoint's answer.
    async fn token(&self, scope: &str, authorization_details: Option<Value>) -> Result<(u16, Value), String> {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_err(|e| e.to_string())?.as_secs() as i64;
        let mut claims = json!({"aud": self.audience, "iss": self.client_id, "scope": scope, "iat": now, "exp": now + 60,
            "jti": uuid::Uuid::new_v4().to_string()});
        if let Some(details) = authorization_details {
            claims["authorization_details"] = details;
        }
        let header = json!({"alg": "RS256", "kid": self.kid});
        let grant = self.key.sign_compact(header.to_string().as_bytes(), claims.to_string().as_bytes()).map_err(|e| e.to_string())?;
        let form = format!("grant_type={}&assertion={grant}", GRANT_TYPE.replace(':', "%3A"));
        self.send(hyper::Method::POST, "/token", None, "application/x-www-form-urlencoded", form.into_bytes()).await
    }

    /// One request; the body comes back as JSON, or as a JSON string when it is not JSON.
    async fn send(&self, method: hyper::Method, path: &str, bearer: Option<&str>, content_type: &str, body: Vec<u8>) -> Result<(u16, Value), String> {
        use http_body_util::BodyExt;
        let what = format!("{method} {path}");
        let mut request = hyper::Request::builder().method(method).uri(format!("{}{path}", self.base)).header(hyper::header::CONTENT_TYPE, content_type);
        if let Some(token) = bearer {
            request = request.header(hyper::header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let request = request.body(http_body_util::Full::new(hyper::body::Bytes::from(body))).map_err(|e| format!("{what}: {e}"))?;
        let response = self.http.request(request).await.map_err(|e| format!("{what}: {e} (is `fullmakt serve --demo` running at {}?)", self.base))?;
        let status = response.status().as_u16();
        let bytes = response.into_body().collect().await.map_err(|e| format!("{what}: {e}"))?.to_bytes();
        Ok((status, serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))))
    }

    /// A browser's request: the status, the `Location`, the `Set-Cookie` values and the body.
    async fn browse(&self, method: hyper::Method, url: &str, cookies: &[(String, String)], form: Option<(&str, &str)>) -> Result<(u16, String, Vec<String>, String), String> {
        use http_body_util::BodyExt;
        let mut request = hyper::Request::builder().method(method.clone()).uri(url).header(hyper::header::ACCEPT, "text/html");
        if !cookies.is_empty() {
            let header = cookies.iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join("; ");
            request = request.header(hyper::header::COOKIE, header);
        }
        let body = match form {
            Some((origin, body)) => {
                request = request.header(hyper::header::CONTENT_TYPE, "application/x-www-form-urlencoded").header(hyper::header::ORIGIN, origin);
                body.as_bytes().to_vec()
            }
            None => Vec::new(),
        };
        let request = request.body(http_body_util::Full::new(hyper::body::Bytes::from(body))).map_err(|e| format!("{method} {url}: {e}"))?;
        let response = self.http.request(request).await.map_err(|e| format!("{method} {url}: {e}"))?;
        let status = response.status().as_u16();
        let header = |name| response.headers().get_all(name).iter().filter_map(|v| v.to_str().ok()).map(str::to_owned).collect::<Vec<_>>();
        let location = header(hyper::header::LOCATION).into_iter().next().unwrap_or_default();
        let set_cookies = header(hyper::header::SET_COOKIE);
        let bytes = response.into_body().collect().await.map_err(|e| format!("{method} {url}: {e}"))?.to_bytes();
        Ok((status, location, set_cookies, String::from_utf8_lossy(&bytes).into_owned()))
    }

    /// The whole browser login through the test identity provider; returns the person token the
    /// callback set as the `AltinnStudioRuntime` cookie.
    async fn log_in(&self, pid: &str) -> Result<String, String> {
        let mut cookies: Vec<(String, String)> = Vec::new();
        let keep = |cookies: &mut Vec<(String, String)>, set: &[String]| {
            for c in set {
                if let Some((name, value)) = c.split(';').next().and_then(|p| p.split_once('=')) {
                    cookies.retain(|(n, _)| n != name);
                    if !value.is_empty() {
                        cookies.push((name.to_owned(), value.to_owned()));
                    }
                }
            }
        };
        let step = |what: &str, status: u16, expected: u16, body: &str| {
            expect(status == expected, what, status, &Value::String(body.chars().take(300).collect()))
        };
        let (status, authorize, set, body) = self.browse(hyper::Method::GET, &format!("{}/authentication/api/v1/authentication", self.base), &cookies, None).await?;
        step("starting the login", status, 302, &body)?;
        keep(&mut cookies, &set);
        let (status, page_url, set, body) = self.browse(hyper::Method::GET, &authorize, &cookies, None).await?;
        step("the test identity provider's authorize", status, 303, &body)?;
        keep(&mut cookies, &set);
        let (status, _, set, page) = self.browse(hyper::Method::GET, &page_url, &cookies, None).await?;
        step("the test identity provider's person page (is the server running with --demo?)", status, 200, &page)?;
        keep(&mut cookies, &set);
        let hidden = |name: &str| {
            let marker = format!("name=\"{name}\" value=\"");
            let start = page.find(&marker).map(|i| i + marker.len()).ok_or_else(|| format!("the person page has no {name} field"))?;
            Ok::<_, String>(page[start..].split('"').next().unwrap_or_default().to_owned())
        };
        let (request, csrf) = (hidden("request")?, hidden("csrf")?);
        let origin: String = page_url.splitn(4, '/').take(3).collect::<Vec<_>>().join("/");
        let form = format!("request={request}&csrf={csrf}&pid={pid}");
        let (status, callback, set, body) =
            self.browse(hyper::Method::POST, &format!("{origin}/testidp/login"), &cookies, Some((&origin, &form))).await?;
        step("choosing the person", status, 303, &body)?;
        keep(&mut cookies, &set);
        let (status, _, set, body) = self.browse(hyper::Method::GET, &callback, &cookies, None).await?;
        step("the login's callback", status, 302, &body)?;
        keep(&mut cookies, &set);
        cookies.into_iter().find(|(n, _)| n == "AltinnStudioRuntime").map(|(_, v)| v).ok_or_else(|| "the callback set no AltinnStudioRuntime cookie".into())
    }

    async fn call(&self, method: hyper::Method, path: &str, token: &str, body: Option<Value>) -> Result<(u16, Value), String> {
        let body = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        self.send(method, path, Some(token), "application/json", body).await
    }

    fn system_user_details() -> Value {
        json!([{"type": "urn:altinn:systemuser",
            "systemuser_org": {"authority": "iso6523-actorid-upis", "ID": format!("0192:{CUSTOMER_ORG}")}, "externalRef": EXTERNAL_REF}])
    }

    async fn decision(&self, token: &str, system_user: &str) -> Result<String, String> {
        let request = json!({"Request": {
            "AccessSubject": [{"Attribute": [{"AttributeId": "urn:altinn:systemuser:uuid", "Value": system_user}]}],
            "Action": [{"Attribute": [{"AttributeId": "urn:oasis:names:tc:xacml:1.0:action:action-id", "Value": "read"}]}],
            "Resource": [{"Attribute": [
                {"AttributeId": "urn:altinn:resource", "Value": DEMO_RESOURCE},
                {"AttributeId": "urn:altinn:organization:identifier-no", "Value": CUSTOMER_ORG}]}]
        }});
        let (status, body) = self.call(hyper::Method::POST, "/authorization/api/v1/authorize", token, Some(request)).await?;
        expect(status == 200, "the decision", status, &body)?;
        Ok(body["response"][0]["decision"].as_str().unwrap_or_default().to_owned())
    }
}

/// The raw JSON text of an array or object member of a JSON object's text.
fn raw_member<'a>(json: &'a str, name: &str) -> Option<&'a str> {
    let start = json.find(&format!("\"{name}\":"))? + name.len() + 3;
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for (i, c) in json[start..].char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_string => escaped = true,
            '"' => in_string = !in_string,
            '[' | '{' if !in_string => depth += 1,
            ']' | '}' if !in_string => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(&json[start..start + i + 1]);
                }
            }
            _ => {}
        }
    }
    None
}

fn expect(ok: bool, what: &str, status: u16, body: &Value) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(format!("{what} failed: HTTP {status} {body}"))
    }
}

pub async fn run(args: JourneyArgs) -> Result<(), String> {
    let (client_id, kid, key_file, issuer) = settings(&args.demo_dir)?;
    let mut j = Journey {
        http: crate::jwks_fetch::https_client().map_err(|e| format!("cannot set up TLS: {e}"))?,
        base: args.url.trim_end_matches('/').to_owned(),
        client_id,
        kid,
        key: private_key(&key_file)?,
        audience: issuer,
        step: 0,
    };
    use hyper::Method;
    let system_id = format!("{VENDOR_ORG}_{SYSTEM_NAME}");

    j.say("The vendor gets an access token for the Authentication API (POST /token).");
    let scopes = "altinn:authentication/systemregister.write altinn:authentication/systemuser.request.read altinn:authentication/systemuser.request.write altinn:authorization/authorize";
    let (status, body) = j.token(scopes, None).await?;
    expect(status == 200, "the vendor's token", status, &body)?;
    let vendor = body["access_token"].as_str().unwrap_or_default().to_owned();

    j.say(&format!("The vendor registers its system {system_id} (POST …/systemregister/vendor)."));
    let system = json!({
        "id": system_id,
        "vendor": {"authority": "iso6523-actorid-upis", "ID": format!("0192:{VENDOR_ORG}")},
        "name": {"nb": "Fullmakt demolønn", "nn": "Fullmakt demoløn", "en": "Fullmakt demo payroll"},
        "description": {"nb": "Demosystem", "nn": "Demosystem", "en": "Demo system"},
        "rights": [{"resource": [{"id": "urn:altinn:resource", "value": DEMO_RESOURCE}]}],
        "accessPackages": [{"urn": PACKAGE}],
        "clientId": [j.client_id],
        "isVisible": true
    });
    let (status, body) = j.call(Method::POST, "/authentication/api/v1/systemregister/vendor", &vendor, Some(system.clone())).await?;
    if status == 400 && body.to_string().contains("AUTH.VLD-00002") {
        let (status, body) = j.call(Method::PUT, &format!("/authentication/api/v1/systemregister/vendor/{system_id}"), &vendor, Some(system)).await?;
        expect(status == 200, "updating the system", status, &body)?;
        Journey::detail("registered by an earlier run; updated");
    } else {
        expect(status == 200, "registering the system", status, &body)?;
    }

    j.say(&format!("The vendor asks {CUSTOMER_ORG} (Solstråle Bakeri AS) for a system user (POST …/systemuser/request/vendor)."));
    let request = json!({"systemId": system_id, "partyOrgNo": CUSTOMER_ORG, "externalRef": EXTERNAL_REF,
        "rights": [{"resource": [{"id": "urn:altinn:resource", "value": DEMO_RESOURCE}]}], "accessPackages": [{"urn": PACKAGE}]});
    let (status, body) = j.call(Method::POST, "/authentication/api/v1/systemuser/request/vendor", &vendor, Some(request)).await?;
    expect(status == 201 || status == 200, "the request", status, &body)?;
    let request_id = body["id"].as_str().unwrap_or_default().to_owned();
    Journey::detail(format!("request {request_id}, status {}", body["status"]));
    Journey::detail(format!("the customer confirms at {}", body["confirmUrl"].as_str().unwrap_or_default()));

    let confirm_url = body["confirmUrl"].as_str().unwrap_or_default().to_owned();
    if args.in_browser {
        j.say("Approve it in the portal: open this link, choose Kari Demo Solstråle at the test identity provider, and approve.");
        Journey::detail(&confirm_url);
        let status = j.wait_for_answer(&vendor, &request_id).await?;
        expect(status == "Accepted", "your answer in the portal", 200, &json!(status))?;
        Journey::detail("approved in the portal");
    }
    j.say(&format!("The bakery's managing director ({CUSTOMER_MANAGER_PID}) logs in through the test identity provider."));
    let manager = j.log_in(CUSTOMER_MANAGER_PID).await?;
    Journey::detail("the login's callback set the AltinnStudioRuntime cookie");

    j.say("She opens the request in the portal (GET …/systemuser/request/{id}).");
    let (status, body) = j.call(Method::GET, &format!("/authentication/api/v1/systemuser/request/{request_id}"), &manager, None).await?;
    expect(status == 200, "reading the request", status, &body)?;
    let party = body["partyId"].as_i64().unwrap_or_default();
    Journey::detail(format!("for party {party}; she may approve: {}", body["userMayEscalateButNotApprove"] == false));

    if !args.in_browser {
        j.say("She approves it (POST …/systemuser/request/{party}/{id}/approve).");
        let (status, body) = j.call(Method::POST, &format!("/authentication/api/v1/systemuser/request/{party}/{request_id}/approve"), &manager, None).await?;
        expect(status == 200, "the approval", status, &body)?;
        Journey::detail(format!("system user {request_id} created with package lonn and the rights on {DEMO_RESOURCE}"));
    }

    j.say("The vendor gets a system-user token for the bakery (POST /token with authorization_details).");
    let (status, body) = j.token("altinn:instances.read", Some(Journey::system_user_details())).await?;
    expect(status == 200, "the system-user token", status, &body)?;
    let access = body["access_token"].as_str().unwrap_or_default();
    // Printed as the token carries it (member order included), not re-serialised.
    let payload = access.split('.').nth(1).and_then(fullmakt_jose::b64::decode).map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
    Journey::detail(format!("authorization_details: {}", raw_member(&payload, "authorization_details").unwrap_or("?")));

    j.say(&format!("The service owner asks the PDP: may the system user read {DEMO_RESOURCE} for the bakery?"));
    let decided = j.decision(&vendor, &request_id).await?;
    expect(decided == "Permit", "the decision", 200, &json!(decided))?;
    Journey::detail(decided);

    j.say("The managing director deletes the system user (DELETE …/systemuser/{party}/{id}).");
    let (status, body) = j.call(Method::DELETE, &format!("/authentication/api/v1/systemuser/{party}/{request_id}"), &manager, None).await?;
    expect(status == 202, "the deletion", status, &body)?;

    j.say("The vendor's next token request fails at once.");
    let (status, body) = j.token("altinn:instances.read", Some(Journey::system_user_details())).await?;
    expect(status == 400 && body["error"] == "invalid_altinn_customer_configuration", "refusing the token", status, &body)?;
    Journey::detail(format!("{status} {}", body["error"]));

    j.say("And the PDP's next decision.");
    let decided = j.decision(&vendor, &request_id).await?;
    expect(decided == "NotApplicable", "the decision after deletion", 200, &json!(decided))?;
    Journey::detail(decided);
    println!("The journey is complete.");
    Ok(())
}
