//! Zones added and removed under load: zonecast serves N zones from
//! files while dnsperf queries them at a fixed rate; meanwhile the
//! configuration gains and loses zones, applied by SIGHUP, again and
//! again. Counted: the queries dnsperf lost and the answers that were not
//! NOERROR, and whether each reload took effect. For contrast, the same
//! load across one restart, the way to add a zone without a reload.

use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::dnsperf::{self, Load};
use crate::procs::{Server, free_port};
use crate::zones::{answered, apex, soa_query, start_zonecast, zone_text};

#[derive(Clone, Debug)]
pub struct Settings {
    pub zones: usize,
    pub qps: u32,
    pub seconds: u64,
    pub reloads: usize,
    /// Zones each reload adds (or takes out again).
    pub batch: usize,
}

pub struct Phase {
    pub completed: u64,
    pub lost: u64,
    pub rcodes: Vec<(String, u64)>,
}

pub struct Report {
    pub reload: Phase,
    /// Reloads whose new zones were served (or whose removed zones were
    /// refused) within 5 s, of those done.
    pub reloads_applied: usize,
    pub reloads_done: usize,
    pub restart: Option<Phase>,
}

/// The configuration: the `stable` zones queried, and `extra` more.
fn write_config(
    home: &Path,
    port: u16,
    stable: usize,
    extra: std::ops::Range<usize>,
) -> Result<PathBuf, String> {
    let mut conf = format!("[server]\nlisten = [\"127.0.0.1:{port}\"]\nworkers = 1\n");
    for i in (0..stable).chain(extra) {
        conf.push_str(&format!(
            "[[zone]]\nname = \"{}\"\nfile = \"zones/z{i}.zone\"\n",
            apex(i)
        ));
    }
    let path = home.join("zonecast.toml");
    crate::zones::write_replacing(&path, &conf)?;
    Ok(path)
}

