//! zonecast as a secondary of a real Knot DNS primary on loopback: AXFR,
//! IXFR after NOTIFY, fallbacks, TSIG, failures of the primary, load
//! during transfers, restarts and expiry.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::*;

const APEX: &str = "example.com.";
const SECRET: &str = "Zm9yIHpvbmVjYXN0IHRlc3RzIG9ubHkgLSBub3QgYSByZWFsIHNlY3JldA==";
const OTHER_SECRET: &str = "YW5vdGhlciBzZWNyZXQgZW50aXJlbHkgLSBmb3IgdGVzdHM=";

/// Zone text with the given serial and SOA timers.
fn zone_text(serial: u32, timers: (u32, u32, u32), body: &str) -> String {
    let (refresh, retry, expire) = timers;
    format!(
        "$TTL 300\n@ SOA ns1 hm {serial} {refresh} {retry} {expire} 60\n@ NS ns1\nns1 A 192.0.2.53\n{body}"
    )
}

const SLOW: (u32, u32, u32) = (3600, 600, 86400);

/// `[transfer]` for tests whose proxy faults a given connection: one
/// connection per refresh, none kept for the next.
const ONE_CONNECTION_EACH: &str = "connection_keep_ms = 0";

struct Tsig<'a> {
    algorithm: &'a str,
    secret: &'a str,
}

/// Starts Knot as the primary of example.com, sending NOTIFY to
/// `notify_port`, with transfers open to loopback (and a key, if given).
fn primary(zone: &str, notify_port: u16, key: Option<&Tsig<'_>>, zone_opts: &str) -> Knot {
    primary_with_acl(None, zone, notify_port, key, zone_opts, "127.0.0.0/8")
}

/// The same, on a given port (to restart a primary where its
/// secondaries expect it).
fn primary_on(
    port: Option<u16>,
    zone: &str,
    notify_port: u16,
    key: Option<&Tsig<'_>>,
    zone_opts: &str,
) -> Knot {
    primary_with_acl(port, zone, notify_port, key, zone_opts, "127.0.0.0/8")
}

/// The same, letting only `acl` (an address or prefix) transfer.
fn primary_with_acl(
    port: Option<u16>,
    zone: &str,
    notify_port: u16,
    key: Option<&Tsig<'_>>,
    zone_opts: &str,
    acl: &str,
) -> Knot {
    let key_yaml = key.map_or(String::new(), |k| {
        format!(
            "key:\n  - id: xfr-key\n    algorithm: {}\n    secret: {}\n",
            k.algorithm, k.secret
        )
    });
    let key_ref = if key.is_some() {
        "\n    key: xfr-key"
    } else {
        ""
    };
    let rest = format!(
        "{key_yaml}remote:\n  - id: zc\n    address: 127.0.0.1@{notify_port}{key_ref}\n\
         acl:\n  - id: xfr\n    address: {acl}\n    action: transfer{key_ref}\n\
         zone:\n  - domain: example.com\n    notify: zc\n    acl: xfr\n    journal-content: all\n    zonefile-load: difference\n{zone_opts}"
    );
    Knot::start_on(port, "", &rest, &[("example.com.zone", zone)], APEX)
}

/// Changes the primary's zone file and has Knot load it (and NOTIFY),
/// waiting until the load is done (`-b`), so that the next change never
/// rewrites a file Knot is still reading.
fn update(knot: &Knot, zone: &str) {
    write_atomically(&knot.dir.path().join("example.com.zone"), zone, None);
    knot.knotc_ok(&["-b", "zone-reload", "example.com"]);
}

/// zonecast as the secondary, in `dir` (kept across restarts); `extra`
/// goes in `[transfer]`.
fn secondary(
    dir: tempfile::TempDir,
    port: u16,
    primary: SocketAddr,
    key: Option<&Tsig<'_>>,
    extra: &str,
) -> Zonecast {
    secondary_of(dir, port, &[primary], key, extra, "")
}

/// The same with several primaries, and `zone_extra` lines in `[[zone]]`.
fn secondary_of(
    dir: tempfile::TempDir,
    port: u16,
    primaries: &[SocketAddr],
    key: Option<&Tsig<'_>>,
    extra: &str,
    zone_extra: &str,
) -> Zonecast {
    let (key_toml, key_ref) = match key {
        Some(k) => (
            format!(
                "[[key]]\nname = \"xfr-key\"\nalgorithm = \"{}\"\nsecret = \"{}\"\n",
                k.algorithm, k.secret
            ),
            "tsig_key = \"xfr-key\"\n",
        ),
        None => (String::new(), ""),
    };
    let list: Vec<String> = primaries.iter().map(|p| format!("\"{p}\"")).collect();
    let config = format!(
        "[server]\nlisten = [\"127.0.0.1:{port}\"]\nworkers = 2\nidentity = \"node-1\"\nversion = \"test-version\"\n\
         [transfer]\nio_timeout_ms = 2000\nconnect_timeout_ms = 1000\n{extra}\n{key_toml}\
         [[zone]]\nname = \"{APEX}\"\nfile = \"example.com.zone\"\nprimaries = [{}]\n{key_ref}{zone_extra}",
        list.join(", ")
    );
    Zonecast::start_with_config(dir, &config)
}

/// zonecast as the secondary of the primary behind `proxy`, one
/// connection per refresh so each meets the proxy's next fault.
fn secondary_via(proxy: &FaultProxy, port: u16) -> Zonecast {
    secondary(
        tempfile::tempdir().unwrap(),
        port,
        proxy.addr,
        None,
        ONE_CONNECTION_EACH,
    )
}

/// The SOA serial zonecast serves, if it answers NOERROR.
fn serial(addr: SocketAddr) -> Option<u32> {
    let r = udp(
        addr,
        &build_query(1, APEX, 6, 1, None),
        Duration::from_millis(300),
    )?;
    let m = parse(&r);
    if rcode(&m) != 0 {
        return None;
    }
    m.answers.iter().find_map(|rr| {
        let text = rr.data.to_string();
        text.split_whitespace().nth(2).and_then(|s| s.parse().ok())
    })
}

fn wait_serial(addr: SocketAddr, want: u32) -> bool {
    wait_until(Duration::from_secs(15), || serial(addr) == Some(want))
}

fn a_record(addr: SocketAddr, name: &str) -> Vec<String> {
    let Some(r) = udp(
        addr,
        &build_query(2, name, 1, 1, None),
        Duration::from_millis(500),
    ) else {
        return vec!["(timeout)".into()];
    };
    lines(&parse(&r).answers)
}

fn count(log: &str, needle: &str) -> usize {
    log.matches(needle).count()
}

#[test]
fn first_start_axfr_then_answers_match_knot() {
    let zone = include_str!("data/diff.test.zone").replace("diff.test.", APEX);
    let port = free_port();
    let knot = primary(&zone, port, None, "");
    let zc = secondary(tempfile::tempdir().unwrap(), port, knot.addr, None, "");
    assert!(wait_serial(zc.addr, 2026112501), "{}", zc.process.log());
    let log = zc.process.log();
    assert_eq!(count(&log, "AXFR from"), 1, "{log}");
    let mut compared = 0;
    for name in [
        "",
        "www.",
        "alias.",
        "chain1.",
        "foo.wild.",
        "host.sub.",
        "x.dn2.",
        "nx.",
        "b.c.",
        "_sip._tcp.",
        "fat.",
    ] {
        for qtype in [1u16, 28, 15, 16, 2, 6, 255, 33] {
            for tcp_ in [false, true] {
                let q = build_query(
                    9,
                    &format!("{name}{APEX}"),
                    qtype,
                    1,
                    Some(EdnsSpec::default()),
                );
                let ask = |a| {
                    if tcp_ {
                        tcp(a, &q, Duration::from_secs(2))
                    } else {
                        udp(a, &q, Duration::from_secs(2))
                    }
                };
                assert_eq!(
                    meaning(ask(knot.addr)),
                    meaning(ask(zc.addr)),
                    "{name} {qtype} tcp={tcp_}"
                );
                compared += 1;
            }
        }
    }
    assert_eq!(compared, 176);
    // The copy on disk is a zone file Knot's data round-trips through.
    // (The writer thread runs behind the transfers, at the lowest
    // priority: on a busy machine the copy comes a moment later.)
    let copy = zc.dir.path().join("example.com.zone");
    let log_written = || {
        zonecast::xfr::timers_log::read_log(zc.dir.path())
            .0
            .contains_key(std::ffi::OsStr::new("example.com.zone"))
    };
    assert!(
        wait_until(Duration::from_secs(10), || copy.exists() && log_written()),
        "no copy on disk:\n{}",
        zc.process.log()
    );
    let saved = std::fs::read_to_string(&copy).unwrap();
    assert!(
        saved.contains("www.example.com. 3600 IN A 192.0.2.80"),
        "{saved}"
    );
    // Its timers are a line in the directory's timer log.
    let (states, _) = zonecast::xfr::timers_log::read_log(zc.dir.path());
    let state = states[std::ffi::OsStr::new("example.com.zone")];
    assert_eq!(state.serial, 2026112501, "{state:?}");
    assert!(state.expires_at > state.refreshed_at, "{state:?}");
}

