//! From a collection's families to points: one value of one series at one time, named and
//! labelled as Prometheus stores a scrape of the same registry.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use pyrometer_core::{Exemplar, Label, LabelSet, MetricFamily, MetricType, NativeHistogramValue, Sample};

/// The value Prometheus writes to mark a series stale: a NaN no computation produces.
pub const STALE_NAN: f64 = f64::from_bits(0x7ff0_0000_0000_0002);

/// What a series' family says of it (remote write 2.0 sends it with every series).
#[derive(Debug, PartialEq, Eq)]
pub struct FamilyInfo {
    /// The family's type.
    pub metric_type: MetricType,
    /// Its help text.
    pub help: Arc<str>,
    /// Its unit, empty if none.
    pub unit: Arc<str>,
}

/// A point's value.
#[derive(Clone, Debug, PartialEq)]
pub enum PointValue {
    /// A float sample (or [`STALE_NAN`]).
    Float(f64),
    /// A native histogram.
    Histogram(Arc<NativeHistogramValue>),
}

/// One value of one series at one time, waiting to be sent.
#[derive(Clone, Debug)]
pub struct Point {
    /// The series' labels in name order, `__name__` among them.
    pub labels: Arc<[Label]>,
    /// What its family says of it.
    pub family: Arc<FamilyInfo>,
    /// The value.
    pub value: PointValue,
    /// Milliseconds since the epoch.
    pub timestamp_ms: i64,
    /// When the series started counting (its `_created`), in milliseconds; 0 when unknown.
    pub start_timestamp_ms: i64,
    /// Exemplars sent with it.
    pub exemplars: Vec<Arc<Exemplar>>,
}

impl Point {
    /// Roughly what the point costs in memory while queued, in bytes.
    #[must_use]
    pub fn size(&self) -> usize {
        let labels: usize = self.labels.iter().map(|l| l.name.len() + l.value.len() + 32).sum();
        let value = match &self.value {
            PointValue::Float(_) => 0,
            PointValue::Histogram(h) => {
                std::mem::size_of::<NativeHistogramValue>()
                    + 8 * (h.positive_deltas.len() + h.negative_deltas.len())
                    + 8 * (h.positive_spans.len() + h.negative_spans.len())
            }
        };
        std::mem::size_of::<Self>() + labels + value + 64 * self.exemplars.len()
    }

    /// The value of label `name`, if the series has it.
    #[must_use]
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels.iter().find(|l| &*l.name == name).map(|l| &*l.value)
    }
}

/// Turns collections into points, remembering which series the last one had so that those
/// that disappear get a staleness marker.
#[derive(Debug)]
pub struct SeriesPoints {
    external: Vec<Label>,
    native_histograms: bool,
    exemplars: bool,
    live: HashMap<Arc<[Label]>, Arc<FamilyInfo>>,
}

impl SeriesPoints {
    /// A converter adding `external_labels` to series that lack them; native histograms sent
    /// as such or as their classic buckets; exemplars sent or not.
    #[must_use]
    pub fn new(external_labels: &[(String, String)], native_histograms: bool, exemplars: bool) -> Self {
        let external = external_labels.iter().map(|(n, v)| Label::new(n.as_str(), v.as_str())).collect();
        Self { external, native_histograms, exemplars, live: HashMap::new() }
    }

    /// The points of one collection at `now_ms`, then a staleness marker for every series the
    /// last collection had and this one has not.
    pub fn points(&mut self, families: &[MetricFamily], now_ms: i64) -> Vec<Point> {
        let mut out = Vec::new();
        for family in families {
            self.family_points(family, now_ms, &mut out);
        }
        let seen: HashSet<&Arc<[Label]>> = out.iter().map(|p| &p.labels).collect();
        let mut gone: Vec<Point> = self
            .live
            .iter()
            .filter(|(labels, _)| !seen.contains(labels))
            .map(|(labels, family)| stale(labels, family, now_ms))
            .collect();
        self.live = out.iter().map(|p| (Arc::clone(&p.labels), Arc::clone(&p.family))).collect();
        gone.sort_by(|a, b| a.labels.cmp(&b.labels));
        out.append(&mut gone);
        out
    }

