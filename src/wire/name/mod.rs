//! Domain names in wire form (RFC 1035 §3.1, §4.1.4).
//!
//! A name in a message is read in place: [`skip`] validates it and finds
//! where it ends, and [`NameBuf::read`] copies it, with compression
//! pointers resolved, into a fixed buffer on the stack. Both refuse
//! pointers that do not point strictly backwards, reserved label types,
//! labels running past the end of the message and names over 255 octets,
//! so no input can make them loop or read out of bounds.

mod hash;
mod owned;
mod text;

pub use hash::{SuffixHashes, hash_name};
pub use owned::{Name, canonical_cmp, canonical_key, is_subdomain, label_count, suffix};
pub use text::{
    NameTextError, fmt_label, fmt_name, parse_name_bytes, parse_name_into, parse_name_text,
    unescape,
};

use super::error::{Result, WireError};
use super::header::HEADER_LEN;

/// Longest name in wire form, root label included (RFC 1035 §2.3.4).
pub const MAX_NAME_LEN: usize = 255;
/// Longest label (RFC 1035 §2.3.4).
pub const MAX_LABEL_LEN: usize = 63;
/// Most labels a name can have, the root label excluded.
pub const MAX_LABELS: usize = 127;

/// The first octet of a compression pointer has both high bits set.
const POINTER_BITS: u8 = 0xc0;

/// Copies one label (at most 63 octets, RFC 1035 §2.3.4) as two
/// overlapping fixed-size moves, which the compiler inlines: a call to
/// memmove per label was 2-3% of an XDP worker's core.
#[inline(always)]
fn copy_label(dst: &mut [u8], src: &[u8]) {
    #[inline(always)]
    fn two<const N: usize>(dst: &mut [u8], src: &[u8]) {
        let n = src.len();
        dst[..N].copy_from_slice(&src[..N]);
        dst[n - N..].copy_from_slice(&src[n - N..]);
    }
    match src.len() {
        0 => {}
        1 => dst[0] = src[0],
        2..=3 => two::<2>(dst, src),
        4..=7 => two::<4>(dst, src),
        8..=15 => two::<8>(dst, src),
        16..=31 => two::<16>(dst, src),
        32..=64 => two::<32>(dst, src),
        _ => dst.copy_from_slice(src),
    }
}

/// ASCII-only lowercase: DNS names compare case-insensitively for A–Z only
/// (RFC 4343 §3).
#[inline]
pub fn lower(b: u8) -> u8 {
    b.to_ascii_lowercase()
}

/// Follows the name at `pos` in `msg` and calls `on_label` with each label
/// (length octet included), root excluded. Returns the position just after
/// the part of the name stored at `pos` (that is, after the first pointer if
/// there is one).
#[inline]
fn walk(msg: &[u8], mut pos: usize, mut on_label: impl FnMut(&[u8])) -> Result<usize> {
    let mut end = None;
    // Every pointer must point before the start of the stretch of labels
    // that contains it, so targets strictly decrease and the walk ends.
    let mut segment_start = pos;
    let mut total = 0usize;
    loop {
        let len = *msg.get(pos).ok_or(WireError::Truncated)?;
        match len & POINTER_BITS {
            0 => {
                if len == 0 {
                    return Ok(end.unwrap_or(pos + 1));
                }
                let label_end = pos + 1 + len as usize;
                let label = msg.get(pos..label_end).ok_or(WireError::Truncated)?;
                total += label.len();
                if total + 1 > MAX_NAME_LEN {
                    return Err(WireError::NameTooLong);
                }
                on_label(label);
                pos = label_end;
            }
            POINTER_BITS => {
                let low = *msg.get(pos + 1).ok_or(WireError::Truncated)?;
                let target = (((len & !POINTER_BITS) as usize) << 8) | low as usize;
                // Backward only, and never into the header, where no name
                // lives: such a name would change with the counts (found
                // by fuzzing: signing a message changed its question).
                if target >= segment_start || target < HEADER_LEN {
                    return Err(WireError::BadPointer);
                }
                end.get_or_insert(pos + 2);
                pos = target;
                segment_start = target;
            }
            _ => return Err(WireError::BadLabelType),
        }
    }
}

