//! One test per answer rule, on a zone shaped like the Knot session the
//! rules were read from. Responses are read back with hickory-proto, an
//! independent parser. Compiled only under `#[cfg(test)]` (declared in
//! `mod.rs`).

use std::sync::Arc;

use hickory_proto::op::Message;

use super::*;
use crate::wire::name::parse_name_text;
use crate::zone::load_zone_text;

const ZONE: &str = r#"$ORIGIN example.com.
$TTL 3600
@   SOA ns1 hostmaster 2026112501 7200 3600 1209600 300
    NS ns1
    NS ns2.example.net.
    MX 10 mail
    MX 20 mail.example.org.
    A 192.0.2.1
    TXT "v=spf1 -all"
ns1 A 192.0.2.53
    AAAA 2001:db8::53
www A 192.0.2.80
    AAAA 2001:db8::80
mail A 192.0.2.25
alias CNAME www
chain1 CNAME chain2
chain2 CNAME www
ext CNAME www.example.org.
dangling CNAME nothere
loop1 CNAME loop2
loop2 CNAME loop1
*.wild A 192.0.2.99
*.wild TXT "wildcard"
*.wcname CNAME www
sub NS ns.sub
sub NS ns.other.net.
sub DS 60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118
ns.sub A 192.0.2.200
deep.a.b.c A 192.0.2.7
dn DNAME example.net.
dn2 DNAME target.example.com.
x.target A 192.0.2.111
_sip._tcp SRV 0 5 5060 www
wmx MX 10 mx.wild
svc SVCB 1 www
anyt TXT "x"
anyt MX 10 mail
anyt HINFO "a" "b"
big TXT "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
big TXT "1123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
big TXT "2123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
big TXT "3123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
big TXT "4123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
big TXT "5123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
"#;

fn zones() -> ZoneSet {
    let apex = parse_name_text("example.com.", None).unwrap();
    let built = load_zone_text(ZONE.as_bytes(), "test", &apex).unwrap();
    ZoneSet::new([Zone::primary(Arc::new(built.snapshot))])
}

fn responder() -> Responder {
    Responder::new(ResponderConfig {
        identity: b"node-1".to_vec(),
        version: b"zonecast test".to_vec(),
        udp_payload: 1232,
        ..ResponderConfig::default()
    })
}

/// A query in wire form; `opt` adds an OPT record with that payload and
/// those raw option octets.
fn query(name: &str, qtype: u16, qclass: u16, opt: Option<(u16, &[u8])>) -> Vec<u8> {
    let mut q = vec![
        0xbe,
        0xef,
        0x01,
        0x00,
        0,
        1,
        0,
        0,
        0,
        0,
        0,
        opt.is_some() as u8,
    ];
    q.extend_from_slice(parse_name_text(name, None).unwrap().as_wire());
    q.extend_from_slice(&qtype.to_be_bytes());
    q.extend_from_slice(&qclass.to_be_bytes());
    if let Some((payload, options)) = opt {
        q.extend_from_slice(&[0, 0, 41]);
        q.extend_from_slice(&payload.to_be_bytes());
        q.extend_from_slice(&[0, 0, 0, 0]);
        q.extend_from_slice(&(options.len() as u16).to_be_bytes());
        q.extend_from_slice(options);
    }
    q
}

fn raw(zs: &ZoneSet, q: &[u8], t: Transport) -> Option<Vec<u8>> {
    let mut out = vec![0u8; MAX_MESSAGE];
    let mut s = Scratch::default();
    match responder().respond(zs, q, &t, &mut out, &mut s) {
        Outcome::Drop => None,
        Outcome::Reply(n) | Outcome::Notify(n, _) | Outcome::Refused(n, _) => {
            Some(out[..n].to_vec())
        }
        // The first message of a transfer.
        Outcome::Transfer(mut t) => {
            t.0.next_message(&mut out, 0)
                .ok()?
                .map(|n| out[..n].to_vec())
        }
    }
}

struct Answer {
    msg: Message,
    len: usize,
}

impl Answer {
    fn rcode(&self) -> u16 {
        u16::from(self.msg.metadata.response_code)
    }
    fn aa(&self) -> bool {
        self.msg.metadata.authoritative
    }
    fn tc(&self) -> bool {
        self.msg.metadata.truncation
    }
    fn section(records: &[hickory_proto::rr::Record]) -> Vec<String> {
        use hickory_proto::serialize::binary::BinEncodable;
        records
            .iter()
            .map(|r| {
                // hickory shows DNAME as opaque data; print its target.
                if u16::from(r.record_type()) == rtype::DNAME {
                    let target = crate::wire::Name::from_wire(&r.data.to_bytes().unwrap()).unwrap();
                    return format!("{} {} IN DNAME {target}", r.name, r.ttl);
                }
                r.to_string().replace('\t', " ")
            })
            .collect()
    }
    fn answer(&self) -> Vec<String> {
        Self::section(&self.msg.answers)
    }
    fn authority(&self) -> Vec<String> {
        Self::section(&self.msg.authorities)
    }
    fn additional(&self) -> Vec<String> {
        Self::section(&self.msg.additionals)
    }
}

fn ask_with(
    name: &str,
    qtype: u16,
    qclass: u16,
    opt: Option<(u16, &[u8])>,
    t: Transport,
) -> Answer {
    let bytes = raw(&zones(), &query(name, qtype, qclass, opt), t).expect("an answer");
    let msg = Message::from_vec(&bytes).expect("hickory parses the response");
    assert_eq!(msg.metadata.id, 0xbeef);
    assert_eq!(msg.queries.len(), 1, "question echoed");
    Answer {
        msg,
        len: bytes.len(),
    }
}

fn ask(name: &str, qtype: u16) -> Answer {
    ask_with(name, qtype, class::IN, None, Transport::udp(0))
}

const SOA: &str = "example.com. 300 IN SOA ns1.example.com. hostmaster.example.com. 2026112501 7200 3600 1209600 300";

#[test]
fn exact_answer_is_authoritative() {
    let a = ask("WWW.example.COM.", rtype::A);
    assert_eq!((a.rcode(), a.aa(), a.tc()), (0, true, false));
    assert_eq!(a.answer(), ["WWW.example.COM. 3600 IN A 192.0.2.80"]);
    assert!(a.authority().is_empty() && a.additional().is_empty());
    assert!(a.msg.metadata.recursion_desired, "RD echoed");
    assert!(!a.msg.metadata.recursion_available);
    assert_eq!(a.len, 49, "owner compressed to the question");
}

#[test]
fn mx_srv_and_ns_get_in_zone_addresses() {
    let a = ask("example.com.", rtype::MX);
    assert_eq!(
        a.answer(),
        [
            "example.com. 3600 IN MX 10 mail.example.com.",
            "example.com. 3600 IN MX 20 mail.example.org."
        ]
    );
    assert_eq!(a.additional(), ["mail.example.com. 3600 IN A 192.0.2.25"]);
    let a = ask("_sip._tcp.example.com.", rtype::SRV);
    assert_eq!(
        a.additional(),
        [
            "www.example.com. 3600 IN A 192.0.2.80",
            "www.example.com. 3600 IN AAAA 2001:db8::80"
        ]
    );
    let a = ask("example.com.", rtype::NS);
    assert!(a.aa());
    assert_eq!(a.answer().len(), 2);
    assert_eq!(
        a.additional(),
        [
            "ns1.example.com. 3600 IN A 192.0.2.53",
            "ns1.example.com. 3600 IN AAAA 2001:db8::53"
        ]
    );
}

