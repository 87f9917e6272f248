//! What a remote writer is told: where, how, and how much it may hold.

use std::time::Duration;

/// The remote-write protocol version.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Protocol {
    /// Remote write 1.0: `prometheus.WriteRequest`, which every receiver reads.
    #[default]
    V1,
    /// Remote write 2.0: `io.prometheus.write.v2.Request`, with interned strings, metadata and
    /// start timestamps on every series (Prometheus 3 with `--web.enable-remote-write-receiver`).
    V2,
}

impl Protocol {
    /// `Content-Type` of a request body.
    #[must_use]
    pub const fn content_type(self) -> &'static str {
        match self {
            Self::V1 => "application/x-protobuf",
            Self::V2 => "application/x-protobuf;proto=io.prometheus.write.v2.Request",
        }
    }

    /// `X-Prometheus-Remote-Write-Version` of a request.
    #[must_use]
    pub const fn version_header(self) -> &'static str {
        match self {
            Self::V1 => "0.1.0",
            Self::V2 => "2.0.0",
        }
    }
}

/// How requests authenticate.
#[derive(Clone, PartialEq, Eq)]
pub enum Auth {
    /// `Authorization: Basic ...`.
    Basic {
        /// The user name.
        username: String,
        /// The password.
        password: String,
    },
    /// `Authorization: Bearer <token>`.
    Bearer(String),
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Secrets stay out of logs.
        match self {
            Self::Basic { username, .. } => write!(f, "Basic({username:?}, <password>)"),
            Self::Bearer(_) => f.write_str("Bearer(<token>)"),
        }
    }
}

/// Settings of a [`RemoteWriter`](super::RemoteWriter).
#[derive(Clone, Debug)]
pub struct RemoteWriteOptions {
    /// The protocol version (default 1.0).
    pub protocol: Protocol,
    /// How often the registry is collected (default 15 s).
    pub interval: Duration,
    /// How long one request may take (default 30 s).
    pub timeout: Duration,
    /// Extra HTTP headers (a tenant id, say).
    pub headers: Vec<(String, String)>,
    /// Authentication, if any.
    pub auth: Option<Auth>,
    /// Labels added to every series that does not have them (`cluster`, `replica`, ...).
    pub external_labels: Vec<(String, String)>,
    /// The most points the queue holds, sent or not (default 100,000); beyond it the oldest are
    /// dropped and counted.
    pub max_pending_samples: usize,
    /// The most bytes the queued points may take (default 64 MiB), counted the same way.
    pub max_pending_bytes: usize,
    /// The most points in one request (default 2,000).
    pub max_samples_per_send: usize,
    /// The longest a point waits for its batch to fill before it is sent anyway (default 5 s, and
    /// never longer than the interval).
    pub batch_send_deadline: Duration,
    /// How many batches may be in flight at once (default 4); each series always goes through
    /// the same one, so its points arrive in order.
    pub shards: usize,
    /// The first wait before a retry, doubled for each next one (default 30 ms).
    pub min_backoff: Duration,
    /// The longest wait between retries (default 5 s).
    pub max_backoff: Duration,
    /// Native histograms are sent as such (default); when not, only their classic buckets are.
    pub native_histograms: bool,
    /// Exemplars are sent beside their samples (default off, as in Prometheus).
    pub exemplars: bool,
    /// Every series gets a staleness marker when the writer closes (default), as Prometheus
    /// writes them for a target that went away.
    pub stale_on_close: bool,
    /// How long closing may take to send what is queued (default 5 s); what is left then is
    /// counted as failed.
    pub shutdown_timeout: Duration,
    /// The TLS client configuration for an `https://` URL (see
    /// [`client_config`](crate::http::client_config)): server authorities and a client
    /// certificate.
    #[cfg(feature = "tls")]
    pub tls: Option<std::sync::Arc<rustls::ClientConfig>>,
}

impl Default for RemoteWriteOptions {
    fn default() -> Self {
        Self {
            protocol: Protocol::V1,
            interval: Duration::from_secs(15),
            timeout: Duration::from_secs(30),
            headers: Vec::new(),
            auth: None,
            external_labels: Vec::new(),
            max_pending_samples: 100_000,
            max_pending_bytes: 64 << 20,
            max_samples_per_send: 2_000,
            batch_send_deadline: Duration::from_secs(5),
            shards: 4,
            min_backoff: Duration::from_millis(30),
            max_backoff: Duration::from_secs(5),
            native_histograms: true,
            exemplars: false,
            stale_on_close: true,
            shutdown_timeout: Duration::from_secs(5),
            #[cfg(feature = "tls")]
            tls: None,
        }
    }
}

/// Why a remote writer could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RemoteWriteError {
    /// The URL is not an `http(s)://host[:port]/path` URL, or TLS is not configured for it.
    #[error("invalid remote write URL {url:?}: {reason}")]
    Url {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A setting is out of range, or a header or external label is invalid.
    #[error("invalid remote write setting: {0}")]
    Setting(String),
    /// The writer's thread could not be started.
    #[error("could not start the remote writer: {0}")]
    Io(#[from] std::io::Error),
}

/// The longest any of a writer's durations may be: a day. Longer ones are surely mistakes, and
/// they would overflow the clock's arithmetic.
pub const MAX_DURATION: Duration = Duration::from_secs(86_400);

impl RemoteWriteOptions {
    /// Checks what a writer cannot work with.
    pub(crate) fn validate(&self) -> Result<(), RemoteWriteError> {
        let durations = [
            ("interval", self.interval),
            ("timeout", self.timeout),
            ("batch_send_deadline", self.batch_send_deadline),
            ("min_backoff", self.min_backoff),
            ("max_backoff", self.max_backoff),
            ("shutdown_timeout", self.shutdown_timeout),
        ];
        for (name, duration) in durations {
            if duration.is_zero() && name != "shutdown_timeout" {
                return Err(RemoteWriteError::Setting(format!("{name} must be positive")));
            }
            if duration > MAX_DURATION {
                return Err(RemoteWriteError::Setting(format!("{name} must be at most a day, got {duration:?}")));
            }
        }
        let counts = [
            ("max_pending_samples", self.max_pending_samples),
            ("max_pending_bytes", self.max_pending_bytes),
            ("max_samples_per_send", self.max_samples_per_send),
            ("shards", self.shards),
        ];
        if let Some((name, _)) = counts.iter().find(|(_, n)| *n == 0) {
            return Err(RemoteWriteError::Setting(format!("{name} must be at least 1")));
        }
        if self.max_pending_samples < self.shards {
            return Err(RemoteWriteError::Setting("max_pending_samples must be at least shards".into()));
        }
        for (name, _) in &self.external_labels {
            if !pyrometer_core::name::is_legacy_label_name(name) || name.starts_with("__") {
                return Err(RemoteWriteError::Setting(format!("invalid external label name: {name:?}")));
            }
        }
        for (name, value) in &self.headers {
            hyper::header::HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| RemoteWriteError::Setting(format!("invalid header name: {name:?}")))?;
            hyper::header::HeaderValue::from_str(value)
                .map_err(|_| RemoteWriteError::Setting(format!("invalid value of header {name:?}")))?;
        }
        Ok(())
    }
}
