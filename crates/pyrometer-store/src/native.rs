//! Native histograms in the store: each process writes its observations' counts by bucket, and a
//! scrape merges them over every process, live and dead, into one native histogram per series.
//!
//! A series has entries with the suffix [`SUFFIX`], told apart by their extra label: its count
//! (`c:<max buckets>`, observations NaN included), its zero bucket (`z:<threshold>`), and one
//! entry per bucket observed (`p:<schema>:<index>`, `n:...` for negative values), made on first
//! use. Its sum and `_created` are the plain entries a classic histogram has. Each process writes
//! at the histogram's configured schema and zero threshold; a scrape brings every process's
//! buckets to the lowest schema among them, widens the zero bucket to the widest threshold, and
//! halves the resolution while the buckets exceed the limit, as the histogram itself would.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use pyrometer_core::{
    BucketCounts, FamilyMeta, Label, MIN_SCHEMA, NativeHistogramOptions, NativeHistogramValue, Number, downscale,
    native_bucket_index, upper_bound,
};

use crate::error::Error;
use crate::merge::Merge;
use crate::series::series_key;
use crate::writer::{ProcessFile, Slot};

/// The suffix of a native histogram's entries.
pub(crate) const SUFFIX: &str = "_native";
/// The name of the extra label that tells them apart.
const PART_LABEL: &str = "native";

/// What one native entry counts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Part {
    /// Every observation; the histogram's bucket limit rides along.
    Count {
        /// The most buckets shown (0: no limit).
        max_buckets: u32,
    },
    /// The zero bucket, of this threshold.
    Zero {
        /// The threshold.
        threshold: f64,
    },
    /// One bucket.
    Bucket {
        /// Of negative observations.
        negative: bool,
        /// The schema it was counted at.
        schema: i32,
        /// Its index.
        index: i32,
    },
}

impl Part {
    fn text(self) -> String {
        match self {
            Self::Count { max_buckets } => format!("c:{max_buckets}"),
            Self::Zero { threshold } => format!("z:{threshold:?}"),
            Self::Bucket { negative, schema, index } => {
                format!("{}:{schema}:{index}", if negative { 'n' } else { 'p' })
            }
        }
    }

    /// The part an entry's extra label names; `None` for a label this version does not write.
    pub(crate) fn parse(text: &str) -> Option<Self> {
        let mut fields = text.split(':');
        let part = match (fields.next()?, fields.next()?, fields.next()) {
            ("c", max, None) => Self::Count { max_buckets: max.parse().ok()? },
            ("z", threshold, None) => Self::Zero { threshold: threshold.parse().ok().filter(|t: &f64| *t >= 0.0)? },
            (sign @ ("p" | "n"), schema, Some(index)) => Self::Bucket {
                negative: sign == "n",
                schema: schema.parse().ok().filter(|s| (MIN_SCHEMA..=pyrometer_core::MAX_SCHEMA).contains(s))?,
                index: index.parse().ok()?,
            },
            _ => return None,
        };
        fields.next().is_none().then_some(part)
    }
}

/// A writer's native entries of one series.
pub(crate) struct NativeSlots {
    count: Slot,
    zero: Slot,
    schema: i32,
    zero_threshold: f64,
    file: ProcessFile,
    rule: Merge,
    meta: FamilyMeta,
    labels: Vec<(Arc<str>, Arc<str>)>,
    /// Bucket entries by (negative, index), made on first use.
    buckets: Mutex<HashMap<(bool, i32), Slot>>,
}

impl NativeSlots {
    pub(crate) fn open(
        file: &ProcessFile,
        rule: Merge,
        meta: &FamilyMeta,
        labels: &[(Arc<str>, Arc<str>)],
        options: &NativeHistogramOptions,
    ) -> Result<Self, Error> {
        let entry = |part: Part| {
            let extra = Label::new(PART_LABEL, part.text());
            file.slot(&series_key(meta, SUFFIX, labels, Some(&extra)), rule)
        };
        Ok(Self {
            count: entry(Part::Count { max_buckets: options.max_buckets })?,
            zero: entry(Part::Zero { threshold: options.zero_threshold })?,
            schema: options.schema(),
            zero_threshold: options.zero_threshold,
            file: file.clone(),
            rule,
            meta: meta.clone(),
            labels: labels.to_vec(),
            buckets: Mutex::new(HashMap::new()),
        })
    }

    /// Counts `value` (its sum is the caller's).
    pub(crate) fn observe(&self, value: f64) {
        self.count.add(1.0);
        let magnitude = value.abs();
        if magnitude <= self.zero_threshold {
            self.zero.add(1.0);
            return;
        }
        if value.is_nan() {
            return;
        }
        let (negative, index) = (value < 0.0, native_bucket_index(magnitude, self.schema));
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(slot) = buckets.get(&(negative, index)) {
            slot.add(1.0);
            return;
        }
        let extra = Label::new(PART_LABEL, Part::Bucket { negative, schema: self.schema, index }.text());
        // A bucket that cannot be added (the file cannot grow) leaves the observation out of
        // the buckets only: the count has it, and a scrape shows the difference as no bucket.
        if let Ok(slot) = self.file.slot(&series_key(&self.meta, SUFFIX, &self.labels, Some(&extra)), self.rule) {
            slot.add(1.0);
            buckets.insert((negative, index), slot);
        }
    }

