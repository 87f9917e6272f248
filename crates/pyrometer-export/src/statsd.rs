//! A `StatsD` client: counters, gauges and observations as `StatsD` lines over UDP, with
//! `DogStatsD` tags or labels folded into the name, batched into packets.
//!
//! The caller formats a line and appends it to a buffer under a short lock; a full buffer goes
//! out as one datagram on a non-blocking socket, so the caller never waits on the network. What
//! cannot be sent (the socket's buffer is full, nobody listens, a line is malformed) is counted in
//! [`StatsdClient::dropped`]. A background thread flushes the buffer and the due
//! [rate-limited gauges](StatsdClient::gauge_rate_limited) every `flush_interval`;
//! [`StatsdClient::close`] (or dropping the client) flushes what is left.
//!
//! ```no_run
//! use pyrometer_export::statsd::{StatsdClient, StatsdOptions};
//! let statsd = StatsdClient::connect("127.0.0.1:8125", StatsdOptions::default())?;
//! statsd.count("requests", 1.0, &[("method", "GET")]);
//! statsd.gauge("queue_depth", 12.0, &[]);
//! statsd.observe("latency_seconds", 0.031, &[("route", "/")]);
//! statsd.close();
//! # Ok::<(), std::io::Error>(())
//! ```

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io;
use std::net::{ToSocketAddrs, UdpSocket};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use pyrometer_core::{RateLimitedGauge, SampleRate};

/// How labels travel.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TagFormat {
    /// `DogStatsD`: `name:1|c|#method:GET,code:200`.
    #[default]
    DogStatsd,
    /// Plain `StatsD` has no tags: label values join the name, `name.GET.200`.
    Plain,
}

/// Settings of a [`StatsdClient`].
#[derive(Clone, Debug)]
pub struct StatsdOptions {
    /// Prepended to every name with a dot (`app` makes `app.requests`); empty for none.
    pub prefix: String,
    /// Tags sent with every line (`DogStatsD` only).
    pub constant_tags: Vec<(String, String)>,
    /// How labels travel.
    pub tag_format: TagFormat,
    /// The largest datagram the client sends, in bytes: 1432 (default) fits an Ethernet MTU with
    /// IPv6 and UDP headers; 8932 suits jumbo frames; a loopback agent takes up to 65,507.
    pub max_packet_size: usize,
    /// How often the buffer and due rate-limited gauges go out (default 1 s).
    pub flush_interval: Duration,
}

impl Default for StatsdOptions {
    fn default() -> Self {
        Self {
            prefix: String::new(),
            constant_tags: Vec::new(),
            tag_format: TagFormat::DogStatsd,
            max_packet_size: 1432,
            flush_interval: Duration::from_secs(1),
        }
    }
}

/// A rate-limited gauge and what its lines carry.
#[derive(Debug)]
struct Limited {
    gauge: RateLimitedGauge,
    name: String,
    tags: Vec<(String, String)>,
}

/// The largest UDP payload over IPv4.
const MAX_DATAGRAM: usize = 65_507;

/// A `StatsD` client; see the [module](self) documentation. Cloning gives another handle to the
/// same client.
#[derive(Clone, Debug)]
pub struct StatsdClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    socket: UdpSocket,
    options: StatsdOptions,
    /// Constant tags, rendered once: `,k:v,k2:v2` without the leading comma's owner.
    constant_tags: String,
    buffer: Mutex<Vec<u8>>,
    limited: Mutex<HashMap<Vec<u8>, Limited>>,
    dropped: AtomicU64,
    packets: AtomicU64,
    /// Lines of the last datagram sent, until the system reports it refused (a closed port
    /// answers a datagram with an error that the next send, or a look, reports).
    last_lines: AtomicU64,
    /// Set at close; the flushing thread waits on it between flushes.
    stop: Arc<(Mutex<bool>, Condvar)>,
    flusher: Mutex<Option<JoinHandle<()>>>,
    /// The process the flusher runs in: a forked child has a copy of this client but not its
    /// thread, nor any business sending the parent's buffered lines.
    pid: u32,
}

