//! The one error type of this crate.

/// What can go wrong while encoding or parsing an exposition.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input is not a valid exposition; `line` counts from 1.
    #[error("line {line}: {kind}")]
    Parse {
        /// The line the problem was found on, from 1.
        line: usize,
        /// What is wrong.
        kind: crate::parse::ParseErrorKind,
    },
    /// Protobuf input that does not decode, or decodes to something the data model cannot hold.
    #[error("invalid protobuf exposition: {message}")]
    Protobuf {
        /// What is wrong.
        message: String,
    },
    /// An exemplar is attached to a sample that cannot carry one.
    #[error("Metric {family} has exemplars, but is not a histogram bucket or counter")]
    MisplacedExemplar {
        /// The family name.
        family: String,
    },
}
