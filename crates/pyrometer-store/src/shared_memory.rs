//! Memory shared with other processes through `mmap`: the crate's only unsafe code.
//!
//! Mapped bytes are never turned into Rust references to plain data, since another process (or
//! thread) may change them at any time. The parts that change after an entry is published (value
//! words, and header and key when the entry is reused) are read and written only as `AtomicU64`;
//! the parts written once before anything reads them (a new entry, a file's header) are copied
//! in plainly.
#![allow(unsafe_code)]

use std::fs::File;
use std::io;
use std::sync::atomic::AtomicU64;

use memmap2::{MmapOptions, MmapRaw};

/// Makes `file` at least `offset + len` bytes long with every block of that range allocated, so
/// that writing through a mapping of it cannot fault for want of space: a full disk is this
/// call's error (`ENOSPC`), never a `SIGBUS` at the first write into a new page.
#[cfg(target_os = "linux")]
pub(crate) fn reserve(file: &File, offset: u64, len: u64) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let (Ok(offset), Ok(len)) = (libc::off_t::try_from(offset), libc::off_t::try_from(len)) else {
        return Err(io::Error::from_raw_os_error(libc::EFBIG));
    };
    // SAFETY: `posix_fallocate` takes plain integers and a descriptor that `file` keeps open for
    // the duration of the call; it touches no memory of ours.
    match unsafe { libc::posix_fallocate(file.as_raw_fd(), offset, len) } {
        0 => Ok(()),
        code => Err(io::Error::from_raw_os_error(code)),
    }
}

/// Makes `file` at least `offset + len` bytes long (where `posix_fallocate` is missing, only
/// the length is set).
#[cfg(not(target_os = "linux"))]
pub(crate) fn reserve(file: &File, offset: u64, len: u64) -> io::Result<()> {
    let end = offset + len;
    if file.metadata()?.len() < end { file.set_len(end) } else { Ok(()) }
}

/// A mapping of part of a file.
pub(crate) struct Region {
    map: MmapRaw,
}

impl Region {
    /// Maps `len` bytes of `file` from `offset` (a multiple of the page size), for reading and
    /// writing.
    pub(crate) fn writable(file: &File, offset: u64, len: usize) -> io::Result<Self> {
        Ok(Self { map: MmapOptions::new().offset(offset).len(len).map_raw(file)? })
    }

    /// Maps the whole of `file` for reading.
    pub(crate) fn readable(file: &File) -> io::Result<Self> {
        Ok(Self { map: MmapOptions::new().map_raw_read_only(file)? })
    }

    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    /// Copies `bytes` in at `at`, into a part no other thread or process reads yet.
    pub(crate) fn write(&self, at: usize, bytes: &[u8]) {
        assert!(at.checked_add(bytes.len()).is_some_and(|end| end <= self.len()), "write past the mapping");
        // SAFETY: the range is inside the mapping (checked above), the mapping is writable, and
        // the caller writes only where no reader looks until a later atomic store publishes it.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), self.map.as_mut_ptr().add(at), bytes.len()) }
    }

    /// Copies `len` bytes out from `at`: a part that no longer changes.
    pub(crate) fn read(&self, at: usize, len: usize) -> Vec<u8> {
        let mut out = vec![0u8; len];
        self.read_into(at, &mut out);
        out
    }

    /// Fills `out` with the bytes from `at`: a part that no longer changes.
    pub(crate) fn read_into(&self, at: usize, out: &mut [u8]) {
        assert!(at.checked_add(out.len()).is_some_and(|end| end <= self.len()), "read past the mapping");
        // SAFETY: the range is inside the mapping (checked above) and `out` is ours alone.
        unsafe { std::ptr::copy_nonoverlapping(self.map.as_ptr().add(at), out.as_mut_ptr(), out.len()) }
    }

    /// Stores `bytes`, then zeros to `at + len`, as whole words at the 8-aligned `at`: a part
    /// readers may be reading, which they check by a sequence word of their own.
    pub(crate) fn store_words(&self, at: usize, len: usize, bytes: &[u8]) {
        assert!(bytes.len() <= len && len.is_multiple_of(8), "words past their range");
        for (i, offset) in (0..len).step_by(8).enumerate() {
            let mut word = [0u8; 8];
            let from = (8 * i).min(bytes.len());
            let part = &bytes[from..(from + 8).min(bytes.len())];
            word[..part.len()].copy_from_slice(part);
            self.atomic(at + offset).store(u64::from_le_bytes(word), std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// `len` bytes from the 8-aligned `at`, loaded as whole words: a part a writer may be
    /// changing (see [`store_words`](Self::store_words)).
    pub(crate) fn load_words(&self, at: usize, len: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(len.next_multiple_of(8));
        for offset in (0..len).step_by(8) {
            out.extend_from_slice(&self.atomic(at + offset).load(std::sync::atomic::Ordering::Relaxed).to_le_bytes());
        }
        out.truncate(len);
        out
    }

    /// The 8-aligned word at `at`, shared with every process that maps the file.
    #[allow(clippy::cast_ptr_alignment, reason = "the alignment is asserted")]
    pub(crate) fn atomic(&self, at: usize) -> &AtomicU64 {
        assert!(at.is_multiple_of(8) && at.checked_add(8).is_some_and(|end| end <= self.len()), "misplaced atomic");
        // SAFETY: the mapping starts page-aligned, so `at % 8 == 0` makes the word 8-aligned; it
        // lies inside the mapping, which lives as long as `self`; and every access to these
        // words, in this process or another, is atomic. Loads through a read-only mapping are
        // plain loads on the targets this crate supports.
        unsafe { AtomicU64::from_ptr(self.map.as_mut_ptr().add(at).cast::<u64>()) }
    }
}
