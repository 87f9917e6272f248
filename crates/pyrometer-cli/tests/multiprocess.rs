//! The multiprocess sidecar serves what processes wrote to a store directory, dead ones included.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use pyrometer_core::{Counter, Family, Metadata};
use pyrometer_store::{Merge, StoreDir, series_key};

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
    drop(live);
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(response.contains("# TYPE jobs_total counter\n"), "{response}");
    assert!(response.contains("jobs_total{queue=\"mail\"} 7.0\n"), "{response}");
}
