//! The `OpenMetrics` metric types.

use std::fmt;
use std::str::FromStr;

/// The type of a metric family, as `OpenMetrics` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MetricType {
    /// A monotonically increasing total.
    Counter,
    /// A value that goes up and down.
    Gauge,
    /// Observations counted in cumulative buckets, with their sum.
    Histogram,
    /// A histogram of current values, which may go down.
    GaugeHistogram,
    /// Observations summarised by count, sum and quantiles.
    Summary,
    /// Constant key-value metadata.
    Info,
    /// A set of named boolean states.
    StateSet,
    /// A metric of unknown type (`untyped` in the Prometheus text format).
    Unknown,
}

impl MetricType {
    /// The `OpenMetrics` name: `counter`, `gaugehistogram`, `stateset`, ...
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Counter => "counter",
            Self::Gauge => "gauge",
            Self::Histogram => "histogram",
            Self::GaugeHistogram => "gaugehistogram",
            Self::Summary => "summary",
            Self::Info => "info",
            Self::StateSet => "stateset",
            Self::Unknown => "unknown",
        }
    }

    /// Suffixes this type adds to the family name, which registries reserve alongside it.
    #[must_use]
    pub const fn reserved_suffixes(self) -> &'static [&'static str] {
        match self {
            Self::Counter => &["_total", "_created"],
            Self::Summary => &["_sum", "_count", "_created"],
            Self::Histogram => &["_bucket", "_sum", "_count", "_created"],
            Self::GaugeHistogram => &["_bucket", "_gsum", "_gcount"],
            Self::Info => &["_info"],
            Self::Gauge | Self::StateSet | Self::Unknown => &[],
        }
    }
}

impl fmt::Display for MetricType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A type name that is not one of the `OpenMetrics` types (nor `untyped`); it converts into
/// [`Error::InvalidMetricType`](crate::Error::InvalidMetricType).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("Invalid metric type: {name}")]
pub struct UnknownMetricType {
    /// The name given.
    pub name: String,
}

impl FromStr for MetricType {
    type Err = UnknownMetricType;

    /// Parses an `OpenMetrics` type name; `untyped` is read as `unknown`.
    fn from_str(s: &str) -> Result<Self, UnknownMetricType> {
        Ok(match s {
            "counter" => Self::Counter,
            "gauge" => Self::Gauge,
            "histogram" => Self::Histogram,
            "gaugehistogram" => Self::GaugeHistogram,
            "summary" => Self::Summary,
            "info" => Self::Info,
            "stateset" => Self::StateSet,
            "unknown" | "untyped" => Self::Unknown,
            other => return Err(UnknownMetricType { name: other.to_owned() }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_round_trips_through_its_name() {
        for t in [
            MetricType::Counter,
            MetricType::Gauge,
            MetricType::Histogram,
            MetricType::GaugeHistogram,
            MetricType::Summary,
            MetricType::Info,
            MetricType::StateSet,
            MetricType::Unknown,
        ] {
            assert_eq!(t.as_str().parse::<MetricType>().unwrap(), t);
        }
    }

    #[test]
    fn untyped_reads_as_unknown_and_nonsense_is_rejected() {
        assert_eq!("untyped".parse::<MetricType>().unwrap(), MetricType::Unknown);
        assert!("bogus".parse::<MetricType>().is_err());
    }
}
