//! Metric and label name rules.
//!
//! Names follow `prometheus_client`'s default (UTF-8) validation: any non-empty metric name is
//! accepted, and the text formats escape what the legacy character set lacks. Label names must be
//! non-empty and must not start with `__`, which Prometheus reserves. A process may switch to
//! legacy validation ([`set_name_validation`]), which accepts only the classic character sets,
//! as `prometheus_client`'s `enable_legacy_validation()` and `client_golang`'s
//! `model.NameValidationScheme` do.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::Error;

/// Which names are valid: the scheme in force for the whole process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameValidation {
    /// Any UTF-8 metric name and label name (the default).
    Utf8,
    /// Only `[a-zA-Z_:][a-zA-Z0-9_:]*` metric names and `[a-zA-Z_][a-zA-Z0-9_]*` label names.
    Legacy,
}

static LEGACY: AtomicBool = AtomicBool::new(false);

/// Sets the scheme names are checked by from now on: when metrics are built, and when
/// exemplars and collected families are checked. Names accepted before stay.
pub fn set_name_validation(scheme: NameValidation) {
    // Relaxed: a setting read when names are checked; it publishes nothing else.
    LEGACY.store(scheme == NameValidation::Legacy, Ordering::Relaxed);
}

/// The scheme in force.
#[must_use]
pub fn name_validation() -> NameValidation {
    if LEGACY.load(Ordering::Relaxed) { NameValidation::Legacy } else { NameValidation::Utf8 }
}

/// Checks a metric name under the scheme in force.
pub fn validate_metric_name(name: &str) -> Result<(), Error> {
    check_metric_name(name, name_validation())
}

/// Checks a label name under the scheme in force.
pub fn validate_label_name(name: &str) -> Result<(), Error> {
    check_label_name(name, name_validation())
}

fn check_metric_name(name: &str, scheme: NameValidation) -> Result<(), Error> {
    if name.is_empty() {
        return Err(Error::EmptyMetricName);
    }
    if scheme == NameValidation::Legacy && !is_legacy_metric_name(name) {
        return Err(Error::InvalidMetricName { name: name.to_owned() });
    }
    Ok(())
}

fn check_label_name(name: &str, scheme: NameValidation) -> Result<(), Error> {
    if name.is_empty() || (scheme == NameValidation::Legacy && !is_legacy_label_name(name)) {
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
    fn legacy_validation_refuses_what_utf8_validation_accepts() {
        // The schemes are checked directly: switching the process-wide one would race the
        // other tests of this binary.
        use NameValidation::{Legacy, Utf8};
        assert!(check_metric_name("my.metric", Utf8).is_ok());
        assert!(check_label_name("smile:o)", Utf8).is_ok());
        assert_eq!(check_metric_name("my.metric", Legacy), Err(Error::InvalidMetricName { name: "my.metric".into() }));
        assert_eq!(check_label_name("smile:o)", Legacy), Err(Error::InvalidLabelName { name: "smile:o)".into() }));
        assert_eq!(check_metric_name("my:metric", Legacy), Ok(()));
        assert_eq!(check_label_name("my_label", Legacy), Ok(()));
        assert_eq!(check_label_name("__reserved", Legacy), Err(Error::ReservedLabelName { name: "__reserved".into() }));
    }

    #[test]
    fn empty_label_name_is_refused() {
        assert!(matches!(validate_label_name(""), Err(Error::InvalidLabelName { .. })));
    }
}
