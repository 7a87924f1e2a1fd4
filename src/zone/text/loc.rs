//! LOC records in presentation format (RFC 1876 §3): degrees, minutes
//! and seconds of latitude and longitude, altitude, and three sizes in
//! metres, to and from the 16 octets of RFC 1876 §2.

use core::fmt::Write;

use super::lexer::Token;
use super::rdata::RdataError;

/// Size, horizontal and vertical precision when the text leaves them out
/// (RFC 1876 §3): 1 m, 10 km, 10 m.
const DEFAULT_SIZES: [u8; 3] = [0x12, 0x16, 0x13];

/// The equator and the prime meridian: 2^31 thousandths of an arc-second.
const EQUATOR: i64 = 1 << 31;

/// The altitude reference: 100 000 m below the WGS 84 spheroid, in cm.
const ALTITUDE_BASE: i64 = 10_000_000;

/// Reads `d [m [s]] N|S d [m [s]] E|W alt[m] [siz[m] [hp[m] [vp[m]]]]`.
pub fn parse_loc(tokens: &[Token<'_>], out: &mut Vec<u8>) -> Result<(), RdataError> {
    let (lat, rest) = parse_angle(tokens, 90, [b'N', b'S'])?;
    let (lon, rest) = parse_angle(rest, 180, [b'E', b'W'])?;
    let (alt, rest) = rest.split_first().ok_or("missing altitude")?;
    let alt = ALTITUDE_BASE + parse_metres(alt.text)?;
    let alt = u32::try_from(alt).map_err(|_| "altitude out of range".to_string())?;
    if rest.len() > 3 {
        return Err("LOC takes at most three sizes after the altitude".into());
    }
    let mut sizes = DEFAULT_SIZES;
    for (slot, t) in sizes.iter_mut().zip(rest) {
        *slot = encode_size(parse_metres(t.text)?)?;
    }
    out.push(0);
    out.extend_from_slice(&sizes);
    out.extend_from_slice(&lat.to_be_bytes());
    out.extend_from_slice(&lon.to_be_bytes());
    out.extend_from_slice(&alt.to_be_bytes());
    Ok(())
}

/// Degrees, optional minutes and seconds, then the hemisphere letter.
fn parse_angle<'t, 'a>(
    tokens: &'t [Token<'a>],
    max_deg: i64,
    [pos, neg]: [u8; 2],
) -> Result<(u32, &'t [Token<'a>]), RdataError> {
    let hemi = |t: &Token<'_>| match t.text {
        [c] if c.eq_ignore_ascii_case(&pos) => Some(1),
        [c] if c.eq_ignore_ascii_case(&neg) => Some(-1),
        _ => None,
    };
    let letters = format!("{} or {}", pos as char, neg as char);
    let mut parts = [0i64; 3];
    let mut rest = tokens;
    for (i, part) in parts.iter_mut().enumerate() {
        let t = rest.first().ok_or_else(|| format!("missing {letters}"))?;
        if i > 0 && hemi(t).is_some() {
            break;
        }
        let limit = [max_deg, 59, 59][i];
        *part = if i == 2 {
            parse_fixed(t.text, 3).filter(|&v| v < 60_000)
        } else {
            parse_fixed(t.text, 0).filter(|&v| v <= limit)
        }
        .ok_or_else(|| {
            format!(
                "bad {} '{}'",
                ["degrees", "minutes", "seconds"][i],
                String::from_utf8_lossy(t.text)
            )
        })?;
        rest = &rest[1..];
    }
    let (t, rest) = rest
        .split_first()
        .ok_or_else(|| format!("missing {letters}"))?;
    let sign = hemi(t).ok_or_else(|| format!("expected {letters}"))?;
    let thousandths = parts[0] * 3_600_000 + parts[1] * 60_000 + parts[2];
    if thousandths > max_deg * 3_600_000 {
        return Err(format!("more than {max_deg} degrees"));
    }
    Ok(((EQUATOR + sign * thousandths) as u32, rest))
}

/// A decimal with up to `places` digits after the point, scaled by
/// 10^places.
fn parse_fixed(t: &[u8], places: usize) -> Option<i64> {
    let (int, frac) = match t.iter().position(|&b| b == b'.') {
        Some(i) => (&t[..i], &t[i + 1..]),
        None => (t, &[][..]),
    };
    if int.is_empty()
        || int.len() > 10
        || frac.len() > places
        || !int.iter().chain(frac).all(u8::is_ascii_digit)
        || (t.contains(&b'.') && frac.is_empty())
    {
        return None;
    }
    let digits = |d: &[u8]| d.iter().fold(0i64, |a, &c| a * 10 + (c - b'0') as i64);
    let scale = 10i64.pow((places - frac.len()) as u32);
    Some(digits(int) * 10i64.pow(places as u32) + digits(frac) * scale)
}

/// Metres with up to two decimals and an optional `m`, as centimetres.
fn parse_metres(t: &[u8]) -> Result<i64, RdataError> {
    let bad = || format!("bad length '{}'", String::from_utf8_lossy(t));
    let body = t.strip_suffix(b"m").unwrap_or(t);
    let (sign, body) = match body.strip_prefix(b"-") {
        Some(b) => (-1, b),
        None => (1, body),
    };
    parse_fixed(body, 2).map(|v| sign * v).ok_or_else(bad)
}

/// A size in centimetres as RFC 1876 §2's mantissa and power of ten,
/// truncated to one significant digit as BIND does.
fn encode_size(cm: i64) -> Result<u8, RdataError> {
    if !(0..=9_000_000_000).contains(&cm) {
        return Err("size out of range (0 to 90000000m)".into());
    }
    let mut exp = 0u8;
    let mut m = cm;
    while m > 9 {
        m /= 10;
        exp += 1;
    }
    Ok((m as u8) << 4 | exp)
}

/// Writes the 16 octets of a version-0 LOC record as text (validated by
/// the wire layer: digits 0 to 9, angles in range).
pub fn fmt_loc(b: &[u8], f: &mut impl Write) -> core::fmt::Result {
    let word = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]) as i64;
    fmt_angle(word(4) - EQUATOR, ['N', 'S'], f)?;
    f.write_char(' ')?;
    fmt_angle(word(8) - EQUATOR, ['E', 'W'], f)?;
    let alt = word(12) - ALTITUDE_BASE;
    let sign = if alt < 0 { "-" } else { "" };
    write!(f, " {sign}{}.{:02}m", alt.abs() / 100, alt.abs() % 100)?;
    for &s in &b[1..4] {
        let cm = (s >> 4) as i64 * 10i64.pow((s & 0x0f) as u32);
        write!(f, " {}", cm / 100)?;
        if cm % 100 != 0 {
            write!(f, ".{:02}", cm % 100)?;
        }
        f.write_char('m')?;
    }
    Ok(())
}

fn fmt_angle(v: i64, [pos, neg]: [char; 2], f: &mut impl Write) -> core::fmt::Result {
    let hemi = if v < 0 { neg } else { pos };
    let v = v.abs();
    write!(
        f,
        "{} {} {}.{:03} {hemi}",
        v / 3_600_000,
        v % 3_600_000 / 60_000,
        v % 60_000 / 1000,
        v % 1000
    )
}
