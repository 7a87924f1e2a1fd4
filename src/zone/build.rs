//! Builds a [`Snapshot`] from records, with the checks Knot treats as
//! mandatory, and precomputes what the query path needs: empty
//! non-terminals, canonical order, the flags of every node, and each
//! RRset in wire form.
//!
//! A million-name zone must answer within a second of start, so the
//! builder works on flat arrays: owners interned once into one arena,
//! records as fixed-size entries plus one RDATA arena, sorted once; no
//! allocation per record.

use thiserror::Error;

use super::canonical::CanonicalOrder;
use super::node::{RRsetParts, encode_node, encode_records, flags, own_flags, set_key};
use super::node_map::NodeMap;
use super::nsec3::{Nsec3Chain, Params, Sets, is_chain_record, precompute_hashes};
use super::rr::Rr;
use super::snapshot::Snapshot;
use crate::wire::Name;
use crate::wire::iana::rtype;
use crate::wire::name::{MAX_NAME_LEN, canonical_key, hash_name, is_subdomain, lower};
use crate::wire::rdata::canonical_form;
use std::collections::BTreeMap;

/// Zones with fewer names sort their canonical order on the building
/// thread; larger ones on a second one. Spawning costs some tens of
/// microseconds, about what sorting a few thousand names takes.
pub(crate) const PARALLEL_SORT_MIN_NAMES: usize = 4096;

/// Why records do not make a zone (the checks Knot DNS never skips).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ZoneError {
    #[error("missing SOA at the zone apex {0}")]
    MissingSoa(Name),
    #[error("node {0}: another record exists beside CNAME")]
    CnameWithOtherData(Name),
    #[error("node {0}: multiple CNAME records")]
    MultipleCnames(Name),
    #[error("node {0}: multiple DNAME records")]
    MultipleDnames(Name),
    #[error("node {0}: child record exists under DNAME")]
    BelowDname(Name),
    #[error("RRset {0} {1} has more than 65535 records")]
    RRsetTooLarge(Name, String),
    #[error("node {0} has more than 255 record types")]
    TooManyTypes(Name),
}

/// Owner names interned: each distinct owner once, in one arena, with its
/// hash, found again through an open-addressed table. Each slot holds the
/// index and 32 bits of the hash, so a probe that is not the name costs
/// no second memory access (this table is the hot spot of loading a
/// million names).
#[derive(Default)]
struct Owners {
    arena: Vec<u8>,
    spans: Vec<(u32, u8)>,
    hashes: Vec<u64>,
    /// High: 32 bits of the hash; low: index plus one. 0 is empty.
    slots: Vec<u64>,
}

fn slot(hash: u64, index: u32) -> u64 {
    (hash & 0xffff_ffff_0000_0000) | (index as u64 + 1)
}

impl Owners {
    fn with_capacity(names: usize) -> Self {
        Owners {
            arena: Vec::with_capacity(names * 16),
            spans: Vec::with_capacity(names),
            hashes: Vec::with_capacity(names),
            slots: vec![0; (names * 2).next_power_of_two().max(1024)],
        }
    }

    fn len(&self) -> usize {
        self.spans.len()
    }

    fn name(&self, i: usize) -> &[u8] {
        let (s, l) = self.spans[i];
        &self.arena[s as usize..s as usize + l as usize]
    }

