//! Copying pre-encoded RRsets into a response.

use smallvec::SmallVec;

use crate::wire::error::WireError;
use crate::wire::iana::rtype;
use crate::wire::name::split_name;
use crate::wire::rdata::compresses_names;
use crate::wire::writer::{MessageWriter, Owner, Section};
use crate::zone::rrset::{FIXED_LEN, RRset};

/// Position of the TTL inside a record's fixed part.
const TTL_AT: usize = 4;

/// How many records of an RRset have their RDATA offset noted.
pub const NOTED_RECORDS: usize = 32;

/// Where the RDATA of the first records of an RRset went in the message,
/// so that names inside can be pointed at later (a CNAME target to chase,
/// the owner of glue). Inline: the query path never allocates.
pub type RdataOffsets = SmallVec<[usize; NOTED_RECORDS]>;

/// Writes every record of `set` under `owner` in `section`, optionally
/// with another TTL, noting in `rdata_at` where each RDATA begins.
///
/// On error the message holds a partial RRset: the caller rolls back.
pub fn put_rrset(
    w: &mut MessageWriter<'_>,
    mut owner: Owner<'_>,
    set: RRset<'_>,
    section: Section,
    ttl: Option<u32>,
    rdata_at: &mut RdataOffsets,
) -> Result<(), WireError> {
    let compress = compresses_names(set.rtype());
    rdata_at.clear();
    for rec in set.records() {
        let at = w.write_owner(owner)?;
        // Later records point at the first owner written.
        if let Owner::Name(_) = owner
            && at <= 0x3fff
        {
            owner = Owner::Pointer(at as u16);
        }
        let fixed_at = w.len();
        if rdata_at.len() < NOTED_RECORDS {
            rdata_at.push(fixed_at + FIXED_LEN);
        }
        put_record_body(w, set.rtype(), compress, rec, section)?;
        if let Some(t) = ttl {
            w.patch(fixed_at + TTL_AT, &t.to_be_bytes());
        }
    }
    Ok(())
}

/// Writes one record of `set`'s pre-encoded form (`rec`, from TYPE on)
/// after its owner, compressing the names in RDATA when `compress` (what
/// [`compresses_names`] says of the type, RFC 3597 §4).
/// Always inlined: answers run it for every record (out of line it
/// cost 20 instructions a positive answer, callgrind).
#[inline(always)]
pub fn put_record_body(
    w: &mut MessageWriter<'_>,
    rtype: u16,
    compress: bool,
    rec: &[u8],
    section: Section,
) -> Result<(), WireError> {
    if compress {
        w.put(rec.get(..FIXED_LEN - 2).ok_or(WireError::Truncated)?)?;
        let rdlen_at = w.len();
        w.put_u16(0)?;
        put_compressed_rdata(w, rtype, rec.get(FIXED_LEN..).ok_or(WireError::Truncated)?)?;
        w.end_rr(rdlen_at, section)
    } else {
        w.put(rec)?;
        w.count_record(section);
        Ok(())
    }
}

/// Writes the RDATA of a type whose names are compressed (RFC 1035 §3.3,
/// RFC 3597 §4). Each has a fixed layout, so no general field walk is
/// needed. The octets before the first name are copied as they are, so
/// [`target_offset`] holds in the message too.
#[inline(always)]
fn put_compressed_rdata(w: &mut MessageWriter<'_>, t: u16, rdata: &[u8]) -> Result<(), WireError> {
    match t {
        rtype::MX => {
            let (preference, exchange) = rdata.split_at_checked(2).ok_or(WireError::Truncated)?;
            w.put(preference)?;
            w.write_name(exchange, true)?;
        }
        // SOA: MNAME, RNAME and five counters; MINFO: RMAILBX, EMAILBX.
        rtype::SOA | rtype::MINFO => {
            let (first, rest) = split_name(rdata)?;
            w.write_name(first, true)?;
            let (second, rest) = split_name(rest)?;
            w.write_name(second, true)?;
            w.put(rest)?;
        }
        // NS, CNAME, PTR and the old mailbox types: one name.
        _ => {
            w.write_name(rdata, true)?;
        }
    }
    Ok(())
}

/// Where the name that gets additional addresses sits inside the RDATA
/// of `t`: NS, MX (RFC 1035 §3.3), SRV (RFC 2782), SVCB and HTTPS (RFC
/// 9460 §2.2).
pub fn target_offset(t: u16) -> Option<usize> {
    match t {
        rtype::NS | rtype::CNAME => Some(0),
        rtype::MX | rtype::SVCB | rtype::HTTPS => Some(2),
        rtype::SRV => Some(6),
        _ => None,
    }
}
