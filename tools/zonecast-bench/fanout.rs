//! The fan-out tier, simulated in network namespaces (issue 11, step 5):
//! a Knot DNS hidden primary feeds 2 zonecast distribution nodes, which
//! feed 20 zonecast edges (10 each, every edge listing both as primaries)
//! and one Knot DNS and one BIND edge, each node in a namespace of its
//! own, linked by a veth pair to one bridge, with addresses from
//! 198.18.0.0/15. Each change at the primary is timed until every edge
//! serves it; halfway, one distribution node is killed and its edges
//! must go on through the other. Everything made here is deleted by
//! [`Net`]'s drop, and every process is stopped by its PID.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::procs::{Server, Which, launch, sibling, tool};
use crate::zonegen::APEX;

pub struct Settings {
    pub edges: usize,
    pub changes: usize,
    /// After this many changes one distribution node is killed.
    pub kill_after: Option<usize>,
}

pub struct Report {
    pub edges: usize,
    /// Per change: seconds until the last zonecast edge served it.
    pub last_edge: Vec<f64>,
    /// Per change: seconds until every edge, Knot's and BIND's too.
    pub last_of_all: Vec<f64>,
    /// Per change: seconds until the Knot edge, and the BIND edge.
    pub knot_edge: Vec<f64>,
    pub bind_edge: Vec<f64>,
    /// Per change and zonecast edge: seconds until that edge served it.
    pub each_edge: Vec<f64>,
    /// From the zonecast logs: NOTIFY in until the new version served,
    /// milliseconds, at the distribution nodes and at the edges.
    pub hop_dist: Vec<f64>,
    pub hop_edge: Vec<f64>,
    /// Octets sent by each tier (interface counters).
    pub sent: Vec<(String, u64)>,
    /// Transfers the edges logged: IXFR, and whole zones after the first.
    pub ixfr: usize,
    pub axfr_after_first: usize,
    pub knot_ixfr: usize,
    pub bind_incremental: usize,
    pub killed_at: Option<usize>,
    pub lost: usize,
}

/// The namespaces and links of one run.
struct Net {
    prefix: String,
    nodes: Vec<String>,
    bridge_ns: String,
    root_link: String,
}

