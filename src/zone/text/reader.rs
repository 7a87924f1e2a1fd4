//! Reads records from zone-file text: `$ORIGIN`, `$TTL`, `@`, relative
//! names, omitted owner, TTL and class (RFC 1035 §5.1, RFC 2308 §4).
//! Errors name the file and the line.

use thiserror::Error;

use super::lexer::{Entry, Lexer, Token};
use super::rdata::{parse_rdata, parse_ttl};
use crate::wire::iana::{class, rtype};
use crate::wire::name::{Name, parse_name_bytes, parse_name_into};
use crate::zone::rr::Rr;

/// TTL used when a file gives none at all (neither `$TTL` nor a previous
/// record), as Knot does.
const FALLBACK_TTL: u32 = 3600;

/// What is wrong in a zone file, and where; `line` 0 is the file as a
/// whole (it could not be read), and is not shown.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{file}{}: {message}", LineSuffix(*line))]
pub struct ZoneFileError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

struct LineSuffix(usize);

impl core::fmt::Display for LineSuffix {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.0 {
            0 => Ok(()),
            n => write!(f, ":{n}"),
        }
    }
}

/// A record read in place: borrows the reader's buffers until the next
/// call, so reading allocates nothing per record.
#[derive(Debug, Clone, Copy)]
pub struct RawRecord<'r> {
    /// Uncompressed wire form, as written (any case).
    pub owner: &'r [u8],
    pub rtype: u16,
    pub class: u16,
    pub ttl: u32,
    pub rdata: &'r [u8],
}

impl RawRecord<'_> {
    pub fn to_rr(&self) -> Rr {
        Rr {
            owner: Name::from_wire(self.owner).unwrap_or_else(|_| Name::root()),
            rtype: self.rtype,
            class: self.class,
            ttl: self.ttl,
            rdata: self.rdata.into(),
        }
    }
}

/// Yields the records of one zone file in order.
pub struct ZoneFileReader<'a> {
    lexer: Lexer<'a>,
    file: &'a str,
    origin: Name,
    default_ttl: Option<u32>,
    /// The current owner, wire form; empty before the first record.
    owner: Vec<u8>,
    /// The token it was parsed from, and the origin it was relative to:
    /// the same token again is not parsed again.
    owner_token: Vec<u8>,
    owner_origin: Vec<u8>,
    last_ttl: Option<u32>,
    tokens: Vec<Token<'a>>,
    rdata: Vec<u8>,
    /// The lexer failed: where the next entry starts is unknown, so the
    /// file ends here.
    lost: bool,
}

impl<'a> ZoneFileReader<'a> {
    /// `file` only labels errors; `origin` is the initial `$ORIGIN`.
    pub fn new(text: &'a [u8], file: &'a str, origin: Name) -> Self {
        ZoneFileReader {
            lexer: Lexer::new(text),
            file,
            origin,
            default_ttl: None,
            owner: Vec::new(),
            owner_token: Vec::new(),
            owner_origin: Vec::new(),
            last_ttl: None,
            tokens: Vec::new(),
            rdata: Vec::new(),
            lost: false,
        }
    }

    fn error(&self, line: usize, message: impl Into<String>) -> ZoneFileError {
        ZoneFileError {
            file: self.file.to_string(),
            line,
            message: message.into(),
        }
    }

    /// The next record, or `None` at the end of the file.
    pub fn next_record(&mut self) -> Result<Option<Rr>, ZoneFileError> {
        Ok(self.next_raw()?.map(|r| r.to_rr()))
    }

