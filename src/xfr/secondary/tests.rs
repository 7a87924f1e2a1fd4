//! The secondary's scheduling, with simulated time and stand-in primaries
//! that answer through the real exchange code (compiled only under
//! `#[cfg(test)]`, declared in `secondary.rs`).

use std::collections::HashMap;
use std::time::Duration;

use super::*;
use crate::wire::Message;
use crate::wire::iana::rtype;
use crate::wire::name::parse_name_text;
use crate::xfr::encode::encode_transfer;
use crate::xfr::stream::Limits;
use crate::xfr::timers::TimerPolicy;
use crate::zone::Rr;
use crate::zone::text::ZoneFileReader;

/// REFRESH 1 h, RETRY 10 min, EXPIRE 1 day.
const REFRESH: Millis = 3_600_000;
const RETRY: Millis = 600_000;
const EXPIRE: Millis = 86_400_000;
const START: Millis = 1_800_000_000_000;

fn settings(max_concurrent: usize, max_per_primary: usize) -> TransferSettings {
    TransferSettings {
        policy: TimerPolicy::default(),
        limits: Limits {
            max_records: 10_000,
            max_bytes: 1 << 22,
            max_messages: 1000,
            nsec3_max_iterations: 150,
            zonemd: crate::zone::zonemd::ZonemdPolicy::Verify,
            journal: crate::zone::journal::JournalLimits {
                max_depth: 20,
                max_usage: 1 << 20,
            },
        },
        max_concurrent,
        max_per_primary,
        soa_query_rate: 100,
        max_duration: Duration::from_secs(60),
        connection_keep: Duration::from_millis(IDLE_KEEP_MS),
        connect_timeout: Duration::from_secs(3),
        io_timeout: Duration::from_secs(5),
    }
}

fn name(s: &str) -> Name {
    parse_name_text(s, None).unwrap()
}

fn records(apex: &Name, serial: u32) -> Vec<Rr> {
    let text = format!(
        "$TTL 60\n@ SOA ns hm {serial} 3600 600 86400 300\n@ NS ns\nns A 192.0.2.1\nwww A 192.0.2.{}\n",
        serial % 250
    );
    let mut r = ZoneFileReader::new(text.as_bytes(), "t", apex.clone());
    let mut v = Vec::new();
    while let Some(rr) = r.next_record().unwrap() {
        v.push(rr);
    }
    v
}

/// How a stand-in primary behaves.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Behaviour {
    Answers,
    /// Refuses connections.
    Down,
    /// Accepts connections and never answers.
    Silent,
}

struct Primary {
    serial: u32,
    behaviour: Behaviour,
    /// Query types asked, in order.
    asked: Vec<u16>,
}

/// The network and disk around the machine: stand-in primaries, and a
/// record of everything the machine asked for.
struct World {
    primaries: HashMap<SocketAddr, Primary>,
    conns: HashMap<ConnId, SocketAddr>,
    /// Zones added to the set served.
    served: Vec<Arc<Zone>>,
    /// Serials published into them, in order.
    published: Vec<u32>,
    persisted: Vec<PersistRequest>,
    connects: Vec<(Millis, SocketAddr)>,
    /// SOA queries, when and to whom: a refresh of a zone with a copy
    /// starts with one, on a new connection or a kept one.
    soa_queries: Vec<(Millis, SocketAddr)>,
    /// Queries a silent primary got, to answer late with `release`.
    held: Vec<(ConnId, Vec<u8>)>,
    unserved: Vec<Name>,
    forgotten: Vec<Arc<Path>>,
}

impl World {
    fn new() -> Self {
        World {
            primaries: HashMap::new(),
            conns: HashMap::new(),
            served: Vec::new(),
            published: Vec::new(),
            persisted: Vec::new(),
            connects: Vec::new(),
            soa_queries: Vec::new(),
            held: Vec::new(),
            unserved: Vec::new(),
            forgotten: Vec::new(),
        }
    }

    /// The primary of the held queries answers them now.
    fn release(&mut self, m: &mut Secondary, now: Millis) {
        for (conn, q) in std::mem::take(&mut self.held) {
            let Some(&addr) = self.conns.get(&conn) else {
                continue;
            };
            self.primaries.get_mut(&addr).unwrap().behaviour = Behaviour::Answers;
            let reply = self.answer(now, addr, &q);
            m.handle_data(now, conn, &reply);
            self.settle(m, now);
        }
    }

