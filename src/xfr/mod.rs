//! Zone transfers in: the protocol as sans-I/O state machines (a
//! transfer stream, one exchange with a primary, each zone's timers), and
//! the transfer thread that drives them.

pub mod encode;
pub mod exchange;
pub mod stream;
