//! Metric and label name rules.
//!
//! Names follow `prometheus_client`'s default (UTF-8) validation: any non-empty metric name is
//! accepted, and the text formats escape what the legacy character set lacks. Label names must be
//! non-empty and must not start with `__`, which Prometheus reserves.

use crate::error::Error;

/// Checks a metric name.
pub fn validate_metric_name(name: &str) -> Result<(), Error> {
    if name.is_empty() { Err(Error::EmptyMetricName) } else { Ok(()) }
}

/// Checks a label name.
pub fn validate_label_name(name: &str) -> Result<(), Error> {
    if name.is_empty() {
        return Err(Error::InvalidLabelName { name: name.to_owned() });
    }
    if name.starts_with("__") {
        return Err(Error::ReservedLabelName { name: name.to_owned() });
    }
    Ok(())
}

/// Whether `name` matches the legacy metric name pattern `[a-zA-Z_:][a-zA-Z0-9_:]*`.
#[must_use]
pub fn is_legacy_metric_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_alphabetic() || b == b'_' || b == b':')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':')
}

/// Whether `name` matches the legacy label name pattern `[a-zA-Z_][a-zA-Z0-9_]*`.
#[must_use]
pub fn is_legacy_label_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_metric_names_are_accepted_and_empty_ones_rejected() {
        assert!(validate_metric_name("my.metric").is_ok());
        assert_eq!(validate_metric_name(""), Err(Error::EmptyMetricName));
    }

    #[test]
    fn label_names_starting_with_two_underscores_are_reserved() {
        assert!(matches!(validate_label_name("__name__"), Err(Error::ReservedLabelName { .. })));
        assert!(validate_label_name("_ok").is_ok());
    }

    #[test]
    fn legacy_patterns() {
        assert!(is_legacy_metric_name("a:b_c1"));
        assert!(!is_legacy_metric_name("1abc"));
        assert!(!is_legacy_metric_name("a.b"));
        assert!(!is_legacy_metric_name(""));
        assert!(is_legacy_label_name("_a1"));
        assert!(!is_legacy_label_name("a:b"));
    }

    #[test]
    fn empty_label_name_is_refused() {
        assert!(matches!(validate_label_name(""), Err(Error::InvalidLabelName { .. })));
    }
}