    fn primary(&mut self, port: u16, serial: u32, behaviour: Behaviour) -> SocketAddr {
        let addr: SocketAddr = format!("192.0.2.53:{port}").parse().unwrap();
        self.primaries.insert(
            addr,
            Primary {
                serial,
                behaviour,
                asked: Vec::new(),
            },
        );
        addr
    }

    fn set(&mut self, addr: SocketAddr, serial: u32, behaviour: Behaviour) {
        let p = self.primaries.get_mut(&addr).unwrap();
        p.serial = serial;
        p.behaviour = behaviour;
    }

    /// Does what the machine asks, until it asks nothing more.
    fn settle(&mut self, m: &mut Secondary, now: Millis) {
        while let Some(a) = m.poll_action() {
            match a {
                Action::Connect { conn, primary, .. } => {
                    self.connects.push((now, primary));
                    match self.primaries.get(&primary).map(|p| p.behaviour) {
                        Some(Behaviour::Down) | None => {
                            let e = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
                            m.handle_closed(now, conn, ConnError::Connect(e));
                        }
                        Some(_) => {
                            self.conns.insert(conn, primary);
                            m.handle_connected(now, conn);
                        }
                    }
                }
                Action::Send { conn, bytes } => {
                    let addr = self.conns[&conn];
                    if self.primaries[&addr].behaviour == Behaviour::Silent {
                        self.held.push((conn, bytes.clone()));
                    }
                    let reply = self.answer(now, addr, &bytes);
                    if !reply.is_empty() {
                        m.handle_data(now, conn, &reply);
                    }
                }
                Action::Close { conn } => {
                    self.conns.remove(&conn);
                }
                Action::Serve(z) => self.served.push(z),
                Action::Publish { zone, snapshot } => {
                    self.published.push(snapshot.serial());
                    zone.publish(Some(snapshot));
                }
                Action::Persist(p) => self.persisted.push(p),
                Action::Unserve(z) => self.unserved.push(z.apex.clone()),
                Action::Forget(f) => self.forgotten.push(f),
            }
        }
    }

    /// The stand-in primary's framed answer to framed queries.
    fn answer(&mut self, now: Millis, addr: SocketAddr, framed: &[u8]) -> Vec<u8> {
        let p = self.primaries.get_mut(&addr).unwrap();
        let mut out = Vec::new();
        for q in Frames::new(framed) {
            let m = Message::new_checked(q).unwrap();
            let question = m.parse().unwrap().question.unwrap();
            p.asked.push(question.qtype);
            if question.qtype == rtype::SOA {
                self.soa_queries.push((now, addr));
            }
            if p.behaviour != Behaviour::Answers {
                continue;
            }
            let apex = Name::from_wire(question.name().as_wire()).unwrap();
            let id = u16::from_be_bytes([q[0], q[1]]);
            let mut recs = records(&apex, p.serial);
            let msgs = if question.qtype == rtype::SOA {
                recs.truncate(1);
                encode_transfer(id, apex.as_wire(), question.qtype, &recs, 10)
            } else {
                // AXFR, and IXFR answered AXFR-style (RFC 1995 §4).
                recs.push(recs[0].clone());
                encode_transfer(id, apex.as_wire(), question.qtype, &recs, 10)
            };
            for msg in msgs {
                out.extend_from_slice(&(msg.len() as u16).to_be_bytes());
                out.extend_from_slice(&msg);
            }
        }
        out
    }

    /// Runs the clock from `from` to `to`, waking the machine at each of
    /// its deadlines; returns `to`.
    fn run(&mut self, m: &mut Secondary, to: Millis) -> Millis {
        self.settle(m, to);
        while let Some(t) = m.next_deadline() {
            if t > to {
                break;
            }
            m.handle_timeout(t);
            self.settle(m, t);
        }
        to
    }

    fn connects_to(&self, addr: SocketAddr) -> Vec<Millis> {
        self.connects
            .iter()
            .filter(|(_, a)| *a == addr)
            .map(|&(t, _)| t)
            .collect()
    }
}

