//! Multiprocess mode. With `PROMETHEUS_MULTIPROC_DIR` set, every series of a `Counter`, `Gauge`,
//! `Histogram` or `Summary` also lives in this process's file of the store
//! (`pyrometer-store`), and `MultiProcessCollector` reads all the processes' files back as
//! families. The series keeps its in-process value too, so `_value.get()` and the process's own
//! registry work as in single-process mode.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use pyo3::exceptions::PyOSError;
use pyo3::prelude::*;
use pyrometer_core::float_text::go_float;
use pyrometer_core::{
    CollectOptions, Collector, Counter, FamilyMeta, Gauge, Histogram, Info, Label, MetricType, SampleRate,
    SampledCounter, StateSet, Summary,
};
use pyrometer_store::{DirectoryCollector, Merge, ProcessFile, Slot, StoreDir, StoredSketch, series_key};

/// The environment variables that name the store directory, upstream's names.
const DIRECTORY_VARIABLES: [&str; 2] = ["PROMETHEUS_MULTIPROC_DIR", "prometheus_multiproc_dir"];

/// The store directory the environment names now.
pub(crate) fn directory() -> Option<PathBuf> {
    DIRECTORY_VARIABLES.iter().find_map(std::env::var_os).map(PathBuf::from)
}

/// Where a new series is written in multiprocess mode: a process's file, and the identifier
/// of that process (the `pid` label of per-process gauges).
struct Writer {
    file: ProcessFile,
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
        let file = if identifier == std::process::id().to_string() {
            process_file(dir)?
        } else {
            stand_in_file(dir, &identifier)?
        };
        Ok(Some(Writer { file, identifier }))
    })
}

/// This process's file: made on first use, and again in a child after a fork (its pid differs),
/// so that each process writes, and is found dead, on its own.
fn process_file(dir: PathBuf) -> PyResult<ProcessFile> {
    static CURRENT: Mutex<Option<(u32, PathBuf, ProcessFile)>> = Mutex::new(None);
    let mut current = CURRENT.lock().unwrap_or_else(PoisonError::into_inner);
    let pid = std::process::id();
    if let Some((p, d, file)) = &*current
        && *p == pid
        && *d == dir
    {
        return Ok(file.clone());
    }
    let file = StoreDir::open(&dir).and_then(|store| store.create_process_file()).map_err(store_error)?;
    *current = Some((pid, dir, file.clone()));
    Ok(file)
}

/// The files of the processes this one stands in for, by directory and identifier.
static STAND_INS: Mutex<Vec<(PathBuf, String, ProcessFile)>> = Mutex::new(Vec::new());

/// The file of the process `identifier` stands for, made on first use.
fn stand_in_file(dir: PathBuf, identifier: &str) -> PyResult<ProcessFile> {
    let mut stand_ins = STAND_INS.lock().unwrap_or_else(PoisonError::into_inner);
    // Directories a test removed take their files with them.
    stand_ins.retain(|(d, _, _)| d.is_dir());
    if let Some((_, _, file)) = stand_ins.iter().find(|(d, i, _)| *d == dir && i == identifier) {
        return Ok(file.clone());
    }
    let file = StoreDir::open(&dir).and_then(|store| store.create_process_file()).map_err(store_error)?;
    stand_ins.push((dir, identifier.to_owned(), file.clone()));
    Ok(file)
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
    PyOSError::new_err(err.to_string())
}

/// The slots of one series of a metric type in the store: each one's sample suffix, the extra
/// label it carries and its first value, in slot order.
pub(crate) trait StoreLayout: pyrometer_core::Metric {
    fn slots(meta: &FamilyMeta, options: &Self::Options) -> Vec<(&'static str, Option<Label>, f64)>;

    /// A histogram's bucket bounds, `+Inf` last: its first slots count their buckets.
    fn bounds(_options: &Self::Options) -> Option<Arc<[f64]>> {
        None
    }

    /// A summary's quantiles, whose sketch the store keeps besides the slots.
    fn quantiles(_options: &Self::Options) -> Option<&pyrometer_core::Quantiles> {
        None
    }
}

/// The last slot of a counter, histogram or summary: when the series was first created in any
/// process (merged by [`Merge::Min`]).
fn created() -> (&'static str, Option<Label>, f64) {
    ("_created", None, pyrometer_core::now_seconds())
}

impl StoreLayout for Counter {
    fn slots(_: &FamilyMeta, (): &()) -> Vec<(&'static str, Option<Label>, f64)> {
        vec![("_total", None, 0.0), created()]
    }
}

/// A sampled counter stores the scaled increments it records, as a counter.
impl StoreLayout for SampledCounter {
    fn slots(meta: &FamilyMeta, _: &SampleRate) -> Vec<(&'static str, Option<Label>, f64)> {
        Counter::slots(meta, &())
    }
}

impl StoreLayout for Gauge {
    fn slots(_: &FamilyMeta, (): &()) -> Vec<(&'static str, Option<Label>, f64)> {
        vec![("", None, 0.0)]
    }
}

impl StoreLayout for Histogram {
    fn slots(_: &FamilyMeta, buckets: &pyrometer_core::Buckets) -> Vec<(&'static str, Option<Label>, f64)> {
        let mut slots: Vec<_> =
            buckets.bounds().iter().map(|b| ("_bucket", Some(Label::new("le", go_float(*b))), 0.0)).collect();
        slots.push(("_sum", None, 0.0));
        slots.push(created());
        slots
    }

