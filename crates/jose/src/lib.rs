//! JOSE for fullmakt on top of aws-lc-rs: compact JWS parsing and RS256/384/512 verification,
//! the RSA JWKs clients register, fullmakt's own signing keys, and the sealing of private keys
//! at rest. No I/O; the rules of *which* claims a grant may carry live in the service layer.
//!
//! We write the small JWS layer ourselves instead of using a JWT crate because the token
//! endpoint must report each header and signature problem with its own Maskinporten error, in
//! Maskinporten's order, and must never be talked into trusting a key from the header.

pub mod b64;
pub mod jwk;
pub mod jws;
pub mod sealing;
pub mod signing;

pub use jwk::{issuer_key_from_json, JwkError, RsaPublicJwk};
pub use jws::{Algorithm, CompactJws, JwsError, JwsHeader, VerificationKey, VerifyError};
pub use sealing::{KeyEncryptionKey, SealingError};
pub use signing::{RsaKeySize, SigningKey};
