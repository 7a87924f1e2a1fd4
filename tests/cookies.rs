//! DNS cookies (RFC 7873, server cookies as RFC 9018) with real clients
//! and a real peer (issue 13, step 1): dig and kdig get a server cookie
//! and have it accepted; a cookie from more than half an hour ago is
//! replaced, one from more than an hour ago is invalid (BADCOOKIE where
//! the configuration asks for it, over UDP only); two zonecast nodes
//! sharing a secret accept each other's cookies, and so do zonecast and
//! Knot DNS with its cookies module on the same secret; a malformed
//! COOKIE gets FORMERR; the secret is in no log line and no metric.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::*;

const SECRET: &str = "5f2f0d8bd0c8c7b1a4e3a2f1e0d9c8b7";
const ROTATED: &str = "00112233445566778899aabbccddeeff";
const ZONE: &str =
    "$TTL 300\n@ SOA ns hm 1 3600 600 86400 60\n@ NS ns\nns A 192.0.2.53\nwww A 192.0.2.80\n";
const CLIENT: [u8; 8] = [0x24, 0x64, 0xc4, 0xab, 0xcf, 0x10, 0xc9, 0x57];

fn node(cookies: &str, extra_server: &str) -> Zonecast {
    Zonecast::start(
        extra_server,
        &format!("[cookies]\n{cookies}\n[[zone]]\nname = \"cookie.test.\"\nfile = \"z.zone\"\n"),
        &[("z.zone", ZONE)],
    )
}

fn unix() -> u32 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as u32
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// The server cookie RFC 9018 §4.2 defines, for a client at 127.0.0.1.
fn server_cookie(secret: &str, client: &[u8; 8], at: u32) -> Vec<u8> {
    rfc9018_cookie(secret, client, at, [127, 0, 0, 1].into())
}

/// A query for www.cookie.test. A with this COOKIE option content.
fn query_with_cookie(id: u16, cookie: &[u8]) -> Vec<u8> {
    let mut opt = vec![0, 10];
    opt.extend_from_slice(&(cookie.len() as u16).to_be_bytes());
    opt.extend_from_slice(cookie);
    build_query(
        id,
        "www.cookie.test.",
        1,
        1,
        Some(EdnsSpec {
            options: &opt,
            ..Default::default()
        }),
    )
}

/// The RCODE and the COOKIE option of an answer.
fn rcode_and_cookie(answer: &[u8]) -> (u16, Option<Vec<u8>>) {
    let m = parse(answer);
    let cookie = m.edns.as_ref().and_then(|e| {
        e.options().as_ref().iter().find_map(|(code, o)| {
            (u16::from(*code) == 10).then(|| {
                let mut v = Vec::new();
                if let hickory_proto::rr::rdata::opt::EdnsOption::Unknown(_, d) = o {
                    v = d.clone();
                }
                v
            })
        })
    });
    (rcode(&m), cookie)
}

fn ask(addr: SocketAddr, q: &[u8]) -> (u16, Option<Vec<u8>>) {
    rcode_and_cookie(&udp(addr, q, Duration::from_secs(2)).expect("an answer"))
}

/// The cookie dig or kdig printed (hex, client then server).
fn printed_cookie(out: &str) -> Option<String> {
    out.lines().find_map(|l| {
        let rest = l.split("COOKIE: ").nth(1)?;
        Some(rest.split_whitespace().next()?.to_ascii_lowercase())
    })
}

