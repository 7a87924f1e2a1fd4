//! One refresh of one zone from one primary, over one TCP connection,
//! sans I/O: messages in, messages out, time passed in.
//!
//! With a zone in hand: SOA query; if the primary's serial is newer
//! (RFC 1982), IXFR with our SOA (RFC 1995); if IXFR is refused or its
//! difference sequences do not apply, AXFR (RFC 5936) on the same
//! connection. Without a zone: AXFR at once. Every message is checked
//! with TSIG when the zone has a key (RFC 8945).

use std::sync::Arc;

use thiserror::Error;

use super::stream::{Limits, Received, StreamError, TransferStream};
use crate::tsig::{MacBytes, ResponseVerifier, TsigError, TsigKey, sign_request};
use crate::wire::header::flag;
use crate::wire::iana::{class, rcode, rtype};
use crate::wire::serial::Serial;
use crate::wire::{Message, Name};
use crate::zone::diff::apply;
use crate::zone::journal::{Change, Journal};
use crate::zone::snapshot::soa_field;
use crate::zone::zonemd::{self, ZonemdCheck, ZonemdError};
use crate::zone::{Snapshot, ZoneError};

/// How the new version arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferKind {
    Axfr,
    Ixfr,
    /// IXFR answered with the whole zone (RFC 1995 §4).
    IxfrAxfrStyle,
}

impl TransferKind {
    /// The place of the kind in the metrics' list of kinds.
    pub fn index(self) -> usize {
        self as usize
    }

    pub fn label(self) -> &'static str {
        match self {
            TransferKind::Axfr => "AXFR",
            TransferKind::Ixfr => "IXFR",
            TransferKind::IxfrAxfrStyle => "IXFR (AXFR-style)",
        }
    }
}

/// A new version of the zone.
pub struct Transferred {
    pub kind: TransferKind,
    pub snapshot: Snapshot,
    pub warnings: Vec<String>,
    /// Why IXFR gave way to AXFR, when it did.
    pub fallback: Option<String>,
    pub records: usize,
    pub bytes: usize,
    pub messages: usize,
    /// What the version's ZONEMD said (RFC 8976).
    pub zonemd: ZonemdCheck,
}