    /// A staleness marker at `now_ms` for every series of the last collection, which is
    /// forgotten.
    pub fn stale_all(&mut self, now_ms: i64) -> Vec<Point> {
        let mut out: Vec<Point> = self.live.drain().map(|(labels, family)| stale(&labels, &family, now_ms)).collect();
        out.sort_by(|a, b| a.labels.cmp(&b.labels));
        out
    }

    fn family_points(&self, family: &MetricFamily, now_ms: i64, out: &mut Vec<Point>) {
        let info = Arc::new(FamilyInfo {
            metric_type: family.metric_type,
            help: Arc::clone(&family.help),
            unit: Arc::clone(&family.unit),
        });
        let has_created = family.metric_type.reserved_suffixes().contains(&"_created");
        let created: HashMap<&LabelSet, i64> = if has_created {
            family
                .samples
                .iter()
                .filter(|s| s.extra_label.is_none() && s.name.is(&family.name, "_created"))
                .map(|s| (&s.labels, seconds_to_ms(s.value)))
                .collect()
        } else {
            HashMap::new()
        };
        // Beside a native histogram sent as such, its lone `+Inf` bucket, count and sum add
        // nothing; real classic buckets beside it are sent too.
        let natives_sent = self.native_histograms && family.samples.iter().any(|s| s.native.is_some());
        let classic_beside: HashSet<&LabelSet> = if natives_sent {
            family
                .samples
                .iter()
                .filter(|s| s.name.is(&family.name, "_bucket"))
                .filter(|s| s.extra_label.as_ref().is_some_and(|le| &*le.value != "+Inf"))
                .map(|s| &s.labels)
                .collect()
        } else {
            HashSet::new()
        };
        for sample in &family.samples {
            let suffix = sample.name.suffix_after(&family.name);
            if has_created && suffix == Some("_created") {
                continue;
            }
            let value = match &sample.native {
                Some(native) if self.native_histograms => PointValue::Histogram(Arc::clone(native)),
                Some(_) => continue,
                None => {
                    let derived = matches!(suffix, Some("_bucket" | "_count" | "_sum"));
                    if natives_sent && derived && !classic_beside.contains(&sample.labels) {
                        continue;
                    }
                    PointValue::Float(sample.value)
                }
            };
            let exemplars = if self.exemplars { exemplars_of(sample) } else { Vec::new() };
            let timestamp_ms = sample.timestamp.map_or(now_ms, |t| seconds_to_ms(t.as_seconds()));
            out.push(Point {
                labels: self.labels(family, sample),
                family: Arc::clone(&info),
                value,
                timestamp_ms,
                // A series starts no later than its sample (both rounded to the millisecond).
                start_timestamp_ms: created.get(&sample.labels).map_or(0, |&created| created.min(timestamp_ms)),
                exemplars,
            });
        }
    }

    /// `__name__`, the sample's labels and the external labels it lacks, in name order; labels
    /// with empty values are left out, as Prometheus stores none.
    fn labels(&self, family: &MetricFamily, sample: &Sample) -> Arc<[Label]> {
        let mut labels = Vec::with_capacity(sample.labels.len() + 2 + self.external.len());
        labels.push(Label::new("__name__", sample.name.full(&family.name)));
        let _ = sample.for_each_label::<()>(|l| {
            if !l.value.is_empty() {
                labels.push(l.clone());
            }
            Ok(())
        });
        for external in &self.external {
            if !labels.iter().any(|l| l.name == external.name) {
                labels.push(external.clone());
            }
        }
        labels.sort_by(|a, b| a.name.cmp(&b.name));
        labels.into()
    }
}

fn exemplars_of(sample: &Sample) -> Vec<Arc<Exemplar>> {
    match &sample.native {
        Some(native) => native.exemplars.clone(),
        None => sample.exemplar.iter().cloned().collect(),
    }
}

fn stale(labels: &Arc<[Label]>, family: &Arc<FamilyInfo>, now_ms: i64) -> Point {
    Point {
        labels: Arc::clone(labels),
        family: Arc::clone(family),
        value: PointValue::Float(STALE_NAN),
        timestamp_ms: now_ms,
        start_timestamp_ms: 0,
        exemplars: Vec::new(),
    }
}

/// Seconds since the epoch to whole milliseconds.
pub(crate) fn seconds_to_ms(seconds: f64) -> i64 {
    if seconds.is_finite() { (seconds * 1000.0).round() as i64 } else { 0 }
}
