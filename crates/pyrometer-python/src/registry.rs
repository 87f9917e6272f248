//! `CollectorRegistry`: the native registry, the Python objects registered in it, and the
//! exposition of what it holds.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyDict, PyIterator, PyList};
use pyrometer_core::{Collector, CollectorId, LabelSet, MetricFamily, Registry, RegistryOptions};
use pyrometer_expo::{OpenMetricsVersion, encode_graphite, encode_openmetrics_version, encode_text};

use crate::errors::to_py;
use crate::exposition::{escaping, graphite_labels};
use crate::metric_objects::{family_to_py, target_info_to_py, value_to_py};
use crate::native_metric::native_collector;
use crate::python_collector::PythonCollector;

/// The registry metrics join when none is named: the package's `REGISTRY`.
static DEFAULT_REGISTRY: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// Makes `registry` the default for metrics built without one. Called once, by the package.
#[pyfunction]
pub(crate) fn set_default_registry(registry: &Bound<'_, PyAny>) {
    let _ = DEFAULT_REGISTRY.set(registry.py(), registry.clone().unbind());
}

/// The `registry` argument of a metric: not given (the default registry), `None` (no
/// registry), or any object with `register()`, as upstream accepts.
pub(crate) enum RegistryArg<'py> {
    Default,
    Given(Option<Bound<'py, PyAny>>),
}

impl<'a, 'py> FromPyObject<'a, 'py> for RegistryArg<'py> {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        Ok(Self::Given(if obj.is_none() { None } else { Some(obj.to_owned()) }))
    }
}

impl RegistryArg<'_> {
    /// Registers `metric` where this argument says.
    pub(crate) fn register(self, metric: &Bound<'_, PyAny>) -> PyResult<()> {
        let py = metric.py();
        let registry = match self {
            Self::Default => DEFAULT_REGISTRY.get(py).map(|r| r.bind(py).clone()),
            Self::Given(given) => given,
        };
        if let Some(registry) = registry {
            registry.call_method1("register", (metric,))?;
        }
        Ok(())
    }
}

/// Whether `_created` samples are written: `disable_created_metrics()` turns them off for
/// every registry, as upstream's module-level switch does.
static CREATED_ENABLED: AtomicBool = AtomicBool::new(true);

/// Turns `_created` samples off everywhere.
#[pyfunction]
pub(crate) fn disable_created_metrics() {
    // Relaxed: a flag read once per collection; nothing else is published through it.
    CREATED_ENABLED.store(false, Ordering::Relaxed);
}

/// Turns `_created` samples back on everywhere.
#[pyfunction]
pub(crate) fn enable_created_metrics() {
    CREATED_ENABLED.store(true, Ordering::Relaxed);
}

/// Whether collections write `_created` samples now (what `metrics._use_created` reads).
#[pyfunction]
pub(crate) fn created_enabled() -> bool {
    CREATED_ENABLED.load(Ordering::Relaxed)
}

/// Switches native name checks between legacy and UTF-8 validation, as
/// `validation.enable_legacy_validation()` and `disable_legacy_validation()` do.
#[pyfunction]
pub(crate) fn set_legacy_validation(legacy: bool) {
    use pyrometer_core::name::{NameValidation, set_name_validation};
    set_name_validation(if legacy { NameValidation::Legacy } else { NameValidation::Utf8 });
}

/// A registered object and, for a native metric, its family.
type Chosen = (Py<PyAny>, Option<Arc<dyn Collector>>);

/// A registered object: a native metric, collected without the GIL, or a Python collector.
struct Member {
    object: Py<PyAny>,
    id: CollectorId,
    native: Option<Arc<dyn Collector>>,
}

/// A set of collectors with unique sample names.
#[pyclass(name = "CollectorRegistry", module = "pyrometer._native", frozen, subclass)]
pub(crate) struct PyCollectorRegistry {
    pub(crate) inner: Registry,
    members: Mutex<Vec<Member>>,
    /// The text of the last exposition, kept for the next one to write into.
    buffer: Mutex<String>,
}

