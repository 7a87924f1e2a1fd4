//! Tests of `stream`, compiled only under `#[cfg(test)]` (declared in
//! `stream.rs`).

use super::*;
use crate::wire::name::parse_name_text;
use crate::xfr::encode::encode_transfer;
use crate::zone::text::ZoneFileReader;

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

const LIMITS: Limits = Limits {
    max_records: 1000,
    max_bytes: 1 << 20,
    max_messages: 100,
    nsec3_max_iterations: 150,
    zonemd: crate::zone::zonemd::ZonemdPolicy::Verify,
    journal: crate::zone::journal::JournalLimits {
        max_depth: 20,
        max_usage: 1 << 20,
    },
};

fn run(qtype: u16, ours: Option<u32>, records: &[Rr], per: usize) -> Result<Received, StreamError> {
    let mut s = TransferStream::new(&apex(), qtype, 42, ours, LIMITS);
    let msgs = encode_transfer(42, apex().as_wire(), qtype, records, per);
    let n = msgs.len();
    for (i, m) in msgs.iter().enumerate() {
        let done = s.on_message(m)?;
        assert_eq!(done, i + 1 == n, "done only at the last message");
    }
    s.finish()
}

const SOA5: &str = "@ SOA ns hm 5 2 3 4 5\n";

#[test]
fn axfr_over_several_messages() {
    let recs = rrs(&format!(
        "{SOA5}@ NS ns\nns A 192.0.2.1\nwww A 192.0.2.2\n{SOA5}"
    ));
    for per in [1, 2, 10] {
        match run(rtype::AXFR, None, &recs, per).unwrap() {
            Received::Zone {
                builder,
                serial,
                from_ixfr,
            } => {
                assert_eq!((serial, from_ixfr), (5, false));
                let b = builder.finish().unwrap();
                assert_eq!(b.snapshot.record_count(), 4);
            }
            _ => panic!("expected a zone"),
        }
    }
}

#[test]
fn axfr_errors() {
    let good = rrs(&format!("{SOA5}www A 192.0.2.2\n{SOA5}"));
    // Closing SOA with another serial.
    let mut bad = good.clone();
    bad[2] = rrs("@ SOA ns hm 6 2 3 4 5\n").remove(0);
    assert_eq!(
        run(rtype::AXFR, None, &bad, 10).err(),
        Some(StreamError::SoaMismatch { first: 5, last: 6 })
    );
    // No opening SOA.
    assert_eq!(
        run(rtype::AXFR, None, &good[1..], 10).err(),
        Some(StreamError::NoLeadingSoa)
    );
    // Cut short before the closing SOA.
    let mut s = TransferStream::new(&apex(), rtype::AXFR, 42, None, LIMITS);
    for m in encode_transfer(42, apex().as_wire(), rtype::AXFR, &good[..2], 10) {
        s.on_message(&m).unwrap();
    }
    assert_eq!(s.finish().err(), Some(StreamError::Incomplete));
    // Out-of-zone data.
    let mut ooz = good.clone();
    ooz.insert(
        1,
        Rr {
            owner: parse_name_text("www.example.org.", None).unwrap(),
            ..good[1].clone()
        },
    );
    assert!(matches!(
        run(rtype::AXFR, None, &ooz, 10),
        Err(StreamError::OutOfZone(_))
    ));
    // Records after the closing SOA.
    let mut extra = good.clone();
    extra.push(good[1].clone());
    assert_eq!(
        run(rtype::AXFR, None, &extra, 10).err(),
        Some(StreamError::TrailingData)
    );
}

#[test]
fn limits_cut_the_transfer_off() {
    let mut text = String::from(SOA5);
    for i in 0..50 {
        text += &format!("h{i} A 192.0.2.1\n");
    }
    text += SOA5;
    let recs = rrs(&text);
    let tight = |l: Limits| {
        let mut s = TransferStream::new(&apex(), rtype::AXFR, 42, None, l);
        let mut r = Ok(false);
        for m in encode_transfer(42, apex().as_wire(), rtype::AXFR, &recs, 5) {
            r = s.on_message(&m);
            if r.is_err() {
                break;
            }
        }
        r
    };
    assert_eq!(
        tight(Limits {
            max_records: 20,
            ..LIMITS
        }),
        Err(StreamError::TooManyRecords(20))
    );
    assert_eq!(
        tight(Limits {
            max_messages: 3,
            ..LIMITS
        }),
        Err(StreamError::TooManyMessages(3))
    );
    assert_eq!(
        tight(Limits {
            max_bytes: 300,
            ..LIMITS
        }),
        Err(StreamError::TooManyBytes(300))
    );
}

