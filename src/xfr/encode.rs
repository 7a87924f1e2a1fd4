//! Packing records into transfer response messages, the way a primary
//! sends them. Used to drive the sans-I/O transfer code in unit tests and
//! fuzz targets without a network.

use crate::wire::header::flag;
use crate::wire::iana::class;
use crate::wire::name::{NameBuf, SuffixHashes};
use crate::wire::writer::{CompressionTable, MessageWriter, Owner, Section};
use crate::zone::Rr;

/// The messages answering query `id` for `apex`/`qtype`, `per_message`
/// records each; the question is repeated in every message.
pub fn encode_transfer(
    id: u16,
    apex: &[u8],
    qtype: u16,
    records: &[Rr],
    per_message: usize,
) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut table = CompressionTable::new(1024);
    let mut qname = NameBuf::from_wire(apex).unwrap_or_default();
    qname.make_lowercase();
    let hashes = SuffixHashes::compute(&qname);
    let chunks: Vec<&[Rr]> = if records.is_empty() {
        vec![&[]]
    } else {
        records.chunks(per_message.max(1)).collect()
    };
    for chunk in chunks {
        let mut buf = vec![0u8; 65535];
        let Ok(mut w) = MessageWriter::new(&mut buf, &mut table) else {
            break;
        };
        let mut h = w.header();
        h.set_id(id);
        h.set_flags(flag::QR | flag::AA);
        if w.write_question(&qname, &hashes, qtype, class::IN).is_err() {
            break;
        }
        for rr in chunk {
            if w.write_rr(
                Owner::Name(rr.owner.as_wire()),
                rr.rtype,
                rr.class,
                rr.ttl,
                &rr.rdata,
                Section::Answer,
            )
            .is_err()
            {
                break;
            }
        }
        let len = w.finish();
        buf.truncate(len);
        out.push(buf);
    }
    out
}
