//! Every validation rule of the JWT-bearer grant (maskinporten.md §1.2–§1.5, §2.1), each as a
//! named test asserting the exact `error` and the `error_description` prefix.

use serde_json::{json, Value};

use crate::harness::*;

#[tokio::test]
async fn a_valid_grant_gets_a_token() {
    on_every_store!(|server, vendor| {
        let (status, body) = server.post_grant(&vendor.grant()).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["scope"], SCOPE);
        assert!(body["expires_in"].is_i64());
    });
}

#[tokio::test]
async fn only_the_jwt_bearer_grant_type_is_supported() {
    on_every_store!(|server, vendor| {
        let res = server
            .http
            .post(format!("{}/token", server.base))
            .form(&[("grant_type", "client_credentials"), ("assertion", &vendor.grant())])
            .send()
            .await
            .unwrap();
        let response = (res.status().as_u16(), res.json::<Value>().await.unwrap());
        assert_oauth_error(&response, 400, "unsupported_grant_type", "Unsupported grant type.", "MP-011");
    });
}

#[tokio::test]
async fn a_missing_or_repeated_assertion_is_an_invalid_request() {
    on_every_store!(|server, vendor| {
        for form in [vec![("grant_type", GRANT_TYPE)], vec![("grant_type", GRANT_TYPE), ("assertion", "a"), ("assertion", "b")]] {
            let res = server.http.post(format!("{}/token", server.base)).form(&form).send().await.unwrap();
            let response = (res.status().as_u16(), res.json::<Value>().await.unwrap());
            assert_oauth_error(&response, 400, "invalid_request", "Invalid request. The form parameter assertion", "MP-011");
        }
        // A JSON body instead of a form is refused the same way.
        let res = server
            .http
            .post(format!("{}/token", server.base))
            .json(&json!({"grant_type": GRANT_TYPE, "assertion": vendor.grant()}))
            .send()
            .await
            .unwrap();
        let response = (res.status().as_u16(), res.json::<Value>().await.unwrap());
        assert_oauth_error(&response, 400, "invalid_request", "Invalid request. The body must be application/x-www-form-urlencoded", "MP-011");
    });
}

#[tokio::test]
async fn a_malformed_jwt_is_an_invalid_grant() {
    on_every_store!(|server, vendor| {
        let _ = &vendor;
        for junk in ["not-a-jwt", "a.b", "e30.e30.e30.e30", "!!!.e30.sig", "eyJhbGciOiJSUzI1NiJ9.W10.AAAA"] {
            assert_oauth_error(&server.post_grant(junk).await, 400, "invalid_grant", "Invalid assertion. Invalid JWT:", "MP-011");
        }
    });
}

#[tokio::test]
async fn only_rs256_rs384_and_rs512_are_allowed() {
    on_every_store!(|server, vendor| {
        for alg in ["none", "HS256", "ES256", "PS256"] {
            let grant = vendor.grant_with(|h, _| h["alg"] = json!(alg));
            assert_oauth_error(&server.post_grant(&grant).await, 400, "invalid_request",
                "Invalid assertion. Invalid parameter value: alg must be RS256, RS384 or RS512", "MP-011");
        }
        // The same key registered for RS384 and RS512 under other kids.
        let mut jwks = vendor.key.jwks();
        for alg in ["RS384", "RS512"] {
            let mut jwk = vendor.key.jwk();
            jwk["alg"] = json!(alg);
            jwk["kid"] = json!(alg);
            jwks["keys"].as_array_mut().unwrap().push(jwk);
        }
        fullmakt_service::admin::clients::set_jwks(&server.store, &vendor.client_id, &jwks).await.unwrap();
        for alg in ["RS384", "RS512"] {
            let grant = vendor.grant_with(|h, _| {
                h["alg"] = json!(alg);
                h["kid"] = json!(alg);
            });
            let (status, body) = server.post_grant(&grant).await;
            assert_eq!(status, 200, "{alg}: {body}");
        }
    });
}

#[tokio::test]
async fn the_alg_must_be_the_one_registered_for_the_key() {
    on_every_store!(|server, vendor| {
        let grant = vendor.grant_with(|h, _| h["alg"] = json!("RS512"));
        assert_oauth_error(&server.post_grant(&grant).await, 400, "invalid_grant",
            "Invalid assertion. Client authentication failed. The JWT alg is not the alg registered for this key.", "MP-124");
    });
}

