//! zonecast as a process, queried by real dig and kdig and by raw sockets.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use common::*;

const EXAMPLE_ZONE: &str = include_str!("../examples/example.com.zone");

fn example() -> Zonecast {
    Zonecast::start(
        "",
        "[[zone]]\nname = \"example.com.\"\nfile = \"example.com.zone\"\n",
        &[("example.com.zone", EXAMPLE_ZONE)],
    )
}

fn dig(addr: SocketAddr, args: &[&str]) -> String {
    let port = addr.port().to_string();
    let server = format!("@{}", addr.ip());
    let mut all = vec![server.as_str(), "-p", port.as_str(), "+tries=1", "+time=2"];
    all.extend_from_slice(args);
    run("dig", &all)
}

fn kdig(addr: SocketAddr, args: &[&str]) -> String {
    let port = addr.port().to_string();
    let server = format!("@{}", addr.ip());
    let mut all = vec![server.as_str(), "-p", port.as_str(), "+retry=0", "+time=2"];
    all.extend_from_slice(args);
    run("kdig", &all)
}

#[test]
fn dig_and_kdig_get_answers_over_udp_and_tcp() {
    let z = example();
    let out = dig(z.addr, &["www.example.com", "+norec"]);
    assert!(out.contains("status: NOERROR"), "{out}");
    assert!(out.contains("flags: qr aa;"), "{out}");
    assert!(
        out.contains("www.example.com.\t3600\tIN\tA\t192.0.2.80"),
        "{out}"
    );
    let out = dig(z.addr, &["example.com", "MX", "+tcp"]);
    assert!(
        out.contains("example.com.\t\t3600\tIN\tMX\t10 mail.example.com."),
        "{out}"
    );
    assert!(
        out.contains("mail.example.com.\t3600\tIN\tA\t192.0.2.25"),
        "{out}"
    );
    let out = dig(z.addr, &["nothere.example.com"]);
    assert!(out.contains("status: NXDOMAIN"), "{out}");
    assert!(out.contains("example.com.\t\t300\tIN\tSOA"), "{out}");
    let out = kdig(z.addr, &["x.y.apps.example.com", "A", "+nsid"]);
    assert!(
        out.contains("x.y.apps.example.com.") && out.contains("192.0.2.99"),
        "{out}"
    );
    assert!(out.contains("NSID: 6E6F64652D31"), "{out}");
    let out = kdig(z.addr, &["host.dev.example.com", "+tcp"]);
    assert!(
        out.contains("status: NOERROR") && out.contains("Flags: qr rd;"),
        "{out}"
    );
    assert!(
        out.contains("dev.example.com.    \t3600\tIN\tNS\tns.dev.example.com."),
        "{out}"
    );
    let out = kdig(z.addr, &["version.bind", "CH", "TXT"]);
    assert!(out.contains("\"test-version\""), "{out}");
    let out = dig(z.addr, &["example.org"]);
    assert!(out.contains("status: REFUSED"), "{out}");
}

#[test]
fn hickory_reads_every_section() {
    let z = example();
    let r = parse(
        &udp(
            z.addr,
            &build_query(7, "_sip._tcp.example.com", 33, 1, None),
            Duration::from_secs(2),
        )
        .unwrap(),
    );
    assert_eq!(r.metadata.id, 7);
    assert!(r.metadata.authoritative);
    assert_eq!(
        lines(&r.answers),
        ["_sip._tcp.example.com. 3600 IN SRV 0 5 5060 www.example.com."]
    );
    assert_eq!(
        lines(&r.additionals),
        [
            "www.example.com. 3600 IN A 192.0.2.80",
            "www.example.com. 3600 IN AAAA 2001:db8::80"
        ]
    );
}

