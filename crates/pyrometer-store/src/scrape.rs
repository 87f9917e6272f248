//! What a collector keeps between scrapes of a store directory, so that a scrape costs one
//! atomic load per series: each file's entries are parsed once (a scrape parses only what was
//! appended since), and each key is decoded once, into the family and series it belongs to.

use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use pyrometer_core::float_text::go_float;
use pyrometer_core::{Label, LabelSet, MetricFamily, MetricType, Sample};

use crate::clock::now_nanos;

use crate::error::{FileProblem, Problem};
use crate::exemplar::StoredExemplar;
use crate::layout::{HEADER_LEN, HeaderWord};
use crate::merge::{Merge, Value};
use crate::native::Part as NativePart;
use crate::reader::{Found, Kind, OpenFile};
use crate::sketch::Part as SketchPart;

type Fast = foldhash::fast::RandomState;

/// Keys decoded beyond twice the entries in the files before the decoded ones are dropped.
const FORGET_AFTER: usize = 4096;

/// One file as last seen: its mapping, how far it is parsed, and its entries.
struct FileView {
    file: OpenFile,
    /// The inode, to notice a file replaced under the same name (the archive).
    inode: u64,
    parsed: usize,
    /// The writer's reuse count when the entries were last checked.
    reused: u64,
    entries: Vec<Seen>,
}

/// An entry as parsed, with the header word it had: it is what was parsed while the word is the
/// same.
struct Seen {
    at: usize,
    header: HeaderWord,
    what: What,
}

enum What {
    /// An interned series, where its value is, and (timed rules) when it was written.
    Value { id: usize, value_at: usize, written_at: Option<usize> },
    /// An interned series' exemplar, where its sequence word and payload are.
    Exemplar { id: usize, seq_at: usize, payload_at: usize },
    /// Nothing a scrape shows: a merge record, a key of something else, an entry being reused.
    Nothing,
}

impl FileView {
    /// The value of the entry `seen` as it was parsed, or `None` if it is another series' now.
    fn value(&self, seen: &Seen, value_at: usize, written_at: Option<usize>) -> Option<Value> {
        let value = self.file.timed_value(value_at, written_at);
        // Acquire: the value's loads happen before the header word is read again.
        std::sync::atomic::fence(std::sync::atomic::Ordering::Acquire);
        (self.file.header(seen.at) == seen.header).then_some(value)
    }
}

/// Where a series' value goes when families are built.
enum Part {
    /// A sample of its own, with this suffix.
    Plain(&'static str),
    /// A histogram bucket with this upper bound (`le`).
    Bucket(f64, String),
    /// A part of a summary's quantile sketch.
    Sketch(SketchPart),
    /// A native histogram's count, zero bucket or bucket.
    Native(NativePart),
}

struct Interned {
    merge: Merge,
    part: Part,
}

struct FamilyLayout {
    metric_type: MetricType,
    name: String,
    help: String,
    unit: String,
    series: Vec<SeriesLayout>,
    series_ids: HashMap<Vec<(String, String)>, usize, Fast>,
}

struct SeriesLayout {
    labels: LabelSet,
    /// Interned ids of its plain samples, in the order written, and of its buckets, by bound.
    plain: Vec<usize>,
    buckets: Vec<usize>,
    /// Interned ids of its quantile sketch's entries.
    sketch: Vec<usize>,
    /// Interned ids of its native histogram's entries.
    native: Vec<usize>,
}

/// The decoded keys, families and files of a directory.
#[derive(Default)]
pub(crate) struct Views {
    ids: HashMap<(Vec<u8>, Merge), usize, Fast>,
    interned: Vec<Interned>,
    families: Vec<FamilyLayout>,
    family_ids: HashMap<(MetricType, String), usize, Fast>,
    files: HashMap<PathBuf, FileView, Fast>,
}

impl Views {
    /// A series' quantile samples, from its sketch entries in every file.
    fn quantile_samples(
        &self,
        series: &SeriesLayout,
        values: &HashMap<usize, Vec<(usize, f64)>, Fast>,
        now: u64,
    ) -> Vec<Sample> {
        let mut per_file: std::collections::BTreeMap<usize, Vec<(&SketchPart, f64)>> =
            std::collections::BTreeMap::new();
        for &id in &series.sketch {
            let Part::Sketch(part) = &self.interned[id].part else { continue };
            for &(file, value) in values.get(&id).into_iter().flatten() {
                per_file.entry(file).or_default().push((part, value));
            }
        }
        let files: Vec<Vec<(&SketchPart, f64)>> = per_file.into_values().collect();
        crate::sketch::quantiles(&files, now)
            .into_iter()
            .map(|(q, value)| {
                let mut sample = Sample::new("", series.labels.clone(), value);
                sample.extra_label = Some(Label::new("quantile", go_float(q)));
                sample
            })
            .collect()
    }

