//! A ready scrape server on tokio and hyper.

use std::convert::Infallible;
use std::future::Future;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use pyrometer_core::Registry;
use tokio::net::TcpListener;

use super::respond::respond;

/// How long a client may take to send its request headers before the connection is closed.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// What can stop the server.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Accepting connections failed.
    #[error("accepting a connection failed")]
    Accept(#[source] std::io::Error),
}

/// Serves `registry` on `listener` until `shutdown` completes. Each connection runs on its own
/// task; slow clients are cut off after a header timeout.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let registry = pyrometer_core::Registry::new();
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:9464").await?;
/// pyrometer_export::http::serve(listener, registry, std::future::pending()).await?;
/// # Ok(()) }
/// ```
pub async fn serve(listener: TcpListener, registry: Registry, shutdown: impl Future<Output = ()>) -> Result<(), Error> {
    tokio::pin!(shutdown);
    loop {
        let (stream, _) = tokio::select! {
            () = &mut shutdown => return Ok(()),
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                // A connection that died before we took it is the client's problem, not ours.
                Err(e) if is_transient(&e) => continue,
                Err(e) => return Err(Error::Accept(e)),
            },
        };
        let registry = registry.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let response = respond(&registry, &request);
                async move { Ok::<_, Infallible>(response) }
            });
            let mut builder = http1::Builder::new();
            builder.timer(TokioTimer::new()).header_read_timeout(HEADER_READ_TIMEOUT);
            // A client that hangs up mid-request ends only its own connection.
            let _ = builder.serve_connection(TokioIo::new(stream), service).await;
        });
    }
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
}
