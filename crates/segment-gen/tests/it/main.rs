//! Integration tests for segment-gen: one test binary, one module per property.

mod commerce;
mod determinism;
mod engage;
mod golden;
mod ledger;
mod memory;
mod population;
mod schema;
mod snapshots;
mod spec;
mod support;
