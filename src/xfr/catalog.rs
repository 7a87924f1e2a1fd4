//! Catalog zones, as consumer (RFC 9432 §5). A catalog is a secondary
//! zone that is transferred like any other but never answered; each
//! version it brings is read into its member list ([`members`]), and the
//! [`Consumer`] turns the lists of every catalog into the member zones
//! the node must have, as changes for the transfer side to apply. Pure:
//! no I/O, no clock, so the rules (clashes, removal, reset, change of
//! ownership) are unit-tested in `catalog/tests.rs`.
//!
//! The rules, by section of RFC 9432:
//! - §5.1: a broken version (no or wrong `version`, two PTRs for one
//!   member or `coo`) changes nothing; the last good one stays in force.
//! - §5.2: a member whose name is a configured zone, or a member of
//!   another catalog, is ignored and logged; the zone that was there
//!   first keeps it.
//! - §5.3: a zone is removed only when the catalog that added it drops
//!   it, and then its copy goes too.
//! - §5.4: the same zone under a new unique-N label is reset: its copy
//!   is deleted and it is transferred anew.
//! - §5.6 (with §4.4.1): a member whose `coo` names another catalog
//!   moves to that catalog once that catalog lists it, keeping its copy
//!   if the label is the same and reset if not.
//! - §4.4.2: the `group` property picks the template (primaries, key,
//!   directory) a member is made from, as Knot's `catalog-template`.

pub mod members;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use members::{CatalogError, Label, Member, members_of};

use super::secondary::SecondaryZone;
use crate::tsig::TsigKey;
use crate::wire::Name;
use crate::zone::Snapshot;

/// How the members of a catalog are made (`[[template]]`).
#[derive(Debug, Clone, PartialEq)]
pub struct MemberTemplate {
    pub name: String,
    pub primaries: Arc<[SocketAddr]>,
    pub key: Option<Arc<TsigKey>>,
    pub source: Option<IpAddr>,
    /// Where the members' copies are kept, one file per zone.
    pub directory: PathBuf,
    pub zonemd: crate::zone::zonemd::ZonemdPolicy,
}

/// One `[[catalog]]`: the catalog zone itself, and the templates of its
/// members (the first is the default; a member's `group` picks another
/// by name).
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogConfig {
    pub zone: SecondaryZone,
    pub templates: Vec<MemberTemplate>,
}

/// What the transfer side must do to a member zone.
#[derive(Debug, Clone, PartialEq)]
pub enum MemberChange {
    /// A new member: serve its copy on disk if there is one, else
    /// transfer it.
    Add(SecondaryZone),
    /// Another template (primaries, key or file) for a member.
    Update(SecondaryZone),
    /// Delete the member's copy and transfer it anew (RFC 9432 §5.4).
    Reset(SecondaryZone),
    /// Stop serving the member and delete its copy (§5.3).
    Remove(Name),
}

/// A catalog as configured, with what its last good version listed.
struct Catalog {
    config: CatalogConfig,
    /// Member zone → its listings, in the catalog's order (one, unless
    /// the catalog names a zone twice). `None` until a good version came.
    members: Option<BTreeMap<Name, Vec<Member>>>,
}

impl Catalog {
    /// The listing of `zone`, the one with label `id` if there is one.
    fn listing(&self, zone: &Name, id: &[u8]) -> Option<&Member> {
        let list = self.members.as_ref()?.get(zone)?;
        list.iter().find(|m| *m.id == *id).or(list.first())
    }
}

/// A member zone and the catalog it belongs to.
#[derive(Debug, Clone)]
struct Owner {
    catalog: Name,
    id: Box<[u8]>,
    zone: SecondaryZone,
}

