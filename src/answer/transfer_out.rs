//! Outbound AXFR (RFC 5936) and IXFR (RFC 1995), sans I/O: the messages
//! of one transfer, made one at a time from the version the transfer
//! started on, and for an incremental IXFR from that version's journal
//! ([`crate::zone::journal`]). The
//! transfer holds that version (an `Arc`), so a new version published
//! meanwhile changes nothing for it (§4.1.3 asks for one consistent
//! version), and the zone is never copied: each message is written
//! straight from the node blobs, at a position (blob run, offset, RRset,
//! record) that outlives every borrow.
//!
//! Messages take at most [`MESSAGE_MAX`] octets, so compression pointers
//! (14 bits) reach every name in them. A record that fits no message is
//! an error: the transfer stops there rather than send a malformed
//! stream.

use std::sync::Arc;

use super::emit::put_record_body;
use super::notify::soa_serial;
use super::request::Request;
use super::transfer_slots::TransferPermit;
use super::{Protocol, Transport};
use crate::tsig::{MacBytes, ResponseSigner};
use crate::wire::Message;
use crate::wire::error::WireError;
use crate::wire::header::flag;
use crate::wire::iana::opcode;
use crate::wire::iana::{class, rtype};
use crate::wire::name::{NameBuf, SuffixHashes};
use crate::wire::rdata::compresses_names;
use crate::wire::serial::Serial;
use crate::wire::writer::{CompressionTable, MessageWriter, Owner, Section};
use crate::zone::journal::ChangeRecords;
use crate::zone::node::Node;
use crate::zone::{Snapshot, ZoneSet};

/// The largest message of an outbound transfer (Knot's choice too): far
/// below the 65535 of TCP framing, so every name written stays within
/// reach of a compression pointer.
pub const MESSAGE_MAX: usize = 16 * 1024;

/// Compression slots per message: a 16 KiB message holds a few hundred
/// names.
const TABLE_SLOTS: usize = 2048;

/// Why a transfer stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransferError {
    /// This record does not fit in a message of [`MESSAGE_MAX`] octets
    /// with nothing else in it.
    RecordTooLarge { owner: Vec<u8>, rtype: u16 },
    /// The output buffer cannot hold a header and the question.
    BufferTooSmall,
    /// A journal change holds a malformed record (checked when it was
    /// made or read from disk: not expected).
    BadJournal,
}

impl std::fmt::Display for TransferError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TransferError::RecordTooLarge { owner, rtype: t } => {
                write!(f, "a record of ")?;
                crate::wire::name::fmt_name(owner, f)?;
                write!(
                    f,
                    " type {} fits in no message of {MESSAGE_MAX} octets",
                    rtype::Display(*t)
                )
            }
            TransferError::BufferTooSmall => write!(f, "no room for the question"),
            TransferError::BadJournal => write!(f, "a journal change holds a malformed record"),
        }
    }
}

/// Where the transfer stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// The opening SOA (§2.2), after the question.
    Opening,
    /// The record at this position, or the first one after it.
    Body(Pos),
    /// The record of journal change `change` at offset `at` of its
    /// octets (an incremental IXFR, RFC 1995 §4).
    Changes {
        change: usize,
        at: usize,
    },
    /// The closing SOA.
    Closing,
    Done,
}

