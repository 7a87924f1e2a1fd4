//! The servers under test as processes: started with the same number of
//! worker threads on free loopback ports, measured through /proc, stopped
//! by PID (never by name).

use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::zonegen::APEX;

/// Which server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    Knot,
    Nsd,
    Zonecast,
    /// Echoes every datagram with QR set: the kernel's UDP path alone.
    Reflector,
}

impl Which {
    pub fn label(self) -> &'static str {
        match self {
            Which::Knot => "Knot DNS",
            Which::Nsd => "NSD",
            Which::Zonecast => "zonecast",
            Which::Reflector => "limit (UDP reflector)",
        }
    }
}

/// A binary from the system, looked up in PATH and the sbin directories.
pub fn tool(name: &str) -> PathBuf {
    for dir in std::env::var("PATH")
        .unwrap_or_default()
        .split(':')
        .chain(["/usr/sbin", "/sbin"])
    {
        let p = Path::new(dir).join(name);
        if p.is_file() {
            return p;
        }
    }
    PathBuf::from(name)
}

/// A port free for both UDP and TCP on 127.0.0.1 right now.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static DRAWS: AtomicU64 = AtomicU64::new(0);
    // Below the kernel's ephemeral range (32768-60999 by default): a port
    // picked there now may be the local end of some program's outgoing
    // connection by the time a server is started on it, and then the
    // server cannot bind it.
    let seed = u64::from(std::process::id()) << 32
        ^ std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
    loop {
        let n = DRAWS.fetch_add(1, Ordering::Relaxed);
        let mixed =
            (seed ^ n.wrapping_mul(0x9e37_79b9_7f4a_7c15)).wrapping_mul(0xff51_afd7_ed55_8ccd);
        let port = 20000 + (mixed >> 40) as u16 % 12000;
        if UdpSocket::bind(("127.0.0.1", port)).is_ok()
            && TcpListener::bind(("127.0.0.1", port)).is_ok()
        {
            return port;
        }
    }
}

/// A running server.
pub struct Server {
    pub which: Which,
    pub addr: SocketAddr,
    child: Child,
    /// Time from start until it answered for the zone.
    pub startup: Duration,
}

impl Server {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// User and system CPU ticks of the server and every process it
    /// forked, in that order.
    pub fn cpu_ticks(&self) -> (u64, u64) {
        tree(self.pid())
            .iter()
            .map(|&p| cpu_ticks(p))
            .fold((0, 0), |(u, s), (pu, ps)| (u + pu, s + ps))
    }

    /// Proportional set size of the server's processes, in KiB.
    pub fn pss_kib(&self) -> u64 {
        pss_kib_tree(self.pid())
    }

    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

/// Proportional set size of `pid` and the processes it forked, in KiB.
pub fn pss_kib_tree(pid: u32) -> u64 {
    tree(pid).iter().map(|&p| pss_kib(p)).sum()
}

impl Drop for Server {
    fn drop(&mut self) {
        let pid = self.pid() as i32;
        // SAFETY: signalling our own child by its PID.
        unsafe { libc::kill(pid, libc::SIGTERM) };
        let end = Instant::now() + Duration::from_secs(10);
        while Instant::now() < end {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        for p in tree(self.pid()) {
            // SAFETY: as above, for the processes it forked.
            unsafe { libc::kill(p as i32, libc::SIGKILL) };
        }
        let _ = self.child.wait();
    }
}

/// `pid` and its descendants.
fn tree(pid: u32) -> Vec<u32> {
    let mut all = vec![pid];
    let mut parents: Vec<(u32, u32)> = Vec::new();
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for e in dir.flatten() {
            let Some(p) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
                continue;
            };
            if let Some(pp) = stat_field(p, 3) {
                parents.push((p, pp as u32));
            }
        }
    }
    let mut i = 0;
    while i < all.len() {
        let cur = all[i];
        all.extend(parents.iter().filter(|(_, pp)| *pp == cur).map(|(p, _)| *p));
        i += 1;
    }
    all
}

