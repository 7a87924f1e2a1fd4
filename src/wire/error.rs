//! Errors of the wire layer: everything that can be wrong with bytes from
//! the network, and the one thing that can go wrong when writing (no room).

use thiserror::Error;

/// Why a message, or a part of one, could not be read or written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum WireError {
    #[error("message shorter than the 12-octet header")]
    ShortHeader,
    #[error("message ends in the middle of a field")]
    Truncated,
    #[error("compression pointer does not point backwards")]
    BadPointer,
    #[error("name longer than 255 octets")]
    NameTooLong,
    #[error("label type 0x40 or 0x80 is reserved")]
    BadLabelType,
    #[error("record data does not have the form its type requires")]
    BadRdata,
    #[error("data follows the last record")]
    TrailingData,
    #[error("more than one OPT record, or OPT outside the additional section")]
    BadOpt,
    #[error("no room left in the output buffer")]
    NoSpace,
}

pub type Result<T> = core::result::Result<T, WireError>;