#[test]
fn notify_brings_ixfr_and_every_kind_of_change_applies() {
    let port = free_port();
    let knot = primary(
        &zone_text(1, SLOW, "www A 192.0.2.1\nold A 192.0.2.2\n"),
        port,
        None,
        "",
    );
    let mut zc = secondary(tempfile::tempdir().unwrap(), port, knot.addr, None, "");
    assert!(wait_serial(zc.addr, 1));
    // A change: Knot sends NOTIFY, zonecast pulls an IXFR.
    update(
        &knot,
        &zone_text(2, SLOW, "www A 192.0.2.10\nold A 192.0.2.2\n"),
    );
    assert!(wait_serial(zc.addr, 2), "{}", zc.process.log());
    assert_eq!(
        a_record(zc.addr, "www.example.com."),
        ["www.example.com. 300 IN A 192.0.2.10"]
    );
    assert!(zc.process.wait_for_log("IXFR from", Duration::from_secs(5)));
    assert!(
        zc.process
            .wait_for_log("ms after NOTIFY", Duration::from_secs(5))
    );
    let log = zc.process.log();
    let served = log
        .lines()
        .find(|l| l.contains("after NOTIFY"))
        .expect("NOTIFY-to-served time logged");
    eprintln!("NOTIFY to served: {served}");
    assert!(log.contains("serial 1 -> 2"), "{log}");
    // Nobody may transfer this zone from zonecast: it keeps no journal
    // (a fan-out node's zones, with allow_transfer, do).
    std::thread::sleep(Duration::from_millis(500));
    assert!(zc.dir.path().join("example.com.zone").exists());
    assert!(!zc.dir.path().join("example.com.zone.journal").exists());
    // Several changes in a row.
    for s in 3..=6 {
        update(
            &knot,
            &zone_text(
                s,
                SLOW,
                &format!("www A 192.0.2.{s}\nold A 192.0.2.2\nn{s} A 192.0.2.{s}\n"),
            ),
        );
    }
    assert!(wait_serial(zc.addr, 6), "{}", zc.process.log());
    assert_eq!(
        a_record(zc.addr, "n6.example.com."),
        ["n6.example.com. 300 IN A 192.0.2.6"]
    );
    assert_eq!(
        a_record(zc.addr, "n5.example.com."),
        Vec::<String>::new(),
        "n5 was removed again"
    );
    // A deletion.
    update(
        &knot,
        &zone_text(7, SLOW, "www A 192.0.2.6\nn6 A 192.0.2.6\n"),
    );
    assert!(wait_serial(zc.addr, 7));
    let r = parse(
        &udp(
            zc.addr,
            &build_query(3, "old.example.com.", 1, 1, None),
            Duration::from_secs(1),
        )
        .unwrap(),
    );
    assert_eq!(rcode(&r), 3, "deleted name is NXDOMAIN");
    // A change of nothing but the SOA serial.
    update(
        &knot,
        &zone_text(8, SLOW, "www A 192.0.2.6\nn6 A 192.0.2.6\n"),
    );
    assert!(wait_serial(zc.addr, 8));
    let log = zc.process.log();
    assert_eq!(
        count(&log, "AXFR from"),
        1,
        "only the first transfer is an AXFR:\n{log}"
    );
    assert!(count(&log, "IXFR from") >= 4, "{log}");
    // What the secondary serves equals what the primary serves.
    for name in ["www.", "n6.", "old.", "nx."] {
        let q = build_query(4, &format!("{name}{APEX}"), 1, 1, None);
        let t = Duration::from_secs(1);
        assert_eq!(
            meaning(udp(knot.addr, &q, t)),
            meaning(udp(zc.addr, &q, t)),
            "{name}"
        );
    }
    assert_eq!(zc.process.terminate(), Some(0));
}

#[test]
fn ixfr_without_history_brings_the_whole_zone() {
    // A primary that will not give diffs answers IXFR with the whole zone
    // (RFC 1995 §4); zonecast must take it.
    let port = free_port();
    let knot = primary(
        &zone_text(1, SLOW, "www A 192.0.2.1\n"),
        port,
        None,
        "    provide-ixfr: off\n",
    );
    let mut zc = secondary(tempfile::tempdir().unwrap(), port, knot.addr, None, "");
    assert!(wait_serial(zc.addr, 1));
    update(
        &knot,
        &zone_text(2, SLOW, "www A 192.0.2.2\nextra A 192.0.2.3\n"),
    );
    assert!(wait_serial(zc.addr, 2), "{}", zc.process.log());
    assert!(
        zc.process
            .wait_for_log("IXFR (AXFR-style) from", Duration::from_secs(5)),
        "{}",
        zc.process.log()
    );
    assert_eq!(
        a_record(zc.addr, "extra.example.com."),
        ["extra.example.com. 300 IN A 192.0.2.3"]
    );
}

#[test]
fn journal_gap_falls_back_to_the_whole_zone() {
    let port = free_port();
    let knot = primary(&zone_text(1, SLOW, "www A 192.0.2.1\n"), port, None, "");
    let zc = secondary(tempfile::tempdir().unwrap(), port, knot.addr, None, "");
    assert!(wait_serial(zc.addr, 1));
    // The primary comes back without any history (a fresh journal) at
    // serial 5: it has no diff from serial 1 to give.
    let knot_port = knot.addr.port();
    drop(knot);
    let knot = primary_on(
        Some(knot_port),
        &zone_text(5, SLOW, "www A 192.0.2.5\n"),
        port,
        None,
        "",
    );
    knot.knotc_ok(&["zone-notify", "example.com"]);
    assert!(wait_serial(zc.addr, 5), "{}", zc.process.log());
    assert_eq!(
        a_record(zc.addr, "www.example.com."),
        ["www.example.com. 300 IN A 192.0.2.5"]
    );
    let log = zc.process.log();
    assert!(
        log.contains("IXFR (AXFR-style) from") || log.contains("IXFR -> AXFR fallback"),
        "the whole zone came, one way or the other:\n{log}"
    );
}

#[test]
fn tsig_right_key_works_and_wrong_keys_keep_the_old_zone() {
    let port = free_port();
    let good = Tsig {
        algorithm: "hmac-sha256",
        secret: SECRET,
    };
    let knot = primary(
        &zone_text(1, SLOW, "www A 192.0.2.1\n"),
        port,
        Some(&good),
        "",
    );
    let mut zc = secondary(
        tempfile::tempdir().unwrap(),
        port,
        knot.addr,
        Some(&good),
        "",
    );
    assert!(wait_serial(zc.addr, 1), "{}", zc.process.log());
    // Knot signs its NOTIFY with the key; zonecast accepts it and pulls.
    update(&knot, &zone_text(2, SLOW, "www A 192.0.2.2\n"));
    assert!(wait_serial(zc.addr, 2), "{}", zc.process.log());
    assert!(zc.process.log().contains("IXFR from"));
    assert_eq!(zc.process.terminate(), Some(0));
    let Zonecast { dir, process, .. } = zc;
    drop(process);
    update(&knot, &zone_text(3, SLOW, "www A 192.0.2.3\n"));
    // Wrong secret, wrong algorithm, no key at all: each refresh fails and
    // the copy from disk (serial 2) keeps being served.
    let wrong_secret = Tsig {
        algorithm: "hmac-sha256",
        secret: OTHER_SECRET,
    };
    let wrong_alg = Tsig {
        algorithm: "hmac-sha512",
        secret: SECRET,
    };
    let mut dir = dir;
    // Each is named as Knot refuses it: the TSIG error or RCODE by its
    // mnemonic, the number beside it.
    for (label, key, why) in [
        (
            "wrong secret",
            Some(&wrong_secret),
            "peer answered with TSIG error BADSIG (16)",
        ),
        (
            "wrong algorithm",
            Some(&wrong_alg),
            "peer answered with TSIG error BADKEY (17)",
        ),
        ("no key", None, "primary answered with NOTAUTH (9)"),
    ] {
        // Without its timers the copy is refreshed at start (its timers
        // kept, it would wait for REFRESH).
        let _ = std::fs::remove_file(zonecast::xfr::timers_log::log_path(dir.path()));
        let mut z = secondary(dir, port, knot.addr, key, "");
        assert_eq!(serial(z.addr), Some(2), "{label}: served from disk");
        assert!(
            z.process
                .wait_for_log("refresh from", Duration::from_secs(5)),
            "{label}"
        );
        let log = z.process.log();
        assert!(log.contains("failed"), "{label}: {log}");
        assert!(log.contains(why), "{label}: {log}");
        assert_eq!(
            serial(z.addr),
            Some(2),
            "{label}: the old zone keeps serving"
        );
        assert_eq!(
            a_record(z.addr, "www.example.com."),
            ["www.example.com. 300 IN A 192.0.2.2"]
        );
        eprintln!(
            "{label}: {}",
            log.lines().find(|l| l.contains("failed")).unwrap_or("")
        );
        assert_eq!(z.process.terminate(), Some(0));
        let Zonecast {
            dir: d, process, ..
        } = z;
        drop(process);
        dir = d;
    }
    // And the right key again brings serial 3.
    let z = secondary(dir, port, knot.addr, Some(&good), "");
    assert!(wait_serial(z.addr, 3), "{}", z.process.log());
}

