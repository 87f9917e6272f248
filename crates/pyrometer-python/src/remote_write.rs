//! `RemoteWriter`: a registry written to a Prometheus remote-write receiver from a native
//! thread (see [`pyrometer_export::remote_write`]), and `RemoteWriteMetrics`, the writers' counts
//! as a collector, for `pyrometer.remote_write`.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use pyo3::prelude::*;
use pyo3::types::PyDict;
use pyrometer_core::Collector;
use pyrometer_export::remote_write::{Auth, Protocol, RemoteWriteOptions, RemoteWriter, SelfMetrics};

use crate::arguments::{at_least_one, positive_seconds, sorted_pairs};
use crate::registry::PyCollectorRegistry;

/// Writes `registry` to `url` every `interval` seconds once started, natively, off the GIL.
#[pyclass(name = "RemoteWriter", module = "pyrometer._native", frozen)]
pub(crate) struct PyRemoteWriter(RemoteWriter);

impl Drop for PyRemoteWriter {
    /// A writer dropped without `close()` stops at once: its last collection would need the GIL,
    /// which the thread dropping it may hold while the writer's thread waits for it.
    fn drop(&mut self) {
        self.0.stop_now();
    }
}

#[pymethods]
impl PyRemoteWriter {
    #[new]
    #[pyo3(signature = (
        registry, url, *, interval = 15.0, protocol = "1.0", external_labels = None, headers = None,
        basic_auth = None, bearer_token = None, timeout = 30.0, max_samples_per_send = 2000,
        max_pending_samples = 100_000, max_pending_bytes = 67_108_864, batch_send_deadline = 5.0, shards = 4,
        min_backoff = 0.03, max_backoff = 5.0, native_histograms = true, exemplars = false,
        stale_on_close = true, shutdown_timeout = 5.0, tls_ca_file = None, tls_cert_file = None,
        tls_key_file = None
    ))]
    #[allow(clippy::too_many_arguments, clippy::fn_params_excessive_bools)]
    fn new(
        registry: &Bound<'_, PyCollectorRegistry>,
        url: &str,
        interval: f64,
        protocol: &str,
        external_labels: Option<HashMap<String, String>>,
        headers: Option<HashMap<String, String>>,
        basic_auth: Option<(String, String)>,
        bearer_token: Option<String>,
        timeout: f64,
        max_samples_per_send: i64,
        max_pending_samples: i64,
        max_pending_bytes: i64,
        batch_send_deadline: f64,
        shards: i64,
        min_backoff: f64,
        max_backoff: f64,
        native_histograms: bool,
        exemplars: bool,
        stale_on_close: bool,
        shutdown_timeout: f64,
        tls_ca_file: Option<String>,
        tls_cert_file: Option<String>,
        tls_key_file: Option<String>,
    ) -> PyResult<Self> {
        let protocol = match protocol {
            "1.0" | "1" => Protocol::V1,
            "2.0" | "2" => Protocol::V2,
            other => {
                return Err(crate::errors::setting_to_py(format!("protocol must be '1.0' or '2.0', got {other:?}")));
            }
        };
        let auth = match (basic_auth, bearer_token) {
            (Some(_), Some(_)) => {
                return Err(crate::errors::setting_to_py("give basic_auth or bearer_token, not both"));
            }
            (Some((username, password)), None) => Some(Auth::Basic { username, password }),
            (None, Some(token)) => Some(Auth::Bearer(token)),
            (None, None) => None,
        };
        let tls = match (tls_ca_file, tls_cert_file, tls_key_file) {
            (None, None, None) => None,
            (Some(ca), cert, key) => {
                let identity = match (&cert, &key) {
                    (Some(cert), Some(key)) => Some((Path::new(cert), Path::new(key))),
                    (None, None) => None,
                    _ => return Err(crate::errors::setting_to_py("tls_cert_file and tls_key_file go together")),
                };
                Some(
                    pyrometer_export::http::client_config(Path::new(&ca), identity)
                        .map_err(crate::errors::setting_to_py)?,
                )
            }
            (None, ..) => return Err(crate::errors::setting_to_py("a client certificate needs tls_ca_file")),
        };
        let options = RemoteWriteOptions {
            protocol,
            interval: positive_seconds("interval", interval)?,
            timeout: positive_seconds("timeout", timeout)?,
            headers: sorted_pairs(headers),
            auth,
            external_labels: sorted_pairs(external_labels),
            max_pending_samples: at_least_one("max_pending_samples", max_pending_samples)?,
            max_pending_bytes: at_least_one("max_pending_bytes", max_pending_bytes)?,
            max_samples_per_send: at_least_one("max_samples_per_send", max_samples_per_send)?,
            batch_send_deadline: positive_seconds("batch_send_deadline", batch_send_deadline)?,
            shards: at_least_one("shards", shards)?,
            min_backoff: positive_seconds("min_backoff", min_backoff)?,
            max_backoff: positive_seconds("max_backoff", max_backoff)?,
            native_histograms,
            exemplars,
            stale_on_close,
            shutdown_timeout: positive_seconds("shutdown_timeout", shutdown_timeout)?,
            tls,
        };
        RemoteWriter::new(url, registry.get().inner.clone(), options).map(Self).map_err(crate::errors::setting_to_py)
    }

    /// Starts collecting on the interval.
    fn start(&self) {
        self.0.start();
    }

    /// Collects now and waits until everything queued is sent or given up, at most `timeout`
    /// seconds; whether it was. The GIL is released meanwhile.
    #[pyo3(signature = (timeout = 30.0))]
    fn flush(&self, py: Python<'_>, timeout: f64) -> PyResult<bool> {
        let timeout = Duration::try_from_secs_f64(timeout)
            .map_err(|_| crate::errors::setting_to_py(format!("timeout must be a number of seconds, got {timeout}")))?;
        Ok(py.detach(|| self.0.flush(timeout)))
    }

    /// Collects a last time, marks the series stale, sends what is queued within the shutdown
    /// timeout, and stops. The GIL is released meanwhile.
    fn close(&self, py: Python<'_>) {
        py.detach(|| self.0.close());
    }

    /// What the writer has done: samples sent, failed, retried, dropped and pending, bytes
    /// pending, the last success's time and the last error.
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let stats = self.0.stats();
        let dict = PyDict::new(py);
        dict.set_item("samples_sent", stats.samples_sent)?;
        dict.set_item("samples_failed", stats.samples_failed)?;
        dict.set_item("samples_retried", stats.samples_retried)?;
        dict.set_item("samples_dropped", stats.samples_dropped)?;
        dict.set_item("samples_pending", stats.samples_pending)?;
        dict.set_item("bytes_pending", stats.bytes_pending)?;
        dict.set_item("last_success_timestamp", stats.last_success_timestamp)?;
        dict.set_item("last_error", stats.last_error)?;
        Ok(dict)
    }
}

/// The counts of the remote writers of one registry, as one collector of
/// `pyrometer_remote_write_*` families, each writer's series labelled with its URL.
#[pyclass(name = "RemoteWriteMetrics", module = "pyrometer._native", frozen)]
pub(crate) struct PyRemoteWriteMetrics(Arc<SelfMetrics>);

impl crate::native_metric::NativeMetric for PyRemoteWriteMetrics {
    fn collector(&self) -> Arc<dyn Collector> {
        Arc::clone(&self.0) as Arc<dyn Collector>
    }
}

#[pymethods]
impl PyRemoteWriteMetrics {
    #[new]
    fn new() -> Self {
        Self(Arc::new(SelfMetrics::new()))
    }

    /// Adds a writer's counts; `ValueError` if one to the same URL is in already.
    fn add(&self, writer: &Bound<'_, PyRemoteWriter>) -> PyResult<()> {
        self.0.add(&writer.get().0).map_err(crate::errors::setting_to_py)
    }

    /// Takes a writer's counts out; whether any writer is left.
    fn remove(&self, writer: &Bound<'_, PyRemoteWriter>) -> bool {
        self.0.remove(&writer.get().0)
    }
}
