//! The multiprocess store of pyrometer.
//!
//! Each process of an application (gunicorn or uvicorn workers, say) writes its series into a
//! memory-mapped file of its own with atomic operations; a reader merges every file into one
//! picture without ever blocking a writer. A process holds an advisory lock on its file for as
//! long as it lives, so a reader tells a dead process's file from a live one's by whether the
//! lock can be taken, even after `SIGKILL`: no exit hook is needed. Dead processes' files are
//! merged into one archive (counters accumulate; gauges follow their mode) and removed, so a
//! read costs what the live processes hold, not what every process ever wrote.
//!
//! ```
//! use pyrometer_store::{Merge, StoreDir};
//! # let dir = std::env::temp_dir().join(format!("pyrometer-store-doc-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir).unwrap();
//! let store = StoreDir::open(&dir)?;
//! let mine = store.create_process_file()?;
//! mine.slot(b"requests_total", Merge::Sum)?.add(3.0);
//! let merged = store.read()?.merged();
//! assert_eq!(merged, [(b"requests_total".to_vec(), Merge::Sum, 3.0)]);
//! # std::fs::remove_dir_all(&dir).unwrap();
//! # Ok::<(), pyrometer_store::Error>(())
//! ```

mod clock;
mod collector;
mod directory;
mod error;
mod exemplar;
mod layout;
mod merge;
mod mirror;
mod native;
mod reader;
mod scrape;
mod series;
mod shared_memory;
mod sketch;
mod writer;

pub use collector::{DirectoryCollector, ProblemReporter, UNREADABLE_FILES_METRIC, UNSTORED_SERIES_METRIC};
pub use directory::{Reaped, Snapshot, StoreDir};
pub use error::{Error, FileProblem, Problem};
pub use exemplar::StoredExemplar;
pub use layout::{MAX_KEY_LEN, REMOVED};
pub use merge::{Merge, Value};
pub use mirror::{StoreMirror, StoredSeries, mirror_error, report_unstored_series_with, unstored, unstored_series};
pub use reader::{Entry, FileEntries, read_file, read_readable};
pub use series::series_key;
pub use sketch::StoredSketch;
pub use writer::{ExemplarSlot, ProcessFile, Slot};
