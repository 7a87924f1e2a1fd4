//! The network side: per-core worker threads around the answer engine.

mod report;
mod signal;
pub mod socket;
mod tcp;
pub mod udp;
mod worker;
mod xdp;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use arc_swap::ArcSwap;
use mio::{Poll, Waker};

pub use signal::TerminationSignals;

use crate::answer::Responder;
use crate::config::Config;
use crate::metrics::Metrics;
pub use crate::notify_sink::NotifySink;
use crate::rrl::{RateLimiter, RrlConfig};
use crate::zone::ZoneSet;
use worker::WorkerSockets;

/// What the workers need from the configuration.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub listen: Vec<SocketAddr>,
    pub workers: usize,
    pub udp_payload: u16,
    pub tcp_max_connections: usize,
    pub tcp_max_connections_total: usize,
    pub tcp_idle_timeout: Duration,
    pub tcp_io_timeout: Duration,
    pub rrl: Option<RrlConfig>,
    /// Interfaces answered over AF_XDP.
    pub xdp: Vec<String>,
}

impl From<&Config> for ServerConfig {
    fn from(c: &Config) -> Self {
        ServerConfig {
            listen: c.listen.clone(),
            workers: c.workers.max(1),
            udp_payload: c.udp_payload,
            tcp_max_connections: c.tcp_max_connections,
            tcp_max_connections_total: c.tcp_max_connections_total,
            tcp_idle_timeout: c.tcp_idle_timeout,
            tcp_io_timeout: c.tcp_io_timeout,
            rrl: c.rrl.clone(),
            xdp: c.xdp.clone(),
        }
    }
}

/// State every worker reads.
pub struct Shared {
    pub config: ServerConfig,
    pub responder: Responder,
    pub zones: Arc<ArcSwap<ZoneSet>>,
    pub notify: Option<NotifySink>,
    pub stop: AtomicBool,
    /// Counters: one set per worker, and the TCP connections open.
    pub metrics: Arc<Metrics>,
    /// Response rate limiting of UDP answers, when on.
    pub rrl: Option<RateLimiter>,
}

/// Running workers.
pub struct Server {
    threads: Vec<JoinHandle<()>>,
    wakers: Vec<Waker>,
    shared: Arc<Shared>,
    addrs: Vec<SocketAddr>,
    /// Interfaces with our XDP program, detached when dropped.
    attached: Vec<crate::xdp::Attached>,
}

impl Server {
    /// Binds every address for every worker and starts the workers. An
    /// address with port 0 gets one free port shared by all workers.
    /// Each `xdp` interface that takes our program gets a worker per
    /// receive queue; one that does not is logged and left to sockets.
    pub fn start(
        config: ServerConfig,
        responder: Responder,
        zones: Arc<ArcSwap<ZoneSet>>,
        notify: Option<NotifySink>,
        metrics: Arc<Metrics>,
    ) -> io::Result<Server> {
        let mut per_worker: Vec<WorkerSockets> = (0..config.workers)
            .map(|_| WorkerSockets {
                udp: Vec::new(),
                tcp: Vec::new(),
            })
            .collect();
        let mut addrs = Vec::new();
        for &addr in &config.listen {
            let (u, t, bound) = socket::bind_first(addr).map_err(|e| with_addr(e, addr))?;
            per_worker[0].udp.push(u);
            per_worker[0].tcp.push(t);
            for w in per_worker.iter_mut().skip(1) {
                w.udp
                    .push(socket::bind_udp(bound).map_err(|e| with_addr(e, bound))?);
                w.tcp
                    .push(socket::bind_tcp(bound).map_err(|e| with_addr(e, bound))?);
            }
            addrs.push(bound);
        }
        // Alive from the start, for the health check: a worker's first
        // turn of its loop may be a poll timeout away.
        let unix = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        for w in metrics.workers.iter() {
            w.heartbeat.set(unix);
        }
        // The limiter's keys are salted per start, from the process's
        // random hashing seed.
        let rrl = config.rrl.clone().map(|c| {
            use std::hash::{BuildHasher, Hasher};
            let seed = std::collections::hash_map::RandomState::new()
                .build_hasher()
                .finish();
            RateLimiter::new(c, seed)
        });
        let shared = Arc::new(Shared {
            rrl,
            config,
            responder,
            zones,
            notify,
            stop: AtomicBool::new(false),
            metrics,
        });
        let mut threads = Vec::new();
        let mut wakers = Vec::new();
        for (id, sockets) in per_worker.into_iter().enumerate() {
            let poll = Poll::new()?;
            wakers.push(Waker::new(poll.registry(), worker::WAKE)?);
            let shared = Arc::clone(&shared);
            threads.push(
                std::thread::Builder::new()
                    .name(format!("worker-{id}"))
                    .spawn(move || worker::run(id, poll, sockets, shared))?,
            );
        }
        let mut attached = Vec::new();
        let mut id = shared.config.workers;
        if let Some(port) = addrs.first().map(SocketAddr::port) {
            for name in &shared.config.xdp {
                let (a, sockets) = match crate::xdp::attach(name, port) {
                    Ok(x) => x,
                    Err(e) => {
                        tracing::warn!("{e}; serving {name} over sockets");
                        continue;
                    }
                };
                let mtu = crate::xdp::mtu(name).unwrap_or(1500);
                tracing::info!(
                    "XDP on {name}: UDP port {port}, {:?} mode, {} queues",
                    a.mode,
                    a.queues
                );
                for socket in sockets {
                    let queue = xdp::XdpQueue {
                        socket,
                        interface: name.clone(),
                        port,
                        mtu,
                    };
                    let shared = Arc::clone(&shared);
                    threads.push(
                        std::thread::Builder::new()
                            .name(format!("xdp-{id}"))
                            .spawn(move || xdp::run(id, queue, shared))?,
                    );
                    id += 1;
                }
                attached.push(a);
            }
        }
        // Sets made for queues no worker took: not workers to miss.
        for c in shared.metrics.workers.iter().skip(id) {
            c.heartbeat.set(crate::metrics::NO_WORKER);
        }
        Ok(Server {
            threads,
            wakers,
            shared,
            addrs,
            attached,
        })
    }

    /// The addresses served, with the ports actually bound.
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    /// Stops the workers and waits for them.
    pub fn stop(self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        for w in &self.wakers {
            let _ = w.wake();
        }
        for t in self.threads {
            let _ = t.join();
        }
        // The workers are gone: now the program may go.
        drop(self.attached);
    }
}

fn with_addr(e: io::Error, addr: SocketAddr) -> io::Error {
    io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}"))
}
