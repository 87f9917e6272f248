//! `OpenMetrics` 1.0 parser.
//!
//! It accepts what `prometheus_client.openmetrics.parser.text_string_to_metric_families`
//! accepts and runs the same checks:
//!
//! - The input ends with `# EOF`, has no blank line and nothing after `# EOF`.
//! - `# HELP`, `# TYPE` and `# UNIT` come at most once per family, before its samples; a name
//!   they have not announced opens a family of type `unknown`. A family name, and the names its
//!   type reserves (`x_total` for a counter `x`, ...), appear in one family only.
//! - Samples carry the names their type allows (`x_total` and `x_created` for a counter `x`);
//!   a sample of another name ends the family and opens an `unknown` one named after it.
//! - Typed samples are checked: `le` and `quantile` labels, integer buckets and counts, no NaN
//!   or negative counter-like values, state sets of 0 and 1, info values of 1, histogram buckets
//!   increasing up to `+Inf` and matching `_count`, exemplars on buckets and counter totals only.
//! - Samples of one label group are contiguous, with all or none timestamped, timestamps not
//!   going backwards; a repeat of a series at the same timestamp is dropped.
//!
//! Timestamps written `sec[.frac]` become [`Timestamp::Exact`](pyrometer_core::Timestamp), other
//! floats and negative fractions of a second [`Timestamp::Seconds`](pyrometer_core::Timestamp).
//!
//! Where it differs, on purpose:
//! - Exemplar label values may hold escaped quotes, which `prometheus_client` writes but rejects.
//! - Native histogram samples (`{count:...}`, OpenMetrics 2.0) keep their timestamp and exemplars
//!   (`prometheus_client` drops both), and must carry their family's name.
//! - Off-by-one acceptances are rejected: a line with no space after its name (`inf`), any
//!   character standing for the space after `}`, a `}` before `{`, a quote after a timestamp or
//!   exemplar value that hides the rest of the line.
//! - A `sec.frac` timestamp is exact only when `frac` is all digits (`prometheus_client` reads the
//!   first nine characters, so `1.123456789e3` is 1.123456789 there); a negative fraction of a
//!   second keeps its sign (`-0.5` is 0.5 there); whole seconds beyond `i64` are rejected.
//! - Numbers take ASCII digits only.

use std::collections::HashSet;
use std::iter;
use std::sync::Arc;

use pyrometer_core::name::is_legacy_metric_name;
use pyrometer_core::{Exemplar, LabelSet, MetricFamily, MetricType, NativeHistogramValue, Sample, SampleName};

use super::lexer::{
    Dialect, Number, OmTimestamp, after, before, find_unquoted, metric_name, om_value_timestamp_exemplar,
    parse_exemplar, parse_labels, py_float, split_quoted, take_metric_name, timestamp, unescape,
};
use super::native_histogram;
use super::{ParseErrorKind, at};
use crate::Error;

/// Parses an `OpenMetrics` 1.0 exposition into metric families, in input order.
///
/// Samples carry their full names and all their labels.
pub fn parse_openmetrics(input: &str) -> Result<Vec<MetricFamily>, Error> {
    let mut parser = Parser::default();
    let mut eof = false;
    let mut lines = 0;
    for (index, raw) in input.split_inclusive('\n').enumerate() {
        lines = index + 1;
        let line = raw.strip_suffix('\n').unwrap_or(raw);
        if eof {
            return Err(at(lines)(ParseErrorKind::TextAfterEof));
        }
        if line.is_empty() {
            return Err(at(lines)(ParseErrorKind::BlankLine));
        }
        if line == "# EOF" {
            eof = true;
        } else if line.starts_with('#') {
            parser.metadata(line, lines)?;
        } else {
            parser.sample(line, lines)?;
        }
    }
    let last = parser.family.take();
    parser.finish(last)?;
    if !eof {
        return Err(at(lines + 1)(ParseErrorKind::MissingEof));
    }
    Ok(parser.families)
}

/// The families read so far and the one being read.
#[derive(Debug, Default)]
struct Parser {
    families: Vec<MetricFamily>,
    /// Family names and the names their types reserve, of every family built so far.
    seen_names: HashSet<String>,
    family: Option<Family>,
}

impl Parser {
    fn metadata(&mut self, line: &str, line_no: usize) -> Result<(), Error> {
        let fail = at(line_no);
        let words = split_quoted(line, |c| c == ' ', 3);
        let keyword = words.get(1).copied().unwrap_or("");
        let (Some(token), Some(&value)) = (words.get(2), words.get(3)) else {
            return Err(fail(match keyword {
                "HELP" | "TYPE" | "UNIT" => ParseErrorKind::IncompleteMetadata { keyword: keyword.to_owned() },
                "EOF" => ParseErrorKind::MalformedEof,
                _ => ParseErrorKind::UnknownMetadata { keyword: keyword.to_owned() },
            }));
        };
        let name = metric_name(token).map_err(&fail)?;
        let family = match self.family.take() {
            Some(family) if family.name == name => {
                if !family.samples.is_empty() {
                    return Err(fail(ParseErrorKind::MetadataAfterSamples { name }));
                }
                family
            }
            previous => {
                self.finish(previous)?;
                Family::new(name, line_no)
            }
        };
        let family = self.family.insert(family);
        let repeated = match keyword {
            "HELP" => family.help.is_some(),
            "TYPE" => family.declared.is_some(),
            "UNIT" => family.unit.is_some(),
            _ => return Err(fail(ParseErrorKind::UnknownMetadata { keyword: keyword.to_owned() })),
        };
        if repeated {
            let (keyword, name) = (keyword.to_owned(), family.name.clone());
            return Err(fail(ParseErrorKind::DuplicateMetadata { keyword, name }));
        }
        match keyword {
            "HELP" => family.help = Some(unescape(value, true).into_owned()),
            "TYPE" => family.declare(value, line_no).map_err(fail)?,
            _ => family.unit = Some((value.to_owned(), line_no)),
        }
        Ok(())
    }

