//! The native class of a metric type: what every one shares, written once.

/// Declares `#[pyclass] $class` over a [`FamilyHandle`](crate::family_handle::FamilyHandle) of
/// `$metric`, with the constructor, `labels`, `remove`, `clear` and the private attributes
/// well-known users read, plus the type's own update methods given as `{ ... }`.
///
/// A type with options takes extra keyword arguments after upstream's common ones,
/// `options(name: Type = default, ...) => builder`, where `builder(py, &args, name, ...)` returns
/// `PyResult<M::Options>`.
macro_rules! metric_class {
    ($class:ident, $name:literal, $metric:ty, $type_name:literal, { $($methods:tt)* }) => {
        crate::metric_class::metric_class!($class, $name, $metric, $type_name, options() => crate::metric_class::no_options, { $($methods)* });
    };
    (
        $class:ident, $name:literal, $metric:ty, $type_name:literal,
        options($($opt:ident : $opt_ty:ty = $opt_default:expr),*) => $options:path,
        { $($methods:tt)* }
    ) => {
        #[doc = concat!("A ", $type_name, ", or one labelled child of it.")]
        // Named after the module users import it from, as upstream's `repr` shows it:
        // `pyrometer.metrics.Counter(requests)`.
        #[pyo3::pyclass(name = $name, module = "pyrometer.metrics", frozen, subclass, weakref)]
        pub(crate) struct $class(crate::family_handle::FamilyHandle<$metric>);

        #[pyo3::pymethods]
        impl $class {
            #[new]
            #[pyo3(signature = (
                name, documentation, labelnames = crate::arguments::Items::default(), namespace = String::new(),
                subsystem = String::new(), unit = String::new(),
                registry = crate::registry::RegistryArg::Default, _labelvalues = None, _parent = None
                $(, $opt = $opt_default)*
            ))]
            // Upstream's keyword names start with `_`; the bindings must carry them.
            #[allow(clippy::too_many_arguments, clippy::used_underscore_binding)]
            fn new(
                py: pyo3::Python<'_>,
                name: String,
                documentation: String,
                labelnames: crate::arguments::Items<String>,
                namespace: String,
                subsystem: String,
                unit: String,
                registry: crate::registry::RegistryArg<'_>,
                _labelvalues: Option<pyo3::Bound<'_, pyo3::PyAny>>,
                _parent: Option<pyo3::Bound<'_, pyo3::PyAny>>,
                $($opt: $opt_ty),*
            ) -> pyo3::PyResult<Self> {
                use crate::family_handle::{FamilyHandle, MetricArgs};
                if let Some(values) = _labelvalues {
                    let parent = _parent.map(pyo3::Bound::unbind).or_else(crate::family_handle::take_building_parent);
                    if let Some(parent) = parent
                        && let Ok(parent) = parent.bind(py).cast::<$class>()
                    {
                        return Ok(Self(FamilyHandle::child_of(&parent.get().0, &values)?));
                    }
                }
                let _ = registry;
                let mut args = MetricArgs {
                    name, documentation, labelnames: labelnames.0, namespace, subsystem, unit,
                    store_rule: pyrometer_store::Merge::Sum,
                };
                let options = $options(py, &mut args $(, $opt)*)?;
                Ok(Self(FamilyHandle::new(py, args, options)?))
            }

            /// Registers a new top-level metric in `registry` (the default one unless given),
            /// once the object exists, so that the registry holds this very object.
            #[pyo3(signature = (
                name, documentation, labelnames = None, namespace = None, subsystem = None, unit = None,
                registry = crate::registry::RegistryArg::Default, _labelvalues = None, _parent = None
                $(, $opt = None)*
            ))]
            #[allow(clippy::too_many_arguments, clippy::used_underscore_binding, unused_variables)]
            fn __init__(
                slf: &pyo3::Bound<'_, Self>,
                name: &pyo3::Bound<'_, pyo3::PyAny>,
                documentation: &pyo3::Bound<'_, pyo3::PyAny>,
                labelnames: Option<&pyo3::Bound<'_, pyo3::PyAny>>,
                namespace: Option<&pyo3::Bound<'_, pyo3::PyAny>>,
                subsystem: Option<&pyo3::Bound<'_, pyo3::PyAny>>,
                unit: Option<&pyo3::Bound<'_, pyo3::PyAny>>,
                registry: crate::registry::RegistryArg<'_>,
                _labelvalues: Option<&pyo3::Bound<'_, pyo3::PyAny>>,
                _parent: Option<&pyo3::Bound<'_, pyo3::PyAny>>,
                $($opt: Option<&pyo3::Bound<'_, pyo3::PyAny>>),*
            ) -> pyo3::PyResult<()> {
                if slf.get().0.labelvalues.is_none() {
                    let options = pyo3::types::PyDict::new(slf.py());
                    $(crate::metric_class::keep_option(slf.as_any(), &options, stringify!($opt), $opt)?;)*
                    let _ = slf.get().0.construction.options.set(slf.py(), options.unbind());
                    registry.register(slf.as_any())?;
                }
                Ok(())
            }

            fn __str__(&self) -> String {
                self.0.describe()
            }

            fn __traverse__(&self, visit: pyo3::PyVisit<'_>) -> Result<(), pyo3::PyTraverseError> {
                self.0.traverse(&visit)
            }

            fn __clear__(&self) {
                self.0.clear_held();
            }

            /// `copy.copy(metric)`: the metric itself. Upstream's shallow copy shares the
            /// original's values and children, so writing to either writes to both; here they
            /// are one object (docs/compat.md).
            fn __copy__(slf: pyo3::Py<Self>) -> pyo3::Py<Self> {
                slf
            }

            fn __repr__(slf: &pyo3::Bound<'_, Self>) -> pyo3::PyResult<String> {
                use pyo3::types::{PyAnyMethods, PyTypeMethods};
                let class = slf.get_type();
                Ok(format!("{}.{}({})", class.module()?, class.name()?, slf.get().0.family.meta().name))
            }

            $($methods)*

            /// The child for these label values, positional or by name.
            #[pyo3(signature = (*labelvalues, **labelkwargs))]
            fn labels(
                slf: &pyo3::Bound<'_, Self>,
                labelvalues: &pyo3::Bound<'_, pyo3::types::PyTuple>,
                labelkwargs: Option<&pyo3::Bound<'_, pyo3::types::PyDict>>,
            ) -> pyo3::PyResult<pyo3::Py<pyo3::PyAny>> {
                slf.get().0.labels(slf.as_any(), labelvalues, labelkwargs)
            }

            /// The child for these label values if `labels()` made it before, else `None`.
            #[pyo3(signature = (*labelvalues))]
            fn _existing_child(
                &self,
                labelvalues: &pyo3::Bound<'_, pyo3::types::PyTuple>,
            ) -> pyo3::PyResult<Option<pyo3::Py<pyo3::PyAny>>> {
                self.0.existing_child(labelvalues)
            }

            /// Removes the child with these label values.
            #[pyo3(signature = (*args))]
            fn remove(&self, args: &pyo3::Bound<'_, pyo3::types::PyTuple>) -> pyo3::PyResult<()> {
                self.0.remove(args)
            }

            /// Removes every child whose labels include all of `labels`.
            fn remove_by_labels(&self, labels: &pyo3::Bound<'_, pyo3::PyAny>) -> pyo3::PyResult<()> {
                self.0.remove_by_labels(labels)
            }

            /// Removes every child.
            fn clear(&self, py: pyo3::Python<'_>) -> pyo3::PyResult<()> {
                self.0.clear(py)
            }

            /// Bounds the number of labelled children: new label sets beyond `max_series` share
            /// one overflow child (every label `__overflow__`), counted in the registry's
            /// `pyrometer_series_overflow_total`.
            fn set_series_limit(&self, max_series: usize) -> pyo3::PyResult<()> {
                self.0.family.set_series_limit(max_series).map_err(crate::errors::to_py)
            }

            /// The metric's family with its current samples, as a one-element list.
            fn collect<'py>(&self, py: pyo3::Python<'py>) -> pyo3::PyResult<pyo3::Bound<'py, pyo3::types::PyList>> {
                let family = self.0.family.collect(crate::registry::created_enabled()).map_err(crate::errors::to_py)?;
                pyo3::types::PyList::new(py, [crate::metric_objects::family_to_py(py, &family)?])
            }

            /// The metric's family without samples, as a one-element list.
            fn describe<'py>(&self, py: pyo3::Python<'py>) -> pyo3::PyResult<pyo3::Bound<'py, pyo3::types::PyList>> {
                let meta = self.0.family.meta();
                let family = pyrometer_core::MetricFamily::from_parts(
                    meta.name.clone(),
                    meta.help.clone(),
                    meta.metric_type,
                    meta.unit.clone(),
                    Vec::new(),
                );
                pyo3::types::PyList::new(py, [crate::metric_objects::family_to_py(py, &family)?])
            }

            #[getter]
            fn _name(&self) -> String {
                self.0.family.meta().name.to_string()
            }

            #[getter]
            fn _documentation(&self) -> String {
                self.0.family.meta().help.to_string()
            }

            #[getter]
            fn _labelnames<'py>(&self, py: pyo3::Python<'py>) -> pyo3::PyResult<pyo3::Bound<'py, pyo3::types::PyTuple>> {
                pyo3::types::PyTuple::new(py, self.0.family.meta().label_names.iter().map(|n| &**n))
            }

            #[getter]
            fn _labelvalues<'py>(&self, py: pyo3::Python<'py>) -> pyo3::Bound<'py, pyo3::types::PyTuple> {
                self.0.labelvalues.as_ref().map_or_else(|| pyo3::types::PyTuple::empty(py), |v| v.bind(py).clone())
            }

            #[classattr]
            fn _type() -> &'static str {
                $type_name
            }
        }

        impl crate::metric_class::LabelledMetric for $class {
            fn children_by_values(&self) -> Option<&pyo3::Py<pyo3::types::PyDict>> {
                self.0.children_by_values()
            }

            fn label_keys(&self) -> Option<&pyo3::Py<pyo3::types::PyTuple>> {
                self.0.label_keys()
            }

            fn idle_timer(&self) -> &pyo3::sync::PyOnceLock<pyo3::Py<crate::context_managers::Timer>> {
                &self.0.idle_timer
            }
        }

        impl crate::native_metric::NativeMetric for $class {
            fn collector(&self) -> std::sync::Arc<dyn pyrometer_core::Collector> {
                std::sync::Arc::new(self.0.family.clone())
            }
        }
    };
}

