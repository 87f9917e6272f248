//! The one place where core errors become the exceptions `prometheus_client` raises.

use pyo3::exceptions::PyValueError;
use pyo3::{PyErr, Python};
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
        // A Python collector's own exception comes back as it was raised.
        Error::Collect(ref failure) => match failure.source_error().downcast_ref::<PyErr>() {
            Some(raised) => Python::attach(|py| raised.clone_ref(py)),
            None => PyValueError::new_err(err.to_string()),
        },
        // Upstream leaves its format directive unfilled.
        Error::ExemplarTooLong { .. } => {
            PyValueError::new_err("Exemplar labels have %d UTF-8 characters, exceeding the limit of 128")
        }
        Error::Mirror { reason } => pyo3::exceptions::PyOSError::new_err(reason),
        other => PyValueError::new_err(other.to_string()),
    }
}
