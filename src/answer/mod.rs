//! The answer engine, sans I/O: a function from (zone set, query bytes,
//! transport facts) to response bytes. It never touches a socket or a
//! clock, so it is tested, fuzzed and benchmarked directly; the workers
//! are a thin loop around it.

mod chaos;
pub mod cookie;
mod emit;
mod lookahead;
mod notify;
mod opt;
mod request;
mod resolve;
pub mod transfer_out;
pub mod transfer_slots;

use std::net::{IpAddr, Ipv4Addr};

pub use lookahead::Lookahead;
pub use notify::NotifyEvent;
pub use request::{EdnsRequest, Rejection, Request};
pub use resolve::Resolution;

use crate::tsig::{self, MacBytes, Signing, TsigError, TsigKey};
use crate::wire::MessageWriter;
use crate::wire::header::flag;
use crate::wire::iana::{class, ede, opcode, rcode, rtype};
use crate::wire::name::NameBuf;
use crate::wire::writer::CompressionTable;
use crate::zone::{Snapshot, SnapshotGuard, Zone, ZoneSet};
use cookie::{CookiePolicy, CookieStatus};
use opt::ResponseOpt;
pub use resolve::AnswerClass;
use transfer_slots::TransferSlots;

/// The smallest UDP payload every client takes (RFC 1035 §4.2.1), and the
/// limit without EDNS.
pub const MIN_UDP_PAYLOAD: u16 = 512;
/// Largest DNS message (and TCP frame).
pub const MAX_MESSAGE: usize = 65535;

/// How the query arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Udp,
    Tcp,
}

/// Facts about the query that are not in its bytes.
#[derive(Debug, Clone, Copy)]
pub struct Transport {
    pub protocol: Protocol,
    pub source: IpAddr,
    /// Unix seconds, read by the caller (the engine keeps no clock).
    pub now: u64,
}

impl Transport {
    pub fn udp(now: u64) -> Self {
        Transport {
            protocol: Protocol::Udp,
            source: IpAddr::V4(Ipv4Addr::LOCALHOST),
            now,
        }
    }
    pub fn tcp(now: u64) -> Self {
        Transport {
            protocol: Protocol::Tcp,
            ..Transport::udp(now)
        }
    }
}

/// Server-wide settings the answers depend on.
#[derive(Debug, Clone)]
pub struct ResponderConfig {
    /// Answered to `id.server`, `hostname.bind` and NSID.
    pub identity: Vec<u8>,
    /// Answered to `version.bind`; empty refuses it.
    pub version: Vec<u8>,
    /// Largest UDP response, and the payload size advertised in OPT.
    pub udp_payload: u16,
    /// Outbound transfers running at once, in all and to one client.
    pub transfers_out: usize,
    pub transfers_out_per_client: usize,
    /// DNS cookies (RFC 7873); none: the COOKIE option is ignored.
    pub cookies: Option<CookiePolicy>,
}

impl Default for ResponderConfig {
    fn default() -> Self {
        ResponderConfig {
            identity: b"zonecast".to_vec(),
            version: b"zonecast".to_vec(),
            udp_payload: 1232,
            transfers_out: 64,
            transfers_out_per_client: 16,
            cookies: None,
        }
    }
}

/// Per-worker state reused from query to query, so answering allocates
/// nothing.
pub struct Scratch {
    table: CompressionTable,
    req: Request,
    lookup: resolve::LookupScratch,
    facts: QueryFacts,
}

impl Scratch {
    /// What the last query answered (not dropped) asked and got, for the
    /// counters of the metrics.
    pub fn facts(&self) -> &QueryFacts {
        &self.facts
    }
}

/// What a query asked for and what its answer said, as the metrics count
/// them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueryFacts {
    /// 0 when the question could not be read.
    pub qtype: u16,
    pub edns: bool,
    pub dnssec_ok: bool,
    /// The whole response code (with the extended bits of OPT).
    pub rcode: u16,
    pub truncated: bool,
    pub cookie: CookieStatus,
    /// The kind of answer, and the hash of the name it is about (the
    /// question name, or the suffix the kind is keyed by), for response
    /// rate limiting.
    pub class: AnswerClass,
    pub name_hash: u64,
}

