//! The policy information point: which access packages, resource rights and ER roles a
//! subject holds for a party, and why (pdp.md §3, registry-delegation-ui.md §3.2 and §4.5).
//!
//! Every answer is read from committed rows, so a revoked link of any chain — an assignment,
//! a package, an ER role, a client delegation, the facilitator → agent assignment — is gone
//! from the very next answer. Paths, each named in the result:
//! - **Assignment**: the party gave the subject a role (rettighetshaver) with packages and
//!   rights; the role's own catalogue packages count too.
//! - **Role**: the subject (a person or organisation) holds an ER role in the party.
//! - **KeyRole**: the subject holds a key role (DAGL, LEDE, INNH, …) in an organisation that has
//!   an assignment or ER role in the party; it acts with that organisation's packages.
//! - **ClientDelegation**: the party is a client of a facilitator (through an ER role such as
//!   REGN or as rettighetshaver), and the facilitator delegated packages for that client to the
//!   subject, its agent system user or a person it took on as agent.
//! - Each of these from the party's **main unit** counts for a sub-unit (`mainUnit` is set).

use std::collections::BTreeMap;

use fullmakt_domain::catalogue::{Catalogue, PackageIndex, PackageSet, Role};
use fullmakt_store::{PartyKey, PartyRow, Store, StoreError};
use serde::Serialize;

/// The role an assignment gives; its packages and rights hang off it.
pub const RIGHTHOLDER: &str = "rettighetshaver";
/// The role a facilitator gives its agents (persons or agent system users).
pub const AGENT: &str = "agent";

/// Whose grants are asked for.
#[derive(Debug, Clone)]
pub enum Subject {
    /// A person or organisation from the register.
    Party(PartyRow),
    /// A system user, by id.
    SystemUser(String),
}

impl Subject {
    pub fn uuid(&self) -> &str {
        match self {
            Subject::Party(p) => &p.party_uuid,
            Subject::SystemUser(id) => id,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Reason {
    Assignment,
    Role,
    KeyRole,
    ClientDelegation,
}

/// A party named in a grant path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PartyRef {
    pub party_id: i64,
    pub party_uuid: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization_number: Option<String>,
    pub name: String,
}

impl From<&PartyRow> for PartyRef {
    fn from(p: &PartyRow) -> Self {
        Self { party_id: p.party_id, party_uuid: p.party_uuid.clone(), organization_number: p.org_number.clone(), name: p.name.clone() }
    }
}

/// How one package, right or role reached the subject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GrantPath {
    pub reason: Reason,
    /// The party the authority is over: the asked party, or its main unit.
    pub from: PartyRef,
    /// The role that carried it: the assignment's role, the ER role, or for a client
    /// delegation the role that makes the party a client of the facilitator.
    pub role: String,
    /// The organisation in between: the one whose key role the subject holds, or the facilitator.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<PartyRef>,
    /// The key role the subject holds in `via`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via_role: Option<String>,
    /// True when `from` is the asked party's main unit.
    pub main_unit: bool,
}

/// Everything a subject holds for one party.
#[derive(Debug, Clone, Default)]
pub struct SubjectGrants {
    pub packages: BTreeMap<PackageIndex, Vec<GrantPath>>,
    /// (resource id, action) → paths.
    pub rights: BTreeMap<(String, String), Vec<GrantPath>>,
    /// ER role code → paths (persons and organisations only).
    pub roles: BTreeMap<String, Vec<GrantPath>>,
}

impl SubjectGrants {
    pub fn package_set(&self) -> PackageSet {
        let mut set = PackageSet::default();
        for p in self.packages.keys() {
            set.insert(*p);
        }
        set
    }

    pub fn has_right(&self, resource_id: &str, action: &str) -> bool {
        self.rights.contains_key(&(resource_id.to_owned(), action.to_owned()))
    }

    pub fn is_empty(&self) -> bool {
        self.packages.is_empty() && self.rights.is_empty() && self.roles.is_empty()
    }

