//! What the query path reads of a version's apex, held where it is read
//! without a lookup: the octets of the shard that holds the apex node
//! (shared with the node map), where the node starts in them, where its
//! SOA and the SOA's RRSIGs lie, and the TTL of negative answers. Every
//! negative answer reads the SOA: a copy of it was about 100 octets a
//! zone, and a lookup of the apex a quarter more instructions per
//! NXDOMAIN (callgrind: 4637 -> 5814). Read again whenever the nodes
//! change ([`Apex::read`]).

use std::sync::Arc;

use super::node::Node;
use super::node_map::NodeMap;
use super::rrset::RRset;
use super::snapshot::soa_field;
use crate::wire::iana::rtype;

/// Where an RRset's records lie in the shard, and what a view needs.
#[derive(Clone, Copy, Debug)]
struct Span {
    start: u32,
    len: u32,
    ttl: u32,
    count: u16,
}

#[derive(Clone)]
pub struct Apex {
    shard: Arc<[u8]>,
    node: u32,
    soa: Span,
    sigs: Option<Span>,
    /// The lesser of the SOA's TTL and its MINIMUM (RFC 2308 §3).
    negative_ttl: u32,
}

impl Apex {
    /// The apex named `key` (lowercase wire form, hashing to `hash`) in
    /// `nodes`, if it is there with an SOA.
    pub(super) fn read(nodes: &NodeMap, key: &[u8], hash: u64) -> Option<Apex> {
        let (shard, node) = nodes.holding(key, hash)?;
        let (soa, sigs, negative_ttl) = {
            let n = Node::at(shard.get(node..)?);
            let span = |s: RRset<'_>| {
                let start = (s.wire().as_ptr() as usize).checked_sub(shard.as_ptr() as usize)?;
                Some(Span {
                    start: u32::try_from(start).ok()?,
                    len: u32::try_from(s.wire().len()).ok()?,
                    ttl: s.ttl(),
                    count: u16::try_from(s.len()).ok()?,
                })
            };
            let set = n.rrset(rtype::SOA)?;
            let minimum = set.rdatas().next().map_or(0, |rd| soa_field(rd, 4));
            let sigs = n.rrsigs(rtype::SOA).and_then(span);
            (span(set)?, sigs, set.ttl().min(minimum))
        };
        Some(Apex {
            shard,
            node: u32::try_from(node).ok()?,
            soa,
            sigs,
            negative_ttl,
        })
    }

    /// The apex node.
    #[inline]
    pub fn node(&self) -> Node<'_> {
        Node::at(self.shard.get(self.node as usize..).unwrap_or(EMPTY_NODE))
    }

    /// The apex name, lowercase wire form, read without walking the node.
    #[inline]
    pub fn owner(&self) -> &[u8] {
        let at = self.node as usize;
        let len = self.shard.get(at).map_or(0, |&l| usize::from(l));
        self.shard.get(at + 1..at + 1 + len).unwrap_or(&[0])
    }

    #[inline]
    fn view(&self, s: &Span, rtype: u16) -> RRset<'_> {
        let (start, end) = (s.start as usize, s.start as usize + s.len as usize);
        RRset::from_parts(
            rtype,
            s.ttl,
            s.count,
            self.shard.get(start..end).unwrap_or(&[]),
        )
    }

    #[inline]
    pub fn soa(&self) -> RRset<'_> {
        self.view(&self.soa, rtype::SOA)
    }

    #[inline]
    pub fn soa_sigs(&self) -> Option<RRset<'_>> {
        self.sigs.as_ref().map(|s| self.view(s, rtype::RRSIG))
    }

    #[inline]
    pub fn negative_ttl(&self) -> u32 {
        self.negative_ttl
    }
}

/// A node with an empty owner and nothing in it: never read in a version
/// that [`Apex::read`] accepted.
const EMPTY_NODE: &[u8] = &[0, 0, 0];
