//! Remote write's CPU per collection of 100k counter series: turning the families into points,
//! then encoding and snappy-compressing them as 1.0 and 2.0 requests of 2,000 points (the
//! default batch). `cargo bench -p pyrometer-benches --bench remote_write`
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pyrometer_benches::workloads::http_requests;
use pyrometer_export::remote_write::{SeriesPoints, encode_v1, encode_v2};

const SERIES: usize = 100_000;
const BATCH: usize = 2_000;

fn remote_write(c: &mut Criterion) {
    let registry = http_requests(SERIES);
    let families = registry.collect().unwrap();
    let external = [("cluster".to_owned(), "eu-1".to_owned())];
    let now = 1_700_000_000_000;
    let points = SeriesPoints::new(&external, true, false).points(&families, now);
    assert_eq!(points.len(), SERIES, "one `_total` point per series, no `_created`");
    let compress = |raw: Vec<u8>| snap::raw::Encoder::new().compress_vec(&raw).unwrap();

    let mut g = c.benchmark_group("remote_write_100k");
    g.throughput(Throughput::Elements(SERIES as u64));
    g.bench_function("collect_and_points", |b| {
        let mut series = SeriesPoints::new(&external, true, false);
        b.iter(|| black_box(series.points(&registry.collect().unwrap(), now)));
    });
    g.bench_function("encode_compress_v1", |b| {
        b.iter(|| points.chunks(BATCH).map(|batch| compress(encode_v1(batch)).len()).sum::<usize>());
    });
    g.bench_function("encode_compress_v2", |b| {
        b.iter(|| points.chunks(BATCH).map(|batch| compress(encode_v2(batch)).len()).sum::<usize>());
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(5)).sample_size(10);
    targets = remote_write
}
criterion_main!(benches);
