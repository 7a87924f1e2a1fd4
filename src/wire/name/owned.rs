//! An owned, uncompressed domain name, as the zone stores it.

use core::cmp::Ordering;

use super::{MAX_LABELS, NameBuf, eq_ignore_case, fmt_name, lower};
use crate::wire::error::{Result, WireError};

/// A validated, uncompressed name in wire form, root octet included.
/// Equality and hashing are by exact octets: the zone keeps owner names
/// lowercase so that this is the DNS comparison.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Name(Box<[u8]>);

impl Name {
    pub fn root() -> Name {
        Name(Box::new([0]))
    }

    /// Validates `wire` as one uncompressed name with nothing after it.
    pub fn from_wire(wire: &[u8]) -> Result<Name> {
        let b = NameBuf::from_wire(wire)?;
        Ok(Name::from_buf(&b))
    }

    pub fn from_buf(b: &NameBuf) -> Name {
        Name(b.as_wire().into())
    }

    #[inline]
    pub fn as_wire(&self) -> &[u8] {
        &self.0
    }

    /// Length in wire form, root octet included.
    #[allow(clippy::len_without_is_empty)] // a name is never empty
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_root(&self) -> bool {
        self.0.len() == 1
    }

    /// Number of labels, root excluded.
    pub fn label_count(&self) -> usize {
        label_count(&self.0)
    }

    /// The labels from the left, without their length octets.
    pub fn labels(&self) -> Labels<'_> {
        Labels { wire: &self.0 }
    }

    pub fn to_lowercase(&self) -> Name {
        Name(self.0.iter().map(|b| lower(*b)).collect())
    }

    pub fn eq_ignore_case(&self, other: &Name) -> bool {
        eq_ignore_case(&self.0, &other.0)
    }

    /// Whether `self` is `other` or below it, ignoring case.
    pub fn is_subdomain_of(&self, other: &Name) -> bool {
        is_subdomain(&self.0, &other.0)
    }

    /// The name without its first `n` labels, in wire form.
    pub fn suffix(&self, n: usize) -> &[u8] {
        suffix(&self.0, n)
    }

    /// The name with the first label removed; `None` for the root.
    pub fn parent(&self) -> Option<Name> {
        if self.is_root() {
            None
        } else {
            Some(Name(self.suffix(1).into()))
        }
    }

    /// `label` (without length octet) prepended to `self`.
    pub fn prepend(&self, label: &[u8]) -> Result<Name> {
        if label.is_empty() || label.len() > super::MAX_LABEL_LEN {
            return Err(WireError::BadRdata);
        }
        if self.0.len() + 1 + label.len() > super::MAX_NAME_LEN {
            return Err(WireError::NameTooLong);
        }
        let mut v = Vec::with_capacity(self.0.len() + 1 + label.len());
        v.push(label.len() as u8);
        v.extend_from_slice(label);
        v.extend_from_slice(&self.0);
        Ok(Name(v.into()))
    }

    /// Whether the first label is `*` (RFC 4592 §2.1.1).
    pub fn is_wildcard(&self) -> bool {
        self.0.starts_with(b"\x01*")
    }
}

impl core::fmt::Display for Name {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        fmt_name(&self.0, f)
    }
}

impl core::fmt::Debug for Name {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Name({self})")
    }
}

/// Iterator over the labels of a valid uncompressed name.
pub struct Labels<'a> {
    wire: &'a [u8],
}

impl<'a> Iterator for Labels<'a> {
    type Item = &'a [u8];
    fn next(&mut self) -> Option<&'a [u8]> {
        let len = *self.wire.first()? as usize;
        if len == 0 {
            return None;
        }
        let label = self.wire.get(1..1 + len)?;
        self.wire = &self.wire[1 + len..];
        Some(label)
    }
}

/// Offsets of the labels of a valid uncompressed name; returns their count.
fn label_starts(wire: &[u8], starts: &mut [u8; MAX_LABELS + 1]) -> usize {
    let mut n = 0;
    let mut pos = 0usize;
    while let Some(&len) = wire.get(pos) {
        if len == 0 || n == MAX_LABELS {
            break;
        }
        starts[n] = pos as u8;
        n += 1;
        pos += 1 + len as usize;
    }
    n
}

/// Number of labels of a valid uncompressed name, root excluded.
pub fn label_count(wire: &[u8]) -> usize {
    let mut starts = [0u8; MAX_LABELS + 1];
    label_starts(wire, &mut starts)
}

/// The name without its first `n` labels.
pub fn suffix(wire: &[u8], n: usize) -> &[u8] {
    let mut pos = 0usize;
    for _ in 0..n {
        match wire.get(pos) {
            Some(&len) if len != 0 => pos += 1 + len as usize,
            _ => break,
        }
    }
    wire.get(pos..).unwrap_or(&[0])
}

