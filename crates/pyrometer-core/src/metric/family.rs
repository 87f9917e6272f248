//! Family: the series of one metric, one per set of label values.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, PoisonError, RwLock};

use super::counter::Counter;
use super::fold_count::RegistryLink;
use super::kind::{Metric, SeriesContext};
use super::metadata::{FamilyMeta, Metadata};
use super::mirror::{MirrorSource, SeriesMirror};
use super::series_key::{KeyHasher, Query, SeriesKey};
use super::series_map::SeriesMap;
use crate::error::Error;
use crate::snapshot::family::MetricFamily;
use crate::snapshot::labels::{Label, LabelSet};

/// A metric family: its description and a child series per set of label values.
///
/// Children are owned handles (an `Arc` inside); look one up once and keep it to make each update
/// a single atomic operation. Children are kept in creation order, which is the order they are
/// exposed in.
///
/// ```
/// use pyrometer_core::{Counter, Family, Metadata};
/// let requests = Family::<Counter>::new(
///     Metadata::new("http_requests_total", "Requests served.").label_names(["method", "code"]),
/// )?;
/// let ok = requests.labels(&["GET", "200"])?;
/// ok.inc();
/// assert_eq!(requests.labels_by_name(&[("code", "200"), ("method", "GET")])?.get(), 1.0);
/// # Ok::<(), pyrometer_core::Error>(())
/// ```
pub struct Family<M: Metric> {
    inner: Arc<FamilyInner<M>>,
}

struct FamilyInner<M: Metric> {
    meta: Arc<FamilyMeta>,
    options: M::Options,
    /// Hashes every lookup's label values, with the family's own seed.
    keys: KeyHasher,
    /// The series, by their label values, in creation order.
    children: RwLock<SeriesMap<Child<M>>>,
    /// Most series before new label sets fold into the overflow series; 0 when unlimited.
    series_limit: AtomicUsize,
    /// Counts label sets folded into the overflow series: the registry's self-metric when the
    /// family is registered, made at the first fold.
    folded: OnceLock<Counter>,
    /// The registry the family was registered in.
    registry: OnceLock<RegistryLink>,
    /// Where each new series' updates are copied, if anywhere (the multiprocess store).
    mirror: Option<Arc<dyn MirrorSource>>,
}

/// Tells a removed series' mirror that its series is gone.
fn removed<M: Metric>(metric: &M) {
    if let Some(mirror) = metric.mirror() {
        mirror.remove();
    }
}

/// The value every per-child label takes in the series that label sets beyond a family's
/// [series limit](Family::set_series_limit) fold into.
pub const OVERFLOW_LABEL_VALUE: &str = "__overflow__";

struct Child<M> {
    labels: LabelSet,
    metric: M,
}

impl<M: Metric> Clone for Family<M> {
    fn clone(&self) -> Self {
        Self { inner: self.inner.clone() }
    }
}

impl<M: Metric> fmt::Debug for Family<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Family").field("meta", &self.inner.meta).field("series", &self.len()).finish()
    }
}

impl<M: Metric> Family<M>
where
    M::Options: Default,
{
    /// Builds a family with the type's default options (default buckets, say).
    pub fn new(meta: Metadata) -> Result<Self, Error> {
        Self::with_options(meta, M::Options::default())
    }
}

impl<M: Metric> Family<M> {
    /// Builds a family with explicit options (buckets for a histogram, states for a state set).
    /// A family without label names has its single series from the start.
    pub fn with_options(meta: Metadata, options: M::Options) -> Result<Self, Error> {
        Self::build(meta, options, None)
    }

