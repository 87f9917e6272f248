//! Builders, assertions and `proptest` strategies shared by the tests of both parsers.

use std::fmt::Debug;

use proptest::prelude::*;
use pyrometer_core::{LabelSet, MetricFamily, MetricType, Sample, SampleName};

use crate::Error;
use crate::parse::ParseErrorKind;
use crate::parse::openmetrics::parse_openmetrics;
use crate::parse::text::parse_text;

/// A parser under test, with what the tests ask of it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Format {
    parser: fn(&str) -> Result<Vec<MetricFamily>, Error>,
    /// What ends a whole input after its last sample line.
    end: &'static str,
}

/// The text format's parser.
pub(crate) const TEXT: Format = Format { parser: parse_text, end: "" };

/// The `OpenMetrics` parser.
pub(crate) const OPENMETRICS: Format = Format { parser: parse_openmetrics, end: "# EOF\n" };

impl Format {
    /// The families read from `input`, which must be accepted.
    pub(crate) fn parse(self, input: &str) -> Vec<MetricFamily> {
        match (self.parser)(input) {
            Ok(families) => families,
            Err(e) => panic!("{input:?} was rejected: {e}"),
        }
    }

    /// The line and kind of the problem found in `input`, which must be rejected.
    pub(crate) fn failure(self, input: &str) -> (usize, ParseErrorKind) {
        match (self.parser)(input) {
            Err(Error::Parse { line, kind }) => (line, kind),
            other => panic!("{input:?} gave {other:?}"),
        }
    }

    /// Parses `input`, whatever comes of it.
    pub(crate) fn try_parse(self, input: &str) -> Result<Vec<MetricFamily>, Error> {
        (self.parser)(input)
    }

    /// Asserts that each input is rejected on the given line for the given reason.
    pub(crate) fn assert_fails(self, cases: &[(&str, usize, ParseErrorKind)]) {
        for (input, line, kind) in cases {
            assert_eq!(self.failure(input), (*line, kind.clone()), "{input:?}");
        }
    }

    /// Asserts that samples whose names or label sets both formats reject alike are rejected, each alone.
    pub(crate) fn assert_fails_on_bad_names_and_labels(self) {
        for (sample, kind) in [
            ("{a=\"b\"} 1", ParseErrorKind::MissingMetricName),
            ("a{__name__=\"a\"} 1", ParseErrorKind::MetricNameTwice),
            ("a{x=\"1\" 1", ParseErrorKind::UnclosedLabelSet),
            ("a{1=\"1\"} 1", ParseErrorKind::InvalidLabelName { name: "1".into() }),
            ("a{__x=\"1\"} 1", ParseErrorKind::ReservedLabelName { name: "__x".into() }),
            ("a{x=\"1\",x=\"2\"} 1", ParseErrorKind::DuplicateLabel { name: "x".into() }),
        ] {
            let input = format!("{sample}\n{}", self.end);
            assert_eq!(self.failure(&input), (1, kind), "{input:?}");
        }
    }

    /// Checks that the families `write` writes, in turn and numbered from 0, parse back to the families it says
    /// they are, where a NaN matches a NaN.
    pub(crate) fn check_parses_back<S>(
        self,
        families: &[Written<S>],
        write: fn(usize, &Written<S>) -> (String, MetricFamily),
    ) -> Result<(), TestCaseError> {
        let (texts, want): (Vec<String>, Vec<MetricFamily>) =
            families.iter().enumerate().map(|(i, w)| write(i, w)).unzip();
        let input = &(texts.concat() + self.end);
        let got = (self.parser)(input).map_err(|e| TestCaseError::fail(format!("{e} in {input:?}")))?;
        prop_assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(&want) {
            prop_assert_eq!((&g.name, &g.help, g.metric_type, &g.unit), (&w.name, &w.help, w.metric_type, &w.unit));
            prop_assert_eq!(g.samples.len(), w.samples.len());
            for (gs, ws) in g.samples.iter().zip(&w.samples) {
                prop_assert!(same_sample(gs, ws), "{:?} != {:?} in {:?}", gs, ws, input);
            }
        }
        Ok(())
    }
}

/// A sample with no timestamp and no exemplar.
pub(crate) fn sample(name: &str, labels: &[(&str, &str)], value: f64) -> Sample {
    Sample {
        name: SampleName::Full(name.into()),
        labels: LabelSet::new(labels.iter().copied()),
        extra_label: None,
        value,
        timestamp: None,
        exemplar: None,
        native: None,
    }
}

/// A family with no unit.
pub(crate) fn family(name: &str, help: &str, metric_type: MetricType, samples: Vec<Sample>) -> MetricFamily {
    MetricFamily::from_parts(name.into(), help.into(), metric_type, "".into(), samples)
}

