//! One worker thread: its own UDP sockets and TCP listeners (one per
//! listen address), polled with mio. The query path takes no lock and
//! allocates nothing: the zone set is read through an `arc-swap` cache,
//! buffers and scratch space are the worker's own.

use std::io;
use std::net::{IpAddr, TcpListener, UdpSocket};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use arc_swap::cache::Cache;
use mio::net::{TcpListener as MioListener, UdpSocket as MioUdp};
use mio::{Events, Interest, Poll, Token};

use super::Shared;
use super::report::EventReport;
use super::tcp::{Answer, Connection, Status};
use super::udp::{BATCH, UdpBatch};
use crate::answer::{
    Lookahead, MAX_MESSAGE, Outcome, Protocol, QueryFacts, Refused, Scratch, Transport, slip_answer,
};
use crate::metrics::{DropReason, WorkerCounters};
use crate::rrl::{Decision, RateLimiter};
use crate::zone::ZoneSet;

/// Token of the waker that tells the worker to stop.
pub const WAKE: Token = Token(usize::MAX);
/// How often idle and slow TCP connections are looked for.
const SWEEP_EVERY: Duration = Duration::from_millis(250);
/// UDP batches handled per socket before other sockets get a turn.
const UDP_BATCHES_PER_TURN: usize = 16;

pub struct WorkerSockets {
    pub udp: Vec<UdpSocket>,
    pub tcp: Vec<TcpListener>,
}

/// Tokens: UDP sockets first, then listeners, then connections.
struct Layout {
    udp: usize,
    tcp: usize,
}

impl Layout {
    fn conn_token(&self, slot: usize) -> Token {
        Token(self.udp + self.tcp + slot)
    }
}

enum Source {
    Udp(usize),
    Listener(usize),
    Conn(usize),
    Wake,
}

pub(super) fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

pub fn run(id: usize, mut poll: Poll, sockets: WorkerSockets, shared: Arc<Shared>) {
    if let Err(e) = run_inner(id, &mut poll, sockets, &shared) {
        tracing::error!("worker {id} stopped: {e}");
    }
    // Stopped, for the health check.
    if let Some(c) = shared.metrics.workers.get(id) {
        c.heartbeat.set(0);
    }
}

