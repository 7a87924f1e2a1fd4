//! The zones served, found by the longest apex that is a suffix of the
//! query name. The set is published whole through `arc-swap` when zones
//! come or go; a new version of one zone is stored into that zone's own
//! slot (one `arc-swap` store, whatever the number of zones), and its
//! expiry moves in an atomic.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arc_swap::{ArcSwapOption, Guard};

use super::name_table::{Keyed, NameTable};
use super::snapshot::Snapshot;
use super::transfer_acl::TransferAcl;
use crate::tsig::TsigKey;
use crate::wire::Name;
use crate::wire::name::{NameBuf, SuffixHashes, hash_name};
use std::net::IpAddr;

/// A zone's version, loaded for one answer.
pub type SnapshotGuard = Guard<Option<Arc<Snapshot>>>;

/// One served zone as the answer engine sees it.
#[derive(Debug)]
pub struct Zone {
    /// Lowercase.
    pub apex: Name,
    /// The version served; `None` until the zone has been loaded or
    /// transferred once: queries then get SERVFAIL.
    snapshot: ArcSwapOption<Snapshot>,
    /// When the data stops being served (RFC 1035 §3.3.13 EXPIRE); never,
    /// for a zone whose master copy is its file. Moved by the transfer
    /// side at each refresh, in place (a refresh that finds nothing new
    /// publishes nothing).
    pub expiry: Expiry,
    /// Who may NOTIFY it and transfer it out, and whether it is a catalog;
    /// `None`: nobody, and no. Shared by zones configured alike (a slot
    /// is held per zone: one pointer, not three fields).
    access: Option<Arc<ZoneAccess>>,
}

/// What a zone allows besides queries, and what kind it is.
#[derive(Debug, Default)]
pub struct ZoneAccess {
    /// For a secondary zone: who may send it NOTIFY.
    pub notify: Option<NotifyPolicy>,
    /// Who may transfer it out (AXFR); nobody when `None`.
    pub transfer: Option<Arc<TransferAcl>>,
    /// A catalog zone (RFC 9432 §1): transferred and told of changes by
    /// NOTIFY like any secondary zone, but a list of zones for this
    /// server, not data for the public: queries get REFUSED.
    pub catalog: bool,
}

impl ZoneAccess {
    /// A secondary zone's, NOTIFYed under `policy`.
    pub fn secondary(policy: NotifyPolicy) -> Arc<ZoneAccess> {
        Arc::new(ZoneAccess {
            notify: Some(policy),
            ..ZoneAccess::default()
        })
    }
}

/// When a secondary zone's copy stops being served, in Unix seconds:
/// read by the answer engine, moved by the transfer side at each
/// successful refresh, with no lock.
#[derive(Debug)]
pub struct Expiry(AtomicU64);

impl Default for Expiry {
    fn default() -> Self {
        Expiry::new(None)
    }
}

impl Expiry {
    /// No copy yet: nothing to expire.
    const NONE: u64 = u64::MAX;

    pub fn new(at: Option<u64>) -> Self {
        Expiry(AtomicU64::new(at.unwrap_or(Self::NONE)))
    }

    pub fn get(&self) -> Option<u64> {
        Some(self.0.load(Ordering::Relaxed)).filter(|&t| t != Self::NONE)
    }

    pub fn set(&self, at: Option<u64>) {
        self.0.store(at.unwrap_or(Self::NONE), Ordering::Relaxed);
    }
}

/// Who may announce changes to a secondary zone (RFC 1996 §3.10): its
/// primaries, signing with the zone's key when it has one.
#[derive(Debug, Clone)]
pub struct NotifyPolicy {
    pub primaries: Vec<IpAddr>,
    pub key: Option<Arc<TsigKey>>,
}

