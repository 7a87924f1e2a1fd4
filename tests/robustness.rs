//! Abuse from the network, each case against a running zonecast: the
//! limits hold, the server keeps answering, and nothing grows without
//! bound (RFC 7766 §6.2 for TCP, RFC 1035 §4.1.1 for QR).

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::*;

const EXAMPLE_ZONE: &str = include_str!("../examples/example.com.zone");
const ZONES: &str = "[[zone]]\nname = \"example.com.\"\nfile = \"example.com.zone\"\n";

fn start(server_extra: &str) -> Zonecast {
    Zonecast::start(server_extra, ZONES, &[("example.com.zone", EXAMPLE_ZONE)])
}

fn www() -> Vec<u8> {
    build_query(7, "www.example.com", 1, 1, None)
}

/// The answer count of a UDP query for www, checked to be a real answer.
fn answers_udp(addr: SocketAddr) -> usize {
    let r = parse(&udp(addr, &www(), Duration::from_secs(2)).expect("an answer over UDP"));
    assert_eq!(r.metadata.id, 7);
    r.answers.len()
}

/// Resident memory of a process, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmRSS in /proc/<pid>/status")
}

/// Whether the server closed `s` (EOF or reset) within `timeout`.
fn closed_within(s: &mut TcpStream, timeout: Duration) -> bool {
    s.set_read_timeout(Some(timeout)).unwrap();
    let mut buf = [0u8; 4096];
    let end = Instant::now() + timeout;
    while Instant::now() < end {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return false,
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => return false,
            Err(_) => return true,
        }
    }
    false
}

#[test]
fn tcp_connections_are_capped_over_all_workers() {
    // Two workers of 10 each, but 3 in all.
    let z = start("workers = 2\ntcp_max_connections = 10\ntcp_max_connections_total = 3\n");
    let mut held: Vec<TcpStream> = (0..3)
        .map(|_| TcpStream::connect(z.addr).unwrap())
        .collect();
    // Each of the three is served.
    for s in &mut held {
        let q = www();
        s.write_all(&(q.len() as u16).to_be_bytes()).unwrap();
        s.write_all(&q).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        assert_eq!(parse(&read_frame(s).expect("answered")).metadata.id, 7);
    }
    // The fourth, whichever worker takes it, is closed at once.
    for _ in 0..4 {
        let mut extra = TcpStream::connect(z.addr).unwrap();
        assert!(
            closed_within(&mut extra, Duration::from_secs(3)),
            "over the total cap"
        );
    }
    drop(held);
    assert!(
        wait_until(Duration::from_secs(3), || tcp(
            z.addr,
            &www(),
            Duration::from_secs(1)
        )
        .is_some()),
        "slots come back"
    );
}

#[test]
fn a_huge_length_prefix_does_not_hold_a_slot() {
    let z = start("tcp_io_timeout_ms = 300\ntcp_max_connections = 2\nworkers = 1\n");
    let rss_before = rss_kib(z.process.pid());
    // Each claims a 65535-octet message and sends a little of it.
    let mut liars: Vec<TcpStream> = (0..2)
        .map(|_| {
            let mut s = TcpStream::connect(z.addr).unwrap();
            s.write_all(&[0xff, 0xff]).unwrap();
            s.write_all(&[0u8; 100]).unwrap();
            s
        })
        .collect();
    for s in &mut liars {
        assert!(
            closed_within(s, Duration::from_secs(3)),
            "cut off after the I/O timeout"
        );
    }
    // Both slots are free again.
    assert!(tcp(z.addr, &www(), Duration::from_secs(2)).is_some());
    assert!(tcp(z.addr, &www(), Duration::from_secs(2)).is_some());
    assert!(rss_kib(z.process.pid()) < rss_before + 8 * 1024);
}

#[test]
fn pipelining_without_reading_is_bounded_and_cut_off() {
    let z = start("tcp_io_timeout_ms = 500\nworkers = 1\n");
    let pid = z.process.pid();
    let rss_before = rss_kib(pid);
    // Up to two million queries (66 MB, more than the kernel buffers on
    // both sides hold) sent without reading one answer.
    let q = www();
    let mut frame = (q.len() as u16).to_be_bytes().to_vec();
    frame.extend_from_slice(&q);
    let burst: Vec<u8> = frame.repeat(1000);
    let mut s = TcpStream::connect(z.addr).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(5))).unwrap();
    let writer_done = Arc::new(AtomicBool::new(false));
    let writer = {
        let mut s = s.try_clone().unwrap();
        let done = Arc::clone(&writer_done);
        std::thread::spawn(move || {
            let mut sent = 0usize;
            for _ in 0..2000 {
                if s.write_all(&burst).is_err() {
                    break;
                }
                sent += 1000;
            }
            done.store(true, Ordering::Relaxed);
            sent
        })
    };
    // The writer blocks once the buffers are full; the server stops
    // reading, then cuts the connection off.
    let mut peak = 0;
    let end = Instant::now() + Duration::from_secs(8);
    while !writer_done.load(Ordering::Relaxed) && Instant::now() < end {
        peak = peak.max(rss_kib(pid));
        // Others are still answered meanwhile.
        assert_eq!(answers_udp(z.addr), 1);
        std::thread::sleep(Duration::from_millis(100));
    }
    let sent = writer.join().unwrap();
    assert!(sent < 2_000_000, "the server read everything: not bounded");
    assert!(
        peak < rss_before + 16 * 1024,
        "memory grew from {rss_before} to {peak} KiB"
    );
    // What it did answer arrives, in order, then the connection ends.
    s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let first = read_frame(&mut s).expect("the first answers were kept");
    assert_eq!(parse(&first).metadata.id, 7);
    assert!(closed_within(&mut s, Duration::from_secs(5)));
    assert!(tcp(z.addr, &www(), Duration::from_secs(2)).is_some());
}

