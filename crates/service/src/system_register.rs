//! The system register of Altinn Authentication (authentication-api.md §1.1, §3.1): vendors
//! register their systems, the rights and access packages each needs, and the Maskinporten
//! client ids it uses. Writes need `altinn:authentication/systemregister.write` and the
//! caller's organisation must be the system's vendor, or `…/systemregister.admin` (any system).
//!
//! Each write is one transaction that includes its change-log row. Validation collects every
//! `AUTH.VLD` error in the reference's order; a caller without write access gets 403 even when
//! its body also has errors. Ids checked before the transaction are checked again inside it,
//! where writers are serialised by the change sequence, so a race ends in 409 or VLD-04, never
//! in a half-written system.

use std::collections::BTreeMap;

use fullmakt_domain::auth_error::{paths, ValidationCode, ValidationError};
use fullmakt_domain::resource::{ResourceType, ServiceResource};
use fullmakt_domain::system_register::{
    self as rules, access_packages_snapshot, rights_error, rights_snapshot, AccessPackage, RegisterSystemRequest, Right,
    SystemChangeType,
};
use fullmakt_domain::Catalogue;
use fullmakt_store::{Store, StoreError, SystemChangeLogRow, SystemRow, WriteTx};
use serde::Serialize;

use crate::admin::{AdminError, Caller};
use crate::auth_error::{collected, AuthError};
use crate::clock;

pub const SYSTEM_REGISTER_WRITE: &str = "altinn:authentication/systemregister.write";
pub const SYSTEM_REGISTER_ADMIN: &str = "altinn:authentication/systemregister.admin";

/// Who writes: a vendor or administrator through the API (checked), or the operator at the CLI.
#[derive(Debug, Clone, Copy)]
pub enum Actor<'a> {
    Api(&'a Caller),
    Operator,
}

impl Actor<'_> {
    /// The route's scope policy (SRW): write or admin.
    fn require_scope(&self) -> Result<(), AuthError> {
        match self {
            Actor::Api(c) => Ok(c.require_any(&[SYSTEM_REGISTER_WRITE, SYSTEM_REGISTER_ADMIN])?),
            Actor::Operator => Ok(()),
        }
    }

    /// Write access to a system of `vendor_orgno`: the admin scope, or the vendor itself.
    fn require_write_access(&self, vendor_orgno: &str) -> Result<(), AuthError> {
        match self {
            Actor::Operator => Ok(()),
            Actor::Api(c) if c.scopes.iter().any(|s| s == SYSTEM_REGISTER_ADMIN) => Ok(()),
            Actor::Api(c) if c.org.to_string() == vendor_orgno => Ok(()),
            Actor::Api(_) => Err(AdminError::Forbidden("the system belongs to another vendor than the organisation behind the token".into()).into()),
        }
    }

    /// The change log's `changedByOrgNumber` and `clientId`.
    fn change_author(&self) -> (Option<String>, Option<String>) {
        match self {
            Actor::Api(c) => (Some(c.org.to_string()), Some(c.client_id.clone()).filter(|s| !s.is_empty())),
            Actor::Operator => (None, None),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Wire views (§2.1): camelCase, nulls omitted.

/// `{"ID":"0192:<orgno>"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VendorView {
    #[serde(rename = "ID")]
    pub id: String,
}

/// `RegisteredSystemResponse` (GET `vendor/{systemId}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegisteredSystemResponse {
    pub id: String,
    pub vendor: VendorView,
    pub name: BTreeMap<String, String>,
    pub description: BTreeMap<String, String>,
    pub rights: Vec<Right>,
    pub access_packages: Vec<AccessPackage>,
    pub is_deleted: bool,
    pub client_id: Vec<String>,
    pub is_visible: bool,
    pub allowed_redirect_urls: Vec<String>,
}

/// `RegisteredSystemDTO` (the lists and the portal's view).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegisteredSystemDto {
    pub system_id: String,
    pub system_vendor_org_number: String,
    /// Never filled, as in the reference.
    pub system_vendor_org_name: String,
    pub name: BTreeMap<String, String>,
    pub description: BTreeMap<String, String>,
    pub rights: Vec<Right>,
    pub access_packages: Vec<AccessPackage>,
    pub is_visible: bool,
}

/// `SystemChangeLog`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SystemChangeLogView {
    pub system_internal_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changed_by_org_number: Option<String>,
    pub change_type: &'static str,
    /// The snapshot the write stored; `null` for a delete (written, not omitted).
    pub changed_data: serde_json::Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    pub created: String,
}

