//! `Info`.

use std::collections::HashMap;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use pyrometer_core::Info;

use crate::errors::to_py;
use crate::metric_class::metric_class;

metric_class!(PyInfo, "Info", Info, "info", {
    /// Replaces the key-value pairs.
    fn info(&self, val: &Bound<'_, PyDict>) -> PyResult<()> {
        let series = self.0.series()?;
        let names = &self.0.family.meta().label_names;
        let py = val.py();
        let overlaps = val.keys().iter().any(|k| k.extract::<String>().is_ok_and(|k| names.iter().any(|n| **n == *k)));
        if overlaps {
            let labelnames = PyTuple::new(py, names.iter().map(ToString::to_string))?;
            return Err(PyValueError::new_err(format!(
                "Overlapping labels for Info metric, metric: {} child: {}",
                labelnames.repr()?,
                val.repr()?
            )));
        }
        if val.values().iter().any(|v| v.is_none()) {
            return Err(PyValueError::new_err("Label value cannot be None"));
        }
        let pairs: HashMap<String, String> = val.extract()?;
        series.set(pairs).map_err(to_py)
    }
});
