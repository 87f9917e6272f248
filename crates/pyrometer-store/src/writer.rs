//! A process's own file: created locked, grown in chunks, its entries published atomically.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};

use crate::error::Error;
use crate::layout::{
    HEADER_LEN, MAX_KEY_LEN, MERGED_FILE, MIN_ENTRY_LEN, PADDING, USED_OFFSET, VALUE_OFFSET, entry_header, entry_len,
    header,
};
use crate::merge::Merge;
use crate::shared_memory::Region;

/// The first chunk's size; each further chunk doubles the last.
const FIRST_CHUNK: usize = 64 * 1024;

/// One value in a process file: a counter's total, a bucket, a gauge. Cloning gives another
/// handle to the same value; the mapping it lives in stays mapped while any handle does.
#[derive(Clone)]
pub struct Slot {
    region: Arc<Region>,
    at: usize,
    /// Under a timed rule, the word that says when the value was last written.
    written_at: Option<usize>,
}

impl Slot {
    /// Adds `amount`.
    #[inline]
    pub fn add(&self, amount: f64) {
        let cell = self.region.atomic(self.at);
        // The closure never refuses, so `fetch_update` cannot fail.
        let _ = cell
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| Some((f64::from_bits(bits) + amount).to_bits()));
        self.stamp(None);
    }

    /// Sets the value.
    #[inline]
    pub fn set(&self, value: f64) {
        self.region.atomic(self.at).store(value.to_bits(), Ordering::Relaxed);
        self.stamp(None);
    }

    /// Sets the value as written at `written` (Unix nanoseconds), which a timed rule keeps.
    pub fn set_written(&self, value: f64, written: u64) {
        self.region.atomic(self.at).store(value.to_bits(), Ordering::Relaxed);
        self.stamp(Some(written));
    }

    /// Records when the value was written, under a timed rule: now, unless told.
    #[inline]
    fn stamp(&self, written: Option<u64>) {
        if let Some(at) = self.written_at {
            self.region.atomic(at).store(written.unwrap_or_else(crate::directory::now_nanos), Ordering::Relaxed);
        }
    }

    /// The value.
    #[must_use]
    pub fn get(&self) -> f64 {
        f64::from_bits(self.region.atomic(self.at).load(Ordering::Relaxed))
    }
}

impl std::fmt::Debug for Slot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Slot").field("value", &self.get()).finish()
    }
}

/// The file this process writes its series to. It holds an exclusive lock on the file for as
/// long as it is open, which is how readers know the process is alive; when the process ends,
/// however it ends, the system releases the lock.
#[derive(Clone)]
pub struct ProcessFile {
    shared: Arc<Shared>,
}

struct Shared {
    path: Mutex<PathBuf>,
    /// Locked for the process's lifetime: the liveness signal.
    file: File,
    /// The chunk holding the header, whose `used` word publishes entries.
    head: Arc<Region>,
    state: Mutex<State>,
}

struct State {
    /// The chunk new entries go to, and where it starts in the file.
    chunk: Arc<Region>,
    chunk_start: usize,
    /// Bytes in use, as published.
    used: usize,
    /// Slots by key, then by rule (a key almost always has one).
    slots: HashMap<Vec<u8>, Vec<(Merge, Slot)>, foldhash::fast::RandomState>,
}

impl std::fmt::Debug for ProcessFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProcessFile").field("path", &self.path()).finish_non_exhaustive()
    }
}

impl ProcessFile {
    /// Creates `path` and locks it. Readers take any unlocked process file for a dead
    /// process's, so a file is created under a name they skip and renamed once locked.
    pub(crate) fn create(path: &Path, pid: u32, created_nanos: u64) -> Result<Self, Error> {
        let io = |source| Error::Io { path: path.to_owned(), source };
        let file = OpenOptions::new().read(true).write(true).create_new(true).open(path).map_err(io)?;
        file.try_lock().map_err(|e| io(e.into()))?;
        file.set_len(FIRST_CHUNK as u64).map_err(io)?;
        let head = Arc::new(Region::writable(&file, 0, FIRST_CHUNK).map_err(io)?);
        head.write(0, &header(pid, created_nanos));
        let state = State { chunk: Arc::clone(&head), chunk_start: 0, used: HEADER_LEN, slots: HashMap::default() };
        let path = Mutex::new(path.to_owned());
        Ok(Self { shared: Arc::new(Shared { path, file, head, state: Mutex::new(state) }) })
    }

