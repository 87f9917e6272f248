//! A family's series by label values, in creation order.
//!
//! An open-addressed table of `(hash, entry)` slots over a list of entries in creation order (the
//! order series are exposed in). A lookup probes slots comparing full hashes, which rules out
//! nearly every other series before a key is read, and then compares one key held inside its
//! entry: two dependent loads, all of it inlined into the caller. A general map's lookup goes
//! through an indirect call per candidate and one more level of indices, which the labelled
//! update pays on every call.
//!
//! Removing a series leaves a hole in the list (so the others keep their place and indices) and
//! frees its slot by shifting later slots back; the list is compacted once holes outnumber half
//! its series, so memory follows the live series.

use super::series_key::{Query, SeriesKey};

/// The series of a family, found by [`Query`]; the value type is the family's child.
pub(crate) struct SeriesMap<V> {
    /// A power-of-two table, linear probing, at most half full; empty until the first series.
    slots: Box<[Slot]>,
    /// Every series in creation order; `None` where one was removed.
    entries: Vec<Option<Entry<V>>>,
    /// Series present (entries that are not holes).
    live: usize,
}

#[derive(Clone, Copy)]
struct Slot {
    hash: u64,
    /// Index into `entries`, or [`EMPTY`].
    entry: usize,
}

/// A slot no series is in.
const EMPTY: usize = usize::MAX;
const FREE: Slot = Slot { hash: 0, entry: EMPTY };

/// The fewest slots of a table that holds any series.
const MIN_SLOTS: usize = 8;

struct Entry<V> {
    hash: u64,
    key: SeriesKey,
    value: V,
}

impl<V> Default for SeriesMap<V> {
    fn default() -> Self {
        Self { slots: Box::new([]), entries: Vec::new(), live: 0 }
    }
}

impl<V> SeriesMap<V> {
    /// How many series there are.
    pub(crate) fn len(&self) -> usize {
        self.live
    }

    /// The series `query` names.
    #[inline]
    pub(crate) fn get(&self, query: &Query<'_>) -> Option<&V> {
        self.find(query).map(|(_, entry)| &entry.value)
    }

    /// The slot and entry of the series `query` names.
    #[inline]
    fn find(&self, query: &Query<'_>) -> Option<(usize, &Entry<V>)> {
        let mask = self.slots.len().checked_sub(1)?;
        let mut at = query.hash() as usize & mask;
        loop {
            let slot = self.slots[at];
            if slot.entry == EMPTY {
                return None;
            }
            if slot.hash == query.hash() {
                // Slots point at live entries only.
                if let Some(entry) = &self.entries[slot.entry] {
                    if entry.key.matches(query) {
                        return Some((at, entry));
                    }
                }
            }
            at = (at + 1) & mask;
        }
    }

    /// Adds the series `query` names, which the map does not hold, under `key`.
    pub(crate) fn insert(&mut self, query: &Query<'_>, key: SeriesKey, value: V) {
        debug_assert!(self.find(query).is_none());
        if 2 * (self.live + 1) > self.slots.len() {
            self.rebuild((2 * self.slots.len()).max(MIN_SLOTS));
        }
        let hash = query.hash();
        self.entries.push(Some(Entry { hash, key, value }));
        self.live += 1;
        place(&mut self.slots, hash, self.entries.len() - 1);
    }

    /// Takes out the series `query` names.
    pub(crate) fn remove(&mut self, query: &Query<'_>) -> Option<V> {
        let (slot, _) = self.find(query)?;
        let entry = self.entries[self.slots[slot].entry].take();
        self.live -= 1;
        self.free_slot(slot);
        if self.entries.len() - self.live > self.live / 2 + MIN_SLOTS {
            self.compact();
        }
        entry.map(|entry| entry.value)
    }