impl StatsdClient {
    /// A client sending to `address` (`host:port`), with its flushing thread started.
    ///
    /// # Errors
    /// The address does not resolve, or no socket can be opened for it.
    pub fn connect(address: impl ToSocketAddrs, options: StatsdOptions) -> io::Result<Self> {
        let target = address
            .to_socket_addrs()?
            .next()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the StatsD address resolves to nothing"))?;
        let socket = UdpSocket::bind(if target.is_ipv4() { "0.0.0.0:0" } else { "[::]:0" })?;
        socket.connect(target)?;
        socket.set_nonblocking(true)?;
        let mut constant_tags = String::new();
        for (name, value) in &options.constant_tags {
            push_tag(&mut constant_tags, name, value);
        }
        let interval = options.flush_interval;
        let max_packet_size = options.max_packet_size.clamp(64, MAX_DATAGRAM);
        let inner = Arc::new(Inner {
            socket,
            options: StatsdOptions { max_packet_size, ..options },
            constant_tags,
            buffer: Mutex::new(Vec::with_capacity(max_packet_size)),
            limited: Mutex::default(),
            dropped: AtomicU64::new(0),
            packets: AtomicU64::new(0),
            last_lines: AtomicU64::new(0),
            stop: Arc::new((Mutex::new(false), Condvar::new())),
            flusher: Mutex::new(None),
            pid: std::process::id(),
        });
        // Between flushes the thread holds the client only weakly: dropping the last handle
        // closes it at once.
        let weak = Arc::downgrade(&inner);
        let stop = Arc::clone(&inner.stop);
        let flusher = std::thread::Builder::new().name("pyrometer-statsd".into()).spawn(move || {
            let (stopped, wake) = &*stop;
            let mut guard = stopped.lock().unwrap_or_else(PoisonError::into_inner);
            // A close before the thread first waits has set the flag already.
            while !*guard {
                guard = wake.wait_timeout(guard, interval).unwrap_or_else(PoisonError::into_inner).0;
                if *guard {
                    return;
                }
                drop(guard);
                match weak.upgrade() {
                    Some(inner) => inner.flush_due(Instant::now()),
                    None => return,
                }
                guard = stopped.lock().unwrap_or_else(PoisonError::into_inner);
            }
        })?;
        *inner.flusher.lock().unwrap_or_else(PoisonError::into_inner) = Some(flusher);
        Ok(Self { inner })
    }

    /// Adds `value` to a counter.
    pub fn count(&self, name: &str, value: f64, tags: &[(&str, &str)]) {
        self.inner.line(name, value, "c", None, tags);
    }

    /// Adds `value` to a counter with probability `rate`, telling the server the rate
    /// (`|@0.1`) so that it scales the count back up.
    pub fn count_sampled(&self, name: &str, value: f64, tags: &[(&str, &str)], rate: SampleRate) {
        if rate.draw() {
            let rate = (rate.get() < 1.0).then_some(rate.get());
            self.inner.line(name, value, "c", rate, tags);
        }
    }

    /// Sets a gauge.
    pub fn gauge(&self, name: &str, value: f64, tags: &[(&str, &str)]) {
        self.inner.line(name, value, "g", None, tags);
    }

    /// Sets a gauge that goes out at most once per `min_interval`: the latest value, when the
    /// interval has passed, at a flush or at close. The interval is fixed by the first call for
    /// a name and tags.
    pub fn gauge_rate_limited(&self, name: &str, value: f64, tags: &[(&str, &str)], min_interval: Duration) {
        // Each part length-prefixed, so that no two name-and-tags share a key.
        let mut key = Vec::with_capacity(name.len() + 32);
        for part in std::iter::once(name).chain(tags.iter().flat_map(|(n, v)| [*n, *v])) {
            key.extend_from_slice(&(part.len() as u64).to_le_bytes());
            key.extend_from_slice(part.as_bytes());
        }
        let gauge = {
            let mut limited = self.inner.limited.lock().unwrap_or_else(PoisonError::into_inner);
            let entry = limited.entry(key).or_insert_with(|| Limited {
                gauge: RateLimitedGauge::new(min_interval),
                name: name.to_owned(),
                tags: tags.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect(),
            });
            entry.gauge.clone()
        };
        gauge.set(value);
        if let Some(value) = gauge.take_due(Instant::now()) {
            self.gauge(name, value, tags);
        }
    }

