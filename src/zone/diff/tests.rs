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
                "{} flags={:#x} {:?} hashes {:?} {:?}",
                Name::from_wire(n.owner()).unwrap(),
                n.flags(),
                sets,
                n.nsec3_hash(),
                n.wildcard_nsec3_hash()
            )
        })
        .collect();
    v.sort();
    v.push(format!(
        "serial {} records {}",
        s.serial(),
        s.record_count()
    ));
    // What a query finds goes through the node map, not the canonical
    // order: every name the tests use, and its ancestors, looked up there;
    // and the NSEC owner that covers each, from the order's marks.
    for name in POOL.iter().chain(&PROBED) {
        let mut n = parse_name_text(name, Some(&apex())).unwrap();
        while n.is_subdomain_of(&apex()) {
            let found = s.node_by_wire(n.as_wire()).map(|node| node.flags());
            v.push(format!("lookup {n}: {found:?}"));
            let cover = s
                .nsec_owner_before(n.as_wire())
                .map(|o| Name::from_wire(o).unwrap().to_string());
            v.push(format!("nsec cover {n}: {cover:?}"));
            match n.parent() {
                Some(p) => n = p,
                None => break,
            }
        }
    }
    v
}

/// Names of the hand-written cases, looked up by [`describe`].
const PROBED: [&str; 5] = ["only-2", "x.new.deep", "www", "deep.a.b", "t"];

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

