//! Forking while other threads collect.
//!
//! A process that forks copies every lock in the state it is in, and only the forking thread
//! comes along: a lock another thread held at that moment (a family's series map, read by a
//! scrape) stays held in the child for ever, and the child's next new series waits on it for
//! ever. Collections therefore run inside a gate ([`enter`]); before a fork, [`prepare`] closes
//! it and waits for the collections under way to finish, so the fork copies no lock held; after
//! it, [`resume_parent`] and [`resume_child`] open it again. Writes need no gate: in Python they
//! run under the GIL, which the forking thread holds.
//!
//! The gate costs a collection two atomic operations; writes and lookups do not pass it.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Set from [`prepare`] to the resumes: no collection may start.
static FORKING: AtomicBool = AtomicBool::new(false);
/// Threads inside a collection.
static INSIDE: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// How deep this thread is in collections (a collector may collect a registry itself).
    static DEPTH: Cell<usize> = const { Cell::new(0) };
}

/// Held while a thread collects; see [the module](self).
#[derive(Debug)]
#[must_use]
pub struct Collecting(());

/// Enters the gate, waiting while a fork is being prepared. Re-entering from within a
/// collection does not wait.
pub fn enter() -> Collecting {
    DEPTH.with(|depth| {
        if depth.get() == 0 {
            loop {
                while FORKING.load(Ordering::Acquire) {
                    std::thread::sleep(Duration::from_micros(200));
                }
                INSIDE.fetch_add(1, Ordering::SeqCst);
                if !FORKING.load(Ordering::SeqCst) {
                    break;
                }
                INSIDE.fetch_sub(1, Ordering::SeqCst);
            }
        }
        depth.set(depth.get() + 1);
    });
    Collecting(())
}

impl Drop for Collecting {
    fn drop(&mut self) {
        DEPTH.with(|depth| {
            depth.set(depth.get() - 1);
            if depth.get() == 0 {
                INSIDE.fetch_sub(1, Ordering::SeqCst);
            }
        });
    }
}

/// Before a fork: closes the gate and waits, at most `timeout`, for the other threads'
/// collections to finish; whether they did (if not, the fork copies their locks held).
pub fn prepare(timeout: Duration) -> bool {
    FORKING.store(true, Ordering::SeqCst);
    let own = usize::from(DEPTH.with(Cell::get) > 0);
    let deadline = Instant::now() + timeout;
    while INSIDE.load(Ordering::SeqCst) > own {
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_micros(100));
    }
    true
}

/// After a fork, in the parent: opens the gate.
pub fn resume_parent() {
    FORKING.store(false, Ordering::SeqCst);
}

/// After a fork, in the child, where only the forking thread runs: forgets the others and
/// opens the gate.
pub fn resume_child() {
    INSIDE.store(usize::from(DEPTH.with(Cell::get) > 0), Ordering::SeqCst);
    FORKING.store(false, Ordering::SeqCst);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fork_waits_for_collections_under_way_and_holds_new_ones_back() {
        let (entered_tx, entered_rx) = std::sync::mpsc::channel();
        let (leave_tx, leave_rx) = std::sync::mpsc::channel::<()>();
        let collector = std::thread::spawn(move || {
            let _inside = enter();
            entered_tx.send(()).unwrap();
            leave_rx.recv().unwrap();
        });
        entered_rx.recv().unwrap();
        assert!(!prepare(Duration::from_millis(50)), "a collection is under way");
        leave_tx.send(()).unwrap();
        collector.join().unwrap();
        assert!(prepare(Duration::from_secs(5)));
        // A collection that starts now waits for the resume.
        let started = std::thread::spawn(|| {
            let at = Instant::now();
            let _inside = enter();
            at.elapsed()
        });
        std::thread::sleep(Duration::from_millis(50));
        resume_parent();
        assert!(started.join().unwrap() >= Duration::from_millis(40));
        // Nested entries do not wait on themselves.
        let outer = enter();
        assert!(prepare(Duration::from_millis(10)));
        let inner = enter();
        drop((inner, outer));
        resume_parent();
    }
}
