//! Raw entry points (C calling convention) for the hottest methods: `inc`, `dec`, `set`,
//! `observe`, `labels`, `time`, the timer's `__enter__`/`__exit__` and the registry layer's
//! writes; and the reference count that lets a metric reuse its timer.
//!
//! A PyO3 method pays for its generality on every call: argument parsing against a signature
//! with keywords and defaults, an attach-count guard, deferred reference counts. That is a third
//! of `Counter.inc()`. Each entry point here takes the plain call (arguments that are exact
//! `int`, `float`, `str` or `dict`; keywords only where the method's users pass them: `labels`
//! by name, the layer's `labels=`) itself and hands every other call, unchanged, to
//! the PyO3 method it replaced; so errors, messages and keyword handling stay the PyO3 method's,
//! and a fast case only ever does what that method would have done. docs/decisions/0008 says
//! why, and what it measured.
//!
//! This module is the crate's only unsafe code: the interpreter's raw calling convention.
#![allow(unsafe_code)]

use std::ffi::CString;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr;

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyFloat, PyFloatMethods, PyInt, PyString, PyTuple};
use pyo3::{PyClass, ffi};

use crate::context_managers::{self, Sink, Timer};
use crate::counter::PyCounter;
use crate::gauge::PyGauge;
use crate::histogram::PyHistogram;
use crate::layer_write::LayerWrite;
use crate::metric_class::LabelledMetric;
use crate::summary::PySummary;

/// The arguments of a call, borrowed from the caller: positional ones, then keyword ones (only
/// for methods that take keywords on their fast path).
struct Args<'a, 'py> {
    py: Python<'py>,
    raw: &'a [*mut ffi::PyObject],
    /// The names of the keyword arguments, a tuple of `str`; null without keywords.
    kwnames: *mut ffi::PyObject,
    /// The values of the keyword arguments, one per name.
    kwvalues: &'a [*mut ffi::PyObject],
}

