//! OpenMetrics text, 1.0 and 2.0, byte for byte as
//! `prometheus_client.openmetrics.exposition.generate_latest` writes it.
//!
//! The two versions differ in native histogram samples only: 2.0 writes them as
//! `name{labels} {count:24,sum:100.0,schema:0,zero_threshold:0.001,zero_count:4,...}`, 1.0
//! leaves them out (a native histogram's classic buckets, if it has any, are written by both).

use std::fmt::Write;

use pyrometer_core::float_text::{write_go_float, write_python_repr};
use pyrometer_core::name::{is_legacy_label_name, is_legacy_metric_name};
use pyrometer_core::{
    BucketSpan, Exemplar, MetricFamily, MetricType, NativeHistogramValue, Sample, SampleName, Timestamp,
};

use super::escaping::{Escaping, Runes, write_escaped, write_metric_name, write_quoted_escapes};
use super::label_list::{has_labels, write_braced_labels, write_label_list};
use super::text::full_name;
use crate::error::Error;

/// Appends the families as OpenMetrics 1.0 text, `# EOF` included.
///
/// Fails when an exemplar sits on a sample that cannot carry one (anything but a counter's
/// `_total` or a histogram bucket); `out` then holds a partial exposition.
///
/// ```
/// use pyrometer_core::{Counter, Family, Metadata};
/// use pyrometer_expo::{Escaping, encode_openmetrics};
/// let c = Family::<Counter>::new(Metadata::new("jobs", "Jobs run."))?;
/// c.without_labels()?.inc();
/// let mut out = String::new();
/// encode_openmetrics(&mut out, &[c.collect(false).unwrap()], Escaping::Underscores).unwrap();
/// assert_eq!(out, "# HELP jobs Jobs run.\n# TYPE jobs counter\njobs_total 1.0\n# EOF\n");
/// # Ok::<(), pyrometer_core::Error>(())
/// ```
pub fn encode_openmetrics(out: &mut String, families: &[MetricFamily], escaping: Escaping) -> Result<(), Error> {
    encode_openmetrics_version(out, families, escaping, OpenMetricsVersion::V1)
}

/// Appends the families as OpenMetrics text of `version`, `# EOF` included.
pub fn encode_openmetrics_version(
    out: &mut String,
    families: &[MetricFamily],
    escaping: Escaping,
    version: OpenMetricsVersion,
) -> Result<(), Error> {
    for family in families {
        encode_family(out, family, escaping, version)?;
    }
    out.push_str("# EOF\n");
    Ok(())
}

/// The families as OpenMetrics 1.0 text, as bytes.
pub fn openmetrics_to_bytes(families: &[MetricFamily], escaping: Escaping) -> Result<Vec<u8>, Error> {
    openmetrics_version_to_bytes(families, escaping, OpenMetricsVersion::V1)
}

/// The families as OpenMetrics text of `version`, as bytes.
pub fn openmetrics_version_to_bytes(
    families: &[MetricFamily],
    escaping: Escaping,
    version: OpenMetricsVersion,
) -> Result<Vec<u8>, Error> {
    let mut out = String::with_capacity(families.iter().map(|f| 64 + f.samples.len() * 96).sum());
    encode_openmetrics_version(&mut out, families, escaping, version)?;
    Ok(out.into_bytes())
}

/// The OpenMetrics text version to write.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum OpenMetricsVersion {
    /// OpenMetrics 1.0: native histogram samples are left out.
    #[default]
    V1,
    /// OpenMetrics 2.0: native histogram samples are written.
    V2,
}

impl OpenMetricsVersion {
    /// The version a negotiated `version=` parameter asks for: 2.0 from `2.0.0` on, comparing
    /// numeric parts as `prometheus_client`'s `parse_version` does; 1.0 otherwise.
    #[must_use]
    pub fn from_version(version: &str) -> Self {
        let major = version.split('.').next().and_then(|m| m.trim().parse::<u64>().ok());
        if major.is_some_and(|m| m >= 2) { Self::V2 } else { Self::V1 }
    }
}

fn encode_family(
    out: &mut String,
    family: &MetricFamily,
    escaping: Escaping,
    version: OpenMetricsVersion,
) -> Result<(), Error> {
    out.push_str("# HELP ");
    write_metric_name(out, &family.name, escaping);
    out.push(' ');
    write_quoted_escapes(out, &family.help);
    out.push_str("\n# TYPE ");
    write_metric_name(out, &family.name, escaping);
    out.push(' ');
    out.push_str(family.metric_type.as_str());
    out.push('\n');
    if !family.unit.is_empty() {
        out.push_str("# UNIT ");
        write_metric_name(out, &family.name, escaping);
        out.push(' ');
        out.push_str(&family.unit);
        out.push('\n');
    }
    // Sample names are escaped with label-name rules (so `:` is rewritten too), as upstream does;
    // a name made only of label-name characters comes through unchanged.
    let plain = match escaping {
        Escaping::Underscores => is_legacy_label_name(&family.name),
        Escaping::AllowUtf8 => is_legacy_metric_name(&family.name),
        Escaping::Dots | Escaping::Values => false,
    };
    for sample in &family.samples {
        if sample.native.is_some() && version == OpenMetricsVersion::V1 {
            continue;
        }
        write_sample(out, family, sample, escaping, plain)?;
    }
    Ok(())
}

