//! Loading a zone from its file.

use std::path::Path;

use thiserror::Error;

use super::build::{Built, SnapshotBuilder, ZoneError};
use super::text::{RawRecord, ZoneFileError, ZoneFileReader};
use crate::wire::Name;

#[derive(Debug, Error)]
pub enum LoadError {
    /// Every error found in the file, in order (at most [`MAX_ERRORS`]).
    #[error("{}", FirstOf(.0))]
    File(Vec<ZoneFileError>),
    #[error("{file}: {error}")]
    Zone { file: String, error: ZoneError },
}

impl From<ZoneFileError> for LoadError {
    fn from(e: ZoneFileError) -> Self {
        LoadError::File(vec![e])
    }
}

impl LoadError {
    /// Each error on its own, for a log line apiece (as Knot logs them).
    pub fn reasons(&self) -> Vec<String> {
        match self {
            LoadError::File(errors) => errors.iter().map(|e| e.to_string()).collect(),
            e => vec![e.to_string()],
        }
    }
}

/// The first error, and how many more there are.
struct FirstOf<'a>(&'a [ZoneFileError]);

impl core::fmt::Display for FirstOf<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.0 {
            [] => f.write_str("zone file error"),
            [one] => write!(f, "{one}"),
            [first, rest @ ..] => write!(f, "{first} (and {} more errors)", rest.len()),
        }
    }
}

/// Errors collected from one file before reading stops: enough to fix a
/// file in one go, few enough that a binary file does not flood the log.
pub const MAX_ERRORS: usize = 100;

