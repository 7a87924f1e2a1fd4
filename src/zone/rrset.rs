//! An RRset pre-encoded in wire form, so that answering is copying.

use crate::wire::iana::class;

/// Octets of TYPE, CLASS, TTL and RDLENGTH.
pub const FIXED_LEN: usize = 10;

/// The records of one owner and type (RFC 2181 §5). Each record is kept as
/// it follows its owner name on the wire (TYPE, CLASS, TTL, RDLENGTH,
/// RDATA with uncompressed names), back to back.
#[derive(Clone, PartialEq, Eq)]
pub struct RRset {
    rtype: u16,
    count: u16,
    ttl: u32,
    wire: Box<[u8]>,
}

impl core::fmt::Debug for RRset {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "RRset({} x{} ttl {})",
            crate::wire::iana::rtype::Display(self.rtype),
            self.count,
            self.ttl
        )
    }
}

impl RRset {
    /// Encodes the records; RFC 2181 §5.2 gives an RRset one TTL.
    /// Callers keep each RDATA under 65536 octets and the set under 65536
    /// records (zone-file and transfer readers check both).
    pub fn new<'a>(rtype: u16, ttl: u32, rdatas: impl IntoIterator<Item = &'a [u8]>) -> RRset {
        let mut wire = Vec::new();
        let mut count = 0u16;
        for rd in rdatas {
            wire.extend_from_slice(&rtype.to_be_bytes());
            wire.extend_from_slice(&class::IN.to_be_bytes());
            wire.extend_from_slice(&ttl.to_be_bytes());
            wire.extend_from_slice(&(rd.len() as u16).to_be_bytes());
            wire.extend_from_slice(rd);
            count = count.saturating_add(1);
        }
        RRset {
            rtype,
            count,
            ttl,
            wire: wire.into_boxed_slice(),
        }
    }

    pub fn rtype(&self) -> u16 {
        self.rtype
    }

    pub fn ttl(&self) -> u32 {
        self.ttl
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.count as usize
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// All records back to back, each starting at its TYPE field.
    pub fn wire(&self) -> &[u8] {
        &self.wire
    }

    /// Each record's wire form (from TYPE to the end of RDATA).
    pub fn records(&self) -> RecordIter<'_> {
        RecordIter { rest: &self.wire }
    }

    /// Each record's RDATA.
    pub fn rdatas(&self) -> impl Iterator<Item = &[u8]> {
        self.records().map(|r| &r[FIXED_LEN..])
    }

    /// Octets this RRset holds on the heap (for memory accounting).
    pub fn heap_size(&self) -> usize {
        self.wire.len()
    }
}

/// Iterator over the records of an [`RRset`].
pub struct RecordIter<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for RecordIter<'a> {
    type Item = &'a [u8];
    fn next(&mut self) -> Option<&'a [u8]> {
        let head = self.rest.get(..FIXED_LEN)?;
        let len = FIXED_LEN + u16::from_be_bytes([head[8], head[9]]) as usize;
        let rec = self.rest.get(..len)?;
        self.rest = &self.rest[len..];
        Some(rec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_records_back_to_back() {
        let s = RRset::new(1, 300, [&[192u8, 0, 2, 1][..], &[192, 0, 2, 2][..]]);
        assert_eq!(s.len(), 2);
        assert_eq!(
            s.wire(),
            &[
                0, 1, 0, 1, 0, 0, 1, 44, 0, 4, 192, 0, 2, 1, //
                0, 1, 0, 1, 0, 0, 1, 44, 0, 4, 192, 0, 2, 2,
            ]
        );
        let rd: Vec<&[u8]> = s.rdatas().collect();
        assert_eq!(rd, [&[192, 0, 2, 1][..], &[192, 0, 2, 2][..]]);
    }
}
