//! A worker on one AF_XDP socket: it answers each query from its receive
//! frame straight into a transmit frame with the same engine, limits and
//! counters as the UDP socket path ([`super::worker::answer_udp`]), in
//! batches of ring operations, and sleeps in poll(2) only when idle.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use arc_swap::cache::Cache;

use super::Shared;
use super::worker::{Reports, answer_udp, now_unix};
use crate::answer::{Lookahead, Scratch};
use crate::metrics::DropReason;
use crate::xdp::packet::{self, V6_HEADERS};
use crate::xdp::socket::{Copying, Desc, FRAME, XskSocket, frame_base};

/// Descriptors taken from a ring at a time: what the kernel sends per
/// wakeup in copy mode (`TX_BATCH_SIZE`), so each answer is copied out
/// while its frame is still in cache. At 64 every other half-batch
/// waited a turn, and the kernel's copy of it was 8% of the core.
const BATCH: u32 = 32;
/// Wakeups per turn while the kernel leaves answers in the ring.
const KICKS_MAX: u32 = 4;
/// How long an idle worker sleeps before it looks at the stop flag.
const IDLE_POLL_MS: i32 = 100;

/// One socket and what its answers may be.
pub struct XdpQueue {
    pub socket: XskSocket,
    pub interface: String,
    /// UDP port the program redirects.
    pub port: u16,
    /// The interface's MTU: XDP cannot fragment, so answers stay below.
    pub mtu: usize,
}

pub fn run(id: usize, queue: XdpQueue, shared: Arc<Shared>) {
    let XdpQueue {
        mut socket,
        interface,
        port,
        mtu,
    } = queue;
    tracing::info!(
        "worker {id}: XDP on {interface} queue {}, {} mode",
        socket.queue,
        match socket.copying {
            Copying::ZeroCopy => "zero-copy",
            Copying::Copy => "copy",
        }
    );
    let counters = &shared.metrics.workers[id.min(shared.metrics.workers.len() - 1)];
    let log_only = shared.rrl.as_ref().is_some_and(|r| r.config().log_only);
    let mut reports = Reports::new(id, counters, log_only);
    let mut zones = Cache::new(Arc::clone(&shared.zones));
    let mut scratch = Scratch::default();
    // The EDNS limit of the configuration, within what fits the MTU
    // after the larger (IPv6) headers and in a frame.
    let payload_max = usize::from(shared.config.udp_payload)
        .min(mtu.saturating_sub(V6_HEADERS - 14))
        .min(FRAME - V6_HEADERS);
    let umem = socket.umem();
    while !shared.stop.load(Ordering::Relaxed) {
        // Frames the kernel has sent are ours again.
        let done = socket.completion.ready(u32::MAX);
        for i in 0..done {
            let addr = socket.completion.read(i);
            socket.free.push(frame_base(addr));
        }
        socket.completion.release(done);

        let unix = now_unix();
        counters.heartbeat.set(unix);
        let n = socket.rx.ready(BATCH);
        if n == 0 {
            if socket.tx.pending() > 0 {
                // Answers still queued: copy mode sends them in this call.
                socket.kick();
            }
            let mut pfd = libc::pollfd {
                fd: socket.fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one pollfd, live for the call.
            unsafe { libc::poll(&mut pfd, 1, IDLE_POLL_MS) };
            reports.report(Instant::now());
            continue;
        }
        let zone_set = zones.load();
        // Each frame parsed once; the batch's lookups started together,
        // so their cache misses overlap (as on the socket path).
        let mut batch = [None; BATCH as usize];
        let mut ahead = Lookahead::<{ BATCH as usize }>::default();
        for (i, slot) in batch.iter_mut().enumerate().take(n as usize) {
            let desc = socket.rx.read(i as u32);
            let frame = umem.frame(desc.addr, desc.len as usize);
            *slot = packet::parse(frame, port).map(|d| (desc, d));
            match slot {
                Some((_, d)) => ahead.add(zone_set, &frame[d.headers..d.headers + d.payload]),
                // The program lets only UDP to our port through; what
                // does not parse here is malformed.
                None => counters.dropped(DropReason::Malformed),
            }
        }
        ahead.finish();
        let room = socket.tx.room();
        let mut sent = 0u32;
        for (desc, d) in batch.iter().take(n as usize).flatten() {
            counters.xdp_queries.bump();
            // A full transmit ring, or no frame free: dropped, as a full
            // socket buffer drops.
            let tx = match socket.free.pop() {
                Some(tx) if sent < room => tx,
                other => {
                    socket.free.extend(other);
                    counters.dropped(DropReason::SendFailed);
                    continue;
                }
            };
            let frame = umem.frame(desc.addr, desc.len as usize);
            let out = umem.frame_mut(tx);
            let len = answer_udp(
                &shared,
                zone_set,
                &frame[d.headers..d.headers + d.payload],
                d.source,
                &mut out[d.headers..d.headers + payload_max],
                &mut scratch,
                &mut reports,
                unix,
            );
            if len == 0 {
                socket.free.push(tx);
                continue;
            }
            let total = packet::write_answer(frame, d, out, len);
            socket.tx.write(
                sent,
                Desc {
                    addr: tx,
                    len: total as u32,
                    options: 0,
                },
            );
            sent += 1;
        }
        // The receive frames go back at once; the answers have their own.
        for i in 0..n {
            let addr = socket.rx.read(i).addr;
            socket.fill.write(i, frame_base(addr));
        }
        socket.rx.release(n);
        socket.fill.submit(n);
        socket.tx.submit(sent);
        if sent > 0 && (socket.copying == Copying::Copy || socket.tx.needs_wakeup()) {
            for _ in 0..KICKS_MAX {
                socket.kick();
                if socket.tx.pending() == 0 {
                    break;
                }
            }
        }
    }
}
