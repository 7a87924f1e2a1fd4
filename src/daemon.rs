//! The running server: loads the configured zones, starts the workers,
//! and waits for a signal to stop.

use std::sync::Arc;
use std::time::Instant;

use arc_swap::ArcSwap;
use thiserror::Error;

use crate::answer::{Responder, ResponderConfig};
use crate::config::{Config, ZoneConfig};
use crate::server::{Server, ServerConfig, TerminationSignals};
use crate::xfr::service::{SecondaryZone, TransferService};
use crate::zone::{Zone, ZoneSet, load_zone_file};

#[derive(Debug, Error)]
pub enum DaemonError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Loads one zone from its file. A zone that fails to load is still
/// served, with SERVFAIL, as Knot does, and the reason is logged.
pub fn load_zone(z: &ZoneConfig) -> Zone {
    let started = Instant::now();
    match load_zone_file(&z.file, &z.name) {
        Ok(built) => {
            for w in &built.warnings {
                tracing::warn!("[{}] {w}", z.name);
            }
            let s = built.snapshot;
            tracing::info!(
                "[{}] loaded from {}: serial {}, {} records, {} names, {:.1} ms",
                z.name,
                z.file.display(),
                s.serial(),
                s.record_count(),
                s.name_count(),
                started.elapsed().as_secs_f64() * 1e3
            );
            Zone::primary(Arc::new(s))
        }
        Err(e) => {
            let reasons = e.reasons();
            for r in &reasons {
                tracing::error!("[{}] {r}", z.name);
            }
            tracing::error!(
                "[{}] not loaded from {}: {} error{}, served as SERVFAIL",
                z.name,
                z.file.display(),
                reasons.len(),
                if reasons.len() == 1 { "" } else { "s" }
            );
            Zone::new(z.name.clone(), None, None, None)
        }
    }
}

/// Runs until SIGINT or SIGTERM.
pub fn run(config: Config) -> Result<(), DaemonError> {
    let signals = TerminationSignals::block()?;
    let primaries = config
        .zones
        .iter()
        .filter(|z| z.secondary.is_none())
        .map(load_zone);
    let zones = Arc::new(ArcSwap::from_pointee(ZoneSet::new(primaries)));
    let secondaries: Vec<SecondaryZone> = config
        .zones
        .iter()
        .filter_map(|z| {
            let s = z.secondary.as_ref()?;
            Some(SecondaryZone {
                apex: z.name.clone(),
                file: z.file.clone(),
                primaries: s.primaries.clone(),
                key: s.key.clone(),
                source: s.source,
            })
        })
        .collect();
    // Secondary zones are loaded from disk and published before the
    // workers start, so a copy on disk is served at once.
    let transfer = if secondaries.is_empty() {
        None
    } else {
        Some(TransferService::start(
            secondaries,
            config.transfer.clone(),
            Arc::clone(&zones),
        )?)
    };
    // Building snapshots leaves many small temporaries freed between
    // long-lived blocks; hand the whole free pages back to the system
    // (glibc returns those inside the heap too, not only at its top).
    crate::memory::release_free_memory();
    let responder = Responder::new(ResponderConfig {
        identity: config.identity.clone().into_bytes(),
        version: config.version.clone().into_bytes(),
        udp_payload: config.udp_payload,
    });
    let sink = transfer.as_ref().map(TransferService::notify_sink);
    let server = Server::start(ServerConfig::from(&config), responder, zones, sink)?;
    for a in server.local_addrs() {
        tracing::info!("listening on {a} (UDP and TCP), {} workers", config.workers);
    }
    loop {
        let sig = signals.wait();
        if sig == libc::SIGHUP {
            tracing::info!("SIGHUP ignored: reloading is not supported yet");
            continue;
        }
        tracing::info!("signal {sig}: shutting down");
        break;
    }
    server.stop();
    if let Some(t) = transfer {
        t.stop();
    }
    tracing::info!("stopped");
    Ok(())
}
