//! The HTTP client side the push transports share: where a server is, and one request to it over
//! a fresh HTTP/1.1 connection or over one kept open, plain or TLS.

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
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
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
    /// The URL's query with its `?`, or empty.
    #[cfg_attr(not(feature = "remote-write"), allow(dead_code))]
    pub(crate) query: String,
    /// `user:password` given in the URL, if any.
    #[cfg_attr(not(feature = "remote-write"), allow(dead_code))]
    pub(crate) userinfo: Option<String>,
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
        let (userinfo, authority_text) = match authority.as_str().rsplit_once('@') {
            Some((userinfo, host)) => (Some(userinfo.to_owned()), host.to_owned()),
            None => (None, authority.as_str().to_owned()),
        };
        Ok(Self {
            authority: authority_text,
            host: authority.host().trim_start_matches('[').trim_end_matches(']').to_owned(),
            port: authority.port_u16().unwrap_or(if https { 443 } else { 80 }),
            path: uri.path().trim_end_matches('/').to_owned(),
            query: uri.query().map(|q| format!("?{q}")).unwrap_or_default(),
            userinfo,
            https,
            #[cfg(feature = "tls")]
            tls: None,
        })
    }

    /// The URL of `path` on this server.
    #[cfg_attr(not(any(feature = "tls", feature = "remote-write")), allow(dead_code))]
    pub(crate) fn url(&self, path: &str) -> String {
        let scheme = if self.https { "https" } else { "http" };
        format!("{scheme}://{}{path}", self.authority)
    }

    /// Sends `request` over a new connection; the answer's status, headers and the first
    /// [`MAX_ANSWER_BODY`] bytes of its body.
    #[cfg_attr(not(any(feature = "otlp", feature = "pushgateway")), allow(dead_code))]
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

#[cfg(feature = "remote-write")]
/// One connection to a server, kept open between requests (HTTP/1.1 keep-alive) and opened
/// again when the server closed it or an answer was left half read.
#[derive(Debug)]
pub(crate) struct KeptConnection {
    endpoint: Endpoint,
    open: Option<(SendRequest<Full<Bytes>>, JoinHandle<()>)>,
}

#[cfg(feature = "remote-write")]
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

#[cfg(feature = "remote-write")]
impl Drop for KeptConnection {
    fn drop(&mut self) {
        if let Some((_, connection)) = self.open.take() {
            connection.abort();
        }
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
        let e = Endpoint::parse("http://u:p@collector:9/w?extra_label=a%3Db").unwrap();
        assert_eq!((e.authority.as_str(), e.userinfo.as_deref()), ("collector:9", Some("u:p")));
        assert_eq!((e.path.as_str(), e.query.as_str()), ("/w", "?extra_label=a%3Db"));
        assert!(Endpoint::parse("ftp://x").is_err());
        assert_eq!(Endpoint::parse("https://x").is_ok(), cfg!(feature = "tls"));
    }
}
