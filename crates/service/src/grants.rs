//! Writing grants: a party gives a recipient access packages and resource rights (as
//! rettighetshaver), a facilitator takes on agents and delegates its clients' packages to them.
//! Each function is one transaction and checks what the catalogue and the register say before
//! it writes; the approval and client-delegation use cases of the next layers build on them.

use fullmakt_domain::catalogue::{Catalogue, Package, PackageSet, Role};
use fullmakt_store::{PartyKey, PartyRow, RecipientKind, Store, StoreError};
use serde::Serialize;

use crate::admin::AdminError;
use crate::clock;
use crate::pip::{AGENT, RIGHTHOLDER};

/// Who receives a grant.
#[derive(Debug, Clone)]
pub enum Recipient {
    Party(PartyRow),
    SystemUser(String),
}

impl Recipient {
    pub fn uuid(&self) -> &str {
        match self {
            Recipient::Party(p) => &p.party_uuid,
            Recipient::SystemUser(id) => id,
        }
    }

    fn kind(&self) -> RecipientKind {
        match self {
            Recipient::Party(p) if p.party_type == "person" => RecipientKind::Person,
            Recipient::Party(_) => RecipientKind::Organization,
            Recipient::SystemUser(_) => RecipientKind::SystemUser,
        }
    }
}

/// What a grant write did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GrantOutcome {
    pub assignment_id: String,
    pub from_party_uuid: String,
    pub to_uuid: String,
    pub role: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// False when the grant existed already (granting is idempotent).
    pub changed: bool,
}

fn is_organisation(p: &PartyRow) -> bool {
    p.party_type == "organization"
}

/// Resolves what an operator or a test writes for a recipient: an 11-digit person number, a
/// 9-digit organisation number, a party uuid, or else a system user id (a UUID).
pub async fn resolve_recipient(store: &Store, key: &str) -> Result<Recipient, AdminError> {
    let key = key.trim();
    let party = if key.len() == 11 && key.bytes().all(|b| b.is_ascii_digit()) {
        store.find_party(PartyKey::PersonIdentifier(key)).await?
    } else if key.len() == 9 && key.bytes().all(|b| b.is_ascii_digit()) {
        store.find_party(PartyKey::OrgNumber(key)).await?
    } else if uuid::Uuid::parse_str(key).is_ok() {
        match store.find_party(PartyKey::Uuid(&key.to_ascii_lowercase())).await? {
            Some(p) => Some(p),
            None => return Ok(Recipient::SystemUser(key.to_ascii_lowercase())),
        }
    } else {
        return Err(AdminError::BadRequest(format!(
            "{key} is neither a person number, an organisation number nor a UUID"
        )));
    };
    party.map(Recipient::Party).ok_or_else(|| AdminError::NotFound(format!("no party {key} in the register")))
}

/// The organisation that gives, by organisation number.
pub async fn organisation(store: &Store, orgno: &str) -> Result<PartyRow, AdminError> {
    match store.find_party(PartyKey::OrgNumber(orgno.trim())).await? {
        Some(p) if is_organisation(&p) && p.is_deleted == 0 => Ok(p),
        _ => Err(AdminError::NotFound(format!("no organisation {orgno} in the register"))),
    }
}

/// A package may be assigned when the catalogue says so and it is about the giver's kind of
/// party (organisation packages from organisations, person packages from persons).
fn check_assignable(package: &Package, from: &PartyRow) -> Result<(), AdminError> {
    if !package.is_assignable {
        return Err(AdminError::BadRequest(format!("the access package {} cannot be assigned", package.urn)));
    }
    let expected = if is_organisation(from) { "Organization" } else { "Person" };
    if package.entity_type != expected {
        return Err(AdminError::BadRequest(format!(
            "the access package {} is for a {} and cannot be given by a {}",
            package.urn,
            package.entity_type.to_lowercase(),
            from.party_type
        )));
    }
    Ok(())
}

fn store_conflict(e: StoreError) -> AdminError {
    e.into()
}

