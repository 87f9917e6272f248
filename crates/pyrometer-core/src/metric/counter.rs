//! Counter: a total that only goes up.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use super::atomic_f64::AtomicF64;
use super::kind::{Metric, SeriesContext};
use super::metadata::FamilyMeta;
use super::mirror::{Mirror, SeriesMirror, SeriesShape};
use crate::error::Error;
use crate::metric_type::MetricType;
use crate::snapshot::exemplar::Exemplar;
use crate::snapshot::sample::Sample;
use crate::snapshot::timestamp::now_seconds;

/// A monotonically increasing total. Cloning gives another handle to the same value.
///
/// Whole increments go to an integer cell with one relaxed `fetch_add`; fractional ones to a float
/// cell. The value is their sum, so `inc()` costs what a bare atomic add costs.
///
/// ```
/// use pyrometer_core::Counter;
/// let c = Counter::default();
/// c.inc();
/// c.inc_by(2.5);
/// assert_eq!(c.get(), 3.5);
/// ```
#[derive(Clone, Debug, Default)]
#[must_use = "counters do nothing unless you use them"]
pub struct Counter(Arc<CounterCell>);

#[derive(Debug)]
struct CounterCell {
    whole: AtomicU64,
    fraction: AtomicF64,
    created: AtomicF64,
    // Set once an exemplar exists, so that a scrape of the many counters without one takes no lock.
    has_exemplar: AtomicBool,
    exemplar: Mutex<Option<Arc<Exemplar>>>,
    mirror: Mirror,
}

impl Default for CounterCell {
    fn default() -> Self {
        Self::mirrored(None)
    }
}

impl CounterCell {
    fn mirrored(mirror: Mirror) -> Self {
        Self {
            whole: AtomicU64::new(0),
            fraction: AtomicF64::new(0.0),
            created: AtomicF64::new(now_seconds()),
            has_exemplar: AtomicBool::new(false),
            exemplar: Mutex::new(None),
            mirror,
        }
    }
}

/// Largest increment taken by the integer cell: beyond it an `f64` no longer holds every integer.
const EXACT_INTEGER_LIMIT: f64 = 9_007_199_254_740_992.0;

impl Counter {
    /// Adds one.
    #[inline]
    pub fn inc(&self) {
        // Relaxed: a scrape may read a stale total; nothing else is published through it.
        self.0.whole.fetch_add(1, Ordering::Relaxed);
        if let Some(mirror) = &self.0.mirror {
            mirror.add(1.0);
        }
    }

    /// Adds `amount`. Negative and NaN amounts are ignored: a counter never goes down. Use
    /// [`Counter::try_inc_by`] to be told.
    #[inline]
    pub fn inc_by(&self, amount: f64) {
        // In range, `as` truncates exactly: equality means a whole number (and needs no call
        // to `trunc`, which is not an instruction on baseline x86-64).
        if (0.0..EXACT_INTEGER_LIMIT).contains(&amount) && (amount as u64) as f64 == amount {
            self.0.whole.fetch_add(amount as u64, Ordering::Relaxed);
        } else if amount > 0.0 {
            self.0.fraction.add(amount);
        } else {
            return;
        }
        if let Some(mirror) = &self.0.mirror {
            mirror.add(amount);
        }
    }

    /// Adds `amount`, refusing negative amounts.
    pub fn try_inc_by(&self, amount: f64) -> Result<(), Error> {
        if amount < 0.0 {
            return Err(Error::NegativeIncrement);
        }
        self.inc_by(amount);
        Ok(())
    }

    /// Adds `amount` and records an exemplar of it.
    pub fn inc_with_exemplar(&self, amount: f64, exemplar: Exemplar) -> Result<(), Error> {
        self.try_inc_by(amount)?;
        if let Some(mirror) = &self.0.mirror {
            mirror.exemplar(amount, &exemplar);
        }
        *self.0.exemplar.lock().unwrap_or_else(PoisonError::into_inner) = Some(Arc::new(exemplar));
        // Release pairs with the Acquire in `exemplar()`: whoever sees the flag finds the exemplar
        // (the mutex orders it too; the flag only spares the lock).
        self.0.has_exemplar.store(true, Ordering::Release);
        Ok(())
    }

