//! An `f64` stored as bits in an `AtomicU64`.

use std::sync::atomic::{AtomicU64, Ordering};

/// A lock-free `f64` cell.
#[derive(Debug, Default)]
pub(crate) struct AtomicF64(AtomicU64);

impl AtomicF64 {
    pub(crate) fn new(value: f64) -> Self {
        Self(AtomicU64::new(value.to_bits()))
    }

    // Relaxed throughout: each cell is an independent value; a scrape may read a slightly stale
    // one, and nothing else is published through it.
    pub(crate) fn get(&self) -> f64 {
        f64::from_bits(self.0.load(Ordering::Relaxed))
    }

    pub(crate) fn set(&self, value: f64) {
        self.0.store(value.to_bits(), Ordering::Relaxed);
    }

    pub(crate) fn add(&self, delta: f64) {
        // `fetch_update` is the compare-and-swap loop; the closure never refuses.
        let _ = self
            .0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| Some((f64::from_bits(bits) + delta).to_bits()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_accumulates_across_threads() {
        let cell = std::sync::Arc::new(AtomicF64::new(0.5));
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let cell = cell.clone();
                std::thread::spawn(move || (0..1000).for_each(|_| cell.add(1.0)))
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(cell.get(), 4000.5);
    }
}
