//! The cost per query of DNS cookies and response rate limiting, in
//! zonecast and in Knot DNS with its `mod-cookies` and `mod-rrl` on: each
//! server in each configuration, one worker, the same query mix at a
//! fixed rate below saturation, alternating rounds; server CPU (user and
//! system) per answered query, median over the rounds. The cookies carry
//! a valid server cookie (the same secret in both servers: RFC 9018
//! cookies are interoperable), so every query is verified and answered;
//! the rate limit is set far above the load, so its bookkeeping is
//! measured and nothing is limited.

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use zonecast::answer::cookie::{CookieSecret, make};

use crate::dnsperf::{self, Load};
use crate::procs::{self, Extra, Server, Which};
use crate::zonegen;

const SECRET: &str = "5f2f0d8bd0c8c7b1a4e3a2f1e0d9c8b7";
const CLIENT: [u8; 8] = [0x24, 0x64, 0xc4, 0xab, 0xcf, 0x10, 0xc9, 0x57];
/// Far above any load here: the buckets are kept, nothing is limited.
const RRL_RATE: u32 = 1_000_000;

#[derive(Clone, Debug)]
pub struct Settings {
    pub names: usize,
    /// Queries per second offered (`dnsperf -Q`).
    pub rate: u32,
    pub seconds: u64,
    pub rounds: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Variant {
    Plain,
    Cookies,
    Rrl,
    Both,
}

impl Variant {
    const ALL: [Variant; 4] = [
        Variant::Plain,
        Variant::Cookies,
        Variant::Rrl,
        Variant::Both,
    ];

    fn label(self) -> &'static str {
        match self {
            Variant::Plain => "neither",
            Variant::Cookies => "cookies (every query with a valid server cookie)",
            Variant::Rrl => "RRL (nothing limited)",
            Variant::Both => "cookies and RRL",
        }
    }

    fn cookies(self) -> bool {
        matches!(self, Variant::Cookies | Variant::Both)
    }

    fn rrl(self) -> bool {
        matches!(self, Variant::Rrl | Variant::Both)
    }

    fn extra(self) -> Extra {
        let mut e = Extra::default();
        let mut modules = Vec::new();
        if self.cookies() {
            e.zonecast += &format!("[cookies]\nsecret = \"{SECRET}\"\n");
            e.knot_top += &format!("mod-cookies:\n  - id: c\n    secret: 0x{SECRET}\n");
            modules.push("mod-cookies/c");
        } else {
            e.zonecast += "[cookies]\nenabled = false\n";
        }
        if self.rrl() {
            e.zonecast += &format!("[rrl]\nenabled = true\nresponses_per_second = {RRL_RATE}\n");
            e.knot_top +=
                &format!("mod-rrl:\n  - id: r\n    rate-limit: {RRL_RATE}\n    slip: 2\n");
            modules.push("mod-rrl/r");
        }
        if !modules.is_empty() {
            e.knot_template = format!("    global-module: [ {} ]\n", modules.join(", "));
        }
        e
    }
}

/// The COOKIE option dnsperf adds (`-E 10:HEX`): our client cookie and
/// the server cookie either server issues to 127.0.0.1 now.
fn cookie_option() -> String {
    let secret = CookieSecret::from_hex(SECRET).unwrap_or_else(|| CookieSecret::new([0; 16]));
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as u32);
    let server = make(&secret, &CLIENT, IpAddr::V4(Ipv4Addr::LOCALHOST), now);
    let hex: String = CLIENT
        .iter()
        .chain(server.iter())
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("10:{hex}")
}

