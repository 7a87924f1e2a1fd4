//! The query path allocates nothing: a counting global allocator watches
//! thousands of varied queries go through the answer engine, in batches
//! with their lookups started ahead as the UDP workers do.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::Arc;

use zonecast::answer::cookie::{CookiePolicy, CookieSecret};
use zonecast::answer::{
    Lookahead, MAX_MESSAGE, Outcome, Responder, ResponderConfig, Scratch, Transport,
};
use zonecast::wire::name::parse_name_text;
use zonecast::zone::{Zone, ZoneSet, load_zone_text};

struct Counting;

thread_local! {
    /// Allocations made by this thread: tests run in parallel, and only
    /// the answering thread's count matters.
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn count_one() {
    let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
}

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        count_one();
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        count_one();
        unsafe { System.realloc(p, l, n) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const ZONE: &str = include_str!("data/diff.test.zone");

fn query(id: u16, name: &str, qtype: u16, qclass: u16, edns: bool, nsid: bool) -> Vec<u8> {
    let mut q = id.to_be_bytes().to_vec();
    q.extend_from_slice(&[1, 0, 0, 1, 0, 0, 0, 0, 0, edns as u8]);
    q.extend_from_slice(parse_name_text(name, None).unwrap().as_wire());
    q.extend_from_slice(&qtype.to_be_bytes());
    q.extend_from_slice(&qclass.to_be_bytes());
    if edns {
        let opts: &[u8] = if nsid { &[0, 3, 0, 0, 0, 9, 0, 0] } else { &[] };
        q.extend_from_slice(&[0, 0, 41, 4, 0xd0, 0, 0, 0x80, 0]);
        q.extend_from_slice(&(opts.len() as u16).to_be_bytes());
        q.extend_from_slice(opts);
    }
    q
}

#[test]
fn answering_allocates_nothing() {
    let apex = parse_name_text("diff.test.", None).unwrap();
    let built = load_zone_text(ZONE.as_bytes(), "diff", &apex).unwrap();
    let zones = ZoneSet::new([Zone::primary(Arc::new(built.snapshot))]);
    // Cookies answered (BADCOOKIE too): making and checking them
    // allocates nothing either.
    let responder = Responder::new(ResponderConfig {
        cookies: Some(CookiePolicy {
            secret: CookieSecret::new(*b"no allocation!!!"),
            previous: None,
            badcookie: true,
        }),
        ..ResponderConfig::default()
    });
    let names = [
        "www",
        "alias",
        "chain1",
        "loop1",
        "foo.wild",
        "a.b.wild",
        "x.wcname",
        "host.sub",
        "fat",
        "x.fat",
        "x.dn2",
        "x.dn",
        "nx",
        "a.b.c",
        "deep.a.b.c",
        "_sip._tcp",
        "svc",
        "big",
        "huge",
        "to-deleg",
        "to-wild",
        "mxdeleg",
        "",
        "WwW",
        "dangling",
    ];
    let mut queries = Vec::new();
    for (i, n) in names.iter().enumerate() {
        let fqdn = if n.is_empty() {
            "diff.test.".to_string()
        } else {
            format!("{n}.diff.test.")
        };
        for (j, t) in [1u16, 28, 15, 16, 2, 6, 5, 255, 43, 33, 64, 65, 0]
            .into_iter()
            .enumerate()
        {
            queries.push(query(
                (i * 16 + j) as u16,
                &fqdn,
                t,
                1,
                j % 2 == 0,
                j % 3 == 0,
            ));
        }
    }
    queries.push(query(1, "id.server.", 16, 3, true, true));
    queries.push(query(2, "other.example.", 1, 1, true, false));
    // A client cookie, then with a server cookie (not ours), then
    // malformed.
    for (i, opt) in [
        &[0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8][..],
        &[[0, 10, 0, 24].as_slice(), &[7; 24]].concat(),
        &[0, 10, 0, 3, 1, 2, 3],
    ]
    .into_iter()
    .enumerate()
    {
        let mut q = query(10 + i as u16, "www.diff.test.", 1, 1, true, false);
        let len = q.len();
        q[len - 2..].copy_from_slice(&(opt.len() as u16).to_be_bytes());
        q.extend_from_slice(opt);
        queries.push(q);
    }
    let mut garbage = query(3, "www.diff.test.", 1, 1, false, false);
    garbage.push(0);
    queries.push(garbage);
    let (replies, allocations) = allocations_answering(&zones, &responder, &queries);
    assert!(replies > 5000, "{replies} replies");
    assert_eq!(
        allocations, 0,
        "{allocations} allocations for {replies} answers"
    );
}

/// Answers every query 20 times, in lookahead batches, over UDP and TCP
/// by turns; returns the replies and the allocations made meanwhile.
fn allocations_answering(
    zones: &ZoneSet,
    responder: &Responder,
    queries: &[Vec<u8>],
) -> (usize, usize) {
    let mut out = vec![0u8; MAX_MESSAGE];
    let mut scratch = Scratch::default();
    let udp = Transport::udp(1_800_000_000);
    let tcp = Transport::tcp(1_800_000_000);
    // Warm up once (nothing is lazily allocated, but be fair).
    for q in queries {
        responder.respond(zones, q, &udp, &mut out, &mut scratch);
    }
    let before = allocations();
    let mut replies = 0usize;
    let mut ahead = Lookahead::<32>::default();
    for round in 0..20 {
        for batch in queries.chunks(32) {
            ahead.clear();
            for q in batch {
                ahead.add(zones, q);
            }
            ahead.finish();
            for q in batch {
                let t = if round % 2 == 0 { &udp } else { &tcp };
                if let Outcome::Reply(n) = responder.respond(zones, q, t, &mut out, &mut scratch) {
                    assert!(n >= 12);
                    replies += 1;
                }
            }
        }
    }
    (replies, allocations() - before)
}

/// The DO=1 path of a signed zone (RRSIGs, NSEC proofs, wildcards,
/// referrals with DS) allocates nothing either. The zone is signed for
/// the run with BIND's dnssec-signzone (tools/test.sh installs it).
#[test]
fn answering_a_signed_zone_with_do_allocates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("zone"), include_str!("data/signed.test.zone")).unwrap();
    for args in [
        &[
            "-q",
            "-K",
            ".",
            "-a",
            "ECDSAP256SHA256",
            "-f",
            "KSK",
            "-n",
            "ZONE",
            "signed.test",
        ][..],
        &[
            "-q",
            "-K",
            ".",
            "-a",
            "ECDSAP256SHA256",
            "-n",
            "ZONE",
            "signed.test",
        ][..],
    ] {
        let st = std::process::Command::new("dnssec-keygen")
            .current_dir(d)
            .args(args)
            .status();
        assert!(
            st.is_ok_and(|s| s.success()),
            "dnssec-keygen: run tools/test.sh, which installs it"
        );
    }
    let st = std::process::Command::new("dnssec-signzone")
        .current_dir(d)
        .args([
            "-q",
            "-K",
            ".",
            "-S",
            "-o",
            "signed.test",
            "-f",
            "signed",
            "zone",
        ])
        .status();
    assert!(st.is_ok_and(|s| s.success()));
    let text = std::fs::read(d.join("signed")).unwrap();
    let apex = parse_name_text("signed.test.", None).unwrap();
    let built = load_zone_text(&text, "signed", &apex).unwrap();
    assert!(built.snapshot.is_signed());
    let zones = ZoneSet::new([Zone::primary(Arc::new(built.snapshot))]);
    let responder = Responder::new(ResponderConfig::default());
    let mut queries = Vec::new();
    for (i, name) in [
        "",
        "www.",
        "ent.",
        "a.ent.",
        "x.wild.",
        "y.b.ent.",
        "to-wild.",
        "to-nowhere.",
        "foo.alias.",
        "secure.",
        "host.secure.",
        "insecure.",
        "nx.",
        "below.www.",
        "zzz.",
    ]
    .iter()
    .enumerate()
    {
        for (j, t) in [1u16, 28, 15, 16, 43, 48, 46, 47, 255].iter().enumerate() {
            let name = format!("{name}signed.test.");
            queries.push(query((i * 16 + j) as u16, &name, *t, 1, true, j % 3 == 0));
        }
    }
    let (replies, allocations) = allocations_answering(&zones, &responder, &queries);
    assert!(replies > 2000, "{replies} replies");
    assert_eq!(
        allocations, 0,
        "{allocations} allocations for {replies} DO=1 answers"
    );
}
