//! Native histogram: observations counted in exponential buckets whose resolution is a setting,
//! not a list of bounds, with optional classic buckets beside them.
//!
//! # Concurrency
//! Observers never wait. As in `client_golang`, the counts live twice, in a hot and a cold half:
//! an observer adds one to a shared counter whose top bit names the hot half, updates that half,
//! then adds one to the half's completion counter. To read or reshape the counts, a collector
//! (under a mutex observers never take) flips the top bit, waits until the half it made cold has
//! completed as many observations as were started, reads it, and folds it into the new hot half.
//! Between collections the cold half is empty, and every change of resolution (fewer buckets,
//! a wider zero bucket, a reset) is made on a half no observer is writing to.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::atomic_f64::AtomicF64;
use super::bucket_index::{BucketIndex, schema_for_factor};
use super::buckets::Buckets;
use super::kind::{Metric, SeriesContext};
use super::metadata::FamilyMeta;
use super::mirror::{Mirror, SeriesMirror, SeriesShape};
use super::sparse_counts::SparseCounts;
use crate::error::Error;
use crate::metric_type::MetricType;
use crate::snapshot::exemplar::Exemplar;
use crate::snapshot::labels::Label;
use crate::snapshot::native_histogram::{BucketCounts, MIN_SCHEMA, NativeHistogramValue, Number, upper_bound};
use crate::snapshot::sample::Sample;
use crate::snapshot::timestamp::now_seconds;

/// `client_golang`'s default zero threshold: `2^-128`.
pub const DEFAULT_ZERO_THRESHOLD: f64 = 2.938_735_877_055_719e-39;
/// Exemplars a native histogram keeps by default, as `client_golang` does.
pub const DEFAULT_MAX_EXEMPLARS: usize = 10;

/// How a native histogram buckets its observations: `client_golang`'s `NativeHistogram*` options.
#[derive(Clone, Debug, PartialEq)]
pub struct NativeHistogramOptions {
    /// The largest factor between a bucket's bounds (> 1); the schema is the one whose factor is
    /// the largest not above it (1.1 gives schema 3, buckets growing by 2^(1/8) ≈ 1.09).
    pub bucket_factor: f64,
    /// Observations at most this far from zero are counted in the zero bucket.
    pub zero_threshold: f64,
    /// The most buckets (both signs) kept; 0 for no limit. Past it, the histogram is reset when
    /// `min_reset_duration` has passed since the last reset, else its zero bucket is widened
    /// while `max_zero_threshold` allows, else its resolution is halved.
    pub max_buckets: u32,
    /// The least time between two resets made to keep `max_buckets`; `None` never resets. A
    /// histogram made coarser is also reset to its configured resolution once this has passed.
    pub min_reset_duration: Option<Duration>,
    /// How wide the zero bucket may grow to keep `max_buckets`.
    pub max_zero_threshold: f64,
    /// How many exemplars are kept (the latest ones).
    pub max_exemplars: usize,
    /// Classic buckets kept beside the native ones; `None` for the native ones alone.
    pub classic: Option<Buckets>,
}

impl Default for NativeHistogramOptions {
    fn default() -> Self {
        Self {
            bucket_factor: 1.1,
            zero_threshold: DEFAULT_ZERO_THRESHOLD,
            max_buckets: 160,
            min_reset_duration: None,
            max_zero_threshold: 0.0,
            max_exemplars: DEFAULT_MAX_EXEMPLARS,
            classic: None,
        }
    }
}

impl NativeHistogramOptions {
    /// Checks the options' ranges.
    pub fn validate(&self) -> Result<(), Error> {
        let invalid = |message: &str| Err(Error::InvalidOption { message: message.into() });
        if self.bucket_factor.is_nan() || self.bucket_factor <= 1.0 {
            return invalid("native_histogram_bucket_factor must be greater than 1");
        }
        if !(self.zero_threshold >= 0.0 && self.zero_threshold.is_finite()) {
            return invalid("native_histogram_zero_threshold must be a finite number of at least 0");
        }
        if self.max_zero_threshold.is_nan() || self.max_zero_threshold < 0.0 {
            return invalid("native_histogram_max_zero_threshold must be at least 0");
        }
        Ok(())
    }

