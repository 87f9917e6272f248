//! Serves native histograms of a known set of observations, for a Prometheus to scrape:
//! `cargo run -p pyrometer-export --example native_histograms -- [HOST:PORT] [SECONDS]`.
//!
//! `rust_latency_seconds` keeps native buckets alone, `rust_both_seconds` classic ones beside.
//! Each observes `0.001 * 1.0093^i` for `i` in `0..1000` (1 ms to about 10 s), the values the
//! end-to-end test computes its exact quantiles from. It prints the URL, then serves until the
//! time is up (60 s by default).

use std::time::Duration;

use pyrometer_core::{Buckets, Family, Metadata, NativeHistogram, NativeHistogramOptions, Registry};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:0".into());
    let seconds: u64 = args.next().map_or(Ok(60), |s| s.parse())?;

    let registry = Registry::new();
    for (name, classic) in
        [("rust_latency_seconds", None), ("rust_both_seconds", Some(Buckets::new([0.01, 0.1, 1.0])?))]
    {
        let options = NativeHistogramOptions { classic, ..NativeHistogramOptions::default() };
        let family = Family::<NativeHistogram>::with_options(Metadata::new(name, "Latency of requests."), options)?;
        let series = family.without_labels()?;
        for i in 0..1000 {
            series.observe(0.001 * 1.0093f64.powi(i));
        }
        registry.register(family)?;
    }

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(&addr).await?;
        println!("http://{}/metrics", listener.local_addr()?);
        let shutdown = tokio::time::sleep(Duration::from_secs(seconds));
        pyrometer_export::http::serve(listener, registry, shutdown).await?;
        Ok(())
    })
}