    fn bounds(buckets: &pyrometer_core::Buckets) -> Option<Arc<[f64]>> {
        Some(buckets.bounds().into())
    }
}

impl StoreLayout for Summary {
    fn slots(_: &FamilyMeta, _: &Option<pyrometer_core::Quantiles>) -> Vec<(&'static str, Option<Label>, f64)> {
        vec![("_count", None, 0.0), ("_sum", None, 0.0), created()]
    }

    fn quantiles(options: &Option<pyrometer_core::Quantiles>) -> Option<&pyrometer_core::Quantiles> {
        options.as_ref()
    }
}

/// An Info's series depends on the pairs it holds; see [`StoredSeries::set_info`].
impl StoreLayout for Info {
    fn slots(_: &FamilyMeta, (): &()) -> Vec<(&'static str, Option<Label>, f64)> {
        Vec::new()
    }
}

/// One slot per state, named by the metric as its label; the first state holds at first.
impl StoreLayout for StateSet {
    fn slots(meta: &FamilyMeta, states: &pyrometer_core::States) -> Vec<(&'static str, Option<Label>, f64)> {
        states
            .names()
            .iter()
            .enumerate()
            .map(|(i, state)| {
                ("", Some(Label { name: meta.name.clone(), value: state.clone() }), if i == 0 { 1.0 } else { 0.0 })
            })
            .collect()
    }
}

/// A series' slots in this process's file.
pub(crate) struct StoredSeries {
    slots: Vec<Slot>,
    /// The file and the key of each slot, for exemplars (kept in entries of their own).
    file: ProcessFile,
    keys: Vec<Vec<u8>>,
    /// A histogram's bounds, `+Inf` last: slot `i` counts the observations of bucket `i`
    /// alone, and the slot after the buckets is the sum.
    bounds: Option<Arc<[f64]>>,
    /// An Info's: what makes its key, and the slot of the pairs it holds now.
    info: Option<InfoSlot>,
    /// A summary's quantile sketch, when it reports quantiles.
    sketch: Option<StoredSketch>,
}

struct InfoSlot {
    file: ProcessFile,
    meta: FamilyMeta,
    labels: Vec<(Arc<str>, Arc<str>)>,
    rule: Merge,
    current: Mutex<Option<Slot>>,
}

impl StoredSeries {
    /// The slots of the series of `meta` with these label values, made on first use.
    pub(crate) fn open<M: StoreLayout>(
        meta: &FamilyMeta,
        options: &M::Options,
        labelvalues: &[String],
        rule: Merge,
    ) -> PyResult<Option<Self>> {
        let Some(Writer { file, identifier }) = writer()? else { return Ok(None) };
        let mut labels: Vec<(Arc<str>, Arc<str>)> =
            meta.label_names.iter().cloned().zip(labelvalues.iter().map(|v| Arc::from(v.as_str()))).collect();
        labels.extend(meta.const_labels.iter().map(|l| (l.name.clone(), l.value.clone())));
        if matches!(rule, Merge::All | Merge::LiveAll) {
            labels.push((Arc::from("pid"), Arc::from(identifier)));
        }
        if M::TYPE == MetricType::Info {
            // The same pairs in several live processes are one series.
            let rule = Merge::LiveMax;
            let current = Mutex::new(None);
            let info = InfoSlot { file: file.clone(), meta: meta.clone(), labels, rule, current };
            let (slots, keys) = (Vec::new(), Vec::new());
            return Ok(Some(Self { slots, file, keys, bounds: None, info: Some(info), sketch: None }));
        }
        let layout = M::slots(meta, options);
        let mut slots = Vec::with_capacity(layout.len());
        let mut keys = Vec::with_capacity(layout.len());
        for (suffix, extra, first) in &layout {
            let key = series_key(meta, suffix, &labels, extra.as_ref());
            let rule = if *suffix == "_created" { Merge::Min } else { rule };
            let slot = file.slot(&key, rule).map_err(store_error)?;
            // A series removed before starts afresh.
            if *first != 0.0 || slot.is_removed() {
                slot.set(*first);
            }
            slots.push(slot);
            keys.push(key);
        }
        let sketch = M::quantiles(options)
            .map(|quantiles| StoredSketch::open(&file, meta, &labels, quantiles))
            .transpose()
            .map_err(store_error)?;
        Ok(Some(Self { slots, file, keys, bounds: M::bounds(options), info: None, sketch }))
    }

