//! Every secondary zone's life, sans I/O (RFC 1034 §4.3.5, RFC 1996,
//! RFC 1995, RFC 5936): NOTIFYs, connection events, the octets primaries
//! send and the passing of time go in; connections to open, octets to
//! send, versions to publish and copies to persist come out, with the next
//! deadline. Nothing here touches a socket, a file or a clock, so the
//! scheduling (refresh, retry back-off, expiry, failover between
//! primaries, NOTIFY during a transfer, concurrency limits) is tested with
//! simulated time (`secondary/tests.rs`); `service.rs` drives it.
//!
//! Time is Unix milliseconds on the driver's clock. Zones wait in ordered
//! queues by deadline, so an event costs O(log zones), not a pass over
//! every zone.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::Arc;

use super::TransferSettings;
use super::exchange::{Exchange, Outcome, Step, TransferKind, Transferred, XfrError};
use super::persist::SavedState;
use super::timers::{NotifyAction, SoaTimers, ZoneTimers};
use crate::answer::NotifyEvent;
use crate::metrics::{TransferMetrics, TransferResult};
use crate::tcp_framing::Frames;
use crate::tsig::TsigKey;
use crate::wire::Name;
use crate::wire::serial::Serial;
use crate::zone::{Snapshot, Zone};

/// Unix milliseconds.
pub type Millis = u64;

/// A secondary zone as configured.
#[derive(Debug, Clone, PartialEq)]
pub struct SecondaryZone {
    pub apex: Name,
    /// Shared with the copies on their way to disk.
    pub file: Arc<Path>,
    /// Shared by the zones that name the same list.
    pub primaries: Arc<[SocketAddr]>,
    pub key: Option<Arc<TsigKey>>,
    pub source: Option<IpAddr>,
    /// A catalog zone (RFC 9432): kept like any other, never answered.
    pub catalog: bool,
    /// What to do with each version's ZONEMD (RFC 8976).
    pub zonemd: crate::zone::zonemd::ZonemdPolicy,
    /// Who may transfer the zone from this server (fan-out); nobody
    /// when `None`.
    pub allow_transfer: Option<Arc<crate::zone::transfer_acl::TransferAcl>>,
}

/// The key of an apex in [`Secondary::by_apex`]: the hash of its
/// lowercase wire form.
fn apex_hash(apex: &Name) -> u64 {
    crate::wire::name::hash_name(apex.to_lowercase().as_wire())
}

/// The copy of a zone found on disk at start.
pub struct LoadedCopy {
    pub snapshot: Arc<Snapshot>,
    /// When the copy stops being served.
    pub expires_at: Millis,
    /// When a primary last confirmed it, if its timers were kept.
    pub refreshed_at: Option<Millis>,
}

/// One connection to a primary, named for the driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(pub u64);

/// A zone, by its place in the machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ZoneId(pub usize);

/// What the driver must do.
#[derive(Debug)]
pub enum Action {
    /// Open a TCP connection to `primary`, leaving from `source`.
    Connect {
        conn: ConnId,
        primary: SocketAddr,
        source: Option<IpAddr>,
    },
    /// Send these octets (whole messages, length-prefixed).
    Send { conn: ConnId, bytes: Vec<u8> },
    /// Close the connection; nothing more will be said on it.
    Close { conn: ConnId },
    /// Serve this zone from now on (a zone new to the set: the only
    /// action that copies the zone table).
    Serve(Arc<Zone>),
    /// Serve this version of a zone served already: one store into its
    /// slot, [`Zone::publish`]; the version replaced is the caller's to
    /// free once no reader holds it.
    Publish {
        zone: Arc<Zone>,
        snapshot: Arc<Snapshot>,
    },
    /// Write the copy (when `snapshot` is set: a new version) and its
    /// timers to disk.
    Persist(PersistRequest),
    /// Stop serving this zone (REFUSED from then on), if the set still
    /// holds this one for its apex.
    Unserve(Arc<Zone>),
    /// Delete this zone file and its state file: the zone is gone from
    /// the configuration.
    Forget(Arc<Path>),
}

/// One zone's state, as an operator asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneReport {
    pub apex: Name,
    pub catalog: bool,
    /// The serial served, if a version is.
    pub serial: Option<u32>,
    /// The primary a refresh runs from now.
    pub transfer_from: Option<SocketAddr>,
    pub next_refresh: Option<Millis>,
    pub expires_at: Option<Millis>,
    /// The last successful refresh since start.
    pub refreshed_at: Option<Millis>,
    /// Refreshes failed in a row.
    pub failures: u32,
    /// When and why the last refresh failed, if it did.
    pub last_error: Option<(Millis, String)>,
}

/// A copy to keep across restarts.
#[derive(Debug, Clone)]
pub struct PersistRequest {
    pub apex: Name,
    pub file: Arc<Path>,
    pub snapshot: Option<Arc<Snapshot>>,
    pub state: SavedState,
}

/// Why a connection ended, as the driver saw it.
#[derive(Debug)]
pub enum ConnError {
    Connect(std::io::Error),
    Read(std::io::Error),
    Write(std::io::Error),
    /// The primary closed its side.
    Closed,
}

/// Why a refresh from one primary failed.
#[derive(Debug)]
pub enum RefreshError {
    Conn(ConnError),
    ConnectTimeout,
    /// No whole message within `transfer.io_timeout_ms`.
    MessageTimeout,
    /// The refresh outlived `transfer.max_duration_s`.
    TooLong,
    Protocol(XfrError),
}

