//! `os.fork()` while native threads collect (a scrape server, a remote writer): the core's
//! collection gate ([`pyrometer_core::fork`]) is closed around each fork, so the child copies
//! no lock such a thread held, and its first new series does not wait for ever.

use std::time::Duration;

use pyo3::prelude::*;
use pyo3::types::PyDict;

/// The longest a fork waits for collections under way (a Python collector stuck for longer
/// lets the fork go on, with its locks copied as they are).
const WAIT: Duration = Duration::from_secs(2);

/// Before a fork: no collection starts, those under way finish (the GIL released meanwhile,
/// which a Python collector among them may need).
#[pyfunction]
fn before_fork(py: Python<'_>) {
    py.detach(|| pyrometer_core::fork::prepare(WAIT));
}

#[pyfunction]
fn after_fork_in_parent() {
    pyrometer_core::fork::resume_parent();
}

#[pyfunction]
fn after_fork_in_child() {
    pyrometer_core::fork::resume_child();
}

/// Registers the hooks with `os.register_at_fork` (where there is fork).
pub(crate) fn install(module: &Bound<'_, PyModule>) -> PyResult<()> {
    let os = module.py().import("os")?;
    if !os.hasattr("register_at_fork")? {
        return Ok(());
    }
    let hooks = PyDict::new(module.py());
    hooks.set_item("before", wrap_pyfunction!(before_fork, module)?)?;
    hooks.set_item("after_in_parent", wrap_pyfunction!(after_fork_in_parent, module)?)?;
    hooks.set_item("after_in_child", wrap_pyfunction!(after_fork_in_child, module)?)?;
    os.call_method("register_at_fork", (), Some(&hooks))?;
    Ok(())
}
