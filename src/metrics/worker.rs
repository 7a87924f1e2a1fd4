//! One worker's counters: bumped on the query path by their worker only,
//! summed over the workers when scraped.

use super::counter::Counter;
use crate::answer::Protocol;
pub use crate::answer::QueryFacts;
use crate::answer::cookie::CookieStatus;
use crate::wire::iana::{rcode, rtype};

/// The query types counted by name (what authoritative servers are asked
/// most); every other type is counted as "other", so the number of
/// series stays bounded whatever clients send.
pub const QTYPES: [(u16, &str); 22] = [
    (rtype::A, "A"),
    (rtype::NS, "NS"),
    (rtype::CNAME, "CNAME"),
    (rtype::SOA, "SOA"),
    (rtype::PTR, "PTR"),
    (rtype::MX, "MX"),
    (rtype::TXT, "TXT"),
    (rtype::AAAA, "AAAA"),
    (rtype::SRV, "SRV"),
    (rtype::NAPTR, "NAPTR"),
    (rtype::DS, "DS"),
    (rtype::RRSIG, "RRSIG"),
    (rtype::NSEC, "NSEC"),
    (rtype::DNSKEY, "DNSKEY"),
    (rtype::NSEC3PARAM, "NSEC3PARAM"),
    (rtype::TLSA, "TLSA"),
    (rtype::SVCB, "SVCB"),
    (rtype::HTTPS, "HTTPS"),
    (rtype::CAA, "CAA"),
    (rtype::ANY, "ANY"),
    (rtype::IXFR, "IXFR"),
    (rtype::AXFR, "AXFR"),
];

/// The response codes counted by name; the rest as "other".
pub const RCODES: [(u16, &str); 9] = [
    (rcode::NOERROR, "NOERROR"),
    (rcode::FORMERR, "FORMERR"),
    (rcode::SERVFAIL, "SERVFAIL"),
    (rcode::NXDOMAIN, "NXDOMAIN"),
    (rcode::NOTIMP, "NOTIMP"),
    (rcode::REFUSED, "REFUSED"),
    (rcode::NOTAUTH, "NOTAUTH"),
    (rcode::BADVERS, "BADVERS"),
    (rcode::BADCOOKIE, "BADCOOKIE"),
];

/// Why a packet got no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    /// Shorter than a header, a response, more than one question, a
    /// question that does not parse, or an answer that cannot be built.
    Malformed,
    /// A datagram longer than any query (cut by the receive buffer).
    TooLong,
    /// The answer was made but the socket refused it (buffer full).
    SendFailed,
}

impl DropReason {
    pub const ALL: [DropReason; 3] = [
        DropReason::Malformed,
        DropReason::TooLong,
        DropReason::SendFailed,
    ];

    pub fn label(self) -> &'static str {
        match self {
            DropReason::Malformed => "malformed",
            DropReason::TooLong => "too_long",
            DropReason::SendFailed => "send_failed",
        }
    }
}

/// Kinds of transfers out, for the label.
pub const TRANSFER_KINDS: [&str; 2] = ["AXFR", "IXFR"];

/// Aligned to two cache lines so that workers never write the same line.
#[derive(Debug, Default)]
#[repr(align(128))]
pub struct WorkerCounters {
    /// Messages handed to the answer engine, by transport (UDP, TCP).
    pub queries: [Counter; 2],
    pub qtypes: [Counter; QTYPES.len() + 1],
    pub rcodes: [Counter; RCODES.len() + 1],
    pub edns: Counter,
    pub dnssec_ok: Counter,
    pub truncated: Counter,
    /// Queries answered by what their cookie was (RFC 7873), by the
    /// place of the status in [`CookieStatus::ALL`] ("none" not counted).
    pub cookies: [Counter; CookieStatus::ALL.len()],
    pub dropped: [Counter; DropReason::ALL.len()],
    pub notify_received: Counter,
    pub notify_refused: Counter,
    pub transfer_refused: Counter,
    pub tcp_accepted: Counter,
    pub tcp_refused: Counter,
    pub tcp_timed_out: Counter,
    /// Transfers out by kind (AXFR, IXFR), finished and cut short.
    pub transfers_out_done: [Counter; 2],
    pub transfers_out_failed: [Counter; 2],
    /// UDP answers response rate limiting slipped (sent truncated),
    /// dropped, or in log-only mode would have limited.
    pub rrl_slipped: Counter,
    pub rrl_dropped: Counter,
    pub rrl_logged: Counter,
    /// UDP queries taken from an AF_XDP socket (also in `queries`).
    pub xdp_queries: Counter,
    /// Unix seconds at the last turn of the worker's loop, 0 once it has
    /// stopped: the health check's sign that the worker still answers.
    /// [`NO_WORKER`] for a set no worker took (an XDP queue whose
    /// interface would not take the program).
    pub heartbeat: Counter,
}

