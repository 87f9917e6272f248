//! Pushing a registry to Graphite's plaintext listener (carbon), once or on an interval, as
//! `prometheus_client`'s `GraphiteBridge` does.

use std::io::Write;
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use pyrometer_core::Registry;
use pyrometer_expo::{GraphiteLabels, encode_graphite};

/// Why a push failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GraphiteError {
    /// Collecting the registry failed.
    #[error("collecting the registry failed: {0}")]
    Collect(#[from] pyrometer_core::Error),
    /// Resolving, connecting or sending failed.
    #[error("cannot send to graphite: {0}")]
    Io(#[from] std::io::Error),
}

/// A carbon plaintext listener and how to name series on it.
#[derive(Clone, Debug)]
pub struct GraphiteBridge {
    address: String,
    registry: Registry,
    labels: GraphiteLabels,
    timeout: Duration,
}

impl GraphiteBridge {
    /// A bridge sending `registry` to `address` (`host:port`), labels as path components.
    #[must_use]
    pub fn new(address: impl Into<String>, registry: Registry) -> Self {
        Self { address: address.into(), registry, labels: GraphiteLabels::Path, timeout: Duration::from_secs(30) }
    }

    /// Labels as Graphite 1.1 tags (`name;label=value`) instead of path components.
    #[must_use]
    pub fn tags(mut self, tags: bool) -> Self {
        self.labels = if tags { GraphiteLabels::Tags } else { GraphiteLabels::Path };
        self
    }

    /// How long connecting and sending may take (default 30 s).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sends every sample once, stamped with the current Unix time in whole seconds.
    ///
    /// # Errors
    /// A failed collection, or a failure to connect or send.
    pub fn push(&self, prefix: &str) -> Result<(), GraphiteError> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let mut lines = String::new();
        encode_graphite(&mut lines, &self.registry.collect()?, prefix, self.labels, i64::try_from(now).unwrap_or(0));
        let address = self
            .address
            .to_socket_addrs()?
            .next()
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "no address"))?;
        let mut stream = TcpStream::connect_timeout(&address, self.timeout)?;
        stream.set_write_timeout(Some(self.timeout))?;
        stream.write_all(lines.as_bytes())?;
        Ok(())
    }

    /// Pushes every `interval` from a thread of its own, on a fixed schedule (a slow push skips
    /// the slots it overran); failures go to `on_error`. The pushes stop when the returned
    /// handle is dropped.
    pub fn start(
        self,
        interval: Duration,
        prefix: impl Into<String>,
        on_error: impl Fn(GraphiteError) + Send + 'static,
    ) -> PushLoop {
        let prefix = prefix.into();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let mut due = Instant::now();
            while !stopping.load(Ordering::Relaxed) {
                let now = Instant::now();
                if now < due {
                    std::thread::park_timeout(due - now);
                    continue;
                }
                while due <= now {
                    due += interval;
                }
                if let Err(e) = self.push(&prefix) {
                    on_error(e);
                }
            }
        });
        PushLoop { stop, thread: Some(thread) }
    }
}

/// The running pushes of [`GraphiteBridge::start`]; dropping it stops them.
#[derive(Debug)]
pub struct PushLoop {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for PushLoop {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            thread.thread().unpark();
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pyrometer_core::{Family, Gauge, Metadata};
    use std::io::Read;
    use std::net::TcpListener;

    #[test]
    fn pushes_lines_on_a_schedule_until_dropped() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let registry = Registry::new();
        let g = Family::<Gauge>::new(Metadata::new("temp", "T.").label_names(["zone"])).unwrap();
        g.labels(&["a/b"]).unwrap().set(1.5);
        registry.register(g).unwrap();
        let bridge = GraphiteBridge::new(listener.local_addr().unwrap().to_string(), registry);
        let pushes = bridge.start(Duration::from_millis(20), "app", |e| panic!("{e}"));
        for _ in 0..2 {
            let (mut conn, _) = listener.accept().unwrap();
            let mut text = String::new();
            conn.read_to_string(&mut text).unwrap();
            let (path, rest) = text.split_once(' ').unwrap();
            assert_eq!(path, "app.temp.zone.a_b");
            assert!(rest.starts_with("1.5 ") && rest.ends_with('\n'), "{rest}");
        }
        drop(pushes);
    }

    #[test]
    fn an_unreachable_listener_is_an_io_error() {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let bridge = GraphiteBridge::new(format!("127.0.0.1:{port}"), Registry::new());
        assert!(matches!(bridge.push(""), Err(GraphiteError::Io(_))));
    }
}