    fn sample(&mut self, line: &str, line_no: usize) -> Result<(), Error> {
        let fail = at(line_no);
        let native_at = match &self.family {
            Some(family) if family.kind() == Some(MetricType::Histogram) => {
                native_histogram::value_start(line).map_err(&fail)?
            }
            _ => None,
        };
        if let Some(open) = native_at {
            let sample = parse_native_sample(line, open).map_err(&fail)?;
            let family = self.family.as_mut().filter(|f| f.name == sample.name).ok_or_else(|| {
                fail(ParseErrorKind::InvalidNativeHistogram {
                    reason: format!("sample {} is not named after its family", sample.name),
                })
            })?;
            return family.add(sample, line_no).map_err(fail);
        }
        let sample = parse_sample(line).map_err(&fail)?;
        let family = match self.family.take() {
            Some(family) if family.allowed.contains(&sample.name) => family,
            previous => {
                self.finish(previous)?;
                let mut family = Family::new(metric_name(&sample.name).map_err(&fail)?, line_no);
                family.declared = Some(Declared::Known(MetricType::Unknown));
                family.allowed = vec![sample.name.clone()];
                family
            }
        };
        self.family.insert(family).add(sample, line_no).map_err(fail)
    }

    /// Builds a closed family, if there is one.
    fn finish(&mut self, family: Option<Family>) -> Result<(), Error> {
        if let Some(family) = family {
            let built = family.build(&mut self.seen_names)?;
            self.families.push(built);
        }
        Ok(())
    }
}

/// The suffixes of the samples a type allows, which its family reserves.
fn sample_suffixes(metric_type: MetricType) -> &'static [&'static str] {
    match metric_type {
        MetricType::Counter => &["_total", "_created"],
        MetricType::Summary => &["", "_count", "_sum", "_created"],
        MetricType::Histogram => &["_count", "_sum", "_bucket", "_created"],
        MetricType::GaugeHistogram => &["_gcount", "_gsum", "_bucket"],
        MetricType::Info => &["_info"],
        MetricType::Gauge | MetricType::StateSet | MetricType::Unknown => &[""],
    }
}

/// A `# TYPE`. An unknown type fails when its family is built, as in `prometheus_client`;
/// until then the family is checked as if untyped.
#[derive(Debug)]
enum Declared {
    Known(MetricType),
    Invalid { name: String, line: usize },
}

/// A sample line as read.
#[derive(Debug)]
struct Parsed {
    name: String,
    labels: LabelSet,
    value: Number,
    timestamp: Option<OmTimestamp>,
    exemplar: Option<Exemplar>,
    /// An OpenMetrics 2.0 native histogram value (then `value` is its count).
    native: Option<NativeHistogramValue>,
}

/// A sample accepted into its family, with the `le` bound of a bucket and its line.
#[derive(Debug)]
struct Accepted {
    sample: Parsed,
    le: Option<f64>,
    line: usize,
}

/// The family being read.
#[derive(Debug)]
struct Family {
    name: String,
    first_line: usize,
    help: Option<String>,
    declared: Option<Declared>,
    unit: Option<(String, usize)>,
    /// The sample names that join this family.
    allowed: Vec<String>,
    samples: Vec<Accepted>,
    groups: Grouping,
}

/// Where the samples are in their label groups.
#[derive(Debug, Default)]
struct Grouping {
    current: Option<LabelSet>,
    timestamp: Option<OmTimestamp>,
    seen: HashSet<LabelSet>,
    /// The series read in the current group at its current timestamp.
    series: HashSet<(String, LabelSet)>,
}

impl Family {
    fn new(name: String, line: usize) -> Self {
        Self {
            allowed: vec![name.clone()],
            name,
            first_line: line,
            help: None,
            declared: None,
            unit: None,
            samples: Vec::new(),
            groups: Grouping::default(),
        }
    }

    fn declare(&mut self, type_name: &str, line: usize) -> Result<(), ParseErrorKind> {
        if type_name == "untyped" {
            return Err(ParseErrorKind::UntypedInOpenMetrics);
        }
        self.declared = Some(match type_name.parse() {
            Ok(metric_type) => Declared::Known(metric_type),
            Err(_) => Declared::Invalid { name: type_name.to_owned(), line },
        });
        let suffixes = self.kind().map_or(&[""][..], sample_suffixes);
        self.allowed = suffixes.iter().map(|s| format!("{}{s}", self.name)).collect();
        Ok(())
    }

    fn kind(&self) -> Option<MetricType> {
        match self.declared {
            Some(Declared::Known(metric_type)) => Some(metric_type),
            _ => None,
        }
    }

    /// Checks a sample against the family's type and grouping, and keeps it unless it repeats a
    /// series at the same timestamp.
    fn add(&mut self, sample: Parsed, line: usize) -> Result<(), ParseErrorKind> {
        let kind = self.kind();
        let name = self.name.as_str();
        let sample_name = sample.name.as_str();
        let labels = &sample.labels;
        if kind == Some(MetricType::StateSet) && labels.get(name).is_none() {
            return Err(ParseErrorKind::MissingLabel { label: name.to_owned() });
        }
        let suffix = sample_name.strip_prefix(name);
        let integral = sample.value.integer || sample.value.value.fract() == 0.0;
        let not_integral = || ParseErrorKind::NonIntegerValue { sample: sample_name.to_owned() };
        let le = if suffix == Some("_bucket") {
            let le = bound(labels, "le", |v, bound| v != "NaN" && (bound != f64::INFINITY || v == "+Inf"))?;
            if !integral {
                return Err(not_integral());
            }
            Some(le)
        } else {
            None
        };
        if matches!(suffix, Some("_count" | "_gcount")) && !integral {
            return Err(not_integral());
        }
        if kind == Some(MetricType::Summary) && suffix == Some("") {
            bound(labels, "quantile", |_, q| (0.0..=1.0).contains(&q))?;
        }
        let keep = self.groups.admit(&sample, group_key(kind, name, &sample), kind)?;
        check_value(kind, name, &sample)?;
        if keep {
            self.samples.push(Accepted { sample, le, line });
        }
        Ok(())
    }

