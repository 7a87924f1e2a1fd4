//! The dnsperf comparison: Knot DNS, NSD, zonecast and the UDP reflector
//! with the same number of worker threads on the same zone, in alternating
//! rounds; each figure is the median over the rounds.

use std::path::Path;

use crate::dnsperf::{self, Load};
use crate::procs::{self, Server, Which};
use crate::zonegen;

#[derive(Clone, Debug)]
pub struct Settings {
    pub names: usize,
    pub workers: usize,
    pub load: Load,
    pub rounds: usize,
    /// `nsec` or `nsec3`: the zone is signed first.
    pub signed: Option<String>,
    /// Seconds of the verbose run that gives p99 latency.
    pub p99_seconds: u64,
    pub servers: Vec<Which>,
}

/// One server's figures.
#[derive(Clone, Debug)]
pub struct Row {
    pub which: Which,
    pub qps: f64,
    pub mean_latency_ms: f64,
    pub p99_ms: f64,
    pub lost: u64,
    /// Server CPU per answered query, microseconds.
    pub cpu_us_per_query: f64,
    /// The part of it spent in user space (the DNS work; the rest is the
    /// kernel's).
    pub user_us_per_query: f64,
    /// Answered queries per second of server CPU.
    pub per_core: f64,
    /// Proportional set size once the zone is loaded.
    pub pss_mib: f64,
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Runs the comparison in `dir`.
pub fn run(s: &Settings, dir: &Path) -> Result<(Vec<Row>, usize), String> {
    let (zone_text, records) = zonegen::zone(s.names);
    let mut zone = dir.join("bench.test.zone");
    std::fs::write(&zone, zone_text).map_err(|e| e.to_string())?;
    if let Some(denial) = &s.signed {
        zone = sign(dir, &zone, denial == "nsec3")?;
    }
    let queries = dir.join("queries.txt");
    std::fs::write(&queries, zonegen::queries(s.names, 200_000, 7)).map_err(|e| e.to_string())?;
    eprintln!(
        "zone of {} names, {records} records; starting servers",
        s.names
    );
    let mut servers: Vec<Server> = Vec::new();
    let mut pss = Vec::new();
    for &w in &s.servers {
        let srv = procs::start(w, s.workers, &zone, dir)?;
        // Let the load settle before reading memory.
        std::thread::sleep(std::time::Duration::from_millis(300));
        pss.push(srv.pss_kib() as f64 / 1024.0);
        eprintln!(
            "  {} answering after {:.2} s",
            w.label(),
            srv.startup.as_secs_f64()
        );
        servers.push(srv);
    }
    let tck = procs::ticks_per_second();
    let n = servers.len();
    // (dnsperf's figures, CPU seconds, of which user space)
    let mut runs: Vec<Vec<(dnsperf::Run, f64, f64)>> = vec![Vec::new(); n];
    for round in 0..s.rounds {
        // Alternate who goes first, so drift in the machine's load spreads
        // over every server.
        for k in 0..n {
            let i = (k + round) % n;
            let srv = &servers[i];
            let (user0, sys0) = srv.cpu_ticks();
            let r = dnsperf::run(srv.addr, &queries, s.load)?;
            let (user1, sys1) = srv.cpu_ticks();
            let user = (user1 - user0) as f64 / tck;
            let cpu = user + (sys1 - sys0) as f64 / tck;
            eprintln!(
                "  round {}: {:<22} {:>9.0} qps, {:>6.0} per server core",
                round + 1,
                srv.which.label(),
                r.qps,
                r.completed as f64 / cpu.max(1e-9)
            );
            runs[i].push((r, cpu, user));
        }
    }
    let mut rows = Vec::new();
    for (i, srv) in servers.iter().enumerate() {
        let p99_load = Load {
            seconds: s.p99_seconds,
            ..s.load
        };
        let p99 = dnsperf::p99(srv.addr, &queries, p99_load).unwrap_or(f64::NAN);
        let r = &runs[i];
        rows.push(Row {
            which: srv.which,
            qps: median(r.iter().map(|(x, _, _)| x.qps).collect()),
            mean_latency_ms: median(r.iter().map(|(x, _, _)| x.mean_latency_s * 1e3).collect()),
            p99_ms: p99 * 1e3,
            lost: r.iter().map(|(x, _, _)| x.lost).sum(),
            cpu_us_per_query: median(
                r.iter()
                    .map(|(x, c, _)| c / x.completed.max(1) as f64 * 1e6)
                    .collect(),
            ),
            user_us_per_query: median(
                r.iter()
                    .map(|(x, _, u)| u / x.completed.max(1) as f64 * 1e6)
                    .collect(),
            ),
            per_core: median(
                r.iter()
                    .map(|(x, c, _)| x.completed as f64 / c.max(1e-9))
                    .collect(),
            ),
            pss_mib: pss[i],
        });
    }
    Ok((rows, records))
}

/// Signs `zone` (bench.test.) with dnssec-signzone and new ECDSA P-256
/// keys; returns the signed file.
pub fn sign(dir: &Path, zone: &Path, nsec3: bool) -> Result<std::path::PathBuf, String> {
    let run = |program: &str, args: &[&str]| -> Result<(), String> {
        let st = std::process::Command::new(procs::tool(program))
            .current_dir(dir)
            .args(args)
            .status()
            .map_err(|e| format!("{program}: {e}"))?;
        if st.success() {
            Ok(())
        } else {
            Err(format!("{program} failed"))
        }
    };
    let started = std::time::Instant::now();
    for ksk in [true, false] {
        let mut args = vec!["-q", "-K", ".", "-a", "ECDSAP256SHA256", "-n", "ZONE"];
        if ksk {
            args.extend(["-f", "KSK"]);
        }
        args.push("bench.test");
        run("dnssec-keygen", &args)?;
    }
    let signed = dir.join("bench.test.signed");
    let zone_s = zone.display().to_string();
    let out = signed.display().to_string();
    let mut args = vec!["-q", "-K", ".", "-S", "-o", "bench.test", "-f", &out];
    if nsec3 {
        args.extend(["-3", "-", "-H", "0"]);
    }
    args.push(&zone_s);
    run("dnssec-signzone", &args)?;
    eprintln!("signed in {:.1} s", started.elapsed().as_secs_f64());
    Ok(signed)
}

fn ratio(x: f64, knot: Option<f64>) -> String {
    match knot {
        Some(k) if k > 0.0 && x.is_finite() => format!("{:.2}x", x / k),
        _ => "-".into(),
    }
}

/// The table in markdown.
pub fn table(rows: &[Row]) -> String {
    let knot = rows.iter().find(|r| r.which == Which::Knot);
    let limit = rows.iter().find(|r| r.which == Which::Reflector);
    let mut t = String::from(
        "| server | queries/s | mean latency | p99 latency | lost | server CPU per query (user space) | queries per server core | vs Knot (per core) | vs limit (per core) | memory after load | vs Knot (memory) |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in rows {
        let mem = if r.which == Which::Reflector {
            "-".to_string()
        } else {
            format!("{:.1} MiB", r.pss_mib)
        };
        let mem_ratio = if r.which == Which::Reflector {
            "-".to_string()
        } else {
            ratio(r.pss_mib, knot.map(|k| k.pss_mib))
        };
        t += &format!(
            "| {} | {:.0} ({}) | {:.3} ms | {:.3} ms | {} | {:.2} µs ({:.2} µs) | {:.0} | {} | {} | {} | {} |\n",
            r.which.label(),
            r.qps,
            ratio(r.qps, knot.map(|k| k.qps)),
            r.mean_latency_ms,
            r.p99_ms,
            r.lost,
            r.cpu_us_per_query,
            r.user_us_per_query,
            r.per_core,
            ratio(r.per_core, knot.map(|k| k.per_core)),
            ratio(r.per_core, limit.map(|k| k.per_core)),
            mem,
            mem_ratio
        );
    }
    t
}
