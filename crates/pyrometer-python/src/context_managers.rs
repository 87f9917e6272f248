//! What `time()`, `count_exceptions()` and `track_inprogress()` return. The timer is native:
//! `with h.time():` runs no Python frame. The other two, whose cost is the block they guard,
//! are the Python classes of `pyrometer.context_managers`.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple, PyType, PyWeakrefReference};

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

/// Where a timer reports the duration: each timed class says how.
#[derive(Clone, Copy)]
pub(crate) struct Sink {
    /// The method the duration goes through: `observe` or `set`.
    pub(crate) method: &'static str,
    /// Reports to a metric of the class itself, natively; `None` for any other object,
    /// including a subclass, which may override the method.
    pub(crate) native: fn(&Bound<'_, PyAny>, f64) -> Option<PyResult<()>>,
}

/// How a timer holds its metric.
enum Timed {
    /// A timer of its own keeps the metric alive, as upstream's does.
    Owned(Py<PyAny>),
    /// The metric's reusable timer is held by the metric, and refers back weakly: the two do not
    /// keep each other alive.
    Reused(Py<PyWeakrefReference>),
}

/// Measures a block or a function and reports the duration in seconds: observed by a
/// histogram or summary, set on a gauge.
///
/// Frozen, its clock in atomics: entering and leaving a block take no borrow flag.
#[pyclass(name = "Timer", module = "pyrometer._native", frozen)]
pub(crate) struct Timer {
    metric: Timed,
    /// The child `labels()` chose, which is then timed instead.
    labelled: PyOnceLock<Py<PyAny>>,
    sink: Sink,
    /// When the block began, in nanoseconds since the clock's origin; `NOT_STARTED` before.
    start: AtomicU64,
    /// The bits of the last duration in seconds; `NO_DURATION` before the first block ends.
    duration: AtomicU64,
}

const NOT_STARTED: u64 = u64::MAX;
const NO_DURATION: u64 = u64::MAX;

/// The clock timers read, and the instant they count from. `quanta::Instant::now()` would look
/// for a per-thread mock clock first; this reads the clock itself.
fn clock() -> &'static (quanta::Clock, quanta::Instant) {
    static CLOCK: OnceLock<(quanta::Clock, quanta::Instant)> = OnceLock::new();
    CLOCK.get_or_init(|| {
        let clock = quanta::Clock::new();
        let origin = clock.now();
        (clock, origin)
    })
}

/// Nanoseconds since the clock's origin, on a monotonic clock: the TSC where it is invariant,
/// which reads in a third of the time of the OS clock here (decision 0008).
#[inline]
fn now_nanos() -> u64 {
    let (clock, origin) = clock();
    u64::try_from(clock.now().duration_since(*origin).as_nanos()).unwrap_or(NOT_STARTED - 1)
}

/// Whether a metric may hand out its timer again: where the GIL serialises the interpreter, a
/// reference count of one (the metric's own) means nobody else holds the timer. Free-threaded
/// builds count references per thread, so there every `time()` makes a new timer.
static REUSE: OnceLock<bool> = OnceLock::new();

/// Settles `REUSE` for this interpreter; called when the module is imported.
pub(crate) fn init(py: Python<'_>) -> PyResult<()> {
    let gil_enabled = match py.import("sys")?.getattr("_is_gil_enabled") {
        Ok(is_enabled) => is_enabled.call0()?.is_truthy()?,
        Err(_) => true,
    };
    let _ = REUSE.set(gil_enabled);
    Ok(())
}

/// Tells whether nobody but the metric holds its idle timer (the hot path can tell).
pub(crate) type HeldOnce = fn(&Bound<'_, PyAny>) -> bool;

/// What `time()` returns: the metric's reusable timer (kept in `idle`) when `held_once` tells
/// that nothing else holds it, a new timer otherwise. A `with h.time():` block then allocates
/// nothing. Without `held_once`, every call makes a new timer, as upstream's does.
pub(crate) fn timer<'py>(
    metric: &Bound<'py, PyAny>,
    idle: &PyOnceLock<Py<Timer>>,
    sink: Sink,
    held_once: Option<HeldOnce>,
) -> PyResult<Bound<'py, Timer>> {
    let py = metric.py();
    if let Some(held_once) = held_once.filter(|_| REUSE.get().copied().unwrap_or(false)) {
        match idle.get(py) {
            Some(timer) => {
                let timer = timer.bind(py);
                if held_once(timer.as_any()) && timer.get().reset(py) {
                    return Ok(timer.clone());
                }
            }
            None => {
                if let Ok(weak) = PyWeakrefReference::new(metric) {
                    let timer = Bound::new(py, Timer::with(Timed::Reused(weak.unbind()), sink))?;
                    if idle.set(py, timer.clone().unbind()).is_ok() {
                        return Ok(timer);
                    }
                }
            }
        }
    }
    Bound::new(py, Timer::new(metric, sink))
}