/// Field `n` of /proc/PID/stat counted from 0 (3 is the parent, 13 and
/// 14 user and system time); `n` is at least 3.
fn stat_field(pid: u32, n: usize) -> Option<u64> {
    stat_field_at(Path::new(&format!("/proc/{pid}/stat")), n)
}

/// The same field of any `stat` file: a process's or a thread's.
fn stat_field_at(stat: &Path, n: usize) -> Option<u64> {
    let s = std::fs::read_to_string(stat).ok()?;
    // The command name (field 1) may hold spaces: count from after it;
    // field 2, the state, comes first there.
    let after = &s[s.rfind(')')? + 2..];
    after.split_whitespace().nth(n - 2)?.parse().ok()
}

fn cpu_ticks(pid: u32) -> (u64, u64) {
    (
        stat_field(pid, 13).unwrap_or(0),
        stat_field(pid, 14).unwrap_or(0),
    )
}

/// User plus system CPU ticks of each thread of `pid`, with its name.
pub fn thread_cpu_ticks(pid: u32) -> Vec<(String, u64)> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task"));
    tasks
        .into_iter()
        .flatten()
        .flatten()
        .map(|t| {
            let p = t.path();
            let name = std::fs::read_to_string(p.join("comm")).unwrap_or_default();
            let stat = p.join("stat");
            let ticks =
                stat_field_at(&stat, 13).unwrap_or(0) + stat_field_at(&stat, 14).unwrap_or(0);
            (name.trim().to_string(), ticks)
        })
        .collect()
}

fn pss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Pss:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

/// Clock ticks per second (for CPU times from /proc).
pub fn ticks_per_second() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 { t as f64 } else { 100.0 }
}

/// An SOA query for the bench zone.
/// A UDP socket to ask `addr` from: any local address of its family, so
/// that servers in network namespaces (`fanout`) are reached as well as
/// those on loopback.
fn client_socket(addr: SocketAddr) -> std::io::Result<UdpSocket> {
    UdpSocket::bind(if addr.is_ipv6() {
        "[::]:0"
    } else {
        "0.0.0.0:0"
    })
}

fn soa_query() -> Vec<u8> {
    let mut q = vec![0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0];
    for label in APEX.trim_end_matches('.').split('.') {
        q.push(label.len() as u8);
        q.extend_from_slice(label.as_bytes());
    }
    q.extend_from_slice(&[0, 0, 6, 0, 1]);
    q
}

/// Waits until `addr` answers the zone's SOA (any answer for the
/// reflector), polling every 5 ms.
fn wait_ready(
    addr: SocketAddr,
    which: Which,
    any_answer: bool,
    child: &mut Child,
    timeout: Duration,
) -> Result<(), String> {
    let s = client_socket(addr).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_millis(5)))
        .map_err(|e| e.to_string())?;
    let q = soa_query();
    let end = Instant::now() + timeout;
    let mut buf = [0u8; 4096];
    while Instant::now() < end {
        if let Ok(Some(st)) = child.try_wait() {
            return Err(format!("{} exited: {st}", which.label()));
        }
        let _ = s.send_to(&q, addr);
        if let Ok(n) = s.recv(&mut buf) {
            let answered = n >= 12 && buf[3] & 0xf == 0 && u16::from_be_bytes([buf[6], buf[7]]) > 0;
            if which == Which::Reflector || answered || any_answer && n >= 12 {
                return Ok(());
            }
        }
    }
    Err(format!(
        "{} did not answer within {timeout:?}",
        which.label()
    ))
}

/// Starts `which` with `workers` threads serving the zone file `zone`, in
/// its own directory under `dir`.
pub fn start(which: Which, workers: usize, zone: &Path, dir: &Path) -> Result<Server, String> {
    start_configured(which, workers, zone, dir, &Extra::default())
}

/// More configuration for a server: TOML sections for zonecast; for
/// Knot, top-level sections (module instances) and lines of the default
/// template (`global-module: ...`).
#[derive(Debug, Clone, Default)]
pub struct Extra {
    pub zonecast: String,
    /// `{PORT}` in it becomes the port the server listens on.
    pub knot_top: String,
    pub knot_template: String,
    /// Run in this network namespace, listening on `listen` (127.0.0.1
    /// when none), pinned to this CPU.
    pub netns: Option<String>,
    pub listen: Option<std::net::IpAddr>,
    pub cpu: Option<usize>,
}

