//! Answers per second of one server core at saturation: the server in a
//! network namespace, its worker pinned to CPU 0, and Knot's `kxdpgun`
//! (an AF_XDP generator, far faster than dnsperf) on the host side of a
//! veth pair, pinned to CPU 1, offering more than any server answers.
//! The answered rate is the server's limit, whatever the client; a
//! CPU-per-query figure under a client-bound load would flatter the
//! slower server (it sleeps less and reads bigger batches). Addresses
//! are from 198.18.0.0/15, the benchmarking range: nothing leaves the
//! machine. Servers take turns, round after round; figures are medians.

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::process::{Command, Stdio};

use crate::fanout::ip;
use crate::procs::{self, Extra, Server, Which, tool};
use crate::zonegen;

#[derive(Clone, Debug)]
pub struct Settings {
    pub names: usize,
    pub seconds: u64,
    pub rounds: usize,
    /// Queries per second kxdpgun offers (`-Q`).
    pub offered: u64,
    /// Knot's XDP mode as a row too.
    pub knot_xdp: bool,
}

/// One row of the table.
pub struct Row {
    pub label: String,
    pub answered_qps: f64,
    pub runs: Vec<f64>,
}

/// A namespace and a veth pair: the host's end 198.18.2.1/30, the
/// namespace's `eth0` 198.18.2.2/30. Deleted when dropped.
struct Pair {
    ns: String,
    host_link: String,
}

const HOST: Ipv4Addr = Ipv4Addr::new(198, 18, 2, 1);
const SERVER: Ipv4Addr = Ipv4Addr::new(198, 18, 2, 2);

impl Pair {
    fn new() -> Result<Pair, String> {
        let id = std::process::id() % 100_000;
        let p = Pair {
            ns: format!("zcs{id}"),
            host_link: format!("zcs{id}h"),
        };
        ip(&["netns", "add", &p.ns])?;
        ip(&[
            "link",
            "add",
            &p.host_link,
            "type",
            "veth",
            "peer",
            "name",
            "eth0",
            "netns",
            &p.ns,
        ])?;
        ip(&["addr", "add", &format!("{HOST}/30"), "dev", &p.host_link])?;
        ip(&["link", "set", &p.host_link, "up"])?;
        ip(&[
            "-n",
            &p.ns,
            "addr",
            "add",
            &format!("{SERVER}/30"),
            "dev",
            "eth0",
        ])?;
        ip(&["-n", &p.ns, "link", "set", "eth0", "up"])?;
        ip(&["-n", &p.ns, "link", "set", "lo", "up"])?;
        Ok(p)
    }
}

impl Drop for Pair {
    fn drop(&mut self) {
        let _ = ip(&["link", "del", &self.host_link]);
        let _ = ip(&["netns", "del", &self.ns]);
    }
}

/// The answered rate of one kxdpgun run against `port`.
fn gun(pair: &Pair, port: u16, queries: &Path, s: &Settings) -> Result<f64, String> {
    let out = Command::new(tool("kxdpgun"))
        .args(["-t", &s.seconds.to_string()])
        .args(["-Q", &s.offered.to_string()])
        .args(["-F", "1", "-I", &pair.host_link])
        .args(["-p", &port.to_string()])
        .arg("-i")
        .arg(queries)
        .arg(SERVER.to_string())
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run kxdpgun: {e}"))?;
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    replies_per_second(&text, s.seconds).ok_or_else(|| format!("kxdpgun said:\n{text}"))
}

/// kxdpgun's "total replies: N (R pps)" line, as replies per second of
/// the run's length.
fn replies_per_second(text: &str, seconds: u64) -> Option<f64> {
    let line = text.lines().find(|l| l.contains("total replies"))?;
    let n: f64 = line
        .split(':')
        .nth(1)?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some(n / seconds.max(1) as f64)
}

/// kxdpgun's query file: `name TYPE` lines, like dnsperf's.
fn query_file(dir: &Path, names: usize) -> Result<std::path::PathBuf, String> {
    let path = dir.join("kxdpgun-queries.txt");
    std::fs::write(&path, zonegen::queries(names, 200_000, 7)).map_err(|e| e.to_string())?;
    Ok(path)
}

