//! fullmakt's use cases over the store, with no HTTP types: issuing tokens, administering
//! clients and scopes, managing the signing keys, Altinn tokens (person tokens and the
//! Maskinporten exchange), verifying the access tokens the APIs accept, the resource registry
//! and access lists, the register, grants, the policy information point and the decision
//! point, reading the access-package catalogue, and Altinn Authentication's system register.
//! The HTTP crate and the CLI are thin shells around these.

pub mod access_lists;
pub mod access_management;
pub mod access_packages;
pub mod admin;
pub mod altinn_token;
pub mod auth_error;
pub mod cache;
pub mod change_requests;
pub mod client_administration;
pub mod client_delegation;
pub mod clock;
pub mod compiled_policy;
pub mod decision_index;
pub mod delegation_check;
pub mod grants;
pub mod instance;
pub mod login;
pub mod pdp;
pub mod pip;
pub mod portal;
pub mod register;
pub mod replay;
pub mod requests;
pub mod resource_registry;
pub mod signing_keys;
pub mod system_register;
pub mod system_users;
pub mod token;
pub mod trusted_issuers;
pub mod verify;

pub use admin::{AdminError, Caller};
pub use auth_error::AuthError;
pub use signing_keys::{KeyRing, KeyRingConfig};
pub use system_users::{StoreSystemUsers, SystemUserLookup, SystemUserMatch, SystemUserQuery};
pub use token::{IssuedToken, TokenService};
pub use altinn_token::{AltinnTokenService, PersonToken, PersonTokenError, PersonTokenRequest};
pub use trusted_issuers::{TrustedIssuer, TrustedIssuers};
pub use verify::{AccessTokenVerifier, PersonCaller, PORTAL_SCOPE};

pub use fullmakt_store::{Store, StoreError};

/// How long fullmakt lets any access token live, whatever a client or scope asks for
/// (maskinporten.md §3.6 cites 7200 s as Digdir's absolute maximum).
pub const MAX_ACCESS_TOKEN_LIFETIME: i64 = 7200;

/// The issuer string: the public URL with exactly one trailing slash, as Maskinporten.
pub fn issuer_from_public_url(public_url: &str) -> String {
    format!("{}/", public_url.trim_end_matches('/'))
}
