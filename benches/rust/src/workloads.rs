//! Registries the benchmarks measure, built the same way wherever they are measured.

use pyrometer_core::{Counter, Family, Metadata, Registry};

/// `series` counter series of `http_requests{method, path}`: four methods times many paths,
/// values up to a thousand.
///
/// # Panics
/// Never for the names used here.
#[must_use]
pub fn http_requests(series: usize) -> Registry {
    let registry = Registry::new();
    let family =
        Family::<Counter>::new(Metadata::new("http_requests", "Requests.").label_names(["method", "path"])).unwrap();
    for i in 0..series {
        let path = format!("/api/v1/resource/{}", i / 4);
        family.labels(&[["GET", "POST", "PUT", "DELETE"][i % 4], &path]).unwrap().inc_by((i % 1000) as f64);
    }
    registry.register(family).unwrap();
    registry
}
