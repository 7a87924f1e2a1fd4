//! What each fuzz target checks. Shared with `tests/fuzz_corpus.rs`, so
//! that the checked-in corpus and every past crash replay under a plain
//! `cargo test`. Each function panics when an invariant breaks; errors
//! from bad input are the expected outcome, not a failure.

// Every fuzz target uses one of these; the corpus test uses them all.
#![allow(dead_code)]

use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, OnceLock};

use zonecast::answer::cookie::{CookiePolicy, CookieSecret};
use zonecast::answer::transfer_out::TransferOut;
use zonecast::answer::{
    Lookahead, MAX_MESSAGE, MIN_UDP_PAYLOAD, Outcome, Protocol, Request, Responder,
    ResponderConfig, Scratch, Transport,
};
use zonecast::tsig::{
    Algorithm, MacBytes, ResponseVerifier, TsigKey, locate, sign_request, verify_request,
};
use zonecast::wire::edns::EdnsOption;
use zonecast::wire::iana::{opcode, rcode, rtype};
use zonecast::wire::name::{hash_name, is_subdomain, parse_name_text};
use zonecast::wire::rdata::{Fields, check_rdata, read_rdata};
use zonecast::wire::serial::Serial;
use zonecast::wire::tsig::TsigRdata;
use zonecast::wire::{Message, Name, Sections};
use zonecast::xfr::exchange::{Exchange, Outcome as XfrOutcome, Step};
use zonecast::xfr::stream::{Limits, Received, TransferStream};
use zonecast::zone::text::{RdataDisplay, write_zone_file};
use zonecast::zone::{NotifyPolicy, Rr, Snapshot, Zone, ZoneAccess, ZoneSet, load_zone_text};

/// The time every target runs at: inside the fixed zones' lifetimes.
pub const NOW: u64 = 1_800_000_000;
/// The address the secondary zones take NOTIFY from.
const PRIMARY: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
const STRANGER: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
/// The key of the seed captures (`tools/fuzz-corpus`) and of the signed
/// secondary zone.
pub const KEY_NAME: &str = "fuzz-key.";
pub const KEY_SECRET: &[u8] = b"zonecast fuzzing key, not secret";

const DIFF_ZONE: &[u8] = include_bytes!("../../tests/data/diff.test.zone");
const CHILD_ZONE: &[u8] = include_bytes!("../../tests/data/child.diff.test.zone");
/// Signed once, with NSEC and with NSEC3 opt-out: the DO=1 paths.
const NSEC_ZONE: &[u8] = include_bytes!("../zones/nsec.test.zone");
const NSEC3_ZONE: &[u8] = include_bytes!("../zones/nsec3.test.zone");

fn name(text: &str) -> Name {
    parse_name_text(text, None).expect("a fixed name")
}

pub fn key() -> Arc<TsigKey> {
    Arc::new(TsigKey::new(
        name(KEY_NAME),
        Algorithm::HmacSha256,
        KEY_SECRET.to_vec(),
    ))
}

fn load(text: &[u8], apex: &str) -> Arc<Snapshot> {
    let built = load_zone_text(text, apex, &name(apex)).expect("a fixed zone loads");
    Arc::new(built.snapshot)
}

/// The `diff.test.` zone of the differential suite, at its first serial.
pub fn base_zone() -> Arc<Snapshot> {
    static ZONE: OnceLock<Arc<Snapshot>> = OnceLock::new();
    ZONE.get_or_init(|| load(DIFF_ZONE, "diff.test.")).clone()
}

/// A primary zone with every answer rule; its child as a secondary zone
/// that takes NOTIFY signed with the key from 127.0.0.1 (as Knot sends
/// them in the seed corpus); and a secondary zone that has expired.
fn zone_set() -> &'static ZoneSet {
    static SET: OnceLock<ZoneSet> = OnceLock::new();
    SET.get_or_init(|| {
        let secondary = |text: &[u8], apex: &str, expires_at: u64| {
            Zone::new(
                name(apex),
                Some(load(text, apex)),
                Some(expires_at),
                Some(ZoneAccess::secondary(NotifyPolicy {
                    primaries: vec![PRIMARY],
                    key: Some(key()),
                })),
            )
        };
        ZoneSet::new([
            Zone::primary(base_zone()),
            Zone::primary(load(NSEC_ZONE, "nsec.test.")),
            Zone::primary(load(NSEC3_ZONE, "nsec3.test.")),
            secondary(CHILD_ZONE, "child.diff.test.", NOW + 1000),
            secondary(
                b"$TTL 60\n@ SOA ns hm 7 60 60 600 60\n@ NS ns\nns A 192.0.2.9\n",
                "expired.test.",
                NOW - 1,
            ),
        ])
    })
}

