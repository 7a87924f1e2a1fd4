//! Zones: records read from zone files or transfers, and the immutable
//! snapshots the answer engine reads.
//!
//! A [`Snapshot`] is one version of one zone. Its nodes live in a sharded
//! hash map ([`node_map`]) and in canonical order ([`canonical`]), both
//! built from shared pieces so that the next version after an IXFR copies
//! only what the diff touches. A [`ZoneSet`] maps query names to zones.

pub mod apex;
pub mod build;
pub mod canonical;
pub mod diff;
pub mod journal;
pub mod load;
pub mod name_table;
pub mod node;
pub mod node_map;
pub mod nsec3;
pub mod rr;
pub mod rrset;
pub mod snapshot;
pub mod text;
pub mod transfer_acl;
pub mod zone_set;
pub mod zonemd;

pub use build::{Built, SnapshotBuilder, ZoneError};
pub use diff::{Diff, DiffError};
pub use load::{LoadError, load_zone_file, load_zone_text};
pub use node::Node;
pub use rr::Rr;
pub use rrset::RRset;
pub use snapshot::Snapshot;
pub use zone_set::{Expiry, NotifyPolicy, SnapshotGuard, Zone, ZoneAccess, ZoneSet};