    fn build(self, seen_names: &mut HashSet<String>) -> Result<MetricFamily, Error> {
        let kind = self.kind();
        let reserved = kind.map_or(&[][..], sample_suffixes).iter().filter(|s| !s.is_empty());
        for suffix in iter::once(&"").chain(reserved) {
            let full = format!("{}{suffix}", self.name);
            if !seen_names.insert(full.clone()) {
                return Err(at(self.first_line)(ParseErrorKind::DuplicateFamily { name: full }));
            }
        }
        let unit = match self.unit {
            Some((unit, line)) if !unit.is_empty() => {
                if !self.name.ends_with(&format!("_{unit}")) {
                    let name = self.name.clone();
                    return Err(at(line)(ParseErrorKind::UnitMismatch { name, unit }));
                }
                if let Some(metric_type @ (MetricType::Info | MetricType::StateSet)) = kind {
                    return Err(at(line)(ParseErrorKind::UnitNotAllowed { metric_type }));
                }
                unit
            }
            _ => String::new(),
        };
        if matches!(kind, Some(MetricType::Histogram | MetricType::GaugeHistogram)) {
            check_histogram(&self.name, &self.samples)?;
        }
        if self.name.is_empty() {
            return Err(at(self.first_line)(ParseErrorKind::EmptyMetricName));
        }
        let metric_type = match self.declared {
            None => MetricType::Unknown,
            Some(Declared::Known(metric_type)) => metric_type,
            Some(Declared::Invalid { name, line }) => {
                return Err(at(line)(ParseErrorKind::UnknownType { name }));
            }
        };
        let samples = self.samples.into_iter().map(|Accepted { sample: s, .. }| Sample {
            name: SampleName::Full(s.name.into()),
            labels: s.labels,
            extra_label: None,
            value: s.value.value,
            timestamp: s.timestamp.map(OmTimestamp::to_timestamp),
            exemplar: s.exemplar.map(Arc::new),
            native: s.native.map(Arc::new),
        });
        let help = self.help.unwrap_or_default();
        Ok(MetricFamily::from_parts(self.name.into(), help.into(), metric_type, unit.into(), samples.collect()))
    }
}

/// The number in label `label`, which `valid` accepts given its text and value.
fn bound(labels: &LabelSet, label: &str, valid: impl Fn(&str, f64) -> bool) -> Result<f64, ParseErrorKind> {
    let Some(text) = labels.get(label) else {
        return Err(ParseErrorKind::MissingLabel { label: label.to_owned() });
    };
    match py_float(text) {
        Some(value) if valid(text, value) => Ok(value),
        _ => Err(ParseErrorKind::InvalidLabelNumber { label: label.to_owned(), value: text.to_owned() }),
    }
}

/// The labels that identify a sample's group: its labels but the one that tells the samples
/// of one group apart (`le`, `quantile`, a state set's state); none at all for info.
fn group_key(kind: Option<MetricType>, name: &str, sample: &Parsed) -> LabelSet {
    let suffix = sample.name.strip_prefix(name);
    let varying = match kind {
        Some(MetricType::Info) => return LabelSet::EMPTY,
        Some(MetricType::Summary) if suffix == Some("") => "quantile",
        Some(MetricType::StateSet) => name,
        Some(MetricType::Histogram | MetricType::GaugeHistogram) if suffix == Some("_bucket") => "le",
        _ => return sample.labels.clone(),
    };
    without(&sample.labels, varying)
}

fn without(labels: &LabelSet, name: &str) -> LabelSet {
    LabelSet::new(labels.iter().filter(|l| *l.name != *name).map(|l| (l.name.clone(), l.value.clone())))
}

impl Grouping {
    /// Places a sample in its group; `false` when it repeats a series at the same timestamp.
    fn admit(&mut self, sample: &Parsed, key: LabelSet, kind: Option<MetricType>) -> Result<bool, ParseErrorKind> {
        let same_group = self.current.as_ref() == Some(&key);
        if self.current.is_some() && !same_group && self.seen.contains(&key) {
            return Err(ParseErrorKind::InvalidGrouping { sample: sample.name.clone() });
        }
        if same_group {
            match (self.timestamp, sample.timestamp) {
                (None, None) => {}
                (Some(previous), Some(timestamp)) => match previous.is_after(timestamp) {
                    None => return Err(ParseErrorKind::IncomparableTimestamps),
                    Some(true) if kind != Some(MetricType::Info) => {
                        return Err(ParseErrorKind::TimestampsBackwards);
                    }
                    Some(_) => {}
                },
                _ => return Err(ParseErrorKind::MixedTimestampPresence),
            }
        } else {
            self.series.clear();
        }
        let series = (sample.name.clone(), sample.labels.clone());
        // A series seen again at the same timestamp is a duplicate left by timestamp truncation.
        let keep = !OmTimestamp::same(sample.timestamp, self.timestamp) || !self.series.contains(&series);
        self.series.insert(series);
        self.timestamp = sample.timestamp;
        self.seen.insert(key.clone());
        self.current = Some(key);
        Ok(keep)
    }
}

/// The checks on a sample's value and exemplar that its type and suffix call for.
fn check_value(kind: Option<MetricType>, name: &str, sample: &Parsed) -> Result<(), ParseErrorKind> {
    let value = sample.value.value;
    let sample_name = || sample.name.clone();
    if kind == Some(MetricType::StateSet) && value != 0.0 && value != 1.0 {
        return Err(ParseErrorKind::StateNotBoolean { sample: sample_name() });
    }
    if kind == Some(MetricType::Info) && value != 1.0 {
        return Err(ParseErrorKind::InfoValueNotOne { sample: sample_name() });
    }
    if kind == Some(MetricType::Summary) && sample.name == name && value < 0.0 {
        return Err(ParseErrorKind::NegativeValue { sample: sample_name() });
    }
    // `prometheus_client` cuts the family name's length off the sample name, prefix or not.
    let tail =
        sample.name.char_indices().nth(name.chars().count()).map_or("", |(i, _)| sample.name.get(i..).unwrap_or(""));
    let counter_like = ["_total", "_sum", "_count", "_bucket", "_gcount"].contains(&tail);
    if (counter_like || tail == "_gsum") && sample.value.integer && value.is_infinite() {
        return Err(ParseErrorKind::ValueOutOfRange { sample: sample_name() });
    }
    if (counter_like || tail == "_gsum") && value.is_nan() {
        return Err(ParseErrorKind::NanValue { sample: sample_name() });
    }
    if counter_like && value < 0.0 {
        return Err(ParseErrorKind::NegativeValue { sample: sample_name() });
    }
    let may_have_exemplar = match kind {
        Some(MetricType::Histogram) if sample.native.is_some() => true,
        Some(MetricType::Histogram | MetricType::GaugeHistogram) => sample.name.ends_with("_bucket"),
        Some(MetricType::Counter) => sample.name.ends_with("_total"),
        _ => false,
    };
    if sample.exemplar.is_some() && !may_have_exemplar {
        return Err(ParseErrorKind::ExemplarNotAllowed { sample: sample_name() });
    }
    Ok(())
}

