//! The store across threads, chunks, dead processes (dropped, and killed with `SIGKILL`) and bad files.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use pyrometer_core::{CollectOptions, Collector, Counter, Family, Metadata};
use pyrometer_store::{DirectoryCollector, Merge, Problem, StoreDir, series_key};
use std::sync::Arc;

/// Tests that spawn processes, and tests that expect a dropped file to read as dead at once, run
/// one at a time: a child forked by one test holds every open file of the test process until it
/// execs, and with them the locks another test expects released.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    SERIAL.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pyrometer-store-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn value(store: &StoreDir, key: &[u8]) -> Option<f64> {
    store.read().unwrap().merged().into_iter().find(|(k, _, _)| k == key).map(|(_, _, v)| v)
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.retain(|n| n != ".merge.lock");
    names.sort();
    names
}

#[test]
fn series_span_chunks_and_keep_their_values() {
    let dir = scratch("chunks");
    let store = StoreDir::open(&dir).unwrap();
    let file = store.create_process_file().unwrap();
    for i in 0..20_000u32 {
        file.slot(format!("series_with_a_longish_name_{i:08}").as_bytes(), Merge::Sum).unwrap().add(f64::from(i));
    }
    // The same key and rule give the same slot.
    file.slot(b"series_with_a_longish_name_00000007", Merge::Sum).unwrap().add(1.0);
    let merged = store.read().unwrap().merged();
    assert_eq!(merged.len(), 20_000);
    assert_eq!(merged[7], (b"series_with_a_longish_name_00000007".to_vec(), Merge::Sum, 8.0));
    assert_eq!(merged[19_999].2, 19_999.0);
    assert!(std::fs::metadata(file.path()).unwrap().len() > 64 * 1024, "the file grew beyond its first chunk");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn threads_write_while_a_reader_reads() {
    let dir = scratch("threads");
    let store = StoreDir::open(&dir).unwrap();
    let file = store.create_process_file().unwrap();
    std::thread::scope(|scope| {
        for t in 0..4 {
            let file = file.clone();
            scope.spawn(move || {
                let shared = file.slot(b"shared_total", Merge::Sum).unwrap();
                for i in 0..2_000 {
                    file.slot(format!("t{t}_{i}").as_bytes(), Merge::LiveMax).unwrap().set(f64::from(i));
                    shared.add(1.0);
                }
            });
        }
        let reader = store.clone();
        scope.spawn(move || {
            let mut last = 0.0;
            for _ in 0..20 {
                let now = value(&reader, b"shared_total").unwrap_or(0.0);
                assert!(now >= last, "a total went backwards: {last} then {now}");
                last = now;
            }
        });
    });
    assert_eq!(value(&store, b"shared_total"), Some(8_000.0));
    assert_eq!(store.read().unwrap().merged().len(), 8_001);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn dead_processes_are_archived_by_their_rules_and_removed() {
    let _serial = serial();
    let dir = scratch("dead");
    let store = StoreDir::open(&dir).unwrap();
    let live = store.create_process_file().unwrap();
    live.slot(b"requests_total", Merge::Sum).unwrap().add(1.0);
    live.slot(b"in_flight", Merge::LiveSum).unwrap().add(2.0);
    live.slot(b"peak", Merge::Max).unwrap().set(5.0);
    for worker in 0..200 {
        let gone = store.create_process_file().unwrap();
        gone.slot(b"requests_total", Merge::Sum).unwrap().add(10.0);
        gone.slot(b"in_flight", Merge::LiveSum).unwrap().add(100.0);
        gone.slot(b"peak", Merge::Max).unwrap().set(f64::from(worker));
        drop(gone); // the lock goes with the file, as when a process ends
        if worker % 50 == 0 {
            let _ = store.read().unwrap();
        }
    }
    let snapshot = store.read().unwrap();
    assert!(snapshot.problems.is_empty(), "{:?}", snapshot.problems);
    let merged = snapshot.merged();
    let get = |key: &[u8]| merged.iter().find(|(k, _, _)| k == key).map(|(_, _, v)| *v);
    assert_eq!(get(b"requests_total"), Some(2_001.0));
    assert_eq!(get(b"in_flight"), Some(2.0), "live sums forget the dead");
    assert_eq!(get(b"peak"), Some(199.0));
    // What is left: the archive and the one live file.
    let left = names(&dir);
    assert_eq!(left.len(), 2, "{left:?}");
    assert!(left.contains(&"archive.pyrostore".to_owned()));
    drop(live);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_file_merged_by_a_reader_that_stopped_short_is_not_counted_twice() {
    let _serial = serial();
    let dir = scratch("twice");
    let store = StoreDir::open(&dir).unwrap();
    let gone = store.create_process_file().unwrap();
    gone.slot(b"jobs_total", Merge::Sum).unwrap().add(3.0);
    let path = gone.path();
    drop(gone);
    let copy = dir.join("saved");
    std::fs::copy(&path, &copy).unwrap();
    assert_eq!(value(&store, b"jobs_total"), Some(3.0));
    // As if the reader had written the archive and died before removing the file.
    std::fs::rename(&copy, &path).unwrap();
    assert_eq!(value(&store, b"jobs_total"), Some(3.0));
    assert!(!path.exists());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn foreign_and_truncated_files_are_reported_and_set_aside() {
    let _serial = serial();
    let dir = scratch("bad");
    let store = StoreDir::open(&dir).unwrap();
    let good = store.create_process_file().unwrap();
    good.slot(b"ok_total", Merge::Sum).unwrap().add(1.0);
    std::fs::write(dir.join("proc-1-foreign.pyrostore"), b"this is not a store file at all, not even close...")
        .unwrap();
    let truncated = store.create_process_file().unwrap();
    truncated.slot(b"lost", Merge::Sum).unwrap().add(1.0);
    let truncated_path = truncated.path();
    drop(truncated);
    std::fs::OpenOptions::new().write(true).open(&truncated_path).unwrap().set_len(70).unwrap();
    let snapshot = store.read().unwrap();
    let problems: Vec<String> = snapshot.problems.iter().map(ToString::to_string).collect();
    assert_eq!(snapshot.problems.len(), 2, "{problems:?}");
    assert!(snapshot.problems.iter().any(|p| matches!(p.problem, Problem::Foreign)));
    assert!(snapshot.problems.iter().any(|p| matches!(p.problem, Problem::Truncated { .. })));
    assert_eq!(snapshot.merged(), [(b"ok_total".to_vec(), Merge::Sum, 1.0)]);
    // Set aside once, not reported again.
    assert!(store.read().unwrap().problems.is_empty());
    assert_eq!(names(&dir).iter().filter(|n| n.ends_with(".corrupt")).count(), 2);
    drop(good);
    std::fs::remove_dir_all(dir).unwrap();
}

/// Run by `a_killed_process_is_found_without_any_hook` in a child process.
#[test]
fn child_writes_then_waits_to_be_killed() {
    let Ok(dir) = std::env::var("PYROMETER_STORE_CHILD_DIR") else { return };
    let store = StoreDir::open(dir).unwrap();
    let file = store.create_process_file().unwrap();
    file.slot(b"requests_total", Merge::Sum).unwrap().add(41.0);
    file.slot(b"workers", Merge::LiveSum).unwrap().add(1.0);
    if std::env::var_os("PYROMETER_STORE_CHILD_EXIT").is_some() {
        return;
    }
    println!("ready");
    std::thread::sleep(std::time::Duration::from_secs(60));
}

#[test]
fn a_thousand_processes_come_and_go_and_leave_only_the_archive() {
    let _serial = serial();
    let dir = scratch("thousand");
    let store = StoreDir::open(&dir).unwrap();
    let live = store.create_process_file().unwrap();
    live.slot(b"workers", Merge::LiveSum).unwrap().add(1.0);
    for round in 0..10 {
        for _ in 0..100 {
            let status = Command::new(std::env::current_exe().unwrap())
                .args(["--exact", "child_writes_then_waits_to_be_killed", "--test-threads=1", "-q"])
                .env("PYROMETER_STORE_CHILD_DIR", &dir)
                .env("PYROMETER_STORE_CHILD_EXIT", "1")
                .stdout(Stdio::null())
                .status()
                .unwrap();
            assert!(status.success());
        }
        let merged = store.read().unwrap().merged();
        let total = merged.iter().find(|(k, _, _)| k == b"requests_total").map(|(_, _, v)| *v);
        assert_eq!(total, Some(41.0 * f64::from(100 * (round + 1))));
        assert_eq!(merged.iter().find(|(k, _, _)| k == b"workers").map(|(_, _, v)| *v), Some(1.0));
        assert_eq!(names(&dir).len(), 2, "only the archive and the live file remain");
    }
    drop(live);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_killed_process_is_found_without_any_hook() {
    let _serial = serial();
    let dir = scratch("killed");
    let store = StoreDir::open(&dir).unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_writes_then_waits_to_be_killed", "--nocapture", "--test-threads=1"])
        .env("PYROMETER_STORE_CHILD_DIR", &dir)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    assert!(lines.any(|l| l.unwrap().contains("ready")));
    assert_eq!(value(&store, b"workers"), Some(1.0), "alive: its live gauge counts");
    child.kill().unwrap(); // SIGKILL: no exit hook runs
    child.wait().unwrap();
    let merged = store.read().unwrap().merged();
    assert_eq!(merged, [(b"requests_total".to_vec(), Merge::Sum, 41.0)]);
    assert_eq!(names(&dir), ["archive.pyrostore"]);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_collector_follows_files_that_grow_die_and_appear_between_scrapes() {
    let _serial = serial();

    let dir = scratch("collector");
    let store = StoreDir::open(&dir).unwrap();
    let family = Family::<Counter>::new(Metadata::new("jobs", "Jobs.").label_names(["n"])).unwrap();
    let key = |n: usize| series_key(family.meta(), "_total", &[(Arc::from("n"), Arc::from(n.to_string()))], None);
    let collector = DirectoryCollector::new(dir.clone());
    let scrape = || {
        let mut out = Vec::new();
        collector.collect(&CollectOptions::default(), &mut out).unwrap();
        out.iter().flat_map(|f| f.samples.iter().map(|s| s.value)).sum::<f64>()
    };
    let first = store.create_process_file().unwrap();
    first.slot(&key(0), Merge::Sum).unwrap().add(1.0);
    assert_eq!(scrape(), 1.0);
    // Grown past its first chunk between scrapes: the new entries are found, the old kept.
    for n in 1..3_000 {
        first.slot(&key(n), Merge::Sum).unwrap().add(1.0);
    }
    assert_eq!(scrape(), 3_000.0);
    // A second process comes, the first dies: its values move to the archive, none lost.
    let second = store.create_process_file().unwrap();
    second.slot(&key(0), Merge::Sum).unwrap().add(5.0);
    drop(first);
    assert_eq!(scrape(), 3_005.0);
    // The archive is replaced when the second dies; the collector rereads it.
    drop(second);
    assert_eq!(scrape(), 3_005.0);
    assert!(collector.problems().is_empty());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_retired_file_is_merged_as_a_dead_process_while_its_writer_lives_on() {
    let _serial = serial();
    let dir = scratch("retired");
    let store = StoreDir::open(&dir).unwrap();
    let leaving = store.create_process_file().unwrap();
    let staying = store.create_process_file().unwrap();
    leaving.slot(b"total", Merge::Sum).unwrap().add(1.0);
    leaving.slot(b"live", Merge::LiveSum).unwrap().set(1.0);
    staying.slot(b"total", Merge::Sum).unwrap().add(2.0);
    staying.slot(b"live", Merge::LiveSum).unwrap().set(2.0);
    assert_eq!(value(&store, b"live"), Some(3.0));
    leaving.retire().unwrap();
    // Still held open by its writer, yet read as a dead process's: archived and removed.
    assert_eq!(value(&store, b"total"), Some(3.0));
    assert_eq!(value(&store, b"live"), Some(2.0));
    assert!(!leaving.path().exists(), "the retired file was merged and removed");
    assert!(staying.path().exists());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_most_recent_write_wins_and_live_rules_forget_the_dead() {
    let _serial = serial();
    let dir = scratch("recent");
    let store = StoreDir::open(&dir).unwrap();
    let first = store.create_process_file().unwrap();
    let second = store.create_process_file().unwrap();
    first.slot(b"recent", Merge::MostRecent).unwrap().set(1.0);
    first.slot(b"live_recent", Merge::LiveMostRecent).unwrap().set(1.0);
    std::thread::sleep(std::time::Duration::from_millis(2));
    second.slot(b"recent", Merge::MostRecent).unwrap().set(2.0);
    second.slot(b"live_recent", Merge::LiveMostRecent).unwrap().set(2.0);
    std::thread::sleep(std::time::Duration::from_millis(2));
    first.slot(b"recent", Merge::MostRecent).unwrap().add(10.0); // 11, written last
    assert_eq!(value(&store, b"recent"), Some(11.0));
    assert_eq!(value(&store, b"live_recent"), Some(2.0));
    drop(first);
    // Merged into the archive with its time: still the most recent.
    assert_eq!(value(&store, b"recent"), Some(11.0));
    assert_eq!(value(&store, b"live_recent"), Some(2.0));
    drop(second);
    assert_eq!(value(&store, b"recent"), Some(11.0));
    assert_eq!(value(&store, b"live_recent"), None);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_removed_series_is_left_out_by_readers_the_collector_and_the_archive_until_written_again() {
    let _serial = serial();
    let dir = scratch("removed");
    let store = StoreDir::open(&dir).unwrap();
    let family = Family::<Counter>::new(Metadata::new("jobs", "Jobs.").label_names(["n"])).unwrap();
    let key = |n: &str| series_key(family.meta(), "_total", &[(Arc::from("n"), Arc::from(n))], None);
    let collector = DirectoryCollector::new(dir.clone());
    let scrape = || {
        let mut out = Vec::new();
        collector.collect(&CollectOptions::default(), &mut out).unwrap();
        let mut samples: Vec<(String, f64)> = out
            .iter()
            .flat_map(|f| f.samples.iter().map(|s| (s.labels.get("n").unwrap().to_owned(), s.value)))
            .collect();
        samples.sort_by(|a, b| a.0.cmp(&b.0));
        samples
    };
    let live = store.create_process_file().unwrap();
    let other = store.create_process_file().unwrap();
    let a = live.slot(&key("a"), Merge::Sum).unwrap();
    let b = live.slot(&key("b"), Merge::Sum).unwrap();
    a.add(1.0);
    b.add(2.0);
    other.slot(&key("b"), Merge::Sum).unwrap().add(10.0);
    assert_eq!(scrape(), [("a".into(), 1.0), ("b".into(), 12.0)]);
    // This process removes its series: only its own share goes.
    a.remove();
    b.remove();
    assert!(a.is_removed());
    b.add(5.0); // a stale handle's write leaves it removed
    assert_eq!(scrape(), [("b".into(), 10.0)]);
    assert_eq!(value(&store, &key("a")), None);
    // Written again, as a new series.
    a.set(0.0);
    a.add(3.0);
    assert_eq!(scrape(), [("a".into(), 3.0), ("b".into(), 10.0)]);
    // A dead process's removed series does not reach the archive. (A slot keeps its mapping,
    // and with it the file's lock: the process is dead once all are gone.)
    drop((a, b, live, other));
    assert_eq!(scrape(), [("a".into(), 3.0), ("b".into(), 10.0)]);
    let left = names(&dir);
    assert_eq!(left, ["archive.pyrostore"], "{left:?}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_latest_exemplar_of_any_process_is_shown_and_survives_its_death() {
    use pyrometer_core::{Exemplar, LabelSet, Timestamp};
    let _serial = serial();
    let dir = scratch("exemplars");
    let store = StoreDir::open(&dir).unwrap();
    let family = Family::<Counter>::new(Metadata::new("jobs", "Jobs.")).unwrap();
    let key = series_key(family.meta(), "_total", &[], None);
    let collector = DirectoryCollector::new(dir.clone());
    let scrape = || {
        let mut out = Vec::new();
        collector.collect(&CollectOptions::default(), &mut out).unwrap();
        out[0].samples[0].exemplar.as_deref().cloned()
    };
    let trace = |id: &str, value: f64| {
        Exemplar::new(LabelSet::new([("trace_id", id)]), value, Some(Timestamp::Seconds(1.5))).unwrap()
    };
    let first = store.create_process_file().unwrap();
    let second = store.create_process_file().unwrap();
    first.slot(&key, Merge::Sum).unwrap().add(1.0);
    second.slot(&key, Merge::Sum).unwrap().add(1.0);
    assert_eq!(scrape(), None);
    assert!(first.exemplar_slot(&key).unwrap().write(&trace("aaa", 1.0)));
    assert_eq!(scrape(), Some(trace("aaa", 1.0)));
    std::thread::sleep(std::time::Duration::from_millis(2));
    second.exemplar_slot(&key).unwrap().write(&trace("bbb", 2.0));
    assert_eq!(scrape(), Some(trace("bbb", 2.0)), "the latest written wins");
    // Rewritten in place, many times, while a reader reads: never a torn exemplar.
    let slot = first.exemplar_slot(&key).unwrap();
    let writer = std::thread::spawn(move || {
        for i in 0..20_000u32 {
            let id = format!("{i:0>width$}", width = 1 + i as usize % 40);
            slot.write(&Exemplar::new(LabelSet::new([("trace_id", id.as_str())]), f64::from(i), None).unwrap());
        }
    });
    for _ in 0..200 {
        let seen = scrape().unwrap();
        let id = seen.labels.get("trace_id").unwrap().to_owned();
        if id != "bbb" {
            assert_eq!(id.trim_start_matches('0').parse::<f64>().unwrap_or(0.0), seen.value, "{seen:?}");
        }
    }
    writer.join().unwrap();
    // Both processes end: the archive keeps the latest.
    let latest = scrape().unwrap();
    drop(first);
    drop(second);
    assert_eq!(scrape(), Some(latest));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn summary_quantiles_merge_over_live_processes_and_follow_the_window() {
    use pyrometer_core::{Quantiles, Summary};
    use pyrometer_store::StoredSketch;
    let _serial = serial();
    let dir = scratch("sketch");
    let store = StoreDir::open(&dir).unwrap();
    let family =
        Family::<Summary>::with_options(Metadata::new("size", "Size."), Some(Quantiles::new([0.5, 0.9]))).unwrap();
    let mut window = Quantiles::new([0.5, 0.9]);
    window.max_age = std::time::Duration::from_millis(600);
    window.age_buckets = 2;
    let collector = DirectoryCollector::new(dir.clone());
    let quantiles = || {
        let mut out = Vec::new();
        collector.collect(&CollectOptions::default(), &mut out).unwrap();
        out.iter()
            .flat_map(|f| f.samples.iter())
            .filter_map(|s| Some((s.extra_label.as_ref()?.value.to_string(), s.value)))
            .collect::<Vec<_>>()
    };
    let first = store.create_process_file().unwrap();
    let second = store.create_process_file().unwrap();
    let a = StoredSketch::open(&first, family.meta(), &[], &window).unwrap();
    let b = StoredSketch::open(&second, family.meta(), &[], &window).unwrap();
    // Values 1..=1000 split between the processes: the merged quantiles are the union's.
    for v in 1..=1000 {
        if v % 3 == 0 { a.observe(f64::from(v)).unwrap() } else { b.observe(f64::from(v)).unwrap() }
    }
    let merged = quantiles();
    assert_eq!(merged.len(), 2, "{merged:?}");
    assert_eq!(merged[0].0, "0.5");
    assert!((merged[0].1 - 500.0).abs() <= 0.01 * 500.0 + 1.0, "{merged:?}");
    assert!((merged[1].1 - 900.0).abs() <= 0.01 * 900.0 + 1.0, "{merged:?}");
    // A removed series' quantiles go with it.
    a.remove();
    let only_b = quantiles();
    assert!((only_b[0].1 - 500.0).abs() <= 0.02 * 500.0 + 2.0, "{only_b:?}");
    // Past the window, nothing is left to answer from.
    std::thread::sleep(std::time::Duration::from_millis(1300));
    let later = quantiles();
    assert_eq!(later.len(), 2);
    assert!(later.iter().all(|(_, v)| v.is_nan()), "{later:?}");
    // New observations count again.
    b.observe(7.0).unwrap();
    assert!((quantiles()[0].1 - 7.0).abs() <= 0.07 + 1e-9);
    // A dead process's observations leave the window with it.
    drop((b, second, a, first));
    assert!(quantiles().is_empty(), "no live process reports quantiles");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_live_file_truncated_between_scrapes_is_reported_not_a_crash() {
    let _serial = serial();

    let dir = scratch("truncated-live");
    let store = StoreDir::open(&dir).unwrap();
    let family = Family::<Counter>::new(Metadata::new("jobs", "Jobs.")).unwrap();
    let key = series_key(family.meta(), "_total", &[], None);
    let collector = DirectoryCollector::new(dir.clone());
    let scrape = || {
        let mut out = Vec::new();
        collector.collect(&CollectOptions::default(), &mut out).unwrap();
        out.iter().filter(|f| &*f.name == "jobs").flat_map(|f| f.samples.iter().map(|s| s.value)).sum::<f64>()
    };
    let live = store.create_process_file().unwrap();
    live.slot(&key, Merge::Sum).unwrap().add(2.0);
    let path = live.path();
    // The writer stays alive (its lock held) and never writes again.
    std::mem::forget(live);
    assert_eq!(scrape(), 2.0);
    // Shrunk under the collector's mapping: reading the mapping now would be SIGBUS.
    std::fs::OpenOptions::new().write(true).open(&path).unwrap().set_len(0).unwrap();
    assert_eq!(scrape(), 0.0);
    let problems = collector.problems();
    assert!(problems.iter().any(|p| p.contains("truncated")), "{problems:?}");
    // Counted in a metric of its own.
    let mut out = Vec::new();
    collector.collect(&CollectOptions::default(), &mut out).unwrap();
    let unreadable = out.iter().find(|f| &*f.name == pyrometer_store::UNREADABLE_FILES_METRIC).unwrap();
    assert_eq!(unreadable.samples[0].value, 1.0);
    std::fs::remove_dir_all(dir).unwrap();
}

/// FIFOs named like the archive and like a process file are no store files: a scrape does not
/// wait on them (opening a FIFO for reading blocks until a writer comes).
#[test]
fn fifos_named_like_store_files_do_not_hang_a_scrape() {
    let _serial = serial();

    let dir = scratch("fifo");
    let store = StoreDir::open(&dir).unwrap();
    let family = Family::<Counter>::new(Metadata::new("jobs", "Jobs.")).unwrap();
    let live = store.create_process_file().unwrap();
    live.slot(&series_key(family.meta(), "_total", &[], None), Merge::Sum).unwrap().add(1.0);
    let live_name = live.path().file_name().unwrap().to_string_lossy().into_owned();
    let fifo_name = live_name.replacen("proc-", "proc-0", 1);
    for name in ["archive.pyrostore", fifo_name.as_str()] {
        let made = Command::new("mkfifo").arg(dir.join(name)).status().unwrap();
        assert!(made.success());
    }
    let (done, finished) = std::sync::mpsc::channel();
    let scraping = dir.clone();
    std::thread::spawn(move || {
        let mut out = Vec::new();
        DirectoryCollector::new(scraping).collect(&CollectOptions::default(), &mut out).unwrap();
        let _ = done.send(out.iter().flat_map(|f| f.samples.iter().map(|s| s.value)).sum::<f64>());
    });
    let total = finished.recv_timeout(std::time::Duration::from_secs(10)).expect("the scrape hung on a FIFO");
    assert_eq!(total, 1.0);
    drop(live);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_merge_lock_held_for_ever_leaves_dead_processes_unmerged_but_read() {
    let _serial = serial();

    let dir = scratch("held-merge-lock");
    let store = StoreDir::open(&dir).unwrap();
    let family = Family::<Counter>::new(Metadata::new("jobs", "Jobs.")).unwrap();
    let key = series_key(family.meta(), "_total", &[], None);
    let dead = store.create_process_file().unwrap();
    dead.slot(&key, Merge::Sum).unwrap().add(3.0);
    drop(dead);
    // A stuck process holds the merge lock and never lets go.
    let mut options = std::fs::OpenOptions::new();
    let held = options.read(true).write(true).create(true).truncate(false).open(dir.join(".merge.lock")).unwrap();
    held.lock().unwrap();
    let started = std::time::Instant::now();
    let snapshot = store.read().unwrap();
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "{:?}", started.elapsed());
    let total: f64 =
        snapshot.files.iter().flat_map(|f| f.entries.iter()).filter(|e| e.key == key).map(|e| e.value).sum();
    assert_eq!(total, 3.0, "the dead process's file is read as it is");
    drop(held);
    // Once the lock is free, the next read merges it.
    let snapshot = store.read().unwrap();
    assert_eq!(snapshot.files.len(), 1, "only the archive is left");
}

#[test]
fn a_live_process_of_the_same_pid_in_another_namespace_makes_the_later_file_name_itself_apart() {
    let _serial = serial();
    let dir = scratch("namespaces");
    let store = StoreDir::open(&dir).unwrap();
    let pid = std::process::id();
    assert_eq!(store.create_process_file().unwrap().identifier(), pid.to_string(), "alone: the pid");
    // Another container's process, pid equal to ours, alive (its file locked), first to write.
    let other = dir.join(format!("proc-0000000000000001-{pid}-abc.pyrostore"));
    std::fs::copy(names(&dir).first().map(|n| dir.join(n)).unwrap(), &other).unwrap();
    let held = std::fs::File::open(&other).unwrap();
    held.lock().unwrap();
    let file = store.create_process_file().unwrap();
    let identifier = file.identifier();
    assert!(identifier.starts_with(&format!("{pid}-")) && identifier.len() > pid.to_string().len() + 1, "{identifier}");
    // Once that process is gone, a new file is named by the pid alone again.
    drop(held);
    assert_eq!(store.create_process_file().unwrap().identifier(), pid.to_string());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_live_file_torn_after_some_entries_keeps_those_in_the_scrape() {
    use std::os::unix::fs::FileExt;
    let _serial = serial();
    let dir = scratch("torn-live");
    let store = StoreDir::open(&dir).unwrap();
    let family = Family::<Counter>::new(Metadata::new("jobs", "Jobs.").label_names(["n"])).unwrap();
    let key = |n: &str| series_key(family.meta(), "_total", &[(Arc::from("n"), Arc::from(n))], None);
    let live = store.create_process_file().unwrap();
    live.slot(&key("a"), Merge::Sum).unwrap().add(2.0);
    live.slot(&key("b"), Merge::Sum).unwrap().add(5.0);
    let path = live.path();
    // The second entry (after the 64-byte header and the first) gets a merge rule no writer uses.
    let file = std::fs::OpenOptions::new().read(true).write(true).open(&path).unwrap();
    let mut first_len = [0u8; 4];
    file.read_exact_at(&mut first_len, 64).unwrap();
    file.write_all_at(&[0x77], 64 + u64::from(u32::from_le_bytes(first_len)) + 6).unwrap();
    let collector = DirectoryCollector::new(dir.clone());
    for _ in 0..2 {
        let mut out = Vec::new();
        collector.collect(&CollectOptions::default(), &mut out).unwrap();
        let jobs: Vec<(String, f64)> = out
            .iter()
            .filter(|f| &*f.name == "jobs")
            .flat_map(|f| f.samples.iter().map(|s| (s.labels.get("n").unwrap().to_owned(), s.value)))
            .collect();
        assert_eq!(jobs, [("a".to_owned(), 2.0)]);
        assert!(collector.problems().iter().any(|p| p.contains("unknown merge rule")), "{:?}", collector.problems());
    }
    drop(live);
    std::fs::remove_dir_all(dir).unwrap();
}
