//! Zonecast as a primary for other secondaries (issue 11, step 1):
//! outbound AXFR (RFC 5936) to the clients a zone's `allow_transfer`
//! names. A real Knot DNS secondary pulls zones from zonecast, and what
//! it then serves is compared, record by record, with what zonecast
//! serves; clients not named, and zones without the setting, are refused.

mod common;

use std::time::Duration;

use common::*;

/// Every record type Knot reads: Knot must take each one as zonecast
/// writes it.
const TYPES: &str = include_str!("data/types.test.zone");

/// A zone of several thousand names: many messages, each within 16 KiB.
fn many_names() -> String {
    let mut text = String::from(
        "$ORIGIN many.test.\n$TTL 300\n@ SOA ns hostmaster 7 3600 600 604800 300\n@ NS ns\nns A 192.0.2.1\n\
         @ MX 10 mail\nmail A 192.0.2.2\nsub NS ns.sub\nns.sub A 192.0.2.3\nalias CNAME www\nwww A 192.0.2.4\n",
    );
    for i in 0..6000 {
        text.push_str(&format!(
            "h{i}.l{} A 198.18.{}.{}\nh{i}.l{} TXT \"host {i}\"\n",
            i % 17,
            i / 250,
            i % 250,
            i % 17
        ));
    }
    text
}

/// The records of an AXFR as kdig prints them, comparable: comments and
/// blank lines dropped, whitespace collapsed, lowercase, sorted, with the
/// closing SOA (the opening one's twin) left out.
fn axfr_lines(
    server: std::net::SocketAddr,
    zone: &str,
    source: Option<&str>,
) -> (Vec<String>, String) {
    let at = format!("@{}", server.ip());
    let port = server.port().to_string();
    let mut args = vec![at.as_str(), "-p", port.as_str(), zone, "AXFR", "+nocrypto"];
    if let Some(s) = source {
        args.extend(["-b", s]);
    }
    // A refused transfer is reported on standard error.
    let done = std::process::Command::new(tool("kdig"))
        .args(&args)
        .output()
        .unwrap();
    let out =
        String::from_utf8_lossy(&done.stdout).into_owned() + &String::from_utf8_lossy(&done.stderr);
    let mut lines: Vec<String> = out
        .lines()
        .filter(|l| !l.starts_with(';') && !l.trim().is_empty())
        .map(|l| {
            l.split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .to_lowercase()
        })
        .collect();
    let soas = lines.iter().filter(|l| l.contains(" soa ")).count();
    if soas == 2 {
        let last = lines.iter().rposition(|l| l.contains(" soa ")).unwrap();
        lines.remove(last);
    }
    lines.sort();
    (lines, out)
}