#[test]
fn ixfr_incremental_sequences() {
    let recs = rrs("@ SOA ns hm 7 2 3 4 5\n\
         @ SOA ns hm 5 2 3 4 5\nwww A 192.0.2.2\n@ SOA ns hm 6 2 3 4 5\nwww A 192.0.2.3\n\
         @ SOA ns hm 6 2 3 4 5\n@ SOA ns hm 7 2 3 4 5\nnew A 192.0.2.4\n\
         @ SOA ns hm 7 2 3 4 5\n");
    // At least two records per message: a first message holding only the
    // opening SOA means "that SOA alone".
    for per in [2, 3, 100] {
        match run(rtype::IXFR, Some(5), &recs, per).unwrap() {
            Received::Diffs { diffs, serial } => {
                assert_eq!(serial, 7);
                assert_eq!(diffs.len(), 2);
                assert_eq!((diffs[0].from_serial(), diffs[0].to_serial()), (5, 6));
                assert_eq!((diffs[0].removed.len(), diffs[0].added.len()), (1, 1));
                assert_eq!((diffs[1].from_serial(), diffs[1].to_serial()), (6, 7));
                assert_eq!((diffs[1].removed.len(), diffs[1].added.len()), (0, 1));
            }
            _ => panic!("expected diffs"),
        }
    }
}

#[test]
fn ixfr_axfr_style_and_up_to_date() {
    let recs = rrs(&format!("{SOA5}www A 192.0.2.2\n{SOA5}"));
    match run(rtype::IXFR, Some(3), &recs, 10).unwrap() {
        Received::Zone {
            serial, from_ixfr, ..
        } => assert_eq!((serial, from_ixfr), (5, true)),
        _ => panic!("expected a zone"),
    }
    match run(rtype::IXFR, Some(5), &rrs(SOA5), 10).unwrap() {
        Received::UpToDate { serial } => assert_eq!(serial, 5),
        _ => panic!("expected up to date"),
    }
    // A newer SOA alone: no diff available (the exchange then asks AXFR).
    match run(rtype::IXFR, Some(4), &rrs(SOA5), 10).unwrap() {
        Received::UpToDate { serial } => assert_eq!(serial, 5),
        _ => panic!("expected the single SOA"),
    }
    // A zone holding only its SOA, sent AXFR-style.
    match run(rtype::IXFR, Some(3), &rrs(&format!("{SOA5}{SOA5}")), 10).unwrap() {
        Received::Zone { builder, .. } => assert_eq!(builder.record_count(), 1),
        _ => panic!("expected a zone"),
    }
}

#[test]
fn message_level_checks() {
    let recs = rrs(&format!("{SOA5}{SOA5}"));
    let msgs = encode_transfer(42, apex().as_wire(), rtype::AXFR, &recs, 10);
    let mut s = TransferStream::new(&apex(), rtype::AXFR, 43, None, LIMITS);
    assert_eq!(
        s.on_message(&msgs[0]).err(),
        Some(StreamError::WrongId { got: 42, want: 43 })
    );
    let mut refused = msgs[0].clone();
    refused[3] = (refused[3] & 0xf0) | 5;
    let mut s = TransferStream::new(&apex(), rtype::AXFR, 42, None, LIMITS);
    assert_eq!(s.on_message(&refused).err(), Some(StreamError::Rcode(5)));
    let mut tc = msgs[0].clone();
    tc[2] |= 0x02;
    let mut s = TransferStream::new(&apex(), rtype::AXFR, 42, None, LIMITS);
    assert_eq!(s.on_message(&tc).err(), Some(StreamError::Truncated));
    let other = encode_transfer(
        42,
        parse_name_text("example.org.", None).unwrap().as_wire(),
        rtype::AXFR,
        &recs,
        10,
    );
    let mut s = TransferStream::new(&apex(), rtype::AXFR, 42, None, LIMITS);
    assert_eq!(
        s.on_message(&other[0]).err(),
        Some(StreamError::WrongQuestion)
    );
    let mut s = TransferStream::new(&apex(), rtype::AXFR, 42, None, LIMITS);
    assert!(s.on_message(&msgs[0][..20]).is_err());
}
