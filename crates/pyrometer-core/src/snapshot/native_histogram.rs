//! The value of a native histogram sample: exponential buckets in spans and deltas, as the
//! Prometheus protobuf format and OpenMetrics 2.0 carry them.
//!
//! Bucket `i` of schema `s` holds the observations `v` with `2^((i-1)/2^s) < |v| <= 2^(i/2^s)`,
//! on the positive or the negative side; observations with `|v| <= zero_threshold` are counted in
//! the zero bucket. Lowering the schema by one merges buckets `2j-1` and `2j` into bucket `j`, so a
//! histogram converts exactly to any lower schema ([`NativeHistogramValue::downscaled`]), which is
//! how two histograms of different schemas merge ([`NativeHistogramValue::merge`]).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use super::exemplar::Exemplar;
use crate::float_text::write_python_repr;

/// The lowest schema Prometheus accepts (buckets growing by a factor of 65536).
pub const MIN_SCHEMA: i32 = -4;
/// The highest schema Prometheus accepts (buckets growing by a factor of about 1.0027).
pub const MAX_SCHEMA: i32 = 8;

/// A number as its source gave it: an integer or a float. A sample built from Python keeps the
/// type it was given, so that it prints as `str()` would (`24`, `24.0`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Number {
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
}

impl Number {
    /// The value as a float.
    #[must_use]
    #[allow(clippy::cast_precision_loss)] // counts beyond 2^53 are beyond any histogram
    pub fn as_f64(self) -> f64 {
        match self {
            Self::Int(i) => i as f64,
            Self::Float(f) => f,
        }
    }

    /// Appends the number as Python's `str()` spells it.
    pub fn write_python(self, out: &mut String) {
        match self {
            Self::Int(i) => {
                use fmt::Write;
                let _ = write!(out, "{i}");
            }
            Self::Float(f) => write_python_repr(out, f),
        }
    }
}

/// A run of consecutive buckets: `offset` buckets after the end of the previous span (after
/// bucket 0 for the first span), `length` buckets long.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BucketSpan {
    /// The gap from the previous span (the index of the first bucket, for the first span).
    pub offset: i32,
    /// The number of buckets.
    pub length: u32,
}

/// A native histogram's state at one moment: its counts, sum and buckets.
#[derive(Clone, Debug, PartialEq)]
pub struct NativeHistogramValue {
    /// The number of observations.
    pub count: Number,
    /// The sum of the observations.
    pub sum: Number,
    /// The resolution: buckets grow by a factor of `2^(2^-schema)`.
    pub schema: i32,
    /// Observations at most this far from zero are counted in the zero bucket.
    pub zero_threshold: Number,
    /// The number of observations in the zero bucket.
    pub zero_count: Number,
    /// The spans of the positive buckets.
    pub positive_spans: Vec<BucketSpan>,
    /// The positive buckets' counts, each as the difference from the bucket before (the first
    /// as itself), in span order.
    pub positive_deltas: Vec<i64>,
    /// The spans of the negative buckets (by absolute value).
    pub negative_spans: Vec<BucketSpan>,
    /// The negative buckets' counts, as deltas.
    pub negative_deltas: Vec<i64>,
    /// Exemplars of observations.
    pub exemplars: Vec<Arc<Exemplar>>,
}

/// Bucket counts by bucket index, in index order; empty buckets may be left out.
pub type BucketCounts = BTreeMap<i32, u64>;

impl NativeHistogramValue {
    /// A histogram of schema `schema` from absolute bucket counts (empty buckets are dropped).
    #[must_use]
    #[allow(clippy::cast_possible_wrap)] // counts fit in i64
    pub fn from_counts(
        schema: i32,
        zero_threshold: f64,
        zero_count: u64,
        sum: f64,
        positive: &BucketCounts,
        negative: &BucketCounts,
    ) -> Self {
        let count = zero_count + positive.values().sum::<u64>() + negative.values().sum::<u64>();
        let (positive_spans, positive_deltas) = spans_and_deltas(positive);
        let (negative_spans, negative_deltas) = spans_and_deltas(negative);
        Self {
            count: Number::Int(count as i64),
            sum: Number::Float(sum),
            schema,
            zero_threshold: Number::Float(zero_threshold),
            zero_count: Number::Int(zero_count as i64),
            positive_spans,
            positive_deltas,
            negative_spans,
            negative_deltas,
            exemplars: Vec::new(),
        }
    }

