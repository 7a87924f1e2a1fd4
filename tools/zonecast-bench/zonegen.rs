//! A realistic zone of a given size, and a dnsperf query file with a
//! realistic mix of answers.

use std::fmt::Write as _;

/// The zone every server in the bench serves.
pub const APEX: &str = "bench.test.";

/// A small, fast, reproducible generator (xorshift).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// What name `i` of the zone is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    /// A and, for even `i`, AAAA; MX and TXT every tenth.
    Host,
    /// CNAME to a host.
    Alias,
    /// A delegation with two in-domain name servers and their glue.
    Delegation,
    /// TXT only.
    Text,
}

pub fn kind(i: usize) -> Kind {
    match i % 100 {
        0..=79 => Kind::Host,
        80..=89 => Kind::Alias,
        90..=94 => Kind::Delegation,
        _ => Kind::Text,
    }
}

/// The nearest host at or below `i`.
fn host_near(i: usize) -> usize {
    let base = i - i % 100;
    base + (i % 100).min(79)
}

fn ip(i: usize) -> String {
    format!("10.{}.{}.{}", (i >> 16) & 255, (i >> 8) & 255, i & 255)
}

/// Zone-file text with about `names` names; returns (text, records).
pub fn zone(names: usize) -> (String, usize) {
    let mut z = String::with_capacity(names * 48);
    let mut records = 9;
    z.push_str(
        "$ORIGIN bench.test.\n$TTL 3600\n\
         @ SOA ns1 hostmaster 2026112501 3600 600 86400 300\n\
         @ NS ns1\n@ NS ns2\n@ MX 10 mail\n\
         ns1 A 192.0.2.1\nns2 A 192.0.2.2\nmail A 192.0.2.25\n\
         *.wild A 192.0.2.99\n*.wild TXT \"wildcard\"\n",
    );
    for i in 0..names {
        match kind(i) {
            Kind::Host => {
                let _ = writeln!(z, "h{i} A {}", ip(i));
                records += 1;
                if i % 2 == 0 {
                    let _ = writeln!(z, "h{i} AAAA 2001:db8::{:x}:{:x}", i >> 16, i & 0xffff);
                    records += 1;
                }
                if i % 10 == 0 {
                    let _ = writeln!(z, "h{i} MX 10 mail\nh{i} TXT \"v=spf1 mx -all\"");
                    records += 2;
                }
            }
            Kind::Alias => {
                let _ = writeln!(z, "c{i} CNAME h{}", host_near(i));
                records += 1;
            }
            Kind::Delegation => {
                let _ = writeln!(
                    z,
                    "d{i} NS ns1.d{i}\nd{i} NS ns2.d{i}\nns1.d{i} A {}\nns2.d{i} A {}",
                    ip(i),
                    ip(i + 1)
                );
                records += 4;
            }
            Kind::Text => {
                let _ = writeln!(z, "t{i} TXT \"text record {i}\"");
                records += 1;
            }
        }
    }
    (z, records)
}

/// A dnsperf query file of `count` lines for a zone of `names` names:
/// about 70% positive answers, 10% NXDOMAIN, 5% NODATA, 5% wildcard, 5%
/// referrals and 5% CNAME/MX/TXT.
pub fn queries(names: usize, count: usize, seed: u64) -> String {
    let mut rng = Rng::new(seed);
    let mut q = String::with_capacity(count * 28);
    let pick = |rng: &mut Rng, want: Kind| -> usize {
        loop {
            let i = rng.below(names as u64) as usize;
            if kind(i) == want {
                return i;
            }
        }
    };
    for _ in 0..count {
        let r = rng.below(100);
        match r {
            // Positive: A of hosts, AAAA of even hosts, TXT-only names.
            0..=49 => {
                let i = pick(&mut rng, Kind::Host);
                let _ = writeln!(q, "h{i}.bench.test A");
            }
            50..=64 => {
                let i = pick(&mut rng, Kind::Host) & !1;
                let _ = writeln!(q, "h{i}.bench.test AAAA");
            }
            65..=69 => {
                let i = pick(&mut rng, Kind::Text);
                let _ = writeln!(q, "t{i}.bench.test TXT");
            }
            // NXDOMAIN.
            70..=79 => {
                let _ = writeln!(q, "nx{}.bench.test A", rng.below(1 << 30));
            }
            // NODATA: MX of a host that has none.
            80..=84 => {
                let mut i = pick(&mut rng, Kind::Host);
                if i % 10 == 0 {
                    i += 1;
                }
                let _ = writeln!(q, "h{i}.bench.test MX");
            }
            // Wildcard.
            85..=89 => {
                let _ = writeln!(q, "w{}.wild.bench.test A", rng.below(1 << 30));
            }
            // Referral.
            90..=94 => {
                let i = pick(&mut rng, Kind::Delegation);
                let _ = writeln!(q, "www.d{i}.bench.test A");
            }
            // CNAME, MX, TXT.
            95..=96 => {
                let i = pick(&mut rng, Kind::Alias);
                let _ = writeln!(q, "c{i}.bench.test A");
            }
            97..=98 => {
                let i = pick(&mut rng, Kind::Host) / 10 * 10;
                let _ = writeln!(q, "h{i}.bench.test MX");
            }
            _ => {
                let i = pick(&mut rng, Kind::Host) / 10 * 10;
                let _ = writeln!(q, "h{i}.bench.test TXT");
            }
        }
    }
    q
}
