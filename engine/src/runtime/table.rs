//! The insertion-ordered hash table behind maps. Removal leaves a tombstone in the entry list
//! instead of shifting the later entries, so it is O(1) amortized, yet positions still count
//! live entries only, as the language's `for` loops and printing see them. Small non-negative
//! integer keys are found through a direct index rather than by hashing (see [`Table`]).

use std::cell::Cell;
use std::hash::{BuildHasher, BuildHasherDefault, Hash};

use hashbrown::HashTable;
use rustc_hash::FxHasher;

/// Tombstones a table may hold whatever its length: below this, removal never compacts, so
/// small maps that lose and gain a key at a time do not rebuild their index every time.
const MIN_TOMBSTONES: usize = 16;

/// How many live entries away from the cursor hint a positional look-up walks; farther
/// jumps search the rank tree instead (a walk this long costs about as much as the search).
const HINT_WALK: usize = 16;

/// One place in the entry list: a live entry, or the tombstone of a removed one.
struct Slot<K, V> {
    /// The key's hash, kept so that rebuilding the index does not hash the keys again.
    hash: u64,
    /// The entry; `None` once removed.
    entry: Option<(K, V)>,
}

/// What a table with tombstones needs to translate positions among its live entries to
/// places in its entry list. Boxed and only present while there are tombstones, so a table
/// that never lost an entry stays small and counts positions as places.
struct Tombstones {
    /// A Fenwick tree over the entry list: node `j` (1-based) holds how many of the places
    /// `j - lowbit(j) .. j` (0-based, end excluded) are live.
    live: Vec<u32>,
    /// The place the last positional look-up stopped at, as (live entries before it, place),
    /// so that walking the positions in order costs O(1) each.
    hint: Cell<(u32, u32)>,
}

impl Tombstones {
    /// The tree for `slots`, with room for `capacity` places.
    fn build<K, V>(slots: &[Slot<K, V>], capacity: usize) -> Tombstones {
        let mut live = Vec::with_capacity(capacity.max(slots.len()));
        live.extend(slots.iter().map(|s| u32::from(s.entry.is_some())));
        let n = live.len();
        for j in 1..=n {
            let parent = j + lowbit(j);
            if parent <= n {
                live[parent - 1] += live[j - 1];
            }
        }
        Tombstones {
            live,
            hint: Cell::new((0, 0)),
        }
    }

    /// Live entries before `place`.
    fn rank(&self, place: usize) -> usize {
        let mut sum = 0;
        let mut j = place;
        while j > 0 {
            sum += self.live[j - 1] as usize;
            j &= j - 1;
        }
        sum
    }

    /// The place of the live entry at `position` (which must exist).
    fn select(&self, position: usize) -> usize {
        let n = self.live.len();
        let mut place = 0;
        let mut left = position;
        let mut step = if n == 0 { 0 } else { 1 << n.ilog2() };
        while step > 0 {
            let next = place + step;
            if next <= n && (self.live[next - 1] as usize) <= left {
                place = next;
                left -= self.live[next - 1] as usize;
            }
            step >>= 1;
        }
        place
    }

    /// Records that the live entry at `place` was removed.
    fn remove(&mut self, place: usize) {
        let mut j = place + 1;
        while j <= self.live.len() {
            self.live[j - 1] -= 1;
            j += lowbit(j);
        }
        let (position, at) = self.hint.get();
        if place < at as usize {
            self.hint.set((position - 1, at));
        }
    }

    /// Records a live entry appended to the list.
    fn push(&mut self) {
        let j = self.live.len() + 1;
        let mut count = 1;
        let mut k = 1;
        while k < lowbit(j) {
            count += self.live[j - k - 1];
            k <<= 1;
        }
        self.live.push(count);
    }
}

/// The lowest set bit of `j` (> 0).
fn lowbit(j: usize) -> usize {
    j & j.wrapping_neg()
}

/// Whether the place an index bucket holds is `key`'s entry.
fn holds<'a, K: Eq, V>(slots: &'a [Slot<K, V>], key: &'a K) -> impl Fn(&u32) -> bool + 'a {
    move |&i| matches!(&slots[i as usize].entry, Some((k, _)) if k == key)
}

/// A key a table can look up without hashing when it is a small non-negative integer, the
/// way lists are indexed: such keys are found through the table's direct index.
pub trait TableKey: Hash + Eq {
    /// The key as a non-negative integer, if it is one (`None` for every other key).
    fn as_index(&self) -> Option<usize>;
}

impl TableKey for crate::runtime::heap::Key {
    #[inline]
    fn as_index(&self) -> Option<usize> {
        match *self {
            crate::runtime::heap::Key::Int(i) => usize::try_from(i).ok(),
            crate::runtime::heap::Key::Str(_) => None,
        }
    }
}

