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
        #[pyo3::pyclass(name = $name, module = "pyrometer._native", frozen, subclass)]
        pub(crate) struct $class(crate::family_handle::FamilyHandle<$metric>);

        #[pyo3::pymethods]
        impl $class {
            #[new]
            #[pyo3(signature = (
                name, documentation, labelnames = Vec::new(), namespace = String::new(),
                subsystem = String::new(), unit = String::new(),
                registry = crate::family_handle::RegistryArg::Default, _labelvalues = None, _parent = None
                $(, $opt = $opt_default)*
            ))]
            // Upstream's keyword names start with `_`; the bindings must carry them.
            #[allow(clippy::too_many_arguments, clippy::used_underscore_binding)]
            fn new(
                py: pyo3::Python<'_>,
                name: String,
                documentation: String,
                labelnames: Vec<String>,
                namespace: String,
                subsystem: String,
                unit: String,
                registry: crate::family_handle::RegistryArg,
                _labelvalues: Option<Vec<String>>,
                _parent: Option<pyo3::PyRef<'_, $class>>,
                $($opt: $opt_ty),*
            ) -> pyo3::PyResult<Self> {
                use crate::family_handle::{FamilyHandle, MetricArgs};
                if let (Some(parent), Some(values)) = (_parent, _labelvalues) {
                    return Ok(Self(FamilyHandle::child_of(&parent.0, values)?));
                }
                let args = MetricArgs { name, documentation, labelnames, namespace, subsystem, unit, registry };
                let options = $options(py, &args $(, $opt)*)?;
                Ok(Self(FamilyHandle::new(py, args, options)?))
            }

            $($methods)*

            /// The child for these label values, positional or by name.
            #[pyo3(signature = (*args, **kwargs))]
            fn labels(
                slf: &pyo3::Bound<'_, Self>,
                args: &pyo3::Bound<'_, pyo3::types::PyTuple>,
                kwargs: Option<&pyo3::Bound<'_, pyo3::types::PyDict>>,
            ) -> pyo3::PyResult<pyo3::Py<pyo3::PyAny>> {
                slf.get().0.labels(slf.as_any(), args, kwargs)
            }

            /// Removes the child with these label values.
            #[pyo3(signature = (*args))]
            fn remove(&self, args: &pyo3::Bound<'_, pyo3::types::PyTuple>) -> pyo3::PyResult<()> {
                self.0.remove(args)
            }

            /// Removes every child.
            fn clear(&self) {
                self.0.clear();
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
            fn _labelnames(&self) -> Vec<String> {
                self.0.family.meta().label_names.iter().map(ToString::to_string).collect()
            }

            #[getter]
            fn _labelvalues(&self) -> Vec<String> {
                self.0.labelvalues.clone()
            }

            #[classattr]
            fn _type() -> &'static str {
                $type_name
            }
        }
    };
}

pub(crate) use metric_class;

/// The options of a type that has none.
#[allow(clippy::unnecessary_wraps)]
pub(crate) fn no_options(_py: pyo3::Python<'_>, _args: &crate::family_handle::MetricArgs) -> pyo3::PyResult<()> {
    Ok(())
}
