//! Round trips over generated input (proptest): names through text and
//! wire, messages through the compressing writer and two parsers (ours
//! and hickory-proto), zones through the zone-file printer and reader.

use proptest::collection::vec;
use proptest::prelude::*;

use zonecast::wire::iana::{class, rtype};
use zonecast::wire::name::{NameBuf, SuffixHashes, fmt_name, parse_name_text};
use zonecast::wire::rdata::read_rdata;
use zonecast::wire::writer::{CompressionTable, MessageWriter, Owner, Section};
use zonecast::wire::{Message, Name};
use zonecast::zone::load_zone_text;
use zonecast::zone::text::write_zone_file;

/// A label of any octets, dots, quotes and backslashes included.
fn label() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        // Mostly the usual letters, so names share suffixes.
        vec(prop::sample::select(b"abcxyzABC019-".to_vec()), 1..8),
        vec(any::<u8>(), 1..64),
    ]
}

/// A name of up to 255 octets in wire form, below `suffix`.
fn name_under(suffix: &'static [u8]) -> impl Strategy<Value = Vec<u8>> {
    vec(label(), 0..6).prop_map(move |labels| {
        let mut w = Vec::new();
        for l in labels {
            if w.len() + 1 + l.len() + suffix.len() > 255 {
                break;
            }
            w.push(l.len() as u8);
            w.extend_from_slice(&l);
        }
        w.extend_from_slice(suffix);
        w
    })
}

const APEX: &[u8] = b"\x04test\x07example\x00";