fn responder() -> &'static Responder {
    static R: OnceLock<Responder> = OnceLock::new();
    R.get_or_init(|| Responder::new(ResponderConfig::default()))
}

/// A responder that answers DNS cookies, BADCOOKIE included.
fn cookie_responder() -> &'static Responder {
    static R: OnceLock<Responder> = OnceLock::new();
    R.get_or_init(|| {
        Responder::new(ResponderConfig {
            cookies: Some(CookiePolicy {
                secret: CookieSecret::new(*b"zonecast fuzzing"),
                previous: Some(CookieSecret::new(*b"previous secret!")),
                badcookie: true,
            }),
            ..ResponderConfig::default()
        })
    })
}

/// The first COOKIE option of a message's OPT record, if any.
fn cookie_of(msg: &[u8]) -> Option<Vec<u8>> {
    let m = Message::new_checked(msg).ok()?;
    let e = m.parse().ok()?.edns()?.ok()?;
    e.options().find_map(|o| match o {
        Ok(EdnsOption::Cookie { client, server }) => Some([client, server].concat()),
        Ok(EdnsOption::Malformed { code: 10, data }) => Some(data.to_vec()),
        _ => None,
    })
}

/// Every accessor of the message parser, over arbitrary bytes.
pub fn message(data: &[u8]) {
    frame(data);
    let Ok(m) = Message::new_checked(data) else {
        assert!(data.len() < 12, "a full header must be accepted");
        return;
    };
    let h = m.header();
    let _ = (h.id(), h.flags(), h.opcode(), h.rcode(), h.qr());
    for q in m.questions() {
        let Ok(q) = q else { break };
        assert!(q.name().as_wire().len() <= 255);
    }
    let request = Request::default().parse(data).is_ok();
    let Ok(s) = m.parse() else {
        // The engine's fast path must not accept what the full walk refuses.
        assert!(
            !request,
            "Request::parse accepted a message Message::parse refuses"
        );
        return;
    };
    let mut rdata = Vec::new();
    let mut text = String::new();
    for rec in s.answers().chain(s.authorities()).chain(s.additionals()) {
        let r = rec.expect("records parse() already walked");
        assert!(r.owner().as_wire().len() <= 255);
        rdata.clear();
        if read_rdata(data, r.rdata_pos, r.rdata_len, r.rtype, &mut rdata).is_ok() {
            // What the transfer path accepts, the zone accepts too.
            check_rdata(r.rtype, &rdata).expect("read_rdata output passes check_rdata");
            for f in Fields::new(r.rtype, &rdata) {
                f.expect("fields of checked RDATA");
            }
            text.clear();
            use std::fmt::Write;
            let _ = write!(text, "{}", RdataDisplay(r.rtype, &rdata));
        }
    }
    if let Some(Ok(e)) = s.edns() {
        for o in e.options() {
            let _: Result<EdnsOption<'_>, _> = o;
        }
    }
    if let Some(t) = s.tsig {
        let _ = TsigRdata::parse(data, t.rdata_pos, t.rdata_len);
        let _ = locate(data);
    }
}

/// The largest UDP response the query allows, worked out from the query
/// alone (RFC 1035 §4.2.1, RFC 6891 §6.2.5).
fn udp_limit(query: &[u8]) -> usize {
    let configured = ResponderConfig::default().udp_payload as usize;
    let Ok(m) = Message::new_checked(query) else {
        return MIN_UDP_PAYLOAD as usize;
    };
    match m.parse() {
        // A query that does not parse may still have had its OPT read.
        Err(_) => configured,
        Ok(s) => match s.edns() {
            Some(Ok(e)) => (e.udp_payload as usize).clamp(MIN_UDP_PAYLOAD as usize, configured),
            _ => MIN_UDP_PAYLOAD as usize,
        },
    }
}

