//! What `push_to_gateway` and its siblings send, made by the Rust Pushgateway client's rules:
//! the group's URL and the gzipped body. The request itself is the handler's to send, as
//! upstream's `handler` contract has it.

use pyo3::prelude::*;
use pyo3::types::PyBytes;
use pyrometer_export::pushgateway::{escape_grouping_key, group_url_as_given, gzip};

/// The URL of the group of `job` and `grouping_key` (pairs of text, in the order to send them)
/// on `gateway`, as upstream builds it.
#[pyfunction]
pub(crate) fn pushgateway_url(gateway: &str, job: &str, grouping_key: Vec<(String, String)>) -> String {
    let pairs: Vec<(&str, &str)> = grouping_key.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    group_url_as_given(gateway, job, &pairs)
}

/// `data` gzipped, with the GIL released.
#[pyfunction]
pub(crate) fn gzip_body<'py>(py: Python<'py>, data: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
    let compressed = py.detach(|| gzip(data)).map_err(|e| crate::errors::io_to_py(&e))?;
    Ok(PyBytes::new(py, &compressed))
}

/// A grouping key label as the two URL path segments the group's URL carries.
#[pyfunction]
pub(crate) fn pushgateway_segments(key: &str, value: &str) -> (String, String) {
    escape_grouping_key(key, value)
}
