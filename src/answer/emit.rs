//! Copying pre-encoded RRsets into a response.

use crate::wire::error::WireError;
use crate::wire::rdata::{Field, Fields, compresses_names};
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
            for field in Fields::new(set.rtype(), &rec[FIXED_LEN..]) {
                match field? {
                    (Field::Name, name) => {
                        let p = w.write_name(name, true)?;
                        first_name.get_or_insert(p);
                    }
                    (_, bytes) => w.put(bytes)?,
                }
            }
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
