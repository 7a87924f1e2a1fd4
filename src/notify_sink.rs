//! The hand-over of accepted NOTIFYs from the query workers to the
//! transfer thread: a bounded channel and the waker of the transfer
//! thread's poll loop. Its own module, so that neither `server` nor `xfr`
//! reaches into the other.

use std::sync::Arc;
use std::time::Instant;

use mio::Waker;

use crate::answer::NotifyEvent;

/// Where workers hand accepted NOTIFYs: the transfer thread's channel,
/// and the waker of its poll loop.
#[derive(Clone)]
pub struct NotifySink {
    pub sender: crossbeam_channel::Sender<(NotifyEvent, Instant)>,
    pub waker: Arc<Waker>,
}

impl NotifySink {
    /// Hands the event over without blocking; when the channel is full
    /// the NOTIFY is dropped, which rate-limits floods (the primary sends
    /// it again, and SOA refresh still runs).
    pub fn send(&self, event: NotifyEvent) {
        if self.sender.try_send((event, Instant::now())).is_ok() {
            let _ = self.waker.wake();
        }
    }
}