/// A query through the whole answer engine. The first octet picks the
/// transport (bit 0: TCP), the source (bit 1: the secondary zones'
/// primary) and whether cookies are answered (bit 2); the rest is the
/// query.
pub fn respond(data: &[u8]) {
    let Some((&facts, query)) = data.split_first() else {
        return;
    };
    let transport = Transport {
        protocol: if facts & 1 == 1 {
            Protocol::Tcp
        } else {
            Protocol::Udp
        },
        source: if facts & 2 == 2 { PRIMARY } else { STRANGER },
        now: NOW,
    };
    // The UDP workers start the first lookup ahead (a hint only).
    let mut ahead = Lookahead::<1>::default();
    let first = ahead.first_lookup(zone_set(), query);
    ahead.add(zone_set(), query);
    ahead.finish();
    let mut out = vec![0u8; MAX_MESSAGE];
    let mut scratch = Scratch::default();
    let cookies = facts & 4 == 4;
    let r = if cookies {
        cookie_responder()
    } else {
        responder()
    };
    let outcome = r.respond(zone_set(), query, &transport, &mut out, &mut scratch);
    let n = match outcome {
        Outcome::Drop => return,
        Outcome::Reply(n) | Outcome::Notify(n, _) | Outcome::Refused(n, _) => n,
        // A transfer (for a zone that allows it): every message parses.
        Outcome::Transfer(mut t) => {
            while let Ok(Some(n)) = t.0.next_message(&mut out, 0) {
                let m = Message::new_checked(&out[..n]).expect("a transfer message has a header");
                m.parse().expect("a transfer message parses");
            }
            return;
        }
    };
    // Never an answer to an answer (no reflection loops), nor to less
    // than a header.
    assert!(query.len() >= 12, "answered a packet shorter than a header");
    assert_eq!(query[2] & 0x80, 0, "answered a packet with QR=1");
    let resp = &out[..n];
    let m = Message::new_checked(resp).expect("the response has a header");
    let h = m.header();
    assert!(h.qr(), "QR set");
    assert_eq!(h.id(), u16::from_be_bytes([query[0], query[1]]), "same ID");
    assert_eq!(h.opcode(), (query[2] >> 3) & 0x0f, "same opcode");
    let s = m.parse().expect("the response parses, sections as counted");
    match s.question {
        Some(rq) => {
            let qm = Message::new_checked(query).expect("answered query has a header");
            let q = qm
                .questions()
                .next()
                .expect("a question echoed was asked")
                .expect("a question echoed was readable");
            assert_eq!(
                rq.name().as_wire(),
                q.name().as_wire(),
                "question name echoed as sent"
            );
            assert_eq!(
                (rq.qtype, rq.qclass),
                (q.qtype, q.qclass),
                "question echoed"
            );
            assert_eq!(h.qdcount(), 1);
            if let Some((zone, hash)) = first {
                let lower = rq.name().as_wire().to_ascii_lowercase();
                assert_eq!(hash, hash_name(&lower), "lookahead hashed another name");
                assert!(
                    is_subdomain(&lower, zone.apex.as_wire()),
                    "lookahead looked in a zone the name is not in"
                );
            }
        }
        None => assert!(
            matches!(h.rcode() as u16, rcode::FORMERR | rcode::NOTIMP),
            "only FORMERR and NOTIMP go without a question, got {}",
            h.rcode()
        ),
    }
    // RFC 6891 §6.1.3: the RCODE's upper bits travel in the OPT record.
    let ext_rcode = match s.edns() {
        Some(e) => e.expect("the response's OPT is well formed").ext_rcode as u16,
        None => 0,
    };
    let full_rcode = (ext_rcode << 4) | h.rcode() as u16;
    if h.opcode() == opcode::QUERY && full_rcode == rcode::NOERROR {
        assert!(
            h.ancount() + h.nscount() > 0 || h.flags() & 0x0200 != 0,
            "NOERROR with empty sections must be truncated"
        );
    }
    match transport.protocol {
        Protocol::Udp => assert!(
            n <= udp_limit(query),
            "{n} octets over UDP, limit {}",
            udp_limit(query)
        ),
        Protocol::Tcp => assert!(n <= MAX_MESSAGE),
    }
    check_signed(query, resp, &s);
    // RFC 7873 §5.2: a cookie answered carries the client's cookie and a
    // server cookie of ours (RFC 9018: 16 octets); none without one asked.
    if let Some(c) = cookie_of(resp) {
        assert!(cookies, "a cookie answered with cookies off");
        let asked = cookie_of(query).expect("a cookie answered was asked");
        assert_eq!(c.len(), 24, "client cookie and a 16-octet server cookie");
        assert_eq!(c[..8], asked[..8], "the client cookie echoed");
    } else if cookies && full_rcode == rcode::BADCOOKIE {
        panic!("BADCOOKIE without a cookie to retry with");
    }
}

