//! A store directory: the live processes' files, the archive of the dead ones, and the rules
//! that keep the two apart.
//!
//! - `proc-<created>-<pid>-<nonce>.pyrostore`: a process's file, locked while the process lives,
//!   named so that files sort in the order they were made (`created` in fixed-width hex);
//! - `archive.pyrostore`: what dead processes left, merged; replaced whole, by rename;
//! - `.merge.lock`: held by whoever is merging, so that two readers never merge at once;
//! - `.new-*`: files being created, and `*.corrupt`: files that could not be read when their
//!   process had died, kept aside for inspection. Readers skip both.

use std::collections::{HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::clock::now_nanos;
use crate::error::{Error, FileProblem};
use crate::exemplar::StoredExemplar;
use crate::merge::{Merge, Value};
use crate::reader::{Entry, FileEntries, read_file, read_readable};
use crate::writer::ProcessFile;

const PROCESS_PREFIX: &str = "proc-";
const SUFFIX: &str = ".pyrostore";
const ARCHIVE: &str = "archive.pyrostore";
const MERGE_LOCK: &str = ".merge.lock";
/// How long a reap waits for another process's merge (or a lock someone left held) before it
/// leaves the dead processes to a later scrape; their files are read as they are meanwhile.
const MERGE_LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(2);
const STAGING_PREFIX: &str = ".new-";

/// A directory shared by the processes of one application.
#[derive(Clone, Debug)]
pub struct StoreDir {
    path: PathBuf,
}

/// What a read found: the archive and the live processes' files, and the files it had to leave
/// out.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// The archive first (if there is one), then each live process's file.
    pub files: Vec<FileEntries>,
    /// Files that could not be read.
    pub problems: Vec<FileProblem>,
}

/// What a merge of dead processes did.
#[derive(Debug, Default)]
pub struct Reaped {
    /// Process files merged into the archive and removed.
    pub merged: usize,
    /// Unreadable files of dead processes, renamed to `*.corrupt`.
    pub problems: Vec<FileProblem>,
}

impl StoreDir {
    /// The store in `path`, which must be an existing directory.
    ///
    /// # Errors
    /// A path that is not a directory.
    pub fn open(path: impl Into<PathBuf>) -> Result<Self, Error> {
        let path = path.into();
        if !path.is_dir() {
            let source = std::io::Error::new(std::io::ErrorKind::NotFound, "not a directory");
            return Err(Error::Io { path, source });
        }
        Ok(Self { path })
    }

    /// The directory.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A new, locked file for this process's series.
    ///
    /// # Errors
    /// A file that cannot be created, locked or renamed.
    pub fn create_process_file(&self) -> Result<ProcessFile, Error> {
        let pid = std::process::id();
        let nonce = nonce();
        let created = now_nanos();
        let staging = self.path.join(format!("{STAGING_PREFIX}{pid}-{nonce:x}"));
        // A file that cannot be made whole (a full disk) leaves nothing behind.
        let file = ProcessFile::create(&staging, pid, created).inspect_err(|_| {
            let _ = std::fs::remove_file(&staging);
        })?;
        // Readers take files in name order, so series are first seen in the order their
        // processes started, whatever the pids.
        let name = format!("{PROCESS_PREFIX}{created:016x}-{pid}-{nonce:x}{SUFFIX}");
        file.rename(&self.path.join(&name)).inspect_err(|_| {
            let _ = std::fs::remove_file(&staging);
        })?;
        ours().push(self.path.join(&name));
        if self.pid_taken_before(pid, &name)? {
            file.set_identifier(format!("{pid}-{nonce:x}"));
        }
        Ok(file)
    }

    /// Whether a live process of another PID namespace (another container sharing the
    /// directory) with the same pid made its file before the file `name`: the later of the
    /// two is then identified by pid and its file's nonce, so that their per-process series do
    /// not meet under one `pid` label. Files this process made (for processes it stands in
    /// for) do not count.
    fn pid_taken_before(&self, pid: u32, name: &str) -> Result<bool, Error> {
        let ours = ours().clone();
        Ok(self.process_files()?.iter().any(|path| {
            let other = file_name(path);
            other.as_str() < name
                && other.split('-').nth(2).is_some_and(|p| p == pid.to_string())
                && !ours.contains(path)
                && File::open(path).is_ok_and(|f| f.try_lock_shared().is_err())
        }))
    }

