//! What a metric is called and how it is described: name parts, help, unit and labels.

use std::sync::Arc;

use crate::error::Error;
use crate::metric_type::MetricType;
use crate::name::{validate_label_name, validate_metric_name};
use crate::snapshot::labels::Label;

/// The description of a metric family before it is built.
///
/// ```
/// use pyrometer_core::Metadata;
/// let meta = Metadata::new("requests_total", "Requests served.")
///     .namespace("app")
///     .label_names(["method", "code"]);
/// # let _ = meta;
/// ```
#[derive(Clone, Debug)]
#[must_use = "metadata does nothing until a family is built from it"]
pub struct Metadata {
    pub(crate) name: String,
    pub(crate) help: String,
    pub(crate) namespace: String,
    pub(crate) subsystem: String,
    pub(crate) unit: String,
    pub(crate) label_names: Vec<String>,
    pub(crate) const_labels: Vec<(String, String)>,
}

impl Metadata {
    /// A metric called `name` with help text `help`.
    pub fn new(name: impl Into<String>, help: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            help: help.into(),
            namespace: String::new(),
            subsystem: String::new(),
            unit: String::new(),
            label_names: Vec::new(),
            const_labels: Vec::new(),
        }
    }

    /// Prefixes the name with `namespace_`.
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = namespace.into();
        self
    }

    /// Prefixes the name (after the namespace) with `subsystem_`.
    pub fn subsystem(mut self, subsystem: impl Into<String>) -> Self {
        self.subsystem = subsystem.into();
        self
    }

    /// Sets the unit; the name gets `_unit` appended unless it already ends so.
    pub fn unit(mut self, unit: impl Into<String>) -> Self {
        self.unit = unit.into();
        self
    }

    /// Sets the names of the labels whose values are given per child.
    pub fn label_names<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.label_names = names.into_iter().map(Into::into).collect();
        self
    }

    /// Adds a label with the same value on every series of the family.
    pub fn const_label(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.const_labels.push((name.into(), value.into()));
        self
    }

    /// The full name as `prometheus_client` builds it: `namespace_subsystem_name`, a counter's
    /// `_total` removed, `_unit` appended.
    pub(crate) fn full_name(&self, metric_type: MetricType) -> Result<String, Error> {
        if self.name.is_empty() {
            return Err(Error::EmptyMetricName);
        }
        let mut full =
            String::with_capacity(self.namespace.len() + self.subsystem.len() + self.name.len() + self.unit.len() + 3);
        for prefix in [&self.namespace, &self.subsystem] {
            if !prefix.is_empty() {
                full.push_str(prefix);
                full.push('_');
            }
        }
        full.push_str(&self.name);
        if metric_type == MetricType::Counter && full.ends_with("_total") {
            full.truncate(full.len() - "_total".len());
        }
        if !self.unit.is_empty() && !full.ends_with(&format!("_{}", self.unit)) {
            full.push('_');
            full.push_str(&self.unit);
        }
        if !self.unit.is_empty() && matches!(metric_type, MetricType::Info | MetricType::StateSet) {
            return Err(Error::UnitNotAllowed { name: full });
        }
        validate_metric_name(&full)?;
        Ok(full)
    }
}

/// The checked, shared description of a built family.
#[derive(Clone, Debug)]
pub struct FamilyMeta {
    /// The full name.
    pub name: Arc<str>,
    /// The help text.
    pub help: Arc<str>,
    /// The unit, or empty.
    pub unit: Arc<str>,
    /// The type.
    pub metric_type: MetricType,
    /// Names of the per-child labels, in the order values are given.
    pub label_names: Arc<[Arc<str>]>,
    /// Labels shared by every series.
    pub const_labels: Arc<[Label]>,
}

impl FamilyMeta {
    pub(crate) fn build(meta: &Metadata, metric_type: MetricType, reserved: &[&str]) -> Result<Self, Error> {
        let name = meta.full_name(metric_type)?;
        let mut seen: Vec<&str> = Vec::new();
        let const_names = meta.const_labels.iter().map(|(n, _)| n);
        for label in meta.label_names.iter().chain(const_names) {
            validate_label_name(label)?;
            if reserved.contains(&label.as_str()) || (metric_type == MetricType::StateSet && *label == name) {
                return Err(Error::ReservedLabelName { name: label.clone() });
            }
            if seen.contains(&label.as_str()) {
                return Err(Error::DuplicateLabelName { name: label.clone() });
            }
            seen.push(label);
        }
        Ok(Self {
            name: name.into(),
            help: meta.help.as_str().into(),
            unit: meta.unit.as_str().into(),
            metric_type,
            label_names: meta.label_names.iter().map(|n| Arc::from(n.as_str())).collect(),
            const_labels: meta.const_labels.iter().map(|(n, v)| Label::new(n.as_str(), v.as_str())).collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_name_joins_parts_and_munges_counter_total() {
        let meta = Metadata::new("requests_total", "h").namespace("ns").subsystem("sub");
        assert_eq!(meta.full_name(MetricType::Counter).unwrap(), "ns_sub_requests");
        assert_eq!(meta.full_name(MetricType::Gauge).unwrap(), "ns_sub_requests_total");
    }

    #[test]
    fn unit_is_appended_once() {
        let meta = Metadata::new("latency", "h").unit("seconds");
        assert_eq!(meta.full_name(MetricType::Histogram).unwrap(), "latency_seconds");
        let meta = Metadata::new("latency_seconds", "h").unit("seconds");
        assert_eq!(meta.full_name(MetricType::Histogram).unwrap(), "latency_seconds");
    }

    #[test]
    fn info_and_stateset_refuse_units() {
        let meta = Metadata::new("build", "h").unit("bytes");
        assert!(matches!(meta.full_name(MetricType::Info), Err(Error::UnitNotAllowed { .. })));
    }

    #[test]
    fn reserved_and_duplicate_label_names_are_rejected() {
        let meta = Metadata::new("h", "h").label_names(["le"]);
        assert!(matches!(
            FamilyMeta::build(&meta, MetricType::Histogram, &["le"]),
            Err(Error::ReservedLabelName { .. })
        ));
        let meta = Metadata::new("c", "h").label_names(["a", "a"]);
        assert!(matches!(FamilyMeta::build(&meta, MetricType::Counter, &[]), Err(Error::DuplicateLabelName { .. })));
        let meta = Metadata::new("c", "h").label_names(["a"]).const_label("a", "x");
        assert!(FamilyMeta::build(&meta, MetricType::Counter, &[]).is_err());
    }
}
