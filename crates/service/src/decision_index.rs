//! The decision index: what every system user holds for every party, in memory, so a
//! system-user decision is a few hash lookups and a bitset AND (DESIGN.md §4.4).
//!
//! Freshness (DESIGN.md §4.3): before deciding, [`DecisionIndex::fresh`] reads the database's
//! change sequence — a caller alone on SQLite on its own thread, otherwise through the pool,
//! where one read serves every decision that arrived before it started — and applies
//! the logged changes (`index_changes`, written in the same transaction as each grant, party or
//! role write) up to it. So every write committed before a decision arrives decides it, on this
//! node or any other sharing the database. A bulk write logs `all` and the index is rebuilt.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use fullmakt_domain::catalogue::{Catalogue, PackageSet};
use fullmakt_store::{IndexPartyRow, PartyKey, Store, StoreError, SystemUserGrantRow};

use crate::pip;

/// The index's keys are integers the server assigned or the register holds, never text a
/// caller chooses, so a fast seeded hasher serves better than SipHash.
type Map<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// A party as the decision path needs it: plain numbers, copied out of the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexedParty {
    pub party_id: i64,
    pub main_unit: Option<i64>,
    pub org_number: Option<u32>,
}

/// What the index keeps per party besides [`IndexedParty`]: what refreshes need.
#[derive(Debug, Clone)]
struct PartyEntry {
    party: IndexedParty,
    uuid: u128,
    unit_type: Option<Arc<str>>,
}

/// What one party gave one system user directly.
#[derive(Debug, Clone, Default)]
pub struct DirectGrants {
    pub packages: PackageSet,
    /// (resource id, action)
    pub rights: Vec<(Box<str>, Box<str>)>,
}

/// Everything one system user holds from one party: one entry, so a decision finds it with
/// one lookup per party it asks about. With its key it fills one 64-byte bucket, so that lookup
/// touches one cache line: a decision reads `packages`; how they split, and any single rights,
/// sit behind `detail`, which the common entry (packages given directly) does without.
#[derive(Debug, Clone, Default)]
struct HeldFromParty {
    /// Direct and delegated packages together.
    packages: PackageSet,
    detail: Option<Box<HeldDetail>>,
}

#[derive(Debug, Clone, Default)]
struct HeldDetail {
    direct: DirectGrants,
    /// Packages delegated to the system user as agent, with the party as client.
    delegated: PackageSet,
}

impl HeldFromParty {
    fn new(direct: DirectGrants, delegated: PackageSet) -> Self {
        let packages = direct.packages.union(&delegated);
        let detail = (!direct.rights.is_empty() || !delegated.is_empty()).then(|| Box::new(HeldDetail { direct, delegated }));
        Self { packages, detail }
    }

    fn into_parts(self) -> (DirectGrants, PackageSet) {
        match self.detail {
            Some(detail) => (detail.direct, detail.delegated),
            None => (DirectGrants { packages: self.packages, rights: Vec::new() }, PackageSet::default()),
        }
    }

    fn rights(&self) -> &[(Box<str>, Box<str>)] {
        self.detail.as_ref().map_or(&[], |d| &d.direct.rights)
    }

    fn is_empty(&self) -> bool {
        self.packages.is_empty() && self.rights().is_empty()
    }
}

/// (party id, system user): the system user's uuid as two words, so the key is 24 bytes
/// aligned to 8 (a `u128` would pad it to 32).
type HeldKey = (i64, u64, u64);

const _: () = assert!(std::mem::size_of::<(HeldKey, HeldFromParty)>() == 64, "one held entry is one cache line");

fn held_key(party_id: i64, system_user: u128) -> HeldKey {
    (party_id, (system_user >> 64) as u64, system_user as u64)
}

/// What a system user holds for a party, through every path the PIP knows.
#[derive(Debug, Clone, Default)]
pub struct SystemUserAccess {
    pub packages: PackageSet,
    pub rights: Vec<(Box<str>, Box<str>)>,
}

#[derive(Default)]
struct IndexState {
    /// The change sequence the index reflects.
    applied: i64,
    parties: Map<i64, PartyEntry>,
    /// Copies of the parties' [`IndexedParty`], so a lookup by organisation number or uuid is
    /// one probe.
    by_org_number: Map<u32, IndexedParty>,
    by_uuid: Map<u128, IndexedParty>,
    held: Map<HeldKey, HeldFromParty>,
}