#[test]
fn tcp_pipelining_answers_in_order() {
    let z = example();
    let mut s = TcpStream::connect(z.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let names = ["www", "mail", "ns1", "nothere", "ftp"];
    let mut burst = Vec::new();
    for i in 0..200u16 {
        let q = build_query(
            i,
            &format!("{}.example.com", names[i as usize % 5]),
            1,
            1,
            None,
        );
        burst.extend_from_slice(&(q.len() as u16).to_be_bytes());
        burst.extend_from_slice(&q);
    }
    // One write holding 200 queries, the last one split in two writes.
    let split = burst.len() - 5;
    s.write_all(&burst[..split]).unwrap();
    std::thread::sleep(Duration::from_millis(50));
    s.write_all(&burst[split..]).unwrap();
    for i in 0..200u16 {
        let r = parse(&read_frame(&mut s).expect("an answer per query"));
        assert_eq!(r.metadata.id, i, "answers come in query order");
        let expect = if i % 5 == 3 { 3 } else { 0 };
        assert_eq!(u16::from(r.metadata.response_code), expect);
    }
}

#[test]
fn garbage_never_crashes_or_stalls_the_server() {
    let mut z = example();
    let good = build_query(1, "www.example.com", 1, 1, None);
    let mut garbage: Vec<Vec<u8>> = vec![
        vec![],
        vec![0],
        good[..11].to_vec(),
        good[..good.len() - 1].to_vec(),
        // Pointer loop in the question.
        [&good[..12], &[0xc0, 12, 0, 1, 0, 1][..]].concat(),
        // Forward pointer.
        [&good[..12], &[0xc0, 40, 0, 1, 0, 1][..]].concat(),
        // Label running past the end.
        [&good[..12], &[63, b'a', b'b'][..]].concat(),
        // Huge counts.
        [
            &[0, 1, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff][..],
            &good[12..],
        ]
        .concat(),
        // A response (QR set).
        [&good[..2], &[0x81, 0x80], &good[4..]].concat(),
    ];
    let mut x = 0x2545_f491_4f6c_dd1du64;
    for len in [13usize, 40, 100, 512, 1500, 4000] {
        let mut v = vec![0u8; len];
        for b in v.iter_mut() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *b = x as u8;
        }
        v[2] &= 0x7f;
        garbage.push(v);
    }
    for g in &garbage {
        let _ = udp(z.addr, g, Duration::from_millis(50));
    }
    // TCP: each piece of garbage framed, then a huge length prefix with no
    // data, then raw bytes without framing.
    for g in &garbage {
        let _ = tcp(z.addr, g, Duration::from_millis(100));
    }
    let mut s = TcpStream::connect(z.addr).unwrap();
    s.write_all(&[0xff, 0xff, 1, 2, 3]).unwrap();
    drop(s);
    let mut s = TcpStream::connect(z.addr).unwrap();
    s.write_all(&[0u8; 3000]).unwrap();
    drop(s);
    assert!(
        z.process.exited().is_none(),
        "zonecast died:\n{}",
        z.process.log()
    );
    let r = parse(&udp(z.addr, &good, Duration::from_secs(2)).expect("still answers over UDP"));
    assert_eq!(r.answers.len(), 1);
    let r = parse(&tcp(z.addr, &good, Duration::from_secs(2)).expect("still answers over TCP"));
    assert_eq!(r.answers.len(), 1);
}