fn write_sample(
    out: &mut String,
    family: &MetricFamily,
    sample: &Sample,
    escaping: Escaping,
    plain: bool,
) -> Result<(), Error> {
    if let (true, SampleName::Suffix(suffix)) = (plain, &sample.name) {
        out.push_str(&family.name);
        out.push_str(suffix);
        write_braced_labels(out, sample, escaping);
    } else {
        let name = full_name(family, sample);
        let quoted = escaping == Escaping::AllowUtf8 && !is_legacy_metric_name(&name);
        if !quoted {
            write_escaped(out, &name, escaping, Runes::Label);
        }
        if quoted || has_labels(sample) {
            out.push('{');
            if quoted {
                write_metric_name(out, &name, escaping);
                if has_labels(sample) {
                    out.push(',');
                }
            }
            write_label_list(out, sample, escaping);
            out.push('}');
        }
    }
    out.push(' ');
    match &sample.native {
        Some(native) => write_native_value(out, native),
        None => write_go_float(out, sample.value),
    }
    if let Some(ts) = sample.timestamp {
        out.push(' ');
        write_timestamp(out, ts);
    }
    if let Some(exemplar) = &sample.exemplar {
        check_exemplar_allowed(family, sample)?;
        write_exemplar(out, exemplar);
    }
    if let Some(native) = &sample.native {
        for exemplar in &native.exemplars {
            check_exemplar_allowed(family, sample)?;
            write_exemplar(out, exemplar);
        }
    }
    out.push('\n');
    Ok(())
}

/// `{count:..,sum:..,schema:..,zero_threshold:..,zero_count:..}` with the negative and then the
/// positive spans and deltas where there are spans, each number as Python's `str()` writes it.
fn write_native_value(out: &mut String, native: &NativeHistogramValue) {
    out.push_str("{count:");
    native.count.write_python(out);
    out.push_str(",sum:");
    native.sum.write_python(out);
    let _ = write!(out, ",schema:{}", native.schema);
    out.push_str(",zero_threshold:");
    native.zero_threshold.write_python(out);
    out.push_str(",zero_count:");
    native.zero_count.write_python(out);
    for (side, spans, deltas) in [
        ("negative", &native.negative_spans, &native.negative_deltas),
        ("positive", &native.positive_spans, &native.positive_deltas),
    ] {
        if spans.is_empty() {
            continue;
        }
        let _ = write!(out, ",{side}_spans:[");
        write_joined(out, spans, |out, span: &BucketSpan| {
            let _ = write!(out, "{}:{}", span.offset, span.length);
        });
        let _ = write!(out, "],{side}_deltas:[");
        write_joined(out, deltas, |out, delta: &i64| {
            let _ = write!(out, "{delta}");
        });
        out.push(']');
    }
    out.push('}');
}

fn write_joined<T>(out: &mut String, items: &[T], mut write: impl FnMut(&mut String, &T)) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write(out, item);
    }
}

fn check_exemplar_allowed(family: &MetricFamily, sample: &Sample) -> Result<(), Error> {
    let suffix = sample.name.suffix_after(&family.name);
    let ends = |s: &str| match &sample.name {
        SampleName::Suffix(x) => x.ends_with(s) || (x.is_empty() && family.name.ends_with(s)),
        SampleName::Full(full) => full.ends_with(s),
    };
    let allowed = match family.metric_type {
        MetricType::Counter => ends("_total"),
        MetricType::GaugeHistogram => ends("_bucket"),
        MetricType::Histogram => ends("_bucket") || suffix == Some(""),
        _ => false,
    };
    if allowed { Ok(()) } else { Err(Error::MisplacedExemplar { family: family.name.to_string() }) }
}

fn write_exemplar(out: &mut String, exemplar: &Exemplar) {
    out.push_str(" # {");
    for (i, label) in exemplar.labels.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        // Exemplar label names are written as given, unescaped, as upstream does.
        out.push_str(&label.name);
        out.push_str("=\"");
        write_quoted_escapes(out, &label.value);
        out.push('"');
    }
    out.push_str("} ");
    write_go_float(out, exemplar.value);
    if let Some(ts) = exemplar.timestamp {
        out.push(' ');
        write_timestamp(out, ts);
    }
}

/// A timestamp as Python's `str()` gives it: `repr` of a float, `sec.nnnnnnnnn` of an exact one.
fn write_timestamp(out: &mut String, ts: Timestamp) {
    match ts {
        Timestamp::Seconds(s) => write_python_repr(out, s),
        Timestamp::Exact { sec, nsec } => {
            let _ = write!(out, "{sec}.{nsec:09}");
        }
    }
}
