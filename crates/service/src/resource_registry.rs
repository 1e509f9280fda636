//! The resource registry (registry-delegation-ui.md §1): service owners describe their
//! services as resources and attach XACML policies; everyone may read them.
//!
//! Writes need `altinn:resourceregistry/resource.write` and ownership: the caller's
//! organisation must be the resource's competent authority, before and after the write.
//! `…/resource.admin` may write any resource. The CLI writes as the operator (no caller).

use fullmakt_domain::resource::{ReferenceType, ResourceType, ServiceResource, ValidationErrors, WriteKind};
use fullmakt_store::{ResourceRow, Store};
use serde::Deserialize;

use crate::admin::{AdminError, Caller};
use crate::clock;

pub const RESOURCE_WRITE: &str = "altinn:resourceregistry/resource.write";
pub const RESOURCE_ADMIN: &str = "altinn:resourceregistry/resource.admin";

/// Who writes: an API caller (checked) or the operator at the CLI (trusted).
#[derive(Debug, Clone, Copy)]
pub enum Writer<'a> {
    Api(&'a Caller),
    Operator,
}

impl Writer<'_> {
    fn require_write_scope(&self) -> Result<(), AdminError> {
        match self {
            Writer::Api(c) => c.require_any(&[RESOURCE_WRITE, RESOURCE_ADMIN]),
            Writer::Operator => Ok(()),
        }
    }

    fn is_admin(&self) -> bool {
        match self {
            Writer::Api(c) => c.scopes.iter().any(|s| s == RESOURCE_ADMIN),
            Writer::Operator => true,
        }
    }

    /// The caller may write resources whose competent authority is its own organisation.
    fn require_owner(&self, owner_orgno: Option<&str>) -> Result<(), AdminError> {
        match self {
            _ if self.is_admin() => Ok(()),
            Writer::Api(c) if owner_orgno == Some(c.org.to_string().as_str()) => Ok(()),
            _ => Err(AdminError::Forbidden(
                "the resource's competent authority is not the organisation behind the token".into(),
            )),
        }
    }
}

fn invalid(field: &str, message: impl Into<String>) -> AdminError {
    let mut e = ValidationErrors::default();
    e.add(field, message);
    AdminError::Invalid(e)
}

/// The resource as stored, with the fields the registry computes on read.
fn view(body: &str, version_id: i64) -> Result<ServiceResource, AdminError> {
    let mut r: ServiceResource = serde_json::from_str(body).map_err(AdminError::internal)?;
    r.authorization_reference = Some(r.authorization_attributes());
    r.version_id = Some(version_id);
    Ok(r)
}

fn row_view(row: &ResourceRow) -> Result<ServiceResource, AdminError> {
    view(&row.body, row.version_id)
}

/// The body we store: what the writer sent, minus the computed fields.
fn stored_body(r: &ServiceResource) -> Result<String, AdminError> {
    let mut r = r.clone();
    r.authorization_reference = None;
    r.version_id = None;
    serde_json::to_string(&r).map_err(AdminError::internal)
}

/// A MaskinportenSchema resource (or any resource referring to Maskinporten scopes) may only
/// name scopes under prefixes its writer owns, so no one publishes another owner's API.
async fn check_scope_references(store: &Store, writer: Writer<'_>, r: &ServiceResource) -> Result<(), AdminError> {
    let Writer::Api(caller) = writer else { return Ok(()) };
    if writer.is_admin() {
        return Ok(());
    }
    let mut forbidden = Vec::new();
    for scope in r.references_of(ReferenceType::MaskinportenScope) {
        let prefix = scope.split_once(':').map(|(p, _)| p).unwrap_or(scope);
        let owner = store.scope_prefix_owner(prefix).await?;
        if owner.as_deref() != Some(caller.org.to_string().as_str()) {
            forbidden.push(scope.to_owned());
        }
    }
    if forbidden.is_empty() {
        Ok(())
    } else {
        Err(AdminError::Forbidden(format!(
            "the organisation behind the token does not own the prefix of these Maskinporten scopes: {}",
            forbidden.join(", ")
        )))
    }
}

