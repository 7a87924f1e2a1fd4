//! The running server: loads the configured zones, starts the workers,
//! and waits for a signal to stop.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use arc_swap::ArcSwap;
use thiserror::Error;

use crate::answer::{Responder, ResponderConfig};
use crate::config::{Config, ZoneConfig};
use crate::metrics::Metrics;
use crate::metrics::http::{MetricsServer, Scrape};
use crate::server::{Server, ServerConfig, TerminationSignals};
use crate::wire::Name;
use crate::xfr::notify_out::Announcement;
use crate::xfr::service::{Provisioning, SecondaryZone, TransferService};
use crate::zone::{Zone, ZoneSet, load_zone_file};

#[derive(Debug, Error)]
pub enum DaemonError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Privileges(String),
}

/// `e`, naming the file it is about.
fn io_context(e: std::io::Error, path: &Path) -> std::io::Error {
    std::io::Error::new(e.kind(), format!("{}: {e}", path.display()))
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

/// A zone served from its own file, as loaded: to tell on a reload
/// whether it changed.
struct FromFile {
    zone: Arc<Zone>,
    file: PathBuf,
    modified: Option<SystemTime>,
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// What the transfer thread keeps: the secondary zones and the catalogs
/// of a configuration.
fn provisioning(config: &Config) -> Provisioning {
    let zones = config
        .zones
        .iter()
        .filter_map(|z| {
            let s = z.secondary.as_ref()?;
            Some(SecondaryZone {
                apex: z.name.clone(),
                file: z.file.as_path().into(),
                primaries: s.primaries.clone(),
                key: s.key.clone(),
                source: s.source,
                catalog: false,
                zonemd: s.zonemd,
                allow_transfer: z.allow_transfer.clone(),
            })
        })
        .collect();
    // Every zone that NOTIFYs, from a file too (for `zonecast ctl
    // notify`); the transfer thread announces a secondary's versions
    // itself, the daemon a file zone's.
    let notify = config
        .zones
        .iter()
        .filter_map(|z| Some((z.name.to_lowercase(), Arc::clone(z.notify.as_ref()?))))
        .collect();
    Provisioning {
        zones,
        notify,
        catalogs: config.catalogs.clone(),
        // Only catalog members can clash with them.
        names: if config.catalogs.is_empty() {
            HashSet::new()
        } else {
            config.zones.iter().map(|z| z.name.to_lowercase()).collect()
        },
    }
}

/// Loads the zones served from files that are new in `config` or whose
/// file changed since, and drops those it no longer names; the rest keep
/// serving as they are. Returns how many were loaded and dropped, and
/// the NOTIFYs of the versions loaded, for the zones that name
/// secondaries.
fn apply_primaries(
    config: &Config,
    served: &mut HashMap<Name, FromFile>,
    zones: &ArcSwap<ZoneSet>,
) -> ((usize, usize), Vec<Announcement>) {
    let wanted: HashMap<Name, &ZoneConfig> = config
        .zones
        .iter()
        .filter(|z| z.secondary.is_none())
        .map(|z| (z.name.to_lowercase(), z))
        .collect();
    let gone: Vec<Name> = served
        .keys()
        .filter(|a| !wanted.contains_key(*a))
        .cloned()
        .collect();
    let gone: Vec<Arc<Zone>> = gone
        .iter()
        .filter_map(|a| served.remove(a).map(|f| f.zone))
        .collect();
    let mut loaded = Vec::new();
    let mut announcements = Vec::new();
    for (apex, z) in wanted {
        let unchanged = served.get(&apex).is_some_and(|f| {
            f.file == z.file
                && f.modified == modified(&z.file)
                && f.zone.transfer_acl() == z.allow_transfer.as_ref()
        });
        if unchanged {
            continue;
        }
        let zone = Arc::new(load_zone(z).with_transfer_acl(z.allow_transfer.clone()));
        let previous = served
            .get(&apex)
            .and_then(|f| f.zone.snapshot().as_ref().map(|s| s.serial()));
        if let (Some(targets), Some(s)) = (&z.notify, zone.snapshot().as_ref())
            && previous != Some(s.serial())
        {
            announcements.push(Announcement::of(s, targets));
        }
        served.insert(
            apex,
            FromFile {
                zone: Arc::clone(&zone),
                file: z.file.clone(),
                modified: modified(&z.file),
            },
        );
        loaded.push(zone);
    }
    let counts = (loaded.len(), gone.len());
    if counts != (0, 0) {
        zones.rcu(|cur| cur.without_zones(&gone).with_all(loaded.iter().cloned()));
    }
    (counts, announcements)
}

/// Reads the configuration again (SIGHUP) and applies its zones without
/// stopping the workers; a configuration that does not load changes
/// nothing.
fn reload(
    path: &Path,
    running: &Config,
    served: &mut HashMap<Name, FromFile>,
    zones: &ArcSwap<ZoneSet>,
    transfer: &TransferService,
) {
    let config = match Config::load(path) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(
                "reload of {} refused, the configuration loaded before stays in force: {e}",
                path.display()
            );
            return;
        }
    };
    if config.listen != running.listen
        || config.workers != running.workers
        || config.identity != running.identity
        || config.version != running.version
        || config.udp_payload != running.udp_payload
    {
        tracing::warn!(
            "reload: the [server] section changed; that takes a restart (the zones are reloaded)"
        );
    }
    let ((loaded, removed), announcements) = apply_primaries(&config, served, zones);
    for a in announcements {
        transfer.announce(a);
    }
    let wanted = provisioning(&config);
    let n = wanted.zones.len();
    let catalogs = wanted.catalogs.len();
    transfer.reconfigure(wanted);
    tracing::info!(
        "reloaded {}: zones from files: {loaded} loaded, {removed} removed, {} unchanged; {n} secondary zones, {catalogs} catalogs",
        path.display(),
        served.len() - loaded
    );
    crate::memory::release_free_memory();
}

