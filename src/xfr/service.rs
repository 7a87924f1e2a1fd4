//! The transfer thread: a thin loop around the sans-I/O [`Secondary`].
//! It moves octets between the machine and non-blocking TCP connections
//! (mio), hands NOTIFYs and the time to it, publishes the versions it
//! makes through `arc-swap`, passes copies to the persistence writer (its
//! own thread, so a slow disk never holds a transfer), and frees replaced
//! versions here rather than on a worker (freeing a large zone is a
//! latency spike).

use std::collections::{HashMap, HashSet};
use std::io::{self, Read};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use arc_swap::ArcSwap;
use crossbeam_channel::{Receiver, bounded};
use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token, Waker};

use super::TransferSettings;
use super::catalog::{CatalogConfig, Consumer, MemberChange, members_path};
use super::notify_out::{Announcement, NotifyTargets};
use super::notify_sender::NotifySender;
use super::persist::{Persister, load_journal};
pub use super::secondary::SecondaryZone;
use super::secondary::{Action, ConnError, ConnId, LoadedCopy, Millis, Secondary, ZoneReport};
use super::timers::SoaTimers;
use super::timers_log::StateIndex;
use crate::answer::NotifyEvent;
use crate::metrics::TransferMetrics;
use crate::notify_sink::NotifySink;
use crate::tcp_framing::Outbox;
use crate::wire::Name;
use crate::zone::{Snapshot, Zone, ZoneSet, load_zone_file};

const WAKE: Token = Token(usize::MAX);
/// Accepted NOTIFYs waiting for the thread; more are dropped.
const NOTIFY_QUEUE: usize = 1024;
/// The loop looks at its clock at least this often.
const MAX_SLEEP: Duration = Duration::from_millis(500);
/// Octets read per system call.
const READ_CHUNK: usize = 16 * 1024;

/// Unix milliseconds that never go back: the wall clock read once, then
/// the monotonic clock's progress added.
#[derive(Clone, Copy)]
struct Clock {
    unix_at_start: Millis,
    start: Instant,
}

impl Clock {
    fn new() -> Self {
        Clock {
            unix_at_start: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as Millis),
            start: Instant::now(),
        }
    }

    fn at(&self, t: Instant) -> Millis {
        self.unix_at_start + t.saturating_duration_since(self.start).as_millis() as Millis
    }

    fn now(&self) -> Millis {
        self.at(Instant::now())
    }
}

/// One connection to a primary.
struct Conn {
    stream: TcpStream,
    connected: bool,
    outbox: Outbox,
}

/// Replaced zone sets and versions, kept until no worker holds them, then
/// freed here, and the memory given back to the system at most once per
/// [`TRIM_EVERY`].
#[derive(Default)]
struct Graveyard {
    sets: Vec<Arc<ZoneSet>>,
    snapshots: Vec<Arc<Snapshot>>,
    freed: bool,
    last_trim: Option<Instant>,
}

/// The longest the allocator's free pages wait to be given back.
const TRIM_EVERY: Duration = Duration::from_secs(1);

impl Graveyard {
    fn sweep(&mut self) {
        let before = self.sets.len() + self.snapshots.len();
        self.sets.retain(|s| Arc::strong_count(s) > 1);
        self.snapshots.retain(|s| Arc::strong_count(s) > 1);
        self.freed |= self.sets.len() + self.snapshots.len() < before;
        if self.freed && self.last_trim.is_none_or(|t| t.elapsed() >= TRIM_EVERY) {
            crate::memory::release_free_memory();
            self.freed = false;
            self.last_trim = Some(Instant::now());
        }
    }
}

