//! Exposition of `Metric` objects that come from something other than a native registry: a
//! restricted view, a user's own object with `collect()`.

use pyo3::prelude::*;
use pyo3::types::PyBytes;
use pyrometer_core::MetricFamily;
use pyrometer_expo::{
    Escaping, GraphiteLabels, OpenMetricsVersion, Syntax, encode_graphite, negotiate_text,
    openmetrics_version_to_bytes, text_to_bytes,
};

use crate::metric_objects::family_from_py;

fn families(metrics: &Bound<'_, PyAny>) -> PyResult<Vec<MetricFamily>> {
    metrics.try_iter()?.map(|m| family_from_py(&m?)).collect()
}

/// Unknown escaping names fall back to the default, as upstream's negotiation does.
pub(crate) fn escaping(name: &str) -> Escaping {
    name.parse().unwrap_or_default()
}

/// `Metric` objects in the Prometheus text format.
#[pyfunction]
#[pyo3(signature = (metrics, escaping_name = "underscores"))]
pub(crate) fn generate_text<'py>(metrics: &Bound<'py, PyAny>, escaping_name: &str) -> PyResult<Bound<'py, PyBytes>> {
    let families = families(metrics)?;
    let py = metrics.py();
    let bytes = py.detach(|| text_to_bytes(&families, escaping(escaping_name)));
    Ok(PyBytes::new(py, &bytes))
}

/// `Metric` objects as OpenMetrics text of `version` (native histogram samples from 2.0.0 on).
#[pyfunction]
#[pyo3(signature = (metrics, escaping_name = "underscores", version = "1.0.0"))]
pub(crate) fn generate_openmetrics<'py>(
    metrics: &Bound<'py, PyAny>,
    escaping_name: &str,
    version: &str,
) -> PyResult<Bound<'py, PyBytes>> {
    let families = families(metrics)?;
    let py = metrics.py();
    let version = OpenMetricsVersion::from_version(version);
    let bytes = py
        .detach(|| openmetrics_version_to_bytes(&families, escaping(escaping_name), version))
        .map_err(crate::errors::expo_to_py)?;
    Ok(PyBytes::new(py, &bytes))
}

/// How `GraphiteBridge(tags=...)` joins labels to the path.
pub(crate) fn graphite_labels(tags: bool) -> GraphiteLabels {
    if tags { GraphiteLabels::Tags } else { GraphiteLabels::Path }
}

/// `Metric` objects as Graphite plaintext lines stamped `timestamp`.
#[pyfunction]
#[pyo3(signature = (metrics, prefix = "", tags = false, timestamp = 0))]
pub(crate) fn generate_graphite<'py>(
    metrics: &Bound<'py, PyAny>,
    prefix: &str,
    tags: bool,
    timestamp: i64,
) -> PyResult<Bound<'py, PyBytes>> {
    let families = families(metrics)?;
    let py = metrics.py();
    let text = py.detach(|| {
        let mut out = String::new();
        encode_graphite(&mut out, &families, prefix, graphite_labels(tags), timestamp);
        out
    });
    Ok(PyBytes::new(py, text.as_bytes()))
}

/// What `choose_encoder` answers an Accept header with: the syntax (`"text"` or
/// `"openmetrics"`), the OpenMetrics version asked for, the name escaping and the Content-Type.
#[pyfunction]
pub(crate) fn negotiate(accept: Option<&str>) -> PyResult<(&'static str, Option<String>, &'static str, String)> {
    let format = negotiate_text(accept).map_err(crate::errors::expo_to_py)?;
    let syntax = match format.syntax() {
        Syntax::OpenMetrics(_) => "openmetrics",
        _ => "text",
    };
    Ok((syntax, format.version().map(str::to_owned), format.escaping().as_str(), format.content_type().to_owned()))
}
