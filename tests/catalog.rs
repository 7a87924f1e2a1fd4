//! Catalog zones (RFC 9432) with zonecast as consumer: a Knot DNS
//! producer (`catalog-role: generate`) adding and removing members at
//! runtime, and hand-written catalogs served by BIND for the rules a
//! producer never breaks by itself (broken versions, member-ID reset,
//! change of ownership, clashes, groups).

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use common::*;

fn zone_text(serial: u32, body: &str) -> String {
    format!("$TTL 300\n@ SOA ns1 hm {serial} 3600 600 86400 60\n@ NS ns1\nns1 A 192.0.2.53\n{body}")
}

/// RCODE and SOA serial of an SOA query for `zone`.
fn soa(addr: SocketAddr, zone: &str) -> (u16, Option<u32>) {
    let Some(r) = udp(
        addr,
        &build_query(7, zone, 6, 1, None),
        Duration::from_millis(500),
    ) else {
        return (u16::MAX, None);
    };
    let m = parse(&r);
    let serial = m.answers.iter().find_map(|rr| {
        let text = rr.data.to_string();
        text.split_whitespace().nth(2).and_then(|s| s.parse().ok())
    });
    (rcode(&m), serial)
}

fn serves(addr: SocketAddr, zone: &str, serial: u32) -> bool {
    wait_until(Duration::from_secs(15), || {
        soa(addr, zone) == (0, Some(serial))
    })
}

fn refuses(addr: SocketAddr, zone: &str) -> bool {
    wait_until(Duration::from_secs(15), || soa(addr, zone).0 == 5)
}

fn www(addr: SocketAddr, zone: &str) -> Vec<String> {
    let r = udp(
        addr,
        &build_query(8, &format!("www.{zone}"), 1, 1, None),
        Duration::from_millis(500),
    );
    r.map_or_else(Vec::new, |r| lines(&parse(&r).answers))
}

fn knot_member(zone: &str) -> String {
    format!(
        "  - domain: {zone}\n    catalog-role: member\n    catalog-zone: catalog.invalid.\n    notify: zc\n    acl: xfr\n"
    )
}

fn consumer_config(port: u16, catalogs: &str) -> String {
    format!(
        "[server]\nlisten = [\"127.0.0.1:{port}\"]\nworkers = 2\n\
         [transfer]\nio_timeout_ms = 2000\nconnect_timeout_ms = 1000\nnotify_min_interval_ms = 0\n{catalogs}"
    )
}

#[test]
fn a_knot_catalog_adds_serves_and_removes_member_zones() {
    let port = free_port();
    let files: Vec<(String, String)> = ["a", "b", "c", "d"]
        .iter()
        .enumerate()
        .map(|(i, m)| {
            (
                format!("{m}.example.zone"),
                zone_text(1, &format!("www A 192.0.2.{}\n", i + 1)),
            )
        })
        .collect();
    let file_refs: Vec<(&str, &str)> = files.iter().map(|(a, b)| (&a[..], &b[..])).collect();
    let rest = format!(
        "remote:\n  - id: zc\n    address: 127.0.0.1@{port}\n\
         acl:\n  - id: xfr\n    address: 127.0.0.0/8\n    action: transfer\n\
         zone:\n  - domain: catalog.invalid.\n    catalog-role: generate\n    notify: zc\n    acl: xfr\n{}{}{}",
        knot_member("a.example."),
        knot_member("b.example."),
        knot_member("c.example.")
    );
    let knot = Knot::start("", &rest, &file_refs, "a.example.");
    let dir = tempfile::tempdir().unwrap();
    let config = consumer_config(
        port,
        &format!(
            "[[catalog]]\nname = \"catalog.invalid.\"\nfile = \"catalog.zone\"\nprimaries = [\"{}\"]\n",
            knot.addr
        ),
    );
    let path = dir.path().to_path_buf();
    let zc = Zonecast::start_with_config(dir, &config);
    for m in ["a.example.", "b.example.", "c.example."] {
        assert!(serves(zc.addr, m, 1), "{m}:\n{}", zc.process.log());
    }
    assert_eq!(
        www(zc.addr, "b.example."),
        ["www.b.example. 300 IN A 192.0.2.2"]
    );
    // The catalog itself is for this server, not for the public: REFUSED,
    // as its producer answers it.
    assert_eq!(soa(zc.addr, "catalog.invalid.").0, 5);
    assert_eq!(soa(knot.addr, "catalog.invalid.").0, 5, "as Knot");
    assert!(!path.join("members/d.example.zone").exists());

    // A member added at the producer at runtime.
    knot.knotc_ok(&["conf-begin"]);
    for args in [
        vec!["conf-set", "zone[d.example.]"],
        vec!["conf-set", "zone[d.example.].catalog-role", "member"],
        vec![
            "conf-set",
            "zone[d.example.].catalog-zone",
            "catalog.invalid.",
        ],
        vec!["conf-set", "zone[d.example.].notify", "zc"],
        vec!["conf-set", "zone[d.example.].acl", "xfr"],
    ] {
        knot.knotc_ok(&args);
    }
    knot.knotc_ok(&["conf-commit"]);
    assert!(serves(zc.addr, "d.example.", 1), "{}", zc.process.log());
    assert_eq!(
        www(zc.addr, "d.example."),
        ["www.d.example. 300 IN A 192.0.2.4"]
    );

    // A member removed: no longer served, its copy deleted (§5.3).
    assert!(wait_until(Duration::from_secs(10), || path
        .join("members/b.example.zone")
        .exists()));
    knot.knotc_ok(&["conf-begin"]);
    knot.knotc_ok(&["conf-unset", "zone[b.example.]"]);
    knot.knotc_ok(&["conf-commit"]);
    assert!(refuses(zc.addr, "b.example."), "{}", zc.process.log());
    assert!(
        wait_until(Duration::from_secs(10), || !path
            .join("members/b.example.zone")
            .exists()),
        "the removed member's copy stays on disk"
    );
    assert!(serves(zc.addr, "a.example.", 1));

    // A restart with the producer gone: the catalog's copy brings back
    // its members, each served from its own copy.
    assert!(wait_until(Duration::from_secs(10), || path
        .join("members/d.example.zone")
        .exists()));
    // Who owns what, with each member's label, is kept for the restart.
    assert!(wait_until(Duration::from_secs(10), || {
        let kept = std::fs::read_to_string(path.join("catalog.zone.members")).unwrap_or_default();
        kept.contains("d.example. ") && !kept.contains("b.example.")
    }));
    drop(knot);
    let Zonecast {
        mut process, dir, ..
    } = zc;
    process.terminate();
    let zc = Zonecast::start_with_config(dir, &config);
    for m in ["a.example.", "c.example.", "d.example."] {
        assert_eq!(soa(zc.addr, m), (0, Some(1)), "{m}:\n{}", zc.process.log());
    }
    assert_eq!(soa(zc.addr, "b.example.").0, 5);
    assert_eq!(soa(zc.addr, "catalog.invalid.").0, 5);
}

