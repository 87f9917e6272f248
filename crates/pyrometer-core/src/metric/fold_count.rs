//! Where a registered family counts the label sets it folds into its overflow series: its
//! registry's self-metric, reached through a weak handle so that a family does not keep its
//! registry alive.

use std::fmt;
use std::sync::{Arc, Weak};

use super::counter::Counter;

/// What counts folds: the registry, seen from the families it holds.
pub(crate) trait FoldCounters: Send + Sync {
    /// The counter of the folds of the family `name`.
    fn fold_counter(self: Arc<Self>, name: &str) -> Counter;
}

/// A weak handle to the registry a family was registered in.
#[derive(Clone)]
pub(crate) struct RegistryLink(Weak<dyn FoldCounters>);

impl RegistryLink {
    pub(crate) fn new(registry: Weak<dyn FoldCounters>) -> Self {
        Self(registry)
    }

    /// The registry's counter of folds for the family `name`, while the registry lives.
    pub(crate) fn overflow_counter(&self, name: &str) -> Option<Counter> {
        self.0.upgrade().map(|registry| registry.fold_counter(name))
    }
}

impl fmt::Debug for RegistryLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RegistryLink").field(&(self.0.strong_count() > 0)).finish()
    }
}