#[test]
fn cname_chains_are_chased_inside_the_zone() {
    let a = ask("chain1.example.com.", rtype::A);
    assert_eq!(
        a.answer(),
        [
            "chain1.example.com. 3600 IN CNAME chain2.example.com.",
            "chain2.example.com. 3600 IN CNAME www.example.com.",
            "www.example.com. 3600 IN A 192.0.2.80"
        ]
    );
    let a = ask("ext.example.com.", rtype::A);
    assert_eq!((a.rcode(), a.aa()), (0, true));
    assert_eq!(
        a.answer(),
        ["ext.example.com. 3600 IN CNAME www.example.org."]
    );
    // RFC 6604: the RCODE is that of the last name.
    let a = ask("dangling.example.com.", rtype::A);
    assert_eq!(a.rcode(), rcode::NXDOMAIN);
    assert_eq!(
        a.answer(),
        ["dangling.example.com. 3600 IN CNAME nothere.example.com."]
    );
    assert_eq!(a.authority(), [SOA]);
    // A CNAME query is answered without chasing.
    let a = ask("alias.example.com.", rtype::CNAME);
    assert_eq!(
        a.answer(),
        ["alias.example.com. 3600 IN CNAME www.example.com."]
    );
}

#[test]
fn cname_loops_stop_at_the_first_repeat() {
    let a = ask("loop1.example.com.", rtype::A);
    assert_eq!((a.rcode(), a.aa()), (0, true));
    assert_eq!(
        a.answer(),
        [
            "loop1.example.com. 3600 IN CNAME loop2.example.com.",
            "loop2.example.com. 3600 IN CNAME loop1.example.com."
        ]
    );
}

#[test]
fn additional_addresses_come_from_wildcards_and_svcb_targets() {
    let a = ask("wmx.example.com.", rtype::MX);
    assert_eq!(
        a.additional(),
        ["mx.wild.example.com. 3600 IN A 192.0.2.99"]
    );
    let a = ask("svc.example.com.", rtype::SVCB);
    assert_eq!(
        a.additional(),
        [
            "www.example.com. 3600 IN A 192.0.2.80",
            "www.example.com. 3600 IN AAAA 2001:db8::80"
        ]
    );
}

#[test]
fn negative_answers_carry_the_soa() {
    let a = ask("nx.example.com.", rtype::A);
    assert_eq!((a.rcode(), a.aa()), (rcode::NXDOMAIN, true));
    assert!(a.answer().is_empty());
    assert_eq!(a.authority(), [SOA]);
    let a = ask("www.example.com.", rtype::MX);
    assert_eq!((a.rcode(), a.aa()), (0, true));
    assert_eq!(a.authority(), [SOA]);
    // Empty non-terminals are NODATA, not NXDOMAIN (RFC 8020).
    let a = ask("b.c.example.com.", rtype::A);
    assert_eq!(a.rcode(), 0);
    assert_eq!(a.authority(), [SOA]);
    let a = ask("x.b.c.example.com.", rtype::A);
    assert_eq!(a.rcode(), rcode::NXDOMAIN);
}

#[test]
fn wildcards_synthesize_with_the_query_name() {
    let a = ask("foo.wild.example.com.", rtype::A);
    assert_eq!(a.answer(), ["foo.wild.example.com. 3600 IN A 192.0.2.99"]);
    let a = ask("a.b.wild.example.com.", rtype::TXT);
    assert_eq!(a.answer(), ["a.b.wild.example.com. 3600 IN TXT wildcard"]);
    let a = ask("foo.wild.example.com.", rtype::MX);
    assert_eq!((a.rcode(), a.answer().len()), (0, 0));
    assert_eq!(a.authority(), [SOA]);
    // The wildcard owner itself, and its parent (an empty non-terminal).
    let a = ask("*.wild.example.com.", rtype::A);
    assert_eq!(a.answer(), ["*.wild.example.com. 3600 IN A 192.0.2.99"]);
    let a = ask("wild.example.com.", rtype::A);
    assert_eq!((a.rcode(), a.answer().len()), (0, 0));
    let a = ask("x.wcname.example.com.", rtype::A);
    assert_eq!(
        a.answer(),
        [
            "x.wcname.example.com. 3600 IN CNAME www.example.com.",
            "www.example.com. 3600 IN A 192.0.2.80"
        ]
    );
}

#[test]
fn referrals_give_ns_and_glue_without_aa() {
    for name in [
        "www.sub.example.com.",
        "sub.example.com.",
        "ns.sub.example.com.",
    ] {
        let a = ask(name, rtype::A);
        assert_eq!((a.rcode(), a.aa()), (0, false), "{name}");
        assert!(a.answer().is_empty());
        assert_eq!(
            a.authority(),
            [
                "sub.example.com. 3600 IN NS ns.sub.example.com.",
                "sub.example.com. 3600 IN NS ns.other.net."
            ]
        );
        assert_eq!(
            a.additional(),
            ["ns.sub.example.com. 3600 IN A 192.0.2.200"]
        );
    }
    // The glue's owner is a pointer to the NS target already written, not
    // a name of its own: the last record is 2 + 10 + 4 octets.
    let q = query("www.sub.example.com.", rtype::A, class::IN, None);
    let bytes = raw(&zones(), &q, Transport::udp(0)).unwrap();
    let glue = bytes.len() - 16;
    assert_eq!(bytes[glue] & 0xc0, 0xc0, "compressed glue owner");
    let target = u16::from_be_bytes([bytes[glue] & 0x3f, bytes[glue + 1]]) as usize;
    let mut name = crate::wire::name::NameBuf::root();
    name.read(&bytes, target).unwrap();
    assert_eq!(name.as_wire(), b"\x02ns\x03sub\x07example\x03com\x00");
    assert!(
        target > q.len() && target < glue,
        "points into the NS RDATA"
    );
    // DS is the parent's: answered authoritatively at the cut.
    let a = ask("sub.example.com.", rtype::DS);
    assert_eq!((a.rcode(), a.aa()), (0, true));
    assert_eq!(a.answer().len(), 1);
    let a = ask("sub.example.com.", rtype::ANY);
    assert!(!a.aa());
    assert_eq!(a.authority().len(), 2);
}

#[test]
fn dname_synthesizes_a_cname() {
    let a = ask("x.dn2.example.com.", rtype::A);
    assert_eq!(
        a.answer(),
        [
            "dn2.example.com. 3600 IN DNAME target.example.com.",
            "x.dn2.example.com. 3600 IN CNAME x.target.example.com.",
            "x.target.example.com. 3600 IN A 192.0.2.111"
        ]
    );
    // A CNAME query is answered by the synthesized CNAME.
    let a = ask("x.dn2.example.com.", rtype::CNAME);
    assert_eq!(a.answer().len(), 2);
    assert!(a.authority().is_empty());
    let a = ask("y.dn.example.com.", rtype::A);
    assert_eq!(
        a.answer(),
        [
            "dn.example.com. 3600 IN DNAME example.net.",
            "y.dn.example.com. 3600 IN CNAME y.example.net."
        ]
    );
    let a = ask("dn.example.com.", rtype::DNAME);
    assert_eq!(a.answer(), ["dn.example.com. 3600 IN DNAME example.net."]);
    let a = ask("dn.example.com.", rtype::A);
    assert_eq!(a.authority(), [SOA]);
}

#[test]
fn dname_result_too_long_is_yxdomain() {
    // 254 octets; replacing dn2.example.com. by target.example.com. adds 3.
    let label = "a".repeat(63);
    let long = format!(
        "{label}.{label}.{label}.{}.dn2.example.com.",
        "b".repeat(44)
    );
    assert_eq!(parse_name_text(&long, None).unwrap().len(), 254);
    let a = ask(&long, rtype::A);
    assert_eq!(a.rcode(), rcode::YXDOMAIN);
    assert_eq!(a.answer().len(), 1);
}

#[test]
fn any_gives_one_rrset() {
    assert_eq!(
        ask("example.com.", rtype::ANY).answer(),
        ["example.com. 3600 IN A 192.0.2.1"]
    );
    assert_eq!(
        ask("anyt.example.com.", rtype::ANY).answer(),
        ["anyt.example.com. 3600 IN HINFO a b"]
    );
    let a = ask_with(
        "example.com.",
        rtype::ANY,
        class::IN,
        None,
        Transport::tcp(0),
    );
    assert_eq!(a.answer().len(), 1);
    assert_eq!(ask("alias.example.com.", rtype::ANY).answer().len(), 1);
}

