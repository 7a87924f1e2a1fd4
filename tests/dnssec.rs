//! Serving signed zones (RFC 4033–4035): zones signed for the run by
//! BIND's dnssec-signzone and by ldns-signzone (NSEC), served by zonecast
//! and by Knot DNS from the same files; DO=1 answers must mean the same
//! as Knot's in every case of RFC 4035 §3.1, and validators (Unbound as a
//! resolver, BIND's delv asking zonecast directly) must find every answer
//! through zonecast secure.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::*;

const ZONE: &str = include_str!("data/signed.test.zone");
const APEX: &str = "signed.test.";

/// A zone signed for this run, and the DS of its key-signing key.
struct Signed {
    _dir: tempfile::TempDir,
    text: String,
    ds: String,
}

fn sh(dir: &Path, program: &str, args: &[&str]) -> String {
    let out = Command::new(tool(program))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Signs with BIND's dnssec-signzone: ECDSA P-256 KSK and ZSK; NSEC, or
/// with `extra` NSEC3 options.
fn sign_with_bind(extra: &[&str]) -> Signed {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("zone"), ZONE).unwrap();
    let zone = APEX.trim_end_matches('.');
    sh(
        d,
        "dnssec-keygen",
        &[
            "-q",
            "-K",
            ".",
            "-a",
            "ECDSAP256SHA256",
            "-f",
            "KSK",
            "-n",
            "ZONE",
            zone,
        ],
    );
    sh(
        d,
        "dnssec-keygen",
        &["-q", "-K", ".", "-a", "ECDSAP256SHA256", "-n", "ZONE", zone],
    );
    let mut args = vec!["-q", "-K", ".", "-S", "-o", zone, "-f", "signed", "-d", "."];
    args.extend_from_slice(extra);
    args.push("zone");
    sh(d, "dnssec-signzone", &args);
    Signed {
        text: std::fs::read_to_string(d.join("signed")).unwrap(),
        ds: std::fs::read_to_string(d.join(format!("dsset-{zone}."))).unwrap(),
        _dir: dir,
    }
}

/// Signs with ldns-signzone: Ed25519 KSK and ZSK; NSEC, or with `extra`
/// NSEC3 options.
fn sign_with_ldns(extra: &[&str]) -> Signed {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("zone"), ZONE).unwrap();
    let zone = APEX.trim_end_matches('.');
    let ksk = sh(d, "ldns-keygen", &["-a", "ED25519", "-k", zone]);
    let zsk = sh(d, "ldns-keygen", &["-a", "ED25519", zone]);
    let mut args = vec!["-f", "signed"];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["zone", &zsk, &ksk]);
    sh(d, "ldns-signzone", &args);
    let ds = sh(d, "ldns-key2ds", &["-n", &format!("{ksk}.key")]);
    Signed {
        text: std::fs::read_to_string(d.join("signed")).unwrap(),
        ds,
        _dir: dir,
    }
}

/// The zone signed four ways: NSEC by both signers, NSEC3 with no salt
/// and 0 iterations (RFC 9276), and NSEC3 opt-out with a salt and 2
/// iterations.
fn signers() -> Vec<(&'static str, Signed)> {
    vec![
        ("dnssec-signzone, NSEC", sign_with_bind(&[])),
        ("ldns-signzone, NSEC", sign_with_ldns(&[])),
        (
            "dnssec-signzone, NSEC3",
            sign_with_bind(&["-3", "-", "-H", "0"]),
        ),
        (
            "ldns-signzone, NSEC3 opt-out",
            sign_with_ldns(&["-n", "-p", "-s", "aabbccdd", "-t", "2"]),
        ),
    ]
}

fn serve(signed: &Signed) -> (Knot, Zonecast) {
    let files = [("signed.test.zone", signed.text.as_str())];
    let knot = Knot::start(
        "",
        "zone:\n  - domain: signed.test\n    semantic-checks: off\n",
        &files,
        APEX,
    );
    let zc = Zonecast::start(
        "",
        "[[zone]]\nname = \"signed.test\"\nfile = \"signed.test.zone\"\n",
        &files,
    );
    (knot, zc)
}

