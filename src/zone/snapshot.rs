//! One immutable version of one zone.

use super::apex::Apex;
use super::canonical::CanonicalOrder;
use super::journal::Journal;
use super::node::{Node, flags};
use super::node_map::NodeMap;
use super::nsec3::Nsec3Chain;
use super::rrset::RRset;
use crate::wire::Name;
use crate::wire::iana::rtype;
use crate::wire::name::{canonical_cmp, hash_name};
use std::sync::Arc;

/// A zone as the answer engine sees it: built once (from a file, an AXFR,
/// or the previous version plus an IXFR diff), then only read.
#[derive(Clone)]
pub struct Snapshot {
    /// The apex node and its SOA, at hand for every answer.
    pub(super) apex: Apex,
    /// At most 127 (RFC 1035 §3.1: 255 octets).
    pub(super) apex_labels: u8,
    pub(super) serial: u32,
    /// The apex has an NSEC: denial is proved with NSEC (RFC 4035 §3.1.3).
    pub(super) nsec: bool,
    pub(super) nodes: NodeMap,
    /// None for a small zone without NSEC, whose order is sorted when
    /// asked for ([`Snapshot::settle_order`]); boxed, as that is most of
    /// the zones of a node of many and the header is in each of them.
    pub(super) order: Option<Box<CanonicalOrder>>,
    /// NSEC3 records, apart from the names (RFC 5155 §7.2.8).
    pub(super) nsec3: Arc<Nsec3Chain>,
    /// Held in 32 bits, as a snapshot is held per zone: a transfer is
    /// limited far below (`transfer.max_records`).
    pub(super) record_count: u32,
    /// The changes that led here, for IXFR out; none for a zone read
    /// from a file or taken whole.
    pub(super) journal: Option<Arc<Journal>>,
}

impl core::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "Snapshot({} serial {}, {} names, {} records)",
            self.apex(),
            self.serial,
            self.nodes.len(),
            self.record_count
        )
    }
}

impl Snapshot {
    /// The apex, lowercase (a copy: off the query path).
    pub fn apex(&self) -> Name {
        Name::from_wire(self.apex_wire()).unwrap_or_else(|_| Name::root())
    }

    /// The apex, lowercase wire form, read in place.
    #[inline]
    pub fn apex_wire(&self) -> &[u8] {
        self.apex.owner(&self.nodes)
    }

    /// Labels in the apex name.
    pub fn apex_labels(&self) -> usize {
        usize::from(self.apex_labels)
    }

    pub fn serial(&self) -> u32 {
        self.serial
    }

