//! What can go wrong.

use std::path::PathBuf;

/// A store operation that failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file or directory could not be created, read, locked, grown or renamed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A key longer than the layout can hold.
    #[error("a store key holds at most {max} bytes, not {len}", max = crate::layout::MAX_KEY_LEN)]
    KeyTooLong {
        /// Its length.
        len: usize,
    },
}

/// Why a file could not be read; the file is reported and left out, and reading goes on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Problem {
    /// It could not be opened or mapped.
    #[error("cannot read it: {0}")]
    Io(#[source] std::io::Error),
    /// It is not a store file.
    #[error("not a store file (wrong magic bytes)")]
    Foreign,
    /// It was written by another version of the format.
    #[error("store format version {0} is not supported")]
    Version(u32),
    /// It is shorter than its header says.
    #[error("truncated: {used} bytes in use but {len} in the file")]
    Truncated {
        /// Bytes the header says are in use.
        used: u64,
        /// Bytes in the file.
        len: u64,
    },
    /// An entry does not hold together.
    #[error("torn at byte {offset}: {reason}")]
    Torn {
        /// Where the bad entry starts.
        offset: u64,
        /// What is wrong with it.
        reason: &'static str,
    },
}

/// A file left out of a read, and why.
#[derive(Debug, thiserror::Error)]
#[error("{}: {problem}", path.display())]
pub struct FileProblem {
    /// The file.
    pub path: PathBuf,
    /// What is wrong with it.
    #[source]
    pub problem: Problem,
}
