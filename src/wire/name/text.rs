//! Names in presentation format (RFC 1035 §5.1): `\X` and `\DDD` escapes,
//! relative names completed with an origin.

use thiserror::Error;

use super::{MAX_LABEL_LEN, MAX_NAME_LEN, Name};

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NameTextError {
    #[error("empty label in name")]
    EmptyLabel,
    #[error("label longer than 63 octets")]
    LabelTooLong,
    #[error("name longer than 255 octets")]
    NameTooLong,
    #[error("bad escape sequence in name")]
    BadEscape,
    #[error("relative name without an origin")]
    NoOrigin,
}

/// Parses a name in presentation format. A name not ending in an
/// unescaped dot is relative and gets `origin` appended.
pub fn parse_name_text(text: &str, origin: Option<&Name>) -> Result<Name, NameTextError> {
    parse_name_bytes(text.as_bytes(), origin)
}

pub fn parse_name_bytes(text: &[u8], origin: Option<&Name>) -> Result<Name, NameTextError> {
    let mut wire = Vec::with_capacity(text.len() + 2);
    parse_name_into(text, origin.map(Name::as_wire), &mut wire)?;
    // `parse_name_into` only writes valid names.
    Name::from_wire(&wire).map_err(|_| NameTextError::NameTooLong)
}

/// Appends the wire form of a name in presentation format to `out`, with
/// `origin` (wire form) completing a relative name. Allocates nothing
/// beyond `out`'s growth: the zone-file reader's hot path.
pub fn parse_name_into(
    text: &[u8],
    origin: Option<&[u8]>,
    out: &mut Vec<u8>,
) -> Result<(), NameTextError> {
    let base = out.len();
    let r = parse_into(text, origin, out, base);
    if r.is_err() {
        out.truncate(base);
    }
    r
}

fn parse_into(
    text: &[u8],
    origin: Option<&[u8]>,
    out: &mut Vec<u8>,
    base: usize,
) -> Result<(), NameTextError> {
    if text == b"." {
        out.push(0);
        return Ok(());
    }
    if text.is_empty() {
        return Err(NameTextError::EmptyLabel);
    }
    let mut label_start = out.len();
    out.push(0);
    let mut absolute = false;
    let mut i = 0usize;
    while i < text.len() {
        let c = text[i];
        match c {
            b'.' => {
                let len = out.len() - label_start - 1;
                if len == 0 {
                    return Err(NameTextError::EmptyLabel);
                }
                out[label_start] = len as u8;
                if i + 1 == text.len() {
                    absolute = true;
                } else {
                    label_start = out.len();
                    out.push(0);
                }
                i += 1;
            }
            b'\\' => {
                let (byte, used) = unescape(&text[i + 1..])?;
                out.push(byte);
                i += 1 + used;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
        if out.len() - label_start - 1 > MAX_LABEL_LEN {
            return Err(NameTextError::LabelTooLong);
        }
    }
    if !absolute {
        let len = out.len() - label_start - 1;
        if len == 0 {
            return Err(NameTextError::EmptyLabel);
        }
        out[label_start] = len as u8;
        out.extend_from_slice(origin.ok_or(NameTextError::NoOrigin)?);
    } else {
        out.push(0);
    }
    if out.len() - base > MAX_NAME_LEN {
        return Err(NameTextError::NameTooLong);
    }
    Ok(())
}

/// Decodes the character(s) after a backslash: `\DDD` (three decimal digits,
/// at most 255) or `\X`. Returns the octet and how many input octets it used.
pub fn unescape(after: &[u8]) -> Result<(u8, usize), NameTextError> {
    match after {
        [a, b, c, ..] if a.is_ascii_digit() && b.is_ascii_digit() && c.is_ascii_digit() => {
            let v = (a - b'0') as u32 * 100 + (b - b'0') as u32 * 10 + (c - b'0') as u32;
            if v > 255 {
                return Err(NameTextError::BadEscape);
            }
            Ok((v as u8, 3))
        }
        [d, ..] if d.is_ascii_digit() => Err(NameTextError::BadEscape),
        [x, ..] => Ok((*x, 1)),
        [] => Err(NameTextError::BadEscape),
    }
}

/// Writes one label's octets in presentation form.
pub fn fmt_label(label: &[u8], f: &mut impl core::fmt::Write) -> core::fmt::Result {
    for &b in label {
        match b {
            b'.' | b';' | b'\\' | b'(' | b')' | b'"' | b'@' | b'$' => {
                f.write_char('\\')?;
                f.write_char(b as char)?;
            }
            0x21..=0x7e => f.write_char(b as char)?,
            _ => write!(f, "\\{b:03}")?,
        }
    }
    Ok(())
}

/// Writes an uncompressed wire name in presentation form, absolute.
pub fn fmt_name(wire: &[u8], f: &mut impl core::fmt::Write) -> core::fmt::Result {
    let mut pos = 0usize;
    let mut any = false;
    while let Some(&len) = wire.get(pos) {
        if len == 0 {
            break;
        }
        let label = wire.get(pos + 1..pos + 1 + len as usize).unwrap_or(&[]);
        fmt_label(label, f)?;
        f.write_char('.')?;
        any = true;
        pos += 1 + len as usize;
    }
    if !any {
        f.write_char('.')?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<Name, NameTextError> {
        parse_name_text(s, None)
    }

    #[test]
    fn parses_absolute_and_relative() {
        assert_eq!(
            p("www.example.com.").unwrap().as_wire(),
            b"\x03www\x07example\x03com\x00"
        );
        assert_eq!(p(".").unwrap(), Name::root());
        let origin = p("example.com.").unwrap();
        assert_eq!(
            parse_name_text("www", Some(&origin)).unwrap(),
            p("www.example.com.").unwrap()
        );
        assert_eq!(p("www"), Err(NameTextError::NoOrigin));
    }

    #[test]
    fn escapes() {
        assert_eq!(p("a\\.b.c.").unwrap().as_wire(), b"\x03a.b\x01c\x00");
        assert_eq!(p("\\065\\000.").unwrap().as_wire(), b"\x02A\x00\x00");
        assert_eq!(p("\\256."), Err(NameTextError::BadEscape));
        assert_eq!(p("\\12."), Err(NameTextError::BadEscape));
        assert_eq!(p("a\\"), Err(NameTextError::BadEscape));
    }

    #[test]
    fn limits() {
        assert_eq!(p("a..b."), Err(NameTextError::EmptyLabel));
        assert_eq!(p(".a."), Err(NameTextError::EmptyLabel));
        let long = format!("{}.", "a".repeat(64));
        assert_eq!(p(&long), Err(NameTextError::LabelTooLong));
        let ok63 = format!("{}.", "a".repeat(63));
        assert!(p(&ok63).is_ok());
        let too_long = format!("{0}.{0}.{0}.{0}.", "a".repeat(63));
        assert_eq!(p(&too_long), Err(NameTextError::NameTooLong));
    }

    #[test]
    fn prints_with_escapes() {
        let n = p("a\\.b.\\032x\\(.\\200.").unwrap();
        assert_eq!(n.to_string(), "a\\.b.\\032x\\(.\\200.");
        assert_eq!(Name::root().to_string(), ".");
        assert_eq!(p("*.Example.").unwrap().to_string(), "*.Example.");
    }
}
