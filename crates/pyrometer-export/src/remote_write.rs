//! Writing a registry to a Prometheus remote-write receiver (Prometheus, `VictoriaMetrics`, Mimir,
//! Cortex, Thanos Receive), as an agent beside the process would, but from inside it.
//!
//! A [`RemoteWriter`] collects its registry on an interval and turns each sample into a point of
//! its series, named and labelled as a Prometheus scrape would store it (plus the external
//! labels). Points wait in a bounded queue, split by series into shards so that each series is
//! sent in order while shards send concurrently; when the queue is full the oldest points are
//! dropped and counted. Each shard sends batches of at most `max_samples_per_send` points, once a
//! batch is full or its oldest point has waited `batch_send_deadline`, over a connection it keeps
//! open, retrying 5xx, 429 and broken connections with jittered exponential backoff (honouring
//! `Retry-After`) and giving up at once on any other answer.
//!
//! Both protocol versions are spoken: 1.0 (`prometheus.WriteRequest`) and 2.0
//! (`io.prometheus.write.v2.Request`, with its symbol table, metadata and start timestamps),
//! snappy-compressed. Native histograms travel as native histograms. A series that disappears
//! from the registry gets a staleness marker, as Prometheus writes one for a series that is no
//! longer scraped, and so does every series when the writer closes (unless told not to).
//!
//! ```no_run
//! use std::time::Duration;
//! use pyrometer_export::remote_write::{RemoteWriteOptions, RemoteWriter};
//!
//! let registry = pyrometer_core::Registry::new();
//! let options = RemoteWriteOptions { interval: Duration::from_secs(15), ..RemoteWriteOptions::default() };
//! let writer = RemoteWriter::new("http://127.0.0.1:8428/api/v1/write", registry, options)?;
//! writer.start();
//! // ... the application runs ...
//! writer.close();
//! # Ok::<(), pyrometer_export::remote_write::RemoteWriteError>(())
//! ```

mod encode;
#[allow(missing_docs, unreachable_pub, clippy::pedantic, missing_debug_implementations)]
pub mod messages;
mod options;
mod points;
mod queue;
mod send;
mod stats;
mod writer;

pub use encode::{encode_v1, encode_v2};
pub use options::{Auth, MAX_DURATION, Protocol, RemoteWriteError, RemoteWriteOptions};
pub use points::{FamilyInfo, Point, PointValue, STALE_NAN, SeriesPoints};
pub use stats::{RemoteWriteStats, SelfMetrics};
pub use writer::RemoteWriter;
