//! All nodes of a snapshot by name, split into shards that versions share.
//!
//! A shard is one arena holding its nodes' blobs back to back, and a
//! table of 8-octet slots (a tag from the name hash and the blob's offset).
//! A lookup is one shard pick by the high bits of the name hash and one
//! probe by the low bits. The next version after an IXFR clones the shard
//! array (one pointer per shard) and rebuilds only the shards the diff
//! touches: a few kilobytes each, whatever the zone's size.

use std::sync::Arc;

use super::node::Node;
#[cfg(test)]
use super::node::blob_len;
use crate::wire::name::hash_name;

/// Names per shard the map aims for.
const TARGET_PER_SHARD: usize = 64;
/// Rebuild with more shards when they average this many names.
const MAX_AVG_PER_SHARD: usize = 512;
const MAX_SHARD_BITS: u32 = 22;

/// Asks the CPU to bring the cache line at `p` in; never faults, never
/// waits.
#[inline]
fn touch(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is only a hint: it reads nothing into the program
    // and does not fault, whatever the address.
    unsafe {
        core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(p.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// Below this many names a shard's table may be nearly full.
const SMALL_SHARD: usize = 8;

/// Octets of a slot: a tag from the name hash, and the blob's offset in
/// the arena plus one (0: empty), both little-endian u32.
const SLOT: usize = 8;

#[inline]
fn tag(hash: u64) -> u32 {
    (hash >> 32) as u32
}

/// One shard: its slot table, then its arena, in one shared allocation.
/// The shard array holds these (fat pointers, length included) by value,
/// so a lookup goes from the array straight to a slot: profiling under
/// dnsperf showed a header loaded first as a third of the lookup's time.
#[derive(Clone)]
struct Shard {
    data: Arc<[u8]>,
    /// Slots in the table (a power of two, or 0 when empty).
    slots: u32,
    count: u32,
}

impl Shard {
    /// A shard holding `blobs` (with their name hashes).
    fn build<'b>(blobs: impl Iterator<Item = (u64, &'b [u8])> + Clone) -> Shard {
        let (count, bytes) = blobs.clone().fold((0usize, 0usize), |(c, b), (_, blob)| {
            (c + 1, b + blob.len())
        });
        // Filled to 3/4 at most, so a probe ends soon; a shard of a few
        // names (a small zone's only one) keeps just one slot free, as
        // probing a handful of slots costs nothing and a node of 100,000
        // small zones holds 100,000 tables.
        let cap = if count < SMALL_SHARD {
            (count + 1).next_power_of_two()
        } else {
            (count * 4 / 3 + 1).next_power_of_two()
        };
        let table = cap * SLOT;
        // Allocated once, in place (no copy into the Arc afterwards).
        let mut data: Arc<[u8]> = std::iter::repeat_n(0u8, table + bytes).collect();
        let Some(buf) = Arc::get_mut(&mut data) else {
            unreachable!("an Arc just made has no other owner");
        };
        let (slots, arena) = buf.split_at_mut(table);
        let mask = cap - 1;
        let mut pos = 0usize;
        for (hash, blob) in blobs {
            arena[pos..pos + blob.len()].copy_from_slice(blob);
            let mut i = hash as usize & mask;
            while slots[i * SLOT + 4..i * SLOT + SLOT] != [0; 4] {
                i = (i + 1) & mask;
            }
            slots[i * SLOT..i * SLOT + 4].copy_from_slice(&tag(hash).to_le_bytes());
            slots[i * SLOT + 4..i * SLOT + SLOT].copy_from_slice(&(pos as u32 + 1).to_le_bytes());
            pos += blob.len();
        }
        Shard {
            data,
            slots: cap as u32,
            count: count as u32,
        }
    }

    #[inline]
    fn arena(&self) -> &[u8] {
        &self.data[self.slots as usize * SLOT..]
    }

    /// The tag and offset in slot `i`.
    #[inline]
    fn slot(&self, i: usize) -> (u32, u32) {
        let mut w = [0u8; SLOT];
        w.copy_from_slice(&self.data[i * SLOT..(i + 1) * SLOT]);
        let [a, b, c, d, e, f, g, h] = w;
        (
            u32::from_le_bytes([a, b, c, d]),
            u32::from_le_bytes([e, f, g, h]),
        )
    }

    #[inline]
    fn get(&self, key: &[u8], hash: u64) -> Option<Node<'_>> {
        self.locate(key, hash)
            .map(|at| Node::at(&self.arena()[at..]))
    }

    /// Where in the arena the node named `key` starts. Always inlined:
    /// every lookup of every query runs it, and out of line it cost 15
    /// instructions a query (callgrind).
    #[inline(always)]
    fn locate(&self, key: &[u8], hash: u64) -> Option<usize> {
        if self.slots == 0 {
            return None;
        }
        let mask = self.slots as usize - 1;
        let t = tag(hash);
        let mut i = hash as usize & mask;
        loop {
            let (st, off) = self.slot(i);
            if off == 0 {
                return None;
            }
            if st == t {
                let arena = self.arena();
                let at = off as usize - 1;
                let len = arena[at] as usize;
                if arena.get(at + 1..at + 1 + len) == Some(key) {
                    return Some(at);
                }
            }
            i = (i + 1) & mask;
        }
    }

    fn iter(&self) -> ShardIter<'_> {
        ShardIter { rest: self.arena() }
    }
}

