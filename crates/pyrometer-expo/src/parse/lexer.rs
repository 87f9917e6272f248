//! The syntax of one line, as `prometheus_client` reads it: Python's idea of whitespace,
//! quote-aware scanning, escapes, quoted names, label sets, numbers, timestamps, and what follows
//! a sample's labels in each format. The parsers build families from what this module reads.

use std::borrow::Cow;
use std::collections::HashSet;

use pyrometer_core::name::is_legacy_metric_name;
use pyrometer_core::{EXEMPLAR_MAX_LABEL_CHARS, Exemplar, LabelSet};

use super::ParseErrorKind;

/// Whether Python's `str.isspace` holds for `c`, which is what `str.strip()` removes.
///
/// It differs from [`char::is_whitespace`]: the information separators `\x1c`..`\x1f` are in,
/// U+200E and U+200F are out.
pub(super) fn is_py_space(c: char) -> bool {
    matches!(
        c,
        '\t'..='\r'
            | '\x1c'..='\x1f'
            | ' '
            | '\u{85}'
            | '\u{a0}'
            | '\u{1680}'
            | '\u{2000}'..='\u{200a}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{202f}'
            | '\u{205f}'
            | '\u{3000}'
    )
}

/// `s.strip()` in Python.
pub(super) fn py_strip(s: &str) -> &str {
    s.trim_matches(is_py_space)
}

/// Python's `string.whitespace`, which separates the words of a text-format comment.
pub(super) fn is_ascii_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c')
}

/// The text before the character at byte `pos`.
pub(super) fn before(text: &str, pos: usize) -> &str {
    text.get(..pos).unwrap_or(text)
}

/// The text after the character at byte `pos`.
pub(super) fn after(text: &str, pos: usize) -> &str {
    let width = text.get(pos..).and_then(|t| t.chars().next()).map_or(0, char::len_utf8);
    text.get(pos + width..).unwrap_or("")
}

/// Whether the character at byte `pos` follows an odd number of backslashes.
fn is_escaped(text: &str, pos: usize) -> bool {
    let preceding = text.as_bytes().get(..pos).unwrap_or_default();
    preceding.iter().rev().take_while(|&&b| b == b'\\').count() % 2 == 1
}

/// Byte offset of the first character at or after `from` that `want` accepts and that is not
/// inside double quotes, counting from outside quotes at `from`. A quote after an odd number of
/// backslashes neither opens nor closes.
pub(super) fn find_unquoted(text: &str, from: usize, want: impl Fn(char) -> bool) -> Option<usize> {
    let mut in_quotes = false;
    for (i, c) in text.get(from..)?.char_indices() {
        let pos = from + i;
        if c == '"' && !is_escaped(text, pos) {
            in_quotes = !in_quotes;
        } else if !in_quotes && want(c) {
            return Some(pos);
        }
    }
    None
}

/// Splits `text` at separators outside quotes, as `prometheus_client`'s `_split_quoted`: runs of
/// separators count as one, and after `max_split` words the rest is one last word, taken from its
/// first non-separator. A separator at the very end leaves an empty last word.
pub(super) fn split_quoted(text: &str, is_sep: impl Fn(char) -> bool + Copy, max_split: usize) -> Vec<&str> {
    let mut words = Vec::with_capacity(max_split + 1);
    let mut x = 0;
    while x < text.len() {
        let Some(pos) = find_unquoted(text, x, is_sep) else { break };
        if pos != x && words.len() >= max_split {
            break;
        }
        if pos != x {
            words.push(text.get(x..pos).unwrap_or(""));
        }
        x = text.len() - after(text, pos).len();
    }
    words.push(text.get(x..).unwrap_or(""));
    words
}

/// Replaces the escapes `\\`, `\n` and, when `quotes`, `\"`, left to right; any other backslash
/// stays as it is.
pub(super) fn unescape(s: &str, quotes: bool) -> Cow<'_, str> {
    if !s.contains('\\') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.peek() {
            Some('\\') => out.push('\\'),
            Some('n') => out.push('\n'),
            Some('"') if quotes => out.push('"'),
            _ => {
                out.push('\\');
                continue;
            }
        }
        chars.next();
    }
    Cow::Owned(out)
}