impl Timer {
    fn with(metric: Timed, sink: Sink) -> Self {
        Self {
            metric,
            labelled: PyOnceLock::new(),
            sink,
            start: AtomicU64::new(NOT_STARTED),
            duration: AtomicU64::new(NO_DURATION),
        }
    }

    fn new(metric: &Bound<'_, PyAny>, sink: Sink) -> Self {
        Self::with(Timed::Owned(metric.clone().unbind()), sink)
    }

    /// Makes a reused timer as good as new; `false` when it cannot be (its labels are set).
    fn reset(&self, py: Python<'_>) -> bool {
        if self.labelled.get(py).is_some() {
            return false;
        }
        self.start.store(NOT_STARTED, Ordering::Relaxed);
        self.duration.store(NO_DURATION, Ordering::Relaxed);
        true
    }

    /// The metric to report to: `None` once a reused timer's metric is gone.
    fn target<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyAny>> {
        if let Some(child) = self.labelled.get(py) {
            return Some(child.bind(py).clone());
        }
        match &self.metric {
            Timed::Owned(metric) => Some(metric.bind(py).clone()),
            Timed::Reused(weak) => weak.bind(py).upgrade(),
        }
    }

    fn target_or_err<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.target(py).ok_or_else(|| crate::errors::gone("timed metric"))
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
        let Some(metric) = self.target(py) else { return false };
        // A parent without a series refuses before it records anything.
        let reported = matches!(self.report_natively(&metric, seconds), Some(Ok(())));
        if reported {
            self.finish(seconds);
        }
        reported
    }

    /// Reports `seconds` to a metric of one of our classes itself; `None` for any other metric,
    /// including a subclass, which may override `observe` or `set`.
    #[inline]
    fn report_natively(&self, metric: &Bound<'_, PyAny>, seconds: f64) -> Option<PyResult<()>> {
        (self.sink.native)(metric, seconds)
    }

    /// Reports `seconds`: natively when the metric is of one of our classes itself, through its
    /// `observe` or `set` method otherwise. Nothing once a reused timer's metric is gone: nobody
    /// could read what it would record.
    fn report(&self, py: Python<'_>, seconds: f64) -> PyResult<()> {
        let Some(metric) = self.target(py) else { return Ok(()) };
        if let Some(reported) = self.report_natively(&metric, seconds) {
            return reported;
        }
        metric.call_method1(self.sink.method, (seconds,)).map(drop)
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
        let child = self.target_or_err(py)?.call_method("labels", args, kwargs)?;
        // A child's own `labels()` refuses (as upstream's does), so this is the first call.
        self.labelled.set(py, child.unbind()).map_err(|_| {
            crate::errors::to_py(pyrometer_core::Error::LabelsAlreadySet { metric: "the timer".to_owned() })
        })
    }

    /// A fresh timer on the same metric: each call of a decorated function gets its own.
    fn _fresh(&self, py: Python<'_>) -> Self {
        let metric = match (self.labelled.get(py), &self.metric) {
            (Some(child), _) => Timed::Owned(child.clone_ref(py)),
            (None, Timed::Owned(metric)) => Timed::Owned(metric.clone_ref(py)),
            // Decorating with a timer a metric reuses: the decorated calls' timers refer to the
            // metric as weakly, and report nowhere once it is gone (as the timer itself would).
            (None, Timed::Reused(weak)) => Timed::Reused(weak.clone_ref(py)),
        };
        Self::with(metric, self.sink)
    }

    /// Decorates a sync or async function so that each call is timed.
    fn __call__<'py>(slf: &Bound<'py, Self>, function: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        module(slf.py())?.getattr("decorate")?.call1((slf.getattr("_fresh")?, function))
    }
}
