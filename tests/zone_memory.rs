//! What a small secondary zone costs in memory, counted by a global
//! allocator (allocations are deterministic; RSS, with what the
//! allocator keeps besides, is measured by `zonecast-bench zones`):
//! 10,000 zones of 9 records, each built from its text, served by the
//! transfer machine, and published in a zone set, as a node of many
//! customer zones holds them. Issue 10's goal: within 2x the zone's
//! records.
//!
//! Octets are counted as glibc hands them out: the request plus its
//! 8-octet header, in 16-octet steps, 32 at least.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Arc;
use std::sync::atomic::{AtomicIsize, Ordering};

use zonecast::config::Config;
use zonecast::wire::Name;
use zonecast::wire::name::parse_name_text;
use zonecast::xfr::secondary::{Action, LoadedCopy, Secondary, SecondaryZone};
use zonecast::zone::{ZoneSet, load_zone_text};

struct Counting;

/// Octets held, as the allocator rounds them.
static HELD: AtomicIsize = AtomicIsize::new(0);

fn rounded(n: usize) -> isize {
    ((n + 8).div_ceil(16) * 16).max(32) as isize
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        HELD.fetch_add(rounded(l.size()), Ordering::Relaxed);
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        HELD.fetch_sub(rounded(l.size()), Ordering::Relaxed);
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        HELD.fetch_add(rounded(n) - rounded(l.size()), Ordering::Relaxed);
        unsafe { System.realloc(p, l, n) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn held() -> isize {
    HELD.load(Ordering::Relaxed)
}

const ZONES: usize = 10_000;

/// The zone `zonecast-bench zones` serves: 9 records, 3 names.
fn zone_text(i: usize) -> String {
    format!(
        "$ORIGIN z{i}.zones.test.\n$TTL 3600\n@ SOA ns1 hostmaster 1 3600 600 604800 300\n\
         @ NS ns1\n@ NS ns2\nns1 A 198.18.{}.1\nns2 A 198.18.{}.2\n@ A 198.18.{}.3\n\
         @ MX 10 mail\n@ TXT \"customer {i}\"\n@ AAAA 2001:db8::{:x}\n",
        i % 250,
        i % 250,
        i % 250,
        i % 65535
    )
}

/// Octets held per zone by 10,000 zones whose copies are at
/// `file(apex)`: (the snapshot's, everything's, the records' on the wire).
fn per_zone(file: impl Fn(&Name) -> String) -> (usize, usize, usize) {
    let config = Config::from_text("", std::path::Path::new("/")).unwrap();
    let zones: Vec<(Name, String)> = (0..ZONES)
        .map(|i| {
            let apex = parse_name_text(&format!("z{i}.zones.test."), None).unwrap();
            (apex, zone_text(i))
        })
        .collect();
    let primaries: Arc<[std::net::SocketAddr]> = Arc::from(["127.0.0.1:53".parse().unwrap()]);
    let mut machine = Secondary::new(config.transfer.clone(), 1);
    let start = held();
    let configs: Vec<SecondaryZone> = zones
        .iter()
        .map(|(apex, _)| SecondaryZone {
            apex: apex.clone(),
            file: Arc::from(std::path::Path::new(&file(apex))),
            primaries: primaries.clone(),
            key: None,
            source: None,
            catalog: false,
            zonemd: zonecast::zone::zonemd::ZonemdPolicy::Verify,
            allow_transfer: None,
        })
        .collect();
    machine.reserve(ZONES);

    let before = held();
    let snapshots: Vec<_> = zones
        .iter()
        .map(|(apex, text)| Arc::new(load_zone_text(text.as_bytes(), "z", apex).unwrap().snapshot))
        .collect();
    let snapshot_octets = (held() - before) as usize / ZONES;
    // The records as a transfer carries them, names uncompressed.
    let records = &snapshots[1234];
    assert_eq!(records.record_count(), 9);
    let wire: usize = records
        .records()
        .map(|(owner, _, _, rdata)| owner.len() + 10 + rdata.len())
        .sum();

    let now = 1_800_000_000_000;
    for (config, snapshot) in configs.into_iter().zip(snapshots) {
        let copy = LoadedCopy {
            snapshot,
            expires_at: now + 604_800_000,
            refreshed_at: Some(now),
        };
        machine.add_zone(now, config, Some(copy));
    }
    let mut served = Vec::new();
    while let Some(action) = machine.poll_action() {
        if let Action::Serve(zone) = action {
            served.push(zone);
        }
    }
    let set = ZoneSet::default().with_all(served.drain(..));
    drop(served);
    let total = (held() - start) as usize / ZONES;
    assert_eq!(set.len(), ZONES);
    (snapshot_octets, total, wire)
}

/// The only test of this binary: the count is process-wide.
#[test]
fn a_small_zone_costs_less_than_twice_its_records() {
    // Copies under the usual name (`<apex>zone`, as Knot's default
    // `%s.zone` and every catalog member's): no path is kept per zone.
    let (snapshot, total, wire) = per_zone(|apex| format!("zones/{apex}zone"));
    eprintln!(
        "per zone: records {wire} octets on the wire; snapshot {snapshot}; with its \
         configuration, the transfer machine's state and the zone set {total}"
    );
    // The zone's data: its nodes (the records as answers copy them),
    // their index and the snapshot's header. It was 1159 octets, then
    // 727, and 615 since the node directory lost its TTLs.
    assert!(
        snapshot <= 2 * wire * 3 / 4,
        "a 9-record snapshot takes {snapshot} octets, over 1.5x its {wire} octets of records"
    );
    // Everything a zone holds: the snapshot, its configuration, timers,
    // queue places, served slot and the zone set's (1864 octets in the
    // first count, 1234 when the 2026-12-02 round began, 877 since).
    assert!(
        total <= 2 * wire,
        "a zone takes {total} octets, over 2x its {wire} octets of records ({snapshot} of them its snapshot)"
    );
    // A copy named otherwise keeps its path: the cost of that, bounded.
    let (_, odd, _) = per_zone(|apex| format!("zones/copy-of-{apex}"));
    eprintln!("per zone, each copy under a name of its own: {odd}");
    assert!(
        odd <= total + 128,
        "a path of its own takes {} octets a zone",
        odd - total
    );
}
