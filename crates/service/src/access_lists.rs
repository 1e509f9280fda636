//! Access lists (registry-delegation-ui.md §1.5): a service owner (by org code) keeps lists of
//! organisations and connects them to its resources; a resource in access-list mode permits
//! only parties on a connected list. Reads need `altinn:resourceregistry/accesslist.read`,
//! writes `…/accesslist.write`, and the org code must belong to the caller's organisation.

use fullmakt_store::{AccessListRow, PartyKey, PartyRow, Store};
use serde::Serialize;

use crate::admin::{AdminError, Caller};
use crate::clock;
use crate::resource_registry::RESOURCE_ADMIN;

pub const ACCESS_LIST_READ: &str = "altinn:resourceregistry/accesslist.read";
pub const ACCESS_LIST_WRITE: &str = "altinn:resourceregistry/accesslist.write";
/// The most members one request may add, remove or replace, as in the reference.
pub const MAX_MEMBERS_PER_REQUEST: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccessListView {
    pub urn: String,
    pub identifier: String,
    pub name: String,
    pub description: String,
    pub created_at: String,
    pub updated_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_connections: Option<Vec<ConnectionView>>,
    /// The aggregate version, sent as the ETag.
    #[serde(skip)]
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionView {
    pub resource_identifier: String,
    pub action_filters: Option<Vec<String>>,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MemberView {
    /// `urn:altinn:party:uuid:{uuid}`.
    pub id: String,
    pub since: String,
    pub identifiers: MemberIdentifiers,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct MemberIdentifiers {
    #[serde(rename = "urn:altinn:party:uuid")]
    pub party_uuid: String,
    #[serde(rename = "urn:altinn:party:id")]
    pub party_id: i64,
    #[serde(rename = "urn:altinn:organization:identifier-no", skip_serializing_if = "Option::is_none")]
    pub organization_number: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MembershipView {
    pub party: String,
    pub resource: String,
    pub since: String,
    pub action_filters: Option<Vec<String>>,
}

/// The caller may act for `owner_code` when the code is bound to its organisation.
async fn check_owner(store: &Store, caller: &Caller, owner_code: &str, write: bool) -> Result<String, AdminError> {
    let scopes: &[&str] = if write { &[ACCESS_LIST_WRITE, RESOURCE_ADMIN] } else { &[ACCESS_LIST_READ, ACCESS_LIST_WRITE, RESOURCE_ADMIN] };
    caller.require_any(scopes)?;
    let code = owner_code.to_lowercase();
    if caller.scopes.iter().any(|s| s == RESOURCE_ADMIN) {
        return Ok(code);
    }
    match store.service_owner(&code).await? {
        Some(owner) if owner.orgno.as_deref() == Some(caller.org.to_string().as_str()) => Ok(code),
        _ => Err(AdminError::Forbidden(format!("the org code {owner_code} does not belong to the organisation behind the token"))),
    }
}

fn is_valid_identifier(id: &str) -> bool {
    !id.is_empty() && id.len() <= 255 && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

async fn list_view(store: &Store, row: &AccessListRow, with_connections: bool) -> Result<AccessListView, AdminError> {
    let resource_connections = if with_connections {
        Some(store.access_list_connections(&row.id).await?.into_iter().map(connection_view).collect())
    } else {
        None
    };
    Ok(AccessListView {
        urn: format!("urn:altinn:access-list:{}:{}", row.owner_code, row.identifier),
        identifier: row.identifier.clone(),
        name: row.name.clone(),
        description: row.description.clone(),
        created_at: clock::rfc3339(row.created),
        updated_at: clock::rfc3339(row.updated),
        resource_connections,
        version: row.version,
    })
}

fn connection_view(c: fullmakt_store::AccessListConnectionRow) -> ConnectionView {
    ConnectionView {
        resource_identifier: c.resource_id,
        action_filters: c.action_filters.and_then(|f| serde_json::from_str(&f).ok()),
        created_at: clock::rfc3339(c.created),
        updated_at: clock::rfc3339(c.updated),
    }
}

async fn existing(store: &Store, owner: &str, identifier: &str) -> Result<AccessListRow, AdminError> {
    store
        .access_list(owner, identifier)
        .await?
        .ok_or_else(|| AdminError::NotFound(format!("no access list {identifier} for {owner}")))
}

/// A write guarded by `If-Match`: the list's current version must be the one the caller saw.
fn check_version(row: Option<&AccessListRow>, if_match: Option<i64>) -> Result<(), AdminError> {
    match (if_match, row) {
        (Some(v), Some(row)) if row.version != v => Err(AdminError::PreconditionFailed(format!(
            "the access list has changed (version {} is not {v})",
            row.version
        ))),
        (Some(_), None) => Err(AdminError::PreconditionFailed("the access list does not exist".into())),
        _ => Ok(()),
    }
}

pub async fn lists_of_owner(store: &Store, caller: &Caller, owner: &str) -> Result<Vec<AccessListView>, AdminError> {
    let owner = check_owner(store, caller, owner, false).await?;
    let mut out = Vec::new();
    for row in store.access_lists_of(&owner).await? {
        out.push(list_view(store, &row, false).await?);
    }
    Ok(out)
}

pub async fn get_list(store: &Store, caller: &Caller, owner: &str, identifier: &str, with_connections: bool) -> Result<AccessListView, AdminError> {
    let owner = check_owner(store, caller, owner, false).await?;
    list_view(store, &existing(store, &owner, identifier).await?, with_connections).await
}

pub async fn upsert_list(
    store: &Store,
    caller: &Caller,
    owner: &str,
    identifier: &str,
    name: &str,
    description: &str,
    if_match: Option<i64>,
) -> Result<AccessListView, AdminError> {
    let owner = check_owner(store, caller, owner, true).await?;
    if !is_valid_identifier(identifier) {
        return Err(AdminError::BadRequest("an access list identifier has only a-z, 0-9, - and _".into()));
    }
    if name.trim().is_empty() || name.len() > 255 || description.len() > 2000 {
        return Err(AdminError::BadRequest("an access list needs a name (at most 255 characters) and a description of at most 2000".into()));
    }
    check_version(store.access_list(&owner, identifier).await?.as_ref(), if_match)?;
    let mut tx = store.begin_write().await?;
    tx.upsert_access_list(&owner, identifier, name.trim(), description, clock::now()).await?;
    tx.commit().await?;
    list_view(store, &existing(store, &owner, identifier).await?, false).await
}

/// Deletes a list; `None` when there was none (the reference answers 204 then).
pub async fn delete_list(store: &Store, caller: &Caller, owner: &str, identifier: &str, if_match: Option<i64>) -> Result<Option<AccessListView>, AdminError> {
    let owner = check_owner(store, caller, owner, true).await?;
    let Some(row) = store.access_list(&owner, identifier).await? else { return Ok(None) };
    check_version(Some(&row), if_match)?;
    let view = list_view(store, &row, false).await?;
    let mut tx = store.begin_write().await?;
    tx.delete_access_list(&row.id).await?;
    tx.commit().await?;
    Ok(Some(view))
}

/// Resolves a member URN: `urn:altinn:party:uuid:…`, `urn:altinn:party:id:…` or
/// `urn:altinn:organization:identifier-no:…`. Members are organisations.
async fn member(store: &Store, urn: &str) -> Result<PartyRow, AdminError> {
    let bad = || AdminError::BadRequest(format!("{urn} is not a party URN (urn:altinn:party:uuid:…, urn:altinn:party:id:… or urn:altinn:organization:identifier-no:…)"));
    let party = if let Some(uuid) = urn.strip_prefix("urn:altinn:party:uuid:") {
        let uuid = uuid::Uuid::parse_str(uuid).map_err(|_| bad())?.to_string();
        store.find_party(PartyKey::Uuid(&uuid)).await?
    } else if let Some(id) = urn.strip_prefix("urn:altinn:party:id:") {
        store.find_party(PartyKey::Id(id.parse().map_err(|_| bad())?)).await?
    } else if let Some(orgno) = urn.strip_prefix("urn:altinn:organization:identifier-no:") {
        fullmakt_domain::OrganisationNumber::parse(orgno).map_err(|e| AdminError::BadRequest(format!("{urn}: {e}")))?;
        store.find_party(PartyKey::OrgNumber(orgno)).await?
    } else {
        return Err(bad());
    };
    match party {
        Some(p) if p.party_type == "organization" => Ok(p),
        Some(_) => Err(AdminError::BadRequest(format!("{urn} is not an organisation; access lists hold organisations"))),
        None => Err(AdminError::NotFound(format!("no party {urn} in the register"))),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberChange {
    Add,
    Remove,
    Replace,
}

pub async fn members(store: &Store, caller: &Caller, owner: &str, identifier: &str) -> Result<(Vec<MemberView>, i64), AdminError> {
    let owner = check_owner(store, caller, owner, false).await?;
    let list = existing(store, &owner, identifier).await?;
    member_views(store, &list).await
}

async fn member_views(store: &Store, list: &AccessListRow) -> Result<(Vec<MemberView>, i64), AdminError> {
    let mut out = Vec::new();
    for m in store.access_list_members(&list.id).await? {
        let party = store.find_party(PartyKey::Id(m.party_id)).await?;
        out.push(MemberView {
            id: format!("urn:altinn:party:uuid:{}", m.party_uuid),
            since: clock::rfc3339(m.since),
            identifiers: MemberIdentifiers {
                party_uuid: m.party_uuid,
                party_id: m.party_id,
                organization_number: party.and_then(|p| p.org_number),
            },
        });
    }
    Ok((out, list.version))
}

/// Adds, removes or replaces members, all or none; returns the members after the change.
pub async fn change_members(
    store: &Store,
    caller: &Caller,
    owner: &str,
    identifier: &str,
    change: MemberChange,
    urns: &[String],
    if_match: Option<i64>,
) -> Result<(Vec<MemberView>, i64), AdminError> {
    let owner = check_owner(store, caller, owner, true).await?;
    if urns.len() > MAX_MEMBERS_PER_REQUEST {
        return Err(AdminError::BadRequest(format!("at most {MAX_MEMBERS_PER_REQUEST} members per request")));
    }
    let list = existing(store, &owner, identifier).await?;
    check_version(Some(&list), if_match)?;
    let mut parties = Vec::with_capacity(urns.len());
    for urn in urns {
        parties.push(member(store, urn).await?);
    }
    let now = clock::now();
    let mut tx = store.begin_write().await?;
    if change == MemberChange::Replace {
        tx.clear_access_list_members(&list.id).await?;
    }
    for p in &parties {
        match change {
            MemberChange::Add | MemberChange::Replace => tx.add_access_list_member(&list.id, p.party_id, now).await?,
            MemberChange::Remove => tx.remove_access_list_member(&list.id, p.party_id).await?,
        }
    }
    tx.touch_access_list(&list.id, now).await?;
    tx.commit().await?;
    member_views(store, &existing(store, &owner, identifier).await?).await
}

pub async fn connections(store: &Store, caller: &Caller, owner: &str, identifier: &str) -> Result<Vec<ConnectionView>, AdminError> {
    let owner = check_owner(store, caller, owner, false).await?;
    let list = existing(store, &owner, identifier).await?;
    Ok(store.access_list_connections(&list.id).await?.into_iter().map(connection_view).collect())
}

/// Connects a list to one of the owner's resources, for `action_filters` (None: every action).
pub async fn connect(
    store: &Store,
    caller: &Caller,
    owner: &str,
    identifier: &str,
    resource_id: &str,
    action_filters: Option<Vec<String>>,
    if_match: Option<i64>,
) -> Result<ConnectionView, AdminError> {
    let owner = check_owner(store, caller, owner, true).await?;
    let list = existing(store, &owner, identifier).await?;
    check_version(Some(&list), if_match)?;
    let resource = crate::resource_registry::live_resource(store, resource_id).await?;
    if resource.owner_code.as_deref() != Some(owner.as_str()) {
        return Err(AdminError::Forbidden(format!("resource {resource_id} does not belong to {owner}")));
    }
    if let Some(filters) = &action_filters {
        if filters.iter().any(|a| a.trim().is_empty()) {
            return Err(AdminError::BadRequest("an action filter cannot be empty".into()));
        }
    }
    let filters = action_filters.as_ref().map(|f| serde_json::to_string(f).unwrap_or_default());
    let now = clock::now();
    let mut tx = store.begin_write().await?;
    tx.upsert_access_list_connection(&list.id, resource_id, filters.as_deref(), now).await?;
    tx.touch_access_list(&list.id, now).await?;
    tx.commit().await?;
    store
        .access_list_connections(&list.id)
        .await?
        .into_iter()
        .find(|c| c.resource_id == resource_id)
        .map(connection_view)
        .ok_or(AdminError::Internal)
}

pub async fn disconnect(store: &Store, caller: &Caller, owner: &str, identifier: &str, resource_id: &str, if_match: Option<i64>) -> Result<(), AdminError> {
    let owner = check_owner(store, caller, owner, true).await?;
    let list = existing(store, &owner, identifier).await?;
    check_version(Some(&list), if_match)?;
    let mut tx = store.begin_write().await?;
    if !tx.delete_access_list_connection(&list.id, resource_id).await? {
        return Err(AdminError::NotFound(format!("access list {identifier} is not connected to {resource_id}")));
    }
    tx.touch_access_list(&list.id, clock::now()).await?;
    tx.commit().await?;
    Ok(())
}

/// The access-list gate of a Permit (pdp.md §0 step 5): may `party` use `action` on the resource?
/// `Ok(None)` when it may, `Ok(Some(reason))` when the Permit must become Deny.
/// `party` is (party id, is an organisation).
pub async fn gate(store: &Store, resource_id: &str, party: Option<(i64, bool)>, action: &[String]) -> Result<Option<String>, fullmakt_store::StoreError> {
    let Some((party_id, _)) = party.filter(|(_, is_org)| *is_org) else {
        return Ok(Some("the resource is limited by access lists and the party is not an organisation".into()));
    };
    for m in store.access_list_memberships(party_id, resource_id).await? {
        let filters: Option<Vec<String>> = m.action_filters.and_then(|f| serde_json::from_str(&f).ok());
        match filters {
            None => return Ok(None),
            Some(f) if action.iter().any(|a| f.iter().any(|x| x == a)) => return Ok(None),
            Some(_) => {}
        }
    }
    Ok(Some("the party is not on an access list that gives this action on the resource".into()))
}

/// `GET access-lists/memberships?party=&resource=`.
pub async fn memberships(store: &Store, caller: &Caller, party_urn: &str, resource_id: &str) -> Result<Vec<MembershipView>, AdminError> {
    caller.require_any(&[ACCESS_LIST_READ, ACCESS_LIST_WRITE, RESOURCE_ADMIN, "altinn:resourceregistry/pdp:accesslist.read"])?;
    let resource_id = resource_id.strip_prefix("urn:altinn:resource:").unwrap_or(resource_id);
    let party = member(store, party_urn).await?;
    Ok(store
        .access_list_memberships(party.party_id, resource_id)
        .await?
        .into_iter()
        .map(|m| MembershipView {
            party: format!("urn:altinn:party:uuid:{}", party.party_uuid),
            resource: format!("urn:altinn:resource:{resource_id}"),
            since: clock::rfc3339(m.since),
            action_filters: m.action_filters.and_then(|f| serde_json::from_str(&f).ok()),
        })
        .collect())
}
