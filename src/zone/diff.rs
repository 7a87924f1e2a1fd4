//! The next version of a zone from IXFR difference sequences (RFC 1995),
//! at a cost that grows with the diff: the new snapshot shares every shard
//! and chunk the diff does not touch with the old one.

use std::collections::HashMap;
use std::sync::Arc;

use thiserror::Error;

use super::build::{ZoneError, check_node};
use super::node::{Node, flags};
use super::rr::Rr;
use super::rrset::RRset;
use super::snapshot::{Snapshot, soa_field};
use crate::wire::Name;
use crate::wire::iana::rtype;
use crate::wire::name::hash_name;
use crate::wire::rdata::canonical_form;
use crate::wire::serial::Serial;

/// One difference sequence: the zone goes from `old_soa` to `new_soa` by
/// deleting `removed` and adding `added`.
#[derive(Debug, Clone)]
pub struct Diff {
    pub old_soa: Rr,
    pub removed: Vec<Rr>,
    pub new_soa: Rr,
    pub added: Vec<Rr>,
}

impl Diff {
    pub fn from_serial(&self) -> u32 {
        soa_field(&self.old_soa.rdata, 0)
    }
    pub fn to_serial(&self) -> u32 {
        soa_field(&self.new_soa.rdata, 0)
    }
}

/// Why a diff does not apply; the secondary then falls back to AXFR.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DiffError {
    #[error("diff starts at serial {from}, the zone is at {have}")]
    SerialMismatch { from: u32, have: u32 },
    #[error("diff goes from serial {from} to {to}, which is not newer")]
    NotNewer { from: u32, to: u32 },
    #[error("record to delete is not in the zone: {0}")]
    MissingRecord(String),
    #[error("record to add is already in the zone: {0}")]
    DuplicateRecord(String),
    #[error("record outside the zone: {0}")]
    OutOfZone(String),
    #[error("SOA in the middle of a diff: {0}")]
    StraySoa(String),
    #[error("{0}")]
    Zone(#[from] ZoneError),
}

/// One RRset being edited: type, TTL, RDATAs.
type EditedRRset = (u16, u32, Vec<Box<[u8]>>);

/// A touched node's RRsets, being edited.
struct Parts {
    rrsets: Vec<EditedRRset>,
}

impl Parts {
    fn of(node: Option<&Node>) -> Parts {
        Parts {
            rrsets: node
                .map(|n| {
                    n.rrsets()
                        .iter()
                        .map(|s| (s.rtype(), s.ttl(), s.rdatas().map(Box::from).collect()))
                        .collect()
                })
                .unwrap_or_default(),
        }
    }
}

/// Applies the sequences in order to `base`.
pub fn apply(base: &Snapshot, diffs: &[Diff]) -> Result<Snapshot, DiffError> {
    let mut next = base.clone();
    let mut touched: HashMap<Name, Parts> = HashMap::new();
    let mut records = base.record_count as i64;
    let mut serial = base.serial;
    let mut canon_a = Vec::new();
    let mut canon_b = Vec::new();
    for d in diffs {
        if d.from_serial() != serial {
            return Err(DiffError::SerialMismatch {
                from: d.from_serial(),
                have: serial,
            });
        }
        if !Serial(d.to_serial()).is_newer_than(Serial(serial)) {
            return Err(DiffError::NotNewer {
                from: serial,
                to: d.to_serial(),
            });
        }
        for rr in &d.removed {
            let owner = in_zone(&next, rr)?;
            let parts = touched.entry(owner.clone()).or_insert_with(|| {
                Parts::of(next.get(owner.as_wire(), hash_name(owner.as_wire())))
            });
            canonical_form(rr.rtype, &rr.rdata, &mut canon_a);
            let set = parts.rrsets.iter_mut().find(|(t, _, _)| *t == rr.rtype);
            let pos = set.as_ref().and_then(|(_, _, rds)| {
                rds.iter().position(|rd| {
                    canonical_form(rr.rtype, rd, &mut canon_b);
                    canon_b == canon_a
                })
            });
            match (set, pos) {
                (Some((_, _, rds)), Some(i)) => {
                    rds.remove(i);
                    records -= 1;
                }
                _ => return Err(DiffError::MissingRecord(rr.to_string())),
            }
            parts.rrsets.retain(|(_, _, rds)| !rds.is_empty());
        }
        for rr in &d.added {
            let owner = in_zone(&next, rr)?;
            let parts = touched.entry(owner.clone()).or_insert_with(|| {
                Parts::of(next.get(owner.as_wire(), hash_name(owner.as_wire())))
            });
            canonical_form(rr.rtype, &rr.rdata, &mut canon_a);
            match parts.rrsets.iter_mut().find(|(t, _, _)| *t == rr.rtype) {
                Some((_, ttl, rds)) => {
                    let dup = rds.iter().any(|rd| {
                        canonical_form(rr.rtype, rd, &mut canon_b);
                        canon_b == canon_a
                    });
                    if dup {
                        return Err(DiffError::DuplicateRecord(rr.to_string()));
                    }
                    // RFC 2181 §5.2: one TTL per RRset; the newest wins.
                    *ttl = rr.ttl;
                    rds.push(rr.rdata.clone());
                }
                None => parts
                    .rrsets
                    .push((rr.rtype, rr.ttl, vec![rr.rdata.clone()])),
            }
            records += 1;
        }
        // The SOA itself is replaced, not diffed record by record.
        let apex = next.apex.clone();
        let parts = touched
            .entry(apex.clone())
            .or_insert_with(|| Parts::of(Some(&next.apex_node)));
        parts.rrsets.retain(|(t, _, _)| *t != rtype::SOA);
        parts
            .rrsets
            .push((rtype::SOA, d.new_soa.ttl, vec![d.new_soa.rdata.clone()]));
        serial = d.to_serial();
    }
    next.serial = serial;
    next.record_count = records.max(0) as usize;
    rebuild_touched(&mut next, base, touched)?;
    Ok(next)
}

