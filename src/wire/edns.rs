//! The OPT pseudo-record of EDNS(0) (RFC 6891 §6) and its options.

use super::error::{Result, WireError};
use super::iana::{edns_option, rtype};
use super::record::Record;

/// The DO bit in the OPT TTL's flags (RFC 3225 §3).
pub const FLAG_DO: u16 = 0x8000;

/// An OPT record, read in place.
#[derive(Debug, Clone, Copy)]
pub struct Edns<'a> {
    /// Requestor's UDP payload size (the CLASS field).
    pub udp_payload: u16,
    /// Upper 8 bits of the extended RCODE.
    pub ext_rcode: u8,
    pub version: u8,
    pub flags: u16,
    options: &'a [u8],
}

impl<'a> Edns<'a> {
    /// Interprets `rec`, which must be of type OPT, checking that the
    /// options exactly fill the RDATA. The owner should be the root (RFC
    /// 6891 §6.1.2); like Knot, zonecast does not insist.
    pub fn from_record(rec: &Record<'a>) -> Result<Self> {
        debug_assert_eq!(rec.rtype, rtype::OPT);
        let options = rec.rdata();
        let mut it = EdnsOptions { data: options };
        for o in &mut it {
            o?;
        }
        let ttl = rec.ttl.to_be_bytes();
        Ok(Edns {
            udp_payload: rec.class,
            ext_rcode: ttl[0],
            version: ttl[1],
            flags: u16::from_be_bytes([ttl[2], ttl[3]]),
            options,
        })
    }

    pub fn dnssec_ok(&self) -> bool {
        self.flags & FLAG_DO != 0
    }

    pub fn options(&self) -> EdnsOptions<'a> {
        EdnsOptions { data: self.options }
    }
}

/// One EDNS option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdnsOption<'a> {
    /// RFC 5001: empty in a query.
    Nsid(&'a [u8]),
    /// RFC 7873 §4: an 8-octet client cookie and an optional 8–32 octet
    /// server cookie.
    Cookie { client: &'a [u8], server: &'a [u8] },
    /// RFC 7314: empty in a query, four octets in a response.
    Expire(Option<u32>),
    /// RFC 7828: empty in a query.
    TcpKeepalive(Option<u16>),
    /// RFC 7830.
    Padding(&'a [u8]),
    /// RFC 8914.
    ExtendedError { info_code: u16, text: &'a [u8] },
    /// Anything else, kept opaque.
    Unknown { code: u16, data: &'a [u8] },
    /// A known option whose content has the wrong length. The framing was
    /// right, so the message is well formed; the option is ignored.
    Malformed { code: u16, data: &'a [u8] },
}

/// Iterator over the options in OPT RDATA; a malformed option ends it with
/// an error.
#[derive(Debug, Clone)]
pub struct EdnsOptions<'a> {
    data: &'a [u8],
}

impl<'a> Iterator for EdnsOptions<'a> {
    type Item = Result<EdnsOption<'a>>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.data.is_empty() {
            return None;
        }
        let r = parse_option(self.data);
        match r {
            Ok((opt, used)) => {
                self.data = &self.data[used..];
                Some(Ok(opt))
            }
            Err(e) => {
                self.data = &[];
                Some(Err(e))
            }
        }
    }
}

fn parse_option(data: &[u8]) -> Result<(EdnsOption<'_>, usize)> {
    let head = data.get(..4).ok_or(WireError::BadOpt)?;
    let code = u16::from_be_bytes([head[0], head[1]]);
    let len = u16::from_be_bytes([head[2], head[3]]) as usize;
    let body = data.get(4..4 + len).ok_or(WireError::BadOpt)?;
    let opt = match code {
        edns_option::NSID => EdnsOption::Nsid(body),
        edns_option::COOKIE => {
            if len != 8 && !(16..=40).contains(&len) {
                return Ok((EdnsOption::Malformed { code, data: body }, 4 + len));
            }
            EdnsOption::Cookie {
                client: &body[..8],
                server: &body[8..],
            }
        }
        edns_option::EXPIRE => match body.len() {
            0 => EdnsOption::Expire(None),
            4 => EdnsOption::Expire(Some(u32::from_be_bytes([
                body[0], body[1], body[2], body[3],
            ]))),
            _ => EdnsOption::Malformed { code, data: body },
        },
        edns_option::TCP_KEEPALIVE => match body.len() {
            0 => EdnsOption::TcpKeepalive(None),
            2 => EdnsOption::TcpKeepalive(Some(u16::from_be_bytes([body[0], body[1]]))),
            _ => EdnsOption::Malformed { code, data: body },
        },
        edns_option::PADDING => EdnsOption::Padding(body),
        edns_option::EDE => {
            if body.len() < 2 {
                return Ok((EdnsOption::Malformed { code, data: body }, 4 + len));
            }
            EdnsOption::ExtendedError {
                info_code: u16::from_be_bytes([body[0], body[1]]),
                text: &body[2..],
            }
        }
        _ => EdnsOption::Unknown { code, data: body },
    };
    Ok((opt, 4 + len))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opt_record(ttl: [u8; 4], rdata: &[u8]) -> Vec<u8> {
        let mut v = vec![0, 0, 41, 0x10, 0x00];
        v.extend_from_slice(&ttl);
        v.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
        v.extend_from_slice(rdata);
        v
    }

    #[test]
    fn reads_fields_and_options() {
        let rdata = [
            0, 3, 0, 0, // NSID, empty
            0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8, // client cookie
            0, 9, 0, 0, // EXPIRE, empty
            0xfd, 0xe9, 0, 2, 0xaa, 0xbb, // unknown 65001
        ];
        let bytes = opt_record([0, 0, 0x80, 0], &rdata);
        let rec = Record::parse(&bytes, 0).unwrap();
        let e = Edns::from_record(&rec).unwrap();
        assert_eq!(e.udp_payload, 4096);
        assert_eq!(e.version, 0);
        assert!(e.dnssec_ok());
        let opts: Vec<_> = e.options().map(|o| o.unwrap()).collect();
        assert_eq!(
            opts,
            vec![
                EdnsOption::Nsid(&[]),
                EdnsOption::Cookie {
                    client: &[1, 2, 3, 4, 5, 6, 7, 8],
                    server: &[]
                },
                EdnsOption::Expire(None),
                EdnsOption::Unknown {
                    code: 65001,
                    data: &[0xaa, 0xbb]
                },
            ]
        );
    }

    #[test]
    fn bad_content_is_malformed_not_an_error() {
        let bytes = opt_record([0; 4], &[0, 10, 0, 3, 1, 2, 3, 0, 9, 0, 2, 0, 0]);
        let rec = Record::parse(&bytes, 0).unwrap();
        let opts: Vec<_> = Edns::from_record(&rec)
            .unwrap()
            .options()
            .map(|o| o.unwrap())
            .collect();
        assert_eq!(
            opts,
            [
                EdnsOption::Malformed {
                    code: 10,
                    data: &[1, 2, 3]
                },
                EdnsOption::Malformed {
                    code: 9,
                    data: &[0, 0]
                }
            ]
        );
    }

    #[test]
    fn rejects_bad_framing() {
        for rdata in [
            &[0u8, 3, 0][..],     // short option header
            &[0, 3, 0, 5, 1][..], // option longer than RDATA
        ] {
            let bytes = opt_record([0; 4], rdata);
            let rec = Record::parse(&bytes, 0).unwrap();
            assert_eq!(
                Edns::from_record(&rec).err(),
                Some(WireError::BadOpt),
                "{rdata:?}"
            );
        }
    }
}
