//! The TSIG record's RDATA (RFC 8945 §4.2), read in place.

use super::error::{Result, WireError};
use super::name;

/// TSIG RDATA fields; the algorithm name stays in the message.
#[derive(Debug, Clone, Copy)]
pub struct TsigRdata<'a> {
    /// Position of the algorithm name in the message.
    pub algorithm_pos: usize,
    /// Seconds since the epoch, 48 bits.
    pub time_signed: u64,
    pub fudge: u16,
    pub mac: &'a [u8],
    pub original_id: u16,
    pub error: u16,
    pub other: &'a [u8],
}

impl<'a> TsigRdata<'a> {
    /// Reads TSIG RDATA at `msg[pos..pos + len]`.
    pub fn parse(msg: &'a [u8], pos: usize, len: usize) -> Result<Self> {
        let end = pos + len;
        let rd = msg.get(..end).ok_or(WireError::Truncated)?;
        // RFC 8945 §4.2: the algorithm name is never compressed.
        let p = name::skip(&rd[pos..], 0).map_err(|_| WireError::BadRdata)? + pos;
        let fixed = rd.get(p..p + 10).ok_or(WireError::BadRdata)?;
        let time_signed = fixed[..6].iter().fold(0u64, |a, &b| (a << 8) | b as u64);
        let fudge = u16::from_be_bytes([fixed[6], fixed[7]]);
        let mac_len = u16::from_be_bytes([fixed[8], fixed[9]]) as usize;
        let mac = rd
            .get(p + 10..p + 10 + mac_len)
            .ok_or(WireError::BadRdata)?;
        let q = p + 10 + mac_len;
        let tail = rd.get(q..q + 6).ok_or(WireError::BadRdata)?;
        let other_len = u16::from_be_bytes([tail[4], tail[5]]) as usize;
        let other = rd
            .get(q + 6..q + 6 + other_len)
            .ok_or(WireError::BadRdata)?;
        if q + 6 + other_len != end {
            return Err(WireError::BadRdata);
        }
        Ok(TsigRdata {
            algorithm_pos: pos,
            time_signed,
            fudge,
            mac,
            original_id: u16::from_be_bytes([tail[0], tail[1]]),
            error: u16::from_be_bytes([tail[2], tail[3]]),
            other,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_fields_and_rejects_bad_lengths() {
        let mut rd = b"\x0bhmac-sha256\x00".to_vec();
        rd.extend_from_slice(&[
            0, 0, 0x60, 0, 0, 1, 1, 0x2c, 0, 2, 0xaa, 0xbb, 0x12, 0x34, 0, 0, 0, 0,
        ]);
        let t = TsigRdata::parse(&rd, 0, rd.len()).unwrap();
        assert_eq!(t.time_signed, 0x6000_0001);
        assert_eq!(t.fudge, 300);
        assert_eq!(t.mac, &[0xaa, 0xbb]);
        assert_eq!(t.original_id, 0x1234);
        assert!(TsigRdata::parse(&rd, 0, rd.len() - 1).is_err());
        assert!(TsigRdata::parse(&rd[..rd.len() - 1], 0, rd.len() - 1).is_err());
        assert!(TsigRdata::parse(&[], 0, 0).is_err());
    }
}
