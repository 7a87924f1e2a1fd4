//! Every name of a snapshot in DNSSEC canonical order (RFC 4034 §6.1), in
//! compact chunks that versions share: an IXFR copies only the chunks it
//! changes.
//!
//! The order answers "what lies below this name" (a contiguous run after
//! it) and gives AXFR-out and zone files their order. Each name carries
//! one precomputed bit, set at the owners of the zone's authoritative NSEC
//! records, so that the NSEC covering any name (RFC 4035 §3.1.3) is one
//! ordered search, however many glue or empty names lie between. It holds
//! names only; nodes are found by name.

use core::cmp::Ordering;
use std::sync::Arc;

use crate::wire::name::canonical_cmp;

/// A chunk is split when it grows past this many names.
const CHUNK_MAX: usize = 512;

/// Names back to back, with where each starts, and a bit per name, in
/// one shared allocation: a chunk is written once and read for a long
/// time, and a node of 100,000 small zones holds 100,000 of them (as
/// four allocations each they took 240 octets for a 3-name zone; now
/// 112).
///
/// ```text
/// count u32 | marked u32 | start of each name u32 (LE) |
/// mark words u64 (LE), only when some name is marked | names
/// ```
#[derive(Clone)]
struct Chunk(Arc<[u8]>);

/// Octets of the count and the number marked.
const HEAD: usize = 8;

fn le32(b: &[u8], at: usize) -> u32 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(w)
}

impl Chunk {
    /// A chunk of `names` (in canonical order), each with its mark.
    fn of(names: &[(&[u8], bool)]) -> Chunk {
        let count = names.len();
        let marked = names.iter().filter(|(_, m)| *m).count();
        let words = if marked == 0 { 0 } else { count.div_ceil(64) };
        let text: usize = names.iter().map(|(n, _)| n.len()).sum();
        let names_at = HEAD + 4 * count + 8 * words;
        // Allocated once, in place (no copy into the Arc afterwards).
        let mut data: Arc<[u8]> = std::iter::repeat_n(0u8, names_at + text).collect();
        let Some(buf) = Arc::get_mut(&mut data) else {
            unreachable!("an Arc just made has no other owner");
        };
        buf[..4].copy_from_slice(&(count as u32).to_le_bytes());
        buf[4..HEAD].copy_from_slice(&(marked as u32).to_le_bytes());
        let mut at = 0usize;
        for (i, (name, mark)) in names.iter().enumerate() {
            buf[HEAD + 4 * i..HEAD + 4 * i + 4].copy_from_slice(&(at as u32).to_le_bytes());
            buf[names_at + at..names_at + at + name.len()].copy_from_slice(name);
            at += name.len();
            if *mark {
                let w = HEAD + 4 * count + 8 * (i / 64);
                let mut word = [0u8; 8];
                word.copy_from_slice(&buf[w..w + 8]);
                let word = u64::from_le_bytes(word) | 1 << (i % 64);
                buf[w..w + 8].copy_from_slice(&word.to_le_bytes());
            }
        }
        Chunk(data)
    }

    fn len(&self) -> usize {
        le32(&self.0, 0) as usize
    }

    fn marked(&self) -> usize {
        le32(&self.0, 4) as usize
    }

    fn words(&self) -> usize {
        if self.marked() == 0 {
            0
        } else {
            self.len().div_ceil(64)
        }
    }

    fn name(&self, i: usize) -> &[u8] {
        let count = self.len();
        let base = HEAD + 4 * count + 8 * self.words();
        let s = base + le32(&self.0, HEAD + 4 * i) as usize;
        let e = if i + 1 < count {
            base + le32(&self.0, HEAD + 4 * (i + 1)) as usize
        } else {
            self.0.len()
        };
        &self.0[s..e]
    }