/// Whether `name` equals `ancestor` or lies below it, ignoring case.
pub fn is_subdomain(name: &[u8], ancestor: &[u8]) -> bool {
    if name.len() < ancestor.len() {
        return false;
    }
    let mut pos = 0usize;
    loop {
        let rest = &name[pos..];
        if rest.len() == ancestor.len() {
            return eq_ignore_case(rest, ancestor);
        }
        if rest.len() < ancestor.len() {
            return false;
        }
        match rest.first() {
            Some(&len) if len != 0 => pos += 1 + len as usize,
            _ => return false,
        }
    }
}

/// Compares two valid uncompressed names in DNSSEC canonical order
/// (RFC 4034 §6.1): label by label from the root, each label as lowercase
/// octets, a shorter label first when it is a prefix of the other.
pub fn canonical_cmp(a: &[u8], b: &[u8]) -> Ordering {
    let mut sa = [0u8; MAX_LABELS + 1];
    let mut sb = [0u8; MAX_LABELS + 1];
    let na = label_starts(a, &mut sa);
    let nb = label_starts(b, &mut sb);
    for i in 0..na.min(nb) {
        let la = label_at(a, sa[na - 1 - i] as usize);
        let lb = label_at(b, sb[nb - 1 - i] as usize);
        let ord = la
            .iter()
            .map(|x| lower(*x))
            .cmp(lb.iter().map(|x| lower(*x)));
        if ord != Ordering::Equal {
            return ord;
        }
    }
    na.cmp(&nb)
}

fn label_at(wire: &[u8], start: usize) -> &[u8] {
    let len = wire[start] as usize;
    &wire[start + 1..start + 1 + len]
}

/// Appends to `out` a key whose octet order is the canonical order of
/// names: labels from the root, lowercase, 0x00 escaped as 0x00 0x01 and
/// each label ended by 0x00 0x00. Sorting keys with `memcmp` is much
/// faster than calling [`canonical_cmp`] on names.
pub fn canonical_key(wire: &[u8], out: &mut Vec<u8>) {
    let mut starts = [0u8; MAX_LABELS + 1];
    let n = label_starts(wire, &mut starts);
    for i in (0..n).rev() {
        for &b in label_at(wire, starts[i] as usize) {
            if b == 0 {
                out.extend_from_slice(&[0, 1]);
            } else {
                out.push(lower(b));
            }
        }
        out.extend_from_slice(&[0, 0]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Name {
        crate::wire::name::parse_name_text(s, None).unwrap()
    }

    #[test]
    fn subdomain_checks_label_boundaries() {
        assert!(n("www.example.com.").is_subdomain_of(&n("example.com.")));
        assert!(n("WWW.Example.COM.").is_subdomain_of(&n("example.com.")));
        assert!(n("example.com.").is_subdomain_of(&n("example.com.")));
        assert!(!n("wwwexample.com.").is_subdomain_of(&n("example.com.")));
        assert!(!n("com.").is_subdomain_of(&n("example.com.")));
        assert!(n("a.b.").is_subdomain_of(&Name::root()));
    }

    #[test]
    fn parent_prepend_and_counts() {
        let w = n("www.example.com.");
        assert_eq!(w.label_count(), 3);
        assert_eq!(w.parent().unwrap(), n("example.com."));
        assert_eq!(Name::root().parent(), None);
        assert_eq!(
            n("example.com.").prepend(b"*").unwrap(),
            n("*.example.com.")
        );
        assert!(n("*.example.com.").is_wildcard());
        assert_eq!(
            w.labels().collect::<Vec<_>>(),
            vec![&b"www"[..], b"example", b"com"]
        );
    }

    /// The ordering example of RFC 4034 §6.1.
    #[test]
    fn canonical_order_matches_rfc4034_example() {
        let ordered = [
            "example.",
            "a.example.",
            "yljkjljk.a.example.",
            "Z.a.example.",
            "zABC.a.EXAMPLE.",
            "z.example.",
            "\\001.z.example.",
            "*.z.example.",
            "\\200.z.example.",
        ];
        let names: Vec<Name> = ordered.iter().map(|s| n(s)).collect();
        for w in names.windows(2) {
            assert_eq!(
                canonical_cmp(w[0].as_wire(), w[1].as_wire()),
                Ordering::Less,
                "{} < {}",
                w[0],
                w[1]
            );
            let (mut ka, mut kb) = (Vec::new(), Vec::new());
            canonical_key(w[0].as_wire(), &mut ka);
            canonical_key(w[1].as_wire(), &mut kb);
            assert!(ka < kb, "key order {} < {}", w[0], w[1]);
        }
        assert_eq!(
            canonical_cmp(n("Z.a.example.").as_wire(), n("z.A.example.").as_wire()),
            Ordering::Equal
        );
    }

    #[test]
    fn canonical_key_handles_zero_octets_and_prefixes() {
        let names = [n("a."), n("a\\000."), n("a\\000\\000."), n("ab.")];
        for w in names.windows(2) {
            let (mut ka, mut kb) = (Vec::new(), Vec::new());
            canonical_key(w[0].as_wire(), &mut ka);
            canonical_key(w[1].as_wire(), &mut kb);
            assert_eq!(
                ka.cmp(&kb),
                canonical_cmp(w[0].as_wire(), w[1].as_wire()),
                "{} vs {}",
                w[0],
                w[1]
            );
        }
    }
}
