//! Encoders: snapshots to exposition text.

pub(crate) mod escaping;
pub(crate) mod graphite;
mod label_list;
pub(crate) mod openmetrics;
#[cfg(feature = "protobuf")]
pub(crate) mod protobuf;
pub(crate) mod text;
