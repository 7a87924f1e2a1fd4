//! A node: one owner name, its RRsets, and facts precomputed when the
//! snapshot is built, so the query path only tests bits.
//!
//! A node is stored as one run of octets (a "blob") in its shard's arena:
//!
//! ```text
//! owner_len u8 | owner (wire, lowercase) | flags u8 | rrset count u8 |
//! directory: per RRset  type u16, records u16, octets u32 (LE) |
//! each RRset's records as they follow an owner on the wire (the set's
//! TTL in each: the directory does not repeat it) |
//! NSEC3 hashes precomputed (20 octets each, when flagged): the owner's,
//! then its wildcard child's
//! ```
//!
//! One allocation-free run per name keeps a million-name zone small and
//! its lookups to a couple of cache lines. [`Node`] and [`RRset`] are
//! views of a blob.

use super::rrset::RRset;

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
    /// The blob ends with the NSEC3 hash of the owner (RFC 5155 §5).
    pub const NSEC3_HASH: u8 = 0x10;
    /// And then with the hash of the owner's wildcard child, `*.owner`.
    pub const WILDCARD_HASH: u8 = 0x20;
}

/// Octets of an NSEC3 hash: SHA-1, the one algorithm defined (RFC 5155
/// §11).
pub const HASH_LEN: usize = 20;

/// Octets of the precomputed hashes a node with `flags` ends with.
fn hashes_len(flags: u8) -> usize {
    HASH_LEN
        * (usize::from(flags & flags::NSEC3_HASH != 0)
            + usize::from(flags & flags::WILDCARD_HASH != 0))
}

/// Octets of one directory entry.
const DIR_ENTRY: usize = 8;

/// A node, read in place from its blob.
#[derive(Clone, Copy)]
pub struct Node<'a> {
    blob: &'a [u8],
}

impl core::fmt::Debug for Node<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Node(")?;
        crate::wire::name::fmt_name(self.owner(), f)?;
        write!(
            f,
            " flags {:#x}, {} RRsets)",
            self.flags(),
            self.rrset_count()
        )
    }
}

fn le16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

impl<'a> Node<'a> {
    /// Views the blob at the start of `bytes` (which may run on with more
    /// blobs). The blob must have been written by [`encode_node`].
    pub(crate) fn at(bytes: &'a [u8]) -> Node<'a> {
        let len = blob_len(bytes);
        Node {
            blob: &bytes[..len],
        }
    }

    fn owner_len(&self) -> usize {
        self.blob[0] as usize
    }

    /// The owner, lowercase wire form.
    pub fn owner(&self) -> &'a [u8] {
        &self.blob[1..1 + self.owner_len()]
    }

    pub fn flags(&self) -> u8 {
        self.blob[1 + self.owner_len()]
    }

    pub fn has_flag(&self, f: u8) -> bool {
        self.flags() & f != 0
    }

    fn rrset_count(&self) -> usize {
        self.blob[2 + self.owner_len()] as usize
    }

    fn dir_start(&self) -> usize {
        3 + self.owner_len()
    }

    /// The RRsets, in type order.
    pub fn rrsets(&self) -> RRsets<'a> {
        let n = self.rrset_count();
        let dir = self.dir_start();
        RRsets {
            blob: self.blob,
            dir,
            index: 0,
            count: n,
            data: dir + n * DIR_ENTRY,
        }
    }

    /// The RRset of type `t` (for RRSIG: the signatures of the lowest
    /// type covered, as Knot answers an RRSIG query).
    #[inline]
    pub fn rrset(&self, t: u16) -> Option<RRset<'a>> {
        self.rrsets().find(|s| s.rtype() == t)
    }

    /// The RRSIGs covering this node's RRset of type `covered`.
    #[inline]
    pub fn rrsigs(&self, covered: u16) -> Option<RRset<'a>> {
        self.rrsets()
            .find(|s| s.rtype() == crate::wire::iana::rtype::RRSIG && s.covered() == covered)
    }

    /// An empty non-terminal: a name that exists only because names below
    /// it do (RFC 8020).
    pub fn is_empty_non_terminal(&self) -> bool {
        self.rrset_count() == 0
    }

    /// The NSEC3 hash of the owner, precomputed for the chain in use.
    #[inline]
    pub fn nsec3_hash(&self) -> Option<&'a [u8]> {
        let f = self.flags();
        if f & flags::NSEC3_HASH == 0 {
            return None;
        }
        let end = self.blob.len() - hashes_len(f & flags::WILDCARD_HASH);
        Some(&self.blob[end - HASH_LEN..end])
    }

    /// The NSEC3 hash of `*.owner`, precomputed for the chain in use.
    #[inline]
    pub fn wildcard_nsec3_hash(&self) -> Option<&'a [u8]> {
        if !self.has_flag(flags::WILDCARD_HASH) {
            return None;
        }
        Some(&self.blob[self.blob.len() - HASH_LEN..])
    }

    /// The blob itself (copied when a shard is rebuilt).
    pub fn blob(&self) -> &'a [u8] {
        self.blob
    }

    /// An address identifying this node within one snapshot.
    pub fn id(&self) -> *const u8 {
        self.blob.as_ptr()
    }
}