/// `from` gives `to` an access package (as rettighetshaver).
pub async fn grant_package(
    store: &Store,
    catalogue: &Catalogue,
    from: &PartyRow,
    to: &Recipient,
    package_urn: &str,
) -> Result<GrantOutcome, AdminError> {
    let package = catalogue
        .package_by_urn(package_urn)
        .ok_or_else(|| AdminError::BadRequest(format!("{package_urn} is not an access package in the catalogue")))?;
    check_assignable(package, from)?;
    if to.uuid() == from.party_uuid {
        return Err(AdminError::BadRequest("a party cannot grant itself".into()));
    }
    let now = clock::now();
    let mut tx = store.begin_write().await?;
    let assignment = tx.ensure_assignment(from.party_id, to.uuid(), to.kind(), RIGHTHOLDER, now).await.map_err(store_conflict)?;
    let changed = tx.add_assignment_package(&assignment, &package.id, now).await?;
    tx.commit().await?;
    Ok(GrantOutcome {
        assignment_id: assignment,
        from_party_uuid: from.party_uuid.clone(),
        to_uuid: to.uuid().to_owned(),
        role: RIGHTHOLDER.into(),
        package: Some(package.urn.clone()),
        resource: None,
        action: None,
        changed,
    })
}

/// `from` gives `to` one right: an action on a registry resource.
pub async fn grant_right(store: &Store, from: &PartyRow, to: &Recipient, resource_id: &str, action: &str) -> Result<GrantOutcome, AdminError> {
    let action = action.trim();
    if action.is_empty() || action.len() > 100 || action.chars().any(char::is_whitespace) {
        return Err(AdminError::BadRequest("an action is one word such as read, write or sign".into()));
    }
    let resource = crate::resource_registry::live_resource(store, resource_id).await?;
    if to.uuid() == from.party_uuid {
        return Err(AdminError::BadRequest("a party cannot grant itself".into()));
    }
    let now = clock::now();
    let mut tx = store.begin_write().await?;
    let assignment = tx.ensure_assignment(from.party_id, to.uuid(), to.kind(), RIGHTHOLDER, now).await?;
    let changed = tx.add_assignment_right(&assignment, &resource.identifier, action, now).await?;
    tx.commit().await?;
    Ok(GrantOutcome {
        assignment_id: assignment,
        from_party_uuid: from.party_uuid.clone(),
        to_uuid: to.uuid().to_owned(),
        role: RIGHTHOLDER.into(),
        package: None,
        resource: Some(resource.identifier),
        action: Some(action.to_owned()),
        changed,
    })
}

/// Takes a package back; NotFound when it was not given.
pub async fn revoke_package(store: &Store, catalogue: &Catalogue, from: &PartyRow, to: &Recipient, package_urn: &str) -> Result<(), AdminError> {
    let package = catalogue
        .package_by_urn(package_urn)
        .ok_or_else(|| AdminError::BadRequest(format!("{package_urn} is not an access package in the catalogue")))?;
    let assignment = store
        .assignment(from.party_id, to.uuid(), RIGHTHOLDER)
        .await?
        .ok_or_else(|| AdminError::NotFound("the recipient holds nothing from this party".into()))?;
    let mut tx = store.begin_write().await?;
    if !tx.remove_assignment_package(&assignment.id, &package.id).await? {
        return Err(AdminError::NotFound(format!("the recipient does not hold {} from this party", package.urn)));
    }
    tx.commit().await?;
    Ok(())
}

/// Takes a right back; NotFound when it was not given.
pub async fn revoke_right(store: &Store, from: &PartyRow, to: &Recipient, resource_id: &str, action: &str) -> Result<(), AdminError> {
    let assignment = store
        .assignment(from.party_id, to.uuid(), RIGHTHOLDER)
        .await?
        .ok_or_else(|| AdminError::NotFound("the recipient holds nothing from this party".into()))?;
    let mut tx = store.begin_write().await?;
    if !tx.remove_assignment_right(&assignment.id, resource_id, action).await? {
        return Err(AdminError::NotFound(format!("the recipient does not hold {action} on {resource_id} from this party")));
    }
    tx.commit().await?;
    Ok(())
}

/// A facilitator takes on an agent (a person or an agent system user).
pub async fn add_agent(store: &Store, facilitator: &PartyRow, agent: &Recipient) -> Result<String, AdminError> {
    if !is_organisation(facilitator) {
        return Err(AdminError::BadRequest("only an organisation can have agents".into()));
    }
    let mut tx = store.begin_write().await?;
    let id = tx.ensure_assignment(facilitator.party_id, agent.uuid(), agent.kind(), AGENT, clock::now()).await?;
    tx.commit().await?;
    Ok(id)
}

/// A relation that makes a party a facilitator's client (registry-delegation-ui.md §4.1): an ER
/// role the client registered on the facilitator, or rettighetshaver with packages the client
/// gave it. Both ways of delegating a client's packages to an agent check against this.
#[derive(Debug, Clone)]
pub struct ClientRelation<'c> {
    pub role: &'c Role,
    /// The packages the relation gives the facilitator for this client (delegable or not).
    pub provides: PackageSet,
}