    pub(crate) fn remove(&self) {
        self.count.remove();
        self.zero.remove();
        for slot in self.buckets.lock().unwrap_or_else(PoisonError::into_inner).values() {
            slot.remove();
        }
    }
}

/// The native histogram of a series' merged entries and its sum; `None` without a count entry.
pub(crate) fn merged(parts: impl IntoIterator<Item = (Part, f64)>, sum: f64) -> Option<NativeHistogramValue> {
    let (mut count, mut max_buckets, mut zero_count, mut threshold) = (None, 0, 0u64, 0.0f64);
    let mut by_schema: HashMap<i32, [BucketCounts; 2]> = HashMap::new();
    for (part, total) in parts {
        let total = total.max(0.0) as u64;
        match part {
            Part::Count { max_buckets: max } => {
                count = Some(count.unwrap_or(0) + total);
                max_buckets = max_buckets.max(max);
            }
            Part::Zero { threshold: t } => {
                zero_count += total;
                threshold = threshold.max(t);
            }
            Part::Bucket { negative, schema, index } => {
                *by_schema.entry(schema).or_default()[usize::from(negative)].entry(index).or_default() += total;
            }
        }
    }
    let count = count?;
    let mut schema = by_schema.keys().copied().min().unwrap_or(0);
    let mut sides = [BucketCounts::new(), BucketCounts::new()];
    for (from, counts) in &by_schema {
        for (side, counts) in sides.iter_mut().zip(counts) {
            for (index, n) in downscale(counts, from - schema) {
                *side.entry(index).or_default() += n;
            }
        }
    }
    loop {
        for side in &mut sides {
            side.retain(|&index, n| {
                let inside = upper_bound(schema, index) <= threshold;
                if inside {
                    zero_count += *n;
                }
                !inside
            });
        }
        let buckets = sides[0].len() + sides[1].len();
        if max_buckets == 0 || buckets <= max_buckets as usize || schema == MIN_SCHEMA {
            break;
        }
        sides = sides.map(|side| downscale(&side, 1));
        schema -= 1;
    }
    let [positive, negative] = sides;
    let mut value = NativeHistogramValue::from_counts(schema, threshold, zero_count, sum, &positive, &negative);
    value.count = Number::Int(i64::try_from(count).unwrap_or(i64::MAX));
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_round_trip_through_their_text() {
        for part in [
            Part::Count { max_buckets: 160 },
            Part::Zero { threshold: 2.938_735_877_055_719e-39 },
            Part::Bucket { negative: true, schema: -2, index: -17 },
            Part::Bucket { negative: false, schema: 8, index: 4000 },
        ] {
            assert_eq!(Part::parse(&part.text()), Some(part));
        }
        for bad in ["", "c", "c:x", "z:-1", "p:9:1", "p:3", "q:1:2", "p:3:1:4"] {
            assert_eq!(Part::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn processes_at_different_schemas_merge_at_the_lowest() {
        let parts = [
            (Part::Count { max_buckets: 0 }, 3.0),
            (Part::Count { max_buckets: 0 }, 2.0),
            (Part::Zero { threshold: 0.0 }, 1.0),
            // Schema 1 buckets 1 and 2 are schema 0's bucket 1; schema 0's bucket 1 itself.
            (Part::Bucket { negative: false, schema: 1, index: 1 }, 1.0),
            (Part::Bucket { negative: false, schema: 1, index: 2 }, 1.0),
            (Part::Bucket { negative: false, schema: 0, index: 1 }, 1.0),
            (Part::Bucket { negative: true, schema: 0, index: 3 }, 1.0),
        ];
        let value = merged(parts, 4.5).unwrap();
        assert_eq!(value.schema, 0);
        assert_eq!(value.count, Number::Int(5));
        assert_eq!(value.zero_count, Number::Int(1));
        assert_eq!(value.positive_counts().unwrap(), BucketCounts::from([(1, 3)]));
        assert_eq!(value.negative_counts().unwrap(), BucketCounts::from([(3, 1)]));
        assert!(merged([(Part::Zero { threshold: 0.0 }, 1.0)], 0.0).is_none());
    }

    #[test]
    fn the_bucket_limit_halves_the_resolution() {
        let parts = std::iter::once((Part::Count { max_buckets: 4 }, 16.0))
            .chain((0..16).map(|i| (Part::Bucket { negative: false, schema: 3, index: i }, 1.0)));
        let value = merged(parts, 0.0).unwrap();
        assert!(value.bucket_count() <= 4);
        // Schema 3's 16 buckets are 9 at schema 2, 5 at schema 1, 3 at schema 0.
        assert_eq!(value.schema, 0);
        assert_eq!(value.positive_counts().unwrap().values().sum::<u64>(), 16);
    }
}