/// Reads every record of `reader` into `add`, collecting errors (a bad
/// record is skipped and reading goes on) up to [`MAX_ERRORS`]. Records
/// after the first error are not added: the zone will not load anyway.
fn read_all(
    mut reader: ZoneFileReader<'_>,
    mut add: impl FnMut(RawRecord<'_>) -> bool,
) -> Result<(), Vec<ZoneFileError>> {
    let mut errors = Vec::new();
    loop {
        match reader.next_raw() {
            Ok(Some(r)) => {
                if errors.is_empty() && !add(r) {
                    return Ok(());
                }
            }
            Ok(None) => break,
            Err(e) => {
                errors.push(e);
                if errors.len() == MAX_ERRORS {
                    break;
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Records read but not yet added, in one buffer: owner and RDATA octets
/// back to back, with the fixed fields alongside.
#[derive(Default)]
struct Batch {
    octets: Vec<u8>,
    /// Owner length, RDATA length, type, TTL.
    records: Vec<(u8, u16, u16, u32)>,
}

/// Records per batch handed from the reading thread to the building one.
const BATCH: usize = 4096;

/// Reads zone-file text for `apex` and builds its snapshot. Large files
/// are read on one core while the other adds the records.
pub fn load_zone_text(text: &[u8], label: &str, apex: &Name) -> Result<Built, LoadError> {
    let mut builder = SnapshotBuilder::with_size_hint(apex, text.len());
    if text.len() < 1 << 20 {
        let reader = ZoneFileReader::new(text, label, apex.clone());
        read_all(reader, |r| {
            builder.add_raw(r.owner, r.rtype, r.ttl, r.rdata);
            true
        })
        .map_err(LoadError::File)?;
    } else {
        std::thread::scope(|scope| -> Result<(), LoadError> {
            let (tx, rx) = crossbeam_channel::bounded::<Batch>(8);
            let reader = scope.spawn(move || -> Result<(), Vec<ZoneFileError>> {
                let reader = ZoneFileReader::new(text, label, apex.clone());
                let mut batch = Batch::default();
                read_all(reader, |r| {
                    batch.octets.extend_from_slice(r.owner);
                    batch.octets.extend_from_slice(r.rdata);
                    batch
                        .records
                        .push((r.owner.len() as u8, r.rdata.len() as u16, r.rtype, r.ttl));
                    batch.records.len() < BATCH || tx.send(core::mem::take(&mut batch)).is_ok()
                })?;
                let _ = tx.send(batch);
                Ok(())
            });
            for batch in rx {
                let mut at = 0;
                for &(owner_len, rdata_len, rtype, ttl) in &batch.records {
                    let owner = &batch.octets[at..at + owner_len as usize];
                    at += owner_len as usize;
                    let rdata = &batch.octets[at..at + rdata_len as usize];
                    at += rdata_len as usize;
                    builder.add_raw(owner, rtype, ttl, rdata);
                }
            }
            match reader.join() {
                Ok(r) => r.map_err(LoadError::File),
                Err(_) => Err(LoadError::from(ZoneFileError {
                    file: label.to_string(),
                    line: 0,
                    message: "the reading thread failed".into(),
                })),
            }
        })?;
    }
    builder.finish().map_err(|error| LoadError::Zone {
        file: label.to_string(),
        error,
    })
}

/// Reads the zone file at `path` for `apex` and builds its snapshot.
pub fn load_zone_file(path: &Path, apex: &Name) -> Result<Built, LoadError> {
    let label = path.display().to_string();
    let text = std::fs::read(path).map_err(|e| ZoneFileError {
        file: label.clone(),
        line: 0,
        message: format!("cannot read: {e}"),
    })?;
    load_zone_text(&text, &label, apex)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::iana::rtype;
    use crate::wire::name::parse_name_text;
    use crate::zone::node::flags;

    fn apex() -> Name {
        parse_name_text("example.com.", None).unwrap()
    }

    fn load(text: &str) -> Result<Built, LoadError> {
        load_zone_text(text.as_bytes(), "t.zone", &apex())
    }

    fn zone_error(text: &str) -> ZoneError {
        match load(text) {
            Err(LoadError::Zone { error, .. }) => error,
            Err(e) => panic!("file error {e}"),
            Ok(_) => panic!("loaded"),
        }
    }

    const HEAD: &str = "$TTL 300\n@ SOA ns hm 7 2 3 4 5\n@ NS ns\nns A 192.0.2.1\n";

    fn n(s: &str) -> Name {
        parse_name_text(s, Some(&apex())).unwrap()
    }

    #[test]
    fn builds_nodes_flags_and_empty_non_terminals() {
        let b = load(&format!(
            "{HEAD}WWW A 192.0.2.2\nwww 600 A 192.0.2.3\ndeep.a.b A 192.0.2.4\nsub NS ns.sub\nns.sub A 192.0.2.5\nd DNAME example.net.\nexample.org. A 192.0.2.9\nns A 192.0.2.1\n"
        ))
        .unwrap();
        let s = &b.snapshot;
        assert_eq!(s.serial(), 7);
        assert_eq!(s.negative_ttl(), 5);
        // www: merged case-insensitively, last TTL wins.
        let www = s.node(&n("www")).unwrap();
        let a = www.rrset(rtype::A).unwrap();
        assert_eq!((a.len(), a.ttl()), (2, 600));
        // Empty non-terminals a.b and b exist.
        assert!(s.node(&n("b")).unwrap().is_empty_non_terminal());
        assert!(s.node(&n("a.b")).unwrap().is_empty_non_terminal());
        assert!(s.node(&n("x")).is_none());
        // Flags.
        assert!(s.apex_node().unwrap().has_flag(flags::APEX));
        assert!(s.node(&n("sub")).unwrap().has_flag(flags::DELEGATION));
        assert!(s.node(&n("ns.sub")).unwrap().has_flag(flags::OCCLUDED));
        assert!(!s.node(&n("ns")).unwrap().has_flag(flags::OCCLUDED));
        assert!(s.node(&n("d")).unwrap().has_flag(flags::DNAME));
        // Out-of-zone data ignored with a warning; duplicate merged silently.
        assert!(
            b.warnings
                .iter()
                .any(|w| w.contains("out-of-zone") && w.contains("example.org."))
        );
        assert!(b.warnings.iter().any(|w| w.contains("TTL mismatch")));
        assert_eq!(s.record_count(), 9);
        // Records come out with the SOA first, in canonical order.
        let owners: Vec<String> = s
            .records()
            .map(|(o, _, t, _)| format!("{} {}", Name::from_wire(o).unwrap(), rtype::Display(t)))
            .collect();
        assert_eq!(owners[0], "example.com. SOA");
        assert_eq!(owners[1], "example.com. NS");
        assert_eq!(owners.len(), 9);
        assert_eq!(owners[2], "deep.a.b.example.com. A");
    }

    #[test]
    fn canonical_order_is_the_same_sorted_here_or_on_a_second_thread() {
        use crate::wire::name::canonical_cmp;
        // Either side of the size where sorting moves to another thread.
        for hosts in [10, crate::zone::build::PARALLEL_SORT_MIN_NAMES + 10] {
            let mut text = HEAD.to_string();
            // Out of order in the file, in several label depths.
            for i in (0..hosts).rev() {
                text.push_str(&format!("h{i}.l{} A 192.0.2.1\n", i % 7));
            }
            let b = load(&text).unwrap();
            let names: Vec<&[u8]> = b.snapshot.names_in_order().collect();
            // apex, ns, the seven l* parents (empty non-terminals), hosts.
            assert_eq!(names.len(), 2 + 7 + hosts, "{hosts} hosts");
            assert_eq!(names[0], apex().as_wire());
            assert!(
                names
                    .windows(2)
                    .all(|w| canonical_cmp(w[0], w[1]) == std::cmp::Ordering::Less),
                "{hosts} hosts: not in canonical order"
            );
        }
    }

    #[test]
    fn mandatory_checks_fail_the_load() {
        assert_eq!(
            zone_error("$TTL 1\n@ NS ns\n"),
            ZoneError::MissingSoa(apex())
        );
        assert_eq!(
            zone_error(&format!("{HEAD}c CNAME ns\nc A 192.0.2.1\n")),
            ZoneError::CnameWithOtherData(n("c"))
        );
        assert_eq!(
            zone_error(&format!("{HEAD}c CNAME a\nc CNAME b\n")),
            ZoneError::MultipleCnames(n("c"))
        );
        assert_eq!(
            zone_error(&format!("{HEAD}d DNAME x.\nfoo.d A 192.0.2.1\n")),
            ZoneError::BelowDname(n("d"))
        );
        // A CNAME with only DNSSEC records beside it is fine.
        assert!(load(&format!("{HEAD}c CNAME ns\nc NSEC ns A\n")).is_ok());
    }

    #[test]
    fn soft_problems_are_warnings() {
        let b =
            load("$TTL 1\n@ SOA ns hm 1 2 3 4 5\n@ SOA ns hm 2 2 3 4 5\nsub SOA ns hm 1 2 3 4 5\n")
                .unwrap();
        assert_eq!(b.snapshot.serial(), 1);
        assert!(b.warnings.iter().any(|w| w.contains("missing NS")));
        assert!(b.warnings.iter().any(|w| w.contains("more than one SOA")));
        assert!(b.warnings.iter().any(|w| w.contains("SOA record outside")));
        assert!(b.snapshot.node(&n("sub")).is_none());
    }

    /// RFC 4034 §3: the RRSIGs over each RRset are their own set, with
    /// their own TTL; they are not one RRSIG RRset of the node.
    #[test]
    fn rrsigs_are_kept_per_type_covered_with_their_ttls() {
        let sig = |t: &str, ttl: u32, tag: u16| {
            format!(
                "www {ttl} RRSIG {t} 13 3 {ttl} 20270101000000 20261101000000 {tag} example.com. AQID\n"
            )
        };
        let text = format!(
            "$TTL 1\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\nwww 300 A 192.0.2.1\nwww 60 TXT x\n{}{}{}",
            sig("TXT", 60, 1),
            sig("A", 300, 2),
            sig("A", 300, 3)
        );
        let b = load(&text).unwrap();
        assert!(
            b.warnings.iter().all(|w| !w.contains("TTL")),
            "{:?}",
            b.warnings
        );
        let node = b.snapshot.node(&n("www")).unwrap();
        let a = node.rrsigs(rtype::A).unwrap();
        assert_eq!((a.len(), a.ttl(), a.covered()), (2, 300, rtype::A));
        let txt = node.rrsigs(rtype::TXT).unwrap();
        assert_eq!((txt.len(), txt.ttl(), txt.covered()), (1, 60, rtype::TXT));
        assert!(node.rrsigs(rtype::AAAA).is_none());
        // An RRSIG query gets the signatures of the lowest type covered.
        assert_eq!(node.rrset(rtype::RRSIG).unwrap().covered(), rtype::A);
        assert_eq!(b.snapshot.record_count(), 2 + 2 + 3);
        // Within one covered type a TTL mismatch is still one set.
        let text = format!("{text}{}", sig("A", 30, 4));
        let b = load(&text).unwrap();
        assert!(
            b.warnings
                .iter()
                .any(|w| w.contains("type RRSIG covering A, TTL set to 30")),
            "{:?}",
            b.warnings
        );
    }

    #[test]
    fn large_files_load_through_the_reading_thread() {
        let mut text = String::from(HEAD);
        for i in 0..60_000 {
            text += &format!(
                "host-{i} 60 A 192.0.2.{}\nhost-{i} AAAA 2001:db8::{i:x}\n",
                i % 250
            );
        }
        assert!(text.len() > 1 << 20);
        let b = load(&text).unwrap();
        assert_eq!(b.snapshot.record_count(), 3 + 120_000);
        let n = b.snapshot.node(&n("host-59999")).unwrap();
        assert_eq!(n.rrsets().count(), 2);
        // An error late in a large file still names its line.
        let bad = format!("{text}broken A 1.2.3\n");
        let e = load(&bad).err().unwrap();
        assert!(
            e.to_string()
                .starts_with(&format!("t.zone:{}:", 5 + 120_000)),
            "{e}"
        );
    }

    #[test]
    fn file_errors_keep_file_and_line() {
        let e = load(&format!("{HEAD}bad A 1.2.3\n")).err().unwrap();
        assert!(e.to_string().starts_with("t.zone:5:"), "{e}");
    }

    /// As Knot does, one pass reports every bad record, each with its
    /// line, and reading stops at a limit.
    #[test]
    fn every_error_in_a_file_is_reported() {
        let text = format!(
            "{HEAD}a A 1.2.3\nok A 192.0.2.1\nb LOCX 1\nc MX x y\nd 300 IN A 192.0.2.1\ne AAAA 1::2::3\n"
        );
        let e = load(&text).err().unwrap();
        let lines: Vec<usize> = match &e {
            LoadError::File(v) => v.iter().map(|e| e.line).collect(),
            other => panic!("{other}"),
        };
        assert_eq!(lines, [5, 7, 8, 10]);
        assert_eq!(e.reasons().len(), 4);
        assert!(e.to_string().ends_with("(and 3 more errors)"), "{e}");
        assert!(e.reasons()[1].contains("unknown type 'LOCX'"), "{e:?}");

        let many: String = (0..500).map(|i| format!("h{i} A 1.2.3\n")).collect();
        match load(&format!("{HEAD}{many}")).err().unwrap() {
            LoadError::File(v) => assert_eq!(v.len(), MAX_ERRORS),
            other => panic!("{other}"),
        }
        // After a structural error the rest of the file cannot be read.
        match load(&format!("{HEAD}a A 1.2.3\n) \nb A 1.2.3\n"))
            .err()
            .unwrap()
        {
            LoadError::File(v) => assert_eq!(v.len(), 2, "{v:?}"),
            other => panic!("{other}"),
        }
    }

    #[test]
    fn every_error_is_reported_from_the_reading_thread_too() {
        let filler: String = (0..40_000)
            .map(|i| format!("host{i} A 192.0.2.{}\n", i % 250))
            .collect();
        let text = format!("{HEAD}{filler}x A 1.2.3\n{filler}y A 1.2.3\n");
        assert!(text.len() > 1 << 20);
        match load(&text).err().unwrap() {
            LoadError::File(v) => assert_eq!(v.len(), 2, "{v:?}"),
            other => panic!("{other}"),
        }
    }

    /// An error about the file as a whole has no line number.
    #[test]
    fn a_missing_file_is_named_without_a_line() {
        let e = load_zone_file(Path::new("/nonexistent/z.zone"), &apex())
            .err()
            .unwrap()
            .to_string();
        assert!(e.starts_with("/nonexistent/z.zone: cannot read:"), "{e}");
    }
}
