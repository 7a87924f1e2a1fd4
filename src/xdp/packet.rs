//! Ethernet, IPv4/IPv6 and UDP headers of one frame: reading a query's,
//! and writing its answer's with the addresses and ports swapped. Pure
//! functions on octets, so they are tested (and fuzzed through the
//! answer path) without a network.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

const ETH: usize = 14;
const IPV4: usize = 20;
const IPV6: usize = 40;
const UDP: usize = 8;
/// Headers before an answer's DNS message.
pub const V4_HEADERS: usize = ETH + IPV4 + UDP;
pub const V6_HEADERS: usize = ETH + IPV6 + UDP;

/// A UDP datagram found in a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Datagram {
    pub source: IpAddr,
    /// Headers before the payload (also the answer's).
    pub headers: usize,
    /// The payload's length, as the UDP header gives it (a frame may
    /// carry Ethernet padding after it).
    pub payload: usize,
}

fn be16(b: &[u8], at: usize) -> usize {
    usize::from(u16::from_be_bytes([b[at], b[at + 1]]))
}

/// The UDP datagram to `port` in `frame`; `None` for anything else or
/// anything inconsistent (the program passes only what parses, but the
/// kernel is not the only writer of frames we trust less than this).
pub fn parse(frame: &[u8], port: u16) -> Option<Datagram> {
    if frame.len() < ETH {
        return None;
    }
    let (source, headers, ip_payload) = match be16(frame, 12) {
        0x0800 => {
            let ip = frame.get(ETH..ETH + IPV4)?;
            // No options, UDP, no fragment (RFC 791 §3.1).
            if ip[0] != 0x45 || ip[9] != 17 || be16(ip, 6) & 0x3fff != 0 {
                return None;
            }
            let total = be16(ip, 2);
            if total < IPV4 + UDP || ETH + total > frame.len() {
                return None;
            }
            let src = Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]);
            (IpAddr::V4(src), V4_HEADERS, total - IPV4)
        }
        0x86dd => {
            let ip = frame.get(ETH..ETH + IPV6)?;
            if ip[0] >> 4 != 6 || ip[6] != 17 {
                return None;
            }
            let payload = be16(ip, 4);
            if payload < UDP || ETH + IPV6 + payload > frame.len() {
                return None;
            }
            let mut src = [0u8; 16];
            src.copy_from_slice(&ip[8..24]);
            (IpAddr::V6(Ipv6Addr::from(src)), V6_HEADERS, payload)
        }
        _ => return None,
    };
    let udp = &frame[headers - UDP..headers];
    let len = be16(udp, 4);
    if be16(udp, 2) != usize::from(port) || len < UDP || len > ip_payload {
        return None;
    }
    Some(Datagram {
        source,
        headers,
        payload: len - UDP,
    })
}

/// The ones' complement sum of `b` (RFC 1071), added to `sum`.
fn add_sum(mut sum: u64, b: &[u8]) -> u64 {
    let mut words = b.chunks_exact(4);
    for w in words.by_ref() {
        sum += u64::from(u32::from_be_bytes([w[0], w[1], w[2], w[3]]));
    }
    let rest = words.remainder();
    let mut tail = [0u8; 4];
    tail[..rest.len()].copy_from_slice(rest);
    sum + u64::from(u32::from_be_bytes(tail))
}

