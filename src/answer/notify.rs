//! NOTIFY in (RFC 1996): answered by the workers, accepted only for a
//! secondary zone's apex from its primaries; accepted ones become an event
//! for the transfer thread.

use std::net::IpAddr;

use super::request::Request;
use crate::wire::iana::{rcode, rtype};
use crate::wire::rdata::read_rdata;
use crate::wire::{Message, Name};
use crate::zone::snapshot::soa_field;
use crate::zone::{Zone, ZoneSet};

/// A NOTIFY the transfer thread should act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifyEvent {
    /// The zone's apex, lowercase.
    pub zone: Name,
    /// The serial in the NOTIFY's answer section, if it carried one
    /// (RFC 1996 §3.7: a hint that may save a transfer).
    pub serial: Option<u32>,
    pub source: IpAddr,
}

/// The zone a NOTIFY names: its apex exactly, and only a secondary zone.
pub fn notify_zone<'z>(zones: &'z ZoneSet, req: &Request) -> Option<&'z Zone> {
    zones
        .get(&Name::from_buf(&req.lower))
        .map(|z| &**z)
        .filter(|z| z.notify_policy().is_some())
}

/// Checks a NOTIFY whose TSIG, if the zone has a key, has been verified
/// (`signed`). Returns the RCODE and, when accepted, the event.
pub fn check_notify(
    zones: &ZoneSet,
    req: &Request,
    msg: &[u8],
    source: IpAddr,
    signed: bool,
) -> (u16, Option<NotifyEvent>) {
    let Some(zone) = notify_zone(zones, req) else {
        return (rcode::NOTAUTH, None);
    };
    let Some(policy) = zone.notify_policy() else {
        return (rcode::NOTAUTH, None);
    };
    // RFC 1996 §3.10: only from the zone's primaries.
    if !policy.primaries.contains(&source) {
        return (rcode::NOTAUTH, None);
    }
    if policy.key.is_some() && !signed {
        return (rcode::NOTAUTH, None);
    }
    // RFC 1996 §3.7: the question is the zone's SOA. Checked after the
    // source, as Knot does: strangers learn nothing but NOTAUTH.
    if req.qtype != rtype::SOA {
        return (rcode::FORMERR, None);
    }
    (
        rcode::NOERROR,
        Some(NotifyEvent {
            zone: zone.apex.clone(),
            serial: serial_hint(msg, &zone.apex),
            source,
        }),
    )
}

/// The SOA serial in the answer section, if the NOTIFY has one.
fn serial_hint(msg: &[u8], apex: &Name) -> Option<u32> {
    let s = Message::new_checked(msg).ok()?.parse().ok()?;
    soa_serial(msg, s.answers(), apex.as_wire())
}

/// The serial of the first SOA of `apex` (lowercase wire form) among
/// `records` of `msg`: a NOTIFY's hint (answer section), an IXFR
/// client's version (authority section, RFC 1995 §3).
pub(super) fn soa_serial(
    msg: &[u8],
    records: crate::wire::record::Records<'_>,
    apex: &[u8],
) -> Option<u32> {
    for r in records {
        let r = r.ok()?;
        if r.rtype == rtype::SOA && r.owner().as_wire().eq_ignore_ascii_case(apex) {
            let mut rd = Vec::new();
            read_rdata(msg, r.rdata_pos, r.rdata_len, r.rtype, &mut rd).ok()?;
            return Some(soa_field(&rd, 0));
        }
    }
    None
}
