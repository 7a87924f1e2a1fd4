//! Each secondary zone's clock, sans I/O: when to refresh next, when the
//! data expires, how failures back off and how NOTIFY cuts in. Times are
//! Unix milliseconds passed in by the caller.

use crate::wire::Name;
use crate::wire::name::hash_name;

/// Bounds on the SOA timers and their spread, from the configuration.
#[derive(Debug, Clone)]
pub struct TimerPolicy {
    pub refresh_min_s: u32,
    pub refresh_max_s: u32,
    pub retry_min_s: u32,
    pub retry_max_s: u32,
    pub expire_min_s: u32,
    pub expire_max_s: u32,
    /// Refreshes come up to this fraction of REFRESH early, by a fixed
    /// amount per zone, so many zones with the same SOA do not refresh at
    /// the same moment.
    pub jitter: f64,
    /// At most one NOTIFY-triggered refresh per zone this often.
    pub notify_min_interval_ms: u64,
}

impl Default for TimerPolicy {
    /// Knot DNS's defaults: REFRESH at least 2 s, RETRY 1 s, EXPIRE 3 s.
    fn default() -> Self {
        TimerPolicy {
            refresh_min_s: 2,
            refresh_max_s: u32::MAX,
            retry_min_s: 1,
            retry_max_s: u32::MAX,
            expire_min_s: 3,
            expire_max_s: u32::MAX,
            jitter: 0.1,
            notify_min_interval_ms: 1000,
        }
    }
}

/// REFRESH, RETRY and EXPIRE of an SOA, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SoaTimers {
    pub refresh: u32,
    pub retry: u32,
    pub expire: u32,
}

impl SoaTimers {
    /// The timers of a version's SOA.
    pub fn of(s: &crate::zone::Snapshot) -> SoaTimers {
        SoaTimers {
            refresh: s.soa_field(1),
            retry: s.soa_field(2),
            expire: s.soa_field(3),
        }
    }
}

impl TimerPolicy {
    /// The SOA timers after the configured clamps.
    pub fn clamp(&self, t: SoaTimers) -> SoaTimers {
        SoaTimers {
            refresh: t.refresh.clamp(
                self.refresh_min_s,
                self.refresh_max_s.max(self.refresh_min_s),
            ),
            retry: t
                .retry
                .clamp(self.retry_min_s, self.retry_max_s.max(self.retry_min_s)),
            expire: t
                .expire
                .clamp(self.expire_min_s, self.expire_max_s.max(self.expire_min_s)),
        }
    }
}

/// Retry delays before the first copy of a zone: 2 s doubling to 5 min.
const BOOTSTRAP_FIRST_MS: u64 = 2_000;
const BOOTSTRAP_MAX_MS: u64 = 300_000;
/// Retries back off up to this multiple of RETRY.
const MAX_BACKOFF: u64 = 8;

/// What to do about a NOTIFY.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotifyAction {
    /// The serial it announces is not newer than ours (RFC 1996 §4.7).
    Skip,
    /// Refresh now.
    RefreshNow,
    /// Refresh at this time (rate limit), or after the running refresh.
    RefreshAt(u64),
}

#[derive(Debug, Clone)]
/// Held for every zone (32 octets): the clamps and the jitter, the same
/// for all, are the machine's [`TimerPolicy`], passed in.
pub struct ZoneTimers {
    /// This zone's share of the jitter, in [0, 1).
    /// 32 bits are plenty for a share of a refresh interval, and pack
    /// with `failures`.
    spread: f32,
    pub next_refresh: u64,
    /// When the data stops being served; `u64::MAX` before the first
    /// copy ([`ZoneTimers::expires_at`]).
    expires_at: u64,
    failures: u32,
    /// When the last refresh a NOTIFY asked for was due; `u64::MAX` for
    /// none (8 octets, not the 16 of an `Option`, in a state per zone).
    last_notify_refresh: u64,
}

