//! Lookups started ahead for a batch of queries. Answering one query
//! waits on a chain of cache misses: the shard, the slot, the node. A
//! worker holding a batch from `recvmmsg` first starts each query's
//! lookup of its question name, one step at a time over the whole batch,
//! so that the misses of different queries overlap; the answers then find
//! those lines warm. Under dnsperf on a 100k-name zone this took the
//! lookup from about 10% of a worker's CPU to under 3%. A hint only:
//! whatever it finds or misses, no answer changes.

use crate::wire::name::{NameBuf, SuffixHashes};
use crate::wire::{HEADER_LEN, Header};
use crate::zone::{Zone, ZoneSet};

/// The first lookup of up to `N` queries: the zone and the hash of the
/// question name. The zone's version is loaded at each step rather than
/// held across the batch (guards are cheap one at a time).
pub struct Lookahead<'z, const N: usize> {
    lookups: [Option<(&'z Zone, u64)>; N],
    count: usize,
    /// The question name being read, lowercased, and its suffix hashes.
    lower: NameBuf,
    hashes: SuffixHashes,
}

impl<'z, const N: usize> Default for Lookahead<'z, N> {
    fn default() -> Self {
        let root = NameBuf::root();
        Lookahead {
            lookups: [None; N],
            count: 0,
            hashes: SuffixHashes::compute(&root),
            lower: root,
        }
    }
}

impl<'z, const N: usize> Lookahead<'z, N> {
    /// Forgets the last batch.
    pub fn clear(&mut self) {
        self.count = 0;
    }

    /// Notes the lookup `query` will start with, and starts it; queries
    /// past the N-th are left alone.
    pub fn add(&mut self, zones: &'z ZoneSet, query: &[u8]) {
        if self.count == N {
            return;
        }
        let lookup = self.first_lookup(zones, query);
        if let Some((zone, hash)) = lookup
            && let Some(snapshot) = zone.snapshot().as_deref()
        {
            snapshot.prefetch(hash, 0);
        }
        self.lookups[self.count] = lookup;
        self.count += 1;
    }

    /// Takes every lookup noted the rest of the way toward the cache.
    pub fn finish(&self) {
        for step in 1..=2 {
            for (zone, hash) in self.lookups[..self.count].iter().flatten() {
                if let Some(snapshot) = zone.snapshot().as_deref() {
                    snapshot.prefetch(*hash, step);
                }
            }
        }
    }

    /// The zone and hash the engine will look the question name up with
    /// first (see `Resolver::step`), read as `Request::parse` reads
    /// it; `None` for anything it would not answer from a zone.
    pub fn first_lookup(&mut self, zones: &'z ZoneSet, query: &[u8]) -> Option<(&'z Zone, u64)> {
        let h = Header::new_checked(query).ok()?;
        if h.qr() || h.qdcount() != 1 {
            return None;
        }
        self.lower.read(query, HEADER_LEN).ok()?;
        self.lower.make_lowercase();
        self.hashes.compute_into(&self.lower);
        let (zone, _) = zones.find(&self.lower, &self.hashes)?;
        zone.is_loaded().then(|| (zone, self.hashes.get(0)))
    }
}
