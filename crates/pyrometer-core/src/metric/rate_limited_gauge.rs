//! Rate-limited gauge: a gauge whose writes reach push destinations (`StatsD`, OTLP) at most once
//! per interval, and whose latest value is never lost.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::gauge::Gauge;
use super::kind::{Metric, SeriesContext};
use super::metadata::FamilyMeta;
use super::mirror::SeriesMirror;
use crate::error::Error;
use crate::metric_type::MetricType;
use crate::snapshot::sample::Sample;

/// A gauge for values written far more often than anyone needs them sent.
///
/// A write stores the value where a scrape reads it (a relaxed store, and a flag) and reads no
/// clock: the hot path costs what a plain gauge's does. What is limited is what leaves the
/// process: a push destination asks [`RateLimitedGauge::take_due`] on its own schedule and gets
/// the value at most once per `min_interval`, and only if it changed; at shutdown
/// [`RateLimitedGauge::take_pending`] hands over the last value regardless, so it is never lost.
///
/// ```
/// use std::time::{Duration, Instant};
/// use pyrometer_core::RateLimitedGauge;
/// let g = RateLimitedGauge::new(Duration::from_millis(100));
/// let start = Instant::now();
/// g.set(1.0);
/// assert_eq!(g.take_due(start), Some(1.0));
/// g.set(2.0);
/// g.set(3.0);
/// assert_eq!(g.take_due(start + Duration::from_millis(50)), None, "too soon");
/// assert_eq!(g.take_due(start + Duration::from_millis(100)), Some(3.0));
/// assert_eq!(g.take_due(start + Duration::from_millis(300)), None, "nothing new");
/// ```
#[derive(Clone, Debug)]
#[must_use = "gauges do nothing unless you use them"]
pub struct RateLimitedGauge {
    gauge: Gauge,
    state: Arc<Limit>,
}

#[derive(Debug)]
struct Limit {
    min_interval: Duration,
    /// Written since the value was last taken.
    dirty: AtomicBool,
    last_taken: Mutex<Option<Instant>>,
}

impl RateLimitedGauge {
    /// A gauge whose value is taken at most once per `min_interval`.
    pub fn new(min_interval: Duration) -> Self {
        let state = Limit { min_interval, dirty: AtomicBool::new(false), last_taken: Mutex::new(None) };
        Self { gauge: Gauge::default(), state: Arc::new(state) }
    }

    /// Sets the value.
    #[inline]
    pub fn set(&self, value: f64) {
        self.gauge.set(value);
        self.mark();
    }

    /// Adds `amount` (which may be negative).
    #[inline]
    pub fn inc(&self, amount: f64) {
        self.gauge.inc(amount);
        self.mark();
    }

    /// Subtracts `amount`.
    #[inline]
    pub fn dec(&self, amount: f64) {
        self.inc(-amount);
    }

    /// The latest value.
    #[must_use]
    pub fn get(&self) -> f64 {
        self.gauge.get()
    }

    /// The interval between two values taken.
    #[must_use]
    pub fn min_interval(&self) -> Duration {
        self.state.min_interval
    }

    #[inline]
    fn mark(&self) {
        // Release pairs with the Acquire in `take`: a taker that sees the flag sees the value.
        // The load first keeps a gauge written in a loop from writing the flag's line each time.
        if !self.state.dirty.load(Ordering::Relaxed) {
            self.state.dirty.store(true, Ordering::Release);
        }
    }

    /// The latest value if it changed since last taken and `min_interval` has passed since then.
    #[must_use]
    pub fn take_due(&self, now: Instant) -> Option<f64> {
        self.take(Some(now))
    }

    /// The latest value if it changed since last taken, whatever the interval: for a final flush.
    #[must_use]
    pub fn take_pending(&self) -> Option<f64> {
        self.take(None)
    }

    fn take(&self, now: Option<Instant>) -> Option<f64> {
        if !self.state.dirty.load(Ordering::Acquire) {
            return None;
        }
        let mut last = self.state.last_taken.lock().unwrap_or_else(PoisonError::into_inner);
        if let (Some(now), Some(last)) = (now, *last)
            && now.saturating_duration_since(last) < self.state.min_interval
        {
            return None;
        }
        // Cleared before the value is read: a write after this marks it again.
        self.state.dirty.store(false, Ordering::Relaxed);
        *last = Some(now.unwrap_or_else(Instant::now));
        Some(self.gauge.get())
    }
}

impl Metric for RateLimitedGauge {
    const TYPE: MetricType = MetricType::Gauge;
    type Options = Duration;

    fn build(min_interval: &Duration, _meta: &Arc<FamilyMeta>, _mirror: Option<Arc<dyn SeriesMirror>>) -> Self {
        // A push gauge: its value leaves the process through its push destinations, not a store.
        Self::new(*min_interval)
    }

    fn collect_samples(&self, series: &SeriesContext<'_>, out: &mut Vec<Sample>) -> Result<(), Error> {
        // A scrape reads the latest value; it takes nothing from push destinations.
        out.push(Sample::new("", series.labels.clone(), self.gauge.get()));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_of_writes_is_taken_once_per_interval_and_the_last_is_kept() {
        let g = RateLimitedGauge::new(Duration::from_millis(10));
        let start = Instant::now();
        let mut taken = Vec::new();
        // 1,000 writes over 100 simulated ms, the destination asking every ms.
        for ms in 0..100u64 {
            for i in 0..10 {
                g.set((ms * 10 + i) as f64);
            }
            taken.extend(g.take_due(start + Duration::from_millis(ms)));
        }
        assert_eq!(taken.len(), 10, "{taken:?}");
        assert_eq!(taken[1], 109.0, "each take is the latest value at that time");
        assert_eq!(g.take_due(start + Duration::from_millis(100)), Some(999.0));
        g.set(5.0);
        assert_eq!(g.take_due(start + Duration::from_millis(101)), None);
        assert_eq!(g.take_pending(), Some(5.0), "a final flush ignores the interval");
        assert_eq!(g.take_pending(), None);
        assert_eq!(g.get(), 5.0);
    }

    #[test]
    fn inc_and_dec_mark_the_value_changed() {
        let g = RateLimitedGauge::new(Duration::ZERO);
        g.inc(2.0);
        assert_eq!(g.take_pending(), Some(2.0));
        g.dec(0.5);
        assert_eq!(g.take_due(Instant::now()), Some(1.5));
    }
}
