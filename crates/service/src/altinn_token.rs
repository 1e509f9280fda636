//! fullmakt as Altinn's platform token issuer (`{public_url}/authentication/api/v1/openid/`):
//! person tokens for logged-in persons, and the exchange of Maskinporten tokens for Altinn
//! tokens (`GET /authentication/api/v1/exchange/maskinporten`, maskinporten.md §7).
//!
//! Both are signed with fullmakt's own signing keys (the [`KeyRing`]), so the Altinn JWKS is the
//! same key set as `/jwk`, and a key stays published longer than any Altinn token lives
//! ([`ALTINN_TOKEN_LIFETIME`] is far below the retired-key window). Header
//! `{"alg":"RS256","kid":…,"typ":"JWT"}`: Altinn's, without its certificate thumbprint.

use std::sync::Arc;

use fullmakt_domain::{OrganisationNumber, ISO6523_AUTHORITY};
use fullmakt_jose::CompactJws;
use fullmakt_store::Store;
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::Value;

use crate::register::{find_party, PartyLookup, RegisterError};
use crate::signing_keys::KeyRing;
use crate::verify::{AccessTokenVerifier, TokenIssuer, PORTAL_SCOPE};
use crate::{clock, MAX_ACCESS_TOKEN_LIFETIME};

/// Altinn tokens live 30 minutes (Altinn's `JwtValidityMinutes`).
pub const ALTINN_TOKEN_LIFETIME: i64 = 1800;
const _: () = assert!(ALTINN_TOKEN_LIFETIME <= MAX_ACCESS_TOKEN_LIFETIME, "retired keys are published only that long");

/// The authentication level Altinn gives every exchanged Maskinporten token.
pub const MASKINPORTEN_AUTH_LEVEL: u8 = 3;

/// What a person token is asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonTokenRequest<'a> {
    /// The person number (or D-number) of a person in fullmakt's register.
    pub pid: &'a str,
    /// `urn:altinn:authlevel`, 0 to 4 (ID-porten's substantial is 3, high is 4).
    pub auth_level: u8,
    /// `urn:altinn:authenticatemethod`, e.g. Altinn's `IdportenTestId`, `BankID`, `NotDefined`.
    pub authentication_method: &'a str,
    /// `sid`: the login session; a new one when `None`. A refreshed token keeps its session.
    pub session_id: Option<&'a str>,
}

/// An issued person token and who it is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonToken {
    pub token: String,
    /// Seconds the token lives ([`ALTINN_TOKEN_LIFETIME`]).
    pub expires_in: i64,
    /// `exp`, Unix seconds.
    pub expires_at: i64,
    pub user_id: i64,
    pub party_id: i64,
    pub party_uuid: String,
    pub session_id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PersonTokenError {
    #[error("pid: {0}")]
    InvalidPersonIdentifier(String),
    #[error("no person with this person number in the register")]
    UnknownPerson,
    #[error("the person is marked deleted in the register")]
    DeletedPerson,
    #[error("the authentication level must be 0 to 4, not {0}")]
    InvalidAuthLevel(u8),
    #[error("{0}")]
    InvalidRequest(&'static str),
    #[error("internal error")]
    Internal,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExchangeError {
    /// The token is missing, unreadable or not acceptable; the reference answers 401 without a
    /// body. The text is for the log.
    #[error("{0}")]
    Unauthorized(String),
    #[error("Invalid token provider: {0}. Trusted token providers are 'Maskinporten', 'Id-porten' and 'AltinnStudio'.")]
    UnknownProvider(String),
    #[error("The token provider {0} is not supported by this server; it exchanges Maskinporten tokens only.")]
    UnsupportedProvider(String),
    #[error("Authentication as a virksomhetsbruker (enterprise user) is no longer available.")]
    EnterpriseUserGone,
    #[error("internal error")]
    Internal,
}

/// A Maskinporten token exchanged for an Altinn token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExchangedToken {
    pub token: String,
    /// `urn:altinn:orgNumber`: the token's consumer.
    pub org: OrganisationNumber,
    pub client_id: String,
    /// Who signed the Maskinporten token: fullmakt's token service or a trusted issuer.
    pub original_issuer: TokenIssuer,
}

/// What the exchange adds to the copied claims.
struct Additions<'a> {
    org_code: Option<&'a str>,
    org_number: &'a str,
    issuer: &'a str,
    session_id: &'a str,
    now: i64,
}

