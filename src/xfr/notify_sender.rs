//! The transfer thread's side of NOTIFY out: the sans-I/O
//! [`NotifyOut`] and the UDP sockets it sends from, one per source
//! address and address family, registered with the thread's poll so the
//! answers come back to it. It also knows which zones announce to whom.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use mio::net::UdpSocket;
use mio::{Interest, Registry, Token};

use super::notify_out::{Announcement, Millis, NotifyOut, NotifyTargets, Outcome, RetryPolicy};
use crate::wire::Name;
use crate::zone::Snapshot;

/// Tokens of the sockets count down from here (the connections' count
/// up from 0, the waker is `usize::MAX`).
const FIRST_TOKEN: usize = usize::MAX - 1;

/// Most sockets: one per source address and family in the configuration.
const MAX_SOCKETS: usize = 64;

struct Socket {
    source: Option<IpAddr>,
    v6: bool,
    udp: UdpSocket,
}

pub struct NotifySender {
    machine: NotifyOut,
    sockets: Vec<Socket>,
    /// The secondary zones that announce, by lowercase apex.
    targets: HashMap<Name, Arc<NotifyTargets>>,
}

impl NotifySender {
    pub fn new(id_seed: u16) -> Self {
        NotifySender {
            machine: NotifyOut::new(RetryPolicy::default(), id_seed),
            sockets: Vec::new(),
            targets: HashMap::new(),
        }
    }

    /// Which secondary zones announce their versions, and to whom (the
    /// configuration's, at start and at each reload); zones no longer
    /// announcing stop their NOTIFYs waiting.
    pub fn set_targets(&mut self, targets: HashMap<Name, Arc<NotifyTargets>>) {
        for apex in self.targets.keys() {
            if !targets.contains_key(apex) {
                self.machine.forget(apex);
            }
        }
        self.targets = targets;
    }

    /// A new version of a secondary zone: announced if the zone names
    /// secondaries.
    pub fn published(&mut self, snapshot: &Snapshot, now: Millis) {
        if self.targets.is_empty() {
            return;
        }
        if let Some(t) = self.targets.get(&snapshot.apex()) {
            let a = Announcement::of(snapshot, t);
            self.announce(&a, now);
        }
    }

    /// Announces `snapshot` again, now, if its zone names secondaries
    /// (`zonecast ctl notify`); whether it does.
    pub fn announce_again(&mut self, snapshot: &Snapshot, now: Millis) -> bool {
        match self.targets.get(&snapshot.apex()) {
            Some(t) => {
                let a = Announcement::of(snapshot, t);
                self.announce(&a, now);
                true
            }
            None => false,
        }
    }

    /// A zone taken out: no more NOTIFYs for it.
    pub fn forget(&mut self, apex: &Name) {
        self.machine.forget(apex);
    }

    pub fn announce(&mut self, a: &Announcement, now: Millis) {
        tracing::debug!(
            "[{}] serial {}: NOTIFY to {} secondaries",
            a.apex,
            a.serial,
            a.targets.addrs.len()
        );
        self.machine.announce(a, now);
    }

    /// Sends the NOTIFYs due, and logs those given up.
    pub fn send_due(&mut self, registry: &Registry, now: Millis) {
        let (due, gave_up) = self.machine.poll(now, now / 1000);
        for t in due {
            let sent = self
                .socket_for(registry, t.source, t.to.is_ipv6())
                .and_then(|s| s.send_to(&t.bytes, t.to));
            // A datagram not sent is sent again at its next retry.
            if let Err(e) = sent {
                tracing::debug!("NOTIFY to {} not sent: {e}", t.to);
            }
        }
        for o in gave_up {
            log(&o);
        }
    }

    /// Whether `token` is one of the sockets'.
    pub fn owns(&self, token: Token) -> bool {
        token.0 <= FIRST_TOKEN && FIRST_TOKEN - token.0 < self.sockets.len()
    }

    /// Reads the answers waiting on the socket of `token`.
    pub fn on_readable(&mut self, token: Token, now: Millis) {
        let Some(s) = self.sockets.get(FIRST_TOKEN - token.0) else {
            return;
        };
        let mut buf = [0u8; 4096];
        loop {
            match s.udp.recv_from(&mut buf) {
                Ok((n, from)) => {
                    if let Some(o) = self.machine.on_datagram(from, &buf[..n], now / 1000) {
                        log(&o);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
    }

    pub fn next_deadline(&self) -> Option<Millis> {
        self.machine.next_deadline()
    }

    /// The socket sending from `source` in the family of the target,
    /// made and registered when first needed.
    fn socket_for(
        &mut self,
        registry: &Registry,
        source: Option<IpAddr>,
        v6: bool,
    ) -> io::Result<&UdpSocket> {
        if let Some(i) = self
            .sockets
            .iter()
            .position(|s| s.source == source && s.v6 == v6)
        {
            return Ok(&self.sockets[i].udp);
        }
        if self.sockets.len() >= MAX_SOCKETS {
            return Err(io::Error::other("too many NOTIFY source addresses"));
        }
        let ip = match (source, v6) {
            (Some(ip), _) if ip.is_ipv6() == v6 => ip,
            (Some(ip), _) => {
                return Err(io::Error::other(format!(
                    "transfer_source {ip} cannot reach an IPv{} address",
                    if v6 { 6 } else { 4 }
                )));
            }
            (None, false) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            (None, true) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        };
        let mut udp = UdpSocket::bind(SocketAddr::new(ip, 0))?;
        let token = Token(FIRST_TOKEN - self.sockets.len());
        registry.register(&mut udp, token, Interest::READABLE)?;
        self.sockets.push(Socket { source, v6, udp });
        Ok(&self.sockets[self.sockets.len() - 1].udp)
    }
}

fn log(o: &Outcome) {
    match o {
        Outcome::Answered {
            apex,
            to,
            serial,
            rcode: 0,
            sends,
        } => {
            tracing::info!("[{apex}] NOTIFY to {to}: serial {serial}, answered after {sends} sends")
        }
        Outcome::Answered {
            apex,
            to,
            serial,
            rcode,
            ..
        } => tracing::warn!(
            "[{apex}] NOTIFY to {to}: serial {serial}, answered {}",
            crate::wire::iana::rcode::Display(*rcode)
        ),
        Outcome::GaveUp {
            apex,
            to,
            serial,
            sends,
        } => tracing::warn!(
            "[{apex}] NOTIFY to {to}: serial {serial}, no answer after {sends} sends; given up"
        ),
    }
}
