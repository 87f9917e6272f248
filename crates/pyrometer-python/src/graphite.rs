//! `GraphiteBridge`'s sending and schedule: the Rust transport's, fed the lines the Python side
//! encoded (its collectors run under the GIL) and the addresses it resolved (so that a name that
//! does not resolve fails as `socket.create_connection` fails).

use std::net::{IpAddr, SocketAddr, SocketAddrV6};
use std::sync::Arc;
use std::time::Duration;

use pyo3::prelude::*;
use pyo3::types::PyTuple;
use pyrometer_export::graphite::{Schedule, send};

/// A socket address as `getaddrinfo` gives it: `(host, port)`, or `(host, port, flowinfo,
/// scope_id)` for IPv6.
fn socket_address(address: &Bound<'_, PyAny>) -> PyResult<SocketAddr> {
    let parts = address.cast::<PyTuple>()?;
    let host: String = parts.get_item(0)?.extract()?;
    let port: u16 = parts.get_item(1)?.extract()?;
    let ip: IpAddr = host.parse().map_err(|_| crate::errors::misuse(format!("not an IP address: {host}")))?;
    Ok(match (ip, parts.len()) {
        (IpAddr::V6(ip), 4) => {
            SocketAddr::V6(SocketAddrV6::new(ip, port, parts.get_item(2)?.extract()?, parts.get_item(3)?.extract()?))
        }
        (ip, _) => SocketAddr::new(ip, port),
    })
}

/// Sends `data` to the first of `addresses` that accepts a connection, with the GIL released;
/// `timeout` in seconds bounds connecting and sending (`None`: no bound).
#[pyfunction]
#[pyo3(signature = (addresses, timeout, data))]
pub(crate) fn graphite_send(
    py: Python<'_>,
    addresses: Vec<Bound<'_, PyAny>>,
    timeout: Option<f64>,
    data: &[u8],
) -> PyResult<()> {
    let addresses: Vec<SocketAddr> = addresses.iter().map(socket_address).collect::<PyResult<_>>()?;
    if addresses.is_empty() {
        return Err(crate::errors::transport_to_py("getaddrinfo returns an empty list"));
    }
    let timeout = match timeout {
        None => None,
        // What `socket.settimeout` refuses, and a zero timeout's non-blocking connect.
        Some(t) if t.is_nan() => return Err(crate::errors::setting_to_py("Invalid value NaN (not a number)")),
        Some(t) if t < 0.0 => return Err(crate::errors::setting_to_py("Timeout value out of range")),
        Some(0.0) => return Err(crate::errors::io_to_py(&std::io::Error::from_raw_os_error(libc::EINPROGRESS))),
        Some(t) => Some(crate::arguments::positive_seconds("timeout", t)?),
    };
    py.detach(|| send(&addresses, timeout, data)).map_err(|e| crate::errors::socket_to_py(&e))
}

/// The schedule of `GraphiteBridge.start`: a slot every `interval` seconds, overrun slots
/// skipped, stoppable from any thread.
#[pyclass(name = "PushSchedule", module = "pyrometer._native", frozen)]
pub(crate) struct PyPushSchedule(Arc<Schedule>);

#[pymethods]
impl PyPushSchedule {
    #[new]
    fn new(interval: f64) -> PyResult<Self> {
        let interval: Duration = crate::arguments::positive_seconds("interval", interval)?;
        Ok(Self(Arc::new(Schedule::new(interval))))
    }

    /// Waits for the next slot, with the GIL released; `False` once stopped.
    fn wait(&self, py: Python<'_>) -> bool {
        py.detach(|| self.0.wait())
    }

    /// Ends the schedule: a wait under way returns `False` at once.
    fn stop(&self) {
        self.0.stop();
    }
}
