//! A secondary zone's configuration as the machine keeps it, for a node
//! of many zones: what zones configured alike have in common (primaries,
//! key, source, policies, the directory of their copies) in one shared
//! allocation, and per zone only where its copy lives when that is not
//! the directory's usual name for it. The apex is the served zone's.
//! [`SecondaryZone`] is made again when it is asked for.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::SecondaryZone;
use crate::tsig::TsigKey;
use crate::wire::Name;
use crate::xfr::catalog::file_name;
use crate::zone::zonemd::ZonemdPolicy;
use crate::zone::{NotifyPolicy, Zone, ZoneAccess};

/// What zones configured alike share.
#[derive(Debug)]
pub(super) struct Shared {
    pub primaries: Arc<[SocketAddr]>,
    pub key: Option<Arc<TsigKey>>,
    pub source: Option<IpAddr>,
    pub zonemd: ZonemdPolicy,
    /// Where the copies of the zones without a `file` of their own are:
    /// `dir/<file_name(apex)>`, as a catalog's members are kept.
    dir: Option<Arc<Path>>,
    /// Who may NOTIFY these zones (their primaries' addresses, with the
    /// key) and transfer them out, and whether they are catalogs, as
    /// their served zones hold it.
    pub access: Arc<ZoneAccess>,
}

/// One zone's configuration, less its apex.
#[derive(Debug)]
pub(super) struct ZoneConfig {
    pub shared: Arc<Shared>,
    /// The copy's path when it is not in `shared.dir` under the usual
    /// name (a thin pointer: most zones have none).
    file: Option<Box<PathBuf>>,
}

impl ZoneConfig {
    /// `config` kept compact; `last` is the [`Shared`] made last, taken
    /// again when it says the same (zones from one primary, or one
    /// catalog template, share one).
    pub fn new(config: &SecondaryZone, last: &mut Option<Arc<Shared>>) -> ZoneConfig {
        // The name is made again from the apex as served, lowercase.
        let usual = (config.apex == config.apex.to_lowercase()).then(|| file_name(&config.apex));
        let (dir, file) = match (config.file.parent(), config.file.file_name(), usual) {
            (Some(dir), Some(name), Some(usual)) if name == usual.as_str() => {
                (Some(Arc::from(dir)), None)
            }
            _ => (None, Some(Box::new(config.file.to_path_buf()))),
        };
        let same = |s: &Shared| {
            s.primaries == config.primaries
                && s.key == config.key
                && s.source == config.source
                && s.access.catalog == config.catalog
                && s.zonemd == config.zonemd
                && s.access.transfer == config.allow_transfer
                && s.dir.as_deref() == dir.as_deref()
        };
        let shared = match last.as_ref().filter(|s| same(s)) {
            Some(s) => Arc::clone(s),
            None => {
                let s = Arc::new(Shared {
                    primaries: config.primaries.clone(),
                    key: config.key.clone(),
                    source: config.source,
                    zonemd: config.zonemd,
                    dir,
                    access: Arc::new(ZoneAccess {
                        notify: Some(NotifyPolicy {
                            primaries: config.primaries.iter().map(SocketAddr::ip).collect(),
                            key: config.key.clone(),
                        }),
                        transfer: config.allow_transfer.clone(),
                        catalog: config.catalog,
                    }),
                });
                *last = Some(Arc::clone(&s));
                s
            }
        };
        ZoneConfig { shared, file }
    }

    /// The path of the copy of zone `apex`.
    pub fn file(&self, apex: &Name) -> Arc<Path> {
        match (&self.file, &self.shared.dir) {
            (Some(f), _) => Arc::from(f.as_path()),
            (None, Some(dir)) => Arc::from(dir.join(file_name(apex))),
            (None, None) => Arc::from(Path::new(&file_name(apex))),
        }
    }

    /// The configuration as given, for zone `apex`.
    pub fn secondary_zone(&self, apex: &Name) -> SecondaryZone {
        let s = &self.shared;
        SecondaryZone {
            apex: apex.clone(),
            file: self.file(apex),
            primaries: s.primaries.clone(),
            key: s.key.clone(),
            source: s.source,
            catalog: s.access.catalog,
            zonemd: s.zonemd,
            allow_transfer: s.access.transfer.clone(),
        }
    }

    /// The zone as the answer engine sees it, serving `snapshot`.
    pub fn served(
        &self,
        apex: Name,
        snapshot: Option<Arc<crate::zone::Snapshot>>,
        expires_at: Option<u64>,
    ) -> Zone {
        let access = Arc::clone(&self.shared.access);
        Zone::new(apex, snapshot, expires_at, Some(access))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::name::parse_name_text;

    fn zone(apex: &str, file: &str) -> SecondaryZone {
        SecondaryZone {
            apex: parse_name_text(apex, None).unwrap(),
            file: Arc::from(Path::new(file)),
            primaries: Arc::from(["192.0.2.1:53".parse::<SocketAddr>().unwrap()]),
            key: None,
            source: None,
            catalog: false,
            zonemd: ZonemdPolicy::Verify,
            allow_transfer: None,
        }
    }

    #[test]
    fn zones_configured_alike_share_and_come_back_as_given() {
        let mut last = None;
        let a = zone("a.example.", "/var/z/a.example.zone");
        let b = zone("b.example.", "/var/z/b.example.zone");
        let odd = zone("c.example.", "/var/z/custom-name");
        let elsewhere = zone("d.example.", "/srv/d.example.zone");
        let ca = ZoneConfig::new(&a, &mut last);
        let cb = ZoneConfig::new(&b, &mut last);
        let codd = ZoneConfig::new(&odd, &mut last);
        let celse = ZoneConfig::new(&elsewhere, &mut last);
        assert!(
            Arc::ptr_eq(&ca.shared, &cb.shared),
            "same primaries, same directory"
        );
        assert!(ca.file.is_none() && cb.file.is_none());
        assert!(codd.file.is_some(), "a name of its own is kept");
        assert!(!Arc::ptr_eq(&ca.shared, &celse.shared), "another directory");
        for (c, z) in [(&ca, &a), (&cb, &b), (&codd, &odd), (&celse, &elsewhere)] {
            assert_eq!(c.secondary_zone(&z.apex), *z);
        }
        let mut keyed = zone("e.example.", "/var/z/e.example.zone");
        keyed.source = Some("192.0.2.9".parse().unwrap());
        let ckeyed = ZoneConfig::new(&keyed, &mut last);
        assert!(!Arc::ptr_eq(&ckeyed.shared, &celse.shared));
        assert_eq!(ckeyed.secondary_zone(&keyed.apex), keyed);
        assert_eq!(
            &*ckeyed.shared.access.notify.as_ref().unwrap().primaries,
            &["192.0.2.1".parse::<IpAddr>().unwrap()]
        );
    }
}
