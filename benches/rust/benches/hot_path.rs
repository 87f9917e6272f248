//! The cost of one update, for pyrometer and its peers on the same workload.
#![allow(missing_docs)]

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use prometheus_client::encoding::EncodeLabelSet;

const METHODS: [&str; 4] = ["GET", "POST", "PUT", "DELETE"];
const CODES: [&str; 5] = ["200", "201", "400", "404", "500"];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PeerLabels {
    method: String,
    code: String,
}

fn counter_inc(c: &mut Criterion) {
    let mut g = c.benchmark_group("counter_inc");
    let bare = Arc::new(AtomicU64::new(0));
    g.bench_function("bare_atomic_fetch_add", |b| b.iter(|| black_box(&bare).fetch_add(1, Ordering::Relaxed)));
    let ours = pyrometer_core::Counter::default();
    g.bench_function("pyrometer", |b| b.iter(|| black_box(&ours).inc()));
    let peer = prometheus_client::metrics::counter::Counter::<u64>::default();
    g.bench_function("prometheus_client", |b| b.iter(|| black_box(&peer).inc()));
    let tikv = prometheus::Counter::new("c", "c").unwrap();
    g.bench_function("prometheus", |b| b.iter(|| black_box(&tikv).inc()));
    g.finish();
}

fn family_labels_then_inc(c: &mut Criterion) {
    let mut g = c.benchmark_group("family_labels_hit_then_inc");
    let ours = pyrometer_core::Family::<pyrometer_core::Counter>::new(
        pyrometer_core::Metadata::new("requests", "r").label_names(["method", "code"]),
    )
    .unwrap();
    let peer =
        prometheus_client::metrics::family::Family::<PeerLabels, prometheus_client::metrics::counter::Counter>::default(
        );
    let tikv = prometheus::CounterVec::new(prometheus::Opts::new("requests", "r"), &["method", "code"]).unwrap();
    // Twenty series exist; the benchmark hits one of them.
    for m in METHODS {
        for code in CODES {
            ours.labels(&[m, code]).unwrap().inc();
            peer.get_or_create(&PeerLabels { method: m.into(), code: code.into() }).inc();
            tikv.with_label_values(&[m, code]).inc();
        }
    }
    g.bench_function("pyrometer", |b| b.iter(|| ours.labels(black_box(&["GET", "200"])).unwrap().inc()));
    g.bench_function("pyrometer_with_labels", |b| {
        b.iter(|| ours.with_labels(black_box(&["GET", "200"]), pyrometer_core::Counter::inc).unwrap());
    });
    g.bench_function("prometheus_client", |b| {
        b.iter(|| {
            let (m, code) = black_box(("GET", "200"));
            peer.get_or_create(&PeerLabels { method: m.to_owned(), code: code.to_owned() }).inc();
        });
    });
    g.bench_function("prometheus", |b| b.iter(|| tikv.with_label_values(black_box(&["GET", "200"])).inc()));
    g.finish();

    let mut g = c.benchmark_group("cached_child_inc");
    let child = ours.labels(&["GET", "200"]).unwrap();
    g.bench_function("pyrometer", |b| b.iter(|| black_box(&child).inc()));
    let peer_child = peer.get_or_create(&PeerLabels { method: "GET".into(), code: "200".into() }).clone();
    g.bench_function("prometheus_client", |b| b.iter(|| black_box(&peer_child).inc()));
    let tikv_child = tikv.with_label_values(&["GET", "200"]);
    g.bench_function("prometheus", |b| b.iter(|| black_box(&tikv_child).inc()));
    g.finish();
}

