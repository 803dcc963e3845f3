//! The trait table and the slots built from it: every trait path a scenario can send.
//!
//! [`REALISTIC`] is the single source for a realistic trait: one [`Row`]
//! names its path, its type, how its value renders ([`Render`]), how the
//! value is drawn at login, in an anonymous identify and in a trait update
//! ([`Draw`]), and how often it changes (its share of an update's picks).
//! The simulation, the NDJSON writer, the ledger and
//! [`Scenario::trait_schema`] all read the table through [`Schema`]; adding a
//! trait is adding a row.
//!
//! # How the rows are drawn
//!
//! - **Login**: rows are walked in table order; consecutive rows of one
//!   `group` form one batch (a row without a group is a batch of its own). A
//!   batch sent only `sometimes` draws that chance once; then the batch's
//!   [`Draw::Shared`] code is drawn (one code all its shared rows render,
//!   so a city and its postal code agree), then each other row's own draw,
//!   in table order.
//! - **Anonymous identify** and **trait update**: a number is drawn below
//!   the largest range end of the table's rows; the rows whose range holds
//!   it are sent, drawn as one batch per group (the same order as at login).
//!   A number no row claims sends no trait. An update makes one to
//!   [`UPDATE_PICKS`] such picks; the first value drawn for a path wins.
//! - Rows with a `spelling` are sent only by users of that spelling
//!   (`firstName` by camelCase users, `first_name` by snake_case users).
//!
//! Slots are the table's paths plus the edge profile's extra traits and
//! the scenario's audience and computed-trait keys, sorted depth-first
//! (siblings stay together, in first-seen order), so an event's traits,
//! sorted by slot id, serialize as nested objects in one pass.

use std::ops::Range;

use crate::json::quoted;
use crate::scenario::{ComputedKind, Profile, Scenario, TraitClass, TraitSpec, TraitType};
use crate::values::{CATEGORIES, CURRENCIES, LANGUAGES, PLANS, Render};

/// Most picks one trait update makes (it makes `1..=UPDATE_PICKS`).
pub(crate) const UPDATE_PICKS: u32 = 3;

/// How a row's value code is drawn (see [`crate::values`] for codes).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Draw {
    /// Always this code (the user's own name, their first email, 1 login).
    Fixed(u32),
    /// A fresh code from the PRNG.
    Code,
    /// The one code the row's batch draws for all its shared rows.
    Shared,
    /// A non-empty set of [`CATEGORIES`].
    Categories,
    /// The path's last value plus `at_least` plus a number below `spread`.
    Add { at_least: u32, spread: u32 },
    /// The path's last boolean, flipped.
    Toggle,
    /// One of the user's email identifiers.
    AnyEmail,
}

/// Which users send a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Spelling {
    /// Every user.
    Any,
    /// Users who write trait names in camelCase.
    Camel,
    /// Users who write trait names in snake_case.
    Snake,
}

impl Spelling {
    pub(crate) fn allows(self, snake_case: bool) -> bool {
        match self {
            Self::Any => true,
            Self::Camel => !snake_case,
            Self::Snake => snake_case,
        }
    }
}

/// When a row is part of the login identify.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Login {
    /// Never sent at login.
    Never,
    /// Always sent, drawn so.
    Always(Draw),
    /// Sent with this chance (drawn once per batch), drawn so.
    Sometimes(f64, Draw),
}

/// One realistic trait. Build rows with [`row`] and the methods below, so
/// a row names only what differs from "never sent".
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Row {
    /// The path inside `traits`.
    pub(crate) path: &'static [&'static str],
    /// The type of its values.
    pub(crate) ty: TraitType,
    /// How a code renders as JSON.
    pub(crate) render: Render,
    /// Which users send it.
    pub(crate) spelling: Spelling,
    /// Rows drawn together (adjacent in the table); `""` is a group of one.
    pub(crate) group: &'static str,
    /// At login.
    pub(crate) login: Login,
    /// The picks of an anonymous identify that send it, and how.
    pub(crate) anonymous: (Range<u32>, Draw),
    /// The picks of a trait update that change it, and how: the range's
    /// width is how often it changes.
    pub(crate) update: (Range<u32>, Draw),
}

