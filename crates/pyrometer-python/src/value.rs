//! `metric._value`: upstream's value holder, which tests read with `_value.get()`.

use pyo3::prelude::*;

/// The value of a counter or gauge series, read and written through the metric.
#[pyclass(name = "Value", module = "pyrometer._native", frozen)]
pub(crate) struct Value {
    metric: Py<PyAny>,
}

impl Value {
    pub(crate) fn of(metric: &Bound<'_, PyAny>) -> Self {
        Self { metric: metric.clone().unbind() }
    }
}

#[pymethods]
impl Value {
    /// The current value.
    fn get(&self, py: Python<'_>) -> PyResult<f64> {
        self.metric.bind(py).call_method0("_get")?.extract()
    }

    /// Sets the value: a gauge's `set`, a counter's reset and increment.
    fn set(&self, py: Python<'_>, value: f64) -> PyResult<()> {
        let metric = self.metric.bind(py);
        if metric.hasattr("set")? {
            metric.call_method1("set", (value,))?;
        } else {
            metric.call_method0("reset")?;
            metric.call_method1("inc", (value,))?;
        }
        Ok(())
    }

    /// Adds `amount`.
    fn inc(&self, py: Python<'_>, amount: f64) -> PyResult<()> {
        self.metric.bind(py).call_method1("inc", (amount,)).map(drop)
    }
}
