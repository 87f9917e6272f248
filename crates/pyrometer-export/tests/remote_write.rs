//! Remote write against a receiver stand-in on loopback: what is sent decodes (with the
//! messages generated from the protocol's `.proto` files) to the registry's values, and the
//! faults a receiver can show (down, 429 with `Retry-After`, 5xx, 400) are handled as the
//! protocol asks.
#![allow(missing_docs)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper::{HeaderMap, Response};
use hyper_util::rt::TokioIo;
use prost::Message;
use pyrometer_core::{
    Buckets, Counter, Family, Gauge, Histogram, Metadata, NativeHistogram, NativeHistogramOptions, Quantiles, Registry,
    Summary,
};
use pyrometer_export::remote_write::messages::{v1, v2};
use pyrometer_export::remote_write::{Auth, Protocol, RemoteWriteOptions, RemoteWriter, STALE_NAN};

/// One request as the receiver got it: headers, the decompressed body, when.
#[derive(Clone, Debug)]
struct Received {
    uri: String,
    headers: HeaderMap,
    body: Vec<u8>,
    at: Instant,
}

type Answers = Arc<Mutex<VecDeque<(u16, Option<&'static str>)>>>;

/// A remote-write receiver on loopback, on its own thread: answers each request with the next
/// scripted status (204 when the script is empty) and keeps what it got.
struct Receiver {
    addr: std::net::SocketAddr,
    seen: Arc<Mutex<Vec<Received>>>,
    answers: Answers,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Receiver {
    fn start() -> Self {
        Self::on("127.0.0.1:0".parse().unwrap())
    }

    fn on(addr: std::net::SocketAddr) -> Self {
        let listener = std::net::TcpListener::bind(addr).unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let answers: Answers = Arc::default();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (s, a) = (Arc::clone(&seen), Arc::clone(&answers));
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                let accept = async {
                    loop {
                        let (stream, _) = listener.accept().await.unwrap();
                        let (s, a) = (Arc::clone(&s), Arc::clone(&a));
                        tokio::spawn(async move {
                            let service = service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                                let (s, a) = (Arc::clone(&s), Arc::clone(&a));
                                async move {
                                    let headers = request.headers().clone();
                                    let uri = request.uri().to_string();
                                    let body = request.into_body().collect().await?.to_bytes();
                                    let body = snap::raw::Decoder::new().decompress_vec(&body).unwrap();
                                    s.lock().unwrap().push(Received { uri, headers, body, at: Instant::now() });
                                    let (status, retry_after) = a.lock().unwrap().pop_front().unwrap_or((204, None));
                                    let mut answer = Response::builder().status(status);
                                    if let Some(r) = retry_after {
                                        answer = answer.header("retry-after", r);
                                    }
                                    Ok::<_, hyper::Error>(answer.body(Full::new(Bytes::from("answer"))).unwrap())
                                }
                            });
                            let _ = hyper::server::conn::http1::Builder::new()
                                .serve_connection(TokioIo::new(stream), service)
                                .await;
                        });
                    }
                };
                tokio::select! {
                    () = accept => {}
                    _ = stopped => {}
                }
            });
        });
        Self { addr, seen, answers, stop: Some(stop), thread: Some(thread) }
    }

    fn url(&self) -> String {
        format!("http://{}/api/v1/write", self.addr)
    }

    fn answer(&self, status: u16, retry_after: Option<&'static str>) {
        self.answers.lock().unwrap().push_back((status, retry_after));
    }

    fn requests(&self) -> Vec<Received> {
        self.seen.lock().unwrap().clone()
    }

    fn v1_series(&self) -> Vec<v1::TimeSeries> {
        self.requests().iter().flat_map(|r| v1::WriteRequest::decode(&*r.body).unwrap().timeseries).collect()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.stop.take().unwrap().send(());
        let _ = self.thread.take().unwrap().join();
    }
}