struct TransferLoop {
    poll: Poll,
    settings: TransferSettings,
    /// New configurations of the secondary zones (a reload).
    reconfigure: Receiver<Provisioning>,
    /// The catalogs, and the member zones they made.
    consumer: Consumer,
    clock: Clock,
    machine: Secondary,
    conns: HashMap<ConnId, Conn>,
    published: Arc<ArcSwap<ZoneSet>>,
    persister: Persister,
    notifies: Receiver<(NotifyEvent, Instant)>,
    stop: Arc<AtomicBool>,
    graveyard: Graveyard,
    /// NOTIFY out: the new versions of zones that name secondaries.
    notify_out: NotifySender,
    /// Versions of zones served from files to announce (from the daemon).
    announcements: Receiver<Announcement>,
    /// Operators' requests (`zonecast ctl`).
    control: Receiver<ControlRequest>,
}

/// The way operators' requests reach the transfer thread.
#[derive(Clone)]
pub struct Controller {
    sender: crossbeam_channel::Sender<ControlRequest>,
    waker: Arc<Waker>,
}

impl Controller {
    /// Hands `req` to the transfer thread; false when the thread is gone
    /// or too many requests wait.
    pub fn send(&self, req: ControlRequest) -> bool {
        let sent = self.sender.try_send(req).is_ok();
        if sent {
            let _ = self.waker.wake();
        }
        sent
    }
}

/// An operator's request to the transfer thread, and where its answer
/// goes.
pub enum ControlRequest {
    /// Refresh a zone now; `whole`: by AXFR.
    Refresh {
        apex: Name,
        whole: bool,
        reply: crossbeam_channel::Sender<Result<(), String>>,
    },
    /// NOTIFY the zone's secondaries of the version served.
    Notify {
        apex: Name,
        reply: crossbeam_channel::Sender<Result<u32, String>>,
    },
    /// The state of one secondary zone, or of all.
    Report {
        apex: Option<Name>,
        reply: crossbeam_channel::Sender<Vec<ZoneReport>>,
    },
}

/// The running transfer thread.
pub struct TransferService {
    thread: Option<JoinHandle<()>>,
    /// Lets the thread start transferring ([`begin`](Self::begin)).
    go: Option<crossbeam_channel::Sender<()>>,
    waker: Arc<Waker>,
    stop: Arc<AtomicBool>,
    sink: NotifySink,
    reconfigure: crossbeam_channel::Sender<Provisioning>,
    announce: crossbeam_channel::Sender<Announcement>,
    control: crossbeam_channel::Sender<ControlRequest>,
    metrics: Arc<TransferMetrics>,
}

/// The zones the transfer thread keeps, as the configuration names them.
#[derive(Debug, Clone, Default)]
pub struct Provisioning {
    /// The `[[zone]]`s with primaries.
    pub zones: Vec<SecondaryZone>,
    pub catalogs: Vec<CatalogConfig>,
    /// Every zone the configuration names, from files too: a catalog
    /// member by one of these names is ignored (RFC 9432 §5.2).
    pub names: HashSet<Name>,
    /// The secondary zones that NOTIFY their own secondaries, by
    /// lowercase apex.
    pub notify: HashMap<Name, Arc<NotifyTargets>>,
}

