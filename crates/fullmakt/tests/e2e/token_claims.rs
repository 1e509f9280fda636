//! The access token and token response, exactly as maskinporten.md §3 describes them.

use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::{json, Value};

use crate::harness::*;

/// The keys of a JSON object in the order they appear on the wire.
fn key_order(json: &str) -> Vec<String> {
    struct Keys;
    impl<'de> Visitor<'de> for Keys {
        type Value = Vec<String>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Vec<String>, A::Error> {
            let mut keys = Vec::new();
            while let Some(k) = map.next_key::<String>()? {
                map.next_value::<IgnoredAny>()?;
                keys.push(k);
            }
            Ok(keys)
        }
    }
    let mut de = serde_json::Deserializer::from_str(json);
    de.deserialize_map(Keys).unwrap()
}

fn raw_part(token: &str, part: usize) -> String {
    use base64::Engine;
    let segment = token.split('.').nth(part).unwrap();
    String::from_utf8(base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(segment).unwrap()).unwrap()
}

#[tokio::test]
async fn the_access_token_has_maskinportens_header_claims_and_order() {
    on_every_store!(|server, vendor| {
        let (status, body) = server.post_grant(&vendor.grant()).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(key_order(&body.to_string()).len(), 4);
        assert!(body["expires_in"].is_i64(), "expires_in must be an integer: {body}");
        let token = body["access_token"].as_str().unwrap();

        let header = raw_part(token, 0);
        assert_eq!(key_order(&header), ["kid", "alg"]);
        let header: Value = serde_json::from_str(&header).unwrap();
        assert_eq!(header["alg"], "RS256");
        assert_eq!(header["kid"].as_str().unwrap().len(), 43);

        let payload = raw_part(token, 1);
        assert_eq!(
            key_order(&payload),
            ["scope", "iss", "client_amr", "token_type", "exp", "iat", "client_id", "jti", "consumer"]
        );
        let claims: Value = serde_json::from_str(&payload).unwrap();
        assert_eq!(claims["scope"], SCOPE);
        assert_eq!(claims["iss"], server.issuer());
        assert_eq!(claims["client_amr"], "private_key_jwt");
        assert_eq!(claims["token_type"], "Bearer");
        assert_eq!(claims["client_id"], vendor.client_id);
        assert_eq!(claims["jti"].as_str().unwrap().len(), 43);
        assert_eq!(claims["consumer"], json!({"authority": "iso6523-actorid-upis", "ID": format!("0192:{VENDOR_ORG}")}));
        assert!(payload.contains(&format!(r#""consumer":{{"authority":"iso6523-actorid-upis","ID":"0192:{VENDOR_ORG}"}}"#)), "{payload}");
        assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 120);
        assert_eq!(body["expires_in"], 120);
        assert!(verifies_against(token, &published_jwks(&server).await));
    });
}

#[tokio::test]
async fn the_lifetime_is_the_shorter_of_client_and_scope_and_ignores_the_grant() {
    on_every_store!(|server, vendor| {
        let mut client = server.store.client(&vendor.client_id).await.unwrap().unwrap();
        client.access_token_lifetime = 600;
        let mut tx = server.store.begin_write().await.unwrap();
        tx.update_client(&client).await.unwrap();
        tx.commit().await.unwrap();
        let (_, body) = server.post_grant(&vendor.grant_with(|_, c| c["exp"] = json!(c["iat"].as_i64().unwrap() + 10))).await;
        assert_eq!(body["expires_in"], 600, "{body}");

        let mut scope = server.store.scope(SCOPE).await.unwrap().unwrap();
        scope.at_max_age = 300;
        let mut tx = server.store.begin_write().await.unwrap();
        tx.update_scope(&scope).await.unwrap();
        tx.commit().await.unwrap();
        let (_, body) = server.post_grant(&vendor.grant()).await;
        assert_eq!(body["expires_in"], 300, "{body}");
    });
}

#[tokio::test]
async fn resource_becomes_aud_and_repeated_scopes_are_issued_once() {
    on_every_store!(|server, vendor| {
        let grant = vendor.grant_with(|_, c| {
            c["resource"] = json!("https://api.example.no/");
            c["scope"] = json!(format!("{SCOPE} {SCOPE}"));
        });
        let (status, body) = server.post_grant(&grant).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["scope"], SCOPE);
        let claims = decode_jwt_part(body["access_token"].as_str().unwrap(), 1);
        assert_eq!(claims["aud"], "https://api.example.no/");
        let grant = vendor.grant_with(|_, c| c["resource"] = json!(["https://a.example/", "https://b.example/"]));
        let (_, body) = server.post_grant(&grant).await;
        let claims = decode_jwt_part(body["access_token"].as_str().unwrap(), 1);
        assert_eq!(claims["aud"], json!(["https://a.example/", "https://b.example/"]));
    });
}

#[tokio::test]
async fn token_responses_are_not_cached() {
    on_every_store!(|server, vendor| {
        let res = server
            .http
            .post(format!("{}/token", server.base))
            .form(&[("grant_type", GRANT_TYPE), ("assertion", &vendor.grant())])
            .send()
            .await
            .unwrap();
        assert_eq!(res.headers()["cache-control"], "no-store");
        assert!(res.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
    });
}
