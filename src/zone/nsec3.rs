//! The NSEC3 chain of a zone (RFC 5155), kept apart from its names: an
//! NSEC3 owner is a hash, not a name of the zone, so a query for one is
//! answered as for any absent name (RFC 5155 §7.2.8). Entries are sorted
//! by hash, so matching and covering a hash is one binary search.

use std::collections::BTreeMap;
use std::sync::Arc;

use data_encoding::BASE32HEX_NOPAD;
use sha1::{Digest, Sha1};

use super::node::{
    EditedRRset, HASH_LEN, Node, append_node_from_sets, encode_node_from_sets, flags, set_hashes,
    set_key,
};
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

/// A chunk is split when it grows past this many owners. Every version
/// copies the chunk list (a pointer per chunk, and a reference count
/// touched in each chunk), an IXFR copies each chunk it changes: at
/// 1.1M owners, chunks of 64 made a re-signing IXFR slower than 512 at
/// every size measured (`zonecast-bench resign`).
const CHUNK_MAX: usize = 512;

/// Owners stepped back over, from the hash an answer covers, to find one
/// of the chain in use: while a primary rolls to a new chain, the old and
/// the new one are interleaved, and half of the owners are the other's.
const MAX_FOREIGN_WALK: usize = 64;

/// A run of the chain's owners in hash order: the hashes side by side for
/// the search, each owner's node blob (its NSEC3 RRset and the RRSIGs
/// over it) back to back. An IXFR copies only the chunks it changes.
#[derive(Clone, Default)]
struct Chunk {
    hashes: Vec<[u8; HASH_LEN]>,
    /// Where each blob ends in `blobs`.
    ends: Vec<u32>,
    blobs: Vec<u8>,
}

impl Chunk {
    fn len(&self) -> usize {
        self.hashes.len()
    }

    fn blob(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.blobs[start..self.ends[i] as usize]
    }

    fn node(&self, i: usize) -> Node<'_> {
        Node::at(self.blob(i))
    }

    fn push(&mut self, hash: [u8; HASH_LEN], blob: &[u8]) {
        self.hashes.push(hash);
        self.blobs.extend_from_slice(blob);
        self.ends.push(self.blobs.len() as u32);
    }

    fn heap_bytes(&self) -> usize {
        self.hashes.capacity() * HASH_LEN + self.ends.capacity() * 4 + self.blobs.capacity() + 64
    }
}

/// Fills chunks in order: one chunk when the owners expected fit in one,
/// else chunks of half the limit; each is trimmed to its size once full
/// (a chain is written once and read for a long time).
struct ChunkWriter {
    piece: usize,
    cur: Chunk,
    done: Vec<Arc<Chunk>>,
}

impl ChunkWriter {
    fn new(expected: usize) -> Self {
        ChunkWriter {
            piece: if expected <= CHUNK_MAX {
                CHUNK_MAX
            } else {
                CHUNK_MAX / 2
            },
            cur: Chunk::default(),
            done: Vec::new(),
        }
    }

    fn copy(&mut self, hash: [u8; HASH_LEN], blob: &[u8]) {
        self.cur.push(hash, blob);
        self.cut_if_full();
    }

    /// Encodes an owner's sets straight into the chunk: no blob of its
    /// own to allocate and free (a million of those fragment the heap).
    fn encode(&mut self, hash: [u8; HASH_LEN], owner: &[u8], mut sets: Sets) {
        sort_sets(&mut sets);
        self.cur.hashes.push(hash);
        append_node_from_sets(&mut self.cur.blobs, owner, 0, &sets);
        self.cur.ends.push(self.cur.blobs.len() as u32);
        self.cut_if_full();
    }

    fn cut_if_full(&mut self) {
        if self.cur.len() == self.piece {
            self.cut();
        }
    }

