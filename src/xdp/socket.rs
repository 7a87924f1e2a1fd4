//! One AF_XDP socket bound to one queue of one interface, with its own
//! packet memory (UMEM): frames of [`FRAME`] octets, half of them lent
//! to the kernel for receiving (the fill ring), half kept for answers.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use super::ring::Ring;

/// Octets of one frame: a page, so any answer up to the EDNS limit and
/// its headers fit.
pub const FRAME: usize = 4096;
/// Frames in one socket's memory (16 MiB).
const FRAMES: usize = 4096;
/// Entries of each ring.
const RING: u32 = 2048;

/// A descriptor of the RX and TX rings (`struct xdp_desc`).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct Desc {
    pub addr: u64,
    pub len: u32,
    pub options: u32,
}

/// The mode the kernel chose for a socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Copying {
    /// Frames are the driver's own buffers.
    ZeroCopy,
    /// The kernel copies each packet into and out of the frames.
    Copy,
}

pub struct XskSocket {
    fd: OwnedFd,
    umem: *mut u8,
    pub rx: Ring<Desc>,
    pub tx: Ring<Desc>,
    pub fill: Ring<u64>,
    pub completion: Ring<u64>,
    /// Frames that are ours, for answers (a stack, allocated once).
    pub free: Vec<u64>,
    pub copying: Copying,
    pub queue: u32,
}

// SAFETY: the socket is moved to its worker thread and used there alone.
unsafe impl Send for XskSocket {}

fn check(r: libc::c_int) -> io::Result<()> {
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

fn setsockopt<T>(fd: RawFd, opt: libc::c_int, v: &T) -> io::Result<()> {
    // SAFETY: `v` is a live value of the type the option takes.
    check(unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_XDP,
            opt,
            (v as *const T).cast(),
            core::mem::size_of::<T>() as libc::socklen_t,
        )
    })
}

