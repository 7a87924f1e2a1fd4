//! Helpers for end-to-end tests: real zonecast and Knot DNS processes on
//! loopback with free ports (stopped by PID when dropped), queries sent as
//! raw bytes, and answers read with hickory-proto.

#![allow(dead_code)] // each test file uses a different part

pub mod netns;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub use hickory_proto::op::Message;

/// A binary the tests need; `tools/test.sh` installs it.
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
    panic!("{name} not found: run tools/test.sh, which installs it");
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

/// A child process killed (by PID) when dropped, with its output kept.
pub struct Process {
    child: Child,
    log: Arc<Mutex<String>>,
    /// The program, to label its log.
    name: String,
}

impl Process {
    pub fn spawn(mut cmd: Command) -> Process {
        cmd.stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .stdin(Stdio::null());
        let name = Path::new(cmd.get_program())
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
        let log = Arc::new(Mutex::new(String::new()));
        for pipe in [
            child
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
            child
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let log = Arc::clone(&log);
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    let mut l = log.lock().unwrap();
                    l.push_str(&line);
                    l.push('\n');
                }
            });
        }
        Process { child, log, name }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Waits until the log contains `needle`.
    pub fn wait_for_log(&mut self, needle: &str, timeout: Duration) -> bool {
        let end = Instant::now() + timeout;
        while Instant::now() < end {
            if self.log().contains(needle) {
                return true;
            }
            if let Ok(Some(_)) = self.child.try_wait() {
                return self.log().contains(needle);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// Sends signal `sig` (SIGHUP = 1 has named reload its zones).
    pub fn signal(&self, sig: i32) {
        // SAFETY: signalling our own child by its PID.
        unsafe { libc_kill(self.child.id() as i32, sig) };
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn terminate(&mut self) -> Option<i32> {
        // SAFETY: signalling our own child by its PID.
        unsafe { libc_kill(self.child.id() as i32, 15) };
        let end = Instant::now() + Duration::from_secs(10);
        while Instant::now() < end {
            if let Ok(Some(st)) = self.child.try_wait() {
                return st.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    pub fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let end = Instant::now() + timeout;
        while Instant::now() < end {
            if let Ok(Some(st)) = self.child.try_wait() {
                return Some(st);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

unsafe extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, sig: i32) -> i32;
}

impl Drop for Process {
    fn drop(&mut self) {
        // A failing test shows what every peer it talked to said.
        if std::thread::panicking() {
            let state = match self.child.try_wait() {
                Ok(Some(st)) => format!("exited: {st}"),
                _ => "running".into(),
            };
            eprintln!(
                "--- log of {} (pid {}, {state}) ---\n{}--- end of log of {} ---",
                self.name,
                self.child.id(),
                self.log(),
                self.name
            );
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A running zonecast.
pub struct Zonecast {
    pub process: Process,
    pub addr: SocketAddr,
    pub dir: tempfile::TempDir,
}

impl Zonecast {
    /// Starts zonecast with `config` (TOML, without `listen`: it listens
    /// on 127.0.0.1 with a free port). Files in `files` are written to its
    /// directory first.
    pub fn start(server_extra: &str, zones: &str, files: &[(&str, &str)]) -> Zonecast {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        let workers = if server_extra.contains("workers") {
            ""
        } else {
            "workers = 2\n"
        };
        let config = format!(
            "[server]\nlisten = [\"127.0.0.1:0\"]\n{workers}identity = \"node-1\"\nversion = \"test-version\"\n{server_extra}\n{zones}\n"
        );
        Self::start_with_config(dir, &config)
    }

    pub fn start_with_config(dir: tempfile::TempDir, config: &str) -> Zonecast {
        Self::start_logging(dir, config, "info")
    }

    /// Like [`start_with_config`](Self::start_with_config), with
    /// `RUST_LOG` set to `filter`.
    pub fn start_logging(dir: tempfile::TempDir, config: &str, filter: &str) -> Zonecast {
        let path = dir.path().join("zonecast.toml");
        std::fs::write(&path, config).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_zonecast"));
        cmd.arg("--config").arg(&path).env("RUST_LOG", filter);
        let mut process = Process::spawn(cmd);
        assert!(
            process.wait_for_log("listening on 127.0.0.1:", Duration::from_secs(20)),
            "zonecast did not start:\n{}",
            process.log()
        );
        let log = process.log();
        let line = log
            .lines()
            .find(|l| l.contains("listening on 127.0.0.1:"))
            .unwrap();
        let addr = line
            .split("listening on ")
            .nth(1)
            .and_then(|s| s.split_whitespace().next())
            .and_then(|s| s.parse().ok())
            .expect("address in log");
        Zonecast { process, addr, dir }
    }
}

/// A running Knot DNS.
pub struct Knot {
    pub process: Process,
    pub addr: SocketAddr,
    pub dir: tempfile::TempDir,
    pub conf: PathBuf,
}

impl Knot {
    /// Starts knotd with the given `server:` extras and `zone:` entries
    /// (YAML lines, indented), files written to its directory, and waits
    /// until it answers an SOA query for `ready_zone`.
    pub fn start(server_extra: &str, rest: &str, files: &[(&str, &str)], ready_zone: &str) -> Knot {
        Self::start_on(None, server_extra, rest, files, ready_zone)
    }

    /// Like [`start`](Self::start), on a given port (to restart a primary
    /// where its secondaries expect it).
    pub fn start_on(
        port: Option<u16>,
        server_extra: &str,
        rest: &str,
        files: &[(&str, &str)],
        ready_zone: &str,
    ) -> Knot {
        Self::start_at(
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            port,
            server_extra,
            rest,
            files,
            ready_zone,
        )
    }

    /// Like [`start_on`](Self::start_on), listening on `host` (::1 to
    /// test IPv6).
    pub fn start_at(
        host: IpAddr,
        port: Option<u16>,
        server_extra: &str,
        rest: &str,
        files: &[(&str, &str)],
        ready_zone: &str,
    ) -> Knot {
        for _attempt in 0..5 {
            let dir = tempfile::tempdir().unwrap();
            for (name, text) in files {
                std::fs::write(dir.path().join(name), text).unwrap();
            }
            let port = port.unwrap_or_else(free_port);
            let d = dir.path().display();
            let conf = dir.path().join("knot.conf");
            let text = format!(
                "server:\n    rundir: {d}\n    listen: {host}@{port}\n    identity: node-1\n    nsid: node-1\n    version: test-version\n{server_extra}\n\
                 log:\n  - target: stderr\n    any: info\n\
                 database:\n    storage: {d}\n\
                 template:\n  - id: default\n    storage: {d}\n    file: {d}/%s.zone\n\
                 {rest}\n"
            );
            std::fs::write(&conf, text).unwrap();
            let mut cmd = Command::new(tool("knotd"));
            cmd.arg("-c").arg(&conf);
            let mut process = Process::spawn(cmd);
            let addr = SocketAddr::new(host, port);
            let end = Instant::now() + Duration::from_secs(10);
            while Instant::now() < end {
                if process.exited().is_some() {
                    break;
                }
                if process.log().contains("failed to load zone") {
                    panic!("knotd could not load a zone:\n{}", process.log());
                }
                let q = build_query(1, ready_zone, 6, 1, None);
                if let Some(r) = udp(addr, &q, Duration::from_millis(200))
                    && r.len() > 3
                    && r[3] & 0xf == 0
                {
                    let knot = Knot {
                        process,
                        addr,
                        dir,
                        conf,
                    };
                    // Ready means the control socket answers too.
                    let status = knot.knotc(&["status"]);
                    assert!(
                        status.contains("Running"),
                        "knotc status: {status}\n{}",
                        knot.process.log()
                    );
                    return knot;
                }
            }
            eprintln!(
                "knotd did not come up on port {port}, retrying:\n{}",
                process.log()
            );
        }
        panic!("knotd would not start");
    }

    /// Runs `knotc` against this instance. A refused connection to the
    /// control socket is tried again for a while: knotd binds that socket
    /// only after it starts serving, and on a busy machine its zones can
    /// answer first (seen as flaky "connection refused" failures).
    pub fn knotc(&self, args: &[&str]) -> String {
        let end = Instant::now() + Duration::from_secs(5);
        loop {
            let out = Command::new(tool("knotc"))
                .arg("-c")
                .arg(&self.conf)
                .args(args)
                .output()
                .unwrap();
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            if !text.contains("failed to connect to socket") || Instant::now() >= end {
                return text;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Runs `knotc` and requires its OK, naming the command and showing
    /// Knot's log when it fails.
    pub fn knotc_ok(&self, args: &[&str]) {
        let out = self.knotc(args);
        assert!(
            out.contains("OK"),
            "knotc {}: {out}\n--- knotd log ---\n{}",
            args.join(" "),
            self.process.log()
        );
    }
}

/// A BIND 9 `named` on loopback, in a directory of its own, primary for
/// the zones it is given.
pub struct Bind {
    pub process: Process,
    pub addr: SocketAddr,
    pub dir: tempfile::TempDir,
}

impl Bind {
    /// Starts named with `top` (statements such as `key`), `options`
    /// (lines inside `options { }`) and one primary zone per file
    /// (`NAME.zone` serves NAME), and waits until it answers an SOA query
    /// for the first.
    pub fn start(top: &str, options: &str, files: &[(&str, &str)]) -> Bind {
        Self::start_with_zone_options(top, options, files, "")
    }

    /// Like [`start`](Self::start), with `zone_options` inside every zone
    /// statement (such as `dnssec-policy default; inline-signing yes;`).
    pub fn start_with_zone_options(
        top: &str,
        options: &str,
        files: &[(&str, &str)],
        zone_options: &str,
    ) -> Bind {
        for _attempt in 0..5 {
            let dir = tempfile::tempdir().unwrap();
            let d = dir.path().display();
            let mut zones = String::new();
            for (name, text) in files {
                std::fs::write(dir.path().join(name), text).unwrap();
                let apex = name.trim_end_matches(".zone");
                zones.push_str(&format!(
                    "zone \"{apex}\" {{ type primary; file \"{d}/{name}\"; {zone_options} }};\n"
                ));
            }
            let port = free_port();
            let conf = dir.path().join("named.conf");
            std::fs::write(
                &conf,
                format!(
                    "options {{\n directory \"{d}\";\n pid-file \"{d}/named.pid\";\n\
                     listen-on port {port} {{ 127.0.0.1; }};\n listen-on-v6 {{ none; }};\n\
                     recursion no;\n dnssec-validation no;\n{options}\n}};\ncontrols {{ }};\n{top}\n{zones}"
                ),
            )
            .unwrap();
            let mut cmd = Command::new(tool("named"));
            cmd.arg("-g").arg("-c").arg(&conf);
            let mut process = Process::spawn(cmd);
            let addr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port);
            let first = files[0].0.trim_end_matches(".zone");
            let end = Instant::now() + Duration::from_secs(10);
            while Instant::now() < end && process.exited().is_none() {
                let q = build_query(1, first, 6, 1, None);
                if let Some(r) = udp(addr, &q, Duration::from_millis(200))
                    && r.len() > 3
                    && r[3] & 0xf == 0
                {
                    return Bind { process, addr, dir };
                }
            }
            eprintln!(
                "named did not come up on port {port}, retrying:\n{}",
                process.log()
            );
        }
        panic!("named would not start");
    }

    /// Replaces a zone file and has named reload it (SIGHUP), which sends
    /// NOTIFY for a changed zone.
    pub fn update(&self, name: &str, text: &str) {
        let path = self.dir.path().join(name);
        // named reloads only a file newer than its last load, by whole
        // seconds: a change in the second it loaded would be skipped.
        let ahead = std::time::SystemTime::now() + Duration::from_secs(1);
        write_atomically(&path, text, Some(ahead));
        self.process.signal(1);
    }
}

/// Replaces a file that a peer may be reading at that moment (its reload
/// runs in the background): written beside it, then renamed over it, so
/// the peer reads the old text or the new, never half of one. With the
/// file rewritten in place during its background reloads, a knotd once
/// stopped in the middle of a run of them: its DNS port and its control
/// socket refused connections (the flaky "knot.sock: connection refused").
pub fn write_atomically(path: &Path, text: &str, modified: Option<std::time::SystemTime>) {
    let tmp = path.with_extension("new");
    std::fs::write(&tmp, text).unwrap();
    if let Some(t) = modified {
        std::fs::File::options()
            .write(true)
            .open(&tmp)
            .and_then(|f| f.set_modified(t))
            .unwrap();
    }
    std::fs::rename(&tmp, path).unwrap();
}

/// EDNS settings for a query.
#[derive(Clone, Copy, Debug)]
pub struct EdnsSpec<'a> {
    pub payload: u16,
    pub version: u8,
    pub dnssec_ok: bool,
    pub options: &'a [u8],
}

impl Default for EdnsSpec<'_> {
    fn default() -> Self {
        EdnsSpec {
            payload: 1232,
            version: 0,
            dnssec_ok: false,
            options: &[],
        }
    }
}

/// A name in wire form from dotted text (no escapes).
pub fn wire_name(name: &str) -> Vec<u8> {
    let mut v = Vec::new();
    for label in name
        .trim_end_matches('.')
        .split('.')
        .filter(|l| !l.is_empty())
    {
        v.push(label.len() as u8);
        v.extend_from_slice(label.as_bytes());
    }
    v.push(0);
    v
}

/// A query with RD set.
pub fn build_query(
    id: u16,
    name: &str,
    qtype: u16,
    qclass: u16,
    edns: Option<EdnsSpec<'_>>,
) -> Vec<u8> {
    let mut q = Vec::new();
    q.extend_from_slice(&id.to_be_bytes());
    q.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, edns.is_some() as u8]);
    q.extend_from_slice(&wire_name(name));
    q.extend_from_slice(&qtype.to_be_bytes());
    q.extend_from_slice(&qclass.to_be_bytes());
    if let Some(e) = edns {
        q.extend_from_slice(&[0, 0, 41]);
        q.extend_from_slice(&e.payload.to_be_bytes());
        q.extend_from_slice(&[0, e.version, if e.dnssec_ok { 0x80 } else { 0 }, 0]);
        q.extend_from_slice(&(e.options.len() as u16).to_be_bytes());
        q.extend_from_slice(e.options);
    }
    q
}

/// Sends `q` over UDP; `None` if nothing comes back in time.
pub fn udp(addr: SocketAddr, q: &[u8], timeout: Duration) -> Option<Vec<u8>> {
    let local: SocketAddr = if addr.is_ipv6() {
        "[::1]:0".parse().ok()?
    } else {
        "127.0.0.1:0".parse().ok()?
    };
    let s = UdpSocket::bind(local).ok()?;
    s.set_read_timeout(Some(timeout)).ok()?;
    s.send_to(q, addr).ok()?;
    let mut buf = vec![0u8; 65535];
    let n = s.recv(&mut buf).ok()?;
    Some(buf[..n].to_vec())
}

/// Sends `q` over a new TCP connection; `None` if the server closes or
/// says nothing in time.
pub fn tcp(addr: SocketAddr, q: &[u8], timeout: Duration) -> Option<Vec<u8>> {
    let mut s = TcpStream::connect_timeout(&addr, timeout).ok()?;
    s.set_read_timeout(Some(timeout)).ok()?;
    let mut framed = (q.len() as u16).to_be_bytes().to_vec();
    framed.extend_from_slice(q);
    s.write_all(&framed).ok()?;
    read_frame(&mut s)
}

/// Reads one length-prefixed message.
pub fn read_frame(s: &mut TcpStream) -> Option<Vec<u8>> {
    let mut len = [0u8; 2];
    s.read_exact(&mut len).ok()?;
    let mut buf = vec![0u8; u16::from_be_bytes(len) as usize];
    s.read_exact(&mut buf).ok()?;
    Some(buf)
}

/// Runs a command and returns its standard output.
pub fn run(tool_name: &str, args: &[&str]) -> String {
    let out = Command::new(tool(tool_name)).args(args).output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn parse(bytes: &[u8]) -> Message {
    Message::from_vec(bytes).unwrap_or_else(|e| panic!("unparsable response {e}: {bytes:02x?}"))
}

/// The RCODE, extended bits included.
pub fn rcode(m: &Message) -> u16 {
    let low = u16::from(m.metadata.response_code) & 0xf;
    let high = m.edns.as_ref().map_or(0, |e| e.rcode_high() as u16);
    (high << 4) | low
}

/// Records of a section as sorted, comparable lines.
pub fn lines(records: &[hickory_proto::rr::Record]) -> Vec<String> {
    use hickory_proto::serialize::binary::BinEncodable;
    let mut v: Vec<String> = records
        .iter()
        .map(|r| {
            // hickory shows some types (DNAME) as opaque octets; names in
            // them keep the case they were sent in, so compare lowercase.
            let rdata = match r.record_type() {
                hickory_proto::rr::RecordType::Unknown(_)
                | hickory_proto::rr::RecordType::DNAME => {
                    hex(&r.data.to_bytes().unwrap_or_default().to_ascii_lowercase())
                }
                _ => r.data.to_string().to_lowercase().replace('\t', " "),
            };
            format!(
                "{} {} {} {} {rdata}",
                r.name.to_lowercase(),
                r.ttl,
                r.dns_class,
                r.record_type()
            )
        })
        .collect();
    v.sort();
    v
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Everything an answer means, as text; `None` for silence.
pub fn meaning(bytes: Option<Vec<u8>>) -> String {
    let Some(b) = bytes else {
        return "(silence)".into();
    };
    let m = match Message::from_vec(&b) {
        Ok(m) => m,
        Err(_) => return format!("(unparsable) {}", hex(&b)),
    };
    let h = &m.metadata;
    let mut s = format!(
        "id={} opcode={:?} rcode={} qr={:?} aa={} tc={} rd={} ra={} ad={} cd={}\n",
        h.id,
        h.op_code,
        rcode(&m),
        h.message_type,
        h.authoritative,
        h.truncation,
        h.recursion_desired,
        h.recursion_available,
        h.authentic_data,
        h.checking_disabled
    );
    for q in &m.queries {
        s += &format!(
            "question: {} {} {}\n",
            q.name.to_lowercase(),
            q.query_type,
            q.query_class
        );
    }
    for (title, sec) in [
        ("answer", &m.answers),
        ("authority", &m.authorities),
        ("additional", &m.additionals),
    ] {
        for l in lines(sec) {
            s += &format!("{title}: {l}\n");
        }
    }
    if let Some(e) = &m.edns {
        let mut opts: Vec<String> = e
            .options()
            .as_ref()
            .iter()
            .map(|(c, o)| format!("{c:?}={o:?}"))
            .collect();
        opts.sort();
        s += &format!(
            "opt: payload={} version={} do={} options={opts:?}\n",
            e.max_payload(),
            e.version(),
            e.flags().dnssec_ok
        );
    }
    s
}

/// Polls `check` until it holds or `timeout` passes.
pub fn wait_until(timeout: Duration, mut check: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + timeout;
    while Instant::now() < end {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    check()
}

/// How a [`FaultProxy`] treats a connection.
#[derive(Clone, Copy, Debug)]
pub enum Fault {
    /// Forward both ways.
    Pass,
    /// Forward, but close both sides after this many octets from the
    /// primary: a primary dying in the middle of a transfer.
    CutAfter(usize),
    /// Answer every query with these octets instead.
    Garbage(&'static [u8]),
    /// Forward the primary's octets `chunk` at a time, one chunk every
    /// `every_ms`: a transfer that progresses, slowly.
    Trickle { chunk: usize, every_ms: u64 },
}

/// A TCP relay between zonecast and a real primary that injects network
/// faults: each new connection takes the next fault from a list (the last
/// one repeats).
pub struct FaultProxy {
    pub addr: SocketAddr,
    pub connections: Arc<std::sync::atomic::AtomicUsize>,
    stop: Arc<std::sync::atomic::AtomicBool>,
}

impl FaultProxy {
    pub fn start(target: SocketAddr, faults: Vec<Fault>) -> FaultProxy {
        use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        listener.set_nonblocking(true).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let connections = Arc::new(AtomicUsize::new(0));
        let (st, count) = (Arc::clone(&stop), Arc::clone(&connections));
        std::thread::spawn(move || {
            while !st.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((client, _)) => {
                        let n = count.fetch_add(1, Ordering::Relaxed);
                        let fault = faults[n.min(faults.len() - 1)];
                        std::thread::spawn(move || relay(client, target, fault));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        FaultProxy {
            addr,
            connections,
            stop,
        }
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

fn relay(mut client: TcpStream, target: SocketAddr, fault: Fault) {
    client.set_nonblocking(false).unwrap();
    if let Fault::Garbage(bytes) = fault {
        let mut buf = [0u8; 4096];
        client
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        while let Ok(n) = client.read(&mut buf) {
            if n == 0 || client.write_all(bytes).is_err() {
                break;
            }
        }
        return;
    }
    let Ok(upstream) = TcpStream::connect(target) else {
        return;
    };
    let mut up_read = upstream.try_clone().unwrap();
    let mut up_write = upstream;
    let mut client_read = client.try_clone().unwrap();
    let to_primary = std::thread::spawn(move || {
        let _ = std::io::copy(&mut client_read, &mut up_write);
        let _ = up_write.shutdown(std::net::Shutdown::Write);
    });
    let limit = match fault {
        Fault::CutAfter(n) => n,
        _ => usize::MAX,
    };
    let mut forwarded = 0usize;
    let mut buf = [0u8; 4096];
    loop {
        let n = match up_read.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let take = n.min(limit - forwarded);
        let written = match fault {
            Fault::Trickle { chunk, every_ms } => buf[..take].chunks(chunk).all(|c| {
                std::thread::sleep(Duration::from_millis(every_ms));
                client.write_all(c).is_ok()
            }),
            _ => client.write_all(&buf[..take]).is_ok(),
        };
        if !written {
            break;
        }
        forwarded += take;
        if forwarded >= limit {
            break;
        }
    }
    let _ = client.shutdown(std::net::Shutdown::Both);
    let _ = up_read.shutdown(std::net::Shutdown::Both);
    let _ = to_primary.join();
}

/// A validating resolver, Unbound, with a zone's DS as its trust anchor
/// and one server for the zone (RFC 4035 §5 validation as resolvers do it;
/// `test.` is its own local zone unless told otherwise).
pub struct Unbound {
    pub process: Process,
    pub addr: std::net::SocketAddr,
    _dir: tempfile::TempDir,
}

impl Unbound {
    /// Starts Unbound on loopback validating `zone` with `anchor` (its DS
    /// records) as trust anchor, `server` its only server.
    pub fn start(zone: &str, anchor: &str, server: std::net::SocketAddr) -> Unbound {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let port = free_port();
        std::fs::write(d.join("anchor"), anchor).unwrap();
        let conf: std::path::PathBuf = d.join("unbound.conf");
        std::fs::write(
            &conf,
            format!(
                "server:\n  interface: 127.0.0.1@{port}\n  port: {port}\n  username: \"\"\n  chroot: \"\"\n\
                 directory: \"{dir}\"\n  pidfile: \"{dir}/unbound.pid\"\n  use-syslog: no\n  logfile: \"\"\n\
                 do-not-query-localhost: no\n  module-config: \"validator iterator\"\n\
                 trust-anchor-file: \"{dir}/anchor\"\n  cache-max-ttl: 0\n  cache-max-negative-ttl: 0\n\
                 val-log-level: 2\n  verbosity: 1\n  local-zone: \"test.\" nodefault\n  do-ip6: no\n\
                 harden-referral-path: no\n  qname-minimisation: no\n\
                 stub-zone:\n  name: \"{zone}\"\n  stub-addr: 127.0.0.1@{sport}\n",
                dir = d.display(),
                sport = server.port()
            ),
        )
        .unwrap();
        let mut cmd = Command::new(tool("unbound"));
        cmd.arg("-d").arg("-c").arg(&conf);
        let process = Process::spawn(cmd);
        let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let up = wait_until(Duration::from_secs(10), || {
            udp(
                addr,
                &build_query(1, zone, 6, 1, None),
                Duration::from_millis(300),
            )
            .is_some()
        });
        assert!(up, "unbound did not start:\n{}", process.log());
        Unbound {
            process,
            addr,
            _dir: dir,
        }
    }
}

/// One HTTP GET to the metrics listener: the status code and the body.
pub fn http_get(addr: SocketAddr, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: zonecast\r\n\r\n").unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let code = head.split(' ').nth(1).unwrap().parse().unwrap();
    (code, body.to_string())
}

/// The value of one sample (`name{labels}` exactly as written) in a
/// scrape; a sample missing fails the test.
pub fn sample(page: &str, series: &str) -> f64 {
    page.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no {series} in\n{page}"))
        .parse()
        .unwrap()
}

/// The server cookie RFC 9018 §4.2 defines, for a client at `ip` with
/// client cookie `client`, at Unix time `at`, under a hex `secret`.
pub fn rfc9018_cookie(secret: &str, client: &[u8; 8], at: u32, ip: IpAddr) -> Vec<u8> {
    use std::hash::Hasher;
    let key: Vec<u8> = (0..32)
        .step_by(2)
        .map(|i| u8::from_str_radix(&secret[i..i + 2], 16).unwrap())
        .collect();
    let key: [u8; 16] = key.try_into().unwrap();
    let mut head = vec![1, 0, 0, 0];
    head.extend_from_slice(&at.to_be_bytes());
    let mut h = siphasher::sip::SipHasher24::new_with_key(&key);
    h.write(client);
    h.write(&head);
    match ip {
        IpAddr::V4(a) => h.write(&a.octets()),
        IpAddr::V6(a) => h.write(&a.octets()),
    }
    head.extend_from_slice(&h.finish().to_le_bytes());
    head
}