/// A name as written, stripped, unquoted and unescaped, and whether it was quoted; `None` when it
/// is empty or opens a quote it does not close.
fn unquote(s: &str) -> Option<(Cow<'_, str>, bool)> {
    let s = py_strip(s);
    match s.strip_prefix('"') {
        None if s.is_empty() => None,
        None => Some((unescape(s, true), false)),
        Some(inner) => inner.strip_suffix('"').map(|inner| (unescape(inner, true), true)),
    }
}

/// A metric name as written in metadata or before a label set: quoted, or a legacy name.
pub(super) fn metric_name(token: &str) -> Result<String, ParseErrorKind> {
    match unquote(token) {
        Some((name, quoted)) if quoted || is_legacy_metric_name(&name) => Ok(name.into_owned()),
        _ => Err(ParseErrorKind::InvalidMetricName { name: token.to_owned() }),
    }
}

/// Which parser's rules a label set follows.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Dialect {
    /// The text format: stray commas at the ends and `name=` without a value are skipped.
    Text,
    /// `OpenMetrics`: they are errors.
    OpenMetrics,
}

/// The name a label term without `=` gives: the metric name, as in `{"my.metric", a="b"}`.
pub(super) const NAME_LABEL: &str = "__name__";

/// Parses the inside of a label set (between `{` and `}`) into pairs in input order, rejecting a
/// name given twice. `__name__` stays among them; see [`take_metric_name`].
pub(super) fn parse_labels(text: &str, dialect: Dialect) -> Result<Vec<(String, String)>, ParseErrorKind> {
    let strict = dialect == Dialect::OpenMetrics;
    let mut labels: Vec<(String, String)> = Vec::new();
    let mut names = HashSet::new();
    let mut rest = py_strip(text);
    if strict && rest.starts_with(',') {
        return Err(ParseErrorKind::MisplacedComma);
    }
    while !rest.is_empty() {
        let mut term = rest;
        if let Some(t) = term.strip_prefix(',') {
            if t.starts_with(',') || (t.is_empty() && strict) {
                return Err(ParseErrorKind::MisplacedComma);
            }
            term = t;
        }
        // The caller cut the set at its first `}` outside quotes, so terms end at commas.
        let split = find_unquoted(term, 0, |c| c == '=' || c == ',');
        let (name_term, value_part) = match split {
            Some(eq) if term.get(eq..).is_some_and(|t| t.starts_with('=')) => (Some(before(term, eq)), after(term, eq)),
            _ => (None, term),
        };
        let end = find_unquoted(value_part, 0, |c| c == ',').unwrap_or(value_part.len());
        let raw_value = before(value_part, end);
        rest = py_strip(value_part.get(end..).unwrap_or(""));
        let value_term = py_strip(raw_value);
        if value_term.is_empty() {
            match name_term {
                _ if !strict => continue,
                None => return Err(ParseErrorKind::MisplacedComma),
                Some(name) => return Err(ParseErrorKind::MissingLabelValue { name: py_strip(name).to_owned() }),
            }
        }
        let name = match name_term {
            None => NAME_LABEL.to_owned(),
            Some(raw) => match unquote(raw) {
                Some((name, quoted)) if quoted || is_legacy_metric_name(&name) => name.into_owned(),
                _ => return Err(ParseErrorKind::InvalidLabelName { name: py_strip(raw).to_owned() }),
            },
        };
        let Some(value) = quoted_value(value_term) else {
            return Err(ParseErrorKind::InvalidLabelValue { name });
        };
        if name.starts_with("__") && name != NAME_LABEL {
            return Err(ParseErrorKind::ReservedLabelName { name });
        }
        if !names.insert(name.clone()) {
            return Err(ParseErrorKind::DuplicateLabel { name });
        }
        labels.push((name, value.into_owned()));
    }
    Ok(labels)
}

/// The unescaped inside of `"..."`, when `term` is exactly one double-quoted string.
fn quoted_value(term: &str) -> Option<Cow<'_, str>> {
    let inner = term.strip_prefix('"')?.strip_suffix('"')?;
    // Where the closing quote is.
    let body_end = 1 + inner.len();
    let closes_early = term.char_indices().any(|(i, c)| c == '"' && (1..body_end).contains(&i) && !is_escaped(term, i));
    if closes_early || is_escaped(term, body_end) {
        return None;
    }
    Some(unescape(inner, true))
}