impl fmt::Display for RefreshError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RefreshError::Conn(ConnError::Connect(e)) => write!(f, "cannot connect: {e}"),
            RefreshError::Conn(ConnError::Read(e)) => write!(f, "read failed: {e}"),
            RefreshError::Conn(ConnError::Write(e))
                if e.kind() == std::io::ErrorKind::WriteZero =>
            {
                f.write_str("primary closed the connection")
            }
            RefreshError::Conn(ConnError::Write(e)) => write!(f, "write failed: {e}"),
            RefreshError::Conn(ConnError::Closed) => f.write_str("primary closed the connection"),
            RefreshError::ConnectTimeout => f.write_str("connection timed out"),
            RefreshError::MessageTimeout => {
                f.write_str("no whole message within transfer.io_timeout_ms")
            }
            RefreshError::TooLong => f.write_str("took longer than transfer.max_duration_s"),
            RefreshError::Protocol(e) => write!(f, "{e}"),
        }
    }
}

fn rate_of(s: &TransferSettings) -> f64 {
    s.soa_query_rate.max(1) as f64
}

/// Due zones looked at per call to start refreshes.
const DUE_LOOKAHEAD: usize = 1024;

/// The default of `transfer.connection_keep_ms`: how long a connection
/// to a primary is kept open after a refresh, for the next zone's (RFC
/// 7766 §6.2.1: a connection may carry many queries, AXFR and IXFR among
/// them). Opening one per zone was most of what a first sync of many
/// small zones cost the primary: measured with Knot DNS, 10,000 AXFRs
/// took 1.9-3.0 s on fresh connections and 0.4 s over kept ones. Short,
/// so an idle primary does not hold our sockets.
pub const IDLE_KEEP_MS: Millis = 2000;

/// Room for actions kept once the queue is empty.
const ACTIONS_KEPT: usize = 64;

/// How long a transfer may go without a whole message before a NOTIFY
/// for a newer serial replaces it.
pub const NOTIFY_STALL_MS: Millis = 1000;

struct ZoneState {
    /// Less the apex, which is the served zone's.
    config: ZoneConfig,
    /// Taken out of the configuration: never queued again, and its place
    /// (the other zones' numbers stay) is free for the next zone added.
    removed: bool,
    timers: ZoneTimers,
    /// The zone as served: its version slot and its expiry, moved on at
    /// each refresh.
    served: Arc<Zone>,
    snapshot: Option<Arc<Snapshot>>,
    transfer: Running,
    /// The primary to try next in the current round (32 bits, to pack
    /// with the flags: a node holds a state per zone).
    next_primary: u32,
    /// A NOTIFY came during a refresh: refresh again after it.
    refresh_again: bool,
    /// The expiry of the copy served has been logged (once per expiry).
    expiry_logged: bool,
    /// The next refresh transfers the whole zone (`zonecast ctl
    /// retransfer`).
    whole_next: bool,
    /// The last successful refresh; 0 for none since start.
    refreshed_at: Millis,
    /// Where the zone waits in the queues (to take it out again).
    queued_refresh: Queued,
    queued_expiry: Queued,
}

impl ZoneState {
    /// The apex, lowercase (the served zone's: one copy of it).
    fn apex(&self) -> &Name {
        &self.served.apex
    }
}

/// The connection of a zone's refresh, if one runs; none as `u64::MAX`
/// (8 octets where `Option<ConnId>` takes 16, in a state kept for every
/// zone; connections are numbered from 0 up).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Running(u64);

impl Running {
    const NONE: Running = Running(u64::MAX);

    fn on(conn: ConnId) -> Running {
        Running(conn.0)
    }

    fn get(self) -> Option<ConnId> {
        (self != Running::NONE).then_some(ConnId(self.0))
    }

    fn take(&mut self) -> Option<ConnId> {
        std::mem::replace(self, Running::NONE).get()
    }

    fn is_some(self) -> bool {
        self != Running::NONE
    }

    fn is_none(self) -> bool {
        self == Running::NONE
    }
}

/// A zone's place in a queue, if it has one: a time, or none as
/// `Millis::MAX` (8 octets where `Option<Millis>` takes 16, in a state
/// kept for every zone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Queued(Millis);

impl Queued {
    const NONE: Queued = Queued(Millis::MAX);

    fn get(self) -> Option<Millis> {
        (self != Queued::NONE).then_some(self.0)
    }

    fn take(&mut self) -> Option<Millis> {
        std::mem::replace(self, Queued::NONE).get()
    }

    /// Takes place `t`; returns the time to queue under (the same, but
    /// for a deadline at the end of time, which waits a moment sooner).
    fn set(&mut self, t: Millis) -> Millis {
        self.0 = t.min(Millis::MAX - 1);
        self.0
    }
}

struct Transfer {
    zone: usize,
    /// Where the connection leaves from (a kept one is reused only for
    /// the same primary and source).
    source: Option<IpAddr>,
    /// On a connection kept from an earlier refresh: if the primary
    /// closed it meanwhile, the refresh starts over on a new one, and
    /// that is no failure of the primary.
    reused: bool,
    /// A whole message has come on this transfer.
    answered: bool,
    /// The primary's place in the zone's list, and its address (the list
    /// may change under a transfer, by a reload).
    primary: usize,
    addr: SocketAddr,
    exchange: Exchange,
    connected: bool,
    input: Vec<u8>,
    started: Millis,
    /// When the last whole message arrived (or the query went out).
    last_message: Millis,
    /// Connect deadline, then the next whole message's: the time for a
    /// message, not for each read, so a primary dripping an octet at a
    /// time cannot hold the zone (Knot's tcp-remote-io-timeout).
    io_deadline: Millis,
    /// The whole refresh must be over by then.
    end_deadline: Millis,
}

