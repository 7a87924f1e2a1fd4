//! CHAOS-class identity queries: `id.server` and `hostname.bind` give the
//! configured identity, `version.server` and `version.bind` the version
//! (RFC 4892). As in Knot: TXT only, TTL 0, no AA; anything else REFUSED.

use crate::wire::iana::{class, rcode, rtype};
use crate::wire::writer::{MessageWriter, Owner, Section};

use super::request::Request;

/// Writes the answer and returns the RCODE.
pub fn answer_chaos(
    req: &Request,
    identity: &[u8],
    version: &[u8],
    w: &mut MessageWriter<'_>,
) -> u16 {
    if req.qtype != rtype::TXT {
        return rcode::REFUSED;
    }
    let text = match req.lower.as_wire() {
        b"\x02id\x06server\x00" | b"\x08hostname\x04bind\x00" => identity,
        b"\x07version\x06server\x00" | b"\x07version\x04bind\x00" => version,
        _ => return rcode::REFUSED,
    };
    if text.is_empty() {
        return rcode::REFUSED;
    }
    let text = &text[..text.len().min(255)];
    let mut rdata = [0u8; 256];
    rdata[0] = text.len() as u8;
    rdata[1..1 + text.len()].copy_from_slice(text);
    // A failure here only means no room: the caller sets TC.
    let _ = w.write_rr(
        Owner::Pointer(12),
        rtype::TXT,
        class::CH,
        0,
        &rdata[..1 + text.len()],
        Section::Answer,
    );
    rcode::NOERROR
}
