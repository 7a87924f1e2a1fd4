//! The few bpf(2) commands an XDP program needs: a map of sockets, the
//! program, and a link attaching it to an interface. A link belongs to
//! its descriptor: when zonecast exits, however it exits, the kernel
//! detaches the program, so a crash never leaves an interface sending
//! DNS to sockets nobody reads.

use std::ffi::CStr;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use super::program::Insn;

const BPF_MAP_CREATE: libc::c_long = 0;
const BPF_MAP_UPDATE_ELEM: libc::c_long = 2;
const BPF_PROG_LOAD: libc::c_long = 5;
const BPF_LINK_CREATE: libc::c_long = 28;

const BPF_MAP_TYPE_XSKMAP: u32 = 17;
const BPF_PROG_TYPE_XDP: u32 = 6;
const BPF_XDP: u32 = 37;

/// `XDP_FLAGS_SKB_MODE`: the generic hook, for any driver.
const XDP_FLAGS_SKB_MODE: u32 = 1 << 1;
/// `XDP_FLAGS_DRV_MODE`: in the driver (veth, most 10G+ NICs).
const XDP_FLAGS_DRV_MODE: u32 = 1 << 2;

#[repr(C)]
struct MapCreate {
    map_type: u32,
    key_size: u32,
    value_size: u32,
    max_entries: u32,
    map_flags: u32,
    inner_map_fd: u32,
    numa_node: u32,
    map_name: [u8; 16],
}

#[repr(C)]
struct MapElem {
    map_fd: u32,
    _pad: u32,
    key: u64,
    value: u64,
    flags: u64,
}

#[repr(C)]
struct ProgLoad {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
    prog_name: [u8; 16],
    prog_ifindex: u32,
    expected_attach_type: u32,
}

#[repr(C)]
struct LinkCreate {
    prog_fd: u32,
    target_ifindex: u32,
    attach_type: u32,
    flags: u32,
}

fn name16(s: &str) -> [u8; 16] {
    let mut n = [0u8; 16];
    let b = s.as_bytes();
    n[..b.len().min(15)].copy_from_slice(&b[..b.len().min(15)]);
    n
}

/// bpf(2) with `attr`; a new descriptor when the command makes one.
fn bpf<T>(cmd: libc::c_long, attr: &mut T) -> io::Result<libc::c_long> {
    // SAFETY: `attr` is a live, initialised `repr(C)` struct laid out as
    // the kernel's `union bpf_attr` member for `cmd`, and its size is
    // passed with it (the kernel zero-extends what it does not get).
    let r = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            cmd,
            (attr as *mut T).cast::<libc::c_void>(),
            core::mem::size_of::<T>() as libc::c_uint,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(r)
}

fn owned(fd: libc::c_long) -> OwnedFd {
    // SAFETY: the kernel just made this descriptor for us alone.
    unsafe { OwnedFd::from_raw_fd(fd as i32) }
}

/// An XSKMAP: queue number to AF_XDP socket.
pub fn socket_map(queues: u32) -> io::Result<OwnedFd> {
    let mut attr = MapCreate {
        map_type: BPF_MAP_TYPE_XSKMAP,
        key_size: 4,
        value_size: 4,
        max_entries: queues.max(1),
        map_flags: 0,
        inner_map_fd: 0,
        numa_node: 0,
        map_name: name16("zonecast_xsks"),
    };
    bpf(BPF_MAP_CREATE, &mut attr).map(owned)
}

/// Puts the socket `socket` at `queue` in `map`.
pub fn map_socket(map: &OwnedFd, queue: u32, socket: i32) -> io::Result<()> {
    let key = queue;
    let value = socket as u32;
    let mut attr = MapElem {
        map_fd: map.as_raw_fd() as u32,
        _pad: 0,
        key: &key as *const u32 as u64,
        value: &value as *const u32 as u64,
        flags: 0,
    };
    bpf(BPF_MAP_UPDATE_ELEM, &mut attr).map(|_| ())
}

/// Loads `insns` as an XDP program; the verifier's complaint, if any,
/// comes back in the error.
pub fn load_xdp(insns: &[Insn]) -> io::Result<OwnedFd> {
    let license = c"GPL";
    let mut log = vec![0u8; 16 * 1024];
    let mut attr = ProgLoad {
        prog_type: BPF_PROG_TYPE_XDP,
        insn_cnt: insns.len() as u32,
        insns: insns.as_ptr() as u64,
        license: license.as_ptr() as u64,
        log_level: 1,
        log_size: log.len() as u32,
        log_buf: log.as_mut_ptr() as u64,
        kern_version: 0,
        prog_flags: 0,
        prog_name: name16("zonecast_dns"),
        prog_ifindex: 0,
        expected_attach_type: BPF_XDP,
    };
    bpf(BPF_PROG_LOAD, &mut attr).map(owned).map_err(|e| {
        let text = CStr::from_bytes_until_nul(&log)
            .map(|c| c.to_string_lossy().trim().to_string())
            .unwrap_or_default();
        if text.is_empty() {
            e
        } else {
            io::Error::new(e.kind(), format!("{e}; verifier: {text}"))
        }
    })
}

/// Where the program runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// In the driver: packets reach the program before any socket buffer.
    Native,
    /// The generic hook, after the kernel made a socket buffer.
    Generic,
}

/// Attaches `prog` to interface `ifindex` in the driver, or on the
/// generic hook where the driver has no XDP; the program stays attached
/// while the returned link is open.
pub fn attach(prog: &OwnedFd, ifindex: u32) -> io::Result<(OwnedFd, Mode)> {
    let link = |flags| {
        let mut attr = LinkCreate {
            prog_fd: prog.as_raw_fd() as u32,
            target_ifindex: ifindex,
            attach_type: BPF_XDP,
            flags,
        };
        bpf(BPF_LINK_CREATE, &mut attr).map(owned)
    };
    match link(XDP_FLAGS_DRV_MODE) {
        Ok(l) => Ok((l, Mode::Native)),
        Err(e) if e.raw_os_error() == Some(libc::EOPNOTSUPP) => {
            link(XDP_FLAGS_SKB_MODE).map(|l| (l, Mode::Generic))
        }
        Err(e) => Err(e),
    }
}
