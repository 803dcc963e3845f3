//! Talon.One's side, as a separate layer: its all-or-nothing type check against a catalog, the profiles it then holds, and how two such profiles compare.
//!
//! Evidence (the fake's rows in `CONTRACT.md` give the sources): an
//! attribute unknown for `CustomerProfile` is rejected (documented,
//! `attribute.unknown`); a value must match its attribute's type, with no
//! coercion (documented, `attribute.type`); a time is an RFC 3339
//! date-time (documented), read here by the `time` crate's RFC 3339 parser
//! (chosen here: the model does not copy the fake's stricter reading); a
//! rejected update changes nothing (inferred, CONTRACT.md's "All or
//! nothing"); an integrationId holds at most 1000 characters (documented,
//! `integration_id.invalid`). Location types never fit here: the model
//! does not parse `"<lat>,<lon>"`, on purpose (it would be the fake's own
//! rule again), so scenarios that use it leave location types out.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::{Map, Value};

use crate::destination::destination_json;

/// Talon.One's limit on an integrationId, in characters.
pub const MAX_INTEGRATION_ID_CHARS: usize = 1000;

/// A Talon.One attribute type, by Talon.One's own names: the model's own
/// enum, converted by [`AttrType::from_name`] at the edges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum AttrType {
    /// `string`.
    String,
    /// `number`.
    Number,
    /// `boolean`.
    Boolean,
    /// `time`: an RFC 3339 date-time string.
    Time,
    /// `location`.
    Location,
    /// `(list string)`.
    ListString,
    /// `(list number)`.
    ListNumber,
    /// `(list time)`.
    ListTime,
    /// `(list location)`.
    ListLocation,
}

impl AttrType {
    /// Every type, in Talon.One's documented order.
    pub const ALL: [Self; 9] = [
        Self::String,
        Self::Number,
        Self::Boolean,
        Self::Time,
        Self::Location,
        Self::ListString,
        Self::ListNumber,
        Self::ListTime,
        Self::ListLocation,
    ];

    /// Talon.One's name of the type, e.g. `(list string)`.
    pub fn name(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Number => "number",
            Self::Boolean => "boolean",
            Self::Time => "time",
            Self::Location => "location",
            Self::ListString => "(list string)",
            Self::ListNumber => "(list number)",
            Self::ListTime => "(list time)",
            Self::ListLocation => "(list location)",
        }
    }

    /// The type Talon.One names `name`, if any.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|ty| ty.name() == name)
    }
}

/// Attribute name → type: the `CustomerProfile` attributes a deployment has.
pub type Catalog = BTreeMap<String, AttrType>;

/// Profiles by integrationId: their attributes.
pub type Profiles = BTreeMap<String, Map<String, Value>>;

fn instant(s: &str) -> Option<time::OffsetDateTime> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
}

/// Whether Talon.One accepts `value` for an attribute of type `ty`: the
/// JSON type must match, with no coercion; a time is an RFC 3339 string.
pub fn fits(ty: AttrType, value: &Value) -> bool {
    let time = |v: &Value| v.as_str().is_some_and(|s| instant(s).is_some());
    let all =
        |f: &dyn Fn(&Value) -> bool| value.as_array().is_some_and(|items| items.iter().all(f));
    match ty {
        AttrType::String => value.is_string(),
        AttrType::Number => value.is_number(),
        AttrType::Boolean => value.is_boolean(),
        AttrType::Time => time(value),
        AttrType::ListString => all(&Value::is_string),
        AttrType::ListNumber => all(&Value::is_number),
        AttrType::ListTime => all(&time),
        AttrType::Location | AttrType::ListLocation => false,
    }
}

/// Whether Talon.One accepts a profile update: an integrationId within
/// [`MAX_INTEGRATION_ID_CHARS`], and every attribute in the catalog with a
/// value that [`fits`] its type. All or nothing.
pub fn accepts(catalog: &Catalog, integration_id: &str, attributes: &Map<String, Value>) -> bool {
    integration_id.chars().count() <= MAX_INTEGRATION_ID_CHARS
        && attributes
            .iter()
            .all(|(name, value)| catalog.get(name).is_some_and(|ty| fits(*ty, value)))
}

