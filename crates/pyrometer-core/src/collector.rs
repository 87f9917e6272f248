//! The collector trait: anything that produces metric families on a scrape.

use std::marker::PhantomData;
use std::sync::Arc;

use crate::error::Error;
use crate::metric::family::Family;
use crate::metric::fold_count::RegistryLink;
use crate::metric::kind::Metric;
use crate::metric_type::MetricType;
use crate::snapshot::family::MetricFamily;

/// Settings that apply to one collection.
#[derive(Clone, Copy, Debug)]
pub struct CollectOptions {
    /// Whether counters, histograms and summaries write `_created` samples.
    pub created: bool,
}

impl Default for CollectOptions {
    fn default() -> Self {
        Self { created: true }
    }
}

/// The name and type of a family a collector produces, used to detect clashes at registration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Description {
    /// The family name.
    pub name: Arc<str>,
    /// Its type.
    pub metric_type: MetricType,
}

/// Produces metric families when the registry is scraped.
///
/// ```
/// use pyrometer_core::{CollectOptions, Collector, Error, LabelSet, MetricFamily, MetricType, Registry, Sample};
///
/// #[derive(Debug)]
/// struct Uptime;
/// impl Collector for Uptime {
///     fn collect(&self, _: &CollectOptions, out: &mut Vec<MetricFamily>) -> Result<(), Error> {
///         let mut f = MetricFamily::new("uptime_seconds", "Uptime.", MetricType::Gauge, "")?;
///         f.samples.push(Sample::new("", LabelSet::EMPTY, 42.0));
///         out.push(f);
///         Ok(())
///     }
/// }
/// let registry = Registry::new();
/// registry.register(Uptime)?;
/// assert_eq!(registry.get_sample_value("uptime_seconds", &LabelSet::EMPTY)?, Some(42.0));
/// # Ok::<(), pyrometer_core::Error>(())
/// ```
pub trait Collector: Send + Sync + std::fmt::Debug + 'static {
    /// Appends the current families. A collector that cannot read what it reports fails the
    /// scrape with [`Error::collect`] rather than report a partial picture.
    fn collect(&self, options: &CollectOptions, out: &mut Vec<MetricFamily>) -> Result<(), Error>;

    /// The families this collector will produce, if it knows them up front. `None` (the
    /// default) registers it without names, so it clashes with nothing.
    fn describe(&self) -> Option<Vec<Description>> {
        None
    }

    /// Called once the collector is registered, for families to take the registry's default
    /// series limit and count their folds in its self-metric. Other collectors ignore it.
    fn guard_series(&self, _guard: &SeriesGuard<'_>) {}
}

/// What a registry offers a family it registers: see [`Collector::guard_series`].
#[derive(Debug)]
pub struct SeriesGuard<'a> {
    pub(crate) default_limit: Option<usize>,
    pub(crate) registry: RegistryLink,
    /// Offered while the registry registers the collector, not kept.
    pub(crate) registering: PhantomData<&'a ()>,
}

impl SeriesGuard<'_> {
    /// The registry's default series limit for families without their own.
    #[must_use]
    pub fn default_limit(&self) -> Option<usize> {
        self.default_limit
    }

    pub(crate) fn link(&self) -> RegistryLink {
        self.registry.clone()
    }
}

impl<M: Metric> Collector for Family<M> {
    fn collect(&self, options: &CollectOptions, out: &mut Vec<MetricFamily>) -> Result<(), Error> {
        out.push(Family::collect(self, options.created)?);
        Ok(())
    }

    fn describe(&self) -> Option<Vec<Description>> {
        let meta = self.meta();
        Some(vec![Description { name: meta.name.clone(), metric_type: meta.metric_type }])
    }

    fn guard_series(&self, guard: &SeriesGuard<'_>) {
        self.attach_series_guard(guard.default_limit(), guard.link());
    }
}