/// The ER roles that make a unit a facilitator's client (registry-delegation-ui.md §2.5: the
/// client roles; the docs name Revisor, Regnskapsfører and Forretningsfører). Other ER roles an
/// organisation may hold in a unit (board member, say) do not make that unit a client.
const CLIENT_ROLES: [&str; 3] = ["regnskapsforer", "revisor", "forretningsforer"];

/// Whether `role` is one of the client ER roles (REGN, REVI, FFØR, by any of their codes).
pub fn is_client_role(catalogue: &Catalogue, role: &Role) -> bool {
    CLIENT_ROLES.iter().any(|code| catalogue.role(code).is_some_and(|r| r.index == role.index))
}

/// The relation `via_role` (a code, ER code or URN) from `client` to `facilitator`, as it
/// stands now: 400 for a role that is not a client relation, or one the client has not given.
pub async fn client_relation<'c>(
    store: &Store,
    catalogue: &'c Catalogue,
    facilitator: &PartyRow,
    client: &PartyRow,
    via_role: &str,
) -> Result<ClientRelation<'c>, AdminError> {
    let role = catalogue.role(via_role.trim()).ok_or_else(|| AdminError::BadRequest(format!("{via_role} is not a role in the catalogue")))?;
    if role.code != RIGHTHOLDER && !is_client_role(catalogue, role) {
        return Err(AdminError::BadRequest(format!(
            "{via_role} makes no client relation: only the client roles regnskapsforer, revisor and forretningsforer (REGN, REVI, FFØR) and rettighetshaver do"
        )));
    }
    let provides = crate::pip::relation_provides(store, catalogue, client, facilitator, role).await?.ok_or_else(|| {
        AdminError::BadRequest(if role.code == RIGHTHOLDER {
            format!("{} has not made {} rettighetshaver with any access package", client.name, facilitator.name)
        } else {
            format!("{} has not registered {} as {}", client.name, facilitator.name, role.code)
        })
    })?;
    Ok(ClientRelation { role, provides })
}

impl ClientRelation<'_> {
    /// 400 unless the relation gives every one of `packages` (for role-given packages, for the
    /// client's organisation form).
    pub fn check_provides(&self, packages: &[&Package], client: &PartyRow) -> Result<(), AdminError> {
        let missing: Vec<&str> = packages.iter().filter(|p| !self.provides.contains(p.index)).map(|p| p.urn.as_str()).collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(AdminError::BadRequest(format!(
                "{} does not give {} through {} for {}",
                client.name,
                missing.join(", "),
                self.role.code,
                client.unit_type.as_deref().map_or_else(|| "this party".to_owned(), |t| format!("a unit of type {t}"))
            )))
        }
    }
}

/// The catalogue's packages for `values` (URNs or codes), each of which must be delegable to
/// agents: 400 naming the first that is unknown or not delegable.
pub fn delegable_packages<'c>(catalogue: &'c Catalogue, values: &[String]) -> Result<Vec<&'c Package>, AdminError> {
    let mut out = Vec::with_capacity(values.len());
    for value in values {
        let p = catalogue
            .package_by_urn(value.trim())
            .ok_or_else(|| AdminError::BadRequest(format!("{value} is not an access package")))?;
        if !p.is_delegable {
            return Err(AdminError::BadRequest(format!("the access package {} cannot be delegated to agents", p.urn)));
        }
        out.push(p);
    }
    Ok(out)
}

/// The facilitator delegates, for one client, packages to one of its agent system users. The
/// client must be the facilitator's client through `via_role` (an ER role the client has
/// registered on the facilitator, or rettighetshaver), each package must be delegable and be
/// given by that relation. The facilitator → agent assignment is made if missing, as AM does
/// for system users. All packages or none.
pub async fn delegate_client_packages(
    store: &Store,
    catalogue: &Catalogue,
    facilitator: &PartyRow,
    client: &PartyRow,
    via_role: &str,
    agent_uuid: &str,
    package_urns: &[String],
) -> Result<String, AdminError> {
    let packages = delegable_packages(catalogue, package_urns)?;
    let relation = client_relation(store, catalogue, facilitator, client, via_role).await?;
    relation.check_provides(&packages, client)?;
    let now = clock::now();
    let mut tx = store.begin_write().await?;
    tx.ensure_assignment(facilitator.party_id, agent_uuid, RecipientKind::SystemUser, AGENT, now).await?;
    let delegation = tx.ensure_client_delegation(client.party_id, facilitator.party_id, &relation.role.code, agent_uuid, now).await?;
    for p in &packages {
        tx.add_client_delegation_package(&delegation, &p.id, now).await?;
    }
    tx.commit().await?;
    Ok(delegation)
}
