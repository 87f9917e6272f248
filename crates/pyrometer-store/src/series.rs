//! Metric series in the store: how a series of a family maps to a key, and the collector that
//! turns every process's entries into families again. Writers (the Python binding) and readers (its collector, the sidecar)
//! share these rules.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use pyrometer_core::{CollectOptions, Collector, Error, FamilyMeta, Label, MetricFamily, MetricType, Sample};

use crate::directory::StoreDir;
use crate::scrape::Views;

pub(crate) use key::decode;

/// The key of one sample of a series: the family (type, name, help, unit), the sample's suffix,
/// its labels in order and its extra label (a bucket's `le`), each length-prefixed.
#[must_use]
pub fn series_key(meta: &FamilyMeta, suffix: &str, labels: &[(Arc<str>, Arc<str>)], extra: Option<&Label>) -> Vec<u8> {
    key::encode(meta, suffix, labels, extra)
}

/// A collector reading every process's series from a store directory at each collection. It
/// keeps what it parsed between collections, so a scrape reads each series' value with one
/// atomic load and parses only entries added since.
pub struct DirectoryCollector {
    dir: PathBuf,
    views: Mutex<Views>,
    /// What the last collection had to leave out.
    problems: Mutex<Vec<String>>,
    /// Whether families carry `_created` samples when a collection asks for them.
    created: bool,
    /// Told of each file a collection could not read, once per file.
    reporter: Option<ProblemReporter>,
    reported: Mutex<HashSet<PathBuf>>,
    /// Files found unreadable so far: the value of [`UNREADABLE_FILES_METRIC`].
    unreadable: AtomicU64,
}

/// What is told of a file a collection could not read (its path and the problem, as text).
pub type ProblemReporter = Arc<dyn Fn(&str) + Send + Sync>;

/// The counter of store files found unreadable, exposed once there is one (so that a healthy
/// directory's exposition is what `prometheus_client`'s would be).
pub const UNREADABLE_FILES_METRIC: &str = "pyrometer_multiprocess_unreadable_files";

/// The counter of series this process could not write to its store file (a full disk, say),
/// exposed once there is one: see [`unstored_series`](crate::unstored_series).
pub const UNSTORED_SERIES_METRIC: &str = "pyrometer_multiprocess_unstored_series";

impl std::fmt::Debug for DirectoryCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DirectoryCollector").field("dir", &self.dir).finish_non_exhaustive()
    }
}

impl DirectoryCollector {
    /// A collector over `dir`.
    #[must_use]
    pub fn new(dir: PathBuf) -> Self {
        Self {
            dir,
            views: Mutex::new(Views::default()),
            problems: Mutex::new(Vec::new()),
            created: true,
            reporter: None,
            reported: Mutex::new(HashSet::new()),
            unreadable: AtomicU64::new(0),
        }
    }

    /// The same collector, telling `reporter` of each file it cannot read, once per file (a
    /// corrupt file of a dead process is set aside as `*.corrupt`; a live one is left out until
    /// it reads again).
    #[must_use]
    pub fn report_problems_with(mut self, reporter: ProblemReporter) -> Self {
        self.reporter = Some(reporter);
        self
    }

    /// The same collector, leaving `_created` samples out whatever a collection asks: the
    /// families `prometheus_client`'s multiprocess mode writes, which has none.
    #[must_use]
    pub fn without_created(mut self) -> Self {
        self.created = false;
        self
    }

