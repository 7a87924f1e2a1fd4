//! The four AF_XDP rings, as the kernel maps them: single-producer,
//! single-consumer arrays of a power-of-two size, with the producer and
//! consumer indexes shared with the kernel. One side only writes its own
//! index (release) and reads the other's (acquire); each side keeps a
//! cached copy of the other's index, so a batch touches the shared
//! cache lines once.

use std::io;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicU32, Ordering};

/// One mapping of a ring.
pub struct Ring<T> {
    producer: *const AtomicU32,
    consumer: *const AtomicU32,
    flags: *const AtomicU32,
    entries: *mut T,
    mask: u32,
    /// Our copy of our own index, and of the kernel's as last read.
    head: u32,
    other: u32,
    map: *mut libc::c_void,
    map_len: usize,
}

// SAFETY: the ring is used by the one worker thread that owns it; the
// pointers are into a mapping that lives as long as the ring.
unsafe impl<T: Send> Send for Ring<T> {}

impl<T: Copy> Ring<T> {
    /// Maps the ring of `size` entries at page offset `pgoff` of socket
    /// `fd`, laid out as `off` says.
    pub fn map(fd: RawFd, off: &libc::xdp_ring_offset, size: u32, pgoff: u64) -> io::Result<Self> {
        let map_len = off.desc as usize + size as usize * core::mem::size_of::<T>();
        // SAFETY: a shared mapping of the socket's ring, as the kernel
        // documents (Documentation/networking/af_xdp.rst); checked below.
        let map = unsafe {
            libc::mmap(
                core::ptr::null_mut(),
                map_len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_POPULATE,
                fd,
                pgoff as libc::off_t,
            )
        };
        if map == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let at = |o: u64| map.cast::<u8>().wrapping_add(o as usize);
        Ok(Ring {
            producer: at(off.producer).cast(),
            consumer: at(off.consumer).cast(),
            flags: at(off.flags).cast(),
            entries: at(off.desc).cast(),
            mask: size - 1,
            head: 0,
            other: 0,
            map,
            map_len,
        })
    }

    fn load(p: *const AtomicU32, o: Ordering) -> u32 {
        // SAFETY: the index lives in the mapping for the ring's life.
        unsafe { (*p).load(o) }
    }

    /// The kernel asks to be woken (`XDP_RING_NEED_WAKEUP`).
    pub fn needs_wakeup(&self) -> bool {
        Self::load(self.flags, Ordering::Relaxed) & libc::XDP_RING_NEED_WAKEUP != 0
    }

    // --- As producer (fill, TX).

    /// Room for entries we may produce now.
    pub fn room(&mut self) -> u32 {
        let size = self.mask + 1;
        let free = size - self.head.wrapping_sub(self.other);
        if free > 0 {
            return free;
        }
        self.other = Self::load(self.consumer, Ordering::Acquire);
        size - self.head.wrapping_sub(self.other)
    }

    /// Entries produced that the kernel has not taken yet.
    pub fn pending(&mut self) -> u32 {
        self.other = Self::load(self.consumer, Ordering::Acquire);
        self.head.wrapping_sub(self.other)
    }

    /// Writes entry `i` past the head (below [`Ring::room`]).
    pub fn write(&mut self, i: u32, v: T) {
        let at = (self.head.wrapping_add(i) & self.mask) as usize;
        // SAFETY: `at` is within the ring's `mask + 1` entries.
        unsafe { self.entries.add(at).write(v) }
    }

    /// Hands `n` written entries to the kernel.
    pub fn submit(&mut self, n: u32) {
        if n == 0 {
            return;
        }
        self.head = self.head.wrapping_add(n);
        // SAFETY: as in `load`; the entries were written before.
        unsafe { (*self.producer.cast_mut()).store(self.head, Ordering::Release) }
    }

    // --- As consumer (RX, completion).

    /// Entries waiting for us, up to `max`.
    pub fn ready(&mut self, max: u32) -> u32 {
        let mut n = self.other.wrapping_sub(self.head);
        if n == 0 {
            self.other = Self::load(self.producer, Ordering::Acquire);
            n = self.other.wrapping_sub(self.head);
        }
        n.min(max)
    }

    /// Entry `i` past the head (below [`Ring::ready`]).
    pub fn read(&self, i: u32) -> T {
        let at = (self.head.wrapping_add(i) & self.mask) as usize;
        // SAFETY: `at` is within the ring; the kernel wrote the entry
        // before moving its producer index past it.
        unsafe { self.entries.add(at).read() }
    }

    /// Gives `n` read entries back to the kernel.
    pub fn release(&mut self, n: u32) {
        if n == 0 {
            return;
        }
        self.head = self.head.wrapping_add(n);
        // SAFETY: as in `submit`.
        unsafe { (*self.consumer.cast_mut()).store(self.head, Ordering::Release) }
    }
}

impl<T> Drop for Ring<T> {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `map`, unmapped once.
        unsafe {
            libc::munmap(self.map, self.map_len);
        }
    }
}
