//! Memory handed back to the system. Building a snapshot leaves many small
//! temporaries freed between long-lived blocks, and a replaced version
//! leaves its blocks free: glibc keeps both unless asked, and a node's RSS
//! (what operators and the OOM killer see) then stays at its peak.

/// Returns the allocator's free pages to the system: glibc's `malloc_trim`
/// gives back those inside the heap too, not only at its top.
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks the allocator's own free lists; it
    // takes no pointer from us and may be called from any thread.
    unsafe {
        libc::malloc_trim(0);
    }
}
