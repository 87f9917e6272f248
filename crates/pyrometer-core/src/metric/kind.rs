//! The trait every metric type implements so that a [`Family`](super::family::Family) can hold it.

use std::fmt;
use std::sync::Arc;

use super::metadata::FamilyMeta;
use super::mirror::{SeriesMirror, SeriesShape};
use crate::metric_type::MetricType;
use crate::snapshot::labels::LabelSet;
use crate::snapshot::sample::Sample;

/// What a metric needs to know to write its samples for one series.
#[derive(Debug)]
pub struct SeriesContext<'a> {
    /// The family's description.
    pub meta: &'a FamilyMeta,
    /// The series' labels: constant and per-child, sorted.
    pub labels: &'a LabelSet,
    /// Whether to write `_created` samples.
    pub created: bool,
}

/// A metric type: a cheap, cloneable handle to one series' storage.
pub trait Metric: Clone + Send + Sync + fmt::Debug + 'static {
    /// The `OpenMetrics` type.
    const TYPE: MetricType;
    /// Label names this type writes itself, so users may not use them.
    const RESERVED_LABELS: &'static [&'static str] = &[];
    /// Whether collecting a series may run code the user supplied (a gauge's function). A family
    /// of such a type collects outside its lock, so that code may itself use the family.
    const RUNS_USER_CODE: bool = false;
    /// Per-family settings (buckets, states, ...).
    type Options: Clone + Send + Sync + fmt::Debug;

    /// Checks the options against the family before any series is built.
    fn validate(_options: &Self::Options, _meta: &FamilyMeta) -> Result<(), crate::error::Error> {
        Ok(())
    }

    /// A fresh series, handing its updates to `mirror` when there is one.
    fn build(options: &Self::Options, meta: &Arc<FamilyMeta>, mirror: Option<Arc<dyn SeriesMirror>>) -> Self;

    /// What a series of this type holds, for a mirror to lay out its copy; `None` for a type
    /// that is never mirrored.
    fn shape(_options: &Self::Options) -> Option<SeriesShape<'_>> {
        None
    }

    /// The series' mirror, if it has one.
    fn mirror(&self) -> Option<&Arc<dyn SeriesMirror>> {
        None
    }

    /// Appends this series' samples.
    ///
    /// # Errors
    /// Only a type that runs user code fails, with that code's failure.
    fn collect_samples(&self, series: &SeriesContext<'_>, out: &mut Vec<Sample>) -> Result<(), crate::error::Error>;
}
