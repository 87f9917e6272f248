//! The protobuf parser never panics, and what it accepts encodes again and reads back the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pyrometer_expo::{parse_protobuf, protobuf_to_bytes};

fuzz_target!(|data: &[u8]| {
    if let Ok(families) = parse_protobuf(data) {
        let again = parse_protobuf(&protobuf_to_bytes(&families)).expect("own output parses");
        assert_eq!(protobuf_to_bytes(&again), protobuf_to_bytes(&families));
    }
});
