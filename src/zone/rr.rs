//! One resource record, owned: what the zone-file reader and a transfer
//! produce, and what a snapshot is built from.

use crate::wire::Name;
use crate::wire::iana::rtype;
use crate::zone::text::RdataDisplay;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rr {
    pub owner: Name,
    pub rtype: u16,
    pub class: u16,
    pub ttl: u32,
    /// Uncompressed wire form.
    pub rdata: Box<[u8]>,
}

impl core::fmt::Display for Rr {
    /// One line of zone-file text.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let class = crate::wire::iana::class::name(self.class);
        write!(f, "{} {} ", self.owner, self.ttl)?;
        match class {
            Some(c) => f.write_str(c)?,
            None => write!(f, "CLASS{}", self.class)?,
        }
        write!(
            f,
            " {} {}",
            rtype::Display(self.rtype),
            RdataDisplay(self.rtype, &self.rdata)
        )
    }
}
