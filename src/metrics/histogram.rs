//! A histogram of durations with fixed buckets, written by one thread.

use super::counter::Counter;

/// Upper bounds of the buckets, in seconds: from a NOTIFY answered within
/// milliseconds to a transfer of minutes.
pub const BOUNDS_S: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0,
];

#[derive(Debug, Default)]
pub struct Histogram {
    /// Observations at most each bound (not cumulative; a scrape adds
    /// them up), and a last one for the rest.
    buckets: [Counter; BOUNDS_S.len() + 1],
    sum_us: Counter,
    count: Counter,
}

impl Histogram {
    /// Records one duration. Only the histogram's own thread may call
    /// this.
    pub fn observe_ms(&self, ms: u64) {
        let s = ms as f64 / 1000.0;
        let i = BOUNDS_S
            .iter()
            .position(|&b| s <= b)
            .unwrap_or(BOUNDS_S.len());
        self.buckets[i].bump();
        self.sum_us.add(ms.saturating_mul(1000));
        self.count.bump();
    }

    /// Cumulative counts per bound (the last for `+Inf`), the sum in
    /// seconds, and the count, as the text format wants them.
    pub fn read(&self) -> ([u64; BOUNDS_S.len() + 1], f64, u64) {
        let mut out = [0; BOUNDS_S.len() + 1];
        let mut run = 0u64;
        for (o, b) in out.iter_mut().zip(&self.buckets) {
            run = run.wrapping_add(b.get());
            *o = run;
        }
        (out, self.sum_us.get() as f64 / 1e6, self.count.get())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_cumulative_and_the_rest_is_inf() {
        let h = Histogram::default();
        h.observe_ms(3);
        h.observe_ms(10);
        h.observe_ms(400_000);
        let (b, sum, count) = h.read();
        assert_eq!(b[0], 1, "3 ms <= 5 ms");
        assert_eq!(b[1], 2, "10 ms <= 10 ms");
        assert_eq!(b[BOUNDS_S.len() - 1], 2, "400 s is above every bound");
        assert_eq!(b[BOUNDS_S.len()], 3);
        assert_eq!(count, 3);
        assert!((sum - 400.013).abs() < 1e-9);
    }
}
