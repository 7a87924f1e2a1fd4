//! RDATA in presentation format: parsed from zone-file tokens and printed
//! back, field by field, from the layouts in [`crate::wire::rdata`].

use core::fmt::Write;
use std::net::{Ipv4Addr, Ipv6Addr};

use data_encoding::{BASE32HEX_NOPAD, BASE64, HEXUPPER, HEXUPPER_PERMISSIVE};

use super::lexer::Token;
use crate::wire::iana::rtype;
use crate::wire::name::{Name, fmt_name, parse_name_into, unescape};
use crate::wire::rdata::{Field, Fields, layout};

/// A reason RDATA text could not be read; the reader adds file and line.
pub type RdataError = String;

/// Parses the RDATA tokens of a record of type `t` into wire form.
/// Handles the generic `\# len hex` form (RFC 3597 §5) for every type.
pub fn parse_rdata(
    t: u16,
    tokens: &[Token<'_>],
    origin: &Name,
    out: &mut Vec<u8>,
) -> Result<(), RdataError> {
    out.clear();
    if let Some(first) = tokens.first()
        && !first.quoted
        && first.text == b"\\#"
    {
        parse_generic(&tokens[1..], out)?;
        return crate::wire::rdata::check_rdata(t, out)
            .map_err(|_| format!("generic RDATA is not valid {}", rtype::Display(t)));
    }
    let fields = layout(t).ok_or_else(|| {
        format!(
            "type {} has no known text format; use the generic form \\# length hex",
            rtype::Display(t)
        )
    })?;
    let mut rest = tokens;
    for &f in fields {
        rest = parse_field(f, rest, origin, out)?;
    }
    if let Some(extra) = rest.first() {
        return Err(format!(
            "unexpected '{}' after the RDATA of {}",
            String::from_utf8_lossy(extra.text),
            rtype::Display(t)
        ));
    }
    if out.len() > u16::MAX as usize {
        return Err("RDATA longer than 65535 octets".into());
    }
    check_digest(t, out)
}

/// The digest lengths that RFCs fix (as `check_rdata` holds them), said
/// in words.
fn check_digest(t: u16, rdata: &[u8]) -> Result<(), RdataError> {
    if crate::wire::rdata::check_rdata(t, rdata).is_ok() {
        return Ok(());
    }
    let (kind_at, digest_at) = match t {
        rtype::SSHFP => (1, 2),
        rtype::ZONEMD => (5, 6),
        _ => (3, 4),
    };
    let kind = rdata.get(kind_at).copied().unwrap_or(0);
    let got = rdata.len().saturating_sub(digest_at);
    Err(match crate::wire::rdata::digest_len(t, kind) {
        Some(n) => format!("digest type {kind} takes {n} octets, not {got}"),
        None => format!("a digest of {got} octets is too short (at least 12)"),
    })
}

fn parse_generic(tokens: &[Token<'_>], out: &mut Vec<u8>) -> Result<(), RdataError> {
    let (len_tok, hex) = tokens.split_first().ok_or("\\# needs a length")?;
    let len: usize = text(len_tok)?
        .parse()
        .map_err(|_| "\\# length is not a number".to_string())?;
    if len > u16::MAX as usize {
        return Err("\\# length over 65535".into());
    }
    decode_hex(hex, out)?;
    if out.len() != len {
        return Err(format!(
            "\\# length {len} does not match {} octets of data",
            out.len()
        ));
    }
    Ok(())
}

fn text<'t>(tok: &Token<'t>) -> Result<&'t str, RdataError> {
    core::str::from_utf8(tok.text).map_err(|_| "token is not valid text".to_string())
}

fn take<'t, 'a>(
    tokens: &'t [Token<'a>],
    what: &str,
) -> Result<(&'t Token<'a>, &'t [Token<'a>]), RdataError> {
    tokens
        .split_first()
        .ok_or_else(|| format!("missing {what}"))
}

