//! The query path piece by piece: parsing a query, finding the zone and
//! the node, writing a response, and the whole query-to-response path for
//! each kind of answer, over UDP and with TCP framing. The zone and the
//! queries come from the benchmark's generator (100k names).

#[path = "../tools/zonecast-bench/zonegen.rs"]
#[allow(dead_code)]
mod zonegen;

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use zonecast::answer::{
    MAX_MESSAGE, Outcome, Request, Responder, ResponderConfig, Scratch, Transport,
};
use zonecast::wire::name::{NameBuf, SuffixHashes, parse_name_text};
use zonecast::wire::writer::{CompressionTable, MessageWriter, Owner, Section};
use zonecast::zone::{Zone, ZoneSet, load_zone_text};

const NAMES: usize = 100_000;

fn zones() -> ZoneSet {
    let (text, _) = zonegen::zone(NAMES);
    let apex = parse_name_text(zonegen::APEX, None).unwrap();
    let built = load_zone_text(text.as_bytes(), "bench", &apex).unwrap();
    ZoneSet::new([Zone::primary(Arc::new(built.snapshot))])
}

/// A query with EDNS, as resolvers send them.
fn query(name: &str, qtype: u16) -> Vec<u8> {
    let mut q = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 1];
    q.extend_from_slice(parse_name_text(name, None).unwrap().as_wire());
    q.extend_from_slice(&qtype.to_be_bytes());
    q.extend_from_slice(&[0, 1, 0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0]);
    q
}

/// One query of each kind of answer.
pub fn kinds() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("positive", query("h12345.bench.test.", 1)),
        ("positive_aaaa", query("h12344.bench.test.", 28)),
        ("nxdomain", query("nx987654.bench.test.", 1)),
        ("nodata", query("h12345.bench.test.", 15)),
        ("wildcard", query("w42.wild.bench.test.", 1)),
        ("referral", query("www.d12390.bench.test.", 1)),
        ("cname", query("c12381.bench.test.", 1)),
        ("mx_additional", query("h12340.bench.test.", 15)),
    ]
}

/// A name in the lowercase form lookups take.
fn lowercase_name(text: &str) -> NameBuf {
    let mut name = NameBuf::from_wire(parse_name_text(text, None).unwrap().as_wire()).unwrap();
    name.make_lowercase();
    name
}

fn bench(c: &mut Criterion) {
    let zs = zones();
    let responder = Responder::new(ResponderConfig::default());
    let mut scratch = Scratch::default();
    let mut out = vec![0u8; MAX_MESSAGE];
    let udp = Transport::udp(1_800_000_000);
    let tcp = Transport::tcp(1_800_000_000);
    let positive = query("h12345.bench.test.", 1);

    c.bench_function("parse_query", |b| {
        let mut req = Request::default();
        b.iter(|| black_box(req.parse(black_box(&positive)).is_ok()))
    });

    c.bench_function("lookup_zone_and_node", |b| {
        let name = lowercase_name("h12345.bench.test.");
        b.iter(|| {
            let h = SuffixHashes::compute(black_box(&name));
            let (zone, _) = zs.find(&name, &h).unwrap();
            let snap = zone.snapshot();
            let snap = snap.as_deref().unwrap();
            black_box(snap.get(name.as_wire(), h.get(0)).is_some())
        })
    });

    c.bench_function("build_response", |b| {
        let mut table = CompressionTable::new(256);
        let name = lowercase_name("h12345.bench.test.");
        let h = SuffixHashes::compute(&name);
        b.iter(|| {
            let mut w = MessageWriter::new(&mut out, &mut table).unwrap();
            w.write_question(&name, &h, 1, 1).unwrap();
            w.write_rr(
                Owner::Pointer(12),
                1,
                1,
                3600,
                &[10, 0, 48, 57],
                Section::Answer,
            )
            .unwrap();
            black_box(w.finish())
        })
    });

    let mut group = c.benchmark_group("respond_udp");
    for (kind, q) in kinds() {
        group.bench_function(kind, |b| {
            b.iter(
                || match responder.respond(&zs, black_box(&q), &udp, &mut out, &mut scratch) {
                    Outcome::Reply(n) => black_box(n),
                    _ => panic!("{kind}: no reply"),
                },
            )
        });
    }
    group.finish();

    // TCP: the length prefix read and written around the same work.
    c.bench_function("respond_tcp_framed", |b| {
        let mut framed = (positive.len() as u16).to_be_bytes().to_vec();
        framed.extend_from_slice(&positive);
        let mut reply = Vec::with_capacity(MAX_MESSAGE + 2);
        b.iter(|| {
            let len = u16::from_be_bytes([framed[0], framed[1]]) as usize;
            let q = &framed[2..2 + len];
            reply.clear();
            if let Outcome::Reply(n) = responder.respond(&zs, q, &tcp, &mut out, &mut scratch) {
                reply.extend_from_slice(&(n as u16).to_be_bytes());
                reply.extend_from_slice(&out[..n]);
            }
            black_box(reply.len())
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
