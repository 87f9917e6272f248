//! The registry: the set of collectors a scrape walks.

use std::collections::{HashMap, HashSet};
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock, PoisonError, RwLock};

use crate::collector::{CollectOptions, Collector, Description, SeriesGuard};
use crate::error::Error;
use crate::metric::counter::Counter;
use crate::metric::family::Family;
use crate::metric::fold_count::{FoldCounters, RegistryLink};
use crate::metric::metadata::Metadata;
use crate::metric_type::MetricType;
use crate::snapshot::family::MetricFamily;
use crate::snapshot::labels::LabelSet;
use crate::snapshot::sample::Sample;

/// Identifies a registered collector, to unregister it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CollectorId(u64);

/// A set of collectors with unique sample names. Cloning gives another handle to the same set.
///
/// ```
/// use pyrometer_core::{Counter, Family, LabelSet, Metadata, Registry};
/// let registry = Registry::new();
/// let hits = Family::<Counter>::new(Metadata::new("hits", "Cache hits."))?;
/// registry.register(hits.clone())?;
/// hits.without_labels()?.inc();
/// assert_eq!(registry.get_sample_value("hits_total", &LabelSet::EMPTY)?, Some(1.0));
/// // A second family that would write `hits_total` is refused.
/// let again = Family::<Counter>::new(Metadata::new("hits_total", "Again."))?;
/// assert!(registry.register(again).is_err());
/// # Ok::<(), pyrometer_core::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct Registry {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    state: RwLock<State>,
    created_disabled: AtomicBool,
    options: RegistryOptions,
    /// `pyrometer_series_overflow_total{family}`, registered once a family has a series limit.
    overflow: OnceLock<Option<Family<Counter>>>,
}

impl FoldCounters for Inner {
    fn fold_counter(self: Arc<Self>, name: &str) -> Counter {
        Registry { inner: self }.overflow_counter(name)
    }
}

/// The name of the self-metric that counts label sets folded into overflow series.
pub const SERIES_OVERFLOW_METRIC: &str = "pyrometer_series_overflow";

/// How a registry treats collectors that do not say up front which families they produce.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RegistryOptions {
    /// Learn the names of such collectors by collecting them once at registration
    /// (`auto_describe` in `prometheus_client`).
    pub auto_describe: bool,
    /// Collect collectors that have no names in restricted collections too
    /// (`support_collectors_without_names` in `prometheus_client`); by default a restricted
    /// collection asks only the collectors that own one of the names.
    pub restricted_includes_unnamed: bool,
    /// The series limit of every registered family that has none of its own (see
    /// [`Family::set_series_limit`]). Folds are counted in `pyrometer_series_overflow_total`,
    /// labelled with the family's name, once any registered family has a limit.
    pub max_series_per_family: Option<usize>,
}

#[derive(Debug, Default)]
struct State {
    next_id: u64,
    entries: Vec<Entry>,
    owners: HashMap<String, Owner>,
    target_info: Option<LabelSet>,
}

#[derive(Debug)]
struct Entry {
    id: CollectorId,
    collector: Arc<dyn Collector>,
    names: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Owner {
    Collector(CollectorId),
    TargetInfo,
}

impl Registry {
    /// An empty registry.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty registry that, for collectors without [`Collector::describe`], learns their
    /// names by collecting once at registration (`auto_describe` in `prometheus_client`).
    #[must_use]
    pub fn with_auto_describe() -> Self {
        Self::with_options(RegistryOptions { auto_describe: true, ..RegistryOptions::default() })
    }

    /// An empty registry with these options.
    #[must_use]
    pub fn with_options(options: RegistryOptions) -> Self {
        Self { inner: Arc::new(Inner { options, ..Inner::default() }) }
    }

    /// The options this registry was built with.
    #[must_use]
    pub fn options(&self) -> RegistryOptions {
        self.inner.options
    }

    /// Adds a collector; fails if it would produce a sample name another collector produces, or
    /// if collecting it to learn its names fails.
    pub fn register(&self, collector: impl Collector) -> Result<CollectorId, Error> {
        self.register_shared(Arc::new(collector))
    }

