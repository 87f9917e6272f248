//! Python arguments the backends and summaries share, turned into native values with
//! `ValueError`s that name the argument.

use std::collections::HashMap;
use std::time::Duration;

use pyo3::PyResult;
use pyo3::exceptions::PyValueError;

/// A positive number of seconds (`interval`, `max_age_seconds`...) as a duration.
pub(crate) fn positive_seconds(name: &str, value: f64) -> PyResult<Duration> {
    Duration::try_from_secs_f64(value)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| PyValueError::new_err(format!("{name} must be positive, got {value}")))
}

/// A dict of names to values (tags, resource attributes, headers) as pairs sorted by name, so
/// that what is sent does not depend on the dict's order.
pub(crate) fn sorted_pairs(map: Option<HashMap<String, String>>) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = map.unwrap_or_default().into_iter().collect();
    pairs.sort();
    pairs
}
