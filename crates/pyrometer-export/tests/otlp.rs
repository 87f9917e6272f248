//! OTLP export against a collector stand-in on loopback: what is sent decodes to the registry's
//! values, and retryable answers are retried.
#![allow(missing_docs)]

use std::time::Duration;

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value;
use opentelemetry_proto::tonic::metrics::v1::{AggregationTemporality, Metric, metric, number_data_point};
use prost::Message;
use pyrometer_core::{Buckets, Counter, Family, Gauge, Histogram, Metadata, Quantiles, Registry, Summary};
use pyrometer_export::otlp::{OtlpError, OtlpExporter, OtlpOptions, PeriodicExporter};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Answers each request with the next of `answers` (status line and headers); returns the
/// request heads and bodies.
async fn collector(listener: TcpListener, answers: Vec<&'static str>) -> Vec<(String, Vec<u8>)> {
    let mut seen = Vec::new();
    for answer in answers {
        let (mut conn, _) = listener.accept().await.unwrap();
        let mut data = Vec::new();
        let mut buf = [0u8; 8192];
        let (head, body_start) = loop {
            let n = conn.read(&mut buf).await.unwrap();
            data.extend_from_slice(&buf[..n]);
            if let Some(at) = data.windows(4).position(|w| w == b"\r\n\r\n") {
                break (String::from_utf8_lossy(&data[..at]).to_lowercase(), at + 4);
            }
        };
        let length: usize =
            head.lines().find_map(|l| l.strip_prefix("content-length:")).map_or(0, |v| v.trim().parse().unwrap());
        while data.len() < body_start + length {
            let n = conn.read(&mut buf).await.unwrap();
            data.extend_from_slice(&buf[..n]);
        }
        conn.write_all(format!("{answer}\r\ncontent-length: 0\r\n\r\n").as_bytes()).await.unwrap();
        seen.push((head, data[body_start..body_start + length].to_vec()));
    }
    seen
}

fn registry() -> Registry {
    let registry = Registry::new();
    let requests = Family::<Counter>::new(Metadata::new("requests", "Requests.").label_names(["code"])).unwrap();
    requests.labels(&["200"]).unwrap().inc_by(3.0);
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
    registry.register(requests).unwrap();
    registry.register(queue).unwrap();
    registry.register(latency).unwrap();
    registry.register(sizes).unwrap();
    registry
}

fn metric<'a>(request: &'a ExportMetricsServiceRequest, name: &str) -> &'a Metric {
    request.resource_metrics[0].scope_metrics[0].metrics.iter().find(|m| m.name == name).unwrap()
}

fn fast() -> OtlpOptions {
    OtlpOptions { initial_backoff: Duration::from_millis(10), ..OtlpOptions::default() }
}

#[tokio::test]
async fn an_export_decodes_to_the_registry_values() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1/metrics", listener.local_addr().unwrap());
    let server = tokio::spawn(collector(listener, vec!["HTTP/1.1 200 OK"]));
    let options = OtlpOptions {
        resource: vec![("service.name".into(), "checkout".into())],
        headers: vec![("authorization".into(), "Bearer t".into())],
        ..fast()
    };
    OtlpExporter::new(&url, options).unwrap().export(&registry()).await.unwrap();
    let (head, body) = server.await.unwrap().remove(0);
    assert!(head.starts_with("post /v1/metrics http/1.1"), "{head}");
    assert!(head.contains("content-type: application/x-protobuf"), "{head}");
    assert!(head.contains("authorization: bearer t"), "{head}");
    let request = ExportMetricsServiceRequest::decode(&*body).unwrap();
    let resource = request.resource_metrics[0].resource.as_ref().unwrap();
    assert_eq!(resource.attributes[0].key, "service.name");
    assert_eq!(
        resource.attributes[0].value.as_ref().unwrap().value,
        Some(any_value::Value::StringValue("checkout".into()))
    );

    let Some(metric::Data::Sum(sum)) = &metric(&request, "requests").data else { panic!("not a sum") };
    assert!(sum.is_monotonic);
    assert_eq!(sum.aggregation_temporality, AggregationTemporality::Cumulative as i32);
    let point = &sum.data_points[0];
    assert_eq!(point.value, Some(number_data_point::Value::AsDouble(3.0)));
    assert_eq!(point.attributes[0].key, "code");
    assert!(point.start_time_unix_nano > 0 && point.start_time_unix_nano <= point.time_unix_nano);

    let queue = metric(&request, "queue_items");
    assert_eq!(queue.unit, "items");
    let Some(metric::Data::Gauge(gauge)) = &queue.data else { panic!("not a gauge") };
    assert_eq!(gauge.data_points[0].value, Some(number_data_point::Value::AsDouble(-2.5)));

    let Some(metric::Data::Histogram(histogram)) = &metric(&request, "latency").data else { panic!("not a histogram") };
    let point = &histogram.data_points[0];
    assert_eq!(point.explicit_bounds, [0.1, 1.0]);
    assert_eq!(point.bucket_counts, [1, 2, 1], "per bucket, not cumulative");
    assert_eq!((point.count, point.sum), (4, Some(6.25)));

    let Some(metric::Data::Summary(summary)) = &metric(&request, "sizes").data else { panic!("not a summary") };
    let point = &summary.data_points[0];
    assert_eq!((point.count, point.sum), (99, 4950.0));
    assert_eq!(point.quantile_values[0].quantile, 0.5);
    assert!((point.quantile_values[0].value - 50.0).abs() <= 0.5 + 1e-9);
}

