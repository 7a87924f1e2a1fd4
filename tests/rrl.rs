//! Response rate limiting end to end (issue 13, step 2): a bounded flood
//! from one loopback source is answered at the configured rate, the rest
//! slipped (empty, TC set) and dropped in the configured proportion,
//! while clients from other prefixes of 127.0.0.0/8 lose nothing; TCP and
//! a valid server cookie are not limited; log-only mode limits nothing
//! and counts what it would have.

mod common;

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::*;

const ZONE: &str =
    "$TTL 300\n@ SOA ns hm 1 3600 600 86400 60\n@ NS ns\nns A 192.0.2.53\nwww A 192.0.2.80\n";
const RATE: u64 = 10;

fn node(rrl: &str) -> (Zonecast, SocketAddr) {
    let metrics = free_port();
    let zc = Zonecast::start(
        &format!(
            "metrics = \"127.0.0.1:{metrics}\"\n[rrl]\nenabled = true\nresponses_per_second = {RATE}\nslip = 2\n{rrl}\n"
        ),
        "[[zone]]\nname = \"rrl.test.\"\nfile = \"z.zone\"\n",
        &[("z.zone", ZONE)],
    );
    (zc, format!("127.0.0.1:{metrics}").parse().unwrap())
}

fn scrape(addr: SocketAddr) -> String {
    http_get(addr, "/metrics").1
}

/// A counter's value in a scrape.
fn sample(page: &str, series: &str) -> u64 {
    common::sample(page, series) as u64
}

fn unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// What came back for `n` queries sent from `from` as fast as it can:
/// (full answers, truncated answers, nothing), and the Unix seconds the
/// sending spanned.
fn flood(from: &str, to: SocketAddr, n: usize, query: &[u8]) -> (usize, usize, usize, u64) {
    let s = UdpSocket::bind((from, 0)).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let first = unix();
    let mut buf = [0u8; 4096];
    let (mut full, mut tc) = (0, 0);
    // In rounds of 50, each read back before the next (the socket's
    // buffer never overflows, so every loss is the server's choice).
    for _ in 0..n / 50 {
        for _ in 0..50 {
            s.send_to(query, to).unwrap();
        }
        let end = Instant::now() + Duration::from_millis(300);
        let mut got = 0;
        while Instant::now() < end && got < 50 {
            match s.recv(&mut buf) {
                Ok(len) => {
                    got += 1;
                    let m = parse(&buf[..len]);
                    if m.metadata.truncation {
                        assert!(m.answers.is_empty() && m.authorities.is_empty());
                        assert_eq!(m.queries.len(), 1, "the question is kept");
                        tc += 1;
                    } else {
                        assert_eq!(m.answers.len(), 1);
                        full += 1;
                    }
                }
                Err(_) => break,
            }
        }
    }
    (full, tc, n - full - tc, unix() - first + 1)
}

/// Clients from other /24s of 127.0.0.0/8, each at half the rate:
/// returns how many of their queries got no full answer.
fn others(to: SocketAddr, rounds: u16) -> usize {
    let mut lost = 0;
    for round in 0..rounds {
        for c in 1..=8u8 {
            let s = UdpSocket::bind((format!("127.0.{c}.9").as_str(), 0)).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
            let mut buf = [0u8; 512];
            for i in 0..(RATE / 2) as u16 {
                let q = build_query(round * 100 + i, "www.rrl.test.", 1, 1, None);
                s.send_to(&q, to).unwrap();
                match s.recv(&mut buf) {
                    Ok(n) if !parse(&buf[..n]).metadata.truncation => {}
                    _ => lost += 1,
                }
            }
        }
        std::thread::sleep(Duration::from_millis(1000));
    }
    lost
}

#[test]
fn a_flood_is_limited_and_everyone_else_is_answered() {
    let (zc, metrics) = node("");
    let to = zc.addr;
    let q = build_query(7, "www.rrl.test.", 1, 1, None);
    let before = scrape(metrics);
    let bystanders = std::thread::spawn(move || others(to, 3));
    let (full, tc, none, seconds) = flood("127.0.0.66", to, 2000, &q);
    // Over TCP, from the flooding address, during the flood: answered.
    for i in 0..20 {
        let r = tcp(
            to,
            &build_query(i, "www.rrl.test.", 1, 1, None),
            Duration::from_secs(2),
        )
        .expect("a TCP answer");
        let m = parse(&r);
        assert!(!m.metadata.truncation && m.answers.len() == 1);
    }
    assert_eq!(bystanders.join().unwrap(), 0, "the others lost nothing");
    let after = scrape(metrics);
    let delta = |series: &str| sample(&after, series) - sample(&before, series);
    let slipped = delta("zonecast_rrl_responses_total{action=\"slipped\"}");
    let dropped = delta("zonecast_rrl_responses_total{action=\"dropped\"}");
    // The rate: a full bucket at the start, then RATE a second.
    assert!(
        full as u64 >= RATE && full as u64 <= RATE * (seconds + 1),
        "{full} full answers in {seconds} s"
    );
    // Every other limited answer slips (one socket: one worker, one
    // count), and the client saw exactly what the server says it did.
    assert_eq!((tc as u64, none as u64), (slipped, dropped), "{after}");
    assert!(
        slipped.abs_diff(dropped) <= 1,
        "slip 2: {slipped} slipped, {dropped} dropped"
    );
    assert_eq!(full + tc + none, 2000);
    assert_eq!(delta("zonecast_rrl_responses_total{action=\"logged\"}"), 0);
}

#[test]
fn a_valid_cookie_is_not_limited_and_log_only_limits_nothing() {
    let (zc, _) = node("");
    // A cookie first, then a flood that carries it.
    let client = [3u8; 8];
    let with_client = |c: &[u8]| {
        let mut opt = vec![0, 10, 0, c.len() as u8];
        opt.extend_from_slice(c);
        build_query(
            5,
            "www.rrl.test.",
            1,
            1,
            Some(EdnsSpec {
                options: &opt,
                ..Default::default()
            }),
        )
    };
    let first = udp(zc.addr, &with_client(&client), Duration::from_secs(2)).unwrap();
    let cookie = parse(&first)
        .edns
        .as_ref()
        .and_then(|e| {
            e.options().as_ref().iter().find_map(|(code, o)| match o {
                hickory_proto::rr::rdata::opt::EdnsOption::Unknown(10, d)
                    if u16::from(*code) == 10 =>
                {
                    Some(d.clone())
                }
                _ => None,
            })
        })
        .expect("a server cookie");
    let (full, tc, none, _) = flood("127.0.0.1", zc.addr, 500, &with_client(&cookie));
    assert_eq!(
        (full, tc, none),
        (500, 0, 0),
        "a proven address is not limited"
    );
    // Log-only: everything answered, the excess counted.
    let (lo, metrics) = node("log_only = true");
    let q = build_query(8, "www.rrl.test.", 1, 1, None);
    let (full, tc, none, seconds) = flood("127.0.0.77", lo.addr, 500, &q);
    assert_eq!((full, tc, none), (500, 0, 0));
    let page = scrape(metrics);
    let logged = sample(&page, "zonecast_rrl_responses_total{action=\"logged\"}");
    assert!(
        logged >= 500 - RATE * (seconds + 1) && logged <= 500 - RATE,
        "{logged} logged in {seconds} s"
    );
}