    fn cut(&mut self) {
        let mut c = core::mem::take(&mut self.cur);
        c.hashes.shrink_to_fit();
        c.ends.shrink_to_fit();
        c.blobs.shrink_to_fit();
        self.done.push(Arc::new(c));
    }

    fn finish(mut self) -> Vec<Arc<Chunk>> {
        if self.cur.len() > 0 {
            self.cut();
        }
        self.done
    }
}

/// RRsets being assembled for one owner.
pub type Sets = Vec<EditedRRset>;

/// The NSEC3 records of a version, and the parameters that select them.
#[derive(Clone, Default)]
pub struct Nsec3Chain {
    params: Option<Params>,
    /// Owners named by a SHA-1 hash, in hash order, in shared chunks.
    chunks: Vec<Arc<Chunk>>,
    /// Owners whose first label is not a hash in base32hex: kept for
    /// transfers and zone files, never a proof.
    stray: Arc<Vec<Box<[u8]>>>,
    records: usize,
}

/// Whether a record belongs in the NSEC3 chain rather than the name tree.
pub fn is_chain_record(rt: u16, rdata: &[u8]) -> bool {
    rt == rtype::NSEC3 || set_key(rt, rdata) == (rtype::RRSIG, rtype::NSEC3)
}

/// The hash an NSEC3 owner name stands for: its first label, base32hex.
fn owner_hash(owner: &[u8]) -> Option<[u8; HASH_LEN]> {
    let len = *owner.first()? as usize;
    let label = owner.get(1..1 + len)?;
    let bytes = BASE32HEX_NOPAD.decode(&label.to_ascii_uppercase()).ok()?;
    bytes.try_into().ok()
}

/// Records in a chain owner's blob.
fn records_of(blob: &[u8]) -> usize {
    Node::at(blob).rrsets().map(|s| s.len()).sum()
}

/// One owner changed by an update: its hash, its name, and its new sets
/// (none: removed).
type Edit = ([u8; HASH_LEN], Vec<u8>, Sets);

/// A place in the chain: chunk, and index in it.
type At = (usize, usize);

impl Nsec3Chain {
    /// The chain in an `Arc`; every chain with nothing in it (an unsigned
    /// zone, or one signed with NSEC) is the same one, not an allocation
    /// per version: a node of 100,000 small zones holds one.
    pub fn shared(self) -> Arc<Nsec3Chain> {
        static EMPTY: std::sync::LazyLock<Arc<Nsec3Chain>> =
            std::sync::LazyLock::new(|| Arc::new(Nsec3Chain::default()));
        if self.params.is_none() && self.chunks.is_empty() && self.stray.is_empty() {
            Arc::clone(&EMPTY)
        } else {
            Arc::new(self)
        }
    }

    /// The chain of `owners` (lowercase wire names, each with its sets),
    /// for the apex NSEC3PARAM `param` (RDATA) if there is one.
    pub fn build(param: Option<&[u8]>, owners: BTreeMap<Vec<u8>, Sets>) -> Nsec3Chain {
        Nsec3Chain {
            params: param.and_then(Params::from_nsec3param),
            ..Nsec3Chain::default()
        }
        .with_changes(param, owners)
    }

