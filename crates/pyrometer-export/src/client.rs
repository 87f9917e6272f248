//! The HTTP client side the push transports share: where a server is, one request to it over a
//! fresh HTTP/1.1 connection or over one kept open, plain or TLS, and how to wait between retries.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::{Bytes, BytesMut};
use http_body_util::{BodyExt, Full};
use hyper::body::Body;
use hyper::client::conn::http1::SendRequest;
use hyper::{Request, Uri};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

/// The most of an answer's body that is read: enough for an error message. The rest is never
/// read (the connection is closed), so a server that answers with an endless body costs this
/// much memory, not all of it.
pub(crate) const MAX_ANSWER_BODY: usize = 64 * 1024;

/// Why a request failed before an answer came.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ExchangeError {
    /// The server could not be reached, or the connection broke off.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The HTTP exchange failed.
    #[error(transparent)]
    Http(#[from] hyper::Error),
    /// TLS is needed and not configured, or the host is no TLS server name.
    #[error("{0}")]
    Tls(String),
}

/// A server's address, parsed from an `http://` or `https://` URL.
#[derive(Clone, Debug)]
pub(crate) struct Endpoint {
    /// `host:port` as given, for the `Host` header.
    pub(crate) authority: String,
    pub(crate) host: String,
    pub(crate) port: u16,
    /// The URL's path without a trailing slash (often empty).
    pub(crate) path: String,
    pub(crate) https: bool,
    #[cfg(feature = "tls")]
    pub(crate) tls: Option<std::sync::Arc<rustls::ClientConfig>>,
}

impl Endpoint {
    /// Parses `url`, assuming `http://` when it has no scheme. The error says what is wrong.
    pub(crate) fn parse(url: &str) -> Result<Self, String> {
        let full = if url.contains("://") { url.to_owned() } else { format!("http://{url}") };
        let uri: Uri = full.parse().map_err(|e: hyper::http::uri::InvalidUri| e.to_string())?;
        let https = match uri.scheme_str() {
            Some("http") => false,
            Some("https") if cfg!(feature = "tls") => true,
            Some("https") => return Err("https:// URLs need the feature `tls`".into()),
            _ => return Err("only http:// and https:// URLs are supported".into()),
        };
        let authority = uri.authority().ok_or("no host")?.clone();
        // Credentials in the URL (`user:pass@host`) are not the server's address.
        let authority_text = authority.as_str().rsplit('@').next().unwrap_or_default().to_owned();
        Ok(Self {
            authority: authority_text,
            host: authority.host().trim_start_matches('[').trim_end_matches(']').to_owned(),
            port: authority.port_u16().unwrap_or(if https { 443 } else { 80 }),
            path: uri.path().trim_end_matches('/').to_owned(),
            https,
            #[cfg(feature = "tls")]
            tls: None,
        })
    }

    /// The URL of `path` on this server.
    pub(crate) fn url(&self, path: &str) -> String {
        let scheme = if self.https { "https" } else { "http" };
        format!("{scheme}://{}{path}", self.authority)
    }

    /// Sends `request` over a new connection; the answer's status, headers and the first
    /// [`MAX_ANSWER_BODY`] bytes of its body.
    pub(crate) async fn exchange(
        &self,
        request: Request<Full<Bytes>>,
    ) -> Result<(hyper::http::response::Parts, Bytes), ExchangeError> {
        let (mut sender, connection) = self.connect().await?;
        let answer = send(&mut sender, request).await;
        drop(sender);
        match answer {
            // The connection closes by itself once the answer is read and the sender gone.
            Ok((parts, body, true)) => {
                let _ = connection.await;
                Ok((parts, body))
            }
            // The rest of the body is left unread: the connection goes with it.
            Ok((parts, body, false)) => {
                connection.abort();
                Ok((parts, body))
            }
            Err(e) => {
                connection.abort();
                Err(e)
            }
        }
    }

    /// Opens a connection: the sender of requests over it, and the task that drives it.
    async fn connect(&self) -> Result<(SendRequest<Full<Bytes>>, JoinHandle<()>), ExchangeError> {
        let stream = TcpStream::connect((self.host.as_str(), self.port)).await?;
        stream.set_nodelay(true)?;
        #[cfg(feature = "tls")]
        if self.https {
            let config = self.tls.clone().ok_or_else(|| {
                ExchangeError::Tls(format!("{} is https:// and needs a TLS configuration", self.url("")))
            })?;
            let name = rustls::pki_types::ServerName::try_from(self.host.clone())
                .map_err(|e| ExchangeError::Tls(e.to_string()))?;
            let stream = tokio_rustls::TlsConnector::from(config).connect(name, stream).await?;
            return handshake(stream).await;
        }
        handshake(stream).await
    }
}

async fn handshake<IO>(stream: IO) -> Result<(SendRequest<Full<Bytes>>, JoinHandle<()>), ExchangeError>
where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    let connection = tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok((sender, connection))
}

/// Sends `request`; the answer's head, at most [`MAX_ANSWER_BODY`] bytes of its body, and whether
/// that was the whole body.
async fn send(
    sender: &mut SendRequest<Full<Bytes>>,
    request: Request<Full<Bytes>>,
) -> Result<(hyper::http::response::Parts, Bytes, bool), ExchangeError> {
    sender.ready().await?;
    let response = sender.send_request(request).await?;
    let (parts, mut body) = response.into_parts();
    let mut kept = BytesMut::new();
    while kept.len() < MAX_ANSWER_BODY {
        let Some(frame) = body.frame().await else {
            return Ok((parts, kept.freeze(), true));
        };
        if let Ok(data) = frame?.into_data() {
            kept.extend_from_slice(&data[..data.len().min(MAX_ANSWER_BODY - kept.len())]);
        }
    }
    Ok((parts, kept.freeze(), body.is_end_stream()))
}