fn zone(apex: &str, primaries: Vec<SocketAddr>) -> SecondaryZone {
    SecondaryZone {
        apex: name(apex),
        file: Path::new(&format!("/nonexistent/{apex}zone")).into(),
        primaries: primaries.into(),
        key: None,
        source: None,
        catalog: false,
        zonemd: crate::zone::zonemd::ZonemdPolicy::Verify,
        allow_transfer: None,
    }
}

fn notify(apex: &str, serial: u32) -> NotifyEvent {
    NotifyEvent {
        zone: name(apex),
        serial: Some(serial),
        source: "192.0.2.53".parse().unwrap(),
    }
}

#[test]
fn first_sync_then_refresh_at_refresh_time_and_nothing_published_when_unchanged() {
    let mut w = World::new();
    let p = w.primary(53, 7, Behaviour::Answers);
    let mut m = Secondary::new(settings(10, 10), 1);
    let z = m.add_zone(START, zone("example.com.", vec![p]), None);
    w.run(&mut m, START);
    assert_eq!(m.serial(z), Some(7));
    // Served at once, empty (SERVFAIL), then serial 7 stored into it.
    assert_eq!(w.served.len(), 1);
    assert_eq!(w.published, [7]);
    assert_eq!(w.served[0].snapshot().as_ref().map(|s| s.serial()), Some(7));
    assert_eq!(w.primaries[&p].asked, [rtype::AXFR]);
    assert!(
        w.persisted[0].snapshot.is_some(),
        "a new version is written"
    );
    // The next refresh comes at REFRESH, up to 10% early (jitter).
    let next = m.next_refresh(z).unwrap();
    assert!((START + REFRESH * 9 / 10..=START + REFRESH).contains(&next));
    w.run(&mut m, next - 1);
    assert_eq!(w.connects.len(), 1, "nothing before the refresh time");
    w.run(&mut m, next);
    assert_eq!(w.connects.len(), 2);
    assert_eq!(w.primaries[&p].asked, [rtype::AXFR, rtype::SOA]);
    // Same serial: timers written, nothing published, expiry moved on.
    assert_eq!(w.published, [7]);
    assert!(w.persisted[1].snapshot.is_none());
    assert_eq!(w.persisted[1].state.expires_at, (next + EXPIRE) / 1000);
    assert_eq!(w.served[0].expires_at(), Some((next + EXPIRE) / 1000));
    // A newer serial at the next refresh brings a transfer and a publish.
    w.set(p, 8, Behaviour::Answers);
    let next = m.next_refresh(z).unwrap();
    w.run(&mut m, next);
    assert_eq!(m.serial(z), Some(8));
    assert_eq!(w.published, [7, 8]);
    assert_eq!(w.served.len(), 1, "a new version does not copy the table");
    assert_eq!(
        w.primaries[&p].asked,
        [rtype::AXFR, rtype::SOA, rtype::SOA, rtype::IXFR]
    );
}

#[test]
fn failures_back_off_from_retry_and_the_copy_expires_at_expire() {
    let mut w = World::new();
    let p = w.primary(53, 7, Behaviour::Answers);
    let mut m = Secondary::new(settings(10, 10), 1);
    let z = m.add_zone(START, zone("example.com.", vec![p]), None);
    w.run(&mut m, START);
    w.set(p, 7, Behaviour::Down);
    let first = m.next_refresh(z).unwrap();
    w.run(&mut m, first + EXPIRE);
    let tries = w.connects_to(p);
    // RETRY, doubling to at most REFRESH (RFC 1034 §4.3.5 leaves the
    // back-off to us; Knot's is the same shape).
    let gaps: Vec<Millis> = tries.windows(2).skip(1).map(|t| t[1] - t[0]).collect();
    assert_eq!(gaps[..4], [RETRY, 2 * RETRY, 4 * RETRY, REFRESH]);
    assert!(gaps[4..].iter().all(|&g| g == REFRESH), "{gaps:?}");
    // The copy served expires EXPIRE after the last good refresh, START,
    // and the served zone sees it without a new publish.
    let served = Arc::clone(&w.served[0]);
    assert_eq!(w.published, [7]);
    assert!(!served.is_expired((START + EXPIRE) / 1000 - 1));
    assert!(served.is_expired((START + EXPIRE) / 1000));
    // The primary comes back: refreshed, no longer expired.
    w.set(p, 7, Behaviour::Answers);
    let next = m.next_refresh(z).unwrap();
    w.run(&mut m, next);
    assert!(!served.is_expired(next / 1000 + 1));
    assert_eq!(w.published, [7], "same serial: nothing published");
}

