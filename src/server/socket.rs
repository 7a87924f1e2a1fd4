//! Listening sockets: one UDP socket and one TCP listener per worker and
//! address, all bound with SO_REUSEPORT so the kernel spreads packets and
//! connections over the workers, once no other process holds the address.

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

/// Fails when another process already serves `addr`. SO_REUSEPORT would
/// let a second server bind it too and take about half the packets, so
/// the check binds once without it first, and the kernel refuses if the
/// address is taken (as a second knotd is refused). The TCP probe keeps
/// SO_REUSEADDR, so connections of an earlier run in TIME_WAIT do not
/// count; the UDP probe must not, as for UDP that option shares the port.
fn check_unused(addr: SocketAddr) -> io::Result<()> {
    let in_use = |proto: &str| {
        io::Error::new(
            io::ErrorKind::AddrInUse,
            format!(
                "{proto} address already in use by another process (another zonecast, or another DNS server?)"
            ),
        )
    };
    for (ty, proto) in [(Type::DGRAM, Protocol::UDP), (Type::STREAM, Protocol::TCP)] {
        let s = Socket::new(Domain::for_address(addr), ty, Some(proto))?;
        if addr.is_ipv6() {
            s.set_only_v6(true)?;
        }
        if ty == Type::STREAM {
            s.set_reuse_address(true)?;
        }
        match s.bind(&addr.into()) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AddrInUse => {
                return Err(in_use(if ty == Type::STREAM { "TCP" } else { "UDP" }));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// The first worker's UDP socket and TCP listener for `addr`, after
/// checking that no other process serves it. Port 0 picks one port that
/// is free for both protocols, so tests can run in parallel.
pub fn bind_first(addr: SocketAddr) -> io::Result<(UdpSocket, TcpListener, SocketAddr)> {
    if addr.port() != 0 {
        check_unused(addr)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_another_socket_holds_is_refused() {
        // Held as another zonecast holds it: SO_REUSEPORT and all.
        let (u, t, addr) = bind_first("127.0.0.1:0".parse().unwrap()).unwrap();
        let e = bind_first(addr).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AddrInUse);
        assert!(e.to_string().contains("UDP address already in use"), "{e}");
        drop(u);
        let e = bind_first(addr).unwrap_err();
        assert!(e.to_string().contains("TCP address already in use"), "{e}");
        drop(t);
        // Free again: it binds.
        assert!(bind_first(addr).is_ok());
        // Held by a plain UDP socket (some other program).
        let other = UdpSocket::bind("127.0.0.1:0").unwrap();
        let e = bind_first(other.local_addr().unwrap()).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AddrInUse, "{e}");
    }
}
