//! A quantile sketch with a relative-error guarantee, in the manner of `DDSketch` (Masson, Rim and
//! Lee, VLDB 2019): values fall into logarithmic bins, so any quantile it answers is within a
//! relative error `α` of a value the exact quantile could be, in memory that grows with the
//! logarithm of the range of values, not their number. Two sketches merge by adding their bins,
//! which is what lets processes, or age buckets, combine.

use std::collections::BTreeMap;

/// Magnitudes below this count as zero.
const MIN_MAGNITUDE: f64 = 1e-12;

/// The bins of a sketch: counts of values whose magnitude falls in `(γ^(k-1), γ^k]`, by `k`.
#[derive(Clone, Debug, Default, PartialEq)]
struct Bins(BTreeMap<i32, u64>);

impl Bins {
    fn add(&mut self, index: i32, count: u64) {
        *self.0.entry(index).or_insert(0) += count;
    }

    fn total(&self) -> u64 {
        self.0.values().sum()
    }

    /// Folds the lowest bins into one until at most `max` remain: only the smallest magnitudes
    /// lose accuracy.
    fn collapse(&mut self, max: usize) {
        while self.0.len() > max.max(1) {
            let Some((_, count)) = self.0.pop_first() else { return };
            if let Some(next) = self.0.values_mut().next() {
                *next += count;
            }
        }
    }
}

/// The bin a value falls in: what a sketch counts, and what it can be rebuilt from (a
/// multiprocess store keeps the bins of each process, and a reader adds them up).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SketchBin {
    /// A value of magnitude below `1e-12`.
    Zero,
    /// A positive value, by the index of its logarithmic bin.
    Positive(i32),
    /// A negative value, by the index of its magnitude's bin.
    Negative(i32),
}

/// A mergeable quantile sketch.
///
/// ```
/// use pyrometer_core::Sketch;
/// let mut s = Sketch::new(0.01, 2048);
/// for v in 1..=1000 {
///     s.observe(f64::from(v));
/// }
/// let median = s.quantile(0.5).unwrap();
/// assert!((median - 500.0).abs() <= 0.01 * 500.0 + 1.0);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Sketch {
    /// `ln γ`, where `γ = (1 + α) / (1 - α)`.
    ln_gamma: f64,
    gamma: f64,
    max_bins: usize,
    positive: Bins,
    negative: Bins,
    zeros: u64,
}

impl Sketch {
    /// A sketch whose quantiles are within `relative_error` (clamped to `(0, 0.5]`) of an exact
    /// quantile's value, keeping at most `max_bins` bins on each side of zero.
    #[must_use]
    pub fn new(relative_error: f64, max_bins: usize) -> Self {
        let alpha = if relative_error.is_finite() && relative_error > 0.0 { relative_error.min(0.5) } else { 0.01 };
        let gamma = (1.0 + alpha) / (1.0 - alpha);
        Self {
            ln_gamma: gamma.ln(),
            gamma,
            max_bins: max_bins.max(1),
            positive: Bins::default(),
            negative: Bins::default(),
            zeros: 0,
        }
    }

    /// Records one value; NaN is ignored.
    pub fn observe(&mut self, value: f64) {
        if value.is_nan() {
            return;
        }
        let magnitude = value.abs();
        if magnitude < MIN_MAGNITUDE {
            self.zeros += 1;
            return;
        }
        let index = self.index(magnitude);
        let (bins, max) =
            if value > 0.0 { (&mut self.positive, self.max_bins) } else { (&mut self.negative, self.max_bins) };
        bins.add(index, 1);
        if bins.0.len() > max {
            bins.collapse(max);
        }
    }

    /// The bin `value` falls in; `None` for NaN.
    #[must_use]
    pub fn bin_of(&self, value: f64) -> Option<SketchBin> {
        if value.is_nan() {
            return None;
        }
        let magnitude = value.abs();
        Some(if magnitude < MIN_MAGNITUDE {
            SketchBin::Zero
        } else if value > 0.0 {
            SketchBin::Positive(self.index(magnitude))
        } else {
            SketchBin::Negative(self.index(magnitude))
        })
    }

    /// Adds `count` values to `bin` (as [`Sketch::bin_of`] gave it, by a sketch of the same
    /// relative error).
    pub fn add_bin(&mut self, bin: SketchBin, count: u64) {
        match bin {
            SketchBin::Zero => self.zeros += count,
            SketchBin::Positive(index) => {
                self.positive.add(index, count);
                self.positive.collapse(self.max_bins);
            }
            SketchBin::Negative(index) => {
                self.negative.add(index, count);
                self.negative.collapse(self.max_bins);
            }
        }
    }

    /// How many values it holds.
    #[must_use]
    pub fn count(&self) -> u64 {
        self.positive.total() + self.negative.total() + self.zeros
    }

    /// Adds another sketch's values to this one. Sketches of different accuracy merge at this
    /// one's accuracy only approximately; merge sketches built alike.
    pub fn merge(&mut self, other: &Self) {
        for (index, count) in &other.positive.0 {
            self.positive.add(*index, *count);
        }
        for (index, count) in &other.negative.0 {
            self.negative.add(*index, *count);
        }
        self.zeros += other.zeros;
        self.positive.collapse(self.max_bins);
        self.negative.collapse(self.max_bins);
    }