fn parse_field<'t, 'a>(
    f: Field,
    tokens: &'t [Token<'a>],
    origin: &Name,
    out: &mut Vec<u8>,
) -> Result<&'t [Token<'a>], RdataError> {
    match f {
        Field::U8 => {
            let (t, rest) = take(tokens, "an 8-bit number")?;
            out.push(parse_int(t, u8::MAX as u64)? as u8);
            Ok(rest)
        }
        Field::U16 => {
            let (t, rest) = take(tokens, "a 16-bit number")?;
            out.extend_from_slice(&(parse_int(t, u16::MAX as u64)? as u16).to_be_bytes());
            Ok(rest)
        }
        Field::U32 => {
            let (t, rest) = take(tokens, "a 32-bit number")?;
            out.extend_from_slice(&(parse_int(t, u32::MAX as u64)? as u32).to_be_bytes());
            Ok(rest)
        }
        Field::Ttl => {
            let (t, rest) = take(tokens, "a time value")?;
            out.extend_from_slice(&parse_ttl(text(t)?)?.to_be_bytes());
            Ok(rest)
        }
        Field::Time => {
            let (t, rest) = take(tokens, "a timestamp")?;
            out.extend_from_slice(&parse_time(text(t)?)?.to_be_bytes());
            Ok(rest)
        }
        Field::Type => {
            let (t, rest) = take(tokens, "a type")?;
            let v = rtype::from_name(text(t)?)
                .ok_or_else(|| format!("unknown type '{}'", text(t).unwrap_or("?")))?;
            out.extend_from_slice(&v.to_be_bytes());
            Ok(rest)
        }
        Field::Ipv4 => {
            let (t, rest) = take(tokens, "an IPv4 address")?;
            let a = parse_ipv4(t.text)
                .ok_or_else(|| format!("bad IPv4 address '{}'", String::from_utf8_lossy(t.text)))?;
            out.extend_from_slice(&a);
            Ok(rest)
        }
        Field::Ipv6 => {
            let (t, rest) = take(tokens, "an IPv6 address")?;
            let a: Ipv6Addr = text(t)?
                .parse()
                .map_err(|_| format!("bad IPv6 address '{}'", text(t).unwrap_or("?")))?;
            out.extend_from_slice(&a.octets());
            Ok(rest)
        }
        Field::Name => {
            let (t, rest) = take(tokens, "a domain name")?;
            if t.text == b"@" {
                out.extend_from_slice(origin.as_wire());
            } else {
                parse_name_into(t.text, Some(origin.as_wire()), out)
                    .map_err(|e| format!("bad name '{}': {e}", String::from_utf8_lossy(t.text)))?;
            }
            Ok(rest)
        }
        Field::CharString => {
            let (t, rest) = take(tokens, "a character-string")?;
            push_char_string(t, out)?;
            Ok(rest)
        }
        Field::CharStrings => {
            if tokens.is_empty() {
                return Err("missing text".into());
            }
            for t in tokens {
                push_char_string(t, out)?;
            }
            Ok(&[])
        }
        Field::Base64 if matches!(tokens, [t] if t.text == b"-" && !t.quoted) => {
            // An empty DOA data field is written '-'.
            Ok(&[])
        }
        Field::Base64 => {
            let s: String = tokens.iter().map(text).collect::<Result<_, _>>()?;
            let v = BASE64
                .decode(s.as_bytes())
                .map_err(|_| "bad base64 data".to_string())?;
            out.extend_from_slice(&v);
            Ok(&[])
        }
        Field::Hex => {
            decode_hex(tokens, out)?;
            Ok(&[])
        }
        Field::Base32Hex => {
            let (t, rest) = take(tokens, "a base32hex string")?;
            let v = BASE32HEX_NOPAD
                .decode(text(t)?.to_ascii_uppercase().as_bytes())
                .map_err(|_| "bad base32hex data".to_string())?;
            if v.is_empty() {
                // RFC 5155 §3.1.6: the next hashed owner is 1 to 255 octets.
                return Err("empty next hashed owner name".into());
            }
            push_len_prefixed(&v, out)?;
            Ok(rest)
        }
        Field::Salt => {
            let (t, rest) = take(tokens, "a salt")?;
            if t.text == b"-" {
                out.push(0);
            } else {
                let v = HEXUPPER_PERMISSIVE
                    .decode(t.text)
                    .map_err(|_| "bad hex salt".to_string())?;
                push_len_prefixed(&v, out)?;
            }
            Ok(rest)
        }
        Field::TypeBitmap => {
            let mut types = Vec::with_capacity(tokens.len());
            for t in tokens {
                let s = text(t)?;
                types.push(
                    rtype::from_name(s)
                        .ok_or_else(|| format!("unknown type '{s}' in type list"))?,
                );
            }
            encode_type_bitmap(&mut types, out);
            Ok(&[])
        }
        Field::CaaTag => {
            let (t, rest) = take(tokens, "a CAA tag")?;
            if t.text.is_empty() || !t.text.iter().all(u8::is_ascii_alphanumeric) {
                return Err("CAA tag must be letters and digits".into());
            }
            push_len_prefixed(t.text, out)?;
            Ok(rest)
        }
        Field::Text => {
            let (t, rest) = take(tokens, "a string")?;
            out.extend_from_slice(&unescape_string(t.text)?);
            Ok(rest)
        }
        Field::SvcParams => {
            super::svcb::parse_svc_params(tokens, out)?;
            Ok(&[])
        }
        Field::OptCharString => {
            match tokens {
                [] => {}
                [t] => push_char_string(t, out)?,
                _ => return Err("at most one subaddress".into()),
            }
            Ok(&[])
        }
        Field::Eui48 | Field::Eui64 => {
            let n = if f == Field::Eui48 { 6 } else { 8 };
            let (t, rest) = take(tokens, "an EUI address")?;
            out.extend_from_slice(&parse_groups(t.text, b'-', 2, n).ok_or_else(|| {
                format!(
                    "bad EUI address '{}': {n} hex pairs joined by '-'",
                    String::from_utf8_lossy(t.text)
                )
            })?);
            Ok(rest)
        }
        Field::Ilnp64 => {
            let (t, rest) = take(tokens, "a 64-bit locator or node id")?;
            let groups = parse_groups(t.text, b':', 4, 4).ok_or_else(|| {
                format!(
                    "bad 64-bit value '{}': four hex groups joined by ':'",
                    String::from_utf8_lossy(t.text)
                )
            })?;
            out.extend_from_slice(&groups);
            Ok(rest)
        }
        Field::Loc => {
            super::loc::parse_loc(tokens, out)?;
            Ok(&[])
        }
        Field::Algorithm => {
            let (t, rest) = take(tokens, "an algorithm")?;
            out.push(mnemonic_or_number(t, SECALG_NAMES, u8::MAX)?);
            Ok(rest)
        }
        Field::CertType => {
            let (t, rest) = take(tokens, "a certificate type")?;
            let v: u16 = mnemonic_or_number(t, CERT_NAMES, u16::MAX)?;
            out.extend_from_slice(&v.to_be_bytes());
            Ok(rest)
        }
        Field::Gateway => {
            // The gateway type was the RDATA's second octet (RFC 4025 §2.3,
            // RFC 8777 §4.2.3), already written.
            let (t, rest) = take(tokens, "a gateway")?;
            match out.get(1).map(|b| b & 0x7f) {
                Some(0) if t.text == b"." => {}
                Some(0) => return Err("gateway type 0 takes '.' as its gateway".into()),
                Some(1) => {
                    parse_field(Field::Ipv4, core::slice::from_ref(t), origin, out)?;
                }
                Some(2) => {
                    parse_field(Field::Ipv6, core::slice::from_ref(t), origin, out)?;
                }
                Some(3) => {
                    parse_field(Field::Name, core::slice::from_ref(t), origin, out)?;
                }
                _ => return Err("gateway type must be 0, 1, 2 or 3".into()),
            }
            Ok(rest)
        }
        Field::AmtType => {
            let (d, rest) = take(tokens, "the D bit")?;
            let (t, rest) = take(rest, "a relay type")?;
            let d = parse_int(d, 1)? as u8;
            let t = parse_int(t, 3)? as u8;
            out.push(d << 7 | t);
            Ok(rest)
        }
        Field::Protocol => {
            let (t, rest) = take(tokens, "a protocol")?;
            out.push(match text(t)?.to_ascii_lowercase().as_str() {
                "tcp" => 6,
                "udp" => 17,
                _ => parse_int(t, u8::MAX as u64)? as u8,
            });
            Ok(rest)
        }
        Field::WksBitmap => {
            let mut bits = Vec::new();
            for t in tokens {
                let port = parse_int(t, u16::MAX as u64)? as usize;
                if bits.len() <= port / 8 {
                    bits.resize(port / 8 + 1, 0);
                }
                bits[port / 8] |= 0x80 >> (port % 8);
            }
            out.extend_from_slice(&bits);
            Ok(&[])
        }
        Field::NxtBitmap => {
            let mut bits = Vec::new();
            for t in tokens {
                let s = text(t)?;
                let v = rtype::from_name(s)
                    .filter(|v| (1..128).contains(v))
                    .ok_or_else(|| format!("'{s}' is not a type from 1 to 127"))?
                    as usize;
                if bits.len() <= v / 8 {
                    bits.resize(v / 8 + 1, 0);
                }
                bits[v / 8] |= 0x80 >> (v % 8);
            }
            out.extend_from_slice(&bits);
            Ok(&[])
        }
        Field::Nsap => {
            let (t, rest) = take(tokens, "an NSAP address")?;
            let hex = t
                .text
                .strip_prefix(b"0x")
                .or_else(|| t.text.strip_prefix(b"0X"))
                .ok_or("an NSAP address starts with 0x")?;
            let digits: Vec<u8> = hex.iter().copied().filter(|&b| b != b'.').collect();
            let v = HEXUPPER_PERMISSIVE
                .decode(&digits)
                .map_err(|_| "bad hex in NSAP address".to_string())?;
            if v.is_empty() {
                return Err("empty NSAP address".into());
            }
            out.extend_from_slice(&v);
            Ok(rest)
        }
        Field::Apl => {
            for t in tokens {
                parse_apl_item(text(t)?, out)?;
            }
            Ok(&[])
        }
        Field::Hip => {
            let (alg, rest) = take(tokens, "a HIP algorithm")?;
            let (hit, rest) = take(rest, "a HIT")?;
            let (key, rest) = take(rest, "a public key")?;
            let hit = HEXUPPER_PERMISSIVE
                .decode(hit.text)
                .map_err(|_| "bad hex HIT".to_string())?;
            let key = BASE64
                .decode(key.text)
                .map_err(|_| "bad base64 public key".to_string())?;
            let hit_len = u8::try_from(hit.len())
                .ok()
                .filter(|&n| n > 0)
                .ok_or("a HIT is 1 to 255 octets")?;
            let key_len = u16::try_from(key.len())
                .ok()
                .filter(|&n| n > 0)
                .ok_or("a HIP public key is 1 to 65535 octets")?;
            out.push(hit_len);
            out.push(parse_int(alg, u8::MAX as u64)? as u8);
            out.extend_from_slice(&key_len.to_be_bytes());
            out.extend_from_slice(&hit);
            out.extend_from_slice(&key);
            for t in rest {
                parse_field(Field::Name, core::slice::from_ref(t), origin, out)?;
            }
            Ok(&[])
        }
        Field::A6 => {
            let (plen, mut rest) = take(tokens, "a prefix length")?;
            let plen = parse_int(plen, 128)? as u8;
            out.push(plen);
            let n = (128 - plen as usize).div_ceil(8);
            if n > 0 {
                let (t, more) = take(rest, "an address suffix")?;
                rest = more;
                let a: Ipv6Addr = text(t)?
                    .parse()
                    .map_err(|_| format!("bad IPv6 address suffix '{}'", text(t).unwrap_or("?")))?;
                let suffix = &a.octets()[16 - n..];
                let pad = plen % 8;
                if pad != 0 && suffix[0] >> (8 - pad) != 0 {
                    return Err("the address suffix has bits inside the prefix".into());
                }
                out.extend_from_slice(suffix);
            }
            if plen > 0 {
                let (t, more) = take(rest, "a prefix name")?;
                rest = more;
                parse_field(Field::Name, core::slice::from_ref(t), origin, out)?;
            }
            Ok(rest)
        }
        Field::Atma => {
            let (t, rest) = take(tokens, "an ATM address")?;
            if let Some(digits) = t.text.strip_prefix(b"+") {
                // E.164 (format 1): digits, dots allowed as separators.
                out.push(1);
                let digits: Vec<u8> = digits.iter().copied().filter(|&b| b != b'.').collect();
                if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
                    return Err("an E.164 ATM address is '+' and digits".into());
                }
                out.extend_from_slice(&digits);
            } else {
                // AESA (format 0): hex, dots allowed as separators.
                out.push(0);
                let digits: Vec<u8> = t.text.iter().copied().filter(|&b| b != b'.').collect();
                let v = HEXUPPER_PERMISSIVE
                    .decode(&digits)
                    .map_err(|_| "bad hex ATM address".to_string())?;
                if v.is_empty() {
                    return Err("empty ATM address".into());
                }
                out.extend_from_slice(&v);
            }
            Ok(rest)
        }
    }
}

