//! `/api/v1/clients…` and `/api/v1/scopes…`: the right caller succeeds; the wrong caller,
//! a missing scope and malformed input each get a specific 4xx and change nothing.

use fullmakt_domain::OrganisationNumber;
use fullmakt_service::admin::{clients, scopes, ClientInput, ScopeInput};
use reqwest::Method;
use serde_json::{json, Value};

use crate::harness::*;

async fn admin_token(server: &TestServer, org: &str, token_scopes: &[&str]) -> String {
    api_token(server, org, token_scopes).await
}

#[tokio::test]
async fn a_vendor_manages_its_own_clients_and_keys() {
    on_every_store!(|server, vendor| {
        let token = admin_token(&server, VENDOR_ORG, &["idporten:dcr.read", "idporten:dcr.write", "idporten:dcr.modify"]).await;
        let body = json!({"client_name": "payroll", "description": "d", "scopes": [SCOPE], "access_token_lifetime": 300}).to_string();
        let (status, created) = call(&server, Method::POST, "/api/v1/clients", Some(&token), Some(&body)).await;
        assert_eq!(status, 201, "{created}");
        assert_eq!(created["client_orgno"], VENDOR_ORG);
        assert_eq!(created["integration_type"], "maskinporten");
        assert_eq!(created["token_endpoint_auth_method"], "private_key_jwt");
        let id = created["client_id"].as_str().unwrap();
        assert!(uuid::Uuid::parse_str(id).is_ok());

        let (status, list) = call(&server, Method::GET, "/api/v1/clients", Some(&token), None).await;
        assert_eq!(status, 200);
        assert!(list.as_array().unwrap().iter().any(|c| c["client_id"] == id));
        assert!(list.as_array().unwrap().iter().any(|c| c["client_id"] == vendor.client_id.as_str()));

        let (status, updated) =
            call(&server, Method::PUT, &format!("/api/v1/clients/{id}"), Some(&token), Some(r#"{"client_name":"payroll 2"}"#)).await;
        assert_eq!(status, 200, "{updated}");
        assert_eq!(updated["client_name"], "payroll 2");
        assert_eq!(updated["scopes"], json!([SCOPE]));

        let key = ClientKey::generate("payroll-1");
        let (status, jwks) =
            call(&server, Method::POST, &format!("/api/v1/clients/{id}/jwks"), Some(&token), Some(&key.jwks().to_string())).await;
        assert_eq!(status, 201, "{jwks}");
        assert_eq!(jwks["keys"][0]["kid"], "payroll-1");

        // The new client can now get a token with its key.
        let now = now();
        let claims = json!({"aud": server.issuer(), "iss": id, "scope": SCOPE, "iat": now, "exp": now + 60, "jti": unique_jti()});
        let (status, body) = server.post_grant(&key.sign(&json!({"alg": "RS256", "kid": "payroll-1"}), &claims)).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["expires_in"], 300);

        let (status, _) = call(&server, Method::DELETE, &format!("/api/v1/clients/{id}"), Some(&token), None).await;
        assert_eq!(status, 204);
        let (status, _) = call(&server, Method::GET, &format!("/api/v1/clients/{id}"), Some(&token), None).await;
        assert_eq!(status, 404);
        let claims = json!({"aud": server.issuer(), "iss": id, "scope": SCOPE, "iat": now, "exp": now + 60, "jti": unique_jti()});
        let (status, _) = server.post_grant(&key.sign(&json!({"alg": "RS256", "kid": "payroll-1"}), &claims)).await;
        assert_eq!(status, 400, "a deleted client gets no more tokens");
    });
}

#[tokio::test]
async fn the_admin_api_refuses_missing_bad_and_underscoped_tokens() {
    for db in databases().await {
        eprintln!("store: {}", db.name);
        let server = TestServer::start(&db).await;
        let read_only = admin_token(&server, VENDOR_ORG, &["idporten:dcr.read"]).await;
        let body = r#"{"client_name":"x"}"#;
        assert_problem(&call(&server, Method::GET, "/api/v1/clients", None, None).await, 401, "bearer token is required");
        assert_problem(&call(&server, Method::GET, "/api/v1/clients", Some("garbage"), None).await, 401, "not a JWT");
        // A token signed by someone else's key, however well-formed.
        let forger = ClientKey::generate("forged");
        let forged = forger.sign(&json!({"alg": "RS256", "kid": "forged"}),
            &json!({"iss": server.issuer(), "exp": now() + 60, "scope": "idporten:dcr.write", "consumer": {"authority": "iso6523-actorid-upis", "ID": format!("0192:{VENDOR_ORG}")}}));
        assert_problem(&call(&server, Method::GET, "/api/v1/clients", Some(&forged), None).await, 401, "not signed by this server");
        assert_problem(&call(&server, Method::POST, "/api/v1/clients", Some(&read_only), Some(body)).await, 403, "idporten:dcr.write");
        assert_problem(&call(&server, Method::POST, "/api/v1/scopes", Some(&read_only), Some(body)).await, 403, "idporten:scopes.write");
        let (status, list) = call(&server, Method::GET, "/api/v1/clients", Some(&read_only), None).await;
        assert_eq!(status, 200);
        assert_eq!(list.as_array().unwrap().len(), 1, "only the admin client itself; nothing was created");
        server.stop().await;
    }
}

#[tokio::test]
async fn another_organisations_client_is_out_of_reach() {
    on_every_store!(|server, vendor| {
        let all = ["idporten:dcr.read", "idporten:dcr.write", "idporten:dcr.modify"];
        let intruder = admin_token(&server, OTHER_ORG, &all).await;
        let id = &vendor.client_id;
        let before = server.store.change_sequence().await.unwrap();
        let key = ClientKey::generate("intruder-key").jwks().to_string();
        for (method, path, body) in [
            (Method::GET, format!("/api/v1/clients/{id}"), None),
            (Method::PUT, format!("/api/v1/clients/{id}"), Some(r#"{"client_name":"mine"}"#.to_owned())),
            (Method::DELETE, format!("/api/v1/clients/{id}"), None),
            (Method::GET, format!("/api/v1/clients/{id}/jwks"), None),
            (Method::POST, format!("/api/v1/clients/{id}/jwks"), Some(key.clone())),
            (Method::DELETE, format!("/api/v1/clients/{id}/jwks"), None),
        ] {
            let response = call(&server, method.clone(), &path, Some(&intruder), body.as_deref()).await;
            assert_problem(&response, 403, "belongs to another organisation");
        }
        assert_eq!(server.store.change_sequence().await.unwrap(), before, "nothing was written");
        assert_eq!(server.post_grant(&vendor.grant()).await.0, 200, "the vendor's client still works");
        // client_orgno cannot name someone else either.
        let body = json!({"client_name": "x", "client_orgno": VENDOR_ORG}).to_string();
        assert_problem(&call(&server, Method::POST, "/api/v1/clients", Some(&intruder), Some(&body)).await, 403, "client_orgno");
    });
}

#[tokio::test]
async fn malformed_jwks_are_refused_and_store_nothing() {
    on_every_store!(|server, vendor| {
        let token = admin_token(&server, VENDOR_ORG, &["idporten:dcr.read", "idporten:dcr.modify"]).await;
        let path = format!("/api/v1/clients/{}/jwks", vendor.client_id);
        let good = vendor.key.jwk();
        let with = |f: &dyn Fn(&mut Value)| {
            let mut k = ClientKey::generate("k-x").jwk();
            f(&mut k);
            k
        };
        let six: Vec<Value> = (0..6).map(|i| ClientKey::generate(&format!("k{i}")).jwk()).collect();
        let cases: Vec<(Value, u16, &str)> = vec![
            (json!({"keys": [with(&|k| k["kty"] = json!("EC"))]}), 400, "only RSA keys"),
            (json!({"keys": [with(&|k| k["d"] = json!("AAAA"))]}), 400, "private key material (d)"),
            (json!({"keys": [with(&|k| k["use"] = json!("enc"))]}), 400, "use must be"),
            (json!({"keys": [with(&|k| k["kid"] = json!("white space"))]}), 400, "kid must be"),
            (json!({"keys": [with(&|k| k["n"] = json!("AQAB"))]}), 400, "n must be"),
            (json!({"keys": [with(&|k| k["kid"] = json!("dup")), with(&|k| k["kid"] = json!("dup"))]}), 400, "appears twice"),
            (json!({"keys": six}), 400, "1 to 5 keys"),
            (json!({"keys": []}), 400, "1 to 5 keys"),
            (json!({"no": "keys"}), 400, "keys array"),
            (json!([good.clone()]), 400, "keys array"),
        ];
        for (body, status, detail) in cases {
            assert_problem(&call(&server, Method::POST, &path, Some(&token), Some(&body.to_string())).await, status, detail);
        }
        assert_problem(&call(&server, Method::POST, &path, Some(&token), Some("{not json")).await, 400, "not valid JSON");

        // A kid registered by another client conflicts.
        let other_key = ClientKey::generate("taken-kid");
        let input = ClientInput { client_name: Some("other".into()), ..Default::default() };
        clients::create_client(&server.store, OrganisationNumber::parse(OTHER_ORG).unwrap(), &input, Some(&other_key.jwks()))
            .await
            .unwrap();
        let body = json!({"keys": [ClientKey::generate("taken-kid").jwk()]}).to_string();
        assert_problem(&call(&server, Method::POST, &path, Some(&token), Some(&body)).await, 409, "already registered");

        let (status, jwks) = call(&server, Method::GET, &path, Some(&token), None).await;
        assert_eq!(status, 200);
        assert_eq!(jwks["keys"], json!([good]), "the stored keys are unchanged");
        assert_eq!(server.post_grant(&vendor.grant()).await.0, 200);
    });
}

#[tokio::test]
async fn malformed_client_bodies_are_refused() {
    for db in databases().await {
        eprintln!("store: {}", db.name);
        let server = TestServer::start(&db).await;
        let _vendor = Vendor::setup(&server).await;
        let token = admin_token(&server, VENDOR_ORG, &["idporten:dcr.read", "idporten:dcr.write"]).await;
        let cases = [
            ("{", "not valid JSON"),
            (r#"{"client_name": 5}"#, "not valid JSON"),
            (r#"{"description": "no name"}"#, "client_name is required"),
            (r#"{"client_name": ""}"#, "client_name must be"),
            (r#"{"client_name": "x", "integration_type": "idporten"}"#, "only maskinporten"),
            (r#"{"client_name": "x", "grant_types": ["client_credentials"]}"#, "grant_types"),
            (r#"{"client_name": "x", "access_token_lifetime": 0}"#, "access_token_lifetime"),
            (r#"{"client_name": "x", "scopes": ["nosuch:scope"]}"#, "unknown scope"),
            (r#"{"client_name": "x", "scopes": ["Bad Scope"]}"#, "scope Bad Scope"),
        ];
        let before = server.store.change_sequence().await.unwrap();
        for (body, detail) in cases {
            assert_problem(&call(&server, Method::POST, "/api/v1/clients", Some(&token), Some(body)).await, 400, detail);
        }
        // A scope the organisation has no access to.
        let digdir = OrganisationNumber::parse(OWNER_ORG).unwrap();
        let input = ScopeInput { name: Some("owner:secret".into()), ..Default::default() };
        scopes::create_scope(&server.store, digdir, &input, true).await.unwrap();
        let after_scope = server.store.change_sequence().await.unwrap();
        assert_eq!(after_scope, before + 1);
        assert_problem(
            &call(&server, Method::POST, "/api/v1/clients", Some(&token), Some(r#"{"client_name":"x","scopes":["owner:secret"]}"#)).await,
            403,
            "has not been granted access to the scope owner:secret",
        );
        assert_eq!(server.store.change_sequence().await.unwrap(), after_scope, "nothing was written");
        server.stop().await;
    }
}

#[tokio::test]
async fn a_scope_owner_manages_its_scopes_and_who_may_use_them() {
    on_every_store!(|server, vendor| {
        let owner = admin_token(&server, OWNER_ORG, &["idporten:scopes.write"]).await;
        let stranger = admin_token(&server, OTHER_ORG, &["idporten:scopes.write"]).await;

        let body = json!({"prefix": "owner", "subscope": "api/new.write", "description": "New API", "at_max_age": 600}).to_string();
        let (status, created) = call(&server, Method::POST, "/api/v1/scopes", Some(&owner), Some(&body)).await;
        assert_eq!(status, 201, "{created}");
        assert_eq!(created["name"], "owner:api/new.write");
        assert_eq!(created["owner_orgno"], OWNER_ORG);
        assert_problem(&call(&server, Method::POST, "/api/v1/scopes", Some(&owner), Some(&body)).await, 409, "exists already");
        assert_problem(&call(&server, Method::POST, "/api/v1/scopes", Some(&stranger), Some(&body)).await, 403, "not assigned");
        let bad = json!({"prefix": "owner", "subscope": "x", "description": "d", "visibility": "SECRET"}).to_string();
        assert_problem(&call(&server, Method::POST, "/api/v1/scopes", Some(&owner), Some(&bad)).await, 400, "visibility");

        let q = "scope=owner:api/new.write";
        let (status, got) = call(&server, Method::GET, &format!("/api/v1/scopes?{q}"), Some(&owner), None).await;
        assert_eq!((status, got["at_max_age"].clone()), (200, json!(600)));
        assert_problem(&call(&server, Method::GET, &format!("/api/v1/scopes?{q}"), Some(&stranger), None).await, 403, "another organisation");
        let (status, updated) =
            call(&server, Method::PUT, &format!("/api/v1/scopes?{q}"), Some(&owner), Some(r#"{"description":"Renamed"}"#)).await;
        assert_eq!((status, updated["description"].clone()), (200, json!("Renamed")));

        let (status, granted) =
            call(&server, Method::PUT, &format!("/api/v1/scopes/access/{VENDOR_ORG}?{q}"), Some(&owner), None).await;
        assert_eq!(status, 200, "{granted}");
        assert_eq!(granted["state"], "APPROVED");
        assert_problem(&call(&server, Method::PUT, &format!("/api/v1/scopes/access/123456789?{q}"), Some(&owner), None).await, 400, "check digit");
        assert_problem(&call(&server, Method::PUT, &format!("/api/v1/scopes/access/{OTHER_ORG}?{q}"), Some(&stranger), None).await, 403, "another organisation");
        let (status, list) = call(&server, Method::GET, &format!("/api/v1/scopes/access?{q}"), Some(&owner), None).await;
        assert_eq!(status, 200);
        assert_eq!(list.as_array().unwrap().len(), 1);

        // The public catalogue needs no token and lists the new scope.
        let (status, all) = call(&server, Method::GET, "/api/v1/scopes/all", None, None).await;
        assert_eq!(status, 200);
        assert!(all.as_array().unwrap().iter().any(|s| s["name"] == "owner:api/new.write"));

        // Revoking the vendor's access to the fixture scope stops its tokens at once.
        let (status, revoked) =
            call(&server, Method::DELETE, &format!("/api/v1/scopes/access/{VENDOR_ORG}?scope={SCOPE}"), Some(&owner), None).await;
        assert_eq!((status, revoked["state"].clone()), (200, json!("DENIED")));
        assert_eq!(server.post_grant(&vendor.grant()).await.0, 403);

        let (status, deleted) = call(&server, Method::DELETE, &format!("/api/v1/scopes?{q}"), Some(&owner), None).await;
        assert_eq!((status, deleted["active"].clone()), (200, json!(false)));
        assert_problem(&call(&server, Method::PUT, "/api/v1/scopes", Some(&owner), Some("{}")).await, 400, "scope is required");
    });
}
