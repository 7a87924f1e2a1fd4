//! The OPT record of a response (RFC 6891 §6.1.2) and its options: NSID
//! (RFC 5001), COOKIE (RFC 7873), EXPIRE (RFC 7314), Extended DNS Errors
//! (RFC 8914).

use super::cookie::{ResponseCookie, SERVER_COOKIE_LEN};
use crate::wire::edns::FLAG_DO;
use crate::wire::error::WireError;
use crate::wire::iana::{edns_option, rtype};
use crate::wire::writer::{MessageWriter, Section};

/// Octets of an OPT record without options.
const OPT_FIXED: usize = 11;

#[derive(Debug, Clone, Copy, Default)]
pub struct ResponseOpt<'a> {
    /// The largest UDP payload zonecast accepts.
    pub payload: u16,
    /// Upper 8 bits of a 12-bit RCODE.
    pub ext_rcode: u8,
    /// Echo of the query's DO bit (RFC 3225 §3).
    pub dnssec_ok: bool,
    pub nsid: Option<&'a [u8]>,
    pub expire: Option<u32>,
    pub ede: Option<(u16, &'a str)>,
    /// RFC 7873: the client's cookie and ours.
    pub cookie: Option<ResponseCookie>,
}

impl ResponseOpt<'_> {
    /// Octets the record takes.
    #[allow(clippy::len_without_is_empty)] // never empty
    pub fn len(&self) -> usize {
        OPT_FIXED
            + self.nsid.map_or(0, |n| 4 + n.len())
            + self.expire.map_or(0, |_| 8)
            + self.ede.map_or(0, |(_, t)| 6 + t.len())
            + self.cookie.map_or(0, |_| 4 + 8 + SERVER_COOKIE_LEN)
    }

    /// Appends the record to the additional section.
    pub fn write(&self, w: &mut MessageWriter<'_>) -> Result<(), WireError> {
        let flags = if self.dnssec_ok { FLAG_DO } else { 0 };
        let ttl = ((self.ext_rcode as u32) << 24) | flags as u32;
        let at = w.begin_rr(
            crate::wire::Owner::Name(b"\0"),
            rtype::OPT,
            self.payload,
            ttl,
        )?;
        if let Some(nsid) = self.nsid {
            w.put_u16(edns_option::NSID)?;
            w.put_u16(nsid.len() as u16)?;
            w.put(nsid)?;
        }
        if let Some(c) = &self.cookie {
            w.put_u16(edns_option::COOKIE)?;
            w.put_u16((8 + SERVER_COOKIE_LEN) as u16)?;
            w.put(&c.client)?;
            w.put(&c.server)?;
        }
        if let Some(e) = self.expire {
            w.put_u16(edns_option::EXPIRE)?;
            w.put_u16(4)?;
            w.put_u32(e)?;
        }
        if let Some((code, text)) = self.ede {
            w.put_u16(edns_option::EDE)?;
            w.put_u16(2 + text.len() as u16)?;
            w.put_u16(code)?;
            w.put(text.as_bytes())?;
        }
        w.end_rr(at, Section::Additional)
    }
}