impl Default for Scratch {
    fn default() -> Self {
        Scratch {
            table: CompressionTable::new(256),
            req: Request::default(),
            lookup: resolve::LookupScratch::default(),
            facts: QueryFacts::default(),
        }
    }
}

/// What to do with a query.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Send nothing.
    Drop,
    /// Send the first `len` octets of the output buffer.
    Reply(usize),
    /// Send the reply, and hand the accepted NOTIFY to the transfer thread.
    Notify(usize, NotifyEvent),
    /// Send the reply (NOTAUTH), and count a request that was refused for
    /// who sent it, for the operator's log.
    Refused(usize, Refused),
    /// Send a zone transfer, message by message (nothing was written to
    /// the output buffer).
    Transfer(StartedTransfer),
}

/// Cuts the response in `out[..len]` down to its header and question,
/// with TC set: the "slip" of response rate limiting, an answer too small
/// to amplify that tells a real client to retry over TCP. Returns the new
/// length (0 when the response is not one zonecast wrote).
pub fn slip_answer(out: &mut [u8], len: usize) -> usize {
    let Some(msg) = out.get_mut(..len) else {
        return 0;
    };
    if msg.len() < 12 {
        return 0;
    }
    let mut end = 12;
    if msg[4..6] == [0, 1] {
        // The question is written uncompressed, first thing after the
        // header.
        loop {
            let Some(&l) = msg.get(end) else {
                return 0;
            };
            if l == 0 || l > 63 {
                break;
            }
            end += 1 + l as usize;
        }
        end += 1 + 4;
        if end > msg.len() {
            return 0;
        }
    }
    msg[2] |= (flag::TC >> 8) as u8;
    msg[6..12].fill(0);
    end
}

/// An outbound transfer handed to the connection that asked for it.
pub struct StartedTransfer(pub Box<transfer_out::TransferOut>);

impl core::fmt::Debug for StartedTransfer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "StartedTransfer({} serial {})",
            self.0.zone(),
            self.0.serial()
        )
    }
}

impl PartialEq for StartedTransfer {
    fn eq(&self, other: &Self) -> bool {
        self.0.zone() == other.0.zone() && self.0.serial() == other.0.serial()
    }
}

impl Eq for StartedTransfer {}

/// A NOTIFY or zone-transfer request that was refused (NOTAUTH): not from
/// a primary of the zone, unsigned where a key is required, for a zone
/// not served, or a transfer, which zonecast does not serve to anyone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    Notify,
    Transfer,
}

/// What TSIG said about a signed request (RFC 8945 §5.2). Short-lived on
/// the stack, and only for signed requests: no need to box the names.
#[allow(clippy::large_enum_variant)]
enum TsigCheck<'k> {
    Verified {
        key: &'k TsigKey,
        mac: MacBytes,
    },
    Failed {
        error: TsigError,
        key: Option<&'k TsigKey>,
        request_mac: MacBytes,
        key_name: NameBuf,
        algorithm: NameBuf,
    },
}

impl TsigCheck<'_> {
    /// Octets the TSIG record of the answer can take.
    fn reserve(&self) -> usize {
        let names = match self {
            TsigCheck::Verified { key, .. } => key.name.len() + 2 + key.algorithm.name().len(),
            TsigCheck::Failed {
                key_name,
                algorithm,
                ..
            } => key_name.as_wire().len() + algorithm.as_wire().len(),
        };
        names + 10 + 16 + 64 + 6
    }
}

pub struct Responder {
    cfg: ResponderConfig,
    /// Slots of the outbound transfers running, shared by the workers.
    slots: std::sync::Arc<TransferSlots>,
}

/// What the header of a response says, apart from ID, opcode and RD.
struct Verdict<'z> {
    rcode: u16,
    aa: bool,
    tc: bool,
    zone: Option<&'z Zone>,
    ede: Option<(u16, &'static str)>,
}

impl<'z> Verdict<'z> {
    fn rcode(rcode: u16) -> Self {
        Verdict {
            rcode,
            aa: false,
            tc: false,
            zone: None,
            ede: None,
        }
    }
}

