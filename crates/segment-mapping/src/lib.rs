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

mod directives;
pub mod fuzz;
pub mod get;
mod js;
pub mod line;
mod liquid;
pub mod mapping;
mod text;
pub mod validate;
pub mod value;

pub use directives::{MAX_PATTERN_LENGTH, MAX_REPLACEMENT_LENGTH};
pub use get::get;
pub use line::{eval_line, validate_line};
pub use mapping::{MAX_PAYLOAD_DEPTH, TransformError, transform};
pub use validate::{MAX_MAPPING_DEPTH, ValidationErrors, validate};
pub use value::{Object, ParseError, Value};
