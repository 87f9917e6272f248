//! Serving a registry over HTTP: the scrape endpoint Prometheus reads.

mod respond;
mod server;
mod source;
#[cfg(feature = "tls")]
mod tls;

pub use respond::respond;
pub use server::{Error, ServeOptions, serve, serve_with};
pub use source::Source;
#[cfg(feature = "tls")]
pub use tls::{TlsError, TlsFiles, TlsVersion, client_config};