    fn add_packages(&mut self, set: PackageSet, path: &GrantPath) {
        for p in set.iter() {
            self.packages.entry(p).or_default().push(path.clone());
        }
    }
}

/// Answers "what does `subject` hold for `party`, and why".
pub async fn grants_for(store: &Store, catalogue: &Catalogue, subject: &Subject, party: &PartyRow) -> Result<SubjectGrants, StoreError> {
    let mut out = SubjectGrants::default();
    let mut froms = vec![(party.clone(), false)];
    if let Some(main) = party.main_unit_party_id {
        if let Some(main) = store.find_party(PartyKey::Id(main)).await? {
            froms.push((main, true));
        }
    }
    // The organisations whose key role the subject holds, for the KeyRole path.
    let key_role_orgs: Vec<(PartyRow, String)> = match subject {
        Subject::Party(p) => {
            let mut orgs = Vec::new();
            for held in store.er_roles_held_by(p.party_id).await? {
                if catalogue.role(&held.role_code).is_some_and(|r| r.is_key_role) {
                    if let Some(org) = store.find_party(PartyKey::Id(held.from_party_id)).await? {
                        orgs.push((org, held.role_code));
                    }
                }
            }
            orgs
        }
        Subject::SystemUser(_) => Vec::new(),
    };

    for (from, main_unit) in &froms {
        let path = |reason, role: &str, via: Option<(&PartyRow, &str)>| GrantPath {
            reason,
            from: PartyRef::from(from),
            role: role.to_owned(),
            via: via.map(|(p, _)| PartyRef::from(p)),
            via_role: via.map(|(_, r)| r.to_owned()),
            main_unit: *main_unit,
        };

        // Assignment: from → subject.
        add_assignments(store, catalogue, from, subject.uuid(), &mut out, |role| path(Reason::Assignment, role, None)).await?;

        if let Subject::Party(holder) = subject {
            // Role: the subject holds ER roles in `from`.
            for code in store.er_role_codes(from.party_id, holder.party_id).await? {
                add_role(catalogue, from, &code, &mut out, &path(Reason::Role, &code, None));
            }
            // KeyRole: the subject is DAGL (etc.) of an organisation that holds something in `from`.
            for (org, key_role) in &key_role_orgs {
                add_assignments(store, catalogue, from, &org.party_uuid, &mut out, |role| {
                    path(Reason::KeyRole, role, Some((org, key_role)))
                })
                .await?;
                for code in store.er_role_codes(from.party_id, org.party_id).await? {
                    add_role(catalogue, from, &code, &mut out, &path(Reason::KeyRole, &code, Some((org, key_role))));
                }
            }
        }

        // Client delegations reach agent system users and, through Access Management's client
        // API, persons a facilitator took on as agents.
        let agent = match subject {
            Subject::SystemUser(agent) => Some(agent.as_str()),
            Subject::Party(holder) if holder.party_type == "person" => Some(holder.party_uuid.as_str()),
            Subject::Party(_) => None,
        };
        if let Some(agent) = agent {
            add_client_delegations(store, catalogue, from, agent, &mut out, |role, facilitator| {
                path(Reason::ClientDelegation, role, Some((facilitator, AGENT)))
            })
            .await?;
        }
    }
    Ok(out)
}

/// The packages and rights `from` assigned to `to_uuid`, plus the packages of each assigned role.
async fn add_assignments(
    store: &Store,
    catalogue: &Catalogue,
    from: &PartyRow,
    to_uuid: &str,
    out: &mut SubjectGrants,
    path: impl Fn(&str) -> GrantPath,
) -> Result<(), StoreError> {
    let rows = store.grants_from(from.party_id, to_uuid).await?;
    let mut roles_seen: Vec<&str> = Vec::new();
    for row in &rows {
        let p = path(&row.role_code);
        if !roles_seen.contains(&row.role_code.as_str()) {
            roles_seen.push(&row.role_code);
            if let Some(role) = catalogue.role(&row.role_code) {
                out.add_packages(catalogue.packages_given_by_role(role.index, from.unit_type.as_deref()), &p);
            }
        }
        if let Some(package) = row.package_id.as_deref().and_then(|id| catalogue.package_by_id(id)) {
            out.packages.entry(package.index).or_default().push(p.clone());
        }
        if let (Some(resource), Some(action)) = (&row.resource_id, &row.action) {
            out.rights.entry((resource.clone(), action.clone())).or_default().push(p);
        }
    }
    Ok(())
}

/// An ER role held in `from`: the role itself and the packages it gives for `from`'s form.
fn add_role(catalogue: &Catalogue, from: &PartyRow, code: &str, out: &mut SubjectGrants, path: &GrantPath) {
    out.roles.entry(code.to_owned()).or_default().push(path.clone());
    if let Some(role) = catalogue.role(code) {
        out.add_packages(catalogue.packages_given_by_role(role.index, from.unit_type.as_deref()), path);
    }
}

/// The packages client delegations give `agent` for `client` itself (not its main unit): the
/// decision index keeps these per (client, agent).
pub async fn client_delegated_packages(store: &Store, catalogue: &Catalogue, client: &PartyRow, agent: &str) -> Result<PackageSet, StoreError> {
    let mut out = SubjectGrants::default();
    add_client_delegations(store, catalogue, client, agent, &mut out, |role, facilitator| GrantPath {
        reason: Reason::ClientDelegation,
        from: PartyRef::from(client),
        role: role.to_owned(),
        via: Some(PartyRef::from(facilitator)),
        via_role: Some(AGENT.to_owned()),
        main_unit: false,
    })
    .await?;
    Ok(out.package_set())
}

/// The packages a client delegation gives an agent for the client `from`, counting only those
/// whose whole chain still stands: the facilitator → agent assignment, the client → facilitator
/// relation, and the package being given by that relation.
async fn add_client_delegations(
    store: &Store,
    catalogue: &Catalogue,
    from: &PartyRow,
    agent: &str,
    out: &mut SubjectGrants,
    path: impl Fn(&str, &PartyRow) -> GrantPath,
) -> Result<(), StoreError> {
    let rows = store.client_delegation_packages(agent, from.party_id).await?;
    let mut chains: BTreeMap<(i64, String), Option<(PartyRow, PackageSet)>> = BTreeMap::new();
    for row in rows {
        let Some(package) = row.package_id.as_deref().and_then(|id| catalogue.package_by_id(id)) else { continue };
        let key = (row.facilitator_party_id, row.via_role_code.clone());
        if !chains.contains_key(&key) {
            let chain = client_chain(store, catalogue, from, row.facilitator_party_id, &row.via_role_code, agent).await?;
            chains.insert(key.clone(), chain);
        }
        if let Some(Some((facilitator, provided))) = chains.get(&key) {
            if provided.contains(package.index) && package.is_delegable {
                out.packages.entry(package.index).or_default().push(path(&row.via_role_code, facilitator));
            }
        }
    }
    Ok(())
}

/// The facilitator and the packages its relation to the client provides, if the chain
/// client → facilitator → agent stands.
async fn client_chain(
    store: &Store,
    catalogue: &Catalogue,
    client: &PartyRow,
    facilitator_party_id: i64,
    via_role: &str,
    agent: &str,
) -> Result<Option<(PartyRow, PackageSet)>, StoreError> {
    let Some(facilitator) = store.find_party(PartyKey::Id(facilitator_party_id)).await? else { return Ok(None) };
    if store.assignment(facilitator.party_id, agent, AGENT).await?.is_none() {
        return Ok(None);
    }
    let Some(role) = catalogue.role(via_role) else { return Ok(None) };
    let provided = relation_provides(store, catalogue, client, &facilitator, role).await?;
    Ok(provided.map(|p| (facilitator, p)))
}

/// The packages the relation `role` from `client` to `facilitator` gives the facilitator, as
/// it stands now: for rettighetshaver, the packages the client gave it; for an ER role the
/// client registered on it, what the catalogue's role rows give for the client's organisation
/// form. `None` when the client has not given that relation (or `role` makes none). The PIP's
/// chain check and every write of a client delegation read the relation here.
pub async fn relation_provides(store: &Store, catalogue: &Catalogue, client: &PartyRow, facilitator: &PartyRow, role: &Role) -> Result<Option<PackageSet>, StoreError> {
    if role.code == RIGHTHOLDER {
        let mut set = PackageSet::default();
        for row in store.grants_from(client.party_id, &facilitator.party_uuid).await? {
            if let Some(p) = row.package_id.as_deref().filter(|_| row.role_code == RIGHTHOLDER).and_then(|id| catalogue.package_by_id(id)) {
                set.insert(p.index);
            }
        }
        return Ok((!set.is_empty()).then_some(set));
    }
    if !role.is_er_role() {
        return Ok(None);
    }
    let held = store.er_role_codes(client.party_id, facilitator.party_id).await?;
    if !held.iter().any(|code| catalogue.role(code).is_some_and(|r| r.index == role.index)) {
        return Ok(None);
    }
    Ok(Some(catalogue.packages_given_by_role(role.index, client.unit_type.as_deref())))
}
