//! The OpenMetrics parser never panics, and what it accepts encodes again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pyrometer_expo::{Escaping, encode_openmetrics, parse_openmetrics};

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else { return };
    if let Ok(families) = parse_openmetrics(input) {
        let mut out = String::new();
        let _ = encode_openmetrics(&mut out, &families, Escaping::AllowUtf8);
    }
});