#[test]
fn dig_and_kdig_get_a_cookie_and_have_it_accepted() {
    let zc = node(&format!("secret = \"{SECRET}\""), "");
    let (host, port) = (zc.addr.ip().to_string(), zc.addr.port().to_string());
    for tool_name in ["dig", "kdig"] {
        let at = format!("@{host}");
        let first = run(
            tool_name,
            &[
                &at,
                "-p",
                &port,
                "www.cookie.test",
                "A",
                "+cookie=0102030405060708",
            ],
        );
        let cookie = printed_cookie(&first).unwrap_or_else(|| panic!("{tool_name}: {first}"));
        assert_eq!(cookie.len(), 48, "8 + 16 octets: {first}");
        assert!(cookie.starts_with("0102030405060708"), "{first}");
        assert_eq!(&cookie[16..24], "01000000", "version 1: {first}");
        assert!(first.contains("192.0.2.80"), "answered too: {first}");
        if tool_name == "dig" {
            assert!(first.contains("(good)"), "{first}");
        }
        // Sent back, the same cookie comes back: valid, and young.
        let second = run(
            tool_name,
            &[
                &at,
                "-p",
                &port,
                "www.cookie.test",
                "A",
                &format!("+cookie={cookie}"),
            ],
        );
        assert_eq!(
            printed_cookie(&second).as_deref(),
            Some(cookie.as_str()),
            "{second}"
        );
        assert!(
            second.contains("NOERROR") && second.contains("192.0.2.80"),
            "{second}"
        );
        // The same by hand, checked against RFC 9018's construction.
        let (code, c) = ask(zc.addr, &query_with_cookie(1, &unhex(&cookie)));
        assert_eq!((code, c), (0, Some(unhex(&cookie))));
        let stamp = u32::from_be_bytes(unhex(&cookie[24..32]).try_into().unwrap());
        assert_eq!(
            unhex(&cookie[16..]),
            server_cookie(SECRET, &[1, 2, 3, 4, 5, 6, 7, 8], stamp)
        );
        assert!(stamp.abs_diff(unix()) < 30, "stamped now: {stamp}");
    }
}

#[test]
fn old_cookies_are_refreshed_or_refused_and_badcookie_only_when_asked() {
    let lenient = node(&format!("secret = \"{SECRET}\""), "");
    let strict = node(&format!("secret = \"{SECRET}\"\nbadcookie = true"), "");
    let now = unix();
    let with = |at: u32| [CLIENT.to_vec(), server_cookie(SECRET, &CLIENT, at)].concat();
    for zc in [&lenient, &strict] {
        // 40 minutes old: valid, but replaced by a fresh one.
        let (code, c) = ask(zc.addr, &query_with_cookie(2, &with(now - 2400)));
        let c = c.unwrap();
        assert_eq!(code, 0);
        assert_eq!(c[..8], CLIENT);
        assert_ne!(c, with(now - 2400));
        let stamp = u32::from_be_bytes(c[12..16].try_into().unwrap());
        assert!(stamp.abs_diff(unix()) < 30);
        // Two minutes ahead (another node's clock): valid as it is.
        let (code, c) = ask(zc.addr, &query_with_cookie(3, &with(now + 120)));
        assert_eq!((code, c), (0, Some(with(now + 120))));
    }
    // 70 minutes old, or not ours: invalid. Answered with a fresh cookie,
    // or BADCOOKIE with it where configured; over TCP never BADCOOKIE.
    let stale = with(now - 4200);
    let forged = [
        CLIENT.to_vec(),
        vec![1, 0, 0, 0],
        now.to_be_bytes().to_vec(),
        vec![9; 8],
    ]
    .concat();
    for bad in [&stale, &forged] {
        let (code, c) = ask(lenient.addr, &query_with_cookie(4, bad));
        assert_eq!(code, 0);
        assert_ne!(c.as_ref().unwrap(), bad);
        let (code, c) = ask(strict.addr, &query_with_cookie(5, bad));
        assert_eq!(code, 23, "BADCOOKIE");
        let fresh = c.unwrap();
        assert_eq!((fresh.len(), &fresh[..8]), (24, &CLIENT[..]));
        let over_tcp = tcp(
            strict.addr,
            &query_with_cookie(6, bad),
            Duration::from_secs(2),
        )
        .unwrap();
        assert_eq!(rcode_and_cookie(&over_tcp).0, 0, "TCP is proof enough");
        // The fresh one is then accepted.
        let (code, c) = ask(strict.addr, &query_with_cookie(7, &fresh));
        assert_eq!((code, c), (0, Some(fresh)));
    }
    // A client cookie alone: BADCOOKIE from the strict node only.
    assert_eq!(ask(strict.addr, &query_with_cookie(8, &CLIENT)).0, 23);
    assert_eq!(ask(lenient.addr, &query_with_cookie(8, &CLIENT)).0, 0);
    // dig follows a BADCOOKIE by retrying with the cookie it got.
    let out = run(
        "dig",
        &[
            &format!("@{}", strict.addr.ip()),
            "-p",
            &strict.addr.port().to_string(),
            "www.cookie.test",
            "A",
            "+cookie=0102030405060708",
        ],
    );
    assert!(
        out.contains("NOERROR") && out.contains("192.0.2.80"),
        "{out}"
    );
    // A malformed COOKIE (RFC 7873 §5.2.2): FORMERR, at either node.
    for len in [3usize, 12, 41] {
        let (code, c) = ask(strict.addr, &query_with_cookie(9, &vec![5; len]));
        assert_eq!((code, c), (1, None), "length {len}");
    }
}