#[tokio::test]
async fn retryable_answers_are_retried_and_others_are_not() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1/metrics", listener.local_addr().unwrap());
    let answers =
        vec!["HTTP/1.1 503 Service Unavailable", "HTTP/1.1 429 Too Many Requests\r\nretry-after: 0", "HTTP/1.1 200 OK"];
    let server = tokio::spawn(collector(listener, answers));
    OtlpExporter::new(&url, fast()).unwrap().export(&registry()).await.unwrap();
    assert_eq!(server.await.unwrap().len(), 3);

    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1/metrics", listener.local_addr().unwrap());
    let server = tokio::spawn(collector(listener, vec!["HTTP/1.1 400 Bad Request"]));
    let err = OtlpExporter::new(&url, fast()).unwrap().export(&registry()).await.unwrap_err();
    assert!(matches!(err, OtlpError::Status { status: 400, .. }), "{err}");
    server.await.unwrap();
}

/// A collector answering with a body that never ends: the export returns once it has read a
/// little of it, and the server sees the connection close, having sent far less than it would.
#[tokio::test]
async fn an_endless_answer_body_is_read_only_in_part() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1/metrics", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        let (mut conn, _) = listener.accept().await.unwrap();
        let mut buf = vec![0u8; 1 << 16];
        let _ = conn.read(&mut buf).await.unwrap();
        conn.write_all(b"HTTP/1.1 500 Internal Server Error\r\ntransfer-encoding: chunked\r\n\r\n").await.unwrap();
        let chunk = format!("{:x}\r\n{}\r\n", 8192, "x".repeat(8192));
        let mut sent = 0usize;
        // At most 1 GiB; the client stops reading long before.
        while sent < 1 << 30 {
            if conn.write_all(chunk.as_bytes()).await.is_err() {
                break;
            }
            sent += 8192;
        }
        sent
    });
    let err = OtlpExporter::new(&url, OtlpOptions { max_retries: 0, ..fast() })
        .unwrap()
        .export(&registry())
        .await
        .unwrap_err();
    let OtlpError::Status { status: 500, body } = err else { panic!("{err}") };
    assert!(body.len() <= 512 && body.starts_with('x'), "{}", body.len());
    let sent = tokio::time::timeout(Duration::from_secs(30), server).await.unwrap().unwrap();
    assert!(sent < 64 << 20, "the server could write {sent} bytes");
}

#[tokio::test]
async fn an_unreachable_collector_fails_after_the_retries() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let options = OtlpOptions { max_retries: 2, ..fast() };
    let started = std::time::Instant::now();
    let err = OtlpExporter::new(&format!("127.0.0.1:{port}"), options).unwrap().export(&registry()).await.unwrap_err();
    assert!(matches!(err, OtlpError::Io(_)), "{err}");
    // Two backoffs of 10 and 20 ms, each drawn between half and all of it.
    assert!(started.elapsed() >= Duration::from_millis(15), "two backoffs of 10 and 20 ms");
    assert!(matches!(OtlpExporter::new("ftp://x", fast()), Err(OtlpError::Url { .. })));
}

