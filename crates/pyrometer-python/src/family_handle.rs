//! What every native metric class shares: its family, its own series when it has one, the
//! Python objects of its children, and how `labels()`, `remove()` and `clear()` work on them.

use std::cell::RefCell;
use std::sync::{Arc, Mutex, PoisonError};

use pyo3::prelude::*;
use pyo3::pybacked::PyBackedStr;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyString, PyTuple};
use pyrometer_core::{Family, Metadata, Metric};

use crate::context_managers::Timer;
use crate::errors::to_py;
use crate::multiprocess::ValueClassStore;
use pyrometer_store::Merge;

/// The arguments every metric constructor takes, as `prometheus_client` names them.
pub(crate) struct MetricArgs {
    pub(crate) name: String,
    pub(crate) documentation: String,
    pub(crate) labelnames: Vec<String>,
    pub(crate) namespace: String,
    pub(crate) subsystem: String,
    pub(crate) unit: String,
    /// How the multiprocess store combines this metric's processes (a gauge's mode).
    pub(crate) store_rule: Merge,
}

/// What a metric was built from, as upstream hands it to the constructor of each child, so that
/// a subclass's `__init__` is called for a child with the same arguments as upstream's would be.
pub(crate) struct Construction {
    name: String,
    namespace: String,
    subsystem: String,
    unit: String,
    /// The type's own keyword arguments (`buckets`, `multiprocess_mode`, `states`), kept by
    /// `__init__`.
    pub(crate) options: PyOnceLock<Py<PyDict>>,
}

thread_local! {
    /// The parent whose child is being built: `labels()` sets it around its call of the class,
    /// whose `__new__` takes it. Upstream's constructor has no parent argument, so a subclass
    /// that spells out its signature must not be handed one.
    static BUILDING_CHILD_OF: RefCell<Option<Py<PyAny>>> = const { RefCell::new(None) };
}

/// The parent `labels()` is building a child of, taken (a constructor call consumes it).
pub(crate) fn take_building_parent() -> Option<Py<PyAny>> {
    BUILDING_CHILD_OF.with_borrow_mut(Option::take)
}

/// A metric object's native state: a labelled parent, or an observable series.
pub(crate) struct FamilyHandle<M: Metric> {
    pub(crate) family: Family<M>,
    /// The series this object updates: set for children and for metrics without labels.
    pub(crate) series: Option<M>,
    /// A child's label values, as given (`_labelvalues`); `None` for a parent.
    pub(crate) labelvalues: Option<Py<PyTuple>>,
    /// A parent's children, keyed by the tuple of their label values as strings: the Python
    /// objects `labels()` returned. A dict lookup by the caller's own argument tuple uses the
    /// strings' cached hashes, so a repeated `labels("GET", "200")` allocates nothing.
    children: Option<Py<PyDict>>,
    /// A parent's label names as interned strings, in order: what keyword and dict lookups of a
    /// child compare the caller's keys with (by identity first, as call sites intern theirs).
    label_keys: Option<Py<PyTuple>>,
    /// The timer `time()` hands out again once nobody holds it (histograms, summaries, gauges).
    pub(crate) idle_timer: PyOnceLock<Py<Timer>>,
    /// The arguments of the top-level metric, shared by its children.
    pub(crate) construction: Arc<Construction>,
    /// A Python object this series' own code calls (a gauge's function). The series holds this
    /// slot, not the object, so that the garbage collector sees the reference (`traverse`) and
    /// can break a cycle through it (`clear_held`).
    pub(crate) held: HeldObject,
}

/// A slot for one Python object a series calls.
pub(crate) type HeldObject = Arc<Mutex<Option<Py<PyAny>>>>;

/// `str(value)` of each label value, borrowing those that already are strings.
fn label_strings<'py>(values: impl Iterator<Item = Bound<'py, PyAny>>) -> PyResult<Vec<Bound<'py, PyString>>> {
    values
        .map(|v| match v.cast_into::<PyString>() {
            Ok(s) => Ok(s),
            Err(e) => e.into_inner().str(),
        })
        .collect()
}

/// Upstream's rendering of a tuple of label names or values: `('a',)`, `('a', 'b')`.
fn python_tuple(items: &[String]) -> String {
    if items.len() == 1 { format!("({},)", items[0]) } else { format!("({})", items.join(", ")) }
}

