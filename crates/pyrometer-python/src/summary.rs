//! `Summary`.

use pyo3::prelude::*;
use pyrometer_core::{Quantiles, Summary};

use crate::context_managers::Timer;
use crate::metric_class::metric_class;

/// `prometheus_client`'s `Summary` reports no quantiles.
#[allow(clippy::unnecessary_wraps)]
fn no_quantiles(_py: Python<'_>, _args: &crate::family_handle::MetricArgs) -> PyResult<Option<Quantiles>> {
    Ok(None)
}

metric_class!(PySummary, "Summary", Summary, "summary", options() => no_quantiles, {
    /// Records one observation.
    fn observe(&self, amount: f64) -> PyResult<()> {
        self.observe_value(amount)
    }

    /// Observes the duration of a block or function, in seconds.
    fn time(slf: &Bound<'_, Self>) -> Timer {
        Timer::observing(slf.as_any())
    }
});

impl PySummary {
    /// `observe(value)`, for native callers.
    pub(crate) fn observe_value(&self, value: f64) -> PyResult<()> {
        self.0.series()?.observe(value);
        if let Some(stored) = &self.0.stored {
            stored.observe(value);
        }
        Ok(())
    }
}