impl TransferService {
    /// Loads each zone's copy from disk and publishes it (so it is served
    /// at once), then starts the thread, which refreshes every zone.
    pub fn start(
        provisioning: Provisioning,
        settings: TransferSettings,
        published: Arc<ArcSwap<ZoneSet>>,
    ) -> io::Result<TransferService> {
        let poll = Poll::new()?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKE)?);
        let (tx, rx) = bounded(NOTIFY_QUEUE);
        let (reconfigure_tx, reconfigure) = crossbeam_channel::unbounded();
        let (announce, announcements) = crossbeam_channel::unbounded();
        let (control_tx, control) = crossbeam_channel::bounded(16);
        let stop = Arc::new(AtomicBool::new(false));
        let clock = Clock::new();
        let now = clock.now();
        let seed = (now as u16) ^ (std::process::id() as u16);
        let mut machine = Secondary::new(settings.clone(), seed);
        let metrics = machine.metrics();
        let Provisioning {
            mut zones,
            catalogs,
            names,
            notify,
        } = provisioning;
        let mut notify_out = NotifySender::new(seed.rotate_left(7));
        notify_out.set_targets(notify);
        zones.extend(catalogs.iter().map(|c| c.zone.clone()));
        let copies = load_all_from_disk(&zones, &settings, now);
        machine.reserve(zones.len());
        for (z, copy) in zones.into_iter().zip(copies) {
            machine.add_zone(now, z, copy);
        }
        let mut consumer = Consumer::new();
        remember_members(&mut consumer, &catalogs);
        // No member is known before a catalog's copy is read: nothing to do.
        let _ = consumer.configure(catalogs, names);
        let mut lp = TransferLoop {
            poll,
            settings,
            reconfigure,
            consumer,
            clock,
            machine,
            conns: HashMap::new(),
            published,
            persister: Persister::start()?,
            notifies: rx,
            stop: Arc::clone(&stop),
            graveyard: Graveyard::default(),
            notify_out,
            announcements,
            control,
        };
        // The copies on disk, published before the workers start.
        lp.perform_actions();
        // Transfers wait for `begin`: the server binds its ports first, so
        // no connection to a primary takes (as its ephemeral port) a port
        // the server is about to listen on.
        let (go, wait) = bounded::<()>(1);
        let thread = std::thread::Builder::new()
            .name("transfer".into())
            .spawn(move || {
                let _ = wait.recv();
                lp.run()
            })?;
        Ok(TransferService {
            go: Some(go),
            thread: Some(thread),
            waker: Arc::clone(&waker),
            stop,
            sink: NotifySink { sender: tx, waker },
            reconfigure: reconfigure_tx,
            announce,
            control: control_tx,
            metrics,
        })
    }

    /// The counters of refreshes and transfers in, for the metrics.
    pub fn metrics(&self) -> Arc<TransferMetrics> {
        Arc::clone(&self.metrics)
    }

    /// Where operators' requests go (the control socket's threads).
    pub fn controller(&self) -> Controller {
        Controller {
            sender: self.control.clone(),
            waker: Arc::clone(&self.waker),
        }
    }

    /// Announces a new version of a zone served from its file to the
    /// secondaries its `notify` names (RFC 1996).
    pub fn announce(&self, a: Announcement) {
        if self.announce.send(a).is_ok() {
            let _ = self.waker.wake();
        }
    }

    /// Applies a new configuration of the secondary zones (a reload): new
    /// zones are loaded from disk or transferred, removed ones stop being
    /// served and their copies are deleted, changed primaries and keys
    /// apply from each zone's next refresh.
    pub fn reconfigure(&self, zones: Provisioning) {
        if self.reconfigure.send(zones).is_ok() {
            let _ = self.waker.wake();
        }
    }

    /// Starts refreshing and transferring (once the server listens).
    pub fn begin(&mut self) {
        if let Some(go) = self.go.take() {
            let _ = go.send(());
        }
    }

    /// Where workers send accepted NOTIFYs.
    pub fn notify_sink(&self) -> NotifySink {
        self.sink.clone()
    }

    pub fn stop(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Never begun: the thread ends without a transfer.
        self.go = None;
        let _ = self.waker.wake();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Hands the consumer each catalog's members as the last run left them.
fn remember_members(consumer: &mut Consumer, catalogs: &[CatalogConfig]) {
    for c in catalogs {
        if let Ok(text) = std::fs::read_to_string(members_path(&c.zone.file)) {
            consumer.remember(&c.zone.apex, &text);
        }
    }
}

/// Every zone's copy from disk, in order, read on every core: a node of
/// many small zones is back in service as fast as its disk allows.
fn load_all_from_disk(
    zones: &[SecondaryZone],
    settings: &TransferSettings,
    now: Millis,
) -> Vec<Option<LoadedCopy>> {
    let states = StateIndex::for_files(zones.iter().map(|z| &*z.file));
    let states = &states;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per = zones.len().div_ceil(threads).max(64);
    if zones.len() <= per {
        return zones
            .iter()
            .map(|z| load_from_disk(z, settings, states, now))
            .collect();
    }
    std::thread::scope(|scope| {
        let parts: Vec<_> = zones
            .chunks(per)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|z| load_from_disk(z, settings, states, now))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        parts
            .into_iter()
            .zip(zones.chunks(per))
            .flat_map(|(h, part)| {
                // A loader that panicked is a bug; its zones transfer anew.
                h.join()
                    .unwrap_or_else(|_| part.iter().map(|_| None).collect())
            })
            .collect()
    })
}