    /// This chain with the sets of some owners replaced (IXFR), at a cost
    /// that grows with the changes: the chunks they do not touch are
    /// shared with the version before.
    pub fn with_changes(&self, param: Option<&[u8]>, touched: BTreeMap<Vec<u8>, Sets>) -> Self {
        let mut records = self.records;
        let mut edits: Vec<Edit> = Vec::new();
        let mut stray = None::<Vec<Box<[u8]>>>;
        for (owner, sets) in touched {
            if let Some(old) = self.node(&owner) {
                records -= records_of(old.blob());
            }
            records += sets.iter().map(|s| s.2.len()).sum::<usize>();
            match owner_hash(&owner) {
                Some(h) => edits.push((h, owner, sets)),
                None => {
                    let list = stray.get_or_insert_with(|| (*self.stray).clone());
                    list.retain(|b| Node::at(b).owner() != owner);
                    if !sets.is_empty() {
                        list.push(encode(&owner, sets).into_boxed_slice());
                    }
                }
            }
        }
        edits.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        let mut chunks: Vec<Arc<Chunk>> = Vec::with_capacity(self.chunks.len() + 1);
        let mut rest = &mut edits[..];
        for (c, chunk) in self.chunks.iter().enumerate() {
            // The edits before the next chunk's first hash are this one's.
            let upto = match self.chunks.get(c + 1) {
                Some(next) => rest.partition_point(|e| e.0 < next.hashes[0]),
                None => rest.len(),
            };
            let (mine, later) = std::mem::take(&mut rest).split_at_mut(upto);
            rest = later;
            if mine.is_empty() {
                chunks.push(chunk.clone());
                continue;
            }
            chunks.extend(merged(chunk, mine));
        }
        if self.chunks.is_empty() {
            chunks.extend(merged(&Chunk::default(), rest));
        }
        Nsec3Chain {
            params: param.and_then(Params::from_nsec3param),
            chunks,
            stray: stray.map_or_else(|| self.stray.clone(), Arc::new),
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

    /// Run `i` of the chain's node blobs, back to back: each chunk's,
    /// then each stray owner's (see [`NodeMap::arena`]).
    ///
    /// [`NodeMap::arena`]: super::node_map::NodeMap::arena
    pub fn blob_run(&self, i: usize) -> Option<&[u8]> {
        match self.chunks.get(i) {
            Some(c) => Some(&c.blobs),
            None => self.stray.get(i - self.chunks.len()).map(|b| &b[..]),
        }
    }

    /// Every owner of the chain, in hash order, then any stray ones.
    pub fn nodes(&self) -> impl Iterator<Item = Node<'_>> {
        self.chunks
            .iter()
            .flat_map(|c| (0..c.len()).map(move |i| c.node(i)))
            .chain(self.stray.iter().map(|b| Node::at(b)))
    }

    /// Heap octets held (shared chunks counted fully).
    pub fn heap_bytes(&self) -> usize {
        self.chunks.iter().map(|c| c.heap_bytes()).sum::<usize>()
            + self.stray.iter().map(|b| b.len() + 16).sum::<usize>()
    }

    /// Chunks the chain is held in.
    pub fn chunk_count(&self) -> usize {
        self.chunks.len()
    }

    /// How many chunks `other` shares with `self` (for tests of sharing).
    pub fn shared_chunks(&self, other: &Nsec3Chain) -> usize {
        self.chunks
            .iter()
            .filter(|c| other.chunks.iter().any(|o| Arc::ptr_eq(c, o)))
            .count()
    }

    /// The owner `owner` (lowercase wire form), to edit it.
    pub fn node(&self, owner: &[u8]) -> Option<Node<'_>> {
        let Some(h) = owner_hash(owner) else {
            return self
                .stray
                .iter()
                .map(|b| Node::at(b))
                .find(|n| n.owner() == owner);
        };
        let (c, i) = self.lower_bound(&h)?;
        let chunk = &self.chunks[c];
        (i..chunk.len())
            .take_while(|&j| chunk.hashes[j] == h)
            .map(|j| chunk.node(j))
            .find(|n| n.owner() == owner)
    }

    /// The first place whose hash is not below `hash` (None past the end).
    fn lower_bound(&self, hash: &[u8]) -> Option<At> {
        let after = self.chunks.partition_point(|c| c.hashes[0][..] <= *hash);
        let Some(c) = after.checked_sub(1) else {
            return (!self.chunks.is_empty()).then_some((0, 0));
        };
        let i = self.chunks[c].hashes.partition_point(|h| h[..] < *hash);
        if i < self.chunks[c].len() {
            Some((c, i))
        } else {
            (c + 1 < self.chunks.len()).then_some((c + 1, 0))
        }
    }

