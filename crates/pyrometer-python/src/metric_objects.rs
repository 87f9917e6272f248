//! Python's collected-data objects (`metrics_core.Metric`, `samples.Sample`, `Exemplar`,
//! `Timestamp`) and the native snapshots they mirror, converted both ways.

use std::sync::Arc;

use crate::arguments::float_of;
use pyo3::exceptions::PyAttributeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyFloat, PyInt, PyList, PyString, PyTuple, PyType};
use pyrometer_core::{Exemplar, LabelSet, MetricFamily, MetricType, Sample, SampleName, Timestamp};

/// The Python classes snapshots become, imported once.
struct Classes {
    metric: Py<PyType>,
    sample: Py<PyType>,
    exemplar: Py<PyType>,
    timestamp: Py<PyType>,
}

static CLASSES: PyOnceLock<Classes> = PyOnceLock::new();

fn classes(py: Python<'_>) -> PyResult<&Classes> {
    CLASSES.get_or_try_init(py, || {
        let samples = py.import("pyrometer.samples")?;
        let class = |module: &Bound<'_, PyModule>, name: &str| -> PyResult<Py<PyType>> {
            Ok(module.getattr(name)?.cast_into::<PyType>()?.unbind())
        };
        Ok(Classes {
            metric: class(&py.import("pyrometer.metrics_core")?, "Metric")?,
            sample: class(&samples, "Sample")?,
            exemplar: class(&samples, "Exemplar")?,
            timestamp: class(&samples, "Timestamp")?,
        })
    })
}

/// A `Metric` object holding the family's samples. A state set's values are `int`s (0 or 1),
/// as `Enum` writes them upstream; every other value is a `float`.
pub(crate) fn family_to_py<'py>(py: Python<'py>, family: &MetricFamily) -> PyResult<Bound<'py, PyAny>> {
    metric_object(py, family, family.metric_type == MetricType::StateSet)
}

/// A parsed family's `Metric` object: every value a `float`, as the text read it.
pub(crate) fn parsed_family_to_py<'py>(py: Python<'py>, family: &MetricFamily) -> PyResult<Bound<'py, PyAny>> {
    metric_object(py, family, false)
}

/// `target_info`'s `Metric` object: its value is the `int` 1, as upstream builds it.
pub(crate) fn target_info_to_py<'py>(py: Python<'py>, family: &MetricFamily) -> PyResult<Bound<'py, PyAny>> {
    metric_object(py, family, true)
}

/// A sample's value as the `Metric` objects of its family hold it.
pub(crate) fn value_to_py(py: Python<'_>, metric_type: MetricType, value: f64) -> Bound<'_, PyAny> {
    number(py, value, metric_type == MetricType::StateSet)
}

fn number(py: Python<'_>, value: f64, integral: bool) -> Bound<'_, PyAny> {
    if integral && value.fract() == 0.0 && value.abs() < 9e15 {
        // Exact: the value is a whole number well inside the range an f64 holds exactly.
        #[allow(clippy::cast_possible_truncation)]
        return PyInt::new(py, value as i64).into_any();
    }
    PyFloat::new(py, value).into_any()
}

fn metric_object<'py>(py: Python<'py>, family: &MetricFamily, integral: bool) -> PyResult<Bound<'py, PyAny>> {
    let classes = classes(py)?;
    let metric =
        classes.metric.bind(py).call1((&*family.name, &*family.help, family.metric_type.as_str(), &*family.unit))?;
    let samples = PyList::empty(py);
    for sample in &family.samples {
        samples.append(sample_to_py(py, classes, &family.name, sample, integral)?)?;
    }
    metric.setattr("samples", samples)?;
    Ok(metric)
}

fn sample_to_py<'py>(
    py: Python<'py>,
    classes: &Classes,
    family: &str,
    sample: &Sample,
    integral: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let labels = labels_to_py(py, &sample.all_labels())?;
    let timestamp = sample.timestamp.map(|t| timestamp_to_py(py, classes, t)).transpose()?;
    let exemplar = match &sample.exemplar {
        Some(e) => {
            let timestamp = e.timestamp.map(|t| timestamp_to_py(py, classes, t)).transpose()?;
            Some(classes.exemplar.bind(py).call1((labels_to_py(py, &e.labels)?, e.value, timestamp))?)
        }
        None => None,
    };
    let value = number(py, sample.value, integral);
    classes.sample.bind(py).call1((sample.name.full(family), labels, value, timestamp, exemplar))
}

fn labels_to_py<'py>(py: Python<'py>, labels: &LabelSet) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    for label in labels {
        dict.set_item(&*label.name, &*label.value)?;
    }
    Ok(dict)
}

fn timestamp_to_py<'py>(py: Python<'py>, classes: &Classes, timestamp: Timestamp) -> PyResult<Bound<'py, PyAny>> {
    match timestamp {
        Timestamp::Seconds(s) => Ok(PyFloat::new(py, s).into_any()),
        Timestamp::Exact { sec, nsec } => classes.timestamp.bind(py).call1((sec, nsec)),
    }
}