#[test]
fn idle_and_slow_tcp_clients_are_cut_off() {
    let z = Zonecast::start(
        "tcp_idle_timeout_ms = 300\ntcp_io_timeout_ms = 300\n",
        "[[zone]]\nname = \"example.com.\"\nfile = \"example.com.zone\"\n",
        &[("example.com.zone", EXAMPLE_ZONE)],
    );
    // Idle: connected, sends nothing.
    let mut idle = TcpStream::connect(z.addr).unwrap();
    idle.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    // Slowloris: one octet of a query every 100 ms.
    let mut slow = TcpStream::connect(z.addr).unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let q = build_query(1, "www.example.com", 1, 1, None);
    let mut framed = (q.len() as u16).to_be_bytes().to_vec();
    framed.extend_from_slice(&q);
    let start = Instant::now();
    let mut cut = false;
    for b in &framed[..20] {
        if slow.write_all(&[*b]).is_err() {
            cut = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut buf = [0u8; 16];
    let n = slow.read(&mut buf).unwrap_or(0);
    assert!(cut || n == 0, "slow sender was not cut off");
    assert!(start.elapsed() < Duration::from_secs(4));
    assert_eq!(
        idle.read(&mut buf).unwrap_or(0),
        0,
        "idle connection closed"
    );
    // A normal client still gets answers.
    assert!(tcp(z.addr, &q, Duration::from_secs(2)).is_some());
}

#[test]
fn connection_limit_per_worker() {
    let z = Zonecast::start(
        "tcp_max_connections = 4\nworkers = 1\n",
        "[[zone]]\nname = \"example.com.\"\nfile = \"example.com.zone\"\n",
        &[("example.com.zone", EXAMPLE_ZONE)],
    );
    let held: Vec<TcpStream> = (0..4)
        .map(|_| TcpStream::connect(z.addr).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    // The fifth is accepted and closed at once.
    let mut extra = TcpStream::connect(z.addr).unwrap();
    extra
        .set_read_timeout(Some(Duration::from_secs(3)))
        .unwrap();
    let mut buf = [0u8; 4];
    assert_eq!(extra.read(&mut buf).unwrap_or(0), 0);
    drop(held);
    std::thread::sleep(Duration::from_millis(300));
    let q = build_query(1, "www.example.com", 1, 1, None);
    assert!(
        tcp(z.addr, &q, Duration::from_secs(2)).is_some(),
        "slots come back"
    );
}

#[test]
fn sigterm_stops_cleanly() {
    let mut z = example();
    assert_eq!(z.process.terminate(), Some(0), "{}", z.process.log());
    assert!(z.process.log().contains("stopped"));
}

#[test]
fn bad_configuration_is_reported_by_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(
        &path,
        "[server]\nlisten = [\"127.0.0.1:0\"]\nudp_payload = 100\n",
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_zonecast"))
        .arg("-c")
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("server.udp_payload"), "{err}");
    std::fs::write(&path, "[server]\nlistne = []\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_zonecast"))
        .arg("--config")
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("listne"));
}

#[test]
fn broken_zone_file_is_named_and_answered_with_servfail() {
    let z = Zonecast::start(
        "",
        "[[zone]]\nname = \"example.com.\"\nfile = \"example.com.zone\"\n[[zone]]\nname = \"broken.test.\"\nfile = \"broken.zone\"\n[[zone]]\nname = \"missing.test.\"\nfile = \"missing.zone\"\n",
        &[
            ("example.com.zone", EXAMPLE_ZONE),
            (
                "broken.zone",
                "$TTL 60\n@ SOA ns hm 1 2 3 4 5\nwww A 192.0.2.300\nok A 192.0.2.1\nloc LOC 91 N 0 E 0\n",
            ),
        ],
    );
    let log = z.process.log();
    // Every error, each with its line (as Knot reports them), then a count.
    assert!(
        log.contains("broken.zone:3: A record: bad IPv4 address '192.0.2.300'"),
        "{log}"
    );
    assert!(
        log.contains("broken.zone:5: LOC record: bad degrees '91'"),
        "{log}"
    );
    assert!(
        log.contains("broken.zone: 2 errors, served as SERVFAIL"),
        "{log}"
    );
    // A file that is not there is named without a line number.
    assert!(log.contains("missing.zone: cannot read:"), "{log}");
    assert!(!log.contains("missing.zone:0"), "{log}");
    let r = parse(
        &udp(
            z.addr,
            &build_query(1, "www.broken.test", 1, 1, None),
            Duration::from_secs(2),
        )
        .unwrap(),
    );
    assert_eq!(u16::from(r.metadata.response_code), 2);
    let r = parse(
        &udp(
            z.addr,
            &build_query(1, "www.example.com", 1, 1, None),
            Duration::from_secs(2),
        )
        .unwrap(),
    );
    assert_eq!(r.answers.len(), 1, "other zones still served");
}