/// Runs `ip` with `args`; its complaint as the error.
pub fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new(tool("ip"))
        .args(args)
        .output()
        .map_err(|e| format!("ip: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// Node `i`'s address: 198.18.0.(10 + i).
fn addr_of(i: usize) -> Ipv4Addr {
    Ipv4Addr::new(198, 18, (10 + i) as u8 / 250, ((10 + i) % 250) as u8)
}

impl Net {
    /// A bridge in a namespace of its own, joined by this host (at
    /// 198.18.0.254/16, to measure) and by `count` node namespaces.
    fn new(count: usize) -> Result<Net, String> {
        let prefix = format!("zcf{}", std::process::id() % 100_000);
        let mut net = Net {
            bridge_ns: format!("{prefix}br"),
            root_link: format!("{prefix}h"),
            prefix,
            nodes: Vec::new(),
        };
        let br = net.bridge_ns.clone();
        ip(&["netns", "add", &br])?;
        ip(&["-n", &br, "link", "add", "br0", "type", "bridge"])?;
        ip(&["-n", &br, "link", "set", "br0", "up"])?;
        // Where br_netfilter is loaded, bridged packets would go through
        // the namespace's (empty, yet dropping) netfilter hooks: the
        // bridge only forwards here.
        let _ = Command::new(tool("ip"))
            .args(["netns", "exec", &br, "sysctl", "-qw"])
            .args([
                "net.bridge.bridge-nf-call-iptables=0",
                "net.bridge.bridge-nf-call-ip6tables=0",
                "net.bridge.bridge-nf-call-arptables=0",
            ])
            .stderr(Stdio::null())
            .status();
        // This host's leg.
        let peer = format!("{}p", net.root_link);
        ip(&[
            "link",
            "add",
            &net.root_link,
            "type",
            "veth",
            "peer",
            "name",
            &peer,
        ])?;
        ip(&["link", "set", &peer, "netns", &br])?;
        ip(&["-n", &br, "link", "set", &peer, "master", "br0", "up"])?;
        ip(&["addr", "add", "198.18.0.254/16", "dev", &net.root_link])?;
        ip(&["link", "set", &net.root_link, "up"])?;
        for i in 0..count {
            let ns = format!("{}n{i}", net.prefix);
            ip(&["netns", "add", &ns])?;
            net.nodes.push(ns.clone());
            let leg = format!("{}v{i}", net.prefix);
            ip(&[
                "-n", &br, "link", "add", &leg, "type", "veth", "peer", "name", "eth0", "netns",
                &ns,
            ])?;
            ip(&["-n", &br, "link", "set", &leg, "master", "br0", "up"])?;
            let a = format!("{}/16", addr_of(i));
            ip(&["-n", &ns, "addr", "add", &a, "dev", "eth0"])?;
            ip(&["-n", &ns, "link", "set", "eth0", "up"])?;
            ip(&["-n", &ns, "link", "set", "lo", "up"])?;
        }
        Ok(net)
    }

    /// `program args` run in node `i`'s namespace.
    fn command(&self, i: usize, program: &Path) -> Command {
        let mut c = Command::new(tool("ip"));
        c.args(["netns", "exec", &self.nodes[i]]).arg(program);
        c
    }

    /// Octets node `i` has sent.
    fn sent(&self, i: usize) -> u64 {
        Command::new(tool("ip"))
            .args([
                "netns",
                "exec",
                &self.nodes[i],
                "cat",
                "/sys/class/net/eth0/statistics/tx_bytes",
            ])
            .output()
            .ok()
            .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
            .unwrap_or(0)
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        let _ = ip(&["link", "del", &self.root_link]);
        for ns in self.nodes.iter().chain([&self.bridge_ns]) {
            let _ = ip(&["netns", "del", ns]);
        }
    }
}

/// The SOA serial `server` answers for the zone, read with zonecast's
/// own parser (BIND adds the NS records and their addresses).
fn serial(server: SocketAddr) -> Option<u32> {
    use zonecast::wire::Message;
    let s = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    s.set_read_timeout(Some(Duration::from_millis(50))).ok()?;
    let mut q = vec![0x51, 0x51, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0];
    for label in APEX.trim_end_matches('.').split('.') {
        q.push(label.len() as u8);
        q.extend_from_slice(label.as_bytes());
    }
    q.extend_from_slice(&[0, 0, 6, 0, 1]);
    s.send_to(&q, server).ok()?;
    let mut buf = [0u8; 4096];
    let n = s.recv(&mut buf).ok()?;
    let msg = &buf[..n];
    let sections = Message::new_checked(msg).ok()?.parse().ok()?;
    let soa = sections.answers().flatten().find(|r| r.rtype == 6)?;
    let mut rdata = Vec::new();
    zonecast::wire::rdata::read_rdata(msg, soa.rdata_pos, soa.rdata_len, 6, &mut rdata).ok()?;
    Some(zonecast::zone::snapshot::soa_field(&rdata, 0))
}

fn zone_text(serial: u32) -> String {
    let mut t = format!(
        "$ORIGIN {APEX}\n$TTL 300\n@ SOA ns hostmaster {serial} 3600 600 604800 300\n@ NS ns\nns A 198.18.0.10\n\
         www A 192.0.2.{}\n",
        serial % 250
    );
    for i in 0..1000 {
        t.push_str(&format!("h{i} A 198.19.{}.{}\n", i / 250, i % 250));
    }
    t.push_str(&format!("last TXT \"change {serial}\"\n"));
    t
}

/// Node indexes: the primary, the distribution nodes, the zonecast
/// edges, then the Knot and the BIND edge.
struct Layout {
    edges: usize,
}

impl Layout {
    const PRIMARY: usize = 0;
    fn dist(&self, d: usize) -> usize {
        1 + d
    }
    fn edge(&self, e: usize) -> usize {
        3 + e
    }
    fn knot_edge(&self) -> usize {
        3 + self.edges
    }
    fn bind_edge(&self) -> usize {
        4 + self.edges
    }
    fn count(&self) -> usize {
        5 + self.edges
    }
}

fn at53(i: usize) -> SocketAddr {
    SocketAddr::new(IpAddr::V4(addr_of(i)), 53)
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

fn zonecast(net: &Net, i: usize, home: &Path, config: &str) -> Result<(Server, PathBuf), String> {
    std::fs::create_dir_all(home).map_err(|e| e.to_string())?;
    let conf = home.join("zonecast.toml");
    write(&conf, config)?;
    let log_path = home.join("log");
    let log = std::fs::File::create(&log_path).map_err(|e| e.to_string())?;
    let mut c = net.command(i, &sibling("zonecast"));
    c.arg("-c")
        .arg(&conf)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(log);
    Ok((launch(Which::Zonecast, c, at53(i))?, log_path))
}

/// The milliseconds of each "serial N served M ms after NOTIFY" line.
fn served_after_notify(log: &Path) -> Vec<f64> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let (_, rest) = l.split_once(" served ")?;
            rest.strip_suffix(" ms after NOTIFY")?.parse().ok()
        })
        .collect()
}