#[test]
fn other_zones_and_classes_are_refused() {
    let a = ask("example.org.", rtype::A);
    assert_eq!((a.rcode(), a.aa()), (rcode::REFUSED, false));
    // With EDNS, an Extended DNS Error says why (RFC 8914 §4.21).
    let a = ask_with(
        "example.org.",
        rtype::A,
        class::IN,
        Some((1232, &[])),
        Transport::udp(0),
    );
    let opts = a.msg.edns.as_ref().unwrap().options().as_ref().to_vec();
    assert_eq!(opts.len(), 1);
    assert_eq!(u16::from(opts[0].0), 15);
    let a = ask_with(
        "www.example.com.",
        rtype::A,
        class::CH,
        None,
        Transport::udp(0),
    );
    assert_eq!(a.rcode(), rcode::REFUSED);
    let a = ask_with("www.example.com.", rtype::A, 254, None, Transport::udp(0));
    assert_eq!(a.rcode(), rcode::REFUSED);
    // QCLASS ANY is answered from IN data.
    let a = ask_with(
        "www.example.com.",
        rtype::A,
        class::ANY,
        None,
        Transport::udp(0),
    );
    assert_eq!(a.answer().len(), 1);
}

#[test]
fn transfers_and_odd_qtypes() {
    let a = ask("example.com.", rtype::AXFR);
    assert_eq!(a.rcode(), rcode::NOTIMP);
    let a = ask_with(
        "example.com.",
        rtype::AXFR,
        class::IN,
        None,
        Transport::tcp(0),
    );
    assert_eq!(a.rcode(), rcode::NOTAUTH);
    assert_eq!(ask("example.com.", rtype::IXFR).rcode(), rcode::NOTAUTH);
    assert_eq!(ask("www.example.com.", 0).rcode(), rcode::NOTIMP);
    let a = ask("www.example.com.", rtype::TKEY);
    assert_eq!((a.rcode(), a.authority().len()), (0, 1));
}

/// Refused transfer requests are reported as such, for the operator's
/// rate-limited log line; other answers are plain replies.
#[test]
fn refused_transfers_are_reported() {
    let zs = zones();
    let mut out = vec![0u8; MAX_MESSAGE];
    let mut s = Scratch::default();
    let mut outcome = |name: &str, qtype: u16| {
        let q = query(name, qtype, class::IN, None);
        responder().respond(&zs, &q, &Transport::tcp(0), &mut out, &mut s)
    };
    for t in [rtype::AXFR, rtype::IXFR] {
        assert!(
            matches!(
                outcome("example.com.", t),
                Outcome::Refused(_, Refused::Transfer)
            ),
            "{t}"
        );
    }
    assert!(matches!(
        outcome("www.example.com.", rtype::A),
        Outcome::Reply(_)
    ));
    // A zone not served is refused the same way.
    assert!(matches!(
        outcome("example.org.", rtype::AXFR),
        Outcome::Refused(_, Refused::Transfer)
    ));
}

/// AXFR is served over TCP to the clients `allow_transfer` names, for the
/// apex only; everyone else, UDP and names below the apex get what they
/// got before.
#[test]
fn transfers_go_to_the_clients_allowed() {
    let apex = parse_name_text("example.com.", None).unwrap();
    let built = load_zone_text(ZONE.as_bytes(), "test", &apex).unwrap();
    let acl = crate::zone::transfer_acl::TransferAcl::parse(["192.0.2.0/24"]).unwrap();
    let zs = ZoneSet::new([
        Zone::primary(Arc::new(built.snapshot)).with_transfer_acl(Some(Arc::new(acl)))
    ]);
    let mut out = vec![0u8; MAX_MESSAGE];
    let mut s = Scratch::default();
    let mut outcome = |name: &str, qtype: u16, protocol: Protocol, from: &str| {
        let q = query(name, qtype, class::IN, None);
        let t = Transport {
            protocol,
            source: from.parse().unwrap(),
            now: 0,
        };
        responder().respond(&zs, &q, &t, &mut out, &mut s)
    };
    match outcome("EXAMPLE.com.", rtype::AXFR, Protocol::Tcp, "192.0.2.9") {
        Outcome::Transfer(mut t) => {
            let mut buf = vec![0u8; MAX_MESSAGE];
            let n = t.0.next_message(&mut buf, 0).unwrap().unwrap();
            let m = Message::from_vec(&buf[..n]).unwrap();
            assert_eq!(m.queries[0].name().to_string(), "EXAMPLE.com.");
            assert_eq!(
                m.answers[0].record_type(),
                hickory_proto::rr::RecordType::SOA
            );
        }
        other => panic!("not a transfer: {other:?}"),
    }
    for (name, qtype, protocol, from) in [
        ("example.com.", rtype::AXFR, Protocol::Tcp, "192.0.3.9"),
        ("www.example.com.", rtype::AXFR, Protocol::Tcp, "192.0.2.9"),
        ("example.com.", rtype::IXFR, Protocol::Tcp, "192.0.3.9"),
    ] {
        assert!(
            matches!(
                outcome(name, qtype, protocol, from),
                Outcome::Refused(_, Refused::Transfer)
            ),
            "{name} {qtype} from {from}"
        );
    }
    let Outcome::Reply(n) = outcome("example.com.", rtype::AXFR, Protocol::Udp, "192.0.2.9") else {
        panic!("AXFR over UDP gets a reply");
    };
    assert_eq!(
        Message::from_vec(&out[..n]).unwrap().metadata.response_code,
        hickory_proto::op::ResponseCode::NotImp
    );
}

/// IXFR without the diffs (RFC 1995): a client behind us gets the whole
/// zone AXFR-style, one as new as we are gets our SOA alone, and so does
/// one asking over UDP.
#[test]
fn ixfr_is_answered_axfr_style_or_by_one_soa() {
    let apex = parse_name_text("example.com.", None).unwrap();
    let built = load_zone_text(ZONE.as_bytes(), "test", &apex).unwrap();
    let serial = built.snapshot.serial();
    let acl = crate::zone::transfer_acl::TransferAcl::parse(["192.0.2.0/24"]).unwrap();
    let zs = ZoneSet::new([
        Zone::primary(Arc::new(built.snapshot)).with_transfer_acl(Some(Arc::new(acl)))
    ]);
    // An IXFR query with the client's SOA in the authority section.
    let ixfr = |theirs: u32| {
        let mut q = query("example.com.", rtype::IXFR, class::IN, None);
        q[9] = 1;
        q.extend_from_slice(apex.as_wire());
        q.extend_from_slice(&[0, 6, 0, 1, 0, 0, 0, 60]);
        let mut rd = vec![0u8, 0];
        for v in [theirs, 1, 1, 1, 1] {
            rd.extend_from_slice(&v.to_be_bytes());
        }
        q.extend_from_slice(&(rd.len() as u16).to_be_bytes());
        q.extend_from_slice(&rd);
        q
    };
    let mut s = Scratch::default();
    let mut messages = |q: &[u8], protocol: Protocol| -> Vec<Message> {
        let t = Transport {
            protocol,
            source: "192.0.2.9".parse().unwrap(),
            now: 0,
        };
        let mut out = vec![0u8; MAX_MESSAGE];
        match responder().respond(&zs, q, &t, &mut out, &mut s) {
            Outcome::Transfer(mut t) => {
                let mut all = Vec::new();
                while let Some(n) = t.0.next_message(&mut out, 0).unwrap() {
                    all.push(Message::from_vec(&out[..n]).unwrap());
                }
                all
            }
            Outcome::Reply(n) => vec![Message::from_vec(&out[..n]).unwrap()],
            other => panic!("{other:?}"),
        }
    };
    let soas = |ms: &[Message]| -> Vec<String> {
        ms.iter()
            .flat_map(|m| m.answers.iter())
            .filter(|r| r.record_type() == hickory_proto::rr::RecordType::SOA)
            .map(|r| r.to_string())
            .collect()
    };
    let behind = messages(&ixfr(serial.wrapping_sub(1)), Protocol::Tcp);
    let records: usize = behind.iter().map(|m| m.answers.len()).sum();
    assert!(records > 10, "the whole zone: {records} records");
    assert_eq!(soas(&behind).len(), 2);
    assert_eq!(
        behind[0].queries[0].query_type(),
        hickory_proto::rr::RecordType::IXFR
    );
    for (q, protocol) in [
        (ixfr(serial), Protocol::Tcp),
        (ixfr(serial.wrapping_add(5)), Protocol::Tcp),
        (ixfr(serial.wrapping_sub(1)), Protocol::Udp),
    ] {
        let ms = messages(&q, protocol);
        assert_eq!(ms.len(), 1, "{protocol:?}");
        assert_eq!(ms[0].answers.len(), 1, "our SOA alone");
        assert!(
            soas(&ms)[0].contains(&format!(" {serial} ")),
            "{:?}",
            soas(&ms)
        );
    }
}