/// Re-signing replaces the RRSIGs of one type; those of another type at
/// the same name stay, with their own TTL.
#[test]
fn rrsigs_change_per_type_covered() {
    let sig = |t: &str, ttl: u32, tag: u16| {
        format!(
            "www {ttl} RRSIG {t} 13 3 {ttl} 20270101000000 20261101000000 {tag} example.com. AQID\n"
        )
    };
    let body = format!("www 60 TXT x\n{}{}", sig("A", 60, 1), sig("TXT", 60, 2));
    let base = build(&format!("{BASE}{body}"));
    let next = apply(&base, &[diff(1, &sig("A", 60, 1), 2, &sig("A", 120, 9))]).unwrap();
    let expect = build(&format!(
        "{}www 60 TXT x\n{}{}",
        BASE.replace("SOA ns hm 1", "SOA ns hm 2"),
        sig("A", 120, 9),
        sig("TXT", 60, 2)
    ));
    assert_eq!(describe(&next), describe(&expect));
    let www = next
        .node(&parse_name_text("www.example.com.", None).unwrap())
        .unwrap();
    assert_eq!(www.rrsigs(rtype::A).unwrap().ttl(), 120);
    assert_eq!(www.rrsigs(rtype::TXT).unwrap().ttl(), 60);
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

/// A small random generator (xorshift), the same run every time.
struct Rand(u64);

impl Rand {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

const POOL: [&str; 12] = [
    "a", "b.a", "c.b.a", "d", "e.d", "f.e.d", "g", "x.y.z", "y.z", "sub", "h.sub", "i.h.sub",
];

fn zone_text(serial: u32, recs: &[String]) -> String {
    format!(
        "$TTL 60\n@ 300 SOA ns hm {serial} 2 3 4 5\n{}\n",
        recs.join("\n")
    )
}

/// One random difference sequence from serial `from` over `current`
/// (updated to the records after it). A record in `fresh` (added by an
/// earlier sequence of the same transfer) is deleted first when asked.
fn random_sequence(
    rand: &mut Rand,
    current: &mut Vec<String>,
    fresh: &mut Vec<String>,
    from: u32,
    delete_fresh: bool,
) -> Diff {
    let mut removed = Vec::new();
    let mut added = Vec::new();
    if delete_fresh {
        for rec in fresh.drain(..) {
            if let Some(i) = current.iter().position(|c| *c == rec) {
                removed.push(current.remove(i));
            }
        }
    }
    for _ in 0..1 + rand.below(4) {
        if !current.is_empty() && rand.below(2) == 0 {
            let i = rand.below(current.len() as u64) as usize;
            // Deletions apply before additions: never delete what this
            // same sequence adds.
            if current[i].starts_with("@ NS")
                || current[i].starts_with("ns ")
                || added.contains(&current[i])
            {
                continue;
            }
            removed.push(current.remove(i));
        } else {
            let name = POOL[rand.below(POOL.len() as u64) as usize];
            let rec = match rand.below(7) {
                0 => format!("{name} NS ns.other."),
                // NSEC owners move the covers of the names after them,
                // unless a cut above occludes them.
                1 => format!("{name} NSEC www A NSEC"),
                // A chain in use, or none: every node's hashes change.
                2 => "@ NSEC3PARAM 1 0 0 -".to_string(),
                _ => {
                    format!("{name} A 192.0.2.{}", rand.below(250))
                }
            };
            if !current.contains(&rec) && !added.contains(&rec) {
                added.push(rec.clone());
                current.push(rec);
            }
        }
    }
    fresh.extend(added.iter().cloned());
    diff(from, &removed.join("\n"), from + 1, &added.join("\n"))
}

/// Random diffs applied one after another give the same snapshot as a
/// build from scratch of the resulting records.
#[test]
fn random_diffs_match_a_full_rebuild() {
    let mut rand = Rand(0x9e37_79b9_7f4a_7c15);
    let mut current: Vec<String> = vec!["@ NS ns".into(), "ns A 192.0.2.1".into()];
    let mut snap = build(&zone_text(1, &current));
    for step in 1..200u32 {
        let d = random_sequence(&mut rand, &mut current, &mut Vec::new(), step, false);
        snap = apply(&snap, &[d]).unwrap_or_else(|e| panic!("step {step}: {e}"));
        let expect = build(&zone_text(step + 1, &current));
        assert_eq!(describe(&snap), describe(&expect), "step {step}");
    }
}

/// One IXFR of several sequences, as a primary sends after the secondary
/// missed versions, gives the same snapshot as a full rebuild, also when
/// a later sequence deletes names an earlier one added (RFC 1995 §4).
#[test]
fn random_multi_sequence_transfers_match_a_full_rebuild() {
    let mut rand = Rand(0x2545_f491_4f6c_dd1d);
    let mut current: Vec<String> = vec!["@ NS ns".into(), "ns A 192.0.2.1".into()];
    let mut serial = 1;
    let mut snap = build(&zone_text(serial, &current));
    for transfer in 0..150 {
        let mut fresh = Vec::new();
        let diffs: Vec<Diff> = (0..2 + rand.below(4))
            .map(|k| {
                let delete_fresh = k > 0 && rand.below(2) == 0;
                let d = random_sequence(&mut rand, &mut current, &mut fresh, serial, delete_fresh);
                serial += 1;
                d
            })
            .collect();
        snap = apply(&snap, &diffs).unwrap_or_else(|e| panic!("transfer {transfer}: {e}"));
        let expect = build(&zone_text(serial, &current));
        assert_eq!(describe(&snap), describe(&expect), "transfer {transfer}");
    }
}

/// The case seen against Knot: version 2 added a name, version 3 deleted
/// it, and one IXFR from 1 to 3 brought both. The name must not exist
/// (RFC 8020): no node, not even an empty one, and no ancestor left
/// behind for it.
#[test]
fn a_name_added_and_deleted_in_one_transfer_is_gone() {
    let base = build(BASE);
    let next = apply(
        &base,
        &[
            diff(1, "", 2, "only-2 A 192.0.2.9\nx.new.deep A 192.0.2.10\n"),
            diff(
                2,
                "only-2 60 A 192.0.2.9\nx.new.deep 60 A 192.0.2.10\n",
                3,
                "",
            ),
        ],
    )
    .unwrap();
    let expect = build(&BASE.replace("SOA ns hm 1", "SOA ns hm 3"));
    assert_eq!(describe(&next), describe(&expect));
    for gone in [
        "only-2.example.com.",
        "x.new.deep.example.com.",
        "new.deep.example.com.",
    ] {
        let n = parse_name_text(gone, None).unwrap();
        assert!(
            next.node_by_wire(n.as_wire()).is_none(),
            "{gone} is still there"
        );
    }
}

/// A small zone without NSEC at its apex keeps no canonical order of
/// its own, yet its names still come out in order; an IXFR that gives
/// the apex its NSEC brings the order back, with the NSEC owners the
/// diff did not touch marked too, and one that takes it away drops it
/// again.
#[test]
fn a_small_unsigned_zone_keeps_no_order_until_nsec_comes() {
    let chain = "b NSEC a.b A NSEC\na.b NSEC ns A NSEC\nns NSEC @ A NSEC\n";
    let text = format!(
        "$TTL 60\n@ 300 SOA ns hm 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\nb A 192.0.2.2\na.b A 192.0.2.3\n{chain}"
    );
    let base = build(&text);
    assert!(!base.uses_nsec());
    assert!(
        base.order.is_none(),
        "no order kept for 4 names without apex NSEC"
    );
    let names: Vec<String> = base
        .names_in_order()
        .map(|w| Name::from_wire(w).unwrap().to_string())
        .collect();
    assert_eq!(
        names,
        [
            "example.com.",
            "b.example.com.",
            "a.b.example.com.",
            "ns.example.com."
        ]
    );
    let apex_nsec = "@ NSEC b NS SOA NSEC\n";
    let signed = apply(&base, &[diff(1, "", 2, apex_nsec)]).unwrap();
    assert!(signed.uses_nsec());
    assert_eq!(signed.order().len(), 4, "the order is back");
    let before = |s: &Snapshot, n: &str| {
        s.nsec_owner_before(parse_name_text(n, None).unwrap().as_wire())
            .map(|w| Name::from_wire(w).unwrap().to_string())
    };
    assert_eq!(
        before(&signed, "c.example.com.").as_deref(),
        Some("a.b.example.com.")
    );
    assert_eq!(
        before(&signed, "z.example.com.").as_deref(),
        Some("ns.example.com.")
    );
    assert_eq!(
        before(&signed, "a.example.com.").as_deref(),
        Some("example.com.")
    );
    let unsigned = apply(&signed, &[diff(2, apex_nsec, 3, "")]).unwrap();
    assert!(!unsigned.uses_nsec());
    assert!(unsigned.order.is_none());
    assert_eq!(unsigned.names_in_order().count(), 4);
}
