//! Agent system users and their clients (authentication-api.md §1.4 #55–#62, §1.5, §3.10;
//! registry-delegation-ui.md §4). A facilitator — an accounting, auditing or business-manager
//! firm — owns an agent system user that holds client packages only; its client administrators
//! then delegate, client by client, what each client has given the firm.
//!
//! Where the reference spreads this over Authentication and Access Management (and can leave
//! them disagreeing), each use case here is one transaction: the checks that decide whether a
//! client may be delegated are read again under the write lock, so a client whose ER role was
//! removed a moment ago, or an agent deleted a moment ago, is refused instead of half-written.

use std::collections::BTreeMap;

use fullmakt_domain::auth_error::{AuthCode, AuthProblem, ValidationCode, ValidationError};
use fullmakt_domain::catalogue::{Catalogue, PackageIndex, PackageSet};
use fullmakt_domain::system_register::AccessPackage;
use fullmakt_store::{PartyKey, PartyRow, RecipientKind, Store, SystemUserRow, WriteTx};

use crate::access_management::Gate;
use crate::admin::AdminError;
use crate::auth_error::AuthError;
use crate::clock;
use crate::grants;
use crate::pip::{AGENT, RIGHTHOLDER};
use crate::requests::{internal, problem, Approvals, UserType};
use crate::system_users::SystemUserView;

/// Reading a facilitator's clients and their delegations through the end-user API.
pub const CLIENT_DELEGATIONS_READ: &str = "altinn:clientdelegations.read";
/// Delegating and removing clients through the end-user API.
pub const CLIENT_DELEGATIONS_WRITE: &str = "altinn:clientdelegations.write";

/// What a client gives its facilitator through one relation: an ER role or rettighetshaver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAccess {
    /// The catalogue code of the role: `regnskapsforer`, `forretningsforer`, `rettighetshaver`, …
    pub role_code: String,
    /// The role's URN, `urn:altinn:external-role:ccr:regnskapsforer` or `urn:altinn:role:rettighetshaver`.
    pub role_urn: String,
    /// Delegable packages only: nothing else can reach an agent.
    pub packages: PackageSet,
}

impl ClientAccess {
    /// The access through the role with this catalogue code (its URN from the catalogue).
    pub fn new(catalogue: &Catalogue, role_code: &str, packages: PackageSet) -> Self {
        let role_urn = catalogue.role(role_code).map_or_else(|| format!("urn:altinn:role:{role_code}"), |r| r.urn.clone());
        Self { role_code: role_code.to_owned(), role_urn, packages }
    }
}

/// A facilitator's client with everything it gives the facilitator (`ExternalClientDto`).
#[derive(Debug, Clone)]
pub struct Customer {
    pub party: PartyRow,
    pub access: Vec<ClientAccess>,
}

impl Customer {
    /// Every package the client gives the facilitator, through any relation.
    pub fn packages(&self) -> PackageSet {
        self.access.iter().fold(PackageSet::default(), |all, a| all.union(&a.packages))
    }

    /// The client can be delegated to an agent holding `agent_packages` only when it gives the
    /// facilitator every one of them (§3.10, AUTH-00080 otherwise).
    pub fn covers(&self, agent_packages: &PackageSet) -> bool {
        let given = self.packages();
        agent_packages.iter().all(|p| given.contains(p))
    }

    /// The delegation batch for an agent: per relation, the agent's packages it provides; each
    /// package once, through the first relation that gives it (ER roles before rettighetshaver,
    /// as they are listed).
    fn batch(&self, agent_packages: &PackageSet) -> Vec<(&ClientAccess, Vec<PackageIndex>)> {
        let mut taken = PackageSet::default();
        let mut out = Vec::new();
        for access in &self.access {
            let packages: Vec<PackageIndex> =
                agent_packages.iter().filter(|p| access.packages.contains(*p) && !taken.contains(*p)).collect();
            if !packages.is_empty() {
                packages.iter().for_each(|p| taken.insert(*p));
                out.push((access, packages));
            }
        }
        out
    }
}

/// One client delegated to an agent (`DelegationResponse`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientDelegationView {
    pub agent_system_user_id: String,
    pub client: PartyRow,
    /// The facilitator → agent assignment the delegation hangs on.
    pub assignment_id: String,
}

