//! The one place where the binding's errors become Python exceptions: the errors of the core,
//! the formats, the store and the transports, as the exceptions `prometheus_client` raises for the
//! same mistake, with its text; and the few that only Python's object model has (an argument of
//! the wrong type, an object gone).

use pyo3::exceptions::{
    PyAttributeError, PyKeyError, PyOSError, PyReferenceError, PyRuntimeError, PyTimeoutError, PyTypeError,
    PyValueError,
};
use pyo3::types::{PyAnyMethods, PyString};
use pyo3::{Bound, PyAny, PyErr, Python};
use pyrometer_core::Error;

pyo3::create_exception!(
    pyrometer._native,
    DuplicateTimeseries,
    PyValueError,
    "A collector would produce sample names another collector already produces."
);

/// The exception `prometheus_client` raises for the same mistake, with its text.
pub(crate) fn to_py(err: Error) -> PyErr {
    match err {
        // Upstream's `labels()` says no more than this.
        Error::LabelCount { .. } => PyValueError::new_err("Incorrect label count"),
        Error::DuplicateTimeseries { .. } => DuplicateTimeseries::new_err(err.to_string()),
        // Names a metric type reserves (`le`, `quantile`) get upstream's message, typo included,
        // so that code matching on it keeps working.
        Error::ReservedLabelName { name } if !name.starts_with("__") => {
            PyValueError::new_err(format!("Reserved label methe fric name: {name}"))
        }
        // A Python collector's (or value class's) own exception comes back as it was raised.
        Error::Collect(ref failure) => match failure.source_error().downcast_ref::<PyErr>() {
            Some(raised) => Python::attach(|py| raised.clone_ref(py)),
            None => PyValueError::new_err(err.to_string()),
        },
        // Upstream leaves its format directive unfilled.
        Error::ExemplarTooLong { .. } => {
            PyValueError::new_err("Exemplar labels have %d UTF-8 characters, exceeding the limit of 128")
        }
        // Upstream finds the state with `list.index`, whose error this is.
        Error::UnknownState { state, .. } => Python::attach(|py| match PyString::new(py, &state).repr() {
            Ok(repr) => PyValueError::new_err(format!("{repr} is not in list")),
            Err(err) => err,
        }),
        Error::Mirror { reason } => PyOSError::new_err(reason),
        other => PyValueError::new_err(other.to_string()),
    }
}

/// A format's error (a text that does not parse, an exemplar where none may be): `ValueError`.
pub(crate) fn expo_to_py(err: pyrometer_expo::Error) -> PyErr {
    match err {
        // Upstream compares the version's parts with `(1, 0, 0)`, and Python refuses to order
        // text against a number.
        pyrometer_expo::Error::IncomparableVersion { .. } => {
            PyTypeError::new_err("'>=' not supported between instances of 'str' and 'int'")
        }
        err => PyValueError::new_err(err.to_string()),
    }
}

/// A store's error (a directory or file that cannot be made, read or grown): `OSError`.
pub(crate) fn store_to_py(err: pyrometer_store::Error) -> PyErr {
    PyOSError::new_err(err.to_string())
}

/// A transport's error (connecting, sending, a server answering with a failure): `OSError`.
pub(crate) fn transport_to_py(err: impl std::fmt::Display) -> PyErr {
    PyOSError::new_err(err.to_string())
}

/// A transport's setting that cannot work (an endpoint that is no URL, a TLS file that does not
/// load): `ValueError`.
pub(crate) fn setting_to_py(err: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(err.to_string())
}

/// A textfile write's error as Python's `open` (the temporary file) or `os.replace` raises it:
/// `OSError(errno, strerror, filename[, None, filename2])`, the subclass chosen by the errno,
/// the files named by the objects the caller gave.
pub(crate) fn textfile_to_py(
    err: pyrometer_export::textfile::TextfileError,
    staged: &Bound<'_, PyAny>,
    path: &Bound<'_, PyAny>,
) -> PyErr {
    use pyrometer_export::textfile::TextfileError;
    let (staged, path) = (staged.clone().unbind(), path.clone().unbind());
    match err {
        TextfileError::Stage { source, .. } => match source.raw_os_error() {
            Some(code) => PyOSError::new_err((code, strerror(code), staged)),
            None => io_to_py(&source),
        },
        // A write's error names no file, as `f.write` raises it.
        TextfileError::Write { source, .. } => io_to_py(&source),
        TextfileError::Replace { source, .. } => match source.raw_os_error() {
            Some(code) => PyOSError::new_err((code, strerror(code), staged, Option::<i32>::None, path)),
            None => io_to_py(&source),
        },
        other => PyOSError::new_err(other.to_string()),
    }
}

/// The text Python gives an errno (`strerror`): the C library's, without Rust's ` (os error N)`.
fn strerror(code: i32) -> String {
    let text = std::io::Error::from_raw_os_error(code).to_string();
    match text.rfind(" (os error ") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

/// A socket's error as Python's sockets raise it: `TimeoutError('timed out')` when a timeout
/// ran out, `OSError(errno, strerror)` (`ConnectionRefusedError`, ...) otherwise.
pub(crate) fn socket_to_py(err: &std::io::Error) -> PyErr {
    // A timeout of the socket's own (no errno, or a blocked write) reads `timed out`; the
    // kernel's `ETIMEDOUT` keeps its errno, as Python's `TimeoutError(110, ...)`.
    let timed_out = matches!(err.kind(), std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock);
    let own = err.raw_os_error().is_none() || err.kind() == std::io::ErrorKind::WouldBlock;
    if timed_out && own { PyTimeoutError::new_err("timed out") } else { io_to_py(err) }
}

/// An I/O error as Python raises it: `OSError(errno, strerror)` where there is an errno.
pub(crate) fn io_to_py(err: &std::io::Error) -> PyErr {
    match err.raw_os_error() {
        Some(code) => PyOSError::new_err((code, strerror(code))),
        None => PyOSError::new_err(err.to_string()),
    }
}

/// `unregister()` of a collector the registry does not hold: `KeyError(collector)`, as a dict
/// lookup raises it upstream.
pub(crate) fn not_registered(collector: &Bound<'_, PyAny>) -> PyErr {
    PyKeyError::new_err(collector.clone().unbind())
}

/// A label value that is not a string, in a collected sample: upstream's encoder calls its
/// `replace` and fails with `AttributeError`.
pub(crate) fn label_value_not_text(type_name: &str) -> PyErr {
    PyAttributeError::new_err(format!("'{type_name}' object has no attribute 'replace'"))
}

/// `remove_by_labels()` given something other than a dict.
pub(crate) fn labels_not_a_dict() -> PyErr {
    PyTypeError::new_err("labels must be a dict of {label_name: label_value}")
}

/// An object a native one refers to weakly is gone (`what` names it).
pub(crate) fn gone(what: &str) -> PyErr {
    PyReferenceError::new_err(format!("the {what} no longer exists"))
}

/// A native object asked for something it cannot do (`what` says what).
pub(crate) fn misuse(what: impl Into<String>) -> PyErr {
    PyTypeError::new_err(what.into())
}

/// An object used in a state that no longer allows it (a server closed, a module not ready).
pub(crate) fn wrong_state(what: impl Into<String>) -> PyErr {
    PyRuntimeError::new_err(what.into())
}

/// A Rust panic in a native method, raised as PyO3 raises one: `PanicException`.
pub(crate) fn panic(message: &str) -> PyErr {
    pyo3::panic::PanicException::new_err(message.to_owned())
}
