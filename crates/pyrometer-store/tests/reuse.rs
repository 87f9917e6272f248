//! Entries of removed series are reused: the file follows the live series, not every series ever
//! written, and readers never show one series' value under another's name.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use pyrometer_core::{
    Buckets, CollectOptions, Collector, Counter, Exemplar, Family, Gauge, Histogram, LabelSet, Metadata,
};
use pyrometer_store::{DirectoryCollector, Merge, StoreMirror, read_file};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pyrometer-reuse-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The size of the one process file in `dir`.
fn file_size(dir: &Path) -> u64 {
    let files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("proc-"))
        .collect();
    assert_eq!(files.len(), 1);
    files[0].metadata().unwrap().len()
}

/// Every sample of a scrape: family, series label `n`, suffix-less name, value.
fn scrape(collector: &DirectoryCollector) -> Vec<(String, String, f64)> {
    let mut families = Vec::new();
    collector.collect(&CollectOptions::default(), &mut families).unwrap();
    families
        .iter()
        .flat_map(|f| {
            f.samples.iter().map(|s| {
                let n = s.labels.get("n").unwrap_or_default().to_owned();
                (s.name.full(&f.name), n, s.value)
            })
        })
        .collect()
}

#[test]
fn sixty_thousand_removed_label_sets_leave_the_file_within_twice_its_size_after_two_thousand() {
    let dir = scratch("churn");
    let store = StoreMirror::new(&dir).unwrap();
    let meta = |name: &str| Metadata::new(name, "Churned.").label_names(["n"]);
    let gauges = Family::<Gauge>::with_mirror(meta("g"), (), store.source(Merge::LiveSum)).unwrap();
    let counters = Family::<Counter>::with_mirror(meta("c"), (), store.source(Merge::Sum)).unwrap();
    let options = Buckets::new([0.1, 1.0]).unwrap();
    let histograms = Family::<Histogram>::with_mirror(meta("h"), options, store.source(Merge::Sum)).unwrap();
    let exemplar = Exemplar::new(LabelSet::new([("trace_id", "abc")]), 1.0, None).unwrap();
    let collector = DirectoryCollector::new(dir.clone());
    let mut size_after_2k = 0;
    for i in 0..60_000u32 {
        let n = format!("user-{i}");
        gauges.labels(&[&n]).unwrap().set(1.0);
        counters.labels(&[&n]).unwrap().inc_with_exemplar(1.0, exemplar.clone()).unwrap();
        histograms.labels(&[&n]).unwrap().observe(0.5);
        // Scraped now and then, so that readers meet reused entries too.
        if i % 5_000 == 0 {
            let samples = scrape(&collector);
            assert!(samples.iter().all(|(_, s, _)| *s == n), "only the live series: {samples:?}");
        }
        for family in [&gauges.remove(&[&n]), &counters.remove(&[&n]), &histograms.remove(&[&n])] {
            assert!(family.as_ref().unwrap());
        }
        if i == 1_999 {
            size_after_2k = file_size(&dir);
        }
    }
    let size = file_size(&dir);
    assert!(size <= 2 * size_after_2k, "{size} bytes after 60k, {size_after_2k} after 2k");
    assert!(scrape(&collector).is_empty());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_reused_entry_holds_the_new_series_alone_for_readers_and_the_archive() {
    let dir = scratch("reused");
    let store = StoreMirror::new(&dir).unwrap();
    let family =
        Family::<Gauge>::with_mirror(Metadata::new("g", "G.").label_names(["n"]), (), store.source(Merge::All))
            .unwrap();
    let collector = DirectoryCollector::new(dir.clone());
    // Series over several chunks, then all removed but one: new ones take their entries.
    for i in 0..3_000u32 {
        family.labels(&[&format!("{i:05}")]).unwrap().set(f64::from(i));
    }
    for i in (0..3_000u32).filter(|i| *i != 7) {
        family.remove(&[&format!("{i:05}")]).unwrap();
    }
    let size = file_size(&dir);
    for i in 3_000..5_999u32 {
        family.labels(&[&format!("{i:05}")]).unwrap().set(f64::from(i));
    }
    assert_eq!(file_size(&dir), size, "the new series took the removed ones' entries");
    let samples = scrape(&collector);
    assert_eq!(samples.len(), 3_000);
    for (_, n, value) in &samples {
        assert_eq!(n.parse::<f64>().unwrap(), *value, "series {n}");
    }
    // What a process leaves is read the same way.
    let path = std::fs::read_dir(&dir).unwrap().flatten().find(|e| e.file_name().len() > 20).unwrap().path();
    let entries = read_file(&path).unwrap().entries;
    assert_eq!(entries.len(), 3_000);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_scrape_racing_reuse_never_shows_a_value_under_another_series_name() {
    let dir = scratch("race");
    let store = StoreMirror::new(&dir).unwrap();
    let family =
        Family::<Gauge>::with_mirror(Metadata::new("g", "G.").label_names(["n"]), (), store.source(Merge::LiveMax))
            .unwrap();
    let stop = AtomicBool::new(false);
    let deadline = Instant::now() + Duration::from_secs(3);
    std::thread::scope(|scope| {
        let writer = scope.spawn(|| {
            // A window of 16 live series moving on: each new one takes a removed one's entry.
            let mut i = 0u32;
            while !stop.load(Ordering::Relaxed) && i < 2_000_000 {
                family.labels(&[&i.to_string()]).unwrap().set(f64::from(i));
                if i >= 16 {
                    family.remove(&[&(i - 16).to_string()]).unwrap();
                }
                i += 1;
            }
            i
        });
        let collector = DirectoryCollector::new(dir.clone());
        let mut scrapes = 0;
        while Instant::now() < deadline && scrapes < 20_000 {
            // A series shows its own value, or 0 between its creation and its first set.
            for (_, n, value) in scrape(&collector) {
                assert!(value == 0.0 || n.parse::<f64>().unwrap() == value, "series {n}: {value}");
            }
            scrapes += 1;
        }
        stop.store(true, Ordering::Relaxed);
        let written = writer.join().unwrap();
        assert!(written > 1_000 && scrapes > 10, "{written} series written, {scrapes} scrapes");
    });
    std::fs::remove_dir_all(dir).unwrap();
}