    fn find(&self, wire: &[u8], hash: u64) -> Option<u32> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let high = hash & 0xffff_ffff_0000_0000;
        let mut i = hash as usize & mask;
        loop {
            let s = self.slots[i];
            if s == 0 {
                return None;
            }
            if s & 0xffff_ffff_0000_0000 == high {
                let idx = (s & 0xffff_ffff) as u32 - 1;
                if self.name(idx as usize) == wire {
                    return Some(idx);
                }
            }
            i = (i + 1) & mask;
        }
    }

    /// The index of `wire` (lowercase), adding it if new.
    fn intern(&mut self, wire: &[u8]) -> u32 {
        let hash = hash_name(wire);
        if let Some(i) = self.find(wire, hash) {
            return i;
        }
        if (self.len() + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let i = self.len() as u32;
        self.spans.push((self.arena.len() as u32, wire.len() as u8));
        self.arena.extend_from_slice(wire);
        self.hashes.push(hash);
        self.place(i, hash);
        i
    }

    fn place(&mut self, i: u32, hash: u64) {
        let mask = self.slots.len() - 1;
        let mut at = hash as usize & mask;
        while self.slots[at] != 0 {
            at = (at + 1) & mask;
        }
        self.slots[at] = slot(hash, i);
    }

    fn grow(&mut self) {
        let cap = (self.slots.len() * 2).max(1024);
        self.slots = vec![0; cap];
        for i in 0..self.len() {
            self.place(i as u32, self.hashes[i]);
        }
    }
}

/// One record waiting for `finish`.
#[derive(Clone, Copy)]
struct Pending {
    node: u32,
    rtype: u16,
    rdata_len: u16,
    ttl: u32,
    rdata_at: usize,
}

/// One RRset after merging: type, TTL, and a run of kept records.
#[derive(Clone, Copy)]
struct SetDesc {
    rtype: u16,
    ttl: u32,
    first: u32,
    count: u32,
}

/// A zone being assembled, record by record.
pub struct SnapshotBuilder {
    apex: Name,
    owners: Owners,
    records: Vec<Pending>,
    rdata: Vec<u8>,
    warnings: Vec<String>,
    /// The last owner as given (any case) and its index: consecutive
    /// records of one owner, the usual case, skip the interning.
    last_owner: Vec<u8>,
    last_node: Option<u32>,
    /// NSEC3 records and their RRSIGs (lowercase owner, type, TTL,
    /// RDATA): they go to the NSEC3 chain, not the name tree.
    chain: Vec<(Vec<u8>, u16, u32, Vec<u8>)>,
}

/// A built snapshot and what was noticed while building it.
pub struct Built {
    pub snapshot: Snapshot,
    pub warnings: Vec<String>,
}

impl SnapshotBuilder {
    pub fn new(apex: &Name) -> Self {
        Self::with_size_hint(apex, 0)
    }

    /// A builder sized for about `octets` of zone-file text (or transfer),
    /// so its arrays do not grow, copy and fault in pages as records come.
    pub fn with_size_hint(apex: &Name, octets: usize) -> Self {
        // About 25 octets of text per record and 30 per name in a
        // typical zone file; under-estimates only cost some growth.
        let records = octets / 25;
        SnapshotBuilder {
            apex: apex.to_lowercase(),
            owners: Owners::with_capacity(octets / 30),
            records: Vec::with_capacity(records),
            rdata: Vec::with_capacity(records * 8),
            warnings: Vec::new(),
            last_owner: Vec::new(),
            last_node: None,
            chain: Vec::new(),
        }
    }

    /// Records added so far (before duplicates are merged).
    pub fn record_count(&self) -> usize {
        self.records.len()
    }

    pub fn add(&mut self, rr: Rr) {
        self.add_raw(rr.owner.as_wire(), rr.rtype, rr.ttl, &rr.rdata);
    }

