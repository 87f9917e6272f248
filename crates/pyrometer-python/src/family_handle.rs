//! What every native metric class shares: its family, its own series when it has one, the
//! Python objects of its children, and how `labels()`, `remove()` and `clear()` work on them.

use std::hash::BuildHasher;
use std::sync::{Mutex, PoisonError};

use foldhash::fast::RandomState;
use hashbrown::HashTable;

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString, PyTuple};
use pyrometer_core::{Family, Metadata, Metric};

use crate::errors::to_py;

/// The arguments every metric constructor takes, as `prometheus_client` names them.
pub(crate) struct MetricArgs {
    pub(crate) name: String,
    pub(crate) documentation: String,
    pub(crate) labelnames: Vec<String>,
    pub(crate) namespace: String,
    pub(crate) subsystem: String,
    pub(crate) unit: String,
}

/// A metric object's native state: a labelled parent, or an observable series.
pub(crate) struct FamilyHandle<M: Metric> {
    pub(crate) family: Family<M>,
    /// The series this object updates: set for children and for metrics without labels.
    pub(crate) series: Option<M>,
    /// The label values of a child.
    pub(crate) labelvalues: Vec<String>,
    /// A parent's children, as the Python objects `labels()` returned.
    children: Mutex<Children>,
}

/// Child objects by label values, found without allocating on a hit.
#[derive(Default)]
struct Children {
    hasher: RandomState,
    table: HashTable<Child>,
}

struct Child {
    hash: u64,
    values: Box<[Box<str>]>,
    object: Py<PyAny>,
}

impl Children {
    fn hash(&self, values: &[&str]) -> u64 {
        self.hasher.hash_one(values)
    }

    fn get(&self, hash: u64, values: &[&str]) -> Option<&Py<PyAny>> {
        self.table.find(hash, |c| c.values.iter().map(|v| &**v).eq(values.iter().copied())).map(|c| &c.object)
    }

    fn insert(&mut self, hash: u64, values: &[&str], object: Py<PyAny>) {
        let values = values.iter().map(|v| Box::from(*v)).collect();
        self.table.insert_unique(hash, Child { hash, values, object }, |c| c.hash);
    }

    fn remove(&mut self, values: &[&str]) {
        let hash = self.hash(values);
        if let Ok(entry) = self.table.find_entry(hash, |c| c.values.iter().map(|v| &**v).eq(values.iter().copied())) {
            entry.remove();
        }
    }
}

/// `str(value)` of each label value, borrowing those that already are strings.
fn label_strings<'py>(values: impl Iterator<Item = Bound<'py, PyAny>>) -> PyResult<Vec<Bound<'py, PyString>>> {
    values
        .map(|v| match v.cast_into::<PyString>() {
            Ok(s) => Ok(s),
            Err(e) => e.into_inner().str(),
        })
        .collect()
}

impl<M: Metric> FamilyHandle<M> {
    /// A new top-level metric. The Python class registers it, so that the registry holds the
    /// Python object users get back from `_names_to_collectors`.
    pub(crate) fn new(args: MetricArgs, options: M::Options) -> PyResult<Self> {
        let meta = Metadata::new(args.name, args.documentation)
            .namespace(args.namespace)
            .subsystem(args.subsystem)
            .unit(args.unit)
            .label_names(args.labelnames);
        let family = Family::<M>::with_options(meta, options).map_err(to_py)?;
        let series =
            if family.meta().label_names.is_empty() { Some(family.without_labels().map_err(to_py)?) } else { None };
        Ok(Self { family, series, labelvalues: Vec::new(), children: Mutex::default() })
    }

    /// The child of `parent` for `labelvalues`.
    pub(crate) fn child_of(parent: &Self, labelvalues: Vec<String>) -> PyResult<Self> {
        let values: Vec<&str> = labelvalues.iter().map(String::as_str).collect();
        let series = parent.family.labels(&values).map_err(to_py)?;
        Ok(Self { family: parent.family.clone(), series: Some(series), labelvalues, children: Mutex::default() })
    }

    /// The series to update, or upstream's error for a parent that has labels.
    #[inline]
    pub(crate) fn series(&self) -> PyResult<&M> {
        self.series
            .as_ref()
            .ok_or_else(|| PyValueError::new_err(format!("{} metric is missing label values", M::TYPE.as_str())))
    }

    fn describe(&self) -> String {
        format!("{}:{}", M::TYPE.as_str(), self.family.meta().name)
    }

