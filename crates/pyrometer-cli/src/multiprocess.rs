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
    let warn: pyrometer_store::ProblemReporter =
        std::sync::Arc::new(|problem| eprintln!("pyrometer multiprocess: unreadable file left out: {problem}"));
    registry.register(DirectoryCollector::new(dir).without_created().report_problems_with(warn))?;
    serve::until_stopped(registry, options, "pyrometer multiprocess")
}