    /// Builds a family whose series copy every update to a mirror that `source` makes for each
    /// (the multiprocess store's `StoreMirror`, say), so that other processes can read them.
    ///
    /// ```
    /// # use std::sync::{Arc, Mutex};
    /// use pyrometer_core::{
    ///     Counter, Error, Exemplar, Family, FamilyMeta, LabelSet, Metadata, MirrorSource, SeriesMirror, SeriesShape,
    /// };
    ///
    /// /// Keeps the total of every series in one shared number.
    /// #[derive(Debug, Default)]
    /// struct Tally(Arc<Mutex<f64>>);
    /// impl SeriesMirror for Tally {
    ///     fn add(&self, amount: f64) { *self.0.lock().unwrap() += amount; }
    ///     fn set(&self, _: f64) {}
    ///     fn observe(&self, _: f64) {}
    ///     fn set_states(&self, _: u64) {}
    ///     fn set_info(&self, _: &LabelSet) {}
    ///     fn exemplar(&self, _: f64, _: &Exemplar) {}
    ///     fn remove(&self) {}
    /// }
    /// impl MirrorSource for Tally {
    ///     fn open(&self, _: &FamilyMeta, _: SeriesShape<'_>, _: &[&str]) -> Result<Option<Arc<dyn SeriesMirror>>, Error> {
    ///         Ok(Some(Arc::new(Tally(Arc::clone(&self.0)))))
    ///     }
    /// }
    ///
    /// let tally = Tally::default();
    /// let total = Arc::clone(&tally.0);
    /// let jobs = Family::<Counter>::with_mirror(
    ///     Metadata::new("jobs", "Jobs.").label_names(["queue"]), (), Arc::new(tally),
    /// )?;
    /// jobs.labels(&["a"])?.inc_by(2.0);
    /// jobs.labels(&["b"])?.inc();
    /// assert_eq!(*total.lock().unwrap(), 3.0);
    /// # Ok::<(), Error>(())
    /// ```
    pub fn with_mirror(meta: Metadata, options: M::Options, source: Arc<dyn MirrorSource>) -> Result<Self, Error> {
        Self::build(meta, options, Some(source))
    }

    fn build(meta: Metadata, options: M::Options, mirror: Option<Arc<dyn MirrorSource>>) -> Result<Self, Error> {
        let meta = FamilyMeta::build(&meta, M::TYPE, M::RESERVED_LABELS)?;
        M::validate(&options, &meta)?;
        let family = Self {
            inner: Arc::new(FamilyInner {
                meta: Arc::new(meta),
                options,
                keys: KeyHasher::default(),
                children: RwLock::new(SeriesMap::default()),
                series_limit: AtomicUsize::new(0),
                folded: OnceLock::new(),
                registry: OnceLock::new(),
                mirror,
            }),
        };
        if family.inner.meta.label_names.is_empty() {
            family.labels(&[])?;
        }
        Ok(family)
    }

    /// The family's description.
    #[must_use]
    pub fn meta(&self) -> &FamilyMeta {
        &self.inner.meta
    }

    /// The options every series is built with (buckets, states, ...).
    #[must_use]
    pub fn options(&self) -> &M::Options {
        &self.inner.options
    }

    /// Bounds the number of series: once the family holds `max` series, a new set of label
    /// values gets the overflow series (every per-child label set to [`OVERFLOW_LABEL_VALUE`])
    /// and is counted in [`Family::folded`]. Existing series keep working. A registry built with
    /// a default limit applies it to families that have none.
    pub fn set_series_limit(&self, max: usize) -> Result<(), Error> {
        if max == 0 {
            return Err(Error::InvalidSeriesLimit);
        }
        // Relaxed: read under the children's write lock, which orders it with every creation.
        self.inner.series_limit.store(max, Ordering::Relaxed);
        Ok(())
    }

    /// The series limit, if one is set.
    #[must_use]
    pub fn series_limit(&self) -> Option<usize> {
        Some(self.inner.series_limit.load(Ordering::Relaxed)).filter(|&max| max != 0)
    }

    /// How many lookups of new label sets folded into the overflow series.
    #[must_use]
    pub fn folded(&self) -> f64 {
        self.inner.folded.get().map_or(0.0, Counter::get)
    }

    /// Takes the registry's default series limit unless the family has its own, and keeps a
    /// link to the registry, whose self-metric will count the family's folds.
    pub(crate) fn attach_series_guard(&self, default_limit: Option<usize>, registry: RegistryLink) {
        if let Some(max) = default_limit {
            // Only a family without its own limit takes the default.
            let _ = self.inner.series_limit.compare_exchange(0, max, Ordering::Relaxed, Ordering::Relaxed);
        }
        let _ = self.inner.registry.set(registry);
    }

