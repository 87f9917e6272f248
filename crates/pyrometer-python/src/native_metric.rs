//! What the registry needs of the package's native metric objects: the collector behind one, so
//! that it is held and collected without the GIL instead of through `collect()`.
//!
//! The registry sits below the metric classes (every class takes a registry argument), so it
//! cannot name them. The module's initialisation, which knows every class, hands the list here
//! once ([`install`]); the registry asks [`native_collector`].

use std::sync::{Arc, OnceLock};

use pyo3::PyClass;
use pyo3::prelude::*;
use pyo3::pyclass::boolean_struct::True;
use pyrometer_core::Collector;

/// A native object that is a collector.
pub(crate) trait NativeMetric {
    /// The collector, for the registry to hold and collect without the GIL.
    fn collector(&self) -> Arc<dyn Collector>;
}

/// The collector behind `object` if it is of one class (a subclass included).
pub(crate) type CollectorOf = fn(&Bound<'_, PyAny>) -> Option<Arc<dyn Collector>>;

/// The [`CollectorOf`] of class `T`.
pub(crate) fn of<T: NativeMetric + PyClass<Frozen = True> + Sync>(
    object: &Bound<'_, PyAny>,
) -> Option<Arc<dyn Collector>> {
    object.cast::<T>().ok().map(|object| object.get().collector())
}

static CLASSES: OnceLock<Vec<CollectorOf>> = OnceLock::new();

/// Sets the native classes, once, when the module is imported.
pub(crate) fn install(classes: Vec<CollectorOf>) {
    let _ = CLASSES.set(classes);
}

/// The collector behind `object` when it is one of the native metric objects.
pub(crate) fn native_collector(object: &Bound<'_, PyAny>) -> Option<Arc<dyn Collector>> {
    CLASSES.get()?.iter().find_map(|of| of(object))
}
