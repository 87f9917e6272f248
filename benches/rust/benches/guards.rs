//! What the guards add to an update: a sampled counter against a plain one, a rate-limited
//! gauge against a plain one, and a lookup in a family with a series limit against one without.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use pyrometer_core::{Counter, Family, Gauge, Metadata, RateLimitedGauge, SampleRate, SampledCounter};

fn sampled_counter(c: &mut Criterion) {
    let mut g = c.benchmark_group("guards/counter_inc");
    let plain = Counter::default();
    g.bench_function("plain", |b| b.iter(|| black_box(&plain).inc()));
    for rate in [1.0, 0.1, 0.01] {
        let sampled = SampledCounter::new(SampleRate::new(rate).unwrap());
        g.bench_function(format!("sampled_{rate}"), |b| b.iter(|| black_box(&sampled).inc()));
    }
    g.finish();
}

fn rate_limited_gauge(c: &mut Criterion) {
    let mut g = c.benchmark_group("guards/gauge_set");
    let plain = Gauge::default();
    g.bench_function("plain", |b| b.iter(|| black_box(&plain).set(black_box(1.5))));
    let limited = RateLimitedGauge::new(Duration::from_millis(100));
    g.bench_function("rate_limited", |b| b.iter(|| black_box(&limited).set(black_box(1.5))));
    g.finish();
}

fn series_limit(c: &mut Criterion) {
    let mut g = c.benchmark_group("guards/labels_then_inc");
    let family = || Family::<Counter>::new(Metadata::new("requests", "Requests.").label_names(["code"])).unwrap();
    let unlimited = family();
    let limited = family();
    limited.set_series_limit(10).unwrap();
    for code in 0..10 {
        let code = code.to_string();
        let _ = unlimited.labels(&[&code]).unwrap();
        let _ = limited.labels(&[&code]).unwrap();
    }
    g.bench_function("unlimited", |b| b.iter(|| unlimited.labels(black_box(&["7"])).unwrap().inc()));
    g.bench_function("limited", |b| b.iter(|| limited.labels(black_box(&["7"])).unwrap().inc()));
    // A label set beyond the limit: the write lock, the overflow series and the fold count.
    g.bench_function("limited_overflow", |b| b.iter(|| limited.labels(black_box(&["new"])).unwrap().inc()));
    g.finish();
}

fn config() -> Criterion {
    Criterion::default().warm_up_time(Duration::from_millis(300)).measurement_time(Duration::from_secs(1))
}

criterion_group! {
    name = benches;
    config = config();
    targets = sampled_counter, rate_limited_gauge, series_limit
}
criterion_main!(benches);
