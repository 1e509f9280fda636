//! fullmakt as Altinn's token issuer, without HTTP, on SQLite and (with
//! FULLMAKT_TEST_POSTGRES_URL) PostgreSQL: person tokens and who they verify as, refresh, and
//! the exchange's rules and errors.

mod common;

use std::sync::Arc;

use fullmakt_domain::{OrganisationNumber, SyntheticNumbers};
use fullmakt_jose::{KeyEncryptionKey, RsaKeySize};
use fullmakt_service::altinn_token::ExchangeError;
use fullmakt_service::register::{add_person, NewPerson};
use fullmakt_service::{
    AccessTokenVerifier, AdminError, AltinnTokenService, KeyRing, KeyRingConfig, PersonTokenError, PersonTokenRequest, PORTAL_SCOPE,
};
use fullmakt_store::Store;
use serde_json::json;

const PUBLIC_URL: &str = "https://fullmakt.example";
const PERSON: &str = "01010012356";
const VENDOR: &str = "314240979";

struct Issuer {
    store: Store,
    ring: Arc<KeyRing>,
    verifier: Arc<AccessTokenVerifier>,
    altinn: AltinnTokenService,
    _dir: Option<tempfile::TempDir>,
}

impl Issuer {
    /// Signs any claims as fullmakt's token service would (same keys, same header).
    async fn sign(&self, claims: serde_json::Value) -> String {
        let keys = self.ring.current(self.store.change_sequence().await.unwrap()).await.unwrap();
        let header = json!({"kid": keys.active.kid(), "alg": "RS256"});
        keys.active.sign_compact(header.to_string().as_bytes(), claims.to_string().as_bytes()).unwrap()
    }
}

async fn issuers() -> Vec<Issuer> {
    let stores = common::stores().await;
    let mut out = Vec::new();
    for (store, dir) in stores {
        let key_encryption_key = KeyEncryptionKey::from_bytes(&KeyEncryptionKey::generate_bytes().unwrap()).unwrap();
        let ring = Arc::new(KeyRing::new(store.clone(), KeyRingConfig { key_size: RsaKeySize::Rsa2048, key_encryption_key }));
        ring.ensure().await.unwrap();
        let verifier = Arc::new(AccessTokenVerifier::new(store.clone(), format!("{PUBLIC_URL}/"), ring.clone(), Vec::new()));
        let altinn = AltinnTokenService::new(store.clone(), ring.clone(), verifier.clone());
        out.push(Issuer { store, ring, verifier, altinn, _dir: dir });
    }
    out
}

fn request(pid: &str) -> PersonTokenRequest<'_> {
    PersonTokenRequest { pid, auth_level: 4, authentication_method: "BankID", session_id: Some("session-1") }
}

#[tokio::test]
async fn person_tokens_verify_as_persons_only_and_refresh_keeps_the_session() {
    for issuer in issuers().await {
        assert_eq!(issuer.altinn.issuer(), "https://fullmakt.example/authentication/api/v1/openid/");
        let input = NewPerson { person_identifier: PERSON.into(), name: "Kari Nordmann".into(), ..Default::default() };
        let person = add_person(&issuer.store, &input, SyntheticNumbers::Refuse).await.unwrap();
        let token = issuer.altinn.issue_person_token(&request(PERSON)).await.unwrap();
        assert_eq!((token.user_id, token.party_id, token.expires_in), (person.party_id, person.party_id, 1800));
        assert_eq!((token.session_id.as_str(), token.name.as_str()), ("session-1", "Kari Nordmann"));

        let caller = issuer.verifier.verify_person(&token.token).await.unwrap();
        assert_eq!(caller.user_id, person.party_id);
        assert_eq!(caller.party_uuid, person.party_uuid);
        assert_eq!((caller.pid.as_str(), caller.auth_level, caller.authentication_method.as_str()), (PERSON, 4, "BankID"));
        assert_eq!((caller.scopes.clone(), caller.session_id.as_deref()), (vec![PORTAL_SCOPE.to_owned()], Some("session-1")));
        assert_eq!(caller.expires_at, token.expires_at);
        assert!(caller.require_scope(PORTAL_SCOPE).is_ok());
        assert_eq!(caller.require_scope("altinn:portal"), Err(AdminError::MissingScope("altinn:portal".into())), "whole scopes, not substrings");
        assert!(matches!(issuer.verifier.verify(&token.token).await, Err(AdminError::Unauthorized(_))));
        // Remembered as a person's token: still refused as a vendor's the second time.
        assert!(matches!(issuer.verifier.verify(&token.token).await, Err(AdminError::Unauthorized(_))));

        let refreshed = issuer.altinn.refresh_person_token(&caller).await.unwrap();
        assert_ne!(refreshed.token, token.token);
        let again = issuer.verifier.verify_person(&refreshed.token).await.unwrap();
        assert_eq!((again.session_id, again.auth_level, again.user_id), (Some("session-1".into()), 4, person.party_id));

        // A new session when the login gives none.
        let fresh = issuer.altinn.issue_person_token(&PersonTokenRequest { session_id: None, ..request(PERSON) }).await.unwrap();
        assert_ne!(fresh.session_id, "session-1");
        uuid::Uuid::parse_str(&fresh.session_id).unwrap();
    }
}