impl Responder {
    pub fn new(cfg: ResponderConfig) -> Self {
        let slots = TransferSlots::new(cfg.transfers_out, cfg.transfers_out_per_client);
        Responder { cfg, slots }
    }

    /// Outbound transfers running now.
    pub fn transfers_running(&self) -> usize {
        self.slots.running()
    }

    pub fn config(&self) -> &ResponderConfig {
        &self.cfg
    }

    /// Answers `query` into `out` (which should hold 65535 octets).
    pub fn respond(
        &self,
        zones: &ZoneSet,
        query: &[u8],
        transport: &Transport,
        out: &mut [u8],
        scratch: &mut Scratch,
    ) -> Outcome {
        let Scratch {
            table,
            req,
            lookup,
            facts,
        } = scratch;
        let parsed = req.parse(query);
        let (question, edns) = match parsed {
            Ok(()) => (true, true),
            Err(Rejection::Drop) => return Outcome::Drop,
            Err(Rejection::FormErr { question, edns }) => (question, edns),
            Err(Rejection::NotImp { edns }) => (false, edns),
        };
        *facts = QueryFacts {
            qtype: if question { req.qtype } else { 0 },
            edns: edns && req.edns.is_some(),
            dnssec_ok: edns && req.edns.as_ref().is_some_and(|e| e.dnssec_ok),
            rcode: rcode::NOERROR,
            truncated: false,
            cookie: CookieStatus::None,
            class: AnswerClass::Error,
            name_hash: 0,
        };
        // A transfer allowed but over the limits of transfers running.
        let mut busy = false;
        // (The type first: every query passes here.)
        if matches!(req.qtype, rtype::AXFR | rtype::IXFR)
            && parsed.is_ok()
            && let Some(signed) = transfer_signature(zones, req, query, transport.now)
            && let Some(mut t) = transfer_out::start(zones, req, query, transport, signed)
        {
            if transport.protocol == Protocol::Tcp {
                match self.slots.try_take(transport.source) {
                    Some(permit) => {
                        t.hold(permit);
                        return Outcome::Transfer(StartedTransfer(Box::new(t)));
                    }
                    None => busy = true,
                }
            } else {
                // IXFR over UDP: the changes if they fit in one message of
                // the client's size, else our SOA alone (RFC 1995 §2).
                t.set_limit(self.size_limit(req, transport));
                let mut n = t.next_message(out, transport.now);
                if !t.is_done() {
                    t.answer_by_soa();
                    n = t.next_message(out, transport.now);
                }
                return match n {
                    Ok(Some(n)) => Outcome::Reply(n),
                    _ => Outcome::Drop,
                };
            }
        }
        let Ok(mut w) = MessageWriter::new(out, table) else {
            return Outcome::Drop;
        };
        w.set_limit(self.size_limit(req, transport));
        if question
            && w.write_question(&req.qname, &req.hashes, req.qtype, req.qclass)
                .is_err()
        {
            return Outcome::Drop;
        }
        let edns_req = if edns { req.edns.as_ref() } else { None };
        let (cookie, response_cookie) = match (&self.cfg.cookies, edns_req) {
            (Some(p), Some(e)) => p.check(&e.cookie, transport.source, transport.now),
            _ => (CookieStatus::None, None),
        };
        facts.cookie = cookie;
        let mut opt = edns_req.map(|e| ResponseOpt {
            cookie: response_cookie,
            payload: self.cfg.udp_payload.max(MIN_UDP_PAYLOAD),
            dnssec_ok: e.dnssec_ok,
            nsid: e.nsid.then_some(&self.cfg.identity[..]),
            ..Default::default()
        });
        let tsig = match parsed {
            Ok(()) if req.tsig_pos.is_some() => check_tsig(zones, req, query, transport.now),
            _ => None,
        };
        let mut event = None;
        let verdict = if let Err(Rejection::NotImp { .. }) = parsed {
            Verdict::rcode(rcode::NOTIMP)
        } else if parsed.is_err() {
            Verdict::rcode(rcode::FORMERR)
        } else if edns_req.is_some_and(|e| e.version > 0) {
            // RFC 6891 §6.1.3: only version 0 exists.
            Verdict::rcode(rcode::BADVERS)
        } else if cookie == CookieStatus::Malformed {
            // RFC 7873 §5.2.2.
            Verdict::rcode(rcode::FORMERR)
        } else if self.cfg.cookies.as_ref().is_some_and(|p| p.badcookie)
            && transport.protocol == Protocol::Udp
            && req.opcode == opcode::QUERY
            && matches!(cookie, CookieStatus::ClientOnly | CookieStatus::Invalid)
        {
            // RFC 7873 §5.2.3 and §5.2.4: the client retries with the
            // cookie this answer carries. Over TCP the connection itself
            // shows the address is real (§5.2.3 choice 3).
            Verdict::rcode(rcode::BADCOOKIE)
        } else if busy {
            // Allowed, but too many transfers run: REFUSED, as for any
            // policy, and the client's refresh retries later.
            let mut v = Verdict::rcode(rcode::REFUSED);
            v.ede = Some((ede::OTHER, "Too many transfers running, try later"));
            v
        } else if let Some(TsigCheck::Failed { .. }) = tsig {
            Verdict::rcode(rcode::NOTAUTH)
        } else if req.opcode == opcode::NOTIFY {
            let signed = matches!(tsig, Some(TsigCheck::Verified { .. }));
            let (code, ev) = notify::check_notify(zones, req, query, transport.source, signed);
            event = ev;
            let mut v = Verdict::rcode(code);
            // RFC 1996 §4.7: the answer to a NOTIFY has AA set.
            v.aa = code == rcode::NOERROR;
            v
        } else {
            self.plan(zones, req, transport)
        };
        // The version answered from: one load for the whole answer.
        let mut verdict = verdict;
        let snapshot = verdict
            .zone
            .map(|z| check_version(z, &mut verdict, transport.now));
        let snap = snapshot.as_ref().and_then(|g| g.as_deref());
        if let Some(o) = opt.as_mut() {
            o.ext_rcode = (verdict.rcode >> 4) as u8;
            o.ede = verdict.ede;
            if edns_req.is_some_and(|e| e.expire) {
                o.expire = verdict
                    .zone
                    .and_then(|z| expire_option(z, snap, transport.now));
            }
        }
        let opt_len =
            opt.as_ref().map_or(0, |o| o.len()) + tsig.as_ref().map_or(0, TsigCheck::reserve);
        if w.reserve(opt_len).is_err() {
            return Outcome::Drop;
        }
        if verdict.rcode == rcode::NOERROR
            && parsed.is_ok()
            && let Some(snap) = snap
        {
            let below = req.lower.label_count() - snap.apex_labels();
            let r = resolve::resolve(snap, req, below, &mut w, lookup);
            verdict.rcode = r.rcode;
            verdict.aa = r.aa;
            verdict.tc = r.tc;
            facts.class = r.class;
            facts.name_hash = req.hashes.get(r.key_skip as usize);
        } else if verdict.rcode == rcode::NOERROR && req.qclass == class::CH && parsed.is_ok() {
            verdict.rcode = chaos::answer_chaos(req, &self.cfg.identity, &self.cfg.version, &mut w);
            facts.class = if verdict.rcode == rcode::NOERROR {
                AnswerClass::Positive
            } else {
                AnswerClass::Error
            };
            facts.name_hash = req.hashes.get(0);
        }
        w.release(opt_len);
        if let Some(o) = opt.as_ref()
            && o.write(&mut w).is_err()
        {
            return Outcome::Drop;
        }
        let mut flags =
            flag::QR | ((req.opcode as u16) << flag::OPCODE_SHIFT) | (req.flags & flag::RD);
        if verdict.aa {
            flags |= flag::AA;
        }
        if verdict.tc {
            flags |= flag::TC;
        }
        flags |= verdict.rcode & flag::RCODE_MASK;
        let mut h = w.header();
        h.set_id(req.id);
        h.set_flags(flags);
        let mut len = w.finish();
        facts.rcode = verdict.rcode;
        facts.truncated = verdict.tc;
        if let Some(t) = tsig {
            match sign_answer(out, len, &t, transport.now) {
                Some(n) => len = n,
                None => return Outcome::Drop,
            }
        }
        let refused = match req.opcode {
            _ if busy => Some(Refused::Transfer),
            _ if verdict.rcode != rcode::NOTAUTH || parsed.is_err() => None,
            opcode::NOTIFY => Some(Refused::Notify),
            opcode::QUERY if matches!(req.qtype, rtype::AXFR | rtype::IXFR) => {
                Some(Refused::Transfer)
            }
            _ => None,
        };
        match (event, refused) {
            (Some(ev), _) => Outcome::Notify(len, ev),
            (None, Some(r)) => Outcome::Refused(len, r),
            (None, None) => Outcome::Reply(len),
        }
    }

