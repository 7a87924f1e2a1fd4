//! RDATA layouts: each known type as a list of fields, so that one table
//! drives wire validation and decompression (records from a primary),
//! name compression on output, and the presentation format.

use super::error::{Result, WireError};
use super::iana::rtype;
use super::name::{self, NameBuf};

/// One field of an RDATA layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    U8,
    U16,
    U32,
    /// A 32-bit duration; the presentation format accepts units (1h30m).
    Ttl,
    /// An RRSIG timestamp (RFC 4034 §3.2): YYYYMMDDHHmmSS in text.
    Time,
    /// A type number, shown as its mnemonic.
    Type,
    Ipv4,
    Ipv6,
    /// A domain name, uncompressed in storage.
    Name,
    /// A length-prefixed character-string (RFC 1035 §3.3).
    CharString,
    /// One or more character-strings up to the end (TXT).
    CharStrings,
    /// Octets up to the end, base64 in text.
    Base64,
    /// Octets up to the end, hex in text.
    Hex,
    /// A length-prefixed octet string, base32hex in text (NSEC3 next hash).
    Base32Hex,
    /// A length-prefixed octet string, hex or `-` in text (NSEC3 salt).
    Salt,
    /// NSEC-style type bitmap (RFC 4034 §4.1.2) up to the end.
    TypeBitmap,
    /// CAA tag: length-prefixed, letters and digits (RFC 8659 §4.1).
    CaaTag,
    /// Octets up to the end as one string (CAA value, URI target).
    Text,
    /// SVCB parameters (RFC 9460 §2.2) up to the end.
    SvcParams,
}

use Field::*;

/// The layout of `t`, or `None` for types handled as opaque octets.
pub fn layout(t: u16) -> Option<&'static [Field]> {
    Some(match t {
        rtype::A => &[Ipv4],
        rtype::NS
        | rtype::MD
        | rtype::MF
        | rtype::CNAME
        | rtype::MB
        | rtype::MG
        | rtype::MR
        | rtype::PTR
        | rtype::DNAME => &[Name],
        rtype::SOA => &[Name, Name, U32, Ttl, Ttl, Ttl, Ttl],
        rtype::HINFO => &[CharString, CharString],
        rtype::MINFO | rtype::RP => &[Name, Name],
        rtype::MX | rtype::AFSDB | rtype::KX => &[U16, Name],
        rtype::TXT | rtype::SPF => &[CharStrings],
        rtype::AAAA => &[Ipv6],
        rtype::SRV => &[U16, U16, U16, Name],
        rtype::NAPTR => &[U16, U16, CharString, CharString, CharString, Name],
        rtype::DS | rtype::CDS => &[U16, U8, U8, Hex],
        rtype::SSHFP => &[U8, U8, Hex],
        rtype::RRSIG => &[Type, U8, U8, U32, Time, Time, U16, Name, Base64],
        rtype::NSEC => &[Name, TypeBitmap],
        rtype::DNSKEY | rtype::CDNSKEY => &[U16, U8, U8, Base64],
        rtype::DHCID | rtype::OPENPGPKEY => &[Base64],
        rtype::NSEC3 => &[U8, U8, U16, Salt, Base32Hex, TypeBitmap],
        rtype::NSEC3PARAM => &[U8, U8, U16, Salt],
        rtype::TLSA | rtype::SMIMEA => &[U8, U8, U8, Hex],
        rtype::CSYNC => &[U32, U16, TypeBitmap],
        rtype::ZONEMD => &[U32, U8, U8, Hex],
        rtype::SVCB | rtype::HTTPS => &[U16, Name, SvcParams],
        rtype::URI => &[U16, U16, Text],
        rtype::CAA => &[U8, CaaTag, Text],
        _ => return None,
    })
}

/// Whether names in RDATA of `t` are compressed when sent: only the types
/// of RFC 1035 (RFC 3597 §4).
pub fn compresses_names(t: u16) -> bool {
    matches!(
        t,
        rtype::NS
            | rtype::MD
            | rtype::MF
            | rtype::CNAME
            | rtype::SOA
            | rtype::MB
            | rtype::MG
            | rtype::MR
            | rtype::PTR
            | rtype::MINFO
            | rtype::MX
    )
}

/// Whether compressed names are accepted in RDATA of `t` when received
/// (RFC 3597 §4 lists the types a receiver decompresses).
pub fn accepts_compression(t: u16) -> bool {
    compresses_names(t)
        || matches!(
            t,
            rtype::RP | rtype::AFSDB | rtype::NAPTR | rtype::KX | rtype::SRV | rtype::DNAME
        )
}