#[test]
fn chaos_identity_and_version() {
    let a = ask_with("id.server.", rtype::TXT, class::CH, None, Transport::udp(0));
    assert_eq!((a.rcode(), a.aa()), (0, false));
    assert_eq!(a.answer(), ["id.server. 0 CH TXT node-1"]);
    let a = ask_with(
        "VERSION.BIND.",
        rtype::TXT,
        class::CH,
        None,
        Transport::udp(0),
    );
    assert_eq!(a.answer(), ["VERSION.BIND. 0 CH TXT zonecast test"]);
    let a = ask_with("id.server.", rtype::A, class::CH, None, Transport::udp(0));
    assert_eq!(a.rcode(), rcode::REFUSED);
    let a = ask_with(
        "authors.bind.",
        rtype::TXT,
        class::CH,
        None,
        Transport::udp(0),
    );
    assert_eq!(a.rcode(), rcode::REFUSED);
}

#[test]
fn edns_nsid_expire_and_badvers() {
    let a = ask_with(
        "www.example.com.",
        rtype::A,
        class::IN,
        Some((4096, &[0, 3, 0, 0, 0, 9, 0, 0])),
        Transport::udp(0),
    );
    let e = a.msg.edns.as_ref().expect("OPT in the response");
    assert_eq!(e.max_payload(), 1232);
    let opts: Vec<(u16, Vec<u8>)> = e
        .options()
        .as_ref()
        .iter()
        .map(|(c, o)| {
            let data = match o {
                hickory_proto::rr::rdata::opt::EdnsOption::NSID(n) => n.as_ref().to_vec(),
                hickory_proto::rr::rdata::opt::EdnsOption::Unknown(_, d) => d.clone(),
                other => panic!("unexpected option {other:?}"),
            };
            (u16::from(*c), data)
        })
        .collect();
    assert_eq!(
        opts,
        [
            (3, b"node-1".to_vec()),
            (9, 1209600u32.to_be_bytes().to_vec())
        ]
    );
    // EDNS version 1: BADVERS, extended RCODE in OPT, nothing else.
    let mut q = query("www.example.com.", rtype::A, class::IN, Some((1232, &[])));
    let n = q.len();
    q[n - 5] = 1;
    let bytes = raw(&zones(), &q, Transport::udp(0)).unwrap();
    let m = Message::from_vec(&bytes).unwrap();
    assert_eq!(u16::from(m.metadata.response_code), rcode::BADVERS);
    assert!(m.answers.is_empty() && !m.metadata.authoritative);
    assert_eq!(m.edns.unwrap().rcode_high(), 1);
}

#[test]
fn truncation_over_udp_is_honest() {
    // Six 101-octet TXT records do not fit in 512.
    let a = ask("big.example.com.", rtype::TXT);
    assert!(a.tc());
    assert!(a.len <= 512);
    assert!(a.answer().len() < 6);
    let a = ask_with(
        "big.example.com.",
        rtype::TXT,
        class::IN,
        Some((1232, &[])),
        Transport::udp(0),
    );
    assert!(!a.tc());
    assert_eq!(a.answer().len(), 6);
    let a = ask_with(
        "big.example.com.",
        rtype::TXT,
        class::IN,
        None,
        Transport::tcp(0),
    );
    assert!(!a.tc());
    assert_eq!(a.answer().len(), 6);
    // A client payload below 512 counts as 512; an RRset goes in whole
    // or not at all.
    let a = ask_with(
        "big.example.com.",
        rtype::TXT,
        class::IN,
        Some((100, &[])),
        Transport::udp(0),
    );
    assert!(a.tc() && a.len <= 512);
    assert!(a.answer().is_empty());
    assert!(a.msg.edns.is_some(), "OPT kept when truncating");
}

/// Malformed queries: Knot's choice of silence or FORMERR.
#[test]
fn malformed_queries() {
    let zs = zones();
    let good = query("www.example.com.", rtype::A, class::IN, None);
    let udp = Transport::udp(0);
    // QR set: never answered.
    let mut q = good.clone();
    q[2] |= 0x80;
    assert_eq!(raw(&zs, &q, udp), None);
    // Short header, broken question, two questions: silence.
    assert_eq!(raw(&zs, &good[..11], udp), None);
    assert_eq!(raw(&zs, &good[..good.len() - 1], udp), None);
    let mut q = good.clone();
    q[5] = 2;
    assert_eq!(raw(&zs, &q, udp), None);
    let mut q = good[..12].to_vec();
    q[5] = 1;
    q.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1]);
    assert_eq!(raw(&zs, &q, udp), None, "pointer loop");
    // Trailing garbage: FORMERR with the question.
    let mut q = good.clone();
    q.push(0);
    let r = raw(&zs, &q, udp).unwrap();
    assert_eq!(r[3] & 0xf, 1);
    assert_eq!(&r[4..6], &[0, 1]);
    // No question: FORMERR without one.
    let mut q = good[..12].to_vec();
    q[5] = 0;
    let r = raw(&zs, &q, udp).unwrap();
    assert_eq!((r[3] & 0xf, r.len()), (1, 12));
    // Broken OPT: FORMERR, no OPT back.
    let mut q = query(
        "www.example.com.",
        rtype::A,
        class::IN,
        Some((1232, &[0, 3, 0, 9])),
    );
    let r = raw(&zs, &q, udp).unwrap();
    assert_eq!((r[3] & 0xf, r[11]), (1, 0));
    // Opcodes: NOTIMP for unknown ones, NOTAUTH for NOTIFY (not yet a secondary).
    q = good.clone();
    q[2] = 0x11; // STATUS
    assert_eq!(raw(&zs, &q, udp).unwrap()[3] & 0xf, 4);
    q[2] = 0x21; // NOTIFY
    assert_eq!(raw(&zs, &q, udp).unwrap()[3] & 0xf, 9);
}

mod notify {
    use super::*;
    use crate::tsig::{Algorithm, ResponseVerifier, TsigKey, locate, sign_request};
    use crate::zone::{NotifyPolicy, ZoneAccess};
    use std::net::IpAddr;

    const PRIMARY: &str = "192.0.2.53";
    const NOW: u64 = 1_800_000_000;

    fn key(secret: &[u8]) -> Arc<TsigKey> {
        Arc::new(TsigKey::new(
            parse_name_text("xfr-key.", None).unwrap(),
            Algorithm::HmacSha256,
            secret.to_vec(),
        ))
    }

    fn secondary_zones(key: Option<Arc<TsigKey>>) -> ZoneSet {
        let apex = parse_name_text("example.com.", None).unwrap();
        let built = load_zone_text(ZONE.as_bytes(), "test", &apex).unwrap();
        let primary_zone = load_zone_text(
            b"$TTL 60\n@ SOA ns hm 1 2 3 4 5\n",
            "p",
            &parse_name_text("example.org.", None).unwrap(),
        )
        .unwrap();
        ZoneSet::new([
            Zone::new(
                apex,
                Some(Arc::new(built.snapshot)),
                Some(NOW + 1000),
                Some(ZoneAccess::secondary(NotifyPolicy {
                    primaries: vec![PRIMARY.parse().unwrap()],
                    key,
                })),
            ),
            Zone::primary(Arc::new(primary_zone.snapshot)),
        ])
    }

