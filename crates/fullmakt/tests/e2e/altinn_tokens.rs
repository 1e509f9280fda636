//! fullmakt as Altinn's token issuer: person tokens from the CLI and the person caller (bearer
//! and cookie), the OpenID configuration and JWKS, the Maskinporten token exchange, and vendor
//! APIs accepting exchanged and trusted-issuer tokens but never person tokens.

use reqwest::Method;
use serde_json::{json, Value};
use tokio::net::TcpListener;

use crate::harness::*;

/// An ordinary person number and a synthetic (Tenor, month + 80) one.
const PERSON: &str = "01010012356";
const SYNTHETIC_PERSON: &str = "12877800170";
const TRUSTED_ISSUER: &str = "https://mp.test.example/";
const REFRESH: &str = "/authentication/api/v1/refresh";

async fn add_person(server: &TestServer, pid: &str) -> fullmakt_service::register::PartyView {
    let input = fullmakt_service::register::NewPerson { person_identifier: pid.into(), name: "Kari Nordmann".into(), ..Default::default() };
    fullmakt_service::register::add_person(&server.store, &input, fullmakt_domain::SyntheticNumbers::Accept).await.unwrap()
}

fn test_token(db: &TestDb, args: &[&str]) -> Result<String, String> {
    let mut all = vec!["test-token", "person"];
    all.extend_from_slice(args);
    let (ok, stdout, stderr) = admin_cli(db, &all);
    if ok {
        Ok(stdout.trim().to_owned())
    } else {
        Err(stderr)
    }
}

/// GET with optional bearer token and extra headers; the body as text.
async fn get_text(server: &TestServer, path: &str, token: Option<&str>, headers: &[(&str, &str)]) -> (u16, String, reqwest::header::HeaderMap) {
    let mut req = server.http.get(format!("{}{path}", server.base));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    (status, res.text().await.unwrap(), headers)
}

async fn exchange(server: &TestServer, token: &str) -> String {
    let (status, body, headers) = get_text(server, "/authentication/api/v1/exchange/maskinporten", Some(token), &[]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["content-type"], "text/plain; charset=utf-8");
    body
}

fn consumer(org: &str) -> Value {
    json!({"authority": "iso6523-actorid-upis", "ID": format!("0192:{org}")})
}

#[tokio::test]
async fn a_cli_person_token_is_an_altinn_token_accepted_as_bearer_and_as_cookie() {
    for db in databases().await {
        eprintln!("store: {}", db.name);
        let server = TestServer::start_test_data(&db).await;
        let person = add_person(&server, SYNTHETIC_PERSON).await;
        let token = test_token(&db, &["--pid", SYNTHETIC_PERSON]).unwrap();

        assert_eq!(decode_jwt_part(&token, 0)["typ"], "JWT");
        let claims = decode_jwt_part(&token, 1);
        assert_eq!(
            claim_order(&token),
            [
                "nameid", "urn:altinn:userid", "urn:altinn:party:uuid", "urn:altinn:partyid", "urn:altinn:authenticatemethod",
                "urn:altinn:authlevel", "jti", "sid", "pid", "scope", "nbf", "exp", "iat", "iss"
            ]
        );
        let user_id = person.party_id.to_string();
        assert_eq!(claims["nameid"], user_id);
        assert_eq!(claims["urn:altinn:userid"], user_id, "user ids are party ids, written as a string like Altinn's");
        assert_eq!(claims["urn:altinn:partyid"], json!(person.party_id));
        assert_eq!(claims["urn:altinn:party:uuid"], person.party_uuid);
        assert_eq!(claims["urn:altinn:authenticatemethod"], "NotDefined");
        assert_eq!(claims["urn:altinn:authlevel"], json!(3));
        assert_eq!(claims["pid"], SYNTHETIC_PERSON);
        assert_eq!(claims["scope"], "altinn:portal/enduser");
        assert_eq!(claims["iss"], server.altinn_issuer());
        let iat = claims["iat"].as_i64().unwrap();
        assert!((iat - now()).abs() <= 5);
        assert_eq!((claims["nbf"].as_i64(), claims["exp"].as_i64()), (Some(iat), Some(iat + 1800)));
        for id in ["jti", "sid"] {
            uuid::Uuid::parse_str(claims[id].as_str().unwrap()).unwrap();
        }

        // As a bearer token: the refresh gives a new token for the same person and session.
        let (status, refreshed, headers) = get_text(&server, REFRESH, Some(&token), &[]).await;
        assert_eq!(status, 200, "{refreshed}");
        assert_eq!(headers["content-type"], "text/plain; charset=utf-8");
        let again = decode_jwt_part(&refreshed, 1);
        assert_ne!(again["jti"], claims["jti"]);
        for same in ["urn:altinn:userid", "urn:altinn:partyid", "sid", "pid", "urn:altinn:authlevel", "iss"] {
            assert_eq!(again[same], claims[same], "{same}");
        }
        // As the portal's cookie.
        let cookie = format!("theme=dark; AltinnStudioRuntime={token}");
        let (status, body, _) = get_text(&server, REFRESH, None, &[("cookie", &cookie)]).await;
        assert_eq!(status, 200, "{body}");

        let level4 = test_token(&db, &["--pid", SYNTHETIC_PERSON, "--auth-level", "4"]).unwrap();
        assert_eq!(decode_jwt_part(&level4, 1)["urn:altinn:authlevel"], json!(4));
        let (status, refreshed, _) = get_text(&server, REFRESH, Some(&level4), &[]).await;
        assert_eq!((status, decode_jwt_part(&refreshed, 1)["urn:altinn:authlevel"].clone()), (200, json!(4)));
        server.stop().await;
    }
}

