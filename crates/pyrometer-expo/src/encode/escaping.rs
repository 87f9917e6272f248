//! Escaping of names and values, as `prometheus_client` does it for each escaping scheme.
//!
//! Label values and help texts are always UTF-8 with backslash escapes. Metric and label names
//! outside the legacy character set are rewritten according to the scheme a scraper asked for
//! (the `escaping` parameter of the Accept header), or quoted under `allow-utf-8`.

use std::fmt::Write;
use std::str::FromStr;

use pyrometer_core::name::{is_legacy_label_name, is_legacy_metric_name};

/// How names outside the legacy character set are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Escaping {
    /// Names are written as they are, quoted when they need it.
    AllowUtf8,
    /// Each character outside the legacy set becomes `_` (the default).
    #[default]
    Underscores,
    /// `_` becomes `__`, `.` becomes `_dot_`, anything else outside the set `__`.
    Dots,
    /// `U__` then `_` as `__` and anything outside the set as `_<hex code point>_`.
    Values,
}

impl Escaping {
    /// The name used in headers: `allow-utf-8`, `underscores`, `dots`, `values`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::AllowUtf8 => "allow-utf-8",
            Self::Underscores => "underscores",
            Self::Dots => "dots",
            Self::Values => "values",
        }
    }
}

impl FromStr for Escaping {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "allow-utf-8" => Ok(Self::AllowUtf8),
            "underscores" => Ok(Self::Underscores),
            "dots" => Ok(Self::Dots),
            "values" => Ok(Self::Values),
            _ => Err(()),
        }
    }
}

/// Which characters a kind of name may hold unescaped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Runes {
    /// `[a-zA-Z_:]`, digits after the first character.
    Metric,
    /// `[a-zA-Z_]`, digits after the first character.
    Label,
}

impl Runes {
    fn allows(self, c: char, index: usize) -> bool {
        c.is_ascii_alphabetic() || c == '_' || (c.is_ascii_digit() && index > 0) || (self == Self::Metric && c == ':')
    }
}

/// Appends `s` with `\`, newline and `"` backslash-escaped: label values, OpenMetrics help.
pub(crate) fn write_quoted_escapes(out: &mut String, s: &str) {
    write_with_escapes(out, s, true);
}

/// Appends `s` with `\` and newline backslash-escaped: help text in the Prometheus text format.
pub(crate) fn write_help_escapes(out: &mut String, s: &str) {
    write_with_escapes(out, s, false);
}

/// Copies `s` in runs between the bytes that need escaping; those are ASCII, so a byte scan is
/// exact on UTF-8 and much faster than a char search.
fn write_with_escapes(out: &mut String, s: &str, quote: bool) {
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let escaped = match b {
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'"' if quote => "\\\"",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        out.push_str(escaped);
        start = i + 1;
    }
    out.push_str(&s[start..]);
}

/// Appends `s` rewritten character by character under `escaping` (`_escape` upstream).
pub(crate) fn write_escaped(out: &mut String, s: &str, escaping: Escaping, runes: Runes) {
    match escaping {
        Escaping::AllowUtf8 => write_quoted_escapes(out, s),
        Escaping::Underscores => {
            for (i, c) in s.chars().enumerate() {
                out.push(if runes.allows(c, i) { c } else { '_' });
            }
        }
        Escaping::Dots => {
            for (i, c) in s.chars().enumerate() {
                match c {
                    '_' => out.push_str("__"),
                    '.' => out.push_str("_dot_"),
                    c if runes.allows(c, i) => out.push(c),
                    _ => out.push_str("__"),
                }
            }
        }
        Escaping::Values => {
            out.push_str("U__");
            for (i, c) in s.chars().enumerate() {
                match c {
                    '_' => out.push_str("__"),
                    c if runes.allows(c, i) => out.push(c),
                    c => {
                        let _ = write!(out, "_{:x}_", u32::from(c));
                    }
                }
            }
        }
    }
}

fn write_name(out: &mut String, s: &str, escaping: Escaping, runes: Runes, legacy: bool) {
    if s.is_empty() {
        return;
    }
    match escaping {
        Escaping::AllowUtf8 if !legacy => {
            out.push('"');
            write_quoted_escapes(out, s);
            out.push('"');
        }
        Escaping::AllowUtf8 | Escaping::Underscores | Escaping::Values if legacy => out.push_str(s),
        _ => write_escaped(out, s, escaping, runes),
    }
}

/// Appends a metric name as `escape_metric_name` writes it.
pub(crate) fn write_metric_name(out: &mut String, name: &str, escaping: Escaping) {
    write_name(out, name, escaping, Runes::Metric, is_legacy_metric_name(name));
}

/// Appends a label name as `escape_label_name` writes it.
pub(crate) fn write_label_name(out: &mut String, name: &str, escaping: Escaping) {
    let legacy = is_legacy_label_name(name) && !name.starts_with("__");
    write_name(out, name, escaping, Runes::Label, legacy);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metric(name: &str, e: Escaping) -> String {
        let mut s = String::new();
        write_metric_name(&mut s, name, e);
        s
    }

    #[test]
    fn legacy_names_pass_through_except_under_dots() {
        assert_eq!(metric("a_b:c", Escaping::Underscores), "a_b:c");
        assert_eq!(metric("a_b:c", Escaping::AllowUtf8), "a_b:c");
        assert_eq!(metric("a_b:c", Escaping::Values), "a_b:c");
        assert_eq!(metric("a_b", Escaping::Dots), "a__b");
    }

    #[test]
    fn utf8_names_are_rewritten_per_scheme() {
        assert_eq!(metric("my.métric", Escaping::Underscores), "my_m_tric");
        assert_eq!(metric("my.métric", Escaping::AllowUtf8), "\"my.métric\"");
        assert_eq!(metric("my.m_x", Escaping::Dots), "my_dot_m__x");
        assert_eq!(metric("a.é_1", Escaping::Values), "U__a_2e__e9___1");
        assert_eq!(metric("1a", Escaping::Underscores), "_a");
    }

    #[test]
    fn label_values_escape_backslash_newline_and_quote() {
        let mut s = String::new();
        write_quoted_escapes(&mut s, "a\\b\n\"c\"");
        assert_eq!(s, r#"a\\b\n\"c\""#);
    }

    #[test]
    fn escaping_names_round_trip_through_from_str() {
        for e in [Escaping::AllowUtf8, Escaping::Underscores, Escaping::Dots, Escaping::Values] {
            assert_eq!(e.as_str().parse::<Escaping>(), Ok(e));
        }
    }
}