    /// A NOTIFY for `zone` carrying an SOA of `serial`.
    fn notify(zone: &str, qtype: u16, serial: Option<u32>) -> Vec<u8> {
        let mut q = vec![
            0x12,
            0x34,
            0x20,
            0x00,
            0,
            1,
            0,
            serial.is_some() as u8,
            0,
            0,
            0,
            0,
        ];
        q.extend_from_slice(parse_name_text(zone, None).unwrap().as_wire());
        q.extend_from_slice(&qtype.to_be_bytes());
        q.extend_from_slice(&class::IN.to_be_bytes());
        if let Some(s) = serial {
            q.extend_from_slice(&[0xc0, 12, 0, 6, 0, 1, 0, 0, 0, 60]);
            let rd = [
                &b"\x02ns\xc0\x0c\x02hm\xc0\x0c"[..],
                &s.to_be_bytes(),
                &[0; 16],
            ]
            .concat();
            q.extend_from_slice(&(rd.len() as u16).to_be_bytes());
            q.extend_from_slice(&rd);
        }
        q
    }

    fn send(zs: &ZoneSet, q: &[u8], from: &str, now: u64) -> (Vec<u8>, Option<NotifyEvent>) {
        let mut out = vec![0u8; MAX_MESSAGE];
        let mut s = Scratch::default();
        let t = Transport {
            protocol: Protocol::Udp,
            source: from.parse::<IpAddr>().unwrap(),
            now,
        };
        match responder().respond(zs, q, &t, &mut out, &mut s) {
            Outcome::Reply(n) => (out[..n].to_vec(), None),
            Outcome::Notify(n, ev) => (out[..n].to_vec(), Some(ev)),
            Outcome::Refused(n, what) => {
                assert_eq!(what, Refused::Notify, "a NOTIFY refused as a NOTIFY");
                (out[..n].to_vec(), None)
            }
            Outcome::Drop => panic!("dropped"),
            Outcome::Transfer(_) => panic!("a transfer"),
        }
    }

    fn rcode_of(r: &[u8]) -> u16 {
        (r[3] & 0xf) as u16
    }

    #[test]
    fn accepted_from_a_primary_with_the_serial_hint() {
        let zs = secondary_zones(None);
        let (r, ev) = send(
            &zs,
            &notify("EXAMPLE.com.", rtype::SOA, Some(2026112599)),
            PRIMARY,
            NOW,
        );
        assert_eq!(rcode_of(&r), 0);
        assert_eq!(r[2] & 0x7c, 0x24, "opcode NOTIFY and AA");
        assert_eq!(r[2] & 0x80, 0x80);
        let ev = ev.expect("an event for the transfer thread");
        assert_eq!(ev.zone.to_string(), "example.com.");
        assert_eq!(ev.serial, Some(2026112599));
        let (_, ev) = send(&zs, &notify("example.com.", rtype::SOA, None), PRIMARY, NOW);
        assert_eq!(ev.unwrap().serial, None);
    }

    #[test]
    fn refused_from_others_for_other_zones_and_odd_questions() {
        let zs = secondary_zones(None);
        let (r, ev) = send(
            &zs,
            &notify("example.com.", rtype::SOA, Some(5)),
            "192.0.2.99",
            NOW,
        );
        assert_eq!((rcode_of(&r), ev), (rcode::NOTAUTH, None));
        let (r, ev) = send(&zs, &notify("example.org.", rtype::SOA, None), PRIMARY, NOW);
        assert_eq!(
            (rcode_of(&r), ev),
            (rcode::NOTAUTH, None),
            "a zone served from its file"
        );
        let (r, ev) = send(
            &zs,
            &notify("www.example.com.", rtype::SOA, None),
            PRIMARY,
            NOW,
        );
        assert_eq!((rcode_of(&r), ev), (rcode::NOTAUTH, None), "not an apex");
        let (r, ev) = send(&zs, &notify("example.com.", rtype::A, None), PRIMARY, NOW);
        assert_eq!((rcode_of(&r), ev), (rcode::FORMERR, None), "from a primary");
        let (r, ev) = send(
            &zs,
            &notify("example.com.", rtype::A, None),
            "192.0.2.99",
            NOW,
        );
        assert_eq!(
            (rcode_of(&r), ev),
            (rcode::NOTAUTH, None),
            "from a stranger"
        );
    }

    #[test]
    fn tsig_is_required_and_checked_when_the_zone_has_a_key() {
        let k = key(b"secret");
        let zs = secondary_zones(Some(k.clone()));
        // Unsigned.
        let (r, ev) = send(
            &zs,
            &notify("example.com.", rtype::SOA, Some(9)),
            PRIMARY,
            NOW,
        );
        assert_eq!((rcode_of(&r), ev), (rcode::NOTAUTH, None));
        // Signed with the key: accepted, and the answer is signed.
        let mut q = notify("example.com.", rtype::SOA, Some(9));
        let mac = sign_request(&mut q, &k, NOW);
        let (r, ev) = send(&zs, &q, PRIMARY, NOW + 5);
        assert_eq!(rcode_of(&r), 0);
        assert!(ev.is_some());
        let mut v = ResponseVerifier::new(k.clone(), mac);
        v.verify(&r, NOW + 5)
            .expect("answer signed with the request MAC");
        // Wrong secret: BADSIG, unsigned error record.
        let mut q = notify("example.com.", rtype::SOA, Some(9));
        sign_request(&mut q, &key(b"wrong"), NOW);
        let (r, ev) = send(&zs, &q, PRIMARY, NOW);
        assert_eq!((rcode_of(&r), ev), (rcode::NOTAUTH, None));
        let t = locate(&r).unwrap().unwrap();
        assert_eq!(t.rdata.error, crate::tsig::error_code::BADSIG);
        assert!(t.rdata.mac.is_empty());
        // Stale time: BADTIME, signed, with our time.
        let mut q = notify("example.com.", rtype::SOA, Some(9));
        sign_request(&mut q, &k, NOW - 1000);
        let (r, _) = send(&zs, &q, PRIMARY, NOW);
        let t = locate(&r).unwrap().unwrap();
        assert_eq!(t.rdata.error, crate::tsig::error_code::BADTIME);
        assert!(!t.rdata.mac.is_empty());
        assert_eq!(t.rdata.other.len(), 6);
    }

    #[test]
    fn signed_queries_without_a_key_get_badkey() {
        let zs = secondary_zones(None);
        let mut q = query("www.example.com.", rtype::A, class::IN, None);
        sign_request(&mut q, &key(b"secret"), NOW);
        let (r, _) = send(&zs, &q, PRIMARY, NOW);
        assert_eq!(rcode_of(&r), rcode::NOTAUTH);
        let t = locate(&r).unwrap().unwrap();
        assert_eq!(t.rdata.error, crate::tsig::error_code::BADKEY);
        assert_eq!(t.key_name.as_wire(), b"\x07xfr-key\x00");
    }