/// An AXFR or IXFR query (RFC 5936 §2.1, RFC 1995 §3) the answer engine
/// accepts: AXFR over TCP only, class IN, for the apex of a zone served
/// with a version, from a client the zone's `allow_transfer` names, and
/// signed with the zone's `transfer_key` when it has one (`signed`: the
/// MAC of a request whose TSIG verified against that key, RFC 8945 §5.2)
/// or not signed at all when it has none. Anything else takes the usual path
/// (NOTAUTH, with the TSIG error when the signature failed; NOTIMP for
/// AXFR over UDP).
pub(super) fn start(
    zones: &ZoneSet,
    req: &Request,
    query: &[u8],
    transport: &Transport,
    signed: Option<MacBytes>,
) -> Option<TransferOut> {
    if req.opcode != opcode::QUERY
        || !matches!(req.qtype, rtype::AXFR | rtype::IXFR)
        || req.qclass != class::IN
        // RFC 5936 §4.2: no AXFR over UDP (NOTIMP, on the usual path).
        || (req.qtype == rtype::AXFR && transport.protocol != Protocol::Tcp)
    {
        return None;
    }
    let (zone, below) = zones.find(&req.lower, &req.hashes)?;
    if below != 0 || !zone.allows_transfer(transport.source) || zone.is_expired(transport.now) {
        return None;
    }
    let signer = match (zone.transfer_acl().and_then(|acl| acl.key()), signed) {
        (None, None) => None,
        (Some(key), Some(mac)) => Some(ResponseSigner::new(Arc::clone(key), mac)),
        _ => return None,
    };
    let snapshot = zone.snapshot().as_ref().map(Arc::clone)?;
    let mut t = if req.qtype == rtype::AXFR {
        TransferOut::new(snapshot, req.id, req.qname.clone())
    } else {
        let theirs = Message::new_checked(query)
            .ok()
            .and_then(|m| m.parse().ok())
            .and_then(|s| soa_serial(query, s.authorities(), snapshot.apex_wire()));
        let tcp = transport.protocol == Protocol::Tcp;
        TransferOut::ixfr(snapshot, req.id, req.qname.clone(), theirs, tcp)
    };
    if let Some(s) = signer {
        t.sign_with(s);
    }
    Some(t)
}

/// Where the changes from serial `theirs` start in the journal of
/// `snapshot`, if they are there and carry less than the whole zone
/// (RFC 1995 §2 lets a server send the zone instead when that is
/// shorter).
fn incremental_start(snapshot: &Snapshot, theirs: u32) -> Option<usize> {
    let journal = snapshot.journal()?;
    let start = journal.start_of(theirs)?;
    let octets: usize = journal
        .chain_from(theirs)?
        .iter()
        .map(|c| c.wire().len())
        .sum();
    (octets <= snapshot.wire_size()).then_some(start)
}

/// One outbound AXFR.
pub struct TransferOut {
    snapshot: Arc<Snapshot>,
    id: u16,
    /// The question as asked (its case kept, RFC 5936 §2.2.1), in the
    /// first message only.
    qname: NameBuf,
    /// AXFR, or IXFR answered AXFR-style or by one SOA.
    qtype: u16,
    /// Only the SOA goes (an IXFR client up to date, or over UDP).
    single_soa: bool,
    /// An IXFR answered from the journal, from this change on.
    incremental: Option<usize>,
    /// The largest message to make.
    limit: usize,
    stage: Stage,
    table: CompressionTable,
    messages: usize,
    records: usize,
    /// Signs every message (RFC 8945 §5.3.1) when the request was signed.
    signer: Option<Box<ResponseSigner>>,
    /// Octets kept free in each message for its TSIG record.
    tsig_room: usize,
    /// The slot among the transfers running, given back when the
    /// transfer is dropped (done, or its connection gone).
    permit: Option<TransferPermit>,
}

impl TransferOut {
    /// A transfer of `snapshot` answering the query with `id` for
    /// `qname` (wire form, as asked).
    pub fn new(snapshot: Arc<Snapshot>, id: u16, qname: NameBuf) -> Self {
        TransferOut {
            snapshot,
            id,
            qname,
            qtype: rtype::AXFR,
            single_soa: false,
            incremental: None,
            limit: MESSAGE_MAX,
            stage: Stage::Opening,
            table: CompressionTable::new(TABLE_SLOTS).case_exact(),
            messages: 0,
            records: 0,
            signer: None,
            tsig_room: 0,
            permit: None,
        }
    }

    /// Holds `permit` for as long as the transfer lives.
    pub fn hold(&mut self, permit: TransferPermit) {
        self.permit = Some(permit);
    }

    /// Signs every message with `signer`, the key and MAC of the request.
    pub fn sign_with(&mut self, signer: ResponseSigner) {
        self.tsig_room = signer.reserve();
        self.signer = Some(Box::new(signer));
    }

    /// Whether the messages are signed.
    pub fn is_signed(&self) -> bool {
        self.signer.is_some()
    }

    /// An IXFR of `snapshot` for a client at serial `theirs` (the SOA of
    /// its query's authority section, RFC 1995 §3).
    pub fn ixfr(
        snapshot: Arc<Snapshot>,
        id: u16,
        qname: NameBuf,
        theirs: Option<u32>,
        tcp: bool,
    ) -> Self {
        let mut t = TransferOut::new(snapshot, id, qname);
        t.qtype = rtype::IXFR;
        // §4: the changes from the journal when it has them, else the
        // whole zone, AXFR-style; §2: a client as new as we are gets our
        // SOA alone, and so does one over UDP whose changes we lack.
        let current = theirs.is_some_and(|c| !Serial(t.serial()).is_newer_than(Serial(c)));
        t.incremental = theirs.and_then(|c| incremental_start(&t.snapshot, c));
        if current || (t.incremental.is_none() && !tcp) {
            t.answer_by_soa();
        }
        t
    }