    /// The place before `at`, the last one wrapping around to the first.
    fn before(&self, (c, i): At) -> At {
        if i > 0 {
            return (c, i - 1);
        }
        let c = c.checked_sub(1).unwrap_or(self.chunks.len() - 1);
        (c, self.chunks[c].len() - 1)
    }

    fn last(&self) -> Option<At> {
        let c = self.chunks.len().checked_sub(1)?;
        Some((c, self.chunks[c].len() - 1))
    }

    /// The NSEC3 of the chain in use whose owner hash is `hash`.
    pub fn matching(&self, hash: &[u8]) -> Option<Node<'_>> {
        let (c, i) = self.lower_bound(hash)?;
        let chunk = &self.chunks[c];
        (i..chunk.len())
            .take_while(|&j| chunk.hashes[j][..] == *hash)
            .find_map(|j| self.in_chain((c, j)))
    }

    /// The NSEC3 of the chain in use whose span covers `hash` (RFC 5155
    /// §1.3): the nearest owner hash before it, the last one wrapping
    /// around to the first. None when `hash` is an owner's.
    pub fn covering(&self, hash: &[u8]) -> Option<Node<'_>> {
        let mut at = match self.lower_bound(hash) {
            Some((c, i)) if self.chunks[c].hashes[i][..] == *hash => return None,
            Some(at) => self.before(at),
            None => self.last()?,
        };
        for _ in 0..MAX_FOREIGN_WALK {
            if let Some(n) = self.in_chain(at) {
                return Some(n);
            }
            at = self.before(at);
        }
        None
    }

    fn in_chain(&self, (c, i): At) -> Option<Node<'_>> {
        let node = self.chunks[c].node(i);
        let params = self.params.as_ref()?;
        let nsec3 = node.rrset(rtype::NSEC3)?;
        nsec3
            .rdatas()
            .next()
            .filter(|rd| params.matches(rd))
            .map(|_| node)
    }
}

/// `chunk` with `edits` (in order, all for its span) applied: replaced,
/// removed or inserted owners; split in halves when it may grow past the
/// limit, gone when emptied.
fn merged(chunk: &Chunk, edits: &mut [Edit]) -> Vec<Arc<Chunk>> {
    let mut w = ChunkWriter::new(chunk.len() + edits.len());
    let mut e = edits.iter_mut().peekable();
    for i in 0..chunk.len() {
        let (h, blob) = (chunk.hashes[i], chunk.blob(i));
        let owner = Node::at(blob).owner();
        // Edits that sort before this owner are new owners.
        while let Some(ed) = e.next_if(|ed| (&ed.0, &ed.1[..]) < (&h, owner)) {
            if !ed.2.is_empty() {
                w.encode(ed.0, &ed.1, std::mem::take(&mut ed.2));
            }
        }
        match e.next_if(|ed| ed.0 == h && ed.1 == owner) {
            Some(ed) if ed.2.is_empty() => {}
            Some(ed) => w.encode(ed.0, &ed.1, std::mem::take(&mut ed.2)),
            None => w.copy(h, blob),
        }
    }
    for ed in e {
        if !ed.2.is_empty() {
            w.encode(ed.0, &ed.1, std::mem::take(&mut ed.2));
        }
    }
    w.finish()
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
    sort_sets(&mut sets);
    encode_node_from_sets(owner, 0, &sets)
}

