//! Where an observation falls in a native histogram: its exponential bucket's index at a schema.
//!
//! Bucket `i` of schema `s` holds `2^((i-1)/2^s) < v <= 2^(i/2^s)`. Buckets nest: bucket `i` at
//! schema 8 lies inside bucket `ceil(i / 2^(8-s))` at schema `s`, so the index is found once at
//! the finest schema and shifted down to the one asked for. At schema 8 the index is the binary
//! exponent times 256 plus the bucket of the mantissa within its octave, which a table indexed by
//! the mantissa's top ten bits finds to within one bucket and one comparison settles: no
//! logarithm, no search, no branch on the schema.

use std::sync::LazyLock;

use crate::snapshot::native_histogram::{MAX_SCHEMA, MIN_SCHEMA};

/// Buckets per octave at the finest schema.
const FINE: i32 = 1 << MAX_SCHEMA;
/// Mantissa bits that index the table.
const PREFIX_BITS: u32 = 10;
/// Explicit mantissa bits of an `f64`.
const MANTISSA_BITS: u32 = 52;

/// The tables, built once per process.
#[derive(Debug)]
pub(crate) struct BucketIndex {
    /// `bounds[j] = 2^(j/256)`, the upper bound of the `j`-th bucket of an octave, `j` in 0..=256.
    bounds: Box<[f64]>,
    /// For each mantissa prefix, the first `j` (at least 1) whose bound is at least the smallest
    /// mantissa with that prefix.
    first_candidate: Box<[u16]>,
}

static INDEX: LazyLock<BucketIndex> = LazyLock::new(BucketIndex::build);

impl BucketIndex {
    /// The process' tables.
    pub(crate) fn get() -> &'static Self {
        &INDEX
    }

    fn build() -> Self {
        let bounds: Box<[f64]> = (0..=FINE).map(|j| (f64::from(j) / f64::from(FINE)).exp2()).collect();
        let first_candidate = (0..1u32 << PREFIX_BITS)
            .map(|prefix| {
                let low = 1.0 + f64::from(prefix) / f64::from(1u32 << PREFIX_BITS);
                let j = bounds.partition_point(|b| *b < low).max(1);
                u16::try_from(j).expect("at most 256")
            })
            .collect();
        Self { bounds, first_candidate }
    }

    /// The index at schema 8 of `v`, a positive number (`+Inf` falls in the highest bucket, whose
    /// upper bound is `2^1024`).
    #[inline]
    #[allow(clippy::cast_possible_wrap)] // j is at most 257
    fn fine_index(&self, v: f64) -> i32 {
        let bits = v.to_bits();
        let biased_exponent = ((bits >> MANTISSA_BITS) & 0x7ff) as i32;
        if biased_exponent == 0 {
            // Subnormal: far below any zero threshold in use; the definition serves.
            return (v.log2() * f64::from(FINE)).ceil() as i32;
        }
        if biased_exponent == 0x7ff {
            return 1024 * FINE;
        }
        let exponent = biased_exponent - 1023;
        let fraction = bits & ((1 << MANTISSA_BITS) - 1);
        if fraction == 0 {
            // A power of two is the upper bound of its bucket.
            return exponent * FINE;
        }
        let mantissa = f64::from_bits(bits & ((1 << MANTISSA_BITS) - 1) | (1023 << MANTISSA_BITS));
        let candidate = usize::from(self.first_candidate[(fraction >> (MANTISSA_BITS - PREFIX_BITS)) as usize]);
        // A prefix spans 1/1024 of the octave, less than the narrowest bucket (2^(1/256) - 1), so
        // the bucket is the candidate or the next one.
        let j = candidate + usize::from(mantissa > self.bounds[candidate]);
        exponent * FINE + j as i32
    }

    /// The index of the bucket of `v` (positive, `+Inf` allowed) at `schema`.
    #[inline]
    pub(crate) fn index(&self, v: f64, schema: i32) -> i32 {
        debug_assert!((MIN_SCHEMA..=MAX_SCHEMA).contains(&schema));
        // `ceil(i / 2^k)` as a floor division: an arithmetic shift floors negative indexes too.
        ((self.fine_index(v) - 1) >> (MAX_SCHEMA - schema)) + 1
    }
}