/// The secondary side of every zone.
pub struct Secondary {
    settings: TransferSettings,
    zones: Vec<ZoneState>,
    /// Places of removed zones, for zones added later: a node whose
    /// catalogs add and remove zones all day does not grow.
    free: Vec<usize>,
    /// Zones by the hash of their lowercase apex (the names themselves
    /// are in the zones' configurations; not a second copy of each).
    by_apex: apex_index::ApexIndex,
    transfers: HashMap<ConnId, Transfer>,
    per_primary: HashMap<SocketAddr, usize>,
    /// Why the last refresh of each zone failed, for the zones whose last
    /// refresh did (few: a map, not a field of every zone).
    errors: HashMap<usize, (Millis, String)>,
    /// The first NOTIFY of each zone not yet answered by a new version:
    /// when it came and the serial it announced (for the NOTIFY-to-served
    /// figure). Few at a time, so a map.
    notified: HashMap<usize, (Millis, Option<u32>)>,
    /// Zones with a copy, not transferring, by next refresh.
    refresh_queue: BTreeSet<(Millis, usize)>,
    /// Zones waiting for their first copy, by next attempt.
    first_queue: BTreeSet<(Millis, usize)>,
    /// Zones whose copy's expiry is still to be logged, by expiry.
    expiry_queue: BTreeSet<(Millis, usize)>,
    /// Transfers by their nearest deadline.
    deadlines: BTreeSet<(Millis, ConnId)>,
    /// Some zone was due but waited for a concurrency limit: look again
    /// when a transfer ends.
    blocked: bool,
    /// SOA queries that may start now ([`TransferSettings::soa_query_rate`]
    /// a second, as many at once), and when the count was last refilled.
    soa_tokens: f64,
    soa_tokens_at: Millis,
    /// A zone with a copy was due but waited for the rate: look again then.
    rate_wait: Option<Millis>,
    next_conn: u64,
    /// Connections open after a refresh, waiting for the next one to
    /// the same primary from the same source, with when they went idle.
    idle: Vec<(ConnId, SocketAddr, Option<IpAddr>, Millis)>,
    id_seed: u16,
    /// The configuration shared by the zone added last, for the next
    /// one configured alike.
    last_shared: Option<Arc<zone_config::Shared>>,
    actions: VecDeque<Action>,
    /// Counters of refreshes and transfers, read by metrics scrapes.
    metrics: Arc<TransferMetrics>,
}

impl Secondary {
    /// `id_seed` varies the query IDs between runs.
    pub fn new(settings: TransferSettings, id_seed: u16) -> Self {
        let soa_tokens = settings.soa_query_rate as f64;
        Secondary {
            settings,
            zones: Vec::new(),
            free: Vec::new(),
            by_apex: apex_index::ApexIndex::new(),
            transfers: HashMap::new(),
            errors: HashMap::new(),
            notified: HashMap::new(),
            per_primary: HashMap::new(),
            refresh_queue: BTreeSet::new(),
            first_queue: BTreeSet::new(),
            expiry_queue: BTreeSet::new(),
            deadlines: BTreeSet::new(),
            blocked: false,
            soa_tokens,
            soa_tokens_at: 0,
            rate_wait: None,
            next_conn: 0,
            idle: Vec::new(),
            id_seed,
            last_shared: None,
            actions: VecDeque::new(),
            metrics: Arc::default(),
        }
    }

    /// The counters of this secondary's refreshes, shared with scrapes.
    pub fn metrics(&self) -> Arc<TransferMetrics> {
        Arc::clone(&self.metrics)
    }

    /// Adds a zone, serving `copy` at once if there is one (published
    /// before this returns, as a [`Action::Publish`]). A zone with no
    /// primary is never refreshed.
    pub fn add_zone(
        &mut self,
        now: Millis,
        config: SecondaryZone,
        copy: Option<LoadedCopy>,
    ) -> ZoneId {
        let mut timers = ZoneTimers::new(&config.apex, now);
        let kept = ZoneConfig::new(&config, &mut self.last_shared);
        let snapshot = copy.map(|c| {
            timers.on_loaded(
                &self.settings.policy,
                now,
                c.expires_at,
                c.refreshed_at,
                SoaTimers::of(&c.snapshot),
            );
            c.snapshot
        });
        // The load line already says whether the copy has expired.
        let expiry_logged = timers.is_expired(now);
        let i = self.free.pop().unwrap_or(self.zones.len());
        self.by_apex.insert(apex_hash(&config.apex), i);
        let served = Arc::new(kept.served(
            config.apex,
            snapshot.clone(),
            timers.expires_at().map(|ms| ms / 1000),
        ));
        self.actions.push_back(Action::Serve(Arc::clone(&served)));
        let state = ZoneState {
            config: kept,
            removed: false,
            served,
            timers,
            snapshot,
            transfer: Running::NONE,
            next_primary: 0,
            refresh_again: false,
            expiry_logged,
            whole_next: false,
            refreshed_at: 0,
            queued_refresh: Queued::NONE,
            queued_expiry: Queued::NONE,
        };
        if i == self.zones.len() {
            self.zones.push(state);
        } else {
            self.zones[i] = state;
        }
        self.requeue(i);
        ZoneId(i)
    }

    /// Room for `additional` more zones. Many at once (a start, a
    /// catalog read for the first time) take exactly that, so a node of
    /// 100,000 zones holds no slack of a doubled table; a few take the
    /// usual doubling, so adding zones one by one stays cheap.
    pub fn reserve(&mut self, additional: usize) {
        let needed = additional.saturating_sub(self.free.len());
        self.by_apex.reserve(needed);
        if needed >= self.zones.len() {
            self.zones.reserve_exact(needed);
        } else {
            self.zones.reserve(needed);
        }
    }

    /// The place of the zone with this apex (any case).
    fn find(&self, apex: &Name) -> Option<usize> {
        self.by_apex.find(apex_hash(apex), |i| {
            self.zones[i].apex().eq_ignore_case(apex)
        })
    }

