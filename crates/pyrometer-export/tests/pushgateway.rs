//! The Rust Pushgateway client against Debian's `prometheus-pushgateway` on loopback. Skipped
//! when the binary is missing, unless `PYROMETER_REQUIRE_PEERS=1` (set by `.ci/run`).
#![cfg(feature = "pushgateway")]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use pyrometer_core::{Counter, Family, Gauge, Metadata, Registry};
use pyrometer_export::pushgateway::{PushError, Pushgateway};

struct Gateway {
    child: Child,
    port: u16,
    data: std::path::PathBuf,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.data);
    }
}

fn start_gateway() -> Option<Gateway> {
    let binary = "prometheus-pushgateway";
    let found = std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(binary).is_file()));
    if !found {
        assert!(std::env::var("PYROMETER_REQUIRE_PEERS").as_deref() != Ok("1"), "{binary} is not installed");
        eprintln!("skipped: {binary} is not installed");
        return None;
    }
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let data = std::env::temp_dir().join(format!("pyrometer-pushgateway-{}-{port}", std::process::id()));
    std::fs::create_dir_all(&data).unwrap();
    let child = Command::new(binary)
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg(format!("--persistence.file={}", data.join("persistence").display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let gateway = Gateway { child, port, data };
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the pushgateway never listened");
        std::thread::sleep(Duration::from_millis(100));
    }
    Some(gateway)
}

/// The gateway's `/metrics`, parsed: `(sample name, value)` of the pushed samples of `job`.
fn group(port: u16, job: &str) -> Vec<(String, f64)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    stream.write_all(b"GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n").unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let body = answer.split_once("\r\n\r\n").unwrap().1;
    let mut found = Vec::new();
    for family in pyrometer_expo::parse_text(body).unwrap() {
        for sample in &family.samples {
            let labels = sample.all_labels();
            let is_job = labels.iter().any(|l| &*l.name == "job" && &*l.value == job);
            let name = sample.name.full(&family.name);
            if is_job && !name.starts_with("push_") {
                found.push((name, sample.value));
            }
        }
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found
}

fn registry(metrics: &[(&str, f64)]) -> Registry {
    let registry = Registry::new();
    registry.set_created_enabled(false);
    for (name, value) in metrics {
        if let Some(counter) = name.strip_suffix("_total") {
            let family = Family::<Counter>::new(Metadata::new(counter, "C.")).unwrap();
            family.without_labels().unwrap().inc_by(*value);
            registry.register(family).unwrap();
        } else {
            let family = Family::<Gauge>::new(Metadata::new(*name, "G.")).unwrap();
            family.without_labels().unwrap().set(*value);
            registry.register(family).unwrap();
        }
    }
    registry
}

fn named(pairs: &[(&str, f64)]) -> Vec<(String, f64)> {
    pairs.iter().map(|(n, v)| ((*n).to_owned(), *v)).collect()
}

#[tokio::test]
async fn push_replaces_push_add_adds_and_delete_removes() {
    let Some(server) = start_gateway() else { return };
    for gzip in [false, true] {
        let gateway = Pushgateway::new(&format!("127.0.0.1:{}", server.port)).unwrap().gzip(gzip);
        let key = [("instance", "host/1")];
        gateway.push("batch", &key, &registry(&[("jobs_total", 4.0), ("queue", 7.0)])).await.unwrap();
        assert_eq!(group(server.port, "batch"), named(&[("jobs_total", 4.0), ("queue", 7.0)]));

        gateway.push_add("batch", &key, &registry(&[("queue", 2.0), ("workers", 3.0)])).await.unwrap();
        assert_eq!(group(server.port, "batch"), named(&[("jobs_total", 4.0), ("queue", 2.0), ("workers", 3.0)]));

        gateway.push("batch", &key, &registry(&[("workers", 1.0)])).await.unwrap();
        assert_eq!(group(server.port, "batch"), named(&[("workers", 1.0)]));

        gateway.delete("batch", &key).await.unwrap();
        assert!(group(server.port, "batch").is_empty());
    }
}

#[tokio::test]
async fn a_refused_push_reports_the_gateway_s_answer() {
    let Some(server) = start_gateway() else { return };
    let gateway = Pushgateway::new(&format!("127.0.0.1:{}", server.port)).unwrap();
    // An empty job name is refused.
    match gateway.push("", &[], &registry(&[("jobs_total", 1.0)])).await {
        Err(PushError::Status { status, body }) => assert_eq!((status, body.as_str()), (400, "job name is required")),
        other => panic!("expected a refusal, got {other:?}"),
    }
}
