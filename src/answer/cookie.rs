//! DNS cookies (RFC 7873) with interoperable server cookies (RFC 9018):
//! every node that shares the secret makes and accepts the same cookies,
//! so a client moved to another anycast node keeps its cookie valid.
//!
//! A server cookie is 16 octets: version 1, three reserved zero octets,
//! a 32-bit Unix timestamp, and the SipHash-2-4 (keyed with the secret)
//! of client cookie, version, reserved, timestamp and the client's
//! address (RFC 9018 §4.2).

use std::hash::Hasher;
use std::net::IpAddr;

use siphasher::sip::SipHasher24;

use crate::wire::serial::Serial;

/// RFC 9018 §4.1.
const VERSION: u8 = 1;
pub const SERVER_COOKIE_LEN: usize = 16;
/// RFC 9018 §4.3: a cookie from more than an hour ago, or more than five
/// minutes ahead (clocks of nodes differ), is not valid; one older than
/// half an hour is replaced by a fresh one.
const MAX_AGE_S: u32 = 3600;
const MAX_AHEAD_S: u32 = 300;
const REFRESH_AFTER_S: u32 = 1800;

/// A SipHash key. Its `Debug` never shows it: the secret must stay out of
/// logs.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct CookieSecret([u8; 16]);

impl core::fmt::Debug for CookieSecret {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("CookieSecret(..)")
    }
}

impl CookieSecret {
    pub fn new(key: [u8; 16]) -> Self {
        CookieSecret(key)
    }

    /// 32 hexadecimal digits (what `openssl rand -hex 16` prints, and
    /// Knot's `secret: 0x...` without the prefix).
    pub fn from_hex(text: &str) -> Option<Self> {
        let t = text.strip_prefix("0x").unwrap_or(text);
        if t.len() != 32 || !t.is_ascii() {
            return None;
        }
        let mut key = [0u8; 16];
        for (i, k) in key.iter_mut().enumerate() {
            *k = u8::from_str_radix(&t[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(CookieSecret(key))
    }

    /// The hash part of the server cookie for these inputs.
    fn hash(&self, client: &[u8; 8], head: &[u8; 8], ip: IpAddr) -> [u8; 8] {
        let mut h = SipHasher24::new_with_key(&self.0);
        h.write(client);
        h.write(head);
        match ip {
            IpAddr::V4(a) => h.write(&a.octets()),
            IpAddr::V6(a) => h.write(&a.octets()),
        }
        // SipHash's output as octets is little-endian (RFC 9018's
        // examples, and Knot's cookies, read so).
        h.finish().to_le_bytes()
    }
}

/// What the server does with cookies (`[cookies]`).
#[derive(Debug, Clone)]
pub struct CookiePolicy {
    /// Makes the cookies issued, and accepts them.
    pub secret: CookieSecret,
    /// The secret before a rotation: still accepted, never issued (RFC
    /// 9018 §5).
    pub previous: Option<CookieSecret>,
    /// Answer BADCOOKIE over UDP to a query with a client cookie and no
    /// valid server cookie (RFC 7873 §5.2.3, §5.2.4); otherwise it is
    /// answered normally, with a fresh cookie.
    pub badcookie: bool,
}

/// The cookie a query carried, as the request reader saw it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CookieOpt {
    #[default]
    None,
    /// A length other than 8 or 16 to 40 (RFC 7873 §5.2.2).
    Malformed,
    Client([u8; 8]),
    /// A client cookie and a server cookie of the length ours have.
    Both {
        client: [u8; 8],
        server: [u8; SERVER_COOKIE_LEN],
    },
    /// A client cookie and a server cookie of another length (8 to 32):
    /// not one of ours.
    Foreign([u8; 8]),
}

/// What the server made of a query's cookie, for the answer and the
/// counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CookieStatus {
    #[default]
    None,
    Malformed,
    /// Only a client cookie.
    ClientOnly,
    /// A server cookie that is not one of ours, or too old.
    Invalid,
    Valid,
}

impl CookieStatus {
    pub const ALL: [CookieStatus; 5] = [
        CookieStatus::None,
        CookieStatus::Malformed,
        CookieStatus::ClientOnly,
        CookieStatus::Invalid,
        CookieStatus::Valid,
    ];

