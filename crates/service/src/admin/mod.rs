//! Client and scope administration in the shape of Digdir's self-service API
//! (maskinporten.md §6). Every operation takes the [`Caller`] (the organisation behind a
//! verified admin token) and enforces scope and ownership itself; the CLI's operator
//! functions skip only the caller checks, never the validation.

pub mod clients;
pub mod scopes;

use fullmakt_domain::OrganisationNumber;
use fullmakt_store::StoreError;

pub use clients::{ClientInput, ClientView, JwksView};
pub use scopes::{ScopeAccessView, ScopeInput, ScopeView};

pub const DCR_READ: &str = "idporten:dcr.read";
pub const DCR_WRITE: &str = "idporten:dcr.write";
pub const DCR_MODIFY: &str = "idporten:dcr.modify";
pub const SCOPES_WRITE: &str = "idporten:scopes.write";

/// The organisation acting through a verified admin token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub org: OrganisationNumber,
    pub scopes: Vec<String>,
    pub client_id: String,
}

impl Caller {
    pub fn require_any(&self, accepted: &[&str]) -> Result<(), AdminError> {
        if self.scopes.iter().any(|s| accepted.contains(&s.as_str())) {
            Ok(())
        } else {
            Err(AdminError::MissingScope(accepted.join(" or ")))
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdminError {
    #[error("{0}")]
    Unauthorized(String),
    #[error("the token lacks the scope {0}")]
    MissingScope(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Conflict(String),
    /// An `If-Match` precondition did not hold.
    #[error("{0}")]
    PreconditionFailed(String),
    /// A document failed validation; the field → messages map is the problem's `errors`.
    #[error("{0}")]
    Invalid(fullmakt_domain::resource::ValidationErrors),
    #[error("internal error")]
    Internal,
}

impl AdminError {
    pub fn status(&self) -> u16 {
        match self {
            Self::Unauthorized(_) => 401,
            Self::MissingScope(_) | Self::Forbidden(_) => 403,
            Self::NotFound(_) => 404,
            Self::BadRequest(_) | Self::Invalid(_) => 400,
            Self::Conflict(_) => 409,
            Self::PreconditionFailed(_) => 412,
            Self::Internal => 500,
        }
    }

    pub fn title(&self) -> &'static str {
        match self {
            Self::Unauthorized(_) => "Unauthorized",
            Self::MissingScope(_) => "Insufficient scope",
            Self::Forbidden(_) => "Forbidden",
            Self::NotFound(_) => "Not found",
            Self::BadRequest(_) => "Bad request",
            Self::Invalid(_) => "One or more validation errors occurred.",
            Self::Conflict(_) => "Conflict",
            Self::PreconditionFailed(_) => "Precondition failed",
            Self::Internal => "Internal server error",
        }
    }

    pub(crate) fn internal<E: std::fmt::Display>(e: E) -> Self {
        tracing::error!(error = %e, "admin operation failed inside the server");
        Self::Internal
    }
}

impl From<StoreError> for AdminError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict => AdminError::Conflict("a resource with this key exists already".into()),
            other => AdminError::internal(other),
        }
    }
}

pub(crate) fn bad_request(msg: impl Into<String>) -> AdminError {
    AdminError::BadRequest(msg.into())
}
