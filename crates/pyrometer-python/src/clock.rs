//! The wall clock of the native code in a Python process: Python's own `time.time()`, looked up
//! at each reading, so that a test (or freezegun) that replaces it also moves `_created`,
//! exemplar timestamps and `set_to_current_time`, as it does upstream. Read only when a series
//! is created, reset or stamped; never on an update's path.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyModule;

/// Makes Python's `time.time()` the core's wall clock.
pub(crate) fn install() {
    pyrometer_core::set_wall_clock(python_time);
}

/// The `time` module, imported once: a patch replaces its attribute, which is read each time.
static TIME: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

fn python_time() -> f64 {
    Python::attach(|py| -> PyResult<f64> {
        let time = TIME.get_or_try_init(py, || py.import("time").map(Bound::unbind))?;
        time.bind(py).getattr(pyo3::intern!(py, "time"))?.call0()?.extract()
    })
    // A replacement that raises or returns a non-number must not fail a metric's creation.
    .unwrap_or_else(|_| pyrometer_core::system_seconds())
}
