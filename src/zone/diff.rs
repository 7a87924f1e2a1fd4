//! The next version of a zone from IXFR difference sequences (RFC 1995),
//! at a cost that grows with the diff: the new snapshot shares every shard
//! and chunk the diff does not touch with the old one.

use std::collections::{BTreeMap, HashMap};

use thiserror::Error;

use super::build::{ZoneError, check_types};
use super::canonical::CanonicalOrder;
use super::node::{
    EditedRRset, Node, encode_node_from_sets, flags, own_flags, set_key, with_occluded,
};
use super::node_map::Change;
use super::nsec3::{Params, is_chain_record, precompute_hashes};
use super::rr::Rr;
use super::snapshot::{Snapshot, soa_field};
use crate::wire::Name;
use crate::wire::iana::rtype;
use crate::wire::name::{is_subdomain, suffix};
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

/// The set an edited RRset is: its type, and for RRSIG the type covered.
fn key_of(s: &EditedRRset) -> (u16, u16) {
    set_key(s.0, s.2.first().map_or(&[][..], |r| &r[..]))
}

/// A touched node's RRsets, being edited.
struct Parts {
    rrsets: Vec<EditedRRset>,
}

impl Parts {
    fn of(node: Option<Node<'_>>) -> Parts {
        Parts {
            rrsets: node
                .map(|n| {
                    n.rrsets()
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
    next.ensure_order();
    let mut touched: HashMap<Name, Parts> = HashMap::new();
    // NSEC3 records (and their RRSIGs) live in the chain, apart.
    let mut chain: BTreeMap<Vec<u8>, Vec<EditedRRset>> = BTreeMap::new();
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
            let parts = sets_to_edit(base, &mut touched, &mut chain, owner, rr);
            canonical_form(rr.rtype, &rr.rdata, &mut canon_a);
            let key = set_key(rr.rtype, &rr.rdata);
            let set = parts.iter_mut().find(|s| key_of(s) == key);
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
            parts.retain(|(_, _, rds)| !rds.is_empty());
        }
        for rr in &d.added {
            let owner = in_zone(&next, rr)?;
            let parts = sets_to_edit(base, &mut touched, &mut chain, owner, rr);
            canonical_form(rr.rtype, &rr.rdata, &mut canon_a);
            let key = set_key(rr.rtype, &rr.rdata);
            match parts.iter_mut().find(|s| key_of(s) == key) {
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
                None => parts.push((rr.rtype, rr.ttl, vec![rr.rdata.clone()])),
            }
            records += 1;
        }
        // The SOA itself is replaced, not diffed record by record.
        let apex = base.apex();
        let parts = touched
            .entry(apex.clone())
            .or_insert_with(|| Parts::of(base.apex_node()));
        parts.rrsets.retain(|(t, _, _)| *t != rtype::SOA);
        parts
            .rrsets
            .push((rtype::SOA, d.new_soa.ttl, vec![d.new_soa.rdata.clone()]));
        serial = d.to_serial();
    }
    next.serial = serial;
    // The base's journal ends at the base's serial; the caller, who knows
    // the limits, gives the new version its own.
    next.journal = None;
    next.record_count = u32::try_from(records.max(0)).unwrap_or(u32::MAX);
    rebuild_touched(&mut next, touched)?;
    let param = next
        .apex_node()
        .and_then(|n| n.rrset(rtype::NSEC3PARAM))
        .and_then(|s| s.rdatas().next().map(<[u8]>::to_vec));
    let params_changed = next.nsec3().params().cloned()
        != param
            .as_deref()
            .and_then(super::nsec3::Params::from_nsec3param);
    if !chain.is_empty() || params_changed {
        next.nsec3 = next.nsec3.with_changes(param.as_deref(), chain).shared();
    }
    next.settle_order();
    Ok(next)
}

/// The RRsets of `owner` that `rr` edits, taken from `base` the first
/// time: the NSEC3 chain's for NSEC3 records and their RRSIGs, the name
/// tree's for the rest.
fn sets_to_edit<'t>(
    base: &Snapshot,
    touched: &'t mut HashMap<Name, Parts>,
    chain: &'t mut BTreeMap<Vec<u8>, Vec<EditedRRset>>,
    owner: Name,
    rr: &Rr,
) -> &'t mut Vec<EditedRRset> {
    if is_chain_record(rr.rtype, &rr.rdata) {
        chain
            .entry(owner.as_wire().to_vec())
            .or_insert_with(|| Parts::of(base.nsec3().node(owner.as_wire())).rrsets)
    } else {
        &mut touched
            .entry(owner)
            .or_insert_with_key(|owner| Parts::of(base.node_by_wire(owner.as_wire())))
            .rrsets
    }
}

