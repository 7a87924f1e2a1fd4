//! The physical limit of the bench: a UDP server that answers every
//! datagram by echoing it with QR set, through the very path zonecast's
//! workers use (SO_REUSEPORT sockets, mio, recvmmsg/sendmmsg batches) but
//! doing no DNS work. Its CPU per query is the kernel's share.

use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::time::Duration;

use mio::net::UdpSocket;
use mio::{Events, Interest, Poll, Token};
use zonecast::server::socket::{bind_first, bind_udp};
use zonecast::server::udp::UdpBatch;

/// Runs until killed.
pub fn run(listen: SocketAddr, workers: usize) -> Result<(), String> {
    let (first, _tcp, bound) = bind_first(listen).map_err(|e| e.to_string())?;
    let mut sockets = vec![first];
    for _ in 1..workers.max(1) {
        sockets.push(bind_udp(bound).map_err(|e| e.to_string())?);
    }
    let threads: Vec<_> = sockets
        .into_iter()
        .map(|s| std::thread::spawn(move || reflect(UdpSocket::from_std(s))))
        .collect();
    for t in threads {
        let _ = t.join();
    }
    Ok(())
}

fn reflect(mut sock: UdpSocket) {
    let Ok(mut poll) = Poll::new() else { return };
    if poll
        .registry()
        .register(&mut sock, Token(0), Interest::READABLE)
        .is_err()
    {
        return;
    }
    let mut events = Events::with_capacity(8);
    let mut batch = UdpBatch::new(4096);
    let fd = sock.as_raw_fd();
    loop {
        if poll
            .poll(&mut events, Some(Duration::from_millis(500)))
            .is_err()
        {
            continue;
        }
        loop {
            let n = match batch.recv(fd) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            for i in 0..n {
                let len = match batch.slot(i) {
                    Some((q, _, a)) if q.len() >= 12 => {
                        a[..q.len()].copy_from_slice(q);
                        a[2] |= 0x80;
                        q.len()
                    }
                    _ => 0,
                };
                batch.set_answer(i, len);
            }
            let _ = batch.send(fd);
        }
    }
}
