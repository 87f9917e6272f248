//! A ready scrape server on tokio and hyper.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use pyrometer_core::Registry;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

use super::respond::respond;

/// The most bytes of a request body the server reads (and drops) to keep the connection.
const MAX_REQUEST_BODY: usize = 64 * 1024;
use super::source::Source;

/// How the server treats its clients. Build it from `ServeOptions::default()`.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// Gzip answers for clients that accept it (`disable_compression` upstream is the inverse).
    pub gzip: bool,
    /// At most this many connections are open at once (default 64). A new one beyond it closes
    /// the oldest idle one (silent, or between requests); when every one is busy answering, it
    /// waits for one to finish.
    pub max_connections: usize,
    /// How long a new connection may stay silent before its request starts (default 2 s): a
    /// client that connects and sends nothing gives its place up soon.
    pub idle_timeout: Duration,
    /// How long a client may take to send its request headers before it is cut off (default
    /// 10 s).
    pub header_read_timeout: Duration,
    /// How long one connection may stay open: at the deadline it finishes the request in hand
    /// and closes, so a client that never reads cannot hold a slot for ever.
    pub connection_timeout: Duration,
    /// How long, after shutdown is asked for, answers already begun may take to finish.
    pub shutdown_grace: Duration,
    /// Serve HTTPS with this configuration (see [`TlsFiles`](super::TlsFiles)); the handshake
    /// must end within `header_read_timeout`.
    #[cfg(feature = "tls")]
    pub tls: Option<Arc<rustls::ServerConfig>>,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            gzip: true,
            max_connections: 64,
            idle_timeout: Duration::from_secs(2),
            header_read_timeout: Duration::from_secs(10),
            connection_timeout: Duration::from_secs(120),
            shutdown_grace: Duration::from_secs(5),
            #[cfg(feature = "tls")]
            tls: None,
        }
    }
}

/// What can stop the server.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Accepting connections failed.
    #[error("accepting a connection failed")]
    Accept(#[source] std::io::Error),
}

/// Serves `registry` on `listener` with the default [`ServeOptions`] until `shutdown`
/// completes.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let registry = pyrometer_core::Registry::new();
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:9464").await?;
/// pyrometer_export::http::serve(listener, registry, std::future::pending()).await?;
/// # Ok(()) }
/// ```
pub async fn serve(listener: TcpListener, registry: Registry, shutdown: impl Future<Output = ()>) -> Result<(), Error> {
    serve_with(listener, Arc::new(registry), ServeOptions::default(), shutdown).await
}

/// Serves what `source` collects on `listener` until `shutdown` completes, then lets answers in
/// progress finish within the grace period. Each connection runs on its own task.
pub async fn serve_with(
    listener: TcpListener,
    source: Arc<dyn Source>,
    options: ServeOptions,
    shutdown: impl Future<Output = ()>,
) -> Result<(), Error> {
    tokio::pin!(shutdown);
    let open = Arc::new(Connections::new(options.max_connections));
    let (stopping, stop_seen) = watch::channel(false);
    let mut connections = JoinSet::new();
    let outcome = loop {
        // Reap finished connections so the set stays as small as the open ones.
        while connections.try_join_next().is_some() {}
        let stream = tokio::select! {
            () = &mut shutdown => break Ok(()),
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // A connection that died before we took it is the client's problem, not ours.
                Err(e) if is_transient(&e) => continue,
                Err(e) => break Err(Error::Accept(e)),
            },
        };
        // Admitted once accepted: making room may close an idle connection, never the one
        // being accepted.
        let slot = tokio::select! {
            () = &mut shutdown => break Ok(()),
            slot = Arc::clone(&open).admit() => slot,
        };
        connections.spawn(accept_connection(stream, Arc::clone(&source), options.clone(), stop_seen.clone(), slot));
    };
    drop(listener);
    let _ = stopping.send(true);
    let _ =
        tokio::time::timeout(options.shutdown_grace, async { while connections.join_next().await.is_some() {} }).await;
    outcome
}