/// An owner's sets in the order a node keeps them (RRSIGs by type covered).
fn sort_sets(sets: &mut Sets) {
    sets.sort_by_key(|(t, _, rds)| set_key(*t, rds.first().map_or(&[][..], |r| &r[..])));
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

    /// An NSEC3 owner of example. for `hash`, with one NSEC3 record of the
    /// chain (salt AB, 0 iterations) or of another (salt CD).
    fn owner_sets(hash: &[u8; HASH_LEN], ours: bool) -> (Vec<u8>, Sets) {
        let label = BASE32HEX_NOPAD.encode(hash).to_ascii_lowercase();
        let owner = parse_name_text(&format!("{label}.example."), None).unwrap();
        let salt = if ours { 0xab } else { 0xcd };
        let mut rd = vec![1, 0, 0, 0, 1, salt, 20];
        rd.extend_from_slice(hash);
        rd.push(0);
        (
            owner.as_wire().to_vec(),
            vec![(rtype::NSEC3, 300, vec![rd.into()])],
        )
    }

    /// Chunked updates give the chain a build from scratch gives, share
    /// the chunks they do not touch, and matching and covering agree with
    /// a sorted list searched by hand, across the other chain's owners.
    #[test]
    fn chunked_updates_match_a_rebuild_and_a_naive_search() {
        let param = [1u8, 0, 0, 0, 1, 0xab];
        let mut seed = 0x243f_6a88_85a3_08d3u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut hash = || {
            let mut h = [0u8; HASH_LEN];
            for b in h.chunks_mut(8) {
                b.copy_from_slice(&next().to_le_bytes()[..b.len()]);
            }
            h
        };
        let mut live: BTreeMap<Vec<u8>, ([u8; HASH_LEN], bool)> = BTreeMap::new();
        let mut all = BTreeMap::new();
        for k in 0..3000 {
            let h = hash();
            let (o, sets) = owner_sets(&h, k % 3 != 0);
            live.insert(o.clone(), (h, k % 3 != 0));
            all.insert(o, sets);
        }
        let mut chain = Nsec3Chain::build(Some(&param), all);
        for round in 0..40 {
            let mut touched = BTreeMap::new();
            let owners: Vec<Vec<u8>> = live.keys().cloned().collect();
            for k in 0..5 {
                let h = hash();
                let (o, sets) = owner_sets(&h, k % 2 == 0);
                live.insert(o.clone(), (h, k % 2 == 0));
                touched.insert(o, sets);
                let gone = &owners[(h[0] as usize * 31 + k) % owners.len()];
                if !touched.contains_key(gone) {
                    live.remove(gone);
                    touched.insert(gone.clone(), Vec::new());
                }
            }
            let before = chain.clone();
            chain = chain.with_changes(Some(&param), touched);
            assert!(
                chain.shared_chunks(&before) + 10 >= before.chunks.len(),
                "round {round}: most chunks shared"
            );
            let rebuilt = Nsec3Chain::build(
                Some(&param),
                live.iter()
                    .map(|(_, (h, ours))| owner_sets(h, *ours))
                    .collect(),
            );
            let owners_of =
                |c: &Nsec3Chain| c.nodes().map(|n| n.owner().to_vec()).collect::<Vec<_>>();
            assert_eq!(owners_of(&chain), owners_of(&rebuilt), "round {round}");
            assert_eq!(chain.record_count(), live.len(), "round {round}");
        }
        // The chain in use, in order, searched by hand.
        let mut ours: Vec<[u8; HASH_LEN]> = live.values().filter(|v| v.1).map(|v| v.0).collect();
        ours.sort();
        let owner_of = |h: &[u8; HASH_LEN]| owner_sets(h, true).0;
        for _ in 0..2000 {
            let probe = hash();
            let want = match ours.binary_search(&probe) {
                Ok(_) => None,
                Err(0) => ours.last(),
                Err(i) => Some(&ours[i - 1]),
            };
            let got = chain.covering(&probe).map(|n| n.owner().to_vec());
            assert_eq!(got, want.map(owner_of));
        }
        for h in &ours {
            assert_eq!(
                chain.matching(h).map(|n| n.owner().to_vec()),
                Some(owner_of(h))
            );
            assert!(chain.covering(h).is_none());
            assert!(chain.node(&owner_of(h)).is_some());
        }
        let theirs = live.values().find(|v| !v.1).unwrap().0;
        assert!(
            chain.matching(&theirs).is_none(),
            "the other chain never matches"
        );
    }
}