    pub fn is_done(&self) -> bool {
        self.stage == Stage::Done
    }

    /// Messages of at most `limit` octets (and never above
    /// [`MESSAGE_MAX`]): a UDP answer's size.
    pub fn set_limit(&mut self, limit: usize) {
        self.limit = limit.min(MESSAGE_MAX);
    }

    /// Answers by the current SOA alone, from the start: an IXFR client
    /// as new as we are, or one over UDP whose changes do not fit in one
    /// message (RFC 1995 §2).
    pub fn answer_by_soa(&mut self) {
        self.single_soa = true;
        self.incremental = None;
        self.stage = Stage::Closing;
        (self.messages, self.records) = (0, 0);
    }

    /// Messages and records sent so far.
    pub fn sent(&self) -> (usize, usize) {
        (self.messages, self.records)
    }

    /// The serial transferred.
    pub fn serial(&self) -> u32 {
        self.snapshot.serial()
    }

    /// What was asked and how it is answered, for the log.
    /// An AXFR (not an IXFR, however it is answered).
    pub fn is_axfr(&self) -> bool {
        self.qtype == rtype::AXFR
    }

    pub fn kind(&self) -> &'static str {
        match (self.qtype, self.single_soa, self.incremental) {
            (rtype::AXFR, _, _) => "AXFR",
            (_, true, _) => "IXFR (our SOA alone)",
            (_, false, Some(_)) => "IXFR (the changes from the journal)",
            (_, false, None) => "IXFR (the whole zone, AXFR-style)",
        }
    }

    /// The zone transferred.
    pub fn zone(&self) -> crate::wire::Name {
        self.snapshot.apex()
    }

    /// Writes the next message into `out`; its length, or `None` once
    /// the closing SOA has gone. `now` (Unix seconds) is the time a
    /// signed message is signed at.
    pub fn next_message(
        &mut self,
        out: &mut [u8],
        now: u64,
    ) -> Result<Option<usize>, TransferError> {
        if self.stage == Stage::Done {
            return Ok(None);
        }
        let snapshot = Arc::clone(&self.snapshot);
        let room = out.len();
        let mut w =
            MessageWriter::new(out, &mut self.table).map_err(|_| TransferError::BufferTooSmall)?;
        // A smaller buffer (a UDP answer's) makes smaller messages, and
        // a signed one keeps room for its TSIG record.
        w.set_limit(
            self.limit
                .min(room)
                .checked_sub(self.tsig_room)
                .ok_or(TransferError::BufferTooSmall)?,
        );
        let mut h = w.header();
        h.set_id(self.id);
        h.set_flags(flag::QR | flag::AA);
        if self.messages == 0 {
            let mut lower = NameBuf::root();
            lower.copy_lowercase_from(&self.qname);
            let hashes = SuffixHashes::compute(&lower);
            w.write_question(&self.qname, &hashes, self.qtype, class::IN)
                .map_err(|_| TransferError::BufferTooSmall)?;
        }
        let mut in_message = 0usize;
        loop {
            let fitted = match self.stage {
                Stage::Done => break,
                Stage::Opening | Stage::Closing => {
                    let mark = w.mark();
                    match put_soa(&mut w, &snapshot) {
                        Ok(()) => {
                            self.stage = match (self.stage, self.incremental) {
                                (Stage::Opening, Some(change)) => Stage::Changes { change, at: 0 },
                                (Stage::Opening, None) => Stage::Body(Pos::default()),
                                _ => Stage::Done,
                            };
                            true
                        }
                        Err(_) => {
                            w.rollback(mark);
                            false
                        }
                    }
                }
                Stage::Changes { change, at } => {
                    let Some(c) = snapshot.journal().and_then(|j| j.change(change)) else {
                        self.stage = Stage::Closing;
                        continue;
                    };
                    let Some(rest) = c.wire().get(at..).filter(|r| !r.is_empty()) else {
                        self.stage = Stage::Changes {
                            change: change + 1,
                            at: 0,
                        };
                        continue;
                    };
                    let r = ChangeRecords::of(rest)
                        .next()
                        .and_then(Result::ok)
                        .ok_or(TransferError::BadJournal)?;
                    let mark = w.mark();
                    match put_one(&mut w, r.owner, r.rtype, r.rec) {
                        Ok(()) => {
                            self.stage = Stage::Changes {
                                change,
                                at: at + r.owner.len() + r.rec.len(),
                            };
                            true
                        }
                        Err(_) if in_message == 0 => {
                            return Err(TransferError::RecordTooLarge {
                                owner: r.owner.to_vec(),
                                rtype: r.rtype,
                            });
                        }
                        Err(_) => {
                            w.rollback(mark);
                            false
                        }
                    }
                }
                Stage::Body(from) => match next_record(&snapshot, from) {
                    None => {
                        self.stage = Stage::Closing;
                        continue;
                    }
                    Some((node, pos)) => {
                        let mark = w.mark();
                        let rrset = node.rrsets().nth(pos.set);
                        let written = rrset.and_then(|s| {
                            let rec = s.record_at(pos.record)?;
                            Some(put_one(&mut w, node.owner(), s.rtype(), rec).map(|()| rec.len()))
                        });
                        match written {
                            Some(Ok(len)) => {
                                self.stage = Stage::Body(Pos {
                                    record: pos.record + len,
                                    ..pos
                                });
                                true
                            }
                            Some(Err(_)) if in_message == 0 => {
                                return Err(TransferError::RecordTooLarge {
                                    owner: node.owner().to_vec(),
                                    rtype: rrset.map_or(0, |s| s.rtype()),
                                });
                            }
                            _ => {
                                w.rollback(mark);
                                false
                            }
                        }
                    }
                },
            };
            if !fitted {
                if in_message == 0 {
                    // Only an SOA can get here: one that fits no message.
                    return Err(TransferError::RecordTooLarge {
                        owner: snapshot.apex_wire().to_vec(),
                        rtype: rtype::SOA,
                    });
                }
                break;
            }
            in_message += 1;
        }
        let mut len = w.finish();
        if let Some(s) = self.signer.as_mut() {
            len = s
                .sign_in(out, len, now)
                .ok_or(TransferError::BufferTooSmall)?;
        }
        self.messages += 1;
        self.records += in_message;
        Ok(Some(len))
    }
}

