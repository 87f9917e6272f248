//! Serving a registry over HTTP: the scrape endpoint Prometheus reads.

mod respond;
mod server;
mod source;

pub use respond::respond;
pub use server::{Error, ServeOptions, serve, serve_with};
pub use source::Source;