    /// Adds a collector that is shared with other owners.
    pub fn register_shared(&self, collector: Arc<dyn Collector>) -> Result<CollectorId, Error> {
        if self.inner.options.max_series_per_family == Some(0) {
            return Err(Error::InvalidSeriesLimit);
        }
        let id = self.insert(collector.clone())?;
        collector.guard_series(&SeriesGuard {
            default_limit: self.inner.options.max_series_per_family,
            registry: self.link(),
            registering: PhantomData,
        });
        Ok(id)
    }

    /// A handle that does not keep the registry alive, for a family to reach it later.
    pub(crate) fn link(&self) -> RegistryLink {
        let inner: Arc<dyn FoldCounters> = self.inner.clone();
        RegistryLink::new(Arc::downgrade(&inner))
    }

    /// The counter of label sets folded in the family `name`: a series of the registry's
    /// overflow self-metric, registered on first use (a counter of its own if that name is taken).
    pub(crate) fn overflow_counter(&self, name: &str) -> Counter {
        let overflow = self.inner.overflow.get_or_init(|| {
            let help = "Label sets folded into a family's overflow series once it reached its series limit.";
            let family = Family::<Counter>::new(Metadata::new(SERIES_OVERFLOW_METRIC, help).label_names(["family"]))
                .expect("the self-metric's name and labels are valid");
            self.insert(Arc::new(family.clone())).ok().map(|_| family)
        });
        overflow.as_ref().and_then(|f| f.labels(&[name]).ok()).unwrap_or_default()
    }

    /// Adds a collector under its names, or fails on a clash.
    fn insert(&self, collector: Arc<dyn Collector>) -> Result<CollectorId, Error> {
        let names = self.names_of(&*collector)?;
        let mut state = self.write();
        let mut clashes: Vec<String> = names.iter().filter(|n| state.owners.contains_key(*n)).cloned().collect();
        if !clashes.is_empty() {
            clashes.sort();
            clashes.dedup();
            return Err(Error::DuplicateTimeseries { names: clashes });
        }
        let id = CollectorId(state.next_id);
        state.next_id += 1;
        for name in &names {
            state.owners.insert(name.clone(), Owner::Collector(id));
        }
        state.entries.push(Entry { id, collector, names });
        Ok(id)
    }

    /// Removes a collector and frees its names.
    pub fn unregister(&self, id: CollectorId) -> Result<(), Error> {
        let mut state = self.write();
        let at = state.entries.iter().position(|e| e.id == id).ok_or(Error::NotRegistered)?;
        let entry = state.entries.remove(at);
        for name in &entry.names {
            state.owners.remove(name);
        }
        Ok(())
    }

    /// Sample names a collector produces and clashes with: each family's name and the names its
    /// type derives from it.
    fn names_of(&self, collector: &dyn Collector) -> Result<Vec<String>, Error> {
        let described = match collector.describe() {
            Some(described) => described,
            None if self.inner.options.auto_describe => {
                let mut families = Vec::new();
                collector.collect(&self.collect_options(), &mut families)?;
                families.into_iter().map(|f| Description { name: f.name, metric_type: f.metric_type }).collect()
            }
            None => Vec::new(),
        };
        let mut names = Vec::new();
        for d in described {
            names.push(d.name.to_string());
            names.extend(d.metric_type.reserved_suffixes().iter().map(|s| format!("{}{s}", d.name)));
        }
        Ok(names)
    }

    /// The names a registered collector produces and clashes with, as registration found them.
    #[must_use]
    pub fn names(&self, id: CollectorId) -> Option<Vec<String>> {
        self.read().entries.iter().find(|e| e.id == id).map(|e| e.names.clone())
    }

    /// Turns `_created` samples on or off for every collection from now on.
    pub fn set_created_enabled(&self, enabled: bool) {
        // Relaxed: a flag read once per scrape; no data is published through it.
        self.inner.created_disabled.store(!enabled, Ordering::Relaxed);
    }

