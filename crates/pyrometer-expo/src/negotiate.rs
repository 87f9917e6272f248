//! Content negotiation: from an Accept header to a format and its Content-Type, as
//! `prometheus_client.exposition.choose_encoder` decides; and the `name[]` query filter.

use std::collections::HashSet;

use pyrometer_core::MetricFamily;

use crate::encode::escaping::Escaping;
use crate::encode::openmetrics::{OpenMetricsVersion, openmetrics_version_to_bytes};
use crate::encode::text::text_to_bytes;
use crate::error::Error;

/// Content-Type of the Prometheus text format 0.0.4.
pub const CONTENT_TYPE_TEXT_0_0_4: &str = "text/plain; version=0.0.4; charset=utf-8";
/// Content-Type of the Prometheus text format 1.0.0 (0.0.4 with UTF-8 names).
pub const CONTENT_TYPE_TEXT_1_0_0: &str = "text/plain; version=1.0.0; charset=utf-8";
/// Content-Type of OpenMetrics 1.0.
pub const CONTENT_TYPE_OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The text syntax of an exposition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Syntax {
    /// The Prometheus text format.
    Text,
    /// OpenMetrics text, of a version.
    OpenMetrics(OpenMetricsVersion),
    /// The Prometheus protobuf format, length-delimited.
    #[cfg(feature = "protobuf")]
    Protobuf,
}

/// A negotiated format: syntax, name escaping and the Content-Type to answer with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Format {
    syntax: Syntax,
    escaping: Escaping,
    content_type: String,
    /// The OpenMetrics version as the Accept header gave it.
    version: Option<String>,
}

impl Format {
    /// The Prometheus text format 0.0.4, the answer when nothing better is asked for.
    #[must_use]
    pub fn text() -> Self {
        Self {
            syntax: Syntax::Text,
            escaping: Escaping::Underscores,
            content_type: CONTENT_TYPE_TEXT_0_0_4.into(),
            version: None,
        }
    }

    /// OpenMetrics 1.0 with default escaping.
    #[must_use]
    pub fn openmetrics() -> Self {
        Self {
            syntax: Syntax::OpenMetrics(OpenMetricsVersion::V1),
            escaping: Escaping::Underscores,
            content_type: CONTENT_TYPE_OPENMETRICS.into(),
            version: Some("1.0.0".into()),
        }
    }

    /// The Prometheus protobuf format, length-delimited: the one Prometheus scrapes native
    /// histograms in.
    #[cfg(feature = "protobuf")]
    #[must_use]
    pub fn protobuf() -> Self {
        Self {
            syntax: Syntax::Protobuf,
            escaping: Escaping::AllowUtf8,
            content_type: crate::protobuf::CONTENT_TYPE_PROTOBUF.into(),
            version: None,
        }
    }

    /// The syntax.
    #[must_use]
    pub fn syntax(&self) -> Syntax {
        self.syntax
    }

    /// The name escaping.
    #[must_use]
    pub fn escaping(&self) -> Escaping {
        self.escaping
    }

    /// The Content-Type header value.
    #[must_use]
    pub fn content_type(&self) -> &str {
        &self.content_type
    }

    /// The OpenMetrics version as the Accept header gave it (`1.0.0` where it gave none); `None`
    /// for the other syntaxes.
    #[must_use]
    pub fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }

    /// Encodes families in this format.
    pub fn encode(&self, families: &[MetricFamily]) -> Result<Vec<u8>, Error> {
        match self.syntax {
            Syntax::Text => Ok(text_to_bytes(families, self.escaping)),
            Syntax::OpenMetrics(version) => openmetrics_version_to_bytes(families, self.escaping, version),
            #[cfg(feature = "protobuf")]
            Syntax::Protobuf => Ok(crate::encode::protobuf::protobuf_to_bytes(families)),
        }
    }
}