/// A copy's expiry waits in the expiry queue only when no refresh comes
/// before it; refreshes failing right up to EXPIRE still leave it logged
/// at EXPIRE, not at the next attempt after.
#[test]
fn the_expiry_is_logged_on_time_while_refreshes_fail() {
    let mut w = World::new();
    let p = w.primary(53, 7, Behaviour::Answers);
    let mut m = Secondary::new(settings(10, 10), 1);
    let z = m.add_zone(START, zone("example.com.", vec![p]), None);
    w.run(&mut m, START);
    assert_eq!(m.serial(z), Some(7));
    // Up to date and the kept connection closed, the refresh comes
    // first: the machine's next wakeup.
    w.run(&mut m, START + IDLE_KEEP_MS + 1);
    assert_eq!(m.next_deadline(), m.next_refresh(z));
    assert!(
        m.expiry_queue.is_empty(),
        "no place for an expiry after the refresh"
    );
    w.set(p, 7, Behaviour::Down);
    w.run(&mut m, START + EXPIRE - 1);
    assert!(!m.expiry_logged(z));
    let next = m.next_refresh(z).unwrap();
    assert!(next > START + EXPIRE, "retries are REFRESH apart by now");
    assert_eq!(m.next_deadline(), Some(START + EXPIRE));
    w.run(&mut m, START + EXPIRE);
    assert!(m.expiry_logged(z));
    assert!(m.expiry_queue.is_empty());
}

#[test]
fn a_dead_primary_fails_over_to_the_next_at_once() {
    let mut w = World::new();
    let dead = w.primary(1, 0, Behaviour::Down);
    let live = w.primary(2, 9, Behaviour::Answers);
    let mut m = Secondary::new(settings(10, 10), 1);
    let z = m.add_zone(START, zone("example.com.", vec![dead, live]), None);
    w.run(&mut m, START);
    assert_eq!(m.serial(z), Some(9));
    assert_eq!(w.connects, [(START, dead), (START, live)]);
    // The next round starts from the first primary again.
    let next = m.next_refresh(z).unwrap();
    w.run(&mut m, next);
    assert_eq!(w.connects[2..], [(next, dead), (next, live)]);
    // Both down: one round, then RETRY.
    w.set(live, 9, Behaviour::Down);
    let next = m.next_refresh(z).unwrap();
    w.run(&mut m, next + RETRY);
    assert_eq!(
        w.connects[4..],
        [
            (next, dead),
            (next, live),
            (next + RETRY, dead),
            (next + RETRY, live)
        ]
    );
}

#[test]
fn a_notify_refreshes_at_once_and_cuts_a_stalled_transfer() {
    let mut w = World::new();
    let p = w.primary(53, 7, Behaviour::Answers);
    let mut m = Secondary::new(settings(10, 10), 1);
    let z = m.add_zone(START, zone("example.com.", vec![p]), None);
    w.run(&mut m, START);
    // Not newer than ours: nothing happens (RFC 1996 §4.7).
    m.handle_notify(START + 10_000, &notify("example.com.", 7), START + 10_000);
    w.settle(&mut m, START + 10_000);
    assert_eq!(w.connects.len(), 1);
    // Newer: refreshed at once, and the new serial published.
    w.set(p, 8, Behaviour::Answers);
    let t = START + 20_000;
    m.handle_notify(t, &notify("example.com.", 8), t);
    w.settle(&mut m, t);
    assert_eq!(m.serial(z), Some(8));
    assert_eq!(w.connects.last(), Some(&(t, p)));
    // A primary that goes silent mid-refresh holds the zone only until a
    // NOTIFY comes after a second without a whole message.
    w.set(p, 9, Behaviour::Silent);
    let t = START + 60_000;
    m.handle_notify(t, &notify("example.com.", 9), t);
    w.settle(&mut m, t);
    assert_eq!(m.transfers(), 1);
    m.handle_notify(t + 500, &notify("example.com.", 9), t + 500);
    w.settle(&mut m, t + 500);
    assert_eq!(w.connects.len(), 3, "not stalled long enough to cut");
    w.set(p, 9, Behaviour::Answers);
    let t2 = t + 1_500;
    m.handle_notify(t2, &notify("example.com.", 9), t2);
    // The rate limit (one NOTIFY refresh a second) lets it start at once.
    w.run(&mut m, t2);
    assert_eq!(m.serial(z), Some(9));
    assert_eq!(w.connects.last(), Some(&(t2, p)));
}