/// `cmd` run in `netns` and pinned to `cpu`, as `extra` asks: `ip netns
/// exec` and `taskset` exec the program, so its PID stays the server's.
fn placed(cmd: Command, extra: &Extra) -> Command {
    if extra.netns.is_none() && extra.cpu.is_none() {
        return cmd;
    }
    let mut c = Command::new(tool("ip"));
    match &extra.netns {
        Some(ns) => {
            c.args(["netns", "exec", ns]);
        }
        None => {
            c = Command::new(tool("env"));
        }
    }
    if let Some(cpu) = extra.cpu {
        c.arg(tool("taskset")).args(["-c", &cpu.to_string()]);
    }
    c.arg(cmd.get_program()).args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        if let Some(v) = v {
            c.env(k, v);
        }
    }
    c
}

/// [`start`] with `extra` configuration.
pub fn start_configured(
    which: Which,
    workers: usize,
    zone: &Path,
    dir: &Path,
    extra: &Extra,
) -> Result<Server, String> {
    let port = free_port();
    let host = extra
        .listen
        .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST));
    let addr = SocketAddr::new(host, port);
    let home = dir.join(format!("{which:?}-{port}").to_lowercase());
    std::fs::create_dir_all(&home).map_err(|e| e.to_string())?;
    let zone = zone.canonicalize().map_err(|e| e.to_string())?;
    let d = home.display();
    let cmd = match which {
        Which::Zonecast => {
            let conf = home.join("zonecast.toml");
            let text = format!(
                "[server]\nlisten = [\"{addr}\"]\nworkers = {workers}\nidentity = \"bench\"\n\
                 {}\n[[zone]]\nname = \"{APEX}\"\nfile = \"{}\"\n",
                extra.zonecast,
                zone.display()
            );
            std::fs::write(&conf, text).map_err(|e| e.to_string())?;
            let mut c = Command::new(sibling("zonecast"));
            c.arg("-c").arg(conf).env("RUST_LOG", "warn");
            c
        }
        Which::Knot => {
            let conf = home.join("knot.conf");
            let text = format!(
                "server:\n    rundir: {d}\n    listen: {host}@{port}\n    udp-workers: {workers}\n    tcp-workers: 1\n    background-workers: 1\n\
                 log:\n  - target: stderr\n    any: warning\n\
                 database:\n    storage: {d}\n\
                 {}\
                 template:\n  - id: default\n    storage: {d}\n{}\
                 zone:\n  - domain: {APEX}\n    file: {}\n",
                extra.knot_top.replace("{PORT}", &port.to_string()),
                extra.knot_template,
                zone.display()
            );
            std::fs::write(&conf, text).map_err(|e| e.to_string())?;
            let mut c = Command::new(tool("knotd"));
            c.arg("-c").arg(conf);
            c
        }
        Which::Nsd => {
            let conf = home.join("nsd.conf");
            let text = format!(
                "server:\n    ip-address: {host}@{port}\n    server-count: {workers}\n    username: \"\"\n    zonesdir: {d}\n\
                 \x20   pidfile: {d}/nsd.pid\n    database: \"\"\n    zonelistfile: {d}/zone.list\n    xfrdfile: {d}/xfrd.state\n\
                 \x20   xfrdir: {d}\n    logfile: {d}/nsd.log\n    verbosity: 0\n\
                 \x20   rrl-ratelimit: 0\n\
                 remote-control:\n    control-enable: no\n\
                 zone:\n    name: {APEX}\n    zonefile: {}\n",
                zone.display()
            );
            std::fs::write(&conf, text).map_err(|e| e.to_string())?;
            // NSD limits response rates by default (RRL); the bench measures
            // answering, so it is off, as in Knot's default.
            let mut c = Command::new(tool("nsd"));
            c.arg("-d").arg("-c").arg(conf);
            c
        }
        Which::Reflector => {
            let mut c = Command::new(std::env::current_exe().map_err(|e| e.to_string())?);
            c.arg("reflect")
                .arg("--listen")
                .arg(addr.to_string())
                .arg("--workers")
                .arg(workers.to_string());
            c
        }
    };
    let mut cmd = placed(cmd, extra);
    cmd.stdout(Stdio::null()).stderr(Stdio::null());
    launch(which, cmd, addr)
}

