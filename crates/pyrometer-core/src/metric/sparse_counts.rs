//! Counts by bucket index, lock-free: the storage of a native histogram's buckets.
//!
//! Buckets that are observed cluster (a latency spans a few decades: a few dozen to a hundred
//! consecutive indexes), so counts live in chunks of 16 consecutive indexes, and a small
//! directory maps a chunk's number to its chunk. The directory is a chain of segments growing
//! fourfold (8, 32, 128, ... entries), each made on first need; a chunk number's home slot is the
//! number itself modulo the segment's size, so consecutive chunks never collide, and a number
//! is looked up at most [`PROBES`] slots from home in each segment before the next one is tried.
//!
//! A slot's chunk number only goes from empty to set while observations are counted, so a number
//! is never in two slots (two threads racing to claim a slot agree through one compare-and-swap).
//! [`SparseCounts::clear`] and [`SparseCounts::add_all`]'s caller need the counts to be
//! quiescent: the native histogram calls them only on the half no observer is writing to.

// Offsets within a chunk are below 16.
#![allow(clippy::cast_possible_wrap)]

use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicI32, AtomicU32, AtomicU64, Ordering};

/// Indexes per chunk, as a shift.
const CHUNK_BITS: u32 = 4;
const CHUNK_LEN: usize = 1 << CHUNK_BITS;
/// Directory segments: 8 << 2k entries for k in 0..SEGMENTS, 43,688 chunks (699,008 indexes) in
/// all, more than the 550,000 indexes that exist at schema 8.
const SEGMENTS: usize = 7;
/// Slots tried from a chunk's home in each segment.
const PROBES: usize = 4;
/// No chunk number: chunk numbers are indexes shifted right, never this low.
const VACANT: i32 = i32::MIN;

#[derive(Debug)]
struct Chunk([AtomicU64; CHUNK_LEN]);

#[derive(Debug)]
struct Slot {
    number: AtomicI32,
    /// Kept when the slot is vacated, for the next number that claims it.
    chunk: OnceLock<Box<Chunk>>,
}

#[derive(Debug)]
struct Segment(Box<[Slot]>);

impl Segment {
    fn with_capacity(capacity: usize) -> Self {
        Self((0..capacity).map(|_| Slot { number: AtomicI32::new(VACANT), chunk: OnceLock::new() }).collect())
    }

    /// The slot holding `number`, or the vacant one it claims on the way.
    #[inline]
    fn find(&self, number: i32) -> Option<&Slot> {
        let mask = self.0.len() - 1;
        // The home slot: the number modulo the capacity (a power of two), negatives included.
        let home = number as usize & mask;
        for probe in 0..PROBES {
            let slot = &self.0[(home + probe) & mask];
            let held = slot.number.load(Ordering::Acquire);
            if held == number {
                return Some(slot);
            }
            if held == VACANT {
                match slot.number.compare_exchange(VACANT, number, Ordering::AcqRel, Ordering::Acquire) {
                    Ok(_) => return Some(slot),
                    Err(won) if won == number => return Some(slot),
                    Err(_) => {}
                }
            }
        }
        None
    }
}

/// Counts by bucket index.
#[derive(Debug, Default)]
pub(crate) struct SparseCounts {
    segments: [OnceLock<Segment>; SEGMENTS],
    /// Buckets with a count above zero.
    populated: AtomicU32,
}

impl SparseCounts {
    /// Adds `n` to the count of bucket `index`.
    #[inline]
    pub(crate) fn add(&self, index: i32, n: u64) {
        let number = index >> CHUNK_BITS;
        let slot = self.slot(number);
        let chunk = slot.chunk.get_or_init(|| Box::new(Chunk(std::array::from_fn(|_| AtomicU64::new(0)))));
        // Relaxed: a count is an independent total; readers of a settled half synchronise
        // through the histogram's completion counter.
        let before = chunk.0[(index & (CHUNK_LEN as i32 - 1)) as usize].fetch_add(n, Ordering::Relaxed);
        if before == 0 && n > 0 {
            self.populated.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The slot of chunk `number`: found, or claimed in the first segment with room near its home.
    #[inline]
    fn slot(&self, number: i32) -> &Slot {
        for (k, segment) in self.segments.iter().enumerate() {
            let segment = segment.get_or_init(|| Segment::with_capacity(8 << (2 * k)));
            // Slots along a probe fill in order and stay filled, so a vacancy met before the number
            // means the number is in no slot of this segment nor of any later one.
            if let Some(slot) = segment.find(number) {
                return slot;
            }
        }
        unreachable!("the directory holds more chunks than there are bucket indexes")
    }

    /// The number of buckets with a count.
    #[inline]
    pub(crate) fn populated(&self) -> u32 {
        self.populated.load(Ordering::Relaxed)
    }

    /// The counts above zero, by index.
    pub(crate) fn read(&self) -> BTreeMap<i32, u64> {
        let mut out = BTreeMap::new();
        for segment in self.segments.iter().map_while(OnceLock::get) {
            for slot in &segment.0 {
                let number = slot.number.load(Ordering::Acquire);
                let Some(chunk) = slot.chunk.get().filter(|_| number != VACANT) else { continue };
                for (offset, count) in chunk.0.iter().enumerate() {
                    let count = count.load(Ordering::Relaxed);
                    if count > 0 {
                        *out.entry((number << CHUNK_BITS) | offset as i32).or_default() += count;
                    }
                }
            }
        }
        out
    }

    /// Adds every count of `counts`.
    pub(crate) fn add_all(&self, counts: &BTreeMap<i32, u64>) {
        for (&index, &count) in counts {
            self.add(index, count);
        }
    }

    /// Empties the counts, keeping the chunks for reuse. No observation may be under way.
    pub(crate) fn clear(&self) {
        for segment in self.segments.iter().map_while(OnceLock::get) {
            for slot in &segment.0 {
                if let Some(chunk) = slot.chunk.get() {
                    chunk.0.iter().for_each(|c| c.store(0, Ordering::Relaxed));
                }
                slot.number.store(VACANT, Ordering::Release);
            }
        }
        self.populated.store(0, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_land_by_index_across_chunks_and_segments() {
        let counts = SparseCounts::default();
        // Far apart, so that chunks collide at home in the small segments and move on.
        let indexes: Vec<i32> = (-40..40).map(|i| i * 37).chain([-270_000, 270_000, 0, 1, 15, 16]).collect();
        for (n, &i) in indexes.iter().enumerate() {
            counts.add(i, n as u64 + 1);
        }
        let read = counts.read();
        for (n, &i) in indexes.iter().enumerate() {
            let expected: u64 = indexes.iter().enumerate().filter(|(_, j)| **j == i).map(|(m, _)| m as u64 + 1).sum();
            assert_eq!(read[&i], expected, "index {i} (#{n})");
        }
        assert_eq!(counts.populated() as usize, read.len());
        counts.clear();
        assert!(counts.read().is_empty());
        assert_eq!(counts.populated(), 0);
        counts.add(5, 2);
        assert_eq!(counts.read(), BTreeMap::from([(5, 2)]));
    }

    #[test]
    fn threads_racing_for_new_buckets_lose_nothing() {
        let counts = std::sync::Arc::new(SparseCounts::default());
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let counts = counts.clone();
                std::thread::spawn(move || {
                    for i in 0..20_000 {
                        counts.add((i * 7 + t) % 3000 - 1500, 1);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let read = counts.read();
        assert_eq!(read.values().sum::<u64>(), 80_000);
        assert_eq!(counts.populated() as usize, read.len());
    }
}