#[tokio::test]
async fn the_cli_mints_person_tokens_only_for_a_test_data_instance_and_known_persons() {
    for db in databases().await {
        eprintln!("store: {}", db.name);
        let err = test_token(&db, &["--pid", PERSON]).unwrap_err();
        assert!(err.contains("no server has started on this database"), "{err}");

        let server = TestServer::start(&db).await;
        add_person(&server, PERSON).await;
        server.stop().await;
        let err = test_token(&db, &["--pid", PERSON]).unwrap_err();
        assert!(err.contains("does not run with test data"), "{err}");

        let server = TestServer::start_test_data(&db).await;
        let token = test_token(&db, &["--pid", PERSON]).unwrap();
        assert_eq!(get_text(&server, REFRESH, Some(&token), &[]).await.0, 200);
        let err = test_token(&db, &["--pid", SYNTHETIC_PERSON]).unwrap_err();
        assert!(err.contains("no person with this person number in the register"), "{err}");
        assert!(!err.contains(SYNTHETIC_PERSON), "the message does not echo a person number: {err}");
        let err = test_token(&db, &["--pid", "0101001235"]).unwrap_err();
        assert!(err.contains("pid: a person number has exactly 11 digits"), "{err}");
        let err = test_token(&db, &["--pid", PERSON, "--auth-level", "5"]).unwrap_err();
        assert!(err.contains("authentication level must be 0 to 4"), "{err}");
        server.stop().await;

        // The latest start decides: started again without test data, the instance refuses.
        let server = TestServer::start(&db).await;
        let err = test_token(&db, &["--pid", PERSON]).unwrap_err();
        assert!(err.contains("does not run with test data"), "{err}");
        server.stop().await;
    }
}