/// What one histogram group (one label set at one timestamp) has shown so far.
#[derive(Debug, Default)]
struct HistogramGroup {
    bucket: Option<f64>,
    /// The count of the last bucket.
    value: f64,
    count: Option<f64>,
    negative_buckets: bool,
    sum: bool,
    /// The lowest `_gsum`, when there is one.
    lowest_gsum: Option<f64>,
    /// The line of the group's last sample, where its problems are reported.
    line: usize,
}

fn check_histogram(name: &str, samples: &[Accepted]) -> Result<(), Error> {
    let mut current: Option<(LabelSet, Option<OmTimestamp>)> = None;
    let mut group = HistogramGroup::default();
    for accepted in samples {
        let sample = &accepted.sample;
        let Some(suffix) = sample.name.strip_prefix(name).filter(|s| !s.is_empty()) else {
            continue;
        };
        let key = if suffix == "_bucket" { without(&sample.labels, "le") } else { sample.labels.clone() };
        let same = current.as_ref().is_some_and(|(k, t)| *k == key && OmTimestamp::same(*t, sample.timestamp));
        if !same {
            if current.is_some() {
                group.check(name)?;
            }
            group = HistogramGroup::default();
        }
        current = Some((key, sample.timestamp));
        group.add(name, suffix, accepted)?;
    }
    if current.is_some() {
        group.check(name)?;
    }
    Ok(())
}

impl HistogramGroup {
    fn add(&mut self, name: &str, suffix: &str, accepted: &Accepted) -> Result<(), Error> {
        self.line = accepted.line;
        let fail = at(accepted.line);
        let value = accepted.sample.value.value;
        match suffix {
            "_bucket" => {
                // Every bucket's `le` was checked when it was read.
                let bound = accepted.le.unwrap_or(f64::NAN);
                self.negative_buckets |= bound < 0.0;
                if self.bucket.is_some_and(|previous| bound <= previous) {
                    return Err(fail(ParseErrorKind::BucketsOutOfOrder { name: name.to_owned() }));
                }
                if value < self.value {
                    return Err(fail(ParseErrorKind::BucketCountsDecrease { name: name.to_owned() }));
                }
                self.bucket = Some(bound);
                self.value = value;
            }
            "_count" | "_gcount" => self.count = Some(value),
            "_sum" => self.sum = true,
            "_gsum" => self.lowest_gsum = Some(self.lowest_gsum.map_or(value, |low| low.min(value))),
            _ => {}
        }
        Ok(())
    }

    fn check(&self, name: &str) -> Result<(), Error> {
        let name = name.to_owned();
        let gsum = self.lowest_gsum.is_some();
        let problem = if self.bucket != Some(f64::INFINITY) {
            ParseErrorKind::MissingInfBucket { name }
        } else if self.count.is_some_and(|count| count != self.value) {
            ParseErrorKind::CountMismatch { name }
        } else if (self.sum || gsum) && self.count.is_none() {
            ParseErrorKind::SumWithoutCount { name }
        } else if !(self.sum || gsum) && self.count.is_some() {
            ParseErrorKind::CountWithoutSum { name }
        } else if self.negative_buckets && self.sum {
            ParseErrorKind::SumWithNegativeBuckets { name }
        } else if !self.negative_buckets && self.lowest_gsum.is_some_and(|low| low < 0.0) {
            ParseErrorKind::NegativeGsum { name }
        } else {
            return Ok(());
        };
        Err(at(self.line)(problem))
    }
}

/// Reads `name{labels} {native histogram} [timestamp] [# exemplar]...`, the value at `open`.
fn parse_native_sample(text: &str, open: usize) -> Result<Parsed, ParseErrorKind> {
    let (name, labels, _) = name_and_labels(before(text, open))?;
    if ["_count", "_sum", "_bucket", "_created"].iter().any(|suffix| name.ends_with(suffix)) {
        return Err(ParseErrorKind::InvalidNativeHistogram {
            reason: format!("the sample name {name} of a native histogram has a suffix"),
        });
    }
    let (native, rest) = native_histogram::parse_value(after(text, open - 1))?;
    let mut parts = rest.split(" # ");
    let written = parts.next().unwrap_or("");
    let timestamp = match written {
        "" => None,
        _ => Some(timestamp(written.strip_prefix(' ').ok_or(ParseErrorKind::MissingSpaceAfterLabels)?)?),
    };
    let mut native = native;
    for exemplar in parts {
        native.exemplars.push(Arc::new(parse_exemplar(&format!(" {exemplar}"))?));
    }
    #[allow(clippy::cast_precision_loss)]
    let count = native.count.as_f64();
    Ok(Parsed {
        name,
        labels: LabelSet::new(labels),
        value: Number { value: count, integer: true },
        timestamp,
        exemplar: None,
        native: Some(native),
    })
}

/// A sample line's name, its labels as written, and the rest of the line after their space.
type Head<'a> = (String, Vec<(String, String)>, &'a str);