/// Names of every case, each asked for several types.
const NAMES: &[&str] = &[
    "",
    "www.",
    "mail.",
    "ent.",
    "a.ent.",
    "host.a.ent.",
    "x.wild.",
    "deep.x.wild.",
    "y.b.ent.",
    "b.ent.",
    "to-wild.",
    "to-nowhere.",
    "to-www.",
    "alias.",
    "foo.alias.",
    "secure.",
    "ns.secure.",
    "host.secure.",
    "insecure.",
    "ns.insecure.",
    "nx.",
    "deep.nx.",
    "below.www.",
    "zzz.",
    "*.wild.",
];

const TYPES: &[u16] = &[
    1, 28, 16, 15, 2, 6, 43, 48, 46, 47, 50, 51, 59, 255, 5, 39, 99,
];

/// The owners of the NSEC3 records of a signed zone's text: names that
/// must be answered as absent (RFC 5155 §7.2.8).
fn nsec3_owners(text: &str) -> Vec<String> {
    let mut v: Vec<String> = text
        .lines()
        .filter(|l| l.split_whitespace().any(|w| w == "NSEC3"))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|o| o.ends_with(APEX))
        .map(|o| o.trim_end_matches(APEX).to_string())
        .collect();
    v.sort();
    v.dedup();
    v
}

fn cases(extra: &[String]) -> Vec<(String, Vec<u8>, bool)> {
    let mut v = Vec::new();
    let mut id = 100u16;
    let names = NAMES
        .iter()
        .map(|n| n.to_string())
        .chain(extra.iter().cloned());
    for name in names {
        let name = format!("{name}{APEX}");
        for &t in TYPES {
            for (via, payload, dnssec_ok, tcp, cd) in [
                ("UDP DO", 1232u16, true, false, false),
                ("TCP DO", 1232, true, true, false),
                ("UDP DO 512", 512, true, false, false),
                ("UDP DO CD", 1232, true, false, true),
                // An EDNS size below 512 counts as 512 (RFC 6891 §6.2.5).
                ("UDP DO size 0", 0, true, false, false),
                ("UDP", 1232, false, false, false),
            ] {
                id = id.wrapping_add(1);
                let mut q = build_query(
                    id,
                    &name,
                    t,
                    1,
                    Some(EdnsSpec {
                        payload,
                        dnssec_ok,
                        ..Default::default()
                    }),
                );
                if cd {
                    q[3] |= 0x10;
                }
                v.push((format!("{name} type {t} via {via}"), q, tcp));
            }
        }
    }
    v
}

fn ask(addr: std::net::SocketAddr, q: &[u8], tcp_: bool) -> Option<Vec<u8>> {
    let t = Duration::from_millis(500);
    if tcp_ {
        tcp(addr, q, t)
    } else {
        udp(addr, q, t)
    }
}

/// Differences from Knot that are deliberate, each with its reason (also
/// in the README).
const ALLOWED: &[(&str, &str)] = &[
    (
        "wild.signed.test. type 47 ",
        "an NSEC query answered from a wildcard: zonecast adds the NSEC that \
     proves no closer name exists, as RFC 4035 §3.1.3.3 requires of every \
     wildcard expansion; Knot leaves it out for this one type",
    ),
    (
        "b.ent.signed.test. type 47 ",
        "the same, for the wildcard below an empty non-terminal",
    ),
];