/// The reference model of a deployment fed by the destination: each event
/// through [`destination_json`], then [`accepts`]; an accepted update sets
/// its attributes on the profile (creating it).
#[derive(Debug, Clone)]
pub struct Reference {
    configured: BTreeSet<String>,
    catalog: Catalog,
    /// What Talon.One holds.
    pub profiles: Profiles,
}

impl Reference {
    /// A deployment with `catalog`, fed by a destination with `configured`
    /// Custom Attributes.
    pub fn new(configured: BTreeSet<String>, catalog: Catalog) -> Self {
        Self {
            configured,
            catalog,
            profiles: Profiles::new(),
        }
    }

    /// Applies one event (JSON text). Returns whether Talon.One accepted a
    /// request for it (`false` when nothing is sent).
    pub fn apply(&mut self, event: &[u8]) -> bool {
        let Ok(sent) = destination_json(event, &self.configured) else {
            return false;
        };
        let accepted = accepts(&self.catalog, &sent.integration_id, &sent.attributes);
        if accepted {
            self.profiles
                .entry(sent.integration_id)
                .or_default()
                .extend(sent.attributes);
        }
        accepted
    }
}

/// One difference between what Talon.One holds and what it should.
#[derive(Debug, Clone, PartialEq)]
pub enum Mismatch {
    /// A profile that should exist does not.
    MissingProfile(String),
    /// A profile exists that should not.
    UnexpectedProfile(String),
    /// An attribute has another value than expected (or is missing: `None`).
    Attribute {
        /// The profile.
        integration_id: String,
        /// The attribute.
        name: String,
        /// What it should hold.
        expected: Option<Value>,
        /// What it holds.
        actual: Option<Value>,
    },
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |v: &Option<Value>| {
            v.as_ref()
                .map_or_else(|| "nothing".to_owned(), Value::to_string)
        };
        match self {
            Self::MissingProfile(id) => write!(f, "profile `{id}` should exist but does not"),
            Self::UnexpectedProfile(id) => write!(f, "profile `{id}` exists but should not"),
            Self::Attribute {
                integration_id,
                name,
                expected,
                actual,
            } => write!(
                f,
                "profile `{integration_id}`: `{name}` should hold {} but holds {}",
                show(expected),
                show(actual)
            ),
        }
    }
}

/// Compares profiles as Talon.One reads them: numbers by value, times (by
/// the catalog's type) by instant, everything else exactly.
pub fn compare(expected: &Profiles, actual: &Profiles, catalog: &Catalog) -> Vec<Mismatch> {
    let mut out = Vec::new();
    for (id, want) in expected {
        let Some(have) = actual.get(id) else {
            out.push(Mismatch::MissingProfile(id.clone()));
            continue;
        };
        let names: BTreeSet<&String> = want.keys().chain(have.keys()).collect();
        for name in names {
            let (w, h) = (want.get(name), have.get(name));
            let same = match (w, h) {
                (Some(w), Some(h)) => same_value(w, h, catalog.get(name.as_str()).copied()),
                (None, None) => true,
                _ => false,
            };
            if !same {
                out.push(Mismatch::Attribute {
                    integration_id: id.clone(),
                    name: name.clone(),
                    expected: w.cloned(),
                    actual: h.cloned(),
                });
            }
        }
    }
    out.extend(
        actual
            .keys()
            .filter(|id| !expected.contains_key(*id))
            .map(|id| Mismatch::UnexpectedProfile(id.clone())),
    );
    out
}

