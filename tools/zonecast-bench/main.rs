//! `zonecast-bench`: measures zonecast against Knot DNS and NSD on this
//! machine, and how the work scales with the zone. Run it through
//! `tools/bench`, which installs what it needs and builds it.

mod abuse;
mod catalog;
mod dnsperf;
mod fanout;
mod instructions;
mod procs;
mod qps;
mod reflector;
mod reload;
mod resign;
mod saturate;
mod scale;
mod soak;
mod zonegen;
mod zones;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Command, ExitCode};

use clap::{Args, Parser, Subcommand};

use procs::Which;

#[derive(Parser)]
#[command(about = "Benchmarks zonecast against Knot DNS and NSD, and against the UDP limit")]
struct Cli {
    #[command(subcommand)]
    cmd: Option<Cmd>,
}

#[derive(Subcommand)]
enum Cmd {
    /// The dnsperf comparison and the scale figures (the default).
    All(AllArgs),
    /// The dnsperf comparison only.
    Qps(QpsArgs),
    /// Load time, memory, IXFR and AXFR figures only.
    Scale(ScaleArgs),
    /// The cost of a re-signing IXFR on a large signed zone.
    Resign(ResignArgs),
    /// A node for many small zones: sync, memory, restart, against Knot.
    Zones(ZonesArgs),
    /// A catalog of many members from a Knot producer, and changes to it.
    Catalog(CatalogArgs),
    /// A Knot primary, 2 zonecast distribution nodes and 20 edges in
    /// network namespaces: how fast a change reaches every edge.
    Fanout(FanoutArgs),
    /// Zones added and removed by SIGHUP under dnsperf load.
    Reload(ReloadArgs),
    /// The cost per query of DNS cookies and RRL, against Knot's modules.
    Abuse(AbuseArgs),
    /// One server core at saturation under kxdpgun, in a network
    /// namespace: zonecast, Knot, and Knot's XDP mode.
    Saturate(SaturateArgs),
    /// The soak test: dnsperf, a new version every 100 ms from a Knot
    /// primary and a flood of malformed packets, all at once.
    Soak(SoakArgs),
    /// A fixed query workload for callgrind (used by tools/callgrind).
    #[command(hide = true)]
    Instructions {
        #[arg(long)]
        kind: String,
        #[arg(long, default_value_t = 10_000)]
        iterations: u64,
        #[arg(long, default_value_t = 100_000)]
        names: usize,
    },
    /// Writes the bench zone and a dnsperf query file, to measure or
    /// profile by hand.
    Generate {
        #[arg(long, default_value_t = 100_000)]
        names: usize,
        #[arg(long, default_value = "target/bench/bench.test.zone")]
        zone: PathBuf,
        #[arg(long, default_value = "target/bench/queries.txt")]
        queries: PathBuf,
    },
    /// The UDP reflector (used by the comparison).
    #[command(hide = true)]
    Reflect {
        #[arg(long)]
        listen: SocketAddr,
        #[arg(long, default_value_t = 1)]
        workers: usize,
    },
}

