//! Builds a message into a caller-owned buffer, with name compression
//! (RFC 1035 §4.1.4) and a size limit that makes truncation honest: a
//! write that does not fit fails, and the caller rolls back to a mark.

use super::error::{Result, WireError};
use super::header::{HEADER_LEN, Header};
use super::name::{self, NameBuf, SuffixHashes};

/// Compression pointers carry 14 bits of offset.
const MAX_POINTER: usize = 0x3fff;

/// Which record section a record goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Answer = 1,
    Authority = 2,
    Additional = 3,
}

#[derive(Clone, Copy, Default)]
struct Slot {
    hash: u64,
    generation: u32,
    offset: u16,
}

/// Offsets of names already written in the current message, by the hash
/// of their lowercase form (one entry per suffix). Reused from message to
/// message: a generation counter empties it without touching the slots.
pub struct CompressionTable {
    slots: Box<[Slot]>,
    generation: u32,
    /// Reused for each name compressed: its lowercase form and suffix
    /// hashes (a kilobyte not rebuilt per name).
    lower: NameBuf,
    hashes: SuffixHashes,
    /// The question name's suffixes (hash, offset), entered in the table
    /// only when a name is first compressed: most answers (A, AAAA)
    /// compress nothing and never pay for them.
    pending: [(u64, u16); PENDING],
    pending_len: usize,
    /// Names point only at names of the same case (see
    /// [`CompressionTable::case_exact`]).
    case_exact: bool,
}

/// Question suffixes held back; a longer name enters the rest at once.
const PENDING: usize = 8;

/// How far to probe from a hash's home slot before giving up.
const PROBES: usize = 8;

impl CompressionTable {
    /// A table with `slots` entries (rounded up to a power of two). 256 is
    /// plenty for a UDP answer; an AXFR message wants a few thousand.
    pub fn new(slots: usize) -> Self {
        let n = slots.max(16).next_power_of_two();
        let lower = NameBuf::root();
        let hashes = SuffixHashes::compute(&lower);
        CompressionTable {
            slots: vec![Slot::default(); n].into_boxed_slice(),
            generation: 1,
            lower,
            hashes,
            pending: [(0, 0); PENDING],
            pending_len: 0,
            case_exact: false,
        }
    }

    /// This table compresses a name only into an earlier one of the same
    /// case, so every name reads back as it was written: what a zone
    /// transfer must carry. Answers may compress regardless of case (RFC
    /// 1034 §3.1: names compare without it); a transfer hands on the
    /// zone itself.
    pub fn case_exact(mut self) -> Self {
        self.case_exact = true;
        self
    }

    /// Enters the held-back question suffixes.
    fn flush_pending(&mut self) {
        for i in 0..self.pending_len {
            let (h, off) = self.pending[i];
            self.insert(h, off as usize);
        }
        self.pending_len = 0;
    }

    fn reset(&mut self) {
        self.pending_len = 0;
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            self.slots.iter_mut().for_each(|s| *s = Slot::default());
            self.generation = 1;
        }
    }

    fn home(&self, hash: u64) -> usize {
        (hash as usize) & (self.slots.len() - 1)
    }

    fn insert(&mut self, hash: u64, offset: usize) {
        if offset > MAX_POINTER {
            return;
        }
        let mask = self.slots.len() - 1;
        let home = self.home(hash);
        for i in 0..PROBES {
            let s = &mut self.slots[(home + i) & mask];
            if s.generation != self.generation {
                *s = Slot {
                    hash,
                    generation: self.generation,
                    offset: offset as u16,
                };
                return;
            }
            if s.hash == hash {
                // Keep the earlier occurrence: any copy will do.
                return;
            }
        }
    }

    /// The offset of a name equal to `suffix` in `msg`, if one was recorded.
    fn find(&self, hash: u64, msg: &[u8], suffix: &[u8]) -> Option<u16> {
        let mask = self.slots.len() - 1;
        let home = self.home(hash);
        for i in 0..PROBES {
            let s = &self.slots[(home + i) & mask];
            if s.generation != self.generation {
                return None;
            }
            if s.hash == hash && name::eq_at_lower(msg, s.offset as usize, suffix) {
                return Some(s.offset);
            }
        }
        None
    }

    /// Drops entries at or after `offset`, after a rollback.
    fn forget_from(&mut self, offset: usize) {
        let g = self.generation;
        for s in self.slots.iter_mut() {
            if s.generation == g && s.offset as usize >= offset {
                s.generation = g.wrapping_sub(1);
            }
        }
    }
}

