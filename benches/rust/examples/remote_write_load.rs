//! Remote write under load, on loopback: bytes per sample on the wire (1.0 against 2.0), samples
//! per second one writer sends to a receiver, CPU per 100k samples, and memory held by a full
//! queue. `cargo run --release -p pyrometer-benches --example remote_write_load`
//!
//! The receiver is a hyper server on another thread that reads each body and answers 204. CPU is
//! the whole process's (the receiver's share included), read from `/proc/self/stat`. Memory is
//! what the allocator holds with the queue full, less what it held before, per queued point.
#![allow(missing_docs)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use pyrometer_benches::counting::{Counting, held};
use pyrometer_benches::workloads::http_requests;
use pyrometer_core::{Buckets, Counter, Family, Histogram, Metadata, Registry};
use pyrometer_export::remote_write::{Protocol, RemoteWriteOptions, RemoteWriter, SeriesPoints, encode_v1, encode_v2};

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const SERIES: usize = 100_000;
const ROUNDS: usize = 10;

/// A service's usual mix: request counters by method, route and code, latency histograms of
/// ten bounds by route.
fn service() -> Registry {
    let registry = Registry::new();
    let requests =
        Family::<Counter>::new(Metadata::new("http_requests", "Requests.").label_names(["method", "route", "code"]))
            .unwrap();
    let latency = Family::<Histogram>::with_options(
        Metadata::new("http_request_duration_seconds", "Latency.").label_names(["route"]),
        Buckets::new([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0]).unwrap(),
    )
    .unwrap();
    for route in 0..100 {
        let route = format!("/api/v1/items/{route}");
        for (method, code) in [("GET", "200"), ("GET", "404"), ("POST", "201"), ("POST", "500")] {
            requests.labels(&[method, &route, code]).unwrap().inc_by(1234.0);
        }
        for i in 0..100 {
            latency.labels(&[&route]).unwrap().observe(f64::from(i) / 37.0);
        }
    }
    registry.register(requests).unwrap();
    registry.register(latency).unwrap();
    registry
}

fn bytes_per_sample(registry: &Registry) -> [(f64, f64); 2] {
    let points = SeriesPoints::new(&[], true, false).points(&registry.collect().unwrap(), 1_700_000_000_000);
    let per = |encode: fn(&[pyrometer_export::remote_write::Point]) -> Vec<u8>| {
        let (mut raw, mut compressed) = (0, 0);
        for batch in points.chunks(2000) {
            let body = encode(batch);
            raw += body.len();
            compressed += snap::raw::Encoder::new().compress_vec(&body).unwrap().len();
        }
        (raw as f64 / points.len() as f64, compressed as f64 / points.len() as f64)
    };
    [per(encode_v1), per(encode_v2)]
}

/// A receiver on loopback that reads every body and answers 204; the bytes it read.
fn receiver() -> (String, Arc<AtomicU64>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}/api/v1/write", listener.local_addr().unwrap());
    let received = Arc::new(AtomicU64::new(0));
    let counted = Arc::clone(&received);
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                let counted = Arc::clone(&counted);
                tokio::spawn(async move {
                    let service = service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                        let counted = Arc::clone(&counted);
                        async move {
                            let body = request.into_body().collect().await?.to_bytes();
                            counted.fetch_add(body.len() as u64, Ordering::Relaxed);
                            Ok::<_, hyper::Error>(
                                hyper::Response::builder().status(204).body(Full::new(bytes::Bytes::new())).unwrap(),
                            )
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
    });
    (url, received)
}

/// CPU seconds this process has used (user and system).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or_default().split_whitespace().collect();
    let ticks: f64 = fields.get(11..13).map_or(0.0, |f| f.iter().filter_map(|t| t.parse::<f64>().ok()).sum());
    ticks / 100.0
}

fn main() {
    for (name, registry) in [("100k counters", http_requests(SERIES)), ("service mix", service())] {
        let [(v1_raw, v1), (v2_raw, v2)] = bytes_per_sample(&registry);
        println!(
            "bytes per sample, {name}: 1.0 {v1:.1} snappy ({v1_raw:.1} raw), 2.0 {v2:.1} snappy ({v2_raw:.1} raw); \
             2.0/1.0 = {:.2}",
            v2 / v1
        );
    }

    let registry = http_requests(SERIES);
    for protocol in [Protocol::V1, Protocol::V2] {
        let (url, received) = receiver();
        let options = RemoteWriteOptions { protocol, max_pending_samples: 2 * SERIES, ..RemoteWriteOptions::default() };
        let writer = RemoteWriter::new(&url, registry.clone(), options).unwrap();
        let (started, cpu) = (Instant::now(), cpu_seconds());
        for _ in 0..ROUNDS {
            assert!(writer.flush(Duration::from_secs(60)), "{:?}", writer.stats());
        }
        let (wall, cpu) = (started.elapsed().as_secs_f64(), cpu_seconds() - cpu);
        let stats = writer.stats();
        assert_eq!(stats.samples_sent, (SERIES * ROUNDS) as u64);
        println!(
            "{protocol:?}: {:.0} samples/s over loopback ({} collections of {SERIES} series in {wall:.2} s), \
             CPU {:.1} ms per 100k samples, {:.1} bytes per sample received",
            stats.samples_sent as f64 / wall,
            ROUNDS,
            cpu * 1000.0 / (stats.samples_sent as f64 / 100_000.0),
            received.load(Ordering::Relaxed) as f64 / stats.samples_sent as f64
        );
        writer.close();
    }

    // A full queue: nobody listens, every collection waits.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let options = RemoteWriteOptions { max_pending_samples: SERIES, shards: 1, ..RemoteWriteOptions::default() };
    let writer = RemoteWriter::new(&format!("http://{dead}/api/v1/write"), registry.clone(), options).unwrap();
    let before = held();
    writer.flush(Duration::from_millis(200));
    writer.flush(Duration::from_millis(200));
    let stats = writer.stats();
    let held = held().saturating_sub(before);
    println!(
        "full queue: {} points pending ({} dropped), {:.1} MiB held, {:.0} bytes per point (its own estimate {:.0})",
        stats.samples_pending,
        stats.samples_dropped,
        held as f64 / f64::from(1 << 20),
        held as f64 / stats.samples_pending as f64,
        stats.bytes_pending as f64 / stats.samples_pending as f64,
    );
}