/// `{"succeeded":true}`, the answer to every successful update and delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct UpdateResult {
    pub succeeded: bool,
}

const SUCCEEDED: UpdateResult = UpdateResult { succeeded: true };

/// A stored system, decoded: what requests, approval and system users work with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisteredSystem {
    pub internal_id: String,
    pub system_id: String,
    /// Bare organisation number.
    pub vendor_orgno: String,
    pub name: BTreeMap<String, String>,
    pub description: BTreeMap<String, String>,
    pub rights: Vec<Right>,
    pub access_packages: Vec<AccessPackage>,
    pub client_ids: Vec<String>,
    pub is_visible: bool,
    pub is_deleted: bool,
    pub allowed_redirect_urls: Vec<String>,
    pub created: i64,
    pub last_changed: i64,
}

impl RegisteredSystem {
    pub fn response(&self) -> RegisteredSystemResponse {
        RegisteredSystemResponse {
            id: self.system_id.clone(),
            vendor: VendorView { id: format!("0192:{}", self.vendor_orgno) },
            name: self.name.clone(),
            description: self.description.clone(),
            rights: self.rights.clone(),
            access_packages: self.access_packages.clone(),
            is_deleted: self.is_deleted,
            client_id: self.client_ids.clone(),
            is_visible: self.is_visible,
            allowed_redirect_urls: self.allowed_redirect_urls.clone(),
        }
    }

    pub fn dto(&self) -> RegisteredSystemDto {
        RegisteredSystemDto {
            system_id: self.system_id.clone(),
            system_vendor_org_number: self.vendor_orgno.clone(),
            system_vendor_org_name: String::new(),
            name: self.name.clone(),
            description: self.description.clone(),
            rights: self.rights.clone(),
            access_packages: self.access_packages.clone(),
            is_visible: self.is_visible,
        }
    }
}

fn json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, AuthError> {
    // Written by this module only; a failure means the row was changed behind our back.
    serde_json::from_str(text).map_err(|e| AuthError::Admin(AdminError::internal(e)))
}

fn to_json<T: Serialize>(value: &T) -> Result<String, AuthError> {
    serde_json::to_string(value).map_err(|e| AuthError::Admin(AdminError::internal(e)))
}

fn decode(row: SystemRow, client_ids: Vec<String>) -> Result<RegisteredSystem, AuthError> {
    Ok(RegisteredSystem {
        name: json(&row.name)?,
        description: json(&row.description)?,
        rights: json(&row.rights)?,
        access_packages: json(&row.access_packages)?,
        allowed_redirect_urls: json(&row.allowed_redirect_urls)?,
        is_visible: row.visible(),
        is_deleted: row.deleted(),
        internal_id: row.internal_id,
        system_id: row.system_id,
        vendor_orgno: row.vendor_orgno,
        created: row.created,
        last_changed: row.last_changed,
        client_ids,
    })
}

async fn load(store: &Store, row: SystemRow) -> Result<RegisteredSystem, AuthError> {
    let client_ids = store.system_client_ids(&row.internal_id).await?;
    decode(row, client_ids)
}

// ---------------------------------------------------------------------------------------------
// Lookups for the rest of Authentication and the token service.

/// A system by id, deleted or not.
pub async fn find_system(store: &Store, system_id: &str) -> Result<Option<RegisteredSystem>, AuthError> {
    match store.system(system_id).await? {
        Some(row) => Ok(Some(load(store, row).await?)),
        None => Ok(None),
    }
}

/// A system that is not deleted, by id.
pub async fn find_live_system(store: &Store, system_id: &str) -> Result<Option<RegisteredSystem>, AuthError> {
    Ok(find_system(store, system_id).await?.filter(|s| !s.is_deleted))
}

/// The system (not deleted) whose client ids include `client_id`, letter case ignored.
pub async fn find_live_system_by_client_id(store: &Store, client_id: &str) -> Result<Option<RegisteredSystem>, AuthError> {
    match store.live_system_by_client_id(client_id).await? {
        Some(row) => Ok(Some(load(store, row).await?)),
        None => Ok(None),
    }
}

// ---------------------------------------------------------------------------------------------
// Validation shared by create and the updates.