/// The copy a secondary kept on disk, and its expire deadline: from the
/// state file when it matches, else counted from the file's age.
fn load_from_disk(
    z: &SecondaryZone,
    settings: &TransferSettings,
    states: &StateIndex,
    now: Millis,
) -> Option<LoadedCopy> {
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
    let snapshot = match load_journal(&z.file, snapshot.serial()) {
        Ok(journal) => snapshot.with_journal(journal),
        Err(e) => {
            tracing::warn!("[{}] journal not usable, serving without it: {e}", z.apex);
            snapshot
        }
    };
    let expire = settings.policy.clamp(SoaTimers::of(&snapshot)).expire as u64 * 1000;
    let (expires_at, refreshed_at) = match states.get(&z.file) {
        Some(st) if st.serial == snapshot.serial() => {
            (st.expires_at * 1000, Some(st.refreshed_at * 1000))
        }
        _ => {
            let modified = std::fs::metadata(&z.file)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map_or(now, |d| d.as_millis() as u64);
            (modified + expire, None)
        }
    };
    let state = if now >= expires_at {
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
        expires_at.saturating_sub(now) / 1000
    );
    Some(LoadedCopy {
        snapshot: Arc::new(snapshot),
        expires_at,
        refreshed_at,
    })
}

/// Connections are numbered from 0, far from [`WAKE`].
fn token(conn: ConnId) -> Token {
    Token(conn.0 as usize)
}

impl TransferLoop {
    fn run(mut self) {
        let mut events = Events::with_capacity(64);
        while !self.stop.load(Ordering::Relaxed) {
            self.perform_actions();
            let now = self.clock.now();
            while let Ok(a) = self.announcements.try_recv() {
                self.notify_out.announce(&a, now);
            }
            self.notify_out.send_due(self.poll.registry(), now);
            let deadline = match (
                self.machine.next_deadline(),
                self.notify_out.next_deadline(),
            ) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let timeout = deadline
                .map_or(MAX_SLEEP, |t| Duration::from_millis(t.saturating_sub(now)))
                .min(MAX_SLEEP);
            if let Err(e) = self.poll.poll(&mut events, Some(timeout))
                && e.kind() != io::ErrorKind::Interrupted
            {
                tracing::error!("transfer thread: poll failed: {e}");
                break;
            }
            for ev in events.iter() {
                if self.notify_out.owns(ev.token()) {
                    self.notify_out.on_readable(ev.token(), self.clock.now());
                } else if ev.token() != WAKE {
                    self.on_ready(ConnId(ev.token().0 as u64));
                }
            }
            while let Ok(zones) = self.reconfigure.try_recv() {
                self.apply_configuration(zones);
            }
            while let Ok(req) = self.control.try_recv() {
                let now = self.clock.now();
                match req {
                    ControlRequest::Refresh { apex, whole, reply } => {
                        let _ = reply.send(self.machine.refresh_now(now, &apex, whole));
                    }
                    ControlRequest::Report { apex, reply } => {
                        let _ = reply.send(self.machine.reports(apex.as_ref()));
                    }
                    ControlRequest::Notify { apex, reply } => {
                        let set = self.published.load();
                        let snapshot = set.get(&apex).and_then(|z| z.snapshot().as_ref().cloned());
                        let answer = match snapshot {
                            None => Err(format!("{apex} is not served here with a version")),
                            Some(s) if self.notify_out.announce_again(&s, now) => Ok(s.serial()),
                            Some(_) => Err(format!("{apex} names no secondaries to NOTIFY")),
                        };
                        let _ = reply.send(answer);
                    }
                }
                self.perform_actions();
            }
            while let Ok((ev, at)) = self.notifies.try_recv() {
                let now = self.clock.now();
                self.machine.handle_notify(now, &ev, self.clock.at(at));
            }
            self.machine.handle_timeout(self.clock.now());
            self.graveyard.sweep();
        }
        for (_, mut c) in self.conns.drain() {
            let _ = self.poll.registry().deregister(&mut c.stream);
        }
        self.persister.stop();
    }