#[test]
fn serves_ipv6_loopback() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("example.com.zone"), EXAMPLE_ZONE).unwrap();
    let z = Zonecast::start_with_config(
        dir,
        "[server]\nlisten = [\"127.0.0.1:0\", \"[::1]:0\"]\nworkers = 2\n[[zone]]\nname = \"example.com.\"\nfile = \"example.com.zone\"\n",
    );
    let log = z.process.log();
    let v6: SocketAddr = log
        .lines()
        .find_map(|l| {
            l.split("listening on ")
                .nth(1)
                .and_then(|s| s.split_whitespace().next())
        })
        .into_iter()
        .chain(log.lines().filter_map(|l| {
            l.split("listening on ")
                .nth(1)
                .and_then(|s| s.split_whitespace().next())
        }))
        .filter_map(|s| s.parse().ok())
        .find(|a: &SocketAddr| a.is_ipv6())
        .expect("an IPv6 address in the log");
    let out = dig(v6, &["www.example.com", "AAAA", "+tcp"]);
    assert!(out.contains("2001:db8::80"), "{out}");
    let out = dig(v6, &["www.example.com", "AAAA"]);
    assert!(out.contains("2001:db8::80"), "{out}");
}

/// A second server on an address zonecast serves is refused at start,
/// naming the address, as a second knotd is: through SO_REUSEPORT it
/// would silently take about half the queries.
#[test]
fn a_second_instance_on_the_same_address_refuses_to_start() {
    let port = free_port();
    let config = format!(
        "[server]\nlisten = [\"127.0.0.1:{port}\"]\nworkers = 2\n\
         [[zone]]\nname = \"example.com.\"\nfile = \"example.com.zone\"\n"
    );
    let write = |dir: &std::path::Path| {
        std::fs::write(dir.join("example.com.zone"), EXAMPLE_ZONE).unwrap();
        let path = dir.join("zonecast.toml");
        std::fs::write(&path, &config).unwrap();
        path
    };
    let first_dir = tempfile::tempdir().unwrap();
    write(first_dir.path());
    let first = Zonecast::start_with_config(first_dir, &config);
    assert_eq!(first.addr.port(), port);
    let second_dir = tempfile::tempdir().unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_zonecast"));
    cmd.arg("--config").arg(write(second_dir.path()));
    let mut second = Process::spawn(cmd);
    let status = second.wait_exit(Duration::from_secs(10));
    second.wait_for_log("cannot listen", Duration::from_secs(2));
    let err = second.log();
    assert!(
        status.is_some_and(|s| !s.success()),
        "the second instance started ({status:?}):\n{err}"
    );
    assert!(
        err.contains(&format!("cannot listen on 127.0.0.1:{port}"))
            && err.contains("already in use"),
        "{err}"
    );
    // The first still answers every query.
    for id in 0..20 {
        let r = udp(
            first.addr,
            &build_query(id, "www.example.com", 1, 1, None),
            Duration::from_secs(2),
        )
        .expect("the first instance answers");
        assert_eq!(r[3] & 0x0f, 0);
    }
}

fn small_zone(apex: &str, serial: u32) -> String {
    format!(
        "$ORIGIN {apex}\n$TTL 300\n@ SOA ns hm {serial} 3600 600 86400 60\n@ NS ns\nns A 192.0.2.1\nwww A 192.0.2.{serial}\n"
    )
}