impl IndexState {
    /// Applies `change` to what `system_user` holds from `party_id` (its direct grants, its
    /// delegated packages), dropping the entry when it holds nothing any more.
    fn update_held(&mut self, party_id: i64, system_user: u128, change: impl FnOnce(&mut DirectGrants, &mut PackageSet)) {
        let key = held_key(party_id, system_user);
        let entry = self.held.entry(key).or_default();
        let (mut direct, mut delegated) = std::mem::take(entry).into_parts();
        change(&mut direct, &mut delegated);
        *entry = HeldFromParty::new(direct, delegated);
        if entry.is_empty() {
            self.held.remove(&key);
        }
    }
}

pub fn parse_uuid(s: &str) -> Option<u128> {
    uuid::Uuid::parse_str(s).ok().map(|u| u.as_u128())
}

fn org_number(s: Option<&str>) -> Option<u32> {
    s.and_then(|n| n.parse().ok())
}

/// Reads the change sequence for callers that must see every committed write. A caller alone
/// reads it on its own thread when the store can (SQLite: a few µs). Callers that arrive
/// together share pooled reads: each waits for a read that started after it arrived, and at
/// most one runs at a time, so under load one read serves many decisions.
#[derive(Default)]
struct SequenceFence {
    lock: tokio::sync::Mutex<()>,
    /// Callers inside `current` now.
    callers: AtomicUsize,
    /// How many pooled reads have started.
    started: AtomicU64,
    /// The start number of the last finished pooled read, and what it read.
    finished: AtomicU64,
    value: AtomicI64,
}

/// Counts a caller in for as long as it is inside `current` (also when its future is dropped).
struct Caller<'a>(&'a AtomicUsize);

impl Drop for Caller<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl SequenceFence {
    async fn current(&self, store: &Store) -> Result<i64, StoreError> {
        let alone = self.callers.fetch_add(1, Ordering::AcqRel) == 0;
        let _caller = Caller(&self.callers);
        if alone {
            if let Some(value) = store.change_sequence_inline() {
                return Ok(value);
            }
        }
        let arrived = self.started.load(Ordering::Acquire);
        let _guard = self.lock.lock().await;
        if self.finished.load(Ordering::Acquire) > arrived {
            return Ok(self.value.load(Ordering::Acquire));
        }
        let number = self.started.fetch_add(1, Ordering::AcqRel) + 1;
        let value = store.change_sequence().await?;
        self.value.store(value, Ordering::Release);
        self.finished.store(number, Ordering::Release);
        Ok(value)
    }
}

pub struct DecisionIndex {
    store: Store,
    catalogue: &'static Catalogue,
    state: RwLock<IndexState>,
    refresh: tokio::sync::Mutex<()>,
    fence: SequenceFence,
}

impl DecisionIndex {
    /// Builds the index from the database.
    pub async fn load(store: Store, catalogue: &'static Catalogue) -> Result<Self, StoreError> {
        let state = build(&store, catalogue).await?;
        Ok(Self { store, catalogue, state: RwLock::new(state), refresh: tokio::sync::Mutex::new(()), fence: SequenceFence::default() })
    }

    /// The change sequence the index reflects.
    pub fn applied(&self) -> i64 {
        self.read().applied
    }

