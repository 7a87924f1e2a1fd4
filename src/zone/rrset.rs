//! An RRset pre-encoded in wire form, so that answering is copying.

/// Octets of TYPE, CLASS, TTL and RDLENGTH.
pub const FIXED_LEN: usize = 10;

/// The records of one owner and type (RFC 2181 §5), viewed in place: each
/// record as it follows its owner name on the wire (TYPE, CLASS, TTL,
/// RDLENGTH, RDATA with uncompressed names), back to back.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct RRset<'a> {
    rtype: u16,
    count: u16,
    wire: &'a [u8],
}

impl core::fmt::Debug for RRset<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "RRset({} x{} ttl {})",
            crate::wire::iana::rtype::Display(self.rtype),
            self.count,
            self.ttl()
        )
    }
}

impl<'a> RRset<'a> {
    pub(crate) fn from_parts(rtype: u16, count: u16, wire: &'a [u8]) -> RRset<'a> {
        RRset { rtype, count, wire }
    }

    pub fn rtype(&self) -> u16 {
        self.rtype
    }

    /// RFC 2181 §5.2: one TTL for the set, which every record carries
    /// (read from the first: a node keeps it nowhere else).
    #[inline]
    pub fn ttl(&self) -> u32 {
        match self.wire.get(4..8) {
            Some(&[a, b, c, d]) => u32::from_be_bytes([a, b, c, d]),
            _ => 0,
        }
    }

    /// For RRSIG: the type the signatures cover (the first two octets
    /// of RDATA, RFC 4034 §3.1.1); 0 for other types.
    pub fn covered(&self) -> u16 {
        match self.wire.get(FIXED_LEN..FIXED_LEN + 2) {
            Some(&[a, b]) if self.rtype == crate::wire::iana::rtype::RRSIG => {
                u16::from_be_bytes([a, b])
            }
            _ => 0,
        }
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.count as usize
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// All records back to back, each starting at its TYPE field.
    pub fn wire(&self) -> &'a [u8] {
        self.wire
    }

    /// Each record's wire form (from TYPE to the end of RDATA).
    pub fn records(&self) -> RecordIter<'a> {
        RecordIter { rest: self.wire }
    }

    /// The record starting `at` octets into [`wire`](Self::wire), from
    /// TYPE to the end of RDATA.
    pub fn record_at(&self, at: usize) -> Option<&'a [u8]> {
        RecordIter {
            rest: self.wire.get(at..)?,
        }
        .next()
    }

    /// Each record's RDATA.
    pub fn rdatas(&self) -> impl Iterator<Item = &'a [u8]> + use<'a> {
        self.records().map(|r| &r[FIXED_LEN..])
    }
}

/// Iterator over the records of an [`RRset`].
pub struct RecordIter<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for RecordIter<'a> {
    type Item = &'a [u8];
    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        let head = self.rest.get(..FIXED_LEN)?;
        let len = FIXED_LEN + u16::from_be_bytes([head[8], head[9]]) as usize;
        let rec = self.rest.get(..len)?;
        self.rest = &self.rest[len..];
        Some(rec)
    }
}