#[test]
fn a_silent_primary_is_cut_after_the_message_time() {
    let mut w = World::new();
    let p = w.primary(53, 7, Behaviour::Silent);
    let mut m = Secondary::new(settings(10, 10), 1);
    let z = m.add_zone(START, zone("example.com.", vec![p]), None);
    w.run(&mut m, START + 4_999);
    assert_eq!(m.transfers(), 1);
    w.run(&mut m, START + 5_000);
    assert_eq!(m.transfers(), 0, "io_timeout is 5 s");
    // No copy yet: the first retry after 2 s (bootstrap back-off).
    assert_eq!(m.next_refresh(z), Some(START + 5_000 + 2_000));
}

#[test]
fn limits_on_transfers_hold_zones_back_until_others_end() {
    let mut w = World::new();
    let slow = w.primary(1, 3, Behaviour::Silent);
    let other = w.primary(2, 3, Behaviour::Answers);
    // At most 2 per primary, 3 in all.
    let mut m = Secondary::new(settings(3, 2), 1);
    let zones: Vec<ZoneId> = (0..5)
        .map(|i| m.add_zone(START, zone(&format!("z{i}.example."), vec![slow]), None))
        .collect();
    let fast = m.add_zone(START, zone("fast.example.", vec![other]), None);
    w.run(&mut m, START);
    assert_eq!(w.connects_to(slow), [START, START], "two to the slow one");
    // The third slot went to the other primary, which answered at once.
    assert_eq!(m.serial(fast), Some(3));
    assert_eq!(m.transfers(), 2);
    // When the two time out, the next two start, not sooner.
    w.run(&mut m, START + 4_999);
    assert_eq!(w.connects_to(slow).len(), 2);
    w.run(&mut m, START + 5_000);
    assert_eq!(
        w.connects_to(slow),
        [START, START, START + 5_000, START + 5_000]
    );
    assert!(zones.iter().all(|&z| m.serial(z).is_none()));
    // The machine does not spin while zones wait for a slot: its next
    // deadline is a transfer's, not the waiting zones' past refresh time.
    assert_eq!(m.next_deadline(), Some(START + 10_000));
}

#[test]
fn a_copy_from_disk_is_served_at_once_and_keeps_its_expiry() {
    let mut w = World::new();
    let p = w.primary(53, 7, Behaviour::Down);
    let apex = name("example.com.");
    let mut b = crate::zone::build::SnapshotBuilder::new(&apex);
    for rr in records(&apex, 6) {
        b.add(rr);
    }
    let copy = LoadedCopy {
        snapshot: Arc::new(b.finish().unwrap().snapshot),
        expires_at: START + 1_000,
        refreshed_at: None,
    };
    let mut m = Secondary::new(settings(10, 10), 1);
    let z = m.add_zone(START, zone("example.com.", vec![p]), Some(copy));
    assert_eq!(m.serial(z), Some(6));
    w.settle(&mut m, START);
    let served = Arc::clone(&w.served[0]);
    assert_eq!(served.snapshot().as_ref().map(|s| s.serial()), Some(6));
    assert!(w.published.is_empty());
    assert!(!served.is_expired(START / 1000));
    w.run(&mut m, START + 2_000);
    assert!(served.is_expired((START + 2_000) / 1000));
}

#[test]
fn a_notify_during_a_refresh_brings_another_right_after_it() {
    let mut w = World::new();
    let p = w.primary(53, 7, Behaviour::Answers);
    let mut m = Secondary::new(settings(10, 10), 1);
    let z = m.add_zone(START, zone("example.com.", vec![p]), None);
    w.run(&mut m, START);
    // The timer's refresh is under way, its SOA query not answered yet,
    // when a NOTIFY announces serial 9: the running refresh is not cut
    // (it is not stalled), and another follows it at once (RFC 1996 §4.4:
    // the NOTIFY may be newer than what the running one finds).
    w.set(p, 8, Behaviour::Silent);
    let t = m.next_refresh(z).unwrap();
    w.run(&mut m, t);
    assert_eq!(m.transfers(), 1);
    m.handle_notify(t + 500, &notify("example.com.", 9), t + 500);
    w.settle(&mut m, t + 500);
    assert_eq!(w.soa_queries, [(t, p)], "the running refresh is not cut");
    w.set(p, 8, Behaviour::Silent);
    w.release(&mut m, t + 600);
    assert_eq!(m.serial(z), Some(8));
    assert_eq!(
        w.soa_queries.last(),
        Some(&(t + 600, p)),
        "refreshed again at once"
    );
}