/// A row sent by nobody yet: add `login`, `update`, … to it.
pub(crate) const fn row(path: &'static [&'static str], ty: TraitType, render: Render) -> Row {
    Row {
        path,
        ty,
        render,
        spelling: Spelling::Any,
        group: "",
        login: Login::Never,
        anonymous: (0..0, Draw::Code),
        update: (0..0, Draw::Code),
    }
}

impl Row {
    /// Always sent at login, drawn so.
    pub(crate) const fn login(self, draw: Draw) -> Self {
        Self {
            login: Login::Always(draw),
            ..self
        }
    }

    /// Sent at login with chance `p` (once per group), drawn so.
    pub(crate) const fn login_sometimes(self, p: f64, draw: Draw) -> Self {
        Self {
            login: Login::Sometimes(p, draw),
            ..self
        }
    }

    /// Changed by the update picks `picks`, drawn so.
    pub(crate) const fn update(self, picks: Range<u32>, draw: Draw) -> Self {
        Self {
            update: (picks, draw),
            ..self
        }
    }

    /// Sent by the anonymous-identify picks `picks`, drawn so.
    pub(crate) const fn anonymous(self, picks: Range<u32>, draw: Draw) -> Self {
        Self {
            anonymous: (picks, draw),
            ..self
        }
    }

    /// Drawn together with the adjacent rows of `group`.
    pub(crate) const fn group(self, group: &'static str) -> Self {
        Self { group, ..self }
    }

    /// Sent only by camelCase users.
    pub(crate) const fn camel(self) -> Self {
        Self {
            spelling: Spelling::Camel,
            ..self
        }
    }

    /// Sent only by snake_case users.
    pub(crate) const fn snake(self) -> Self {
        Self {
            spelling: Spelling::Snake,
            ..self
        }
    }
}

use Draw::{Add, AnyEmail, Categories, Code, Fixed, Shared, Toggle};
use TraitType as T;

