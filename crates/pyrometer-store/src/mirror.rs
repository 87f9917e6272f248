//! The store as the mirror of a family's series: each series' slots in a process's file, laid
//! out by its metric type, updated by the series itself (the core's `SeriesMirror`).
//!
//! [`StoreMirror`] is the mirror source of a Rust application in multiprocess mode: every family
//! built with it (`Family::with_mirror`) writes its series into this process's file of the store
//! directory, which a `DirectoryCollector` (in any process) reads back merged. An embedding
//! runtime that decides per series where it is written (the Python binding's value classes)
//! opens [`StoredSeries`] itself.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use pyrometer_core::float_text::go_float;
use pyrometer_core::{
    Error as CoreError, Exemplar, FamilyMeta, Label, LabelSet, MirrorSource, SeriesMirror, SeriesShape, now_seconds,
};

use crate::directory::StoreDir;
use crate::error::Error;
use crate::merge::Merge;
use crate::native::NativeSlots;
use crate::series::series_key;
use crate::sketch::StoredSketch;
use crate::writer::{ProcessFile, Slot};

impl Merge {
    /// The rule of a gauge's `multiprocess_mode`, as `prometheus_client` names them (`all`,
    /// `liveall`, `min`, `livemin`, `max`, `livemax`, `sum`, `livesum`, `mostrecent`,
    /// `livemostrecent`).
    #[must_use]
    pub fn from_gauge_mode(mode: &str) -> Option<Self> {
        Some(match mode {
            "all" => Self::All,
            "liveall" => Self::LiveAll,
            "min" => Self::Min,
            "livemin" => Self::LiveMin,
            "max" => Self::Max,
            "livemax" => Self::LiveMax,
            "sum" => Self::Sum,
            "livesum" => Self::LiveSum,
            "mostrecent" => Self::MostRecent,
            "livemostrecent" => Self::LiveMostRecent,
            _ => return None,
        })
    }
}

/// The mirror source of every family of a process in multiprocess mode: their series go to this
/// process's file in the store directory (a new file after a fork, so that each process writes,
/// and is found dead, on its own).
///
/// ```
/// use std::sync::Arc;
/// use pyrometer_core::{Collector, CollectOptions, Counter, Family, Gauge, Metadata};
/// use pyrometer_store::{DirectoryCollector, Merge, StoreMirror};
/// # let dir = std::env::temp_dir().join(format!("pyrometer-mirror-doc-{}", std::process::id()));
///
/// let store = StoreMirror::new(&dir)?;
/// let jobs = Family::<Counter>::with_mirror(Metadata::new("jobs", "Jobs."), (), store.source(Merge::Sum))?;
/// let busy = Family::<Gauge>::with_mirror(Metadata::new("busy", "Busy."), (), store.source(Merge::LiveMax))?;
/// jobs.without_labels()?.inc_by(3.0);
/// busy.without_labels()?.set(1.0);
///
/// // Any process reads every process's series, merged.
/// let mut families = Vec::new();
/// DirectoryCollector::new(dir.clone()).collect(&CollectOptions::default(), &mut families)?;
/// assert_eq!(families[0].samples[0].value, 3.0);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct StoreMirror(Arc<ProcessStore>);

#[derive(Debug)]
struct ProcessStore {
    dir: PathBuf,
    /// This process's file, and the pid it was made by.
    file: Mutex<Option<(u32, ProcessFile)>>,
}

impl StoreMirror {
    /// The store in `dir` (created if missing), written by this process from its first series.
    ///
    /// # Errors
    /// A directory that cannot be made.
    pub fn new(dir: impl AsRef<Path>) -> Result<Self, Error> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir).map_err(|source| Error::Io { path: dir.to_path_buf(), source })?;
        let dir = StoreDir::open(dir)?.path().to_path_buf();
        Ok(Self(Arc::new(ProcessStore { dir, file: Mutex::new(None) })))
    }

    /// The store directory.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.0.dir
    }

    /// The mirror source of a family whose series merge across processes by `rule` (`Sum` for
    /// counters, histograms and summaries; a gauge's mode for a gauge).
    #[must_use]
    pub fn source(&self, rule: Merge) -> Arc<dyn MirrorSource> {
        Arc::new(FamilySource { store: self.clone(), rule })
    }

    /// This process's file, made on first use, and again in a child after a fork.
    fn file(&self) -> Result<ProcessFile, Error> {
        let mut current = self.0.file.lock().unwrap_or_else(PoisonError::into_inner);
        let pid = std::process::id();
        if let Some((made_by, file)) = &*current
            && *made_by == pid
        {
            return Ok(file.clone());
        }
        let file = StoreDir::open(&self.0.dir)?.create_process_file()?;
        *current = Some((pid, file.clone()));
        Ok(file)
    }
}