impl<M: Metric> FamilyHandle<M> {
    /// A new top-level metric. Its `__init__` registers it, so that the registry holds the
    /// Python object users get back from `_names_to_collectors`.
    pub(crate) fn new(py: Python<'_>, args: MetricArgs, options: M::Options) -> PyResult<Self> {
        let construction = Arc::new(Construction {
            name: args.name.clone(),
            namespace: args.namespace.clone(),
            subsystem: args.subsystem.clone(),
            unit: args.unit.clone(),
            options: PyOnceLock::new(),
        });
        let meta = Metadata::new(args.name, args.documentation)
            .namespace(args.namespace)
            .subsystem(args.subsystem)
            .unit(args.unit)
            .label_names(args.labelnames);
        // Every series goes to the multiprocess store too when `pyrometer.values` is in
        // multiprocess mode as it is created.
        let store = Arc::new(ValueClassStore::new(args.store_rule));
        let family = Family::<M>::with_mirror(meta, options, store).map_err(to_py)?;
        let names = &family.meta().label_names;
        let (series, children, label_keys) = if names.is_empty() {
            (Some(family.without_labels().map_err(to_py)?), None, None)
        } else {
            let keys = PyTuple::new(py, names.iter().map(|name| PyString::intern(py, name)))?;
            (None, Some(PyDict::new(py).unbind()), Some(keys.unbind()))
        };
        Ok(Self {
            family,
            series,
            labelvalues: None,
            children,
            label_keys,
            idle_timer: PyOnceLock::new(),
            construction,
            held: HeldObject::default(),
        })
    }

    /// The child of `parent` for `labelvalues`, strings read in place: a long value is held by
    /// its Python string and copied once, into the series.
    pub(crate) fn child_of(parent: &Self, labelvalues: &Bound<'_, PyAny>) -> PyResult<Self> {
        let labelvalues = match labelvalues.cast::<PyTuple>() {
            Ok(tuple) => tuple.clone(),
            Err(_) => PyTuple::new(labelvalues.py(), labelvalues.try_iter()?.collect::<PyResult<Vec<_>>>()?)?,
        };
        let strings: Vec<PyBackedStr> = labelvalues.extract()?;
        let values: Vec<&str> = strings.iter().map(|v| &**v).collect();
        let series = parent.family.labels(&values).map_err(to_py)?;
        let family = parent.family.clone();
        Ok(Self {
            family,
            series: Some(series),
            labelvalues: Some(labelvalues.unbind()),
            children: None,
            label_keys: None,
            idle_timer: PyOnceLock::new(),
            construction: Arc::clone(&parent.construction),
            held: HeldObject::default(),
        })
    }

    /// Visits the Python objects this handle holds a reference of its own to, for the garbage
    /// collector: children, label keys, a child's label values, the held object. (The construction arguments are shared
    /// with the children, so no one of them owns that reference; the idle timer can only be read
    /// with the interpreter attached, which a traversal may not assume.)
    pub(crate) fn traverse(&self, visit: &pyo3::PyVisit<'_>) -> Result<(), pyo3::PyTraverseError> {
        if let Some(children) = &self.children {
            visit.call(children)?;
        }
        if let Some(keys) = &self.label_keys {
            visit.call(keys)?;
        }
        if let Some(values) = &self.labelvalues {
            visit.call(values)?;
        }
        // Never wait in a traversal: a slot being written is visited at the next collection.
        if let Ok(held) = self.held.try_lock()
            && let Some(object) = &*held
        {
            visit.call(object)?;
        }
        Ok(())
    }

    /// Drops the held object, breaking a cycle through it.
    pub(crate) fn clear_held(&self) {
        let taken = self.held.lock().unwrap_or_else(PoisonError::into_inner).take();
        drop(taken);
    }

    /// The series to update, or upstream's error for a parent that has labels.
    #[inline]
    pub(crate) fn series(&self) -> PyResult<&M> {
        self.series.as_ref().ok_or_else(|| to_py(pyrometer_core::Error::MissingLabelValues { metric_type: M::TYPE }))
    }

    /// `str()` of the metric upstream: `counter:requests`.
    pub(crate) fn describe(&self) -> String {
        format!("{}:{}", M::TYPE.as_str(), self.family.meta().name)
    }

    fn no_label_names(&self) -> PyErr {
        to_py(pyrometer_core::Error::NoLabelNames { metric: self.describe() })
    }

