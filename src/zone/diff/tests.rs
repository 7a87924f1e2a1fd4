use super::*;
use crate::wire::name::parse_name_text;
use crate::zone::build::SnapshotBuilder;
use crate::zone::load::load_zone_text;
use crate::zone::text::ZoneFileReader;

fn apex() -> Name {
    parse_name_text("example.com.", None).unwrap()
}

fn rrs(text: &str) -> Vec<Rr> {
    let text = format!("$TTL 60\n{text}");
    let mut r = ZoneFileReader::new(text.as_bytes(), "diff", apex());
    let mut v = Vec::new();
    while let Some(rr) = r.next_record().unwrap() {
        v.push(rr);
    }
    v
}

fn soa(serial: u32) -> Rr {
    rrs(&format!("@ 300 SOA ns hm {serial} 2 3 4 5\n")).remove(0)
}

fn diff(from: u32, removed: &str, to: u32, added: &str) -> Diff {
    Diff {
        old_soa: soa(from),
        removed: rrs(removed),
        new_soa: soa(to),
        added: rrs(added),
    }
}

fn build(text: &str) -> Snapshot {
    load_zone_text(text.as_bytes(), "t", &apex())
        .unwrap()
        .snapshot
}

/// Everything a snapshot means: each name with its flags and records.
fn describe(s: &Snapshot) -> Vec<String> {
    let mut v: Vec<String> = s
        .nodes_in_order()
        .map(|n| {
            let mut sets: Vec<String> = n
                .rrsets()
                .map(|set| {
                    let mut rds: Vec<String> = set
                        .rdatas()
                        .map(|rd| crate::zone::text::RdataDisplay(set.rtype(), rd).to_string())
                        .collect();
                    rds.sort();
                    format!("{} {} {:?}", set.rtype(), set.ttl(), rds)
                })
                .collect();
            sets.sort();
            format!(
                "{} flags={:#x} {:?}",
                Name::from_wire(n.owner()).unwrap(),
                n.flags(),
                sets
            )
        })
        .collect();
    v.sort();
    v.push(format!(
        "serial {} records {}",
        s.serial(),
        s.record_count()
    ));
    v
}

const BASE: &str = "$TTL 60\n@ 300 SOA ns hm 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\nwww A 192.0.2.2\ndeep.a.b A 192.0.2.3\n";

#[test]
fn adds_and_removes_records_and_names() {
    let base = build(BASE);
    let next = apply(
        &base,
        &[diff(
            1,
            "www 60 A 192.0.2.2\ndeep.a.b 60 A 192.0.2.3\n",
            2,
            "new.x.y 60 A 192.0.2.9\nns 60 AAAA ::1\n",
        )],
    )
    .unwrap();
    let expect = build(
        "$TTL 60\n@ 300 SOA ns hm 2 2 3 4 5\n@ NS ns\nns A 192.0.2.1\nns AAAA ::1\nnew.x.y A 192.0.2.9\n",
    );
    assert_eq!(describe(&next), describe(&expect));
    // The base is untouched.
    assert_eq!(describe(&base), describe(&build(BASE)));
}

#[test]
fn several_sequences_in_a_row() {
    let base = build(BASE);
    let next = apply(
        &base,
        &[
            diff(1, "", 2, "t TXT one\n"),
            diff(2, "t 60 TXT one\n", 3, "t TXT two\n"),
            diff(3, "", 4, ""),
        ],
    )
    .unwrap();
    assert_eq!(next.serial(), 4);
    let expect = build(&format!(
        "{}t TXT two\n",
        BASE.replace("SOA ns hm 1", "SOA ns hm 4")
    ));
    assert_eq!(describe(&next), describe(&expect));
}

#[test]
fn cuts_and_dnames_recompute_occlusion_below_them() {
    let base = build(&format!(
        "{BASE}host.sub A 192.0.2.7\nx.host.sub A 192.0.2.8\n"
    ));
    let next = apply(&base, &[diff(1, "", 2, "sub NS ns.other.\n")]).unwrap();
    let host = next
        .node(&parse_name_text("x.host.sub.example.com.", None).unwrap())
        .unwrap();
    assert!(host.has_flag(flags::OCCLUDED));
    assert!(
        next.node(&parse_name_text("sub.example.com.", None).unwrap())
            .unwrap()
            .has_flag(flags::DELEGATION)
    );
    let back = apply(&next, &[diff(2, "sub NS ns.other.\n", 3, "")]).unwrap();
    let host = back
        .node(&parse_name_text("x.host.sub.example.com.", None).unwrap())
        .unwrap();
    assert!(!host.has_flag(flags::OCCLUDED));
    // Data below a DNAME is refused, in either order.
    assert!(matches!(
        apply(&base, &[diff(1, "", 2, "sub DNAME other.\n")]),
        Err(DiffError::Zone(ZoneError::BelowDname(_)))
    ));
}

