//! The protobuf format: what pyrometer encodes, its parser reads back to the same families, as
//! the text formats show them; native histograms keep every bucket.

use proptest::prelude::*;
use pyrometer_core::{
    Buckets, Counter, Family, Gauge, Histogram, Info, Metadata, MetricFamily, NativeHistogram, NativeHistogramOptions,
    Quantiles, Registry, StateSet, States, Summary,
};
use pyrometer_expo::{
    Escaping, OpenMetricsVersion, encode_text, openmetrics_version_to_bytes, parse_protobuf, protobuf_to_bytes,
};

fn text(families: &[MetricFamily]) -> String {
    let mut out = String::new();
    encode_text(&mut out, families, Escaping::AllowUtf8);
    out
}

fn om2(families: &[MetricFamily]) -> String {
    String::from_utf8(openmetrics_version_to_bytes(families, Escaping::AllowUtf8, OpenMetricsVersion::V2).unwrap())
        .unwrap()
}

fn native_options(classic: Option<Buckets>) -> NativeHistogramOptions {
    NativeHistogramOptions { classic, ..NativeHistogramOptions::default() }
}

fn registry(created: bool) -> Registry {
    let registry = Registry::new();
    registry.set_created_enabled(created);
    let requests = Family::<Counter>::new(Metadata::new("requests", "Requests.").label_names(["code"])).unwrap();
    requests.labels(&["200"]).unwrap().inc_by(7.0);
    requests.labels(&["500"]).unwrap().inc();
    registry.register(requests).unwrap();
    let temperature = Family::<Gauge>::new(Metadata::new("temperature", "Degrees.").unit("celsius")).unwrap();
    temperature.without_labels().unwrap().set(-3.5);
    registry.register(temperature).unwrap();
    let latency = Family::<Histogram>::with_options(
        Metadata::new("latency", "Classic.").label_names(["route"]),
        Buckets::new([0.1, 1.0]).unwrap(),
    )
    .unwrap();
    for v in [0.05, 0.5, 5.0] {
        latency.labels(&["/a"]).unwrap().observe(v);
    }
    registry.register(latency).unwrap();
    let native = Family::<NativeHistogram>::with_options(
        Metadata::new("native", "Native.").label_names(["route"]),
        native_options(None),
    )
    .unwrap();
    for v in [0.0, 0.001, 0.2, 0.25, 3.0, -7.0, 1e6] {
        native.labels(&["/a"]).unwrap().observe(v);
    }
    // An empty one: still a native histogram.
    let _empty = native.labels(&["/empty"]).unwrap();
    registry.register(native).unwrap();
    let both = Family::<NativeHistogram>::with_options(
        Metadata::new("both", "Native and classic."),
        native_options(Some(Buckets::new([0.5, 2.0]).unwrap())),
    )
    .unwrap();
    for v in [0.1, 1.0, 4.0] {
        both.without_labels().unwrap().observe(v);
    }
    registry.register(both).unwrap();
    let summary =
        Family::<Summary>::with_options(Metadata::new("work", "Summary."), Some(Quantiles::new([0.5, 0.9]))).unwrap();
    (1..=10).for_each(|i| summary.without_labels().unwrap().observe(f64::from(i)));
    registry.register(summary).unwrap();
    registry
}

/// The families of the kinds the protobuf format has (counters, gauges, histograms, summaries).
#[test]
fn registry_output_reads_back_as_it_was_written() {
    let families = registry(false).collect().unwrap();
    let parsed = parse_protobuf(&protobuf_to_bytes(&families)).unwrap();
    assert_eq!(text(&parsed), text(&families));
    // Native buckets too, as OpenMetrics 2.0 shows them.
    assert_eq!(om2(&parsed), om2(&families));
    // And encoding what was read gives the same bytes.
    assert_eq!(protobuf_to_bytes(&parsed), protobuf_to_bytes(&families));
}

