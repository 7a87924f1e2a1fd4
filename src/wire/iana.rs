//! Numbers from the IANA DNS registries that zonecast uses, with their
//! mnemonics for the presentation format.

/// RR TYPE values (RFC 1035 §3.2.2 and later RFCs).
pub mod rtype {
    pub const A: u16 = 1;
    pub const NS: u16 = 2;
    pub const MD: u16 = 3;
    pub const MF: u16 = 4;
    pub const CNAME: u16 = 5;
    pub const SOA: u16 = 6;
    pub const MB: u16 = 7;
    pub const MG: u16 = 8;
    pub const MR: u16 = 9;
    pub const NULL: u16 = 10;
    pub const PTR: u16 = 12;
    pub const HINFO: u16 = 13;
    pub const MINFO: u16 = 14;
    pub const MX: u16 = 15;
    pub const TXT: u16 = 16;
    pub const RP: u16 = 17;
    pub const AFSDB: u16 = 18;
    pub const AAAA: u16 = 28;
    pub const SRV: u16 = 33;
    pub const NAPTR: u16 = 35;
    pub const KX: u16 = 36;
    pub const DNAME: u16 = 39;
    pub const OPT: u16 = 41;
    pub const DS: u16 = 43;
    pub const SSHFP: u16 = 44;
    pub const RRSIG: u16 = 46;
    pub const NSEC: u16 = 47;
    pub const DNSKEY: u16 = 48;
    pub const DHCID: u16 = 49;
    pub const NSEC3: u16 = 50;
    pub const NSEC3PARAM: u16 = 51;
    pub const TLSA: u16 = 52;
    pub const SMIMEA: u16 = 53;
    pub const CDS: u16 = 59;
    pub const CDNSKEY: u16 = 60;
    pub const OPENPGPKEY: u16 = 61;
    pub const CSYNC: u16 = 62;
    pub const ZONEMD: u16 = 63;
    pub const SVCB: u16 = 64;
    pub const HTTPS: u16 = 65;
    pub const SPF: u16 = 99;
    pub const TKEY: u16 = 249;
    pub const TSIG: u16 = 250;
    pub const IXFR: u16 = 251;
    pub const AXFR: u16 = 252;
    pub const MAILB: u16 = 253;
    pub const MAILA: u16 = 254;
    pub const ANY: u16 = 255;
    pub const URI: u16 = 256;
    pub const CAA: u16 = 257;
    pub const WKS: u16 = 11;
    pub const X25: u16 = 19;
    pub const ISDN: u16 = 20;
    pub const RT: u16 = 21;
    pub const NSAP: u16 = 22;
    pub const NSAP_PTR: u16 = 23;
    pub const SIG: u16 = 24;
    pub const KEY: u16 = 25;
    pub const PX: u16 = 26;
    pub const GPOS: u16 = 27;
    pub const LOC: u16 = 29;
    pub const NXT: u16 = 30;
    pub const EID: u16 = 31;
    pub const NIMLOC: u16 = 32;
    pub const ATMA: u16 = 34;
    pub const CERT: u16 = 37;
    pub const A6: u16 = 38;
    pub const SINK: u16 = 40;
    pub const APL: u16 = 42;
    pub const IPSECKEY: u16 = 45;
    pub const HIP: u16 = 55;
    pub const NINFO: u16 = 56;
    pub const RKEY: u16 = 57;
    pub const TALINK: u16 = 58;
    pub const NID: u16 = 104;
    pub const L32: u16 = 105;
    pub const L64: u16 = 106;
    pub const LP: u16 = 107;
    pub const EUI48: u16 = 108;
    pub const EUI64: u16 = 109;
    pub const AVC: u16 = 258;
    pub const DOA: u16 = 259;
    pub const AMTRELAY: u16 = 260;
    pub const RESINFO: u16 = 261;
    pub const WALLET: u16 = 262;
    pub const TA: u16 = 32768;
    pub const DLV: u16 = 32769;

