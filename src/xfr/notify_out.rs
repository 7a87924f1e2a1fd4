//! NOTIFY out (RFC 1996), sans I/O: after each new version of a zone,
//! one NOTIFY to each secondary the zone's `notify` list names, repeated
//! with back-off until that secondary answers (§3.6), signed with the
//! zone's transfer key when it has one. Announcements come in, datagrams
//! go out, time is passed in; the transfer thread moves the octets.
//!
//! A newer version replaces a NOTIFY still unanswered for the same
//! secondary (one per zone and secondary at a time, §3.6 asks no more).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use crate::tsig::{MacBytes, ResponseVerifier, TsigKey, sign_request};
use crate::wire::header::flag;
use crate::wire::iana::{class, opcode, rtype};
use crate::wire::{Message, Name};

/// Milliseconds, Unix time.
pub type Millis = u64;

/// Where a zone's NOTIFYs go, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifyTargets {
    pub addrs: Box<[SocketAddr]>,
    /// Signs each NOTIFY (the zone's `transfer_key`: the key its
    /// secondaries hold for it).
    pub key: Option<Arc<TsigKey>>,
    /// Local address to send from (`transfer_source`).
    pub source: Option<IpAddr>,
}

/// A new version to announce.
#[derive(Debug, Clone)]
pub struct Announcement {
    /// The apex, as served.
    pub apex: Name,
    pub serial: u32,
    /// The SOA's TTL and RDATA, sent in the answer section (§3.7: a hint
    /// that may spare the secondary its SOA query).
    pub soa_ttl: u32,
    pub soa_rdata: Box<[u8]>,
    pub targets: Arc<NotifyTargets>,
}

impl Announcement {
    /// The announcement of `snapshot`, a new version, to `targets`.
    pub fn of(snapshot: &crate::zone::Snapshot, targets: &Arc<NotifyTargets>) -> Announcement {
        Announcement {
            apex: snapshot.apex(),
            serial: snapshot.serial(),
            soa_ttl: snapshot.soa().ttl(),
            soa_rdata: snapshot.soa_rdata().into(),
            targets: Arc::clone(targets),
        }
    }
}

/// One datagram to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    pub to: SocketAddr,
    pub source: Option<IpAddr>,
    pub bytes: Vec<u8>,
}

/// What became of a NOTIFY, for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The secondary answered, with this RCODE, after this many sends.
    Answered {
        apex: Name,
        to: SocketAddr,
        serial: u32,
        rcode: u16,
        sends: u32,
    },
    /// No answer after every retry.
    GaveUp {
        apex: Name,
        to: SocketAddr,
        serial: u32,
        sends: u32,
    },
}

/// How often to send.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// The wait after the first send; doubled after each (§3.6 leaves
    /// the figures to the operator).
    pub first_wait: Millis,
    pub max_wait: Millis,
    /// Sends in all, the first included.
    pub max_sends: u32,
}

impl Default for RetryPolicy {
    /// 1, 2, 4, ... 60 s apart, 10 sends: about five minutes.
    fn default() -> Self {
        RetryPolicy {
            first_wait: 1_000,
            max_wait: 60_000,
            max_sends: 10,
        }
    }
}

struct Pending {
    apex: Name,
    serial: u32,
    soa_ttl: u32,
    soa_rdata: Box<[u8]>,
    key: Option<Arc<TsigKey>>,
    source: Option<IpAddr>,
    id: u16,
    /// The MAC of the last signed send: its answer is signed with it.
    mac: Option<MacBytes>,
    sends: u32,
    next_at: Millis,
}

/// Every NOTIFY not yet answered.
pub struct NotifyOut {
    policy: RetryPolicy,
    pending: HashMap<(Name, SocketAddr), Pending>,
    next_id: u16,
}

impl NotifyOut {
    /// `id_seed` varies message IDs between runs.
    pub fn new(policy: RetryPolicy, id_seed: u16) -> Self {
        NotifyOut {
            policy,
            pending: HashMap::new(),
            next_id: id_seed,
        }
    }

    /// A new version: a NOTIFY to each target, due now.
    pub fn announce(&mut self, a: &Announcement, now: Millis) {
        let apex = a.apex.to_lowercase();
        for &to in a.targets.addrs.iter() {
            self.next_id = self.next_id.wrapping_add(0x3b5d);
            self.pending.insert(
                (apex.clone(), to),
                Pending {
                    apex: a.apex.clone(),
                    serial: a.serial,
                    soa_ttl: a.soa_ttl,
                    soa_rdata: a.soa_rdata.clone(),
                    key: a.targets.key.clone(),
                    source: a.targets.source,
                    id: self.next_id,
                    mac: None,
                    sends: 0,
                    next_at: now,
                },
            );
        }
    }

