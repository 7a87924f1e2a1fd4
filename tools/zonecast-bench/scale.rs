//! How the work scales with the zone: load time and memory per record for
//! zones of several sizes (zonecast, Knot DNS, NSD), the time to publish a
//! one-record IXFR on the largest, and AXFR ingest against Knot as the
//! secondary pulling the same zone.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::procs::{self, Which, free_port};
use crate::zonegen::{self, APEX};

#[derive(Clone, Debug)]
pub struct Settings {
    pub sizes: Vec<usize>,
    pub workers: usize,
}

pub struct LoadRow {
    pub names: usize,
    pub records: usize,
    pub which: Which,
    pub startup_s: f64,
    pub pss_mib: f64,
    pub bytes_per_record: f64,
}

pub struct Report {
    pub load: Vec<LoadRow>,
    pub ixfr_apply_us: f64,
    pub ixfr_names: usize,
    pub shards_copied: String,
    pub transfer: Vec<(String, f64, f64)>,
    pub notify_to_served_ms: Option<f64>,
}

fn pss_after_load(
    which: Which,
    workers: usize,
    zone: &Path,
    dir: &Path,
) -> Result<(f64, f64), String> {
    let srv = procs::start(which, workers, zone, dir)?;
    std::thread::sleep(Duration::from_millis(300));
    Ok((srv.startup.as_secs_f64(), srv.pss_kib() as f64 / 1024.0))
}

pub fn run(s: &Settings, dir: &Path) -> Result<Report, String> {
    let servers = [Which::Zonecast, Which::Knot, Which::Nsd];
    // What each server holds with an almost empty zone.
    let (tiny, _) = zonegen::zone(0);
    let tiny_path = dir.join("tiny.zone");
    std::fs::write(&tiny_path, tiny).map_err(|e| e.to_string())?;
    let mut base = Vec::new();
    for w in servers {
        base.push(pss_after_load(w, s.workers, &tiny_path, dir)?.1);
    }
    let mut load = Vec::new();
    for &names in &s.sizes {
        let (text, records) = zonegen::zone(names);
        let path = dir.join(format!("zone-{names}.zone"));
        std::fs::write(&path, text).map_err(|e| e.to_string())?;
        for (k, w) in servers.into_iter().enumerate() {
            let (startup_s, pss_mib) = pss_after_load(w, s.workers, &path, dir)?;
            eprintln!(
                "  {names} names: {} answering after {startup_s:.2} s, {pss_mib:.1} MiB",
                w.label()
            );
            load.push(LoadRow {
                names,
                records,
                which: w,
                startup_s,
                pss_mib,
                bytes_per_record: ((pss_mib - base[k]) * 1024.0 * 1024.0 / records as f64).max(0.0),
            });
        }
    }
    let largest = *s.sizes.iter().max().unwrap_or(&100_000);
    let big = dir.join(format!("zone-{largest}.zone"));
    let (ixfr_apply_us, shards_copied) = ixfr_in_process(&big)?;
    let (transfer, notify_to_served_ms) = transfers(largest, &big, dir)?;
    Ok(Report {
        load,
        ixfr_apply_us,
        ixfr_names: largest,
        shards_copied,
        transfer,
        notify_to_served_ms,
    })
}

/// The time to build the next version after a one-record diff, on the
/// zone at `path` (median of seven).
fn ixfr_in_process(path: &Path) -> Result<(f64, String), String> {
    use zonecast::wire::name::parse_name_text;
    use zonecast::zone::{Diff, Rr, load_zone_file};
    let apex = parse_name_text(APEX, None).map_err(|e| e.to_string())?;
    let snap = load_zone_file(path, &apex)
        .map_err(|e| e.to_string())?
        .snapshot;
    let soa = |serial: u32| soa_at(&snap, serial);
    let owner = parse_name_text("h1.bench.test.", None).map_err(|e| e.to_string())?;
    let a = |octets: [u8; 4]| Rr {
        owner: owner.clone(),
        rtype: 1,
        class: 1,
        ttl: 3600,
        rdata: octets.to_vec().into(),
    };
    let diff = Diff {
        old_soa: soa(snap.serial()),
        removed: vec![a([10, 0, 0, 1])],
        new_soa: soa(snap.serial() + 1),
        added: vec![a([192, 0, 2, 254])],
    };
    let mut times = Vec::new();
    let mut shared = String::new();
    for _ in 0..7 {
        let t = Instant::now();
        let next = zonecast::zone::diff::apply(&snap, std::slice::from_ref(&diff))
            .map_err(|e| e.to_string())?;
        times.push(t.elapsed().as_secs_f64() * 1e6);
        shared = format!(
            "{} of {} shards shared",
            next.shared_shards(&snap),
            snap.shard_count()
        );
        // Dropping the new version is not part of publishing it.
        drop(next);
    }
    times.sort_by(|a, b| a.total_cmp(b));
    Ok((times[times.len() / 2], shared))
}