impl<'py> Args<'_, 'py> {
    /// The number of positional arguments.
    fn len(&self) -> usize {
        self.raw.len()
    }

    fn get(&self, at: usize) -> &Bound<'py, PyAny> {
        // SAFETY: CPython lends every argument for the duration of the call.
        unsafe { Bound::ref_from_ptr(self.py, &self.raw[at]) }
    }

    /// The number of keyword arguments.
    fn keyword_count(&self) -> usize {
        self.kwvalues.len()
    }

    /// Keyword argument `at`: its name and its value.
    fn keyword(&self, at: usize) -> (Borrowed<'_, 'py, PyAny>, &Bound<'py, PyAny>) {
        let index = ffi::Py_ssize_t::try_from(at).unwrap_or(ffi::Py_ssize_t::MAX);
        // SAFETY: `kwnames` is the call's tuple of one name per value of `kwvalues` (`at` is in
        // range of both: the caller indexes `kwvalues`), lent for the duration of the call.
        unsafe {
            let value = Bound::ref_from_ptr(self.py, &self.kwvalues[at]);
            (Borrowed::from_ptr(self.py, ffi::PyTuple_GET_ITEM(self.kwnames, index)), value)
        }
    }

    /// Argument `at` as a number when it is an exact `float` or an `int` that converts.
    fn number(&self, at: usize) -> Option<f64> {
        number(self.get(at))
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

/// `object` as a number when it is an exact `float` or an `int` that converts.
fn number(object: &Bound<'_, PyAny>) -> Option<f64> {
    if let Ok(float) = object.cast_exact::<PyFloat>() {
        return Some(float.value());
    }
    if !object.is_exact_instance_of::<PyInt>() {
        return None;
    }
    // SAFETY: `object` is an int. (Its own conversion, not `float(object)`, which would
    // allocate a float.)
    let value = unsafe { ffi::PyLong_AsDouble(object.as_ptr()) };
    if value == -1.0 && PyErr::occurred(object.py()) {
        // Too large for a float: the full method raises the error.
        // SAFETY: the thread is attached.
        unsafe { ffi::PyErr_Clear() };
        return None;
    }
    Some(value)
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

/// A `HotMethod` named `$name` of `$class` whose fast case is `$fast`; with `keywords`, the
/// fast case sees calls with keyword arguments too (the others never do).
macro_rules! hot_method {
    ($class:ty, $name:literal, $fast:expr) => {
        hot_method!($class, $name, $fast, false)
    };
    ($class:ty, $name:literal, $fast:expr, keywords) => {
        hot_method!($class, $name, $fast, true)
    };
    ($class:ty, $name:literal, $fast:expr, $keywords:literal) => {{
        static FULL: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
        unsafe extern "C" fn entry(
            slf: *mut ffi::PyObject,
            args: *const *mut ffi::PyObject,
            nargs: ffi::Py_ssize_t,
            kwnames: *mut ffi::PyObject,
        ) -> *mut ffi::PyObject {
            // SAFETY: `install` makes `entry` a fast-call method with keywords of `$class`.
            unsafe { call::<$class>(&FULL, $fast, $keywords, slf, args, nargs, kwnames) }
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
    takes_keywords: bool,
    slf: *mut ffi::PyObject,
    args: *const *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
    kwnames: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: CPython calls methods with the thread attached.
    let py = unsafe { Python::assume_attached() };
    let positional = usize::try_from(nargs).unwrap_or(0);
    let keywords = if kwnames.is_null() {
        0
    } else {
        // SAFETY: `kwnames` is a tuple of strings.
        usize::try_from(unsafe { ffi::PyTuple_GET_SIZE(kwnames) }).unwrap_or(0)
    };
    if keywords == 0 || takes_keywords {
        // SAFETY: a method descriptor checks that `self` is an instance of its class, and this
        // one was made for `C` (`install`).
        let object = unsafe { Bound::ref_from_ptr(py, &slf).cast_unchecked::<C>() };
        // SAFETY: the interpreter passes `positional` arguments followed by one per keyword
        // (and `args` may dangle without any).
        let all = if positional + keywords == 0 {
            &[][..]
        } else {
            unsafe { std::slice::from_raw_parts(args, positional + keywords) }
        };
        let (raw, kwvalues) = all.split_at(positional);
        let call = Args { py, raw, kwnames: if keywords == 0 { ptr::null_mut() } else { kwnames }, kwvalues };
        match catch_unwind(AssertUnwindSafe(|| fast(object, &call))) {
            Ok(Some(result)) => return result.into_ptr(),
            Ok(None) => {}
            Err(payload) => {
                raise_panic(py, &*payload);
                return ptr::null_mut();
            }
        }
    }
    // SAFETY: as for this function.
    unsafe { call_full(py, full, slf, args, positional, keywords, kwnames) }
}

/// A panic of a fast case, raised as PyO3 raises a method's: `PanicException`.
#[cold]
fn raise_panic(py: Python<'_>, payload: &(dyn std::any::Any + Send)) {
    let message = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or("panic in a native method");
    crate::errors::panic(message).restore(py);
}

/// Calls the full method with the call's arguments as they came.
///
/// # Safety
/// As for `call`, with `positional` the number of positional arguments and `keywords` the
/// number of names in `kwnames`.
#[cold]
#[inline(never)]
unsafe fn call_full(
    py: Python<'_>,
    full: &PyOnceLock<Py<PyAny>>,
    slf: *mut ffi::PyObject,
    args: *const *mut ffi::PyObject,
    positional: usize,
    keywords: usize,
    kwnames: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    let Some(full) = full.get(py) else {
        crate::errors::wrong_state("pyrometer: a hot method was called before its module was ready").restore(py);
        return ptr::null_mut();
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
fn held_once(object: &Bound<'_, PyAny>) -> bool {
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

/// `labels("GET", "200")` or `labels(method="GET", code="200")` that finds a child made
/// before: string values only, so that the key is the one `labels()` stored the child under.
fn labels<'py, C: LabelledMetric>(metric: &Bound<'py, C>, args: &Args<'_, 'py>) -> Option<Bound<'py, PyAny>> {
    let children = metric.get().children_by_values()?;
    let key = if args.keyword_count() == 0 {
        if args.len() == 0 || !(0..args.len()).all(|at| args.get(at).is_exact_instance_of::<PyString>()) {
            return None;
        }
        args.tuple()?
    } else if args.len() == 0 {
        keywords_in_order(args, metric.get().label_keys()?.bind(args.py))?
    } else {
        return None;
    };
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

/// The keyword arguments' values in the order of `names`, when the call names each exactly once
/// and every value is a `str`. Call sites intern their keyword names, as the metric interns its
/// label names, so that names compare by identity first.
fn keywords_in_order<'py>(args: &Args<'_, 'py>, names: &Bound<'py, PyTuple>) -> Option<Bound<'py, PyTuple>> {
    if args.keyword_count() != names.len() {
        return None;
    }
    let mut values = Vec::with_capacity(names.len());
    for name in names.iter() {
        let at = (0..args.keyword_count())
            .find(|&at| args.keyword(at).0.as_ptr() == name.as_ptr())
            .or_else(|| (0..args.keyword_count()).find(|&at| args.keyword(at).0.eq(&name).unwrap_or(false)))?;
        let value = args.keyword(at).1;
        if !value.is_exact_instance_of::<PyString>() {
            return None;
        }
        values.push(value);
    }
    PyTuple::new(args.py, values).ok()
}

/// A registry-layer write, `write(value, labels)`, by position or keyword: a number (or none,
/// where the write has a default) and `None` or a dict of string values.
fn layer_write<'py>(writer: &Bound<'py, LayerWrite>, args: &Args<'_, 'py>) -> Option<Bound<'py, PyAny>> {
    let py = args.py;
    let mut value = None;
    let mut labels = None;
    match args.len() {
        0 => {}
        1 => value = Some(args.get(0)),
        2 => (value, labels) = (Some(args.get(0)), Some(args.get(1))),
        _ => return None,
    }
    for at in 0..args.keyword_count() {
        let (name, given) = args.keyword(at);
        let slot = if name.as_ptr() == pyo3::intern!(py, "labels").as_ptr() {
            &mut labels
        } else if name.as_ptr() == pyo3::intern!(py, "value").as_ptr() {
            &mut value
        } else {
            return None;
        };
        if slot.replace(given).is_some() {
            return None;
        }
    }
    let value = match value {
        Some(value) => Some(number(value)?),
        None => None,
    };
    let labels = match labels {
        Some(labels) if !labels.is_none() => Some(labels.cast_exact::<PyDict>().ok()?),
        _ => None,
    };
    writer.get().try_write(py, value, labels).then(|| none(py))
}

/// `time()`, handing out the metric's idle timer again where nobody else holds it.
fn timer<'py, C: LabelledMetric>(
    metric: &Bound<'py, C>,
    args: &Args<'_, 'py>,
    sink: Sink,
) -> Option<Bound<'py, PyAny>> {
    if args.len() > 0 {
        return None;
    }
    context_managers::timer(metric.as_any(), metric.get().idle_timer(), sink, Some(held_once)).ok().map(Bound::into_any)
}

fn histogram_timer<'py>(histogram: &Bound<'py, PyHistogram>, args: &Args<'_, 'py>) -> Option<Bound<'py, PyAny>> {
    timer(histogram, args, PyHistogram::TIMED)
}

