//! A host the test makes itself: a network namespace joined to this one
//! by a veth pair, with addresses from the benchmarking ranges
//! (198.18.0.0/15, 2001:2::/48; RFC 2544, RFC 5180). Deleted when
//! dropped.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::process::Command;

use super::tool;

pub struct NetPair {
    /// The namespace, named in /run/netns.
    pub ns: String,
    /// Our end, in this namespace (the namespace's end is `eth0`).
    pub host_link: String,
    pub host_v4: Ipv4Addr,
    pub peer_v4: Ipv4Addr,
    pub host_v6: Ipv6Addr,
    pub peer_v6: Ipv6Addr,
}

fn ip(args: &[&str]) {
    let out = Command::new(tool("ip")).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

impl NetPair {
    /// A pair told apart from others of this and other test processes by
    /// `tag` (one letter) and the process ID.
    pub fn new(tag: char) -> NetPair {
        let pid = std::process::id();
        // A /30 and a /64 of their own: 16,384 blocks of 198.19.0.0/16.
        let block = (pid.wrapping_mul(31) ^ tag as u32).wrapping_mul(2_654_435_761) >> 18;
        let (hi, lo) = ((block >> 6) as u8, ((block & 63) << 2) as u8);
        let p = NetPair {
            ns: format!("zct{pid}{tag}"),
            host_link: format!("zc{}{tag}", pid % 1_000_000),
            host_v4: Ipv4Addr::new(198, 19, hi, lo + 1),
            peer_v4: Ipv4Addr::new(198, 19, hi, lo + 2),
            host_v6: Ipv6Addr::new(0x2001, 2, 0, block as u16, 0, 0, 0, 1),
            peer_v6: Ipv6Addr::new(0x2001, 2, 0, block as u16, 0, 0, 0, 2),
        };
        ip(&["netns", "add", &p.ns]);
        ip(&[
            "link",
            "add",
            &p.host_link,
            "type",
            "veth",
            "peer",
            "name",
            "eth0",
            "netns",
            &p.ns,
        ]);
        let (h4, p4) = (format!("{}/30", p.host_v4), format!("{}/30", p.peer_v4));
        let (h6, p6) = (format!("{}/64", p.host_v6), format!("{}/64", p.peer_v6));
        ip(&["addr", "add", &h4, "dev", &p.host_link]);
        ip(&["-6", "addr", "add", &h6, "dev", &p.host_link, "nodad"]);
        ip(&["link", "set", &p.host_link, "up"]);
        ip(&["-n", &p.ns, "addr", "add", &p4, "dev", "eth0"]);
        ip(&[
            "-n", &p.ns, "-6", "addr", "add", &p6, "dev", "eth0", "nodad",
        ]);
        ip(&["-n", &p.ns, "link", "set", "eth0", "up"]);
        ip(&["-n", &p.ns, "link", "set", "lo", "up"]);
        p
    }

    /// Runs `f` on a thread that has entered the namespace: sockets it
    /// makes live there, whichever thread uses them later.
    pub fn inside<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> T {
        let path = format!("/run/netns/{}", self.ns);
        std::thread::spawn(move || {
            let ns = std::fs::File::open(&path).unwrap();
            // SAFETY: setns(2) on a descriptor of a network namespace;
            // it changes this (short-lived) thread only.
            let r = unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) };
            assert_eq!(r, 0, "setns: {}", std::io::Error::last_os_error());
            f()
        })
        .join()
        .unwrap()
    }

    /// A UDP socket in the namespace, for IPv4 or IPv6.
    pub fn udp_client(&self, v6: bool) -> UdpSocket {
        self.inside(move || {
            let any: SocketAddr = if v6 { "[::]:0" } else { "0.0.0.0:0" }.parse().unwrap();
            let s = UdpSocket::bind(any).unwrap();
            s.set_read_timeout(Some(std::time::Duration::from_millis(500)))
                .unwrap();
            s
        })
    }

    /// What `ip link show` says of our end (an XDP program shows as
    /// `prog/xdp`).
    pub fn host_link_state(&self) -> String {
        let out = Command::new(tool("ip"))
            .args(["link", "show", "dev", &self.host_link])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for NetPair {
    fn drop(&mut self) {
        let _ = Command::new(tool("ip"))
            .args(["link", "del", &self.host_link])
            .output();
        let _ = Command::new(tool("ip"))
            .args(["netns", "del", &self.ns])
            .output();
    }
}

/// Sends `q` from `socket` to `to` and returns the answer, if one comes
/// in time.
pub fn exchange(socket: &UdpSocket, to: SocketAddr, q: &[u8]) -> Option<Vec<u8>> {
    socket.send_to(q, to).ok()?;
    let mut buf = vec![0u8; 65535];
    loop {
        let (n, from) = socket.recv_from(&mut buf).ok()?;
        // A late answer to an earlier query: not this one.
        if from == to && n >= 2 && buf[..2] == q[..2] {
            return Some(buf[..n].to_vec());
        }
    }
}
