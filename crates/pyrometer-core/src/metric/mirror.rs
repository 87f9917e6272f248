//! Mirrors: where a series' updates are copied besides its own atomics, such as the
//! multiprocess store (`pyrometer-store`), which other processes read.
//!
//! A family built with a [`MirrorSource`] asks it for a [`SeriesMirror`] for each new series,
//! and the series hands every update to its mirror after applying it: one predictable branch
//! when there is none. The core knows no files; the source decides where the copy lives.

use std::fmt;
use std::sync::Arc;

use super::metadata::FamilyMeta;
use super::native_histogram::NativeHistogramOptions;
use super::state_set::States;
use super::summary::Quantiles;
use crate::error::Error;
use crate::snapshot::exemplar::Exemplar;
use crate::snapshot::labels::LabelSet;

/// What a series of a metric type holds, as a mirror needs to lay out its copy.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum SeriesShape<'a> {
    /// A total (`_total`, `_created`).
    Counter,
    /// One value.
    Gauge,
    /// Buckets with these upper bounds (`+Inf` last), a sum, `_created`.
    Histogram {
        /// The upper bounds.
        bounds: &'a [f64],
    },
    /// Exponential buckets (and classic ones when asked for), a sum, `_created`.
    NativeHistogram {
        /// How the observations are bucketed.
        options: &'a NativeHistogramOptions,
    },
    /// Count, sum, `_created`, and the observations' quantiles when asked for.
    Summary {
        /// The quantiles reported, if any.
        quantiles: Option<&'a Quantiles>,
    },
    /// One flag per state.
    StateSet {
        /// The states.
        states: &'a States,
    },
    /// A set of pairs.
    Info,
}

/// The copy of one series' values outside the series. Each method is called after the series
/// applied the update, with the update as the series took it.
pub trait SeriesMirror: Send + Sync + fmt::Debug {
    /// `amount` was added (a counter's increment, a gauge's `inc`/`dec`).
    fn add(&self, amount: f64);
    /// The value was set (a gauge; a counter reset to 0).
    fn set(&self, value: f64);
    /// A histogram or summary observed `value`.
    fn observe(&self, value: f64);
    /// A state set now holds the states whose bits are set in `holding` (bit `i`: state `i`).
    fn set_states(&self, holding: u64);
    /// An info now holds `pairs`.
    fn set_info(&self, pairs: &LabelSet);
    /// `exemplar` was recorded with an increment, or with the observation of `value` (whose
    /// bucket holds it).
    fn exemplar(&self, value: f64, exemplar: &Exemplar);
    /// The series left its family (`remove`, `clear`): its copy should leave too.
    fn remove(&self);
}

/// Makes the mirror of each new series of a family.
pub trait MirrorSource: Send + Sync + fmt::Debug {
    /// The mirror of the series of `meta` with these label values (in label-name order), or
    /// `None` for a series this source does not copy. It runs under no lock of the family, so it
    /// may take its time or call back into an embedding runtime.
    ///
    /// # Errors
    /// The copy cannot be made (the store cannot grow, say); the series is not created.
    fn open(
        &self,
        meta: &FamilyMeta,
        shape: SeriesShape<'_>,
        label_values: &[&str],
    ) -> Result<Option<Arc<dyn SeriesMirror>>, Error>;
}

/// A series' optional mirror.
pub(crate) type Mirror = Option<Arc<dyn SeriesMirror>>;