impl PyCollectorRegistry {
    fn members(&self) -> std::sync::MutexGuard<'_, Vec<Member>> {
        self.members.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The registered objects and the names each produces, copied out of the lock so that
    /// Python code (a `__hash__`) never runs under it.
    fn named_members(&self, py: Python<'_>) -> Vec<(Py<PyAny>, Vec<String>)> {
        self.members().iter().map(|m| (m.object.clone_ref(py), self.inner.names(m.id).unwrap_or_default())).collect()
    }

    /// Collects natively, the GIL released but for Python collectors.
    /// Encodes `families` with `encode`, the GIL released, into the buffer the last encoding
    /// left, and copies the result into `bytes`. Reusing the buffer (and dropping the snapshot
    /// off the GIL) spares a large registry's scrape the page faults of fresh memory, which
    /// otherwise cost as much as the encoding. Concurrent scrapes each get a buffer.
    fn encode<'py>(
        &self,
        py: Python<'py>,
        families: Vec<MetricFamily>,
        encode: impl FnOnce(&mut String, &[MetricFamily]) -> Result<(), pyrometer_expo::Error> + Send,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let mut buffer = std::mem::take(&mut *self.buffer.lock().unwrap_or_else(PoisonError::into_inner));
        let encoded = py.detach(|| {
            buffer.clear();
            let encoded = encode(&mut buffer, &families);
            drop(families);
            encoded
        });
        let bytes = encoded.map(|()| PyBytes::new(py, buffer.as_bytes()));
        // A registry that shrank does not keep the memory of its largest scrape.
        if buffer.capacity() > 2 * buffer.len() + (1 << 20) {
            buffer.shrink_to(buffer.len() + buffer.len() / 4);
        }
        *self.buffer.lock().unwrap_or_else(PoisonError::into_inner) = buffer;
        bytes.map_err(crate::errors::expo_to_py)
    }

    pub(crate) fn collect_families(
        &self,
        py: Python<'_>,
        names: Option<&HashSet<String>>,
    ) -> PyResult<Vec<MetricFamily>> {
        self.inner.set_created_enabled(created_enabled());
        py.detach(|| match names {
            Some(names) => self.inner.collect_restricted(names),
            None => self.inner.collect(),
        })
        .map_err(to_py)
    }

    /// The `Metric` objects of a collection: native families converted, Python collectors'
    /// own objects passed through, `target_info` first.
    fn collect_objects<'py>(&self, py: Python<'py>, names: Option<&HashSet<String>>) -> PyResult<Bound<'py, PyList>> {
        self.inner.set_created_enabled(created_enabled());
        let options = self.inner.collect_options();
        let unnamed = self.inner.options().restricted_includes_unnamed;
        let chosen: Vec<Chosen> = self
            .members()
            .iter()
            .filter(|m| match names {
                None => true,
                Some(names) => {
                    let own = self.inner.names(m.id).unwrap_or_default();
                    (own.is_empty() && unnamed) || own.iter().any(|n| names.contains(n))
                }
            })
            .map(|m| (m.object.clone_ref(py), m.native.clone()))
            .collect();
        let out = PyList::empty(py);
        if let Some(labels) = self.inner.target_info().filter(|_| names.is_none_or(|n| n.contains("target_info"))) {
            let family = MetricFamily::from_parts(
                "target".into(),
                "Target metadata".into(),
                pyrometer_core::MetricType::Info,
                "".into(),
                vec![pyrometer_core::Sample::new("_info", labels, 1.0)],
            );
            out.append(target_info_to_py(py, &family)?)?;
        }
        for (object, native) in chosen {
            if let Some(native) = native {
                let mut families = Vec::new();
                native.collect(&options, &mut families).map_err(to_py)?;
                for family in families {
                    let family = match names {
                        Some(names) => family.restricted(|n| names.contains(n)),
                        None => Some(family),
                    };
                    if let Some(family) = family {
                        out.append(family_to_py(py, &family)?)?;
                    }
                }
                continue;
            }
            for metric in object.bind(py).call_method0("collect")?.try_iter()? {
                let metric = metric?;
                match names {
                    None => out.append(metric)?,
                    Some(names) => {
                        let restricted = metric.call_method1("_restricted_metric", (names.clone(),))?;
                        if !restricted.is_none() {
                            out.append(restricted)?;
                        }
                    }
                }
            }
        }
        Ok(out)
    }
}

