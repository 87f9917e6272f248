//! From a collection's families to points: one value of one series at one time, named and
//! labelled as Prometheus stores a scrape of the same registry.

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hash, Hasher};
use std::sync::Arc;

use pyrometer_core::{Exemplar, Label, LabelSet, MetricFamily, MetricType, NativeHistogramValue, Sample, SampleName};

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
    /// A hash of the labels, which shards the queue.
    pub series_hash: u64,
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
    live: HashMap<SeriesKey, Arc<FamilyInfo>, BuildHasherDefault<KnownHash>>,
    /// The time of the last collection or staleness marker: the next is later.
    last_ms: i64,
}

impl SeriesPoints {
    /// A converter adding `external_labels` to series that lack them; native histograms sent
    /// as such or as their classic buckets; exemplars sent or not.
    #[must_use]
    pub fn new(external_labels: &[(String, String)], native_histograms: bool, exemplars: bool) -> Self {
        let external = external_labels.iter().map(|(n, v)| Label::new(n.as_str(), v.as_str())).collect();
        Self { external, native_histograms, exemplars, live: HashMap::default(), last_ms: i64::MIN }
    }

    /// `now_ms`, or a millisecond after the last time given out if that is not earlier: each
    /// series' points stay in time order even when two collections meet in one millisecond or
    /// the clock steps back.
    fn next_ms(&mut self, now_ms: i64) -> i64 {
        self.last_ms = now_ms.max(self.last_ms.saturating_add(1));
        self.last_ms
    }

    /// The points of one collection at `now_ms` (or just after the last collection, if that
    /// was not earlier), then a staleness marker for every series the last collection had and
    /// this one has not. A series a collection reports twice is sent once, as first reported.
    pub fn points(&mut self, families: &[MetricFamily], now_ms: i64) -> Vec<Point> {
        let now_ms = self.next_ms(now_ms);
        let mut out = Vec::new();
        for family in families {
            self.family_points(family, now_ms, &mut out);
        }
        let mut live = HashMap::with_capacity_and_hasher(out.len(), BuildHasherDefault::default());
        out.retain(|point| live.insert(SeriesKey::of(point), Arc::clone(&point.family)).is_none());
        let mut gone: Vec<Point> = self
            .live
            .iter()
            .filter(|(key, _)| !live.contains_key(*key))
            .map(|(key, family)| stale(key, family, now_ms))
            .collect();
        self.live = live;
        gone.sort_by(|a, b| a.labels.cmp(&b.labels));
        out.append(&mut gone);
        out
    }

    /// A staleness marker at `now_ms` for every series of the last collection, which is
    /// forgotten.
    pub fn stale_all(&mut self, now_ms: i64) -> Vec<Point> {
        let now_ms = self.next_ms(now_ms);
        let mut out: Vec<Point> = self.live.drain().map(|(key, family)| stale(&key, &family, now_ms)).collect();
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
        let natives_sent = self.native_histograms && family.samples.iter().any(|s| s.native.is_some());
        let mut names = SampleNames::new(&family.name);
        let facts = |series: &mut dyn Iterator<Item = &Sample>| {
            let mut facts = SeriesFacts { created: None, classic_beside: false };
            for s in series {
                if has_created && s.extra_label.is_none() && s.name.is(&family.name, "_created") {
                    facts.created.get_or_insert(seconds_to_ms(s.value));
                }
                // Beside a native histogram sent as such, its lone `+Inf` bucket, count and sum
                // add nothing; real classic buckets beside it are sent too.
                facts.classic_beside |= natives_sent
                    && s.name.is(&family.name, "_bucket")
                    && s.extra_label.as_ref().is_some_and(|le| &*le.value != "+Inf");
            }
            facts
        };
        let mut emit = |sample: &Sample, facts: &SeriesFacts| {
            let suffix = sample.name.suffix_after(&family.name);
            if has_created && suffix == Some("_created") {
                return;
            }
            let value = match &sample.native {
                Some(native) if self.native_histograms => PointValue::Histogram(Arc::clone(native)),
                Some(_) => return,
                None => {
                    let derived = matches!(suffix, Some("_bucket" | "_count" | "_sum"));
                    if natives_sent && derived && !facts.classic_beside {
                        return;
                    }
                    PointValue::Float(sample.value)
                }
            };
            let timestamp_ms = sample.timestamp.map_or(now_ms, |t| seconds_to_ms(t.as_seconds()));
            let labels = self.labels(names.of(sample), sample);
            out.push(Point {
                series_hash: hash_labels(&labels),
                labels,
                family: Arc::clone(&info),
                value,
                timestamp_ms,
                // A series starts no later than its sample (both rounded to the millisecond).
                start_timestamp_ms: facts.created.map_or(0, |created| created.min(timestamp_ms)),
                exemplars: if self.exemplars { exemplars_of(sample) } else { Vec::new() },
            });
        };
        if family.samples.iter().all(|s| matches!(s.name, SampleName::Suffix(_))) {
            // A native metric's samples come series by series: each run of one label set is a
            // series, its `_created` and classic buckets found within the run.
            for run in family.samples.chunk_by(|a, b| a.labels == b.labels) {
                let facts = facts(&mut run.iter());
                for sample in run {
                    emit(sample, &facts);
                }
            }
        } else {
            // A collector written by hand may report a series' samples in any order.
            let mut by_series: HashMap<&LabelSet, Vec<&Sample>, foldhash::fast::FixedState> = HashMap::default();
            for sample in &family.samples {
                by_series.entry(&sample.labels).or_default().push(sample);
            }
            let facts: HashMap<&LabelSet, SeriesFacts, foldhash::fast::FixedState> =
                by_series.iter().map(|(labels, series)| (*labels, facts(&mut series.iter().copied()))).collect();
            for sample in &family.samples {
                emit(sample, &facts[&sample.labels]);
            }
        }
    }

