//! Serving a registry on an address until Ctrl-C or a deadline: what every command ends in.

use std::io::Write;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use pyrometer_core::Registry;

/// Where to serve, for how long, and the server's limits.
#[derive(Debug, PartialEq)]
pub(crate) struct ServeOptions {
    pub(crate) addr: SocketAddr,
    pub(crate) run_for: Option<Duration>,
    /// Connections open at once (`--max-connections`).
    pub(crate) max_connections: usize,
    /// How long a connection may stay silent (`--idle-timeout`).
    pub(crate) idle_timeout: Duration,
}

impl ServeOptions {
    pub(crate) fn new(addr: SocketAddr) -> Self {
        let defaults = pyrometer_export::http::ServeOptions::default();
        Self { addr, run_for: None, max_connections: defaults.max_connections, idle_timeout: defaults.idle_timeout }
    }
}

/// Serves `registry` until Ctrl-C or the requested time is up, saying so as `name`.
pub(crate) fn until_stopped(
    registry: Registry,
    options: &ServeOptions,
    name: &str,
) -> Result<(), Box<dyn std::error::Error>> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(options.addr).await?;
        println!("{name}: live metrics on http://{}/metrics (Ctrl-C to stop)", listener.local_addr()?);
        let deadline = options.run_for.map(|d| Instant::now() + d);
        let shutdown = async move {
            match deadline {
                Some(at) => {
                    tokio::select! {
                        _ = tokio::signal::ctrl_c() => {}
                        () = tokio::time::sleep_until(at.into()) => {}
                    }
                }
                None => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        };
        let server = pyrometer_export::http::ServeOptions {
            max_connections: options.max_connections,
            idle_timeout: options.idle_timeout,
            ..pyrometer_export::http::ServeOptions::default()
        };
        pyrometer_export::http::serve_with(listener, std::sync::Arc::new(registry), server, shutdown).await?;
        Ok::<(), Box<dyn std::error::Error>>(())
    })?;
    // Stdout may be gone (a closed pipe); that is no reason to fail.
    let _ = writeln!(std::io::stdout(), "{name}: stopped");
    Ok(())
}
