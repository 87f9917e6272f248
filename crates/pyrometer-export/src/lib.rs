//! Transports of pyrometer: ways to get a registry's metrics to where they are read.
//!
//! - [`http`] (feature `http`): a scrape endpoint with content negotiation and `name[]`
//!   filtering, as a hyper service you can mount or as a ready server.

#[cfg(feature = "http")]
pub mod http;