/// The owner of a record being written.
#[derive(Debug, Clone, Copy)]
pub enum Owner<'n> {
    /// A name already in the message, at this offset.
    Pointer(u16),
    /// An uncompressed name, compressed against what is already written.
    Name(&'n [u8]),
}

/// A point to roll back to when a record does not fit.
#[derive(Debug, Clone, Copy)]
pub struct Mark {
    pos: usize,
    counts: [u16; 4],
}

pub struct MessageWriter<'a> {
    buf: &'a mut [u8],
    pos: usize,
    limit: usize,
    /// QD, AN, NS, AR.
    counts: [u16; 4],
    table: &'a mut CompressionTable,
}

impl<'a> MessageWriter<'a> {
    /// Starts a message after the header, which the caller fills in.
    pub fn new(buf: &'a mut [u8], table: &'a mut CompressionTable) -> Result<Self> {
        if buf.len() < HEADER_LEN {
            return Err(WireError::NoSpace);
        }
        table.reset();
        let limit = buf.len();
        Ok(MessageWriter {
            buf,
            pos: HEADER_LEN,
            limit,
            counts: [0; 4],
            table,
        })
    }

    /// Sets the most octets the message may take (at most the buffer).
    pub fn set_limit(&mut self, limit: usize) {
        self.limit = limit.min(self.buf.len()).max(HEADER_LEN);
    }

    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Keeps `n` octets free at the end (for OPT or TSIG).
    pub fn reserve(&mut self, n: usize) -> Result<()> {
        if self.limit < self.pos + n {
            return Err(WireError::NoSpace);
        }
        self.limit -= n;
        Ok(())
    }

    /// Gives back octets kept by [`reserve`](Self::reserve).
    pub fn release(&mut self, n: usize) {
        self.limit = (self.limit + n).min(self.buf.len());
    }

    /// Octets written so far, header included.
    pub fn len(&self) -> usize {
        self.pos
    }

    pub fn is_empty(&self) -> bool {
        self.pos == HEADER_LEN
    }

    pub fn header(&mut self) -> Header<&mut [u8]> {
        // `new` checked the buffer holds a header.
        Header::new_checked(&mut self.buf[..HEADER_LEN]).unwrap_or_else(|_| unreachable!())
    }

    pub fn count(&self, section: Section) -> u16 {
        self.counts[section as usize]
    }

    /// The bytes written so far.
    pub fn written(&self) -> &[u8] {
        &self.buf[..self.pos]
    }

    pub fn mark(&self) -> Mark {
        Mark {
            pos: self.pos,
            counts: self.counts,
        }
    }

    pub fn rollback(&mut self, mark: Mark) {
        if mark.pos < self.pos {
            self.table.forget_from(mark.pos);
        }
        self.pos = mark.pos;
        self.counts = mark.counts;
    }

    #[inline]
    pub fn put(&mut self, bytes: &[u8]) -> Result<()> {
        let end = self.pos + bytes.len();
        if end > self.limit {
            return Err(WireError::NoSpace);
        }
        self.buf[self.pos..end].copy_from_slice(bytes);
        self.pos = end;
        Ok(())
    }

    pub fn put_u8(&mut self, v: u8) -> Result<()> {
        self.put(&[v])
    }
    pub fn put_u16(&mut self, v: u16) -> Result<()> {
        self.put(&v.to_be_bytes())
    }
    pub fn put_u32(&mut self, v: u32) -> Result<()> {
        self.put(&v.to_be_bytes())
    }

    /// Writes the question. `hashes` are the suffix hashes of the
    /// lowercase `qname`; its suffixes become compression targets.
    pub fn write_question(
        &mut self,
        qname: &NameBuf,
        hashes: &SuffixHashes,
        qtype: u16,
        qclass: u16,
    ) -> Result<()> {
        let start = self.pos;
        self.put(qname.as_wire())?;
        self.put_u16(qtype)?;
        self.put_u16(qclass)?;
        let t = &mut *self.table;
        for i in 0..qname.label_count() {
            let at = start + qname.suffix_start(i);
            if t.pending_len < PENDING && at <= MAX_POINTER {
                t.pending[t.pending_len] = (hashes.get(i), at as u16);
                t.pending_len += 1;
            } else {
                t.insert(hashes.get(i), at);
            }
        }
        self.counts[0] += 1;
        Ok(())
    }

