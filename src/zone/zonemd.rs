//! ZONEMD (RFC 8976): the digest a primary puts at the apex over the
//! whole zone, checked on a version before it is served. Scheme 1
//! (SIMPLE) with SHA-384 or SHA-512: every record in canonical form
//! (RFC 4034 §6.2) and canonical order (§6.1, RDATA ordering within each
//! RRset, duplicates once), except the apex ZONEMD RRset and the RRSIGs
//! that cover it (RFC 8976 §3.3.1).

use std::borrow::Cow;
use std::time::Instant;

use sha2::{Digest, Sha384, Sha512};
use thiserror::Error;

use super::Snapshot;
use super::node::Node;
use crate::wire::iana::rtype;
use crate::wire::name::canonical_cmp;
use crate::wire::rdata::canonical_form;

/// What to do with a version's ZONEMD (`zonemd` per zone).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ZonemdPolicy {
    /// Never look.
    Off,
    /// Check it when the zone has one the server can check.
    #[default]
    Verify,
    /// A version without a ZONEMD it can check is refused.
    Require,
}

impl ZonemdPolicy {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "off" => Some(ZonemdPolicy::Off),
            "verify" => Some(ZonemdPolicy::Verify),
            "require" => Some(ZonemdPolicy::Require),
            _ => None,
        }
    }
}

/// RFC 8976 §5.2, §5.3.
const SCHEME_SIMPLE: u8 = 1;
const SHA384: u8 = 1;
const SHA512: u8 = 2;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ZonemdError {
    #[error("ZONEMD serial {zonemd} is not the SOA serial {soa} (RFC 8976 §4)")]
    Serial { zonemd: u32, soa: u32 },
    #[error("ZONEMD {0} digest does not match the zone's records")]
    Mismatch(&'static str),
    #[error("ZONEMD has two digests of scheme {scheme}, algorithm {algorithm} (RFC 8976 §2.4)")]
    Duplicate { scheme: u8, algorithm: u8 },
    #[error("no ZONEMD of scheme 1 with SHA-384 or SHA-512 at the apex, and the zone requires one")]
    Required,
}

/// What the check found, for the transfer's log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ZonemdCheck {
    /// Not looked at (`zonemd = "off"`).
    Off,
    /// No ZONEMD, or none of a scheme and algorithm known here.
    Absent,
    Verified {
        algorithm: &'static str,
        micros: u64,
    },
}

impl core::fmt::Display for ZonemdCheck {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ZonemdCheck::Off => f.write_str("ZONEMD not checked"),
            ZonemdCheck::Absent => f.write_str("no ZONEMD"),
            ZonemdCheck::Verified { algorithm, micros } => write!(
                f,
                "ZONEMD {algorithm} verified in {:.1} ms",
                *micros as f64 / 1000.0
            ),
        }
    }
}

fn algorithm_name(a: u8) -> &'static str {
    match a {
        SHA384 => "SHA-384",
        _ => "SHA-512",
    }
}

/// Checks `snap`'s apex ZONEMD as `policy` says.
pub fn check(snap: &Snapshot, policy: ZonemdPolicy) -> Result<ZonemdCheck, ZonemdError> {
    if policy == ZonemdPolicy::Off {
        return Ok(ZonemdCheck::Off);
    }
    let started = Instant::now();
    // The apex ZONEMD records this server can check (RFC 8976 §4).
    let mut usable: Vec<(u32, u8, &[u8])> = Vec::new();
    if let Some(set) = snap.apex_node().and_then(|n| n.rrset(rtype::ZONEMD)) {
        for rd in set.rdatas() {
            if rd.len() < 6 + 12 {
                continue;
            }
            let serial = u32::from_be_bytes([rd[0], rd[1], rd[2], rd[3]]);
            let (scheme, algorithm) = (rd[4], rd[5]);
            if scheme != SCHEME_SIMPLE || !matches!(algorithm, SHA384 | SHA512) {
                continue;
            }
            if usable.iter().any(|u| u.1 == algorithm) {
                return Err(ZonemdError::Duplicate { scheme, algorithm });
            }
            usable.push((serial, algorithm, &rd[6..]));
        }
    }
    let Some(&(serial, _, _)) = usable.first() else {
        return match policy {
            ZonemdPolicy::Require => Err(ZonemdError::Required),
            _ => Ok(ZonemdCheck::Absent),
        };
    };
    if serial != snap.serial() {
        return Err(ZonemdError::Serial {
            zonemd: serial,
            soa: snap.serial(),
        });
    }
    // Any one digest that matches verifies the zone; the first that does
    // not is the error if none does.
    let mut first_mismatch = None;
    for &(_, algorithm, digest) in &usable {
        if digest == zone_digest(snap, algorithm).as_slice() {
            return Ok(ZonemdCheck::Verified {
                algorithm: algorithm_name(algorithm),
                micros: started.elapsed().as_micros() as u64,
            });
        }
        first_mismatch.get_or_insert(algorithm_name(algorithm));
    }
    Err(ZonemdError::Mismatch(first_mismatch.unwrap_or("SHA-384")))
}

