//! `Histogram`.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyFloat, PyTuple};
use pyrometer_core::{Buckets, DEFAULT_BUCKETS, Histogram};

use crate::arguments::Items;
use crate::context_managers::{Sink, Timer, timer};
use crate::errors::to_py;
use crate::family_handle::MetricArgs;
use crate::metric_class::metric_class;
use crate::metric_objects::exemplar_arg;

/// Bounds as upstream reads them: anything `float()` accepts, `"+Inf"` included.
fn bounds(py: Python<'_>, _args: &MetricArgs, buckets: Option<Items<Bound<'_, PyAny>>>) -> PyResult<Buckets> {
    let Some(Items(buckets)) = buckets else { return Buckets::new(DEFAULT_BUCKETS).map_err(to_py) };
    let float = py.get_type::<PyFloat>();
    let bounds: Vec<f64> = buckets.iter().map(|b| float.call1((b,))?.extract()).collect::<PyResult<_>>()?;
    Buckets::new(bounds).map_err(to_py)
}

metric_class!(
    PyHistogram, "Histogram", Histogram, "histogram",
    options(buckets: Option<Items<Bound<'_, PyAny>>> = None) => bounds,
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
            timer(slf.as_any(), &slf.get().0.idle_timer, Sink::Observe)
        }

        /// The default upper bounds, `+Inf` last.
        #[classattr]
        #[allow(non_snake_case)]
        fn DEFAULT_BUCKETS(py: Python<'_>) -> PyResult<Py<PyTuple>> {
            Ok(PyTuple::new(py, DEFAULT_BUCKETS)?.unbind())
        }

        /// Upper bounds, `+Inf` last.
        #[getter]
        fn _upper_bounds(&self) -> Vec<f64> {
            self.0.family.options().bounds().to_vec()
        }
    }
);

impl PyHistogram {
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
