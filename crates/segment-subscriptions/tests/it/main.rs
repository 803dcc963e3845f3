//! Hand-written cases: one per rule of the package's own tests (`fql.test.ts`,
//! `validate.test.ts` in `packages/destination-subscriptions`), each named after it, then the
//! quirks this crate keeps, then a snapshot of parse results.

mod notes;
mod quirks;
mod rules;
mod snapshot;
mod total;

use segment_subscriptions::{Condition, TriggerError, parse};
use serde_json::Value;

/// Whether `event` matches `trigger`; panics (a test failure) when the trigger does not parse.
pub(crate) fn matches(trigger: &str, event: &Value) -> bool {
    let condition: Condition = parse(trigger).unwrap_or_else(|e| panic!("{trigger:?}: {e}"));
    condition
        .matches(event)
        .unwrap_or_else(|e| panic!("{trigger:?} on {event}: {e}"))
}

/// The error of a trigger that must not parse.
pub(crate) fn error(trigger: &str) -> TriggerError {
    match parse(trigger) {
        Ok(c) => panic!("{trigger:?} parsed to {c}"),
        Err(e) => e,
    }
}
