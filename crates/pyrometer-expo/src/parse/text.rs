//! Prometheus text format 0.0.4 parser.
//!
//! It accepts what `prometheus_client.parser.text_string_to_metric_families` accepts, which is
//! laxer than the Go parser, and groups samples into families the same way:
//!
//! - `# HELP` and `# TYPE` open a family when they name a new metric; other comments are ignored.
//! - Samples join the open family when their name is one its type allows (`x`, and `x_count`,
//!   `x_sum` for summaries; `x_count`, `x_sum`, `x_bucket` for histograms). Any other sample
//!   closes it and becomes a family of its own, of type `unknown`, one per sample.
//! - A counter family named `x_total` is called `x`; a counter named `x` has its samples renamed
//!   `x_total`, which is how `OpenMetrics` names them.
//! - A sample's value comes first after its labels; when more fields follow, the last one is the
//!   timestamp, in milliseconds, and is read as seconds.
//!
//! Where it differs: a line with no space or tab after its name (`inf`) is rejected, where
//! `prometheus_client` drops the name's last character and reads the line as the value; numbers
//! take ASCII digits only; integers beyond `f64` become infinite.

use std::sync::Arc;

use pyrometer_core::name::is_legacy_metric_name;
use pyrometer_core::{LabelSet, MetricFamily, MetricType, Sample, SampleName, Timestamp};

use super::lexer::{
    Dialect, after, before, find_unquoted, is_ascii_space, metric_name, parse_labels, py_strip, split_quoted,
    take_metric_name, text_value_and_timestamp, unescape,
};
use super::{ParseErrorKind, at};
use crate::Error;

/// Parses a Prometheus text format 0.0.4 exposition into metric families, in input order.
///
/// Samples carry their full names and all their labels; timestamps are
/// [`Timestamp::Seconds`].
pub fn parse_text(input: &str) -> Result<Vec<MetricFamily>, Error> {
    let mut parser = Parser::default();
    for (index, raw) in input.split_inclusive('\n').enumerate() {
        parser.line(py_strip(raw), index + 1)?;
    }
    parser.close()?;
    Ok(parser.families)
}

/// A sample as read, before its family settles its name.
#[derive(Debug)]
struct Parsed {
    name: String,
    labels: LabelSet,
    value: f64,
    timestamp: Option<f64>,
}

/// A `# TYPE` as written, checked when its family is built, as `prometheus_client` does.
#[derive(Debug)]
struct Declared {
    name: String,
    line: usize,
}

/// The family being read. An empty name means none: `prometheus_client` never builds it.
#[derive(Debug, Default)]
struct Parser {
    families: Vec<MetricFamily>,
    name: String,
    help: String,
    declared: Option<Declared>,
    samples: Vec<Parsed>,
    allowed: Vec<String>,
    first_line: usize,
}

impl Parser {
    fn line(&mut self, line: &str, line_no: usize) -> Result<(), Error> {
        if line.starts_with('#') {
            self.comment(line, line_no)
        } else if line.is_empty() {
            Ok(())
        } else {
            let sample = parse_sample(line).map_err(at(line_no))?;
            if self.allowed.contains(&sample.name) {
                self.samples.push(sample);
                return Ok(());
            }
            self.close()?;
            *self = Self { families: std::mem::take(&mut self.families), ..Self::default() };
            let name = sample.name.clone();
            let family = build(name, String::new(), None, vec![sample], line_no)?;
            self.families.push(family);
            Ok(())
        }
    }

    fn comment(&mut self, line: &str, line_no: usize) -> Result<(), Error> {
        let words = split_quoted(line, is_ascii_space, 3);
        let keyword = words.get(1).copied().unwrap_or("");
        if keyword != "HELP" && keyword != "TYPE" {
            return Ok(());
        }
        // `# HELP` alone names the empty metric, which closes the open family.
        let name = match words.get(2) {
            Some(token) => metric_name(token).map_err(at(line_no))?,
            None => String::new(),
        };
        let value = words.get(3).copied();
        if keyword == "HELP" {
            if name != self.name {
                self.open(name, line_no)?;
                self.allowed = vec![self.name.clone()];
            }
            self.help = value.map(|help| unescape(help, false).into_owned()).unwrap_or_default();
        } else {
            let Some(type_name) = value else {
                let keyword = keyword.to_owned();
                return Err(at(line_no)(ParseErrorKind::IncompleteMetadata { keyword }));
            };
            if name != self.name {
                self.open(name, line_no)?;
            }
            let suffixes: &[&str] = match type_name {
                "summary" => &["_count", "_sum", ""],
                "histogram" => &["_count", "_sum", "_bucket"],
                _ => &[""],
            };
            self.allowed = suffixes.iter().map(|s| format!("{}{s}", self.name)).collect();
            self.declared = Some(Declared { name: type_name.to_owned(), line: line_no });
        }
        Ok(())
    }