#[test]
fn created_timestamps_travel_to_the_microsecond() {
    let families = registry(true).collect().unwrap();
    let parsed = parse_protobuf(&protobuf_to_bytes(&families)).unwrap();
    let created = |families: &[MetricFamily]| -> Vec<f64> {
        families
            .iter()
            .flat_map(|f| f.samples.iter().filter(|s| s.name.full(&f.name).ends_with("_created")).map(|s| s.value))
            .collect()
    };
    let (before, after) = (created(&families), created(&parsed));
    assert_eq!(before.len(), 7);
    assert_eq!(before.len(), after.len());
    for (a, b) in before.iter().zip(&after) {
        assert!((a - b).abs() < 1e-6, "{a} {b}");
    }
}

#[test]
fn native_histograms_are_marked_and_carry_no_lone_inf_bucket() {
    let families = registry(false).collect().unwrap();
    let bytes = protobuf_to_bytes(&families.iter().filter(|f| &*f.name == "native").cloned().collect::<Vec<_>>());
    let parsed = parse_protobuf(&bytes).unwrap();
    let natives: Vec<_> = parsed[0].samples.iter().filter_map(|s| s.native.clone()).collect();
    assert_eq!(natives.len(), 2, "the empty histogram stays native");
    assert_eq!(natives[0].count.as_f64(), 7.0);
    assert_eq!(natives[0].schema, 3);
    assert_eq!(natives[1].count.as_f64(), 0.0);
}

#[test]
fn info_and_state_sets_become_gauges() {
    let registry = Registry::new();
    let info = Family::<Info>::new(Metadata::new("build", "Build.")).unwrap();
    info.without_labels().unwrap().set([("version", "1.2")]).unwrap();
    registry.register(info).unwrap();
    let state = Family::<StateSet>::with_options(Metadata::new("phase", "Phase."), States::new(["a", "b"])).unwrap();
    state.without_labels().unwrap().set_exclusive("b").unwrap();
    registry.register(state).unwrap();
    let parsed = parse_protobuf(&protobuf_to_bytes(&registry.collect().unwrap())).unwrap();
    assert_eq!(
        text(&parsed),
        "# HELP build_info Build.\n# TYPE build_info gauge\nbuild_info{version=\"1.2\"} 1.0\n\
         # HELP phase Phase.\n# TYPE phase gauge\nphase{phase=\"a\"} 0.0\nphase{phase=\"b\"} 1.0\n"
    );
}

#[test]
fn malformed_input_is_an_error_not_a_panic() {
    for bad in [&b"\x05\x0a\x03ab"[..], b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", b"\x02\x0a\x00"] {
        assert!(parse_protobuf(bad).is_err(), "{bad:?}");
    }
    assert!(parse_protobuf(b"").unwrap().is_empty());
}

proptest! {
    /// Native histograms of any observations read back bucket for bucket.
    #[test]
    fn native_histograms_round_trip(
        values in proptest::collection::vec(prop_oneof![-1e9f64..1e9, -1.0f64..1.0, Just(0.0)], 0..200),
        factor in proptest::sample::select(vec![1.005, 1.1, 2.0, 300.0]),
        max_buckets in proptest::sample::select(vec![0u32, 10, 160]),
    ) {
        let registry = Registry::new();
        registry.set_created_enabled(false);
        let h = Family::<NativeHistogram>::with_options(
            Metadata::new("h", "H."),
            NativeHistogramOptions { bucket_factor: factor, max_buckets, ..NativeHistogramOptions::default() },
        ).unwrap();
        let series = h.without_labels().unwrap();
        for v in &values {
            series.observe(*v);
        }
        registry.register(h).unwrap();
        let families = registry.collect().unwrap();
        let parsed = parse_protobuf(&protobuf_to_bytes(&families)).unwrap();
        let native = |f: &[MetricFamily]| f[0].samples[0].native.clone().unwrap();
        let (written, read) = (native(&families), native(&parsed));
        prop_assert_eq!(read.positive_counts(), written.positive_counts());
        prop_assert_eq!(read.negative_counts(), written.negative_counts());
        prop_assert_eq!(read.count, written.count);
        prop_assert_eq!(read.zero_count, written.zero_count);
        prop_assert_eq!(read.schema, written.schema);
    }
}
