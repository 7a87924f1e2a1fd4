//! What the query path reads of a version's apex, held where it is read
//! without a lookup: the shard of the node map that holds the apex node,
//! where the node starts in it, where its
//! SOA and the SOA's RRSIGs lie, and the TTL of negative answers. Every
//! negative answer reads the SOA: a copy of it was about 100 octets a
//! zone, and a lookup of the apex a quarter more instructions per
//! NXDOMAIN (callgrind: 4637 -> 5814). Read again whenever the nodes
//! change ([`Apex::read`]).

use super::node::Node;
use super::node_map::NodeMap;
use super::rrset::RRset;
use super::snapshot::soa_field;
use crate::wire::iana::rtype;

/// Where an RRset's records lie in the shard, and what a view needs.
#[derive(Clone, Copy, Debug, Default)]
struct Span {
    start: u32,
    len: u32,
    count: u16,
}

/// Positions only (36 octets, in the header of every version of every
/// zone): the octets are the node map's, passed in to read them.
#[derive(Clone)]
pub struct Apex {
    shard: u32,
    node: u32,
    soa: Span,
    /// The SOA's RRSIGs; none when `count` is 0 (a set has a record).
    sigs: Span,
    /// The lesser of the SOA's TTL and its MINIMUM (RFC 2308 §3).
    negative_ttl: u32,
}

impl Apex {
    /// The apex named `key` (lowercase wire form, hashing to `hash`) in
    /// `nodes`, if it is there with an SOA.
    pub(super) fn read(nodes: &NodeMap, key: &[u8], hash: u64) -> Option<Apex> {
        let (index, node) = nodes.holding(key, hash)?;
        let shard = nodes.shard_bytes(index);
        let (soa, sigs, negative_ttl) = {
            let n = Node::at(shard.get(node..)?);
            let span = |s: RRset<'_>| {
                let start = (s.wire().as_ptr() as usize).checked_sub(shard.as_ptr() as usize)?;
                Some(Span {
                    start: u32::try_from(start).ok()?,
                    len: u32::try_from(s.wire().len()).ok()?,
                    count: u16::try_from(s.len()).ok()?,
                })
            };
            let set = n.rrset(rtype::SOA)?;
            let minimum = set.rdatas().next().map_or(0, |rd| soa_field(rd, 4));
            let sigs = n.rrsigs(rtype::SOA).and_then(span).unwrap_or_default();
            (span(set)?, sigs, set.ttl().min(minimum))
        };
        Some(Apex {
            shard: u32::try_from(index).ok()?,
            node: u32::try_from(node).ok()?,
            soa,
            sigs,
            negative_ttl,
        })
    }

    /// The octets of the shard holding the apex, in `nodes` (the map
    /// this was read from).
    #[inline]
    fn shard<'a>(&self, nodes: &'a NodeMap) -> &'a [u8] {
        nodes.shard_bytes(self.shard as usize)
    }

    /// The apex node.
    #[inline]
    pub fn node<'a>(&self, nodes: &'a NodeMap) -> Node<'a> {
        Node::at(
            self.shard(nodes)
                .get(self.node as usize..)
                .unwrap_or(EMPTY_NODE),
        )
    }

    /// The apex name, lowercase wire form, read without walking the node.
    #[inline]
    pub fn owner<'a>(&self, nodes: &'a NodeMap) -> &'a [u8] {
        let shard = self.shard(nodes);
        let at = self.node as usize;
        let len = shard.get(at).map_or(0, |&l| usize::from(l));
        shard.get(at + 1..at + 1 + len).unwrap_or(&[0])
    }

    #[inline]
    fn view<'a>(&self, nodes: &'a NodeMap, s: &Span, rtype: u16) -> RRset<'a> {
        let (start, end) = (s.start as usize, s.start as usize + s.len as usize);
        RRset::from_parts(
            rtype,
            s.count,
            self.shard(nodes).get(start..end).unwrap_or(&[]),
        )
    }

    #[inline]
    pub fn soa<'a>(&self, nodes: &'a NodeMap) -> RRset<'a> {
        self.view(nodes, &self.soa, rtype::SOA)
    }

    #[inline]
    pub fn soa_sigs<'a>(&self, nodes: &'a NodeMap) -> Option<RRset<'a>> {
        (self.sigs.count != 0).then(|| self.view(nodes, &self.sigs, rtype::RRSIG))
    }

    #[inline]
    pub fn negative_ttl(&self) -> u32 {
        self.negative_ttl
    }
}

/// A node with an empty owner and nothing in it: never read in a version
/// that [`Apex::read`] accepted.
const EMPTY_NODE: &[u8] = &[0, 0, 0];
