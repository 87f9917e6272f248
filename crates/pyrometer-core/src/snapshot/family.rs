//! A metric family: the unit a collector produces and an encoder prints.

use std::sync::Arc;

use super::sample::Sample;
use crate::error::Error;
use crate::metric_type::MetricType;

/// A named, typed family of samples, with its help text and unit.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricFamily {
    /// The family name, without type suffixes (`http_requests`, not `http_requests_total`).
    pub name: Arc<str>,
    /// The help text.
    pub help: Arc<str>,
    /// The type.
    pub metric_type: MetricType,
    /// The unit, or empty. When set, the name ends with `_` and the unit.
    pub unit: Arc<str>,
    /// The samples, in exposition order.
    pub samples: Vec<Sample>,
}

impl MetricFamily {
    /// Builds an empty family. As `prometheus_client`'s `Metric` does, a unit missing from the end
    /// of the name is appended to it.
    pub fn new(name: &str, help: impl Into<Arc<str>>, metric_type: MetricType, unit: &str) -> Result<Self, Error> {
        let name = if !unit.is_empty() && !name.ends_with(&format!("_{unit}")) {
            format!("{name}_{unit}")
        } else {
            name.to_owned()
        };
        crate::name::validate_metric_name(&name)?;
        Ok(Self::from_parts(name.into(), help.into(), metric_type, unit.into(), Vec::new()))
    }

    /// Assembles a family from checked parts; used by metrics whose names were validated when
    /// they were built.
    #[must_use]
    pub fn from_parts(
        name: Arc<str>,
        help: Arc<str>,
        metric_type: MetricType,
        unit: Arc<str>,
        samples: Vec<Sample>,
    ) -> Self {
        Self { name, help, metric_type, unit, samples }
    }

    /// This family with only the samples whose full name is accepted by `keep`, or `None` when
    /// none is left.
    #[must_use]
    pub fn restricted(mut self, mut keep: impl FnMut(&str) -> bool) -> Option<Self> {
        let name = self.name.clone();
        self.samples.retain(|s| match &s.name {
            super::sample::SampleName::Full(full) => keep(full),
            super::sample::SampleName::Suffix(_) => keep(&s.name.full(&name)),
        });
        if self.samples.is_empty() { None } else { Some(self) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::labels::LabelSet;

    #[test]
    fn unit_is_appended_when_missing() {
        let f = MetricFamily::new("latency", "h", MetricType::Gauge, "seconds").unwrap();
        assert_eq!(&*f.name, "latency_seconds");
        let f = MetricFamily::new("latency_seconds", "h", MetricType::Gauge, "seconds").unwrap();
        assert_eq!(&*f.name, "latency_seconds");
    }

    #[test]
    fn empty_name_is_rejected() {
        assert!(MetricFamily::new("", "h", MetricType::Gauge, "").is_err());
    }

    #[test]
    fn restriction_keeps_named_samples_only() {
        let mut f = MetricFamily::new("x", "h", MetricType::Counter, "").unwrap();
        f.samples.push(Sample::new("_total", LabelSet::EMPTY, 1.0));
        f.samples.push(Sample::new("_created", LabelSet::EMPTY, 2.0));
        let kept = f.clone().restricted(|n| n == "x_total").unwrap();
        assert_eq!(kept.samples.len(), 1);
        assert!(f.restricted(|n| n == "y").is_none());
    }
}