/// One family's source: the process's file and the family's merge rule.
#[derive(Debug)]
struct FamilySource {
    store: StoreMirror,
    rule: Merge,
}

impl MirrorSource for FamilySource {
    fn open(
        &self,
        meta: &FamilyMeta,
        shape: SeriesShape<'_>,
        label_values: &[&str],
    ) -> Result<Option<Arc<dyn SeriesMirror>>, CoreError> {
        match self.store.file() {
            Ok(file) => StoredSeries::mirror(&file, &file.identifier(), self.rule, meta, shape, label_values),
            Err(err) => unstored(err),
        }
    }
}

/// Series this process could not write to its store file, kept in the process only.
static UNSTORED_SERIES: AtomicU64 = AtomicU64::new(0);
/// Told, once, of the first series that could not be stored.
static UNSTORED_REPORTER: Mutex<Option<crate::ProblemReporter>> = Mutex::new(None);

/// Sets what is told (once per process, with the reason) when a series cannot be written to the
/// store for want of space or another I/O failure: a log, say.
pub fn report_unstored_series_with(reporter: crate::ProblemReporter) {
    *UNSTORED_REPORTER.lock().unwrap_or_else(PoisonError::into_inner) = Some(reporter);
}

/// How many series this process could not write to its store file (a full disk, say); each was
/// kept in the process alone. [`DirectoryCollector`](crate::DirectoryCollector) reports it as
/// `pyrometer_multiprocess_unstored_series_total` once it is not zero.
#[must_use]
pub fn unstored_series() -> u64 {
    UNSTORED_SERIES.load(Ordering::Relaxed)
}

/// The answer of a `MirrorSource` whose series could not be stored: a disk that is full (or
/// fails) costs the store this series, not the application its write, so the series lives in
/// the process alone, counted ([`unstored_series`]) and told once; any other error is the
/// core's `Error::Mirror`.
///
/// # Errors
/// `err` when it is no I/O failure.
pub fn unstored(err: Error) -> Result<Option<Arc<dyn SeriesMirror>>, CoreError> {
    if !matches!(err, Error::Io { .. }) {
        return Err(mirror_error(err));
    }
    if UNSTORED_SERIES.fetch_add(1, Ordering::Relaxed) == 0 {
        let reporter = UNSTORED_REPORTER.lock().unwrap_or_else(PoisonError::into_inner).clone();
        if let Some(reporter) = reporter {
            reporter(&format!("a series was kept out of the multiprocess store: {err}"));
        }
    }
    Ok(None)
}

/// A store error as the core reports a mirror that could not be made.
#[must_use]
pub fn mirror_error(err: Error) -> CoreError {
    CoreError::Mirror { reason: err.to_string() }
}

/// A series' slots in a process's file.
pub struct StoredSeries {
    slots: Vec<Slot>,
    /// The file and the key of each slot, for exemplars (kept in entries of their own).
    file: ProcessFile,
    keys: Vec<Vec<u8>>,
    /// A histogram's bounds, `+Inf` last: slot `i` counts the observations of bucket `i`
    /// alone, and the slot after the buckets is the sum.
    bounds: Option<Arc<[f64]>>,
    /// An info's: what makes its key, and the slot of the pairs it holds now.
    info: Option<InfoSlot>,
    /// A summary's quantile sketch, when it reports quantiles.
    sketch: Option<StoredSketch>,
    /// A native histogram's entries (its classic buckets, if any, are `bounds`').
    native: Option<NativeSlots>,
}

impl std::fmt::Debug for StoredSeries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredSeries").field("slots", &self.slots.len()).finish_non_exhaustive()
    }
}

struct InfoSlot {
    meta: FamilyMeta,
    labels: Vec<(Arc<str>, Arc<str>)>,
    current: Mutex<Option<Slot>>,
}