/// DNSSEC algorithm mnemonics (RFC 4034 Appendix A.1 and later), read in
/// CERT records as BIND and Knot do.
const SECALG_NAMES: &[(u8, &str)] = &[
    (1, "RSAMD5"),
    (2, "DH"),
    (3, "DSA"),
    (5, "RSASHA1"),
    (6, "DSA-NSEC3-SHA1"),
    (7, "RSASHA1-NSEC3-SHA1"),
    (8, "RSASHA256"),
    (10, "RSASHA512"),
    (12, "ECC-GOST"),
    (13, "ECDSAP256SHA256"),
    (14, "ECDSAP384SHA384"),
    (15, "ED25519"),
    (16, "ED448"),
    (252, "INDIRECT"),
    (253, "PRIVATEDNS"),
    (254, "PRIVATEOID"),
];

/// A value given by its mnemonic in `names` (any case) or as a number up
/// to `max`.
fn mnemonic_or_number<T: Copy + TryFrom<u64> + Into<u64>>(
    t: &Token<'_>,
    names: &[(T, &str)],
    max: T,
) -> Result<T, RdataError> {
    let name = text(t)?;
    if let Some(&(v, _)) = names.iter().find(|(_, n)| n.eq_ignore_ascii_case(name)) {
        return Ok(v);
    }
    let v = parse_int(t, max.into())?;
    T::try_from(v).map_err(|_| format!("{v} is out of range"))
}

