//! `zonecast ctl`: operators' commands over a Unix socket (`[server]
//! control`, mode 0600 by default; no TCP). One request per connection:
//! a line of words (`zone-status example.com.`), answered by one JSON
//! object and the end of the connection. The `ctl` client prints it for
//! people, or as it is with `--json`.
//!
//! The socket has its own thread, and each connection one more (a few at
//! once): a slow or stuck client holds nobody else. Requests that need
//! the transfer thread go to it by channel and wait a bounded time.

use std::io::{self, BufRead, BufReader, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use arc_swap::ArcSwap;
use serde_json::{Value, json};

use crate::metrics::Metrics;
use crate::wire::Name;
use crate::wire::name::parse_name_text;
use crate::xfr::secondary::ZoneReport;
use crate::xfr::service::{ControlRequest, Controller};
use crate::zone::ZoneSet;

/// Connections served at once; more are closed at once.
const MAX_CLIENTS: usize = 8;
/// The longest a request line may be.
const MAX_REQUEST: usize = 4096;
/// How long a client may take to send its request, and the transfer
/// thread to answer.
const TIMEOUT: Duration = Duration::from_secs(5);

/// What the commands read and act on.
pub struct Context {
    pub zones: Arc<ArcSwap<ZoneSet>>,
    pub transfer: Controller,
    pub workers: usize,
    pub started: Instant,
    /// A secondary not refreshed for longer is unhealthy.
    pub max_stale_s: Option<u64>,
    /// The share of zones that may be bad while the node stays healthy.
    pub max_bad_share: f64,
    /// The workers' counters: their heartbeats tell whether they answer.
    pub metrics: Arc<Metrics>,
}

/// The running control socket.
pub struct ControlServer {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    path: PathBuf,
}

impl ControlServer {
    /// Listens on `path` (a stale socket there is replaced), with
    /// permissions `mode`, owned by `owner` (uid, gid) when given.
    pub fn start(
        path: &Path,
        mode: u32,
        owner: Option<(u32, u32)>,
        ctx: Arc<Context>,
    ) -> io::Result<ControlServer> {
        use std::os::unix::fs::PermissionsExt;
        match std::fs::remove_file(path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        let listener = UnixListener::bind(path)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::chown(path, Some(uid), Some(gid))?;
        }
        listener.set_nonblocking(true)?;
        let stop = Arc::new(AtomicBool::new(false));
        let theirs = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("control".into())
            .spawn(move || serve(&listener, &ctx, &theirs))?;
        Ok(ControlServer {
            stop,
            thread: Some(thread),
            path: path.to_path_buf(),
        })
    }

    /// Stops listening and removes the socket.
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let _ = std::fs::remove_file(&self.path);
    }
}

fn serve(listener: &UnixListener, ctx: &Arc<Context>, stop: &AtomicBool) {
    let ctx = Arc::clone(ctx);
    crate::accept::serve(
        "control",
        MAX_CLIENTS,
        stop,
        || listener.accept().map(|(s, _)| s),
        move |stream| answer(stream, &ctx),
    );
}

/// Reads one request line and writes its answer.
fn answer(stream: UnixStream, ctx: &Context) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(TIMEOUT));
    let _ = stream.set_write_timeout(Some(TIMEOUT));
    let mut line = String::new();
    let limited = io::Read::take(&stream, MAX_REQUEST as u64);
    let reply = match BufReader::new(limited).read_line(&mut line) {
        Ok(0) => return,
        Ok(_) if !line.ends_with('\n') => error("a request is one line of at most 4096 octets"),
        Ok(_) => execute(line.trim(), ctx),
        Err(e) => error(&format!("cannot read the request: {e}")),
    };
    let mut out = &stream;
    let _ = writeln!(out, "{reply}");
    // What the client sent beyond its line is read and dropped (at most a
    // megabyte, within the timeout): closing on unread input would reset
    // the connection before the client reads its answer.
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let _ = io::copy(&mut io::Read::take(&stream, 1 << 20), &mut io::sink());
}

