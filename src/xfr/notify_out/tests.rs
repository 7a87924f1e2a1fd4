//! Tests of `notify_out`, compiled only under `#[cfg(test)]` (declared in
//! `notify_out.rs`), in simulated time.

use super::*;
use crate::tsig::{Algorithm, Signing, locate, sign, verify_request};
use crate::wire::name::parse_name_text;
use hickory_proto::op::{Message as HMessage, OpCode};
use hickory_proto::rr::{RData, RecordType};

const T0: Millis = 1_800_000_000_000;
const SECS: u64 = 1_800_000_000;

fn key() -> Arc<TsigKey> {
    Arc::new(TsigKey::new(
        parse_name_text("xfr-key.", None).unwrap(),
        Algorithm::HmacSha256,
        b"secret".to_vec(),
    ))
}

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn announcement(serial: u32, key: Option<Arc<TsigKey>>) -> Announcement {
    let mut rdata = b"\x02ns\x07example\x03com\x00\x02hm\x07example\x03com\x00".to_vec();
    for v in [serial, 3600, 600, 604800, 300] {
        rdata.extend_from_slice(&v.to_be_bytes());
    }
    Announcement {
        apex: parse_name_text("Example.com.", None).unwrap(),
        serial,
        soa_ttl: 300,
        soa_rdata: rdata.into(),
        targets: Arc::new(NotifyTargets {
            addrs: vec![addr("198.18.0.1:53"), addr("[2001:db8::1]:5353")].into(),
            key,
            source: Some("198.18.0.9".parse().unwrap()),
        }),
    }
}

/// The answer a secondary gives to `sent`: the same message with QR set.
fn answer(sent: &[u8], rcode: u8) -> Vec<u8> {
    let mut r = sent.to_vec();
    r[2] |= 0x80;
    r[3] = (r[3] & 0xf0) | rcode;
    r
}

#[test]
fn a_new_version_notifies_every_target_with_the_soa() {
    let mut n = NotifyOut::new(RetryPolicy::default(), 7);
    n.announce(&announcement(42, None), T0);
    assert_eq!(n.next_deadline(), Some(T0));
    let (sent, gave_up) = n.poll(T0, SECS);
    assert!(gave_up.is_empty());
    assert_eq!(sent.len(), 2);
    let mut to: Vec<_> = sent.iter().map(|t| t.to).collect();
    to.sort();
    assert_eq!(to, [addr("198.18.0.1:53"), addr("[2001:db8::1]:5353")]);
    for t in &sent {
        assert_eq!(t.source, Some("198.18.0.9".parse().unwrap()));
        let m = HMessage::from_vec(&t.bytes).unwrap();
        assert_eq!(m.metadata.op_code, OpCode::Notify);
        assert!(m.metadata.authoritative);
        assert_eq!(m.queries[0].name().to_string(), "Example.com.");
        assert_eq!(m.queries[0].query_type(), RecordType::SOA);
        match &m.answers[0].data {
            RData::SOA(s) => assert_eq!(s.serial, 42),
            other => panic!("{other:?}"),
        }
    }
    // Nothing more is due before the first wait.
    assert_eq!(n.next_deadline(), Some(T0 + 1_000));
    assert!(n.poll(T0 + 999, SECS).0.is_empty());
}

#[test]
fn unanswered_notifies_are_sent_again_with_back_off_then_given_up() {
    let policy = RetryPolicy {
        first_wait: 1_000,
        max_wait: 4_000,
        max_sends: 5,
    };
    let mut n = NotifyOut::new(policy, 7);
    let mut one = announcement(42, None);
    one.targets = Arc::new(NotifyTargets {
        addrs: vec![addr("198.18.0.1:53")].into(),
        key: None,
        source: None,
    });
    n.announce(&one, T0);
    let mut at = Vec::new();
    let mut ids = Vec::new();
    let mut now = T0;
    let mut gave_up = Vec::new();
    while let Some(t) = n.next_deadline() {
        now = t;
        let (sent, g) = n.poll(now, SECS);
        gave_up.extend(g);
        for s in sent {
            at.push(now - T0);
            ids.push(u16::from_be_bytes([s.bytes[0], s.bytes[1]]));
        }
        assert!(now < T0 + 60_000, "the NOTIFY ends");
    }
    // 1, 2, 4, then 4 (the cap) seconds apart: five sends, one ID.
    assert_eq!(at, [0, 1_000, 3_000, 7_000, 11_000]);
    assert!(ids.iter().all(|i| *i == ids[0]));
    assert_eq!(
        gave_up,
        [Outcome::GaveUp {
            apex: one.apex.clone(),
            to: addr("198.18.0.1:53"),
            serial: 42,
            sends: 5
        }]
    );
    assert_eq!(now, T0 + 15_000);
    assert_eq!(n.pending(), 0);
}

