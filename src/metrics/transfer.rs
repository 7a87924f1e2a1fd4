//! The transfer thread's counters: refreshes, transfers in, and how long
//! a NOTIFY took to become the version served. One writer (the transfer
//! thread), read by scrapes.

use super::counter::Counter;
use super::histogram::Histogram;

/// The kinds of transfers in, as the label says them.
pub const KINDS: [&str; 3] = ["AXFR", "IXFR", "IXFR_AXFR"];

/// How a refresh ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferResult {
    /// The primary had nothing newer (the SOA query alone).
    UpToDate,
    /// A new version arrived, by the kind at this place of [`KINDS`].
    Transferred { kind: usize, bytes: u64, ms: u64 },
    /// The refresh failed; `kind` when it had got as far as a transfer.
    Failed { kind: Option<usize> },
}

#[derive(Debug, Default)]
pub struct TransferMetrics {
    pub refreshes_up_to_date: Counter,
    pub refreshes_failed: Counter,
    /// Transfers in by kind: finished, failed, and octets received.
    pub transfers_done: [Counter; KINDS.len()],
    pub transfers_failed: [Counter; KINDS.len()],
    pub transfer_bytes: [Counter; KINDS.len()],
    /// How long the successful transfers took.
    pub transfer_duration: Histogram,
    /// From a NOTIFY's arrival to its version being served (RFC 1996).
    pub notify_to_served: Histogram,
}

impl TransferMetrics {
    /// Counts one refresh. Transfer thread only.
    pub fn refresh(&self, r: TransferResult) {
        match r {
            TransferResult::UpToDate => self.refreshes_up_to_date.bump(),
            TransferResult::Transferred { kind, bytes, ms } => {
                self.transfers_done[kind].bump();
                self.transfer_bytes[kind].add(bytes);
                self.transfer_duration.observe_ms(ms);
            }
            TransferResult::Failed { kind } => {
                self.refreshes_failed.bump();
                if let Some(k) = kind {
                    self.transfers_failed[k].bump();
                }
            }
        }
    }
}
