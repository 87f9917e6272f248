//! A native histogram's size beside classic ones of 12 and 30 bounds, for the same observations:
//! bytes held per series in memory, and per series on the wire in the protobuf and text formats.
//! Memory is what the allocator holds after the series are made and observed, less what it held
//! before, per series (labels, map entries and all).
//! `cargo run --release -p pyrometer-benches --example histogram_sizes`

use pyrometer_benches::counting::{Counting, held};
use pyrometer_core::{Buckets, Family, Histogram, Metadata, Metric, NativeHistogram, NativeHistogramOptions, Registry};

const SERIES: usize = 1000;

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Latencies from 1 ms to about 10 s, a different mix per series.
fn observations(series: usize) -> impl Iterator<Item = f64> {
    (0..200).map(move |j| 0.001 * 1.05f64.powi(i32::try_from((series * 31 + j * 17) % 190).unwrap_or(0)))
}

fn wire<M: Metric>(family: Family<M>) -> (usize, usize) {
    let registry = Registry::new();
    registry.set_created_enabled(false);
    registry.register(family).unwrap();
    let families = registry.collect().unwrap();
    let protobuf = pyrometer_expo::protobuf_to_bytes(&families).len();
    let text = pyrometer_expo::text_to_bytes(&families, pyrometer_expo::Escaping::Underscores).len();
    (protobuf / SERIES, text / SERIES)
}

fn classic(bounds: usize) -> (usize, usize, usize) {
    let buckets = Buckets::exponential(0.001, 10f64.powf(4.0 / bounds as f64), bounds).unwrap();
    let before = held();
    let family =
        Family::<Histogram>::with_options(Metadata::new("h", "H.").label_names(["path"]), buckets.clone()).unwrap();
    for i in 0..SERIES {
        let series = family.labels(&[&format!("/api/{i}")]).unwrap();
        observations(i).for_each(|v| series.observe(v));
    }
    let memory = (held() - before) / SERIES;
    let (protobuf, text) = wire(family);
    (memory, protobuf, text)
}

fn native() -> (usize, usize, usize, i32, usize) {
    let before = held();
    let family = Family::<NativeHistogram>::with_options(
        Metadata::new("h", "H.").label_names(["path"]),
        NativeHistogramOptions::default(),
    )
    .unwrap();
    for i in 0..SERIES {
        let series = family.labels(&[&format!("/api/{i}")]).unwrap();
        observations(i).for_each(|v| series.observe(v));
        // A read folds the counts into the other half, which then holds chunks too: the size
        // of a series that has been scraped.
        drop(series.value());
    }
    let memory = held() - before;
    let value = family.labels(&["/api/0"]).unwrap().value();
    let (protobuf, _) = wire(family);
    // The text format carries only the classic form; OpenMetrics 2.0 carries the buckets.
    (memory / SERIES, protobuf, 0, value.schema, value.bucket_count())
}

fn main() {
    println!("| series (200 observations, 1 ms to 10 s) | memory bytes | protobuf bytes | text bytes |");
    println!("|---|---|---|---|");
    for bounds in [12, 30] {
        let (memory, protobuf, text) = classic(bounds);
        println!("| classic, {bounds} bounds | {memory} | {protobuf} | {text} |");
    }
    let (memory, protobuf, _, schema, buckets) = native();
    println!("| native, factor 1.1 (schema {schema}, {buckets} buckets) | {memory} | {protobuf} | classic form only |");
}