    /// The schema the bucket factor gives.
    #[must_use]
    pub fn schema(&self) -> i32 {
        schema_for_factor(self.bucket_factor)
    }
}

/// A native histogram. Cloning gives another handle to the same series.
///
/// ```
/// use pyrometer_core::{NativeHistogram, NativeHistogramOptions};
/// let h = NativeHistogram::new(&NativeHistogramOptions::default()).unwrap();
/// h.observe(0.25);
/// h.observe(3.0);
/// let value = h.value();
/// assert_eq!(value.count.as_f64(), 2.0);
/// assert_eq!(value.schema, 3);
/// ```
#[derive(Clone, Debug)]
#[must_use = "histograms do nothing unless you use them"]
pub struct NativeHistogram(Arc<Cell>);

#[derive(Debug)]
struct Cell {
    options: NativeHistogramOptions,
    index: &'static BucketIndex,
    /// Top bit: the hot half; the rest: observations started.
    count_and_hot: AtomicU64,
    halves: [Half; 2],
    /// Held by collections and reshapes, never by an observer.
    reshaping: Mutex<Reshaping>,
    created: AtomicF64,
    exemplars: Mutex<VecDeque<Arc<Exemplar>>>,
    classic_exemplars: Box<[Mutex<Option<Arc<Exemplar>>>]>,
    mirror: Mirror,
}

#[derive(Debug)]
struct Reshaping {
    last_reset: Instant,
    /// Observations dropped by resets: the completion counters keep counting them.
    discarded: u64,
}

/// One half of the counts.
#[derive(Debug)]
struct Half {
    /// Observations completed in this half (including those folded in from the other).
    completed: AtomicU64,
    schema: AtomicI32,
    zero_threshold: AtomicF64,
    sum: AtomicF64,
    zero_count: AtomicU64,
    positive: SparseCounts,
    negative: SparseCounts,
    /// Classic bucket counts (not cumulative), one per bound; empty without classic buckets.
    classic: Box<[AtomicU64]>,
}

/// What a half held when read.
#[derive(Debug, Default)]
struct Contents {
    completed: u64,
    schema: i32,
    zero_threshold: f64,
    sum: f64,
    zero_count: u64,
    positive: BucketCounts,
    negative: BucketCounts,
    classic: Vec<u64>,
}

const HOT_BIT: u64 = 1 << 63;

