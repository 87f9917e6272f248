//! `SampledCounter`: a counter that records a random fraction of increments, scaled (see
//! [`pyrometer_core::SampledCounter`]). Not in `prometheus_client`; the registry layer's
//! `SampledCounter` stores into it.

use pyo3::prelude::*;
use pyrometer_core::{SampleRate, SampledCounter};

use crate::errors::to_py;
use crate::family_handle::MetricArgs;
use crate::metric_class::metric_class;

fn checked_rate(_py: Python<'_>, _args: &mut MetricArgs, sample_rate: f64) -> PyResult<SampleRate> {
    SampleRate::new(sample_rate).map_err(to_py)
}

metric_class!(PySampledCounter, "SampledCounter", SampledCounter, "counter", options(sample_rate: f64 = 1.0) => checked_rate, {
    /// Increments by `amount` (default 1) with probability `sample_rate`, by `amount /
    /// sample_rate` when it does; negative amounts raise `ValueError`.
    #[pyo3(signature = (amount = 1.0))]
    fn inc(&self, amount: f64) -> PyResult<()> {
        let series = self.0.series()?;
        if amount < 0.0 {
            return Err(to_py(pyrometer_core::Error::NegativeIncrement));
        }
        series.inc_by(amount);
        Ok(())
    }

    /// The estimated total.
    fn _get(&self) -> PyResult<f64> {
        Ok(self.0.series()?.get())
    }

    /// The fraction of increments recorded.
    #[getter]
    fn sample_rate(&self) -> f64 {
        self.0.family.options().get()
    }
});