/// The open connections, in the order they came, and whether each is answering a request.
#[derive(Debug)]
struct Connections {
    open: Mutex<Vec<Open>>,
    max: usize,
    next_id: AtomicU64,
    /// Signalled when a connection closes.
    closed: Notify,
}

#[derive(Debug)]
struct Open {
    id: u64,
    busy: Arc<AtomicBool>,
    shed: Arc<Notify>,
}

/// A connection's place among the open ones: given back when dropped.
#[derive(Debug)]
struct Slot {
    connections: Arc<Connections>,
    id: u64,
    /// Set while a request is being answered (until its body is written or dropped).
    busy: Arc<AtomicBool>,
    /// Signalled when the connection must close to make room for a new one.
    shed: Arc<Notify>,
}

impl Connections {
    fn new(max: usize) -> Self {
        Self { open: Mutex::new(Vec::new()), max: max.max(1), next_id: AtomicU64::new(0), closed: Notify::new() }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Open>> {
        self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A place for one more connection: a free one, else the oldest idle connection's (which is
    /// told to close), else the first to close.
    async fn admit(self: Arc<Self>) -> Slot {
        loop {
            let closed = self.closed.notified();
            tokio::pin!(closed);
            closed.as_mut().enable();
            {
                let mut open = self.lock();
                if open.len() >= self.max {
                    if let Some(at) = open.iter().position(|o| !o.busy.load(Ordering::Acquire)) {
                        open.remove(at).shed.notify_one();
                    }
                }
                if open.len() < self.max {
                    let id = self.next_id.fetch_add(1, Ordering::Relaxed);
                    let (busy, shed) = (Arc::new(AtomicBool::new(false)), Arc::new(Notify::new()));
                    open.push(Open { id, busy: Arc::clone(&busy), shed: Arc::clone(&shed) });
                    drop(open);
                    return Slot { connections: Arc::clone(&self), id, busy, shed };
                }
            }
            closed.await;
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.connections.lock().retain(|o| o.id != self.id);
        self.connections.closed.notify_one();
    }
}

/// A response body that marks its connection idle again once written (or dropped).
struct Answer {
    body: Full<Bytes>,
    busy: Arc<AtomicBool>,
}

impl Body for Answer {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

impl Drop for Answer {
    fn drop(&mut self) {
        self.busy.store(false, Ordering::Release);
    }
}

/// Serves one accepted connection, after a TLS handshake when the server speaks HTTPS. A
/// connection that sends nothing within the idle timeout is closed.
async fn accept_connection(
    stream: TcpStream,
    source: Arc<dyn Source>,
    options: ServeOptions,
    stop: watch::Receiver<bool>,
    slot: Slot,
) {
    let shed = Arc::clone(&slot.shed);
    let mut first = [0u8; 1];
    tokio::select! {
        // (`readable()` may be ready before any byte is: a peek waits for one.)
        peeked = tokio::time::timeout(options.idle_timeout, stream.peek(&mut first)) => {
            if !matches!(peeked, Ok(Ok(n)) if n > 0) {
                return;
            }
        }
        () = shed.notified() => return,
    }
    #[cfg(feature = "tls")]
    if let Some(config) = options.tls.clone() {
        let handshake = tokio_rustls::TlsAcceptor::from(config).accept(stream);
        // A client that fails or stalls its handshake only loses its own connection.
        if let Ok(Ok(stream)) = tokio::time::timeout(options.header_read_timeout, handshake).await {
            serve_connection(stream, source, options, stop, slot).await;
        }
        return;
    }
    serve_connection(stream, source, options, stop, slot).await;
}

async fn serve_connection<IO>(
    stream: IO,
    source: Arc<dyn Source>,
    options: ServeOptions,
    mut stop: watch::Receiver<bool>,
    slot: Slot,
) where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let gzip = options.gzip;
    let busy = Arc::clone(&slot.busy);
    let body_wait = options.idle_timeout;
    let service = service_fn(move |request: Request<Incoming>| {
        let (source, busy) = (Arc::clone(&source), Arc::clone(&busy));
        async move {
            // A body (which no request here needs) is read and dropped, so that a request
            // pipelined after it is answered on the same connection; one too long or too slow
            // is left, and the connection closes after this answer. Until the body is read the
            // connection counts as idle: at the cap, it is shed first.
            let (head, body) = request.into_parts();
            let drained = tokio::time::timeout(body_wait, Limited::new(body, MAX_REQUEST_BODY).collect()).await;
            busy.store(true, Ordering::Release);
            let request = Request::from_parts(head, ());
            let (mut parts, body) = respond(&*source, &request, gzip).into_parts();
            if !matches!(drained, Ok(Ok(_))) {
                parts.headers.insert(hyper::header::CONNECTION, hyper::header::HeaderValue::from_static("close"));
            }
            Ok::<_, Infallible>(Response::from_parts(parts, Answer { body, busy }))
        }
    });
    let mut builder = http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(options.header_read_timeout);
    let connection = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);
    let deadline = tokio::time::sleep(options.connection_timeout);
    tokio::pin!(deadline);
    // A client that hangs up mid-request ends only its own connection, so errors are dropped.
    tokio::select! {
        _ = connection.as_mut() => return,
        // Closed at once to make room: it was idle.
        () = slot.shed.notified() => return,
        () = &mut deadline => {},
        _ = stop.wait_for(|stopping| *stopping) => {},
    }
    connection.as_mut().graceful_shutdown();
    let _ = tokio::time::timeout(options.shutdown_grace, connection).await;
}

fn is_transient(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionReset, Interrupted};
    matches!(e.kind(), ConnectionAborted | ConnectionReset | Interrupted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pyrometer_core::{Counter, Family, Metadata};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn serves_a_scrape_over_loopback_and_stops_on_shutdown() {
        let registry = Registry::new();
        let c = Family::<Counter>::new(Metadata::new("served", "S.")).unwrap();
        registry.register(c.clone()).unwrap();
        c.without_labels().unwrap().inc_by(3.0);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve(listener, registry, async {
            let _ = stopped.await;
        }));

        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        stream.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.unwrap();
        let mut response = String::new();
        tokio::time::timeout(Duration::from_secs(5), stream.read_to_string(&mut response)).await.unwrap().unwrap();
        assert!(response.starts_with("HTTP/1.1 200 OK"));
        assert!(response.contains("served_total 3.0"));

        stop.send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(5), server).await.unwrap().unwrap().unwrap();
    }

