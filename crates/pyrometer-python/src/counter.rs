//! `Counter`.

use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use pyrometer_core::Counter;

use crate::arguments::Increment;
use crate::context_managers::python_context;
use crate::errors::to_py;
use crate::metric_class::metric_class;
use crate::metric_objects::exemplar_arg;
use crate::value::Value;

metric_class!(PyCounter, "Counter", Counter, "counter", {
    /// Increments by `amount` (default 1); negative amounts raise `ValueError`.
    #[pyo3(signature = (amount = Increment(1.0), exemplar = None), text_signature = "($self, amount=1.0, exemplar=None)")]
    fn inc(&self, amount: Increment, exemplar: Option<Bound<'_, PyDict>>) -> PyResult<()> {
        let (series, Increment(amount)) = (self.0.series()?, amount);
        if amount < 0.0 {
            return Err(to_py(pyrometer_core::Error::NegativeIncrement));
        }
        match exemplar {
            None => {
                series.inc_by(amount);
                Ok(())
            }
            Some(labels) => Self::inc_with_exemplar(series, amount, &labels),
        }
    }

    /// Counts exceptions of these types leaving a block or function.
    #[pyo3(signature = (exception = None))]
    fn count_exceptions<'py>(
        slf: &Bound<'py, Self>,
        exception: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        slf.get().0.series()?;
        let py = slf.py();
        let exception = exception.unwrap_or_else(|| py.get_type::<PyException>().into_any());
        python_context(py, "ExceptionCounter", (slf, exception))
    }

    /// What `_value` is upstream, for code that reads `metric._value.get()`.
    #[getter]
    fn _value(slf: &Bound<'_, Self>) -> Value {
        Value::of(slf.as_any())
    }

    /// Sets the counter back to zero.
    fn reset(&self) -> PyResult<()> {
        self.0.series()?.reset();
        Ok(())
    }

    /// The current value (what `_value.get()` reads upstream).
    fn _get(&self) -> PyResult<f64> {
        Ok(self.0.series()?.get())
    }
});

impl PyCounter {
    /// `inc(amount)` for the hot path: `false` leaves the call (and its error) to `inc`.
    #[inline]
    pub(crate) fn try_inc(&self, amount: f64) -> bool {
        match &self.0.series {
            Some(series) if amount >= 0.0 => {
                series.inc_by(amount);
                true
            }
            _ => false,
        }
    }

    /// `inc` with an exemplar: kept out of line so that the common call carries none of it.
    #[cold]
    fn inc_with_exemplar(series: &Counter, amount: f64, labels: &Bound<'_, PyDict>) -> PyResult<()> {
        let Some(exemplar) = exemplar_arg(Some(labels), amount)? else {
            series.inc_by(amount);
            return Ok(());
        };
        series.inc_with_exemplar(amount, exemplar).map_err(to_py)
    }
}