/// Whether names in RDATA of `t` are lowercased in the canonical form
/// (RFC 4034 §6.2, as amended by RFC 6840 §5.1): the types a receiver
/// decompresses, and RRSIG.
pub fn canonical_lowercases(t: u16) -> bool {
    accepts_compression(t) || t == rtype::RRSIG
}

/// Octets a fixed-size field takes.
fn fixed_len(f: Field) -> Option<usize> {
    match f {
        U8 => Some(1),
        U16 | Type => Some(2),
        U32 | Ttl | Time | Ipv4 => Some(4),
        Ipv6 => Some(16),
        _ => None,
    }
}

/// Whether the field takes every remaining octet.
fn takes_rest(f: Field) -> bool {
    matches!(
        f,
        CharStrings | Base64 | Hex | TypeBitmap | Text | SvcParams
    )
}

/// Whether the content of a length-prefixed field is one its
/// presentation form can show: a CAA tag is one or more letters and
/// digits (RFC 8659 §4.1), and an NSEC3 next hashed owner is 1 to 255
/// octets (RFC 5155 §3.1.6); an empty one would print as nothing.
fn is_presentable(f: Field, content: &[u8]) -> bool {
    match f {
        CaaTag => !content.is_empty() && content.iter().all(u8::is_ascii_alphanumeric),
        Base32Hex => !content.is_empty(),
        _ => true,
    }
}

/// Checks the content of a field that runs to the end of the RDATA.
fn check_rest(f: Field, data: &[u8]) -> Result<()> {
    match f {
        CharStrings => {
            let mut p = 0;
            if data.is_empty() {
                return Err(WireError::BadRdata);
            }
            while p < data.len() {
                p += 1 + data[p] as usize;
            }
            if p != data.len() {
                return Err(WireError::BadRdata);
            }
        }
        TypeBitmap => check_type_bitmap(data)?,
        SvcParams => check_svc_params(data)?,
        _ => {}
    }
    Ok(())
}

/// RFC 4034 §4.1.2: windows in increasing order, 1 to 32 octets each,
/// the last octet not zero ("trailing zero octets MUST be omitted", and
/// so are windows without types). Only the minimal form prints and reads
/// back to the same octets.
fn check_type_bitmap(data: &[u8]) -> Result<()> {
    let mut p = 0;
    let mut last: Option<u8> = None;
    while p < data.len() {
        let (win, len) = match data.get(p..p + 2) {
            Some(h) => (h[0], h[1] as usize),
            None => return Err(WireError::BadRdata),
        };
        if !(1..=32).contains(&len)
            || last.is_some_and(|l| win <= l)
            || data.get(p + 1 + len).is_none_or(|&end| end == 0)
        {
            return Err(WireError::BadRdata);
        }
        last = Some(win);
        p += 2 + len;
    }
    Ok(())
}

/// RFC 9460 §2.2: keys in strictly increasing order, each value inside.
fn check_svc_params(data: &[u8]) -> Result<()> {
    let mut p = 0;
    let mut last: Option<u16> = None;
    while p < data.len() {
        let h = data.get(p..p + 4).ok_or(WireError::BadRdata)?;
        let key = u16::from_be_bytes([h[0], h[1]]);
        let len = u16::from_be_bytes([h[2], h[3]]) as usize;
        if last.is_some_and(|l| key <= l) || p + 4 + len > data.len() {
            return Err(WireError::BadRdata);
        }
        last = Some(key);
        p += 4 + len;
    }
    Ok(())
}