/// knotd in node `i`'s namespace, at home in `home`, with `rest`
/// (remotes, ACLs, zones) after the common settings; once it answers, and
/// its configuration (for knotc).
fn knotd(net: &Net, i: usize, home: &Path, rest: &str) -> Result<(Server, PathBuf), String> {
    std::fs::create_dir_all(home).map_err(|e| e.to_string())?;
    let d = home.display();
    let conf = home.join("knot.conf");
    write(
        &conf,
        &format!(
            "server:\n    rundir: {d}\n    listen: {}@53\n    background-workers: 2\n\
             log:\n  - target: {d}/log\n    any: info\n\
             database:\n    storage: {d}\n\
             template:\n  - id: default\n    storage: {d}\n{rest}",
            addr_of(i)
        ),
    )?;
    let mut c = net.command(i, &tool("knotd"));
    c.arg("-c")
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    Ok((launch(Which::Knot, c, at53(i))?, conf))
}

fn count_lines(path: &Path, needle: &str) -> usize {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains(needle))
        .count()
}

pub fn run(s: &Settings, dir: &Path) -> Result<Report, String> {
    let l = Layout { edges: s.edges };
    let net = Net::new(l.count())?;
    let all_edges: Vec<usize> = (0..s.edges).map(|e| l.edge(e)).collect();
    let half = s.edges / 2;
    let edge_list = |list: &[usize]| {
        list.iter()
            .map(|&i| format!("\"{}\"", at53(i)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    // The hidden primary.
    let phome = dir.join("primary");
    std::fs::create_dir_all(&phome).map_err(|e| e.to_string())?;
    let pzone = phome.join("zone");
    write(&pzone, &zone_text(1))?;
    let (_primary, pconf) = knotd(
        &net,
        Layout::PRIMARY,
        &phome,
        &format!(
            "remote:\n  - id: d0\n    address: {}@53\n  - id: d1\n    address: {}@53\n\
             acl:\n  - id: xfr\n    address: 198.18.0.0/15\n    action: transfer\n\
             zone:\n  - domain: {APEX}\n    file: {}\n    notify: [d0, d1]\n    acl: xfr\n    zonefile-load: difference\n    journal-content: changes\n",
            addr_of(l.dist(0)),
            addr_of(l.dist(1)),
            pzone.display()
        ),
    )?;
    let knotc = |args: &[&str]| -> Result<(), String> {
        let out = Command::new(tool("knotc"))
            .arg("-c")
            .arg(&pconf)
            .args(args)
            .output()
            .map_err(|e| e.to_string())?;
        let said = String::from_utf8_lossy(&out.stdout);
        said.contains("OK")
            .then_some(())
            .ok_or_else(|| format!("knotc {}: {said}", args.join(" ")))
    };
    // The distribution nodes: each NOTIFYs every edge (its own ten
    // first), so the other's edges hear of a change when theirs is gone.
    let mut dists = Vec::new();
    let mut dist_logs = Vec::new();
    for dn in 0..2 {
        let mut order: Vec<usize> = all_edges.clone();
        order.rotate_left(dn * half);
        order.extend([l.knot_edge(), l.bind_edge()]);
        let config = format!(
            "[server]\nlisten = [\"{}\"]\nworkers = 1\nidentity = \"dist{dn}\"\n\
             [transfer]\nnotify_min_interval_ms = 0\n\
             [[zone]]\nname = \"{APEX}\"\nfile = \"copy.zone\"\nprimaries = [\"{}\"]\n\
             allow_transfer = [\"198.18.0.0/15\"]\nnotify = [{}]\n",
            at53(l.dist(dn)),
            at53(Layout::PRIMARY),
            edge_list(&order)
        );
        let (server, log) = zonecast(&net, l.dist(dn), &dir.join(format!("dist{dn}")), &config)?;
        dist_logs.push(log.clone());
        dists.push(Some((server, log)));
    }
    // The zonecast edges: their own distribution node first, then the
    // other.
    let mut edges = Vec::new();
    for e in 0..s.edges {
        let (own, other) = if e < half { (0, 1) } else { (1, 0) };
        let config = format!(
            "[server]\nlisten = [\"{}\"]\nworkers = 1\n\
             [transfer]\nnotify_min_interval_ms = 0\n\
             [[zone]]\nname = \"{APEX}\"\nfile = \"copy.zone\"\nprimaries = [\"{}\", \"{}\"]\n",
            at53(l.edge(e)),
            at53(l.dist(own)),
            at53(l.dist(other))
        );
        edges.push(zonecast(
            &net,
            l.edge(e),
            &dir.join(format!("edge{e}")),
            &config,
        )?);
    }
    // The Knot and BIND edges, both distribution nodes their primaries.
    let khome = dir.join("knot-edge");
    let (_knot_edge, _) = knotd(
        &net,
        l.knot_edge(),
        &khome,
        &format!(
            "remote:\n  - id: d0\n    address: {}@53\n  - id: d1\n    address: {}@53\n\
             acl:\n  - id: notify\n    address: 198.18.0.0/15\n    action: notify\n\
             zone:\n  - domain: {APEX}\n    master: [d0, d1]\n    acl: notify\n    zonefile-sync: -1\n    journal-content: changes\n",
            addr_of(l.dist(0)),
            addr_of(l.dist(1)),
        ),
    )?;
    let bhome = dir.join("bind-edge");
    std::fs::create_dir_all(&bhome).map_err(|e| e.to_string())?;
    let bd = bhome.display();
    let bconf = bhome.join("named.conf");
    write(
        &bconf,
        &format!(
            "options {{\n directory \"{bd}\";\n pid-file \"{bd}/named.pid\";\n listen-on port 53 {{ {}; }};\n\
             listen-on-v6 {{ none; }};\n recursion no;\n dnssec-validation no;\n notify no;\n}};\ncontrols {{ }};\n\
             logging {{ channel x {{ file \"{bd}/log\"; severity info; print-time yes; }}; category default {{ x; }}; category xfer-in {{ x; }}; }};\n\
             zone \"{}\" {{ type secondary; primaries {{ {}; {}; }}; allow-notify {{ 198.18.0.0/15; }}; file \"{bd}/copy\"; }};\n",
            addr_of(l.bind_edge()),
            APEX.trim_end_matches('.'),
            addr_of(l.dist(0)),
            addr_of(l.dist(1)),
        ),
    )?;
    let mut c = net.command(l.bind_edge(), &tool("named"));
    // -f: in the foreground, logging as configured (-g sends it all to
    // standard error).
    c.args(["-f", "-c"])
        .arg(&bconf)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let _bind_edge = launch(Which::Knot, c, at53(l.bind_edge()))?;

    let targets: Vec<SocketAddr> = all_edges
        .iter()
        .chain(&[l.knot_edge(), l.bind_edge()])
        .map(|&i| at53(i))
        .collect();
    let everyone_at = |want: u32, since: Instant, limit: Duration| -> Vec<Option<f64>> {
        let mut got: Vec<Option<f64>> = vec![None; targets.len()];
        while got.iter().any(Option::is_none) && since.elapsed() < limit {
            for (k, t) in targets.iter().enumerate() {
                if got[k].is_none() && serial(*t) == Some(want) {
                    got[k] = Some(since.elapsed().as_secs_f64());
                }
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        got
    };
    let first = everyone_at(1, Instant::now(), Duration::from_secs(60));
    if first.iter().any(Option::is_none) {
        return Err(format!("not every edge took serial 1: {first:?}"));
    }
    let sent_before: Vec<u64> = (0..l.count()).map(|i| net.sent(i)).collect();
    let mut last_edge = Vec::new();
    let mut last_of_all = Vec::new();
    let mut knot_edge = Vec::new();
    let mut bind_edge = Vec::new();
    let mut each_edge = Vec::new();
    let mut lost = 0;
    let mut killed_at = None;
    for change in 1..=s.changes {
        if s.kill_after == Some(change - 1)
            && let Some(d) = dists[0].take()
        {
            // SIGKILL, as a crash: no goodbye to anyone.
            // SAFETY: signalling our own child by its PID.
            unsafe { libc::kill(d.0.pid() as i32, libc::SIGKILL) };
            drop(d);
            killed_at = Some(change);
        }
        let serial_now = 1 + change as u32;
        write(&pzone, &zone_text(serial_now))?;
        let started = Instant::now();
        knotc(&["zone-reload", APEX])?;
        let got = everyone_at(serial_now, started, Duration::from_secs(30));
        lost += got.iter().filter(|g| g.is_none()).count();
        let zc = &got[..s.edges];
        each_edge.extend(zc.iter().flatten());
        let latest = |v: &[Option<f64>]| v.iter().flatten().fold(0.0f64, |a, b| a.max(*b));
        last_edge.push(latest(zc));
        last_of_all.push(latest(&got));
        knot_edge.extend(got[s.edges]);
        bind_edge.extend(got[s.edges + 1]);
    }
    let sent_after: Vec<u64> = (0..l.count()).map(|i| net.sent(i)).collect();
    let delta = |is: &[usize]| -> u64 { is.iter().map(|&i| sent_after[i] - sent_before[i]).sum() };
    let sent = vec![
        (
            "hidden primary (Knot)".to_string(),
            delta(&[Layout::PRIMARY]),
        ),
        (
            "2 distribution nodes (zonecast)".to_string(),
            delta(&[l.dist(0), l.dist(1)]),
        ),
        (
            format!(
                "{} zonecast edges (mostly answers to this bench's SOA polling)",
                s.edges
            ),
            delta(&all_edges),
        ),
        (
            "Knot and BIND edges (the same)".to_string(),
            delta(&[l.knot_edge(), l.bind_edge()]),
        ),
    ];
    let mut ixfr = 0;
    let mut axfr_after_first = 0;
    for (_, log) in &edges {
        ixfr += count_lines(log, "] IXFR from");
        axfr_after_first += count_lines(log, "] AXFR from").saturating_sub(1)
            + count_lines(log, "IXFR (AXFR-style) from");
    }
    let hop_dist: Vec<f64> = dist_logs
        .iter()
        .flat_map(|log| served_after_notify(log))
        .collect();
    let hop_edge: Vec<f64> = edges
        .iter()
        .flat_map(|(_, log)| served_after_notify(log))
        .collect();
    let knot_ixfr = count_lines(&khome.join("log"), "IXFR, incoming") / 2;
    let bind_incremental = count_lines(&bhome.join("log"), "Transfer completed")
        .saturating_sub(count_lines(&bhome.join("log"), "AXFR"));
    drop(edges);
    drop(dists);
    Ok(Report {
        edges: s.edges,
        last_edge,
        last_of_all,
        knot_edge,
        bind_edge,
        each_edge,
        hop_dist,
        hop_edge,
        sent,
        ixfr,
        axfr_after_first,
        knot_ixfr,
        bind_incremental,
        killed_at,
        lost,
    })
}

fn percentile(v: &[f64], p: f64) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return f64::NAN;
    }
    v[((v.len() - 1) as f64 * p).round() as usize]
}

pub fn table(r: &Report) -> String {
    let ms = |x: f64| format!("{:.1} ms", x * 1e3);
    let mut t = format!(
        "| {} changes, {} zonecast edges + Knot + BIND | median | p99 | max |\n|---|---:|---:|---:|\n",
        r.last_edge.len(),
        r.edges
    );
    for (what, v) in [
        (
            "change at the primary until every zonecast edge serves it",
            &r.last_edge,
        ),
        (
            "... until the Knot and BIND edges serve it too",
            &r.last_of_all,
        ),
        ("... until the Knot edge serves it", &r.knot_edge),
        ("... until the BIND edge serves it", &r.bind_edge),
        (
            "change until a zonecast edge serves it (every edge, every change)",
            &r.each_edge,
        ),
    ] {
        t.push_str(&format!(
            "| {what} | {} | {} | {} |\n",
            ms(percentile(v, 0.5)),
            ms(percentile(v, 0.99)),
            ms(percentile(v, 1.0))
        ));
    }
    for (what, v) in [
        (
            "distribution node: NOTIFY in until served (its log)",
            &r.hop_dist,
        ),
        (
            "zonecast edge: NOTIFY in until served (its log)",
            &r.hop_edge,
        ),
    ] {
        t.push_str(&format!(
            "| {what} | {:.0} ms | {:.0} ms | {:.0} ms |\n",
            percentile(v, 0.5),
            percentile(v, 0.99),
            percentile(v, 1.0)
        ));
    }
    t.push_str("\n| tier | octets sent during the changes |\n|---|---:|\n");
    for (who, n) in &r.sent {
        t.push_str(&format!("| {who} | {n} |\n"));
    }
    t.push_str(&format!(
        "\nzonecast edges: {} IXFRs, {} whole zones after the first; Knot edge: {} IXFRs; BIND edge: {} incremental transfers; {} (edge, change) pairs never served within 30 s{}.\n",
        r.ixfr,
        r.axfr_after_first,
        r.knot_ixfr,
        r.bind_incremental,
        r.lost,
        r.killed_at
            .map_or(String::new(), |c| format!("; distribution node 0 killed (SIGKILL) before change {c}"))
    ));
    t
}