    /// Brings the views up to date with `paths` (the archive first, then live files): new files
    /// are opened, grown ones remapped, replaced ones reread, vanished ones forgotten. Files
    /// that cannot be read are reported and left out.
    pub(crate) fn refresh(&mut self, paths: &[PathBuf]) -> Vec<FileProblem> {
        let mut problems = Vec::new();
        self.files.retain(|path, _| paths.contains(path));
        // Series come and go (removed, their entries reused, their processes merged): once most
        // keys decoded are no longer in any file, decode afresh what is.
        let entries: usize = self.files.values().map(|view| view.entries.len()).sum();
        if self.interned.len() > 2 * entries + FORGET_AFTER {
            *self = Self::default();
        }
        for path in paths {
            if let Err(problem) = self.refresh_file(path) {
                // A torn file keeps what was read before the tear; any other is left out.
                if !matches!(problem, Problem::Torn { .. }) {
                    self.files.remove(path);
                }
                if !matches!(&problem, Problem::Io(e) if e.kind() == std::io::ErrorKind::NotFound) {
                    problems.push(FileProblem { path: path.clone(), problem });
                }
            }
        }
        problems
    }

    fn refresh_file(&mut self, path: &Path) -> Result<(), Problem> {
        let metadata = std::fs::metadata(path).map_err(Problem::Io)?;
        let inode = metadata.ino();
        // A file that shrank under the mapping kept from the last scrape must not be read through
        // it: the pages past its end are gone, and touching them is SIGBUS.
        if let Some(view) = self.files.get(path)
            && view.inode == inode
            && metadata.len() < view.file.mapped_len()
        {
            return Err(Problem::Truncated { used: view.file.mapped_len(), len: metadata.len() });
        }
        let mut stale = self.files.get(path).is_none_or(|view| view.inode != inode || view.file.outgrown());
        // A writer may grow the file between the check and the read: then map it once more.
        let used = loop {
            if stale {
                let file = OpenFile::open(path)?;
                // A remapped file keeps what was parsed: entries never move.
                let (parsed, reused, entries) = match self.files.remove(path) {
                    Some(old) if old.inode == inode => (old.parsed, old.reused, old.entries),
                    _ => (HEADER_LEN, 0, Vec::new()),
                };
                self.files.insert(path.to_owned(), FileView { file, inode, parsed, reused, entries });
            }
            let Some(view) = self.files.get(path) else { return Ok(()) };
            match view.file.used() {
                Err(Problem::Truncated { .. }) if !stale => stale = true,
                used => break used?,
            }
        };
        let Some(view) = self.files.get_mut(path) else { return Ok(()) };
        // Entries reused since the last look hold other series now: parse those again.
        let reused = view.file.reused();
        let mut found = Vec::new();
        if reused != view.reused {
            for (index, seen) in view.entries.iter().enumerate() {
                if view.file.header(seen.at) != seen.header {
                    found.push((Some(index), view.file.entry(seen.at, used)?.1));
                }
            }
            view.reused = reused;
        }
        let scanned = view.file.scan(view.parsed, used, |entry| {
            found.push((None, entry));
            Ok(())
        });
        // The entries before a torn one are whole: they are kept, and the rest read again at
        // the next scrape.
        view.parsed = match &scanned {
            Ok(()) => used,
            Err(Problem::Torn { offset, .. }) => usize::try_from(*offset).unwrap_or(used),
            Err(_) => view.parsed,
        };
        for (index, entry) in found {
            let seen = match entry {
                Found::Padding => continue,
                Found::InRewrite { at, header } => Seen { at, header, what: What::Nothing },
                Found::Entry(entry) => {
                    let (at, header) = (entry.at, entry.header);
                    let what =
                        match entry.kind {
                            Kind::Series(merge) => self.intern(entry.key, merge).map_or(What::Nothing, |id| {
                                What::Value { id, value_at: entry.value_at, written_at: entry.written_at }
                            }),
                            // An exemplar belongs to a counter's total or a bucket: keys under `Sum`.
                            Kind::Exemplar { payload_at } => self
                                .intern(entry.key, Merge::Sum)
                                .map_or(What::Nothing, |id| What::Exemplar { id, seq_at: entry.value_at, payload_at }),
                            Kind::MergedFile => What::Nothing,
                        };
                    Seen { at, header, what }
                }
            };
            let Some(view) = self.files.get_mut(path) else { return Ok(()) };
            match index {
                Some(index) => view.entries[index] = seen,
                None => view.entries.push(seen),
            }
        }
        scanned
    }