#[tokio::test]
async fn the_person_caller_refuses_vendor_expired_forged_and_foreign_tokens() {
    for db in databases().await {
        eprintln!("store: {}", db.name);
        let server = TestServer::start_test_data(&db).await;
        let person = add_person(&server, PERSON).await;
        let good = test_token(&db, &["--pid", PERSON]).unwrap();
        let now = now();
        let person_claims = |iss: &str, exp: i64| {
            json!({"urn:altinn:userid": person.party_id.to_string(), "urn:altinn:party:uuid": person.party_uuid,
                "urn:altinn:partyid": person.party_id, "urn:altinn:authlevel": 3, "pid": PERSON,
                "scope": "altinn:portal/enduser", "nbf": now - 100, "exp": exp, "iat": now - 100, "iss": iss})
        };
        let vendor_token = api_token(&server, VENDOR_ORG, &["idporten:dcr.read"]).await;
        let exchanged = exchange(&server, &vendor_token).await;
        let expired = sign_as_server(&db, &json!({"alg": "RS256", "typ": "JWT"}), &person_claims(&server.altinn_issuer(), now - 11)).await;
        let in_skew = sign_as_server(&db, &json!({"alg": "RS256", "typ": "JWT"}), &person_claims(&server.altinn_issuer(), now - 5)).await;
        let server_kid = decode_jwt_part(&good, 0)["kid"].as_str().unwrap().to_owned();
        let forged = ClientKey::generate(&server_kid).sign(&json!({"alg": "RS256", "kid": server_kid}), &person_claims(&server.altinn_issuer(), now + 600));
        let token_service_issuer = sign_as_server(&db, &json!({"alg": "RS256"}), &person_claims(&server.issuer(), now + 600)).await;
        let foreign = sign_as_server(&db, &json!({"alg": "RS256"}), &person_claims("https://evil.example/", now + 600)).await;
        let mut tampered_claims = decode_jwt_part(&good, 1);
        tampered_claims["urn:altinn:partyid"] = json!(1);
        let parts: Vec<&str> = good.split('.').collect();
        let tampered = format!("{}.{}.{}", parts[0], b64(tampered_claims.to_string()), parts[2]);

        assert_eq!(get_text(&server, REFRESH, Some(&in_skew), &[]).await.0, 200, "10 s of clock skew");
        for (token, detail) in [
            (Some(vendor_token.as_str()), "an organisation's token cannot be used here"),
            (Some(exchanged.as_str()), "an organisation's token cannot be used here"),
            (Some(expired.as_str()), "expired"),
            (Some(forged.as_str()), "signature is invalid"),
            (Some(tampered.as_str()), "signature is invalid"),
            (Some(token_service_issuer.as_str()), "does not issue person tokens"),
            (Some(foreign.as_str()), "not one this server trusts"),
            (Some("not-a-jwt"), "not a JWT"),
            (None, "a person's Altinn token is required"),
        ] {
            let (status, body, headers) = request(&server, Method::GET, REFRESH, token, None, &[]).await;
            assert_problem_json(status, &body, &headers, 401, detail);
        }
        // A bearer header is read before the cookie: a vendor token there is not replaced by the
        // person's cookie.
        let cookie = format!("AltinnStudioRuntime={good}");
        let (status, body, headers) = request(&server, Method::GET, REFRESH, Some(&vendor_token), None, &[("cookie", &cookie)]).await;
        assert_problem_json(status, &body, &headers, 401, "an organisation's token");
        let (status, body, headers) = request(&server, Method::GET, REFRESH, None, None, &[("cookie", "AltinnStudioRuntime=")]).await;
        assert_problem_json(status, &body, &headers, 401, "a person's Altinn token is required");
        server.stop().await;
    }
}