    /// The most octets the response may take (RFC 6891 §6.2.5).
    fn size_limit(&self, req: &Request, transport: &Transport) -> usize {
        match transport.protocol {
            Protocol::Tcp => MAX_MESSAGE,
            Protocol::Udp => match req.edns {
                None => MIN_UDP_PAYLOAD as usize,
                Some(e) => e.payload.min(self.cfg.udp_payload).max(MIN_UDP_PAYLOAD) as usize,
            },
        }
    }

    /// Decides everything about a well-formed query except the records.
    fn plan<'z>(&self, zones: &'z ZoneSet, req: &Request, transport: &Transport) -> Verdict<'z> {
        match req.opcode {
            opcode::QUERY => {}
            // RFC 2136 §3.1.1: the zone section holds one SOA question.
            opcode::UPDATE if req.qtype != rtype::SOA => return Verdict::rcode(rcode::FORMERR),
            opcode::UPDATE => return Verdict::rcode(rcode::NOTAUTH),
            _ => return Verdict::rcode(rcode::NOTIMP),
        }
        if req.qtype == 0 {
            return Verdict::rcode(rcode::NOTIMP);
        }
        match req.qclass {
            class::IN | class::ANY => {}
            class::CH => return Verdict::rcode(rcode::NOERROR),
            _ => return Verdict::rcode(rcode::REFUSED),
        }
        match req.qtype {
            // RFC 5936 §4.2: no AXFR over UDP.
            rtype::AXFR if transport.protocol == Protocol::Udp => {
                return Verdict::rcode(rcode::NOTIMP);
            }
            // A transfer the zone's policy does not allow (the allowed
            // ones started before the plan): NOTAUTH, and why, where the
            // query has EDNS (RFC 8914 §4.19).
            rtype::AXFR | rtype::IXFR => {
                let mut v = Verdict::rcode(rcode::NOTAUTH);
                v.ede = Some((ede::PROHIBITED, "Transfer not allowed"));
                return v;
            }
            _ => {}
        }
        let found = zones.find(&req.lower, &req.hashes);
        // RFC 4035 §3.1.4.1: DS lives in the parent; answer it there when
        // the parent is served too.
        let found = match found {
            Some((_, 0)) if req.qtype == rtype::DS => {
                zones.find_from(&req.lower, &req.hashes, 1).or(found)
            }
            f => f,
        };
        // A catalog zone is this server's list of zones, not data for
        // the public (RFC 9432 §7): answered as a zone not served.
        let Some((zone, _)) = found.filter(|(z, _)| !z.is_catalog()) else {
            // RFC 8914 §4.21, as Knot sends it.
            let mut v = Verdict::rcode(rcode::REFUSED);
            v.ede = Some((ede::NOT_AUTHORITATIVE, ""));
            return v;
        };
        let mut v = Verdict::rcode(rcode::NOERROR);
        v.zone = Some(zone);
        v
    }
}