    /// Closes the open family and opens an untyped one called `name`.
    fn open(&mut self, name: String, line_no: usize) -> Result<(), Error> {
        self.close()?;
        self.name = name;
        self.help.clear();
        self.declared = None;
        self.first_line = line_no;
        Ok(())
    }

    /// Builds the open family, if it has a name.
    fn close(&mut self) -> Result<(), Error> {
        let samples = std::mem::take(&mut self.samples);
        if self.name.is_empty() {
            return Ok(());
        }
        let name = std::mem::take(&mut self.name);
        let help = std::mem::take(&mut self.help);
        let family = build(name, help, self.declared.take(), samples, self.first_line)?;
        self.families.push(family);
        Ok(())
    }
}

fn build(
    mut name: String,
    help: String,
    declared: Option<Declared>,
    mut samples: Vec<Parsed>,
    first_line: usize,
) -> Result<MetricFamily, Error> {
    if declared.as_ref().is_some_and(|d| d.name == "counter") {
        match name.strip_suffix("_total") {
            Some(base) => name.truncate(base.len()),
            None => samples.iter_mut().for_each(|s| s.name.push_str("_total")),
        }
    }
    if name.is_empty() {
        return Err(at(first_line)(ParseErrorKind::EmptyMetricName));
    }
    let metric_type = match declared {
        None => MetricType::Unknown,
        Some(Declared { name, line }) => {
            name.parse().map_err(|_| at(line)(ParseErrorKind::UnknownType { name: name.clone() }))?
        }
    };
    let samples = samples.into_iter().map(into_sample).collect();
    Ok(MetricFamily::from_parts(name.into(), help.into(), metric_type, Arc::from(""), samples))
}

fn into_sample(parsed: Parsed) -> Sample {
    Sample {
        name: SampleName::Full(parsed.name.into()),
        labels: parsed.labels,
        extra_label: None,
        value: parsed.value,
        timestamp: parsed.timestamp.map(Timestamp::Seconds),
        exemplar: None,
        native: None,
    }
}

/// Reads `name{labels} value [timestamp]` from a stripped line.
fn parse_sample(text: &str) -> Result<Parsed, ParseErrorKind> {
    // A `{` after ` # ` starts an exemplar, which this format ignores, not a label set.
    let label_start = find_unquoted(text, 0, |c| c == '{').filter(|&i| !before(text, i).contains(" # "));
    let Some(start) = label_start else {
        let Some(end) = find_unquoted(text, 0, |c| c == ' ' || c == '\t') else {
            return Err(if is_legacy_metric_name(text) {
                ParseErrorKind::MissingValue
            } else {
                ParseErrorKind::InvalidMetricName { name: text.to_owned() }
            });
        };
        let name = py_strip(before(text, end));
        if !is_legacy_metric_name(name) {
            return Err(ParseErrorKind::InvalidMetricName { name: name.to_owned() });
        }
        let (value, timestamp) = text_value_and_timestamp(after(text, end))?;
        return Ok(Parsed { name: name.to_owned(), labels: LabelSet::EMPTY, value, timestamp });
    };
    let end = find_unquoted(text, start, |c| c == '}').ok_or(ParseErrorKind::UnclosedLabelSet)?;
    let mut labels = parse_labels(text.get(start + 1..end).unwrap_or(""), Dialect::Text)?;
    // The text before `{` is the name as it stands, checked by nothing but its family.
    let name = take_metric_name(py_strip(before(text, start)), &mut labels)?;
    let (value, timestamp) = text_value_and_timestamp(after(text, end))?;
    Ok(Parsed { name, labels: LabelSet::new(labels), value, timestamp })
}

#[cfg(test)]
mod tests {
    use std::fmt::Write;

    use proptest::prelude::*;
    use pyrometer_core::float_text::go_float;
    use pyrometer_core::{LabelSet, MetricFamily, MetricType, Sample, Timestamp};

    use crate::parse::ParseErrorKind;
    use crate::parse::test_support::{
        self, TEXT, Written, any_input, escape, family, help, labels, sample, text_value, value,
    };