/// An agent system user with its owner (the facilitator) and its packages.
#[derive(Debug, Clone)]
pub struct Agent {
    pub row: SystemUserRow,
    pub owner: PartyRow,
    pub packages: PackageSet,
}

/// The facilitator's clients, by name: units that hold a client ER role in which the facilitator
/// is the role holder, and parties that made the facilitator rettighetshaver with packages. Only
/// delegable packages count, and for role-given packages the client's organisation form must
/// match the catalogue's entity variant (`forretningsforer-eiendom` only from ESEK and BRL).
/// Two queries and one party lookup per rettighetshaver giver, however many clients by role.
pub async fn customers_of(store: &Store, catalogue: &Catalogue, facilitator: &PartyRow) -> Result<Vec<Customer>, AuthError> {
    let mut by_party: BTreeMap<i64, Customer> = BTreeMap::new();
    for held in store.units_with_role_holder(facilitator.party_id).await? {
        if held.unit.party_id == facilitator.party_id {
            continue;
        }
        if let Some(access) = role_access(catalogue, &held.role_code, held.unit.unit_type.as_deref()) {
            by_party.entry(held.unit.party_id).or_insert_with(|| Customer { party: held.unit, access: Vec::new() }).access.push(access);
        }
    }
    let mut given: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for (from, package_id) in store.packages_given_to(&facilitator.party_uuid, RIGHTHOLDER).await? {
        given.entry(from).or_default().push(package_id);
    }
    for (from, package_ids) in given {
        let Some(access) = rightholder_access(catalogue, &package_ids) else { continue };
        if let Some(customer) = by_party.get_mut(&from) {
            customer.access.push(access);
            continue;
        }
        match store.find_party(PartyKey::Id(from)).await? {
            Some(p) if is_client(&p, facilitator) => {
                by_party.insert(from, Customer { party: p, access: vec![access] });
            }
            _ => {}
        }
    }
    let mut out: Vec<Customer> = by_party.into_values().collect();
    out.sort_by(|a, b| a.party.name.cmp(&b.party.name).then(a.party.party_id.cmp(&b.party.party_id)));
    Ok(out)
}

/// One client of the facilitator, if `client` is one (the same rules as [`customers_of`], read
/// for this client alone: delegating one client does not read the whole list).
pub async fn customer(store: &Store, catalogue: &Catalogue, facilitator: &PartyRow, client: PartyRow) -> Result<Option<Customer>, AuthError> {
    if !is_client(&client, facilitator) {
        return Ok(None);
    }
    let mut access: Vec<ClientAccess> = Vec::new();
    for code in store.er_role_codes(client.party_id, facilitator.party_id).await? {
        access.extend(role_access(catalogue, &code, client.unit_type.as_deref()));
    }
    let given: Vec<String> = store
        .grants_from(client.party_id, &facilitator.party_uuid)
        .await?
        .into_iter()
        .filter(|g| g.role_code == RIGHTHOLDER)
        .filter_map(|g| g.package_id)
        .collect();
    access.extend(rightholder_access(catalogue, &given));
    Ok((!access.is_empty()).then_some(Customer { party: client, access }))
}

/// Clients are other live organisations.
fn is_client(party: &PartyRow, facilitator: &PartyRow) -> bool {
    party.is_deleted == 0 && party.party_type == "organization" && party.party_id != facilitator.party_id
}

/// What a client ER role gives the facilitator, if it is a client role that gives any
/// delegable package to a client of this organisation form.
fn role_access(catalogue: &Catalogue, role_code: &str, unit_type: Option<&str>) -> Option<ClientAccess> {
    let role = catalogue.role(role_code)?;
    if !grants::is_client_role(catalogue, role) {
        return None;
    }
    let packages = delegable(catalogue, catalogue.packages_given_by_role(role.index, unit_type).iter());
    (!packages.is_empty()).then(|| ClientAccess { role_code: role.code.clone(), role_urn: role.urn.clone(), packages })
}

/// What a client gave the facilitator as rettighetshaver, if any of it is delegable.
fn rightholder_access(catalogue: &Catalogue, package_ids: &[String]) -> Option<ClientAccess> {
    let packages = delegable(catalogue, package_ids.iter().filter_map(|id| catalogue.package_by_id(id)).map(|p| p.index));
    if packages.is_empty() {
        return None;
    }
    Some(ClientAccess::new(catalogue, RIGHTHOLDER, packages))
}

