//! `LayerWrite`: one write method of a registry-layer collector (`increment`, `set`,
//! `observe`...) served by its native metric, labels given as a dict.
//!
//! The layer (`pyrometer.prometheus_registry`) binds `writer.write` in place of the collector's
//! Python method while nothing else needs to see the write (no statsd client, the metric
//! registered). The hot path (`hot_path.rs`) takes the plain call, a number and a dict of string
//! values naming a series written before, and updates that series without a Python frame; every
//! other call goes to `fallback`, the collector's own Python method, so that new series, errors
//! and messages stay the layer's.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString, PyTuple};

use crate::counter::PyCounter;
use crate::gauge::PyGauge;
use crate::histogram::PyHistogram;
use crate::metric_class::LabelledMetric;
use crate::summary::PySummary;

/// The native metric a writer updates, and how.
enum Target {
    CounterInc(Py<PyCounter>),
    GaugeInc(Py<PyGauge>),
    GaugeDec(Py<PyGauge>),
    GaugeSet(Py<PyGauge>),
    HistogramObserve(Py<PyHistogram>),
    SummaryObserve(Py<PySummary>),
}

/// One write method of a registry-layer collector: `write(value, labels=None)`.
#[pyclass(frozen, module = "pyrometer._native")]
pub(crate) struct LayerWrite {
    target: Target,
    /// A `weakref.WeakMethod` of the collector's Python method: what every call the native
    /// path does not take runs. Weak, so that a collector holding its writer is not a cycle.
    fallback: Py<PyAny>,
    /// The value of a call without one (`increment()`); `None` where the value is required.
    default: Option<f64>,
}

#[pymethods]
impl LayerWrite {
    /// A writer of `metric` (a native `Counter`, `Gauge`, `Histogram` or `Summary`) for
    /// `operation` (`inc`, `dec`, `set` or `observe`, as the metric has it).
    #[new]
    fn new(metric: &Bound<'_, PyAny>, operation: &str, fallback: Py<PyAny>) -> PyResult<Self> {
        let counter = || metric.cast::<PyCounter>().ok().map(|m| m.clone().unbind());
        let gauge = || metric.cast::<PyGauge>().ok().map(|m| m.clone().unbind());
        let target = match operation {
            "inc" => counter().map(Target::CounterInc).or_else(|| gauge().map(Target::GaugeInc)),
            "dec" => gauge().map(Target::GaugeDec),
            "set" => gauge().map(Target::GaugeSet),
            "observe" => metric
                .cast::<PyHistogram>()
                .ok()
                .map(|m| Target::HistogramObserve(m.clone().unbind()))
                .or_else(|| metric.cast::<PySummary>().ok().map(|m| Target::SummaryObserve(m.clone().unbind()))),
            _ => None,
        };
        let Some(target) = target else {
            let class = metric.get_type().name()?;
            return Err(crate::errors::misuse(format!("a {class} has no native write {operation:?}")));
        };
        let default = matches!(operation, "inc" | "dec").then_some(1.0);
        Ok(Self { target, fallback, default })
    }

    /// Writes `value` to the series of `labels`, through the collector's own method (the hot
    /// path takes the plain calls first).
    #[pyo3(signature = (*args, **kwargs))]
    fn write(
        &self,
        py: Python<'_>,
        args: &Bound<'_, PyTuple>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Py<PyAny>> {
        let method = self.fallback.bind(py).call0()?;
        if method.is_none() {
            return Err(crate::errors::gone("collector of this write method"));
        }
        Ok(method.call(args, kwargs)?.unbind())
    }

    fn __traverse__(&self, visit: pyo3::PyVisit<'_>) -> Result<(), pyo3::PyTraverseError> {
        visit.call(&self.fallback)?;
        match &self.target {
            Target::CounterInc(metric) => visit.call(metric),
            Target::GaugeInc(metric) | Target::GaugeDec(metric) | Target::GaugeSet(metric) => visit.call(metric),
            Target::HistogramObserve(metric) => visit.call(metric),
            Target::SummaryObserve(metric) => visit.call(metric),
        }
    }
}

impl LayerWrite {
    /// The write of `value` (the default when `None`) to the series `labels` names, when that
    /// series exists and the value is one the metric takes; `false` leaves the call to the
    /// collector's method.
    pub(crate) fn try_write(&self, py: Python<'_>, value: Option<f64>, labels: Option<&Bound<'_, PyDict>>) -> bool {
        let Some(value) = value.or(self.default) else { return false };
        match &self.target {
            Target::CounterInc(metric) => apply(metric.bind(py), labels, |c| c.try_inc(value)),
            Target::GaugeInc(metric) => apply(metric.bind(py), labels, |g| g.try_inc(value)),
            Target::GaugeDec(metric) => apply(metric.bind(py), labels, |g| g.try_dec(value)),
            Target::GaugeSet(metric) => apply(metric.bind(py), labels, |g| g.try_set(value)),
            Target::HistogramObserve(metric) => apply(metric.bind(py), labels, |h| h.try_observe(value)),
            Target::SummaryObserve(metric) => apply(metric.bind(py), labels, |s| s.try_observe(value)),
        }
    }
}

/// `write` on the series of `labels` (the metric itself without labels), if it exists.
fn apply<C: LabelledMetric>(
    metric: &Bound<'_, C>,
    labels: Option<&Bound<'_, PyDict>>,
    write: impl Fn(&C) -> bool,
) -> bool {
    let Some(labels) = labels else {
        // A metric without labels has a series of its own; a labelled parent has none and
        // refuses the write, which the collector's method then explains.
        return write(metric.get());
    };
    let (Some(children), Some(names)) = (metric.get().children_by_values(), metric.get().label_keys()) else {
        return false;
    };
    let py = metric.py();
    let Some(key) = values_in_order(labels, names.bind(py)) else { return false };
    let Ok(Some(child)) = children.bind(py).get_item(&key) else { return false };
    child.cast::<C>().is_ok_and(|child| write(child.get()))
}

/// The values of `labels` for `names`, in that order, as the key `labels()` stores a child
/// under: when `labels` has exactly those keys and every value is a `str`.
pub(crate) fn values_in_order<'py>(
    labels: &Bound<'py, PyDict>,
    names: &Bound<'py, PyTuple>,
) -> Option<Bound<'py, PyTuple>> {
    if labels.len() != names.len() {
        return None;
    }
    let mut values = Vec::with_capacity(names.len());
    for name in names.iter() {
        let value = labels.get_item(name).ok()??;
        if !value.is_exact_instance_of::<PyString>() {
            return None;
        }
        values.push(value);
    }
    PyTuple::new(labels.py(), values).ok()
}