    /// Mnemonics of the types zonecast knows by name.
    const NAMES: &[(u16, &str)] = &[
        (A, "A"),
        (NS, "NS"),
        (MD, "MD"),
        (MF, "MF"),
        (CNAME, "CNAME"),
        (SOA, "SOA"),
        (MB, "MB"),
        (MG, "MG"),
        (MR, "MR"),
        (NULL, "NULL"),
        (PTR, "PTR"),
        (HINFO, "HINFO"),
        (MINFO, "MINFO"),
        (MX, "MX"),
        (TXT, "TXT"),
        (RP, "RP"),
        (AFSDB, "AFSDB"),
        (AAAA, "AAAA"),
        (SRV, "SRV"),
        (NAPTR, "NAPTR"),
        (KX, "KX"),
        (DNAME, "DNAME"),
        (OPT, "OPT"),
        (DS, "DS"),
        (SSHFP, "SSHFP"),
        (RRSIG, "RRSIG"),
        (NSEC, "NSEC"),
        (DNSKEY, "DNSKEY"),
        (DHCID, "DHCID"),
        (NSEC3, "NSEC3"),
        (NSEC3PARAM, "NSEC3PARAM"),
        (TLSA, "TLSA"),
        (SMIMEA, "SMIMEA"),
        (CDS, "CDS"),
        (CDNSKEY, "CDNSKEY"),
        (OPENPGPKEY, "OPENPGPKEY"),
        (CSYNC, "CSYNC"),
        (ZONEMD, "ZONEMD"),
        (SVCB, "SVCB"),
        (HTTPS, "HTTPS"),
        (SPF, "SPF"),
        (TKEY, "TKEY"),
        (TSIG, "TSIG"),
        (IXFR, "IXFR"),
        (AXFR, "AXFR"),
        (MAILB, "MAILB"),
        (MAILA, "MAILA"),
        (ANY, "ANY"),
        (URI, "URI"),
        (CAA, "CAA"),
        (WKS, "WKS"),
        (X25, "X25"),
        (ISDN, "ISDN"),
        (RT, "RT"),
        (NSAP, "NSAP"),
        (NSAP_PTR, "NSAP-PTR"),
        (SIG, "SIG"),
        (KEY, "KEY"),
        (PX, "PX"),
        (GPOS, "GPOS"),
        (LOC, "LOC"),
        (NXT, "NXT"),
        (EID, "EID"),
        (NIMLOC, "NIMLOC"),
        (ATMA, "ATMA"),
        (CERT, "CERT"),
        (A6, "A6"),
        (SINK, "SINK"),
        (APL, "APL"),
        (IPSECKEY, "IPSECKEY"),
        (HIP, "HIP"),
        (NINFO, "NINFO"),
        (RKEY, "RKEY"),
        (TALINK, "TALINK"),
        (NID, "NID"),
        (L32, "L32"),
        (L64, "L64"),
        (LP, "LP"),
        (EUI48, "EUI48"),
        (EUI64, "EUI64"),
        (AVC, "AVC"),
        (DOA, "DOA"),
        (AMTRELAY, "AMTRELAY"),
        (RESINFO, "RESINFO"),
        (WALLET, "WALLET"),
        (TA, "TA"),
        (DLV, "DLV"),
    ];

