//! DNS over TCP framing (RFC 1035 §4.2.2, RFC 7766 §8): every message
//! behind a two-octet length. The query workers' connections and the
//! transfer side's both split their input with [`Frames`] and send through
//! an [`Outbox`], so the two cannot come to disagree on the format or on
//! how a non-blocking write loop ends.

use std::io::{self, Write};

/// A length prefix plus the largest message.
pub const MAX_FRAME: usize = 2 + 65535;

/// The whole messages at the front of a stream's input, in order; what
/// they took is [`consumed`](Frames::consumed), the rest waits for more.
pub struct Frames<'a> {
    input: &'a [u8],
    used: usize,
}

impl<'a> Frames<'a> {
    pub fn new(input: &'a [u8]) -> Self {
        Frames { input, used: 0 }
    }

    /// Octets of the messages yielded so far, prefixes included.
    pub fn consumed(&self) -> usize {
        self.used
    }
}

impl<'a> Iterator for Frames<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let rest = &self.input[self.used..];
        let len = u16::from_be_bytes([*rest.first()?, *rest.get(1)?]) as usize;
        let msg = rest.get(2..2 + len)?;
        self.used += 2 + len;
        Some(msg)
    }
}

/// Octets waiting to go out on a non-blocking stream.
#[derive(Debug, Default)]
pub struct Outbox {
    buf: Vec<u8>,
    sent: usize,
}

/// What a flush did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flushed {
    /// The stream would block with octets still waiting.
    pub blocked: bool,
    /// Octets written by this flush.
    pub wrote: usize,
}

impl Outbox {
    /// Queues `msg` (at most 65535 octets: callers build messages that
    /// size) behind its length.
    pub fn push_message(&mut self, msg: &[u8]) {
        debug_assert!(msg.len() <= u16::MAX as usize);
        self.buf
            .extend_from_slice(&(msg.len().min(u16::MAX as usize) as u16).to_be_bytes());
        self.buf.extend_from_slice(msg);
    }

    /// Queues octets framed already.
    pub fn push_framed(&mut self, framed: &[u8]) {
        self.buf.extend_from_slice(framed);
    }

    /// Octets not yet written.
    pub fn pending(&self) -> usize {
        self.buf.len() - self.sent
    }

    /// Writes until everything is out or the stream would block. A
    /// stream that takes nothing has closed: `WriteZero`.
    pub fn flush(&mut self, w: &mut impl Write) -> io::Result<Flushed> {
        let mut wrote = 0;
        while self.sent < self.buf.len() {
            match w.write(&self.buf[self.sent..]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    self.sent += n;
                    wrote += n;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    return Ok(Flushed {
                        blocked: true,
                        wrote,
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.buf.clear();
        self.sent = 0;
        Ok(Flushed {
            blocked: false,
            wrote,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stream that takes at most `room` octets, then would block.
    struct Trickle {
        got: Vec<u8>,
        room: usize,
    }

    impl Write for Trickle {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            if self.room == 0 {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            let n = b.len().min(self.room).min(3);
            self.room -= n;
            self.got.extend_from_slice(&b[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn frames_split_whole_messages_and_leave_the_rest() {
        let mut out = Outbox::default();
        out.push_message(b"abc");
        out.push_message(b"");
        out.push_message(&[7; 300]);
        let mut w = Trickle {
            got: Vec::new(),
            room: 10,
        };
        assert_eq!(
            out.flush(&mut w).unwrap(),
            Flushed {
                blocked: true,
                wrote: 10
            }
        );
        w.room = usize::MAX;
        assert!(!out.flush(&mut w).unwrap().blocked);
        assert_eq!(out.pending(), 0);
        let stream = w.got;
        assert_eq!(stream.len(), 2 + 3 + 2 + 2 + 300);
        // Fed a piece at a time, the same messages come out.
        let cut = 2 + 3 + 2 + 5;
        let mut f = Frames::new(&stream[..cut]);
        assert_eq!(f.next(), Some(&b"abc"[..]));
        assert_eq!(f.next(), Some(&b""[..]));
        assert_eq!(f.next(), None, "the third is not whole yet");
        assert_eq!(f.consumed(), 7);
        let mut f = Frames::new(&stream[7..]);
        assert_eq!(f.next().map(<[u8]>::len), Some(300));
        assert_eq!(f.next(), None);
        let mut zero = Trickle {
            got: Vec::new(),
            room: 0,
        };
        struct Closed;
        impl Write for Closed {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Ok(0)
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let mut out = Outbox::default();
        out.push_framed(&[0, 1, 9]);
        assert!(out.flush(&mut zero).unwrap().blocked);
        assert_eq!(
            out.flush(&mut Closed).unwrap_err().kind(),
            io::ErrorKind::WriteZero
        );
    }
}
