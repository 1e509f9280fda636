//! Configuration caches tagged with the store's change sequence.
//!
//! A reader fetches the current sequence once per request and accepts a cached value only if
//! it was loaded under that same sequence; any committed write anywhere (this node or another)
//! makes every entry stale. Values are loaded *after* the sequence was read, so a value is
//! never older than its tag: the worst case is one extra reload, never a stale answer.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

pub struct SequenceCache<K, V> {
    entries: Mutex<HashMap<K, (i64, V)>>,
    capacity: usize,
}

impl<K: Eq + Hash, V: Clone> SequenceCache<K, V> {
    pub fn new(capacity: usize) -> Self {
        Self { entries: Mutex::new(HashMap::new()), capacity }
    }

    pub fn get(&self, sequence: i64, key: &K) -> Option<V> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.get(key).filter(|(s, _)| *s == sequence).map(|(_, v)| v.clone())
    }

    pub fn put(&self, sequence: i64, key: K, value: V) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= self.capacity {
            entries.retain(|_, (s, _)| *s == sequence);
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(key, (sequence, value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_valid_only_under_their_sequence() {
        let c = SequenceCache::new(2);
        c.put(1, "a", 10);
        assert_eq!(c.get(1, &"a"), Some(10));
        assert_eq!(c.get(2, &"a"), None);
        c.put(2, "b", 20);
        c.put(2, "c", 30); // over capacity: the stale entry goes first
        assert_eq!(c.get(1, &"a"), None);
        assert_eq!(c.get(2, &"b"), Some(20));
        assert_eq!(c.get(2, &"c"), Some(30));
    }
}
