//! Change requests (authentication-api.md §1.3, §3.8): a vendor asks the owner of a standard
//! system user to add rights and packages and to take others away. Approval applies the
//! difference to the system user's grants in one transaction.
//!
//! Differences from the reference (DESIGN.md §5): vendors reach only change requests of their
//! own systems (read, delete), and approval and rejection check that the request belongs to the
//! party the person acts for.

use fullmakt_domain::auth_error::AuthCode;
use fullmakt_domain::system_register::{AccessPackage, Right};
use fullmakt_domain::Catalogue;
use fullmakt_store::{ChangeRequestRow, ListCursor, PartyKey, PartyRow, Store, SystemUserRow};
use serde::Deserialize;

use crate::access_management::Gate;
use crate::admin::Caller;
use crate::auth_error::AuthError;
use crate::clock;
use crate::pip::RIGHTHOLDER;
use crate::requests::{check_redirect_url, check_requested, internal, one_page, own_system, problem, resource_of, Approvals, RequestSettings, UserType, REQUEST_READ, REQUEST_WRITE};
use crate::system_register::find_live_system;

/// The body of `POST systemuser/changerequest/vendor` (lists default to empty).
#[derive(Debug, Clone, Default, Deserialize)]
/// Read with `from_json_any_case`, which lower-cases every property name.
pub struct NewChangeRequest {
    #[serde(default, rename = "requiredrights")]
    pub required_rights: Vec<Right>,
    #[serde(default, rename = "unwantedrights")]
    pub unwanted_rights: Vec<Right>,
    #[serde(default, rename = "requiredaccesspackages")]
    pub required_access_packages: Vec<AccessPackage>,
    #[serde(default, rename = "unwantedaccesspackages")]
    pub unwanted_access_packages: Vec<AccessPackage>,
    #[serde(default, rename = "redirecturl")]
    pub redirect_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeRequestView {
    pub id: String,
    pub external_ref: String,
    pub system_id: String,
    pub system_user_id: String,
    pub party_org_no: String,
    pub required_rights: Vec<Right>,
    pub unwanted_rights: Vec<Right>,
    pub required_access_packages: Vec<AccessPackage>,
    pub unwanted_access_packages: Vec<AccessPackage>,
    /// `New`, `Accepted`, `Rejected`, `Timedout`, or `NoChangeNeeded` (never stored).
    pub status: String,
    pub redirect_url: Option<String>,
    pub created: i64,
    pub timed_out: bool,
}

impl ChangeRequestView {
    pub fn confirm_url(&self, settings: &RequestSettings) -> String {
        if self.status == "NoChangeNeeded" {
            return String::new();
        }
        format!("{}/accessmanagement/ui/systemuser/changerequest?id={}&DONTCHOOSEREPORTEE=true", settings.public_url, self.id)
    }
}

fn json<T: serde::de::DeserializeOwned>(s: &str) -> Result<T, AuthError> {
    serde_json::from_str(s).map_err(internal)
}

fn view(row: ChangeRequestRow, settings: &RequestSettings, now: i64) -> Result<ChangeRequestView, AuthError> {
    let timed_out = row.created < now - settings.timeout_seconds;
    let status = if timed_out && row.status == "New" { "Timedout".to_owned() } else { row.status };
    Ok(ChangeRequestView {
        required_rights: json(&row.required_rights)?,
        unwanted_rights: json(&row.unwanted_rights)?,
        required_access_packages: json(&row.required_access_packages)?,
        unwanted_access_packages: json(&row.unwanted_access_packages)?,
        id: row.id,
        external_ref: row.external_ref,
        system_id: row.system_id,
        system_user_id: row.system_user_id,
        party_org_no: row.party_org_no,
        status,
        redirect_url: row.redirect_url,
        created: row.created,
        timed_out,
    })
}

/// `POST systemuser/changerequest/vendor?correlation-id=&system-user-id=` (§3.8). Returns the
/// change request and whether it was stored now (201) or not (200: an existing one, or
/// `NoChangeNeeded`).
pub async fn create(
    store: &Store,
    catalogue: &Catalogue,
    settings: &RequestSettings,
    caller: &Caller,
    correlation_id: &str,
    system_user_id: &str,
    input: NewChangeRequest,
) -> Result<(ChangeRequestView, bool), AuthError> {
    caller.require_any(&[REQUEST_WRITE])?;
    let id = uuid::Uuid::parse_str(correlation_id.trim()).map_err(|_| AuthError::text(400, "The correlation-id must be a GUID."))?.to_string();
    let su_id = uuid::Uuid::parse_str(system_user_id.trim()).map_err(|_| AuthError::text(400, "The system-user-id must be a GUID."))?.to_string();
    if id == su_id {
        return Err(AuthError::text(400, "The correlation-id cannot be the system-user-id."));
    }
    let system_user = match store.system_user(&su_id).await? {
        Some(su) if su.is_deleted == 0 && su.user_type == UserType::Standard.as_str() => su,
        _ => return Err(problem(AuthCode::SystemUserNotFound)),
    };
    let system = own_system(store, caller, &system_user.system_id).await.map_err(|_| problem(AuthCode::SystemUserNotFound))?;
    let now = clock::now();
    if let Some(existing) = store.change_request(&id).await?.filter(|r| r.is_deleted == 0) {
        if existing.system_user_id != su_id {
            return Err(AuthError::text(400, "The correlation-id is used by another change request."));
        }
        let existing = view(existing, settings, now)?;
        if existing.status != "New" {
            return Err(problem(AuthCode::ChangeRequestStatusNotNewUseCorrellationId));
        }
        return Ok((existing, false));
    }
    let mut change = ChangeRequestView {
        id: id.clone(),
        external_ref: system_user.external_ref.clone(),
        system_id: system_user.system_id.clone(),
        system_user_id: su_id.clone(),
        party_org_no: system_user.owner_org_no.clone(),
        required_rights: input.required_rights,
        unwanted_rights: input.unwanted_rights,
        required_access_packages: input.required_access_packages,
        unwanted_access_packages: input.unwanted_access_packages,
        status: "New".into(),
        redirect_url: None,
        created: now,
        timed_out: false,
    };
    if change.required_rights.is_empty() && change.unwanted_rights.is_empty() && change.required_access_packages.is_empty() && change.unwanted_access_packages.is_empty() {
        change.status = "NoChangeNeeded".into();
        return Ok((change, false));
    }
    if let Some(pending) = store.change_request_by_identity(&change.party_org_no, &change.external_ref, &change.system_id).await? {
        if pending.status == "New" && pending.created >= now - settings.timeout_seconds {
            return Err(problem(AuthCode::ExternalRequestIdPending));
        }
    }
    change.redirect_url = check_redirect_url(&system, input.redirect_url.as_deref())?;
    // Required rights and packages as a request's; unwanted ones are not checked: taking away
    // what is not there changes nothing.
    check_requested(catalogue, &system, UserType::Standard, &change.required_rights, &change.required_access_packages)?;
    let row = ChangeRequestRow {
        id,
        system_user_id: su_id,
        external_ref: change.external_ref.clone(),
        system_id: change.system_id.clone(),
        party_org_no: change.party_org_no.clone(),
        required_rights: to_json(&change.required_rights)?,
        unwanted_rights: to_json(&change.unwanted_rights)?,
        required_access_packages: to_json(&change.required_access_packages)?,
        unwanted_access_packages: to_json(&change.unwanted_access_packages)?,
        status: "New".into(),
        redirect_url: change.redirect_url.clone(),
        is_deleted: 0,
        created: now,
        last_changed: now,
        changed_by: None,
        list_position: 0,
    };
    let mut tx = store.begin_write().await?;
    tx.insert_change_request(&row).await.map_err(|e| match e {
        fullmakt_store::StoreError::Conflict => AuthError::text(400, "The correlation-id is used by another change request."),
        other => other.into(),
    })?;
    tx.commit().await?;
    Ok((change, true))
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, AuthError> {
    serde_json::to_string(value).map_err(internal)
}

async fn vendor_change_request(store: &Store, caller: &Caller, id: &str) -> Result<ChangeRequestRow, AuthError> {
    let row = store.change_request(id).await?.filter(|r| r.is_deleted == 0).ok_or_else(|| problem(AuthCode::RequestNotFound))?;
    own_system(store, caller, &row.system_id).await.map_err(|_| problem(AuthCode::RequestNotFound))?;
    Ok(row)
}

/// `GET systemuser/changerequest/vendor/{requestId}`.
pub async fn vendor_get(store: &Store, settings: &RequestSettings, caller: &Caller, id: &str) -> Result<ChangeRequestView, AuthError> {
    caller.require_any(&[REQUEST_READ])?;
    view(vendor_change_request(store, caller, id).await?, settings, clock::now())
}

/// `GET systemuser/changerequest/vendor/byexternalref/{systemId}/{orgNo}/{externalRef}`.
pub async fn vendor_get_by_external_ref(
    store: &Store,
    settings: &RequestSettings,
    caller: &Caller,
    system_id: &str,
    org_no: &str,
    external_ref: &str,
) -> Result<ChangeRequestView, AuthError> {
    caller.require_any(&[REQUEST_READ])?;
    own_system(store, caller, system_id).await?;
    let row = store.change_request_by_identity(org_no, external_ref, system_id).await?.ok_or_else(|| problem(AuthCode::RequestNotFound))?;
    view(row, settings, clock::now())
}

/// One page of `GET systemuser/changerequest/vendor/bysystem/{systemId}` and the next cursor.
pub async fn vendor_list(
    store: &Store,
    settings: &RequestSettings,
    caller: &Caller,
    system_id: &str,
    after: Option<ListCursor>,
    page_size: usize,
) -> Result<(Vec<ChangeRequestView>, Option<ListCursor>), AuthError> {
    caller.require_any(&[REQUEST_READ])?;
    own_system(store, caller, system_id).await?;
    let rows = store.change_requests_of_system(system_id, after.as_ref(), page_size as i64 + 1).await?;
    let (rows, next) = one_page(rows, page_size, |r| (r.list_position, r.id.clone()));
    let now = clock::now();
    Ok((rows.into_iter().map(|r| view(r, settings, now)).collect::<Result<_, _>>()?, next))
}

/// `DELETE systemuser/changerequest/vendor/{requestId}`: the caller's own only.
pub async fn vendor_delete(store: &Store, caller: &Caller, id: &str) -> Result<(), AuthError> {
    caller.require_any(&[REQUEST_WRITE])?;
    vendor_change_request(store, caller, id).await?;
    let mut tx = store.begin_write().await?;
    tx.delete_change_request(id, clock::now()).await?;
    tx.commit().await?;
    Ok(())
}

/// A change request as the portal sees it.
#[derive(Debug, Clone)]
pub struct PartyChangeRequestView {
    pub change: ChangeRequestView,
    pub party: PartyRow,
}

impl Approvals<'_> {
    async fn change_request_of(&self, party: &PartyRow, id: &str) -> Result<ChangeRequestRow, AuthError> {
        let row = self.store.change_request(id).await?.filter(|r| r.is_deleted == 0).ok_or_else(|| problem(AuthCode::RequestNotFound))?;
        if party.org_number.as_deref() != Some(row.party_org_no.as_str()) {
            return Err(problem(AuthCode::PartyIdRequestMismatch));
        }
        Ok(row)
    }

    /// `GET systemuser/changerequest/{party}/{requestId}` (AMR).
    pub async fn change_request_for_party(&self, person: &PartyRow, party_id: i64, id: &str) -> Result<PartyChangeRequestView, AuthError> {
        self.require(person, party_id, Gate::AccessManagementRead).await?;
        let party = self.party(party_id).await?;
        let row = self.change_request_of(&party, id).await.map_err(|_| problem(AuthCode::RequestNotFound))?;
        Ok(PartyChangeRequestView { change: view(row, self.settings, clock::now())?, party })
    }

    /// `GET systemuser/changerequest/{requestId}`: for an access manager of its organisation.
    pub async fn change_request_by_id(&self, person: &PartyRow, id: &str) -> Result<PartyChangeRequestView, AuthError> {
        let row = self.store.change_request(id).await?.filter(|r| r.is_deleted == 0).ok_or_else(|| problem(AuthCode::RequestNotFound))?;
        let party = self.store.find_party(PartyKey::OrgNumber(&row.party_org_no)).await?.ok_or_else(|| problem(AuthCode::ReporteeOrgnoNotFound))?;
        if !self.gates.permits(person.party_id, party.party_id, Gate::AccessManagementWrite).await {
            return Err(problem(AuthCode::RequestUserIsNotAccessManager));
        }
        Ok(PartyChangeRequestView { change: view(row, self.settings, clock::now())?, party })
    }

    /// `POST systemuser/changerequest/{party}/{requestId}/approve` (AMW): adds the required
    /// packages and rights the person may pass on (all or nothing), takes away the unwanted
    /// ones the system user holds, and marks the change request accepted — one transaction.
    pub async fn approve_change(&self, person: &PartyRow, party_id: i64, id: &str) -> Result<(), AuthError> {
        self.require(person, party_id, Gate::AccessManagementWrite).await?;
        let party = self.party(party_id).await?;
        let change = view(self.change_request_of(&party, id).await?, self.settings, clock::now())?;
        if change.status != "New" {
            return Err(problem(AuthCode::RequestStatusNotNew));
        }
        find_live_system(self.store, &change.system_id).await?.ok_or_else(|| problem(AuthCode::SystemIdNotFound))?;
        let system_user: SystemUserRow = match self.store.system_user(&change.system_user_id).await? {
            Some(su) if su.is_deleted == 0 && su.owner_party_id == party.party_id => su,
            _ => return Err(problem(AuthCode::SystemUserNotFound)),
        };
        let add = self.delegation_for(person, &party, &change.required_rights, &change.required_access_packages).await?;
        let unwanted_packages: Vec<String> = change
            .unwanted_access_packages
            .iter()
            .filter_map(|p| self.catalogue.package_by_urn(&p.urn).map(|p| p.id.clone()))
            .collect();
        let unwanted_resources: Vec<String> = change.unwanted_rights.iter().filter_map(resource_of).collect();
        let held = self.store.grants_from(party.party_id, &system_user.id).await?;
        let now = clock::now();
        let by = format!("user_id:{}", person.party_id);
        let mut tx = self.store.begin_write().await?;
        if !tx.answer_change_request(id, "Accepted", &format!("userId:{}", person.party_id), now).await? {
            return Err(problem(AuthCode::RequestStatusNotNew));
        }
        add.write(&mut tx, &party, &system_user.id, now).await?;
        for g in &held {
            if g.role_code != RIGHTHOLDER {
                continue;
            }
            if let Some(p) = g.package_id.as_deref().filter(|p| unwanted_packages.iter().any(|u| u == p)) {
                tx.remove_assignment_package(&g.assignment_id, p).await?;
            }
            if let (Some(r), Some(a)) = (&g.resource_id, &g.action) {
                if unwanted_resources.contains(r) {
                    tx.remove_assignment_right(&g.assignment_id, r, a).await?;
                }
            }
        }
        if !tx.change_system_user(&system_user.id, &by, now, false).await? {
            return Err(problem(AuthCode::SystemUserNotFound));
        }
        tx.commit().await?;
        Ok(())
    }

    /// `POST systemuser/changerequest/{party}/{requestId}/reject` (AMW).
    pub async fn reject_change(&self, person: &PartyRow, party_id: i64, id: &str) -> Result<(), AuthError> {
        self.require(person, party_id, Gate::AccessManagementWrite).await?;
        let party = self.party(party_id).await?;
        let change = view(self.change_request_of(&party, id).await?, self.settings, clock::now())?;
        if change.status != "New" {
            return Err(problem(AuthCode::RequestStatusNotNew));
        }
        let mut tx = self.store.begin_write().await?;
        if !tx.answer_change_request(id, "Rejected", &format!("userId:{}", person.party_id), clock::now()).await? {
            return Err(problem(AuthCode::RequestStatusNotNew));
        }
        tx.commit().await?;
        Ok(())
    }
}
