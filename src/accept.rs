//! The accept loop of the operators' listeners (the control socket, the
//! metrics listener): a thread that takes connections and gives each its
//! own short-lived thread, a few at once; more are closed at once. A slow
//! or stuck client holds nobody else, and nothing here is on the query
//! path.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

/// Serves the connections `accept` yields (non-blocking: `WouldBlock`
/// when none waits) with `handle`, at most `max_clients` at once, until
/// `stop`. `name` labels the threads and log lines.
pub fn serve<C: Send + 'static>(
    name: &'static str,
    max_clients: usize,
    stop: &AtomicBool,
    mut accept: impl FnMut() -> io::Result<C>,
    handle: impl Fn(C) + Send + Sync + 'static,
) {
    let handle = Arc::new(handle);
    let clients = Arc::new(AtomicUsize::new(0));
    while !stop.load(Ordering::Relaxed) {
        match accept() {
            Ok(conn) => {
                if clients.fetch_add(1, Ordering::AcqRel) >= max_clients {
                    clients.fetch_sub(1, Ordering::AcqRel);
                    continue;
                }
                let (handle, clients) = (Arc::clone(&handle), Arc::clone(&clients));
                let spawned = std::thread::Builder::new()
                    .name(format!("{name}-client"))
                    .spawn(move || {
                        handle(conn);
                        clients.fetch_sub(1, Ordering::AcqRel);
                    });
                if spawned.is_err() {
                    tracing::warn!("{name}: cannot start a thread for a client");
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => {
                tracing::warn!("{name}: accept failed: {e}");
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    }
}
