//! Zone files (RFC 1035 §5): reading and writing the presentation format.

mod lexer;
mod loc;
mod rdata;
mod reader;
mod svcb;
mod writer;

pub use rdata::{RdataDisplay, decode_type_bitmap, encode_type_bitmap, fmt_rdata, parse_ttl};
pub use reader::{RawRecord, ZoneFileError, ZoneFileReader};
pub use writer::write_zone_file;
