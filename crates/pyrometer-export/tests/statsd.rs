//! The `StatsD` client against a UDP socket on loopback: what arrives, in what packets.
#![cfg(feature = "statsd")]
#![allow(missing_docs)]

use std::net::UdpSocket;
use std::time::{Duration, Instant};

use pyrometer_core::SampleRate;
use pyrometer_export::statsd::{StatsdClient, StatsdOptions, TagFormat};

fn server() -> (UdpSocket, String) {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let address = socket.local_addr().unwrap().to_string();
    (socket, address)
}

/// Every datagram until none comes for 200 ms.
fn packets(socket: &UdpSocket) -> Vec<String> {
    socket.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
    let mut out = Vec::new();
    let mut buf = vec![0u8; 65_536];
    while let Ok(n) = socket.recv(&mut buf) {
        out.push(String::from_utf8(buf[..n].to_vec()).unwrap());
    }
    out
}

fn lines(packets: &[String]) -> Vec<String> {
    packets.iter().flat_map(|p| p.lines().map(str::to_owned)).collect()
}

fn quiet() -> StatsdOptions {
    // Long enough that only the test's own flushes send.
    StatsdOptions { flush_interval: Duration::from_secs(60), ..StatsdOptions::default() }
}

#[test]
fn dogstatsd_lines_carry_tags_type_and_prefix() {
    let (socket, address) = server();
    let options = StatsdOptions { prefix: "app".into(), constant_tags: vec![("env".into(), "prod".into())], ..quiet() };
    let client = StatsdClient::connect(&address, options).unwrap();
    client.count("vllm:prompt_tokens", 12.0, &[("model_name", "m|1"), ("engine", "0")]);
    client.gauge("queue", 2.5, &[]);
    client.observe("latency_seconds", 0.031, &[("route", "/a,b")]);
    client.close();
    assert_eq!(
        lines(&packets(&socket)),
        [
            "app.vllm_prompt_tokens:12|c|#model_name:m_1,engine:0,env:prod",
            "app.queue:2.5|g|#env:prod",
            "app.latency_seconds:0.031|h|#route:/a_b,env:prod",
        ]
    );
    assert_eq!(client.dropped(), 0);
}

#[test]
fn plain_statsd_folds_label_values_into_the_name() {
    let (socket, address) = server();
    let client = StatsdClient::connect(&address, StatsdOptions { tag_format: TagFormat::Plain, ..quiet() }).unwrap();
    client.count("requests", 1.0, &[("method", "GET"), ("path", "/x y")]);
    client.observe("latency", 5.0, &[]);
    client.close();
    assert_eq!(lines(&packets(&socket)), ["requests.GET._x_y:1|c", "latency:5|ms"]);
}

#[test]
fn lines_are_batched_into_packets_no_larger_than_the_limit() {
    let (socket, address) = server();
    let client = StatsdClient::connect(&address, StatsdOptions { max_packet_size: 200, ..quiet() }).unwrap();
    for i in 0..100 {
        client.count("requests", f64::from(i), &[("n", &i.to_string())]);
    }
    client.close();
    let packets = packets(&socket);
    let bytes: usize = packets.iter().map(|p| p.len() + 1).sum();
    assert!(packets.iter().all(|p| p.len() <= 200));
    // Full packets: no more than one per 150 bytes of lines (a packet closes when the next
    // ~20-byte line would not fit).
    assert!(packets.len() >= bytes / 200 && packets.len() <= bytes / 150 + 1, "{} packets", packets.len());
    let lines = lines(&packets);
    assert_eq!(lines.len(), 100, "no line lost or split");
    assert_eq!(lines[99], "requests:99|c|#n:99");
    assert_eq!(client.packets(), packets.len() as u64);
}

#[test]
fn the_interval_flushes_without_being_asked() {
    let (socket, address) = server();
    let options = StatsdOptions { flush_interval: Duration::from_millis(50), ..StatsdOptions::default() };
    let client = StatsdClient::connect(&address, options).unwrap();
    client.count("ticks", 1.0, &[]);
    let mut buf = [0u8; 1500];
    socket.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let n = socket.recv(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"ticks:1|c");
    drop(client);
}

#[test]
fn dropping_the_client_sends_what_is_left() {
    let (socket, address) = server();
    let client = StatsdClient::connect(&address, quiet()).unwrap();
    client.gauge("last", 7.0, &[]);
    drop(client);
    assert_eq!(lines(&packets(&socket)), ["last:7|g"]);
}

#[test]
fn a_rate_limited_gauge_sends_at_most_once_per_interval_and_never_loses_the_last_value() {
    let (socket, address) = server();
    let options = StatsdOptions { flush_interval: Duration::from_millis(10), ..StatsdOptions::default() };
    let client = StatsdClient::connect(&address, options).unwrap();
    let interval = Duration::from_millis(100);
    let start = Instant::now();
    let mut last = 0.0;
    while start.elapsed() < Duration::from_millis(350) {
        last += 1.0;
        client.gauge_rate_limited("kv_cache_usage", last, &[("engine", "0")], interval);
    }
    let elapsed = start.elapsed();
    client.close();
    let lines = lines(&packets(&socket));
    let allowed = (elapsed.as_millis() / interval.as_millis()) as usize + 2;
    assert!(lines.len() <= allowed, "{} lines in {elapsed:?}: {lines:?}", lines.len());
    assert!(lines.len() >= 2, "{lines:?}");
    assert!(last > 1000.0, "the writes were many: {last}");
    assert_eq!(lines.last().unwrap(), &format!("kv_cache_usage:{last}|g|#engine:0"), "the last value went out");
}

#[test]
fn sampled_counts_tell_the_rate_and_are_unbiased() {
    let (socket, address) = server();
    let client = StatsdClient::connect(&address, StatsdOptions { max_packet_size: 65_000, ..quiet() }).unwrap();
    let rate = SampleRate::new(0.1).unwrap();
    for _ in 0..20_000 {
        client.count_sampled("hits", 1.0, &[], rate);
    }
    client.close();
    let lines = lines(&packets(&socket));
    assert!(lines.iter().all(|l| l == "hits:1|c|@0.1"));
    // What the server counts: each line scaled by 1 / rate. sd = sqrt(20000 * 0.9 / 0.1) ~ 424.
    let estimate = lines.len() as f64 * 10.0;
    assert!((estimate - 20_000.0).abs() < 5.0 * 424.3, "{estimate}");
}

#[test]
fn what_cannot_be_sent_is_counted() {
    let (_socket, address) = server();
    let client = StatsdClient::connect(&address, quiet()).unwrap();
    client.gauge("nan", f64::NAN, &[]);
    client.count("big", 1.0, &[("v", &"x".repeat(70_000))]);
    // No name: `:1|c` is no metric to any server.
    client.count("", 1.0, &[]);
    client.close();
    assert_eq!(client.dropped(), 3);
    assert!(StatsdClient::connect("no-such-host.invalid:8125", quiet()).is_err());
}

#[test]
fn lines_sent_to_a_closed_port_are_counted_dropped() {
    // A port nothing listens on: bound, then closed.
    let address = {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        socket.local_addr().unwrap().to_string()
    };
    let client = StatsdClient::connect(&address, quiet()).unwrap();
    for i in 0..5 {
        client.count("jobs", f64::from(i), &[]);
        client.flush();
        // The refusal comes back as the datagram is delivered, on loopback at once.
        std::thread::sleep(Duration::from_millis(20));
    }
    client.close();
    assert_eq!(client.dropped(), 5, "every line sent to the closed port");
    assert_eq!(client.packets(), 0);
}