/// The RCODE and, for NOERROR, the SOA serial `addr` gives for `apex`.
fn soa_of(addr: SocketAddr, apex: &str) -> Option<(u16, Option<u32>)> {
    let r = parse(&udp(
        addr,
        &build_query(3, apex, 6, 1, None),
        Duration::from_secs(1),
    )?);
    let serial = r.answers.iter().find_map(|rr| match &rr.data {
        hickory_proto::rr::RData::SOA(soa) => Some(soa.serial),
        _ => None,
    });
    Some((rcode(&r), serial))
}

/// SIGHUP reads the configuration again: a zone added is served, a zone
/// removed is REFUSED, a zone file changed is loaded again, and a broken
/// configuration is refused with its error while the one before keeps
/// running. Queries running throughout are never lost nor answered with
/// an error.
#[test]
fn sighup_reloads_zones_without_losing_a_query() {
    let zone = |name: &str| format!("[[zone]]\nname = \"{name}\"\nfile = \"{name}zone\"\n");
    let server = "[server]\nlisten = [\"127.0.0.1:0\"]\nworkers = 2\n";
    let dir = tempfile::tempdir().unwrap();
    for (apex, serial) in [("a.test.", 1), ("b.test.", 1), ("c.test.", 1)] {
        std::fs::write(
            dir.path().join(format!("{apex}zone")),
            small_zone(apex, serial),
        )
        .unwrap();
    }
    let config = dir.path().join("zonecast.toml");
    let mut zc = Zonecast::start_with_config(
        dir,
        &format!("{server}{}{}", zone("a.test."), zone("b.test.")),
    );
    let addr = zc.addr;
    assert_eq!(soa_of(addr, "b.test."), Some((0, Some(1))));
    assert_eq!(
        soa_of(addr, "c.test."),
        Some((5, None)),
        "not configured yet"
    );
    // Queries for a.test. from another thread, one at a time, for the
    // whole test: each must come back NOERROR.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let asker = {
        let stop = std::sync::Arc::clone(&stop);
        std::thread::spawn(move || {
            let (mut sent, mut bad) = (0u32, Vec::new());
            let q = build_query(9, "www.a.test.", 1, 1, None);
            while !stop.load(std::sync::atomic::Ordering::Relaxed) && sent < 200_000 {
                sent += 1;
                match udp(addr, &q, Duration::from_secs(2)) {
                    Some(r) if rcode(&parse(&r)) == 0 => {}
                    Some(r) => bad.push(format!("rcode {}", rcode(&parse(&r)))),
                    None => bad.push("lost".to_string()),
                }
            }
            (sent, bad)
        })
    };
    std::thread::sleep(Duration::from_millis(200));
    // b.test. out, c.test. in, a.test.'s file at a new serial.
    std::fs::write(zc.dir.path().join("a.test.zone"), small_zone("a.test.", 2)).unwrap();
    std::fs::write(
        &config,
        format!("{server}{}{}", zone("a.test."), zone("c.test.")),
    )
    .unwrap();
    zc.process.signal(1);
    assert!(
        zc.process.wait_for_log("reloaded", Duration::from_secs(5)),
        "{}",
        zc.process.log()
    );
    assert_eq!(soa_of(addr, "c.test."), Some((0, Some(1))), "added");
    assert_eq!(soa_of(addr, "b.test."), Some((5, None)), "removed: REFUSED");
    assert_eq!(
        soa_of(addr, "a.test."),
        Some((0, Some(2))),
        "file loaded again"
    );
    // A broken configuration changes nothing.
    std::fs::write(
        &config,
        format!("{server}[[zone]]\nname = \"d.test.\"\nfile = 42\n"),
    )
    .unwrap();
    zc.process.signal(1);
    assert!(
        zc.process.wait_for_log("reload of", Duration::from_secs(5)),
        "{}",
        zc.process.log()
    );
    assert!(
        zc.process.log().contains("stays in force"),
        "{}",
        zc.process.log()
    );
    assert_eq!(soa_of(addr, "c.test."), Some((0, Some(1))));
    std::thread::sleep(Duration::from_millis(200));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (sent, bad) = asker.join().unwrap();
    assert!(sent > 50, "{sent} queries");
    assert!(
        bad.is_empty(),
        "{} of {sent} not answered NOERROR: {:?}",
        bad.len(),
        &bad[..bad.len().min(5)]
    );
    eprintln!("{sent} queries across two reloads, none lost");
}