struct ShardIter<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for ShardIter<'a> {
    type Item = Node<'a>;
    fn next(&mut self) -> Option<Node<'a>> {
        if self.rest.is_empty() {
            return None;
        }
        let n = Node::at(self.rest);
        self.rest = &self.rest[n.blob().len()..];
        Some(n)
    }
}

/// A change to apply to a [`NodeMap`].
pub enum Change {
    /// Add a node, or replace the node with the same owner.
    Put(Vec<u8>),
    /// Remove the node with this owner (lowercase wire form).
    Remove(Vec<u8>),
}

impl Change {
    fn owner(&self) -> &[u8] {
        match self {
            Change::Put(blob) => &blob[1..1 + blob[0] as usize],
            Change::Remove(owner) => owner,
        }
    }
}

#[derive(Clone)]
pub struct NodeMap {
    /// One shard held in place, not behind an allocation of its own: a
    /// small zone's whole map is one allocation.
    shards: smallvec::SmallVec<[Shard; 1]>,
    bits: u32,
    /// Names held; 32 bits, as a transfer is limited far below
    /// (`transfer.max_records`) and the map sits in every version.
    len: u32,
}

fn bits_for(n: usize) -> u32 {
    let shards = (n / TARGET_PER_SHARD).max(1).next_power_of_two();
    shards.trailing_zeros().min(MAX_SHARD_BITS)
}

#[inline]
fn shard_of(bits: u32, hash: u64) -> usize {
    if bits == 0 {
        0
    } else {
        (hash >> (64 - bits)) as usize
    }
}

impl NodeMap {
    /// A map holding `blobs`, given with the hash of each owner.
    pub fn build(blobs: &[(u64, &[u8])]) -> NodeMap {
        let bits = bits_for(blobs.len());
        let n_shards = 1usize << bits;
        // Counting sort of the blobs by shard.
        let mut starts = vec![0usize; n_shards + 1];
        for (h, _) in blobs {
            starts[shard_of(bits, *h) + 1] += 1;
        }
        for i in 0..n_shards {
            starts[i + 1] += starts[i];
        }
        let mut fill = starts.clone();
        let mut order = vec![0u32; blobs.len()];
        for (i, (h, _)) in blobs.iter().enumerate() {
            let s = shard_of(bits, *h);
            order[fill[s]] = i as u32;
            fill[s] += 1;
        }
        let shards = (0..n_shards)
            .map(|s| {
                let members = &order[starts[s]..starts[s + 1]];
                Shard::build(members.iter().map(|&i| blobs[i as usize]))
            })
            .collect();
        NodeMap {
            shards,
            bits,
            len: u32::try_from(blobs.len()).unwrap_or(u32::MAX),
        }
    }

    pub fn len(&self) -> usize {
        self.len as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The node named `key` (lowercase wire form), whose hash is `hash`.
    #[inline]
    pub fn get(&self, key: &[u8], hash: u64) -> Option<Node<'_>> {
        self.shards[shard_of(self.bits, hash)].get(key, hash)
    }

    /// Moves the lookup of `hash` one step toward the cache, without
    /// waiting for it: step 0 the shard's entry, step 1 the slot the probe
    /// starts at, step 2 the node that slot names. Each step reads only
    /// what the one before fetched, so a batch of lookups taken one step
    /// at a time overlaps their cache misses instead of paying them one
    /// after another.
    #[inline]
    pub fn prefetch(&self, hash: u64, step: u8) {
        let i = shard_of(self.bits, hash);
        let Some(shard) = self.shards.get(i) else {
            return;
        };
        if step == 0 {
            touch(shard as *const Shard as *const u8);
            return;
        }
        if shard.slots == 0 {
            return;
        }
        let slot = hash as usize & (shard.slots as usize - 1);
        if step == 1 {
            touch(shard.data[slot * SLOT..].as_ptr());
            return;
        }
        let (t, off) = shard.slot(slot);
        if off != 0
            && t == tag(hash)
            && let Some(node) = shard.arena().get(off as usize - 1..)
        {
            // A node with an answer's RRset often spans two lines.
            touch(node.as_ptr());
            touch(node.as_ptr().wrapping_add(64));
        }
    }

