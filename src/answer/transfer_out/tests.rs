//! Outbound AXFR streams, read back by an independent parser
//! (hickory-proto); compiled under `#[cfg(test)]` only.

use super::*;
use crate::wire::name::parse_name_text;
use crate::zone::load_zone_text;
use hickory_proto::op::Message;
use hickory_proto::rr::RecordType;

pub(crate) fn zone(text: &str) -> Arc<Snapshot> {
    let apex = parse_name_text("example.com.", None).unwrap();
    Arc::new(
        load_zone_text(text.as_bytes(), "t", &apex)
            .unwrap()
            .snapshot,
    )
}

/// Every message of a transfer of `s`, as asked by `qname`.
fn transfer(s: &Arc<Snapshot>, qname: &str) -> Result<Vec<Vec<u8>>, TransferError> {
    let q = NameBuf::from_wire(parse_name_text(qname, None).unwrap().as_wire()).unwrap();
    let mut t = TransferOut::new(Arc::clone(s), 0x4242, q);
    let mut out = vec![0u8; MESSAGE_MAX];
    let mut messages = Vec::new();
    while let Some(n) = t.next_message(&mut out, 0)? {
        messages.push(out[..n].to_vec());
        assert!(messages.len() < 100_000, "the transfer ends");
    }
    assert!(t.is_done());
    assert_eq!(t.sent().0, messages.len());
    Ok(messages)
}

/// Records as (owner, type, TTL, RDATA), lowercase wire forms, sorted:
/// hickory's reading of the messages against the snapshot's own.
fn as_tuples(records: &[hickory_proto::rr::Record]) -> Vec<(Vec<u8>, u16, u32, Vec<u8>)> {
    use hickory_proto::serialize::binary::BinEncodable;
    let mut v: Vec<_> = records
        .iter()
        .map(|r| {
            (
                r.name.to_bytes().unwrap().to_ascii_lowercase(),
                u16::from(r.record_type()),
                r.ttl,
                r.data.to_bytes().unwrap().to_ascii_lowercase(),
            )
        })
        .collect();
    v.sort();
    v
}

pub(crate) fn big_zone() -> String {
    let mut text = String::from(
        "$ORIGIN example.com.\n$TTL 300\n@ SOA ns hm 7 3600 600 604800 300\n@ NS ns\nns A 192.0.2.1\n\
         @ MX 10 mail\nmail A 192.0.2.2\nalias CNAME www\nwww A 192.0.2.3\nsub NS ns.sub\nns.sub A 192.0.2.4\n",
    );
    for i in 0..3000 {
        text.push_str(&format!(
            "host{i}.l{} A 198.18.{}.{}\nhost{i}.l{} TXT \"record {i}\"\n",
            i % 13,
            i / 250,
            i % 250,
            i % 13
        ));
    }
    text
}

/// SOA first and last, every other record once, each message within
/// 16 KiB, the question only in the first, the ID of the query in all,
/// and compression the other parser follows.
#[test]
fn a_transfer_carries_every_record_between_two_soas() {
    let text = big_zone();
    let s = zone(&text);
    let messages = transfer(&s, "Example.COM.").unwrap();
    assert!(messages.len() > 5, "{} messages", messages.len());
    let mut answers = Vec::new();
    for (i, m) in messages.iter().enumerate() {
        assert!(m.len() <= MESSAGE_MAX);
        let parsed = Message::from_vec(m).unwrap();
        assert_eq!(parsed.metadata.id, 0x4242);
        assert!(parsed.metadata.authoritative);
        assert_eq!(parsed.queries.len(), usize::from(i == 0));
        answers.extend(parsed.answers);
    }
    let first_question = Message::from_vec(&messages[0]).unwrap().queries[0].clone();
    assert_eq!(
        first_question.name().to_string(),
        "Example.COM.",
        "asked as it was"
    );
    assert_eq!(first_question.query_type(), RecordType::AXFR);
    assert_eq!(answers.first().unwrap().record_type(), RecordType::SOA);
    assert_eq!(answers.last().unwrap().record_type(), RecordType::SOA);
    assert_eq!(answers.len(), s.record_count() + 1);
    // The records in between are the zone's, as hickory reads them.
    // (hickory writes SOA RDATA back with its names compressed: the SOA
    // is compared as text below.)
    let mut expect: Vec<_> = s
        .records()
        .filter(|r| r.2 != rtype::SOA)
        .map(|(o, ttl, t, rd)| (o.to_vec(), t, ttl, rd.to_ascii_lowercase()))
        .collect();
    expect.sort();
    let got = as_tuples(&answers[1..answers.len() - 1]);
    for soa in [&answers[0], &answers[answers.len() - 1]] {
        assert_eq!(
            soa.to_string().replace('\t', " ").to_lowercase(),
            "example.com. 300 in soa ns.example.com. hm.example.com. 7 3600 600 604800 300"
        );
    }
    let missing: Vec<_> = expect.iter().filter(|e| !got.contains(e)).take(3).collect();
    let extra: Vec<_> = got.iter().filter(|g| !expect.contains(g)).take(3).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:?}, extra {extra:?}"
    );
    assert_eq!(got, expect);
}

