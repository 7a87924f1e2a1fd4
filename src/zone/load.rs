//! Loading a zone from its file.

use std::path::Path;

use thiserror::Error;

use super::build::{Built, SnapshotBuilder, ZoneError};
use super::text::{ZoneFileError, ZoneFileReader};
use crate::wire::Name;

#[derive(Debug, Error)]
pub enum LoadError {
    #[error("{0}")]
    File(#[from] ZoneFileError),
    #[error("{file}: {error}")]
    Zone { file: String, error: ZoneError },
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
        let mut reader = ZoneFileReader::new(text, label, apex.clone());
        while let Some(r) = reader.next_raw()? {
            builder.add_raw(r.owner, r.rtype, r.ttl, r.rdata);
        }
    } else {
        std::thread::scope(|scope| -> Result<(), LoadError> {
            let (tx, rx) = crossbeam_channel::bounded::<Batch>(8);
            let reader = scope.spawn(move || -> Result<(), ZoneFileError> {
                let mut reader = ZoneFileReader::new(text, label, apex.clone());
                let mut batch = Batch::default();
                while let Some(r) = reader.next_raw()? {
                    batch.octets.extend_from_slice(r.owner);
                    batch.octets.extend_from_slice(r.rdata);
                    batch
                        .records
                        .push((r.owner.len() as u8, r.rdata.len() as u16, r.rtype, r.ttl));
                    if batch.records.len() == BATCH && tx.send(core::mem::take(&mut batch)).is_err()
                    {
                        return Ok(());
                    }
                }
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
                Ok(r) => Ok(r?),
                Err(_) => Err(LoadError::File(ZoneFileError {
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
}
