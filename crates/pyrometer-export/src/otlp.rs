//! Exporting a registry to an OpenTelemetry collector: OTLP over HTTP with protobuf bodies, every
//! point cumulative.
//!
//! A scrape's families become OTLP metrics: a counter a monotonic `Sum`, a gauge a `Gauge`, a
//! histogram a `Histogram` with explicit bounds (per-bucket counts, as OTLP wants them, not
//! Prometheus's cumulative ones), a summary a `Summary` with its quantiles; an info or state set
//! a `Gauge` of its samples. A series' `_created` sample is its points' start time. Messages are
//! the `opentelemetry-proto` crate's, as the OpenTelemetry project generates them.
//!
//! [`OtlpExporter`] sends one export, retrying what the specification calls retryable (429, 502,
//! 503, 504 and broken connections) with exponential backoff, honouring `Retry-After`;
//! [`PeriodicExporter`] runs it on an interval on a thread of its own and exports once more when
//! shut down.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{CONTENT_TYPE, HOST};
use hyper::{Method, Request};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram, HistogramDataPoint,
    Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, Summary, SummaryDataPoint,
    exponential_histogram_data_point, metric, number_data_point, summary_data_point,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message;
use pyrometer_core::{BucketCounts, LabelSet, MetricFamily, MetricType, NativeHistogramValue, Registry, Sample};

