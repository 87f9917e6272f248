//! A series' exemplar in a store file: its labels, value and timestamp in an entry of fixed
//! size, rewritten in place under a sequence number, so that a reader never takes a
//! half-written exemplar for a whole one.
//!
//! | payload word | field |
//! |---|---|
//! | 0 | the value (`f64` bits) |
//! | 1 | the timestamp in seconds (`f64` bits; NaN for none) |
//! | 2 | when it was written, Unix nanoseconds: across processes the latest wins |
//! | 3 | the length of the label text, in bytes |
//! | 4.. | the label text: for each label, its name's length (`u16`), the name, its value's length (`u16`), the value |
//!
//! The entry's value word is the sequence number: odd while the writer is rewriting the payload.

use std::sync::atomic::{Ordering, fence};

use pyrometer_core::{Exemplar, LabelSet, Timestamp};

use crate::shared_memory::Region;

/// Words of label text an entry holds: the 128 characters `OpenMetrics` allows an exemplar's
/// labels, at up to 4 bytes each, with room for the lengths of a dozen labels.
pub(crate) const TEXT_WORDS: usize = 68;
/// Payload words after the key.
pub(crate) const PAYLOAD_WORDS: usize = 4 + TEXT_WORDS;
/// How often a reader retries an exemplar it met being rewritten before it leaves it out.
const READ_ATTEMPTS: usize = 16;

/// An exemplar as the store keeps it, with when it was written.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredExemplar {
    /// The exemplar.
    pub exemplar: Exemplar,
    /// When it was written, Unix nanoseconds.
    pub written: u64,
}

/// The label text of `labels`, or `None` when it does not fit an entry.
pub(crate) fn encode_labels(labels: &LabelSet) -> Option<Vec<u8>> {
    let mut text = Vec::new();
    for label in labels {
        for part in [&*label.name, &*label.value] {
            text.extend_from_slice(&u16::try_from(part.len()).ok()?.to_le_bytes());
            text.extend_from_slice(part.as_bytes());
        }
    }
    (text.len() <= TEXT_WORDS * 8).then_some(text)
}

fn decode_labels(mut text: &[u8]) -> Option<LabelSet> {
    let mut pairs = Vec::new();
    let mut next = || -> Option<String> {
        let (len, rest) = text.split_first_chunk::<2>()?;
        let len = usize::from(u16::from_le_bytes(*len));
        let part = std::str::from_utf8(rest.get(..len)?).ok()?.to_owned();
        text = &rest[len..];
        Some(part)
    };
    while let Some(name) = next() {
        pairs.push((name, next()?));
    }
    Some(LabelSet::new(pairs))
}

/// Rewrites the exemplar at `seq` (the sequence word) and `payload`. The caller holds the
/// writer's lock: one writer at a time.
pub(crate) fn write(region: &Region, seq: usize, payload: usize, exemplar: &Exemplar, text: &[u8], written: u64) {
    let sequence = region.atomic(seq);
    let start = sequence.load(Ordering::Relaxed);
    sequence.store(start.wrapping_add(1), Ordering::Relaxed);
    // Release: a reader that sees any payload word written below also sees the odd sequence.
    fence(Ordering::Release);
    let timestamp = exemplar.timestamp.map_or(f64::NAN, Timestamp::as_seconds);
    let head = [exemplar.value.to_bits(), timestamp.to_bits(), written, text.len() as u64];
    for (i, word) in head.into_iter().enumerate() {
        region.atomic(payload + 8 * i).store(word, Ordering::Relaxed);
    }
    for (i, chunk) in text.chunks(8).enumerate() {
        let mut word = [0u8; 8];
        word[..chunk.len()].copy_from_slice(chunk);
        region.atomic(payload + 8 * (4 + i)).store(u64::from_le_bytes(word), Ordering::Relaxed);
    }
    sequence.store(start.wrapping_add(2), Ordering::Release);
}

/// Reads the exemplar at `seq` and `payload`: `None` when none was written yet, or when it kept
/// changing under the reader, or when what it holds does not decode.
pub(crate) fn read(region: &Region, seq: usize, payload: usize) -> Option<StoredExemplar> {
    let sequence = region.atomic(seq);
    for _ in 0..READ_ATTEMPTS {
        let before = sequence.load(Ordering::Acquire);
        if before == 0 {
            return None;
        }
        if before % 2 == 1 {
            std::hint::spin_loop();
            continue;
        }
        let word = |i: usize| region.atomic(payload + 8 * i).load(Ordering::Relaxed);
        let (value, timestamp, written) = (f64::from_bits(word(0)), f64::from_bits(word(1)), word(2));
        let len = usize::try_from(word(3)).unwrap_or(usize::MAX).min(TEXT_WORDS * 8);
        let mut text = Vec::with_capacity(len.next_multiple_of(8));
        for i in 0..len.div_ceil(8) {
            text.extend_from_slice(&word(4 + i).to_le_bytes());
        }
        text.truncate(len);
        // Acquire: the loads above happen before the sequence is read again.
        fence(Ordering::Acquire);
        if sequence.load(Ordering::Relaxed) != before {
            continue;
        }
        let labels = decode_labels(&text)?;
        let timestamp = (!timestamp.is_nan()).then_some(Timestamp::Seconds(timestamp));
        return Some(StoredExemplar { exemplar: Exemplar { labels, value, timestamp }, written });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_text_round_trips_and_refuses_what_does_not_fit() {
        let labels = LabelSet::new([("trace_id", "4bf92f3577b34da6"), ("span", "ünïcode")]);
        assert_eq!(decode_labels(&encode_labels(&labels).unwrap()), Some(labels));
        assert_eq!(decode_labels(&encode_labels(&LabelSet::EMPTY).unwrap()), Some(LabelSet::EMPTY));
        // 128 four-byte characters fit; far more do not.
        let wide = LabelSet::new([("t", "𝄞".repeat(127))]);
        assert!(encode_labels(&wide).is_some());
        assert!(encode_labels(&LabelSet::new([("t", "x".repeat(1000))])).is_none());
    }
}
