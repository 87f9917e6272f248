//! Gauge: a value that goes up and down.

use std::sync::Arc;

use super::atomic_f64::AtomicF64;
use super::kind::{Metric, SeriesContext};
use super::metadata::FamilyMeta;
use crate::snapshot::metric_type::MetricType;
use crate::snapshot::sample::Sample;
use crate::snapshot::timestamp::now_seconds;

/// A value that can be set, raised and lowered. Cloning gives another handle to the same value.
///
/// ```
/// use pyrometer_core::Gauge;
/// let g = Gauge::default();
/// g.set(10.0);
/// g.dec(2.5);
/// assert_eq!(g.get(), 7.5);
/// ```
#[derive(Clone, Debug, Default)]
#[must_use = "gauges do nothing unless you use them"]
pub struct Gauge(Arc<AtomicF64>);

impl Gauge {
    /// Sets the value.
    #[inline]
    pub fn set(&self, value: f64) {
        self.0.set(value);
    }

    /// Adds `amount` (which may be negative).
    #[inline]
    pub fn inc(&self, amount: f64) {
        self.0.add(amount);
    }

    /// Subtracts `amount`.
    #[inline]
    pub fn dec(&self, amount: f64) {
        self.0.add(-amount);
    }

    /// Sets the value to the current Unix time in seconds.
    pub fn set_to_current_time(&self) {
        self.0.set(now_seconds());
    }

    /// The current value.
    #[must_use]
    pub fn get(&self) -> f64 {
        self.0.get()
    }
}

impl Metric for Gauge {
    const TYPE: MetricType = MetricType::Gauge;
    type Options = ();

    fn build((): &(), _meta: &Arc<FamilyMeta>) -> Self {
        Self::default()
    }

    fn collect_samples(&self, series: &SeriesContext<'_>, out: &mut Vec<Sample>) {
        out.push(Sample::new("", series.labels.clone(), self.get()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gauge_goes_both_ways() {
        let g = Gauge::default();
        g.inc(3.0);
        g.dec(5.0);
        assert_eq!(g.get(), -2.0);
        g.set(f64::INFINITY);
        assert_eq!(g.get(), f64::INFINITY);
    }

    #[test]
    fn set_to_current_time_is_recent() {
        let g = Gauge::default();
        g.set_to_current_time();
        assert!(g.get() > 1.6e9);
    }
}
