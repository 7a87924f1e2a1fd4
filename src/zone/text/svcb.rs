//! SvcParams of SVCB and HTTPS records in presentation format
//! (RFC 9460 §2.1, Appendix A).

use core::fmt::Write;
use std::net::{Ipv4Addr, Ipv6Addr};

use data_encoding::BASE64;

use super::lexer::Token;
use super::rdata::{RdataError, unescape_string};

const MANDATORY: u16 = 0;
const ALPN: u16 = 1;
const NO_DEFAULT_ALPN: u16 = 2;
const PORT: u16 = 3;
const IPV4HINT: u16 = 4;
const ECH: u16 = 5;
const IPV6HINT: u16 = 6;
const DOHPATH: u16 = 7;
const OHTTP: u16 = 8;

const KEYS: &[(u16, &str)] = &[
    (MANDATORY, "mandatory"),
    (ALPN, "alpn"),
    (NO_DEFAULT_ALPN, "no-default-alpn"),
    (PORT, "port"),
    (IPV4HINT, "ipv4hint"),
    (ECH, "ech"),
    (IPV6HINT, "ipv6hint"),
    (DOHPATH, "dohpath"),
    (OHTTP, "ohttp"),
];

/// A key by name, or in the generic form `keyNNNNN`, which RFC 9460 §2.1
/// reads with the value as opaque wire octets whatever the number; the
/// flag says which.
fn key_from_name(s: &str) -> Option<(u16, bool)> {
    if let Some((k, _)) = KEYS.iter().find(|(_, n)| *n == s) {
        return Some((*k, false));
    }
    let digits = s.strip_prefix("key")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((digits.parse().ok()?, true))
}

fn fmt_key(k: u16, f: &mut impl Write) -> core::fmt::Result {
    match KEYS.iter().find(|(v, _)| *v == k) {
        Some((_, n)) => f.write_str(n),
        None => write!(f, "key{k}"),
    }
}

/// Splits a raw value on commas that are not escaped.
fn split_list(raw: &[u8]) -> Vec<&[u8]> {
    let mut items = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'\\' => i += 2,
            b',' => {
                items.push(&raw[start..i]);
                i += 1;
                start = i;
            }
            _ => i += 1,
        }
    }
    items.push(&raw[start.min(raw.len())..]);
    items
}

fn utf8(b: &[u8]) -> Result<&str, RdataError> {
    core::str::from_utf8(b).map_err(|_| "SvcParam value is not valid text".to_string())
}

fn need(raw: Option<&[u8]>) -> Result<&[u8], RdataError> {
    raw.filter(|v| !v.is_empty())
        .ok_or_else(|| "SvcParam needs a value".to_string())
}

fn encode_value(key: u16, raw: Option<&[u8]>) -> Result<Vec<u8>, RdataError> {
    let mut v = Vec::new();
    match key {
        MANDATORY => {
            let mut keys = Vec::new();
            for item in split_list(need(raw)?) {
                let s = utf8(item)?;
                keys.push(
                    key_from_name(s)
                        .map(|(k, _)| k)
                        .ok_or_else(|| format!("unknown SvcParam key '{s}' in mandatory"))?,
                );
            }
            keys.sort_unstable();
            if keys.windows(2).any(|w| w[0] == w[1]) {
                return Err("duplicate key in mandatory".into());
            }
            for k in keys {
                v.extend_from_slice(&k.to_be_bytes());
            }
        }
        ALPN => {
            for item in split_list(need(raw)?) {
                let id = unescape_string(item)?;
                if id.is_empty() || id.len() > 255 {
                    return Err("alpn id must be 1 to 255 octets".into());
                }
                v.push(id.len() as u8);
                v.extend_from_slice(&id);
            }
        }
        NO_DEFAULT_ALPN | OHTTP => {
            if raw.is_some_and(|r| !r.is_empty()) {
                return Err("this SvcParam takes no value".into());
            }
        }
        PORT => {
            let p: u16 = utf8(need(raw)?)?
                .parse()
                .map_err(|_| "port must be a number up to 65535".to_string())?;
            v.extend_from_slice(&p.to_be_bytes());
        }
        IPV4HINT => {
            for item in split_list(need(raw)?) {
                let a: Ipv4Addr = utf8(item)?
                    .parse()
                    .map_err(|_| "bad address in ipv4hint".to_string())?;
                v.extend_from_slice(&a.octets());
            }
        }
        IPV6HINT => {
            for item in split_list(need(raw)?) {
                let a: Ipv6Addr = utf8(item)?
                    .parse()
                    .map_err(|_| "bad address in ipv6hint".to_string())?;
                v.extend_from_slice(&a.octets());
            }
        }
        ECH => {
            v = BASE64
                .decode(need(raw)?)
                .map_err(|_| "ech must be base64".to_string())?;
        }
        _ => {
            if let Some(r) = raw {
                v = unescape_string(r)?;
            }
        }
    }
    Ok(v)
}