/// The direct index's mark for a key with no entry.
const NO_PLACE: u32 = u32::MAX;

/// Integer keys at or above this always stay in the hash index, so the direct index (at
/// most twice as long as the table has integer keys below it) is always indexable by u32.
const DIRECT_LIMIT: usize = 1 << 31;

/// Whether `key` could be found through a direct index long enough.
fn direct_candidate<K: TableKey>(key: &K) -> bool {
    key.as_index().is_some_and(|i| i < DIRECT_LIMIT)
}

/// A table's hash index, with the place its last look-up found.
#[derive(Default)]
struct HashIndex {
    /// The place in the entry list of every live entry it indexes, by the entry's hash.
    table: HashTable<u32>,
    /// The place the last look-up found. Programs often look up one key several times in a
    /// row (`has`, then read, then write), and a key has one live place, so a live entry
    /// there with an equal key is the answer without hashing; whatever else happened since
    /// (removals, compaction), any other entry there is just a miss.
    last: Cell<u32>,
}

/// An insertion-ordered hash table. Entries live in a list in insertion order, found through
/// an index of their places; a removed entry leaves a tombstone, and the list is compacted
/// once tombstones outnumber live entries. Positions (`get_index`, `get_index_of`) count
/// live entries only.
///
/// The index has two parts, like a Lua table's array and hash parts: a direct index, an
/// array of places indexed by the key itself, for the integer keys below its length, and a
/// hash index for every other key. Finding an integer key in the direct index reads one
/// array element instead of probing hash buckets. The direct index is sized for the keys
/// the table holds: when the hash index is full and holds integer keys that could be direct,
/// a longer direct index replaces it if enough of the keys would fill it (see `plan_direct`),
/// so that the hash index does not grow for them; compaction sizes it afresh.
/// Which part holds a key is invisible from outside: only the time a look-up takes depends
/// on it.
///
/// The struct stays 64 bytes (asserted in a test): the heap accounts a map by its size.
pub struct Table<K, V> {
    /// The entries in insertion order, tombstones included.
    slots: Vec<Slot<K, V>>,
    /// The place in `slots` of the live entry of every integer key below its length, by key;
    /// `NO_PLACE` where the key has no entry. Places are `u32` to keep the indexes small: a
    /// table never holds 2^32 places.
    direct: Box<[u32]>,
    /// Live entries.
    len: u32,
    /// Live entries in the hash index whose key is an integer below `DIRECT_LIMIT`: while
    /// there are none, no direct index could be longer to any use.
    loose: u32,
    /// The place in `slots` of every other live entry, by the entry's hash. Boxed, and only
    /// made once some key needs it, so that the struct stays small.
    index: Option<Box<HashIndex>>,
    /// Present exactly while `slots` holds tombstones.
    tombstones: Option<Box<Tombstones>>,
}

impl<K, V> Default for Table<K, V> {
    fn default() -> Self {
        Table {
            slots: Vec::new(),
            direct: Box::default(),
            len: 0,
            loose: 0,
            index: None,
            tombstones: None,
        }
    }
}

impl<K: TableKey, V> Table<K, V> {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of live entries.
    #[inline]
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether there are no live entries.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The hash of `key`: FxHash, as maps have always used.
    #[inline]
    fn hash(key: &K) -> u64 {
        BuildHasherDefault::<FxHasher>::default().hash_one(key)
    }

    /// The place of `key`'s entry.
    #[inline]
    fn find(&self, key: &K) -> Option<usize> {
        if let Some(&place) = key.as_index().and_then(|i| self.direct.get(i)) {
            return (place != NO_PLACE).then_some(place as usize);
        }
        self.find_hashed(key)
    }

    /// The place of `key`'s entry, for a key not in the direct index. Kept out of line so
    /// that the direct look-up above inlines into its callers as a few instructions.
    #[inline(never)]
    fn find_hashed(&self, key: &K) -> Option<usize> {
        let index = self.index.as_deref()?;
        let last = index.last.get() as usize;
        if matches!(self.slots.get(last), Some(Slot { entry: Some((k, _)), .. }) if k == key) {
            return Some(last);
        }
        let place = *index.table.find(Self::hash(key), holds(&self.slots, key))?;
        index.last.set(place);
        Some(place as usize)
    }

    /// The value for `key`.
    #[inline]
    pub fn get(&self, key: &K) -> Option<&V> {
        let i = self.find(key)?;
        self.slots[i].entry.as_ref().map(|(_, v)| v)
    }

