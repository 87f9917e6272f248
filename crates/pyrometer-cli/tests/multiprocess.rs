//! The multiprocess sidecar serves what processes wrote to a store directory, dead ones included.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pyrometer_core::{Counter, Family, Metadata};
use pyrometer_store::{Merge, StoreDir, series_key};

/// Starts the sidecar on `dir`, scrapes it once and stops it: the response, headers included.
fn scrape_sidecar(dir: &std::path::Path) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pyrometer"))
        .args(["multiprocess", "--dir", dir.to_str().unwrap(), "--addr", "127.0.0.1:0", "--seconds", "10"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.as_mut().unwrap()).read_line(&mut first).unwrap();
    let addr = first.split("http://").nth(1).unwrap().split('/').next().unwrap().to_owned();
    let mut stream = TcpStream::connect(&addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    stream.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    response
}

#[test]
fn the_sidecar_serves_every_process_s_series() {
    let dir = std::env::temp_dir().join(format!("pyrometer-sidecar-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let store = StoreDir::open(&dir).unwrap();
    let family = Family::<Counter>::new(Metadata::new("jobs", "Jobs done.").label_names(["queue"])).unwrap();
    let labels = [(Arc::from("queue"), Arc::from("mail"))];
    let key = series_key(family.meta(), "_total", &labels, None);
    let live = store.create_process_file().unwrap();
    live.slot(&key, Merge::Sum).unwrap().add(2.0);
    let gone = store.create_process_file().unwrap();
    gone.slot(&key, Merge::Sum).unwrap().add(5.0);
    drop(gone);

    let response = scrape_sidecar(&dir);
    drop(live);
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(response.contains("# TYPE jobs_total counter\n"), "{response}");
    assert!(response.contains("jobs_total{queue=\"mail\"} 7.0\n"), "{response}");
}

/// Forks a child that runs `work` and exits at once (no destructors, no exit hooks, as a worker
/// killed after its work would); returns its pid.
#[allow(unsafe_code)]
fn fork(work: impl FnOnce()) -> libc::pid_t {
    // SAFETY: the child only runs `work` (store writes through already-made handles, and new
    // series whose store file it makes itself) and then `_exit`s, never returning into the
    // test harness; the parent waits for it with `waitpid`.
    unsafe {
        let pid = libc::fork();
        assert!(pid >= 0, "fork failed");
        if pid == 0 {
            work();
            libc::_exit(0);
        }
        pid
    }
}

#[allow(unsafe_code)]
fn wait(pid: libc::pid_t) {
    let mut status = 0;
    // SAFETY: `pid` is a child of this process; `status` is a valid out pointer.
    let waited = unsafe { libc::waitpid(pid, &raw mut status, 0) };
    assert_eq!(waited, pid);
    assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0, "child failed: {status}");
}

#[test]
fn forked_rust_processes_write_the_store_through_their_families_and_the_sidecar_merges_them() {
    use pyrometer_core::Gauge;
    use pyrometer_store::StoreMirror;

    let dir = std::env::temp_dir().join(format!("pyrometer-rust-mp-{}", std::process::id()));
    let store = StoreMirror::new(&dir).unwrap();
    let jobs = Family::<Counter>::with_mirror(
        Metadata::new("jobs", "Jobs done.").label_names(["queue"]),
        (),
        store.source(Merge::Sum),
    )
    .unwrap();
    let workers =
        Family::<Gauge>::with_mirror(Metadata::new("workers", "Workers up."), (), store.source(Merge::LiveSum))
            .unwrap();
    let busy = Family::<Gauge>::with_mirror(
        Metadata::new("busy", "Busy by process.").label_names(["kind"]),
        (),
        store.source(Merge::All),
    )
    .unwrap();
    // A series made before the fork writes to the parent's file from every process: counted once.
    let mail = jobs.labels(&["mail"]).unwrap();
    mail.inc();
    workers.without_labels().unwrap().inc(1.0);
    let children: Vec<_> = (0..3)
        .map(|_| {
            let (jobs, mail, busy) = (jobs.clone(), mail.clone(), busy.clone());
            fork(move || {
                mail.inc_by(2.0);
                // Made after the fork: in the child's own file.
                jobs.labels(&["sms"]).unwrap().inc();
                busy.labels(&["io"]).unwrap().set(1.0);
            })
        })
        .collect();
    children.into_iter().for_each(wait);

    let response = scrape_sidecar(&dir);
    drop((jobs, workers, busy, mail, store));
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(response.contains("jobs_total{queue=\"mail\"} 7.0\n"), "{response}");
    assert!(response.contains("jobs_total{queue=\"sms\"} 3.0\n"), "{response}");
    // Only the parent is alive: a live sum sees it alone.
    assert!(response.contains("workers 1.0\n"), "{response}");
    // One series per process in `all` mode, dead ones kept.
    assert_eq!(response.matches("busy{kind=\"io\",pid=").count(), 3, "{response}");
}

/// Answers every HTTP/1.1 request on `stream` with 204, keeping the decompressed bodies, until
/// the client closes it.
fn receive_remote_writes(stream: TcpStream, bodies: &Mutex<Vec<(std::time::Instant, Vec<u8>)>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    loop {
        let mut length = None;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let line = line.trim_end().to_ascii_lowercase();
            if line.is_empty() {
                break;
            }
            if let Some(value) = line.strip_prefix("content-length:") {
                length = value.trim().parse::<usize>().ok();
            }
        }
        let mut body = vec![0; length.expect("a content length")];
        reader.read_exact(&mut body).unwrap();
        bodies
            .lock()
            .unwrap()
            .push((std::time::Instant::now(), snap::raw::Decoder::new().decompress_vec(&body).unwrap()));
        writer.write_all(b"HTTP/1.1 204 No Content\r\n\r\n").unwrap();
    }
}

#[test]
fn the_sidecar_also_remote_writes_the_merged_series() {
    use prost::Message;
    use pyrometer_export::remote_write::messages::v1;

    let dir = std::env::temp_dir().join(format!("pyrometer-sidecar-rw-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let store = StoreDir::open(&dir).unwrap();
    let family = Family::<Counter>::new(Metadata::new("jobs", "Jobs done.")).unwrap();
    let key = series_key(family.meta(), "_total", &[], None);
    let live = store.create_process_file().unwrap();
    live.slot(&key, Merge::Sum).unwrap().add(7.0);

    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/api/v1/write", listener.local_addr().unwrap());
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let received = Arc::clone(&bodies);
    // A connection per shard of the writer.
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let received = Arc::clone(&received);
            std::thread::spawn(move || receive_remote_writes(stream.unwrap(), &received));
        }
    });
    let started = std::time::Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_pyrometer"))
        .args(["multiprocess", "--dir", dir.to_str().unwrap(), "--addr", "127.0.0.1:0", "--seconds", "2"])
        .args(["--remote-write", &url, "--remote-write-interval", "0.2"])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    assert!(child.wait().unwrap().success());
    let bodies = bodies.lock().unwrap().clone();
    // Written on the interval while it ran, not only when it stopped.
    assert!(bodies.first().is_some_and(|(at, _)| *at - started < Duration::from_millis(1500)), "nothing early");
    drop(live);
    std::fs::remove_dir_all(&dir).unwrap();

    // Collections on the interval, then the last one and its staleness markers at the end.
    let series: Vec<v1::TimeSeries> =
        bodies.iter().flat_map(|(_, b)| v1::WriteRequest::decode(&b[..]).unwrap().timeseries).collect();
    let jobs: Vec<f64> = series
        .iter()
        .filter(|s| s.labels.iter().any(|l| l.name == "__name__" && l.value == "jobs_total"))
        .map(|s| s.samples[0].value)
        .collect();
    assert!(jobs.len() >= 3, "{jobs:?}");
    assert!(jobs[..jobs.len() - 1].iter().all(|v| *v == 7.0), "{jobs:?}");
    assert_eq!(jobs.last().unwrap().to_bits(), pyrometer_export::remote_write::STALE_NAN.to_bits());
    assert!(series.iter().any(|s| s.labels.iter().any(|l| l.value == "pyrometer_remote_write_samples_sent_total")));
}