fn fold(mut sum: u64) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Writes the headers of the answer to `query` (parsed as `d`) before
/// the `payload` octets already in `out[d.headers..]`; returns the
/// frame's length.
pub fn write_answer(query: &[u8], d: &Datagram, out: &mut [u8], payload: usize) -> usize {
    let total = d.headers + payload;
    // Ethernet: back to whoever sent it, from the address it came to.
    out[0..6].copy_from_slice(&query[6..12]);
    out[6..12].copy_from_slice(&query[0..6]);
    out[12..14].copy_from_slice(&query[12..14]);
    let udp_len = (UDP + payload) as u16;
    let udp_at = d.headers - UDP;
    let pseudo = match d.source {
        IpAddr::V4(_) => {
            let q = &query[ETH..ETH + IPV4];
            let ip = &mut out[ETH..ETH + IPV4];
            ip[0] = 0x45;
            ip[1] = 0;
            ip[2..4].copy_from_slice(&((IPV4 + UDP + payload) as u16).to_be_bytes());
            // Identification 0 with don't-fragment (RFC 6864 §4.1).
            ip[4..6].copy_from_slice(&[0, 0]);
            ip[6..8].copy_from_slice(&[0x40, 0]);
            ip[8] = 64;
            ip[9] = 17;
            ip[10..12].copy_from_slice(&[0, 0]);
            ip[12..16].copy_from_slice(&q[16..20]);
            ip[16..20].copy_from_slice(&q[12..16]);
            let sum = fold(add_sum(0, ip));
            ip[10..12].copy_from_slice(&sum.to_be_bytes());
            add_sum(u64::from(17u16) + u64::from(udp_len), &ip[12..20])
        }
        IpAddr::V6(_) => {
            let q = &query[ETH..ETH + IPV6];
            let ip = &mut out[ETH..ETH + IPV6];
            ip[0..4].copy_from_slice(&[0x60, 0, 0, 0]);
            ip[4..6].copy_from_slice(&udp_len.to_be_bytes());
            ip[6] = 17;
            ip[7] = 64;
            ip[8..24].copy_from_slice(&q[24..40]);
            ip[24..40].copy_from_slice(&q[8..24]);
            add_sum(u64::from(17u16) + u64::from(udp_len), &ip[8..40])
        }
    };
    let q_udp = &query[udp_at..udp_at + UDP];
    let (sport, dport) = ([q_udp[2], q_udp[3]], [q_udp[0], q_udp[1]]);
    let udp = &mut out[udp_at..total];
    udp[0..2].copy_from_slice(&sport);
    udp[2..4].copy_from_slice(&dport);
    udp[4..6].copy_from_slice(&udp_len.to_be_bytes());
    udp[6..8].copy_from_slice(&[0, 0]);
    // RFC 768: a computed 0 is sent as all ones (0 means none, which
    // IPv6 forbids, RFC 8200 §8.1).
    let sum = match fold(add_sum(pseudo, udp)) {
        0 => 0xffff,
        s => s,
    };
    udp[6..8].copy_from_slice(&sum.to_be_bytes());
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A query frame as a client's kernel sends it.
    fn frame(v6: bool, port: u16, payload: &[u8]) -> Vec<u8> {
        let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1];
        let udp_len = (8 + payload.len()) as u16;
        if v6 {
            f.extend_from_slice(&[0x86, 0xdd, 0x60, 0, 0, 0]);
            f.extend_from_slice(&udp_len.to_be_bytes());
            f.extend_from_slice(&[17, 64]);
            f.extend_from_slice(&"2001:db8::1".parse::<Ipv6Addr>().unwrap().octets());
            f.extend_from_slice(&"2001:db8::2".parse::<Ipv6Addr>().unwrap().octets());
        } else {
            f.extend_from_slice(&[0x08, 0x00, 0x45, 0]);
            f.extend_from_slice(&(28 + payload.len() as u16).to_be_bytes());
            f.extend_from_slice(&[0, 1, 0, 0, 64, 17, 0, 0, 198, 18, 0, 1, 198, 18, 0, 2]);
        }
        f.extend_from_slice(&40000u16.to_be_bytes());
        f.extend_from_slice(&port.to_be_bytes());
        f.extend_from_slice(&udp_len.to_be_bytes());
        f.extend_from_slice(&[0, 0]);
        f.extend_from_slice(payload);
        f
    }

    /// Checks a checksum the way a receiver does: the sum over the
    /// covered octets, checksum included, is all ones.
    fn verifies(pseudo: u64, b: &[u8]) -> bool {
        fold(add_sum(pseudo, b)) == 0
    }

    #[test]
    fn queries_to_other_ports_fragments_and_options_are_not_ours() {
        let q = frame(false, 53, b"abc");
        assert_eq!(
            parse(&q, 53),
            Some(Datagram {
                source: "198.18.0.1".parse().unwrap(),
                headers: V4_HEADERS,
                payload: 3
            })
        );
        assert_eq!(parse(&q, 5353), None);
        let mut frag = q.clone();
        frag[20] = 0x20; // more fragments
        assert_eq!(parse(&frag, 53), None);
        let mut opts = q.clone();
        opts[14] = 0x46;
        assert_eq!(parse(&opts, 53), None);
        // A UDP length past the IP packet, and a packet past the frame.
        let mut long = q.clone();
        long[38..40].copy_from_slice(&100u16.to_be_bytes());
        assert_eq!(parse(&long, 53), None);
        assert_eq!(parse(&q[..q.len() - 1], 53), None);
        for n in 0..q.len() {
            let _ = parse(&q[..n], 53);
        }
        // Ethernet padding after a short packet is not payload.
        let mut padded = q.clone();
        padded.resize(60, 0xee);
        assert_eq!(parse(&padded, 53).unwrap().payload, 3);
        let v6 = frame(true, 53, b"hello");
        let d = parse(&v6, 53).unwrap();
        assert_eq!((d.headers, d.payload), (V6_HEADERS, 5));
        assert_eq!(d.source, "2001:db8::1".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn answers_go_back_swapped_with_checksums_a_receiver_accepts() {
        for v6 in [false, true] {
            for payload in [&b"odd"[..], b"even", &[0xffu8; 301][..]] {
                let q = frame(v6, 53, b"query");
                let d = parse(&q, 53).unwrap();
                let mut out = vec![0u8; 2048];
                out[d.headers..d.headers + payload.len()].copy_from_slice(payload);
                let n = write_answer(&q, &d, &mut out, payload.len());
                let out = &out[..n];
                assert_eq!(n, d.headers + payload.len());
                assert_eq!((&out[0..6], &out[6..12]), (&q[6..12], &q[0..6]));
                // Read back as a query to the client's port.
                let back = parse(out, 40000).unwrap();
                assert_eq!(back.payload, payload.len());
                let udp = &out[d.headers - 8..];
                assert_eq!(&udp[0..2], &53u16.to_be_bytes());
                let udp_len = u64::from(u16::from_be_bytes([udp[4], udp[5]]));
                if v6 {
                    assert_eq!(back.source, "2001:db8::2".parse::<IpAddr>().unwrap());
                    assert_eq!(&out[38..54], &q[22..38]);
                    assert!(verifies(add_sum(17 + udp_len, &out[22..54]), udp));
                } else {
                    assert_eq!(back.source, "198.18.0.2".parse::<IpAddr>().unwrap());
                    assert!(verifies(0, &out[14..34]), "IPv4 header checksum");
                    assert!(verifies(add_sum(17 + udp_len, &out[26..34]), udp));
                }
                assert_eq!(&out[d.headers..], payload);
            }
        }
    }
}
