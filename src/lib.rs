//! zonecast: an authoritative secondary DNS server for anycast nodes.
//!
//! The module tree follows the design: `wire` (the DNS wire format),
//! `zone` (immutable zone snapshots), `answer` (the sans-I/O answer
//! engine), `server` (per-core workers), `xfr` (zone transfers),
//! `tcp_framing` (DNS over TCP, shared by both) and `config`.

pub mod accept;
pub mod answer;
pub mod check;
pub mod config;
pub mod control;
pub mod daemon;
pub mod memory;
pub mod metrics;
pub mod notify_sink;
pub mod rrl;
pub mod server;
pub mod service;
pub mod tcp_framing;
pub mod tsig;
pub mod wire;
pub mod xdp;
pub mod xfr;
pub mod zone;