    /// The next record, read in place. After an error in a record the
    /// reader goes on with the next entry, so that one pass finds every
    /// bad record; after an error in the file's structure (parentheses,
    /// quotes) it has nothing more.
    pub fn next_raw(&mut self) -> Result<Option<RawRecord<'_>>, ZoneFileError> {
        // The token buffer is reused from entry to entry.
        let mut tokens = core::mem::take(&mut self.tokens);
        let r = self.next_entry_with(&mut tokens);
        self.tokens = tokens;
        Ok(r?.map(|(rtype, class, ttl)| RawRecord {
            owner: &self.owner,
            rtype,
            class,
            ttl,
            rdata: &self.rdata,
        }))
    }

    fn next_entry_with(
        &mut self,
        tokens: &mut Vec<Token<'a>>,
    ) -> Result<Option<(u16, u16, u32)>, ZoneFileError> {
        loop {
            if self.lost {
                return Ok(None);
            }
            let entry = self.lexer.next_entry(tokens).map_err(|e| {
                self.lost = true;
                self.error(e.line, e.message)
            })?;
            let Some(entry) = entry else {
                return Ok(None);
            };
            if let Some(r) = self.entry(entry, tokens)? {
                return Ok(Some(r));
            }
        }
    }

    /// Reads an entry's record into the owner and RDATA buffers; `None`
    /// for a directive.
    fn entry(
        &mut self,
        entry: Entry,
        tokens: &[Token<'a>],
    ) -> Result<Option<(u16, u16, u32)>, ZoneFileError> {
        let line = entry.line;
        let first = tokens[0];
        if !entry.blank_owner && !first.quoted && first.text.first() == Some(&b'$') {
            self.directive(line, tokens)?;
            return Ok(None);
        }
        let mut rest = tokens;
        if entry.blank_owner {
            if self.owner.is_empty() {
                return Err(self.error(
                    line,
                    "no owner name, and no previous record to take it from",
                ));
            }
        } else {
            rest = &rest[1..];
            self.set_owner(line, first)?;
        }
        let mut ttl = None;
        let mut rclass = None;
        let mut rtype_value = None;
        while let Some((t, more)) = rest.split_first() {
            rest = more;
            let s = core::str::from_utf8(t.text).unwrap_or("");
            if ttl.is_none() && t.text.first().is_some_and(u8::is_ascii_digit) {
                ttl = Some(parse_ttl(s).map_err(|e| self.error(line, e))?);
            } else if rclass.is_none()
                && let Some(c) = class::from_name(s)
            {
                rclass = Some(c);
            } else {
                rtype_value = Some(
                    rtype::from_name(s)
                        .ok_or_else(|| self.error(line, format!("unknown type '{s}'")))?,
                );
                break;
            }
        }
        let t = rtype_value.ok_or_else(|| self.error(line, "record has no type"))?;
        if rtype::is_meta(t) {
            return Err(self.error(
                line,
                format!("{} cannot appear in a zone", rtype::Display(t)),
            ));
        }
        let c = rclass.unwrap_or(class::IN);
        if c != class::IN {
            return Err(self.error(line, "only class IN is supported"));
        }
        let ttl = ttl
            .or(self.default_ttl)
            .or(self.last_ttl)
            .unwrap_or(FALLBACK_TTL);
        parse_rdata(t, rest, &self.origin, &mut self.rdata)
            .map_err(|e| self.error(line, format!("{} record: {e}", rtype::Display(t))))?;
        self.last_ttl = Some(ttl);
        Ok(Some((t, c, ttl)))
    }

    /// Sets the owner from its token, unless it is the token (and origin)
    /// the current owner came from.
    fn set_owner(&mut self, line: usize, t: Token<'_>) -> Result<(), ZoneFileError> {
        if !self.owner.is_empty()
            && t.text == self.owner_token.as_slice()
            && self.origin.as_wire() == self.owner_origin.as_slice()
        {
            return Ok(());
        }
        self.owner.clear();
        if t.text == b"@" {
            self.owner.extend_from_slice(self.origin.as_wire());
        } else if let Err(e) = parse_name_into(t.text, Some(self.origin.as_wire()), &mut self.owner)
        {
            self.owner.clear();
            return Err(self.error(
                line,
                format!("bad name '{}': {e}", String::from_utf8_lossy(t.text)),
            ));
        }
        self.owner_token.clear();
        self.owner_token.extend_from_slice(t.text);
        self.owner_origin.clear();
        self.owner_origin.extend_from_slice(self.origin.as_wire());
        Ok(())
    }

    fn directive(&mut self, line: usize, tokens: &[Token<'a>]) -> Result<(), ZoneFileError> {
        let d = String::from_utf8_lossy(tokens[0].text).to_ascii_uppercase();
        let arg = tokens
            .get(1)
            .ok_or_else(|| self.error(line, format!("{d} needs an argument")))?;
        match d.as_str() {
            "$ORIGIN" => {
                let n = parse_name_bytes(arg.text, Some(&self.origin))
                    .map_err(|e| self.error(line, format!("bad $ORIGIN: {e}")))?;
                self.origin = n;
            }
            "$TTL" => {
                let s = core::str::from_utf8(arg.text).unwrap_or("");
                self.default_ttl =
                    Some(parse_ttl(s).map_err(|e| self.error(line, format!("bad $TTL: {e}")))?);
            }
            _ => return Err(self.error(line, format!("unsupported directive {d}"))),
        }
        if tokens.len() > 2 {
            return Err(self.error(line, format!("{d} takes one argument")));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::name::parse_name_text;

    fn read(text: &str) -> Result<Vec<Rr>, ZoneFileError> {
        let origin = parse_name_text("example.com.", None).unwrap();
        let mut r = ZoneFileReader::new(text.as_bytes(), "test.zone", origin);
        let mut v = Vec::new();
        while let Some(rr) = r.next_record()? {
            v.push(rr);
        }
        Ok(v)
    }

    fn lines(text: &str) -> Vec<String> {
        read(text).unwrap().iter().map(|r| r.to_string()).collect()
    }

    #[test]
    fn defaults_for_owner_ttl_and_class() {
        let got = lines(
            "$TTL 1h\n@ SOA ns hm 1 2 3 4 5\n  NS ns\nwww 60 IN A 192.0.2.1\n IN 30 AAAA ::1\n  TXT x\n$ORIGIN sub\nhost A 192.0.2.2\n",
        );
        assert_eq!(
            got,
            [
                "example.com. 3600 IN SOA ns.example.com. hm.example.com. 1 2 3 4 5",
                "example.com. 3600 IN NS ns.example.com.",
                "www.example.com. 60 IN A 192.0.2.1",
                "www.example.com. 30 IN AAAA ::1",
                "www.example.com. 3600 IN TXT \"x\"",
                "host.sub.example.com. 3600 IN A 192.0.2.2",
            ]
        );
    }

    #[test]
    fn last_ttl_used_without_dollar_ttl() {
        let got = lines("a 300 A 192.0.2.1\nb A 192.0.2.2\n");
        assert_eq!(got[1], "b.example.com. 300 IN A 192.0.2.2");
    }

    #[test]
    fn escapes_in_owner_names() {
        let got = lines("a\\.b A 192.0.2.1\n\\065x A 192.0.2.1\n");
        assert_eq!(got[0], "a\\.b.example.com. 3600 IN A 192.0.2.1");
        assert_eq!(got[1], "Ax.example.com. 3600 IN A 192.0.2.1");
    }

    #[test]
    fn errors_name_file_and_line() {
        let e = read("a A 192.0.2.1\nb A 300.1.1.1\n").unwrap_err();
        assert_eq!((e.file.as_str(), e.line), ("test.zone", 2));
        assert!(
            e.to_string().starts_with("test.zone:2: A record: bad IPv4"),
            "{e}"
        );
        assert_eq!(
            read("a BOGUS x\n").unwrap_err().message,
            "unknown type 'BOGUS'"
        );
        assert_eq!(
            read("a CH TXT x\n").unwrap_err().message,
            "only class IN is supported"
        );
        assert_eq!(read(" A 192.0.2.1\n").unwrap_err().line, 1);
        assert!(read("$INCLUDE other\n").is_err());
        assert!(read("a ANY \\# 0\n").is_err());
        assert!(read("a\n").is_err());
    }
}