    #[inline]
    pub fn apex_node(&self) -> Option<Node<'_>> {
        Some(self.apex.node(&self.nodes))
    }

    /// The SOA RRset.
    pub fn soa(&self) -> RRset<'_> {
        self.apex.soa(&self.nodes)
    }

    /// The RRSIGs of the SOA, when the zone is signed.
    pub fn soa_sigs(&self) -> Option<RRset<'_>> {
        self.apex.soa_sigs(&self.nodes)
    }

    /// Whether the zone is signed: its apex SOA has an RRSIG.
    pub fn is_signed(&self) -> bool {
        self.apex.soa_sigs(&self.nodes).is_some()
    }

    /// Whether denial of existence uses NSEC records.
    pub fn uses_nsec(&self) -> bool {
        self.nsec
    }

    /// The NSEC3 chain; its parameters are set when the apex NSEC3PARAM
    /// selects one, and then denial uses NSEC3 (RFC 5155 §7.2).
    pub fn nsec3(&self) -> &Nsec3Chain {
        &self.nsec3
    }

    /// The DNSSEC facts of the apex, read again after it changed.
    /// Reads what the apex says (where it is, its SOA's signatures,
    /// whether it has NSEC) after the nodes changed; a version without an
    /// apex SOA is an error.
    pub(super) fn read_apex_facts(&mut self, apex: &[u8]) -> Result<(), super::ZoneError> {
        self.apex = Apex::read(&self.nodes, apex, hash_name(apex)).ok_or_else(|| {
            super::ZoneError::MissingSoa(Name::from_wire(apex).unwrap_or_else(|_| Name::root()))
        })?;
        self.take_apex_facts();
        Ok(())
    }

    /// The serial and the denial in use, from the apex held.
    pub(super) fn take_apex_facts(&mut self) {
        self.serial = soa_field(self.soa_rdata(), 0);
        self.nsec = self.apex.node(&self.nodes).rrset(rtype::NSEC).is_some();
    }

    /// The owner of the authoritative NSEC nearest before `name` in
    /// canonical order: the one whose span covers `name` (RFC 4034 §4.1.1).
    pub fn nsec_owner_before(&self, name: &[u8]) -> Option<&[u8]> {
        self.order.as_ref()?.marked_before(name)
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
    #[inline]
    pub fn negative_ttl(&self) -> u32 {
        self.apex.negative_ttl()
    }

    /// The node named `key` (lowercase, wire form) with hash `hash`.
    #[inline]
    pub fn get(&self, key: &[u8], hash: u64) -> Option<Node<'_>> {
        self.nodes.get(key, hash)
    }

    /// One step of a lookup done ahead (see [`NodeMap::prefetch`]).
    #[inline]
    pub fn prefetch(&self, hash: u64, step: u8) {
        self.nodes.prefetch(hash, step)
    }

    /// The node named by `wire` (lowercase wire form).
    pub fn node_by_wire(&self, wire: &[u8]) -> Option<Node<'_>> {
        self.get(wire, hash_name(wire))
    }

    /// The node named `name` (any case).
    pub fn node(&self, name: &Name) -> Option<Node<'_>> {
        self.node_by_wire(name.to_lowercase().as_wire())
    }

    /// Number of names, empty non-terminals included.
    pub fn name_count(&self) -> usize {
        self.nodes.len()
    }

    pub fn record_count(&self) -> usize {
        self.record_count as usize
    }

    /// Names in canonical order (sorted now for a small zone without
    /// NSEC; never on the query path, which reads the order only for
    /// NSEC proofs).
    pub fn names_in_order(&self) -> impl Iterator<Item = &[u8]> {
        let sorted = self.order.is_none().then(|| self.sorted_names());
        let kept = self.order.as_ref().map(|o| o.iter());
        kept.into_iter()
            .flatten()
            .chain(sorted.into_iter().flatten())
    }

    /// Every name, sorted into canonical order.
    fn sorted_names(&self) -> Vec<&[u8]> {
        let mut names: Vec<&[u8]> = self.nodes.iter().map(|n| n.owner()).collect();
        names.sort_unstable_by(|a, b| canonical_cmp(a, b));
        names
    }

    /// Drops the canonical order of a zone that can do without it: one
    /// without NSEC (the order's marks serve only NSEC proofs, RFC 4035
    /// §3.1.3) and so small that sorting its names when a transfer or a
    /// zone file needs them costs nothing. A node of 100,000 small zones
    /// then keeps no second copy of every name.
    pub(super) fn settle_order(&mut self) {
        if !self.nsec && self.nodes.len() <= DERIVED_ORDER_MAX_NAMES {
            self.order = None;
        }
    }

    /// The canonical order, made again from the nodes if it was dropped
    /// (an IXFR edits it, and may add NSEC).
    pub(super) fn ensure_order(&mut self) {
        if self.order.is_some() {
            return;
        }
        let owns_nsec =
            |n: Node<'_>| !n.has_flag(flags::OCCLUDED) && n.rrset(rtype::NSEC).is_some();
        let order = {
            let names = self.sorted_names();
            CanonicalOrder::from_sorted(names.into_iter().map(|name| {
                let mark = self.nodes.get(name, hash_name(name)).is_some_and(owns_nsec);
                (name, mark)
            }))
        };
        self.order = Some(Box::new(order));
    }

    /// The canonical order held (empty when dropped: an edit calls
    /// [`Snapshot::ensure_order`] first).
    pub(super) fn order(&self) -> &CanonicalOrder {
        static EMPTY: std::sync::OnceLock<CanonicalOrder> = std::sync::OnceLock::new();
        self.order
            .as_deref()
            .unwrap_or_else(|| EMPTY.get_or_init(CanonicalOrder::default))
    }

    /// The canonical order to edit, made empty if there was none.
    pub(super) fn order_mut(&mut self) -> &mut CanonicalOrder {
        self.order.get_or_insert_default()
    }

    /// Nodes in canonical order.
    pub fn nodes_in_order(&self) -> impl Iterator<Item = Node<'_>> {
        self.names_in_order().filter_map(|n| self.node_by_wire(n))
    }

    /// Every record as (owner, TTL, type, RDATA): the SOA first, then the
    /// rest in canonical order, as AXFR (RFC 5936 §2.2) and zone files
    /// want them.
    pub fn records(&self) -> impl Iterator<Item = (&[u8], u32, u16, &[u8])> {
        let apex = self.apex_wire();
        let soa = self.soa();
        let first = soa
            .rdatas()
            .take(1)
            .map(move |rd| (apex, soa.ttl(), rtype::SOA, rd));
        let rest = self.nodes_in_order().flat_map(move |n| {
            let owner = n.owner();
            let at_apex = owner == apex;
            n.rrsets()
                .filter(move |s| !(at_apex && s.rtype() == rtype::SOA))
                .flat_map(move |s| s.rdatas().map(move |rd| (owner, s.ttl(), s.rtype(), rd)))
        });
        let chain = self.nsec3.nodes().flat_map(|n| {
            let owner = n.owner();
            n.rrsets()
                .flat_map(move |s| s.rdatas().map(move |rd| (owner, s.ttl(), s.rtype(), rd)))
        });
        first.chain(rest).chain(chain)
    }

    /// Run `i` of node blobs back to back: the node map's shards, then
    /// the NSEC3 chain's. Every node is in exactly one run, so a position
    /// (run, offset) walks the whole zone without holding a borrow.
    pub fn blob_run(&self, i: usize) -> Option<&[u8]> {
        let shards = self.nodes.shard_count();
        if i < shards {
            self.nodes.arena(i)
        } else {
            self.nsec3.blob_run(i - shards)
        }
    }

    /// The changes that led to this version, if any were kept.
    pub fn journal(&self) -> Option<&Arc<Journal>> {
        self.journal.as_ref()
    }

    /// This version with `journal`, whose newest change must end at its
    /// serial (a journal of another version would tell a client wrong
    /// changes; one that does not fit is dropped).
    pub fn with_journal(mut self, journal: Option<Arc<Journal>>) -> Snapshot {
        self.journal = journal.filter(|j| j.newest() == Some(self.serial));
        self
    }

    /// The octets a whole transfer of this version carries, about: its
    /// node blobs. An IXFR whose changes are more is sent AXFR-style.
    pub fn wire_size(&self) -> usize {
        (0..).map_while(|i| self.blob_run(i)).map(<[u8]>::len).sum()
    }

    /// Heap octets held (shared parts counted fully).
    pub fn heap_size(&self) -> usize {
        self.nodes.heap_bytes()
            + self.order.as_ref().map_or(0, |o| {
                core::mem::size_of::<CanonicalOrder>() + o.heap_bytes()
            })
            + self.nsec3.heap_bytes()
    }

    /// How many index shards this version shares with `other`.
    pub fn shared_shards(&self, other: &Snapshot) -> usize {
        self.nodes.shared_shards(&other.nodes)
    }

    pub fn shard_count(&self) -> usize {
        self.nodes.shard_count()
    }
}

/// Zones of at most this many names without NSEC keep no canonical
/// order: sorting them takes a few microseconds.
const DERIVED_ORDER_MAX_NAMES: usize = 64;

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
