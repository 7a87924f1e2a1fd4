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
    Ok(())
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
    }
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
        if b.is_empty() && kind != Field::Text {
            // An empty trailing field (no SvcParams, no types, no digest)
            // prints as nothing, and reads back as empty. An empty CAA
            // value must still print, as "" (RFC 8659 §4.1.1).
            continue;
        }
        if !first {
            f.write_char(' ')?;
        }
        first = false;
        fmt_field(kind, b, f)?;
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
    }
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
                "ZONEMD 2026 1 1 ( FEBE3D4CE2EC2FFA4BA9 )",
                "2026 1 1 FEBE3D4CE2EC2FFA4BA9",
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
