//! The multiprocess sidecar: serves what every process wrote to a store directory, for an
//! application without a metrics endpoint of its own, and writes it to a remote-write receiver
//! when asked.

use std::path::PathBuf;

use pyrometer_core::Registry;
use pyrometer_export::remote_write::{RemoteWriteOptions, RemoteWriter};
use pyrometer_store::{DirectoryCollector, StoreDir};

use crate::RemoteWrite;
use crate::serve::{self, ServeOptions};

/// Serves the merged series of the store in `dir` until Ctrl-C or the requested time is up,
/// writing them to `remote_write`'s receiver on its interval meanwhile (and once more at the end).
pub(crate) fn run(
    dir: PathBuf,
    options: &ServeOptions,
    remote_write: Option<RemoteWrite>,
) -> Result<(), Box<dyn std::error::Error>> {
    StoreDir::open(&dir)?;
    let registry = Registry::new();
    let warn: pyrometer_store::ProblemReporter =
        std::sync::Arc::new(|problem| eprintln!("pyrometer multiprocess: unreadable file left out: {problem}"));
    registry.register(DirectoryCollector::new(dir).without_created().report_problems_with(warn))?;
    let writer = match remote_write {
        Some(RemoteWrite { url, interval }) => {
            let writer = RemoteWriter::new(
                &url,
                registry.clone(),
                RemoteWriteOptions { interval, ..RemoteWriteOptions::default() },
            )?;
            registry.register(writer.self_metrics())?;
            writer.start();
            Some(writer)
        }
        None => None,
    };
    let served = serve::until_stopped(registry, options, "pyrometer multiprocess");
    if let Some(writer) = writer {
        writer.close();
        if let Some(error) = writer.stats().last_error {
            eprintln!("pyrometer multiprocess: last remote write error: {error}");
        }
    }
    served
}
