//! `Info`.

use std::collections::HashMap;

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
            return Err(to_py(pyrometer_core::Error::InfoLabelOverlap {
                label_names: labelnames.repr()?.to_string(),
                pairs: val.repr()?.to_string(),
            }));
        }
        if val.values().iter().any(|v| v.is_none()) {
            return Err(to_py(pyrometer_core::Error::MissingInfoValue));
        }
        let pairs: HashMap<String, String> = val.extract()?;
        series.set(pairs).map_err(to_py)
    }
});