/// Reads `name{labels} ` (or `name `) at the start of a sample line.
fn name_and_labels(text: &str) -> Result<Head<'_>, ParseErrorKind> {
    let label_start = find_unquoted(text, 0, |c| c == '{').filter(|&i| !before(text, i).contains(" # "));
    if let Some(start) = label_start {
        // `prometheus_client` reads the labels up to the line's first `}`.
        let end = match find_unquoted(text, 0, |c| c == '}') {
            None => return Err(ParseErrorKind::UnclosedLabelSet),
            Some(end) if end < start => {
                return Err(ParseErrorKind::InvalidMetricName { name: before(text, start).to_owned() });
            }
            Some(end) => end,
        };
        let mut labels = parse_labels(text.get(start + 1..end).unwrap_or(""), Dialect::OpenMetrics)?;
        // The text before `{` is the name as it stands; its family checks it.
        let name = take_metric_name(before(text, start), &mut labels)?;
        let rest = after(text, end);
        let rest = match rest.strip_prefix(' ') {
            Some(rest) => rest,
            None if rest.is_empty() => return Err(ParseErrorKind::MissingValue),
            None => return Err(ParseErrorKind::MissingSpaceAfterLabels),
        };
        return Ok((name, labels, rest));
    }
    let Some(end) = find_unquoted(text, 0, |c| c == ' ') else {
        return Err(if is_legacy_metric_name(text) {
            ParseErrorKind::MissingValue
        } else {
            ParseErrorKind::InvalidMetricName { name: text.to_owned() }
        });
    };
    let name = before(text, end);
    if !is_legacy_metric_name(name) {
        return Err(ParseErrorKind::InvalidMetricName { name: name.to_owned() });
    }
    Ok((name.to_owned(), Vec::new(), after(text, end)))
}

/// Reads `name{labels} value [timestamp] [# {labels} value [timestamp]]`.
fn parse_sample(text: &str) -> Result<Parsed, ParseErrorKind> {
    let (name, labels, rest) = name_and_labels(text)?;
    let (value, timestamp, exemplar) = om_value_timestamp_exemplar(rest)?;
    Ok(Parsed { name, labels: LabelSet::new(labels), value, timestamp, exemplar, native: None })
}

#[cfg(test)]
mod tests {
    use std::fmt::Write;
    use std::sync::Arc;

    use proptest::prelude::*;
    use pyrometer_core::float_text::go_float;
    use pyrometer_core::{Exemplar, LabelSet, MetricFamily, MetricType, Sample, Timestamp};

    use crate::parse::ParseErrorKind;
    use crate::parse::test_support::{
        self, OPENMETRICS, Written, any_input, escape, family, help, labels, sample, text_value, value,
    };

    fn with_exemplar(mut sample: Sample, labels: &[(&str, &str)], value: f64, timestamp: Option<Timestamp>) -> Sample {
        let labels = LabelSet::new(labels.iter().copied());
        sample.exemplar = Some(Arc::new(Exemplar { labels, value, timestamp }));
        sample
    }

    fn exact(sec: i64, nsec: u32) -> Timestamp {
        Timestamp::Exact { sec, nsec }
    }

    #[test]
    fn a_counter_with_help_unit_and_created() {
        let input = "# HELP req_seconds Time \\\"spent\\\"\\n\\\\.\n# TYPE req_seconds counter\n# UNIT req_seconds seconds\n\
                     req_seconds_total{path=\"/\"} 1.5\nreq_seconds_created{path=\"/\"} 1700000000.25\n# EOF\n";
        let want = MetricFamily::from_parts(
            "req_seconds".into(),
            "Time \"spent\"\n\\.".into(),
            MetricType::Counter,
            "seconds".into(),
            vec![
                sample("req_seconds_total", &[("path", "/")], 1.5),
                sample("req_seconds_created", &[("path", "/")], 1_700_000_000.25),
            ],
        );
        assert_eq!(OPENMETRICS.parse(input), [want]);
    }

    #[test]
    fn a_histogram_with_exemplars_and_timestamps() {
        let input = "# TYPE h histogram\n\
                     h_bucket{le=\"0.5\"} 1 # {trace=\"a\"} 0.25\n\
                     h_bucket{le=\"+Inf\"} 3 # {trace=\"b\"} 7 1700000000.5\n\
                     h_count 3\nh_sum 9.5\nh_created 1e9\n# EOF\n";
        let want = family(
            "h",
            "",
            MetricType::Histogram,
            vec![
                with_exemplar(sample("h_bucket", &[("le", "0.5")], 1.0), &[("trace", "a")], 0.25, None),
                with_exemplar(
                    sample("h_bucket", &[("le", "+Inf")], 3.0),
                    &[("trace", "b")],
                    7.0,
                    Some(exact(1_700_000_000, 500_000_000)),
                ),
                sample("h_count", &[], 3.0),
                sample("h_sum", &[], 9.5),
                sample("h_created", &[], 1e9),
            ],
        );
        assert_eq!(OPENMETRICS.parse(input), [want]);
    }

    #[test]
    fn gauge_histograms_summaries_infos_and_state_sets() {
        let input = "# TYPE gh gaugehistogram\ngh_bucket{le=\"-1\"} 1\ngh_bucket{le=\"+Inf\"} 2\ngh_gcount 2\ngh_gsum -3\n\
                     # TYPE s summary\ns{quantile=\"0.5\"} 4\ns_count 2\ns_sum 8\n\
                     # TYPE i info\ni_info{version=\"1.0\"} 1\n\
                     # TYPE st stateset\nst{st=\"on\"} 1\nst{st=\"off\"} 0\n# EOF\n";
        let want = [
            family(
                "gh",
                "",
                MetricType::GaugeHistogram,
                vec![
                    sample("gh_bucket", &[("le", "-1")], 1.0),
                    sample("gh_bucket", &[("le", "+Inf")], 2.0),
                    sample("gh_gcount", &[], 2.0),
                    sample("gh_gsum", &[], -3.0),
                ],
            ),
            family(
                "s",
                "",
                MetricType::Summary,
                vec![sample("s", &[("quantile", "0.5")], 4.0), sample("s_count", &[], 2.0), sample("s_sum", &[], 8.0)],
            ),
            family("i", "", MetricType::Info, vec![sample("i_info", &[("version", "1.0")], 1.0)]),
            family(
                "st",
                "",
                MetricType::StateSet,
                vec![sample("st", &[("st", "on")], 1.0), sample("st", &[("st", "off")], 0.0)],
            ),
        ];
        assert_eq!(OPENMETRICS.parse(input), want);
    }

    #[test]
    fn unannounced_samples_and_metadata_without_samples_make_families() {
        let want = [
            family("g", "Only help.", MetricType::Unknown, vec![]),
            family("x", "", MetricType::Unknown, vec![sample("x", &[("a", "b")], 1.0)]),
        ];
        assert_eq!(OPENMETRICS.parse("# HELP g Only help.\nx{a=\"b\"} 1\n# EOF"), want);
        assert_eq!(OPENMETRICS.parse("# EOF\n"), []);
    }

