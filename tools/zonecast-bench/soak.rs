//! The soak test: zonecast as the secondary of a Knot primary that
//! publishes a new version every 100 ms (IXFR after NOTIFY), under
//! dnsperf at full rate, while a second client floods malformed packets.
//! Passes with zero server errors, zero wrong answers, no reply to the
//! garbage, the last version served at the end, and memory flat.

use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use zonecast::wire::Message;
use zonecast::wire::iana::rtype;

use crate::dnsperf;
use crate::procs::{self, free_port};
use crate::zonegen::{self, APEX};

#[derive(Clone, Debug)]
pub struct Settings {
    pub names: usize,
    pub seconds: u64,
    /// Malformed packets per second from the flooding client.
    pub flood_pps: u64,
    /// Between two versions published on the primary.
    pub update_every: Duration,
}

const FIRST_SERIAL: u32 = 2026112501;

/// The zone at `serial`: the bench zone with `soak TXT "v<serial>"`, so
/// that each answer tells which version gave it.
fn version(base: &str, serial: u32) -> String {
    let mut text = base.replacen(&FIRST_SERIAL.to_string(), &serial.to_string(), 1);
    text.push_str(&format!("soak TXT \"v{serial}\"\n"));
    text
}

fn query(id: u16, name: &str, qtype: u16) -> Vec<u8> {
    let mut q = id.to_be_bytes().to_vec();
    q.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name.trim_end_matches('.').split('.') {
        q.push(label.len() as u8);
        q.extend_from_slice(label.as_bytes());
    }
    q.push(0);
    q.extend_from_slice(&qtype.to_be_bytes());
    q.extend_from_slice(&1u16.to_be_bytes());
    q
}

/// Asks `name`/`qtype` and returns the RDATA of the answers, or why the
/// answer is wrong (RCODE, flags, ID).
fn ask(
    s: &UdpSocket,
    addr: SocketAddr,
    id: u16,
    name: &str,
    qtype: u16,
) -> Result<Vec<Vec<u8>>, String> {
    let q = query(id, name, qtype);
    let mut buf = [0u8; 4096];
    for _ in 0..3 {
        s.send_to(&q, addr).map_err(|e| e.to_string())?;
        let Ok(n) = s.recv(&mut buf) else {
            continue; // lost under load: UDP; ask again
        };
        let msg = &buf[..n];
        let m = Message::new_checked(msg).map_err(|e| format!("{name}: {e}"))?;
        let h = m.header();
        if h.id() != id {
            continue; // a late answer to an earlier try
        }
        if h.rcode() != 0 || h.flags() & 0x0400 == 0 {
            return Err(format!(
                "{name} {qtype}: RCODE {} flags {:04x}",
                h.rcode(),
                h.flags()
            ));
        }
        let s = m.parse().map_err(|e| format!("{name}: {e}"))?;
        let mut out = Vec::new();
        for r in s.answers() {
            let r = r.map_err(|e| format!("{name}: {e}"))?;
            if r.rtype == qtype {
                out.push(r.rdata().to_vec());
            }
        }
        return Ok(out);
    }
    Err(format!("{name} {qtype}: no answer in three tries"))
}

fn soa_serial(s: &UdpSocket, addr: SocketAddr, id: u16) -> Result<u32, String> {
    let rd = ask(s, addr, id, APEX, rtype::SOA)?;
    let soa = rd.first().ok_or("no SOA")?;
    // Uncompressed or compressed names: the serial is 20 octets from the end.
    let at = soa.len().checked_sub(20).ok_or("short SOA")?;
    Ok(u32::from_be_bytes([
        soa[at],
        soa[at + 1],
        soa[at + 2],
        soa[at + 3],
    ]))
}

/// What the answer-checking client found.
#[derive(Default)]
struct Checks {
    rounds: u64,
    wrong: Vec<String>,
    versions_seen: u64,
}

/// Asks, again and again: SOA, the version's TXT, a fixed host, SOA.
/// The TXT must come from a version between the two serials, serials
/// never go back, and the host never changes.
fn check_answers(addr: SocketAddr, stop: Arc<AtomicBool>) -> Checks {
    let mut c = Checks::default();
    let Ok(s) = UdpSocket::bind("127.0.0.1:0") else {
        c.wrong.push("cannot bind".into());
        return c;
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
    let mut last = 0u32;
    let mut id = 0u16;
    while !stop.load(Ordering::Relaxed) {
        c.rounds += 1;
        let mut next = || {
            id = id.wrapping_add(1);
            id
        };
        let round = (|| -> Result<(), String> {
            let before = soa_serial(&s, addr, next())?;
            let txt = ask(&s, addr, next(), &format!("soak.{APEX}"), rtype::TXT)?;
            let host = ask(&s, addr, next(), &format!("h1.{APEX}"), rtype::A)?;
            let after = soa_serial(&s, addr, next())?;
            if before < last {
                return Err(format!("serial went back from {last} to {before}"));
            }
            let [t] = &txt[..] else {
                return Err(format!("{} TXT records for soak", txt.len()));
            };
            let v: u32 = std::str::from_utf8(t.get(2..).unwrap_or_default())
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| format!("TXT {t:?}"))?;
            if v < before || v > after {
                return Err(format!(
                    "TXT of version {v} between serials {before} and {after}"
                ));
            }
            if host != [vec![10, 0, 0, 1]] {
                return Err(format!("h1 A is {host:?}"));
            }
            if after > last {
                c.versions_seen += 1;
            }
            last = after;
            Ok(())
        })();
        if let Err(e) = round {
            c.wrong.push(e);
        }
    }
    c
}

