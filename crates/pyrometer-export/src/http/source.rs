//! What a scrape reads: a registry, or anything that collects like one.

use std::collections::HashSet;

use pyrometer_core::{Error, MetricFamily, Registry};

/// The metrics a server answers with. [`Registry`] is one; a binding implements it to do its
/// own bookkeeping before each collection.
pub trait Source: Send + Sync + 'static {
    /// Every family, or only the samples named in `names` (the `name[]` query parameters).
    ///
    /// # Errors
    /// A collector's failure, which fails the scrape.
    fn collect(&self, names: Option<&HashSet<String>>) -> Result<Vec<MetricFamily>, Error>;
}

impl Source for Registry {
    fn collect(&self, names: Option<&HashSet<String>>) -> Result<Vec<MetricFamily>, Error> {
        match names {
            Some(names) => self.collect_restricted(names),
            None => Registry::collect(self),
        }
    }
}