/// A slot of a series: its sample suffix, the extra label it carries, its first value.
type SlotLayout = (&'static str, Option<Label>, f64);

/// The slots of one series of `shape`, in slot order.
fn layout(meta: &FamilyMeta, shape: SeriesShape<'_>) -> Vec<SlotLayout> {
    // When the series was first created in any process (merged by `Merge::Min`).
    let created = || ("_created", None, now_seconds());
    match shape {
        SeriesShape::Counter => vec![("_total", None, 0.0), created()],
        SeriesShape::Gauge => vec![("", None, 0.0)],
        SeriesShape::Histogram { bounds } => {
            let mut slots: Vec<SlotLayout> =
                bounds.iter().map(|b| ("_bucket", Some(Label::new("le", go_float(*b))), 0.0)).collect();
            slots.push(("_sum", None, 0.0));
            slots.push(created());
            slots
        }
        // Classic buckets beside when asked for; the native entries are `NativeSlots`'.
        SeriesShape::NativeHistogram { options } => {
            let bounds = options.classic.as_ref().map_or(&[][..], |b| b.bounds());
            let mut slots: Vec<SlotLayout> =
                bounds.iter().map(|b| ("_bucket", Some(Label::new("le", go_float(*b))), 0.0)).collect();
            slots.push(("_sum", None, 0.0));
            slots.push(created());
            slots
        }
        SeriesShape::Summary { .. } => vec![("_count", None, 0.0), ("_sum", None, 0.0), created()],
        // One slot per state, named by the metric as its label; the first state holds at first.
        SeriesShape::StateSet { states } => states
            .names()
            .iter()
            .enumerate()
            .map(|(i, state)| {
                ("", Some(Label { name: meta.name.clone(), value: state.clone() }), if i == 0 { 1.0 } else { 0.0 })
            })
            .collect(),
        // An info's series depends on the pairs it holds (`set_info`).
        _ => Vec::new(),
    }
}

impl StoredSeries {
    /// The slots of the series of `meta` with these label values in `file`, made on first use
    /// (a series removed before starts afresh). `identifier` names the process in the `pid`
    /// label of the per-process rules (`All`, `LiveAll`). Infos and state sets merge by
    /// `LiveMax` whatever `rule` says: the same pairs or state in several live processes are one
    /// series.
    ///
    /// # Errors
    /// A failure to add the slots to the file.
    pub fn open(
        file: &ProcessFile,
        identifier: &str,
        rule: Merge,
        meta: &FamilyMeta,
        shape: SeriesShape<'_>,
        label_values: &[&str],
    ) -> Result<Self, Error> {
        let mut labels: Vec<(Arc<str>, Arc<str>)> =
            meta.label_names.iter().cloned().zip(label_values.iter().map(|v| Arc::from(*v))).collect();
        labels.extend(meta.const_labels.iter().map(|l| (l.name.clone(), l.value.clone())));
        let rule = match shape {
            SeriesShape::StateSet { .. } | SeriesShape::Info => Merge::LiveMax,
            _ => rule,
        };
        if matches!(rule, Merge::All | Merge::LiveAll) {
            labels.push((Arc::from("pid"), Arc::from(identifier)));
        }
        let file = file.clone();
        if let SeriesShape::Info = shape {
            let info = InfoSlot { meta: meta.clone(), labels, current: Mutex::new(None) };
            let (slots, keys) = (Vec::new(), Vec::new());
            return Ok(Self { slots, file, keys, bounds: None, info: Some(info), sketch: None, native: None });
        }
        let layout = layout(meta, shape);
        let mut slots = Vec::with_capacity(layout.len());
        let mut keys = Vec::with_capacity(layout.len());
        for (suffix, extra, first) in &layout {
            let key = series_key(meta, suffix, &labels, extra.as_ref());
            let rule = if *suffix == "_created" { Merge::Min } else { rule };
            let slot = file.slot(&key, rule)?;
            if *first != 0.0 || slot.is_removed() {
                slot.set(*first);
            }
            slots.push(slot);
            keys.push(key);
        }
        let native = match shape {
            SeriesShape::NativeHistogram { options } => Some(NativeSlots::open(&file, rule, meta, &labels, options)?),
            _ => None,
        };
        let (bounds, sketch) = match shape {
            SeriesShape::Histogram { bounds } => (Some(Arc::from(bounds)), None),
            SeriesShape::NativeHistogram { options } => {
                (Some(options.classic.as_ref().map_or_else(|| Arc::from([]), |b| Arc::from(b.bounds()))), None)
            }
            SeriesShape::Summary { quantiles: Some(quantiles) } => {
                (None, Some(StoredSketch::open(&file, meta, &labels, quantiles)?))
            }
            _ => (None, None),
        };
        Ok(Self { slots, file, keys, bounds, info: None, sketch, native })
    }

    /// [`open`](Self::open) as a `MirrorSource` answers: the series as its mirror, a failure as
    /// the core's `Error::Mirror`.
    pub fn mirror(
        file: &ProcessFile,
        identifier: &str,
        rule: Merge,
        meta: &FamilyMeta,
        shape: SeriesShape<'_>,
        label_values: &[&str],
    ) -> Result<Option<Arc<dyn SeriesMirror>>, CoreError> {
        Self::open(file, identifier, rule, meta, shape, label_values)
            .map_or_else(unstored, |series| Ok(Some(Arc::new(series))))
    }

    /// The slot index of the bucket `value` falls in, for a histogram.
    fn bucket_of(&self, value: f64) -> Option<usize> {
        self.bounds.as_ref()?.iter().position(|b| value <= *b)
    }
}

impl SeriesMirror for StoredSeries {
    #[inline]
    fn add(&self, amount: f64) {
        if let Some(slot) = self.slots.first() {
            slot.add(amount);
        }
    }

    #[inline]
    fn set(&self, value: f64) {
        if let Some(slot) = self.slots.first() {
            slot.set(value);
        }
    }

    /// A histogram's bucket and sum, a summary's count, sum and sketch.
    #[inline]
    fn observe(&self, value: f64) {
        if let Some(native) = &self.native {
            native.observe(value);
            let bounds = self.bounds.as_deref().unwrap_or_default();
            if let Some(bucket) = self.bucket_of(value).and_then(|i| self.slots.get(i)) {
                bucket.add(1.0);
            }
            if let Some(sum) = self.slots.get(bounds.len()) {
                sum.add(value);
            }
            return;
        }
        let (count, sum) = match &self.bounds {
            Some(bounds) => match self.bucket_of(value) {
                Some(i) => (i, bounds.len()),
                None => return,
            },
            None => (0, 1),
        };
        let (Some(count), Some(sum)) = (self.slots.get(count), self.slots.get(sum)) else { return };
        count.add(1.0);
        sum.add(value);
        if let Some(sketch) = &self.sketch {
            // A bin that cannot be added (the file cannot grow) leaves the value out of the
            // quantiles only; count and sum have it.
            let _ = sketch.observe(value);
        }
    }

    fn set_states(&self, holding: u64) {
        for (i, slot) in self.slots.iter().enumerate() {
            let holds = i < 64 && holding & (1 << i) != 0;
            slot.set(if holds { 1.0 } else { 0.0 });
        }
    }

    /// The series of the new pairs holds 1; the one it replaces is removed.
    fn set_info(&self, pairs: &LabelSet) {
        let Some(info) = &self.info else { return };
        let mut labels = info.labels.clone();
        labels.extend(pairs.iter().map(|l| (l.name.clone(), l.value.clone())));
        let mut current = info.current.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(old) = current.take() {
            old.remove();
        }
        // A slot that cannot be added (the file cannot grow) leaves the pairs in this process.
        if let Ok(slot) = self.file.slot(&series_key(&info.meta, "_info", &labels, None), Merge::LiveMax) {
            slot.set(1.0);
            *current = Some(slot);
        }
    }

    /// Kept for other processes' scrapes on a counter's total or the bucket of `value`; the
    /// latest written in any process is shown.
    fn exemplar(&self, value: f64, exemplar: &Exemplar) {
        let index = if self.bounds.is_some() { self.bucket_of(value) } else { Some(0) };
        let Some(key) = index.and_then(|i| self.keys.get(i)) else { return };
        if let Ok(slot) = self.file.exemplar_slot(key) {
            slot.write(exemplar);
        }
    }

    /// Marks the series removed in the file: other processes' scrapes and the archive leave
    /// this process's share out.
    fn remove(&self) {
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
        if let Some(native) = &self.native {
            native.remove();
        }
    }
}