/// RFC 4035 §3.1.1: with DO=1 on a signed zone every RRset of the answer
/// and authority sections comes with its RRSIGs in the same section,
/// unless the answer is truncated. Not signed: the NS of a referral (the
/// child's), and a CNAME synthesized from a DNAME (RFC 6672 §5.3.1).
fn check_signed(query: &[u8], resp: &[u8], s: &Sections<'_>) {
    let asked_do = Message::new_checked(query)
        .ok()
        .and_then(|m| m.parse().ok())
        .and_then(|q| q.edns())
        .and_then(Result::ok)
        .is_some_and(|e| e.dnssec_ok());
    let Some(q) = s.question else { return };
    let qname = q.name().as_wire().to_ascii_lowercase();
    let Some(apex) = [&b"\x04nsec\x04test\x00"[..], b"\x05nsec3\x04test\x00"]
        .into_iter()
        .find(|apex| is_subdomain(&qname, apex))
    else {
        return;
    };
    let h = Message::new_checked(resp).expect("checked above").header();
    if !asked_do || h.flags() & 0x0200 != 0 || q.qclass != 1 {
        return;
    }
    for (section, recs) in [("answer", s.answers()), ("authority", s.authorities())] {
        let recs: Vec<_> = recs
            .map(|r| r.expect("records parse() already walked"))
            .collect();
        let dnames: Vec<Vec<u8>> = recs
            .iter()
            .filter(|r| r.rtype == rtype::DNAME)
            .map(|r| r.owner().as_wire().to_ascii_lowercase())
            .collect();
        for r in &recs {
            let owner = r.owner().as_wire().to_ascii_lowercase();
            let synthesized = r.rtype == rtype::CNAME
                && dnames
                    .iter()
                    .any(|d| d != &owner && is_subdomain(&owner, d));
            let referral_ns = section == "authority" && r.rtype == rtype::NS && owner != apex;
            if r.rtype == rtype::RRSIG || synthesized || referral_ns {
                continue;
            }
            let has_sig = recs.iter().any(|g| {
                g.rtype == rtype::RRSIG
                    && g.owner().as_wire().eq_ignore_ascii_case(&owner)
                    && resp.get(g.rdata_pos..g.rdata_pos + 2) == Some(&r.rtype.to_be_bytes()[..])
            });
            assert!(
                has_sig,
                "{section} RRset type {} of a signed zone without its RRSIG",
                r.rtype
            );
        }
    }
}

/// The zone-file reader; whatever it accepts prints and reads back to the
/// same records.
pub fn zone_file(data: &[u8]) {
    let apex = name("fuzz.test.");
    let built = match load_zone_text(data, "fuzz", &apex) {
        Ok(b) => b,
        Err(e) => {
            assert!(!e.to_string().is_empty());
            return;
        }
    };
    let before: Vec<_> = built.snapshot.records().collect();
    let mut text = Vec::new();
    write_zone_file(&mut text, "printed", built.snapshot.records()).expect("writing to memory");
    let again = load_zone_text(&text, "printed", &apex).unwrap_or_else(|e| {
        panic!(
            "the printed zone does not read back: {e}\n{}",
            String::from_utf8_lossy(&text)
        )
    });
    let after: Vec<_> = again.snapshot.records().collect();
    assert_eq!(before, after, "print-then-read changed the zone");
}

/// Splits `data` into length-prefixed messages (two octets, big-endian).
fn frames(mut data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    while let [hi, lo, rest @ ..] = data {
        let n = (u16::from_be_bytes([*hi, *lo]) as usize).min(rest.len());
        out.push(&rest[..n]);
        data = &rest[n..];
    }
    out
}