/// Loads the version `zone` serves, once per answer; a zone with none
/// yet, or whose copy expired, turns a NOERROR verdict into SERVFAIL with
/// the extended error saying why (RFC 8914).
fn check_version(zone: &Zone, v: &mut Verdict<'_>, now: u64) -> SnapshotGuard {
    let snapshot = zone.snapshot();
    if v.rcode == rcode::NOERROR {
        if snapshot.is_none() {
            v.rcode = rcode::SERVFAIL;
            v.ede = Some((ede::NOT_READY, "Zone not loaded"));
        } else if zone.is_expired(now) {
            v.rcode = rcode::SERVFAIL;
            v.ede = Some((ede::INVALID_DATA, "Zone has expired"));
        }
    }
    snapshot
}

/// How a transfer request is signed: `Some(None)` unsigned, `Some(Some(
/// MAC))` signed with the zone's `transfer_key` and verified, `None` when
/// its signature fails (the usual path then answers NOTAUTH with the TSIG
/// error, RFC 8945 §5.2).
fn transfer_signature(
    zones: &ZoneSet,
    req: &Request,
    query: &[u8],
    now: u64,
) -> Option<Option<MacBytes>> {
    if req.tsig_pos.is_none() {
        return Some(None);
    }
    let t = tsig::locate(query).ok().flatten()?;
    let key = transfer_key(zones, req)?;
    tsig::verify_request(query, &t, Some(key), now)
        .ok()
        .map(Some)
}