/// `zonecast check -c FILE` (issue 12, step 1): 0 and a summary for a good
/// configuration, 2 and every problem for a bad one; nothing is started.
#[test]
fn check_reports_every_problem_and_exits_2() {
    let d = tempfile::tempdir().unwrap();
    let conf = d.path().join("zonecast.toml");
    std::fs::write(
        d.path().join("good.zone"),
        "$TTL 60\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\n",
    )
    .unwrap();
    std::fs::write(
        d.path().join("bad.zone"),
        "$TTL 60\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\nx A 192.0.2.300\ny AAAA zz\n",
    )
    .unwrap();
    let run = |config: &str| {
        std::fs::write(&conf, config).unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_zonecast"))
            .args(["check", "-c"])
            .arg(&conf)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, out, err) = run(
        "[server]\nlisten = [\"127.0.0.1:53\"]\n[[zone]]\nname = \"good.test\"\nfile = \"good.zone\"\n",
    );
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(
        out.contains("1 zones from files, 0 secondary zones, 0 catalogs, 3 records read: OK"),
        "{out}"
    );
    let (code, out, err) = run(
        "[[zone]]\nname = \"good.test\"\nfile = \"good.zone\"\n[[zone]]\nname = \"bad.test\"\nfile = \"bad.zone\"\n",
    );
    assert_eq!(code, Some(2), "{out}{err}");
    let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(errors.len(), 3, "{err}");
    assert!(
        errors[0].contains("bad.zone:4") && errors[1].contains("bad.zone:5"),
        "{err}"
    );
    assert!(out.contains(": 3 problems"), "{out}");
    let (code, _, err) = run("[server]\nworkers = \"many\"\n");
    assert_eq!(code, Some(2));
    assert!(err.contains("error: ") && err.contains("workers"), "{err}");
}