/// Removes `__name__` from `labels` and settles the sample's name: the text before `{`, or the
/// quoted name inside it, never both.
pub(super) fn take_metric_name(written: &str, labels: &mut Vec<(String, String)>) -> Result<String, ParseErrorKind> {
    let inside = labels.iter().position(|(n, _)| n == NAME_LABEL).map(|i| labels.remove(i).1);
    match (written.is_empty(), inside) {
        (true, Some(name)) => Ok(name),
        (true, None) => Err(ParseErrorKind::MissingMetricName),
        (false, Some(_)) => Err(ParseErrorKind::MetricNameTwice),
        (false, None) => Ok(written.to_owned()),
    }
}

/// A number as `prometheus_client` reads a value: Python's `int()`, else `float()`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Number {
    /// The value, rounded to the nearest `f64`.
    pub(super) value: f64,
    /// Whether it was written as an integer, which Python keeps exact.
    pub(super) integer: bool,
}

/// Most digits Python's `int()` converts by default; a longer integer falls through to `float()`.
const MAX_INT_DIGITS: usize = 4300;

/// Whether `int(s)` succeeds in Python, for ASCII input without whitespace or underscores.
fn is_int_literal(s: &str) -> bool {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    !digits.is_empty() && digits.len() <= MAX_INT_DIGITS && digits.bytes().all(|b| b.is_ascii_digit())
}

/// Parses a sample or exemplar value: an integer, a decimal or exponent float, or `inf`,
/// `infinity` or `nan` in any case and with an optional sign. No whitespace or underscores.
pub(super) fn parse_number(s: &str) -> Option<Number> {
    if s != py_strip(s) || s.contains('_') {
        return None;
    }
    // Rust's float grammar is Python's `float()` grammar for ASCII input.
    let value: f64 = s.parse().ok()?;
    if is_int_literal(s) {
        // Python's int zero has no sign.
        Some(Number { value: value + 0.0, integer: true })
    } else {
        Some(Number { value, integer: false })
    }
}

/// Python's `float()` on a label value (`le`, `quantile`): surrounding whitespace and underscores
/// between digits are allowed. (`float()` strips what `str.isspace` holds for but the
/// information separators `\x1c`..`\x1f`: `float("\x1f.1")` fails.)
pub(super) fn py_float(s: &str) -> Option<f64> {
    let s = s.trim_matches(|c| is_py_space(c) && !matches!(c, '\x1c'..='\x1f'));
    if !s.contains('_') {
        return s.parse().ok();
    }
    let bytes = s.as_bytes();
    let between_digits = |i: usize| {
        let digit_at = |j: Option<usize>| j.and_then(|j| bytes.get(j)).is_some_and(u8::is_ascii_digit);
        digit_at(i.checked_sub(1)) && digit_at(Some(i + 1))
    };
    let underscores_ok = bytes.iter().enumerate().all(|(i, &b)| b != b'_' || between_digits(i));
    if underscores_ok { s.replace('_', "").parse().ok() } else { None }
}

/// A text-format timestamp, milliseconds as written, in seconds.
pub(super) fn text_timestamp(s: &str) -> Option<f64> {
    let number = parse_number(s)?;
    if !number.integer {
        return Some(number.value / 1000.0);
    }
    // Python divides the exact integer by 1000 with one rounding; moving the decimal exponent
    // does the same. A quotient beyond `f64` is an `OverflowError` there.
    let seconds: f64 = format!("{s}e-3").parse().ok()?;
    seconds.is_finite().then_some(seconds + 0.0)
}

/// An `OpenMetrics` timestamp in the two forms `prometheus_client` reads: `sec[.frac]` as an
/// exact `Timestamp`, anything else `float()` takes as a float.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum OmTimestamp {
    /// `sec[.frac]`, in nanoseconds; digits past the ninth are dropped.
    Exact(i128),
    /// Any other finite float (`1e9`, `.5`, `1.5e3`), in seconds.
    Float(f64),
}

const NANOS_PER_SEC: i128 = 1_000_000_000;

