//! The deadlines of many keyed entries, kept in time order.
//!
//! The driver asks the core after every datagram when it next has work
//! ([`crate::Node::poll_timeout`]). A scan of every peer and every stream for
//! the earliest time made that cost grow with the LAN (tens of µs per
//! datagram at 300 peers). [`Deadlines`] keeps each entry's time in an
//! ordered set beside a map from key to time: the earliest is at the front,
//! the entries due are a prefix, and a change costs O(log n). Its owner calls
//! [`Deadlines::set`] wherever an entry's time changes and
//! [`Deadlines::remove`] where an entry goes, so the index always equals
//! what a scan would find.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

/// When each entry (by key) next has work, earliest first.
#[derive(Clone, Debug)]
pub(crate) struct Deadlines<K> {
    order: BTreeSet<(Instant, K)>,
    at: BTreeMap<K, Instant>,
}

impl<K> Default for Deadlines<K> {
    fn default() -> Self {
        Deadlines {
            order: BTreeSet::new(),
            at: BTreeMap::new(),
        }
    }
}

impl<K: Ord + Clone> Deadlines<K> {
    /// Sets the time of `key`; `None` removes it.
    pub(crate) fn set(&mut self, key: &K, at: Option<Instant>) {
        let Some(at) = at else {
            return self.remove(key);
        };
        match self.at.get_mut(key) {
            Some(old) if *old == at => return,
            Some(old) => {
                self.order.remove(&(*old, key.clone()));
                *old = at;
            }
            None => {
                self.at.insert(key.clone(), at);
            }
        }
        self.order.insert((at, key.clone()));
    }

    /// Forgets `key`.
    pub(crate) fn remove(&mut self, key: &K) {
        if let Some(old) = self.at.remove(key) {
            self.order.remove(&(old, key.clone()));
        }
    }

    /// The earliest time.
    pub(crate) fn next(&self) -> Option<Instant> {
        self.order.first().map(|(t, _)| *t)
    }

    /// The time of `key`.
    #[cfg(test)]
    pub(crate) fn get(&self, key: &K) -> Option<Instant> {
        self.at.get(key).copied()
    }

    /// The keys due at `now` (time not after it), in key order: the order
    /// in which a scan of a map by key would meet them.
    pub(crate) fn due(&self, now: Instant) -> Vec<K> {
        let mut due: Vec<K> = self
            .order
            .iter()
            .take_while(|(t, _)| *t <= now)
            .map(|(_, k)| k.clone())
            .collect();
        due.sort_unstable();
        due
    }

    /// Entries, earliest first.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (Instant, &K)> {
        self.order.iter().map(|(t, k)| (*t, k))
    }

    /// Number of entries.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.at.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::time::Duration;

    /// What the index replaces: a map scanned for its minimum.
    fn scan_min(model: &BTreeMap<u8, Instant>) -> Option<Instant> {
        model.values().min().copied()
    }

    #[test]
    fn follows_inserts_updates_and_removals() {
        let t0 = Instant::now();
        let ms = |n: u64| t0 + Duration::from_millis(n);
        let mut d = Deadlines::default();
        assert_eq!(d.next(), None);
        d.set(&1u8, Some(ms(50)));
        d.set(&2, Some(ms(20)));
        d.set(&3, Some(ms(20)));
        assert_eq!(d.next(), Some(ms(20)));
        assert_eq!(d.due(ms(20)), vec![2, 3]);
        // Later, then earlier again: no stale entry stays behind.
        d.set(&2, Some(ms(90)));
        d.set(&3, Some(ms(60)));
        assert_eq!(d.next(), Some(ms(50)));
        assert_eq!(d.due(ms(60)), vec![1, 3]);
        d.set(&1, None);
        assert_eq!(d.next(), Some(ms(60)));
        d.remove(&3);
        d.remove(&3);
        assert_eq!(d.next(), Some(ms(90)));
        assert_eq!(d.len(), 1);
        assert_eq!(d.iter().count(), 1);
        assert_eq!(d.get(&2), Some(ms(90)));
    }

    proptest! {
        /// After any sequence of changes the index agrees with a scan: the
        /// same minimum, the same due keys, the same time per key.
        #[test]
        fn agrees_with_a_scan(
            ops in proptest::collection::vec((0u8..24, proptest::option::of(0u64..200)), 0..300),
            now in 0u64..200,
        ) {
            let t0 = Instant::now();
            let ms = |n: u64| t0 + Duration::from_millis(n);
            let mut d = Deadlines::default();
            let mut model = BTreeMap::new();
            for (key, at) in ops {
                d.set(&key, at.map(ms));
                match at {
                    Some(at) => model.insert(key, ms(at)),
                    None => model.remove(&key),
                };
                prop_assert_eq!(d.next(), scan_min(&model));
                prop_assert_eq!(d.len(), model.len());
                prop_assert_eq!(d.iter().count(), model.len());
            }
            let due: Vec<u8> = model
                .iter()
                .filter(|(_, t)| **t <= ms(now))
                .map(|(k, _)| *k)
                .collect();
            prop_assert_eq!(d.due(ms(now)), due);
            for (k, t) in &model {
                prop_assert_eq!(d.get(k), Some(*t));
            }
        }
    }
}
