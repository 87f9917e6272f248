//! Splits the cost of a 100k-series text scrape into collection and encoding.
use std::time::Instant;
fn main() {
    let r = pyrometer_core::Registry::new();
    r.set_created_enabled(false);
    let f = pyrometer_core::Family::<pyrometer_core::Counter>::new(
        pyrometer_core::Metadata::new("http_requests", "Requests.").label_names(["method", "path"]),
    )
    .unwrap();
    r.register(f.clone()).unwrap();
    for i in 0..100_000usize {
        let m = ["GET", "POST", "PUT", "DELETE"][i % 4];
        let p = format!("/api/v1/resource/{}", i / 4);
        f.labels(&[m, &p]).unwrap().inc_by((i % 1000) as f64 + 1.0);
    }
    for _ in 0..20 {
        let t = Instant::now();
        let fams = r.collect();
        let c = t.elapsed();
        let t = Instant::now();
        let out = pyrometer_expo::text_to_bytes(&fams, pyrometer_expo::Escaping::Underscores);
        let e = t.elapsed();
        let t = Instant::now();
        drop(fams);
        let d = t.elapsed();
        println!("collect {c:?} encode {e:?} drop {d:?} bytes {}", out.len());
    }
}