#[test]
fn primary_down_at_start_then_restart_serves_from_disk() {
    let port = free_port();
    let knot = primary(&zone_text(4, SLOW, "www A 192.0.2.4\n"), port, None, "");
    let mut zc = secondary(tempfile::tempdir().unwrap(), port, knot.addr, None, "");
    assert!(wait_serial(zc.addr, 4));
    let knot_addr = knot.addr;
    drop(knot);
    assert_eq!(zc.process.terminate(), Some(0));
    let Zonecast { dir, process, .. } = zc;
    drop(process);
    // Restart with the primary down: the copy on disk answers at once.
    let started = Instant::now();
    let zc = secondary(dir, port, knot_addr, None, "");
    assert_eq!(serial(zc.addr), Some(4));
    assert_eq!(
        a_record(zc.addr, "www.example.com."),
        ["www.example.com. 300 IN A 192.0.2.4"]
    );
    eprintln!(
        "served from disk {:.0} ms after start",
        started.elapsed().as_secs_f64() * 1e3
    );
    assert!(zc.process.log().contains("loaded from"));
    // The copy was confirmed just before the stop and REFRESH is an hour:
    // the restart queries no primary (Knot keeps its timers the same
    // way), so the dead one is not even tried.
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        !zc.process.log().contains("refresh from"),
        "{}",
        zc.process.log()
    );
    assert_eq!(
        serial(zc.addr),
        Some(4),
        "still serving while the primary is down"
    );
}

/// Versions missed while zonecast was down come as one IXFR of several
/// sequences; a name that one of them added and a later one deleted must
/// not exist afterwards (RFC 8020), as on the primary.
#[test]
fn missed_versions_arrive_as_one_ixfr_and_deleted_names_are_gone() {
    let port = free_port();
    let knot = primary(&zone_text(1, SLOW, "www A 192.0.2.1\n"), port, None, "");
    let mut zc = secondary(tempfile::tempdir().unwrap(), port, knot.addr, None, "");
    assert!(wait_serial(zc.addr, 1), "{}", zc.process.log());
    assert_eq!(zc.process.terminate(), Some(0));
    let Zonecast { dir, process, .. } = zc;
    drop(process);
    update(
        &knot,
        &zone_text(2, SLOW, "www A 192.0.2.1\nonly-2 A 192.0.2.2\n"),
    );
    assert!(wait_serial(knot.addr, 2), "{}", knot.process.log());
    update(
        &knot,
        &zone_text(3, SLOW, "www A 192.0.2.1\nnew A 192.0.2.3\n"),
    );
    assert!(wait_serial(knot.addr, 3), "{}", knot.process.log());

    // Back up, zonecast waits for its timers; the primary's NOTIFY brings
    // what it missed.
    let mut zc = secondary(dir, port, knot.addr, None, "");
    assert_eq!(serial(zc.addr), Some(1), "{}", zc.process.log());
    knot.knotc_ok(&["zone-notify", "example.com"]);
    assert!(wait_serial(zc.addr, 3), "{}", zc.process.log());
    assert!(
        zc.process.wait_for_log("IXFR from", Duration::from_secs(5)),
        "{}",
        zc.process.log()
    );
    let log = zc.process.log();
    assert!(log.contains("serial 1 -> 3"), "{log}");
    for name in [
        "only-2.example.com.",
        "new.example.com.",
        "www.example.com.",
    ] {
        let q = build_query(9, name, 1, 1, None);
        let theirs = meaning(udp(knot.addr, &q, Duration::from_secs(1)));
        let ours = meaning(udp(zc.addr, &q, Duration::from_secs(1)));
        assert_eq!(ours, theirs, "{name}");
    }
    let r = parse(
        &udp(
            zc.addr,
            &build_query(9, "only-2.example.com.", 1, 1, None),
            Duration::from_secs(1),
        )
        .unwrap(),
    );
    assert_eq!(rcode(&r), 3, "only-2 must be NXDOMAIN");
}

/// A primary that answers and then sends one octet at a time cannot hold
/// the zone: the time is per whole message (2 s here), not per read, and
/// the retry (RETRY 1 s) brings the new version.
#[test]
fn a_primary_dripping_octets_is_cut_after_one_message_time() {
    let port = free_port();
    let knot = primary(
        &zone_text(1, (3600, 1, 86400), "www A 192.0.2.1\n"),
        port,
        None,
        "",
    );
    let proxy = FaultProxy::start(
        knot.addr,
        vec![
            Fault::Pass,
            Fault::Trickle {
                chunk: 1,
                every_ms: 250,
            },
            Fault::Pass,
        ],
    );
    let mut zc = secondary_via(&proxy, port);
    assert!(wait_serial(zc.addr, 1), "{}", zc.process.log());
    update(&knot, &zone_text(2, (3600, 1, 86400), "www A 192.0.2.2\n"));
    // An octet every 250 ms keeps every read within 2 s; the SOA answer
    // alone would take about 20 s.
    assert!(
        zc.process.wait_for_log(
            "no whole message within transfer.io_timeout_ms",
            Duration::from_secs(8)
        ),
        "{}",
        zc.process.log()
    );
    assert_eq!(serial(zc.addr), Some(1), "the old version serves meanwhile");
    assert!(wait_serial(zc.addr, 2), "{}", zc.process.log());
    assert!(proxy.connections.load(Ordering::Relaxed) >= 3);
}

/// A transfer that stalls (here the message time is a full minute) is
/// replaced when a NOTIFY announces a newer serial, as Knot does.
#[test]
fn a_notify_for_a_newer_serial_replaces_a_stalled_transfer() {
    let port = free_port();
    let knot = primary(&zone_text(1, SLOW, "www A 192.0.2.1\n"), port, None, "");
    let proxy = FaultProxy::start(
        knot.addr,
        vec![
            Fault::Pass,
            Fault::Trickle {
                chunk: 1,
                every_ms: 500,
            },
            Fault::Pass,
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        "[server]\nlisten = [\"127.0.0.1:{port}\"]\nworkers = 1\n\
         [transfer]\nio_timeout_ms = 60000\nnotify_min_interval_ms = 100\n{ONE_CONNECTION_EACH}\n\
         [[zone]]\nname = \"{APEX}\"\nfile = \"example.com.zone\"\nprimaries = [\"{}\"]\n",
        proxy.addr
    );
    let mut zc = Zonecast::start_with_config(dir, &config);
    assert!(wait_serial(zc.addr, 1), "{}", zc.process.log());
    update(&knot, &zone_text(2, SLOW, "www A 192.0.2.2\n"));
    assert!(
        wait_until(Duration::from_secs(10), || proxy
            .connections
            .load(Ordering::Relaxed)
            >= 2),
        "{}",
        zc.process.log()
    );
    // Stalled for longer than 1 s, then version 3 is announced.
    std::thread::sleep(Duration::from_millis(1500));
    update(&knot, &zone_text(3, SLOW, "www A 192.0.2.3\n"));
    assert!(
        zc.process
            .wait_for_log("cut short by NOTIFY for serial 3", Duration::from_secs(10)),
        "{}",
        zc.process.log()
    );
    assert!(wait_serial(zc.addr, 3), "{}", zc.process.log());
    assert_eq!(
        a_record(zc.addr, "www.example.com."),
        ["www.example.com. 300 IN A 192.0.2.3"]
    );
}

/// The record count after a transfer, from its log line.
fn records_in(line: &str) -> Option<usize> {
    let at = line.find(" records")?;
    line[..at].rsplit(' ').next()?.parse().ok()
}

/// `RUST_LOG=debug` shows each step of a refresh (connecting, the
/// schedule, publishing, writing the copy), while an SOA check that finds
/// nothing new is quiet at info; the counts of "AXFR from" and "loaded
/// from" are both the zone's records.
#[test]
fn debug_logging_shows_each_refresh_and_counts_agree() {
    let port = free_port();
    let body: String = (0..20).map(|i| format!("h{i} A 192.0.2.{i}\n")).collect();
    let knot = primary(&zone_text(1, SLOW, &body), port, None, "");
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        "[server]\nlisten = [\"127.0.0.1:{port}\"]\nworkers = 1\n\
         [[zone]]\nname = \"{APEX}\"\nfile = \"example.com.zone\"\nprimaries = [\"{}\"]\n",
        knot.addr
    );
    let mut zc = Zonecast::start_logging(dir, &config, "debug");
    assert!(wait_serial(zc.addr, 1), "{}", zc.process.log());
    for needle in [
        "refresh from",
        "connecting, our serial none (AXFR)",
        "published serial 1",
        "next refresh in",
        "wrote serial 1 to",
    ] {
        assert!(
            zc.process.wait_for_log(needle, Duration::from_secs(3)),
            "no '{needle}':\n{}",
            zc.process.log()
        );
    }
    let log = zc.process.log();
    let axfr = log.lines().find(|l| l.contains("AXFR from")).unwrap();
    assert_eq!(records_in(axfr), Some(23), "{axfr}");
    assert_eq!(zc.process.terminate(), Some(0));
    let Zonecast { dir, process, .. } = zc;
    drop(process);

    let mut zc = Zonecast::start_with_config(dir, &config);
    assert!(
        zc.process
            .wait_for_log("loaded from", Duration::from_secs(5)),
        "{}",
        zc.process.log()
    );
    // The restart's SOA check finds serial 1 again: nothing at info.
    std::thread::sleep(Duration::from_millis(500));
    let log = zc.process.log();
    let loaded = log.lines().find(|l| l.contains("loaded from")).unwrap();
    assert_eq!(records_in(loaded), records_in(axfr), "{loaded}\n{axfr}");
    assert!(!log.contains("up to date at serial"), "{log}");
}