    /// Writes an uncompressed name, replacing its longest already-written
    /// suffix with a pointer when `compress` is set, and recording its
    /// suffixes for later names. Returns where the name starts.
    pub fn write_name(&mut self, wire: &[u8], compress: bool) -> Result<usize> {
        let start = self.pos;
        // The root has nothing to compress (it owns every OPT record).
        if !compress || wire == [0] {
            self.put(wire)?;
            return Ok(start);
        }
        let t = &mut *self.table;
        t.flush_pending();
        t.lower.read_lower(wire)?;
        t.hashes.compute_into(&t.lower);
        let n = t.lower.label_count();
        let mut hit = None;
        for i in 0..n {
            let msg = &self.buf[..self.pos];
            if let Some(off) = t.find(t.hashes.get(i), msg, t.lower.suffix(i))
                && (!t.case_exact
                    || name::eq_at_exact(msg, off as usize, &wire[t.lower.suffix_start(i)..]))
            {
                hit = Some((i, off));
                break;
            }
        }
        let labels = hit.map_or(n, |(i, _)| i);
        let prefix_end = self.table.lower.suffix_start(labels);
        self.put(&wire[..prefix_end])?;
        match hit {
            Some((_, off)) => self.put_u16(0xc000 | off)?,
            None => self.put_u8(0)?,
        }
        let t = &mut *self.table;
        for i in 0..labels {
            let (h, at) = (t.hashes.get(i), start + t.lower.suffix_start(i));
            t.insert(h, at);
        }
        Ok(start)
    }

    pub fn write_owner(&mut self, owner: Owner<'_>) -> Result<usize> {
        match owner {
            Owner::Pointer(off) => {
                let start = self.pos;
                self.put_u16(0xc000 | off)?;
                Ok(start)
            }
            Owner::Name(wire) => self.write_name(wire, true),
        }
    }

    /// Writes owner, TYPE, CLASS and TTL and leaves RDLENGTH open; returns
    /// the RDLENGTH position for [`end_rr`](Self::end_rr).
    pub fn begin_rr(
        &mut self,
        owner: Owner<'_>,
        rtype: u16,
        class: u16,
        ttl: u32,
    ) -> Result<usize> {
        self.write_owner(owner)?;
        let mut fixed = [0u8; 10];
        fixed[0..2].copy_from_slice(&rtype.to_be_bytes());
        fixed[2..4].copy_from_slice(&class.to_be_bytes());
        fixed[4..8].copy_from_slice(&ttl.to_be_bytes());
        self.put(&fixed)?;
        Ok(self.pos - 2)
    }

    /// Fills in RDLENGTH and counts the record in `section`.
    pub fn end_rr(&mut self, rdlen_pos: usize, section: Section) -> Result<()> {
        let rdlen = self.pos - rdlen_pos - 2;
        let rdlen = u16::try_from(rdlen).map_err(|_| WireError::NoSpace)?;
        self.buf[rdlen_pos..rdlen_pos + 2].copy_from_slice(&rdlen.to_be_bytes());
        self.counts[section as usize] += 1;
        Ok(())
    }

    /// Counts a record written with [`put`](Self::put) in `section`.
    pub fn count_record(&mut self, section: Section) {
        self.counts[section as usize] += 1;
    }

    /// Overwrites already-written octets at `pos` (a TTL, say).
    pub fn patch(&mut self, pos: usize, bytes: &[u8]) {
        if let Some(dst) = self.buf[..self.pos].get_mut(pos..pos + bytes.len()) {
            dst.copy_from_slice(bytes);
        }
    }

    /// Writes a record whose RDATA needs no compression.
    pub fn write_rr(
        &mut self,
        owner: Owner<'_>,
        rtype: u16,
        class: u16,
        ttl: u32,
        rdata: &[u8],
        section: Section,
    ) -> Result<()> {
        let at = self.begin_rr(owner, rtype, class, ttl)?;
        self.put(rdata)?;
        self.end_rr(at, section)
    }