#[pymethods]
impl PyCollectorRegistry {
    #[new]
    #[pyo3(signature = (
        auto_describe = false,
        target_info = None,
        support_collectors_without_names = false,
        *,
        max_series_per_family = None,
    ))]
    fn new(
        auto_describe: bool,
        target_info: Option<HashMap<String, String>>,
        support_collectors_without_names: bool,
        max_series_per_family: Option<usize>,
    ) -> PyResult<Self> {
        if max_series_per_family == Some(0) {
            return Err(to_py(pyrometer_core::Error::InvalidSeriesLimit));
        }
        let inner = Registry::with_options(RegistryOptions {
            auto_describe,
            restricted_includes_unnamed: support_collectors_without_names,
            max_series_per_family,
        });
        inner.set_target_info(target_info.map(LabelSet::new)).map_err(to_py)?;
        Ok(Self { inner, members: Mutex::default(), buffer: Mutex::default() })
    }

    /// Adds a collector: a metric of this package, or any object with `collect()`.
    fn register(&self, collector: &Bound<'_, PyAny>) -> PyResult<()> {
        let native = native_collector(collector);
        let id = if let Some(native) = &native {
            self.inner.register_shared(native.clone())
        } else {
            self.inner.register(PythonCollector::new(collector, self.inner.options().auto_describe)?)
        }
        .map_err(to_py)?;
        self.members().push(Member { object: collector.clone().unbind(), id, native });
        Ok(())
    }

    /// Removes a collector; `KeyError` if it is not registered.
    /// The registered objects, for the garbage collector: a Python collector is held twice
    /// (here, and by the native registry's wrapper that calls it), a native metric once.
    fn __traverse__(&self, visit: pyo3::PyVisit<'_>) -> Result<(), pyo3::PyTraverseError> {
        // Never wait in a traversal: a registry being changed is visited at the next collection.
        let Ok(members) = self.members.try_lock() else { return Ok(()) };
        for member in members.iter() {
            visit.call(&member.object)?;
            if member.native.is_none() {
                visit.call(&member.object)?;
            }
        }
        Ok(())
    }

    /// Unregisters everything, breaking a cycle through the registry.
    fn __clear__(&self) {
        let members = std::mem::take(&mut *self.members());
        for member in &members {
            let _ = self.inner.unregister(member.id);
        }
        drop(members);
    }

    fn unregister(&self, collector: &Bound<'_, PyAny>) -> PyResult<()> {
        let mut members = self.members();
        let at = members
            .iter()
            .position(|m| m.object.bind(collector.py()).is(collector))
            .ok_or_else(|| crate::errors::not_registered(collector))?;
        let member = members.remove(at);
        self.inner.unregister(member.id).map_err(to_py)
    }

    /// Each registered collector and the names it produces.
    #[getter]
    fn _collector_to_names<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        for (object, names) in self.named_members(py) {
            dict.set_item(object, names)?;
        }
        Ok(dict)
    }

    /// Each produced name and the collector that produces it.
    #[getter]
    fn _names_to_collectors<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        for (object, names) in self.named_members(py) {
            for name in names {
                dict.set_item(name, &object)?;
            }
        }
        Ok(dict)
    }

    /// The metrics of every collector, `target_info` first.
    fn collect<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyIterator>> {
        self.collect_objects(py, None)?.into_any().try_iter()
    }

    /// The metrics restricted to samples with these names (what `restricted_registry` collects).
    fn _collect_restricted<'py>(&self, py: Python<'py>, names: HashSet<String>) -> PyResult<Bound<'py, PyIterator>> {
        self.collect_objects(py, Some(&names))?.into_any().try_iter()
    }

    /// Sets or clears the `target_info` labels.
    fn set_target_info(&self, labels: Option<HashMap<String, String>>) -> PyResult<()> {
        self.inner.set_target_info(labels.map(LabelSet::new)).map_err(to_py)
    }

    /// The `target_info` labels, if set.
    fn get_target_info(&self) -> Option<HashMap<String, String>> {
        self.inner.target_info().map(|set| set.iter().map(|l| (l.name.to_string(), l.value.to_string())).collect())
    }

    /// The value of one sample, or `None`. Collectors are asked in turn, as upstream's
    /// `collect()` does, up to the first that has the sample; the value is of the type the
    /// collector holds it in (a Python collector's `int` stays an `int`).
    #[pyo3(signature = (name, labels = None))]
    fn get_sample_value(
        &self,
        py: Python<'_>,
        name: &str,
        labels: Option<HashMap<String, String>>,
    ) -> PyResult<Option<Py<PyAny>>> {
        let labels = labels.unwrap_or_default();
        let wanted = LabelSet::new(labels.clone());
        if name == "target_info" && self.inner.target_info().is_some_and(|l| l == wanted) {
            return Ok(Some(pyo3::types::PyInt::new(py, 1).into_any().unbind()));
        }
        self.inner.set_created_enabled(created_enabled());
        let options = self.inner.collect_options();
        let chosen: Vec<Chosen> = self.members().iter().map(|m| (m.object.clone_ref(py), m.native.clone())).collect();
        let labels = labels.into_pyobject(py)?;
        for (object, native) in chosen {
            let Some(native) = native else {
                for metric in object.bind(py).call_method0("collect")?.try_iter()? {
                    for sample in metric?.getattr("samples")?.try_iter()? {
                        let sample = sample?;
                        if sample.getattr("name")?.eq(name)? && sample.getattr("labels")?.eq(&labels)? {
                            return Ok(Some(sample.getattr("value")?.unbind()));
                        }
                    }
                }
                continue;
            };
            let mut families = Vec::new();
            py.detach(|| native.collect(&options, &mut families)).map_err(to_py)?;
            if let Some((metric_type, value)) = find_sample(&families, name, &wanted) {
                return Ok(Some(value_to_py(py, metric_type, value).unbind()));
            }
        }
        // The registry's own self-metric belongs to no member.
        if name.starts_with(pyrometer_core::SERIES_OVERFLOW_METRIC) {
            let mut families = py.detach(|| self.inner.collect()).map_err(to_py)?;
            families.retain(|f| &*f.name == pyrometer_core::SERIES_OVERFLOW_METRIC);
            if let Some((metric_type, value)) = find_sample(&families, name, &wanted) {
                return Ok(Some(value_to_py(py, metric_type, value).unbind()));
            }
        }
        Ok(None)
    }

    /// The registry, or only the samples in `names`, in the Prometheus text format; the GIL is
    /// released while it is built.
    #[pyo3(signature = (escaping_name = "underscores", names = None))]
    fn _generate_text<'py>(
        &self,
        py: Python<'py>,
        escaping_name: &str,
        names: Option<HashSet<String>>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let families = self.collect_families(py, names.as_ref())?;
        self.encode(py, families, |out, families| {
            encode_text(out, families, escaping(escaping_name));
            Ok(())
        })
    }

    /// The registry as Graphite plaintext lines stamped `timestamp`; the GIL is released while
    /// they are built.
    #[pyo3(signature = (prefix = "", tags = false, timestamp = 0))]
    fn _generate_graphite<'py>(
        &self,
        py: Python<'py>,
        prefix: &str,
        tags: bool,
        timestamp: i64,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let families = self.collect_families(py, None)?;
        let text = py.detach(|| {
            let mut out = String::new();
            encode_graphite(&mut out, &families, prefix, graphite_labels(tags), timestamp);
            out
        });
        Ok(PyBytes::new(py, text.as_bytes()))
    }

    /// The registry, or only the samples in `names`, as OpenMetrics text of `version`; the GIL
    /// is released while it is built.
    #[pyo3(signature = (escaping_name = "underscores", names = None, version = "1.0.0"))]
    fn _generate_openmetrics<'py>(
        &self,
        py: Python<'py>,
        escaping_name: &str,
        names: Option<HashSet<String>>,
        version: &str,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let families = self.collect_families(py, names.as_ref())?;
        let version = OpenMetricsVersion::from_version(version);
        self.encode(py, families, |out, families| {
            encode_openmetrics_version(out, families, escaping(escaping_name), version)
        })
    }
}

/// The type and value of the sample called `name` with exactly `labels`, if any family has it.
fn find_sample(families: &[MetricFamily], name: &str, labels: &LabelSet) -> Option<(pyrometer_core::MetricType, f64)> {
    families.iter().find_map(|family| {
        let sample = family.samples.iter().find(|s| s.name.full(&family.name) == name && s.all_labels() == *labels)?;
        Some((family.metric_type, sample.value))
    })
}