impl XskSocket {
    /// A socket on queue `queue` of interface `ifindex`.
    pub fn open(ifindex: u32, queue: u32) -> io::Result<XskSocket> {
        // SAFETY: plain socket(2).
        let raw = unsafe { libc::socket(libc::AF_XDP, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
        check(raw)?;
        // SAFETY: a new descriptor, ours alone.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let len = FRAMES * FRAME;
        // SAFETY: an anonymous private mapping, checked below.
        let umem = unsafe {
            libc::mmap(
                core::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_POPULATE,
                -1,
                0,
            )
        };
        if umem == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        // From here the mapping is owned by `Umem` until the socket is.
        let guard = Umem(umem, len);
        let reg = libc::xdp_umem_reg {
            addr: umem as u64,
            len: len as u64,
            chunk_size: FRAME as u32,
            headroom: 0,
            flags: 0,
            tx_metadata_len: 0,
        };
        let s = fd.as_raw_fd();
        setsockopt(s, libc::XDP_UMEM_REG, &reg)?;
        setsockopt(s, libc::XDP_UMEM_FILL_RING, &RING)?;
        setsockopt(s, libc::XDP_UMEM_COMPLETION_RING, &RING)?;
        setsockopt(s, libc::XDP_RX_RING, &RING)?;
        setsockopt(s, libc::XDP_TX_RING, &RING)?;
        // SAFETY: all-zero is a valid value of the C struct.
        let mut off: libc::xdp_mmap_offsets = unsafe { core::mem::zeroed() };
        let mut optlen = core::mem::size_of::<libc::xdp_mmap_offsets>() as libc::socklen_t;
        // SAFETY: `off` is as long as `optlen` says.
        check(unsafe {
            libc::getsockopt(
                s,
                libc::SOL_XDP,
                libc::XDP_MMAP_OFFSETS,
                (&mut off as *mut libc::xdp_mmap_offsets).cast(),
                &mut optlen,
            )
        })?;
        let rx = Ring::map(s, &off.rx, RING, libc::XDP_PGOFF_RX_RING as u64)?;
        let tx = Ring::map(s, &off.tx, RING, libc::XDP_PGOFF_TX_RING as u32 as u64)?;
        let fill = Ring::map(s, &off.fr, RING, libc::XDP_UMEM_PGOFF_FILL_RING)?;
        let completion = Ring::map(s, &off.cr, RING, libc::XDP_UMEM_PGOFF_COMPLETION_RING)?;
        let mut sock = XskSocket {
            fd,
            umem: umem.cast(),
            rx,
            tx,
            fill,
            completion,
            free: Vec::with_capacity(FRAMES),
            copying: Copying::Copy,
            queue,
        };
        // The socket owns the memory now (its Drop unmaps it): the guard
        // must not unmap it a second time if binding fails below.
        std::mem::forget(guard);
        // Half the frames to the kernel for receiving, before binding.
        let lent = (RING as usize).min(FRAMES / 2) as u32;
        for i in 0..lent {
            sock.fill.write(i, u64::from(i) * FRAME as u64);
        }
        sock.fill.submit(lent);
        sock.free
            .extend((lent as usize..FRAMES).map(|i| (i * FRAME) as u64));
        let addr = libc::sockaddr_xdp {
            sxdp_family: libc::AF_XDP as u16,
            // Zero-copy where the driver has it, copy mode otherwise.
            sxdp_flags: libc::XDP_USE_NEED_WAKEUP,
            sxdp_ifindex: ifindex,
            sxdp_queue_id: queue,
            sxdp_shared_umem_fd: 0,
        };
        // SAFETY: `addr` is a sockaddr_xdp of the size given.
        check(unsafe {
            libc::bind(
                s,
                (&addr as *const libc::sockaddr_xdp).cast(),
                core::mem::size_of::<libc::sockaddr_xdp>() as libc::socklen_t,
            )
        })?;
        let mut opts: u32 = 0;
        let mut optlen = 4 as libc::socklen_t;
        // SAFETY: a u32 for XDP_OPTIONS.
        if unsafe {
            libc::getsockopt(
                s,
                libc::SOL_XDP,
                libc::XDP_OPTIONS,
                (&mut opts as *mut u32).cast(),
                &mut optlen,
            )
        } == 0
            && opts & libc::XDP_OPTIONS_ZEROCOPY != 0
        {
            sock.copying = Copying::ZeroCopy;
        }
        Ok(sock)
    }

    pub fn fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// The packet memory, as a handle apart from the rings (so frames
    /// may be read while the rings are written).
    pub fn umem(&self) -> Frames {
        Frames(self.umem)
    }

    /// Tells the kernel there is something to send (copy mode sends in
    /// this call).
    pub fn kick(&self) {
        // SAFETY: an empty send on our own socket.
        unsafe {
            libc::sendto(
                self.fd(),
                core::ptr::null(),
                0,
                libc::MSG_DONTWAIT,
                core::ptr::null(),
                0,
            );
        }
    }
}

/// The packet memory of a socket, valid while the socket is.
#[derive(Clone, Copy)]
pub struct Frames(*mut u8);

impl Frames {
    /// Frame at `addr`, `len` octets of it (both bounded to the frame).
    /// A frame the kernel gave us (RX) or one of ours (free) is not
    /// touched by the kernel meanwhile.
    pub fn frame(&self, addr: u64, len: usize) -> &[u8] {
        let (addr, len) = bounded(addr, len);
        // SAFETY: within the mapping (bounded), which lives as long as
        // the socket this handle came from.
        unsafe { core::slice::from_raw_parts(self.0.add(addr), len) }
    }

    /// A whole frame of ours, to write an answer into. The caller holds
    /// no other view of the same frame.
    #[allow(clippy::mut_from_ref)]
    pub fn frame_mut(&self, addr: u64) -> &mut [u8] {
        let (addr, len) = bounded(addr, FRAME);
        // SAFETY: as in `frame`; frames do not overlap.
        unsafe { core::slice::from_raw_parts_mut(self.0.add(addr), len) }
    }
}

/// The frame holding `addr`, and its offset there.
pub fn frame_base(addr: u64) -> u64 {
    addr & !(FRAME as u64 - 1)
}

fn bounded(addr: u64, len: usize) -> (usize, usize) {
    let base = (addr as usize / FRAME).min(FRAMES - 1) * FRAME;
    let off = addr as usize % FRAME;
    (base + off, len.min(FRAME - off))
}

/// The packet memory, unmapped when dropped.
struct Umem(*mut libc::c_void, usize);

impl Drop for Umem {
    fn drop(&mut self) {
        // SAFETY: the mapping made for the socket, unmapped once.
        unsafe {
            libc::munmap(self.0, self.1);
        }
    }
}

impl Drop for XskSocket {
    fn drop(&mut self) {
        // The rings unmap themselves; the memory after them, as the
        // socket (dropped after this) stops using it.
        drop(Umem(self.umem.cast(), FRAMES * FRAME));
    }
}
