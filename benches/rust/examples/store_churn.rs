//! The multiprocess store after 10,000 workers have come and gone, against a directory that only
//! ever held the live ones: scrape time (what `MultiProcessCollector` does: merge the dead, read
//! the live), a full read, and directory size. Each "worker" is a process file with
//! 1,000 series that is written and then closed, as an exiting process leaves it (its lock goes
//! with it). Run: `cargo run --release -p pyrometer-benches --example store_churn`.
use std::path::Path;
use std::time::Instant;

use std::sync::Arc;

use pyrometer_core::{CollectOptions, Collector, Counter, Family, FamilyMeta, Metadata};
use pyrometer_store::{DirectoryCollector, Merge, ProcessFile, StoreDir, series_key};

const LIVE: usize = 8;
const SERIES: usize = 1_000;
const GONE: usize = 10_000;

fn worker(store: &StoreDir, meta: &FamilyMeta) -> ProcessFile {
    let file = store.create_process_file().expect("a process file");
    for i in 0..SERIES {
        let labels = [(Arc::from("path"), Arc::from(format!("/api/v1/resource/{i}")))];
        file.slot(&series_key(meta, "_total", &labels, None), Merge::Sum).expect("a slot").add(1.0);
    }
    file
}

/// Best of five scrapes by a collector that has scraped once already, best of five full reads
/// (in milliseconds), and the directory's size in bytes.
fn measure(store: &StoreDir) -> (f64, f64, u64) {
    let collector = DirectoryCollector::new(store.path().to_owned());
    let mut scrape = f64::INFINITY;
    for _ in 0..6 {
        let mut families = Vec::new();
        let start = Instant::now();
        collector.collect(&CollectOptions::default(), &mut families).expect("a scrape");
        scrape = scrape.min(start.elapsed().as_secs_f64() * 1e3);
        assert_eq!(families[0].samples.len(), SERIES);
    }
    let mut read = f64::INFINITY;
    for _ in 0..5 {
        let start = Instant::now();
        let merged = store.read().expect("a read").merged();
        read = read.min(start.elapsed().as_secs_f64() * 1e3);
        assert_eq!(merged.len(), SERIES);
    }
    (scrape, read, size(store.path()))
}

fn size(dir: &Path) -> u64 {
    std::fs::read_dir(dir).expect("a directory").map(|e| e.expect("an entry").metadata().map_or(0, |m| m.len())).sum()
}

fn main() {
    let root = std::env::temp_dir().join(format!("pyrometer-store-churn-{}", std::process::id()));
    let (fresh_dir, churned_dir) = (root.join("fresh"), root.join("churned"));
    std::fs::create_dir_all(&fresh_dir).expect("a directory");
    std::fs::create_dir_all(&churned_dir).expect("a directory");

    let family =
        Family::<Counter>::new(Metadata::new("requests", "Requests.").label_names(["path"])).expect("a family");
    let meta = family.meta();
    let fresh = StoreDir::open(&fresh_dir).expect("a store");
    let _fresh_live: Vec<ProcessFile> = (0..LIVE).map(|_| worker(&fresh, meta)).collect();
    let (fresh_scrape, fresh_read, fresh_bytes) = measure(&fresh);

    let churned = StoreDir::open(&churned_dir).expect("a store");
    let start = Instant::now();
    for i in 0..GONE {
        drop(worker(&churned, meta));
        if i % 100 == 99 {
            // A scrape every 100 exits, as Prometheus would make meanwhile.
            let _ = churned.read().expect("a read");
        }
    }
    let churn_seconds = start.elapsed().as_secs_f64();
    let _churned_live: Vec<ProcessFile> = (0..LIVE).map(|_| worker(&churned, meta)).collect();
    let (churned_scrape, churned_read, churned_bytes) = measure(&churned);

    println!("{LIVE} live workers x {SERIES} series; {GONE} workers came and went in {churn_seconds:.1} s");
    println!("{:<30}{:>12}{:>12}{:>14}", "", "scrape", "full read", "directory");
    println!(
        "{:<30}{:>9.3} ms{:>9.3} ms{:>10} KiB",
        "only the live workers",
        fresh_scrape,
        fresh_read,
        fresh_bytes / 1024
    );
    println!(
        "{:<30}{:>9.3} ms{:>9.3} ms{:>10} KiB",
        "after 10,000 dead workers",
        churned_scrape,
        churned_read,
        churned_bytes / 1024
    );
    println!(
        "{:<30}{:>11.2}x{:>11.2}x{:>13.2}x",
        "ratio",
        churned_scrape / fresh_scrape,
        churned_read / fresh_read,
        churned_bytes as f64 / fresh_bytes as f64
    );
    std::fs::remove_dir_all(root).expect("cleanup");
}