/// The realistic profile's traits, in the order their keys are written, one
/// row a trait. Update picks `0..11`: plan 1, logins 2, newsletter 1,
/// lifetime value 1, a move (the address) 1, company plan 1, interests 1,
/// language 1, notification settings 1, email 1; anonymous picks `0..3`:
/// none 1, newsletter 1, language 1.
#[rustfmt::skip]
pub(crate) const REALISTIC: &[Row] = &[
    row(&["email"], T::String, Render::Email).login(Fixed(0)).update(10..11, AnyEmail),
    row(&["name"], T::String, Render::Name).login(Fixed(0)),
    row(&["firstName"], T::String, Render::FirstName).camel().login(Fixed(0)),
    row(&["first_name"], T::String, Render::FirstName).snake().login(Fixed(0)),
    row(&["lastName"], T::String, Render::LastName).camel().login(Fixed(0)),
    row(&["last_name"], T::String, Render::LastName).snake().login(Fixed(0)),
    row(&["phone"], T::String, Render::Phone).login(Code),
    row(&["birthday"], T::Time, Render::Birthday).login(Code),
    row(&["createdAt"], T::Time, Render::CreatedAt).camel().login(Code),
    row(&["created_at"], T::Time, Render::CreatedAt).snake().login(Code),
    row(&["address", "street"], T::String, Render::Street)
        .group("address").login(Code).update(5..6, Code),
    row(&["address", "city"], T::String, Render::City)
        .group("address").login(Shared).update(5..6, Shared),
    row(&["address", "state"], T::String, Render::State)
        .group("address").login(Shared).update(5..6, Shared),
    row(&["address", "postalCode"], T::String, Render::PostalCode)
        .group("address").camel().login(Shared).update(5..6, Shared),
    row(&["address", "postal_code"], T::String, Render::PostalCode)
        .group("address").snake().login(Shared).update(5..6, Shared),
    row(&["address", "country"], T::String, Render::Country)
        .group("address").login(Shared).update(5..6, Shared),
    row(&["company", "name"], T::String, Render::CompanyName)
        .group("company").login_sometimes(0.5, Shared),
    row(&["company", "id"], T::String, Render::CompanyId)
        .group("company").login_sometimes(0.5, Shared),
    row(&["company", "industry"], T::String, Render::Industry)
        .group("company").login_sometimes(0.5, Shared),
    row(&["company", "employee_count"], T::Number, Render::EmployeeCount)
        .group("company").login_sometimes(0.5, Shared),
    row(&["company", "plan"], T::String, Render::OneOf(PLANS))
        .group("company").login_sometimes(0.5, Code).update(6..7, Code),
    row(&["plan"], T::String, Render::OneOf(PLANS)).login(Code).update(0..1, Code),
    row(&["logins"], T::Number, Render::Integer)
        .login(Fixed(1)).update(1..3, Add { at_least: 1, spread: 3 }),
    row(&["newsletter"], T::Boolean, Render::Flag)
        .login(Code).anonymous(1..2, Code).update(3..4, Toggle),
    row(&["lifetime_value"], T::Number, Render::LifetimeValue)
        .update(4..5, Add { at_least: 500, spread: 20_000 }),
    row(&["interests"], T::StringList, Render::Categories)
        .login_sometimes(0.5, Categories).update(7..8, Categories),
    row(&["preferences", "language"], T::String, Render::OneOf(LANGUAGES))
        .group("preferences").login_sometimes(0.7, Code).anonymous(2..3, Code).update(8..9, Code),
    row(&["preferences", "currency"], T::String, Render::OneOf(CURRENCIES))
        .group("preferences").login_sometimes(0.7, Code),
    row(&["preferences", "notifications", "email"], T::Boolean, Render::Flag)
        .group("notifications").update(9..10, Code),
    row(&["preferences", "notifications", "sms"], T::Boolean, Render::Flag)
        .group("notifications").update(9..10, Code),
];

/// One of the edge profile's extra traits: path, type, render, and
/// whether it may carry `{}` (an object with nothing in it).
type EdgeRow = (&'static [&'static str], TraitType, Render, bool);

/// The edge profile's extra traits, sent `edge_traits_per_event` at a time.
#[rustfmt::skip]
const EDGE: &[EdgeRow] = &[
    (&["a_b"], T::String, Render::EdgeText, false),
    (&["a", "b"], T::String, Render::EdgeText, false),
    (&["a.b"], T::String, Render::EdgeText, false),
    (&["address_city"], T::String, Render::City, false),
    (&["deep", "l1", "l2", "l3", "l4", "l5", "l6", "l7", "l8", "l9", "l10"], T::String, Render::EdgeText, false),
    (&["Plan"], T::String, Render::OneOf(PLANS), false),
    (&["PLAN"], T::String, Render::OneOf(PLANS), false),
    (&["Email"], T::String, Render::Email, false),
    (&["名前"], T::String, Render::EdgeText, false),
    (&["émoji_😀"], T::String, Render::EdgeText, false),
    (&["ключ"], T::Number, Render::Integer, false),
    (&[""], T::String, Render::EdgeText, false),
    (&["key with space"], T::String, Render::EdgeText, false),
    (&["key/with#url?chars%"], T::String, Render::EdgeText, false),
    (&["quote\"key\\"], T::String, Render::EdgeText, false),
    (&["nullable"], T::String, Render::EdgeText, false),
    (&["meta"], T::String, Render::EdgeText, true),
    (&["settings", "theme"], T::String, Render::EdgeText, true),
    (&["long_text"], T::String, Render::LongText, false),
    (&["count_str"], T::String, Render::NumberString, false),
    (&["flag_str"], T::String, Render::BoolString, false),
    (&["orders"], T::Json, Render::Orders, false),
    (&["empty_list"], T::Json, Render::EmptyList, false),
    (&["mixed_list"], T::Json, Render::MixedList, false),
    (&["big_number"], T::Number, Render::BigNumber, false),
    (&["tags"], T::StringList, Render::Tags, false),
];