    pub fn label(self) -> &'static str {
        match self {
            CookieStatus::None => "none",
            CookieStatus::Malformed => "malformed",
            CookieStatus::ClientOnly => "client_only",
            CookieStatus::Invalid => "invalid",
            CookieStatus::Valid => "valid",
        }
    }
}

/// The COOKIE option of a response: the client's cookie and ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResponseCookie {
    pub client: [u8; 8],
    pub server: [u8; SERVER_COOKIE_LEN],
}

/// Makes the server cookie for `client` at `ip`, stamped `now`.
pub fn make(secret: &CookieSecret, client: &[u8; 8], ip: IpAddr, now: u32) -> [u8; 16] {
    let mut c = [0u8; SERVER_COOKIE_LEN];
    c[0] = VERSION;
    c[4..8].copy_from_slice(&now.to_be_bytes());
    let head: [u8; 8] = [c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]];
    c[8..].copy_from_slice(&secret.hash(client, &head, ip));
    c
}

impl CookiePolicy {
    /// Checks a query's cookie; returns its status and the cookie to
    /// answer with (none without a client cookie).
    pub fn check(
        &self,
        opt: &CookieOpt,
        ip: IpAddr,
        now: u64,
    ) -> (CookieStatus, Option<ResponseCookie>) {
        let now = now as u32;
        let fresh = |client: [u8; 8]| ResponseCookie {
            client,
            server: make(&self.secret, &client, ip, now),
        };
        match *opt {
            CookieOpt::None => (CookieStatus::None, None),
            CookieOpt::Malformed => (CookieStatus::Malformed, None),
            CookieOpt::Client(client) => (CookieStatus::ClientOnly, Some(fresh(client))),
            CookieOpt::Foreign(client) => (CookieStatus::Invalid, Some(fresh(client))),
            CookieOpt::Both { client, server } => match self.verify(&client, &server, ip, now) {
                // Young and ours: the same cookie goes back.
                Some((age, true)) if age <= REFRESH_AFTER_S => {
                    (CookieStatus::Valid, Some(ResponseCookie { client, server }))
                }
                Some(_) => (CookieStatus::Valid, Some(fresh(client))),
                None => (CookieStatus::Invalid, Some(fresh(client))),
            },
        }
    }

