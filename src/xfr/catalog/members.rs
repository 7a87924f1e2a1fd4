//! Reading a catalog zone's version into its member list (RFC 9432 §4).
//! Only what a consumer acts on is read: the schema version, each
//! member's PTR, and the `group` and `coo` properties; other names
//! (`ext`, custom properties) are left alone, as §4.4 allows.

use std::collections::HashMap;

use thiserror::Error;

use crate::wire::Name;
use crate::wire::iana::rtype;
use crate::zone::{RRset, Snapshot};

/// A label or character-string, as octets.
pub type Label = Box<[u8]>;

/// One member zone as a catalog lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The member zone, lowercase.
    pub zone: Name,
    /// Its unique-N label (RFC 9432 §4.1), lowercase: a new label for the
    /// same zone resets the zone (§5.4).
    pub id: Box<[u8]>,
    /// The `group` property's strings (§4.4.2), in the zone's order.
    pub groups: Vec<Label>,
    /// The `coo` property (§4.4.1): the catalog this member moves to.
    pub coo: Option<Name>,
}

/// Why a catalog version is broken (RFC 9432 §5.1): the consumer must
/// not act on it, and keeps what it made of the last good one.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum CatalogError {
    #[error("no version.{0} TXT record (RFC 9432 §4.2.1)")]
    NoVersion(Name),
    #[error("version.{0} must be one TXT record \"2\" (RFC 9432 §4.2.1), found {1}")]
    BadVersion(Name, String),
    #[error("member {0} has {1} PTR records; exactly one is allowed (RFC 9432 §4.1)")]
    MemberPtrs(Name, usize),
    #[error("coo property {0} has {1} PTR records; exactly one is allowed (RFC 9432 §4.4.1)")]
    CooPtrs(Name, usize),
    #[error("PTR of {0} is not a domain name")]
    BadPtr(Name),
}

/// The schema version this consumer reads (RFC 9432 §4.2.1).
const VERSION: &[u8] = b"\x012";

/// The members of a catalog version, in canonical order of their
/// unique-N labels.
pub fn members_of(snapshot: &Snapshot) -> Result<Vec<Member>, CatalogError> {
    let apex = snapshot.apex().to_lowercase();
    let apex_labels = apex.label_count();
    let mut version_seen = false;
    let mut members: Vec<Member> = Vec::new();
    // Properties by unique-N label, joined to members at the end.
    let mut groups: HashMap<Label, Vec<Label>> = HashMap::new();
    let mut coos: HashMap<Label, Name> = HashMap::new();
    for node in snapshot.nodes_in_order() {
        let owner = match Name::from_wire(node.owner()) {
            Ok(n) => n.to_lowercase(),
            Err(_) => continue,
        };
        let labels: Vec<&[u8]> = owner.labels().collect();
        let rel = &labels[..labels.len().saturating_sub(apex_labels)];
        match rel {
            [b"version"] => {
                let txt = node.rrset(rtype::TXT);
                let rdatas: Vec<&[u8]> = txt.iter().flat_map(|s| s.rdatas()).collect();
                if rdatas != [VERSION] {
                    let found = if rdatas.is_empty() {
                        "none".to_string()
                    } else {
                        rdatas
                            .iter()
                            .map(|r| {
                                format!("\"{}\"", String::from_utf8_lossy(&r[1.min(r.len())..]))
                            })
                            .collect::<Vec<_>>()
                            .join(", ")
                    };
                    return Err(CatalogError::BadVersion(apex, found));
                }
                version_seen = true;
            }
            [id, b"zones"] => {
                let Some(ptr) = node.rrset(rtype::PTR) else {
                    continue;
                };
                let zone = single_name(&ptr, &owner, CatalogError::MemberPtrs)?;
                members.push(Member {
                    zone,
                    id: (*id).into(),
                    groups: Vec::new(),
                    coo: None,
                });
            }
            [b"group", id, b"zones"] => {
                let strings = node
                    .rrset(rtype::TXT)
                    .iter()
                    .flat_map(|s| s.rdatas())
                    .flat_map(character_strings)
                    .collect();
                groups.insert((*id).into(), strings);
            }
            [b"coo", id, b"zones"] => {
                let Some(ptr) = node.rrset(rtype::PTR) else {
                    continue;
                };
                coos.insert(
                    (*id).into(),
                    single_name(&ptr, &owner, CatalogError::CooPtrs)?,
                );
            }
            _ => {}
        }
    }
    if !version_seen {
        return Err(CatalogError::NoVersion(apex));
    }
    for m in &mut members {
        m.groups = groups.remove(&m.id).unwrap_or_default();
        m.coo = coos.remove(&m.id);
    }
    Ok(members)
}

/// The one name an RRset of PTR records holds.
fn single_name(
    ptr: &RRset<'_>,
    owner: &Name,
    too_many: fn(Name, usize) -> CatalogError,
) -> Result<Name, CatalogError> {
    if ptr.len() != 1 {
        return Err(too_many(owner.clone(), ptr.len()));
    }
    let rdata = ptr.rdatas().next().unwrap_or_default();
    Name::from_wire(rdata)
        .map(|n| n.to_lowercase())
        .map_err(|_| CatalogError::BadPtr(owner.clone()))
}

/// The character-strings of one TXT RDATA (RFC 1035 §3.3.14).
fn character_strings(rdata: &[u8]) -> Vec<Label> {
    let mut out = Vec::new();
    let mut rest = rdata;
    while let Some((&len, tail)) = rest.split_first() {
        let len = (len as usize).min(tail.len());
        out.push(tail[..len].into());
        rest = &tail[len..];
    }
    out
}
