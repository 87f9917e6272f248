//! OpenMetrics 2.0 native histogram samples:
//! `name{labels} {count:24,sum:100,schema:0,zero_threshold:0.001,zero_count:4,
//! positive_spans:[0:2],positive_deltas:[2,1]} [timestamp] [# exemplar]...`.
//!
//! The five scalar fields are required, the spans and deltas optional (in pairs); `count` and
//! `zero_count` are integers, `sum` and `zero_threshold` numbers, as `prometheus_client` reads
//! them. Every exemplar after the value is kept.

use pyrometer_core::{BucketSpan, NativeHistogramValue, Number};

use super::ParseErrorKind;
use super::lexer::{find_unquoted, parse_number};

/// Where a native histogram value starts in a sample line of a histogram family: a `{` after the
/// name, labels and space that does not begin an exemplar; `None` for a classic sample.
pub(super) fn value_start(text: &str) -> Result<Option<usize>, ParseErrorKind> {
    let Some(mut end) = find_unquoted(text, 0, |c| c == ' ' || c == '{') else {
        return Ok(None);
    };
    if text.get(end..).is_some_and(|t| t.starts_with('{')) {
        end = find_unquoted(text, end, |c| c == '}').ok_or(ParseErrorKind::UnclosedLabelSet)?;
    }
    let Some(open) = find_unquoted(text, end + 1, |c| c == '{') else {
        return Ok(None);
    };
    Ok(match find_unquoted(text, end + 1, |c| c == '#') {
        Some(hash) if hash < open => None,
        _ => Some(open),
    })
}

fn invalid(reason: impl Into<String>) -> ParseErrorKind {
    ParseErrorKind::InvalidNativeHistogram { reason: reason.into() }
}

/// Reads `{field:value,...}` at the start of `text`; returns the value and what follows it.
pub(super) fn parse_value(text: &str) -> Result<(NativeHistogramValue, &str), ParseErrorKind> {
    let body = text.strip_prefix('{').ok_or_else(|| invalid("expected '{'"))?;
    let close = body.find('}').ok_or_else(|| invalid("no closing '}'"))?;
    let (body, rest) = (&body[..close], &body[close + 1..]);
    let mut fields = Fields::default();
    let mut remaining = body;
    while !remaining.is_empty() {
        let (key, after_key) = remaining.split_once(':').ok_or_else(|| invalid(format!("no ':' in {remaining:?}")))?;
        let (value, after_value) = if after_key.starts_with('[') {
            let end = after_key.find(']').ok_or_else(|| invalid(format!("no closing ']' after {key}")))?;
            (&after_key[1..end], &after_key[end + 1..])
        } else {
            let end = after_key.find(',').unwrap_or(after_key.len());
            (&after_key[..end], &after_key[end..])
        };
        fields.set(key, value)?;
        remaining = match after_value.strip_prefix(',') {
            Some("") => return Err(invalid("trailing ','")),
            Some(next) => next,
            None if after_value.is_empty() => "",
            None => return Err(invalid(format!("unexpected {after_value:?}"))),
        };
    }
    Ok((fields.build()?, rest))
}

/// The fields read so far.
#[derive(Default)]
struct Fields {
    count: Option<i64>,
    sum: Option<Number>,
    schema: Option<i32>,
    zero_threshold: Option<Number>,
    zero_count: Option<i64>,
    positive_spans: Option<Vec<BucketSpan>>,
    positive_deltas: Option<Vec<i64>>,
    negative_spans: Option<Vec<BucketSpan>>,
    negative_deltas: Option<Vec<i64>>,
}

impl Fields {
    fn set(&mut self, key: &str, value: &str) -> Result<(), ParseErrorKind> {
        let repeated = match key {
            "count" => self.count.replace(integer(key, value)?).is_some(),
            "sum" => self.sum.replace(float(key, value)?).is_some(),
            "schema" => {
                let schema = integer(key, value)?;
                let schema = i32::try_from(schema).map_err(|_| invalid(format!("schema {schema} out of range")))?;
                self.schema.replace(schema).is_some()
            }
            "zero_threshold" => self.zero_threshold.replace(float(key, value)?).is_some(),
            "zero_count" => self.zero_count.replace(integer(key, value)?).is_some(),
            "positive_spans" => self.positive_spans.replace(spans(value)?).is_some(),
            "negative_spans" => self.negative_spans.replace(spans(value)?).is_some(),
            "positive_deltas" => self.positive_deltas.replace(deltas(value)?).is_some(),
            "negative_deltas" => self.negative_deltas.replace(deltas(value)?).is_some(),
            _ => return Err(invalid(format!("unknown field {key:?}"))),
        };
        if repeated {
            return Err(invalid(format!("field {key} given twice")));
        }
        Ok(())
    }