/// Person token claims in the order Altinn's login writes them (`CreateTokenCookie`):
/// the user id as a string, the party id and level as numbers.
#[derive(Serialize)]
struct PersonClaims<'a> {
    nameid: &'a str,
    #[serde(rename = "urn:altinn:userid")]
    user_id: &'a str,
    #[serde(rename = "urn:altinn:party:uuid")]
    party_uuid: &'a str,
    #[serde(rename = "urn:altinn:partyid")]
    party_id: i64,
    #[serde(rename = "urn:altinn:authenticatemethod")]
    authentication_method: &'a str,
    #[serde(rename = "urn:altinn:authlevel")]
    auth_level: u8,
    jti: &'a str,
    sid: &'a str,
    pid: &'a str,
    scope: &'static str,
    nbf: i64,
    exp: i64,
    iat: i64,
    iss: &'a str,
}

#[derive(Serialize)]
struct Header<'a> {
    alg: &'static str,
    kid: &'a str,
    typ: &'static str,
}

pub struct AltinnTokenService {
    store: Store,
    keys: Arc<KeyRing>,
    verifier: Arc<AccessTokenVerifier>,
}

impl AltinnTokenService {
    /// The issuer is the verifier's Altinn issuer, so what this signs the verifier accepts.
    pub fn new(store: Store, keys: Arc<KeyRing>, verifier: Arc<AccessTokenVerifier>) -> Self {
        Self { store, keys, verifier }
    }

    pub fn issuer(&self) -> &str {
        self.verifier.altinn_issuer()
    }

    pub fn jwks_uri(&self) -> String {
        format!("{}.well-known/openid-configuration/jwks", self.issuer())
    }

    pub fn key_ring(&self) -> &Arc<KeyRing> {
        &self.keys
    }

    /// An Altinn person token for a person in the register, signed now, living 30 minutes.
    /// The OIDC login and `fullmakt admin test-token person` both come here.
    pub async fn issue_person_token(&self, request: &PersonTokenRequest<'_>) -> Result<PersonToken, PersonTokenError> {
        if request.auth_level > 4 {
            return Err(PersonTokenError::InvalidAuthLevel(request.auth_level));
        }
        if request.authentication_method.is_empty() || request.authentication_method.len() > 64 {
            return Err(PersonTokenError::InvalidRequest("the authentication method must be 1 to 64 characters"));
        }
        if request.session_id.is_some_and(|s| s.is_empty() || s.len() > 128) {
            return Err(PersonTokenError::InvalidRequest("the session id must be 1 to 128 characters"));
        }
        let person = match find_party(&self.store, &PartyLookup::PersonIdentifier(request.pid.to_owned())).await {
            Ok(p) => p,
            Err(RegisterError::PartyNotFound(_)) => return Err(PersonTokenError::UnknownPerson),
            Err(RegisterError::Invalid { message, .. }) => return Err(PersonTokenError::InvalidPersonIdentifier(message)),
            Err(e) => {
                tracing::error!(error = %e, "person token: register lookup failed");
                return Err(PersonTokenError::Internal);
            }
        };
        if person.is_deleted {
            return Err(PersonTokenError::DeletedPerson);
        }
        let pid = person.person_identifier.as_deref().ok_or(PersonTokenError::UnknownPerson)?;
        let now = clock::now();
        let exp = now + ALTINN_TOKEN_LIFETIME;
        // ARCHITECTURE.md, "User ids": a person's user id is their party id.
        let user_id = person.party_id;
        let user_id_text = user_id.to_string();
        let jti = uuid::Uuid::new_v4().to_string();
        let session_id = request.session_id.map(str::to_owned).unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let claims = PersonClaims {
            nameid: &user_id_text,
            user_id: &user_id_text,
            party_uuid: &person.party_uuid,
            party_id: person.party_id,
            authentication_method: request.authentication_method,
            auth_level: request.auth_level,
            jti: &jti,
            sid: &session_id,
            pid,
            scope: PORTAL_SCOPE,
            nbf: now,
            exp,
            iat: now,
            iss: self.issuer(),
        };
        let payload = serde_json::to_vec(&claims).map_err(|_| PersonTokenError::Internal)?;
        let token = self.sign(&payload).await.map_err(|_| PersonTokenError::Internal)?;
        tracing::info!(party_id = person.party_id, auth_level = request.auth_level, session = %session_id, "person token issued");
        Ok(PersonToken {
            token,
            expires_in: ALTINN_TOKEN_LIFETIME,
            expires_at: exp,
            user_id,
            party_id: person.party_id,
            party_uuid: person.party_uuid,
            session_id,
            name: person.name,
        })
    }

