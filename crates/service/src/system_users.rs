//! The token service asks "which system user does this vendor's client act as for this
//! customer?" through this trait; [`StoreSystemUsers`] answers from the system-user tables
//! (the reference's `byExternalId` lookup, maskinporten.md §2.3), read at the moment of the
//! request, so a deleted system user gets no further token.

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

/// The lookup over fullmakt's own system users and system register.
pub struct StoreSystemUsers {
    store: fullmakt_store::Store,
}

impl StoreSystemUsers {
    pub fn new(store: fullmakt_store::Store) -> Self {
        Self { store }
    }
}

impl SystemUserLookup for StoreSystemUsers {
    fn find<'a>(&'a self, query: &'a SystemUserQuery) -> LookupFuture<'a> {
        Box::pin(async move {
            let found = self
                .store
                .system_user_for_client(&query.client_id, &query.vendor.to_string(), &query.owner.to_string(), &query.external_ref)
                .await
                .map_err(|e| e.to_string())?;
            Ok(found.map(|row| SystemUserMatch { id: row.id, system_id: row.system_id }))
        })
    }
}

// ---------------------------------------------------------------------------------------------
// System users for their owners (the portal), their vendors, the token service and Register
// (authentication-api.md §1.4 except client delegation, §3.9, §5.1).

use fullmakt_domain::auth_error::AuthCode;
use fullmakt_domain::system_register::{AccessPackage, AttributePair, Right};
use fullmakt_store::{ListCursor, PartyKey, PartyRow, Store, SystemUserRow};

use crate::access_management::Gate;
use crate::admin::Caller;
use crate::auth_error::AuthError;
use crate::clock;
use crate::requests::{internal, new_system_user, one_page, problem, Approvals, UserType, REQUEST_WRITE};
use crate::system_register::{find_live_system, find_system, SYSTEM_REGISTER_ADMIN, SYSTEM_REGISTER_WRITE};

/// The scope of the token service's lookup (`byExternalId`).
pub const SYSTEM_USER_LOOKUP: &str = "altinn:maskinporten/systemuser.read";
/// The scope of Register's internal routes.
pub const SYSTEM_USER_ADMIN: &str = "altinn:authentication/systemuser.admin";
/// Register's change stream gives this many per page.
pub const STREAM_PAGE: i64 = 100;

/// A system user with what the routes show of it.
#[derive(Debug, Clone)]
pub struct SystemUserView {
    pub row: SystemUserRow,
    /// The owner's party uuid (from the register).
    pub owner_party_uuid: String,
    pub vendor_orgno: String,
    pub system_internal_id: String,
    /// Packages: live grants for standard system users, the approved list for agents.
    pub access_packages: Vec<AccessPackage>,
    /// Live single rights (standard system users), one per resource.
    pub rights: Vec<Right>,
}

async fn describe(store: &Store, catalogue: &fullmakt_domain::Catalogue, row: SystemUserRow, live_grants: bool) -> Result<SystemUserView, AuthError> {
    Describer::new(store, catalogue).describe(row, live_grants).await
}

/// Describes system users, reading each owner and each system once however many rows share them
/// (a party's list names one owner and usually few systems).
struct Describer<'a> {
    store: &'a Store,
    catalogue: &'a fullmakt_domain::Catalogue,
    owners: std::collections::HashMap<i64, String>,
    /// system id → (vendor organisation number, internal id)
    systems: std::collections::HashMap<String, (String, String)>,
}

impl<'a> Describer<'a> {
    fn new(store: &'a Store, catalogue: &'a fullmakt_domain::Catalogue) -> Self {
        Self { store, catalogue, owners: Default::default(), systems: Default::default() }
    }

    async fn describe(&mut self, row: SystemUserRow, live_grants: bool) -> Result<SystemUserView, AuthError> {
        if !self.owners.contains_key(&row.owner_party_id) {
            let owner = self.store.find_party(PartyKey::Id(row.owner_party_id)).await?;
            self.owners.insert(row.owner_party_id, owner.map(|p| p.party_uuid).unwrap_or_default());
        }
        if !self.systems.contains_key(&row.system_id) {
            let system = find_system(self.store, &row.system_id).await?.map(|s| (s.vendor_orgno, s.internal_id)).unwrap_or_default();
            self.systems.insert(row.system_id.clone(), system);
        }
        let (mut access_packages, mut rights) = (Vec::new(), Vec::new());
        if row.user_type == UserType::Agent.as_str() {
            access_packages = serde_json::from_str(&row.access_packages).map_err(internal)?;
        } else if live_grants {
            let mut resources: Vec<String> = Vec::new();
            for g in self.store.grants_from(row.owner_party_id, &row.id).await? {
                if let Some(p) = g.package_id.as_deref().and_then(|id| self.catalogue.package_by_id(id)) {
                    access_packages.push(AccessPackage { urn: p.urn.clone() });
                }
                if let Some(r) = g.resource_id {
                    if !resources.contains(&r) {
                        resources.push(r);
                    }
                }
            }
            rights = resources
                .into_iter()
                .map(|r| Right { action: None, resource: vec![AttributePair { id: "urn:altinn:resource".into(), value: r }] })
                .collect();
        }
        let (vendor_orgno, system_internal_id) = self.systems[&row.system_id].clone();
        Ok(SystemUserView { owner_party_uuid: self.owners[&row.owner_party_id].clone(), vendor_orgno, system_internal_id, access_packages, rights, row })
    }
}