    /// The positive buckets' absolute counts, by index (`None` when spans and deltas disagree or
    /// a count would be negative).
    #[must_use]
    pub fn positive_counts(&self) -> Option<BucketCounts> {
        absolute_counts(&self.positive_spans, &self.positive_deltas)
    }

    /// The negative buckets' absolute counts, by index.
    #[must_use]
    pub fn negative_counts(&self) -> Option<BucketCounts> {
        absolute_counts(&self.negative_spans, &self.negative_deltas)
    }

    /// The same observations at a schema `schema` at most this one's (`None` when `schema` is
    /// higher, or the buckets do not decode).
    #[must_use]
    pub fn downscaled(&self, schema: i32) -> Option<Self> {
        if schema > self.schema {
            return None;
        }
        let positive = downscale(&self.positive_counts()?, self.schema - schema);
        let negative = downscale(&self.negative_counts()?, self.schema - schema);
        let zero_count = u64::try_from(integer(self.zero_count)?).ok()?;
        let mut out = Self::from_counts(
            schema,
            self.zero_threshold.as_f64(),
            zero_count,
            self.sum.as_f64(),
            &positive,
            &negative,
        );
        out.count = self.count;
        out.sum = self.sum;
        out.zero_threshold = self.zero_threshold;
        out.exemplars.clone_from(&self.exemplars);
        Some(out)
    }

    /// The histogram of the observations of both: at the lower schema of the two, with the wider
    /// zero bucket (buckets of the other that fall inside it join its count). `None` when either's
    /// buckets do not decode.
    #[must_use]
    #[allow(clippy::cast_possible_wrap)]
    pub fn merge(&self, other: &Self) -> Option<Self> {
        let schema = self.schema.min(other.schema);
        let zero_threshold = self.zero_threshold.as_f64().max(other.zero_threshold.as_f64());
        let mut zero_count = 0u64;
        let mut positive = BucketCounts::new();
        let mut negative = BucketCounts::new();
        for part in [self, other] {
            let part = part.downscaled(schema)?;
            zero_count += u64::try_from(integer(part.zero_count)?).ok()?;
            for (side, counts) in [(&mut positive, part.positive_counts()?), (&mut negative, part.negative_counts()?)] {
                for (index, count) in counts {
                    // A bucket whose upper bound is within the wider zero bucket joins it.
                    if upper_bound(schema, index) <= zero_threshold {
                        zero_count += count;
                    } else {
                        *side.entry(index).or_default() += count;
                    }
                }
            }
        }
        let count = integer(self.count)? + integer(other.count)?;
        let sum = self.sum.as_f64() + other.sum.as_f64();
        let mut out = Self::from_counts(schema, zero_threshold, zero_count, sum, &positive, &negative);
        // The counts of observations in no bucket (NaN) carry over.
        out.count = Number::Int(count);
        out.exemplars = self.exemplars.iter().chain(&other.exemplars).cloned().collect();
        Some(out)
    }

    /// The number of populated buckets, both sides.
    #[must_use]
    pub fn bucket_count(&self) -> usize {
        self.positive_deltas.len() + self.negative_deltas.len()
    }
}

/// The upper bound of bucket `index` at `schema`: `2^(index / 2^schema)`.
#[must_use]
pub fn upper_bound(schema: i32, index: i32) -> f64 {
    (f64::from(index) * (-f64::from(schema)).exp2()).exp2()
}

/// An integer count (a float count with no fraction converts).
#[allow(clippy::cast_possible_truncation, clippy::float_cmp)]
fn integer(n: Number) -> Option<i64> {
    match n {
        Number::Int(i) => Some(i),
        Number::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(f as i64),
        Number::Float(_) => None,
    }
}

