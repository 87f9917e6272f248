//! Raw entry points (C calling convention) for the hottest methods: `inc`, `dec`, `set`,
//! `observe`, `labels`, `time` and the timer's `__enter__`/`__exit__`; and the reference count
//! that lets a metric reuse its timer.
//!
//! A PyO3 method pays for its generality on every call: argument parsing against a signature
//! with keywords and defaults, an attach-count guard, deferred reference counts. That is a third
//! of `Counter.inc()`. Each entry point here takes the plain call (positional arguments that are
//! exact `int`, `float` or `str`, no keywords) itself and hands every other call, unchanged, to
//! the PyO3 method it replaced; so errors, messages and keyword handling stay the PyO3 method's,
//! and a fast case only ever does what that method would have done. docs/decisions/0008 says
//! why, and what it measured.
//!
//! This module is the crate's only unsafe code: the interpreter's raw calling convention.
#![allow(unsafe_code)]

use std::ffi::CString;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyFloat, PyFloatMethods, PyInt, PyString, PyTuple};
use pyo3::{PyClass, ffi};

use crate::context_managers::{self, Sink, Timer};
use crate::counter::PyCounter;
use crate::gauge::PyGauge;
use crate::histogram::PyHistogram;
use crate::metric_class::LabelledMetric;
use crate::summary::PySummary;

/// The positional arguments of a call, borrowed from the caller.
struct Args<'a, 'py> {
    py: Python<'py>,
    raw: &'a [*mut ffi::PyObject],
}

impl<'py> Args<'_, 'py> {
    fn len(&self) -> usize {
        self.raw.len()
    }

    fn get(&self, at: usize) -> &Bound<'py, PyAny> {
        // SAFETY: CPython lends every argument for the duration of the call.
        unsafe { Bound::ref_from_ptr(self.py, &self.raw[at]) }
    }

    /// Argument `at` as a number when it is an exact `float` or an `int` that converts.
    fn number(&self, at: usize) -> Option<f64> {
        let object = self.get(at);
        if let Ok(float) = object.cast_exact::<PyFloat>() {
            return Some(float.value());
        }
        if !object.is_exact_instance_of::<PyInt>() {
            return None;
        }
        // SAFETY: `object` is an int. (Its own conversion, not `float(object)`, which would
        // allocate a float.)
        let value = unsafe { ffi::PyLong_AsDouble(object.as_ptr()) };
        if value == -1.0 && PyErr::occurred(self.py) {
            // Too large for a float: the full method raises the error.
            // SAFETY: the thread is attached.
            unsafe { ffi::PyErr_Clear() };
            return None;
        }
        Some(value)
    }

    /// The arguments as a tuple, as a method taking `*args` receives them.
    fn tuple(&self) -> Option<Bound<'py, PyTuple>> {
        let len = ffi::Py_ssize_t::try_from(self.len()).ok()?;
        // SAFETY: a new tuple of `len` slots, each filled once with a new reference (what
        // `PyTuple_SET_ITEM` takes) before the tuple is used.
        unsafe {
            let tuple = Bound::from_owned_ptr_or_opt(self.py, ffi::PyTuple_New(len))?;
            for (at, item) in (0..len).zip(self.raw) {
                ffi::PyTuple_SET_ITEM(tuple.as_ptr(), at, ffi::Py_NewRef(*item));
            }
            Some(tuple.cast_into_unchecked())
        }
    }

    /// The amount of `inc(amount=1)` and `dec(amount=1)`.
    fn amount(&self) -> Option<f64> {
        match self.len() {
            0 => Some(1.0),
            1 => self.number(0),
            _ => None,
        }
    }

    /// The single argument of `set(value)` and `observe(value)`.
    fn value(&self) -> Option<f64> {
        if self.len() == 1 { self.number(0) } else { None }
    }
}

/// What a fast case makes of a call: its result, or `None` to leave it to the PyO3 method.
type FastCase<C> = for<'a, 'py> fn(&'a Bound<'py, C>, &Args<'a, 'py>) -> Option<Bound<'py, PyAny>>;

