//! The text and OpenMetrics parsers, returning `Metric` objects.

use pyo3::prelude::*;
use pyo3::types::{PyList, PyString};
use pyrometer_core::MetricFamily;

use crate::metric_objects::parsed_family_to_py;

fn to_list(py: Python<'_>, parsed: Result<Vec<MetricFamily>, pyrometer_expo::Error>) -> PyResult<Bound<'_, PyList>> {
    let families = parsed.map_err(crate::errors::expo_to_py)?;
    let list = PyList::empty(py);
    for family in &families {
        list.append(parsed_family_to_py(py, family)?)?;
    }
    Ok(list)
}

/// The families of a Prometheus text exposition; `ValueError` at the first bad line.
#[pyfunction]
pub(crate) fn parse_text<'py>(py: Python<'py>, text: &Bound<'py, PyString>) -> PyResult<Bound<'py, PyList>> {
    let text = unicode(text)?;
    let parsed = py.detach(|| pyrometer_expo::parse_text(text));
    to_list(py, parsed)
}

/// The families of an OpenMetrics exposition; `ValueError` at the first bad line.
#[pyfunction]
pub(crate) fn parse_openmetrics<'py>(py: Python<'py>, text: &Bound<'py, PyString>) -> PyResult<Bound<'py, PyList>> {
    let text = unicode(text)?;
    let parsed = py.detach(|| pyrometer_expo::parse_openmetrics(text));
    to_list(py, parsed)
}

/// The text as UTF-8; a lone surrogate, which no exposition can carry, is a `ValueError` that
/// says on which line.
fn unicode<'a>(text: &'a Bound<'_, PyString>) -> PyResult<&'a str> {
    text.to_str().map_err(|_| {
        let line =
            text.to_string_lossy().lines().position(|l| l.contains(char::REPLACEMENT_CHARACTER)).map_or(1, |i| i + 1);
        pyo3::exceptions::PyValueError::new_err(format!(
            "line {line}: Invalid text: a lone surrogate cannot be read as UTF-8"
        ))
    })
}
