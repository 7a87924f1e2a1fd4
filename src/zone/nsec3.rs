//! The NSEC3 chain of a zone (RFC 5155), kept apart from its names: an
//! NSEC3 owner is a hash, not a name of the zone, so a query for one is
//! answered as for any absent name (RFC 5155 §7.2.8). Entries are sorted
//! by hash, so matching and covering a hash is one binary search.

use std::collections::BTreeMap;
use std::sync::Arc;

use data_encoding::BASE32HEX_NOPAD;
use sha1::{Digest, Sha1};

use super::node::{EditedRRset, Node, encode_node_from_sets, flags, set_hashes, set_key};
use crate::wire::iana::rtype;
use crate::wire::name::lower;

/// The hash and salt the apex NSEC3PARAM names (RFC 5155 §4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Params {
    pub iterations: u16,
    pub salt: Box<[u8]>,
}

impl Params {
    /// From NSEC3PARAM RDATA: SHA-1 (algorithm 1) and flags 0 only; a
    /// record with other flags is not for authoritative servers to use
    /// (RFC 5155 §4.1.2).
    pub fn from_nsec3param(rdata: &[u8]) -> Option<Params> {
        let (&alg, rest) = rdata.split_first()?;
        let (&flags, rest) = rest.split_first()?;
        let iterations = u16::from_be_bytes([*rest.first()?, *rest.get(1)?]);
        let salt_len = *rest.get(2)? as usize;
        let salt = rest.get(3..3 + salt_len)?;
        (alg == 1 && flags == 0).then(|| Params {
            iterations,
            salt: salt.into(),
        })
    }

    /// Whether an NSEC3 record's RDATA belongs to this chain.
    fn matches(&self, nsec3: &[u8]) -> bool {
        let salt_len = nsec3.get(4).copied().unwrap_or(0) as usize;
        nsec3.first() == Some(&1)
            && nsec3.get(2..4) == Some(&self.iterations.to_be_bytes()[..])
            && nsec3.get(5..5 + salt_len) == Some(&self.salt[..])
    }

    /// The hash of `name` (wire form, any case): RFC 5155 §5, SHA-1 over
    /// the lowercase name and the salt, then `iterations` more times over
    /// the digest and the salt. Nothing is allocated.
    pub fn hash(&self, name: &[u8]) -> [u8; 20] {
        #[cfg(test)]
        tests::HASHES.with(|c| c.set(c.get() + 1));
        // Lowercase on the stack (a name is at most 255 octets): one
        // update, not one per octet.
        let mut buf = [0u8; 255];
        let n = name.len().min(buf.len());
        for (d, s) in buf.iter_mut().zip(&name[..n]) {
            *d = lower(*s);
        }
        let mut h = Sha1::new();
        h.update(&buf[..n]);
        h.update(&self.salt);
        let mut digest: [u8; 20] = h.finalize().into();
        for _ in 0..self.iterations {
            let mut h = Sha1::new();
            h.update(digest);
            h.update(&self.salt);
            digest = h.finalize().into();
        }
        digest
    }
}

/// Precomputes the NSEC3 hashes a node's answers need (RFC 5155 §7.2),
/// at the end of its blob (`blob[start..]`, the last one): the owner's,
/// for the NSEC3 that matches it (NODATA, closest encloser, referral), and
/// its wildcard child's, for the wildcard cover of an NXDOMAIN. Glue gets
/// neither (no proof is about it), and a cut or DNAME owner no wildcard
/// hash (names below it get a referral or a DNAME). Without a chain in
/// use, the blob keeps no hash. At query time only the next closer name
/// of an NXDOMAIN or wildcard answer is left to hash.
pub fn precompute_hashes(blob: &mut Vec<u8>, start: usize, params: Option<&Params>) {
    let node = Node::at(&blob[start..]);
    let (mut own, mut wildcard) = (None, None);
    if let Some(p) = params
        && !node.has_flag(flags::OCCLUDED)
    {
        own = Some(p.hash(node.owner()));
        if !node.has_flag(flags::DELEGATION | flags::DNAME) {
            wildcard = wildcard_child(node.owner()).map(|(w, len)| p.hash(&w[..len]));
        }
    }
    set_hashes(blob, start, own, wildcard);
}