    /// The directory.
    #[must_use]
    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }

    /// The files the last collection could not read, and why.
    #[must_use]
    pub fn problems(&self) -> Vec<String> {
        self.problems.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

impl Collector for DirectoryCollector {
    fn collect(&self, options: &CollectOptions, out: &mut Vec<MetricFamily>) -> Result<(), Error> {
        let _gate = pyrometer_core::fork::enter();
        let store = match StoreDir::open(&self.dir) {
            Ok(store) => store,
            // Deleted under the processes writing to it: their files are gone with it, and what
            // they write now reaches no other process. Told once; the scrape shows nothing.
            Err(_) if !self.dir.exists() => {
                let first = self.reported.lock().unwrap_or_else(PoisonError::into_inner).insert(self.dir.clone());
                if first && let Some(reporter) = &self.reporter {
                    reporter(&format!(
                        "{}: the multiprocess directory is gone (deleted while processes wrote to it); \
                         what they write is no longer shared until they start again with it in place",
                        self.dir.display()
                    ));
                }
                return Ok(());
            }
            Err(err) => return Err(Error::collect(err)),
        };
        let reaped = store.reap().map_err(Error::collect)?;
        let paths = store.scrape_paths().map_err(Error::collect)?;
        let mut views = self.views.lock().unwrap_or_else(PoisonError::into_inner);
        let problems = views.refresh(&paths);
        *self.problems.lock().unwrap_or_else(PoisonError::into_inner) =
            reaped.problems.iter().chain(&problems).map(ToString::to_string).collect();
        out.extend(views.families(&paths, options.created && self.created));
        drop(views);
        let new: Vec<String> = {
            let mut reported = self.reported.lock().unwrap_or_else(PoisonError::into_inner);
            reaped
                .problems
                .iter()
                .chain(&problems)
                .filter(|p| reported.insert(p.path.clone()))
                .map(ToString::to_string)
                .collect()
        };
        self.unreadable.fetch_add(new.len() as u64, Ordering::Relaxed);
        // Told with no lock held: the reporter may run code of an embedding runtime.
        if let Some(reporter) = &self.reporter {
            for text in &new {
                reporter(text);
            }
        }
        // Self-metrics, once there is something to count (so that a healthy directory's
        // exposition is what `prometheus_client`'s would be).
        let counts = [
            (
                UNREADABLE_FILES_METRIC,
                "Multiprocess store files that could not be read, and were left out of the scrape.",
                self.unreadable.load(Ordering::Relaxed),
            ),
            (
                UNSTORED_SERIES_METRIC,
                "Series this process could not write to the multiprocess store (a full disk, say).",
                crate::unstored_series(),
            ),
        ];
        for (name, help, count) in counts.into_iter().filter(|(_, _, count)| *count > 0) {
            let mut family =
                MetricFamily::from_parts(name.into(), help.into(), MetricType::Counter, "".into(), Vec::new());
            family.samples.push(Sample::new("_total", pyrometer_core::LabelSet::EMPTY, count as f64));
            out.push(family);
        }
        Ok(())
    }
}

/// The suffixes store keys carry, as the `'static` names samples use.
pub(crate) fn static_suffix(suffix: &str) -> &'static str {
    match suffix {
        "_total" => "_total",
        "_count" => "_count",
        "_sum" => "_sum",
        "_bucket" => "_bucket",
        "_info" => "_info",
        "_created" => "_created",
        _ => "",
    }
}

pub(crate) fn le_value(le: &str) -> f64 {
    if le == "+Inf" { f64::INFINITY } else { le.parse().unwrap_or(f64::NAN) }
}

/// Store keys: a series' family, sample and labels, length-prefixed.
mod key {
    use std::sync::Arc;

    use pyrometer_core::{FamilyMeta, Label, MetricType};

    fn put(out: &mut Vec<u8>, s: &str) {
        out.extend_from_slice(&u32::try_from(s.len()).unwrap_or(u32::MAX).to_le_bytes());
        out.extend_from_slice(s.as_bytes());
    }

    pub(super) fn encode(
        meta: &FamilyMeta,
        suffix: &str,
        labels: &[(Arc<str>, Arc<str>)],
        extra: Option<&Label>,
    ) -> Vec<u8> {
        let mut out = Vec::new();
        put(&mut out, meta.metric_type.as_str());
        put(&mut out, &meta.name);
        put(&mut out, &meta.help);
        put(&mut out, &meta.unit);
        put(&mut out, suffix);
        for (name, value) in labels {
            put(&mut out, name);
            put(&mut out, value);
        }
        if let Some(extra) = extra {
            put(&mut out, &extra.name);
            put(&mut out, &extra.value);
        }
        out
    }

    /// A decoded key.
    pub(crate) struct Decoded {
        pub(crate) metric_type: MetricType,
        pub(crate) name: String,
        pub(crate) help: String,
        pub(crate) unit: String,
        pub(crate) suffix: String,
        pub(crate) labels: Vec<(String, String)>,
    }

    pub(crate) fn decode(mut bytes: &[u8]) -> Option<Decoded> {
        let mut take = || -> Option<String> {
            let len = u32::from_le_bytes(bytes.get(..4)?.try_into().ok()?) as usize;
            let s = std::str::from_utf8(bytes.get(4..4 + len)?).ok()?.to_owned();
            bytes = &bytes[4 + len..];
            Some(s)
        };
        let metric_type = take()?.parse().ok()?;
        let (name, help, unit, suffix) = (take()?, take()?, take()?, take()?);
        let mut labels = Vec::new();
        while let Some(label) = take() {
            labels.push((label, take()?));
        }
        Some(Decoded { metric_type, name, help, unit, suffix, labels })
    }
}
