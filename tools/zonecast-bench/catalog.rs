//! A catalog of many members (RFC 9432): one Knot DNS primary generates
//! the catalog of N zones (`catalog-role: generate`); a fresh zonecast
//! (and, unless left out, a fresh Knot DNS with `catalog-role:
//! interpret`) follows it. Measured: the time until every member answers,
//! the memory after that, and for each of a number of changes at the
//! producer (a member added with `knotc conf-set`, one removed with
//! `conf-unset`) the time until the consumer serves, or refuses, it.

use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::procs::{self, Server, free_port};
use crate::zones::{
    SUFFIX, all_answer, answered, apex, free_port_except, knot_file, soa_query, start_zonecast,
    zone_text,
};

const CATALOG: &str = "catalog.invalid.";

#[derive(Clone, Debug)]
pub struct Settings {
    pub members: usize,
    /// Members added, then removed, one at a time.
    pub changes: usize,
    pub knot: bool,
}

#[derive(Default)]
pub struct Side {
    pub sync_s: Option<f64>,
    pub pss_mib: Option<f64>,
    /// Milliseconds from each change at the producer to the consumer
    /// serving (or refusing) the zone.
    pub added_ms: Vec<f64>,
    pub removed_ms: Vec<f64>,
}

pub struct Report {
    pub members: usize,
    pub knot: Option<Side>,
    pub zonecast: Side,
}

/// The producer: every member in its catalog, NOTIFY to each consumer.
fn producer(
    dir: &Path,
    members: usize,
    notify: &[u16],
) -> Result<(Server, PathBuf, PathBuf), String> {
    let home = dir.join("producer");
    let files = home.join("zones");
    std::fs::create_dir_all(&files).map_err(|e| e.to_string())?;
    // The zones the changes add are written now, so a change is only
    // the configuration's.
    for i in 0..members + 1000 {
        std::fs::write(knot_file(&files, i), zone_text(i, 1)).map_err(|e| e.to_string())?;
    }
    let remotes: String = notify
        .iter()
        .enumerate()
        .map(|(k, p)| format!("  - id: c{k}\n    address: 127.0.0.1@{p}\n"))
        .collect();
    let ids: Vec<String> = (0..notify.len()).map(|k| format!("c{k}")).collect();
    let notify_list = format!("[{}]", ids.join(", "));
    let mut conf = format!(
        "remote:\n{remotes}\
         acl:\n  - id: xfr\n    address: 127.0.0.0/8\n    action: transfer\n\
         template:\n  - id: member\n    storage: {}\n    file: \"%s.zone\"\n    notify: {notify_list}\n    acl: xfr\n\
         \x20   catalog-role: member\n    catalog-zone: {CATALOG}\n\
         zone:\n  - domain: {CATALOG}\n    catalog-role: generate\n    notify: {notify_list}\n    acl: xfr\n",
        files.display()
    );
    for i in 0..members {
        conf.push_str(&format!("  - domain: {}\n    template: member\n", apex(i)));
    }
    let port = free_port_except(notify[0]);
    let (server, conf) = procs::start_knot_answering(&home, port, &conf)?;
    Ok((server, conf, files))
}

fn knotc(conf: &Path, args: &[&str]) -> Result<(), String> {
    let out = Command::new(procs::tool("knotc"))
        .arg("-c")
        .arg(conf)
        .args(args)
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "knotc {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn zonecast_consumer(home: &Path, port: u16, primary: SocketAddr) -> Result<PathBuf, String> {
    std::fs::create_dir_all(home).map_err(|e| e.to_string())?;
    let conf = format!(
        "[server]\nlisten = [\"127.0.0.1:{port}\"]\nworkers = 1\n\
         [transfer]\nmax_concurrent = 64\nmax_per_primary = 64\nnotify_min_interval_ms = 0\n\
         [[catalog]]\nname = \"{CATALOG}\"\nfile = \"catalog.zone\"\nprimaries = [\"{primary}\"]\n"
    );
    let path = home.join("zonecast.toml");
    std::fs::write(&path, conf).map_err(|e| e.to_string())?;
    Ok(path)
}