    fn position(&self, name: &[u8]) -> Result<usize, usize> {
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            match canonical_cmp(self.name(mid), name) {
                Ordering::Less => lo = mid + 1,
                Ordering::Greater => hi = mid,
                Ordering::Equal => return Ok(mid),
            }
        }
        Err(lo)
    }

    /// Mark word `w` (0 past the end, or when nothing is marked).
    fn word(&self, w: usize) -> u64 {
        if w >= self.words() {
            return 0;
        }
        let at = HEAD + 4 * self.len() + 8 * w;
        let mut b = [0u8; 8];
        b.copy_from_slice(&self.0[at..at + 8]);
        u64::from_le_bytes(b)
    }

    fn is_marked(&self, i: usize) -> bool {
        self.word(i / 64) >> (i % 64) & 1 == 1
    }

    /// The last marked name at a position below `end`.
    fn last_marked_below(&self, end: usize) -> Option<usize> {
        if self.marked() == 0 {
            return None;
        }
        let mut w = end / 64;
        // The bits of word `w` below `end`.
        let mut bits = match end % 64 {
            0 => 0,
            r => self.word(w) & ((1u64 << r) - 1),
        };
        loop {
            if bits != 0 {
                return Some(w * 64 + 63 - bits.leading_zeros() as usize);
            }
            w = w.checked_sub(1)?;
            bits = self.word(w);
        }
    }

    /// Every name with its mark.
    fn entries(&self) -> Vec<(&[u8], bool)> {
        (0..self.len())
            .map(|i| (self.name(i), self.is_marked(i)))
            .collect()
    }

    fn rebuilt<'x>(&'x self, edit: impl FnOnce(&mut Vec<(&'x [u8], bool)>)) -> Vec<Chunk> {
        let mut names = self.entries();
        edit(&mut names);
        // Split only a chunk grown past the limit, in halves; an emptied
        // chunk disappears.
        let piece = if names.len() > CHUNK_MAX {
            CHUNK_MAX / 2
        } else {
            CHUNK_MAX
        };
        names.chunks(piece).map(Chunk::of).collect()
    }
}

/// The chunks of an order: a small zone's one is held in place.
type Chunks = smallvec::SmallVec<[Chunk; 1]>;

#[derive(Clone, Default)]
pub struct CanonicalOrder {
    /// Sorted, non-empty chunks.
    chunks: Chunks,
    len: usize,
}

