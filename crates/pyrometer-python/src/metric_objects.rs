//! Python's collected-data objects (`metrics_core.Metric`, `samples.Sample`, `Exemplar`,
//! `Timestamp`) and the native snapshots they mirror, converted both ways.

use std::sync::Arc;

use crate::arguments::float_of;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyFloat, PyInt, PyList, PyString, PyTuple, PyType};
use pyrometer_core::{
    BucketSpan, Exemplar, LabelSet, MetricFamily, MetricType, NativeHistogramValue, Number, Sample, SampleName,
    Timestamp,
};

/// The Python classes snapshots become, imported once.
struct Classes {
    metric: Py<PyType>,
    sample: Py<PyType>,
    exemplar: Py<PyType>,
    timestamp: Py<PyType>,
    native_histogram: Py<PyType>,
    bucket_span: Py<PyType>,
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
            native_histogram: class(&samples, "NativeHistogram")?,
            bucket_span: class(&samples, "BucketSpan")?,
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
    let exemplar = sample.exemplar.as_deref().map(|e| exemplar_to_py(py, classes, e)).transpose()?;
    let name = sample.name.full(family);
    if let Some(native) = &sample.native {
        // As upstream's parser builds it: no value, and `None` for labels when there are none.
        let labels = if labels.is_empty() { None } else { Some(labels) };
        let native = native_to_py(py, classes, native)?;
        return classes.sample.bind(py).call1((name, labels, py.None(), timestamp, exemplar, native));
    }
    let value = number(py, sample.value, integral);
    classes.sample.bind(py).call1((name, labels, value, timestamp, exemplar))
}

fn exemplar_to_py<'py>(py: Python<'py>, classes: &Classes, exemplar: &Exemplar) -> PyResult<Bound<'py, PyAny>> {
    let timestamp = exemplar.timestamp.map(|t| timestamp_to_py(py, classes, t)).transpose()?;
    classes.exemplar.bind(py).call1((labels_to_py(py, &exemplar.labels)?, exemplar.value, timestamp))
}

fn number_to_py(py: Python<'_>, n: Number) -> Bound<'_, PyAny> {
    match n {
        Number::Int(i) => PyInt::new(py, i).into_any(),
        Number::Float(f) => PyFloat::new(py, f).into_any(),
    }
}

/// A `NativeHistogram` as upstream's parser builds it: spans and deltas as tuples, `None` where
/// there are none; exemplars `None` where there are none.
fn native_to_py<'py>(py: Python<'py>, classes: &Classes, native: &NativeHistogramValue) -> PyResult<Bound<'py, PyAny>> {
    let spans = |spans: &[BucketSpan]| -> PyResult<Option<Bound<'py, PyTuple>>> {
        if spans.is_empty() {
            return Ok(None);
        }
        let items = spans
            .iter()
            .map(|s| classes.bucket_span.bind(py).call1((s.offset, s.length)))
            .collect::<PyResult<Vec<_>>>()?;
        Ok(Some(PyTuple::new(py, items)?))
    };
    let deltas = |spans: &[BucketSpan], deltas: &[i64]| -> PyResult<Option<Bound<'py, PyTuple>>> {
        if spans.is_empty() { Ok(None) } else { Ok(Some(PyTuple::new(py, deltas)?)) }
    };
    let exemplars = if native.exemplars.is_empty() {
        None
    } else {
        let items = native.exemplars.iter().map(|e| exemplar_to_py(py, classes, e)).collect::<PyResult<Vec<_>>>()?;
        Some(PyTuple::new(py, items)?)
    };
    classes.native_histogram.bind(py).call1((
        number_to_py(py, native.count),
        number_to_py(py, native.sum),
        native.schema,
        number_to_py(py, native.zero_threshold),
        number_to_py(py, native.zero_count),
        spans(&native.positive_spans)?,
        spans(&native.negative_spans)?,
        deltas(&native.positive_spans, &native.positive_deltas)?,
        deltas(&native.negative_spans, &native.negative_deltas)?,
        exemplars,
    ))
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
    let metric_type: MetricType =
        type_name.parse().map_err(|unknown: pyrometer_core::UnknownMetricType| crate::errors::to_py(unknown.into()))?;
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
    let exemplar = if exemplar.is_none() { None } else { Some(Arc::new(exemplar_from_py(&exemplar)?)) };
    // A sample type of a collector's own may lack the attribute: it then has no native histogram.
    let native = match sample.getattr("native_histogram") {
        Ok(native) if !native.is_none() => Some(Arc::new(native_from_py(&native)?)),
        _ => None,
    };
    let labels = sample.getattr("labels")?;
    let value = match &native {
        // A native histogram sample's value is its count; upstream's has `None` there.
        Some(native) => native.count.as_f64(),
        None => float_of(&sample.getattr("value")?)?,
    };
    Ok(Sample {
        name: SampleName::Full(name.into()),
        labels: if labels.is_none() && native.is_some() { LabelSet::EMPTY } else { collected_labels(&labels)? },
        extra_label: None,
        value,
        timestamp: timestamp_from_py(&sample.getattr("timestamp")?)?,
        exemplar,
        native,
    })
}

