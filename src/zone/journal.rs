//! A zone's journal: the difference sequences (RFC 1995 §2) that led to
//! the version that holds it, oldest first, so that a secondary of ours
//! asking IXFR from an older serial gets only what changed (§4).
//!
//! A journal is immutable and belongs to the snapshot whose serial its
//! newest change ends at: a transfer streaming a version streams that
//! version's journal, whatever is published meanwhile. The next version's
//! journal shares every change with this one (each is an `Arc`).
//!
//! Each change keeps its records in wire form, uncompressed (RFC 1035
//! §4.1.3 without pointers): the old SOA, the records deleted, the new
//! SOA, the records added, exactly what an IXFR sequence carries. The same
//! octets are what the journal file holds beside the zone's copy.

use std::sync::Arc;

use thiserror::Error;

use super::diff::Diff;
use super::rr::Rr;
use super::rrset::FIXED_LEN;
use super::snapshot::soa_field;
use crate::wire::iana::rtype;
use crate::wire::name::split_name;
use crate::wire::serial::Serial;

/// How much history a zone keeps, as Knot's `journal-max-depth` and
/// `journal-max-usage` (and NSD's `ixfr-number` and `ixfr-size`): the
/// oldest changes go first when either is passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JournalLimits {
    /// Changes kept; 0 keeps no journal.
    pub max_depth: usize,
    /// Octets of records kept, in all.
    pub max_usage: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum JournalError {
    #[error("journal file is not one of ours (no magic)")]
    Magic,
    #[error("journal ends in the middle of a change")]
    Truncated,
    #[error("a record of a change is malformed")]
    Record,
    #[error("a change does not start with an SOA")]
    NoOldSoa,
    #[error("a change holds {0} SOA records, not two")]
    SoaCount(usize),
    #[error("a change goes from serial {from} to {to}, which is not newer")]
    NotNewer { from: u32, to: u32 },
    #[error("changes do not follow each other: one ends at {ends}, the next starts at {starts}")]
    Gap { ends: u32, starts: u32 },
    #[error("journal ends at serial {ends}, the copy is at {copy}")]
    NotThisCopy { ends: u32, copy: u32 },
}

/// One record of a change, read in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChangeRecord<'a> {
    /// Uncompressed wire form, as the primary sent it.
    pub owner: &'a [u8],
    pub rtype: u16,
    /// Type, class, TTL, RDLENGTH and RDATA, as a node blob holds a
    /// record (so the answer engine's record writer takes it).
    pub rec: &'a [u8],
}

/// The records of a change, in order.
pub struct ChangeRecords<'a> {
    rest: &'a [u8],
}

impl<'a> ChangeRecords<'a> {
    /// The records in `wire`, a change's octets or what is left of them
    /// from a record on.
    pub fn of(wire: &'a [u8]) -> Self {
        ChangeRecords { rest: wire }
    }
}

impl<'a> Iterator for ChangeRecords<'a> {
    type Item = Result<ChangeRecord<'a>, JournalError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let r = read_record(self.rest);
        match r {
            Ok((record, rest)) => {
                self.rest = rest;
                Some(Ok(record))
            }
            Err(e) => {
                self.rest = &[];
                Some(Err(e))
            }
        }
    }
}

fn read_record(wire: &[u8]) -> Result<(ChangeRecord<'_>, &[u8]), JournalError> {
    let (owner, after) = split_name(wire).map_err(|_| JournalError::Record)?;
    if owner.len() > 255 || after.len() < FIXED_LEN {
        return Err(JournalError::Record);
    }
    let rdlen = u16::from_be_bytes([after[8], after[9]]) as usize;
    let (rec, rest) = after
        .split_at_checked(FIXED_LEN + rdlen)
        .ok_or(JournalError::Record)?;
    let rtype = u16::from_be_bytes([rec[0], rec[1]]);
    Ok((ChangeRecord { owner, rtype, rec }, rest))
}

/// One difference sequence, from serial `from` to serial `to`.
#[derive(Debug, PartialEq, Eq)]
pub struct Change {
    from: u32,
    to: u32,
    records: Box<[u8]>,
}

impl Change {
    /// The change a diff received by IXFR makes.
    pub fn from_diff(d: &Diff) -> Change {
        let mut out = Vec::new();
        put_rr(&mut out, &d.old_soa);
        d.removed.iter().for_each(|r| put_rr(&mut out, r));
        put_rr(&mut out, &d.new_soa);
        d.added.iter().for_each(|r| put_rr(&mut out, r));
        Change {
            from: d.from_serial(),
            to: d.to_serial(),
            records: out.into_boxed_slice(),
        }
    }

    /// A change read back from `records`, checked: well-formed records,
    /// the old SOA first, the new SOA among them, the serial newer.
    pub fn from_wire(records: Box<[u8]>) -> Result<Change, JournalError> {
        let mut soas = Vec::with_capacity(2);
        let mut first = true;
        for r in (ChangeRecords { rest: &records }) {
            let r = r?;
            if r.rtype == rtype::SOA {
                soas.push(soa_serial(r.rec));
            } else if first {
                return Err(JournalError::NoOldSoa);
            }
            first = false;
        }
        let [from, to] = soas[..] else {
            return Err(JournalError::SoaCount(soas.len()));
        };
        if !Serial(to).is_newer_than(Serial(from)) {
            return Err(JournalError::NotNewer { from, to });
        }
        Ok(Change { from, to, records })
    }

    pub fn from_serial(&self) -> u32 {
        self.from
    }

    pub fn to_serial(&self) -> u32 {
        self.to
    }

