//! The one error type of this crate.

use crate::metric_type::MetricType;
use std::fmt;
use std::sync::Arc;

/// Everything that can go wrong while building metrics or registering collectors.
///
/// Messages follow `prometheus_client`'s wording where it has one, so that the Python package
/// can raise the same text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A metric name was empty.
    #[error("Metric name should not be empty")]
    EmptyMetricName,
    /// A metric name outside the legacy character set, under legacy validation.
    #[error("invalid metric name {name}")]
    InvalidMetricName {
        /// The offending name.
        name: String,
    },
    /// A label name is not allowed.
    #[error("Invalid label metric name: {name}")]
    InvalidLabelName {
        /// The offending name.
        name: String,
    },
    /// A label name is reserved: it starts with `__`, or the metric type uses it (`le`,
    /// `quantile`, a state set's own name).
    #[error("Reserved label metric name: {name}")]
    ReservedLabelName {
        /// The offending name.
        name: String,
    },
    /// A label name was given twice.
    #[error("Duplicate label name: {name}")]
    DuplicateLabelName {
        /// The repeated name.
        name: String,
    },
    /// The number of label values differs from the number of label names.
    #[error("Incorrect label count (expected {expected}, got {got})")]
    LabelCount {
        /// Number of label names of the family.
        expected: usize,
        /// Number of values given.
        got: usize,
    },
    /// Labels given by name do not match the family's label names.
    #[error("Incorrect label names")]
    LabelNames,
    /// A label named in a partial match is not a label of the family.
    #[error("Unknown label names: [{}]; expected {}", python_items(.names), python_tuple(.expected))]
    UnknownLabelNames {
        /// The names that are not label names of the family.
        names: Vec<String>,
        /// The family's label names.
        expected: Vec<String>,
    },
    /// A series of a labelled family was updated through the family (`labels()` comes first).
    #[error("{metric_type} metric is missing label values")]
    MissingLabelValues {
        /// The family's type.
        metric_type: MetricType,
    },
    /// Label values were asked of a family built without label names.
    #[error("No label names were set when constructing {metric}")]
    NoLabelNames {
        /// The family, as `type:name`.
        metric: String,
    },
    /// Label values were asked of a child, which has its own already.
    #[error("{metric} already has labels set; can not chain calls to .labels()")]
    LabelsAlreadySet {
        /// The family, as `type:name`.
        metric: String,
    },
    /// Label values were given both by position and by name.
    #[error("Can't pass both *args and **kwargs")]
    MixedLabelArguments,
    /// A series to remove was named by the wrong number of label values.
    #[error("Incorrect label count (expected {expected}, got {given})")]
    RemovalLabelCount {
        /// The family's label count.
        expected: usize,
        /// The values given, as written.
        given: String,
    },
    /// An info's pairs hold a missing value.
    #[error("Label value cannot be None")]
    MissingInfoValue,
    /// A state set's family names a label after the state set itself.
    #[error("Overlapping labels for Enum metric: {name}")]
    StateSetLabelOverlap {
        /// The metric name.
        name: String,
    },
    /// A gauge's multiprocess mode is not one the store knows.
    #[error("Invalid multiprocess mode: {mode}")]
    InvalidMultiprocessMode {
        /// The mode given.
        mode: String,
    },
    /// An option outside its range; the message names the option and the range.
    #[error("{message}")]
    InvalidOption {
        /// What is wrong.
        message: String,
    },
    /// A counter was asked to go down.
    #[error("Counters can only be incremented by non-negative amounts.")]
    NegativeIncrement,
    /// Histogram bounds were not in ascending order.
    #[error("Buckets not in sorted order")]
    BucketsNotSorted,
    /// A histogram would have fewer than two buckets, `+Inf` included.
    #[error("Must have at least two buckets")]
    TooFewBuckets,
    /// A bucket helper was given arguments that make no buckets.
    #[error("Invalid bucket layout: {reason}")]
    InvalidBucketLayout {
        /// What is wrong.
        reason: &'static str,
    },
    /// A family's series limit was zero.
    #[error("A series limit must be at least 1")]
    InvalidSeriesLimit,
    /// A sampled counter's rate was not in (0, 1].
    #[error("Sample rate must be in (0, 1]")]
    InvalidSampleRate,
    /// A summary was asked for quantiles it cannot report.
    #[error("Invalid summary quantiles: {reason}")]
    InvalidQuantile {
        /// What is wrong.
        reason: &'static str,
    },
    /// A state set was built without states.
    #[error("No states provided for Enum metric: {name}")]
    NoStates {
        /// The metric name.
        name: String,
    },
    /// A state set has more states than it can hold.
    #[error("Too many states for Enum metric {name}: {count} (at most 64)")]
    TooManyStates {
        /// The metric name.
        name: String,
        /// How many states were given.
        count: usize,
    },
    /// A state name is not one of the state set's states.
    #[error("{state:?} is not a state of {name}")]
    UnknownState {
        /// The metric name.
        name: String,
        /// The state asked for.
        state: String,
    },
    /// A metric of a type without units was given one.
    #[error("Metric name is of a type that cannot have a unit: {name}")]
    UnitNotAllowed {
        /// The full metric name.
        name: String,
    },
    /// Info labels overlap the family's label names.
    #[error("Overlapping labels for Info metric, metric: {label_names} child: {pairs}")]
    InfoLabelOverlap {
        /// The family's label names, as a Python tuple.
        label_names: String,
        /// The pairs given, as a Python dict.
        pairs: String,
    },
    /// Exemplar labels exceed the `OpenMetrics` limit.
    #[error("Exemplar labels have {chars} UTF-8 characters, exceeding the limit of 128")]
    ExemplarTooLong {
        /// Characters in names and values.
        chars: usize,
    },
    /// A metric type name is unknown.
    #[error("Invalid metric type: {name}")]
    InvalidMetricType {
        /// The name given.
        name: String,
    },
    /// A collector produces names that another registered collector already produces.
    #[error("Duplicated timeseries in CollectorRegistry: {}", python_set(.names))]
    DuplicateTimeseries {
        /// The clashing names, sorted.
        names: Vec<String>,
    },
    /// `target_info` was set while a collector already produces a `target_info` metric.
    #[error("CollectorRegistry already contains a target_info metric")]
    TargetInfoExists,
    /// The collector to unregister is not registered.
    #[error("Collector is not registered")]
    NotRegistered,
    /// A collector failed while collecting; the scrape fails with it.
    #[error("{0}")]
    Collect(#[source] CollectError),
    /// A series' mirror (its copy in the multiprocess store) could not be made; the series was
    /// not created.
    #[error("{reason}")]
    Mirror {
        /// What went wrong, as the mirror's source tells it.
        reason: String,
    },
}

