//! The AF_XDP path (issue 14), in network namespaces the tests make:
//! zonecast attaches its program to our end of a veth pair, and clients
//! in the namespace ask over it. Where zonecast has no socket on the
//! address asked, only the XDP path can answer; elsewhere its counter
//! tells the paths apart. TCP, other UDP ports and anything else stay
//! with the kernel; the program goes with the process, however it ends;
//! an interface that cannot take it is served over sockets.

mod common;

use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::time::Duration;

use common::netns::{NetPair, exchange};
use common::*;
use hickory_proto::rr::RData;

const ZONE: &str = "$ORIGIN xdp.test.\n$TTL 300\n\
@ SOA ns1 hostmaster 7 3600 600 86400 300\n@ NS ns1\nns1 A 198.51.100.1\n\
www A 198.51.100.80\nwww AAAA 2001:db8::80\n\
big TXT \"0123456789012345678901234567890123456789012345678901234567890123456789\"\n\
big TXT \"1123456789012345678901234567890123456789012345678901234567890123456789\"\n\
big TXT \"2123456789012345678901234567890123456789012345678901234567890123456789\"\n\
big TXT \"3123456789012345678901234567890123456789012345678901234567890123456789\"\n\
big TXT \"4123456789012345678901234567890123456789012345678901234567890123456789\"\n\
big TXT \"5123456789012345678901234567890123456789012345678901234567890123456789\"\n\
big TXT \"6123456789012345678901234567890123456789012345678901234567890123456789\"\n\
big TXT \"7123456789012345678901234567890123456789012345678901234567890123456789\"\n";

const ZONES: &str = "[[zone]]\nname = \"xdp.test.\"\nfile = \"xdp.test.zone\"\n";

/// zonecast on `listen` (127.0.0.1 first, for the harness), with XDP on
/// `xdp` and metrics on a port of its own.
fn start(listen: &[SocketAddr], xdp: &[&str]) -> (Zonecast, SocketAddr) {
    let metrics: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("xdp.test.zone"), ZONE).unwrap();
    let listen: Vec<String> = listen.iter().map(|a| format!("\"{a}\"")).collect();
    let xdp: Vec<String> = xdp.iter().map(|i| format!("\"{i}\"")).collect();
    let config = format!(
        "[server]\nlisten = [{}]\nworkers = 1\nxdp = [{}]\nmetrics = \"{metrics}\"\n{ZONES}",
        listen.join(", "),
        xdp.join(", ")
    );
    (Zonecast::start_with_config(dir, &config), metrics)
}

fn xdp_queries(metrics: SocketAddr) -> f64 {
    sample(
        &http_get(metrics, "/metrics").1,
        "zonecast_xdp_queries_total",
    )
}

/// The one A or AAAA address answered.
fn address(answer: &[u8]) -> IpAddr {
    let m = parse(answer);
    assert_eq!(rcode(&m), 0);
    match &m.answers[0].data {
        RData::A(a) => IpAddr::V4(a.0),
        RData::AAAA(a) => IpAddr::V6(a.0),
        other => panic!("{other:?}"),
    }
}