/// Every catalog, and the member zones they made.
#[derive(Default)]
pub struct Consumer {
    catalogs: BTreeMap<Name, Catalog>,
    /// Zones configured by name (and the catalogs themselves): a member
    /// by one of these names is a clash.
    configured: HashSet<Name>,
    owned: HashMap<Name, Owner>,
    /// Clashes already logged, so each is logged once while it lasts.
    clashes: HashSet<(Name, Name)>,
    /// Members as the last run left them (each catalog's members file),
    /// until that catalog's listing is known: the owner before a restart
    /// keeps its zone, and a label changed meanwhile still resets it.
    previous: HashMap<Name, (Name, Label)>,
    /// Catalogs whose members changed since their file was written.
    dirty: HashSet<Name>,
}

impl Consumer {
    pub fn new() -> Self {
        Consumer::default()
    }

    pub fn is_catalog(&self, apex: &Name) -> bool {
        self.catalogs.contains_key(apex)
    }

    /// Whether a catalog made this zone.
    pub fn is_member(&self, apex: &Name) -> bool {
        self.owned.contains_key(apex)
    }

    pub fn member_count(&self) -> usize {
        self.owned.len()
    }

    /// The catalog a member zone belongs to.
    pub fn owner_of(&self, apex: &Name) -> Option<&Name> {
        self.owned.get(apex).map(|o| &o.catalog)
    }

    /// The catalogs and the names of the other configured zones, as a
    /// (re)load of the configuration gives them. A catalog no longer
    /// configured takes its members with it; a catalog kept keeps what
    /// its last version listed.
    pub fn configure(
        &mut self,
        catalogs: Vec<CatalogConfig>,
        configured: HashSet<Name>,
    ) -> Vec<MemberChange> {
        let mut old = std::mem::take(&mut self.catalogs);
        for config in catalogs {
            let apex = config.zone.apex.to_lowercase();
            let members = old.remove(&apex).and_then(|c| c.members);
            self.catalogs.insert(apex, Catalog { config, members });
        }
        self.configured = configured;
        self.configured.extend(self.catalogs.keys().cloned());
        self.resolve()
    }

