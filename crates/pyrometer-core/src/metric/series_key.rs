//! The key a family finds a series by: its label values, owned, hashed and compared by value.
//!
//! A lookup is the hot path of every labelled update, so the key is shaped for the label sets
//! services use: one or two short values. Those are turned, in registers, into four words that
//! hold each value's bytes and length exactly; the hash folds the words (two multiplies) and
//! the compare is four word compares, inside the key: no pointer followed, no byte loop, no call
//! to `memcmp`. Longer sets are packed in one allocation, and very long ones share the series'
//! own copy of the values.

use std::hash::BuildHasher;
use std::sync::Arc;

use foldhash::fast::RandomState;

/// The longest value an inline key holds.
const SHORT_VALUE: usize = 15;

/// The most values an inline key holds.
const INLINE_VALUES: usize = 2;

/// The most bytes of label values a packed key holds; past it, the key shares the series' values.
const PACKED_AT_MOST: usize = 1024;

/// Owned label values, the key of one series.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum SeriesKey {
    /// Up to [`INLINE_VALUES`] values of at most [`SHORT_VALUE`] bytes, as [`short_words`] has them.
    Inline([u64; 2 * INLINE_VALUES]),
    /// Each value's length (`u32`, little-endian) then its bytes, in one allocation.
    Packed(Box<[u8]>),
    /// The series' own values, for label sets over [`PACKED_AT_MOST`] bytes: a huge value is
    /// held once.
    Shared(Box<[Arc<str>]>),
}

/// The label values of one lookup, hashed once, before any lock is taken.
pub(crate) struct Query<'a> {
    values: &'a [&'a str],
    /// The words of an inline key, where the values fit one.
    short: Option<[u64; 2 * INLINE_VALUES]>,
    hash: u64,
}

impl<'a> Query<'a> {
    /// The values looked up.
    pub(crate) fn values(&self) -> &'a [&'a str] {
        self.values
    }

    /// The hash the series is stored under.
    #[inline]
    pub(crate) fn hash(&self) -> u64 {
        self.hash
    }

    /// A query with a hash of the test's choosing (colliding ones, say).
    #[cfg(test)]
    pub(crate) fn with_hash(values: &'a [&'a str], hash: u64) -> Self {
        Self { values, short: short_words(values), hash }
    }
}

/// Hashes label values with a family's own random seed, so that nobody choosing label values
/// can predict which collide.
pub(crate) struct KeyHasher {
    seed: [u64; 4],
}

impl Default for KeyHasher {
    fn default() -> Self {
        let state = RandomState::default();
        Self { seed: std::array::from_fn(|i| state.hash_one(i)) }
    }
}