    #[test]
    fn timestamps_keep_their_exact_or_float_form() {
        let families = OPENMETRICS
            .parse("a 1 1700000000\nb 1 1.5\nc 1 1.1234567899\nd 1 1e3\ne 1 .5\nf 1 -1.5\ng 1 -2\nh 1 -0.5\n# EOF\n");
        let stamps: Vec<Option<Timestamp>> = families.iter().map(|f| f.samples[0].timestamp).collect();
        let want = [
            exact(1_700_000_000, 0),
            exact(1, 500_000_000),
            exact(1, 123_456_789),
            Timestamp::Seconds(1000.0),
            Timestamp::Seconds(0.5),
            // Before the epoch, nanoseconds count away from zero, as upstream's `Timestamp`.
            exact(-1, 500_000_000),
            exact(-2, 0),
            // A negative fraction of a second keeps its sign (upstream reads `-0` seconds as 0).
            Timestamp::Seconds(-0.5),
        ];
        assert_eq!(stamps, want.map(Some));
    }

    #[test]
    fn quoted_utf8_names_need_metadata_and_work_in_braces() {
        let input = "# TYPE \"my.gauge\" gauge\n{\"my.gauge\", \"my.label\"=\"v\"} 1\n# EOF\n";
        let want = family("my.gauge", "", MetricType::Gauge, vec![sample("my.gauge", &[("my.label", "v")], 1.0)]);
        assert_eq!(OPENMETRICS.parse(input), [want]);
    }

    #[test]
    fn a_series_repeated_at_the_same_timestamp_is_dropped() {
        let families = OPENMETRICS.parse("a 1\na 2\nb 1 5\nb 2 5\nb 3 6\n# EOF\n");
        let values: Vec<Vec<f64>> = families.iter().map(|f| f.samples.iter().map(|s| s.value).collect()).collect();
        assert_eq!(values, [vec![1.0], vec![1.0, 3.0]]);
    }

    #[test]
    fn info_timestamps_may_go_backwards() {
        assert_eq!(OPENMETRICS.parse("# TYPE i info\ni_info 1 2\ni_info 1 1\n# EOF\n")[0].samples.len(), 2);
    }

    #[test]
    fn exemplar_label_values_may_hold_escaped_quotes() {
        // prometheus_client 0.26 rejects this, which its own exposition writes; we read it.
        let families = OPENMETRICS.parse("# TYPE c counter\nc_total 1 # {t=\"a\\\"b\"} 2\n# EOF\n");
        let exemplar = families[0].samples[0].exemplar.as_deref().map(|e| e.labels.get("t"));
        assert_eq!(exemplar, Some(Some("a\"b")));
    }

    #[test]
    fn structure_errors_are_reported_on_their_line() {
        OPENMETRICS.assert_fails(&[
            ("a 1\n", 2, ParseErrorKind::MissingEof),
            ("", 1, ParseErrorKind::MissingEof),
            ("a 1\n# EOF\nb 1\n", 3, ParseErrorKind::TextAfterEof),
            ("# EOF\n\n", 2, ParseErrorKind::TextAfterEof),
            ("a 1\n\n# EOF\n", 2, ParseErrorKind::BlankLine),
            ("a 1\n# EOF \n", 2, ParseErrorKind::MalformedEof),
        ]);
    }

    #[test]
    fn metadata_errors_are_reported_on_their_line() {
        OPENMETRICS.assert_fails(&[
            ("# HELP a\n# EOF\n", 1, ParseErrorKind::IncompleteMetadata { keyword: "HELP".into() }),
            ("# comment here\n# EOF\n", 1, ParseErrorKind::UnknownMetadata { keyword: "comment".into() }),
            (
                "# HELP a x\n# HELP a y\n# EOF\n",
                2,
                ParseErrorKind::DuplicateMetadata { keyword: "HELP".into(), name: "a".into() },
            ),
            ("# TYPE a gauge\na 1\n# HELP a x\n# EOF\n", 3, ParseErrorKind::MetadataAfterSamples { name: "a".into() }),
            ("# TYPE a bogus\n# EOF\n", 1, ParseErrorKind::UnknownType { name: "bogus".into() }),
            ("# TYPE a untyped\n# EOF\n", 1, ParseErrorKind::UntypedInOpenMetrics),
            ("# TYPE \"\" gauge\n# EOF\n", 1, ParseErrorKind::EmptyMetricName),
            (
                "# TYPE a counter\n# TYPE a_total gauge\n# EOF\n",
                2,
                ParseErrorKind::DuplicateFamily { name: "a_total".into() },
            ),
            (
                "# TYPE a gauge\n# UNIT a seconds\n# EOF\n",
                2,
                ParseErrorKind::UnitMismatch { name: "a".into(), unit: "seconds".into() },
            ),
            (
                "# TYPE a_u info\n# UNIT a_u u\n# EOF\n",
                2,
                ParseErrorKind::UnitNotAllowed { metric_type: MetricType::Info },
            ),
        ]);
    }

    #[test]
    fn name_and_label_errors_are_reported_on_their_line() {
        OPENMETRICS.assert_fails_on_bad_names_and_labels();
        OPENMETRICS.assert_fails(&[
            ("a.b 1\n# EOF\n", 1, ParseErrorKind::InvalidMetricName { name: "a.b".into() }),
            // A quoted name opens a family only when metadata announced it.
            ("{\"a.b\"} 1\n# EOF\n", 1, ParseErrorKind::InvalidMetricName { name: "a.b".into() }),
            ("a{x=\"1\",} 1\n# EOF\n", 1, ParseErrorKind::MisplacedComma),
            ("a{,x=\"1\"} 1\n# EOF\n", 1, ParseErrorKind::MisplacedComma),
            ("a{x=} 1\n# EOF\n", 1, ParseErrorKind::MissingLabelValue { name: "x".into() }),
            ("a{x='1'} 1\n# EOF\n", 1, ParseErrorKind::InvalidLabelValue { name: "x".into() }),
            ("a{x=\"1\",x=\"1\"} 1\n# EOF\n", 1, ParseErrorKind::DuplicateLabel { name: "x".into() }),
        ]);
    }