    /// Brings the index up to every write committed before this call; returns that sequence.
    pub async fn fresh(&self) -> Result<i64, StoreError> {
        let target = self.fence.current(&self.store).await?;
        if self.applied() >= target {
            return Ok(target);
        }
        let _one_refresher = self.refresh.lock().await;
        let applied = self.applied();
        if applied >= target {
            return Ok(target);
        }
        let changes = self.store.index_changes(applied, target).await?;
        // Read after the changes: had the sweep passed `applied`, some of them may be gone.
        let swept = self.store.index_changes_horizon().await? > applied;
        if swept || changes.iter().any(|c| c.kind == fullmakt_store::CHANGE_ALL) {
            let mut rebuilt = build(&self.store, self.catalogue).await?;
            rebuilt.applied = rebuilt.applied.max(target);
            *self.state.write().unwrap_or_else(|e| e.into_inner()) = rebuilt;
            return Ok(target);
        }
        for change in &changes {
            match change.kind.as_str() {
                fullmakt_store::CHANGE_PARTY => self.refresh_party(change.party_id).await?,
                fullmakt_store::CHANGE_ASSIGNMENT => {
                    self.refresh_direct(change.party_id, &change.other).await?;
                    let pairs = self.store.client_delegation_pairs_touching(Some(change.party_id), Some(&change.other)).await?;
                    for (client, agent) in pairs {
                        self.refresh_delegated(client, &agent).await?;
                    }
                }
                fullmakt_store::CHANGE_CLIENT => self.refresh_delegated(change.party_id, &change.other).await?,
                fullmakt_store::CHANGE_ROLE => {
                    for (client, agent) in self.store.client_delegation_pairs_touching(Some(change.party_id), None).await? {
                        self.refresh_delegated(client, &agent).await?;
                    }
                }
                _ => {}
            }
        }
        self.state.write().unwrap_or_else(|e| e.into_inner()).applied = target;
        Ok(target)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, IndexState> {
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    pub fn party_by_id(&self, party_id: i64) -> Option<IndexedParty> {
        self.read().parties.get(&party_id).map(|p| p.party)
    }

    pub fn party_by_org_number(&self, org_number: &str) -> Option<IndexedParty> {
        let n: u32 = org_number.parse().ok()?;
        self.read().by_org_number.get(&n).copied()
    }

    pub fn party_by_uuid(&self, uuid: u128) -> Option<IndexedParty> {
        self.read().by_uuid.get(&uuid).copied()
    }

    /// What `system_user` holds for `party_id`: directly and through client delegation, from
    /// the party and from its main unit — the PIP's system-user paths, from memory.
    pub fn system_user_access(&self, system_user: u128, party_id: i64) -> SystemUserAccess {
        let party = self.party_by_id(party_id).unwrap_or(IndexedParty { party_id, main_unit: None, org_number: None });
        self.system_user_access_for(system_user, party)
    }

    /// [`DecisionIndex::system_user_access`] for a party already looked up.
    pub fn system_user_access_for(&self, system_user: u128, party: IndexedParty) -> SystemUserAccess {
        let state = self.read();
        let mut out = SystemUserAccess::default();
        for from in std::iter::once(party.party_id).chain(party.main_unit) {
            if let Some(held) = state.held.get(&held_key(from, system_user)) {
                out.packages = out.packages.union(&held.packages);
                out.rights.extend(held.rights().iter().cloned());
            }
        }
        out
    }

    async fn refresh_party(&self, party_id: i64) -> Result<(), StoreError> {
        let row = self.store.index_party(party_id).await?;
        let mut state = self.state.write().unwrap_or_else(|e| e.into_inner());
        if let Some(old) = state.parties.remove(&party_id) {
            state.by_uuid.remove(&old.uuid);
            if let Some(n) = old.party.org_number {
                state.by_org_number.remove(&n);
            }
        }
        if let Some(row) = row {
            insert_party(&mut state, row);
        }
        Ok(())
    }

    async fn refresh_direct(&self, from_party_id: i64, to_uuid: &str) -> Result<(), StoreError> {
        let Some(to) = parse_uuid(to_uuid) else { return Ok(()) };
        let unit_type = self.read().parties.get(&from_party_id).and_then(|p| p.unit_type.clone());
        let mut grants = DirectGrants::default();
        for row in self.store.grants_from(from_party_id, to_uuid).await? {
            add_grant(
                self.catalogue,
                &mut grants,
                unit_type.as_deref(),
                &row.role_code,
                row.package_id.as_deref(),
                row.resource_id.as_deref(),
                row.action.as_deref(),
            );
        }
        let mut state = self.state.write().unwrap_or_else(|e| e.into_inner());
        state.update_held(from_party_id, to, |direct, _| *direct = grants);
        Ok(())
    }

    async fn refresh_delegated(&self, client_party_id: i64, agent: &str) -> Result<(), StoreError> {
        let Some(agent_id) = parse_uuid(agent) else { return Ok(()) };
        let packages = match self.store.find_party(PartyKey::Id(client_party_id)).await? {
            Some(client) => pip::client_delegated_packages(&self.store, self.catalogue, &client, agent).await?,
            None => PackageSet::default(),
        };
        let mut state = self.state.write().unwrap_or_else(|e| e.into_inner());
        state.update_held(client_party_id, agent_id, |_, delegated| *delegated = packages);
        Ok(())
    }
}

fn insert_party(state: &mut IndexState, row: IndexPartyRow) {
    let Some(uuid) = parse_uuid(&row.party_uuid) else { return };
    let party = IndexedParty { party_id: row.party_id, main_unit: row.main_unit_party_id, org_number: org_number(row.org_number.as_deref()) };
    state.by_uuid.insert(uuid, party);
    if let Some(n) = party.org_number {
        state.by_org_number.insert(n, party);
    }
    state.parties.insert(row.party_id, PartyEntry { party, uuid, unit_type: row.unit_type.map(Arc::from) });
}

fn add_grant(
    catalogue: &Catalogue,
    grants: &mut DirectGrants,
    unit_type: Option<&str>,
    role_code: &str,
    package_id: Option<&str>,
    resource_id: Option<&str>,
    action: Option<&str>,
) {
    // The PIP counts the assigned role's own catalogue packages too.
    if let Some(role) = catalogue.role(role_code) {
        grants.packages = grants.packages.union(&catalogue.packages_given_by_role(role.index, unit_type));
    }
    if let Some(p) = package_id.and_then(|id| catalogue.package_by_id(id)) {
        grants.packages.insert(p.index);
    }
    if let (Some(r), Some(a)) = (resource_id, action) {
        grants.rights.push((r.into(), a.into()));
    }
}

/// Reads everything the index holds. The sequence is read first, so the state is at least as
/// new as the sequence it is tagged with (changes after it are applied again, harmlessly).
async fn build(store: &Store, catalogue: &'static Catalogue) -> Result<IndexState, StoreError> {
    let mut state = IndexState { applied: store.change_sequence().await?, ..Default::default() };
    store.for_each_index_party(|row| insert_party(&mut state, row)).await?;
    store
        .for_each_system_user_grant(|row: SystemUserGrantRow| {
            let Some(to) = parse_uuid(&row.to_uuid) else { return };
            let unit_type = state.parties.get(&row.from_party_id).and_then(|p| p.unit_type.clone());
            state.update_held(row.from_party_id, to, |direct, _| {
                add_grant(
                    catalogue,
                    direct,
                    unit_type.as_deref(),
                    &row.role_code,
                    row.package_id.as_deref(),
                    row.resource_id.as_deref(),
                    row.action.as_deref(),
                )
            });
        })
        .await?;
    for (client, agent) in store.client_delegation_pairs().await? {
        let (Some(agent_id), Some(client_row)) = (parse_uuid(&agent), store.find_party(PartyKey::Id(client)).await?) else {
            continue;
        };
        let packages = pip::client_delegated_packages(store, catalogue, &client_row, &agent).await?;
        state.update_held(client, agent_id, |_, delegated| *delegated = packages);
    }
    Ok(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packages(indexes: &[u16]) -> PackageSet {
        let mut set = PackageSet::default();
        for i in indexes {
            set.insert(fullmakt_domain::catalogue::PackageIndex(*i));
        }
        set
    }

    #[test]
    fn a_held_entry_keeps_what_each_path_gave_and_decides_on_all_of_it() {
        let right: (Box<str>, Box<str>) = ("digdir-lonn".into(), "read".into());
        let cases = [
            (DirectGrants { packages: packages(&[1, 2]), rights: vec![] }, PackageSet::default(), false),
            (DirectGrants { packages: packages(&[1]), rights: vec![right.clone()] }, PackageSet::default(), true),
            (DirectGrants::default(), packages(&[3]), true),
            (DirectGrants { packages: packages(&[1]), rights: vec![right.clone()] }, packages(&[1, 3]), true),
            (DirectGrants { packages: PackageSet::default(), rights: vec![right.clone()] }, PackageSet::default(), true),
        ];
        for (direct, delegated, has_detail) in cases {
            let held = HeldFromParty::new(direct.clone(), delegated);
            let context = format!("{direct:?} + {delegated:?}");
            assert_eq!(held.packages, direct.packages.union(&delegated), "{context}");
            assert_eq!(held.rights(), direct.rights.as_slice(), "{context}");
            assert_eq!(held.detail.is_some(), has_detail, "{context}");
            assert!(!held.is_empty(), "{context}");
            let (d, g) = held.into_parts();
            assert_eq!((d.packages, d.rights, g), (direct.packages, direct.rights, delegated), "{context}");
        }
        assert!(HeldFromParty::new(DirectGrants::default(), PackageSet::default()).is_empty());
    }

    #[test]
    fn an_entry_that_loses_everything_leaves_the_index() {
        let mut state = IndexState::default();
        let su = 0x47ca_ea5b_a80b_4343_b1d3_31eb_523a_4e28_u128;
        state.update_held(7, su, |direct, _| direct.packages = packages(&[1]));
        state.update_held(7, su, |_, delegated| *delegated = packages(&[2]));
        assert_eq!(state.held[&held_key(7, su)].packages, packages(&[1, 2]));
        state.update_held(7, su, |direct, _| *direct = DirectGrants::default());
        assert_eq!(state.held[&held_key(7, su)].packages, packages(&[2]), "the delegated packages stay");
        state.update_held(7, su, |_, delegated| *delegated = PackageSet::default());
        assert!(state.held.is_empty());
    }
}
