//! Discovery, health, metrics, OpenAPI and request limits.

use serde_json::{json, Value};

use crate::harness::*;

#[tokio::test]
async fn discovery_metadata_has_maskinportens_shape() {
    let db = databases().await.remove(0);
    let server = TestServer::start(&db).await;
    let meta: Value = server
        .http
        .get(format!("{}/.well-known/oauth-authorization-server", server.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let issuer = server.issuer();
    assert_eq!(
        meta,
        json!({
            "authorization_details_types_supported": ["urn:altinn:systemuser"],
            "grant_types_supported": ["urn:ietf:params:oauth:grant-type:jwt-bearer"],
            "issuer": issuer,
            "jwks_uri": format!("{issuer}jwk"),
            "token_endpoint": format!("{issuer}token"),
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            "token_endpoint_auth_signing_alg_values_supported": ["RS256", "RS384", "RS512"],
        })
    );
    server.stop().await;
}

#[tokio::test]
async fn health_and_metrics_report_requests_and_token_outcomes() {
    on_every_store!(|server, vendor| {
        let res = server.http.get(format!("{}/health", server.base)).send().await.unwrap();
        assert_eq!(res.status(), 200);
        let grant = vendor.grant();
        assert_eq!(server.post_grant(&grant).await.0, 200);
        assert_eq!(server.post_grant(&grant).await.0, 400);
        let metrics = server.http.get(format!("{}/metrics", server.base)).send().await.unwrap().text().await.unwrap();
        assert!(metrics.contains(r#"fullmakt_tokens_total{outcome="issued"} 1"#), "{metrics}");
        assert!(metrics.contains(r#"fullmakt_tokens_total{outcome="invalid_grant"} 1"#), "{metrics}");
        assert!(metrics.contains(r#"fullmakt_http_requests_total{method="POST",route="/token",status="200"} 1"#), "{metrics}");
        assert!(metrics.contains(r#"fullmakt_http_request_duration_seconds_bucket{"#), "{metrics}");
    });
}

/// Clients choose methods and paths; the metrics must not grow a series for each one.
#[tokio::test]
async fn invented_methods_and_paths_do_not_grow_the_metrics() {
    let db = databases().await.remove(0);
    let server = TestServer::start(&db).await;
    for i in 0..20 {
        let method = reqwest::Method::from_bytes(format!("INVENTED{i}").as_bytes()).unwrap();
        let res = server.http.request(method, format!("{}/token", server.base)).send().await.unwrap();
        assert!(res.status().is_client_error(), "{}", res.status());
        let res = server.http.get(format!("{}/no-such-path-{i}", server.base)).send().await.unwrap();
        assert_eq!(res.status(), 404);
    }
    let metrics = server.http.get(format!("{}/metrics", server.base)).send().await.unwrap().text().await.unwrap();
    let series = |needle: &str| metrics.lines().filter(|l| l.starts_with("fullmakt_http_requests_total{") && l.contains(needle)).count();
    assert_eq!(series("INVENTED"), 0, "{metrics}");
    assert_eq!(series("no-such-path"), 0, "{metrics}");
    assert!(metrics.contains(r#"fullmakt_http_requests_total{method="other",route="/token",status="405"} 20"#), "{metrics}");
    assert!(metrics.contains(r#"fullmakt_http_requests_total{method="GET",route="unmatched",status="404"} 20"#), "{metrics}");
    server.stop().await;
}

#[tokio::test]
async fn openapi_lists_every_route() {
    let db = databases().await.remove(0);
    let server = TestServer::start(&db).await;
    let doc: Value = server.http.get(format!("{}/openapi.json", server.base)).send().await.unwrap().json().await.unwrap();
    let expected = [
        ("/token", "post"),
        ("/jwk", "get"),
        ("/.well-known/oauth-authorization-server", "get"),
        ("/authentication/api/v1/openid/.well-known/openid-configuration", "get"),
        ("/authentication/api/v1/openid/.well-known/openid-configuration/jwks", "get"),
        ("/authentication/api/v1/exchange/{tokenProvider}", "get"),
        ("/authentication/api/v1/refresh", "get"),
        ("/authentication/api/v1/authentication", "get"),
        ("/authentication/api/v1/authentication/callback", "get"),
        ("/authentication/api/v1/logout", "get"),
        ("/testidp/.well-known/openid-configuration", "get"),
        ("/testidp/authorize", "get"),
        ("/testidp/login", "get"),
        ("/testidp/login", "post"),
        ("/testidp/token", "post"),
        ("/testidp/jwks", "get"),
        ("/accessmanagement/ui", "get"),
        ("/accessmanagement/ui/systemuser/overview", "get"),
        ("/accessmanagement/ui/systemuser/request", "get"),
        ("/accessmanagement/ui/systemuser/request", "post"),
        ("/accessmanagement/ui/systemuser/agentrequest", "get"),
        ("/accessmanagement/ui/systemuser/agentrequest", "post"),
        ("/accessmanagement/ui/systemuser/changerequest", "get"),
        ("/accessmanagement/ui/systemuser/changerequest", "post"),
        ("/accessmanagement/ui/systemuser/create", "get"),
        ("/accessmanagement/ui/systemuser/create", "post"),
        ("/accessmanagement/ui/systemuser/{id}", "get"),
        ("/accessmanagement/ui/systemuser/{id}/delete", "get"),
        ("/accessmanagement/ui/systemuser/{id}/delete", "post"),
        ("/accessmanagement/ui/systemuser/{id}/agentdelegation", "get"),
        ("/accessmanagement/ui/systemuser/{id}/agentdelegation", "post"),
        ("/accessmanagement/ui/systemuser/{id}/agentdelegation/all", "post"),
        ("/accessmanagement/ui/systemuser/{id}/agentdelegation/delete", "get"),
        ("/accessmanagement/ui/systemuser/{id}/agentdelegation/delete", "post"),
        ("/accessmanagement/ui/party", "get"),
        ("/accessmanagement/ui/party", "post"),
        ("/accessmanagement/ui/logout", "post"),
        ("/accessmanagement/ui/loggedout", "get"),
        ("/accessmanagement/ui/assets/portal.css", "get"),
        ("/api/v1/clients", "get"),
        ("/api/v1/clients", "post"),
        ("/api/v1/clients/{client_id}", "get"),
        ("/api/v1/clients/{client_id}", "put"),
        ("/api/v1/clients/{client_id}", "delete"),
        ("/api/v1/clients/{client_id}/jwks", "get"),
        ("/api/v1/clients/{client_id}/jwks", "post"),
        ("/api/v1/clients/{client_id}/jwks", "delete"),
        ("/api/v1/scopes", "get"),
        ("/api/v1/scopes", "post"),
        ("/api/v1/scopes", "put"),
        ("/api/v1/scopes", "delete"),
        ("/api/v1/scopes/all", "get"),
        ("/api/v1/scopes/access", "get"),
        ("/api/v1/scopes/access/{consumer_orgno}", "put"),
        ("/api/v1/scopes/access/{consumer_orgno}", "delete"),
        ("/resourceregistry/api/v1/resource", "post"),
        ("/resourceregistry/api/v1/resource/resourcelist", "get"),
        ("/resourceregistry/api/v1/resource/Search", "get"),
        ("/resourceregistry/api/v1/resource/bysubjects", "post"),
        ("/resourceregistry/api/v1/resource/{id}", "get"),
        ("/resourceregistry/api/v1/resource/{id}", "put"),
        ("/resourceregistry/api/v1/resource/{id}", "delete"),
        ("/resourceregistry/api/v1/resource/{id}/policy", "get"),
        ("/resourceregistry/api/v1/resource/{id}/policy", "post"),
        ("/resourceregistry/api/v1/resource/{id}/policy", "put"),
        ("/resourceregistry/api/v1/resource/{id}/policy/rules", "get"),
        ("/resourceregistry/api/v1/resource/{id}/policy/subjects", "get"),
        ("/resourceregistry/api/v1/resource/{id}/policy/rights", "get"),
        ("/resourceregistry/api/v2/resource/{id}/policy/rights", "get"),
        ("/register/api/v1/parties/lookup", "post"),
        ("/register/api/v1/parties/{partyId}", "get"),
        ("/register/api/v1/parties/byuuid/{partyUuid}", "get"),
        ("/accessmanagement/api/v1/meta/info/accesspackages/export", "get"),
        ("/accessmanagement/api/v1/meta/info/accesspackages/group/", "get"),
        ("/accessmanagement/api/v1/meta/info/accesspackages/group", "get"),
        ("/accessmanagement/api/v1/meta/info/accesspackages/group/{id}", "get"),
        ("/accessmanagement/api/v1/meta/info/accesspackages/group/{id}/areas", "get"),
        ("/accessmanagement/api/v1/meta/info/accesspackages/area/{id}", "get"),
        ("/accessmanagement/api/v1/meta/info/accesspackages/area/{id}/packages", "get"),
        ("/accessmanagement/api/v1/meta/info/accesspackages/package/{id}", "get"),
        ("/accessmanagement/api/v1/meta/info/accesspackages/package/urn/{urnValue}", "get"),
        ("/accessmanagement/api/v1/meta/info/accesspackages/package/{id}/resources", "get"),
        ("/accessmanagement/api/v1/meta/info/accesspackages/search", "get"),
        ("/accessmanagement/api/v1/enduser/clientdelegations/clients", "get"),
        ("/accessmanagement/api/v1/enduser/clientdelegations/clients/accesspackages", "get"),
        ("/accessmanagement/api/v1/enduser/clientdelegations/agents", "get"),
        ("/accessmanagement/api/v1/enduser/clientdelegations/agents", "post"),
        ("/accessmanagement/api/v1/enduser/clientdelegations/agents", "delete"),
        ("/accessmanagement/api/v1/enduser/clientdelegations/agents/accesspackages", "get"),
        ("/accessmanagement/api/v1/enduser/clientdelegations/agents/accesspackages", "post"),
        ("/accessmanagement/api/v1/enduser/clientdelegations/agents/accesspackages", "delete"),
        ("/accessmanagement/api/v1/enduser/clientdelegations/agents/clients", "delete"),
        ("/resourceregistry/api/v1/access-lists/{owner}", "get"),
        ("/resourceregistry/api/v1/access-lists/{owner}/{identifier}", "get"),
        ("/resourceregistry/api/v1/access-lists/{owner}/{identifier}", "put"),
        ("/resourceregistry/api/v1/access-lists/{owner}/{identifier}", "delete"),
        ("/resourceregistry/api/v1/access-lists/{owner}/{identifier}/members", "get"),
        ("/resourceregistry/api/v1/access-lists/{owner}/{identifier}/members", "put"),
        ("/resourceregistry/api/v1/access-lists/{owner}/{identifier}/members", "post"),
        ("/resourceregistry/api/v1/access-lists/{owner}/{identifier}/members", "delete"),
        ("/resourceregistry/api/v1/access-lists/{owner}/{identifier}/resource-connections", "get"),
        ("/resourceregistry/api/v1/access-lists/{owner}/{identifier}/resource-connections/{resource}", "put"),
        ("/resourceregistry/api/v1/access-lists/{owner}/{identifier}/resource-connections/{resource}", "delete"),
        ("/resourceregistry/api/v1/access-lists/memberships", "get"),
        ("/authentication/api/v1/systemregister", "get"),
        ("/authentication/api/v1/systemregister/{systemId}", "get"),
        ("/authentication/api/v1/systemregister/{systemId}/rights", "get"),
        ("/authentication/api/v1/systemregister/{systemId}/accesspackages", "get"),
        ("/authentication/api/v1/systemregister/vendor", "get"),
        ("/authentication/api/v1/systemregister/vendor", "post"),
        ("/authentication/api/v1/systemregister/vendor/{systemId}", "get"),
        ("/authentication/api/v1/systemregister/vendor/{systemId}", "put"),
        ("/authentication/api/v1/systemregister/vendor/{systemId}", "delete"),
        ("/authentication/api/v1/systemregister/vendor/{systemId}/rights", "put"),
        ("/authentication/api/v1/systemregister/vendor/{systemId}/accesspackages", "put"),
        ("/authentication/api/v1/systemregister/vendor/{systemId}/changelog", "get"),
        ("/authentication/api/v1/systemuser/request/vendor", "post"),
        ("/authentication/api/v1/systemuser/request/vendor/agent", "post"),
        ("/authentication/api/v1/systemuser/request/vendor/{requestId}", "get"),
        ("/authentication/api/v1/systemuser/request/vendor/{requestId}", "delete"),
        ("/authentication/api/v1/systemuser/request/vendor/agent/{requestId}", "get"),
        ("/authentication/api/v1/systemuser/request/vendor/byexternalref/{systemId}/{orgNo}/{externalRef}", "get"),
        ("/authentication/api/v1/systemuser/request/vendor/agent/byexternalref/{systemId}/{orgNo}/{externalRef}", "get"),
        ("/authentication/api/v1/systemuser/request/vendor/bysystem/{systemId}", "get"),
        ("/authentication/api/v1/systemuser/request/vendor/agent/bysystem/{systemId}", "get"),
        ("/authentication/api/v1/systemuser/request/{requestId}", "get"),
        ("/authentication/api/v1/systemuser/request/{party}/{requestId}", "get"),
        ("/authentication/api/v1/systemuser/request/{party}/{requestId}/approve", "post"),
        ("/authentication/api/v1/systemuser/request/{party}/{requestId}/reject", "post"),
        ("/authentication/api/v1/systemuser/request/{party}/{requestId}/escalate", "post"),
        ("/authentication/api/v1/systemuser/request/{party}/{orgno}/pending", "get"),
        ("/authentication/api/v1/systemuser/request/agent/{requestId}", "get"),
        ("/authentication/api/v1/systemuser/request/agent/{party}/{requestId}", "get"),
        ("/authentication/api/v1/systemuser/request/agent/{party}/{requestId}/approve", "post"),
        ("/authentication/api/v1/systemuser/request/agent/{party}/{requestId}/reject", "post"),
        ("/authentication/api/v1/systemuser/request/agent/{party}/{requestId}/escalate", "post"),
        ("/authentication/api/v1/systemuser/request/agent/{party}/{orgno}/pending", "get"),
        ("/authentication/api/v1/systemuser/changerequest/vendor", "post"),
        ("/authentication/api/v1/systemuser/changerequest/vendor/{requestId}", "get"),
        ("/authentication/api/v1/systemuser/changerequest/vendor/{requestId}", "delete"),
        ("/authentication/api/v1/systemuser/changerequest/vendor/byexternalref/{systemId}/{orgNo}/{externalRef}", "get"),
        ("/authentication/api/v1/systemuser/changerequest/vendor/bysystem/{systemId}", "get"),
        ("/authentication/api/v1/systemuser/changerequest/{requestId}", "get"),
        ("/authentication/api/v1/systemuser/changerequest/{party}/{requestId}", "get"),
        ("/authentication/api/v1/systemuser/changerequest/{party}/{requestId}/approve", "post"),
        ("/authentication/api/v1/systemuser/changerequest/{party}/{requestId}/reject", "post"),
        ("/authentication/api/v1/systemuser/byExternalId", "get"),
        ("/authentication/api/v1/systemuser/vendor/byquery", "get"),
        ("/authentication/api/v1/systemuser/vendor/bysystem/{systemId}", "get"),
        ("/authentication/api/v1/systemuser/internal/systemusers/stream", "get"),
        ("/authentication/api/v1/systemuser/internal/systemusers/{id}", "get"),
        ("/authentication/api/v1/systemuser/{party}", "get"),
        ("/authentication/api/v1/systemuser/agent/{party}", "get"),
        ("/authentication/api/v1/systemuser/{party}/{systemUserId}", "get"),
        ("/authentication/api/v1/systemuser/{party}/{systemUserId}", "delete"),
        ("/authentication/api/v1/systemuser/{party}/{systemUserId}/delegations", "get"),
        ("/authentication/api/v1/systemuser/{party}/create", "post"),
        ("/authentication/api/v1/systemuser/agent/{party}/{systemUserId}", "post"),
        ("/authentication/api/v1/systemuser/agent/{party}/{systemUserId}", "delete"),
        ("/authentication/api/v1/systemuser/agent/{party}/{systemUserId}/client", "delete"),
        ("/authentication/api/v1/systemuser/agent/{party}/{systemUserId}/self", "post"),
        ("/authentication/api/v1/systemuser/agent/{party}/{systemUserId}/self", "delete"),
        ("/authentication/api/v1/systemuser/agent/{party}/{systemUserId}/self", "get"),
        ("/authentication/api/v1/systemuser/agent/{party}/{systemUserId}/self/", "post"),
        ("/authentication/api/v1/systemuser/agent/{party}/{systemUserId}/self/", "delete"),
        ("/authentication/api/v1/systemuser/agent/{party}/{systemUserId}/self/", "get"),
        ("/authentication/api/v1/systemuser/agent/{party}/clients", "get"),
        ("/authentication/api/v1/systemuser/agent/{party}/{facilitator}/{systemUserId}/delegations", "get"),
        ("/authentication/api/v1/enduser/systemuser/clients/available", "get"),
        ("/authentication/api/v1/enduser/systemuser/clients", "get"),
        ("/authentication/api/v1/enduser/systemuser/clients", "post"),
        ("/authentication/api/v1/enduser/systemuser/clients", "delete"),
        ("/authentication/api/v1/enduser/systemuser/agents", "get"),
        ("/authorization/api/v1/authorize", "post"),
        ("/authorization/api/v1/authorize/explain", "post"),
        ("/authorization/api/v1/decision", "post"),
        ("/health", "get"),
        ("/metrics", "get"),
        ("/openapi.json", "get"),
    ];
    let paths = doc["paths"].as_object().unwrap();
    let documented: usize = paths.values().map(|p| p.as_object().unwrap().len()).sum();
    assert_eq!(documented, expected.len(), "a route is documented that this test does not know, or the reverse");
    // Redirects are answers of the route itself (logout sends the browser to the front page).
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    for (path, method) in expected {
        assert!(paths.get(path).and_then(|p| p.get(method)).is_some(), "{method} {path} is not in /openapi.json");
        // And the route really exists: anything but the fallback's 404/405 problem.
        let res = http
            .request(method.to_uppercase().parse().unwrap(), format!("{}{}", server.base, with_placeholders_filled(path)))
            .send()
            .await
            .unwrap();
        assert!(res.status() != 405, "{method} {path} is documented but not routed");
        if res.status() == 404 {
            let body: Value = res.json().await.unwrap();
            assert!(!body["detail"].as_str().unwrap_or_default().starts_with("no route"), "{method} {path} is documented but not routed");
        }
    }
    server.stop().await;
}

#[tokio::test]
async fn oversized_bodies_and_headers_are_refused_before_any_work() {
    let db = databases().await.remove(0);
    let server = TestServer::start(&db).await;
    let huge = "a".repeat(fullmakt_http::MAX_BODY_BYTES + 1);
    let res = server
        .http
        .post(format!("{}/token", server.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("grant_type={GRANT_TYPE}&assertion={huge}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    let res = server
        .http
        .get(format!("{}/health", server.base))
        .header("x-padding", "b".repeat(fullmakt_http::MAX_HEADER_BYTES + 1))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 431);
    let res = server.http.get(format!("{}/no/such/route", server.base)).send().await.unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    server.stop().await;
}

/// A documented path with every `{parameter}` replaced by `x`, to call it.
fn with_placeholders_filled(path: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        let close = rest[open..].find('}').map_or(rest.len(), |c| open + c + 1);
        out.push_str(&rest[..open]);
        out.push('x');
        rest = &rest[close..];
    }
    out.push_str(rest);
    out
}

/// The upkeep thread forgets replay records once they have expired (on SQLite, once they have
/// been expired for a minute: before that, the token path's writer forgets them).
#[tokio::test]
async fn upkeep_forgets_expired_replay_records() {
    use fullmakt_store::GrantUse;
    on_every_store!(|server, vendor| {
        let expires_at = now() - 121;
        let expired = [GrantUse { client_id: vendor.client_id.clone(), jti: unique_jti(), expires_at }];
        // Recorded and checked as of a time before it expired, so that it counts as held.
        let before_expiry = expires_at - 1;
        assert_eq!(server.store.remember_grants(&expired, before_expiry).await.unwrap().0, vec![true]);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        // While the record is held, recording the same use again is a replay; once the upkeep
        // has forgotten it, it is new again.
        while !server.store.remember_grants(&expired, before_expiry).await.unwrap().0[0] {
            assert!(std::time::Instant::now() < deadline, "the expired replay record was still held after 15 s");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    });
}

/// Upkeep (the WAL checkpoint above all) must not take the core from requests: its thread and
/// the worker thread of its SQLite connection run at nice 19.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn upkeep_runs_at_the_lowest_cpu_priority() {
    /// (name, nice) of each thread of this process. Other tests' servers run here too; every
    /// one of them starts its upkeep the same way.
    fn threads() -> Vec<(String, i64)> {
        let mut out = Vec::new();
        for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
            let (Ok(name), Ok(stat)) = (std::fs::read_to_string(task.path().join("comm")), std::fs::read_to_string(task.path().join("stat"))) else {
                continue; // the thread ended meanwhile
            };
            // Fields after the parenthesised name start at field 3 (state); nice is field 19.
            let after_name = &stat[stat.rfind(')').unwrap() + 1..];
            let nice: i64 = after_name.split_whitespace().nth(16).unwrap().parse().unwrap();
            out.push((name.trim_end().to_owned(), nice));
        }
        out
    }
    let db = databases().await.remove(0);
    let server = TestServer::start(&db).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let threads = threads();
        let upkeep: Vec<i64> = threads.iter().filter(|(name, _)| name == "fullmakt-upkeep").map(|(_, nice)| *nice).collect();
        // A thread lowers its priority just after it starts, and then opens its connection.
        let settled = !upkeep.is_empty() && upkeep.iter().all(|nice| *nice == 19);
        if settled && threads.iter().any(|(name, nice)| name.starts_with("sqlx-sqlite") && *nice == 19) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "upkeep threads or their SQLite worker not at nice 19: {threads:?}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    server.stop().await;
}
