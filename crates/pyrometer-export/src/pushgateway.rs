//! Pushing a registry to a Prometheus Pushgateway, as `prometheus_client`'s `push_to_gateway`,
//! `pushadd_to_gateway` and `delete_from_gateway` do: the group of a job and a grouping key is
//! replaced (PUT), added to (POST) or deleted (DELETE), in the text format, gzipped on request.

use std::io::Write;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE;
use bytes::Bytes;
use flate2::Compression;
use flate2::write::GzEncoder;
use http_body_util::Full;
use hyper::header::{AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE, HOST};
use hyper::{Method, Request};
use pyrometer_core::Registry;
use pyrometer_expo::{CONTENT_TYPE_TEXT_0_0_4, Escaping, text_to_bytes};

use crate::client::{Endpoint, ExchangeError};

/// Why a push failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PushError {
    /// The gateway address is not an `http://host[:port][/path]` URL.
    #[error("invalid Pushgateway URL {url:?}: {reason}")]
    Url {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Collecting the registry failed.
    #[error("collecting the registry failed: {0}")]
    Collect(#[from] pyrometer_core::Error),
    /// The gateway could not be reached or the exchange broke off.
    #[error("error talking to pushgateway: {0}")]
    Io(#[from] std::io::Error),
    /// The HTTP exchange failed.
    #[error("error talking to pushgateway: {0}")]
    Http(#[from] hyper::Error),
    /// The gateway answered, but not with success.
    #[error("error talking to pushgateway: {status} {body}")]
    Status {
        /// The HTTP status code.
        status: u16,
        /// The start of the gateway's answer.
        body: String,
    },
    /// No answer came within the timeout.
    #[error("error talking to pushgateway: no answer within {0:?}")]
    Timeout(Duration),
}

/// A Pushgateway and how to talk to it.
///
/// ```no_run
/// # async fn run() -> Result<(), pyrometer_export::pushgateway::PushError> {
/// use pyrometer_export::pushgateway::Pushgateway;
/// let registry = pyrometer_core::Registry::new();
/// let gateway = Pushgateway::new("127.0.0.1:9091")?.gzip(true);
/// gateway.push("nightly_batch", &[("instance", "host/1")], &registry).await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Pushgateway {
    endpoint: Endpoint,
    timeout: Duration,
    gzip: bool,
    authorization: Option<String>,
}

impl Pushgateway {
    /// A gateway at `url`; `http://` is assumed when no scheme is given, as upstream does.
    ///
    /// # Errors
    /// A URL that does not parse, or one with a scheme other than http.
    pub fn new(url: &str) -> Result<Self, PushError> {
        let endpoint = Endpoint::parse(url).map_err(|reason| PushError::Url { url: url.to_owned(), reason })?;
        Ok(Self { endpoint, timeout: Duration::from_secs(30), gzip: false, authorization: None })
    }

    /// How long a push may take in all (default 30 s).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Whether to gzip the pushed text (default no).
    #[must_use]
    pub fn gzip(mut self, gzip: bool) -> Self {
        self.gzip = gzip;
        self
    }

    /// The TLS client configuration for an `https://` gateway (see
    /// [`client_config`](crate::http::client_config)): the authorities its certificate must
    /// chain to and the client certificate to present, as `tls_auth_handler` takes upstream.
    #[cfg(feature = "tls")]
    #[must_use]
    pub fn tls(mut self, config: std::sync::Arc<rustls::ClientConfig>) -> Self {
        self.endpoint.tls = Some(config);
        self
    }

    /// Sends HTTP basic authentication with every request (`basic_auth_handler` upstream).
    #[must_use]
    pub fn basic_auth(mut self, username: &str, password: &str) -> Self {
        let credentials = base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
        self.authorization = Some(format!("Basic {credentials}"));
        self
    }

    /// Replaces the group of `job` and `grouping_key` with the registry's metrics (PUT).
    ///
    /// # Errors
    /// A failed collection, connection or exchange, or an answer other than success.
    pub async fn push(&self, job: &str, grouping_key: &[(&str, &str)], registry: &Registry) -> Result<(), PushError> {
        self.send(Method::PUT, job, grouping_key, Some(registry)).await
    }

    /// Adds the registry's metrics to the group, replacing only metrics of the same names (POST).
    ///
    /// # Errors
    /// As for [`push`](Self::push).
    pub async fn push_add(
        &self,
        job: &str,
        grouping_key: &[(&str, &str)],
        registry: &Registry,
    ) -> Result<(), PushError> {
        self.send(Method::POST, job, grouping_key, Some(registry)).await
    }

    /// Deletes the group (DELETE).
    ///
    /// # Errors
    /// As for [`push`](Self::push).
    pub async fn delete(&self, job: &str, grouping_key: &[(&str, &str)]) -> Result<(), PushError> {
        self.send(Method::DELETE, job, grouping_key, None).await
    }

    /// The URL of a group: `/metrics/job/<job>/<label>/<value>...`, each value URL-quoted, or
    /// base64-encoded under `<label>@base64` when it is empty or holds `/` or a space.
    #[must_use]
    pub fn group_url(&self, job: &str, grouping_key: &[(&str, &str)]) -> String {
        self.endpoint.url(&self.group_path(job, grouping_key))
    }

    /// The path part of [`group_url`](Self::group_url): what the request line carries.
    fn group_path(&self, job: &str, grouping_key: &[(&str, &str)]) -> String {
        let mut path = self.endpoint.path.clone();
        push_group(&mut path, job, grouping_key);
        path
    }

    async fn send(
        &self,
        method: Method,
        job: &str,
        grouping_key: &[(&str, &str)],
        registry: Option<&Registry>,
    ) -> Result<(), PushError> {
        let mut body = match registry {
            Some(registry) => text_to_bytes(&registry.collect()?, Escaping::Underscores),
            None => Vec::new(),
        };
        let mut request = Request::builder()
            .method(method)
            .uri(self.group_path(job, grouping_key))
            .header(HOST, &self.endpoint.authority)
            .header(CONTENT_TYPE, CONTENT_TYPE_TEXT_0_0_4);
        if let Some(authorization) = &self.authorization {
            request = request.header(AUTHORIZATION, authorization);
        }
        if self.gzip && registry.is_some() {
            body = gzip(&body)?;
            request = request.header(CONTENT_ENCODING, "gzip");
        }
        let request = request
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| PushError::Url { url: self.group_url(job, grouping_key), reason: e.to_string() })?;
        tokio::time::timeout(self.timeout, self.exchange(request))
            .await
            .map_err(|_| PushError::Timeout(self.timeout))?
    }

    async fn exchange(&self, request: Request<Full<Bytes>>) -> Result<(), PushError> {
        let (answer, body) = self.endpoint.exchange(request).await.map_err(|e| match e {
            ExchangeError::Io(e) => PushError::Io(e),
            ExchangeError::Http(e) => PushError::Http(e),
            ExchangeError::Tls(reason) => PushError::Url { url: self.endpoint.url(""), reason },
        })?;
        if answer.status.is_success() {
            return Ok(());
        }
        let body = String::from_utf8_lossy(&body[..body.len().min(512)]).trim().to_owned();
        Err(PushError::Status { status: answer.status.as_u16(), body })
    }
}

/// A grouping key label as two URL path segments: an empty value, or one holding `/` or a space,
/// base64-encoded under `key@base64` (the Pushgateway reads the empty value as `=`); any other
/// value quoted as Python's `quote_plus` quotes it.
#[must_use]
pub fn escape_grouping_key(key: &str, value: &str) -> (String, String) {
    if value.is_empty() {
        return (format!("{key}@base64"), "=".to_owned());
    }
    if value.contains('/') || value.contains(' ') {
        return (format!("{key}@base64"), URL_SAFE.encode(value));
    }
    (key.to_owned(), quote_plus(value))
}

/// `value` as Python's `urllib.parse.quote_plus` writes it: letters, digits and `_.-~` as they
/// are, a space as `+`, every other byte of its UTF-8 as `%XX`.
fn quote_plus(value: &str) -> String {
    let mut quoted = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' | b'.' | b'-' | b'~' => quoted.push(char::from(byte)),
            b' ' => quoted.push('+'),
            _ => {
                const HEX: &[u8; 16] = b"0123456789ABCDEF";
                quoted.extend(['%', char::from(HEX[usize::from(byte >> 4)]), char::from(HEX[usize::from(byte & 15)])]);
            }
        }
    }
    quoted
}