    /// Every node, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = Node<'_>> {
        self.shards.iter().flat_map(|s| s.iter())
    }

    /// Applies changes; each touched shard is rebuilt once, the others
    /// stay shared with earlier versions.
    pub fn apply(&mut self, changes: Vec<Change>) {
        let mut by_shard: Vec<(usize, u64, Change)> = changes
            .into_iter()
            .map(|c| {
                let h = hash_name(c.owner());
                (shard_of(self.bits, h), h, c)
            })
            .collect();
        by_shard.sort_by_key(|(s, _, _)| *s);
        let mut i = 0;
        while i < by_shard.len() {
            let s = by_shard[i].0;
            let mut j = i;
            while j < by_shard.len() && by_shard[j].0 == s {
                j += 1;
            }
            let group = &by_shard[i..j];
            let old = &self.shards[s];
            let before = old.count as usize;
            // Keep old nodes the group does not name; then add the puts.
            let kept: Vec<(u64, &[u8])> = old
                .iter()
                .filter(|n| !group.iter().any(|(_, _, c)| c.owner() == n.owner()))
                .map(|n| (hash_name(n.owner()), n.blob()))
                .collect();
            let puts = group.iter().filter_map(|(_, h, c)| match c {
                Change::Put(b) => Some((*h, &b[..])),
                Change::Remove(_) => None,
            });
            let all: Vec<(u64, &[u8])> = kept.into_iter().chain(puts).collect();
            let rebuilt = Shard::build(all.iter().copied());
            self.len = (self.len as usize + rebuilt.count as usize - before) as u32;
            self.shards[s] = rebuilt;
            i = j;
        }
        if self.len as usize > self.shards.len() * MAX_AVG_PER_SHARD && self.bits < MAX_SHARD_BITS {
            self.reshard();
        }
    }

    /// Rebuilds with more shards after the zone has grown through IXFRs.
    fn reshard(&mut self) {
        let blobs: Vec<(u64, &[u8])> = self
            .iter()
            .map(|n| (hash_name(n.owner()), n.blob()))
            .collect();
        let bigger = NodeMap::build(&blobs);
        *self = bigger;
    }

    /// Octets held: arenas, slot tables and shard headers.
    pub fn heap_bytes(&self) -> usize {
        // Each allocation also has the Arc's two counters.
        self.shards
            .iter()
            .map(|s| s.data.len() + 16 + core::mem::size_of::<Shard>())
            .sum::<usize>()
    }

    /// How many shards `other` shares with `self` (for tests of sharing).
    pub fn shared_shards(&self, other: &NodeMap) -> usize {
        self.shards
            .iter()
            .zip(&other.shards)
            .filter(|(a, b)| Arc::ptr_eq(&a.data, &b.data))
            .count()
    }

    pub fn shard_count(&self) -> usize {
        self.shards.len()
    }
}

impl NodeMap {
    /// Shard `i`'s nodes, back to back: a cursor through every node that
    /// outlives a borrow (an outbound transfer resumes where it stopped).
    pub fn arena(&self, i: usize) -> Option<&[u8]> {
        self.shards.get(i).map(Shard::arena)
    }

    /// The shard holding the node named `key` (lowercase wire form,
    /// hashing to `hash`), and where the node starts in its octets
    /// ([`NodeMap::shard_bytes`]): for what is read of one node on every
    /// query (the apex).
    pub fn holding(&self, key: &[u8], hash: u64) -> Option<(usize, usize)> {
        let index = shard_of(self.bits, hash);
        let shard = self.shards.get(index)?;
        let at = shard.locate(key, hash)?;
        Some((index, shard.slots as usize * SLOT + at))
    }

    /// Shard `i`'s octets, its slot table first; empty past the last.
    #[inline]
    pub fn shard_bytes(&self, i: usize) -> &[u8] {
        self.shards.get(i).map_or(&[], |s| &s.data[..])
    }
}