    /// Forgets every value.
    pub fn clear(&mut self) {
        self.positive.0.clear();
        self.negative.0.clear();
        self.zeros = 0;
    }

    /// The `q`-quantile (`0 ≤ q ≤ 1`) of the values held, or `None` when there are none (or `q`
    /// is out of range). It is the value of rank `⌊q·(n−1)⌋` in sorted order, give or take the
    /// relative error.
    #[must_use]
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let n = self.count();
        if n == 0 || !(0.0..=1.0).contains(&q) {
            return None;
        }
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
        let rank = (q * (n - 1) as f64).floor() as u64;
        let mut seen = 0u64;
        // Negative values, most negative first: the largest magnitudes come first.
        for (index, count) in self.negative.0.iter().rev() {
            seen += count;
            if seen > rank {
                return Some(-self.value(*index));
            }
        }
        seen += self.zeros;
        if seen > rank {
            return Some(0.0);
        }
        for (index, count) in &self.positive.0 {
            seen += count;
            if seen > rank {
                return Some(self.value(*index));
            }
        }
        None
    }

    #[allow(clippy::cast_possible_truncation)]
    fn index(&self, magnitude: f64) -> i32 {
        (magnitude.ln() / self.ln_gamma).ceil() as i32
    }

    /// The value a bin stands for: the point of `(γ^(k-1), γ^k]` whose relative distance to
    /// both ends is the same, `α`.
    fn value(&self, index: i32) -> f64 {
        2.0 * self.gamma.powi(index) / (self.gamma + 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn exact(sorted: &[f64], q: f64) -> f64 {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
        let rank = (q * (sorted.len() - 1) as f64).floor() as usize;
        sorted[rank]
    }

    #[test]
    fn a_sketch_rebuilt_from_its_bins_answers_alike() {
        let mut sketch = Sketch::new(0.01, 4096);
        let mut rebuilt = Sketch::new(0.01, 4096);
        for v in [-3.5, -0.001, 0.0, 1e-13, 2.0, 2.01, 500.0, f64::NAN] {
            sketch.observe(v);
            if let Some(bin) = rebuilt.bin_of(v) {
                rebuilt.add_bin(bin, 1);
            }
        }
        assert_eq!(rebuilt, sketch);
        assert_eq!(sketch.bin_of(f64::NAN), None);
        assert_eq!(sketch.bin_of(0.0), Some(SketchBin::Zero));
    }

    proptest! {
        /// On any data, every quantile is within the stated relative error of the exact one.
        #[test]
        fn quantiles_are_within_the_relative_error(
            values in prop::collection::vec(prop_oneof![-1e6..1e6f64, 1e-6..1e-3f64, Just(0.0)], 1..2000),
            q in 0.0..=1.0f64,
        ) {
            let mut sketch = Sketch::new(0.01, 4096);
            for v in &values {
                sketch.observe(*v);
            }
            let mut sorted = values.clone();
            sorted.sort_by(f64::total_cmp);
            let want = exact(&sorted, q);
            let got = sketch.quantile(q).unwrap();
            let tolerance = 0.01 * want.abs() + MIN_MAGNITUDE;
            prop_assert!((got - want).abs() <= tolerance * 1.0001, "q={q} exact={want} sketch={got}");
        }

        /// Merging sketches is the same as sketching all the values at once.
        #[test]
        fn merging_equals_observing_everything(
            a in prop::collection::vec(-1e3..1e3f64, 0..500),
            b in prop::collection::vec(-1e3..1e3f64, 0..500),
        ) {
            let (mut left, mut right, mut both) = (Sketch::new(0.02, 4096), Sketch::new(0.02, 4096), Sketch::new(0.02, 4096));
            for v in &a { left.observe(*v); both.observe(*v); }
            for v in &b { right.observe(*v); both.observe(*v); }
            left.merge(&right);
            prop_assert_eq!(left, both);
        }
    }

    #[test]
    fn memory_is_bounded_and_only_low_values_lose_accuracy() {
        let mut sketch = Sketch::new(0.01, 64);
        let mut value = 1e-6;
        while value < 1e9 {
            sketch.observe(value);
            value *= 1.01;
        }
        assert!(sketch.positive.0.len() <= 64);
        let max = sketch.quantile(1.0).unwrap();
        assert!((max - 1e9).abs() <= 0.011 * 1e9, "the top stays accurate: {max}");
    }

    #[test]
    fn empty_and_nan() {
        let mut sketch = Sketch::new(0.01, 16);
        assert_eq!(sketch.quantile(0.5), None);
        sketch.observe(f64::NAN);
        assert_eq!(sketch.count(), 0);
        sketch.observe(3.0);
        assert_eq!(sketch.quantile(1.5), None);
        assert!((sketch.quantile(0.0).unwrap() - 3.0).abs() <= 0.03);
    }
}
