//! A node for many small zones: one Knot DNS primary serves N zones of 9
//! records each; a fresh zonecast and (unless left out) a fresh Knot DNS
//! secondary pull them all. Measured: the time until every zone answers
//! with its serial, the memory after that, a restart of zonecast with the
//! primary gone (time until every copy is served, and the connections
//! it then opens to the primary), and the time from a NOTIFY for one zone
//! to its new serial being served, with all N zones loaded.

use std::collections::HashSet;
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::procs::{self, Server, Which, free_port};

#[derive(Clone, Debug)]
pub struct Settings {
    pub zones: usize,
    /// Also measure Knot DNS as the secondary.
    pub knot: bool,
}

#[derive(Default)]
pub struct Side {
    pub sync_s: Option<f64>,
    pub pss_mib: Option<f64>,
    pub restart_s: Option<f64>,
    pub restart_connects: Option<usize>,
    pub notify_to_served_ms: Option<f64>,
    /// zonecast's part of it, from its log: NOTIFY in, SOA query, IXFR,
    /// the new version built and published, in whole milliseconds.
    pub own_notify_ms: Option<f64>,
    /// From start until every copy and its timers are on disk.
    pub persisted_s: Option<f64>,
    /// CPU seconds the primary, and the secondary, used during the sync
    /// (user + system): who the sync waited for.
    pub primary_cpu_s: Option<f64>,
    pub own_cpu_s: Option<f64>,
    /// Once every copy is on disk, nothing left to do.
    pub settled_pss_mib: Option<f64>,
    /// From zonecast's first log line to its last transfer's.
    pub log_sync_s: Option<f64>,
    /// After a restart, every copy read from disk.
    pub restart_pss_mib: Option<f64>,
    /// The same copies as zones served from files, from start until
    /// every one answers.
    pub files_start_s: Option<f64>,
}

