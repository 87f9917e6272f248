//! The Prometheus protobuf parser: length-delimited `MetricFamily` messages to families.
//!
//! Families come back as the text parsers give them: full sample names, a counter's family named
//! without `_total`, `_created` samples from created timestamps, `le` and `quantile` labels
//! formatted as `prometheus_client` formats them, and a native histogram as one sample carrying
//! its buckets beside the classic samples.

use std::sync::Arc;

use prost::Message;
use pyrometer_core::float_text::go_float;
use pyrometer_core::{
    BucketSpan, Exemplar, Label, LabelSet, MetricFamily, MetricType, NativeHistogramValue, Number, Sample, SampleName,
    Timestamp,
};

use crate::error::Error;
use crate::protobuf::{google, pb};

/// Parses length-delimited `MetricFamily` messages.
///
/// # Errors
/// [`Error::Protobuf`] when a message does not decode, or a family has no name.
pub fn parse_protobuf(mut input: &[u8]) -> Result<Vec<MetricFamily>, Error> {
    let mut families = Vec::new();
    while !input.is_empty() {
        let message = pb::MetricFamily::decode_length_delimited(&mut input)
            .map_err(|e| Error::Protobuf { message: e.to_string() })?;
        families.push(family(message)?);
    }
    Ok(families)
}

fn family(message: pb::MetricFamily) -> Result<MetricFamily, Error> {
    let full_name = message.name.clone().filter(|n| !n.is_empty());
    let full_name = full_name.ok_or_else(|| Error::Protobuf { message: "a metric family has no name".into() })?;
    let kind = pb::MetricType::try_from(message.r#type.unwrap_or(0)).unwrap_or(pb::MetricType::Untyped);
    let (name, metric_type) = match kind {
        pb::MetricType::Counter => {
            (full_name.strip_suffix("_total").unwrap_or(&full_name).to_owned(), MetricType::Counter)
        }
        pb::MetricType::Gauge => (full_name.clone(), MetricType::Gauge),
        pb::MetricType::Summary => (full_name.clone(), MetricType::Summary),
        pb::MetricType::Untyped => (full_name.clone(), MetricType::Unknown),
        pb::MetricType::Histogram => (full_name.clone(), MetricType::Histogram),
        pb::MetricType::GaugeHistogram => (full_name.clone(), MetricType::GaugeHistogram),
    };
    let mut out = SampleWriter { name: &name, samples: Vec::new() };
    for metric in &message.metric {
        let labels = label_set(&metric.label);
        let timestamp = metric.timestamp_ms.map(|ms| Timestamp::Seconds(ms as f64 / 1000.0));
        match kind {
            pb::MetricType::Counter => {
                let counter = metric.counter.clone().unwrap_or_default();
                let mut total = SampleWriter::sample(&full_name, &labels, counter.value.unwrap_or(0.0), timestamp);
                total.exemplar = counter.exemplar.as_ref().map(exemplar).map(Arc::new);
                out.samples.push(total);
                if let Some(created) = &counter.created_timestamp {
                    out.push("_created", &labels, seconds(created), timestamp);
                }
            }
            pb::MetricType::Gauge => {
                let value = metric.gauge.and_then(|g| g.value).unwrap_or(0.0);
                out.push("", &labels, value, timestamp);
            }
            pb::MetricType::Untyped => {
                let value = metric.untyped.and_then(|u| u.value).unwrap_or(0.0);
                out.push("", &labels, value, timestamp);
            }
            pb::MetricType::Summary => {
                let summary = metric.summary.clone().unwrap_or_default();
                for q in &summary.quantile {
                    let mut sample = SampleWriter::sample(&name, &labels, q.value.unwrap_or(f64::NAN), timestamp);
                    sample.extra_label = Some(Label::new("quantile", go_float(q.quantile.unwrap_or(f64::NAN))));
                    out.samples.push(sample);
                }
                out.push("_count", &labels, summary.sample_count.unwrap_or(0) as f64, timestamp);
                out.push("_sum", &labels, summary.sample_sum.unwrap_or(0.0), timestamp);
                if let Some(created) = &summary.created_timestamp {
                    out.push("_created", &labels, seconds(created), timestamp);
                }
            }
            pb::MetricType::Histogram | pb::MetricType::GaugeHistogram => {
                let gauge = kind == pb::MetricType::GaugeHistogram;
                histogram(&mut out, metric.histogram.clone().unwrap_or_default(), &labels, timestamp, gauge)?;
            }
        }
    }
    let samples = out.samples;
    let mut family = MetricFamily::from_parts(
        name.into(),
        message.help.unwrap_or_default().into(),
        metric_type,
        message.unit.unwrap_or_default().into(),
        Vec::new(),
    );
    family.samples = samples;
    Ok(family)
}

struct SampleWriter<'a> {
    name: &'a str,
    samples: Vec<Sample>,
}