pub enum Outcome {
    /// The primary has nothing newer.
    UpToDate {
        serial: u32,
    },
    Transferred(Box<Transferred>),
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum XfrError {
    #[error("SOA query answered with {}", rcode::Display(*.0))]
    SoaRcode(u16),
    #[error("SOA answer has no SOA for the zone")]
    NoSoa,
    #[error("TSIG: {0}")]
    Tsig(#[from] TsigError),
    #[error("{0}")]
    Stream(#[from] StreamError),
    #[error("the transferred zone is unusable: {0}")]
    Zone(#[from] ZoneError),
    #[error(
        "the zone's NSEC3PARAM has {got} iterations, more than transfer.nsec3_max_iterations ({max}); RFC 9276 recommends 0"
    )]
    Nsec3Iterations { got: u16, max: u16 },
    #[error("the primary's serial {theirs} is not newer than ours ({ours})")]
    NotNewer { ours: u32, theirs: u32 },
    #[error("malformed answer: {0}")]
    Malformed(&'static str),
    #[error("message arrived after the exchange ended")]
    Finished,
    #[error("version refused: {0}")]
    Zonemd(#[from] ZonemdError),
}

pub enum Step {
    /// Send these octets (length-prefixed) and wait for answers.
    Send(Vec<u8>),
    /// Wait for more messages.
    Continue,
    Done(Outcome),
}

enum Phase {
    Soa,
    Transfer {
        stream: Box<TransferStream>,
        qtype: u16,
    },
    Finished,
}

pub struct Exchange {
    apex: Name,
    key: Option<Arc<TsigKey>>,
    limits: Limits,
    current: Option<Arc<Snapshot>>,
    phase: Phase,
    id: u16,
    verifier: Option<ResponseVerifier>,
    fallback: Option<String>,
    /// The transfer asked for last, if the exchange got that far: what a
    /// failure is counted as.
    attempted: Option<TransferKind>,
}

impl Exchange {
    /// `current` is the version served now; `id_seed` varies query IDs.
    pub fn new(
        apex: &Name,
        key: Option<Arc<TsigKey>>,
        limits: Limits,
        current: Option<Arc<Snapshot>>,
        id_seed: u16,
    ) -> Self {
        Exchange {
            apex: apex.to_lowercase(),
            key,
            limits,
            current,
            phase: Phase::Soa,
            id: id_seed,
            verifier: None,
            fallback: None,
            attempted: None,
        }
    }

    fn our_serial(&self) -> Option<u32> {
        self.current.as_ref().map(|s| s.serial())
    }

    /// The first query: SOA when a zone is held, AXFR otherwise.
    pub fn start(&mut self, now: u64) -> Vec<u8> {
        if self.current.is_some() {
            self.query(rtype::SOA, now)
        } else {
            self.begin_transfer(rtype::AXFR, now)
        }
    }

    /// Builds a query (with our SOA in authority for IXFR, RFC 1995 §3),
    /// signs it, frames it.
    fn query(&mut self, qtype: u16, now: u64) -> Vec<u8> {
        self.id = self.id.wrapping_mul(31).wrapping_add(17);
        let mut q = Vec::with_capacity(512);
        q.extend_from_slice(&self.id.to_be_bytes());
        let ixfr_soa = if qtype == rtype::IXFR {
            self.current.clone()
        } else {
            None
        };
        q.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, ixfr_soa.is_some() as u8, 0, 0]);
        q.extend_from_slice(self.apex.as_wire());
        q.extend_from_slice(&qtype.to_be_bytes());
        q.extend_from_slice(&class::IN.to_be_bytes());
        if let Some(s) = ixfr_soa {
            q.extend_from_slice(&[0xc0, 12]);
            q.extend_from_slice(&rtype::SOA.to_be_bytes());
            q.extend_from_slice(&class::IN.to_be_bytes());
            q.extend_from_slice(&s.soa().ttl().to_be_bytes());
            let rd = s.soa_rdata();
            q.extend_from_slice(&(rd.len() as u16).to_be_bytes());
            q.extend_from_slice(rd);
        }
        self.verifier = self.key.as_ref().map(|k| {
            let mac: MacBytes = sign_request(&mut q, k, now);
            ResponseVerifier::new(k.clone(), mac)
        });
        let mut framed = (q.len() as u16).to_be_bytes().to_vec();
        framed.extend_from_slice(&q);
        framed
    }

    /// Why IXFR gave way to AXFR in this exchange, if it did.
    pub fn fallback_reason(&self) -> Option<&str> {
        self.fallback.as_deref()
    }

    /// The kind of the transfer asked for last, `None` before one was.
    pub fn attempted(&self) -> Option<TransferKind> {
        self.attempted
    }

    fn begin_transfer(&mut self, qtype: u16, now: u64) -> Vec<u8> {
        self.attempted = Some(if qtype == rtype::IXFR {
            TransferKind::Ixfr
        } else {
            TransferKind::Axfr
        });
        let q = self.query(qtype, now);
        let ours = if qtype == rtype::IXFR {
            self.our_serial()
        } else {
            None
        };
        self.phase = Phase::Transfer {
            stream: Box::new(TransferStream::new(
                &self.apex,
                qtype,
                self.id,
                ours,
                self.limits,
            )),
            qtype,
        };
        q
    }

    /// Takes one message from the primary.
    pub fn on_message(&mut self, msg: &[u8], now: u64) -> Result<Step, XfrError> {
        if let Some(v) = self.verifier.as_mut() {
            v.verify(msg, now)?;
        }
        match core::mem::replace(&mut self.phase, Phase::Finished) {
            Phase::Finished => Err(XfrError::Finished),
            Phase::Soa => self.on_soa(msg, now),
            Phase::Transfer { mut stream, qtype } => match stream.on_message(msg) {
                Ok(false) => {
                    self.phase = Phase::Transfer { stream, qtype };
                    Ok(Step::Continue)
                }
                Ok(true) => {
                    if let Some(v) = &self.verifier {
                        v.finish()?;
                    }
                    self.on_stream_done(stream, now)
                }
                // RFC 1995 §4 and operators' experience (nsd#479): a
                // primary that will not do IXFR may still do AXFR.
                Err(StreamError::Rcode(code)) if qtype == rtype::IXFR => {
                    self.fall_back(format!("IXFR answered with {}", rcode::Display(code)), now)
                }
                Err(e) => Err(e.into()),
            },
        }
    }

    fn on_soa(&mut self, msg: &[u8], now: u64) -> Result<Step, XfrError> {
        let m = Message::new_checked(msg).map_err(|_| XfrError::Malformed("short header"))?;
        let h = m.header();
        if h.id() != self.id || !h.qr() {
            return Err(XfrError::Malformed("not the answer to the SOA query"));
        }
        if h.rcode() as u16 != rcode::NOERROR {
            return Err(XfrError::SoaRcode(h.rcode() as u16));
        }
        if h.flags() & flag::TC != 0 {
            return Err(XfrError::Malformed("truncated SOA answer"));
        }
        let s = m
            .parse()
            .map_err(|_| XfrError::Malformed("unparsable SOA answer"))?;
        let mut theirs = None;
        for r in s.answers() {
            let r = r.map_err(|_| XfrError::Malformed("unparsable SOA answer"))?;
            if r.rtype == rtype::SOA
                && r.owner()
                    .as_wire()
                    .eq_ignore_ascii_case(self.apex.as_wire())
            {
                let mut rd = Vec::new();
                crate::wire::rdata::read_rdata(msg, r.rdata_pos, r.rdata_len, r.rtype, &mut rd)
                    .map_err(|_| XfrError::Malformed("bad SOA RDATA"))?;
                theirs = Some(soa_field(&rd, 0));
            }
        }
        let theirs = theirs.ok_or(XfrError::NoSoa)?;
        match self.our_serial() {
            Some(ours) if !Serial(theirs).is_newer_than(Serial(ours)) => {
                Ok(Step::Done(Outcome::UpToDate { serial: ours }))
            }
            _ => Ok(Step::Send(self.begin_transfer(rtype::IXFR, now))),
        }
    }

    fn fall_back(&mut self, reason: String, now: u64) -> Result<Step, XfrError> {
        self.fallback = Some(reason);
        Ok(Step::Send(self.begin_transfer(rtype::AXFR, now)))
    }

    /// Refuses a version whose NSEC3 chain would cost too many hashes per
    /// query (the limit NSD users asked for, nsd#166).
    fn check_iterations(&self, snapshot: &Snapshot) -> Result<(), XfrError> {
        let max = self.limits.nsec3_max_iterations;
        match snapshot.nsec3().params() {
            Some(p) if p.iterations > max => Err(XfrError::Nsec3Iterations {
                got: p.iterations,
                max,
            }),
            _ => Ok(()),
        }
    }

    fn on_stream_done(&mut self, stream: Box<TransferStream>, now: u64) -> Result<Step, XfrError> {
        let (records, bytes, messages) = stream.stats();
        match stream.finish()? {
            Received::UpToDate { serial } => match self.our_serial() {
                // The SOA said newer, the IXFR says not: the primary has
                // no diff to give (a journal gap); take the whole zone.
                Some(ours) if Serial(serial).is_newer_than(Serial(ours)) => {
                    self.fall_back(format!("IXFR gave only the SOA of serial {serial}"), now)
                }
                _ => Ok(Step::Done(Outcome::UpToDate { serial })),
            },
            Received::Diffs { diffs, serial: _ } => {
                let Some(current) = self.current.clone() else {
                    return self
                        .fall_back("IXFR diffs without a zone to apply them to".into(), now);
                };
                match apply(&current, &diffs) {
                    Ok(snapshot) => {
                        // What this node applied is what it can give the
                        // secondaries it feeds (RFC 1995 §4).
                        let journal = Journal::extended(
                            current.journal().map(|j| &**j),
                            diffs.iter().map(Change::from_diff),
                            self.limits.journal,
                        );
                        let snapshot = snapshot.with_journal(journal);
                        self.check_iterations(&snapshot)?;
                        // A digest that fails after a diff may be the
                        // diff's fault: the whole zone settles it.
                        let zonemd = match zonemd::check(&snapshot, self.limits.zonemd) {
                            Ok(c) => c,
                            Err(e) => return self.fall_back(format!("{e} after IXFR"), now),
                        };
                        Ok(Step::Done(Outcome::Transferred(Box::new(Transferred {
                            kind: TransferKind::Ixfr,
                            snapshot,
                            warnings: Vec::new(),
                            fallback: None,
                            records,
                            bytes,
                            messages,
                            zonemd,
                        }))))
                    }
                    Err(e) => self.fall_back(format!("IXFR diff does not apply: {e}"), now),
                }
            }
            Received::Zone {
                builder,
                serial,
                from_ixfr,
            } => {
                if let Some(ours) = self.our_serial()
                    && !Serial(serial).is_newer_than(Serial(ours))
                {
                    return Err(XfrError::NotNewer {
                        ours,
                        theirs: serial,
                    });
                }
                let built = builder.finish()?;
                self.check_iterations(&built.snapshot)?;
                let zonemd = zonemd::check(&built.snapshot, self.limits.zonemd)?;
                Ok(Step::Done(Outcome::Transferred(Box::new(Transferred {
                    zonemd,
                    kind: if from_ixfr {
                        TransferKind::IxfrAxfrStyle
                    } else {
                        TransferKind::Axfr
                    },
                    snapshot: built.snapshot,
                    warnings: built.warnings,
                    fallback: self.fallback.take(),
                    records,
                    bytes,
                    messages,
                }))))
            }
        }
    }
}

#[cfg(test)]
mod tests;