fn in_zone(s: &Snapshot, rr: &Rr) -> Result<Name, DiffError> {
    if rr.rtype == rtype::SOA {
        return Err(DiffError::StraySoa(rr.to_string()));
    }
    let owner = rr.owner.to_lowercase();
    if !owner.is_subdomain_of(&s.apex) {
        return Err(DiffError::OutOfZone(rr.to_string()));
    }
    Ok(owner)
}

fn insert(next: &mut Snapshot, node: Node) {
    let n = Arc::new(node);
    next.nodes.insert(hash_name(n.owner().as_wire()), n.clone());
    if n.has_flag(flags::APEX) {
        next.apex_node = n.clone();
    }
    next.order.insert(n);
}

fn remove(next: &mut Snapshot, name: &Name) {
    next.nodes.remove(name.as_wire(), hash_name(name.as_wire()));
    next.order.remove(name.as_wire());
}

/// Whether any name lies below `name` in `s`.
fn has_children(s: &Snapshot, name: &Name) -> bool {
    s.order
        .iter_from(name.as_wire())
        .nth(1)
        .is_some_and(|n| n.owner().is_subdomain_of(name))
}

/// Whether a proper ancestor of `name`, down from the apex, is a cut or
/// a DNAME owner; and whether that one is a DNAME.
fn occluder(s: &Snapshot, name: &Name) -> Option<(Name, bool)> {
    let mut found = None;
    let mut cur = name.parent();
    while let Some(p) = cur {
        if !p.is_subdomain_of(&s.apex) {
            break;
        }
        if let Some(n) = s.get(p.as_wire(), hash_name(p.as_wire()))
            && n.has_flag(flags::DELEGATION | flags::DNAME)
        {
            found = Some((p.clone(), n.has_flag(flags::DNAME)));
        }
        cur = if p == s.apex { None } else { p.parent() };
    }
    found
}

/// Turns the edited parts into nodes, restores empty non-terminals and
/// the flags derived from ancestors, and checks the touched nodes.
fn rebuild_touched(
    next: &mut Snapshot,
    base: &Snapshot,
    touched: HashMap<Name, Parts>,
) -> Result<(), DiffError> {
    let apex = next.apex.clone();
    let mut changed_cut: Vec<Name> = Vec::new();
    let mut emptied: Vec<Name> = Vec::new();
    let mut owners: Vec<Name> = Vec::with_capacity(touched.len());
    for (owner, parts) in touched {
        check_node(&owner, parts.rrsets.iter().map(|(t, _, r)| (*t, r.len())))?;
        let rrsets: Vec<RRset> = parts
            .rrsets
            .iter()
            .map(|(t, ttl, rds)| RRset::new(*t, *ttl, rds.iter().map(|r| &r[..])))
            .collect();
        let is_apex = owner == apex;
        let node = Node::new(owner.clone(), rrsets, is_apex);
        let before = base.get(owner.as_wire(), hash_name(owner.as_wire()));
        let cut = |n: &Node| n.flags() & (flags::DELEGATION | flags::DNAME);
        if before.map_or(0, cut) != cut(&node) {
            changed_cut.push(owner.clone());
        }
        if node.is_empty_non_terminal() && !is_apex {
            emptied.push(owner.clone());
        }
        insert(next, node);
        owners.push(owner);
    }
    // Every ancestor of a name exists (RFC 8020 needs exact ENTs).
    for owner in &owners {
        let mut cur = owner.clone();
        while cur != apex {
            let Some(p) = cur.parent() else { break };
            if next.get(p.as_wire(), hash_name(p.as_wire())).is_some() {
                break;
            }
            insert(next, Node::new(p.clone(), Vec::new(), false));
            cur = p;
        }
    }
    // Names left without data and without children disappear, and so may
    // their parents.
    while let Some(name) = emptied.pop() {
        let empty = next
            .get(name.as_wire(), hash_name(name.as_wire()))
            .is_some_and(Node::is_empty_non_terminal);
        if empty && name != apex && !has_children(next, &name) {
            remove(next, &name);
            if let Some(p) = name.parent()
                && p != apex
            {
                emptied.push(p);
            }
        }
    }
    // Occlusion of the touched nodes, and of whole subtrees below a cut or
    // DNAME that appeared or went away.
    let mut recheck: Vec<Name> = owners;
    for root in &changed_cut {
        let below: Vec<Name> = next
            .order
            .iter_from(root.as_wire())
            .skip(1)
            .take_while(|n| n.owner().is_subdomain_of(root))
            .map(|n| n.owner().clone())
            .collect();
        recheck.extend(below);
    }
    for name in recheck {
        let Some(node) = next.get(name.as_wire(), hash_name(name.as_wire())) else {
            continue;
        };
        let occ = occluder(next, &name);
        if let Some((dname_owner, true)) = &occ {
            return Err(ZoneError::BelowDname(dname_owner.clone()).into());
        }
        let want = occ.is_some();
        if node.has_flag(flags::OCCLUDED) != want {
            let mut n = node.clone();
            n.set_occluded(want);
            insert(next, n);
        }
    }
    if next.apex_node.rrset(rtype::SOA).is_none() {
        return Err(ZoneError::MissingSoa(apex).into());
    }
    Ok(())
}

#[cfg(test)]
mod tests;