    /// A new token for the person and session of a verified person token (`GET refresh`): read
    /// from the register again, so a person removed since cannot refresh. Only person tokens
    /// refresh: a vendor exchanges a fresh Maskinporten token instead, so a deactivated client
    /// cannot keep an Altinn token alive (the reference refreshes any Altinn token).
    pub async fn refresh_person_token(&self, caller: &crate::PersonCaller) -> Result<PersonToken, PersonTokenError> {
        let request = PersonTokenRequest {
            pid: &caller.pid,
            auth_level: caller.auth_level,
            authentication_method: &caller.authentication_method,
            session_id: caller.session_id.as_deref(),
        };
        let token = self.issue_person_token(&request).await?;
        if token.party_id != caller.party_id {
            return Err(PersonTokenError::UnknownPerson);
        }
        Ok(token)
    }

    /// `GET exchange/{provider}` (maskinporten.md §7) for a bearer token, in the reference's
    /// order: a missing or unreadable token, then the provider, then the token's validity,
    /// then the enterprise-user header.
    pub async fn exchange(
        &self,
        provider: &str,
        bearer: Option<&str>,
        test: bool,
        enterprise_user_header: bool,
    ) -> Result<ExchangedToken, ExchangeError> {
        let unauthorized = |why: &str| ExchangeError::Unauthorized(why.to_owned());
        let token = bearer.map(str::trim).filter(|t| !t.is_empty()).ok_or_else(|| unauthorized("no bearer token"))?;
        CompactJws::parse(token).map_err(|_| unauthorized("the bearer token is not a JWT"))?;
        match provider.to_lowercase().as_str() {
            "maskinporten" => {}
            "id-porten" | "altinnstudio" => return Err(ExchangeError::UnsupportedProvider(provider.to_owned())),
            _ => return Err(ExchangeError::UnknownProvider(provider.to_owned())),
        }
        let verified = self.verifier.verify_jwt(token).await.map_err(|e| match e {
            crate::AdminError::Internal => ExchangeError::Internal,
            other => ExchangeError::Unauthorized(other.to_string()),
        })?;
        if verified.issuer == TokenIssuer::Altinn {
            return Err(unauthorized("an Altinn token cannot be exchanged again"));
        }
        let org = verified
            .claims
            .get("consumer")
            .filter(|c| c.get("authority").and_then(Value::as_str) == Some(ISO6523_AUTHORITY))
            .and_then(|c| c.get("ID"))
            .and_then(Value::as_str)
            .and_then(OrganisationNumber::parse_iso6523)
            .ok_or_else(|| unauthorized("the token has no consumer organisation (iso6523-actorid-upis, 0192:<orgno>)"))?;
        if enterprise_user_header {
            return Err(ExchangeError::EnterpriseUserGone);
        }
        let org_number = org.to_string();
        let org_code = if has_service_owner_scope(&verified.claims) {
            let code = self.store.service_owner_code(&org_number).await.map_err(|e| {
                tracing::error!(error = %e, "exchange: service owner lookup failed");
                ExchangeError::Internal
            })?;
            // Altinn's rule: Digdir exchanging with ?test=true acts as the test organisation.
            code.map(|c| if test && c == "digdir" { "ttd".to_owned() } else { c })
        } else {
            None
        };
        let session_id = uuid::Uuid::new_v4().to_string();
        let additions = Additions {
            org_code: org_code.as_deref(),
            org_number: &org_number,
            issuer: self.issuer(),
            session_id: &session_id,
            now: clock::now(),
        };
        let payload = exchanged_claims(verified.jws.payload(), &additions).map_err(|e| unauthorized(&e))?;
        let token = self.sign(payload.as_bytes()).await.map_err(|_| ExchangeError::Internal)?;
        let client_id = verified.claims.get("client_id").and_then(Value::as_str).unwrap_or_default().to_owned();
        Ok(ExchangedToken { token, org, client_id, original_issuer: verified.issuer })
    }