    /// Counts one fold, in the registry's self-metric if the family is registered.
    fn count_fold(&self) {
        let counter = self.inner.folded.get_or_init(|| {
            let registry = self.inner.registry.get();
            registry.and_then(|r| r.overflow_counter(&self.inner.meta.name)).unwrap_or_default()
        });
        counter.inc();
    }

    /// The child for these label values, in label-name order; created on first use.
    pub fn labels(&self, values: &[&str]) -> Result<M, Error> {
        self.labels_or_overflow(values).map(|(metric, _)| metric)
    }

    /// The child for these label values, and whether it is the overflow series because the
    /// family reached its [series limit](Family::set_series_limit).
    pub fn labels_or_overflow(&self, values: &[&str]) -> Result<(M, bool), Error> {
        let expected = self.inner.meta.label_names.len();
        if values.len() != expected {
            return Err(Error::LabelCount { expected, got: values.len() });
        }
        let query = self.inner.keys.query(values);
        {
            let children = self.read();
            if let Some(child) = children.get(&query) {
                return Ok((child.metric.clone(), false));
            }
            // A full family answers new label sets from its overflow series under the read lock.
            let limit = self.inner.series_limit.load(Ordering::Relaxed);
            if limit != 0 && children.len() >= limit {
                let overflow = vec![OVERFLOW_LABEL_VALUE; values.len()];
                if let Some(child) = children.get(&self.inner.keys.query(&overflow)) {
                    self.count_fold();
                    return Ok((child.metric.clone(), true));
                }
            }
        }
        // The mirror is made under no lock: its source may do I/O or call an embedding runtime.
        let mut mirror = self.open_mirror(values)?;
        let mut children = self.inner.children.write().unwrap_or_else(PoisonError::into_inner);
        // Another thread may have created it between the two locks.
        let limit = self.inner.series_limit.load(Ordering::Relaxed);
        let full = limit != 0 && children.len() >= limit;
        if let Some(child) = children.get(&query) {
            // The other thread's series has a mirror of its own over the same copy.
            return Ok((child.metric.clone(), false));
        }
        if full {
            // Filled up meanwhile: this label set has no series, and no copy either.
            if let Some(unused) = mirror.take() {
                unused.remove();
            }
            drop(children);
            return Ok((self.overflow_series(), true));
        }
        Ok((self.insert(&mut children, &query, mirror), false))
    }

    /// The mirror of a new series with these label values, from the family's source.
    fn open_mirror(&self, values: &[&str]) -> Result<Option<Arc<dyn SeriesMirror>>, Error> {
        match (&self.inner.mirror, M::shape(&self.inner.options)) {
            (Some(source), Some(shape)) => source.open(&self.inner.meta, shape, values),
            _ => Ok(None),
        }
    }

    /// The overflow series, created if need be (it may take the family one over its limit),
    /// with the fold counted. Its mirror is made under no lock, as every series' is.
    fn overflow_series(&self) -> M {
        self.count_fold();
        let values = vec![OVERFLOW_LABEL_VALUE; self.inner.meta.label_names.len()];
        let query = self.inner.keys.query(&values);
        if let Some(child) = self.read().get(&query) {
            return child.metric.clone();
        }
        // A copy that cannot be made leaves the overflow series in this process only.
        let mirror = self.open_mirror(&values).unwrap_or_default();
        let mut children = self.inner.children.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(child) = children.get(&query) {
            return child.metric.clone();
        }
        self.insert(&mut children, &query, mirror)
    }

    /// Builds the series `query` names, which `children` lacks, and adds it.
    fn insert(
        &self,
        children: &mut SeriesMap<Child<M>>,
        query: &Query<'_>,
        mirror: Option<Arc<dyn SeriesMirror>>,
    ) -> M {
        let metric = M::build(&self.inner.options, &self.inner.meta, mirror);
        let (key, labels) = series_labels(&self.inner.meta, query);
        children.insert(query, key, Child { labels, metric: metric.clone() });
        metric
    }

