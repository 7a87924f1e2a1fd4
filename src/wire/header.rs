//! The 12-octet message header (RFC 1035 §4.1.1), read and written in
//! place.

use super::error::{Result, WireError};

/// Byte ranges of the header fields.
mod field {
    pub const ID: usize = 0;
    pub const FLAGS: usize = 2;
    pub const QDCOUNT: usize = 4;
    pub const ANCOUNT: usize = 6;
    pub const NSCOUNT: usize = 8;
    pub const ARCOUNT: usize = 10;
}

pub const HEADER_LEN: usize = 12;

/// Bits of the second 16-bit word.
pub mod flag {
    pub const QR: u16 = 0x8000;
    pub const AA: u16 = 0x0400;
    pub const TC: u16 = 0x0200;
    pub const RD: u16 = 0x0100;
    pub const RA: u16 = 0x0080;
    /// The Z bit; must be zero (RFC 1035 §4.1.1).
    pub const Z: u16 = 0x0040;
    pub const AD: u16 = 0x0020;
    pub const CD: u16 = 0x0010;
    pub const OPCODE_SHIFT: u16 = 11;
    pub const OPCODE_MASK: u16 = 0x7800;
    pub const RCODE_MASK: u16 = 0x000f;
}

/// A view of the header at the start of a buffer that is known to be at
/// least 12 octets long.
#[derive(Debug, Clone, Copy)]
pub struct Header<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Header<T> {
    /// Wraps `buffer` after checking that it holds a whole header.
    pub fn new_checked(buffer: T) -> Result<Self> {
        if buffer.as_ref().len() < HEADER_LEN {
            return Err(WireError::ShortHeader);
        }
        Ok(Header { buffer })
    }

    fn u16_at(&self, at: usize) -> u16 {
        let b = self.buffer.as_ref();
        u16::from_be_bytes([b[at], b[at + 1]])
    }

    pub fn id(&self) -> u16 {
        self.u16_at(field::ID)
    }
    pub fn flags(&self) -> u16 {
        self.u16_at(field::FLAGS)
    }
    pub fn qr(&self) -> bool {
        self.flags() & flag::QR != 0
    }
    pub fn opcode(&self) -> u8 {
        ((self.flags() & flag::OPCODE_MASK) >> flag::OPCODE_SHIFT) as u8
    }
    pub fn rcode(&self) -> u8 {
        (self.flags() & flag::RCODE_MASK) as u8
    }
    pub fn qdcount(&self) -> u16 {
        self.u16_at(field::QDCOUNT)
    }
    pub fn ancount(&self) -> u16 {
        self.u16_at(field::ANCOUNT)
    }
    pub fn nscount(&self) -> u16 {
        self.u16_at(field::NSCOUNT)
    }
    pub fn arcount(&self) -> u16 {
        self.u16_at(field::ARCOUNT)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Header<T> {
    fn set_u16_at(&mut self, at: usize, v: u16) {
        self.buffer.as_mut()[at..at + 2].copy_from_slice(&v.to_be_bytes());
    }
    pub fn set_id(&mut self, v: u16) {
        self.set_u16_at(field::ID, v)
    }
    pub fn set_flags(&mut self, v: u16) {
        self.set_u16_at(field::FLAGS, v)
    }
    pub fn set_qdcount(&mut self, v: u16) {
        self.set_u16_at(field::QDCOUNT, v)
    }
    pub fn set_ancount(&mut self, v: u16) {
        self.set_u16_at(field::ANCOUNT, v)
    }
    pub fn set_nscount(&mut self, v: u16) {
        self.set_u16_at(field::NSCOUNT, v)
    }
    pub fn set_arcount(&mut self, v: u16) {
        self.set_u16_at(field::ARCOUNT, v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_fields_in_place() {
        let bytes = [
            0xab, 0xcd, 0x29, 0x05, 0, 1, 0, 2, 0, 3, 0, 4, 0xff, //
        ];
        let h = Header::new_checked(&bytes[..]).unwrap();
        assert_eq!(h.id(), 0xabcd);
        assert!(!h.qr());
        assert_eq!(h.opcode(), 5);
        assert_eq!(h.flags() & flag::RD, flag::RD);
        assert_eq!(h.rcode(), 5);
        assert_eq!(
            (h.qdcount(), h.ancount(), h.nscount(), h.arcount()),
            (1, 2, 3, 4)
        );
    }

    #[test]
    fn rejects_short_buffer() {
        assert_eq!(
            Header::new_checked(&[0u8; 11][..]).err(),
            Some(WireError::ShortHeader)
        );
    }

    #[test]
    fn writes_fields_in_place() {
        let mut bytes = [0u8; 12];
        let mut h = Header::new_checked(&mut bytes[..]).unwrap();
        h.set_id(0x1234);
        h.set_flags(flag::QR | flag::AA);
        h.set_ancount(7);
        assert_eq!(bytes, [0x12, 0x34, 0x84, 0, 0, 0, 0, 7, 0, 0, 0, 0]);
    }
}