#[test]
fn inconsistent_diffs_are_errors() {
    let base = build(BASE);
    assert!(matches!(
        apply(&base, &[diff(7, "", 8, "")]),
        Err(DiffError::SerialMismatch { from: 7, have: 1 })
    ));
    assert!(matches!(
        apply(&base, &[diff(1, "", 1, "")]),
        Err(DiffError::NotNewer { .. })
    ));
    assert!(matches!(
        apply(&base, &[diff(1, "www A 192.0.2.99\n", 2, "")]),
        Err(DiffError::MissingRecord(_))
    ));
    assert!(matches!(
        apply(&base, &[diff(1, "", 2, "www A 192.0.2.2\n")]),
        Err(DiffError::DuplicateRecord(_))
    ));
    assert!(matches!(
        apply(&base, &[diff(1, "", 2, "x.example.org. A 192.0.2.2\n")]),
        Err(DiffError::OutOfZone(_))
    ));
    assert!(matches!(
        apply(&base, &[diff(1, "", 2, "www CNAME ns\n")]),
        Err(DiffError::Zone(ZoneError::CnameWithOtherData(_)))
    ));
}

#[test]
fn one_record_on_a_big_zone_shares_almost_everything() {
    let mut b = SnapshotBuilder::new(&apex());
    b.add(soa(1));
    for i in 0..50_000 {
        b.add(rrs(&format!("h{i} A 192.0.2.1\n")).remove(0));
    }
    let base = b.finish().unwrap().snapshot;
    let next = apply(
        &base,
        &[diff(1, "h42 A 192.0.2.1\n", 2, "h42 A 192.0.2.2\n")],
    )
    .unwrap();
    let shards = base.nodes.shard_count();
    // The SOA's shard and h42's shard are copied; the rest are shared.
    assert!(
        next.shared_shards(&base) >= shards - 2,
        "{} of {shards}",
        next.shared_shards(&base)
    );
    assert_eq!(next.record_count(), base.record_count());
}

/// Random diffs applied one after another give the same snapshot as a
/// build from scratch of the resulting records.
#[test]
fn random_diffs_match_a_full_rebuild() {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let mut rand = move |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    };
    let pool = [
        "a", "b.a", "c.b.a", "d", "e.d", "f.e.d", "g", "x.y.z", "y.z", "sub", "h.sub", "i.h.sub",
    ];
    let mut current: Vec<String> = vec!["@ NS ns".into(), "ns A 192.0.2.1".into()];
    let text = |serial: u32, recs: &[String]| {
        format!(
            "$TTL 60\n@ 300 SOA ns hm {serial} 2 3 4 5\n{}\n",
            recs.join("\n")
        )
    };
    let mut snap = build(&text(1, &current));
    for step in 1..200u32 {
        let mut removed = Vec::new();
        let mut added = Vec::new();
        for _ in 0..1 + rand(4) {
            if !current.is_empty() && rand(2) == 0 {
                let i = rand(current.len() as u64) as usize;
                // Deletions apply before additions: never delete what this
                // same diff adds.
                if current[i].starts_with("@ NS")
                    || current[i].starts_with("ns ")
                    || added.contains(&current[i])
                {
                    continue;
                }
                removed.push(current.remove(i));
            } else {
                let name = pool[rand(pool.len() as u64) as usize];
                let rec = if rand(4) == 0 {
                    format!("{name} NS ns.other.")
                } else {
                    format!("{name} A 192.0.2.{}", rand(250))
                };
                if !current.contains(&rec) && !added.contains(&rec) {
                    added.push(rec.clone());
                    current.push(rec);
                }
            }
        }
        let d = diff(step, &removed.join("\n"), step + 1, &added.join("\n"));
        snap = apply(&snap, &[d]).unwrap_or_else(|e| panic!("step {step}: {e}"));
        let expect = build(&text(step + 1, &current));
        assert_eq!(describe(&snap), describe(&expect), "step {step}");
    }
}