    /// Merges the files of dead processes into the archive and removes them. A process is dead
    /// when the lock on its file can be taken: the system released it when the process ended,
    /// whatever ended it.
    ///
    /// A merge lock held for more than two seconds (by a stuck process, say) leaves the dead
    /// processes unmerged this time; their files are still read.
    ///
    /// # Errors
    /// A failure to list the directory, open the merge lock, or write the archive.
    pub fn reap(&self) -> Result<Reaped, Error> {
        let Some(merge_lock) = self.merge_lock()? else { return Ok(Reaped::default()) };
        let archive_path = self.path.join(ARCHIVE);
        let mut reaped = Reaped::default();
        let mut dead: Vec<(PathBuf, File)> = Vec::new();
        for path in self.process_files()? {
            let Ok(file) = OpenOptions::new().read(true).write(true).open(&path) else { continue };
            if file.try_lock().is_ok() {
                dead.push((path, file));
            }
        }
        if dead.is_empty() {
            return Ok(reaped);
        }
        let archive = match read_file(&archive_path) {
            Ok(archive) => Some(archive),
            Err(crate::error::Problem::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(problem) => return Err(Error::Io { path: archive_path, source: std::io::Error::other(problem) }),
        };
        let already: HashSet<String> = archive.iter().flat_map(|a| a.merged_files.iter().cloned()).collect();
        let mut merged_names = Vec::new();
        let mut read = Vec::new();
        let mut torn = Vec::new();
        for (path, _) in &dead {
            let name = file_name(path);
            if already.contains(&name) {
                // Merged by a reader that stopped before removing it.
                merged_names.push(name);
                continue;
            }
            match read_readable(path) {
                Ok((entries, None)) => {
                    read.push(entries);
                    merged_names.push(name);
                }
                // What can be read of a torn file is merged (its counters do not go back), and
                // the file then set aside for inspection.
                Ok((entries, Some(problem))) => {
                    read.push(entries);
                    merged_names.push(name);
                    torn.push(path.clone());
                    reaped.problems.push(FileProblem { path: path.clone(), problem });
                }
                Err(problem) => {
                    set_aside(path);
                    reaped.problems.push(FileProblem { path: path.clone(), problem });
                }
            }
        }
        let mut totals = Totals::default();
        if let Some(archive) = &archive {
            totals.add_all(&archive.entries, |_| true);
            totals.add_exemplars(&archive.exemplars);
        }
        for entries in &read {
            totals.add_all(&entries.entries, |e| e.merge.survives_death());
            totals.add_exemplars(&entries.exemplars);
        }
        self.write_archive(&totals, &merged_names)?;
        for (path, _) in &dead {
            if torn.contains(path) {
                set_aside(path);
            } else if merged_names.contains(&file_name(path)) && std::fs::remove_file(path).is_ok() {
                reaped.merged += 1;
            }
        }
        drop(merge_lock);
        Ok(reaped)
    }

    /// Reaps dead processes, then reads the archive and every live process's file. Never
    /// blocks a writer: entries are read with atomic loads.
    ///
    /// # Errors
    /// A failure of [`reap`](Self::reap) or of listing the directory.
    pub fn read(&self) -> Result<Snapshot, Error> {
        let reaped = self.reap()?;
        let mut snapshot = Snapshot { files: Vec::new(), problems: reaped.problems };
        let archive = self.path.join(ARCHIVE);
        if archive.exists() {
            match read_file(&archive) {
                Ok(entries) => snapshot.files.push(entries),
                Err(problem) => snapshot.problems.push(FileProblem { path: archive, problem }),
            }
        }
        for path in self.process_files()? {
            match read_file(&path) {
                Ok(entries) => snapshot.files.push(entries),
                // A file that vanished was merged by another reader meanwhile.
                Err(crate::error::Problem::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(problem) => snapshot.problems.push(FileProblem { path, problem }),
            }
        }
        Ok(snapshot)
    }

    /// The files a scrape reads: the archive, if there is one, then the live processes' files.
    pub(crate) fn scrape_paths(&self) -> Result<Vec<PathBuf>, Error> {
        let archive = self.path.join(ARCHIVE);
        // Regular files only: opening a FIFO named like the archive would wait for a writer.
        let mut paths = if archive.is_file() { vec![archive] } else { Vec::new() };
        paths.extend(self.process_files()?);
        Ok(paths)
    }

    /// The merge lock, taken; `None` if another holds it longer than [`MERGE_LOCK_WAIT`].
    fn merge_lock(&self) -> Result<Option<File>, Error> {
        let path = self.path.join(MERGE_LOCK);
        let io = |source| Error::Io { path: path.clone(), source };
        let file = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path).map_err(io)?;
        let deadline = std::time::Instant::now() + MERGE_LOCK_WAIT;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(Some(file)),
                Err(std::fs::TryLockError::WouldBlock) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                Err(std::fs::TryLockError::WouldBlock) => return Ok(None),
                Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
            }
        }
    }

    /// The process files, oldest name first.
    fn process_files(&self) -> Result<Vec<PathBuf>, Error> {
        let io = |source| Error::Io { path: self.path.clone(), source };
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.path)
            .map_err(io)?
            .filter_map(Result::ok)
            // Regular files only (a FIFO or a device named like a process file is no store file).
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .map(|e| e.path())
            .filter(|p| {
                let name = file_name(p);
                name.starts_with(PROCESS_PREFIX) && name.ends_with(SUFFIX)
            })
            .collect();
        files.sort();
        Ok(files)
    }

    /// Writes the archive afresh and renames it into place, so a reader sees the old one or the
    /// new one, never a mix.
    fn write_archive(&self, totals: &Totals, merged_names: &[String]) -> Result<(), Error> {
        let staging = self.path.join(format!("{STAGING_PREFIX}archive-{:x}", nonce()));
        let archive = ProcessFile::create(&staging, 0, now_nanos())?;
        let written = (|| {
            for ((key, merge), value) in totals.iter() {
                archive.slot(key, merge)?.set_written(value.value, value.written);
            }
            for (key, stored) in &totals.exemplars {
                archive.exemplar_slot(key)?.write_at(&stored.exemplar, stored.written);
            }
            for name in merged_names {
                archive.record_merged(name)?;
            }
            archive.rename(&self.path.join(ARCHIVE))
        })();
        if written.is_err() {
            let _ = std::fs::remove_file(&staging);
        }
        written
    }
}