/// VLD-09, VLD-03, VLD-17 and VLD-06 for a list of rights, in that order. A resource must
/// exist in fullmakt's resource registry (not deleted), be of a type that may be delegated,
/// and not be marked non-delegable.
pub async fn check_rights(store: &Store, rights: &[Right]) -> Result<Vec<ValidationError>, AuthError> {
    let (invalid_format, lookup) = rules::partition_right_resources(rights);
    let mut not_found = Vec::new();
    let mut not_delegable = Vec::new();
    for id in lookup {
        match store.resource(&id).await? {
            Some(row) if row.deleted == 0 => {
                let delegable_type = ResourceType::parse(&row.resource_type).is_some_and(rules::is_delegable_resource_type);
                let marked_delegable = serde_json::from_str::<ServiceResource>(&row.body).map(|r| r.delegable).unwrap_or(true);
                if !(delegable_type && marked_delegable) {
                    not_delegable.push(id);
                }
            }
            _ => not_found.push(id),
        }
    }
    let mut errors = Vec::new();
    if !invalid_format.is_empty() {
        errors.push(rights_error(ValidationCode::ResourceIdInvalidFormat, rules::INVALID_RESOURCE_LABEL, &invalid_format));
    }
    if !not_found.is_empty() {
        errors.push(rights_error(ValidationCode::ResourceIdDoesNotExist, rules::NOT_FOUND_RESOURCE_LABEL, &not_found));
    }
    if !not_delegable.is_empty() {
        errors.push(rights_error(ValidationCode::ResourceNotDelegable, rules::NOT_DELEGABLE_RESOURCE_LABEL, &not_delegable));
    }
    if rules::has_duplicate_rights(rights) {
        errors.push(ValidationError::new(ValidationCode::DuplicateRights, paths::RIGHTS));
    }
    Ok(errors)
}

/// VLD-04 when any of `client_ids` belongs to a system other than `own_internal_id`.
async fn check_client_ids_free(tx: &mut WriteTx, client_ids: &[String], own_internal_id: Option<&str>) -> Result<Option<ValidationError>, AuthError> {
    let owners = tx.system_client_owners(client_ids).await?;
    let taken = owners.iter().any(|o| Some(o.system_internal_id.as_str()) != own_internal_id);
    Ok(taken.then(|| ValidationError::new(ValidationCode::ClientIdExists, paths::CLIENT_ID)))
}

/// Model-level checks the reference leaves to its database (a 500 there): `name` and
/// `description` need `en`, `nb` and `nn`. Answered as ASP.NET's model validation would.
fn check_languages(request: &RegisterSystemRequest) -> Result<(), AuthError> {
    let missing = request.missing_languages();
    if missing.is_empty() {
        return Ok(());
    }
    let mut e = fullmakt_domain::resource::ValidationErrors::default();
    for (field, message) in missing {
        e.add(field, message);
    }
    Err(AdminError::Invalid(e).into())
}

/// The change-log snapshot of a whole system (create, update): PascalCase, as the reference
/// serialises its request model.
fn system_snapshot(request: &RegisterSystemRequest, redirect_urls: &[String]) -> serde_json::Value {
    serde_json::json!({
        "Id": request.id,
        "Vendor": {"ID": request.vendor.id},
        "Name": request.name,
        "Description": request.description,
        "Rights": rights_snapshot(&request.rights),
        "AccessPackages": access_packages_snapshot(&request.access_packages),
        "ClientId": request.client_id,
        "IsVisible": request.is_visible,
        "AllowedRedirectUrls": redirect_urls,
    })
}

async fn log_change(
    tx: &mut WriteTx,
    actor: Actor<'_>,
    internal_id: &str,
    change: SystemChangeType,
    data: &serde_json::Value,
    now: i64,
) -> Result<(), AuthError> {
    let (org, client_id) = actor.change_author();
    tx.insert_system_change(internal_id, org.as_deref(), change.stored_name(), &data.to_string(), client_id.as_deref(), now).await?;
    Ok(())
}

fn already_exists(id: &str) -> AuthError {
    AuthError::text(409, format!("The System already exist: {id}"))
}

fn not_found_text(id: &str) -> AuthError {
    AuthError::text(404, format!("System with ID '{id}' not found."))
}

fn deleted_text() -> AuthError {
    AuthError::text(400, "Cannot update a system marked as deleted.")
}

// ---------------------------------------------------------------------------------------------
// Writes.