fn text_of(wire: &[u8]) -> String {
    let mut s = String::new();
    fmt_name(wire, &mut s).unwrap();
    s
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// RFC 1035 §5.1: any name prints to text that reads back the same.
    #[test]
    fn names_print_and_read_back(wire in name_under(b"\x00")) {
        let text = text_of(&wire);
        let back = parse_name_text(&text, None).unwrap();
        prop_assert_eq!(back.as_wire(), &wire[..], "{}", text);
        let buf = NameBuf::from_wire(&wire).unwrap();
        prop_assert_eq!(buf.as_wire(), &wire[..]);
    }

    /// Records written with compression read back, by our parser and by
    /// hickory, as the names and data written (names compare ignoring
    /// case: compression may point at another spelling), with every
    /// pointer going backward, and in fewer octets than without.
    #[test]
    fn compressed_messages_parse_back(
        records in vec((name_under(APEX), 0u8..4, name_under(APEX)), 1..25)
    ) {
        let mut buf = vec![0u8; 65535];
        let mut table = CompressionTable::new(256);
        let mut w = MessageWriter::new(&mut buf, &mut table).unwrap();
        let mut qname = NameBuf::from_wire(APEX).unwrap();
        qname.make_lowercase();
        w.write_question(&qname, &SuffixHashes::compute(&qname), rtype::ANY, class::IN).unwrap();
        let mut plain_len = 12 + APEX.len() + 4;
        let mut expected = Vec::new();
        for (owner, kind, target) in &records {
            let t = [rtype::NS, rtype::MX, rtype::CNAME, rtype::A][*kind as usize];
            let at = w.begin_rr(Owner::Name(owner), t, class::IN, 300).unwrap();
            let rdata: Vec<u8> = match t {
                rtype::MX => [&[0u8, 10][..], target].concat(),
                rtype::A => vec![192, 0, 2, 1],
                _ => target.clone(),
            };
            match t {
                rtype::MX => {
                    w.put(&[0, 10]).unwrap();
                    w.write_name(target, true).unwrap();
                }
                rtype::A => w.put(&rdata).unwrap(),
                _ => {
                    w.write_name(target, true).unwrap();
                }
            }
            w.end_rr(at, Section::Answer).unwrap();
            plain_len += owner.len() + 10 + rdata.len();
            expected.push((owner.to_ascii_lowercase(), t, rdata.to_ascii_lowercase()));
        }
        let n = w.finish();
        let msg = &buf[..n];
        prop_assert!(n <= plain_len);

        let m = Message::new_checked(msg).unwrap();
        let s = m.parse().unwrap();
        let mut got = Vec::new();
        for r in s.answers() {
            let r = r.unwrap();
            let mut rd = Vec::new();
            read_rdata(msg, r.rdata_pos, r.rdata_len, r.rtype, &mut rd).unwrap();
            got.push((r.owner().as_wire().to_ascii_lowercase(), r.rtype, rd.to_ascii_lowercase()));
        }
        prop_assert_eq!(&got, &expected);

        let h = hickory_proto::op::Message::from_vec(msg).unwrap();
        prop_assert_eq!(h.answers.len(), records.len());
        for (rr, (owner, t, _)) in h.answers.iter().zip(&expected) {
            use hickory_proto::serialize::binary::BinEncodable;
            let hname = rr.name.to_bytes().unwrap().to_ascii_lowercase();
            prop_assert_eq!(&hname, owner);
            prop_assert_eq!(u16::from(rr.record_type()), *t);
        }
    }

    /// A zone printed as a zone file and read back is the same zone, for
    /// names with any octets and TXT strings with any octets.
    #[test]
    fn zones_print_and_read_back(
        rows in vec((name_under(APEX), 0u8..6, vec(vec(any::<u8>(), 0..40), 1..4), any::<u16>()), 0..40)
    ) {
        let apex = Name::from_wire(APEX).unwrap();
        let mut text = String::from("$TTL 300\n");
        text.push_str(&format!("{} SOA ns hm 1 2 3 4 5\n", text_of(APEX)));
        for (owner, kind, strings, n) in &rows {
            let owner = text_of(owner);
            let rdata = match kind {
                0 => format!("A 192.0.2.{}", n % 256),
                1 => format!("AAAA 2001:db8::{n:x}"),
                2 => format!("MX {n} mx.{}", text_of(APEX)),
                3 => format!("SRV 1 2 {n} srv.{}", text_of(APEX)),
                4 => format!("TYPE65000 \\# 2 {n:04x}"),
                _ => {
                    // Quoted, with every octet escaped as \DDD.
                    let quoted: Vec<String> = strings
                        .iter()
                        .map(|s| {
                            let body: String = s.iter().map(|b| format!("\\{b:03}")).collect();
                            format!("\"{body}\"")
                        })
                        .collect();
                    format!("TXT {}", quoted.join(" "))
                }
            };
            text.push_str(&format!("{owner} 60 IN {rdata}\n"));
        }
        let first = load_zone_text(text.as_bytes(), "generated", &apex)
            .map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        let records: Vec<_> = first.snapshot.records().collect();
        // Everything generated is there, duplicates merged (RFC 2181 §5).
        let distinct: std::collections::HashSet<_> = rows
            .iter()
            .map(|(owner, kind, strings, n)| {
                let value = match kind {
                    0 => vec![(n % 256) as u8],
                    5 => strings.iter().flat_map(|s| [&[s.len() as u8][..], s].concat()).collect(),
                    _ => n.to_be_bytes().to_vec(),
                };
                (owner.to_ascii_lowercase(), *kind, value)
            })
            .collect();
        prop_assert_eq!(records.len(), distinct.len() + 1);
        let mut printed = Vec::new();
        write_zone_file(&mut printed, "printed", first.snapshot.records()).unwrap();
        let second = load_zone_text(&printed, "printed", &apex)
            .map_err(|e| TestCaseError::fail(format!("{e}\n{}", String::from_utf8_lossy(&printed))))?;
        let again: Vec<_> = second.snapshot.records().collect();
        prop_assert_eq!(records, again);
    }
}

/// Entropy for [`valid_rdata`]: octets taken one at a time, zero when
/// used up.
struct Entropy<'a>(&'a [u8]);

