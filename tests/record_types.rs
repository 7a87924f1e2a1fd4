//! Every record type that Knot DNS or BIND reads in a zone file, read by
//! zonecast into the same octets: the same files served by zonecast and
//! by the peer give the same answers, each peer's own printed form reads
//! back into the same records, and what zonecast prints the peer reads
//! back into the same records too.

mod common;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

use common::*;
use zonecast::wire::iana::rtype;
use zonecast::wire::message::Message as WireMessage;
use zonecast::wire::name::parse_name_text;
use zonecast::wire::rdata::read_rdata;
use zonecast::zone::load_zone_text;
use zonecast::zone::text::write_zone_file;

const KNOT_TYPES: &str = include_str!("data/types.test.zone");
const BIND_TYPES: &str = include_str!("data/bind-only.test.zone");

/// (owner lowercase, type, TTL, RDATA) in wire form, sorted.
type Records = BTreeSet<(Vec<u8>, u16, u32, Vec<u8>)>;

fn load(text: &[u8], apex: &str) -> Records {
    let apex = parse_name_text(apex, None).unwrap();
    let built = load_zone_text(text, "test", &apex).unwrap_or_else(|e| panic!("{e}"));
    built
        .snapshot
        .records()
        .map(|(o, ttl, t, rd)| (o.to_ascii_lowercase(), t, ttl, rd.to_vec()))
        .collect()
}

fn printed(text: &str, apex: &str) -> String {
    let apex = parse_name_text(apex, None).unwrap();
    let built = load_zone_text(text.as_bytes(), "test", &apex).unwrap();
    let mut out = Vec::new();
    write_zone_file(&mut out, "printed by zonecast", built.snapshot.records()).unwrap();
    String::from_utf8(out).unwrap()
}

fn dotted(wire: &[u8]) -> String {
    let mut s = String::new();
    zonecast::wire::name::fmt_name(wire, &mut s).unwrap();
    s
}

/// The answer section of `owner`/`t` from `server` over TCP, with names
/// in RDATA decompressed.
fn answer(server: SocketAddr, owner: &[u8], t: u16) -> Records {
    let q = build_query(7, &dotted(owner), t, 1, Some(EdnsSpec::default()));
    let bytes = tcp(server, &q, Duration::from_secs(2))
        .unwrap_or_else(|| panic!("no answer from {server} for {} {t}", dotted(owner)));
    let m = WireMessage::new_checked(&bytes).unwrap();
    let sections = m.parse().unwrap();
    let mut v = Records::new();
    for r in sections.answers() {
        let r = r.unwrap();
        let mut rd = Vec::new();
        read_rdata(&bytes, r.rdata_pos, r.rdata_len, r.rtype, &mut rd).unwrap_or_else(|e| {
            panic!(
                "{server} sent {} type {} that zonecast cannot read: {e}",
                dotted(owner),
                r.rtype
            )
        });
        v.insert((r.owner().as_wire().to_ascii_lowercase(), r.rtype, r.ttl, rd));
    }
    v
}

/// Asks both servers for every owner and type of `records` and returns
/// the differences.
fn compare_answers(reference: SocketAddr, zc: SocketAddr, records: &Records) -> Vec<String> {
    let pairs: BTreeSet<(Vec<u8>, u16)> = records.iter().map(|r| (r.0.clone(), r.1)).collect();
    let mut diffs = Vec::new();
    for (owner, t) in &pairs {
        let want: Records = records
            .iter()
            .filter(|r| &r.0 == owner && r.1 == *t)
            .cloned()
            .collect();
        let theirs = answer(reference, owner, *t);
        let ours = answer(zc, owner, *t);
        if theirs != want || ours != want {
            diffs.push(format!(
                "{} {}: file {want:02x?}\n  reference {theirs:02x?}\n  zonecast {ours:02x?}",
                dotted(owner),
                rtype::Display(*t)
            ));
        }
    }
    diffs
}

fn types_of(records: &Records) -> BTreeSet<u16> {
    records.iter().map(|r| r.1).collect()
}

