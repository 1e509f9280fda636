//! The table of held entries: open addressing with linear probing, each slot one cache line
//! holding its key and its value.
//!
//! Why not `HashMap`: a SwissTable lookup reads a control byte group first and the slot after
//! it, two dependent cache misses in a table of a million entries, and this lookup is about
//! half of a system-user decision. Here the first slot read usually answers, and a second one
//! is the adjacent line. The table stays at most three-quarters full.

use std::hash::BuildHasher;

use super::HeldKey;

/// No real key has this giver: organisation givers are `1 << 63 | u32`, party ids are below
/// `1 << 63`.
const EMPTY: HeldKey = (u64::MAX, 0, 0);

#[repr(align(64))]
#[derive(Clone, Default)]
struct Slot<V> {
    key: HeldKey,
    value: V,
}

pub(super) struct HeldTable<V> {
    slots: Vec<Slot<V>>,
    len: usize,
    hasher: foldhash::fast::RandomState,
}

impl<V: Default> Default for HeldTable<V> {
    fn default() -> Self {
        Self { slots: Vec::new(), len: 0, hasher: foldhash::fast::RandomState::default() }
    }
}

impl<V: Default> HeldTable<V> {
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.len
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn home(&self, key: &HeldKey) -> usize {
        self.hasher.hash_one(key) as usize & (self.slots.len() - 1)
    }

    /// Where `key` is, or the empty slot where it would go.
    fn find(&self, key: &HeldKey) -> (usize, bool) {
        let mask = self.slots.len() - 1;
        let mut i = self.home(key);
        loop {
            let slot = &self.slots[i];
            if slot.key == *key {
                return (i, true);
            }
            if slot.key == EMPTY {
                return (i, false);
            }
            i = (i + 1) & mask;
        }
    }

    pub fn get(&self, key: &HeldKey) -> Option<&V> {
        if self.len == 0 {
            return None;
        }
        let (i, found) = self.find(key);
        found.then(|| &self.slots[i].value)
    }

    /// The value under `key`, inserted as `V::default()` if missing.
    pub fn get_or_default(&mut self, key: HeldKey) -> &mut V {
        debug_assert!(key != EMPTY);
        if (self.len + 1) * 4 > self.slots.len() * 3 {
            self.grow();
        }
        let (i, found) = self.find(&key);
        if !found {
            self.slots[i].key = key;
            self.len += 1;
        }
        &mut self.slots[i].value
    }

    pub fn insert(&mut self, key: HeldKey, value: V) {
        *self.get_or_default(key) = value;
    }

    pub fn remove(&mut self, key: &HeldKey) -> Option<V> {
        if self.len == 0 {
            return None;
        }
        let (mut hole, found) = self.find(key);
        if !found {
            return None;
        }
        let removed = std::mem::take(&mut self.slots[hole].value);
        self.len -= 1;
        // Backward shift: pull later entries of the run into the hole unless that would put
        // one before its home slot, so every lookup still finds its key before an empty slot.
        let mask = self.slots.len() - 1;
        let mut next = hole;
        loop {
            next = (next + 1) & mask;
            if self.slots[next].key == EMPTY {
                break;
            }
            let home = self.home(&self.slots[next].key);
            if (next.wrapping_sub(home) & mask) >= (next.wrapping_sub(hole) & mask) {
                self.slots.swap(hole, next);
                hole = next;
            }
        }
        self.slots[hole] = Slot { key: EMPTY, value: V::default() };
        Some(removed)
    }

    /// Takes out every entry whose key satisfies `pick`.
    pub fn take_where(&mut self, pick: impl Fn(&HeldKey) -> bool) -> Vec<(HeldKey, V)> {
        let keys: Vec<HeldKey> = self.slots.iter().map(|s| s.key).filter(|k| *k != EMPTY && pick(k)).collect();
        keys.into_iter().filter_map(|k| self.remove(&k).map(|v| (k, v))).collect()
    }

    fn grow(&mut self) {
        let capacity = (self.slots.len() * 2).max(16);
        let old = std::mem::take(&mut self.slots);
        self.slots.reserve_exact(capacity);
        self.slots.resize_with(capacity, || Slot { key: EMPTY, value: V::default() });
        self.len = 0;
        for slot in old.into_iter().filter(|s| s.key != EMPTY) {
            self.insert(slot.key, slot.value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// A small generator, so the test needs no crate and repeats exactly.
    struct Numbers(u64);

    impl Numbers {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    #[test]
    fn agrees_with_a_hash_map_through_inserts_updates_and_removals() {
        let mut numbers = Numbers(0x9e37_79b9_7f4a_7c15);
        let mut table: HeldTable<u32> = HeldTable::default();
        let mut model: HashMap<HeldKey, u32> = HashMap::new();
        // Few distinct keys, so runs collide, wrap past the end of the table, and get removed
        // from the middle.
        let key = |n: u64| ((n % 3) | if n.is_multiple_of(2) { 1 << 63 } else { 0 }, n % 61, 7);
        for step in 0..200_000u32 {
            let n = numbers.next();
            let k = key(n >> 8);
            match n % 4 {
                0 => assert_eq!(table.remove(&k), model.remove(&k), "step {step}"),
                1 => {
                    *table.get_or_default(k) += 1;
                    *model.entry(k).or_default() += 1;
                }
                _ => {
                    table.insert(k, step);
                    model.insert(k, step);
                }
            }
            assert_eq!(table.len(), model.len(), "step {step}");
            if step % 1_000 == 0 {
                for n in 0..400 {
                    assert_eq!(table.get(&key(n)), model.get(&key(n)), "step {step}, key {:?}", key(n));
                }
            }
        }
        let taken = table.take_where(|k| k.1 % 2 == 0);
        model.retain(|k, _| k.1 % 2 != 0);
        assert!(taken.iter().all(|(k, _)| k.1 % 2 == 0));
        assert_eq!(table.len(), model.len());
        for (k, v) in &model {
            assert_eq!(table.get(k), Some(v));
        }
    }

    #[test]
    fn a_slot_is_one_cache_line_and_stays_three_quarters_full_at_most() {
        assert_eq!(std::mem::size_of::<Slot<super::super::HeldFromParty>>(), 64);
        let mut table: HeldTable<u8> = HeldTable::default();
        for n in 0..10_000u64 {
            table.insert((n, n, n), 1);
            assert!(table.len() * 4 <= table.slots.len() * 3);
        }
        assert!(table.get(&(10_000, 10_000, 10_000)).is_none());
        assert!(HeldTable::<u8>::default().get(&(1, 2, 3)).is_none());
    }
}