fn summary_timer<'py>(summary: &Bound<'py, PySummary>, args: &Args<'_, 'py>) -> Option<Bound<'py, PyAny>> {
    timer(summary, args, PySummary::TIMED)
}

fn gauge_timer<'py>(gauge: &Bound<'py, PyGauge>, args: &Args<'_, 'py>) -> Option<Bound<'py, PyAny>> {
    timer(gauge, args, PyGauge::TIMED)
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
    method.full.set(py, full.unbind()).map_err(|_| crate::errors::wrong_state("hot method installed twice"))?;
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
    let text = CString::new(text).map_err(|e| crate::errors::wrong_state(e.to_string()))?;
    Ok(text.into_raw().cast_const())
}

/// Installs every entry point: once, when the module is first imported. A method whose entry
/// point cannot be installed keeps its PyO3 method (slower, the same behaviour); their names are
/// returned, for the module's `_hot_path_missing`.
pub(crate) fn install_all(py: Python<'_>) -> Vec<&'static str> {
    let installed = [
        ("Counter.inc", install::<PyCounter>(py, hot_method!(PyCounter, "inc", counter_inc))),
        ("Counter.labels", install::<PyCounter>(py, hot_method!(PyCounter, "labels", labels::<PyCounter>, keywords))),
        ("Gauge.inc", install::<PyGauge>(py, hot_method!(PyGauge, "inc", gauge_inc))),
        ("Gauge.dec", install::<PyGauge>(py, hot_method!(PyGauge, "dec", gauge_dec))),
        ("Gauge.set", install::<PyGauge>(py, hot_method!(PyGauge, "set", gauge_set))),
        ("Gauge.labels", install::<PyGauge>(py, hot_method!(PyGauge, "labels", labels::<PyGauge>, keywords))),
        ("Gauge.time", install::<PyGauge>(py, hot_method!(PyGauge, "time", gauge_timer))),
        ("Histogram.observe", install::<PyHistogram>(py, hot_method!(PyHistogram, "observe", histogram_observe))),
        (
            "Histogram.labels",
            install::<PyHistogram>(py, hot_method!(PyHistogram, "labels", labels::<PyHistogram>, keywords)),
        ),
        ("Histogram.time", install::<PyHistogram>(py, hot_method!(PyHistogram, "time", histogram_timer))),
        ("Summary.observe", install::<PySummary>(py, hot_method!(PySummary, "observe", summary_observe))),
        ("Summary.labels", install::<PySummary>(py, hot_method!(PySummary, "labels", labels::<PySummary>, keywords))),
        ("Summary.time", install::<PySummary>(py, hot_method!(PySummary, "time", summary_timer))),
        ("Timer.__enter__", install::<Timer>(py, hot_method!(Timer, "__enter__", timer_enter))),
        ("Timer.__exit__", install::<Timer>(py, hot_method!(Timer, "__exit__", timer_exit))),
        ("LayerWrite.write", install::<LayerWrite>(py, hot_method!(LayerWrite, "write", layer_write, keywords))),
    ];
    installed.into_iter().filter(|(_, result)| result.is_err()).map(|(name, _)| name).collect()
}
