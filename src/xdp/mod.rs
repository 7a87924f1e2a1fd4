//! The AF_XDP fast path: an XDP program on each configured interface
//! sends UDP for our port to one AF_XDP socket per receive queue, and
//! one worker per queue answers from the receive frame into a transmit
//! frame. Everything else the program passes to the kernel, which also
//! keeps serving TCP and every address over sockets.
//!
//! The kernel interface is written here on `libc` (as the rest of the
//! network side is), not taken from a crate: the rings are a hundred
//! lines, and the XDP program is a few dozen instructions kept as
//! source, with no clang or eBPF toolchain at build time. An interface
//! that cannot take XDP is logged once and served over sockets.

pub mod bpf;
pub mod packet;
pub mod program;
pub mod ring;
pub mod socket;

use std::ffi::CString;
use std::fmt;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};

pub use bpf::Mode;
pub use socket::{Copying, XskSocket};

/// Why an interface is not served over XDP.
#[derive(Debug)]
pub struct XdpError {
    pub interface: String,
    pub step: &'static str,
    pub source: io::Error,
}

impl fmt::Display for XdpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "XDP on {}: {}: {}",
            self.interface, self.step, self.source
        )?;
        match self.source.raw_os_error() {
            Some(libc::EPERM) => f.write_str(" (needs root, or CAP_BPF and CAP_NET_ADMIN)"),
            Some(libc::EBUSY) | Some(libc::EEXIST) => {
                f.write_str(" (another XDP program is attached to it)")
            }
            _ => Ok(()),
        }
    }
}

impl std::error::Error for XdpError {}

/// An interface with our program attached: detached when dropped (the
/// link's descriptor closes), or when the process ends, however.
pub struct Attached {
    pub name: String,
    pub mode: Mode,
    pub queues: u32,
    _link: OwnedFd,
    _program: OwnedFd,
    _map: OwnedFd,
}

/// The receive queues of `name`, as sysfs lists them.
fn rx_queues(name: &str) -> io::Result<u32> {
    let n = std::fs::read_dir(format!("/sys/class/net/{name}/queues"))?
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("rx-"))
        .count();
    Ok((n as u32).max(1))
}

/// Receive queues over `interfaces` (those that exist): one XDP worker
/// each, for the counters made before the workers start.
pub fn queue_count(interfaces: &[String]) -> usize {
    interfaces
        .iter()
        .filter_map(|i| rx_queues(i).ok())
        .map(|n| n as usize)
        .sum()
}

/// The interface's MTU: the largest IP packet an answer may be, as XDP
/// cannot fragment.
pub fn mtu(name: &str) -> Option<usize> {
    std::fs::read_to_string(format!("/sys/class/net/{name}/mtu"))
        .ok()?
        .trim()
        .parse()
        .ok()
}

fn ifindex(name: &str) -> io::Result<u32> {
    let c = CString::new(name).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: a NUL-terminated string.
    match unsafe { libc::if_nametoindex(c.as_ptr()) } {
        0 => Err(io::Error::last_os_error()),
        i => Ok(i),
    }
}

/// Attaches to `name` for UDP port `port`: one socket per receive queue,
/// then the program (so nothing is redirected before a socket reads).
pub fn attach(name: &str, port: u16) -> Result<(Attached, Vec<XskSocket>), XdpError> {
    let fail = |step| {
        move |source| XdpError {
            interface: name.to_string(),
            step,
            source,
        }
    };
    let index = ifindex(name).map_err(fail("no such interface"))?;
    let queues = rx_queues(name).map_err(fail("reading its queues"))?;
    let map = bpf::socket_map(queues).map_err(fail("making the socket map"))?;
    let mut sockets = Vec::with_capacity(queues as usize);
    for q in 0..queues {
        let s = XskSocket::open(index, q).map_err(fail("opening an AF_XDP socket"))?;
        bpf::map_socket(&map, q, s.fd()).map_err(fail("mapping the socket"))?;
        sockets.push(s);
    }
    let code = program::dns_redirect(port, map.as_raw_fd());
    let program = bpf::load_xdp(&code).map_err(fail("loading the program"))?;
    let (link, mode) = bpf::attach(&program, index).map_err(fail("attaching the program"))?;
    Ok((
        Attached {
            name: name.to_string(),
            mode,
            queues,
            _link: link,
            _program: program,
            _map: map,
        },
        sockets,
    ))
}
