//! Parsers for the text formats, accepting what `prometheus_client`'s parsers accept.
//!
//! Both parsers return every family or the first problem, as [`crate::Error::Parse`] with the
//! 1-based line it was found on. Messages follow `prometheus_client`'s wording where it has a
//! clear one.

mod lexer;
mod native_histogram;
pub mod openmetrics;
#[cfg(feature = "protobuf")]
pub mod protobuf;
#[cfg(test)]
mod test_support;
pub mod text;

pub use crate::error::ParseErrorKind;

/// Wraps a problem found on `line` into the crate's error.
fn at(line: usize) -> impl Fn(ParseErrorKind) -> crate::Error {
    move |kind| crate::Error::Parse { line, kind }
}