#[test]
fn primary_dying_mid_axfr_keeps_the_old_zone_and_a_retry_succeeds() {
    // A large zone, so the AXFR spans many messages; the primary always
    // answers IXFR with the whole zone.
    // RETRY 1 s, so the retries come within the test.
    let big = |serial: u32, octet: u32| {
        let body: String = (0..20_000)
            .map(|i| format!("h{i} A 192.0.2.{octet}\n"))
            .collect();
        zone_text(serial, (3600, 1, 86400), &body)
    };
    let port = free_port();
    let knot = primary(&big(1, 1), port, None, "    provide-ixfr: off\n");
    // First connection passes, the next two are cut mid-stream, then pass.
    let proxy = FaultProxy::start(
        knot.addr,
        vec![
            Fault::Pass,
            Fault::CutAfter(100_000),
            Fault::CutAfter(150_000),
            Fault::Pass,
        ],
    );
    let mut zc = secondary_via(&proxy, port);
    assert!(wait_serial(zc.addr, 1), "{}", zc.process.log());
    update(&knot, &big(2, 2));
    // The cut transfers fail; serial 1 is served meanwhile, whole.
    assert!(
        zc.process
            .wait_for_log("primary closed the connection", Duration::from_secs(10)),
        "{}",
        zc.process.log()
    );
    let mid = serial(zc.addr);
    assert!(mid == Some(1) || mid == Some(2), "{mid:?}");
    if mid == Some(1) {
        assert_eq!(
            a_record(zc.addr, "h19999.example.com."),
            ["h19999.example.com. 300 IN A 192.0.2.1"]
        );
    }
    assert!(wait_serial(zc.addr, 2), "{}", zc.process.log());
    assert_eq!(
        a_record(zc.addr, "h19999.example.com."),
        ["h19999.example.com. 300 IN A 192.0.2.2"]
    );
    assert!(proxy.connections.load(Ordering::Relaxed) >= 4);
}

/// The primary publishes version 2 (`www` changed, then `body`), and the
/// transfer of it fails through `faults` (a proxy, the first connection
/// passing) or a `[transfer]` setting in `limit`: `reason` is logged and
/// version 1 keeps serving, whole.
fn old_version_survives(limit: &str, faults: Vec<Fault>, body: &str, reason: &str) {
    let port = free_port();
    let knot = primary(&zone_text(1, SLOW, "www A 192.0.2.1\n"), port, None, "");
    let proxy = FaultProxy::start(knot.addr, faults);
    let extra = format!("{ONE_CONNECTION_EACH}\n{limit}");
    let mut zc = secondary(tempfile::tempdir().unwrap(), port, proxy.addr, None, &extra);
    assert!(wait_serial(zc.addr, 1), "{}", zc.process.log());
    update(
        &knot,
        &zone_text(2, SLOW, &format!("www A 192.0.2.2\n{body}")),
    );
    assert!(
        zc.process.wait_for_log(reason, Duration::from_secs(15)),
        "{}",
        zc.process.log()
    );
    assert_eq!(serial(zc.addr), Some(1));
    assert_eq!(
        a_record(zc.addr, "www.example.com."),
        ["www.example.com. 300 IN A 192.0.2.1"]
    );
    assert!(zc.process.exited().is_none());
}

#[test]
fn primary_answering_garbage_keeps_the_old_zone() {
    old_version_survives(
        "",
        vec![
            Fault::Pass,
            Fault::Garbage(b"\x00\x10garbage garbage!"),
            Fault::Garbage(b"\xff\xff\x00"),
        ],
        "",
        "failed",
    );
}

/// Version 2 of the limit cases: 3000 names with 100-octet TXT records,
/// about 400 kB.
fn big_body() -> String {
    (0..3000)
        .map(|i| format!("t{i} TXT \"{}\"\n", "x".repeat(100)))
        .collect()
}

fn limit_case(limit: &str, faults: Vec<Fault>, reason: &str) {
    old_version_survives(limit, faults, &big_body(), reason);
}

#[test]
fn a_transfer_over_max_records_is_cut_off() {
    limit_case(
        "max_records = 1000",
        vec![Fault::Pass],
        "more than 1000 records",
    );
}

#[test]
fn a_transfer_over_max_bytes_is_cut_off() {
    limit_case(
        "max_bytes = 100000",
        vec![Fault::Pass],
        "more than 100000 octets",
    );
}

#[test]
fn a_transfer_over_max_messages_is_cut_off() {
    limit_case(
        "max_messages = 2",
        vec![Fault::Pass],
        "more than 2 messages",
    );
}

#[test]
fn a_transfer_over_max_duration_is_cut_off() {
    // The second connection brings the new version 200 octets every
    // 100 ms: progress enough for the I/O timeout, not for 1 s in all.
    limit_case(
        "max_duration_s = 1",
        vec![
            Fault::Pass,
            Fault::Trickle {
                chunk: 200,
                every_ms: 100,
            },
        ],
        "took longer than transfer.max_duration_s",
    );
}

/// The zone version a record of the load test carries: `mxN`/`tN` in its
/// owner or target, or the number its TXT starts with.
fn version_of(line: &str) -> Option<u32> {
    let f: Vec<&str> = line.split_whitespace().collect();
    let (owner, rtype, rdata) = (f.first()?, f.get(3)?, f.get(4..)?.join(" "));
    let digits_after = |s: &str, prefix: &str| -> Option<u32> {
        let rest = s.strip_prefix(prefix)?;
        let end = rest.find(|c: char| !c.is_ascii_digit())?;
        rest[..end].parse().ok()
    };
    match *rtype {
        "TXT" => digits_after(&rdata.replace('"', ""), ""),
        "MX" => digits_after(rdata.split_whitespace().nth(1)?, "mx"),
        "CNAME" => digits_after(&rdata, "t"),
        "A" => digits_after(owner, "mx").or_else(|| digits_after(owner, "t")),
        _ => None,
    }
}

#[test]
fn queries_under_load_never_see_an_error_or_two_versions() {
    let version = |n: u32| {
        zone_text(
            n,
            SLOW,
            &format!(
                "@ MX 10 mx{n}\nmx{n} A 192.0.2.{o}\nalias CNAME t{n}\nt{n} A 192.0.2.{o}\nv TXT \"{n}\"\nv TXT \"{n}-b\"\n",
                o = n % 250
            ),
        )
    };
    let port = free_port();
    let knot = primary(&version(1), port, None, "");
    // NOTIFY may start a refresh every 50 ms: each change its own IXFR.
    let zc = secondary(
        tempfile::tempdir().unwrap(),
        port,
        knot.addr,
        None,
        "notify_min_interval_ms = 50\n",
    );
    assert!(wait_serial(zc.addr, 1));
    let stop = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicUsize::new(0));
    let addr = zc.addr;
    let client = {
        let (stop, answered) = (Arc::clone(&stop), Arc::clone(&answered));
        std::thread::spawn(move || -> Vec<String> {
            let mut bad = Vec::new();
            let deadline = Instant::now() + Duration::from_secs(60);
            let mut i = 0u16;
            while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                i = i.wrapping_add(1);
                let (name, qtype) = [
                    (APEX.to_string(), 15),
                    (format!("alias.{APEX}"), 1),
                    (format!("v.{APEX}"), 16),
                ][i as usize % 3]
                    .clone();
                let Some(r) = udp(
                    addr,
                    &build_query(i, &name, qtype, 1, None),
                    Duration::from_secs(2),
                ) else {
                    bad.push(format!("no answer to {name}"));
                    continue;
                };
                let m = parse(&r);
                let all: Vec<String> = lines(&m.answers)
                    .into_iter()
                    .chain(lines(&m.additionals))
                    .collect();
                let versions: std::collections::BTreeSet<u32> =
                    all.iter().filter_map(|l| version_of(l)).collect();
                let ok = rcode(&m) == 0 && all.len() >= 2 && versions.len() == 1;
                if !ok {
                    bad.push(format!("{name}: rcode {} {all:?}", rcode(&m)));
                }
                answered.fetch_add(1, Ordering::Relaxed);
            }
            bad
        })
    };
    for n in 2..=21 {
        update(&knot, &version(n));
        std::thread::sleep(Duration::from_millis(150));
    }
    assert!(wait_serial(zc.addr, 21), "{}", zc.process.log());
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Relaxed);
    let bad = client.join().unwrap();
    let n = answered.load(Ordering::Relaxed);
    eprintln!("{n} answers during 20 transfers, {} bad", bad.len());
    assert!(n > 200, "only {n} answers");
    assert!(
        bad.is_empty(),
        "{} bad answers, first: {:?}",
        bad.len(),
        &bad[..bad.len().min(5)]
    );
    let ixfrs = count(&zc.process.log(), "IXFR from");
    eprintln!("{ixfrs} IXFRs");
    assert!(ixfrs >= 15, "{}", zc.process.log());
}