    /// The settings every collection of this registry passes to its collectors.
    #[must_use]
    pub fn collect_options(&self) -> CollectOptions {
        CollectOptions { created: !self.inner.created_disabled.load(Ordering::Relaxed) }
    }

    /// Sets (or with `None`, clears) the labels of the `target_info` metric.
    pub fn set_target_info(&self, labels: Option<LabelSet>) -> Result<(), Error> {
        let mut state = self.write();
        match labels.filter(|l| !l.is_empty()) {
            Some(labels) => {
                let owner = state.owners.get("target_info").copied();
                if state.target_info.is_none() && owner.is_some_and(|o| o != Owner::TargetInfo) {
                    return Err(Error::TargetInfoExists);
                }
                state.owners.insert("target_info".to_owned(), Owner::TargetInfo);
                state.target_info = Some(labels);
            }
            None => {
                if state.target_info.take().is_some() {
                    state.owners.remove("target_info");
                }
            }
        }
        Ok(())
    }

    /// The labels of the `target_info` metric, if set.
    #[must_use]
    pub fn target_info(&self) -> Option<LabelSet> {
        self.read().target_info.clone()
    }

    /// Snapshots every collector, `target_info` first, then in registration order. Fails with
    /// the first collector that fails.
    pub fn collect(&self) -> Result<Vec<MetricFamily>, Error> {
        let _gate = crate::fork::enter();
        let (target_info, collectors) = {
            let state = self.read();
            let collectors: Vec<Arc<dyn Collector>> = state.entries.iter().map(|e| e.collector.clone()).collect();
            (state.target_info.clone(), collectors)
        };
        self.collect_from(target_info, collectors)
    }

    /// `target_info` first, then each collector in turn. Runs outside the registry's lock: a
    /// collector may itself use the registry.
    fn collect_from(
        &self,
        target_info: Option<LabelSet>,
        collectors: Vec<Arc<dyn Collector>>,
    ) -> Result<Vec<MetricFamily>, Error> {
        let options = self.collect_options();
        let mut out = Vec::with_capacity(collectors.len() + 1);
        out.extend(target_info.map(target_info_family));
        for collector in collectors {
            collector.collect(&options, &mut out)?;
        }
        Ok(out)
    }

    /// Snapshots only the samples with the given names: `restricted_registry` of
    /// `prometheus_client`, and the `name[]` filter of a scrape.
    pub fn collect_restricted(&self, names: &HashSet<String>) -> Result<Vec<MetricFamily>, Error> {
        let _gate = crate::fork::enter();
        let (target_info, collectors) = {
            let state = self.read();
            let target_info = state.target_info.clone().filter(|_| names.contains("target_info"));
            let wanted: HashSet<CollectorId> = names
                .iter()
                .filter_map(|n| match state.owners.get(n) {
                    Some(Owner::Collector(id)) => Some(*id),
                    _ => None,
                })
                .collect();
            let collectors: Vec<Arc<dyn Collector>> = state
                .entries
                .iter()
                .filter(|e| {
                    wanted.contains(&e.id) || (e.names.is_empty() && self.inner.options.restricted_includes_unnamed)
                })
                .map(|e| e.collector.clone())
                .collect();
            (target_info, collectors)
        };
        let families = self.collect_from(target_info, collectors)?;
        Ok(families.into_iter().filter_map(|f| f.restricted(|n| names.contains(n))).collect())
    }