/// Validates the name at `pos` and returns the position just after it.
pub fn skip(msg: &[u8], pos: usize) -> Result<usize> {
    walk(msg, pos, |_| {})
}

/// Whether the name at `pos` in `msg` equals `wire` (uncompressed),
/// ignoring ASCII case. The name at `pos` must already have been validated.
pub fn eq_at(msg: &[u8], pos: usize, wire: &[u8]) -> bool {
    let mut at = 0usize;
    let mut same = true;
    let r = walk(msg, pos, |label| {
        if !same {
            return;
        }
        match wire.get(at..at + label.len()) {
            Some(w) if eq_ignore_case(w, label) => at += label.len(),
            _ => same = false,
        }
    });
    same && r.is_ok() && wire.get(at) == Some(&0) && at + 1 == wire.len()
}

/// Whether the (validated) name at `pos` in `msg` equals `lower`, an
/// uncompressed lowercase name. The compressor's check: a tight loop that
/// lowercases one side only.
#[inline]
pub fn eq_at_lower(msg: &[u8], pos: usize, lower: &[u8]) -> bool {
    eq_at_by(msg, pos, lower, |x, y| lower_byte(x) == y)
}

/// Whether the (validated) name at `pos` in `msg` is `wire` octet for
/// octet, case included: the compressor's check where case must survive
/// (a zone transfer, as BIND compresses by default).
#[inline]
pub fn eq_at_exact(msg: &[u8], pos: usize, wire: &[u8]) -> bool {
    eq_at_by(msg, pos, wire, |x, y| x == y)
}

#[inline(always)]
fn eq_at_by(msg: &[u8], mut pos: usize, lower: &[u8], same: impl Fn(u8, u8) -> bool) -> bool {
    let mut i = 0usize;
    // Backward pointers end the walk; the bound only guards against a
    // message that was not written by the writer.
    for _ in 0..MAX_NAME_LEN {
        let Some(&len) = msg.get(pos) else {
            return false;
        };
        if len & POINTER_BITS == POINTER_BITS {
            let Some(&low) = msg.get(pos + 1) else {
                return false;
            };
            pos = (((len & !POINTER_BITS) as usize) << 8) | low as usize;
            continue;
        }
        if lower.get(i) != Some(&len) {
            return false;
        }
        if len == 0 {
            return i + 1 == lower.len();
        }
        let n = len as usize;
        let (Some(a), Some(b)) = (msg.get(pos + 1..pos + 1 + n), lower.get(i + 1..i + 1 + n))
        else {
            return false;
        };
        if !a.iter().zip(b).all(|(x, y)| same(*x, *y)) {
            return false;
        }
        pos += 1 + n;
        i += 1 + n;
    }
    false
}

#[inline]
fn lower_byte(b: u8) -> u8 {
    b.to_ascii_lowercase()
}

/// Splits an uncompressed name (as stored in a zone's RDATA) off the front
/// of `wire`. Only the lengths are followed; the name's form is checked
/// where it is used.
pub fn split_name(wire: &[u8]) -> Result<(&[u8], &[u8])> {
    let mut pos = 0usize;
    loop {
        let len = *wire.get(pos).ok_or(WireError::Truncated)? as usize;
        pos += 1 + len;
        if len == 0 {
            return Ok(wire.split_at(pos));
        }
    }
}

/// Octet-wise comparison ignoring ASCII case.
#[inline]
pub fn eq_ignore_case(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| lower(*x) == lower(*y))
}

/// An uncompressed name copied out of a message, with the offset of each
/// label, in a fixed buffer: reading a query name needs no heap.
#[derive(Clone)]
pub struct NameBuf {
    bytes: [u8; MAX_NAME_LEN],
    /// Length in wire form, root octet included.
    len: u8,
    /// Number of labels, root excluded.
    labels: u8,
    /// Offset of each label's length octet; `starts[labels]` is the root.
    starts: [u8; MAX_LABELS + 1],
}

impl Default for NameBuf {
    fn default() -> Self {
        Self::root()
    }
}