pub(crate) use metric_class;

/// Keeps a type's keyword argument for its children's constructor as upstream passes it: as
/// given, or upstream's default where it always passes one (`buckets`, `multiprocess_mode`).
pub(crate) fn keep_option(
    metric: &pyo3::Bound<'_, pyo3::PyAny>,
    options: &pyo3::Bound<'_, pyo3::types::PyDict>,
    name: &str,
    given: Option<&pyo3::Bound<'_, pyo3::PyAny>>,
) -> pyo3::PyResult<()> {
    use pyo3::types::{PyAnyMethods, PyDictMethods};
    match (given, name) {
        (Some(value), _) if !value.is_none() => options.set_item(name, value),
        (_, "buckets") => options.set_item(name, metric.getattr("DEFAULT_BUCKETS")?),
        (_, "multiprocess_mode") => options.set_item(name, "all"),
        _ => Ok(()),
    }
}

/// What the hot path's `labels()` and `time()`, and the registry layer's writes, need of a
/// metric class.
pub(crate) trait LabelledMetric: pyo3::PyClass<Frozen = pyo3::pyclass::boolean_struct::True> + Sync {
    /// A parent's children by the tuple of their label values; `None` for a child.
    fn children_by_values(&self) -> Option<&pyo3::Py<pyo3::types::PyDict>>;

    /// A parent's label names as interned strings, in order; `None` for a child.
    fn label_keys(&self) -> Option<&pyo3::Py<pyo3::types::PyTuple>>;

    /// Where `time()` keeps the timer it hands out again.
    fn idle_timer(&self) -> &pyo3::sync::PyOnceLock<pyo3::Py<crate::context_managers::Timer>>;
}

/// The options of a type that has none.
#[allow(clippy::unnecessary_wraps)]
pub(crate) fn no_options(_py: pyo3::Python<'_>, _args: &crate::family_handle::MetricArgs) -> pyo3::PyResult<()> {
    Ok(())
}
