//! Exposition formats of pyrometer: encoders and parsers for the Prometheus text format 0.0.4 and
//! OpenMetrics 1.0, and content negotiation.
//!
//! Output is byte-identical to `prometheus_client`'s for the same families.
//!
//! ```
//! use pyrometer_core::{Counter, Family, Metadata, Registry};
//! use pyrometer_expo::{Format, negotiate};
//!
//! let registry = Registry::new();
//! let jobs = Family::<Counter>::new(Metadata::new("jobs", "Jobs run."))?;
//! registry.register(jobs.clone())?;
//! jobs.without_labels()?.inc();
//! registry.set_created_enabled(false);
//!
//! let format = negotiate(Some("application/openmetrics-text; version=1.0.0"));
//! assert_eq!(format.content_type(), "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=underscores");
//! let body = format.encode(&registry.collect().unwrap()).unwrap();
//! assert_eq!(body, b"# HELP jobs Jobs run.\n# TYPE jobs counter\njobs_total 1.0\n# EOF\n");
//! # Ok::<(), pyrometer_core::Error>(())
//! ```

mod encode;
mod error;
mod negotiate;
pub mod parse;
#[cfg(feature = "protobuf")]
mod protobuf;

pub use parse::ParseErrorKind;

pub use encode::escaping::Escaping;
pub use encode::graphite::{GraphiteLabels, encode_graphite};
pub use encode::openmetrics::{
    OpenMetricsVersion, encode_openmetrics, encode_openmetrics_version, openmetrics_to_bytes,
    openmetrics_version_to_bytes,
};
#[cfg(feature = "protobuf")]
pub use encode::protobuf::{encode_protobuf, protobuf_to_bytes};
pub use encode::text::{encode_text, text_to_bytes};
pub use error::Error;
pub use negotiate::{
    CONTENT_TYPE_OPENMETRICS, CONTENT_TYPE_TEXT_0_0_4, CONTENT_TYPE_TEXT_1_0_0, Format, Syntax, name_filter, negotiate,
    negotiate_text,
};
pub use parse::openmetrics::parse_openmetrics;
#[cfg(feature = "protobuf")]
pub use parse::protobuf::parse_protobuf;
pub use parse::text::parse_text;
#[cfg(feature = "protobuf")]
pub use protobuf::CONTENT_TYPE_PROTOBUF;