    fn at(mut sample: Sample, seconds: f64) -> Sample {
        sample.timestamp = Some(Timestamp::Seconds(seconds));
        sample
    }

    #[test]
    fn a_gauge_with_help_and_type_is_one_family() {
        let input = "# HELP temp Temperature.\n# TYPE temp gauge\ntemp{room=\"a\"} 21.5\ntemp{room=\"b\"} -3\n";
        let want = family(
            "temp",
            "Temperature.",
            MetricType::Gauge,
            vec![sample("temp", &[("room", "a")], 21.5), sample("temp", &[("room", "b")], -3.0)],
        );
        assert_eq!(TEXT.parse(input), [want]);
    }

    #[test]
    fn counters_are_named_without_total_and_their_samples_with_it() {
        let with_suffix = TEXT.parse("# TYPE c_total counter\nc_total 1\n");
        assert_eq!(with_suffix, [family("c", "", MetricType::Counter, vec![sample("c_total", &[], 1.0)])]);
        let without = TEXT.parse("# TYPE c counter\nc{a=\"b\"} 2\n");
        assert_eq!(without, [family("c", "", MetricType::Counter, vec![sample("c_total", &[("a", "b")], 2.0)])]);
    }

    #[test]
    fn summary_and_histogram_samples_join_their_family_and_created_does_not() {
        let input = "# TYPE s summary\ns{quantile=\"0.5\"} 1\ns_count 2\ns_sum 3\ns_created 4\n\
                     # TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_count 2\nh_sum 1.5\n";
        let want = [
            family(
                "s",
                "",
                MetricType::Summary,
                vec![sample("s", &[("quantile", "0.5")], 1.0), sample("s_count", &[], 2.0), sample("s_sum", &[], 3.0)],
            ),
            family("s_created", "", MetricType::Unknown, vec![sample("s_created", &[], 4.0)]),
            family(
                "h",
                "",
                MetricType::Histogram,
                vec![
                    sample("h_bucket", &[("le", "+Inf")], 2.0),
                    sample("h_count", &[], 2.0),
                    sample("h_sum", &[], 1.5),
                ],
            ),
        ];
        assert_eq!(TEXT.parse(input), want);
    }

    #[test]
    fn samples_without_metadata_become_one_unknown_family_each() {
        let want = [
            family("a", "", MetricType::Unknown, vec![sample("a", &[], 1.0)]),
            family("a", "", MetricType::Unknown, vec![sample("a", &[], 2.0)]),
        ];
        assert_eq!(TEXT.parse("a 1\na 2\n"), want);
    }

    #[test]
    fn a_sample_of_another_name_closes_the_family() {
        let families = TEXT.parse("# TYPE g gauge\ng 1\nother 2\ng 3\n");
        let names: Vec<(&str, MetricType)> = families.iter().map(|f| (&*f.name, f.metric_type)).collect();
        assert_eq!(names, [("g", MetricType::Gauge), ("other", MetricType::Unknown), ("g", MetricType::Unknown)]);
    }

    #[test]
    fn untyped_and_other_types_prometheus_client_knows_are_accepted() {
        let families = TEXT.parse("# TYPE u untyped\nu 1\n# TYPE i info\ni 1\n# TYPE n unknown\nn 1\n");
        let types: Vec<MetricType> = families.iter().map(|f| f.metric_type).collect();
        assert_eq!(types, [MetricType::Unknown, MetricType::Info, MetricType::Unknown]);
    }

    #[test]
    fn label_values_unescape_backslash_newline_and_quote_and_keep_other_escapes() {
        let families = TEXT.parse("a{x=\"a\\\\b\\nc\\\"d\\t\"} 1\n");
        assert_eq!(families[0].samples[0].labels.get("x"), Some("a\\b\nc\"d\\t"));
    }

    #[test]
    fn help_unescapes_backslash_and_newline_but_keeps_escaped_quotes() {
        let families = TEXT.parse("# HELP a help\\\\ \\n \\\" x\na 1\n");
        assert_eq!(&*families[0].help, "help\\ \n \\\" x");
    }

    #[test]
    fn help_words_are_separated_by_any_ascii_whitespace_and_the_help_keeps_inner_spaces() {
        let families = TEXT.parse("#\tHELP   a  two   words\na 1\n");
        assert_eq!(&*families[0].help, "two   words");
    }

