//! Reading a store file: every published entry, with the file checked as it is read so that a
//! torn, truncated or foreign file is reported, never trusted.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use crate::error::Problem;
use crate::layout::{
    CREATED_OFFSET, ENTRY_HEADER_LEN, HEADER_LEN, MAGIC, MERGED_FILE, MIN_ENTRY_LEN, PADDING, PID_OFFSET, USED_OFFSET,
    VALUE_OFFSET, VERSION, read_u16, read_u32,
};
use crate::merge::Merge;
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
}

/// Reads every published entry of the file at `path`.
///
/// # Errors
/// What is wrong with the file, if anything is.
pub fn read_file(path: &Path) -> Result<FileEntries, Problem> {
    let file = File::open(path).map_err(Problem::Io)?;
    let len = file.metadata().map_err(Problem::Io)?.len();
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
    if version != VERSION {
        return Err(Problem::Version(version));
    }
    let used = region.atomic(USED_OFFSET).load(Ordering::Acquire);
    if used < HEADER_LEN as u64 || used > len {
        return Err(Problem::Truncated { used, len });
    }
    let mut created = [0u8; 8];
    created.copy_from_slice(&head[CREATED_OFFSET..CREATED_OFFSET + 8]);
    let mut out = FileEntries {
        path: path.to_owned(),
        pid: read_u32(&head, PID_OFFSET),
        created_nanos: u64::from_le_bytes(created),
        entries: Vec::new(),
        merged_files: Vec::new(),
    };
    // `used` fits in the mapping (checked against the file length), and so in a usize.
    let used = usize::try_from(used).unwrap_or(usize::MAX);
    let mut at = HEADER_LEN;
    while at < used {
        let torn = |reason: &'static str| Problem::Torn { offset: at as u64, reason };
        if used - at < MIN_ENTRY_LEN {
            return Err(torn("an entry shorter than its header"));
        }
        let mut fixed = [0u8; MIN_ENTRY_LEN];
        region.read_into(at, &mut fixed);
        let entry_len = read_u32(&fixed, 0) as usize;
        let key_len = usize::from(read_u16(&fixed, 4));
        let kind = fixed[6];
        if entry_len < MIN_ENTRY_LEN || !entry_len.is_multiple_of(8) || entry_len > used - at {
            return Err(torn("an entry length outside the file"));
        }
        if kind != PADDING {
            if entry_len < ENTRY_HEADER_LEN + key_len {
                return Err(torn("a key longer than its entry"));
            }
            let key = region.read(at + ENTRY_HEADER_LEN, key_len);
            if kind == MERGED_FILE {
                out.merged_files
                    .push(String::from_utf8(key).map_err(|_| torn("a merged-file name that is not UTF-8"))?);
            } else {
                let merge = Merge::from_byte(kind).ok_or_else(|| torn("an unknown merge rule"))?;
                let value = f64::from_bits(region.atomic(at + VALUE_OFFSET).load(Ordering::Relaxed));
                out.entries.push(Entry { key, merge, value });
            }
        }
        at += entry_len;
    }
    Ok(out)
}
