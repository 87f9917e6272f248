//! Points to request bodies: remote write 1.0 and 2.0 messages, before compression.

use std::collections::HashMap;

use prost::Message;
use pyrometer_core::{Exemplar, MetricType, NativeHistogramValue, Number};

use super::messages::{v1, v2};
use super::points::{Point, PointValue, seconds_to_ms};

/// The native histogram message of module `$m` (`v1` or `v2`: the same fields), at `$ts`.
macro_rules! histogram {
    ($m:ident, $h:expr, $ts:expr) => {{
        let h: &NativeHistogramValue = $h;
        let spans = |spans: &[pyrometer_core::BucketSpan]| {
            spans.iter().map(|s| $m::BucketSpan { offset: s.offset, length: s.length }).collect()
        };
        let mut message = $m::Histogram {
            sum: h.sum.as_f64(),
            schema: h.schema,
            zero_threshold: h.zero_threshold.as_f64(),
            negative_spans: spans(&h.negative_spans),
            positive_spans: spans(&h.positive_spans),
            timestamp: $ts,
            ..$m::Histogram::default()
        };
        if float_counts(h) {
            message.count = Some($m::histogram::Count::CountFloat(h.count.as_f64()));
            message.zero_count = Some($m::histogram::ZeroCount::ZeroCountFloat(h.zero_count.as_f64()));
            message.negative_counts = absolute_counts(&h.negative_deltas);
            message.positive_counts = absolute_counts(&h.positive_deltas);
        } else {
            message.count = Some($m::histogram::Count::CountInt(h.count.as_f64() as u64));
            message.zero_count = Some($m::histogram::ZeroCount::ZeroCountInt(h.zero_count.as_f64() as u64));
            message.negative_deltas.clone_from(&h.negative_deltas);
            message.positive_deltas.clone_from(&h.positive_deltas);
        }
        message
    }};
}

/// A `prometheus.WriteRequest` of `points`, one time series each.
#[must_use]
pub fn encode_v1(points: &[Point]) -> Vec<u8> {
    let label = |name: &str, value: &str| v1::Label { name: name.to_owned(), value: value.to_owned() };
    let timeseries = points
        .iter()
        .map(|point| {
            let mut series = v1::TimeSeries {
                labels: point.labels.iter().map(|l| label(&l.name, &l.value)).collect(),
                exemplars: point
                    .exemplars
                    .iter()
                    .map(|e| v1::Exemplar {
                        labels: e.labels.iter().map(|l| label(&l.name, &l.value)).collect(),
                        value: e.value,
                        timestamp: exemplar_ms(e, point),
                    })
                    .collect(),
                ..v1::TimeSeries::default()
            };
            match &point.value {
                PointValue::Float(value) => {
                    series.samples.push(v1::Sample { value: *value, timestamp: point.timestamp_ms });
                }
                PointValue::Histogram(h) => series.histograms.push(histogram!(v1, h, point.timestamp_ms)),
            }
            series
        })
        .collect();
    v1::WriteRequest { timeseries, metadata: Vec::new() }.encode_to_vec()
}

/// An `io.prometheus.write.v2.Request` of `points`: every string once in the symbol table, each
/// series with its family's metadata and start timestamp.
#[must_use]
pub fn encode_v2(points: &[Point]) -> Vec<u8> {
    let mut symbols = Symbols::default();
    let timeseries = points
        .iter()
        .map(|point| {
            let mut series = v2::TimeSeries {
                labels_refs: symbols.labels(point.labels.iter().map(|l| (&*l.name, &*l.value))),
                exemplars: point
                    .exemplars
                    .iter()
                    .map(|e| v2::Exemplar {
                        labels_refs: symbols.labels(e.labels.iter().map(|l| (&*l.name, &*l.value))),
                        value: e.value,
                        timestamp: exemplar_ms(e, point),
                    })
                    .collect(),
                metadata: Some(v2::Metadata {
                    r#type: metric_type(point.family.metric_type) as i32,
                    help_ref: symbols.intern(&point.family.help),
                    unit_ref: symbols.intern(&point.family.unit),
                }),
                ..v2::TimeSeries::default()
            };
            match &point.value {
                PointValue::Float(value) => series.samples.push(v2::Sample {
                    value: *value,
                    timestamp: point.timestamp_ms,
                    start_timestamp: point.start_timestamp_ms,
                }),
                PointValue::Histogram(h) => series.histograms.push(v2::Histogram {
                    start_timestamp: point.start_timestamp_ms,
                    ..histogram!(v2, h, point.timestamp_ms)
                }),
            }
            series
        })
        .collect();
    v2::Request { symbols: symbols.table.into_iter().map(str::to_owned).collect(), timeseries }.encode_to_vec()
}

/// The symbol table of a 2.0 request: every string once, the empty string first.
struct Symbols<'a> {
    table: Vec<&'a str>,
    index: HashMap<&'a str, u32>,
}

impl Default for Symbols<'_> {
    fn default() -> Self {
        Self { table: vec![""], index: HashMap::from([("", 0)]) }
    }
}

impl<'a> Symbols<'a> {
    fn intern(&mut self, s: &'a str) -> u32 {
        *self.index.entry(s).or_insert_with(|| {
            self.table.push(s);
            (self.table.len() - 1) as u32
        })
    }

    fn labels(&mut self, labels: impl Iterator<Item = (&'a str, &'a str)>) -> Vec<u32> {
        labels.flat_map(|(name, value)| [self.intern(name), self.intern(value)]).collect()
    }
}

fn metric_type(t: MetricType) -> v2::metadata::MetricType {
    use v2::metadata::MetricType as T;
    match t {
        MetricType::Counter => T::Counter,
        MetricType::Gauge => T::Gauge,
        MetricType::Histogram => T::Histogram,
        MetricType::GaugeHistogram => T::Gaugehistogram,
        MetricType::Summary => T::Summary,
        MetricType::Info => T::Info,
        MetricType::StateSet => T::Stateset,
        MetricType::Unknown => T::Unspecified,
    }
}

/// An exemplar's own time, else its point's.
fn exemplar_ms(exemplar: &Exemplar, point: &Point) -> i64 {
    exemplar.timestamp.map_or(point.timestamp_ms, |t| seconds_to_ms(t.as_seconds()))
}

/// The absolute bucket counts that `deltas` encode, as floats (for float histograms).
fn absolute_counts(deltas: &[i64]) -> Vec<f64> {
    let mut count = 0i64;
    deltas
        .iter()
        .map(|d| {
            count = count.saturating_add(*d);
            count as f64
        })
        .collect()
}

/// Whether a histogram's counts are floats (then every count field is the float one).
fn float_counts(h: &NativeHistogramValue) -> bool {
    matches!(h.count, Number::Float(_)) || matches!(h.zero_count, Number::Float(_))
}