impl KeyHasher {
    /// Hashes `values` for a lookup.
    #[inline]
    pub(crate) fn query<'a>(&self, values: &'a [&'a str]) -> Query<'a> {
        let short = short_words(values);
        let hash = match &short {
            Some(w) => {
                let s = &self.seed;
                fold(w[0] ^ s[0], w[1] ^ s[1]) ^ fold(w[2] ^ s[2], w[3] ^ s[3])
            }
            None => self.hash_long(values),
        };
        Query { values, short, hash }
    }

    /// Each value's bytes, 16 at a time, and its length, folded into the state.
    fn hash_long(&self, values: &[&str]) -> u64 {
        let [s0, s1, s2, _] = self.seed;
        let mut hash = s0;
        for v in values {
            let mut rest = v.as_bytes();
            while rest.len() >= 16 {
                hash = fold(hash ^ word(rest, 0) ^ s1, word(rest, 8) ^ s2);
                rest = &rest[16..];
            }
            let [low, high] = exact_words(rest);
            hash = fold(hash ^ low ^ s1, high ^ s2 ^ ((v.len() as u64) << 8));
        }
        fold(hash, s0)
    }
}

/// The words of an inline key for `values`, if they fit one: value `i` in words `2i` and `2i + 1`.
#[inline]
fn short_words(values: &[&str]) -> Option<[u64; 2 * INLINE_VALUES]> {
    Some(match values {
        [] => [0; 4],
        [a] => {
            let [a0, a1] = value_words(a)?;
            [a0, a1, 0, 0]
        }
        [a, b] => {
            let ([a0, a1], [b0, b1]) = (value_words(a)?, value_words(b)?);
            [a0, a1, b0, b1]
        }
        _ => return None,
    })
}

/// A value of at most [`SHORT_VALUE`] bytes as two words: its bytes, and its length plus one in
/// the top byte, which 15 bytes leave free (so that `""` is not the absence of a value).
#[inline]
fn value_words(value: &str) -> Option<[u64; 2]> {
    let bytes = value.as_bytes();
    if bytes.len() > SHORT_VALUE {
        return None;
    }
    let [low, high] = exact_words(bytes);
    Some([low, high | ((bytes.len() as u64 + 1) << 56)])
}

/// Fewer than 16 bytes as two little-endian words, zero above the last byte, read with a few
/// overlapping loads and shifts (no byte loop, no copy through memory).
#[inline]
fn exact_words(bytes: &[u8]) -> [u64; 2] {
    let n = bytes.len();
    debug_assert!(n < 16);
    match *bytes {
        [] => [0, 0],
        [a] => [u64::from(a), 0],
        [a, b] => [u64::from(u16::from_le_bytes([a, b])), 0],
        [a, b, c] => [u64::from(u16::from_le_bytes([a, b])) | u64::from(c) << 16, 0],
        // Two 4-byte loads that overlap unless there are 8 bytes.
        _ if n < 8 => [half_word(bytes, 0) | half_word(bytes, n - 4) << (8 * (n - 4)), 0],
        // The last 8 bytes, shifted down past the ones the first word holds.
        _ => [word(bytes, 0), (word(bytes, n - 8) >> 8) >> (8 * (15 - n))],
    }
}

/// The folded multiply: both halves of the 128-bit product, mixed.
#[inline]
fn fold(a: u64, b: u64) -> u64 {
    let product = u128::from(a) * u128::from(b);
    (product as u64) ^ ((product >> 64) as u64)
}

/// The little-endian word at `at`; the caller knows 8 bytes are there.
#[inline]
fn word(bytes: &[u8], at: usize) -> u64 {
    let mut word = [0; 8];
    word.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(word)
}

/// The little-endian 4-byte word at `at`, widened.
#[inline]
fn half_word(bytes: &[u8], at: usize) -> u64 {
    let mut word = [0; 4];
    word.copy_from_slice(&bytes[at..at + 4]);
    u64::from(u32::from_le_bytes(word))
}

impl SeriesKey {
    /// The key of `query`'s values, which `shared` holds too (as the series' labels do).
    pub(crate) fn new(query: &Query<'_>, shared: &[Arc<str>]) -> Self {
        if let Some(words) = query.short {
            return Self::Inline(words);
        }
        let values = query.values;
        let len = values.iter().map(|v| v.len() + 4).sum();
        if len > PACKED_AT_MOST {
            return Self::Shared(shared.into());
        }
        let mut key = Vec::with_capacity(len);
        for v in values {
            key.extend_from_slice(&(v.len() as u32).to_le_bytes());
            key.extend_from_slice(v.as_bytes());
        }
        Self::Packed(key.into_boxed_slice())
    }