/// A record's place in a version: blob run, offset of its node in the
/// run, RRset of the node, offset of the record in the RRset's octets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Pos {
    run: usize,
    at: usize,
    set: usize,
    record: usize,
}

/// The record at `from` or the first one after it, with its place; the
/// apex SOA skipped (it opens and closes the transfer).
fn next_record(snapshot: &Snapshot, from: Pos) -> Option<(Node<'_>, Pos)> {
    let Pos {
        mut run,
        mut at,
        mut set,
        mut record,
    } = from;
    let apex = snapshot.apex_wire();
    loop {
        let blobs = snapshot.blob_run(run)?;
        if at >= blobs.len() {
            (run, at, set, record) = (run + 1, 0, 0, 0);
            continue;
        }
        let node = Node::at(&blobs[at..]);
        match node.rrsets().nth(set) {
            None => (at, set, record) = (at + node.blob().len(), 0, 0),
            Some(s)
                if record >= s.wire().len()
                    || (s.rtype() == rtype::SOA && node.owner() == apex) =>
            {
                (set, record) = (set + 1, 0);
            }
            Some(_) => {
                return Some((
                    node,
                    Pos {
                        run,
                        at,
                        set,
                        record,
                    },
                ));
            }
        }
    }
}

fn put_one(
    w: &mut MessageWriter<'_>,
    owner: &[u8],
    rtype: u16,
    rec: &[u8],
) -> Result<(), WireError> {
    w.write_owner(Owner::Name(owner))?;
    put_record_body(w, rtype, compresses_names(rtype), rec, Section::Answer)
}

fn put_soa(w: &mut MessageWriter<'_>, snapshot: &Snapshot) -> Result<(), WireError> {
    let soa = snapshot.soa();
    let rec = soa.records().next().ok_or(WireError::Truncated)?;
    put_one(w, snapshot.apex_wire(), rtype::SOA, rec)
}

#[cfg(test)]
pub(crate) mod tests;
