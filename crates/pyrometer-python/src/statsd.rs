//! `StatsdClient`: the native `StatsD` client (see [`pyrometer_export::statsd`]) for the registry
//! layer's `StatsD` backend. Every call releases nothing and waits on no network.

use std::collections::HashMap;
use std::time::Duration;

use pyo3::prelude::*;
use pyo3::types::PyDict;
use pyrometer_core::SampleRate;
use pyrometer_export::statsd::{StatsdClient, StatsdOptions, TagFormat};

use crate::arguments::{positive_seconds, sorted_pairs};
use crate::errors::to_py;

/// Tags as the client takes them, in the order of the dict they came in.
fn pairs(tags: Option<&Vec<(String, String)>>) -> Vec<(&str, &str)> {
    tags.map(|t| t.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()).unwrap_or_default()
}

/// A dict of tags as its pairs in the dict's order (a `HashMap` would shuffle them per call).
fn ordered(tags: Option<&Bound<'_, PyDict>>) -> PyResult<Option<Vec<(String, String)>>> {
    tags.map(|dict| dict.iter().map(|(k, v)| Ok((k.extract()?, v.extract()?))).collect()).transpose()
}

/// A `StatsD` client sending to `host:port` over UDP.
#[pyclass(name = "StatsdClient", module = "pyrometer._native", frozen)]
pub(crate) struct PyStatsdClient(StatsdClient);

#[pymethods]
impl PyStatsdClient {
    #[new]
    #[pyo3(signature = (
        host = "localhost", port = 8125, *, prefix = "", tags = None, dogstatsd = true,
        max_packet_size = 1432, flush_interval = 1.0,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        host: &str,
        port: u16,
        prefix: &str,
        tags: Option<HashMap<String, String>>,
        dogstatsd: bool,
        max_packet_size: usize,
        flush_interval: f64,
    ) -> PyResult<Self> {
        let flush_interval = positive_seconds("flush_interval", flush_interval)?;
        let constant_tags = sorted_pairs(tags);
        let options = StatsdOptions {
            prefix: prefix.to_owned(),
            constant_tags,
            tag_format: if dogstatsd { TagFormat::DogStatsd } else { TagFormat::Plain },
            max_packet_size,
            flush_interval,
        };
        let address = (host.to_owned(), port);
        py.detach(|| StatsdClient::connect(address, options)).map(Self).map_err(crate::errors::transport_to_py)
    }

    /// Adds `value` to a counter; with `sample_rate` < 1, only that fraction is sent, marked so.
    #[pyo3(signature = (name, value = 1.0, tags = None, sample_rate = 1.0))]
    fn count(&self, name: &str, value: f64, tags: Option<&Bound<'_, PyDict>>, sample_rate: f64) -> PyResult<()> {
        let rate = SampleRate::new(sample_rate).map_err(to_py)?;
        self.0.count_sampled(name, value, &pairs(ordered(tags)?.as_ref()), rate);
        Ok(())
    }

    /// Sets a gauge; with `min_interval` (seconds), at most once per interval, never losing the
    /// last value.
    #[pyo3(signature = (name, value, tags = None, min_interval = None))]
    fn gauge(
        &self,
        name: &str,
        value: f64,
        tags: Option<&Bound<'_, PyDict>>,
        min_interval: Option<f64>,
    ) -> PyResult<()> {
        let tags = ordered(tags)?;
        let tags = pairs(tags.as_ref());
        match min_interval {
            None => self.0.gauge(name, value, &tags),
            Some(seconds) => {
                let interval = Duration::try_from_secs_f64(seconds).map_err(|_| {
                    crate::errors::to_py(pyrometer_core::Error::InvalidOption {
                        message: format!("min_interval must be >= 0, got {seconds}"),
                    })
                })?;
                self.0.gauge_rate_limited(name, value, &tags, interval);
            }
        }
        Ok(())
    }

    /// Records an observation (a histogram in `DogStatsD`, a timer in plain `StatsD`).
    #[pyo3(signature = (name, value, tags = None))]
    fn observe(&self, name: &str, value: f64, tags: Option<&Bound<'_, PyDict>>) -> PyResult<()> {
        self.0.observe(name, value, &pairs(ordered(tags)?.as_ref()));
        Ok(())
    }

    /// Sends what is buffered.
    fn flush(&self, py: Python<'_>) {
        py.detach(|| self.0.flush());
    }

    /// Stops the flushing thread and sends everything left.
    fn close(&self, py: Python<'_>) {
        py.detach(|| self.0.close());
    }

    /// Lines that could not be sent.
    #[getter]
    fn dropped(&self) -> u64 {
        self.0.dropped()
    }

    /// Datagrams sent.
    #[getter]
    fn packets(&self) -> u64 {
        self.0.packets()
    }
}