/// Whether the blob at the start of `bytes` is whole (for tests).
#[cfg(test)]
pub(crate) fn check_blob(bytes: &[u8]) -> bool {
    bytes.len() >= blob_len(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::name::parse_name_text;
    use crate::zone::node::{RRsetParts, encode_node, encode_records};

    fn blob(name: &str, octet: u8) -> Vec<u8> {
        let owner = parse_name_text(name, None).unwrap();
        let mut wire = Vec::new();
        encode_records(&mut wire, 1, 60, [&[192u8, 0, 2, octet][..]]);
        let mut out = Vec::new();
        encode_node(
            &mut out,
            owner.as_wire(),
            0,
            &[RRsetParts {
                rtype: 1,
                count: 1,
                wire: &wire,
            }],
        );
        assert!(check_blob(&out));
        out
    }

    fn get<'m>(m: &'m NodeMap, name: &str) -> Option<Node<'m>> {
        let n = parse_name_text(name, None).unwrap();
        m.get(n.as_wire(), hash_name(n.as_wire()))
    }

    /// The last octet of the A record at `name` (the one `blob` varies).
    fn last_octet(m: &NodeMap, name: &str) -> u8 {
        get(m, name)
            .unwrap()
            .rrset(1)
            .unwrap()
            .rdatas()
            .next()
            .unwrap()[3]
    }

    fn map(n: usize) -> NodeMap {
        let blobs: Vec<Vec<u8>> = (0..n)
            .map(|i| blob(&format!("h{i}.example."), (i % 250) as u8))
            .collect();
        let entries: Vec<(u64, &[u8])> = blobs
            .iter()
            .map(|b| (hash_name(&b[1..1 + b[0] as usize]), &b[..]))
            .collect();
        NodeMap::build(&entries)
    }

    #[test]
    fn prefetch_takes_any_hash_at_any_step_and_changes_nothing() {
        // Empty, one shard, and many shards; hashes of names present and
        // absent, and ones built to hit a slot tag but not the name.
        for n in [0, 1, 5000] {
            let m = map(n);
            let present = parse_name_text("h0.example.", None).unwrap();
            let h = hash_name(present.as_wire());
            for hash in [h, h ^ 1, h ^ (1 << 63), 0, u64::MAX] {
                for step in 0..=3 {
                    m.prefetch(hash, step);
                }
            }
            assert_eq!(get(&m, "h0.example.").is_some(), n > 0);
            assert_eq!(m.len(), n);
        }
    }

    #[test]
    fn finds_every_node_and_nothing_else() {
        let m = map(10_000);
        assert_eq!(m.len(), 10_000);
        assert_eq!(m.iter().count(), 10_000);
        for i in (0..10_000).step_by(7) {
            let n = get(&m, &format!("h{i}.example.")).unwrap();
            assert_eq!(
                n.rrset(1).unwrap().rdatas().next().unwrap()[3],
                (i % 250) as u8
            );
        }
        assert!(get(&m, "h10000.example.").is_none());
        assert!(get(&m, "example.").is_none());
    }

    #[test]
    fn changes_copy_only_touched_shards() {
        let a = map(10_000);
        let mut b = a.clone();
        b.apply(vec![
            Change::Put(blob("new.example.", 9)),
            Change::Put(blob("h5.example.", 7)),
        ]);
        assert_eq!(b.len(), 10_001);
        assert!(get(&a, "new.example.").is_none());
        assert_eq!(last_octet(&b, "new.example."), 9);
        assert_eq!(last_octet(&b, "h5.example."), 7);
        assert_eq!(last_octet(&a, "h5.example."), 5);
        assert!(a.shared_shards(&b) >= a.shard_count() - 2);
        let gone = parse_name_text("h6.example.", None).unwrap();
        b.apply(vec![Change::Remove(gone.as_wire().to_vec())]);
        assert!(get(&b, "h6.example.").is_none());
        assert!(get(&a, "h6.example.").is_some());
        assert_eq!(b.len(), 10_000);
    }

    #[test]
    fn grows_by_resharding() {
        let mut m = map(1);
        for chunk in 0..20 {
            let changes = (0..100)
                .map(|i| Change::Put(blob(&format!("g{chunk}-{i}.example."), 1)))
                .collect();
            m.apply(changes);
        }
        assert_eq!(m.len(), 2001);
        assert!(m.shard_count() > 1);
        for chunk in 0..20 {
            for i in 0..100 {
                assert!(get(&m, &format!("g{chunk}-{i}.example.")).is_some());
            }
        }
    }
}
