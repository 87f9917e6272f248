//! Summary: a count and a sum of observations, and optionally quantiles over a sliding window.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::atomic_f64::AtomicF64;
use super::kind::{Metric, SeriesContext};
use super::metadata::FamilyMeta;
use super::mirror::{Mirror, SeriesMirror, SeriesShape};
use super::sketch::Sketch;
use crate::error::Error;
use crate::float_text::go_float;
use crate::metric_type::MetricType;
use crate::snapshot::labels::Label;
use crate::snapshot::sample::Sample;
use crate::snapshot::timestamp::now_seconds;

/// A summary: `_count` and `_sum`, as `prometheus_client` has it, and, when built with
/// [`Quantiles`], the quantiles of the observations of a sliding time window.
///
/// ```
/// use pyrometer_core::{Quantiles, Summary};
/// let s = Summary::default();
/// s.observe(2.0);
/// s.observe(3.0);
/// assert_eq!((s.count(), s.sum()), (2, 5.0));
///
/// let latency = Summary::with_quantiles(&Quantiles::new([0.5, 0.99]));
/// for ms in 1..=100 {
///     latency.observe(f64::from(ms));
/// }
/// let median = latency.quantile(0.5).unwrap();
/// assert!((median - 50.0).abs() <= 0.5 + 1e-9);
/// ```
#[derive(Clone, Debug, Default)]
#[must_use = "summaries do nothing unless you use them"]
pub struct Summary(Arc<SummaryCell>);

#[derive(Debug)]
struct SummaryCell {
    count: AtomicU64,
    sum: AtomicF64,
    created: AtomicF64,
    window: Option<(Arc<Quantiles>, Mutex<Window>)>,
    mirror: Mirror,
}

impl Default for SummaryCell {
    fn default() -> Self {
        Self {
            count: AtomicU64::new(0),
            sum: AtomicF64::new(0.0),
            created: AtomicF64::new(now_seconds()),
            window: None,
            mirror: None,
        }
    }
}

/// Which quantiles a summary reports, and over what.
#[derive(Clone, Debug, PartialEq)]
pub struct Quantiles {
    /// The quantiles to report, each in `[0, 1]`.
    pub quantiles: Vec<f64>,
    /// How far a reported quantile may be from a value the exact quantile could be, relative to
    /// it (default 0.01, 1%).
    pub relative_error: f64,
    /// How long an observation counts (default 10 minutes).
    pub max_age: Duration,
    /// In how many steps old observations leave the window (default 5): the window covers
    /// between `max_age·(1 − 1/age_buckets)` and `max_age`.
    pub age_buckets: usize,
    /// The most bins each age bucket keeps on each side of zero (default 2048), which bounds
    /// memory; beyond it, only the smallest magnitudes lose accuracy.
    pub max_bins: usize,
}

impl Quantiles {
    /// These quantiles with the default window and accuracy.
    #[must_use]
    pub fn new(quantiles: impl IntoIterator<Item = f64>) -> Self {
        Self {
            quantiles: quantiles.into_iter().collect(),
            relative_error: 0.01,
            max_age: Duration::from_secs(600),
            age_buckets: 5,
            max_bins: 2048,
        }
    }
}

/// The age buckets: every observation goes into each; the oldest, which has seen the whole
/// window, answers queries, and is emptied to become the newest every `max_age / age_buckets`.
#[derive(Debug)]
struct Window {
    buckets: Vec<Sketch>,
    oldest: usize,
    next_rotation: Instant,
    step: Duration,
}

impl Window {
    fn new(quantiles: &Quantiles) -> Self {
        let count = quantiles.age_buckets.max(1);
        let step = quantiles.max_age / u32::try_from(count).unwrap_or(u32::MAX);
        Self {
            buckets: vec![Sketch::new(quantiles.relative_error, quantiles.max_bins); count],
            oldest: 0,
            next_rotation: Instant::now() + step,
            step,
        }
    }

    fn rotate(&mut self, now: Instant) {
        let mut turns = 0;
        while now >= self.next_rotation && turns < self.buckets.len() {
            self.buckets[self.oldest].clear();
            self.oldest = (self.oldest + 1) % self.buckets.len();
            self.next_rotation += self.step;
            turns += 1;
        }
        if now >= self.next_rotation {
            // Idle for longer than the window: every bucket is empty; start the schedule afresh.
            self.next_rotation = now + self.step;
        }
    }
}

impl Summary {
    /// A summary that also reports `quantiles`.
    pub fn with_quantiles(quantiles: &Quantiles) -> Self {
        let window = Mutex::new(Window::new(quantiles));
        Self(Arc::new(SummaryCell { window: Some((Arc::new(quantiles.clone()), window)), ..SummaryCell::default() }))
    }

