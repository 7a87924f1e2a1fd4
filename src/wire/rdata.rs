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
    /// Zero or one character-string up to the end (the ISDN subaddress).
    OptCharString,
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
    /// A 48-bit EUI, `xx-xx-xx-xx-xx-xx` in text (RFC 7043 §3).
    Eui48,
    /// A 64-bit EUI (RFC 7043 §4).
    Eui64,
    /// A 64-bit ILNP value, four hex groups `xxxx:xxxx:xxxx:xxxx`
    /// (RFC 6742 §2.1, NID and L64).
    Ilnp64,
    /// The 16 octets of a version-0 LOC record (RFC 1876 §2), as the
    /// degrees, altitude and sizes of RFC 1876 §3 in text.
    Loc,
    /// An 8-bit DNSSEC algorithm number; text accepts mnemonics (CERT).
    Algorithm,
    /// A CERT type (RFC 4398 §2.1); text accepts mnemonics.
    CertType,
    /// The gateway or relay of IPSECKEY (RFC 4025 §2.5) and AMTRELAY
    /// (RFC 8777 §4.2): its form is the type in the RDATA's second octet
    /// (low seven bits): none (`.`), IPv4, IPv6 or an uncompressed name.
    Gateway,
    /// AMTRELAY's D bit and relay type in one octet, two tokens in text.
    AmtType,
    /// An IP protocol number (WKS); text accepts `tcp` and `udp`.
    Protocol,
    /// WKS port bitmap (RFC 1035 §3.4.2) up to the end, port numbers in text.
    WksBitmap,
    /// NXT's type bitmap (RFC 2535 §5.2, types below 128) up to the end.
    NxtBitmap,
    /// NSAP address (RFC 1706 §5) up to the end, `0x` and hex in text.
    Nsap,
    /// APL items (RFC 3123 §4) up to the end.
    Apl,
    /// HIP's HIT, public key and rendezvous servers (RFC 8005 §5) to the end.
    Hip,
    /// A6 prefix length, address suffix and prefix name (RFC 2874 §3.1).
    A6,
    /// ATM address with its format octet (ATM Forum AF-DANS-0152) to the end.
    Atma,
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
        | rtype::NSAP_PTR
        | rtype::DNAME => &[Name],
        rtype::SOA => &[Name, Name, U32, Ttl, Ttl, Ttl, Ttl],
        rtype::WKS => &[Ipv4, Protocol, WksBitmap],
        rtype::HINFO => &[CharString, CharString],
        rtype::MINFO | rtype::RP | rtype::TALINK => &[Name, Name],
        rtype::MX | rtype::AFSDB | rtype::KX | rtype::RT | rtype::LP => &[U16, Name],
        rtype::TXT | rtype::SPF | rtype::NINFO | rtype::AVC | rtype::RESINFO | rtype::WALLET => {
            &[CharStrings]
        }
        rtype::X25 => &[CharString],
        rtype::ISDN => &[CharString, OptCharString],
        rtype::NSAP => &[Nsap],
        rtype::PX => &[U16, Name, Name],
        rtype::GPOS => &[CharString, CharString, CharString],
        rtype::AAAA => &[Ipv6],
        rtype::LOC => &[Loc],
        rtype::NXT => &[Name, NxtBitmap],
        rtype::EID | rtype::NIMLOC => &[Hex],
        rtype::SRV => &[U16, U16, U16, Name],
        rtype::ATMA => &[Atma],
        rtype::NAPTR => &[U16, U16, CharString, CharString, CharString, Name],
        rtype::CERT => &[CertType, U16, Algorithm, Base64],
        rtype::A6 => &[A6],
        rtype::SINK => &[U8, U8, U8, Base64],
        rtype::APL => &[Apl],
        rtype::DS | rtype::CDS | rtype::TA | rtype::DLV => &[U16, U8, U8, Hex],
        rtype::SSHFP => &[U8, U8, Hex],
        rtype::IPSECKEY => &[U8, U8, U8, Gateway, Base64],
        rtype::RRSIG | rtype::SIG => &[Type, U8, U8, U32, Time, Time, U16, Name, Base64],
        rtype::NSEC => &[Name, TypeBitmap],
        rtype::DNSKEY | rtype::CDNSKEY | rtype::KEY | rtype::RKEY => &[U16, U8, U8, Base64],
        rtype::DHCID | rtype::OPENPGPKEY => &[Base64],
        rtype::NSEC3 => &[U8, U8, U16, Salt, Base32Hex, TypeBitmap],
        rtype::NSEC3PARAM => &[U8, U8, U16, Salt],
        rtype::TLSA | rtype::SMIMEA => &[U8, U8, U8, Hex],
        rtype::HIP => &[Hip],
        rtype::CSYNC => &[U32, U16, TypeBitmap],
        rtype::ZONEMD => &[U32, U8, U8, Hex],
        rtype::SVCB | rtype::HTTPS => &[U16, Name, SvcParams],
        rtype::NID | rtype::L64 => &[U16, Ilnp64],
        rtype::L32 => &[U16, Ipv4],
        rtype::EUI48 => &[Eui48],
        rtype::EUI64 => &[Eui64],
        rtype::URI => &[U16, U16, Text],
        rtype::CAA => &[U8, CaaTag, Text],
        rtype::DOA => &[U32, U32, U8, CharString, Base64],
        rtype::AMTRELAY => &[U8, AmtType, Gateway],
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
            rtype::RP
                | rtype::AFSDB
                | rtype::RT
                | rtype::SIG
                | rtype::PX
                | rtype::NXT
                | rtype::NAPTR
                | rtype::KX
                | rtype::SRV
                | rtype::DNAME
        )
}

