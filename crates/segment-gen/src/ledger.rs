//! The ground truth: what a correct pipeline holds once every generated event is delivered.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::scenario::{ComputedKind, Profile};

/// The final state implied by the events a [`crate::Generator`] emitted.
///
/// Only Identify calls with a non-empty `userId` count for `users` and
/// `computed_traits`; audience membership counts Identify and Track
/// (`Audience Entered`/`Audience Exited`) calls. Anonymous-only events are in
/// the stream but not here. Maps are keyed by the exact `userId` string
/// (case-sensitive; numeric ids in decimal).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ledger {
    /// The seed of the run.
    pub seed: u64,
    /// The scenario's profile.
    pub profile: Profile,
    /// Events emitted.
    pub events: u64,
    /// Events by Spec `type` and by what the generator meant them as.
    pub counts: Counts,
    /// Per userId: the last value each trait path received.
    pub users: BTreeMap<String, UserLedger>,
    /// Per audience: the last membership value sent for each userId.
    pub audiences: Vec<AudienceLedger>,
    /// Per computed trait: the last value sent for each userId.
    pub computed_traits: Vec<ComputedTraitLedger>,
}

/// Event counts.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Counts {
    /// By Spec `type` (`identify`, `track`).
    pub by_type: BTreeMap<String, u64>,
    /// By [`crate::EventKind`] wire name (`login`, `audience_entered`, …).
    pub by_kind: BTreeMap<String, u64>,
}

/// One user's final traits.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct UserLedger {
    /// Leaf assignments sorted by path. Objects are never leaves (the
    /// generator descends into them, so `{}` assigns nothing); arrays and
    /// `null` are. Includes audience and computed-trait keys sent by
    /// Identify calls.
    pub traits: Vec<TraitValue>,
}

impl UserLedger {
    /// The value at `path`, if the path ever received one.
    pub fn get(&self, path: &[&str]) -> Option<&Value> {
        self.traits
            .iter()
            .find(|t| t.path.iter().map(String::as_str).eq(path.iter().copied()))
            .map(|t| &t.value)
    }
}

/// The last value a trait path received.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TraitValue {
    /// The path inside `traits`, unflattened: `["address", "city"]`.
    pub path: Vec<String>,
    /// The value as sent (`null` included).
    pub value: Value,
}

/// One audience's final memberships.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AudienceLedger {
    /// The trait key (`snake_case(name)`).
    pub key: String,
    /// The audience name.
    pub name: String,
    /// `context.personas.computation_id`.
    pub computation_id: String,
    /// userId → last value sent; users never sent an event are absent.
    pub members: BTreeMap<String, bool>,
}

/// One computed trait's final values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComputedTraitLedger {
    /// The trait key (`snake_case(name)`).
    pub key: String,
    /// The trait name.
    pub name: String,
    /// `context.personas.computation_id`.
    pub computation_id: String,
    /// What it computes.
    pub kind: ComputedKind,
    /// userId → last value sent; users never sent a value are absent.
    pub values: BTreeMap<String, Value>,
}
