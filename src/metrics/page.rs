//! One scrape: every family, from the workers' counters, the transfer
//! thread's, and the zone set.

use std::sync::atomic::Ordering;

use super::Metrics;
use super::counter::sum;
use super::exposition::{Exposition, Kind};
use super::transfer::KINDS;
use super::worker::{DropReason, QTYPES, RCODES, TRANSFER_KINDS, WorkerCounters};
use crate::answer::cookie::CookieStatus;
use crate::xfr::secondary::ZoneReport;
use crate::zone::ZoneSet;

/// What a scrape reads besides the counters.
pub struct PageInputs<'a> {
    pub zones: &'a ZoneSet,
    /// The transfer thread's reports, when it answered in time; the
    /// per-zone refresh ages need them.
    pub reports: Option<&'a [ZoneReport]>,
    /// Per-zone series only up to this many zones.
    pub zone_series_max: usize,
    pub started_unix: u64,
    pub now_ms: u64,
}

/// The text of one scrape.
pub fn render(m: &Metrics, p: &PageInputs) -> String {
    let mut e = Exposition::default();
    let w: &[WorkerCounters] = &m.workers;
    e.family(
        "zonecast_build_info",
        Kind::Gauge,
        "The zonecast version running (always 1).",
    );
    e.sample(
        "zonecast_build_info",
        &[("version", env!("CARGO_PKG_VERSION"))],
        1u32,
    );
    e.single(
        "zonecast_start_time_seconds",
        Kind::Gauge,
        "When the server started, in Unix seconds.",
        p.started_unix as f64,
    );
    e.single(
        "zonecast_workers",
        Kind::Gauge,
        "Worker threads answering queries (on sockets and on AF_XDP queues).",
        w.iter()
            .filter(|c| c.heartbeat.get() != super::NO_WORKER)
            .count() as f64,
    );
    queries(&mut e, w);
    connections(&mut e, m);
    transfers_in(&mut e, m);
    zones(&mut e, p);
    e.finish()
}

fn queries(e: &mut Exposition, w: &[WorkerCounters]) {
    let n = "zonecast_queries_total";
    e.family(
        n,
        Kind::Counter,
        "DNS messages from clients handed to the answer engine, by transport.",
    );
    for (i, t) in ["udp", "tcp"].iter().enumerate() {
        e.sample(n, &[("transport", t)], sum(w, |c| &c.queries[i]) as f64);
    }
    e.single(
        "zonecast_xdp_queries_total",
        Kind::Counter,
        "UDP queries taken over AF_XDP (counted in zonecast_queries_total too).",
        sum(w, |c| &c.xdp_queries) as f64,
    );
    let n = "zonecast_queries_by_type_total";
    e.family(
        n,
        Kind::Counter,
        "Queries answered, by query type (the rest as other).",
    );
    for (i, (_, name)) in QTYPES.iter().enumerate() {
        e.sample(n, &[("qtype", name)], sum(w, |c| &c.qtypes[i]) as f64);
    }
    e.sample(
        n,
        &[("qtype", "other")],
        sum(w, |c| &c.qtypes[QTYPES.len()]) as f64,
    );
    e.single(
        "zonecast_queries_edns_total",
        Kind::Counter,
        "Queries answered that carried EDNS (RFC 6891).",
        sum(w, |c| &c.edns) as f64,
    );
    e.single(
        "zonecast_queries_dnssec_ok_total",
        Kind::Counter,
        "Queries answered that set the DO bit (RFC 3225).",
        sum(w, |c| &c.dnssec_ok) as f64,
    );
    let n = "zonecast_responses_total";
    e.family(n, Kind::Counter, "Responses sent, by response code.");
    for (i, (_, name)) in RCODES.iter().enumerate() {
        e.sample(n, &[("rcode", name)], sum(w, |c| &c.rcodes[i]) as f64);
    }
    e.sample(
        n,
        &[("rcode", "other")],
        sum(w, |c| &c.rcodes[RCODES.len()]) as f64,
    );
    let n = "zonecast_queries_cookie_total";
    e.family(
        n,
        Kind::Counter,
        "Queries answered that carried a DNS cookie (RFC 7873), by what the cookie was.",
    );
    for s in CookieStatus::ALL.into_iter().skip(1) {
        e.sample(
            n,
            &[("cookie", s.label())],
            sum(w, |c| &c.cookies[s as usize]) as f64,
        );
    }
    e.single(
        "zonecast_responses_truncated_total",
        Kind::Counter,
        "Responses sent with TC set (the client should retry over TCP).",
        sum(w, |c| &c.truncated) as f64,
    );
    let n = "zonecast_dropped_packets_total";
    e.family(n, Kind::Counter, "Packets not answered, by reason.");
    for r in DropReason::ALL {
        e.sample(
            n,
            &[("reason", r.label())],
            sum(w, |c| &c.dropped[r as usize]) as f64,
        );
    }
    e.by_label(
        "zonecast_rrl_responses_total",
        Kind::Counter,
        "UDP answers over the response rate limit: slipped (sent empty with TC), dropped, or logged (log-only mode, sent).",
        "action",
        &[
            ("slipped", sum(w, |c| &c.rrl_slipped)),
            ("dropped", sum(w, |c| &c.rrl_dropped)),
            ("logged", sum(w, |c| &c.rrl_logged)),
        ],
    );
    e.by_label(
        "zonecast_notify_total",
        Kind::Counter,
        "NOTIFY messages received, accepted or refused (not from a primary, or not signed with its key).",
        "result",
        &[
            ("accepted", sum(w, |c| &c.notify_received)),
            ("refused", sum(w, |c| &c.notify_refused)),
        ],
    );
    e.single(
        "zonecast_transfer_requests_refused_total",
        Kind::Counter,
        "AXFR and IXFR requests refused (not allowed, or too many transfers running).",
        sum(w, |c| &c.transfer_refused) as f64,
    );
    let n = "zonecast_transfers_out_total";
    e.family(
        n,
        Kind::Counter,
        "Zone transfers sent over TCP, by kind, finished or cut short.",
    );
    for (i, kind) in TRANSFER_KINDS.iter().enumerate() {
        e.sample(
            n,
            &[("kind", kind), ("result", "done")],
            sum(w, |c| &c.transfers_out_done[i]) as f64,
        );
        e.sample(
            n,
            &[("kind", kind), ("result", "failed")],
            sum(w, |c| &c.transfers_out_failed[i]) as f64,
        );
    }
}

