//! Writing a registry to a file for the node exporter's textfile collector, atomically: the text
//! goes to a temporary file beside the target, which is then renamed over it, so the collector
//! never reads half a file.

use std::io::Write;
use std::path::{Path, PathBuf};

use pyrometer_core::Registry;
use pyrometer_expo::{Escaping, text_to_bytes};

/// Why the file could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TextfileError {
    /// The directory the file goes in does not exist.
    #[error("cannot write {}: the directory {} does not exist", path.display(), dir.display())]
    NoDirectory {
        /// The file asked for.
        path: PathBuf,
        /// Its missing directory.
        dir: PathBuf,
    },
    /// Collecting the registry failed.
    #[error("collecting the registry failed: {0}")]
    Collect(#[from] pyrometer_core::Error),
    /// The temporary file could not be created.
    #[error("cannot create {}: {source}", staged.display())]
    Stage {
        /// The temporary file.
        staged: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The temporary file could not be written (a full disk, say).
    #[error("cannot write {}: {source}", staged.display())]
    Write {
        /// The temporary file.
        staged: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The temporary file could not be renamed over the target.
    #[error("cannot rename {} to {}: {source}", staged.display(), path.display())]
    Replace {
        /// The temporary file.
        staged: PathBuf,
        /// The file asked for.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// Writes the registry to `path` in the text format, atomically; the temporary file is removed
/// if anything fails.
///
/// # Errors
/// A missing directory, a failed collection, or a failed write or rename.
pub fn write_to_textfile(path: &Path, registry: &Registry) -> Result<(), TextfileError> {
    let dir = match path.parent() {
        Some(dir) if dir.as_os_str().is_empty() => Path::new("."),
        Some(dir) => dir,
        None => Path::new("."),
    };
    if !dir.is_dir() {
        return Err(TextfileError::NoDirectory { path: path.to_owned(), dir: dir.to_owned() });
    }
    let text = text_to_bytes(&registry.collect()?, Escaping::Underscores);
    let mut staged = path.as_os_str().to_owned();
    staged.push(format!(".{}.{:?}.tmp", std::process::id(), std::thread::current().id()));
    write_atomically(path, Path::new(&staged), &text)
}

/// `EINVAL`, what `fsync` answers on a filesystem that cannot flush (the same on every Unix).
const EINVAL: i32 = 22;

/// Writes `bytes` to `path` atomically: to `staged` first (which must be on the same
/// filesystem), flushed to disk, then renamed over `path`. `staged` is removed if anything fails.
///
/// # Errors
/// [`TextfileError::Stage`] when `staged` cannot be created, [`TextfileError::Write`] when it
/// cannot be written, [`TextfileError::Replace`] when it cannot be renamed over `path`.
pub fn write_atomically(path: &Path, staged: &Path, bytes: &[u8]) -> Result<(), TextfileError> {
    let mut file =
        std::fs::File::create(staged).map_err(|source| TextfileError::Stage { staged: staged.to_owned(), source })?;
    let written = file.write_all(bytes).and_then(|()| match file.sync_all() {
        // A filesystem that cannot flush (some network or virtual ones) still takes the file.
        Err(e) if e.raw_os_error() == Some(EINVAL) => Ok(()),
        other => other,
    });
    drop(file);
    if let Err(source) = written {
        let _ = std::fs::remove_file(staged);
        return Err(TextfileError::Write { staged: staged.to_owned(), source });
    }
    std::fs::rename(staged, path).map_err(|source| {
        let _ = std::fs::remove_file(staged);
        TextfileError::Replace { staged: staged.to_owned(), path: path.to_owned(), source }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use pyrometer_core::{Counter, Family, Metadata};

    fn registry() -> Registry {
        let registry = Registry::new();
        registry.set_created_enabled(false);
        let jobs = Family::<Counter>::new(Metadata::new("jobs", "Jobs.")).unwrap();
        jobs.without_labels().unwrap().inc();
        registry.register(jobs).unwrap();
        registry
    }

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("pyrometer-textfile-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn writes_the_text_and_leaves_no_temporary_file() {
        let dir = scratch("ok");
        let path = dir.join("app.prom");
        std::fs::write(&path, "old").unwrap();
        write_to_textfile(&path, &registry()).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "# HELP jobs_total Jobs.\n# TYPE jobs_total counter\njobs_total 1.0\n"
        );
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_missing_directory_is_named() {
        let err = write_to_textfile(Path::new("/nonexistent/dir/app.prom"), &registry()).unwrap_err();
        assert!(matches!(err, TextfileError::NoDirectory { .. }));
        assert!(err.to_string().contains("/nonexistent/dir"), "{err}");
    }

    #[test]
    fn a_failed_rename_removes_the_temporary_file() {
        let dir = scratch("fail");
        let target = dir.join("taken");
        std::fs::create_dir(target.join("")).unwrap();
        std::fs::write(target.join("inside"), "x").unwrap(); // a non-empty directory cannot be replaced
        assert!(matches!(write_to_textfile(&target, &registry()), Err(TextfileError::Replace { .. })));
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_staging_file_that_cannot_be_made_is_named() {
        let dir = scratch("stage");
        let staged = dir.join("missing").join("app.prom.tmp");
        let err = write_atomically(&dir.join("app.prom"), &staged, b"x").unwrap_err();
        assert!(matches!(&err, TextfileError::Stage { staged: named, .. } if *named == staged), "{err}");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