    /// The value of the sample with this full name and exactly these labels. Meant for tests:
    /// it collects everything.
    pub fn get_sample_value(&self, name: &str, labels: &LabelSet) -> Result<Option<f64>, Error> {
        Ok(self.collect()?.iter().find_map(|family| {
            family
                .samples
                .iter()
                .find(|s| s.name.full(&family.name) == name && s.all_labels() == *labels)
                .map(|s| s.value)
        }))
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.inner.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.inner.state.write().unwrap_or_else(PoisonError::into_inner)
    }
}

fn target_info_family(labels: LabelSet) -> MetricFamily {
    let sample = Sample::new("_info", labels, 1.0);
    MetricFamily::from_parts("target".into(), "Target metadata".into(), MetricType::Info, "".into(), vec![sample])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metric::counter::Counter;
    use crate::metric::family::Family;
    use crate::metric::gauge::Gauge;
    use crate::metric::histogram::Histogram;
    use crate::metric::metadata::Metadata;

    fn counter(name: &str) -> Family<Counter> {
        Family::new(Metadata::new(name, "h")).unwrap()
    }

    #[test]
    fn clashing_names_are_refused_with_all_clashes_listed() {
        let r = Registry::new();
        r.register(counter("a")).unwrap();
        let err = r.register(counter("a")).unwrap_err();
        assert_eq!(err, Error::DuplicateTimeseries { names: vec!["a".into(), "a_created".into(), "a_total".into()] });
        // A gauge named like a counter's sample clashes too.
        let g = Family::<Gauge>::new(Metadata::new("a_total", "h")).unwrap();
        assert!(r.register(g).is_err());
        // And a histogram's `_count` is taken.
        let h = Family::<Histogram>::new(Metadata::new("b", "h")).unwrap();
        r.register(h).unwrap();
        assert!(r.register(Family::<Gauge>::new(Metadata::new("b_count", "h")).unwrap()).is_err());
    }

    #[test]
    fn unregister_frees_the_names() {
        let r = Registry::new();
        let id = r.register(counter("a")).unwrap();
        r.unregister(id).unwrap();
        r.register(counter("a")).unwrap();
        assert_eq!(r.unregister(id), Err(Error::NotRegistered));
    }

    #[test]
    fn target_info_comes_first_and_blocks_a_target_info_collector() {
        let r = Registry::new();
        r.register(counter("a")).unwrap();
        r.set_target_info(Some(LabelSet::new([("env", "prod")]))).unwrap();
        let families = r.collect().unwrap();
        assert_eq!(&*families[0].name, "target");
        assert_eq!(r.get_sample_value("target_info", &LabelSet::new([("env", "prod")])).unwrap(), Some(1.0));
        let clash = Family::<Gauge>::new(Metadata::new("target_info", "h")).unwrap();
        assert!(r.register(clash).is_err());
        r.set_target_info(None).unwrap();
        assert!(r.target_info().is_none());

        let r = Registry::new();
        r.register(Family::<Gauge>::new(Metadata::new("target_info", "h")).unwrap()).unwrap();
        assert_eq!(r.set_target_info(Some(LabelSet::new([("a", "b")]))), Err(Error::TargetInfoExists));
    }

    #[test]
    fn restriction_keeps_only_named_samples() {
        let r = Registry::new();
        let a = counter("a");
        r.register(a.clone()).unwrap();
        r.register(counter("b")).unwrap();
        let names: HashSet<String> = ["a_total".to_owned()].into();
        let families = r.collect_restricted(&names).unwrap();
        assert_eq!(families.len(), 1);
        assert_eq!(families[0].samples.len(), 1);
    }

    #[test]
    fn created_samples_can_be_switched_off() {
        let r = Registry::new();
        r.register(counter("a")).unwrap();
        assert!(r.get_sample_value("a_created", &LabelSet::EMPTY).unwrap().is_some());
        r.set_created_enabled(false);
        assert!(r.get_sample_value("a_created", &LabelSet::EMPTY).unwrap().is_none());
    }

    #[derive(Debug)]
    struct Undescribed;
    impl Collector for Undescribed {
        fn collect(&self, _: &CollectOptions, out: &mut Vec<MetricFamily>) -> Result<(), Error> {
            let mut family = MetricFamily::new("x", "h", MetricType::Gauge, "")?;
            family.samples.push(Sample::new("", LabelSet::EMPTY, 1.0));
            out.push(family);
            Ok(())
        }
    }

    #[test]
    fn collectors_without_describe_clash_only_under_auto_describe() {
        let r = Registry::new();
        r.register(Undescribed).unwrap();
        r.register(Undescribed).unwrap();
        let r = Registry::with_auto_describe();
        r.register(Undescribed).unwrap();
        assert!(r.register(Undescribed).is_err());
    }

    #[derive(Debug)]
    struct Failing;
    impl Collector for Failing {
        fn collect(&self, _: &CollectOptions, _: &mut Vec<MetricFamily>) -> Result<(), Error> {
            Err(Error::collect(std::io::Error::other("no /proc here")))
        }
    }

    #[test]
    fn a_failing_collector_fails_the_scrape_with_its_own_error() {
        let r = Registry::new();
        r.register(counter("a")).unwrap();
        r.register(Failing).unwrap();
        let err = r.collect().unwrap_err();
        assert_eq!(err.to_string(), "no /proc here");
        let Error::Collect(inner) = err else { panic!("not a collect error") };
        assert!(inner.source_error().downcast_ref::<std::io::Error>().is_some());
        // Under auto-describe, registration collects, so it fails there already.
        assert!(matches!(Registry::with_auto_describe().register(Failing), Err(Error::Collect(_))));
    }

    #[test]
    fn restriction_asks_unnamed_collectors_only_when_told_to() {
        let names: HashSet<String> = ["x".to_owned()].into();
        let r = Registry::new();
        r.register(Undescribed).unwrap();
        assert!(r.collect_restricted(&names).unwrap().is_empty());
        let r = Registry::with_options(RegistryOptions { restricted_includes_unnamed: true, ..Default::default() });
        r.register(Undescribed).unwrap();
        assert_eq!(r.collect_restricted(&names).unwrap().len(), 1);
    }

    #[test]
    fn restriction_keeps_the_unit() {
        let r = Registry::new();
        r.register(Family::<Gauge>::new(Metadata::new("mem", "h").unit("bytes")).unwrap()).unwrap();
        let names: HashSet<String> = ["mem_bytes".to_owned()].into();
        assert_eq!(&*r.collect_restricted(&names).unwrap()[0].unit, "bytes");
    }

    #[test]
    fn the_default_series_limit_folds_and_the_self_metric_counts() {
        let r = Registry::with_options(RegistryOptions { max_series_per_family: Some(2), ..Default::default() });
        let paths = Family::<Counter>::new(Metadata::new("hits", "h").label_names(["path"])).unwrap();
        let own = Family::<Counter>::new(Metadata::new("own", "h").label_names(["k"])).unwrap();
        r.register(paths.clone()).unwrap();
        r.register(own.clone()).unwrap();
        // A limit set after registration is counted in the registry all the same.
        own.set_series_limit(5).unwrap();
        for i in 0..10 {
            paths.labels(&[&format!("/{i}")]).unwrap().inc();
            own.labels(&[&i.to_string()]).unwrap().inc();
        }
        assert_eq!(paths.series_limit(), Some(2));
        assert_eq!(own.series_limit(), Some(5), "a family's own limit wins over the default");
        let folded = |family: &str| {
            r.get_sample_value("pyrometer_series_overflow_total", &LabelSet::new([("family", family)])).unwrap()
        };
        assert_eq!(folded("hits"), Some(8.0));
        assert_eq!(folded("own"), Some(5.0));
        let overflow = LabelSet::new([("path", crate::OVERFLOW_LABEL_VALUE)]);
        assert_eq!(r.get_sample_value("hits_total", &overflow).unwrap(), Some(8.0));
        let invalid = Registry::with_options(RegistryOptions { max_series_per_family: Some(0), ..Default::default() });
        assert_eq!(invalid.register(paths).unwrap_err(), Error::InvalidSeriesLimit);
    }

    #[test]
    fn a_registry_without_limits_has_no_self_metric() {
        let r = Registry::new();
        let paths = Family::<Counter>::new(Metadata::new("hits", "h").label_names(["path"])).unwrap();
        r.register(paths.clone()).unwrap();
        for i in 0..10 {
            paths.labels(&[&format!("/{i}")]).unwrap().inc();
        }
        assert_eq!(r.collect().unwrap().len(), 1);
    }
}
