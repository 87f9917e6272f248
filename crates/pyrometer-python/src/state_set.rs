//! `Enum`: a state set with one state at a time.

use pyo3::prelude::*;
use pyo3::types::PyString;
use pyrometer_core::{StateSet, States};

use crate::arguments::Items;
use crate::errors::to_py;
use crate::family_handle::MetricArgs;
use crate::metric_class::metric_class;

/// The states, with upstream's checks and messages.
fn checked_states(_py: Python<'_>, args: &mut MetricArgs, states: Option<Items<String>>) -> PyResult<States> {
    // Across processes, a state holds if it holds in some live process (the store's rule for
    // every state set).
    if args.labelnames.contains(&args.name) {
        return Err(to_py(pyrometer_core::Error::StateSetLabelOverlap { name: args.name.clone() }));
    }
    match states {
        Some(Items(states)) if !states.is_empty() => Ok(States::new(states)),
        _ => Err(to_py(pyrometer_core::Error::NoStates { name: args.name.clone() })),
    }
}

metric_class!(
    PyEnum, "Enum", StateSet, "stateset",
    options(states: Option<Items<String>> = None) => checked_states,
    {
        /// Makes `state` the current state.
        fn state(&self, state: &Bound<'_, PyString>) -> PyResult<()> {
            // Upstream looks the state up with `list.index`, whose error this is.
            let name = state.to_str()?;
            self.0.series()?.set_exclusive(name).map_err(to_py)
        }
    }
);