/// CERT type mnemonics (RFC 4398 §2.1).
const CERT_NAMES: &[(u16, &str)] = &[
    (1, "PKIX"),
    (2, "SPKI"),
    (3, "PGP"),
    (4, "IPKIX"),
    (5, "ISPKI"),
    (6, "IPGP"),
    (7, "ACPKIX"),
    (8, "IACPKIX"),
    (253, "URI"),
    (254, "OID"),
];

/// `n` groups of `width` hex digits (exactly, for EUIs; 1 to `width` for
/// ILNP values, as RFC 6742 §2.1 writes them) joined by `sep`, as
/// `n * width / 2` octets.
fn parse_groups(t: &[u8], sep: u8, width: usize, n: usize) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(n * width / 2);
    let mut parts = t.split(|&b| b == sep);
    for _ in 0..n {
        let g = parts.next()?;
        let exact = sep == b'-';
        if g.is_empty() || g.len() > width || (exact && g.len() != width) {
            return None;
        }
        let v = u32::from_str_radix(core::str::from_utf8(g).ok()?, 16).ok()?;
        out.extend_from_slice(&v.to_be_bytes()[4 - width / 2..]);
    }
    parts.next().is_none().then_some(out)
}

/// One APL item (RFC 3123 §5): `[!]afi:address/prefix`.
fn parse_apl_item(s: &str, out: &mut Vec<u8>) -> Result<(), RdataError> {
    let bad = || format!("bad APL item '{s}': [!]family:address/prefix");
    let (negate, s2) = match s.strip_prefix('!') {
        Some(r) => (true, r),
        None => (false, s),
    };
    let (afi, rest) = s2.split_once(':').ok_or_else(bad)?;
    let (addr, prefix) = rest.rsplit_once('/').ok_or_else(bad)?;
    let prefix: u8 = prefix.parse().map_err(|_| bad())?;
    let octets: Vec<u8> = match afi {
        "1" if prefix <= 32 => addr
            .parse::<Ipv4Addr>()
            .map_err(|_| bad())?
            .octets()
            .to_vec(),
        "2" if prefix <= 128 => addr
            .parse::<Ipv6Addr>()
            .map_err(|_| bad())?
            .octets()
            .to_vec(),
        _ => return Err(bad()),
    };
    // RFC 3123 §4: trailing zero octets of the address are not sent.
    let len = octets.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    out.extend_from_slice(&(if afi == "1" { 1u16 } else { 2 }).to_be_bytes());
    out.push(prefix);
    out.push(len as u8 | if negate { 0x80 } else { 0 });
    out.extend_from_slice(&octets[..len]);
    Ok(())
}

/// A dotted-quad IPv4 address: four decimal numbers up to 255, without
/// leading zeros (as `Ipv4Addr` reads them, minus the UTF-8 detour).
fn parse_ipv4(t: &[u8]) -> Option<[u8; 4]> {
    let mut out = [0u8; 4];
    let mut parts = t.split(|&b| b == b'.');
    for o in &mut out {
        let p = parts.next()?;
        if p.is_empty()
            || p.len() > 3
            || (p.len() > 1 && p[0] == b'0')
            || !p.iter().all(u8::is_ascii_digit)
        {
            return None;
        }
        let v = p.iter().fold(0u32, |a, d| a * 10 + (d - b'0') as u32);
        *o = u8::try_from(v).ok()?;
    }
    parts.next().is_none().then_some(out)
}

fn parse_int(t: &Token<'_>, max: u64) -> Result<u64, RdataError> {
    let s = text(t)?;
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("'{s}' is not a number"));
    }
    match s.parse::<u64>() {
        Ok(v) if v <= max => Ok(v),
        _ => Err(format!("{s} is larger than {max}")),
    }
}

/// A TTL or SOA timer: seconds, or units as in `1w2d3h4m5s` (BIND and
/// Knot accept them).
pub fn parse_ttl(s: &str) -> Result<u32, RdataError> {
    if s.is_empty() {
        return Err("empty time value".into());
    }
    if s.bytes().all(|b| b.is_ascii_digit()) {
        return s
            .parse::<u32>()
            .map_err(|_| format!("time value {s} is out of range"));
    }
    let mut total: u64 = 0;
    let mut num: Option<u64> = None;
    for b in s.bytes() {
        if b.is_ascii_digit() {
            num = Some(num.unwrap_or(0) * 10 + (b - b'0') as u64);
            if num.unwrap_or(0) > u32::MAX as u64 {
                return Err(format!("time value {s} is out of range"));
            }
            continue;
        }
        let unit = match b.to_ascii_lowercase() {
            b's' => 1,
            b'm' => 60,
            b'h' => 3600,
            b'd' => 86400,
            b'w' => 604800,
            _ => return Err(format!("bad time value '{s}'")),
        };
        let n = num.take().ok_or_else(|| format!("bad time value '{s}'"))?;
        total += n * unit;
    }
    if num.is_some() {
        return Err(format!("bad time value '{s}': number without unit"));
    }
    u32::try_from(total).map_err(|_| format!("time value {s} is out of range"))
}

/// An RRSIG timestamp: `YYYYMMDDHHmmSS` in UTC, or seconds (RFC 4034 §3.2).
fn parse_time(s: &str) -> Result<u32, RdataError> {
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("bad timestamp '{s}'"));
    }
    if s.len() != 14 {
        return s.parse::<u32>().map_err(|_| format!("bad timestamp '{s}'"));
    }
    let n = |a: usize, b: usize| s[a..b].parse::<i64>().unwrap_or(0);
    let (y, mo, d, h, mi, se) = (n(0, 4), n(4, 6), n(6, 8), n(8, 10), n(10, 12), n(12, 14));
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return Err(format!("bad timestamp '{s}'"));
    }
    let secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
    // Serial arithmetic on timestamps (RFC 4034 §3.1.5): keep 32 bits.
    Ok(secs.rem_euclid(1 << 32) as u32)
}

/// Days from 1970-01-01 to a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// The date of a day count from 1970-01-01.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + if m <= 2 { 1 } else { 0 }, m, d)
}

fn push_len_prefixed(v: &[u8], out: &mut Vec<u8>) -> Result<(), RdataError> {
    let n = u8::try_from(v.len()).map_err(|_| "string longer than 255 octets".to_string())?;
    out.push(n);
    out.extend_from_slice(v);
    Ok(())
}