    /// The mnemonic of `t`, if it has one zonecast knows.
    pub fn name(t: u16) -> Option<&'static str> {
        NAMES.iter().find(|(v, _)| *v == t).map(|(_, n)| *n)
    }

    /// Parses a type mnemonic or the RFC 3597 `TYPEnnn` form, ignoring case.
    pub fn from_name(s: &str) -> Option<u16> {
        if let Some((v, _)) = NAMES.iter().find(|(_, n)| n.eq_ignore_ascii_case(s)) {
            return Some(*v);
        }
        let digits = s
            .get(..4)
            .filter(|p| p.eq_ignore_ascii_case("TYPE"))
            .and(s.get(4..))?;
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok()
    }

    /// Writes the mnemonic of `t`, or `TYPEnnn` (RFC 3597 §5).
    pub fn fmt_into(t: u16, f: &mut impl core::fmt::Write) -> core::fmt::Result {
        match name(t) {
            Some(n) => f.write_str(n),
            None => write!(f, "TYPE{t}"),
        }
    }

    /// A `Display` adapter for a type number.
    pub struct Display(pub u16);
    impl core::fmt::Display for Display {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            fmt_into(self.0, f)
        }
    }

    /// Meta-types and QTYPEs that never appear as data in a zone
    /// (RFC 6895 §3.1).
    pub fn is_meta(t: u16) -> bool {
        t == OPT || (128..=255).contains(&t)
    }
}

/// CLASS values (RFC 1035 §3.2.4, RFC 6895 §3.2).
pub mod class {
    pub const IN: u16 = 1;
    pub const CH: u16 = 3;
    pub const HS: u16 = 4;
    pub const NONE: u16 = 254;
    pub const ANY: u16 = 255;

    pub fn name(c: u16) -> Option<&'static str> {
        match c {
            IN => Some("IN"),
            CH => Some("CH"),
            HS => Some("HS"),
            NONE => Some("NONE"),
            ANY => Some("ANY"),
            _ => None,
        }
    }

    /// Parses a class mnemonic or the RFC 3597 `CLASSnnn` form.
    pub fn from_name(s: &str) -> Option<u16> {
        for c in [IN, CH, HS, NONE, ANY] {
            if name(c).is_some_and(|n| n.eq_ignore_ascii_case(s)) {
                return Some(c);
            }
        }
        if s.eq_ignore_ascii_case("CHAOS") {
            return Some(CH);
        }
        let digits = s
            .get(..5)
            .filter(|p| p.eq_ignore_ascii_case("CLASS"))
            .and(s.get(5..))?;
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok()
    }
}

/// OPCODE values (RFC 1035 §4.1.1, RFC 1996, RFC 2136).
pub mod opcode {
    pub const QUERY: u8 = 0;
    pub const IQUERY: u8 = 1;
    pub const STATUS: u8 = 2;
    pub const NOTIFY: u8 = 4;
    pub const UPDATE: u8 = 5;
}

/// RCODE values, including the extended ones carried in OPT and TSIG.
pub mod rcode {
    pub const NOERROR: u16 = 0;
    pub const FORMERR: u16 = 1;
    pub const SERVFAIL: u16 = 2;
    pub const NXDOMAIN: u16 = 3;
    pub const NOTIMP: u16 = 4;
    pub const REFUSED: u16 = 5;
    pub const YXDOMAIN: u16 = 6;
    pub const NOTAUTH: u16 = 9;
    pub const NOTZONE: u16 = 10;
    /// BADVERS (RFC 6891 §6.1.3) and BADSIG (RFC 8945) share the value 16.
    pub const BADVERS: u16 = 16;
    pub const BADSIG: u16 = 16;
    pub const BADKEY: u16 = 17;
    pub const BADTIME: u16 = 18;
    pub const BADTRUNC: u16 = 22;
    pub const BADCOOKIE: u16 = 23;

