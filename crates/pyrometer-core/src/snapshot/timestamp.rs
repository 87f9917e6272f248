//! Sample and exemplar timestamps.

use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

/// A point in time attached to a sample or an exemplar.
///
/// Two forms exist because the exposition formats print them differently and must print
/// exactly what they were given: seconds as a float print as Python's `repr` would, an exact
/// timestamp prints as `sec.nnnnnnnnn`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Timestamp {
    /// Seconds since the Unix epoch, as a float.
    Seconds(f64),
    /// Whole seconds and nanoseconds since the Unix epoch. Before the epoch (`sec < 0`) the
    /// nanoseconds count away from zero too, as `prometheus_client`'s `Timestamp` holds them:
    /// `{ sec: -1, nsec: 500_000_000 }` is -1.5 s.
    Exact {
        /// Whole seconds.
        sec: i64,
        /// Nanoseconds, below one billion, in the direction of `sec`'s sign.
        nsec: u32,
    },
}

impl Timestamp {
    /// Seconds since the epoch as a float, whatever the form.
    #[must_use]
    pub fn as_seconds(self) -> f64 {
        match self {
            Self::Seconds(s) => s,
            Self::Exact { sec, nsec } if sec < 0 => sec as f64 - f64::from(nsec) / 1e9,
            Self::Exact { sec, nsec } => sec as f64 + f64::from(nsec) / 1e9,
        }
    }
}

/// The clock [`now_seconds`] reads when one was set with [`set_wall_clock`].
static WALL_CLOCK: OnceLock<fn() -> f64> = OnceLock::new();

/// Makes `clock` the wall clock of this process: what [`now_seconds`] answers from then on, and
/// so the time of `_created` samples, of exemplars and of `set_to_current_time`. The first call
/// wins; it returns whether this one did.
///
/// An embedding runtime uses it so that the library agrees with the runtime's own clock, and with
/// a test that replaces that clock (Python's `time.time`). It is never read on an update's path:
/// only when a series is created, reset, or stamped.
pub fn set_wall_clock(clock: fn() -> f64) -> bool {
    WALL_CLOCK.set(clock).is_ok()
}

/// The wall clock now, in seconds since the epoch: the value of `_created` samples.
#[must_use]
pub fn now_seconds() -> f64 {
    match WALL_CLOCK.get() {
        Some(clock) => clock(),
        None => system_seconds(),
    }
}

/// The operating system's wall clock, in seconds since the epoch.
#[must_use]
pub fn system_seconds() -> f64 {
    // A clock before 1970 is a broken clock; zero is the honest answer it allows.
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}
