//! `MetricsServer`: the scrape endpoint of `start_http_server`, served by a native event loop
//! on the thread that calls `serve_forever`, with the GIL released. Only Python collectors take
//! the GIL during a scrape.

use std::collections::HashSet;
use std::net::{TcpListener, ToSocketAddrs};
use std::sync::{Arc, Condvar, Mutex, PoisonError};

use pyo3::prelude::*;
use pyrometer_core::{Error, MetricFamily, Registry};
use pyrometer_export::http::{ServeOptions, Source, TlsFiles, TlsVersion, serve_with};
use tokio::sync::oneshot;

use crate::arguments::{at_least_one, positive_seconds};
use crate::registry::{PyCollectorRegistry, created_enabled};

/// A registry as the server reads it: `disable_created_metrics()` applies to each scrape.
struct RegistrySource(Registry);

impl Source for RegistrySource {
    fn collect(&self, names: Option<&HashSet<String>>) -> Result<Vec<MetricFamily>, Error> {
        self.0.set_created_enabled(created_enabled());
        Source::collect(&self.0, names)
    }
}

/// Where the server is in its life.
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Bound,
    Serving,
    Stopped,
}

/// A bound scrape endpoint; `serve_forever()` answers on it until `shutdown()`.
#[pyclass(name = "MetricsServer", module = "pyrometer._native", frozen)]
pub(crate) struct PyMetricsServer {
    source: Arc<dyn Source>,
    options: ServeOptions,
    address: (String, u16),
    listener: Mutex<Option<TcpListener>>,
    stop: Mutex<Option<oneshot::Sender<()>>>,
    stopped: Mutex<Option<oneshot::Receiver<()>>>,
    state: (Mutex<State>, Condvar),
}

impl PyMetricsServer {
    fn set_state(&self, state: State) {
        *self.state.0.lock().unwrap_or_else(PoisonError::into_inner) = state;
        self.state.1.notify_all();
    }
}

fn tls_version(name: &str) -> PyResult<TlsVersion> {
    match name {
        "1.2" => Ok(TlsVersion::Tls12),
        "1.3" => Ok(TlsVersion::Tls13),
        other => Err(crate::errors::to_py(pyrometer_core::Error::InvalidOption {
            message: format!("unsupported TLS version {other:?}: use \"1.2\" or \"1.3\""),
        })),
    }
}

/// `OSError(errno, strerror)` as the socket module raises it.
fn os_error(err: &std::io::Error) -> PyErr {
    crate::errors::io_to_py(err)
}

#[pymethods]
impl PyMetricsServer {
    /// Binds `addr:port` (port 0 picks a free one) for `registry`. With `certfile` and
    /// `keyfile` it speaks HTTPS; with `client_auth_required`, a client must present a
    /// certificate that chains to one in `client_cafiles`. TLS versions are "1.2" or "1.3".
    #[new]
    #[pyo3(signature = (
        registry, addr = "0.0.0.0", port = 0, disable_compression = false, certfile = None, keyfile = None,
        client_cafiles = Vec::new(), client_auth_required = false, tls_min_version = None, tls_max_version = None,
        max_connections = 64, idle_timeout = 2.0, header_timeout = 10.0, connection_timeout = 120.0,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        registry: &Bound<'_, PyCollectorRegistry>,
        addr: &str,
        port: u16,
        disable_compression: bool,
        certfile: Option<std::path::PathBuf>,
        keyfile: Option<std::path::PathBuf>,
        client_cafiles: Vec<std::path::PathBuf>,
        client_auth_required: bool,
        tls_min_version: Option<&str>,
        tls_max_version: Option<&str>,
        max_connections: i64,
        idle_timeout: f64,
        header_timeout: f64,
        connection_timeout: f64,
    ) -> PyResult<Self> {
        let limits = ServeOptions {
            max_connections: at_least_one("max_connections", max_connections)?,
            idle_timeout: positive_seconds("idle_timeout", idle_timeout)?,
            header_read_timeout: positive_seconds("header_timeout", header_timeout)?,
            connection_timeout: positive_seconds("connection_timeout", connection_timeout)?,
            ..ServeOptions::default()
        };
        let tls = match (certfile, keyfile) {
            (Some(cert_chain), Some(private_key)) => {
                let files = TlsFiles {
                    cert_chain,
                    private_key,
                    client_ca_files: client_cafiles,
                    client_auth_required,
                    min_version: tls_min_version.map(tls_version).transpose()?,
                    max_version: tls_max_version.map(tls_version).transpose()?,
                };
                Some(files.server_config().map_err(crate::errors::setting_to_py)?)
            }
            _ => None,
        };
        let resolved: Vec<_> = (addr, port).to_socket_addrs().map_err(|e| os_error(&e))?.collect();
        let listener = TcpListener::bind(&resolved[..]).map_err(|e| os_error(&e))?;
        listener.set_nonblocking(true).map_err(|e| os_error(&e))?;
        let local = listener.local_addr().map_err(|e| os_error(&e))?;
        let (stop, stopped) = oneshot::channel();
        Ok(Self {
            source: Arc::new(RegistrySource(registry.get().inner.clone())),
            options: ServeOptions { gzip: !disable_compression, tls, ..limits },
            address: (local.ip().to_string(), local.port()),
            listener: Mutex::new(Some(listener)),
            stop: Mutex::new(Some(stop)),
            stopped: Mutex::new(Some(stopped)),
            state: (Mutex::new(State::Bound), Condvar::new()),
        })
    }

    /// Answers scrapes until `shutdown()`; the GIL is released meanwhile.
    fn serve_forever(&self, py: Python<'_>) -> PyResult<()> {
        let listener = self.listener.lock().unwrap_or_else(PoisonError::into_inner).take();
        let stopped = self.stopped.lock().unwrap_or_else(PoisonError::into_inner).take();
        let (Some(listener), Some(stopped)) = (listener, stopped) else {
            return Err(crate::errors::wrong_state("the server has already served or been closed"));
        };
        self.set_state(State::Serving);
        let served = py.detach(|| -> std::io::Result<()> {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_io().enable_time().build()?;
            runtime.block_on(async {
                let listener = tokio::net::TcpListener::from_std(listener)?;
                let shutdown = async {
                    let _ = stopped.await;
                };
                serve_with(listener, Arc::clone(&self.source), self.options.clone(), shutdown)
                    .await
                    .map_err(std::io::Error::other)
            })
        });
        self.set_state(State::Stopped);
        served.map_err(|e| os_error(&e))
    }

    /// Stops `serve_forever()` and waits until it has returned, as `socketserver` does.
    fn shutdown(&self, py: Python<'_>) {
        if let Some(stop) = self.stop.lock().unwrap_or_else(PoisonError::into_inner).take() {
            let _ = stop.send(());
        }
        py.detach(|| {
            let state = self.state.0.lock().unwrap_or_else(PoisonError::into_inner);
            drop(self.state.1.wait_while(state, |s| *s == State::Serving));
        });
    }

    /// Releases the socket of a server that is not serving.
    fn server_close(&self) {
        self.listener.lock().unwrap_or_else(PoisonError::into_inner).take();
    }

    /// `(host, port)` the server listens on.
    #[getter]
    fn server_address(&self) -> (String, u16) {
        self.address.clone()
    }

    /// The port the server listens on.
    #[getter]
    fn server_port(&self) -> u16 {
        self.address.1
    }
}