    /// The id of a key, decoding it into its family and series the first time. Keys that do
    /// not decode (written by something else) are skipped.
    fn intern(&mut self, key: Vec<u8>, merge: Merge) -> Option<usize> {
        if let Some(&id) = self.ids.get(&(key.clone(), merge)) {
            return Some(id);
        }
        let mut decoded = crate::series::decode(&key)?;
        let is_sketch = decoded.suffix == crate::sketch::SUFFIX;
        let is_native = decoded.suffix == crate::native::SUFFIX;
        let extra = if decoded.suffix == "_bucket" || is_sketch || is_native {
            decoded.labels.pop().map(|(_, v)| v)
        } else {
            None
        };
        let part = match extra {
            Some(text) if is_sketch => Part::Sketch(SketchPart::parse(&text)?),
            Some(text) if is_native => Part::Native(NativePart::parse(&text)?),
            Some(le) => Part::Bucket(crate::series::le_value(&le), le),
            None => Part::Plain(crate::series::static_suffix(&decoded.suffix)),
        };
        let family = *self.family_ids.entry((decoded.metric_type, decoded.name.clone())).or_insert_with(|| {
            self.families.push(FamilyLayout {
                metric_type: decoded.metric_type,
                name: decoded.name.clone(),
                help: decoded.help.clone(),
                unit: decoded.unit.clone(),
                series: Vec::new(),
                series_ids: HashMap::default(),
            });
            self.families.len() - 1
        });
        let layout = &mut self.families[family];
        let series = *layout.series_ids.entry(decoded.labels).or_insert_with_key(|labels| {
            layout.series.push(SeriesLayout {
                labels: LabelSet::new(labels.clone()),
                plain: Vec::new(),
                buckets: Vec::new(),
                sketch: Vec::new(),
                native: Vec::new(),
            });
            layout.series.len() - 1
        });
        let id = self.interned.len();
        let slots = &mut layout.series[series];
        match &part {
            Part::Bucket(bound, _) => {
                let at = slots.buckets.partition_point(|other| match &self.interned[*other].part {
                    Part::Bucket(b, _) => b < bound,
                    Part::Plain(_) | Part::Sketch(_) | Part::Native(_) => true,
                });
                slots.buckets.insert(at, id);
            }
            Part::Plain(_) => slots.plain.push(id),
            Part::Sketch(_) => slots.sketch.push(id),
            Part::Native(_) => slots.native.push(id),
        }
        self.interned.push(Interned { merge, part });
        self.ids.insert((key, merge), id);
        Some(id)
    }