use crate::client::{Endpoint, ExchangeError};
use crate::retry::{Backoff, retry_after};

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OtlpError {
    /// The endpoint is not an `http(s)://host[:port]/path` URL, or TLS is not configured.
    #[error("invalid OTLP endpoint {url:?}: {reason}")]
    Url {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Collecting the registry failed.
    #[error("collecting the registry failed: {0}")]
    Collect(#[from] pyrometer_core::Error),
    /// The collector could not be reached or the exchange broke off (after the retries).
    #[error("error talking to the OTLP collector: {0}")]
    Io(#[from] std::io::Error),
    /// The HTTP exchange failed (after the retries).
    #[error("error talking to the OTLP collector: {0}")]
    Http(#[from] hyper::Error),
    /// The collector refused the export.
    #[error("the OTLP collector answered {status}: {body}")]
    Status {
        /// The HTTP status code.
        status: u16,
        /// The start of the collector's answer.
        body: String,
    },
    /// No answer came within the timeout.
    #[error("the OTLP collector did not answer within {0:?}")]
    Timeout(Duration),
}

/// Settings of an exporter.
#[derive(Clone, Debug)]
pub struct OtlpOptions {
    /// Resource attributes (`service.name`, ...), sent with every export.
    pub resource: Vec<(String, String)>,
    /// Extra HTTP headers (authentication, say).
    pub headers: Vec<(String, String)>,
    /// How long one attempt may take (default 10 s).
    pub timeout: Duration,
    /// Retries after the first attempt (default 5).
    pub max_retries: u32,
    /// The wait before the first retry, doubled for each next one, each wait drawn between half
    /// and all of it (default 500 ms).
    pub initial_backoff: Duration,
    /// The longest wait between attempts (default 30 s).
    pub max_backoff: Duration,
}

impl Default for OtlpOptions {
    fn default() -> Self {
        Self {
            resource: vec![("service.name".into(), "pyrometer".into())],
            headers: Vec::new(),
            timeout: Duration::from_secs(10),
            max_retries: 5,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
        }
    }
}

/// The instrumentation scope every export names.
const SCOPE: &str = "pyrometer";

/// Sends registries to one OTLP/HTTP endpoint (`http://collector:4318/v1/metrics`).
///
/// ```no_run
/// # async fn run() -> Result<(), pyrometer_export::otlp::OtlpError> {
/// use pyrometer_export::otlp::{OtlpExporter, OtlpOptions};
/// let registry = pyrometer_core::Registry::new();
/// let exporter = OtlpExporter::new("http://127.0.0.1:4318/v1/metrics", OtlpOptions::default())?;
/// exporter.export(&registry).await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct OtlpExporter {
    endpoint: Endpoint,
    url: String,
    options: OtlpOptions,
}

impl OtlpExporter {
    /// An exporter to `url`; `http://` is assumed without a scheme.
    pub fn new(url: &str, options: OtlpOptions) -> Result<Self, OtlpError> {
        let endpoint = Endpoint::parse(url).map_err(|reason| OtlpError::Url { url: url.to_owned(), reason })?;
        Ok(Self { endpoint, url: url.to_owned(), options })
    }

    /// The TLS client configuration for an `https://` endpoint (see
    /// [`client_config`](crate::http::client_config)).
    #[cfg(feature = "tls")]
    #[must_use]
    pub fn tls(mut self, config: Arc<rustls::ClientConfig>) -> Self {
        self.endpoint.tls = Some(config);
        self
    }

    /// Collects `registry` and exports it.
    ///
    /// # Errors
    /// A failed collection, an export refused or still failing after the retries.
    pub async fn export(&self, registry: &Registry) -> Result<(), OtlpError> {
        let families = registry.collect()?;
        self.export_families(&families).await
    }

    /// Exports families collected elsewhere.
    ///
    /// # Errors
    /// An export refused or still failing after the retries.
    pub async fn export_families(&self, families: &[MetricFamily]) -> Result<(), OtlpError> {
        let body = Bytes::from(to_request(families, &self.options.resource, unix_nanos()).encode_to_vec());
        let mut backoff = Backoff::new(self.options.initial_backoff, self.options.max_backoff);
        let mut attempt = 0;
        loop {
            let wait = match self.attempt(body.clone()).await {
                Ok(()) => return Ok(()),
                Err(Attempt::Final(e)) => return Err(e),
                Err(Attempt::Retry(e, _)) if attempt >= self.options.max_retries => return Err(e),
                Err(Attempt::Retry(_, retry_after)) => backoff.next_wait(retry_after),
            };
            tokio::time::sleep(wait.min(self.options.max_backoff)).await;
            attempt += 1;
        }
    }

    async fn attempt(&self, body: Bytes) -> Result<(), Attempt> {
        let mut request = Request::builder()
            .method(Method::POST)
            .uri(if self.endpoint.path.is_empty() { "/" } else { &self.endpoint.path })
            .header(HOST, &self.endpoint.authority)
            .header(CONTENT_TYPE, "application/x-protobuf");
        for (name, value) in &self.options.headers {
            request = request.header(name, value);
        }
        let request = request.body(Full::new(body)).map_err(|e| {
            Attempt::Final(OtlpError::Url { url: self.url.clone(), reason: format!("invalid header: {e}") })
        })?;
        let exchange = tokio::time::timeout(self.options.timeout, self.endpoint.exchange(request)).await;
        let (answer, body) = match exchange {
            Err(_) => return Err(Attempt::Retry(OtlpError::Timeout(self.options.timeout), None)),
            Ok(Err(ExchangeError::Io(e))) => return Err(Attempt::Retry(OtlpError::Io(e), None)),
            Ok(Err(ExchangeError::Http(e))) => return Err(Attempt::Retry(OtlpError::Http(e), None)),
            Ok(Err(ExchangeError::Tls(reason))) => {
                return Err(Attempt::Final(OtlpError::Url { url: self.url.clone(), reason }));
            }
            Ok(Ok(answer)) => answer,
        };
        if answer.status.is_success() {
            return Ok(());
        }
        let status = answer.status.as_u16();
        let error =
            OtlpError::Status { status, body: String::from_utf8_lossy(&body[..body.len().min(512)]).trim().to_owned() };
        if matches!(status, 429 | 502 | 503 | 504) {
            return Err(Attempt::Retry(error, retry_after(&answer.headers)));
        }
        Err(Attempt::Final(error))
    }
}

/// How one attempt failed: for good, or worth another try (after the server's `Retry-After`).
enum Attempt {
    Final(OtlpError),
    Retry(OtlpError, Option<Duration>),
}

fn unix_nanos() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)
}

fn seconds_to_nanos(seconds: f64) -> u64 {
    if seconds.is_finite() && seconds > 0.0 { (seconds * 1e9) as u64 } else { 0 }
}

fn key_value(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue { value: Some(any_value::Value::StringValue(value.to_owned())) }),
        ..KeyValue::default()
    }
}

fn attributes(labels: &LabelSet) -> Vec<KeyValue> {
    labels.iter().map(|l| key_value(&l.name, &l.value)).collect()
}