fn delegable(catalogue: &Catalogue, packages: impl Iterator<Item = PackageIndex>) -> PackageSet {
    let mut out = PackageSet::default();
    for p in packages.filter(|p| catalogue.package(*p).is_delegable) {
        out.insert(p);
    }
    out
}

/// The packages an agent system user was approved for, as a set (unknown URNs are skipped:
/// they were checked against the catalogue when the request was made).
pub fn agent_packages(catalogue: &Catalogue, row: &SystemUserRow) -> Result<PackageSet, AuthError> {
    let listed: Vec<AccessPackage> = serde_json::from_str(&row.access_packages).map_err(internal)?;
    let mut out = PackageSet::default();
    for p in listed.iter().filter_map(|p| catalogue.package_by_urn(&p.urn)) {
        out.insert(p.index);
    }
    Ok(out)
}

/// Reads a package filter as the portal's backend sends it (`packages=regnskapsforer-lonn`,
/// the last segment of the URN) or as a full URN. An unknown value matches no client.
fn package_filter(catalogue: &Catalogue, values: &[String]) -> Option<PackageSet> {
    let mut out = PackageSet::default();
    for v in values.iter().map(|v| v.trim()).filter(|v| !v.is_empty()) {
        let found = catalogue.package_by_urn(v).or_else(|| catalogue.package_by_urn(&format!("urn:altinn:accesspackage:{v}")))?;
        out.insert(found.index);
    }
    Some(out)
}

fn validation(code: ValidationCode, path: &str) -> ValidationError {
    ValidationError::new(code, path)
}