    /// Records one observation.
    #[inline]
    pub fn observe(&self, value: f64) {
        // Relaxed: count and sum are independent totals; a scrape may see one update ahead.
        self.0.count.fetch_add(1, Ordering::Relaxed);
        self.0.sum.add(value);
        if let Some((_, window)) = &self.0.window {
            let mut window = window.lock().unwrap_or_else(PoisonError::into_inner);
            window.rotate(Instant::now());
            for bucket in &mut window.buckets {
                bucket.observe(value);
            }
        }
        if let Some(mirror) = &self.0.mirror {
            mirror.observe(value);
        }
    }

    /// The `q`-quantile of the observations in the window, if this summary keeps quantiles and
    /// the window holds any.
    #[must_use]
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let (_, window) = self.0.window.as_ref()?;
        let mut window = window.lock().unwrap_or_else(PoisonError::into_inner);
        window.rotate(Instant::now());
        window.buckets[window.oldest].quantile(q)
    }

    /// The window's observations as one sketch, to merge with other processes' or series'.
    #[must_use]
    pub fn window_sketch(&self) -> Option<Sketch> {
        let (_, window) = self.0.window.as_ref()?;
        let mut window = window.lock().unwrap_or_else(PoisonError::into_inner);
        window.rotate(Instant::now());
        Some(window.buckets[window.oldest].clone())
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
    /// Quantiles to report, if any.
    type Options = Option<Quantiles>;

    fn validate(options: &Self::Options, _meta: &FamilyMeta) -> Result<(), Error> {
        match options {
            Some(q) if q.quantiles.iter().any(|q| !(0.0..=1.0).contains(q)) => {
                Err(Error::InvalidQuantile { reason: "quantiles must lie between 0 and 1" })
            }
            Some(q) if q.max_age.is_zero() => Err(Error::InvalidQuantile { reason: "max_age must be positive" }),
            _ => Ok(()),
        }
    }

    fn build(options: &Self::Options, _meta: &Arc<FamilyMeta>, mirror: Option<Arc<dyn SeriesMirror>>) -> Self {
        let window = options.as_ref().map(|q| (Arc::new(q.clone()), Mutex::new(Window::new(q))));
        Self(Arc::new(SummaryCell { window, mirror, ..SummaryCell::default() }))
    }

    fn shape(options: &Self::Options) -> Option<SeriesShape<'_>> {
        Some(SeriesShape::Summary { quantiles: options.as_ref() })
    }

    fn mirror(&self) -> Option<&Arc<dyn SeriesMirror>> {
        self.0.mirror.as_ref()
    }

    fn collect_samples(&self, series: &SeriesContext<'_>, out: &mut Vec<Sample>) -> Result<(), Error> {
        if let Some((quantiles, _)) = &self.0.window {
            let quantile_name: Arc<str> = Arc::from("quantile");
            for q in &quantiles.quantiles {
                // An empty window has no quantile: NaN, as client_golang reports it.
                let mut sample = Sample::new("", series.labels.clone(), self.quantile(*q).unwrap_or(f64::NAN));
                sample.extra_label = Some(Label { name: quantile_name.clone(), value: Arc::from(go_float(*q)) });
                out.push(sample);
            }
        }
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
    fn quantiles_follow_the_window() {
        let mut options = Quantiles::new([0.5]);
        options.max_age = Duration::from_millis(200);
        options.age_buckets = 2;
        let s = Summary::with_quantiles(&options);
        for v in 1..=99 {
            s.observe(f64::from(v));
        }
        assert!((s.quantile(0.5).unwrap() - 50.0).abs() <= 0.5 + 1e-9);
        std::thread::sleep(Duration::from_millis(450));
        assert_eq!(s.quantile(0.5), None, "the window has moved past every observation");
        s.observe(7.0);
        assert!((s.quantile(0.5).unwrap() - 7.0).abs() <= 0.07 + 1e-9);
        assert_eq!(s.count(), 100, "count and sum are totals, not windowed");
    }

    #[test]
    fn quantile_samples_come_first_with_their_label() {
        let family = crate::Family::<Summary>::with_options(
            crate::Metadata::new("latency", "L."),
            Some(Quantiles::new([0.5, 0.9])),
        )
        .unwrap();
        family.without_labels().unwrap().observe(4.0);
        let snapshot = family.collect(false).unwrap();
        let quantile_labels: Vec<String> =
            snapshot.samples.iter().filter_map(|s| s.extra_label.as_ref().map(|l| l.value.to_string())).collect();
        assert_eq!(quantile_labels, ["0.5", "0.9"]);
        assert!(
            crate::Family::<Summary>::with_options(crate::Metadata::new("x", "X."), Some(Quantiles::new([1.5])))
                .is_err()
        );
    }

    #[test]
    fn summary_counts_and_sums() {
        let s = Summary::default();
        s.observe(1.5);
        s.observe(-0.5);
        assert_eq!(s.count(), 2);
        assert_eq!(s.sum(), 1.0);
    }
}
