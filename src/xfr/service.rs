//! The transfer thread: one thread, apart from the workers, that owns
//! every secondary zone's timers and transfers. It is a thin loop around
//! the sans-I/O pieces: `ZoneTimers` say when, `Exchange` says what to
//! send and what the answers mean; this file only moves bytes over
//! non-blocking TCP (mio), publishes new versions through `arc-swap`,
//! writes them to disk, and frees replaced versions here rather than on a
//! worker (freeing a large zone is a latency spike).

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use arc_swap::ArcSwap;
use crossbeam_channel::{Receiver, bounded};
use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token, Waker};

use super::TransferSettings;
use super::exchange::{Exchange, Outcome, Step, Transferred};
use super::persist::{SavedState, load_state, save_state, save_zone};
use super::timers::{NotifyAction, SoaTimers, ZoneTimers};
use crate::answer::NotifyEvent;
use crate::notify_sink::NotifySink;
use crate::tsig::TsigKey;
use crate::wire::Name;
use crate::zone::{NotifyPolicy, Snapshot, Zone, ZoneSet, load_zone_file};

const WAKE: Token = Token(usize::MAX);
/// Accepted NOTIFYs waiting for the thread; more are dropped.
const NOTIFY_QUEUE: usize = 1024;
/// The loop looks at its clocks at least this often.
const MAX_SLEEP: Duration = Duration::from_millis(500);