    /// The mnemonic of an RCODE in a header (with OPT's extension):
    /// RFC 1035 §4.1.1, 2136 §2.2, 6891 §9 and 7873 §8.
    pub fn name(code: u16) -> Option<&'static str> {
        Some(match code {
            NOERROR => "NOERROR",
            FORMERR => "FORMERR",
            SERVFAIL => "SERVFAIL",
            NXDOMAIN => "NXDOMAIN",
            NOTIMP => "NOTIMP",
            REFUSED => "REFUSED",
            YXDOMAIN => "YXDOMAIN",
            7 => "YXRRSET",
            8 => "NXRRSET",
            NOTAUTH => "NOTAUTH",
            NOTZONE => "NOTZONE",
            BADVERS => "BADVERS",
            BADCOOKIE => "BADCOOKIE",
            _ => return None,
        })
    }

    /// The mnemonic of a TSIG error field (RFC 8945 §3, 2845 §4.5).
    pub fn tsig_name(code: u16) -> Option<&'static str> {
        Some(match code {
            NOERROR => "NOERROR",
            BADSIG => "BADSIG",
            BADKEY => "BADKEY",
            BADTIME => "BADTIME",
            19 => "BADMODE",
            20 => "BADNAME",
            21 => "BADALG",
            BADTRUNC => "BADTRUNC",
            _ => return None,
        })
    }

    /// An RCODE as operators read it: `REFUSED (5)`, or the number.
    pub struct Display(pub u16);

    /// A TSIG error as operators read it: `BADSIG (16)`, or the number.
    pub struct TsigDisplay(pub u16);

    fn fmt_named(
        code: u16,
        name: Option<&str>,
        f: &mut core::fmt::Formatter<'_>,
    ) -> core::fmt::Result {
        match name {
            Some(n) => write!(f, "{n} ({code})"),
            None => write!(f, "{code}"),
        }
    }

    impl core::fmt::Display for Display {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            fmt_named(self.0, name(self.0), f)
        }
    }

    impl core::fmt::Display for TsigDisplay {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            fmt_named(self.0, tsig_name(self.0), f)
        }
    }
}

/// EDNS option codes (RFC 6891 §6.1.2 registry).
pub mod edns_option {
    pub const NSID: u16 = 3;
    pub const EXPIRE: u16 = 9;
    pub const COOKIE: u16 = 10;
    pub const TCP_KEEPALIVE: u16 = 11;
    pub const PADDING: u16 = 12;
    pub const EDE: u16 = 15;
}

/// Extended DNS Error info-codes (RFC 8914 §4).
pub mod ede {
    pub const OTHER: u16 = 0;
    pub const NOT_READY: u16 = 14;
    pub const PROHIBITED: u16 = 18;
    pub const NOT_AUTHORITATIVE: u16 = 20;
    pub const NOT_SUPPORTED: u16 = 21;
    pub const INVALID_DATA: u16 = 24;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names_round_trip() {
        assert_eq!(rtype::from_name("aaaa"), Some(rtype::AAAA));
        assert_eq!(rtype::from_name("TYPE65280"), Some(65280));
        assert_eq!(rtype::from_name("type1"), Some(1));
        assert_eq!(rtype::from_name("TYPE"), None);
        assert_eq!(rtype::from_name("TYPE70000"), None);
        assert_eq!(rtype::from_name("TYPE-1"), None);
        assert_eq!(rtype::Display(65280).to_string(), "TYPE65280");
        assert_eq!(rtype::Display(rtype::HTTPS).to_string(), "HTTPS");
    }

    #[test]
    fn rcodes_and_tsig_errors_print_by_name() {
        assert_eq!(rcode::Display(rcode::REFUSED).to_string(), "REFUSED (5)");
        assert_eq!(rcode::Display(rcode::NOTAUTH).to_string(), "NOTAUTH (9)");
        assert_eq!(rcode::Display(42).to_string(), "42");
        // 16 is BADVERS in a header, BADSIG in a TSIG error field.
        assert_eq!(rcode::Display(16).to_string(), "BADVERS (16)");
        assert_eq!(rcode::TsigDisplay(16).to_string(), "BADSIG (16)");
        assert_eq!(rcode::TsigDisplay(17).to_string(), "BADKEY (17)");
        assert_eq!(rcode::TsigDisplay(18).to_string(), "BADTIME (18)");
    }

    #[test]
    fn class_names() {
        assert_eq!(class::from_name("in"), Some(class::IN));
        assert_eq!(class::from_name("CLASS3"), Some(class::CH));
        assert_eq!(class::from_name("CLASSx"), None);
    }
}