    /// `__name__`, the sample's labels and the external labels it lacks, in name order; labels
    /// with empty values are left out, as Prometheus stores none.
    fn labels(&self, name: Arc<str>, sample: &Sample) -> Arc<[Label]> {
        let mut labels = Vec::with_capacity(sample.labels.len() + 2 + self.external.len());
        labels.push(Label { name: Arc::clone(&NAME_LABEL), value: name });
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
        labels.sort_unstable_by(|a, b| a.name.cmp(&b.name));
        labels.into()
    }
}

/// What a series' other samples say of each of its samples.
struct SeriesFacts {
    /// Its `_created`, in milliseconds.
    created: Option<i64>,
    /// Whether real classic buckets stand beside its native histogram.
    classic_beside: bool,
}

/// The `__name__` label's name, made once.
static NAME_LABEL: std::sync::LazyLock<Arc<str>> = std::sync::LazyLock::new(|| Arc::from("__name__"));

/// A family's sample names, each made once per collection rather than once per sample.
struct SampleNames<'a> {
    family: &'a str,
    made: Vec<(&'static str, Arc<str>)>,
}

impl<'a> SampleNames<'a> {
    fn new(family: &'a str) -> Self {
        Self { family, made: Vec::new() }
    }

    fn of(&mut self, sample: &Sample) -> Arc<str> {
        match &sample.name {
            SampleName::Full(full) => Arc::clone(full),
            SampleName::Suffix(suffix) => {
                if let Some((_, name)) = self.made.iter().find(|(s, _)| s == suffix) {
                    return Arc::clone(name);
                }
                let name: Arc<str> = Arc::from(format!("{}{suffix}", self.family));
                self.made.push((suffix, Arc::clone(&name)));
                name
            }
        }
    }
}

/// A hash of a series' labels: what shards the queue and keys the live series.
fn hash_labels(labels: &[Label]) -> u64 {
    foldhash::fast::FixedState::with_seed(0x7072_6f6d_6574_6572).hash_one(labels)
}

/// A live series: its labels, hashed once.
#[derive(Debug, Clone)]
struct SeriesKey {
    hash: u64,
    labels: Arc<[Label]>,
}

impl SeriesKey {
    fn of(point: &Point) -> Self {
        Self { hash: point.series_hash, labels: Arc::clone(&point.labels) }
    }
}

impl PartialEq for SeriesKey {
    fn eq(&self, other: &Self) -> bool {
        self.hash == other.hash && self.labels == other.labels
    }
}

impl Eq for SeriesKey {}

impl Hash for SeriesKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

/// Passes on a hash already made ([`SeriesKey`]'s).
#[derive(Default)]
struct KnownHash(u64);

impl Hasher for KnownHash {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is used; anything else still hashes, slowly and correctly.
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

fn exemplars_of(sample: &Sample) -> Vec<Arc<Exemplar>> {
    match &sample.native {
        Some(native) => native.exemplars.clone(),
        None => sample.exemplar.iter().cloned().collect(),
    }
}

fn stale(key: &SeriesKey, family: &Arc<FamilyInfo>, now_ms: i64) -> Point {
    Point {
        series_hash: key.hash,
        labels: Arc::clone(&key.labels),
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