    /// Records an observation: a `DogStatsD` histogram (`|h`), a timer (`|ms`) in plain `StatsD`.
    pub fn observe(&self, name: &str, value: f64, tags: &[(&str, &str)]) {
        let kind = match self.inner.options.tag_format {
            TagFormat::DogStatsd => "h",
            TagFormat::Plain => "ms",
        };
        self.inner.line(name, value, kind, None, tags);
    }

    /// Sends what is buffered and the rate-limited gauges that are due.
    pub fn flush(&self) {
        self.inner.flush_due(Instant::now());
    }

    /// Stops the flushing thread and sends everything left, rate-limited gauges included
    /// whatever their interval. Later calls send nothing more than what they add.
    pub fn close(&self) {
        self.inner.close();
    }

    /// Lines that could not be sent: a full socket buffer, an unreachable server, a closed port
    /// (whose refusal the system reports), a value that is not finite, an empty name or a line
    /// longer than a datagram. (A server that never reads loses lines in its own socket buffer,
    /// which the sender cannot see.)
    #[must_use]
    pub fn dropped(&self) -> u64 {
        if let Ok(Some(error)) = self.inner.socket.take_error() {
            self.inner.refused(&error);
        }
        self.inner.dropped.load(Ordering::Relaxed)
    }

    /// Datagrams sent (and not refused).
    #[must_use]
    pub fn packets(&self) -> u64 {
        self.inner.packets.load(Ordering::Relaxed)
    }
}

impl Inner {
    fn line(&self, name: &str, value: f64, kind: &str, rate: Option<f64>, tags: &[(&str, &str)]) {
        if !value.is_finite() || name.is_empty() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let mut line = String::with_capacity(64);
        if !self.options.prefix.is_empty() {
            push_name(&mut line, &self.options.prefix);
            line.push('.');
        }
        push_name(&mut line, name);
        if self.options.tag_format == TagFormat::Plain {
            for (_, v) in tags {
                line.push('.');
                push_name(&mut line, v);
            }
        }
        line.push(':');
        push_value(&mut line, value);
        line.push('|');
        line.push_str(kind);
        if let Some(rate) = rate {
            let _ = write!(line, "|@{rate}");
        }
        if self.options.tag_format == TagFormat::DogStatsd && (!tags.is_empty() || !self.constant_tags.is_empty()) {
            line.push_str("|#");
            let start = line.len();
            for (n, v) in tags {
                push_tag(&mut line, n, v);
            }
            if line.len() > start && !self.constant_tags.is_empty() {
                line.push(',');
            }
            line.push_str(&self.constant_tags);
        }
        self.append(line.as_bytes());
    }