#[test]
fn expiry_while_the_primary_is_down_survives_restarts() {
    // REFRESH 2 s, RETRY 1 s, EXPIRE 5 s.
    let port = free_port();
    let knot = primary(
        &zone_text(1, (2, 1, 5), "www A 192.0.2.1\n"),
        port,
        None,
        "",
    );
    let mut zc = secondary(tempfile::tempdir().unwrap(), port, knot.addr, None, "");
    assert!(wait_serial(zc.addr, 1));
    let knot_addr = knot.addr;
    drop(knot);
    let q = build_query(5, &format!("www.{APEX}"), 1, 1, Some(EdnsSpec::default()));
    let expired =
        || udp(zc.addr, &q, Duration::from_millis(500)).is_some_and(|r| rcode(&parse(&r)) == 2);
    assert!(
        wait_until(Duration::from_secs(10), expired),
        "{}",
        zc.process.log()
    );
    let out = run(
        "dig",
        &[
            "@127.0.0.1",
            "-p",
            &zc.addr.port().to_string(),
            "www.example.com",
            "+tries=1",
        ],
    );
    assert!(out.contains("status: SERVFAIL"), "{out}");
    assert!(
        out.contains("EDE: 24") && out.contains("Zone has expired"),
        "{out}"
    );
    // The moment of expiry is logged once, not only seen in answers.
    assert!(
        zc.process
            .wait_for_log("[example.com.] expired: serial 1", Duration::from_secs(2)),
        "{}",
        zc.process.log()
    );
    assert_eq!(count(&zc.process.log(), "expired: serial"), 1);
    // Restart with the primary still down: still expired.
    assert_eq!(zc.process.terminate(), Some(0));
    let Zonecast { dir, process, .. } = zc;
    drop(process);
    let zc = secondary(dir, port, knot_addr, None, "");
    let r = parse(&udp(zc.addr, &q, Duration::from_secs(1)).unwrap());
    assert_eq!(rcode(&r), 2, "expiry is remembered across restarts");
    assert!(
        zc.process.log().contains("expired, answering SERVFAIL"),
        "{}",
        zc.process.log()
    );
    // The primary comes back where it was: served again.
    let _knot = primary_on(
        Some(knot_addr.port()),
        &zone_text(2, (2, 1, 5), "www A 192.0.2.2\n"),
        port,
        None,
        "",
    );
    assert!(wait_serial(zc.addr, 2), "{}", zc.process.log());
    assert_eq!(
        a_record(zc.addr, "www.example.com."),
        ["www.example.com. 300 IN A 192.0.2.2"]
    );
    assert!(
        zc.process.log().contains("no longer expired"),
        "{}",
        zc.process.log()
    );
}

#[test]
fn a_dead_primary_does_not_block_the_next() {
    let port = free_port();
    let knot = primary(&zone_text(3, SLOW, "www A 192.0.2.3\n"), port, None, "");
    // Nothing listens on the first primary.
    let dead: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let started = Instant::now();
    let mut zc = secondary_of(
        tempfile::tempdir().unwrap(),
        port,
        &[dead, knot.addr],
        None,
        "",
        "",
    );
    assert!(wait_serial(zc.addr, 3), "{}", zc.process.log());
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "no retry wait between primaries"
    );
    assert!(zc.process.wait_for_log(
        &format!("refresh from {dead} failed"),
        Duration::from_secs(2)
    ));
    assert!(
        zc.process
            .log()
            .contains(&format!("AXFR from {}", knot.addr))
    );
}

