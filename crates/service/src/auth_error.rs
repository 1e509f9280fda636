//! The error every Altinn Authentication use case returns (system register, requests,
//! approval, system users): one enum for the four kinds of answer the reference gives, so a
//! handler maps any of them with one call (`fullmakt_http`'s `auth_call!`).

use fullmakt_domain::auth_error::{AuthCode, AuthProblem, ValidationError};
use fullmakt_domain::resource::ValidationErrors;
use fullmakt_store::StoreError;

use crate::admin::AdminError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// Answers shaped like every other fullmakt API: 401/403 for the caller, 404 and 409 without
    /// an Altinn code, ASP.NET validation problems (`{"errors":{"return":[…]}}`), and 500.
    #[error("{0}")]
    Admin(AdminError),
    /// An Altinn `AUTH-nnnnn` problem (`urn:altinn:error:AUTH-…`).
    #[error("{0}")]
    Problem(AuthProblem),
    /// The `STD-00000` validation problem with its `AUTH.VLD-nnnnn` errors (400). Never empty.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Validation(Vec<ValidationError>),
    /// A plain-text body, where the reference answers with a bare string
    /// (`System with ID '…' not found.`).
    #[error("{text}")]
    Text { status: u16, text: String },
}

impl AuthError {
    pub fn text(status: u16, text: impl Into<String>) -> Self {
        Self::Text { status, text: text.into() }
    }

    /// ASP.NET's `ValidationProblem(ModelState)` with one message under `key`.
    pub fn model_state(key: &str, message: impl Into<String>) -> Self {
        let mut e = ValidationErrors::default();
        e.add(key, message);
        Self::Admin(AdminError::Invalid(e))
    }

    pub fn status(&self) -> u16 {
        match self {
            Self::Admin(e) => e.status(),
            Self::Problem(p) => p.status(),
            Self::Validation(_) => 400,
            Self::Text { status, .. } => *status,
        }
    }
}

impl From<AdminError> for AuthError {
    fn from(e: AdminError) -> Self {
        Self::Admin(e)
    }
}

impl From<StoreError> for AuthError {
    fn from(e: StoreError) -> Self {
        Self::Admin(e.into())
    }
}

impl From<AuthProblem> for AuthError {
    fn from(p: AuthProblem) -> Self {
        Self::Problem(p)
    }
}

impl From<AuthCode> for AuthError {
    fn from(code: AuthCode) -> Self {
        Self::Problem(AuthProblem::new(code))
    }
}

impl From<ValidationError> for AuthError {
    fn from(e: ValidationError) -> Self {
        Self::Validation(vec![e])
    }
}

/// `Ok` when nothing was collected, else the validation problem with every error.
pub fn collected(errors: Vec<ValidationError>) -> Result<(), AuthError> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AuthError::Validation(errors))
    }
}

/// The problem a failed delegation check answers with (authentication-api.md §4.1: only the
/// first reason is mapped; anything unmapped is AUTH-00014).
pub fn delegation_check_problem(reason: crate::delegation_check::Reason) -> AuthCode {
    use crate::delegation_check::Reason;
    match reason {
        Reason::MissingPackageAccess => AuthCode::DelegationRightMissingPackageAccess,
        Reason::MissingRoleAccess => AuthCode::DelegationRightMissingRoleAccess,
        Reason::MissingDelegationAccess => AuthCode::DelegationRightMissingDelegationAccess,
        Reason::ResourceNotDelegable => AuthCode::DelegationRightResourceNotDelegable,
        Reason::ResourceIsMaskinPortenSchema => AuthCode::DelegationRightResourceIsMaskinPortenSchema,
        Reason::PackageAccess | Reason::RoleAccess | Reason::DelegationAccess => AuthCode::UnableToDoDelegationCheck,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delegation_check::Reason;

    #[test]
    fn delegation_reasons_map_to_the_reference_codes() {
        let code = |r| delegation_check_problem(r).number();
        assert_eq!(code(Reason::MissingPackageAccess), 68);
        assert_eq!(code(Reason::MissingRoleAccess), 16);
        assert_eq!(code(Reason::MissingDelegationAccess), 18);
        assert_eq!(code(Reason::ResourceNotDelegable), 70);
        assert_eq!(code(Reason::ResourceIsMaskinPortenSchema), 71);
        assert_eq!(code(Reason::RoleAccess), 14);
        assert_eq!(AuthError::from(AuthCode::RequestStatusNotNew).status(), 409);
        assert_eq!(AuthError::text(404, "x").status(), 404);
        assert_eq!(AuthError::model_state("return", "System not found").status(), 400);
    }
}
