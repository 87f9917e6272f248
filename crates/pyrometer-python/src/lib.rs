//! The native module `pyrometer._native`: thin wrappers over `pyrometer-core` for the Python
//! package. This file is only the module's export list.

mod arguments;
mod clock;
mod context_managers;
mod counter;
mod errors;
mod exposition;
mod family_handle;
mod fork;
mod gauge;
mod graphite;
mod histogram;
mod hot_path;
mod info;
mod layer_write;
mod metric_class;
mod metric_objects;
mod multiprocess;
mod native_metric;
mod otlp;
mod parser;
mod pushgateway;
mod python_collector;
mod registry;
mod remote_write;
mod sampled_counter;
mod server;
mod state_set;
mod statsd;
mod summary;
mod textfile;
mod value;

use pyo3::prelude::*;

/// The classes and functions the Python package builds on.
#[pymodule(gil_used = false)]
mod _native {
    #[pymodule_export]
    use super::context_managers::Timer;
    #[pymodule_export]
    use super::counter::PyCounter;
    #[pymodule_export]
    use super::errors::DuplicateTimeseries;
    #[pymodule_export]
    use super::exposition::{generate_graphite, generate_openmetrics, generate_text, negotiate};
    #[pymodule_export]
    use super::gauge::PyGauge;
    #[pymodule_export]
    use super::graphite::{PyPushSchedule, graphite_send};
    #[pymodule_export]
    use super::histogram::PyHistogram;
    #[pymodule_export]
    use super::info::PyInfo;
    #[pymodule_export]
    use super::layer_write::LayerWrite;
    #[pymodule_export]
    use super::multiprocess::{PyMultiProcessCollector, retire_process};
    #[pymodule_export]
    use super::otlp::PyOtlpExporter;
    #[pymodule_export]
    use super::parser::{parse_openmetrics, parse_text};
    #[pymodule_export]
    use super::pushgateway::{gzip_body, pushgateway_segments, pushgateway_url};
    #[pymodule_export]
    use super::registry::{
        PyCollectorRegistry, created_enabled, disable_created_metrics, enable_created_metrics, set_default_registry,
        set_legacy_validation,
    };
    #[pymodule_export]
    use super::remote_write::{PyRemoteWriteMetrics, PyRemoteWriter};
    #[pymodule_export]
    use super::sampled_counter::PySampledCounter;
    #[pymodule_export]
    use super::server::PyMetricsServer;
    #[pymodule_export]
    use super::state_set::PyEnum;
    #[pymodule_export]
    use super::statsd::PyStatsdClient;
    #[pymodule_export]
    use super::summary::PySummary;
    #[pymodule_export]
    use super::textfile::write_textfile;
    #[pymodule_export]
    use super::value::Value;

    #[pymodule_init]
    fn init(m: &pyo3::Bound<'_, pyo3::types::PyModule>) -> pyo3::PyResult<()> {
        super::clock::install();
        super::native_metric::install(super::native_classes());
        super::multiprocess::log_unstored_series();
        super::fork::install(m)?;
        super::context_managers::init(m.py())?;
        let missing = super::hot_path::install_all(m.py());
        pyo3::types::PyModuleMethods::add(m, "_hot_path_missing", missing)
    }
}

/// Every native class the registry holds as a collector rather than through `collect()`.
fn native_classes() -> Vec<native_metric::CollectorOf> {
    use native_metric::of;
    vec![
        of::<counter::PyCounter>,
        of::<gauge::PyGauge>,
        of::<histogram::PyHistogram>,
        of::<summary::PySummary>,
        of::<sampled_counter::PySampledCounter>,
        of::<info::PyInfo>,
        of::<state_set::PyEnum>,
        of::<multiprocess::PyMultiProcessCollector>,
        of::<remote_write::PyRemoteWriteMetrics>,
    ]
}
