//! `Histogram`: classic buckets, or native ones (exponential, with classic ones beside when
//! bounds are given too).

use std::sync::Arc;
use std::time::Duration;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyFloat, PyTuple};
use pyrometer_core::{
    Buckets, DEFAULT_BUCKETS, Error, Exemplar, FamilyMeta, Histogram, Metric, MetricType, NativeHistogram,
    NativeHistogramOptions, Sample, SeriesContext, SeriesMirror, SeriesShape,
};

use crate::arguments::Items;
use crate::context_managers::{Sink, Timer, timer};
use crate::errors::to_py;
use crate::family_handle::MetricArgs;
use crate::metric_class::metric_class;
use crate::metric_objects::exemplar_arg;

/// A series of a `Histogram`.
#[derive(Clone, Debug)]
pub(crate) enum HistogramSeries {
    /// Classic buckets.
    Classic(Histogram),
    /// Native buckets.
    Native(NativeHistogram),
}

/// How a `Histogram`'s series bucket their observations.
#[derive(Clone, Debug)]
pub(crate) enum HistogramLayout {
    /// Classic buckets with these bounds.
    Classic(Buckets),
    /// Native buckets (and classic ones, if the options keep any).
    Native(NativeHistogramOptions),
}

impl HistogramSeries {
    #[inline]
    pub(crate) fn observe(&self, value: f64) {
        match self {
            Self::Classic(h) => h.observe(value),
            Self::Native(h) => h.observe(value),
        }
    }

    fn observe_with_exemplar(&self, value: f64, exemplar: Exemplar) {
        match self {
            Self::Classic(h) => h.observe_with_exemplar(value, exemplar),
            Self::Native(h) => h.observe_with_exemplar(value, exemplar),
        }
    }
}

impl Metric for HistogramSeries {
    const TYPE: MetricType = MetricType::Histogram;
    const RESERVED_LABELS: &'static [&'static str] = &["le"];
    type Options = HistogramLayout;

    fn validate(options: &HistogramLayout, meta: &FamilyMeta) -> Result<(), Error> {
        match options {
            HistogramLayout::Classic(buckets) => Histogram::validate(buckets, meta),
            HistogramLayout::Native(native) => NativeHistogram::validate(native, meta),
        }
    }

    fn build(options: &HistogramLayout, meta: &Arc<FamilyMeta>, mirror: Option<Arc<dyn SeriesMirror>>) -> Self {
        match options {
            HistogramLayout::Classic(buckets) => Self::Classic(Histogram::build(buckets, meta, mirror)),
            HistogramLayout::Native(native) => Self::Native(NativeHistogram::build(native, meta, mirror)),
        }
    }

    fn shape(options: &HistogramLayout) -> Option<SeriesShape<'_>> {
        match options {
            HistogramLayout::Classic(buckets) => Histogram::shape(buckets),
            HistogramLayout::Native(native) => NativeHistogram::shape(native),
        }
    }

    fn mirror(&self) -> Option<&Arc<dyn SeriesMirror>> {
        match self {
            Self::Classic(h) => h.mirror(),
            Self::Native(h) => h.mirror(),
        }
    }

    fn collect_samples(&self, series: &SeriesContext<'_>, out: &mut Vec<Sample>) -> Result<(), Error> {
        match self {
            Self::Classic(h) => h.collect_samples(series, out),
            Self::Native(h) => h.collect_samples(series, out),
        }
    }
}

/// Bounds as upstream reads them: anything `float()` accepts, `"+Inf"` included.
fn bounds(py: Python<'_>, buckets: &Items<Bound<'_, PyAny>>) -> PyResult<Buckets> {
    let float = py.get_type::<PyFloat>();
    let bounds: Vec<f64> = buckets.0.iter().map(|b| float.call1((b,))?.extract()).collect::<PyResult<_>>()?;
    Buckets::new(bounds).map_err(to_py)
}

