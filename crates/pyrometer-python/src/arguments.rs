//! Python arguments the backends and summaries share, turned into native values with
//! `ValueError`s that name the argument.

use std::collections::HashMap;
use std::time::Duration;

use pyo3::prelude::*;
use pyo3::types::PyFloat;

/// A positive number of seconds (`interval`, `max_age_seconds`...) as a duration.
pub(crate) fn positive_seconds(name: &str, value: f64) -> PyResult<Duration> {
    Duration::try_from_secs_f64(value).ok().filter(|d| !d.is_zero()).ok_or_else(|| {
        crate::errors::to_py(pyrometer_core::Error::InvalidOption {
            message: format!("{name} must be positive, got {value}"),
        })
    })
}

/// A count setting (`shards`, `max_connections`...), at least 1: `ValueError` otherwise, a
/// negative one included (not the `OverflowError` of an unsigned argument).
pub(crate) fn at_least_one(name: &str, value: i64) -> PyResult<usize> {
    usize::try_from(value)
        .ok()
        .filter(|n| *n >= 1)
        .ok_or_else(|| crate::errors::setting_to_py(format!("{name} must be at least 1, got {value}")))
}

/// A dict of names to values (tags, resource attributes, headers) as pairs sorted by name, so
/// that what is sent does not depend on the dict's order.
pub(crate) fn sorted_pairs(map: Option<HashMap<String, String>>) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = map.unwrap_or_default().into_iter().collect();
    pairs.sort();
    pairs
}

/// A number as upstream reads it with `float(value)`: a float as it is, anything else through
/// `float()` itself, so that strings, `Decimal`s and numpy scalars convert, and a bad value raises
/// `float()`'s own `ValueError` or `TypeError`.
pub(crate) fn float_of(value: &Bound<'_, PyAny>) -> PyResult<f64> {
    match value.cast::<PyFloat>() {
        Ok(float) => Ok(float.value()),
        Err(_) => value.py().get_type::<PyFloat>().call1((value,))?.extract(),
    }
}

/// A counter's increment: a number as `float()` reads it, but a value that is no float and
/// does not read as a number (a `Decimal('nan')`, a `Decimal('snan')`) first goes through
/// upstream's `amount < 0`, which raises for it (`decimal.InvalidOperation`) rather than
/// making the total NaN.
pub(crate) struct Increment(pub(crate) f64);

impl<'a, 'py> FromPyObject<'a, 'py> for Increment {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let amount = obj.extract::<f64>();
        let unread = match &amount {
            Ok(amount) => amount.is_nan() && !obj.is_exact_instance_of::<PyFloat>(),
            Err(_) => true,
        };
        if unread {
            obj.lt(0)?;
        }
        Ok(Self(amount?))
    }
}

/// Any iterable of `T`, as upstream takes label names, buckets and states through `tuple()` or
/// `list()`: a list, a tuple, a generator or `dict.keys()` alike (and a string, one item per
/// character, as `tuple("ab")` reads it).
pub(crate) struct Items<T>(pub(crate) Vec<T>);

impl<T> Default for Items<T> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<'a, 'py, T> FromPyObject<'a, 'py> for Items<T>
where
    T: for<'b> FromPyObject<'b, 'py>,
{
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let mut items = Vec::with_capacity(obj.len().unwrap_or(0));
        for item in obj.try_iter()? {
            items.push(item?.extract().map_err(Into::into)?);
        }
        Ok(Self(items))
    }
}
