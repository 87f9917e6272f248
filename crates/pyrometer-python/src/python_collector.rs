//! A Python object with `collect()` (and perhaps `describe()`), seen by the native registry as
//! one more collector. Collecting it is the only part of a scrape that takes the GIL.

use pyo3::prelude::*;
use pyrometer_core::{CollectOptions, Collector, Description, Error, MetricFamily, MetricType};

use crate::metric_objects::family_from_py;

/// A Python collector and the families it said it produces when it was registered.
#[derive(Debug)]
pub(crate) struct PythonCollector {
    object: Py<PyAny>,
    described: Vec<Description>,
}

impl PythonCollector {
    /// Asks `object` what it produces as `prometheus_client` does: `describe()` if it has one,
    /// else `collect()` under `auto_describe`, else nothing (it clashes with no one).
    pub(crate) fn new(object: &Bound<'_, PyAny>, auto_describe: bool) -> PyResult<Self> {
        let describe = match object.getattr("describe") {
            Ok(describe) => Some(describe),
            Err(_) if auto_describe => Some(object.getattr("collect")?),
            Err(_) => None,
        };
        let mut described = Vec::new();
        if let Some(describe) = describe {
            for metric in describe.call0()?.try_iter()? {
                let metric = metric?;
                let name: String = metric.getattr("name")?.extract()?;
                let type_name: String = metric.getattr("type")?.extract()?;
                // A type the registry does not know reserves no suffixes.
                let metric_type = type_name.parse().unwrap_or(MetricType::Unknown);
                described.push(Description { name: name.into(), metric_type });
            }
        }
        Ok(Self { object: object.clone().unbind(), described })
    }
}

impl Collector for PythonCollector {
    fn collect(&self, _: &CollectOptions, out: &mut Vec<MetricFamily>) -> Result<(), Error> {
        Python::attach(|py| -> PyResult<()> {
            for metric in self.object.bind(py).call_method0("collect")?.try_iter()? {
                out.push(family_from_py(&metric?)?);
            }
            Ok(())
        })
        .map_err(Error::collect)
    }

    fn describe(&self) -> Option<Vec<Description>> {
        Some(self.described.clone())
    }
}
