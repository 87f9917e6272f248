//! The collector that turns every process's entries of a store directory into families again.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use pyrometer_core::{CollectOptions, Collector, Error, MetricFamily, MetricType, Sample};

use crate::directory::StoreDir;
use crate::scrape::Views;

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