/// The SOA of `snap` with its serial set to `serial`, for a diff.
pub fn soa_at(snap: &zonecast::zone::Snapshot, serial: u32) -> zonecast::zone::Rr {
    let mut rd = snap.soa_rdata().to_vec();
    let at = rd.len() - 20;
    rd[at..at + 4].copy_from_slice(&serial.to_be_bytes());
    zonecast::zone::Rr {
        owner: snap.apex().clone(),
        rtype: 6,
        class: 1,
        ttl: snap.soa().ttl(),
        rdata: rd.into(),
    }
}

/// AXFR ingest into zonecast and into Knot from a Knot primary, then a
/// one-record change pushed with NOTIFY.
#[allow(clippy::type_complexity)]
fn transfers(
    names: usize,
    zone: &Path,
    dir: &Path,
) -> Result<(Vec<(String, f64, f64)>, Option<f64>), String> {
    let records = zonegen::zone(names).1;
    let zc_port = free_port();
    let primary = procs::knot_primary(dir, zone, zc_port)?;
    let primary_port = primary.server.addr.port();
    let mut out = Vec::new();
    let (zc, zc_log) = procs::zonecast_secondary(dir, zc_port, primary_port, 1)?;
    let t = zc.startup.as_secs_f64();
    eprintln!("  AXFR of {records} records into zonecast: {t:.2} s");
    out.push(("zonecast".to_string(), t, records as f64 / t));
    // Knot as the secondary of the same primary.
    let ks = procs::knot_secondary(dir, primary_port)?;
    let t = ks.startup.as_secs_f64();
    eprintln!("  AXFR of {records} records into Knot: {t:.2} s");
    out.push(("Knot DNS".to_string(), t, records as f64 / t));
    drop(ks);
    // One record changes on the primary; Knot sends NOTIFY.
    let text = std::fs::read_to_string(&primary.publisher.zone).map_err(|e| e.to_string())?;
    let changed = text.replacen("2026112501", "2026112502", 1).replacen(
        "h1 A 10.0.0.1\n",
        "h1 A 192.0.2.254\n",
        1,
    );
    primary.publisher.publish(&changed)?;
    let end = Instant::now() + Duration::from_secs(60);
    while Instant::now() < end && procs::serial(zc.addr) != Some(2026112502) {
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(200));
    let log = std::fs::read_to_string(&zc_log).unwrap_or_default();
    let served = log
        .lines()
        .find(|l| l.contains("after NOTIFY"))
        .and_then(|l| {
            l.split(" served ")
                .nth(1)?
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        });
    if !log.contains("IXFR from") {
        eprintln!("  warning: the one-record change did not come as IXFR:\n{log}");
    }
    drop(zc);
    drop(primary);
    Ok((out, served))
}

/// The tables in markdown.
pub fn tables(r: &Report) -> String {
    let mut t = String::from(
        "| names | records | server | answering after start | memory after load | bytes per record | vs Knot (bytes per record) |\n\
         |---:|---:|---|---:|---:|---:|---:|\n",
    );
    for row in &r.load {
        let knot = r
            .load
            .iter()
            .find(|k| k.names == row.names && k.which == Which::Knot)
            .map(|k| k.bytes_per_record);
        let ratio = knot.filter(|k| *k > 0.0).map_or("-".to_string(), |k| {
            format!("{:.2}x", row.bytes_per_record / k)
        });
        t += &format!(
            "| {} | {} | {} | {:.2} s | {:.1} MiB | {:.0} | {} |\n",
            row.names,
            row.records,
            row.which.label(),
            row.startup_s,
            row.pss_mib,
            row.bytes_per_record,
            ratio
        );
    }
    t += &format!(
        "\nOne-record IXFR on the {}-name zone, new version built and ready to publish: {:.0} µs (median of 7; {}).\n",
        r.ixfr_names, r.ixfr_apply_us, r.shards_copied
    );
    if let Some(ms) = r.notify_to_served_ms {
        t += &format!(
            "End to end, a one-record change on a Knot primary (NOTIFY, SOA query, IXFR, publish) was served {ms:.1} ms after the NOTIFY reached zonecast.\n"
        );
    }
    t += "\n| AXFR ingest from a Knot primary | time until the secondary answers | records per second | vs Knot |\n|---|---:|---:|---:|\n";
    let knot = r
        .transfer
        .iter()
        .find(|(n, _, _)| n == "Knot DNS")
        .map(|(_, _, rate)| *rate);
    for (name, secs, rate) in &r.transfer {
        let ratio = knot.map_or("-".into(), |k| format!("{:.2}x", rate / k));
        t += &format!("| {name} | {secs:.2} s | {rate:.0} | {ratio} |\n");
    }
    t
}
