//! Reading a query: what to drop, what is FORMERR, and the facts the
//! answer needs. Knot DNS is the model: silence for a broken header or
//! question, FORMERR for broken records after it.

use super::cookie::{CookieOpt, SERVER_COOKIE_LEN};
use crate::wire::edns::{Edns, EdnsOption};
use crate::wire::header::flag;
use crate::wire::iana::{edns_option, opcode};
use crate::wire::name::{NameBuf, SuffixHashes};
use crate::wire::tsig::TsigRdata;
use crate::wire::{HEADER_LEN, Header, Sections};

/// What the query's OPT record asked for (RFC 6891).
#[derive(Debug, Clone, Copy, Default)]
pub struct EdnsRequest {
    pub payload: u16,
    pub version: u8,
    pub dnssec_ok: bool,
    /// RFC 5001.
    pub nsid: bool,
    /// RFC 7314.
    pub expire: bool,
    /// RFC 7873: the first COOKIE option.
    pub cookie: CookieOpt,
}

impl EdnsRequest {
    fn from(e: &Edns<'_>) -> Self {
        let mut r = EdnsRequest {
            payload: e.udp_payload,
            version: e.version,
            dnssec_ok: e.dnssec_ok(),
            ..Default::default()
        };
        for o in e.options().flatten() {
            match o {
                EdnsOption::Nsid(_) => r.nsid = true,
                EdnsOption::Expire(_) => r.expire = true,
                EdnsOption::Cookie { client, server } if r.cookie == CookieOpt::None => {
                    r.cookie = cookie_opt(client, server);
                }
                EdnsOption::Malformed {
                    code: edns_option::COOKIE,
                    ..
                } if r.cookie == CookieOpt::None => r.cookie = CookieOpt::Malformed,
                _ => {}
            }
        }
        r
    }
}

/// The cookie option as the request holds it (the wire reader has
/// checked the lengths: 8, or 16 to 40).
pub(super) fn cookie_opt(client: &[u8], server: &[u8]) -> CookieOpt {
    let Ok(client) = <[u8; 8]>::try_from(client) else {
        return CookieOpt::Malformed;
    };
    if server.is_empty() {
        return CookieOpt::Client(client);
    }
    match <[u8; SERVER_COOKIE_LEN]>::try_from(server) {
        Ok(server) => CookieOpt::Both { client, server },
        Err(_) => CookieOpt::Foreign(client),
    }
}

/// A query that was read well enough to answer. Lives in the worker's
/// scratch space and is overwritten per packet: no allocation.
pub struct Request {
    pub id: u16,
    pub flags: u16,
    pub opcode: u8,
    /// The question name as sent (its case is echoed).
    pub qname: NameBuf,
    /// The question name lowercased, and the hash of each of its suffixes.
    pub lower: NameBuf,
    pub hashes: SuffixHashes,
    pub qtype: u16,
    pub qclass: u16,
    pub edns: Option<EdnsRequest>,
    /// Position of the TSIG record, if any.
    pub tsig_pos: Option<usize>,
}

impl Default for Request {
    fn default() -> Self {
        let root = NameBuf::root();
        Request {
            id: 0,
            flags: 0,
            opcode: 0,
            hashes: SuffixHashes::compute(&root),
            qname: root.clone(),
            lower: root,
            qtype: 0,
            qclass: 0,
            edns: None,
            tsig_pos: None,
        }
    }
}

/// Why a query is not answered normally.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// No answer at all.
    Drop,
    /// FORMERR. `question` tells whether the question was read (and is in
    /// the request) so it can be echoed; `edns` whether OPT was read.
    FormErr { question: bool, edns: bool },
    /// NOTIMP: an opcode zonecast does not implement, in a message
    /// without a question (with one, the engine says NOTIMP itself).
    NotImp { edns: bool },
}

impl Request {
    /// Reads `msg` into `self`.
    pub fn parse(&mut self, msg: &[u8]) -> Result<(), Rejection> {
        let Ok(h) = Header::new_checked(msg) else {
            return Err(Rejection::Drop);
        };
        // Never answer a response (no reflection loops).
        if h.qr() {
            return Err(Rejection::Drop);
        }
        self.id = h.id();
        self.flags = h.flags();
        self.opcode = h.opcode();
        self.edns = None;
        self.tsig_pos = None;
        let qd = h.qdcount();
        if qd > 1 {
            return Err(Rejection::Drop);
        }
        let mut pos = HEADER_LEN;
        if qd == 1 {
            // One walk of the name validates and copies it.
            let after = self
                .qname
                .read(msg, HEADER_LEN)
                .map_err(|_| Rejection::Drop)?;
            let fixed = msg.get(after..after + 4).ok_or(Rejection::Drop)?;
            self.qtype = u16::from_be_bytes([fixed[0], fixed[1]]);
            self.qclass = u16::from_be_bytes([fixed[2], fixed[3]]);
            self.lower.copy_lowercase_from(&self.qname);
            self.hashes.compute_into(&self.lower);
            pos = after + 4;
        }
        let question = qd == 1;
        // The usual query: one question, then nothing or one OPT record.
        if question && h.ancount() == 0 && h.nscount() == 0 && h.arcount() <= 1 {
            match h.arcount() {
                0 if pos == msg.len() => return Ok(()),
                1 if msg.get(pos) == Some(&0) && msg.get(pos + 1..pos + 3) == Some(&[0, 41]) => {
                    return self.read_opt(msg, pos);
                }
                _ => {}
            }
        }
        let sections = Sections::parse_records(msg, pos, h.ancount(), h.nscount(), h.arcount())
            .map_err(|_| Rejection::FormErr {
                question,
                edns: false,
            })?;
        if let Some(opt) = sections.edns() {
            let e = opt.map_err(|_| Rejection::FormErr {
                question,
                edns: false,
            })?;
            self.edns = Some(EdnsRequest::from(&e));
        }
        if let Some(t) = sections.tsig {
            TsigRdata::parse(msg, t.rdata_pos, t.rdata_len).map_err(|_| Rejection::FormErr {
                question,
                edns: self.edns.is_some(),
            })?;
            self.tsig_pos = Some(t.start);
        }
        if !question {
            let edns = self.edns.is_some();
            // Knot and NSD answer an unknown opcode NOTIMP whatever the
            // rest holds (RFC 1035 §4.1.1); a query, NOTIFY or UPDATE
            // without its question is malformed.
            return Err(match self.opcode {
                opcode::QUERY | opcode::NOTIFY | opcode::UPDATE => Rejection::FormErr {
                    question: false,
                    edns,
                },
                _ => Rejection::NotImp { edns },
            });
        }
        Ok(())
    }

    /// Reads a lone OPT record (root owner) ending the message at `pos`.
    fn read_opt(&mut self, msg: &[u8], pos: usize) -> Result<(), Rejection> {
        let formerr = Rejection::FormErr {
            question: true,
            edns: false,
        };
        let rec = crate::wire::Record::parse(msg, pos).map_err(|_| formerr)?;
        if rec.end() != msg.len() {
            return Err(formerr);
        }
        let e = Edns::from_record(&rec).map_err(|_| formerr)?;
        self.edns = Some(EdnsRequest::from(&e));
        Ok(())
    }

    /// Whether the client asked for recursion (echoed per RFC 1035 §4.1.1).
    pub fn rd(&self) -> bool {
        self.flags & flag::RD != 0
    }
}