#[test]
fn a_bind_primary_gives_signed_axfr_then_ixfr_after_notify() {
    // BIND 9 packs and orders its transfers its own way: a zone of 3000
    // hosts comes in many messages, each signed (RFC 8945 §5.3.1), and so
    // is its NOTIFY. With ixfr-from-differences it keeps a diff per
    // reload, and max-ixfr-ratio unlimited has it send that diff even
    // when the zone is small.
    let port = free_port();
    let hosts: String = (0..3000)
        .map(|i| format!("h{i} A 192.0.{}.{}\n", i / 250, i % 250))
        .collect();
    let bind = Bind::start(
        &format!("key \"xfr-key\" {{ algorithm hmac-sha256; secret \"{SECRET}\"; }};"),
        &format!(
            " notify explicit;\n notify-delay 0;\n\
             also-notify {{ 127.0.0.1 port {port} key \"xfr-key\"; }};\n\
             allow-transfer {{ key \"xfr-key\"; }};\n ixfr-from-differences yes;\n max-ixfr-ratio unlimited;"
        ),
        &[(
            "example.com.zone",
            &zone_text(
                1,
                SLOW,
                &format!("www A 192.0.2.1\nold A 192.0.2.2\n{hosts}"),
            ),
        )],
    );
    let key = Tsig {
        algorithm: "hmac-sha256",
        secret: SECRET,
    };
    let mut zc = secondary(
        tempfile::tempdir().unwrap(),
        port,
        bind.addr,
        Some(&key),
        "",
    );
    assert!(wait_serial(zc.addr, 1), "{}", zc.process.log());
    let log = zc.process.log();
    let axfr = log
        .lines()
        .find(|l| l.contains(&format!("AXFR from {}", bind.addr)))
        .unwrap_or_else(|| panic!("no AXFR logged:\n{log}"));
    let messages: usize = axfr
        .split(" received in ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .expect("message count logged");
    eprintln!("from BIND: {axfr}");
    assert!(messages > 1, "one message only: {axfr}");
    // A changed record, a deleted one and a new one.
    bind.update(
        "example.com.zone",
        &zone_text(
            2,
            SLOW,
            &format!("www A 192.0.2.10\nnew A 192.0.2.3\n{hosts}"),
        ),
    );
    assert!(
        wait_serial(zc.addr, 2),
        "{}\n{}",
        zc.process.log(),
        bind.process.log()
    );
    assert!(zc.process.wait_for_log(
        &format!("IXFR from {}: serial 1 -> 2", bind.addr),
        Duration::from_secs(5)
    ));
    assert!(
        zc.process
            .log()
            .contains("NOTIFY from 127.0.0.1 with serial 2")
    );
    // The copy answers as the primary does.
    for name in ["www", "new", "old", "h0", "h2999"] {
        let name = format!("{name}.example.com.");
        assert_eq!(
            a_record(zc.addr, &name),
            a_record(bind.addr, &name),
            "{name}"
        );
    }
    assert_eq!(
        a_record(zc.addr, "www.example.com."),
        ["www.example.com. 300 IN A 192.0.2.10"]
    );
    assert!(a_record(zc.addr, "old.example.com.").is_empty());
}

#[test]
fn a_primary_over_ipv6_transfers_and_notifies() {
    // Knot on ::1 only: the SOA query, AXFR, NOTIFY and IXFR all go over
    // IPv6, and NOTIFY is taken from the primary's IPv6 address.
    let port = free_port();
    let v6 = std::net::IpAddr::V6(std::net::Ipv6Addr::LOCALHOST);
    let rest = format!(
        "remote:\n  - id: zc\n    address: ::1@{port}\n\
         acl:\n  - id: xfr\n    address: ::1\n    action: transfer\n\
         zone:\n  - domain: example.com\n    notify: zc\n    acl: xfr\n    journal-content: all\n    zonefile-load: difference\n"
    );
    let zone = |serial, host| zone_text(serial, SLOW, &format!("www A 192.0.2.{host}\n"));
    let knot = Knot::start_at(
        v6,
        None,
        "",
        &rest,
        &[("example.com.zone", &zone(1, 1))],
        APEX,
    );
    let config = format!(
        "[server]\nlisten = [\"127.0.0.1:{port}\", \"[::1]:{port}\"]\nworkers = 1\n\
         [[zone]]\nname = \"{APEX}\"\nfile = \"example.com.zone\"\nprimaries = [\"{}\"]\n",
        knot.addr
    );
    let mut zc = Zonecast::start_with_config(tempfile::tempdir().unwrap(), &config);
    assert!(wait_serial(zc.addr, 1), "{}", zc.process.log());
    update(&knot, &zone(2, 2));
    assert!(wait_serial(zc.addr, 2), "{}", zc.process.log());
    assert_eq!(
        a_record(zc.addr, "www.example.com."),
        ["www.example.com. 300 IN A 192.0.2.2"]
    );
    assert!(
        zc.process
            .wait_for_log("IXFR from [::1]:", Duration::from_secs(5))
    );
    let log = zc.process.log();
    assert!(log.contains("AXFR from [::1]:"), "{log}");
    assert!(log.contains("NOTIFY from ::1 with serial 2"), "{log}");
}

#[test]
fn transfers_leave_from_transfer_source() {
    // The primary only lets 127.0.0.2 transfer the zone.
    let port = free_port();
    let knot = primary_with_acl(
        None,
        &zone_text(9, SLOW, "www A 192.0.2.9\n"),
        port,
        None,
        "",
        "127.0.0.2",
    );
    let zc = secondary_of(
        tempfile::tempdir().unwrap(),
        port,
        &[knot.addr],
        None,
        "",
        "transfer_source = \"127.0.0.2\"\n",
    );
    assert!(wait_serial(zc.addr, 9), "{}", zc.process.log());
    // From another address the primary refuses.
    let mut other = secondary_of(
        tempfile::tempdir().unwrap(),
        free_port(),
        &[knot.addr],
        None,
        "",
        "transfer_source = \"127.0.0.3\"\n",
    );
    assert!(
        other.process.wait_for_log("failed", Duration::from_secs(5)),
        "{}",
        other.process.log()
    );
    assert_eq!(serial(other.addr), None, "nothing to serve yet");
}

#[test]
fn expire_option_tells_how_fresh_the_copy_is() {
    let port = free_port();
    let knot = primary(
        &zone_text(1, (3600, 600, 7200), "www A 192.0.2.1\n"),
        port,
        None,
        "",
    );
    let zc = secondary(tempfile::tempdir().unwrap(), port, knot.addr, None, "");
    assert!(wait_serial(zc.addr, 1));
    let out = run(
        "kdig",
        &[
            "@127.0.0.1",
            "-p",
            &zc.addr.port().to_string(),
            "example.com",
            "SOA",
            "+expire",
        ],
    );
    let line = out
        .lines()
        .find(|l| l.contains("EXPIRE"))
        .unwrap_or_else(|| panic!("{out}"));
    let secs: u32 = line
        .split_whitespace()
        .find_map(|w| w.parse().ok())
        .unwrap_or_else(|| panic!("{line}"));
    assert!((7100..=7200).contains(&secs), "{line}");
}

/// A reload (SIGHUP) takes a secondary zone out: REFUSED at once and its
/// copy deleted; and puts it back: transferred anew and served.
#[test]
fn a_reload_removes_and_adds_secondary_zones() {
    let port = free_port();
    let knot = primary(&zone_text(1, SLOW, "www A 192.0.2.1\n"), port, None, "");
    let mut zc = secondary(tempfile::tempdir().unwrap(), port, knot.addr, None, "");
    assert!(wait_serial(zc.addr, 1), "{}", zc.process.log());
    let copy = zc.dir.path().join("example.com.zone");
    assert!(wait_until(Duration::from_secs(5), || copy.exists()));
    let config_path = zc.dir.path().join("zonecast.toml");
    let with_zone = std::fs::read_to_string(&config_path).unwrap();
    let without = with_zone[..with_zone.find("[[zone]]").unwrap()].to_string();
    std::fs::write(&config_path, &without).unwrap();
    zc.process.signal(1);
    assert!(
        zc.process.wait_for_log("1 removed", Duration::from_secs(5)),
        "{}",
        zc.process.log()
    );
    let q = build_query(4, APEX, 6, 1, None);
    assert!(
        wait_until(Duration::from_secs(3), || udp(
            zc.addr,
            &q,
            Duration::from_secs(1)
        )
        .is_some_and(|r| rcode(&parse(&r)) == 5)),
        "REFUSED once removed"
    );
    assert!(
        wait_until(Duration::from_secs(3), || !copy.exists()
            && !zonecast::xfr::timers_log::read_log(zc.dir.path())
                .0
                .contains_key(std::ffi::OsStr::new("example.com.zone"))),
        "copy and timers deleted"
    );
    std::fs::write(&config_path, &with_zone).unwrap();
    zc.process.signal(1);
    assert!(wait_serial(zc.addr, 1), "{}", zc.process.log());
    assert!(zc.process.log().contains("1 added"), "{}", zc.process.log());
    assert!(wait_until(Duration::from_secs(5), || copy.exists()));
}

/// First transfers of many zones from one Knot primary go over a few
/// kept connections (RFC 7766 §6.2.1), not one each: Knot logs the
/// remote port of every AXFR it serves.
#[test]
fn many_zones_from_one_primary_share_kept_connections() {
    let port = free_port();
    let names: Vec<String> = (0..20).map(|i| format!("z{i}.example.")).collect();
    let files: Vec<(String, String)> = names
        .iter()
        .map(|n| (format!("{n}zone"), zone_text(1, SLOW, "www A 192.0.2.1\n")))
        .collect();
    let refs: Vec<(&str, &str)> = files.iter().map(|(a, b)| (&a[..], &b[..])).collect();
    let zones: String = names
        .iter()
        .map(|n| format!("  - domain: {n}\n    acl: xfr\n"))
        .collect();
    let knot = Knot::start(
        "",
        &format!(
            "acl:\n  - id: xfr\n    address: 127.0.0.0/8\n    action: transfer\nzone:\n{zones}"
        ),
        &refs,
        "z0.example.",
    );
    let list: String = names
        .iter()
        .map(|n| {
            format!(
                "[[zone]]\nname = \"{n}\"\nfile = \"{n}zone\"\nprimaries = [\"{}\"]\n",
                knot.addr
            )
        })
        .collect();
    let config = format!(
        "[server]\nlisten = [\"127.0.0.1:{port}\"]\nworkers = 1\n[transfer]\nmax_concurrent = 2\nmax_per_primary = 2\n{list}"
    );
    let zc = Zonecast::start_with_config(tempfile::tempdir().unwrap(), &config);
    for n in &names {
        let ok = wait_until(Duration::from_secs(15), || {
            udp(
                zc.addr,
                &build_query(1, n, 6, 1, None),
                Duration::from_millis(300),
            )
            .is_some_and(|r| rcode(&parse(&r)) == 0)
        });
        assert!(ok, "{n}: {}", zc.process.log());
    }
    let log = knot.process.log();
    let ports: std::collections::HashSet<&str> = log
        .lines()
        .filter(|l| l.contains("AXFR, outgoing") && l.contains("started"))
        .filter_map(|l| l.split("remote 127.0.0.1@").nth(1)?.split(',').next())
        .collect();
    assert_eq!(log.matches("AXFR, outgoing").count() / 2, 20, "{log}");
    assert!(
        !ports.is_empty() && ports.len() <= 2,
        "20 AXFRs over {} connections: {ports:?}",
        ports.len()
    );
}

/// `zonecast ctl` against a running secondary of a real Knot primary
/// (issue 12, step 2): status and zone-status say what is served; a
/// refresh brings a new serial the primary did not NOTIFY; a retransfer
/// takes the zone whole by AXFR; reload reloads; a second client is
/// served while one holds a connection; malformed requests get an error;
/// after the primary dies, zone-status shows the zone expired and why.
#[test]
fn the_control_socket_shows_and_drives_each_zone() {
    use std::io::{Read, Write};
    // The primary NOTIFYs a port nobody listens on: changes reach
    // zonecast only when asked for.
    let knot = primary(
        &zone_text(1, (3600, 1, 4), "www A 192.0.2.1\n"),
        free_port(),
        None,
        "",
    );
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("ctl.sock");
    let port = free_port();
    // A secondary of ours, that hears NOTIFY and never answers.
    let listener = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    listener
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let config = format!(
        "[server]\nlisten = [\"127.0.0.1:{port}\"]\nworkers = 2\ncontrol = \"ctl.sock\"\n\
         [transfer]\nexpire_min_s = 1\nio_timeout_ms = 1000\nconnect_timeout_ms = 1000\n\
         [[zone]]\nname = \"{APEX}\"\nfile = \"example.com.zone\"\nprimaries = [\"{}\"]\n\
         notify = [\"{}\"]\n",
        knot.addr,
        listener.local_addr().unwrap()
    );
    let mut zc = Zonecast::start_with_config(dir, &config);
    assert!(wait_serial(zc.addr, 1), "{}", zc.process.log());
    let ctl = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_zonecast"))
            .arg("ctl")
            .arg("-s")
            .arg(&socket)
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let json = |args: &[&str]| -> serde_json::Value {
        let mut a = vec!["--json"];
        a.extend(args);
        serde_json::from_str(&ctl(&a).1).unwrap()
    };
    assert_eq!(
        std::fs::metadata(&socket)
            .map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o777)
            .unwrap(),
        0o600
    );
    let s = json(&["status"]);
    assert_eq!(
        (
            s["zones"].as_u64(),
            s["served"].as_u64(),
            s["workers"].as_u64()
        ),
        (Some(1), Some(1), Some(2)),
        "{s}"
    );
    let (code, text) = ctl(&["zone-status", "example.com"]);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.starts_with("example.com.\n")
            && text.contains("  serial: 1\n")
            && text.contains("  kind: secondary\n"),
        "{text}"
    );
    // A change the primary does not NOTIFY: a refresh brings it.
    update(&knot, &zone_text(2, (3600, 1, 4), "www A 192.0.2.2\n"));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(serial(zc.addr), Some(1), "no NOTIFY reached zonecast");
    let r = json(&["refresh", "example.com."]);
    assert_eq!(r["ok"], true, "{r}");
    assert!(wait_serial(zc.addr, 2), "{}", zc.process.log());
    assert!(zc.process.wait_for_log("IXFR from", Duration::from_secs(5)));
    // A retransfer: the whole zone again, by AXFR.
    let axfrs = zc.process.log().matches("AXFR from").count();
    assert_eq!(json(&["retransfer", "example.com."])["ok"], true);
    assert!(
        wait_until(Duration::from_secs(10), || zc
            .process
            .log()
            .matches("AXFR from")
            .count()
            > axfrs),
        "{}",
        zc.process.log()
    );
    assert_eq!(serial(zc.addr), Some(2));
    let z = &json(&["zone-status"])["zones"][0];
    assert_eq!(
        (z["serial"].as_u64(), z["failures"].as_u64()),
        (Some(2), Some(0)),
        "{z}"
    );
    assert!(
        z["last_refresh_s_ago"].as_u64().is_some_and(|s| s < 10),
        "{z}"
    );
    // A second client while one holds a connection open.
    let held = std::os::unix::net::UnixStream::connect(&socket).unwrap();
    assert_eq!(json(&["status"])["served"].as_u64(), Some(1));
    drop(held);
    // Malformed requests: an unknown command, a line too long.
    let (code, text) = ctl(&["frobnicate", "now"]);
    assert_eq!(code, Some(1));
    assert!(text.contains("unknown command"), "{text}");
    let (code, text) = ctl(&["refresh", "other.test."]);
    assert_eq!(code, Some(1));
    assert!(text.contains("not a secondary zone"), "{text}");
    let mut raw = std::os::unix::net::UnixStream::connect(&socket).unwrap();
    raw.write_all(&[b'x'; 5000]).unwrap();
    let mut answer = String::new();
    raw.read_to_string(&mut answer).unwrap();
    assert!(answer.contains("\"error\""), "{answer}");
    // Healthy while the zone is served.
    let (code, text) = ctl(&["health"]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("healthy: true"), "{text}");
    // NOTIFY of the version served, on request: the listener hears serial
    // 2 (after the NOTIFYs of the versions taken, which it drains).
    assert_eq!(json(&["notify", "example.com."])["ok"], true);
    let mut heard = Vec::new();
    let mut buf = [0u8; 1024];
    while let Ok((n, _)) = listener.recv_from(&mut buf) {
        let m = parse(&buf[..n]);
        heard.push(m.answers.iter().find_map(|a| match a.data {
            hickory_proto::rr::RData::SOA(ref s) => Some(s.serial),
            _ => None,
        }));
        if heard.len() >= 3 {
            break;
        }
    }
    assert!(heard.contains(&Some(2)), "{heard:?}");
    // Reload, as SIGHUP does.
    assert_eq!(json(&["reload"])["ok"], true);
    assert!(zc.process.wait_for_log("reloaded ", Duration::from_secs(5)));
    // The primary dies: after a refresh fails and EXPIRE (4 s) passes,
    // the zone shows expired, with the reason.
    drop(knot);
    assert_eq!(json(&["refresh", "example.com."])["ok"], true);
    assert!(
        wait_until(Duration::from_secs(15), || {
            let z = json(&["zone-status", "example.com."]);
            z["zones"][0]["expired"] == true && z["zones"][0]["last_error"].is_string()
        }),
        "{}\n{}",
        json(&["zone-status"]),
        zc.process.log()
    );
    assert_eq!(json(&["status"])["expired"].as_u64(), Some(1));
    let (code, text) = ctl(&["health"]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("example.com. has expired"), "{text}");
    zc.process.terminate();
    assert!(!socket.exists(), "the socket goes with the server");
}