impl Zone {
    pub fn new(
        apex: Name,
        snapshot: Option<Arc<Snapshot>>,
        expires_at: Option<u64>,
        access: Option<Arc<ZoneAccess>>,
    ) -> Zone {
        Zone {
            apex: apex.to_lowercase(),
            snapshot: ArcSwapOption::new(snapshot),
            expiry: Expiry::new(expires_at),
            access,
        }
    }

    /// The zone, transferred out to the clients `acl` allows (a zone
    /// served from its file: its own access, made here).
    pub fn with_transfer_acl(mut self, acl: Option<Arc<TransferAcl>>) -> Zone {
        let old = self.access.take();
        let notify = old.as_ref().and_then(|a| a.notify.clone());
        let catalog = old.as_ref().is_some_and(|a| a.catalog);
        if acl.is_some() || notify.is_some() || catalog {
            self.access = Some(Arc::new(ZoneAccess {
                notify,
                transfer: acl,
                catalog,
            }));
        }
        self
    }

    /// Who may NOTIFY the zone: set for a secondary zone only.
    pub fn notify_policy(&self) -> Option<&NotifyPolicy> {
        self.access.as_ref()?.notify.as_ref()
    }

    /// Who may transfer the zone out, if anyone.
    pub fn transfer_acl(&self) -> Option<&Arc<TransferAcl>> {
        self.access.as_ref()?.transfer.as_ref()
    }

    /// Whether the zone is a catalog, never answered to the public.
    pub fn is_catalog(&self) -> bool {
        self.access.as_ref().is_some_and(|a| a.catalog)
    }

    /// Whether `client` may transfer the zone out.
    pub fn allows_transfer(&self, client: IpAddr) -> bool {
        !self.is_catalog() && self.transfer_acl().is_some_and(|a| a.allows(client))
    }

    /// A zone served from its own file: never expires.
    pub fn primary(snapshot: Arc<Snapshot>) -> Zone {
        Zone::new(snapshot.apex().clone(), Some(snapshot), None, None)
    }

    /// The version served now. Hold it for one answer: a guard is cheap
    /// (no lock, no allocation, no shared counter in the common case),
    /// but a worker holding many at once falls back to counting.
    #[inline]
    pub fn snapshot(&self) -> SnapshotGuard {
        self.snapshot.load()
    }

    /// Whether a version has been loaded or transferred.
    pub fn is_loaded(&self) -> bool {
        self.snapshot.load().is_some()
    }

    /// Serves `snapshot` from now on; returns the version it replaces,
    /// for the caller to free once no reader holds it.
    pub fn publish(&self, snapshot: Option<Arc<Snapshot>>) -> Option<Arc<Snapshot>> {
        self.snapshot.swap(snapshot)
    }

    pub fn is_expired(&self, now: u64) -> bool {
        self.expires_at().is_some_and(|t| now >= t)
    }

    /// When the copy expires, Unix seconds, for a secondary zone.
    pub fn expires_at(&self) -> Option<u64> {
        self.expiry.get()
    }
}

impl Keyed for Zone {
    fn key(&self) -> &[u8] {
        self.apex.as_wire()
    }
}

#[derive(Clone)]
pub struct ZoneSet {
    table: NameTable<Arc<Zone>>,
    /// Fewest and most labels of any apex: suffixes outside the range are
    /// not probed.
    min_labels: usize,
    max_labels: usize,
}

impl Default for ZoneSet {
    fn default() -> Self {
        ZoneSet {
            table: NameTable::with_capacity(0),
            min_labels: usize::MAX,
            max_labels: 0,
        }
    }
}

impl ZoneSet {
    pub fn new(zones: impl IntoIterator<Item = Zone>) -> Self {
        let mut s = ZoneSet::default();
        for z in zones {
            s.insert(Arc::new(z));
        }
        s
    }

    fn insert(&mut self, z: Arc<Zone>) {
        let labels = z.apex.label_count();
        self.min_labels = self.min_labels.min(labels);
        self.max_labels = self.max_labels.max(labels);
        self.table.insert(hash_name(z.apex.as_wire()), z);
    }

