//! Tests of `exchange`, compiled only under `#[cfg(test)]` (declared in
//! `exchange.rs`).

use super::*;
use crate::tsig::{Algorithm, ResponseSigner, locate, verify_request};
use crate::wire::name::parse_name_text;
use crate::xfr::encode::encode_transfer;
use crate::zone::text::ZoneFileReader;
use crate::zone::{Rr, load_zone_text};

const NOW: u64 = 1_800_000_000;
const LIMITS: Limits = Limits {
    max_records: 10_000,
    max_bytes: 1 << 22,
    max_messages: 1000,
    nsec3_max_iterations: 150,
    zonemd: crate::zone::zonemd::ZonemdPolicy::Verify,
    journal: crate::zone::journal::JournalLimits {
        max_depth: 20,
        max_usage: 1 << 20,
    },
};

fn apex() -> Name {
    parse_name_text("example.com.", None).unwrap()
}

fn rrs(text: &str) -> Vec<Rr> {
    let text = format!("$TTL 60\n{text}");
    let mut r = ZoneFileReader::new(text.as_bytes(), "t", apex());
    let mut v = Vec::new();
    while let Some(rr) = r.next_record().unwrap() {
        v.push(rr);
    }
    v
}

fn zone(serial: u32, body: &str) -> String {
    format!("$TTL 60\n@ SOA ns hm {serial} 2 3 4 5\n@ NS ns\nns A 192.0.2.1\n{body}")
}

fn snapshot(serial: u32, body: &str) -> Arc<Snapshot> {
    Arc::new(
        load_zone_text(zone(serial, body).as_bytes(), "t", &apex())
            .unwrap()
            .snapshot,
    )
}

/// How the stand-in primary answers each query type.
struct Primary {
    serial: u32,
    body: String,
    ixfr: Option<Vec<Rr>>,
    ixfr_rcode: Option<u8>,
    key: Option<Arc<TsigKey>>,
    per_message: usize,
    queries: Vec<u16>,
}

impl Primary {
    fn new(serial: u32, body: &str) -> Self {
        Primary {
            serial,
            body: body.into(),
            ixfr: None,
            ixfr_rcode: None,
            key: None,
            per_message: 2,
            queries: Vec::new(),
        }
    }

    fn answer(&mut self, framed: &[u8]) -> Vec<Vec<u8>> {
        let q = &framed[2..];
        let id = u16::from_be_bytes([q[0], q[1]]);
        let qtype = u16::from_be_bytes([q[q.len() - 4], q[q.len() - 3]]);
        let m = Message::new_checked(q).unwrap();
        let question = m.parse().unwrap().question.unwrap();
        let qtype = if self.key.is_some() || m.header().nscount() > 0 {
            question.qtype
        } else {
            qtype
        };
        self.queries.push(qtype);
        let req_mac = self.key.as_ref().map(|k| {
            let t = locate(q).unwrap().expect("query is signed");
            verify_request(q, &t, Some(k), NOW).unwrap()
        });
        let soa = rrs(&format!("@ SOA ns hm {} 2 3 4 5\n", self.serial)).remove(0);
        let mut msgs = match qtype {
            rtype::SOA => {
                encode_transfer(id, apex().as_wire(), qtype, std::slice::from_ref(&soa), 10)
            }
            rtype::IXFR if self.ixfr_rcode.is_some() => {
                let mut m = encode_transfer(id, apex().as_wire(), qtype, &[], 10);
                m[0][3] |= self.ixfr_rcode.unwrap_or(0);
                m
            }
            rtype::IXFR if self.ixfr.is_some() => encode_transfer(
                id,
                apex().as_wire(),
                qtype,
                self.ixfr.as_ref().unwrap(),
                self.per_message,
            ),
            _ => {
                let mut all = rrs(&zone(self.serial, &self.body));
                all.push(soa);
                encode_transfer(id, apex().as_wire(), qtype, &all, self.per_message)
            }
        };
        if let (Some(k), Some(mac)) = (&self.key, req_mac) {
            let mut signer = ResponseSigner::new(k.clone(), mac);
            for m in msgs.iter_mut() {
                signer.sign(m, NOW);
            }
        }
        msgs
    }
}

/// Runs an exchange against the primary to its end.
fn drive(ex: &mut Exchange, p: &mut Primary) -> Result<Outcome, XfrError> {
    let mut out = ex.start(NOW);
    loop {
        let msgs = p.answer(&out);
        let mut next = None;
        for m in &msgs {
            match ex.on_message(m, NOW)? {
                Step::Continue => {}
                Step::Send(q) => next = Some(q),
                Step::Done(o) => return Ok(o),
            }
        }
        out = next.expect("the exchange asks again or finishes");
    }
}