/// The `transfer_key` of the zone `req` names: at its apex for a
/// transfer, anywhere in it for another query (a secondary asks SOA with
/// the key before IXFR, as BIND and Knot do at each refresh).
fn transfer_key<'z>(zones: &'z ZoneSet, req: &Request) -> Option<&'z TsigKey> {
    let (zone, below) = zones.find(&req.lower, &req.hashes)?;
    if below != 0 && matches!(req.qtype, rtype::AXFR | rtype::IXFR) {
        return None;
    }
    zone.transfer_acl()?.key().map(|k| &**k)
}

/// Verifies the TSIG of a request. NOTIFY for a secondary zone with a
/// key, and a query (a transfer request above all) for a zone with a
/// `transfer_key`, have a key to check against; any other signed request
/// gets BADKEY.
fn check_tsig<'k>(
    zones: &'k ZoneSet,
    req: &Request,
    query: &[u8],
    now: u64,
) -> Option<TsigCheck<'k>> {
    let t = tsig::locate(query).ok().flatten()?;
    let key: Option<&'k TsigKey> = match req.opcode {
        opcode::NOTIFY => {
            notify::notify_zone(zones, req).and_then(|z| z.notify_policy()?.key.as_deref())
        }
        // Any query for a zone with a transfer key is checked against
        // it, and answered signed.
        opcode::QUERY => transfer_key(zones, req),
        _ => None,
    };
    Some(match tsig::verify_request(query, &t, key, now) {
        Ok(mac) => TsigCheck::Verified { key: key?, mac },
        Err(error) => TsigCheck::Failed {
            error,
            key,
            request_mac: MacBytes::from_slice(t.rdata.mac),
            key_name: t.key_name,
            algorithm: t.algorithm,
        },
    })
}

/// Appends the answer's TSIG record: signed when the request verified, or
/// when only its time was off (RFC 8945 §5.2.3, with our time as other
/// data); unsigned with the error code otherwise (§5.3.2).
fn sign_answer(out: &mut [u8], len: usize, t: &TsigCheck<'_>, now: u64) -> Option<usize> {
    match t {
        TsigCheck::Verified { key, mac } => tsig::sign(
            out,
            len,
            key,
            Signing::Response {
                request_mac: mac.as_slice(),
            },
            now,
            0,
            &[],
        )
        .map(|(n, _)| n),
        TsigCheck::Failed {
            error: TsigError::BadTime,
            key: Some(key),
            request_mac,
            ..
        } => {
            let b = now.to_be_bytes();
            tsig::sign(
                out,
                len,
                key,
                Signing::Response {
                    request_mac: request_mac.as_slice(),
                },
                now,
                tsig::error_code::BADTIME,
                &b[2..],
            )
            .map(|(n, _)| n)
        }
        TsigCheck::Failed {
            error,
            key_name,
            algorithm,
            ..
        } => tsig::append_error(
            out,
            len,
            key_name.as_wire(),
            algorithm.as_wire(),
            now,
            error.code(),
        ),
    }
}

/// The RFC 7314 EXPIRE value: seconds left for a secondary zone, the SOA
/// EXPIRE field for a zone served from its own file.
fn expire_option(zone: &Zone, snapshot: Option<&Snapshot>, now: u64) -> Option<u32> {
    match zone.expires_at() {
        Some(t) => Some(t.saturating_sub(now).min(u32::MAX as u64) as u32),
        None => snapshot.map(|s| s.soa_field(3)),
    }
}

#[cfg(test)]
mod tests;