/// The layout the keyword arguments ask for: native buckets when any `native_histogram_*`
/// argument is given (`client_golang`'s options, by their Python names), with classic ones beside
/// when `buckets` is given too; classic buckets otherwise.
#[allow(clippy::too_many_arguments)]
fn layout(
    py: Python<'_>,
    _args: &MetricArgs,
    buckets: Option<Items<Bound<'_, PyAny>>>,
    native_histogram_bucket_factor: Option<f64>,
    native_histogram_zero_threshold: Option<f64>,
    native_histogram_max_buckets: Option<u32>,
    native_histogram_min_reset_duration: Option<f64>,
    native_histogram_max_zero_threshold: Option<f64>,
) -> PyResult<HistogramLayout> {
    let classic = buckets.map(|b| bounds(py, &b)).transpose()?;
    let native = [
        native_histogram_bucket_factor,
        native_histogram_zero_threshold,
        native_histogram_max_buckets.map(f64::from),
        native_histogram_min_reset_duration,
        native_histogram_max_zero_threshold,
    ];
    if native.iter().all(Option::is_none) {
        return Ok(HistogramLayout::Classic(match classic {
            Some(buckets) => buckets,
            None => Buckets::new(DEFAULT_BUCKETS).map_err(to_py)?,
        }));
    }
    let defaults = NativeHistogramOptions::default();
    let min_reset_duration = match native_histogram_min_reset_duration {
        Some(seconds) if !(seconds.is_finite() && seconds >= 0.0) => {
            return Err(to_py(Error::InvalidOption {
                message: "native_histogram_min_reset_duration must be a finite number of seconds of at least 0".into(),
            }));
        }
        Some(seconds) if seconds > 0.0 => Some(Duration::from_secs_f64(seconds)),
        _ => None,
    };
    let options = NativeHistogramOptions {
        bucket_factor: native_histogram_bucket_factor.unwrap_or(defaults.bucket_factor),
        zero_threshold: native_histogram_zero_threshold.unwrap_or(defaults.zero_threshold),
        max_buckets: native_histogram_max_buckets.unwrap_or(defaults.max_buckets),
        min_reset_duration,
        max_zero_threshold: native_histogram_max_zero_threshold.unwrap_or(defaults.max_zero_threshold),
        max_exemplars: defaults.max_exemplars,
        classic,
    };
    options.validate().map_err(to_py)?;
    Ok(HistogramLayout::Native(options))
}

metric_class!(
    PyHistogram, "Histogram", HistogramSeries, "histogram",
    options(
        buckets: Option<Items<Bound<'_, PyAny>>> = None,
        native_histogram_bucket_factor: Option<f64> = None,
        native_histogram_zero_threshold: Option<f64> = None,
        native_histogram_max_buckets: Option<u32> = None,
        native_histogram_min_reset_duration: Option<f64> = None,
        native_histogram_max_zero_threshold: Option<f64> = None
    ) => layout,
    {
        /// Records one observation.
        #[pyo3(signature = (amount, exemplar = None))]
        fn observe(&self, amount: f64, exemplar: Option<Bound<'_, PyDict>>) -> PyResult<()> {
            match exemplar {
                None => self.observe_value(amount),
                Some(labels) => self.observe_with_exemplar(amount, &labels),
            }
        }

        /// Observes the duration of a block or function, in seconds.
        fn time<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, Timer>> {
            timer(slf.as_any(), &slf.get().0.idle_timer, PyHistogram::TIMED, None)
        }

        /// The default upper bounds, `+Inf` last.
        #[classattr]
        #[allow(non_snake_case)]
        fn DEFAULT_BUCKETS(py: Python<'_>) -> PyResult<Py<PyTuple>> {
            Ok(PyTuple::new(py, DEFAULT_BUCKETS)?.unbind())
        }

        /// Upper bounds of the classic buckets, `+Inf` last (`+Inf` alone for native buckets
        /// without classic ones).
        #[getter]
        fn _upper_bounds(&self) -> Vec<f64> {
            match self.0.family.options() {
                HistogramLayout::Classic(buckets) => buckets.bounds().to_vec(),
                HistogramLayout::Native(native) => {
                    native.classic.as_ref().map_or_else(|| vec![f64::INFINITY], |b| b.bounds().to_vec())
                }
            }
        }
    }
);

impl PyHistogram {
    /// How `time()` reports: the duration is observed.
    pub(crate) const TIMED: Sink = Sink {
        method: "observe",
        native: |metric, seconds| metric.cast_exact::<Self>().ok().map(|h| h.get().observe_value(seconds)),
    };

    /// `observe(value)` for the hot path: `false` leaves the call (and its error) to `observe`.
    #[inline]
    pub(crate) fn try_observe(&self, value: f64) -> bool {
        self.0.series.is_some() && self.observe_value(value).is_ok()
    }

    /// `observe(value)` without an exemplar, for native callers too.
    #[inline]
    pub(crate) fn observe_value(&self, value: f64) -> PyResult<()> {
        self.0.series()?.observe(value);
        Ok(())
    }

    /// `observe` with an exemplar: kept out of line so that the common call carries none of it.
    #[cold]
    fn observe_with_exemplar(&self, amount: f64, labels: &Bound<'_, PyDict>) -> PyResult<()> {
        // A parent's missing labels are told first, as upstream tells them.
        let series = self.0.series()?;
        let Some(exemplar) = exemplar_arg(Some(labels), amount)? else { return self.observe_value(amount) };
        series.observe_with_exemplar(amount, exemplar);
        Ok(())
    }
}
