//! Response rate limiting, the BIND and NSD model: a token bucket per
//! client prefix (IPv4 /24, IPv6 /56 by default) and kind of answer
//! (positive answers and NODATA per name and type, NXDOMAIN per zone,
//! referrals per cut, wildcard answers per wildcard and type, errors), each
//! filled at `responses_per_second`. An answer over its bucket's limit is
//! dropped, or every `slip`th one sent as an empty truncated answer so a
//! real client behind a spoofed flood retries over TCP. TCP answers and
//! queries with a valid server cookie are not limited: their source
//! address is proven.
//!
//! The buckets live in one fixed table of 64-bit words shared by the
//! workers and updated by compare-and-swap: no lock, no allocation, and
//! the same limit whichever worker a packet reaches. A word holds a tag
//! of its key, the second it was last touched, and the tokens left; two
//! keys that meet in one word take it from each other (a fresh bucket:
//! never a false limit that lasts).

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::answer::{AnswerClass, QueryFacts};

/// `[rrl]`, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RrlConfig {
    pub responses_per_second: u32,
    /// Every `slip`th limited answer goes out truncated; 0: none does.
    pub slip: u32,
    pub ipv4_prefix: u8,
    pub ipv6_prefix: u8,
    /// Buckets in the table (a power of two).
    pub table_size: usize,
    /// Count and log what would be limited, limit nothing.
    pub log_only: bool,
}

impl Default for RrlConfig {
    fn default() -> Self {
        RrlConfig {
            responses_per_second: 20,
            slip: 2,
            ipv4_prefix: 24,
            ipv6_prefix: 56,
            table_size: 1 << 16,
            log_only: false,
        }
    }
}

/// What to do with one answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Send,
    /// Over the limit in log-only mode: sent, and counted.
    SendLogged,
    /// Over the limit: an empty answer with TC set instead.
    Slip,
    Drop,
}

const TAG_BITS: u32 = 24;
const SECOND_BITS: u32 = 16;
const TOKEN_BITS: u32 = 24;
const TOKEN_MAX: u64 = (1 << TOKEN_BITS) - 1;

fn pack(tag: u64, second: u64, tokens: u64) -> u64 {
    (tag << (SECOND_BITS + TOKEN_BITS))
        | ((second & ((1 << SECOND_BITS) - 1)) << TOKEN_BITS)
        | tokens.min(TOKEN_MAX)
}

fn unpack(word: u64) -> (u64, u64, u64) {
    (
        word >> (SECOND_BITS + TOKEN_BITS),
        (word >> TOKEN_BITS) & ((1 << SECOND_BITS) - 1),
        word & TOKEN_MAX,
    )
}

/// The limiter shared by every worker.
pub struct RateLimiter {
    config: RrlConfig,
    table: Box<[AtomicU64]>,
    /// Mixed into every key, so that nobody outside can aim two keys at
    /// one bucket.
    seed: u64,
}