fn push_char_string(t: &Token<'_>, out: &mut Vec<u8>) -> Result<(), RdataError> {
    let v = unescape_string(t.text)?;
    push_len_prefixed(&v, out).map_err(|_| "character-string longer than 255 octets".into())
}

/// Resolves `\X` and `\DDD` escapes of a string token.
pub fn unescape_string(raw: &[u8]) -> Result<Vec<u8>, RdataError> {
    let mut v = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'\\' {
            let (b, used) =
                unescape(&raw[i + 1..]).map_err(|_| "bad escape sequence".to_string())?;
            v.push(b);
            i += 1 + used;
        } else {
            v.push(raw[i]);
            i += 1;
        }
    }
    Ok(v)
}

fn decode_hex(tokens: &[Token<'_>], out: &mut Vec<u8>) -> Result<(), RdataError> {
    let mut joined = Vec::new();
    for t in tokens {
        joined.extend_from_slice(t.text);
    }
    let v = HEXUPPER_PERMISSIVE
        .decode(&joined)
        .map_err(|_| "bad hex data".to_string())?;
    out.extend_from_slice(&v);
    Ok(())
}

/// Encodes a set of types as an RFC 4034 §4.1.2 bitmap.
pub fn encode_type_bitmap(types: &mut [u16], out: &mut Vec<u8>) {
    types.sort_unstable();
    let mut i = 0;
    while i < types.len() {
        let window = (types[i] >> 8) as u8;
        let mut bits = [0u8; 32];
        let mut len = 0;
        while i < types.len() && (types[i] >> 8) as u8 == window {
            let low = (types[i] & 0xff) as usize;
            bits[low / 8] |= 0x80 >> (low % 8);
            len = low / 8 + 1;
            i += 1;
        }
        out.push(window);
        out.push(len as u8);
        out.extend_from_slice(&bits[..len]);
    }
}

/// The types in an RFC 4034 §4.1.2 bitmap (assumed valid).
pub fn decode_type_bitmap(data: &[u8]) -> Vec<u16> {
    let mut types = Vec::new();
    let mut p = 0;
    while p + 2 <= data.len() {
        let window = data[p] as u16;
        let len = data[p + 1] as usize;
        let bits = data.get(p + 2..p + 2 + len).unwrap_or(&[]);
        for (i, byte) in bits.iter().enumerate() {
            for bit in 0..8 {
                if byte & (0x80 >> bit) != 0 {
                    types.push((window << 8) | (i * 8 + bit) as u16);
                }
            }
        }
        p += 2 + len;
    }
    types
}

/// Writes a string as a quoted character-string, escaping `"` and `\` and
/// non-printable octets.
pub fn fmt_quoted(data: &[u8], f: &mut impl Write) -> core::fmt::Result {
    f.write_char('"')?;
    for &b in data {
        match b {
            b'"' | b'\\' => {
                f.write_char('\\')?;
                f.write_char(b as char)?;
            }
            0x20..=0x7e => f.write_char(b as char)?,
            _ => write!(f, "\\{b:03}")?,
        }
    }
    f.write_char('"')
}

/// Writes RDATA of type `t` in presentation format; RDATA that does not
/// match its layout, and types without one, use the generic form.
pub fn fmt_rdata(t: u16, rdata: &[u8], f: &mut impl Write) -> core::fmt::Result {
    if layout(t).is_none() || crate::wire::rdata::check_rdata(t, rdata).is_err() {
        return fmt_generic(rdata, f);
    }
    let mut first = true;
    for field in Fields::new(t, rdata) {
        let Ok((kind, b)) = field else {
            return Ok(());
        };
        // An empty DOA data field is written '-', as BIND writes it.
        let dash = b.is_empty() && kind == Field::Base64 && t == rtype::DOA;
        if b.is_empty() && kind != Field::Text && kind != Field::Gateway && !dash {
            // An empty trailing field (no SvcParams, no types, no digest)
            // prints as nothing, and reads back as empty. An empty CAA
            // value must still print, as "" (RFC 8659 §4.1.1).
            continue;
        }
        if !first {
            f.write_char(' ')?;
        }
        first = false;
        if dash {
            f.write_char('-')?;
        } else if kind == Field::Gateway {
            // Its form is the gateway type, the RDATA's second octet.
            match rdata[1] & 0x7f {
                0 => f.write_char('.')?,
                1 => fmt_field(Field::Ipv4, b, f)?,
                2 => fmt_field(Field::Ipv6, b, f)?,
                _ => fmt_name(b, f)?,
            }
        } else {
            fmt_field(kind, b, f)?;
        }
    }
    Ok(())
}

fn fmt_generic(rdata: &[u8], f: &mut impl Write) -> core::fmt::Result {
    write!(f, "\\# {}", rdata.len())?;
    if !rdata.is_empty() {
        write!(f, " {}", HEXUPPER.encode(rdata))?;
    }
    Ok(())
}

fn be(b: &[u8]) -> u64 {
    b.iter().fold(0u64, |a, &x| (a << 8) | x as u64)
}

fn fmt_field(kind: Field, b: &[u8], f: &mut impl Write) -> core::fmt::Result {
    match kind {
        Field::U8 | Field::U16 | Field::U32 | Field::Ttl => write!(f, "{}", be(b)),
        Field::Time => {
            let secs = be(b) as i64;
            let (y, m, d) = civil_from_days(secs.div_euclid(86400));
            let r = secs.rem_euclid(86400);
            write!(
                f,
                "{y:04}{m:02}{d:02}{:02}{:02}{:02}",
                r / 3600,
                r % 3600 / 60,
                r % 60
            )
        }
        Field::Type => rtype::fmt_into(be(b) as u16, f),
        Field::Ipv4 => write!(f, "{}", Ipv4Addr::new(b[0], b[1], b[2], b[3])),
        Field::Ipv6 => {
            let mut o = [0u8; 16];
            o.copy_from_slice(b);
            write!(f, "{}", Ipv6Addr::from(o))
        }
        Field::Name => fmt_name(b, f),
        Field::CharString => fmt_quoted(&b[1..], f),
        Field::CharStrings => {
            let mut p = 0;
            let mut first = true;
            while p < b.len() {
                let n = b[p] as usize;
                if !first {
                    f.write_char(' ')?;
                }
                first = false;
                fmt_quoted(&b[p + 1..p + 1 + n], f)?;
                p += 1 + n;
            }
            Ok(())
        }
        Field::Base64 => f.write_str(&BASE64.encode(b)),
        Field::Hex => f.write_str(&HEXUPPER.encode(b)),
        Field::Base32Hex => f.write_str(&BASE32HEX_NOPAD.encode(&b[1..]).to_ascii_lowercase()),
        Field::Salt => {
            if b.len() == 1 {
                f.write_char('-')
            } else {
                f.write_str(&HEXUPPER.encode(&b[1..]))
            }
        }
        Field::TypeBitmap => {
            let mut first = true;
            for t in decode_type_bitmap(b) {
                if !first {
                    f.write_char(' ')?;
                }
                first = false;
                rtype::fmt_into(t, f)?;
            }
            Ok(())
        }
        Field::CaaTag => f.write_str(&String::from_utf8_lossy(&b[1..])),
        Field::Text => fmt_quoted(b, f),
        Field::SvcParams => super::svcb::fmt_svc_params(b, f),
        Field::OptCharString => fmt_quoted(&b[1..], f),
        Field::Eui48 | Field::Eui64 => fmt_groups(b, 1, '-', f),
        Field::Ilnp64 => fmt_groups(b, 2, ':', f),
        Field::Loc => super::loc::fmt_loc(b, f),
        Field::Algorithm => write!(f, "{}", b[0]),
        Field::CertType => write!(f, "{}", be(b)),
        // Printed by fmt_rdata, which knows the gateway type.
        Field::Gateway => Ok(()),
        Field::AmtType => write!(f, "{} {}", b[0] >> 7, b[0] & 0x7f),
        Field::Protocol => write!(f, "{}", b[0]),
        Field::WksBitmap | Field::NxtBitmap => {
            let mut first = true;
            for (i, byte) in b.iter().enumerate() {
                for bit in 0..8 {
                    if byte & (0x80 >> bit) == 0 {
                        continue;
                    }
                    if !first {
                        f.write_char(' ')?;
                    }
                    first = false;
                    let v = (i * 8 + bit) as u16;
                    if kind == Field::NxtBitmap {
                        rtype::fmt_into(v, f)?;
                    } else {
                        write!(f, "{v}")?;
                    }
                }
            }
            Ok(())
        }
        Field::Nsap => write!(f, "0x{}", HEXUPPER.encode(b)),
        Field::Apl => fmt_apl(b, f),
        Field::Hip => {
            let hit_len = b[0] as usize;
            let key_len = u16::from_be_bytes([b[2], b[3]]) as usize;
            let (hit, rest) = b[4..].split_at(hit_len);
            let (key, mut names) = rest.split_at(key_len);
            write!(
                f,
                "{} {} {}",
                b[1],
                HEXUPPER.encode(hit),
                BASE64.encode(key)
            )?;
            while !names.is_empty() {
                let n = crate::wire::name::skip(names, 0).unwrap_or(names.len());
                f.write_char(' ')?;
                fmt_name(&names[..n], f)?;
                names = &names[n..];
            }
            Ok(())
        }
        Field::A6 => {
            let plen = b[0];
            let n = (128 - plen as usize).div_ceil(8);
            write!(f, "{plen}")?;
            if n > 0 {
                let mut a = [0u8; 16];
                a[16 - n..].copy_from_slice(&b[1..1 + n]);
                write!(f, " {}", Ipv6Addr::from(a))?;
            }
            if plen > 0 {
                f.write_char(' ')?;
                fmt_name(&b[1 + n..], f)?;
            }
            Ok(())
        }
        Field::Atma => match b[0] {
            1 => write!(f, "+{}", String::from_utf8_lossy(&b[1..])),
            _ => f.write_str(&HEXUPPER.encode(&b[1..])),
        },
    }
}

/// Octets in hex, `per` octets to a group, groups joined by `sep`.
fn fmt_groups(b: &[u8], per: usize, sep: char, f: &mut impl Write) -> core::fmt::Result {
    for (i, g) in b.chunks(per).enumerate() {
        if i > 0 {
            f.write_char(sep)?;
        }
        for o in g {
            write!(f, "{o:02x}")?;
        }
    }
    Ok(())
}

/// APL items (RFC 3123 §5), the address padded back to its full length.
fn fmt_apl(mut b: &[u8], f: &mut impl Write) -> core::fmt::Result {
    let mut first = true;
    while b.len() >= 4 {
        let afi = u16::from_be_bytes([b[0], b[1]]);
        let len = (b[3] & 0x7f) as usize;
        let part = &b[4..4 + len];
        if !first {
            f.write_char(' ')?;
        }
        first = false;
        if b[3] & 0x80 != 0 {
            f.write_char('!')?;
        }
        if afi == 1 {
            let mut a = [0u8; 4];
            a[..len].copy_from_slice(part);
            write!(f, "1:{}/{}", Ipv4Addr::from(a), b[2])?;
        } else {
            let mut a = [0u8; 16];
            a[..len].copy_from_slice(part);
            write!(f, "2:{}/{}", Ipv6Addr::from(a), b[2])?;
        }
        b = &b[4 + len..];
    }
    Ok(())
}

/// A record's RDATA in presentation format, as a `Display` value.
pub struct RdataDisplay<'a>(pub u16, pub &'a [u8]);

