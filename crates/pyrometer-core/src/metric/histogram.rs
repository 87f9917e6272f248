//! Histogram: observations counted in buckets, with their sum.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use super::atomic_f64::AtomicF64;
use super::buckets::Buckets;
use super::kind::{Metric, SeriesContext};
use super::metadata::FamilyMeta;
use super::mirror::{Mirror, SeriesMirror, SeriesShape};
use crate::error::Error;
use crate::metric_type::MetricType;
use crate::snapshot::exemplar::Exemplar;
use crate::snapshot::labels::Label;
use crate::snapshot::sample::Sample;
use crate::snapshot::timestamp::now_seconds;

/// A classic histogram. Cloning gives another handle to the same series.
///
/// Each bucket holds the observations that fell into it alone; a scrape makes them cumulative and
/// takes `_count` from the last one, so `_count` always equals the `+Inf` bucket, however the
/// scrape interleaves with observations.
///
/// ```
/// use pyrometer_core::{Buckets, Histogram};
/// let h = Histogram::new(&Buckets::new([0.1, 1.0]).unwrap());
/// h.observe(0.5);
/// h.observe(7.0);
/// assert_eq!(h.count(), 2);
/// assert_eq!(h.sum(), 7.5);
/// ```
#[derive(Clone, Debug)]
#[must_use = "histograms do nothing unless you use them"]
pub struct Histogram(Arc<HistogramCell>);

#[derive(Debug)]
struct HistogramCell {
    buckets: Buckets,
    counts: Box<[AtomicU64]>,
    sum: AtomicF64,
    created: AtomicF64,
    exemplars: Box<[Mutex<Option<Arc<Exemplar>>>]>,
    mirror: Mirror,
}

impl Histogram {
    /// A histogram with the given buckets.
    pub fn new(buckets: &Buckets) -> Self {
        Self::mirrored(buckets, None)
    }

    fn mirrored(buckets: &Buckets, mirror: Mirror) -> Self {
        let n = buckets.bounds().len();
        Self(Arc::new(HistogramCell {
            buckets: buckets.clone(),
            counts: (0..n).map(|_| AtomicU64::new(0)).collect(),
            sum: AtomicF64::new(0.0),
            created: AtomicF64::new(now_seconds()),
            exemplars: (0..n).map(|_| Mutex::new(None)).collect(),
            mirror,
        }))
    }

    #[inline]
    fn bucket_of(&self, value: f64) -> Option<usize> {
        self.0.buckets.bucket_of(value)
    }

    /// Records one observation.
    #[inline]
    pub fn observe(&self, value: f64) {
        if let Some(i) = self.bucket_of(value) {
            // Relaxed: buckets are independent totals; see the type docs for consistency.
            self.0.counts[i].fetch_add(1, Ordering::Relaxed);
        }
        self.0.sum.add(value);
        if let Some(mirror) = &self.0.mirror {
            mirror.observe(value);
        }
    }

    /// Records one observation and keeps `exemplar` on its bucket.
    pub fn observe_with_exemplar(&self, value: f64, exemplar: Exemplar) {
        self.observe(value);
        if let Some(mirror) = &self.0.mirror {
            mirror.exemplar(value, &exemplar);
        }
        if let Some(i) = self.bucket_of(value) {
            *self.0.exemplars[i].lock().unwrap_or_else(PoisonError::into_inner) = Some(Arc::new(exemplar));
        }
    }

    /// Number of observations (NaN excluded).
    #[must_use]
    pub fn count(&self) -> u64 {
        self.0.counts.iter().map(|c| c.load(Ordering::Relaxed)).sum()
    }

    /// Sum of observations.
    #[must_use]
    pub fn sum(&self) -> f64 {
        self.0.sum.get()
    }

    /// Cumulative counts per bucket, in bound order.
    #[must_use]
    pub fn cumulative_counts(&self) -> Vec<u64> {
        let mut acc = 0;
        self.0
            .counts
            .iter()
            .map(|c| {
                acc += c.load(Ordering::Relaxed);
                acc
            })
            .collect()
    }

    /// The bucket layout.
    #[must_use]
    pub fn buckets(&self) -> &Buckets {
        &self.0.buckets
    }

    /// When this series was created, in seconds since the epoch.
    #[must_use]
    pub fn created(&self) -> f64 {
        self.0.created.get()
    }
}

