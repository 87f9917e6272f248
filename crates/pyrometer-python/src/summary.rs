//! `Summary`.

use pyo3::prelude::*;
use pyrometer_core::Summary;

use crate::metric_class::metric_class;

metric_class!(PySummary, "Summary", Summary, "summary", {
    /// Records one observation.
    fn observe(&self, amount: f64) -> PyResult<()> {
        self.0.series()?.observe(amount);
        Ok(())
    }
});