    /// The current total.
    #[must_use]
    pub fn get(&self) -> f64 {
        self.0.whole.load(Ordering::Relaxed) as f64 + self.0.fraction.get()
    }

    /// The last exemplar recorded, if any.
    #[must_use]
    pub fn exemplar(&self) -> Option<Arc<Exemplar>> {
        if !self.0.has_exemplar.load(Ordering::Acquire) {
            return None;
        }
        self.0.exemplar.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Sets the total back to zero and the creation time to now, for a logical restart.
    pub fn reset(&self) {
        self.0.whole.store(0, Ordering::Relaxed);
        self.0.fraction.set(0.0);
        self.0.created.set(now_seconds());
        if let Some(mirror) = &self.0.mirror {
            mirror.set(0.0);
        }
    }

    /// When this series was created or last reset, in seconds since the epoch.
    #[must_use]
    pub fn created(&self) -> f64 {
        self.0.created.get()
    }
}

impl Metric for Counter {
    const TYPE: MetricType = MetricType::Counter;
    type Options = ();

    fn build((): &(), _meta: &Arc<FamilyMeta>, mirror: Option<Arc<dyn SeriesMirror>>) -> Self {
        Self(Arc::new(CounterCell::mirrored(mirror)))
    }

    fn shape((): &()) -> Option<SeriesShape<'_>> {
        Some(SeriesShape::Counter)
    }

    fn mirror(&self) -> Option<&Arc<dyn SeriesMirror>> {
        self.0.mirror.as_ref()
    }

    fn collect_samples(&self, series: &SeriesContext<'_>, out: &mut Vec<Sample>) -> Result<(), Error> {
        let mut total = Sample::new("_total", series.labels.clone(), self.get());
        total.exemplar = self.exemplar();
        out.push(total);
        if series.created {
            out.push(Sample::new("_created", series.labels.clone(), self.created()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::labels::LabelSet;

    #[test]
    fn whole_and_fractional_increments_add_up() {
        let c = Counter::default();
        c.inc();
        c.inc_by(2.0);
        c.inc_by(0.25);
        assert_eq!(c.get(), 3.25);
    }

    #[test]
    fn counter_rejects_negative_increment() {
        let c = Counter::default();
        assert_eq!(c.try_inc_by(-1.0), Err(Error::NegativeIncrement));
        c.inc_by(-1.0);
        c.inc_by(f64::NAN);
        assert_eq!(c.get(), 0.0);
    }

    #[test]
    fn huge_increments_go_to_the_float_cell() {
        let c = Counter::default();
        c.inc_by(1e20);
        assert_eq!(c.get(), 1e20);
    }

    #[test]
    fn reset_zeroes_and_renews_created() {
        let c = Counter::default();
        c.inc_by(5.0);
        let before = c.created();
        c.reset();
        assert_eq!(c.get(), 0.0);
        assert!(c.created() >= before);
    }

    #[test]
    fn exemplar_is_kept_with_the_increment() {
        let c = Counter::default();
        let ex = Exemplar::new(LabelSet::new([("trace_id", "abc")]), 2.0, None).unwrap();
        c.inc_with_exemplar(2.0, ex.clone()).unwrap();
        assert_eq!(c.get(), 2.0);
        assert_eq!(*c.exemplar().unwrap(), ex);
    }

    #[test]
    fn concurrent_increments_are_not_lost() {
        let c = Counter::default();
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let c = c.clone();
                std::thread::spawn(move || (0..10_000).for_each(|_| c.inc()))
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(c.get(), 40_000.0);
    }

    const _: () = assert!(std::mem::size_of::<Counter>() == 8);
}