    /// `labels(*args, **kwargs)`: the cached child object, or a new one of the caller's class.
    pub(crate) fn labels(
        &self,
        object: &Bound<'_, PyAny>,
        args: &Bound<'_, PyTuple>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Py<PyAny>> {
        let names = &self.family.meta().label_names;
        if names.is_empty() {
            return Err(PyValueError::new_err(format!(
                "No label names were set when constructing {}",
                self.describe()
            )));
        }
        if !self.labelvalues.is_empty() {
            return Err(PyValueError::new_err(format!(
                "{} already has labels set; can not chain calls to .labels()",
                self.describe()
            )));
        }
        let kwargs = kwargs.filter(|k| !k.is_empty());
        let strings = match kwargs {
            Some(_) if !args.is_empty() => return Err(PyValueError::new_err("Can't pass both *args and **kwargs")),
            Some(kwargs) => {
                let mut given: Vec<String> =
                    kwargs.keys().iter().map(|k| k.str().map(|s| s.to_string())).collect::<PyResult<_>>()?;
                given.sort();
                let mut expected: Vec<String> = names.iter().map(ToString::to_string).collect();
                expected.sort();
                if given != expected {
                    return Err(PyValueError::new_err("Incorrect label names"));
                }
                let ordered: Vec<Bound<'_, PyAny>> = names
                    .iter()
                    .map(|n| kwargs.get_item(&**n)?.ok_or_else(|| PyValueError::new_err("Incorrect label names")))
                    .collect::<PyResult<_>>()?;
                label_strings(ordered.into_iter())?
            }
            None => {
                if args.len() != names.len() {
                    return Err(PyValueError::new_err("Incorrect label count"));
                }
                label_strings(args.iter())?
            }
        };
        let values: Vec<&str> = strings.iter().map(|s| s.to_str()).collect::<PyResult<_>>()?;
        let py = object.py();
        let mut children = self.children.lock().unwrap_or_else(PoisonError::into_inner);
        let hash = children.hash(&values);
        if let Some(child) = children.get(hash, &values) {
            return Ok(child.clone_ref(py));
        }
        // A child is an object of the caller's own class, so that methods a Python subclass adds
        // (`time()`, `count_exceptions()`) are there too.
        let meta = self.family.meta();
        let kw = PyDict::new(py);
        kw.set_item("_parent", object)?;
        kw.set_item("_labelvalues", PyTuple::new(py, &values)?)?;
        kw.set_item("registry", py.None())?;
        let child = object.get_type().call((meta.name.to_string(), meta.help.to_string()), Some(&kw))?.unbind();
        children.insert(hash, &values, child.clone_ref(py));
        Ok(child)
    }

    /// `remove(*labelvalues)`.
    pub(crate) fn remove(&self, args: &Bound<'_, PyTuple>) -> PyResult<()> {
        let names = &self.family.meta().label_names;
        if names.is_empty() {
            return Err(PyValueError::new_err(format!(
                "No label names were set when constructing {}",
                self.describe()
            )));
        }
        if args.len() != names.len() {
            let given: Vec<String> = args.iter().map(|v| v.repr().map(|s| s.to_string())).collect::<PyResult<_>>()?;
            let tuple = if given.len() == 1 { format!("({},)", given[0]) } else { format!("({})", given.join(", ")) };
            return Err(PyValueError::new_err(format!(
                "Incorrect label count (expected {}, got {tuple})",
                names.len()
            )));
        }
        let strings = label_strings(args.iter())?;
        let values: Vec<&str> = strings.iter().map(|s| s.to_str()).collect::<PyResult<_>>()?;
        self.family.remove(&values).map_err(to_py)?;
        self.children.lock().unwrap_or_else(PoisonError::into_inner).remove(&values);
        Ok(())
    }

    /// `remove_by_labels(labels)`: removes every child whose labels include these.
    pub(crate) fn remove_by_labels(&self, labels: &Bound<'_, PyAny>) -> PyResult<()> {
        let names = &self.family.meta().label_names;
        if names.is_empty() {
            return Err(PyValueError::new_err(format!(
                "No label names were set when constructing {}",
                self.describe()
            )));
        }
        let Ok(labels) = labels.cast::<PyDict>() else {
            return Err(PyTypeError::new_err("labels must be a dict of {label_name: label_value}"));
        };
        let mut partial: Vec<(String, String)> = Vec::with_capacity(labels.len());
        let mut unknown = Vec::new();
        for (name, value) in labels.iter() {
            let name: String = name.str()?.to_string();
            if !names.iter().any(|n| **n == *name) {
                unknown.push(format!("'{name}'"));
            }
            partial.push((name, value.str()?.to_string()));
        }
        if !unknown.is_empty() {
            let expected: Vec<String> = names.iter().map(|n| format!("'{n}'")).collect();
            let expected =
                if expected.len() == 1 { format!("({},)", expected[0]) } else { format!("({})", expected.join(", ")) };
            return Err(PyValueError::new_err(format!(
                "Unknown label names: [{}]; expected {expected}",
                unknown.join(", ")
            )));
        }
        let partial: Vec<(&str, &str)> = partial.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        self.family.remove_by_labels(&partial).map_err(to_py)?;
        let positions: Vec<(usize, &str)> =
            partial.iter().filter_map(|(n, v)| names.iter().position(|l| &**l == *n).map(|i| (i, *v))).collect();
        let mut children = self.children.lock().unwrap_or_else(PoisonError::into_inner);
        children.table.retain(|c| !positions.iter().all(|(i, v)| c.values.get(*i).is_some_and(|x| &**x == *v)));
        Ok(())
    }

    /// `clear()`.
    pub(crate) fn clear(&self) {
        self.family.clear();
        self.children.lock().unwrap_or_else(PoisonError::into_inner).table.clear();
    }
}
