//! A process's own file: created locked, grown in chunks, its entries published atomically.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};

use pyrometer_core::Exemplar;

use crate::error::Error;
use crate::exemplar::{PAYLOAD_WORDS, encode_labels};
use crate::layout::{
    EXEMPLAR, HEADER_LEN, MAX_KEY_LEN, MERGED_FILE, MIN_ENTRY_LEN, PADDING, USED_OFFSET, VALUE_OFFSET, entry_header,
    entry_len, header,
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
    /// Adds `amount`, unless the series is [removed](Slot::remove): a stale handle does not
    /// bring it back.
    #[inline]
    pub fn add(&self, amount: f64) {
        let cell = self.region.atomic(self.at);
        let added = cell.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| {
            (bits != crate::layout::REMOVED).then(|| (f64::from_bits(bits) + amount).to_bits())
        });
        if added.is_ok() {
            self.stamp(None);
        }
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

    /// Marks the series removed: readers and the archive leave it out until it is set again.
    pub fn remove(&self) {
        self.region.atomic(self.at).store(crate::layout::REMOVED, Ordering::Relaxed);
        self.stamp(None);
    }

    /// Whether the series is marked removed.
    #[must_use]
    pub fn is_removed(&self) -> bool {
        self.region.atomic(self.at).load(Ordering::Relaxed) == crate::layout::REMOVED
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

/// The exemplar of one series in a process file. Cloning gives another handle to the same one.
#[derive(Clone)]
pub struct ExemplarSlot {
    region: Arc<Region>,
    /// The sequence word, then the payload.
    seq: usize,
    payload: usize,
    /// One writer at a time: the payload spans many words.
    writing: Arc<Mutex<()>>,
}

impl ExemplarSlot {
    /// Replaces the exemplar; false (and nothing written) when its labels do not fit an entry.
    #[allow(clippy::must_use_candidate)] // Python's exemplars are checked before; the answer is for others.
    pub fn write(&self, exemplar: &Exemplar) -> bool {
        self.write_at(exemplar, crate::directory::now_nanos())
    }

    /// Replaces the exemplar as written at `written` (Unix nanoseconds).
    pub(crate) fn write_at(&self, exemplar: &Exemplar, written: u64) -> bool {
        let Some(text) = encode_labels(&exemplar.labels) else { return false };
        let _writing = self.writing.lock().unwrap_or_else(PoisonError::into_inner);
        crate::exemplar::write(&self.region, self.seq, self.payload, exemplar, &text, written);
        true
    }
}

impl std::fmt::Debug for ExemplarSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExemplarSlot").finish_non_exhaustive()
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
    /// Exemplar slots by the key of their series.
    exemplars: HashMap<Vec<u8>, ExemplarSlot, foldhash::fast::RandomState>,
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
        crate::shared_memory::reserve(&file, 0, FIRST_CHUNK as u64).map_err(io)?;
        let head = Arc::new(Region::writable(&file, 0, FIRST_CHUNK).map_err(io)?);
        head.write(0, &header(pid, created_nanos));
        let state = State {
            chunk: Arc::clone(&head),
            chunk_start: 0,
            used: HEADER_LEN,
            slots: HashMap::default(),
            exemplars: HashMap::default(),
        };
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

    /// Gives the file up as a dead process's: its lock is released, so the next reader merges
    /// it into the archive (by the rules of a process that ended) and removes it. What is
    /// written through it afterwards is lost. For one process that writes on behalf of several
    /// (a test that stands in for workers, a supervisor that outlives a worker's share).
    ///
    /// # Errors
    /// The system refusing to release the lock.
    pub fn retire(&self) -> Result<(), Error> {
        self.shared.file.unlock().map_err(|source| Error::Io { path: self.path(), source })
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
        let slot = self.append(&mut state, key, merge as u8, merge.is_timed(), 0)?;
        state.slots.entry(key.to_vec()).or_default().push((merge, slot.clone()));
        Ok(slot)
    }

    /// The exemplar slot of the series with `key`, created (empty) on first use.
    ///
    /// # Errors
    /// As for [`slot`](Self::slot).
    pub fn exemplar_slot(&self, key: &[u8]) -> Result<ExemplarSlot, Error> {
        let mut state = self.shared.state.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(slot) = state.exemplars.get(key) {
            return Ok(slot.clone());
        }
        let entry = self.append(&mut state, key, EXEMPLAR, false, PAYLOAD_WORDS)?;
        let payload = entry.at - VALUE_OFFSET + entry_len(key.len(), false);
        let slot = ExemplarSlot { region: entry.region, seq: entry.at, payload, writing: Arc::default() };
        state.exemplars.insert(key.to_vec(), slot.clone());
        Ok(slot)
    }

    /// Writes an entry (with `payload_words` more words after its key) at the end and
    /// publishes it.
    fn append(
        &self,
        state: &mut State,
        key: &[u8],
        kind: u8,
        timed: bool,
        payload_words: usize,
    ) -> Result<Slot, Error> {
        if key.len() > MAX_KEY_LEN {
            return Err(Error::KeyTooLong { len: key.len() });
        }
        let len = entry_len(key.len(), timed) + 8 * payload_words;
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
        // The space is taken before it is mapped: a full disk fails here, not at a write.
        crate::shared_memory::reserve(&self.shared.file, chunk_end as u64, size as u64).map_err(io)?;
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
        self.append(&mut state, name.as_bytes(), MERGED_FILE, false, 0).map(drop)
    }
}