impl SampleWriter<'_> {
    fn sample(full_name: &str, labels: &LabelSet, value: f64, timestamp: Option<Timestamp>) -> Sample {
        let mut sample = Sample::new("", labels.clone(), value);
        sample.name = SampleName::Full(full_name.into());
        sample.timestamp = timestamp;
        sample
    }

    fn push(&mut self, suffix: &str, labels: &LabelSet, value: f64, timestamp: Option<Timestamp>) {
        let sample = Self::sample(&format!("{}{suffix}", self.name), labels, value, timestamp);
        self.samples.push(sample);
    }
}

/// A native histogram is recognised as Prometheus does: it has spans, or a zero bucket.
fn is_native(h: &pb::Histogram) -> bool {
    !h.positive_span.is_empty()
        || !h.negative_span.is_empty()
        || h.zero_threshold.unwrap_or(0.0) > 0.0
        || h.zero_count.unwrap_or(0) > 0
        || h.zero_count_float.unwrap_or(0.0) > 0.0
}

fn histogram(
    out: &mut SampleWriter<'_>,
    h: pb::Histogram,
    labels: &LabelSet,
    timestamp: Option<Timestamp>,
    gauge: bool,
) -> Result<(), Error> {
    let count = match h.sample_count_float.filter(|f| *f > 0.0) {
        Some(f) => f,
        None => h.sample_count.unwrap_or(0) as f64,
    };
    let sum = h.sample_sum.unwrap_or(0.0);
    if is_native(&h) {
        let native = native_value(&h)?;
        let mut sample = SampleWriter::sample(out.name, labels, count, timestamp);
        sample.native = Some(Arc::new(native));
        out.samples.push(sample);
    }
    for bucket in &h.bucket {
        let value = match bucket.cumulative_count_float.filter(|f| *f > 0.0) {
            Some(f) => f,
            None => bucket.cumulative_count.unwrap_or(0) as f64,
        };
        let mut sample = SampleWriter::sample(&format!("{}_bucket", out.name), labels, value, timestamp);
        sample.extra_label = Some(Label::new("le", go_float(bucket.upper_bound.unwrap_or(f64::INFINITY))));
        sample.exemplar = bucket.exemplar.as_ref().map(exemplar).map(Arc::new);
        out.samples.push(sample);
    }
    let (count_suffix, sum_suffix) = if gauge { ("_gcount", "_gsum") } else { ("_count", "_sum") };
    // The `+Inf` bucket may be left out of the message; the text forms always have it.
    if !h.bucket.iter().any(|b| b.upper_bound == Some(f64::INFINITY)) {
        let mut sample = SampleWriter::sample(&format!("{}_bucket", out.name), labels, count, timestamp);
        sample.extra_label = Some(Label::new("le", "+Inf"));
        out.samples.push(sample);
    }
    out.push(count_suffix, labels, count, timestamp);
    out.push(sum_suffix, labels, sum, timestamp);
    if let Some(created) = &h.created_timestamp {
        out.push("_created", labels, seconds(created), timestamp);
    }
    Ok(())
}

fn native_value(h: &pb::Histogram) -> Result<NativeHistogramValue, Error> {
    let spans = |spans: &[pb::BucketSpan]| -> Vec<BucketSpan> {
        spans
            .iter()
            .filter(|s| s.length.unwrap_or(0) > 0)
            .map(|s| BucketSpan { offset: s.offset.unwrap_or(0), length: s.length.unwrap_or(0) })
            .collect()
    };
    if !h.positive_count.is_empty() || !h.negative_count.is_empty() {
        return Err(Error::Protobuf { message: "float native histograms are not supported".into() });
    }
    let number = |int: Option<u64>, float: Option<f64>| match float.filter(|f| *f > 0.0) {
        Some(f) => Number::Float(f),
        None => Number::Int(i64::try_from(int.unwrap_or(0)).unwrap_or(i64::MAX)),
    };
    let value = NativeHistogramValue {
        count: number(h.sample_count, h.sample_count_float),
        sum: Number::Float(h.sample_sum.unwrap_or(0.0)),
        schema: h.schema.unwrap_or(0),
        zero_threshold: Number::Float(h.zero_threshold.unwrap_or(0.0)),
        zero_count: number(h.zero_count, h.zero_count_float),
        positive_spans: spans(&h.positive_span),
        positive_deltas: h.positive_delta.clone(),
        negative_spans: spans(&h.negative_span),
        negative_deltas: h.negative_delta.clone(),
        exemplars: h.exemplars.iter().map(exemplar).map(Arc::new).collect(),
    };
    if value.positive_counts().is_none() || value.negative_counts().is_none() {
        return Err(Error::Protobuf { message: "native histogram spans and deltas disagree".into() });
    }
    Ok(value)
}

fn label_set(pairs: &[pb::LabelPair]) -> LabelSet {
    LabelSet::new(pairs.iter().map(|p| (p.name.clone().unwrap_or_default(), p.value.clone().unwrap_or_default())))
}

fn exemplar(e: &pb::Exemplar) -> Exemplar {
    Exemplar {
        labels: label_set(&e.label),
        value: e.value.unwrap_or(0.0),
        timestamp: e.timestamp.as_ref().map(|t| Timestamp::Seconds(seconds(t))),
    }
}

fn seconds(t: &google::protobuf::Timestamp) -> f64 {
    t.seconds as f64 + f64::from(t.nanos) / 1e9
}
