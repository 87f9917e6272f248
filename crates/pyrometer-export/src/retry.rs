//! How the push transports wait between attempts: what a server asked for in `Retry-After`, else
//! exponential backoff with jitter.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The longest `Retry-After` honoured: a server asking for more gets this.
pub(crate) const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// The wait a server asked for in `Retry-After`: seconds, or an HTTP date (none if it has
/// passed), at most [`MAX_RETRY_AFTER`].
pub(crate) fn retry_after(headers: &hyper::HeaderMap) -> Option<Duration> {
    let value = headers.get(hyper::header::RETRY_AFTER)?.to_str().ok()?.trim();
    let wait = if let Ok(seconds) = value.parse::<u64>() {
        Duration::from_secs(seconds)
    } else {
        let at = httpdate::parse_http_date(value).ok()?;
        at.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO)
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

/// Exponential backoff with jitter: each wait is drawn between half and all of the current
/// backoff, which doubles after every attempt up to a ceiling. The jitter keeps the clients of
/// one receiver that failed together from retrying together.
#[derive(Debug)]
pub(crate) struct Backoff {
    current: Duration,
    #[cfg_attr(not(feature = "remote-write"), allow(dead_code))]
    initial: Duration,
    max: Duration,
    random: u64,
}

impl Backoff {
    pub(crate) fn new(initial: Duration, max: Duration) -> Self {
        let seed = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
        Self { current: initial.min(max), initial, max, random: seed ^ u64::from(std::process::id()) }
    }

    /// The wait before the next attempt: what the server asked for, if it did, else the jittered
    /// backoff. Either way the backoff doubles.
    pub(crate) fn next_wait(&mut self, asked: Option<Duration>) -> Duration {
        let backoff = self.current;
        self.current = self.current.saturating_mul(2).min(self.max);
        asked.unwrap_or_else(|| backoff.mul_f64(0.5 + 0.5 * self.uniform()))
    }

    /// Back to the first wait, after a success.
    #[cfg_attr(not(feature = "remote-write"), allow(dead_code))]
    pub(crate) fn reset(&mut self) {
        self.current = self.initial.min(self.max);
    }

    /// A number in `[0, 1)` (splitmix64: no need for a cryptographic source here).
    fn uniform(&mut self) -> f64 {
        self.random = self.random.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.random;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let mut headers = hyper::HeaderMap::new();
        assert_eq!(retry_after(&headers), None);
        headers.insert(hyper::header::RETRY_AFTER, "7".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));
        let later = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(120));
        headers.insert(hyper::header::RETRY_AFTER, later.parse().unwrap());
        let wait = retry_after(&headers).unwrap();
        assert!(wait > Duration::from_secs(110) && wait <= Duration::from_secs(120), "{wait:?}");
        headers.insert(hyper::header::RETRY_AFTER, "Thu, 01 Jan 1970 00:00:00 GMT".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::ZERO));
        headers.insert(hyper::header::RETRY_AFTER, "18446744073709551615".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(MAX_RETRY_AFTER));
        headers.insert(hyper::header::RETRY_AFTER, "soon".parse().unwrap());
        assert_eq!(retry_after(&headers), None);
    }

    #[test]
    fn backoff_doubles_with_jitter_up_to_its_ceiling() {
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_millis(700));
        let mut ceiling = Duration::from_millis(100);
        for _ in 0..8 {
            let wait = backoff.next_wait(None);
            assert!(wait >= ceiling / 2 && wait <= ceiling, "{wait:?} not within half of {ceiling:?}");
            ceiling = (ceiling * 2).min(Duration::from_millis(700));
        }
        assert_eq!(backoff.next_wait(Some(Duration::from_secs(3))), Duration::from_secs(3));
        backoff.reset();
        assert!(backoff.next_wait(None) <= Duration::from_millis(100));
    }
}