    /// Hands the machine the differences between the zones it has and
    /// the configuration's. Zones taken out go first, so a catalog may
    /// claim a name the configuration gave up; then the catalogs' members
    /// change; then configured zones are added or changed.
    fn apply_configuration(&mut self, mut p: Provisioning) {
        let now = self.clock.now();
        self.notify_out.set_targets(std::mem::take(&mut p.notify));
        let mut wanted: HashMap<Name, SecondaryZone> = p
            .zones
            .into_iter()
            .chain(p.catalogs.iter().map(|c| c.zone.clone()))
            .map(|z| (z.apex.to_lowercase(), z))
            .collect();
        let current: Vec<SecondaryZone> = self
            .machine
            .configured()
            .filter(|z| !self.consumer.is_member(&z.apex))
            .collect();
        let mut removed = 0;
        for z in &current {
            if !wanted.contains_key(&z.apex.to_lowercase()) {
                self.machine.remove_zone(&z.apex);
                if z.catalog {
                    self.persister.forget(members_path(&z.file).into());
                }
                removed += 1;
            }
        }
        let new_catalogs: Vec<CatalogConfig> = p
            .catalogs
            .iter()
            .filter(|c| !self.consumer.is_catalog(&c.zone.apex))
            .cloned()
            .collect();
        remember_members(&mut self.consumer, &new_catalogs);
        let changes = self.consumer.configure(p.catalogs, p.names);
        self.apply_member_changes(changes);
        let current: HashMap<Name, SecondaryZone> = current
            .into_iter()
            .map(|z| (z.apex.to_lowercase(), z))
            .collect();
        let mut changed = 0;
        let mut adds = Vec::new();
        for (apex, z) in wanted.drain() {
            match current.get(&apex) {
                Some(old) if *old == z => {}
                Some(old) => {
                    self.change_zone(now, old, z);
                    changed += 1;
                }
                None => adds.push(z),
            }
        }
        // Read together: many zones added by one reload read each
        // directory's timer log once.
        let added = adds.len();
        self.add_from_disk(now, adds);
        tracing::info!(
            "secondary zones reconfigured: {added} added, {changed} changed, {removed} removed; {} catalog members",
            self.consumer.member_count()
        );
        self.machine.handle_timeout(now);
    }

    /// Adds zones, each with its copy on disk if it has one, read on
    /// every core.
    fn add_from_disk(&mut self, now: Millis, zones: Vec<SecondaryZone>) {
        let copies = load_all_from_disk(&zones, &self.settings, now);
        self.machine.reserve(zones.len());
        for (z, copy) in zones.into_iter().zip(copies) {
            self.machine.add_zone(now, z, copy);
        }
    }

    /// A zone's configuration changed from `old` to `new`.
    fn change_zone(&mut self, now: Millis, old: &SecondaryZone, new: SecondaryZone) {
        if old.file != new.file || old.catalog != new.catalog {
            // Another file is another copy: start over from it.
            self.machine.remove_zone(&new.apex);
            let states = StateIndex::for_files([&*new.file]);
            let copy = load_from_disk(&new, &self.settings, &states, now);
            self.machine.add_zone(now, new, copy);
        } else {
            self.machine.update_zone(new);
        }
    }

