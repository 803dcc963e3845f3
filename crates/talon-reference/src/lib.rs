//! The reference model: the classic Segment → Talon.One rules and Talon.One's all-or-nothing type check, written once, plainly, from the rules tables.
//!
//! The third side of `ARCHITECTURE.md`'s bird's-eye view: written from the
//! rules table in `talon-mapper`'s crate doc and the flattener's table in
//! `talon_mapper::flatten`, not from the mapper's code, and depending on
//! neither `talon-mapper` nor `talon-fake`, so a mistake in one of them
//! shows up as a failed check instead of being shared. Plain beats fast: a
//! `serde_json::Value` in, a readable walk, each rule a small function
//! named after its row. Pure: no IO, no clock, no randomness.
//!
//! Everything that checks the mapper or a run uses it: the fuzz oracles
//! (`talon-mapper-oracles`, the round trip), the harness's verification
//! (`talon_harness::verify`) and its pre-flight's Engage keys.
//!
//! | rule (talon-mapper's table) | what | function |
//! | --- | --- | --- |
//! | 1 | only `identify` is sent | [`rule1_identify_only`] |
//! | 2 | only logged-in users; a numeric `userId` as its decimal string | [`rule2_logged_in_users`] |
//! | 3 | `userId` is the integrationId byte for byte, but `.` and `..` | [`rule3_integration_id`] |
//! | 4 | flattening: `_` joins, depth limit, lists of scalars, nulls and other arrays dropped | [`rule4_flatten`], [`rule4_key`] |
//! | 5 | collisions: fewest levels, bytewise-first path, bytewise-first JSON | [`rule5_collisions`], [`rule5_path_order`], [`rule5_value_order`] |
//! | 6 | Custom Attributes, byte for byte | [`rule6_custom_attribute`] |
//! | 7 | Engage: the computed key bypasses Custom Attributes | [`rule7_engage_key`], [`rule7_attributes`] |
//! | 9 | one profile update per identify, even with no attributes | [`destination`], [`destination_json`] |
//! | — | Talon.One: every attribute known and of its type, or nothing changes; integrationId ≤ 1000 characters | [`accepts`], [`fits`], [`Reference`] |
//! | — | the ledger under rules 4, 6 and 7 | [`expected_from_ledger`] |
//! | — | Talon.One's reading of a value: numbers by value, times by instant | [`compare`] |
//! | — | the Talon.One (Actions) destination's shipped default subscriptions through the Segment relay (its own table) | [`actions`] |
//! | — | the same, from a generator's ledger instead of its events | [`actions::ledger`] |
//!
//! Rules 8 (`snake_case`, Engage's side, in `segment-model`), 10
//! (determinism: every map here is a `BTreeMap`) and 11 (a diagnostic only)
//! change no request, so they have no function here. Diagnostics are the
//! mapper's own business; the model says what is sent, not what is said.
//!
//! ```
//! use std::collections::BTreeSet;
//! use talon_reference::{AttrType, Catalog, Reference, destination_json};
//!
//! let configured: BTreeSet<String> = ["email".to_owned()].into();
//! let event = br#"{"type":"identify","userId":"u1",
//!     "traits":{"email":"e@example.com","name":"N"}}"#;
//! let sent = destination_json(event, &configured).expect("an identify with a userId is sent");
//! assert_eq!(sent.integration_id, "u1");
//! assert_eq!(serde_json::Value::Object(sent.attributes), serde_json::json!({"email": "e@example.com"}));
//!
//! let catalog = Catalog::from([("email".to_owned(), AttrType::Number)]);
//! let mut talon = Reference::new(configured, catalog);
//! assert!(!talon.apply(event), "a string for a number attribute is rejected whole");
//! ```

pub mod actions;
mod destination;
mod ledger;
mod talon;

pub use destination::{
    EngageClass, EngageKey, Leaf, MAX_DEPTH, SEPARATOR, Sent, Skip, destination, destination_json,
    rule1_identify_only, rule2_logged_in_users, rule3_integration_id, rule4_flatten, rule4_key,
    rule5_collisions, rule5_path_order, rule5_value_order, rule6_custom_attribute,
    rule7_attributes, rule7_engage_key,
};
pub use ledger::expected_from_ledger;
pub use talon::{
    AttrType, Catalog, MAX_INTEGRATION_ID_CHARS, Mismatch, Profiles, Reference, accepts, compare,
    fits,
};