/// Whether names in RDATA of `t` are lowercased in the canonical form
/// (RFC 4034 §6.2, as amended by RFC 6840 §5.1): the types a receiver
/// decompresses, A6 and RRSIG.
pub fn canonical_lowercases(t: u16) -> bool {
    accepts_compression(t) || t == rtype::RRSIG || t == rtype::A6
}

/// Octets a fixed-size field takes.
fn fixed_len(f: Field) -> Option<usize> {
    match f {
        U8 | Algorithm | AmtType | Protocol => Some(1),
        U16 | Type | CertType => Some(2),
        U32 | Ttl | Time | Ipv4 => Some(4),
        Eui48 => Some(6),
        Eui64 | Ilnp64 => Some(8),
        Ipv6 | Loc => Some(16),
        _ => None,
    }
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

/// The length of a run of character-strings that ends exactly at the
/// end of `data`, and how many there are.
fn char_strings(data: &[u8]) -> Option<usize> {
    let (mut p, mut n) = (0, 0);
    while p < data.len() {
        p += 1 + data[p] as usize;
        n += 1;
    }
    (p == data.len()).then_some(n)
}

/// The length of an uncompressed name at the start of `data`.
fn name_len(data: &[u8]) -> Option<usize> {
    match name::skip(data, 0) {
        Ok(n) if is_uncompressed(&data[..n]) => Some(n),
        _ => None,
    }
}

/// Checks the fixed fields whose values a presentation form constrains.
fn check_fixed(f: Field, b: &[u8]) -> bool {
    match f {
        Loc => loc_is_valid(b),
        AmtType => b[0] & 0x7f <= 3,
        _ => true,
    }
}

/// RFC 1876 §2: version 0, sizes as mantissa and exponent digits 0 to 9,
/// latitude within 90° and longitude within 180° of the equator and the
/// prime meridian (2^31 thousandths of an arc-second). A zero size has
/// only the form 0e0: 0e1 would print as 0 m and read back as 0e0.
fn loc_is_valid(b: &[u8]) -> bool {
    let digits_ok = |v: u8| v >> 4 <= 9 && v & 0x0f <= 9 && (v >> 4 != 0 || v == 0);
    let coord = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    let within = |v: u32, deg: u32| v.abs_diff(1 << 31) <= deg * 3_600_000;
    b[0] == 0
        && b[1..4].iter().all(|&v| digits_ok(v))
        && within(coord(4), 90)
        && within(coord(8), 180)
}

/// The length of field `f` at `data[at..]`, where `data` is the RDATA
/// from its first octet (uncompressed from `at` on), or `None` when the
/// octets there are not a valid `f` that its presentation form can show.
fn field_len(f: Field, data: &[u8], at: usize) -> Option<usize> {
    let rest = data.get(at..)?;
    if let Some(n) = fixed_len(f) {
        return rest.get(..n).filter(|b| check_fixed(f, b)).map(|_| n);
    }
    let whole = rest.len();
    let ok = |valid: bool| valid.then_some(whole);
    match f {
        Name => name_len(rest),
        Gateway => match data.get(1)? & 0x7f {
            0 => Some(0),
            1 => (whole >= 4).then_some(4),
            2 => (whole >= 16).then_some(16),
            3 => name_len(rest),
            _ => None,
        },
        CharStrings => ok(char_strings(rest).is_some_and(|n| n > 0)),
        OptCharString => ok(char_strings(rest).is_some_and(|n| n <= 1)),
        TypeBitmap => ok(check_type_bitmap(rest).is_ok()),
        SvcParams => ok(check_svc_params(rest).is_ok()),
        // RFC 2535 §5.2: types 1 to 127, no trailing zero octets.
        NxtBitmap => ok(rest.len() <= 16
            && rest.last().is_none_or(|&b| b != 0)
            && rest.first().is_none_or(|&b| b & 0x80 == 0)),
        WksBitmap => ok(rest.last().is_none_or(|&b| b != 0)),
        Nsap => ok(!rest.is_empty()),
        Apl => ok(apl_is_valid(rest)),
        Hip => ok(hip_is_valid(rest)),
        A6 => ok(a6_is_valid(rest)),
        Atma => ok(match rest.split_first() {
            Some((0, addr)) => !addr.is_empty(),
            Some((1, digits)) => !digits.is_empty() && digits.iter().all(u8::is_ascii_digit),
            _ => false,
        }),
        Base64 | Hex | Text => Some(whole),
        // Length-prefixed: CharString, Base32Hex, Salt, CaaTag.
        _ => {
            let n = *rest.first()? as usize;
            rest.get(1..1 + n)
                .filter(|b| is_presentable(f, b))
                .map(|_| 1 + n)
        }
    }
}

/// RFC 3123 §4: items of family 1 (IPv4, prefix up to 32) or 2 (IPv6, up
/// to 128), the address part without trailing zero octets (so that its
/// text form reads back to the same octets).
fn apl_is_valid(mut data: &[u8]) -> bool {
    while !data.is_empty() {
        let Some(&[f1, f2, prefix, nlen]) = data.get(..4) else {
            return false;
        };
        let (max_prefix, max_len) = match u16::from_be_bytes([f1, f2]) {
            1 => (32, 4),
            2 => (128, 16),
            _ => return false,
        };
        let len = (nlen & 0x7f) as usize;
        let Some(part) = data.get(4..4 + len) else {
            return false;
        };
        if prefix > max_prefix || len > max_len || part.last() == Some(&0) {
            return false;
        }
        data = &data[4 + len..];
    }
    true
}

/// RFC 8005 §5: HIT length, algorithm, public key length, the HIT and key
/// (neither empty, as their text forms cannot be), then names.
fn hip_is_valid(data: &[u8]) -> bool {
    let Some(&[hit_len, _alg, k1, k2]) = data.get(..4) else {
        return false;
    };
    let key_len = u16::from_be_bytes([k1, k2]) as usize;
    let mut p = 4 + hit_len as usize + key_len;
    if hit_len == 0 || key_len == 0 || p > data.len() {
        return false;
    }
    while p < data.len() {
        match name_len(&data[p..]) {
            Some(n) => p += n,
            None => return false,
        }
    }
    true
}

/// RFC 2874 §3.1: a prefix length up to 128, the suffix in the fewest
/// octets that hold 128 − length bits (the pad bits zero), and a prefix
/// name when the length is not 0.
fn a6_is_valid(data: &[u8]) -> bool {
    let Some((&plen, rest)) = data.split_first() else {
        return false;
    };
    if plen > 128 {
        return false;
    }
    let n = (128 - plen as usize).div_ceil(8);
    let Some(suffix) = rest.get(..n) else {
        return false;
    };
    let pad = plen % 8;
    if pad != 0 && suffix[0] >> (8 - pad) != 0 {
        return false;
    }
    let name = &rest[n..];
    if plen == 0 {
        name.is_empty()
    } else {
        name_len(name) == Some(name.len())
    }
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

/// The digest length a digest type fixes, where its RFC fixes one.
pub fn digest_len(t: u16, kind: u8) -> Option<usize> {
    match (t, kind) {
        // DS digest types (RFC 4034 §5.1.4, 4509, 6605); GOST (RFC 5933)
        // is left unchecked, as BIND leaves it.
        (rtype::DS | rtype::CDS | rtype::TA | rtype::DLV, 1) => Some(20),
        (rtype::DS | rtype::CDS | rtype::TA | rtype::DLV, 2) => Some(32),
        (rtype::DS | rtype::CDS | rtype::TA | rtype::DLV, 4) => Some(48),
        // SSHFP fingerprint types (RFC 4255 §3.1.2, 6594).
        (rtype::SSHFP, 1) => Some(20),
        (rtype::SSHFP, 2) => Some(32),
        // ZONEMD hash algorithms (RFC 8976 §5.3).
        (rtype::ZONEMD, 1) => Some(48),
        (rtype::ZONEMD, 2) => Some(64),
        _ => None,
    }
}

/// Checks what a type's RFC fixes beyond its layout, where BIND checks
/// it too: digest lengths of known DS, SSHFP and ZONEMD digest types,
/// and ZONEMD's minimum of 12 octets for the rest (RFC 8976 §2.2.4).
fn check_values(t: u16, rdata: &[u8]) -> Result<()> {
    let (kind_at, digest_at) = match t {
        rtype::DS | rtype::CDS | rtype::TA | rtype::DLV => (3, 4),
        rtype::SSHFP => (1, 2),
        rtype::ZONEMD => (5, 6),
        _ => return Ok(()),
    };
    let (Some(&kind), Some(digest)) = (rdata.get(kind_at), rdata.get(digest_at..)) else {
        return Err(WireError::BadRdata);
    };
    let ok = match digest_len(t, kind) {
        Some(n) => digest.len() == n,
        None => t != rtype::ZONEMD || digest.len() >= 12,
    };
    if ok { Ok(()) } else { Err(WireError::BadRdata) }
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
    let start = out.len();
    let decompress = accepts_compression(t);
    let mut p = pos;
    for &f in fields {
        if f == Name && decompress {
            // A name must lie inside this RDATA, apart from what pointers
            // point to earlier in the message.
            let mut nb = NameBuf::root();
            let after = nb.read(&msg[..end], p).map_err(|_| WireError::BadRdata)?;
            out.extend_from_slice(nb.as_wire());
            p = after;
        } else {
            let n = field_len(f, rdata, p - pos).ok_or(WireError::BadRdata)?;
            out.extend_from_slice(&msg[p..p + n]);
            p += n;
        }
    }
    if p != end {
        return Err(WireError::BadRdata);
    }
    check_values(t, &out[start..])
}

/// Checks uncompressed RDATA of type `t` (as stored in a zone).
pub fn check_rdata(t: u16, rdata: &[u8]) -> Result<()> {
    if layout(t).is_none() {
        return Ok(());
    }
    for f in Fields::new(t, rdata) {
        f?;
    }
    check_values(t, rdata)
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
        let Some(n) = field_len(f, self.data, self.pos) else {
            self.idx = self.fields.len();
            self.pos = self.data.len();
            return Some(Err(WireError::BadRdata));
        };
        let b = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Some(Ok((f, b)))
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
            Ok((A6, b)) => {
                // The prefix name follows the suffix octets.
                let n = 1 + (128 - b[0] as usize).div_ceil(8);
                out.extend_from_slice(&b[..n]);
                out.extend(b[n..].iter().map(|c| name::lower(*c)));
            }
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
