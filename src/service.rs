//! Running under a service manager: readiness and reload told to
//! systemd (`Type=notify`, the sd_notify datagram protocol), and the
//! privileges of root given up once port 53 is bound (`[server] user`).

use std::ffi::CString;

/// Tells systemd `state` ("READY=1", "RELOADING=1", "STOPPING=1", ...)
/// when it started us with `NOTIFY_SOCKET`; nothing otherwise. A failure
/// to tell is logged, never fatal: the server serves all the same.
pub fn notify_systemd(state: &str) {
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
        return;
    };
    if let Err(e) = send_notify(&path, state) {
        tracing::warn!("cannot tell systemd {state:?}: {e}");
    }
}

fn send_notify(path: &std::ffi::OsStr, state: &str) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::net::{SocketAddr, UnixDatagram};
    let bytes = path.as_bytes();
    let addr = match bytes.strip_prefix(b"@") {
        // An abstract socket (sd_notify(3)): "@" stands for the NUL.
        Some(name) => {
            use std::os::linux::net::SocketAddrExt;
            SocketAddr::from_abstract_name(name)?
        }
        None => SocketAddr::from_pathname(std::path::Path::new(path))?,
    };
    let s = UnixDatagram::unbound()?;
    s.send_to_addr(state.as_bytes(), &addr)?;
    Ok(())
}

/// The uid and gid of `user`.
pub fn user_ids(user: &str) -> Result<(u32, u32), String> {
    let name = CString::new(user).map_err(|_| format!("server.user: {user:?} holds a NUL"))?;
    // SAFETY: getpwnam reads the password database and returns a pointer
    // to a static record (or null); it is read at once, on this thread,
    // before any other call that could reuse it.
    unsafe {
        let pw = libc::getpwnam(name.as_ptr());
        if pw.is_null() {
            return Err(format!("server.user: no user named {user:?}"));
        }
        Ok(((*pw).pw_uid, (*pw).pw_gid))
    }
}

/// Becomes `user` (its group, no supplementary groups) for good: called
/// once every privileged socket is bound. glibc applies the change to
/// every thread of the process.
pub fn drop_privileges(user: &str) -> Result<(), String> {
    let (uid, gid) = user_ids(user)?;
    // SAFETY: plain system calls on integers; the order (groups, then
    // group, then user) is the one that leaves nothing of root behind.
    let failed = unsafe {
        // SAFETY (the same): getuid takes no argument.
        if libc::getuid() == uid {
            return Ok(());
        }
        libc::setgroups(0, std::ptr::null()) != 0
            || libc::setgid(gid) != 0
            || libc::setuid(uid) != 0
    };
    if failed {
        return Err(format!(
            "server.user: cannot become {user:?} (uid {uid}): {} (zonecast must be started as root for that)",
            std::io::Error::last_os_error()
        ));
    }
    // SAFETY: as above; checks that root cannot be taken back.
    if unsafe { libc::setuid(0) } == 0 {
        return Err(format!(
            "server.user: became {user:?} but could take root back"
        ));
    }
    Ok(())
}