    /// Applies what the catalogs changed: new members are read from disk
    /// together, on every core.
    fn apply_member_changes(&mut self, changes: Vec<MemberChange>) {
        if changes.is_empty() {
            return;
        }
        let now = self.clock.now();
        let mut adds = Vec::new();
        for c in changes {
            match c {
                MemberChange::Add(z) => adds.push(z),
                MemberChange::Update(z) => match self.machine.configuration(&z.apex) {
                    Some(old) => self.change_zone(now, &old, z),
                    None => adds.push(z),
                },
                MemberChange::Reset(z) => {
                    if self.machine.zone_id(&z.apex).is_some() {
                        self.machine.remove_zone(&z.apex);
                    } else {
                        // Reset at start, before the copy was read.
                        self.persister.forget(z.file.clone());
                    }
                    self.machine.add_zone(now, z, None);
                }
                MemberChange::Remove(apex) => self.machine.remove_zone(&apex),
            }
        }
        adds.retain(|z| {
            let taken = self.machine.zone_id(&z.apex).is_some();
            if taken {
                tracing::error!("[{}] catalog member already kept here: not added", z.apex);
            }
            !taken
        });
        self.add_from_disk(now, adds);
        for (path, text) in self.consumer.membership() {
            self.persister.write_file(path, text);
        }
    }

    /// Does what the machine asked, until it asks nothing more. Zones new
    /// to the set are added all at once at the end (one copy of the
    /// table, not one per zone: at start every zone is new).
    fn perform_actions(&mut self) {
        loop {
            let catalogs = self.perform_machine_actions();
            if catalogs.is_empty() {
                return;
            }
            // A catalog's new version changes member zones, whose own
            // actions (serve, transfer) come round the loop.
            for zone in catalogs {
                let Some(snapshot) = zone.snapshot().as_ref().map(Arc::clone) else {
                    continue;
                };
                let changes = self.consumer.update(&zone.apex, &snapshot);
                self.apply_member_changes(changes);
            }
        }
    }

    /// [`perform_actions`](Self::perform_actions) for what the machine
    /// asked; returns the catalog zones that have a new version.
    fn perform_machine_actions(&mut self) -> Vec<Arc<Zone>> {
        let mut new_zones = Vec::new();
        let mut gone = Vec::new();
        let mut catalogs: Vec<Arc<Zone>> = Vec::new();
        while let Some(a) = self.machine.poll_action() {
            match a {
                Action::Connect {
                    conn,
                    primary,
                    source,
                } => {
                    if let Err(e) = self.connect(conn, primary, source) {
                        let now = self.clock.now();
                        self.machine.handle_closed(now, conn, ConnError::Connect(e));
                    }
                }
                Action::Send { conn, bytes } => {
                    if let Some(c) = self.conns.get_mut(&conn) {
                        c.outbox.push_framed(&bytes);
                        self.flush(conn);
                    }
                }
                Action::Close { conn } => {
                    if let Some(mut c) = self.conns.remove(&conn) {
                        let _ = self.poll.registry().deregister(&mut c.stream);
                    }
                }
                Action::Serve(zone) => {
                    if zone.is_catalog() && zone.is_loaded() {
                        catalogs.push(Arc::clone(&zone));
                    }
                    if let Some(s) = zone.snapshot().as_ref() {
                        self.notify_out.published(s, self.clock.now());
                    }
                    new_zones.push(zone);
                }
                Action::Publish { zone, snapshot } => {
                    self.notify_out.published(&snapshot, self.clock.now());
                    if let Some(old) = zone.publish(Some(snapshot)) {
                        self.graveyard.snapshots.push(old);
                    }
                    if zone.is_catalog() {
                        catalogs.push(zone);
                    }
                }
                Action::Persist(req) => self.persister.submit(req),
                Action::Unserve(zone) => {
                    self.notify_out.forget(&zone.apex);
                    gone.push(zone);
                }
                Action::Forget(file) => self.persister.forget(file),
            }
        }
        if !new_zones.is_empty() || !gone.is_empty() {
            self.update_set(&gone, new_zones);
        }
        catalogs
    }

