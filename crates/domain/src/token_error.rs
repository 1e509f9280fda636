//! Why a token request failed, with the Maskinporten error code, the OAuth `error` value and
//! the `error_description` prefix of maskinporten.md §4. Clients grep these strings
//! (wenche looks for `invalid_altinn_customer_configuration` and "Client authentication"), so
//! the texts are part of the wire contract.

use std::fmt;

/// A Maskinporten error code such as `MP-124`; it names the documentation page in `error_uri`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MpCode(&'static str);

impl MpCode {
    pub fn as_str(&self) -> &'static str {
        self.0
    }
}

/// The OAuth `error` values the token endpoint answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthError {
    InvalidRequest,
    UnsupportedGrantType,
    InvalidGrant,
    InvalidScope,
    Forbidden,
    InvalidAuthorizationDetails,
    InvalidAltinnCustomerConfiguration,
    ServerError,
}

impl OAuthError {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidGrant => "invalid_grant",
            Self::InvalidScope => "invalid_scope",
            Self::Forbidden => "forbidden",
            Self::InvalidAuthorizationDetails => "invalid_authorization_details",
            Self::InvalidAltinnCustomerConfiguration => "invalid_altinn_customer_configuration",
            Self::ServerError => "server_error",
        }
    }

    /// HTTP status: 400 for everything the client can fix, 403 for missing access grants
    /// (the `forbidden` family), 500 only for our own failures.
    pub fn http_status(&self) -> u16 {
        match self {
            Self::Forbidden => 403,
            Self::ServerError => 500,
            _ => 400,
        }
    }
}