fn registry() -> (Registry, Family<Counter>) {
    let registry = Registry::new();
    let requests = Family::<Counter>::new(Metadata::new("requests", "Requests.").label_names(["code"])).unwrap();
    requests.labels(&["200"]).unwrap().inc_by(3.0);
    requests.labels(&["500"]).unwrap().inc();
    let queue = Family::<Gauge>::new(Metadata::new("queue", "Queue.").unit("items")).unwrap();
    queue.without_labels().unwrap().set(-2.5);
    let latency =
        Family::<Histogram>::with_options(Metadata::new("latency", "Latency."), Buckets::new([0.1, 1.0]).unwrap())
            .unwrap();
    for v in [0.05, 0.5, 0.7, 5.0] {
        latency.without_labels().unwrap().observe(v);
    }
    let sizes = Family::<Summary>::with_options(Metadata::new("sizes", "Sizes."), Some(Quantiles::new([0.5]))).unwrap();
    for v in 1..=99 {
        sizes.without_labels().unwrap().observe(f64::from(v));
    }
    let native =
        Family::<NativeHistogram>::with_options(Metadata::new("native", "Native."), NativeHistogramOptions::default())
            .unwrap();
    for v in [0.5, 1.0, 3.0] {
        native.without_labels().unwrap().observe(v);
    }
    registry.register(requests.clone()).unwrap();
    registry.register(queue).unwrap();
    registry.register(latency).unwrap();
    registry.register(sizes).unwrap();
    registry.register(native).unwrap();
    (registry, requests)
}

/// One shard, so that one flush is one request; short waits.
fn options() -> RemoteWriteOptions {
    RemoteWriteOptions {
        shards: 1,
        min_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(100),
        shutdown_timeout: Duration::from_secs(2),
        ..RemoteWriteOptions::default()
    }
}

fn label<'a>(series: &'a v1::TimeSeries, name: &str) -> Option<&'a str> {
    series.labels.iter().find(|l| l.name == name).map(|l| l.value.as_str())
}

fn find<'a>(all: &'a [v1::TimeSeries], name: &str, extra: &[(&str, &str)]) -> &'a v1::TimeSeries {
    all.iter()
        .find(|s| label(s, "__name__") == Some(name) && extra.iter().all(|(n, v)| label(s, n) == Some(*v)))
        .unwrap_or_else(|| panic!("no series {name} {extra:?}"))
}

#[test]
fn a_flush_writes_every_series_as_a_scrape_would_store_it() {
    let receiver = Receiver::start();
    let (registry, _) = registry();
    let options = RemoteWriteOptions {
        external_labels: vec![("cluster".into(), "eu-1".into())],
        auth: Some(Auth::Basic { username: "u".into(), password: "p".into() }),
        headers: vec![("X-Scope-OrgID".into(), "tenant-1".into())],
        ..options()
    };
    let writer = RemoteWriter::new(&receiver.url(), registry, options).unwrap();
    assert!(writer.flush(Duration::from_secs(5)));

    let request = &receiver.requests()[0];
    let header = |name: &str| request.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert_eq!(header("content-encoding"), "snappy");
    assert_eq!(header("content-type"), "application/x-protobuf");
    assert_eq!(header("x-prometheus-remote-write-version"), "0.1.0");
    assert_eq!(header("authorization"), "Basic dTpw");
    assert_eq!(header("x-scope-orgid"), "tenant-1");

    let all = receiver.v1_series();
    for series in &all {
        let names: Vec<&str> = series.labels.iter().map(|l| l.name.as_str()).collect();
        assert!(names.windows(2).all(|w| w[0] < w[1]), "labels out of order: {names:?}");
        assert_eq!(label(series, "cluster"), Some("eu-1"));
        assert!(!label(series, "__name__").unwrap().ends_with("_created"), "{series:?}");
    }
    assert_eq!(find(&all, "requests_total", &[("code", "200")]).samples[0].value, 3.0);
    assert_eq!(find(&all, "requests_total", &[("code", "500")]).samples[0].value, 1.0);
    assert_eq!(find(&all, "queue_items", &[]).samples[0].value, -2.5);
    assert_eq!(find(&all, "latency_bucket", &[("le", "1.0")]).samples[0].value, 3.0);
    assert_eq!(find(&all, "latency_bucket", &[("le", "+Inf")]).samples[0].value, 4.0);
    assert_eq!(find(&all, "latency_sum", &[]).samples[0].value, 6.25);
    assert!((find(&all, "sizes", &[("quantile", "0.5")]).samples[0].value - 50.0).abs() < 1.0);
    assert_eq!(find(&all, "sizes_count", &[]).samples[0].value, 99.0);
    // The native histogram travels whole, without a lone `+Inf` bucket, count or sum beside.
    let native = find(&all, "native", &[]);
    assert!(native.samples.is_empty());
    let histogram = &native.histograms[0];
    assert_eq!(histogram.count, Some(v1::histogram::Count::CountInt(3)));
    assert_eq!(histogram.sum, 4.5);
    assert_eq!(histogram.schema, 3);
    // Three observations in three buckets: absolute counts 1, 1, 1.
    let mut count = 0;
    let counts: Vec<i64> = histogram
        .positive_deltas
        .iter()
        .map(|d| {
            count += d;
            count
        })
        .collect();
    assert_eq!(counts, [1, 1, 1]);
    assert_eq!(histogram.positive_spans.iter().map(|s| s.length).sum::<u32>(), 3);
    assert!(!all.iter().any(|s| label(s, "__name__").is_some_and(|n| n.starts_with("native_"))));
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    assert!((now - find(&all, "queue_items", &[]).samples[0].timestamp).abs() < 10_000);
    let stats = writer.stats();
    assert_eq!((stats.samples_sent, stats.samples_failed, stats.samples_pending), (all.len() as u64, 0, 0));
    assert!(stats.last_success_timestamp.is_some());
}

