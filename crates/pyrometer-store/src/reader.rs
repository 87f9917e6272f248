//! Reading a store file: every published entry, with the file checked as it is read so that a
//! torn, truncated or foreign file is reported, never trusted.

use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use crate::error::Problem;
use crate::exemplar::{PAYLOAD_WORDS, StoredExemplar};
use crate::layout::entry_len as entry_len_for;
use crate::layout::{
    CREATED_OFFSET, ENTRY_HEADER_LEN, EXEMPLAR, HEADER_LEN, HeaderWord, MAGIC, MERGED_FILE, MIN_ENTRY_LEN,
    OLDEST_VERSION, PADDING, PID_OFFSET, REUSED_OFFSET, USED_OFFSET, VALUE_OFFSET, VERSION, read_u32,
};
use crate::merge::{Merge, Value};
use crate::shared_memory::Region;

/// One series as read from a file.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// The key the writer gave.
    pub key: Vec<u8>,
    /// Its merge rule.
    pub merge: Merge,
    /// Its value when read.
    pub value: f64,
    /// Under a timed rule, when the value was last written (Unix nanoseconds); else 0.
    pub written: u64,
}

/// What one file holds.
#[derive(Clone, Debug, PartialEq)]
pub struct FileEntries {
    /// The file.
    pub path: PathBuf,
    /// The process that wrote it (0 for the archive).
    pub pid: u32,
    /// When it was created, Unix nanoseconds.
    pub created_nanos: u64,
    /// Its series, in the order they were created.
    pub entries: Vec<Entry>,
    /// For an archive: the names of the process files merged into it.
    pub merged_files: Vec<String>,
    /// Exemplars, by the key of their series.
    pub exemplars: Vec<(Vec<u8>, StoredExemplar)>,
}

/// Reads every published entry of the file at `path`, but for removed series.
///
/// # Errors
/// What is wrong with the file, if anything is.
pub fn read_file(path: &Path) -> Result<FileEntries, Problem> {
    match read_readable(path)? {
        (entries, None) => Ok(entries),
        (_, Some(problem)) => Err(problem),
    }
}

/// Reads what can be read of the file at `path`: its entries up to the first that is torn, and
/// the problem there, if any. Entries are written in order and never move, so those before a
/// torn one are whole.
///
/// # Errors
/// A file that cannot be opened, or whose header is wrong: nothing of it can be read.
pub fn read_readable(path: &Path) -> Result<(FileEntries, Option<Problem>), Problem> {
    let file = OpenFile::open(path)?;
    let mut out = FileEntries {
        path: path.to_owned(),
        pid: file.pid,
        created_nanos: file.created_nanos,
        entries: Vec::new(),
        merged_files: Vec::new(),
        exemplars: Vec::new(),
    };
    let scanned = file.scan(HEADER_LEN, file.used()?, |entry| {
        let Found::Entry(entry) = entry else { return Ok(()) };
        match entry.kind {
            Kind::MergedFile => out.merged_files.push(String::from_utf8(entry.key).map_err(|_| Problem::Torn {
                offset: entry.at as u64,
                reason: "a merged-file name that is not UTF-8",
            })?),
            Kind::Exemplar { payload_at } => {
                if let Some(exemplar) = file.exemplar(entry.value_at, payload_at) {
                    out.exemplars.push((entry.key, exemplar));
                }
            }
            Kind::Series(merge) => {
                let value = file.value_of(&entry);
                if !value.is_removed() {
                    out.entries.push(Entry { key: entry.key, merge, value: value.value, written: value.written });
                }
            }
        }
        Ok(())
    });
    Ok((out, scanned.err()))
}

/// A store file mapped for reading, its header checked.
pub(crate) struct OpenFile {
    region: Region,
    len: u64,
    pub(crate) pid: u32,
    pub(crate) created_nanos: u64,
}

/// What an entry holds.
pub(crate) enum Kind {
    Series(Merge),
    MergedFile,
    /// An exemplar: its sequence word is the entry's value word, its payload at `payload_at`.
    Exemplar {
        payload_at: usize,
    },
}

/// What a scan meets at an entry's place.
pub(crate) enum Found {
    /// A chunk's padding.
    Padding,
    /// An entry a writer is giving a new key to now; its header word was this.
    InRewrite {
        at: usize,
        header: HeaderWord,
    },
    Entry(RawEntry),
}

/// One published entry, as a scan meets it.
pub(crate) struct RawEntry {
    /// Where it starts.
    pub(crate) at: usize,
    /// Its header word when read: a different one later means the entry was reused.
    pub(crate) header: HeaderWord,
    pub(crate) kind: Kind,
    pub(crate) key: Vec<u8>,
    /// Where its value word is, for [`OpenFile::value`].
    pub(crate) value_at: usize,
    /// Under a timed rule, where the word saying when it was written is.
    pub(crate) written_at: Option<usize>,
}