/// The heartbeat of a counter set without a worker.
pub const NO_WORKER: u64 = u64::MAX;

/// The place of `code` in `table`, or the last place ("other").
#[inline]
fn index_of(table: &[(u16, &str)], code: u16) -> usize {
    table
        .iter()
        .position(|&(c, _)| c == code)
        .unwrap_or(table.len())
}

/// Types up to CAA (257) have their place in [`QTYPES`] looked up, not
/// searched for, on the query path.
const QTYPE_TABLE_LEN: usize = 258;
static QTYPE_PLACE: [u8; QTYPE_TABLE_LEN] = {
    let mut t = [QTYPES.len() as u8; QTYPE_TABLE_LEN];
    let mut i = 0;
    while i < QTYPES.len() {
        t[QTYPES[i].0 as usize] = i as u8;
        i += 1;
    }
    t
};

#[inline]
fn qtype_place(qtype: u16) -> usize {
    QTYPE_PLACE
        .get(qtype as usize)
        .map_or(QTYPES.len(), |&p| p as usize)
}

impl WorkerCounters {
    /// A message reached the answer engine.
    #[inline]
    pub fn query(&self, protocol: Protocol) {
        self.queries[protocol as usize].bump();
    }

    /// An answer went out for a query the engine described as `f`.
    #[inline]
    pub fn answered(&self, f: &QueryFacts) {
        self.qtypes[qtype_place(f.qtype)].bump();
        self.rcodes[index_of(&RCODES, f.rcode)].bump();
        if f.edns {
            self.edns.bump();
        }
        if f.dnssec_ok {
            self.dnssec_ok.bump();
        }
        if f.truncated {
            self.truncated.bump();
        }
        if f.cookie != CookieStatus::None {
            self.cookies[f.cookie as usize].bump();
        }
    }

    #[inline]
    pub fn dropped(&self, why: DropReason) {
        self.dropped[why as usize].bump();
    }

    /// A transfer out ended: `done` when the last message went out.
    pub fn transfer_out(&self, axfr: bool, done: bool) {
        let k = if axfr { 0 } else { 1 };
        if done {
            self.transfers_out_done[k].bump();
        } else {
            self.transfers_out_failed[k].bump();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_agrees_with_the_list() {
        for t in 0..=u16::MAX {
            assert_eq!(qtype_place(t), index_of(&QTYPES, t), "type {t}");
        }
    }

    #[test]
    fn unknown_types_and_codes_are_other() {
        let c = WorkerCounters::default();
        let mut f = QueryFacts {
            qtype: rtype::AAAA,
            rcode: rcode::NXDOMAIN,
            edns: true,
            dnssec_ok: false,
            truncated: true,
            cookie: CookieStatus::Valid,
            ..QueryFacts::default()
        };
        c.answered(&f);
        f.qtype = 65280;
        f.rcode = 22;
        c.answered(&f);
        let aaaa = QTYPES.iter().position(|t| t.1 == "AAAA").unwrap();
        assert_eq!(c.qtypes[aaaa].get(), 1);
        assert_eq!(c.qtypes[QTYPES.len()].get(), 1);
        assert_eq!(c.rcodes[3].get(), 1);
        assert_eq!(c.rcodes[RCODES.len()].get(), 1);
        assert_eq!(
            (c.edns.get(), c.dnssec_ok.get(), c.truncated.get()),
            (2, 0, 2)
        );
        c.query(Protocol::Tcp);
        assert_eq!(
            (c.queries[0].get(), c.queries[1].get()),
            (0, 1),
            "TCP is the second"
        );
    }
}
