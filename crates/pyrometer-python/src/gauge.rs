//! `Gauge`.

use std::sync::{Arc, PoisonError};

use pyo3::PyTypeInfo;
use pyo3::prelude::*;
use pyo3::types::PyFloat;
use pyrometer_core::{Error, Gauge};

use crate::context_managers::{Sink, Timer, python_context, timer};
use crate::family_handle::MetricArgs;
use crate::metric_class::metric_class;
use crate::value::Value;

/// Checks `multiprocess_mode` as upstream does: the modes are those the multiprocess store
/// knows how to combine ([`Merge::from_gauge_mode`](pyrometer_store::Merge::from_gauge_mode)).
fn checked_mode(_py: Python<'_>, args: &mut MetricArgs, multiprocess_mode: String) -> PyResult<()> {
    args.store_rule = pyrometer_store::Merge::from_gauge_mode(&multiprocess_mode)
        .ok_or_else(|| crate::errors::to_py(Error::InvalidMultiprocessMode { mode: multiprocess_mode.clone() }))?;
    Ok(())
}

metric_class!(PyGauge, "Gauge", Gauge, "gauge", options(multiprocess_mode: String = String::from("all")) => checked_mode, {
    /// Adds `amount` (default 1).
    #[pyo3(signature = (amount = 1.0))]
    fn inc(&self, amount: f64) -> PyResult<()> {
        self.0.series()?;
        self.try_inc(amount);
        Ok(())
    }

    /// Subtracts `amount` (default 1).
    #[pyo3(signature = (amount = 1.0))]
    fn dec(&self, amount: f64) -> PyResult<()> {
        self.0.series()?;
        self.try_dec(amount);
        Ok(())
    }

    /// Sets the value, read with `float()` as upstream does (`"1.5"` and `Decimal` included).
    fn set(&self, value: &Bound<'_, PyAny>) -> PyResult<()> {
        self.0.series()?;
        self.set_value(crate::arguments::float_of(value)?)
    }

    /// Sets the gauge to the duration of a block or function, in seconds. On a labelled parent,
    /// the timer's `labels()` picks the child (a parent left unpicked fails when the block ends,
    /// as upstream's).
    fn time<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, Timer>> {
        timer(slf.as_any(), &slf.get().0.idle_timer, PyGauge::TIMED, None)
    }

    /// Raises the gauge while a block or function runs.
    fn track_inprogress<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        slf.get().0.series()?;
        python_context(slf.py(), "InprogressTracker", (slf,))
    }

    /// What `_value` is upstream, for code that reads `metric._value.get()`.
    #[getter]
    fn _value(slf: &Bound<'_, Self>) -> Value {
        Value::of(slf.as_any())
    }

    /// Sets the value to the current Unix time.
    fn set_to_current_time(&self) -> PyResult<()> {
        let series = self.0.series()?;
        series.set_to_current_time();
        Ok(())
    }

    /// From now on a scrape reports `float(function())`; an exception it raises fails the scrape.
    fn set_function(&self, function: Py<PyAny>) -> PyResult<()> {
        let series = self.0.series()?;
        // The series calls the function through the handle's slot, which the garbage collector
        // sees: a function that refers back to this gauge does not keep it alive for ever.
        let slot = Arc::clone(&self.0.held);
        *slot.lock().unwrap_or_else(PoisonError::into_inner) = Some(function);
        series.set_fallible_function(Arc::new(move || {
            Python::attach(|py| {
                let function = slot.lock().unwrap_or_else(PoisonError::into_inner).as_ref().map(|f| f.clone_ref(py));
                // Only a gauge being collected has lost its function.
                let Some(function) = function else { return Ok(f64::NAN) };
                let value = function.call0(py)?;
                PyFloat::type_object(py).call1((value,))?.extract::<f64>()
            })
            .map_err(Error::collect)
        }));
        Ok(())
    }

    /// The current value (what `_value.get()` reads upstream).
    fn _get(&self) -> PyResult<f64> {
        Ok(self.0.series()?.get())
    }
});

impl PyGauge {
    /// `inc(amount)` for the hot path: `false` leaves the call (and its error) to `inc`.
    #[inline]
    pub(crate) fn try_inc(&self, amount: f64) -> bool {
        let Some(series) = &self.0.series else { return false };
        series.inc(amount);
        true
    }

    /// `dec(amount)` for the hot path.
    #[inline]
    pub(crate) fn try_dec(&self, amount: f64) -> bool {
        let Some(series) = &self.0.series else { return false };
        series.dec(amount);
        true
    }

    /// `set(value)` for the hot path.
    #[inline]
    pub(crate) fn try_set(&self, value: f64) -> bool {
        self.0.series.is_some() && self.set_value(value).is_ok()
    }

    pub(crate) fn set_value(&self, value: f64) -> PyResult<()> {
        self.0.series()?.set(value);
        Ok(())
    }

    /// How `time()` reports: the duration is set.
    pub(crate) const TIMED: Sink = Sink {
        method: "set",
        native: |metric, seconds| metric.cast_exact::<Self>().ok().map(|gauge| gauge.get().set_value(seconds)),
    };
}