    /// `Some((age in seconds, made with the current secret))` for a
    /// server cookie of ours within its lifetime.
    fn verify(&self, client: &[u8; 8], server: &[u8], ip: IpAddr, now: u32) -> Option<(u32, bool)> {
        if server.len() != SERVER_COOKIE_LEN || server[0] != VERSION {
            return None;
        }
        let stamp = u32::from_be_bytes([server[4], server[5], server[6], server[7]]);
        // Serial arithmetic (RFC 1982): the timestamp wraps in 2106.
        let age = if Serial(now).is_newer_than(Serial(stamp)) || now == stamp {
            now.wrapping_sub(stamp)
        } else if stamp.wrapping_sub(now) <= MAX_AHEAD_S {
            0
        } else {
            return None;
        };
        if age > MAX_AGE_S {
            return None;
        }
        let head: [u8; 8] = server[..8].try_into().ok()?;
        let hash = &server[8..];
        if self.secret.hash(client, &head, ip) == hash {
            return Some((age, true));
        }
        match &self.previous {
            Some(p) if p.hash(client, &head, ip) == hash => Some((age, false)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn policy(secret: &str) -> CookiePolicy {
        CookiePolicy {
            secret: CookieSecret::from_hex(secret).unwrap(),
            previous: None,
            badcookie: false,
        }
    }

    fn both(client: [u8; 8], server: &[u8]) -> CookieOpt {
        crate::answer::request::cookie_opt(&client, server)
    }

    #[test]
    fn makes_the_cookie_of_rfc_9018_appendix_a() {
        // RFC 9018 A.1: the first query, to an IPv4 server.
        let secret = CookieSecret::from_hex("e5e973e5a6b2a43f48e7dc849e37bfcf").unwrap();
        let client: [u8; 8] = hex("2464c4abcf10c957").try_into().unwrap();
        let c = make(
            &secret,
            &client,
            "198.51.100.100".parse().unwrap(),
            1559731985,
        );
        assert_eq!(c.to_vec(), hex("010000005cf79f111f8130c3eee29480"));
    }

    #[test]
    fn makes_the_cookie_knot_makes() {
        // Knot DNS 3.2 with `mod-cookies: secret:
        // 0x000102030405060708090a0b0c0d0e0f`, asked by kdig from
        // 127.0.0.1 with client cookie 0102030405060708.
        let secret = CookieSecret::from_hex("0x000102030405060708090a0b0c0d0e0f").unwrap();
        let c = make(
            &secret,
            &[1, 2, 3, 4, 5, 6, 7, 8],
            "127.0.0.1".parse().unwrap(),
            0x6b0f699f,
        );
        assert_eq!(c.to_vec(), hex("010000006b0f699fb5c7af65b02b24cc"));
    }

    #[test]
    fn accepts_its_own_cookies_for_an_hour_and_refreshes_after_half() {
        let p = policy("000102030405060708090a0b0c0d0e0f");
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let client = [9u8; 8];
        let t0 = 1_800_000_000u64;
        let (st, r) = p.check(&CookieOpt::Client(client), ip, t0);
        assert_eq!(st, CookieStatus::ClientOnly);
        let issued = r.unwrap().server;
        // Echoed while young.
        let (st, r) = p.check(&both(client, &issued), ip, t0 + 60);
        assert_eq!((st, r.unwrap().server), (CookieStatus::Valid, issued));
        // Valid, but replaced after half an hour.
        let (st, r) = p.check(&both(client, &issued), ip, t0 + 1900);
        assert_eq!(st, CookieStatus::Valid);
        assert_ne!(r.unwrap().server, issued);
        // Too old after an hour; from too far ahead; from another address;
        // for another client cookie; tampered with.
        assert_eq!(
            p.check(&both(client, &issued), ip, t0 + 3601).0,
            CookieStatus::Invalid
        );
        assert_eq!(
            p.check(&both(client, &issued), ip, t0 - 301).0,
            CookieStatus::Invalid
        );
        assert_eq!(
            p.check(&both(client, &issued), ip, t0 - 299).0,
            CookieStatus::Valid
        );
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        assert_eq!(
            p.check(&both(client, &issued), other, t0).0,
            CookieStatus::Invalid
        );
        assert_eq!(
            p.check(&both([8; 8], &issued), ip, t0).0,
            CookieStatus::Invalid
        );
        let mut bad = issued;
        bad[15] ^= 1;
        assert_eq!(
            p.check(&both(client, &bad), ip, t0).0,
            CookieStatus::Invalid
        );
        // Not our format at all.
        assert_eq!(
            p.check(&both(client, &[1; 8]), ip, t0).0,
            CookieStatus::Invalid
        );
        // IPv6 clients too.
        let v6: IpAddr = "2001:db8::1".parse().unwrap();
        let (_, r) = p.check(&CookieOpt::Client(client), v6, t0);
        assert_eq!(
            p.check(&both(client, &r.unwrap().server), v6, t0).0,
            CookieStatus::Valid
        );
    }

    #[test]
    fn the_previous_secret_is_accepted_never_issued() {
        let old = policy("000102030405060708090a0b0c0d0e0f");
        let mut new = policy("ffeeddccbbaa99887766554433221100");
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let client = [7u8; 8];
        let t = 1_800_000_000u64;
        let from_old = old
            .check(&CookieOpt::Client(client), ip, t)
            .1
            .unwrap()
            .server;
        assert_eq!(
            new.check(&both(client, &from_old), ip, t).0,
            CookieStatus::Invalid
        );
        new.previous = Some(old.secret);
        let (st, r) = new.check(&both(client, &from_old), ip, t + 10);
        assert_eq!(st, CookieStatus::Valid);
        let r = r.unwrap().server;
        assert_ne!(r, from_old, "a fresh cookie from the current secret");
        assert_eq!(
            new.check(&both(client, &r), ip, t + 10).1.unwrap().server,
            r
        );
    }

    #[test]
    fn the_secret_stays_out_of_debug_output() {
        let p = policy("000102030405060708090a0b0c0d0e0f");
        let text = format!("{p:?}");
        assert!(
            !text.contains("0, 1, 2") && !text.contains("000102"),
            "{text}"
        );
        assert!(CookieSecret::from_hex("00").is_none());
        assert!(CookieSecret::from_hex("zz0102030405060708090a0b0c0d0e0f").is_none());
    }
}
