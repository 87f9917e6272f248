//! The multiprocess sidecar: serves what every process wrote to a store directory, for an
//! application without a metrics endpoint of its own.

use std::path::PathBuf;

use pyrometer_core::Registry;
use pyrometer_store::{DirectoryCollector, StoreDir};

use crate::serve::{self, ServeOptions};

/// Serves the merged series of the store in `dir` until Ctrl-C or the requested time is up.
pub(crate) fn run(dir: PathBuf, options: &ServeOptions) -> Result<(), Box<dyn std::error::Error>> {
    StoreDir::open(&dir)?;
    let registry = Registry::new();
    registry.register(DirectoryCollector::new(dir).without_created())?;
    serve::until_stopped(registry, options, "pyrometer multiprocess")
}