    /// A parent's children, or upstream's errors for a metric that cannot have any.
    fn children<'py>(&self, py: Python<'py>) -> PyResult<&Bound<'py, PyDict>> {
        match &self.children {
            Some(children) => Ok(children.bind(py)),
            None if self.labelvalues.is_some() => {
                Err(to_py(pyrometer_core::Error::LabelsAlreadySet { metric: self.describe() }))
            }
            None => Err(self.no_label_names()),
        }
    }

    /// A parent's children by the tuple of their label values (what `labels()` looks in first).
    #[inline]
    pub(crate) fn children_by_values(&self) -> Option<&Py<PyDict>> {
        self.children.as_ref()
    }

    /// A parent's label names as interned strings, in order; `None` for a child.
    #[inline]
    pub(crate) fn label_keys(&self) -> Option<&Py<PyTuple>> {
        self.label_keys.as_ref()
    }

    /// The child `labels()` made before for these label values, or `None`: a read that neither
    /// creates a series nor counts against a series limit.
    pub(crate) fn existing_child(&self, args: &Bound<'_, PyTuple>) -> PyResult<Option<Py<PyAny>>> {
        let py = args.py();
        let children = self.children(py)?;
        if args.len() != self.family.meta().label_names.len() {
            return Err(to_py(pyrometer_core::Error::LabelCount {
                expected: self.family.meta().label_names.len(),
                got: args.len(),
            }));
        }
        let key = PyTuple::new(py, label_strings(args.iter())?)?;
        Ok(children.get_item(&key)?.map(Bound::unbind))
    }

    /// `labels(*args, **kwargs)`: the cached child object, or a new one of the caller's class.
    pub(crate) fn labels(
        &self,
        object: &Bound<'_, PyAny>,
        args: &Bound<'_, PyTuple>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Py<PyAny>> {
        let py = object.py();
        let children = self.children(py)?;
        let kwargs = kwargs.filter(|k| !k.is_empty());
        // (Arguments that cannot be a key, a list say, miss here and are made strings below,
        // as upstream makes every label value one with `str()`.)
        if kwargs.is_none()
            && let Ok(Some(child)) = children.get_item(args)
        {
            return Ok(child.unbind());
        }
        let names = &self.family.meta().label_names;
        let strings = match kwargs {
            Some(_) if !args.is_empty() => return Err(to_py(pyrometer_core::Error::MixedLabelArguments)),
            Some(kwargs) => {
                let mut given: Vec<String> =
                    kwargs.keys().iter().map(|k| k.str().map(|s| s.to_string())).collect::<PyResult<_>>()?;
                given.sort();
                let mut expected: Vec<String> = names.iter().map(ToString::to_string).collect();
                expected.sort();
                if given != expected {
                    return Err(to_py(pyrometer_core::Error::LabelNames));
                }
                let ordered: Vec<Bound<'_, PyAny>> = names
                    .iter()
                    .map(|n| kwargs.get_item(&**n)?.ok_or_else(|| to_py(pyrometer_core::Error::LabelNames)))
                    .collect::<PyResult<_>>()?;
                label_strings(ordered.into_iter())?
            }
            None => {
                if args.len() != names.len() {
                    return Err(to_py(pyrometer_core::Error::LabelCount { expected: names.len(), got: args.len() }));
                }
                label_strings(args.iter())?
            }
        };
        let mut key = PyTuple::new(py, &strings)?;
        if let Some(child) = children.get_item(&key)? {
            return Ok(child.unbind());
        }
        let mut strings = strings;
        if self.family.series_limit().is_some() {
            let values: Vec<&str> = strings.iter().map(|s| s.to_str()).collect::<PyResult<_>>()?;
            // Beyond the series limit, every new label set shares the one overflow child: neither
            // the family nor this cache grows.
            if self.family.labels_or_overflow(&values).map_err(to_py)?.1 {
                strings = vec![PyString::new(py, pyrometer_core::OVERFLOW_LABEL_VALUE); names.len()];
                key = PyTuple::new(py, &strings)?;
                if let Some(child) = children.get_item(&key)? {
                    return Ok(child.unbind());
                }
            }
        }
        let child = self.new_child(object, &strings)?;
        // Two threads may build the same child at once; both share the one series, and the
        // first to store its object wins.
        Ok(children.call_method1("setdefault", (key, child))?.unbind())
    }

    /// A child object, built as upstream builds it: by calling the object's class with the
    /// parent's arguments and `_labelvalues`, so that what a subclass adds is there too.
    fn new_child<'py>(&self, object: &Bound<'py, PyAny>, values: &[Bound<'py, PyString>]) -> PyResult<Bound<'py, PyAny>>
    where
        Self: Sized,
    {
        let py = object.py();
        let meta = self.family.meta();
        let construction = &self.construction;
        let kw = PyDict::new(py);
        kw.set_item("documentation", &*meta.help)?;
        kw.set_item("labelnames", PyTuple::new(py, meta.label_names.iter().map(|n| &**n))?)?;
        kw.set_item("namespace", &construction.namespace)?;
        kw.set_item("subsystem", &construction.subsystem)?;
        kw.set_item("unit", &construction.unit)?;
        kw.set_item("_labelvalues", PyTuple::new(py, values)?)?;
        if let Some(options) = construction.options.get(py) {
            kw.update(options.bind(py).as_mapping())?;
        }
        BUILDING_CHILD_OF.set(Some(object.clone().unbind()));
        let child = object.get_type().call((&construction.name,), Some(&kw));
        // A class whose `__new__` never reached the native one leaves it unclaimed.
        BUILDING_CHILD_OF.take();
        child
    }

    /// `remove(*labelvalues)`.
    pub(crate) fn remove(&self, args: &Bound<'_, PyTuple>) -> PyResult<()> {
        let py = args.py();
        let names = &self.family.meta().label_names;
        let Some(children) = &self.children else { return Err(self.no_label_names()) };
        if args.len() != names.len() {
            let given: Vec<String> = args.iter().map(|v| v.repr().map(|s| s.to_string())).collect::<PyResult<_>>()?;
            return Err(to_py(pyrometer_core::Error::RemovalLabelCount {
                expected: names.len(),
                given: python_tuple(&given),
            }));
        }
        let strings = label_strings(args.iter())?;
        let values: Vec<&str> = strings.iter().map(|s| s.to_str()).collect::<PyResult<_>>()?;
        self.family.remove(&values).map_err(to_py)?;
        let key = PyTuple::new(py, &strings)?;
        if children.bind(py).contains(&key)? {
            children.bind(py).del_item(key)?;
        }
        Ok(())
    }

    /// `remove_by_labels(labels)`: removes every child whose labels include these.
    pub(crate) fn remove_by_labels(&self, labels: &Bound<'_, PyAny>) -> PyResult<()> {
        let py = labels.py();
        let names = &self.family.meta().label_names;
        let Some(children) = &self.children else { return Err(self.no_label_names()) };
        let Ok(labels) = labels.cast::<PyDict>() else {
            return Err(crate::errors::labels_not_a_dict());
        };
        // No labels match nothing, as upstream has it, rather than everything.
        if labels.is_empty() {
            return Ok(());
        }
        let mut partial: Vec<(usize, String)> = Vec::with_capacity(labels.len());
        let mut unknown = Vec::new();
        for (name, value) in labels.iter() {
            let name: String = name.str()?.to_string();
            match names.iter().position(|n| **n == *name) {
                Some(at) => partial.push((at, value.str()?.to_string())),
                None => unknown.push(name),
            }
        }
        if !unknown.is_empty() {
            return Err(to_py(pyrometer_core::Error::UnknownLabelNames {
                names: unknown,
                expected: names.iter().map(ToString::to_string).collect(),
            }));
        }
        let pairs: Vec<(&str, &str)> = partial.iter().map(|(at, v)| (&*names[*at], v.as_str())).collect();
        self.family.remove_by_labels(&pairs).map_err(to_py)?;
        let children = children.bind(py);
        for key in children.keys() {
            let key = key.cast_into::<PyTuple>()?;
            let mut matches = true;
            for (at, value) in &partial {
                matches &= key.get_item(*at)?.cast_into::<PyString>()?.to_str()? == value;
            }
            if matches {
                children.del_item(key)?;
            }
        }
        Ok(())
    }

    /// `clear()`. A child refuses: clearing its family would drop its siblings.
    pub(crate) fn clear(&self, py: Python<'_>) -> PyResult<()> {
        if self.labelvalues.is_some() {
            return Err(self.no_label_names());
        }
        self.family.clear();
        if let Some(children) = &self.children {
            children.bind(py).clear();
        }
        Ok(())
    }
}