#[tokio::test]
async fn the_openid_configuration_and_jwks_verify_altinn_tokens() {
    let db = databases().await.remove(0);
    let server = TestServer::start_test_data(&db).await;
    add_person(&server, PERSON).await;
    let (status, config, headers) =
        request(&server, Method::GET, "/authentication/api/v1/openid/.well-known/openid-configuration", None, None, &[]).await;
    assert_eq!((status, headers["content-type"].to_str().unwrap()), (200, "application/json"));
    let issuer = server.altinn_issuer();
    assert_eq!(
        config,
        json!({
            "issuer": issuer,
            "jwks_uri": format!("{issuer}.well-known/openid-configuration/jwks"),
            "response_types_supported": ["token"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
        })
    );
    let jwks: Value = server.http.get(config["jwks_uri"].as_str().unwrap()).send().await.unwrap().json().await.unwrap();
    assert_eq!(jwks, published_jwks(&server).await, "one key set for both issuers");
    let token = test_token(&db, &["--pid", PERSON]).unwrap();
    assert!(verifies_against(&token, &jwks));
    let exchanged = exchange(&server, &api_token(&server, VENDOR_ORG, &["altinn:instances.read"]).await).await;
    assert!(verifies_against(&exchanged, &jwks));
    server.stop().await;
}

#[tokio::test]
async fn the_exchange_copies_a_maskinporten_tokens_claims_into_an_altinn_token() {
    on_every_store!(|server, vendor| {
        let (status, body) = server.post_grant(&vendor.grant_with(|_, c| c["resource"] = json!("https://api.example/"))).await;
        assert_eq!(status, 200, "{body}");
        let original = body["access_token"].as_str().unwrap().to_owned();
        let before = decode_jwt_part(&original, 1);
        assert_eq!(before["aud"], "https://api.example/");
        let token = exchange(&server, &original).await;
        assert_eq!(decode_jwt_part(&token, 0), json!({"alg": "RS256", "kid": decode_jwt_part(&original, 0)["kid"], "typ": "JWT"}));
        assert_eq!(
            claim_order(&token),
            [
                "scope", "token_type", "exp", "iat", "client_id", "jti", "consumer", "urn:altinn:orgNumber",
                "urn:altinn:authenticatemethod", "urn:altinn:authlevel", "iss", "sid", "nbf"
            ]
        );
        let claims = decode_jwt_part(&token, 1);
        let iat = claims["iat"].as_i64().unwrap();
        assert!((iat - now()).abs() <= 5);
        let sid = claims["sid"].as_str().unwrap().to_owned();
        uuid::Uuid::parse_str(&sid).unwrap();
        assert_eq!(
            claims,
            json!({
                "scope": SCOPE, "token_type": "Bearer", "exp": iat + 1800, "iat": iat, "client_id": vendor.client_id,
                "jti": before["jti"], "consumer": consumer(VENDOR_ORG), "urn:altinn:orgNumber": VENDOR_ORG,
                "urn:altinn:authenticatemethod": "maskinporten", "urn:altinn:authlevel": 3,
                "iss": server.altinn_issuer(), "sid": sid, "nbf": iat,
            })
        );
        assert!(verifies_against(&token, &published_jwks(&server).await));

        // Case does not matter in the provider; Accept: application/json gives a JSON string.
        let (status, body, headers) =
            get_text(&server, "/authentication/api/v1/exchange/MaskinPorten", Some(&original), &[("accept", "application/json")]).await;
        assert_eq!((status, headers["content-type"].to_str().unwrap()), (200, "application/json; charset=utf-8"));
        let as_json: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(decode_jwt_part(as_json.as_str().unwrap(), 1)["client_id"], json!(vendor.client_id));
        let (status, body, _) = get_text(&server, "/authentication/api/v1/exchange/maskinporten", Some(&original), &[("accept", "text/plain, application/json")]).await;
        assert!(status == 200 && !body.starts_with('"'), "{body}");
    });
}

#[tokio::test]
async fn the_exchange_refuses_what_altinn_refuses() {
    on_every_store!(|db, server, vendor| {
        let original = {
            let (status, body) = server.post_grant(&vendor.grant()).await;
            assert_eq!(status, 200, "{body}");
            body["access_token"].as_str().unwrap().to_owned()
        };
        let now = now();
        let mp_claims = |exp: i64| {
            json!({"scope": SCOPE, "iss": server.issuer(), "client_amr": "private_key_jwt", "token_type": "Bearer",
                "exp": exp, "iat": exp - 120, "client_id": vendor.client_id, "jti": unique_jti(), "consumer": consumer(VENDOR_ORG)})
        };
        let expired = sign_as_server(&db, &json!({"alg": "RS256"}), &mp_claims(now - 11)).await;
        let in_skew = sign_as_server(&db, &json!({"alg": "RS256"}), &mp_claims(now - 5)).await;
        let mut claims = mp_claims(now + 100);
        claims.as_object_mut().unwrap().remove("consumer");
        let no_consumer = sign_as_server(&db, &json!({"alg": "RS256"}), &claims).await;
        claims["consumer"] = json!({"authority": "iso6523-actorid-upis", "ID": "9908:314240979"});
        let other_scheme = sign_as_server(&db, &json!({"alg": "RS256"}), &claims).await;
        claims["consumer"] = json!({"authority": "other", "ID": "0192:314240979"});
        let other_authority = sign_as_server(&db, &json!({"alg": "RS256"}), &claims).await;
        let mut foreign_claims = mp_claims(now + 100);
        foreign_claims["iss"] = json!("https://evil.example/");
        let foreign = ClientKey::generate("evil-1").sign(&json!({"alg": "RS256", "kid": "evil-1"}), &foreign_claims);
        let kid = decode_jwt_part(&original, 0)["kid"].as_str().unwrap().to_owned();
        let forged = ClientKey::generate(&kid).sign(&json!({"alg": "RS256", "kid": kid}), &mp_claims(now + 100));
        let exchanged = exchange(&server, &original).await;

        assert_eq!(get_text(&server, "/authentication/api/v1/exchange/maskinporten", Some(&in_skew), &[]).await.0, 200);
        let path = "/authentication/api/v1/exchange/maskinporten";
        for (name, token) in [
            ("expired", Some(expired.as_str())),
            ("no consumer", Some(no_consumer.as_str())),
            ("consumer not 0192", Some(other_scheme.as_str())),
            ("consumer of another authority", Some(other_authority.as_str())),
            ("foreign issuer", Some(foreign.as_str())),
            ("wrong signature", Some(forged.as_str())),
            ("already exchanged", Some(exchanged.as_str())),
            ("not a JWT", Some("a.b")),
            ("no token", None),
        ] {
            let (status, body, _) = get_text(&server, path, token, &[]).await;
            assert_eq!((status, body.as_str()), (401, ""), "{name}");
        }
        // The enterprise-user header: 410 for a valid token, and only then.
        let header = [("X-Altinn-EnterpriseUser-Authentication", "dXNlcjpwYXNzd29yZA==")];
        let (status, body, headers) = request(&server, Method::GET, path, Some(&original), None, &header).await;
        assert_problem_json(status, &body, &headers, 410, "virksomhetsbruker");
        assert_eq!(get_text(&server, path, Some(&expired), &header).await.0, 401);
        // Providers: unknown, and known to Altinn but not served here; a missing token comes first.
        let (status, body, headers) = get_text(&server, "/authentication/api/v1/exchange/idporten2", Some(&original), &[]).await;
        assert_eq!(
            (status, body.as_str(), headers["content-type"].to_str().unwrap()),
            (400, "Invalid token provider: idporten2. Trusted token providers are 'Maskinporten', 'Id-porten' and 'AltinnStudio'.", "text/plain; charset=utf-8")
        );
        for provider in ["id-porten", "AltinnStudio"] {
            let (status, body, _) = get_text(&server, &format!("/authentication/api/v1/exchange/{provider}"), Some(&original), &[]).await;
            assert_eq!(status, 400, "{body}");
            assert!(body.contains("not supported by this server"), "{body}");
        }
        assert_eq!(get_text(&server, "/authentication/api/v1/exchange/idporten2", None, &[]).await.0, 401);
        let (status, body, headers) = request(&server, Method::GET, &format!("{path}?test=maybe"), Some(&original), None, &[]).await;
        assert_problem_json(status, &body, &headers, 400, "test must be true or false");
    });
}

#[tokio::test]
async fn service_owners_get_their_org_code_and_digdir_tests_as_ttd() {
    on_every_store!(|server, _vendor| {
        let mut tx = server.store.begin_write().await.unwrap();
        tx.bind_service_owner("digdir", Some(OWNER_ORG), now()).await.unwrap();
        tx.commit().await.unwrap();
        let owner_token = api_token(&server, OWNER_ORG, &["altinn:serviceowner/instances.read"]).await;
        let path = "/authentication/api/v1/exchange/maskinporten";
        let plain = exchange(&server, &owner_token).await;
        assert_eq!(decode_jwt_part(&plain, 1)["urn:altinn:org"], "digdir");
        let order = claim_order(&plain);
        let position = |name: &str| order.iter().position(|n| n == name).unwrap();
        assert_eq!(position("urn:altinn:org") + 1, position("urn:altinn:orgNumber"));
        let (status, test, _) = get_text(&server, &format!("{path}?test=true"), Some(&owner_token), &[]).await;
        assert_eq!((status, decode_jwt_part(&test, 1)["urn:altinn:org"].clone()), (200, json!("ttd")));
        // Without a service-owner scope, and for an organisation without an org code: no org claim.
        let other = exchange(&server, &api_token(&server, OWNER_ORG, &["altinn:instances.read"]).await).await;
        assert!(decode_jwt_part(&other, 1).get("urn:altinn:org").is_none());
        let vendor = exchange(&server, &api_token(&server, VENDOR_ORG, &["altinn:serviceowner/instances.read"]).await).await;
        assert!(decode_jwt_part(&vendor, 1).get("urn:altinn:org").is_none());
    });
}

/// A Maskinporten-style issuer on a loopback port: its JWKS is served at the returned URL.
async fn serve_jwks(jwks: Value) -> (String, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/jwk", listener.local_addr().unwrap());
    let app = axum::Router::new().route(
        "/jwk",
        axum::routing::get(move || {
            let jwks = jwks.clone();
            async move { axum::Json(jwks) }
        }),
    );
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, task)
}