/// One hot method of one class.
struct HotMethod {
    name: &'static str,
    entry: ffi::PyCFunctionFastWithKeywords,
    /// The PyO3 method it replaces, kept for the calls the fast case leaves.
    full: &'static PyOnceLock<Py<PyAny>>,
}

/// A `HotMethod` named `$name` of `$class` whose fast case is `$fast`.
macro_rules! hot_method {
    ($class:ty, $name:literal, $fast:expr) => {{
        static FULL: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
        unsafe extern "C" fn entry(
            slf: *mut ffi::PyObject,
            args: *const *mut ffi::PyObject,
            nargs: ffi::Py_ssize_t,
            kwnames: *mut ffi::PyObject,
        ) -> *mut ffi::PyObject {
            // SAFETY: `install` makes `entry` a fast-call method with keywords of `$class`.
            unsafe { call::<$class>(&FULL, $fast, slf, args, nargs, kwnames) }
        }
        HotMethod { name: $name, entry, full: &FULL }
    }};
}

/// Runs the fast case of a call, or the full method when the fast case leaves it.
///
/// # Safety
/// The interpreter calls it as a fast-call method with keywords of a class `C` derives from:
/// the thread is attached, `slf` is an instance of `C`, `args` holds `nargs` positional
/// arguments followed by one per name of `kwnames`.
#[inline]
unsafe fn call<C: PyClass>(
    full: &PyOnceLock<Py<PyAny>>,
    fast: FastCase<C>,
    slf: *mut ffi::PyObject,
    args: *const *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
    kwnames: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: CPython calls methods with the thread attached.
    let py = unsafe { Python::assume_attached() };
    let positional = usize::try_from(nargs).unwrap_or(0);
    if kwnames.is_null() {
        // SAFETY: a method descriptor checks that `self` is an instance of its class, and this
        // one was made for `C` (`install`).
        let object = unsafe { Bound::ref_from_ptr(py, &slf).cast_unchecked::<C>() };
        // SAFETY: the interpreter passes `positional` arguments (and `args` may dangle without).
        let raw = if positional == 0 { &[][..] } else { unsafe { std::slice::from_raw_parts(args, positional) } };
        match catch_unwind(AssertUnwindSafe(|| fast(object, &Args { py, raw }))) {
            Ok(Some(result)) => return result.into_ptr(),
            Ok(None) => {}
            Err(payload) => {
                raise_panic(py, &*payload);
                return ptr::null_mut();
            }
        }
    }
    // SAFETY: as for this function.
    unsafe { call_full(py, full, slf, args, positional, kwnames) }
}

/// A panic of a fast case, raised as PyO3 raises a method's: `PanicException`.
#[cold]
fn raise_panic(py: Python<'_>, payload: &(dyn std::any::Any + Send)) {
    let message = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or("panic in a native method");
    pyo3::panic::PanicException::new_err(message.to_owned()).restore(py);
}

/// Calls the full method with the call's arguments as they came.
///
/// # Safety
/// As for `call`, with `positional` the number of positional arguments.
#[cold]
#[inline(never)]
unsafe fn call_full(
    py: Python<'_>,
    full: &PyOnceLock<Py<PyAny>>,
    slf: *mut ffi::PyObject,
    args: *const *mut ffi::PyObject,
    positional: usize,
    kwnames: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    let Some(full) = full.get(py) else {
        PyRuntimeError::new_err("pyrometer: a hot method was called before its module was ready").restore(py);
        return ptr::null_mut();
    };
    let keywords = if kwnames.is_null() {
        0
    } else {
        // SAFETY: `kwnames` is a tuple of strings.
        usize::try_from(unsafe { ffi::PyTuple_GET_SIZE(kwnames) }).unwrap_or(0)
    };
    // The full method is an unbound method descriptor: `self` goes first.
    let mut all = Vec::with_capacity(1 + positional + keywords);
    all.push(slf);
    if positional + keywords > 0 {
        // SAFETY: the caller passes `positional` arguments and one per keyword name.
        all.extend_from_slice(unsafe { std::slice::from_raw_parts(args, positional + keywords) });
    }
    // SAFETY: `all` holds borrowed references that outlive the call.
    unsafe { ffi::PyObject_Vectorcall(full.as_ptr(), all.as_ptr(), 1 + positional, kwnames) }
}