/// A catalog served by BIND from a hand-written file.
fn catalog_text(serial: u32, body: &str) -> String {
    format!("$TTL 0\n@ SOA invalid. invalid. {serial} 3600 600 86400 0\n@ NS invalid.\n{body}")
}

fn count(log: &str, needle: &str) -> usize {
    log.matches(needle).count()
}

fn exists_soon(p: &Path, wanted: bool) -> bool {
    wait_until(Duration::from_secs(10), || p.exists() == wanted)
}

#[test]
fn hand_written_catalogs_from_bind_follow_every_rule() {
    let port = free_port();
    let v = "version TXT \"2\"\n";
    let cat1 = |serial: u32, body: &str| catalog_text(serial, &format!("{v}{body}"));
    let members: Vec<(String, String)> = ["m1", "m2", "m3", "static"]
        .iter()
        .map(|m| {
            (
                format!("{m}.example.zone"),
                zone_text(1, "www A 192.0.2.80\n"),
            )
        })
        .collect();
    let mut files: Vec<(String, String)> = vec![
        (
            "cat1.invalid.zone".into(),
            cat1(
                1,
                "one.zones PTR m1.example.\ntwo.zones PTR m2.example.\ngroup.two.zones TXT \"gold\"\n\
                 s.zones PTR static.example.\n",
            ),
        ),
        ("cat2.invalid.zone".into(), cat1(1, "")),
    ];
    files.extend(members);
    let file_refs: Vec<(&str, &str)> = files.iter().map(|(a, b)| (&a[..], &b[..])).collect();
    let bind = Bind::start(
        "",
        &format!(
            " notify explicit;\n notify-delay 0;\n also-notify {{ 127.0.0.1 port {port}; }};\n\
             allow-transfer {{ 127.0.0.0/8; }};"
        ),
        &file_refs,
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("static.example.zone"),
        zone_text(9, "www A 198.51.100.9\n"),
    )
    .unwrap();
    let b = bind.addr;
    let config = consumer_config(
        port,
        &format!(
            "[[zone]]\nname = \"static.example.\"\nfile = \"static.example.zone\"\n\
             [[template]]\nname = \"plain\"\ndirectory = \"plain\"\n\
             [[template]]\nname = \"gold\"\ndirectory = \"gold\"\nprimaries = [\"{b}\"]\n\
             [[catalog]]\nname = \"cat1.invalid.\"\nfile = \"cat1.zone\"\nprimaries = [\"{b}\"]\ntemplates = [\"plain\", \"gold\"]\n\
             [[catalog]]\nname = \"cat2.invalid.\"\nfile = \"cat2.zone\"\nprimaries = [\"{b}\"]\ntemplates = [\"plain\"]\n"
        ),
    );
    let path = dir.path().to_path_buf();
    let zc = Zonecast::start_with_config(dir, &config);
    assert!(serves(zc.addr, "m1.example.", 1), "{}", zc.process.log());
    assert!(serves(zc.addr, "m2.example.", 1), "{}", zc.process.log());
    // The group property picked the template, and so the directory.
    assert!(exists_soon(&path.join("plain/m1.example.zone"), true));
    assert!(exists_soon(&path.join("gold/m2.example.zone"), true));
    // §5.2: a member named like a configured zone is ignored; the zone
    // keeps its own data.
    assert_eq!(soa(zc.addr, "static.example."), (0, Some(9)));
    assert!(zc.process.log().contains(
        "[static.example.] listed by catalog cat1.invalid., but it is a zone of the configuration: ignored"
    ));
    assert_eq!(soa(zc.addr, "cat1.invalid.").0, 5);

    // §5.1: a member with two PTRs breaks the whole version: m3, listed
    // well, is not added either.
    bind.update(
        "cat1.invalid.zone",
        &cat1(
            2,
            "one.zones PTR m1.example.\none.zones PTR m3.example.\ntwo.zones PTR m2.example.\n\
             group.two.zones TXT \"gold\"\nthree.zones PTR m3.example.\n",
        ),
    );
    let mut zc = zc;
    assert!(
        zc.process.wait_for_log(
            "[cat1.invalid.] catalog serial 2 is broken",
            Duration::from_secs(15)
        ),
        "{}",
        zc.process.log()
    );
    assert_eq!(soa(zc.addr, "m3.example.").0, 5);
    assert_eq!(soa(zc.addr, "m1.example."), (0, Some(1)));

    // Fixed, with m1 under a new label: m1 is reset (its copy goes and it
    // is transferred anew, §5.4), m3 comes.
    assert_eq!(count(&zc.process.log(), "[m1.example.] AXFR from"), 1);
    bind.update(
        "cat1.invalid.zone",
        &cat1(
            3,
            "uno.zones PTR m1.example.\ntwo.zones PTR m2.example.\ngroup.two.zones TXT \"gold\"\n\
             three.zones PTR m3.example.\n",
        ),
    );
    assert!(serves(zc.addr, "m3.example.", 1), "{}", zc.process.log());
    assert!(
        wait_until(Duration::from_secs(15), || count(
            &zc.process.log(),
            "[m1.example.] AXFR from"
        ) == 2),
        "{}",
        zc.process.log()
    );
    assert!(
        zc.process
            .log()
            .contains("[m1.example.] member ID changed in catalog cat1.invalid.")
    );
    assert!(serves(zc.addr, "m1.example.", 1));

    // §5.6: cat1 hands m2 to cat2 (coo); once cat2 lists it, m2 moves:
    // same label, so its state is kept, and cat2's template applies.
    bind.update(
        "cat1.invalid.zone",
        &cat1(
            4,
            "uno.zones PTR m1.example.\ntwo.zones PTR m2.example.\ngroup.two.zones TXT \"gold\"\n\
             coo.two.zones PTR cat2.invalid.\nthree.zones PTR m3.example.\n",
        ),
    );
    assert!(wait_until(Duration::from_secs(15), || soa(
        b,
        "cat1.invalid."
    )
    .1 == Some(4)));
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        path.join("gold/m2.example.zone").exists(),
        "not moved before cat2 lists it"
    );
    bind.update("cat2.invalid.zone", &cat1(2, "two.zones PTR m2.example.\n"));
    assert!(
        zc.process.wait_for_log(
            "[m2.example.] moves from catalog cat1.invalid. to catalog cat2.invalid.",
            Duration::from_secs(15)
        ),
        "{}",
        zc.process.log()
    );
    assert!(exists_soon(&path.join("plain/m2.example.zone"), true));
    assert!(exists_soon(&path.join("gold/m2.example.zone"), false));
    assert!(serves(zc.addr, "m2.example.", 1));
    assert!(!zc.process.log().contains("[m2.example.] member ID changed"));

    // §5.3: dropped by its catalog, m3 goes with its copy.
    assert!(exists_soon(&path.join("plain/m3.example.zone"), true));
    bind.update("cat1.invalid.zone", &cat1(5, "uno.zones PTR m1.example.\n"));
    assert!(refuses(zc.addr, "m3.example."), "{}", zc.process.log());
    assert!(exists_soon(&path.join("plain/m3.example.zone"), false));
    // m2 now belongs to cat2: cat1 dropping it changes nothing.
    assert_eq!(soa(zc.addr, "m2.example."), (0, Some(1)));
    assert_eq!(soa(zc.addr, "m1.example."), (0, Some(1)));
}