fn same_value(a: f64, b: f64) -> bool {
    a == b || (a.is_nan() && b.is_nan())
}

/// Whether two samples are equal, taking a NaN value to equal a NaN.
fn same_sample(a: &Sample, b: &Sample) -> bool {
    let exemplar = match (&a.exemplar, &b.exemplar) {
        (None, None) => true,
        (Some(x), Some(y)) => x.labels == y.labels && same_value(x.value, y.value) && x.timestamp == y.timestamp,
        _ => false,
    };
    a.name == b.name && a.labels == b.labels && same_value(a.value, b.value) && a.timestamp == b.timestamp && exemplar
}

/// Escapes backslashes and newlines, and double quotes if `quotes`, as `prometheus_client` writes them.
pub(crate) fn escape(s: &str, quotes: bool) -> String {
    let s = s.replace('\\', "\\\\").replace('\n', "\\n");
    if quotes { s.replace('"', "\\\"") } else { s }
}

/// Short strings of any characters, often ones that need escaping or end a token, or any of `extra`.
pub(crate) fn text_value(extra: &'static [char]) -> impl Strategy<Value = String> {
    let mut special = vec!['\\', '"', '\n', '{', '}', ',', '=', '#', ' ', 'é', '✓', '日'];
    special.extend_from_slice(extra);
    prop::collection::vec(prop_oneof![any::<char>(), prop::sample::select(special)], 0..10)
        .prop_map(|c| c.into_iter().collect())
}

/// Fewer than `max` labels with distinct names matching `name` and values from `value`.
pub(crate) fn labels(
    name: &'static str,
    value: impl Strategy<Value = String>,
    max: usize,
) -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::btree_map(name, value, 0..max).prop_map(|m| m.into_iter().collect())
}

/// Any float, with the infinities and NaN often.
pub(crate) fn value() -> impl Strategy<Value = f64> {
    prop_oneof![Just(f64::NAN), Just(f64::INFINITY), Just(f64::NEG_INFINITY), any::<f64>(), -1e3..1e3f64]
}

/// Help text of a few letters, spaces, newlines, backslashes and quotes.
pub(crate) fn help() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(vec!['a', 'Z', ' ', '\\', '"', '\n', 'é', 'n']), 0..12)
        .prop_map(|c| c.into_iter().collect())
}

/// A random family, for a test to write as `prometheus_client` writes it and to parse back.
#[derive(Debug, Clone)]
pub(crate) struct Written<S> {
    /// Whether the name is one that must be quoted.
    pub(crate) utf8_name: bool,
    /// The type of the family.
    pub(crate) metric_type: MetricType,
    /// The help text, unescaped.
    pub(crate) help: String,
    /// The series, as the test's format describes them.
    pub(crate) series: Vec<S>,
}

/// A family of one of `metric_types`, with help from `help` and up to three series from `series`.
pub(crate) fn written<S: Debug>(
    metric_types: Vec<MetricType>,
    help: impl Strategy<Value = String>,
    series: impl Strategy<Value = S>,
) -> impl Strategy<Value = Written<S>> {
    let series = prop::collection::vec(series, 0..4);
    (any::<bool>(), prop::sample::select(metric_types), help, series)
        .prop_map(|(utf8_name, metric_type, help, series)| Written { utf8_name, metric_type, help, series })
}

/// Up to 80 characters, often ones the formats give a meaning to, or any of `extra`.
pub(crate) fn any_input(extra: &'static [char]) -> impl Strategy<Value = String> {
    let mut special = vec!['{', '}', '"', '\\', ',', '=', '#', ' ', '\n', '1', 'e', '.', '_', 'a'];
    special.extend_from_slice(extra);
    prop::collection::vec(prop_oneof![any::<char>(), prop::sample::select(special)], 0..80)
        .prop_map(|c| c.into_iter().collect())
}

/// Declares the property tests of a parser's test module: the families `$written` makes, written by `$write` as
/// `prometheus_client` writes them, parse back to the same values; and any input `$inputs` makes is parsed or
/// rejected without a panic.
macro_rules! properties {
    ($format:expr, $written:expr, $write:expr, $inputs:expr $(,)?) => {
        proptest::proptest! {
            #![proptest_config(proptest::test_runner::Config::with_cases(256))]

            #[test]
            fn written_families_parse_back_to_the_same_values(families in proptest::collection::vec($written, 1..4)) {
                $format.check_parses_back(&families, $write)?;
            }

            #[test]
            fn any_input_is_parsed_or_rejected_without_panicking(input in $inputs) {
                let _ = $format.try_parse(&input);
            }
        }
    };
}

pub(crate) use properties;
