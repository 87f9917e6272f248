//! Multiprocess mode. With `PROMETHEUS_MULTIPROC_DIR` set, every series of a native metric is
//! mirrored into this process's file of the store (`pyrometer-store`'s `StoredSeries`, fed by the
//! series itself), and `MultiProcessCollector` reads all the processes' files back as families.
//! The series keeps its in-process value too, so `_value.get()` and the process's own registry
//! work as in single-process mode. What this module decides is where a new series is written:
//! the value class of `pyrometer.values`, as upstream decides it.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use pyo3::prelude::*;
use pyrometer_core::{
    CollectOptions, Collector, Error as CoreError, FamilyMeta, MirrorSource, SeriesMirror, SeriesShape,
};
use pyrometer_store::{DirectoryCollector, Merge, ProcessFile, StoreDir, StoredSeries};

/// The environment variables that name the store directory, upstream's names.
const DIRECTORY_VARIABLES: [&str; 2] = ["PROMETHEUS_MULTIPROC_DIR", "prometheus_multiproc_dir"];

/// The store directory the environment names now.
pub(crate) fn directory() -> Option<PathBuf> {
    DIRECTORY_VARIABLES.iter().find_map(std::env::var_os).map(PathBuf::from)
}

/// Where a new series is written in multiprocess mode: a process's file, and the identifier
/// of that process (the `pid` label of per-process gauges).
struct Writer {
    /// The file, or why it could not be made in a directory that is there (a full disk).
    file: Result<ProcessFile, pyrometer_store::Error>,
    identifier: String,
}

/// The writer of a series created now, decided as upstream decides it: multiprocess mode is on
/// when the value class `pyrometer.values` chose at import (or a test set since) carries a
/// process identifier, and the directory is the one the environment names now. The identifier
/// is this process's pid unless a caller stands in for other processes
/// (`values.ValueClass = MultiProcessValue(lambda: 123)`), whose series then go to a file of
/// their own, alive until `mark_process_dead` retires it.
fn writer() -> PyResult<Option<Writer>> {
    Python::attach(|py| {
        let class = py.import("pyrometer.values")?.getattr("ValueClass")?;
        let Ok(identify) = class.getattr("_process_identifier") else { return Ok(None) };
        let Some(dir) = directory() else { return Ok(None) };
        let identifier = identify.call0()?.str()?.to_string();
        if identifier == std::process::id().to_string() {
            let file = process_file(dir)?;
            // The pid, unless another PID namespace's process of that pid came first.
            let identifier = file.as_ref().map_or(identifier, ProcessFile::identifier);
            return Ok(Some(Writer { file, identifier }));
        }
        Ok(Some(Writer { file: stand_in_file(dir, &identifier)?, identifier }))
    })
}

/// This process's file: made on first use, and again in a child after a fork (its pid differs),
/// so that each process writes, and is found dead, on its own. A directory that is not there
/// raises; a file that cannot be made in it is the inner error.
fn process_file(dir: PathBuf) -> PyResult<Result<ProcessFile, pyrometer_store::Error>> {
    static CURRENT: Mutex<Option<(u32, PathBuf, ProcessFile)>> = Mutex::new(None);
    let mut current = CURRENT.lock().unwrap_or_else(PoisonError::into_inner);
    let pid = std::process::id();
    if let Some((p, d, file)) = &*current
        && *p == pid
        && *d == dir
    {
        return Ok(Ok(file.clone()));
    }
    let file = match StoreDir::open(&dir).map_err(store_error)?.create_process_file() {
        Ok(file) => file,
        Err(err) => return Ok(Err(err)),
    };
    *current = Some((pid, dir, file.clone()));
    Ok(Ok(file))
}

/// The files of the processes this one stands in for, by directory and identifier.
static STAND_INS: Mutex<Vec<(PathBuf, String, ProcessFile)>> = Mutex::new(Vec::new());

/// The file of the process `identifier` stands for, made on first use.
fn stand_in_file(dir: PathBuf, identifier: &str) -> PyResult<Result<ProcessFile, pyrometer_store::Error>> {
    let mut stand_ins = STAND_INS.lock().unwrap_or_else(PoisonError::into_inner);
    // Directories a test removed take their files with them.
    stand_ins.retain(|(d, _, _)| d.is_dir());
    if let Some((_, _, file)) = stand_ins.iter().find(|(d, i, _)| *d == dir && i == identifier) {
        return Ok(Ok(file.clone()));
    }
    let file = match StoreDir::open(&dir).map_err(store_error)?.create_process_file() {
        Ok(file) => file,
        Err(err) => return Ok(Err(err)),
    };
    stand_ins.push((dir, identifier.to_owned(), file.clone()));
    Ok(Ok(file))
}