fn connections(e: &mut Exposition, m: &Metrics) {
    let w: &[WorkerCounters] = &m.workers;
    e.single(
        "zonecast_tcp_connections_open",
        Kind::Gauge,
        "TCP connections open now.",
        m.tcp_open.load(Ordering::Relaxed) as f64,
    );
    e.single(
        "zonecast_tcp_connections_accepted_total",
        Kind::Counter,
        "TCP connections accepted.",
        sum(w, |c| &c.tcp_accepted) as f64,
    );
    e.single(
        "zonecast_tcp_connections_refused_total",
        Kind::Counter,
        "TCP connections closed at once: a connection limit was reached.",
        sum(w, |c| &c.tcp_refused) as f64,
    );
    e.single(
        "zonecast_tcp_connections_timed_out_total",
        Kind::Counter,
        "TCP connections closed by the idle or I/O timeout.",
        sum(w, |c| &c.tcp_timed_out) as f64,
    );
}

fn transfers_in(e: &mut Exposition, m: &Metrics) {
    let t = &m.transfer;
    let done: u64 = t.transfers_done.iter().map(|c| c.get()).sum();
    e.by_label(
        "zonecast_refreshes_total",
        Kind::Counter,
        "Refreshes of secondary zones: up to date, a new version transferred, or failed.",
        "result",
        &[
            ("up_to_date", t.refreshes_up_to_date.get()),
            ("transferred", done),
            ("failed", t.refreshes_failed.get()),
        ],
    );
    let n = "zonecast_transfers_in_total";
    e.family(
        n,
        Kind::Counter,
        "Zone transfers from primaries, by kind (IXFR_AXFR: an IXFR answered with the whole zone), done or failed.",
    );
    for (i, kind) in KINDS.iter().enumerate() {
        e.sample(
            n,
            &[("kind", kind), ("result", "done")],
            t.transfers_done[i].get() as f64,
        );
        e.sample(
            n,
            &[("kind", kind), ("result", "failed")],
            t.transfers_failed[i].get() as f64,
        );
    }
    let n = "zonecast_transfer_in_bytes_total";
    e.family(
        n,
        Kind::Counter,
        "Octets of the zone transfers done, by kind.",
    );
    for (i, kind) in KINDS.iter().enumerate() {
        e.sample(n, &[("kind", kind)], t.transfer_bytes[i].get() as f64);
    }
    let n = "zonecast_transfer_in_duration_seconds";
    e.family(
        n,
        Kind::Histogram,
        "How long the zone transfers done took, from the first query to the last message.",
    );
    e.histogram(n, &[], &t.transfer_duration);
    let n = "zonecast_notify_to_served_seconds";
    e.family(
        n,
        Kind::Histogram,
        "From a NOTIFY's arrival to the version it announced being served.",
    );
    e.histogram(n, &[], &t.notify_to_served);
}