/// Spawns `cmd` (a server of kind `which` that will listen on `addr`) and
/// waits until it answers for the zone.
pub fn launch(which: Which, cmd: Command, addr: SocketAddr) -> Result<Server, String> {
    launch_until(which, cmd, addr, false)
}

/// Spawns `cmd` and waits until it answers at all, whatever it says (a
/// server of other zones than the bench zone).
pub fn launch_answering(which: Which, cmd: Command, addr: SocketAddr) -> Result<Server, String> {
    launch_until(which, cmd, addr, true)
}

fn launch_until(
    which: Which,
    mut cmd: Command,
    addr: SocketAddr,
    any_answer: bool,
) -> Result<Server, String> {
    cmd.stdin(Stdio::null());
    let started = Instant::now();
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", which.label()))?;
    if let Err(e) = wait_ready(
        addr,
        which,
        any_answer,
        &mut child,
        Duration::from_secs(300),
    ) {
        let _ = child.kill();
        let _ = child.wait();
        return Err(e);
    }
    Ok(Server {
        which,
        addr,
        child,
        startup: started.elapsed(),
    })
}

/// The SOA serial `addr` serves for the bench zone.
pub fn serial(addr: SocketAddr) -> Option<u32> {
    let s = client_socket(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_millis(50))).ok()?;
    s.send_to(&soa_query(), addr).ok()?;
    let mut buf = [0u8; 4096];
    let n = s.recv(&mut buf).ok()?;
    // The serial is the first four octets after the two names of the one
    // SOA in the answer, which ends the message here (no EDNS asked).
    let end = n;
    (end >= 20 && buf[3] & 0xf == 0 && u16::from_be_bytes([buf[6], buf[7]]) == 1)
        .then(|| u32::from_be_bytes([buf[end - 20], buf[end - 19], buf[end - 18], buf[end - 17]]))
}

/// A binary built next to this one (`target/release/zonecast`).
pub fn sibling(name: &str) -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(|d| d.join(name)))
        .unwrap_or_else(|| PathBuf::from(name))
}

/// Knot DNS as the primary of the bench zone: journal on, NOTIFY to
/// zonecast on `notify_port`, transfers open to loopback.
pub struct Primary {
    pub server: Server,
    pub publisher: Publisher,
}

/// Publishes new versions on a [`Primary`]; can move to another thread.
#[derive(Clone)]
pub struct Publisher {
    conf: PathBuf,
    /// The zone file Knot reads; [`Publisher::publish`] replaces it.
    pub zone: PathBuf,
}