    async fn sign(&self, payload: &[u8]) -> Result<String, ()> {
        let sequence = self.store.change_sequence().await.map_err(|e| tracing::error!(error = %e, "cannot read the change sequence"))?;
        let keys = self.keys.current(sequence).await.map_err(|e| tracing::error!(error = %e, "no signing key"))?;
        let header = serde_json::to_vec(&Header { alg: "RS256", kid: keys.active.kid(), typ: "JWT" }).map_err(|_| ())?;
        keys.active.sign_compact(&header, payload).map_err(|e| tracing::error!(error = %e, "signing failed"))
    }
}

/// Altinn looks for the substring `altinn:serviceowner`; scopes are `altinn:serviceowner` and
/// `altinn:serviceowner/…`, so a whole scope or that prefix is the same test without matching
/// unrelated scopes that merely contain the text.
fn has_service_owner_scope(claims: &serde_json::Map<String, Value>) -> bool {
    claims
        .get("scope")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .split(' ')
        .any(|s| s == "altinn:serviceowner" || s.starts_with("altinn:serviceowner/"))
}

/// Claims the exchange drops from the original; `urn:altinn:*` are the Altinn issuer's own and
/// are never taken from another issuer's token.
const DROPPED: [&str; 4] = ["aud", "iss", "client_amr", "sid"];

/// The exchanged token's payload, written the way Altinn's .NET code writes it: every original
/// claim in its original order (values as they were, byte for byte) except the dropped ones;
/// `exp`, `iat` and `nbf` replaced in place; a one-element array claim written as its element
/// and an empty one left out (.NET turns each array element into a claim and writes a single
/// claim as a scalar — which is why a system user's `authorization_details` comes out as one
/// object, `type` still first); then `urn:altinn:org` (service owners only),
/// `urn:altinn:orgNumber`, `urn:altinn:authenticatemethod`, `urn:altinn:authlevel` (an integer),
/// `iss`, `sid`, and any of `nbf`, `exp`, `iat` the original lacked.
fn exchanged_claims(original: &[u8], add: &Additions<'_>) -> Result<String, String> {
    let claims: OrderedClaims = serde_json::from_slice(original).map_err(|_| "the token's payload is not a JSON object".to_owned())?;
    let exp = add.now + ALTINN_TOKEN_LIFETIME;
    let mut out = String::with_capacity(original.len() + 400);
    let mut written = Vec::new();
    let push = |out: &mut String, name: &str, value: &str| {
        out.push(if out.is_empty() { '{' } else { ',' });
        // A key from a parsed JSON object always serialises.
        out.push_str(&serde_json::to_string(name).unwrap_or_default());
        out.push(':');
        out.push_str(value);
    };
    for (name, raw) in &claims.0 {
        if DROPPED.contains(&name.as_str()) || name.starts_with("urn:altinn:") {
            continue;
        }
        if written.contains(name) {
            return Err(format!("the token's payload has the claim {name} twice"));
        }
        written.push(name.clone());
        match name.as_str() {
            "exp" => push(&mut out, name, &exp.to_string()),
            "iat" | "nbf" => push(&mut out, name, &add.now.to_string()),
            _ if raw.get().starts_with('[') => {
                let items: Vec<&RawValue> = serde_json::from_str(raw.get()).map_err(|e| e.to_string())?;
                match items.as_slice() {
                    [] => {}
                    [one] => push(&mut out, name, one.get()),
                    _ => push(&mut out, name, raw.get()),
                }
            }
            _ => push(&mut out, name, raw.get()),
        }
    }
    let string = |s: &str| serde_json::to_string(s).unwrap_or_default();
    if let Some(code) = add.org_code {
        push(&mut out, "urn:altinn:org", &string(code));
    }
    push(&mut out, "urn:altinn:orgNumber", &string(add.org_number));
    push(&mut out, "urn:altinn:authenticatemethod", &string("maskinporten"));
    push(&mut out, "urn:altinn:authlevel", &MASKINPORTEN_AUTH_LEVEL.to_string());
    push(&mut out, "iss", &string(add.issuer));
    push(&mut out, "sid", &string(add.session_id));
    for (name, value) in [("nbf", add.now), ("exp", exp), ("iat", add.now)] {
        if !written.iter().any(|w| w == name) {
            push(&mut out, name, &value.to_string());
        }
    }
    out.push('}');
    Ok(out)
}

/// A JSON object's members in document order, values kept as their original text.
struct OrderedClaims(Vec<(String, Box<RawValue>)>);

