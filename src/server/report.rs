//! Events a worker reports to the operator without a log line each:
//! queries dropped without an answer (malformed, responses, truncated
//! datagrams), and NOTIFYs and transfer requests refused from strangers.
//! Each kind is reported at most once per interval, with its count and
//! the latest source: a flood must not become a flood of log lines.

use std::net::IpAddr;
use std::time::{Duration, Instant};

/// The shortest time between two reports of one worker.
pub const REPORT_EVERY: Duration = Duration::from_secs(10);

pub struct EventReport {
    worker: usize,
    /// What is counted, as the log line says it ("dropped ... packets").
    what: &'static str,
    count: u64,
    latest: Option<IpAddr>,
    /// No report before this; the first drop is reported at once.
    quiet_until: Option<Instant>,
}

impl EventReport {
    pub fn new(worker: usize, what: &'static str) -> Self {
        EventReport {
            worker,
            what,
            count: 0,
            latest: None,
            quiet_until: None,
        }
    }

    /// Counts one event: no I/O, no allocation.
    #[inline]
    pub fn record(&mut self, source: IpAddr) {
        self.count += 1;
        self.latest = Some(source);
    }

    /// Logs what was counted since the last report, if the interval has
    /// passed. Returns whether it logged.
    pub fn report(&mut self, now: Instant) -> bool {
        if self.count == 0 || self.quiet_until.is_some_and(|t| now < t) {
            return false;
        }
        let latest = self
            .latest
            .map_or_else(String::new, |a| format!(", latest from {a}"));
        tracing::warn!(
            "worker {}: {} {}{latest} (reported at most every {} s)",
            self.worker,
            self.what,
            self.count,
            REPORT_EVERY.as_secs()
        );
        self.count = 0;
        self.quiet_until = Some(now + REPORT_EVERY);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_the_first_at_once_then_at_most_once_per_interval() {
        let t0 = Instant::now();
        let mut d = EventReport::new(0, "dropped packets:");
        assert!(!d.report(t0), "nothing to report");
        let src: IpAddr = "192.0.2.1".parse().unwrap();
        d.record(src);
        assert!(d.report(t0));
        for _ in 0..10_000 {
            d.record(src);
            assert!(!d.report(t0 + Duration::from_secs(1)));
        }
        assert_eq!(d.count, 10_000, "counted while quiet");
        assert!(d.report(t0 + REPORT_EVERY));
        assert_eq!(d.count, 0);
        assert!(!d.report(t0 + REPORT_EVERY * 3), "nothing new");
    }
}
