//! The data model and hot path of pyrometer: metric types, labelled families, the registry and
//! the snapshots that exposition formats print.
//!
//! Updates are single atomic operations on handles you keep; a scrape collects
//! [`MetricFamily`] snapshots from a [`Registry`].
//!
//! ```
//! use pyrometer_core::{Counter, Family, LabelSet, Metadata, Registry};
//!
//! let registry = Registry::new();
//! let requests = Family::<Counter>::new(
//!     Metadata::new("http_requests_total", "Requests served.").label_names(["method"]),
//! )?;
//! registry.register(requests.clone())?;
//!
//! let get = requests.labels(&["GET"])?; // look up once, keep the handle
//! get.inc();
//!
//! let labels = LabelSet::new([("method", "GET")]);
//! assert_eq!(registry.get_sample_value("http_requests_total", &labels)?, Some(1.0));
//! # Ok::<(), pyrometer_core::Error>(())
//! ```

mod collector;
mod error;
pub mod float_text;
pub mod fork;
mod metric_type;
pub mod name;
mod registry;

mod metric {
    pub(crate) mod atomic_f64;
    pub(crate) mod bucket_index;
    pub(crate) mod buckets;
    pub(crate) mod counter;
    pub(crate) mod family;
    pub(crate) mod fold_count;
    pub(crate) mod gauge;
    pub(crate) mod histogram;
    pub(crate) mod info;
    pub(crate) mod kind;
    pub(crate) mod metadata;
    pub(crate) mod mirror;
    pub(crate) mod native_histogram;
    pub(crate) mod rate_limited_gauge;
    pub(crate) mod sampled_counter;
    pub(crate) mod series_key;
    pub(crate) mod series_map;
    pub(crate) mod sketch;
    pub(crate) mod sparse_counts;
    pub(crate) mod state_set;
    pub(crate) mod summary;
}

mod snapshot {
    pub(crate) mod exemplar;
    pub(crate) mod family;
    pub(crate) mod labels;
    pub(crate) mod native_histogram;
    pub(crate) mod sample;
    pub(crate) mod timestamp;
}

pub use collector::{CollectOptions, Collector, Description, SeriesGuard};
pub use error::{CollectError, Error};
pub use metric::bucket_index::native_bucket_index;
pub use metric::buckets::{Buckets, DEFAULT_BUCKETS};
pub use metric::counter::Counter;
pub use metric::family::{Family, OVERFLOW_LABEL_VALUE};
pub use metric::gauge::{Gauge, ValueFunction};
pub use metric::histogram::Histogram;
pub use metric::info::Info;
pub use metric::kind::{Metric, SeriesContext};
pub use metric::metadata::{FamilyMeta, Metadata};
pub use metric::mirror::{MirrorSource, SeriesMirror, SeriesShape};
pub use metric::native_histogram::{
    DEFAULT_MAX_EXEMPLARS, DEFAULT_ZERO_THRESHOLD, NativeHistogram, NativeHistogramOptions,
};
pub use metric::rate_limited_gauge::RateLimitedGauge;
pub use metric::sampled_counter::{SampleRate, SampledCounter};
pub use metric::sketch::{Sketch, SketchBin};
pub use metric::state_set::{StateSet, States};
pub use metric::summary::{Quantiles, Summary};
pub use metric_type::{MetricType, UnknownMetricType};
pub use registry::{CollectorId, Registry, RegistryOptions, SERIES_OVERFLOW_METRIC};
pub use snapshot::exemplar::{EXEMPLAR_MAX_LABEL_CHARS, Exemplar};
pub use snapshot::family::MetricFamily;
pub use snapshot::labels::{Label, LabelSet};
pub use snapshot::native_histogram::{
    BucketCounts, BucketSpan, MAX_SCHEMA, MIN_SCHEMA, NativeHistogramValue, Number, downscale, upper_bound,
};
pub use snapshot::sample::{Sample, SampleName};
pub use snapshot::timestamp::{Timestamp, now_seconds, set_wall_clock, system_seconds};