impl Publisher {
    /// Writes `text` as the zone file and has Knot load it, waiting until
    /// it has (it then sends NOTIFY, and keeps the difference in its
    /// journal for IXFR).
    pub fn publish(&self, text: &str) -> Result<(), String> {
        std::fs::write(&self.zone, text).map_err(|e| e.to_string())?;
        let out = Command::new(tool("knotc"))
            .arg("-c")
            .arg(&self.conf)
            .args(["-b", "zone-reload", APEX])
            .output()
            .map_err(|e| format!("cannot run knotc: {e}"))?;
        let said = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() || !said.contains("OK") {
            return Err(format!(
                "knotc zone-reload: {said}{}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(())
    }
}

pub fn knot_primary(dir: &Path, zone: &Path, notify_port: u16) -> Result<Primary, String> {
    let port = free_port();
    let home = dir.join(format!("primary-{port}"));
    std::fs::create_dir_all(&home).map_err(|e| e.to_string())?;
    let pzone = home.join("bench.test.zone");
    std::fs::copy(zone, &pzone).map_err(|e| e.to_string())?;
    let (server, conf) = start_knot(
        &home,
        port,
        &format!(
            "remote:\n  - id: zc\n    address: 127.0.0.1@{notify_port}\n\
             acl:\n  - id: xfr\n    address: 127.0.0.0/8\n    action: transfer\n\
             zone:\n  - domain: {APEX}\n    file: {}\n    notify: zc\n    acl: xfr\n    zonefile-load: difference\n    journal-content: changes\n",
            pzone.display()
        ),
    )?;
    Ok(Primary {
        server,
        publisher: Publisher { conf, zone: pzone },
    })
}

/// Knot DNS as the secondary of the primary on `primary_port`, once it
/// answers (after its first AXFR).
pub fn knot_secondary(dir: &Path, primary_port: u16) -> Result<Server, String> {
    let port = free_port();
    let home = dir.join(format!("knot-secondary-{port}"));
    std::fs::create_dir_all(&home).map_err(|e| e.to_string())?;
    let zone = format!(
        "remote:\n  - id: primary\n    address: 127.0.0.1@{primary_port}\n\
         zone:\n  - domain: {APEX}\n    master: primary\n    zonefile-sync: -1\n"
    );
    Ok(start_knot(&home, port, &zone)?.0)
}

/// Starts knotd in `home` on `port` with `rest` (remotes, ACLs, zones)
/// after the common settings; returns it once it answers, and its
/// configuration file.
fn start_knot(home: &Path, port: u16, rest: &str) -> Result<(Server, PathBuf), String> {
    start_knot_until(home, port, rest, false)
}

/// [`start_knot`] for zones other than the bench zone: returned once it
/// answers at all.
pub fn start_knot_answering(
    home: &Path,
    port: u16,
    rest: &str,
) -> Result<(Server, PathBuf), String> {
    start_knot_until(home, port, rest, true)
}

fn start_knot_until(
    home: &Path,
    port: u16,
    rest: &str,
    any_answer: bool,
) -> Result<(Server, PathBuf), String> {
    let d = home.display();
    let conf = home.join("knot.conf");
    std::fs::write(
        &conf,
        format!(
            "server:\n    rundir: {d}\n    listen: 127.0.0.1@{port}\n    background-workers: 2\n\
             log:\n  - target: stderr\n    any: warning\n\
             database:\n    storage: {d}\n\
             template:\n  - id: default\n    storage: {d}\n{rest}"
        ),
    )
    .map_err(|e| e.to_string())?;
    let mut c = Command::new(tool("knotd"));
    c.arg("-c")
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let addr = format!("127.0.0.1:{port}").parse().map_err(|_| "addr")?;
    Ok((launch_until(Which::Knot, c, addr, any_answer)?, conf))
}

/// zonecast as the secondary of the primary on `primary_port`, listening
/// on `port`; returns it once it answers, and the path of its log.
pub fn zonecast_secondary(
    dir: &Path,
    port: u16,
    primary_port: u16,
    workers: usize,
) -> Result<(Server, PathBuf), String> {
    let home = dir.join(format!("zonecast-secondary-{port}"));
    std::fs::create_dir_all(&home).map_err(|e| e.to_string())?;
    let conf = home.join("zonecast.toml");
    std::fs::write(
        &conf,
        format!(
            "[server]\nlisten = [\"127.0.0.1:{port}\"]\nworkers = {workers}\n[transfer]\nnotify_min_interval_ms = 0\n\
             [[zone]]\nname = \"{APEX}\"\nfile = \"{}\"\nprimaries = [\"127.0.0.1:{primary_port}\"]\n",
            home.join("bench.test.zone").display()
        ),
    )
    .map_err(|e| e.to_string())?;
    let log_path = home.join("log");
    let log = std::fs::File::create(&log_path).map_err(|e| e.to_string())?;
    let mut c = Command::new(sibling("zonecast"));
    c.arg("-c")
        .arg(&conf)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(log);
    let addr = format!("127.0.0.1:{port}").parse().map_err(|_| "addr")?;
    Ok((launch(Which::Zonecast, c, addr)?, log_path))
}
