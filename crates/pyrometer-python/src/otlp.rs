//! `OtlpExporter`: a registry exported to an OpenTelemetry collector on an interval (see
//! [`pyrometer_export::otlp`]), for the registry layer's OpenTelemetry backend.

use std::collections::HashMap;

use pyo3::prelude::*;
use pyrometer_export::otlp::{OtlpExporter, OtlpOptions, PeriodicExporter};

use crate::arguments::{positive_seconds, sorted_pairs};
use crate::registry::PyCollectorRegistry;

/// Exports `registry` to `endpoint` (`http://host:4318/v1/metrics`) every `interval` seconds
/// from a native thread, and once more at `close()`.
#[pyclass(name = "OtlpExporter", module = "pyrometer._native", frozen)]
pub(crate) struct PyOtlpExporter(PeriodicExporter);

#[pymethods]
impl PyOtlpExporter {
    #[new]
    #[pyo3(signature = (registry, endpoint, *, interval = 60.0, resource = None, headers = None, timeout = 10.0, max_retries = 5))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        registry: &Bound<'_, PyCollectorRegistry>,
        endpoint: &str,
        interval: f64,
        resource: Option<HashMap<String, String>>,
        headers: Option<HashMap<String, String>>,
        timeout: f64,
        max_retries: u32,
    ) -> PyResult<Self> {
        let options = OtlpOptions {
            resource: sorted_pairs(resource),
            headers: sorted_pairs(headers),
            timeout: positive_seconds("timeout", timeout)?,
            max_retries,
            ..OtlpOptions::default()
        };
        let exporter = OtlpExporter::new(endpoint, options).map_err(crate::errors::setting_to_py)?;
        let registry = registry.get().inner.clone();
        PeriodicExporter::start(exporter, registry, positive_seconds("interval", interval)?)
            .map(Self)
            .map_err(crate::errors::transport_to_py)
    }

    /// Exports now and waits for it (a collection may need the GIL: it is released meanwhile).
    fn export(&self, py: Python<'_>) {
        py.detach(|| self.0.export_now());
    }

    /// Exports a last time and stops.
    fn close(&self, py: Python<'_>) {
        py.detach(|| self.0.shutdown());
    }

    /// Exports that succeeded.
    #[getter]
    fn exports(&self) -> u64 {
        self.0.exports()
    }

    /// Exports that failed after their retries.
    #[getter]
    fn failures(&self) -> u64 {
        self.0.failures()
    }

    /// The error of the last failed export.
    #[getter]
    fn last_error(&self) -> Option<String> {
        self.0.last_error()
    }
}