#[test]
fn udp_over_xdp_for_ipv4_and_ipv6_while_tcp_and_other_ports_stay_with_the_kernel() {
    let pair = NetPair::new('u');
    let port = free_port();
    let at = |ip: IpAddr| SocketAddr::new(ip, port);
    let (zc, metrics) = start(
        &[
            at("127.0.0.1".parse().unwrap()),
            at(pair.host_v4.into()),
            at(pair.host_v6.into()),
        ],
        &[&pair.host_link],
    );
    let log = zc.process.log();
    assert!(
        log.contains(&format!("XDP on {}: UDP port {port}", pair.host_link)),
        "{log}"
    );
    assert!(pair.host_link_state().contains("prog/xdp"));
    let before = xdp_queries(metrics);

    // UDP over both families: answered, and by the XDP worker.
    let v4 = pair.udp_client(false);
    let v6 = pair.udp_client(true);
    let a = build_query(1, "www.xdp.test.", 1, 1, None);
    let aaaa = build_query(2, "www.xdp.test.", 28, 1, Some(EdnsSpec::default()));
    let r4 = exchange(&v4, at(pair.host_v4.into()), &a).expect("an IPv4 answer");
    assert_eq!(address(&r4), "198.51.100.80".parse::<IpAddr>().unwrap());
    let r6 = exchange(&v6, at(pair.host_v6.into()), &aaaa).expect("an IPv6 answer");
    assert_eq!(address(&r6), "2001:db8::80".parse::<IpAddr>().unwrap());
    // The client's size holds over XDP too: 512 octets without EDNS
    // (RFC 1035 §4.2.1), so the big RRset comes truncated, and whole
    // with EDNS.
    let big = build_query(3, "big.xdp.test.", 16, 1, None);
    let cut = exchange(&v4, at(pair.host_v4.into()), &big).unwrap();
    let m = parse(&cut);
    assert!(
        cut.len() <= 512 && m.metadata.truncation,
        "{} octets",
        cut.len()
    );
    let big = build_query(4, "big.xdp.test.", 16, 1, Some(EdnsSpec::default()));
    let whole = exchange(&v6, at(pair.host_v6.into()), &big).unwrap();
    let m = parse(&whole);
    assert!(!m.metadata.truncation && m.answers.len() == 8, "{m:?}");
    // A query from the namespace is the same answer as one on loopback.
    let local = udp(zc.addr, &big, Duration::from_secs(1)).unwrap();
    assert_eq!(whole, local);
    assert_eq!(xdp_queries(metrics) - before, 4.0);

    // TCP to the same address is the kernel's, and zonecast's socket.
    let tcp_at = at(pair.host_v4.into());
    let r = pair.inside(move || {
        let q = build_query(5, "www.xdp.test.", 1, 1, None);
        tcp(tcp_at, &q, Duration::from_secs(2))
    });
    assert_eq!(
        address(&r.expect("a TCP answer")),
        "198.51.100.80".parse::<IpAddr>().unwrap()
    );
    // Another UDP port of the same address reaches the kernel: a socket
    // of ours there gets the datagram.
    let other = UdpSocket::bind(SocketAddr::new(pair.host_v4.into(), 0)).unwrap();
    other
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    v4.send_to(b"not dns", other.local_addr().unwrap()).unwrap();
    let mut buf = [0u8; 64];
    let (n, from) = other.recv_from(&mut buf).expect("the kernel delivers it");
    assert_eq!(
        (&buf[..n], from.ip()),
        (&b"not dns"[..], IpAddr::from(pair.peer_v4))
    );
    assert_eq!(
        xdp_queries(metrics) - before,
        4.0,
        "none of those was XDP's"
    );
}

#[test]
fn the_program_goes_with_the_process_however_it_ends() {
    let pair = NetPair::new('k');
    let port = free_port();
    let target = SocketAddr::new(pair.host_v4.into(), port);
    for kill in [false, true] {
        let (mut zc, _) = start(
            &[format!("127.0.0.1:{port}").parse().unwrap()],
            &[&pair.host_link],
        );
        // zonecast has no socket on the veth address: only XDP answers.
        let client = pair.udp_client(false);
        let q = build_query(9, "www.xdp.test.", 1, 1, None);
        assert!(
            exchange(&client, target, &q).is_some(),
            "{}",
            zc.process.log()
        );
        assert!(pair.host_link_state().contains("prog/xdp"));
        if kill {
            zc.process.signal(libc::SIGKILL);
            assert!(zc.process.wait_exit(Duration::from_secs(10)).is_some());
        } else {
            assert_eq!(zc.process.terminate(), Some(0));
        }
        let state = pair.host_link_state();
        assert!(!state.contains("prog/xdp"), "kill={kill}: {state}");
        // The port is the kernel's again: a socket there gets it.
        let kernel = UdpSocket::bind(target).unwrap();
        kernel
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        client.send_to(&q, target).unwrap();
        let mut buf = [0u8; 512];
        let (n, _) = kernel.recv_from(&mut buf).expect("the kernel path");
        assert_eq!(&buf[..n], &q[..]);
    }
}