fn records_of(s: &Snapshot) -> Vec<Rr> {
    s.records()
        .map(|(owner, ttl, t, rdata)| Rr {
            owner: Name::from_wire(owner).expect("a zone's owner is a name"),
            rtype: t,
            class: 1,
            ttl,
            rdata: rdata.into(),
        })
        .collect()
}

/// Two zones' records are the same; else the records only one has.
fn assert_same(got: &[Rr], want: &[Rr], what: &str) {
    if got != want {
        let only_got: Vec<String> = got
            .iter()
            .filter(|r| !want.contains(r))
            .map(Rr::to_string)
            .collect();
        let only_want: Vec<String> = want
            .iter()
            .filter(|r| !got.contains(r))
            .map(Rr::to_string)
            .collect();
        panic!(
            "{what}: {} records against {}; only in what came back: {only_got:?}; only in the zone: {only_want:?}",
            got.len(),
            want.len()
        );
    }
}

/// A refresh driven by arbitrary messages from the "primary". The first
/// octet picks the case: bit 0 holds a zone (SOA query, then IXFR) or
/// not (AXFR at once); bit 1 signs with a key; bit 2 leaves the message
/// IDs as they are instead of matching them to the query. The rest is
/// length-prefixed messages. Either a usable zone comes out or a clean
/// error, and the zone held stays as it was.
pub fn transfer(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let apex = name("diff.test.");
    let current = (mode & 1 == 1).then(base_zone);
    let held = current.as_ref().map(|s| records_of(s));
    let limits = Limits {
        max_records: 5_000,
        max_bytes: 1 << 20,
        max_messages: 200,
        nsec3_max_iterations: 150,
        zonemd: zonecast::zone::zonemd::ZonemdPolicy::Verify,
        journal: zonecast::zone::journal::JournalLimits {
            max_depth: 20,
            max_usage: 1 << 20,
        },
    };
    let key = (mode & 2 == 2).then(key);
    let mut ex = Exchange::new(&apex, key, limits, current.clone(), 7);
    // Framed: two octets of length, then the query with its ID.
    let mut query = ex.start(NOW);
    let mut outcome = None;
    for msg in frames(rest) {
        let mut msg = msg.to_vec();
        if mode & 4 == 0 && msg.len() >= 2 && query.len() >= 4 {
            msg[..2].copy_from_slice(&query[2..4]);
        }
        match ex.on_message(&msg, NOW) {
            Ok(Step::Send(q)) => query = q,
            Ok(Step::Continue) => {}
            Ok(Step::Done(o)) => {
                outcome = Some(o);
                break;
            }
            Err(e) => {
                assert!(!e.to_string().is_empty());
                break;
            }
        }
    }
    if let (Some(s), Some(held)) = (&current, &held) {
        assert_eq!(&records_of(s), held, "the zone held changed");
    }
    let Some(XfrOutcome::Transferred(t)) = outcome else {
        return;
    };
    let new = &t.snapshot;
    assert_eq!(new.apex_wire(), apex.as_wire());
    assert_eq!(new.soa().rtype(), rtype::SOA);
    if let Some(old) = &current {
        assert!(
            Serial(new.serial()).is_newer_than(Serial(old.serial())),
            "a refresh went from serial {} to {}",
            old.serial(),
            new.serial()
        );
    }
    // The new zone goes out as we serve it, by AXFR, and our own inbound
    // stream reads it back as the same zone.
    let records = records_of(new);
    let new = Arc::new(t.snapshot);
    let back = serve_and_receive(&new, rtype::AXFR, None, limits);
    let Received::Zone { builder, .. } = back else {
        panic!("our AXFR read back as something else");
    };
    let back = builder.finish().expect("our own AXFR builds");
    assert_same(&records_of(&back.snapshot), &records, "AXFR round trip");
    // After an IXFR the change went to the journal: served by IXFR to a
    // client at the old serial, it makes the new zone from the old.
    if let (Some(old), Some(_)) = (&current, new.journal()) {
        match serve_and_receive(&new, rtype::IXFR, Some(old.serial()), limits) {
            Received::Diffs { diffs, .. } => {
                let applied =
                    zonecast::zone::diff::apply(old, &diffs).expect("our own diffs apply");
                assert_same(&records_of(&applied), &records, "IXFR round trip");
            }
            Received::Zone { builder, .. } => {
                let back = builder.finish().expect("our own AXFR-style IXFR builds");
                assert_same(&records_of(&back.snapshot), &records, "IXFR round trip");
            }
            Received::UpToDate { serial } => {
                panic!("IXFR from {} answered up to date at {serial}", old.serial())
            }
        }
    }
}

