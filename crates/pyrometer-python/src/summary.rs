//! `Summary`.

use pyo3::prelude::*;
use pyrometer_core::{Quantiles, Summary};

use crate::arguments::positive_seconds;
use crate::context_managers::{Sink, Timer, timer};
use crate::metric_class::metric_class;

/// `prometheus_client`'s `Summary` reports no quantiles; given `quantiles`, this one does, over
/// a sliding window of `max_age_seconds` in `age_buckets` steps, each step keeping at most
/// `max_samples` bins of values within 1% of each other.
fn window_options(
    _py: Python<'_>,
    _args: &mut crate::family_handle::MetricArgs,
    quantiles: Option<Vec<f64>>,
    max_age_seconds: f64,
    age_buckets: usize,
    max_samples: usize,
) -> PyResult<Option<Quantiles>> {
    let Some(quantiles) = quantiles else { return Ok(None) };
    let max_age = positive_seconds("max_age_seconds", max_age_seconds)?;
    if age_buckets == 0 || max_samples == 0 {
        return Err(crate::errors::to_py(pyrometer_core::Error::InvalidOption {
            message: "age_buckets and max_samples must be at least 1".to_owned(),
        }));
    }
    Ok(Some(Quantiles { max_age, age_buckets, max_bins: max_samples, ..Quantiles::new(quantiles) }))
}

metric_class!(
    PySummary, "Summary", Summary, "summary",
    options(
        quantiles: Option<Vec<f64>> = None,
        max_age_seconds: f64 = 600.0,
        age_buckets: usize = 5,
        max_samples: usize = 2048
    ) => window_options,
    {
    /// Records one observation.
    fn observe(&self, amount: f64) -> PyResult<()> {
        self.observe_value(amount)
    }

    /// Observes the duration of a block or function, in seconds.
    fn time<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, Timer>> {
        timer(slf.as_any(), &slf.get().0.idle_timer, PySummary::TIMED, None)
    }

    /// The `q` quantile of the observations in the window, within the stated relative error;
    /// `None` when the window is empty or the summary was made without `quantiles`.
    fn quantile(&self, q: f64) -> PyResult<Option<f64>> {
        if !(0.0..=1.0).contains(&q) {
            return Err(crate::errors::to_py(pyrometer_core::Error::InvalidOption { message: format!("quantile must lie between 0 and 1, got {q}") }));
        }
        Ok(self.0.series()?.quantile(q))
    }
});

impl PySummary {
    /// How `time()` reports: the duration is observed.
    pub(crate) const TIMED: Sink = Sink {
        method: "observe",
        native: |metric, seconds| metric.cast_exact::<Self>().ok().map(|s| s.get().observe_value(seconds)),
    };

    /// `observe(value)` for the hot path: `false` leaves the call (and its error) to `observe`.
    #[inline]
    pub(crate) fn try_observe(&self, value: f64) -> bool {
        self.0.series.is_some() && self.observe_value(value).is_ok()
    }

    /// `observe(value)`, for native callers.
    pub(crate) fn observe_value(&self, value: f64) -> PyResult<()> {
        self.0.series()?.observe(value);
        Ok(())
    }
}