/// Whether `object` has a single reference (the caller's own): what lets a metric hand out its
/// idle timer again. Exact only where the GIL serialises the interpreter.
pub(crate) fn held_once(object: &Bound<'_, PyAny>) -> bool {
    // SAFETY: `object` is a live object; reading its count has no effect.
    unsafe { ffi::Py_REFCNT(object.as_ptr()) == 1 }
}

fn none(py: Python<'_>) -> Bound<'_, PyAny> {
    py.None().into_bound(py)
}

fn counter_inc<'py>(counter: &Bound<'py, PyCounter>, args: &Args<'_, 'py>) -> Option<Bound<'py, PyAny>> {
    counter.get().try_inc(args.amount()?).then(|| none(args.py))
}

fn gauge_inc<'py>(gauge: &Bound<'py, PyGauge>, args: &Args<'_, 'py>) -> Option<Bound<'py, PyAny>> {
    gauge.get().try_inc(args.amount()?).then(|| none(args.py))
}

fn gauge_dec<'py>(gauge: &Bound<'py, PyGauge>, args: &Args<'_, 'py>) -> Option<Bound<'py, PyAny>> {
    gauge.get().try_dec(args.amount()?).then(|| none(args.py))
}

fn gauge_set<'py>(gauge: &Bound<'py, PyGauge>, args: &Args<'_, 'py>) -> Option<Bound<'py, PyAny>> {
    gauge.get().try_set(args.value()?).then(|| none(args.py))
}

fn histogram_observe<'py>(histogram: &Bound<'py, PyHistogram>, args: &Args<'_, 'py>) -> Option<Bound<'py, PyAny>> {
    histogram.get().try_observe(args.value()?).then(|| none(args.py))
}

fn summary_observe<'py>(summary: &Bound<'py, PySummary>, args: &Args<'_, 'py>) -> Option<Bound<'py, PyAny>> {
    summary.get().try_observe(args.value()?).then(|| none(args.py))
}

/// `labels("GET", "200")` that finds a child made before: string arguments only, so that the
/// key is the one `labels()` stored the child under.
fn labels<'py, C: LabelledMetric>(metric: &Bound<'py, C>, args: &Args<'_, 'py>) -> Option<Bound<'py, PyAny>> {
    if args.len() == 0 || !(0..args.len()).all(|at| args.get(at).is_exact_instance_of::<PyString>()) {
        return None;
    }
    let children = metric.get().children_by_values()?;
    let key = args.tuple()?;
    let mut child = ptr::null_mut();
    // SAFETY: a dict and a tuple key; the child comes back as a new reference (not borrowed,
    // which another thread's `remove()` could free first on a free-threaded build).
    let found = unsafe { ffi::compat::PyDict_GetItemRef(children.as_ptr(), key.as_ptr(), &raw mut child) };
    if found < 0 {
        // Not found for want of memory: the full method meets the same error and raises it.
        // SAFETY: the thread is attached.
        unsafe { ffi::PyErr_Clear() };
    }
    // SAFETY: `child` is null or a new reference.
    unsafe { Bound::from_owned_ptr_or_opt(args.py, child) }
}

/// `time()` of a histogram or summary.
fn observing_timer<'py, C: LabelledMetric>(metric: &Bound<'py, C>, args: &Args<'_, 'py>) -> Option<Bound<'py, PyAny>> {
    if args.len() > 0 {
        return None;
    }
    context_managers::timer(metric.as_any(), metric.get().idle_timer(), Sink::Observe).ok().map(Bound::into_any)
}