fn knot_consumer(dir: &Path, port: u16, primary: SocketAddr) -> Result<Server, String> {
    let home = dir.join("knot-consumer");
    std::fs::create_dir_all(&home).map_err(|e| e.to_string())?;
    let conf = format!(
        "remote:\n  - id: producer\n    address: {}@{}\n\
         acl:\n  - id: notify\n    address: 127.0.0.0/8\n    action: notify\n\
         template:\n  - id: member\n    master: producer\n    acl: notify\n    zonefile-sync: -1\n    storage: {}\n\
         zone:\n  - domain: {CATALOG}\n    master: producer\n    acl: notify\n    catalog-role: interpret\n    catalog-template: member\n",
        primary.ip(),
        primary.port(),
        home.display()
    );
    Ok(procs::start_knot_answering(&home, port, &conf)?.0)
}

/// Waits until zone `i` answers with `rcode` (0: its SOA) at every
/// consumer, asked side by side; each one's time from `since`.
fn until(addrs: &[SocketAddr], i: usize, rcode: u8, since: Instant) -> Vec<Option<f64>> {
    let mut seen: Vec<Option<f64>> = vec![None; addrs.len()];
    let Ok(s) = UdpSocket::bind("127.0.0.1:0") else {
        return seen;
    };
    if s.set_read_timeout(Some(Duration::from_millis(2))).is_err() {
        return seen;
    }
    let mut buf = [0u8; 512];
    while since.elapsed() < Duration::from_secs(60) && seen.iter().any(Option::is_none) {
        for (k, a) in addrs.iter().enumerate() {
            if seen[k].is_none() {
                let _ = s.send_to(&soa_query(i), a);
            }
        }
        while let Ok((n, from)) = s.recv_from(&mut buf) {
            let r = &buf[..n];
            let ok = if rcode == 0 {
                answered(r).is_some_and(|(j, _)| j == i)
            } else {
                r.len() > 3 && r[3] & 0xf == rcode
            };
            if let Some(k) = addrs.iter().position(|a| *a == from)
                && ok
                && seen[k].is_none()
            {
                seen[k] = Some(since.elapsed().as_secs_f64() * 1e3);
            }
        }
    }
    seen
}

/// Milliseconds per member added, and per member removed.
type Timings = (Vec<f64>, Vec<f64>);

/// Adds then removes `changes` members at the producer, one at a time,
/// timing each at every consumer.
fn changes(
    conf: &Path,
    members: usize,
    n: usize,
    consumers: &[SocketAddr],
) -> Result<Vec<Timings>, String> {
    let mut out = vec![(Vec::new(), Vec::new()); consumers.len()];
    for k in 0..n {
        let name = apex(members + k);
        let started = Instant::now();
        knotc(conf, &["conf-begin"])?;
        knotc(conf, &["conf-set", &format!("zone[{name}]")])?;
        knotc(
            conf,
            &["conf-set", &format!("zone[{name}].template"), "member"],
        )?;
        knotc(conf, &["conf-commit"])?;
        for (c, ms) in until(consumers, members + k, 0, started)
            .into_iter()
            .enumerate()
        {
            out[c].0.extend(ms);
        }
    }
    for k in 0..n {
        let name = apex(members + k);
        let started = Instant::now();
        knotc(conf, &["conf-begin"])?;
        knotc(conf, &["conf-unset", &format!("zone[{name}]")])?;
        knotc(conf, &["conf-commit"])?;
        for (c, ms) in until(consumers, members + k, 5, started)
            .into_iter()
            .enumerate()
        {
            out[c].1.extend(ms);
        }
    }
    Ok(out)
}