    /// The value for `key`, to update in place.
    #[inline]
    pub fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        let i = self.find(key)?;
        self.slots[i].entry.as_mut().map(|(_, v)| v)
    }

    /// Whether `key` has an entry.
    #[inline]
    pub fn contains_key(&self, key: &K) -> bool {
        self.find(key).is_some()
    }

    /// Sets `key`'s value: in place if it has an entry (returning the old value), else in a
    /// new entry at the end.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        if let Some(old) = self.get_mut(&key) {
            return Some(std::mem::replace(old, value));
        }
        self.insert_new(key, value);
        None
    }

    /// Adds an entry for `key`, which has none, at the end: `insert` for a caller that has
    /// just looked the key up (a map's `m[k] = v` looks first, to account for a new entry),
    /// saving a second look-up.
    pub fn insert_new(&mut self, key: K, value: V) {
        debug_assert!(
            !self.contains_key(&key),
            "insert_new of a key with an entry"
        );
        let hash = Self::hash(&key);
        let dead = self.slots.len() - self.len();
        // A list full of live entries and tombstones is compacted rather than grown when that
        // frees enough places to pay for the compaction. For maps it always does: a map grows
        // its list (`grow_to`) to 7/4 of its capacity before its live entries outgrow that
        // capacity, so a full list is at least 3/7 tombstones.
        if self.slots.len() == self.slots.capacity() && dead > 0 && dead * 4 >= self.slots.len() {
            self.compact();
        }
        let place = u32::try_from(self.slots.len()).expect("a table has fewer than 2^32 places");
        let at = key.as_index();
        self.slots.push(Slot {
            hash,
            entry: Some((key, value)),
        });
        self.len += 1;
        if let Some(t) = &mut self.tombstones {
            t.push();
        }
        if let Some(p) = at.and_then(|i| self.direct.get_mut(i)) {
            *p = place;
            return;
        }
        if at.is_some_and(|i| i < DIRECT_LIMIT) {
            self.loose += 1;
        }
        // Before the hash index grows, see whether a longer direct index would take enough
        // of its integer keys instead (rebuilding places the new entry too).
        let full = self
            .index
            .as_ref()
            .is_none_or(|ix| ix.table.len() == ix.table.capacity());
        if full && self.loose > 0 {
            let length = self.plan_direct();
            if length > self.direct.len() + self.direct.len() / 2 {
                self.rebuild(length);
                return;
            }
        }
        let slots = &self.slots;
        self.index
            .get_or_insert_default()
            .table
            .insert_unique(hash, place, |&i| slots[i as usize].hash);
    }

    /// Removes `key`'s entry and returns its value. The later entries keep their order and
    /// each moves down one position.
    pub fn remove(&mut self, key: &K) -> Option<V> {
        let place = match key.as_index().and_then(|i| self.direct.get_mut(i)) {
            Some(p) if *p == NO_PLACE => return None,
            Some(p) => std::mem::replace(p, NO_PLACE) as usize,
            None => {
                let entry = self
                    .index
                    .as_deref_mut()?
                    .table
                    .find_entry(Self::hash(key), holds(&self.slots, key))
                    .ok()?;
                let place = entry.remove().0 as usize;
                if direct_candidate(key) {
                    self.loose -= 1;
                }
                place
            }
        };
        let (_, value) = self.slots[place].entry.take()?;
        self.len -= 1;
        match &mut self.tombstones {
            Some(t) => t.remove(place),
            None => {
                self.tombstones = Some(Box::new(Tombstones::build(
                    &self.slots,
                    self.slots.capacity(),
                )));
            }
        }
        let dead = self.slots.len() - self.len();
        if dead > self.len() && dead > MIN_TOMBSTONES {
            self.compact();
        }
        Some(value)
    }

    /// The position of `key`'s entry among the live entries.
    pub fn get_index_of(&self, key: &K) -> Option<usize> {
        let place = self.find(key)?;
        Some(match &self.tombstones {
            Some(t) => t.rank(place),
            None => place,
        })
    }

    /// The entry at `position` among the live entries. O(1) amortized when positions are
    /// visited in order (forwards or backwards); O(log n) for a jump.
    pub fn get_index(&self, position: usize) -> Option<(&K, &V)> {
        if position >= self.len() {
            return None;
        }
        let place = match &self.tombstones {
            Some(t) => self.locate(t, position),
            None => position,
        };
        self.slots[place].entry.as_ref().map(|(k, v)| (k, v))
    }

    /// The place of the live entry at `position` (< `len()`), starting from the hint.
    fn locate(&self, t: &Tombstones, position: usize) -> usize {
        let (hint_position, hint_place) = t.hint.get();
        let (mut at_position, mut place) = (hint_position as usize, hint_place as usize);
        let live = |i: usize| self.slots[i].entry.is_some();
        if position >= at_position && position - at_position <= HINT_WALK {
            // `at_position` counts the live places before `place`.
            loop {
                if live(place) {
                    if at_position == position {
                        break;
                    }
                    at_position += 1;
                }
                place += 1;
            }
        } else if position < at_position && at_position - position <= HINT_WALK {
            loop {
                place -= 1;
                if live(place) {
                    at_position -= 1;
                    if at_position == position {
                        break;
                    }
                }
            }
        } else {
            place = t.select(position);
        }
        // Both fit: places are u32 (see `index`), and positions are fewer.
        t.hint.set((position as u32, place as u32));
        place
    }

    /// The live entries in order.
    pub fn iter(&self) -> Iter<'_, K, V> {
        Iter {
            slots: self.slots.iter(),
            left: self.len(),
        }
    }

    /// The keys in order.
    pub fn keys(&self) -> impl ExactSizeIterator<Item = &K> {
        self.iter().map(|(k, _)| k)
    }

    /// The values in order.
    pub fn values(&self) -> impl ExactSizeIterator<Item = &V> {
        self.iter().map(|(_, v)| v)
    }

    /// Makes room for `places` entries in all, live or removed, so that the entry list takes
    /// no more memory until then: it gets exactly that capacity. The indexes grow as keys
    /// arrive, since which of the two a key goes to depends on the keys.
    pub fn grow_to(&mut self, places: usize) {
        let len = self.slots.len();
        if places > len {
            self.slots.reserve_exact(places - len);
            if let Some(t) = &mut self.tombstones {
                t.live.reserve_exact(places - t.live.len());
            }
        }
    }

    /// The length the direct index should have for the live keys: the longest power of two
    /// that would be more than half full (which suits keys filled in from 0 in order, as
    /// Lua's array part does), or one past the largest integer key when the integer keys
    /// fill more than a third of that (which suits keys filled in any order: a third of
    /// them is in before the hash index needs to grow much), with room to append as many
    /// again as there are. Never longer than three times the integer keys below
    /// `DIRECT_LIMIT`, so a direct index costs at most 12 bytes per key, about what the hash
    /// index would.
    fn plan_direct(&self) -> usize {
        // `below[b]`: keys `k` with `k < 2^b` and `k >= 2^(b-1)` (key 0 in `below[0]`).
        let mut below = [0usize; 32];
        let (mut count, mut max) = (0usize, 0usize);
        for (k, _) in self.iter() {
            if let Some(i) = k.as_index().filter(|&i| i < DIRECT_LIMIT) {
                below[(usize::BITS - i.leading_zeros()) as usize] += 1;
                count += 1;
                max = max.max(i);
            }
        }
        let mut length = 0;
        let mut under = 0;
        for (b, n) in below.iter().enumerate() {
            under += n;
            if under > (1 << b) / 2 {
                length = 1 << b;
            }
        }
        if count > 0 && 3 * count > max + 1 {
            length = length.max(max + 1).max(2 * count - 1);
        }
        length
    }

    /// Rebuilds both indexes, the direct one `length` long.
    fn rebuild(&mut self, length: usize) {
        let mut direct = vec![NO_PLACE; length].into_boxed_slice();
        if let Some(index) = &mut self.index {
            index.table.clear();
        }
        self.loose = 0;
        let slots = &self.slots;
        for (place, s) in slots.iter().enumerate() {
            let Some((k, _)) = &s.entry else { continue };
            // Places fit: see `direct`.
            let place = place as u32;
            match k.as_index().and_then(|i| direct.get_mut(i)) {
                Some(p) => *p = place,
                None => {
                    if direct_candidate(k) {
                        self.loose += 1;
                    }
                    self.index
                        .get_or_insert_default()
                        .table
                        .insert_unique(s.hash, place, |&j| slots[j as usize].hash);
                }
            }
        }
        self.direct = direct;
        // A hash index that lost most of its keys to the direct index or to compaction is
        // shrunk (freed if empty), so that it fills, and the direct index is reconsidered,
        // as soon as enough keys come back to it.
        if let Some(ix) = &mut self.index {
            if ix.table.is_empty() {
                self.index = None;
            } else if ix.table.capacity() > 2 * ix.table.len() {
                ix.table
                    .shrink_to(ix.table.len(), |&j| slots[j as usize].hash);
            }
        }
    }

    /// Drops the tombstones (keeping the list's capacity) and rebuilds the indexes, the
    /// direct one sized afresh for the keys left.
    fn compact(&mut self) {
        self.slots.retain(|s| s.entry.is_some());
        self.tombstones = None;
        let length = self.plan_direct();
        self.rebuild(length);
    }

    /// Places in the entry list, tombstones included (for tests of compaction).
    #[cfg(test)]
    fn places(&self) -> usize {
        self.slots.len()
    }

    /// Checks the internal invariants (for tests).
    #[cfg(test)]
    fn check(&self) {
        let live: Vec<usize> = (0..self.slots.len())
            .filter(|&i| self.slots[i].entry.is_some())
            .collect();
        assert_eq!(live.len(), self.len());
        let indexed = self.index.as_ref().map_or(0, |ix| ix.table.len());
        let direct = self.direct.iter().filter(|&&p| p != NO_PLACE).count();
        assert_eq!(direct + indexed, live.len());
        for (j, &p) in self.direct.iter().enumerate() {
            if p != NO_PLACE {
                let (k, _) = self.slots[p as usize].entry.as_ref().unwrap();
                assert_eq!(k.as_index(), Some(j));
            }
        }
        let mut loose = 0;
        for &i in &live {
            let (k, _) = self.slots[i].entry.as_ref().unwrap();
            assert_eq!(self.find(k), Some(i));
            assert_eq!(self.slots[i].hash, Self::hash(k));
            match k.as_index().and_then(|j| self.direct.get(j)) {
                // Every key below the direct index's length is in it...
                Some(&p) => assert_eq!(p as usize, i),
                // ... and every other key in the hash index.
                None => {
                    let index = self.index.as_ref().unwrap();
                    assert!(
                        index
                            .table
                            .find(Self::hash(k), holds(&self.slots, k))
                            .is_some()
                    );
                    loose += usize::from(direct_candidate(k));
                }
            }
        }
        assert_eq!(loose, self.loose as usize);
        match &self.tombstones {
            None => assert_eq!(live.len(), self.slots.len()),
            Some(t) => {
                assert!(live.len() < self.slots.len());
                assert_eq!(t.live.len(), self.slots.len());
                for p in 0..=self.slots.len() {
                    assert_eq!(t.rank(p), live.iter().filter(|&&i| i < p).count());
                }
                for (position, &i) in live.iter().enumerate() {
                    assert_eq!(t.select(position), i);
                }
                let (position, place) = t.hint.get();
                assert!(place as usize <= self.slots.len());
                assert_eq!(t.rank(place as usize), position as usize);
            }
        }
    }
}