#[test]
fn version_2_interns_strings_and_sends_metadata_and_start_times() {
    let receiver = Receiver::start();
    let (registry, _) = registry();
    let options = RemoteWriteOptions { protocol: Protocol::V2, auth: Some(Auth::Bearer("secret".into())), ..options() };
    let writer = RemoteWriter::new(&receiver.url(), registry, options).unwrap();
    assert!(writer.flush(Duration::from_secs(5)));
    let request = &receiver.requests()[0];
    assert_eq!(
        request.headers["content-type"].to_str().unwrap(),
        "application/x-protobuf;proto=io.prometheus.write.v2.Request"
    );
    assert_eq!(request.headers["x-prometheus-remote-write-version"].to_str().unwrap(), "2.0.0");
    assert_eq!(request.headers["authorization"].to_str().unwrap(), "Bearer secret");
    let decoded = v2::Request::decode(&*request.body).unwrap();
    assert_eq!(decoded.symbols[0], "");
    let mut unique = decoded.symbols.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), decoded.symbols.len(), "a symbol is in the table twice");
    let symbol = |i: u32| decoded.symbols[i as usize].as_str();
    let labels = |s: &v2::TimeSeries| -> Vec<(String, String)> {
        s.labels_refs.chunks(2).map(|p| (symbol(p[0]).to_owned(), symbol(p[1]).to_owned())).collect()
    };
    let named = |name: &str| {
        decoded
            .timeseries
            .iter()
            .find(|s| labels(s).iter().any(|(n, v)| n == "__name__" && v == name))
            .unwrap_or_else(|| panic!("no {name}"))
    };
    let total = named("requests_total");
    let metadata = total.metadata.unwrap();
    assert_eq!(metadata.r#type, v2::metadata::MetricType::Counter as i32);
    assert_eq!(symbol(metadata.help_ref), "Requests.");
    let sample = total.samples[0];
    assert!(sample.start_timestamp > 0 && sample.start_timestamp <= sample.timestamp, "{sample:?}");
    let queue = named("queue_items").metadata.unwrap();
    assert_eq!((symbol(queue.unit_ref), queue.r#type), ("items", v2::metadata::MetricType::Gauge as i32));
    let native = named("native");
    assert_eq!(native.histograms[0].count, Some(v2::histogram::Count::CountInt(3)));
    assert!(native.histograms[0].start_timestamp > 0);
    assert_eq!(native.metadata.unwrap().r#type, v2::metadata::MetricType::Histogram as i32);
    assert_eq!(writer.stats().samples_sent, decoded.timeseries.len() as u64);
}

#[test]
fn a_removed_series_and_every_series_at_close_are_marked_stale() {
    let receiver = Receiver::start();
    let (registry, requests) = registry();
    let writer = RemoteWriter::new(&receiver.url(), registry, options()).unwrap();
    assert!(writer.flush(Duration::from_secs(5)));
    let first = receiver.v1_series().len();
    requests.remove(&["500"]).unwrap();
    assert!(writer.flush(Duration::from_secs(5)));
    let all = receiver.v1_series();
    let second = &all[first..];
    let gone = find(second, "requests_total", &[("code", "500")]);
    assert_eq!(gone.samples[0].value.to_bits(), STALE_NAN.to_bits());
    assert!(!find(second, "requests_total", &[("code", "200")]).samples[0].value.is_nan());
    let count = receiver.v1_series().len();
    writer.close();
    let last = &receiver.v1_series()[count..];
    // The last collection, then a marker for each of its series a millisecond later.
    let stale: Vec<_> =
        last.iter().filter(|s| s.samples.first().is_some_and(|p| p.value.to_bits() == STALE_NAN.to_bits())).collect();
    assert_eq!(stale.len() * 2, last.len(), "{last:?}");
    let live = find(last, "requests_total", &[("code", "200")]);
    let marker = stale.iter().find(|s| label(s, "code") == Some("200")).unwrap();
    assert_eq!(marker.samples[0].timestamp, live.samples[0].timestamp + 1);
}

#[test]
fn answers_429_and_5xx_are_retried_honouring_retry_after() {
    let receiver = Receiver::start();
    receiver.answer(429, Some("1"));
    receiver.answer(503, None);
    let (registry, _) = registry();
    let writer = RemoteWriter::new(&receiver.url(), registry, options()).unwrap();
    assert!(writer.flush(Duration::from_secs(10)));
    let requests = receiver.requests();
    assert_eq!(requests.len(), 3);
    assert_eq!(requests[0].body, requests[2].body, "a retry sends the same batch");
    let waited = requests[1].at - requests[0].at;
    assert!(waited >= Duration::from_millis(990), "Retry-After: 1 not honoured: {waited:?}");
    let stats = writer.stats();
    let n = v1::WriteRequest::decode(&*requests[0].body).unwrap().timeseries.len() as u64;
    assert_eq!((stats.samples_sent, stats.samples_retried, stats.samples_failed), (n, 2 * n, 0));
    assert!(stats.last_error.unwrap().contains("503"));
}

#[test]
fn a_400_is_not_retried_and_counts_as_failed() {
    let receiver = Receiver::start();
    receiver.answer(400, None);
    let (registry, _) = registry();
    let writer = RemoteWriter::new(&receiver.url(), registry, options()).unwrap();
    assert!(writer.flush(Duration::from_secs(5)));
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(receiver.requests().len(), 1);
    let stats = writer.stats();
    assert_eq!((stats.samples_sent, stats.samples_retried), (0, 0));
    assert!(stats.samples_failed > 0);
    assert!(stats.last_error.unwrap().contains("answered 400: answer"));
}

#[test]
fn a_receiver_down_for_a_while_gets_the_queued_points_in_order_once_back() {
    // A free port, with nobody listening yet.
    let addr = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let (registry, requests) = registry();
    let writer = RemoteWriter::new(&format!("http://{addr}/api/v1/write"), registry, options()).unwrap();
    for _ in 0..3 {
        requests.labels(&["200"]).unwrap().inc();
        assert!(!writer.flush(Duration::from_millis(100)));
    }
    let stats = writer.stats();
    assert!(stats.samples_pending > 0 && stats.samples_retried > 0, "{stats:?}");
    assert!(stats.last_error.is_some());
    let receiver = Receiver::on(addr);
    assert!(writer.flush(Duration::from_secs(5)));
    let all = receiver.v1_series();
    let totals: Vec<(i64, f64)> = all
        .iter()
        .filter(|s| label(s, "__name__") == Some("requests_total") && label(s, "code") == Some("200"))
        .map(|s| (s.samples[0].timestamp, s.samples[0].value))
        .collect();
    assert_eq!(totals.iter().map(|t| t.1).collect::<Vec<_>>(), [4.0, 5.0, 6.0, 6.0]);
    assert!(totals.windows(2).all(|w| w[0].0 <= w[1].0), "out of order: {totals:?}");
    assert_eq!(writer.stats().samples_dropped, 0);
}

#[test]
fn a_full_queue_drops_its_oldest_points_and_counts_them() {
    let addr = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let (registry, requests) = registry();
    let options = RemoteWriteOptions { max_pending_samples: 40, shards: 1, ..options() };
    let writer = RemoteWriter::new(&format!("http://{addr}/api/v1/write"), registry, options).unwrap();
    for _ in 0..5 {
        requests.labels(&["200"]).unwrap().inc();
        writer.flush(Duration::from_millis(50));
    }
    let stats = writer.stats();
    // At most the bound queued, and the first collection's batch in flight.
    let per_collection = 12;
    assert!(stats.samples_pending <= 40 + per_collection, "{stats:?}");
    assert!(stats.samples_dropped > 0, "{stats:?}");
    let receiver = Receiver::on(addr);
    assert!(writer.flush(Duration::from_secs(5)));
    let stats = writer.stats();
    // Every point is accounted for: sent or dropped (the first batch was in flight, not queued).
    assert_eq!(stats.samples_sent + stats.samples_dropped, 6 * per_collection, "{stats:?}");
    // The newest survive: the last value of the counter arrived.
    let all = receiver.v1_series();
    assert!(all.iter().any(|s| label(s, "code") == Some("200") && s.samples[0].value == 8.0));
    assert!(
        !all.iter().any(|s| label(s, "code") == Some("200") && s.samples[0].value == 5.0),
        "the oldest queued go first"
    );
}

#[test]
fn closing_with_a_dead_receiver_takes_the_shutdown_timeout_at_most() {
    let addr = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let (registry, _) = registry();
    let options = RemoteWriteOptions { shutdown_timeout: Duration::from_millis(300), ..options() };
    let writer = RemoteWriter::new(&format!("http://{addr}/api/v1/write"), registry, options).unwrap();
    writer.flush(Duration::from_millis(50));
    let started = Instant::now();
    writer.close();
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    let stats = writer.stats();
    assert_eq!(stats.samples_pending, 0);
    assert_eq!(stats.samples_sent, 0);
    assert!(stats.samples_failed > 0);
    assert!(!writer.flush(Duration::from_millis(10)), "a closed writer flushes nothing");
}

#[test]
fn bad_settings_are_refused_with_a_reason() {
    let registry = Registry::new;
    let bad = |options: RemoteWriteOptions| {
        RemoteWriter::new("http://127.0.0.1:1/w", registry(), options).unwrap_err().to_string()
    };
    assert!(bad(RemoteWriteOptions { shards: 0, ..options() }).contains("shards"));
    assert!(bad(RemoteWriteOptions { interval: Duration::ZERO, ..options() }).contains("interval"));
    let label = RemoteWriteOptions { external_labels: vec![("0x".into(), "v".into())], ..options() };
    assert!(bad(label).contains("external label"));
    let header = RemoteWriteOptions { headers: vec![("bad header".into(), "v".into())], ..options() };
    assert!(bad(header).contains("header"));
    let url = RemoteWriter::new("ftp://x", registry(), options()).unwrap_err().to_string();
    assert!(url.contains("invalid remote write URL"), "{url}");
}

#[test]
fn shards_send_concurrently_and_keep_each_series_in_one_shard() {
    let receiver = Receiver::start();
    let (registry, requests) = registry();
    let options = RemoteWriteOptions { shards: 4, ..options() };
    let writer = RemoteWriter::new(&receiver.url(), registry, options).unwrap();
    assert!(writer.flush(Duration::from_secs(5)));
    let first = receiver.requests().len();
    assert!(first > 1, "one request for 12 series over 4 shards");
    requests.labels(&["200"]).unwrap().inc();
    assert!(writer.flush(Duration::from_secs(5)));
    // Each request of the second round holds the same series as one of the first round.
    let series_of = |r: &Received| {
        let mut names: Vec<String> =
            v1::WriteRequest::decode(&*r.body).unwrap().timeseries.iter().map(|s| format!("{:?}", s.labels)).collect();
        names.sort();
        names
    };
    let all = receiver.requests();
    let (a, b) = all.split_at(first);
    let mut a: Vec<_> = a.iter().map(series_of).collect();
    let mut b: Vec<_> = b.iter().map(series_of).collect();
    a.sort();
    b.sort();
    assert_eq!(a, b);
    assert_eq!(writer.stats().samples_sent, 24);
}

#[test]
fn collections_racing_each_other_keep_every_series_in_time_order() {
    let receiver = Receiver::start();
    let (registry, _) = registry();
    let options = RemoteWriteOptions { interval: Duration::from_millis(2), ..options() };
    let writer = Arc::new(RemoteWriter::new(&receiver.url(), registry, options).unwrap());
    writer.start();
    let flushers: Vec<_> = (0..2)
        .map(|_| {
            let writer = Arc::clone(&writer);
            std::thread::spawn(move || {
                // (The interval's collections keep the queue busy: a flush may time out.)
                for _ in 0..20 {
                    writer.flush(Duration::from_millis(50));
                }
            })
        })
        .collect();
    for flusher in flushers {
        flusher.join().unwrap();
    }
    writer.close();
    let mut last: std::collections::HashMap<String, i64> = std::collections::HashMap::new();
    for series in receiver.v1_series() {
        let key = format!("{:?}", series.labels);
        let at = series.samples.first().map_or_else(|| series.histograms[0].timestamp, |s| s.timestamp);
        if let Some(before) = last.insert(key.clone(), at) {
            assert!(at > before, "{key}: {at} after {before}");
        }
    }
    assert_eq!(writer.stats().samples_failed, 0);
}

#[derive(Debug)]
struct Failing(Arc<std::sync::atomic::AtomicBool>);

impl pyrometer_core::Collector for Failing {
    fn collect(
        &self,
        _: &pyrometer_core::CollectOptions,
        _: &mut Vec<pyrometer_core::MetricFamily>,
    ) -> Result<(), pyrometer_core::Error> {
        if self.0.load(std::sync::atomic::Ordering::Relaxed) {
            return Err(pyrometer_core::Error::collect(std::io::Error::other("the collector broke")));
        }
        Ok(())
    }
}

#[test]
fn a_collection_failing_at_close_still_marks_every_series_stale() {
    let receiver = Receiver::start();
    let (registry, _) = registry();
    let broken = Arc::new(std::sync::atomic::AtomicBool::new(false));
    registry.register(Failing(Arc::clone(&broken))).unwrap();
    let writer = RemoteWriter::new(&receiver.url(), registry, options()).unwrap();
    assert!(writer.flush(Duration::from_secs(5)));
    let live = receiver.v1_series().len();
    broken.store(true, std::sync::atomic::Ordering::Relaxed);
    writer.close();
    let after = &receiver.v1_series()[live..];
    assert_eq!(after.len(), live, "a marker for each series");
    assert!(after.iter().all(|s| s.samples[0].value.to_bits() == STALE_NAN.to_bits()));
    assert!(writer.stats().last_error.unwrap().contains("the collector broke"));
}

#[test]
fn a_collector_reporting_series_out_of_order_or_twice_is_sent_once_per_series() {
    use pyrometer_core::{LabelSet, MetricFamily, MetricType, Sample, SampleName};
    use pyrometer_export::remote_write::SeriesPoints;

    let mut family = MetricFamily::new("jobs", "Jobs.", MetricType::Counter, "").unwrap();
    let sample = |name: &str, code: &str, value: f64| Sample {
        name: SampleName::Full(Arc::from(name)),
        ..Sample::new("", LabelSet::new([("code", code)]), value)
    };
    family.samples = vec![
        sample("jobs_total", "a", 1.0),
        sample("jobs_total", "b", 2.0),
        sample("jobs_created", "a", 100.0),
        sample("jobs_created", "b", 200.0),
        sample("jobs_total", "a", 9.0),
    ];
    let points = SeriesPoints::new(&[], true, false).points(&[family], 1_000_000);
    let got: Vec<(Option<&str>, i64)> = points.iter().map(|p| (p.label("code"), p.start_timestamp_ms)).collect();
    assert_eq!(got, [(Some("a"), 100_000), (Some("b"), 200_000)]);
}

#[test]
fn credentials_and_a_query_in_the_url_are_used() {
    let receiver = Receiver::start();
    let (registry, _) = registry();
    let url = format!("http://user:secret@{}/api/v1/write?extra_label=env%3Dtest", receiver.addr);
    let writer = RemoteWriter::new(&url, registry, options()).unwrap();
    assert!(writer.flush(Duration::from_secs(5)));
    let request = &receiver.requests()[0];
    assert_eq!(request.uri, "/api/v1/write?extra_label=env%3Dtest");
    assert_eq!(request.headers["authorization"].to_str().unwrap(), "Basic dXNlcjpzZWNyZXQ=");
    assert!(!writer.url().contains("secret"), "{}", writer.url());
}

#[test]
fn writers_share_self_metrics_one_family_each() {
    use pyrometer_core::Collector;

    let (registry, _) = registry();
    // Nobody listens: they close without waiting.
    let options = || RemoteWriteOptions { shutdown_timeout: Duration::ZERO, ..options() };
    let a = RemoteWriter::new("http://127.0.0.1:1/a", registry.clone(), options()).unwrap();
    let b = RemoteWriter::new("http://127.0.0.1:1/b", registry.clone(), options()).unwrap();
    let metrics = a.self_metrics();
    metrics.add(&b).unwrap();
    let again = RemoteWriter::new("http://127.0.0.1:1/a", registry, options()).unwrap();
    assert!(metrics.add(&again).unwrap_err().to_string().contains("already reports"));
    let mut families = Vec::new();
    metrics.collect(&pyrometer_core::CollectOptions::default(), &mut families).unwrap();
    assert_eq!(families.len(), 6);
    assert!(families.iter().all(|f| f.samples.len() == 2), "{families:?}");
    assert!(metrics.remove(&a));
    assert!(!metrics.remove(&b), "none left");
}
