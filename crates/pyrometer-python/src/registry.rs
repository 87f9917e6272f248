//! `CollectorRegistry`: the native registry and the exposition of what it holds.

use std::collections::HashMap;

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyBytes;
use pyrometer_core::{LabelSet, Registry};
use pyrometer_expo::{Escaping, openmetrics_to_bytes, text_to_bytes};

use crate::errors::to_py;

/// A set of collectors with unique sample names.
#[pyclass(name = "CollectorRegistry", module = "pyrometer._native", frozen, subclass)]
pub(crate) struct PyCollectorRegistry {
    pub(crate) inner: Registry,
}

/// The registry metrics join when none is named: the package's `REGISTRY`.
static DEFAULT_REGISTRY: PyOnceLock<Py<PyCollectorRegistry>> = PyOnceLock::new();

/// Makes `registry` the default for metrics built without one. Called once, by the package.
#[pyfunction]
pub(crate) fn set_default_registry(py: Python<'_>, registry: Py<PyCollectorRegistry>) {
    let _ = DEFAULT_REGISTRY.set(py, registry);
}

pub(crate) fn default_registry(py: Python<'_>) -> Option<Registry> {
    DEFAULT_REGISTRY.get(py).map(|r| r.get().inner.clone())
}

fn escaping(name: &str) -> Escaping {
    // Unknown names fall back to the default, as upstream's negotiation does.
    name.parse().unwrap_or_default()
}

#[pymethods]
impl PyCollectorRegistry {
    #[new]
    #[pyo3(signature = (auto_describe = false, target_info = None, support_collectors_without_names = false))]
    fn new(
        auto_describe: bool,
        target_info: Option<HashMap<String, String>>,
        support_collectors_without_names: bool,
    ) -> PyResult<Self> {
        let _ = support_collectors_without_names;
        let inner = if auto_describe { Registry::with_auto_describe() } else { Registry::new() };
        inner.set_target_info(target_info.map(LabelSet::new)).map_err(to_py)?;
        Ok(Self { inner })
    }

    /// Sets or clears the `target_info` labels.
    fn set_target_info(&self, labels: Option<HashMap<String, String>>) -> PyResult<()> {
        self.inner.set_target_info(labels.map(LabelSet::new)).map_err(to_py)
    }

    /// The `target_info` labels, if set.
    fn get_target_info(&self) -> Option<HashMap<String, String>> {
        self.inner.target_info().map(|set| set.iter().map(|l| (l.name.to_string(), l.value.to_string())).collect())
    }

    /// The value of one sample, or `None`.
    #[pyo3(signature = (name, labels = None))]
    fn get_sample_value(&self, py: Python<'_>, name: &str, labels: Option<HashMap<String, String>>) -> Option<f64> {
        let labels = LabelSet::new(labels.unwrap_or_default());
        py.detach(|| self.inner.get_sample_value(name, &labels))
    }

    /// The registry in the Prometheus text format; the GIL is released while it is built.
    #[pyo3(signature = (escaping_name = "underscores"))]
    fn _generate_text<'py>(&self, py: Python<'py>, escaping_name: &str) -> Bound<'py, PyBytes> {
        let escaping = escaping(escaping_name);
        let bytes = py.detach(|| text_to_bytes(&self.inner.collect(), escaping));
        PyBytes::new(py, &bytes)
    }

    /// The registry as OpenMetrics text; the GIL is released while it is built.
    #[pyo3(signature = (escaping_name = "underscores"))]
    fn _generate_openmetrics<'py>(&self, py: Python<'py>, escaping_name: &str) -> PyResult<Bound<'py, PyBytes>> {
        let escaping = escaping(escaping_name);
        let bytes = py
            .detach(|| openmetrics_to_bytes(&self.inner.collect(), escaping))
            .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?;
        Ok(PyBytes::new(py, &bytes))
    }
}
