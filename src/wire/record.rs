//! Questions and resource records read in place (RFC 1035 §4.1.2, §4.1.3).

use super::error::{Result, WireError};
use super::name::{self, NameBuf};

/// A question entry: the name stays in the message, at `name_pos`.
#[derive(Debug, Clone, Copy)]
pub struct Question<'a> {
    msg: &'a [u8],
    pub name_pos: usize,
    pub qtype: u16,
    pub qclass: u16,
    /// Position just after the entry.
    pub end: usize,
}

impl<'a> Question<'a> {
    /// Reads the question at `pos`.
    pub fn parse(msg: &'a [u8], pos: usize) -> Result<Self> {
        let after_name = name::skip(msg, pos)?;
        let fixed = msg
            .get(after_name..after_name + 4)
            .ok_or(WireError::Truncated)?;
        Ok(Question {
            msg,
            name_pos: pos,
            qtype: u16::from_be_bytes([fixed[0], fixed[1]]),
            qclass: u16::from_be_bytes([fixed[2], fixed[3]]),
            end: after_name + 4,
        })
    }

    /// Copies the name out, compression resolved.
    pub fn name(&self) -> NameBuf {
        let mut b = NameBuf::root();
        // Validated by `parse`, so this read cannot fail.
        let _ = b.read(self.msg, self.name_pos);
        b
    }
}

/// A resource record: owner and RDATA stay in the message.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    msg: &'a [u8],
    /// Where the record, and its owner name, starts.
    pub start: usize,
    pub rtype: u16,
    pub class: u16,
    pub ttl: u32,
    /// Where the RDATA starts.
    pub rdata_pos: usize,
    pub rdata_len: usize,
}

impl<'a> Record<'a> {
    /// Reads the record at `pos`, checking that its RDATA lies inside the
    /// message (its content is checked by whoever interprets the type).
    pub fn parse(msg: &'a [u8], pos: usize) -> Result<Self> {
        let after_name = name::skip(msg, pos)?;
        let f = msg
            .get(after_name..after_name + 10)
            .ok_or(WireError::Truncated)?;
        let rdata_len = u16::from_be_bytes([f[8], f[9]]) as usize;
        let rdata_pos = after_name + 10;
        if rdata_pos + rdata_len > msg.len() {
            return Err(WireError::Truncated);
        }
        Ok(Record {
            msg,
            start: pos,
            rtype: u16::from_be_bytes([f[0], f[1]]),
            class: u16::from_be_bytes([f[2], f[3]]),
            ttl: u32::from_be_bytes([f[4], f[5], f[6], f[7]]),
            rdata_pos,
            rdata_len,
        })
    }

    pub fn owner(&self) -> NameBuf {
        let mut b = NameBuf::root();
        // Validated by `parse`.
        let _ = b.read(self.msg, self.start);
        b
    }

    /// The message the record is in (RDATA names may point into it).
    pub fn message(&self) -> &'a [u8] {
        self.msg
    }

    pub fn rdata(&self) -> &'a [u8] {
        &self.msg[self.rdata_pos..self.rdata_pos + self.rdata_len]
    }

    /// Position just after the record.
    pub fn end(&self) -> usize {
        self.rdata_pos + self.rdata_len
    }
}

/// Iterator over `count` records starting at a position; stops at the
/// first malformed one, yielding its error.
#[derive(Debug, Clone)]
pub struct Records<'a> {
    msg: &'a [u8],
    pos: usize,
    remaining: u16,
}

impl<'a> Records<'a> {
    pub fn new(msg: &'a [u8], pos: usize, count: u16) -> Self {
        Records {
            msg,
            pos,
            remaining: count,
        }
    }

    /// Position after the records read so far.
    pub fn position(&self) -> usize {
        self.pos
    }
}

impl<'a> Iterator for Records<'a> {
    type Item = Result<Record<'a>>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            return None;
        }
        match Record::parse(self.msg, self.pos) {
            Ok(r) => {
                self.remaining -= 1;
                self.pos = r.end();
                Some(Ok(r))
            }
            Err(e) => {
                self.remaining = 0;
                Some(Err(e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_question_and_record() {
        // A header, the question at 12, then an A record pointing to it.
        let msg = [
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // header
            3, b'w', b'w', b'w', 0, 0, 1, 0, 1, // www. A IN
            0xc0, 12, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, 192, 0, 2, 1,
        ];
        let q = Question::parse(&msg, 12).unwrap();
        assert_eq!((q.qtype, q.qclass, q.end), (1, 1, 21));
        assert_eq!(q.name().as_wire(), b"\x03www\x00");
        let r = Record::parse(&msg, 21).unwrap();
        assert_eq!((r.rtype, r.class, r.ttl), (1, 1, 3600));
        assert_eq!(r.rdata(), &[192, 0, 2, 1]);
        assert_eq!(r.owner().as_wire(), b"\x03www\x00");
        assert_eq!(r.end(), msg.len());
    }

    #[test]
    fn rejects_rdata_past_end() {
        let msg = [0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 5, 1, 2];
        assert_eq!(Record::parse(&msg, 0).err(), Some(WireError::Truncated));
        assert_eq!(
            Record::parse(&msg[..5], 0).err(),
            Some(WireError::Truncated)
        );
    }

    #[test]
    fn iterator_stops_at_error() {
        let msg = [0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0];
        let mut it = Records::new(&msg, 0, 5);
        assert!(it.next().unwrap().is_ok());
        assert!(it.next().unwrap().is_err());
        assert!(it.next().is_none());
    }
}
