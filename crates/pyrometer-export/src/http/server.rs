//! A ready scrape server on tokio and hyper.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use pyrometer_core::Registry;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinSet;

use super::respond::respond;
use super::source::Source;

/// How the server treats its clients. Build it from `ServeOptions::default()`.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// Gzip answers for clients that accept it (`disable_compression` upstream is the inverse).
    pub gzip: bool,
    /// At most this many connections are served at once; further clients wait to be accepted.
    pub max_connections: usize,
    /// How long a client may take to send its request headers before it is cut off.
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
    let slots = Arc::new(Semaphore::new(options.max_connections.max(1)));
    let (stopping, stop_seen) = watch::channel(false);
    let mut connections = JoinSet::new();
    let outcome = loop {
        // Reap finished connections so the set stays as small as the open ones.
        while connections.try_join_next().is_some() {}
        let slot = tokio::select! {
            () = &mut shutdown => break Ok(()),
            slot = Arc::clone(&slots).acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break Ok(()),
            },
        };
        let stream = tokio::select! {
            () = &mut shutdown => break Ok(()),
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // A connection that died before we took it is the client's problem, not ours.
                Err(e) if is_transient(&e) => continue,
                Err(e) => break Err(Error::Accept(e)),
            },
        };
        connections.spawn(accept_connection(stream, Arc::clone(&source), options.clone(), stop_seen.clone(), slot));
    };
    drop(listener);
    let _ = stopping.send(true);
    let _ =
        tokio::time::timeout(options.shutdown_grace, async { while connections.join_next().await.is_some() {} }).await;
    outcome
}

/// Serves one accepted connection, after a TLS handshake when the server speaks HTTPS.
async fn accept_connection(
    stream: TcpStream,
    source: Arc<dyn Source>,
    options: ServeOptions,
    stop: watch::Receiver<bool>,
    slot: OwnedSemaphorePermit,
) {
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
    _slot: OwnedSemaphorePermit,
) where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let gzip = options.gzip;
    let service = service_fn(move |request| {
        let response = respond(&*source, &request, gzip);
        async move { Ok::<_, Infallible>(response) }
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
    async fn connections_beyond_the_bound_wait_for_a_free_slot() {
        let (addr, _stop) = spawn_server(ServeOptions { max_connections: 1, ..ServeOptions::default() }).await;
        let mut first = tokio::net::TcpStream::connect(addr).await.unwrap();
        // The first connection holds the only slot; the second is queued, not answered.
        first.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
        let mut head = [0u8; 12];
        first.read_exact(&mut head).await.unwrap();
        let mut second = tokio::net::TcpStream::connect(addr).await.unwrap();
        second.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.unwrap();
        let mut byte = [0u8; 1];
        let waited = tokio::time::timeout(Duration::from_millis(300), second.read(&mut byte)).await;
        assert!(waited.is_err(), "the second client was answered while the first held the slot");
        drop(first);
        let mut rest = String::new();
        tokio::time::timeout(Duration::from_secs(5), second.read_to_string(&mut rest)).await.unwrap().unwrap();
        assert!(rest.starts_with("HTTP/1.1 200 OK"));
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
}
