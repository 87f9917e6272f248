//! Serving a registry over HTTP: the scrape endpoint Prometheus reads.

mod respond;
mod server;

pub use respond::respond;
pub use server::{Error, ServeOptions, serve, serve_with};