/// Every message of a transfer of `zone` as we serve it (AXFR, or IXFR
/// for a client at `theirs`), read by our own inbound stream.
fn serve_and_receive(
    zone: &Arc<Snapshot>,
    qtype: u16,
    theirs: Option<u32>,
    limits: Limits,
) -> Received {
    let apex = Name::from_wire(zone.apex_wire()).expect("an apex is a name");
    let qname =
        zonecast::wire::name::NameBuf::from_wire(zone.apex_wire()).expect("an apex is a name");
    let mut out = TransferOut::new(Arc::clone(zone), 9, qname.clone());
    if qtype == rtype::IXFR {
        out = TransferOut::ixfr(Arc::clone(zone), 9, qname, theirs, true);
    }
    let mut stream = TransferStream::new(&apex, qtype, 9, theirs, limits);
    let mut buf = vec![0u8; zonecast::answer::transfer_out::MESSAGE_MAX];
    let mut done = false;
    while let Some(n) = out
        .next_message(&mut buf, 0)
        .expect("a zone we hold can be served")
    {
        assert!(!done, "messages after the closing SOA");
        done = stream.on_message(&buf[..n]).expect("our own stream reads");
    }
    assert!(done, "the stream we served ended early");
    stream.finish().expect("our own stream finishes")
}

/// TSIG over arbitrary messages. The first octet picks the check: even,
/// one signed request; odd, length-prefixed frames, the first being the
/// request's MAC and the rest the response stream answering it. Good
/// signatures verify; anything else is a clean error.
pub fn tsig(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let key = key();
    if mode & 1 == 0 {
        if let Ok(Some(t)) = locate(rest) {
            // At the time it claims, so that a good MAC can pass.
            let now = t.rdata.time_signed;
            let _ = verify_request(rest, &t, Some(&key), now);
            let _ = verify_request(rest, &t, Some(&key), now.wrapping_add(10_000));
        }
        // Property: an unsigned message we sign verifies.
        let unsigned = Message::new_checked(rest)
            .and_then(|m| m.parse())
            .is_ok_and(|s| s.tsig.is_none() && s.counts[2] < u16::MAX);
        if unsigned {
            let mut signed = rest.to_vec();
            let mac = sign_request(&mut signed, &key, NOW);
            let t = locate(&signed)
                .expect("our TSIG is readable")
                .expect("our TSIG is found");
            let checked = verify_request(&signed, &t, Some(&key), NOW).expect("our TSIG verifies");
            assert_eq!(checked.as_slice(), mac.as_slice());
        }
        return;
    }
    let frames = frames(rest);
    let Some((request_mac, messages)) = frames.split_first() else {
        return;
    };
    let mut v = ResponseVerifier::new(key, MacBytes::from_slice(request_mac));
    let mut now = NOW;
    for m in messages {
        if let Ok(Some(t)) = locate(m) {
            now = t.rdata.time_signed;
        }
        if v.verify(m, now).is_err() {
            return;
        }
    }
    let _ = v.finish();
}

/// The same octets as an Ethernet frame the XDP worker received: what
/// parses as a datagram lies inside the frame, and its answer's headers
/// parse back as a datagram to the client's port with the answer's
/// length.
fn frame(data: &[u8]) {
    use zonecast::xdp::packet;
    // The destination port where IPv4 and IPv6 put it.
    let at = |i: usize| {
        u16::from_be_bytes([
            data.get(i).copied().unwrap_or(0),
            data.get(i + 1).copied().unwrap_or(0),
        ])
    };
    for port in [at(36), at(56)] {
        let Some(d) = packet::parse(data, port) else {
            continue;
        };
        assert!(d.headers + d.payload <= data.len());
        let payload = d.payload.min(64);
        let mut out = vec![0u8; d.headers + payload];
        let n = packet::write_answer(data, &d, &mut out, payload);
        assert_eq!(n, out.len());
        let client = u16::from_be_bytes([data[d.headers - 8], data[d.headers - 7]]);
        let back = packet::parse(&out, client).expect("an answer parses as a datagram");
        assert_eq!((back.headers, back.payload), (d.headers, payload));
    }
}
