//! What Talon.One must hold after a run, and the comparison with what it holds: the reference model's (`talon_reference`), with the fake's catalog and state converted at the edge.
//!
//! Two independent expectations, both the model's:
//! - [`expected_from_ledger`]: from the generator's ledger (the last value
//!   each trait path received per user) under the mapping rules. Exact for
//!   scenarios whose traits are always sendable and well typed (the
//!   realistic profile).
//! - [`Reference`]: the model replaying the events themselves — flatten,
//!   collide, filter, then Talon.One's all-or-nothing type check — for
//!   scenarios with nulls, collisions and wrong types (the edge profile).
//!
//! The model shares no code with `talon-mapper` or `talon-fake`; this
//! module only converts between the fake's types and the model's.

use std::collections::{BTreeMap, BTreeSet};

use talon_fake::StateFile;
use talon_fake::rules::AttrType;
pub use talon_reference::{Mismatch, Profiles, Reference};

/// The model's catalog of a fake catalog: each type by its Talon.One name.
pub fn catalog(catalog: &BTreeMap<String, AttrType>) -> talon_reference::Catalog {
    catalog
        .iter()
        .filter_map(|(name, ty)| {
            talon_reference::AttrType::from_name(ty.as_str()).map(|ty| (name.clone(), ty))
        })
        .collect()
}

/// The profiles of a dumped state.
pub fn profiles_of(state: &StateFile) -> Profiles {
    state
        .profiles
        .iter()
        .map(|p| (p.integration_id.clone(), p.attributes.clone()))
        .collect()
}

/// Compares, type-aware: numbers by value, times by instant
/// ([`talon_reference::compare`]).
pub fn compare(
    expected: &Profiles,
    actual: &Profiles,
    catalog: &BTreeMap<String, AttrType>,
) -> Vec<Mismatch> {
    talon_reference::compare(expected, actual, &self::catalog(catalog))
}

/// The expectation from a generator ledger ([`talon_reference::expected_from_ledger`]):
/// each user's last value of each trait path, flattened, kept when
/// configured or an Engage key; paths whose last value is `null` in the
/// second list.
pub fn expected_from_ledger(
    ledger: &segment_gen::Ledger,
    configured: &BTreeSet<String>,
    engage_keys: &BTreeSet<String>,
) -> (Profiles, Vec<String>) {
    let users = ledger.users.iter().map(|(user, traits)| {
        let leaves = traits.traits.iter().map(|t| (t.path.as_slice(), &t.value));
        (user.as_str(), leaves)
    });
    talon_reference::expected_from_ledger(users, configured, engage_keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fake_type_converts_to_the_model_by_name() {
        let fake: BTreeMap<String, AttrType> = [
            AttrType::String,
            AttrType::Number,
            AttrType::Boolean,
            AttrType::Time,
            AttrType::Location,
            AttrType::ListString,
            AttrType::ListNumber,
            AttrType::ListTime,
            AttrType::ListLocation,
        ]
        .into_iter()
        .map(|ty| (ty.as_str().to_owned(), ty))
        .collect();
        let model = catalog(&fake);
        assert_eq!(model.len(), fake.len());
        assert!(model.iter().all(|(name, ty)| ty.name() == name));
    }
}
