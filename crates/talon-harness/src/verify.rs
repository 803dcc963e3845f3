//! What Talon.One must hold after a run, computed without the mapper, and the comparison with what it holds.
//!
//! Two independent expectations:
//! - [`expected_from_ledger`]: from the generator's ledger (the last value
//!   each trait path received per user) under the mapping rules. Exact for
//!   scenarios whose traits are always sendable and well typed (the
//!   realistic profile).
//! - [`Reference`]: a deliberately simple model that replays the events
//!   themselves — flatten, collide, filter, then Talon.One's all-or-nothing
//!   type check — for scenarios with nulls, collisions and wrong types (the
//!   edge profile). It shares no code with `talon-mapper` or `talon-fake`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};
use talon_fake::StateFile;
use talon_fake::rules::AttrType;

/// The longest path the mapping keeps (the mapper's documented limit).
const MAX_DEPTH: usize = 32;

/// Profiles by integrationId: their attributes.
pub type Profiles = BTreeMap<String, Map<String, Value>>;

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

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
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

/// The profiles of a dumped state.
pub fn profiles_of(state: &StateFile) -> Profiles {
    state
        .profiles
        .iter()
        .map(|p| (p.integration_id.clone(), p.attributes.clone()))
        .collect()
}

/// Compares, type-aware: numbers by value, times by instant.
pub fn compare(
    expected: &Profiles,
    actual: &Profiles,
    catalog: &BTreeMap<String, AttrType>,
) -> Vec<Mismatch> {
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

fn instant(s: &str) -> Option<time::OffsetDateTime> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
}

/// The expectation from a generator ledger: each user's last value of each
/// trait path, flattened, kept when configured or an Engage key. Paths whose
/// last value is `null` are reported in the second list: the ledger cannot
/// say what such an attribute holds, so they are not compared.
pub fn expected_from_ledger(
    ledger: &segment_gen::Ledger,
    configured: &BTreeSet<String>,
    engage_keys: &BTreeSet<String>,
) -> (Profiles, Vec<String>) {
    let mut profiles = Profiles::new();
    let mut unknown = Vec::new();
    for (user, traits) in &ledger.users {
        let attributes = profiles.entry(user.clone()).or_default();
        for t in &traits.traits {
            let name = t.path.join("_");
            if !(configured.contains(&name) || engage_keys.contains(&name)) {
                continue;
            }
            if t.value.is_null() {
                unknown.push(format!("{user}: {name}"));
                continue;
            }
            attributes.insert(name, t.value.clone());
        }
    }
    (profiles, unknown)
}

/// The reference model: the classic destination's rules and Talon.One's
/// acceptance, applied to events one by one, written for clarity rather
/// than speed.
#[derive(Debug, Clone)]
pub struct Reference {
    configured: BTreeSet<String>,
    catalog: BTreeMap<String, AttrType>,
    /// What Talon.One holds.
    pub profiles: Profiles,
}

impl Reference {
    /// A model of a deployment with `catalog`, fed by a destination with
    /// `configured` Custom Attributes.
    pub fn new(configured: BTreeSet<String>, catalog: BTreeMap<String, AttrType>) -> Self {
        Self {
            configured,
            catalog,
            profiles: Profiles::new(),
        }
    }

    /// Applies one event (JSON text). Returns whether Talon.One accepted a
    /// request for it.
    pub fn apply(&mut self, event: &[u8]) -> bool {
        let Ok(Value::Object(event)) = serde_json::from_slice::<Value>(event) else {
            return false;
        };
        if event.get("type").and_then(Value::as_str) != Some("identify") {
            return false;
        }
        let user = match event.get("userId") {
            Some(Value::String(s)) if !s.is_empty() && s != "." && s != ".." => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => return false,
        };
        let personas = event.get("context").and_then(|c| c.get("personas"));
        let class = personas
            .and_then(|p| p.get("computation_class"))
            .and_then(Value::as_str);
        let engage_key = match (
            class,
            personas
                .and_then(|p| p.get("computation_key"))
                .and_then(Value::as_str),
        ) {
            (Some("audience" | "trait"), Some(key)) if !key.is_empty() => Some(key.to_owned()),
            _ => None,
        };
        // Flatten: every leaf with its path.
        let mut leaves: Vec<(Vec<String>, Value)> = Vec::new();
        if let Some(Value::Object(traits)) = event.get("traits") {
            collect(traits, &mut Vec::new(), &mut leaves);
        }
        // Collisions: per key, the fewest levels, then the first path, then the first JSON.
        let mut by_key: BTreeMap<String, (Vec<String>, Value)> = BTreeMap::new();
        for (path, value) in leaves {
            let key = path.join("_");
            let better = match by_key.get(&key) {
                None => true,
                Some((old_path, old_value)) => {
                    (path.len(), &path, value.to_string())
                        < (old_path.len(), old_path, old_value.to_string())
                }
            };
            if better {
                by_key.insert(key, (path, value));
            }
        }
        // Custom Attributes, and the Engage key.
        let sent: Map<String, Value> = by_key
            .into_iter()
            .filter(|(key, _)| self.configured.contains(key) || engage_key.as_deref() == Some(key))
            .map(|(key, (_, value))| (key, value))
            .collect();
        // Talon.One: every attribute must exist with a matching type, or nothing changes.
        if user.chars().count() > 1000 {
            return false;
        }
        let accepted = sent
            .iter()
            .all(|(name, value)| self.catalog.get(name).is_some_and(|ty| fits(*ty, value)));
        if accepted {
            self.profiles.entry(user).or_default().extend(sent);
        }
        accepted
    }
}

fn collect(
    object: &Map<String, Value>,
    path: &mut Vec<String>,
    out: &mut Vec<(Vec<String>, Value)>,
) {
    for (key, value) in object {
        path.push(key.clone());
        match value {
            Value::Null => {}
            Value::Object(inner) => {
                if path.len() < MAX_DEPTH {
                    collect(inner, path, out);
                }
            }
            Value::Array(items) => {
                if items
                    .iter()
                    .all(|i| matches!(i, Value::String(_) | Value::Number(_) | Value::Bool(_)))
                {
                    out.push((path.clone(), value.clone()));
                }
            }
            scalar => out.push((path.clone(), scalar.clone())),
        }
        path.pop();
    }
}

/// Whether Talon.One accepts `value` for an attribute of type `ty` (no coercion).
fn fits(ty: AttrType, value: &Value) -> bool {
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