impl OpenFile {
    /// Maps the file at `path` and checks its header.
    pub(crate) fn open(path: &Path) -> Result<Self, Problem> {
        // Without blocking, and regular files only: a FIFO put in place of a store file would
        // otherwise hold the scrape until something writes to it.
        let file =
            std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(path).map_err(Problem::Io)?;
        let metadata = file.metadata().map_err(Problem::Io)?;
        if !metadata.is_file() {
            return Err(Problem::Io(std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a regular file")));
        }
        let len = metadata.len();
        if len < MAGIC.len() as u64 {
            return Err(Problem::Truncated { used: HEADER_LEN as u64, len });
        }
        let region = Region::readable(&file).map_err(Problem::Io)?;
        if region.read(0, MAGIC.len()) != MAGIC {
            return Err(Problem::Foreign);
        }
        if len < HEADER_LEN as u64 {
            return Err(Problem::Truncated { used: HEADER_LEN as u64, len });
        }
        let head = region.read(0, HEADER_LEN);
        let version = read_u32(&head, 8);
        if !(OLDEST_VERSION..=VERSION).contains(&version) {
            return Err(Problem::Version(version));
        }
        let mut created = [0u8; 8];
        created.copy_from_slice(&head[CREATED_OFFSET..CREATED_OFFSET + 8]);
        Ok(Self { region, len, pid: read_u32(&head, PID_OFFSET), created_nanos: u64::from_le_bytes(created) })
    }

    /// Bytes in use, as published now; a file grown past this mapping must be opened again.
    pub(crate) fn used(&self) -> Result<usize, Problem> {
        let used = self.region.atomic(USED_OFFSET).load(Ordering::Acquire);
        if used < HEADER_LEN as u64 || used > self.len {
            return Err(Problem::Truncated { used, len: self.len });
        }
        // `used` fits in the mapping (checked against its length), and so in a usize.
        Ok(usize::try_from(used).unwrap_or(usize::MAX))
    }

    /// The length of the file when it was mapped: what this mapping covers.
    pub(crate) fn mapped_len(&self) -> u64 {
        self.len
    }

    /// Whether the file has grown past what this mapping covers.
    pub(crate) fn outgrown(&self) -> bool {
        self.region.atomic(USED_OFFSET).load(Ordering::Acquire) > self.len
    }

    /// How many entries the writer has reused so far.
    pub(crate) fn reused(&self) -> u64 {
        self.region.atomic(REUSED_OFFSET).load(Ordering::Acquire)
    }

    /// The header word of the entry at `at`, now.
    pub(crate) fn header(&self, at: usize) -> HeaderWord {
        HeaderWord(self.region.atomic(at).load(Ordering::Acquire))
    }

    /// The value word at `at`, now.
    pub(crate) fn value(&self, at: usize) -> f64 {
        f64::from_bits(self.region.atomic(at).load(Ordering::Relaxed))
    }

    /// A value and when it was written, from the words at `value_at` and `written_at`.
    pub(crate) fn timed_value(&self, value_at: usize, written_at: Option<usize>) -> Value {
        let written = written_at.map_or(0, |at| self.region.atomic(at).load(Ordering::Relaxed));
        Value { value: self.value(value_at), written }
    }

    /// The exemplar whose sequence word is at `seq` and payload at `payload`, if one is written.
    pub(crate) fn exemplar(&self, seq: usize, payload: usize) -> Option<StoredExemplar> {
        crate::exemplar::read(&self.region, seq, payload)
    }

    fn value_of(&self, entry: &RawEntry) -> Value {
        self.timed_value(entry.value_at, entry.written_at)
    }

    /// Calls `found` with each entry from `from` (an entry boundary) to `used`.
    pub(crate) fn scan(
        &self,
        from: usize,
        used: usize,
        mut found: impl FnMut(Found) -> Result<(), Problem>,
    ) -> Result<(), Problem> {
        let mut at = from;
        while at < used {
            let (len, entry) = self.entry(at, used)?;
            found(entry)?;
            at += len;
        }
        Ok(())
    }

    /// The entry at `at` (an entry boundary below `used`), and its length.
    pub(crate) fn entry(&self, at: usize, used: usize) -> Result<(usize, Found), Problem> {
        let torn = |reason: &'static str| Problem::Torn { offset: at as u64, reason };
        if used - at < MIN_ENTRY_LEN {
            return Err(torn("an entry shorter than its header"));
        }
        let mut header = self.header(at);
        for _ in 0..REWRITE_WAITS {
            header = self.header(at);
            let (entry_len, key_len, kind) = (header.len(), header.key_len(), header.kind());
            if entry_len < MIN_ENTRY_LEN || !entry_len.is_multiple_of(8) || entry_len > used - at {
                return Err(torn("an entry length outside the file"));
            }
            if kind == PADDING {
                return Ok((entry_len, Found::Padding));
            }
            if header.in_rewrite() {
                std::hint::spin_loop();
                continue;
            }
            if entry_len < ENTRY_HEADER_LEN + key_len {
                return Err(torn("a key longer than its entry"));
            }
            let kind = match kind {
                MERGED_FILE => Kind::MergedFile,
                EXEMPLAR => {
                    let payload_at = at + entry_len_for(key_len, false);
                    if entry_len < entry_len_for(key_len, false) + 8 * PAYLOAD_WORDS {
                        return Err(torn("an exemplar entry shorter than its payload"));
                    }
                    Kind::Exemplar { payload_at }
                }
                other => Kind::Series(Merge::from_byte(other).ok_or_else(|| torn("an unknown merge rule"))?),
            };
            let timed = matches!(kind, Kind::Series(merge) if merge.is_timed());
            if entry_len < entry_len_for(key_len, timed) {
                return Err(torn("a timed entry without its time"));
            }
            let key = self.region.load_words(at + ENTRY_HEADER_LEN, key_len);
            // Acquire: the key's loads happen before the header word is read again.
            std::sync::atomic::fence(Ordering::Acquire);
            if self.header(at) != header {
                continue;
            }
            let written_at = timed.then_some(at + entry_len - 8);
            return Ok((
                entry_len,
                Found::Entry(RawEntry { at, header, kind, key, value_at: at + VALUE_OFFSET, written_at }),
            ));
        }
        // Rewritten all along (the length checked above never changes): read it when the writer
        // is done, on a later pass.
        Ok((header.len(), Found::InRewrite { at, header }))
    }
}

/// How often a reader looks again at an entry a writer is rewriting before it leaves it for
/// later: a rewrite is a few dozen stores.
const REWRITE_WAITS: usize = 64;
