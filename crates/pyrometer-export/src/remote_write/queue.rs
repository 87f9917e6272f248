//! The bounded queue between collections and senders, split into shards by series: a series
//! always lands in the same shard, so its points leave in the order they came.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use tokio::sync::Notify;

use super::points::Point;
use super::stats::Counters;

/// The queue: shards of at most `max_points` points and `max_bytes` bytes each.
#[derive(Debug)]
pub(crate) struct Queue {
    shards: Box<[Shard]>,
    max_points: usize,
    max_bytes: usize,
    counters: Arc<Counters>,
}

/// One shard: its points, and the signal that wakes its sender.
#[derive(Debug, Default)]
pub(crate) struct Shard {
    pending: Mutex<ShardPoints>,
    pub(crate) wake: Notify,
}

#[derive(Debug, Default)]
struct ShardPoints {
    points: VecDeque<Queued>,
    bytes: usize,
}

#[derive(Debug)]
struct Queued {
    point: Point,
    size: usize,
    at: Instant,
}

impl Queue {
    /// A queue of `shards` shards sharing the bounds evenly.
    pub(crate) fn new(shards: usize, max_points: usize, max_bytes: usize, counters: Arc<Counters>) -> Self {
        Self {
            shards: (0..shards).map(|_| Shard::default()).collect(),
            max_points: max_points.div_ceil(shards),
            max_bytes: max_bytes.div_ceil(shards),
            counters,
        }
    }

    pub(crate) fn shard(&self, index: usize) -> &Shard {
        &self.shards[index]
    }

    pub(crate) fn shards(&self) -> usize {
        self.shards.len()
    }

    /// Queues `points`, each in its series' shard; where a shard overflows, its oldest points
    /// are dropped and counted. Wakes the senders of the shards that got points.
    pub(crate) fn push(&self, points: Vec<Point>) {
        let now = Instant::now();
        let mut by_shard: Vec<Vec<Point>> = (0..self.shards.len()).map(|_| Vec::new()).collect();
        for point in points {
            by_shard[(point.series_hash % self.shards.len() as u64) as usize].push(point);
        }
        for (shard, points) in self.shards.iter().zip(by_shard) {
            if points.is_empty() {
                continue;
            }
            let counters = &self.counters;
            let mut pending = shard.lock();
            for point in points {
                let size = point.size();
                pending.bytes += size;
                pending.points.push_back(Queued { point, size, at: now });
                // Counted before the lock is released, so before a sender can take (and settle)
                // the point: the counts never dip below what is pending.
                Counters::add(&counters.pending, 1);
                Counters::add(&counters.pending_bytes, size);
                while pending.points.len() > self.max_points || pending.bytes > self.max_bytes {
                    let Some(oldest) = pending.points.pop_front() else { break };
                    pending.bytes -= oldest.size;
                    counters.pending.fetch_sub(1, Ordering::Relaxed);
                    counters.pending_bytes.fetch_sub(oldest.size as u64, Ordering::Relaxed);
                    Counters::add(&counters.dropped, 1);
                }
            }
            drop(pending);
            shard.wake.notify_one();
        }
    }

    /// How many points shard `index` holds, and when its oldest came.
    pub(crate) fn state(&self, index: usize) -> (usize, Option<Instant>) {
        let pending = self.shards[index].lock();
        (pending.points.len(), pending.points.front().map(|q| q.at))
    }

    /// Takes up to `max` of shard `index`'s oldest points (they stay counted as pending until
    /// [`Queue::done`]).
    pub(crate) fn take(&self, index: usize, max: usize) -> Vec<Point> {
        let mut pending = self.shards[index].lock();
        let n = max.min(pending.points.len());
        let mut bytes = 0;
        let batch: Vec<Point> = pending
            .points
            .drain(..n)
            .map(|q| {
                bytes += q.size;
                q.point
            })
            .collect();
        pending.bytes -= bytes;
        self.counters.pending_bytes.fetch_sub(bytes as u64, Ordering::Relaxed);
        batch
    }

    /// A taken batch of `n` points is settled (sent or given up).
    pub(crate) fn done(&self, n: usize) {
        self.counters.pending.fetch_sub(n as u64, Ordering::Relaxed);
    }

    /// Empties every shard, the points counted as failed (at shutdown); how many there were.
    pub(crate) fn abandon(&self) -> usize {
        let mut abandoned = 0;
        for index in 0..self.shards.len() {
            let batch = self.take(index, usize::MAX);
            abandoned += batch.len();
            self.done(batch.len());
        }
        Counters::add(&self.counters.failed, abandoned);
        abandoned
    }
}

impl Shard {
    fn lock(&self) -> MutexGuard<'_, ShardPoints> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