/// `*.owner` in wire form, when it is short enough to be a name.
fn wildcard_child(owner: &[u8]) -> Option<([u8; 255], usize)> {
    let len = owner.len() + 2;
    if len > 255 {
        return None;
    }
    let mut w = [0u8; 255];
    w[..2].copy_from_slice(b"\x01*");
    w[2..len].copy_from_slice(owner);
    Some((w, len))
}

/// One owner of the chain: its hash, and a node blob holding its NSEC3
/// RRset and the RRSIGs over it.
#[derive(Clone)]
struct Entry {
    hash: Box<[u8]>,
    blob: Arc<[u8]>,
}

/// RRsets being assembled for one owner.
pub type Sets = Vec<EditedRRset>;

/// The NSEC3 records of a version, and the parameters that select them.
#[derive(Clone, Default)]
pub struct Nsec3Chain {
    params: Option<Params>,
    entries: Vec<Entry>,
    records: usize,
}

/// Whether a record belongs in the NSEC3 chain rather than the name tree.
pub fn is_chain_record(rt: u16, rdata: &[u8]) -> bool {
    rt == rtype::NSEC3 || set_key(rt, rdata) == (rtype::RRSIG, rtype::NSEC3)
}

/// The hash an NSEC3 owner name stands for: its first label, base32hex.
fn owner_hash(owner: &[u8]) -> Option<Vec<u8>> {
    let len = *owner.first()? as usize;
    let label = owner.get(1..1 + len)?;
    BASE32HEX_NOPAD.decode(&label.to_ascii_uppercase()).ok()
}

impl Nsec3Chain {
    /// The chain of `owners` (lowercase wire names, each with its sets),
    /// for the apex NSEC3PARAM `param` (RDATA) if there is one.
    pub fn build(param: Option<&[u8]>, owners: BTreeMap<Vec<u8>, Sets>) -> Nsec3Chain {
        let params = param.and_then(Params::from_nsec3param);
        let mut entries = Vec::with_capacity(owners.len());
        let mut records = 0;
        for (owner, sets) in owners {
            if sets.is_empty() {
                continue;
            }
            records += sets.iter().map(|s| s.2.len()).sum::<usize>();
            let hash = owner_hash(&owner).unwrap_or_default().into_boxed_slice();
            entries.push(Entry {
                hash,
                blob: encode(&owner, sets).into(),
            });
        }
        entries.sort_by(|a, b| a.hash.cmp(&b.hash));
        Nsec3Chain {
            params,
            entries,
            records,
        }
    }

    /// This chain with the sets of some owners replaced (IXFR): the
    /// entries not touched are shared with the version before.
    pub fn with_changes(&self, param: Option<&[u8]>, touched: BTreeMap<Vec<u8>, Sets>) -> Self {
        let mut owners: BTreeMap<Vec<u8>, Option<Entry>> = BTreeMap::new();
        for e in &self.entries {
            owners.insert(Node::at(&e.blob).owner().to_vec(), Some(e.clone()));
        }
        let mut records = self.records;
        for (owner, sets) in touched {
            if let Some(Some(old)) = owners.get(&owner) {
                records -= Node::at(&old.blob).rrsets().map(|s| s.len()).sum::<usize>();
            }
            records += sets.iter().map(|s| s.2.len()).sum::<usize>();
            let entry = (!sets.is_empty()).then(|| Entry {
                hash: owner_hash(&owner).unwrap_or_default().into_boxed_slice(),
                blob: encode(&owner, sets).into(),
            });
            owners.insert(owner, entry);
        }
        let mut entries: Vec<Entry> = owners.into_values().flatten().collect();
        entries.sort_by(|a, b| a.hash.cmp(&b.hash));
        Nsec3Chain {
            params: param.and_then(Params::from_nsec3param),
            entries,
            records,
        }
    }