#[derive(Args, Clone)]
struct QpsArgs {
    /// Names in the generated zone.
    #[arg(long, default_value_t = 100_000)]
    names: usize,
    /// Worker threads of every server.
    #[arg(long, default_value_t = 1)]
    workers: usize,
    /// dnsperf clients (-c).
    #[arg(long, default_value_t = 10)]
    clients: usize,
    /// dnsperf queries outstanding (-q).
    #[arg(long, default_value_t = 100)]
    outstanding: usize,
    /// dnsperf threads (-T).
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Seconds per dnsperf run (-l).
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Alternating rounds; figures are medians.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Sign the zone with dnssec-signzone (`nsec`, or `nsec3`: no salt, 0
    /// iterations) and set DO=1 on every query.
    #[arg(long, value_parser = ["nsec", "nsec3"])]
    signed: Option<String>,
    /// Offer this many queries per second (`dnsperf -Q`), below every
    /// server's limit: the CPU per query then compares the servers'
    /// work, not how fast dnsperf is. None: as fast as answered.
    #[arg(long)]
    rate: Option<u32>,
    /// Where the markdown report goes.
    #[arg(long, default_value = "target/bench/qps.md")]
    out: PathBuf,
}

#[derive(Args, Clone)]
struct SaturateArgs {
    #[arg(long, default_value_t = 10_000)]
    names: usize,
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Queries per second kxdpgun offers.
    #[arg(long, default_value_t = 3_000_000)]
    offered: u64,
    /// Leave out Knot's XDP mode.
    #[arg(long)]
    no_xdp: bool,
    #[arg(long, default_value = "target/bench/saturate.md")]
    out: PathBuf,
}

#[derive(Args, Clone)]
struct AbuseArgs {
    #[arg(long, default_value_t = 10_000)]
    names: usize,
    /// Queries per second offered to each server.
    #[arg(long, default_value_t = 20_000)]
    rate: u32,
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    #[arg(long, default_value = "target/bench/abuse.md")]
    out: PathBuf,
}

#[derive(Args, Clone)]
struct ScaleArgs {
    /// Zone sizes in names, comma separated.
    #[arg(long, value_delimiter = ',', default_values_t = [10_000, 100_000, 1_000_000])]
    sizes: Vec<usize>,
    #[arg(long, default_value_t = 1)]
    workers: usize,
    #[arg(long, default_value = "target/bench/scale.md")]
    out: PathBuf,
}

#[derive(Args, Clone)]
struct SoakArgs {
    /// Names in the generated zone.
    #[arg(long, default_value_t = 10_000)]
    names: usize,
    /// Seconds of dnsperf (the whole test takes a little longer).
    #[arg(long, default_value_t = 120)]
    seconds: u64,
    /// Malformed packets per second from the flooding client.
    #[arg(long, default_value_t = 5_000)]
    flood_pps: u64,
    /// Milliseconds between two versions published on the primary.
    #[arg(long, default_value_t = 100)]
    update_every_ms: u64,
    #[arg(long, default_value = "target/bench/soak.md")]
    out: PathBuf,
}

#[derive(Args, Clone)]
struct ZonesArgs {
    /// Zones of 9 records each.
    #[arg(long, default_value_t = 10_000)]
    zones: usize,
    /// zonecast alone, no Knot DNS secondary.
    #[arg(long)]
    no_knot: bool,
    #[arg(long, default_value = "target/bench/zones.md")]
    out: PathBuf,
}

#[derive(Args, Clone)]
struct FanoutArgs {
    /// zonecast edges, half behind each distribution node.
    #[arg(long, default_value_t = 20)]
    edges: usize,
    /// Changes published at the primary, one after the other.
    #[arg(long, default_value_t = 100)]
    changes: usize,
    /// Kill distribution node 0 after this many changes (0: never).
    #[arg(long, default_value_t = 50)]
    kill_after: usize,
    #[arg(long, default_value = "target/bench/fanout.md")]
    out: PathBuf,
}

#[derive(Args, Clone)]
struct ReloadArgs {
    /// Zones served and queried throughout.
    #[arg(long, default_value_t = 1000)]
    zones: usize,
    #[arg(long, default_value_t = 5000)]
    qps: u32,
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    #[arg(long, default_value_t = 10)]
    reloads: usize,
    /// Zones each reload adds or takes out.
    #[arg(long, default_value_t = 100)]
    batch: usize,
    #[arg(long, default_value = "target/bench/reload.md")]
    out: PathBuf,
}

#[derive(Args, Clone)]
struct CatalogArgs {
    /// Member zones of 9 records each.
    #[arg(long, default_value_t = 10_000)]
    members: usize,
    /// Members added, then removed, one at a time.
    #[arg(long, default_value_t = 10)]
    changes: usize,
    /// zonecast alone, no Knot DNS consumer.
    #[arg(long)]
    no_knot: bool,
    #[arg(long, default_value = "target/bench/catalog.md")]
    out: PathBuf,
}

#[derive(Args, Clone)]
struct ResignArgs {
    /// Names in the zone.
    #[arg(long, default_value_t = 1_000_000)]
    names: usize,
    #[arg(long, value_parser = ["nsec", "nsec3"], default_value = "nsec3")]
    denial: String,
    /// Shares of the RRSIGs a re-signing replaces, one row each.
    #[arg(long, value_delimiter = ',', default_values_t = [0.000_001, 0.001, 0.01, 0.1])]
    fractions: Vec<f64>,
    /// Use this zone (bench.test., signed already) instead of generating
    /// and signing one; `--names` and `--denial` then only label it.
    #[arg(long)]
    signed_file: Option<PathBuf>,
    #[arg(long, default_value = "target/bench/resign.md")]
    out: PathBuf,
}

#[derive(Args, Clone)]
struct AllArgs {
    #[command(flatten)]
    qps: QpsArgs,
    /// Zone sizes for the scale figures.
    #[arg(long, value_delimiter = ',', default_values_t = [10_000, 100_000, 1_000_000])]
    sizes: Vec<usize>,
    /// Where the whole markdown report goes.
    #[arg(long = "report", default_value = "target/bench/RESULTS.md")]
    report: PathBuf,
}

fn first_line(cmd: &str, args: &[&str]) -> String {
    Command::new(procs::tool(cmd))
        .args(args)
        .output()
        .ok()
        .map(|o| {
            let all = format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            );
            all.lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("")
                .trim()
                .to_string()
        })
        .unwrap_or_default()
}