/// CPU seconds by thread name, the busiest first.
fn threads_cpu(pid: u32) -> String {
    let mut by: std::collections::BTreeMap<String, f64> = Default::default();
    let hz = procs::ticks_per_second();
    for (name, ticks) in procs::thread_cpu_ticks(pid) {
        *by.entry(name).or_default() += ticks as f64 / hz;
    }
    let mut v: Vec<_> = by.into_iter().collect();
    v.sort_by(|a, b| b.1.total_cmp(&a.1));
    v.iter()
        .map(|(n, c)| format!("{n} {c:.2} s"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// CPU seconds a server has used so far.
fn cpu_s(s: &Server) -> f64 {
    let (u, k) = s.cpu_ticks();
    (u + k) as f64 / procs::ticks_per_second()
}

pub struct Report {
    pub zones: usize,
    pub zone_octets: usize,
    pub knot: Option<Side>,
    pub zonecast: Side,
    pub empty_pss_mib: f64,
}

pub(crate) const SUFFIX: &str = "zones.test.";

pub(crate) fn apex(i: usize) -> String {
    format!("z{i}.{SUFFIX}")
}

/// Zone `i` at `serial`: SOA, 2 NS, 3 A, MX, TXT, AAAA.
pub(crate) fn zone_text(i: usize, serial: u32) -> String {
    format!(
        "$ORIGIN {}\n$TTL 3600\n@ SOA ns1 hostmaster {serial} 3600 600 604800 300\n@ NS ns1\n@ NS ns2\n\
         ns1 A 198.18.{}.1\nns2 A 198.18.{}.2\n@ A 198.18.{}.3\n@ MX 10 mail\n@ TXT \"customer {i}\"\n@ AAAA 2001:db8::{:x}\n",
        apex(i),
        i % 250,
        i % 250,
        i % 250,
        i % 65535
    )
}

/// An SOA query for zone `i`, with the zone's number as its ID's source.
pub(crate) fn soa_query(i: usize) -> Vec<u8> {
    let mut q = vec![0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0];
    q[..2].copy_from_slice(&((i % 65536) as u16).to_be_bytes());
    for label in apex(i).trim_end_matches('.').split('.') {
        q.push(label.len() as u8);
        q.extend_from_slice(label.as_bytes());
    }
    q.extend_from_slice(&[0, 0, 6, 0, 1]);
    q
}

/// The zone number and serial of an SOA answer, if it is one.
pub(crate) fn answered(r: &[u8]) -> Option<(usize, u32)> {
    if r.len() < 32 || r[3] & 0xf != 0 || u16::from_be_bytes([r[6], r[7]]) != 1 {
        return None;
    }
    // The question name: z<i>.zones.test.
    let len = r[12] as usize;
    let label = std::str::from_utf8(r.get(13..13 + len)?).ok()?;
    let i: usize = label.strip_prefix('z')?.parse().ok()?;
    let n = r.len();
    Some((
        i,
        u32::from_be_bytes([r[n - 20], r[n - 19], r[n - 18], r[n - 17]]),
    ))
}

/// Waits until `addr` answers every zone's SOA with `serial` (or any
/// serial when `None`); the time it took, from `since`.
pub(crate) fn all_answer(
    addr: SocketAddr,
    zones: usize,
    serial: Option<u32>,
    since: Instant,
    limit: Duration,
) -> Option<f64> {
    let s = UdpSocket::bind("127.0.0.1:0").ok()?;
    s.set_read_timeout(Some(Duration::from_millis(3))).ok()?;
    let mut pending: Vec<usize> = (0..zones).collect();
    let mut done: HashSet<usize> = HashSet::new();
    let mut cursor = 0;
    let mut compacted = 0;
    let mut buf = [0u8; 512];
    while !pending.is_empty() {
        if since.elapsed() > limit {
            eprintln!("  {} zones still not answering", pending.len());
            return None;
        }
        // A few hundred per pass, round the zones waiting; passes that
        // find few zones ready are paced to 20 ms, so the poller does not
        // load the servers it times, and ones that find them ready are
        // not (a restart serves every zone at once).
        let pass = Instant::now();
        let before = done.len();
        let sent = pending.len().min(400);
        for k in 0..sent {
            let i = pending[(cursor + k) % pending.len()];
            if !done.contains(&i) {
                let _ = s.send_to(&soa_query(i), addr);
            }
        }
        cursor += 400;
        while let Ok(n) = s.recv(&mut buf) {
            if let Some((i, got)) = answered(&buf[..n])
                && serial.is_none_or(|want| want == got)
            {
                done.insert(i);
            }
        }
        // Compacted now and then, not per pass: at 100,000 zones a pass
        // over the list costs more than the queries.
        if (done.len() - compacted) * 8 >= pending.len() {
            pending.retain(|i| !done.contains(i));
            compacted = done.len();
        }
        if done.len() == zones {
            break;
        }
        if (done.len() - before) * 2 < sent {
            std::thread::sleep(Duration::from_millis(20).saturating_sub(pass.elapsed()));
        }
    }
    Some(since.elapsed().as_secs_f64())
}

/// The file Knot's default `%s.zone` names for zone `i`.
pub(crate) fn knot_file(dir: &Path, i: usize) -> PathBuf {
    dir.join(format!("{}zone", apex(i)))
}

/// The Knot primary of every zone, sending NOTIFY to `notify_port`.
fn primary(dir: &Path, zones: usize, notify_port: u16) -> Result<(Server, PathBuf), String> {
    let home = dir.join("primary");
    let files = home.join("zones");
    std::fs::create_dir_all(&files).map_err(|e| e.to_string())?;
    for i in 0..zones {
        std::fs::write(knot_file(&files, i), zone_text(i, 1)).map_err(|e| e.to_string())?;
    }
    let mut conf = format!(
        "remote:\n  - id: zc\n    address: 127.0.0.1@{notify_port}\n\
         acl:\n  - id: xfr\n    address: 127.0.0.0/8\n    action: transfer\n\
         template:\n  - id: customer\n    storage: {}\n    file: \"%s.zone\"\n    notify: zc\n    acl: xfr\n    zonefile-load: difference\n    journal-content: changes\nzone:\n",
        files.display()
    );
    for i in 0..zones {
        conf.push_str(&format!(
            "  - domain: z{i}.{SUFFIX}\n    template: customer\n"
        ));
    }
    let port = free_port_except(notify_port);
    procs::start_knot_answering(&home, port, &conf).map(|(s, _)| (s, files))
}

/// A free port other than `taken` (chosen earlier, and bound only later:
/// the system could hand it out again meanwhile).
pub(crate) fn free_port_except(taken: u16) -> u16 {
    loop {
        let p = free_port();
        if p != taken {
            return p;
        }
    }
}

fn knot_secondary(
    dir: &Path,
    zones: usize,
    primary_port: u16,
    zc_port: u16,
) -> Result<Server, String> {
    let home = dir.join("knot-secondary");
    std::fs::create_dir_all(&home).map_err(|e| e.to_string())?;
    let mut conf = format!(
        "remote:\n  - id: primary\n    address: 127.0.0.1@{primary_port}\n\
         template:\n  - id: customer\n    master: primary\n    zonefile-sync: -1\n    storage: {}\nzone:\n",
        home.display()
    );
    for i in 0..zones {
        conf.push_str(&format!(
            "  - domain: z{i}.{SUFFIX}\n    template: customer\n"
        ));
    }
    let port = free_port_except(zc_port);
    Ok(procs::start_knot_answering(&home, port, &conf)?.0)
}

fn zonecast_config(
    home: &Path,
    port: u16,
    zones: usize,
    primary_port: u16,
) -> Result<PathBuf, String> {
    std::fs::create_dir_all(home.join("zones")).map_err(|e| e.to_string())?;
    let mut conf = format!(
        "[server]\nlisten = [\"127.0.0.1:{port}\"]\nworkers = 1\n\
         [transfer]\nmax_concurrent = 64\nmax_per_primary = 64\n"
    );
    for i in 0..zones {
        conf.push_str(&format!(
            "[[zone]]\nname = \"{apex}\"\nfile = \"zones/{apex}zone\"\nprimaries = [\"127.0.0.1:{primary_port}\"]\n",
            apex = apex(i)
        ));
    }
    let path = home.join("zonecast.toml");
    std::fs::write(&path, conf).map_err(|e| e.to_string())?;
    Ok(path)
}

pub(crate) fn start_zonecast(conf: &Path, port: u16, log_path: &Path) -> Result<Server, String> {
    let log = std::fs::File::create(log_path).map_err(|e| e.to_string())?;
    let mut c = Command::new(procs::sibling("zonecast"));
    c.arg("-c")
        .arg(conf)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(log);
    let addr = format!("127.0.0.1:{port}").parse().map_err(|_| "addr")?;
    procs::launch_answering(Which::Zonecast, c, addr).map_err(|e| {
        // What it said before it stopped is the reason.
        let text = std::fs::read_to_string(log_path).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(5).collect();
        format!(
            "{e}; its log ends:\n{}",
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        )
    })
}

/// Counts the TCP connections made to `addr` until dropped.
struct ConnectionCounter {
    count: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ConnectionCounter {
    fn start(addr: SocketAddr) -> Result<Self, String> {
        let l = TcpListener::bind(addr).map_err(|e| format!("bind {addr}: {e}"))?;
        l.set_nonblocking(true).map_err(|e| e.to_string())?;
        let count = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (c, s) = (Arc::clone(&count), Arc::clone(&stop));
        let thread = std::thread::spawn(move || {
            let mut held = Vec::new();
            while !s.load(Ordering::Relaxed) {
                match l.accept() {
                    Ok((stream, _)) => {
                        c.fetch_add(1, Ordering::Relaxed);
                        // Held open and silent: a primary that hangs.
                        held.push(stream);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(2)),
                }
            }
        });
        Ok(ConnectionCounter {
            count,
            stop,
            thread: Some(thread),
        })
    }

    fn count(&self) -> usize {
        self.count.load(Ordering::Relaxed)
    }
}

impl Drop for ConnectionCounter {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Time from a NOTIFY for zone 0 (a new serial loaded on the primary) to
/// `addrs` serving it.
/// Seconds of the day of a log line's timestamp (`...T16:51:51.316849Z`).
fn log_time(line: &str) -> Option<f64> {
    let t = line.split('T').nth(1)?.split('Z').next()?;
    let mut p = t.split(':');
    let h: f64 = p.next()?.parse().ok()?;
    let m: f64 = p.next()?.parse().ok()?;
    let s: f64 = p.next()?.parse().ok()?;
    Some(h * 3600.0 + m * 60.0 + s)
}

/// From zonecast's first log line to its last transfer's, by its log: the
/// sync without the poller's sampling.
fn transfer_span(log: &Path) -> Option<f64> {
    let text = std::fs::read_to_string(log).ok()?;
    let first = log_time(text.lines().next()?)?;
    let last = log_time(text.lines().rev().find(|l| l.contains(" AXFR from "))?)?;
    let mut each: Vec<f64> = text
        .lines()
        .filter(|l| l.contains(" AXFR from "))
        .filter_map(|l| l.rsplit(", ").next()?.strip_suffix(" ms")?.parse().ok())
        .collect();
    each.sort_by(f64::total_cmp);
    if !each.is_empty() {
        eprintln!(
            "  each transfer, connect to done: median {} ms, p90 {} ms, max {} ms",
            each[each.len() / 2],
            each[each.len() * 9 / 10],
            each[each.len() - 1]
        );
    }
    Some(last - first)
}

/// "[z0.zones.test.] serial 2 served N ms after NOTIFY" in zonecast's log.
fn own_notify_ms(log: &Path) -> Option<f64> {
    let text = std::fs::read_to_string(log).ok()?;
    let line = text
        .lines()
        .find(|l| l.contains(&format!("[{}] serial 2 served ", apex(0))))?;
    line.split(" served ")
        .nth(1)?
        .split(" ms")
        .next()?
        .parse()
        .ok()
}

fn notify_to_served(files: &Path, addr: SocketAddr) -> Option<f64> {
    let conf = files.parent()?.join("knot.conf");
    std::fs::write(knot_file(files, 0), zone_text(0, 2)).ok()?;
    let started = Instant::now();
    let ok = Command::new(procs::tool("knotc"))
        .arg("-c")
        .arg(&conf)
        .args(["-b", "zone-reload", &apex(0)])
        .output()
        .ok()?
        .status
        .success();
    if !ok {
        return None;
    }
    all_answer(addr, 1, Some(2), started, Duration::from_secs(30)).map(|s| s * 1e3)
}

pub fn run(s: &Settings, dir: &Path) -> Result<Report, String> {
    let n = s.zones;
    let zc_port = free_port();
    eprintln!("writing {n} zones, starting the Knot primary");
    let (primary, files) = primary(dir, n, zc_port)?;
    let zone_octets: usize = (0..n).map(|i| zone_text(i, 1).len()).sum();
    let limit = Duration::from_secs(600);
    // What zonecast holds with no zone at all.
    let empty_home = dir.join("zonecast-empty");
    let empty_port = free_port_except(zc_port);
    let empty_conf = zonecast_config(&empty_home, empty_port, 0, primary.addr.port())?;
    let empty = start_zonecast(&empty_conf, empty_port, &empty_home.join("log"))?;
    let empty_pss_mib = empty.pss_kib() as f64 / 1024.0;
    drop(empty);

    let knot = if s.knot {
        eprintln!("Knot secondary: syncing {n} zones");
        let started = Instant::now();
        let primary_before = cpu_s(&primary);
        let k = knot_secondary(dir, n, primary.addr.port(), zc_port)?;
        let sync_s = all_answer(k.addr, n, Some(1), started, limit);
        let (primary_cpu_s, own_cpu_s) = (Some(cpu_s(&primary) - primary_before), Some(cpu_s(&k)));
        std::thread::sleep(Duration::from_millis(500));
        let side = Side {
            sync_s,
            pss_mib: Some(k.pss_kib() as f64 / 1024.0),
            primary_cpu_s,
            own_cpu_s,
            ..Side::default()
        };
        eprintln!(
            "  synced in {sync_s:?} s, {:.1} MiB",
            side.pss_mib.unwrap_or(0.0)
        );
        drop(k);
        Some(side)
    } else {
        None
    };

    eprintln!("zonecast: syncing {n} zones");
    let home = dir.join("zonecast");
    let conf = zonecast_config(&home, zc_port, n, primary.addr.port())?;
    let started = Instant::now();
    let primary_before = cpu_s(&primary);
    let zc = start_zonecast(&conf, zc_port, &home.join("log"))?;
    let sync_s = all_answer(zc.addr, n, Some(1), started, limit);
    let (primary_cpu_s, own_cpu_s) = (Some(cpu_s(&primary) - primary_before), Some(cpu_s(&zc)));
    eprintln!("  CPU by thread: {}", threads_cpu(zc.pid()));
    std::thread::sleep(Duration::from_millis(1500));
    let mut side = Side {
        sync_s,
        pss_mib: Some(zc.pss_kib() as f64 / 1024.0),
        primary_cpu_s,
        own_cpu_s,
        ..Side::default()
    };
    eprintln!(
        "  synced in {sync_s:?} s, {:.1} MiB",
        side.pss_mib.unwrap_or(0.0)
    );
    side.log_sync_s = transfer_span(&home.join("log"));
    side.notify_to_served_ms = notify_to_served(&files, zc.addr);
    std::thread::sleep(Duration::from_millis(200));
    side.own_notify_ms = own_notify_ms(&home.join("log"));
    eprintln!(
        "  NOTIFY to served: {:?} ms, of which zonecast's own: {:?} ms",
        side.notify_to_served_ms, side.own_notify_ms
    );
    // The copies reach the disk behind the transfers (a writer thread of
    // their own): wait until the timer log names every zone, then restart
    // with the primary gone and a silent listener counting connections in
    // its place.
    let states = |dir: &Path| zonecast::xfr::timers_log::read_log(dir).0.len();
    let persisting = Instant::now();
    while states(&home.join("zones")) < n && persisting.elapsed() < limit {
        std::thread::sleep(Duration::from_millis(200));
    }
    side.persisted_s = Some(started.elapsed().as_secs_f64());
    std::thread::sleep(Duration::from_millis(500));
    side.settled_pss_mib = Some(zc.pss_kib() as f64 / 1024.0);
    eprintln!(
        "  every copy on disk {:.1} s after start",
        started.elapsed().as_secs_f64()
    );
    drop(zc);
    let primary_addr = primary.addr;
    drop(primary);
    let counter = ConnectionCounter::start(primary_addr)?;
    let started = Instant::now();
    let zc = start_zonecast(&conf, zc_port, &home.join("log.restart"))?;
    side.restart_s = all_answer(zc.addr, n, None, started, limit);
    side.restart_pss_mib = Some(zc.pss_kib() as f64 / 1024.0);
    std::thread::sleep(Duration::from_secs(2));
    side.restart_connects = Some(counter.count());
    eprintln!(
        "  restart: every copy served after {:?} s; {} connections to the primary in the next 2 s",
        side.restart_s,
        counter.count()
    );
    drop(zc);
    // The same copies, named as zones served from their files: the load
    // a restart must not be slower than.
    let mut files_conf = format!("[server]\nlisten = [\"127.0.0.1:{zc_port}\"]\nworkers = 1\n");
    for i in 0..n {
        files_conf.push_str(&format!(
            "[[zone]]\nname = \"{apex}\"\nfile = \"zones/{apex}zone\"\n",
            apex = apex(i)
        ));
    }
    let files_path = home.join("files.toml");
    std::fs::write(&files_path, files_conf).map_err(|e| e.to_string())?;
    let started = Instant::now();
    let zc = start_zonecast(&files_path, zc_port, &home.join("log.files"))?;
    side.files_start_s = all_answer(zc.addr, n, None, started, limit);
    eprintln!(
        "  the same files as zones from files: served after {:?} s",
        side.files_start_s
    );
    drop(zc);
    Ok(Report {
        zones: n,
        zone_octets,
        knot,
        zonecast: side,
        empty_pss_mib,
    })
}

fn secs(v: Option<f64>) -> String {
    v.map_or("-".into(), |s| format!("{s:.2} s"))
}

fn cpu_pair(v: Option<(Option<f64>, Option<f64>)>) -> String {
    match v {
        Some((Some(p), Some(o))) => format!("{p:.2} s, {o:.2} s"),
        _ => "-".into(),
    }
}

fn mib(v: Option<f64>) -> String {
    v.map_or("-".into(), |m| format!("{m:.1} MiB"))
}

pub fn table(r: &Report) -> String {
    let k = r.knot.as_ref();
    let z = &r.zonecast;
    let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.2}x", a / b),
        _ => "-".into(),
    };
    let per_zone = z
        .pss_mib
        .map(|m| (m - r.empty_pss_mib).max(0.0) * 1024.0 * 1024.0 / r.zones as f64);
    let mut t = format!(
        "{} zones of 9 records ({} octets of zone files in all, {:.0} per zone), one Knot DNS primary, \
         each secondary with 1 worker; zonecast with `max_concurrent = 64`, `max_per_primary = 64`.\n\n\
         | {} zones | Knot DNS | zonecast | zonecast / Knot |\n|---|---:|---:|---:|\n",
        r.zones,
        r.zone_octets,
        r.zone_octets as f64 / r.zones as f64,
        r.zones
    );
    let mut row = |label: &str, knot: String, zonecast: String, ratio: String| {
        t.push_str(&format!("| {label} | {knot} | {zonecast} | {ratio} |\n"));
    };
    // A figure of zonecast's alone.
    let dash = || "-".to_string();
    let knot_sync = k.and_then(|k| k.sync_s);
    let knot_pss = k.and_then(|k| k.pss_mib);
    row(
        "initial sync, every zone answering",
        secs(knot_sync),
        secs(z.sync_s),
        ratio(z.sync_s, knot_sync),
    );
    row(
        "zonecast's own log, from its first line to its last transfer",
        dash(),
        secs(z.log_sync_s),
        dash(),
    );
    row(
        "CPU during the sync: the primary's, the secondary's",
        cpu_pair(k.map(|k| (k.primary_cpu_s, k.own_cpu_s))),
        cpu_pair(Some((z.primary_cpu_s, z.own_cpu_s))),
        dash(),
    );
    row(
        "memory (PSS) after sync",
        mib(knot_pss),
        mib(z.pss_mib),
        ratio(z.pss_mib, knot_pss),
    );
    row(
        &format!(
            "zonecast memory per zone, less an empty server's ({:.1} MiB)",
            r.empty_pss_mib
        ),
        dash(),
        per_zone.map_or_else(dash, |b| format!("{b:.0} octets")),
        dash(),
    );
    row(
        "every copy and its timers on disk, from start",
        dash(),
        secs(z.persisted_s),
        dash(),
    );
    row(
        "memory (PSS) then, nothing left to write",
        mib(knot_pss),
        mib(z.settled_pss_mib),
        ratio(z.settled_pss_mib, knot_pss),
    );
    row(
        "restart, every zone served from its copy, primary gone",
        dash(),
        secs(z.restart_s),
        dash(),
    );
    row(
        "the same files named as zones served from files: start until every zone answers",
        dash(),
        secs(z.files_start_s),
        dash(),
    );
    row(
        "memory (PSS) after that restart",
        dash(),
        mib(z.restart_pss_mib),
        dash(),
    );
    row(
        "connections to the primary within 2 s of that restart",
        dash(),
        z.restart_connects.map_or_else(dash, |c| c.to_string()),
        dash(),
    );
    row(
        "one zone reloaded on the primary to its new serial served (NOTIFY, SOA, IXFR)",
        dash(),
        z.notify_to_served_ms
            .map_or_else(dash, |m| format!("{m:.1} ms")),
        dash(),
    );
    row(
        "of that, zonecast's own: NOTIFY in to the new serial served (its log, whole ms)",
        dash(),
        z.own_notify_ms.map_or_else(dash, |m| format!("{m:.0} ms")),
        dash(),
    );
    t
}

/// Replaces a file that a server may read at any moment: written beside
/// it, then renamed over it.
pub(crate) fn write_replacing(path: &Path, text: &str) -> Result<(), String> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).map_err(|e| e.to_string())?;
    std::fs::rename(&tmp, path).map_err(|e| e.to_string())
}