fn run_inner(
    id: usize,
    poll: &mut Poll,
    sockets: WorkerSockets,
    shared: &Shared,
) -> io::Result<()> {
    let layout = Layout {
        udp: sockets.udp.len(),
        tcp: sockets.tcp.len(),
    };
    let mut udp: Vec<MioUdp> = sockets.udp.into_iter().map(MioUdp::from_std).collect();
    let mut listeners: Vec<MioListener> =
        sockets.tcp.into_iter().map(MioListener::from_std).collect();
    for (i, s) in udp.iter_mut().enumerate() {
        poll.registry().register(s, Token(i), Interest::READABLE)?;
    }
    for (i, l) in listeners.iter_mut().enumerate() {
        poll.registry()
            .register(l, Token(layout.udp + i), Interest::READABLE)?;
    }
    let mut zones = Cache::new(Arc::clone(&shared.zones));
    let mut scratch = Scratch::default();
    let mut out = vec![0u8; MAX_MESSAGE].into_boxed_slice();
    let mut batch = UdpBatch::new(shared.config.udp_payload as usize);
    let mut conns: Vec<Option<Connection>> = Vec::new();
    let mut free: Vec<usize> = Vec::new();
    let mut open = 0usize;
    let mut udp_ready = vec![false; udp.len()];
    let mut events = Events::with_capacity(256);
    let mut last_sweep = Instant::now();
    // Metrics makes one set per worker; a server started with fewer sets
    // shares the last (counts then race, harmlessly).
    let counters = &shared.metrics.workers[id.min(shared.metrics.workers.len() - 1)];
    let log_only = shared.rrl.as_ref().is_some_and(|r| r.config().log_only);
    let mut reports = Reports::new(id, counters, log_only);

    while !shared.stop.load(Ordering::Relaxed) {
        let busy = udp_ready.iter().any(|r| *r);
        let timeout = if busy { Duration::ZERO } else { SWEEP_EVERY };
        match poll.poll(&mut events, Some(timeout)) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
        let now = Instant::now();
        let unix = now_unix();
        counters.heartbeat.set(unix);
        let zone_set: &ZoneSet = zones.load();
        for ev in events.iter() {
            let source = match ev.token() {
                WAKE => Source::Wake,
                Token(t) if t < layout.udp => Source::Udp(t),
                Token(t) if t < layout.udp + layout.tcp => Source::Listener(t - layout.udp),
                Token(t) => Source::Conn(t - layout.udp - layout.tcp),
            };
            match source {
                Source::Wake => {}
                Source::Udp(i) => udp_ready[i] = true,
                Source::Listener(i) => loop {
                    match listeners[i].accept() {
                        Ok((mut stream, peer)) => {
                            if open >= shared.config.tcp_max_connections || !take_tcp_slot(shared) {
                                // Over a limit: close at once rather than
                                // let the backlog fill.
                                counters.tcp_refused.bump();
                                tracing::debug!(
                                    "worker {id}: TCP connection from {peer} closed at once: connection limit reached"
                                );
                                drop(stream);
                                continue;
                            }
                            let slot = free.pop().unwrap_or_else(|| {
                                conns.push(None);
                                conns.len() - 1
                            });
                            poll.registry().register(
                                &mut stream,
                                layout.conn_token(slot),
                                Interest::READABLE | Interest::WRITABLE,
                            )?;
                            conns[slot] = Some(Connection::new(stream, peer, now));
                            open += 1;
                            counters.tcp_accepted.bump();
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        // Out of descriptors and the like: try again later.
                        Err(_) => break,
                    }
                },
                Source::Conn(slot) => {
                    let Some(Some(c)) = conns.get_mut(slot) else {
                        continue;
                    };
                    let transport = Transport {
                        protocol: Protocol::Tcp,
                        source: c.peer.ip(),
                        now: unix,
                    };
                    let mut answer = |q: &[u8], o: &mut [u8]| {
                        counters.query(Protocol::Tcp);
                        let outcome =
                            shared
                                .responder
                                .respond(zone_set, q, &transport, o, &mut scratch);
                        if !matches!(outcome, Outcome::Drop) {
                            counters.answered(scratch.facts());
                        }
                        match outcome {
                            Outcome::Transfer(t) => Answer::Transfer(t.0),
                            outcome => {
                                match reply_len(shared, outcome, &mut reports, transport.source) {
                                    Some(n) => Answer::Message(n),
                                    None => Answer::Nothing,
                                }
                            }
                        }
                    };
                    let status = c.on_ready(now, unix, &mut out, &mut answer, counters);
                    if status == Status::Close || ev.is_error() {
                        c.log_unfinished_transfer("the connection closed", counters);
                        close(poll, shared, &mut conns, &mut free, &mut open, slot);
                    }
                }
            }
        }
        for (i, sock) in udp.iter().enumerate() {
            if udp_ready[i] {
                udp_ready[i] = serve_udp(
                    sock,
                    &mut batch,
                    shared,
                    zone_set,
                    &mut scratch,
                    &mut reports,
                    unix,
                );
            }
        }
        if now.duration_since(last_sweep) >= SWEEP_EVERY {
            last_sweep = now;
            for slot in 0..conns.len() {
                let expired = conns[slot].as_ref().is_some_and(|c| {
                    c.expired(
                        now,
                        shared.config.tcp_idle_timeout,
                        shared.config.tcp_io_timeout,
                    )
                });
                if expired {
                    if let Some(c) = &conns[slot] {
                        tracing::debug!(
                            "worker {id}: TCP connection from {} closed: {}",
                            c.peer,
                            if c.is_idle() {
                                "idle for server.tcp_idle_timeout_ms"
                            } else {
                                "no progress within server.tcp_io_timeout_ms"
                            }
                        );
                        c.log_unfinished_transfer(
                            "the client took nothing within server.tcp_io_timeout_ms",
                            counters,
                        );
                        counters.tcp_timed_out.bump();
                    }
                    close(poll, shared, &mut conns, &mut free, &mut open, slot);
                }
            }
        }
        reports.report(now);
    }
    Ok(())
}

/// What a worker tells the operator about: log lines rate-limited, and
/// the metrics' counters.
pub(super) struct Reports<'c> {
    pub(super) drops: EventReport,
    notify: EventReport,
    transfer: EventReport,
    rrl: EventReport,
    /// Answers rate limiting has limited, for its slip.
    rrl_limited: u64,
    pub(super) counters: &'c WorkerCounters,
}

impl<'c> Reports<'c> {
    pub(super) fn new(worker: usize, counters: &'c WorkerCounters, rrl_log_only: bool) -> Self {
        Reports {
            counters,
            rrl: EventReport::new(
                worker,
                if rrl_log_only {
                    "answers over the rate limit (rrl.log_only: sent all the same):"
                } else {
                    "answers rate-limited (dropped, or slipped as truncated):"
                },
            ),
            rrl_limited: 0,
            drops: EventReport::new(worker, "dropped malformed or unanswerable packets:"),
            notify: EventReport::new(
                worker,
                "refused NOTIFY (not from a primary of a served zone, or not signed with its key):",
            ),
            transfer: EventReport::new(worker, "refused zone transfer requests:"),
        }
    }

    pub(super) fn report(&mut self, now: Instant) {
        self.drops.report(now);
        self.notify.report(now);
        self.transfer.report(now);
        self.rrl.report(now);
    }
}