/// POST `systemregister/vendor`: registers a system; returns its internal id.
///
/// Order (§3.1): scope → languages → VLD-00 alone → collect {VLD-13, VLD-01, VLD-02, VLD-05,
/// VLD-11, VLD-04, rights, packages} → write access (403 wins) → 400 with every error → insert.
pub async fn create_system(store: &Store, actor: Actor<'_>, request: &RegisterSystemRequest) -> Result<String, AuthError> {
    actor.require_scope()?;
    check_languages(request)?;
    let vendor = rules::vendor_organisation(&request.vendor)?;

    let mut errors = rules::check_system_id(&request.id, vendor);
    if store.system(&request.id).await?.is_some() {
        errors.push(ValidationError::new(ValidationCode::SystemIdExists, paths::SYSTEM_ID));
    }
    let redirect_urls = match rules::normalise_redirect_urls(&request.allowed_redirect_urls) {
        Ok(urls) => urls,
        Err(e) => {
            errors.push(e);
            Vec::new()
        }
    };
    errors.extend(rules::duplicate_client_ids(&request.client_id));
    for id in &request.client_id {
        if store.live_system_by_client_id(id).await?.is_some() {
            errors.push(ValidationError::new(ValidationCode::ClientIdExists, paths::CLIENT_ID));
            break;
        }
    }
    errors.extend(check_rights(store, &request.rights).await?);
    errors.extend(rules::check_access_packages(Catalogue::embedded(), &request.access_packages, request.is_visible));

    actor.require_write_access(&vendor.to_string())?;
    collected(errors)?;

    let now = clock::now();
    let internal_id = uuid::Uuid::new_v4().to_string();
    let row = SystemRow {
        internal_id: internal_id.clone(),
        system_id: request.id.clone(),
        vendor_orgno: vendor.to_string(),
        name: to_json(&request.name)?,
        description: to_json(&request.description)?,
        rights: to_json(&request.rights)?,
        access_packages: to_json(&request.access_packages)?,
        allowed_redirect_urls: to_json(&redirect_urls)?,
        is_visible: i64::from(request.is_visible),
        is_deleted: 0,
        created: now,
        last_changed: now,
    };
    let mut tx = store.begin_write().await?;
    // Checked again under the write lock: another write may have committed since.
    if tx.system(&request.id).await?.is_some() {
        return Err(already_exists(&request.id));
    }
    if let Some(e) = check_client_ids_free(&mut tx, &request.client_id, None).await? {
        return Err(e.into());
    }
    tx.insert_system(&row).await.map_err(|e| match e {
        StoreError::Conflict => already_exists(&request.id),
        other => other.into(),
    })?;
    tx.replace_system_client_ids(&internal_id, &request.client_id, now).await?;
    log_change(&mut tx, actor, &internal_id, SystemChangeType::Create, &system_snapshot(request, &redirect_urls), now).await?;
    tx.commit().await?;
    Ok(internal_id)
}

/// PUT `systemregister/vendor/{systemId}`: replaces a whole system.
///
/// Order (§3.1): scope → languages → unknown id 404 → write access on the stored vendor (403)
/// → body vendor ≠ stored 404 (the same answer, so a guess reveals nothing) → body id ≠ URL id
/// VLD-12 → deleted 400 → collect {rights, packages (proposed isVisible), VLD-11, VLD-04,
/// VLD-05} → write. Redirect URLs are validated here too (the reference leaves them to a
/// database constraint and answers 500).
pub async fn replace_system(store: &Store, actor: Actor<'_>, system_id: &str, request: &RegisterSystemRequest) -> Result<UpdateResult, AuthError> {
    actor.require_scope()?;
    check_languages(request)?;
    let current = store.system(system_id).await?.ok_or_else(|| not_found_text(system_id))?;
    actor.require_write_access(&current.vendor_orgno)?;
    if request.vendor.id != format!("0192:{}", current.vendor_orgno) {
        return Err(not_found_text(system_id));
    }
    if request.id != system_id {
        return Err(ValidationError::new(ValidationCode::SystemIdMismatch, paths::SYSTEM_ID).into());
    }
    if current.deleted() {
        return Err(deleted_text());
    }

    let mut errors = check_rights(store, &request.rights).await?;
    errors.extend(rules::check_access_packages(Catalogue::embedded(), &request.access_packages, request.is_visible));
    errors.extend(rules::duplicate_client_ids(&request.client_id));
    for id in &request.client_id {
        if store.live_system_by_client_id(id).await?.is_some_and(|s| s.internal_id != current.internal_id) {
            errors.push(ValidationError::new(ValidationCode::ClientIdExists, paths::CLIENT_ID));
            break;
        }
    }
    let redirect_urls = match rules::normalise_redirect_urls(&request.allowed_redirect_urls) {
        Ok(urls) => urls,
        Err(e) => {
            errors.push(e);
            Vec::new()
        }
    };
    collected(errors)?;

    let now = clock::now();
    let mut tx = store.begin_write().await?;
    let current = tx.system(system_id).await?.ok_or_else(|| not_found_text(system_id))?;
    if current.deleted() {
        return Err(deleted_text());
    }
    if let Some(e) = check_client_ids_free(&mut tx, &request.client_id, Some(&current.internal_id)).await? {
        return Err(e.into());
    }
    let row = SystemRow {
        name: to_json(&request.name)?,
        description: to_json(&request.description)?,
        rights: to_json(&request.rights)?,
        access_packages: to_json(&request.access_packages)?,
        allowed_redirect_urls: to_json(&redirect_urls)?,
        is_visible: i64::from(request.is_visible),
        last_changed: now,
        ..current
    };
    tx.update_system(&row).await?;
    tx.replace_system_client_ids(&row.internal_id, &request.client_id, now).await?;
    log_change(&mut tx, actor, &row.internal_id, SystemChangeType::Update, &system_snapshot(request, &redirect_urls), now).await?;
    tx.commit().await?;
    Ok(SUCCEEDED)
}

