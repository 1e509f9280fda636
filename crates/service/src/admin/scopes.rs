//! Scopes and scope access (maskinporten.md §6.2–§6.3).

use fullmakt_domain::{OrganisationNumber, ScopeName};
use fullmakt_store::{ScopeAccessRow, ScopeRow, Store};
use serde::{Deserialize, Serialize};

use super::{bad_request, AdminError, Caller, SCOPES_WRITE};
use crate::{clock, MAX_ACCESS_TOKEN_LIFETIME};

const VISIBILITIES: [&str; 3] = ["PUBLIC", "PRIVATE", "INTERNAL"];
const INTEGRATION_TYPES: [&str; 6] = ["maskinporten", "idporten", "api_klient", "ansattporten", "krr", "eformidling"];
pub const APPROVED: &str = "APPROVED";
pub const DENIED: &str = "DENIED";

/// A scope as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ScopeView {
    pub name: String,
    pub prefix: String,
    pub subscope: String,
    pub description: String,
    pub long_description: String,
    pub active: bool,
    pub visibility: String,
    pub allowed_integration_types: Vec<String>,
    pub accessible_for_all: bool,
    pub at_max_age: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delegation_source: Option<String>,
    pub token_type: String,
    pub requires_user_consent: bool,
    pub requires_user_authentication: bool,
    pub requires_pseudonymous_tokens: bool,
    pub owner_orgno: String,
    pub created: String,
    pub last_updated: String,
}

impl From<&ScopeRow> for ScopeView {
    fn from(r: &ScopeRow) -> Self {
        Self {
            name: r.name.clone(),
            prefix: r.prefix.clone(),
            subscope: r.subscope.clone(),
            description: r.description.clone(),
            long_description: r.long_description.clone(),
            active: r.active != 0,
            visibility: r.visibility.clone(),
            allowed_integration_types: serde_json::from_str(&r.allowed_integration_types).unwrap_or_default(),
            accessible_for_all: r.accessible_for_all != 0,
            at_max_age: r.at_max_age,
            delegation_source: r.delegation_source.clone(),
            token_type: "SELF_CONTAINED".into(),
            requires_user_consent: r.requires_user_consent != 0,
            requires_user_authentication: false,
            requires_pseudonymous_tokens: false,
            owner_orgno: r.owner_orgno.clone(),
            created: clock::rfc3339(r.created),
            last_updated: clock::rfc3339(r.last_updated),
        }
    }
}

/// What a scope owner sends to create or update a scope. On update, `prefix`, `subscope`
/// and `name` may be left out; given, they must name the scope being updated.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct ScopeInput {
    pub name: Option<String>,
    pub prefix: Option<String>,
    pub subscope: Option<String>,
    pub description: Option<String>,
    pub long_description: Option<String>,
    pub visibility: Option<String>,
    pub allowed_integration_types: Option<Vec<String>>,
    pub accessible_for_all: Option<bool>,
    pub at_max_age: Option<i64>,
    pub delegation_source: Option<String>,
    pub requires_user_consent: Option<bool>,
    pub active: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ScopeAccessView {
    pub scope: String,
    pub state: String,
    pub prefix: String,
    pub consumer_orgno: String,
    pub owner_orgno: String,
    pub created: String,
    pub last_updated: String,
}

fn access_view(a: &ScopeAccessRow, scope: &ScopeRow) -> ScopeAccessView {
    ScopeAccessView {
        scope: a.scope.clone(),
        state: a.state.clone(),
        prefix: scope.prefix.clone(),
        consumer_orgno: a.consumer_orgno.clone(),
        owner_orgno: scope.owner_orgno.clone(),
        created: clock::rfc3339(a.created),
        last_updated: clock::rfc3339(a.last_updated),
    }
}