/// Answers UDP queries in batches; returns whether more may be waiting.
fn serve_udp(
    sock: &MioUdp,
    batch: &mut UdpBatch,
    shared: &Shared,
    zones: &ZoneSet,
    scratch: &mut Scratch,
    reports: &mut Reports,
    unix: u64,
) -> bool {
    let counters = reports.counters;
    let fd = sock.as_raw_fd();
    let mut ahead = Lookahead::<BATCH>::default();
    for _ in 0..UDP_BATCHES_PER_TURN {
        let n = match batch.recv(fd) {
            Ok(0) | Err(_) => return false,
            Ok(n) => n,
        };
        ahead.clear();
        for i in 0..n {
            if let Some(q) = batch.query(i) {
                ahead.add(zones, q);
            }
        }
        ahead.finish();
        for i in 0..n {
            let Some((query, source, answer)) = batch.slot(i) else {
                // Longer than any query: dropped, and counted.
                if let Some(source) = batch.source(i) {
                    reports.drops.record(source);
                    counters.dropped(DropReason::TooLong);
                }
                continue;
            };
            let len = answer_udp(shared, zones, query, source, answer, scratch, reports, unix);
            batch.set_answer(i, len);
        }
        if let Ok((_, unsent)) = batch.send(fd) {
            counters.dropped[DropReason::SendFailed as usize].add(unsent as u64);
        }
    }
    true
}

/// Answers one UDP query from `source` into `answer`, counted, rate
/// limited and logged as every UDP path does (sockets and XDP); returns
/// the length to send, 0 for nothing.
#[allow(clippy::too_many_arguments)]
pub(super) fn answer_udp(
    shared: &Shared,
    zones: &ZoneSet,
    query: &[u8],
    source: IpAddr,
    answer: &mut [u8],
    scratch: &mut Scratch,
    reports: &mut Reports,
    unix: u64,
) -> usize {
    let counters = reports.counters;
    let transport = Transport {
        protocol: Protocol::Udp,
        source,
        now: unix,
    };
    counters.query(Protocol::Udp);
    let outcome = shared
        .responder
        .respond(zones, query, &transport, answer, scratch);
    if !matches!(outcome, Outcome::Drop) {
        counters.answered(scratch.facts());
    }
    let limited = shared.rrl.is_some() && matches!(outcome, Outcome::Reply(_));
    let mut len = reply_len(shared, outcome, reports, source).unwrap_or(0);
    if limited && let Some(rrl) = &shared.rrl {
        len = rate_limit(rrl, len, answer, scratch.facts(), source, reports, unix);
    }
    len
}

/// Response rate limiting of one UDP answer of `len` octets in `answer`
/// (NOTIFY and refusals are not limited: a primary NOTIFYing thousands of
/// zones must get its answers); returns the length to send.
fn rate_limit(
    rrl: &RateLimiter,
    len: usize,
    answer: &mut [u8],
    facts: &QueryFacts,
    source: IpAddr,
    reports: &mut Reports,
    unix: u64,
) -> usize {
    if len == 0 {
        return 0;
    }
    let counters = reports.counters;
    match rrl.decide(source, facts, unix, &mut reports.rrl_limited) {
        Decision::Send => len,
        Decision::SendLogged => {
            counters.rrl_logged.bump();
            reports.rrl.record(source);
            len
        }
        Decision::Slip => {
            counters.rrl_slipped.bump();
            reports.rrl.record(source);
            slip_answer(answer, len)
        }
        Decision::Drop => {
            counters.rrl_dropped.bump();
            reports.rrl.record(source);
            0
        }
    }
}

/// The length to send for an outcome, `None` for nothing; an accepted
/// NOTIFY also goes to the transfer thread, and drops and refusals are
/// counted for the log.
fn reply_len(
    shared: &Shared,
    outcome: Outcome,
    reports: &mut Reports,
    source: IpAddr,
) -> Option<usize> {
    let counters = reports.counters;
    match outcome {
        Outcome::Reply(n) => Some(n),
        Outcome::Notify(n, event) => {
            counters.notify_received.bump();
            if let Some(sink) = &shared.notify {
                sink.send(event);
            }
            Some(n)
        }
        Outcome::Refused(n, what) => {
            match what {
                Refused::Notify => {
                    counters.notify_refused.bump();
                    reports.notify.record(source);
                }
                Refused::Transfer => {
                    counters.transfer_refused.bump();
                    reports.transfer.record(source);
                }
            }
            Some(n)
        }
        Outcome::Drop => {
            counters.dropped(DropReason::Malformed);
            reports.drops.record(source);
            None
        }
        // Only TCP starts transfers; its loop takes them before this.
        Outcome::Transfer(_) => None,
    }
}

/// Counts a new connection against the limit over all workers; false
/// when it is reached.
fn take_tcp_slot(shared: &Shared) -> bool {
    let open = &shared.metrics.tcp_open;
    let before = open.fetch_add(1, Ordering::Relaxed);
    if before >= shared.config.tcp_max_connections_total {
        open.fetch_sub(1, Ordering::Relaxed);
        return false;
    }
    true
}

fn close(
    poll: &Poll,
    shared: &Shared,
    conns: &mut [Option<Connection>],
    free: &mut Vec<usize>,
    open: &mut usize,
    slot: usize,
) {
    if let Some(mut c) = conns[slot].take() {
        let _ = poll.registry().deregister(&mut c.stream);
        free.push(slot);
        *open -= 1;
        shared.metrics.tcp_open.fetch_sub(1, Ordering::Relaxed);
    }
}
