//! Histogram bucket layouts.

use std::sync::Arc;

use crate::error::Error;
use crate::float_text::go_float;

/// `prometheus_client`'s default bounds, tuned for web request latencies in seconds.
pub const DEFAULT_BUCKETS: [f64; 15] =
    [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, f64::INFINITY];

/// The upper bounds of a histogram's buckets, always ending with `+Inf`, with their `le` label
/// values formatted once and shared by every series.
#[derive(Clone, Debug, PartialEq)]
pub struct Buckets {
    bounds: Arc<[f64]>,
    le: Arc<[Arc<str>]>,
}

impl Buckets {
    /// Bounds in ascending order; `+Inf` is appended when missing. At least one finite bound is
    /// needed, as two buckets are the least a histogram has.
    pub fn new(bounds: impl IntoIterator<Item = f64>) -> Result<Self, Error> {
        let mut bounds: Vec<f64> = bounds.into_iter().collect();
        if bounds.iter().any(|b| b.is_nan()) || bounds.windows(2).any(|w| w[0] > w[1]) {
            return Err(Error::BucketsNotSorted);
        }
        if bounds.last() != Some(&f64::INFINITY) {
            bounds.push(f64::INFINITY);
        }
        if bounds.len() < 2 {
            return Err(Error::TooFewBuckets);
        }
        let le = bounds.iter().map(|b| Arc::from(go_float(*b))).collect();
        Ok(Self { bounds: bounds.into(), le })
    }

    /// `count` bounds `start`, `start + width`, ... (plus `+Inf`).
    pub fn linear(start: f64, width: f64, count: usize) -> Result<Self, Error> {
        if count == 0 {
            return Err(Error::InvalidBucketLayout { reason: "count must be at least 1" });
        }
        if width.is_nan() || width <= 0.0 {
            return Err(Error::InvalidBucketLayout { reason: "width must be positive" });
        }
        Self::new((0..count).map(|i| start + width * i as f64))
    }

    /// `count` bounds `start`, `start * factor`, ... (plus `+Inf`).
    pub fn exponential(start: f64, factor: f64, count: usize) -> Result<Self, Error> {
        if count == 0 {
            return Err(Error::InvalidBucketLayout { reason: "count must be at least 1" });
        }
        if start.is_nan() || start <= 0.0 {
            return Err(Error::InvalidBucketLayout { reason: "start must be positive" });
        }
        if factor.is_nan() || factor <= 1.0 {
            return Err(Error::InvalidBucketLayout { reason: "factor must be greater than 1" });
        }
        Self::new(std::iter::successors(Some(start), |b| Some(b * factor)).take(count))
    }

    /// Up to this many bounds, `bucket_of` counts the bounds below a value instead of searching.
    const LINEAR_SEARCH_BOUNDS: usize = 32;

    /// The bucket `value` falls in: the first whose bound is at least `value`. NaN falls in
    /// none, as in `prometheus_client`, though it still joins a histogram's sum.
    #[inline]
    pub(crate) fn bucket_of(&self, value: f64) -> Option<usize> {
        if value.is_nan() {
            return None;
        }
        // The last bound is +Inf, so every other value finds a bucket.
        let bounds = &*self.bounds;
        if bounds.len() <= Self::LINEAR_SEARCH_BOUNDS {
            // Counting the bounds below `value` compares them all at once (vector compares, no
            // chain of dependent loads and branches as in a binary search).
            Some(bounds.iter().filter(|b| **b < value).count())
        } else {
            Some(bounds.partition_point(|b| *b < value))
        }
    }

    /// The upper bounds, `+Inf` last.
    #[must_use]
    pub fn bounds(&self) -> &[f64] {
        &self.bounds
    }

    pub(crate) fn le_labels(&self) -> &[Arc<str>] {
        &self.le
    }
}

impl Default for Buckets {
    fn default() -> Self {
        Self::new(DEFAULT_BUCKETS).expect("default buckets are valid")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inf_is_appended_and_le_is_formatted_like_go() {
        let b = Buckets::new([1.0, 1e6]).unwrap();
        assert_eq!(b.bounds(), &[1.0, 1e6, f64::INFINITY]);
        let le: Vec<&str> = b.le_labels().iter().map(|s| &**s).collect();
        assert_eq!(le, ["1.0", "1e+06", "+Inf"]);
    }

    #[test]
    fn unsorted_or_nan_bounds_are_rejected() {
        assert_eq!(Buckets::new([2.0, 1.0]), Err(Error::BucketsNotSorted));
        assert_eq!(Buckets::new([f64::NAN]), Err(Error::BucketsNotSorted));
    }

    #[test]
    fn inf_alone_is_too_few_buckets() {
        assert_eq!(Buckets::new([f64::INFINITY]), Err(Error::TooFewBuckets));
        assert_eq!(Buckets::new([]), Err(Error::TooFewBuckets));
    }

    #[test]
    fn linear_and_exponential_layouts() {
        assert_eq!(Buckets::linear(1.0, 2.0, 3).unwrap().bounds(), &[1.0, 3.0, 5.0, f64::INFINITY]);
        assert_eq!(Buckets::exponential(1.0, 10.0, 3).unwrap().bounds(), &[1.0, 10.0, 100.0, f64::INFINITY]);
        assert!(Buckets::linear(0.0, 0.0, 3).is_err());
        assert!(Buckets::exponential(0.0, 2.0, 3).is_err());
        assert!(Buckets::exponential(1.0, 1.0, 3).is_err());
    }

    #[test]
    fn default_buckets_are_prometheus_clients() {
        assert_eq!(Buckets::default().bounds().len(), 15);
    }
}