pub fn run(s: &Settings, dir: &Path) -> Result<Report, String> {
    let n = s.members;
    let zc_port = free_port();
    let knot_port = free_port_except(zc_port);
    let notify: Vec<u16> = if s.knot {
        vec![zc_port, knot_port]
    } else {
        vec![zc_port]
    };
    eprintln!("writing {n} zones, starting the Knot producer");
    let (producer, pconf, _files) = producer(dir, n, &notify)?;
    let limit = Duration::from_secs(900);
    let mut knot = None;
    let mut consumers = Vec::new();
    let knot_server = if s.knot {
        eprintln!("Knot consumer: following {n} members");
        let started = Instant::now();
        let k = knot_consumer(dir, knot_port, producer.addr)?;
        let sync_s = all_answer(k.addr, n, Some(1), started, limit);
        std::thread::sleep(Duration::from_millis(500));
        let pss = k.pss_kib() as f64 / 1024.0;
        eprintln!("  synced in {sync_s:?} s, {pss:.1} MiB");
        knot = Some(Side {
            sync_s,
            pss_mib: Some(pss),
            ..Side::default()
        });
        consumers.push(k.addr);
        Some(k)
    } else {
        None
    };
    eprintln!("zonecast consumer: following {n} members");
    let home = dir.join("zonecast");
    let conf = zonecast_consumer(&home, zc_port, producer.addr)?;
    let started = Instant::now();
    let zc = start_zonecast(&conf, zc_port, &home.join("log"))?;
    let sync_s = all_answer(zc.addr, n, Some(1), started, limit);
    std::thread::sleep(Duration::from_millis(1500));
    let pss = zc.pss_kib() as f64 / 1024.0;
    eprintln!("  synced in {sync_s:?} s, {pss:.1} MiB");
    let mut side = Side {
        sync_s,
        pss_mib: Some(pss),
        ..Side::default()
    };
    consumers.push(zc.addr);
    eprintln!("{} members added, then removed, one at a time", s.changes);
    let mut timed = changes(&pconf, n, s.changes, &consumers)?;
    let (added, removed) = timed.pop().unwrap_or_default();
    side.added_ms = added;
    side.removed_ms = removed;
    if let (Some(k), Some((added, removed))) = (knot.as_mut(), timed.pop()) {
        k.added_ms = added;
        k.removed_ms = removed;
    }
    drop(zc);
    drop(knot_server);
    drop(producer);
    Ok(Report {
        members: n,
        knot,
        zonecast: side,
    })
}

fn stats(v: &[f64]) -> String {
    if v.is_empty() {
        return "-".into();
    }
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    format!(
        "{:.0} / {:.0} ms ({} of them)",
        v[v.len() / 2],
        v[v.len() - 1],
        v.len()
    )
}

pub fn table(r: &Report, changes: usize) -> String {
    let k = r.knot.as_ref();
    let z = &r.zonecast;
    let f = |v: Option<f64>, unit: &str| v.map_or("-".into(), |x| format!("{x:.2} {unit}"));
    let mut t = format!(
        "A catalog of {} members (zones of 9 records under {SUFFIX}) generated by one Knot DNS \
         producer (`catalog-role: generate`), followed by each consumer with 1 worker; zonecast with \
         `max_concurrent = 64`, `max_per_primary = 64`. Then {changes} members added at the producer \
         (`knotc conf-set`), one at a time, and removed again (`conf-unset`), each timed from the \
         `conf-commit` until the consumer serves (or REFUSES) the zone; median / max.\n\n\
         | {} members | Knot DNS (`catalog-role: interpret`) | zonecast |\n|---|---:|---:|\n",
        r.members, r.members
    );
    t.push_str(&format!(
        "| every member answering, from start | {} | {} |\n",
        f(k.and_then(|k| k.sync_s), "s"),
        f(z.sync_s, "s")
    ));
    t.push_str(&format!(
        "| memory (PSS) after that | {} | {} |\n",
        f(k.and_then(|k| k.pss_mib), "MiB"),
        f(z.pss_mib, "MiB")
    ));
    t.push_str(&format!(
        "| a member added, until served | {} | {} |\n",
        k.map_or("-".into(), |k| stats(&k.added_ms)),
        stats(&z.added_ms)
    ));
    t.push_str(&format!(
        "| a member removed, until REFUSED | {} | {} |\n",
        k.map_or("-".into(), |k| stats(&k.removed_ms)),
        stats(&z.removed_ms)
    ));
    t
}