/// Reads the RDATA of a record of type `t` at `msg[pos..pos + len]`,
/// checking every field, and appends it to `out` with compression
/// resolved (only where RFC 3597 §4 allows compression at all).
pub fn read_rdata(msg: &[u8], pos: usize, len: usize, t: u16, out: &mut Vec<u8>) -> Result<()> {
    let end = pos + len;
    let rdata = msg.get(pos..end).ok_or(WireError::Truncated)?;
    let Some(fields) = layout(t) else {
        out.extend_from_slice(rdata);
        return Ok(());
    };
    let decompress = accepts_compression(t);
    let mut p = pos;
    for &f in fields {
        if let Some(n) = fixed_len(f) {
            let b = msg
                .get(p..p + n)
                .filter(|_| p + n <= end)
                .ok_or(WireError::BadRdata)?;
            out.extend_from_slice(b);
            p += n;
        } else if f == Name {
            let mut nb = NameBuf::root();
            // A name must lie inside this RDATA, apart from what pointers
            // point to earlier in the message.
            let window = if decompress {
                &msg[..end]
            } else {
                &msg[pos..end]
            };
            let at = if decompress { p } else { p - pos };
            let after = nb.read(window, at).map_err(|_| WireError::BadRdata)?;
            if !decompress && !is_uncompressed(&window[at..after]) {
                return Err(WireError::BadRdata);
            }
            out.extend_from_slice(nb.as_wire());
            p = if decompress { after } else { after + pos };
        } else if takes_rest(f) {
            let rest = &msg[p..end];
            check_rest(f, rest)?;
            out.extend_from_slice(rest);
            p = end;
        } else {
            // Length-prefixed: CharString, Base32Hex, Salt, CaaTag.
            let n = *msg.get(p).filter(|_| p < end).ok_or(WireError::BadRdata)? as usize;
            let b = msg
                .get(p..p + 1 + n)
                .filter(|_| p + 1 + n <= end)
                .ok_or(WireError::BadRdata)?;
            if !is_presentable(f, &b[1..]) {
                return Err(WireError::BadRdata);
            }
            out.extend_from_slice(b);
            p += 1 + n;
        }
    }
    if p != end {
        return Err(WireError::BadRdata);
    }
    Ok(())
}

/// Checks uncompressed RDATA of type `t` (as stored in a zone).
pub fn check_rdata(t: u16, rdata: &[u8]) -> Result<()> {
    if layout(t).is_none() {
        return Ok(());
    }
    for f in Fields::new(t, rdata) {
        f?;
    }
    Ok(())
}

/// Splits uncompressed RDATA into its fields. For types without a layout
/// the whole RDATA is one `Hex` field.
pub struct Fields<'a> {
    fields: &'static [Field],
    data: &'a [u8],
    pos: usize,
    idx: usize,
}

const OPAQUE: &[Field] = &[Hex];