    /// Stops announcing `apex` (the zone was taken out).
    pub fn forget(&mut self, apex: &Name) {
        let apex = apex.to_lowercase();
        self.pending.retain(|(a, _), _| *a != apex);
    }

    /// The NOTIFYs due at `now`, and those that gave up.
    pub fn poll(&mut self, now: Millis, unix_secs: u64) -> (Vec<Transmit>, Vec<Outcome>) {
        let mut out = Vec::new();
        let mut gave_up = Vec::new();
        let policy = self.policy;
        self.pending.retain(|(_, to), p| {
            if p.next_at > now {
                return true;
            }
            if p.sends >= policy.max_sends {
                gave_up.push(Outcome::GaveUp {
                    apex: p.apex.clone(),
                    to: *to,
                    serial: p.serial,
                    sends: p.sends,
                });
                return false;
            }
            let mut bytes = notify_message(p);
            p.mac = p
                .key
                .as_ref()
                .map(|k| sign_request(&mut bytes, k, unix_secs));
            let wait = policy
                .first_wait
                .saturating_mul(1 << p.sends.min(20))
                .min(policy.max_wait);
            p.sends += 1;
            p.next_at = now + wait;
            out.push(Transmit {
                to: *to,
                source: p.source,
                bytes,
            });
            true
        });
        (out, gave_up)
    }

    /// A datagram from `from`: the answer to a NOTIFY we sent, if its ID,
    /// question and sender match one (and its TSIG verifies, when ours
    /// was signed); anything else is ignored.
    pub fn on_datagram(&mut self, from: SocketAddr, msg: &[u8], unix_secs: u64) -> Option<Outcome> {
        let m = Message::new_checked(msg).ok()?;
        let h = m.header();
        if h.flags() & flag::QR == 0 || h.opcode() != opcode::NOTIFY {
            return None;
        }
        let q = m.parse().ok()?.question?;
        if q.qtype != rtype::SOA {
            return None;
        }
        let mut qname = q.name();
        qname.make_lowercase();
        let apex = Name::from_buf(&qname);
        let key = (apex, from);
        let p = self.pending.get(&key)?;
        if p.id != h.id() {
            return None;
        }
        if let (Some(k), Some(mac)) = (&p.key, p.mac) {
            ResponseVerifier::new(Arc::clone(k), mac)
                .verify(msg, unix_secs)
                .ok()?;
        }
        let p = self.pending.remove(&key)?;
        Some(Outcome::Answered {
            apex: p.apex,
            to: from,
            serial: p.serial,
            rcode: u16::from(h.rcode()),
            sends: p.sends,
        })
    }

    /// When the next NOTIFY is due.
    pub fn next_deadline(&self) -> Option<Millis> {
        self.pending.values().map(|p| p.next_at).min()
    }

    /// NOTIFYs not yet answered.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }
}

/// A NOTIFY for `p` (§3.7): opcode NOTIFY, AA, the apex SOA as the
/// question and the current SOA in the answer section.
fn notify_message(p: &Pending) -> Vec<u8> {
    let apex = p.apex.as_wire();
    let mut m = Vec::with_capacity(12 + 2 * apex.len() + 14 + p.soa_rdata.len() + 256);
    m.extend_from_slice(&p.id.to_be_bytes());
    let flags = ((opcode::NOTIFY as u16) << flag::OPCODE_SHIFT) | flag::AA;
    m.extend_from_slice(&flags.to_be_bytes());
    m.extend_from_slice(&[0, 1, 0, 1, 0, 0, 0, 0]);
    m.extend_from_slice(apex);
    m.extend_from_slice(&rtype::SOA.to_be_bytes());
    m.extend_from_slice(&class::IN.to_be_bytes());
    // The owner as a pointer to the question's name.
    m.extend_from_slice(&[0xc0, 12]);
    m.extend_from_slice(&rtype::SOA.to_be_bytes());
    m.extend_from_slice(&class::IN.to_be_bytes());
    m.extend_from_slice(&p.soa_ttl.to_be_bytes());
    m.extend_from_slice(&(p.soa_rdata.len() as u16).to_be_bytes());
    m.extend_from_slice(&p.soa_rdata);
    m
}

#[cfg(test)]
mod tests;
