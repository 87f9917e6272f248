//! The demo service, run as a user runs it: it starts, serves live metrics and stops by itself.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

fn scrape(addr: &str, accept: &str) -> String {
    let mut stream = TcpStream::connect(addr).expect("connect to the demo");
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(stream, "GET /metrics HTTP/1.1\r\nHost: demo\r\nAccept: {accept}\r\nConnection: close\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

fn requests_total(response: &str) -> f64 {
    response
        .lines()
        .filter(|l| l.starts_with("demo_http_requests_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[test]
fn demo_serves_live_metrics_that_grow() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pyrometer"))
        .args(["demo", "--addr", "127.0.0.1:0", "--seconds", "4"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the demo");
    let mut banner = String::new();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    stdout.read_line(&mut banner).unwrap();
    let addr = banner.split("http://").nth(1).and_then(|s| s.split('/').next()).expect("address in banner").to_owned();

    std::thread::sleep(Duration::from_millis(300));
    let first = scrape(&addr, "text/plain");
    assert!(first.starts_with("HTTP/1.1 200 OK"), "{first}");
    assert!(first.contains("# TYPE demo_http_request_duration_seconds histogram"));
    assert!(first.contains("demo_build_info{language=\"rust\""));
    std::thread::sleep(Duration::from_millis(500));
    let second = scrape(&addr, "application/openmetrics-text");
    assert!(second.trim_end().ends_with("# EOF"));
    assert!(requests_total(&second) > requests_total(&first), "request counts grow between scrapes");

    let status = child.wait().expect("the demo stops by itself");
    assert!(status.success());
    let mut farewell = String::new();
    stdout.read_to_string(&mut farewell).unwrap();
    assert!(farewell.contains("stopped"));
}