impl Metric for Histogram {
    const TYPE: MetricType = MetricType::Histogram;
    const RESERVED_LABELS: &'static [&'static str] = &["le"];
    type Options = Buckets;

    fn build(buckets: &Buckets, _meta: &Arc<FamilyMeta>, mirror: Option<Arc<dyn SeriesMirror>>) -> Self {
        Self::mirrored(buckets, mirror)
    }

    fn shape(buckets: &Buckets) -> Option<SeriesShape<'_>> {
        Some(SeriesShape::Histogram { bounds: buckets.bounds() })
    }

    fn mirror(&self) -> Option<&Arc<dyn SeriesMirror>> {
        self.0.mirror.as_ref()
    }

    fn collect_samples(&self, series: &SeriesContext<'_>, out: &mut Vec<Sample>) -> Result<(), Error> {
        let cell = &*self.0;
        let le = cell.buckets.le_labels();
        let le_name: Arc<str> = Arc::from("le");
        let mut acc = 0u64;
        for (i, count) in cell.counts.iter().enumerate() {
            acc += count.load(Ordering::Relaxed);
            let mut sample = Sample::new("_bucket", series.labels.clone(), acc as f64);
            sample.extra_label = Some(Label { name: le_name.clone(), value: le[i].clone() });
            sample.exemplar.clone_from(&cell.exemplars[i].lock().unwrap_or_else(PoisonError::into_inner));
            out.push(sample);
        }
        out.push(Sample::new("_count", series.labels.clone(), acc as f64));
        // As in prometheus_client: a sum is meaningless for a counter reset check when
        // observations may be negative, so it is left out.
        if cell.buckets.bounds()[0] >= 0.0 {
            out.push(Sample::new("_sum", series.labels.clone(), cell.sum.get()));
        }
        if series.created {
            out.push(Sample::new("_created", series.labels.clone(), cell.created.get()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hist() -> Histogram {
        Histogram::new(&Buckets::new([1.0, 2.0]).unwrap())
    }

    #[test]
    fn observations_land_in_the_first_bucket_that_holds_them() {
        let h = hist();
        for v in [0.5, 1.0, 1.5, 2.0, 3.0] {
            h.observe(v);
        }
        assert_eq!(h.cumulative_counts(), [2, 4, 5]);
        assert_eq!(h.sum(), 8.0);
    }

    proptest::proptest! {
        /// Counting the bounds below a value (up to `Buckets::LINEAR_SEARCH_BOUNDS` bounds) and the
        /// binary search (beyond) agree with the definition: the first bound at least the value.
        #[test]
        fn both_searches_find_the_first_bound_at_least_the_value(
            mut bounds in proptest::collection::vec(-1e6f64..1e6, 1..80),
            picks in proptest::collection::vec(0usize..100, 1..40),
            extra in proptest::collection::vec(proptest::num::f64::ANY, 0..20),
        ) {
            bounds.sort_by(f64::total_cmp);
            bounds.dedup();
            let h = Histogram::new(&Buckets::new(bounds.clone()).unwrap());
            let all = h.buckets().bounds().to_vec();
            // Values on the bounds themselves, beside them, and anything at all.
            let on_bounds = picks.iter().map(|p| all[p % all.len()]);
            let values: Vec<f64> = on_bounds.clone().chain(on_bounds.map(|b| b + 0.5)).chain(extra).collect();
            for v in values {
                let expected = if v.is_nan() { None } else { all.iter().position(|b| v <= *b) };
                proptest::prop_assert_eq!(h.bucket_of(v), expected, "value {} bounds {:?}", v, all);
            }
        }
    }

    #[test]
    fn nan_joins_the_sum_but_no_bucket() {
        let h = hist();
        h.observe(f64::NAN);
        assert_eq!(h.count(), 0);
        assert!(h.sum().is_nan());
    }

    #[test]
    fn inf_bucket_equals_count_under_concurrent_observation() {
        let h = hist();
        let writer = {
            let h = h.clone();
            std::thread::spawn(move || (0..50_000).for_each(|i| h.observe(f64::from(i % 3))))
        };
        for _ in 0..200 {
            let cumulative = h.cumulative_counts();
            assert!(cumulative.windows(2).all(|w| w[0] <= w[1]));
        }
        writer.join().unwrap();
        assert_eq!(h.count(), 50_000);
    }
}
