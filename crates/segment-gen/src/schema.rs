//! The slot table: every trait path a scenario can send, in the order it is written.
//!
//! Slots are sorted depth-first (siblings stay together), so an event's
//! traits, sorted by slot id, serialize as nested objects in one pass.

use crate::json::quoted;
use crate::scenario::{ComputedKind, Profile, Scenario, TraitClass, TraitType};
use crate::values::Render;

/// One trait path.
#[derive(Debug)]
pub(crate) struct Slot {
    pub(crate) path: Vec<String>,
    /// Each path element as `"key":`, escaped.
    pub(crate) keys: Vec<Box<[u8]>>,
    pub(crate) render: Render,
    pub(crate) ty: TraitType,
    pub(crate) class: TraitClass,
    pub(crate) irregular: bool,
    /// One of the edge profile's extra traits.
    pub(crate) edge_extra: bool,
}

/// Every slot of a scenario.
#[derive(Debug)]
pub(crate) struct Schema {
    pub(crate) slots: Vec<Slot>,
}

/// The realistic profile's traits: (path, render, type).
const REALISTIC: &[(&[&str], Render, TraitType)] = &[
    (&["email"], Render::Email, TraitType::String),
    (&["name"], Render::Name, TraitType::String),
    (&["firstName"], Render::FirstName, TraitType::String),
    (&["first_name"], Render::FirstName, TraitType::String),
    (&["lastName"], Render::LastName, TraitType::String),
    (&["last_name"], Render::LastName, TraitType::String),
    (&["phone"], Render::Phone, TraitType::String),
    (&["birthday"], Render::Birthday, TraitType::Time),
    (&["createdAt"], Render::CreatedAt, TraitType::Time),
    (&["created_at"], Render::CreatedAt, TraitType::Time),
    (&["address", "street"], Render::Street, TraitType::String),
    (&["address", "city"], Render::City, TraitType::String),
    (&["address", "state"], Render::State, TraitType::String),
    (
        &["address", "postalCode"],
        Render::PostalCode,
        TraitType::String,
    ),
    (
        &["address", "postal_code"],
        Render::PostalCode,
        TraitType::String,
    ),
    (&["address", "country"], Render::Country, TraitType::String),
    (&["company", "name"], Render::CompanyName, TraitType::String),
    (&["company", "id"], Render::CompanyId, TraitType::String),
    (
        &["company", "industry"],
        Render::Industry,
        TraitType::String,
    ),
    (
        &["company", "employee_count"],
        Render::EmployeeCount,
        TraitType::Number,
    ),
    (&["company", "plan"], Render::Plan, TraitType::String),
    (&["plan"], Render::Plan, TraitType::String),
    (&["logins"], Render::Logins, TraitType::Number),
    (&["newsletter"], Render::Flag, TraitType::Boolean),
    (
        &["lifetime_value"],
        Render::LifetimeValue,
        TraitType::Number,
    ),
    (&["interests"], Render::Categories, TraitType::StringList),
    (
        &["preferences", "language"],
        Render::Language,
        TraitType::String,
    ),
    (
        &["preferences", "currency"],
        Render::Currency,
        TraitType::String,
    ),
    (
        &["preferences", "notifications", "email"],
        Render::Flag,
        TraitType::Boolean,
    ),
    (
        &["preferences", "notifications", "sms"],
        Render::Flag,
        TraitType::Boolean,
    ),
];

/// The edge profile's extra traits that may carry `{}`.
pub(crate) const EMPTY_OBJECT_PATHS: &[&[&str]] = &[&["meta"], &["settings", "theme"]];

/// The edge profile's extra traits.
const EDGE: &[(&[&str], Render, TraitType)] = &[
    (&["a_b"], Render::EdgeText, TraitType::String),
    (&["a", "b"], Render::EdgeText, TraitType::String),
    (&["a.b"], Render::EdgeText, TraitType::String),
    (&["address_city"], Render::City, TraitType::String),
    (
        &[
            "deep", "l1", "l2", "l3", "l4", "l5", "l6", "l7", "l8", "l9", "l10",
        ],
        Render::EdgeText,
        TraitType::String,
    ),
    (&["Plan"], Render::Plan, TraitType::String),
    (&["PLAN"], Render::Plan, TraitType::String),
    (&["Email"], Render::Email, TraitType::String),
    (&["名前"], Render::EdgeText, TraitType::String),
    (&["émoji_😀"], Render::EdgeText, TraitType::String),
    (&["ключ"], Render::Counter, TraitType::Number),
    (&[""], Render::EdgeText, TraitType::String),
    (&["key with space"], Render::EdgeText, TraitType::String),
    (
        &["key/with#url?chars%"],
        Render::EdgeText,
        TraitType::String,
    ),
    (&["quote\"key\\"], Render::EdgeText, TraitType::String),
    (&["nullable"], Render::EdgeText, TraitType::String),
    (&["meta"], Render::EdgeText, TraitType::String),
    (&["settings", "theme"], Render::EdgeText, TraitType::String),
    (&["long_text"], Render::LongText, TraitType::String),
    (&["count_str"], Render::NumberString, TraitType::String),
    (&["flag_str"], Render::BoolString, TraitType::String),
    (&["orders"], Render::Orders, TraitType::Json),
    (&["empty_list"], Render::EmptyList, TraitType::Json),
    (&["mixed_list"], Render::MixedList, TraitType::Json),
    (&["big_number"], Render::BigNumber, TraitType::Number),
    (&["tags"], Render::Tags, TraitType::StringList),
];