    /// Writes the section counts into the header and returns the length.
    pub fn finish(mut self) -> usize {
        let c = self.counts;
        let mut h = self.header();
        h.set_qdcount(c[0]);
        h.set_ancount(c[1]);
        h.set_nscount(c[2]);
        h.set_arcount(c[3]);
        self.pos
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::name::NameBuf;

    fn qname(wire: &[u8]) -> (NameBuf, SuffixHashes) {
        let mut n = NameBuf::from_wire(wire).unwrap();
        n.make_lowercase();
        let h = SuffixHashes::compute(&n);
        (n, h)
    }

    #[test]
    fn compresses_against_question_and_earlier_names() {
        let mut buf = [0u8; 512];
        let mut t = CompressionTable::new(256);
        let mut w = MessageWriter::new(&mut buf, &mut t).unwrap();
        let (q, h) = qname(b"\x07example\x03com\x00");
        w.write_question(&q, &h, 15, 1).unwrap();
        // MX target mail.example.com: "mail" + pointer to 12.
        let at = w.begin_rr(Owner::Pointer(12), 15, 1, 60).unwrap();
        w.put_u16(10).unwrap();
        let name_at = w
            .write_name(b"\x04MAIL\x07example\x03com\x00", true)
            .unwrap();
        w.end_rr(at, Section::Answer).unwrap();
        // A record for mail.example.com: whole name is a pointer.
        w.write_rr(
            Owner::Name(b"\x04mail\x07EXAMPLE\x03com\x00"),
            1,
            1,
            60,
            &[1, 2, 3, 4],
            Section::Additional,
        )
        .unwrap();
        let len = w.finish();
        let expect: &[u8] = &[
            0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1, // header
            7, b'e', b'x', b'a', b'm', b'p', b'l', b'e', 3, b'c', b'o', b'm', 0, 0, 15, 0,
            1, //
            0xc0, 12, 0, 15, 0, 1, 0, 0, 0, 60, 0, 9, 0, 10, 4, b'M', b'A', b'I', b'L', 0xc0,
            12, //
            0xc0, 43, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 1, 2, 3, 4,
        ];
        assert_eq!(name_at, 43);
        assert_eq!(&buf[..len], expect);
    }

    /// A case-exact table points a name only at the same octets: the
    /// second name keeps its own "eXample" and points at "com" alone. The
    /// first occurrence of a name stays its only target, so the third,
    /// in the second's case, does the same (mixed case is rare: the cost
    /// is a few octets).
    #[test]
    fn a_case_exact_table_keeps_every_name_as_written() {
        let mut buf = [0u8; 512];
        let mut t = CompressionTable::new(256).case_exact();
        let mut w = MessageWriter::new(&mut buf, &mut t).unwrap();
        let first = w.write_name(b"\x01a\x07example\x03com\x00", true).unwrap();
        let second = w.write_name(b"\x01b\x07eXample\x03com\x00", true).unwrap();
        let third = w.write_name(b"\x01c\x07eXample\x03com\x00", true).unwrap();
        let len = w.finish();
        assert_eq!((first, second, third), (12, 27, 39));
        assert_eq!(len, 51);
        let com = 12 + 2 + 8;
        assert_eq!(&buf[second..third], b"\x01b\x07eXample\xc0\x16");
        assert_eq!(buf[com], 3);
        assert_eq!(&buf[third..len], b"\x01c\x07eXample\xc0\x16");
        // Without it, the second would point at the first's "example".
        let mut buf = [0u8; 512];
        let mut t = CompressionTable::new(256);
        let mut w = MessageWriter::new(&mut buf, &mut t).unwrap();
        w.write_name(b"\x01a\x07example\x03com\x00", true).unwrap();
        let second = w.write_name(b"\x01b\x07eXample\x03com\x00", true).unwrap();
        let len = w.finish();
        assert_eq!(&buf[second..len], b"\x01b\xc0\x0e");
    }

    #[test]
    fn honours_limit_and_rollback() {
        let mut buf = [0u8; 512];
        let mut t = CompressionTable::new(256);
        let mut w = MessageWriter::new(&mut buf, &mut t).unwrap();
        w.set_limit(40);
        let m = w.mark();
        w.write_name(b"\x03abc\x00", true).unwrap();
        assert_eq!(w.len(), 17);
        assert_eq!(w.put(&[0; 30]), Err(WireError::NoSpace));
        w.rollback(m);
        assert_eq!(w.len(), 12);
        // The rolled-back name is no longer a compression target.
        w.put(&[0xff; 5]).unwrap();
        let at = w.write_name(b"\x03abc\x00", true).unwrap();
        assert_eq!(&w.written()[at..], b"\x03abc\x00");
        assert_eq!(w.reserve(100), Err(WireError::NoSpace));
        w.reserve(5).unwrap();
        assert_eq!(w.limit(), 35);
    }

    #[test]
    fn never_points_beyond_14_bits() {
        let mut buf = vec![0u8; 0x5000];
        let mut t = CompressionTable::new(256);
        let mut w = MessageWriter::new(&mut buf, &mut t).unwrap();
        w.put(&vec![0u8; 0x4000]).unwrap();
        let first = w.write_name(b"\x03abc\x00", true).unwrap();
        let second = w.write_name(b"\x03abc\x00", true).unwrap();
        assert!(first > MAX_POINTER);
        assert_eq!(&w.written()[second..], b"\x03abc\x00");
    }
}