fn histogram_observe(c: &mut Criterion) {
    let mut g = c.benchmark_group("histogram_observe");
    let bounds = pyrometer_core::DEFAULT_BUCKETS[..14].to_vec();
    let ours = pyrometer_core::Histogram::new(&pyrometer_core::Buckets::new(bounds.clone()).unwrap());
    let peer = prometheus_client::metrics::histogram::Histogram::new(bounds.clone());
    let tikv = prometheus::Histogram::with_opts(prometheus::HistogramOpts::new("h", "h").buckets(bounds)).unwrap();
    // A spread of values so that every bucket and the binary search are exercised.
    let values: Vec<f64> = (0..1024).map(|i| f64::from(i) / 64.0).collect();
    let mut i = 0;
    g.bench_function("pyrometer", |b| {
        b.iter(|| {
            i = (i + 1) & 1023;
            ours.observe(black_box(values[i]));
        });
    });
    g.bench_function("prometheus_client", |b| {
        b.iter(|| {
            i = (i + 1) & 1023;
            peer.observe(black_box(values[i]));
        });
    });
    g.bench_function("prometheus", |b| {
        b.iter(|| {
            i = (i + 1) & 1023;
            tikv.observe(black_box(values[i]));
        });
    });
    g.finish();
}

/// A native histogram's observe beside a classic one's, on the same values (zero included).
fn native_histogram_observe(c: &mut Criterion) {
    let mut g = c.benchmark_group("native_histogram_observe");
    let bounds = pyrometer_core::DEFAULT_BUCKETS[..14].to_vec();
    let classic = pyrometer_core::Histogram::new(&pyrometer_core::Buckets::new(bounds.clone()).unwrap());
    let native = pyrometer_core::NativeHistogram::new(&pyrometer_core::NativeHistogramOptions::default()).unwrap();
    let both = pyrometer_core::NativeHistogram::new(&pyrometer_core::NativeHistogramOptions {
        classic: Some(pyrometer_core::Buckets::new(bounds).unwrap()),
        ..pyrometer_core::NativeHistogramOptions::default()
    })
    .unwrap();
    // Latencies from 1 ms to about 10 s, spread over 107 native buckets.
    let values: Vec<f64> = (0..1024).map(|i| 0.001 * 1.009f64.powi(i)).collect();
    let mut i = 0;
    g.bench_function("classic", |b| {
        b.iter(|| {
            i = (i + 1) & 1023;
            classic.observe(black_box(values[i]));
        });
    });
    g.bench_function("native", |b| {
        b.iter(|| {
            i = (i + 1) & 1023;
            native.observe(black_box(values[i]));
        });
    });
    g.bench_function("native_and_classic", |b| {
        b.iter(|| {
            i = (i + 1) & 1023;
            both.observe(black_box(values[i]));
        });
    });
    g.bench_function("native_two_threads", |b| {
        b.iter_custom(|n| {
            two_threads(n, || {
                native.observe(black_box(0.25));
            })
        });
    });
    g.bench_function("classic_two_threads", |b| {
        b.iter_custom(|n| {
            two_threads(n, || {
                classic.observe(black_box(0.25));
            })
        });
    });
    g.finish();
}

/// Time per increment with two threads hammering one counter.
fn two_threads<F: Fn() + Sync>(iters: u64, inc: F) -> Duration {
    let per_thread = iters / 2 + 1;
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| (0..per_thread).for_each(|_| inc()));
        }
    });
    start.elapsed()
}

fn counter_inc_two_threads(c: &mut Criterion) {
    let mut g = c.benchmark_group("counter_inc_two_threads");
    let bare = AtomicU64::new(0);
    g.bench_function("bare_atomic_fetch_add", |b| {
        b.iter_custom(|n| {
            two_threads(n, || {
                black_box(bare.fetch_add(1, Ordering::Relaxed));
            })
        });
    });
    let ours = pyrometer_core::Counter::default();
    g.bench_function("pyrometer", |b| b.iter_custom(|n| two_threads(n, || black_box(&ours).inc())));
    let peer = prometheus_client::metrics::counter::Counter::<u64>::default();
    g.bench_function("prometheus_client", |b| {
        b.iter_custom(|n| {
            two_threads(n, || {
                black_box(black_box(&peer).inc());
            })
        });
    });
    let tikv = prometheus::Counter::new("c", "c").unwrap();
    g.bench_function("prometheus", |b| b.iter_custom(|n| two_threads(n, || black_box(&tikv).inc())));
    g.finish();
}

fn config() -> Criterion {
    Criterion::default().warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2))
}

criterion_group! {
    name = benches;
    config = config();
    targets = counter_inc, family_labels_then_inc, histogram_observe, native_histogram_observe, counter_inc_two_threads
}
criterion_main!(benches);
