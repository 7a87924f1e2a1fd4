//! Builds a [`Snapshot`] from records, with the checks Knot treats as
//! mandatory, and precomputes what the query path needs: empty
//! non-terminals, canonical order, and the flags of every node.

use std::collections::HashMap;
use std::sync::Arc;

use thiserror::Error;

use super::canonical::CanonicalOrder;
use super::node::{Node, flags};
use super::node_map::NodeMap;
use super::rr::Rr;
use super::rrset::RRset;
use super::snapshot::Snapshot;
use crate::wire::Name;
use crate::wire::iana::rtype;
use crate::wire::name::{canonical_key, hash_name};
use crate::wire::rdata::canonical_form;

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
}

/// A zone being assembled, record by record.
pub struct SnapshotBuilder {
    apex: Name,
    nodes: HashMap<Name, Vec<PendingRRset>>,
    warnings: Vec<String>,
    records: usize,
    canon: Vec<u8>,
}

struct PendingRRset {
    rtype: u16,
    ttl: u32,
    rdatas: Vec<Box<[u8]>>,
}

/// A built snapshot and what was noticed while building it.
pub struct Built {
    pub snapshot: Snapshot,
    pub warnings: Vec<String>,
}

impl SnapshotBuilder {
    pub fn new(apex: &Name) -> Self {
        SnapshotBuilder {
            apex: apex.to_lowercase(),
            nodes: HashMap::new(),
            warnings: Vec::new(),
            records: 0,
            canon: Vec::new(),
        }
    }

    /// Records added so far (duplicates and ignored data excluded).
    pub fn record_count(&self) -> usize {
        self.records
    }

    /// Adds one record. Out-of-zone data and SOA records below the apex
    /// are ignored with a warning; duplicates are merged silently; a TTL
    /// that differs within an RRset replaces it (the last one wins), as in
    /// Knot.
    pub fn add(&mut self, rr: Rr) {
        let owner = rr.owner.to_lowercase();
        if !owner.is_subdomain_of(&self.apex) {
            self.warn(format!("ignoring out-of-zone data, owner {}", rr.owner));
            return;
        }
        if rr.rtype == rtype::SOA && owner != self.apex {
            self.warn(format!(
                "ignoring SOA record outside the zone apex, owner {}",
                rr.owner
            ));
            return;
        }
        let sets = self.nodes.entry(owner).or_default();
        let set = match sets.iter_mut().position(|s| s.rtype == rr.rtype) {
            Some(i) => &mut sets[i],
            None => {
                sets.push(PendingRRset {
                    rtype: rr.rtype,
                    ttl: rr.ttl,
                    rdatas: Vec::new(),
                });
                sets.last_mut().unwrap_or_else(|| unreachable!())
            }
        };
        // Duplicates compare in canonical form (RFC 2181 §5: an RRset is
        // a set), so names differing only in case are the same record.
        canonical_form(rr.rtype, &rr.rdata, &mut self.canon);
        let mut other = Vec::new();
        let dup = set.rdatas.iter().any(|rd| {
            canonical_form(rr.rtype, rd, &mut other);
            other == self.canon
        });
        if dup {
            return;
        }
        if set.ttl != rr.ttl && !set.rdatas.is_empty() {
            let note = format!(
                "TTL mismatch, owner {}, type {}, TTL set to {}",
                rr.owner,
                rtype::Display(rr.rtype),
                rr.ttl
            );
            self.warnings.push(note);
        }
        set.ttl = rr.ttl;
        set.rdatas.push(rr.rdata);
        self.records += 1;
    }

    fn warn(&mut self, w: String) {
        // Keep the log bounded for zones full of bad data.
        if self.warnings.len() < 100 {
            self.warnings.push(w);
        }
    }

