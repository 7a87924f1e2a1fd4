//! A fixed workload for `valgrind --tool=callgrind`: one kind of query,
//! answered `iterations` times from a generated zone. `tools/callgrind`
//! runs it twice (N and 2N) so the difference, divided by N, is the
//! instructions per query without the zone's loading.

use std::sync::Arc;

use std::net::{IpAddr, Ipv4Addr};

use zonecast::answer::cookie::{CookiePolicy, CookieSecret, make};
use zonecast::answer::{MAX_MESSAGE, Outcome, Responder, ResponderConfig, Scratch, Transport};
use zonecast::rrl::{RateLimiter, RrlConfig};
use zonecast::wire::name::parse_name_text;
use zonecast::zone::{Zone, ZoneSet, load_zone_text};

use crate::zonegen;

/// The query of each kind (the same names as the criterion benches).
pub fn query(kind: &str) -> Option<(String, u16)> {
    Some(match kind {
        "positive" => ("h12345.bench.test.".into(), 1),
        "positive_aaaa" => ("h12344.bench.test.".into(), 28),
        "nxdomain" => ("nx987654.bench.test.".into(), 1),
        "nodata" => ("h12345.bench.test.".into(), 15),
        "wildcard" => ("w42.wild.bench.test.".into(), 1),
        "referral" => ("www.d12390.bench.test.".into(), 1),
        "cname" => ("c12381.bench.test.".into(), 1),
        "mx_additional" => ("h12340.bench.test.".into(), 15),
        // The positive query with a valid server cookie (checked, and
        // echoed), and with a rate limiter's bucket taken.
        "positive_cookie" | "positive_rrl" => ("h12345.bench.test.".into(), 1),
        _ => return None,
    })
}

pub const KINDS: &[&str] = &[
    "positive",
    "positive_aaaa",
    "nxdomain",
    "nodata",
    "wildcard",
    "referral",
    "cname",
    "mx_additional",
    "positive_cookie",
    "positive_rrl",
];

const SECRET: [u8; 16] = *b"callgrind secret";

pub fn run(kind: &str, iterations: u64, names: usize) -> Result<(), String> {
    let (name, qtype) =
        query(kind).ok_or_else(|| format!("unknown kind {kind}; one of {KINDS:?}"))?;
    let (text, _) = zonegen::zone(names);
    let apex = parse_name_text(zonegen::APEX, None).map_err(|e| e.to_string())?;
    let built = load_zone_text(text.as_bytes(), "bench", &apex).map_err(|e| e.to_string())?;
    let zones = ZoneSet::new([Zone::primary(Arc::new(built.snapshot))]);
    let cookies = kind == "positive_cookie";
    let responder = Responder::new(ResponderConfig {
        cookies: cookies.then(|| CookiePolicy {
            secret: CookieSecret::new(SECRET),
            previous: None,
            badcookie: false,
        }),
        ..ResponderConfig::default()
    });
    let limiter = (kind == "positive_rrl").then(|| RateLimiter::new(RrlConfig::default(), 7));
    let mut q = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 1];
    q.extend_from_slice(
        parse_name_text(&name, None)
            .map_err(|e| e.to_string())?
            .as_wire(),
    );
    q.extend_from_slice(&qtype.to_be_bytes());
    q.extend_from_slice(&[0, 1, 0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0]);
    if cookies {
        let client = [1u8, 2, 3, 4, 5, 6, 7, 8];
        let server = make(
            &CookieSecret::new(SECRET),
            &client,
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            1_800_000_000,
        );
        q.extend_from_slice(&28u16.to_be_bytes());
        q.extend_from_slice(&[0, 10, 0, 24]);
        q.extend_from_slice(&client);
        q.extend_from_slice(&server);
    } else {
        q.extend_from_slice(&[0, 0]);
    }
    let mut scratch = Scratch::default();
    let mut out = vec![0u8; MAX_MESSAGE];
    let t = Transport::udp(1_800_000_000);
    let mut total = 0usize;
    for _ in 0..iterations {
        if let Outcome::Reply(n) =
            responder.respond(&zones, std::hint::black_box(&q), &t, &mut out, &mut scratch)
        {
            total += n;
        }
        if let Some(l) = &limiter {
            // Every second a new one, as under a steady load.
            let now = 1_800_000_000 + total as u64 / 1_000_000;
            total += l.take(t.source, scratch.facts(), now) as usize;
        }
    }
    std::hint::black_box(total);
    Ok(())
}