/// Issue 12, step 5: started as root with `user`, zonecast binds its port,
/// becomes that user (every thread), tells systemd it is ready (and
/// reloading, and ready again, around a SIGHUP) by NOTIFY_SOCKET, and
/// still answers; with `--log-format json` every log line is a JSON
/// object.
#[test]
fn under_a_service_manager_it_drops_root_and_reports_readiness() {
    use std::os::unix::fs::PermissionsExt;
    // SAFETY: geteuid takes nothing and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        panic!("this test needs root (the suite runs as root)");
    }
    let d = tempfile::tempdir().unwrap();
    // The user writes nothing here (no secondary zones), but reads it.
    std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(
        d.path().join("a.zone"),
        "$TTL 60\n@ SOA ns hm 7 2 3 4 5\n@ NS ns\nns A 192.0.2.1\n",
    )
    .unwrap();
    let conf = d.path().join("zonecast.toml");
    std::fs::write(
        &conf,
        "[server]\nlisten = [\"127.0.0.1:0\"]\nworkers = 2\nuser = \"nobody\"\n[[zone]]\nname = \"a.test.\"\nfile = \"a.zone\"\n",
    )
    .unwrap();
    let notify_path = d.path().join("notify.sock");
    let notify = std::os::unix::net::UnixDatagram::bind(&notify_path).unwrap();
    notify
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    // Writable by every user, as systemd's own socket is.
    std::fs::set_permissions(&notify_path, std::fs::Permissions::from_mode(0o666)).unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_zonecast"));
    cmd.args(["--log-format", "json", "-c"])
        .arg(&conf)
        .env("NOTIFY_SOCKET", &notify_path)
        .env("RUST_LOG", "info");
    let mut p = Process::spawn(cmd);
    let mut buf = [0u8; 256];
    let n = notify.recv(&mut buf).expect("READY from zonecast");
    let ready = String::from_utf8_lossy(&buf[..n]).into_owned();
    assert!(
        ready.starts_with("READY=1\nSTATUS=serving 1 zones"),
        "{ready}"
    );
    // Every thread runs as nobody.
    let tasks = std::fs::read_dir(format!("/proc/{}/task", p.pid())).unwrap();
    let mut threads = 0;
    for t in tasks {
        let status = std::fs::read_to_string(t.unwrap().path().join("status")).unwrap();
        let uid = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
        assert_eq!(
            uid.split_whitespace().skip(1).collect::<Vec<_>>(),
            ["65534"; 4],
            "{uid}"
        );
        threads += 1;
    }
    assert!(threads > 2, "{threads} threads");
    // It answers, and its log lines are JSON objects.
    assert!(p.wait_for_log("running as user nobody", Duration::from_secs(5)));
    assert!(p.wait_for_log("listening on 127.0.0.1:", Duration::from_secs(5)));
    let log = p.log();
    let listening = log
        .lines()
        .find(|l| l.contains("listening on 127.0.0.1:"))
        .unwrap_or_else(|| panic!("{log}"));
    assert!(
        listening.starts_with("{\"timestamp\":\"") && listening.ends_with("}}"),
        "{listening}"
    );
    assert!(listening.contains("\"level\":\"INFO\""), "{listening}");
    let addr: std::net::SocketAddr = listening
        .split("listening on ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap();
    let r = parse(
        &udp(
            addr,
            &build_query(1, "a.test.", 6, 1, None),
            Duration::from_secs(2),
        )
        .unwrap(),
    );
    assert_eq!(rcode(&r), 0);
    assert_eq!(r.answers.len(), 1);
    assert!(log.contains("running as user nobody"), "{log}");
    // A reload: RELOADING, then READY again.
    p.signal(libc::SIGHUP);
    let n = notify.recv(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"RELOADING=1");
    let n = notify.recv(&mut buf).unwrap();
    assert!(
        buf[..n].starts_with(b"READY=1"),
        "{:?}",
        String::from_utf8_lossy(&buf[..n])
    );
    assert_eq!(p.terminate(), Some(0));
    let n = notify.recv(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"STOPPING=1");
}

/// A user that does not exist stops the start, named.
#[test]
fn an_unknown_user_is_an_error_at_start() {
    let d = tempfile::tempdir().unwrap();
    let conf = d.path().join("zonecast.toml");
    std::fs::write(
        &conf,
        "[server]\nlisten = [\"127.0.0.1:0\"]\nuser = \"no-such-user-zc\"\n",
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_zonecast"))
        .arg("-c")
        .arg(&conf)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no user named \"no-such-user-zc\""), "{err}");
}

/// The hardened unit in tools/systemd passes `systemd-analyze verify`
/// (with the binary where the unit expects it, in a copy).
#[test]
fn the_systemd_unit_verifies() {
    let unit = include_str!("../tools/systemd/zonecast.service");
    let d = tempfile::tempdir().unwrap();
    let bin = d.path().join("zonecast");
    std::fs::copy(env!("CARGO_BIN_EXE_zonecast"), &bin).unwrap();
    let text = unit.replace("/usr/local/bin/zonecast", bin.to_str().unwrap());
    let path = d.path().join("zonecast.service");
    std::fs::write(&path, text).unwrap();
    let out = std::process::Command::new(tool("systemd-analyze"))
        .arg("verify")
        .arg(&path)
        .output()
        .unwrap();
    let said =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert!(!said.contains("zonecast.service:"), "{said}");
    assert!(unit.contains("Type=notify") && unit.contains("DynamicUser=yes"));
}
