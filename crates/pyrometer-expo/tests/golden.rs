//! Byte-for-byte comparison with `prometheus_client`'s output.
//!
//! Each scenario here mirrors one in `tests/compat/golden_scenarios.py`, whose output with
//! `prometheus_client` is stored in `golden/`. The Python suite checks the stored files against
//! `prometheus_client`; this one checks pyrometer against the stored files.

use std::path::PathBuf;
use std::sync::Arc;

use pyrometer_core::{
    Buckets, CollectOptions, Collector, Counter, Exemplar, Family, Gauge, Histogram, Info, Label, LabelSet, Metadata,
    MetricFamily, MetricType, Registry, Sample, SampleName, StateSet, States, Summary, Timestamp,
};
use pyrometer_expo::{Escaping, encode_openmetrics, encode_text};

type Result = std::result::Result<(), Box<dyn std::error::Error>>;

fn counters(r: &Registry) -> Result {
    let c = Family::<Counter>::new(
        Metadata::new("http_requests_total", "Requests served.").label_names(["method", "code"]),
    )?;
    r.register(c.clone())?;
    c.labels(&["GET", "200"])?.inc();
    c.labels(&["GET", "200"])?.inc_by(2.0);
    c.labels_by_name(&[("method", "POST"), ("code", "500")])?.inc_by(0.25);
    let _ = c.labels(&["PUT", "201"])?;
    let plain = Family::<Counter>::new(Metadata::new("plain", "No labels."))?;
    r.register(plain.clone())?;
    plain.without_labels()?.inc_by(7.0);
    Ok(())
}

fn gauges_and_escapes(r: &Registry) -> Result {
    let g = Family::<Gauge>::new(
        Metadata::new("temperature", "Help with \\ backslash,\nnewline and \"quotes\".").label_names(["room", "note"]),
    )?;
    r.register(g.clone())?;
    g.labels(&["kitchen", "quote \" backslash \\ newline \n end"])?.set(21.5);
    g.labels(&["zürich", "ünïcödé ✓ 日本"])?.set(-3.0);
    g.labels(&["b", ""])?.dec(1.5);
    Ok(())
}

fn special_values(r: &Registry) -> Result {
    let g = Family::<Gauge>::new(Metadata::new("values", "Special values.").label_names(["case"]))?;
    r.register(g.clone())?;
    let cases = [
        ("nan", f64::NAN),
        ("inf", f64::INFINITY),
        ("neg_inf", f64::NEG_INFINITY),
        ("neg_zero", -0.0),
        ("tiny", 1e-05),
        ("million", 1e6),
        ("big", 123_456_789.0),
        ("huge", 1.5e16),
        ("neg_big", -1e6),
        ("frac", 0.1 + 0.2),
        ("int", 42.0),
        ("small", 5e-324),
    ];
    for (name, value) in cases {
        g.labels(&[name])?.set(value);
    }
    Ok(())
}

fn histograms(r: &Registry) -> Result {
    let h = Family::<Histogram>::new(Metadata::new("latency_seconds", "Latency.").label_names(["route"]))?;
    r.register(h.clone())?;
    for v in [0.001, 0.02, 0.3, 0.3, 4.0, 11.0, f64::NAN] {
        h.labels(&["/"])?.observe(v);
    }
    let _ = h.labels(&["/empty"])?;
    let custom = Family::<Histogram>::with_options(
        Metadata::new("sizes", "Sizes."),
        Buckets::new([1.0, 1000.0, 1e6, f64::INFINITY])?,
    )?;
    r.register(custom.clone())?;
    for v in [0.5, 999.0, 2e6] {
        custom.without_labels()?.observe(v);
    }
    let negative = Family::<Histogram>::with_options(
        Metadata::new("deltas", "Negative first bucket: no _sum."),
        Buckets::new([-1.0, 0.0, 1.0])?,
    )?;
    r.register(negative.clone())?;
    negative.without_labels()?.observe(-0.5);
    Ok(())
}

fn summaries_info_enum(r: &Registry) -> Result {
    let s = Family::<Summary>::new(Metadata::new("request_size_bytes", "Sizes.").label_names(["kind"]))?;
    r.register(s.clone())?;
    s.labels(&["a"])?.observe(10.0);
    s.labels(&["a"])?.observe(2.5);
    let build = Family::<Info>::new(Metadata::new("build", "Build information."))?;
    r.register(build.clone())?;
    build.without_labels()?.set([("version", "1.2.3"), ("commit", "abc")])?;
    let component = Family::<Info>::new(Metadata::new("component", "Per component.").label_names(["name"]))?;
    r.register(component.clone())?;
    component.labels(&["db"])?.set([("driver", "pg")])?;
    let states = States::new(["starting", "running", "stopped"]);
    let e = Family::<StateSet>::with_options(Metadata::new("task_state", "Task state.").label_names(["task"]), states)?;
    r.register(e.clone())?;
    e.labels(&["t1"])?.set_exclusive("running")?;
    let _ = e.labels(&["t2"])?;
    Ok(())
}

