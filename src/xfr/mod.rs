//! Zone transfers in: the protocol as sans-I/O state machines (a
//! transfer stream, one exchange with a primary, each zone's timers, and
//! every secondary zone's life around them), the transfer thread that
//! drives them, and the writer that keeps copies on disk.

pub mod catalog;
pub mod encode;
pub mod exchange;
pub mod notify_out;
pub mod notify_sender;
pub mod persist;
pub mod secondary;
#[cfg(test)]
mod served_tests;
pub mod service;
pub mod stream;
pub mod timers;
pub mod timers_log;

use std::time::Duration;

/// How secondary zones are kept in sync (the `[transfer]` section).
#[derive(Debug, Clone)]
pub struct TransferSettings {
    pub policy: timers::TimerPolicy,
    pub limits: stream::Limits,
    pub max_concurrent: usize,
    pub max_per_primary: usize,
    /// Refreshes of zones that have a copy (each starts with an SOA
    /// query) started per second at most, as BIND's serial-query-rate:
    /// a restart or a flood of NOTIFYs does not query every primary at
    /// once. First transfers are not held back.
    pub soa_query_rate: u32,
    pub max_duration: Duration,
    pub connect_timeout: Duration,
    pub io_timeout: Duration,
    /// How long a connection to a primary stays open after a refresh,
    /// for the next one from it; zero: one connection per refresh.
    pub connection_keep: Duration,
}