    /// Adds one record of class IN: `owner` in uncompressed wire form (any
    /// case), `rdata` checked against its type. Out-of-zone data and SOA
    /// records below the apex are ignored with a warning; duplicates are
    /// merged silently and a TTL that differs within an RRset replaces it
    /// (the last wins), as in Knot.
    pub fn add_raw(&mut self, owner: &[u8], rtype: u16, ttl: u32, rdata: &[u8]) {
        if rtype == rtype::SOA && !crate::wire::name::eq_ignore_case(owner, self.apex.as_wire()) {
            self.warn(format!(
                "ignoring SOA record outside the zone apex, owner {}",
                display(owner)
            ));
            return;
        }
        if is_chain_record(rtype, rdata) && is_subdomain(owner, self.apex.as_wire()) {
            let lowered = owner.iter().map(|b| lower(*b)).collect();
            self.chain.push((lowered, rtype, ttl, rdata.to_vec()));
            return;
        }
        let node = match self.last_node {
            Some(n) if self.last_owner == owner => n,
            _ => {
                if !is_subdomain(owner, self.apex.as_wire()) {
                    self.warn(format!(
                        "ignoring out-of-zone data, owner {}",
                        display(owner)
                    ));
                    return;
                }
                let mut buf = [0u8; MAX_NAME_LEN];
                let lowered = &mut buf[..owner.len()];
                for (d, s) in lowered.iter_mut().zip(owner) {
                    *d = lower(*s);
                }
                let n = self.owners.intern(lowered);
                self.last_owner.clear();
                self.last_owner.extend_from_slice(owner);
                self.last_node = Some(n);
                n
            }
        };
        self.records.push(Pending {
            node,
            rtype,
            rdata_len: rdata.len() as u16,
            ttl,
            rdata_at: self.rdata.len(),
        });
        self.rdata.extend_from_slice(rdata);
    }

    fn warn(&mut self, w: String) {
        // Keep the log bounded for zones full of bad data.
        if self.warnings.len() < 100 {
            self.warnings.push(w);
        }
    }

    fn rdata_of(&self, p: &Pending) -> &[u8] {
        &self.rdata[p.rdata_at..p.rdata_at + p.rdata_len as usize]
    }

    fn owner_name(&self, i: u32) -> Name {
        Name::from_wire(self.owners.name(i as usize)).unwrap_or_else(|_| Name::root())
    }