    #[test]
    fn expired_secondary_zone_is_servfail_with_ede_24() {
        let zs = secondary_zones(None);
        let q = query(
            "www.example.com.",
            rtype::A,
            class::IN,
            Some((1232, &[0, 9, 0, 0])),
        );
        let (r, _) = send(&zs, &q, PRIMARY, NOW + 400);
        let m = Message::from_vec(&r).unwrap();
        assert_eq!(u16::from(m.metadata.response_code), 0);
        let opts = m.edns.unwrap().options().as_ref().to_vec();
        assert_eq!(u16::from(opts[0].0), 9, "EXPIRE answered");
        let (r, _) = send(&zs, &q, PRIMARY, NOW + 1000);
        let m = Message::from_vec(&r).unwrap();
        assert_eq!(u16::from(m.metadata.response_code), rcode::SERVFAIL);
        assert!(m.answers.is_empty());
        let opts = m.edns.unwrap().options().as_ref().to_vec();
        let ede = opts
            .iter()
            .find(|(c, _)| u16::from(*c) == 15)
            .expect("an EDE option");
        let bytes = match &ede.1 {
            hickory_proto::rr::rdata::opt::EdnsOption::Unknown(_, d) => d.clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(&bytes[..2], &[0, 24]);
        assert_eq!(&bytes[2..], b"Zone has expired");
    }
}

#[test]
fn lookahead_starts_the_lookup_the_answer_starts_with() {
    let zs = zones();
    let mut ahead = Lookahead::<2>::default();
    // The question name, lowercased, in the zone that holds it.
    let q = query("WwW.Example.COM.", 1, 1, None);
    let (zone, hash) = ahead.first_lookup(&zs, &q).expect("a name in a zone");
    let snapshot = zone.snapshot();
    let snapshot = snapshot.as_deref().unwrap();
    let key = b"\x03www\x07example\x03com\x00";
    assert_eq!(snapshot.apex_wire(), b"\x07example\x03com\x00");
    assert_eq!(hash, crate::wire::name::hash_name(key));
    assert!(snapshot.get(key, hash).is_some());
    // A name that is not there still has a lookup to start (NXDOMAIN).
    assert!(
        ahead
            .first_lookup(&zs, &query("nx.example.com.", 1, 1, None))
            .is_some()
    );
    // None where the engine answers from no zone or not at all.
    let mut response = q.clone();
    response[2] |= 0x80;
    let mut two_questions = q.clone();
    two_questions[5] = 2;
    let mut no_question = q.clone();
    no_question[5] = 0;
    let mut pointer_into_header = q[..12].to_vec();
    pointer_into_header.extend_from_slice(&[0xc0, 0x02, 0, 1, 0, 1]);
    for (what, bad) in [
        ("another zone", query("www.example.org.", 1, 1, None)),
        ("QR set", response),
        ("two questions", two_questions),
        ("no question", no_question),
        ("a pointer into the header", pointer_into_header),
        ("a cut name", q[..16].to_vec()),
        ("a header only", q[..12].to_vec()),
        ("nothing", Vec::new()),
    ] {
        assert!(ahead.first_lookup(&zs, &bad).is_none(), "{what}");
    }
    // A zone with no version yet (a secondary before its first transfer).
    let waiting = ZoneSet::new([Zone::new(
        parse_name_text("example.com.", None).unwrap(),
        None,
        None,
        None,
    )]);
    assert!(ahead.first_lookup(&waiting, &q).is_none());
    // More queries than it holds, and a batch of garbage: the extra ones
    // are left alone.
    for _ in 0..5 {
        ahead.add(&zs, &q);
        ahead.add(&zs, &[0xff; 40]);
    }
    ahead.finish();
    ahead.clear();
    ahead.finish();
}

/// RFC 5155 §7.2.9: when the hash of the next closer name of an NXDOMAIN
/// is an NSEC3 owner's, no proof is possible, and the answer is SERVFAIL
/// with no proof in it.
#[test]
fn an_nsec3_hash_collision_at_run_time_is_servfail() {
    use crate::zone::nsec3::Params;
    let apex = parse_name_text("example.com.", None).unwrap();
    let params = Params::from_nsec3param(&[1, 0, 0, 0, 0]).unwrap();
    let b32 = |name: &str| {
        let h = params.hash(parse_name_text(name, None).unwrap().as_wire());
        data_encoding::BASE32HEX_NOPAD
            .encode(&h)
            .to_ascii_lowercase()
    };
    let sig = "RRSIG SOA 13 2 300 20370101000000 20261101000000 1 example.com. AQID";
    let text = format!(
        "$TTL 300\n@ SOA ns hm 1 2 3 4 5\n@ {sig}\n@ NS ns\nns A 192.0.2.1\n\
         @ NSEC3PARAM 1 0 0 -\n\
         {apex_hash} NSEC3 1 0 0 - {next} NS SOA RRSIG NSEC3PARAM\n\
         {nx_hash} NSEC3 1 0 0 - {apex_hash} A\n",
        apex_hash = b32("example.com."),
        nx_hash = b32("collide.example.com."),
        next = b32("collide.example.com."),
    );
    let built = load_zone_text(text.as_bytes(), "t", &apex).unwrap();
    assert!(built.snapshot.nsec3().params().is_some());
    let zs = ZoneSet::new([Zone::primary(Arc::new(built.snapshot))]);
    let ask = |name: &str| {
        let mut q = query(name, rtype::A, class::IN, Some((1232, &[])));
        let at = q.len() - 4;
        q[at] = 0x80; // DO
        Message::from_vec(&raw(&zs, &q, Transport::udp(0)).unwrap()).unwrap()
    };
    let r = ask("collide.example.com.");
    assert_eq!(u16::from(r.metadata.response_code), rcode::SERVFAIL);
    assert!(r.authorities.is_empty(), "no proof in a SERVFAIL");
    // Any other absent name gets its NXDOMAIN proof.
    let r = ask("other.example.com.");
    assert_eq!(u16::from(r.metadata.response_code), rcode::NXDOMAIN);
    assert!(r.authorities.len() >= 2, "{:?}", r.authorities);
}

/// RFC 4035 §3.1.3.2: the NSEC that covers an absent name is the nearest
/// NSEC owner before it, however many glue names (which have no NSEC)
/// lie between: here 300 below one cut.
#[test]
fn the_nsec_cover_skips_any_run_of_glue() {
    let apex = parse_name_text("example.com.", None).unwrap();
    let sig = "RRSIG SOA 13 2 300 20370101000000 20261101000000 1 example.com. AQID";
    let mut text = format!(
        "$TTL 300\n@ SOA ns hm 1 2 3 4 5\n@ {sig}\n@ NS ns\nns A 192.0.2.1\n\
         @ NSEC cut NS SOA RRSIG NSEC\ncut NS ns1.cut\ncut NSEC zz NS RRSIG NSEC\n\
         zz A 192.0.2.2\nzz NSEC example.com. A RRSIG NSEC\n"
    );
    for i in 0..300 {
        text.push_str(&format!("ns{i:03}.cut A 192.0.2.3\n"));
    }
    let built = load_zone_text(text.as_bytes(), "t", &apex).unwrap();
    let zs = ZoneSet::new([Zone::primary(Arc::new(built.snapshot))]);
    let mut q = query("d.example.com.", rtype::A, class::IN, Some((4096, &[])));
    let at = q.len() - 4;
    q[at] = 0x80; // DO
    let r = Message::from_vec(&raw(&zs, &q, Transport::udp(0)).unwrap()).unwrap();
    assert_eq!(u16::from(r.metadata.response_code), rcode::NXDOMAIN);
    let nsec_owners: Vec<String> = r
        .authorities
        .iter()
        .filter(|rr| u16::from(rr.record_type()) == rtype::NSEC)
        .map(|rr| rr.name.to_string())
        .collect();
    // d.example.com. lies between cut (and all its glue) and zz; the
    // wildcard *.example.com. between the apex and cut.
    assert_eq!(nsec_owners, ["cut.example.com.", "example.com."]);
}

/// The NSEC3 hashes answers need are made when the snapshot is built
/// (RFC 5155 §7.2): at query time only the next closer name of an
/// NXDOMAIN or a wildcard answer is hashed, and NODATA, empty
/// non-terminals and referrals hash nothing.
#[test]
fn nsec3_answers_hash_only_the_next_closer_name() {
    use crate::zone::nsec3::Params;
    use crate::zone::nsec3::tests::HASHES;
    let apex = parse_name_text("example.com.", None).unwrap();
    let params = Params::from_nsec3param(&[1, 0, 0, 2, 1, 0xab]).unwrap();
    let names = [
        "example.com.",
        "www.example.com.",
        "wild.example.com.",
        "*.wild.example.com.",
        "b.example.com.",
        "a.b.example.com.",
        "sub.example.com.",
    ];
    let mut hashes: Vec<String> = names
        .iter()
        .map(|n| {
            let h = params.hash(parse_name_text(n, None).unwrap().as_wire());
            data_encoding::BASE32HEX_NOPAD
                .encode(&h)
                .to_ascii_lowercase()
        })
        .collect();
    hashes.sort();
    let sig = "RRSIG SOA 13 2 300 20370101000000 20261101000000 1 example.com. AQID";
    let mut text = format!(
        "$TTL 300\n@ SOA ns hm 1 2 3 4 5\n@ {sig}\n@ NS ns.example.net.\n\
         @ NSEC3PARAM 1 0 2 ab\nwww A 192.0.2.1\n*.wild A 192.0.2.2\n\
         a.b A 192.0.2.3\nsub NS ns.example.net.\n"
    );
    for (i, h) in hashes.iter().enumerate() {
        let next = &hashes[(i + 1) % hashes.len()];
        text.push_str(&format!("{h} NSEC3 1 0 2 ab {next} A\n"));
    }
    let built = load_zone_text(text.as_bytes(), "t", &apex).unwrap();
    let zs = ZoneSet::new([Zone::primary(Arc::new(built.snapshot))]);
    let ask = |name: &str, qtype: u16| {
        let mut q = query(name, qtype, class::IN, Some((4096, &[])));
        let at = q.len() - 4;
        q[at] = 0x80; // DO
        HASHES.with(|c| c.set(0));
        let r = Message::from_vec(&raw(&zs, &q, Transport::udp(0)).unwrap()).unwrap();
        let nsec3 = r
            .authorities
            .iter()
            .filter(|rr| u16::from(rr.record_type()) == rtype::NSEC3)
            .count();
        (
            u16::from(r.metadata.response_code),
            nsec3,
            HASHES.with(|c| c.get()),
        )
    };
    // (rcode, NSEC3 records in authority, hashes made)
    assert_eq!(ask("www.example.com.", rtype::AAAA), (rcode::NOERROR, 1, 0));
    assert_eq!(ask("b.example.com.", rtype::A), (rcode::NOERROR, 1, 0));
    assert_eq!(ask("sub.example.com.", rtype::DS), (rcode::NOERROR, 1, 0));
    assert_eq!(ask("x.sub.example.com.", rtype::A), (rcode::NOERROR, 1, 0));
    assert_eq!(ask("nx.example.com.", rtype::A), (rcode::NXDOMAIN, 3, 1));
    assert_eq!(
        ask("nx.a.b.example.com.", rtype::A),
        (rcode::NXDOMAIN, 3, 1)
    );
    assert_eq!(ask("x.wild.example.com.", rtype::A), (rcode::NOERROR, 1, 1));
}

/// RFC 8945 §5.3.1 on the sending side: a zone with a `transfer_key`
/// goes out only to requests signed with it, every message signed.
mod signed_transfers {
    use super::*;
    use crate::tsig::{Algorithm, ResponseVerifier, TsigKey, error_code, locate, sign_request};