    /// Keeps the series for which `keep` says so, in their order.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&V) -> bool) {
        for entry in &mut self.entries {
            if entry.as_ref().is_some_and(|e| !keep(&e.value)) {
                *entry = None;
                self.live -= 1;
            }
        }
        self.compact();
    }

    /// Removes every series.
    pub(crate) fn clear(&mut self) {
        *self = Self::default();
    }

    /// Every series, in creation order.
    pub(crate) fn values(&self) -> impl Iterator<Item = &V> {
        self.entries.iter().flatten().map(|entry| &entry.value)
    }

    /// Every series with its key, in creation order.
    #[cfg(test)]
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&SeriesKey, &V)> {
        self.entries.iter().flatten().map(|entry| (&entry.key, &entry.value))
    }

    /// Frees a slot, moving back the later slots of its run that may live there, so that every
    /// series stays reachable from its home slot without crossing a free one.
    fn free_slot(&mut self, mut hole: usize) {
        let mask = self.slots.len() - 1;
        let mut at = (hole + 1) & mask;
        while self.slots[at].entry != EMPTY {
            let wanted = self.slots[at].hash as usize & mask;
            // The slot may move into the hole if the slot it wants is not between the hole and it.
            if at.wrapping_sub(wanted) & mask >= at.wrapping_sub(hole) & mask {
                self.slots[hole] = self.slots[at];
                hole = at;
            }
            at = (at + 1) & mask;
        }
        self.slots[hole] = FREE;
    }

    /// Drops the holes of the list and indexes it anew.
    fn compact(&mut self) {
        self.entries.retain(Option::is_some);
        let slots = (2 * self.live).next_power_of_two().max(MIN_SLOTS);
        self.rebuild(if self.live == 0 { 0 } else { slots });
    }

    /// Indexes the entries in a table of `slots` slots.
    fn rebuild(&mut self, slots: usize) {
        self.slots = vec![FREE; slots].into_boxed_slice();
        for (index, entry) in self.entries.iter().enumerate() {
            if let Some(entry) = entry {
                place(&mut self.slots, entry.hash, index);
            }
        }
    }
}

/// Puts entry `index` in the first free slot from its home.
fn place(slots: &mut [Slot], hash: u64, index: usize) {
    let mask = slots.len() - 1;
    let mut at = hash as usize & mask;
    while slots[at].entry != EMPTY {
        at = (at + 1) & mask;
    }
    slots[at] = Slot { hash, entry: index };
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u8),
        Remove(u8),
        RetainOdd,
        Clear,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => (0u8..40).prop_map(Op::Insert),
            4 => (0u8..40).prop_map(Op::Remove),
            1 => Just(Op::RetainOdd),
            1 => Just(Op::Clear),
        ]
    }

    proptest! {
        /// Against a list in creation order, with hashes chosen to collide (four of them for
        /// forty keys), so that probing, wrapping and moving slots back are all exercised.
        #[test]
        fn behaves_as_an_ordered_list(ops in proptest::collection::vec(op(), 1..200)) {
            let mut map = SeriesMap::default();
            let mut model: Vec<u8> = Vec::new();
            for op in ops {
                match op {
                    Op::Insert(k) => {
                        let name = k.to_string();
                        let values = [name.as_str()];
                        let query = Query::with_hash(&values, u64::from(k % 4).wrapping_mul(0x9e37_79b9));
                        if !model.contains(&k) {
                            map.insert(&query, SeriesKey::new(&query, &[]), k);
                            model.push(k);
                        }
                    }
                    Op::Remove(k) => {
                        let name = k.to_string();
                        let values = [name.as_str()];
                        let query = Query::with_hash(&values, u64::from(k % 4).wrapping_mul(0x9e37_79b9));
                        let expected = model.iter().position(|m| *m == k).map(|i| model.remove(i));
                        prop_assert_eq!(map.remove(&query), expected);
                    }
                    Op::RetainOdd => {
                        map.retain(|v| v % 2 == 1);
                        model.retain(|v| v % 2 == 1);
                    }
                    Op::Clear => {
                        map.clear();
                        model.clear();
                    }
                }
                prop_assert_eq!(map.len(), model.len());
                prop_assert_eq!(map.values().copied().collect::<Vec<_>>(), model.clone());
                for k in 0u8..40 {
                    let name = k.to_string();
                    let values = [name.as_str()];
                    let query = Query::with_hash(&values, u64::from(k % 4).wrapping_mul(0x9e37_79b9));
                    prop_assert_eq!(map.get(&query).copied(), model.contains(&k).then_some(k));
                }
                prop_assert!(map.slots.is_empty() || 2 * map.live <= map.slots.len());
            }
        }
    }

    #[test]
    fn removed_series_leave_no_lasting_holes() {
        let mut map = SeriesMap::default();
        let names: Vec<String> = (0..1000).map(|i| i.to_string()).collect();
        for (i, name) in names.iter().enumerate() {
            let values = [name.as_str()];
            let query = Query::with_hash(&values, i as u64);
            map.insert(&query, SeriesKey::new(&query, &[]), i);
            assert_eq!(map.remove(&query), Some(i));
        }
        assert!(map.entries.len() <= MIN_SLOTS + 1, "{} entries kept", map.entries.len());
    }
}