    #[test]
    fn quoted_utf8_names_work_in_braces_and_in_metadata() {
        let input = "# HELP \"my.metric\" Dotted.\n# TYPE \"my.metric\" gauge\n{\"my.metric\", \"my.label\"=\"v\"} 1\n";
        let want =
            family("my.metric", "Dotted.", MetricType::Gauge, vec![sample("my.metric", &[("my.label", "v")], 1.0)]);
        assert_eq!(TEXT.parse(input), [want]);
        let unannounced = TEXT.parse("{__name__=\"x.y\"} 2\n");
        assert_eq!(unannounced, [family("x.y", "", MetricType::Unknown, vec![sample("x.y", &[], 2.0)])]);
    }

    #[test]
    fn timestamps_are_milliseconds_read_as_seconds() {
        let families = TEXT.parse("a 1 1700000000123\nb 2 -1500\nc 3 1e3\n");
        let stamps: Vec<Option<Timestamp>> = families.iter().map(|f| f.samples[0].timestamp).collect();
        let want = [1_700_000_000.123, -1.5, 1.0].map(|s| Some(Timestamp::Seconds(s)));
        assert_eq!(stamps, want);
    }

    #[test]
    fn the_last_of_several_fields_is_the_timestamp_and_an_exemplar_is_not_read() {
        assert_eq!(TEXT.parse("a 1 2 3\n")[0].samples, [at(sample("a", &[], 1.0), 0.003)]);
        assert_eq!(TEXT.parse("a 1 # {t=\"x\"} 7\n")[0].samples, [at(sample("a", &[], 1.0), 0.007)]);
    }

    #[test]
    fn special_values_read_in_any_case() {
        let families = TEXT.parse("a NaN\nb +Inf\nc -Inf\nd inf\ne -nan\nf 1e3\ng 12345678901234567890\n");
        let values: Vec<f64> = families.iter().map(|f| f.samples[0].value).collect();
        assert!(values[0].is_nan() && values[4].is_nan());
        assert_eq!(values[1..4], [f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY]);
        assert_eq!(values[5..], [1000.0, 1.234_567_890_123_456_8e19]);
    }

    #[test]
    fn whitespace_tabs_crlf_blank_lines_and_comments_are_tolerated() {
        let input = "\n# a comment\n#\n  a\t1\t2000  \r\nb{x=\"1\"}\t3\n";
        let want = [
            family("a", "", MetricType::Unknown, vec![at(sample("a", &[], 1.0), 2.0)]),
            family("b", "", MetricType::Unknown, vec![sample("b", &[("x", "1")], 3.0)]),
        ];
        assert_eq!(TEXT.parse(input), want);
    }

    #[test]
    fn label_sets_are_read_laxly() {
        let families = TEXT.parse("a{x=\"1\",} 1\nb{,x=\"1\"} 1\nc{x=} 1\nd{ x = \"1\" , y:z=\"2\" }1\n");
        let labels: Vec<&LabelSet> = families.iter().map(|f| &f.samples[0].labels).collect();
        let one = LabelSet::new([("x", "1")]);
        assert_eq!(labels, [&one, &one, &LabelSet::EMPTY, &LabelSet::new([("x", "1"), ("y:z", "2")])]);
    }

    #[test]
    fn the_text_before_a_label_set_is_the_name_as_it_stands() {
        assert_eq!(TEXT.parse("foo bar{} 1\n")[0].name.as_ref(), "foo bar");
    }

    #[test]
    fn help_without_a_name_closes_the_family() {
        let families = TEXT.parse("# TYPE g gauge\n# HELP\ng 1\n");
        assert_eq!(
            families,
            [
                family("g", "", MetricType::Gauge, vec![]),
                family("g", "", MetricType::Unknown, vec![sample("g", &[], 1.0)])
            ]
        );
    }

    #[test]
    fn metadata_errors_are_reported_on_their_line() {
        TEXT.assert_fails(&[
            ("# HELP a.b x\n", 1, ParseErrorKind::InvalidMetricName { name: "a.b".into() }),
            ("# HELP \"a b\n", 1, ParseErrorKind::InvalidMetricName { name: "\"a b".into() }),
            ("a 1\n# TYPE a\n", 2, ParseErrorKind::IncompleteMetadata { keyword: "TYPE".into() }),
            // An unknown type fails when its family closes, on the `# TYPE` line.
            ("# TYPE a bogus\na 1\nb 2\n", 1, ParseErrorKind::UnknownType { name: "bogus".into() }),
            ("x 1\n# TYPE _total counter\n", 2, ParseErrorKind::EmptyMetricName),
            ("x 1\n{__name__=\"\"} 1\n", 2, ParseErrorKind::EmptyMetricName),
        ]);
    }

