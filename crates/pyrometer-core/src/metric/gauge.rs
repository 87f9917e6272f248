//! Gauge: a value that goes up and down.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use super::atomic_f64::AtomicF64;
use super::kind::{Metric, SeriesContext};
use super::metadata::FamilyMeta;
use super::mirror::{Mirror, SeriesMirror, SeriesShape};
use crate::error::Error;
use crate::metric_type::MetricType;
use crate::snapshot::sample::Sample;
use crate::snapshot::timestamp::now_seconds;

/// A function a scrape calls for a gauge's value. It may fail, and the scrape fails with it.
pub type ValueFunction = Arc<dyn Fn() -> Result<f64, Error> + Send + Sync>;

/// A value that can be set, raised and lowered, or read from a function at each scrape.
/// Cloning gives another handle to the same value.
///
/// ```
/// use pyrometer_core::Gauge;
/// let g = Gauge::default();
/// g.set(10.0);
/// g.dec(2.5);
/// assert_eq!(g.get(), 7.5);
/// g.set_function(|| 42.0);
/// assert_eq!(g.exposed()?, 42.0);
/// # Ok::<(), pyrometer_core::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
#[must_use = "gauges do nothing unless you use them"]
pub struct Gauge(Arc<Cell>);

#[derive(Default)]
struct Cell {
    value: AtomicF64,
    /// Whether `function` holds one: a scrape of a plain gauge takes no lock.
    has_function: AtomicBool,
    function: RwLock<Option<ValueFunction>>,
    mirror: Mirror,
}

impl fmt::Debug for Cell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cell")
            .field("value", &self.value.get())
            .field("has_function", &self.has_function.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Gauge {
    /// Sets the value.
    #[inline]
    pub fn set(&self, value: f64) {
        self.0.value.set(value);
        if let Some(mirror) = &self.0.mirror {
            mirror.set(value);
        }
    }

    /// Adds `amount` (which may be negative).
    #[inline]
    pub fn inc(&self, amount: f64) {
        self.0.value.add(amount);
        if let Some(mirror) = &self.0.mirror {
            mirror.add(amount);
        }
    }

    /// Subtracts `amount`.
    #[inline]
    pub fn dec(&self, amount: f64) {
        self.inc(-amount);
    }

    /// Sets the value to the current Unix time in seconds.
    pub fn set_to_current_time(&self) {
        self.set(now_seconds());
    }

    /// The value last set, raised or lowered (a function, if set, does not change it).
    #[must_use]
    pub fn get(&self) -> f64 {
        self.0.value.get()
    }

    /// From now on a scrape reports what `function` returns, as `set_function` of
    /// `prometheus_client` and `GaugeFunc` of `client_golang` do.
    pub fn set_function(&self, function: impl Fn() -> f64 + Send + Sync + 'static) {
        self.set_fallible_function(Arc::new(move || Ok(function())));
    }

    /// Like [`set_function`](Self::set_function), for a function that may fail; a failure fails
    /// the scrape (wrap the cause with [`Error::collect`]).
    pub fn set_fallible_function(&self, function: ValueFunction) {
        *self.0.function.write().unwrap_or_else(PoisonError::into_inner) = Some(function);
        self.0.has_function.store(true, Ordering::Release);
    }

    /// What a scrape reports: the function's answer if one is set, else the value.
    ///
    /// # Errors
    /// The function's failure.
    pub fn exposed(&self) -> Result<f64, Error> {
        if !self.0.has_function.load(Ordering::Acquire) {
            return Ok(self.get());
        }
        // The function is cloned out so that it runs under no lock.
        let function = self.0.function.read().unwrap_or_else(PoisonError::into_inner).clone();
        function.map_or_else(|| Ok(self.get()), |f| f())
    }
}

impl Metric for Gauge {
    const TYPE: MetricType = MetricType::Gauge;
    const RUNS_USER_CODE: bool = true;
    type Options = ();

    fn build((): &(), _meta: &Arc<FamilyMeta>, mirror: Option<Arc<dyn SeriesMirror>>) -> Self {
        Self(Arc::new(Cell { mirror, ..Cell::default() }))
    }

    fn shape((): &()) -> Option<SeriesShape<'_>> {
        Some(SeriesShape::Gauge)
    }

    fn mirror(&self) -> Option<&Arc<dyn SeriesMirror>> {
        self.0.mirror.as_ref()
    }

    fn collect_samples(&self, series: &SeriesContext<'_>, out: &mut Vec<Sample>) -> Result<(), Error> {
        out.push(Sample::new("", series.labels.clone(), self.exposed()?));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gauge_goes_both_ways() {
        let g = Gauge::default();
        g.inc(3.0);
        g.dec(5.0);
        assert_eq!(g.get(), -2.0);
        g.set(f64::INFINITY);
        assert_eq!(g.get(), f64::INFINITY);
    }

    #[test]
    fn a_function_answers_scrapes_and_its_failure_fails_them() {
        let g = Gauge::default();
        g.set(1.0);
        let calls = Arc::new(AtomicF64::default());
        let counted = Arc::clone(&calls);
        g.set_function(move || {
            counted.add(1.0);
            counted.get() * 10.0
        });
        assert_eq!(g.exposed(), Ok(10.0));
        assert_eq!(g.exposed(), Ok(20.0));
        assert_eq!(g.get(), 1.0, "the stored value is left alone");
        g.set_fallible_function(Arc::new(|| Err(Error::collect(std::fmt::Error))));
        assert!(matches!(g.exposed(), Err(Error::Collect(_))));
    }

    #[test]
    fn set_to_current_time_is_recent() {
        let g = Gauge::default();
        g.set_to_current_time();
        assert!(g.get() > 1.6e9);
    }
}