/// A copy of `apex` at `serial`, last confirmed at `refreshed_at`.
fn copy(apex: &str, serial: u32, refreshed_at: Millis) -> LoadedCopy {
    let apex = name(apex);
    let mut b = crate::zone::build::SnapshotBuilder::new(&apex);
    for rr in records(&apex, serial) {
        b.add(rr);
    }
    LoadedCopy {
        snapshot: Arc::new(b.finish().unwrap().snapshot),
        expires_at: refreshed_at + EXPIRE,
        refreshed_at: Some(refreshed_at),
    }
}

/// A restarted node serves every copy at once and sends no SOA query
/// before each zone's own refresh time (Knot's timers survive restarts
/// the same way), then refreshes each, spread by the jitter.
#[test]
fn a_restart_queries_no_primary_before_each_zone_is_due() {
    let mut w = World::new();
    let p = w.primary(53, 5, Behaviour::Answers);
    let mut m = Secondary::new(settings(1000, 1000), 1);
    // Confirmed 10 minutes before the restart.
    let zones: Vec<ZoneId> = (0..1000)
        .map(|i| {
            let apex = format!("z{i}.example.");
            m.add_zone(
                START,
                zone(&apex, vec![p]),
                Some(copy(&apex, 5, START - 600_000)),
            )
        })
        .collect();
    w.run(&mut m, START + 1_000);
    assert_eq!(w.served.len(), 1000);
    assert!(w.served.iter().all(|z| z.is_loaded()), "every copy served");
    assert!(
        w.connects.is_empty() && w.soa_queries.is_empty(),
        "no SOA query at restart"
    );
    let first_due = zones
        .iter()
        .filter_map(|&z| m.next_refresh(z))
        .min()
        .unwrap();
    assert!(first_due >= START - 600_000 + REFRESH * 9 / 10);
    w.run(&mut m, START - 600_000 + REFRESH);
    assert_eq!(w.soa_queries.len(), 1000, "each once, when due");
    // Spread by the jitter, not all in one millisecond.
    let (lo, hi) = w
        .soa_queries
        .iter()
        .fold((Millis::MAX, 0), |(lo, hi), &(t, _)| (lo.min(t), hi.max(t)));
    assert!(hi - lo > REFRESH / 20, "spread over {} ms", hi - lo);
}

/// Copies long overdue at a restart are refreshed at most
/// `soa_query_rate` a second (after a first burst of as many), while a
/// zone with no copy is transferred at once.
#[test]
fn overdue_copies_are_refreshed_at_the_soa_query_rate() {
    let mut w = World::new();
    let p = w.primary(53, 5, Behaviour::Answers);
    let mut m = Secondary::new(settings(1000, 1000), 1);
    for i in 0..500 {
        let apex = format!("z{i}.example.");
        m.add_zone(
            START,
            zone(&apex, vec![p]),
            Some(copy(&apex, 5, START - 2 * REFRESH)),
        );
    }
    w.run(&mut m, START);
    assert_eq!(w.soa_queries.len(), 100, "the first burst");
    let fresh = m.add_zone(START + 10, zone("new.example.", vec![p]), None);
    w.run(&mut m, START + 10);
    assert_eq!(
        m.serial(fresh),
        Some(5),
        "a first transfer is not held back"
    );
    w.run(&mut m, START + 999);
    assert!(w.soa_queries.len() <= 100 + 100, "{}", w.soa_queries.len());
    w.run(&mut m, START + 4_000);
    assert_eq!(
        w.soa_queries.len(),
        500,
        "all done after 4 s at 100 a second"
    );
    let mut per_second = [0usize; 5];
    for &(t, _) in &w.soa_queries {
        per_second[((t - START) / 1000) as usize] += 1;
    }
    assert!(per_second[1..].iter().all(|&n| n <= 101), "{per_second:?}");
}

