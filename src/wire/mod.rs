//! The DNS wire format, hand-written and zero-copy: views that borrow a
//! packet and validate at the edge, and a writer into a caller-owned
//! buffer. Nothing here allocates on the query path or panics on input.

pub mod edns;
pub mod error;
pub mod header;
pub mod iana;
pub mod message;
pub mod name;
pub mod rdata;
pub mod record;
pub mod serial;
pub mod tsig;
pub mod writer;

pub use error::WireError;
pub use header::{HEADER_LEN, Header};
pub use message::{Message, Sections};
pub use name::{Name, NameBuf};
pub use record::{Question, Record};
pub use writer::{CompressionTable, MessageWriter, Owner, Section};
