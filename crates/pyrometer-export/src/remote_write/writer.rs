//! The writer: a thread of its own running one task that collects on the interval and one
//! sender task per shard, and the calls that flush and close it from any thread.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use pyrometer_core::Registry;
use tokio::sync::watch;

use super::options::{RemoteWriteError, RemoteWriteOptions};
use super::points::{Point, SeriesPoints};
use super::queue::Queue;
use super::send::{Outcome, Target};
use super::stats::{Counters, RemoteWriteStats, SelfMetrics};
use crate::client::{Endpoint, KeptConnection};
use crate::retry::Backoff;

/// Writes a registry to a remote-write receiver: see [the module](super).
#[derive(Debug)]
pub struct RemoteWriter {
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
    /// The process the thread runs in; a forked child's copy has no thread.
    pid: u32,
}

#[derive(Debug)]
struct Shared {
    registry: Registry,
    options: RemoteWriteOptions,
    /// The receiver's URL without credentials (with its query), for errors and self-metrics.
    url: String,
    series: Mutex<SeriesPoints>,
    queue: Queue,
    counters: Arc<Counters>,
    /// Whether the interval collection runs (from [`RemoteWriter::start`] on).
    ticking: AtomicBool,
    /// Flushes waiting: while any is, shards send what they hold without waiting to fill a batch.
    flushing: AtomicUsize,
    /// Set when closing, to the time by which everything must be sent.
    closing: watch::Sender<Option<Instant>>,
    closed: AtomicBool,
    /// Signalled whenever a batch is settled, for flushes waiting on the queue to empty.
    settled: (Mutex<()>, Condvar),
}

impl RemoteWriter {
    /// A writer of `registry` to `url` (`http://` assumed without a scheme). Its thread starts
    /// at once; collections on the interval start with [`RemoteWriter::start`], and
    /// [`RemoteWriter::flush`] sends one at any time.
    ///
    /// # Errors
    /// An invalid URL or setting, or a thread that cannot be started.
    pub fn new(url: &str, registry: Registry, options: RemoteWriteOptions) -> Result<Self, RemoteWriteError> {
        options.validate()?;
        #[allow(unused_mut)]
        let mut endpoint =
            Endpoint::parse(url).map_err(|reason| RemoteWriteError::Url { url: url.to_owned(), reason })?;
        #[cfg(feature = "tls")]
        {
            endpoint.tls.clone_from(&options.tls);
        }
        if endpoint.https && !cfg!(feature = "tls") {
            return Err(RemoteWriteError::Url { url: url.to_owned(), reason: "TLS is not built in".into() });
        }
        let target = Arc::new(Target::new(endpoint.clone(), &options)?);
        let counters = Arc::new(Counters::default());
        let shared = Arc::new(Shared {
            registry,
            url: endpoint.url(&format!("{}{}", endpoint.path, endpoint.query)),
            series: Mutex::new(SeriesPoints::new(
                &options.external_labels,
                options.native_histograms,
                options.exemplars,
            )),
            queue: Queue::new(
                options.shards,
                options.max_pending_samples,
                options.max_pending_bytes,
                Arc::clone(&counters),
            ),
            counters,
            ticking: AtomicBool::new(false),
            flushing: AtomicUsize::new(0),
            closing: watch::Sender::new(None),
            closed: AtomicBool::new(false),
            settled: (Mutex::new(()), Condvar::new()),
            options,
        });
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .max_blocking_threads(1)
            .thread_name("pyrometer-remote-write-collect")
            .build()?;
        let state = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("pyrometer-remote-write".into())
            .spawn(move || runtime.block_on(run(state, target)))?;
        Ok(Self { shared, thread: Mutex::new(Some(thread)), pid: std::process::id() })
    }

    /// Starts collecting on the interval (the first collection one interval from now).
    pub fn start(&self) {
        self.shared.ticking.store(true, Ordering::Relaxed);
    }

    /// Collects now and waits, at most `timeout` (after the collection, which takes what the
    /// registry's collectors take), until everything queued has been settled (sent or given
    /// up); whether it was. In a forked child, whose copy has no thread, or once closed,
    /// returns `false` at once.
    pub fn flush(&self, timeout: Duration) -> bool {
        if std::process::id() != self.pid || self.shared.closed.load(Ordering::Acquire) {
            return false;
        }
        self.shared.collect(Collection::Regular);
        let deadline = later(timeout);
        self.shared.flushing.fetch_add(1, Ordering::AcqRel);
        self.shared.wake_all();
        let settled = self.shared.wait_settled(deadline);
        self.shared.flushing.fetch_sub(1, Ordering::AcqRel);
        settled
    }

