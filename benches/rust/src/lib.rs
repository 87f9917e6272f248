//! Benchmarks of pyrometer against the `prometheus-client` and `prometheus` crates on identical
//! workloads; see `benches/`. Run with `cargo bench -p pyrometer-benches`.