    /// The members `catalog` had when the node stopped, as
    /// [`membership`](Self::membership) wrote them; lines that do not
    /// read are skipped (the file is only a hint).
    pub fn remember(&mut self, catalog: &Name, text: &str) {
        let catalog = catalog.to_lowercase();
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let mut words = line.split_whitespace();
            let (Some(zone), Some(id)) = (words.next(), words.next()) else {
                continue;
            };
            let (Ok(zone), Ok(id)) = (
                crate::wire::name::parse_name_text(zone, None),
                data_encoding::HEXLOWER_PERMISSIVE.decode(id.as_bytes()),
            ) else {
                continue;
            };
            self.previous
                .insert(zone.to_lowercase(), (catalog.clone(), id.into()));
        }
    }

    /// The members file of each catalog whose members changed, with its
    /// text: one line per member, its name and its label in hex.
    pub fn membership(&mut self) -> Vec<(PathBuf, Vec<u8>)> {
        let mut out = Vec::new();
        for catalog in std::mem::take(&mut self.dirty) {
            let Some(c) = self.catalogs.get(&catalog) else {
                continue;
            };
            let mut lines: Vec<String> = self
                .owned
                .iter()
                .filter(|(_, o)| o.catalog == catalog)
                .map(|(zone, o)| format!("{zone} {}\n", data_encoding::HEXLOWER.encode(&o.id)))
                .collect();
            lines.sort();
            let mut text = format!("# members of catalog {catalog}, as zonecast serves them\n");
            text.extend(lines);
            out.push((members_path(&c.config.zone.file), text.into_bytes()));
        }
        out
    }

    /// A new version of `catalog` arrived (or its copy was loaded).
    /// A broken one is logged and changes nothing.
    pub fn update(&mut self, catalog: &Name, snapshot: &Snapshot) -> Vec<MemberChange> {
        let catalog = catalog.to_lowercase();
        let Some(c) = self.catalogs.get_mut(&catalog) else {
            return Vec::new();
        };
        match members_of(snapshot) {
            Ok(list) => {
                let mut by_zone: BTreeMap<Name, Vec<Member>> = BTreeMap::new();
                for m in list {
                    by_zone.entry(m.zone.clone()).or_default().push(m);
                }
                tracing::info!(
                    "[{catalog}] catalog serial {}: {} member zones listed",
                    snapshot.serial(),
                    by_zone.len()
                );
                c.members = Some(by_zone);
                self.resolve()
            }
            Err(e) => {
                tracing::error!(
                    "[{catalog}] catalog serial {} is broken, ignored until fixed (RFC 9432 §5.1): {e}",
                    snapshot.serial()
                );
                Vec::new()
            }
        }
    }

    /// Works out which catalog owns which zone now, and what changed.
    fn resolve(&mut self) -> Vec<MemberChange> {
        let mut next: HashMap<Name, Owner> = HashMap::with_capacity(self.owned.len());
        let mut resets: HashSet<Name> = HashSet::new();
        let mut moved: HashSet<Name> = HashSet::new();
        // Owners first: a member stays with the catalog that made it.
        for (zone, owner) in &self.owned {
            if self.configured.contains(zone) {
                continue;
            }
            let Some(cat) = self.catalogs.get(&owner.catalog) else {
                continue;
            };
            if cat.members.is_none() {
                // Nothing known of it yet (cannot be, for a catalog that
                // made members, but nothing is lost if it were).
                next.insert(zone.clone(), owner.clone());
                continue;
            }
            let Some(listed) = cat.listing(zone, &owner.id) else {
                continue; // §5.3: dropped by its own catalog.
            };
            // §5.6: moved to the catalog its coo names, once that one
            // lists it.
            let migration = listed
                .coo
                .as_ref()
                .filter(|to| **to != owner.catalog)
                .and_then(|to| {
                    let target = self.catalogs.get(to)?;
                    Some((to, target, target.listing(zone, &listed.id)?))
                });
            let (cat_name, cat, m) = match migration {
                Some((to, target, m)) => {
                    tracing::info!(
                        "[{zone}] moves from catalog {} to catalog {to} (coo, RFC 9432 §5.6)",
                        owner.catalog
                    );
                    moved.insert(zone.clone());
                    (to, target, m)
                }
                None => (&owner.catalog, cat, listed),
            };
            if m.id != owner.id {
                tracing::info!(
                    "[{zone}] member ID changed in catalog {cat_name}: zone reset, copy deleted (RFC 9432 §5.4)"
                );
                resets.insert(zone.clone());
            }
            next.insert(zone.clone(), member_zone(cat_name, cat, m));
        }
        // Then members the last run left, with the catalog that had them,
        // once that catalog's listing is known.
        for (zone, (was, id)) in &self.previous {
            let Some(cat) = self.catalogs.get(was) else {
                continue;
            };
            if next.contains_key(zone) || self.configured.contains(zone) {
                continue;
            }
            let Some(m) = cat.listing(zone, id) else {
                continue;
            };
            if m.id != *id {
                tracing::info!(
                    "[{zone}] member ID changed in catalog {was} while stopped: zone reset, copy deleted (RFC 9432 §5.4)"
                );
                resets.insert(zone.clone());
            }
            next.insert(zone.clone(), member_zone(was, cat, m));
        }
        // Then members nobody has yet, catalog by catalog in name order.
        let mut clashes = HashSet::new();
        for (cat_name, cat) in &self.catalogs {
            let Some(members) = &cat.members else {
                continue;
            };
            for (zone, listings) in members {
                let m = &listings[0];
                // Held for the catalog that had it before a restart,
                // until that catalog's listing is known.
                let reserved = self.previous.get(zone).is_some_and(|(was, _)| {
                    was != cat_name && self.catalogs.get(was).is_some_and(|c| c.members.is_none())
                });
                if reserved {
                    continue;
                }
                let clash = if self.configured.contains(zone) {
                    Some("a zone of the configuration".to_string())
                } else {
                    match next.get(zone) {
                        Some(o) if o.catalog == *cat_name => None,
                        Some(o) => Some(format!("a member of catalog {}", o.catalog)),
                        None => {
                            next.insert(zone.clone(), member_zone(cat_name, cat, m));
                            None
                        }
                    }
                };
                // The catalog a member moved away from lists it until
                // its operator drops it: that is no clash.
                let moved_away = next
                    .get(zone)
                    .is_some_and(|o| m.coo.as_ref() == Some(&o.catalog));
                if let Some(what) = clash.filter(|_| !moved_away) {
                    let key = (cat_name.clone(), zone.clone());
                    if !self.clashes.contains(&key) {
                        tracing::warn!(
                            "[{zone}] listed by catalog {cat_name}, but it is {what}: ignored (RFC 9432 §5.2)"
                        );
                    }
                    clashes.insert(key);
                }
            }
        }
        self.clashes = clashes;
        // What the last run left is settled for every catalog whose
        // listing is known.
        let catalogs = &self.catalogs;
        self.previous
            .retain(|_, (was, _)| catalogs.get(was).is_some_and(|c| c.members.is_none()));
        let mut changes = Vec::new();
        for (zone, old) in &self.owned {
            if !next.contains_key(zone) {
                tracing::info!("[{zone}] no longer a member of catalog {}", old.catalog);
                self.dirty.insert(old.catalog.clone());
                changes.push(MemberChange::Remove(zone.clone()));
            }
        }
        for (zone, new) in &next {
            let old = self.owned.get(zone);
            if old.is_none_or(|o| o.catalog != new.catalog || o.id != new.id) {
                self.dirty.insert(new.catalog.clone());
                self.dirty.extend(old.map(|o| o.catalog.clone()));
            }
            match old {
                None if resets.contains(zone) => {
                    changes.push(MemberChange::Reset(new.zone.clone()));
                }
                None => {
                    tracing::info!("[{zone}] added by catalog {}", new.catalog);
                    changes.push(MemberChange::Add(new.zone.clone()));
                }
                // Dropped by one catalog and taken by another in one go:
                // the zone's state goes (§5.3), as if removed and added.
                Some(old)
                    if resets.contains(zone)
                        || (old.catalog != new.catalog && !moved.contains(zone)) =>
                {
                    changes.push(MemberChange::Reset(new.zone.clone()));
                }
                Some(old) if old.zone != new.zone => {
                    changes.push(MemberChange::Update(new.zone.clone()));
                }
                Some(_) => {}
            }
        }
        self.owned = next;
        changes
    }
}