    /// Checks the zone and builds the snapshot.
    pub fn finish(mut self) -> Result<Built, ZoneError> {
        let apex = self.apex.clone();
        let apex_hash = hash_name(apex.as_wire());
        let Some(apex_node) = self.owners.find(apex.as_wire(), apex_hash) else {
            return Err(ZoneError::MissingSoa(apex));
        };
        self.group_records();
        let (kept, sets, node_sets) = self.merge(apex_node)?;
        if !sets[node_sets[apex_node as usize].0 as usize..]
            [..node_sets[apex_node as usize].1 as usize]
            .iter()
            .any(|s| s.rtype == rtype::SOA)
        {
            return Err(ZoneError::MissingSoa(apex));
        }
        // Every ancestor up to the apex exists (RFC 8020 needs exact ENTs).
        let with_data = self.owners.len();
        let mut buf = [0u8; MAX_NAME_LEN];
        for i in 0..with_data {
            let name = self.owners.name(i);
            let len = name.len();
            buf[..len].copy_from_slice(name);
            let mut at = 0;
            while buf[at] != 0 && &buf[at..len] != apex.as_wire() {
                at += 1 + buf[at] as usize;
                let parent = &buf[at..len];
                if self.owners.find(parent, hash_name(parent)).is_some() {
                    break;
                }
                self.owners.intern(parent);
            }
        }
        let n = self.owners.len();
        let mut node_sets = node_sets;
        node_sets.resize(n, (0, 0));
        let mut node_flags: Vec<u8> = (0..n)
            .map(|i| {
                let (s, c) = node_sets[i];
                own_flags(
                    i as u32 == apex_node,
                    sets[s as usize..(s + c) as usize].iter().map(|d| d.rtype),
                )
            })
            .collect();
        self.mark_occluded(&mut node_flags)?;
        // The owners of authoritative NSEC records, marked in the order.
        let nsec_owner: Vec<bool> = (0..n)
            .map(|i| {
                let (s, c) = node_sets[i];
                node_flags[i] & flags::OCCLUDED == 0
                    && sets[s as usize..(s + c) as usize]
                        .iter()
                        .any(|d| d.rtype == rtype::NSEC)
            })
            .collect();
        // For a large zone, sort the canonical order on the other core
        // while this one encodes the nodes. A small one is sorted in less
        // time than a thread takes to start.
        let sort = || {
            let sorted = self.canonical_order(apex.as_wire());
            CanonicalOrder::from_sorted(
                sorted
                    .iter()
                    .map(|&i| (self.owners.name(i as usize), nsec_owner[i as usize])),
            )
        };
        // The chain in use, named by the apex NSEC3PARAM, for the hashes
        // each node keeps.
        let (s, c) = node_sets[apex_node as usize];
        let params = sets[s as usize..(s + c) as usize]
            .iter()
            .find(|d| d.rtype == rtype::NSEC3PARAM)
            .and_then(|d| {
                let first = kept[d.first as usize];
                Params::from_nsec3param(self.rdata_of(&self.records[first as usize]))
            });
        let encode = || self.encode_nodes(&kept, &sets, &node_sets, &node_flags, params.as_ref());
        let (order, nodes) = if n < PARALLEL_SORT_MIN_NAMES {
            let order = sort();
            let nodes = encode();
            (order, nodes)
        } else {
            std::thread::scope(|scope| {
                let sorter = scope.spawn(sort);
                let nodes = encode();
                // A panic there is a bug; fall back to sorting here.
                let order = sorter.join().unwrap_or_else(|_| sort());
                (order, nodes)
            })
        };
        let param = nodes
            .get(apex.as_wire(), apex_hash)
            .and_then(|n| n.rrset(rtype::NSEC3PARAM))
            .and_then(|s| s.rdatas().next().map(<[u8]>::to_vec));
        let nsec3 = Nsec3Chain::build(
            param.as_deref(),
            chain_sets(std::mem::take(&mut self.chain)),
        );
        let apex_view = super::apex::Apex::read(&nodes, apex.as_wire(), apex_hash)
            .ok_or_else(|| ZoneError::MissingSoa(apex.clone()))?;
        let mut snapshot = Snapshot {
            apex_labels: apex.label_count() as u8,
            // Both taken from the apex below.
            serial: 0,
            nsec: false,
            nodes,
            order: Some(Box::new(order)),
            record_count: u32::try_from(kept.len() + nsec3.record_count()).unwrap_or(u32::MAX),
            nsec3: nsec3.shared(),
            apex: apex_view,
            journal: None,
        };
        snapshot.take_apex_facts();
        snapshot.settle_order();
        Ok(Built {
            snapshot,
            warnings: self.warnings,
        })
    }

