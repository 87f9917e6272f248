//! The file layout, shared by writers and readers. Little-endian throughout.
//!
//! A file is a 64-byte header and then entries, each 8-aligned:
//!
//! | header offset | field |
//! |---|---|
//! | 0 | magic `PYRSTOR1` |
//! | 8 | format version (`u32`) |
//! | 12 | pid of the writing process, 0 for the archive (`u32`) |
//! | 16 | creation time, Unix nanoseconds (`u64`) |
//! | 24 | bytes in use, header included (`u64`, atomic: an entry exists once this covers it) |
//! | 32 | entries reused so far (`u64`, atomic: raised after each reuse is complete) |
//!
//! | entry offset | field |
//! |---|---|
//! | 0 | entry length, a multiple of 8 (`u32`) |
//! | 4 | key length (`u16`) |
//! | 6 | kind: a [`Merge`](crate::Merge) rule, a chunk's padding, or an archive's record |
//! | 7 | generation: even when the entry is whole, odd while the writer reuses it |
//! | 8 | the value: `f64` bits (`u64`, atomic) |
//! | 16 | the key, then zeros to a multiple of 8 |
//! | len - 8 | for a timed rule only: when the value was last written, Unix nanoseconds (`u64`, atomic) |
//!
//! An exemplar entry has the same header and key, then a payload of fixed size (see
//! `exemplar.rs`); its value word is the payload's sequence number.
//!
//! A value word holding [`REMOVED`] marks a series its process removed (`remove()`, `clear()`):
//! readers and the archive leave it out until the process writes it again.
//!
//! The first eight bytes of an entry, its header word, are read and written as one atomic word.
//! A writer reuses the entry of a removed series that nothing in the process holds any more for
//! a new key, keeping its length: it makes the generation odd, rewrites key and value words,
//! makes the generation even again, and raises the file's reuse count. A reader takes an entry
//! only when its header word is even and the same before and after it read the rest, and reads
//! a file again where the reuse count moved since it last did. Files of format 1 were written
//! before reuse and are read the same way.

pub(crate) const MAGIC: [u8; 8] = *b"PYRSTOR1";
pub(crate) const VERSION: u32 = 2;
/// The oldest format version this crate reads: 1 differs only in never reusing entries.
pub(crate) const OLDEST_VERSION: u32 = 1;
pub(crate) const HEADER_LEN: usize = 64;
pub(crate) const PID_OFFSET: usize = 12;
pub(crate) const CREATED_OFFSET: usize = 16;
pub(crate) const USED_OFFSET: usize = 24;
pub(crate) const REUSED_OFFSET: usize = 32;
pub(crate) const ENTRY_HEADER_LEN: usize = 16;
pub(crate) const VALUE_OFFSET: usize = 8;
/// The shortest entry: a padding entry needs only its length and kind.
pub(crate) const MIN_ENTRY_LEN: usize = 8;
/// Kind of the entry that fills the unused end of a chunk.
pub(crate) const PADDING: u8 = 0xff;
/// Kind of an archive's record of a process file already merged into it (the key is its name).
pub(crate) const MERGED_FILE: u8 = 0xfe;
/// Kind of the entry holding the exemplar of the series whose key it has (see `exemplar.rs`).
pub(crate) const EXEMPLAR: u8 = 0xfd;
/// The bits of a removed series' value: a quiet NaN with a payload no arithmetic produces.
pub const REMOVED: u64 = 0x7ff8_dead_0000_0001;

/// The longest key.
pub const MAX_KEY_LEN: usize = u16::MAX as usize;

/// Bytes an entry with a key of `key_len` bytes takes; a timed entry has a word more.
pub(crate) fn entry_len(key_len: usize, timed: bool) -> usize {
    (ENTRY_HEADER_LEN + key_len).next_multiple_of(8) + if timed { 8 } else { 0 }
}

/// The 64-byte header of a new file.
pub(crate) fn header(pid: u32, created_nanos: u64) -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[..8].copy_from_slice(&MAGIC);
    h[8..12].copy_from_slice(&VERSION.to_le_bytes());
    h[PID_OFFSET..PID_OFFSET + 4].copy_from_slice(&pid.to_le_bytes());
    h[CREATED_OFFSET..CREATED_OFFSET + 8].copy_from_slice(&created_nanos.to_le_bytes());
    h[USED_OFFSET..USED_OFFSET + 8].copy_from_slice(&(HEADER_LEN as u64).to_le_bytes());
    h
}

/// An entry's header word, as its fields: length, key length, kind, generation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct HeaderWord(pub(crate) u64);

impl HeaderWord {
    pub(crate) fn new(len: usize, key_len: usize, kind: u8, generation: u8) -> Self {
        let len = u64::from(u32::try_from(len).unwrap_or(u32::MAX));
        let key_len = u64::from(u16::try_from(key_len).unwrap_or(u16::MAX));
        Self(len | key_len << 32 | u64::from(kind) << 48 | u64::from(generation) << 56)
    }

    pub(crate) fn len(self) -> usize {
        (self.0 & 0xffff_ffff) as usize
    }

    pub(crate) fn key_len(self) -> usize {
        ((self.0 >> 32) & 0xffff) as usize
    }

    pub(crate) fn kind(self) -> u8 {
        (self.0 >> 48) as u8
    }

    pub(crate) fn generation(self) -> u8 {
        (self.0 >> 56) as u8
    }

    /// Whether a writer is reusing the entry now.
    pub(crate) fn in_rewrite(self) -> bool {
        self.generation() % 2 == 1
    }
}

/// The fixed part of a new entry: its header word (generation 0), and the initial value.
pub(crate) fn entry_header(len: usize, key_len: usize, kind: u8, value: f64) -> [u8; ENTRY_HEADER_LEN] {
    let mut e = [0u8; ENTRY_HEADER_LEN];
    e[..VALUE_OFFSET].copy_from_slice(&HeaderWord::new(len, key_len, kind, 0).0.to_le_bytes());
    e[VALUE_OFFSET..].copy_from_slice(&value.to_bits().to_le_bytes());
    e
}

pub(crate) fn read_u32(bytes: &[u8], at: usize) -> u32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(b)
}
