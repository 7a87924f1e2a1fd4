//! SIGINT and SIGTERM: blocked in every thread and taken synchronously by
//! the main thread, which then stops the workers cleanly.

use std::io;

pub struct TerminationSignals {
    set: libc::sigset_t,
}

impl TerminationSignals {
    /// Blocks SIGINT, SIGTERM and SIGHUP in the calling thread; threads
    /// started afterwards inherit the mask. Call before starting threads.
    pub fn block() -> io::Result<Self> {
        // SAFETY: sigset_t is plain data, initialised by sigemptyset before
        // any use; the calls only read and write that set and the mask.
        unsafe {
            let mut set: libc::sigset_t = core::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGINT);
            libc::sigaddset(&mut set, libc::SIGTERM);
            libc::sigaddset(&mut set, libc::SIGHUP);
            let r = libc::pthread_sigmask(libc::SIG_BLOCK, &set, core::ptr::null_mut());
            if r != 0 {
                return Err(io::Error::from_raw_os_error(r));
            }
            Ok(TerminationSignals { set })
        }
    }

    /// Waits for one of the signals and returns its number.
    pub fn wait(&self) -> i32 {
        let mut sig: libc::c_int = 0;
        loop {
            // SAFETY: `self.set` is an initialised set; `sig` is writable.
            let r = unsafe { libc::sigwait(&self.set, &mut sig) };
            if r == 0 {
                return sig;
            }
        }
    }
}
