//! The talon-harness CLI.
fn main() {}