pub struct Row {
    pub variant: &'static str,
    /// Server CPU per answered query, microseconds: zonecast, Knot.
    pub zonecast_us: f64,
    pub knot_us: f64,
    /// Answers that were not NOERROR or NXDOMAIN (BADCOOKIE, say), over
    /// every run: a configuration that does not answer normally.
    pub odd_answers: u64,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

pub fn run(s: &Settings, dir: &Path) -> Result<Vec<Row>, String> {
    let (zone_text, _) = zonegen::zone(s.names);
    let zone = dir.join("bench.test.zone");
    std::fs::write(&zone, zone_text).map_err(|e| e.to_string())?;
    let queries = dir.join("queries.txt");
    std::fs::write(&queries, zonegen::queries(s.names, 200_000, 7)).map_err(|e| e.to_string())?;
    let mut servers: Vec<(Variant, Server)> = Vec::new();
    for v in Variant::ALL {
        for w in [Which::Zonecast, Which::Knot] {
            let srv = procs::start_configured(w, 1, &zone, dir, &v.extra())?;
            servers.push((v, srv));
        }
    }
    let load = Load {
        clients: 10,
        outstanding: 100,
        threads: 1,
        seconds: s.seconds,
        dnssec: false,
        rate: Some(s.rate),
    };
    let tck = procs::ticks_per_second();
    let n = servers.len();
    let mut cpu: Vec<Vec<f64>> = vec![Vec::new(); n];
    let mut odd = vec![0u64; n];
    for round in 0..s.rounds {
        for k in 0..n {
            let i = (k + round) % n;
            let (v, srv) = &servers[i];
            // Made afresh for each run: a cookie is young for 30 minutes.
            let extra: Vec<String> = if v.cookies() {
                vec!["-E".into(), cookie_option()]
            } else {
                Vec::new()
            };
            let (u0, s0) = srv.cpu_ticks();
            let (r, rcodes) = dnsperf::run_with_args(srv.addr, &queries, load, &extra)?;
            let (u1, s1) = srv.cpu_ticks();
            let seconds = ((u1 - u0) + (s1 - s0)) as f64 / tck;
            let us = seconds / r.completed.max(1) as f64 * 1e6;
            odd[i] += rcodes
                .iter()
                .filter(|(c, _)| c != "NOERROR" && c != "NXDOMAIN")
                .map(|(_, n)| n)
                .sum::<u64>();
            eprintln!(
                "  round {}: {:<9} {:<50} {:>8.0} qps, {:.2} us CPU per query",
                round + 1,
                srv.which.label(),
                v.label(),
                r.qps,
                us
            );
            cpu[i].push(us);
        }
    }
    let mut rows = Vec::new();
    for v in Variant::ALL {
        let pick = |w: Which| {
            servers
                .iter()
                .position(|(sv, srv)| *sv == v && srv.which == w)
                .unwrap_or(0)
        };
        let (z, k) = (pick(Which::Zonecast), pick(Which::Knot));
        rows.push(Row {
            variant: v.label(),
            zonecast_us: median(cpu[z].clone()),
            knot_us: median(cpu[k].clone()),
            odd_answers: odd[z] + odd[k],
        });
    }
    Ok(rows)
}

pub fn table(rows: &[Row], s: &Settings) -> String {
    let mut out = format!(
        "### The cost of cookies and RRL\n\nServer CPU (user and system) per answered query at a fixed {} queries/s (`dnsperf -Q`, {} s a run, {} alternating rounds, medians), one worker, {}-name zone; Knot with `mod-cookies` and `mod-rrl` (rate limit {RRL_RATE}, nothing limited); the cookies are valid server cookies, made with the secret both servers share.\n\n\
         | configuration | zonecast µs/query | cost | Knot µs/query | cost | zonecast / Knot |\n|---|---:|---:|---:|---:|---:|\n",
        s.rate, s.seconds, s.rounds, s.names
    );
    let base = rows
        .first()
        .map_or((0.0, 0.0), |r| (r.zonecast_us, r.knot_us));
    for r in rows {
        out += &format!(
            "| {} | {:.2} | {:+.2} | {:.2} | {:+.2} | {:.2} |\n",
            r.variant,
            r.zonecast_us,
            r.zonecast_us - base.0,
            r.knot_us,
            r.knot_us - base.1,
            r.zonecast_us / r.knot_us
        );
        if r.odd_answers > 0 {
            out += &format!(
                "\n({}: {} answers were neither NOERROR nor NXDOMAIN.)\n",
                r.variant, r.odd_answers
            );
        }
    }
    out
}