/// Bucket counts moved `by` schemas down: bucket `i` joins bucket `ceil(i / 2^by)`.
#[must_use]
pub fn downscale(counts: &BucketCounts, by: i32) -> BucketCounts {
    if by <= 0 {
        return counts.clone();
    }
    let mut out = BucketCounts::new();
    for (&index, &count) in counts {
        // `ceil` of the division, for negative indexes too (an arithmetic shift floors).
        let merged = (index - 1).checked_shr(by.unsigned_abs()).map_or(0, |shifted| shifted + 1);
        *out.entry(merged).or_default() += count;
    }
    out
}

/// Spans and deltas of the non-empty buckets. Gaps of up to two empty buckets stay inside a span
/// (as zero counts), which costs less than starting a new span, as `client_golang` encodes them.
#[allow(clippy::cast_possible_wrap, clippy::cast_possible_truncation)]
fn spans_and_deltas(counts: &BucketCounts) -> (Vec<BucketSpan>, Vec<i64>) {
    let mut spans: Vec<BucketSpan> = Vec::new();
    let mut deltas = Vec::new();
    let mut previous_index: Option<i32> = None;
    let mut previous_count = 0i64;
    for (&index, &count) in counts.iter().filter(|(_, c)| **c > 0) {
        let count = count as i64;
        match previous_index {
            Some(previous) if index - previous <= 3 => {
                for _ in previous + 1..index {
                    deltas.push(-previous_count);
                    previous_count = 0;
                }
                if let Some(span) = spans.last_mut() {
                    span.length += (index - previous) as u32;
                }
            }
            Some(previous) => spans.push(BucketSpan { offset: index - previous - 1, length: 1 }),
            None => spans.push(BucketSpan { offset: index, length: 1 }),
        }
        deltas.push(count - previous_count);
        previous_count = count;
        previous_index = Some(index);
    }
    (spans, deltas)
}