/// Date, machine and versions, for the report.
fn environment() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let date = first_line("date", &["-u", "+%Y-%m-%d %H:%M UTC"]);
    let kernel = first_line("uname", &["-r"]);
    let commit = first_line("git", &["rev-parse", "--short", "HEAD"]);
    format!(
        "Measured {date} on {cores} cores ({cpu}), Linux {kernel}; zonecast {commit}, {}, {}, {}.\n",
        first_line("knotd", &["--version"]),
        first_line("nsd", &["-v"]),
        first_line("dnsperf", &["-h"])
            .replace("Usage: ", "")
            .split('[')
            .next()
            .unwrap_or("dnsperf")
            .trim()
            .to_owned()
            + " "
            + &first_line("sh", &["-c", "dnsperf -h 2>&1 | grep Version"])
    )
}

/// The headline: one core at saturation, where this machine allows it
/// (root for the namespace, kxdpgun installed); otherwise a line saying
/// why it is not there.
fn saturate_section(dir: &std::path::Path) -> Result<String, String> {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let gun = ["/usr/sbin/kxdpgun", "/usr/bin/kxdpgun"]
        .iter()
        .any(|p| std::path::Path::new(p).exists());
    if !root || !gun {
        return Ok(
            "### One server core at saturation\n\nNot measured: it needs root (a network namespace) and kxdpgun (knot-dnsutils).\n"
                .into(),
        );
    }
    let s = saturate::Settings {
        names: 10_000,
        seconds: 5,
        rounds: 3,
        offered: 3_000_000,
        knot_xdp: true,
    };
    saturate::run(&s, dir).map(|rows| saturate::table(&rows, &s))
}

fn qps_section(a: &QpsArgs, dir: &std::path::Path) -> Result<String, String> {
    let s = qps::Settings {
        names: a.names,
        workers: a.workers,
        load: dnsperf::Load {
            clients: a.clients,
            outstanding: a.outstanding,
            threads: a.threads,
            seconds: a.seconds,
            dnssec: a.signed.is_some(),
            rate: a.rate,
        },
        signed: a.signed.clone(),
        rounds: a.rounds,
        p99_seconds: 2,
        servers: vec![Which::Knot, Which::Nsd, Which::Zonecast, Which::Reflector],
    };
    let (rows, records) = qps::run(&s, dir)?;
    let signed = match &a.signed {
        Some(d) => format!(
            ", signed by dnssec-signzone (ECDSA P-256, {}), every query with DO=1 (`dnsperf -D`)",
            if d == "nsec3" {
                "NSEC3, no salt, 0 iterations"
            } else {
                "NSEC"
            }
        ),
        None => String::new(),
    };
    Ok(format!(
        "### Queries over UDP{}\n\n{} names ({records} records){signed}, every server with {} worker thread(s), \
         `dnsperf -c {} -q {} -T {} -l {}{}`, {} alternating rounds, medians; p99 from a 2 s `dnsperf -v` run. \
         Query mix: 70% positive, 10% NXDOMAIN, 5% NODATA, 5% wildcard, 5% referrals, 5% CNAME/MX/TXT. \
         Server CPU per query is user+system time from /proc over the run divided by the answers \
         (in parentheses the user-space part: the DNS work; the rest is the kernel's UDP path); \
         \"queries per server core\" is its inverse, the figure that separates servers when dnsperf \
         itself is the bottleneck, and \"vs limit\" compares it with the reflector's.\n\n{}",
        if a.signed.is_some() {
            ", signed zone, DO=1"
        } else {
            ""
        },
        a.names,
        a.workers,
        a.clients,
        a.outstanding,
        a.threads,
        a.seconds,
        a.rate.map_or(String::new(), |r| format!(" -Q {r}")),
        a.rounds,
        qps::table(&rows)
    ))
}