#[test]
fn an_interface_that_cannot_take_the_program_is_served_over_sockets() {
    let pair = NetPair::new('f');
    let (_holder, _) = start(&["127.0.0.1:0".parse().unwrap()], &[&pair.host_link]);
    // The interface is taken, and the other does not exist.
    let (zc, metrics) = start(
        &["127.0.0.1:0".parse().unwrap()],
        &[&pair.host_link, "zcnothere0"],
    );
    let log = zc.process.log();
    for name in [pair.host_link.as_str(), "zcnothere0"] {
        assert!(
            log.contains(&format!("XDP on {name}: "))
                && log.contains(&format!("serving {name} over sockets")),
            "{log}"
        );
    }
    assert!(log.contains("no such interface"), "{log}");
    let q = build_query(11, "www.xdp.test.", 1, 1, None);
    let r = udp(zc.addr, &q, Duration::from_secs(1)).expect("answered over sockets");
    assert_eq!(address(&r), "198.51.100.80".parse::<IpAddr>().unwrap());
    // The queue that got no worker is no stalled worker.
    std::thread::sleep(Duration::from_millis(200));
    let (code, body) = http_get(metrics, "/health");
    assert_eq!(code, 200, "{body}");
    assert_eq!(
        sample(&http_get(metrics, "/metrics").1, "zonecast_workers"),
        1.0
    );
}

/// Cookies and rate limiting over XDP see the client's own address: the
/// server cookie is RFC 9018's for the namespace's address, and a flood
/// from it is limited and slipped as on sockets, by the same counters.
#[test]
fn cookies_and_rate_limits_see_the_client_behind_xdp() {
    const SECRET: &str = "5f2f0d8bd0c8c7b1a4e3a2f1e0d9c8b7";
    const CLIENT: [u8; 8] = [0x24, 0x64, 0xc4, 0xab, 0xcf, 0x10, 0xc9, 0x57];
    let pair = NetPair::new('c');
    let metrics: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let zc = Zonecast::start(
        &format!(
            "workers = 1\nxdp = [\"{}\"]\nmetrics = \"{metrics}\"\n\
             [cookies]\nsecret = \"{SECRET}\"\n\
             [rrl]\nenabled = true\nresponses_per_second = 10\nslip = 2\n",
            pair.host_link
        ),
        ZONES,
        &[("xdp.test.zone", ZONE)],
    );
    let to = SocketAddr::new(pair.host_v4.into(), zc.addr.port());
    let client = pair.udp_client(false);
    let unix = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as u32
    };
    let mut opt = vec![0, 10, 0, 8];
    opt.extend_from_slice(&CLIENT);
    let q = build_query(
        21,
        "www.xdp.test.",
        1,
        1,
        Some(EdnsSpec {
            options: &opt,
            ..Default::default()
        }),
    );
    let before = unix();
    let answer = exchange(&client, to, &q).expect("an answer over XDP");
    let after = unix();
    // The COOKIE option is the last 4 + 8 + 16 octets of the answer.
    let cookie = &answer[answer.len() - 24..];
    assert_eq!(&cookie[..8], &CLIENT);
    let peer = IpAddr::from(pair.peer_v4);
    assert!(
        (before..=after).any(|t| rfc9018_cookie(SECRET, &CLIENT, t, peer) == cookie[8..]),
        "the server cookie is for {peer}"
    );

    // A flood without a cookie: at most the rate (and the bucket) in
    // full, every second limited answer slipped with TC.
    let page = |s: &str| sample(&http_get(metrics, "/metrics").1, s);
    let slipped_before = page("zonecast_rrl_responses_total{action=\"slipped\"}");
    let plain = build_query(22, "www.xdp.test.", 1, 1, None);
    let (mut full, mut tc) = (0, 0);
    client
        .set_read_timeout(Some(Duration::from_millis(20)))
        .unwrap();
    let mut buf = [0u8; 1500];
    for _ in 0..200 {
        client.send_to(&plain, to).unwrap();
        if let Ok((n, _)) = client.recv_from(&mut buf) {
            match parse(&buf[..n]).metadata.truncation {
                true => tc += 1,
                false => full += 1,
            }
        }
    }
    // Stragglers.
    while let Ok((n, _)) = client.recv_from(&mut buf) {
        match parse(&buf[..n]).metadata.truncation {
            true => tc += 1,
            false => full += 1,
        }
    }
    assert!((10..100).contains(&full), "{full} answered in full");
    assert!(tc > 0, "none slipped");
    let slipped = page("zonecast_rrl_responses_total{action=\"slipped\"}") - slipped_before;
    assert_eq!(
        slipped,
        f64::from(tc),
        "the client saw what the counters say"
    );
}