    /// Every series' value over the files of `paths` (in that order), each combined by its
    /// rule, as families in the order their first series were seen; `_created` samples only
    /// when `created`.
    pub(crate) fn families(&self, paths: &[PathBuf], created: bool) -> Vec<MetricFamily> {
        let mut combined: Vec<Option<Value>> = vec![None; self.interned.len()];
        // Sketch entries are not combined: each file's count only for the steps it says are in
        // the window. Their values, by file.
        let mut sketch_values: HashMap<usize, Vec<(usize, f64)>, Fast> = HashMap::default();
        for (file, view) in paths.iter().filter_map(|p| self.files.get(p)).enumerate() {
            for seen in &view.entries {
                let What::Value { id, value_at, written_at } = seen.what else { continue };
                let Some(value) = view.value(seen, value_at, written_at) else { continue };
                if value.is_removed() {
                    continue;
                }
                if matches!(self.interned[id].part, Part::Sketch(_)) {
                    sketch_values.entry(id).or_default().push((file, value.value));
                    continue;
                }
                let total = &mut combined[id];
                *total = Some(total.map_or(value, |t| self.interned[id].merge.combine(t, value)));
            }
        }
        let totals: Vec<Option<f64>> = combined.iter().map(|v| v.map(|v| v.value)).collect();
        // Each series' latest exemplar over every process.
        let mut exemplars: Vec<Option<StoredExemplar>> = vec![None; self.interned.len()];
        for view in paths.iter().filter_map(|p| self.files.get(p)) {
            for seen in &view.entries {
                let What::Exemplar { id, seq_at, payload_at } = seen.what else { continue };
                if let Some(found) = view.file.exemplar(seq_at, payload_at)
                    && view.file.header(seen.at) == seen.header
                    && exemplars[id].as_ref().is_none_or(|kept| kept.written < found.written)
                {
                    exemplars[id] = Some(found);
                }
            }
        }
        let exemplar = |id: usize| exemplars[id].as_ref().map(|stored| Arc::new(stored.exemplar.clone()));
        let mut out = Vec::with_capacity(self.families.len());
        for family in &self.families {
            let mut samples = Vec::new();
            // A histogram's `_sum` comes before its buckets, as upstream's multiprocess
            // collector writes it.
            let sum_first = family.metric_type == MetricType::Histogram;
            for series in &family.series {
                // The plain samples: `Some(true)` only `_sum`, `Some(false)` all but it, `None` all.
                let plain = |samples: &mut Vec<Sample>, sum: Option<bool>| {
                    for &id in &series.plain {
                        let (Some(value), Part::Plain(suffix)) = (totals[id], &self.interned[id].part) else {
                            continue;
                        };
                        // An Info's replaced pairs read 0: they are no longer its series.
                        let replaced = family.metric_type == MetricType::Info && value == 0.0;
                        let chosen = sum.is_none_or(|sum| (*suffix == "_sum") == sum);
                        if replaced || !chosen || (*suffix == "_created" && !created) {
                            continue;
                        }
                        let mut sample = Sample::new(suffix, series.labels.clone(), value);
                        sample.exemplar = exemplar(id);
                        samples.push(sample);
                    }
                };
                // A native histogram's sample comes first; without classic buckets, its count
                // makes the lone `+Inf` bucket and `_count` of the classic form.
                let mut native_count = None;
                if !series.native.is_empty() {
                    let sum = series
                        .plain
                        .iter()
                        .find(|id| matches!(self.interned[**id].part, Part::Plain("_sum")))
                        .and_then(|id| totals[*id])
                        .unwrap_or(0.0);
                    let parts = series.native.iter().filter_map(|&id| match (&self.interned[id].part, totals[id]) {
                        (Part::Native(part), Some(total)) => Some((*part, total)),
                        _ => None,
                    });
                    if let Some(value) = crate::native::merged(parts, sum) {
                        let count = value.count.as_f64();
                        let mut sample = Sample::new("", series.labels.clone(), count);
                        sample.native = Some(Arc::new(value));
                        samples.push(sample);
                        native_count = Some(count);
                    }
                }
                if sum_first {
                    plain(&mut samples, Some(true));
                }
                if let Some(count) = native_count.filter(|_| series.buckets.is_empty()) {
                    let mut sample = Sample::new("_bucket", series.labels.clone(), count);
                    sample.extra_label = Some(Label::new("le", "+Inf"));
                    samples.push(sample);
                    samples.push(Sample::new("_count", series.labels.clone(), count));
                }
                let mut count = None;
                for &id in &series.buckets {
                    let (Some(value), Part::Bucket(_, le)) = (totals[id], &self.interned[id].part) else { continue };
                    let cumulative = count.unwrap_or(0.0) + value;
                    count = Some(cumulative);
                    let mut sample = Sample::new("_bucket", series.labels.clone(), cumulative);
                    sample.extra_label = Some(Label::new("le", le.as_str()));
                    sample.exemplar = exemplar(id);
                    samples.push(sample);
                }
                if let Some(count) = count {
                    samples.push(Sample::new("_count", series.labels.clone(), count));
                }
                if !series.sketch.is_empty() {
                    samples.extend(self.quantile_samples(series, &sketch_values, now_nanos()));
                }
                plain(&mut samples, sum_first.then_some(false));
            }
            if !samples.is_empty() {
                out.push(MetricFamily::from_parts(
                    family.name.as_str().into(),
                    family.help.as_str().into(),
                    family.metric_type,
                    family.unit.as_str().into(),
                    samples,
                ));
            }
        }
        out
    }
}
