//! What `time()`, `count_exceptions()` and `track_inprogress()` return. The timer is native:
//! `with h.time():` runs no Python frame. The other two, whose cost is the block they guard,
//! are the Python classes of `pyrometer.context_managers`.

use quanta::Instant;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

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
///
/// Frozen, its clock in atomics: entering and leaving a block take no borrow flag.
#[pyclass(name = "Timer", module = "pyrometer._native", frozen)]
pub(crate) struct Timer {
    metric: Py<PyAny>,
    /// The child `labels()` chose, which is then timed instead.
    labelled: PyOnceLock<Py<PyAny>>,
    sink: Sink,
    /// When the block began, in nanoseconds since `origin()`; `NOT_STARTED` before.
    start: AtomicU64,
    /// The bits of the last duration in seconds; `NO_DURATION` before the first block ends.
    duration: AtomicU64,
}

const NOT_STARTED: u64 = u64::MAX;
const NO_DURATION: u64 = u64::MAX;

/// The instant timers count from.
fn origin() -> Instant {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    *ORIGIN.get_or_init(Instant::now)
}

/// Nanoseconds since `origin()`, on a monotonic clock: the TSC where it is invariant, which
/// reads in a third of the time of the OS clock here (decision 0008).
#[inline]
fn now_nanos() -> u64 {
    u64::try_from(Instant::now().duration_since(origin()).as_nanos()).unwrap_or(NOT_STARTED - 1)
}

impl Timer {
    fn new(metric: &Bound<'_, PyAny>, sink: Sink) -> Self {
        Self {
            metric: metric.clone().unbind(),
            labelled: PyOnceLock::new(),
            sink,
            start: AtomicU64::new(NOT_STARTED),
            duration: AtomicU64::new(NO_DURATION),
        }
    }

    pub(crate) fn observing(metric: &Bound<'_, PyAny>) -> Self {
        Self::new(metric, Sink::Observe)
    }

    pub(crate) fn setting(metric: &Bound<'_, PyAny>) -> Self {
        Self::new(metric, Sink::Set)
    }

    /// The metric to report to.
    fn target<'py>(&self, py: Python<'py>) -> &Bound<'py, PyAny> {
        self.labelled.get(py).unwrap_or(&self.metric).bind(py)
    }

    /// Starts the clock.
    #[inline]
    pub(crate) fn start(&self) {
        // Relaxed: a timer is entered and left by one thread at a time, which the
        // interpreter orders; the atomics are for `Sync`, not for publishing.
        self.start.store(now_nanos(), Ordering::Relaxed);
    }

    /// Seconds since `start()`; 0 when it was never started. A monotonic clock: never negative.
    #[inline]
    fn elapsed(&self) -> f64 {
        match self.start.load(Ordering::Relaxed) {
            NOT_STARTED => 0.0,
            #[allow(clippy::cast_precision_loss)] // nanoseconds are exact in f64 up to 104 days
            start => now_nanos().saturating_sub(start) as f64 / 1e9,
        }
    }

    fn finish(&self, seconds: f64) {
        self.duration.store(seconds.to_bits(), Ordering::Relaxed);
    }

    /// Stops the clock and reports the duration, for the hot path: `false`, having changed
    /// nothing, unless the metric is of a native class itself and has a series (`__exit__`
    /// then reports it).
    #[inline]
    pub(crate) fn try_stop(&self, py: Python<'_>) -> bool {
        let seconds = self.elapsed();
        let metric = self.target(py);
        let reported = match self.sink {
            Sink::Observe => match metric.cast_exact::<PyHistogram>() {
                Ok(h) => h.get().try_observe(seconds),
                Err(_) => metric.cast_exact::<PySummary>().is_ok_and(|s| s.get().try_observe(seconds)),
            },
            Sink::Set => metric.cast_exact::<PyGauge>().is_ok_and(|g| g.get().try_set(seconds)),
        };
        if reported {
            self.finish(seconds);
        }
        reported
    }

    /// Reports `seconds`: natively when the metric is of one of our classes itself, through its
    /// `observe` or `set` method otherwise (a subclass may override them).
    fn report(&self, py: Python<'_>, seconds: f64) -> PyResult<()> {
        let metric = self.target(py);
        match self.sink {
            Sink::Observe => {
                if let Ok(h) = metric.cast_exact::<PyHistogram>() {
                    return h.get().observe_value(seconds);
                }
                if let Ok(s) = metric.cast_exact::<PySummary>() {
                    return s.get().observe_value(seconds);
                }
                metric.call_method1("observe", (seconds,)).map(drop)
            }
            Sink::Set => {
                if let Ok(g) = metric.cast_exact::<PyGauge>() {
                    return g.get().set_value(seconds);
                }
                metric.call_method1("set", (seconds,)).map(drop)
            }
        }
    }
}

#[pymethods]
impl Timer {
    fn __enter__<'py>(slf: &Bound<'py, Self>) -> Bound<'py, Self> {
        slf.get().start();
        slf.clone()
    }

    // Three named arguments rather than `*args`: no tuple is built for each block.
    #[pyo3(signature = (_exc_type = None, _exc_value = None, _traceback = None))]
    fn __exit__(
        &self,
        py: Python<'_>,
        _exc_type: Option<&Bound<'_, PyAny>>,
        _exc_value: Option<&Bound<'_, PyAny>>,
        _traceback: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let seconds = self.elapsed();
        self.finish(seconds);
        self.report(py, seconds)
    }

    /// The last measured duration in seconds, or `None` before the block has ended.
    #[getter]
    fn duration(&self) -> Option<f64> {
        match self.duration.load(Ordering::Relaxed) {
            NO_DURATION => None,
            bits => Some(f64::from_bits(bits)),
        }
    }

    /// Times a child: for a timer made on a metric with labels.
    #[pyo3(signature = (*args, **kwargs))]
    fn labels(&self, args: &Bound<'_, PyTuple>, kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<()> {
        let py = args.py();
        let child = self.target(py).call_method("labels", args, kwargs)?;
        // A child's own `labels()` refuses (as upstream's does), so this is the first call.
        self.labelled
            .set(py, child.unbind())
            .map_err(|_| pyo3::exceptions::PyValueError::new_err("the timer's labels are already set"))
    }

    /// A fresh timer on the same metric: each call of a decorated function gets its own.
    fn _fresh(&self, py: Python<'_>) -> Self {
        Self::new(self.target(py), self.sink)
    }

    /// Decorates a sync or async function so that each call is timed.
    fn __call__<'py>(slf: &Bound<'py, Self>, function: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        module(slf.py())?.getattr("decorate")?.call1((slf.getattr("_fresh")?, function))
    }
}
