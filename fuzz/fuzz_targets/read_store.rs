//! A crafted or torn store file never crashes a reader or a scrape of its directory: the file is
//! read entry by entry, and a scrape reports what it could not read and goes on.
//!
//! Inputs are edits of a real store file (series, exemplars, reused entries, a merged-file
//! record): the first two bytes choose where the file is cut, each following three bytes
//! overwrite one byte (a little-endian offset, then the value). So the fuzzer starts past the
//! header checks. Each input is also read as the entries of a file: a real header, then the
//! input's bytes.
#![no_main]

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use pyrometer_core::{CollectOptions, Collector, Exemplar, LabelSet};
use pyrometer_store::{DirectoryCollector, Merge, StoreDir, read_file};

/// A directory of this fuzzing process's own.
fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("pyrometer-fuzz-store-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    })
}

/// The bytes of a store file a process wrote, up to its last entry.
fn template() -> &'static [u8] {
    static TEMPLATE: OnceLock<Vec<u8>> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let source = dir().join("template");
        std::fs::create_dir_all(&source).unwrap();
        let store = StoreDir::open(&source).unwrap();
        let file = store.create_process_file().unwrap();
        let labels = [(Arc::from("path"), Arc::from("/a"))];
        let meta = pyrometer_core::Family::<pyrometer_core::Counter>::new(pyrometer_core::Metadata::new("c", "C."))
            .unwrap()
            .meta()
            .clone();
        for (i, merge) in [Merge::Sum, Merge::LiveMax, Merge::MostRecent, Merge::All].into_iter().enumerate() {
            let key = pyrometer_store::series_key(&meta, &format!("_s{i}"), &labels, None);
            file.slot(&key, merge).unwrap().add(i as f64 + 0.5);
            let exemplar = Exemplar::new(LabelSet::new([("trace", "t")]), 1.0, None).unwrap();
            file.exemplar_slot(&key).unwrap().write(&exemplar);
        }
        // Entries of removed series, reused once the first chunk is full: generations past 0.
        for i in 0..2_000 {
            let key = pyrometer_store::series_key(&meta, &format!("_r{i}"), &labels, None);
            file.slot(&key, Merge::Sum).unwrap().remove();
        }
        let bytes = std::fs::read(file.path()).unwrap();
        drop(file);
        std::fs::remove_dir_all(&source).unwrap();
        // The mapped file is pre-sized; the part after the entries is zeros.
        let used = bytes.iter().rposition(|b| *b != 0).map_or(0, |i| i + 1);
        bytes[..used.max(64).min(bytes.len())].to_vec()
    })
}

fuzz_target!(|data: &[u8]| {
    let mut raw: Vec<u8> = template()[..64].iter().chain(data).copied().collect();
    let len = raw.len() as u64;
    raw[24..32].copy_from_slice(&len.to_le_bytes()); // bytes in use: all of them
    let mut bytes = template().to_vec();
    if let Some((cut, edits)) = data.split_first_chunk::<2>() {
        let cut = usize::from(u16::from_le_bytes(*cut));
        if cut < bytes.len() {
            bytes.truncate(cut);
        }
        for edit in edits.chunks_exact(3) {
            let at = usize::from(u16::from_le_bytes([edit[0], edit[1]]));
            if let Some(byte) = bytes.get_mut(at) {
                *byte = edit[2];
            }
        }
    }
    let dir = dir();
    // Named as a process file and as the archive, the two kinds a scrape reads.
    let cases =
        [("proc-0000000000000001-1-1.pyrostore", &bytes), ("archive.pyrostore", &bytes), ("archive.pyrostore", &raw)];
    for (name, bytes) in cases {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        let _ = read_file(&path);
        let mut families = Vec::new();
        let _ = DirectoryCollector::new(dir.clone()).collect(&CollectOptions::default(), &mut families);
        // A scrape may rename what it cannot read; nothing of this input may be left.
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let _ = std::fs::remove_file(entry.path());
        }
    }
});
