//! `Gauge`.

use pyo3::prelude::*;
use pyrometer_core::Gauge;

use crate::metric_class::metric_class;

metric_class!(PyGauge, "Gauge", Gauge, "gauge", {
    /// Adds `amount` (default 1).
    #[pyo3(signature = (amount = 1.0))]
    fn inc(&self, amount: f64) -> PyResult<()> {
        self.0.series()?.inc(amount);
        Ok(())
    }

    /// Subtracts `amount` (default 1).
    #[pyo3(signature = (amount = 1.0))]
    fn dec(&self, amount: f64) -> PyResult<()> {
        self.0.series()?.dec(amount);
        Ok(())
    }

    /// Sets the value.
    fn set(&self, value: f64) -> PyResult<()> {
        self.0.series()?.set(value);
        Ok(())
    }

    /// Sets the value to the current Unix time.
    fn set_to_current_time(&self) -> PyResult<()> {
        self.0.series()?.set_to_current_time();
        Ok(())
    }

    /// The current value (what `_value.get()` reads upstream).
    fn _get(&self) -> PyResult<f64> {
        Ok(self.0.series()?.get())
    }
});