/// A reload takes a zone out while it transfers: the transfer is closed,
/// the zone unserved and its copy forgotten, and it is never refreshed
/// again; another zone's new primaries apply from its next refresh.
#[test]
fn a_reload_removes_a_zone_and_moves_another_to_new_primaries() {
    let mut w = World::new();
    let slow = w.primary(1, 3, Behaviour::Silent);
    let other = w.primary(2, 4, Behaviour::Answers);
    let mut m = Secondary::new(settings(10, 10), 1);
    let gone = m.add_zone(START, zone("gone.example.", vec![slow]), None);
    let moved = m.add_zone(START, zone("moved.example.", vec![slow]), None);
    w.run(&mut m, START);
    assert_eq!(m.transfers(), 2);
    m.remove_zone(&name("GONE.example."));
    m.update_zone(zone("moved.example.", vec![other]));
    w.settle(&mut m, START + 10);
    assert_eq!(m.transfers(), 1, "the removed zone's transfer is closed");
    assert_eq!(w.unserved, [name("gone.example.")]);
    assert_eq!(
        w.forgotten,
        [Arc::<Path>::from(Path::new(
            "/nonexistent/gone.example.zone"
        ))]
    );
    assert!(m.next_refresh(gone).is_none());
    assert!(m.zone_id(&name("gone.example.")).is_none());
    // The moved zone's running transfer (to the old primary) runs out;
    // the retry goes to the new one.
    w.run(&mut m, START + 60_000);
    assert_eq!(m.serial(moved), Some(4));
    assert!(!w.connects_to(other).is_empty());
    assert_eq!(
        w.connects_to(slow).len(),
        2,
        "never again to the old primary"
    );
    assert_eq!(
        m.configured()
            .map(|z| z.apex.to_string())
            .collect::<Vec<_>>(),
        ["moved.example."]
    );
}

/// A removed zone's place is taken by the next zone added, so a node
/// whose catalogs add and remove zones all day does not grow; the new
/// zone lives its own life there.
#[test]
fn a_removed_zones_place_is_reused() {
    let mut w = World::new();
    let p = w.primary(53, 7, Behaviour::Answers);
    let mut m = Secondary::new(settings(10, 10), 1);
    let gone = m.add_zone(START, zone("gone.example.", vec![p]), None);
    let kept = m.add_zone(START, zone("kept.example.", vec![p]), None);
    w.run(&mut m, START);
    m.remove_zone(&name("gone.example."));
    let new = m.add_zone(START + 1, zone("new.example.", vec![p]), None);
    assert_eq!(new, gone);
    assert_eq!(m.serial(new), None, "nothing of the removed zone is left");
    w.run(&mut m, START + 1);
    assert_eq!(m.serial(new), Some(7));
    assert_eq!(m.serial(kept), Some(7));
    assert_eq!(m.zone_id(&name("new.example.")), Some(gone));
    assert!(m.zone_id(&name("gone.example.")).is_none());
    let third = m.add_zone(START + 2, zone("third.example.", vec![p]), None);
    assert_eq!(third.0, 2, "no free place: a new one");
}

/// Refreshes from one primary go over the connections the ones before
/// left open (RFC 7766 §6.2.1), as many as run at once; kept ones are
/// closed once idle for [`IDLE_KEEP_MS`].
#[test]
fn transfers_to_one_primary_share_kept_connections() {
    let mut w = World::new();
    let p = w.primary(53, 7, Behaviour::Answers);
    let mut m = Secondary::new(settings(4, 4), 1);
    let zones: Vec<ZoneId> = (0..50)
        .map(|i| m.add_zone(START, zone(&format!("z{i}.example."), vec![p]), None))
        .collect();
    w.run(&mut m, START);
    assert!(zones.iter().all(|&z| m.serial(z) == Some(7)));
    assert_eq!(w.connects.len(), 4, "one per transfer that may run at once");
    assert_eq!(w.primaries[&p].asked.len(), 50, "one AXFR per zone");
    assert_eq!(w.conns.len(), 4, "kept open for the next refreshes");
    w.run(&mut m, START + IDLE_KEEP_MS);
    assert!(w.conns.is_empty(), "closed once idle");
    // A later refresh connects anew.
    m.add_zone(
        START + IDLE_KEEP_MS + 1,
        zone("late.example.", vec![p]),
        None,
    );
    w.run(&mut m, START + IDLE_KEEP_MS + 1);
    assert_eq!(w.connects.len(), 5);
}

