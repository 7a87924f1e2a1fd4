//! A fixed workload for `valgrind --tool=callgrind`: one kind of query,
//! answered `iterations` times from a generated zone. `tools/callgrind`
//! runs it twice (N and 2N) so the difference, divided by N, is the
//! instructions per query without the zone's loading.

use std::sync::Arc;

use zonecast::answer::{MAX_MESSAGE, Outcome, Responder, ResponderConfig, Scratch, Transport};
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
];

pub fn run(kind: &str, iterations: u64, names: usize) -> Result<(), String> {
    let (name, qtype) =
        query(kind).ok_or_else(|| format!("unknown kind {kind}; one of {KINDS:?}"))?;
    let (text, _) = zonegen::zone(names);
    let apex = parse_name_text(zonegen::APEX, None).map_err(|e| e.to_string())?;
    let built = load_zone_text(text.as_bytes(), "bench", &apex).map_err(|e| e.to_string())?;
    let zones = ZoneSet::new([Zone::primary(Arc::new(built.snapshot))]);
    let responder = Responder::new(ResponderConfig::default());
    let mut q = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 1];
    q.extend_from_slice(
        parse_name_text(&name, None)
            .map_err(|e| e.to_string())?
            .as_wire(),
    );
    q.extend_from_slice(&qtype.to_be_bytes());
    q.extend_from_slice(&[0, 1, 0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0]);
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
    }
    std::hint::black_box(total);
    Ok(())
}