/// A truncated answer is compared by its header and question: both set
/// TC, and which records fit before the cut differs because Knot writes a
/// section's RRSIGs at its end and zonecast right after each RRset (both
/// allowed, RFC 4035 §3.1.1); the client asks again over TCP.
fn header_and_question(m: &str) -> String {
    m.lines()
        .filter(|l| l.starts_with("id=") || l.starts_with("question:"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn differences(knot: &Knot, zc: &Zonecast, extra: &[String]) -> (usize, Vec<String>) {
    let all = cases(extra);
    let mut diffs = Vec::new();
    for (label, q, over_tcp) in &all {
        let k = meaning(ask(knot.addr, q, *over_tcp));
        let z = meaning(ask(zc.addr, q, *over_tcp));
        let truncated = k.contains(" tc=true ") && z.contains(" tc=true ");
        if k == z || (truncated && header_and_question(&k) == header_and_question(&z)) {
            continue;
        }
        if ALLOWED.iter().any(|(frag, _)| label.contains(frag)) && !z.contains("rcode=2") {
            continue;
        }
        diffs.push(format!("=== {label}\n--- knot\n{k}--- zonecast\n{z}"));
    }
    (all.len(), diffs)
}

#[test]
fn do_answers_match_knot_for_zones_signed_by_bind_and_ldns() {
    for (signer, signed) in signers() {
        let (knot, zc) = serve(&signed);
        let owners = nsec3_owners(&signed.text);
        assert_eq!(
            owners.is_empty(),
            signer.ends_with("NSEC"),
            "{signer}: {owners:?}"
        );
        let (n, diffs) = differences(&knot, &zc, &owners[..owners.len().min(4)]);
        assert!(n >= 1500, "only {n} cases");
        assert!(
            diffs.is_empty(),
            "{signer}: {} of {n} answers differ from Knot's:\n{}",
            diffs.len(),
            diffs.join("\n")
        );
    }
}

/// RCODE and AD of `name`/`t` through `resolver`, `None` for silence.
fn validated(resolver: &Unbound, name: &str, t: u16) -> Option<(u16, bool)> {
    let q = build_query(
        7,
        name,
        t,
        1,
        Some(EdnsSpec {
            dnssec_ok: true,
            ..Default::default()
        }),
    );
    let m = parse(&udp(resolver.addr, &q, Duration::from_secs(3))?);
    Some((rcode(&m), m.metadata.authentic_data))
}

/// Unbound validates every answer through zonecast: never SERVFAIL
/// (bogus), secure (AD) wherever it is through Knot serving the same
/// file, and secure everywhere but in opt-out spans, which RFC 5155 §9.2
/// makes provably insecure.
#[test]
fn unbound_validates_every_answer_through_zonecast() {
    for (signer, signed) in signers() {
        let (knot, zc) = serve(&signed);
        let through_zc = Unbound::start(APEX, &signed.ds, zc.addr);
        let through_knot = Unbound::start(APEX, &signed.ds, knot.addr);
        let mut checked = 0;
        let mut insecure = 0;
        let mut bad = Vec::new();
        // Names inside the zone: the delegations' children have no server.
        for name in NAMES
            .iter()
            .filter(|n| !n.ends_with("secure.") || **n == "secure." || **n == "insecure.")
        {
            for t in [1u16, 28, 16, 15, 43, 48, 6, 2] {
                let name = format!("{name}{APEX}");
                if (name.starts_with("secure.") || name.starts_with("insecure.")) && t != 43 {
                    continue;
                }
                // DS of the zone itself is the parent's to answer, and the
                // trust anchor stands in for the parent here.
                if name == APEX && t == 43 {
                    continue;
                }
                checked += 1;
                let ours = validated(&through_zc, &name, t);
                let theirs = validated(&through_knot, &name, t);
                match ours {
                    None => bad.push(format!("{name} type {t}: no answer")),
                    Some((2, _)) => bad.push(format!("{name} type {t}: SERVFAIL (bogus)")),
                    Some((code, ad)) => {
                        insecure += usize::from(!ad);
                        let opt_out = signer.contains("opt-out");
                        if (!ad && !opt_out) || Some((code, ad)) != theirs {
                            bad.push(format!(
                                "{name} type {t}: rcode {code}, ad {ad}; through Knot {theirs:?}"
                            ));
                        }
                    }
                }
            }
        }
        assert!(checked >= 100, "{checked}");
        assert!(
            bad.is_empty(),
            "{signer}: {} of {checked} answers not as secure through zonecast as through Knot:\n{}\n--- unbound ---\n{}",
            bad.len(),
            bad.join("\n"),
            through_zc.process.log()
        );
        eprintln!("{signer}: {checked} answers validated, {insecure} provably insecure");
    }
}

/// A delv trust-anchors file from DS records in zone-file form (the
/// dsset of dnssec-signzone, or ldns-key2ds's output).
fn delv_anchors(ds: &str) -> String {
    let mut out = String::from("trust-anchors {\n");
    for line in ds.lines() {
        let t: Vec<&str> = line.split_whitespace().collect();
        let Some(i) = t.iter().position(|w| *w == "DS") else {
            continue;
        };
        out.push_str(&format!(
            "  \"{}\" static-ds {} {} {} \"{}\";\n",
            t[0],
            t[i + 1],
            t[i + 2],
            t[i + 3],
            t[i + 4..].concat()
        ));
    }
    out + "};\n"
}

/// BIND's delv, a second validator independent of Unbound, asks zonecast
/// directly with the zone's DS as its trust anchor: every positive,
/// negative, wildcard and referral answer validates (in the opt-out zone,
/// an answer from an opt-out span may be provably unsigned instead), and
/// none fails.
#[test]
fn delv_validates_answers_from_zonecast() {
    for (signer, signed) in signers() {
        let (_knot, zc) = serve(&signed);
        let dir = tempfile::tempdir().unwrap();
        let anchors = dir.path().join("anchors.conf");
        std::fs::write(&anchors, delv_anchors(&signed.ds)).unwrap();
        let port = zc.addr.port().to_string();
        let anchors = anchors.display().to_string();
        let root = format!("+root={APEX}");
        let mut checked = 0;
        let mut bad = Vec::new();
        for (name, t) in [
            ("", "SOA"),
            ("", "DNSKEY"),
            ("www.", "A"),
            ("www.", "TXT"),
            ("ent.", "A"),
            ("x.wild.", "A"),
            ("deep.x.wild.", "TXT"),
            ("to-wild.", "A"),
            ("to-nowhere.", "A"),
            ("alias.", "A"),
            ("foo.alias.", "A"),
            ("secure.", "DS"),
            ("insecure.", "DS"),
            ("nx.", "A"),
            ("deep.nx.", "AAAA"),
            ("below.www.", "A"),
        ] {
            let qname = format!("{name}{APEX}");
            let o = Command::new(tool("delv"))
                .args([
                    "@127.0.0.1",
                    "-p",
                    &port,
                    "-a",
                    &anchors,
                    &root,
                    "+nocrypto",
                    &qname,
                    t,
                ])
                .output()
                .unwrap();
            // delv says what it concluded on either stream.
            let out = format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            );
            checked += 1;
            let validated = out.contains("fully validated");
            let unsigned = out.contains("unsigned answer");
            if out.contains("resolution failed") && !out.contains("fully validated")
                || !(validated || unsigned && signer.contains("opt-out"))
            {
                bad.push(format!("{qname} {t}:\n{out}"));
            }
        }
        assert!(
            bad.is_empty(),
            "{signer}: {} of {checked} answers do not validate in delv:\n{}",
            bad.len(),
            bad.join("\n")
        );
        eprintln!("{signer}: {checked} answers validated by delv");
    }
}

/// The SOA serial `addr` serves for the zone, if it answers.
fn serial_of(addr: std::net::SocketAddr) -> Option<u32> {
    let r = udp(
        addr,
        &build_query(1, APEX, 6, 1, None),
        Duration::from_millis(300),
    )?;
    let m = parse(&r);
    m.answers.iter().find_map(|rr| {
        rr.data
            .to_string()
            .split_whitespace()
            .nth(2)
            .and_then(|s| s.parse().ok())
    })
}

/// Answers through `resolver` that are not secure, out of a sample of
/// every kind (data, NXDOMAIN, NODATA, wildcard, CNAME, DS at a cut).
fn insecure_answers(resolver: &Unbound) -> Vec<String> {
    let mut bad = Vec::new();
    for (name, t) in [
        ("www.", 1u16),
        ("www.", 15),
        ("nx.", 1),
        ("a.ent.", 1),
        ("x.wild.", 1),
        ("x.wild.", 15),
        ("to-wild.", 1),
        ("to-nowhere.", 1),
        ("secure.", 43),
        ("insecure.", 43),
        ("", 48),
    ] {
        let name = format!("{name}{APEX}");
        let q = build_query(
            9,
            &name,
            t,
            1,
            Some(EdnsSpec {
                dnssec_ok: true,
                ..Default::default()
            }),
        );
        match udp(resolver.addr, &q, Duration::from_secs(3)) {
            Some(r) => {
                let m = parse(&r);
                if rcode(&m) == 2 || !m.metadata.authentic_data {
                    bad.push(format!("{name} type {t}: rcode {}", rcode(&m)));
                }
            }
            None => bad.push(format!("{name} type {t}: no answer")),
        }
    }
    bad
}

/// zonecast as the secondary of `primary` for the zone, listening on
/// `port` (where the primary sends NOTIFY).
fn secondary_of(port: u16, primary: std::net::SocketAddr) -> Zonecast {
    let config = format!(
        "[server]\nlisten = [\"127.0.0.1:{port}\"]\nworkers = 1\n\
         [transfer]\nnotify_min_interval_ms = 100\n\
         [[zone]]\nname = \"{APEX}\"\nfile = \"signed.test.zone\"\nprimaries = [\"{primary}\"]\n"
    );
    Zonecast::start_with_config(tempfile::tempdir().unwrap(), &config)
}

/// Whether zonecast comes to serve the primary's serial.
fn follows(zc: &Zonecast, primary: std::net::SocketAddr) -> bool {
    wait_until(Duration::from_secs(20), || {
        let theirs = serial_of(primary);
        theirs.is_some() && serial_of(zc.addr) == theirs
    })
}

/// zonecast follows the primary, and Unbound finds the sample secure
/// through it; `when` names the step.
fn assert_follows_securely(
    zc: &Zonecast,
    primary: std::net::SocketAddr,
    resolver: &Unbound,
    when: &str,
) {
    assert!(follows(zc, primary), "{when}: {}", zc.process.log());
    let bad = insecure_answers(resolver);
    assert!(
        bad.is_empty(),
        "{when}: {bad:?}\n{}",
        resolver.process.log()
    );
}

/// zonecast as the secondary of a Knot primary that signs the zone
/// itself (NSEC, or NSEC3 with `policy_extra`): the first AXFR, a
/// re-signing and a ZSK rollover, each version by IXFR, and Unbound finds
/// the zone secure through zonecast after each.
fn signed_by_knot_through_zonecast(policy_extra: &str) {
    let port = free_port();
    // Short key timings, so that a rollover completes within seconds.
    let rest = format!(
        "remote:\n  - id: zc\n    address: 127.0.0.1@{port}\n\
         acl:\n  - id: xfr\n    address: 127.0.0.0/8\n    action: transfer\n\
         policy:\n  - id: fast\n    algorithm: ecdsap256sha256\n    dnskey-ttl: 2\n    zone-max-ttl: 2\n    propagation-delay: 0\n{policy_extra}\
         zone:\n  - domain: signed.test\n    notify: zc\n    acl: xfr\n    journal-content: all\n    zonefile-load: difference\n    dnssec-signing: on\n    dnssec-policy: fast\n    semantic-checks: off\n"
    );
    let zone = ZONE.replace("$TTL 3600", "$TTL 2");
    let knot = Knot::start("", &rest, &[("signed.test.zone", &zone)], APEX);
    let ds = {
        let out = Command::new(tool("keymgr"))
            .arg("-c")
            .arg(&knot.conf)
            .args(["signed.test.", "ds"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert!(
        ds.contains(" DS "),
        "keymgr ds: {ds}\n{}",
        knot.process.log()
    );
    let mut zc = secondary_of(port, knot.addr);
    assert!(follows(&zc, knot.addr), "{}", zc.process.log());
    let resolver = Unbound::start(APEX, &ds, zc.addr);
    assert_follows_securely(&zc, knot.addr, &resolver, "after AXFR");

    // Re-signing: every RRSIG replaced, delivered by IXFR.
    let before = serial_of(knot.addr);
    knot.knotc_ok(&["-b", "zone-sign", "signed.test"]);
    assert!(wait_until(Duration::from_secs(10), || serial_of(knot.addr) != before));
    assert_follows_securely(&zc, knot.addr, &resolver, "after re-signing");
    assert!(
        zc.process.wait_for_log("IXFR from", Duration::from_secs(5)),
        "{}",
        zc.process.log()
    );

    // A ZSK rollover: a new key published, the signatures replaced, the old
    // key withdrawn, each a new version; secure after every one zonecast
    // serves.
    let start = serial_of(knot.addr).unwrap();
    knot.knotc_ok(&["zone-key-rollover", "signed.test", "zsk"]);
    let mut versions = 0;
    let end = std::time::Instant::now() + Duration::from_secs(30);
    let mut last = start;
    while std::time::Instant::now() < end && versions < 3 {
        if let Some(s) = serial_of(knot.addr)
            && s != last
        {
            last = s;
            versions += 1;
            let when = format!("rollover step {versions} (serial {s})");
            assert_follows_securely(&zc, knot.addr, &resolver, &when);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        versions >= 2,
        "the rollover brought {versions} versions:\n{}",
        knot.process.log()
    );
    assert!(
        zc.process.log().matches("IXFR from").count() >= 3,
        "{}",
        zc.process.log()
    );
    assert_eq!(
        zc.process.log().matches("AXFR from").count(),
        1,
        "{}",
        zc.process.log()
    );
}

#[test]
fn a_zone_signed_by_its_knot_primary_stays_valid_across_resigning_and_a_rollover() {
    signed_by_knot_through_zonecast("");
}

/// The same with an NSEC3 chain: its records live apart from the names,
/// and IXFR edits them there.
#[test]
fn an_nsec3_zone_signed_by_its_knot_primary_stays_valid_the_same_way() {
    signed_by_knot_through_zonecast(
        "    nsec3: on\n    nsec3-iterations: 0\n    nsec3-salt-length: 0\n",
    );
}

/// A transferred zone whose NSEC3 chain names more iterations than
/// `transfer.nsec3_max_iterations` is refused with a line that says so;
/// under the limit it is served.
#[test]
fn nsec3_iterations_over_the_limit_are_refused_at_transfer() {
    let signed = sign_with_bind(&["-3", "-", "-H", "20"]);
    let rest = "acl:\n  - id: xfr\n    address: 127.0.0.0/8\n    action: transfer\n\
                zone:\n  - domain: signed.test\n    acl: xfr\n    semantic-checks: off\n";
    let knot = Knot::start("", rest, &[("signed.test.zone", &signed.text)], APEX);
    for (limit, served) in [("10", false), ("150", true)] {
        let config = format!(
            "[server]\nlisten = [\"127.0.0.1:0\"]\nworkers = 1\n\
             [transfer]\nnsec3_max_iterations = {limit}\n\
             [[zone]]\nname = \"{APEX}\"\nfile = \"signed.test.zone\"\nprimaries = [\"{}\"]\n",
            knot.addr
        );
        let mut zc = Zonecast::start_with_config(tempfile::tempdir().unwrap(), &config);
        if served {
            assert!(
                wait_until(Duration::from_secs(10), || serial_of(zc.addr)
                    == serial_of(knot.addr)),
                "{}",
                zc.process.log()
            );
        } else {
            assert!(
                zc.process.wait_for_log(
                    "NSEC3PARAM has 20 iterations, more than transfer.nsec3_max_iterations (10)",
                    Duration::from_secs(10)
                ),
                "{}",
                zc.process.log()
            );
            assert_eq!(serial_of(zc.addr), None, "nothing is served");
        }
    }
}

/// zonecast as the secondary of a BIND primary that signs the zone with
/// `dnssec-policy` (inline signing): AXFR of the signed zone, then a
/// changed record (signed again by BIND) by NOTIFY and IXFR, with Unbound
/// finding the zone secure through zonecast after each.
#[test]
fn a_zone_signed_by_a_bind_primary_with_dnssec_policy_stays_valid() {
    let port = free_port();
    let options = format!(
        " notify explicit;\n notify-delay 0;\n also-notify {{ 127.0.0.1 port {port}; }};\n\
         allow-transfer {{ 127.0.0.0/8; }};\n max-ixfr-ratio unlimited;"
    );
    let bind = Bind::start_with_zone_options(
        "",
        &options,
        &[("signed.test.zone", ZONE)],
        "dnssec-policy default; inline-signing yes;",
    );
    // BIND signs in the background: wait for the signed SOA.
    let signed_soa = || {
        let q = build_query(
            3,
            APEX,
            6,
            1,
            Some(EdnsSpec {
                dnssec_ok: true,
                ..Default::default()
            }),
        );
        udp(bind.addr, &q, Duration::from_millis(300)).is_some_and(|r| {
            parse(&r)
                .answers
                .iter()
                .any(|rr| u16::from(rr.record_type()) == 46)
        })
    };
    assert!(
        wait_until(Duration::from_secs(20), signed_soa),
        "{}",
        bind.process.log()
    );
    let key = std::fs::read_dir(bind.dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| {
            p.file_name().is_some_and(|n| {
                n.to_string_lossy().starts_with("Ksigned.test.+")
                    && n.to_string_lossy().ends_with(".key")
            })
        })
        .expect("BIND's key file");
    let ds = sh(
        bind.dir.path(),
        "dnssec-dsfromkey",
        &["-2", &key.display().to_string()],
    );
    let mut zc = secondary_of(port, bind.addr);
    assert!(follows(&zc, bind.addr), "{}", zc.process.log());
    let resolver = Unbound::start(APEX, &ds, zc.addr);
    assert_follows_securely(&zc, bind.addr, &resolver, "after AXFR");

    // A changed record: BIND signs the new version and sends NOTIFY.
    let before = serial_of(bind.addr);
    bind.update(
        "signed.test.zone",
        &ZONE
            .replace("2026120101", "2026120102")
            .replace("www A 192.0.2.80", "www A 192.0.2.81"),
    );
    assert!(
        wait_until(Duration::from_secs(20), || serial_of(bind.addr) != before),
        "{}",
        bind.process.log()
    );
    assert_follows_securely(&zc, bind.addr, &resolver, "after the change");
    assert!(
        zc.process.wait_for_log("IXFR from", Duration::from_secs(5)),
        "{}",
        zc.process.log()
    );
    let q = build_query(4, &format!("www.{APEX}"), 1, 1, None);
    assert!(
        meaning(udp(zc.addr, &q, Duration::from_secs(1))).contains("192.0.2.81"),
        "{}",
        zc.process.log()
    );
}

/// ZONEMD over signed zones (issue 13, step 3): ldns-signzone, another
/// implementation of RFC 8976, adds a SHA-384 and a SHA-512 ZONEMD (and
/// signs it) to the zone signed with NSEC and with NSEC3 opt-out; the
/// digest zonecast computes matches both, RRSIGs and the NSEC3 chain
/// included. One record changed after signing, it no longer does.
#[test]
fn zonemd_of_zones_ldns_signed_verifies() {
    use zonecast::wire::name::parse_name_text;
    use zonecast::zone::load_zone_text;
    use zonecast::zone::zonemd::{ZonemdCheck, ZonemdError, ZonemdPolicy, check};
    for (label, extra) in [
        ("NSEC", vec!["-z", "1:1", "-z", "1:2"]),
        (
            "NSEC3 opt-out",
            vec![
                "-n",
                "-p",
                "-s",
                "aabbccdd",
                "-t",
                "2",
                "-z",
                "simple:sha384",
            ],
        ),
    ] {
        let signed = sign_with_ldns(&extra);
        assert!(signed.text.contains("ZONEMD"), "{label}: {}", signed.text);
        let apex = parse_name_text(APEX, None).unwrap();
        let snap = load_zone_text(signed.text.as_bytes(), "signed", &apex)
            .unwrap()
            .snapshot;
        match check(&snap, ZonemdPolicy::Require) {
            Ok(ZonemdCheck::Verified { algorithm, .. }) => {
                assert!(algorithm.starts_with("SHA-"), "{label}")
            }
            other => panic!("{label}: {other:?}"),
        }
        // ldns itself says so too.
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("z"), &signed.text).unwrap();
        sh(dir.path(), "ldns-verify-zone", &["-Z", "z"]);
        // An address changed after signing: the digest no longer matches.
        let edited = signed.text.replacen("192.0.2.", "192.0.2.1", 1);
        assert_ne!(edited, signed.text);
        let snap = load_zone_text(edited.as_bytes(), "edited", &apex)
            .unwrap()
            .snapshot;
        assert!(
            matches!(
                check(&snap, ZonemdPolicy::Verify),
                Err(ZonemdError::Mismatch(_))
            ),
            "{label}"
        );
    }
}