/// Values per key and rule, combined, in the order keys were first seen; the keys are borrowed
/// from the entries read.
#[derive(Default)]
struct Totals<'a> {
    combined: Vec<(&'a [u8], Merge, Value)>,
    index: HashMap<(&'a [u8], Merge), usize, foldhash::fast::RandomState>,
    /// The latest exemplar of each series, dead processes' included.
    exemplars: HashMap<&'a [u8], &'a StoredExemplar, foldhash::fast::RandomState>,
}

impl<'a> Totals<'a> {
    fn add_exemplars(&mut self, exemplars: &'a [(Vec<u8>, StoredExemplar)]) {
        for (key, exemplar) in exemplars {
            let kept = self.exemplars.entry(key.as_slice()).or_insert(exemplar);
            if kept.written < exemplar.written {
                *kept = exemplar;
            }
        }
    }

    fn add_all(&mut self, entries: &'a [Entry], keep: impl Fn(&Entry) -> bool) {
        for entry in entries.iter().filter(|e| keep(e)) {
            let id = (entry.key.as_slice(), entry.merge);
            let value = Value { value: entry.value, written: entry.written };
            if let Some(&i) = self.index.get(&id) {
                let total = &mut self.combined[i].2;
                *total = entry.merge.combine(*total, value);
            } else {
                self.index.insert(id, self.combined.len());
                self.combined.push((id.0, id.1, value));
            }
        }
    }

    fn iter(&self) -> impl Iterator<Item = ((&'a [u8], Merge), Value)> + '_ {
        self.combined.iter().map(|(key, merge, value)| ((*key, *merge), *value))
    }
}

impl Snapshot {
    /// Every key's value over the archive and the live processes, each combined by its rule,
    /// in the order keys were first seen.
    #[must_use]
    pub fn merged(&self) -> Vec<(Vec<u8>, Merge, f64)> {
        let mut totals = Totals::default();
        for file in &self.files {
            totals.add_all(&file.entries, |_| true);
        }
        totals.iter().map(|((key, merge), value)| (key.to_vec(), merge, value.value)).collect()
    }
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// A value no other file of this directory is named with: the time, this process, a counter.
/// Renames an unreadable file of a dead process to `*.corrupt`, out of every later read.
fn set_aside(path: &Path) {
    let _ = std::fs::rename(path, path.with_extension("corrupt"));
}

/// The process files this process made, held or retired.
fn ours() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    static OURS: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());
    OURS.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn nonce() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    now_nanos() ^ (u64::from(std::process::id()) << 32) ^ COUNTER.fetch_add(1, Ordering::Relaxed).rotate_left(17)
}