/// The export request for `families`, at `now` (nanoseconds since the epoch).
#[must_use]
pub fn to_request(families: &[MetricFamily], resource: &[(String, String)], now: u64) -> ExportMetricsServiceRequest {
    let metrics = families.iter().filter_map(|f| to_metric(f, now)).collect();
    let resource =
        Resource { attributes: resource.iter().map(|(k, v)| key_value(k, v)).collect(), ..Resource::default() };
    let scope = InstrumentationScope {
        name: SCOPE.to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        ..InstrumentationScope::default()
    };
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(resource),
            scope_metrics: vec![ScopeMetrics { scope: Some(scope), metrics, ..ScopeMetrics::default() }],
            ..ResourceMetrics::default()
        }],
    }
}

/// The samples of one series (one label set), by what follows the family name.
#[derive(Default)]
struct Series<'a> {
    labels: Option<&'a LabelSet>,
    samples: Vec<(&'a str, &'a Sample)>,
}

impl<'a> Series<'a> {
    fn value(&self, suffix: &str) -> Option<f64> {
        self.samples.iter().find(|(s, sample)| *s == suffix && sample.extra_label.is_none()).map(|(_, s)| s.value)
    }

    fn start(&self) -> u64 {
        self.value("_created").map_or(0, seconds_to_nanos)
    }

    fn with_extra(&self, suffix: &'a str) -> impl Iterator<Item = (&'a str, f64)> + '_ {
        self.samples
            .iter()
            .filter(move |(s, _)| *s == suffix)
            .filter_map(|(_, sample)| sample.extra_label.as_ref().map(|l| (&*l.value, sample.value)))
    }
}

/// A family's samples grouped by label set, in first-seen order.
fn series(family: &MetricFamily) -> Vec<Series<'_>> {
    let mut index: HashMap<&LabelSet, usize> = HashMap::new();
    let mut out: Vec<Series<'_>> = Vec::new();
    for sample in &family.samples {
        let Some(suffix) = sample.name.suffix_after(&family.name) else { continue };
        let at = *index.entry(&sample.labels).or_insert_with(|| {
            out.push(Series { labels: Some(&sample.labels), samples: Vec::new() });
            out.len() - 1
        });
        out[at].samples.push((suffix, sample));
    }
    out
}

fn number_point(series: &Series<'_>, value: f64, now: u64) -> NumberDataPoint {
    NumberDataPoint {
        attributes: series.labels.map(attributes).unwrap_or_default(),
        start_time_unix_nano: series.start(),
        time_unix_nano: now,
        value: Some(number_data_point::Value::AsDouble(value)),
        ..NumberDataPoint::default()
    }
}

/// The metric of a family; none for a family without samples (a labelled one with no series
/// yet), which OTLP would reject as empty.
fn to_metric(family: &MetricFamily, now: u64) -> Option<Metric> {
    if family.samples.is_empty() {
        return None;
    }
    let all = series(family);
    let data = match family.metric_type {
        MetricType::Counter => metric::Data::Sum(Sum {
            data_points: all.iter().filter_map(|s| Some(number_point(s, s.value("_total")?, now))).collect(),
            aggregation_temporality: AggregationTemporality::Cumulative as i32,
            is_monotonic: true,
        }),
        // Native histograms are OTLP's exponential histograms, their schema its scale.
        MetricType::Histogram if family.samples.iter().any(|s| s.native.is_some()) => {
            metric::Data::ExponentialHistogram(ExponentialHistogram {
                data_points: all.iter().filter_map(|s| exponential_point(s, now)).collect(),
                aggregation_temporality: AggregationTemporality::Cumulative as i32,
            })
        }
        MetricType::Histogram => metric::Data::Histogram(Histogram {
            data_points: all.iter().filter_map(|s| histogram_point(s, now)).collect(),
            aggregation_temporality: AggregationTemporality::Cumulative as i32,
        }),
        MetricType::Summary => metric::Data::Summary(Summary {
            data_points: all
                .iter()
                .map(|s| SummaryDataPoint {
                    attributes: s.labels.map(attributes).unwrap_or_default(),
                    start_time_unix_nano: s.start(),
                    time_unix_nano: now,
                    count: s.value("_count").unwrap_or(0.0) as u64,
                    sum: s.value("_sum").unwrap_or(0.0),
                    quantile_values: s
                        .with_extra("")
                        .filter_map(|(q, value)| {
                            Some(summary_data_point::ValueAtQuantile { quantile: q.parse().ok()?, value })
                        })
                        .collect(),
                    ..SummaryDataPoint::default()
                })
                .collect(),
        }),
        // Gauges, and what OTLP has no type for (info, state set, gauge histogram, unknown):
        // every sample a gauge point with all its labels.
        _ => metric::Data::Gauge(Gauge {
            data_points: family
                .samples
                .iter()
                .map(|sample| NumberDataPoint {
                    attributes: attributes(&sample.all_labels()),
                    time_unix_nano: now,
                    value: Some(number_data_point::Value::AsDouble(sample.value)),
                    ..NumberDataPoint::default()
                })
                .collect(),
        }),
    };
    Some(Metric {
        name: family.name.to_string(),
        description: family.help.to_string(),
        unit: family.unit.to_string(),
        data: Some(data),
        ..Metric::default()
    })
}

