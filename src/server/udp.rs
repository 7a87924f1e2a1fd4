//! Batched UDP I/O: `recvmmsg` takes up to a batch of queries in one
//! system call and `sendmmsg` sends their answers in one more. The buffers
//! are allocated once per worker.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::RawFd;

/// Packets taken per system call.
pub const BATCH: usize = 32;
/// Largest query read; longer datagrams are cut and then dropped.
pub const MAX_QUERY: usize = 4096;

/// Fixed buffers for one batch of queries and their answers.
pub struct UdpBatch {
    queries: Box<[u8]>,
    query_lens: [usize; BATCH],
    answers: Box<[u8]>,
    answer_lens: [usize; BATCH],
    answer_size: usize,
    addrs: [libc::sockaddr_storage; BATCH],
    addr_lens: [libc::socklen_t; BATCH],
    truncated: [bool; BATCH],
    iovecs: [libc::iovec; BATCH],
    hdrs: [libc::mmsghdr; BATCH],
    received: usize,
}

impl UdpBatch {
    /// `answer_size` is the largest answer (the configured UDP payload).
    pub fn new(answer_size: usize) -> Box<Self> {
        // SAFETY: all-zero is a valid value for these C structs.
        let zeroed_addrs = unsafe { core::mem::zeroed::<[libc::sockaddr_storage; BATCH]>() };
        let zeroed_hdrs = unsafe { core::mem::zeroed::<[libc::mmsghdr; BATCH]>() };
        Box::new(UdpBatch {
            queries: vec![0u8; BATCH * MAX_QUERY].into_boxed_slice(),
            query_lens: [0; BATCH],
            answers: vec![0u8; BATCH * answer_size].into_boxed_slice(),
            answer_lens: [0; BATCH],
            answer_size,
            addrs: zeroed_addrs,
            addr_lens: [0; BATCH],
            truncated: [false; BATCH],
            iovecs: [libc::iovec {
                iov_base: core::ptr::null_mut(),
                iov_len: 0,
            }; BATCH],
            hdrs: zeroed_hdrs,
            received: 0,
        })
    }

    /// Receives up to a batch from the non-blocking socket `fd`; returns
    /// how many arrived (0 when none is waiting).
    pub fn recv(&mut self, fd: RawFd) -> io::Result<usize> {
        for i in 0..BATCH {
            self.iovecs[i] = libc::iovec {
                iov_base: self.queries[i * MAX_QUERY..].as_mut_ptr().cast(),
                iov_len: MAX_QUERY,
            };
            let h = &mut self.hdrs[i].msg_hdr;
            h.msg_name = (&mut self.addrs[i] as *mut libc::sockaddr_storage).cast();
            h.msg_namelen = core::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            h.msg_iov = &mut self.iovecs[i];
            h.msg_iovlen = 1;
            h.msg_control = core::ptr::null_mut();
            h.msg_controllen = 0;
            h.msg_flags = 0;
            self.hdrs[i].msg_len = 0;
        }
        // SAFETY: every header points at buffers owned by `self` that live
        // across the call and are as long as the header says.
        let n = unsafe {
            libc::recvmmsg(
                fd,
                self.hdrs.as_mut_ptr(),
                BATCH as libc::c_uint,
                libc::MSG_DONTWAIT,
                core::ptr::null_mut(),
            )
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            self.received = 0;
            return match e.kind() {
                io::ErrorKind::WouldBlock => Ok(0),
                _ => Err(e),
            };
        }
        let n = n as usize;
        for i in 0..n {
            self.query_lens[i] = self.hdrs[i].msg_len as usize;
            self.addr_lens[i] = self.hdrs[i].msg_hdr.msg_namelen;
            self.truncated[i] = self.hdrs[i].msg_hdr.msg_flags & libc::MSG_TRUNC != 0;
            self.answer_lens[i] = 0;
        }
        self.received = n;
        Ok(n)
    }

    /// Query `i`, its sender, and the buffer for its answer. `None` for a
    /// datagram longer than [`MAX_QUERY`] (dropped).
    pub fn slot(&mut self, i: usize) -> Option<(&[u8], IpAddr, &mut [u8])> {
        let span = self.query_span(i)?;
        let ip = sockaddr_ip(&self.addrs[i])?;
        let a = &mut self.answers[i * self.answer_size..(i + 1) * self.answer_size];
        Some((&self.queries[span], ip, a))
    }

    /// Query `i` alone, when it is one to answer.
    pub fn query(&self, i: usize) -> Option<&[u8]> {
        Some(&self.queries[self.query_span(i)?])
    }