/// Parses an `OpenMetrics` timestamp; `None` for text that is no number or is not finite. Whole
/// seconds beyond `i64` come as the nearest float.
pub(super) fn om_timestamp(s: &str) -> Option<OmTimestamp> {
    if s != py_strip(s) || s.contains('_') {
        return None;
    }
    let (whole, frac) = match s.split_once('.') {
        Some((whole, frac)) => (whole, frac),
        None => (s, ""),
    };
    if !is_int_literal(whole) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        let seconds: f64 = s.parse().ok()?;
        return seconds.is_finite().then_some(OmTimestamp::Float(seconds));
    }
    let Ok(sec) = whole.parse::<i64>() else {
        // Whole seconds beyond `i64`, which Python's `int` holds: the nearest float.
        let seconds: f64 = s.parse().ok()?;
        return seconds.is_finite().then_some(OmTimestamp::Float(seconds));
    };
    let nanos: i128 =
        frac.bytes().chain(std::iter::repeat(b'0')).take(9).fold(0, |acc, digit| acc * 10 + i128::from(digit - b'0'));
    let nanos = if whole.starts_with('-') { -nanos } else { nanos };
    Some(OmTimestamp::Exact(i128::from(sec) * NANOS_PER_SEC + nanos))
}

impl OmTimestamp {
    /// The timestamp for a sample: exact when it is (`-1.5` as `prometheus_client` reads it,
    /// `sec` -1 and `nsec` 500000000 away from zero), in seconds for a negative fraction of a
    /// second (`-0.5`), whose sign `sec` 0 cannot carry.
    pub(super) fn to_timestamp(self) -> pyrometer_core::Timestamp {
        use pyrometer_core::Timestamp;
        match self {
            Self::Float(seconds) => Timestamp::Seconds(seconds),
            Self::Exact(nanos) => {
                let sec = nanos / NANOS_PER_SEC;
                let nsec = (nanos % NANOS_PER_SEC).abs();
                if sec == 0 && nanos < 0 {
                    #[allow(clippy::cast_precision_loss)]
                    return Timestamp::Seconds(nanos as f64 / 1e9);
                }
                match (i64::try_from(sec), u32::try_from(nsec)) {
                    (Ok(sec), Ok(nsec)) => Timestamp::Exact { sec, nsec },
                    _ => Timestamp::Seconds(sec as f64 + nsec as f64 / 1e9),
                }
            }
        }
    }

    /// Python's `==` on the parsed timestamps: forms never equal each other.
    pub(super) fn same(a: Option<Self>, b: Option<Self>) -> bool {
        match (a, b) {
            (None, None) => true,
            (Some(Self::Exact(x)), Some(Self::Exact(y))) => x == y,
            (Some(Self::Float(x)), Some(Self::Float(y))) => x == y,
            _ => false,
        }
    }

    /// Whether `self` is later than `other`; `None` when the forms differ, which Python cannot
    /// compare.
    pub(super) fn is_after(self, other: Self) -> Option<bool> {
        match (self, other) {
            (Self::Exact(x), Self::Exact(y)) => Some(x > y),
            (Self::Float(x), Self::Float(y)) => Some(x > y),
            _ => None,
        }
    }
}

/// Reads what follows a text-format sample's name and labels: the value, and the last of any
/// further fields as a timestamp in milliseconds, in seconds; fields between are ignored.
pub(super) fn text_value_and_timestamp(text: &str) -> Result<(f64, Option<f64>), ParseErrorKind> {
    let text = text.trim_start_matches(is_py_space);
    let separator = if text.contains(' ') { ' ' } else { '\t' };
    let mut fields = text.split(separator).map(py_strip).filter(|f| !f.is_empty());
    let first = fields.next().ok_or(ParseErrorKind::MissingValue)?;
    let value = parse_number(first).ok_or_else(|| ParseErrorKind::InvalidValue { value: first.to_owned() })?.value;
    let timestamp = match fields.next_back() {
        None => None,
        Some(field) => {
            Some(text_timestamp(field).ok_or_else(|| ParseErrorKind::InvalidTimestamp { value: field.to_owned() })?)
        }
    };
    Ok((value, timestamp))
}