impl Error {
    /// Wraps the error a collector failed with.
    pub fn collect(source: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Collect(CollectError(Arc::new(source)))
    }
}

/// The error a collector failed with, kept whole so that a caller can downcast it back.
#[derive(Clone)]
pub struct CollectError(Arc<dyn std::error::Error + Send + Sync>);

impl CollectError {
    /// The collector's own error.
    #[must_use]
    pub fn source_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        &*self.0
    }
}

impl fmt::Debug for CollectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for CollectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for CollectError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.0)
    }
}

/// Two collect errors are equal when they are the same failure.
impl PartialEq for CollectError {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for CollectError {}

/// Formats names as a Python set literal, as `prometheus_client` prints them.
fn python_set(names: &[String]) -> String {
    format!("{{{}}}", python_items(names))
}

/// Names as the items of a Python container of strings: `'a', 'b'`.
fn python_items(names: &[String]) -> String {
    names.iter().map(|n| format!("'{n}'")).collect::<Vec<_>>().join(", ")
}

/// Names as a Python tuple of strings: `('a',)`, `('a', 'b')`.
#[must_use]
pub(crate) fn python_tuple(names: &[String]) -> String {
    if names.len() == 1 { format!("({},)", python_items(names)) } else { format!("({})", python_items(names)) }
}

impl From<crate::metric_type::UnknownMetricType> for Error {
    fn from(unknown: crate::metric_type::UnknownMetricType) -> Self {
        Self::InvalidMetricType { name: unknown.name }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_message_reads_like_prometheus_client() {
        let err = Error::DuplicateTimeseries { names: vec!["a".into(), "a_total".into()] };
        assert_eq!(err.to_string(), "Duplicated timeseries in CollectorRegistry: {'a', 'a_total'}");
    }

    #[test]
    fn label_count_message_names_both_counts() {
        let err = Error::LabelCount { expected: 2, got: 1 };
        assert_eq!(err.to_string(), "Incorrect label count (expected 2, got 1)");
    }
}
