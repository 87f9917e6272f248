//! A summary's quantiles in both text formats, and read back by both parsers.

use pyrometer_core::{Family, Metadata, Quantiles, Summary};
use pyrometer_expo::{Escaping, openmetrics_to_bytes, parse_openmetrics, parse_text, text_to_bytes};

#[test]
fn quantiles_are_written_before_count_and_sum_and_parse_back() {
    let family = Family::<Summary>::with_options(
        Metadata::new("latency", "Latency.").unit("seconds").label_names(["path"]),
        Some(Quantiles::new([0.5, 0.99])),
    )
    .unwrap();
    let series = family.labels(&["/a"]).unwrap();
    for ms in 1..=1000 {
        series.observe(f64::from(ms) / 1000.0);
    }
    let _idle = family.labels(&["/idle"]).unwrap();
    let snapshot = [family.collect(false).unwrap()];

    let text = String::from_utf8(text_to_bytes(&snapshot, Escaping::Underscores)).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[1], "# TYPE latency_seconds summary");
    let value = |line: &str, prefix: &str| -> f64 {
        assert!(line.starts_with(prefix), "{line}");
        line[prefix.len()..].parse().unwrap()
    };
    // Within 1% of the exact quantiles (ranks 499 and 989 of 0.001..=1.000).
    assert!((value(lines[2], "latency_seconds{path=\"/a\",quantile=\"0.5\"} ") - 0.5).abs() <= 0.005 + 1e-9);
    assert!((value(lines[3], "latency_seconds{path=\"/a\",quantile=\"0.99\"} ") - 0.99).abs() <= 0.0099 + 1e-9);
    assert_eq!(lines[4], "latency_seconds_count{path=\"/a\"} 1000.0");
    assert!(lines[6].ends_with("quantile=\"0.5\"} NaN"), "an empty window reports NaN: {text}");

    let om = String::from_utf8(openmetrics_to_bytes(&snapshot, Escaping::Underscores).unwrap()).unwrap();
    for parsed in [parse_text(&text).unwrap(), parse_openmetrics(&om).unwrap()] {
        let median = parsed[0]
            .samples
            .iter()
            .find(|s| s.all_labels().iter().any(|l| &*l.name == "quantile" && &*l.value == "0.5"))
            .unwrap()
            .value;
        assert!((median - 0.5).abs() <= 0.01 * 0.5 + 1e-9, "median {median}");
    }
}
