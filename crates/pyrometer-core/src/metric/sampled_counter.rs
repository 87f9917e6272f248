//! Sampled counter: a counter for very hot paths that records a random fraction of increments,
//! scaled so that its total stays an unbiased estimate.

use std::cell::Cell;
use std::hash::BuildHasher;
use std::sync::Arc;

use foldhash::fast::RandomState;

use super::counter::Counter;
use super::kind::{Metric, SeriesContext};
use super::metadata::FamilyMeta;
use super::mirror::{SeriesMirror, SeriesShape};
use crate::error::Error;
use crate::metric_type::MetricType;
use crate::snapshot::sample::Sample;

/// The fraction of increments a [`SampledCounter`] records: in (0, 1].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SampleRate(f64);

impl SampleRate {
    /// Every increment is recorded.
    pub const ALL: Self = Self(1.0);

    /// A rate in (0, 1].
    pub fn new(rate: f64) -> Result<Self, Error> {
        if rate > 0.0 && rate <= 1.0 { Ok(Self(rate)) } else { Err(Error::InvalidSampleRate) }
    }

    /// The rate.
    #[must_use]
    pub fn get(self) -> f64 {
        self.0
    }

    /// A random draw that is true with probability `rate`, from this thread's generator.
    #[inline]
    #[must_use]
    pub fn draw(self) -> bool {
        self.0 >= 1.0 || random_u64() < (self.0 * 2f64.powi(64)) as u64
    }
}

impl Default for SampleRate {
    fn default() -> Self {
        Self::ALL
    }
}

/// A counter that records each increment with probability `rate`, multiplied by `1 / rate`: the
/// expected total is the true total, and the work per increment is one random draw (a few
/// instructions on a per-thread generator) plus, for the recorded fraction, one atomic add.
///
/// ```
/// use pyrometer_core::{SampleRate, SampledCounter};
/// let c = SampledCounter::new(SampleRate::new(0.01)?);
/// for _ in 0..1_000_000 {
///     c.inc();
/// }
/// assert!((c.get() - 1e6).abs() < 5e4); // the standard deviation is about 9,950
/// # Ok::<(), pyrometer_core::Error>(())
/// ```
#[derive(Clone, Debug)]
#[must_use = "counters do nothing unless you use them"]
pub struct SampledCounter {
    counter: Counter,
    /// An increment is recorded when a uniform `u64` draw is below this; `u64::MAX` records all.
    threshold: u64,
    scale: f64,
}

impl SampledCounter {
    /// A counter recording a `rate` fraction of increments.
    pub fn new(rate: SampleRate) -> Self {
        Self::over(Counter::default(), rate)
    }

    fn over(counter: Counter, rate: SampleRate) -> Self {
        let threshold = if rate.0 >= 1.0 { u64::MAX } else { (rate.0 * 2f64.powi(64)) as u64 };
        Self { counter, threshold, scale: 1.0 / rate.0 }
    }

    /// Adds one, if sampled.
    #[inline]
    pub fn inc(&self) {
        self.inc_by(1.0);
    }

    /// Adds `amount`, if sampled, scaled by `1 / rate`. Negative and NaN amounts are ignored.
    #[inline]
    pub fn inc_by(&self, amount: f64) {
        let _ = self.record(amount);
    }

    /// Adds `amount` if sampled, and tells what was added (`amount / rate`), for callers that
    /// mirror the counter elsewhere.
    #[inline]
    #[must_use = "use `inc_by` when what was added does not matter"]
    pub fn record(&self, amount: f64) -> Option<f64> {
        let added = if self.threshold == u64::MAX {
            amount
        } else if random_u64() < self.threshold {
            amount * self.scale
        } else {
            return None;
        };
        self.counter.inc_by(added);
        Some(added)
    }

    /// The estimated total.
    #[must_use]
    pub fn get(&self) -> f64 {
        self.counter.get()
    }