    /// The records: old SOA, deleted, new SOA, added (RFC 1995 §4).
    pub fn records(&self) -> ChangeRecords<'_> {
        ChangeRecords {
            rest: &self.records,
        }
    }

    /// The records' octets, as the journal file holds them.
    pub fn wire(&self) -> &[u8] {
        &self.records
    }
}

/// The serial of an SOA held as a node blob holds a record.
fn soa_serial(rec: &[u8]) -> u32 {
    soa_field(rec.get(FIXED_LEN..).unwrap_or(&[]), 0)
}

fn put_rr(out: &mut Vec<u8>, r: &Rr) {
    out.extend_from_slice(r.owner.as_wire());
    out.extend_from_slice(&r.rtype.to_be_bytes());
    out.extend_from_slice(&r.class.to_be_bytes());
    out.extend_from_slice(&r.ttl.to_be_bytes());
    // RDATA comes from a record of a message: below 65536 octets.
    out.extend_from_slice(&(r.rdata.len() as u16).to_be_bytes());
    out.extend_from_slice(&r.rdata);
}

/// The changes that led to one version, oldest first, each starting
/// where the one before ends.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Journal {
    changes: Vec<Arc<Change>>,
    usage: usize,
}

/// The journal file's first octets: its format, version 1.
const MAGIC: &[u8; 8] = b"zcjrnl\x00\x01";

impl Journal {
    /// The journal of the version `changes` lead to from the version
    /// holding `before`; `None` when `limits` keep nothing. Changes that
    /// do not follow on from `before` start the journal afresh.
    pub fn extended(
        before: Option<&Journal>,
        changes: impl IntoIterator<Item = Change>,
        limits: JournalLimits,
    ) -> Option<Arc<Journal>> {
        if limits.max_depth == 0 {
            return None;
        }
        let mut j = Journal {
            changes: before.map(|b| b.changes.clone()).unwrap_or_default(),
            usage: before.map_or(0, |b| b.usage),
        };
        for c in changes {
            if j.newest() != Some(c.from) {
                j = Journal::default();
            }
            j.usage += c.records.len();
            j.changes.push(Arc::new(c));
        }
        // The oldest go first (Knot and NSD drop the oldest too).
        let excess = j.changes.len().saturating_sub(limits.max_depth);
        let mut drop = excess;
        let mut usage = j.usage;
        for c in &j.changes[..excess] {
            usage -= c.records.len();
        }
        while usage > limits.max_usage && drop < j.changes.len() {
            usage -= j.changes[drop].records.len();
            drop += 1;
        }
        j.changes.drain(..drop);
        j.usage = usage;
        (!j.changes.is_empty()).then(|| Arc::new(j))
    }

    /// The serial of the version this journal leads to.
    pub fn newest(&self) -> Option<u32> {
        self.changes.last().map(|c| c.to)
    }

    /// The oldest serial a client may ask IXFR from.
    pub fn oldest(&self) -> Option<u32> {
        self.changes.first().map(|c| c.from)
    }

    /// The changes from `serial` on, if `serial` is in the journal.
    pub fn chain_from(&self, serial: u32) -> Option<&[Arc<Change>]> {
        Some(&self.changes[self.start_of(serial)?..])
    }

    /// Where the change from `serial` is, if `serial` is in the journal.
    pub fn start_of(&self, serial: u32) -> Option<usize> {
        self.changes.iter().position(|c| c.from == serial)
    }

    /// Change `i`, oldest first.
    pub fn change(&self, i: usize) -> Option<&Change> {
        self.changes.get(i).map(|c| &**c)
    }

    pub fn depth(&self) -> usize {
        self.changes.len()
    }

    /// Octets of records held.
    pub fn usage(&self) -> usize {
        self.usage
    }

    /// The journal file's content.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(MAGIC.len() + 4 + self.usage + 4 * self.changes.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&(self.changes.len() as u32).to_be_bytes());
        for c in &self.changes {
            out.extend_from_slice(&(c.records.len() as u32).to_be_bytes());
            out.extend_from_slice(&c.records);
        }
        out
    }

    /// A journal file's content read back, for the copy at `serial`:
    /// every change checked, each following the one before, the last
    /// ending at `serial`.
    pub fn decode(file: &[u8], serial: u32) -> Result<Journal, JournalError> {
        let rest = file.strip_prefix(&MAGIC[..]).ok_or(JournalError::Magic)?;
        let (count, mut rest) = take_u32(rest)?;
        let mut j = Journal::default();
        for _ in 0..count {
            let (len, after) = take_u32(rest)?;
            let (records, after) = after
                .split_at_checked(len as usize)
                .ok_or(JournalError::Truncated)?;
            rest = after;
            let c = Change::from_wire(records.into())?;
            if let Some(ends) = j.newest()
                && ends != c.from
            {
                return Err(JournalError::Gap {
                    ends,
                    starts: c.from,
                });
            }
            j.usage += c.records.len();
            j.changes.push(Arc::new(c));
        }
        if !rest.is_empty() {
            return Err(JournalError::Truncated);
        }
        match j.newest() {
            Some(ends) if ends != serial => Err(JournalError::NotThisCopy { ends, copy: serial }),
            _ => Ok(j),
        }
    }
}

fn take_u32(b: &[u8]) -> Result<(u32, &[u8]), JournalError> {
    let (n, rest) = b.split_at_checked(4).ok_or(JournalError::Truncated)?;
    Ok((u32::from_be_bytes([n[0], n[1], n[2], n[3]]), rest))
}

#[cfg(test)]
mod tests;