#[test]
fn a_knot_secondary_pulls_zones_from_zonecast_and_serves_the_same_records() {
    let many = many_names();
    let mut zc = Zonecast::start(
        "",
        "[[zone]]\nname = \"types.test.\"\nfile = \"types.zone\"\nallow_transfer = [\"127.0.0.1\"]\n\
         [[zone]]\nname = \"many.test.\"\nfile = \"many.zone\"\nallow_transfer = [\"127.0.0.0/30\", \"::1\"]\n\
         [[zone]]\nname = \"closed.test.\"\nfile = \"many.zone\"\n",
        &[("types.zone", TYPES), ("many.zone", &many)],
    );
    let knot = Knot::start(
        "",
        &format!(
            "remote:\n  - id: zonecast\n    address: {}@{}\n\
             acl:\n  - id: out\n    address: 127.0.0.0/8\n    action: transfer\n\
             zone:\n  - domain: types.test.\n    master: zonecast\n    acl: out\n    zonefile-sync: -1\n\
             \x20 - domain: many.test.\n    master: zonecast\n    acl: out\n    zonefile-sync: -1\n",
            zc.addr.ip(),
            zc.addr.port()
        ),
        &[],
        "many.test.",
    );
    assert!(
        wait_until(Duration::from_secs(20), || {
            let (l, _) = axfr_lines(knot.addr, "types.test.", None);
            !l.is_empty()
        }),
        "Knot did not load types.test. from zonecast:\n{}",
        knot.process.log()
    );
    for zone in ["types.test.", "many.test."] {
        let (ours, raw) = axfr_lines(zc.addr, zone, None);
        let (theirs, _) = axfr_lines(knot.addr, zone, None);
        assert!(
            ours.len() > 50,
            "{zone}: {} records from zonecast:\n{raw}",
            ours.len()
        );
        // As many as zonecast read from the file.
        let log = zc.process.log();
        let loaded: usize = log
            .lines()
            .find(|l| l.contains(&format!("[{zone}] loaded from")))
            .and_then(|l| l.split(", ").nth(1))
            .and_then(|w| w.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no load line for {zone}:\n{log}"));
        assert_eq!(ours.len(), loaded, "{zone}: every record, the SOA once");
        assert_eq!(ours.len(), theirs.len(), "{zone}: record counts");
        let differ: Vec<_> = ours
            .iter()
            .zip(&theirs)
            .filter(|(a, b)| a != b)
            .take(3)
            .collect();
        assert!(differ.is_empty(), "{zone}: records differ: {differ:?}");
    }
    let (many_lines, _) = axfr_lines(zc.addr, "many.test.", None);
    assert_eq!(
        many_lines.len(),
        6000 * 2 + 9,
        "every record of many.test. once, one SOA"
    );
    // The log counts what went out: the SOA twice, every other record once.
    let log = zc.process.log();
    assert!(
        log.contains("[many.test.] AXFR to 127.0.0.1:") && log.contains("serial 7, 12010 records"),
        "{log}"
    );
    // Refused: a zone without allow_transfer, and a client it does not
    // name (127.0.0.2 is outside 127.0.0.1 and inside 127.0.0.0/30).
    for (zone, source) in [
        ("closed.test.", None),
        ("types.test.", Some("127.0.0.2")),
        ("many.test.", Some("127.0.0.5")),
    ] {
        let (lines, raw) = axfr_lines(zc.addr, zone, source);
        assert!(lines.is_empty(), "{zone} from {source:?}: {raw}");
        assert!(raw.contains("NOTAUTH"), "{zone} from {source:?}: {raw}");
    }
    let (lines, _) = axfr_lines(zc.addr, "many.test.", Some("127.0.0.2"));
    assert_eq!(
        lines.len(),
        many_lines.len(),
        "127.0.0.2 lies in 127.0.0.0/30"
    );

    // A new version on zonecast (the file changed, SIGHUP): Knot, which
    // has serial 7, asks IXFR and gets the whole zone AXFR-style (RFC
    // 1995 §4), then serves the new record.
    let changed = many.replace("hostmaster 7 ", "hostmaster 8 ") + "new A 192.0.2.99\n";
    std::fs::write(zc.dir.path().join("many.zone"), changed).unwrap();
    zc.process.signal(libc::SIGHUP);
    let q = build_query(7, "new.many.test.", 1, 1, None);
    let has_new = |addr| {
        udp(addr, &q, Duration::from_secs(1)).is_some_and(|r| {
            parse(&r)
                .answers
                .iter()
                .any(|a| a.to_string().contains("192.0.2.99"))
        })
    };
    assert!(
        wait_until(Duration::from_secs(10), || has_new(zc.addr)),
        "zonecast did not reload:\n{}",
        zc.process.log()
    );
    knot.knotc_ok(&["zone-refresh", "many.test."]);
    assert!(
        wait_until(Duration::from_secs(20), || has_new(knot.addr)),
        "Knot did not take serial 8:\n{}\n{}",
        knot.process.log(),
        zc.process.log()
    );
    let log = zc.process.log();
    assert!(
        log.contains("[many.test.] IXFR (the whole zone, AXFR-style) to 127.0.0.1:"),
        "{log}"
    );
    let (after, _) = axfr_lines(knot.addr, "many.test.", None);
    assert_eq!(after.len(), 6000 * 2 + 10);
    // A client as new as zonecast: our SOA alone (RFC 1995 §2).
    let at = format!("@{}", zc.addr.ip());
    let port = zc.addr.port().to_string();
    let out = run("kdig", &[&at, "-p", &port, "many.test.", "IXFR=8"]);
    let records: Vec<&str> = out
        .lines()
        .filter(|l| !l.starts_with(';') && !l.trim().is_empty())
        .collect();
    assert_eq!(records.len(), 1, "{out}");
    assert!(
        records[0].contains("SOA") && records[0].contains(" 8 "),
        "{out}"
    );
    assert!(zc.process.wait_for_log(
        "[many.test.] IXFR (our SOA alone) to 127.0.0.1:",
        Duration::from_secs(5)
    ));
}

/// Over UDP an AXFR gets NOTIMP (RFC 5936 §4.2), even from a client that
/// may transfer the zone over TCP.
#[test]
fn axfr_over_udp_is_not_implemented() {
    let zc = Zonecast::start(
        "",
        "[[zone]]\nname = \"types.test.\"\nfile = \"types.zone\"\nallow_transfer = [\"127.0.0.1\"]\n",
        &[("types.zone", TYPES)],
    );
    let q = build_query(0x1234, "types.test.", 252, 1, None);
    let r = parse(&udp(zc.addr, &q, Duration::from_secs(3)).expect("an answer over UDP"));
    assert_eq!(rcode(&r), 4, "NOTIMP");
    assert!(r.answers.is_empty());
}