#[tokio::test]
async fn person_tokens_are_refused_for_unknown_persons_and_bad_requests() {
    for issuer in issuers().await {
        let sequence = issuer.store.change_sequence().await.unwrap();
        let cases: Vec<(PersonTokenRequest<'_>, PersonTokenError)> = vec![
            (request(PERSON), PersonTokenError::UnknownPerson),
            (request("0101001235"), PersonTokenError::InvalidPersonIdentifier("a person number has exactly 11 digits".into())),
            (request("01010012357"), PersonTokenError::InvalidPersonIdentifier("the person number's second check digit (digit 11) is wrong".into())),
            (PersonTokenRequest { auth_level: 5, ..request(PERSON) }, PersonTokenError::InvalidAuthLevel(5)),
            (PersonTokenRequest { authentication_method: "", ..request(PERSON) }, PersonTokenError::InvalidRequest("the authentication method must be 1 to 64 characters")),
            (PersonTokenRequest { session_id: Some(""), ..request(PERSON) }, PersonTokenError::InvalidRequest("the session id must be 1 to 128 characters")),
        ];
        for (request, expected) in cases {
            assert_eq!(issuer.altinn.issue_person_token(&request).await, Err(expected));
        }
        assert_eq!(issuer.store.change_sequence().await.unwrap(), sequence, "issuing a token writes nothing");
    }
}

#[tokio::test]
async fn the_exchange_makes_a_vendor_token_and_refuses_in_the_references_order() {
    for issuer in issuers().await {
        let now = fullmakt_service::clock::now();
        let original = issuer
            .sign(json!({"scope": "idporten:dcr.read", "iss": format!("{PUBLIC_URL}/"), "client_amr": "private_key_jwt",
                "token_type": "Bearer", "exp": now + 120, "iat": now, "client_id": "c-1", "jti": "j-1",
                "consumer": {"authority": "iso6523-actorid-upis", "ID": format!("0192:{VENDOR}")}}))
            .await;
        let exchanged = issuer.altinn.exchange("Maskinporten", Some(&original), false, false).await.unwrap();
        assert_eq!((exchanged.org, exchanged.client_id.as_str()), (OrganisationNumber::parse(VENDOR).unwrap(), "c-1"));
        let caller = issuer.verifier.verify(&exchanged.token).await.unwrap();
        assert_eq!((caller.org.to_string(), caller.scopes, caller.client_id), (VENDOR.to_owned(), vec!["idporten:dcr.read".to_owned()], "c-1".to_owned()));
        assert!(matches!(issuer.verifier.verify_person(&exchanged.token).await, Err(AdminError::Unauthorized(_))));

        let unauthorized = |r: Result<_, ExchangeError>| matches!(r, Err(ExchangeError::Unauthorized(_)));
        assert!(unauthorized(issuer.altinn.exchange("maskinporten", Some(&exchanged.token), false, false).await), "exchanged twice");
        assert!(unauthorized(issuer.altinn.exchange("nonsense", None, false, false).await), "no token comes before the provider");
        assert!(unauthorized(issuer.altinn.exchange("nonsense", Some("x.y"), false, false).await), "an unreadable token too");
        assert_eq!(
            issuer.altinn.exchange("nonsense", Some(&original), false, false).await,
            Err(ExchangeError::UnknownProvider("nonsense".into()))
        );
        assert_eq!(
            issuer.altinn.exchange("ID-PORTEN", Some(&original), false, false).await,
            Err(ExchangeError::UnsupportedProvider("ID-PORTEN".into()))
        );
        assert_eq!(issuer.altinn.exchange("maskinporten", Some(&original), false, true).await, Err(ExchangeError::EnterpriseUserGone));
        let expired = issuer
            .sign(json!({"iss": format!("{PUBLIC_URL}/"), "exp": now - 11, "consumer": {"authority": "iso6523-actorid-upis", "ID": format!("0192:{VENDOR}")}}))
            .await;
        assert!(unauthorized(issuer.altinn.exchange("maskinporten", Some(&expired), false, true).await), "validity comes before the header");
        let not_yet = issuer
            .sign(json!({"iss": format!("{PUBLIC_URL}/"), "nbf": now + 60, "exp": now + 120,
                "consumer": {"authority": "iso6523-actorid-upis", "ID": format!("0192:{VENDOR}")}}))
            .await;
        assert!(unauthorized(issuer.altinn.exchange("maskinporten", Some(&not_yet), false, false).await), "nbf in the future");
        let bad_orgno = issuer
            .sign(json!({"iss": format!("{PUBLIC_URL}/"), "exp": now + 120, "consumer": {"authority": "iso6523-actorid-upis", "ID": "0192:314240978"}}))
            .await;
        assert!(unauthorized(issuer.altinn.exchange("maskinporten", Some(&bad_orgno), false, false).await), "consumer fails MOD11");
    }
}