/// Picks the format for an Accept header, as `prometheus_client` does: the first
/// `application/openmetrics-text` (without a version, or with version 1.0.0 or later) or
/// `text/plain` with version 1.0.0 or later wins; anything else gets text 0.0.4. Beside those,
/// `application/vnd.google.protobuf` with `proto=io.prometheus.client.MetricFamily` and
/// `encoding=delimited` (which Prometheus lists first when it scrapes native histograms) gets the
/// protobuf format, when it comes first. A version that cannot be compared with 1.0.0 (`one`)
/// rules its media range out.
#[must_use]
pub fn negotiate(accept: Option<&str>) -> Format {
    choose(accept, Offer { protobuf: true, strict: false }).unwrap_or_else(|_| Format::text())
}

/// Picks the format exactly as `prometheus_client.exposition.choose_encoder` does, for code that
/// must behave as it does: no protobuf, and a version that cannot be compared with 1.0.0 is an
/// error ([`Error::IncomparableVersion`]), where upstream's comparison raises.
///
/// # Errors
/// [`Error::IncomparableVersion`] for a version such as `one` or `1.x`.
pub fn negotiate_text(accept: Option<&str>) -> Result<Format, Error> {
    choose(accept, Offer { protobuf: false, strict: true })
}

/// What a negotiation may answer with, and how it treats a version it cannot compare.
#[derive(Clone, Copy)]
struct Offer {
    protobuf: bool,
    strict: bool,
}

fn choose(accept: Option<&str>, offer: Offer) -> Result<Format, Error> {
    for accepted in accept.unwrap_or_default().split(',') {
        let params: Vec<&str> = accepted.split(';').collect();
        let media_type = py_strip(params[0]);
        let version = param(&params, "version");
        let escaping = param(&params, "escaping").and_then(|e| e.parse().ok()).unwrap_or_default();
        let at_least_1 = |v: &str| match at_least_1_0_0(v) {
            Some(answer) => Ok(answer),
            None if offer.strict => Err(Error::IncomparableVersion { version: v.to_owned() }),
            None => Ok(false),
        };
        match media_type {
            "application/openmetrics-text" => match version {
                None | Some("") => return Ok(Format::openmetrics()),
                Some(v) if at_least_1(v)? => {
                    return Ok(Format {
                        syntax: Syntax::OpenMetrics(OpenMetricsVersion::from_version(v)),
                        escaping,
                        content_type: format!(
                            "application/openmetrics-text; version={v}; charset=utf-8; escaping={}",
                            escaping.as_str()
                        ),
                        version: Some(v.to_owned()),
                    });
                }
                Some(_) => {}
            },
            #[cfg(feature = "protobuf")]
            "application/vnd.google.protobuf"
                if offer.protobuf
                    && param(&params, "proto") == Some("io.prometheus.client.MetricFamily")
                    && param(&params, "encoding") == Some("delimited") =>
            {
                return Ok(Format::protobuf());
            }
            "text/plain" => match version {
                Some(v) if !v.is_empty() && at_least_1(v)? => {
                    return Ok(Format {
                        syntax: Syntax::Text,
                        escaping,
                        content_type: format!("{CONTENT_TYPE_TEXT_1_0_0}; escaping={}", escaping.as_str()),
                        version: None,
                    });
                }
                _ => {}
            },
            _ => {}
        }
    }
    Ok(Format::text())
}

/// The value of the first `key=value` parameter named `key`.
fn param<'a>(params: &[&'a str], key: &str) -> Option<&'a str> {
    params.iter().find_map(|p| {
        let (k, v) = py_strip(p).split_once('=')?;
        (k == key).then_some(v)
    })
}

/// Whether a dotted version is at least 1.0.0, compared as Python compares the tuple of its parts
/// (each an `int` where `int()` reads it, text otherwise) with `(1, 0, 0)`: part by part, the
/// first unequal pair decides, and a shorter tuple that agrees is smaller. `None` where that pair
/// is text against a number, which Python cannot order.
fn at_least_1_0_0(version: &str) -> Option<bool> {
    let mut parts = version.split('.');
    for floor in [1, 0, 0] {
        let Some(part) = parts.next() else { return Some(false) };
        match python_int(part)? {
            n if n == floor => {}
            n => return Some(n > floor),
        }
    }
    Some(true)
}

