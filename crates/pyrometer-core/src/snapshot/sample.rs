//! One sample: a name, labels, a value, and optionally a timestamp and an exemplar.

use std::sync::Arc;

use super::exemplar::Exemplar;
use super::labels::{Label, LabelSet};
use super::native_histogram::NativeHistogramValue;
use super::timestamp::Timestamp;

/// The name of a sample, relative to its family where possible.
///
/// Samples that native metrics produce are the family name plus a fixed suffix, so they carry
/// only the suffix; samples read by a parser or built by a custom collector carry a full name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SampleName {
    /// The family name followed by this suffix (`""`, `"_total"`, `"_bucket"`, ...).
    Suffix(&'static str),
    /// A full sample name.
    Full(Arc<str>),
}

impl SampleName {
    /// The suffix after `family`, or `None` when this name does not start with it.
    #[must_use]
    pub fn suffix_after<'a>(&'a self, family: &str) -> Option<&'a str> {
        match self {
            Self::Suffix(s) => Some(s),
            Self::Full(full) => full.strip_prefix(family),
        }
    }

    /// Whether this is exactly `family` followed by `suffix`.
    #[must_use]
    pub fn is(&self, family: &str, suffix: &str) -> bool {
        self.suffix_after(family) == Some(suffix)
    }

    /// The full name, given the family's name.
    #[must_use]
    pub fn full(&self, family: &str) -> String {
        match self {
            Self::Suffix(s) => format!("{family}{s}"),
            Self::Full(full) => full.to_string(),
        }
    }
}

/// A sample of a metric family.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// The sample's name.
    pub name: SampleName,
    /// The series' labels.
    pub labels: LabelSet,
    /// One more label of this sample alone (`le`, `quantile`, a state set's state), merged into
    /// name order when printed. It spares building a label set for every bucket of every scrape;
    /// where its name is also in `labels`, it wins, as a later `dict` key does.
    pub extra_label: Option<Label>,
    /// The value.
    pub value: f64,
    /// An explicit timestamp; most samples have none.
    pub timestamp: Option<Timestamp>,
    /// An exemplar, on counter totals and histogram buckets.
    pub exemplar: Option<Arc<Exemplar>>,
    /// A native histogram's buckets: the sample is then the whole histogram of its series, named
    /// as the family, and `value` is its count.
    pub native: Option<Arc<NativeHistogramValue>>,
}

impl Sample {
    /// A sample with a suffix name, labels and a value; no extra label, timestamp or exemplar.
    #[must_use]
    pub fn new(suffix: &'static str, labels: LabelSet, value: f64) -> Self {
        Self {
            name: SampleName::Suffix(suffix),
            labels,
            extra_label: None,
            value,
            timestamp: None,
            exemplar: None,
            native: None,
        }
    }

    /// Calls `f` with each label in name order, the extra label merged in.
    pub fn for_each_label<E>(&self, mut f: impl FnMut(&Label) -> Result<(), E>) -> Result<(), E> {
        let Some(extra) = &self.extra_label else {
            return self.labels.iter().try_for_each(f);
        };
        let mut pending = Some(extra);
        for label in &self.labels {
            if let Some(e) = pending {
                if e.name <= label.name {
                    f(e)?;
                    pending = None;
                    if e.name == label.name {
                        continue;
                    }
                }
            }
            f(label)?;
        }
        if let Some(e) = pending {
            f(e)?;
        }
        Ok(())
    }

    /// All labels in name order, the extra label merged in.
    #[must_use]
    pub fn all_labels(&self) -> LabelSet {
        let mut out = Vec::with_capacity(self.labels.len() + 1);
        let _ = self.for_each_label::<()>(|l| {
            out.push(l.clone());
            Ok(())
        });
        LabelSet::from_sorted(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(sample: &Sample) -> Vec<String> {
        sample.all_labels().iter().map(|l| format!("{}={}", l.name, l.value)).collect()
    }

    #[test]
    fn extra_label_is_merged_in_name_order() {
        let mut s = Sample::new("_bucket", LabelSet::new([("a", "1"), ("z", "2")]), 1.0);
        s.extra_label = Some(Label::new("le", "0.5"));
        assert_eq!(names(&s), ["a=1", "le=0.5", "z=2"]);
    }

    #[test]
    fn extra_label_goes_first_or_last_when_it_sorts_there() {
        let mut s = Sample::new("", LabelSet::new([("m", "1")]), 1.0);
        s.extra_label = Some(Label::new("a", "x"));
        assert_eq!(names(&s), ["a=x", "m=1"]);
        s.extra_label = Some(Label::new("z", "x"));
        assert_eq!(names(&s), ["m=1", "z=x"]);
    }

    #[test]
    fn extra_label_overrides_a_series_label_of_the_same_name() {
        let mut s = Sample::new("", LabelSet::new([("a", "1"), ("b", "2")]), 1.0);
        s.extra_label = Some(Label::new("a", "9"));
        assert_eq!(names(&s), ["a=9", "b=2"]);
    }

    #[test]
    fn sample_name_knows_its_suffix() {
        let full = SampleName::Full("foo_created".into());
        assert!(full.is("foo", "_created"));
        assert!(!full.is("bar", "_created"));
        assert!(SampleName::Suffix("_total").is("foo", "_total"));
        assert_eq!(SampleName::Suffix("_sum").full("x"), "x_sum");
    }
}