    /// A new set with `zone` added or replacing the zone of the same apex
    /// (a copy of the table: for zones that come or go, not for new
    /// versions, which [`Zone::publish`] stores in place).
    pub fn with(&self, zone: Arc<Zone>) -> ZoneSet {
        let mut s = self.clone();
        s.insert(zone);
        s
    }

    /// A new set with every zone of `zones` added (one copy of the table
    /// for all of them).
    pub fn with_all(&self, zones: impl IntoIterator<Item = Arc<Zone>>) -> ZoneSet {
        let mut s = self.clone();
        for z in zones {
            s.insert(z);
        }
        s
    }

    /// A new set without these zones, each only if it is still the one
    /// the set holds for its apex (another may have replaced it since).
    pub fn without_zones(&self, zones: &[Arc<Zone>]) -> ZoneSet {
        let mut s = self.clone();
        for z in zones {
            let key = z.apex.as_wire();
            if s.table
                .get(key, hash_name(key))
                .is_some_and(|held| Arc::ptr_eq(held, z))
            {
                s.table.remove(key, hash_name(key));
            }
        }
        s
    }

    /// The zone with this apex (any case).
    pub fn get(&self, apex: &Name) -> Option<&Arc<Zone>> {
        let lower = apex.to_lowercase();
        self.table.get(lower.as_wire(), hash_name(lower.as_wire()))
    }

    /// The zone whose apex is the longest suffix of `qname` (lowercase),
    /// and how many leading labels of `qname` lie below that apex.
    #[inline]
    pub fn find(&self, qname: &NameBuf, hashes: &SuffixHashes) -> Option<(&Zone, usize)> {
        self.find_from(qname, hashes, 0)
    }

    /// Like [`find`](Self::find), but only among apexes that drop at least
    /// `min_skip` labels of `qname` (the parent zone of an apex, say).
    #[inline]
    pub fn find_from(
        &self,
        qname: &NameBuf,
        hashes: &SuffixHashes,
        min_skip: usize,
    ) -> Option<(&Zone, usize)> {
        let labels = qname.label_count();
        if labels < self.min_labels {
            return None;
        }
        let first = labels.saturating_sub(self.max_labels).max(min_skip);
        let last = labels - self.min_labels;
        for skip in first..=last {
            if let Some(z) = self.table.get(qname.suffix(skip), hashes.get(skip)) {
                return Some((z, skip));
            }
        }
        None
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<Zone>> {
        self.table.iter()
    }

    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::name::parse_name_text;

    fn zone(apex: &str) -> Zone {
        Zone::new(parse_name_text(apex, None).unwrap(), None, None, None)
    }

    fn find(set: &ZoneSet, q: &str) -> Option<(String, usize)> {
        let mut n = NameBuf::from_wire(parse_name_text(q, None).unwrap().as_wire()).unwrap();
        n.make_lowercase();
        let h = SuffixHashes::compute(&n);
        set.find(&n, &h).map(|(z, s)| (z.apex.to_string(), s))
    }

    #[test]
    fn longest_suffix_wins() {
        let set = ZoneSet::new([zone("example.com."), zone("sub.example.com."), zone("org.")]);
        assert_eq!(
            find(&set, "WWW.Example.com."),
            Some(("example.com.".into(), 1))
        );
        assert_eq!(
            find(&set, "a.b.sub.example.com."),
            Some(("sub.example.com.".into(), 2))
        );
        assert_eq!(find(&set, "example.com."), Some(("example.com.".into(), 0)));
        assert_eq!(find(&set, "x.org."), Some(("org.".into(), 1)));
        assert_eq!(find(&set, "com."), None);
        assert_eq!(find(&set, "example.net."), None);
        assert_eq!(find(&set, "."), None);
        let root = set.with(Arc::new(zone(".")));
        assert_eq!(find(&root, "example.net."), Some((".".into(), 2)));
        assert_eq!(root.len(), 4);
    }
}
