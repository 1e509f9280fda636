//! Maskinporten clients and their keys (maskinporten.md §6.1).

use fullmakt_domain::{OrganisationNumber, ScopeName};
use fullmakt_jose::RsaPublicJwk;
use fullmakt_store::{ClientKeyRow, ClientRow, Store, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::scopes::org_may_use;
use super::{bad_request, AdminError, Caller, DCR_MODIFY, DCR_READ, DCR_WRITE};
use crate::token::{allows_integration_type, JWT_BEARER};
use crate::{clock, MAX_ACCESS_TOKEN_LIFETIME};

pub const MAX_KEYS_PER_CLIENT: usize = 5;
/// A registered key is valid one year from upload; re-posting the set renews it.
pub const KEY_VALIDITY_SECONDS: i64 = 365 * 24 * 3600;
const DEFAULT_ACCESS_TOKEN_LIFETIME: i64 = 120;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ClientView {
    pub client_id: String,
    pub client_name: String,
    pub description: String,
    pub integration_type: String,
    pub application_type: String,
    pub token_endpoint_auth_method: String,
    pub grant_types: Vec<String>,
    pub scopes: Vec<String>,
    pub client_orgno: String,
    pub access_token_lifetime: i64,
    pub active: bool,
    pub created: String,
    pub last_updated: String,
}

fn view(row: &ClientRow, scopes: Vec<String>) -> ClientView {
    ClientView {
        client_id: row.client_id.clone(),
        client_name: row.client_name.clone(),
        description: row.description.clone(),
        integration_type: row.integration_type.clone(),
        application_type: "web".into(),
        token_endpoint_auth_method: "private_key_jwt".into(),
        grant_types: vec![JWT_BEARER.into()],
        scopes,
        client_orgno: row.client_orgno.clone(),
        access_token_lifetime: row.access_token_lifetime,
        active: row.is_active(),
        created: clock::rfc3339(row.created),
        last_updated: clock::rfc3339(row.last_updated),
    }
}

/// A client as a caller describes it. Fields Digdir fixes for Maskinporten clients may be
/// sent, but only with the values fullmakt supports.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct ClientInput {
    pub client_name: Option<String>,
    pub description: Option<String>,
    pub integration_type: Option<String>,
    pub application_type: Option<String>,
    pub token_endpoint_auth_method: Option<String>,
    pub grant_types: Option<Vec<String>>,
    pub scopes: Option<Vec<String>>,
    pub client_orgno: Option<String>,
    pub access_token_lifetime: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct JwksView {
    #[schema(value_type = Vec<Object>)]
    pub keys: Vec<RsaPublicJwk>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
}

impl ClientInput {
    fn validate_fixed_fields(&self, owner: OrganisationNumber) -> Result<(), AdminError> {
        if self.integration_type.as_deref().is_some_and(|t| t != "maskinporten") {
            return Err(bad_request("integration_type: only maskinporten clients are supported"));
        }
        if self.application_type.as_deref().is_some_and(|t| t != "web") {
            return Err(bad_request("application_type must be web"));
        }
        if self.token_endpoint_auth_method.as_deref().is_some_and(|t| t != "private_key_jwt") {
            return Err(bad_request("token_endpoint_auth_method must be private_key_jwt"));
        }
        if self.grant_types.as_ref().is_some_and(|g| g.as_slice() != [JWT_BEARER]) {
            return Err(bad_request(format!("grant_types must be [\"{JWT_BEARER}\"]")));
        }
        if self.client_orgno.as_ref().is_some_and(|o| *o != owner.to_string()) {
            return Err(AdminError::Forbidden("client_orgno must be the caller's own organisation".into()));
        }
        Ok(())
    }

    fn apply(&self, row: &mut ClientRow) -> Result<(), AdminError> {
        if let Some(name) = &self.client_name {
            if name.trim().is_empty() || name.len() > 200 {
                return Err(bad_request("client_name must be 1 to 200 characters"));
            }
            row.client_name = name.clone();
        }
        if let Some(d) = &self.description {
            if d.len() > 2000 {
                return Err(bad_request("description is at most 2000 characters"));
            }
            row.description = d.clone();
        }
        if let Some(l) = self.access_token_lifetime {
            if !(1..=MAX_ACCESS_TOKEN_LIFETIME).contains(&l) {
                return Err(bad_request(format!("access_token_lifetime must be 1 to {MAX_ACCESS_TOKEN_LIFETIME} seconds")));
            }
            row.access_token_lifetime = l;
        }
        Ok(())
    }
}

/// Scopes must exist, be active, suit Maskinporten clients and be usable by the owner.
async fn validate_scopes(store: &Store, owner: OrganisationNumber, scopes: &[String]) -> Result<Vec<String>, AdminError> {
    let mut out: Vec<String> = Vec::new();
    let org = owner.to_string();
    for s in scopes {
        ScopeName::parse(s).map_err(|e| bad_request(format!("scope {s}: {e}")))?;
        let row = store.scope(s).await?.filter(|r| r.active != 0).ok_or_else(|| bad_request(format!("unknown scope {s}")))?;
        if !allows_integration_type(&row, "maskinporten") {
            return Err(bad_request(format!("the scope {s} is not for maskinporten clients")));
        }
        if !org_may_use(store, &row, &org).await? {
            return Err(AdminError::Forbidden(format!("organisation {org} has not been granted access to the scope {s}")));
        }
        if !out.contains(s) {
            out.push(s.clone());
        }
    }
    out.sort();
    Ok(out)
}

/// Creates a client owned by `owner`, optionally with its first key set.
pub async fn create_client(
    store: &Store,
    owner: OrganisationNumber,
    input: &ClientInput,
    jwks: Option<&Value>,
) -> Result<ClientView, AdminError> {
    input.validate_fixed_fields(owner)?;
    if input.client_name.is_none() {
        return Err(bad_request("client_name is required"));
    }
    let now = clock::now();
    let mut row = ClientRow {
        client_id: uuid::Uuid::new_v4().to_string(),
        client_name: String::new(),
        description: String::new(),
        client_orgno: owner.to_string(),
        integration_type: "maskinporten".into(),
        access_token_lifetime: DEFAULT_ACCESS_TOKEN_LIFETIME,
        active: 1,
        created: now,
        last_updated: now,
    };
    input.apply(&mut row)?;
    let scopes = validate_scopes(store, owner, input.scopes.as_deref().unwrap_or_default()).await?;
    let keys = jwks.map(|j| validate_jwks(j, &row.client_id, now)).transpose()?;
    let mut tx = store.begin_write().await?;
    tx.insert_client(&row).await?;
    tx.set_client_scopes(&row.client_id, &scopes).await?;
    if let Some(keys) = &keys {
        tx.replace_client_keys(&row.client_id, keys).await.map_err(kid_conflict)?;
    }
    tx.commit().await?;
    Ok(view(&row, scopes))
}

async fn own_client(store: &Store, caller: &Caller, client_id: &str) -> Result<ClientRow, AdminError> {
    let row = store
        .client(client_id)
        .await?
        .filter(ClientRow::is_active)
        .ok_or_else(|| AdminError::NotFound(format!("no client {client_id}")))?;
    if row.client_orgno != caller.org.to_string() {
        return Err(AdminError::Forbidden(format!("the client {client_id} belongs to another organisation")));
    }
    Ok(row)
}

pub async fn api_list_clients(store: &Store, caller: &Caller) -> Result<Vec<ClientView>, AdminError> {
    caller.require_any(&[DCR_READ, DCR_WRITE, DCR_MODIFY])?;
    list_clients(store, caller.org).await
}

/// An organisation's active clients.
pub async fn list_clients(store: &Store, owner: OrganisationNumber) -> Result<Vec<ClientView>, AdminError> {
    let mut out = Vec::new();
    for row in store.clients_of_org(&owner.to_string()).await? {
        let scopes = store.client_scopes(&row.client_id).await?;
        out.push(view(&row, scopes));
    }
    Ok(out)
}

pub async fn api_create_client(store: &Store, caller: &Caller, input: &ClientInput) -> Result<ClientView, AdminError> {
    caller.require_any(&[DCR_WRITE])?;
    create_client(store, caller.org, input, None).await
}

pub async fn api_get_client(store: &Store, caller: &Caller, client_id: &str) -> Result<ClientView, AdminError> {
    caller.require_any(&[DCR_READ, DCR_WRITE, DCR_MODIFY])?;
    let row = own_client(store, caller, client_id).await?;
    let scopes = store.client_scopes(client_id).await?;
    Ok(view(&row, scopes))
}

/// PUT replaces the mutable fields that are given; `integration_type` cannot change.
pub async fn api_update_client(
    store: &Store,
    caller: &Caller,
    client_id: &str,
    input: &ClientInput,
) -> Result<ClientView, AdminError> {
    caller.require_any(&[DCR_WRITE, DCR_MODIFY])?;
    let mut row = own_client(store, caller, client_id).await?;
    input.validate_fixed_fields(caller.org)?;
    input.apply(&mut row)?;
    let scopes = match &input.scopes {
        Some(s) => Some(validate_scopes(store, caller.org, s).await?),
        None => None,
    };
    row.last_updated = clock::now();
    let mut tx = store.begin_write().await?;
    tx.update_client(&row).await?;
    if let Some(s) = &scopes {
        tx.set_client_scopes(client_id, s).await?;
    }
    tx.commit().await?;
    let scopes = store.client_scopes(client_id).await?;
    Ok(view(&row, scopes))
}

/// Deletion deactivates the client and drops its keys: its next grant is refused.
pub async fn api_delete_client(store: &Store, caller: &Caller, client_id: &str) -> Result<(), AdminError> {
    caller.require_any(&[DCR_WRITE])?;
    own_client(store, caller, client_id).await?;
    let mut tx = store.begin_write().await?;
    tx.deactivate_client(client_id, clock::now()).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn api_get_jwks(store: &Store, caller: &Caller, client_id: &str) -> Result<JwksView, AdminError> {
    caller.require_any(&[DCR_READ, DCR_WRITE, DCR_MODIFY])?;
    own_client(store, caller, client_id).await?;
    jwks_view(store, client_id).await
}

async fn jwks_view(store: &Store, client_id: &str) -> Result<JwksView, AdminError> {
    let rows = store.client_keys(client_id).await?;
    let keys = rows.iter().map(|r| serde_json::from_str(&r.jwk)).collect::<Result<Vec<RsaPublicJwk>, _>>().map_err(AdminError::internal)?;
    Ok(JwksView {
        keys,
        created: rows.iter().map(|r| r.created).min().map(clock::rfc3339),
        expires: rows.iter().map(|r| r.expires).min().map(clock::rfc3339),
    })
}

/// POST replaces the whole key set (and renews the keys' year of validity).
pub async fn api_set_jwks(store: &Store, caller: &Caller, client_id: &str, jwks: &Value) -> Result<JwksView, AdminError> {
    caller.require_any(&[DCR_WRITE, DCR_MODIFY])?;
    own_client(store, caller, client_id).await?;
    set_jwks(store, client_id, jwks).await
}

pub async fn set_jwks(store: &Store, client_id: &str, jwks: &Value) -> Result<JwksView, AdminError> {
    let now = clock::now();
    let keys = validate_jwks(jwks, client_id, now)?;
    let mut tx = store.begin_write().await?;
    tx.replace_client_keys(client_id, &keys).await.map_err(kid_conflict)?;
    tx.touch_client(client_id, now).await?;
    tx.commit().await?;
    jwks_view(store, client_id).await
}

pub async fn api_delete_jwks(store: &Store, caller: &Caller, client_id: &str) -> Result<(), AdminError> {
    caller.require_any(&[DCR_WRITE, DCR_MODIFY])?;
    own_client(store, caller, client_id).await?;
    let mut tx = store.begin_write().await?;
    tx.replace_client_keys(client_id, &[]).await?;
    tx.touch_client(client_id, clock::now()).await?;
    tx.commit().await?;
    Ok(())
}

fn kid_conflict(e: StoreError) -> AdminError {
    match e {
        StoreError::Conflict => AdminError::Conflict("a kid in this set is already registered by another client".into()),
        other => other.into(),
    }
}

/// `{"keys":[…]}` with 1 to 5 public RSA signing keys and distinct kids.
pub fn validate_jwks(jwks: &Value, client_id: &str, now: i64) -> Result<Vec<ClientKeyRow>, AdminError> {
    let keys = jwks
        .get("keys")
        .and_then(Value::as_array)
        .ok_or_else(|| bad_request("a JWKS is an object with a keys array"))?;
    if keys.is_empty() || keys.len() > MAX_KEYS_PER_CLIENT {
        return Err(bad_request(format!("a client has 1 to {MAX_KEYS_PER_CLIENT} keys; this set has {}", keys.len())));
    }
    let mut out: Vec<ClientKeyRow> = Vec::with_capacity(keys.len());
    for (i, k) in keys.iter().enumerate() {
        let jwk = RsaPublicJwk::from_client_json(k).map_err(|e| bad_request(format!("keys[{i}]: {e}")))?;
        if out.iter().any(|o| o.kid == jwk.kid) {
            return Err(bad_request(format!("keys[{i}]: the kid {} appears twice", jwk.kid)));
        }
        out.push(ClientKeyRow {
            kid: jwk.kid.clone(),
            client_id: client_id.to_owned(),
            jwk: serde_json::to_string(&jwk).map_err(AdminError::internal)?,
            created: now,
            expires: now + KEY_VALIDITY_SECONDS,
        });
    }
    Ok(out)
}
