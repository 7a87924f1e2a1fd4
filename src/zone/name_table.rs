//! An open-addressed hash table keyed by lowercase wire names, with the
//! name's hash (see [`crate::wire::name::hash_name`]) supplied by the
//! caller: a query computes every suffix hash of its name once and probes
//! with them, never rehashing.

/// Something stored under a lowercase wire-form name.
pub trait Keyed {
    fn key(&self) -> &[u8];
}

impl<T: Keyed> Keyed for std::sync::Arc<T> {
    fn key(&self) -> &[u8] {
        (**self).key()
    }
}

/// Linear probing, at most 3/4 full, deletion by backward shift (so no
/// tombstones accumulate across IXFRs).
#[derive(Clone)]
pub struct NameTable<T> {
    slots: Box<[Option<(u64, T)>]>,
    len: usize,
}

impl<T: Keyed + Clone> NameTable<T> {
    pub fn with_capacity(n: usize) -> Self {
        let cap = (n * 4 / 3 + 1).next_power_of_two().max(8);
        NameTable {
            slots: (0..cap).map(|_| None).collect(),
            len: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    #[inline]
    fn mask(&self) -> usize {
        self.slots.len() - 1
    }

    #[inline]
    pub fn get(&self, key: &[u8], hash: u64) -> Option<&T> {
        let mask = self.mask();
        let mut i = hash as usize & mask;
        loop {
            match &self.slots[i] {
                None => return None,
                Some((h, v)) if *h == hash && v.key() == key => return Some(v),
                _ => i = (i + 1) & mask,
            }
        }
    }

    /// Inserts `value`, returning the value it replaces (same key).
    pub fn insert(&mut self, hash: u64, value: T) -> Option<T> {
        if (self.len + 1) * 4 > self.slots.len() * 3 {
            self.grow();
        }
        let mask = self.mask();
        let mut i = hash as usize & mask;
        loop {
            match &mut self.slots[i] {
                slot @ None => {
                    *slot = Some((hash, value));
                    self.len += 1;
                    return None;
                }
                Some((h, v)) if *h == hash && v.key() == value.key() => {
                    return Some(core::mem::replace(v, value));
                }
                _ => i = (i + 1) & mask,
            }
        }
    }

    /// Removes and returns the value stored under `key`.
    pub fn remove(&mut self, key: &[u8], hash: u64) -> Option<T> {
        let mask = self.mask();
        let mut i = hash as usize & mask;
        loop {
            match &self.slots[i] {
                None => return None,
                Some((h, v)) if *h == hash && v.key() == key => break,
                _ => i = (i + 1) & mask,
            }
        }
        let removed = self.slots[i].take().map(|(_, v)| v);
        self.len -= 1;
        // Backward shift: move later entries of the run into the hole when
        // their home slot does not lie (cyclically) between hole and them.
        let mut hole = i;
        let mut j = (i + 1) & mask;
        while let Some((h, _)) = &self.slots[j] {
            let home = *h as usize & mask;
            let dist_home = j.wrapping_sub(home) & mask;
            let dist_hole = j.wrapping_sub(hole) & mask;
            if dist_home >= dist_hole {
                self.slots[hole] = self.slots[j].take();
                hole = j;
            }
            j = (j + 1) & mask;
        }
        removed
    }

    fn grow(&mut self) {
        let mut bigger = NameTable {
            slots: (0..self.slots.len() * 2).map(|_| None).collect(),
            len: 0,
        };
        for (h, v) in self.slots.iter_mut().filter_map(Option::take) {
            bigger.insert(h, v);
        }
        *self = bigger;
    }

    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.slots.iter().filter_map(|s| s.as_ref().map(|(_, v)| v))
    }

    /// Stored entries with their hashes.
    pub fn entries(&self) -> impl Iterator<Item = (u64, &T)> {
        self.slots
            .iter()
            .filter_map(|s| s.as_ref().map(|(h, v)| (*h, v)))
    }

    /// Octets of the slot array.
    pub fn slot_bytes(&self) -> usize {
        self.slots.len() * core::mem::size_of::<Option<(u64, T)>>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Debug, PartialEq)]
    struct K(Vec<u8>);
    impl Keyed for K {
        fn key(&self) -> &[u8] {
            &self.0
        }
    }

    #[test]
    fn insert_get_remove_with_colliding_hashes() {
        let mut t = NameTable::with_capacity(4);
        // Force collisions: every key hashes to 1 or 2.
        for i in 0..40u8 {
            assert!(t.insert(1 + (i % 2) as u64, K(vec![i])).is_none());
        }
        assert_eq!(t.len(), 40);
        for i in 0..40u8 {
            assert_eq!(t.get(&[i], 1 + (i % 2) as u64), Some(&K(vec![i])));
        }
        for i in (0..40u8).step_by(3) {
            assert_eq!(t.remove(&[i], 1 + (i % 2) as u64), Some(K(vec![i])));
        }
        for i in 0..40u8 {
            let expect = (i % 3 != 0).then(|| K(vec![i]));
            assert_eq!(t.get(&[i], 1 + (i % 2) as u64).cloned(), expect, "{i}");
        }
        assert_eq!(t.insert(2, K(vec![1])), Some(K(vec![1])));
    }

    #[test]
    fn random_operations_match_a_btreemap() {
        use std::collections::BTreeMap;
        let mut t = NameTable::with_capacity(0);
        let mut m = BTreeMap::new();
        let mut x = 12345u64;
        for _ in 0..20000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let k = (x % 500) as u16;
            let key = k.to_be_bytes().to_vec();
            let h = ((k % 37) as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
            if x.is_multiple_of(3) {
                assert_eq!(
                    t.remove(&key, h).map(|v: K| v.0),
                    m.remove(&key).map(|_| key.clone())
                );
            } else {
                t.insert(h, K(key.clone()));
                m.insert(key, ());
            }
            assert_eq!(t.len(), m.len());
        }
        for k in 0..500u16 {
            let key = k.to_be_bytes().to_vec();
            let h = ((k % 37) as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
            assert_eq!(t.get(&key, h).is_some(), m.contains_key(&key));
        }
    }
}