impl core::fmt::Display for RdataDisplay<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        fmt_rdata(self.0, self.1, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zone::text::lexer::Lexer;

    fn origin() -> Name {
        crate::wire::name::parse_name_text("example.com.", None).unwrap()
    }

    /// Parses "TYPE rdata..." and returns the wire RDATA.
    fn parse(line: &str) -> Result<Vec<u8>, RdataError> {
        let mut lx = Lexer::new(line.as_bytes());
        let mut toks = Vec::new();
        lx.next_entry(&mut toks).unwrap().unwrap();
        let t = rtype::from_name(core::str::from_utf8(toks[0].text).unwrap()).unwrap();
        let mut out = Vec::new();
        parse_rdata(t, &toks[1..], &origin(), &mut out)?;
        Ok(out)
    }

    fn round_trip(line: &str) -> String {
        let (ty, _) = line.split_once(' ').unwrap();
        let t = rtype::from_name(ty).unwrap();
        let wire = parse(line).unwrap_or_else(|e| panic!("{line}: {e}"));
        let text = RdataDisplay(t, &wire).to_string();
        let again = parse(&format!("{ty} {text}")).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(wire, again, "{line} -> {text}");
        text
    }

    #[test]
    fn every_known_type_round_trips() {
        let cases = [
            ("A 192.0.2.1", "192.0.2.1"),
            ("AAAA 2001:db8::1", "2001:db8::1"),
            ("NS ns1", "ns1.example.com."),
            ("CNAME www.example.org.", "www.example.org."),
            ("DNAME @", "example.com."),
            ("PTR host", "host.example.com."),
            (
                "SOA ns1 hostmaster ( 2026 1h 15m 1w 300 )",
                "ns1.example.com. hostmaster.example.com. 2026 3600 900 604800 300",
            ),
            ("MX 10 mail", "10 mail.example.com."),
            (
                "TXT \"a b\" c \"q\\\"\" \\200",
                "\"a b\" \"c\" \"q\\\"\" \"\\200\"",
            ),
            ("SPF \"v=spf1 -all\"", "\"v=spf1 -all\""),
            ("SRV 0 5 5060 sip", "0 5 5060 sip.example.com."),
            (
                "NAPTR 100 10 \"U\" \"E2U+sip\" \"!^.*$!sip:info@example.com!\" .",
                "100 10 \"U\" \"E2U+sip\" \"!^.*$!sip:info@example.com!\" .",
            ),
            (
                "CAA 0 issue \"letsencrypt.org\"",
                "0 issue \"letsencrypt.org\"",
            ),
            // An empty CAA value still prints, so that it reads back.
            ("CAA 128 iodef \"\"", "128 iodef \"\""),
            (
                "SSHFP 2 1 123456789abcdef67890123456789abcdef67890",
                "2 1 123456789ABCDEF67890123456789ABCDEF67890",
            ),
            ("TLSA 3 1 1 ( 0d6fce33 0d6fce33 )", "3 1 1 0D6FCE330D6FCE33"),
            ("HINFO \"PC\" \"Linux\"", "\"PC\" \"Linux\""),
            (
                "DS 60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118",
                "60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118",
            ),
            ("CDS 0 0 0 00", "0 0 0 00"),
            ("DNSKEY 256 3 8 AwEAAag=", "256 3 8 AwEAAag="),
            ("CDNSKEY 0 3 0 AA==", "0 3 0 AA=="),
            (
                "RRSIG A 8 3 3600 20261231235959 20261201000000 12345 example.com. AAAA",
                "A 8 3 3600 20261231235959 20261201000000 12345 example.com. AAAA",
            ),
            (
                "NSEC host.example.com. A MX RRSIG NSEC TYPE1234",
                "host.example.com. A MX RRSIG NSEC TYPE1234",
            ),
            (
                "NSEC3 1 1 12 aabbccdd 2vptu5timamqttgl4luu9kg21e0aor3s A RRSIG",
                "1 1 12 AABBCCDD 2vptu5timamqttgl4luu9kg21e0aor3s A RRSIG",
            ),
            ("NSEC3PARAM 1 0 0 -", "1 0 0 -"),
            (
                "ZONEMD 2026 1 240 ( FEBE3D4CE2EC2FFA4BA9 0102 )",
                "2026 1 240 FEBE3D4CE2EC2FFA4BA90102",
            ),
            (
                "HTTPS 1 . alpn=\"h2,h3\" port=443 ipv4hint=192.0.2.1,192.0.2.2",
                "1 . alpn=\"h2,h3\" port=443 ipv4hint=192.0.2.1,192.0.2.2",
            ),
            ("SVCB 0 svc.example.net.", "0 svc.example.net."),
            (
                "URI 10 1 \"ftp://ftp1.example.com/public\"",
                "10 1 \"ftp://ftp1.example.com/public\"",
            ),
            ("OPENPGPKEY AAECAw==", "AAECAw=="),
            (
                "LOC 52 22 23.000 N 4 53 32.000 E -2.00m 0.00m 10000m 10m",
                "52 22 23.000 N 4 53 32.000 E -2.00m 0m 10000m 10m",
            ),
            (
                "LOC 42 21 54 N 71 06 18 W -24m 30m",
                "42 21 54.000 N 71 6 18.000 W -24.00m 30m 10000m 10m",
            ),
            (
                "LOC 90 S 180 E 0",
                "90 0 0.000 S 180 0 0.000 E 0.00m 1m 10000m 10m",
            ),
            ("CERT PGP 0 RSASHA256 AQID", "3 0 8 AQID"),
            (
                "APL 1:192.168.32.0/21 !2:2001:db8::/32 1:0.0.0.0/0",
                "1:192.168.32.0/21 !2:2001:db8::/32 1:0.0.0.0/0",
            ),
            ("IPSECKEY 10 0 2 . AQID", "10 0 2 . AQID"),
            ("IPSECKEY 10 1 2 192.0.2.38 AQID", "10 1 2 192.0.2.38 AQID"),
            (
                "IPSECKEY 10 2 2 2001:db8::1 AQID",
                "10 2 2 2001:db8::1 AQID",
            ),
            ("IPSECKEY 10 3 2 gw AQID", "10 3 2 gw.example.com. AQID"),
            ("IPSECKEY 10 3 0 gw", "10 3 0 gw.example.com."),
            ("KEY 256 3 13 AQID", "256 3 13 AQID"),
            ("RT 0 relay", "0 relay.example.com."),
            ("NID 10 14:4fff:ff20:ee64", "10 0014:4fff:ff20:ee64"),
            ("L32 10 10.1.2.0", "10 10.1.2.0"),
            ("L64 10 2001:0DB8:1140:1000", "10 2001:0db8:1140:1000"),
            ("LP 10 l64", "10 l64.example.com."),
            ("EUI48 00-00-5E-00-53-2A", "00-00-5e-00-53-2a"),
            ("EUI64 00-00-5e-ef-10-00-00-2a", "00-00-5e-ef-10-00-00-2a"),
            (
                "HIP 2 200100107B1A74DF AQID rvs1 rvs2.example.net.",
                "2 200100107B1A74DF AQID rvs1.example.com. rvs2.example.net.",
            ),
            ("X25 311061700956", "\"311061700956\""),
            ("ISDN 150862028003217 004", "\"150862028003217\" \"004\""),
            ("ISDN \"150862028003217\"", "\"150862028003217\""),
            ("AMTRELAY 10 1 3 relay", "10 1 3 relay.example.com."),
            ("AMTRELAY 128 0 0 .", "128 0 0 ."),
            ("AMTRELAY 10 0 1 203.0.113.15", "10 0 1 203.0.113.15"),
            ("WKS 192.0.2.2 tcp 21 25 80", "192.0.2.2 6 21 25 80"),
            ("NSAP 0x47.0005.80", "0x47000580"),
            ("NSAP-PTR host", "host.example.com."),
            ("PX 10 a b", "10 a.example.com. b.example.com."),
            ("GPOS -32.6 116.8 10.0", "\"-32.6\" \"116.8\" \"10.0\""),
            ("NXT next A MX", "next.example.com. A MX"),
            (
                "SIG A 13 3 3600 20261231235959 20261201000000 1 example.com. AQID",
                "A 13 3 3600 20261231235959 20261201000000 1 example.com. AQID",
            ),
            ("EID 12 89 AB", "1289AB"),
            ("ATMA +358.400.1234567", "+3584001234567"),
            ("ATMA 39246f00e7c9", "39246F00E7C9"),
            ("A6 0 2001:db8::1", "0 2001:db8::1"),
            ("A6 64 ::1:2:3:4 p", "64 ::1:2:3:4 p.example.com."),
            ("A6 128 p", "128 p.example.com."),
            ("SINK 1 0 0 AAEC", "1 0 0 AAEC"),
            ("TALINK a b", "a.example.com. b.example.com."),
            ("DOA 0 1 2 \"\" -", "0 1 2 \"\" -"),
            (
                "DLV 60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118",
                "60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118",
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(round_trip(input), expected, "{input}");
        }
    }

    #[test]
    fn generic_form_for_any_type() {
        assert_eq!(parse("A \\# 4 C0000201").unwrap(), [192, 0, 2, 1]);
        assert!(parse("A \\# 3 C00002").is_err(), "A must be 4 octets");
        assert!(parse("A \\# 4 C000").is_err(), "length mismatch");
        assert_eq!(parse("TYPE65280 \\# 0").unwrap(), Vec::<u8>::new());
        assert_eq!(RdataDisplay(65280, &[0xab, 1]).to_string(), "\\# 2 AB01");
        assert!(parse("TYPE65280 1 2 3").is_err());
        // Generic RDATA is held to the type's layout: an empty CAA tag
        // could not be printed in CAA's own form.
        assert!(parse("CAA \\# 4 00000201").is_err());
    }

    #[test]
    fn rejects_bad_values() {
        for bad in [
            "A 192.0.2.256",
            "A 192.0.2",
            "AAAA 1::2::3",
            "MX 65536 mail",
            "MX -1 mail",
            "MX 10",
            "A 1.2.3.4 extra",
            "SOA ns hm 1 2 3 4",
            "TXT",
            "CAA 0 is-sue \"x\"",
            "NSEC3 1 0 0 - \"\" A",
            "DS 1 2 3 XYZ",
            "SOA ns hm 1 1x 2 3 4",
            "LOC 91 N 0 E 0",
            "LOC 0 60 N 0 E 0",
            "LOC 0 0 60 N 0 E 0",
            "LOC 0 N 181 E 0",
            "LOC 0 X 0 E 0",
            "LOC 0 N 0 E 0 1m 1m 1m 1m",
            "LOC 0 N 0 E 0.123m",
            "APL 3:1.2.3.4/8",
            "APL 1:1.2.3.4/33",
            "APL 1:1.2.3.4",
            "IPSECKEY 10 4 2 . AQID",
            "IPSECKEY 10 0 2 192.0.2.1 AQID",
            "IPSECKEY 10 1 2 . AQID",
            "EUI48 00-00-5e-00-53",
            "EUI48 0-00-5e-00-53-2a",
            "EUI64 00:00:5e:ef:10:00:00:2a",
            "NID 10 1:2:3",
            "NID 10 12345:2:3:4",
            "HIP 2 AB",
            "AMTRELAY 10 2 1 192.0.2.1",
            "AMTRELAY 10 0 4 .",
            "ISDN a b c",
            "NXT next TYPE200",
            "A6 64 ::1:2:3:4",
            "A6 65 ::ffff:ffff:ffff:ffff p",
            "ATMA +12a",
            "DS 1 5 1 ABCD",
            "DS 1 5 2 2BB183AF5F22588179A53B0A98631FAD1A292118",
            "SSHFP 1 2 123456789ABCDEF67890123456789ABCDEF67890",
            "ZONEMD 1 1 1 ABCDEF",
            "ZONEMD 1 1 240 ABCDEF",
        ] {
            assert!(parse(bad).is_err(), "{bad} should fail");
        }
        let long = format!("TXT \"{}\"", "a".repeat(256));
        assert!(parse(&long).is_err());
    }

    #[test]
    fn ipv4_parsing_is_strict() {
        assert_eq!(parse_ipv4(b"192.0.2.1"), Some([192, 0, 2, 1]));
        assert_eq!(parse_ipv4(b"0.0.0.0"), Some([0, 0, 0, 0]));
        for bad in [
            &b"192.0.2"[..],
            b"192.0.2.1.5",
            b"192.0.2.256",
            b"192.0.02.1",
            b"192.0..1",
            b"a.b.c.d",
            b"",
            b"1234.0.0.1",
        ] {
            assert_eq!(parse_ipv4(bad), None, "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn ttl_units() {
        assert_eq!(parse_ttl("1h30m").unwrap(), 5400);
        assert_eq!(parse_ttl("1W").unwrap(), 604800);
        assert_eq!(parse_ttl("86400").unwrap(), 86400);
        assert!(parse_ttl("1h30").is_err());
        assert!(parse_ttl("h").is_err());
        assert!(parse_ttl("4294967296").is_err());
    }

    #[test]
    fn timestamps() {
        assert_eq!(parse_time("19700101000000").unwrap(), 0);
        assert_eq!(parse_time("20000101000000").unwrap(), 946684800);
        assert_eq!(parse_time("946684800").unwrap(), 946684800);
        assert!(parse_time("20001301000000").is_err());
    }
}