impl Approvals<'_> {
    async fn owned(&self, party_id: i64, id: &str) -> Result<SystemUserRow, AuthError> {
        match self.store.system_user(id).await? {
            Some(row) if row.is_deleted == 0 && row.owner_party_id == party_id => Ok(row),
            _ => Err(problem(AuthCode::SystemUserNotFound)),
        }
    }

    /// `GET systemuser/{party}` (AMR) and `GET systemuser/agent/{party}` (SUO).
    pub async fn system_users_of(&self, person: &PartyRow, party_id: i64, kind: UserType) -> Result<Vec<SystemUserView>, AuthError> {
        let gate = match kind {
            UserType::Standard => Gate::AccessManagementRead,
            UserType::Agent => Gate::SystemUserOverview,
        };
        self.require(person, party_id, gate).await?;
        self.listed(party_id, kind).await
    }

    /// The party's active agent system users, for a caller that passed its own gate.
    pub(crate) async fn agents_of(&self, party_id: i64) -> Result<Vec<SystemUserView>, AuthError> {
        self.listed(party_id, UserType::Agent).await
    }

    async fn listed(&self, party_id: i64, kind: UserType) -> Result<Vec<SystemUserView>, AuthError> {
        let mut describer = Describer::new(self.store, self.catalogue);
        let mut out = Vec::new();
        for row in self.store.active_system_users_of_owner(party_id, kind.as_str()).await? {
            out.push(describer.describe(row, false).await?);
        }
        Ok(out)
    }

    /// `GET systemuser/{party}/{systemUserId}` (SUO): with live rights and packages.
    pub async fn system_user_of(&self, person: &PartyRow, party_id: i64, id: &str) -> Result<SystemUserView, AuthError> {
        self.require(person, party_id, Gate::SystemUserOverview).await?;
        let row = self.owned(party_id, id).await?;
        describe(self.store, self.catalogue, row, true).await
    }

    /// `GET systemuser/{party}/{systemUserId}/delegations` (AMR): what a standard system user
    /// holds now. The owner is checked (the reference does not).
    pub async fn delegations_of(&self, person: &PartyRow, party_id: i64, id: &str) -> Result<SystemUserView, AuthError> {
        self.require(person, party_id, Gate::AccessManagementRead).await?;
        let row = self.owned(party_id, id).await?;
        if row.user_type != UserType::Standard.as_str() {
            return Err(problem(AuthCode::AgentSystemUserExpectedStandardUserType));
        }
        describe(self.store, self.catalogue, row, true).await
    }

    /// `POST systemuser/{party}/create` (AMW): a standard system user for a visible system, with
    /// every right and package of the system, in one transaction after the delegation check.
    pub async fn create_directly(&self, person: &PartyRow, party_id: i64, system_id: &str, integration_title: Option<&str>) -> Result<SystemUserView, AuthError> {
        self.require(person, party_id, Gate::AccessManagementWrite).await?;
        let party = match self.store.find_party(PartyKey::Id(party_id)).await? {
            Some(p) if p.is_deleted == 0 && p.org_number.is_some() => p,
            _ => return Err(problem(AuthCode::ReporteeOrgnoNotFound)),
        };
        let org_no = party.org_number.clone().unwrap_or_default();
        let system = match find_live_system(self.store, system_id.trim()).await? {
            Some(s) if s.is_visible => s,
            _ => return Err(problem(AuthCode::SystemIdNotFound)),
        };
        if self.store.active_system_user_by_identity(&org_no, &org_no, &system.system_id).await?.is_some() {
            return Err(problem(AuthCode::SystemUserAlreadyExists));
        }
        let delegation = self.delegation_for(person, &party, &system.rights, &system.access_packages).await?;
        let title = match integration_title.map(str::trim) {
            Some(t) if !t.is_empty() => t.to_owned(),
            _ => system.name.get("nb").cloned().ok_or_else(|| problem(AuthCode::SystemNameNotFound))?,
        };
        let now = clock::now();
        let row = new_system_user(uuid::Uuid::new_v4().to_string(), &system.system_id, title, &party, &org_no, UserType::Standard, "[]".into(), person, now);
        let mut tx = self.store.begin_write().await?;
        let row = tx.insert_system_user(&row).await.map_err(|e| match e {
            fullmakt_store::StoreError::Conflict => problem(AuthCode::SystemUserAlreadyExists),
            other => other.into(),
        })?;
        delegation.write(&mut tx, &party, &row.id, now).await?;
        tx.commit().await?;
        describe(self.store, self.catalogue, row, true).await
    }

    /// `DELETE systemuser/{party}/{systemUserId}` (AMW): revokes everything the standard system
    /// user holds, deletes it and its request (so the identity can be requested again), in one
    /// transaction. `Ok(false)` when there is no such system user (404 `0`).
    pub async fn delete_standard(&self, person: &PartyRow, party_id: i64, id: &str) -> Result<bool, AuthError> {
        self.require(person, party_id, Gate::AccessManagementWrite).await?;
        let Some(row) = self.store.system_user(id).await?.filter(|r| r.is_deleted == 0) else {
            return Ok(false);
        };
        if row.owner_party_id != party_id {
            return Err(problem(AuthCode::DeleteSystemUserNotOwned));
        }
        if row.user_type != UserType::Standard.as_str() {
            return Err(problem(AuthCode::AgentSystemUserExpectedStandardUserType));
        }
        let now = clock::now();
        let mut tx = self.store.begin_write().await?;
        tx.delete_assignments_to(&row.id).await?;
        if !tx.change_system_user(&row.id, &format!("user_id:{}", person.party_id), now, true).await? {
            return Ok(false);
        }
        tx.delete_requests_by_identity(&row.owner_org_no, &row.external_ref, &row.system_id, UserType::Standard.as_str(), now).await?;
        tx.commit().await?;
        Ok(true)
    }
}