/// Whether zone `i` answers (or is refused, when `served` is false)
/// within 5 s.
fn settles(addr: SocketAddr, i: usize, served: bool) -> bool {
    let Ok(s) = UdpSocket::bind("127.0.0.1:0") else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(20)));
    let end = Instant::now() + Duration::from_secs(5);
    let mut buf = [0u8; 512];
    while Instant::now() < end {
        let _ = s.send_to(&soa_query(i), addr);
        if let Ok(n) = s.recv(&mut buf) {
            let r = &buf[..n];
            let ok = if served {
                answered(r).is_some_and(|(j, _)| j == i)
            } else {
                r.len() > 3 && r[3] & 0xf == 5
            };
            if ok {
                return true;
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

fn load(s: &Settings) -> Load {
    Load {
        clients: 4,
        outstanding: 200,
        threads: 1,
        seconds: s.seconds,
        dnssec: false,
        rate: Some(s.qps),
    }
}

fn queries(dir: &Path, zones: usize) -> Result<PathBuf, String> {
    let text: String = (0..zones).map(|i| format!("{} SOA\n", apex(i))).collect();
    let path = dir.join("queries.txt");
    std::fs::write(&path, text).map_err(|e| e.to_string())?;
    Ok(path)
}

fn phase(r: Result<(dnsperf::Run, Vec<(String, u64)>), String>) -> Result<Phase, String> {
    let (run, rcodes) = r?;
    Ok(Phase {
        completed: run.completed,
        lost: run.lost,
        rcodes,
    })
}

pub fn run(s: &Settings, dir: &Path) -> Result<Report, String> {
    let home = dir.join("reload");
    let files = home.join("zones");
    std::fs::create_dir_all(&files).map_err(|e| e.to_string())?;
    let total = s.zones + s.batch * s.reloads.div_ceil(2);
    for i in 0..total {
        std::fs::write(files.join(format!("z{i}.zone")), zone_text(i, 1))
            .map_err(|e| e.to_string())?;
    }
    let q = queries(dir, s.zones)?;
    let port = free_port();
    let conf = write_config(&home, port, s.zones, 0..0)?;
    let zc: Server = start_zonecast(&conf, port, &home.join("log"))?;
    let addr = zc.addr;
    eprintln!(
        "dnsperf at {} qps for {} s over {} zones; {} reloads of {} zones each",
        s.qps, s.seconds, s.zones, s.reloads, s.batch
    );
    let l = load(s);
    let perf = std::thread::spawn({
        let q = q.clone();
        move || dnsperf::run_with_rcodes(addr, &q, l)
    });
    // Reloads spread over the middle of the run: add a batch, take it
    // out again, add the next.
    let gap = Duration::from_millis(s.seconds * 1000 / (s.reloads as u64 + 2));
    std::thread::sleep(gap);
    let (mut applied, mut done) = (0, 0);
    let mut extra = 0..0;
    for k in 0..s.reloads {
        let first = s.zones + s.batch * (k / 2);
        let adding = k % 2 == 0;
        extra = if adding { first..first + s.batch } else { 0..0 };
        write_config(&home, port, s.zones, extra.clone())?;
        let started = Instant::now();
        // SAFETY: signalling our own child by its PID.
        unsafe { libc::kill(zc.pid() as i32, libc::SIGHUP) };
        done += 1;
        let probe = first + s.batch - 1;
        if settles(addr, probe, adding) {
            applied += 1;
        }
        std::thread::sleep(gap.saturating_sub(started.elapsed()));
    }
    let reload = phase(perf.join().map_err(|_| "dnsperf thread panicked")?)?;
    eprintln!(
        "  across {done} reloads: {} completed, {} lost, {:?}",
        reload.completed, reload.lost, reload.rcodes
    );
    drop(zc);
    // The same load across one restart.
    write_config(&home, port, s.zones, extra)?;
    let zc = start_zonecast(&conf, port, &home.join("log.restart"))?;
    let perf = std::thread::spawn(move || dnsperf::run_with_rcodes(addr, &q, l));
    std::thread::sleep(Duration::from_millis(s.seconds * 500));
    drop(zc);
    let zc = start_zonecast(&conf, port, &home.join("log.restarted"))?;
    let restart = phase(perf.join().map_err(|_| "dnsperf thread panicked")?).ok();
    if let Some(r) = &restart {
        eprintln!(
            "  across one restart: {} completed, {} lost",
            r.completed, r.lost
        );
    }
    drop(zc);
    Ok(Report {
        reload,
        reloads_applied: applied,
        reloads_done: done,
        restart,
    })
}

fn row(name: &str, p: &Phase) -> String {
    let sent = p.completed + p.lost;
    let other: u64 = p
        .rcodes
        .iter()
        .filter(|(c, _)| c != "NOERROR")
        .map(|(_, n)| n)
        .sum();
    format!(
        "| {name} | {sent} | {} | {} ({:.3}%) | {other} |\n",
        p.completed,
        p.lost,
        p.lost as f64 * 100.0 / sent.max(1) as f64
    )
}

pub fn table(r: &Report, s: &Settings) -> String {
    let mut t = format!(
        "zonecast (1 worker) serving {} zones from files; dnsperf (`-Q {} -c 4 -q 200`) asks each zone's SOA \
         in turn for {} s. During the run the configuration gains {} zones and loses them again, {} times, \
         each applied by SIGHUP; {} of {} reloads were served (or refused) within 5 s. Then the same load \
         across one restart of zonecast.\n\n\
         | {} s of load | queries sent | answered | lost | answers not NOERROR |\n|---|---:|---:|---:|---:|\n",
        s.zones, s.qps, s.seconds, s.batch, s.reloads, r.reloads_applied, r.reloads_done, s.seconds
    );
    t.push_str(&row(
        &format!("across {} reloads", r.reloads_done),
        &r.reload,
    ));
    if let Some(p) = &r.restart {
        t.push_str(&row("across one restart", p));
    }
    t
}
