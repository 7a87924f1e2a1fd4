//! One DNS-over-TCP connection (RFC 7766): two-octet length prefixes,
//! several queries per connection answered in order (pipelining), partial
//! reads and writes, and bounded buffers.

use std::io::{self, Read};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mio::net::TcpStream;

use crate::answer::transfer_out::TransferOut;
use crate::metrics::WorkerCounters;
use crate::tcp_framing::{Frames, MAX_FRAME, Outbox};

/// Output waiting to be sent beyond which no more queries are read: a
/// client that pipelines without reading cannot make the server buffer
/// without bound.
pub const MAX_PENDING_OUTPUT: usize = 128 * 1024;
/// Octets read per system call.
const READ_CHUNK: usize = 16 * 1024;

/// What the answer engine made of one query.
pub enum Answer {
    /// Nothing to send.
    Nothing,
    /// The first octets of the output buffer.
    Message(usize),
    /// A zone transfer, sent message by message as the socket takes them;
    /// later queries wait for its end (answers go out in order).
    Transfer(Box<TransferOut>),
}

/// What the worker should do with the connection after an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Open,
    Close,
}

pub struct Connection {
    pub stream: TcpStream,
    pub peer: SocketAddr,
    input: Vec<u8>,
    output: Outbox,
    /// The peer closed its side; close once the answers are out.
    peer_done: bool,
    /// An outbound transfer under way.
    transfer: Option<Box<TransferOut>>,
    last_activity: Instant,
    /// While a query is arriving or an answer waits: the time of the last
    /// progress (a whole query read, octets written). The I/O timeout runs
    /// from here, so a client trickling one octet a second is cut off, and
    /// one pipelining steadily is not.
    busy_since: Option<Instant>,
}

impl Connection {
    pub fn new(stream: TcpStream, peer: SocketAddr, now: Instant) -> Self {
        Connection {
            stream,
            peer,
            input: Vec::new(),
            output: Outbox::default(),
            peer_done: false,
            transfer: None,
            last_activity: now,
            busy_since: None,
        }
    }

    fn pending_output(&self) -> usize {
        self.output.pending()
    }

