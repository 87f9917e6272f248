//! Label sets as they appear in snapshots: sorted by name, shared by reference.

use std::fmt;
use std::sync::Arc;

/// One `name="value"` pair.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Label {
    /// The label name.
    pub name: Arc<str>,
    /// The label value (any UTF-8).
    pub value: Arc<str>,
}

impl Label {
    /// Builds a label from anything that converts into shared strings.
    pub fn new(name: impl Into<Arc<str>>, value: impl Into<Arc<str>>) -> Self {
        Self { name: name.into(), value: value.into() }
    }
}

impl fmt::Debug for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={:?}", self.name, self.value)
    }
}

/// An immutable set of labels, sorted by name with unique names.
///
/// Cloning is one reference-count increment, so every sample of a series shares one allocation.
/// Exposition formats print labels in this order, which is the order `prometheus_client` prints
/// them in (it sorts by name on every scrape; we sort once, when the set is built).
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct LabelSet(Option<Arc<[Label]>>);

impl LabelSet {
    /// The empty set; allocates nothing.
    pub const EMPTY: Self = Self(None);

    /// Builds a set from pairs in any order. A name given twice keeps its last value, as a
    /// Python `dict` built from the same pairs would.
    pub fn new<I, N, V>(pairs: I) -> Self
    where
        I: IntoIterator<Item = (N, V)>,
        N: Into<Arc<str>>,
        V: Into<Arc<str>>,
    {
        let mut labels: Vec<Label> = pairs.into_iter().map(|(n, v)| Label::new(n, v)).collect();
        // Stable sort, then keep the last of equal names: dict semantics.
        labels.sort_by(|a, b| a.name.cmp(&b.name));
        let mut deduped: Vec<Label> = Vec::with_capacity(labels.len());
        for label in labels {
            match deduped.last_mut() {
                Some(last) if last.name == label.name => *last = label,
                _ => deduped.push(label),
            }
        }
        Self::from_sorted(deduped)
    }

    /// Wraps labels that are already sorted by name and unique.
    pub(crate) fn from_sorted(labels: Vec<Label>) -> Self {
        debug_assert!(labels.windows(2).all(|w| w[0].name < w[1].name));
        if labels.is_empty() { Self::EMPTY } else { Self(Some(labels.into())) }
    }

    /// The labels, sorted by name.
    #[must_use]
    pub fn as_slice(&self) -> &[Label] {
        self.0.as_deref().unwrap_or(&[])
    }

    /// Number of labels.
    #[must_use]
    pub fn len(&self) -> usize {
        self.as_slice().len()
    }

    /// Whether the set has no labels.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    /// The value of the label called `name`, if present.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&str> {
        let labels = self.as_slice();
        labels.binary_search_by(|l| (*l.name).cmp(name)).ok().map(|i| &*labels[i].value)
    }

    /// Iterates over the labels in name order.
    pub fn iter(&self) -> std::slice::Iter<'_, Label> {
        self.as_slice().iter()
    }

    /// Number of characters (code points) in all names and values, as the `OpenMetrics`
    /// exemplar limit counts them.
    #[must_use]
    pub fn char_count(&self) -> usize {
        self.iter().map(|l| l.name.chars().count() + l.value.chars().count()).sum()
    }
}

impl fmt::Debug for LabelSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.as_slice()).finish()
    }
}

impl<'a> IntoIterator for &'a LabelSet {
    type Item = &'a Label;
    type IntoIter = std::slice::Iter<'a, Label>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_sorted_by_name() {
        let set = LabelSet::new([("b", "2"), ("a", "1"), ("c", "3")]);
        let names: Vec<&str> = set.iter().map(|l| &*l.name).collect();
        assert_eq!(names, ["a", "b", "c"]);
    }

    #[test]
    fn a_repeated_name_keeps_the_last_value() {
        let set = LabelSet::new([("a", "1"), ("b", "2"), ("a", "3")]);
        assert_eq!(set.len(), 2);
        assert_eq!(set.get("a"), Some("3"));
    }

    #[test]
    fn empty_set_does_not_allocate() {
        let set = LabelSet::new(Vec::<(&str, &str)>::new());
        assert!(set.is_empty());
        assert_eq!(set, LabelSet::EMPTY);
    }

    #[test]
    fn char_count_counts_code_points_not_bytes() {
        let set = LabelSet::new([("é", "ü")]);
        assert_eq!(set.char_count(), 2);
    }
}
