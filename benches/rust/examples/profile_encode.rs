//! Splits the cost of a 100k-series scrape into collection and encoding (`PROTOBUF=1`: protobuf).
use std::time::Instant;
fn main() {
    let registry = pyrometer_core::Registry::new();
    registry.set_created_enabled(std::env::var_os("CREATED").is_some());
    let family = pyrometer_core::Family::<pyrometer_core::Counter>::new(
        pyrometer_core::Metadata::new("http_requests", "Requests.").label_names(["method", "path"]),
    )
    .unwrap();
    registry.register(family.clone()).unwrap();
    for i in 0..100_000usize {
        let method = ["GET", "POST", "PUT", "DELETE"][i % 4];
        let path = format!("/api/v1/resource/{}", i / 4);
        family.labels(&[method, &path]).unwrap().inc_by((i % 1000) as f64 + 1.0);
    }
    for _ in 0..20 {
        let start = Instant::now();
        let fams = registry.collect().expect("collects");
        let collect = start.elapsed();
        let start = Instant::now();
        let out = if std::env::var_os("PROTOBUF").is_some() {
            pyrometer_expo::protobuf_to_bytes(&fams)
        } else {
            pyrometer_expo::text_to_bytes(&fams, pyrometer_expo::Escaping::Underscores)
        };
        let encode = start.elapsed();
        let start = Instant::now();
        drop(fams);
        let dropped = start.elapsed();
        println!("collect {collect:?} encode {encode:?} drop {dropped:?} bytes {}", out.len());
    }
}