    async fn spawn_server(options: ServeOptions) -> (std::net::SocketAddr, tokio::sync::oneshot::Sender<()>) {
        let registry = Registry::new();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(serve_with(listener, Arc::new(registry), options, async {
            let _ = stopped.await;
        }));
        (addr, stop)
    }

    async fn scrape(stream: &mut tokio::net::TcpStream) -> String {
        stream.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.unwrap();
        let mut response = String::new();
        tokio::time::timeout(Duration::from_secs(5), stream.read_to_string(&mut response)).await.unwrap().unwrap();
        response
    }

    #[tokio::test]
    async fn at_the_bound_a_new_connection_closes_the_oldest_idle_one() {
        let (addr, _stop) = spawn_server(ServeOptions { max_connections: 1, ..ServeOptions::default() }).await;
        let mut first = tokio::net::TcpStream::connect(addr).await.unwrap();
        // The first connection is answered and kept open, idle between requests.
        first.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
        let mut head = [0u8; 12];
        first.read_exact(&mut head).await.unwrap();
        let mut second = tokio::net::TcpStream::connect(addr).await.unwrap();
        assert!(scrape(&mut second).await.starts_with("HTTP/1.1 200 OK"));
        let mut rest = Vec::new();
        // Closed (a reset, or an end, after the rest of its first answer), never answered again.
        let _ = tokio::time::timeout(Duration::from_secs(5), first.read_to_end(&mut rest)).await.unwrap();
        assert!(!String::from_utf8_lossy(&rest).contains("HTTP/1.1"), "{}", String::from_utf8_lossy(&rest));
    }

