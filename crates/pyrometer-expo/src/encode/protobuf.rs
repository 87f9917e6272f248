//! The Prometheus protobuf encoder: one length-delimited `MetricFamily` per family.
//!
//! Samples are grouped into one `Metric` per series (their labels without `le` or `quantile`):
//! a histogram's buckets, count, sum, `_created` and native buckets make one `Histogram`
//! message. Names follow the Prometheus text format, which is what a server scraping this format
//! stores: a counter is named with `_total`, an info with `_info` (as a gauge), a state set is a
//! gauge with one series per state.

use std::collections::HashMap;

use prost::Message;
use pyrometer_core::{Exemplar, LabelSet, MetricFamily, MetricType, NativeHistogramValue, Number, Sample, Timestamp};

use crate::protobuf::{google, pb, timestamp_message};

/// Encodes `families` as length-delimited `MetricFamily` messages into `out`.
pub fn encode_protobuf(out: &mut Vec<u8>, families: &[MetricFamily]) {
    for family in families {
        let message = family_message(family);
        // Writing into a Vec cannot fail for want of room.
        let _ = message.encode_length_delimited(out);
    }
}

/// The families as length-delimited `MetricFamily` messages.
#[must_use]
pub fn protobuf_to_bytes(families: &[MetricFamily]) -> Vec<u8> {
    let mut out = Vec::new();
    encode_protobuf(&mut out, families);
    out
}

fn family_message(family: &MetricFamily) -> pb::MetricFamily {
    let (name, kind) = match family.metric_type {
        MetricType::Counter => (format!("{}_total", family.name), pb::MetricType::Counter),
        MetricType::Gauge | MetricType::StateSet => (family.name.to_string(), pb::MetricType::Gauge),
        MetricType::Info => (format!("{}_info", family.name), pb::MetricType::Gauge),
        MetricType::Histogram => (family.name.to_string(), pb::MetricType::Histogram),
        MetricType::GaugeHistogram => (family.name.to_string(), pb::MetricType::GaugeHistogram),
        MetricType::Summary => (family.name.to_string(), pb::MetricType::Summary),
        MetricType::Unknown => (family.name.to_string(), pb::MetricType::Untyped),
    };
    let mut series = SeriesList::default();
    for sample in &family.samples {
        let suffix = sample.name.suffix_after(&family.name).unwrap_or_default();
        match family.metric_type {
            // Each state is a series of its own, its state label among its labels.
            MetricType::StateSet => {
                let metric = series.own(sample.all_labels(), sample.timestamp);
                metric.gauge = Some(pb::Gauge { value: Some(sample.value) });
            }
            MetricType::Counter => counter_sample(series.get(sample), suffix, sample),
            MetricType::Gauge | MetricType::Info => {
                series.get(sample).gauge = Some(pb::Gauge { value: Some(sample.value) });
            }
            MetricType::Unknown => series.get(sample).untyped = Some(pb::Untyped { value: Some(sample.value) }),
            MetricType::Summary => summary_sample(series.get(sample), suffix, sample),
            MetricType::Histogram | MetricType::GaugeHistogram => histogram_sample(series.get(sample), suffix, sample),
        }
    }
    let mut metric = series.metrics;
    for m in &mut metric {
        if let Some(h) = &mut m.histogram {
            finish_histogram(h);
        }
    }
    pb::MetricFamily {
        name: Some(name),
        help: Some(family.help.to_string()),
        r#type: Some(kind as i32),
        metric,
        unit: (!family.unit.is_empty()).then(|| family.unit.to_string()),
    }
}

/// The metrics of a family in order of first appearance, found by their labels.
#[derive(Default)]
struct SeriesList {
    metrics: Vec<pb::Metric>,
    by_labels: HashMap<LabelSet, usize, foldhash::fast::RandomState>,
    /// The series of the last sample: a series' samples usually come one after another.
    last: Option<(LabelSet, usize)>,
}

impl SeriesList {
    /// The metric of the sample's series (its labels, the extra label left out).
    fn get(&mut self, sample: &Sample) -> &mut pb::Metric {
        // Samples of one series share one label set: equal pointers compare at once.
        if let Some((labels, i)) = &self.last
            && *labels == sample.labels
        {
            return &mut self.metrics[*i];
        }
        let index = if let Some(&i) = self.by_labels.get(&sample.labels) {
            i
        } else {
            self.by_labels.insert(sample.labels.clone(), self.metrics.len());
            self.metrics.push(new_metric(&sample.labels, sample.timestamp));
            self.metrics.len() - 1
        };
        self.last = Some((sample.labels.clone(), index));
        &mut self.metrics[index]
    }

    /// A metric of its own for these labels.
    fn own(&mut self, labels: LabelSet, timestamp: Option<Timestamp>) -> &mut pb::Metric {
        self.metrics.push(new_metric(&labels, timestamp));
        self.metrics.last_mut().expect("just pushed")
    }
}

fn new_metric(labels: &LabelSet, timestamp: Option<Timestamp>) -> pb::Metric {
    pb::Metric {
        label: label_pairs(labels),
        timestamp_ms: timestamp.map(|t| (t.as_seconds() * 1000.0).round() as i64),
        ..pb::Metric::default()
    }
}

