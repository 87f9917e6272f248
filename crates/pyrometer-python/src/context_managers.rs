//! What `time()`, `count_exceptions()` and `track_inprogress()` return. The timer is native:
//! `with h.time():` runs no Python frame. The other two, whose cost is the block they guard,
//! are the Python classes of `pyrometer.context_managers`.

use std::time::Instant;

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple, PyType};

use crate::gauge::PyGauge;
use crate::histogram::PyHistogram;
use crate::summary::PySummary;

/// The Python module holding the decorator logic and the non-timing context managers.
static MODULE: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

fn module(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    Ok(MODULE.get_or_try_init(py, || py.import("pyrometer.context_managers").map(Bound::unbind))?.bind(py))
}

/// An object of a Python context-manager class of `pyrometer.context_managers`.
pub(crate) fn python_context<'py>(
    py: Python<'py>,
    class: &str,
    args: impl pyo3::call::PyCallArgs<'py>,
) -> PyResult<Bound<'py, PyAny>> {
    module(py)?.getattr(class)?.cast_into::<PyType>()?.call1(args)
}

/// Where a timer reports the duration.
#[derive(Clone, Copy)]
enum Sink {
    Observe,
    Set,
}

/// Measures a block or a function and reports the duration in seconds: observed by a
/// histogram or summary, set on a gauge.
#[pyclass(name = "Timer", module = "pyrometer._native")]
pub(crate) struct Timer {
    metric: Py<PyAny>,
    sink: Sink,
    start: Option<Instant>,
    duration: Option<f64>,
}

impl Timer {
    pub(crate) fn observing(metric: &Bound<'_, PyAny>) -> Self {
        Self { metric: metric.clone().unbind(), sink: Sink::Observe, start: None, duration: None }
    }

    pub(crate) fn setting(metric: &Bound<'_, PyAny>) -> Self {
        Self { metric: metric.clone().unbind(), sink: Sink::Set, start: None, duration: None }
    }

    /// Starts the clock.
    #[inline]
    pub(crate) fn start(&mut self) {
        self.start = Some(Instant::now());
    }

    /// Seconds since `start()`; 0 when it was never started. A monotonic clock: never negative.
    #[inline]
    fn elapsed(&self) -> f64 {
        self.start.map_or(0.0, |start| start.elapsed().as_secs_f64())
    }

    /// Stops the clock and reports the duration, for the hot path: `false`, having changed
    /// nothing, when the metric is not a native one with a series (`__exit__` then reports it).
    #[inline]
    pub(crate) fn try_stop(&mut self, py: Python<'_>) -> bool {
        let seconds = self.elapsed();
        let metric = self.metric.bind(py);
        let reported = match self.sink {
            Sink::Observe => match metric.cast::<PyHistogram>() {
                Ok(h) => h.get().try_observe(seconds),
                Err(_) => metric.cast::<PySummary>().is_ok_and(|s| s.get().try_observe(seconds)),
            },
            Sink::Set => metric.cast::<PyGauge>().is_ok_and(|g| g.get().try_set(seconds)),
        };
        if reported {
            self.duration = Some(seconds);
        }
        reported
    }

    /// Reports `seconds`, natively when the metric is one of ours.
    fn report(&self, py: Python<'_>, seconds: f64) -> PyResult<()> {
        let metric = self.metric.bind(py);
        match self.sink {
            Sink::Observe => {
                if let Ok(h) = metric.cast::<PyHistogram>() {
                    return h.get().observe_value(seconds);
                }
                if let Ok(s) = metric.cast::<PySummary>() {
                    return s.get().observe_value(seconds);
                }
                metric.call_method1("observe", (seconds,)).map(drop)
            }
            Sink::Set => {
                if let Ok(g) = metric.cast::<PyGauge>() {
                    return g.get().set_value(seconds);
                }
                metric.call_method1("set", (seconds,)).map(drop)
            }
        }
    }
}

#[pymethods]
impl Timer {
    fn __enter__(mut slf: PyRefMut<'_, Self>) -> PyRefMut<'_, Self> {
        slf.start();
        slf
    }

    // Three named arguments rather than `*args`: no tuple is built for each block.
    #[pyo3(signature = (_exc_type = None, _exc_value = None, _traceback = None))]
    fn __exit__(
        &mut self,
        py: Python<'_>,
        _exc_type: Option<&Bound<'_, PyAny>>,
        _exc_value: Option<&Bound<'_, PyAny>>,
        _traceback: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let seconds = self.elapsed();
        self.duration = Some(seconds);
        self.report(py, seconds)
    }

    /// The last measured duration in seconds, or `None` before the block has ended.
    #[getter]
    fn duration(&self) -> Option<f64> {
        self.duration
    }

    /// Times a child: for a timer made on a metric with labels.
    #[pyo3(signature = (*args, **kwargs))]
    fn labels(&mut self, args: &Bound<'_, PyTuple>, kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<()> {
        self.metric = self.metric.bind(args.py()).call_method("labels", args, kwargs)?.unbind();
        Ok(())
    }

    /// A fresh timer on the same metric: each call of a decorated function gets its own.
    fn _fresh(&self, py: Python<'_>) -> Self {
        Self { metric: self.metric.clone_ref(py), sink: self.sink, start: None, duration: None }
    }

    /// Decorates a sync or async function so that each call is timed.
    fn __call__<'py>(slf: &Bound<'py, Self>, function: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        module(slf.py())?.getattr("decorate")?.call1((slf.getattr("_fresh")?, function))
    }
}