fn names_and_units(r: &Registry) -> Result {
    let jobs = Family::<Counter>::new(Metadata::new("jobs", "Jobs.").namespace("app").subsystem("worker"))?;
    r.register(jobs.clone())?;
    jobs.without_labels()?.inc();
    let memory = Family::<Gauge>::new(Metadata::new("memory", "Memory.").unit("bytes"))?;
    r.register(memory.clone())?;
    memory.without_labels()?.set(1024.0);
    let wait = Family::<Histogram>::with_options(Metadata::new("wait", "Wait.").unit("seconds"), Buckets::new([0.5])?)?;
    r.register(wait.clone())?;
    wait.without_labels()?.observe(0.1);
    let colon = Family::<Gauge>::new(Metadata::new("colon:name", "Colons are legacy-valid."))?;
    r.register(colon.clone())?;
    colon.without_labels()?.set(1.0);
    Ok(())
}

fn utf8_names(r: &Registry) -> Result {
    let c = Family::<Counter>::new(Metadata::new("my.requests", "UTF-8 name.").label_names(["route.path", "code"]))?;
    r.register(c.clone())?;
    c.labels(&["/a", "200"])?.inc();
    let g = Family::<Gauge>::new(Metadata::new("temp.célsius", "Accented."))?;
    r.register(g.clone())?;
    g.without_labels()?.set(3.0);
    let nine = Family::<Gauge>::new(Metadata::new("9lives", "Starts with a digit."))?;
    r.register(nine.clone())?;
    nine.without_labels()?.set(9.0);
    Ok(())
}

/// The custom collector of the Python scenario, producing snapshots directly.
#[derive(Debug)]
struct Custom;

fn family(name: &str, help: &str, t: MetricType, samples: Vec<Sample>) -> MetricFamily {
    let mut f = MetricFamily::new(name, help, t, "").expect("valid family");
    f.samples = samples;
    f
}

fn sample(suffix: &'static str, labels: &[(&str, &str)], value: f64) -> Sample {
    Sample::new(suffix, LabelSet::new(labels.iter().copied()), value)
}

fn with_extra(mut s: Sample, name: &str, value: &str) -> Sample {
    s.extra_label = Some(Label::new(name, value));
    s
}

impl Collector for Custom {
    fn collect(
        &self,
        _: &CollectOptions,
        out: &mut Vec<MetricFamily>,
    ) -> std::result::Result<(), pyrometer_core::Error> {
        let mut ops1 = sample("_total", &[("shard", "1")], 5.0);
        ops1.timestamp = Some(Timestamp::Seconds(1_700_000_000.5));
        let mut created1 = sample("_created", &[("shard", "1")], 1_600_000_000.25);
        created1.timestamp = Some(Timestamp::Seconds(1_700_000_000.5));
        let mut ops2 = sample("_total", &[("shard", "2")], 6.0);
        let ex = Exemplar::new(LabelSet::new([("trace_id", "abc")]), 1.0, Some(Timestamp::Seconds(1_700_000_000.123)));
        ops2.exemplar = Some(Arc::new(ex.expect("valid exemplar")));
        out.push(family("ops", "Ops.", MetricType::Counter, vec![ops1, created1, ops2]));

        let mut exact = sample("", &[("k", "exact")], 1.0);
        exact.timestamp = Some(Timestamp::Exact { sec: 1_700_000_000, nsec: 5 });
        let mut float = sample("", &[("k", "float")], 2.0);
        float.timestamp = Some(Timestamp::Seconds(1234.5678));
        out.push(family("ts_gauge", "Timestamps.", MetricType::Gauge, vec![exact, float]));

        let mut b1 = with_extra(sample("_bucket", &[("a", "x")], 1.0), "le", "0.5");
        b1.exemplar = Some(Arc::new(Exemplar::new(LabelSet::new([("trace_id", "t")]), 0.3, None).expect("valid")));
        let hist = vec![
            b1,
            with_extra(sample("_bucket", &[("a", "x")], 3.0), "le", "+Inf"),
            sample("_count", &[("a", "x")], 3.0),
            sample("_sum", &[("a", "x")], 4.5),
        ];
        out.push(family("custom_hist", "Custom.", MetricType::Histogram, hist));

        let queue = vec![
            with_extra(sample("_bucket", &[], 2.0), "le", "1.0"),
            with_extra(sample("_bucket", &[], 5.0), "le", "+Inf"),
            sample("_gcount", &[], 5.0),
            sample("_gsum", &[], 7.0),
        ];
        out.push(family("queue", "Gauge histogram.", MetricType::GaugeHistogram, queue));
        let summary = vec![sample("_count", &[], 3.0), sample("_sum", &[], 1.5)];
        out.push(family("custom_summary", "Custom summary.", MetricType::Summary, summary));
        let states =
            vec![with_extra(sample("", &[], 0.0), "feature", "off"), with_extra(sample("", &[], 1.0), "feature", "on")];
        out.push(family("feature", "Features.", MetricType::StateSet, states));
        out.push(family("custom", "Custom info.", MetricType::Info, vec![sample("_info", &[("k", "v")], 1.0)]));
        out.push(family("mystery", "Unknown.", MetricType::Unknown, vec![sample("", &[], 3.0)]));
        let mut made_created = sample("", &[], 1_700_000_000.0);
        made_created.name = SampleName::Full("made_created".into());
        let made = vec![sample("_total", &[], 1.0), made_created];
        out.push(family("made", "Created samples.", MetricType::Counter, made));
        Ok(())
    }
}

