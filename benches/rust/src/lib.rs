//! Benchmarks of pyrometer against the `prometheus-client` and `prometheus` crates on identical
//! workloads; see `benches/`. Run with `cargo bench -p pyrometer-benches`.
//!
//! What the benchmarks and examples share: [`counting`], an allocator that counts what is held,
//! and [`workloads`], registries built the same way wherever they are measured.

pub mod counting;
pub mod workloads;