    #[test]
    fn value_timestamp_and_exemplar_errors_are_reported_on_their_line() {
        let long = format!("# TYPE c counter\nc_total 1 # {{t=\"{}\"}} 1\n# EOF\n", "x".repeat(128));
        OPENMETRICS.assert_fails(&[
            ("a  1\n# EOF\n", 1, ParseErrorKind::MissingValue),
            ("a 1_0\n# EOF\n", 1, ParseErrorKind::InvalidValue { value: "1_0".into() }),
            ("a 1 NaN\n# EOF\n", 1, ParseErrorKind::InvalidTimestamp { value: "NaN".into() }),
            ("a 1 \n# EOF\n", 1, ParseErrorKind::TrailingSpace),
            ("a{}1\n# EOF\n", 1, ParseErrorKind::MissingSpaceAfterLabels),
            ("# TYPE c counter\nc_total 1 # {}1\n# EOF\n", 2, ParseErrorKind::MalformedExemplar),
            (&long, 2, ParseErrorKind::ExemplarTooLong { chars: 129 }),
            (
                "# TYPE c counter\nc_created 1 # {} 1\n# EOF\n",
                2,
                ParseErrorKind::ExemplarNotAllowed { sample: "c_created".into() },
            ),
            ("# TYPE h histogram\nh {count:1,sum:1,schema:0,zero_threshold:0}\n# EOF\n", 2, {
                ParseErrorKind::InvalidNativeHistogram { reason: "missing field zero_count".into() }
            }),
            ("# TYPE h histogram\nh_count {count:1,sum:1,schema:0,zero_threshold:0,zero_count:0}\n# EOF\n", 2, {
                ParseErrorKind::InvalidNativeHistogram {
                    reason: "the sample name h_count of a native histogram has a suffix".into(),
                }
            }),
        ]);
    }

    #[test]
    fn native_histogram_samples_keep_their_buckets_timestamp_and_exemplars() {
        let input = "# TYPE h histogram\n\
                     h{path=\"/a\"} {count:3,sum:2.5,schema:1,zero_threshold:0.001,zero_count:1,positive_spans:[0:2],positive_deltas:[1,0]} 1.5 # {t=\"x\"} 0.5 # {t=\"y\"} 2\n\
                     h_bucket{path=\"/a\",le=\"+Inf\"} 3 1.5\nh_count{path=\"/a\"} 3 1.5\nh_sum{path=\"/a\"} 2.5 1.5\n# EOF\n";
        let families = OPENMETRICS.parse(input);
        let native = families[0].samples[0].native.as_deref().unwrap();
        assert_eq!(families[0].samples[0].value, 3.0);
        assert_eq!(families[0].samples[0].timestamp, Some(exact(1, 500_000_000)));
        assert_eq!(native.positive_counts().unwrap().into_iter().collect::<Vec<_>>(), [(0, 1), (1, 1)]);
        assert_eq!(native.exemplars.iter().map(|e| e.value).collect::<Vec<_>>(), [0.5, 2.0]);
        assert_eq!(families[0].samples.len(), 4);
    }

    #[test]
    fn typed_sample_errors_are_reported_on_their_line() {
        let huge = format!("# TYPE c counter\nc_total {}\n# EOF\n", "9".repeat(400));
        OPENMETRICS.assert_fails(&[
            ("# TYPE s stateset\ns 1\n# EOF\n", 2, ParseErrorKind::MissingLabel { label: "s".into() }),
            (
                "# TYPE h histogram\nh_bucket{le=\"+INF\"} 1\n# EOF\n",
                2,
                ParseErrorKind::InvalidLabelNumber { label: "le".into(), value: "+INF".into() },
            ),
            (
                "# TYPE s summary\ns{quantile=\"2\"} 1\n# EOF\n",
                2,
                ParseErrorKind::InvalidLabelNumber { label: "quantile".into(), value: "2".into() },
            ),
            ("# TYPE s summary\ns_count 1.5\n# EOF\n", 2, ParseErrorKind::NonIntegerValue { sample: "s_count".into() }),
            ("# TYPE c counter\nc_total -1\n# EOF\n", 2, ParseErrorKind::NegativeValue { sample: "c_total".into() }),
            ("# TYPE c counter\nc_total NaN\n# EOF\n", 2, ParseErrorKind::NanValue { sample: "c_total".into() }),
            (&huge, 2, ParseErrorKind::ValueOutOfRange { sample: "c_total".into() }),
            ("# TYPE s stateset\ns{s=\"a\"} 2\n# EOF\n", 2, ParseErrorKind::StateNotBoolean { sample: "s".into() }),
            ("# TYPE i info\ni_info 2\n# EOF\n", 2, ParseErrorKind::InfoValueNotOne { sample: "i_info".into() }),
        ]);
    }

    #[test]
    fn grouping_errors_are_reported_on_their_line() {
        OPENMETRICS.assert_fails(&[
            (
                "a{x=\"1\"} 1\na{x=\"2\"} 1\na{x=\"1\"} 1\n# EOF\n",
                3,
                ParseErrorKind::InvalidGrouping { sample: "a".into() },
            ),
            ("a 1 1\na 1\n# EOF\n", 2, ParseErrorKind::MixedTimestampPresence),
            ("a 1 2\na 1 1\n# EOF\n", 2, ParseErrorKind::TimestampsBackwards),
            ("a 1 1e3\na 1 1000\n# EOF\n", 2, ParseErrorKind::IncomparableTimestamps),
        ]);
    }

