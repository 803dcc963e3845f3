//! Segment's mapping language (mapping-kit) and destination-kit's payload pipeline, in Rust,
//! evaluated as Segment's own code evaluates them (`@segment/actions-core`), JavaScript quirks
//! included.
//!
//! The behaviour spec is `segment-mapping-kit.md` (written from Segment's code and tests); the
//! differential test (`tests/differential`) holds this crate to Segment's npm code over seeded
//! inputs.
//!
//! # Values
//!
//! mapping-kit works on JavaScript values: [`Value`] is JSON plus `undefined`
//! ([`Value::Undefined`], "absent", distinct from `null`), numbers are doubles, and objects keep
//! JavaScript's key order ([`Object`]).

pub mod fields;
pub mod value;

pub use fields::{Fields, FieldsError, PayloadError};
pub use value::{Object, ParseError, Value};