fn same_value(a: &Value, b: &Value, ty: Option<AttrType>) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::String(x), Value::String(y)) if ty == Some(AttrType::Time) => {
            instant(x).is_some() && instant(x) == instant(y)
        }
        (Value::Array(x), Value::Array(y)) => {
            let item = match ty {
                Some(AttrType::ListTime) => Some(AttrType::Time),
                _ => None,
            };
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_value(x, y, item))
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn attributes(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    fn catalog(entries: &[(&str, AttrType)]) -> Catalog {
        entries.iter().map(|(n, t)| ((*n).to_owned(), *t)).collect()
    }

    #[test]
    fn types_convert_by_talon_ones_names() {
        for ty in AttrType::ALL {
            assert_eq!(AttrType::from_name(ty.name()), Some(ty));
        }
        assert_eq!(
            AttrType::from_name("(list string)"),
            Some(AttrType::ListString)
        );
        assert_eq!(AttrType::from_name("String"), None);
    }

    #[test]
    fn values_fit_their_type_without_coercion() {
        assert!(fits(AttrType::String, &json!("x")));
        assert!(!fits(AttrType::String, &json!(1)));
        assert!(fits(AttrType::Number, &json!(1.5)));
        assert!(!fits(AttrType::Number, &json!("1")));
        assert!(!fits(AttrType::Boolean, &json!("true")));
        assert!(fits(AttrType::Time, &json!("2024-01-31T12:00:00Z")));
        assert!(!fits(AttrType::Time, &json!("2024-01-31")));
        assert!(fits(AttrType::ListNumber, &json!([1, 2.5])));
        assert!(!fits(AttrType::ListNumber, &json!([1, "2"])));
        assert!(fits(AttrType::ListString, &json!([])));
        assert!(!fits(AttrType::ListTime, &json!("2024-01-31T12:00:00Z")));
        assert!(!fits(AttrType::Location, &json!("52.5,13.4")));
    }

    #[test]
    fn an_update_is_accepted_whole_or_not_at_all() {
        let catalog = catalog(&[("email", AttrType::String), ("age", AttrType::Number)]);
        assert!(accepts(
            &catalog,
            "u1",
            &attributes(json!({"email": "e", "age": 3}))
        ));
        assert!(!accepts(
            &catalog,
            "u1",
            &attributes(json!({"email": "e", "age": "3"}))
        ));
        assert!(!accepts(
            &catalog,
            "u1",
            &attributes(json!({"email": "e", "city": "B"}))
        ));
        assert!(accepts(&catalog, "u1", &Map::new()));
        let long = "x".repeat(MAX_INTEGRATION_ID_CHARS + 1);
        assert!(!accepts(&catalog, &long, &Map::new()));
        let longest = "ü".repeat(MAX_INTEGRATION_ID_CHARS);
        assert!(accepts(&catalog, &longest, &Map::new()));
    }

    #[test]
    fn the_reference_keeps_what_was_accepted_and_nothing_of_a_rejection() {
        let configured = ["email", "age"].map(String::from).into_iter().collect();
        let catalog = catalog(&[("email", AttrType::String), ("age", AttrType::Number)]);
        let mut reference = Reference::new(configured, catalog);
        assert!(reference.apply(br#"{"type":"identify","userId":"u1","traits":{"email":"a"}}"#));
        assert!(
            !reference
                .apply(br#"{"type":"identify","userId":"u1","traits":{"email":"b","age":"old"}}"#)
        );
        assert!(reference.apply(br#"{"type":"identify","userId":"u1","traits":{"age":3}}"#));
        assert!(!reference.apply(br#"{"type":"track","userId":"u2"}"#));
        assert_eq!(
            reference.profiles,
            Profiles::from([("u1".into(), attributes(json!({"email": "a", "age": 3})))])
        );
    }

    #[test]
    fn profiles_compare_numbers_by_value_and_times_by_instant() {
        let catalog = catalog(&[("at", AttrType::Time), ("ats", AttrType::ListTime)]);
        let profiles = |v: Value| Profiles::from([("u1".into(), attributes(v))]);
        let expected = profiles(json!({
            "n": 1, "at": "2024-01-31T12:00:00Z", "ats": ["2024-01-31T12:00:00Z"]
        }));
        let actual = profiles(json!({
            "n": 1.0, "at": "2024-01-31T13:00:00+01:00", "ats": ["2024-01-31T12:00:00.000Z"]
        }));
        assert_eq!(compare(&expected, &actual, &catalog), []);
        let differs = profiles(json!({"n": 2, "at": "2024-01-31T12:00:00Z", "ats": []}));
        let found: Vec<String> = compare(&expected, &differs, &catalog)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            found,
            [
                "profile `u1`: `ats` should hold [\"2024-01-31T12:00:00Z\"] but holds []",
                "profile `u1`: `n` should hold 1 but holds 2",
            ]
        );
        assert_eq!(
            compare(&expected, &Profiles::new(), &catalog),
            [Mismatch::MissingProfile("u1".into())]
        );
        assert_eq!(
            compare(&Profiles::new(), &expected, &catalog),
            [Mismatch::UnexpectedProfile("u1".into())]
        );
    }
}