/// `text` without the whitespace Python's `str.strip()` removes (which, unlike Rust's `trim`,
/// includes the separators `\x1c` to `\x1f`).
fn py_strip(text: &str) -> &str {
    text.trim_matches(|c: char| c.is_whitespace() || ('\x1c'..='\x1f').contains(&c))
}

/// The most digits Python's `int()` reads from text (`sys.get_int_max_str_digits()`'s default);
/// past it, `int()` refuses and the part stays text.
const INT_MAX_STR_DIGITS: usize = 4300;

/// A version part as Python's `int()` reads it (surrounding whitespace, a sign, ASCII digits with
/// single underscores between them, at most 4300 digits), clamped to `i128`; `None` for text.
/// Non-ASCII digits, which `int()` also reads, count as text here (docs/compat.md).
fn python_int(part: &str) -> Option<i128> {
    // `int()` skips Unicode whitespace, but not the separators `str.strip()` also removes.
    let part = part.trim();
    let (negative, digits) = match part.as_bytes().first()? {
        b'-' => (true, &part[1..]),
        b'+' => (false, &part[1..]),
        _ => (false, part),
    };
    let well_formed = !digits.is_empty()
        && !digits.starts_with('_')
        && !digits.ends_with('_')
        && !digits.contains("__")
        && digits.bytes().all(|b| b.is_ascii_digit() || b == b'_')
        && digits.bytes().filter(u8::is_ascii_digit).count() <= INT_MAX_STR_DIGITS;
    if !well_formed {
        return None;
    }
    let value = digits
        .bytes()
        .filter(u8::is_ascii_digit)
        .fold(0i128, |n, d| n.saturating_mul(10).saturating_add(i128::from(d - b'0')));
    Some(if negative { -value } else { value })
}