    fn build(self) -> Result<NativeHistogramValue, ParseErrorKind> {
        let required = |name: &str| invalid(format!("missing field {name}"));
        let (positive_spans, positive_deltas) = pair("positive", self.positive_spans, self.positive_deltas)?;
        let (negative_spans, negative_deltas) = pair("negative", self.negative_spans, self.negative_deltas)?;
        Ok(NativeHistogramValue {
            count: Number::Int(self.count.ok_or_else(|| required("count"))?),
            sum: self.sum.ok_or_else(|| required("sum"))?,
            schema: self.schema.ok_or_else(|| required("schema"))?,
            zero_threshold: self.zero_threshold.ok_or_else(|| required("zero_threshold"))?,
            zero_count: Number::Int(self.zero_count.ok_or_else(|| required("zero_count"))?),
            positive_spans,
            positive_deltas,
            negative_spans,
            negative_deltas,
            exemplars: Vec::new(),
        })
    }
}

/// Spans and deltas that go together: both or neither, one delta per bucket the spans cover.
fn pair(
    side: &str,
    spans: Option<Vec<BucketSpan>>,
    deltas: Option<Vec<i64>>,
) -> Result<(Vec<BucketSpan>, Vec<i64>), ParseErrorKind> {
    let (spans, deltas) = (spans.unwrap_or_default(), deltas.unwrap_or_default());
    let buckets: u64 = spans.iter().map(|s| u64::from(s.length)).sum();
    if buckets != deltas.len() as u64 {
        return Err(invalid(format!("{side} spans cover {buckets} buckets but there are {} deltas", deltas.len())));
    }
    Ok((spans, deltas))
}

fn integer(key: &str, value: &str) -> Result<i64, ParseErrorKind> {
    value.parse().map_err(|_| invalid(format!("{key} must be an integer, not {value:?}")))
}

fn float(key: &str, value: &str) -> Result<Number, ParseErrorKind> {
    parse_number(value)
        .map(|n| Number::Float(n.value))
        .ok_or_else(|| invalid(format!("{key} must be a number, not {value:?}")))
}

fn spans(list: &str) -> Result<Vec<BucketSpan>, ParseErrorKind> {
    items(list)
        .map(|item| {
            let bad = || invalid(format!("span {item:?} is not offset:length"));
            let (offset, length) = item.split_once(':').ok_or_else(bad)?;
            Ok(BucketSpan { offset: offset.parse().map_err(|_| bad())?, length: length.parse().map_err(|_| bad())? })
        })
        .collect()
}

fn deltas(list: &str) -> Result<Vec<i64>, ParseErrorKind> {
    items(list).map(|item| item.parse().map_err(|_| invalid(format!("delta {item:?} is not an integer")))).collect()
}

/// The comma-separated items of a list, none for an empty one.
fn items(list: &str) -> impl Iterator<Item = &str> {
    list.split(',').filter(move |_| !list.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_value_prometheus_client_writes_reads_back() {
        let (value, rest) = parse_value(
            "{count:24,sum:100,schema:0,zero_threshold:0.001,zero_count:4,negative_spans:[0:2,1:2],negative_deltas:[2,1,-2,3],positive_spans:[-1:2],positive_deltas:[2,1]} 12 # {a=\"b\"} 1",
        )
        .unwrap();
        assert_eq!(rest, " 12 # {a=\"b\"} 1");
        assert_eq!(value.count, Number::Int(24));
        assert_eq!(value.sum, Number::Float(100.0));
        assert_eq!(value.zero_threshold, Number::Float(0.001));
        assert_eq!(value.negative_spans, [BucketSpan { offset: 0, length: 2 }, BucketSpan { offset: 1, length: 2 }]);
        assert_eq!(value.negative_deltas, [2, 1, -2, 3]);
        assert_eq!(value.positive_spans, [BucketSpan { offset: -1, length: 2 }]);
    }

    #[test]
    fn malformed_values_are_refused_with_a_reason() {
        for (text, reason) in [
            ("{count:1,sum:1,schema:0,zero_threshold:0}", "missing field zero_count"),
            ("{count:1.5,sum:1,schema:0,zero_threshold:0,zero_count:0}", "count must be an integer"),
            (
                "{count:1,sum:1,schema:0,zero_threshold:0,zero_count:0,positive_spans:[0:2],positive_deltas:[1]}",
                "cover 2 buckets",
            ),
            ("{count:1,count:1,sum:1,schema:0,zero_threshold:0,zero_count:0}", "given twice"),
            ("{count:1,sum:1,schema:0,zero_threshold:0,zero_count:0,", "no closing"),
            ("{count:1,sum:1,schema:0,zero_threshold:0,zero_count:0,}", "trailing"),
            ("{bogus:1}", "unknown field"),
        ] {
            let err = parse_value(text).unwrap_err().to_string();
            assert!(err.contains(reason), "{text}: {err}");
        }
    }
}
