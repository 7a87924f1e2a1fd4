//! A hash of lowercase names built label by label from the root, so that
//! one pass over a query name yields the hash of every suffix: the zone
//! set, the zone lookup (closest encloser, `*.` wildcard) and the
//! compression table all probe by suffix, and none of them rehashes.

use super::{MAX_LABELS, NameBuf};

const SEED: u64 = 0x243f_6a88_85a3_08d3;
const K: u64 = 0x517c_c1b7_2722_0a95;

#[inline]
fn step(h: u64, word: u64) -> u64 {
    (h.rotate_left(5) ^ word).wrapping_mul(K)
}

/// Folds one label, length octet included, into the running state.
#[inline]
fn mix_label(mut h: u64, label: &[u8]) -> u64 {
    let mut chunks = label.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        h = step(h, u64::from_le_bytes(w));
    }
    let rem = chunks.remainder();
    if !rem.is_empty() {
        let mut w = [0u8; 8];
        w[..rem.len()].copy_from_slice(rem);
        h = step(h, u64::from_le_bytes(w));
    }
    h
}

/// Spreads the state's entropy over all bits (splitmix64's finaliser), so
/// tables may index with any bits of the result.
#[inline]
fn finish(mut h: u64) -> u64 {
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// The hash of a name given in uncompressed, lowercase wire form. Equal to
/// `SuffixHashes::compute(n).get(0)` for the same name.
pub fn hash_name(wire: &[u8]) -> u64 {
    let mut starts = [0u8; MAX_LABELS + 1];
    let mut n = 0usize;
    let mut pos = 0usize;
    while let Some(&len) = wire.get(pos) {
        if len == 0 || n == starts.len() {
            break;
        }
        starts[n] = pos as u8;
        n += 1;
        pos += 1 + len as usize;
    }
    let mut h = SEED;
    for i in (0..n).rev() {
        let s = starts[i] as usize;
        let e = (s + 1 + wire[s] as usize).min(wire.len());
        h = mix_label(h, &wire[s..e]);
    }
    finish(h)
}

/// The hash of each suffix of one name: `get(i)` is the hash of the name
/// without its first `i` labels.
pub struct SuffixHashes {
    /// Unfinished states, so that a label can still be prepended.
    states: [u64; MAX_LABELS + 1],
}

impl SuffixHashes {
    /// Hashes every suffix of `name`, which must be lowercase.
    #[inline]
    pub fn compute(name: &NameBuf) -> Self {
        let mut s = SuffixHashes {
            states: [0u64; MAX_LABELS + 1],
        };
        s.compute_into(name);
        s
    }

    /// Recomputes in place for `name` (lowercase), writing only the
    /// entries the name has: the query path reuses one instance rather
    /// than building a kilobyte array per name.
    #[inline]
    pub fn compute_into(&mut self, name: &NameBuf) {
        let labels = name.label_count();
        let wire = name.as_wire();
        let mut h = SEED;
        self.states[labels] = h;
        for i in (0..labels).rev() {
            let label = &wire[name.suffix_start(i)..name.suffix_start(i + 1)];
            h = mix_label(h, label);
            self.states[i] = h;
        }
    }

    #[inline]
    pub fn get(&self, skip: usize) -> u64 {
        finish(self.states[skip.min(MAX_LABELS)])
    }

    /// The hash of `*.` followed by the suffix `skip` (RFC 4592 §2.1.1:
    /// the wildcard that may match below a closest encloser).
    #[inline]
    pub fn wildcard(&self, skip: usize) -> u64 {
        finish(mix_label(self.states[skip.min(MAX_LABELS)], b"\x01*"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffix_hashes_match_whole_name_hashes() {
        let n = NameBuf::from_wire(b"\x03www\x07example\x03com\x00").unwrap();
        let h = SuffixHashes::compute(&n);
        assert_eq!(h.get(0), hash_name(b"\x03www\x07example\x03com\x00"));
        assert_eq!(h.get(1), hash_name(b"\x07example\x03com\x00"));
        assert_eq!(h.get(2), hash_name(b"\x03com\x00"));
        assert_eq!(h.get(3), hash_name(b"\x00"));
        assert_ne!(h.get(0), h.get(1));
        assert_eq!(h.wildcard(2), hash_name(b"\x01*\x03com\x00"));
    }

    #[test]
    fn label_boundaries_change_the_hash() {
        assert_ne!(hash_name(b"\x02ab\x01c\x00"), hash_name(b"\x01a\x02bc\x00"));
        assert_ne!(
            hash_name(b"\x08abcdefgh\x00"),
            hash_name(b"\x08abcdefg\x00\x00")
        );
    }
}