#[test]
fn an_answer_from_the_target_ends_its_notify_and_nothing_else_does() {
    let mut n = NotifyOut::new(RetryPolicy::default(), 7);
    n.announce(&announcement(42, None), T0);
    let (sent, _) = n.poll(T0, SECS);
    let first = sent.iter().find(|t| t.to == addr("198.18.0.1:53")).unwrap();
    let reply = answer(&first.bytes, 0);
    // From another address, with another ID, or not a response: ignored.
    assert_eq!(n.on_datagram(addr("198.18.0.2:53"), &reply, SECS), None);
    let mut other_id = reply.clone();
    other_id[1] ^= 1;
    assert_eq!(n.on_datagram(addr("198.18.0.1:53"), &other_id, SECS), None);
    assert_eq!(
        n.on_datagram(addr("198.18.0.1:53"), &first.bytes, SECS),
        None
    );
    assert_eq!(n.on_datagram(addr("198.18.0.1:53"), b"\x00", SECS), None);
    assert_eq!(n.pending(), 2);
    assert_eq!(
        n.on_datagram(addr("198.18.0.1:53"), &reply, SECS),
        Some(Outcome::Answered {
            apex: parse_name_text("Example.com.", None).unwrap(),
            to: addr("198.18.0.1:53"),
            serial: 42,
            rcode: 0,
            sends: 1
        })
    );
    assert_eq!(n.pending(), 1);
    // Answered twice: the second finds nothing pending.
    assert_eq!(n.on_datagram(addr("198.18.0.1:53"), &reply, SECS), None);
    // Only the other target is sent again.
    let (again, _) = n.poll(T0 + 1_000, SECS);
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].to, addr("[2001:db8::1]:5353"));
    // An error answer ends it too (the secondary has heard us).
    let Some(Outcome::Answered { rcode, sends, .. }) = n.on_datagram(
        addr("[2001:db8::1]:5353"),
        &answer(&again[0].bytes, 5),
        SECS,
    ) else {
        panic!("answered");
    };
    assert_eq!((rcode, sends), (5, 2));
    assert_eq!(n.next_deadline(), None);
}

#[test]
fn a_newer_version_replaces_the_notify_waiting() {
    let mut n = NotifyOut::new(RetryPolicy::default(), 7);
    n.announce(&announcement(42, None), T0);
    let (old, _) = n.poll(T0, SECS);
    n.announce(&announcement(43, None), T0 + 10);
    assert_eq!(n.pending(), 2);
    let (new, _) = n.poll(T0 + 10, SECS);
    assert_eq!(new.len(), 2);
    for t in &new {
        let m = HMessage::from_vec(&t.bytes).unwrap();
        assert!(matches!(&m.answers[0].data, RData::SOA(s) if s.serial == 43));
    }
    // The answer to the old NOTIFY (its ID) ends nothing.
    let stale = old.iter().find(|t| t.to == addr("198.18.0.1:53")).unwrap();
    assert_eq!(
        n.on_datagram(stale.to, &answer(&stale.bytes, 0), SECS),
        None
    );
    assert_eq!(n.pending(), 2);
    n.forget(&parse_name_text("example.COM.", None).unwrap());
    assert_eq!(n.pending(), 0);
}

#[test]
fn with_a_key_notifies_are_signed_and_only_a_signed_answer_counts() {
    let k = key();
    let mut n = NotifyOut::new(RetryPolicy::default(), 7);
    n.announce(&announcement(42, Some(k.clone())), T0);
    let (sent, _) = n.poll(T0, SECS);
    let t = &sent[0];
    let tsig = locate(&t.bytes).unwrap().expect("a TSIG record");
    let mac = verify_request(&t.bytes, &tsig, Some(&k), SECS).expect("it verifies");
    // An unsigned answer is not taken.
    let unsigned = answer(&t.bytes[..tsig.start], 0);
    let mut unsigned = unsigned;
    unsigned[11] = 0; // ARCOUNT back to 0
    assert_eq!(n.on_datagram(t.to, &unsigned, SECS), None);
    // Signed with the request's MAC: taken.
    let mut buf = unsigned.clone();
    let len = buf.len();
    buf.resize(len + 512, 0);
    let (end, _) = sign(
        &mut buf,
        len,
        &k,
        Signing::Response {
            request_mac: mac.as_slice(),
        },
        SECS,
        0,
        &[],
    )
    .unwrap();
    buf.truncate(end);
    assert!(matches!(
        n.on_datagram(t.to, &buf, SECS),
        Some(Outcome::Answered { rcode: 0, .. })
    ));
}
