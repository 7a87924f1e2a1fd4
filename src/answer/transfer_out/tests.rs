//! Outbound AXFR streams, read back by an independent parser
//! (hickory-proto); compiled under `#[cfg(test)]` only.

use super::*;
use crate::wire::name::parse_name_text;
use crate::zone::load_zone_text;
use hickory_proto::op::Message;
use hickory_proto::rr::RecordType;

fn zone(text: &str) -> Arc<Snapshot> {
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
    while let Some(n) = t.next_message(&mut out)? {
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

fn big_zone() -> String {
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
    while let Some(n) = t.next_message(&mut out).unwrap() {
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
