//! Writes records as zone-file text that [`super::ZoneFileReader`] reads
//! back: absolute names, explicit TTL and class on every line.

use std::io::{self, Write};

use super::rdata::RdataDisplay;
use crate::wire::iana::rtype;
use crate::wire::name::fmt_name;

/// Writes one line per record; `records` yields (owner, TTL, type, RDATA)
/// with owner and RDATA in uncompressed wire form.
pub fn write_zone_file<'r>(
    out: &mut impl Write,
    header: &str,
    records: impl IntoIterator<Item = (&'r [u8], u32, u16, &'r [u8])>,
) -> io::Result<()> {
    writeln!(out, ";; {header}")?;
    let mut line = String::with_capacity(256);
    for (owner, ttl, t, rdata) in records {
        use core::fmt::Write as _;
        line.clear();
        let _ = fmt_name(owner, &mut line);
        let _ = write!(
            line,
            " {ttl} IN {} {}",
            rtype::Display(t),
            RdataDisplay(t, rdata)
        );
        line.push('\n');
        out.write_all(line.as_bytes())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::name::parse_name_text;
    use crate::zone::text::ZoneFileReader;

    #[test]
    fn written_text_reads_back() {
        let owner = parse_name_text("a\\.b.example.com.", None).unwrap();
        let recs: Vec<(&[u8], u32, u16, &[u8])> = vec![
            (owner.as_wire(), 60, rtype::A, &[192, 0, 2, 1]),
            (owner.as_wire(), 60, rtype::TXT, b"\x03a\"b"),
            (owner.as_wire(), 60, 65280, &[1, 2]),
        ];
        let mut buf = Vec::new();
        write_zone_file(&mut buf, "test", recs.iter().copied()).unwrap();
        let origin = parse_name_text("example.com.", None).unwrap();
        let mut r = ZoneFileReader::new(&buf, "mem", origin);
        for (o, ttl, t, rd) in &recs {
            let rr = r.next_record().unwrap().unwrap();
            assert_eq!(
                (rr.owner.as_wire(), rr.ttl, rr.rtype, &rr.rdata[..]),
                (*o, *ttl, *t, *rd)
            );
        }
        assert!(r.next_record().unwrap().is_none());
    }
}
