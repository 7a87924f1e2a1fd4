//! Limits on outbound transfers running at once, in all and per client
//! (BIND's `transfers-out`): a transfer holds a slot from its first
//! message to its last (or its connection's end), so a crowd of
//! secondaries, or one client opening transfer after transfer, cannot
//! take every worker's output. Shared by the workers, without a lock:
//! counters only. Clients are counted by a hash of their address into a
//! fixed table, so two clients that share an entry share its limit (the
//! table holds far more entries than a node has secondaries).

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

/// Entries of the per-client table.
const CLIENT_ENTRIES: usize = 1024;

pub struct TransferSlots {
    max_total: u32,
    max_per_client: u32,
    total: AtomicU32,
    clients: Box<[AtomicU32]>,
}

/// A slot taken; dropping it gives the slot back.
pub struct TransferPermit {
    slots: Arc<TransferSlots>,
    client: usize,
}

impl TransferSlots {
    /// At most `max_total` transfers at once, `max_per_client` of them to
    /// one client (each at least 1).
    pub fn new(max_total: usize, max_per_client: usize) -> Arc<TransferSlots> {
        let clamp = |n: usize| u32::try_from(n).unwrap_or(u32::MAX).max(1);
        Arc::new(TransferSlots {
            max_total: clamp(max_total),
            max_per_client: clamp(max_per_client),
            total: AtomicU32::new(0),
            clients: (0..CLIENT_ENTRIES).map(|_| AtomicU32::new(0)).collect(),
        })
    }

    /// A slot for a transfer to `client`, if both limits leave one.
    pub fn try_take(self: &Arc<Self>, client: IpAddr) -> Option<TransferPermit> {
        let entry = entry_of(client);
        if !take(&self.total, self.max_total) {
            return None;
        }
        if !take(&self.clients[entry], self.max_per_client) {
            self.total.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        Some(TransferPermit {
            slots: Arc::clone(self),
            client: entry,
        })
    }

    /// Transfers running now.
    pub fn running(&self) -> usize {
        self.total.load(Ordering::Acquire) as usize
    }
}

impl Drop for TransferPermit {
    fn drop(&mut self) {
        self.slots.clients[self.client].fetch_sub(1, Ordering::AcqRel);
        self.slots.total.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Adds one to `counter` unless it is at `max`.
fn take(counter: &AtomicU32, max: u32) -> bool {
    counter
        .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
            (n < max).then_some(n + 1)
        })
        .is_ok()
}

/// The table entry of a client: IPv4 and its IPv4-mapped IPv6 form alike.
fn entry_of(ip: IpAddr) -> usize {
    let bits: u128 = match ip {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map_or(u128::from(v6), |v4| u128::from(u32::from(v4))),
    };
    let folded = (bits as u64) ^ ((bits >> 64) as u64);
    (folded.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 54) as usize % CLIENT_ENTRIES
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn slots_are_limited_in_all_and_per_client_and_come_back() {
        let slots = TransferSlots::new(3, 2);
        let a1 = slots.try_take(ip("192.0.2.1")).unwrap();
        let a2 = slots.try_take(ip("192.0.2.1")).unwrap();
        assert!(slots.try_take(ip("192.0.2.1")).is_none(), "two per client");
        // The same client as IPv4-mapped IPv6.
        assert!(slots.try_take(ip("::ffff:192.0.2.1")).is_none());
        let b1 = slots.try_take(ip("2001:db8::7")).unwrap();
        assert!(slots.try_take(ip("2001:db8::8")).is_none(), "three in all");
        assert_eq!(slots.running(), 3);
        drop(a1);
        assert_eq!(slots.running(), 2);
        let a3 = slots.try_take(ip("192.0.2.1")).unwrap();
        // A refusal by the client limit gives back the total it took.
        drop(b1);
        assert!(slots.try_take(ip("192.0.2.1")).is_none());
        assert_eq!(slots.running(), 2);
        let c = slots.try_take(ip("198.51.100.1")).unwrap();
        drop((a2, a3, c));
        assert_eq!(slots.running(), 0);
        assert!(slots.clients.iter().all(|c| c.load(Ordering::Relaxed) == 0));
    }

    #[test]
    fn neighbours_mostly_land_apart() {
        let entries: std::collections::HashSet<usize> = (1..=200u8)
            .map(|i| entry_of(ip(&format!("198.18.0.{i}"))))
            .collect();
        assert!(
            entries.len() > 180,
            "{} entries for 200 clients",
            entries.len()
        );
    }
}
