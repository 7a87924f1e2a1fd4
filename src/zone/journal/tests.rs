//! Tests of `journal`, compiled only under `#[cfg(test)]` (declared in
//! `journal.rs`).

use super::*;
use crate::wire::Name;
use crate::wire::name::parse_name_text;
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

fn soa(serial: u32) -> Rr {
    rrs(&format!("@ SOA ns hm {serial} 2 3 4 5\n")).remove(0)
}

/// The diff from `from` to `to`: one A record gone, one added.
fn diff(from: u32, to: u32) -> Diff {
    Diff {
        old_soa: soa(from),
        removed: rrs(&format!("www A 192.0.2.{}\n", from % 250)),
        new_soa: soa(to),
        added: rrs(&format!("www A 192.0.2.{}\n", to % 250)),
    }
}

const ROOMY: JournalLimits = JournalLimits {
    max_depth: 100,
    max_usage: 1 << 20,
};

fn serials(j: &Journal) -> Vec<(u32, u32)> {
    j.changes.iter().map(|c| (c.from, c.to)).collect()
}

#[test]
fn a_change_holds_the_sequence_in_wire_order() {
    let d = diff(1, 2);
    let c = Change::from_diff(&d);
    assert_eq!((c.from_serial(), c.to_serial()), (1, 2));
    let recs: Vec<_> = c.records().map(Result::unwrap).collect();
    let types: Vec<u16> = recs.iter().map(|r| r.rtype).collect();
    assert_eq!(types, [rtype::SOA, rtype::A, rtype::SOA, rtype::A]);
    assert_eq!(recs[1].owner, b"\x03www\x07example\x03com\x00");
    // Type, class, TTL, RDLENGTH, RDATA.
    assert_eq!(
        recs[1].rec,
        b"\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\xc0\x00\x02\x01"
    );
    assert_eq!(recs[3].rec[FIXED_LEN..], [192, 0, 2, 2]);
    // Read back from its octets, it is the same change.
    assert_eq!(Change::from_wire(c.wire().into()).unwrap(), c);
}

#[test]
fn changes_read_back_are_checked() {
    let good = Change::from_diff(&diff(1, 2));
    let wire = good.wire();
    // Cut in the middle of the last record.
    assert_eq!(
        Change::from_wire(wire[..wire.len() - 1].into()),
        Err(JournalError::Record)
    );
    // Without the old SOA.
    let first_len = good.records().next().unwrap().unwrap().owner.len()
        + good.records().next().unwrap().unwrap().rec.len();
    assert_eq!(
        Change::from_wire(wire[first_len..].into()),
        Err(JournalError::NoOldSoa)
    );
    // Only the old SOA.
    assert_eq!(
        Change::from_wire(wire[..first_len].into()),
        Err(JournalError::SoaCount(1))
    );
    // Backwards.
    let back = Change::from_diff(&Diff {
        old_soa: soa(5),
        removed: vec![],
        new_soa: soa(4),
        added: vec![],
    });
    assert_eq!(
        Change::from_wire(back.wire().into()),
        Err(JournalError::NotNewer { from: 5, to: 4 })
    );
}

#[test]
fn the_journal_keeps_at_most_its_depth_dropping_the_oldest() {
    let limits = JournalLimits {
        max_depth: 3,
        ..ROOMY
    };
    let mut j: Option<Arc<Journal>> = None;
    for s in 1..=5 {
        j = Journal::extended(j.as_deref(), [Change::from_diff(&diff(s, s + 1))], limits);
    }
    let j = j.unwrap();
    assert_eq!(serials(&j), [(3, 4), (4, 5), (5, 6)]);
    assert_eq!((j.oldest(), j.newest(), j.depth()), (Some(3), Some(6), 3));
    assert_eq!(
        j.usage(),
        j.changes.iter().map(|c| c.wire().len()).sum::<usize>()
    );
    assert!(j.chain_from(2).is_none(), "serial 2 has left the journal");
    let chain = j.chain_from(4).unwrap();
    assert_eq!(
        chain.iter().map(|c| c.from_serial()).collect::<Vec<_>>(),
        [4, 5]
    );
    assert!(
        j.chain_from(6).is_none(),
        "the newest serial starts no change"
    );
}

#[test]
fn the_journal_keeps_at_most_its_usage() {
    let one = Change::from_diff(&diff(1, 2)).wire().len();
    let limits = JournalLimits {
        max_depth: 100,
        max_usage: 2 * one + one / 2,
    };
    let changes = (1..=4).map(|s| Change::from_diff(&diff(s, s + 1)));
    let j = Journal::extended(None, changes, limits).unwrap();
    assert_eq!(serials(&j), [(3, 4), (4, 5)]);
    assert_eq!(j.usage(), 2 * one);
    // A change bigger than the whole allowance leaves nothing.
    let tiny = JournalLimits {
        max_depth: 100,
        max_usage: one - 1,
    };
    assert!(Journal::extended(Some(&j), [Change::from_diff(&diff(5, 6))], tiny).is_none());
}

#[test]
fn a_change_that_does_not_follow_starts_afresh_and_depth_zero_keeps_none() {
    let j = Journal::extended(None, [Change::from_diff(&diff(1, 2))], ROOMY).unwrap();
    let k = Journal::extended(Some(&j), [Change::from_diff(&diff(7, 8))], ROOMY).unwrap();
    assert_eq!(serials(&k), [(7, 8)]);
    // The older journal is untouched: the version holding it may still
    // be transferred.
    assert_eq!(serials(&j), [(1, 2)]);
    let none = JournalLimits {
        max_depth: 0,
        ..ROOMY
    };
    assert!(Journal::extended(Some(&j), [Change::from_diff(&diff(2, 3))], none).is_none());
}

#[test]
fn the_file_reads_back_as_the_journal_and_nothing_else() {
    let changes = (10..13).map(|s| Change::from_diff(&diff(s, s + 1)));
    let j = Journal::extended(None, changes, ROOMY).unwrap();
    let file = j.encode();
    assert_eq!(Journal::decode(&file, 13).unwrap(), *j);
    assert_eq!(
        Journal::decode(&file, 12),
        Err(JournalError::NotThisCopy { ends: 13, copy: 12 })
    );
    assert_eq!(Journal::decode(&file[1..], 13), Err(JournalError::Magic));
    for cut in [file.len() - 1, MAGIC.len() + 2, MAGIC.len() + 6] {
        assert!(Journal::decode(&file[..cut], 13).is_err(), "cut at {cut}");
    }
    let mut longer = file.clone();
    longer.push(0);
    assert_eq!(Journal::decode(&longer, 13), Err(JournalError::Truncated));
    // Two changes that do not follow each other.
    let a = Journal::extended(None, [Change::from_diff(&diff(1, 2))], ROOMY).unwrap();
    let b = Journal::extended(None, [Change::from_diff(&diff(5, 6))], ROOMY).unwrap();
    let mut gap = a.encode();
    gap[MAGIC.len() + 3] = 2;
    gap.extend_from_slice(&b.encode()[MAGIC.len() + 4..]);
    assert_eq!(
        Journal::decode(&gap, 6),
        Err(JournalError::Gap { ends: 2, starts: 5 })
    );
}
