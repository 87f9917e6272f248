//! Exemplars: a labelled example observation attached to a counter or a histogram bucket.

use super::labels::LabelSet;
use super::timestamp::Timestamp;
use crate::error::Error;

/// Longest label set an exemplar may carry, in characters of names and values (`OpenMetrics` 1.0).
pub const EXEMPLAR_MAX_LABEL_CHARS: usize = 128;

/// An exemplar: labels that identify an example event (a trace id, say), its value and time.
#[derive(Clone, Debug, PartialEq)]
pub struct Exemplar {
    /// The exemplar's labels.
    pub labels: LabelSet,
    /// The observed value.
    pub value: f64,
    /// When it was observed.
    pub timestamp: Option<Timestamp>,
}

impl Exemplar {
    /// Builds an exemplar, enforcing the `OpenMetrics` limit on its label set.
    pub fn new(labels: LabelSet, value: f64, timestamp: Option<Timestamp>) -> Result<Self, Error> {
        for label in &labels {
            crate::name::validate_label_name(&label.name)?;
        }
        let chars = labels.char_count();
        if chars > EXEMPLAR_MAX_LABEL_CHARS {
            return Err(Error::ExemplarTooLong { chars });
        }
        Ok(Self { labels, value, timestamp })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exemplar_accepts_exactly_128_characters() {
        let labels = LabelSet::new([("t", "x".repeat(127))]);
        assert!(Exemplar::new(labels, 1.0, None).is_ok());
    }

    #[test]
    fn exemplar_rejects_129_characters() {
        let labels = LabelSet::new([("t", "x".repeat(128))]);
        let err = Exemplar::new(labels, 1.0, None).unwrap_err();
        assert!(matches!(err, Error::ExemplarTooLong { chars: 129 }));
    }
}