/// The URL of a group exactly as `prometheus_client` builds it from the gateway as given:
/// `http://` in front unless the gateway's scheme (as `urllib.parse` reads it) is http or https,
/// trailing slashes dropped, then `/metrics` and the segments of the job and of the grouping key
/// in the order given. What [`Pushgateway`] sends to, and what Python's push functions hand to
/// their request handler.
#[must_use]
pub fn group_url_as_given(gateway: &str, job: &str, grouping_key: &[(&str, &str)]) -> String {
    let mut url = match url_scheme(gateway).as_deref() {
        Some("http" | "https") => gateway.to_owned(),
        _ => format!("http://{gateway}"),
    };
    url.truncate(url.trim_end_matches('/').len());
    push_group(&mut url, job, grouping_key);
    url
}

/// Appends `/metrics` and the segments of the job and of the grouping key, in order.
fn push_group(url: &mut String, job: &str, grouping_key: &[(&str, &str)]) {
    url.push_str("/metrics");
    for (key, value) in std::iter::once(&("job", job)).chain(grouping_key) {
        let (key, value) = escape_grouping_key(key, value);
        url.push('/');
        url.push_str(&key);
        url.push('/');
        url.push_str(&value);
    }
}

/// The scheme `urllib.parse.urlsplit` reads off `url`, lowercased: it first drops leading
/// control characters and spaces and every tab and line break, then takes what comes before the
/// first `:` if that starts with a letter and holds only letters, digits and `+-.`.
fn url_scheme(url: &str) -> Option<String> {
    let url: String =
        url.trim_start_matches(|c: char| c <= ' ').chars().filter(|c| !matches!(c, '\t' | '\r' | '\n')).collect();
    let (scheme, _) = url.split_once(':')?;
    let well_formed = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    well_formed.then(|| scheme.to_ascii_lowercase())
}