/// Reads what follows an `OpenMetrics` sample's name and labels and their space:
/// `value [timestamp] [# {labels} value [timestamp]]`, single spaces apart.
pub(super) fn om_value_timestamp_exemplar(
    text: &str,
) -> Result<(Number, Option<OmTimestamp>, Option<Exemplar>), ParseErrorKind> {
    let (value, rest) = split_word(text);
    let value = number(value)?;
    let (timestamp, exemplar) = match rest {
        None => (None, None),
        Some("") => return Err(ParseErrorKind::TrailingSpace),
        Some(rest) => timestamp_and_exemplar(rest)?,
    };
    Ok((value, timestamp, exemplar))
}

/// The text up to the first space, and what follows the space, if there is one.
fn split_word(text: &str) -> (&str, Option<&str>) {
    match text.split_once(' ') {
        Some((word, rest)) => (word, Some(rest)),
        None => (text, None),
    }
}

fn number(text: &str) -> Result<Number, ParseErrorKind> {
    if text.is_empty() {
        return Err(ParseErrorKind::MissingValue);
    }
    parse_number(text).ok_or_else(|| ParseErrorKind::InvalidValue { value: text.to_owned() })
}

pub(super) fn timestamp(text: &str) -> Result<OmTimestamp, ParseErrorKind> {
    match text {
        "" => Err(ParseErrorKind::TrailingSpace),
        _ => om_timestamp(text).ok_or_else(|| ParseErrorKind::InvalidTimestamp { value: text.to_owned() }),
    }
}

/// Reads `[timestamp] [# {labels} value [timestamp]]` after a value and its space.
fn timestamp_and_exemplar(text: &str) -> Result<(Option<OmTimestamp>, Option<Exemplar>), ParseErrorKind> {
    let (written, exemplar) = match text.strip_prefix('#') {
        Some(exemplar) => (None, Some(exemplar)),
        None => match split_word(text) {
            (written, None) => (Some(written), None),
            (_, Some("")) => return Err(ParseErrorKind::TrailingSpace),
            (written, Some(rest)) => {
                let exemplar = rest.strip_prefix('#').ok_or(ParseErrorKind::MalformedExemplar)?;
                (Some(written), Some(exemplar))
            }
        },
    };
    let exemplar = exemplar.map(parse_exemplar).transpose()?;
    // Two spaces before `#` leave an empty timestamp, which `prometheus_client` reads as none.
    let timestamp = written.filter(|w| !w.is_empty()).map(timestamp).transpose()?;
    Ok((timestamp, exemplar))
}

/// Reads ` {labels} value [timestamp]`, the exemplar after its `#`.
pub(super) fn parse_exemplar(text: &str) -> Result<Exemplar, ParseErrorKind> {
    let body = text.strip_prefix(" {").ok_or(ParseErrorKind::MalformedExemplar)?;
    let close = find_unquoted(body, 0, |c| c == '}').ok_or(ParseErrorKind::MalformedExemplar)?;
    let labels = LabelSet::new(parse_labels(before(body, close), Dialect::OpenMetrics)?);
    let rest = after(body, close).strip_prefix(' ').ok_or(ParseErrorKind::MalformedExemplar)?;
    let (value, written) = split_word(rest);
    if value.is_empty() {
        return Err(ParseErrorKind::MalformedExemplar);
    }
    let chars = labels.char_count();
    if chars > EXEMPLAR_MAX_LABEL_CHARS {
        return Err(ParseErrorKind::ExemplarTooLong { chars });
    }
    let value = number(value)?.value;
    let timestamp = written.map(timestamp).transpose()?.map(OmTimestamp::to_timestamp);
    Ok(Exemplar { labels, value, timestamp })
}

#[cfg(test)]
mod tests {
    use pyrometer_core::Timestamp;

    use super::*;

    #[test]
    fn whitespace_is_what_python_strips() {
        assert_eq!(py_strip("\x1c\u{a0} a b\u{3000}\r\n"), "a b");
        // Rust's whitespace, not Python's.
        assert_eq!(py_strip("\u{200e}a"), "\u{200e}a");
    }