/// The stored system a partial update or delete works on, after the caller checks; `missing`
/// is the answer for an unknown id.
async fn writable_system(store: &Store, actor: Actor<'_>, system_id: &str, missing: fn(&str) -> AuthError) -> Result<SystemRow, AuthError> {
    actor.require_scope()?;
    let current = store.system(system_id).await?.ok_or_else(|| missing(system_id))?;
    actor.require_write_access(&current.vendor_orgno)?;
    Ok(current)
}

/// Opens the write and re-reads the system in it; a system deleted meanwhile is refused.
async fn begin_update(store: &Store, system_id: &str) -> Result<(WriteTx, SystemRow), AuthError> {
    let mut tx = store.begin_write().await?;
    let current = tx.system(system_id).await?.ok_or_else(|| not_found_text(system_id))?;
    if current.deleted() {
        return Err(deleted_text());
    }
    Ok((tx, current))
}

/// PUT `systemregister/vendor/{systemId}/rights`: replaces the rights. An unknown system is 404
/// (the reference answers 500).
pub async fn replace_rights(store: &Store, actor: Actor<'_>, system_id: &str, rights: &[Right]) -> Result<UpdateResult, AuthError> {
    let current = writable_system(store, actor, system_id, not_found_text).await?;
    if current.deleted() {
        return Err(deleted_text());
    }
    collected(check_rights(store, rights).await?)?;
    let now = clock::now();
    let (mut tx, current) = begin_update(store, system_id).await?;
    tx.set_system_rights(&current.internal_id, &to_json(&rights)?, now).await?;
    log_change(&mut tx, actor, &current.internal_id, SystemChangeType::RightsUpdate, &rights_snapshot(rights), now).await?;
    tx.commit().await?;
    Ok(SUCCEEDED)
}

/// PUT `systemregister/vendor/{systemId}/accesspackages`: replaces the access packages; the
/// `isVisible` rule (VLD-18) reads the stored flag. An unknown system is 404.
pub async fn replace_access_packages(
    store: &Store,
    actor: Actor<'_>,
    system_id: &str,
    packages: &[AccessPackage],
) -> Result<UpdateResult, AuthError> {
    let current = writable_system(store, actor, system_id, not_found_text).await?;
    if current.deleted() {
        return Err(deleted_text());
    }
    collected(rules::check_access_packages(Catalogue::embedded(), packages, current.visible()))?;
    let now = clock::now();
    let (mut tx, current) = begin_update(store, system_id).await?;
    // The flag may have changed since the check above; the rule holds for what is stored now.
    collected(rules::check_access_packages(Catalogue::embedded(), packages, current.visible()))?;
    tx.set_system_access_packages(&current.internal_id, &to_json(&packages)?, now).await?;
    log_change(&mut tx, actor, &current.internal_id, SystemChangeType::AccessPackageUpdate, &access_packages_snapshot(packages), now).await?;
    tx.commit().await?;
    Ok(SUCCEEDED)
}

