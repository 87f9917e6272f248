//! `Summary`.

use pyo3::prelude::*;
use pyrometer_core::Summary;

use crate::context_managers::Timer;
use crate::metric_class::metric_class;

metric_class!(PySummary, "Summary", Summary, "summary", {
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