async fn check_write(store: &Store, writer: Writer<'_>, r: &ServiceResource, kind: WriteKind) -> Result<(), AdminError> {
    writer.require_write_scope()?;
    r.validate(kind).map_err(AdminError::Invalid)?;
    writer.require_owner(r.owner_organisation())?;
    check_scope_references(store, writer, r).await
}

/// Binds the resource's org code to its organisation number, or refuses a code that
/// belongs to another organisation.
async fn bind_owner_code(tx: &mut fullmakt_store::WriteTx, r: &ServiceResource, now: i64) -> Result<(), AdminError> {
    let Some(code) = r.owner_code() else { return Ok(()) };
    let orgno = r.owner_organisation();
    let bound = tx.bind_service_owner(code, orgno, now).await?;
    if bound.orgno.as_deref() != orgno {
        return Err(invalid(
            "HasCompetentAuthority.Orgcode",
            format!("The org code {code} belongs to another organisation"),
        ));
    }
    Ok(())
}

pub async fn create_resource(store: &Store, writer: Writer<'_>, r: &ServiceResource) -> Result<ServiceResource, AdminError> {
    check_write(store, writer, r, WriteKind::Create).await?;
    let now = clock::now();
    let mut tx = store.begin_write().await?;
    bind_owner_code(&mut tx, r, now).await?;
    let row = ResourceRow {
        identifier: r.identifier().to_owned(),
        owner_orgno: r.owner_organisation().map(str::to_owned),
        owner_code: r.owner_code().map(str::to_lowercase),
        resource_type: r.resource_type.name().to_owned(),
        version_id: tx.sequence(),
        body: stored_body(r)?,
        policy_xml: None,
        policy_version: None,
        created: now,
        modified: now,
        deleted: 0,
    };
    tx.insert_resource(&row).await.map_err(|e| match e {
        fullmakt_store::StoreError::Conflict => AdminError::Conflict(format!("The Resource already exist: {}", row.identifier)),
        other => other.into(),
    })?;
    tx.commit().await?;
    row_view(&row)
}

pub async fn update_resource(
    store: &Store,
    writer: Writer<'_>,
    identifier: &str,
    r: &ServiceResource,
) -> Result<ServiceResource, AdminError> {
    writer.require_write_scope()?;
    let current = live_resource(store, identifier).await?;
    if r.identifier() != identifier {
        return Err(AdminError::BadRequest("Id in path does not match ID in resource".into()));
    }
    // Owning the new document is not enough: the caller must own the resource it replaces.
    writer.require_owner(current.owner_orgno.as_deref())?;
    check_write(store, writer, r, WriteKind::Update).await?;
    let now = clock::now();
    let mut tx = store.begin_write().await?;
    bind_owner_code(&mut tx, r, now).await?;
    let row = ResourceRow {
        owner_orgno: r.owner_organisation().map(str::to_owned),
        owner_code: r.owner_code().map(str::to_lowercase),
        resource_type: r.resource_type.name().to_owned(),
        version_id: tx.sequence(),
        body: stored_body(r)?,
        modified: now,
        ..current
    };
    tx.update_resource(&row).await?;
    tx.commit().await?;
    row_view(&row)
}

pub async fn delete_resource(store: &Store, writer: Writer<'_>, identifier: &str) -> Result<(), AdminError> {
    writer.require_write_scope()?;
    let current = live_resource(store, identifier).await?;
    writer.require_owner(current.owner_orgno.as_deref())?;
    let mut tx = store.begin_write().await?;
    tx.delete_resource(identifier, clock::now()).await?;
    tx.commit().await?;
    Ok(())
}

/// A resource that exists and is not deleted.
pub async fn live_resource(store: &Store, identifier: &str) -> Result<ResourceRow, AdminError> {
    match store.resource(identifier).await? {
        Some(row) if row.deleted == 0 => Ok(row),
        _ => Err(AdminError::NotFound(format!("no resource with identifier {identifier}"))),
    }
}