#[test]
fn a_pipelined_batch_beyond_the_output_limit_is_answered_whole_and_in_order() {
    // RFC 7766 §6.2.1.1: the output limit holds reading back, but a client
    // that does read gets every answer. 100 000 queries (3.5 MB) whose
    // answers (5 MB) fill the socket buffers and the 128 KiB limit many
    // times; the reader starts late, so the limit is reached first.
    let z = start("workers = 1\n");
    let n: usize = 100_000;
    let mut batch = Vec::new();
    for i in 0..n {
        let q = build_query(i as u16, "www.example.com", 1, 1, None);
        batch.extend_from_slice(&(q.len() as u16).to_be_bytes());
        batch.extend_from_slice(&q);
    }
    let mut s = TcpStream::connect(z.addr).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(20))).unwrap();
    let writer = {
        let mut s = s.try_clone().unwrap();
        std::thread::spawn(move || s.write_all(&batch).is_ok())
    };
    std::thread::sleep(Duration::from_millis(500));
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    for i in 0..n {
        let a = read_frame(&mut s).unwrap_or_else(|| panic!("answer {i} of {n} never came"));
        let r = parse(&a);
        assert_eq!(r.metadata.id, i as u16, "answer {i} out of order");
        assert_eq!(r.answers.len(), 1, "answer {i}");
    }
    assert!(
        writer.join().unwrap(),
        "the server stopped reading for good"
    );
}

#[test]
fn udp_floods_of_garbage_are_dropped_and_logged_in_a_few_lines() {
    let mut z = start("workers = 1\n");
    let flood = UdpSocket::bind("127.0.0.1:0").unwrap();
    let good = www();
    let response = [&good[..2], &[0x81, 0x80], &good[4..]].concat();
    let shapes: Vec<Vec<u8>> = vec![
        vec![1, 2, 3],
        response.clone(),
        [&good[..12], &[0xc0, 12, 0, 1, 0, 1][..]].concat(),
        [&good[..12], &[63, b'a'][..]].concat(),
        [&good[..2], &[0x01, 0x00, 0, 2], &good[6..]].concat(),
    ];
    let sent = 20_000;
    for i in 0..sent {
        let _ = flood.send_to(&shapes[i % shapes.len()], z.addr);
        if i % 500 == 0 {
            // Let the worker keep up, as a real flood over a real link would.
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    // No reply to any of it, including the response (no reflection loop).
    flood
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let mut buf = [0u8; 512];
    assert!(flood.recv(&mut buf).is_err(), "garbage was answered");
    assert!(
        udp(z.addr, &response, Duration::from_millis(300)).is_none(),
        "a packet with QR=1 was answered"
    );
    assert_eq!(answers_udp(z.addr), 1);
    assert!(
        z.process
            .wait_for_log("malformed or unanswerable", Duration::from_secs(3))
    );
    let lines = z
        .process
        .log()
        .lines()
        .filter(|l| l.contains("malformed or unanswerable"))
        .count();
    assert!(
        (1..=3).contains(&lines),
        "{lines} log lines for {sent} dropped packets"
    );
}

#[test]
fn transfers_and_notify_from_strangers_are_refused() {
    // A secondary zone whose primary is 127.0.0.2 (nobody answers there);
    // queries come from 127.0.0.1.
    let primary_port = free_port();
    let zones = format!(
        "{ZONES}[[zone]]\nname = \"sec.test.\"\nfile = \"sec.test.zone\"\nprimaries = [\"127.0.0.2:{primary_port}\"]\n"
    );
    let mut z = Zonecast::start("", &zones, &[("example.com.zone", EXAMPLE_ZONE)]);
    for qtype in [252u16, 251] {
        let q = build_query(9, "example.com", qtype, 1, None);
        let r = parse(&tcp(z.addr, &q, Duration::from_secs(2)).expect("an answer"));
        assert_eq!(rcode(&r), 9, "AXFR/IXFR refused with NOTAUTH, as Knot does");
        assert!(r.answers.is_empty(), "no zone data leaks");
    }
    // NOTIFY (opcode 4) for the secondary zone from a non-primary.
    let mut notify = build_query(10, "sec.test", 6, 1, None);
    notify[2] = 0x20;
    let r = parse(&udp(z.addr, &notify, Duration::from_secs(2)).expect("an answer"));
    assert_eq!(rcode(&r), 9, "NOTIFY from a stranger is NOTAUTH");
    // The operator hears of both, each once per interval whatever the
    // number (how many a line counts depends on the workers' batches),
    // naming the source.
    for _ in 0..50 {
        udp(z.addr, &notify, Duration::from_secs(2)).expect("an answer");
    }
    for kind in [
        "refused NOTIFY (not from a primary of a served zone, or not signed with its key): ",
        "refused zone transfer requests: ",
    ] {
        let seen = wait_until(Duration::from_secs(3), || {
            z.process
                .log()
                .lines()
                .any(|l| l.contains(kind) && l.contains("latest from 127.0.0.1"))
        });
        assert!(seen, "no '{kind}' line:\n{}", z.process.log());
    }
    std::thread::sleep(Duration::from_millis(300));
    let log = z.process.log();
    assert!(
        log.matches("refused NOTIFY").count() <= 2,
        "at most one line per worker in 10 s:\n{log}"
    );
    // A refused NOTIFY starts no refresh.
    assert!(!log.contains("NOTIFY from"), "{log}");
    assert!(z.process.exited().is_none());
}
