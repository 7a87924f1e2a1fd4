//! Running dnsperf and reading its report.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;

use crate::procs::tool;

/// How dnsperf loads the server (`-c`, `-q`, `-T`, `-l`).
#[derive(Clone, Copy, Debug)]
pub struct Load {
    pub clients: usize,
    pub outstanding: usize,
    pub threads: usize,
    pub seconds: u64,
    /// Every query with EDNS and DO=1 (`-D`), as validating resolvers
    /// ask.
    pub dnssec: bool,
    /// Queries per second at most (`-Q`); none: as fast as answered.
    pub rate: Option<u32>,
}

/// What one run measured.
#[derive(Clone, Copy, Debug, Default)]
pub struct Run {
    pub completed: u64,
    pub lost: u64,
    pub qps: f64,
    pub mean_latency_s: f64,
}

fn field(out: &str, label: &str) -> Option<f64> {
    let line = out.lines().find(|l| l.trim_start().starts_with(label))?;
    line[line.find(':')? + 1..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// dnsperf's report of one run against `addr` (`-v`: a line per query).
fn output(addr: SocketAddr, queries: &Path, load: Load, verbose: bool) -> Result<String, String> {
    output_with(addr, queries, load, verbose, &[])
}

/// The same, with more of dnsperf's arguments (`-E code:hex` adds an EDNS
/// option to every query).
fn output_with(
    addr: SocketAddr,
    queries: &Path,
    load: Load,
    verbose: bool,
    extra: &[String],
) -> Result<String, String> {
    let out = Command::new(tool("dnsperf"))
        .args(extra)
        .args(["-s", &addr.ip().to_string(), "-p", &addr.port().to_string()])
        .arg("-d")
        .arg(queries)
        .args([
            "-c",
            &load.clients.to_string(),
            "-q",
            &load.outstanding.to_string(),
        ])
        .args([
            "-T",
            &load.threads.to_string(),
            "-l",
            &load.seconds.to_string(),
        ])
        .args(verbose.then_some("-v"))
        .args(
            load.rate
                .iter()
                .flat_map(|r| ["-Q".to_string(), r.to_string()]),
        )
        .args(load.dnssec.then_some("-D"))
        .output()
        .map_err(|e| format!("cannot run dnsperf: {e}"))?;
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn summary(text: &str) -> Result<Run, String> {
    let get =
        |label| field(text, label).ok_or_else(|| format!("dnsperf said no '{label}':\n{text}"));
    Ok(Run {
        completed: get("Queries completed")? as u64,
        lost: get("Queries lost")? as u64,
        qps: get("Queries per second")?,
        mean_latency_s: get("Average Latency (s)")?,
    })
}

/// "Response codes: NOERROR 10 (90.91%), NXDOMAIN 1 (9.09%)" as pairs.
fn rcodes(text: &str) -> Vec<(String, u64)> {
    let Some(line) = text
        .lines()
        .find(|l| l.trim_start().starts_with("Response codes"))
    else {
        return Vec::new();
    };
    let list = line.split_once(':').map_or("", |(_, l)| l);
    list.split(',')
        .filter_map(|item| {
            let mut words = item.split_whitespace();
            let name = words.next()?.to_string();
            let count = words.next()?.parse().ok()?;
            Some((name, count))
        })
        .collect()
}

/// One timed run of dnsperf against `addr`.
pub fn run(addr: SocketAddr, queries: &Path, load: Load) -> Result<Run, String> {
    summary(&output(addr, queries, load, false)?)
}

/// The same, with how many answers came with each RCODE.
pub fn run_with_rcodes(
    addr: SocketAddr,
    queries: &Path,
    load: Load,
) -> Result<(Run, Vec<(String, u64)>), String> {
    let text = output(addr, queries, load, false)?;
    Ok((summary(&text)?, rcodes(&text)))
}

/// A timed run with more of dnsperf's arguments, and the RCODEs.
pub fn run_with_args(
    addr: SocketAddr,
    queries: &Path,
    load: Load,
    extra: &[String],
) -> Result<(Run, Vec<(String, u64)>), String> {
    let text = output_with(addr, queries, load, false, extra)?;
    Ok((summary(&text)?, rcodes(&text)))
}

/// The 99th percentile latency over a short verbose run (dnsperf 2.10
/// reports no percentiles; `-v` gives each query's latency).
pub fn p99(addr: SocketAddr, queries: &Path, load: Load) -> Result<f64, String> {
    let text = output(addr, queries, load, true)?;
    let mut lat: Vec<f64> = text
        .lines()
        .filter(|l| l.starts_with("> "))
        .filter_map(|l| l.split_whitespace().last()?.parse().ok())
        .collect();
    if lat.is_empty() {
        return Err("dnsperf -v reported no latencies".into());
    }
    lat.sort_by(|a, b| a.total_cmp(b));
    Ok(lat[(lat.len() * 99 / 100).min(lat.len() - 1)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_report() {
        let out = "  Queries sent:         4\n  Queries completed:    4 (100.00%)\n  Queries lost:         0 (0.00%)\n\
                   \x20 Queries per second:   2853.067047\n\n  Average Latency (s):  0.000137 (min 0.000047, max 0.000223)\n";
        assert_eq!(field(out, "Queries completed"), Some(4.0));
        assert_eq!(field(out, "Queries per second"), Some(2853.067047));
        assert_eq!(field(out, "Average Latency (s)"), Some(0.000137));
        assert_eq!(field(out, "Queries lost"), Some(0.0));
        let codes = "  Response codes:       NOERROR 10 (90.91%), NXDOMAIN 1 (9.09%)\n";
        assert_eq!(
            rcodes(codes),
            [("NOERROR".to_string(), 10), ("NXDOMAIN".to_string(), 1)]
        );
    }
}
