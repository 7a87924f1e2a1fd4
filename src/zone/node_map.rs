//! All nodes of a snapshot by name, split into shards that versions share.
//!
//! The next version after an IXFR clones the shard array (one pointer per
//! shard) and copies only the shards the diff touches, so publishing a
//! one-record change to a million-name zone costs a few hundred
//! microseconds, not a rebuild. A lookup is one shard pick by the high
//! bits of the name hash and one probe by the low bits.

use std::sync::Arc;

use super::name_table::{Keyed, NameTable};
use super::node::Node;

/// Names per shard the map aims for; a shard is copied whole when a diff
/// touches it.
const TARGET_PER_SHARD: usize = 64;
/// Rebuild with more shards when they average this many names.
const MAX_AVG_PER_SHARD: usize = 512;
const MAX_SHARD_BITS: u32 = 20;

impl Keyed for Node {
    fn key(&self) -> &[u8] {
        self.owner().as_wire()
    }
}

#[derive(Clone)]
pub struct NodeMap {
    shards: Vec<Arc<NameTable<Arc<Node>>>>,
    bits: u32,
    len: usize,
}

fn bits_for(n: usize) -> u32 {
    let shards = (n / TARGET_PER_SHARD).max(1).next_power_of_two();
    shards.trailing_zeros().min(MAX_SHARD_BITS)
}

impl NodeMap {
    /// A map sized for about `n` names.
    pub fn with_capacity(n: usize) -> Self {
        let bits = bits_for(n);
        let per = n / (1usize << bits) + 1;
        NodeMap {
            shards: (0..1usize << bits)
                .map(|_| Arc::new(NameTable::with_capacity(per)))
                .collect(),
            bits,
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
    fn shard_of(&self, hash: u64) -> usize {
        if self.bits == 0 {
            0
        } else {
            (hash >> (64 - self.bits)) as usize
        }
    }

    /// The node named `key` (lowercase wire form), whose hash is `hash`.
    #[inline]
    pub fn get(&self, key: &[u8], hash: u64) -> Option<&Arc<Node>> {
        self.shards[self.shard_of(hash)].get(key, hash)
    }

    /// Inserts or replaces a node; copies its shard if another version
    /// shares it.
    pub fn insert(&mut self, hash: u64, node: Arc<Node>) -> Option<Arc<Node>> {
        let s = self.shard_of(hash);
        let old = Arc::make_mut(&mut self.shards[s]).insert(hash, node);
        if old.is_none() {
            self.len += 1;
            if self.len > self.shards.len() * MAX_AVG_PER_SHARD && self.bits < MAX_SHARD_BITS {
                self.reshard();
            }
        }
        old
    }

    pub fn remove(&mut self, key: &[u8], hash: u64) -> Option<Arc<Node>> {
        let s = self.shard_of(hash);
        // Look first so an absent key does not copy a shared shard.
        self.shards[s].get(key, hash)?;
        let old = Arc::make_mut(&mut self.shards[s]).remove(key, hash);
        if old.is_some() {
            self.len -= 1;
        }
        old
    }

    /// Rebuilds with more shards after the zone has grown through IXFRs.
    fn reshard(&mut self) {
        let mut bigger = NodeMap::with_capacity(self.len * 2);
        for shard in &self.shards {
            for (h, n) in shard.entries() {
                bigger.insert(h, n.clone());
            }
        }
        *self = bigger;
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<Node>> {
        self.shards.iter().flat_map(|s| s.iter())
    }

    /// Octets of the shard arrays and slot tables.
    pub fn index_bytes(&self) -> usize {
        self.shards.len() * core::mem::size_of::<Arc<NameTable<Arc<Node>>>>()
            + self.shards.iter().map(|s| s.slot_bytes()).sum::<usize>()
    }

    /// How many shards `other` shares with `self` (for tests of sharing).
    pub fn shared_shards(&self, other: &NodeMap) -> usize {
        self.shards
            .iter()
            .zip(&other.shards)
            .filter(|(a, b)| Arc::ptr_eq(a, b))
            .count()
    }

    pub fn shard_count(&self) -> usize {
        self.shards.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::name::{hash_name, parse_name_text};

    fn node(s: &str) -> Arc<Node> {
        Arc::new(Node::new(parse_name_text(s, None).unwrap(), vec![], false))
    }

    #[test]
    fn versions_share_untouched_shards() {
        let mut a = NodeMap::with_capacity(10_000);
        for i in 0..10_000 {
            let n = node(&format!("h{i}.example."));
            a.insert(hash_name(n.owner().as_wire()), n);
        }
        assert_eq!(a.len(), 10_000);
        let mut b = a.clone();
        let n = node("new.example.");
        let h = hash_name(n.owner().as_wire());
        b.insert(h, n.clone());
        assert_eq!(b.len(), 10_001);
        assert!(a.get(n.owner().as_wire(), h).is_none());
        assert!(b.get(n.owner().as_wire(), h).is_some());
        assert_eq!(a.shared_shards(&b), a.shard_count() - 1);
        let gone = node("h5.example.");
        let gh = hash_name(gone.owner().as_wire());
        assert!(b.remove(gone.owner().as_wire(), gh).is_some());
        assert!(a.get(gone.owner().as_wire(), gh).is_some());
        assert!(b.get(gone.owner().as_wire(), gh).is_none());
    }

    #[test]
    fn grows_by_resharding() {
        let mut m = NodeMap::with_capacity(0);
        for i in 0..2000 {
            let n = node(&format!("h{i}.example."));
            m.insert(hash_name(n.owner().as_wire()), n);
        }
        assert!(m.shard_count() > 1);
        for i in 0..2000 {
            let n = parse_name_text(&format!("h{i}.example."), None).unwrap();
            assert!(m.get(n.as_wire(), hash_name(n.as_wire())).is_some());
        }
    }
}