/// One trait path of a scenario.
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
    /// Edge profile: may carry `{}`.
    pub(crate) may_be_empty_object: bool,
}

/// A table row with the slot it writes.
#[derive(Debug)]
pub(crate) struct Placed {
    pub(crate) row: &'static Row,
    pub(crate) slot: u16,
    /// Where its batch starts (an index into [`Schema::rows`]).
    pub(crate) batch: usize,
}

/// Every slot of a scenario, and the table rows in table order.
#[derive(Debug)]
pub(crate) struct Schema {
    pub(crate) slots: Vec<Slot>,
    /// The table's rows, in table order, with their slots.
    pub(crate) rows: Vec<Placed>,
    /// The rows a login may send (indices into `rows`).
    pub(crate) login: Vec<u16>,
    /// Per anonymous pick (drawn below its length), the rows it sends.
    pub(crate) anonymous: Vec<Vec<u16>>,
    /// Per update pick (drawn below its length), the rows it changes.
    pub(crate) update: Vec<Vec<u16>>,
    /// The slot of `email`, which Engage's identifies carry.
    pub(crate) email: u16,
}

impl Schema {
    /// The slots of `scenario` with the realistic table.
    pub(crate) fn new(scenario: &Scenario) -> Self {
        Self::with_table(scenario, REALISTIC)
    }

    /// The slots of `scenario` with `table` as its realistic traits. The
    /// table must have an `email` row (Engage sends it).
    pub(crate) fn with_table(scenario: &Scenario, table: &'static [Row]) -> Self {
        let edge = scenario.profile == Profile::Edge;
        let mut defs: Vec<Slot> = Vec::new();
        let mut add = |path: &[&str], render, ty, class, irregular, edge_extra, empty| {
            let keys = path
                .iter()
                .map(|k| {
                    let mut key = quoted(k).into_vec();
                    key.push(b':');
                    key.into_boxed_slice()
                })
                .collect();
            defs.push(Slot {
                path: path.iter().map(|s| (*s).to_owned()).collect(),
                keys,
                render,
                ty,
                class,
                irregular,
                edge_extra,
                may_be_empty_object: empty,
            });
        };
        for row in table {
            add(
                row.path,
                row.render,
                row.ty,
                TraitClass::Profile,
                edge,
                false,
                false,
            );
        }
        if edge {
            for &(path, ty, render, empty) in EDGE {
                add(path, render, ty, TraitClass::Profile, true, true, empty);
            }
        }
        for audience in scenario.audience_defs() {
            add(
                &[&audience.key],
                Render::Flag,
                TraitType::Boolean,
                TraitClass::Audience,
                false,
                false,
                false,
            );
        }
        for computed in scenario.computed_trait_defs() {
            let (render, ty) = match computed.kind {
                ComputedKind::Counter => (Render::Integer, TraitType::Number),
                ComputedKind::MostFrequent => (Render::OneOf(CATEGORIES), TraitType::String),
                ComputedKind::UniqueList => (Render::Categories, TraitType::StringList),
            };
            add(
                &[&computed.key],
                render,
                ty,
                TraitClass::ComputedTrait,
                false,
                false,
                false,
            );
        }
        let slots = depth_first(defs);
        let find = |path: &[&str]| -> u16 {
            slots
                .iter()
                .position(|slot| {
                    slot.path
                        .iter()
                        .map(|s| s.as_str())
                        .eq(path.iter().copied())
                })
                .expect("every row has a slot") as u16
        };
        let mut rows: Vec<Placed> = Vec::with_capacity(table.len());
        for (i, row) in table.iter().enumerate() {
            let joins = i > 0 && !row.group.is_empty() && table[i - 1].group == row.group;
            let batch = if joins { rows[i - 1].batch } else { i };
            rows.push(Placed {
                row,
                slot: find(row.path),
                batch,
            });
        }
        // Precomputed so the hot path walks only the rows an event may send.
        let picks = |range: fn(&Row) -> &Range<u32>| -> Vec<Vec<u16>> {
            let span = table.iter().map(|r| range(r).end).max().unwrap_or(0);
            (0..span)
                .map(|pick| {
                    (0..table.len() as u16)
                        .filter(|&i| range(&table[usize::from(i)]).contains(&pick))
                        .collect()
                })
                .collect()
        };
        Self {
            login: (0..table.len() as u16)
                .filter(|&i| table[usize::from(i)].login != Login::Never)
                .collect(),
            anonymous: picks(|r| &r.anonymous.0),
            update: picks(|r| &r.update.0),
            email: find(&["email"]),
            rows,
            slots,
        }
    }

