//! Listening sockets: one UDP socket and one TCP listener per worker and
//! address, all bound with SO_REUSEPORT so the kernel spreads packets and
//! connections over the workers.

use std::io;
use std::net::{SocketAddr, TcpListener, UdpSocket};

use socket2::{Domain, Protocol, Socket, Type};

/// Pending connections the kernel keeps per listener.
const TCP_BACKLOG: i32 = 1024;
/// Receive buffer asked for UDP sockets, to ride out bursts.
const UDP_RECV_BUFFER: usize = 4 << 20;

fn new_socket(addr: SocketAddr, ty: Type, proto: Protocol) -> io::Result<Socket> {
    let s = Socket::new(Domain::for_address(addr), ty, Some(proto))?;
    if addr.is_ipv6() {
        s.set_only_v6(true)?;
    }
    s.set_reuse_port(true)?;
    s.set_reuse_address(true)?;
    s.set_nonblocking(true)?;
    Ok(s)
}

pub fn bind_udp(addr: SocketAddr) -> io::Result<UdpSocket> {
    let s = new_socket(addr, Type::DGRAM, Protocol::UDP)?;
    // Best effort: the kernel may cap it.
    let _ = s.set_recv_buffer_size(UDP_RECV_BUFFER);
    s.bind(&addr.into())?;
    Ok(s.into())
}

pub fn bind_tcp(addr: SocketAddr) -> io::Result<TcpListener> {
    let s = new_socket(addr, Type::STREAM, Protocol::TCP)?;
    s.bind(&addr.into())?;
    s.listen(TCP_BACKLOG)?;
    Ok(s.into())
}

/// The first worker's UDP socket and TCP listener for `addr`. Port 0 picks
/// one port that is free for both protocols, so tests can run in parallel.
pub fn bind_first(addr: SocketAddr) -> io::Result<(UdpSocket, TcpListener, SocketAddr)> {
    if addr.port() != 0 {
        let u = bind_udp(addr)?;
        let t = bind_tcp(addr)?;
        return Ok((u, t, addr));
    }
    let mut last = io::Error::other("no free port");
    for _ in 0..50 {
        let u = bind_udp(addr)?;
        let bound = u.local_addr()?;
        match bind_tcp(bound) {
            Ok(t) => return Ok((u, t, bound)),
            Err(e) => last = e,
        }
    }
    Err(last)
}