fn error(message: &str) -> Value {
    json!({ "error": message })
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Runs one command.
pub fn execute(line: &str, ctx: &Context) -> Value {
    let words: Vec<&str> = line.split_whitespace().collect();
    match words.as_slice() {
        ["status"] => status(ctx),
        ["zone-status"] => zone_status(ctx, None),
        ["zone-status", zone] => match zone_name(zone) {
            Ok(n) => zone_status(ctx, Some(n)),
            Err(e) => error(&e),
        },
        ["refresh", "--all"] => refresh_all(ctx),
        ["refresh", zone] => refresh(ctx, zone, false),
        ["retransfer", zone] => refresh(ctx, zone, true),
        ["notify", zone] => notify(ctx, zone),
        ["health"] => health(ctx),
        ["reload"] => {
            // The daemon's own SIGHUP path: the same reload, logged the
            // same way.
            // SAFETY: signalling our own process.
            unsafe { libc::kill(libc::getpid(), libc::SIGHUP) };
            json!({ "ok": true, "message": "reloading the configuration (see the log)" })
        }
        [] => error(
            "no command; the commands: status, zone-status [ZONE], refresh ZONE|--all, retransfer ZONE, notify ZONE, reload, health",
        ),
        [cmd, ..] => error(&format!(
            "unknown command or arguments {cmd:?}; the commands: status, zone-status [ZONE], refresh ZONE|--all, retransfer ZONE, notify ZONE, reload, health"
        )),
    }
}

fn zone_name(text: &str) -> Result<Name, String> {
    parse_name_text(text, Some(&Name::root()))
        .map(|n| n.to_lowercase())
        .map_err(|e| format!("{text:?} is not a zone name: {e}"))
}

fn status(ctx: &Context) -> Value {
    let zones = ctx.zones.load();
    let now = unix_ms() / 1000;
    let (mut served, mut not_loaded, mut expired) = (0, 0, 0);
    for z in zones.iter() {
        if !z.is_loaded() {
            not_loaded += 1;
        } else if z.is_expired(now) {
            expired += 1;
        } else {
            served += 1;
        }
    }
    json!({
        "version": env!("CARGO_PKG_VERSION"),
        "uptime_s": ctx.started.elapsed().as_secs(),
        "workers": ctx.workers,
        "zones": zones.len(),
        "served": served,
        "not_loaded": not_loaded,
        "expired": expired,
    })
}

/// The transfer thread's reports, waited for a bounded time.
fn reports(ctx: &Context, apex: Option<Name>) -> Result<Vec<ZoneReport>, String> {
    reports_within(ctx, apex, TIMEOUT)
}

/// The transfer thread's reports, waited for at most `timeout`.
pub fn reports_within(
    ctx: &Context,
    apex: Option<Name>,
    timeout: Duration,
) -> Result<Vec<ZoneReport>, String> {
    let (reply, answer) = crossbeam_channel::bounded(1);
    if !ctx.transfer.send(ControlRequest::Report { apex, reply }) {
        return Err("the transfer thread is busy or gone".into());
    }
    answer
        .recv_timeout(timeout)
        .map_err(|_| "the transfer thread did not answer".to_string())
}

fn zone_status(ctx: &Context, apex: Option<Name>) -> Value {
    let secondaries = match reports(ctx, apex.clone()) {
        Ok(r) => r,
        Err(e) => return error(&e),
    };
    let set = ctx.zones.load();
    let now = unix_ms();
    let in_s = |t: Option<u64>| t.map(|t| (t as i64 - now as i64) / 1000);
    let mut out = Vec::new();
    for r in &secondaries {
        out.push(json!({
            "zone": r.apex.to_string(),
            "kind": if r.catalog { "catalog" } else { "secondary" },
            "serial": r.serial,
            "expired": r.expires_at.is_some_and(|e| e <= now),
            "expires_in_s": in_s(r.expires_at),
            "next_refresh_in_s": in_s(r.next_refresh),
            "last_refresh_s_ago": r.refreshed_at.map(|t| now.saturating_sub(t) / 1000),
            "failures": r.failures,
            "last_error": r.last_error.as_ref().map(|(_, why)| why.clone()),
            "transfer_from": r.transfer_from.map(|a| a.to_string()),
        }));
    }
    // Zones served from their own files.
    let files = set.iter().filter(|z| {
        z.expires_at().is_none()
            && !z.is_catalog()
            && apex.as_ref().is_none_or(|a| z.apex.eq_ignore_case(a))
            && !secondaries.iter().any(|r| r.apex.eq_ignore_case(&z.apex))
    });
    for z in files {
        out.push(json!({
            "zone": z.apex.to_string(),
            "kind": "file",
            "serial": z.snapshot().as_ref().map(|s| s.serial()),
            "expired": false,
        }));
    }
    if let (Some(a), true) = (&apex, out.is_empty()) {
        return error(&format!("{a} is not a zone served here"));
    }
    json!({ "zones": out })
}

fn refresh(ctx: &Context, zone: &str, whole: bool) -> Value {
    let apex = match zone_name(zone) {
        Ok(n) => n,
        Err(e) => return error(&e),
    };
    let (reply, answer) = crossbeam_channel::bounded(1);
    if !ctx.transfer.send(ControlRequest::Refresh {
        apex: apex.clone(),
        whole,
        reply,
    }) {
        return error("the transfer thread is busy or gone");
    }
    match answer.recv_timeout(TIMEOUT) {
        Ok(Ok(())) => json!({
            "ok": true,
            "zone": apex.to_string(),
            "message": if whole { "a whole transfer (AXFR) started" } else { "a refresh started" },
        }),
        Ok(Err(e)) => error(&e),
        Err(_) => error("the transfer thread did not answer"),
    }
}

fn notify(ctx: &Context, zone: &str) -> Value {
    let apex = match zone_name(zone) {
        Ok(n) => n,
        Err(e) => return error(&e),
    };
    let (reply, answer) = crossbeam_channel::bounded(1);
    if !ctx.transfer.send(ControlRequest::Notify {
        apex: apex.clone(),
        reply,
    }) {
        return error("the transfer thread is busy or gone");
    }
    match answer.recv_timeout(TIMEOUT) {
        Ok(Ok(serial)) => json!({
            "ok": true,
            "zone": apex.to_string(),
            "message": format!("NOTIFY of serial {serial} sent to the zone's secondaries"),
        }),
        Ok(Err(e)) => error(&e),
        Err(_) => error("the transfer thread did not answer"),
    }
}

/// A worker whose loop has not turned for longer no longer answers (it
/// turns at least every quarter second when idle).
const WORKER_STUCK_S: u64 = 10;

/// Healthy while every worker turns its loop and no more than
/// `health_max_bad_share` of the zones (by default not one) is bad: not
/// loaded, expired, or not refreshed for longer than
/// `health_max_stale_s` (when set). Local state only, never a remote
/// server: a remote dependency would have every node withdraw its route
/// at once.
pub fn health(ctx: &Context) -> Value {
    let now = unix_ms();
    let set = ctx.zones.load();
    // Problems of the node, any of which makes it unhealthy, and of zones.
    let mut node = Vec::new();
    let mut reasons = Vec::new();
    for (i, w) in ctx.metrics.workers.iter().enumerate() {
        match w.heartbeat.get() {
            crate::metrics::NO_WORKER => {}
            0 => node.push(format!("worker {i} has stopped")),
            t if now / 1000 > t + WORKER_STUCK_S => node.push(format!(
                "worker {i} has not answered for {} s",
                now / 1000 - t
            )),
            _ => {}
        }
    }
    let mut zones = 0usize;
    for z in set.iter() {
        if z.is_catalog() {
            continue;
        }
        zones += 1;
        if !z.is_loaded() {
            reasons.push(format!("{} is not loaded", z.apex));
        } else if z.is_expired(now / 1000) {
            reasons.push(format!("{} has expired", z.apex));
        }
    }
    if let Some(max) = ctx.max_stale_s {
        match reports(ctx, None) {
            Ok(all) => {
                for r in all.iter().filter(|r| !r.catalog) {
                    let age = r.refreshed_at.map(|t| now.saturating_sub(t) / 1000);
                    let expired = r.expires_at.is_some_and(|e| e <= now);
                    if age.is_none_or(|a| a > max) && r.serial.is_some() && !expired {
                        reasons.push(format!(
                            "{} has not refreshed for {} (at most {max} s)",
                            r.apex,
                            age.map_or("ever since start".to_string(), |a| format!("{a} s"))
                        ));
                    }
                }
            }
            Err(e) => node.push(e),
        }
    }
    let bad_zones = reasons.len();
    let allowed = (ctx.max_bad_share * zones as f64).floor() as usize;
    let healthy = node.is_empty() && bad_zones <= allowed;
    node.append(&mut reasons);
    let shown: Vec<&String> = node.iter().take(20).collect();
    json!({
        "healthy": healthy,
        "problems": node.len(),
        "zones": zones,
        "bad_zones": bad_zones,
        "bad_zones_allowed": allowed,
        "reasons": shown,
    })
}

fn refresh_all(ctx: &Context) -> Value {
    let all = match reports(ctx, None) {
        Ok(r) => r,
        Err(e) => return error(&e),
    };
    let mut started = 0;
    for r in &all {
        if refresh(ctx, &r.apex.to_string(), false).get("ok").is_some() {
            started += 1;
        }
    }
    json!({ "ok": true, "message": format!("{started} refreshes started") })
}

/// The client side: sends `words` to the socket at `path`, returns the
/// answer.
pub fn request(path: &Path, words: &[String]) -> io::Result<Value> {
    let mut s = UnixStream::connect(path)?;
    s.set_read_timeout(Some(TIMEOUT * 2))?;
    writeln!(s, "{}", words.join(" "))?;
    let mut line = String::new();
    BufReader::new(&s).read_line(&mut line)?;
    serde_json::from_str(&line).map_err(io::Error::other)
}

/// An answer for people: `key: value` lines, a block per zone.
pub fn human(v: &Value) -> String {
    let mut out = String::new();
    let pairs = |o: &serde_json::Map<String, Value>, indent: &str, out: &mut String| {
        for (k, v) in o {
            let v = match v {
                Value::String(s) => s.clone(),
                Value::Null => "-".into(),
                other => other.to_string(),
            };
            out.push_str(&format!("{indent}{k}: {v}\n"));
        }
    };
    match v {
        Value::Object(o) if o.contains_key("zones") && o["zones"].is_array() => {
            for z in o["zones"].as_array().into_iter().flatten() {
                if let Value::Object(z) = z {
                    out.push_str(&format!(
                        "{}\n",
                        z.get("zone").and_then(Value::as_str).unwrap_or("?")
                    ));
                    let rest: serde_json::Map<String, Value> = z
                        .iter()
                        .filter(|(k, _)| *k != "zone")
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect();
                    pairs(&rest, "  ", &mut out);
                }
            }
        }
        Value::Object(o) => pairs(o, "", &mut out),
        other => out.push_str(&format!("{other}\n")),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::metrics::TransferMetrics;
    use crate::xfr::service::{Provisioning, TransferService};
    use crate::zone::{Zone, load_zone_text};

    fn zone(apex: &str, loaded: bool) -> Zone {
        let name = parse_name_text(apex, Some(&Name::root())).unwrap();
        if !loaded {
            return Zone::new(name, None, None, None);
        }
        let text = "@ 300 SOA ns hm 1 3600 600 86400 60\n@ 300 NS ns\nns 300 A 192.0.2.1\n";
        let built = load_zone_text(text.as_bytes(), "test", &name).unwrap();
        Zone::primary(Arc::new(built.snapshot))
    }

    /// A context of `zones`, two workers that both answer, and a transfer
    /// thread that never begins (health asks it nothing here).
    fn context(zones: Vec<Zone>, share: f64) -> (Context, TransferService) {
        let config = Config::from_text("[server]\n", Path::new("/")).unwrap();
        let set = Arc::new(ArcSwap::from_pointee(ZoneSet::new(zones)));
        let transfer =
            TransferService::start(Provisioning::default(), config.transfer, Arc::clone(&set))
                .unwrap();
        let metrics = Arc::new(Metrics::new(2, Arc::new(TransferMetrics::default())));
        for w in metrics.workers.iter() {
            w.heartbeat.set(unix_ms() / 1000);
        }
        let ctx = Context {
            zones: set,
            transfer: transfer.controller(),
            workers: 2,
            started: Instant::now(),
            max_stale_s: None,
            max_bad_share: share,
            metrics,
        };
        (ctx, transfer)
    }

    #[test]
    fn a_stopped_or_stuck_worker_is_unhealthy() {
        let (ctx, transfer) = context(vec![zone("a.test.", true)], 0.0);
        assert_eq!(health(&ctx)["healthy"], true);
        ctx.metrics.workers[1].heartbeat.set(0);
        let h = health(&ctx);
        assert_eq!(h["healthy"], false);
        assert_eq!(h["reasons"][0], "worker 1 has stopped");
        ctx.metrics.workers[1].heartbeat.set(unix_ms() / 1000 - 60);
        let h = health(&ctx);
        assert_eq!(h["healthy"], false);
        assert!(
            h["reasons"][0]
                .as_str()
                .unwrap()
                .starts_with("worker 1 has not answered for 6")
        );
        transfer.stop();
    }

    #[test]
    fn bad_zones_are_allowed_up_to_the_share() {
        let zones = || {
            vec![
                zone("a.test.", true),
                zone("b.test.", true),
                zone("c.test.", false),
                zone("d.test.", true),
            ]
        };
        for (share, healthy, allowed) in [
            (0.0, false, 0),
            (0.2, false, 0),
            (0.25, true, 1),
            (1.0, true, 4),
        ] {
            let (ctx, transfer) = context(zones(), share);
            let h = health(&ctx);
            assert_eq!(h["healthy"], healthy, "share {share}: {h}");
            assert_eq!(h["bad_zones"], 1);
            assert_eq!(h["bad_zones_allowed"], allowed);
            assert_eq!(h["reasons"][0], "c.test. is not loaded");
            transfer.stop();
        }
    }
}