    /// Encodes every node's blob and builds the node map.
    fn encode_nodes(
        &self,
        kept: &[u32],
        sets: &[SetDesc],
        node_sets: &[(u32, u32)],
        node_flags: &[u8],
        params: Option<&Params>,
    ) -> NodeMap {
        let n = self.owners.len();
        let mut blobs = Vec::with_capacity(
            self.rdata.len() + self.records.len() * 12 + self.owners.arena.len() * 2,
        );
        let mut spans = Vec::with_capacity(n);
        let mut wire = Vec::new();
        let mut parts_at: Vec<(u16, u16, usize, usize)> = Vec::new();
        for i in 0..n {
            let (s, c) = node_sets[i];
            wire.clear();
            parts_at.clear();
            for d in &sets[s as usize..(s + c) as usize] {
                let start = wire.len();
                let recs = &kept[d.first as usize..(d.first + d.count) as usize];
                let count = encode_records(
                    &mut wire,
                    d.rtype,
                    d.ttl,
                    recs.iter()
                        .map(|&r| self.rdata_of(&self.records[r as usize])),
                );
                parts_at.push((d.rtype, count, start, wire.len()));
            }
            let parts: smallvec::SmallVec<[RRsetParts<'_>; 4]> = parts_at
                .iter()
                .map(|&(rtype, count, a, b)| RRsetParts {
                    rtype,
                    count,
                    wire: &wire[a..b],
                })
                .collect();
            let at = blobs.len();
            encode_node(&mut blobs, self.owners.name(i), node_flags[i], &parts);
            precompute_hashes(&mut blobs, at, params);
            spans.push((at, blobs.len()));
        }
        let entries: Vec<(u64, &[u8])> = spans
            .iter()
            .enumerate()
            .map(|(i, &(a, b))| (self.owners.hashes[i], &blobs[a..b]))
            .collect();
        NodeMap::build(&entries)
    }

    /// Orders the records by node (a counting sort: linear), then by type
    /// within each node, keeping file order within an RRset.
    fn group_records(&mut self) {
        let n = self.owners.len();
        let mut starts = vec![0u32; n + 1];
        for r in &self.records {
            starts[r.node as usize + 1] += 1;
        }
        for i in 0..n {
            starts[i + 1] += starts[i];
        }
        let mut fill = starts.clone();
        let mut grouped = vec![
            Pending {
                node: 0,
                rtype: 0,
                rdata_len: 0,
                ttl: 0,
                rdata_at: 0,
            };
            self.records.len()
        ];
        for r in &self.records {
            let at = &mut fill[r.node as usize];
            grouped[*at as usize] = *r;
            *at += 1;
        }
        let rdata = &self.rdata;
        for i in 0..n {
            // Stable: file order stays within each type. RRSIGs group by
            // the type they cover (RFC 4034 §3).
            grouped[starts[i] as usize..starts[i + 1] as usize].sort_by_key(|r| {
                let rd = &rdata[r.rdata_at..r.rdata_at + r.rdata_len as usize];
                set_key(r.rtype, rd)
            });
        }
        self.records = grouped;
    }

    /// Merges the sorted records into RRsets: duplicates dropped (compared
    /// in canonical form, RFC 2181 §5), one TTL per set (the last given),
    /// one SOA. Returns the kept records, the sets, and each node's run of
    /// sets.
    #[allow(clippy::type_complexity)]
    fn merge(
        &mut self,
        apex_node: u32,
    ) -> Result<(Vec<u32>, Vec<SetDesc>, Vec<(u32, u32)>), ZoneError> {
        let mut kept: Vec<u32> = Vec::with_capacity(self.records.len());
        let mut sets: Vec<SetDesc> = Vec::new();
        let mut node_sets = vec![(0u32, 0u32); self.owners.len()];
        let mut canon_a = Vec::new();
        let mut canon_b = Vec::new();
        let mut warnings = Vec::new();
        let recs = &self.records;
        let mut i = 0;
        while i < recs.len() {
            let node = recs[i].node;
            let node_start = sets.len();
            while i < recs.len() && recs[i].node == node {
                let t = recs[i].rtype;
                let key = set_key(t, self.rdata_of(&recs[i]));
                let first = kept.len();
                let mut ttl = recs[i].ttl;
                let mut mismatch = false;
                while i < recs.len()
                    && recs[i].node == node
                    && set_key(recs[i].rtype, self.rdata_of(&recs[i])) == key
                {
                    let r = &recs[i];
                    let rd = &self.rdata[r.rdata_at..r.rdata_at + r.rdata_len as usize];
                    // RFC 1035 §3.3.13: the apex has one SOA; keep the first.
                    let soa_extra = t == rtype::SOA && kept.len() > first;
                    let dup = !soa_extra && {
                        canonical_form(t, rd, &mut canon_a);
                        kept[first..].iter().any(|&k| {
                            let o = &recs[k as usize];
                            canonical_form(
                                t,
                                &self.rdata[o.rdata_at..o.rdata_at + o.rdata_len as usize],
                                &mut canon_b,
                            );
                            canon_a == canon_b
                        })
                    };
                    if soa_extra && node == apex_node {
                        warnings.push("more than one SOA at the apex, using the first".to_string());
                    }
                    if !dup && !soa_extra {
                        if kept.len() > first && r.ttl != ttl {
                            mismatch = true;
                        }
                        ttl = r.ttl;
                        kept.push(i as u32);
                    }
                    i += 1;
                }
                let count = kept.len() - first;
                if count > u16::MAX as usize {
                    return Err(ZoneError::RRsetTooLarge(
                        self.owner_name(node),
                        rtype::Display(t).to_string(),
                    ));
                }
                if mismatch {
                    warnings.push(format!(
                        "TTL mismatch, owner {}, type {}{}, TTL set to {ttl}",
                        self.owner_name(node),
                        rtype::Display(t),
                        if t == rtype::RRSIG {
                            format!(" covering {}", rtype::Display(key.1))
                        } else {
                            String::new()
                        }
                    ));
                }
                sets.push(SetDesc {
                    rtype: t,
                    ttl,
                    first: first as u32,
                    count: count as u32,
                });
            }
            let n_sets = sets.len() - node_start;
            if n_sets > u8::MAX as usize {
                return Err(ZoneError::TooManyTypes(self.owner_name(node)));
            }
            check_types(
                sets[node_start..]
                    .iter()
                    .map(|s| (s.rtype, s.count as usize)),
            )
            .map_err(|c| c.error(self.owner_name(node)))?;
            node_sets[node as usize] = (node_start as u32, n_sets as u32);
        }
        let has_apex_ns = {
            let (s, c) = node_sets[apex_node as usize];
            sets[s as usize..(s + c) as usize]
                .iter()
                .any(|d| d.rtype == rtype::NS)
        };
        if !has_apex_ns {
            warnings.push(format!("missing NS at the zone apex {}", self.apex));
        }
        for w in warnings {
            self.warn(w);
        }
        Ok((kept, sets, node_sets))
    }

    /// Node indices in canonical order (RFC 4034 §6.1). Names are compared
    /// below the apex they all share, by an integer prefix of their
    /// canonical key first: most comparisons are one integer comparison.
    fn canonical_order(&self, apex: &[u8]) -> Vec<u32> {
        let apex_labels = crate::wire::name::label_count(apex);
        let mut keys = Vec::with_capacity(self.owners.arena.len() * 2);
        let mut spans = Vec::with_capacity(self.owners.len());
        let mut prefixed: Vec<(u128, u32)> = Vec::with_capacity(self.owners.len());
        for i in 0..self.owners.len() {
            let name = self.owners.name(i);
            let below = crate::wire::name::label_count(name) - apex_labels;
            let relative = relative_labels(name, below);
            let at = keys.len();
            canonical_key(&relative, &mut keys);
            spans.push((at, keys.len()));
            let mut p = [0u8; 16];
            let k = &keys[at..];
            p[..k.len().min(16)].copy_from_slice(&k[..k.len().min(16)]);
            prefixed.push((u128::from_be_bytes(p), i as u32));
        }
        prefixed.sort_unstable_by(|a, b| {
            a.0.cmp(&b.0).then_with(|| {
                let (x, y) = (spans[a.1 as usize], spans[b.1 as usize]);
                keys[x.0..x.1].cmp(&keys[y.0..y.1])
            })
        });
        prefixed.into_iter().map(|(_, i)| i).collect()
    }

    /// Sets OCCLUDED on every node strictly below a zone cut or DNAME,
    /// looking up each node's ancestors (most zones have no cut or DNAME
    /// at all, and skip this). Data below a DNAME is an error (RFC 6672
    /// §2.4; Knot refuses the zone).
    fn mark_occluded(&self, node_flags: &mut [u8]) -> Result<(), ZoneError> {
        const CUT: u8 = flags::DELEGATION | flags::DNAME;
        if !node_flags.iter().any(|f| f & CUT != 0) {
            return Ok(());
        }
        let apex = self.apex.as_wire();
        let mut occluded = Vec::new();
        for i in 0..self.owners.len() {
            let name = self.owners.name(i);
            let mut at = 0;
            // Proper ancestors, down to and including the apex (a DNAME
            // there occludes the zone; NS there is no cut).
            while name[at] != 0 && &name[at..] != apex {
                at += 1 + name[at] as usize;
                let parent = &name[at..];
                let Some(p) = self.owners.find(parent, hash_name(parent)) else {
                    continue;
                };
                let f = node_flags[p as usize];
                if f & flags::DNAME != 0 {
                    return Err(ZoneError::BelowDname(self.owner_name(p)));
                }
                if f & CUT != 0 {
                    occluded.push(i);
                    break;
                }
            }
        }
        for i in occluded {
            node_flags[i] |= flags::OCCLUDED;
        }
        Ok(())
    }
}

/// The first `n` labels of `name`, as a name of their own (ending in the
/// root octet).
fn relative_labels(name: &[u8], n: usize) -> Vec<u8> {
    let cut = name.len() - crate::wire::name::suffix(name, n).len();
    let mut v = name[..cut].to_vec();
    v.push(0);
    v
}

fn display(wire: &[u8]) -> String {
    Name::from_wire(wire).map_or_else(|_| "?".into(), |n| n.to_string())
}

/// A node whose types break RFC 1034 §3.6.2 or RFC 6672 §2.4.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TypeConflict {
    CnameWithOtherData,
    MultipleCnames,
    MultipleDnames,
}

