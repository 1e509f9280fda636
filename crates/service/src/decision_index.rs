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

mod held_table;
use held_table::HeldTable;

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

/// How a held entry names the party that gave: by its organisation number when it has one —
/// the way requests name parties, so a decision looks for the entry and for the party at the
/// same time instead of one after the other — else by its party id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Giver(u64);

impl Giver {
    const ORGANISATION: u64 = 1 << 63;

    fn organisation(org_number: u32) -> Self {
        Self(Self::ORGANISATION | u64::from(org_number))
    }

    /// Party ids are positive; the top bit marks organisation numbers.
    fn party_id(party_id: i64) -> Self {
        Self(party_id as u64 & !Self::ORGANISATION)
    }

    fn of(party: &IndexedParty) -> Self {
        party.org_number.map_or(Self::party_id(party.party_id), Self::organisation)
    }
}

/// (giver, system user): the system user's uuid as two words, so the key is 24 bytes aligned
/// to 8 (a `u128` would pad it to 32).
type HeldKey = (u64, u64, u64);

const _: () = assert!(std::mem::size_of::<(HeldKey, HeldFromParty)>() == 64, "one held entry is one cache line");

fn held_key(giver: Giver, system_user: u128) -> HeldKey {
    (giver.0, (system_user >> 64) as u64, system_user as u64)
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
    held: HeldTable<HeldFromParty>,
    /// Parties that gave held entries while the index did not know them, so their entries are
    /// keyed by party id until the party arrives (a grant read by a build just after its party).
    givers_not_indexed: std::collections::HashSet<i64>,
}

impl IndexState {
    /// Applies `change` to what `system_user` holds from `party_id` (its direct grants, its
    /// delegated packages), dropping the entry when it holds nothing any more.
    fn update_held(&mut self, party_id: i64, system_user: u128, change: impl FnOnce(&mut DirectGrants, &mut PackageSet)) {
        let key = held_key(self.giver(party_id), system_user);
        let entry = self.held.get_or_default(key);
        let (mut direct, mut delegated) = std::mem::take(entry).into_parts();
        change(&mut direct, &mut delegated);
        *entry = HeldFromParty::new(direct, delegated);
        if entry.is_empty() {
            self.held.remove(&key);
        }
    }

    /// Puts the register's current row for `party_id` (`None`: it is gone) in place of what the
    /// index had, and moves the party's held entries if that changes their key.
    fn replace_party(&mut self, party_id: i64, row: Option<IndexPartyRow>) {
        // Where its held entries are now, if it has any.
        let mut old_giver = self.givers_not_indexed.remove(&party_id).then_some(Giver::party_id(party_id));
        if let Some(old) = self.parties.remove(&party_id) {
            old_giver = Some(Giver::of(&old.party));
            self.by_uuid.remove(&old.uuid);
            if let Some(n) = old.party.org_number {
                self.by_org_number.remove(&n);
            }
        }
        if let Some(row) = row {
            insert_party(self, row);
        }
        if let Some(old_giver) = old_giver {
            let new_giver = self.giver(party_id);
            if new_giver != old_giver {
                self.rekey_held(old_giver, new_giver);
            }
        }
    }

    /// The key `party_id`'s held entries have now.
    fn giver_now(&self, party_id: i64) -> Giver {
        self.parties.get(&party_id).map_or(Giver::party_id(party_id), |p| Giver::of(&p.party))
    }

    /// [`Self::giver_now`] for entries about to be written, remembering a party not indexed yet.
    fn giver(&mut self, party_id: i64) -> Giver {
        if !self.parties.contains_key(&party_id) {
            self.givers_not_indexed.insert(party_id);
        }
        self.giver_now(party_id)
    }

    /// Moves the held entries of a party whose key changed: it arrived after its grants, its
    /// organisation number changed, or it left the register. A scan of every entry, for events
    /// that are rare (new parties have no grants yet).
    fn rekey_held(&mut self, from: Giver, to: Giver) {
        for ((_, high, low), held) in self.held.take_where(|key| key.0 == from.0) {
            self.held.insert((to.0, high, low), held);
        }
    }

    fn held_from(&self, giver: Giver, system_user: u128) -> Option<&HeldFromParty> {
        self.held.get(&held_key(giver, system_user))
    }

    fn main_unit_giver(&self, party: &IndexedParty) -> Option<Giver> {
        party.main_unit.map(|main_unit| self.giver_now(main_unit))
    }
}

pub fn parse_uuid(s: &str) -> Option<u128> {
    uuid::Uuid::parse_str(s).ok().map(|u| u.as_u128())
}

fn org_number(s: Option<&str>) -> Option<u32> {
    s.and_then(|n| n.parse().ok())
}

