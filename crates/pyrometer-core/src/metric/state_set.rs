//! State set: which of a fixed list of states hold (`Enum` in `prometheus_client`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::kind::{Metric, SeriesContext};
use super::metadata::FamilyMeta;
use super::mirror::{Mirror, SeriesMirror, SeriesShape};
use crate::error::Error;
use crate::metric_type::MetricType;
use crate::snapshot::labels::Label;
use crate::snapshot::sample::Sample;

/// The states of a state set, in exposition order. The first is the initial state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct States(Arc<[Arc<str>]>);

impl States {
    /// States in the given order.
    pub fn new<I, S>(states: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<Arc<str>>,
    {
        Self(states.into_iter().map(Into::into).collect())
    }

    /// The state names.
    #[must_use]
    pub fn names(&self) -> &[Arc<str>] {
        &self.0
    }
}

/// A set of boolean states held in one atomic bit mask (so at most 64 states). Cloning gives
/// another handle to the same series.
#[derive(Clone, Debug)]
pub struct StateSet(Arc<StateSetCell>);

#[derive(Debug)]
struct StateSetCell {
    meta: Arc<FamilyMeta>,
    states: States,
    bits: AtomicU64,
    mirror: Mirror,
}

impl StateSet {
    fn index_of(&self, state: &str) -> Result<usize, Error> {
        self.0
            .states
            .0
            .iter()
            .position(|s| &**s == state)
            .ok_or_else(|| Error::UnknownState { name: self.0.meta.name.to_string(), state: state.to_owned() })
    }

    /// Makes `state` the one state that holds, as `Enum.state()` does.
    pub fn set_exclusive(&self, state: &str) -> Result<(), Error> {
        let i = self.index_of(state)?;
        self.0.bits.store(1 << i, Ordering::Relaxed);
        if let Some(mirror) = &self.0.mirror {
            mirror.set_states(1 << i);
        }
        Ok(())
    }

    /// Sets whether `state` holds, leaving the others alone.
    pub fn set(&self, state: &str, holds: bool) -> Result<(), Error> {
        let bit = 1u64 << self.index_of(state)?;
        let holding = if holds {
            self.0.bits.fetch_or(bit, Ordering::Relaxed) | bit
        } else {
            self.0.bits.fetch_and(!bit, Ordering::Relaxed) & !bit
        };
        if let Some(mirror) = &self.0.mirror {
            mirror.set_states(holding);
        }
        Ok(())
    }

    /// Whether `state` holds.
    pub fn holds(&self, state: &str) -> Result<bool, Error> {
        let i = self.index_of(state)?;
        Ok(self.0.bits.load(Ordering::Relaxed) & (1 << i) != 0)
    }
}

impl Metric for StateSet {
    const TYPE: MetricType = MetricType::StateSet;
    type Options = States;

    fn validate(states: &States, meta: &FamilyMeta) -> Result<(), Error> {
        let name = meta.name.to_string();
        match states.0.len() {
            0 => Err(Error::NoStates { name }),
            1..=64 => Ok(()),
            count => Err(Error::TooManyStates { name, count }),
        }
    }

    fn build(states: &States, meta: &Arc<FamilyMeta>, mirror: Option<Arc<dyn SeriesMirror>>) -> Self {
        let bits = AtomicU64::new(1);
        Self(Arc::new(StateSetCell { meta: meta.clone(), states: states.clone(), bits, mirror }))
    }

    fn shape(states: &States) -> Option<SeriesShape<'_>> {
        Some(SeriesShape::StateSet { states })
    }

    fn mirror(&self) -> Option<&Arc<dyn SeriesMirror>> {
        self.0.mirror.as_ref()
    }

    fn collect_samples(&self, series: &SeriesContext<'_>, out: &mut Vec<Sample>) -> Result<(), Error> {
        let bits = self.0.bits.load(Ordering::Relaxed);
        for (i, state) in self.0.states.0.iter().enumerate() {
            let value = if bits & (1 << i) != 0 { 1.0 } else { 0.0 };
            let mut sample = Sample::new("", series.labels.clone(), value);
            sample.extra_label = Some(Label { name: series.meta.name.clone(), value: state.clone() });
            out.push(sample);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metric::family::Family;
    use crate::metric::metadata::Metadata;

    #[test]
    fn more_than_64_states_are_refused() {
        let names: Vec<String> = (0..65).map(|i| format!("s{i}")).collect();
        let err = Family::<StateSet>::with_options(Metadata::new("s", "h"), States::new(names)).unwrap_err();
        assert!(matches!(err, Error::TooManyStates { count: 65, .. }));
    }

    #[test]
    fn states_can_hold_together_and_print_in_order() {
        let f = Family::<StateSet>::with_options(Metadata::new("s", "h"), States::new(["a", "b", "c"])).unwrap();
        let s = f.without_labels().unwrap();
        s.set("c", true).unwrap();
        s.set("a", false).unwrap();
        let values: Vec<f64> = f.collect(false).unwrap().samples.iter().map(|x| x.value).collect();
        assert_eq!(values, [0.0, 0.0, 1.0]);
    }
}
