//! Regenerates the Rust types of the protobuf messages pyrometer reads and writes, from the
//! `.proto` files under `proto/`, into the crates that use them. Run from the repository root:
//! `cargo run --manifest-path tools/protogen/Cargo.toml` (needs `protoc`).

use std::path::Path;

/// Which protos each crate's generated module holds.
const TARGETS: &[(&str, &[&str])] = &[
    ("crates/pyrometer-expo/src/protobuf/generated", &["proto/io/prometheus/client/metrics.proto"]),
    (
        "crates/pyrometer-export/src/remote_write/generated",
        &["proto/prometheus/remote.proto", "proto/io/prometheus/write/v2/types.proto"],
    ),
];

fn main() -> std::io::Result<()> {
    for (out_dir, protos) in TARGETS {
        std::fs::create_dir_all(out_dir)?;
        prost_build::Config::new()
            .out_dir(Path::new(out_dir))
            // The Timestamp of proto/google/protobuf, not the prost-types crate.
            .compile_well_known_types()
            .compile_protos(protos, &["proto"])?;
    }
    Ok(())
}
