//! Copying pre-encoded RRsets into a response.

use crate::wire::error::WireError;
use crate::wire::iana::rtype;
use crate::wire::rdata::compresses_names;
use crate::wire::writer::{MessageWriter, Owner, Section};
use crate::zone::rrset::{FIXED_LEN, RRset};

/// Position of the TTL inside a record's fixed part.
const TTL_AT: usize = 4;

/// Writes every record of `set` under `owner` in `section`, optionally
/// with another TTL. Returns where the first name inside the RDATA was
/// written (the target of a CNAME, for chasing it), if there is one.
///
/// On error the message holds a partial RRset: the caller rolls back.
pub fn put_rrset(
    w: &mut MessageWriter<'_>,
    mut owner: Owner<'_>,
    set: RRset<'_>,
    section: Section,
    ttl: Option<u32>,
) -> Result<Option<usize>, WireError> {
    let compress = compresses_names(set.rtype());
    let mut first_name = None;
    for rec in set.records() {
        let at = w.write_owner(owner)?;
        // Later records point at the first owner written.
        if let Owner::Name(_) = owner
            && at <= 0x3fff
        {
            owner = Owner::Pointer(at as u16);
        }
        let fixed_at = w.len();
        if compress {
            w.put(&rec[..FIXED_LEN - 2])?;
            let rdlen_at = w.len();
            w.put_u16(0)?;
            let p = put_compressed_rdata(w, set.rtype(), &rec[FIXED_LEN..])?;
            first_name.get_or_insert(p);
            w.end_rr(rdlen_at, section)?;
        } else {
            w.put(rec)?;
            w.count_record(section);
        }
        if let Some(t) = ttl {
            w.patch(fixed_at + TTL_AT, &t.to_be_bytes());
        }
    }
    Ok(first_name)
}

/// Writes the RDATA of a type whose names are compressed (RFC 1035 §3.3,
/// RFC 3597 §4). Each has a fixed layout, so no general field walk is
/// needed. Returns where the first name was written.
fn put_compressed_rdata(
    w: &mut MessageWriter<'_>,
    t: u16,
    rdata: &[u8],
) -> Result<usize, WireError> {
    match t {
        rtype::MX => {
            let (preference, exchange) = rdata.split_at_checked(2).ok_or(WireError::Truncated)?;
            w.put(preference)?;
            w.write_name(exchange, true)
        }
        // SOA: MNAME, RNAME and five counters; MINFO: RMAILBX, EMAILBX.
        rtype::SOA | rtype::MINFO => {
            let (first, rest) = split_name(rdata)?;
            let at = w.write_name(first, true)?;
            let (second, rest) = split_name(rest)?;
            w.write_name(second, true)?;
            w.put(rest)?;
            Ok(at)
        }
        // NS, CNAME, PTR and the old mailbox types: one name.
        _ => w.write_name(rdata, true),
    }
}

/// Splits an uncompressed name off the front of `rdata`.
fn split_name(rdata: &[u8]) -> Result<(&[u8], &[u8]), WireError> {
    let mut pos = 0usize;
    loop {
        let len = *rdata.get(pos).ok_or(WireError::Truncated)? as usize;
        pos += 1 + len;
        if len == 0 {
            return Ok(rdata.split_at(pos));
        }
    }
}