impl core::fmt::Debug for NameBuf {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        fmt_name(self.as_wire(), f)
    }
}

impl NameBuf {
    /// The root name.
    pub fn root() -> Self {
        NameBuf {
            bytes: [0; MAX_NAME_LEN],
            len: 1,
            labels: 0,
            starts: [0; MAX_LABELS + 1],
        }
    }

    /// Reads the possibly compressed name at `pos` in `msg` into `self`,
    /// returning the position just after it in `msg`.
    pub fn read(&mut self, msg: &[u8], pos: usize) -> Result<usize> {
        let mut len = 0usize;
        let mut labels = 0usize;
        let bytes = &mut self.bytes;
        let starts = &mut self.starts;
        let end = walk(msg, pos, |label| {
            // `walk` keeps the total under 255, hence under 128 labels.
            starts[labels] = len as u8;
            copy_label(&mut bytes[len..len + label.len()], label);
            len += label.len();
            labels += 1;
        })?;
        self.bytes[len] = 0;
        self.starts[labels] = len as u8;
        self.len = (len + 1) as u8;
        self.labels = labels as u8;
        Ok(end)
    }

    /// Copies an uncompressed name that is already known to be valid.
    pub fn from_wire(wire: &[u8]) -> Result<Self> {
        let mut b = NameBuf::root();
        let end = b.read(wire, 0)?;
        if end != wire.len() {
            return Err(WireError::TrailingData);
        }
        Ok(b)
    }

    /// The name in uncompressed wire form, root octet included.
    #[inline]
    pub fn as_wire(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }

    /// Number of labels, root excluded.
    #[inline]
    pub fn label_count(&self) -> usize {
        self.labels as usize
    }

    /// Offset in `as_wire()` where the suffix with `skip` labels removed
    /// starts.
    #[inline]
    pub fn suffix_start(&self, skip: usize) -> usize {
        self.starts[skip.min(self.labels as usize)] as usize
    }

    /// The name without its first `skip` labels.
    #[inline]
    pub fn suffix(&self, skip: usize) -> &[u8] {
        &self.as_wire()[self.suffix_start(skip)..]
    }

    /// The first label, length octet included (empty for the root).
    pub fn first_label(&self) -> &[u8] {
        &self.as_wire()[..self.suffix_start(1)]
    }

    /// Reads an uncompressed name (from a zone, not a message) in one pass,
    /// lowercased, checking its form: labels of at most 63 octets, at most
    /// 255 in all, no compression, nothing after the root.
    #[inline]
    pub fn read_lower(&mut self, wire: &[u8]) -> Result<()> {
        if wire.len() > MAX_NAME_LEN {
            return Err(WireError::NameTooLong);
        }
        let mut pos = 0usize;
        let mut labels = 0usize;
        loop {
            let len = *wire.get(pos).ok_or(WireError::Truncated)? as usize;
            if len == 0 {
                break;
            }
            if len > MAX_LABEL_LEN {
                return Err(WireError::BadLabelType);
            }
            let end = pos + 1 + len;
            let label = wire.get(pos..end).ok_or(WireError::Truncated)?;
            self.starts[labels] = pos as u8;
            for (d, s) in self.bytes[pos..end].iter_mut().zip(label) {
                *d = lower(*s);
            }
            labels += 1;
            pos = end;
        }
        if pos + 1 != wire.len() {
            return Err(WireError::TrailingData);
        }
        self.bytes[pos] = 0;
        self.starts[labels] = pos as u8;
        self.len = (pos + 1) as u8;
        self.labels = labels as u8;
        Ok(())
    }

    /// Makes `self` a lowercase copy of `other`, copying only what it uses.
    #[inline]
    pub fn copy_lowercase_from(&mut self, other: &NameBuf) {
        let len = other.len as usize;
        for (d, s) in self.bytes[..len].iter_mut().zip(&other.bytes[..len]) {
            *d = lower(*s);
        }
        let labels = other.labels as usize;
        self.starts[..=labels].copy_from_slice(&other.starts[..=labels]);
        self.len = other.len;
        self.labels = other.labels;
    }

