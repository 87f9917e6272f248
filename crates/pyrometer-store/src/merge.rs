//! How the values of one key combine across processes, and what becomes of a value when its
//! process dies. The gauge modes of `prometheus_client` map onto these one to one.

/// A key's merge rule, stored with each entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Merge {
    /// Added up; a dead process's value stays in the archive, so totals never go backwards
    /// (counters, histogram and summary series, gauges in `sum` mode).
    Sum = 0,
    /// Added up over live processes only (`livesum`).
    LiveSum = 1,
    /// The smallest value, dead processes' included (`min`).
    Min = 2,
    /// The smallest value of live processes (`livemin`).
    LiveMin = 3,
    /// The largest value, dead processes' included (`max`).
    Max = 4,
    /// The largest value of live processes (`livemax`).
    LiveMax = 5,
    /// One series per process (the key names the process); kept after it dies (`all`).
    All = 6,
    /// One series per live process (`liveall`).
    LiveAll = 7,
    /// The value last written by any process, dead ones included (`mostrecent`): each write is
    /// stamped with the time it was made.
    MostRecent = 8,
    /// The value last written by a live process (`livemostrecent`).
    LiveMostRecent = 9,
}

impl Merge {
    pub(crate) fn from_byte(byte: u8) -> Option<Self> {
        Some(match byte {
            0 => Self::Sum,
            1 => Self::LiveSum,
            2 => Self::Min,
            3 => Self::LiveMin,
            4 => Self::Max,
            5 => Self::LiveMax,
            6 => Self::All,
            7 => Self::LiveAll,
            8 => Self::MostRecent,
            9 => Self::LiveMostRecent,
            _ => return None,
        })
    }

    /// Whether a dead process's value is archived rather than dropped.
    #[must_use]
    pub fn survives_death(self) -> bool {
        matches!(self, Self::Sum | Self::Min | Self::Max | Self::All | Self::MostRecent)
    }

    /// Whether each write carries the time it was made.
    #[must_use]
    pub fn is_timed(self) -> bool {
        matches!(self, Self::MostRecent | Self::LiveMostRecent)
    }

    /// Two values of one key combined, each with the time it was written (for timed rules).
    #[must_use]
    pub fn combine(self, a: Value, b: Value) -> Value {
        let value = match self {
            Self::Sum | Self::LiveSum => a.value + b.value,
            Self::Min | Self::LiveMin => a.value.min(b.value),
            Self::Max | Self::LiveMax => a.value.max(b.value),
            // Per-process keys do not collide; should they, the later value stands.
            Self::All | Self::LiveAll => b.value,
            Self::MostRecent | Self::LiveMostRecent => return if b.written > a.written { b } else { a },
        };
        Value { value, written: a.written.max(b.written) }
    }
}

/// A value and, under a timed rule, when it was written (Unix nanoseconds; 0 otherwise).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Value {
    /// The value.
    pub value: f64,
    /// When it was written.
    pub written: u64,
}

impl Value {
    /// Whether this is a removed series' value ([`REMOVED`](crate::layout::REMOVED)).
    #[must_use]
    pub fn is_removed(&self) -> bool {
        self.value.to_bits() == crate::layout::REMOVED
    }
}

impl From<f64> for Value {
    fn from(value: f64) -> Self {
        Self { value, written: 0 }
    }
}

impl Merge {
    /// Every rule, by its byte.
    #[cfg(test)]
    pub(crate) const ALL: [Self; 10] = [
        Self::Sum,
        Self::LiveSum,
        Self::Min,
        Self::LiveMin,
        Self::Max,
        Self::LiveMax,
        Self::All,
        Self::LiveAll,
        Self::MostRecent,
        Self::LiveMostRecent,
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_round_trips_through_its_byte() {
        for (byte, rule) in Merge::ALL.iter().enumerate() {
            assert_eq!(Merge::from_byte(byte as u8), Some(*rule));
        }
        assert_eq!(Merge::from_byte(10), None);
    }

    #[test]
    fn live_rules_drop_with_their_process() {
        assert!(Merge::Sum.survives_death() && !Merge::LiveSum.survives_death());
        assert_eq!(Merge::Min.combine(2.0.into(), (-1.0).into()).value, -1.0);
        assert_eq!(Merge::LiveMax.combine(2.0.into(), (-1.0).into()).value, 2.0);
        let (old, new) = (Value { value: 5.0, written: 10 }, Value { value: 1.0, written: 20 });
        assert_eq!(Merge::MostRecent.combine(new, old), new);
        assert_eq!(Merge::LiveMostRecent.combine(old, new), new);
        assert!(Merge::MostRecent.survives_death() && !Merge::LiveMostRecent.survives_death());
    }
}