    const NOW: u64 = 1_800_000_000;

    fn key(name: &str, secret: &[u8]) -> Arc<TsigKey> {
        Arc::new(TsigKey::new(
            parse_name_text(name, None).unwrap(),
            Algorithm::HmacSha256,
            secret.to_vec(),
        ))
    }

    fn zones(k: Option<Arc<TsigKey>>) -> ZoneSet {
        let apex = parse_name_text("example.com.", None).unwrap();
        let built = load_zone_text(ZONE.as_bytes(), "test", &apex).unwrap();
        let acl = crate::zone::transfer_acl::TransferAcl::parse(["192.0.2.0/24"])
            .unwrap()
            .with_key(k);
        ZoneSet::new([
            Zone::primary(Arc::new(built.snapshot)).with_transfer_acl(Some(Arc::new(acl)))
        ])
    }

    fn tcp_from(ip: &str) -> Transport {
        Transport {
            protocol: Protocol::Tcp,
            source: ip.parse().unwrap(),
            now: NOW,
        }
    }

    /// The reply to `q`, or every message of the transfer it starts.
    fn messages(zs: &ZoneSet, q: &[u8], from: &str) -> (Vec<Vec<u8>>, bool) {
        let mut out = vec![0u8; MAX_MESSAGE];
        let mut s = Scratch::default();
        match responder().respond(zs, q, &tcp_from(from), &mut out, &mut s) {
            Outcome::Transfer(mut t) => {
                assert!(t.0.is_signed() || locate(q).unwrap().is_none());
                let mut all = Vec::new();
                // Smaller messages than usual: several, each signed.
                t.0.set_limit(600);
                while let Some(n) = t.0.next_message(&mut out, NOW + 1).unwrap() {
                    all.push(out[..n].to_vec());
                }
                (all, true)
            }
            Outcome::Refused(n, Refused::Transfer) | Outcome::Reply(n) => {
                (vec![out[..n].to_vec()], false)
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_zone_with_a_key_goes_only_to_requests_signed_with_it() {
        let k = key("xfr-key.", b"secret");
        let zs = zones(Some(k.clone()));
        // Signed with the key: every message signed, each verifying in
        // turn against the request's MAC and the one before.
        let mut q = query("example.com.", rtype::AXFR, class::IN, None);
        let mac = sign_request(&mut q, &k, NOW);
        let (ms, transfer) = messages(&zs, &q, "192.0.2.9");
        assert!(transfer);
        assert!(ms.len() > 2, "{} messages", ms.len());
        let mut v = ResponseVerifier::new(k.clone(), mac);
        for m in &ms {
            assert!(m.len() <= 600);
            assert!(locate(m).unwrap().is_some(), "every message is signed");
            v.verify(m, NOW + 1).expect("each message verifies");
        }
        v.finish().unwrap();
        let answers: usize = ms
            .iter()
            .map(|m| Message::from_vec(m).unwrap().answers.len())
            .sum();
        assert!(answers > 10);
        // IXFR too.
        let mut q = query("example.com.", rtype::IXFR, class::IN, None);
        let mac = sign_request(&mut q, &k, NOW);
        let (ms, transfer) = messages(&zs, &q, "192.0.2.9");
        assert!(transfer);
        let mut v = ResponseVerifier::new(k.clone(), mac);
        ms.iter().for_each(|m| v.verify(m, NOW + 1).unwrap());
        v.finish().unwrap();

        // Unsigned, from a client named: NOTAUTH, no transfer.
        let q = query("example.com.", rtype::AXFR, class::IN, None);
        let (ms, transfer) = messages(&zs, &q, "192.0.2.9");
        assert!(!transfer);
        assert_eq!(ms[0][3] & 0xf, rcode::NOTAUTH as u8);
        // Signed with the key, from a client not named: NOTAUTH.
        let mut q = query("example.com.", rtype::AXFR, class::IN, None);
        sign_request(&mut q, &k, NOW);
        let (ms, transfer) = messages(&zs, &q, "192.0.3.9");
        assert!(!transfer);
        assert_eq!(ms[0][3] & 0xf, rcode::NOTAUTH as u8);
        // Another secret under the key's name: BADSIG; another key: BADKEY.
        for (other, error) in [
            (key("xfr-key.", b"wrong"), error_code::BADSIG),
            (key("other-key.", b"secret"), error_code::BADKEY),
        ] {
            let mut q = query("example.com.", rtype::AXFR, class::IN, None);
            sign_request(&mut q, &other, NOW);
            let (ms, transfer) = messages(&zs, &q, "192.0.2.9");
            assert!(!transfer);
            assert_eq!(ms[0][3] & 0xf, rcode::NOTAUTH as u8);
            assert_eq!(locate(&ms[0]).unwrap().unwrap().rdata.error, error);
        }
    }

    /// A secondary asks SOA with the key before IXFR (BIND, Knot): the
    /// query verifies against the zone's key and the answer is signed.
    #[test]
    fn queries_signed_with_the_transfer_key_are_answered_signed() {
        let k = key("xfr-key.", b"secret");
        let zs = zones(Some(k.clone()));
        let mut q = query("example.com.", rtype::SOA, class::IN, None);
        let mac = sign_request(&mut q, &k, NOW);
        let (ms, transfer) = messages(&zs, &q, "192.0.2.9");
        assert!(!transfer);
        let m = Message::from_vec(&ms[0]).unwrap();
        assert_eq!(u16::from(m.metadata.response_code), 0);
        assert_eq!(m.answers.len(), 1);
        ResponseVerifier::new(k.clone(), mac)
            .verify(&ms[0], NOW)
            .unwrap();
        // Another key: BADKEY.
        let mut q = query("example.com.", rtype::SOA, class::IN, None);
        sign_request(&mut q, &key("other-key.", b"secret"), NOW);
        let (ms, _) = messages(&zs, &q, "192.0.2.9");
        assert_eq!(ms[0][3] & 0xf, rcode::NOTAUTH as u8);
        assert_eq!(
            locate(&ms[0]).unwrap().unwrap().rdata.error,
            error_code::BADKEY
        );
    }

    #[test]
    fn a_zone_without_a_key_refuses_signed_requests_with_badkey() {
        let zs = zones(None);
        let mut q = query("example.com.", rtype::AXFR, class::IN, None);
        sign_request(&mut q, &key("xfr-key.", b"secret"), NOW);
        let (ms, transfer) = messages(&zs, &q, "192.0.2.9");
        assert!(!transfer);
        assert_eq!(ms[0][3] & 0xf, rcode::NOTAUTH as u8);
        assert_eq!(
            locate(&ms[0]).unwrap().unwrap().rdata.error,
            error_code::BADKEY
        );
        // Unsigned, the same client transfers.
        let q = query("example.com.", rtype::AXFR, class::IN, None);
        assert!(messages(&zs, &q, "192.0.2.9").1);
    }
}

/// A refused transfer says why where the query has EDNS: EDE 18,
/// Prohibited (RFC 8914 §4.19), with NOTAUTH.
#[test]
fn a_refused_transfer_carries_ede_prohibited() {
    let apex = parse_name_text("example.com.", None).unwrap();
    let built = load_zone_text(ZONE.as_bytes(), "test", &apex).unwrap();
    let zs = ZoneSet::new([Zone::primary(Arc::new(built.snapshot))]);
    for qtype in [rtype::AXFR, rtype::IXFR] {
        let q = query("example.com.", qtype, class::IN, Some((1232, &[])));
        let t = Transport {
            protocol: Protocol::Tcp,
            source: "192.0.2.9".parse().unwrap(),
            now: 0,
        };
        let mut out = vec![0u8; MAX_MESSAGE];
        let Outcome::Refused(n, Refused::Transfer) =
            responder().respond(&zs, &q, &t, &mut out, &mut Scratch::default())
        else {
            panic!("refused");
        };
        let m = Message::from_vec(&out[..n]).unwrap();
        assert_eq!(u16::from(m.metadata.response_code), rcode::NOTAUTH);
        let opts = m.edns.unwrap().options().as_ref().to_vec();
        assert_eq!(u16::from(opts[0].0), 15, "an EDE option");
        let raw = &out[..n];
        let at = raw.len() - ("Transfer not allowed".len() + 2);
        assert_eq!(&raw[at..at + 2], &[0, 18], "INFO-CODE 18");
        assert_eq!(&raw[at + 2..], b"Transfer not allowed");
    }
}

/// Transfers running at once are limited in all and per client: one over
/// the limit gets REFUSED with an EDE, and a slot comes back when its
/// transfer is dropped (done, or its connection gone).
#[test]
fn transfers_beyond_the_limits_are_refused_until_one_ends() {
    let apex = parse_name_text("example.com.", None).unwrap();
    let built = load_zone_text(ZONE.as_bytes(), "test", &apex).unwrap();
    let acl = crate::zone::transfer_acl::TransferAcl::parse(["192.0.2.0/24"]).unwrap();
    let zs = ZoneSet::new([
        Zone::primary(Arc::new(built.snapshot)).with_transfer_acl(Some(Arc::new(acl)))
    ]);
    let r = Responder::new(ResponderConfig {
        transfers_out: 3,
        transfers_out_per_client: 2,
        ..ResponderConfig::default()
    });
    let mut out = vec![0u8; MAX_MESSAGE];
    let mut s = Scratch::default();
    let mut ask = |from: &str| {
        let q = query("example.com.", rtype::AXFR, class::IN, Some((1232, &[])));
        let t = Transport {
            protocol: Protocol::Tcp,
            source: from.parse().unwrap(),
            now: 0,
        };
        match r.respond(&zs, &q, &t, &mut out, &mut s) {
            Outcome::Transfer(t) => Ok(t),
            Outcome::Refused(n, Refused::Transfer) => Err(out[..n].to_vec()),
            other => panic!("{other:?}"),
        }
    };
    let refused = |reply: Vec<u8>| {
        let m = Message::from_vec(&reply).unwrap();
        assert_eq!(u16::from(m.metadata.response_code), rcode::REFUSED);
        let text = b"Too many transfers running, try later";
        assert!(
            reply.windows(text.len()).any(|w| w == text),
            "an EDE says why"
        );
    };
    let a1 = ask("192.0.2.1").unwrap();
    let a2 = ask("192.0.2.1").unwrap();
    refused(ask("192.0.2.1").map(|_| ()).unwrap_err());
    let b1 = ask("192.0.2.2").unwrap();
    refused(ask("192.0.2.3").map(|_| ()).unwrap_err());
    assert_eq!(r.transfers_running(), 3);
    drop(a1);
    let a3 = ask("192.0.2.1").unwrap();
    // A transfer that ran to its end gives its slot back when dropped,
    // as the connection drops it.
    let mut b1 = b1;
    let mut buf = vec![0u8; MAX_MESSAGE];
    while b1.0.next_message(&mut buf, 0).unwrap().is_some() {}
    drop(b1);
    assert_eq!(r.transfers_running(), 2);
    let c = ask("192.0.2.3").unwrap();
    drop((a2, a3, c));
    assert_eq!(r.transfers_running(), 0);
}

/// The kinds of answers response rate limiting tells apart, and the
/// names they are keyed by.
#[test]
fn answers_say_their_kind_and_the_name_it_is_about() {
    let zs = zones();
    let r = responder();
    let mut out = vec![0u8; MAX_MESSAGE];
    let mut s = Scratch::default();
    let mut facts = |name: &str, qtype: u16| {
        let q = query(name, qtype, 1, None);
        r.respond(&zs, &q, &Transport::udp(0), &mut out, &mut s);
        let f = *s.facts();
        (f.class, f.name_hash)
    };
    let hash = |name: &str| {
        let n = parse_name_text(name, None).unwrap();
        crate::wire::name::hash_name(n.as_wire())
    };
    assert_eq!(
        facts("www.example.com.", 1),
        (AnswerClass::Positive, hash("www.example.com."))
    );
    assert_eq!(
        facts("www.example.com.", 15),
        (AnswerClass::NoData, hash("www.example.com."))
    );
    // Any name that does not exist: the zone's.
    assert_eq!(
        facts("nx1.example.com.", 1),
        (AnswerClass::NxDomain, hash("example.com."))
    );
    assert_eq!(
        facts("a.b.nx2.example.com.", 28),
        (AnswerClass::NxDomain, hash("example.com."))
    );
    // Below a cut: the cut's.
    assert_eq!(
        facts("x.y.sub.example.com.", 1),
        (AnswerClass::Referral, hash("sub.example.com."))
    );
    // Made by a wildcard: its parent's.
    assert_eq!(
        facts("foo.wild.example.com.", 1),
        (AnswerClass::Wildcard, hash("wild.example.com."))
    );
    assert_eq!(
        facts("bar.wild.example.com.", 1),
        (AnswerClass::Wildcard, hash("wild.example.com."))
    );
    // Through a CNAME: the question's name.
    assert_eq!(
        facts("alias.example.com.", 1),
        (AnswerClass::Positive, hash("alias.example.com."))
    );
    assert_eq!(facts("other.example.", 1).0, AnswerClass::Error);
}

/// The slip of response rate limiting: header and question, TC set,
/// nothing else.
#[test]
fn a_slipped_answer_keeps_only_the_question() {
    let zs = zones();
    let q = query("www.example.com.", 1, 1, Some((1232, &[])));
    let mut full = raw(&zs, &q, Transport::udp(0)).unwrap();
    let n = full.len();
    let len = slip_answer(&mut full, n);
    let m = Message::from_vec(&full[..len]).unwrap();
    assert!(m.metadata.truncation);
    assert!(m.answers.is_empty() && m.authorities.is_empty() && m.additionals.is_empty());
    assert_eq!(m.queries.len(), 1);
    assert_eq!(m.queries[0].name().to_string(), "www.example.com.");
    assert_eq!(len, 12 + 17 + 4);
    assert_eq!(m.metadata.id, 0xbeef);
    assert_eq!(slip_answer(&mut full, 5), 0, "not a response");
}