    /// Lowercases A–Z in place.
    pub fn make_lowercase(&mut self) {
        for b in &mut self.bytes[..self.len as usize] {
            *b = lower(*b);
        }
    }

    /// Replaces `self` with `prefix` (labels, no root octet) followed by
    /// `suffix` (a whole name). Fails if the result is longer than 255.
    pub fn set_concat(&mut self, prefix: &[u8], suffix: &[u8]) -> Result<()> {
        let total = prefix.len() + suffix.len();
        if total > MAX_NAME_LEN {
            return Err(WireError::NameTooLong);
        }
        let mut tmp = [0u8; MAX_NAME_LEN];
        tmp[..prefix.len()].copy_from_slice(prefix);
        tmp[prefix.len()..total].copy_from_slice(suffix);
        self.read(&tmp[..total], 0).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_of_every_length_are_copied_whole() {
        let src: Vec<u8> = (1..=64).collect();
        for n in 0..=64 {
            let mut dst = [0u8; 64];
            copy_label(&mut dst[..n], &src[..n]);
            assert_eq!(&dst[..n], &src[..n]);
            assert!(dst[n..].iter().all(|&b| b == 0));
        }
    }

    fn read(msg: &[u8], pos: usize) -> Result<(Vec<u8>, usize)> {
        let mut b = NameBuf::root();
        let end = b.read(msg, pos)?;
        Ok((b.as_wire().to_vec(), end))
    }

    #[test]
    fn reads_plain_name() {
        let msg = b"\x03www\x07example\x03com\x00rest";
        let (w, end) = read(msg, 0).unwrap();
        assert_eq!(w, b"\x03www\x07example\x03com\x00");
        assert_eq!(end, 17);
    }

    #[test]
    fn follows_backward_pointer() {
        // A header, "example.com" at 12, then "www" + pointer to 12 at 25.
        let msg = &[&[0u8; 12][..], b"\x07example\x03com\x00\x03www\xc0\x0c"].concat();
        let (w, end) = read(msg, 25).unwrap();
        assert_eq!(w, b"\x03www\x07example\x03com\x00");
        assert_eq!(end, 31);
        // Pointers into the header are refused: no name lives there.
        let mut bad = msg.clone();
        bad[30] = 11;
        assert_eq!(read(&bad, 25), Err(WireError::BadPointer));
        let mut b = NameBuf::root();
        b.read(msg, 25).unwrap();
        assert_eq!(b.label_count(), 3);
        assert_eq!(b.suffix(1), b"\x07example\x03com\x00");
        assert_eq!(b.suffix(3), b"\x00");
        assert_eq!(b.first_label(), b"\x03www");
    }

    #[test]
    fn rejects_pointer_to_itself_and_forward() {
        assert_eq!(read(b"\xc0\x00", 0), Err(WireError::BadPointer));
        assert_eq!(read(b"\xc0\x02\x00", 0), Err(WireError::BadPointer));
        // Two pointers that point at each other: 2 -> 0 is backwards, but
        // then 0 -> 2 points forward of the segment start.
        assert_eq!(read(b"\xc0\x02\xc0\x00", 2), Err(WireError::BadPointer));
    }

    #[test]
    fn rejects_pointer_into_earlier_segment_loop() {
        // label "a" at 0 followed by pointer at 2 -> 0 : loop via label.
        assert_eq!(read(b"\x01a\xc0\x00", 0), Err(WireError::BadPointer));
    }

    #[test]
    fn rejects_truncation_and_reserved_types() {
        assert_eq!(read(b"\x03ww", 0), Err(WireError::Truncated));
        assert_eq!(read(b"\x03www", 0), Err(WireError::Truncated));
        assert_eq!(read(b"\xc0", 0), Err(WireError::Truncated));
        assert_eq!(read(b"\x40abc", 0), Err(WireError::BadLabelType));
        assert_eq!(read(b"\x80abc", 0), Err(WireError::BadLabelType));
        assert_eq!(read(b"", 0), Err(WireError::Truncated));
    }

    #[test]
    fn enforces_255_octets() {
        // 4 labels of 63 = 256 octets + root: too long.
        let mut msg = Vec::new();
        for _ in 0..4 {
            msg.push(63);
            msg.extend_from_slice(&[b'a'; 63]);
        }
        msg.push(0);
        assert_eq!(read(&msg, 0), Err(WireError::NameTooLong));
        // 3 labels of 63 and one of 61: 254 + root = 255, accepted.
        let mut ok = Vec::new();
        for _ in 0..3 {
            ok.push(63);
            ok.extend_from_slice(&[b'a'; 63]);
        }
        ok.push(61);
        ok.extend_from_slice(&[b'a'; 61]);
        ok.push(0);
        assert_eq!(read(&ok, 0).unwrap().0.len(), 255);
    }

    #[test]
    fn long_pointer_chains_are_bounded_by_length() {
        // 127 one-octet labels each pointing back to the previous one.
        let mut msg = vec![0u8];
        let mut prev = 0usize;
        for _ in 0..200 {
            let here = msg.len();
            msg.extend_from_slice(&[1, b'x', 0xc0 | (prev >> 8) as u8, prev as u8]);
            prev = here;
        }
        assert_eq!(read(&msg, prev), Err(WireError::NameTooLong));
    }

    #[test]
    fn compares_in_place_ignoring_case() {
        let msg = &[&[0u8; 12][..], b"\x07EXAMPLE\x03com\x00\x03WwW\xc0\x0c"].concat();
        assert!(eq_at(msg, 25, b"\x03www\x07example\x03com\x00"));
        assert!(!eq_at(msg, 25, b"\x03www\x07example\x03org\x00"));
        assert!(!eq_at(msg, 25, b"\x03www\x07example\x00"));
        assert!(!eq_at(msg, 25, b"\x03www\x07example\x03com\x00\x00"));
        assert!(eq_at(msg, 12, b"\x07example\x03com\x00"));
    }

    #[test]
    fn compares_with_lowercase_name() {
        let msg = b"\x07EXAMPLE\x03com\x00\x03WwW\xc0\x00";
        assert!(eq_at_lower(msg, 13, b"\x03www\x07example\x03com\x00"));
        assert!(eq_at_lower(msg, 0, b"\x07example\x03com\x00"));
        assert!(!eq_at_lower(msg, 13, b"\x03www\x07example\x00"));
        assert!(!eq_at_lower(msg, 13, b"\x03www\x07example\x03com\x00\x00"));
        // A pointer loop ends the walk with "not equal".
        assert!(!eq_at_lower(b"\xc0\x00", 0, b"\x00"));
    }

    #[test]
    fn read_lower_agrees_with_read_and_checks_form() {
        let mut a = NameBuf::root();
        a.read_lower(b"\x03WwW\x07Example\x00").unwrap();
        let mut b = NameBuf::root();
        b.read(b"\x03WwW\x07Example\x00", 0).unwrap();
        b.make_lowercase();
        assert_eq!(a.as_wire(), b.as_wire());
        assert_eq!(a.label_count(), b.label_count());
        assert_eq!(a.suffix(1), b"\x07example\x00");

        let mut c = NameBuf::root();
        c.copy_lowercase_from(&{
            let mut d = NameBuf::root();
            d.read(b"\x01A\x00", 0).unwrap();
            d
        });
        assert_eq!(c.as_wire(), b"\x01a\x00");

        assert_eq!(a.read_lower(b"\x03www"), Err(WireError::Truncated));
        assert_eq!(a.read_lower(b"\x01a\x00x"), Err(WireError::TrailingData));
        assert_eq!(a.read_lower(b"\x40"), Err(WireError::BadLabelType));
        assert_eq!(a.read_lower(b"\xc0\x00"), Err(WireError::BadLabelType));
        assert_eq!(a.read_lower(&[1u8; 300]), Err(WireError::NameTooLong));
    }

    #[test]
    fn concat_builds_wildcard_names() {
        let mut b = NameBuf::root();
        b.set_concat(b"\x01*", b"\x07example\x00").unwrap();
        assert_eq!(b.as_wire(), b"\x01*\x07example\x00");
        assert_eq!(b.label_count(), 2);
    }
}