/// A version published while a transfer runs changes nothing for it.
#[test]
fn a_transfer_keeps_the_version_it_started_on() {
    let s = zone(&big_zone());
    let q = NameBuf::from_wire(s.apex_wire()).unwrap();
    let mut t = TransferOut::new(Arc::clone(&s), 1, q);
    drop(s);
    let mut out = vec![0u8; MESSAGE_MAX];
    let mut soas = Vec::new();
    while let Some(n) = t.next_message(&mut out, 0).unwrap() {
        for a in Message::from_vec(&out[..n]).unwrap().answers {
            if a.record_type() == RecordType::SOA {
                soas.push(a.to_string());
            }
        }
    }
    assert_eq!(soas.len(), 2);
    assert_eq!(soas[0], soas[1]);
    assert_eq!(t.serial(), 7);
}

/// A record bigger than a message stops the transfer with an error that
/// names it, after the messages before it; nothing malformed goes out.
#[test]
fn a_record_that_fits_no_message_is_an_error() {
    let mut text = String::from(
        "$ORIGIN example.com.\n$TTL 300\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\nbig TXT",
    );
    for _ in 0..80 {
        text.push_str(&format!(" \"{}\"", "x".repeat(250)));
    }
    text.push('\n');
    let s = zone(&text);
    let err = transfer(&s, "example.com.").unwrap_err();
    assert_eq!(
        err,
        TransferError::RecordTooLarge {
            owner: parse_name_text("big.example.com.", None)
                .unwrap()
                .as_wire()
                .to_vec(),
            rtype: rtype::TXT,
        }
    );
    assert!(err.to_string().contains("big.example.com."), "{err}");
}

pub(crate) const JOURNAL: crate::zone::journal::JournalLimits =
    crate::zone::journal::JournalLimits {
        max_depth: 20,
        max_usage: 1 << 20,
    };

pub(crate) fn rrs(text: &str) -> Vec<crate::zone::Rr> {
    let apex = parse_name_text("example.com.", None).unwrap();
    let text = format!("$TTL 300\n{text}");
    let mut r = crate::zone::text::ZoneFileReader::new(text.as_bytes(), "t", apex);
    std::iter::from_fn(|| r.next_record().unwrap()).collect()
}

/// The diff from serial `from` to `to` of `big_zone`'s www record and
/// one TXT per step.
pub(crate) fn step(from: u32, to: u32) -> crate::zone::Diff {
    let soa = |n: u32| rrs(&format!("@ SOA ns hm {n} 3600 600 604800 300\n")).remove(0);
    crate::zone::Diff {
        old_soa: soa(from),
        removed: rrs(&format!("www A 192.0.2.{}\n", from - 4)),
        new_soa: soa(to),
        added: rrs(&format!(
            "www A 192.0.2.{}\nnew{to} TXT \"added at {to}\"\n",
            to - 4
        )),
    }
}

/// `base` moved on by `steps`, each version holding the journal the
/// secondary side gives it.
pub(crate) fn versions(base: &Arc<Snapshot>, steps: &[(u32, u32)]) -> Vec<Arc<Snapshot>> {
    use crate::zone::journal::{Change, Journal};
    let mut out = vec![Arc::clone(base)];
    for &(from, to) in steps {
        let prev = out.last().unwrap();
        let d = step(from, to);
        let next = crate::zone::diff::apply(prev, std::slice::from_ref(&d)).unwrap();
        let journal = Journal::extended(
            prev.journal().map(|j| &**j),
            [Change::from_diff(&d)],
            JOURNAL,
        );
        out.push(Arc::new(next.with_journal(journal)));
    }
    out
}

/// Over UDP the changes go when they fit in one message; the answer
/// engine falls back to our SOA alone otherwise.
#[test]
fn an_ixfr_over_udp_is_one_message_or_our_soa() {
    let base = zone(&big_zone());
    let newest = versions(&base, &[(7, 8), (8, 9)]).pop().unwrap();
    let q = NameBuf::from_wire(newest.apex_wire()).unwrap();
    let mut out = vec![0u8; MESSAGE_MAX];
    let mut t = TransferOut::ixfr(Arc::clone(&newest), 7, q.clone(), Some(8), false);
    t.set_limit(1232);
    let n = t.next_message(&mut out, 0).unwrap().unwrap();
    assert!(t.is_done(), "one change fits in 1232 octets");
    assert!(n <= 1232);
    assert_eq!(Message::from_vec(&out[..n]).unwrap().answers.len(), 7);
    let mut t = TransferOut::ixfr(Arc::clone(&newest), 7, q, Some(7), false);
    t.set_limit(100);
    let _ = t.next_message(&mut out, 0).unwrap();
    assert!(!t.is_done(), "two changes do not fit in 100 octets");
    t.answer_by_soa();
    let n = t.next_message(&mut out, 0).unwrap().unwrap();
    let m = Message::from_vec(&out[..n]).unwrap();
    assert_eq!((m.queries.len(), m.answers.len()), (1, 1));
    assert!(t.is_done());
}

/// An RRset larger than a message (300 TXT records of 100 octets, about
/// 33 KiB) goes out split across messages, every record once.
#[test]
fn an_rrset_larger_than_a_message_is_split_across_messages() {
    let mut text = String::from(
        "$ORIGIN example.com.\n$TTL 300\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\n",
    );
    for i in 0..300 {
        text.push_str(&format!("fat TXT \"{i:03}{}\"\n", "x".repeat(96)));
    }
    let s = zone(&text);
    let messages = transfer(&s, "example.com.").unwrap();
    assert!(messages.len() >= 3, "{} messages", messages.len());
    let txt: Vec<String> = messages
        .iter()
        .flat_map(|m| Message::from_vec(m).unwrap().answers)
        .filter(|r| r.record_type() == RecordType::TXT)
        .map(|r| r.data.to_string())
        .collect();
    assert_eq!(txt.len(), 300);
    let mut unique = txt.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 300, "every record once");
}