/// DELETE `systemregister/vendor/{systemId}`: marks the system deleted and frees its client
/// ids, so Maskinporten lookups stop matching; its system users stay. A system without client
/// ids is deleted like any other, and deleting a deleted system succeeds without a change (the
/// reference answers 400 to both).
pub async fn delete_system(store: &Store, actor: Actor<'_>, system_id: &str) -> Result<UpdateResult, AuthError> {
    let current = writable_system(store, actor, system_id, |_| AuthError::model_state("return", "System not found")).await?;
    if current.deleted() {
        return Ok(SUCCEEDED);
    }
    let now = clock::now();
    let mut tx = store.begin_write().await?;
    if tx.delete_system(&current.internal_id, now).await? {
        log_change(&mut tx, actor, &current.internal_id, SystemChangeType::Delete, &serde_json::Value::Null, now).await?;
        tx.commit().await?;
    }
    Ok(SUCCEEDED)
}

// ---------------------------------------------------------------------------------------------
// Reads.

/// GET `systemregister/vendor/{systemId}`: the whole system, deleted ones too, for a caller
/// with write access to it.
pub async fn vendor_system(store: &Store, caller: &Caller, system_id: &str) -> Result<RegisteredSystemResponse, AuthError> {
    let actor = Actor::Api(caller);
    actor.require_scope()?;
    let row = store.system(system_id).await?.ok_or_else(|| AdminError::NotFound(format!("no system with id {system_id}")))?;
    actor.require_write_access(&row.vendor_orgno)?;
    Ok(load(store, row).await?.response())
}

/// GET `systemregister/vendor`: the caller's own systems that are not deleted, visible or not.
pub async fn vendor_systems(store: &Store, caller: &Caller) -> Result<Vec<RegisteredSystemDto>, AuthError> {
    Actor::Api(caller).require_scope()?;
    let rows = store.live_systems_of_vendor(&caller.org.to_string()).await?;
    rows.into_iter().map(|r| decode(r, Vec::new()).map(|s| s.dto())).collect()
}

/// GET `systemregister/vendor/{systemId}/changelog`: newest first.
pub async fn change_log(store: &Store, caller: &Caller, system_id: &str) -> Result<Vec<SystemChangeLogView>, AuthError> {
    let actor = Actor::Api(caller);
    let current = writable_system(store, actor, system_id, |id| AuthError::text(404, format!("System with ID {id} not found."))).await?;
    store.system_change_log(&current.internal_id).await?.into_iter().map(change_view).collect()
}

fn change_view(row: SystemChangeLogRow) -> Result<SystemChangeLogView, AuthError> {
    Ok(SystemChangeLogView {
        system_internal_id: row.system_internal_id,
        changed_by_org_number: row.changed_by_orgno,
        change_type: SystemChangeType::from_stored(&row.change_type).wire_name(),
        changed_data: json(&row.changed_data)?,
        client_id: row.client_id,
        created: clock::rfc3339(row.created),
    })
}

/// GET `systemregister` (portal): every system that is neither deleted nor hidden.
pub async fn visible_systems(store: &Store) -> Result<Vec<RegisteredSystemDto>, AuthError> {
    store.visible_systems().await?.into_iter().map(|r| decode(r, Vec::new()).map(|s| s.dto())).collect()
}

/// GET `systemregister/{systemId}` (portal): one system, deleted ones too.
pub async fn system_dto(store: &Store, system_id: &str) -> Result<RegisteredSystemDto, AuthError> {
    let row = store.system(system_id).await?.ok_or_else(|| AdminError::NotFound(format!("no system with id {system_id}")))?;
    Ok(decode(row, Vec::new())?.dto())
}

/// GET `systemregister/{systemId}/rights` (portal): `[]` for an unknown system, as in the
/// reference; with `old_app_format`, apps are named by org and app.
pub async fn system_rights(store: &Store, system_id: &str, old_app_format: bool) -> Result<Vec<Right>, AuthError> {
    let Some(row) = store.system(system_id).await? else { return Ok(Vec::new()) };
    let rights: Vec<Right> = json(&row.rights)?;
    Ok(if old_app_format { rules::rights_in_old_app_format(&rights) } else { rights })
}

/// GET `systemregister/{systemId}/accesspackages` (portal): `[]` for an unknown system.
pub async fn system_access_packages(store: &Store, system_id: &str) -> Result<Vec<AccessPackage>, AuthError> {
    let Some(row) = store.system(system_id).await? else { return Ok(Vec::new()) };
    json(&row.access_packages)
}
