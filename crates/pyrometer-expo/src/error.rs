//! The one error type of this crate, and what is wrong with a line a parser refused.

use pyrometer_core::MetricType;

/// What can go wrong while encoding or parsing an exposition.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input is not a valid exposition; `line` counts from 1.
    #[error("line {line}: {kind}")]
    Parse {
        /// The line the problem was found on, from 1.
        line: usize,
        /// What is wrong.
        kind: ParseErrorKind,
    },
    /// Protobuf input that does not decode, or decodes to something the data model cannot hold.
    #[error("invalid protobuf exposition: {message}")]
    Protobuf {
        /// What is wrong.
        message: String,
    },
    /// An Accept header's version that cannot be compared with 1.0.0 (a part that is text where
    /// the other is a number), which `prometheus_client`'s negotiation fails on.
    #[error("version {version:?} cannot be compared with 1.0.0")]
    IncomparableVersion {
        /// The version as given.
        version: String,
    },
    /// An exemplar is attached to a sample that cannot carry one.
    #[error("Metric {family} has exemplars, but is not a histogram bucket or counter")]
    MisplacedExemplar {
        /// The family name.
        family: String,
    },
}

/// What is wrong with a line of input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseErrorKind {
    // Lines and metadata.
    /// The `OpenMetrics` input does not end with `# EOF`.
    #[error("Missing # EOF at end")]
    MissingEof,
    /// A line follows `# EOF`.
    #[error("Received line after # EOF")]
    TextAfterEof,
    /// An empty line, which `OpenMetrics` does not allow.
    #[error("Received blank line")]
    BlankLine,
    /// A line starting `# EOF` that is not exactly `# EOF`.
    #[error("Invalid line: `# EOF` must be alone on its line")]
    MalformedEof,
    /// A `# HELP`, `# TYPE` or `# UNIT` line without a metric name and a value.
    #[error("Invalid line: `# {keyword}` needs a metric name and a value")]
    IncompleteMetadata {
        /// The keyword of the line.
        keyword: String,
    },
    /// An `OpenMetrics` comment line that is not `# HELP`, `# TYPE`, `# UNIT` or `# EOF`.
    #[error("Invalid line: unknown keyword `{keyword}`, expected HELP, TYPE, UNIT or EOF")]
    UnknownMetadata {
        /// The word after `#`.
        keyword: String,
    },
    /// A second `# HELP`, `# TYPE` or `# UNIT` line for one metric.
    #[error("More than one {keyword} for metric {name}")]
    DuplicateMetadata {
        /// The repeated keyword.
        keyword: String,
        /// The metric name.
        name: String,
    },
    /// A metadata line for a metric whose samples have started.
    #[error("Received metadata after samples for metric {name}")]
    MetadataAfterSamples {
        /// The metric name.
        name: String,
    },
    /// A `# TYPE` that names no metric type.
    #[error("Invalid metric type: {name}")]
    UnknownType {
        /// The type as written.
        name: String,
    },
    /// `# TYPE ... untyped` in `OpenMetrics`, whose name for it is `unknown`.
    #[error("Invalid TYPE for metric: `untyped` is spelled `unknown` in OpenMetrics")]
    UntypedInOpenMetrics,

    // Names.
    /// A metric name that is neither a legacy name (`[a-zA-Z_:][a-zA-Z0-9_:]*`) nor quoted.
    #[error("invalid metric name {name:?}: names outside [a-zA-Z_:][a-zA-Z0-9_:]* must be quoted")]
    InvalidMetricName {
        /// The name as written.
        name: String,
    },
    /// A family whose name is empty once its suffixes are removed.
    #[error("metric name cannot be empty")]
    EmptyMetricName,
    /// A sample with neither a name before `{` nor a quoted name inside.
    #[error("sample has no metric name")]
    MissingMetricName,
    /// A sample named both before `{` and inside it.
    #[error("metric name specified more than once")]
    MetricNameTwice,
    /// A family whose name, or a name its type reserves, an earlier family used.
    #[error("Clashing name: {name}")]
    DuplicateFamily {
        /// The clashing name.
        name: String,
    },
    /// A family whose name does not end with `_` and its unit.
    #[error("Unit does not match metric name: {name} does not end with _{unit}")]
    UnitMismatch {
        /// The family name.
        name: String,
        /// The unit.
        unit: String,
    },
    /// A unit on an info or state set family.
    #[error("Units not allowed for this metric type: {metric_type}")]
    UnitNotAllowed {
        /// The family's type.
        metric_type: MetricType,
    },

    // Label sets.
    /// A `{` without its `}`.
    #[error("Invalid labels: missing closing `}}`")]
    UnclosedLabelSet,
    /// A comma at the start or end of a label set, or two in a row.
    #[error("Invalid labels: misplaced comma")]
    MisplacedComma,
    /// `name=` with nothing after it.
    #[error("Invalid labels: label {name} has no value")]
    MissingLabelValue {
        /// The label name.
        name: String,
    },
    /// A label name that is neither a legacy name nor quoted, or is badly quoted.
    #[error("Invalid labels: invalid label name {name:?}")]
    InvalidLabelName {
        /// The name as written.
        name: String,
    },
    /// A label name starting with `__`, which Prometheus reserves.
    #[error("Invalid labels: reserved label name {name}")]
    ReservedLabelName {
        /// The label name.
        name: String,
    },
    /// A label value that is not exactly one double-quoted string.
    #[error("Invalid labels: the value of label {name} must be one double-quoted string")]
    InvalidLabelValue {
        /// The label name.
        name: String,
    },
    /// A label name given twice in one label set.
    #[error("Invalid labels: duplicate label name {name}")]
    DuplicateLabel {
        /// The repeated name.
        name: String,
    },

    // Values and timestamps.
    /// A sample line with nothing where its value belongs.
    #[error("sample has no value")]
    MissingValue,
    /// A value that is not a number.
    #[error("Invalid value: {value:?}")]
    InvalidValue {
        /// The value as written.
        value: String,
    },
    /// A timestamp that is not a number, or is out of range.
    #[error("Invalid timestamp: {value:?}")]
    InvalidTimestamp {
        /// The timestamp as written.
        value: String,
    },
    /// A space at the end of a sample line.
    #[error("Invalid line: trailing space")]
    TrailingSpace,
    /// Something other than a space right after an `OpenMetrics` label set.
    #[error("Invalid line: expected a space after the label set")]
    MissingSpaceAfterLabels,

    // Exemplars.
    /// Text after a sample that is not ` # {labels} value [timestamp]`.
    #[error("Invalid line: an exemplar is written ` # {{labels}} value [timestamp]`")]
    MalformedExemplar,
    /// Exemplar labels longer than `OpenMetrics` allows.
    #[error("Exemplar labels are too long: {chars} characters, at most 128")]
    ExemplarTooLong {
        /// Characters in the exemplar's label names and values.
        chars: usize,
    },
    /// An exemplar on a sample other than a histogram bucket or a counter total.
    #[error("Invalid line: only histogram/gaugehistogram buckets and counters can have exemplars, not {sample}")]
    ExemplarNotAllowed {
        /// The sample name.
        sample: String,
    },
    /// An `OpenMetrics` 2.0 native histogram sample (`{count:...}`) that does not read.
    #[error("Invalid native histogram sample: {reason}")]
    InvalidNativeHistogram {
        /// What is wrong with it.
        reason: String,
    },

    // Samples of typed families (`OpenMetrics`).
    /// A sample without a label its type requires (`le`, `quantile`, a state set's name).
    #[error("sample lacks its {label} label")]
    MissingLabel {
        /// The label name.
        label: String,
    },
    /// An `le` or `quantile` label that is not a valid number there.
    #[error("Invalid {label} label: {value:?}")]
    InvalidLabelNumber {
        /// The label name.
        label: String,
        /// The label value.
        value: String,
    },
    /// A bucket or count that is not an integer.
    #[error("{sample} value must be an integer")]
    NonIntegerValue {
        /// The sample name.
        sample: String,
    },
    /// A counter-like sample or a quantile below zero.
    #[error("{sample} cannot be negative")]
    NegativeValue {
        /// The sample name.
        sample: String,
    },
    /// A counter-like sample written as an integer too large for a float, which
    /// `prometheus_client` cannot check for NaN.
    #[error("{sample} is too large for a float")]
    ValueOutOfRange {
        /// The sample name.
        sample: String,
    },
    /// A counter-like sample that is NaN.
    #[error("Counter-like samples cannot be NaN: {sample}")]
    NanValue {
        /// The sample name.
        sample: String,
    },
    /// A state set sample other than 0 or 1.
    #[error("Stateset samples can only have values zero and one: {sample}")]
    StateNotBoolean {
        /// The sample name.
        sample: String,
    },
    /// An info sample other than 1.
    #[error("Info samples can only have value one: {sample}")]
    InfoValueNotOne {
        /// The sample name.
        sample: String,
    },
    /// A sample returning to a label group that other groups have followed.
    #[error("Invalid metric grouping: {sample} returns to an earlier label group")]
    InvalidGrouping {
        /// The sample name.
        sample: String,
    },
    /// Some samples of a group have a timestamp and others none.
    #[error("Mix of timestamp presence within a group")]
    MixedTimestampPresence,
    /// A timestamp earlier than the one before it in the same group.
    #[error("Timestamps went backwards within a group")]
    TimestampsBackwards,
    /// Timestamps of one group written as `sec[.frac]` and as other floats (`1e9`, `.5`), which
    /// `prometheus_client` cannot compare.
    #[error("timestamps within a group mix sec[.frac] and float notation")]
    IncomparableTimestamps,

    // Histograms (`OpenMetrics`).
    /// A histogram group without a `+Inf` bucket last.
    #[error("+Inf bucket missing: {name}")]
    MissingInfBucket {
        /// The family name.
        name: String,
    },
    /// Buckets whose `le` bounds do not increase.
    #[error("Buckets out of order: {name}")]
    BucketsOutOfOrder {
        /// The family name.
        name: String,
    },
    /// Bucket counts that decrease.
    #[error("Bucket values out of order: {name}")]
    BucketCountsDecrease {
        /// The family name.
        name: String,
    },
    /// A `_count` or `_gcount` other than the `+Inf` bucket.
    #[error("Count does not match +Inf value: {name}")]
    CountMismatch {
        /// The family name.
        name: String,
    },
    /// A `_sum` or `_gsum` without `_count` or `_gcount`.
    #[error("_count/_gcount must be present if _sum/_gsum is present: {name}")]
    SumWithoutCount {
        /// The family name.
        name: String,
    },
    /// A `_count` or `_gcount` without `_sum` or `_gsum`.
    #[error("_sum/_gsum must be present if _count/_gcount is present: {name}")]
    CountWithoutSum {
        /// The family name.
        name: String,
    },
    /// A `_sum` on a histogram with negative buckets.
    #[error("Cannot have _sum with negative buckets: {name}")]
    SumWithNegativeBuckets {
        /// The family name.
        name: String,
    },
    /// A negative `_gsum` on a gauge histogram without negative buckets.
    #[error("Cannot have negative _gsum with non-negative buckets: {name}")]
    NegativeGsum {
        /// The family name.
        name: String,
    },
}