/// One record of a name as the digest takes it: type, TTL, canonical
/// RDATA.
type DigestedRr<'s> = (u16, u32, Cow<'s, [u8]>);

/// The SIMPLE digest of `snap` with hash `algorithm` (1: SHA-384,
/// otherwise SHA-512). The names come in canonical order already (the
/// snapshot's, merged with its NSEC3 chain's); only each name's records
/// are sorted, by type and then RDATA (RFC 4034 §6.3).
pub fn zone_digest(snap: &Snapshot, algorithm: u8) -> Vec<u8> {
    let apex = snap.apex_wire();
    let mut chain: Vec<Node<'_>> = snap.nsec3().nodes().collect();
    chain.sort_unstable_by(|a, b| canonical_cmp(a.owner(), b.owner()));
    let mut main = snap.nodes_in_order().peekable();
    let mut chain = chain.into_iter().peekable();
    let mut h: Box<dyn DigestSink> = if algorithm == SHA384 {
        Box::new(Sha384::new())
    } else {
        Box::new(Sha512::new())
    };
    let mut rrs: Vec<DigestedRr<'_>> = Vec::new();
    let mut form = Vec::new();
    let mut wire = Vec::with_capacity(512);
    loop {
        let node = match (main.peek(), chain.peek()) {
            (Some(a), Some(b)) if canonical_cmp(b.owner(), a.owner()).is_lt() => chain.next(),
            (Some(_), _) => main.next(),
            (None, _) => chain.next(),
        };
        let Some(node) = node else {
            break;
        };
        let owner = node.owner();
        let at_apex = owner.eq_ignore_ascii_case(apex);
        rrs.clear();
        for set in node.rrsets() {
            let t = set.rtype();
            if at_apex && t == rtype::ZONEMD {
                continue;
            }
            for rd in set.rdatas() {
                if at_apex
                    && t == rtype::RRSIG
                    && rd.get(..2) == Some(&rtype::ZONEMD.to_be_bytes()[..])
                {
                    continue;
                }
                let rdata = if crate::wire::rdata::canonical_lowercases(t) {
                    canonical_form(t, rd, &mut form);
                    Cow::Owned(form.clone())
                } else {
                    Cow::Borrowed(rd)
                };
                rrs.push((t, set.ttl(), rdata));
            }
        }
        rrs.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| a.2.as_ref().cmp(b.2.as_ref())));
        rrs.dedup_by(|a, b| a.0 == b.0 && a.2 == b.2);
        for (t, ttl, rdata) in &rrs {
            wire.clear();
            wire.extend(owner.iter().map(|c| c.to_ascii_lowercase()));
            wire.extend_from_slice(&t.to_be_bytes());
            wire.extend_from_slice(&crate::wire::iana::class::IN.to_be_bytes());
            wire.extend_from_slice(&ttl.to_be_bytes());
            wire.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
            wire.extend_from_slice(rdata);
            h.feed(&wire);
        }
    }
    h.done()
}

/// SHA-384 and SHA-512 behind one face.
trait DigestSink {
    fn feed(&mut self, data: &[u8]);
    fn done(self: Box<Self>) -> Vec<u8>;
}