fn scale_section(sizes: &[usize], workers: usize, dir: &std::path::Path) -> Result<String, String> {
    let r = scale::run(
        &scale::Settings {
            sizes: sizes.to_vec(),
            workers,
        },
        dir,
    )?;
    Ok(format!(
        "### Scale\n\nZones generated as above; memory is the proportional set size after loading, and bytes per \
         record subtract what each server holds with an almost empty zone.\n\n{}",
        scale::tables(&r)
    ))
}

fn write(path: &std::path::Path, text: &str) {
    if let Some(d) = path.parent() {
        let _ = std::fs::create_dir_all(d);
    }
    if let Err(e) = std::fs::write(path, text) {
        eprintln!("cannot write {}: {e}", path.display());
    }
    println!("{text}");
    eprintln!("report written to {}", path.display());
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // No subcommand: everything, with the defaults.
    let cmd = match cli.cmd {
        Some(c) => c,
        None => match Cli::parse_from(["zonecast-bench", "all"]).cmd {
            Some(c) => c,
            None => unreachable!("'all' parses"),
        },
    };
    if let Cmd::Instructions {
        kind,
        iterations,
        names,
    } = &cmd
    {
        return match instructions::run(kind, *iterations, *names) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("{e}");
                ExitCode::FAILURE
            }
        };
    }
    if let Cmd::Generate {
        names,
        zone,
        queries,
    } = &cmd
    {
        let (text, records) = zonegen::zone(*names);
        for (path, body) in [
            (zone, text),
            (queries, zonegen::queries(*names, 200_000, 7)),
        ] {
            if let Some(d) = path.parent() {
                let _ = std::fs::create_dir_all(d);
            }
            if let Err(e) = std::fs::write(path, body) {
                eprintln!("cannot write {}: {e}", path.display());
                return ExitCode::FAILURE;
            }
        }
        eprintln!(
            "{names} names, {records} records in {}; queries in {}",
            zone.display(),
            queries.display()
        );
        return ExitCode::SUCCESS;
    }
    if let Cmd::Reflect { listen, workers } = cmd {
        return match reflector::run(listen, workers) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("reflector: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("no temporary directory: {e}");
            return ExitCode::FAILURE;
        }
    };
    // For looking into a run afterwards (configurations, copies, logs).
    let path = dir.path().to_path_buf();
    let _dir = if std::env::var_os("ZONECAST_BENCH_KEEP").is_some() {
        eprintln!("keeping {}", dir.keep().display());
        None
    } else {
        Some(dir)
    };
    if let Cmd::Soak(a) = &cmd {
        let s = soak::Settings {
            names: a.names,
            seconds: a.seconds,
            flood_pps: a.flood_pps,
            update_every: std::time::Duration::from_millis(a.update_every_ms.max(1)),
        };
        return match soak::run(&s, path.as_path()) {
            Ok((report, pass)) => {
                write(&a.out, &format!("{}\n{report}", environment()));
                if pass {
                    eprintln!("soak: PASS");
                    ExitCode::SUCCESS
                } else {
                    eprintln!("soak: FAIL");
                    ExitCode::FAILURE
                }
            }
            Err(e) => {
                eprintln!("soak failed: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let result = match &cmd {
        Cmd::Saturate(a) => {
            let s = saturate::Settings {
                names: a.names,
                seconds: a.seconds,
                rounds: a.rounds,
                offered: a.offered,
                knot_xdp: !a.no_xdp,
            };
            saturate::run(&s, path.as_path()).map(|rows| {
                (
                    a.out.clone(),
                    format!("{}\n{}", environment(), saturate::table(&rows, &s)),
                )
            })
        }
        Cmd::Abuse(a) => {
            let s = abuse::Settings {
                names: a.names,
                rate: a.rate,
                seconds: a.seconds,
                rounds: a.rounds,
            };
            abuse::run(&s, path.as_path()).map(|rows| {
                (
                    a.out.clone(),
                    format!(
                        "{}
{}",
                        environment(),
                        abuse::table(&rows, &s)
                    ),
                )
            })
        }
        Cmd::Qps(a) => qps_section(a, path.as_path())
            .map(|t| (a.out.clone(), format!("{}\n{t}", environment()))),
        Cmd::Scale(a) => scale_section(&a.sizes, a.workers, path.as_path())
            .map(|t| (a.out.clone(), format!("{}\n{t}", environment()))),
        Cmd::Zones(a) => zones::run(
            &zones::Settings {
                zones: a.zones,
                knot: !a.no_knot,
            },
            path.as_path(),
        )
        .map(|r| {
            (
                a.out.clone(),
                format!("{}\n### Many zones\n\n{}", environment(), zones::table(&r)),
            )
        }),
        Cmd::Catalog(a) => catalog::run(
            &catalog::Settings {
                members: a.members,
                changes: a.changes,
                knot: !a.no_knot,
            },
            path.as_path(),
        )
        .map(|r| {
            (
                a.out.clone(),
                format!(
                    "{}\n### Catalog zones\n\n{}",
                    environment(),
                    catalog::table(&r, a.changes)
                ),
            )
        }),
        Cmd::Fanout(a) => fanout::run(
            &fanout::Settings {
                edges: a.edges,
                changes: a.changes,
                kill_after: (a.kill_after > 0).then_some(a.kill_after),
            },
            path.as_path(),
        )
        .map(|r| {
            (
                a.out.clone(),
                format!("{}\n### Fan-out\n\n{}", environment(), fanout::table(&r)),
            )
        }),
        Cmd::Reload(a) => {
            let s = reload::Settings {
                zones: a.zones,
                qps: a.qps,
                seconds: a.seconds,
                reloads: a.reloads,
                batch: a.batch,
            };
            reload::run(&s, path.as_path()).map(|r| {
                (
                    a.out.clone(),
                    format!(
                        "{}\n### Zones added and removed under load\n\n{}",
                        environment(),
                        reload::table(&r, &s)
                    ),
                )
            })
        }
        Cmd::Resign(a) => {
            let nsec3 = a.denial == "nsec3";
            let s = resign::Settings {
                names: a.names,
                nsec3,
                fractions: a.fractions.clone(),
                signed: a.signed_file.clone(),
            };
            resign::run(&s, path.as_path()).map(|r| {
                (
                    a.out.clone(),
                    format!(
                        "{}\n### Re-signing IXFR\n\n{}",
                        environment(),
                        resign::table(&r, nsec3)
                    ),
                )
            })
        }
        Cmd::All(a) => saturate_section(path.as_path()).and_then(|headline| {
            let q = qps_section(&a.qps, path.as_path())?;
            let s = scale_section(&a.sizes, a.qps.workers, path.as_path())?;
            Ok((
                a.report.clone(),
                format!("{}\n{headline}\n{q}\n{s}", environment()),
            ))
        }),
        Cmd::Reflect { .. } | Cmd::Instructions { .. } | Cmd::Soak(_) | Cmd::Generate { .. } => {
            unreachable!()
        }
    };
    match result {
        Ok((path, text)) => {
            write(&path, &text);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("bench failed: {e}");
            ExitCode::FAILURE
        }
    }
}