/// The index of the native histogram bucket of `magnitude` (positive; `+Inf` allowed) at
/// `schema` (in `MIN_SCHEMA..=MAX_SCHEMA`): the `i` with `2^((i-1)/2^schema) < magnitude <=
/// 2^(i/2^schema)`.
#[must_use]
#[inline]
pub fn native_bucket_index(magnitude: f64, schema: i32) -> i32 {
    BucketIndex::get().index(magnitude, schema.clamp(MIN_SCHEMA, MAX_SCHEMA))
}

/// The schema whose buckets grow by the largest factor not above `factor` (`factor` > 1), within
/// the schemas Prometheus accepts, as `client_golang` picks it.
#[must_use]
pub(crate) fn schema_for_factor(factor: f64) -> i32 {
    let floor = factor.log2().log2().floor();
    if floor <= -f64::from(MAX_SCHEMA) {
        MAX_SCHEMA
    } else if floor >= -f64::from(MIN_SCHEMA) {
        MIN_SCHEMA
    } else {
        -(floor as i32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::native_histogram::upper_bound;

    #[test]
    fn powers_of_two_are_upper_bounds() {
        let index = BucketIndex::get();
        for schema in MIN_SCHEMA..=MAX_SCHEMA {
            assert_eq!(index.index(1.0, schema), 0);
            assert_eq!(index.index(1.0001, schema), 1);
            assert_eq!(index.index(0.9999, schema), 0);
        }
        assert_eq!(index.index(2.0, 0), 1);
        assert_eq!(index.index(2.0, 3), 8);
        assert_eq!(index.index(0.5, 3), -8);
        assert_eq!(index.index(1024.0, -2), 3); // buckets of factor 16: (256, 4096]
        assert_eq!(index.index(f64::INFINITY, 8), 1024 * 256);
        assert_eq!(index.index(f64::MAX, 8), 1024 * 256);
        assert_eq!(index.index(f64::INFINITY, -4), 64);
    }

    #[test]
    fn schema_follows_the_factor() {
        assert_eq!(schema_for_factor(1.1), 3);
        assert_eq!(schema_for_factor(2.0), 0);
        assert_eq!(schema_for_factor(1.0001), 8);
        assert_eq!(schema_for_factor(1e12), -4);
        assert_eq!(schema_for_factor(4.0), -1);
        // The factor of the schema picked is never above the one asked for.
        for factor in [1.005, 1.01, 1.05, 1.1, 1.2, 1.5, 3.0, 100.0] {
            let schema = schema_for_factor(factor);
            assert!((-f64::from(schema)).exp2().exp2() <= factor, "{factor}: {schema}");
        }
    }

    proptest::proptest! {
        /// The index is the one of the definition, for any value not within rounding of a bound.
        #[test]
        fn index_is_the_definitions(mantissa in 1.0f64..2.0, exponent in -1000i32..1000, schema in MIN_SCHEMA..=MAX_SCHEMA) {
            let v = mantissa * f64::from(exponent).exp2();
            let i = BucketIndex::get().index(v, schema);
            let (low, high) = (upper_bound(schema, i - 1), upper_bound(schema, i));
            let near = |b: f64| ((v - b) / b).abs() < 1e-12;
            proptest::prop_assume!(!near(low) && !near(high));
            proptest::prop_assert!(low < v && v <= high, "{} at schema {}: bucket {} is ({}, {}]", v, schema, i, low, high);
        }

        /// Subnormals follow the definition too.
        #[test]
        fn subnormals_have_buckets(bits in 1u64..(1 << 52), schema in MIN_SCHEMA..=MAX_SCHEMA) {
            let v = f64::from_bits(bits);
            let i = BucketIndex::get().index(v, schema);
            proptest::prop_assert!(upper_bound(schema, i) >= v * (1.0 - 1e-12));
        }
    }
}
