//! One immutable version of one zone.

use std::sync::Arc;

use super::canonical::CanonicalOrder;
use super::node::Node;
use super::node_map::NodeMap;
use super::rrset::RRset;
use crate::wire::Name;
use crate::wire::iana::rtype;
use crate::wire::name::hash_name;

/// A zone as the answer engine sees it: built once (from a file, an AXFR,
/// or the previous version plus an IXFR diff), then only read.
#[derive(Clone)]
pub struct Snapshot {
    pub(super) apex: Name,
    pub(super) apex_labels: usize,
    pub(super) serial: u32,
    pub(super) apex_node: Arc<Node>,
    pub(super) nodes: NodeMap,
    pub(super) order: CanonicalOrder,
    pub(super) record_count: usize,
}

impl core::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "Snapshot({} serial {}, {} names, {} records)",
            self.apex,
            self.serial,
            self.nodes.len(),
            self.record_count
        )
    }
}

impl Snapshot {
    /// The apex, lowercase.
    pub fn apex(&self) -> &Name {
        &self.apex
    }

    /// Labels in the apex name.
    pub fn apex_labels(&self) -> usize {
        self.apex_labels
    }

    pub fn serial(&self) -> u32 {
        self.serial
    }

    pub fn apex_node(&self) -> &Node {
        &self.apex_node
    }

    /// The SOA RRset (the builder guarantees there is one).
    pub fn soa(&self) -> &RRset {
        // Checked by the builder; an empty set is never built.
        self.apex_node
            .rrset(rtype::SOA)
            .unwrap_or_else(|| unreachable!("snapshot without SOA"))
    }

    /// The SOA record's RDATA.
    pub fn soa_rdata(&self) -> &[u8] {
        self.soa().rdatas().next().unwrap_or(&[])
    }

    /// SOA timer `i` (0 serial, 1 refresh, 2 retry, 3 expire, 4 minimum).
    pub fn soa_field(&self, i: usize) -> u32 {
        soa_field(self.soa_rdata(), i)
    }

    /// TTL of the SOA in negative answers: the lesser of its TTL and its
    /// MINIMUM field (RFC 2308 §3).
    pub fn negative_ttl(&self) -> u32 {
        self.soa().ttl().min(self.soa_field(4))
    }

    /// The node named `key` (lowercase, wire form) with hash `hash`.
    #[inline]
    pub fn get(&self, key: &[u8], hash: u64) -> Option<&Node> {
        self.nodes.get(key, hash).map(|n| &**n)
    }

    /// The node named `name` (any case).
    pub fn node(&self, name: &Name) -> Option<&Node> {
        let lower = name.to_lowercase();
        self.get(lower.as_wire(), hash_name(lower.as_wire()))
    }

    /// Number of names, empty non-terminals included.
    pub fn name_count(&self) -> usize {
        self.nodes.len()
    }

    pub fn record_count(&self) -> usize {
        self.record_count
    }

    /// Nodes in canonical order.
    pub fn nodes_in_order(&self) -> impl Iterator<Item = &Arc<Node>> {
        self.order.iter()
    }

    /// Every record as (owner, TTL, type, RDATA): the SOA first, then the
    /// rest in canonical order, as AXFR (RFC 5936 §2.2) and zone files
    /// want them.
    pub fn records(&self) -> impl Iterator<Item = (&[u8], u32, u16, &[u8])> {
        let soa = self.soa();
        let apex = self.apex.as_wire();
        let first = soa
            .rdatas()
            .take(1)
            .map(move |rd| (apex, soa.ttl(), rtype::SOA, rd));
        let rest = self.order.iter().flat_map(|n| {
            let owner = n.owner().as_wire();
            n.rrsets()
                .iter()
                .filter(|s| !(s.rtype() == rtype::SOA && n.has_flag(super::node::flags::APEX)))
                .flat_map(move |s| s.rdatas().map(move |rd| (owner, s.ttl(), s.rtype(), rd)))
        });
        first.chain(rest)
    }

    /// Approximate heap octets held (shared parts counted fully).
    pub fn heap_size(&self) -> usize {
        self.nodes.index_bytes()
            + self.order.index_bytes()
            + self
                .nodes
                .iter()
                .map(|n| core::mem::size_of::<Node>() + 16 + n.heap_size())
                .sum::<usize>()
    }

    /// How many index shards this version shares with `other`.
    pub fn shared_shards(&self, other: &Snapshot) -> usize {
        self.nodes.shared_shards(&other.nodes)
    }
}

/// Field `i` of SOA RDATA counted among the five 32-bit numbers after the
/// two names.
pub fn soa_field(rdata: &[u8], i: usize) -> u32 {
    let mut p = 0;
    for _ in 0..2 {
        p = crate::wire::name::skip(rdata, p).unwrap_or(rdata.len());
    }
    let at = p + 4 * i;
    rdata
        .get(at..at + 4)
        .map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}
