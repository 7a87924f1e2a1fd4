//! A node: one owner name and its RRsets, plus facts precomputed when the
//! snapshot is built so that the query path only tests bits.

use super::rrset::RRset;
use crate::wire::Name;
use crate::wire::iana::rtype;

/// Precomputed facts about a node's place in the zone.
pub mod flags {
    /// The zone apex.
    pub const APEX: u8 = 0x01;
    /// A zone cut: NS below the apex (RFC 1034 §4.2.1).
    pub const DELEGATION: u8 = 0x02;
    /// Holds a DNAME (RFC 6672).
    pub const DNAME: u8 = 0x04;
    /// Strictly below a zone cut or a DNAME owner: not authoritative data
    /// (glue) or occluded.
    pub const OCCLUDED: u8 = 0x08;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    owner: Name,
    flags: u8,
    /// Sorted by type.
    rrsets: Box<[RRset]>,
}

impl Node {
    /// A node with `owner` (lowercase) and `rrsets` (any order). Flags
    /// other than the node's own (APEX, DELEGATION, DNAME) are added by
    /// the snapshot builder.
    pub fn new(owner: Name, mut rrsets: Vec<RRset>, is_apex: bool) -> Node {
        rrsets.sort_by_key(|r| r.rtype());
        let mut f = 0;
        if is_apex {
            f |= flags::APEX;
        }
        let has = |t| rrsets.iter().any(|r| r.rtype() == t);
        if !is_apex && has(rtype::NS) {
            f |= flags::DELEGATION;
        }
        if has(rtype::DNAME) {
            f |= flags::DNAME;
        }
        Node {
            owner,
            flags: f,
            rrsets: rrsets.into_boxed_slice(),
        }
    }

    pub fn owner(&self) -> &Name {
        &self.owner
    }

    pub fn flags(&self) -> u8 {
        self.flags
    }

    pub fn has_flag(&self, f: u8) -> bool {
        self.flags & f != 0
    }

    pub(crate) fn set_occluded(&mut self, occluded: bool) {
        if occluded {
            self.flags |= flags::OCCLUDED;
        } else {
            self.flags &= !flags::OCCLUDED;
        }
    }

    /// The RRset of type `t`.
    #[inline]
    pub fn rrset(&self, t: u16) -> Option<&RRset> {
        self.rrsets.iter().find(|r| r.rtype() == t)
    }

    pub fn rrsets(&self) -> &[RRset] {
        &self.rrsets
    }

    /// An empty non-terminal: a name that exists only because names below
    /// it do (RFC 8020).
    pub fn is_empty_non_terminal(&self) -> bool {
        self.rrsets.is_empty()
    }

    /// Octets held on the heap by this node (for memory accounting).
    pub fn heap_size(&self) -> usize {
        self.owner.len()
            + self.rrsets.len() * core::mem::size_of::<RRset>()
            + self.rrsets.iter().map(RRset::heap_size).sum::<usize>()
    }
}