fn exemplar_from_py(exemplar: &Bound<'_, PyAny>) -> PyResult<Exemplar> {
    Ok(Exemplar {
        labels: labels_from_py(&exemplar.getattr("labels")?)?,
        value: float_of(&exemplar.getattr("value")?)?,
        timestamp: timestamp_from_py(&exemplar.getattr("timestamp")?)?,
    })
}

/// A number kept as the type it was given, so that it prints as upstream's `str()` does.
fn number_from_py(value: &Bound<'_, PyAny>) -> PyResult<Number> {
    if value.is_instance_of::<PyInt>() {
        if let Ok(i) = value.extract::<i64>() {
            return Ok(Number::Int(i));
        }
    }
    Ok(Number::Float(float_of(value)?))
}

/// A `NativeHistogram` (or anything with its attributes).
fn native_from_py(native: &Bound<'_, PyAny>) -> PyResult<NativeHistogramValue> {
    let spans = |name: &str| -> PyResult<Vec<BucketSpan>> {
        let spans = native.getattr(name)?;
        if spans.is_none() {
            return Ok(Vec::new());
        }
        spans
            .try_iter()?
            .map(|span| {
                let span = span?;
                Ok(BucketSpan { offset: span.get_item(0)?.extract()?, length: span.get_item(1)?.extract()? })
            })
            .collect()
    };
    let deltas = |name: &str| -> PyResult<Vec<i64>> {
        let deltas = native.getattr(name)?;
        if deltas.is_none() { Ok(Vec::new()) } else { deltas.try_iter()?.map(|d| d?.extract()).collect() }
    };
    let exemplars = native.getattr("nh_exemplars")?;
    let exemplars = if exemplars.is_none() {
        Vec::new()
    } else {
        exemplars.try_iter()?.map(|e| exemplar_from_py(&e?).map(Arc::new)).collect::<PyResult<_>>()?
    };
    Ok(NativeHistogramValue {
        count: number_from_py(&native.getattr("count_value")?)?,
        sum: number_from_py(&native.getattr("sum_value")?)?,
        schema: native.getattr("schema")?.extract()?,
        zero_threshold: number_from_py(&native.getattr("zero_threshold")?)?,
        zero_count: number_from_py(&native.getattr("zero_count")?)?,
        positive_spans: spans("pos_spans")?,
        positive_deltas: deltas("pos_deltas")?,
        negative_spans: spans("neg_spans")?,
        negative_deltas: deltas("neg_deltas")?,
        exemplars,
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
                return Err(crate::errors::label_value_not_text(&value.get_type().name()?.to_string()));
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
        // Before the epoch, a `Timestamp` holds negative nanoseconds; the snapshot their size.
        let nsec: i64 = timestamp.getattr("nsec")?.extract()?;
        let nsec = u32::try_from(nsec.unsigned_abs()).map_err(|e| {
            crate::errors::to_py(pyrometer_core::Error::InvalidOption { message: format!("nsec: {e}") })
        })?;
        return Ok(Some(Timestamp::Exact { sec: sec.extract()?, nsec }));
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