    /// Collects a last time, marks every series stale (unless told not to), sends what is
    /// queued within the shutdown timeout and stops the thread; what is still unsent then is
    /// counted as failed. The collection, and one on the interval that is under way, come on top
    /// of the timeout. Later calls do nothing, and neither does a call in a forked child.
    pub fn close(&self) {
        if !self.begin_closing() {
            return;
        }
        self.shared.collect(Collection::Last { stale: self.shared.options.stale_on_close });
        self.shared.closing.send_replace(Some(later(self.shared.options.shutdown_timeout)));
        self.shared.wake_all();
        if let Some(thread) = self.thread.lock().unwrap_or_else(PoisonError::into_inner).take() {
            let _ = thread.join();
        }
        self.shared.queue.abandon();
    }

    /// Stops at once: no last collection, nothing more sent, nothing waited for (what is queued
    /// is counted as failed). For a writer dropped where waiting could deadlock: by a thread
    /// that holds a lock a collector needs, say. Later calls, and `close()`, do nothing.
    pub fn stop_now(&self) {
        if !self.begin_closing() {
            return;
        }
        self.shared.closing.send_replace(Some(Instant::now()));
        self.shared.wake_all();
        // Detached: the thread ends by itself, its senders seeing the deadline passed.
        drop(self.thread.lock().unwrap_or_else(PoisonError::into_inner).take());
        self.shared.queue.abandon();
    }

    /// Marks the writer closed; whether this call is the one to stop its thread (not a later
    /// call, nor one in a forked child, whose copy has no thread).
    fn begin_closing(&self) -> bool {
        if std::process::id() != self.pid {
            // Forgotten, not dropped: dropping detaches the thread id, which a thread this
            // process starts may have reused.
            std::mem::forget(self.thread.lock().unwrap_or_else(PoisonError::into_inner).take());
            return false;
        }
        !self.shared.closed.swap(true, Ordering::AcqRel)
    }

    /// What the writer has done so far.
    #[must_use]
    pub fn stats(&self) -> RemoteWriteStats {
        self.shared.counters.snapshot()
    }

    /// The writer's counts as a collector of `pyrometer_remote_write_*` metrics, to register in
    /// a registry (the written one, say, so that the receiver gets them too). Other writers
    /// can join it ([`SelfMetrics::add`]).
    #[must_use]
    pub fn self_metrics(&self) -> SelfMetrics {
        let metrics = SelfMetrics::new();
        // The first writer of new self-metrics cannot clash.
        let _ = metrics.add(self);
        metrics
    }

    /// The receiver's URL, without credentials.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.shared.url
    }

    pub(crate) fn counters(&self) -> &Arc<Counters> {
        &self.shared.counters
    }
}

impl Drop for RemoteWriter {
    fn drop(&mut self) {
        self.close();
    }
}

/// Which collection: one on the interval or a flush's, or the close's last one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Collection {
    Regular,
    /// The last, followed by a staleness marker for every series if `stale`.
    Last {
        stale: bool,
    },
}

impl Shared {
    /// Collects the registry and queues its points. A collection that fails (or panics) queues
    /// nothing, but the last one's staleness markers.
    fn collect(&self, kind: Collection) {
        let collected = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.registry.collect()));
        let families = match collected {
            Ok(Ok(families)) => Some(families),
            Ok(Err(e)) => {
                self.counters.fail(format!("collecting the registry failed: {e}"));
                None
            }
            Err(_) => {
                self.counters.fail("collecting the registry panicked".into());
                None
            }
        };
        // The lock is held until the points are queued, and the time is read under it:
        // collections queue in the order of their times.
        let mut series = self.series.lock().unwrap_or_else(PoisonError::into_inner);
        if kind == Collection::Regular && self.closed.load(Ordering::Acquire) {
            // Closing: the last collection's staleness markers must stay last.
            return;
        }
        let now = now_ms();
        let mut points = families.map(|families| series.points(&families, now)).unwrap_or_default();
        if kind == (Collection::Last { stale: true }) {
            points.extend(series.stale_all(now));
        }
        self.queue.push(points);
    }

    fn wake_all(&self) {
        for index in 0..self.queue.shards() {
            self.queue.shard(index).wake.notify_one();
        }
    }

    fn wait_settled(&self, deadline: Instant) -> bool {
        let (lock, signal) = &self.settled;
        let mut guard = lock.lock().unwrap_or_else(PoisonError::into_inner);
        while self.counters.pending.load(Ordering::Acquire) > 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            guard = signal
                .wait_timeout(guard, left.min(Duration::from_millis(50)))
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        true
    }

    fn settle(&self, n: usize) {
        self.queue.done(n);
        let _guard = self.settled.0.lock().unwrap_or_else(PoisonError::into_inner);
        self.settled.1.notify_all();
    }
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// The instant `wait` from now (options are at most a day; a longer wait saturates at a year).
fn later(wait: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(wait).or_else(|| now.checked_add(Duration::from_secs(365 * 86_400))).unwrap_or(now)
}

