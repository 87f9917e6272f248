//! What a remote writer has done: counts kept as it works, read as a snapshot or as metrics.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};

use pyrometer_core::{CollectOptions, Collector, Description, Error, LabelSet, MetricFamily, MetricType, Sample};

use super::options::RemoteWriteError;
use super::writer::RemoteWriter;

/// The counts, shared by the writer's tasks.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) sent: AtomicU64,
    pub(crate) failed: AtomicU64,
    pub(crate) retried: AtomicU64,
    pub(crate) dropped: AtomicU64,
    /// Points queued or in flight.
    pub(crate) pending: AtomicU64,
    pub(crate) pending_bytes: AtomicU64,
    /// Milliseconds since the epoch of the last accepted request; 0 before the first.
    pub(crate) last_success_ms: AtomicU64,
    pub(crate) last_error: Mutex<Option<String>>,
}

impl Counters {
    pub(crate) fn add(counter: &AtomicU64, n: usize) {
        counter.fetch_add(n as u64, Ordering::Relaxed);
    }

    pub(crate) fn fail(&self, error: String) {
        *self.last_error.lock().unwrap_or_else(PoisonError::into_inner) = Some(error);
    }

    pub(crate) fn snapshot(&self) -> RemoteWriteStats {
        let last = self.last_success_ms.load(Ordering::Relaxed);
        RemoteWriteStats {
            samples_sent: self.sent.load(Ordering::Relaxed),
            samples_failed: self.failed.load(Ordering::Relaxed),
            samples_retried: self.retried.load(Ordering::Relaxed),
            samples_dropped: self.dropped.load(Ordering::Relaxed),
            samples_pending: self.pending.load(Ordering::Relaxed),
            bytes_pending: self.pending_bytes.load(Ordering::Relaxed),
            last_success_timestamp: (last > 0).then(|| last as f64 / 1000.0),
            last_error: self.last_error.lock().unwrap_or_else(PoisonError::into_inner).clone(),
        }
    }
}

/// What a remote writer has done so far.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RemoteWriteStats {
    /// Points the receiver accepted.
    pub samples_sent: u64,
    /// Points given up on: refused by the receiver (a 4xx other than 429), or still unsent when
    /// the writer closed.
    pub samples_failed: u64,
    /// Points sent again after a retryable failure (once per retry).
    pub samples_retried: u64,
    /// Points dropped unsent because the queue was full (the oldest go first).
    pub samples_dropped: u64,
    /// Points queued or in flight.
    pub samples_pending: u64,
    /// What the queued points take, roughly, in bytes.
    pub bytes_pending: u64,
    /// When a request was last accepted, in seconds since the epoch.
    pub last_success_timestamp: Option<f64>,
    /// The last error, if any.
    pub last_error: Option<String>,
}

/// Remote writers' counts as metrics (`pyrometer_remote_write_*`, each writer's labelled with
/// its receiver's URL), to register in a registry: see
/// [`RemoteWriter::self_metrics`](super::RemoteWriter::self_metrics). Several writers of one
/// registry share one, so that the families stay one each.
#[derive(Debug, Default)]
pub struct SelfMetrics {
    writers: Mutex<Vec<(LabelSet, Weak<Counters>)>>,
}

const COUNTERS: [(&str, &str); 4] = [
    ("pyrometer_remote_write_samples_sent", "Samples the remote-write receiver accepted."),
    ("pyrometer_remote_write_samples_failed", "Samples refused by the receiver or unsent at shutdown."),
    ("pyrometer_remote_write_samples_retried", "Samples sent again after a retryable failure."),
    ("pyrometer_remote_write_samples_dropped", "Samples dropped unsent because the queue was full."),
];
const PENDING: &str = "pyrometer_remote_write_samples_pending";
const LAST_SUCCESS: &str = "pyrometer_remote_write_last_success_timestamp_seconds";

impl SelfMetrics {
    /// Self-metrics of no writer yet.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `writer`'s counts; an error if a writer to the same URL is in already (their series
    /// would be one).
    pub fn add(&self, writer: &RemoteWriter) -> Result<(), RemoteWriteError> {
        let labels = LabelSet::new([("url", writer.url())]);
        let mut writers = self.lock();
        writers.retain(|(_, counters)| counters.strong_count() > 0);
        if writers.iter().any(|(l, _)| *l == labels) {
            return Err(RemoteWriteError::Setting(format!(
                "another writer to {} already reports its metrics here",
                writer.url()
            )));
        }
        writers.push((labels, Arc::downgrade(writer.counters())));
        Ok(())
    }

    /// Takes `writer`'s counts out; whether any writer is left.
    pub fn remove(&self, writer: &RemoteWriter) -> bool {
        let mut writers = self.lock();
        writers.retain(|(_, counters)| {
            counters.strong_count() > 0 && Weak::as_ptr(counters) != Arc::as_ptr(writer.counters())
        });
        !writers.is_empty()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(LabelSet, Weak<Counters>)>> {
        self.writers.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Collector for SelfMetrics {
    fn collect(&self, _options: &CollectOptions, out: &mut Vec<MetricFamily>) -> Result<(), Error> {
        let writers: Vec<(LabelSet, Arc<Counters>)> =
            self.lock().iter().filter_map(|(labels, counters)| Some((labels.clone(), counters.upgrade()?))).collect();
        if writers.is_empty() {
            return Ok(());
        }
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed) as f64;
        let totals: [fn(&Counters) -> &AtomicU64; 4] = [|c| &c.sent, |c| &c.failed, |c| &c.retried, |c| &c.dropped];
        for ((name, help), total) in COUNTERS.iter().zip(totals) {
            let mut family = MetricFamily::new(name, *help, MetricType::Counter, "")?;
            for (labels, counters) in &writers {
                family.samples.push(Sample::new("_total", labels.clone(), load(total(counters))));
            }
            out.push(family);
        }
        let mut pending = MetricFamily::new(PENDING, "Samples queued or in flight.", MetricType::Gauge, "")?;
        let mut last =
            MetricFamily::new(LAST_SUCCESS, "When the receiver last accepted a request.", MetricType::Gauge, "")?;
        for (labels, counters) in &writers {
            pending.samples.push(Sample::new("", labels.clone(), load(&counters.pending)));
            last.samples.push(Sample::new("", labels.clone(), load(&counters.last_success_ms) / 1000.0));
        }
        out.push(pending);
        out.push(last);
        Ok(())
    }

    fn describe(&self) -> Option<Vec<Description>> {
        let counters = COUNTERS.iter().map(|(name, _)| (*name, MetricType::Counter));
        let gauges = [(PENDING, MetricType::Gauge), (LAST_SUCCESS, MetricType::Gauge)];
        Some(
            counters
                .chain(gauges)
                .map(|(name, metric_type)| Description { name: Arc::from(name), metric_type })
                .collect(),
        )
    }
}