impl Entropy<'_> {
    fn byte(&mut self) -> u8 {
        let (b, rest) = self.0.split_first().unwrap_or((&0, &[]));
        self.0 = rest;
        *b
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.byte()).collect()
    }
    /// A small name of letters and digits in wire form.
    fn name(&mut self) -> Vec<u8> {
        let mut w = Vec::new();
        for _ in 0..1 + self.byte() % 3 {
            let n = 1 + self.byte() as usize % 6;
            w.push(n as u8);
            w.extend((0..n).map(|_| b"abcxyz019-"[self.byte() as usize % 10]));
        }
        w.push(0);
        w
    }
    fn char_string(&mut self) -> Vec<u8> {
        let n = self.byte() as usize % 12;
        [&[n as u8][..], &self.bytes(n)].concat()
    }
}

/// Builds RDATA of type `t` field by field from its layout, each field a
/// value its RFC allows, from the octets of `seed`.
fn valid_rdata(t: u16, seed: &[u8]) -> Vec<u8> {
    use zonecast::wire::rdata::{Field, layout};
    let mut e = Entropy(seed);
    let mut out = Vec::new();
    for &f in layout(t).unwrap() {
        match f {
            Field::U8 | Field::Algorithm | Field::Protocol => out.push(e.byte()),
            Field::U16 | Field::Type | Field::CertType => out.extend(e.bytes(2)),
            Field::U32 | Field::Ttl | Field::Time | Field::Ipv4 => out.extend(e.bytes(4)),
            Field::Ipv6 => out.extend(e.bytes(16)),
            Field::Eui48 => out.extend(e.bytes(6)),
            Field::Eui64 | Field::Ilnp64 => out.extend(e.bytes(8)),
            Field::AmtType => out.push(e.byte() & 0x83),
            Field::Loc => {
                out.push(0);
                for _ in 0..3 {
                    let m = e.byte() % 10;
                    out.push(if m == 0 {
                        0
                    } else {
                        (m << 4) | (e.byte() % 10)
                    });
                }
                // Within about 4.6° of the equator and the meridian.
                for _ in 0..2 {
                    let top = if e.byte() % 2 == 0 { 0x80 } else { 0x7f };
                    out.extend([top, e.byte(), e.byte(), e.byte()]);
                }
                out.extend(e.bytes(4));
            }
            Field::Gateway => {
                if t == rtype::IPSECKEY {
                    out[1] %= 4;
                }
                match out[1] & 0x7f {
                    0 => {}
                    1 => out.extend(e.bytes(4)),
                    2 => out.extend(e.bytes(16)),
                    _ => out.extend(e.name()),
                }
            }
            Field::Name => out.extend(e.name()),
            Field::CharString => out.extend(e.char_string()),
            Field::CharStrings => {
                for _ in 0..1 + e.byte() % 3 {
                    out.extend(e.char_string());
                }
            }
            Field::OptCharString => {
                if e.byte() % 2 == 1 {
                    out.extend(e.char_string());
                }
            }
            Field::Base64 | Field::Hex | Field::Text => {
                let n = e.byte() as usize % 20;
                out.extend(e.bytes(n));
            }
            Field::Base32Hex => {
                let n = 1 + e.byte() as usize % 20;
                out.push(n as u8);
                out.extend(e.bytes(n));
            }
            Field::Salt => {
                let n = e.byte() as usize % 8;
                out.push(n as u8);
                out.extend(e.bytes(n));
            }
            Field::CaaTag => {
                let n = 1 + e.byte() as usize % 8;
                out.push(n as u8);
                out.extend((0..n).map(|_| b"issuewild0"[e.byte() as usize % 10]));
            }
            Field::TypeBitmap => {
                let mut types: Vec<u16> = (0..e.byte() % 5)
                    .map(|_| u16::from_be_bytes([e.byte() % 2, e.byte()]))
                    .collect();
                zonecast::zone::text::encode_type_bitmap(&mut types, &mut out);
            }
            Field::SvcParams => {}
            Field::WksBitmap | Field::Nsap => {
                let n = e.byte() as usize % 8;
                let mut v = e.bytes(n);
                v.push(1 | e.byte());
                out.extend(v);
            }
            Field::NxtBitmap => {
                let n = e.byte() as usize % 15;
                let mut v = e.bytes(n);
                v.push(1 | e.byte());
                v[0] &= 0x7f;
                out.extend(v);
            }
            Field::Apl => {
                for _ in 0..e.byte() % 3 {
                    let v6 = e.byte() % 2 == 1;
                    let (max_prefix, max_len) = if v6 { (129, 16) } else { (33, 4) };
                    out.extend([0, 1 + v6 as u8, e.byte() % max_prefix]);
                    let n = e.byte() as usize % (max_len + 1);
                    out.push(n as u8 | (e.byte() & 0x80));
                    let mut part = e.bytes(n);
                    if let Some(last) = part.last_mut() {
                        *last |= 1;
                    }
                    out.extend(part);
                }
            }
            Field::Hip => {
                let hit = 1 + e.byte() as usize % 16;
                let key = 1 + e.byte() as usize % 30;
                out.extend([hit as u8, e.byte(), 0, key as u8]);
                out.extend(e.bytes(hit + key));
                for _ in 0..e.byte() % 3 {
                    out.extend(e.name());
                }
            }
            Field::A6 => {
                let plen = e.byte() % 129;
                out.push(plen);
                let n = (128 - plen as usize).div_ceil(8);
                let mut suffix = e.bytes(n);
                if plen % 8 != 0 {
                    suffix[0] &= 0xff >> (plen % 8);
                }
                out.extend(suffix);
                if plen > 0 {
                    out.extend(e.name());
                }
            }
            Field::Atma => {
                let n = 1 + e.byte() as usize % 12;
                if e.byte() % 2 == 0 {
                    out.push(0);
                    out.extend(e.bytes(n));
                } else {
                    out.push(1);
                    out.extend((0..n).map(|_| b'0' + e.byte() % 10));
                }
            }
        }
    }
    // Digest types whose length an RFC fixes get a length it allows.
    if let Some(kind_at) = match t {
        rtype::DS | rtype::CDS | rtype::TA | rtype::DLV => Some(3),
        rtype::SSHFP => Some(1),
        rtype::ZONEMD => Some(5),
        _ => None,
    } {
        let n = zonecast::wire::rdata::digest_len(t, out[kind_at]).unwrap_or(12);
        let digest_at = kind_at + 1;
        out.truncate(digest_at);
        out.extend(e.bytes(n));
    }
    out
}

