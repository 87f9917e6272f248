//! A Rust application in multiprocess mode: four worker processes count the jobs they run in
//! families mirrored to a store directory, and the parent reads every worker's series back,
//! merged, as a scrape would (the `pyrometer multiprocess --dir DIR` sidecar serves the same).
//!
//! `cargo run -p pyrometer-store --example multiprocess`

use std::process::Command;

use pyrometer_core::{CollectOptions, Collector, Counter, Family, Gauge, Metadata};
use pyrometer_expo::{Escaping, encode_text};
use pyrometer_store::{DirectoryCollector, Merge, StoreMirror};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    match (args.next().as_deref(), args.next()) {
        (Some("worker"), Some(dir)) => worker(&dir),
        _ => parent(),
    }
}

/// One worker: its families write to this process's file in the store.
fn worker(dir: &str) -> Result<(), Box<dyn std::error::Error>> {
    let store = StoreMirror::new(dir)?;
    let jobs = Family::<Counter>::with_mirror(
        Metadata::new("jobs", "Jobs run.").label_names(["queue"]),
        (),
        store.source(Merge::Sum),
    )?;
    let in_flight =
        Family::<Gauge>::with_mirror(Metadata::new("in_flight", "Jobs running."), (), store.source(Merge::LiveSum))?;
    let mail = jobs.labels(&["mail"])?;
    for _ in 0..1_000 {
        in_flight.without_labels()?.inc(1.0);
        mail.inc();
        in_flight.without_labels()?.dec(1.0);
    }
    jobs.labels(&["sms"])?.inc_by(5.0);
    Ok(())
}

fn parent() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("pyrometer-example-{}", std::process::id()));
    let me = std::env::current_exe()?;
    let workers: Vec<_> =
        (0..4).map(|_| Command::new(&me).arg("worker").arg(&dir).spawn()).collect::<Result<_, _>>()?;
    for mut worker in workers {
        assert!(worker.wait()?.success());
    }
    // The workers are gone; their series are merged into the store's archive at this read.
    let mut families = Vec::new();
    DirectoryCollector::new(dir.clone()).collect(&CollectOptions::default(), &mut families)?;
    let mut text = String::new();
    encode_text(&mut text, &families, Escaping::Underscores);
    print!("{text}");
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