/// A histogram series: Prometheus's cumulative buckets turned into per-bucket counts, the
/// bounds without `+Inf`.
fn histogram_point(series: &Series<'_>, now: u64) -> Option<HistogramDataPoint> {
    let mut buckets: Vec<(f64, f64)> =
        series.with_extra("_bucket").filter_map(|(le, count)| Some((parse_bound(le)?, count))).collect();
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    let count = series.value("_count").or_else(|| buckets.last().map(|b| b.1))?;
    let mut bucket_counts = Vec::with_capacity(buckets.len());
    let mut below = 0.0;
    for (_, cumulative) in &buckets {
        bucket_counts.push((cumulative - below).max(0.0) as u64);
        below = *cumulative;
    }
    let explicit_bounds = buckets.iter().map(|b| b.0).filter(|b| b.is_finite()).collect();
    Some(HistogramDataPoint {
        attributes: series.labels.map(attributes).unwrap_or_default(),
        start_time_unix_nano: series.start(),
        time_unix_nano: now,
        count: count as u64,
        sum: series.value("_sum"),
        bucket_counts,
        explicit_bounds,
        ..HistogramDataPoint::default()
    })
}

/// A native histogram series as an exponential histogram point. OTLP's bucket `i` at scale `s`
/// holds `(2^(i/2^s), 2^((i+1)/2^s)]`: Prometheus's bucket `i + 1`.
fn exponential_point(series: &Series<'_>, now: u64) -> Option<ExponentialHistogramDataPoint> {
    let native: &NativeHistogramValue = series.samples.iter().find_map(|(_, s)| s.native.as_deref())?;
    let buckets = |counts: Option<BucketCounts>| {
        let counts = counts?;
        let (&first, _) = counts.first_key_value()?;
        let (&last, _) = counts.last_key_value()?;
        let bucket_counts = (first..=last).map(|i| counts.get(&i).copied().unwrap_or(0)).collect();
        Some(exponential_histogram_data_point::Buckets { offset: first - 1, bucket_counts })
    };
    let count = native.count.as_f64();
    Some(ExponentialHistogramDataPoint {
        attributes: series.labels.map(attributes).unwrap_or_default(),
        start_time_unix_nano: series.start(),
        time_unix_nano: now,
        count: count as u64,
        sum: Some(native.sum.as_f64()).filter(|s| s.is_finite()),
        scale: native.schema,
        zero_count: native.zero_count.as_f64() as u64,
        zero_threshold: native.zero_threshold.as_f64(),
        positive: buckets(native.positive_counts()),
        negative: buckets(native.negative_counts()),
        ..ExponentialHistogramDataPoint::default()
    })
}

fn parse_bound(le: &str) -> Option<f64> {
    match le {
        "+Inf" | "Inf" => Some(f64::INFINITY),
        other => other.parse().ok(),
    }
}

/// An [`OtlpExporter`] running on an interval on a thread of its own, over one registry.
#[derive(Debug)]
pub struct PeriodicExporter {
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
    /// The process the thread runs in; a forked child's copy has no thread to stop.
    pid: u32,
}

#[derive(Debug)]
struct Shared {
    /// Set to stop the thread; a pending `export_now` request is a count.
    control: Mutex<Control>,
    wake: Condvar,
    exports: AtomicU64,
    failures: AtomicU64,
    last_error: Mutex<Option<String>>,
}