fn custom_collectors(r: &Registry) -> Result {
    r.register(Custom)?;
    Ok(())
}

fn target_info(r: &Registry) -> Result {
    r.set_target_info(Some(LabelSet::new([("service", "api"), ("env", "prod")])))?;
    let up = Family::<Gauge>::new(Metadata::new("up_gauge", "Up."))?;
    r.register(up.clone())?;
    up.without_labels()?.set(1.0);
    Ok(())
}

type Scenario = fn(&Registry) -> Result;

const SCENARIOS: &[(&str, Scenario)] = &[
    ("counters", counters),
    ("gauges_and_escapes", gauges_and_escapes),
    ("special_values", special_values),
    ("histograms", histograms),
    ("summaries_info_enum", summaries_info_enum),
    ("names_and_units", names_and_units),
    ("utf8_names", utf8_names),
    ("custom_collectors", custom_collectors),
    ("target_info", target_info),
];

const ESCAPINGS: [Escaping; 4] = [Escaping::AllowUtf8, Escaping::Underscores, Escaping::Dots, Escaping::Values];

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests").join("golden")
}

#[test]
fn every_scenario_encodes_byte_identical_to_prometheus_client() -> Result {
    let mut compared = 0;
    for (name, build) in SCENARIOS {
        let registry = Registry::new();
        registry.set_created_enabled(false);
        build(&registry)?;
        let families = registry.collect().expect("collects");
        for escaping in ESCAPINGS {
            let stem = format!("{name}.{}", escaping.as_str());
            let text_path = golden_dir().join(format!("{stem}.txt"));
            let Ok(want_text) = std::fs::read_to_string(&text_path) else { continue };
            let mut text = String::new();
            encode_text(&mut text, &families, escaping);
            assert_eq!(text, want_text, "text output of {stem}");
            let want_om = std::fs::read_to_string(golden_dir().join(format!("{stem}.om")))?;
            let mut om = String::new();
            encode_openmetrics(&mut om, &families, escaping)?;
            assert_eq!(om, want_om, "OpenMetrics output of {stem}");
            compared += 2;
        }
    }
    assert_eq!(compared, 30, "every golden file was compared");
    Ok(())
}

#[test]
fn our_parsers_read_every_golden_file_that_prometheus_client_reads() -> Result {
    let mut read = 0;
    for entry in std::fs::read_dir(golden_dir())? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
        let input = std::fs::read_to_string(&path)?;
        if path.extension().is_some_and(|e| e == "om") {
            let parsed = pyrometer_expo::parse_openmetrics(&input);
            // As upstream's parser does, ours refuses the NaN sum of a histogram.
            if name.starts_with("histograms.") {
                assert!(parsed.is_err(), "{name} has a NaN histogram sum");
            } else {
                assert!(!parsed?.is_empty(), "{name}");
            }
        } else {
            assert!(!pyrometer_expo::parse_text(&input)?.is_empty(), "{name}");
        }
        read += 1;
    }
    assert_eq!(read, 30);
    Ok(())
}