/// Applies an input's fields onto a row, validating each.
fn apply(input: &ScopeInput, row: &mut ScopeRow) -> Result<(), AdminError> {
    if let Some(d) = &input.description {
        if d.trim().is_empty() || d.len() > 2000 {
            return Err(bad_request("description must be 1 to 2000 characters"));
        }
        row.description = d.clone();
    }
    if let Some(d) = &input.long_description {
        if d.len() > 20_000 {
            return Err(bad_request("long_description is at most 20000 characters"));
        }
        row.long_description = d.clone();
    }
    if let Some(v) = &input.visibility {
        if !VISIBILITIES.contains(&v.as_str()) {
            return Err(bad_request("visibility must be PUBLIC, PRIVATE or INTERNAL"));
        }
        row.visibility = v.clone();
    }
    if let Some(types) = &input.allowed_integration_types {
        if types.is_empty() || types.iter().any(|t| !INTEGRATION_TYPES.contains(&t.as_str())) {
            return Err(bad_request(format!(
                "allowed_integration_types must be a non-empty list of {}",
                INTEGRATION_TYPES.join(", ")
            )));
        }
        row.allowed_integration_types = serde_json::to_string(types).map_err(AdminError::internal)?;
    }
    if let Some(b) = input.accessible_for_all {
        row.accessible_for_all = i64::from(b);
    }
    if let Some(age) = input.at_max_age {
        if !(1..=MAX_ACCESS_TOKEN_LIFETIME).contains(&age) {
            return Err(bad_request(format!("at_max_age must be 1 to {MAX_ACCESS_TOKEN_LIFETIME} seconds")));
        }
        row.at_max_age = age;
    }
    if let Some(src) = &input.delegation_source {
        if !(src.starts_with("https://") || src.starts_with("http://")) {
            return Err(bad_request("delegation_source must be an http(s) URL"));
        }
        row.delegation_source = Some(src.clone());
    }
    if let Some(b) = input.requires_user_consent {
        row.requires_user_consent = i64::from(b);
    }
    if let Some(b) = input.active {
        row.active = i64::from(b);
    }
    Ok(())
}

fn input_name(input: &ScopeInput) -> Result<ScopeName, AdminError> {
    let name = match (&input.prefix, &input.subscope, &input.name) {
        (Some(p), Some(s), name) => {
            let parsed = ScopeName::from_parts(p, s).map_err(|e| bad_request(e.to_string()))?;
            if name.as_ref().is_some_and(|n| n != parsed.as_str()) {
                return Err(bad_request("name must equal prefix:subscope"));
            }
            parsed
        }
        (None, None, Some(n)) => ScopeName::parse(n).map_err(|e| bad_request(e.to_string()))?,
        _ => return Err(bad_request("a scope needs prefix and subscope")),
    };
    Ok(name)
}

/// Creates a scope owned by `owner`. `claim_prefix` lets the operator assign a free prefix
/// to the owner on the way (Digdir assigns prefixes by hand); through the API the prefix must
/// already belong to the caller.
pub async fn create_scope(
    store: &Store,
    owner: OrganisationNumber,
    input: &ScopeInput,
    claim_prefix: bool,
) -> Result<ScopeView, AdminError> {
    let name = input_name(input)?;
    let now = clock::now();
    let mut row = ScopeRow {
        name: name.as_str().to_owned(),
        prefix: name.prefix().to_owned(),
        subscope: name.subscope().to_owned(),
        description: name.as_str().to_owned(),
        long_description: String::new(),
        owner_orgno: owner.to_string(),
        active: 1,
        visibility: "PUBLIC".into(),
        allowed_integration_types: r#"["maskinporten"]"#.into(),
        accessible_for_all: 0,
        at_max_age: MAX_ACCESS_TOKEN_LIFETIME,
        delegation_source: None,
        requires_user_consent: 0,
        created: now,
        last_updated: now,
    };
    if input.description.is_none() && input.prefix.is_some() && !claim_prefix {
        return Err(bad_request("description is required"));
    }
    apply(input, &mut row)?;
    row.active = 1;
    let mut tx = store.begin_write().await?;
    let prefix_owner = if claim_prefix {
        tx.claim_scope_prefix(&row.prefix, &row.owner_orgno).await?
    } else {
        store.scope_prefix_owner(&row.prefix).await?.unwrap_or_default()
    };
    if prefix_owner != row.owner_orgno {
        return Err(AdminError::Forbidden(format!(
            "the prefix {} is not assigned to organisation {}",
            row.prefix, row.owner_orgno
        )));
    }
    tx.insert_scope(&row).await.map_err(|e| match e {
        fullmakt_store::StoreError::Conflict => AdminError::Conflict(format!("the scope {} exists already", row.name)),
        other => other.into(),
    })?;
    tx.commit().await?;
    Ok(ScopeView::from(&row))
}

async fn own_scope(store: &Store, caller: &Caller, name: &str) -> Result<ScopeRow, AdminError> {
    let row = store.scope(name).await?.ok_or_else(|| AdminError::NotFound(format!("no scope named {name}")))?;
    if row.owner_orgno != caller.org.to_string() {
        return Err(AdminError::Forbidden(format!("the scope {name} belongs to another organisation")));
    }
    Ok(row)
}