impl<D: Digest> DigestSink for D {
    fn feed(&mut self, data: &[u8]) {
        Digest::update(self, data);
    }
    fn done(self: Box<Self>) -> Vec<u8> {
        self.finalize().to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::name::parse_name_text;
    use crate::zone::load_zone_text;

    /// A zone Knot DNS 3.2 served with `zonemd-generate: zonemd-sha384`
    /// (its digest, its serial), written here with other case and order:
    /// the digest is over the canonical form, so it must still match.
    const KNOT_ZONE: &str = "$TTL 300
@ SOA ns1 hostmaster 8 3600 600 86400 60
@ NS ns1
@ NS NS2.Other.Example.
@ ZONEMD 8 1 1 811C9D9588741C0312FAE2ADF23DD8854AF92021483FEBBBE19E49947522605A5424FAD3D182D5E466CD36CCDF9FD89E
www A 192.0.2.81
WWW A 192.0.2.80
ns1 A 192.0.2.53
Mail MX 10 MAIL.zm.test.
mail A 192.0.2.25
txt TXT \"hello\" \"world\"
sub NS ns.sub
ns.sub A 192.0.2.99
*.wild CNAME www
";

    fn load(text: &str) -> Snapshot {
        let apex = parse_name_text("zm.test.", None).unwrap();
        load_zone_text(text.as_bytes(), "test", &apex)
            .unwrap()
            .snapshot
    }

    #[test]
    fn verifies_the_digest_knot_made() {
        let snap = load(KNOT_ZONE);
        match check(&snap, ZonemdPolicy::Verify) {
            Ok(ZonemdCheck::Verified { algorithm, .. }) => assert_eq!(algorithm, "SHA-384"),
            other => panic!("{other:?}"),
        }
        assert_eq!(check(&snap, ZonemdPolicy::Off), Ok(ZonemdCheck::Off));
    }

    #[test]
    fn any_change_of_data_is_a_mismatch_and_a_wrong_serial_is_caught() {
        // One address changed; glue changed; a TTL changed.
        for (from, to) in [
            ("www A 192.0.2.81", "www A 192.0.2.82"),
            ("ns.sub A 192.0.2.99", "ns.sub A 192.0.2.98"),
            ("mail A 192.0.2.25", "mail 301 A 192.0.2.25"),
        ] {
            let snap = load(&KNOT_ZONE.replace(from, to));
            assert_eq!(
                check(&snap, ZonemdPolicy::Verify),
                Err(ZonemdError::Mismatch("SHA-384")),
                "{to}"
            );
        }
        // A record added twice counts once (RFC 8976 §3.3.1.2).
        let snap = load(&format!("{KNOT_ZONE}www A 192.0.2.80\n"));
        assert!(matches!(
            check(&snap, ZonemdPolicy::Verify),
            Ok(ZonemdCheck::Verified { .. })
        ));
        let snap = load(&KNOT_ZONE.replace("@ ZONEMD 8 ", "@ ZONEMD 9 "));
        assert_eq!(
            check(&snap, ZonemdPolicy::Verify),
            Err(ZonemdError::Serial { zonemd: 9, soa: 8 })
        );
    }

    #[test]
    fn absent_or_unknown_zonemd_passes_unless_required() {
        let none = load(&KNOT_ZONE.replace("@ ZONEMD", "; @ ZONEMD"));
        assert_eq!(check(&none, ZonemdPolicy::Verify), Ok(ZonemdCheck::Absent));
        assert_eq!(
            check(&none, ZonemdPolicy::Require),
            Err(ZonemdError::Required)
        );
        // Scheme 2 and hash 240 are not known here (RFC 8976 §4: such a
        // ZONEMD cannot be checked, as if absent).
        let unknown = load(&KNOT_ZONE.replace("@ ZONEMD 8 1 1 ", "@ ZONEMD 8 240 1 "));
        assert_eq!(
            check(&unknown, ZonemdPolicy::Verify),
            Ok(ZonemdCheck::Absent)
        );
        assert_eq!(
            check(&unknown, ZonemdPolicy::Require),
            Err(ZonemdError::Required)
        );
        // SHA-512 alongside SHA-384: the zone verifies when one matches.
        let sha512 = zone_digest(&load(KNOT_ZONE), SHA512);
        let hex: String = sha512.iter().map(|b| format!("{b:02x}")).collect();
        let both = load(&format!("{KNOT_ZONE}@ ZONEMD 8 1 2 {hex}\n"));
        assert!(matches!(
            check(&both, ZonemdPolicy::Require),
            Ok(ZonemdCheck::Verified { .. })
        ));
        // Two SHA-384 digests: refused.
        let twice = load(&format!("{KNOT_ZONE}@ ZONEMD 8 1 1 {}\n", "00".repeat(48)));
        assert_eq!(
            check(&twice, ZonemdPolicy::Verify),
            Err(ZonemdError::Duplicate {
                scheme: 1,
                algorithm: 1
            })
        );
    }
}