impl TypeConflict {
    pub(super) fn error(self, owner: Name) -> ZoneError {
        match self {
            TypeConflict::CnameWithOtherData => ZoneError::CnameWithOtherData(owner),
            TypeConflict::MultipleCnames => ZoneError::MultipleCnames(owner),
            TypeConflict::MultipleDnames => ZoneError::MultipleDnames(owner),
        }
    }
}

/// NSEC3-chain records grouped into each owner's sets: duplicates merged
/// (RFC 2181 §5), one TTL per set (the last given).
fn chain_sets(mut recs: Vec<(Vec<u8>, u16, u32, Vec<u8>)>) -> BTreeMap<Vec<u8>, Sets> {
    recs.sort_by(|a, b| (&a.0, set_key(a.1, &a.3)).cmp(&(&b.0, set_key(b.1, &b.3))));
    let mut out: BTreeMap<Vec<u8>, Sets> = BTreeMap::new();
    for (owner, t, ttl, rd) in recs {
        let sets = out.entry(owner).or_default();
        let key = set_key(t, &rd);
        match sets
            .iter_mut()
            .find(|(st, _, rds)| set_key(*st, rds.first().map_or(&[][..], |r| &r[..])) == key)
        {
            Some((_, set_ttl, rds)) => {
                *set_ttl = ttl;
                if !rds.iter().any(|r| r[..] == rd[..]) {
                    rds.push(rd.into());
                }
            }
            None => sets.push((t, ttl, vec![rd.into()])),
        }
    }
    out
}

/// A CNAME stands alone (DNSSEC records aside), and a node has at most
/// one CNAME or DNAME. `sets` yields (type, record count) for each RRset
/// of a node.
pub(super) fn check_types(sets: impl Iterator<Item = (u16, usize)>) -> Result<(), TypeConflict> {
    let mut cname = false;
    let mut other = false;
    for (t, n) in sets {
        match t {
            rtype::CNAME if n > 1 => return Err(TypeConflict::MultipleCnames),
            rtype::CNAME => cname = true,
            rtype::DNAME if n > 1 => return Err(TypeConflict::MultipleDnames),
            rtype::RRSIG | rtype::NSEC => {}
            _ => other = true,
        }
    }
    if cname && other {
        return Err(TypeConflict::CnameWithOtherData);
    }
    Ok(())
}