    /// The slot id of a path. Panics on an unknown path (a generator bug).
    pub(crate) fn id(&self, path: &[&str]) -> u16 {
        self.slots
            .iter()
            .position(|slot| {
                slot.path
                    .iter()
                    .map(String::as_str)
                    .eq(path.iter().copied())
            })
            .unwrap_or_else(|| panic!("no slot for {path:?}")) as u16
    }

    /// The slots as [`Scenario::trait_schema`] lists them.
    pub(crate) fn trait_specs(&self) -> Vec<TraitSpec> {
        self.slots
            .iter()
            .map(|slot| TraitSpec {
                path: slot.path.clone(),
                ty: slot.ty,
                class: slot.class,
                irregular: slot.irregular,
            })
            .collect()
    }
}

/// Depth-first order that keeps first-seen order among siblings: sorts by,
/// for each prefix, the index of the first slot with that prefix.
fn depth_first(defs: Vec<Slot>) -> Vec<Slot> {
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
    indexed.into_iter().map(|(_, slot)| slot).collect()
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

    #[test]
    fn a_group_is_adjacent_and_agrees_on_its_login_chance() {
        for (i, row) in REALISTIC.iter().enumerate() {
            if row.group.is_empty() {
                continue;
            }
            let first = REALISTIC
                .iter()
                .position(|r| r.group == row.group)
                .expect("the row itself");
            assert!(
                REALISTIC[first..=i].iter().all(|r| r.group == row.group),
                "group {} is split at {:?}",
                row.group,
                row.path
            );
            let chance = |login: &Login| match login {
                Login::Sometimes(p, _) => Some(*p),
                _ => None,
            };
            assert_eq!(
                chance(&row.login),
                chance(&REALISTIC[first].login),
                "{:?}",
                row.path
            );
        }
    }

    #[test]
    fn a_shared_draw_is_only_used_inside_a_group() {
        for row in REALISTIC {
            let draws = [
                match row.login {
                    Login::Never => None,
                    Login::Always(d) | Login::Sometimes(_, d) => Some(d),
                },
                Some(row.anonymous.1),
                Some(row.update.1),
            ];
            if draws.contains(&Some(Shared)) {
                assert!(!row.group.is_empty(), "{:?}", row.path);
            }
        }
    }

    #[test]
    fn every_update_pick_of_the_realistic_table_is_claimed() {
        let schema = Schema::new(&Scenario::default());
        assert_eq!(schema.update.len(), 11);
        assert_eq!(schema.anonymous.len(), 3);
        for (pick, rows) in schema.update.iter().enumerate() {
            for snake in [false, true] {
                assert!(
                    rows.iter()
                        .any(|&i| schema.rows[usize::from(i)].row.spelling.allows(snake)),
                    "update pick {pick} changes nothing"
                );
            }
        }
    }

    #[test]
    fn every_one_of_table_of_the_rows_needs_no_json_escaping() {
        let renders = REALISTIC
            .iter()
            .map(|r| r.render)
            .chain(EDGE.iter().map(|e| e.2));
        for render in renders {
            if let Render::OneOf(table) = render {
                assert!(!table.is_empty());
                for s in table {
                    assert_eq!(&*quoted(s), format!("\"{s}\"").as_bytes(), "{s}");
                }
            }
        }
    }
}
