//! A counter with one writer and any number of readers.

use std::sync::atomic::{AtomicU64, Ordering};

/// Bumped by one thread only (its worker, or the transfer thread), read
/// by scrapes: a plain load and store, no locked instruction, and a
/// reader sees some recent value, which is all a counter needs.
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    /// Adds one. Only the counter's own thread may call this.
    #[inline]
    pub fn bump(&self) {
        self.add(1);
    }

    /// Adds `n`. Only the counter's own thread may call this.
    #[inline]
    pub fn add(&self, n: u64) {
        let v = self.0.load(Ordering::Relaxed);
        self.0.store(v.wrapping_add(n), Ordering::Relaxed);
    }

    /// Sets the value (a gauge or a timestamp). Own thread only.
    #[inline]
    pub fn set(&self, v: u64) {
        self.0.store(v, Ordering::Relaxed);
    }

    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// The sum of one counter over several owners.
pub fn sum<'a, T: 'a>(owners: impl IntoIterator<Item = &'a T>, f: impl Fn(&T) -> &Counter) -> u64 {
    owners
        .into_iter()
        .map(|o| f(o).get())
        .fold(0, u64::wrapping_add)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_sums() {
        let a = [Counter::default(), Counter::default()];
        a[0].bump();
        a[0].add(4);
        a[1].bump();
        assert_eq!(a[0].get(), 5);
        assert_eq!(sum(&a, |c| c), 6);
        a[1].set(10);
        assert_eq!(sum(&a, |c| c), 15);
    }
}