impl Half {
    fn new(schema: i32, zero_threshold: f64, classic_buckets: usize) -> Self {
        Self {
            completed: AtomicU64::new(0),
            schema: AtomicI32::new(schema),
            zero_threshold: AtomicF64::new(zero_threshold),
            sum: AtomicF64::new(0.0),
            zero_count: AtomicU64::new(0),
            positive: SparseCounts::default(),
            negative: SparseCounts::default(),
            classic: (0..classic_buckets).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    #[inline]
    fn observe(&self, value: f64, index: &BucketIndex, classic: Option<&Buckets>) {
        let magnitude = value.abs();
        if magnitude <= self.zero_threshold.get() {
            self.zero_count.fetch_add(1, Ordering::Relaxed);
        } else if !value.is_nan() {
            let i = index.index(magnitude, self.schema.load(Ordering::Relaxed));
            if value > 0.0 { &self.positive } else { &self.negative }.add(i, 1);
        }
        if let Some(buckets) = classic {
            if let Some(i) = buckets.bucket_of(value) {
                self.classic[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.sum.add(value);
    }

    fn populated(&self) -> u32 {
        self.positive.populated() + self.negative.populated()
    }

    /// Reads the half; it must be settled.
    fn read(&self) -> Contents {
        Contents {
            completed: self.completed.load(Ordering::Acquire),
            schema: self.schema.load(Ordering::Relaxed),
            zero_threshold: self.zero_threshold.get(),
            sum: self.sum.get(),
            zero_count: self.zero_count.load(Ordering::Relaxed),
            positive: self.positive.read(),
            negative: self.negative.read(),
            classic: self.classic.iter().map(|c| c.load(Ordering::Relaxed)).collect(),
        }
    }

    /// Adds `contents`, made at this half's schema and zero threshold.
    fn add(&self, contents: &Contents) {
        self.sum.add(contents.sum);
        self.zero_count.fetch_add(contents.zero_count, Ordering::Relaxed);
        self.positive.add_all(&contents.positive);
        self.negative.add_all(&contents.negative);
        for (cell, n) in self.classic.iter().zip(&contents.classic) {
            cell.fetch_add(*n, Ordering::Relaxed);
        }
        // Last, with Release: whoever sees the count sees the counts.
        self.completed.fetch_add(contents.completed, Ordering::Release);
    }

    /// Empties the half; it must be settled.
    fn clear(&self) {
        self.completed.store(0, Ordering::Relaxed);
        self.sum.set(0.0);
        self.zero_count.store(0, Ordering::Relaxed);
        self.positive.clear();
        self.negative.clear();
        self.classic.iter().for_each(|c| c.store(0, Ordering::Relaxed));
    }

    fn set_resolution(&self, schema: i32, zero_threshold: f64) {
        self.schema.store(schema, Ordering::Relaxed);
        self.zero_threshold.set(zero_threshold);
    }
}

impl Contents {
    /// The same observations at `schema` (not above this one's) and a zero threshold at least this
    /// one's: buckets merge in pairs, and those within the zero bucket join it.
    fn reshaped(mut self, schema: i32, zero_threshold: f64) -> Self {
        let by = self.schema - schema;
        for side in [&mut self.positive, &mut self.negative] {
            let mut moved = crate::snapshot::native_histogram::downscale(side, by);
            moved.retain(|&i, count| {
                let inside = upper_bound(schema, i) <= zero_threshold;
                if inside {
                    self.zero_count += *count;
                }
                !inside
            });
            *side = moved;
        }
        self.schema = schema;
        self.zero_threshold = zero_threshold;
        self
    }
}

impl NativeHistogram {
    /// A native histogram with these options.
    pub fn new(options: &NativeHistogramOptions) -> Result<Self, Error> {
        options.validate()?;
        Ok(Self::mirrored(options, None))
    }

    fn mirrored(options: &NativeHistogramOptions, mirror: Mirror) -> Self {
        let schema = options.schema();
        let classic = options.classic.as_ref().map_or(0, |b| b.bounds().len());
        Self(Arc::new(Cell {
            options: options.clone(),
            index: BucketIndex::get(),
            count_and_hot: AtomicU64::new(0),
            halves: [0, 1].map(|_| Half::new(schema, options.zero_threshold, classic)),
            reshaping: Mutex::new(Reshaping { last_reset: Instant::now(), discarded: 0 }),
            created: AtomicF64::new(now_seconds()),
            exemplars: Mutex::new(VecDeque::new()),
            classic_exemplars: (0..classic).map(|_| Mutex::new(None)).collect(),
            mirror,
        }))
    }

    /// Records one observation. NaN is counted and joins the sum, in no bucket.
    #[inline]
    pub fn observe(&self, value: f64) {
        let cell = &*self.0;
        // Acquire: the hot half's resolution, set before the half was made hot, is seen.
        let started = cell.count_and_hot.fetch_add(1, Ordering::Acquire);
        let hot = &cell.halves[(started >> 63) as usize];
        hot.observe(value, cell.index, cell.options.classic.as_ref());
        hot.completed.fetch_add(1, Ordering::Release);
        if cell.options.max_buckets != 0 && hot.populated() > cell.options.max_buckets {
            self.limit_buckets();
        }
        if let Some(mirror) = &cell.mirror {
            mirror.observe(value);
        }
    }

    /// Records one observation and keeps `exemplar` among the latest ones.
    pub fn observe_with_exemplar(&self, value: f64, exemplar: Exemplar) {
        self.observe(value);
        let cell = &*self.0;
        if let Some(mirror) = &cell.mirror {
            mirror.exemplar(value, &exemplar);
        }
        let exemplar = Arc::new(exemplar);
        if let Some(buckets) = &cell.options.classic {
            if let Some(i) = buckets.bucket_of(value) {
                *lock(&cell.classic_exemplars[i]) = Some(exemplar.clone());
            }
        }
        if cell.options.max_exemplars > 0 {
            let mut kept = lock(&cell.exemplars);
            if kept.len() == cell.options.max_exemplars {
                kept.pop_front();
            }
            kept.push_back(exemplar);
        }
    }

    /// The histogram's state now: a consistent cut of the observations (count, sum and buckets
    /// of the same observations), with the kept exemplars.
    #[must_use]
    pub fn value(&self) -> NativeHistogramValue {
        self.read().0
    }

    /// The options the histogram was made with.
    #[must_use]
    pub fn options(&self) -> &NativeHistogramOptions {
        &self.0.options
    }

    /// When the counts started: creation, or the last reset made to keep `max_buckets`.
    #[must_use]
    pub fn created(&self) -> f64 {
        self.0.created.get()
    }

    /// The native value and the classic counts (not cumulative) of one consistent cut.
    fn read(&self) -> (NativeHistogramValue, Vec<u64>) {
        let cell = &*self.0;
        let mut reshaping = lock(&cell.reshaping);
        let (settled, hot) = self.swap();
        let contents = settled.read();
        hot.add(&contents);
        settled.clear();
        let discarded = reshaping.discarded;
        // A histogram made coarser to keep its bucket limit returns to its configured resolution
        // once the reset duration has passed, after this read has reported its counts.
        let coarser =
            contents.schema != cell.options.schema() || contents.zero_threshold != cell.options.zero_threshold;
        if coarser && cell.options.min_reset_duration.is_some_and(|d| reshaping.last_reset.elapsed() >= d) {
            self.reset(&mut reshaping);
        }
        let mut value = NativeHistogramValue::from_counts(
            contents.schema,
            contents.zero_threshold,
            contents.zero_count,
            contents.sum,
            &contents.positive,
            &contents.negative,
        );
        // The count has NaN observations too, which are in no bucket.
        let count = contents.completed - discarded;
        value.count = Number::Int(i64::try_from(count).unwrap_or(i64::MAX));
        value.exemplars = lock(&cell.exemplars).iter().cloned().collect();
        (value, contents.classic)
    }

    /// Makes the cold half hot and waits until the formerly hot one has settled: every
    /// observation started in it completed. Returns (settled, hot). Needs `reshaping` held.
    fn swap(&self) -> (&Half, &Half) {
        let cell = &*self.0;
        let before = cell.count_and_hot.fetch_add(HOT_BIT, Ordering::AcqRel);
        let started = before & !HOT_BIT;
        let settled = &cell.halves[(before >> 63) as usize];
        let hot = &cell.halves[((before >> 63) ^ 1) as usize];
        // Every observation completed so far is counted in one half or the other; the cold one
        // was empty, so the settled one must reach all of them.
        let mut spins = 0u32;
        while settled.completed.load(Ordering::Acquire) < started {
            spins += 1;
            if spins < 64 { std::hint::spin_loop() } else { std::thread::yield_now() }
        }
        (settled, hot)
    }

    /// Keeps the bucket count within `max_buckets`; an observer that finds a collection or
    /// another reshape under way leaves it to them (a later observation checks again).
    #[cold]
    fn limit_buckets(&self) {
        let cell = &*self.0;
        let Ok(mut reshaping) = cell.reshaping.try_lock() else { return };
        if cell.options.min_reset_duration.is_some_and(|d| reshaping.last_reset.elapsed() >= d) {
            self.reset(&mut reshaping);
            return;
        }
        loop {
            let hot = &cell.halves[(cell.count_and_hot.load(Ordering::Acquire) >> 63) as usize];
            if hot.populated() <= cell.options.max_buckets {
                return;
            }
            let schema = hot.schema.load(Ordering::Relaxed);
            let zero_threshold = hot.zero_threshold.get();
            if let Some(wider) = self.wider_zero_threshold(hot, schema, zero_threshold) {
                self.reshape(schema, wider);
            } else if schema > MIN_SCHEMA {
                self.reshape(schema - 1, zero_threshold);
            } else {
                return;
            }
        }
    }

    /// The zero threshold that takes in the bucket nearest zero, if `max_zero_threshold` allows.
    fn wider_zero_threshold(&self, hot: &Half, schema: i32, zero_threshold: f64) -> Option<f64> {
        if self.0.options.max_zero_threshold <= zero_threshold {
            return None;
        }
        let nearest =
            [&hot.positive, &hot.negative].iter().filter_map(|side| side.read().keys().next().copied()).min()?;
        let wider = upper_bound(schema, nearest);
        (wider <= self.0.options.max_zero_threshold).then_some(wider)
    }

    /// Moves every observation to `schema` and `zero_threshold` (lower and wider, or equal).
    fn reshape(&self, schema: i32, zero_threshold: f64) {
        let cell = &*self.0;
        let cold = &cell.halves[((cell.count_and_hot.load(Ordering::Acquire) >> 63) ^ 1) as usize];
        cold.set_resolution(schema, zero_threshold);
        let (settled, hot) = self.swap();
        hot.add(&settled.read().reshaped(schema, zero_threshold));
        settled.clear();
        settled.set_resolution(schema, zero_threshold);
    }

    /// Drops every observation and starts again at the configured resolution.
    fn reset(&self, reshaping: &mut Reshaping) {
        let cell = &*self.0;
        let (schema, zero_threshold) = (cell.options.schema(), cell.options.zero_threshold);
        let cold = &cell.halves[((cell.count_and_hot.load(Ordering::Acquire) >> 63) ^ 1) as usize];
        cold.set_resolution(schema, zero_threshold);
        let (settled, hot) = self.swap();
        let dropped = settled.read().completed;
        // The completion counter keeps the dropped observations, which `swap` waits for.
        hot.completed.fetch_add(dropped, Ordering::Release);
        reshaping.discarded += dropped;
        settled.clear();
        settled.set_resolution(schema, zero_threshold);
        reshaping.last_reset = Instant::now();
        cell.created.set(now_seconds());
        cell.classic_exemplars.iter().for_each(|e| *lock(e) = None);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Metric for NativeHistogram {
    const TYPE: MetricType = MetricType::Histogram;
    const RESERVED_LABELS: &'static [&'static str] = &["le"];
    type Options = NativeHistogramOptions;

    fn validate(options: &NativeHistogramOptions, _meta: &FamilyMeta) -> Result<(), Error> {
        options.validate()
    }

    fn build(options: &NativeHistogramOptions, _meta: &Arc<FamilyMeta>, mirror: Option<Arc<dyn SeriesMirror>>) -> Self {
        Self::mirrored(options, mirror)
    }

    fn shape(options: &NativeHistogramOptions) -> Option<SeriesShape<'_>> {
        Some(SeriesShape::NativeHistogram { options })
    }

    fn mirror(&self) -> Option<&Arc<dyn SeriesMirror>> {
        self.0.mirror.as_ref()
    }

    /// The native sample (the whole histogram, named as the family), then the classic form that
    /// text formats write: the classic buckets, or a lone `+Inf` bucket, `_count`, `_sum`.
    fn collect_samples(&self, series: &SeriesContext<'_>, out: &mut Vec<Sample>) -> Result<(), Error> {
        let cell = &*self.0;
        let (value, classic) = self.read();
        let count = value.count.as_f64();
        let sum = value.sum.as_f64();
        let mut native = Sample::new("", series.labels.clone(), count);
        native.native = Some(Arc::new(value));
        out.push(native);
        let le_name: Arc<str> = Arc::from("le");
        let mut bucket = |le: Arc<str>, n: f64, exemplar: Option<Arc<Exemplar>>| {
            let mut sample = Sample::new("_bucket", series.labels.clone(), n);
            sample.extra_label = Some(Label { name: le_name.clone(), value: le });
            sample.exemplar = exemplar;
            out.push(sample);
        };
        let mut negative_bounds = false;
        match &cell.options.classic {
            Some(buckets) => {
                negative_bounds = buckets.bounds()[0] < 0.0;
                let mut acc = 0;
                for (i, n) in classic.iter().enumerate() {
                    acc += n;
                    bucket(buckets.le_labels()[i].clone(), acc as f64, lock(&cell.classic_exemplars[i]).clone());
                }
            }
            None => bucket(Arc::from("+Inf"), count, None),
        }
        out.push(Sample::new("_count", series.labels.clone(), count));
        if !negative_bounds {
            out.push(Sample::new("_sum", series.labels.clone(), sum));
        }
        if series.created {
            out.push(Sample::new("_created", series.labels.clone(), cell.created.get()));
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::cast_possible_wrap, clippy::needless_for_each)]
mod tests {
    use super::*;

    fn options() -> NativeHistogramOptions {
        NativeHistogramOptions::default()
    }

    fn exact(values: &[f64], schema: i32, zero_threshold: f64) -> (BucketCounts, BucketCounts, u64) {
        let index = BucketIndex::get();
        let (mut positive, mut negative, mut zero) = (BucketCounts::new(), BucketCounts::new(), 0);
        for &v in values {
            if v.abs() <= zero_threshold {
                zero += 1;
            } else if v > 0.0 {
                *positive.entry(index.index(v, schema)).or_default() += 1;
            } else {
                *negative.entry(index.index(-v, schema)).or_default() += 1;
            }
        }
        (positive, negative, zero)
    }

    #[test]
    fn observations_land_in_their_buckets() {
        let h = NativeHistogram::new(&options()).unwrap();
        let values = [0.0, 1.0, 1.05, 1.1, 2.0, -3.0, 1e-40, 0.001];
        values.iter().for_each(|v| h.observe(*v));
        let value = h.value();
        let (positive, negative, zero) = exact(&values, 3, DEFAULT_ZERO_THRESHOLD);
        assert_eq!(value.positive_counts().unwrap(), positive);
        assert_eq!(value.negative_counts().unwrap(), negative);
        assert_eq!(value.zero_count, Number::Int(zero as i64));
        assert_eq!(zero, 2);
        assert_eq!(value.count, Number::Int(8));
        assert_eq!(value.sum.as_f64(), values.iter().sum::<f64>());
        // Reading does not disturb the counts: a second read is the same.
        assert_eq!(h.value(), value);
    }

    #[test]
    fn nan_is_counted_in_no_bucket() {
        let h = NativeHistogram::new(&options()).unwrap();
        h.observe(f64::NAN);
        h.observe(1.0);
        let value = h.value();
        assert_eq!(value.count, Number::Int(2));
        assert_eq!(value.bucket_count(), 1);
        assert!(value.sum.as_f64().is_nan());
    }

    #[test]
    fn too_many_buckets_lower_the_resolution() {
        let h = NativeHistogram::new(&NativeHistogramOptions { max_buckets: 20, ..options() }).unwrap();
        let values: Vec<f64> = (1..=400).map(|i| f64::from(i) * 0.37).collect();
        values.iter().for_each(|v| h.observe(*v));
        let value = h.value();
        assert!(value.bucket_count() <= 20, "{} buckets", value.bucket_count());
        assert!(value.schema < 3);
        // The counts are those of the observations at the schema reached.
        let (positive, _, _) = exact(&values, value.schema, DEFAULT_ZERO_THRESHOLD);
        assert_eq!(value.positive_counts().unwrap(), positive);
        assert_eq!(value.count, Number::Int(400));
    }

    #[test]
    fn too_many_buckets_reset_when_the_reset_duration_passed() {
        let h = NativeHistogram::new(&NativeHistogramOptions {
            max_buckets: 4,
            min_reset_duration: Some(Duration::ZERO),
            ..options()
        })
        .unwrap();
        let created = h.created();
        for v in [1.0, 2.0, 4.0, 8.0, 16.0] {
            h.observe(v);
        }
        let value = h.value();
        // The fifth bucket reset the histogram, its observation with it.
        assert_eq!(value.count, Number::Int(0));
        assert_eq!(value.schema, 3);
        h.observe(1.5);
        assert_eq!(h.value().count, Number::Int(1));
        assert!(h.created() >= created);
    }

    #[test]
    fn too_many_buckets_widen_the_zero_bucket_first_when_allowed() {
        let h = NativeHistogram::new(&NativeHistogramOptions { max_buckets: 3, max_zero_threshold: 0.1, ..options() })
            .unwrap();
        for v in [0.001, 0.01, 1.0, 2.0] {
            h.observe(v);
        }
        let value = h.value();
        assert_eq!(value.schema, 3);
        assert!(value.zero_threshold.as_f64() > 0.001 && value.zero_threshold.as_f64() <= 0.1);
        assert_eq!(value.zero_count, Number::Int(1));
        assert_eq!(value.count, Number::Int(4));
    }

    #[test]
    fn classic_buckets_are_kept_beside() {
        let h = NativeHistogram::new(&NativeHistogramOptions {
            classic: Some(Buckets::new([1.0, 2.0]).unwrap()),
            ..options()
        })
        .unwrap();
        for v in [0.5, 1.5, 3.0] {
            h.observe(v);
        }
        let (value, classic) = h.read();
        assert_eq!(classic, [1, 1, 1]);
        assert_eq!(value.count, Number::Int(3));
    }

    #[test]
    fn options_out_of_range_are_refused() {
        for bad in [
            NativeHistogramOptions { bucket_factor: 1.0, ..options() },
            NativeHistogramOptions { bucket_factor: f64::NAN, ..options() },
            NativeHistogramOptions { zero_threshold: -1.0, ..options() },
            NativeHistogramOptions { max_zero_threshold: f64::NAN, ..options() },
        ] {
            assert!(matches!(NativeHistogram::new(&bad), Err(Error::InvalidOption { .. })), "{bad:?}");
        }
    }

    #[test]
    fn concurrent_observers_and_readers_agree() {
        let h = NativeHistogram::new(&NativeHistogramOptions { max_buckets: 30, ..options() }).unwrap();
        let writers: Vec<_> = (0..3)
            .map(|t| {
                let h = h.clone();
                std::thread::spawn(move || {
                    for i in 0..30_000 {
                        h.observe(f64::from(i % 997 + t) * 0.013);
                    }
                })
            })
            .collect();
        let mut last = 0;
        for _ in 0..300 {
            let value = h.value();
            let count = value.count.as_f64() as u64;
            let buckets: u64 =
                value.positive_counts().unwrap().values().sum::<u64>() + value.zero_count.as_f64() as u64;
            // Every read is a consistent cut: the count is the buckets' total, and never falls.
            assert_eq!(count, buckets);
            assert!(count >= last);
            last = count;
        }
        writers.into_iter().for_each(|w| w.join().unwrap());
        let value = h.value();
        assert_eq!(value.count, Number::Int(90_000));
        assert!(value.bucket_count() <= 30);
    }

    proptest::proptest! {
        /// Whatever the limit forces, the histogram holds the observations at the schema it
        /// reached: the exact bucketing of every value.
        #[test]
        fn buckets_are_exact_at_the_schema_reached(
            values in proptest::collection::vec(-1e4f64..1e4, 1..300),
            max_buckets in proptest::sample::select(vec![0u32, 5, 12, 40]),
            factor in proptest::sample::select(vec![1.01, 1.1, 2.0, 100.0]),
        ) {
            let h = NativeHistogram::new(&NativeHistogramOptions { max_buckets, bucket_factor: factor, zero_threshold: 0.0, ..options() }).unwrap();
            values.iter().for_each(|v| h.observe(*v));
            let value = h.value();
            let (positive, negative, zero) = exact(&values, value.schema, 0.0);
            proptest::prop_assert_eq!(value.positive_counts().unwrap(), positive);
            proptest::prop_assert_eq!(value.negative_counts().unwrap(), negative);
            proptest::prop_assert_eq!(value.zero_count, Number::Int(zero as i64));
            proptest::prop_assert_eq!(value.count, Number::Int(values.len() as i64));
        }
    }
}