/// One connection to a server, kept open between requests (HTTP/1.1 keep-alive) and opened
/// again when the server closed it or an answer was left half read.
#[derive(Debug)]
pub(crate) struct KeptConnection {
    endpoint: Endpoint,
    open: Option<(SendRequest<Full<Bytes>>, JoinHandle<()>)>,
}

impl KeptConnection {
    pub(crate) fn new(endpoint: Endpoint) -> Self {
        Self { endpoint, open: None }
    }

    /// As [`Endpoint::exchange`], over the kept connection.
    pub(crate) async fn exchange(
        &mut self,
        request: Request<Full<Bytes>>,
    ) -> Result<(hyper::http::response::Parts, Bytes), ExchangeError> {
        let (mut sender, connection) = match self.open.take() {
            Some((sender, connection)) if !sender.is_closed() => (sender, connection),
            stale => {
                if let Some((_, connection)) = stale {
                    connection.abort();
                }
                self.endpoint.connect().await?
            }
        };
        match send(&mut sender, request).await {
            Ok((parts, body, complete)) => {
                if complete {
                    self.open = Some((sender, connection));
                } else {
                    connection.abort();
                }
                Ok((parts, body))
            }
            Err(e) => {
                connection.abort();
                Err(e)
            }
        }
    }
}

impl Drop for KeptConnection {
    fn drop(&mut self) {
        if let Some((_, connection)) = self.open.take() {
            connection.abort();
        }
    }
}

/// The wait a server asked for in `Retry-After`: seconds, or an HTTP date (none if it has passed).
pub(crate) fn retry_after(headers: &hyper::HeaderMap) -> Option<Duration> {
    let value = headers.get(hyper::header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO))
}

/// Exponential backoff with jitter: each wait is drawn between half and all of the current
/// backoff, which doubles after every attempt up to a ceiling. The jitter keeps the clients of
/// one receiver that failed together from retrying together.
#[derive(Debug)]
pub(crate) struct Backoff {
    current: Duration,
    initial: Duration,
    max: Duration,
    random: u64,
}

impl Backoff {
    pub(crate) fn new(initial: Duration, max: Duration) -> Self {
        let seed = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
        Self { current: initial.min(max), initial, max, random: seed ^ u64::from(std::process::id()) }
    }

    /// The wait before the next attempt: what the server asked for, if it did, else the jittered
    /// backoff. Either way the backoff doubles.
    pub(crate) fn next_wait(&mut self, asked: Option<Duration>) -> Duration {
        let backoff = self.current;
        self.current = self.current.saturating_mul(2).min(self.max);
        asked.unwrap_or_else(|| backoff.mul_f64(0.5 + 0.5 * self.uniform()))
    }

    /// Back to the first wait, after a success.
    pub(crate) fn reset(&mut self) {
        self.current = self.initial.min(self.max);
    }

    /// A number in `[0, 1)` (splitmix64: no need for a cryptographic source here).
    fn uniform(&mut self) -> f64 {
        self.random = self.random.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.random;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_with_or_without_scheme() {
        let e = Endpoint::parse("127.0.0.1:9091/prefix/").unwrap();
        assert_eq!((e.host.as_str(), e.port, e.path.as_str(), e.https), ("127.0.0.1", 9091, "/prefix", false));
        assert_eq!(Endpoint::parse("http://[::1]:4318").unwrap().host, "::1");
        assert_eq!(Endpoint::parse("http://collector").unwrap().port, 80);
        assert_eq!(Endpoint::parse("http://u:p@collector:9/w").unwrap().authority, "collector:9");
        assert!(Endpoint::parse("ftp://x").is_err());
        assert_eq!(Endpoint::parse("https://x").is_ok(), cfg!(feature = "tls"));
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let mut headers = hyper::HeaderMap::new();
        assert_eq!(retry_after(&headers), None);
        headers.insert(hyper::header::RETRY_AFTER, "7".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));
        let later = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(120));
        headers.insert(hyper::header::RETRY_AFTER, later.parse().unwrap());
        let wait = retry_after(&headers).unwrap();
        assert!(wait > Duration::from_secs(110) && wait <= Duration::from_secs(120), "{wait:?}");
        headers.insert(hyper::header::RETRY_AFTER, "Thu, 01 Jan 1970 00:00:00 GMT".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::ZERO));
        headers.insert(hyper::header::RETRY_AFTER, "soon".parse().unwrap());
        assert_eq!(retry_after(&headers), None);
    }

    #[test]
    fn backoff_doubles_with_jitter_up_to_its_ceiling() {
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_millis(700));
        let mut ceiling = Duration::from_millis(100);
        for _ in 0..8 {
            let wait = backoff.next_wait(None);
            assert!(wait >= ceiling / 2 && wait <= ceiling, "{wait:?} not within half of {ceiling:?}");
            ceiling = (ceiling * 2).min(Duration::from_millis(700));
        }
        assert_eq!(backoff.next_wait(Some(Duration::from_secs(3))), Duration::from_secs(3));
        backoff.reset();
        assert!(backoff.next_wait(None) <= Duration::from_millis(100));
    }
}
