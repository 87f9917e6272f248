//! Parsers for the text formats.

pub mod openmetrics;
pub mod text;

/// What is wrong with a line of input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// The parsers are not built yet.
    #[error("unsupported")]
    Unsupported,
}