/// The live entries of a [`Table`] in order. Its size hint is exact: `keys` and `values`
/// collect their lists from it, and a list is accounted by the capacity `collect` gives it,
/// which follows the hint (the length, but at least 4).
pub struct Iter<'a, K, V> {
    slots: std::slice::Iter<'a, Slot<K, V>>,
    left: usize,
}

impl<'a, K, V> Iterator for Iter<'a, K, V> {
    type Item = (&'a K, &'a V);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some((k, v)) = &self.slots.next()?.entry {
                self.left -= 1;
                return Some((k, v));
            }
        }
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl<K, V> ExactSizeIterator for Iter<'_, K, V> {}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    impl TableKey for u32 {
        fn as_index(&self) -> Option<usize> {
            Some(*self as usize)
        }
    }

    impl TableKey for i64 {
        fn as_index(&self) -> Option<usize> {
            usize::try_from(*self).ok()
        }
    }

    /// An integer key that never goes to the direct index: a table of these is a plain
    /// hash table, to compare tables with direct indexes against.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    struct Hashed(i64);

    impl TableKey for Hashed {
        fn as_index(&self) -> Option<usize> {
            None
        }
    }

    /// The table's entries, in order, as pairs.
    /// Inserts into the model (a vector of pairs in insertion order): the old value, if any.
    fn model_insert<K: PartialEq>(model: &mut Vec<(K, u32)>, k: K, v: u32) -> Option<u32> {
        match model.iter_mut().find(|e| e.0 == k) {
            Some(e) => Some(std::mem::replace(&mut e.1, v)),
            None => {
                model.push((k, v));
                None
            }
        }
    }

    fn pairs(t: &Table<u32, u32>) -> Vec<(u32, u32)> {
        t.iter().map(|(k, v)| (*k, *v)).collect()
    }

    /// The entries by position, one `get_index` at a time.
    fn by_position(t: &Table<u32, u32>) -> Vec<(u32, u32)> {
        (0..t.len())
            .map(|i| {
                let (k, v) = t.get_index(i).unwrap();
                (*k, *v)
            })
            .collect()
    }

    #[test]
    fn a_map_entry_takes_the_bytes_the_heap_accounts() {
        use crate::runtime::heap::Key;
        use crate::runtime::value::Value;
        // `MAP_ENTRY_BYTES` in heap.rs: hash, key and value, a tombstone costing nothing more.
        assert_eq!(std::mem::size_of::<Slot<Key, Value>>(), 40);
        assert_eq!(std::mem::size_of::<Table<Key, Value>>(), 64);
    }

    #[test]
    fn insert_update_remove_and_insert_again_keep_insertion_order() {
        let mut t = Table::new();
        for k in [5, 3, 9, 1] {
            assert_eq!(t.insert(k, k * 10), None);
        }
        assert_eq!(t.insert(3, 33), Some(30));
        assert_eq!(pairs(&t), [(5, 50), (3, 33), (9, 90), (1, 10)]);
        assert_eq!(t.remove(&3), Some(33));
        assert_eq!(t.remove(&3), None);
        assert_eq!(t.get(&3), None);
        assert!(!t.contains_key(&3));
        assert_eq!(pairs(&t), [(5, 50), (9, 90), (1, 10)]);
        assert_eq!(t.insert(3, 7), None);
        *t.get_mut(&9).unwrap() += 1;
        assert_eq!(pairs(&t), [(5, 50), (9, 91), (1, 10), (3, 7)]);
        assert_eq!(by_position(&t), pairs(&t));
        assert_eq!(t.keys().copied().collect::<Vec<_>>(), [5, 9, 1, 3]);
        assert_eq!(t.values().copied().collect::<Vec<_>>(), [50, 91, 10, 7]);
        assert_eq!(t.iter().len(), 4);
        assert_eq!(t.iter().skip(1).len(), 3);
        assert_eq!(t.len(), 4);
        assert_eq!(t.get_index_of(&1), Some(2));
        assert_eq!(t.get_index_of(&3), Some(3));
        assert_eq!(t.get_index(4), None);
        t.check();
    }

    #[test]
    fn positions_follow_removals_before_at_and_after_the_hint() {
        let mut t = Table::new();
        for k in 0..40 {
            t.insert(k, k);
        }
        t.remove(&0);
        // Leave the hint at position 10 (key 11).
        assert_eq!(t.get_index(10), Some((&11, &11)));
        t.check();
        // Before the hint: every later entry moves down one position.
        t.remove(&2);
        assert_eq!(t.get_index(10), Some((&12, &12)));
        assert_eq!(t.get_index(9), Some((&11, &11)));
        t.check();
        // At the hint: the next entry takes its position.
        t.remove(&11);
        assert_eq!(t.get_index(9), Some((&12, &12)));
        t.check();
        // After the hint: earlier positions do not change.
        t.remove(&13);
        assert_eq!(t.get_index(9), Some((&12, &12)));
        assert_eq!(t.get_index(10), Some((&14, &14)));
        // A jump, and walking back.
        assert_eq!(t.get_index(35), Some((&39, &39)));
        assert_eq!(t.get_index(0), Some((&1, &1)));
        assert_eq!(t.get_index(34), Some((&38, &38)));
        assert_eq!(t.get_index(33), Some((&37, &37)));
        assert_eq!(t.get_index(36), None);
        t.check();
        let expected: Vec<(u32, u32)> = (0..40)
            .filter(|k| ![0, 2, 11, 13].contains(k))
            .map(|k| (k, k))
            .collect();
        assert_eq!(by_position(&t), expected);
        assert_eq!(t.get_index_of(&12), Some(9));
        assert_eq!(t.get_index_of(&39), Some(35));
    }

    #[test]
    fn tombstones_are_compacted_once_they_outnumber_live_entries() {
        let mut t = Table::new();
        for k in 0..100 {
            t.insert(k, k);
        }
        for k in 0..50 {
            t.remove(&k);
        }
        assert_eq!(t.places(), 100);
        t.check();
        t.remove(&50);
        assert_eq!((t.len(), t.places()), (49, 49));
        t.check();
        assert_eq!(
            by_position(&t),
            (51..100).map(|k| (k, k)).collect::<Vec<_>>()
        );
        // A small table keeps a few tombstones.
        let mut small: Table<u32, u32> = Table::new();
        small.insert(1, 1);
        small.insert(2, 2);
        small.remove(&1);
        assert_eq!(small.places(), 2);
        small.check();
    }

    #[test]
    fn a_full_list_is_compacted_instead_of_growing() {
        let mut t = Table::new();
        t.grow_to(14);
        for k in 0..8 {
            t.insert(k, k);
        }
        // Lose the oldest key and gain a new one, many times: the list never grows.
        for k in 8..200 {
            t.remove(&(k - 8));
            t.insert(k, k);
            assert!(t.places() <= 14);
            assert_eq!(t.slots.capacity(), 14);
        }
        t.check();
        assert_eq!(pairs(&t), (192..200).map(|k| (k, k)).collect::<Vec<_>>());
    }

    #[test]
    fn iterating_by_position_while_removing_and_inserting() {
        // Removes the previous, current or a later entry at each step, and sometimes inserts
        // a removed key again, as a `for` loop over a map may.
        let mut t = Table::new();
        let mut model: Vec<(u32, u32)> = Vec::new();
        for k in 0..200 {
            t.insert(k, k);
            model.push((k, k));
        }
        let mut position = 0;
        let mut step = 0u32;
        while let Some((&k, _)) = t.get_index(position) {
            assert_eq!(model[position].0, k);
            step += 1;
            let victim = match step % 4 {
                0 if position > 0 => Some(model[position - 1].0),
                1 => Some(k),
                2 if position + 3 < model.len() => Some(model[position + 3].0),
                _ => None,
            };
            if let Some(v) = victim {
                let i = model.iter().position(|e| e.0 == v).unwrap();
                assert_eq!(t.get_index_of(&v), Some(i));
                assert_eq!(t.remove(&v), Some(model.remove(i).1));
                if step.is_multiple_of(5) && step < 400 {
                    t.insert(v, step);
                    model.push((v, step));
                }
            }
            position += 1;
        }
        t.check();
        assert_eq!(pairs(&t), model);
        assert_eq!(by_position(&t), model);
    }

    #[derive(Clone, Debug)]
    enum Op {
        Insert(u32, u32),
        Remove(u32),
        GetIndex(usize),
        GrowTo(usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (0..48u32, any::<u32>()).prop_map(|(k, v)| Op::Insert(k, v)),
            4 => (0..48u32).prop_map(Op::Remove),
            2 => (0..52usize).prop_map(Op::GetIndex),
            1 => (0..64usize).prop_map(Op::GrowTo),
        ]
    }

    proptest! {
        /// Against a vector of pairs in insertion order, the obvious ordered map.
        #[test]
        fn behaves_like_a_vector_of_pairs(ops in proptest::collection::vec(op(), 1..400)) {
            let mut t = Table::new();
            let mut model: Vec<(u32, u32)> = Vec::new();
            for op in ops {
                match op {
                    Op::Insert(k, v) => {
                        let old = model_insert(&mut model, k, v);
                        prop_assert_eq!(t.insert(k, v), old);
                    }
                    Op::Remove(k) => {
                        let i = model.iter().position(|e| e.0 == k);
                        prop_assert_eq!(t.get_index_of(&k), i);
                        prop_assert_eq!(t.remove(&k), i.map(|i| model.remove(i).1));
                    }
                    Op::GetIndex(i) => {
                        let got = t.get_index(i).map(|(k, v)| (*k, *v));
                        prop_assert_eq!(got, model.get(i).copied());
                    }
                    Op::GrowTo(n) => t.grow_to(n),
                }
                prop_assert_eq!(t.len(), model.len());
                prop_assert!(t.places() <= 2 * t.len() + MIN_TOMBSTONES + 1);
                t.check();
            }
            prop_assert_eq!(pairs(&t), model.clone());
            prop_assert_eq!(by_position(&t), model.clone());
            for (k, v) in &model {
                prop_assert_eq!(t.get(k), Some(v));
            }
        }
    }

    #[test]
    fn dense_int_keys_go_to_the_direct_index_in_any_order() {
        let mut t = Table::new();
        // A permutation of 0..20000, as the map_ops benchmark inserts them.
        for i in 0..20000i64 {
            t.insert(i * 7919 % 20000, i);
        }
        t.check();
        assert!(t.direct.len() >= 20000);
        assert_eq!(t.index.as_ref().map_or(0, |ix| ix.table.len()), 0);
        for i in 0..20000i64 {
            assert_eq!(t.get(&(i * 7919 % 20000)), Some(&i));
        }
        // Appending keys in order keeps them direct, the index widening as they come.
        for k in 20000..50000i64 {
            t.insert(k, k);
        }
        t.check();
        assert!(t.direct.len() >= 50000);
        assert!(t.loose < 50000 / 2);
    }

    #[test]
    fn sparse_negative_and_huge_keys_stay_in_the_hash_index() {
        let mut t = Table::new();
        let keys = [-1, i64::MIN, i64::MAX, 1 << 31, (1 << 31) - 1, 1 << 40, 7];
        for (i, k) in keys.iter().enumerate() {
            t.insert(*k, i);
        }
        for k in 0..100 {
            t.insert(k * 1_000_003, 0);
        }
        t.check();
        // Key 0 and 7 may be direct; no other.
        assert!(t.direct.len() <= 8);
        for (i, k) in keys.iter().enumerate() {
            assert_eq!(t.get(k), Some(&i));
        }
        assert_eq!(t.get(&-2), None);
        assert_eq!(t.get(&8), None);
    }

    #[test]
    fn switching_between_dense_and_sparse_keys() {
        let mut t = Table::new();
        let mut model: Vec<(i64, i64)> = Vec::new();
        let insert = |t: &mut Table<i64, i64>, model: &mut Vec<(i64, i64)>, k: i64| match model
            .iter_mut()
            .find(|e| e.0 == k)
        {
            Some(e) => {
                e.1 += 1;
                assert_eq!(t.insert(k, e.1), Some(e.1 - 1));
            }
            None => {
                model.push((k, 0));
                assert_eq!(t.insert(k, 0), None);
            }
        };
        // Dense, then sparse, then dense again, removing most of each batch in between so
        // that compaction sizes the direct index afresh (down as well as up).
        for round in 0..3i64 {
            for k in 0..2000 {
                insert(&mut t, &mut model, k);
            }
            t.check();
            // Enough to fill the hash index, so they went direct.
            assert!(
                t.direct.len() >= 2000,
                "round {round}: {} {}",
                t.direct.len(),
                t.loose
            );
            for k in 0..1980 {
                let i = model.iter().position(|e| e.0 == k).unwrap();
                assert_eq!(t.remove(&k), Some(model.remove(i).1));
            }
            t.check();
            for k in 0..400 {
                insert(&mut t, &mut model, 1000 + k * (997 + round));
            }
            t.check();
            for k in 0..20 {
                insert(&mut t, &mut model, -k);
            }
            t.check();
        }
        assert_eq!(t.iter().map(|(k, v)| (*k, *v)).collect::<Vec<_>>(), model);
    }

    #[derive(Clone, Debug)]
    enum IntOp {
        Insert(i64, u32),
        Remove(i64),
        GetIndex(usize),
        GrowTo(usize),
    }

    /// Keys of every kind: dense from 0, near the table's size, sparse, negative and huge.
    fn int_key() -> impl Strategy<Value = i64> {
        prop_oneof![
            6 => 0..40i64,
            2 => 40..200i64,
            1 => (0..40i64).prop_map(|k| k * 1009),
            1 => -40..0i64,
            1 => prop::sample::select(vec![
                i64::MIN, i64::MAX, (1 << 31) - 1, 1 << 31, 1 << 32, u32::MAX as i64,
            ]),
        ]
    }

    fn int_op() -> impl Strategy<Value = IntOp> {
        prop_oneof![
            5 => (int_key(), any::<u32>()).prop_map(|(k, v)| IntOp::Insert(k, v)),
            4 => int_key().prop_map(IntOp::Remove),
            1 => (0..120usize).prop_map(IntOp::GetIndex),
            1 => (0..300usize).prop_map(IntOp::GrowTo),
        ]
    }

    proptest! {
        /// A table with a direct index answers every operation exactly as a plain hash table
        /// of the same keys and as a vector of pairs, whatever mix of keys it holds.
        #[test]
        fn the_direct_index_behaves_like_the_hash_index(
            ops in proptest::collection::vec(int_op(), 1..600)
        ) {
            let mut t: Table<i64, u32> = Table::new();
            let mut h: Table<Hashed, u32> = Table::new();
            let mut model: Vec<(i64, u32)> = Vec::new();
            for op in ops {
                match op {
                    IntOp::Insert(k, v) => {
                        let old = model_insert(&mut model, k, v);
                        prop_assert_eq!(t.insert(k, v), old);
                        prop_assert_eq!(h.insert(Hashed(k), v), old);
                    }
                    IntOp::Remove(k) => {
                        let i = model.iter().position(|e| e.0 == k);
                        prop_assert_eq!(t.get_index_of(&k), i);
                        prop_assert_eq!(h.get_index_of(&Hashed(k)), i);
                        prop_assert_eq!(t.contains_key(&k), i.is_some());
                        let old = i.map(|i| model.remove(i).1);
                        prop_assert_eq!(t.remove(&k), old);
                        prop_assert_eq!(h.remove(&Hashed(k)), old);
                    }
                    IntOp::GetIndex(i) => {
                        let got = t.get_index(i).map(|(k, v)| (*k, *v));
                        let hashed = h.get_index(i).map(|(k, v)| (k.0, *v));
                        prop_assert_eq!(got, model.get(i).copied());
                        prop_assert_eq!(hashed, got);
                    }
                    IntOp::GrowTo(n) => {
                        t.grow_to(n);
                        h.grow_to(n);
                    }
                }
                prop_assert_eq!(t.len(), model.len());
                // Same places, so compaction happens at the same points in both.
                prop_assert_eq!(t.places(), h.places());
                // The direct index costs at most three places per entry.
                prop_assert!(t.direct.len() <= 3 * t.places());
                t.check();
                h.check();
            }
            prop_assert_eq!(t.iter().map(|(k, v)| (*k, *v)).collect::<Vec<_>>(), model.clone());
            for (k, v) in &model {
                prop_assert_eq!(t.get(k), Some(v));
            }
            for k in -50..250 {
                prop_assert_eq!(t.get(&k), h.get(&Hashed(k)));
            }
        }
    }
}