/// Runs until SIGINT or SIGTERM; SIGHUP reloads `path`.
pub fn run(mut config: Config, path: &Path) -> Result<(), DaemonError> {
    let started = Instant::now();
    let signals = TerminationSignals::block()?;
    let zones = Arc::new(ArcSwap::from_pointee(ZoneSet::default()));
    let mut served = HashMap::new();
    let (_, announcements) = apply_primaries(&config, &mut served, &zones);
    // Secondary zones are loaded from disk and published before the
    // workers start, so a copy on disk is served at once. The transfer
    // thread runs even with none, for zones a reload adds.
    let mut transfer = TransferService::start(
        provisioning(&config),
        config.transfer.clone(),
        Arc::clone(&zones),
    )?;
    // Sent once the transfer thread begins, after the server binds.
    for a in announcements {
        transfer.announce(a);
    }
    // A reload compares only the [server] part with the configuration
    // running; the zones live on in the zone set and the transfer thread
    // (at 100,000 zones a second copy of their configuration is tens of
    // MiB).
    config.zones = Vec::new();
    config.catalogs = Vec::new();
    // Building snapshots leaves many small temporaries freed between
    // long-lived blocks; hand the whole free pages back to the system
    // (glibc returns those inside the heap too, not only at its top).
    crate::memory::release_free_memory();
    if config.cookie_secret_drawn {
        tracing::info!(
            "DNS cookies with a secret drawn for this run: nodes behind one anycast address should share [cookies] secret"
        );
    }
    let responder = Responder::new(ResponderConfig {
        identity: config.identity.clone().into_bytes(),
        version: config.version.clone().into_bytes(),
        udp_payload: config.udp_payload,
        transfers_out: config.transfers_out,
        transfers_out_per_client: config.transfers_out_per_client,
        cookies: config.cookies.clone(),
    });
    let sink = Some(transfer.notify_sink());
    // A counter set per worker, socket or XDP.
    let xdp_queues = crate::xdp::queue_count(&config.xdp);
    let metrics = Arc::new(Metrics::new(
        config.workers + xdp_queues,
        transfer.metrics(),
    ));
    let server = Server::start(
        ServerConfig::from(&config),
        responder,
        zones.clone(),
        sink,
        Arc::clone(&metrics),
    )?;
    let ctx = Arc::new(crate::control::Context {
        zones: Arc::clone(&zones),
        transfer: transfer.controller(),
        workers: config.workers,
        started,
        max_stale_s: config.health_max_stale_s,
        max_bad_share: config.health_max_bad_share,
        metrics,
    });
    let metrics_server = match config.metrics {
        None => None,
        Some(addr) => {
            let scrape = Scrape {
                ctx: Arc::clone(&ctx),
                zone_series_max: config.metrics_zone_series_max,
                started_unix: SystemTime::now()
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs()),
            };
            match MetricsServer::start(addr, scrape) {
                Ok(m) => {
                    tracing::info!(
                        "metrics on http://{}/metrics, health on /health",
                        m.local_addr()
                    );
                    Some(m)
                }
                Err(e) => {
                    server.stop();
                    transfer.stop();
                    return Err(DaemonError::Io(std::io::Error::new(
                        e.kind(),
                        format!("server.metrics: cannot listen on {addr}: {e}"),
                    )));
                }
            }
        }
    };
    // The control socket, made while root may still write anywhere, and
    // handed to the user zonecast becomes.
    let control = match &config.control {
        None => None,
        Some(path) => {
            let owner = match config.user.as_deref().map(crate::service::user_ids) {
                Some(Err(e)) => {
                    server.stop();
                    transfer.stop();
                    return Err(DaemonError::Privileges(e));
                }
                Some(Ok(ids)) => Some(ids),
                None => None,
            };
            match crate::control::ControlServer::start(
                path,
                config.control_mode,
                owner,
                Arc::clone(&ctx),
            ) {
                Ok(c) => {
                    tracing::info!("control socket {}", path.display());
                    Some(c)
                }
                Err(e) => {
                    server.stop();
                    transfer.stop();
                    return Err(DaemonError::Io(io_context(e, path)));
                }
            }
        }
    };
    if let Some(user) = &config.user {
        if let Err(e) = crate::service::drop_privileges(user) {
            server.stop();
            transfer.stop();
            return Err(DaemonError::Privileges(e));
        }
        tracing::info!("running as user {user}");
    }
    for a in server.local_addrs() {
        tracing::info!("listening on {a} (UDP and TCP), {} workers", config.workers);
    }
    transfer.begin();
    crate::service::notify_systemd(&format!(
        "READY=1\nSTATUS=serving {} zones",
        zones.load().len()
    ));
    loop {
        let sig = signals.wait();
        if sig == libc::SIGHUP {
            crate::service::notify_systemd("RELOADING=1");
            reload(path, &config, &mut served, &zones, &transfer);
            crate::service::notify_systemd(&format!(
                "READY=1\nSTATUS=serving {} zones",
                zones.load().len()
            ));
            continue;
        }
        tracing::info!("signal {sig}: shutting down");
        break;
    }
    crate::service::notify_systemd("STOPPING=1");
    if let Some(c) = control {
        c.stop();
    }
    if let Some(m) = metrics_server {
        m.stop();
    }
    server.stop();
    transfer.stop();
    tracing::info!("stopped");
    Ok(())
}