/// Iterator over a node's RRsets.
pub struct RRsets<'a> {
    blob: &'a [u8],
    dir: usize,
    index: usize,
    count: usize,
    data: usize,
}

impl<'a> Iterator for RRsets<'a> {
    type Item = RRset<'a>;
    #[inline]
    fn next(&mut self) -> Option<RRset<'a>> {
        if self.index == self.count {
            return None;
        }
        let e = self.dir + self.index * DIR_ENTRY;
        let b = self.blob;
        let len = le32(b, e + 4) as usize;
        let wire = &b[self.data..self.data + len];
        self.data += len;
        self.index += 1;
        Some(RRset::from_parts(le16(b, e), le16(b, e + 2), wire))
    }
}

/// Length of the blob starting at `bytes[0]`.
pub(crate) fn blob_len(bytes: &[u8]) -> usize {
    records_end(bytes) + hashes_len(bytes[1 + bytes[0] as usize])
}

/// Where the records of the blob at `bytes[0]` end (and its hashes, if
/// any, start).
fn records_end(bytes: &[u8]) -> usize {
    let l = bytes[0] as usize;
    let n = bytes[2 + l] as usize;
    let dir = 3 + l;
    let data: usize = (0..n)
        .map(|i| le32(bytes, dir + i * DIR_ENTRY + 4) as usize)
        .sum();
    dir + n * DIR_ENTRY + data
}

/// Replaces the hashes at the end of the blob at `blob[start..]` (the last
/// one in `blob`) with `own` and `wildcard`, flagging them.
pub fn set_hashes(
    blob: &mut Vec<u8>,
    start: usize,
    own: Option<[u8; HASH_LEN]>,
    wildcard: Option<[u8; HASH_LEN]>,
) {
    let end = start + records_end(&blob[start..]);
    blob.truncate(end);
    let at = start + 1 + blob[start] as usize;
    blob[at] &= !(flags::NSEC3_HASH | flags::WILDCARD_HASH);
    if let Some(h) = own {
        blob[at] |= flags::NSEC3_HASH;
        blob.extend_from_slice(&h);
    }
    if let Some(h) = wildcard {
        blob[at] |= flags::WILDCARD_HASH;
        blob.extend_from_slice(&h);
    }
}

/// One RRset to encode: type, record count, and its records in
/// [`RRset`] wire form (with the set's TTL, [`encode_records`]).
pub struct RRsetParts<'b> {
    pub rtype: u16,
    pub count: u16,
    pub wire: &'b [u8],
}

