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
    // One RRset of about 33 KiB: it goes out split across messages.
    let mut fat = String::from(
        "$ORIGIN fat.test.\n$TTL 300\n@ SOA ns hostmaster 3 3600 600 604800 300\n@ NS ns\nns A 192.0.2.1\n",
    );
    for i in 0..300 {
        fat.push_str(&format!("big TXT \"{i:03}{}\"\n", "y".repeat(96)));
    }
    let mut zc = Zonecast::start(
        "",
        "[[zone]]\nname = \"types.test.\"\nfile = \"types.zone\"\nallow_transfer = [\"127.0.0.1\"]\n\
         [[zone]]\nname = \"many.test.\"\nfile = \"many.zone\"\nallow_transfer = [\"127.0.0.0/30\", \"::1\"]\n\
         [[zone]]\nname = \"closed.test.\"\nfile = \"many.zone\"\n\
         [[zone]]\nname = \"fat.test.\"\nfile = \"fat.zone\"\nallow_transfer = [\"127.0.0.1\"]\n",
        &[
            ("types.zone", TYPES),
            ("many.zone", &many),
            ("fat.zone", &fat),
        ],
    );
    let knot = Knot::start(
        "",
        &format!(
            "remote:\n  - id: zonecast\n    address: {}@{}\n\
             acl:\n  - id: out\n    address: 127.0.0.0/8\n    action: transfer\n\
             zone:\n  - domain: types.test.\n    master: zonecast\n    acl: out\n    zonefile-sync: -1\n\
             \x20 - domain: many.test.\n    master: zonecast\n    acl: out\n    zonefile-sync: -1\n\
             \x20 - domain: fat.test.\n    master: zonecast\n    acl: out\n    zonefile-sync: -1\n",
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
    assert!(
        wait_until(Duration::from_secs(20), || {
            let (l, _) = axfr_lines(knot.addr, "fat.test.", None);
            l.len() == 303
        }),
        "Knot did not load fat.test. from zonecast:\n{}",
        knot.process.log()
    );
    let log = zc.process.log();
    let fat_line = log
        .lines()
        .find(|l| l.contains("[fat.test.] AXFR to 127.0.0.1:"))
        .unwrap_or_else(|| panic!("{log}"));
    let messages: usize = fat_line
        .rsplit(" in ")
        .next()
        .and_then(|w| w.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(
        messages >= 3,
        "the 33 KiB RRset in several messages: {fat_line}"
    );
    for zone in ["types.test.", "many.test.", "fat.test."] {
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

/// The zone of the IXFR chain below at `serial`: one record per version
/// added, one changed, so every version differs from the one before.
fn chain_zone(serial: u32) -> String {
    let mut text = format!(
        "$ORIGIN chain.test.\n$TTL 300\n@ SOA ns hostmaster {serial} 3600 1 600 60\n@ NS ns\nns A 192.0.2.1\n\
         www A 192.0.2.{serial}\n"
    );
    for i in 0..300 {
        text.push_str(&format!("h{i} A 198.18.1.{}\n", i % 250));
    }
    for s in 2..=serial {
        text.push_str(&format!("v{s} TXT \"version {s}\"\n"));
    }
    text
}

/// The serial `server` answers for chain.test., if it answers.
fn chain_serial(server: std::net::SocketAddr) -> Option<u32> {
    let q = build_query(9, "chain.test.", 6, 1, None);
    let r = parse(&udp(server, &q, Duration::from_millis(500))?);
    r.answers.iter().find_map(|a| match a.data {
        hickory_proto::rr::RData::SOA(ref s) => Some(s.serial),
        _ => None,
    })
}

/// How many times `needle` is in `text`.
fn count(text: &str, needle: &str) -> usize {
    text.matches(needle).count()
}

/// Issue 11, step 2: a Knot primary feeds zonecast by IXFR; zonecast
/// keeps the changes it applied and feeds them on by IXFR to a Knot
/// secondary and a zonecast secondary (RFC 1995 §4), from its journal on
/// disk after a restart too; a client older than the journal reaches gets
/// the zone AXFR-style. At each step all four serve the same records.
#[test]
fn changes_reach_knot_and_zonecast_secondaries_by_ixfr_from_our_journal() {
    let zc_port = free_port();
    let primary = Knot::start(
        "",
        &format!(
            "remote:\n  - id: zc\n    address: 127.0.0.1@{zc_port}\n\
             acl:\n  - id: xfr\n    address: 127.0.0.0/8\n    action: transfer\n\
             zone:\n  - domain: chain.test.\n    notify: zc\n    acl: xfr\n    journal-content: all\n    zonefile-load: difference\n"
        ),
        &[("chain.test.zone", &chain_zone(1))],
        "chain.test.",
    );
    // The hub NOTIFYs the zonecast edge of each version it takes; the
    // Knot edge refreshes when told to by the test.
    let edge_port = free_port();
    let hub_config = format!(
        "[server]\nlisten = [\"127.0.0.1:{zc_port}\"]\nworkers = 2\n\
         [transfer]\njournal_max_depth = 3\n\
         [[zone]]\nname = \"chain.test.\"\nfile = \"chain.zone\"\nprimaries = [\"{}\"]\nallow_transfer = [\"127.0.0.0/8\"]\n\
         notify = [\"127.0.0.1:{edge_port}\"]\n",
        primary.addr
    );
    let mut hub = Zonecast::start_with_config(tempfile::tempdir().unwrap(), &hub_config);
    assert!(
        wait_until(Duration::from_secs(20), || chain_serial(hub.addr)
            == Some(1)),
        "{}",
        hub.process.log()
    );
    let edge = Knot::start(
        "",
        &format!(
            "remote:\n  - id: hub\n    address: {}@{}\n\
             acl:\n  - id: from-hub\n    address: 127.0.0.0/8\n    action: [notify, transfer]\n\
             zone:\n  - domain: chain.test.\n    master: hub\n    acl: from-hub\n    zonefile-sync: -1\n    journal-content: changes\n",
            hub.addr.ip(),
            hub.addr.port()
        ),
        &[],
        "chain.test.",
    );
    // A zonecast edge, told of each version by the hub's NOTIFY (its own
    // refresh is an hour away).
    let mut zc_edge = Zonecast::start_with_config(
        tempfile::tempdir().unwrap(),
        &format!(
            "[server]\nlisten = [\"127.0.0.1:{edge_port}\"]\nworkers = 2\n\
             [[zone]]\nname = \"chain.test.\"\nfile = \"chain.zone\"\nprimaries = [\"{}\"]\nallow_transfer = [\"127.0.0.1\"]\n",
            hub.addr
        ),
    );
    let all_at = |serial: u32| {
        wait_until(Duration::from_secs(20), || {
            [primary.addr, hub.addr, zc_edge.addr]
                .iter()
                .all(|a| chain_serial(*a) == Some(serial))
                && {
                    // Knot takes the change when asked to refresh.
                    if chain_serial(edge.addr) != Some(serial) {
                        edge.knotc(&["zone-refresh", "chain.test."]);
                        std::thread::sleep(Duration::from_millis(200));
                    }
                    chain_serial(edge.addr) == Some(serial)
                }
        })
    };
    let same_everywhere = |serial: u32, hub: &Zonecast, zc_edge: &Zonecast| {
        let (reference, raw) = axfr_lines(primary.addr, "chain.test.", None);
        assert_eq!(reference.len(), 304 + serial as usize - 1, "{raw}");
        for (who, addr) in [
            ("hub", hub.addr),
            ("Knot edge", edge.addr),
            ("zonecast edge", zc_edge.addr),
        ] {
            let (lines, raw) = axfr_lines(addr, "chain.test.", None);
            let first_difference = lines.iter().zip(&reference).find(|(a, b)| a != b);
            assert!(
                lines.len() == reference.len() && first_difference.is_none(),
                "{who} at serial {serial}: {} records, {} at the primary; first difference {first_difference:?}\n{}",
                lines.len(),
                reference.len(),
                raw.lines().take(8).collect::<Vec<_>>().join("\n")
            );
        }
    };
    assert!(
        all_at(1),
        "first sync:\n{}\n{}",
        edge.process.log(),
        hub.process.log()
    );
    same_everywhere(1, &hub, &zc_edge);

    // One change: the primary's IXFR to the hub, the hub's to both edges.
    let update = |serial: u32, hub: &Zonecast| {
        write_atomically(
            &primary.dir.path().join("chain.test.zone"),
            &chain_zone(serial),
            None,
        );
        primary.knotc_ok(&["-b", "zone-reload", "chain.test."]);
        assert!(
            wait_until(Duration::from_secs(20), || chain_serial(hub.addr)
                == Some(serial)),
            "the hub did not take serial {serial}:\n{}",
            hub.process.log()
        );
    };
    update(2, &hub);
    assert!(all_at(2), "{}\n{}", edge.process.log(), hub.process.log());
    same_everywhere(2, &hub, &zc_edge);
    let hub_log = hub.process.log();
    assert!(
        hub_log.contains("IXFR from") && hub_log.contains("serial 1 -> 2"),
        "{hub_log}"
    );
    assert!(
        hub_log.contains("[chain.test.] IXFR (the changes from the journal) to 127.0.0.1:"),
        "{hub_log}"
    );
    let edge_log = edge.process.log();
    assert!(edge_log.contains("IXFR, incoming"), "{edge_log}");
    assert!(!edge_log.contains("AXFR-style"), "{edge_log}");
    assert!(
        zc_edge
            .process
            .wait_for_log("IXFR from", Duration::from_secs(5))
    );
    assert!(
        zc_edge
            .process
            .log()
            .contains(&format!("IXFR from {}: serial 1 -> 2", hub.addr)),
        "{}",
        zc_edge.process.log()
    );
    assert!(
        hub.process.wait_for_log(
            &format!("[chain.test.] NOTIFY to 127.0.0.1:{edge_port}: serial 2, answered after"),
            Duration::from_secs(5)
        ),
        "{}",
        hub.process.log()
    );

    // Two changes while the Knot edge is not told: one IXFR carries both.
    let edge_ixfrs = count(&edge.process.log(), "IXFR, incoming");
    update(3, &hub);
    update(4, &hub);
    assert!(all_at(4), "{}", edge.process.log());
    same_everywhere(4, &hub, &zc_edge);
    assert!(count(&edge.process.log(), "IXFR, incoming") > edge_ixfrs);
    assert!(
        !edge.process.log().contains("AXFR-style"),
        "{}",
        edge.process.log()
    );

    // The hub restarts: its journal comes back from disk with its copy.
    update(5, &hub);
    assert!(
        wait_until(Duration::from_secs(20), || chain_serial(zc_edge.addr)
            == Some(5)),
        "{}",
        zc_edge.process.log()
    );
    hub.process.terminate();
    let dir = hub.dir;
    assert!(dir.path().join("chain.zone.journal").exists());
    let mut hub = Zonecast::start_with_config(dir, &hub_config);
    assert!(wait_until(Duration::from_secs(10), || chain_serial(
        hub.addr
    ) == Some(5)));
    let before = count(&edge.process.log(), "IXFR, incoming");
    assert!(all_at(5), "{}\n{}", edge.process.log(), hub.process.log());
    assert!(count(&edge.process.log(), "IXFR, incoming") > before);
    assert!(
        !edge.process.log().contains("AXFR-style"),
        "{}",
        edge.process.log()
    );
    assert!(
        hub.process.wait_for_log(
            "[chain.test.] IXFR (the changes from the journal) to 127.0.0.1:",
            Duration::from_secs(5)
        ),
        "{}",
        hub.process.log()
    );
    same_everywhere(5, &hub, &zc_edge);

    // Four changes behind a journal of three: the Knot edge, at 5, gets
    // the zone AXFR-style (RFC 1995 §4) and serves it all the same.
    for s in 6..=9 {
        update(s, &hub);
    }
    assert!(all_at(9), "{}\n{}", edge.process.log(), hub.process.log());
    same_everywhere(9, &hub, &zc_edge);
    assert!(
        hub.process.wait_for_log(
            "[chain.test.] IXFR (the whole zone, AXFR-style) to 127.0.0.1:",
            Duration::from_secs(5)
        ),
        "{}",
        hub.process.log()
    );
    assert!(
        edge.process.log().contains("AXFR-style"),
        "{}",
        edge.process.log()
    );
    zc_edge.process.terminate();
}

const SECRET: &str = "c2VjcmV0LWtleS1mb3ItdGVzdHMtb25seS0wMTIzNDU2Nzg5";
const WRONG: &str = "b3RoZXIta2V5LWZvci10ZXN0cy1vbmx5LTAxMjM0NTY3ODk=";

/// The zone of the signed-transfer test at `serial`.
fn signed_zone(apex: &str, serial: u32) -> String {
    let mut text = format!(
        "$ORIGIN {apex}\n$TTL 300\n@ SOA ns hostmaster {serial} 3600 600 604800 300\n@ NS ns\nns A 192.0.2.1\n"
    );
    for i in 0..400 {
        text.push_str(&format!("h{i} TXT \"host {i} at {serial}\"\n"));
    }
    text
}

/// kdig's AXFR of `zone` from `server`, signed with `secret` if given.
fn kdig_axfr(server: std::net::SocketAddr, zone: &str, secret: Option<&str>) -> String {
    let at = format!("@{}", server.ip());
    let port = server.port().to_string();
    let key = secret.map(|s| format!("hmac-sha256:xfr-key:{s}"));
    let mut args = vec![at.as_str(), "-p", port.as_str(), zone, "AXFR"];
    if let Some(k) = &key {
        args.extend(["-y", k.as_str()]);
    }
    let done = std::process::Command::new(tool("kdig"))
        .args(&args)
        .output()
        .unwrap();
    String::from_utf8_lossy(&done.stdout).into_owned() + &String::from_utf8_lossy(&done.stderr)
}

/// Issue 11, step 3: a zone with `transfer_key` goes out only to requests
/// signed with that key, every message signed (RFC 8945 §5.3.1), to a
/// Knot, a BIND and a zonecast secondary holding the key; BIND takes an
/// unsigned zone too; requests unsigned or signed with another secret
/// get NOTAUTH.
#[test]
fn signed_transfers_reach_knot_bind_and_zonecast_secondaries() {
    let mut hub = Zonecast::start(
        &format!(
            "[[key]]\nname = \"xfr-key\"\nalgorithm = \"hmac-sha256\"\nsecret = \"{SECRET}\"\n"
        ),
        "[[zone]]\nname = \"signed.test.\"\nfile = \"signed.zone\"\nallow_transfer = [\"127.0.0.0/8\"]\ntransfer_key = \"xfr-key\"\n\
         [[zone]]\nname = \"open.test.\"\nfile = \"open.zone\"\nallow_transfer = [\"127.0.0.0/8\"]\n",
        &[
            ("signed.zone", &signed_zone("signed.test.", 1)),
            ("open.zone", &signed_zone("open.test.", 1)),
        ],
    );
    let hub_at = format!("{}@{}", hub.addr.ip(), hub.addr.port());
    let knot = Knot::start(
        "",
        &format!(
            "key:\n  - id: xfr-key\n    algorithm: hmac-sha256\n    secret: {SECRET}\n\
             remote:\n  - id: hub\n    address: {hub_at}\n    key: xfr-key\n\
             acl:\n  - id: out\n    address: 127.0.0.0/8\n    action: transfer\n\
             zone:\n  - domain: signed.test.\n    master: hub\n    acl: out\n    zonefile-sync: -1\n"
        ),
        &[],
        "signed.test.",
    );
    let bind = Bind::start(
        &format!(
            "key \"xfr-key\" {{ algorithm hmac-sha256; secret \"{SECRET}\"; }};\n\
             zone \"signed.test\" {{ type secondary; primaries {{ {} port {} key \"xfr-key\"; }}; file \"signed.bk\"; }};\n\
             zone \"open.test\" {{ type secondary; primaries {{ {} port {}; }}; file \"open.bk\"; }};\n",
            hub.addr.ip(),
            hub.addr.port(),
            hub.addr.ip(),
            hub.addr.port()
        ),
        "",
        &[(
            "ready.test.zone",
            "$TTL 60\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\n",
        )],
    );
    let mut edge = Zonecast::start(
        &format!(
            "[[key]]\nname = \"xfr-key\"\nalgorithm = \"hmac-sha256\"\nsecret = \"{SECRET}\"\n"
        ),
        &format!(
            "[[zone]]\nname = \"signed.test.\"\nfile = \"signed.zone\"\nprimaries = [\"{}\"]\ntsig_key = \"xfr-key\"\n",
            hub.addr
        ),
        &[],
    );
    let txt = |server, name: &str| {
        let q = build_query(5, name, 16, 1, None);
        udp(server, &q, Duration::from_millis(500))
            .map(|r| lines(&parse(&r).answers).join("\n"))
            .unwrap_or_default()
    };
    let want = " at 1";
    for (who, server, zone) in [
        ("Knot", knot.addr, "signed.test."),
        ("BIND", bind.addr, "signed.test."),
        ("BIND", bind.addr, "open.test."),
        ("zonecast", edge.addr, "signed.test."),
    ] {
        let name = format!("h399.{zone}");
        assert!(
            wait_until(Duration::from_secs(20), || txt(server, &name)
                .contains(want)),
            "{who} did not take {zone} from zonecast: {:?}\n{}\n{}\n{}",
            txt(server, &name),
            hub.process.log(),
            bind.process.log(),
            edge.process.log()
        );
    }
    // Every record came: the secondaries' copies are the hub's.
    let (ours, raw) = axfr_lines(hub.addr, "open.test.", None);
    assert_eq!(ours.len(), 403, "open.test. goes unsigned: {raw}");
    let ours = kdig_axfr(hub.addr, "signed.test.", Some(SECRET));
    let theirs = kdig_axfr(knot.addr, "signed.test.", None);
    let records = |out: &str| {
        let mut v: Vec<String> = out
            .lines()
            .filter(|l| !l.starts_with(';') && !l.trim().is_empty() && !l.contains("TSIG"))
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        v.sort();
        v
    };
    assert_eq!(records(&ours).len(), 404, "{ours}");
    assert_eq!(records(&ours), records(&theirs));
    assert!(
        ours.contains("TSIG") && !ours.contains("WARNING"),
        "signed and verified: {ours}"
    );
    assert!(
        edge.process.log().contains("AXFR from"),
        "{}",
        edge.process.log()
    );
    // Strangers: unsigned, or signed with another secret.
    for (secret, error) in [(None, "NOTAUTH"), (Some(WRONG), "BADSIG")] {
        let what = if secret.is_some() {
            "wrong secret"
        } else {
            "unsigned"
        };
        let out = kdig_axfr(hub.addr, "signed.test.", secret);
        assert!(out.contains(&format!("error '{error}'")), "{what}: {out}");
        assert!(!out.contains("h399"), "{what}: {out}");
    }
    // A new version: Knot's signed IXFR gets it (AXFR-style: a zone
    // from a file has no journal).
    std::fs::write(
        hub.dir.path().join("signed.zone"),
        signed_zone("signed.test.", 2),
    )
    .unwrap();
    hub.process.signal(libc::SIGHUP);
    assert!(wait_until(Duration::from_secs(10), || txt(
        hub.addr,
        "h1.signed.test."
    )
    .contains(" at 2")));
    knot.knotc_ok(&["zone-refresh", "signed.test."]);
    assert!(
        wait_until(Duration::from_secs(20), || txt(
            knot.addr,
            "h1.signed.test."
        )
        .contains(" at 2")),
        "{}\n{}",
        knot.process.log(),
        hub.process.log()
    );
    assert!(hub.process.wait_for_log(
        "[signed.test.] IXFR (the whole zone, AXFR-style) to 127.0.0.1:",
        Duration::from_secs(5)
    ));
    edge.process.terminate();
}

/// A client that asks AXFR and then reads nothing holds a slot only until
/// the TCP I/O timeout cuts it off (zonecast keeps a bounded queue for it
/// meanwhile, not the zone); while it does, the one slot of
/// `transfers_out = 1` is taken and another client gets REFUSED; after
/// it, the next transfer runs whole.
#[test]
fn a_client_that_stops_reading_is_cut_off_and_frees_its_slot() {
    use std::io::{Read, Write};
    let mut text = String::from(
        "$ORIGIN big.test.\n$TTL 300\n@ SOA ns hostmaster 7 3600 600 604800 300\n@ NS ns\nns A 192.0.2.1\n",
    );
    for i in 0..40_000 {
        text.push_str(&format!(
            "h{i} TXT \"a record of some length, number {i}, to fill the transfer\"\n"
        ));
    }
    let metrics = free_port();
    let mut zc = Zonecast::start(
        // The I/O timeout leaves room for a busy machine to ask the
        // second transfer while the first still holds the slot (at 500 ms
        // a clean clone's run once found it freed already).
        &format!(
            "tcp_io_timeout_ms = 3000\ntransfers_out = 1\nmetrics = \"127.0.0.1:{metrics}\"\n"
        ),
        "[[zone]]\nname = \"big.test.\"\nfile = \"big.zone\"\nallow_transfer = [\"127.0.0.1\"]\n",
        &[("big.zone", &text)],
    );
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    sock.set_recv_buffer_size(4096).unwrap();
    sock.connect(&zc.addr.into()).unwrap();
    let mut stalled: std::net::TcpStream = sock.into();
    let q = build_query(0x5151, "big.test.", 252, 1, None);
    let mut framed = (q.len() as u16).to_be_bytes().to_vec();
    framed.extend_from_slice(&q);
    stalled.write_all(&framed).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    // The only slot is taken.
    let (lines, raw) = axfr_lines(zc.addr, "big.test.", None);
    assert!(lines.is_empty() && raw.contains("REFUSED"), "{raw}");
    assert!(
        zc.process
            .wait_for_log("[big.test.] AXFR to 127.0.0.1:", Duration::from_secs(10)),
        "{}",
        zc.process.log()
    );
    let log = zc.process.log();
    let cut = log
        .lines()
        .find(|l| l.contains("[big.test.] AXFR to 127.0.0.1:"))
        .unwrap();
    assert!(
        cut.contains("cut off after")
            && cut.contains("the client took nothing within server.tcp_io_timeout_ms"),
        "{cut}"
    );
    // Then a transfer runs whole.
    let (lines, raw) = axfr_lines(zc.addr, "big.test.", None);
    assert_eq!(
        lines.len(),
        40_003,
        "{}",
        raw.lines().take(5).collect::<Vec<_>>().join("\n")
    );
    // The stalled client, reading now, finds the stream ends early.
    stalled
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut got = Vec::new();
    let _ = stalled.read_to_end(&mut got);
    let mut records = 0;
    let mut at = 0;
    while let Some(len) = got
        .get(at..at + 2)
        .map(|b| u16::from_be_bytes([b[0], b[1]]) as usize)
    {
        let Some(m) = got.get(at + 2..at + 2 + len) else {
            break;
        };
        records += parse(m).answers.len();
        at += 2 + len;
    }
    assert!(
        records > 0 && records < 40_004,
        "{records} records reached the stalled client"
    );
    // The metrics count what happened: one AXFR cut short, one whole, one
    // request refused for the limit.
    let page = {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(("127.0.0.1", metrics)).unwrap();
        s.write_all(b"GET /metrics HTTP/1.0\r\n\r\n").unwrap();
        let mut t = String::new();
        s.read_to_string(&mut t).unwrap();
        t
    };
    for line in [
        "zonecast_transfers_out_total{kind=\"AXFR\",result=\"done\"} 1\n",
        "zonecast_transfers_out_total{kind=\"AXFR\",result=\"failed\"} 1\n",
        "zonecast_transfer_requests_refused_total 1\n",
        "zonecast_tcp_connections_timed_out_total 1\n",
    ] {
        assert!(page.contains(line), "{line}{page}");
    }
}

/// Issue 11, step 4: each new version of a zone goes by NOTIFY (RFC 1996)
/// to the secondaries its `notify` names, signed with its transfer key: a
/// Knot and a zonecast secondary (whose SOA REFRESH is an hour) take it at
/// once; one that never answers gets the same NOTIFY again (§3.6).
#[test]
fn new_versions_are_notified_to_knot_and_zonecast_secondaries() {
    let hub_port = free_port();
    let knot_port = free_port();
    let edge_port = free_port();
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    silent
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let silent_addr = silent.local_addr().unwrap();
    let zone = |serial: u32| {
        format!(
            "$ORIGIN notified.test.\n$TTL 300\n@ SOA ns hostmaster {serial} 3600 600 604800 300\n@ NS ns\nns A 192.0.2.1\nwww A 192.0.2.{serial}\n"
        )
    };
    let key = format!(
        "[[key]]\nname = \"xfr-key\"\nalgorithm = \"hmac-sha256\"\nsecret = \"{SECRET}\"\n"
    );
    let hub_dir = tempfile::tempdir().unwrap();
    std::fs::write(hub_dir.path().join("notified.zone"), zone(1)).unwrap();
    let mut hub = Zonecast::start_with_config(
        hub_dir,
        &format!(
            "[server]\nlisten = [\"127.0.0.1:{hub_port}\"]\nworkers = 2\n{key}\
             [[zone]]\nname = \"notified.test.\"\nfile = \"notified.zone\"\nallow_transfer = [\"127.0.0.0/8\"]\n\
             transfer_key = \"xfr-key\"\nnotify = [\"127.0.0.1:{knot_port}\", \"127.0.0.1:{edge_port}\", \"{silent_addr}\"]\n"
        ),
    );
    let knot = Knot::start_on(
        Some(knot_port),
        "",
        &format!(
            "key:\n  - id: xfr-key\n    algorithm: hmac-sha256\n    secret: {SECRET}\n\
             remote:\n  - id: hub\n    address: 127.0.0.1@{hub_port}\n    key: xfr-key\n\
             acl:\n  - id: from-hub\n    address: 127.0.0.0/8\n    key: xfr-key\n    action: notify\n\
             zone:\n  - domain: notified.test.\n    master: hub\n    acl: from-hub\n    zonefile-sync: -1\n"
        ),
        &[],
        "notified.test.",
    );
    let mut edge = Zonecast::start_with_config(
        tempfile::tempdir().unwrap(),
        &format!(
            "[server]\nlisten = [\"127.0.0.1:{edge_port}\"]\nworkers = 2\n{key}\
             [[zone]]\nname = \"notified.test.\"\nfile = \"notified.zone\"\nprimaries = [\"127.0.0.1:{hub_port}\"]\ntsig_key = \"xfr-key\"\n"
        ),
    );
    let serial_of = |server| {
        let q = build_query(3, "notified.test.", 6, 1, None);
        udp(server, &q, Duration::from_millis(300)).and_then(|r| {
            parse(&r).answers.iter().find_map(|a| match a.data {
                hickory_proto::rr::RData::SOA(ref s) => Some(s.serial),
                _ => None,
            })
        })
    };
    for (who, addr) in [("Knot", knot.addr), ("zonecast", edge.addr)] {
        assert!(
            wait_until(Duration::from_secs(20), || serial_of(addr) == Some(1)),
            "{who} at serial 1?\n{}",
            hub.process.log()
        );
    }
    // A new version on the hub: both secondaries take it, told by NOTIFY
    // alone (their refresh is an hour away).
    std::fs::write(hub.dir.path().join("notified.zone"), zone(2)).unwrap();
    hub.process.signal(libc::SIGHUP);
    for (who, addr) in [("Knot", knot.addr), ("zonecast", edge.addr)] {
        assert!(
            wait_until(Duration::from_secs(10), || serial_of(addr) == Some(2)),
            "{who} did not take serial 2:\n{}\n{}\n{}",
            hub.process.log(),
            knot.process.log(),
            edge.process.log()
        );
    }
    assert!(
        knot.process
            .log()
            .contains("notify, incoming, remote 127.0.0.1@"),
        "{}",
        knot.process.log()
    );
    assert!(
        edge.process
            .log()
            .contains("NOTIFY from 127.0.0.1 with serial 2"),
        "{}",
        edge.process.log()
    );
    for port in [knot_port, edge_port] {
        assert!(
            hub.process.wait_for_log(
                &format!("[notified.test.] NOTIFY to 127.0.0.1:{port}: serial 2, answered after"),
                Duration::from_secs(5)
            ),
            "{}",
            hub.process.log()
        );
    }
    // The silent one hears the NOTIFY of serial 2 again and again, signed.
    let mut ids = Vec::new();
    let end = std::time::Instant::now() + Duration::from_secs(10);
    let mut buf = [0u8; 2048];
    while ids.len() < 3 && std::time::Instant::now() < end {
        let Ok((n, _)) = silent.recv_from(&mut buf) else {
            continue;
        };
        let m = parse(&buf[..n]);
        assert_eq!(m.metadata.op_code, hickory_proto::op::OpCode::Notify);
        assert!(
            m.signature.is_some() || buf[..n].windows(7).any(|w| w == b"xfr-key"),
            "signed"
        );
        if m.answers
            .iter()
            .any(|a| matches!(a.data, hickory_proto::rr::RData::SOA(ref s) if s.serial == 2))
        {
            ids.push(m.metadata.id);
        }
    }
    assert!(ids.len() >= 3, "{ids:?}");
    assert!(
        ids.iter().all(|i| *i == ids[0]),
        "one NOTIFY, sent again: {ids:?}"
    );
    edge.process.terminate();
}

/// A transfer that overlaps a new version (RFC 5936 §4.1.3 asks for one
/// consistent version): a client reads the first message of an AXFR,
/// the zone is replaced and served at its new serial, then the client
/// reads the rest: every message is of the version it started on.
#[test]
fn a_transfer_overlapping_a_new_version_carries_the_old_one_whole() {
    use std::io::Write;
    let zone = |serial: u32| {
        let mut text = format!(
            "$ORIGIN overlap.test.\n$TTL 300\n@ SOA ns hostmaster {serial} 3600 600 604800 300\n@ NS ns\nns A 192.0.2.1\n"
        );
        for i in 0..100_000 {
            text.push_str(&format!("h{i} TXT \"version {serial}, record {i}\"\n"));
        }
        text
    };
    let zc = Zonecast::start(
        "",
        "[[zone]]\nname = \"overlap.test.\"\nfile = \"overlap.zone\"\nallow_transfer = [\"127.0.0.1\"]\n",
        &[("overlap.zone", &zone(1))],
    );
    // A small receive window, and a zone larger than the kernel's
    // buffers: zonecast is still making messages when the new version
    // comes.
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    sock.set_recv_buffer_size(4096).unwrap();
    sock.connect(&zc.addr.into()).unwrap();
    let mut s: std::net::TcpStream = sock.into();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let q = build_query(0x0a0a, "overlap.test.", 252, 1, None);
    let mut framed = (q.len() as u16).to_be_bytes().to_vec();
    framed.extend_from_slice(&q);
    s.write_all(&framed).unwrap();
    let first = read_frame(&mut s).expect("a first message");
    let mut answers = parse(&first).answers;
    // The new version, served to everyone else meanwhile.
    std::fs::write(zc.dir.path().join("overlap.zone"), zone(2)).unwrap();
    zc.process.signal(libc::SIGHUP);
    let soa_serial = |addr| {
        let q = build_query(1, "overlap.test.", 6, 1, None);
        udp(addr, &q, Duration::from_millis(500)).and_then(|r| {
            parse(&r).answers.iter().find_map(|a| match a.data {
                hickory_proto::rr::RData::SOA(ref s) => Some(s.serial),
                _ => None,
            })
        })
    };
    assert!(
        wait_until(Duration::from_secs(20), || soa_serial(zc.addr) == Some(2)),
        "{}",
        zc.process.log()
    );
    while let Some(m) = read_frame(&mut s) {
        let m = parse(&m);
        let done = m
            .answers
            .last()
            .is_some_and(|a| matches!(a.data, hickory_proto::rr::RData::SOA(_)))
            && !answers.is_empty();
        answers.extend(m.answers);
        if done {
            break;
        }
    }
    assert_eq!(answers.len(), 100_000 + 4, "the whole zone, the SOA twice");
    // The transfer ended after the new version was in place.
    let log = zc.process.log();
    let reloaded = log.find("reloaded ").expect("a reload line");
    let ended = log
        .find("[overlap.test.] AXFR to 127.0.0.1:")
        .expect("the transfer's line");
    assert!(
        ended > reloaded,
        "the transfer overlapped the new version:\n{log}"
    );
    assert!(log.contains("serial 1, 100004 records"), "{log}");
    let serials: Vec<u32> = answers
        .iter()
        .filter_map(|a| match a.data {
            hickory_proto::rr::RData::SOA(ref s) => Some(s.serial),
            _ => None,
        })
        .collect();
    assert_eq!(serials, [1, 1]);
    let newer = answers
        .iter()
        .filter(|a| a.data.to_string().contains("version 2"))
        .count();
    assert_eq!(newer, 0, "nothing of version 2 in a transfer of version 1");
}