impl ZoneTimers {
    /// Refreshes failed in a row.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    pub fn new(zone: &Name, now: u64) -> Self {
        let spread = (hash_name(zone.to_lowercase().as_wire()) >> 40) as f32 / (1u64 << 24) as f32;
        ZoneTimers {
            spread,
            next_refresh: now,
            expires_at: u64::MAX,
            failures: 0,
            last_notify_refresh: u64::MAX,
        }
    }

    /// When the data stops being served; `None` before the first copy.
    pub fn expires_at(&self) -> Option<u64> {
        (self.expires_at != u64::MAX).then_some(self.expires_at)
    }

    pub fn is_due(&self, now: u64) -> bool {
        now >= self.next_refresh
    }

    pub fn is_expired(&self, now: u64) -> bool {
        self.expires_at().is_some_and(|e| now >= e)
    }

    /// A copy was read from disk, expiring at `expires_at` and last
    /// confirmed by a primary at `refreshed_at` when its timers were kept:
    /// serve it now, and refresh it when it is due, as if the server had
    /// not stopped (Knot keeps its timers across restarts the same way),
    /// so a restarted node does not query every primary at once. A copy
    /// with no timers kept, or expired, is refreshed at once.
    pub fn on_loaded(
        &mut self,
        policy: &TimerPolicy,
        now: u64,
        expires_at: u64,
        refreshed_at: Option<u64>,
        soa: SoaTimers,
    ) {
        self.expires_at = expires_at.min(u64::MAX - 1);
        self.next_refresh = match refreshed_at {
            Some(at) if now < expires_at => self.due_after(policy, at, soa).max(now),
            _ => now,
        };
    }

    /// When a copy confirmed at `at` is due for its next refresh: REFRESH
    /// later, up to the zone's share of the jitter early.
    fn due_after(&self, policy: &TimerPolicy, at: u64, soa: SoaTimers) -> u64 {
        let refresh_ms = policy.clamp(soa).refresh as u64 * 1000;
        let early =
            (refresh_ms as f64 * policy.jitter.clamp(0.0, 0.5) * f64::from(self.spread)) as u64;
        at + refresh_ms - early
    }

    /// The primary confirmed our serial or gave a new version.
    pub fn on_refreshed(&mut self, policy: &TimerPolicy, now: u64, soa: SoaTimers) {
        let t = policy.clamp(soa);
        self.next_refresh = self.due_after(policy, now, soa);
        // RFC 1034 §4.3.5: a successful refresh restarts the expire timer.
        self.expires_at = (now + t.expire as u64 * 1000).min(u64::MAX - 1);
        self.failures = 0;
    }

    /// Every primary failed. `soa` is `None` before the first copy.
    pub fn on_failed(&mut self, policy: &TimerPolicy, now: u64, soa: Option<SoaTimers>) {
        self.failures = self.failures.saturating_add(1);
        let doubling = 1u64 << (self.failures - 1).min(16);
        let delay = match soa {
            Some(s) => {
                let t = policy.clamp(s);
                let retry = t.retry as u64 * 1000;
                (retry * doubling.min(MAX_BACKOFF)).min((t.refresh as u64 * 1000).max(retry))
            }
            None => (BOOTSTRAP_FIRST_MS * doubling).min(BOOTSTRAP_MAX_MS),
        };
        self.next_refresh = now + delay;
    }

    /// A NOTIFY arrived announcing `serial`, while we hold `ours` and a
    /// refresh is (or is not) running.
    pub fn on_notify(
        &mut self,
        policy: &TimerPolicy,
        now: u64,
        serial: Option<u32>,
        ours: Option<u32>,
        running: bool,
    ) -> NotifyAction {
        if let (Some(s), Some(o)) = (serial, ours)
            && !crate::wire::serial::Serial(s).is_newer_than(crate::wire::serial::Serial(o))
        {
            return NotifyAction::Skip;
        }
        let earliest = match self.last_notify_refresh {
            u64::MAX => now,
            // A refresh a NOTIFY scheduled is still to come: this one joins
            // it, rather than pushing it (or the next) further out.
            t if t >= now => t,
            t => t.saturating_add(policy.notify_min_interval_ms).max(now),
        };
        // NOTIFY cuts a retry back-off short (and resets it).
        self.failures = 0;
        self.next_refresh = self.next_refresh.min(earliest);
        self.last_notify_refresh = earliest.min(u64::MAX - 1);
        if running || earliest > now {
            NotifyAction::RefreshAt(earliest)
        } else {
            NotifyAction::RefreshNow
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::name::parse_name_text;

    fn timers(zone: &str) -> ZoneTimers {
        ZoneTimers::new(&parse_name_text(zone, None).unwrap(), 0)
    }

    static P: std::sync::LazyLock<TimerPolicy> = std::sync::LazyLock::new(TimerPolicy::default);

    const SOA: SoaTimers = SoaTimers {
        refresh: 3600,
        retry: 600,
        expire: 86400,
    };

    #[test]
    fn refresh_and_expire_after_success() {
        let mut t = timers("example.com.");
        t.on_refreshed(&P, 1_000, SOA);
        assert_eq!(t.expires_at(), Some(1_000 + 86_400_000));
        let early = 1_000 + 3_600_000 - t.next_refresh;
        assert!(early <= 360_000, "jitter at most 10% of REFRESH: {early}");
        assert!(!t.is_due(t.next_refresh - 1) && t.is_due(t.next_refresh));
        assert!(t.is_expired(1_000 + 86_400_000));
    }

    #[test]
    fn jitter_spreads_zones_deterministically() {
        let mut a = timers("a.example.");
        let mut a2 = timers("a.example.");
        let mut b = timers("b.example.");
        for t in [&mut a, &mut a2, &mut b] {
            t.on_refreshed(&P, 0, SOA);
        }
        assert_eq!(a.next_refresh, a2.next_refresh);
        assert_ne!(a.next_refresh, b.next_refresh);
    }

    #[test]
    fn failures_back_off_and_notify_cuts_in() {
        let mut t = timers("example.com.");
        t.on_failed(&P, 0, Some(SOA));
        assert_eq!(t.next_refresh, 600_000);
        t.on_failed(&P, 0, Some(SOA));
        assert_eq!(t.next_refresh, 1_200_000);
        for _ in 0..10 {
            t.on_failed(&P, 0, Some(SOA));
        }
        assert_eq!(t.next_refresh, 3_600_000, "never beyond REFRESH");
        assert_eq!(
            t.on_notify(&P, 5_000, Some(9), Some(8), false),
            NotifyAction::RefreshNow
        );
        assert_eq!(t.next_refresh, 5_000);
        // Rate limit: a second NOTIFY within a second waits.
        assert_eq!(
            t.on_notify(&P, 5_200, Some(10), Some(8), false),
            NotifyAction::RefreshAt(6_000)
        );
        // Not newer than ours: skipped.
        assert_eq!(
            t.on_notify(&P, 9_000, Some(8), Some(8), false),
            NotifyAction::Skip
        );
        assert_eq!(
            t.on_notify(&P, 9_000, Some(7), Some(8), false),
            NotifyAction::Skip
        );
        // No serial in the NOTIFY, or none held: refresh.
        assert_eq!(
            t.on_notify(&P, 20_000, None, Some(8), true),
            NotifyAction::RefreshAt(20_000)
        );
    }

    /// NOTIFYs in a burst (a primary publishing several versions in a
    /// row) share the one refresh the rate limit allows, and do not push
    /// the next one further out each time.
    #[test]
    fn a_burst_of_notifies_shares_one_refresh() {
        let mut t = timers("example.com.");
        t.on_refreshed(&P, 0, SOA);
        assert_eq!(
            t.on_notify(&P, 10_000, Some(2), Some(1), false),
            NotifyAction::RefreshNow
        );
        for (at, serial) in [(10_010, 3), (10_020, 4), (10_030, 5)] {
            assert_eq!(
                t.on_notify(&P, at, Some(serial), Some(2), true),
                NotifyAction::RefreshAt(11_000),
                "serial {serial}"
            );
        }
        // After that refresh, the next NOTIFY waits one interval from it.
        assert_eq!(
            t.on_notify(&P, 11_050, Some(6), Some(5), false),
            NotifyAction::RefreshAt(12_000)
        );
    }

    #[test]
    fn bootstrap_retries_double_to_five_minutes() {
        let mut t = timers("example.com.");
        t.on_failed(&P, 0, None);
        assert_eq!(t.next_refresh, 2_000);
        t.on_failed(&P, 0, None);
        assert_eq!(t.next_refresh, 4_000);
        for _ in 0..20 {
            t.on_failed(&P, 0, None);
        }
        assert_eq!(t.next_refresh, 300_000);
    }

    #[test]
    fn a_copy_from_disk_refreshes_when_due_not_at_once() {
        let mut t = timers("example.com.");
        // Confirmed 10 minutes before the restart: due 50 minutes after it
        // (less the jitter), not now.
        t.on_loaded(&P, 1_000_000, 90_000_000, Some(400_000), SOA);
        assert!(t.next_refresh <= 400_000 + 3_600_000);
        assert!(t.next_refresh >= 400_000 + 3_600_000 * 9 / 10);
        // Overdue: now. No timers kept, or expired: now.
        t.on_loaded(&P, 10_000_000, 90_000_000, Some(400_000), SOA);
        assert_eq!(t.next_refresh, 10_000_000);
        t.on_loaded(&P, 1_000_000, 90_000_000, None, SOA);
        assert_eq!(t.next_refresh, 1_000_000);
        t.on_loaded(&P, 1_000_000, 900_000, Some(400_000), SOA);
        assert_eq!(t.next_refresh, 1_000_000);
        assert!(t.is_expired(1_000_000));
    }

    #[test]
    fn clamps_apply() {
        let c = P.clamp(SoaTimers {
            refresh: 0,
            retry: 0,
            expire: 1,
        });
        assert_eq!((c.refresh, c.retry, c.expire), (2, 1, 3));
    }
}