    /// Gives the file its name, replacing any file of that name.
    pub(crate) fn rename(&self, to: &Path) -> Result<(), Error> {
        let mut path = self.shared.path.lock().unwrap_or_else(PoisonError::into_inner);
        std::fs::rename(&*path, to).map_err(|source| Error::Io { path: to.to_owned(), source })?;
        to.clone_into(&mut path);
        Ok(())
    }

    /// Where the file is.
    #[must_use]
    pub fn path(&self) -> PathBuf {
        self.shared.path.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// The slot of `key` under `merge`, created (at 0) on first use. The same key and rule
    /// always give the same slot.
    ///
    /// # Errors
    /// A key longer than [`MAX_KEY_LEN`], or a failure to grow the file.
    pub fn slot(&self, key: &[u8], merge: Merge) -> Result<Slot, Error> {
        let mut state = self.shared.state.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, slot)) = state.slots.get(key).and_then(|rules| rules.iter().find(|(m, _)| *m == merge)) {
            return Ok(slot.clone());
        }
        let slot = self.append(&mut state, key, merge as u8, merge.is_timed())?;
        state.slots.entry(key.to_vec()).or_default().push((merge, slot.clone()));
        Ok(slot)
    }

    /// Writes an entry at the end and publishes it.
    fn append(&self, state: &mut State, key: &[u8], kind: u8, timed: bool) -> Result<Slot, Error> {
        if key.len() > MAX_KEY_LEN {
            return Err(Error::KeyTooLong { len: key.len() });
        }
        let len = entry_len(key.len(), timed);
        if state.used + len > state.chunk_start + state.chunk.len() {
            self.grow(state, len)?;
        }
        let at = state.used - state.chunk_start;
        state.chunk.write(at, &entry_header(len, key.len(), kind, 0.0));
        state.chunk.write(at + crate::layout::ENTRY_HEADER_LEN, key);
        state.used += len;
        self.publish(state.used);
        // A timed entry's last word, zero until the first write, says when it was written.
        let written_at = timed.then_some(at + len - 8);
        Ok(Slot { region: Arc::clone(&state.chunk), at: at + VALUE_OFFSET, written_at })
    }

    /// Fills the rest of the current chunk with padding and maps a new chunk after it, at least
    /// twice as large and big enough for an entry of `need` bytes.
    fn grow(&self, state: &mut State, need: usize) -> Result<(), Error> {
        let io = |source| Error::Io { path: self.path(), source };
        let chunk_end = state.chunk_start + state.chunk.len();
        let rest = chunk_end - state.used;
        if rest >= MIN_ENTRY_LEN {
            state.chunk.write(state.used - state.chunk_start, &entry_header(rest, 0, PADDING, 0.0)[..MIN_ENTRY_LEN]);
        }
        let size = (state.chunk.len() * 2).max(need.next_multiple_of(FIRST_CHUNK));
        self.shared.file.set_len((chunk_end + size) as u64).map_err(io)?;
        state.chunk = Arc::new(Region::writable(&self.shared.file, chunk_end as u64, size).map_err(io)?);
        state.chunk_start = chunk_end;
        state.used = chunk_end;
        self.publish(chunk_end);
        Ok(())
    }

    /// Makes every entry below `used` visible to readers.
    fn publish(&self, used: usize) {
        self.shared.head.atomic(USED_OFFSET).store(used as u64, Ordering::Release);
    }

    /// Records, in an archive being built, that the process file `name` is merged into it.
    pub(crate) fn record_merged(&self, name: &str) -> Result<(), Error> {
        let mut state = self.shared.state.lock().unwrap_or_else(PoisonError::into_inner);
        self.append(&mut state, name.as_bytes(), MERGED_FILE, false).map(drop)
    }
}