    /// Runs `update` on the child for these label values (created on first use) without taking a
    /// handle to it: no reference count moves, so a repeated lookup costs the hash, the compare and
    /// the read lock alone. Keep the handle [`labels`](Self::labels) returns where a call site
    /// updates the same series again and again; use this where the label values vary.
    ///
    /// ```
    /// use pyrometer_core::{Counter, Family, Metadata};
    /// let requests = Family::<Counter>::new(Metadata::new("requests", "R.").label_names(["code"]))?;
    /// requests.with_labels(&["200"], Counter::inc)?;
    /// requests.with_labels(&["200"], |c| c.inc_by(2.0))?;
    /// assert_eq!(requests.labels(&["200"])?.get(), 3.0);
    /// # Ok::<(), pyrometer_core::Error>(())
    /// ```
    #[inline]
    pub fn with_labels<R>(&self, values: &[&str], update: impl FnOnce(&M) -> R) -> Result<R, Error> {
        let query = self.inner.keys.query(values);
        {
            let children = self.read();
            // A key holds as many values as the family has label names: a match has the count.
            if let Some(child) = children.get(&query) {
                return Ok(update(&child.metric));
            }
        }
        // A new label set, the overflow series or a wrong count: the full lookup tells.
        self.labels(values).map(|child| update(&child))
    }

    /// The child for labels given by name, in any order.
    pub fn labels_by_name(&self, pairs: &[(&str, &str)]) -> Result<M, Error> {
        let values = self.values_by_name(pairs)?;
        self.labels(&values)
    }

    /// The single series of a family without label names.
    pub fn without_labels(&self) -> Result<M, Error> {
        self.labels(&[])
    }