pub fn run(s: &Settings, dir: &Path) -> Result<Vec<Row>, String> {
    let (zone_text, _) = zonegen::zone(s.names);
    let zone = dir.join("bench.test.zone");
    std::fs::write(&zone, zone_text).map_err(|e| e.to_string())?;
    let queries = query_file(dir, s.names)?;
    let pair = Pair::new()?;
    let place = Extra {
        netns: Some(pair.ns.clone()),
        listen: Some(IpAddr::V4(SERVER)),
        cpu: Some(0),
        // The bench measures answering: no rate limit, no cookies.
        zonecast: "[cookies]\nenabled = false\n".into(),
        ..Extra::default()
    };
    let mut kinds: Vec<(String, Which, Extra)> = vec![
        (
            "zonecast, kernel sockets".into(),
            Which::Zonecast,
            place.clone(),
        ),
        (
            "Knot DNS, kernel sockets".into(),
            Which::Knot,
            place.clone(),
        ),
    ];
    // zonecast's own fast path: the XDP program and an AF_XDP worker on
    // the namespace's end of the pair, on the same pinned core.
    let mut x = place.clone();
    x.zonecast = format!("xdp = [\"eth0\"]\n{}", place.zonecast);
    kinds.push(("zonecast, XDP".into(), Which::Zonecast, x));
    if s.knot_xdp {
        let mut x = place.clone();
        // Knot's own fast path: its XDP program and AF_XDP sockets on the
        // namespace's end of the pair (native mode on veth).
        x.knot_top = "xdp:\n    listen: eth0@{PORT}\n    udp: on\n".into();
        kinds.push(("Knot DNS, XDP mode".into(), Which::Knot, x));
    }
    let mut rows: Vec<Row> = Vec::new();
    // One server at a time: an XDP program owns the interface while it
    // runs, and the others would share the core.
    for round in 0..s.rounds {
        for k in 0..kinds.len() {
            let i = (k + round) % kinds.len();
            let (label, which, extra) = &kinds[i];
            let srv: Server = procs::start_configured(*which, 1, &zone, dir, extra)?;
            let r = gun(&pair, srv.addr.port(), &queries, s)?;
            eprintln!("  round {}: {label:<28} {r:>10.0} answers/s", round + 1);
            drop(srv);
            // Knot 3.2 leaves its XDP program attached when it exits; the
            // next server would find the interface taken (zonecast's
            // goes with its process, by a BPF link).
            let _ = ip(&["-n", &pair.ns, "link", "set", "dev", "eth0", "xdp", "off"]);
            match rows.iter_mut().find(|row| &row.label == label) {
                Some(row) => row.runs.push(r),
                None => rows.push(Row {
                    label: label.clone(),
                    answered_qps: 0.0,
                    runs: vec![r],
                }),
            }
        }
    }
    for r in &mut rows {
        let mut v = r.runs.clone();
        v.sort_by(|a, b| a.total_cmp(b));
        r.answered_qps = v[v.len() / 2];
    }
    Ok(rows)
}

pub fn table(rows: &[Row], s: &Settings) -> String {
    let knot = rows
        .iter()
        .find(|r| r.label == "Knot DNS, kernel sockets")
        .map(|r| r.answered_qps);
    let knot_xdp = rows
        .iter()
        .find(|r| r.label == "Knot DNS, XDP mode")
        .map(|r| r.answered_qps);
    let mut out = format!(
        "### One server core at saturation\n\n`kxdpgun -t {} -Q {} -F 1` on the host side of a veth pair into a network namespace (198.18.2.0/30), the server pinned to CPU 0 with one worker, the generator on CPU 1; {}-name zone, the usual query mix; {} rounds, servers taking turns, medians.\n\n\
         | server | answered queries/s | vs Knot, sockets | vs Knot, XDP |\n|---|---:|---:|---:|\n",
        s.seconds, s.offered, s.names, s.rounds
    );
    let ratio = |x: f64, base: Option<f64>| base.map_or("–".into(), |b| format!("{:.2}×", x / b));
    for r in rows {
        out += &format!(
            "| {} | {:.0} | {} | {} |\n",
            r.label,
            r.answered_qps,
            ratio(r.answered_qps, knot),
            ratio(r.answered_qps, knot_xdp)
        );
    }
    // The machine's speed drifts between rounds (it is shared): within a
    // round the servers ran minutes apart at most, so the ratio of each
    // round, and their median, says more than the ratio of medians.
    let paired = |a: &str, b: &str| -> Option<f64> {
        let a = rows.iter().find(|r| r.label == a)?;
        let b = rows.iter().find(|r| r.label == b)?;
        let mut v: Vec<f64> = a.runs.iter().zip(&b.runs).map(|(x, y)| x / y).collect();
        v.sort_by(|x, y| x.total_cmp(y));
        v.get(v.len() / 2).copied()
    };
    for (a, b) in [
        ("zonecast, XDP", "Knot DNS, XDP mode"),
        ("zonecast, kernel sockets", "Knot DNS, kernel sockets"),
    ] {
        if let Some(r) = paired(a, b) {
            out += &format!("\nMedian of the per-round ratios, {a} / {b}: {r:.2}×");
        }
    }
    out + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_kxdpgun_replies() {
        let text = "using interface zcs1h, XDP threads 1, IPv4 + UDP, native mode\n\
                    total queries:     15000000 (3000000 pps) (100%)\n\
                    total replies:     1242000 (248400 pps) (8%)\n";
        assert_eq!(replies_per_second(text, 5), Some(248_400.0));
        assert_eq!(replies_per_second("nothing", 5), None);
    }
}