/// The snapshot of a `Metric` object, or of anything with its attributes. Values are read with
/// `float()`, as upstream's encoders read them. An error names the failing `Metric` as its last
/// argument, as upstream's exposition re-raises it, so that a handler can tell which one failed.
pub(crate) fn family_from_py(metric: &Bound<'_, PyAny>) -> PyResult<MetricFamily> {
    read_family(metric).map_err(|err| naming_metric(err, metric))
}

/// `err` with `metric` appended to its `args` (after an empty message if it had none).
fn naming_metric(err: PyErr, metric: &Bound<'_, PyAny>) -> PyErr {
    let py = metric.py();
    let exception = err.value(py);
    if let Ok(args) = exception.getattr("args").and_then(|a| Ok(a.cast_into::<PyTuple>()?)) {
        let mut items: Vec<Bound<'_, PyAny>> = args.iter().collect();
        if items.is_empty() {
            items.push(PyString::new(py, "").into_any());
        }
        items.push(metric.clone());
        if let Ok(args) = PyTuple::new(py, items) {
            // An exception class that refuses new args keeps its own; the error still stands.
            let _ = exception.setattr("args", args);
        }
    }
    err
}

fn read_family(metric: &Bound<'_, PyAny>) -> PyResult<MetricFamily> {
    let name: String = metric.getattr("name")?.extract()?;
    let help: String = metric.getattr("documentation")?.extract()?;
    let type_name: String = metric.getattr("type")?.extract()?;
    let unit: String = metric.getattr("unit")?.extract()?;
    let metric_type: MetricType = type_name.parse().map_err(crate::errors::to_py)?;
    let samples = metric
        .getattr("samples")?
        .try_iter()?
        .map(|sample| sample_from_py(&sample?))
        .collect::<PyResult<Vec<Sample>>>()?;
    Ok(MetricFamily::from_parts(name.into(), help.into(), metric_type, unit.into(), samples))
}

fn sample_from_py(sample: &Bound<'_, PyAny>) -> PyResult<Sample> {
    let name: String = sample.getattr("name")?.extract()?;
    let exemplar = sample.getattr("exemplar")?;
    let exemplar = if exemplar.is_none() {
        None
    } else {
        Some(Arc::new(Exemplar {
            labels: labels_from_py(&exemplar.getattr("labels")?)?,
            value: float_of(&exemplar.getattr("value")?)?,
            timestamp: timestamp_from_py(&exemplar.getattr("timestamp")?)?,
        }))
    };
    Ok(Sample {
        name: SampleName::Full(name.into()),
        labels: collected_labels(&sample.getattr("labels")?)?,
        extra_label: None,
        value: float_of(&sample.getattr("value")?)?,
        timestamp: timestamp_from_py(&sample.getattr("timestamp")?)?,
        exemplar,
    })
}

/// A label dict; values must be strings, as the encoders upstream require.
pub(crate) fn labels_from_py(labels: &Bound<'_, PyAny>) -> PyResult<LabelSet> {
    let dict = labels.cast::<PyDict>()?;
    let pairs = dict
        .iter()
        .map(|(k, v)| Ok((k.extract::<String>()?, v.extract::<String>()?)))
        .collect::<PyResult<Vec<(String, String)>>>()?;
    Ok(LabelSet::new(pairs))
}

/// A collected sample's label dict. A value that is not a string fails as upstream's encoder
/// fails on it, calling its `replace`: with `AttributeError`.
fn collected_labels(labels: &Bound<'_, PyAny>) -> PyResult<LabelSet> {
    let dict = labels.cast::<PyDict>()?;
    let mut pairs = Vec::with_capacity(dict.len());
    for (name, value) in dict.iter() {
        let value = match value.cast_into::<PyString>() {
            Ok(value) => value.to_str()?.to_owned(),
            Err(not_text) => {
                let value = not_text.into_inner();
                return Err(PyAttributeError::new_err(format!(
                    "'{}' object has no attribute 'replace'",
                    value.get_type().name()?
                )));
            }
        };
        pairs.push((name.extract::<String>()?, value));
    }
    Ok(LabelSet::new(pairs))
}

/// `None`, seconds as a number, or a `Timestamp` with `sec` and `nsec`.
fn timestamp_from_py(timestamp: &Bound<'_, PyAny>) -> PyResult<Option<Timestamp>> {
    if timestamp.is_none() {
        return Ok(None);
    }
    if let Ok(sec) = timestamp.getattr("sec") {
        return Ok(Some(Timestamp::Exact { sec: sec.extract()?, nsec: timestamp.getattr("nsec")?.extract()? }));
    }
    Ok(Some(Timestamp::Seconds(timestamp.extract()?)))
}

/// The exemplar an `inc()` or `observe()` was given, stamped now; `None` for no or an empty
/// dict, as upstream skips a falsy one.
pub(crate) fn exemplar_arg(labels: Option<&Bound<'_, PyDict>>, value: f64) -> PyResult<Option<Exemplar>> {
    let Some(labels) = labels.filter(|l| !l.is_empty()) else { return Ok(None) };
    let labels = labels_from_py(labels.as_any())?;
    let timestamp = Some(Timestamp::Seconds(pyrometer_core::now_seconds()));
    Exemplar::new(labels, value, timestamp).map(Some).map_err(crate::errors::to_py)
}