    /// Checks the zone and builds the snapshot.
    pub fn finish(mut self) -> Result<Built, ZoneError> {
        let apex = self.apex.clone();
        // SOA: exactly one record; keep the first (as Knot serves it).
        let soa_ok = self
            .nodes
            .get_mut(&apex)
            .and_then(|sets| sets.iter_mut().find(|s| s.rtype == rtype::SOA))
            .map(|soa| {
                if soa.rdatas.len() > 1 {
                    let extra = soa.rdatas.len() - 1;
                    soa.rdatas.truncate(1);
                    extra
                } else {
                    0
                }
            });
        match soa_ok {
            None => return Err(ZoneError::MissingSoa(apex)),
            Some(extra) if extra > 0 => {
                self.records -= extra;
                self.warn(format!(
                    "more than one SOA at the apex {apex}, using the first"
                ));
            }
            _ => {}
        }
        let apex_has_ns = self.nodes[&apex].iter().any(|s| s.rtype == rtype::NS);
        if !apex_has_ns {
            self.warn(format!("missing NS at the zone apex {apex}"));
        }
        for (owner, sets) in &self.nodes {
            check_node(owner, sets.iter().map(|s| (s.rtype, s.rdatas.len())))?;
        }
        // Empty non-terminals: every ancestor up to the apex exists.
        let owners: Vec<Name> = self.nodes.keys().cloned().collect();
        for owner in owners {
            let mut cur = owner;
            while cur != apex {
                let Some(parent) = cur.parent() else { break };
                if self.nodes.contains_key(&parent) {
                    break;
                }
                self.nodes.insert(parent.clone(), Vec::new());
                cur = parent;
            }
        }
        let mut nodes: Vec<Node> = self
            .nodes
            .into_iter()
            .map(|(owner, sets)| {
                let is_apex = owner == apex;
                let rrsets = sets
                    .into_iter()
                    .map(|s| RRset::new(s.rtype, s.ttl, s.rdatas.iter().map(|r| &r[..])))
                    .collect();
                Node::new(owner, rrsets, is_apex)
            })
            .collect();
        sort_canonical(&mut nodes);
        mark_occluded(&mut nodes)?;
        let nodes: Vec<Arc<Node>> = nodes.into_iter().map(Arc::new).collect();
        let mut map = NodeMap::with_capacity(nodes.len());
        for n in &nodes {
            map.insert(hash_name(n.owner().as_wire()), n.clone());
        }
        let apex_node = map
            .get(apex.as_wire(), hash_name(apex.as_wire()))
            .cloned()
            .ok_or_else(|| ZoneError::MissingSoa(apex.clone()))?;
        let snapshot = Snapshot {
            apex_labels: apex.label_count(),
            serial: super::snapshot::soa_field(
                apex_node
                    .rrset(rtype::SOA)
                    .and_then(|s| s.rdatas().next())
                    .unwrap_or(&[]),
                0,
            ),
            apex,
            apex_node,
            nodes: map,
            order: CanonicalOrder::from_sorted(nodes),
            record_count: self.records,
        };
        Ok(Built {
            snapshot,
            warnings: self.warnings,
        })
    }
}

/// RFC 1034 §3.6.2 and RFC 6672 §2.4: a CNAME stands alone (DNSSEC
/// records aside), and a node has at most one CNAME or DNAME. `sets`
/// yields (type, record count) for each RRset of the node.
pub(super) fn check_node(
    owner: &Name,
    sets: impl Iterator<Item = (u16, usize)>,
) -> Result<(), ZoneError> {
    let mut cname = false;
    let mut other = false;
    for (t, n) in sets {
        match t {
            rtype::CNAME if n > 1 => return Err(ZoneError::MultipleCnames(owner.clone())),
            rtype::CNAME => cname = true,
            rtype::DNAME if n > 1 => return Err(ZoneError::MultipleDnames(owner.clone())),
            rtype::RRSIG | rtype::NSEC => {}
            _ => other = true,
        }
        if n > u16::MAX as usize {
            return Err(ZoneError::RRsetTooLarge(
                owner.clone(),
                rtype::Display(t).to_string(),
            ));
        }
    }
    if cname && other {
        return Err(ZoneError::CnameWithOtherData(owner.clone()));
    }
    Ok(())
}

/// Sorts nodes in canonical order using precomputed keys (memcmp order).
pub(super) fn sort_canonical(nodes: &mut Vec<Node>) {
    let mut keys: Vec<(Vec<u8>, usize)> = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let mut k = Vec::with_capacity(n.owner().len() + 8);
            canonical_key(n.owner().as_wire(), &mut k);
            (k, i)
        })
        .collect();
    keys.sort_unstable();
    let mut slots: Vec<Option<Node>> = core::mem::take(nodes).into_iter().map(Some).collect();
    nodes.extend(keys.into_iter().filter_map(|(_, i)| slots[i].take()));
}

/// Sets OCCLUDED on every node strictly below a zone cut or DNAME, walking
/// in canonical order (a subtree is the run right after its root). Data
/// below a DNAME is an error (RFC 6672 §2.4; Knot refuses the zone).
pub(super) fn mark_occluded(nodes: &mut [Node]) -> Result<(), ZoneError> {
    let mut occluder: Option<(Name, bool)> = None;
    for n in nodes.iter_mut() {
        let below = occluder
            .as_ref()
            .is_some_and(|(o, _)| n.owner() != o && n.owner().is_subdomain_of(o));
        if below {
            if occluder.as_ref().is_some_and(|(_, dname)| *dname) {
                let (o, _) = occluder.as_ref().unwrap_or_else(|| unreachable!());
                return Err(ZoneError::BelowDname(o.clone()));
            }
            n.set_occluded(true);
            continue;
        }
        n.set_occluded(false);
        occluder = None;
        if n.has_flag(flags::DELEGATION | flags::DNAME) {
            occluder = Some((n.owner().clone(), n.has_flag(flags::DNAME)));
        }
    }
    Ok(())
}