impl Schema {
    pub(crate) fn new(scenario: &Scenario) -> Self {
        let edge = scenario.profile == Profile::Edge;
        let mut defs: Vec<Slot> = Vec::new();
        let mut add = |path: Vec<String>, render, ty, class, irregular, edge_extra| {
            let keys = path
                .iter()
                .map(|k| {
                    let mut key = quoted(k).into_vec();
                    key.push(b':');
                    key.into_boxed_slice()
                })
                .collect();
            defs.push(Slot {
                path,
                keys,
                render,
                ty,
                class,
                irregular,
                edge_extra,
            });
        };
        let owned = |p: &[&str]| p.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        for (path, render, ty) in REALISTIC {
            add(owned(path), *render, *ty, TraitClass::Profile, edge, false);
        }
        if edge {
            for (path, render, ty) in EDGE {
                add(owned(path), *render, *ty, TraitClass::Profile, true, true);
            }
        }
        for audience in scenario.audience_defs() {
            add(
                vec![audience.key],
                Render::Flag,
                TraitType::Boolean,
                TraitClass::Audience,
                false,
                false,
            );
        }
        for computed in scenario.computed_trait_defs() {
            let (render, ty) = match computed.kind {
                ComputedKind::Counter => (Render::Counter, TraitType::Number),
                ComputedKind::MostFrequent => (Render::Category, TraitType::String),
                ComputedKind::UniqueList => (Render::Categories, TraitType::StringList),
            };
            add(
                vec![computed.key],
                render,
                ty,
                TraitClass::ComputedTrait,
                false,
                false,
            );
        }
        // Depth-first order that keeps first-seen order among siblings: sort
        // by, for each prefix, the index of the first slot with that prefix.
        let order_keys: Vec<Vec<usize>> = defs
            .iter()
            .map(|slot| {
                (1..=slot.path.len())
                    .map(|len| {
                        defs.iter()
                            .position(|other| {
                                other.path.len() >= len && other.path[..len] == slot.path[..len]
                            })
                            .expect("a slot has its own prefix")
                    })
                    .collect()
            })
            .collect();
        let mut indexed: Vec<(Vec<usize>, Slot)> = order_keys.into_iter().zip(defs).collect();
        indexed.sort_by(|a, b| a.0.cmp(&b.0));
        Self {
            slots: indexed.into_iter().map(|(_, slot)| slot).collect(),
        }
    }

    /// The slot id of a path. Panics on an unknown path (a generator bug).
    pub(crate) fn id(&self, path: &[&str]) -> u16 {
        self.find(path)
            .unwrap_or_else(|| panic!("no slot for {path:?}"))
    }

    pub(crate) fn find(&self, path: &[&str]) -> Option<u16> {
        self.slots
            .iter()
            .position(|slot| {
                slot.path
                    .iter()
                    .map(String::as_str)
                    .eq(path.iter().copied())
            })
            .map(|i| i as u16)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(scenario: &Scenario) {
        let schema = Schema::new(scenario);
        for (i, a) in schema.slots.iter().enumerate() {
            for (j, b) in schema.slots.iter().enumerate() {
                if i != j {
                    assert!(
                        !b.path.starts_with(&a.path),
                        "{:?} is a prefix of {:?}",
                        a.path,
                        b.path
                    );
                }
            }
        }
        // Siblings are contiguous: once a prefix is left it never returns.
        for depth in 1..12 {
            let mut seen: Vec<&[String]> = Vec::new();
            let mut last: Option<&[String]> = None;
            for slot in &schema.slots {
                if slot.path.len() <= depth {
                    last = None;
                    continue;
                }
                let prefix = &slot.path[..depth];
                if last != Some(prefix) {
                    assert!(!seen.contains(&prefix), "{prefix:?} is split");
                    seen.push(prefix);
                }
                last = Some(prefix);
            }
        }
    }

    #[test]
    fn no_path_is_a_prefix_of_another_and_siblings_stay_together() {
        check(&Scenario::default());
        check(&Scenario::edge());
        check(&Scenario {
            audiences: 40,
            computed_traits: 20,
            ..Scenario::edge()
        });
    }
}