    fn connect(
        &mut self,
        conn: ConnId,
        addr: SocketAddr,
        source: Option<IpAddr>,
    ) -> io::Result<()> {
        let sock = socket2::Socket::new(
            socket2::Domain::for_address(addr),
            socket2::Type::STREAM,
            Some(socket2::Protocol::TCP),
        )?;
        if let Some(src) = source {
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
        self.poll.registry().register(
            &mut stream,
            token(conn),
            Interest::READABLE | Interest::WRITABLE,
        )?;
        self.conns.insert(
            conn,
            Conn {
                stream,
                connected: false,
                outbox: Outbox::default(),
            },
        );
        Ok(())
    }

    /// A readiness event on `conn`: finish connecting, send what waits,
    /// and read until the socket would block.
    fn on_ready(&mut self, conn: ConnId) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        if !c.connected {
            if let Ok(Some(e)) | Err(e) = c.stream.take_error() {
                let now = self.clock.now();
                self.machine.handle_closed(now, conn, ConnError::Connect(e));
                self.perform_actions();
                return;
            }
            match c.stream.peer_addr() {
                Ok(_) => {
                    c.connected = true;
                    let now = self.clock.now();
                    self.machine.handle_connected(now, conn);
                    self.perform_actions();
                }
                Err(e) if e.kind() == io::ErrorKind::NotConnected => return,
                Err(e) => {
                    let now = self.clock.now();
                    self.machine.handle_closed(now, conn, ConnError::Connect(e));
                    self.perform_actions();
                    return;
                }
            }
        }
        self.flush(conn);
        let mut chunk = [0u8; READ_CHUNK];
        while let Some(c) = self.conns.get_mut(&conn) {
            let read = c.stream.read(&mut chunk);
            let now = self.clock.now();
            match read {
                Ok(0) => self.machine.handle_closed(now, conn, ConnError::Closed),
                Ok(n) => self.machine.handle_data(now, conn, &chunk[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => self.machine.handle_closed(now, conn, ConnError::Read(e)),
            }
            // What the octets brought (an answer to send, the end) is done
            // before reading on; a closed connection ends the loop.
            self.perform_actions();
        }
    }

    fn flush(&mut self, conn: ConnId) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        if let Err(e) = c.outbox.flush(&mut c.stream) {
            let now = self.clock.now();
            self.machine.handle_closed(now, conn, ConnError::Write(e));
        }
    }

    /// A new zone set without the zones `gone` and with `zones` added or
    /// replaced; the old set waits in the graveyard until every worker has
    /// moved on. The daemon changes the set too (zones served from files,
    /// on a reload), so this is a read-copy-update that retries.
    fn update_set(&mut self, gone: &[Arc<Zone>], zones: Vec<Arc<Zone>>) {
        let old = self
            .published
            .rcu(|cur| cur.without_zones(gone).with_all(zones.iter().cloned()));
        self.graveyard.sets.push(old);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graveyard_keeps_sets_until_no_one_else_holds_them() {
        let apex = crate::wire::name::parse_name_text("example.com.", None).unwrap();
        let snap = Arc::new(
            crate::zone::load_zone_text(b"$TTL 1\n@ SOA ns hm 1 2 3 4 5\n", "t", &apex)
                .unwrap()
                .snapshot,
        );
        let set = Arc::new(ZoneSet::new([Zone::primary(snap)]));
        let held_by_worker = Arc::clone(&set);
        let mut g = Graveyard::default();
        g.sets.push(set);
        g.sweep();
        assert_eq!(g.sets.len(), 1, "a worker still holds it");
        // The worker moves on: its drop is not the last one...
        drop(held_by_worker);
        assert_eq!(Arc::strong_count(&g.sets[0]), 1);
        // ...the graveyard's is, on this thread.
        g.sweep();
        assert!(g.sets.is_empty());
    }

    #[test]
    fn the_clock_is_unix_time_and_never_goes_back() {
        let c = Clock::new();
        let a = c.now();
        let b = c.now();
        assert!(b >= a);
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis() as Millis;
        assert!(a.abs_diff(wall) < 5_000);
        assert_eq!(c.at(c.start - Duration::from_secs(1)), c.unix_at_start);
    }
}