    /// Whether this key holds exactly the query's values.
    #[inline]
    pub(crate) fn matches(&self, query: &Query<'_>) -> bool {
        match (self, &query.short) {
            // Word by word: the query's words were stored one at a time, and a wider vector load
            // of them would wait for those stores to retire instead of being forwarded.
            (Self::Inline(words), Some(other)) => words.iter().zip(other).all(|(a, b)| a == b),
            // Whether values fit an inline key depends on the values alone.
            (Self::Inline(_), None) | (_, Some(_)) => false,
            (Self::Packed(packed), None) => {
                let mut rest = &**packed;
                for v in query.values {
                    let Some((len, tail)) = rest.split_first_chunk::<4>() else { return false };
                    let Some((value, tail)) = tail.split_at_checked(u32::from_le_bytes(*len) as usize) else {
                        return false;
                    };
                    if value != v.as_bytes() {
                        return false;
                    }
                    rest = tail;
                }
                rest.is_empty()
            }
            (Self::Shared(shared), None) => {
                shared.len() == query.values.len() && shared.iter().zip(query.values).all(|(a, b)| **a == **b)
            }
        }
    }

    /// The values, decoded.
    #[cfg(test)]
    pub(crate) fn values(&self) -> Vec<String> {
        let text = |bytes: &[u8]| String::from_utf8(bytes.to_vec()).unwrap();
        match self {
            Self::Shared(values) => values.iter().map(ToString::to_string).collect(),
            Self::Packed(packed) => {
                let mut values = Vec::new();
                let mut rest = &**packed;
                while let Some((len, tail)) = rest.split_first_chunk::<4>() {
                    let (value, tail) = tail.split_at(u32::from_le_bytes(*len) as usize);
                    values.push(text(value));
                    rest = tail;
                }
                values
            }
            Self::Inline(words) => words
                .chunks(2)
                .take_while(|pair| pair[1] >> 56 != 0)
                .map(|pair| {
                    let bytes: Vec<u8> = pair.iter().flat_map(|w| w.to_le_bytes()).collect();
                    text(&bytes[..(pair[1] >> 56) as usize - 1])
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(hasher: &KeyHasher, values: &[&str]) -> SeriesKey {
        let shared: Vec<Arc<str>> = values.iter().map(|v| Arc::from(*v)).collect();
        SeriesKey::new(&hasher.query(values), &shared)
    }

    #[test]
    fn each_shape_decodes_to_its_values_and_matches_only_them() {
        let hasher = KeyHasher::default();
        let long = "x".repeat(2000);
        let (fits, over) = ("y".repeat(15), "y".repeat(16));
        let sets: [&[&str]; 9] = [
            &[],
            &[""],
            &["", ""],
            &["GET", "200"],
            &["GE", "T200"],
            &[&fits],
            &[&over],
            &["ab", "c", "d"],
            &["GET", &long],
        ];
        let keys: Vec<SeriesKey> = sets.iter().map(|values| key(&hasher, values)).collect();
        assert!(matches!(keys[3], SeriesKey::Inline(_)));
        assert!(matches!(keys[5], SeriesKey::Inline(_)) && matches!(keys[6], SeriesKey::Packed(_)));
        assert!(matches!(keys[8], SeriesKey::Shared(_)));
        for (i, k) in keys.iter().enumerate() {
            assert_eq!(k.values(), sets[i]);
            for (j, values) in sets.iter().enumerate() {
                // `[]`, `[""]` and `["", ""]` are told apart by the family's label count.
                if i.min(j) > 2 || i == j {
                    assert_eq!(k.matches(&hasher.query(values)), i == j, "{:?} against {:?}", sets[i], values);
                }
            }
        }
    }

    #[test]
    fn equal_values_hash_equal_and_short_copies_are_exact() {
        let hasher = KeyHasher::default();
        for n in 0..=40 {
            let value: String = (0..n).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
            let copy = value.clone();
            assert_eq!(hasher.query(&[&value]).hash(), hasher.query(&[&copy]).hash());
            assert_eq!(key(&hasher, &[&value]).values(), [value.as_str()]);
        }
        // Values that hash apart: a moved boundary, a changed last byte.
        let apart: Vec<u64> =
            [&["ab", "c"][..], &["a", "bc"], &["abc"], &["ab", "d"]].iter().map(|v| hasher.query(v).hash()).collect();
        for (i, h) in apart.iter().enumerate() {
            assert!(!apart[..i].contains(h));
        }
    }
}
