//! Text encoding of a whole registry, for pyrometer and its peers on the same series.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use prometheus::Encoder;
use prometheus_client::encoding::EncodeLabelSet;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PeerLabels {
    method: String,
    path: String,
}

/// Label values of series `i`: a few methods times many paths.
fn labels(i: usize) -> (String, String) {
    (["GET", "POST", "PUT", "DELETE"][i % 4].to_owned(), format!("/api/v1/resource/{}", i / 4))
}

/// The value of series `i`: integers up to a thousand.
fn value(i: usize) -> f64 {
    (i % 1000) as f64 + 1.0
}

struct Setups {
    ours: pyrometer_core::Registry,
    peer: prometheus_client::registry::Registry,
    tikv: prometheus::Registry,
}

fn setups(series: usize) -> Setups {
    let ours = pyrometer_core::Registry::new();
    // The peers write no `_created` samples; neither do we here, so the output is the same.
    ours.set_created_enabled(false);
    let family = pyrometer_core::Family::<pyrometer_core::Counter>::new(
        pyrometer_core::Metadata::new("http_requests", "Requests.").label_names(["method", "path"]),
    )
    .unwrap();
    ours.register(family.clone()).unwrap();

    let mut peer = prometheus_client::registry::Registry::default();
    let peer_family = prometheus_client::metrics::family::Family::<
        PeerLabels,
        prometheus_client::metrics::counter::Counter,
    >::default();
    peer.register("http_requests", "Requests.", peer_family.clone());

    let tikv = prometheus::Registry::new();
    let tikv_family =
        prometheus::CounterVec::new(prometheus::Opts::new("http_requests_total", "Requests."), &["method", "path"])
            .unwrap();
    tikv.register(Box::new(tikv_family.clone())).unwrap();

    // Each library's series are made in a loop of their own, as in a process that uses one
    // library: interleaving them would scatter every library's allocations alike.
    for i in 0..series {
        let (method, path) = labels(i);
        family.labels(&[&method, &path]).unwrap().inc_by(value(i));
    }
    for i in 0..series {
        let (method, path) = labels(i);
        peer_family.get_or_create(&PeerLabels { method, path }).inc_by(value(i) as u64);
    }
    for i in 0..series {
        let (method, path) = labels(i);
        tikv_family.with_label_values(&[&method, &path]).inc_by(value(i));
    }
    Setups { ours, peer, tikv }
}

fn encode_text(c: &mut Criterion) {
    for series in [1_000, 10_000, 100_000] {
        let s = setups(series);
        let mut g = c.benchmark_group(format!("encode_text_{}k_series", series / 1000));
        if series >= 100_000 {
            g.sample_size(10);
        }
        let ours_len =
            pyrometer_expo::text_to_bytes(&s.ours.collect().unwrap(), pyrometer_expo::Escaping::Underscores).len();
        g.throughput(Throughput::Bytes(ours_len as u64));
        g.bench_function(BenchmarkId::new("pyrometer", "text"), |b| {
            b.iter(|| {
                let families = s.ours.collect().unwrap();
                black_box(pyrometer_expo::text_to_bytes(&families, pyrometer_expo::Escaping::Underscores))
            });
        });
        g.bench_function(BenchmarkId::new("pyrometer", "openmetrics"), |b| {
            b.iter(|| {
                let families = s.ours.collect().unwrap();
                black_box(
                    pyrometer_expo::openmetrics_to_bytes(&families, pyrometer_expo::Escaping::Underscores).unwrap(),
                )
            });
        });
        g.bench_function(BenchmarkId::new("pyrometer", "protobuf"), |b| {
            b.iter(|| {
                let families = s.ours.collect().unwrap();
                black_box(pyrometer_expo::protobuf_to_bytes(&families))
            });
        });
        g.bench_function(BenchmarkId::new("prometheus_client", "openmetrics"), |b| {
            b.iter(|| {
                let mut out = String::new();
                prometheus_client::encoding::text::encode(&mut out, &s.peer).unwrap();
                black_box(out)
            });
        });
        g.bench_function(BenchmarkId::new("prometheus", "text"), |b| {
            b.iter(|| {
                let mut out = Vec::new();
                prometheus::TextEncoder::new().encode(&s.tikv.gather(), &mut out).unwrap();
                black_box(out)
            });
        });
        g.finish();
    }
}

/// 10k histogram series of latencies, native and classic, in the formats that carry them.
fn encode_histograms(c: &mut Criterion) {
    let native = pyrometer_core::Family::<pyrometer_core::NativeHistogram>::with_options(
        pyrometer_core::Metadata::new("native_seconds", "Latency.").label_names(["path"]),
        pyrometer_core::NativeHistogramOptions::default(),
    )
    .unwrap();
    let classic = pyrometer_core::Family::<pyrometer_core::Histogram>::with_options(
        pyrometer_core::Metadata::new("classic_seconds", "Latency.").label_names(["path"]),
        pyrometer_core::Buckets::exponential(0.001, 2.0, 12).unwrap(),
    )
    .unwrap();
    for i in 0..10_000 {
        let path = format!("/api/{i}");
        let (n, k) = (native.labels(&[&path]).unwrap(), classic.labels(&[&path]).unwrap());
        for j in 0..50 {
            let v = 0.001 * 1.2f64.powi((i + j * 7) % 50);
            n.observe(v);
            k.observe(v);
        }
    }
    let registry = |register: &dyn Fn(&pyrometer_core::Registry)| {
        let r = pyrometer_core::Registry::new();
        r.set_created_enabled(false);
        register(&r);
        r
    };
    let registries = [
        (
            "native",
            registry(&|r| {
                r.register(native.clone()).unwrap();
            }),
        ),
        (
            "classic_12",
            registry(&|r| {
                r.register(classic.clone()).unwrap();
            }),
        ),
    ];
    let mut g = c.benchmark_group("encode_histograms_10k_series");
    g.sample_size(10);
    for (name, registry) in &registries {
        g.bench_function(BenchmarkId::new(*name, "protobuf"), |b| {
            b.iter(|| black_box(pyrometer_expo::protobuf_to_bytes(&registry.collect().unwrap())));
        });
        g.bench_function(BenchmarkId::new(*name, "openmetrics_2"), |b| {
            b.iter(|| {
                let families = registry.collect().unwrap();
                black_box(pyrometer_expo::openmetrics_version_to_bytes(
                    &families,
                    pyrometer_expo::Escaping::Underscores,
                    pyrometer_expo::OpenMetricsVersion::V2,
                ))
            });
        });
    }
    g.finish();
}

fn config() -> Criterion {
    Criterion::default().warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = benches;
    config = config();
    targets = encode_text, encode_histograms
}
criterion_main!(benches);