fn zones(e: &mut Exposition, p: &PageInputs) {
    let now_s = p.now_ms / 1000;
    let (mut served, mut expired, mut not_loaded) = (0u64, 0u64, 0u64);
    for z in p.zones.iter() {
        if !z.is_loaded() {
            not_loaded += 1;
        } else if z.is_expired(now_s) {
            expired += 1;
        } else {
            served += 1;
        }
    }
    let n = "zonecast_zones";
    e.family(
        n,
        Kind::Gauge,
        "Zones configured, by state: served, expired (SERVFAIL until a refresh succeeds), not loaded yet.",
    );
    e.sample(n, &[("state", "served")], served as f64);
    e.sample(n, &[("state", "expired")], expired as f64);
    e.sample(n, &[("state", "not_loaded")], not_loaded as f64);
    if p.zones.len() > p.zone_series_max {
        return;
    }
    let mut names: Vec<(String, &std::sync::Arc<crate::zone::Zone>)> =
        p.zones.iter().map(|z| (z.apex.to_string(), z)).collect();
    names.sort_by(|a, b| a.0.cmp(&b.0));
    let n = "zonecast_zone_serial";
    e.family(
        n,
        Kind::Gauge,
        "The serial of the version served, per zone.",
    );
    for (name, z) in &names {
        if let Some(s) = z.snapshot().as_ref() {
            e.sample(n, &[("zone", name)], s.serial() as f64);
        }
    }
    let n = "zonecast_zone_expire_seconds";
    e.family(
        n,
        Kind::Gauge,
        "Seconds until a secondary zone's copy expires without a successful refresh (negative: expired).",
    );
    for (name, z) in &names {
        if let Some(at) = z.expires_at().filter(|_| z.is_loaded()) {
            e.sample(n, &[("zone", name)], at as f64 - now_s as f64);
        }
    }
    let n = "zonecast_zone_refresh_age_seconds";
    e.family(
        n,
        Kind::Gauge,
        "Seconds since a secondary zone's last successful refresh (absent before the first since start).",
    );
    let mut ages: Vec<(String, u64)> = p
        .reports
        .unwrap_or_default()
        .iter()
        .filter_map(|r| {
            let at = r.refreshed_at?;
            Some((r.apex.to_string(), p.now_ms.saturating_sub(at) / 1000))
        })
        .collect();
    ages.sort();
    for (name, age) in &ages {
        e.sample(n, &[("zone", name)], *age as f64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answer::Protocol;
    use crate::metrics::TransferMetrics;
    use crate::wire::Name;
    use crate::zone::Zone;

    fn page(zone_series_max: usize) -> String {
        let m = Metrics::new(2, std::sync::Arc::new(TransferMetrics::default()));
        m.workers[0].query(Protocol::Udp);
        m.workers[1].query(Protocol::Udp);
        m.workers[1].query(Protocol::Tcp);
        let zones = ZoneSet::new(["a.test.", "b.test."].map(|a| {
            let apex = crate::wire::name::parse_name_text(a, Some(&Name::root())).unwrap();
            Zone::new(apex, None, None, None)
        }));
        render(
            &m,
            &PageInputs {
                zones: &zones,
                reports: None,
                zone_series_max,
                started_unix: 1,
                now_ms: 1000,
            },
        )
    }

    #[test]
    fn sums_the_workers_and_caps_the_per_zone_series() {
        let p = page(2);
        assert!(
            p.contains("zonecast_queries_total{transport=\"udp\"} 2\n"),
            "{p}"
        );
        assert!(
            p.contains("zonecast_queries_total{transport=\"tcp\"} 1\n"),
            "{p}"
        );
        assert!(
            p.contains("zonecast_zones{state=\"not_loaded\"} 2\n"),
            "{p}"
        );
        assert!(p.contains("# TYPE zonecast_zone_serial gauge\n"), "{p}");
        let p = page(1);
        assert!(!p.contains("zonecast_zone_"), "{p}");
        assert!(
            p.contains("zonecast_zones{state=\"not_loaded\"} 2\n"),
            "{p}"
        );
    }
}
