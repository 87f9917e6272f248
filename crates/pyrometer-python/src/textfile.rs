//! `write_to_textfile`'s file handling: the Rust transport's atomic write, fed the text the
//! Python side encoded (its collectors run under the GIL first).

use std::path::PathBuf;

use pyo3::prelude::*;
use pyrometer_export::textfile::write_atomically;

/// Writes `data` to `path` through `staged` (created, written, flushed, renamed over `path`;
/// removed on failure), with the GIL released. Fails as Python's `open` and `os.replace` would,
/// naming the file.
#[pyfunction]
pub(crate) fn write_textfile(path: &Bound<'_, PyAny>, staged: &Bound<'_, PyAny>, data: &[u8]) -> PyResult<()> {
    let (to, through): (PathBuf, PathBuf) = (path.extract()?, staged.extract()?);
    path.py()
        .detach(|| write_atomically(&to, &through, data))
        .map_err(|err| crate::errors::textfile_to_py(err, staged, path))
}
