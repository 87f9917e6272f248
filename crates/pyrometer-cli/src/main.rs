//! The pyrometer command.
fn main() {}
