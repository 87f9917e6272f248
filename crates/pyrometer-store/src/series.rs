//! Metric series in the store: how a series of a family maps to a key, and how merged entries
//! become families again. Writers (the Python binding) and readers (its collector, the sidecar)
//! share these rules.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use pyrometer_core::{CollectOptions, Collector, Error, FamilyMeta, Label, LabelSet, MetricFamily, MetricType, Sample};

use crate::directory::StoreDir;
use crate::merge::Merge;

/// The key of one sample of a series: the family (type, name, help, unit), the sample's suffix,
/// its labels in order and its extra label (a bucket's `le`), each length-prefixed.
#[must_use]
pub fn series_key(meta: &FamilyMeta, suffix: &str, labels: &[(Arc<str>, Arc<str>)], extra: Option<&Label>) -> Vec<u8> {
    key::encode(meta, suffix, labels, extra)
}

/// A collector reading every process's series from a store directory at each collection.
#[derive(Debug)]
pub struct DirectoryCollector {
    dir: PathBuf,
    /// What the last collection had to leave out.
    problems: Mutex<Vec<String>>,
}

impl DirectoryCollector {
    /// A collector over `dir`.
    #[must_use]
    pub fn new(dir: PathBuf) -> Self {
        Self { dir, problems: Mutex::new(Vec::new()) }
    }

    /// The directory.
    #[must_use]
    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }

    /// The files the last collection could not read, and why.
    #[must_use]
    pub fn problems(&self) -> Vec<String> {
        self.problems.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

impl Collector for DirectoryCollector {
    fn collect(&self, _: &CollectOptions, out: &mut Vec<MetricFamily>) -> Result<(), Error> {
        let snapshot = StoreDir::open(&self.dir).and_then(|store| store.read()).map_err(Error::collect)?;
        *self.problems.lock().unwrap_or_else(PoisonError::into_inner) =
            snapshot.problems.iter().map(ToString::to_string).collect();
        out.extend(families(&snapshot.merged()));
        Ok(())
    }
}

/// A series while families are built: its family's position and its labels.
type SeriesId = (usize, Vec<(String, String)>);

/// Families from merged store entries, in the order their first series were written: a
/// histogram's buckets made cumulative in bound order, with its `_count`.
#[must_use]
pub fn families(merged: &[(Vec<u8>, Merge, f64)]) -> Vec<MetricFamily> {
    /// One series: its labels (but `le`), its samples by suffix, and a histogram's buckets.
    struct Series {
        labels: Vec<(String, String)>,
        plain: Vec<(String, f64)>,
        buckets: Vec<(String, f64)>,
    }
    struct Building {
        meta: (MetricType, String, String, String),
        series: Vec<Series>,
    }
    type Fast = foldhash::fast::RandomState;
    let mut order: Vec<Building> = Vec::new();
    let mut index: HashMap<(MetricType, String), usize, Fast> = HashMap::default();
    let mut series_index: HashMap<SeriesId, usize, Fast> = HashMap::default();
    for (key, _, value) in merged {
        let Some(decoded) = key::decode(key) else { continue };
        let slot = *index.entry((decoded.metric_type, decoded.name.clone())).or_insert_with(|| {
            order.push(Building {
                meta: (decoded.metric_type, decoded.name.clone(), decoded.help.clone(), decoded.unit.clone()),
                series: Vec::new(),
            });
            order.len() - 1
        });
        let family = &mut order[slot];
        let mut labels = decoded.labels;
        let le = if decoded.suffix == "_bucket" { labels.pop().map(|(_, v)| v) } else { None };
        let position = *series_index.entry((slot, labels)).or_insert_with_key(|(_, labels)| {
            family.series.push(Series { labels: labels.clone(), plain: Vec::new(), buckets: Vec::new() });
            family.series.len() - 1
        });
        let series = &mut family.series[position];
        match le {
            Some(le) => series.buckets.push((le, *value)),
            None => series.plain.push((decoded.suffix, *value)),
        }
    }
    order
        .into_iter()
        .map(|building| {
            let (metric_type, name, help, unit) = building.meta;
            let mut samples = Vec::new();
            for Series { labels, plain, mut buckets } in building.series {
                let labels = LabelSet::new(labels);
                if !buckets.is_empty() {
                    buckets.sort_by(|a, b| le_value(&a.0).total_cmp(&le_value(&b.0)));
                    let mut total = 0.0;
                    for (le, count) in buckets {
                        total += count;
                        let mut sample = Sample::new("_bucket", labels.clone(), total);
                        sample.extra_label = Some(Label::new("le", le));
                        samples.push(sample);
                    }
                    samples.push(Sample::new("_count", labels.clone(), total));
                }
                for (suffix, value) in plain {
                    samples.push(Sample::new(static_suffix(&suffix), labels.clone(), value));
                }
            }
            MetricFamily::from_parts(name.into(), help.into(), metric_type, unit.into(), samples)
        })
        .collect()
}

/// The suffixes store keys carry, as the `'static` names samples use.
fn static_suffix(suffix: &str) -> &'static str {
    match suffix {
        "_total" => "_total",
        "_count" => "_count",
        "_sum" => "_sum",
        "_bucket" => "_bucket",
        _ => "",
    }
}

fn le_value(le: &str) -> f64 {
    if le == "+Inf" { f64::INFINITY } else { le.parse().unwrap_or(f64::NAN) }
}

/// Store keys: a series' family, sample and labels, length-prefixed.
mod key {
    use std::sync::Arc;

    use pyrometer_core::{FamilyMeta, Label, MetricType};

    fn put(out: &mut Vec<u8>, s: &str) {
        out.extend_from_slice(&u32::try_from(s.len()).unwrap_or(u32::MAX).to_le_bytes());
        out.extend_from_slice(s.as_bytes());
    }

    pub(super) fn encode(
        meta: &FamilyMeta,
        suffix: &str,
        labels: &[(Arc<str>, Arc<str>)],
        extra: Option<&Label>,
    ) -> Vec<u8> {
        let mut out = Vec::new();
        put(&mut out, meta.metric_type.as_str());
        put(&mut out, &meta.name);
        put(&mut out, &meta.help);
        put(&mut out, &meta.unit);
        put(&mut out, suffix);
        for (name, value) in labels {
            put(&mut out, name);
            put(&mut out, value);
        }
        if let Some(extra) = extra {
            put(&mut out, &extra.name);
            put(&mut out, &extra.value);
        }
        out
    }

    /// A decoded key.
    pub(super) struct Decoded {
        pub(super) metric_type: MetricType,
        pub(super) name: String,
        pub(super) help: String,
        pub(super) unit: String,
        pub(super) suffix: String,
        pub(super) labels: Vec<(String, String)>,
    }

    pub(super) fn decode(mut bytes: &[u8]) -> Option<Decoded> {
        let mut take = || -> Option<String> {
            let len = u32::from_le_bytes(bytes.get(..4)?.try_into().ok()?) as usize;
            let s = std::str::from_utf8(bytes.get(4..4 + len)?).ok()?.to_owned();
            bytes = &bytes[4 + len..];
            Some(s)
        };
        let metric_type = take()?.parse().ok()?;
        let (name, help, unit, suffix) = (take()?, take()?, take()?, take()?);
        let mut labels = Vec::new();
        while let Some(label) = take() {
            labels.push((label, take()?));
        }
        Some(Decoded { metric_type, name, help, unit, suffix, labels })
    }
}
