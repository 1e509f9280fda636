//! Signing keys: pre-published before they sign, kept published after they stop.

use crate::harness::*;

async fn published_kids(server: &TestServer) -> Vec<String> {
    let jwks = published_jwks(server).await;
    for k in jwks["keys"].as_array().unwrap() {
        assert_eq!(k["kty"], "RSA");
        assert_eq!(k["use"], "sig");
        assert_eq!(k["alg"], "RS256");
        assert_eq!(k["e"], "AQAB");
        assert!(k.get("d").is_none(), "private material in /jwk");
    }
    jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap().to_owned()).collect()
}

async fn token_kid(server: &TestServer, vendor: &Vendor) -> (String, String) {
    let (status, body) = server.post_grant(&vendor.grant()).await;
    assert_eq!(status, 200, "{body}");
    let token = body["access_token"].as_str().unwrap().to_owned();
    (decode_jwt_part(&token, 0)["kid"].as_str().unwrap().to_owned(), token)
}

#[tokio::test]
async fn a_token_signed_before_a_rotation_still_verifies_after_it() {
    on_every_store!(|db, server, vendor| {
        let before = published_kids(&server).await;
        assert_eq!(before.len(), 2, "active and next are published from the start");
        let (old_kid, old_token) = token_kid(&server, &vendor).await;

        // Rotate as an operator would, through a second handle on the same database.
        let (_, ring) = db.store_args().open().await.unwrap();
        let report = ring.rotate().await.unwrap();
        assert_eq!(report.retired_kids, vec![old_kid.clone()]);
        assert!(before.contains(&report.active_kid), "the new active key was published before it signed");

        let after = published_kids(&server).await;
        assert_eq!(after.len(), 3);
        assert!(after.contains(&old_kid) && after.contains(&report.next_kid));
        let jwks = published_jwks(&server).await;
        assert!(verifies_against(&old_token, &jwks));

        let (new_kid, new_token) = token_kid(&server, &vendor).await;
        assert_eq!(new_kid, report.active_kid, "the very next token uses the new key");
        assert!(verifies_against(&new_token, &jwks));
    });
}

#[tokio::test]
async fn signing_keys_are_sealed_at_rest_and_need_the_key_file() {
    for db in databases().await {
        eprintln!("store: {}", db.name);
        let server = TestServer::start(&db).await;
        let rows = server.store.signing_keys().await.unwrap();
        assert!(!rows.is_empty());
        for row in &rows {
            assert!(!row.sealed_private_key.contains("PRIVATE KEY"));
        }
        server.stop().await;
        // Another key-encryption key cannot open them: the server refuses to start.
        let mut args = db.store_args();
        let other = db.dir.path().join("other.key");
        std::fs::write(&other, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=").unwrap();
        args.key_file = other;
        let (store, ring) = args.open().await.unwrap();
        let seq = store.change_sequence().await.unwrap();
        assert!(ring.current(seq).await.is_err());
    }
}