    /// Does what the socket allows after any readiness event: sends what
    /// is waiting, continues a transfer, answers every whole query with
    /// `answer(query, out)`, and reads more while the output waiting is
    /// within [`MAX_PENDING_OUTPUT`] and no transfer runs. Readiness is edge-triggered, so the
    /// socket is read until it would block, except while writing is
    /// blocked beyond the limit; the writable event that must then follow
    /// brings reading back. Stopping anywhere else would strand queries in
    /// the kernel's buffer until the timeouts cut the connection.
    pub fn on_ready(
        &mut self,
        now: Instant,
        unix: u64,
        out: &mut [u8],
        answer: &mut impl FnMut(&[u8], &mut [u8]) -> Answer,
        counters: &WorkerCounters,
    ) -> Status {
        loop {
            let Some(write_blocked) = self.flush(now) else {
                return Status::Close;
            };
            if self.answer_whole_messages(now, out, answer) == Status::Close {
                return Status::Close;
            }
            if self.continue_transfer(out, unix, counters) == Status::Close {
                return Status::Close;
            }
            if self.pending_output() > 0 && !write_blocked {
                // New answers and room to send them.
                continue;
            }
            // While a transfer runs, the queries behind it wait in the
            // kernel: the writable event that must come brings reading
            // back, as for a full output.
            if self.peer_done
                || self.pending_output() > MAX_PENDING_OUTPUT
                || self.transfer.is_some()
            {
                break;
            }
            let start = self.input.len();
            self.input.resize(start + READ_CHUNK, 0);
            match self.stream.read(&mut self.input[start..]) {
                Ok(0) => {
                    self.input.truncate(start);
                    self.peer_done = true;
                }
                Ok(n) => {
                    self.input.truncate(start + n);
                    self.last_activity = now;
                    self.busy_since.get_or_insert(now);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.input.truncate(start);
                    break;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => self.input.truncate(start),
                Err(_) => return Status::Close,
            }
        }
        if self.peer_done && self.output.pending() == 0 {
            return Status::Close;
        }
        // Not progress: a half-read query keeps its timer running.
        if self.input.is_empty() && self.pending_output() == 0 {
            self.busy_since = None;
        }
        Status::Open
    }

    /// Logs a transfer the connection ends in the middle of (the client
    /// went, or stopped reading until the I/O timeout cut it off): its
    /// slot among the transfers running goes back with it.
    pub fn log_unfinished_transfer(&self, why: &str, counters: &WorkerCounters) {
        if let Some(t) = &self.transfer {
            counters.transfer_out(t.is_axfr(), false);
            let (messages, records) = t.sent();
            tracing::warn!(
                "[{}] {} to {} cut off after {records} records in {messages} messages: {why}",
                t.zone(),
                t.kind(),
                self.peer
            );
        }
    }

    /// Queues the transfer's next messages while the output has room;
    /// logs its end. A record that fits no message ends the connection:
    /// the client sees a transfer cut short, never a malformed one.
    fn continue_transfer(
        &mut self,
        out: &mut [u8],
        unix: u64,
        counters: &WorkerCounters,
    ) -> Status {
        while let Some(t) = self.transfer.as_mut() {
            if self.output.pending() > MAX_PENDING_OUTPUT {
                break;
            }
            match t.next_message(out, unix) {
                Ok(Some(n)) => self.output.push_message(&out[..n]),
                Ok(None) => {
                    counters.transfer_out(t.is_axfr(), true);
                    let (messages, records) = t.sent();
                    tracing::info!(
                        "[{}] {} to {}: serial {}, {records} records in {messages} messages",
                        t.zone(),
                        t.kind(),
                        self.peer,
                        t.serial()
                    );
                    self.transfer = None;
                }
                Err(e) => {
                    counters.transfer_out(t.is_axfr(), false);
                    tracing::error!("[{}] {} to {} stopped: {e}", t.zone(), t.kind(), self.peer);
                    self.transfer = None;
                    return Status::Close;
                }
            }
        }
        Status::Open
    }

    /// Writes pending output until it is all sent (`Some(false)`) or the
    /// socket would block (`Some(true)`); `None` when the connection is
    /// broken.
    fn flush(&mut self, now: Instant) -> Option<bool> {
        let flushed = self.output.flush(&mut self.stream).ok()?;
        if flushed.wrote > 0 {
            self.last_activity = now;
            self.progress(now);
        }
        Some(flushed.blocked)
    }

    /// Answers the complete messages at the front of the input, stopping
    /// when too much output is waiting.
    fn answer_whole_messages(
        &mut self,
        now: Instant,
        out: &mut [u8],
        answer: &mut impl FnMut(&[u8], &mut [u8]) -> Answer,
    ) -> Status {
        let mut frames = Frames::new(&self.input);
        while self.transfer.is_none() && self.output.pending() <= MAX_PENDING_OUTPUT {
            let Some(query) = frames.next() else {
                break;
            };
            match answer(query, out) {
                Answer::Nothing => {}
                Answer::Message(n) => self.output.push_message(&out[..n]),
                Answer::Transfer(t) => self.transfer = Some(t),
            }
        }
        let used = frames.consumed();
        self.input.drain(..used);
        // Keep the input bounded too: at most one frame plus one chunk.
        if self.input.len() > MAX_FRAME + READ_CHUNK {
            return Status::Close;
        }
        if used > 0 {
            self.progress(now);
        }
        Status::Open
    }

    /// Restarts the I/O timer, or stops it when nothing is in flight.
    fn progress(&mut self, now: Instant) {
        self.busy_since = if self.input.is_empty() && self.pending_output() == 0 {
            None
        } else {
            Some(now)
        };
    }

    /// Whether the connection has outlived its timeouts: `io` for a query
    /// or answer in flight, `idle` with nothing in flight.
    /// Nothing in flight: waiting for the client's next query.
    pub fn is_idle(&self) -> bool {
        self.busy_since.is_none()
    }

    pub fn expired(&self, now: Instant, idle: Duration, io_timeout: Duration) -> bool {
        match self.busy_since {
            Some(t) => now.duration_since(t) > io_timeout,
            None => now.duration_since(self.last_activity) > idle,
        }
    }
}
