//! Access Management's client-delegation API (registry-delegation-ui.md §4.2,
//! `enduser/clientdelegations/…`): a facilitator's client administrator lists its clients, takes
//! on agents (persons, or its own agent system users) and delegates, client by client and role by
//! role, the packages a client gave the facilitator.
//!
//! The Authentication routes of `client_delegation` delegate a whole client to an agent system
//! user at once; these routes work one level lower, naming the relation and the packages, and
//! share its checks (`grants::client_relation`, `grants::delegable_packages`). Every write is one
//! transaction; a batch is all or nothing.

use std::collections::BTreeMap;

use fullmakt_domain::catalogue::{Catalogue, Package, PackageSet};
use fullmakt_store::{FacilitatorDelegationRow, PartyKey, PartyRow, RecipientKind, Store, SystemUserRow};

use crate::access_management::Gate;
use crate::admin::AdminError;
use crate::auth_error::AuthError;
use crate::client_delegation::{agent_packages, customers_of, ClientAccess, Customer};
use crate::clock;
use crate::grants::{self, Recipient};
use crate::pip::AGENT;
use crate::requests::{Approvals, UserType};

/// Someone who acts for a facilitator's clients: a person, or one of its agent system users.
#[derive(Debug, Clone)]
pub enum AgentParty {
    Person(PartyRow),
    SystemUser(SystemUserRow),
}

impl AgentParty {
    /// The party uuid of a person, the id of a system user.
    pub fn uuid(&self) -> &str {
        match self {
            AgentParty::Person(p) => &p.party_uuid,
            AgentParty::SystemUser(row) => &row.id,
        }
    }

    pub fn name(&self) -> &str {
        match self {
            AgentParty::Person(p) => &p.name,
            AgentParty::SystemUser(row) => &row.integration_title,
        }
    }

    fn recipient(&self) -> Recipient {
        match self {
            AgentParty::Person(p) => Recipient::Party(p.clone()),
            AgentParty::SystemUser(row) => Recipient::SystemUser(row.id.clone()),
        }
    }
}

/// An agent with what it holds from the facilitator (`AgentDto`): the agent role itself in the
/// list of agents, the delegated packages per client relation in a client's list.
#[derive(Debug, Clone)]
pub struct AgentAccess {
    pub agent: AgentParty,
    pub access: Vec<ClientAccess>,
}

/// The facilitator → agent assignment (`AssignmentDto`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentAssignment {
    pub id: String,
    pub role_id: String,
    pub from_id: String,
    pub to_id: String,
}

/// One package of a client delegation as written or removed (`DelegationDto`): from the client,
/// via the facilitator, to the agent, through the client's relation `role_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DelegationChange {
    pub from_id: String,
    pub to_id: String,
    pub via_id: String,
    pub role_id: String,
    pub package_id: String,
    /// False when the package was delegated already (adding) or was not delegated (removing).
    pub changed: bool,
}

/// One entry of a delegation batch (`{"role": …, "packages": […]}`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
pub struct PackageBatch {
    pub role: String,
    pub packages: Vec<String>,
}

/// A uuid from a query parameter, in its canonical form; 400 naming the parameter otherwise.
pub fn uuid_param(value: &str, name: &str) -> Result<String, AdminError> {
    uuid::Uuid::parse_str(value.trim()).map(|u| u.to_string()).map_err(|_| {
        let shown: String = value.chars().take(64).collect();
        AdminError::BadRequest(format!("the query parameter {name} must be a UUID, not '{shown}'"))
    })
}

fn admin(e: AuthError) -> AdminError {
    match e {
        AuthError::Admin(e) => e,
        other => AdminError::internal(other),
    }
}

/// Groups delegation rows by `key` (client or agent), and within it by relation, in row order.
fn group_delegations<K: Ord + Clone>(
    catalogue: &Catalogue,
    rows: &[FacilitatorDelegationRow],
    key: impl Fn(&FacilitatorDelegationRow) -> K,
) -> BTreeMap<K, Vec<ClientAccess>> {
    let mut out: BTreeMap<K, BTreeMap<String, PackageSet>> = BTreeMap::new();
    for row in rows {
        let packages = out.entry(key(row)).or_default().entry(row.via_role_code.clone()).or_default();
        if let Some(p) = row.package_id.as_deref().and_then(|id| catalogue.package_by_id(id)) {
            packages.insert(p.index);
        }
    }
    out.into_iter()
        .map(|(k, roles)| {
            let access = roles.into_iter().filter(|(_, p)| !p.is_empty()).map(|(code, p)| ClientAccess::new(catalogue, &code, p)).collect();
            (k, access)
        })
        .filter(|(_, access): &(K, Vec<ClientAccess>)| !access.is_empty())
        .collect()
}