    /// The rate.
    #[must_use]
    pub fn rate(&self) -> SampleRate {
        SampleRate(1.0 / self.scale)
    }
}

impl Default for SampledCounter {
    fn default() -> Self {
        Self::new(SampleRate::ALL)
    }
}

impl Metric for SampledCounter {
    const TYPE: MetricType = MetricType::Counter;
    type Options = SampleRate;

    /// The counter it scales into is mirrored as a counter: the mirror sees what was added.
    fn build(rate: &SampleRate, meta: &Arc<FamilyMeta>, mirror: Option<Arc<dyn SeriesMirror>>) -> Self {
        Self::over(Counter::build(&(), meta, mirror), *rate)
    }

    fn shape(_rate: &SampleRate) -> Option<SeriesShape<'_>> {
        Some(SeriesShape::Counter)
    }

    fn mirror(&self) -> Option<&Arc<dyn SeriesMirror>> {
        self.counter.mirror()
    }

    fn collect_samples(&self, series: &SeriesContext<'_>, out: &mut Vec<Sample>) -> Result<(), Error> {
        self.counter.collect_samples(series, out)
    }
}

thread_local! {
    /// The state of this thread's generator; 0 until first use.
    static STATE: Cell<u64> = const { Cell::new(0) };
}

/// A uniform draw from this thread's wyrand generator (fast and statistically sound; not for
/// secrets), seeded per thread from a random hash of the thread's id.
#[inline]
fn random_u64() -> u64 {
    STATE.with(|state| {
        let mut s = state.get();
        if s == 0 {
            s = RandomState::default().hash_one(std::thread::current().id()) | 1;
        }
        s = s.wrapping_add(0xa076_1d64_78bd_642f);
        state.set(s);
        let product = u128::from(s) * u128::from(s ^ 0xe703_7ed1_a0b4_28db);
        (product >> 64) as u64 ^ product as u64
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_outside_zero_to_one_are_refused() {
        for bad in [0.0, -0.5, 1.5, f64::NAN] {
            assert_eq!(SampleRate::new(bad), Err(Error::InvalidSampleRate));
        }
        assert_eq!(SampleRate::new(0.25).unwrap().get(), 0.25);
    }

    #[test]
    fn rate_one_records_every_increment_exactly() {
        let c = SampledCounter::new(SampleRate::ALL);
        (0..1000).for_each(|_| c.inc());
        c.inc_by(0.5);
        assert_eq!(c.get(), 1000.5);
    }

    /// The total of n increments at rate p is (1/p) x Binomial(n, p): mean n, standard deviation
    /// sqrt(n (1 - p) / p). Each estimate must fall within 5 standard deviations (a false failure
    /// about once in 1.7 million runs), and their mean over runs much closer.
    #[test]
    fn the_estimate_is_unbiased() {
        for rate in [0.5f64, 0.1, 0.01] {
            let n: f64 = 200_000.0;
            let sd = (n * (1.0 - rate) / rate).sqrt();
            let runs = 20;
            let mut sum = 0.0;
            for _ in 0..runs {
                let c = SampledCounter::new(SampleRate::new(rate).unwrap());
                (0..200_000).for_each(|_| c.inc());
                assert!((c.get() - n).abs() < 5.0 * sd, "rate {rate}: {} is off {n} by more than 5 sd", c.get());
                sum += c.get();
            }
            let mean = sum / f64::from(runs);
            assert!((mean - n).abs() < 5.0 * sd / f64::from(runs).sqrt(), "rate {rate}: mean {mean}");
        }
    }

    #[test]
    fn threads_draw_independently() {
        let c = SampledCounter::new(SampleRate::new(0.1).unwrap());
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let c = c.clone();
                std::thread::spawn(move || (0..100_000).for_each(|_| c.inc()))
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let sd = (400_000.0f64 * 0.9 / 0.1).sqrt();
        assert!((c.get() - 400_000.0).abs() < 5.0 * sd, "{}", c.get());
    }
}