impl CanonicalOrder {
    /// Builds from names already in canonical order, each with its mark.
    pub fn from_sorted<'n>(names: impl IntoIterator<Item = (&'n [u8], bool)>) -> Self {
        let mut chunks = Chunks::new();
        let mut cur: Vec<(&[u8], bool)> = Vec::new();
        let mut len = 0;
        for entry in names {
            cur.push(entry);
            len += 1;
            if cur.len() == CHUNK_MAX / 2 {
                chunks.push(Chunk::of(&cur));
                cur.clear();
            }
        }
        if !cur.is_empty() {
            chunks.push(Chunk::of(&cur));
        }
        CanonicalOrder { chunks, len }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The chunk that holds `name` or would hold it.
    fn chunk_for(&self, name: &[u8]) -> usize {
        let after = self
            .chunks
            .partition_point(|c| canonical_cmp(c.name(0), name) != Ordering::Greater);
        after.saturating_sub(1)
    }

    pub fn contains(&self, name: &[u8]) -> bool {
        !self.chunks.is_empty() && self.chunks[self.chunk_for(name)].position(name).is_ok()
    }

    /// Adds `name`, unmarked, if it is not there yet.
    pub fn insert(&mut self, name: &[u8]) {
        if self.chunks.is_empty() {
            self.chunks.push(Chunk::of(&[(name, false)]));
            self.len = 1;
            return;
        }
        let c = self.chunk_for(name);
        let Err(i) = self.chunks[c].position(name) else {
            return;
        };
        let parts = self.chunks[c].rebuilt(|v| v.insert(i, (name, false)));
        self.splice(c, parts);
        self.len += 1;
    }

    /// Puts `parts` in the place of chunk `c`.
    fn splice(&mut self, c: usize, parts: Vec<Chunk>) {
        self.chunks.remove(c);
        self.chunks.insert_many(c, parts);
    }

    /// Removes `name`; whether it was there.
    pub fn remove(&mut self, name: &[u8]) -> bool {
        if self.chunks.is_empty() {
            return false;
        }
        let c = self.chunk_for(name);
        let Ok(i) = self.chunks[c].position(name) else {
            return false;
        };
        let parts = self.chunks[c].rebuilt(|v| {
            v.remove(i);
        });
        self.splice(c, parts);
        self.len -= 1;
        true
    }

    /// Sets or clears the mark of `name`; whether the name is there. The
    /// chunk is made anew only when the mark changes.
    pub fn set_mark(&mut self, name: &[u8], mark: bool) -> bool {
        if self.chunks.is_empty() {
            return false;
        }
        let c = self.chunk_for(name);
        let Ok(i) = self.chunks[c].position(name) else {
            return false;
        };
        if self.chunks[c].is_marked(i) != mark {
            let mut names = self.chunks[c].entries();
            names[i].1 = mark;
            self.chunks[c] = Chunk::of(&names);
        }
        true
    }

    /// The last marked name before `name` in canonical order, `name`
    /// itself excluded. Chunks without a mark are skipped whole.
    pub fn marked_before(&self, name: &[u8]) -> Option<&[u8]> {
        if self.chunks.is_empty() {
            return None;
        }
        let mut c = self.chunk_for(name);
        let mut end = match self.chunks[c].position(name) {
            Ok(i) | Err(i) => i,
        };
        loop {
            let chunk = &self.chunks[c];
            if let Some(i) = chunk.last_marked_below(end) {
                return Some(chunk.name(i));
            }
            c = c.checked_sub(1)?;
            end = self.chunks[c].len();
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        self.chunks
            .iter()
            .flat_map(|c| (0..c.len()).map(move |i| c.name(i)))
    }

    /// Names from `name` (or the first after it) onwards.
    pub fn iter_from<'s>(&'s self, name: &[u8]) -> impl Iterator<Item = &'s [u8]> + use<'s> {
        let (c, i) = if self.chunks.is_empty() {
            (0, 0)
        } else {
            let c = self.chunk_for(name);
            match self.chunks[c].position(name) {
                Ok(i) | Err(i) => (c, i),
            }
        };
        self.chunks
            .iter()
            .skip(c)
            .enumerate()
            .flat_map(move |(k, chunk)| {
                (if k == 0 { i } else { 0 }..chunk.len()).map(move |j| chunk.name(j))
            })
    }

    /// The last name before `name` in canonical order.
    pub fn predecessor(&self, name: &[u8]) -> Option<&[u8]> {
        if self.chunks.is_empty() {
            return None;
        }
        let c = self.chunk_for(name);
        let i = match self.chunks[c].position(name) {
            Ok(i) | Err(i) => i,
        };
        if i > 0 {
            return Some(self.chunks[c].name(i - 1));
        }
        let p = c.checked_sub(1)?;
        let prev = &self.chunks[p];
        Some(prev.name(prev.len() - 1))
    }

    /// Octets held by the chunks.
    pub fn heap_bytes(&self) -> usize {
        self.chunks
            .iter()
            .map(|c| c.0.len() + 16 + core::mem::size_of::<Chunk>())
            .sum()
    }

    /// How many chunks `other` shares with `self` (for tests of sharing).
    pub fn shared_chunks(&self, other: &CanonicalOrder) -> usize {
        self.chunks
            .iter()
            .zip(&other.chunks)
            .filter(|(a, b)| Arc::ptr_eq(&a.0, &b.0))
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Name;
    use crate::wire::name::parse_name_text;

    fn n(s: &str) -> Name {
        parse_name_text(s, None).unwrap()
    }

    #[test]
    fn keeps_order_through_inserts_and_removes() {
        let mut o = CanonicalOrder::default();
        let mut expect: Vec<Name> = Vec::new();
        for i in (0..3000).rev() {
            let name = n(&format!("h{i}.example."));
            o.insert(name.as_wire());
            expect.push(name);
        }
        o.insert(expect[0].as_wire());
        assert_eq!(o.len(), 3000, "inserting twice adds once");
        expect.sort_by(|a, b| canonical_cmp(a.as_wire(), b.as_wire()));
        let got: Vec<&[u8]> = o.iter().collect();
        let want: Vec<&[u8]> = expect.iter().map(|n| n.as_wire()).collect();
        assert_eq!(got, want);
        for i in (0..3000).step_by(2) {
            assert!(o.remove(n(&format!("h{i}.example.")).as_wire()));
        }
        assert!(!o.remove(n("h0.example.").as_wire()));
        assert_eq!(o.len(), 1500);
        assert_eq!(o.iter().count(), 1500);
        assert!(o.contains(n("h1.example.").as_wire()));
        assert!(!o.contains(n("h2.example.").as_wire()));
    }

    #[test]
    fn subtree_runs_and_predecessors() {
        let names: Vec<Name> = [
            "example.",
            "a.example.",
            "b.a.example.",
            "c.a.example.",
            "b.example.",
        ]
        .iter()
        .map(|s| n(s))
        .collect();
        let o = CanonicalOrder::from_sorted(names.iter().map(|n| (n.as_wire(), false)));
        let from: Vec<String> = o
            .iter_from(n("a.example.").as_wire())
            .map(|w| Name::from_wire(w).unwrap().to_string())
            .collect();
        assert_eq!(
            from,
            ["a.example.", "b.a.example.", "c.a.example.", "b.example."]
        );
        let p = o.predecessor(n("bb.a.example.").as_wire()).unwrap();
        assert_eq!(p, n("b.a.example.").as_wire());
        assert!(o.predecessor(n("example.").as_wire()).is_none());
    }

    #[test]
    fn versions_share_chunks() {
        let mut names: Vec<Name> = (0..2000).map(|i| n(&format!("h{i:05}.example."))).collect();
        names.sort_by(|a, b| canonical_cmp(a.as_wire(), b.as_wire()));
        let a = CanonicalOrder::from_sorted(names.iter().map(|n| (n.as_wire(), false)));
        let mut b = a.clone();
        b.insert(n("h00500x.example.").as_wire());
        assert!(
            b.shared_chunks(&a) >= 1,
            "chunks before the change are shared"
        );
        assert_eq!(b.len(), 2001);
        assert_eq!(a.len(), 2000);
    }

    /// The marked predecessor is found across unmarked runs longer than
    /// a chunk, through inserts, removals and mark changes, and versions
    /// keep their own marks.
    #[test]
    fn marked_predecessors_across_chunks() {
        let mut names: Vec<Name> = (0..3000).map(|i| n(&format!("h{i:05}.example."))).collect();
        names.sort_by(|a, b| canonical_cmp(a.as_wire(), b.as_wire()));
        // Marked: every 1000th name.
        let a = CanonicalOrder::from_sorted(
            names
                .iter()
                .enumerate()
                .map(|(i, n)| (n.as_wire(), i % 1000 == 0)),
        );
        let before = |o: &CanonicalOrder, s: &str| {
            o.marked_before(n(s).as_wire())
                .map(|w| Name::from_wire(w).unwrap().to_string())
        };
        assert_eq!(
            before(&a, "h02999.example.").as_deref(),
            Some("h02000.example.")
        );
        assert_eq!(
            before(&a, "h02000.example.").as_deref(),
            Some("h01000.example.")
        );
        assert_eq!(
            before(&a, "h01000x.example.").as_deref(),
            Some("h01000.example.")
        );
        assert_eq!(before(&a, "h00000.example."), None);
        assert_eq!(
            before(&a, "zz.example.").as_deref(),
            Some("h02000.example.")
        );
        let mut b = a.clone();
        b.insert(n("h01500x.example.").as_wire());
        assert!(b.set_mark(n("h01500x.example.").as_wire(), true));
        assert!(!b.set_mark(n("nothere.example.").as_wire(), true));
        assert_eq!(
            before(&b, "h01999.example.").as_deref(),
            Some("h01500x.example.")
        );
        assert!(b.set_mark(n("h02000.example.").as_wire(), false));
        assert_eq!(
            before(&b, "h02999.example.").as_deref(),
            Some("h01500x.example.")
        );
        assert!(b.remove(n("h01500x.example.").as_wire()));
        assert_eq!(
            before(&b, "h02999.example.").as_deref(),
            Some("h01000.example.")
        );
        assert_eq!(
            before(&a, "h02999.example.").as_deref(),
            Some("h02000.example.")
        );
    }
}