/// Prometheus metrics and `GET /health` against a secondary of a real
/// Knot primary (issue 12, steps 3 and 4): counts before and after a
/// known set of queries, NOTIFYs and transfers differ by exactly those;
/// promtool accepts the page; the per-zone series show the serial; the
/// health check turns 503 when the zone expires after the primary dies
/// and 200 again once a restarted primary refreshes it.
#[test]
fn metrics_count_exactly_what_was_asked_and_health_follows_expiry() {
    let knot_port = free_port();
    let port = free_port();
    // Knot's own NOTIFYs go nowhere (its first, sent before zonecast
    // listens, is retried at a time of Knot's choosing and would land in
    // the middle of the counting): the test sends the NOTIFYs itself,
    // from the primary's address. No refresh by timer while counting.
    let knot = primary_on(
        Some(knot_port),
        &zone_text(1, SLOW, "www A 192.0.2.1\n"),
        free_port(),
        None,
        "",
    );
    let zaddr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let notify_of = |serial: u32| {
        let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let mut q = build_query(40 + serial as u16, APEX, 6, 1, None);
        q[2] = 0x24;
        // The SOA of the new version in the answer section (RFC 1996 §3.7).
        q[7] = 1;
        q.extend_from_slice(&[0xc0, 12, 0, 6, 0, 1, 0, 0, 1, 44, 0, 30]);
        q.extend_from_slice(&[2, b'n', b's', 0xc0, 12, 2, b'h', b'm', 0xc0, 12]);
        q.extend_from_slice(&serial.to_be_bytes());
        q.extend_from_slice(&[0, 0, 14, 16, 0, 0, 2, 88, 0, 1, 81, 128, 0, 0, 0, 60]);
        s.send_to(&q, zaddr).unwrap();
        let mut buf = [0u8; 512];
        let n = s.recv(&mut buf).unwrap();
        assert_eq!(rcode(&parse(&buf[..n])), 0, "NOTIFY accepted");
    };
    let metrics_port = free_port();
    let maddr: SocketAddr = format!("127.0.0.1:{metrics_port}").parse().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        "[server]\nlisten = [\"127.0.0.1:{port}\"]\nworkers = 2\nmetrics = \"{maddr}\"\n\
         [transfer]\nexpire_min_s = 1\nio_timeout_ms = 1000\nconnect_timeout_ms = 1000\n\
         [[zone]]\nname = \"{APEX}\"\nfile = \"example.com.zone\"\nprimaries = [\"{}\"]\n",
        knot.addr
    );
    let mut zc = Zonecast::start_with_config(dir, &config);
    assert!(wait_serial(zc.addr, 1), "{}", zc.process.log());
    assert!(
        zc.process
            .wait_for_log("metrics on http://", Duration::from_secs(5))
    );

    let (code, before) = http_get(maddr, "/metrics");
    assert_eq!(code, 200);
    // What the text format accepts, as Prometheus reads it.
    let checked = {
        use std::io::Write;
        let mut p = std::process::Command::new(tool("promtool"))
            .args(["check", "metrics"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        p.stdin
            .take()
            .unwrap()
            .write_all(before.as_bytes())
            .unwrap();
        p.wait_with_output().unwrap()
    };
    assert!(
        checked.status.success() && checked.stdout.is_empty() && checked.stderr.is_empty(),
        "promtool: {}{}\n{before}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );
    assert_eq!(
        sample(
            &before,
            "zonecast_transfers_in_total{kind=\"AXFR\",result=\"done\"}"
        ),
        1.0
    );
    assert!(sample(&before, "zonecast_transfer_in_bytes_total{kind=\"AXFR\"}") > 0.0);
    assert_eq!(
        sample(&before, "zonecast_transfer_in_duration_seconds_count"),
        1.0
    );
    assert_eq!(sample(&before, "zonecast_zones{state=\"served\"}"), 1.0);
    assert_eq!(sample(&before, "zonecast_workers"), 2.0);

    // The known set of messages.
    let t = Duration::from_secs(2);
    let edns_do = || {
        Some(EdnsSpec {
            dnssec_ok: true,
            ..Default::default()
        })
    };
    for i in 0..5 {
        let r = udp(zc.addr, &build_query(i, "www.example.com.", 1, 1, None), t).unwrap();
        assert_eq!(rcode(&parse(&r)), 0);
    }
    for i in 0..2 {
        let q = build_query(10 + i, "nx.example.com.", 1, 1, edns_do());
        assert_eq!(rcode(&parse(&udp(zc.addr, &q, t).unwrap())), 3);
    }
    // Dropped: shorter than a header; longer than any query.
    // Then a query from the same socket: the same worker reads all three
    // in order, so its answer means the drops are counted.
    let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(t)).unwrap();
    s.send_to(&[1, 2, 3, 4, 5], zc.addr).unwrap();
    s.send_to(&[0u8; 5000], zc.addr).unwrap();
    s.send_to(&build_query(9, "www.example.com.", 1, 1, None), zc.addr)
        .unwrap();
    let mut buf = [0u8; 512];
    let n = s.recv(&mut buf).unwrap();
    assert_eq!(rcode(&parse(&buf[..n])), 0);
    // A NOTIFY from an address that is not the primary: refused.
    let stranger = std::net::UdpSocket::bind("127.0.0.2:0").unwrap();
    stranger.set_read_timeout(Some(t)).unwrap();
    let mut notify = build_query(20, APEX, 6, 1, None);
    notify[2] = 0x24;
    stranger.send_to(&notify, zc.addr).unwrap();
    let n = stranger.recv(&mut buf).unwrap();
    assert_eq!(rcode(&parse(&buf[..n])), 9, "NOTAUTH");
    // Over TCP: an SOA query, and an AXFR nobody may take.
    let r = tcp(zc.addr, &build_query(30, APEX, 6, 1, None), t).unwrap();
    assert_eq!(rcode(&parse(&r)), 0);
    let r = tcp(zc.addr, &build_query(31, APEX, 252, 1, None), t).unwrap();
    assert_eq!(rcode(&parse(&r)), 9);
    let (_, after) = http_get(maddr, "/metrics");
    let delta = |series: &str| sample(&after, series) - sample(&before, series);
    for (series, want) in [
        ("zonecast_queries_total{transport=\"udp\"}", 10.0),
        ("zonecast_queries_total{transport=\"tcp\"}", 2.0),
        ("zonecast_queries_by_type_total{qtype=\"A\"}", 8.0),
        ("zonecast_queries_by_type_total{qtype=\"SOA\"}", 2.0),
        ("zonecast_queries_by_type_total{qtype=\"AXFR\"}", 1.0),
        ("zonecast_queries_by_type_total{qtype=\"other\"}", 0.0),
        ("zonecast_responses_total{rcode=\"NOERROR\"}", 7.0),
        ("zonecast_responses_total{rcode=\"NXDOMAIN\"}", 2.0),
        ("zonecast_responses_total{rcode=\"NOTAUTH\"}", 2.0),
        ("zonecast_queries_edns_total", 2.0),
        ("zonecast_queries_dnssec_ok_total", 2.0),
        ("zonecast_responses_truncated_total", 0.0),
        ("zonecast_dropped_packets_total{reason=\"malformed\"}", 1.0),
        ("zonecast_dropped_packets_total{reason=\"too_long\"}", 1.0),
        ("zonecast_notify_total{result=\"refused\"}", 1.0),
        ("zonecast_notify_total{result=\"accepted\"}", 0.0),
        ("zonecast_transfer_requests_refused_total", 1.0),
        ("zonecast_tcp_connections_accepted_total", 2.0),
    ] {
        assert_eq!(delta(series), want, "{series}\n{after}");
    }
    assert_eq!(
        sample(&after, "zonecast_zone_serial{zone=\"example.com.\"}"),
        1.0
    );
    let expire = sample(
        &after,
        "zonecast_zone_expire_seconds{zone=\"example.com.\"}",
    );
    assert!((86390.0..=86400.0).contains(&expire), "{expire}");
    assert!(
        sample(
            &after,
            "zonecast_zone_refresh_age_seconds{zone=\"example.com.\"}"
        ) < 5.0
    );

    // A new version, NOTIFYed from the primary's address: one IXFR, one
    // NOTIFY accepted, one NOTIFY-to-served latency.
    update(&knot, &zone_text(2, SLOW, "www A 192.0.2.2\n"));
    notify_of(2);
    assert!(wait_serial(zc.addr, 2), "{}", zc.process.log());
    assert!(
        zc.process
            .wait_for_log("ms after NOTIFY", Duration::from_secs(5))
    );
    let (_, page) = http_get(maddr, "/metrics");
    for (series, want) in [
        (
            "zonecast_transfers_in_total{kind=\"IXFR\",result=\"done\"}",
            1.0,
        ),
        (
            "zonecast_transfers_in_total{kind=\"AXFR\",result=\"done\"}",
            1.0,
        ),
        ("zonecast_notify_total{result=\"accepted\"}", 1.0),
        ("zonecast_notify_to_served_seconds_count", 1.0),
        ("zonecast_zone_serial{zone=\"example.com.\"}", 2.0),
    ] {
        assert_eq!(sample(&page, series), want, "{series}\n{page}");
    }
    assert_eq!(
        sample(
            &page,
            "zonecast_notify_to_served_seconds_bucket{le=\"+Inf\"}"
        ),
        1.0
    );

    // Health: 200 while served; 503 once the zone expires after the
    // primary dies; 200 again when a primary is back and refreshes it.
    // REFRESH 2 s, RETRY 1 s, EXPIRE 4 s from serial 3 on.
    update(&knot, &zone_text(3, (2, 1, 4), "www A 192.0.2.3\n"));
    notify_of(3);
    assert!(wait_serial(zc.addr, 3), "{}", zc.process.log());
    let (code, body) = http_get(maddr, "/health");
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("\"healthy\":true"), "{body}");
    drop(knot);
    assert!(
        wait_until(Duration::from_secs(15), || http_get(maddr, "/health").0
            == 503),
        "{}",
        zc.process.log()
    );
    let (_, body) = http_get(maddr, "/health");
    assert!(body.contains("example.com. has expired"), "{body}");
    let (_, page) = http_get(maddr, "/metrics");
    assert_eq!(sample(&page, "zonecast_zones{state=\"expired\"}"), 1.0);
    assert!(sample(&page, "zonecast_refreshes_total{result=\"failed\"}") >= 1.0);
    let knot = primary_on(
        Some(knot_port),
        &zone_text(4, (2, 1, 4), "www A 192.0.2.4\n"),
        free_port(),
        None,
        "",
    );
    assert!(
        wait_until(Duration::from_secs(15), || http_get(maddr, "/health").0
            == 200),
        "{}",
        zc.process.log()
    );
    assert!(wait_serial(zc.addr, 4));
    // Nothing else is served there.
    assert_eq!(http_get(maddr, "/").0, 404);
    drop(knot);
    zc.process.terminate();
}