/// Parses `key[=value]` tokens into wire-form SvcParams, sorted by key.
pub fn parse_svc_params(tokens: &[Token<'_>], out: &mut Vec<u8>) -> Result<(), RdataError> {
    let mut params: Vec<(u16, Vec<u8>)> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let t = &tokens[i];
        i += 1;
        if t.quoted {
            return Err("SvcParam value without a key".into());
        }
        let (key_raw, mut value) = match t.text.iter().position(|&b| b == b'=') {
            Some(eq) => (&t.text[..eq], Some(&t.text[eq + 1..])),
            None => (t.text, None),
        };
        // `key="value"`: the quoted part is the next, glued token.
        if value == Some(&[][..])
            && let Some(next) = tokens.get(i).filter(|n| n.quoted && n.glued)
        {
            value = Some(next.text);
            i += 1;
        }
        let name = utf8(key_raw)?;
        let (key, generic) =
            key_from_name(name).ok_or_else(|| format!("unknown SvcParam key '{name}'"))?;
        let wire = if generic {
            unescape_string(value.unwrap_or_default())?
        } else {
            encode_value(key, value)?
        };
        params.push((key, wire));
    }
    params.sort_by_key(|(k, _)| *k);
    if params.windows(2).any(|w| w[0].0 == w[1].0) {
        return Err("SvcParam key given twice".into());
    }
    for (k, v) in params {
        let len = u16::try_from(v.len()).map_err(|_| "SvcParam value too long".to_string())?;
        out.extend_from_slice(&k.to_be_bytes());
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&v);
    }
    Ok(())
}

/// Writes a value escaping what would end or split it.
fn fmt_escaped(b: &[u8], escape_comma: bool, f: &mut impl Write) -> core::fmt::Result {
    for &c in b {
        match c {
            b',' if escape_comma => f.write_str("\\,")?,
            b'"' | b'\\' => {
                f.write_char('\\')?;
                f.write_char(c as char)?;
            }
            0x20..=0x7e => f.write_char(c as char)?,
            _ => write!(f, "\\{c:03}")?,
        }
    }
    Ok(())
}

/// Writes one parameter's value; `false` if it does not have the form
/// its key requires (the caller then uses the generic `keyN` form).
fn fmt_value(key: u16, v: &[u8], f: &mut String) -> bool {
    let list = |size: usize| !v.is_empty() && v.len().is_multiple_of(size);
    match key {
        // The reader sorts the keys and refuses repeats: other lists
        // print in generic form, so that they read back as they are.
        MANDATORY if list(2) && v.chunks(2).is_sorted_by(|a, b| a < b) => {
            for (i, c) in v.chunks(2).enumerate() {
                if i > 0 {
                    f.push(',');
                }
                let _ = fmt_key(u16::from_be_bytes([c[0], c[1]]), f);
            }
        }
        ALPN if !v.is_empty() => {
            let mut p = 0;
            f.push('"');
            while p < v.len() {
                let n = v[p] as usize;
                let Some(id) = v.get(p + 1..p + 1 + n).filter(|_| n > 0) else {
                    return false;
                };
                if p > 0 {
                    f.push(',');
                }
                let _ = fmt_escaped(id, true, f);
                p += 1 + n;
            }
            f.push('"');
        }
        NO_DEFAULT_ALPN | OHTTP => return v.is_empty(),
        PORT if v.len() == 2 => {
            let _ = write!(f, "{}", u16::from_be_bytes([v[0], v[1]]));
        }
        IPV4HINT if list(4) => {
            for (i, c) in v.chunks(4).enumerate() {
                if i > 0 {
                    f.push(',');
                }
                let _ = write!(f, "{}", Ipv4Addr::new(c[0], c[1], c[2], c[3]));
            }
        }
        IPV6HINT if list(16) => {
            for (i, c) in v.chunks(16).enumerate() {
                if i > 0 {
                    f.push(',');
                }
                let mut o = [0u8; 16];
                o.copy_from_slice(c);
                let _ = write!(f, "{}", Ipv6Addr::from(o));
            }
        }
        ECH if !v.is_empty() => f.push_str(&BASE64.encode(v)),
        MANDATORY | ALPN | PORT | IPV4HINT | IPV6HINT | ECH => return false,
        _ => {
            f.push('"');
            let _ = fmt_escaped(v, false, f);
            f.push('"');
        }
    }
    true
}

