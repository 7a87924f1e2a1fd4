//! Interpreting a zone transfer response (RFC 5936 AXFR, RFC 1995 IXFR)
//! record by record as its messages arrive. A whole zone goes straight
//! into a snapshot builder; IXFR difference sequences are collected.
//! Limits on records, octets and messages are checked as data arrives, so
//! a broken or hostile primary cannot make zonecast use unbounded memory.

use thiserror::Error;

use crate::wire::iana::{class, rcode, rtype};
use crate::wire::name::NameBuf;
use crate::wire::rdata::read_rdata;
use crate::wire::serial::Serial;
use crate::wire::{Message, Name, WireError};
use crate::zone::snapshot::soa_field;
use crate::zone::{Diff, Rr, SnapshotBuilder};

/// Bounds on one transfer.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_records: usize,
    pub max_bytes: usize,
    pub max_messages: usize,
    /// Most NSEC3 iterations a zone may name (RFC 9276 §3.2): every
    /// NXDOMAIN costs that many hashes, plus one, per name hashed.
    pub nsec3_max_iterations: u16,
    /// How many of the changes applied by IXFR each zone keeps, for the
    /// secondaries it feeds.
    pub journal: crate::zone::journal::JournalLimits,
    /// What to do with a version's ZONEMD (RFC 8976), per zone.
    pub zonemd: crate::zone::zonemd::ZonemdPolicy,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum StreamError {
    #[error("primary answered with {}", rcode::Display(*.0))]
    Rcode(u16),
    #[error("malformed message: {0}")]
    Malformed(&'static str),
    #[error("malformed record: {0}")]
    Wire(WireError),
    #[error("message ID {got} does not answer query {want}")]
    WrongId { got: u16, want: u16 },
    #[error("message answers another question")]
    WrongQuestion,
    #[error("message has TC set")]
    Truncated,
    #[error("the transfer does not start with the zone's SOA")]
    NoLeadingSoa,
    #[error("record outside the zone: {0}")]
    OutOfZone(String),
    #[error("record of class {0} in the transfer")]
    WrongClass(u16),
    #[error("data after the closing SOA")]
    TrailingData,
    #[error("closing SOA has serial {last}, opening SOA {first}")]
    SoaMismatch { first: u32, last: u32 },
    #[error("more than {0} records")]
    TooManyRecords(usize),
    #[error("more than {0} octets")]
    TooManyBytes(usize),
    #[error("more than {0} messages")]
    TooManyMessages(usize),
    #[error("the transfer ended before its closing SOA")]
    Incomplete,
}

impl From<WireError> for StreamError {
    fn from(e: WireError) -> Self {
        StreamError::Wire(e)
    }
}

/// What a finished transfer holds.
pub enum Received {
    /// The whole zone: an AXFR, or an IXFR answered with the whole zone.
    Zone {
        /// Boxed: the builder is large beside the other variants.
        builder: Box<SnapshotBuilder>,
        serial: u32,
        /// An IXFR answered AXFR-style (RFC 1995 §4).
        from_ixfr: bool,
    },
    /// Difference sequences from our serial to `serial`.
    Diffs { diffs: Vec<Diff>, serial: u32 },
    /// IXFR answered with the primary's SOA alone: nothing newer.
    UpToDate { serial: u32 },
}

enum State {
    /// Expecting the opening SOA.
    Start,
    /// IXFR: the record after the opening SOA decides the form.
    AfterFirst,
    /// Whole zone, until the closing SOA.
    Zone,
    /// IXFR: deletions of the current sequence.
    Deleting,
    /// IXFR: additions of the current sequence.
    Adding,
    Done,
}

pub struct TransferStream {
    apex: Name,
    qtype: u16,
    id: u16,
    our_serial: Option<u32>,
    limits: Limits,
    state: State,
    first_soa: Option<Rr>,
    serial: u32,
    records: usize,
    bytes: usize,
    messages: usize,
    builder: Option<SnapshotBuilder>,
    diffs: Vec<Diff>,
    current: Option<Diff>,
    up_to_date: bool,
    rdata: Vec<u8>,
}

fn is_soa_at(rr: &Rr, apex: &Name) -> bool {
    rr.rtype == rtype::SOA && rr.owner.eq_ignore_case(apex)
}

impl TransferStream {
    /// A stream answering query `id` of type `qtype` (AXFR or IXFR) for
    /// the zone at `apex`, which we hold at `our_serial`.
    pub fn new(apex: &Name, qtype: u16, id: u16, our_serial: Option<u32>, limits: Limits) -> Self {
        TransferStream {
            apex: apex.to_lowercase(),
            qtype,
            id,
            our_serial,
            limits,
            state: State::Start,
            first_soa: None,
            serial: 0,
            records: 0,
            bytes: 0,
            messages: 0,
            builder: None,
            diffs: Vec::new(),
            current: None,
            up_to_date: false,
            rdata: Vec::new(),
        }
    }

    /// Records, octets and messages received so far.
    pub fn stats(&self) -> (usize, usize, usize) {
        (self.records, self.bytes, self.messages)
    }

    pub fn is_done(&self) -> bool {
        matches!(self.state, State::Done)
    }

    /// Takes one message; `Ok(true)` once the closing SOA has arrived.
    pub fn on_message(&mut self, msg: &[u8]) -> Result<bool, StreamError> {
        self.messages += 1;
        self.bytes += msg.len();
        if self.messages > self.limits.max_messages {
            return Err(StreamError::TooManyMessages(self.limits.max_messages));
        }
        if self.bytes > self.limits.max_bytes {
            return Err(StreamError::TooManyBytes(self.limits.max_bytes));
        }
        if self.is_done() {
            return Err(StreamError::TrailingData);
        }
        let m = Message::new_checked(msg)?;
        let h = m.header();
        if h.id() != self.id {
            return Err(StreamError::WrongId {
                got: h.id(),
                want: self.id,
            });
        }
        if !h.qr() || h.opcode() != 0 {
            return Err(StreamError::Malformed("not a response to a query"));
        }
        let s = m.parse()?;
        let code = (h.rcode() as u16)
            | s.edns()
                .and_then(|e| e.ok())
                .map_or(0, |e| (e.ext_rcode as u16) << 4);
        if code != rcode::NOERROR {
            return Err(StreamError::Rcode(code));
        }
        if h.flags() & crate::wire::header::flag::TC != 0 {
            return Err(StreamError::Truncated);
        }
        // RFC 5936 §2.2.1: later messages may leave the question out.
        if h.qdcount() > 1 {
            return Err(StreamError::WrongQuestion);
        }
        if let Some(q) = s.question
            && (q.qtype != self.qtype
                || q.qclass != class::IN
                || !q.name().as_wire().eq_ignore_ascii_case(self.apex.as_wire()))
        {
            return Err(StreamError::WrongQuestion);
        }
        for r in s.answers() {
            let r = r?;
            if self.is_done() {
                return Err(StreamError::TrailingData);
            }
            if r.class != class::IN {
                return Err(StreamError::WrongClass(r.class));
            }
            self.rdata.clear();
            read_rdata(msg, r.rdata_pos, r.rdata_len, r.rtype, &mut self.rdata)?;
            let owner: NameBuf = r.owner();
            let rr = Rr {
                owner: Name::from_buf(&owner),
                rtype: r.rtype,
                class: r.class,
                ttl: r.ttl,
                rdata: self.rdata.as_slice().into(),
            };
            self.feed(rr)?;
        }
        // An IXFR answer whose first message holds the opening SOA alone is
        // that SOA alone (RFC 1995 §4): the primary has no diff to give.
        // Primaries pack many records per message, so a stream split after
        // its first record is not a case seen in practice.
        if matches!(self.state, State::AfterFirst) && self.messages == 1 {
            self.up_to_date = true;
            self.state = State::Done;
        }
        Ok(self.is_done())
    }

    fn feed(&mut self, rr: Rr) -> Result<(), StreamError> {
        self.records += 1;
        if self.records > self.limits.max_records {
            return Err(StreamError::TooManyRecords(self.limits.max_records));
        }
        if !rr.owner.is_subdomain_of(&self.apex) {
            return Err(StreamError::OutOfZone(rr.to_string()));
        }
        let soa = is_soa_at(&rr, &self.apex);
        match self.state {
            State::Start => {
                if !soa {
                    return Err(StreamError::NoLeadingSoa);
                }
                self.serial = soa_field(&rr.rdata, 0);
                if self.qtype == rtype::IXFR {
                    // RFC 1995 §4: the primary's SOA alone means nothing
                    // newer than what we have.
                    let newer = self
                        .our_serial
                        .is_none_or(|o| Serial(self.serial).is_newer_than(Serial(o)));
                    if !newer {
                        self.up_to_date = true;
                        self.state = State::Done;
                    } else {
                        self.state = State::AfterFirst;
                    }
                    self.first_soa = Some(rr);
                } else {
                    self.start_zone(rr.clone());
                    self.first_soa = Some(rr);
                }
            }
            State::AfterFirst => {
                let first = self.first_soa.clone().ok_or(StreamError::NoLeadingSoa)?;
                if soa && soa_field(&rr.rdata, 0) == self.serial {
                    // A zone with nothing but its SOA, sent AXFR-style.
                    self.start_zone(first);
                    self.state = State::Done;
                } else if soa {
                    self.current = Some(Diff {
                        old_soa: rr,
                        removed: Vec::new(),
                        new_soa: first,
                        added: Vec::new(),
                    });
                    self.state = State::Deleting;
                } else {
                    self.start_zone(first);
                    self.add_to_zone(rr);
                }
            }
            State::Zone => {
                if soa {
                    let last = soa_field(&rr.rdata, 0);
                    // pdns#16366: the closing SOA must match the opening.
                    if last != self.serial {
                        return Err(StreamError::SoaMismatch {
                            first: self.serial,
                            last,
                        });
                    }
                    self.state = State::Done;
                } else {
                    self.add_to_zone(rr);
                }
            }
            State::Deleting => {
                let cur = self.current.as_mut().ok_or(StreamError::Incomplete)?;
                if soa {
                    cur.new_soa = rr;
                    self.state = State::Adding;
                } else {
                    cur.removed.push(rr);
                }
            }
            State::Adding => {
                if soa {
                    let s = soa_field(&rr.rdata, 0);
                    let cur = self.current.take().ok_or(StreamError::Incomplete)?;
                    let ends = s == self.serial && cur.to_serial() == self.serial;
                    self.diffs.push(cur);
                    if ends {
                        self.state = State::Done;
                    } else {
                        self.current = Some(Diff {
                            old_soa: rr.clone(),
                            removed: Vec::new(),
                            new_soa: rr,
                            added: Vec::new(),
                        });
                        self.state = State::Deleting;
                    }
                } else if let Some(cur) = self.current.as_mut() {
                    cur.added.push(rr);
                }
            }
            State::Done => return Err(StreamError::TrailingData),
        }
        Ok(())
    }

    fn start_zone(&mut self, soa: Rr) {
        let mut b = SnapshotBuilder::new(&self.apex);
        b.add(soa);
        self.builder = Some(b);
        self.state = State::Zone;
    }

    fn add_to_zone(&mut self, rr: Rr) {
        if let Some(b) = self.builder.as_mut() {
            b.add(rr);
        }
    }

    /// What arrived, once the closing SOA has.
    pub fn finish(self) -> Result<Received, StreamError> {
        if !self.is_done() {
            return Err(StreamError::Incomplete);
        }
        if self.up_to_date {
            return Ok(Received::UpToDate {
                serial: self.serial,
            });
        }
        match self.builder {
            Some(builder) => Ok(Received::Zone {
                builder: Box::new(builder),
                serial: self.serial,
                from_ixfr: self.qtype == rtype::IXFR,
            }),
            None => Ok(Received::Diffs {
                diffs: self.diffs,
                serial: self.serial,
            }),
        }
    }
}

#[cfg(test)]
mod tests;