/// The ZONEMD record a server gives for the zone: (serial, scheme,
/// algorithm, digest in hex).
fn zonemd_of(addr: SocketAddr) -> Option<(u32, u8, u8, String)> {
    let r = udp(
        addr,
        &build_query(3, APEX, 63, 1, None),
        Duration::from_secs(2),
    )?;
    let m = Message::from_vec(&r).ok()?;
    m.answers.iter().find_map(|rr| {
        use hickory_proto::serialize::binary::BinEncodable;
        let rd = rr.data.to_bytes().ok()?;
        if rd.len() < 18 {
            return None;
        }
        Some((
            u32::from_be_bytes([rd[0], rd[1], rd[2], rd[3]]),
            rd[4],
            rd[5],
            hex(&rd[6..]),
        ))
    })
}

/// ZONEMD (issue 13, step 3) against a Knot primary that makes it
/// (`zonemd-generate: zonemd-sha384`): the first AXFR and the IXFR after
/// a change are verified (and say so, with the time, in the transfer's
/// log line); then Knot stops making it and serves a version whose
/// ZONEMD is the last one's digest over edited data: zonecast refuses
/// it, after IXFR and again after AXFR, says why, and goes on serving
/// the version before.
#[test]
fn zonemd_from_knot_is_verified_and_a_stale_digest_is_refused() {
    let port = free_port();
    let knot = primary(
        &zone_text(1, SLOW, "www A 192.0.2.1\n"),
        port,
        None,
        "    zonemd-generate: zonemd-sha384\n",
    );
    let knot_serial = || serial(knot.addr).expect("Knot answers");
    let first = knot_serial();
    let (zs, scheme, alg, _) = zonemd_of(knot.addr).expect("Knot made a ZONEMD");
    assert_eq!((zs, scheme, alg), (first, 1, 1));
    let mut zc = secondary(tempfile::tempdir().unwrap(), port, knot.addr, None, "");
    assert!(wait_serial(zc.addr, first), "{}", zc.process.log());
    assert!(
        zc.process
            .wait_for_log("ZONEMD SHA-384 verified in", Duration::from_secs(5)),
        "{}",
        zc.process.log()
    );
    // A change: IXFR, verified again.
    update(&knot, &zone_text(first + 10, SLOW, "www A 192.0.2.2\n"));
    let second = knot_serial();
    assert!(wait_serial(zc.addr, second), "{}", zc.process.log());
    assert!(
        wait_until(Duration::from_secs(5), || zc.process.log().lines().any(
            |l| l.contains("IXFR from") && l.contains("ZONEMD SHA-384 verified")
        )),
        "{}",
        zc.process.log()
    );
    let (_, _, _, digest) = zonemd_of(knot.addr).unwrap();
    assert_eq!(zonemd_of(zc.addr).unwrap().3, digest, "served as verified");
    // Knot stops making ZONEMD; the next version carries the last
    // digest over other data.
    knot.knotc_ok(&["conf-begin"]);
    knot.knotc_ok(&["conf-set", "zone[example.com].zonemd-generate", "none"]);
    knot.knotc_ok(&["conf-commit"]);
    let third = second + 10;
    update(
        &knot,
        &zone_text(
            third,
            SLOW,
            &format!("www A 192.0.2.3\n@ ZONEMD {third} 1 1 {digest}\n"),
        ),
    );
    assert_eq!(knot_serial(), third);
    assert!(
        zc.process.wait_for_log(
            "ZONEMD SHA-384 digest does not match the zone's records",
            Duration::from_secs(10)
        ),
        "{}",
        zc.process.log()
    );
    let log = zc.process.log();
    assert!(
        log.contains("(by AXFR, after IXFR: ZONEMD SHA-384 digest does not match the zone's records after IXFR)"),
        "the IXFR's failure sent it to AXFR first:\n{log}"
    );
    // The version before is served on.
    assert_eq!(serial(zc.addr), Some(second));
    assert_eq!(
        a_record(zc.addr, "www.example.com."),
        vec!["www.example.com. 300 IN A 192.0.2.2"]
    );
    drop(knot);
    zc.process.terminate();
}