impl Approvals<'_> {
    /// An agent system user of the party: not found is AUTH-00015, another party's AUTH-00024,
    /// a standard system user AUTH-00034.
    async fn agent_of(&self, party: &PartyRow, id: &str) -> Result<Agent, AuthError> {
        let row = match self.store.system_user(id.trim()).await? {
            Some(row) if row.is_deleted == 0 => row,
            _ => return Err(problem(AuthCode::SystemUserNotFound)),
        };
        if row.owner_party_id != party.party_id {
            return Err(problem(AuthCode::DeleteSystemUserNotOwned));
        }
        if row.user_type != UserType::Agent.as_str() {
            return Err(problem(AuthCode::AgentSystemUserExpectedAgentUserType));
        }
        let packages = agent_packages(self.catalogue, &row)?;
        Ok(Agent { row, owner: party.clone(), packages })
    }

    /// The facilitator named in a query must be the party in the path: a client administrator
    /// of one firm cannot read or change another firm's clients by naming it.
    fn same_facilitator(party: &PartyRow, facilitator_uuid: &str, code: AuthCode) -> Result<(), AuthError> {
        if party.party_uuid.eq_ignore_ascii_case(facilitator_uuid.trim()) {
            Ok(())
        } else {
            Err(problem(code))
        }
    }

    /// `GET systemuser/agent/{party}/clients?facilitator=&packages=` (CAR): the facilitator's
    /// clients that give it every package in `packages` (all clients when none is named).
    pub async fn customers(&self, person: &PartyRow, party_id: i64, facilitator_uuid: &str, packages: &[String]) -> Result<Vec<Customer>, AuthError> {
        self.require(person, party_id, Gate::ClientAdministrationRead).await?;
        let party = self.party(party_id).await?;
        Self::same_facilitator(&party, facilitator_uuid, AuthCode::AgentSystemUserFailedToGetClientsForbidden)?;
        let Some(filter) = package_filter(self.catalogue, packages) else { return Ok(Vec::new()) };
        let all = customers_of(self.store, self.catalogue, &party).await?;
        Ok(all.into_iter().filter(|c| c.covers(&filter)).collect())
    }

    /// The agent and the clients that may be delegated to it: those covering all its packages
    /// (the portal's customer list; the end-user API's `clients/available`).
    pub async fn available_clients(&self, person: &PartyRow, party_id: i64, agent_id: &str) -> Result<(Agent, Vec<Customer>), AuthError> {
        self.require(person, party_id, Gate::ClientAdministrationRead).await?;
        let party = self.party(party_id).await?;
        let agent = self.agent_of(&party, agent_id).await?;
        let all = customers_of(self.store, self.catalogue, &party).await?;
        let available = all.into_iter().filter(|c| c.covers(&agent.packages)).collect();
        Ok((agent, available))
    }

    /// `POST systemuser/agent/{party}/{systemUserId}?provider=&client=` (CAW): delegates to the
    /// agent, for one client, every package of the agent, each through the relation that gives
    /// it. Idempotent: delegating a delegated client again changes nothing and answers the same.
    pub async fn delegate_client(
        &self,
        person: &PartyRow,
        party_id: i64,
        agent_id: &str,
        facilitator_uuid: &str,
        client_uuid: &str,
    ) -> Result<ClientDelegationView, AuthError> {
        self.require(person, party_id, Gate::ClientAdministrationWrite).await?;
        let party = self.party(party_id).await?;
        Self::same_facilitator(&party, facilitator_uuid, AuthCode::AgentSystemUserInvalidDelegationFacilitator)?;
        let agent = self.agent_of(&party, agent_id).await?;
        self.delegate_to(&agent, client_uuid).await
    }

    async fn delegate_to(&self, agent: &Agent, client_uuid: &str) -> Result<ClientDelegationView, AuthError> {
        if agent.packages.is_empty() {
            return Err(problem(AuthCode::AccessPackageNotFound));
        }
        let customer = self.find_customer(&agent.owner, client_uuid).await?;
        if !customer.covers(&agent.packages) {
            let given = customer.packages();
            let missing: Vec<String> =
                agent.packages.iter().filter(|p| !given.contains(*p)).map(|p| self.catalogue.package(p).urn.clone()).collect();
            return Err(AuthError::Problem(
                AuthProblem::new(AuthCode::AgentSystemUserClientMissingAccessPackages).with_extension("MissingPackages", missing.join(", ")),
            ));
        }
        let now = clock::now();
        let mut tx = self.store.begin_write().await?;
        if tx.active_system_user(&agent.row.id).await?.is_none() {
            return Err(problem(AuthCode::SystemUserNotFound));
        }
        let assignment_id = tx.ensure_assignment(agent.owner.party_id, &agent.row.id, RecipientKind::SystemUser, AGENT, now).await?;
        for (access, packages) in customer.batch(&agent.packages) {
            let delegation = tx.ensure_client_delegation(customer.party.party_id, agent.owner.party_id, &access.role_code, &agent.row.id, now).await?;
            for p in packages {
                tx.add_client_delegation_package(&delegation, &self.catalogue.package(p).id, now).await?;
            }
        }
        self.recheck_relation(&mut tx, &customer, agent).await?;
        tx.commit().await?;
        Ok(ClientDelegationView { agent_system_user_id: agent.row.id.clone(), client: customer.party, assignment_id })
    }

    /// The client relation was read before the write began; an ER role removed in between
    /// would leave a delegation that gives nothing. Read it again under the write lock.
    async fn recheck_relation(&self, tx: &mut WriteTx, customer: &Customer, agent: &Agent) -> Result<(), AuthError> {
        let by_role: Vec<&ClientAccess> = customer.access.iter().filter(|a| a.role_code != RIGHTHOLDER).collect();
        if by_role.is_empty() {
            return Ok(());
        }
        let held = tx.er_role_codes(customer.party.party_id, agent.owner.party_id).await?;
        let still_held = |access: &ClientAccess| {
            let role = self.catalogue.role(&access.role_code).map(|r| r.index);
            held.iter().any(|code| self.catalogue.role(code).map(|r| r.index) == role)
        };
        if by_role.into_iter().all(still_held) {
            Ok(())
        } else {
            Err(problem(AuthCode::AgentSystemUserClientNotFound))
        }
    }

    /// The facilitator's client with this party uuid (AUTH-00079 "Client not found." otherwise).
    async fn find_customer(&self, facilitator: &PartyRow, client_uuid: &str) -> Result<Customer, AuthError> {
        let client_uuid = client_uuid.trim().to_ascii_lowercase();
        if uuid::Uuid::parse_str(&client_uuid).is_err() {
            return Err(problem(AuthCode::AgentSystemUserClientNotFound));
        }
        let client = self.store.find_party(PartyKey::Uuid(&client_uuid)).await?;
        let found = match client {
            Some(client) => customer(self.store, self.catalogue, facilitator, client).await?,
            None => None,
        };
        found.ok_or_else(|| problem(AuthCode::AgentSystemUserClientNotFound))
    }

    /// `DELETE systemuser/agent/{party}/{systemUserId}/client?client=&provider=` (CAW): removes
    /// every delegation of the client to the agent (AUTH-00038 when there is none).
    pub async fn revoke_client(&self, person: &PartyRow, party_id: i64, agent_id: &str, facilitator_uuid: &str, client_uuid: &str) -> Result<(), AuthError> {
        self.require(person, party_id, Gate::ClientAdministrationWrite).await?;
        let party = self.party(party_id).await?;
        Self::same_facilitator(&party, facilitator_uuid, AuthCode::AgentSystemUserInvalidDelegationFacilitator)?;
        let agent = self.agent_of(&party, agent_id).await?;
        self.revoke_from(&agent, client_uuid).await
    }

    async fn revoke_from(&self, agent: &Agent, client_uuid: &str) -> Result<(), AuthError> {
        let client = match uuid::Uuid::parse_str(client_uuid.trim()) {
            Ok(u) => self.store.find_party(PartyKey::Uuid(&u.to_string())).await?,
            Err(_) => None,
        };
        let Some(client) = client else { return Err(problem(AuthCode::AgentSystemUserDelegationNotFound)) };
        let mut tx = self.store.begin_write().await?;
        if tx.delete_client_delegations(client.party_id, &agent.row.id).await? == 0 {
            return Err(problem(AuthCode::AgentSystemUserDelegationNotFound));
        }
        tx.commit().await?;
        Ok(())
    }

    /// `GET systemuser/agent/{party}/{facilitator}/{systemUserId}/delegations` (CAR): the
    /// clients delegated to the agent, by name.
    pub async fn delegated_clients(&self, person: &PartyRow, party_id: i64, facilitator_uuid: &str, agent_id: &str) -> Result<Vec<ClientDelegationView>, AuthError> {
        self.require(person, party_id, Gate::ClientAdministrationRead).await?;
        let party = self.party(party_id).await?;
        Self::same_facilitator(&party, facilitator_uuid, AuthCode::AgentSystemUserInvalidDelegationFacilitator)?;
        let agent = self.agent_of(&party, agent_id).await?;
        self.client_delegations_of(&agent).await
    }

    async fn client_delegations_of(&self, agent: &Agent) -> Result<Vec<ClientDelegationView>, AuthError> {
        let assignment_id = self.store.assignment(agent.owner.party_id, &agent.row.id, AGENT).await?.map(|a| a.id).unwrap_or_default();
        let clients = self.store.clients_of_agent(&agent.row.id).await?;
        Ok(clients
            .into_iter()
            .map(|client| ClientDelegationView { agent_system_user_id: agent.row.id.clone(), client, assignment_id: assignment_id.clone() })
            .collect())
    }

    /// The party itself named by `party_uuid` in the "own organisation" routes: it must be the
    /// path's party (AUTH-00049 for an unknown uuid, 403 for another party's).
    async fn own_organisation(&self, party: &PartyRow, party_uuid: &str) -> Result<(), AuthError> {
        let Ok(u) = uuid::Uuid::parse_str(party_uuid.trim()) else { return Err(problem(AuthCode::PartyPartyUuidNotFound)) };
        if self.store.find_party(PartyKey::Uuid(&u.to_string())).await?.is_none() {
            return Err(problem(AuthCode::PartyPartyUuidNotFound));
        }
        if u.to_string() != party.party_uuid {
            return Err(AuthError::Admin(AdminError::Forbidden("the party uuid is not the party's".into())));
        }
        Ok(())
    }

    /// `POST systemuser/agent/{party}/{systemUserId}/self?partyUuid=` (AMW): the owner gives the
    /// agent its packages for itself, as it would a standard system user — so only when every
    /// package is assignable (AUTH-00064 for client-only packages such as `regnskapsforer-lonn`)
    /// and the person may pass each on (AUTH-00053).
    pub async fn add_own_organisation(&self, person: &PartyRow, party_id: i64, agent_id: &str, party_uuid: &str) -> Result<(), AuthError> {
        self.require(person, party_id, Gate::AccessManagementWrite).await?;
        let party = self.party(party_id).await?;
        self.own_organisation(&party, party_uuid).await?;
        let agent = self.agent_of(&party, agent_id).await?;
        if agent.packages.is_empty() {
            return Err(problem(AuthCode::AccessPackageNotFound));
        }
        let not_assignable: Vec<String> =
            agent.packages.iter().map(|p| self.catalogue.package(p)).filter(|p| !p.is_assignable).map(|p| p.urn.clone()).collect();
        if !not_assignable.is_empty() {
            return Err(AuthError::Problem(
                AuthProblem::new(AuthCode::AccessPackageNotDelegableStandard).with_extension("NotDelegablePackages", not_assignable.join(", ")),
            ));
        }
        let packages: Vec<AccessPackage> = agent.packages.iter().map(|p| AccessPackage { urn: self.catalogue.package(p).urn.clone() }).collect();
        let delegation = self.delegation_for(person, &party, &[], &packages).await?;
        let now = clock::now();
        let mut tx = self.store.begin_write().await?;
        if tx.active_system_user(&agent.row.id).await?.is_none() {
            return Err(problem(AuthCode::SystemUserNotFound));
        }
        delegation.write(&mut tx, &party, &agent.row.id, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// `DELETE systemuser/agent/{party}/{systemUserId}/self?partyUuid=` (AMW): takes back what
    /// the owner gave the agent for itself; client delegations stay. Idempotent.
    pub async fn remove_own_organisation(&self, person: &PartyRow, party_id: i64, agent_id: &str, party_uuid: &str) -> Result<(), AuthError> {
        self.require(person, party_id, Gate::AccessManagementWrite).await?;
        let party = self.party(party_id).await?;
        self.own_organisation(&party, party_uuid).await?;
        let agent = self.agent_of(&party, agent_id).await?;
        if let Some(assignment) = self.store.assignment(party.party_id, &agent.row.id, RIGHTHOLDER).await? {
            let mut tx = self.store.begin_write().await?;
            tx.delete_assignment(&assignment.id).await?;
            tx.commit().await?;
        }
        Ok(())
    }

    /// `GET systemuser/agent/{party}/{systemUserId}/self?partyUuid=` (AMW): whether the owner
    /// has given the agent any package for itself.
    pub async fn has_own_organisation(&self, person: &PartyRow, party_id: i64, agent_id: &str, party_uuid: &str) -> Result<bool, AuthError> {
        self.require(person, party_id, Gate::AccessManagementWrite).await?;
        let party = self.party(party_id).await?;
        self.own_organisation(&party, party_uuid).await?;
        let agent = self.agent_of(&party, agent_id).await?;
        self.holds_own_packages(&agent).await
    }

    async fn holds_own_packages(&self, agent: &Agent) -> Result<bool, AuthError> {
        let grants = self.store.grants_from(agent.owner.party_id, &agent.row.id).await?;
        Ok(grants.iter().any(|g| g.role_code == RIGHTHOLDER && g.package_id.is_some()))
    }

    /// `DELETE systemuser/agent/{party}/{systemUserId}?facilitatorId=` (AMW): deletes the agent
    /// with every client delegation, what the owner gave it, its assignment and its request (so
    /// the vendor may ask again), in one transaction. The reference deletes the request first
    /// even when a later step fails; here nothing changes unless everything does.
    pub async fn delete_agent(&self, person: &PartyRow, party_id: i64, agent_id: &str, facilitator_uuid: &str) -> Result<(), AuthError> {
        self.require(person, party_id, Gate::AccessManagementWrite).await?;
        let party = self.party(party_id).await?;
        let agent = self.agent_of(&party, agent_id).await?;
        Self::same_facilitator(&party, facilitator_uuid, AuthCode::AgentSystemUserInvalidDelegationFacilitator)?;
        let now = clock::now();
        let row = &agent.row;
        let mut tx = self.store.begin_write().await?;
        tx.delete_client_delegations_of_agent(&row.id).await?;
        tx.delete_assignments_to(&row.id).await?;
        if !tx.change_system_user(&row.id, &format!("user_id:{}", person.party_id), now, true).await? {
            return Err(problem(AuthCode::SystemUserNotFound));
        }
        tx.delete_requests_by_identity(&row.owner_org_no, &row.external_ref, &row.system_id, UserType::Agent.as_str(), now).await?;
        tx.commit().await?;
        Ok(())
    }

    // -----------------------------------------------------------------------------------------
    // The end-user API (`enduser/systemuser/…`, §1.5): the agent names its owner, so the party
    // comes from the agent rather than from the path.

    /// The agent named by `?agent=` and its owner, for the end-user API: a missing or malformed
    /// id or an unknown system user is VLD-00014 on `?agent`, a standard system user VLD-00015,
    /// an owner missing from the register 404 "System Owner not Found".
    pub async fn enduser_agent(&self, person: &PartyRow, agent_id: Option<&str>, gate: Gate) -> Result<Agent, AuthError> {
        let agent_id = agent_id.map(str::trim).filter(|a| uuid::Uuid::parse_str(a).is_ok());
        let Some(agent_id) = agent_id else { return Err(validation(ValidationCode::AgentParameterMissing, "?agent").into()) };
        let row = match self.store.system_user(&agent_id.to_ascii_lowercase()).await? {
            Some(row) if row.is_deleted == 0 => row,
            _ => return Err(validation(ValidationCode::SystemUserIdNotFound, "?agent").into()),
        };
        if row.user_type != UserType::Agent.as_str() {
            return Err(validation(ValidationCode::NotAnAgentSystemUser, "?agent").into());
        }
        let owner = match self.store.find_party(PartyKey::OrgNumber(&row.owner_org_no)).await? {
            Some(p) if p.is_deleted == 0 => p,
            _ => return Err(AuthError::Admin(AdminError::NotFound(format!("System Owner not Found: {}", row.owner_org_no)))),
        };
        self.require(person, owner.party_id, gate).await?;
        let packages = agent_packages(self.catalogue, &row)?;
        Ok(Agent { row, owner, packages })
    }

    /// `GET enduser/systemuser/clients/available?agent=` (CDR and CAR on the owner).
    pub async fn enduser_available_clients(&self, person: &PartyRow, agent_id: Option<&str>) -> Result<(Agent, Vec<Customer>), AuthError> {
        let agent = self.enduser_agent(person, agent_id, Gate::ClientAdministrationRead).await?;
        let all = customers_of(self.store, self.catalogue, &agent.owner).await?;
        let available = all.into_iter().filter(|c| c.covers(&agent.packages)).collect();
        Ok((agent, available))
    }

    /// `GET enduser/systemuser/clients?agent=` (CDR and CAR on the owner).
    pub async fn enduser_delegated_clients(&self, person: &PartyRow, agent_id: Option<&str>) -> Result<(Agent, Vec<ClientDelegationView>), AuthError> {
        let agent = self.enduser_agent(person, agent_id, Gate::ClientAdministrationRead).await?;
        let delegations = self.client_delegations_of(&agent).await?;
        Ok((agent, delegations))
    }

    /// `POST` / `DELETE enduser/systemuser/clients?agent=&client=` (CDW and CAW on the owner).
    /// Both parameters missing report both (VLD-00014 and VLD-00016).
    pub async fn enduser_change_client(&self, person: &PartyRow, agent_id: Option<&str>, client_uuid: Option<&str>, add: bool) -> Result<(Agent, PartyRow), AuthError> {
        let client = client_uuid.map(str::trim).filter(|c| uuid::Uuid::parse_str(c).is_ok());
        let agent = match self.enduser_agent(person, agent_id, Gate::ClientAdministrationWrite).await {
            Err(AuthError::Validation(mut errors)) if client.is_none() => {
                errors.push(validation(ValidationCode::ClientParameterMissing, "?client"));
                return Err(AuthError::Validation(errors));
            }
            other => other?,
        };
        let Some(client) = client else { return Err(validation(ValidationCode::ClientParameterMissing, "?client").into()) };
        if add {
            let view = self.delegate_to(&agent, client).await?;
            Ok((agent, view.client))
        } else {
            let party = self.store.find_party(PartyKey::Uuid(&client.to_ascii_lowercase())).await?;
            self.revoke_from(&agent, client).await?;
            Ok((agent, party.unwrap_or_default()))
        }
    }

    /// `GET enduser/systemuser/agents?party={orgno}` (CDR and CAR on the organisation): its
    /// agent system users (404 "Party not found" for an organisation not in the register).
    pub async fn enduser_agents(&self, person: &PartyRow, org_no: &str) -> Result<Vec<SystemUserView>, AuthError> {
        let party = match self.store.find_party(PartyKey::OrgNumber(org_no.trim())).await? {
            Some(p) if p.is_deleted == 0 && p.party_type == "organization" => p,
            _ => return Err(AuthError::Admin(AdminError::NotFound("Party not found".into()))),
        };
        self.require(person, party.party_id, Gate::ClientAdministrationRead).await?;
        self.agents_of(party.party_id).await
    }
}