pub async fn api_create_scope(store: &Store, caller: &Caller, input: &ScopeInput) -> Result<ScopeView, AdminError> {
    caller.require_any(&[SCOPES_WRITE])?;
    create_scope(store, caller.org, input, false).await
}

pub async fn api_list_own_scopes(store: &Store, caller: &Caller, inactive: bool) -> Result<Vec<ScopeView>, AdminError> {
    caller.require_any(&[SCOPES_WRITE])?;
    Ok(store.scopes_of_owner(&caller.org.to_string(), inactive).await?.iter().map(ScopeView::from).collect())
}

pub async fn api_get_scope(store: &Store, caller: &Caller, name: &str) -> Result<ScopeView, AdminError> {
    caller.require_any(&[SCOPES_WRITE])?;
    Ok(ScopeView::from(&own_scope(store, caller, name).await?))
}

pub async fn api_update_scope(store: &Store, caller: &Caller, name: &str, input: &ScopeInput) -> Result<ScopeView, AdminError> {
    caller.require_any(&[SCOPES_WRITE])?;
    let mut row = own_scope(store, caller, name).await?;
    let names_a_scope = input.prefix.is_some() || input.subscope.is_some() || input.name.is_some();
    if names_a_scope && input_name(input)?.as_str() != name {
        return Err(bad_request("a scope's name cannot change"));
    }
    apply(input, &mut row)?;
    row.last_updated = clock::now();
    let mut tx = store.begin_write().await?;
    tx.update_scope(&row).await?;
    tx.commit().await?;
    Ok(ScopeView::from(&row))
}

/// Deleting a scope deactivates it: tokens stop carrying it at once; the name stays taken.
pub async fn api_delete_scope(store: &Store, caller: &Caller, name: &str) -> Result<ScopeView, AdminError> {
    api_update_scope(store, caller, name, &ScopeInput { active: Some(false), ..Default::default() }).await
}

pub async fn public_catalogue(store: &Store) -> Result<Vec<ScopeView>, AdminError> {
    Ok(store.public_scopes().await?.iter().map(ScopeView::from).collect())
}

/// Grants (`approve = true`) or revokes an organisation's access to a scope.
pub async fn set_access(store: &Store, scope: &str, consumer: &str, approve: bool) -> Result<ScopeAccessView, AdminError> {
    let consumer = OrganisationNumber::parse(consumer)
        .map_err(|e| bad_request(format!("consumer organisation number: {e}")))?
        .to_string();
    let row = store.scope(scope).await?.ok_or_else(|| AdminError::NotFound(format!("no scope named {scope}")))?;
    if !approve && store.scope_access(scope, &consumer).await?.is_none() {
        return Err(AdminError::NotFound(format!("{consumer} has no access to {scope}")));
    }
    let now = clock::now();
    let mut tx = store.begin_write().await?;
    tx.set_scope_access(scope, &consumer, if approve { APPROVED } else { DENIED }, now).await?;
    tx.commit().await?;
    let access = store.scope_access(scope, &consumer).await?.ok_or(AdminError::Internal)?;
    Ok(access_view(&access, &row))
}

pub async fn api_set_access(
    store: &Store,
    caller: &Caller,
    scope: &str,
    consumer: &str,
    approve: bool,
) -> Result<ScopeAccessView, AdminError> {
    caller.require_any(&[SCOPES_WRITE])?;
    own_scope(store, caller, scope).await?;
    set_access(store, scope, consumer, approve).await
}

pub async fn api_list_access(store: &Store, caller: &Caller, scope: &str) -> Result<Vec<ScopeAccessView>, AdminError> {
    caller.require_any(&[SCOPES_WRITE])?;
    let row = own_scope(store, caller, scope).await?;
    Ok(store.scope_access_list(scope).await?.iter().map(|a| access_view(a, &row)).collect())
}

/// May `org` put this scope on its clients and use it in tokens? (owner, open to all, or granted)
pub(crate) async fn org_may_use(store: &Store, scope: &ScopeRow, org: &str) -> Result<bool, AdminError> {
    if scope.owner_orgno == org || scope.accessible_for_all != 0 {
        return Ok(true);
    }
    Ok(store.scope_access(&scope.name, org).await?.is_some_and(|a| a.state == APPROVED))
}