    /// Removes the child with these label values; tells whether there was one.
    pub fn remove(&self, values: &[&str]) -> Result<bool, Error> {
        let expected = self.inner.meta.label_names.len();
        if values.len() != expected {
            return Err(Error::LabelCount { expected, got: values.len() });
        }
        let query = self.inner.keys.query(values);
        let mut children = self.inner.children.write().unwrap_or_else(PoisonError::into_inner);
        match children.remove(&query) {
            Some(child) => {
                removed(&child.metric);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Removes every child whose labels include all of `partial`; returns how many went.
    pub fn remove_by_labels(&self, partial: &[(&str, &str)]) -> Result<usize, Error> {
        let names = &self.inner.meta.label_names;
        let unknown: Vec<String> =
            partial.iter().filter(|(n, _)| !names.iter().any(|l| &**l == *n)).map(|(n, _)| (*n).to_owned()).collect();
        if !unknown.is_empty() {
            let expected = names.iter().map(ToString::to_string).collect();
            return Err(Error::UnknownLabelNames { names: unknown, expected });
        }
        let mut children = self.inner.children.write().unwrap_or_else(PoisonError::into_inner);
        let before = children.len();
        children.retain(|child| {
            let keep = !partial.iter().all(|(name, value)| child.labels.get(name) == Some(*value));
            if !keep {
                removed(&child.metric);
            }
            keep
        });
        Ok(before - children.len())
    }

    /// Removes every child. A family without label names keeps its one series, as in
    /// `prometheus_client`.
    pub fn clear(&self) {
        if self.inner.meta.label_names.is_empty() {
            return;
        }
        let mut children = self.inner.children.write().unwrap_or_else(PoisonError::into_inner);
        for child in children.values() {
            removed(&child.metric);
        }
        children.clear();
    }

    /// Number of series.
    #[must_use]
    pub fn len(&self) -> usize {
        self.read().len()
    }

    /// Whether the family has no series.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A snapshot of every series, in creation order.
    ///
    /// # Errors
    /// The failure of a gauge's function.
    pub fn collect(&self, created: bool) -> Result<MetricFamily, Error> {
        let meta = &*self.inner.meta;
        let mut samples = Vec::new();
        if M::RUNS_USER_CODE {
            // User code may lock the family (or, from Python, wait for a thread that does):
            // take the series out first and run it under no lock.
            let children: Vec<(LabelSet, M)> =
                self.read().values().map(|c| (c.labels.clone(), c.metric.clone())).collect();
            samples.reserve(children.len());
            for (labels, metric) in &children {
                metric.collect_samples(&SeriesContext { meta, labels, created }, &mut samples)?;
            }
        } else {
            let children = self.read();
            samples.reserve(children.len() * 2);
            for child in children.values() {
                child.metric.collect_samples(&SeriesContext { meta, labels: &child.labels, created }, &mut samples)?;
            }
        }
        Ok(MetricFamily::from_parts(meta.name.clone(), meta.help.clone(), meta.metric_type, meta.unit.clone(), samples))
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, SeriesMap<Child<M>>> {
        self.inner.children.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn values_by_name<'a>(&self, pairs: &[(&str, &'a str)]) -> Result<Vec<&'a str>, Error> {
        let names = &self.inner.meta.label_names;
        if pairs.len() != names.len() {
            return Err(Error::LabelNames);
        }
        names
            .iter()
            .map(|name| pairs.iter().find(|(n, _)| *n == &**name).map(|(_, v)| *v).ok_or(Error::LabelNames))
            .collect()
    }
}

/// The key and labels of a new series: per-child values and constant labels, sorted. Each
/// value is copied once, which long keys share.
fn series_labels(meta: &FamilyMeta, query: &Query<'_>) -> (SeriesKey, LabelSet) {
    let owned: Vec<Arc<str>> = query.values().iter().map(|v| Arc::from(*v)).collect();
    let variable = meta.label_names.iter().cloned().zip(owned.iter().cloned());
    let constant = meta.const_labels.iter().map(|l: &Label| (l.name.clone(), l.value.clone()));
    (SeriesKey::new(query, &owned), LabelSet::new(variable.chain(constant)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metric::buckets::Buckets;
    use crate::metric::counter::Counter;
    use crate::metric::gauge::Gauge;
    use crate::metric::histogram::Histogram;
    use crate::metric::state_set::{StateSet, States};
    use crate::snapshot::sample::SampleName;

    fn requests() -> Family<Counter> {
        Family::new(Metadata::new("requests", "h").label_names(["method", "code"])).unwrap()
    }

    #[test]
    fn a_long_label_value_is_held_once_and_still_looked_up_by_value() {
        let family = requests();
        let long = "x".repeat(1 << 20);
        family.labels(&["GET", &long]).unwrap().inc();
        family.labels(&["GET", &long.clone()]).unwrap().inc();
        family.labels(&["GET", "x"]).unwrap().inc();
        let children = family.read();
        let (key, child) = children.iter().next().unwrap();
        let SeriesKey::Shared(values) = key else { panic!("a 1 MiB key is not packed") };
        // One copy: the key's values are the series' labels'.
        let value = child.labels.get("code").unwrap();
        assert!(std::ptr::eq(value.as_ptr(), values[1].as_ptr()));
        assert_eq!(key.values(), ["GET", long.as_str()]);
        let keys = &family.inner.keys;
        assert!(!key.matches(&keys.query(&["GET", &long[1..]])) && key.matches(&keys.query(&["GET", &long])));
        assert!(matches!(children.iter().nth(1).unwrap().0, SeriesKey::Inline(_)));
        drop(children);
        assert_eq!(family.labels(&["GET", &long]).unwrap().get(), 2.0);
        assert!(family.remove(&["GET", &long]).unwrap());
    }

    #[test]
    fn lookup_returns_the_same_series() {
        let f = requests();
        f.labels(&["GET", "200"]).unwrap().inc();
        f.labels(&["GET", "200"]).unwrap().inc();
        assert_eq!(f.labels(&["GET", "200"]).unwrap().get(), 2.0);
        assert_eq!(f.len(), 1);
    }

    #[test]
    fn values_that_concatenate_alike_are_different_series() {
        let f = requests();
        f.labels(&["ab", "c"]).unwrap().inc();
        assert_eq!(f.labels(&["a", "bc"]).unwrap().get(), 0.0);
        let long = "x".repeat(200);
        f.labels(&[&long, "y"]).unwrap().inc();
        assert_eq!(f.labels(&[&long, "y"]).unwrap().get(), 1.0);
        assert_eq!(f.len(), 3);
    }

    #[test]
    fn wrong_label_count_is_an_error() {
        let f = requests();
        assert_eq!(f.labels(&["GET"]).unwrap_err(), Error::LabelCount { expected: 2, got: 1 });
    }

    #[test]
    fn a_wrong_count_of_values_is_refused_even_where_the_bytes_look_alike() {
        let none = Family::<Counter>::new(Metadata::new("none", "h")).unwrap();
        let one = Family::<Counter>::new(Metadata::new("one", "h").label_names(["a"])).unwrap();
        let two = requests();
        one.labels(&[""]).unwrap().inc();
        two.labels(&["GET", ""]).unwrap().inc();
        two.labels(&["a", "b"]).unwrap().inc();
        let wrong: [(&Family<Counter>, &[&str]); 6] = [
            (&none, &[""]),
            (&one, &[]),
            (&one, &["", ""]),
            (&two, &["GET"]),
            (&two, &["ab"]),
            (&two, &["a", "b", ""]),
        ];
        for (family, values) in wrong {
            assert!(matches!(family.with_labels(values, Counter::inc), Err(Error::LabelCount { .. })), "{values:?}");
            assert!(matches!(family.labels(values), Err(Error::LabelCount { .. })), "{values:?}");
        }
        assert_eq!(one.labels(&[""]).unwrap().get(), 1.0);
        assert_eq!(two.len(), 2);
    }

    #[test]
    fn many_series_and_removals_keep_every_lookup_and_the_creation_order() {
        let family = requests();
        let codes: Vec<String> = (0..3000).map(|i| format!("{i:0>w$}", w = i % 40)).collect();
        for (i, code) in codes.iter().enumerate() {
            family.labels(&["GET", code]).unwrap().inc_by(i as f64);
        }
        for code in codes.iter().step_by(3) {
            assert!(family.remove(&["GET", code]).unwrap());
        }
        let left: Vec<usize> = (0..codes.len()).filter(|i| i % 3 != 0).collect();
        assert_eq!(family.len(), left.len());
        for (i, code) in codes.iter().enumerate() {
            let found = family.with_labels(&["GET", code], Counter::get).unwrap();
            assert_eq!(found, if i % 3 == 0 { 0.0 } else { i as f64 }, "{code}");
        }
        let order: Vec<f64> = family.collect(false).unwrap().samples.iter().map(|s| s.value).collect();
        let expected: Vec<f64> = left.iter().map(|&i| i as f64).chain(codes.iter().step_by(3).map(|_| 0.0)).collect();
        assert_eq!(order, expected);
    }

    #[test]
    fn labels_by_name_need_exactly_the_label_names() {
        let f = requests();
        assert!(f.labels_by_name(&[("code", "1"), ("method", "x")]).is_ok());
        assert_eq!(f.labels_by_name(&[("code", "1")]).unwrap_err(), Error::LabelNames);
        assert_eq!(f.labels_by_name(&[("code", "1"), ("verb", "x")]).unwrap_err(), Error::LabelNames);
    }

    #[test]
    fn remove_and_remove_by_labels() {
        let f = requests();
        for (m, c) in [("GET", "200"), ("GET", "500"), ("POST", "200")] {
            let _ = f.labels(&[m, c]).unwrap();
        }
        assert!(f.remove(&["GET", "500"]).unwrap());
        assert!(!f.remove(&["GET", "500"]).unwrap());
        assert_eq!(f.remove_by_labels(&[("code", "200")]).unwrap(), 2);
        assert!(f.is_empty());
        assert!(matches!(f.remove_by_labels(&[("nope", "1")]), Err(Error::UnknownLabelNames { .. })));
    }

    #[test]
    fn series_are_exposed_in_creation_order_even_after_removal() {
        let f = requests();
        for code in ["3", "1", "2"] {
            let _ = f.labels(&["GET", code]).unwrap();
        }
        f.remove(&["GET", "1"]).unwrap();
        let snap = f.collect(false).unwrap();
        let codes: Vec<_> = snap.samples.iter().map(|s| s.labels.get("code").unwrap().to_owned()).collect();
        assert_eq!(codes, ["3", "2"]);
    }

    #[test]
    fn unlabelled_family_has_its_series_from_the_start_and_clear_keeps_it() {
        let f = Family::<Counter>::new(Metadata::new("c", "h")).unwrap();
        assert_eq!(f.collect(true).unwrap().samples.len(), 2);
        f.clear();
        assert_eq!(f.len(), 1);
        f.without_labels().unwrap().inc();
        assert_eq!(f.collect(false).unwrap().samples[0].value, 1.0);
    }

    #[test]
    fn const_labels_join_every_series_in_name_order() {
        let f = Family::<Counter>::new(Metadata::new("c", "h").label_names(["z"]).const_label("a", "k")).unwrap();
        let _ = f.labels(&["1"]).unwrap();
        let labels = &f.collect(false).unwrap().samples[0].labels;
        let names: Vec<&str> = labels.iter().map(|l| &*l.name).collect();
        assert_eq!(names, ["a", "z"]);
    }

    #[test]
    fn a_gauge_function_may_add_series_to_its_own_family() {
        let family = Family::<Gauge>::new(Metadata::new("g", "G.").label_names(["n"])).unwrap();
        let inner = family.clone();
        family.labels(&["fn"]).unwrap().set_function(move || {
            inner.labels(&["made"]).unwrap().inc(1.0);
            inner.len() as f64
        });
        let values: Vec<f64> = family.collect(false).unwrap().samples.iter().map(|s| s.value).collect();
        assert_eq!(values, [2.0]);
        assert_eq!(family.collect(false).unwrap().samples.len(), 2);
    }

    #[test]
    fn label_sets_beyond_the_limit_fold_into_one_overflow_series() {
        let f = requests();
        assert_eq!(f.set_series_limit(0), Err(Error::InvalidSeriesLimit));
        f.set_series_limit(2).unwrap();
        f.labels(&["GET", "200"]).unwrap().inc();
        f.labels(&["GET", "500"]).unwrap().inc();
        for code in 0..100 {
            let (series, folded) = f.labels_or_overflow(&["GET", &code.to_string()]).unwrap();
            assert!(folded);
            series.inc();
        }
        // Existing series still get their own.
        let (existing, folded) = f.labels_or_overflow(&["GET", "200"]).unwrap();
        assert!(!folded);
        existing.inc();
        assert_eq!(f.len(), 3);
        assert_eq!(f.folded(), 100.0);
        let overflow = f.labels(&[OVERFLOW_LABEL_VALUE, OVERFLOW_LABEL_VALUE]).unwrap();
        assert_eq!(overflow.get(), 100.0);
        assert_eq!(f.labels(&["GET", "200"]).unwrap().get(), 2.0);
        // Removing a series makes room again.
        f.remove(&["GET", "500"]).unwrap();
        f.remove(&[OVERFLOW_LABEL_VALUE, OVERFLOW_LABEL_VALUE]).unwrap();
        assert!(!f.labels_or_overflow(&["PUT", "201"]).unwrap().1);
    }

    #[test]
    fn histogram_snapshot_never_tears() {
        let f = Family::<Histogram>::with_options(Metadata::new("h", "h"), Buckets::new([1.0]).unwrap()).unwrap();
        let h = f.without_labels().unwrap();
        let writer = std::thread::spawn(move || (0..100_000).for_each(|i| h.observe(f64::from(i % 2) * 2.0)));
        for _ in 0..500 {
            let snap = f.collect(false).unwrap();
            let inf =
                snap.samples.iter().find(|s| s.extra_label.as_ref().is_some_and(|l| &*l.value == "+Inf")).unwrap();
            let count = snap.samples.iter().find(|s| s.name == SampleName::Suffix("_count")).unwrap();
            assert_eq!(inf.value, count.value);
        }
        writer.join().unwrap();
    }

    #[test]
    fn state_set_starts_in_its_first_state() {
        let f = Family::<StateSet>::with_options(Metadata::new("s", "h"), States::new(["a", "b"])).unwrap();
        let s = f.without_labels().unwrap();
        assert!(s.holds("a").unwrap());
        s.set_exclusive("b").unwrap();
        assert!(!s.holds("a").unwrap() && s.holds("b").unwrap());
        assert!(s.set_exclusive("c").is_err());
        assert!(Family::<StateSet>::with_options(Metadata::new("s", "h"), States::new(Vec::<&str>::new())).is_err());
        let enum_label = Metadata::new("s", "h").label_names(["s"]);
        assert!(Family::<StateSet>::with_options(enum_label, States::new(["a"])).is_err());
    }
}