/// Every type that has a presentation format.
fn types_with_layout() -> Vec<u16> {
    (0..=u16::MAX)
        .filter(|&t| zonecast::wire::rdata::layout(t).is_some())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    /// Any valid RDATA of any type with a presentation format is accepted
    /// by the wire layer, prints, and reads back into the same octets.
    #[test]
    fn rdata_of_every_type_prints_and_reads_back(
        t in prop::sample::select(types_with_layout()),
        seed in vec(any::<u8>(), 0..200),
    ) {
        use zonecast::wire::rdata::check_rdata;
        use zonecast::zone::text::RdataDisplay;
        let rdata = valid_rdata(t, &seed);
        prop_assert!(check_rdata(t, &rdata).is_ok(), "type {t}: {rdata:02x?}");
        let text = format!(
            "$TTL 60\n@ SOA ns hm 1 2 3 4 5\nx IN {} {}\n",
            rtype::Display(t),
            RdataDisplay(t, &rdata)
        );
        let apex = Name::from_wire(APEX).unwrap();
        let zone = load_zone_text(text.as_bytes(), "generated", &apex)
            .map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        let again: Vec<Vec<u8>> = zone
            .snapshot
            .records()
            .filter(|r| r.2 == t && t != rtype::SOA)
            .map(|r| r.3.to_vec())
            .collect();
        if t != rtype::SOA {
            prop_assert_eq!(again, vec![rdata], "{}", text);
        }
    }
}