impl<'de> serde::Deserialize<'de> for OrderedClaims {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Members;
        impl<'de> serde::de::Visitor<'de> for Members {
            type Value = OrderedClaims;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<OrderedClaims, A::Error> {
                let mut members = Vec::new();
                while let Some(entry) = map.next_entry::<String, Box<RawValue>>()? {
                    members.push(entry);
                }
                Ok(OrderedClaims(members))
            }
        }
        deserializer.deserialize_map(Members)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn additions(org_code: Option<&'static str>) -> Additions<'static> {
        Additions { org_code, org_number: "314240979", issuer: "https://fm.example/authentication/api/v1/openid/", session_id: "s-1", now: 1_000 }
    }

    #[test]
    fn a_system_user_token_keeps_its_claims_in_order_and_its_one_detail_becomes_an_object() {
        let original = r#"{"authorization_details":[{"type":"urn:altinn:systemuser","systemuser_org":{"authority":"iso6523-actorid-upis","ID":"0192:310702641"},"systemuser_id":["f950ddae-06c3-4b57-b940-702417a90df0"],"system_id":"991825827_smartcloud","externalRef":"ed1c"}],"scope":"altinn:systembruker.demo","iss":"https://mp.example/","client_amr":"private_key_jwt","token_type":"Bearer","exp":500,"iat":380,"client_id":"a2ed","jti":"vkXY","consumer":{"authority":"iso6523-actorid-upis","ID":"0192:314240979"}}"#;
        let out = exchanged_claims(original.as_bytes(), &additions(None)).unwrap();
        assert_eq!(
            out,
            concat!(
                r#"{"authorization_details":{"type":"urn:altinn:systemuser","systemuser_org":{"authority":"iso6523-actorid-upis","ID":"0192:310702641"},"systemuser_id":["f950ddae-06c3-4b57-b940-702417a90df0"],"system_id":"991825827_smartcloud","externalRef":"ed1c"},"#,
                r#""scope":"altinn:systembruker.demo","token_type":"Bearer","exp":2800,"iat":1000,"client_id":"a2ed","jti":"vkXY","#,
                r#""consumer":{"authority":"iso6523-actorid-upis","ID":"0192:314240979"},"urn:altinn:orgNumber":"314240979","#,
                r#""urn:altinn:authenticatemethod":"maskinporten","urn:altinn:authlevel":3,"#,
                r#""iss":"https://fm.example/authentication/api/v1/openid/","sid":"s-1","nbf":1000}"#
            )
        );
        serde_json::from_str::<Value>(&out).unwrap();
    }

    #[test]
    fn drops_aud_sid_and_altinn_claims_keeps_long_arrays_and_adds_the_org_code() {
        let original = r#"{"aud":["x"],"sid":"old","scope":"altinn:serviceowner/instances.read","urn:altinn:org":"evil","urn:altinn:userid":"1","nbf":1,"list":["a","b"],"empty":[],"exp":5,"pid":"01017012345"}"#;
        let out: Value = serde_json::from_str(&exchanged_claims(original.as_bytes(), &additions(Some("skd"))).unwrap()).unwrap();
        assert_eq!(
            out,
            serde_json::json!({"scope": "altinn:serviceowner/instances.read", "nbf": 1000, "list": ["a", "b"], "exp": 2800,
                "pid": "01017012345", "urn:altinn:org": "skd", "urn:altinn:orgNumber": "314240979",
                "urn:altinn:authenticatemethod": "maskinporten", "urn:altinn:authlevel": 3,
                "iss": "https://fm.example/authentication/api/v1/openid/", "sid": "s-1", "iat": 1000})
        );
    }

    #[test]
    fn refuses_duplicate_claims_and_payloads_that_are_not_objects() {
        assert!(exchanged_claims(br#"{"scope":"a","scope":"b"}"#, &additions(None)).is_err());
        assert!(exchanged_claims(b"[1]", &additions(None)).is_err());
        assert!(exchanged_claims(b"{", &additions(None)).is_err());
    }

    #[test]
    fn service_owner_scope_is_the_scope_or_its_sub_scopes() {
        let claims = |s: &str| serde_json::json!({"scope": s}).as_object().unwrap().clone();
        assert!(has_service_owner_scope(&claims("a altinn:serviceowner")));
        assert!(has_service_owner_scope(&claims("altinn:serviceowner/instances.read")));
        assert!(!has_service_owner_scope(&claims("altinn:serviceownerx altinn:instances.read")));
    }
}
