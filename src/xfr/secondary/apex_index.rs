//! The machine's zones by apex: an open-addressed table of 8-octet slots
//! (32 bits of the apex's hash and the zone's place), where a map of
//! hashes to lists took 54 octets a zone. The names themselves stay in
//! the zones' configurations; a lookup confirms a candidate by comparing
//! them, so two apexes whose hashes collide both stay findable.

/// A free slot.
const EMPTY: u32 = u32::MAX;

pub(super) struct ApexIndex {
    /// (low 32 bits of the hash, place); the place is [`EMPTY`] when free.
    slots: Box<[(u32, u32)]>,
    len: usize,
}

impl ApexIndex {
    pub(super) fn new() -> Self {
        ApexIndex {
            slots: vec![(0, EMPTY); 8].into_boxed_slice(),
            len: 0,
        }
    }

    fn mask(&self) -> usize {
        self.slots.len() - 1
    }

    /// Room for `additional` more places without growing.
    pub(super) fn reserve(&mut self, additional: usize) {
        let want = ((self.len + additional) * 4 / 3 + 1).next_power_of_two();
        if want > self.slots.len() {
            self.rebuild(want);
        }
    }

    fn rebuild(&mut self, cap: usize) {
        let old = std::mem::replace(&mut self.slots, vec![(0, EMPTY); cap].into_boxed_slice());
        self.len = 0;
        for (h, place) in old.iter().copied().filter(|&(_, p)| p != EMPTY) {
            self.insert(u64::from(h), place as usize);
        }
    }

    /// Adds `place` under `hash` (the lowercase apex's).
    pub(super) fn insert(&mut self, hash: u64, place: usize) {
        if (self.len + 1) * 4 > self.slots.len() * 3 {
            self.rebuild(self.slots.len() * 2);
        }
        let h = hash as u32;
        let mask = self.mask();
        let mut i = h as usize & mask;
        while self.slots[i].1 != EMPTY {
            i = (i + 1) & mask;
        }
        self.slots[i] = (h, place as u32);
        self.len += 1;
    }

    /// The slot of the first place under `hash` that `is_it` accepts.
    fn slot_of(&self, hash: u64, is_it: impl Fn(usize) -> bool) -> Option<usize> {
        let h = hash as u32;
        let mask = self.mask();
        let mut i = h as usize & mask;
        loop {
            let (sh, place) = self.slots[i];
            if place == EMPTY {
                return None;
            }
            if sh == h && is_it(place as usize) {
                return Some(i);
            }
            i = (i + 1) & mask;
        }
    }

    /// The first place under `hash` that `is_it` accepts.
    pub(super) fn find(&self, hash: u64, is_it: impl Fn(usize) -> bool) -> Option<usize> {
        self.slot_of(hash, is_it).map(|i| self.slots[i].1 as usize)
    }

    /// Takes `place` (filed under `hash`) out.
    pub(super) fn remove(&mut self, hash: u64, place: usize) {
        let Some(i) = self.slot_of(hash, |p| p == place) else {
            return;
        };
        let mask = self.mask();
        self.slots[i].1 = EMPTY;
        self.len -= 1;
        // Backward shift, so no tombstones build up as catalogs add and
        // remove zones all day: a later entry of the run moves into the
        // hole unless its home lies (cyclically) after the hole.
        let mut hole = i;
        let mut j = (i + 1) & mask;
        while self.slots[j].1 != EMPTY {
            let home = self.slots[j].0 as usize & mask;
            if j.wrapping_sub(home) & mask >= j.wrapping_sub(hole) & mask {
                self.slots[hole] = self.slots[j];
                self.slots[j].1 = EMPTY;
                hole = j;
            }
            j = (j + 1) & mask;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Places under colliding and distinct hashes are all found, through
    /// growth and removals in any order.
    #[test]
    fn finds_every_place_through_growth_collisions_and_removals() {
        let mut idx = ApexIndex::new();
        // Hash i % 97: many share one, as apexes with colliding hashes.
        let hash = |place: usize| ((place % 97) as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        for place in 0..5000 {
            idx.insert(hash(place), place);
        }
        for place in 0..5000 {
            assert_eq!(idx.find(hash(place), |p| p == place), Some(place));
        }
        assert_eq!(idx.find(hash(7), |p| p == 5001), None);
        for place in (0..5000).filter(|p| p % 3 != 0) {
            idx.remove(hash(place), place);
        }
        assert_eq!(idx.len, 1667);
        for place in 0..5000 {
            let want = (place % 3 == 0).then_some(place);
            assert_eq!(idx.find(hash(place), |p| p == place), want, "place {place}");
        }
        idx.reserve(100_000);
        assert!(idx.slots.len() >= 100_000);
        assert_eq!(idx.find(hash(3), |p| p == 3), Some(3));
    }
}