/// Writes wire-form SvcParams (already checked for structure).
pub fn fmt_svc_params(b: &[u8], f: &mut impl Write) -> core::fmt::Result {
    let mut p = 0;
    let mut first = true;
    while p + 4 <= b.len() {
        let key = u16::from_be_bytes([b[p], b[p + 1]]);
        let len = u16::from_be_bytes([b[p + 2], b[p + 3]]) as usize;
        let v = b.get(p + 4..p + 4 + len).unwrap_or(&[]);
        p += 4 + len;
        if !first {
            f.write_char(' ')?;
        }
        first = false;
        let mut value = String::new();
        if fmt_value(key, v, &mut value) {
            fmt_key(key, f)?;
            if !value.is_empty() {
                write!(f, "={value}")?;
            }
        } else {
            write!(f, "key{key}=\"")?;
            fmt_escaped(v, false, f)?;
            f.write_char('"')?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zone::text::lexer::Lexer;

    fn parse(s: &str) -> Result<Vec<u8>, RdataError> {
        let mut lx = Lexer::new(s.as_bytes());
        let mut toks = Vec::new();
        lx.next_entry(&mut toks).unwrap();
        let mut out = Vec::new();
        parse_svc_params(&toks, &mut out)?;
        Ok(out)
    }

    fn show(b: &[u8]) -> String {
        let mut s = String::new();
        fmt_svc_params(b, &mut s).unwrap();
        s
    }

    #[test]
    fn parses_and_sorts_params() {
        let w = parse("port=8443 alpn=h2,h3 no-default-alpn mandatory=alpn,port").unwrap();
        assert_eq!(
            w,
            [
                0, 0, 0, 4, 0, 1, 0, 3, // mandatory=alpn,port
                0, 1, 0, 6, 2, b'h', b'2', 2, b'h', b'3', // alpn
                0, 2, 0, 0, // no-default-alpn
                0, 3, 0, 2, 0x20, 0xfb, // port
            ]
        );
        assert_eq!(
            show(&w),
            "mandatory=alpn,port alpn=\"h2,h3\" no-default-alpn port=8443"
        );
    }

    #[test]
    fn generic_keys_and_hints() {
        let w = parse("key65000=\"a b\" ipv6hint=2001:db8::1 ech=AAEC").unwrap();
        assert_eq!(show(&w), "ech=AAEC ipv6hint=2001:db8::1 key65000=\"a b\"");
        // A malformed known value prints in generic form.
        assert_eq!(show(&[0, 3, 0, 1, 7]), "key3=\"\\007\"");
        // ... and reads back as the same octets (RFC 9460 §2.1), as do an
        // empty alpn, an unsorted or repeated mandatory list, and a value
        // where no-default-alpn takes none.
        for wire in [
            &[0, 3, 0, 1, 7][..],
            &[0, 1, 0, 0],
            &[0, 0, 0, 4, 0, 3, 0, 1],
            &[0, 0, 0, 4, 0, 1, 0, 1],
            &[0, 2, 0, 1, b'x'],
        ] {
            assert_eq!(parse(&show(wire)).unwrap(), wire, "{}", show(wire));
        }
        assert_eq!(
            parse("key1=\"\\002h2\"").unwrap(),
            parse("alpn=h2").unwrap()
        );
    }

    #[test]
    fn rejects_bad_params() {
        for bad in [
            "port=x",
            "alpn",
            "no-default-alpn=1",
            "port=1 port=2",
            "nokey=1",
            "mandatory=bogus",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