/// `GET systemuser/byExternalId` (the token service's lookup, for other deployments' use):
/// either type, `externalRef` defaulting to the owner's organisation number.
pub async fn by_external_id(
    store: &Store,
    caller: &Caller,
    client_id: &str,
    vendor_orgno: &str,
    owner_orgno: &str,
    external_ref: Option<&str>,
) -> Result<Option<SystemUserView>, AuthError> {
    caller.require_any(&[SYSTEM_USER_LOOKUP])?;
    let external_ref = external_ref.filter(|r| !r.is_empty()).unwrap_or(owner_orgno);
    match store.system_user_for_client(client_id, vendor_orgno, owner_orgno, external_ref).await? {
        Some(row) => Ok(Some(describe(store, fullmakt_domain::Catalogue::embedded(), row, false).await?)),
        None => Ok(None),
    }
}

/// `GET systemuser/vendor/byquery`: one system user of the caller's system by identity;
/// another vendor's is not found.
pub async fn vendor_by_query(store: &Store, caller: &Caller, system_id: &str, org_no: &str, external_ref: Option<&str>) -> Result<Option<SystemUserView>, AuthError> {
    caller.require_any(&[REQUEST_WRITE])?;
    let external_ref = external_ref.filter(|r| !r.is_empty()).unwrap_or(org_no);
    let Some(system) = find_live_system(store, system_id).await? else { return Ok(None) };
    if system.vendor_orgno != caller.org.to_string() {
        return Ok(None);
    }
    match store.active_system_user_by_identity(org_no, external_ref, system_id).await? {
        Some(row) => Ok(Some(describe(store, fullmakt_domain::Catalogue::embedded(), row, false).await?)),
        None => Ok(None),
    }
}

/// One page of `GET systemuser/vendor/bysystem/{systemId}` (both types) and the next cursor.
pub async fn vendor_by_system(
    store: &Store,
    caller: &Caller,
    system_id: &str,
    after: Option<ListCursor>,
    page_size: usize,
) -> Result<(Vec<SystemUserView>, Option<ListCursor>), AuthError> {
    caller.require_any(&[SYSTEM_REGISTER_WRITE, SYSTEM_REGISTER_ADMIN])?;
    let system = match find_live_system(store, system_id).await? {
        Some(s) if s.vendor_orgno == caller.org.to_string() || caller.scopes.iter().any(|x| x == SYSTEM_REGISTER_ADMIN) => s,
        _ => return Err(problem(AuthCode::SystemIdNotFound)),
    };
    let rows = store.system_users_of_system(system_id, after.as_ref(), page_size as i64 + 1).await?;
    let (rows, next) = one_page(rows, page_size, |r| (r.list_position, r.id.clone()));
    // The vendor's view needs nothing beyond the row and its system: one query per page.
    let out = rows
        .into_iter()
        .map(|row| SystemUserView {
            row,
            owner_party_uuid: String::new(),
            vendor_orgno: system.vendor_orgno.clone(),
            system_internal_id: system.internal_id.clone(),
            access_packages: Vec::new(),
            rights: Vec::new(),
        })
        .collect();
    Ok((out, next))
}

/// A page of Register's change stream after `after`, and the newest position written.
pub async fn stream(store: &Store, caller: &Caller, after: i64) -> Result<(Vec<SystemUserRow>, i64), AuthError> {
    caller.require_any(&[SYSTEM_USER_ADMIN])?;
    let end = store.system_user_stream_end().await?;
    let rows = store.system_user_stream(after, STREAM_PAGE).await?;
    Ok((rows, end))
}

/// `GET systemuser/internal/systemusers/{id}`: a system user that exists and is not deleted.
pub async fn internal_get(store: &Store, caller: &Caller, id: &str) -> Result<Option<SystemUserRow>, AuthError> {
    caller.require_any(&[SYSTEM_USER_ADMIN])?;
    Ok(store.system_user(id).await?.filter(|r| r.is_deleted == 0))
}
