//! Summary: a count and a sum of observations.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::atomic_f64::AtomicF64;
use super::kind::{Metric, SeriesContext};
use super::metadata::FamilyMeta;
use crate::error::Error;
use crate::snapshot::metric_type::MetricType;
use crate::snapshot::sample::Sample;
use crate::snapshot::timestamp::now_seconds;

/// A summary without quantiles, as `prometheus_client` has it: `_count` and `_sum`.
///
/// ```
/// use pyrometer_core::Summary;
/// let s = Summary::default();
/// s.observe(2.0);
/// s.observe(3.0);
/// assert_eq!((s.count(), s.sum()), (2, 5.0));
/// ```
#[derive(Clone, Debug, Default)]
#[must_use = "summaries do nothing unless you use them"]
pub struct Summary(Arc<SummaryCell>);

#[derive(Debug)]
struct SummaryCell {
    count: AtomicU64,
    sum: AtomicF64,
    created: AtomicF64,
}

impl Default for SummaryCell {
    fn default() -> Self {
        Self { count: AtomicU64::new(0), sum: AtomicF64::new(0.0), created: AtomicF64::new(now_seconds()) }
    }
}

impl Summary {
    /// Records one observation.
    #[inline]
    pub fn observe(&self, value: f64) {
        // Relaxed: count and sum are independent totals; a scrape may see one update ahead.
        self.0.count.fetch_add(1, Ordering::Relaxed);
        self.0.sum.add(value);
    }

    /// Number of observations.
    #[must_use]
    pub fn count(&self) -> u64 {
        self.0.count.load(Ordering::Relaxed)
    }

    /// Sum of observations.
    #[must_use]
    pub fn sum(&self) -> f64 {
        self.0.sum.get()
    }

    /// When this series was created, in seconds since the epoch.
    #[must_use]
    pub fn created(&self) -> f64 {
        self.0.created.get()
    }
}

impl Metric for Summary {
    const TYPE: MetricType = MetricType::Summary;
    const RESERVED_LABELS: &'static [&'static str] = &["quantile"];
    type Options = ();

    fn build((): &(), _meta: &Arc<FamilyMeta>) -> Self {
        Self::default()
    }

    fn collect_samples(&self, series: &SeriesContext<'_>, out: &mut Vec<Sample>) -> Result<(), Error> {
        out.push(Sample::new("_count", series.labels.clone(), self.count() as f64));
        out.push(Sample::new("_sum", series.labels.clone(), self.sum()));
        if series.created {
            out.push(Sample::new("_created", series.labels.clone(), self.created()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_counts_and_sums() {
        let s = Summary::default();
        s.observe(1.5);
        s.observe(-0.5);
        assert_eq!(s.count(), 2);
        assert_eq!(s.sum(), 1.0);
    }
}