/// A secondary zone as configured.
#[derive(Debug, Clone)]
pub struct SecondaryZone {
    pub apex: Name,
    pub file: PathBuf,
    pub primaries: Vec<SocketAddr>,
    pub key: Option<Arc<TsigKey>>,
    pub source: Option<IpAddr>,
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn soa_timers(s: &Snapshot) -> SoaTimers {
    SoaTimers {
        refresh: s.soa_field(1),
        retry: s.soa_field(2),
        expire: s.soa_field(3),
    }
}

/// How long a transfer may go without a whole message before a NOTIFY
/// for a newer serial replaces it.
const NOTIFY_STALL: Duration = Duration::from_secs(1);

struct Entry {
    zone: SecondaryZone,
    policy: Arc<NotifyPolicy>,
    timers: ZoneTimers,
    snapshot: Option<Arc<Snapshot>>,
    running: Option<Token>,
    /// The primary to try next in the current round.
    next_primary: usize,
    /// The first NOTIFY not yet answered by a new version: when it came
    /// and the serial it announced (for the NOTIFY-to-served figure).
    notified: Option<(Instant, Option<u32>)>,
    /// A NOTIFY came during a refresh: refresh again after it.
    refresh_again: bool,
    /// The expiry of the copy served has been logged (once per expiry).
    expiry_logged: bool,
}

struct Job {
    zone: usize,
    primary: usize,
    stream: TcpStream,
    exchange: Exchange,
    connected: bool,
    output: Vec<u8>,
    sent: usize,
    input: Vec<u8>,
    started: Instant,
    /// When the last whole message arrived (or the query went out).
    last_message: Instant,
    /// Connect deadline, then the next whole message's: the time for a
    /// message, not for each read, so a primary dripping an octet at a
    /// time cannot hold the zone (Knot's tcp-remote-io-timeout).
    io_deadline: Instant,
    /// The whole refresh must be over by then.
    end_deadline: Instant,
}

/// Replaced versions, kept until no worker holds them, then freed here.
#[derive(Default)]
struct Graveyard {
    sets: Vec<Arc<ZoneSet>>,
    snapshots: Vec<Arc<Snapshot>>,
}

impl Graveyard {
    fn sweep(&mut self) {
        self.sets.retain(|s| Arc::strong_count(s) > 1);
        self.snapshots.retain(|s| Arc::strong_count(s) > 1);
    }
}

struct TransferLoop {
    poll: Poll,
    settings: TransferSettings,
    published: Arc<ArcSwap<ZoneSet>>,
    zones: Vec<Entry>,
    by_apex: HashMap<Name, usize>,
    jobs: HashMap<Token, Job>,
    next_token: usize,
    notifies: Receiver<(NotifyEvent, Instant)>,
    stop: Arc<AtomicBool>,
    graveyard: Graveyard,
    id_seed: u16,
}

/// The running transfer thread.
pub struct TransferService {
    thread: Option<JoinHandle<()>>,
    waker: Arc<Waker>,
    stop: Arc<AtomicBool>,
    sink: NotifySink,
}

impl TransferService {
    /// Loads each zone's copy from disk and publishes it (so it is served
    /// at once), then starts the thread, which refreshes every zone.
    pub fn start(
        zones: Vec<SecondaryZone>,
        settings: TransferSettings,
        published: Arc<ArcSwap<ZoneSet>>,
    ) -> io::Result<TransferService> {
        let poll = Poll::new()?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKE)?);
        let (tx, rx) = bounded(NOTIFY_QUEUE);
        let stop = Arc::new(AtomicBool::new(false));
        let now_ms = unix_ms();
        let mut entries = Vec::new();
        let mut by_apex = HashMap::new();
        for z in zones {
            let policy = Arc::new(NotifyPolicy {
                primaries: z.primaries.iter().map(|p| p.ip()).collect(),
                key: z.key.clone(),
            });
            let mut timers = ZoneTimers::new(&z.apex, settings.policy.clone(), now_ms);
            let snapshot = load_from_disk(&z, &mut timers, now_ms);
            by_apex.insert(z.apex.to_lowercase(), entries.len());
            // The load line already says whether the copy has expired.
            let expiry_logged = timers.is_expired(now_ms);
            entries.push(Entry {
                zone: z,
                policy,
                timers,
                snapshot,
                running: None,
                next_primary: 0,
                notified: None,
                refresh_again: false,
                expiry_logged,
            });
        }
        let mut lp = TransferLoop {
            poll,
            settings,
            published,
            zones: entries,
            by_apex,
            jobs: HashMap::new(),
            next_token: 0,
            notifies: rx,
            stop: Arc::clone(&stop),
            graveyard: Graveyard::default(),
            id_seed: (now_ms as u16) ^ (std::process::id() as u16),
        };
        for i in 0..lp.zones.len() {
            lp.publish(i);
        }
        let thread = std::thread::Builder::new()
            .name("transfer".into())
            .spawn(move || lp.run())?;
        Ok(TransferService {
            thread: Some(thread),
            waker: Arc::clone(&waker),
            stop,
            sink: NotifySink { sender: tx, waker },
        })
    }

    /// Where workers send accepted NOTIFYs.
    pub fn notify_sink(&self) -> NotifySink {
        self.sink.clone()
    }

    pub fn stop(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.waker.wake();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The copy a secondary kept on disk, and its expire deadline: from the
/// state file when it matches, else counted from the file's age.
fn load_from_disk(
    z: &SecondaryZone,
    timers: &mut ZoneTimers,
    now_ms: u64,
) -> Option<Arc<Snapshot>> {
    if !z.file.exists() {
        tracing::info!(
            "[{}] no copy on disk yet: waiting for the first transfer",
            z.apex
        );
        return None;
    }
    let snapshot = match load_zone_file(&z.file, &z.apex) {
        Ok(b) => b.snapshot,
        Err(e) => {
            tracing::error!(
                "[{}] copy on disk not usable, transferring anew: {e}",
                z.apex
            );
            return None;
        }
    };
    let expire = timers.clamp(soa_timers(&snapshot)).expire as u64 * 1000;
    let expires_at = match load_state(&z.file) {
        Some(st) if st.serial == snapshot.serial() => st.expires_at * 1000,
        _ => {
            let modified = std::fs::metadata(&z.file)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map_or(now_ms, |d| d.as_millis() as u64);
            modified + expire
        }
    };
    timers.on_loaded(now_ms, expires_at);
    let state = if now_ms >= expires_at {
        "expired, answering SERVFAIL until refreshed"
    } else {
        "serving"
    };
    tracing::info!(
        "[{}] loaded from {}: serial {}, {} records, {state}, expires in {} s",
        z.apex,
        z.file.display(),
        snapshot.serial(),
        snapshot.record_count(),
        expires_at.saturating_sub(now_ms) / 1000
    );
    Some(Arc::new(snapshot))
}

impl TransferLoop {
    fn run(mut self) {
        let mut events = Events::with_capacity(64);
        while !self.stop.load(Ordering::Relaxed) {
            let timeout = self.sleep_time();
            if let Err(e) = self.poll.poll(&mut events, Some(timeout))
                && e.kind() != io::ErrorKind::Interrupted
            {
                tracing::error!("transfer thread: poll failed: {e}");
                break;
            }
            for ev in events.iter() {
                if ev.token() != WAKE {
                    self.on_io(ev.token());
                }
            }
            while let Ok((ev, at)) = self.notifies.try_recv() {
                self.on_notify(ev, at);
            }
            self.check_deadlines();
            self.check_expiry();
            self.start_due();
            self.graveyard.sweep();
        }
        for (_, mut job) in self.jobs.drain() {
            let _ = self.poll.registry().deregister(&mut job.stream);
        }
    }

    /// Until the next timer or deadline, at most `MAX_SLEEP`.
    fn sleep_time(&self) -> Duration {
        let now_ms = unix_ms();
        let now = Instant::now();
        let mut t = MAX_SLEEP;
        for e in &self.zones {
            if e.running.is_none() {
                t = t.min(Duration::from_millis(
                    e.timers.next_refresh.saturating_sub(now_ms),
                ));
            }
            if let Some(at) = e
                .timers
                .expires_at
                .filter(|_| e.snapshot.is_some() && !e.expiry_logged)
            {
                t = t.min(Duration::from_millis(at.saturating_sub(now_ms)));
            }
        }
        for j in self.jobs.values() {
            t = t.min(
                j.io_deadline
                    .min(j.end_deadline)
                    .saturating_duration_since(now),
            );
        }
        t
    }

    fn on_notify(&mut self, ev: NotifyEvent, at: Instant) {
        let Some(&i) = self.by_apex.get(&ev.zone) else {
            return;
        };
        let e = &mut self.zones[i];
        let ours = e.snapshot.as_ref().map(|s| s.serial());
        let serial = ev.serial.map_or("none".to_string(), |s| s.to_string());
        match e
            .timers
            .on_notify(unix_ms(), ev.serial, ours, e.running.is_some())
        {
            NotifyAction::Skip => tracing::info!(
                "[{}] NOTIFY from {} with serial {serial}: not newer than ours, nothing to do",
                e.zone.apex,
                ev.source
            ),
            action => {
                tracing::info!(
                    "[{}] NOTIFY from {} with serial {serial}: refreshing",
                    e.zone.apex,
                    ev.source
                );
                e.notified.get_or_insert((at, ev.serial));
                e.next_primary = 0;
                if e.running.is_some() && matches!(action, NotifyAction::RefreshAt(_)) {
                    e.refresh_again = true;
                }
                self.cut_stalled(i, &serial);
            }
        }
    }

    /// A newer version was announced while zone `i` transfers: a transfer
    /// that has had no whole message for [`NOTIFY_STALL`] is making no
    /// real progress, so it is dropped and the refresh starts over (at the
    /// time the NOTIFY set), instead of holding the zone for the rest of
    /// its message time.
    fn cut_stalled(&mut self, i: usize, serial: &str) {
        let Some(token) = self.zones[i].running else {
            return;
        };
        let Some(job) = self.jobs.get(&token) else {
            return;
        };
        let stalled = job.last_message.elapsed();
        if stalled < NOTIFY_STALL {
            return;
        }
        let addr = self.zones[i].zone.primaries[job.primary];
        tracing::warn!(
            "[{}] transfer from {addr} cut short by NOTIFY for serial {serial}: no whole message for {} ms",
            self.zones[i].zone.apex,
            stalled.as_millis()
        );
        if let Some(mut job) = self.jobs.remove(&token) {
            let _ = self.poll.registry().deregister(&mut job.stream);
        }
        let e = &mut self.zones[i];
        e.running = None;
        e.refresh_again = false;
    }

    /// Logs the moment a zone's copy expires (RFC 1035 §3.3.13: no
    /// successful refresh for EXPIRE seconds); from then on it answers
    /// SERVFAIL until a transfer succeeds.
    fn check_expiry(&mut self) {
        let now_ms = unix_ms();
        for e in &mut self.zones {
            if e.snapshot.is_none() || e.expiry_logged || !e.timers.is_expired(now_ms) {
                continue;
            }
            e.expiry_logged = true;
            let serial = e.snapshot.as_ref().map_or(0, |s| s.serial());
            tracing::error!(
                "[{}] expired: serial {serial} was not confirmed by any primary within its EXPIRE time; answering SERVFAIL until a refresh succeeds",
                e.zone.apex
            );
        }
    }

    /// Starts refreshes that are due, within the concurrency limits.
    fn start_due(&mut self) {
        let now_ms = unix_ms();
        for i in 0..self.zones.len() {
            let e = &self.zones[i];
            if e.running.is_some() || !e.timers.is_due(now_ms) {
                continue;
            }
            if self.jobs.len() >= self.settings.max_concurrent {
                return;
            }
            let primary = e.next_primary.min(e.zone.primaries.len() - 1);
            let addr = e.zone.primaries[primary];
            let to_primary = self
                .jobs
                .values()
                .filter(|j| self.zones[j.zone].zone.primaries[j.primary] == addr)
                .count();
            if to_primary >= self.settings.max_per_primary {
                continue;
            }
            if let Err(e) = self.start_job(i, primary) {
                self.fail(i, primary, format!("cannot connect: {e}"));
            }
        }
    }

    fn start_job(&mut self, zone: usize, primary: usize) -> io::Result<()> {
        let e = &self.zones[zone];
        let addr = e.zone.primaries[primary];
        let sock = socket2::Socket::new(
            socket2::Domain::for_address(addr),
            socket2::Type::STREAM,
            Some(socket2::Protocol::TCP),
        )?;
        if let Some(src) = e.zone.source {
            // Leave from the node's own unicast address (anycast nodes).
            sock.bind(&SocketAddr::new(src, 0).into())?;
        }
        sock.set_nonblocking(true)?;
        match sock.connect(&addr.into()) {
            Ok(()) => {}
            Err(err) if err.raw_os_error() == Some(libc::EINPROGRESS) => {}
            Err(err) => return Err(err),
        }
        let mut stream = TcpStream::from_std(sock.into());
        let token = Token(self.next_token);
        self.next_token = (self.next_token + 1) % (usize::MAX - 1);
        self.poll.registry().register(
            &mut stream,
            token,
            Interest::READABLE | Interest::WRITABLE,
        )?;
        self.id_seed = self.id_seed.wrapping_mul(5).wrapping_add(0x3b1d);
        tracing::debug!(
            "[{}] refresh from {addr}: connecting, our serial {}",
            e.zone.apex,
            e.snapshot
                .as_ref()
                .map_or("none (AXFR)".to_string(), |s| s.serial().to_string())
        );
        let exchange = Exchange::new(
            &e.zone.apex,
            e.zone.key.clone(),
            self.settings.limits,
            e.snapshot.clone(),
            self.id_seed,
        );
        let now = Instant::now();
        self.jobs.insert(
            token,
            Job {
                zone,
                primary,
                stream,
                exchange,
                connected: false,
                output: Vec::new(),
                sent: 0,
                input: Vec::new(),
                started: now,
                last_message: now,
                io_deadline: now + self.settings.connect_timeout,
                end_deadline: now + self.settings.max_duration,
            },
        );
        self.zones[zone].running = Some(token);
        Ok(())
    }

    fn on_io(&mut self, token: Token) {
        let result = match self.jobs.get_mut(&token) {
            Some(job) => drive(job, self.settings.io_timeout),
            None => return,
        };
        match result {
            Ok(None) => {}
            Ok(Some(outcome)) => self.end_job(token, Ok(outcome)),
            Err(reason) => self.end_job(token, Err(reason)),
        }
    }

    fn check_deadlines(&mut self) {
        let now = Instant::now();
        let late: Vec<(Token, &'static str)> = self
            .jobs
            .iter()
            .filter_map(|(t, j)| {
                if now >= j.end_deadline {
                    Some((*t, "took longer than transfer.max_duration_s"))
                } else if now >= j.io_deadline {
                    Some((
                        *t,
                        if j.connected {
                            "no whole message within transfer.io_timeout_ms"
                        } else {
                            "connection timed out"
                        },
                    ))
                } else {
                    None
                }
            })
            .collect();
        for (t, why) in late {
            self.end_job(t, Err(why.to_string()));
        }
    }

    /// Ends a job: a success updates the zone; a failure moves to the next
    /// primary, or to RETRY when every primary of the round failed.
    fn end_job(&mut self, token: Token, result: Result<Outcome, String>) {
        let Some(mut job) = self.jobs.remove(&token) else {
            return;
        };
        let _ = self.poll.registry().deregister(&mut job.stream);
        let i = job.zone;
        self.zones[i].running = None;
        match result {
            Ok(outcome) => self.on_success(i, &job, outcome),
            Err(reason) => self.fail(i, job.primary, reason),
        }
    }

    fn fail(&mut self, i: usize, primary: usize, reason: String) {
        let now_ms = unix_ms();
        let e = &mut self.zones[i];
        let addr = e.zone.primaries[primary];
        tracing::warn!("[{}] refresh from {addr} failed: {reason}", e.zone.apex);
        if primary + 1 < e.zone.primaries.len() {
            // Fail over to the next primary at once.
            e.next_primary = primary + 1;
            e.timers.next_refresh = now_ms;
            return;
        }
        e.next_primary = 0;
        let soa = e.snapshot.as_deref().map(soa_timers);
        e.timers.on_failed(now_ms, soa);
        tracing::warn!(
            "[{}] every primary failed; next attempt in {} s",
            e.zone.apex,
            e.timers.next_refresh.saturating_sub(now_ms) / 1000
        );
    }

    fn on_success(&mut self, i: usize, job: &Job, outcome: Outcome) {
        let now_ms = unix_ms();
        let addr = self.zones[i].zone.primaries[job.primary];
        let took = job.started.elapsed();
        let e = &mut self.zones[i];
        e.next_primary = 0;
        if std::mem::take(&mut e.expiry_logged) {
            tracing::info!("[{}] refreshed from {addr}: no longer expired", e.zone.apex);
        }
        match outcome {
            Outcome::UpToDate { serial } => {
                // At 10,000 zones a line per SOA check is noise.
                tracing::debug!("[{}] up to date at serial {serial} ({addr})", e.zone.apex);
                if let Some(s) = e.snapshot.clone() {
                    e.timers.on_refreshed(now_ms, soa_timers(&s));
                }
            }
            Outcome::Transferred(t) => {
                let Transferred {
                    kind,
                    snapshot,
                    warnings,
                    fallback,
                    records,
                    bytes,
                    messages,
                } = *t;
                for w in &warnings {
                    tracing::warn!("[{}] {w}", e.zone.apex);
                }
                if let Some(f) = &fallback {
                    tracing::info!("[{}] IXFR -> AXFR fallback: {f}", e.zone.apex);
                }
                let old = e
                    .snapshot
                    .as_ref()
                    .map_or("none".to_string(), |s| s.serial().to_string());
                // "N records" counts the zone, as the line of a load from
                // disk does; what crossed the wire is in brackets.
                tracing::info!(
                    "[{}] {} from {addr}: serial {old} -> {}, {} records ({records} received in {messages} messages, {bytes} bytes), {:.1} ms",
                    e.zone.apex,
                    kind.label(),
                    snapshot.serial(),
                    snapshot.record_count(),
                    took.as_secs_f64() * 1e3
                );
                e.timers.on_refreshed(now_ms, soa_timers(&snapshot));
                let new = Arc::new(snapshot);
                if let Some(prev) = e.snapshot.replace(Arc::clone(&new)) {
                    self.graveyard.snapshots.push(prev);
                }
            }
        }
        self.publish(i);
        let e = &mut self.zones[i];
        if let Some((at, hint)) = e.notified
            && let Some(s) = &e.snapshot
            && hint.is_none_or(|h| {
                !crate::wire::serial::Serial(h)
                    .is_newer_than(crate::wire::serial::Serial(s.serial()))
            })
        {
            tracing::info!(
                "[{}] serial {} served {:.1} ms after NOTIFY",
                e.zone.apex,
                s.serial(),
                at.elapsed().as_secs_f64() * 1e3
            );
            e.notified = None;
        }
        if std::mem::take(&mut e.refresh_again) {
            e.timers.next_refresh = now_ms;
        }
        tracing::debug!(
            "[{}] next refresh in {} s, expires in {} s",
            e.zone.apex,
            e.timers.next_refresh.saturating_sub(now_ms) / 1000,
            e.timers.expires_at.unwrap_or(now_ms).saturating_sub(now_ms) / 1000
        );
        self.persist(i);
    }

    /// Publishes zone `i` in a new zone set; the old set waits in the
    /// graveyard until every worker has moved on.
    fn publish(&mut self, i: usize) {
        let e = &self.zones[i];
        let zone = Zone {
            apex: e.zone.apex.to_lowercase(),
            snapshot: e.snapshot.clone(),
            expires_at: e.timers.expires_at.map(|ms| ms / 1000),
            notify: Some(Arc::clone(&e.policy)),
        };
        let next = self.published.load().with(zone);
        tracing::debug!(
            "[{}] published serial {}",
            e.zone.apex,
            e.snapshot
                .as_ref()
                .map_or("none".to_string(), |s| s.serial().to_string())
        );
        let old = self.published.swap(Arc::new(next));
        self.graveyard.sets.push(old);
    }

    /// Writes the zone file (atomically) and the state file.
    fn persist(&mut self, i: usize) {
        let e = &self.zones[i];
        let Some(s) = &e.snapshot else {
            return;
        };
        let state = SavedState {
            serial: s.serial(),
            refreshed_at: unix_ms() / 1000,
            expires_at: e.timers.expires_at.unwrap_or(0) / 1000,
        };
        let saved_serial = load_state(&e.zone.file).map(|st| st.serial);
        if saved_serial != Some(s.serial()) {
            let started = Instant::now();
            if let Err(err) = save_zone(&e.zone.file, s) {
                tracing::error!(
                    "[{}] cannot write {}: {err}",
                    e.zone.apex,
                    e.zone.file.display()
                );
                return;
            }
            tracing::debug!(
                "[{}] wrote serial {} to {} in {:.1} ms",
                e.zone.apex,
                s.serial(),
                e.zone.file.display(),
                started.elapsed().as_secs_f64() * 1e3
            );
        }
        if let Err(err) = save_state(&e.zone.file, &state) {
            tracing::error!(
                "[{}] cannot write the state of {}: {err}",
                e.zone.apex,
                e.zone.file.display()
            );
        }
    }
}

/// Moves bytes for one job; `Ok(Some)` when its exchange is done.
fn drive(job: &mut Job, io_timeout: Duration) -> Result<Option<Outcome>, String> {
    let now = Instant::now();
    let now_unix = unix_ms() / 1000;
    if !job.connected {
        if let Ok(Some(e)) | Err(e) = job.stream.take_error() {
            return Err(format!("cannot connect: {e}"));
        }
        match job.stream.peer_addr() {
            Ok(_) => {
                job.connected = true;
                job.output = job.exchange.start(now_unix);
                job.io_deadline = now + io_timeout;
                job.last_message = now;
            }
            Err(e) if e.kind() == io::ErrorKind::NotConnected => return Ok(None),
            Err(e) => return Err(format!("cannot connect: {e}")),
        }
    }
    flush(job)?;
    let mut chunk = [0u8; 16 * 1024];
    loop {
        match job.stream.read(&mut chunk) {
            Ok(0) => return Err("primary closed the connection".into()),
            Ok(n) => {
                job.input.extend_from_slice(&chunk[..n]);
                let (taken, outcome) = take_messages(job, now_unix)?;
                if outcome.is_some() {
                    return Ok(outcome);
                }
                if taken > 0 {
                    job.io_deadline = now + io_timeout;
                    job.last_message = now;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("read failed: {e}")),
        }
    }
}

/// Feeds every whole message in the input to the exchange; returns how
/// many it took, and the outcome once the exchange is done.
fn take_messages(job: &mut Job, now_unix: u64) -> Result<(usize, Option<Outcome>), String> {
    let mut used = 0;
    let mut taken = 0;
    let mut done = None;
    while job.input.len() - used >= 2 {
        let len = u16::from_be_bytes([job.input[used], job.input[used + 1]]) as usize;
        if job.input.len() - used < 2 + len {
            break;
        }
        let msg = &job.input[used + 2..used + 2 + len];
        used += 2 + len;
        taken += 1;
        match job
            .exchange
            .on_message(msg, now_unix)
            .map_err(|e| e.to_string())?
        {
            Step::Continue => {}
            Step::Send(q) => {
                job.output.extend_from_slice(&q);
                flush(job)?;
            }
            Step::Done(o) => {
                done = Some(o);
                break;
            }
        }
    }
    job.input.drain(..used);
    Ok((taken, done))
}

fn flush(job: &mut Job) -> Result<(), String> {
    while job.sent < job.output.len() {
        match job.stream.write(&job.output[job.sent..]) {
            Ok(0) => return Err("primary closed the connection".into()),
            Ok(n) => job.sent += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("write failed: {e}")),
        }
    }
    job.output.clear();
    job.sent = 0;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graveyard_keeps_versions_until_no_one_else_holds_them() {
        let apex = crate::wire::name::parse_name_text("example.com.", None).unwrap();
        let snap = Arc::new(
            crate::zone::load_zone_text(b"$TTL 1\n@ SOA ns hm 1 2 3 4 5\n", "t", &apex)
                .unwrap()
                .snapshot,
        );
        let held_by_worker = Arc::clone(&snap);
        let mut g = Graveyard::default();
        g.snapshots.push(snap);
        g.sweep();
        assert_eq!(g.snapshots.len(), 1, "a worker still holds it");
        // The worker moves on: its drop is not the last one...
        drop(held_by_worker);
        assert_eq!(Arc::strong_count(&g.snapshots[0]), 1);
        // ...the graveyard's is, on this thread.
        g.sweep();
        assert!(g.snapshots.is_empty());
    }
}