    #[test]
    fn name_and_label_set_errors_are_reported_on_their_line() {
        TEXT.assert_fails_on_bad_names_and_labels();
        TEXT.assert_fails(&[
            ("a 1\nb.c 1\n", 2, ParseErrorKind::InvalidMetricName { name: "b.c".into() }),
            ("\n\na{x=\"1\",,y=\"2\"} 1\n", 3, ParseErrorKind::MisplacedComma),
            ("a{x=1} 1\n", 1, ParseErrorKind::InvalidLabelValue { name: "x".into() }),
            ("a{x=\"1\" y=\"2\"} 1\n", 1, ParseErrorKind::InvalidLabelValue { name: "x".into() }),
        ]);
    }

    #[test]
    fn value_and_timestamp_errors_are_reported_on_their_line() {
        TEXT.assert_fails(&[
            ("a{}\n", 1, ParseErrorKind::MissingValue),
            ("a 1_0\n", 1, ParseErrorKind::InvalidValue { value: "1_0".into() }),
            ("a 0x10\n", 1, ParseErrorKind::InvalidValue { value: "0x10".into() }),
            ("a 1 soon\n", 1, ParseErrorKind::InvalidTimestamp { value: "soon".into() }),
        ]);
        // An integer whose milliseconds overflow a float as seconds, as Python's int division does.
        let huge = format!("a 1 {}\n", "9".repeat(400));
        assert_eq!(TEXT.failure(&huge), (1, ParseErrorKind::InvalidTimestamp { value: "9".repeat(400) }));
    }

    #[test]
    fn a_bare_word_is_not_a_sample() {
        // prometheus_client reads `inf` as a sample `in` of value +Inf: an off-by-one we do not keep.
        assert_eq!(TEXT.failure("inf\n"), (1, ParseErrorKind::MissingValue));
    }

    /// A series of a random family, written as `prometheus_client` writes the text format.
    #[derive(Debug, Clone)]
    struct Series {
        labels: Vec<(String, String)>,
        value: f64,
        millis: Option<i64>,
    }

    fn written() -> impl Strategy<Value = Written<Series>> {
        let help = help().prop_map(|h| h.trim_matches(' ').to_owned());
        let labels = labels("l[a-z0-9_]{0,5}", text_value(&['\t']), 4);
        let series = (labels, value(), prop::option::of(-(10i64.pow(15))..10i64.pow(15)))
            .prop_map(|(labels, value, millis)| Series { labels, value, millis });
        test_support::written(vec![MetricType::Gauge, MetricType::Counter, MetricType::Unknown], help, series)
    }

    fn write(i: usize, w: &Written<Series>) -> (String, MetricFamily) {
        let base = if w.utf8_name { format!("f{i}.dotted") } else { format!("f{i}") };
        let (type_name, sample_name) = match w.metric_type {
            MetricType::Counter => ("counter", format!("{base}_total")),
            MetricType::Gauge => ("gauge", base.clone()),
            _ => ("untyped", base.clone()),
        };
        let quoted = if w.utf8_name { format!("\"{sample_name}\"") } else { sample_name.clone() };
        let mut text = format!("# HELP {quoted} {}\n# TYPE {quoted} {type_name}\n", escape(&w.help, false));
        let mut samples = Vec::new();
        for Series { labels, value, millis } in &w.series {
            let mut terms: Vec<String> = labels.iter().map(|(n, v)| format!("{n}=\"{}\"", escape(v, true))).collect();
            if w.utf8_name {
                terms.insert(0, quoted.clone());
            }
            let braces =
                if terms.is_empty() && !w.utf8_name { String::new() } else { format!("{{{}}}", terms.join(",")) };
            let name = if w.utf8_name { "" } else { sample_name.as_str() };
            let stamp = millis.map(|ms| format!(" {ms}")).unwrap_or_default();
            let _ = writeln!(text, "{name}{braces} {}{stamp}", go_float(*value));
            let mut s = sample(&sample_name, &[], *value);
            s.labels = LabelSet::new(labels.iter().map(|(n, v)| (n.as_str(), v.as_str())));
            s.timestamp = millis.map(|ms| Timestamp::Seconds(ms as f64 / 1000.0));
            samples.push(s);
        }
        (text, family(&base, &w.help, w.metric_type, samples))
    }

    test_support::properties!(TEXT, written(), write, any_input(&['\t']));
}
