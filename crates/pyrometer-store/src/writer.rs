//! A process's own file: created locked, grown in chunks, its entries published atomically.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::atomic::{Ordering, fence};
use std::sync::{Arc, Mutex, PoisonError};

use pyrometer_core::Exemplar;

use crate::error::Error;
use crate::exemplar::{PAYLOAD_WORDS, encode_labels};
use crate::layout::{
    ENTRY_HEADER_LEN, EXEMPLAR, HEADER_LEN, HeaderWord, MAX_KEY_LEN, MERGED_FILE, MIN_ENTRY_LEN, PADDING, REMOVED,
    REUSED_OFFSET, USED_OFFSET, VALUE_OFFSET, entry_header, entry_len, header,
};
use crate::merge::Merge;
use crate::shared_memory::Region;

/// The first chunk's size; each further chunk doubles the last.
const FIRST_CHUNK: usize = 64 * 1024;

/// One value in a process file: a counter's total, a bucket, a gauge. Cloning gives another
/// handle to the same value; the mapping it lives in stays mapped while any handle does, and
/// the file reuses its entry for another series only once it is removed and no handle but the
/// file's own is left.
#[derive(Clone)]
pub struct Slot {
    region: Arc<Region>,
    at: usize,
    /// Under a timed rule, the word that says when the value was last written.
    written_at: Option<usize>,
    /// Counts the handles (the file keeps one).
    handles: Arc<()>,
}

impl Slot {
    /// Adds `amount`, unless the series is [removed](Slot::remove): a stale handle does not
    /// bring it back.
    #[inline]
    pub fn add(&self, amount: f64) {
        let cell = self.region.atomic(self.at);
        let added = cell.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| {
            (bits != REMOVED).then(|| (f64::from_bits(bits) + amount).to_bits())
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
            self.region.atomic(at).store(written.unwrap_or_else(crate::clock::now_nanos), Ordering::Relaxed);
        }
    }

    /// Marks the series removed: readers and the archive leave it out until it is set again.
    pub fn remove(&self) {
        self.region.atomic(self.at).store(REMOVED, Ordering::Relaxed);
        self.stamp(None);
    }

    /// Whether the series is marked removed.
    #[must_use]
    pub fn is_removed(&self) -> bool {
        self.region.atomic(self.at).load(Ordering::Relaxed) == REMOVED
    }

    /// The entry, for reuse once no other handle is left.
    fn entry(&self) -> Option<FreeEntry> {
        (Arc::strong_count(&self.handles) == 1 && self.is_removed())
            .then(|| FreeEntry { region: Arc::clone(&self.region), at: self.at - VALUE_OFFSET })
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
        self.write_at(exemplar, crate::clock::now_nanos())
    }

    /// Replaces the exemplar as written at `written` (Unix nanoseconds).
    pub(crate) fn write_at(&self, exemplar: &Exemplar, written: u64) -> bool {
        let Some(text) = encode_labels(&exemplar.labels) else { return false };
        let _writing = self.writing.lock().unwrap_or_else(PoisonError::into_inner);
        crate::exemplar::write(&self.region, self.seq, self.payload, exemplar, &text, written);
        true
    }
}

impl ExemplarSlot {
    /// The entry, for reuse once no other handle is left (a write under way holds one).
    fn entry(&self) -> Option<FreeEntry> {
        (Arc::strong_count(&self.writing) == 1)
            .then(|| FreeEntry { region: Arc::clone(&self.region), at: self.seq - VALUE_OFFSET })
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
    /// What names the process in the `pid` label of per-process series.
    identifier: Mutex<String>,
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
    /// Entries of removed series no handle holds, by length, oldest first: a reader meets the
    /// same entry rewritten as rarely as can be.
    free: BTreeMap<usize, VecDeque<FreeEntry>>,
    /// Entries added or reused since the last look for free ones.
    since_sweep: usize,
}

/// An entry that can be given a new key: where it starts in its chunk.
struct FreeEntry {
    region: Arc<Region>,
    at: usize,
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
            free: BTreeMap::new(),
            since_sweep: 0,
        };
        let path = Mutex::new(path.to_owned());
        let identifier = Mutex::new(pid.to_string());
        Ok(Self { shared: Arc::new(Shared { path, identifier, file, head, state: Mutex::new(state) }) })
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

