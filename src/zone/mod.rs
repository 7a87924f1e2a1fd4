//! Zones: records read from zone files or transfers, and the immutable
//! snapshots the answer engine reads.

pub mod rr;
pub mod text;

pub use rr::Rr;
