//! What a re-signing IXFR costs on a large signed zone: the zone is
//! generated, signed with dnssec-signzone, loaded, and then a diff that
//! replaces a share of its RRSIGs (as a primary's re-signing does, the
//! SOA's always among them) is applied in process, as the transfer thread
//! applies one. The figure to compare it with is a build of the same
//! zone from scratch, which is what a server without shared versions pays.

use std::path::Path;
use std::time::Instant;

use zonecast::wire::Name;
use zonecast::wire::iana::rtype;
use zonecast::wire::name::parse_name_text;
use zonecast::zone::{Diff, Rr, Snapshot, load_zone_file};

use crate::qps;
use crate::scale::soa_at;
use crate::zonegen::{self, APEX};

#[derive(Clone, Debug)]
pub struct Settings {
    pub names: usize,
    pub nsec3: bool,
    /// Shares of the RRSIGs replaced, one row each.
    pub fractions: Vec<f64>,
    /// A zone signed already (bench.test.), instead of generating and
    /// signing one.
    pub signed: Option<std::path::PathBuf>,
}

pub struct Row {
    pub replaced: usize,
    pub apply_ms: f64,
    pub shards: String,
    pub chain_chunks: String,
}

pub struct Report {
    pub names: usize,
    pub records: usize,
    pub rrsigs: usize,
    pub load_s: f64,
    pub rows: Vec<Row>,
}

/// The record `(owner, ttl, type, rdata)` of a snapshot as an [`Rr`].
fn rr(owner: &[u8], ttl: u32, t: u16, rdata: &[u8]) -> Result<Rr, String> {
    Ok(Rr {
        owner: Name::from_wire(owner).map_err(|e| e.to_string())?,
        rtype: t,
        class: 1,
        ttl,
        rdata: rdata.into(),
    })
}

/// A new signature over the same data: later inception and expiration
/// (RFC 4034 §3.1.5), other signature octets.
fn resigned(rdata: &[u8]) -> Vec<u8> {
    let mut rd = rdata.to_vec();
    for at in [8, 12] {
        let t = u32::from_be_bytes([rd[at], rd[at + 1], rd[at + 2], rd[at + 3]]);
        rd[at..at + 4].copy_from_slice(&t.wrapping_add(86_400).to_be_bytes());
    }
    if let Some(last) = rd.last_mut() {
        *last ^= 0x5a;
    }
    rd
}

/// The diff that replaces every `every`-th RRSIG, and the SOA's.
fn resigning_diff(snap: &Snapshot, every: usize) -> Result<(Diff, usize), String> {
    let apex = snap.apex_wire().to_vec();
    let (mut removed, mut added) = (Vec::new(), Vec::new());
    let mut k = 0usize;
    for (owner, ttl, t, rd) in snap.records() {
        if t != rtype::RRSIG {
            continue;
        }
        let soa_sig = owner == &apex[..] && rd.get(..2) == Some(&rtype::SOA.to_be_bytes()[..]);
        if soa_sig || k.is_multiple_of(every) {
            removed.push(rr(owner, ttl, t, rd)?);
            added.push(rr(owner, ttl, t, &resigned(rd))?);
        }
        k += 1;
    }
    let n = removed.len();
    Ok((
        Diff {
            old_soa: soa_at(snap, snap.serial()),
            removed,
            new_soa: soa_at(snap, snap.serial().wrapping_add(1)),
            added,
        },
        n,
    ))
}

pub fn run(s: &Settings, dir: &Path) -> Result<Report, String> {
    let signed = match &s.signed {
        Some(p) => p.clone(),
        None => {
            let (text, _) = zonegen::zone(s.names);
            let path = dir.join("bench.test.zone");
            std::fs::write(&path, text).map_err(|e| e.to_string())?;
            qps::sign(dir, &path, s.nsec3)?
        }
    };
    let apex = parse_name_text(APEX, None).map_err(|e| e.to_string())?;
    let started = Instant::now();
    let snap = load_zone_file(&signed, &apex)
        .map_err(|e| e.to_string())?
        .snapshot;
    let load_s = started.elapsed().as_secs_f64();
    let rrsigs = snap.records().filter(|r| r.2 == rtype::RRSIG).count();
    eprintln!(
        "{} names, {} records ({rrsigs} RRSIGs) loaded in {load_s:.2} s",
        snap.name_count(),
        snap.record_count()
    );
    let mut rows = Vec::new();
    for &f in &s.fractions {
        let every = ((1.0 / f).round() as usize).max(1);
        let (diff, replaced) = resigning_diff(&snap, every)?;
        let mut times = Vec::new();
        let (mut shards, mut chain_chunks) = (String::new(), String::new());
        for _ in 0..5 {
            let t = Instant::now();
            let next = zonecast::zone::diff::apply(&snap, std::slice::from_ref(&diff))
                .map_err(|e| e.to_string())?;
            times.push(t.elapsed().as_secs_f64() * 1e3);
            shards = format!("{} of {}", next.shared_shards(&snap), snap.shard_count());
            chain_chunks = format!(
                "{} of {}",
                next.nsec3().shared_chunks(snap.nsec3()),
                snap.nsec3().chunk_count()
            );
            // Dropping the old version is not part of publishing the new.
            drop(next);
        }
        times.sort_by(|a, b| a.total_cmp(b));
        let apply_ms = times[times.len() / 2];
        eprintln!(
            "  {replaced} RRSIGs replaced: applied in {apply_ms:.1} ms, shards shared {shards}"
        );
        rows.push(Row {
            replaced,
            apply_ms,
            shards,
            chain_chunks,
        });
    }
    Ok(Report {
        names: snap.name_count(),
        records: snap.record_count(),
        rrsigs,
        load_s,
        rows,
    })
}

pub fn table(r: &Report, nsec3: bool) -> String {
    let mut t = format!(
        "{} names, {} records of which {} RRSIGs, signed by dnssec-signzone (ECDSA P-256, {}). \
         A full build of this zone from its file takes {:.2} s.\n\n\
         | RRSIGs replaced | IXFR applied | share of a full build | name shards shared | NSEC3 chunks shared |\n\
         |---|---|---|---|---|\n",
        r.names,
        r.records,
        r.rrsigs,
        if nsec3 {
            "NSEC3, no salt, 0 iterations"
        } else {
            "NSEC"
        },
        r.load_s
    );
    for row in &r.rows {
        t.push_str(&format!(
            "| {} ({}) | {:.1} ms | {} | {} | {} |\n",
            row.replaced,
            percent(row.replaced as f64 / r.rrsigs.max(1) as f64),
            row.apply_ms,
            percent(row.apply_ms / 1e3 / r.load_s),
            row.shards,
            if nsec3 {
                row.chain_chunks.as_str()
            } else {
                "-"
            }
        ));
    }
    t
}

fn percent(x: f64) -> String {
    if x < 0.0001 {
        "<0.01%".into()
    } else {
        format!("{:.2}%", 100.0 * x)
    }
}