    #[test]
    fn quotes_hide_what_they_enclose_unless_escaped() {
        let text = r#"a"{\"{"{"#;
        assert_eq!(find_unquoted(text, 0, |c| c == '{'), Some(7));
        assert_eq!(find_unquoted(r#"\\"{"{"#, 0, |c| c == '{'), Some(5));
        assert_eq!(find_unquoted("ab", 9, |c| c == 'b'), None);
    }

    #[test]
    fn quoted_splits_merge_separator_runs_and_keep_the_rest_whole() {
        assert_eq!(split_quoted("#  HELP a  b \"c d\"", |c| c == ' ', 3), ["#", "HELP", "a", "b \"c d\""]);
        assert_eq!(split_quoted("# HELP \"a b\" c", |c| c == ' ', 3), ["#", "HELP", "\"a b\"", "c"]);
        assert_eq!(split_quoted("# HELP a ", |c| c == ' ', 3), ["#", "HELP", "a", ""]);
        assert_eq!(split_quoted("#", |c| c == ' ', 3), ["#"]);
    }

    #[test]
    fn escapes_are_replaced_left_to_right_and_unknown_ones_kept() {
        assert_eq!(unescape(r#"a\\n\n\"\t\"#, true), "a\\n\n\"\\t\\");
        assert_eq!(unescape(r#"\""#, false), "\\\"");
        assert!(matches!(unescape("plain", true), Cow::Borrowed("plain")));
    }

    #[test]
    fn metric_names_are_legacy_or_quoted() {
        assert_eq!(metric_name("a:b_1"), Ok("a:b_1".to_owned()));
        assert_eq!(metric_name("\"a.\\\"b\""), Ok("a.\"b".to_owned()));
        for bad in ["a.b", "\"ab", "\"", "1a", " "] {
            assert_eq!(metric_name(bad), Err(ParseErrorKind::InvalidMetricName { name: bad.to_owned() }));
        }
    }

    #[test]
    fn label_sets_keep_input_order_and_the_quoted_metric_name() {
        let labels = parse_labels(r#" "my.name" , b = "2",a="1\"}" "#, Dialect::OpenMetrics);
        let pairs = [("__name__", "my.name"), ("b", "2"), ("a", "1\"}")];
        assert_eq!(labels, Ok(pairs.map(|(n, v)| (n.to_owned(), v.to_owned())).to_vec()));
    }

    #[test]
    fn only_the_text_dialect_skips_stray_commas_and_empty_values() {
        for input in [",a=\"1\"", "a=\"1\",", "a=\"1\",b=", "a=\"1\", ,"] {
            let text = parse_labels(input, Dialect::Text);
            assert_eq!(text, Ok(vec![("a".to_owned(), "1".to_owned())]), "{input}");
            assert!(parse_labels(input, Dialect::OpenMetrics).is_err(), "{input}");
        }
    }

    #[test]
    fn the_metric_name_comes_from_before_the_braces_or_inside_them() {
        let mut labels = vec![(NAME_LABEL.to_owned(), "x".to_owned()), ("a".to_owned(), "1".to_owned())];
        assert_eq!(take_metric_name("", &mut labels), Ok("x".to_owned()));
        assert_eq!(labels, [("a".to_owned(), "1".to_owned())]);
        assert_eq!(take_metric_name("y", &mut labels), Ok("y".to_owned()));
    }

    #[test]
    fn values_are_python_ints_or_floats() {
        let number = |s| parse_number(s).map(|n| (n.value, n.integer));
        assert_eq!(number("-0"), Some((0.0, true)));
        assert_eq!(number("+0012"), Some((12.0, true)));
        assert_eq!(number("1e3"), Some((1000.0, false)));
        assert_eq!(number(".5"), Some((0.5, false)));
        assert_eq!(number("5."), Some((5.0, false)));
        assert_eq!(number("-Infinity"), Some((f64::NEG_INFINITY, false)));
        assert!(parse_number("nAn").is_some_and(|n| n.value.is_nan()));
        for bad in ["", " 1", "1 ", "1_0", "0x1", "1e", "e1", ".", "+-1", "infinit"] {
            assert_eq!(parse_number(bad), None, "{bad:?}");
        }
        // Too long for Python's `int()`: a float after all.
        assert_eq!(number(&"9".repeat(4301)), Some((f64::INFINITY, false)));
    }

    #[test]
    fn label_numbers_allow_whitespace_and_digit_underscores() {
        assert_eq!(py_float(" 1_000.5 "), Some(1000.5));
        assert_eq!(py_float("+Inf"), Some(f64::INFINITY));
        for bad in ["_1", "1_", "1__0", "1_.5", "in_f", "x"] {
            assert_eq!(py_float(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn text_timestamps_divide_milliseconds_once() {
        assert_eq!(text_timestamp("1700000000123"), Some(1_700_000_000.123));
        assert_eq!(text_timestamp("-1500"), Some(-1.5));
        assert_eq!(text_timestamp("2.5"), Some(0.0025));
        assert_eq!(text_timestamp("-0"), Some(0.0));
        assert!(text_timestamp("1").is_some_and(f64::is_sign_positive));
        assert_eq!(text_timestamp(&"9".repeat(400)), None);
    }

    #[test]
    fn openmetrics_timestamps_are_exact_when_written_sec_dot_frac() {
        let exact = |s| om_timestamp(s).map(OmTimestamp::to_timestamp);
        assert_eq!(exact("12"), Some(Timestamp::Exact { sec: 12, nsec: 0 }));
        assert_eq!(exact("12."), Some(Timestamp::Exact { sec: 12, nsec: 0 }));
        assert_eq!(exact("1.0000000019"), Some(Timestamp::Exact { sec: 1, nsec: 1 }));
        assert_eq!(exact("-3.25"), Some(Timestamp::Exact { sec: -3, nsec: 250_000_000 }));
        assert_eq!(exact("-0.25"), Some(Timestamp::Seconds(-0.25)));
        assert_eq!(exact("1.5e3"), Some(Timestamp::Seconds(1500.0)));
        // Beyond `i64` (Python's `int` is unbounded): the nearest float, as the reference reads.
        assert_eq!(exact("12345678901234567890"), Some(Timestamp::Seconds(12_345_678_901_234_567_890.0)));
        for bad in ["", "NaN", "inf", "1_0", " 1", "1.2.3"] {
            assert_eq!(om_timestamp(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn label_numbers_strip_what_float_strips() {
        assert_eq!(py_float(" 0.1\u{a0}"), Some(0.1));
        assert_eq!(py_float("\x0b.1"), Some(0.1));
        // `float()` keeps the information separators that `str.strip()` removes.
        for bad in ["\x1f.1", "0.1\x1c", "\x1e1"] {
            assert_eq!(py_float(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn openmetrics_timestamps_compare_only_within_a_form() {
        let (one, two) = (OmTimestamp::Exact(1), OmTimestamp::Exact(2));
        assert_eq!(two.is_after(one), Some(true));
        assert_eq!(OmTimestamp::Float(1.0).is_after(one), None);
        assert!(OmTimestamp::same(None, None));
        assert!(!OmTimestamp::same(Some(OmTimestamp::Float(0.0)), Some(OmTimestamp::Exact(0))));
    }

    #[test]
    fn text_values_take_the_first_and_last_fields() {
        assert_eq!(text_value_and_timestamp(" 1\t2"), Ok((1.0, Some(0.002))));
        assert_eq!(text_value_and_timestamp("1 x\ty 3"), Ok((1.0, Some(0.003))));
        assert_eq!(text_value_and_timestamp(" \t"), Err(ParseErrorKind::MissingValue));
    }

    #[test]
    fn openmetrics_sample_tails_read_timestamps_and_exemplars() {
        let (value, timestamp, exemplar) =
            om_value_timestamp_exemplar("1 2 # {a=\"b\"} 3 4.5").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((value.value, timestamp), (1.0, Some(OmTimestamp::Exact(2_000_000_000))));
        let want = Exemplar {
            labels: LabelSet::new([("a", "b")]),
            value: 3.0,
            timestamp: Some(Timestamp::Exact { sec: 4, nsec: 500_000_000 }),
        };
        assert_eq!(exemplar, Some(want));
        // Two spaces before the exemplar leave no timestamp, as in prometheus_client.
        assert!(om_value_timestamp_exemplar("1  # {} 3").is_ok_and(|(_, t, e)| t.is_none() && e.is_some()));
        for (bad, kind) in [
            ("1 2 ", ParseErrorKind::TrailingSpace),
            ("1 2 x", ParseErrorKind::MalformedExemplar),
            ("1 # {} 3 ", ParseErrorKind::TrailingSpace),
            ("1 # {}", ParseErrorKind::MalformedExemplar),
            ("1 # {}  3", ParseErrorKind::MalformedExemplar),
        ] {
            assert_eq!(om_value_timestamp_exemplar(bad).err(), Some(kind), "{bad:?}");
        }
    }
}