/// Sends malformed packets at `pps`; returns (sent, replies received).
fn flood(addr: SocketAddr, pps: u64, stop: Arc<AtomicBool>) -> (u64, u64) {
    let Ok(s) = UdpSocket::bind("127.0.0.1:0") else {
        return (0, 0);
    };
    let _ = s.set_nonblocking(true);
    let good = query(1, &format!("h1.{APEX}"), rtype::A);
    let mut shapes: Vec<Vec<u8>> = vec![
        vec![],
        vec![0x12],
        good[..11].to_vec(),
        // A response: must never be answered (no reflection loop).
        [&good[..2], &[0x81, 0x80], &good[4..]].concat(),
        // Pointer loop, forward pointer, label past the end.
        [&good[..12], &[0xc0, 12, 0, 1, 0, 1][..]].concat(),
        [&good[..12], &[0xc0, 200, 0, 1, 0, 1][..]].concat(),
        [&good[..12], &[63, b'a'][..]].concat(),
        // Two questions.
        [&good[..4], &[0, 2], &good[6..]].concat(),
    ];
    let mut rng = zonegen::Rng::new(0x5eed);
    for len in [13, 64, 512, 1400] {
        let mut v: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        v[2] |= 0x80; // QR: dropped without a word
        shapes.push(v);
    }
    let (mut sent, mut replies) = (0u64, 0u64);
    let start = Instant::now();
    let mut buf = [0u8; 2048];
    while !stop.load(Ordering::Relaxed) {
        let due = (start.elapsed().as_secs_f64() * pps as f64) as u64;
        while sent < due {
            let _ = s.send_to(&shapes[sent as usize % shapes.len()], addr);
            sent += 1;
        }
        while s.recv(&mut buf).is_ok() {
            replies += 1;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    (sent, replies)
}

fn spawn<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> JoinHandle<T> {
    std::thread::spawn(f)
}

pub fn run(s: &Settings, dir: &Path) -> Result<(String, bool), String> {
    let (text, records) = zonegen::zone(s.names);
    let zone_path = dir.join("soak.zone");
    std::fs::write(&zone_path, version(&text, FIRST_SERIAL)).map_err(|e| e.to_string())?;
    let queries = dir.join("queries.txt");
    std::fs::write(&queries, zonegen::queries(s.names, 200_000, 7)).map_err(|e| e.to_string())?;
    let zc_port = free_port();
    let primary = procs::knot_primary(dir, &zone_path, zc_port)?;
    let (mut zc, zc_log) = procs::zonecast_secondary(dir, zc_port, primary.server.addr.port(), 1)?;
    eprintln!(
        "soak: {} names ({records} records), zonecast at {}, Knot primary at {}",
        s.names, zc.addr, primary.server.addr
    );
    let stop = Arc::new(AtomicBool::new(false));
    let pushed = Arc::new(AtomicU32::new(FIRST_SERIAL));
    let push_errors = Arc::new(AtomicU64::new(0));
    let first_push_error = Arc::new(std::sync::Mutex::new(None::<String>));
    let updater = {
        let (stop, pushed, errors) = (stop.clone(), pushed.clone(), push_errors.clone());
        let first_error = first_push_error.clone();
        let every = s.update_every;
        let base = text.clone();
        let publisher = primary.publisher.clone();
        let publish = move |serial: u32| publisher.publish(&version(&base, serial));
        spawn(move || {
            let mut serial = FIRST_SERIAL;
            let mut next = Instant::now() + every;
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(next.saturating_duration_since(Instant::now()));
                next += every;
                serial += 1;
                match publish(serial) {
                    Ok(()) => pushed.store(serial, Ordering::Relaxed),
                    Err(e) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                        if let Ok(mut f) = first_error.lock() {
                            f.get_or_insert(e);
                        }
                        serial -= 1;
                    }
                }
            }
        })
    };
    let checker = {
        let stop = stop.clone();
        let addr = zc.addr;
        spawn(move || check_answers(addr, stop))
    };
    let flooder = {
        let stop = stop.clone();
        let (addr, pps) = (zc.addr, s.flood_pps);
        spawn(move || flood(addr, pps, stop))
    };
    let sampler = {
        let stop = stop.clone();
        let pid = zc.pid();
        spawn(move || {
            let mut samples = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                samples.push(procs::pss_kib_tree(pid));
                std::thread::sleep(Duration::from_secs(1));
            }
            samples
        })
    };
    let load = dnsperf::Load {
        dnssec: false,
        rate: None,
        clients: 10,
        outstanding: 100,
        threads: 1,
        seconds: s.seconds,
    };
    let perf = dnsperf::run_with_rcodes(zc.addr, &queries, load);
    stop.store(true, Ordering::Relaxed);
    let _ = updater.join();
    let checks = checker.join().map_err(|_| "checker panicked")?;
    let (flood_sent, flood_replies) = flooder.join().map_err(|_| "flooder panicked")?;
    let memory = sampler.join().map_err(|_| "sampler panicked")?;
    let last = pushed.load(Ordering::Relaxed);
    let end = Instant::now() + Duration::from_secs(15);
    while Instant::now() < end && procs::serial(zc.addr) != Some(last) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let served = procs::serial(zc.addr);
    let caught_up = served == Some(last);
    let alive = zc.is_running();
    let log = std::fs::read_to_string(&zc_log).unwrap_or_default();
    let transfer_failures = log.lines().filter(|l| l.contains("failed")).count();
    let ixfrs = log.lines().filter(|l| l.contains("IXFR from")).count();
    drop(zc);
    drop(primary);
    let (perf, rcodes) = perf?;
    let server_errors: u64 = rcodes
        .iter()
        .filter(|(name, _)| !matches!(name.as_str(), "NOERROR" | "NXDOMAIN"))
        .map(|(_, n)| n)
        .sum();
    // Flat: the highest of the last quarter within 10% (or 4 MiB) of the
    // highest of the first quarter after the warm-up second.
    let quarter = (memory.len() / 4).max(1);
    let early = memory
        .iter()
        .skip(1)
        .take(quarter)
        .max()
        .copied()
        .unwrap_or(0);
    let late = memory
        .iter()
        .rev()
        .take(quarter)
        .max()
        .copied()
        .unwrap_or(0);
    let flat = late <= early + (early / 10).max(4096);
    let versions = last - FIRST_SERIAL;
    let checks_ok = checks.wrong.is_empty() && checks.rounds > 0;
    let pass = server_errors == 0
        && perf.completed > 0
        && checks_ok
        && flood_replies == 0
        && caught_up
        && alive
        && flat
        && versions > 0
        && transfer_failures == 0;
    let mark = |ok: bool| if ok { "ok" } else { "FAIL" };
    let rcode_text: Vec<String> = rcodes.iter().map(|(n, c)| format!("{n} {c}")).collect();
    let mut report = format!(
        "### Soak\n\n{} names, {} s of `dnsperf -c 10 -q 100 -T 1` against zonecast (1 worker) as the secondary \
         of a Knot primary publishing a new version every {} ms, while another client sends {} malformed packets per second.\n\n\
         | check | result | |\n|---|---|---|\n",
        s.names,
        s.seconds,
        s.update_every.as_millis(),
        s.flood_pps
    );
    report += &format!(
        "| dnsperf answers | {} completed, {} lost, {:.0} qps; {} | {} |\n",
        perf.completed,
        perf.lost,
        perf.qps,
        rcode_text.join(", "),
        mark(server_errors == 0 && perf.completed > 0)
    );
    report += &format!(
        "| versions published by Knot | {versions} ({} knotc failures); {ixfrs} IXFRs in zonecast's log, {transfer_failures} failed transfers | {} |\n",
        push_errors.load(Ordering::Relaxed),
        mark(versions > 0 && transfer_failures == 0)
    );
    report += &format!(
        "| answers checked (SOA, TXT of the version, a fixed host, SOA) | {} rounds, {} versions seen, {} wrong | {} |\n",
        checks.rounds,
        checks.versions_seen,
        checks.wrong.len(),
        mark(checks_ok)
    );
    report += &format!(
        "| malformed packets | {flood_sent} sent, {flood_replies} answered | {} |\n",
        mark(flood_replies == 0)
    );
    report += &format!(
        "| last version served at the end | published {last}, served {} | {} |\n",
        served.map_or("nothing".into(), |s| s.to_string()),
        mark(caught_up && alive)
    );
    report += &format!(
        "| memory (PSS) | {:.1} MiB early, {:.1} MiB late ({} samples) | {} |\n",
        early as f64 / 1024.0,
        late as f64 / 1024.0,
        memory.len(),
        mark(flat)
    );
    if let Ok(Some(e)) = first_push_error.lock().as_deref() {
        report += &format!("\nfirst knotc failure: {e}");
    }
    for w in checks.wrong.iter().take(5) {
        report += &format!("\nwrong answer: {w}");
    }
    Ok((report, pass))
}