fn transferred(o: Outcome) -> Transferred {
    match o {
        Outcome::Transferred(t) => *t,
        Outcome::UpToDate { serial } => panic!("up to date at {serial}"),
    }
}

#[test]
fn first_load_is_an_axfr() {
    let mut p = Primary::new(5, "www A 192.0.2.2\n");
    let mut ex = Exchange::new(&apex(), None, LIMITS, None, 1);
    let t = transferred(drive(&mut ex, &mut p).unwrap());
    assert_eq!(t.kind, TransferKind::Axfr);
    assert_eq!(t.snapshot.serial(), 5);
    assert_eq!(t.snapshot.record_count(), 4);
    assert_eq!(p.queries, [rtype::AXFR]);
}

#[test]
fn same_serial_is_up_to_date() {
    let mut p = Primary::new(5, "");
    let mut ex = Exchange::new(&apex(), None, LIMITS, Some(snapshot(5, "")), 1);
    assert!(matches!(
        drive(&mut ex, &mut p).unwrap(),
        Outcome::UpToDate { serial: 5 }
    ));
    assert_eq!(p.queries, [rtype::SOA]);
}

#[test]
fn newer_serial_brings_an_ixfr() {
    let mut p = Primary::new(6, "www A 192.0.2.3\n");
    p.ixfr = Some(rrs(
        "@ SOA ns hm 6 2 3 4 5\n@ SOA ns hm 5 2 3 4 5\nwww A 192.0.2.2\n@ SOA ns hm 6 2 3 4 5\nwww A 192.0.2.3\n@ SOA ns hm 6 2 3 4 5\n",
    ));
    let mut ex = Exchange::new(
        &apex(),
        None,
        LIMITS,
        Some(snapshot(5, "www A 192.0.2.2\n")),
        1,
    );
    let t = transferred(drive(&mut ex, &mut p).unwrap());
    assert_eq!(t.kind, TransferKind::Ixfr);
    assert_eq!(t.snapshot.serial(), 6);
    assert_eq!(p.queries, [rtype::SOA, rtype::IXFR]);
    let www = t
        .snapshot
        .node(&parse_name_text("www.example.com.", None).unwrap())
        .unwrap();
    assert_eq!(
        www.rrset(rtype::A).unwrap().rdatas().next().unwrap(),
        &[192, 0, 2, 3]
    );
    // The change applied is kept for the secondaries of this node.
    let journal = t.snapshot.journal().expect("a journal");
    assert_eq!(
        (journal.oldest(), journal.newest(), journal.depth()),
        (Some(5), Some(6), 1)
    );
    let types: Vec<u16> = journal
        .change(0)
        .unwrap()
        .records()
        .map(|r| r.unwrap().rtype)
        .collect();
    assert_eq!(types, [rtype::SOA, rtype::A, rtype::SOA, rtype::A]);
}

/// A version taken whole (AXFR) holds no journal: the changes before it
/// no longer lead to it.
#[test]
fn a_whole_zone_starts_without_a_journal() {
    let mut p = Primary::new(6, "www A 192.0.2.3\n");
    p.ixfr_rcode = Some(4);
    let mut ex = Exchange::new(&apex(), None, LIMITS, Some(snapshot(5, "")), 1);
    let t = transferred(drive(&mut ex, &mut p).unwrap());
    assert_eq!(t.kind, TransferKind::Axfr);
    assert!(t.snapshot.journal().is_none());
}

#[test]
fn refused_ixfr_falls_back_to_axfr() {
    let mut p = Primary::new(6, "www A 192.0.2.3\n");
    p.ixfr_rcode = Some(4);
    let mut ex = Exchange::new(&apex(), None, LIMITS, Some(snapshot(5, "")), 1);
    let t = transferred(drive(&mut ex, &mut p).unwrap());
    assert_eq!(t.kind, TransferKind::Axfr);
    assert_eq!(t.fallback.as_deref(), Some("IXFR answered with NOTIMP (4)"));
    assert_eq!(p.queries, [rtype::SOA, rtype::IXFR, rtype::AXFR]);
}

