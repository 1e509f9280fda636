//! Pure domain rules of fullmakt: identifiers and their validation (organisation numbers,
//! person numbers, party values), scope names, the system-user authorization detail of a token
//! grant, the Maskinporten error catalogue, Altinn Authentication's error catalogue, the
//! system register's wire model and rules, the resource registry's resource model and its
//! validation, and the access-package catalogue.
//!
//! No I/O and no async here: everything is a function of its inputs, so it is tested
//! exhaustively and reused by every other crate.

pub mod auth_error;
pub mod authorization_details;
pub mod catalogue;
pub mod organisation;
pub mod party;
pub mod person;
pub mod resource;
pub mod scope;
pub mod system_register;
pub mod token_error;

pub use authorization_details::{SystemUserAuthorizationRequest, ISO6523_AUTHORITY, SYSTEMUSER_TYPE};
pub use catalogue::{Catalogue, Language, PackageIndex, PackageSet, RoleIndex};
pub use organisation::{OrganisationNumber, OrganisationNumberError};
pub use party::{PartyType, UnitType};
pub use person::{PersonIdentifier, PersonIdentifierError, PersonIdentifierKind, SyntheticNumbers};
pub use scope::{ScopeName, ScopeNameError};
pub use token_error::{MpCode, OAuthError, TokenFailure};