    #[tokio::test]
    async fn idle_and_non_reading_connections_do_not_shut_a_scrape_out() {
        let (addr, _stop) = spawn_server(ServeOptions::default()).await;
        let mut held = Vec::new();
        for i in 0..300 {
            let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
            if i % 2 == 0 {
                // Asks and never reads the answer.
                stream.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
            }
            held.push(stream);
        }
        let started = std::time::Instant::now();
        let mut scraper = tokio::net::TcpStream::connect(addr).await.unwrap();
        assert!(scrape(&mut scraper).await.starts_with("HTTP/1.1 200 OK"));
        assert!(started.elapsed() < Duration::from_secs(1), "{:?}", started.elapsed());
    }

    #[tokio::test]
    async fn a_connection_that_sends_nothing_is_closed_after_the_idle_timeout() {
        let options = ServeOptions { idle_timeout: Duration::from_millis(100), ..ServeOptions::default() };
        let (addr, _stop) = spawn_server(options).await;
        let mut silent = tokio::net::TcpStream::connect(addr).await.unwrap();
        let started = std::time::Instant::now();
        let mut rest = Vec::new();
        tokio::time::timeout(Duration::from_secs(5), silent.read_to_end(&mut rest)).await.unwrap().unwrap();
        assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    }

    #[tokio::test]
    async fn a_client_that_sends_no_request_is_cut_off() {
        let options = ServeOptions { header_read_timeout: Duration::from_millis(200), ..ServeOptions::default() };
        let (addr, _stop) = spawn_server(options).await;
        let mut silent = tokio::net::TcpStream::connect(addr).await.unwrap();
        silent.write_all(b"GET / HTTP/1.1\r\n").await.unwrap();
        let mut rest = Vec::new();
        let closed = tokio::time::timeout(Duration::from_secs(5), silent.read_to_end(&mut rest)).await;
        assert!(closed.is_ok(), "the slow client was never cut off");
        // The server keeps serving others.
        let mut other = tokio::net::TcpStream::connect(addr).await.unwrap();
        assert!(scrape(&mut other).await.starts_with("HTTP/1.1 200 OK"));
    }

    /// What a connection answers to `requests` before it closes (at most five seconds).
    async fn answers(addr: std::net::SocketAddr, requests: &[u8]) -> String {
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        stream.write_all(requests).await.unwrap();
        let mut response = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut response)).await;
        String::from_utf8_lossy(&response).into_owned()
    }

    #[tokio::test]
    async fn a_request_pipelined_after_one_with_a_body_is_answered() {
        let (addr, _stop) = spawn_server(ServeOptions::default()).await;
        let last = "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
        for first in [
            "GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
        ] {
            let response = answers(addr, format!("{first}{last}").as_bytes()).await;
            assert_eq!(response.matches("HTTP/1.1 200 OK").count(), 2, "{first:?}: {response}");
        }
    }

    #[tokio::test]
    async fn a_body_too_long_to_read_closes_the_connection_after_its_answer() {
        let (addr, _stop) = spawn_server(ServeOptions::default()).await;
        let body = "x".repeat(MAX_REQUEST_BODY + 1);
        let request = format!(
            "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{body}GET / HTTP/1.1\r\nHost: x\r\n\r\n",
            body.len()
        );
        let response = answers(addr, request.as_bytes()).await;
        assert_eq!(response.matches("HTTP/1.1 200 OK").count(), 1, "{response}");
        assert!(response.to_ascii_lowercase().contains("connection: close"), "{response}");
    }
}