/// The writer's thread: the interval collection, and a sender per shard, until closed.
async fn run(shared: Arc<Shared>, target: Arc<Target>) {
    let senders: Vec<_> = (0..shared.queue.shards())
        .map(|index| tokio::spawn(send_shard(Arc::clone(&shared), Arc::clone(&target), index)))
        .collect();
    let mut closing = shared.closing.subscribe();
    let interval = shared.options.interval;
    let mut next = tokio::time::Instant::now() + interval;
    while closing.borrow_and_update().is_none() {
        tokio::select! {
            () = tokio::time::sleep_until(next) => {
                next = tokio::time::Instant::now() + interval;
                if shared.ticking.load(Ordering::Relaxed) {
                    let state = Arc::clone(&shared);
                    let _ = tokio::task::spawn_blocking(move || state.collect(Collection::Regular)).await;
                }
            }
            _ = closing.changed() => {}
        }
    }
    for sender in senders {
        let _ = sender.await;
    }
}

/// Sends shard `index`'s points, a batch at a time, until closed and empty (or out of time).
async fn send_shard(shared: Arc<Shared>, target: Arc<Target>, index: usize) {
    let options = &shared.options;
    let mut connection = KeptConnection::new(target.endpoint.clone());
    let mut backoff = Backoff::new(options.min_backoff, options.max_backoff);
    let mut closing = shared.closing.subscribe();
    // A point waits for its batch to fill no longer than the deadline, nor than the interval:
    // with collections more frequent than the deadline, each one is a batch.
    let batch_deadline = options.batch_send_deadline.min(options.interval);
    loop {
        // Wait for a batch to be due: full, old enough, or asked for by a flush or the close.
        loop {
            let deadline = *closing.borrow_and_update();
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return;
            }
            let (len, oldest) = shared.queue.state(index);
            if len == 0 && deadline.is_some() {
                return;
            }
            let hurried = deadline.is_some() || shared.flushing.load(Ordering::Acquire) > 0;
            let waited = oldest.map_or(Duration::ZERO, |at| at.elapsed());
            if len >= options.max_samples_per_send || (len > 0 && (hurried || waited >= batch_deadline)) {
                break;
            }
            let wait = if len > 0 { batch_deadline.saturating_sub(waited) } else { Duration::from_secs(3600) };
            tokio::select! {
                () = shared.queue.shard(index).wake.notified() => {}
                () = tokio::time::sleep(wait) => {}
                _ = closing.changed() => {}
            }
        }
        let batch = shared.queue.take(index, options.max_samples_per_send);
        let n = batch.len();
        send_batch(&shared, &target, &mut connection, &mut backoff, &mut closing, batch).await;
        shared.settle(n);
    }
}

/// Sends one batch, retrying what is worth retrying until it is sent, refused, or the close's
/// deadline passes; counts the outcome.
async fn send_batch(
    shared: &Shared,
    target: &Target,
    connection: &mut KeptConnection,
    backoff: &mut Backoff,
    closing: &mut watch::Receiver<Option<Instant>>,
    batch: Vec<Point>,
) {
    let n = batch.len();
    let counters = &shared.counters;
    let body = match target.body(&batch) {
        Ok(body) => body,
        Err(e) => {
            Counters::add(&counters.failed, n);
            counters.fail(format!("encoding a request failed: {e}"));
            return;
        }
    };
    drop(batch);
    loop {
        let deadline = *closing.borrow();
        let timeout = deadline.map_or(shared.options.timeout, |d| {
            shared.options.timeout.min(d.saturating_duration_since(Instant::now()))
        });
        if timeout.is_zero() {
            Counters::add(&counters.failed, n);
            counters.fail(format!("the writer closed with {n} samples unsent"));
            return;
        }
        let (error, asked) = match target.attempt(connection, body.clone(), timeout).await {
            Outcome::Sent => {
                Counters::add(&counters.sent, n);
                counters.last_success_ms.store(now_ms() as u64, Ordering::Relaxed);
                backoff.reset();
                return;
            }
            Outcome::Refused(error) => {
                Counters::add(&counters.failed, n);
                counters.fail(format!("{}: {error}", shared.url));
                return;
            }
            Outcome::Retry(error, asked) => (error, asked),
        };
        counters.fail(format!("{}: {error}", shared.url));
        let until = later(backoff.next_wait(asked));
        // Wait, but not past the close's deadline.
        loop {
            let end = closing.borrow_and_update().map_or(until, |d| d.min(until));
            tokio::select! {
                () = tokio::time::sleep_until(end.into()) => break,
                changed = closing.changed() => if changed.is_err() { break },
            }
        }
        Counters::add(&counters.retried, n);
    }
}