/// Reads the change sequence for callers that must see every committed write. When the store
/// can tell that nothing was committed since its last read (an SQLite file's WAL index), that
/// read answers without a query. Otherwise a caller alone reads it on its own thread when the
/// store can (SQLite: a few µs). Callers that arrive
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
        if let Some(value) = store.change_sequence_if_unchanged() {
            return Ok(value);
        }
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

    /// The sequence [`Self::fresh`] would return, when the store can tell without a query that
    /// nothing was committed since its last read and the index has applied that read.
    pub fn fresh_now(&self) -> Option<i64> {
        let target = self.store.change_sequence_if_unchanged()?;
        (self.applied() >= target).then_some(target)
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
        let held = state.held_from(Giver::of(&party), system_user);
        Self::access(&state, system_user, &party, held)
    }

    /// What `system_user` holds for the party an organisation number names; `None` when the
    /// index knows no such party. The entry and the party are looked up independently, so their
    /// cache misses overlap.
    pub fn system_user_access_at(&self, system_user: u128, org_number: &str) -> Option<SystemUserAccess> {
        let n: u32 = org_number.parse().ok()?;
        let state = self.read();
        let held = state.held_from(Giver::organisation(n), system_user);
        let party = state.by_org_number.get(&n)?;
        Some(Self::access(&state, system_user, party, held))
    }

    /// What the party gave (`held`) and what its main unit gave, together.
    fn access(state: &IndexState, system_user: u128, party: &IndexedParty, held: Option<&HeldFromParty>) -> SystemUserAccess {
        let from_main_unit = state.main_unit_giver(party).and_then(|giver| state.held_from(giver, system_user));
        let mut out = SystemUserAccess::default();
        for held in held.into_iter().chain(from_main_unit) {
            out.packages = out.packages.union(&held.packages);
            out.rights.extend(held.rights().iter().cloned());
        }
        out
    }

    async fn refresh_party(&self, party_id: i64) -> Result<(), StoreError> {
        let row = self.store.index_party(party_id).await?;
        self.state.write().unwrap_or_else(|e| e.into_inner()).replace_party(party_id, row);
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
    fn held_entries_follow_their_party_when_its_key_changes() {
        let su = 0x47ca_ea5b_a80b_4343_b1d3_31eb_523a_4e28_u128;
        let row = |org: Option<&str>| IndexPartyRow {
            party_id: 7,
            party_uuid: "0b3c7a4e-2f8d-4c1a-9a55-0d6b2f1e9c01".into(),
            org_number: org.map(Into::into),
            main_unit_party_id: None,
            unit_type: Some("AS".into()),
        };
        let held = |state: &IndexState, org: &str| {
            let n: u32 = org.parse().unwrap();
            state.by_org_number.get(&n).and_then(|p| state.held_from(Giver::of(p), su)).map(|h| h.packages)
        };
        let mut state = IndexState::default();
        // A build can read a grant before the party that gave it.
        state.update_held(7, su, |direct, _| direct.packages = packages(&[1]));
        state.replace_party(7, Some(row(Some("910000007"))));
        assert_eq!(held(&state, "910000007"), Some(packages(&[1])), "the party arrived after its grant");
        state.replace_party(7, Some(row(Some("910000015"))));
        assert_eq!(held(&state, "910000015"), Some(packages(&[1])), "a new organisation number");
        assert_eq!(held(&state, "910000007"), None);
        state.replace_party(7, None);
        assert!(state.by_org_number.is_empty());
        state.replace_party(7, Some(row(Some("910000007"))));
        assert_eq!(held(&state, "910000007"), Some(packages(&[1])), "the party came back");
        assert_eq!(state.held.len(), 1);
        // A party that never had grants moves nothing.
        state.replace_party(8, Some(IndexPartyRow { party_id: 8, org_number: Some("910000023".into()), party_uuid: "5d0f6a1e-7b2c-4e3d-8f90-1a2b3c4d5e6f".into(), ..row(None) }));
        assert_eq!(state.held.len(), 1);
    }

    #[test]
    fn an_entry_that_loses_everything_leaves_the_index() {
        let mut state = IndexState::default();
        let su = 0x47ca_ea5b_a80b_4343_b1d3_31eb_523a_4e28_u128;
        state.update_held(7, su, |direct, _| direct.packages = packages(&[1]));
        state.update_held(7, su, |_, delegated| *delegated = packages(&[2]));
        assert_eq!(state.held.get(&held_key(Giver::party_id(7), su)).unwrap().packages, packages(&[1, 2]));
        state.update_held(7, su, |direct, _| *direct = DirectGrants::default());
        assert_eq!(state.held.get(&held_key(Giver::party_id(7), su)).unwrap().packages, packages(&[2]), "the delegated packages stay");
        state.update_held(7, su, |_, delegated| *delegated = PackageSet::default());
        assert!(state.held.is_empty());
    }
}