#[test]
fn diff_that_does_not_apply_falls_back_to_axfr() {
    let mut p = Primary::new(6, "www A 192.0.2.3\n");
    p.ixfr = Some(rrs(
        "@ SOA ns hm 6 2 3 4 5\n@ SOA ns hm 5 2 3 4 5\ngone A 192.0.2.9\n@ SOA ns hm 6 2 3 4 5\n@ SOA ns hm 6 2 3 4 5\n",
    ));
    let mut ex = Exchange::new(&apex(), None, LIMITS, Some(snapshot(5, "")), 1);
    let t = transferred(drive(&mut ex, &mut p).unwrap());
    assert_eq!(t.kind, TransferKind::Axfr);
    assert!(
        t.fallback
            .unwrap()
            .starts_with("IXFR diff does not apply: record to delete is not in the zone")
    );
    assert_eq!(t.snapshot.serial(), 6);
}

#[test]
fn journal_gap_single_soa_falls_back_to_axfr() {
    let mut p = Primary::new(6, "");
    p.ixfr = Some(rrs("@ SOA ns hm 6 2 3 4 5\n"));
    let mut ex = Exchange::new(&apex(), None, LIMITS, Some(snapshot(5, "")), 1);
    let t = transferred(drive(&mut ex, &mut p).unwrap());
    assert_eq!((t.kind, t.snapshot.serial()), (TransferKind::Axfr, 6));
}

#[test]
fn older_zone_is_not_taken() {
    let mut p = Primary::new(4, "");
    p.ixfr_rcode = Some(5);
    // Our serial 5; the SOA query says 4: up to date, nothing fetched.
    let mut ex = Exchange::new(&apex(), None, LIMITS, Some(snapshot(5, "")), 1);
    assert!(matches!(
        drive(&mut ex, &mut p).unwrap(),
        Outcome::UpToDate { serial: 5 }
    ));
}

fn key(secret: &[u8], alg: Algorithm) -> Arc<TsigKey> {
    Arc::new(TsigKey::new(
        parse_name_text("xfr-key.", None).unwrap(),
        alg,
        secret.to_vec(),
    ))
}

#[test]
fn tsig_signed_transfer_verifies_every_message() {
    for alg in [
        Algorithm::HmacSha1,
        Algorithm::HmacSha256,
        Algorithm::HmacSha384,
        Algorithm::HmacSha512,
    ] {
        let mut p = Primary::new(6, "a A 192.0.2.1\nb A 192.0.2.2\nc A 192.0.2.3\n");
        p.key = Some(key(b"secret", alg));
        p.per_message = 2;
        let mut ex = Exchange::new(
            &apex(),
            Some(key(b"secret", alg)),
            LIMITS,
            Some(snapshot(5, "")),
            9,
        );
        let t = transferred(drive(&mut ex, &mut p).unwrap());
        assert_eq!(t.snapshot.serial(), 6);
        assert_eq!(t.messages, 4);
    }
}

#[test]
fn wrong_key_or_unsigned_answers_fail() {
    let mut p = Primary::new(6, "");
    p.key = Some(key(b"other secret", Algorithm::HmacSha256));
    let mut ex = Exchange::new(
        &apex(),
        Some(key(b"secret", Algorithm::HmacSha256)),
        LIMITS,
        None,
        9,
    );
    // The primary cannot verify our query either; sign with its own key
    // for the answer by swapping after the fact.
    let q = ex.start(NOW);
    let mut honest = Primary::new(6, "");
    honest.key = Some(key(b"secret", Algorithm::HmacSha256));
    let msgs = honest.answer(&q);
    // Re-sign the first answer with the wrong secret.
    let mut tampered = msgs[0].clone();
    let t = locate(&tampered).unwrap().unwrap();
    tampered.truncate(t.start);
    tampered[11] -= 1;
    let mut wrong = ResponseSigner::new(p.key.clone().unwrap(), MacBytes::from_slice(&[0; 32]));
    wrong.sign(&mut tampered, NOW);
    assert_eq!(
        ex.on_message(&tampered, NOW).err(),
        Some(XfrError::Tsig(TsigError::BadSig))
    );
    // Unsigned answer to a signed query.
    let mut ex = Exchange::new(
        &apex(),
        Some(key(b"secret", Algorithm::HmacSha256)),
        LIMITS,
        None,
        9,
    );
    let q = ex.start(NOW);
    let mut plain = Primary::new(6, "");
    let msgs = plain.answer(&q);
    assert_eq!(
        ex.on_message(&msgs[0], NOW).err(),
        Some(XfrError::Tsig(TsigError::Unsigned))
    );
}
