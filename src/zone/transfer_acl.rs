//! Who may transfer a zone out (RFC 5936 §5: a server should restrict
//! it): address prefixes from the configuration, `allow_transfer =
//! ["192.0.2.0/24", "2001:db8::/32"]`, and optionally a TSIG key every
//! request must be signed with (`transfer_key`, RFC 8945). Nobody when
//! the list is absent.

use std::net::IpAddr;
use std::sync::Arc;

use crate::tsig::TsigKey;

/// An address prefix: an address and how many of its leading bits count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prefix {
    addr: IpAddr,
    len: u8,
}

impl Prefix {
    /// `ADDR/LEN`, or a bare address (the whole address counts).
    pub fn parse(text: &str) -> Result<Prefix, String> {
        let (addr, len) = match text.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (text, None),
        };
        let addr: IpAddr = addr
            .trim()
            .parse()
            .map_err(|_| format!("{text:?} is not an address or ADDRESS/LENGTH"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let len = match len {
            None => max,
            Some(l) => l
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|&l| l <= max)
                .ok_or_else(|| format!("{text:?}: the prefix length must be 0 to {max}"))?,
        };
        Ok(Prefix { addr, len })
    }

    /// Whether `ip` lies in the prefix (an IPv4 address also as
    /// IPv4-mapped IPv6, as a dual-stack listener reports it).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(p), IpAddr::V4(a)) => bits_match(
                u128::from(u32::from(p)) << 96,
                u128::from(u32::from(a)) << 96,
                self.len,
            ),
            (IpAddr::V6(p), IpAddr::V6(a)) => bits_match(u128::from(p), u128::from(a), self.len),
            _ => false,
        }
    }
}

fn bits_match(a: u128, b: u128, len: u8) -> bool {
    len == 0 || (a ^ b) >> (128 - u32::from(len)) == 0
}

/// The clients a zone may be transferred to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferAcl {
    prefixes: Box<[Prefix]>,
    key: Option<Arc<TsigKey>>,
}

impl TransferAcl {
    /// From the configuration's list; every entry must parse.
    pub fn parse<'s>(entries: impl IntoIterator<Item = &'s str>) -> Result<TransferAcl, String> {
        let prefixes = entries
            .into_iter()
            .map(Prefix::parse)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(TransferAcl {
            prefixes: prefixes.into(),
            key: None,
        })
    }

    /// Requests must also be signed with `key`.
    pub fn with_key(mut self, key: Option<Arc<TsigKey>>) -> TransferAcl {
        self.key = key;
        self
    }

    /// Whether `ip` is among the clients named (the key is checked
    /// with the request's signature, apart).
    pub fn allows(&self, ip: IpAddr) -> bool {
        self.prefixes.iter().any(|p| p.contains(ip))
    }

    /// The key requests must be signed with, if any.
    pub fn key(&self) -> Option<&Arc<TsigKey>> {
        self.key.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_match_their_addresses_only() {
        let acl = TransferAcl::parse(["192.0.2.0/24", "2001:db8::/32", "198.51.100.7"]).unwrap();
        let yes = [
            "192.0.2.1",
            "192.0.2.255",
            "2001:db8:1::5",
            "198.51.100.7",
            "::ffff:192.0.2.9",
        ];
        let no = [
            "192.0.3.1",
            "2001:db9::1",
            "198.51.100.8",
            "10.0.0.1",
            "::1",
        ];
        for a in yes {
            assert!(acl.allows(a.parse().unwrap()), "{a}");
        }
        for a in no {
            assert!(!acl.allows(a.parse().unwrap()), "{a}");
        }
        let all = TransferAcl::parse(["0.0.0.0/0"]).unwrap();
        assert!(all.allows("203.0.113.1".parse().unwrap()));
        assert!(!all.allows("2001:db8::1".parse().unwrap()));
        assert!(
            !TransferAcl::parse([])
                .unwrap()
                .allows("127.0.0.1".parse().unwrap())
        );
    }

    #[test]
    fn bad_entries_are_named() {
        for bad in [
            "192.0.2.0/33",
            "2001:db8::/129",
            "example.com",
            "192.0.2.0/x",
        ] {
            let e = TransferAcl::parse([bad]).unwrap_err();
            assert!(e.contains(bad), "{e}");
        }
    }
}