/// Where a catalog's members are kept between runs: beside its copy.
pub fn members_path(catalog_file: &Path) -> PathBuf {
    let mut p = catalog_file.as_os_str().to_owned();
    p.push(".members");
    PathBuf::from(p)
}

/// The secondary zone a catalog's template makes of a member.
fn member_zone(catalog: &Name, cat: &Catalog, m: &Member) -> Owner {
    let templates = &cat.config.templates;
    let picked = m
        .groups
        .iter()
        .find_map(|g| templates.iter().find(|t| t.name.as_bytes() == &**g));
    let t = match picked {
        Some(t) => t,
        None => {
            if !m.groups.is_empty() {
                tracing::warn!(
                    "[{}] catalog {catalog}: no template for its group, the default one is used",
                    m.zone
                );
            }
            &templates[0]
        }
    };
    Owner {
        catalog: catalog.clone(),
        id: m.id.clone(),
        zone: SecondaryZone {
            apex: m.zone.clone(),
            file: t.directory.join(file_name(&m.zone)).into(),
            primaries: t.primaries.clone(),
            key: t.key.clone(),
            source: t.source,
            catalog: false,
            zonemd: t.zonemd,
            allow_transfer: None,
        },
    }
}

/// A file name for a zone's copy that any name from a catalog can have:
/// letters, digits, `-` and `_` as they are, every other octet as `%XX`
/// (no `/`, no `..`), then `zone`: `example.com.zone`.
pub fn file_name(zone: &Name) -> String {
    if zone.is_root() {
        return "root.zone".into();
    }
    let mut out = String::with_capacity(zone.len() + 4);
    for label in zone.labels() {
        for &b in label {
            if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
                out.push(b as char);
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
        out.push('.');
    }
    out.push_str("zone");
    out
}
