//! One request to the receiver, and what its answer means: sent, refused for good, or worth
//! another try.

use std::time::Duration;

use base64::Engine;
use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE, HOST, HeaderName, HeaderValue, USER_AGENT};
use hyper::{Method, Request, Uri};

use super::encode::{encode_v1, encode_v2};
use super::options::{Auth, Protocol, RemoteWriteError, RemoteWriteOptions};
use super::points::Point;
use crate::client::{Endpoint, ExchangeError, KeptConnection};
use crate::retry::retry_after;

/// Where requests go and the headers each carries.
#[derive(Debug)]
pub(crate) struct Target {
    pub(crate) endpoint: Endpoint,
    /// The request target: the URL's path, `/` if it has none.
    path: Uri,
    protocol: Protocol,
    headers: Vec<(HeaderName, HeaderValue)>,
}

/// How one attempt ended.
#[derive(Debug)]
pub(crate) enum Outcome {
    Sent,
    /// Refused for good (a 4xx other than 429, or no TLS configuration).
    Refused(String),
    /// Worth another try, after the wait the receiver asked for, if it did.
    Retry(String, Option<Duration>),
}

impl Target {
    pub(crate) fn new(endpoint: Endpoint, options: &RemoteWriteOptions) -> Result<Self, RemoteWriteError> {
        let header = |name: &str, value: &str| -> Result<(HeaderName, HeaderValue), RemoteWriteError> {
            Ok((
                HeaderName::from_bytes(name.as_bytes())
                    .map_err(|_| RemoteWriteError::Setting(format!("invalid header name: {name:?}")))?,
                HeaderValue::from_str(value)
                    .map_err(|_| RemoteWriteError::Setting(format!("invalid value of header {name:?}")))?,
            ))
        };
        let mut headers = vec![
            (HOST, HeaderValue::from_str(&endpoint.authority).map_err(|e| RemoteWriteError::Setting(e.to_string()))?),
            (CONTENT_TYPE, HeaderValue::from_static(options.protocol.content_type())),
            (CONTENT_ENCODING, HeaderValue::from_static("snappy")),
            (USER_AGENT, HeaderValue::from_static(concat!("pyrometer/", env!("CARGO_PKG_VERSION")))),
            (
                HeaderName::from_static("x-prometheus-remote-write-version"),
                HeaderValue::from_static(options.protocol.version_header()),
            ),
        ];
        // Credentials in the URL serve when no others are given.
        let from_url = endpoint.userinfo.as_deref().map(|userinfo| {
            let (username, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
            Auth::Basic { username: username.to_owned(), password: password.to_owned() }
        });
        match options.auth.as_ref().or(from_url.as_ref()) {
            Some(Auth::Basic { username, password }) => {
                let credentials = base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
                headers.push(header(AUTHORIZATION.as_str(), &format!("Basic {credentials}"))?);
            }
            Some(Auth::Bearer(token)) => headers.push(header(AUTHORIZATION.as_str(), &format!("Bearer {token}"))?),
            None => {}
        }
        for (name, value) in &options.headers {
            let (name, value) = header(name, value)?;
            // A header the protocol sets is replaced, not doubled.
            headers.retain(|(n, _)| *n != name);
            headers.push((name, value));
        }
        let path = format!("{}{}", if endpoint.path.is_empty() { "/" } else { &endpoint.path }, endpoint.query);
        let path = path.parse().map_err(|e| RemoteWriteError::Setting(format!("invalid path {path:?}: {e}")))?;
        Ok(Self { endpoint, path, protocol: options.protocol, headers })
    }

    /// The compressed body of a request carrying `points`.
    pub(crate) fn body(&self, points: &[Point]) -> Result<Bytes, String> {
        let raw = match self.protocol {
            Protocol::V1 => encode_v1(points),
            Protocol::V2 => encode_v2(points),
        };
        snap::raw::Encoder::new().compress_vec(&raw).map(Bytes::from).map_err(|e| e.to_string())
    }

    /// Sends `body` once over `connection`, waiting at most `timeout`.
    pub(crate) async fn attempt(&self, connection: &mut KeptConnection, body: Bytes, timeout: Duration) -> Outcome {
        let mut request = Request::new(Full::new(body));
        *request.method_mut() = Method::POST;
        request.uri_mut().clone_from(&self.path);
        request.headers_mut().extend(self.headers.iter().cloned());
        let (answer, body) = match tokio::time::timeout(timeout, connection.exchange(request)).await {
            Err(_) => return Outcome::Retry(format!("no answer within {timeout:?}"), None),
            Ok(Err(ExchangeError::Tls(reason))) => return Outcome::Refused(reason),
            Ok(Err(e)) => return Outcome::Retry(e.to_string(), None),
            Ok(Ok(answer)) => answer,
        };
        if answer.status.is_success() {
            return Outcome::Sent;
        }
        let status = answer.status.as_u16();
        let error =
            format!("the receiver answered {status}: {}", String::from_utf8_lossy(&body[..body.len().min(512)]).trim());
        if status == 429 || answer.status.is_server_error() {
            Outcome::Retry(error, retry_after(&answer.headers))
        } else {
            Outcome::Refused(error)
        }
    }
}
