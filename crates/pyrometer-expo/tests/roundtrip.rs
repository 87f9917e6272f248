//! Property: whatever pyrometer encodes, its parsers read back to the same samples.

use proptest::prelude::*;
use pyrometer_core::{Buckets, Counter, Family, Gauge, Histogram, Metadata, MetricFamily, Registry};
use pyrometer_expo::{Escaping, encode_openmetrics, encode_text, parse_openmetrics, parse_text};

/// One sample as (full name, sorted labels, value bits), NaN folded to one pattern.
type Flat = (String, Vec<(String, String)>, u64);

fn flatten(families: &[MetricFamily]) -> Vec<Flat> {
    let mut out: Vec<Flat> = families
        .iter()
        .flat_map(|f| {
            f.samples.iter().map(|s| {
                let labels = s.all_labels().iter().map(|l| (l.name.to_string(), l.value.to_string())).collect();
                let bits = if s.value.is_nan() { f64::NAN.to_bits() } else { s.value.to_bits() };
                (s.name.full(&f.name), labels, bits)
            })
        })
        .collect();
    out.sort();
    out
}

fn label_value() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[a-zA-Z0-9 \\\\\"\n{},=#éü✓日😀]{0,12}").expect("valid regex")
}

fn value() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(-0.0),
        any::<f64>(),
        (0u32..1_000_000).prop_map(f64::from),
        -1e6..1e6f64,
    ]
}

#[derive(Debug, Clone)]
struct Content {
    gauges: Vec<(String, String, f64)>,
    counters: Vec<(String, f64)>,
    observations: Vec<f64>,
}

fn content() -> impl Strategy<Value = Content> {
    (
        prop::collection::vec((label_value(), label_value(), value()), 0..8),
        prop::collection::vec((label_value(), 0.0..1e12f64), 0..8),
        prop::collection::vec(0.0..100.0f64, 0..20),
    )
        .prop_map(|(gauges, counters, observations)| Content { gauges, counters, observations })
}

fn registry(content: &Content) -> Registry {
    let registry = Registry::new();
    registry.set_created_enabled(false);
    let g = Family::<Gauge>::new(Metadata::new("g", "Gauge \\ with\nescapes.").label_names(["a", "b"])).unwrap();
    let c = Family::<Counter>::new(Metadata::new("c_total", "Counter.").label_names(["k"])).unwrap();
    let h = Family::<Histogram>::with_options(
        Metadata::new("h", "Histogram.").unit("seconds"),
        Buckets::linear(1.0, 10.0, 5).unwrap(),
    )
    .unwrap();
    registry.register(g.clone()).unwrap();
    registry.register(c.clone()).unwrap();
    registry.register(h.clone()).unwrap();
    for (a, b, v) in &content.gauges {
        g.labels(&[a, b]).unwrap().set(*v);
    }
    for (k, v) in &content.counters {
        c.labels(&[k]).unwrap().inc_by(*v);
    }
    let h = h.without_labels().unwrap();
    for v in &content.observations {
        h.observe(*v);
    }
    registry
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn text_output_parses_back_to_the_same_samples(content in content()) {
        let families = registry(&content).collect().unwrap();
        let mut text = String::new();
        encode_text(&mut text, &families, Escaping::Underscores);
        let parsed = parse_text(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(flatten(&parsed), flatten(&families));
    }

    #[test]
    fn openmetrics_output_parses_back_to_the_same_samples(content in content()) {
        let families = registry(&content).collect().unwrap();
        let mut om = String::new();
        encode_openmetrics(&mut om, &families, Escaping::Underscores).unwrap();
        let parsed = parse_openmetrics(&om).map_err(|e| TestCaseError::fail(format!("{e}\n{om}")))?;
        prop_assert_eq!(flatten(&parsed), flatten(&families));
    }
}