fn in_zone(s: &Snapshot, rr: &Rr) -> Result<Name, DiffError> {
    if rr.rtype == rtype::SOA {
        return Err(DiffError::StraySoa(rr.to_string()));
    }
    let owner = rr.owner.to_lowercase();
    if !is_subdomain(owner.as_wire(), s.apex_wire()) {
        return Err(DiffError::OutOfZone(rr.to_string()));
    }
    Ok(owner)
}

/// A touched node's content in the new version, and the flags it has of
/// itself.
struct Draft {
    sets: Vec<EditedRRset>,
    own: u8,
}

const CUT: u8 = flags::DELEGATION | flags::DNAME;

/// Whether any name lies below `name` in `order`.
fn has_children(order: &CanonicalOrder, name: &[u8]) -> bool {
    order
        .iter_from(name)
        .nth(1)
        .is_some_and(|n| is_subdomain(n, name))
}

/// Turns the edited parts into nodes, adds and removes empty
/// non-terminals, recomputes the flags derived from ancestors, checks the
/// touched nodes, and applies it all to the node map in one batch.
fn rebuild_touched(next: &mut Snapshot, touched: HashMap<Name, Parts>) -> Result<(), DiffError> {
    let apex = next.apex();
    let mut drafts: HashMap<Vec<u8>, Draft> = HashMap::with_capacity(touched.len());
    for (owner, mut parts) in touched {
        check_types(parts.rrsets.iter().map(|(t, _, r)| (*t, r.len())))
            .map_err(|c| c.error(owner.clone()))?;
        if parts.rrsets.len() > u8::MAX as usize {
            return Err(ZoneError::TooManyTypes(owner).into());
        }
        parts.rrsets.sort_by_key(key_of);
        let own = own_flags(owner == apex, parts.rrsets.iter().map(|(t, _, _)| *t));
        drafts.insert(
            owner.as_wire().to_vec(),
            Draft {
                sets: parts.rrsets,
                own,
            },
        );
    }
    // New names, and every ancestor up to the apex (RFC 8020).
    let mut ents = Vec::new();
    // A name with a node in the old version is in the order already (the
    // node map answers that faster than the order's search).
    let known = |next: &Snapshot, name: &[u8]| {
        next.node_by_wire(name).is_some() || next.order().contains(name)
    };
    for (owner, d) in &drafts {
        if d.sets.is_empty() || known(next, owner) {
            continue;
        }
        next.order_mut().insert(owner);
        let mut cur = &owner[..];
        while cur != apex.as_wire() {
            let parent = suffix(cur, 1);
            if known(next, parent) {
                break;
            }
            next.order_mut().insert(parent);
            ents.push(parent.to_vec());
            cur = parent;
        }
    }
    for e in ents {
        drafts.entry(e).or_insert(Draft {
            sets: Vec::new(),
            own: 0,
        });
    }
    // Names left without data and without children disappear, and so may
    // their parents.
    let is_empty =
        |drafts: &HashMap<Vec<u8>, Draft>, next: &Snapshot, name: &[u8]| match drafts.get(name) {
            Some(d) => d.sets.is_empty(),
            None => next
                .node_by_wire(name)
                .is_some_and(|n| n.is_empty_non_terminal()),
        };
    let mut removed: Vec<Vec<u8>> = Vec::new();
    let mut check: Vec<Vec<u8>> = drafts
        .iter()
        .filter(|(n, d)| d.sets.is_empty() && n.as_slice() != apex.as_wire())
        .map(|(n, _)| n.clone())
        .collect();
    while let Some(name) = check.pop() {
        if name == apex.as_wire()
            || !next.order().contains(&name)
            || !is_empty(&drafts, next, &name)
        {
            continue;
        }
        if has_children(next.order(), &name) {
            continue;
        }
        next.order_mut().remove(&name);
        check.push(suffix(&name, 1).to_vec());
        removed.push(name);
    }
    for r in &removed {
        drafts.remove(r);
    }
    // A name that one sequence added and a later one emptied again was
    // never in the zone: it gets no node, not even an empty one (RFC 8020:
    // it is NXDOMAIN, as a rebuild from the same records makes it).
    drafts.retain(|name, d| !d.sets.is_empty() || next.order().contains(name));
    // The flags each name has of itself in the new version.
    let own = |drafts: &HashMap<Vec<u8>, Draft>, next: &Snapshot, name: &[u8]| -> Option<u8> {
        match drafts.get(name) {
            Some(d) => Some(d.own),
            None => next
                .node_by_wire(name)
                .map(|n| n.flags() & (CUT | flags::APEX)),
        }
    };
    // The chain the new version uses; when it is not the old one, every
    // node's precomputed hashes are made again (a new chain is a new
    // NSEC3 record at every name: a diff of the zone's size anyway).
    let params = match drafts.get(apex.as_wire()) {
        Some(d) => d
            .sets
            .iter()
            .find(|(t, _, _)| *t == rtype::NSEC3PARAM)
            .and_then(|(_, _, rds)| rds.first())
            .and_then(|rd| Params::from_nsec3param(rd)),
        None => next.nsec3().params().cloned(),
    };
    let rehash = params.as_ref() != next.nsec3().params();
    // Occlusion of the drafts, and of whole subtrees below a cut or DNAME
    // that appeared or went away.
    let mut recheck: Vec<Vec<u8>> = drafts.keys().cloned().collect();
    if rehash {
        recheck.extend(next.order().iter().map(<[u8]>::to_vec));
    }
    // Whether any cut or DNAME came or went: if none did, a name that
    // was in the zone keeps its occlusion.
    let mut cuts_changed = rehash;
    for (name, d) in &drafts {
        let before = next.node_by_wire(name).map_or(0, |n| n.flags() & CUT);
        if before != d.own & CUT {
            cuts_changed = true;
            recheck.extend(
                next.order()
                    .iter_from(name)
                    .skip(1)
                    .take_while(|n| is_subdomain(n, name))
                    .map(<[u8]>::to_vec),
            );
        }
    }
    let mut changes: Vec<Change> = removed.into_iter().map(Change::Remove).collect();
    // The NSEC owners' marks in the order follow their nodes (a new name
    // starts unmarked); the order is searched only where one changes.
    let mut marks: Vec<(Vec<u8>, bool)> = Vec::new();
    let owns_nsec = |n: Node<'_>| !n.has_flag(flags::OCCLUDED) && n.rrset(rtype::NSEC).is_some();
    let mut done = std::collections::HashSet::new();
    for name in &recheck {
        if !done.insert(&name[..]) {
            continue;
        }
        let old = next.node_by_wire(name);
        // The topmost cut or DNAME strictly above the name, if any.
        let mut occluder: Option<bool> = None;
        let mut cur = &name[..];
        while cur != apex.as_wire() {
            if let Some(n) = old
                && !cuts_changed
            {
                occluder = n.has_flag(flags::OCCLUDED).then_some(false);
                break;
            }
            cur = suffix(cur, 1);
            if let Some(f) = own(&drafts, next, cur)
                && f & CUT != 0
            {
                occluder = Some(f & flags::DNAME != 0);
            }
        }
        if occluder == Some(true) {
            let mut top = name.clone();
            while top != apex.as_wire() {
                let p = suffix(&top, 1).to_vec();
                if own(&drafts, next, &p).is_some_and(|f| f & flags::DNAME != 0) {
                    top = p;
                    break;
                }
                top = p;
            }
            let owner = Name::from_wire(&top).unwrap_or_else(|_| Name::root());
            return Err(ZoneError::BelowDname(owner).into());
        }
        let occluded = if occluder.is_some() {
            flags::OCCLUDED
        } else {
            0
        };
        let mut blob = match drafts.get(name) {
            Some(d) => encode_node_from_sets(name, d.own | occluded, &d.sets),
            None => match old {
                Some(n) if (n.flags() & flags::OCCLUDED) != occluded || rehash => {
                    with_occluded(n.blob(), occluded != 0)
                }
                _ => continue,
            },
        };
        precompute_hashes(&mut blob, 0, params.as_ref());
        let mark = owns_nsec(Node::at(&blob));
        if mark != old.is_some_and(owns_nsec) {
            marks.push((name.clone(), mark));
        }
        changes.push(Change::Put(blob));
    }
    for (name, mark) in marks {
        next.order_mut().set_mark(&name, mark);
    }
    next.nodes.apply(changes);
    next.read_apex_facts(apex.as_wire())?;
    Ok(())
}

#[cfg(test)]
mod tests;