#[tokio::test]
async fn vendor_apis_accept_exchanged_and_trusted_issuer_tokens_and_refuse_person_tokens() {
    let issuer_key = ClientKey::generate("mp-key-1");
    let (jwks_url, jwks_server) = serve_jwks(issuer_key.jwks()).await;
    for db in databases().await {
        eprintln!("store: {}", db.name);
        let url = jwks_url.clone();
        let server = TestServer::start_with(&db, move |o| {
            o.test_data = true;
            o.trusted_issuers = vec![fullmakt_service::TrustedIssuer { issuer: TRUSTED_ISSUER.into(), jwks_url: url }];
        })
        .await;
        let vendor = Vendor::setup(&server).await;
        add_person(&server, PERSON).await;
        let now = now();
        let trusted_claims = || {
            json!({"scope": "idporten:dcr.read", "iss": TRUSTED_ISSUER, "client_amr": "private_key_jwt", "token_type": "Bearer",
                "exp": now + 120, "iat": now, "client_id": "mp-client", "jti": unique_jti(), "consumer": consumer(VENDOR_ORG)})
        };
        let trusted = |alter: &dyn Fn(&mut Value)| {
            let mut claims = trusted_claims();
            alter(&mut claims);
            issuer_key.sign(&json!({"kid": "mp-key-1", "alg": "RS256"}), &claims)
        };
        let lists_vendor_client = |body: &Value| body.as_array().is_some_and(|a| a.iter().any(|c| c["client_id"] == json!(vendor.client_id)));

        // A trusted issuer's token, and the Altinn token fullmakt exchanges it for.
        let mp_token = trusted(&|_| {});
        let (status, body) = call(&server, Method::GET, "/api/v1/clients", Some(&mp_token), None).await;
        assert!(status == 200 && lists_vendor_client(&body), "{status} {body}");
        let exchanged = exchange(&server, &mp_token).await;
        assert_eq!(decode_jwt_part(&exchanged, 1)["client_id"], "mp-client");
        let (status, body) = call(&server, Method::GET, "/api/v1/clients", Some(&exchanged), None).await;
        assert!(status == 200 && lists_vendor_client(&body), "{status} {body}");
        // fullmakt's own token exchanged works the same.
        let own = exchange(&server, &api_token(&server, VENDOR_ORG, &["idporten:dcr.read"]).await).await;
        let (status, body) = call(&server, Method::GET, "/api/v1/clients", Some(&own), None).await;
        assert!(status == 200 && lists_vendor_client(&body), "{status} {body}");

        // A system user's one authorization detail comes out of the exchange as one object,
        // members in their order (type first); the issuer's own session id is replaced.
        let with_detail = issuer_key.sign_text(
            &json!({"kid": "mp-key-1", "alg": "RS256"}),
            &format!(
                concat!(
                    r#"{{"authorization_details":[{{"type":"urn:altinn:systemuser","systemuser_org":{{"authority":"iso6523-actorid-upis","ID":"0192:{}"}},"#,
                    r#""systemuser_id":["f950ddae-06c3-4b57-b940-702417a90df0"],"system_id":"314240979_demo"}}],"#,
                    r#""scope":"altinn:instances.read","iss":"{}","client_amr":"private_key_jwt","sid":"maskinporten-session","token_type":"Bearer","#,
                    r#""exp":{},"iat":{},"client_id":"mp-client","jti":"j-1","consumer":{{"authority":"iso6523-actorid-upis","ID":"0192:{}"}}}}"#
                ),
                OTHER_ORG,
                TRUSTED_ISSUER,
                now + 120,
                now,
                VENDOR_ORG
            ),
        );
        let out = exchange(&server, &with_detail).await;
        let payload = String::from_utf8(base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, out.split('.').nth(1).unwrap()).unwrap()).unwrap();
        assert!(
            payload.starts_with(concat!(
                r#"{"authorization_details":{"type":"urn:altinn:systemuser","systemuser_org":{"authority":"iso6523-actorid-upis","ID":"0192:310702641"},"#,
                r#""systemuser_id":["f950ddae-06c3-4b57-b940-702417a90df0"],"system_id":"314240979_demo"},"scope":"altinn:instances.read","token_type":"Bearer","#
            )),
            "{payload}"
        );
        let claims = decode_jwt_part(&out, 1);
        assert_eq!(claims["authorization_details"]["systemuser_id"], json!(["f950ddae-06c3-4b57-b940-702417a90df0"]));
        assert_ne!(claims["sid"], "maskinporten-session");
        assert!(claims.get("client_amr").is_none());

        // Refused: a person's token, another audience, an unknown kid, a forged signature, expired.
        let person = test_token(&db, &["--pid", PERSON]).unwrap();
        assert_eq!(get_text(&server, REFRESH, Some(&person), &[]).await.0, 200, "remembered as a person's token");
        let other_key = ClientKey::generate("mp-key-1");
        let mut forged_claims = trusted_claims();
        forged_claims["jti"] = json!(unique_jti());
        for (token, detail) in [
            (person.clone(), "a person's token cannot be used here"),
            (trusted(&|c| c["aud"] = json!("https://elsewhere.example/")), "another audience"),
            (issuer_key.sign(&json!({"kid": "mp-key-2", "alg": "RS256"}), &trusted_claims()), "not among its issuer's published keys"),
            (other_key.sign(&json!({"kid": "mp-key-1", "alg": "RS256"}), &forged_claims), "signature is invalid"),
            (trusted(&|c| c["exp"] = json!(now - 11)), "expired"),
            (trusted(&|c| c["urn:altinn:userid"] = json!("50000000")), "does not issue person tokens"),
        ] {
            let (status, body, headers) = request(&server, Method::GET, "/api/v1/clients", Some(&token), None, &[]).await;
            assert_problem_json(status, &body, &headers, 401, detail);
        }
        let (status, body, headers) = request(&server, Method::GET, REFRESH, Some(&mp_token), None, &[]).await;
        assert_problem_json(status, &body, &headers, 401, "an organisation's token cannot be used here");
        server.stop().await;
    }
    jwks_server.abort();
}

#[tokio::test]
async fn a_trusted_issuer_cannot_be_fullmakt_itself_and_the_flag_is_checked() {
    let db = databases().await.remove(0);
    let (store, ring) = db.store_args().open().await.unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let options = fullmakt::serve::ServeOptions {
        public_url: "http://fullmakt.example".into(),
        trusted_issuers: vec![fullmakt_service::TrustedIssuer {
            issuer: "http://fullmakt.example/authentication/api/v1/openid/".into(),
            jwks_url: "http://127.0.0.1:1/jwk".into(),
        }],
        ..Default::default()
    };
    let Err(err) = fullmakt::serve::start_with(store.clone(), ring, listener, options).await else { panic!("started") };
    assert!(err.contains("this server's own issuer"), "{err}");
    store.close().await;

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_fullmakt"))
        .args(["serve", "--listen", "127.0.0.1:0", "--trusted-issuer", "https://mp.example/"])
        .args(["--database-url", &db.url, "--key-file"])
        .arg(db.key_file())
        .env_remove("FULLMAKT_TRUSTED_ISSUERS")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("write ISSUER=JWKS_URL"), "{stderr}");
}
