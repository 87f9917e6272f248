//! Graphite's plaintext protocol, as `prometheus_client`'s `GraphiteBridge` writes it: one
//! `path value timestamp` line per sample, where the path is the sample name followed by its
//! labels in name order, `.name.value` each (or `;name=value` tags), every part sanitised to
//! what Graphite keeps as a file name.

use pyrometer_core::MetricFamily;
use pyrometer_core::float_text::write_python_repr;

/// How labels join the metric path.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum GraphiteLabels {
    /// `name.label.value`: each label becomes two path components.
    #[default]
    Path,
    /// `name;label=value`: Graphite 1.1 tags.
    Tags,
}

/// Appends the families' samples as Graphite plaintext lines stamped with `timestamp` (Unix
/// seconds). A non-empty `prefix` is prepended with a dot; it is not sanitised, so it may hold
/// dots of its own.
///
/// ```
/// use pyrometer_core::{Counter, Family, Metadata};
/// use pyrometer_expo::{GraphiteLabels, encode_graphite};
/// let c = Family::<Counter>::new(Metadata::new("jobs", "Jobs.").label_names(["queue"]))?;
/// c.labels(&["mail/out"])?.inc();
/// let mut out = String::new();
/// encode_graphite(&mut out, &[c.collect(false)?], "app", GraphiteLabels::Path, 1_700_000_000);
/// assert_eq!(out, "app.jobs_total.queue.mail_out 1.0 1700000000\n");
/// # Ok::<(), pyrometer_core::Error>(())
/// ```
pub fn encode_graphite(
    out: &mut String,
    families: &[MetricFamily],
    prefix: &str,
    labels: GraphiteLabels,
    timestamp: i64,
) {
    let (separator, joiner) = match labels {
        GraphiteLabels::Path => ('.', '.'),
        GraphiteLabels::Tags => (';', '='),
    };
    for family in families {
        for sample in family.samples.iter().filter(|s| s.native.is_none()) {
            if !prefix.is_empty() {
                out.push_str(prefix);
                out.push('.');
            }
            write_sanitised(out, &sample.name.full(&family.name));
            let _ = sample.for_each_label::<()>(|label| {
                out.push(separator);
                write_sanitised(out, &label.name);
                out.push(joiner);
                write_sanitised(out, &label.value);
                Ok(())
            });
            out.push(' ');
            write_python_repr(out, sample.value);
            out.push(' ');
            out.push_str(&timestamp.to_string());
            out.push('\n');
        }
    }
}

/// Keeps ASCII letters, digits, `_` and `-`; every other character becomes one `_`.
fn write_sanitised(out: &mut String, s: &str) {
    out.extend(s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '_' }));
}

#[cfg(test)]
mod tests {
    use super::*;
    use pyrometer_core::{Buckets, Family, Gauge, Histogram, Metadata};

    #[test]
    fn labels_follow_the_name_in_order_as_path_or_tags() {
        let g = Family::<Gauge>::new(Metadata::new("temp", "T.").label_names(["zone", "b.ad"])).unwrap();
        g.labels(&["eu-1", "ü x"]).unwrap().set(-0.5);
        let families = [g.collect(false).unwrap()];
        let mut path = String::new();
        encode_graphite(&mut path, &families, "", GraphiteLabels::Path, 7);
        assert_eq!(path, "temp.b_ad.__x.zone.eu-1 -0.5 7\n");
        let mut tags = String::new();
        encode_graphite(&mut tags, &families, "a.b", GraphiteLabels::Tags, 7);
        assert_eq!(tags, "a.b.temp;b_ad=__x;zone=eu-1 -0.5 7\n");
    }

    #[test]
    fn histogram_buckets_carry_le_among_the_labels() {
        let h =
            Family::<Histogram>::with_options(Metadata::new("lat", "L."), Buckets::new(vec![0.5]).unwrap()).unwrap();
        h.without_labels().unwrap().observe(0.25);
        let mut out = String::new();
        encode_graphite(&mut out, &[h.collect(false).unwrap()], "", GraphiteLabels::Path, 1);
        assert_eq!(out, "lat_bucket.le.0_5 1.0 1\nlat_bucket.le._Inf 1.0 1\nlat_count 1.0 1\nlat_sum 0.25 1\n");
    }
}
