//! A whole message read in place: header, questions, the three record
//! sections, and the OPT and TSIG pseudo-records found among them.

use super::edns::Edns;
use super::error::{Result, WireError};
use super::header::{HEADER_LEN, Header};
use super::iana::rtype;
use super::record::{Question, Record, Records};

/// A message whose header has been checked to be present.
#[derive(Debug, Clone, Copy)]
pub struct Message<'a> {
    buf: &'a [u8],
}

impl<'a> Message<'a> {
    pub fn new_checked(buf: &'a [u8]) -> Result<Self> {
        Header::new_checked(buf)?;
        Ok(Message { buf })
    }

    pub fn bytes(&self) -> &'a [u8] {
        self.buf
    }

    pub fn header(&self) -> Header<&'a [u8]> {
        // Length checked in `new_checked`.
        Header::new_checked(self.buf).unwrap_or_else(|_| unreachable!())
    }

    /// The question entries.
    pub fn questions(&self) -> Questions<'a> {
        Questions {
            msg: self.buf,
            pos: HEADER_LEN,
            remaining: self.header().qdcount(),
        }
    }

    /// Walks every section and checks the whole message's structure.
    pub fn parse(&self) -> Result<Sections<'a>> {
        let mut qs = self.questions();
        let mut first = None;
        for q in &mut qs {
            let q = q?;
            first.get_or_insert(q);
        }
        let h = self.header();
        let mut s =
            Sections::parse_records(self.buf, qs.pos, h.ancount(), h.nscount(), h.arcount())?;
        s.question = first;
        Ok(s)
    }
}

/// Iterator over the question entries.
pub struct Questions<'a> {
    msg: &'a [u8],
    pos: usize,
    remaining: u16,
}

impl<'a> Iterator for Questions<'a> {
    type Item = Result<Question<'a>>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            return None;
        }
        match Question::parse(self.msg, self.pos) {
            Ok(q) => {
                self.remaining -= 1;
                self.pos = q.end;
                Some(Ok(q))
            }
            Err(e) => {
                self.remaining = 0;
                Some(Err(e))
            }
        }
    }
}

/// Where each section starts, and the pseudo-records.
#[derive(Debug, Clone, Copy)]
pub struct Sections<'a> {
    msg: &'a [u8],
    pub question: Option<Question<'a>>,
    pub answer: usize,
    pub authority: usize,
    pub additional: usize,
    pub end: usize,
    pub counts: [u16; 3],
    pub opt: Option<Record<'a>>,
    /// The TSIG record; RFC 8945 §5.1 requires it to be the last one.
    pub tsig: Option<Record<'a>>,
}

impl<'a> Sections<'a> {
    /// Walks the answer, authority and additional sections starting at
    /// `pos` (just after the questions). Rejects OPT outside the additional
    /// section or more than once (RFC 6891 §6.1.1), TSIG anywhere but last
    /// (RFC 8945 §5.1), and data after the last record.
    pub fn parse_records(msg: &'a [u8], pos: usize, an: u16, ns: u16, ar: u16) -> Result<Self> {
        let mut recs = Records::new(msg, pos, an);
        for r in &mut recs {
            check_pseudo(&r?)?;
        }
        let authority = recs.position();
        let mut recs = Records::new(msg, authority, ns);
        for r in &mut recs {
            check_pseudo(&r?)?;
        }
        let additional = recs.position();
        let mut opt = None;
        let mut tsig = None;
        let mut recs = Records::new(msg, additional, ar);
        for r in &mut recs {
            let r = r?;
            if tsig.is_some() {
                return Err(WireError::BadRdata);
            }
            match r.rtype {
                rtype::OPT if opt.is_some() => return Err(WireError::BadOpt),
                rtype::OPT => opt = Some(r),
                rtype::TSIG => tsig = Some(r),
                _ => {}
            }
        }
        let end = recs.position();
        if end != msg.len() {
            return Err(WireError::TrailingData);
        }
        Ok(Sections {
            msg,
            question: None,
            answer: pos,
            authority,
            additional,
            end,
            counts: [an, ns, ar],
            opt,
            tsig,
        })
    }

    pub fn answers(&self) -> Records<'a> {
        Records::new(self.msg, self.answer, self.counts[0])
    }
    pub fn authorities(&self) -> Records<'a> {
        Records::new(self.msg, self.authority, self.counts[1])
    }
    pub fn additionals(&self) -> Records<'a> {
        Records::new(self.msg, self.additional, self.counts[2])
    }

    /// The OPT record interpreted, if there is one.
    pub fn edns(&self) -> Option<Result<Edns<'a>>> {
        self.opt.as_ref().map(Edns::from_record)
    }
}

fn check_pseudo(r: &Record<'_>) -> Result<()> {
    match r.rtype {
        rtype::OPT => Err(WireError::BadOpt),
        rtype::TSIG => Err(WireError::BadRdata),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A query for www. A with an OPT record, as dig sends it.
    const QUERY: &[u8] = &[
        0x12, 0x34, 0x01, 0x20, 0, 1, 0, 0, 0, 0, 0, 1, // header
        3, b'w', b'w', b'w', 0, 0, 1, 0, 1, // question
        0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0, // OPT, 1232
    ];

    #[test]
    fn parses_query_with_opt() {
        let m = Message::new_checked(QUERY).unwrap();
        let s = m.parse().unwrap();
        let q = s.question.unwrap();
        assert_eq!(q.qtype, 1);
        assert_eq!(s.additional, 21);
        assert_eq!(s.end, QUERY.len());
        let e = s.edns().unwrap().unwrap();
        assert_eq!(e.udp_payload, 1232);
        assert!(s.tsig.is_none());
    }

    #[test]
    fn rejects_trailing_data() {
        let mut v = QUERY.to_vec();
        v.push(0);
        let m = Message::new_checked(&v).unwrap();
        assert_eq!(m.parse().err(), Some(WireError::TrailingData));
    }

    #[test]
    fn rejects_two_opts_and_opt_in_answer() {
        let mut v = QUERY.to_vec();
        v[11] = 2;
        v.extend_from_slice(&QUERY[21..]);
        assert_eq!(
            Message::new_checked(&v).unwrap().parse().err(),
            Some(WireError::BadOpt)
        );
        let mut v = QUERY.to_vec();
        v[7] = 1; // ANCOUNT 1
        v[11] = 0;
        assert_eq!(
            Message::new_checked(&v).unwrap().parse().err(),
            Some(WireError::BadOpt)
        );
    }

    #[test]
    fn rejects_counts_beyond_data() {
        let mut v = QUERY.to_vec();
        v[11] = 3;
        assert_eq!(
            Message::new_checked(&v).unwrap().parse().err(),
            Some(WireError::Truncated)
        );
        let mut v = QUERY.to_vec();
        v[5] = 2;
        assert!(Message::new_checked(&v).unwrap().parse().is_err());
    }
}