async fn find_agent(store: &Store, uuid: &str) -> Result<Option<AgentParty>, AdminError> {
    if let Some(p) = store.find_party(PartyKey::Uuid(uuid)).await? {
        return Ok((p.is_deleted == 0 && p.party_type == "person").then_some(AgentParty::Person(p)));
    }
    Ok(store.system_user(uuid).await?.filter(|r| r.is_deleted == 0).map(AgentParty::SystemUser))
}

impl Approvals<'_> {
    /// The facilitator named by `?party=`, after the person's client-administration gate for it:
    /// 400 for a malformed uuid, 404 for an unknown party, 403 without the gate.
    async fn client_facilitator(&self, person: &PartyRow, party_uuid: &str, gate: Gate) -> Result<PartyRow, AdminError> {
        let uuid = uuid_param(party_uuid, "party")?;
        let party = match self.store.find_party(PartyKey::Uuid(&uuid)).await? {
            Some(p) if p.is_deleted == 0 => p,
            _ => return Err(AdminError::NotFound(format!("no party {uuid} in the register"))),
        };
        if !self.gates.permits(person.party_id, party.party_id, gate).await {
            return Err(AdminError::Forbidden(format!(
                "administering the clients of {} takes the access package klientadministrator for it",
                party.name
            )));
        }
        if party.party_type != "organization" {
            return Err(AdminError::BadRequest("only an organisation has clients and agents".into()));
        }
        Ok(party)
    }

    /// The client named by `?from=`: any party in the register other than the facilitator.
    async fn named_client(&self, facilitator: &PartyRow, from: &str) -> Result<PartyRow, AdminError> {
        let uuid = uuid_param(from, "from")?;
        let client = match self.store.find_party(PartyKey::Uuid(&uuid)).await? {
            Some(p) if p.is_deleted == 0 => p,
            _ => return Err(AdminError::NotFound(format!("no party {uuid} in the register"))),
        };
        if client.party_id == facilitator.party_id {
            return Err(AdminError::BadRequest("a party is not its own client".into()));
        }
        Ok(client)
    }

    /// The agent named by `?to=`: a person, or an agent system user the facilitator owns. A
    /// standard system user, another organisation's system user and an organisation are refused.
    async fn named_agent(&self, facilitator: &PartyRow, to: &str) -> Result<AgentParty, AdminError> {
        let uuid = uuid_param(to, "to")?;
        if let Some(p) = self.store.find_party(PartyKey::Uuid(&uuid)).await? {
            if p.is_deleted != 0 {
                return Err(AdminError::NotFound(format!("no person or system user {uuid}")));
            }
            if p.party_type != "person" {
                return Err(AdminError::BadRequest(format!("{} is an organisation; an agent is a person or an agent system user", p.name)));
            }
            return Ok(AgentParty::Person(p));
        }
        let row = match self.store.system_user(&uuid).await? {
            Some(row) if row.is_deleted == 0 => row,
            _ => return Err(AdminError::NotFound(format!("no person or system user {uuid}"))),
        };
        if row.user_type != UserType::Agent.as_str() {
            return Err(AdminError::BadRequest(format!("the system user {uuid} is a standard system user; only agent system users act for clients")));
        }
        if row.owner_party_id != facilitator.party_id {
            return Err(AdminError::BadRequest(format!("the agent system user {uuid} belongs to another organisation")));
        }
        Ok(AgentParty::SystemUser(row))
    }

    /// `GET clients?party=&roles=&packages=` (CAR): the facilitator's clients with what each
    /// gives it, narrowed to the relations in `roles` and to clients giving every one of
    /// `packages` (codes or URNs; an unknown one is 400).
    pub async fn facilitator_clients(&self, person: &PartyRow, party_uuid: &str, roles: &[String], packages: &[String]) -> Result<Vec<Customer>, AdminError> {
        let facilitator = self.client_facilitator(person, party_uuid, Gate::ClientAdministrationRead).await?;
        let mut role_filter = Vec::new();
        for r in roles.iter().map(|r| r.trim()).filter(|r| !r.is_empty()) {
            let role = self.catalogue.role(r).ok_or_else(|| AdminError::BadRequest(format!("{r} is not a role in the catalogue")))?;
            role_filter.push(role.code.clone());
        }
        let mut package_filter = PackageSet::default();
        for p in packages.iter().map(|p| p.trim()).filter(|p| !p.is_empty()) {
            let found = self.catalogue.package_by_urn(p).ok_or_else(|| AdminError::BadRequest(format!("{p} is not an access package")))?;
            package_filter.insert(found.index);
        }
        let all = customers_of(self.store, self.catalogue, &facilitator).await.map_err(admin)?;
        Ok(all
            .into_iter()
            .map(|mut c| {
                if !role_filter.is_empty() {
                    c.access.retain(|a| role_filter.contains(&a.role_code));
                }
                c
            })
            .filter(|c| !c.access.is_empty() && c.covers(&package_filter))
            .collect())
    }

    /// `GET agents?party=` (CAR): the facilitator's agents, oldest first, each with the agent role.
    pub async fn facilitator_agents(&self, person: &PartyRow, party_uuid: &str) -> Result<Vec<AgentAccess>, AdminError> {
        let facilitator = self.client_facilitator(person, party_uuid, Gate::ClientAdministrationRead).await?;
        let mut out = Vec::new();
        for a in self.store.assignments_from(facilitator.party_id).await?.into_iter().filter(|a| a.role_code == AGENT) {
            if let Some(agent) = find_agent(self.store, &a.to_uuid).await? {
                out.push(AgentAccess { agent, access: vec![ClientAccess::new(self.catalogue, AGENT, PackageSet::default())] });
            }
        }
        Ok(out)
    }

    /// `POST agents?party=&to=` (CAW): takes on an agent (idempotent).
    pub async fn add_facilitator_agent(&self, person: &PartyRow, party_uuid: &str, to: &str) -> Result<AgentAssignment, AdminError> {
        let facilitator = self.client_facilitator(person, party_uuid, Gate::ClientAdministrationWrite).await?;
        let agent = self.named_agent(&facilitator, to).await?;
        let id = grants::add_agent(self.store, &facilitator, &agent.recipient()).await?;
        Ok(AgentAssignment {
            id,
            role_id: self.catalogue.role(AGENT).map(|r| r.id.clone()).unwrap_or_default(),
            from_id: facilitator.party_uuid,
            to_id: agent.uuid().to_owned(),
        })
    }

    /// `DELETE agents?party=&to=[&cascade=true]` (CAW): removes the agent. Its client
    /// delegations from this facilitator go with it only with `cascade` (400 otherwise, as the
    /// reference's check for connected references), in the same transaction.
    pub async fn remove_facilitator_agent(&self, person: &PartyRow, party_uuid: &str, to: &str, cascade: bool) -> Result<(), AdminError> {
        let facilitator = self.client_facilitator(person, party_uuid, Gate::ClientAdministrationWrite).await?;
        let uuid = uuid_param(to, "to")?;
        let not_agent = || AdminError::NotFound(format!("{uuid} is not an agent of {}", facilitator.name));
        let assignment = self.store.assignment(facilitator.party_id, &uuid, AGENT).await?.ok_or_else(not_agent)?;
        let mut tx = self.store.begin_write().await?;
        let delegations = tx.client_delegations_by_facilitator(facilitator.party_id, &uuid).await?;
        if !delegations.is_empty() && !cascade {
            return Err(AdminError::BadRequest(format!(
                "the agent holds {} client delegation(s) from {}; remove them first or pass cascade=true",
                delegations.len(),
                facilitator.name
            )));
        }
        for d in &delegations {
            tx.delete_client_delegation(&d.id).await?;
        }
        if !tx.delete_assignment(&assignment.id).await? {
            return Err(not_agent());
        }
        tx.commit().await?;
        Ok(())
    }

    /// `POST agents/accesspackages?party=&from=&to=` (CAW): delegates, for the client, each
    /// batch entry's packages through the entry's relation. Each relation must stand, each
    /// package be delegable, given by that relation for the client and — for an agent system
    /// user — among those it was approved for. A person must have been taken on as agent first;
    /// an agent system user is taken on here. All or nothing; a package delegated already
    /// answers `changed: false`.
    pub async fn delegate_agent_packages(
        &self,
        person: &PartyRow,
        party_uuid: &str,
        from: &str,
        to: &str,
        batch: &[PackageBatch],
    ) -> Result<Vec<DelegationChange>, AdminError> {
        let facilitator = self.client_facilitator(person, party_uuid, Gate::ClientAdministrationWrite).await?;
        let client = self.named_client(&facilitator, from).await?;
        let agent = self.named_agent(&facilitator, to).await?;
        if batch.is_empty() {
            return Err(AdminError::BadRequest("values must name at least one role with its packages".into()));
        }
        let approved = match &agent {
            AgentParty::SystemUser(row) => Some(agent_packages(self.catalogue, row).map_err(admin)?),
            AgentParty::Person(_) => None,
        };
        let mut plan = Vec::with_capacity(batch.len());
        for entry in batch {
            if entry.packages.is_empty() {
                return Err(AdminError::BadRequest(format!("no packages named for the role {}", entry.role)));
            }
            let packages = grants::delegable_packages(self.catalogue, &entry.packages)?;
            let relation = grants::client_relation(self.store, self.catalogue, &facilitator, &client, &entry.role).await?;
            relation.check_provides(&packages, &client)?;
            if let Some(p) = approved.as_ref().and_then(|approved| packages.iter().find(|p| !approved.contains(p.index))) {
                return Err(AdminError::BadRequest(format!("the agent system user was not approved for {}", p.urn)));
            }
            plan.push((relation.role, packages));
        }
        if let AgentParty::Person(p) = &agent {
            if self.store.assignment(facilitator.party_id, &p.party_uuid, AGENT).await?.is_none() {
                return Err(AdminError::BadRequest(format!("{} is not an agent of {}; add the agent first", p.name, facilitator.name)));
            }
        }
        let now = clock::now();
        let mut tx = self.store.begin_write().await?;
        if let AgentParty::SystemUser(row) = &agent {
            if tx.active_system_user(&row.id).await?.is_none() {
                return Err(AdminError::NotFound(format!("no person or system user {}", row.id)));
            }
            tx.ensure_assignment(facilitator.party_id, &row.id, RecipientKind::SystemUser, AGENT, now).await?;
        }
        let mut out = Vec::new();
        for (role, packages) in plan {
            if let Some(existing) = tx.client_delegation(client.party_id, &role.code, agent.uuid()).await? {
                if existing.facilitator_party_id != facilitator.party_id {
                    return Err(AdminError::Conflict(format!(
                        "another facilitator has delegated {} to this agent through {}",
                        client.name, role.code
                    )));
                }
            }
            let delegation = tx.ensure_client_delegation(client.party_id, facilitator.party_id, &role.code, agent.uuid(), now).await?;
            for p in packages {
                let changed = tx.add_client_delegation_package(&delegation, &p.id, now).await?;
                out.push(self.change(&client, &facilitator, &agent, &role.id, p, changed));
            }
        }
        tx.commit().await?;
        Ok(out)
    }

    fn change(&self, client: &PartyRow, facilitator: &PartyRow, agent: &AgentParty, role_id: &str, package: &Package, changed: bool) -> DelegationChange {
        DelegationChange {
            from_id: client.party_uuid.clone(),
            to_id: agent.uuid().to_owned(),
            via_id: facilitator.party_uuid.clone(),
            role_id: role_id.to_owned(),
            package_id: package.id.clone(),
            changed,
        }
    }

    /// `DELETE agents/accesspackages?party=&from=&to=` (CAW): takes back each batch entry's
    /// packages; a relation left without packages is removed. Unknown roles and packages are
    /// 400; a package that was not delegated answers `changed: false`. One transaction.
    pub async fn revoke_agent_packages(
        &self,
        person: &PartyRow,
        party_uuid: &str,
        from: &str,
        to: &str,
        batch: &[PackageBatch],
    ) -> Result<Vec<DelegationChange>, AdminError> {
        let facilitator = self.client_facilitator(person, party_uuid, Gate::ClientAdministrationWrite).await?;
        let client = self.named_client(&facilitator, from).await?;
        let agent_uuid = uuid_param(to, "to")?;
        let agent = find_agent(self.store, &agent_uuid).await?.ok_or_else(|| AdminError::NotFound(format!("no person or system user {agent_uuid}")))?;
        if batch.is_empty() {
            return Err(AdminError::BadRequest("values must name at least one role with its packages".into()));
        }
        let mut plan = Vec::with_capacity(batch.len());
        for entry in batch {
            let role = self.catalogue.role(entry.role.trim()).ok_or_else(|| AdminError::BadRequest(format!("{} is not a role in the catalogue", entry.role)))?;
            if entry.packages.is_empty() {
                return Err(AdminError::BadRequest(format!("no packages named for the role {}", entry.role)));
            }
            let mut packages = Vec::with_capacity(entry.packages.len());
            for value in &entry.packages {
                packages.push(self.catalogue.package_by_urn(value.trim()).ok_or_else(|| AdminError::BadRequest(format!("{value} is not an access package")))?);
            }
            plan.push((role, packages));
        }
        let mut tx = self.store.begin_write().await?;
        let mut out = Vec::new();
        let mut touched = Vec::new();
        for (role, packages) in plan {
            let delegation = tx.client_delegation(client.party_id, &role.code, &agent_uuid).await?.filter(|d| d.facilitator_party_id == facilitator.party_id);
            for p in packages {
                let changed = match &delegation {
                    Some(d) => tx.remove_client_delegation_package(&d.id, &p.id).await?,
                    None => false,
                };
                out.push(self.change(&client, &facilitator, &agent, &role.id, p, changed));
            }
            touched.extend(delegation.map(|d| d.id));
        }
        // Nothing to take back writes nothing (dropping the transaction rolls it back).
        if out.iter().any(|c| c.changed) {
            for id in touched {
                if tx.client_delegation_package_count(&id).await? == 0 {
                    tx.delete_client_delegation(&id).await?;
                }
            }
            tx.commit().await?;
        }
        Ok(out)
    }

    /// `DELETE agents/clients?party=&from=&to=` (CAW): removes every delegation of the client
    /// to the agent from this facilitator (404 when there is none).
    pub async fn remove_agent_client(&self, person: &PartyRow, party_uuid: &str, from: &str, to: &str) -> Result<(), AdminError> {
        let facilitator = self.client_facilitator(person, party_uuid, Gate::ClientAdministrationWrite).await?;
        let client = self.named_client(&facilitator, from).await?;
        let agent_uuid = uuid_param(to, "to")?;
        let mut tx = self.store.begin_write().await?;
        let delegations: Vec<_> =
            tx.client_delegations_by_facilitator(facilitator.party_id, &agent_uuid).await?.into_iter().filter(|d| d.client_party_id == client.party_id).collect();
        if delegations.is_empty() {
            return Err(AdminError::NotFound(format!("{} is not delegated to the agent {agent_uuid}", client.name)));
        }
        for d in &delegations {
            tx.delete_client_delegation(&d.id).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// `GET agents/accesspackages?party=&to=` (CAR): the clients the facilitator delegated to
    /// the agent, each with the packages per relation.
    pub async fn agent_client_packages(&self, person: &PartyRow, party_uuid: &str, to: &str) -> Result<Vec<Customer>, AdminError> {
        let facilitator = self.client_facilitator(person, party_uuid, Gate::ClientAdministrationRead).await?;
        let agent = self.named_agent(&facilitator, to).await?;
        let rows = self.store.facilitator_delegations_to_agent(facilitator.party_id, agent.uuid()).await?;
        let mut out = Vec::new();
        for (client, access) in group_delegations(self.catalogue, &rows, |r| r.client_party_id) {
            if let Some(party) = self.store.find_party(PartyKey::Id(client)).await?.filter(|p| p.is_deleted == 0) {
                out.push(Customer { party, access });
            }
        }
        out.sort_by(|a, b| a.party.name.cmp(&b.party.name).then(a.party.party_id.cmp(&b.party.party_id)));
        Ok(out)
    }

    /// `GET clients/accesspackages?party=&from=` (CAR): the agents the facilitator delegated
    /// the client to, each with the packages per relation.
    pub async fn client_agent_packages(&self, person: &PartyRow, party_uuid: &str, from: &str) -> Result<Vec<AgentAccess>, AdminError> {
        let facilitator = self.client_facilitator(person, party_uuid, Gate::ClientAdministrationRead).await?;
        let client = self.named_client(&facilitator, from).await?;
        let rows = self.store.facilitator_delegations_for_client(facilitator.party_id, client.party_id).await?;
        let mut out = Vec::new();
        for (agent, access) in group_delegations(self.catalogue, &rows, |r| r.agent_uuid.clone()) {
            if let Some(agent) = find_agent(self.store, &agent).await? {
                out.push(AgentAccess { agent, access });
            }
        }
        Ok(out)
    }
}