impl<'a> Fields<'a> {
    pub fn new(t: u16, data: &'a [u8]) -> Self {
        Fields {
            fields: layout(t).unwrap_or(OPAQUE),
            data,
            pos: 0,
            idx: 0,
        }
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<(Field, &'a [u8])>;
    fn next(&mut self) -> Option<Self::Item> {
        let Some(&f) = self.fields.get(self.idx) else {
            if self.pos != self.data.len() {
                self.pos = self.data.len();
                return Some(Err(WireError::BadRdata));
            }
            return None;
        };
        self.idx += 1;
        let rest = &self.data[self.pos..];
        let n = if let Some(n) = fixed_len(f) {
            n
        } else if f == Name {
            match name::skip(rest, 0) {
                // Stored names are uncompressed: a pointer is an error.
                Ok(n) if is_uncompressed(&rest[..n]) => n,
                _ => usize::MAX,
            }
        } else if takes_rest(f) {
            if check_rest(f, rest).is_err() {
                usize::MAX
            } else {
                rest.len()
            }
        } else {
            match rest.first() {
                Some(&l)
                    if rest
                        .get(1..1 + l as usize)
                        .is_none_or(|b| is_presentable(f, b)) =>
                {
                    1 + l as usize
                }
                _ => usize::MAX,
            }
        };
        if n > rest.len() {
            self.idx = self.fields.len();
            self.pos = self.data.len();
            return Some(Err(WireError::BadRdata));
        }
        self.pos += n;
        Some(Ok((f, &rest[..n])))
    }
}

/// Whether a validated name contains no compression pointer.
fn is_uncompressed(wire: &[u8]) -> bool {
    let mut p = 0;
    while let Some(&l) = wire.get(p) {
        if l == 0 {
            return p + 1 == wire.len();
        }
        if l & 0xc0 != 0 {
            return false;
        }
        p += 1 + l as usize;
    }
    false
}

/// The RDATA of `t` with the names that RFC 4034 §6.2 lowercases in
/// lowercase: the form in which two records are compared for equality.
pub fn canonical_form(t: u16, rdata: &[u8], out: &mut Vec<u8>) {
    out.clear();
    if !canonical_lowercases(t) {
        out.extend_from_slice(rdata);
        return;
    }
    for f in Fields::new(t, rdata) {
        match f {
            Ok((Name, b)) => out.extend(b.iter().map(|c| name::lower(*c))),
            Ok((_, b)) => out.extend_from_slice(b),
            Err(_) => {
                out.clear();
                out.extend_from_slice(rdata);
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decompresses_mx_and_checks_lengths() {
        // A header, "example." at 12, then MX rdata at 21: pref 10,
        // "mail" + pointer to 12.
        let msg = &[&[0u8; 12][..], b"\x07example\x00\x00\x0a\x04mail\xc0\x0c"].concat();
        let mut out = Vec::new();
        read_rdata(msg, 21, 9, rtype::MX, &mut out).unwrap();
        assert_eq!(out, b"\x00\x0a\x04mail\x07example\x00");
        out.clear();
        assert_eq!(
            read_rdata(msg, 21, 8, rtype::MX, &mut out),
            Err(WireError::BadRdata)
        );
    }

    #[test]
    fn refuses_compression_where_rfc3597_forbids_it() {
        // NSEC next-name as a pointer.
        let msg = &[&[0u8; 12][..], b"\x07example\x00\xc0\x0c\x00\x01\x40"].concat();
        let mut out = Vec::new();
        assert_eq!(
            read_rdata(msg, 21, 5, rtype::NSEC, &mut out),
            Err(WireError::BadRdata)
        );
        // SRV accepts it (RFC 3597 §4: receivers should decompress SRV).
        let msg = &[
            &[0u8; 12][..],
            b"\x07example\x00\x00\x01\x00\x02\x00\x03\xc0\x0c",
        ]
        .concat();
        read_rdata(msg, 21, 8, rtype::SRV, &mut out).unwrap();
        assert_eq!(out, b"\x00\x01\x00\x02\x00\x03\x07example\x00");
    }

    #[test]
    fn checks_fixed_sizes_and_strings() {
        let mut out = Vec::new();
        assert!(read_rdata(&[1, 2, 3], 0, 3, rtype::A, &mut out).is_err());
        assert!(read_rdata(&[1, 2, 3, 4, 5], 0, 5, rtype::A, &mut out).is_err());
        assert!(read_rdata(&[], 0, 0, rtype::TXT, &mut out).is_err());
        assert!(read_rdata(&[3, b'a'], 0, 2, rtype::TXT, &mut out).is_err());
        out.clear();
        read_rdata(&[1, b'a', 0], 0, 3, rtype::TXT, &mut out).unwrap();
        assert_eq!(out, [1, b'a', 0]);
        // Unknown types pass through.
        out.clear();
        read_rdata(&[9, 9], 0, 2, 65280, &mut out).unwrap();
        assert_eq!(out, [9, 9]);
    }

    #[test]
    fn checks_bitmaps_and_svc_params() {
        assert!(check_rdata(rtype::NSEC, b"\x00\x00\x01\x40").is_ok());
        assert!(check_rdata(rtype::NSEC, b"\x00\x00\x00").is_err());
        // Trailing zero octets, and a window without types (RFC 4034 §4.1.2).
        assert!(check_rdata(rtype::NSEC, b"\x00\x00\x02\x40\x00").is_err());
        assert!(check_rdata(rtype::NSEC, b"\x00\x00\x01\x40\x01\x01\x00").is_err());
        assert!(check_rdata(rtype::NSEC, b"\x00\x01\x00\x01\x40\x00\x01\x40").is_err());
        assert!(
            check_rdata(
                rtype::HTTPS,
                b"\x00\x01\x00\x00\x01\x00\x00\x00\x03\x00\x02\x01\xbb"
            )
            .is_ok()
        );
        assert!(
            check_rdata(
                rtype::HTTPS,
                b"\x00\x01\x00\x00\x03\x00\x00\x00\x01\x00\x00"
            )
            .is_err()
        );
        assert!(check_rdata(rtype::A, &[1, 2, 3, 4]).is_ok());
        // A CAA tag must be letters and digits, stored or on the wire.
        assert!(check_rdata(rtype::CAA, b"\x00\x05issue").is_ok());
        assert!(check_rdata(rtype::CAA, b"\x00\x00\x02\x01").is_err());
        assert!(check_rdata(rtype::CAA, b"\x00\x02i-x").is_err());
        // NSEC3 with an empty next hashed owner (RFC 5155 §3.1.6: 1 to 255).
        assert!(check_rdata(rtype::NSEC3, b"\x01\x00\x00\x00\x00\x01\xaa").is_ok());
        assert!(check_rdata(rtype::NSEC3, b"\x01\x00\x00\x00\x00\x00").is_err());
        assert!(check_rdata(rtype::MX, b"\x00\x01\x04mail\xc0\x00").is_err());
    }

    #[test]
    fn canonical_form_lowercases_listed_types_only() {
        let mut out = Vec::new();
        canonical_form(rtype::MX, b"\x00\x01\x04MAIL\x00", &mut out);
        assert_eq!(out, b"\x00\x01\x04mail\x00");
        canonical_form(rtype::TXT, b"\x04MAIL", &mut out);
        assert_eq!(out, b"\x04MAIL");
    }
}
