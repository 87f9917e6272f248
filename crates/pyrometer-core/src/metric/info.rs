//! Info: constant key-value metadata, exposed as one sample of value 1.

use std::sync::{Arc, PoisonError, RwLock};

use super::kind::{Metric, SeriesContext};
use super::metadata::FamilyMeta;
use super::mirror::{Mirror, SeriesMirror, SeriesShape};
use crate::error::Error;
use crate::metric_type::MetricType;
use crate::name::validate_label_name;
use crate::snapshot::labels::LabelSet;
use crate::snapshot::sample::Sample;

/// Key-value metadata such as a build's version. Cloning gives another handle to the same series.
#[derive(Clone, Debug)]
pub struct Info(Arc<InfoCell>);

#[derive(Debug)]
struct InfoCell {
    meta: Arc<FamilyMeta>,
    value: RwLock<LabelSet>,
    mirror: Mirror,
}

impl Info {
    /// Replaces the metadata. Its keys must not be label names of the family.
    pub fn set<I, K, V>(&self, pairs: I) -> Result<(), Error>
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<Arc<str>>,
        V: Into<Arc<str>>,
    {
        let value = LabelSet::new(pairs);
        let meta = &self.0.meta;
        let taken = |name: &str| {
            meta.label_names.iter().any(|n| &**n == name) || meta.const_labels.iter().any(|l| &*l.name == name)
        };
        if value.iter().any(|l| taken(&l.name)) {
            let names: Vec<String> = meta.label_names.iter().map(ToString::to_string).collect();
            let pairs: Vec<String> = value.iter().map(|l| format!("'{}': '{}'", l.name, l.value)).collect();
            return Err(Error::InfoLabelOverlap {
                label_names: crate::error::python_tuple(&names),
                pairs: format!("{{{}}}", pairs.join(", ")),
            });
        }
        for label in &value {
            validate_label_name(&label.name)?;
        }
        let mut current = self.0.value.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(mirror) = &self.0.mirror {
            // Under the lock, so that the copy ends with the pairs the series ends with.
            mirror.set_info(&value);
        }
        *current = value;
        Ok(())
    }

    /// The current metadata.
    #[must_use]
    pub fn get(&self) -> LabelSet {
        self.0.value.read().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

impl Metric for Info {
    const TYPE: MetricType = MetricType::Info;
    type Options = ();

    fn build((): &(), meta: &Arc<FamilyMeta>, mirror: Option<Arc<dyn SeriesMirror>>) -> Self {
        Self(Arc::new(InfoCell { meta: meta.clone(), value: RwLock::new(LabelSet::EMPTY), mirror }))
    }

    fn shape((): &()) -> Option<SeriesShape<'_>> {
        Some(SeriesShape::Info)
    }

    fn mirror(&self) -> Option<&Arc<dyn SeriesMirror>> {
        self.0.mirror.as_ref()
    }

    fn collect_samples(&self, series: &SeriesContext<'_>, out: &mut Vec<Sample>) -> Result<(), Error> {
        let value = self.get();
        let labels = if value.is_empty() {
            series.labels.clone()
        } else {
            LabelSet::new(series.labels.iter().chain(value.iter()).map(|l| (l.name.clone(), l.value.clone())))
        };
        out.push(Sample::new("_info", labels, 1.0));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metric::family::Family;
    use crate::metric::metadata::Metadata;

    fn info() -> (Family<Info>, Info) {
        let family = Family::<Info>::new(Metadata::new("build", "h").label_names(["component"])).unwrap();
        let child = family.labels(&["db"]).unwrap();
        (family, child)
    }

    #[test]
    fn info_merges_its_pairs_with_the_series_labels() {
        let (family, child) = info();
        child.set([("version", "1.0")]).unwrap();
        let sample = &family.collect(false).unwrap().samples[0];
        assert_eq!(sample.labels.get("component"), Some("db"));
        assert_eq!(sample.labels.get("version"), Some("1.0"));
        assert_eq!(sample.value, 1.0);
    }

    #[test]
    fn info_keys_may_not_repeat_label_names() {
        let (_, child) = info();
        assert!(matches!(child.set([("component", "x")]), Err(Error::InfoLabelOverlap { .. })));
    }

    #[test]
    fn info_keys_must_be_label_names() {
        let (_, child) = info();
        assert!(child.set([("", "x")]).is_err());
        assert!(child.set([("__x", "x")]).is_err());
    }
}