/// A push body gzipped, as the `Content-Encoding: gzip` pushes carry it.
///
/// # Errors
/// None in practice: the writer is memory.
pub fn gzip(body: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(body)?;
    encoder.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_urls_escape_as_upstream_does() {
        let gateway = Pushgateway::new("127.0.0.1:9091/prefix/").unwrap();
        assert_eq!(
            gateway.group_url("my job", &[("instance", "host/1"), ("empty", ""), ("zone", "eu&1")]),
            "http://127.0.0.1:9091/prefix/metrics/job@base64/bXkgam9i/instance@base64/aG9zdC8x/empty@base64/=/zone/eu%261"
        );
    }

    #[test]
    fn urls_as_given_are_upstream_s() {
        let key = [("instance", "a~b*c"), ("zone", "ü")];
        for (gateway, expected) in [
            ("localhost:9091", "http://localhost:9091/metrics/job/j/instance/a~b%2Ac/zone/%C3%BC"),
            ("HTTPS://gw//", "HTTPS://gw/metrics/job/j/instance/a~b%2Ac/zone/%C3%BC"),
            (" http://gw/", " http://gw/metrics/job/j/instance/a~b%2Ac/zone/%C3%BC"),
            ("ht\ttp://gw", "ht\ttp://gw/metrics/job/j/instance/a~b%2Ac/zone/%C3%BC"),
            ("h\ttp://gw", "http://h\ttp://gw/metrics/job/j/instance/a~b%2Ac/zone/%C3%BC"),
            ("1http://gw", "http://1http://gw/metrics/job/j/instance/a~b%2Ac/zone/%C3%BC"),
            ("ftp://gw", "http://ftp://gw/metrics/job/j/instance/a~b%2Ac/zone/%C3%BC"),
        ] {
            assert_eq!(group_url_as_given(gateway, "j", &key), expected, "{gateway:?}");
        }
    }

    #[test]
    fn only_http_gateways_are_accepted() {
        assert!(matches!(Pushgateway::new("ftp://x"), Err(PushError::Url { .. })));
        assert_eq!(Pushgateway::new("https://x").is_ok(), cfg!(feature = "tls"));
        assert_eq!(Pushgateway::new("http://[::1]:9091").unwrap().endpoint.host, "::1");
    }

    #[tokio::test]
    async fn basic_auth_is_sent_with_each_request() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let gateway = Pushgateway::new(&listener.local_addr().unwrap().to_string()).unwrap().basic_auth("u", "p w");
        let server = tokio::spawn(async move {
            let (mut conn, _) = listener.accept().await.unwrap();
            let mut request = vec![0u8; 4096];
            let n = conn.read(&mut request).await.unwrap();
            conn.write_all(b"HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n").await.unwrap();
            String::from_utf8_lossy(&request[..n]).to_lowercase()
        });
        gateway.delete("j", &[]).await.unwrap();
        let request = server.await.unwrap();
        assert!(request.starts_with("delete /metrics/job/j "), "{request}");
        assert!(request.contains("authorization: basic dtpwihc="), "{request}");
    }

    #[tokio::test]
    async fn an_unreachable_gateway_is_an_io_error() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let gateway = Pushgateway::new(&format!("127.0.0.1:{port}")).unwrap();
        assert!(matches!(gateway.delete("j", &[]).await, Err(PushError::Io(_))));
    }
}