    /// Where query `i` lies in `queries`; `None` past the batch or for a
    /// datagram cut at [`MAX_QUERY`].
    fn query_span(&self, i: usize) -> Option<core::ops::Range<usize>> {
        if i >= self.received || self.truncated[i] {
            return None;
        }
        Some(i * MAX_QUERY..i * MAX_QUERY + self.query_lens[i])
    }

    /// Where datagram `i` came from, even when it was too long to answer.
    pub fn source(&self, i: usize) -> Option<IpAddr> {
        if i >= self.received {
            return None;
        }
        sockaddr_ip(&self.addrs[i])
    }

    /// Marks answer `i` as `len` octets long (0: send nothing).
    pub fn set_answer(&mut self, i: usize, len: usize) {
        self.answer_lens[i] = len.min(self.answer_size);
    }

    /// Sends the answers of this batch; returns how many there were and
    /// how many the socket refused. Those are dropped: UDP may lose them
    /// anyway and the client retries.
    pub fn send(&mut self, fd: RawFd) -> io::Result<(usize, usize)> {
        let mut count = 0;
        for i in 0..self.received {
            if self.answer_lens[i] == 0 {
                continue;
            }
            self.iovecs[count] = libc::iovec {
                iov_base: self.answers[i * self.answer_size..].as_mut_ptr().cast(),
                iov_len: self.answer_lens[i],
            };
            let h = &mut self.hdrs[count].msg_hdr;
            h.msg_name = (&mut self.addrs[i] as *mut libc::sockaddr_storage).cast();
            h.msg_namelen = self.addr_lens[i];
            h.msg_iov = &mut self.iovecs[count];
            h.msg_iovlen = 1;
            h.msg_control = core::ptr::null_mut();
            h.msg_controllen = 0;
            h.msg_flags = 0;
            count += 1;
        }
        let mut sent = 0;
        let mut failed = 0;
        while sent < count {
            // SAFETY: headers 0..count point at live buffers of `self`.
            let n = unsafe {
                libc::sendmmsg(
                    fd,
                    self.hdrs[sent..].as_mut_ptr(),
                    (count - sent) as libc::c_uint,
                    libc::MSG_DONTWAIT,
                )
            };
            if n <= 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                // A full socket buffer or an unreachable peer: skip the
                // datagram that failed and go on with the rest.
                sent += 1;
                failed += 1;
                continue;
            }
            sent += n as usize;
        }
        Ok((count, failed))
    }
}

/// The IP address in a socket address from the kernel.
fn sockaddr_ip(sa: &libc::sockaddr_storage) -> Option<IpAddr> {
    match sa.ss_family as libc::c_int {
        libc::AF_INET => {
            // SAFETY: the family says this is a sockaddr_in, which fits in
            // sockaddr_storage.
            let a = unsafe { &*(sa as *const libc::sockaddr_storage).cast::<libc::sockaddr_in>() };
            Some(IpAddr::V4(Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr))))
        }
        libc::AF_INET6 => {
            // SAFETY: as above, for sockaddr_in6.
            let a = unsafe { &*(sa as *const libc::sockaddr_storage).cast::<libc::sockaddr_in6>() };
            Some(IpAddr::V6(Ipv6Addr::from(a.sin6_addr.s6_addr)))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    #[test]
    fn receives_and_answers_a_batch() {
        let server = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        server.set_nonblocking(true).unwrap();
        let client = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        client
            .set_read_timeout(Some(std::time::Duration::from_secs(2)))
            .unwrap();
        for i in 0..5u8 {
            client
                .send_to(&[i; 3], server.local_addr().unwrap())
                .unwrap();
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
        let mut b = UdpBatch::new(512);
        let n = b.recv(server.as_raw_fd()).unwrap();
        assert_eq!(n, 5);
        for i in 0..n {
            let (q, ip, a) = b.slot(i).unwrap();
            assert_eq!(ip, IpAddr::V4(Ipv4Addr::LOCALHOST));
            let len = q.len() + 1;
            a[..q.len()].copy_from_slice(q);
            a[q.len()] = 0xff;
            b.set_answer(i, len);
        }
        b.set_answer(2, 0);
        assert_eq!(b.send(server.as_raw_fd()).unwrap(), (4, 0));
        let mut got = Vec::new();
        for _ in 0..4 {
            let mut buf = [0u8; 16];
            let n = client.recv(&mut buf).unwrap();
            got.push(buf[..n].to_vec());
        }
        got.sort();
        assert_eq!(
            got,
            vec![
                vec![0, 0, 0, 0xff],
                vec![1, 1, 1, 0xff],
                vec![3, 3, 3, 0xff],
                vec![4, 4, 4, 0xff]
            ]
        );
        assert_eq!(b.recv(server.as_raw_fd()).unwrap(), 0);
    }
}