    /// The parameters of the chain in use, if the zone names one.
    pub fn params(&self) -> Option<&Params> {
        self.params.as_ref()
    }

    /// Records held (NSEC3 and their RRSIGs).
    pub fn record_count(&self) -> usize {
        self.records
    }

    /// Every owner of the chain, in hash order.
    pub fn nodes(&self) -> impl Iterator<Item = Node<'_>> {
        self.entries.iter().map(|e| Node::at(&e.blob))
    }

    /// The owner `owner` (lowercase wire form), to edit it.
    pub fn node(&self, owner: &[u8]) -> Option<Node<'_>> {
        let h = owner_hash(owner)?;
        let i = self.entries.binary_search_by(|e| e.hash[..].cmp(&h)).ok()?;
        Some(Node::at(&self.entries[i].blob)).filter(|n| n.owner() == owner)
    }

    /// The NSEC3 of the chain in use whose owner hash is `hash`.
    pub fn matching(&self, hash: &[u8]) -> Option<Node<'_>> {
        let i = self
            .entries
            .binary_search_by(|e| e.hash[..].cmp(hash))
            .ok()?;
        self.in_chain(i)
    }

    /// The NSEC3 whose span covers `hash` (RFC 5155 §1.3): the owner hash
    /// before it, the last one wrapping around to the first.
    pub fn covering(&self, hash: &[u8]) -> Option<Node<'_>> {
        let i = match self.entries.binary_search_by(|e| e.hash[..].cmp(hash)) {
            Ok(_) => return None,
            Err(0) => self.entries.len().checked_sub(1)?,
            Err(i) => i - 1,
        };
        self.in_chain(i)
    }

    fn in_chain(&self, i: usize) -> Option<Node<'_>> {
        let node = Node::at(&self.entries[i].blob);
        let params = self.params.as_ref()?;
        let nsec3 = node.rrset(rtype::NSEC3)?;
        nsec3
            .rdatas()
            .next()
            .filter(|rd| params.matches(rd))
            .map(|_| node)
    }
}

/// Whether an NSEC3 record has the Opt-Out flag (RFC 5155 §3.1.2.1).
pub fn opt_out(node: Node<'_>) -> bool {
    node.rrset(rtype::NSEC3)
        .and_then(|s| {
            s.rdatas()
                .next()
                .map(|rd| rd.get(1).is_some_and(|f| f & 1 == 1))
        })
        .unwrap_or(false)
}

fn encode(owner: &[u8], mut sets: Sets) -> Vec<u8> {
    sets.sort_by_key(|(t, _, rds)| set_key(*t, rds.first().map_or(&[][..], |r| &r[..])));
    encode_node_from_sets(owner, 0, &sets)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::wire::name::parse_name_text;

    thread_local! {
        /// Hashes made on this thread (tests count them).
        pub(crate) static HASHES: core::cell::Cell<usize> = const { core::cell::Cell::new(0) };
    }

    /// RFC 5155 Appendix A: example's hash with salt AABBCCDD and 12
    /// iterations is 0p9mhaveqvm6t7vbl5lop2u3t2rp3tom.
    #[test]
    fn hashes_as_rfc5155_appendix_a() {
        let p = Params::from_nsec3param(&[1, 0, 0, 12, 4, 0xaa, 0xbb, 0xcc, 0xdd]).unwrap();
        let h = p.hash(parse_name_text("EXAMPLE.", None).unwrap().as_wire());
        assert_eq!(
            BASE32HEX_NOPAD.encode(&h).to_ascii_lowercase(),
            "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom"
        );
        let h = p.hash(parse_name_text("a.example.", None).unwrap().as_wire());
        assert_eq!(
            BASE32HEX_NOPAD.encode(&h).to_ascii_lowercase(),
            "35mthgpgcu1qg68fab165klnsnk3dpvl"
        );
        assert!(
            Params::from_nsec3param(&[1, 1, 0, 0, 0]).is_none(),
            "flags must be 0"
        );
        assert!(
            Params::from_nsec3param(&[2, 0, 0, 0, 0]).is_none(),
            "SHA-1 only"
        );
    }
}