/// `mark_process_dead(pid, path)` for a process this one stands in for: its file is retired, so
/// the next scrape merges it as a dead process's. Real processes need no marking (their lock
/// tells), so any other identifier is left alone. Returns whether a file was retired.
#[pyfunction]
#[pyo3(signature = (identifier, path = None))]
pub(crate) fn retire_process(identifier: &str, path: Option<PathBuf>) -> PyResult<bool> {
    let mut stand_ins = STAND_INS.lock().unwrap_or_else(PoisonError::into_inner);
    let mut retired = false;
    let mut error = None;
    stand_ins.retain(|(dir, id, file)| {
        let chosen = id == identifier && path.as_ref().is_none_or(|p| p == dir);
        if chosen {
            retired = true;
            error = error.take().or(file.retire().err());
        }
        !chosen
    });
    match error {
        Some(err) => Err(store_error(err)),
        None => Ok(retired),
    }
}

fn store_error(err: pyrometer_store::Error) -> PyErr {
    crate::errors::store_to_py(err)
}

/// The mirror source of a native metric's family: a series goes to the multiprocess store when
/// `pyrometer.values` is in multiprocess mode at the moment it is created (see [`writer`]), with
/// the family's merge rule (a gauge's `multiprocess_mode`).
#[derive(Debug)]
pub(crate) struct ValueClassStore {
    rule: Merge,
}

impl ValueClassStore {
    pub(crate) fn new(rule: Merge) -> Self {
        Self { rule }
    }
}

impl MirrorSource for ValueClassStore {
    fn open(
        &self,
        meta: &FamilyMeta,
        shape: SeriesShape<'_>,
        label_values: &[&str],
    ) -> Result<Option<Arc<dyn SeriesMirror>>, CoreError> {
        // A Python error (from a process identifier that raises, say) comes back as itself.
        let Some(Writer { file, identifier }) = writer().map_err(CoreError::collect)? else { return Ok(None) };
        match file {
            Ok(file) => StoredSeries::mirror(&file, &identifier, self.rule, meta, shape, label_values),
            Err(err) => pyrometer_store::unstored(err),
        }
    }
}

/// Logs a store file a scrape could not read, through `logging` (once per file).
fn warn_unreadable(problem: &str) {
    warn("unreadable multiprocess file left out of the scrape: %s", problem);
}

/// Has the store tell `logging`, once, when a series cannot be written to this process's file
/// (a full disk, say): the series is then kept in the process alone, and counted.
pub(crate) fn log_unstored_series() {
    pyrometer_store::report_unstored_series_with(Arc::new(|problem| {
        warn("%s; it is counted in pyrometer_multiprocess_unstored_series_total", problem);
    }));
}

/// A warning through the `pyrometer.multiprocess` logger.
fn warn(format: &str, problem: &str) {
    Python::attach(|py| {
        let logged = py.import("logging").and_then(|logging| {
            let logger = logging.call_method1("getLogger", ("pyrometer.multiprocess",))?;
            logger.call_method1("warning", (format, problem))
        });
        // A logging setup that fails must not fail the scrape.
        if let Err(err) = logged {
            err.write_unraisable(py, None);
        }
    });
}

/// Reads every process's series from a store directory as families.
#[pyclass(name = "MultiProcessCollector", module = "pyrometer._native", frozen, subclass)]
pub(crate) struct PyMultiProcessCollector(Arc<DirectoryCollector>);

#[pymethods]
impl PyMultiProcessCollector {
    /// A collector over `path`, or over the directory `PROMETHEUS_MULTIPROC_DIR` names. The
    /// Python subclass registers it in `registry`.
    #[new]
    #[pyo3(signature = (registry = None, path = None))]
    fn new(registry: Option<&Bound<'_, PyAny>>, path: Option<PathBuf>) -> PyResult<Self> {
        let _ = registry;
        let dir = path.or_else(directory).filter(|p| p.is_dir()).ok_or_else(|| {
            crate::errors::to_py(CoreError::InvalidOption {
                message: "env PROMETHEUS_MULTIPROC_DIR is not set or not a directory".to_owned(),
            })
        })?;
        // Families as upstream's multiprocess mode writes them: without `_created`.
        let collector = DirectoryCollector::new(dir).without_created().report_problems_with(Arc::new(warn_unreadable));
        Ok(Self(Arc::new(collector)))
    }

    /// The merged metrics of every process, live and dead, as `Metric` objects.
    fn collect<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, pyo3::types::PyList>> {
        let mut families = Vec::new();
        py.detach(|| self.0.collect(&CollectOptions::default(), &mut families)).map_err(crate::errors::to_py)?;
        let list = pyo3::types::PyList::empty(py);
        for family in &families {
            list.append(crate::metric_objects::family_to_py(py, family)?)?;
        }
        Ok(list)
    }

    /// Merges the files of dead processes into the archive now (a scrape does it anyway).
    fn reap(&self, py: Python<'_>) -> PyResult<usize> {
        py.detach(|| StoreDir::open(self.0.dir()).and_then(|store| store.reap()))
            .map(|reaped| reaped.merged)
            .map_err(store_error)
    }

    /// The files the last collection could not read, and why.
    #[getter]
    fn _problems(&self) -> Vec<String> {
        self.0.problems()
    }
}

impl crate::native_metric::NativeMetric for PyMultiProcessCollector {
    fn collector(&self) -> Arc<dyn Collector> {
        Arc::clone(&self.0) as Arc<dyn Collector>
    }
}
