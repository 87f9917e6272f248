//! The one place where core errors become the exceptions `prometheus_client` raises.

use pyo3::PyErr;
use pyo3::exceptions::PyValueError;
use pyrometer_core::Error;

pyo3::create_exception!(
    pyrometer._native,
    DuplicateTimeseries,
    PyValueError,
    "A collector would produce sample names another collector already produces."
);

/// The exception `prometheus_client` raises for the same mistake, with its text.
pub(crate) fn to_py(err: Error) -> PyErr {
    match err {
        // Upstream's `labels()` says no more than this.
        Error::LabelCount { .. } => PyValueError::new_err("Incorrect label count"),
        Error::DuplicateTimeseries { .. } => DuplicateTimeseries::new_err(err.to_string()),
        // Names a metric type reserves (`le`, `quantile`) get upstream's message, typo included,
        // so that code matching on it keeps working.
        Error::ReservedLabelName { name } if !name.starts_with("__") => {
            PyValueError::new_err(format!("Reserved label methe fric name: {name}"))
        }
        other => PyValueError::new_err(other.to_string()),
    }
}