    /// The zone with this apex, if it is configured.
    pub fn zone_id(&self, apex: &Name) -> Option<ZoneId> {
        self.find(apex).map(ZoneId)
    }

    /// The configuration of every zone, as it now stands.
    pub fn configured(&self) -> impl Iterator<Item = SecondaryZone> + '_ {
        self.zones
            .iter()
            .filter(|z| !z.removed)
            .map(|z| z.config.secondary_zone(z.apex()))
    }

    /// The configuration of the zone with this apex (any case), if it
    /// is configured.
    pub fn configuration(&self, apex: &Name) -> Option<SecondaryZone> {
        let z = &self.zones[self.find(apex)?];
        Some(z.config.secondary_zone(z.apex()))
    }

    /// Takes a zone out of service: its transfer is dropped, it is no
    /// longer served, and its copy on disk is deleted.
    pub fn remove_zone(&mut self, apex: &Name) {
        let Some(i) = self.find(apex) else {
            return;
        };
        self.by_apex.remove(apex_hash(apex), i);
        self.errors.remove(&i);
        self.notified.remove(&i);
        if let Some(conn) = self.zones[i].transfer.take() {
            self.drop_transfer(conn);
        }
        let z = &mut self.zones[i];
        z.removed = true;
        z.snapshot = None;
        tracing::info!(
            "[{}] removed from the configuration: no longer served, copy deleted",
            z.apex()
        );
        // The zone (and its version) goes with the action; the place
        // keeps only a stand-in until it is taken again.
        let file = z.config.file(z.apex());
        let stand_in = Arc::new(Zone::new(z.apex().clone(), None, None, None));
        self.actions
            .push_back(Action::Unserve(std::mem::replace(&mut z.served, stand_in)));
        self.actions.push_back(Action::Forget(file));
        self.requeue(i);
        self.free.push(i);
    }

    /// New primaries, key or source for a zone: they apply from its next
    /// refresh (one under way finishes as it started), and NOTIFY is
    /// checked against them at once.
    pub fn update_zone(&mut self, config: SecondaryZone) {
        let Some(i) = self.find(&config.apex) else {
            return;
        };
        let kept = ZoneConfig::new(&config, &mut self.last_shared);
        let z = &mut self.zones[i];
        z.served =
            Arc::new(kept.served(z.apex().clone(), z.snapshot.clone(), z.served.expires_at()));
        z.next_primary = 0;
        tracing::info!(
            "[{}] configuration changed: applies from the next refresh",
            config.apex
        );
        z.config = kept;
        self.actions.push_back(Action::Serve(Arc::clone(&z.served)));
        self.requeue(i);
    }

    /// The next action for the driver, in order.
    pub fn poll_action(&mut self) -> Option<Action> {
        let next = self.actions.pop_front();
        if next.is_none() && self.actions.capacity() > ACTIONS_KEPT {
            // A start or a catalog queues an action per zone; its room
            // would otherwise stay (about 120 octets a zone).
            self.actions.shrink_to(ACTIONS_KEPT);
        }
        next
    }

    /// When [`handle_timeout`](Self::handle_timeout) has work next, if
    /// ever (events aside).
    pub fn next_deadline(&self) -> Option<Millis> {
        let first = self.first_queue.first().map(|&(t, _)| t);
        let refresh = self.refresh_queue.first().map(|&(t, _)| t);
        let expiry = self.expiry_queue.first().map(|&(t, _)| t);
        let transfer = self.deadlines.first().map(|&(t, _)| t);
        // Zones kept waiting by a limit are looked at again when a
        // transfer ends, or when the rate allows, not by the clock.
        let refresh = refresh.filter(|_| !self.blocked && self.rate_wait.is_none());
        let first = first.filter(|_| !self.blocked);
        let keep = self.keep_ms();
        let idle = self.idle.iter().map(|&(_, _, _, t)| t + keep).min();
        [first, refresh, expiry, transfer, self.rate_wait, idle]
            .into_iter()
            .flatten()
            .min()
    }

    /// The serial of the copy served, if any (for tests and reports).
    pub fn serial(&self, zone: ZoneId) -> Option<u32> {
        self.zones
            .get(zone.0)?
            .snapshot
            .as_ref()
            .map(|s| s.serial())
    }

    /// Whether the expiry of zone `zone`'s copy has been logged.
    #[cfg(test)]
    fn expiry_logged(&self, zone: ZoneId) -> bool {
        self.zones[zone.0].expiry_logged
    }

    /// When zone `zone` refreshes next, unless it is refreshing now.
    pub fn next_refresh(&self, zone: ZoneId) -> Option<Millis> {
        self.zones.get(zone.0)?.queued_refresh.get()
    }

    /// Transfers in progress.
    pub fn transfers(&self) -> usize {
        self.transfers.len()
    }

    /// Refreshes `apex` now (`whole`: by AXFR, whatever the serials say),
    /// or right after the refresh running; an operator's command.
    pub fn refresh_now(&mut self, now: Millis, apex: &Name, whole: bool) -> Result<(), String> {
        let i = self
            .find(apex)
            .ok_or_else(|| format!("{apex} is not a secondary zone here"))?;
        let z = &mut self.zones[i];
        z.whole_next |= whole;
        z.next_primary = 0;
        if z.transfer.is_some() {
            z.refresh_again = true;
        } else {
            z.timers.next_refresh = now;
        }
        tracing::info!(
            "[{}] {} asked for",
            z.apex(),
            if whole {
                "a whole transfer (AXFR)"
            } else {
                "a refresh"
            }
        );
        self.requeue(i);
        self.start_due(now);
        Ok(())
    }

    /// The state of `apex` (every zone when `None`), for `zonecast ctl
    /// zone-status`.
    pub fn reports(&self, apex: Option<&Name>) -> Vec<ZoneReport> {
        let one = apex.map(|a| self.find(a));
        let places: Vec<usize> = match one {
            Some(Some(i)) => vec![i],
            Some(None) => Vec::new(),
            None => (0..self.zones.len())
                .filter(|&i| !self.zones[i].removed)
                .collect(),
        };
        places
            .into_iter()
            .map(|i| {
                let z = &self.zones[i];
                ZoneReport {
                    apex: z.apex().clone(),
                    catalog: z.config.shared.access.catalog,
                    serial: z.snapshot.as_ref().map(|s| s.serial()),
                    transfer_from: z
                        .transfer
                        .get()
                        .and_then(|c| self.transfers.get(&c))
                        .map(|t| t.addr),
                    next_refresh: z.queued_refresh.get(),
                    expires_at: z.timers.expires_at(),
                    refreshed_at: (z.refreshed_at > 0).then_some(z.refreshed_at),
                    failures: z.timers.failures(),
                    last_error: self.errors.get(&i).cloned(),
                }
            })
            .collect()
    }

    /// Deadlines passed: cut transfers that ran out of time, log copies
    /// that expired, and start the refreshes due.
    pub fn handle_timeout(&mut self, now: Millis) {
        let actions = &mut self.actions;
        let keep_ms = self.settings.connection_keep.as_millis() as Millis;
        self.idle.retain(|&(conn, _, _, since)| {
            let keep = now < since + keep_ms;
            if !keep {
                actions.push_back(Action::Close { conn });
            }
            keep
        });
        while let Some(&(t, conn)) = self.deadlines.first() {
            if t > now {
                break;
            }
            let why = match self.transfers.get(&conn) {
                Some(tr) if now >= tr.end_deadline => RefreshError::TooLong,
                Some(tr) if tr.connected => RefreshError::MessageTimeout,
                Some(_) => RefreshError::ConnectTimeout,
                None => {
                    self.deadlines.remove(&(t, conn));
                    continue;
                }
            };
            self.end_transfer(now, conn, Err(why));
        }
        while let Some(&(t, i)) = self.expiry_queue.first() {
            if t > now {
                break;
            }
            self.log_expiry(i);
            self.requeue(i);
        }
        self.start_due(now);
    }

    /// A NOTIFY the workers accepted (RFC 1996 §3.7), received at
    /// `received`.
    pub fn handle_notify(&mut self, now: Millis, ev: &NotifyEvent, received: Millis) {
        let Some(i) = self.find(&ev.zone) else {
            return;
        };
        let z = &mut self.zones[i];
        let ours = z.snapshot.as_ref().map(|s| s.serial());
        let serial = ev.serial.map_or("none".to_string(), |s| s.to_string());
        match z.timers.on_notify(
            &self.settings.policy,
            now,
            ev.serial,
            ours,
            z.transfer.is_some(),
        ) {
            NotifyAction::Skip => tracing::info!(
                "[{}] NOTIFY from {} with serial {serial}: not newer than ours, nothing to do",
                z.apex(),
                ev.source
            ),
            action => {
                tracing::info!(
                    "[{}] NOTIFY from {} with serial {serial}: refreshing",
                    z.apex(),
                    ev.source
                );
                self.notified.entry(i).or_insert((received, ev.serial));
                z.next_primary = 0;
                if z.transfer.is_some() && matches!(action, NotifyAction::RefreshAt(_)) {
                    z.refresh_again = true;
                }
                self.cut_stalled(now, i, &serial);
            }
        }
        self.requeue(i);
        self.start_due(now);
    }

    /// The connection opened: the first query goes out.
    pub fn handle_connected(&mut self, now: Millis, conn: ConnId) {
        let Some(tr) = self.transfers.get_mut(&conn) else {
            return;
        };
        if tr.connected {
            return;
        }
        tr.connected = true;
        let query = tr.exchange.start(now / 1000);
        tr.last_message = now;
        tr.io_deadline = now + self.settings.io_timeout.as_millis() as Millis;
        self.actions.push_back(Action::Send { conn, bytes: query });
        self.reschedule_transfer(conn);
    }

    /// Octets from the primary, in stream order.
    pub fn handle_data(&mut self, now: Millis, conn: ConnId, data: &[u8]) {
        if self.close_idle(conn) {
            // Nothing was asked on it: a primary that talks out of turn
            // gets the connection closed.
            return;
        }
        let Some(tr) = self.transfers.get_mut(&conn) else {
            return;
        };
        tr.input.extend_from_slice(data);
        let mut frames = Frames::new(&tr.input);
        let mut taken = 0;
        let mut result = Ok(None);
        for msg in frames.by_ref() {
            taken += 1;
            match tr.exchange.on_message(msg, now / 1000) {
                Ok(Step::Continue) => {}
                Ok(Step::Send(q)) => self.actions.push_back(Action::Send { conn, bytes: q }),
                Ok(Step::Done(o)) => {
                    result = Ok(Some(o));
                    break;
                }
                Err(e) => {
                    result = Err(RefreshError::Protocol(e));
                    break;
                }
            }
        }
        let used = frames.consumed();
        tr.input.drain(..used);
        if taken > 0 {
            tr.answered = true;
            tr.last_message = now;
            tr.io_deadline = now + self.settings.io_timeout.as_millis() as Millis;
        }
        match result {
            Ok(None) => self.reschedule_transfer(conn),
            Ok(Some(outcome)) => self.end_transfer(now, conn, Ok(outcome)),
            Err(e) => self.end_transfer(now, conn, Err(e)),
        }
    }

    /// The connection failed or the primary closed it.
    pub fn handle_closed(&mut self, now: Millis, conn: ConnId, why: ConnError) {
        if self.close_idle(conn) {
            return;
        }
        let Some(tr) = self.transfers.get(&conn) else {
            return;
        };
        if tr.reused && !tr.answered {
            // The primary closed a kept connection before this refresh
            // got an answer: start over on a new one.
            let (i, primary, addr) = (tr.zone, tr.primary, tr.addr);
            tracing::debug!(
                "[{}] kept connection to {addr} closed ({why:?}): connecting anew",
                self.zones[i].apex()
            );
            self.drop_transfer(conn);
            self.zones[i].transfer = Running::NONE;
            self.start_transfer_on(now, i, primary, false);
            return;
        }
        self.end_transfer(now, conn, Err(RefreshError::Conn(why)));
    }

    fn keep_ms(&self) -> Millis {
        self.settings.connection_keep.as_millis() as Millis
    }

    /// Closes `conn` if it is a kept one; whether it was.
    fn close_idle(&mut self, conn: ConnId) -> bool {
        let Some(k) = self.idle.iter().position(|&(c, ..)| c == conn) else {
            return false;
        };
        self.idle.swap_remove(k);
        self.actions.push_back(Action::Close { conn });
        true
    }

    /// Starts the refreshes that are due, within the limits on transfers
    /// in all and per primary, zones with no copy first; refreshes of
    /// zones with a copy also within the SOA query rate.
    fn start_due(&mut self, now: Millis) {
        self.blocked = false;
        self.rate_wait = None;
        let rate = rate_of(&self.settings);
        self.soa_tokens = (self.soa_tokens
            + now.saturating_sub(self.soa_tokens_at) as f64 * rate / 1000.0)
            .min(rate);
        self.soa_tokens_at = now;
        if self.start_from(now, false) {
            self.start_from(now, true);
        }
    }

    /// Starts the due zones of one queue; false when no more may start.
    fn start_from(&mut self, now: Millis, with_copy: bool) -> bool {
        let queue = if with_copy {
            &self.refresh_queue
        } else {
            &self.first_queue
        };
        // A bounded look down the line: zones past it wait for the next
        // event (a transfer ending, a token), not for a pass over all.
        let due: Vec<usize> = queue
            .iter()
            .take_while(|&&(t, _)| t <= now)
            .take(DUE_LOOKAHEAD)
            .map(|&(_, i)| i)
            .collect();
        for i in due {
            if self.transfers.len() >= self.settings.max_concurrent {
                self.blocked = true;
                return false;
            }
            let z = &self.zones[i];
            let primary = (z.next_primary as usize).min(z.config.shared.primaries.len() - 1);
            let addr = z.config.shared.primaries[primary];
            if self.per_primary.get(&addr).copied().unwrap_or(0) >= self.settings.max_per_primary {
                self.blocked = true;
                continue;
            }
            if with_copy {
                if self.soa_tokens < 1.0 {
                    // The next token, then: the first zone in line goes.
                    let wait = ((1.0 - self.soa_tokens) * 1000.0 / rate_of(&self.settings)).ceil();
                    self.rate_wait = Some(now + (wait as Millis).max(1));
                    return false;
                }
                self.soa_tokens -= 1.0;
            }
            self.start_transfer(now, i, primary);
        }
        true
    }

    fn start_transfer(&mut self, now: Millis, i: usize, primary: usize) {
        self.start_transfer_on(now, i, primary, true);
    }

    /// Starts zone `i`'s refresh from its primary number `primary`, on a
    /// kept connection to it when there is one and `may_reuse`.
    fn start_transfer_on(&mut self, now: Millis, i: usize, primary: usize, may_reuse: bool) {
        self.id_seed = self.id_seed.wrapping_mul(5).wrapping_add(0x3b1d);
        let z = &mut self.zones[i];
        let addr = z.config.shared.primaries[primary];
        let source = z.config.shared.source;
        let keep_ms = self.settings.connection_keep.as_millis() as Millis;
        let kept = self
            .idle
            .iter()
            .position(|&(_, a, s, since)| {
                may_reuse && a == addr && s == source && now < since + keep_ms
            })
            .map(|k| self.idle.swap_remove(k).0);
        let reused = kept.is_some();
        let conn = kept.unwrap_or_else(|| {
            self.next_conn += 1;
            ConnId(self.next_conn - 1)
        });
        tracing::debug!(
            "[{}] refresh from {addr}: {}, our serial {}",
            z.apex(),
            if reused {
                "on a kept connection"
            } else {
                "connecting"
            },
            z.snapshot
                .as_ref()
                .map_or("none (AXFR)".to_string(), |s| s.serial().to_string())
        );
        // Without the version held, the exchange asks AXFR at once.
        let current = if std::mem::take(&mut z.whole_next) {
            None
        } else {
            z.snapshot.clone()
        };
        // A journal serves only the clients allowed to transfer the zone
        // from us: a zone nobody may transfer (a leaf's) keeps none.
        let mut limits = self.settings.limits;
        if z.config.shared.access.transfer.is_none() {
            limits.journal.max_depth = 0;
        }
        limits.zonemd = z.config.shared.zonemd;
        let mut exchange = Exchange::new(
            z.apex(),
            z.config.shared.key.clone(),
            limits,
            current,
            self.id_seed,
        );
        z.transfer = Running::on(conn);
        let io_deadline = if reused {
            // Connected already: the first query goes out now.
            let query = exchange.start(now / 1000);
            self.actions.push_back(Action::Send { conn, bytes: query });
            now + self.settings.io_timeout.as_millis() as Millis
        } else {
            self.actions.push_back(Action::Connect {
                conn,
                primary: addr,
                source,
            });
            now + self.settings.connect_timeout.as_millis() as Millis
        };
        *self.per_primary.entry(addr).or_insert(0) += 1;
        self.transfers.insert(
            conn,
            Transfer {
                zone: i,
                source,
                reused,
                answered: false,
                primary,
                addr,
                exchange,
                connected: reused,
                input: Vec::new(),
                started: now,
                last_message: now,
                io_deadline,
                end_deadline: now + self.settings.max_duration.as_millis() as Millis,
            },
        );
        self.reschedule_transfer(conn);
        self.requeue(i);
    }

    /// Puts a transfer's nearest deadline in the queue.
    fn reschedule_transfer(&mut self, conn: ConnId) {
        self.deadlines.retain(|&(_, c)| c != conn);
        if let Some(tr) = self.transfers.get(&conn) {
            self.deadlines
                .insert((tr.io_deadline.min(tr.end_deadline), conn));
        }
    }

    /// Puts zone `i` in the queues its state asks for.
    fn requeue(&mut self, i: usize) {
        let z = &mut self.zones[i];
        if let Some(t) = z.queued_refresh.take() {
            self.refresh_queue.remove(&(t, i));
            self.first_queue.remove(&(t, i));
        }
        if let Some(t) = z.queued_expiry.take() {
            self.expiry_queue.remove(&(t, i));
        }
        if z.transfer.is_none() && !z.config.shared.primaries.is_empty() && !z.removed {
            let t = z.queued_refresh.set(z.timers.next_refresh);
            if z.snapshot.is_some() {
                self.refresh_queue.insert((t, i));
            } else {
                self.first_queue.insert((t, i));
            }
        }
        // The expiry waits in its queue only when no refresh comes first:
        // a refresh starting puts the zone back here, and its expiry into
        // the queue then, so most zones (REFRESH well under EXPIRE) have
        // one place, not two. The queue only times the log line; answers
        // read the served expiry.
        if let Some(t) = z
            .timers
            .expires_at()
            .filter(|_| z.snapshot.is_some() && !z.expiry_logged && !z.removed)
            .filter(|&t| z.queued_refresh.get().is_none_or(|r| t <= r))
        {
            let t = z.queued_expiry.set(t);
            self.expiry_queue.insert((t, i));
        }
    }

    /// A newer version was announced while zone `i` transfers: a transfer
    /// that has had no whole message for [`NOTIFY_STALL_MS`] is making no
    /// real progress, so it is dropped and the refresh starts over (at the
    /// time the NOTIFY set), instead of holding the zone for the rest of
    /// its message time.
    fn cut_stalled(&mut self, now: Millis, i: usize, serial: &str) {
        let Some(conn) = self.zones[i].transfer.get() else {
            return;
        };
        let Some(tr) = self.transfers.get(&conn) else {
            return;
        };
        let stalled = now.saturating_sub(tr.last_message);
        if stalled < NOTIFY_STALL_MS {
            return;
        }
        let addr = tr.addr;
        tracing::warn!(
            "[{}] transfer from {addr} cut short by NOTIFY for serial {serial}: no whole message for {stalled} ms",
            self.zones[i].apex(),
        );
        self.drop_transfer(conn);
        let z = &mut self.zones[i];
        z.transfer = Running::NONE;
        z.refresh_again = false;
    }

    /// Forgets a transfer and tells the driver to close it.
    fn drop_transfer(&mut self, conn: ConnId) -> Option<Transfer> {
        let tr = self.forget_transfer(conn)?;
        self.actions.push_back(Action::Close { conn });
        Some(tr)
    }

    /// Forgets a transfer, leaving its connection as it is.
    fn forget_transfer(&mut self, conn: ConnId) -> Option<Transfer> {
        let tr = self.transfers.remove(&conn)?;
        self.deadlines.retain(|&(_, c)| c != conn);
        let addr = tr.addr;
        if let Some(n) = self.per_primary.get_mut(&addr) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.per_primary.remove(&addr);
            }
        }
        Some(tr)
    }

    /// Ends a transfer: a success updates the zone; a failure moves to the
    /// next primary, or to RETRY when every primary of the round failed.
    fn end_transfer(&mut self, now: Millis, conn: ConnId, result: Result<Outcome, RefreshError>) {
        // A connection that ended a refresh cleanly (nothing more in it)
        // is kept for the next refresh from that primary, as many as may
        // run at once from it.
        let keep = result.is_ok()
            && self.keep_ms() > 0
            && self.transfers.get(&conn).is_some_and(|tr| {
                tr.connected
                    && tr.input.is_empty()
                    && self.idle.iter().filter(|k| k.1 == tr.addr).count()
                        < self.settings.max_per_primary
            });
        let tr = if keep {
            self.forget_transfer(conn)
        } else {
            self.drop_transfer(conn)
        };
        let Some(tr) = tr else {
            return;
        };
        if keep {
            self.idle.push((conn, tr.addr, tr.source, now));
        }
        let i = tr.zone;
        self.zones[i].transfer = Running::NONE;
        match result {
            Ok(outcome) => self.on_success(now, i, &tr, outcome),
            Err(why) => self.on_failure(now, i, &tr, &why),
        }
        self.requeue(i);
        self.start_due(now);
    }

    fn on_failure(&mut self, now: Millis, i: usize, tr: &Transfer, why: &RefreshError) {
        self.metrics.refresh(TransferResult::Failed {
            kind: tr.exchange.attempted().map(TransferKind::index),
        });
        let z = &mut self.zones[i];
        let (primary, addr) = (tr.primary, tr.addr);
        let after = tr
            .exchange
            .fallback_reason()
            .map_or(String::new(), |f| format!(" (by AXFR, after IXFR: {f})"));
        tracing::warn!("[{}] refresh from {addr} failed: {why}{after}", z.apex());
        self.errors
            .insert(i, (now, format!("refresh from {addr} failed: {why}")));
        if primary + 1 < z.config.shared.primaries.len() {
            // Fail over to the next primary at once.
            z.next_primary = u32::try_from(primary + 1).unwrap_or(u32::MAX);
            z.timers.next_refresh = now;
            return;
        }
        z.next_primary = 0;
        let soa = z.snapshot.as_deref().map(SoaTimers::of);
        z.timers.on_failed(&self.settings.policy, now, soa);
        tracing::warn!(
            "[{}] every primary failed; next attempt in {} s",
            z.apex(),
            z.timers.next_refresh.saturating_sub(now) / 1000
        );
    }

    fn on_success(&mut self, now: Millis, i: usize, tr: &Transfer, outcome: Outcome) {
        self.errors.remove(&i);
        let z = &mut self.zones[i];
        z.refreshed_at = now;
        let addr = tr.addr;
        z.next_primary = 0;
        if std::mem::take(&mut z.expiry_logged) {
            tracing::info!("[{}] refreshed from {addr}: no longer expired", z.apex());
        }
        let new_version = match outcome {
            Outcome::UpToDate { serial } => {
                self.metrics.refresh(TransferResult::UpToDate);
                // At 10,000 zones a line per SOA check is noise.
                tracing::debug!("[{}] up to date at serial {serial} ({addr})", z.apex());
                if let Some(s) = &z.snapshot {
                    z.timers
                        .on_refreshed(&self.settings.policy, now, SoaTimers::of(s));
                }
                z.served
                    .expiry
                    .set(z.timers.expires_at().map(|ms| ms / 1000));
                false
            }
            Outcome::Transferred(t) => {
                let Transferred {
                    kind,
                    snapshot,
                    warnings,
                    fallback,
                    records,
                    bytes,
                    messages,
                    zonemd,
                } = *t;
                for w in &warnings {
                    tracing::warn!("[{}] {w}", z.apex());
                }
                if let Some(f) = &fallback {
                    tracing::info!("[{}] IXFR -> AXFR fallback: {f}", z.apex());
                }
                let old = z
                    .snapshot
                    .as_ref()
                    .map_or("none".to_string(), |s| s.serial().to_string());
                self.metrics.refresh(TransferResult::Transferred {
                    kind: kind.index(),
                    bytes: bytes as u64,
                    ms: now.saturating_sub(tr.started),
                });
                // "N records" counts the zone, as the line of a load from
                // disk does; what crossed the wire is in brackets.
                tracing::info!(
                    "[{}] {} from {addr}: serial {old} -> {}, {} records ({records} received in {messages} messages, {bytes} bytes), {} ms, {zonemd}",
                    z.apex(),
                    kind.label(),
                    snapshot.serial(),
                    snapshot.record_count(),
                    now.saturating_sub(tr.started)
                );
                z.timers
                    .on_refreshed(&self.settings.policy, now, SoaTimers::of(&snapshot));
                z.served
                    .expiry
                    .set(z.timers.expires_at().map(|ms| ms / 1000));
                z.snapshot = Some(Arc::new(snapshot));
                true
            }
        };
        // A refresh that found nothing new publishes nothing: the expiry
        // it moved is shared with the zone served.
        if new_version {
            self.publish(i);
        }
        let z = &mut self.zones[i];
        if let Some(&(at, hint)) = self.notified.get(&i)
            && let Some(s) = &z.snapshot
            && hint.is_none_or(|h| !Serial(h).is_newer_than(Serial(s.serial())))
        {
            tracing::info!(
                "[{}] serial {} served {} ms after NOTIFY",
                z.apex(),
                s.serial(),
                now.saturating_sub(at)
            );
            self.metrics
                .notify_to_served
                .observe_ms(now.saturating_sub(at));
            self.notified.remove(&i);
        }
        if std::mem::take(&mut z.refresh_again) {
            z.timers.next_refresh = now;
        }
        tracing::debug!(
            "[{}] next refresh in {} s, expires in {} s",
            z.apex(),
            z.timers.next_refresh.saturating_sub(now) / 1000,
            z.timers.expires_at().unwrap_or(now).saturating_sub(now) / 1000
        );
        if let Some(s) = &z.snapshot {
            self.actions.push_back(Action::Persist(PersistRequest {
                apex: z.apex().clone(),
                file: z.config.file(z.apex()),
                snapshot: new_version.then(|| Arc::clone(s)),
                state: SavedState {
                    serial: s.serial(),
                    refreshed_at: now / 1000,
                    expires_at: z.timers.expires_at().unwrap_or(0) / 1000,
                },
            }));
        }
    }

    /// Logs the moment a zone's copy expires (RFC 1035 §3.3.13: no
    /// successful refresh for EXPIRE seconds); from then on it answers
    /// SERVFAIL until a transfer succeeds.
    fn log_expiry(&mut self, i: usize) {
        let z = &mut self.zones[i];
        z.expiry_logged = true;
        let serial = z.snapshot.as_ref().map_or(0, |s| s.serial());
        tracing::error!(
            "[{}] expired: serial {serial} was not confirmed by any primary within its EXPIRE time; answering SERVFAIL until a refresh succeeds",
            z.apex()
        );
    }

    /// Asks the driver to serve zone `i`'s current version.
    fn publish(&mut self, i: usize) {
        let z = &self.zones[i];
        let Some(snapshot) = z.snapshot.clone() else {
            return;
        };
        tracing::debug!("[{}] published serial {}", z.apex(), snapshot.serial());
        self.actions.push_back(Action::Publish {
            zone: Arc::clone(&z.served),
            snapshot,
        });
    }
}

#[cfg(test)]
mod tests;

mod apex_index;
mod zone_config;
use zone_config::ZoneConfig;