    #[test]
    fn histogram_errors_are_reported_on_their_line() {
        use ParseErrorKind::{
            BucketCountsDecrease, BucketsOutOfOrder, CountMismatch, CountWithoutSum, MissingInfBucket, NegativeGsum,
            SumWithNegativeBuckets, SumWithoutCount,
        };
        let h = || "h".to_owned();
        // The samples of the histogram `h`, and the line of the whole input that is rejected.
        let histograms = [
            ("h_bucket{le=\"1\"} 0", 2, MissingInfBucket { name: h() }),
            ("h_bucket{le=\"2\"} 0\nh_bucket{le=\"1\"} 0\nh_bucket{le=\"+Inf\"} 0", 3, BucketsOutOfOrder { name: h() }),
            ("h_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1", 3, BucketCountsDecrease { name: h() }),
            ("h_bucket{le=\"+Inf\"} 1\nh_count 2\nh_sum 1", 4, CountMismatch { name: h() }),
            ("h_bucket{le=\"+Inf\"} 1\nh_sum 1", 3, SumWithoutCount { name: h() }),
            ("h_bucket{le=\"+Inf\"} 1\nh_count 1", 3, CountWithoutSum { name: h() }),
            (
                "h_bucket{le=\"-1\"} 1\nh_bucket{le=\"+Inf\"} 1\nh_count 1\nh_sum 1",
                5,
                SumWithNegativeBuckets { name: h() },
            ),
        ];
        for (samples, line, kind) in histograms {
            let input = format!("# TYPE h histogram\n{samples}\n# EOF\n");
            assert_eq!(OPENMETRICS.failure(&input), (line, kind), "{input:?}");
        }
        let gauge_histogram = "# TYPE h gaugehistogram\nh_bucket{le=\"+Inf\"} 1\nh_gcount 1\nh_gsum -1\n# EOF\n";
        OPENMETRICS.assert_fails(&[(gauge_histogram, 4, NegativeGsum { name: h() })]);
    }

    #[test]
    fn off_by_one_acceptances_of_prometheus_client_are_rejected() {
        OPENMETRICS.assert_fails(&[
            // prometheus_client reads these as `in 1`, `a{} 1` and a timestamp of 5.
            ("inf\n# EOF\n", 1, ParseErrorKind::MissingValue),
            ("a{}x1\n# EOF\n", 1, ParseErrorKind::MissingSpaceAfterLabels),
            ("a 1 5\"x\n# EOF\n", 1, ParseErrorKind::InvalidTimestamp { value: "5\"x".into() }),
        ]);
    }

    /// A series of a random family, written as `prometheus_client` writes `OpenMetrics`.
    #[derive(Debug, Clone)]
    struct Series {
        labels: Vec<(String, String)>,
        value: f64,
        timestamp: Option<(i64, u32)>,
        exemplar: Option<Exemplar>,
    }

    fn short_labels(max: usize) -> impl Strategy<Value = Vec<(String, String)>> {
        labels("l[a-z0-9_]{0,3}", text_value(&[]), max)
    }

    fn exemplar() -> impl Strategy<Value = Exemplar> {
        let timestamp = prop::option::of((0..2_000_000_000i64, 0..1_000_000_000u32));
        (short_labels(4), value(), timestamp).prop_map(|(labels, value, timestamp)| Exemplar {
            labels: LabelSet::new(labels),
            value,
            timestamp: timestamp.map(|(sec, nsec)| Timestamp::Exact { sec, nsec }),
        })
    }

    fn written() -> impl Strategy<Value = Written<Series>> {
        let help = help().prop_map(|h| h.trim_start_matches(' ').to_owned());
        let timestamp = prop::option::of((-(10i64.pow(12))..10i64.pow(12), 0..1_000_000_000u32));
        let series = (short_labels(3), value(), timestamp, prop::option::of(exemplar()))
            .prop_map(|(labels, value, timestamp, exemplar)| Series { labels, value, timestamp, exemplar });
        test_support::written(vec![MetricType::Counter, MetricType::Gauge], help, series)
    }

    fn label_set(labels: impl Iterator<Item = (String, String)>) -> String {
        labels.map(|(n, v)| format!("{n}=\"{}\"", escape(&v, true))).collect::<Vec<_>>().join(",")
    }

    fn write(i: usize, w: &Written<Series>) -> (String, MetricFamily) {
        let base = if w.utf8_name { format!("f{i}.dotted") } else { format!("f{i}") };
        let quoted = if w.utf8_name { format!("\"{base}\"") } else { base.clone() };
        let counter = w.metric_type == MetricType::Counter;
        let (type_name, sample_name) =
            if counter { ("counter", format!("{base}_total")) } else { ("gauge", base.clone()) };
        let mut text = format!("# HELP {quoted} {}\n# TYPE {quoted} {type_name}\n", escape(&w.help, true));
        let mut samples = Vec::new();
        for (j, series) in w.series.iter().enumerate() {
            // A label unique to the series keeps every series its own group.
            let mut labels = series.labels.clone();
            labels.push(("series".into(), j.to_string()));
            // Counters are never negative or NaN; only they carry exemplars here.
            let value = if counter && (series.value.is_nan() || series.value < 0.0) { 0.0 } else { series.value };
            let exemplar = series.exemplar.clone().filter(|_| counter);
            let inside = label_set(labels.iter().cloned());
            if w.utf8_name {
                let _ = write!(text, "{{\"{sample_name}\",{inside}}}");
            } else {
                let _ = write!(text, "{sample_name}{{{inside}}}");
            }
            let _ = write!(text, " {}", go_float(value));
            if let Some((sec, nsec)) = series.timestamp {
                let _ = write!(text, " {sec}.{nsec:09}");
            }
            if let Some(e) = &exemplar {
                let inside = label_set(e.labels.iter().map(|l| (l.name.to_string(), l.value.to_string())));
                let _ = write!(text, " # {{{inside}}} {}", go_float(e.value));
                if let Some(Timestamp::Exact { sec, nsec }) = e.timestamp {
                    let _ = write!(text, " {sec}.{nsec:09}");
                }
            }
            text.push('\n');
            let mut s = sample(&sample_name, &[], value);
            s.labels = LabelSet::new(labels);
            // Before the epoch the nanoseconds count away from zero, as written (`-1.5`).
            s.timestamp = series.timestamp.map(|(sec, nsec)| exact(sec, nsec));
            s.exemplar = exemplar.map(Arc::new);
            samples.push(s);
        }
        (text, family(&base, &w.help, w.metric_type, samples))
    }

    /// Any line after one of a few `# TYPE` lines, then `# EOF`.
    fn any_typed_input() -> impl Strategy<Value = String> {
        let typed = prop::sample::select(vec!["", "# TYPE a histogram\n", "# TYPE a counter\n", "# TYPE a info\n"]);
        (typed, any_input(&[])).prop_map(|(typed, line)| format!("{typed}{line}\n# EOF\n"))
    }

    test_support::properties!(OPENMETRICS, written(), write, any_typed_input());
}
