//! The token service asks "which system user does this vendor's client act as for this
//! customer?" through this trait. The Authentication part of fullmakt implements it over the
//! system-user tables (the reference's `byExternalId` lookup, maskinporten.md §2.3); until it
//! exists, [`NoSystemUsers`] answers that none matches, which is the truth.

use std::future::Future;
use std::pin::Pin;

use fullmakt_domain::OrganisationNumber;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemUserQuery {
    pub client_id: String,
    pub vendor: OrganisationNumber,
    pub owner: OrganisationNumber,
    /// Already defaulted to the owner's organisation number when the grant had none.
    pub external_ref: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemUserMatch {
    /// The system user's UUID, emitted as `systemuser_id[0]`.
    pub id: String,
    /// The system's id `<vendorOrgNo>_<name>`, emitted as `system_id`.
    pub system_id: String,
}

pub type LookupFuture<'a> = Pin<Box<dyn Future<Output = Result<Option<SystemUserMatch>, String>> + Send + 'a>>;

pub trait SystemUserLookup: Send + Sync {
    fn find<'a>(&'a self, query: &'a SystemUserQuery) -> LookupFuture<'a>;
}

pub struct NoSystemUsers;

impl SystemUserLookup for NoSystemUsers {
    fn find<'a>(&'a self, _query: &'a SystemUserQuery) -> LookupFuture<'a> {
        Box::pin(async { Ok(None) })
    }
}