/// Every way a token request can fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenFailure {
    UnsupportedGrantType,
    NotAForm,
    MissingAssertion,
    MalformedAssertion(&'static str),
    AlgorithmNotAllowed,
    X5cNotSupported,
    KidRequired,
    ClientNotFound,
    UnknownKeyId,
    ExpiredKey,
    InvalidSignature,
    AlgorithmNotRegistered,
    InvalidAudience,
    LifetimeTooLong,
    IssuedInFuture,
    NotYetValid,
    Expired,
    MissingClaim(&'static str),
    InvalidClaim(&'static str),
    UnknownClaim(String),
    SubjectIsNotIssuer,
    GrantUsedBefore,
    ScopesNotOnClient(Vec<String>),
    ScopeNotForMaskinporten(Vec<String>),
    ScopeAccessNotGranted(String),
    ConsumerOrgIsOwnOrg,
    NoDelegationFromConsumer { consumer: String, supplier: String, scope: String },
    AuthorizationDetailsShape(&'static str),
    AuthorizationDetailsType(String),
    AuthorizationDetailsFields(String),
    AuthorizationDetailsValue(&'static str),
    NoMatchingSystemUser,
    Internal,
}

const AUTH_FAILED: &str = "Invalid assertion. Client authentication failed.";

impl TokenFailure {
    pub fn code(&self) -> MpCode {
        use TokenFailure::*;
        MpCode(match self {
            UnsupportedGrantType | NotAForm | MissingAssertion | MalformedAssertion(_) | AlgorithmNotAllowed
            | MissingClaim(_) | InvalidClaim(_) | UnknownClaim(_) | SubjectIsNotIssuer | ConsumerOrgIsOwnOrg => "MP-011",
            GrantUsedBefore => "MP-012",
            ClientNotFound | UnknownKeyId | KidRequired => "MP-100",
            InvalidAudience => "MP-110",
            ExpiredKey => "MP-121",
            X5cNotSupported => "MP-123",
            InvalidSignature | AlgorithmNotRegistered => "MP-124",
            LifetimeTooLong | IssuedInFuture | NotYetValid | Expired => "MP-130",
            ScopesNotOnClient(_) => "MP-200",
            ScopeNotForMaskinporten(_) => "MP-201",
            ScopeAccessNotGranted(_) => "MP-250",
            NoDelegationFromConsumer { .. } => "MP-251",
            AuthorizationDetailsShape(_) | AuthorizationDetailsType(_) => "MP-301",
            AuthorizationDetailsFields(_) => "MP-302",
            AuthorizationDetailsValue(_) | NoMatchingSystemUser => "MP-303",
            Internal => "MP-500",
        })
    }

    pub fn oauth_error(&self) -> OAuthError {
        use TokenFailure::*;
        match self {
            UnsupportedGrantType => OAuthError::UnsupportedGrantType,
            NotAForm | MissingAssertion | AlgorithmNotAllowed | MissingClaim(_) | InvalidClaim(_) | UnknownClaim(_)
            | SubjectIsNotIssuer | ConsumerOrgIsOwnOrg => OAuthError::InvalidRequest,
            MalformedAssertion(_) | X5cNotSupported | KidRequired | ClientNotFound | UnknownKeyId | ExpiredKey
            | InvalidSignature | AlgorithmNotRegistered | InvalidAudience | LifetimeTooLong | IssuedInFuture | NotYetValid | Expired
            | GrantUsedBefore => OAuthError::InvalidGrant,
            ScopesNotOnClient(_) | ScopeNotForMaskinporten(_) => OAuthError::InvalidScope,
            ScopeAccessNotGranted(_) | NoDelegationFromConsumer { .. } => OAuthError::Forbidden,
            AuthorizationDetailsShape(_) | AuthorizationDetailsType(_) | AuthorizationDetailsFields(_) => {
                OAuthError::InvalidAuthorizationDetails
            }
            AuthorizationDetailsValue(_) | NoMatchingSystemUser => OAuthError::InvalidAltinnCustomerConfiguration,
            Internal => OAuthError::ServerError,
        }
    }
}

/// The `error_description` text, without the trailing trace id.
impl fmt::Display for TokenFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use TokenFailure::*;
        match self {
            UnsupportedGrantType => f.write_str("Unsupported grant type. Only urn:ietf:params:oauth:grant-type:jwt-bearer is supported."),
            NotAForm => f.write_str("Invalid request. The body must be application/x-www-form-urlencoded with grant_type and assertion."),
            MissingAssertion => f.write_str("Invalid request. The form parameter assertion is missing or given more than once."),
            MalformedAssertion(why) => write!(f, "Invalid assertion. Invalid JWT: {why}."),
            AlgorithmNotAllowed => f.write_str("Invalid assertion. Invalid parameter value: alg must be RS256, RS384 or RS512."),
            X5cNotSupported => f.write_str("Invalid JWT header x5c. Business certificates (x5c) are not supported by this server; register a key and use kid."),
            KidRequired => write!(f, "{AUTH_FAILED} Invalid JWT. The client requires pre-registered jwk and no key identifier (kid) provided"),
            ClientNotFound => f.write_str(AUTH_FAILED),
            UnknownKeyId => write!(f, "{AUTH_FAILED} Unknown key identifier (kid) for client."),
            ExpiredKey => write!(f, "{AUTH_FAILED} Expired key"),
            InvalidSignature => write!(f, "{AUTH_FAILED} Invalid JWT signature."),
            AlgorithmNotRegistered => write!(f, "{AUTH_FAILED} The JWT alg is not the alg registered for this key."),
            InvalidAudience => write!(f, "{AUTH_FAILED} Invalid JWT claim aud"),
            LifetimeTooLong => f.write_str("JWT has too long lifetime."),
            IssuedInFuture => f.write_str("Issue time is after now"),
            NotYetValid => f.write_str("JWT is not yet valid (nbf is after now)"),
            Expired => f.write_str("JWT is expired"),
            MissingClaim(c) => write!(f, "Invalid assertion. Invalid parameter value: the claim {c} is missing"),
            InvalidClaim(c) => write!(f, "Invalid assertion. Invalid parameter value: the claim {c} has an invalid value"),
            UnknownClaim(c) => write!(f, "Invalid assertion. Invalid parameter value: unknown claim {c}"),
            SubjectIsNotIssuer => f.write_str("Invalid assertion. Invalid parameter value: sub must equal iss"),
            GrantUsedBefore => f.write_str("Grant is used before"),
            ScopesNotOnClient(s) => write!(f, "Token request contains invalid scopes for client, {}", s.join(" ")),
            ScopeNotForMaskinporten(s) => write!(f, "Token request contains scopes not allowed for maskinporten: {}", s.join(" ")),
            ScopeAccessNotGranted(s) => write!(f, "Consumer has not been granted access to the scope {s}."),
            ConsumerOrgIsOwnOrg => f.write_str("Validation of JWT claim failed: The combination consumer_org in claim and delegation scope on client is invalid"),
            NoDelegationFromConsumer { consumer, supplier, scope } => {
                write!(f, "Consumer {consumer} has not delegated access to the scope {scope} to supplier {supplier}.")
            }
            AuthorizationDetailsShape(why) => write!(f, "Unknown authorization details type: {why}"),
            AuthorizationDetailsType(t) => write!(f, "Unknown authorization details type {t}"),
            AuthorizationDetailsFields(field) => write!(f, "Unknown fields in the authorization details: {field}"),
            AuthorizationDetailsValue(why) => write!(f, "Invalid authorization details: {why}"),
            NoMatchingSystemUser => f.write_str(
                "No system user matches the request: check that the system user is approved, that this client id is registered on its system, and that externalRef and systemuser_org are right",
            ),
            Internal => f.write_str("Internal error"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_strings_that_clients_grep_for() {
        assert_eq!(TokenFailure::NoMatchingSystemUser.oauth_error().as_str(), "invalid_altinn_customer_configuration");
        assert!(TokenFailure::UnknownKeyId.to_string().contains("Client authentication"));
        assert!(TokenFailure::InvalidSignature.to_string().starts_with("Invalid assertion. Client authentication failed. Invalid JWT signature."));
        assert_eq!(TokenFailure::ScopeAccessNotGranted("a:b".into()).oauth_error().http_status(), 403);
        assert_eq!(TokenFailure::Expired.oauth_error().http_status(), 400);
    }
}