fn timer_enter<'py>(timer: &Bound<'py, Timer>, args: &Args<'_, 'py>) -> Option<Bound<'py, PyAny>> {
    if args.len() > 0 {
        return None;
    }
    timer.get().start();
    Some(timer.clone().into_any())
}

fn timer_exit<'py>(timer: &Bound<'py, Timer>, args: &Args<'_, 'py>) -> Option<Bound<'py, PyAny>> {
    if args.len() > 3 {
        return None;
    }
    timer.get().try_stop(args.py).then(|| none(args.py))
}

/// Replaces `method` of `class` by its entry point.
fn install<C: PyClass>(py: Python<'_>, method: HotMethod) -> PyResult<()> {
    let class = py.get_type::<C>();
    let full = class.getattr(method.name)?;
    // The descriptor keeps the full method's signature and documentation for `help()` and
    // `inspect.signature()`.
    let signature: Option<String> = full.getattr("__text_signature__")?.extract()?;
    let doc: Option<String> = full.getattr("__doc__")?.extract()?;
    let doc = match signature {
        Some(signature) => format!("{}{signature}\n--\n\n{}", method.name, doc.unwrap_or_default()),
        None => doc.unwrap_or_default(),
    };
    method.full.set(py, full.unbind()).map_err(|_| PyRuntimeError::new_err("hot method installed twice"))?;
    // CPython keeps pointers to the definition and its strings for as long as the class lives:
    // they are made once per process and never freed.
    let definition = Box::leak(Box::new(ffi::PyMethodDef {
        ml_name: leak_c_string(method.name)?,
        ml_meth: ffi::PyMethodDefPointer { PyCFunctionFastWithKeywords: method.entry },
        ml_flags: ffi::METH_FASTCALL | ffi::METH_KEYWORDS,
        ml_doc: leak_c_string(&doc)?,
    }));
    // SAFETY: `definition` lives for the rest of the process; the class is a type object.
    let descriptor =
        unsafe { Bound::from_owned_ptr_or_err(py, ffi::PyDescr_NewMethod(class.as_type_ptr(), definition))? };
    class.as_any().setattr(method.name, descriptor)
}

fn leak_c_string(text: &str) -> PyResult<*const std::ffi::c_char> {
    let text = CString::new(text).map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
    Ok(text.into_raw().cast_const())
}

/// Installs every entry point: once, when the module is first imported.
pub(crate) fn install_all(py: Python<'_>) -> PyResult<()> {
    install::<PyCounter>(py, hot_method!(PyCounter, "inc", counter_inc))?;
    install::<PyCounter>(py, hot_method!(PyCounter, "labels", labels::<PyCounter>))?;
    install::<PyGauge>(py, hot_method!(PyGauge, "inc", gauge_inc))?;
    install::<PyGauge>(py, hot_method!(PyGauge, "dec", gauge_dec))?;
    install::<PyGauge>(py, hot_method!(PyGauge, "set", gauge_set))?;
    install::<PyGauge>(py, hot_method!(PyGauge, "labels", labels::<PyGauge>))?;
    install::<PyHistogram>(py, hot_method!(PyHistogram, "observe", histogram_observe))?;
    install::<PyHistogram>(py, hot_method!(PyHistogram, "labels", labels::<PyHistogram>))?;
    install::<PyHistogram>(py, hot_method!(PyHistogram, "time", observing_timer::<PyHistogram>))?;
    install::<PySummary>(py, hot_method!(PySummary, "observe", summary_observe))?;
    install::<PySummary>(py, hot_method!(PySummary, "labels", labels::<PySummary>))?;
    install::<PySummary>(py, hot_method!(PySummary, "time", observing_timer::<PySummary>))?;
    install::<Timer>(py, hot_method!(Timer, "__enter__", timer_enter))?;
    install::<Timer>(py, hot_method!(Timer, "__exit__", timer_exit))?;
    Ok(())
}