#[tokio::test]
async fn an_unsigned_alg_none_token_is_refused() {
    on_every_store!(|server, vendor| {
        let claims = vendor.claims();
        let token = format!("{}.{}.", b64(r#"{"alg":"none"}"#), b64(claims.to_string()));
        assert_oauth_error(&server.post_grant(&token).await, 400, "invalid_request", "Invalid assertion. Invalid parameter value: alg", "MP-011");
    });
}

#[tokio::test]
async fn an_x5c_header_without_kid_is_not_supported() {
    on_every_store!(|server, vendor| {
        let grant = vendor.grant_with(|h, _| {
            h.as_object_mut().unwrap().remove("kid");
            h["x5c"] = json!(["MIIB"]);
        });
        assert_oauth_error(&server.post_grant(&grant).await, 400, "invalid_grant", "Invalid JWT header x5c.", "MP-123");
    });
}

#[tokio::test]
async fn a_registered_key_must_be_named_by_kid() {
    on_every_store!(|server, vendor| {
        let grant = vendor.grant_with(|h, _| {
            h.as_object_mut().unwrap().remove("kid");
        });
        assert_oauth_error(&server.post_grant(&grant).await, 400, "invalid_grant",
            "Invalid assertion. Client authentication failed. Invalid JWT. The client requires pre-registered jwk and no key identifier (kid) provided", "MP-100");
    });
}

#[tokio::test]
async fn an_unknown_client_fails_client_authentication() {
    on_every_store!(|server, vendor| {
        let grant = vendor.grant_with(|_, c| c["iss"] = json!(uuid::Uuid::new_v4().to_string()));
        assert_oauth_error(&server.post_grant(&grant).await, 400, "invalid_grant", "Invalid assertion. Client authentication failed.", "MP-100");
        let grant = vendor.grant_with(|_, c| {
            c.as_object_mut().unwrap().remove("iss");
        });
        assert_oauth_error(&server.post_grant(&grant).await, 400, "invalid_request", "Invalid assertion. Invalid parameter value: the claim iss is missing", "MP-011");
    });
}

#[tokio::test]
async fn an_unknown_kid_fails_client_authentication() {
    on_every_store!(|server, vendor| {
        let grant = vendor.grant_with(|h, _| h["kid"] = json!("no-such-key"));
        assert_oauth_error(&server.post_grant(&grant).await, 400, "invalid_grant",
            "Invalid assertion. Client authentication failed. Unknown key identifier (kid) for client.", "MP-100");
    });
}

#[tokio::test]
async fn a_key_older_than_a_year_is_expired() {
    on_every_store!(|server, vendor| {
        let row = fullmakt_store::ClientKeyRow {
            kid: vendor.key.kid.clone(),
            client_id: vendor.client_id.clone(),
            jwk: vendor.key.jwk().to_string(),
            created: now() - 366 * 24 * 3600,
            expires: now() - 24 * 3600,
        };
        let mut tx = server.store.begin_write().await.unwrap();
        tx.replace_client_keys(&vendor.client_id, &[row]).await.unwrap();
        tx.commit().await.unwrap();
        assert_oauth_error(&server.post_grant(&vendor.grant()).await, 400, "invalid_grant",
            "Invalid assertion. Client authentication failed. Expired key", "MP-121");
    });
}

#[tokio::test]
async fn a_grant_signed_by_another_key_has_an_invalid_signature() {
    on_every_store!(|server, vendor| {
        let impostor = ClientKey::generate(&vendor.key.kid);
        let grant = impostor.sign(&vendor.header(), &vendor.claims());
        assert_oauth_error(&server.post_grant(&grant).await, 400, "invalid_grant",
            "Invalid assertion. Client authentication failed. Invalid JWT signature.", "MP-124");
        // A valid signature over a different payload is no better.
        let good = vendor.grant();
        let parts: Vec<&str> = good.split('.').collect();
        let forged_claims = b64(vendor.claims().to_string());
        let forged = format!("{}.{}.{}", parts[0], forged_claims, parts[2]);
        assert_oauth_error(&server.post_grant(&forged).await, 400, "invalid_grant",
            "Invalid assertion. Client authentication failed. Invalid JWT signature.", "MP-124");
    });
}

#[tokio::test]
async fn the_audience_must_be_exactly_the_issuer() {
    on_every_store!(|server, vendor| {
        let token_endpoint = format!("{}/token", server.base);
        let without_slash = server.base.clone();
        for aud in [json!(token_endpoint), json!(without_slash), json!([vendor.issuer, "https://other/"]), json!(null)] {
            let grant = vendor.grant_with(|_, c| c["aud"] = aud.clone());
            assert_oauth_error(&server.post_grant(&grant).await, 400, "invalid_grant",
                "Invalid assertion. Client authentication failed. Invalid JWT claim aud", "MP-110");
        }
        let grant = vendor.grant_with(|_, c| {
            c.as_object_mut().unwrap().remove("aud");
        });
        assert_oauth_error(&server.post_grant(&grant).await, 400, "invalid_grant",
            "Invalid assertion. Client authentication failed. Invalid JWT claim aud", "MP-110");
    });
}

#[tokio::test]
async fn sub_if_present_must_equal_iss() {
    on_every_store!(|server, vendor| {
        let grant = vendor.grant_with(|_, c| c["sub"] = json!("someone-else"));
        assert_oauth_error(&server.post_grant(&grant).await, 400, "invalid_request",
            "Invalid assertion. Invalid parameter value: sub must equal iss", "MP-011");
        let grant = vendor.grant_with(|_, c| c["sub"] = c["iss"].clone());
        assert_eq!(server.post_grant(&grant).await.0, 200);
    });
}

#[tokio::test]
async fn iat_and_exp_are_required_numbers() {
    on_every_store!(|server, vendor| {
        for claim in ["iat", "exp"] {
            let grant = vendor.grant_with(|_, c| {
                c.as_object_mut().unwrap().remove(claim);
            });
            assert_oauth_error(&server.post_grant(&grant).await, 400, "invalid_request",
                &format!("Invalid assertion. Invalid parameter value: the claim {claim} is missing"), "MP-011");
            let grant = vendor.grant_with(|_, c| c[claim] = json!("soon"));
            assert_oauth_error(&server.post_grant(&grant).await, 400, "invalid_request",
                &format!("Invalid assertion. Invalid parameter value: the claim {claim} has an invalid value"), "MP-011");
        }
    });
}

#[tokio::test]
async fn a_grant_may_live_at_most_180_seconds() {
    on_every_store!(|server, vendor| {
        let grant = vendor.grant_with(|_, c| c["exp"] = json!(c["iat"].as_i64().unwrap() + 181));
        assert_oauth_error(&server.post_grant(&grant).await, 400, "invalid_grant", "JWT has too long lifetime.", "MP-130");
        let grant = vendor.grant_with(|_, c| c["exp"] = json!(c["iat"].as_i64().unwrap() + 180));
        assert_eq!(server.post_grant(&grant).await.0, 200);
    });
}

#[tokio::test]
async fn iat_may_be_at_most_10_seconds_in_the_future() {
    on_every_store!(|server, vendor| {
        let grant = vendor.grant_with(|_, c| {
            c["iat"] = json!(now() + 30);
            c["exp"] = json!(now() + 90);
        });
        assert_oauth_error(&server.post_grant(&grant).await, 400, "invalid_grant", "Issue time is after now", "MP-130");
        let grant = vendor.grant_with(|_, c| {
            c["iat"] = json!(now() + 5);
            c["exp"] = json!(now() + 65);
        });
        assert_eq!(server.post_grant(&grant).await.0, 200, "5 s ahead is within the skew");
    });
}

#[tokio::test]
async fn an_expired_grant_is_refused_after_10_seconds_of_skew() {
    on_every_store!(|server, vendor| {
        let grant = vendor.grant_with(|_, c| {
            c["iat"] = json!(now() - 100);
            c["exp"] = json!(now() - 15);
        });
        assert_oauth_error(&server.post_grant(&grant).await, 400, "invalid_grant", "JWT is expired", "MP-130");
        let grant = vendor.grant_with(|_, c| {
            c["iat"] = json!(now() - 60);
            c["exp"] = json!(now() - 3);
        });
        assert_eq!(server.post_grant(&grant).await.0, 200, "3 s past exp is within the skew");
    });
}

#[tokio::test]
async fn exp_before_iat_is_invalid() {
    on_every_store!(|server, vendor| {
        let grant = vendor.grant_with(|_, c| c["exp"] = json!(c["iat"].as_i64().unwrap() - 1));
        assert_oauth_error(&server.post_grant(&grant).await, 400, "invalid_request",
            "Invalid assertion. Invalid parameter value: the claim exp has an invalid value", "MP-011");
    });
}

#[tokio::test]
async fn nbf_is_tolerated_but_enforced() {
    on_every_store!(|server, vendor| {
        let grant = vendor.grant_with(|_, c| c["nbf"] = c["iat"].clone());
        assert_eq!(server.post_grant(&grant).await.0, 200);
        let grant = vendor.grant_with(|_, c| c["nbf"] = json!(now() + 60));
        assert_oauth_error(&server.post_grant(&grant).await, 400, "invalid_grant", "JWT is not yet valid", "MP-130");
    });
}

#[tokio::test]
async fn claims_outside_the_allow_list_are_refused() {
    on_every_store!(|server, vendor| {
        let grant = vendor.grant_with(|_, c| c["client_secret"] = json!("x"));
        assert_oauth_error(&server.post_grant(&grant).await, 400, "invalid_request",
            "Invalid assertion. Invalid parameter value: unknown claim client_secret", "MP-011");
    });
}

#[tokio::test]
async fn typ_and_other_header_fields_are_tolerated() {
    on_every_store!(|server, vendor| {
        let grant = vendor.grant_with(|h, _| {
            h["typ"] = json!("JWT");
            h["cty"] = json!("JWT");
        });
        assert_eq!(server.post_grant(&grant).await.0, 200);
    });
}

#[tokio::test]
async fn a_reused_jti_is_refused() {
    on_every_store!(|server, vendor| {
        let grant = vendor.grant();
        assert_eq!(server.post_grant(&grant).await.0, 200);
        assert_oauth_error(&server.post_grant(&grant).await, 400, "invalid_grant", "Grant is used before", "MP-012");
        // The same jti in a freshly signed grant is the same grant as far as replay goes.
        let jti = unique_jti();
        let first = vendor.grant_with(|_, c| c["jti"] = json!(jti));
        let second = vendor.grant_with(|_, c| {
            c["jti"] = json!(jti);
            c["iat"] = json!(c["iat"].as_i64().unwrap() - 1);
        });
        assert_eq!(server.post_grant(&first).await.0, 200);
        assert_oauth_error(&server.post_grant(&second).await, 400, "invalid_grant", "Grant is used before", "MP-012");
    });
}

#[tokio::test]
async fn a_grant_without_jti_can_still_be_used_only_once() {
    on_every_store!(|server, vendor| {
        let grant = vendor.grant_with(|_, c| {
            c.as_object_mut().unwrap().remove("jti");
        });
        assert_eq!(server.post_grant(&grant).await.0, 200);
        assert_oauth_error(&server.post_grant(&grant).await, 400, "invalid_grant", "Grant is used before", "MP-012");
    });
}

#[tokio::test]
async fn a_replayed_jti_is_refused_after_a_restart() {
    for db in databases().await {
        eprintln!("store: {}", db.name);
        let server = TestServer::start_with_public_url(&db, Some("http://fullmakt.test")).await;
        let vendor = Vendor::setup(&server).await;
        let grant = vendor.grant();
        assert_eq!(server.post_grant(&grant).await.0, 200);
        server.stop().await;
        let restarted = TestServer::start_with_public_url(&db, Some("http://fullmakt.test")).await;
        assert_oauth_error(&restarted.post_grant(&grant).await, 400, "invalid_grant", "Grant is used before", "MP-012");
        restarted.stop().await;
    }
}

#[tokio::test]
async fn the_scope_claim_is_required() {
    on_every_store!(|server, vendor| {
        let grant = vendor.grant_with(|_, c| {
            c.as_object_mut().unwrap().remove("scope");
        });
        assert_oauth_error(&server.post_grant(&grant).await, 400, "invalid_request",
            "Invalid assertion. Invalid parameter value: the claim scope is missing", "MP-011");
        let grant = vendor.grant_with(|_, c| c["scope"] = json!("   "));
        assert_oauth_error(&server.post_grant(&grant).await, 400, "invalid_request",
            "Invalid assertion. Invalid parameter value: the claim scope is missing", "MP-011");
    });
}

#[tokio::test]
async fn scopes_must_be_registered_on_the_client() {
    on_every_store!(|server, vendor| {
        let grant = vendor.grant_with(|_, c| c["scope"] = json!(format!("{SCOPE} owner:other altinn:x")));
        assert_oauth_error(&server.post_grant(&grant).await, 400, "invalid_scope",
            "Token request contains invalid scopes for client, owner:other altinn:x", "MP-200");
    });
}

#[tokio::test]
async fn scopes_must_allow_the_maskinporten_integration_type() {
    on_every_store!(|server, vendor| {
        let mut row = server.store.scope(SCOPE).await.unwrap().unwrap();
        row.allowed_integration_types = r#"["idporten"]"#.into();
        let mut tx = server.store.begin_write().await.unwrap();
        tx.update_scope(&row).await.unwrap();
        tx.commit().await.unwrap();
        assert_oauth_error(&server.post_grant(&vendor.grant()).await, 400, "invalid_scope",
            "Token request contains scopes not allowed for maskinporten", "MP-201");
    });
}

#[tokio::test]
async fn a_revoked_scope_grant_refuses_the_very_next_request() {
    on_every_store!(|server, vendor| {
        assert_eq!(server.post_grant(&vendor.grant()).await.0, 200);
        fullmakt_service::admin::scopes::set_access(&server.store, SCOPE, VENDOR_ORG, false).await.unwrap();
        assert_oauth_error(&server.post_grant(&vendor.grant()).await, 403, "forbidden",
            &format!("Consumer has not been granted access to the scope {SCOPE}."), "MP-250");
        fullmakt_service::admin::scopes::set_access(&server.store, SCOPE, VENDOR_ORG, true).await.unwrap();
        assert_eq!(server.post_grant(&vendor.grant()).await.0, 200);
    });
}

#[tokio::test]
async fn a_scope_open_to_all_needs_no_grant() {
    on_every_store!(|server, vendor| {
        fullmakt_service::admin::scopes::set_access(&server.store, SCOPE, VENDOR_ORG, false).await.unwrap();
        let mut row = server.store.scope(SCOPE).await.unwrap().unwrap();
        row.accessible_for_all = 1;
        let mut tx = server.store.begin_write().await.unwrap();
        tx.update_scope(&row).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(server.post_grant(&vendor.grant()).await.0, 200);
    });
}

#[tokio::test]
async fn a_deactivated_scope_is_no_longer_issued() {
    on_every_store!(|server, vendor| {
        let mut row = server.store.scope(SCOPE).await.unwrap().unwrap();
        row.active = 0;
        let mut tx = server.store.begin_write().await.unwrap();
        tx.update_scope(&row).await.unwrap();
        tx.commit().await.unwrap();
        assert_oauth_error(&server.post_grant(&vendor.grant()).await, 400, "invalid_scope",
            &format!("Token request contains invalid scopes for client, {SCOPE}"), "MP-200");
    });
}

#[tokio::test]
async fn a_deactivated_client_or_removed_key_refuses_the_very_next_request() {
    on_every_store!(|server, vendor| {
        assert_eq!(server.post_grant(&vendor.grant()).await.0, 200);
        let mut tx = server.store.begin_write().await.unwrap();
        tx.replace_client_keys(&vendor.client_id, &[]).await.unwrap();
        tx.commit().await.unwrap();
        assert_oauth_error(&server.post_grant(&vendor.grant()).await, 400, "invalid_grant",
            "Invalid assertion. Client authentication failed. Unknown key identifier (kid) for client.", "MP-100");
        let mut tx = server.store.begin_write().await.unwrap();
        tx.deactivate_client(&vendor.client_id, now()).await.unwrap();
        tx.commit().await.unwrap();
        assert_oauth_error(&server.post_grant(&vendor.grant()).await, 400, "invalid_grant",
            "Invalid assertion. Client authentication failed.", "MP-100");
    });
}

#[tokio::test]
async fn consumer_org_delegation_is_refused_with_the_right_error() {
    on_every_store!(|server, vendor| {
        let grant = vendor.grant_with(|_, c| c["consumer_org"] = json!(VENDOR_ORG));
        assert_oauth_error(&server.post_grant(&grant).await, 400, "invalid_request",
            "Validation of JWT claim failed: The combination consumer_org in claim and delegation scope on client is invalid", "MP-011");
        let grant = vendor.grant_with(|_, c| c["consumer_org"] = json!(OTHER_ORG));
        assert_oauth_error(&server.post_grant(&grant).await, 403, "forbidden",
            &format!("Consumer {OTHER_ORG} has not delegated access to the scope {SCOPE} to supplier {VENDOR_ORG}."), "MP-251");
        let grant = vendor.grant_with(|_, c| c["consumer_org"] = json!("123"));
        assert_oauth_error(&server.post_grant(&grant).await, 400, "invalid_request",
            "Invalid assertion. Invalid parameter value: the claim consumer_org has an invalid value", "MP-011");
    });
}

fn systemuser_details(external_ref: Option<&str>) -> Value {
    let mut entry = json!({
        "type": "urn:altinn:systemuser",
        "systemuser_org": {"authority": "iso6523-actorid-upis", "ID": format!("0192:{OTHER_ORG}")},
    });
    if let Some(r) = external_ref {
        entry["externalRef"] = json!(r);
    }
    json!([entry])
}

#[tokio::test]
async fn a_system_user_grant_without_a_matching_system_user_is_a_customer_configuration_error() {
    on_every_store!(|server, vendor| {
        for details in [systemuser_details(None), systemuser_details(Some("ref-1"))] {
            let grant = vendor.grant_with(|_, c| c["authorization_details"] = details.clone());
            assert_oauth_error(&server.post_grant(&grant).await, 400, "invalid_altinn_customer_configuration",
                "No system user matches the request", "MP-303");
        }
    });
}

#[tokio::test]
async fn malformed_authorization_details_get_their_own_codes() {
    on_every_store!(|server, vendor| {
        let cases = [
            (json!({"type": "urn:altinn:systemuser"}), "invalid_authorization_details", "Unknown authorization details type", "MP-301"),
            (json!([{"type": "urn:altinn:consent"}]), "invalid_authorization_details", "Unknown authorization details type urn:altinn:consent", "MP-301"),
            (json!([{"type": "urn:altinn:systemuser", "systemuser_org": {"authority": "iso6523-actorid-upis", "ID": "0192:310702641"}, "systemuser_id": ["x"]}]),
                "invalid_authorization_details", "Unknown fields in the authorization details: systemuser_id", "MP-302"),
            (json!([{"type": "urn:altinn:systemuser", "systemuser_org": {"authority": "iso6523-actorid-upis", "ID": "0192:310702642"}}]),
                "invalid_altinn_customer_configuration", "Invalid authorization details: systemuser_org.ID", "MP-303"),
        ];
        for (details, error, prefix, code) in cases {
            let grant = vendor.grant_with(|_, c| c["authorization_details"] = details.clone());
            assert_oauth_error(&server.post_grant(&grant).await, 400, error, prefix, code);
        }
    });
}

#[tokio::test]
async fn pid_resource_and_iss_onbehalfof_are_checked() {
    on_every_store!(|server, vendor| {
        let grant = vendor.grant_with(|_, c| c["pid"] = json!("abc"));
        assert_oauth_error(&server.post_grant(&grant).await, 400, "invalid_request",
            "Invalid assertion. Invalid parameter value: the claim pid has an invalid value", "MP-011");
        let grant = vendor.grant_with(|_, c| c["resource"] = json!(42));
        assert_oauth_error(&server.post_grant(&grant).await, 400, "invalid_request",
            "Invalid assertion. Invalid parameter value: the claim resource has an invalid value", "MP-011");
        let grant = vendor.grant_with(|_, c| c["iss_onbehalfof"] = json!("x"));
        assert_oauth_error(&server.post_grant(&grant).await, 400, "invalid_request",
            "Invalid assertion. Invalid parameter value: the claim iss_onbehalfof has an invalid value", "MP-011");
    });
}

#[tokio::test]
async fn a_refused_grant_changes_nothing() {
    on_every_store!(|server, vendor| {
        let before = server.store.change_sequence().await.unwrap();
        let jti = unique_jti();
        let bad = vendor.grant_with(|_, c| {
            c["jti"] = json!(jti);
            c["aud"] = json!("https://elsewhere/");
        });
        assert_eq!(server.post_grant(&bad).await.0, 400);
        // The jti of a grant refused before the replay check is still usable.
        let good = vendor.grant_with(|_, c| c["jti"] = json!(jti));
        assert_eq!(server.post_grant(&good).await.0, 200);
        assert_eq!(server.store.change_sequence().await.unwrap(), before);
    });
}

#[tokio::test]
async fn a_key_added_a_moment_ago_works_on_the_very_next_request() {
    on_every_store!(|server, vendor| {
        // The node has served (and cached) the client with its first key only.
        assert_eq!(server.post_grant(&vendor.grant()).await.0, 200);
        let second = ClientKey::generate("vendor-key-2");
        let jwks = json!({"keys": [vendor.key.jwk(), second.jwk()]});
        fullmakt_service::admin::clients::set_jwks(&server.store, &vendor.client_id, &jwks).await.unwrap();
        let grant = second.sign(&json!({"alg": "RS256", "kid": "vendor-key-2"}), &vendor.claims());
        let (status, body) = server.post_grant(&grant).await;
        assert_eq!(status, 200, "{body}");
    });
}