/// A primary may close a kept connection at any time: a refresh that
/// finds it closed before any answer starts over on a new connection,
/// and that is no failure of the primary (no retry, no failover).
#[test]
fn a_kept_connection_closed_by_the_primary_is_replaced_without_a_failure() {
    let mut w = World::new();
    let p = w.primary(53, 7, Behaviour::Answers);
    let backup = w.primary(54, 7, Behaviour::Answers);
    let mut m = Secondary::new(settings(4, 4), 1);
    m.add_zone(START, zone("a.example.", vec![p, backup]), None);
    w.run(&mut m, START);
    let kept = *w.conns.keys().next().unwrap();
    let b = m.add_zone(START + 10, zone("b.example.", vec![p, backup]), None);
    m.handle_timeout(START + 10);
    // B's query goes out on the kept connection; the primary had closed
    // it: the read ends before any answer.
    let mut sent_on_kept = false;
    while let Some(a) = m.poll_action() {
        match a {
            Action::Send { conn, .. } if conn == kept => sent_on_kept = true,
            Action::Serve(z) => w.served.push(z),
            other => panic!("{other:?}"),
        }
    }
    assert!(sent_on_kept);
    m.handle_closed(START + 10, kept, ConnError::Closed);
    w.settle(&mut m, START + 10);
    assert_eq!(
        m.serial(b),
        Some(7),
        "transferred at once on a new connection"
    );
    assert_eq!(
        w.connects_to(p),
        [START, START + 10],
        "from the same primary"
    );
    assert!(w.connects_to(backup).is_empty(), "no failover");
}

/// An operator's refresh runs at once (an SOA check, then IXFR when the
/// primary is newer); a retransfer asks AXFR whatever the serials; the
/// reports say what was served, when it refreshed and why it failed.
#[test]
fn operators_refresh_and_retransfer_now_and_read_each_zones_state() {
    let mut w = World::new();
    let p = w.primary(53, 7, Behaviour::Answers);
    let mut m = Secondary::new(settings(10, 10), 1);
    let z = m.add_zone(START, zone("example.com.", vec![p]), None);
    w.run(&mut m, START);
    assert_eq!(w.primaries[&p].asked, [rtype::AXFR]);
    let r = &m.reports(Some(&name("EXAMPLE.com.")))[0];
    assert_eq!(
        (r.serial, r.refreshed_at, r.failures),
        (Some(7), Some(START), 0)
    );
    assert_eq!(r.next_refresh, m.next_refresh(z));
    assert!(r.last_error.is_none() && r.transfer_from.is_none());
    // Long before the refresh time, a refresh asked for runs now.
    let t = START + 1_000;
    w.set(p, 8, Behaviour::Answers);
    m.refresh_now(t, &name("example.com."), false).unwrap();
    w.run(&mut m, t);
    assert_eq!(m.serial(z), Some(8));
    assert_eq!(w.primaries[&p].asked[1..], [rtype::SOA, rtype::IXFR]);
    // A retransfer: AXFR at once, the same serial taken again.
    let t = t + 1_000;
    m.refresh_now(t, &name("example.com."), true).unwrap();
    w.run(&mut m, t);
    assert_eq!(w.primaries[&p].asked[3..], [rtype::AXFR]);
    assert_eq!(m.serial(z), Some(8));
    assert_eq!(m.reports(None)[0].refreshed_at, Some(t));
    // A failure is reported with its reason, until a refresh succeeds.
    let t = t + 1_000;
    w.set(p, 8, Behaviour::Down);
    m.refresh_now(t, &name("example.com."), false).unwrap();
    // (A primary that is down times out: the failure comes after the
    // connect timeout, before the first retry.)
    w.run(&mut m, t + RETRY - 1);
    let r = &m.reports(None)[0];
    assert_eq!(r.failures, 1);
    let (at, why) = r.last_error.clone().expect("the failure");
    assert!(at >= t && why.contains(&p.to_string()), "{why}");
    // Unknown zones are said so; a report of one lists nothing.
    assert!(
        m.refresh_now(t, &name("other.test."), false)
            .unwrap_err()
            .contains("not a secondary zone")
    );
    assert!(m.reports(Some(&name("other.test."))).is_empty());
}
