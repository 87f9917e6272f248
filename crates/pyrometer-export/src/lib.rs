//! Transports of pyrometer: ways to get a registry's metrics to where they are read.
//!
//! - [`http`] (feature `http`): a scrape endpoint with content negotiation and `name[]`
//!   filtering, as a hyper service you can mount or as a ready server.
//! - [`pushgateway`] (feature `pushgateway`): push, push-add and delete groups on a Pushgateway.
//! - [`otlp`] (feature `otlp`): exports to an OpenTelemetry collector over OTLP/HTTP.
//! - [`remote_write`] (feature `remote-write`): writes to a Prometheus remote-write receiver.
//! - [`textfile`] (feature `textfile`): an atomic file for the node exporter's textfile collector.
//! - [`graphite`] (feature `graphite`): pushes to Graphite's plaintext listener, once or on an
//!   interval.
//! - [`statsd`] (feature `statsd`): counters, gauges and observations as `StatsD`/`DogStatsD`
//!   lines over UDP.

#[cfg(feature = "client")]
mod client;
#[cfg(feature = "graphite")]
pub mod graphite;
#[cfg(feature = "http")]
pub mod http;
#[cfg(feature = "otlp")]
pub mod otlp;
#[cfg(feature = "pushgateway")]
pub mod pushgateway;
#[cfg(feature = "remote-write")]
pub mod remote_write;
#[cfg(any(feature = "otlp", feature = "remote-write"))]
mod retry;
#[cfg(feature = "statsd")]
pub mod statsd;
#[cfg(feature = "textfile")]
pub mod textfile;
