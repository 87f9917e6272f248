//! Summary quantiles across processes: each process keeps the bins of its quantile sketch in its
//! own file, per step of the sliding window; a reader adds up the bins of the steps still in
//! the window over every live process and answers the quantiles from the sum. Sketches merge
//! exactly by adding bins, so the merged quantiles keep the sketch's relative error.
//!
//! A series' sketch is a handful of entries under its key with the suffix `_sketch` and a last
//! label `sketch` saying which part it is:
//!
//! | `sketch` label | value |
//! |---|---|
//! | `spec:<relative error>:<age buckets>:<step ns>` | 1: the window's shape |
//! | `q:<quantile>` | 1: a quantile to report |
//! | `epoch:<bucket>` | the step (Unix time / step) the bucket last counted |
//! | `bin:<bucket>:z`, `bin:<bucket>:p<index>`, `bin:<bucket>:n<index>` | the values of that step in that bin |
//!
//! Step `e` counts in bucket `e mod age_buckets`; a writer that moves a bucket to a new step
//! zeroes its bins first. A reader takes, from each file, the buckets whose step is among the
//! last `age_buckets`. All entries are live-only: a dead process's observations leave the
//! window with it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use pyrometer_core::{FamilyMeta, Label, Quantiles, Sketch, SketchBin};

use crate::error::Error;
use crate::merge::Merge;
use crate::series::series_key;
use crate::writer::{ProcessFile, Slot};

/// The suffix of every sketch entry's key.
pub(crate) const SUFFIX: &str = "_sketch";
const LABEL: &str = "sketch";

/// What one sketch entry is.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Part {
    Spec { relative_error: f64, age_buckets: usize, step_nanos: u64 },
    Quantile(f64),
    Epoch(usize),
    Bin(usize, SketchBin),
}

impl Part {
    fn text(&self) -> String {
        match self {
            Self::Spec { relative_error, age_buckets, step_nanos } => {
                format!("spec:{relative_error}:{age_buckets}:{step_nanos}")
            }
            Self::Quantile(q) => format!("q:{q}"),
            Self::Epoch(bucket) => format!("epoch:{bucket}"),
            Self::Bin(bucket, SketchBin::Zero) => format!("bin:{bucket}:z"),
            Self::Bin(bucket, SketchBin::Positive(index)) => format!("bin:{bucket}:p{index}"),
            Self::Bin(bucket, SketchBin::Negative(index)) => format!("bin:{bucket}:n{index}"),
        }
    }

    /// The part a `sketch` label names.
    pub(crate) fn parse(text: &str) -> Option<Self> {
        let mut fields = text.split(':');
        let part = match fields.next()? {
            "spec" => Self::Spec {
                relative_error: fields.next()?.parse().ok()?,
                age_buckets: fields.next()?.parse().ok().filter(|n| *n > 0)?,
                step_nanos: fields.next()?.parse().ok().filter(|n| *n > 0)?,
            },
            "q" => Self::Quantile(fields.next()?.parse().ok()?),
            "epoch" => Self::Epoch(fields.next()?.parse().ok()?),
            "bin" => {
                let bucket = fields.next()?.parse().ok()?;
                let bin = fields.next()?;
                let bin = match bin.split_at_checked(1)? {
                    ("z", "") => SketchBin::Zero,
                    ("p", index) => SketchBin::Positive(index.parse().ok()?),
                    ("n", index) => SketchBin::Negative(index.parse().ok()?),
                    _ => return None,
                };
                Self::Bin(bucket, bin)
            }
            _ => return None,
        };
        fields.next().is_none().then_some(part)
    }
}

/// The step of the window `now_nanos` falls in.
pub(crate) fn epoch(now_nanos: u64, step_nanos: u64) -> u64 {
    now_nanos / step_nanos.max(1)
}

/// A series' sketch in this process's file.
pub struct StoredSketch {
    file: ProcessFile,
    meta: FamilyMeta,
    labels: Vec<(Arc<str>, Arc<str>)>,
    /// Only its bin mapping is used.
    mapping: Sketch,
    age_buckets: usize,
    step_nanos: u64,
    /// The spec and quantile entries, which say the series has quantiles.
    marks: Vec<Slot>,
    state: Mutex<State>,
}

struct State {
    /// The step each bucket counts, and the entry that says so.
    epochs: Vec<(u64, Slot)>,
    bins: HashMap<(usize, SketchBin), Slot, foldhash::fast::RandomState>,
}

impl std::fmt::Debug for StoredSketch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredSketch").field("name", &self.meta.name).finish_non_exhaustive()
    }
}