/// `GET resource/{id}?versionId=`: the current version, or the one asked for.
pub async fn get_resource(store: &Store, identifier: &str, version_id: Option<i64>) -> Result<ServiceResource, AdminError> {
    let row = live_resource(store, identifier).await?;
    match version_id {
        None => row_view(&row),
        Some(v) => {
            let body = store
                .resource_version(identifier, v)
                .await?
                .ok_or_else(|| AdminError::NotFound(format!("resource {identifier} has no version {v}")))?;
            view(&body, v)
        }
    }
}

/// `GET resourcelist`: every current resource; apps by default, migrated apps on request.
pub async fn resource_list(store: &Store, include_apps: bool, include_migrated_apps: bool) -> Result<Vec<ServiceResource>, AdminError> {
    let rows = store.current_resources().await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let r = row_view(row)?;
        let keep = match r.resource_type {
            ResourceType::AltinnApp => include_apps,
            ResourceType::MigratedApp => include_migrated_apps,
            _ => true,
        };
        if keep {
            out.push(r);
        }
    }
    Ok(out)
}

/// `GET Search`: each given criterion must match (case-insensitive substring).
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(default)]
pub struct ResourceSearch {
    #[serde(alias = "Id", alias = "ID")]
    pub id: Option<String>,
    #[serde(alias = "Title")]
    pub title: Option<String>,
    #[serde(alias = "Description")]
    pub description: Option<String>,
    #[serde(alias = "ResourceType", alias = "resourcetype")]
    pub resource_type: Option<String>,
    #[serde(alias = "Keyword")]
    pub keyword: Option<String>,
    #[serde(alias = "Reference")]
    pub reference: Option<String>,
    #[serde(alias = "OrgCode", alias = "orgcode")]
    pub org_code: Option<String>,
    #[serde(alias = "OrganizationId", alias = "organizationid")]
    pub organization_id: Option<String>,
}

fn contains(haystack: &str, needle: &str) -> bool {
    haystack.to_lowercase().contains(&needle.to_lowercase())
}

fn any_text(texts: Option<&fullmakt_domain::resource::LanguageText>, needle: &str) -> bool {
    texts.is_some_and(|t| t.values().any(|v| contains(v, needle)))
}

impl ResourceSearch {
    fn matches(&self, r: &ServiceResource) -> bool {
        let given = |o: &Option<String>| o.as_deref().filter(|s| !s.is_empty()).map(str::to_owned);
        if let Some(id) = given(&self.id) {
            if !contains(r.identifier(), &id) {
                return false;
            }
        }
        if let Some(t) = given(&self.title) {
            if !any_text(r.title.as_ref(), &t) {
                return false;
            }
        }
        if let Some(d) = given(&self.description) {
            if !any_text(r.description.as_ref(), &d) {
                return false;
            }
        }
        if let Some(k) = given(&self.keyword) {
            if !r.keywords.iter().flatten().filter_map(|k| k.word.as_deref()).any(|w| contains(w, &k)) {
                return false;
            }
        }
        if let Some(reference) = given(&self.reference) {
            if !r.resource_references.iter().flatten().filter_map(|x| x.reference.as_deref()).any(|x| contains(x, &reference)) {
                return false;
            }
        }
        if let Some(code) = given(&self.org_code) {
            if !r.owner_code().is_some_and(|c| c.eq_ignore_ascii_case(&code)) {
                return false;
            }
        }
        if let Some(orgno) = given(&self.organization_id) {
            if r.owner_organisation() != Some(orgno.as_str()) {
                return false;
            }
        }
        true
    }
}

pub async fn search(store: &Store, criteria: &ResourceSearch) -> Result<Vec<ServiceResource>, AdminError> {
    let resource_type = match criteria.resource_type.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(t) => Some(
            ResourceType::parse(t)
                .ok_or_else(|| invalid("ResourceType", format!("The value '{t}' is not valid for ResourceType.")))?,
        ),
    };
    let mut out = Vec::new();
    for row in store.current_resources().await? {
        let r = row_view(&row)?;
        if resource_type.is_none_or(|t| t == r.resource_type) && criteria.matches(&r) {
            out.push(r);
        }
    }
    Ok(out)
}