    /// Appends a line, sending the buffer first if the line would not fit.
    fn append(&self, line: &[u8]) {
        if line.len() > MAX_DATAGRAM {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let mut buffer = self.buffer.lock().unwrap_or_else(PoisonError::into_inner);
        if !buffer.is_empty() && buffer.len() + 1 + line.len() > self.options.max_packet_size {
            self.send(&mut buffer);
        }
        if !buffer.is_empty() {
            buffer.push(b'\n');
        }
        buffer.extend_from_slice(line);
        if buffer.len() >= self.options.max_packet_size {
            self.send(&mut buffer);
        }
    }

    fn send(&self, buffer: &mut Vec<u8>) {
        if buffer.is_empty() {
            return;
        }
        let lines = buffer.split(|&b| b == b'\n').count() as u64;
        let mut sent = self.socket.send(buffer);
        if let Err(error) = &sent
            && self.refused(error)
        {
            // The error was an earlier datagram's: this one was not sent yet.
            sent = self.socket.send(buffer);
        }
        if sent.is_ok() {
            self.packets.fetch_add(1, Ordering::Relaxed);
            self.last_lines.store(lines, Ordering::Relaxed);
        } else {
            self.dropped.fetch_add(lines, Ordering::Relaxed);
        }
        buffer.clear();
    }

    /// Counts the last datagram as dropped if `error` is the system's report that the server's
    /// port refused it; whether it was.
    fn refused(&self, error: &io::Error) -> bool {
        if error.kind() != io::ErrorKind::ConnectionRefused {
            return false;
        }
        let lines = self.last_lines.swap(0, Ordering::Relaxed);
        if lines > 0 {
            self.dropped.fetch_add(lines, Ordering::Relaxed);
            self.packets.fetch_sub(1, Ordering::Relaxed);
        }
        true
    }

    /// Sends the due rate-limited gauges (all pending ones at close) and the buffer.
    fn flush_due(&self, now: Instant) {
        self.flush_limited(Some(now));
        let mut buffer = self.buffer.lock().unwrap_or_else(PoisonError::into_inner);
        self.send(&mut buffer);
    }

    fn flush_limited(&self, now: Option<Instant>) {
        let limited = self.limited.lock().unwrap_or_else(PoisonError::into_inner);
        for entry in limited.values() {
            let taken = now.map_or_else(|| entry.gauge.take_pending(), |now| entry.gauge.take_due(now));
            if let Some(value) = taken {
                let tags: Vec<(&str, &str)> = entry.tags.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
                self.line(&entry.name, value, "g", None, &tags);
            }
        }
    }

    fn close(&self) {
        if std::process::id() != self.pid {
            // A forked child's copy: the thread to join is the parent's, and so are the lines.
            // Its handle is forgotten, not dropped: dropping detaches the thread id, which a
            // thread this process starts may have reused.
            std::mem::forget(self.flusher.lock().unwrap_or_else(PoisonError::into_inner).take());
            self.buffer.lock().unwrap_or_else(PoisonError::into_inner).clear();
            return;
        }
        let (stopped, wake) = &*self.stop;
        *stopped.lock().unwrap_or_else(PoisonError::into_inner) = true;
        wake.notify_all();
        let flusher = self.flusher.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(flusher) = flusher
            && flusher.thread().id() != std::thread::current().id()
        {
            let _ = flusher.join();
        }
        self.flush_limited(None);
        let mut buffer = self.buffer.lock().unwrap_or_else(PoisonError::into_inner);
        self.send(&mut buffer);
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.close();
    }
}

/// A finite value, whole numbers without a fraction (`12`, not `12.0`), others in the shortest
/// form that reads back to the same `f64`.
fn push_value(out: &mut String, value: f64) {
    let magnitude = value.abs();
    if value.fract() == 0.0 && magnitude < 1e15 {
        let _ = write!(out, "{}", value as i64);
    } else if !(1e-5..1e15).contains(&magnitude) {
        let _ = write!(out, "{value:e}");
    } else {
        let _ = write!(out, "{value}");
    }
}

/// A name as `StatsD` servers accept it: anything but ASCII letters, digits, `_`, `.` and `-`
/// becomes `_` (a Prometheus name's `:` included, since `:` ends a `StatsD` name).
fn push_name(out: &mut String, name: &str) {
    out.extend(name.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') { c } else { '_' }));
}

/// `name:value`, comma-separated from what precedes; `,`, `|`, `#` and line breaks, which would
/// end the tag, become `_`.
fn push_tag(out: &mut String, name: &str, value: &str) {
    if !out.is_empty() && !out.ends_with('#') {
        out.push(',');
    }
    let clean = |c: char| if matches!(c, ',' | '|' | '#' | '\n' | '\r') { '_' } else { c };
    out.extend(name.chars().map(clean));
    out.push(':');
    out.extend(value.chars().map(clean));
}