impl core::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RateLimiter")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// A 64-bit mix (the finalizer of SplitMix64): every input bit moves
/// every output bit.
fn mix(mut x: u64) -> u64 {
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

impl RateLimiter {
    /// `seed` should be unpredictable (drawn at start).
    pub fn new(mut config: RrlConfig, seed: u64) -> Self {
        config.table_size = config
            .table_size
            .clamp(1 << 10, 1 << 26)
            .next_power_of_two();
        config.responses_per_second = config.responses_per_second.clamp(1, TOKEN_MAX as u32);
        let table = (0..config.table_size).map(|_| AtomicU64::new(0)).collect();
        RateLimiter {
            config,
            table,
            seed,
        }
    }

    pub fn config(&self) -> &RrlConfig {
        &self.config
    }

    /// The client's prefix, as one number (with the family).
    fn prefix(&self, ip: IpAddr) -> u64 {
        match ip {
            IpAddr::V4(a) => {
                let bits = u32::from(a);
                let keep = self.config.ipv4_prefix.min(32) as u32;
                let masked = if keep == 0 {
                    0
                } else {
                    bits & (u32::MAX << (32 - keep))
                };
                u64::from(masked) | (4 << 56)
            }
            IpAddr::V6(a) => {
                let bits = u128::from(a);
                let keep = self.config.ipv6_prefix.min(128) as u32;
                let masked = if keep == 0 {
                    0
                } else {
                    bits & (u128::MAX << (128 - keep))
                };
                // A /64 or shorter fits; longer prefixes fold the rest in.
                mix((masked >> 64) as u64) ^ (masked as u64) ^ (6 << 56)
            }
        }
    }

    /// The key of an answer: prefix, kind, and the name (and for positive
    /// answers the type) the kind is about.
    fn key(&self, source: IpAddr, f: &QueryFacts) -> u64 {
        let class = f.class as u64;
        let name = match f.class {
            AnswerClass::Error => 0,
            _ => f.name_hash,
        };
        let qtype = match f.class {
            AnswerClass::Positive | AnswerClass::NoData | AnswerClass::Wildcard => f.qtype as u64,
            _ => 0,
        };
        mix(mix(self.prefix(source) ^ self.seed) ^ name ^ (class << 16 | qtype))
    }

    /// Takes a token for the answer described by `f` to `source` at Unix
    /// second `now`; `false` when its bucket is empty. (Never inlined:
    /// `tools/callgrind` counts it by name.)
    #[inline(never)]
    pub fn take(&self, source: IpAddr, f: &QueryFacts, now: u64) -> bool {
        let key = self.key(source, f);
        let slot = &self.table[(key as usize) & (self.table.len() - 1)];
        let tag = key >> (64 - TAG_BITS);
        let rate = self.config.responses_per_second as u64;
        let second = now & ((1 << SECOND_BITS) - 1);
        let mut cur = slot.load(Ordering::Relaxed);
        loop {
            let (t, last, tokens) = unpack(cur);
            let available = if cur == 0 || t != tag {
                rate
            } else {
                // Seconds since the bucket was last touched, modulo the
                // field: a bucket idle for 18 hours looks younger, and is
                // at worst refilled less (never more) than it should be.
                let idle = second.wrapping_sub(last) & ((1 << SECOND_BITS) - 1);
                (tokens + idle * rate).min(rate)
            };
            let (ok, left) = if available > 0 {
                (true, available - 1)
            } else {
                (false, 0)
            };
            let next = pack(tag, second, left);
            if next == cur {
                return ok;
            }
            match slot.compare_exchange_weak(cur, next, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => return ok,
                Err(now_there) => cur = now_there,
            }
        }
    }

    /// What to do with an answer over UDP. `limited_so_far` is the
    /// worker's count of limited answers (for the slip).
    pub fn decide(
        &self,
        source: IpAddr,
        f: &QueryFacts,
        now: u64,
        limited_so_far: &mut u64,
    ) -> Decision {
        if f.cookie == crate::answer::cookie::CookieStatus::Valid || self.take(source, f, now) {
            return Decision::Send;
        }
        if self.config.log_only {
            return Decision::SendLogged;
        }
        *limited_so_far = limited_so_far.wrapping_add(1);
        match self.config.slip {
            0 => Decision::Drop,
            n if (*limited_so_far).is_multiple_of(n as u64) => Decision::Slip,
            _ => Decision::Drop,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answer::cookie::CookieStatus;
    use crate::wire::iana::rtype;

    fn facts(class: AnswerClass, name_hash: u64, qtype: u16) -> QueryFacts {
        QueryFacts {
            qtype,
            class,
            name_hash,
            ..QueryFacts::default()
        }
    }

    fn limiter(rate: u32, slip: u32) -> RateLimiter {
        RateLimiter::new(
            RrlConfig {
                responses_per_second: rate,
                slip,
                ..RrlConfig::default()
            },
            42,
        )
    }

    #[test]
    fn a_bucket_gives_its_rate_per_second_and_refills() {
        let l = limiter(5, 2);
        let a: IpAddr = "192.0.2.7".parse().unwrap();
        let f = facts(AnswerClass::Positive, 1, rtype::A);
        let t = 1_800_000_000;
        let ok: Vec<bool> = (0..8).map(|_| l.take(a, &f, t)).collect();
        assert_eq!(ok, [true, true, true, true, true, false, false, false]);
        // The same /24: the same bucket.
        let b: IpAddr = "192.0.2.200".parse().unwrap();
        assert!(!l.take(b, &f, t));
        // Another /24, another type, another name, another kind: others.
        assert!(l.take("192.0.3.7".parse().unwrap(), &f, t));
        assert!(l.take(a, &facts(AnswerClass::Positive, 1, rtype::AAAA), t));
        assert!(l.take(a, &facts(AnswerClass::Positive, 2, rtype::A), t));
        assert!(l.take(a, &facts(AnswerClass::NoData, 1, rtype::A), t));
        // A second later, five more; never more than five at once.
        let ok: Vec<bool> = (0..6).map(|_| l.take(a, &f, t + 1)).collect();
        assert_eq!(ok, [true, true, true, true, true, false]);
        let ok: Vec<bool> = (0..6).map(|_| l.take(a, &f, t + 60)).collect();
        assert_eq!(ok, [true, true, true, true, true, false]);
    }

    #[test]
    fn nxdomain_is_one_bucket_per_zone_and_errors_one_per_client() {
        let l = limiter(3, 2);
        let a: IpAddr = "2001:db8:1:2:3::1".parse().unwrap();
        // Random names of one zone (the hash of the apex in every one).
        let ok: Vec<bool> = (0..5)
            .map(|i| l.take(a, &facts(AnswerClass::NxDomain, 77, i), 0))
            .collect();
        assert_eq!(ok, [true, true, true, false, false]);
        let ok: Vec<bool> = (0..5)
            .map(|i| l.take(a, &facts(AnswerClass::Error, i, 1), 0))
            .collect();
        assert_eq!(ok, [true, true, true, false, false]);
        // The same /56.
        let b: IpAddr = "2001:db8:1:ff:ffff::9".parse().unwrap();
        assert!(!l.take(b, &facts(AnswerClass::Error, 9, 1), 0));
        let c: IpAddr = "2001:db8:1:100::1".parse().unwrap();
        assert!(l.take(c, &facts(AnswerClass::Error, 9, 1), 0));
    }

    #[test]
    fn every_slipth_limited_answer_slips_the_rest_drop() {
        let l = limiter(1, 3);
        let a: IpAddr = "198.18.0.1".parse().unwrap();
        let f = facts(AnswerClass::Positive, 5, rtype::A);
        let mut n = 0;
        let got: Vec<Decision> = (0..7).map(|_| l.decide(a, &f, 10, &mut n)).collect();
        use Decision::*;
        assert_eq!(got, [Send, Drop, Drop, Slip, Drop, Drop, Slip]);
        // A valid server cookie is never limited.
        let mut cookie = f;
        cookie.cookie = CookieStatus::Valid;
        assert_eq!(l.decide(a, &cookie, 10, &mut n), Send);
        // Slip 0 drops all; log-only sends all.
        let l0 = limiter(1, 0);
        let got: Vec<Decision> = (0..3).map(|_| l0.decide(a, &f, 10, &mut n)).collect();
        assert_eq!(got, [Send, Drop, Drop]);
        let c = RrlConfig {
            responses_per_second: 1,
            log_only: true,
            ..RrlConfig::default()
        };
        let lo = RateLimiter::new(c, 1);
        let got: Vec<Decision> = (0..3).map(|_| lo.decide(a, &f, 10, &mut n)).collect();
        assert_eq!(got, [Send, SendLogged, SendLogged]);
    }

    #[test]
    fn workers_share_the_buckets() {
        let l = std::sync::Arc::new(limiter(1000, 2));
        let f = facts(AnswerClass::Positive, 9, rtype::A);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let sent: usize = (0..4)
            .map(|_| {
                let l = std::sync::Arc::clone(&l);
                std::thread::spawn(move || (0..1000).filter(|_| l.take(a, &f, 5)).count())
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|t| t.join().unwrap())
            .sum();
        assert_eq!(
            sent, 1000,
            "exactly the rate over all threads in one second"
        );
    }
}