fn label_pairs(labels: &LabelSet) -> Vec<pb::LabelPair> {
    labels.iter().map(|l| pb::LabelPair { name: Some(l.name.to_string()), value: Some(l.value.to_string()) }).collect()
}

fn counter_sample(metric: &mut pb::Metric, suffix: &str, sample: &Sample) {
    let counter = metric.counter.get_or_insert_with(pb::Counter::default);
    if suffix == "_created" {
        counter.created_timestamp = Some(timestamp_message(sample.value));
    } else {
        counter.value = Some(sample.value);
        counter.exemplar = sample.exemplar.as_deref().map(exemplar_message);
    }
}

fn summary_sample(metric: &mut pb::Metric, suffix: &str, sample: &Sample) {
    let summary = metric.summary.get_or_insert_with(pb::Summary::default);
    match suffix {
        "_count" => summary.sample_count = Some(sample.value as u64),
        "_sum" => summary.sample_sum = Some(sample.value),
        "_created" => summary.created_timestamp = Some(timestamp_message(sample.value)),
        _ => {
            if let Some(q) = sample.extra_label.as_ref().filter(|l| &*l.name == "quantile") {
                summary.quantile.push(pb::Quantile { quantile: q.value.parse().ok(), value: Some(sample.value) });
            }
        }
    }
}

fn histogram_sample(metric: &mut pb::Metric, suffix: &str, sample: &Sample) {
    let histogram = metric.histogram.get_or_insert_with(pb::Histogram::default);
    if let Some(native) = &sample.native {
        native_fields(histogram, native);
        return;
    }
    match suffix {
        "_bucket" => {
            let bound = sample.extra_label.as_ref().filter(|l| &*l.name == "le").and_then(|l| parse_bound(&l.value));
            histogram.bucket.push(pb::Bucket {
                cumulative_count: Some(sample.value as u64),
                upper_bound: bound,
                exemplar: sample.exemplar.as_deref().map(exemplar_message),
                ..pb::Bucket::default()
            });
        }
        // Count and sum are the native sample's when there is one; they agree.
        "_count" | "_gcount" if histogram.schema.is_none() => histogram.sample_count = Some(sample.value as u64),
        "_sum" | "_gsum" if histogram.schema.is_none() => histogram.sample_sum = Some(sample.value),
        "_created" => histogram.created_timestamp = Some(timestamp_message(sample.value)),
        _ => {}
    }
}

fn native_fields(histogram: &mut pb::Histogram, native: &NativeHistogramValue) {
    match native.count {
        Number::Int(n) => histogram.sample_count = Some(n.max(0) as u64),
        Number::Float(f) => histogram.sample_count_float = Some(f),
    }
    histogram.sample_sum = Some(native.sum.as_f64());
    histogram.schema = Some(native.schema);
    histogram.zero_threshold = Some(native.zero_threshold.as_f64());
    match native.zero_count {
        Number::Int(n) => histogram.zero_count = Some(n.max(0) as u64),
        Number::Float(f) => histogram.zero_count_float = Some(f),
    }
    let spans = |spans: &[pyrometer_core::BucketSpan]| {
        spans.iter().map(|s| pb::BucketSpan { offset: Some(s.offset), length: Some(s.length) }).collect()
    };
    histogram.positive_span = spans(&native.positive_spans);
    histogram.positive_delta.clone_from(&native.positive_deltas);
    histogram.negative_span = spans(&native.negative_spans);
    histogram.negative_delta.clone_from(&native.negative_deltas);
    // Native exemplars must carry a timestamp.
    histogram.exemplars =
        native.exemplars.iter().filter(|e| e.timestamp.is_some()).map(|e| exemplar_message(e)).collect();
}

/// Makes a histogram with native buckets recognisable as one, and drops a classic `+Inf` bucket
/// that stands alone beside them (it is the count).
fn finish_histogram(histogram: &mut pb::Histogram) {
    if histogram.schema.is_none() {
        return;
    }
    if let [only] = histogram.bucket.as_slice() {
        if only.upper_bound == Some(f64::INFINITY) {
            histogram.bucket.clear();
        }
    }
    let empty = histogram.positive_span.is_empty() && histogram.negative_span.is_empty();
    if empty && histogram.zero_threshold.unwrap_or(0.0) == 0.0 && histogram.zero_count.unwrap_or(0) == 0 {
        histogram.positive_span.push(pb::BucketSpan { offset: Some(0), length: Some(0) });
    }
}

fn parse_bound(le: &str) -> Option<f64> {
    match le {
        "+Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        other => other.parse().ok(),
    }
}

fn exemplar_message(exemplar: &Exemplar) -> pb::Exemplar {
    pb::Exemplar {
        label: label_pairs(&exemplar.labels),
        value: Some(exemplar.value),
        timestamp: exemplar.timestamp.map(timestamp_of),
    }
}

fn timestamp_of(t: Timestamp) -> google::protobuf::Timestamp {
    match t {
        Timestamp::Exact { sec, nsec } if sec >= 0 => {
            google::protobuf::Timestamp { seconds: sec, nanos: i32::try_from(nsec).unwrap_or(0) }
        }
        other => timestamp_message(other.as_seconds()),
    }
}