#[derive(Debug, Default)]
struct Control {
    stop: bool,
    requested: u64,
    done: u64,
}

/// The longest the last export, at shutdown, waits for the collector.
pub const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(1);

impl PeriodicExporter {
    /// Exports `registry` every `interval`, starting one interval from now.
    ///
    /// # Errors
    /// The thread or its runtime could not be started.
    pub fn start(exporter: OtlpExporter, registry: Registry, interval: Duration) -> std::io::Result<Self> {
        let shared = Arc::new(Shared {
            control: Mutex::default(),
            wake: Condvar::new(),
            exports: AtomicU64::new(0),
            failures: AtomicU64::new(0),
            last_error: Mutex::new(None),
        });
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        // The last export, at shutdown, tries once and waits at most `SHUTDOWN_TIMEOUT`: a
        // process that is exiting does not wait out a collector that is down or silent.
        let last = OtlpExporter {
            options: OtlpOptions {
                max_retries: 0,
                timeout: exporter.options.timeout.min(SHUTDOWN_TIMEOUT),
                ..exporter.options.clone()
            },
            ..exporter.clone()
        };
        let state = Arc::clone(&shared);
        let thread = std::thread::Builder::new().name("pyrometer-otlp".into()).spawn(move || {
            let mut control = state.control.lock().unwrap_or_else(PoisonError::into_inner);
            loop {
                if !control.stop && control.requested == control.done {
                    control = state.wake.wait_timeout(control, interval).unwrap_or_else(PoisonError::into_inner).0;
                }
                let stop = control.stop;
                let requested = control.requested;
                drop(control);
                // One last export when stopped, so that nothing recorded is lost.
                let exporting = if stop { &last } else { &exporter };
                match runtime.block_on(exporting.export(&registry)) {
                    Ok(()) => state.exports.fetch_add(1, Ordering::Relaxed),
                    Err(e) => {
                        *state.last_error.lock().unwrap_or_else(PoisonError::into_inner) = Some(e.to_string());
                        state.failures.fetch_add(1, Ordering::Relaxed)
                    }
                };
                control = state.control.lock().unwrap_or_else(PoisonError::into_inner);
                control.done = requested;
                state.wake.notify_all();
                if stop {
                    return;
                }
            }
        })?;
        Ok(Self { shared, thread: Mutex::new(Some(thread)), pid: std::process::id() })
    }

    /// Exports now and waits for that export to finish. In a forked child, whose copy has no
    /// thread to do it, returns at once.
    pub fn export_now(&self) {
        if std::process::id() != self.pid {
            return;
        }
        let mut control = self.shared.control.lock().unwrap_or_else(PoisonError::into_inner);
        if control.stop {
            return;
        }
        control.requested += 1;
        let target = control.requested;
        self.shared.wake.notify_all();
        while control.done < target && !control.stop {
            control = self.shared.wake.wait(control).unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Exports a last time and stops the thread. Later calls do nothing, and so does a call in a
    /// forked child, whose copy has no thread (the parent's stays the parent's to stop).
    pub fn shutdown(&self) {
        if std::process::id() != self.pid {
            // Forgotten, not dropped: dropping detaches the thread id, which a thread this
            // process starts may have reused.
            std::mem::forget(self.thread.lock().unwrap_or_else(PoisonError::into_inner).take());
            return;
        }
        self.shared.control.lock().unwrap_or_else(PoisonError::into_inner).stop = true;
        self.shared.wake.notify_all();
        if let Some(thread) = self.thread.lock().unwrap_or_else(PoisonError::into_inner).take() {
            let _ = thread.join();
        }
    }

    /// Exports that succeeded.
    #[must_use]
    pub fn exports(&self) -> u64 {
        self.shared.exports.load(Ordering::Relaxed)
    }

    /// Exports that failed after their retries.
    #[must_use]
    pub fn failures(&self) -> u64 {
        self.shared.failures.load(Ordering::Relaxed)
    }

    /// The error of the last failed export.
    #[must_use]
    pub fn last_error(&self) -> Option<String> {
        self.shared.last_error.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

impl Drop for PeriodicExporter {
    fn drop(&mut self) {
        self.shutdown();
    }
}
