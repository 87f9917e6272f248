//! OpenMetrics 1.0 text, byte for byte as `prometheus_client.openmetrics.exposition.generate_latest`
//! writes it.

use std::fmt::Write;

use pyrometer_core::float_text::{write_go_float, write_python_repr};
use pyrometer_core::name::{is_legacy_label_name, is_legacy_metric_name};
use pyrometer_core::{Exemplar, MetricFamily, MetricType, Sample, SampleName, Timestamp};

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
    for family in families {
        encode_family(out, family, escaping)?;
    }
    out.push_str("# EOF\n");
    Ok(())
}

/// The families as OpenMetrics 1.0 text, as bytes.
pub fn openmetrics_to_bytes(families: &[MetricFamily], escaping: Escaping) -> Result<Vec<u8>, Error> {
    let mut out = String::with_capacity(families.iter().map(|f| 64 + f.samples.len() * 96).sum());
    encode_openmetrics(&mut out, families, escaping)?;
    Ok(out.into_bytes())
}

fn encode_family(out: &mut String, family: &MetricFamily, escaping: Escaping) -> Result<(), Error> {
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
    write_go_float(out, sample.value);
    if let Some(ts) = sample.timestamp {
        out.push(' ');
        write_timestamp(out, ts);
    }
    if let Some(exemplar) = &sample.exemplar {
        check_exemplar_allowed(family, sample)?;
        write_exemplar(out, exemplar);
    }
    out.push('\n');
    Ok(())
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