impl StoredSketch {
    /// The sketch of the series of `meta` with `labels` (constant ones included) in `file`,
    /// reporting `quantiles`.
    ///
    /// # Errors
    /// A failure to add the entries to the file.
    pub fn open(
        file: &ProcessFile,
        meta: &FamilyMeta,
        labels: &[(Arc<str>, Arc<str>)],
        quantiles: &Quantiles,
    ) -> Result<Self, Error> {
        let age_buckets = quantiles.age_buckets.max(1);
        let step = quantiles.max_age / u32::try_from(age_buckets).unwrap_or(u32::MAX);
        let step_nanos = u64::try_from(step.max(Duration::from_millis(1)).as_nanos()).unwrap_or(u64::MAX);
        let mut sketch = Self {
            file: file.clone(),
            meta: meta.clone(),
            labels: labels.to_vec(),
            mapping: Sketch::new(quantiles.relative_error, 1),
            age_buckets,
            step_nanos,
            marks: Vec::new(),
            state: Mutex::new(State { epochs: Vec::new(), bins: HashMap::default() }),
        };
        let spec = Part::Spec { relative_error: quantiles.relative_error, age_buckets, step_nanos };
        let marks: Vec<Part> =
            std::iter::once(spec).chain(quantiles.quantiles.iter().map(|q| Part::Quantile(*q))).collect();
        for part in &marks {
            let slot = sketch.slot(part)?;
            slot.set(1.0);
            sketch.marks.push(slot);
        }
        let epochs =
            (0..age_buckets).map(|j| Ok((u64::MAX, sketch.slot(&Part::Epoch(j))?))).collect::<Result<_, Error>>()?;
        sketch.state.lock().unwrap_or_else(PoisonError::into_inner).epochs = epochs;
        Ok(sketch)
    }

    fn slot(&self, part: &Part) -> Result<Slot, Error> {
        let label = Label::new(LABEL, part.text());
        self.file.slot(&series_key(&self.meta, SUFFIX, &self.labels, Some(&label)), Merge::LiveMax)
    }

    /// Counts `value` in the current step's bucket.
    ///
    /// # Errors
    /// A failure to add a new bin to the file.
    pub fn observe(&self, value: f64) -> Result<(), Error> {
        let Some(bin) = self.mapping.bin_of(value) else { return Ok(()) };
        let step = epoch(crate::clock::now_nanos(), self.step_nanos);
        let bucket = (step % self.age_buckets as u64) as usize;
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.epochs[bucket].0 != step {
            // The bucket starts a new step: its old counts leave first, then the step is told.
            for ((b, _), slot) in &state.bins {
                if *b == bucket {
                    slot.set(0.0);
                }
            }
            state.epochs[bucket].0 = step;
            state.epochs[bucket].1.set(step as f64);
        }
        if let Some(slot) = state.bins.get(&(bucket, bin)) {
            slot.add(1.0);
        } else {
            let slot = self.slot(&Part::Bin(bucket, bin))?;
            slot.add(1.0);
            state.bins.insert((bucket, bin), slot);
        }
        Ok(())
    }

    /// Marks the sketch removed, with its series: readers leave its quantiles out.
    pub fn remove(&self) {
        for slot in &self.marks {
            slot.remove();
        }
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        for slot in state.bins.values() {
            slot.set(0.0);
        }
    }
}

/// The quantiles of a series from its sketch entries over the files of live processes: for each
/// file, the parts and values it holds. `now_nanos` decides which steps are in the window.
pub(crate) fn quantiles(files: &[Vec<(&Part, f64)>], now_nanos: u64) -> Vec<(f64, f64)> {
    let spec = files.iter().flatten().find_map(|(part, _)| match part {
        Part::Spec { relative_error, age_buckets, step_nanos } => Some((*relative_error, *age_buckets, *step_nanos)),
        _ => None,
    });
    let Some((relative_error, age_buckets, step_nanos)) = spec else { return Vec::new() };
    let mut wanted: Vec<f64> = files
        .iter()
        .flatten()
        .filter_map(|(part, _)| match part {
            Part::Quantile(q) => Some(*q),
            _ => None,
        })
        .collect();
    wanted.sort_by(f64::total_cmp);
    wanted.dedup();
    let now = epoch(now_nanos, step_nanos);
    let oldest = now.saturating_sub(age_buckets as u64 - 1);
    let mut merged = Sketch::new(relative_error, usize::MAX);
    for file in files {
        let mut in_window = vec![false; age_buckets];
        for (part, value) in file {
            if let Part::Epoch(bucket) = part
                && let Some(slot) = in_window.get_mut(*bucket)
            {
                *slot = (oldest as f64..=now as f64).contains(value);
            }
        }
        for (part, value) in file {
            if let Part::Bin(bucket, bin) = part
                && in_window.get(*bucket).copied().unwrap_or(false)
                && *value > 0.0
            {
                merged.add_bin(*bin, *value as u64);
            }
        }
    }
    wanted.into_iter().map(|q| (q, merged.quantile(q).unwrap_or(f64::NAN))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_round_trip_through_their_label() {
        for part in [
            Part::Spec { relative_error: 0.01, age_buckets: 5, step_nanos: 120_000_000_000 },
            Part::Quantile(0.99),
            Part::Epoch(3),
            Part::Bin(2, SketchBin::Zero),
            Part::Bin(0, SketchBin::Positive(-17)),
            Part::Bin(4, SketchBin::Negative(230)),
        ] {
            assert_eq!(Part::parse(&part.text()), Some(part));
        }
        for junk in ["", "spec:x:1:1", "spec:0.01:0:5", "bin:1:q3", "bin:1:z:extra", "epoch"] {
            assert_eq!(Part::parse(junk), None, "{junk}");
        }
    }
}