    /// An Info's new pairs: their series holds 1, the one it replaces 0 (and is left out).
    pub(crate) fn set_info(&self, pairs: &std::collections::HashMap<String, String>) -> PyResult<()> {
        let Some(info) = &self.info else { return Ok(()) };
        let mut labels = info.labels.clone();
        let mut sorted: Vec<_> = pairs.iter().collect();
        sorted.sort();
        labels.extend(sorted.into_iter().map(|(k, v)| (Arc::from(k.as_str()), Arc::from(v.as_str()))));
        let slot = info.file.slot(&series_key(&info.meta, "_info", &labels, None), info.rule).map_err(store_error)?;
        let mut current = info.current.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(old) = current.take() {
            old.set(0.0);
        }
        slot.set(1.0);
        *current = Some(slot);
        Ok(())
    }

    /// Marks the series removed in the file: other processes' scrapes and the archive leave
    /// this process's share out.
    pub(crate) fn remove(&self) {
        for slot in &self.slots {
            slot.remove();
        }
        if let Some(info) = &self.info
            && let Some(current) = info.current.lock().unwrap_or_else(PoisonError::into_inner).take()
        {
            current.remove();
        }
        if let Some(sketch) = &self.sketch {
            sketch.remove();
        }
    }

    /// Keeps `exemplar` as the one of slot `index` (a counter's total, a histogram's bucket),
    /// for other processes' scrapes; the latest written in any process is shown.
    pub(crate) fn exemplar(&self, index: usize, exemplar: &pyrometer_core::Exemplar) -> PyResult<()> {
        let Some(key) = self.keys.get(index) else { return Ok(()) };
        self.file.exemplar_slot(key).map_err(store_error)?.write(exemplar);
        Ok(())
    }

    /// The slot index of the bucket `value` falls in, for a histogram.
    pub(crate) fn bucket_of(&self, value: f64) -> Option<usize> {
        self.bounds.as_ref()?.iter().position(|b| value <= *b)
    }

    /// A state set's state `index` now holds, and no other.
    pub(crate) fn select(&self, index: usize) {
        for (i, slot) in self.slots.iter().enumerate() {
            slot.set(if i == index { 1.0 } else { 0.0 });
        }
    }

    /// Adds to the first slot (a counter, a gauge).
    #[inline]
    pub(crate) fn add(&self, amount: f64) {
        self.slots[0].add(amount);
    }

    /// Sets the first slot (a gauge).
    #[inline]
    pub(crate) fn set(&self, value: f64) {
        self.slots[0].set(value);
    }

    /// Records an observation: a histogram's bucket and sum, a summary's count and sum.
    #[inline]
    pub(crate) fn observe(&self, value: f64) {
        let (count, sum) = match &self.bounds {
            Some(bounds) => match bounds.iter().position(|b| value <= *b) {
                Some(i) => (i, bounds.len()),
                None => return,
            },
            None => (0, 1),
        };
        self.slots[count].add(1.0);
        self.slots[sum].add(value);
        if let Some(sketch) = &self.sketch {
            // A bin that cannot be added (the file cannot grow) leaves the value out of the
            // quantiles only; count and sum have it.
            let _ = sketch.observe(value);
        }
    }
}

/// How a gauge's `multiprocess_mode` combines processes.
pub(crate) fn gauge_rule(mode: &str) -> Option<Merge> {
    Some(match mode {
        "all" => Merge::All,
        "liveall" => Merge::LiveAll,
        "min" => Merge::Min,
        "livemin" => Merge::LiveMin,
        "max" => Merge::Max,
        "livemax" => Merge::LiveMax,
        "sum" => Merge::Sum,
        "livesum" => Merge::LiveSum,
        "mostrecent" => Merge::MostRecent,
        "livemostrecent" => Merge::LiveMostRecent,
        _ => return None,
    })
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
            pyo3::exceptions::PyValueError::new_err("env PROMETHEUS_MULTIPROC_DIR is not set or not a directory")
        })?;
        // Families as upstream's multiprocess mode writes them: without `_created`.
        Ok(Self(Arc::new(DirectoryCollector::new(dir).without_created())))
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

impl crate::metric_class::NativeMetric for PyMultiProcessCollector {
    fn collector(&self) -> Arc<dyn Collector> {
        Arc::clone(&self.0) as Arc<dyn Collector>
    }
}