/// Appends the blob of a node to `out`. `rrsets` must be in type order
/// (at most 255 of them: callers check).
pub fn encode_node(out: &mut Vec<u8>, owner: &[u8], flags: u8, rrsets: &[RRsetParts<'_>]) {
    out.push(owner.len() as u8);
    out.extend_from_slice(owner);
    out.push(flags);
    out.push(rrsets.len() as u8);
    for s in rrsets {
        out.extend_from_slice(&s.rtype.to_le_bytes());
        out.extend_from_slice(&s.count.to_le_bytes());
        out.extend_from_slice(&(s.wire.len() as u32).to_le_bytes());
    }
    for s in rrsets {
        out.extend_from_slice(s.wire);
    }
}

/// The flags a node has of itself (APEX, DELEGATION, DNAME), from its types.
pub fn own_flags(is_apex: bool, types: impl Iterator<Item = u16>) -> u8 {
    use crate::wire::iana::rtype;
    let mut f = if is_apex { flags::APEX } else { 0 };
    for t in types {
        match t {
            rtype::NS if !is_apex => f |= flags::DELEGATION,
            rtype::DNAME => f |= flags::DNAME,
            _ => {}
        }
    }
    f
}

/// What makes records one RRset at a node: the type, and for RRSIG the
/// type covered (RFC 4034 §3: signatures over different RRsets are not
/// one RRset, and each keeps its own TTL, RFC 2181 §5.2 aside).
pub fn set_key(rtype: u16, rdata: &[u8]) -> (u16, u16) {
    match rdata.get(..2) {
        Some(&[a, b]) if rtype == crate::wire::iana::rtype::RRSIG => {
            (rtype, u16::from_be_bytes([a, b]))
        }
        _ => (rtype, 0),
    }
}

/// One RRset being edited: type, TTL, RDATAs.
pub type EditedRRset = (u16, u32, Vec<Box<[u8]>>);

/// A node blob from edited RRsets, in the order given (the IXFR path and
/// the NSEC3 chain build nodes this way).
pub fn encode_node_from_sets(owner: &[u8], flags: u8, sets: &[EditedRRset]) -> Vec<u8> {
    let mut blob = Vec::new();
    append_node_from_sets(&mut blob, owner, flags, sets);
    blob
}

/// Appends the blob [`encode_node_from_sets`] makes to `out`.
pub fn append_node_from_sets(out: &mut Vec<u8>, owner: &[u8], flags: u8, sets: &[EditedRRset]) {
    let mut wire = Vec::new();
    let mut spans = Vec::with_capacity(sets.len());
    for (t, ttl, rds) in sets {
        let a = wire.len();
        let count = encode_records(&mut wire, *t, *ttl, rds.iter().map(|r| &r[..]));
        spans.push((*t, count, a, wire.len()));
    }
    let parts: Vec<RRsetParts<'_>> = spans
        .iter()
        .map(|&(rtype, count, a, b)| RRsetParts {
            rtype,
            count,
            wire: &wire[a..b],
        })
        .collect();
    encode_node(out, owner, flags, &parts);
}

/// A copy of `blob` with OCCLUDED set or cleared.
pub fn with_occluded(blob: &[u8], occluded: bool) -> Vec<u8> {
    let mut v = blob.to_vec();
    let at = 1 + v[0] as usize;
    if occluded {
        v[at] |= flags::OCCLUDED;
    } else {
        v[at] &= !flags::OCCLUDED;
    }
    v
}

/// The wire form of records for [`RRset`]: TYPE, CLASS IN, TTL, RDLENGTH,
/// RDATA per record.
pub fn encode_records<'r>(
    out: &mut Vec<u8>,
    rtype: u16,
    ttl: u32,
    rdatas: impl IntoIterator<Item = &'r [u8]>,
) -> u16 {
    let mut n = 0u16;
    for rd in rdatas {
        out.extend_from_slice(&rtype.to_be_bytes());
        out.extend_from_slice(&crate::wire::iana::class::IN.to_be_bytes());
        out.extend_from_slice(&ttl.to_be_bytes());
        out.extend_from_slice(&(rd.len() as u16).to_be_bytes());
        out.extend_from_slice(rd);
        n = n.saturating_add(1);
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_round_trip() {
        let mut a = Vec::new();
        let n_a = encode_records(&mut a, 1, 300, [&[192u8, 0, 2, 1][..], &[192, 0, 2, 2]]);
        let mut mx = Vec::new();
        encode_records(&mut mx, 15, 60, [&b"\x00\x0a\x04mail\x00"[..]]);
        let mut out = vec![0xee];
        encode_node(
            &mut out,
            b"\x03www\x00",
            flags::DELEGATION,
            &[
                RRsetParts {
                    rtype: 1,
                    count: n_a,
                    wire: &a,
                },
                RRsetParts {
                    rtype: 15,
                    count: 1,
                    wire: &mx,
                },
            ],
        );
        out.push(0xff);
        let n = Node::at(&out[1..]);
        assert_eq!(n.owner(), b"\x03www\x00");
        assert!(n.has_flag(flags::DELEGATION));
        assert_eq!(n.blob().len(), out.len() - 2);
        let a_set = n.rrset(1).unwrap();
        assert_eq!((a_set.len(), a_set.ttl()), (2, 300));
        assert_eq!(
            a_set.rdatas().collect::<Vec<_>>(),
            [&[192, 0, 2, 1][..], &[192, 0, 2, 2]]
        );
        assert_eq!(
            n.rrset(15).unwrap().rdatas().next().unwrap(),
            b"\x00\x0a\x04mail\x00"
        );
        assert!(n.rrset(28).is_none());
        assert_eq!(n.rrsets().map(|s| s.rtype()).collect::<Vec<_>>(), [1, 15]);
        let occ = with_occluded(n.blob(), true);
        assert!(Node::at(&occ).has_flag(flags::OCCLUDED));
        assert!(Node::at(&occ).has_flag(flags::DELEGATION));
        let mut ent = Vec::new();
        encode_node(&mut ent, b"\x01x\x00", 0, &[]);
        assert!(Node::at(&ent).is_empty_non_terminal());
    }
}