    /// What names the writing process in the `pid` label of per-process series (gauges merged
    /// by `all` or `liveall`): its pid, or the pid and the file's nonce when another live
    /// process with the same pid (in another PID namespace) wrote to the directory first.
    #[must_use]
    pub fn identifier(&self) -> String {
        self.shared.identifier.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    pub(crate) fn set_identifier(&self, identifier: String) {
        *self.shared.identifier.lock().unwrap_or_else(PoisonError::into_inner) = identifier;
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

    /// Writes an entry (with `payload_words` more words after its key) and publishes it: in the
    /// entry of a removed series if one fits, else at the end.
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
        state.since_sweep += 1;
        if let Some(slot) = self.reuse(state, key, kind, timed, len) {
            return Ok(slot);
        }
        if state.used + len > state.chunk_start + state.chunk.len() {
            // Looking costs a pass over every series: only once as many were added or reused
            // since the last look as half the series there are.
            if state.since_sweep * 2 >= state.slots.len() + state.exemplars.len() {
                state.since_sweep = 0;
                Self::sweep(state);
                if let Some(slot) = self.reuse(state, key, kind, timed, len) {
                    return Ok(slot);
                }
            }
            self.grow(state, len)?;
        }
        let at = state.used - state.chunk_start;
        state.chunk.write(at, &entry_header(len, key.len(), kind, 0.0));
        state.chunk.write(at + ENTRY_HEADER_LEN, key);
        state.used += len;
        self.publish(state.used);
        // A timed entry's last word, zero until the first write, says when it was written.
        let written_at = timed.then_some(at + len - 8);
        Ok(Slot { region: Arc::clone(&state.chunk), at: at + VALUE_OFFSET, written_at, handles: Arc::default() })
    }

    /// Moves the entries of removed series that nothing holds to the free lists.
    fn sweep(state: &mut State) {
        let State { slots, exemplars, free, .. } = state;
        let mut freed = |entry: FreeEntry| {
            let len = HeaderWord(entry.region.atomic(entry.at).load(Ordering::Relaxed)).len();
            free.entry(len).or_default().push_back(entry);
        };
        slots.retain(|_, rules| {
            rules.retain(|(_, slot)| slot.entry().map(&mut freed).is_none());
            !rules.is_empty()
        });
        // An exemplar goes with the last of its series' slots.
        exemplars.retain(|key, slot| slots.contains_key(key) || slot.entry().map(&mut freed).is_none());
    }

    /// Rewrites the oldest free entry of at least `len` bytes (and less than twice that) for
    /// `key`, as a seqlock on its header word, and counts the reuse for readers.
    fn reuse(&self, state: &mut State, key: &[u8], kind: u8, timed: bool, len: usize) -> Option<Slot> {
        let (&size, _) = state.free.range(len..len * 2).next()?;
        let queue = state.free.get_mut(&size)?;
        let FreeEntry { region, at } = queue.pop_front()?;
        if queue.is_empty() {
            state.free.remove(&size);
        }
        let word = region.atomic(at);
        let old = HeaderWord(word.load(Ordering::Relaxed));
        word.store(
            HeaderWord::new(size, old.key_len(), old.kind(), old.generation().wrapping_add(1)).0,
            Ordering::Relaxed,
        );
        // Release: a reader that sees any word written below also sees the odd generation.
        fence(Ordering::Release);
        region.atomic(at + VALUE_OFFSET).store(0f64.to_bits(), Ordering::Relaxed);
        region.store_words(at + ENTRY_HEADER_LEN, size - ENTRY_HEADER_LEN, key);
        word.store(HeaderWord::new(size, key.len(), kind, old.generation().wrapping_add(2)).0, Ordering::Release);
        self.shared.head.atomic(REUSED_OFFSET).fetch_add(1, Ordering::Release);
        let written_at = timed.then_some(at + size - 8);
        Some(Slot { region, at: at + VALUE_OFFSET, written_at, handles: Arc::default() })
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