#[test]
fn the_periodic_exporter_exports_on_request_on_interval_and_at_shutdown() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let listener = runtime.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
    let url = format!("http://{}/v1/metrics", listener.local_addr().unwrap());
    let server = std::thread::spawn(move || runtime.block_on(collector(listener, vec!["HTTP/1.1 200 OK"; 3])));
    let registry = registry();
    let exporter =
        PeriodicExporter::start(OtlpExporter::new(&url, fast()).unwrap(), registry.clone(), Duration::from_millis(300))
            .unwrap();
    exporter.export_now();
    assert_eq!(exporter.exports(), 1);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while exporter.exports() < 2 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(exporter.exports(), 2, "one more on the interval");
    exporter.shutdown();
    assert_eq!(exporter.exports(), 3, "and one at shutdown");
    assert_eq!(exporter.failures(), 0);
    assert_eq!(server.join().unwrap().len(), 3);
}

/// A native histogram is an exponential histogram: scale = schema, OTLP bucket `i` holding what
/// Prometheus' bucket `i + 1` holds, dense from the offset.
#[test]
fn native_histograms_are_exponential_histograms() {
    use pyrometer_core::{NativeHistogram, NativeHistogramOptions};
    let registry = Registry::new();
    let latency = Family::<NativeHistogram>::with_options(
        Metadata::new("native_seconds", "Latency."),
        NativeHistogramOptions { bucket_factor: 2.0, ..NativeHistogramOptions::default() },
    )
    .unwrap();
    // Schema 0: 3 in (2, 4] (Prometheus bucket 2), 5 and 6 in (4, 8] (bucket 3), 100 in (64, 128]
    // (bucket 7); -0.7 in (0.5, 1] on the negative side (bucket 0); 0 in the zero bucket.
    for v in [3.0, 5.0, 6.0, 100.0, -0.7, 0.0] {
        latency.without_labels().unwrap().observe(v);
    }
    registry.register(latency).unwrap();
    let request = pyrometer_export::otlp::to_request(&registry.collect().unwrap(), &[], 1);
    let Some(metric::Data::ExponentialHistogram(h)) = &metric(&request, "native_seconds").data else {
        panic!("not an exponential histogram")
    };
    assert_eq!(h.aggregation_temporality, AggregationTemporality::Cumulative as i32);
    let point = &h.data_points[0];
    assert_eq!((point.scale, point.count, point.zero_count), (0, 6, 1));
    assert_eq!(point.sum, Some(113.3));
    let positive = point.positive.as_ref().unwrap();
    assert_eq!((positive.offset, positive.bucket_counts.as_slice()), (1, &[1, 2, 0, 0, 0, 1][..]));
    let negative = point.negative.as_ref().unwrap();
    assert_eq!((negative.offset, negative.bucket_counts.as_slice()), (-1, &[1][..]));
    // Each value lies in OTLP's (2^i, 2^(i+1)] for its bucket.
    for (v, i) in [(3.0f64, 1), (5.0, 2), (6.0, 2), (100.0, 6)] {
        assert!(2f64.powi(i) < v && v <= 2f64.powi(i + 1));
        let at = usize::try_from(i - positive.offset).unwrap();
        assert!(positive.bucket_counts[at] > 0);
    }
    assert!(point.start_time_unix_nano > 0);
}

/// A collector that accepts the connection and never answers: shutting down waits for the last
/// export at most `SHUTDOWN_TIMEOUT`, not the exporter's timeout.
#[test]
fn shutdown_does_not_wait_out_a_silent_collector() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/v1/metrics", listener.local_addr().unwrap());
    let silent = std::thread::spawn(move || {
        let held: Vec<_> = listener.incoming().take(1).collect();
        std::thread::sleep(Duration::from_secs(3));
        drop(held);
    });
    let options = OtlpOptions { timeout: Duration::from_secs(30), max_retries: 0, ..fast() };
    let exporter =
        PeriodicExporter::start(OtlpExporter::new(&url, options).unwrap(), registry(), Duration::from_secs(3600))
            .unwrap();
    let started = std::time::Instant::now();
    exporter.shutdown();
    assert!(
        started.elapsed() < pyrometer_export::otlp::SHUTDOWN_TIMEOUT + Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(exporter.failures(), 1);
    silent.join().unwrap();
}
