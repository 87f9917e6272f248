//! The Prometheus text format 0.0.4, byte for byte as `prometheus_client.generate_latest` writes it.

use std::borrow::Cow;

use pyrometer_core::float_text::write_go_float;
use pyrometer_core::name::is_legacy_metric_name;
use pyrometer_core::{MetricFamily, MetricType, Sample, SampleName};

use super::escaping::{Escaping, write_help_escapes, write_metric_name};
use super::label_list::{has_labels, write_braced_labels, write_label_list};

/// Samples that OpenMetrics has and this format lacks; they move to gauges of their own after
/// the family, in this (sorted) order.
const MOVED_SUFFIXES: [&str; 3] = ["_created", "_gcount", "_gsum"];

/// Appends the families in the Prometheus text format 0.0.4 (native histogram samples left out).
///
/// ```
/// use pyrometer_core::{Counter, Family, Metadata};
/// use pyrometer_expo::{Escaping, encode_text};
/// let c = Family::<Counter>::new(Metadata::new("jobs", "Jobs run."))?;
/// c.without_labels()?.inc();
/// let mut out = String::new();
/// encode_text(&mut out, &[c.collect(false)?], Escaping::Underscores);
/// assert_eq!(out, "# HELP jobs_total Jobs run.\n# TYPE jobs_total counter\njobs_total 1.0\n");
/// # Ok::<(), pyrometer_core::Error>(())
/// ```
pub fn encode_text(out: &mut String, families: &[MetricFamily], escaping: Escaping) {
    for family in families {
        encode_family(out, family, escaping);
    }
}

/// The families in the Prometheus text format 0.0.4, as bytes.
#[must_use]
pub fn text_to_bytes(families: &[MetricFamily], escaping: Escaping) -> Vec<u8> {
    let mut out = String::with_capacity(families.iter().map(|f| 64 + f.samples.len() * 96).sum());
    encode_text(&mut out, families, escaping);
    out.into_bytes()
}

fn encode_family(out: &mut String, family: &MetricFamily, escaping: Escaping) {
    let (suffix, type_name) = match family.metric_type {
        MetricType::Counter => ("_total", "counter"),
        MetricType::Info => ("_info", "gauge"),
        MetricType::StateSet => ("", "gauge"),
        MetricType::GaugeHistogram => ("", "histogram"),
        MetricType::Unknown => ("", "untyped"),
        other => ("", other.as_str()),
    };
    let header_name: Cow<'_, str> =
        if suffix.is_empty() { Cow::Borrowed(&family.name) } else { Cow::Owned(format!("{}{suffix}", family.name)) };
    write_header(out, &header_name, &family.help, type_name, escaping);

    // Suffixes keep a legacy name legacy, so such a family's sample names need no escaping.
    let plain = is_legacy_metric_name(&family.name) && escaping != Escaping::Dots;
    let mut moved: [Vec<&Sample>; 3] = Default::default();
    // The text format has no native histogram samples; a native histogram shows its classic
    // buckets, if it keeps any, and its count and sum.
    for sample in family.samples.iter().filter(|s| s.native.is_none()) {
        let slot = sample.name.suffix_after(&family.name).and_then(|s| MOVED_SUFFIXES.iter().position(|m| *m == s));
        match slot {
            Some(i) => moved[i].push(sample),
            None => write_sample(out, family, sample, escaping, plain),
        }
    }
    for (suffix, samples) in MOVED_SUFFIXES.iter().zip(&moved) {
        if samples.is_empty() {
            continue;
        }
        write_header(out, &format!("{}{suffix}", family.name), &family.help, "gauge", escaping);
        for sample in samples {
            write_sample(out, family, sample, escaping, plain);
        }
    }
}

fn write_header(out: &mut String, name: &str, help: &str, type_name: &str, escaping: Escaping) {
    out.push_str("# HELP ");
    write_metric_name(out, name, escaping);
    out.push(' ');
    write_help_escapes(out, help);
    out.push_str("\n# TYPE ");
    write_metric_name(out, name, escaping);
    out.push(' ');
    out.push_str(type_name);
    out.push('\n');
}

fn write_sample(out: &mut String, family: &MetricFamily, sample: &Sample, escaping: Escaping, plain: bool) {
    if let (true, SampleName::Suffix(suffix)) = (plain, &sample.name) {
        out.push_str(&family.name);
        out.push_str(suffix);
        write_braced_labels(out, sample, escaping);
        return write_value(out, sample);
    }
    let name = full_name(family, sample);
    if escaping != Escaping::AllowUtf8 || is_legacy_metric_name(&name) {
        write_metric_name(out, &name, escaping);
        write_braced_labels(out, sample, escaping);
    } else {
        // A UTF-8 name goes inside the braces, quoted, as the first item.
        out.push('{');
        write_metric_name(out, &name, escaping);
        if has_labels(sample) {
            out.push(',');
            write_label_list(out, sample, escaping);
        }
        out.push('}');
    }
    write_value(out, sample);
}

fn write_value(out: &mut String, sample: &Sample) {
    out.push(' ');
    write_go_float(out, sample.value);
    if let Some(ts) = sample.timestamp {
        // Milliseconds, truncated toward zero as Python's int() does.
        let millis = (ts.as_seconds() * 1000.0).trunc() + 0.0;
        if millis.is_finite() {
            use std::fmt::Write;
            let _ = write!(out, " {millis:.0}");
        }
    }
    out.push('\n');
}

pub(crate) fn full_name<'a>(family: &'a MetricFamily, sample: &'a Sample) -> Cow<'a, str> {
    match &sample.name {
        SampleName::Suffix("") => Cow::Borrowed(&family.name),
        SampleName::Suffix(s) => Cow::Owned(format!("{}{s}", family.name)),
        SampleName::Full(full) => Cow::Borrowed(full),
    }
}
