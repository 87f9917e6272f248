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
            _ => return None,
        })
    }

    /// Whether a dead process's value is archived rather than dropped.
    #[must_use]
    pub fn survives_death(self) -> bool {
        matches!(self, Self::Sum | Self::Min | Self::Max | Self::All)
    }

    /// Two values of one key combined.
    #[must_use]
    pub fn combine(self, a: f64, b: f64) -> f64 {
        match self {
            Self::Sum | Self::LiveSum => a + b,
            Self::Min | Self::LiveMin => a.min(b),
            Self::Max | Self::LiveMax => a.max(b),
            // Per-process keys do not collide; should they, the later value stands.
            Self::All | Self::LiveAll => b,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_round_trips_through_its_byte() {
        for byte in 0..=7u8 {
            assert_eq!(Merge::from_byte(byte).map(|m| m as u8), Some(byte));
        }
        assert_eq!(Merge::from_byte(8), None);
    }

    #[test]
    fn live_rules_drop_with_their_process() {
        assert!(Merge::Sum.survives_death() && !Merge::LiveSum.survives_death());
        assert_eq!(Merge::Min.combine(2.0, -1.0), -1.0);
        assert_eq!(Merge::LiveMax.combine(2.0, -1.0), 2.0);
    }
}
