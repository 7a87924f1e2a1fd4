//! Prometheus metrics (text format 0.0.4) on `[server] metrics`.
//!
//! The query path stays lock-free and allocation-free: each worker owns
//! its [`WorkerCounters`] and is their only writer; a scrape reads and
//! sums them. The transfer thread writes its own [`TransferMetrics`].
//! Names follow Prometheus's conventions: the `zonecast_` prefix,
//! `_total` for counters, seconds and bytes as units.

mod counter;
mod exposition;
mod histogram;
pub mod http;
mod page;
mod transfer;
mod worker;

use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

pub use counter::Counter;
pub use exposition::Exposition;
pub use histogram::Histogram;
pub use page::{PageInputs, render};
pub use transfer::{TransferMetrics, TransferResult};
pub use worker::{DropReason, NO_WORKER, QueryFacts, WorkerCounters};

/// Every counter of a running server.
pub struct Metrics {
    pub workers: Box<[WorkerCounters]>,
    pub transfer: Arc<TransferMetrics>,
    /// TCP connections open over all workers (touched on accept and
    /// close only, never per query): also the limit's count.
    pub tcp_open: AtomicUsize,
}

impl Metrics {
    pub fn new(workers: usize, transfer: Arc<TransferMetrics>) -> Self {
        Metrics {
            workers: (0..workers.max(1))
                .map(|_| WorkerCounters::default())
                .collect(),
            transfer,
            tcp_open: AtomicUsize::new(0),
        }
    }
}