#[test]
fn nodes_sharing_a_secret_accept_each_others_cookies() {
    let a = node(&format!("secret = \"{SECRET}\""), "");
    // Node b has rotated to a new secret and still accepts the old one.
    let b = node(
        &format!("secret = \"{ROTATED}\"\nprevious_secret = \"{SECRET}\""),
        "",
    );
    let c = node(&format!("secret = \"{ROTATED}\""), "");
    let (_, from_a) = ask(a.addr, &query_with_cookie(1, &CLIENT));
    let from_a = from_a.unwrap();
    assert_eq!(
        ask(a.addr, &query_with_cookie(2, &from_a)),
        (0, Some(from_a.clone()))
    );
    // b accepts a's cookie but answers with one of its current secret.
    let (code, from_b) = ask(b.addr, &query_with_cookie(3, &from_a));
    let from_b = from_b.unwrap();
    assert_eq!(code, 0);
    assert_ne!(from_b, from_a);
    assert_eq!(
        ask(c.addr, &query_with_cookie(4, &from_b)),
        (0, Some(from_b.clone()))
    );
    // Knot DNS with its cookies module on the same secret.
    let knot = Knot::start(
        "",
        &format!(
            "mod-cookies:\n  - id: shared\n    secret: 0x{SECRET}\n\
             zone:\n  - domain: cookie.test\n    module: mod-cookies/shared\n"
        ),
        &[("cookie.test.zone", ZONE)],
        "cookie.test.",
    );
    // Knot's cookie (it sends it with BADCOOKIE to a client cookie
    // alone) is one zonecast accepts as its own.
    let (_, from_knot) = ask(knot.addr, &query_with_cookie(5, &CLIENT));
    let from_knot = from_knot.expect("Knot sent a cookie");
    assert_eq!(from_knot.len(), 24);
    assert_eq!(
        ask(a.addr, &query_with_cookie(6, &from_knot)),
        (0, Some(from_knot.clone()))
    );
    // And zonecast's cookie is one Knot answers normally.
    let (code, _) = ask(knot.addr, &query_with_cookie(7, &from_a));
    assert_eq!(code, 0, "Knot accepted zonecast's cookie");
    let (code, _) = ask(knot.addr, &query_with_cookie(8, &from_b));
    assert_ne!(code, 0, "a cookie of another secret is not Knot's");
}

#[test]
fn the_secret_is_in_no_log_and_no_metric() {
    let metrics = free_port();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("z.zone"), ZONE).unwrap();
    let config = format!(
        "[server]\nlisten = [\"127.0.0.1:0\"]\nworkers = 1\nmetrics = \"127.0.0.1:{metrics}\"\n\
         [cookies]\nsecret = \"{SECRET}\"\nprevious_secret = \"{ROTATED}\"\nbadcookie = true\n\
         [[zone]]\nname = \"cookie.test.\"\nfile = \"z.zone\"\n"
    );
    let mut zc = Zonecast::start_logging(dir, &config, "trace");
    for i in 0..3 {
        ask(zc.addr, &query_with_cookie(i, &CLIENT));
    }
    // Eight octets of client cookie and 22 of a server cookie not ours.
    ask(zc.addr, &query_with_cookie(9, &[1; 30]));
    // Three octets: malformed.
    ask(zc.addr, &query_with_cookie(10, &[1; 3]));
    let page = {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(("127.0.0.1", metrics)).unwrap();
        s.write_all(b"GET /metrics HTTP/1.0\r\n\r\n").unwrap();
        let mut t = String::new();
        s.read_to_string(&mut t).unwrap();
        t
    };
    assert!(
        page.contains("zonecast_queries_cookie_total{cookie=\"client_only\"} 3\n")
            && page.contains("zonecast_queries_cookie_total{cookie=\"invalid\"} 1\n")
            && page.contains("zonecast_queries_cookie_total{cookie=\"malformed\"} 1\n")
            && page.contains("zonecast_responses_total{rcode=\"BADCOOKIE\"} 4\n"),
        "{page}"
    );
    zc.process.terminate();
    let log = zc.process.log();
    assert!(log.contains("listening on"), "{log}");
    for secret in [SECRET, ROTATED] {
        for text in [&log, &page] {
            assert!(!text.to_ascii_lowercase().contains(secret), "{text}");
            assert!(!text.contains(&secret[..12]), "{text}");
        }
    }
}
