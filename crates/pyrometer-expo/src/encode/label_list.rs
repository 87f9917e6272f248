//! The `name="value",...` list both text formats write inside braces.

use pyrometer_core::Sample;

use super::escaping::{Escaping, write_label_name, write_quoted_escapes};

/// Appends the sample's labels in name order, comma-separated, without braces. Returns whether
/// anything was written.
pub(crate) fn write_label_list(out: &mut String, sample: &Sample, escaping: Escaping) -> bool {
    let mut first = true;
    let _ = sample.for_each_label::<()>(|label| {
        if !first {
            out.push(',');
        }
        first = false;
        write_label_name(out, &label.name, escaping);
        out.push_str("=\"");
        write_quoted_escapes(out, &label.value);
        out.push('"');
        Ok(())
    });
    !first
}

/// Appends `{labels}` when the sample has any label.
pub(crate) fn write_braced_labels(out: &mut String, sample: &Sample, escaping: Escaping) {
    if has_labels(sample) {
        out.push('{');
        write_label_list(out, sample, escaping);
        out.push('}');
    }
}

/// Whether the sample has any label, the extra one included.
pub(crate) fn has_labels(sample: &Sample) -> bool {
    !sample.labels.is_empty() || sample.extra_label.is_some()
}