/// The metric names a scrape's query string asks for with `name[]=...`, or `None` when it
/// names none (so everything is exposed).
#[must_use]
pub fn name_filter(query: &str) -> Option<HashSet<String>> {
    let names: HashSet<String> = form_urlencoded::parse(query.as_bytes())
        .filter(|(k, v)| k == "name[]" && !v.is_empty())
        .map(|(_, v)| v.into_owned())
        .collect();
    (!names.is_empty()).then_some(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ct(accept: &str) -> String {
        negotiate(Some(accept)).content_type().to_owned()
    }

    #[test]
    fn versions_compare_as_python_tuples_of_ints_and_text() {
        for (version, expected) in [
            ("1.0.0", Some(true)),
            ("1", Some(false)),
            ("2", Some(true)),
            ("+1.0.0", Some(true)),
            (" 1 .0.0", Some(true)),
            ("1_0", Some(true)),
            ("1__0", None),
            ("-1.x", Some(false)),
            ("2.x", Some(true)),
            ("1.x", None),
            ("1.0.0rc1", None),
            ("1.0.0.x", Some(true)),
            ("99999999999999999999999999999999999999999999", Some(true)),
            (&format!("1{}", "0".repeat(4299)), Some(true)),
            (&format!("1{}", "0".repeat(4300)), None),
            (&format!("1.{}", "0".repeat(4301)), None),
            ("\u{a0}2\u{2000}", Some(true)),
            ("\x1f2", None),
        ] {
            assert_eq!(at_least_1_0_0(version), expected, "{version}");
        }
    }

    #[test]
    fn an_incomparable_version_fails_the_strict_choice_and_is_passed_over_by_the_server() {
        let accept = Some("text/plain; version=1.x, application/openmetrics-text");
        assert!(matches!(negotiate_text(accept), Err(Error::IncomparableVersion { version }) if version == "1.x"));
        assert_eq!(negotiate(accept).content_type(), CONTENT_TYPE_OPENMETRICS);
        let protobuf = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited";
        assert_eq!(negotiate_text(Some(protobuf)).unwrap().content_type(), CONTENT_TYPE_TEXT_0_0_4);
        assert_eq!(
            negotiate_text(Some("application/openmetrics-text; version=2.0.0")).unwrap().version(),
            Some("2.0.0")
        );
    }

    #[test]
    fn no_header_or_unknown_types_get_text_0_0_4() {
        assert_eq!(negotiate(None), Format::text());
        assert_eq!(ct("application/json"), CONTENT_TYPE_TEXT_0_0_4);
        assert_eq!(ct("text/plain"), CONTENT_TYPE_TEXT_0_0_4);
        assert_eq!(ct("text/plain; version=0.0.4"), CONTENT_TYPE_TEXT_0_0_4);
    }

    #[test]
    fn openmetrics_without_version_gets_the_latest_content_type() {
        assert_eq!(ct("application/openmetrics-text"), CONTENT_TYPE_OPENMETRICS);
        assert_eq!(
            negotiate(Some("application/openmetrics-text")).syntax(),
            Syntax::OpenMetrics(OpenMetricsVersion::V1)
        );
    }

    #[test]
    fn openmetrics_with_version_echoes_version_and_escaping() {
        assert_eq!(
            ct("application/openmetrics-text; version=1.0.0; escaping=allow-utf-8"),
            "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=allow-utf-8"
        );
        assert_eq!(
            negotiate(Some("application/openmetrics-text;version=1.0.0;escaping=dots")).escaping(),
            Escaping::Dots
        );
    }

    #[test]
    fn openmetrics_2_writes_native_histograms() {
        let f = negotiate(Some("application/openmetrics-text; version=2.0.0"));
        assert_eq!(f.syntax(), Syntax::OpenMetrics(OpenMetricsVersion::V2));
        assert_eq!(
            f.content_type(),
            "application/openmetrics-text; version=2.0.0; charset=utf-8; escaping=underscores"
        );
        let f = negotiate(Some("application/openmetrics-text; version=1.1.0"));
        assert_eq!(f.syntax(), Syntax::OpenMetrics(OpenMetricsVersion::V1));
    }

    #[cfg(feature = "protobuf")]
    #[test]
    fn delimited_protobuf_is_served_when_listed_first() {
        // Prometheus' Accept header with native histograms enabled.
        let prometheus = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.8,application/openmetrics-text;version=1.0.0;q=0.7,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        assert_eq!(negotiate(Some(prometheus)).syntax(), Syntax::Protobuf);
        assert_eq!(ct(prometheus), crate::CONTENT_TYPE_PROTOBUF);
        // Other encodings or messages, and protobuf after a text format, get text.
        let text = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=text";
        assert_eq!(negotiate(Some(text)).syntax(), Syntax::Text);
        let later = "application/openmetrics-text;version=1.0.0,application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited";
        assert_eq!(negotiate(Some(later)).syntax(), Syntax::OpenMetrics(OpenMetricsVersion::V1));
    }

    #[test]
    fn old_openmetrics_versions_fall_through_to_the_next_choice() {
        let f = negotiate(Some("application/openmetrics-text; version=0.0.1,text/plain;version=1.0.0"));
        assert_eq!(f.content_type(), "text/plain; version=1.0.0; charset=utf-8; escaping=underscores");
        assert_eq!(f.syntax(), Syntax::Text);
    }

    #[test]
    fn prometheus_default_accept_header_picks_openmetrics() {
        let accept = "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2";
        let f = negotiate(Some(accept));
        assert_eq!(f.syntax(), Syntax::OpenMetrics(OpenMetricsVersion::V1));
        assert_eq!(f.escaping(), Escaping::AllowUtf8);
    }

    #[test]
    fn name_filter_reads_repeated_and_encoded_names() {
        let names = name_filter("name[]=a_total&x=1&name%5B%5D=b%3Ac&name[]=").unwrap();
        assert_eq!(names, HashSet::from(["a_total".to_owned(), "b:c".to_owned()]));
        assert!(name_filter("x=1").is_none());
    }

    #[test]
    fn non_numeric_versions_fall_through() {
        assert_eq!(negotiate(Some("application/openmetrics-text; version=1.x")), Format::text());
    }
}