#[test]
fn every_type_knot_reads_is_read_into_the_same_octets() {
    let ours = load(KNOT_TYPES.as_bytes(), "types.test.");
    assert!(
        types_of(&ours).len() >= 45,
        "only {} types",
        types_of(&ours).len()
    );
    for t in [
        rtype::LOC,
        rtype::CERT,
        rtype::APL,
        rtype::IPSECKEY,
        rtype::KEY,
        rtype::RT,
        rtype::NID,
        rtype::L32,
        rtype::L64,
        rtype::LP,
        rtype::EUI48,
        rtype::EUI64,
    ] {
        assert!(types_of(&ours).contains(&t), "no {} in the test zone", t);
    }
    let zone = "acl:\n  - id: local\n    address: 127.0.0.1\n    action: transfer\n\
                zone:\n  - domain: types.test\n    semantic-checks: off\n    acl: local\n";
    let knot = Knot::start("", zone, &[("types.test.zone", KNOT_TYPES)], "types.test.");
    let zc = Zonecast::start(
        "",
        "[[zone]]\nname = \"types.test.\"\nfile = \"types.test.zone\"\n",
        &[("types.test.zone", KNOT_TYPES)],
    );
    let diffs = compare_answers(knot.addr, zc.addr, &ours);
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));

    // Knot's own text form (kdig prints what it received) reads back
    // into the same records.
    let port = knot.addr.port().to_string();
    let axfr = run(
        "kdig",
        &[
            "@127.0.0.1",
            "-p",
            &port,
            "+tcp",
            "+nocomments",
            "types.test.",
            "AXFR",
        ],
    );
    let from_knot = load(axfr.as_bytes(), "types.test.");
    assert!(from_knot.len() > ours.len() / 2, "AXFR from Knot:\n{axfr}");
    assert_eq!(from_knot, ours, "Knot's text:\n{axfr}");

    // What zonecast prints, Knot reads into the same records.
    let text = printed(KNOT_TYPES, "types.test.");
    let knot2 = Knot::start("", zone, &[("types.test.zone", &text)], "types.test.");
    let diffs = compare_answers(knot2.addr, zc.addr, &ours);
    assert!(
        diffs.is_empty(),
        "Knot read zonecast's text:\n{text}\n{}",
        diffs.join("\n")
    );
}

/// BIND's `named-compilezone` in full text form, one record a line.
fn bind_text(zone: &str, text: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("in.zone");
    std::fs::write(&path, text).unwrap();
    let out = Command::new(tool("named-compilezone"))
        .args(["-q", "-i", "none", "-s", "full", "-o", "-", zone])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "named-compilezone refused {zone}: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn every_type_bind_reads_is_read_into_the_same_octets() {
    for (zone, text) in [("bind-only.test.", BIND_TYPES), ("types.test.", KNOT_TYPES)] {
        let ours = load(text.as_bytes(), zone);
        // BIND's printed form reads back into the same records.
        let theirs = bind_text(zone, text);
        assert_eq!(
            load(theirs.as_bytes(), zone),
            ours,
            "BIND's text:\n{theirs}"
        );
        // What zonecast prints, BIND reads into the same records: its
        // form of our text is its form of the original.
        let ours_printed = printed(text, zone);
        assert_eq!(
            bind_text(zone, &ours_printed),
            theirs,
            "zonecast's text:\n{ours_printed}"
        );
    }
    let ours = load(BIND_TYPES.as_bytes(), "bind-only.test.");
    for t in [
        rtype::HIP,
        rtype::X25,
        rtype::ISDN,
        rtype::AMTRELAY,
        rtype::WKS,
        rtype::A6,
        rtype::NSAP,
        rtype::ATMA,
    ] {
        assert!(types_of(&ours).contains(&t), "no {} in the test zone", t);
    }
    let bind = Bind::start("", "", &[("bind-only.test.zone", BIND_TYPES)]);
    let zc = Zonecast::start(
        "",
        "[[zone]]\nname = \"bind-only.test.\"\nfile = \"bind-only.test.zone\"\n",
        &[("bind-only.test.zone", BIND_TYPES)],
    );
    let diffs = compare_answers(bind.addr, zc.addr, &ours);
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}

/// RDATA lengths that a type's RFC fixes are checked as BIND checks them:
/// a SHA-384 ZONEMD with a 46-octet digest loads in neither.
#[test]
fn fixed_digest_lengths_are_enforced_like_bind() {
    let head = "$ORIGIN z.test.\n$TTL 300\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\n";
    let short = format!("{head}@ ZONEMD 1 1 1 ( {} )\n", "AB".repeat(46));
    let right = format!("{head}@ ZONEMD 1 1 1 ( {} )\n", "AB".repeat(48));
    let apex = parse_name_text("z.test.", None).unwrap();
    let err = load_zone_text(short.as_bytes(), "short.zone", &apex)
        .err()
        .expect("a 46-octet SHA-384 digest must not load");
    assert!(err.to_string().contains("ZONEMD"), "{err}");
    assert!(load_zone_text(right.as_bytes(), "right.zone", &apex).is_ok());
    let dir = tempfile::tempdir().unwrap();
    for (name, text, ok) in [("short", &short, false), ("right", &right, true)] {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let st = Command::new(tool("named-checkzone"))
            .args(["-q", "z.test"])
            .arg(&path)
            .status()
            .unwrap();
        assert_eq!(st.success(), ok, "named-checkzone on the {name} digest");
    }
}
