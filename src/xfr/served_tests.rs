//! The transfers this node serves ([`crate::answer::transfer_out`]),
//! read back by its own inbound stream ([`super::stream`]), as a
//! secondary of ours reads them: here, above both, since the answer
//! engine stays below the transfer side. Compiled under `#[cfg(test)]`
//! only (declared in `xfr/mod.rs`).

use std::sync::Arc;

use crate::answer::transfer_out::MESSAGE_MAX;
use crate::answer::transfer_out::TransferOut;
use crate::answer::transfer_out::tests::{JOURNAL, big_zone, versions, zone};
use crate::wire::iana::rtype;
use crate::wire::name::{NameBuf, parse_name_text};
use crate::zone::Snapshot;
use hickory_proto::op::Message;

/// Every message of an IXFR of `s` for a client at `theirs`.
fn ixfr(s: &Arc<Snapshot>, theirs: u32) -> (Vec<Vec<u8>>, &'static str) {
    let q = NameBuf::from_wire(s.apex_wire()).unwrap();
    let mut t = TransferOut::ixfr(Arc::clone(s), 7, q, Some(theirs), true);
    let kind = t.kind();
    let mut out = vec![0u8; MESSAGE_MAX];
    let mut messages = Vec::new();
    while let Some(n) = t.next_message(&mut out, 0).unwrap() {
        messages.push(out[..n].to_vec());
    }
    (messages, kind)
}

/// Our own inbound stream reads what we send, as a secondary of ours
/// does.
fn receive(messages: &[Vec<u8>], ours: u32) -> super::stream::Received {
    let apex = parse_name_text("example.com.", None).unwrap();
    let limits = super::stream::Limits {
        max_records: 100_000,
        max_bytes: 1 << 24,
        max_messages: 1000,
        nsec3_max_iterations: 150,
        zonemd: crate::zone::zonemd::ZonemdPolicy::Verify,
        journal: JOURNAL,
    };
    let mut s = super::stream::TransferStream::new(&apex, rtype::IXFR, 7, Some(ours), limits);
    for (i, m) in messages.iter().enumerate() {
        assert_eq!(s.on_message(m).unwrap(), i + 1 == messages.len());
    }
    s.finish().unwrap()
}

fn sorted_records(s: &Snapshot) -> Vec<(Vec<u8>, u32, u16, Vec<u8>)> {
    let mut v: Vec<_> = s
        .records()
        .map(|(o, ttl, t, rd)| (o.to_vec(), ttl, t, rd.to_vec()))
        .collect();
    v.sort();
    v
}

/// RFC 1995 §4: a client at a serial in the journal gets the changes
/// since, oldest first, between two copies of our SOA; applied by our
/// own reader to the version it has, they make the version we have.
#[test]
fn an_ixfr_from_the_journal_carries_the_changes_since_the_clients_serial() {
    let base = zone(&big_zone());
    let v = versions(&base, &[(7, 8), (8, 9), (9, 10)]);
    let newest = &v[3];
    assert_eq!(newest.journal().unwrap().depth(), 3);
    for (theirs, from) in [(7u32, &v[0]), (8, &v[1]), (9, &v[2])] {
        let (messages, kind) = ixfr(newest, theirs);
        assert_eq!(kind, "IXFR (the changes from the journal)");
        // hickory's reading: the SOA sequence of §4.
        let answers: Vec<_> = messages
            .iter()
            .flat_map(|m| Message::from_vec(m).unwrap().answers)
            .collect();
        let soa_serials: Vec<u32> = answers
            .iter()
            .filter_map(|r| match &r.data {
                hickory_proto::rr::RData::SOA(s) => Some(s.serial),
                _ => None,
            })
            .collect();
        let mut expect = vec![10];
        for s in theirs..10 {
            expect.extend([s, s + 1]);
        }
        expect.push(10);
        assert_eq!(soa_serials, expect, "from {theirs}");
        // Each change: the SOA, one A gone; the SOA, one A and one TXT.
        assert_eq!(answers.len(), 2 + 5 * (10 - theirs) as usize);
        match receive(&messages, theirs) {
            super::stream::Received::Diffs { diffs, serial } => {
                assert_eq!((serial, diffs.len()), (10, (10 - theirs) as usize));
                let applied = crate::zone::diff::apply(from, &diffs).unwrap();
                assert_eq!(sorted_records(&applied), sorted_records(newest));
            }
            _ => panic!("expected diffs from {theirs}"),
        }
    }
}

/// A serial the journal does not reach, or changes that carry more than
/// the zone itself, get the whole zone AXFR-style (§4); a client as new
/// as we are gets our SOA alone (§2).
#[test]
fn an_ixfr_the_journal_cannot_answer_short_is_the_whole_zone() {
    let base = zone(&big_zone());
    let newest = versions(&base, &[(7, 8), (8, 9)]).pop().unwrap();
    let (messages, kind) = ixfr(&newest, 5);
    assert_eq!(kind, "IXFR (the whole zone, AXFR-style)");
    match receive(&messages, 5) {
        super::stream::Received::Zone { serial, .. } => assert_eq!(serial, 9),
        _ => panic!("expected the whole zone"),
    }
    let (messages, kind) = ixfr(&newest, 9);
    assert_eq!(kind, "IXFR (our SOA alone)");
    assert_eq!(messages.len(), 1);
    assert_eq!(Message::from_vec(&messages[0]).unwrap().answers.len(), 1);

    // A tiny zone whose three changes outweigh it.
    let small = zone(
        "$ORIGIN example.com.\n$TTL 300\n@ SOA ns hm 7 3600 600 604800 300\n@ NS ns\nns A 192.0.2.1\nwww A 192.0.2.3\n",
    );
    let newest = versions(&small, &[(7, 8), (8, 9), (9, 10)]).pop().unwrap();
    let chain: usize = newest
        .journal()
        .unwrap()
        .chain_from(7)
        .unwrap()
        .iter()
        .map(|c| c.wire().len())
        .sum();
    assert!(
        chain > newest.wire_size(),
        "{chain} > {}",
        newest.wire_size()
    );
    assert_eq!(ixfr(&newest, 7).1, "IXFR (the whole zone, AXFR-style)");
    assert_eq!(ixfr(&newest, 9).1, "IXFR (the changes from the journal)");
}
