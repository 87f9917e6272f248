//! Pushing a registry to Graphite's plaintext listener (carbon), once or on an interval, as
//! `prometheus_client`'s `GraphiteBridge` does.

use std::io::Write;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
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
        let addresses: Vec<SocketAddr> = self.address.to_socket_addrs()?.collect();
        send(&addresses, Some(self.timeout), lines.as_bytes())?;
        Ok(())
    }

    /// Pushes every `interval` from a thread of its own, on a [`Schedule`]; failures go to
    /// `on_error`. The pushes stop when the returned handle is dropped.
    pub fn start(
        self,
        interval: Duration,
        prefix: impl Into<String>,
        on_error: impl Fn(GraphiteError) + Send + 'static,
    ) -> PushLoop {
        let prefix = prefix.into();
        let schedule = Arc::new(Schedule::new(interval));
        let slots = Arc::clone(&schedule);
        let thread = std::thread::spawn(move || {
            while slots.wait() {
                if let Err(e) = self.push(&prefix) {
                    on_error(e);
                }
            }
        });
        PushLoop { schedule, thread: Some(thread) }
    }
}

/// Sends `lines` over a new connection to the first of `addresses` that accepts one, tried in
/// order as Python's `socket.create_connection` tries them; `timeout` bounds connecting, and the
/// whole send (`None`: no bound).
///
/// # Errors
/// The last address's connection error when none accepts (as `create_connection` raises it), or
/// a failed or timed-out send.
pub fn send(addresses: &[SocketAddr], timeout: Option<Duration>, lines: &[u8]) -> std::io::Result<()> {
    let mut last_error = None;
    for address in addresses {
        let connected = match timeout {
            Some(timeout) => TcpStream::connect_timeout(address, timeout),
            None => TcpStream::connect(address),
        };
        match connected {
            Ok(stream) => return write_within(stream, timeout, lines),
            Err(e) => last_error = Some(e),
        }
    }
    Err(last_error.unwrap_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "no address to send to")))
}

/// Writes all of `bytes`, within `timeout` in all (as Python's `sendall` bounds it), not per write.
fn write_within(mut stream: TcpStream, timeout: Option<Duration>, mut bytes: &[u8]) -> std::io::Result<()> {
    let deadline = timeout.map(|t| Instant::now() + t);
    while !bytes.is_empty() {
        if let Some(deadline) = deadline {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(std::io::ErrorKind::TimedOut.into());
            }
            stream.set_write_timeout(Some(left))?;
        }
        match stream.write(bytes) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(written) => bytes = &bytes[written..],
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Pushes on a fixed schedule: a slot every `interval` from the first wait, which returns at
/// once; a push that overruns skips the slots it missed instead of catching up. Another thread
/// may [`stop`](Schedule::stop) it at any time.
#[derive(Debug)]
pub struct Schedule {
    interval: Duration,
    state: Mutex<ScheduleState>,
    wake: Condvar,
}

#[derive(Debug)]
struct ScheduleState {
    due: Option<Instant>,
    stopped: bool,
}

impl Schedule {
    /// A schedule of a slot every `interval` (from a millisecond to a hundred years).
    #[must_use]
    pub fn new(interval: Duration) -> Self {
        let interval = interval.clamp(Duration::from_millis(1), Duration::from_secs(100 * 365 * 86_400));
        Self { interval, state: Mutex::new(ScheduleState { due: None, stopped: false }), wake: Condvar::new() }
    }

    /// Waits for the next slot; `false` once the schedule is stopped.
    pub fn wait(&self) -> bool {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let due = *state.due.get_or_insert_with(Instant::now);
        loop {
            if state.stopped {
                return false;
            }
            let now = Instant::now();
            if now >= due {
                let mut next = due;
                while next <= now {
                    next += self.interval;
                }
                state.due = Some(next);
                return true;
            }
            state = self.wake.wait_timeout(state, due - now).unwrap_or_else(PoisonError::into_inner).0;
        }
    }

    /// Ends the schedule: a wait under way returns `false` at once, and so does every later one.
    pub fn stop(&self) {
        self.state.lock().unwrap_or_else(PoisonError::into_inner).stopped = true;
        self.wake.notify_all();
    }
}

/// The running pushes of [`GraphiteBridge::start`]; dropping it stops them.
#[derive(Debug)]
pub struct PushLoop {
    schedule: Arc<Schedule>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for PushLoop {
    fn drop(&mut self) {
        self.schedule.stop();
        if let Some(thread) = self.thread.take() {
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
    fn a_schedule_skips_overrun_slots_and_stops_a_wait_under_way() {
        let schedule = Arc::new(Schedule::new(Duration::from_millis(40)));
        let start = Instant::now();
        assert!(schedule.wait(), "the first slot is now");
        std::thread::sleep(Duration::from_millis(100)); // overruns two slots
        assert!(schedule.wait());
        let waited = start.elapsed();
        assert!(waited >= Duration::from_millis(100) && waited < Duration::from_millis(200), "{waited:?}");
        let hourly = Arc::new(Schedule::new(Duration::from_secs(3600)));
        assert!(hourly.wait());
        let stopper = Arc::clone(&hourly);
        let stopping = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(10));
            stopper.stop();
        });
        let before = Instant::now();
        assert!(!hourly.wait(), "a wait under way ends when the schedule stops");
        assert!(before.elapsed() < Duration::from_secs(60), "{:?}", before.elapsed());
        stopping.join().unwrap();
        assert!(!hourly.wait());
    }

    #[test]
    fn send_tries_each_address_and_reports_the_last_failure() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        send(&[closed, listener.local_addr().unwrap()], Some(Duration::from_secs(5)), b"a 1 2\n").unwrap();
        let mut text = String::new();
        listener.accept().unwrap().0.read_to_string(&mut text).unwrap();
        assert_eq!(text, "a 1 2\n");
        // An address this host does not have (a documentation range), then a refusing port.
        let unroutable: SocketAddr = "[100::1]:9".parse().unwrap();
        let refused = send(&[unroutable, closed], Some(Duration::from_millis(500)), b"x").unwrap_err();
        assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused, "{refused}");
    }

    #[test]
    fn a_huge_interval_waits_until_stopped_instead_of_overflowing() {
        let schedule = Arc::new(Schedule::new(Duration::MAX));
        assert!(schedule.wait());
        let stopper = Arc::clone(&schedule);
        let stopping = std::thread::spawn(move || stopper.stop());
        assert!(!schedule.wait());
        stopping.join().unwrap();
    }

    #[test]
    fn an_unreachable_listener_is_an_io_error() {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let bridge = GraphiteBridge::new(format!("127.0.0.1:{port}"), Registry::new());
        assert!(matches!(bridge.push(""), Err(GraphiteError::Io(_))));
    }
}