/// Absolute counts from spans and deltas.
fn absolute_counts(spans: &[BucketSpan], deltas: &[i64]) -> Option<BucketCounts> {
    let mut out = BucketCounts::new();
    let mut deltas = deltas.iter();
    let mut count = 0i64;
    let mut index: Option<i32> = None;
    for span in spans {
        let mut at = match index {
            None => span.offset,
            Some(last) => last.checked_add(1)?.checked_add(span.offset)?,
        };
        for _ in 0..span.length {
            count = count.checked_add(*deltas.next()?)?;
            if count > 0 {
                out.insert(at, u64::try_from(count).ok()?);
            } else if count < 0 {
                return None;
            }
            index = Some(at);
            at = at.checked_add(1)?;
        }
    }
    if deltas.next().is_some() {
        return None;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(pairs: &[(i32, u64)]) -> BucketCounts {
        pairs.iter().copied().collect()
    }

    #[test]
    fn spans_keep_small_gaps_and_split_at_large_ones() {
        let h = NativeHistogramValue::from_counts(
            0,
            0.0,
            1,
            3.0,
            &counts(&[(0, 2), (1, 1), (3, 4), (10, 1)]),
            &counts(&[]),
        );
        assert_eq!(h.positive_spans, [BucketSpan { offset: 0, length: 4 }, BucketSpan { offset: 6, length: 1 }]);
        assert_eq!(h.positive_deltas, [2, -1, -1, 4, -3]);
        assert_eq!(h.count, Number::Int(9));
        assert_eq!(h.positive_counts().unwrap(), counts(&[(0, 2), (1, 1), (3, 4), (10, 1)]));
    }

    #[test]
    fn downscaling_merges_pairs_of_buckets() {
        // At schema 1, buckets 1 and 2 make bucket 1 of schema 0; bucket -1 and 0 make bucket 0.
        assert_eq!(
            downscale(&counts(&[(-1, 1), (0, 2), (1, 3), (2, 4), (3, 5)]), 1),
            counts(&[(0, 3), (1, 7), (2, 5)])
        );
        assert_eq!(downscale(&counts(&[(5, 1)]), 2), counts(&[(2, 1)]));
    }

    #[test]
    fn decoding_refuses_spans_and_deltas_that_disagree() {
        let spans = [BucketSpan { offset: 0, length: 2 }];
        assert!(absolute_counts(&spans, &[1]).is_none());
        assert!(absolute_counts(&spans, &[1, -2]).is_none());
        assert_eq!(absolute_counts(&spans, &[1, 1]).unwrap(), counts(&[(0, 1), (1, 2)]));
    }

    /// The bucket index of `v > 0` at `schema`, by definition.
    fn index_of(v: f64, schema: i32) -> i32 {
        #[allow(clippy::cast_possible_truncation)]
        let i = (v.log2() * f64::from(schema).exp2()).ceil() as i32;
        i
    }

    fn histogram_of(values: &[f64], schema: i32, zero_threshold: f64) -> NativeHistogramValue {
        let (mut positive, mut negative, mut zero) = (BucketCounts::new(), BucketCounts::new(), 0);
        for &v in values {
            if v.abs() <= zero_threshold {
                zero += 1;
            } else if v > 0.0 {
                *positive.entry(index_of(v, schema)).or_default() += 1;
            } else {
                *negative.entry(index_of(-v, schema)).or_default() += 1;
            }
        }
        NativeHistogramValue::from_counts(schema, zero_threshold, zero, values.iter().sum(), &positive, &negative)
    }

    proptest::proptest! {
        /// Merging two histograms equals the histogram of both sets of observations, at the lower
        /// schema and the wider zero bucket.
        #[test]
        fn merge_equals_the_histogram_of_all_observations(
            a in proptest::collection::vec(-1e6f64..1e6, 0..60),
            b in proptest::collection::vec(-1e6f64..1e6, 0..60),
            schema_a in -4i32..=8,
            schema_b in -4i32..=8,
            threshold_a in proptest::sample::select(vec![0.0, 1e-3, 0.5]),
            threshold_b in proptest::sample::select(vec![0.0, 1e-3, 0.5]),
        ) {
            let merged = histogram_of(&a, schema_a, threshold_a).merge(&histogram_of(&b, schema_b, threshold_b)).unwrap();
            let schema = schema_a.min(schema_b);
            let threshold = f64::max(threshold_a, threshold_b);
            // Observations of a zero bucket stay there; the others' buckets at or under the wider
            // threshold join it. So build the expectation from each side's own zero bucket.
            let all: Vec<f64> = a.iter().chain(&b).copied().collect();
            let expected = histogram_of(&all, schema, 0.0);
            proptest::prop_assert_eq!(merged.count, Number::Int(i64::try_from(all.len()).unwrap()));
            proptest::prop_assert_eq!(merged.schema, schema);
            let in_zero = |v: f64, own: f64| v.abs() <= own || upper_bound(schema, index_of(v.abs(), schema)) <= threshold;
            let zero = a.iter().filter(|v| in_zero(**v, threshold_a)).count() + b.iter().filter(|v| in_zero(**v, threshold_b)).count();
            proptest::prop_assert_eq!(merged.zero_count, Number::Int(i64::try_from(zero).unwrap()));
            let mut positive = expected.positive_counts().unwrap();
            let mut negative = expected.negative_counts().unwrap();
            for (v, own) in a.iter().map(|v| (*v, threshold_a)).chain(b.iter().map(|v| (*v, threshold_b))) {
                if in_zero(v, own) && v != 0.0 {
                    let side = if v > 0.0 { &mut positive } else { &mut negative };
                    let index = index_of(v.abs(), schema);
                    *side.get_mut(&index).unwrap() -= 1;
                }
            }
            positive.retain(|_, c| *c > 0);
            negative.retain(|_, c| *c > 0);
            proptest::prop_assert_eq!(merged.positive_counts().unwrap(), positive);
            proptest::prop_assert_eq!(merged.negative_counts().unwrap(), negative);
        }

        /// Spans and deltas decode to the counts they were made from.
        #[test]
        fn spans_and_deltas_round_trip(pairs in proptest::collection::btree_map(-300i32..300, 1u64..1000, 0..50)) {
            let h = NativeHistogramValue::from_counts(3, 0.0, 0, 0.0, &pairs, &BucketCounts::new());
            proptest::prop_assert_eq!(h.positive_counts().unwrap(), pairs);
        }
    }
}
