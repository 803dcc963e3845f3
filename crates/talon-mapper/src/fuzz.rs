//! Fuzz oracles for the flattener and the mapper, shared by the cargo-fuzz targets in `fuzz/` and the stable tests.
//!
//! Each `check_*` function runs the code under test on one input and
//! checks the properties that must hold for every input; it returns a
//! [`Violation`] naming the broken property instead of panicking, so a
//! test can print the input beside it. A panic inside the code under test
//! is itself a finding (the fuzzer reports it as a crash).
//!
//! The expectations are computed here without the flattener's builder: a
//! plain walk of the input lists every leaf with its path, and the
//! collision rule is applied to that list directly.
//!
//! ```
//! use talon_mapper::fuzz::{check_flatten, check_map_json, settings_with};
//!
//! let traits = serde_json::json!({"address": {"city": "Berlin"}, "address_city": "Bonn"});
//! check_flatten(traits.as_object().unwrap()).expect("the flattener keeps its rules");
//! let settings = settings_with(&["address_city"]);
//! check_map_json(br#"{"type":"identify","userId":"a/b","traits":{"x":1}}"#, &settings)
//!     .expect("the mapper keeps its rules");
//! ```

use std::collections::BTreeMap;

use percent_encoding::percent_decode_str;
use segment_model::Event;
use serde::de::value::MapDeserializer;
use serde::de::{Deserializer, IntoDeserializer, Visitor};
use serde::{Deserialize, forward_to_deserialize_any};
use serde_json::{Map, Value};

use crate::flatten::{FlatTraits, Flattened, MAX_DEPTH, SEPARATOR, flatten};
use crate::request::PROFILE_PATH;
use crate::{Kind, Mapped, Outcome, Request, Settings, map_event, map_json};

/// A broken property: which oracle, and what it saw.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{oracle}: {detail}")]
pub struct Violation {
    /// The property, as a short phrase.
    pub oracle: &'static str,
    /// What was found instead.
    pub detail: String,
}

fn ensure(
    ok: bool,
    oracle: &'static str,
    detail: impl FnOnce() -> String,
) -> Result<(), Violation> {
    if ok {
        Ok(())
    } else {
        Err(Violation {
            oracle,
            detail: detail(),
        })
    }
}

/// Settings with these Custom Attributes, invalid names kept (as Segment
/// keeps them); `https://demo.talon.one` and the API key `fuzz-key`.
pub fn settings_with(names: &[&str]) -> Settings {
    let json = serde_json::json!({
        "apiKey": "fuzz-key",
        "applicationDomain": "https://demo.talon.one",
        "customAttributes": names,
    });
    Settings::parse_lenient(&json.to_string())
        .map(|(settings, _)| settings)
        // Only the API key and the domain can be fatal, and both are fixed.
        .expect("the fixed API key and domain are valid")
}

// ------------------------------------------------------------------ flattener

/// What the rules say a traits object holds, from a plain walk.
#[derive(Debug, Default)]
struct Expected<'a> {
    /// Sendable leaves: path and value.
    candidates: Vec<(Vec<&'a str>, &'a Value)>,
    /// Every non-object value, sendable or not.
    leaves: usize,
    nulls: usize,
    empty_objects: usize,
    too_deep: usize,
    unrepresentable: usize,
}

fn is_scalar(value: &Value) -> bool {
    matches!(value, Value::Bool(_) | Value::Number(_) | Value::String(_))
}

fn expected(traits: &Map<String, Value>) -> Expected<'_> {
    let mut out = Expected::default();
    // Iterative: each frame is an object and the path to it.
    let mut stack: Vec<(Vec<&str>, &Map<String, Value>)> = vec![(Vec::new(), traits)];
    while let Some((prefix, object)) = stack.pop() {
        for (key, value) in object {
            let mut path = prefix.clone();
            path.push(key.as_str());
            match value {
                Value::Object(inner) if inner.is_empty() => out.empty_objects += 1,
                Value::Object(_) if path.len() >= MAX_DEPTH => out.too_deep += 1,
                Value::Object(inner) => stack.push((path, inner)),
                Value::Null => {
                    out.leaves += 1;
                    out.nulls += 1;
                }
                Value::Array(items) if !items.iter().all(is_scalar) => {
                    out.leaves += 1;
                    out.unrepresentable += 1;
                }
                _ => {
                    out.leaves += 1;
                    out.candidates.push((path, value));
                }
            }
        }
    }
    out
}

/// The winner of each key under the collision rule: fewest levels, then
/// the bytewise-first path, then the bytewise-first JSON text.
type Winners<'a> = BTreeMap<String, (Vec<&'a str>, &'a Value)>;

fn winners<'a>(candidates: &[(Vec<&'a str>, &'a Value)]) -> Winners<'a> {
    let mut out: Winners<'a> = BTreeMap::new();
    for (path, value) in candidates {
        let key = path.join(&SEPARATOR.to_string());
        let better = match out.get(&key) {
            None => true,
            Some((best, best_value)) => (path.len(), path)
                .cmp(&(best.len(), best))
                .then_with(|| value.to_string().cmp(&best_value.to_string()))
                .is_lt(),
        };
        if better {
            out.insert(key, (path.clone(), value));
        }
    }
    out
}

fn count(flat: &Flattened<'_>, code: &str) -> usize {
    flat.diagnostics
        .iter()
        .filter(|d| d.kind.code() == code)
        .count()
}

/// Checks the flattener on one traits object: both drivers, any key order.
///
/// Properties: keys unique and sorted; every value a scalar or a list of
/// scalars; every key the `_`-join of a real path whose value it carries,
/// and the winner of the collision rule; every loser a collision
/// diagnostic, every null, empty object, too-deep object and
/// unrepresentable array a diagnostic; no more keys than leaves; an
/// already-flat object comes back unchanged; and the JSON-text driver
/// ([`FlatTraits`]) gives the same result with the keys in either order.
pub fn check_flatten(traits: &Map<String, Value>) -> Result<(), Violation> {
    let flat = flatten(traits);
    let want = expected(traits);

    ensure(
        flat.leaves.windows(2).all(|w| w[0].key < w[1].key),
        "keys are unique and sorted bytewise",
        || {
            format!(
                "{:?}",
                flat.leaves.iter().map(|l| &l.key).collect::<Vec<_>>()
            )
        },
    )?;
    for leaf in &flat.leaves {
        let json = leaf.value.to_json();
        let shape_ok =
            is_scalar(&json) || matches!(&json, Value::Array(items) if items.iter().all(is_scalar));
        ensure(shape_ok, "values are scalars or lists of scalars", || {
            format!("`{}` holds {json}", leaf.key)
        })?;
        let segments: Vec<&str> = leaf.segments().collect();
        ensure(
            segments.join(&SEPARATOR.to_string()) == leaf.key,
            "a key is its path joined with `_`",
            || format!("key `{}` from segments {segments:?}", leaf.key),
        )?;
        ensure(
            leaf.depth() <= MAX_DEPTH,
            "no leaf sits deeper than MAX_DEPTH",
            || format!("`{}` is {} levels deep", leaf.key, leaf.depth()),
        )?;
    }
    ensure(
        flat.leaves.len() <= want.leaves,
        "no more keys than leaves",
        || format!("{} keys from {} leaves", flat.leaves.len(), want.leaves),
    )?;

    let winners = winners(&want.candidates);
    let got: Vec<(&str, Vec<&str>, Value)> = flat
        .leaves
        .iter()
        .map(|l| (l.key.as_ref(), l.segments().collect(), l.value.to_json()))
        .collect();
    let wanted: Vec<(&str, Vec<&str>, Value)> = winners
        .iter()
        .map(|(key, (path, value))| (key.as_str(), path.clone(), (*value).clone()))
        .collect();
    ensure(
        got == wanted,
        "each key carries the value of a real path, the one the collision rule picks",
        || format!("got {got:?}\nwant {wanted:?}"),
    )?;

    let losers = want.candidates.len() - winners.len();
    ensure(
        count(&flat, "collision") == losers,
        "every collision is reported",
        || {
            format!(
                "{} collision diagnostics for {losers} losing paths",
                count(&flat, "collision")
            )
        },
    )?;
    for d in &flat.diagnostics {
        if let Kind::Collision { key, kept, .. } = &d.kind {
            let winner = flat.leaves.iter().find(|l| l.key == *key);
            ensure(
                winner.is_some_and(|l| l.path() == *kept),
                "a collision names the kept path",
                || format!("{d}"),
            )?;
        }
    }
    for (code, n) in [
        ("null_value", want.nulls),
        ("empty_object", want.empty_objects),
        ("too_deep", want.too_deep),
        ("unrepresentable_array", want.unrepresentable),
    ] {
        ensure(
            count(&flat, code) == n,
            "every dropped value is reported",
            || format!("{} `{code}` diagnostics, {n} expected", count(&flat, code)),
        )?;
    }

    let already_flat = traits
        .values()
        .all(|v| is_scalar(v) || matches!(v, Value::Array(items) if items.iter().all(is_scalar)));
    if already_flat {
        ensure(
            flat.to_json() == *traits,
            "flattening a flat object is the identity",
            || format!("{:?}", flat.to_json()),
        )?;
        ensure(
            flat.diagnostics
                .iter()
                .all(|d| d.kind.code() == "mixed_list"),
            "a flat object gets no diagnostic but mixed lists",
            || format!("{:?}", flat.diagnostics),
        )?;
    }

    // The deserializing driver (the fast path's `FlatTraits`), reading the
    // same traits through serde with the keys in the given order and in
    // the reversed order at every level. Through serde rather than JSON
    // text: no text to write and parse per input, and no float read back
    // one ulp off (fixtures/fuzz-regressions/flatten/float_text_round_trip.json);
    // `map_event` and `map_json_bytes` cover the text.
    for reverse in [false, true] {
        let parsed = FlatTraits::deserialize(Ordered {
            object: traits,
            reverse,
        })
        .map_err(|e| Violation {
            oracle: "the deserializing flattener reads any traits object",
            detail: e.to_string(),
        })?;
        ensure(
            parsed.0 == flat,
            "the result does not depend on key order or on the driver",
            || {
                let order = if reverse { "reversed" } else { "given" };
                format!("keys in {order} order:\n{:?}\nvs\n{flat:?}", parsed.0)
            },
        )?;
    }
    Ok(())
}

/// A traits object as a serde [`Deserializer`], its keys in map order or
/// reversed at every level.
struct Ordered<'a> {
    object: &'a Map<String, Value>,
    reverse: bool,
}

/// One value under an [`Ordered`] object: objects keep the order rule.
struct OrderedValue<'a> {
    value: &'a Value,
    reverse: bool,
}

impl<'de> Deserializer<'de> for Ordered<'de> {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        let reverse = self.reverse;
        let mut entries: Vec<(&'de str, OrderedValue<'de>)> = self
            .object
            .iter()
            .map(|(k, value)| (k.as_str(), OrderedValue { value, reverse }))
            .collect();
        if reverse {
            entries.reverse();
        }
        let mut map = MapDeserializer::new(entries.into_iter());
        let out = visitor.visit_map(&mut map)?;
        map.end()?;
        Ok(out)
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

impl<'de> Deserializer<'de> for OrderedValue<'de> {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.value {
            Value::Object(object) => Ordered {
                object,
                reverse: self.reverse,
            }
            .deserialize_any(visitor),
            other => other.deserialize_any(visitor),
        }
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

impl<'de> IntoDeserializer<'de, serde_json::Error> for OrderedValue<'de> {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}

// ------------------------------------------------------------------ mapper

/// What the request for an event must show, read from the event without the mapper.
#[derive(Debug)]
struct Facts {
    /// The integrationId the `userId` gives.
    user_id: String,
    /// The Engage key that bypasses Custom Attributes, if any.
    engage_key: Option<String>,
    /// Each flattened key's value under the collision rule, when the event
    /// has no repeated keys (a built event, not raw text).
    values: Option<BTreeMap<String, Value>>,
}

fn facts_of_value(event: &Map<String, Value>, with_values: bool) -> Option<Facts> {
    let user_id = match event.get("userId")? {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    let personas = event.get("context").and_then(|c| c.get("personas"));
    let class = personas
        .and_then(|p| p.get("computation_class"))
        .and_then(Value::as_str);
    let key = personas
        .and_then(|p| p.get("computation_key"))
        .and_then(Value::as_str);
    let engage_key = match (class, key) {
        (Some("audience" | "trait"), Some(key)) if !key.is_empty() => Some(key.to_owned()),
        _ => None,
    };
    let values = with_values.then(|| match event.get("traits") {
        Some(Value::Object(traits)) => winners(&expected(traits).candidates)
            .into_iter()
            .map(|(key, (_, value))| (key, value.clone()))
            .collect(),
        _ => BTreeMap::new(),
    });
    Some(Facts {
        user_id,
        engage_key,
        values,
    })
}

/// Checks a request against the settings and, when known, the event's facts.
fn check_request(
    request: &Request,
    mapped: &Mapped,
    settings: &Settings,
    facts: Option<&Facts>,
) -> Result<(), Violation> {
    let prefix = format!("{}{PROFILE_PATH}", settings.base_url());
    let segment = request.url.strip_prefix(&prefix);
    ensure(
        segment.is_some() && request.path() == &request.url[settings.base_url().len()..],
        "the URL is the profile endpoint under the application domain",
        || request.url.clone(),
    )?;
    let segment = segment.unwrap_or_default();
    ensure(
        segment
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b)),
        "the integrationId is one percent-encoded path segment",
        || segment.to_owned(),
    )?;
    let decoded = percent_decode_str(segment).decode_utf8();
    ensure(
        decoded.as_deref().ok() == Some(request.integration_id.as_str()),
        "the integrationId in the URL decodes back to the integrationId",
        || format!("{segment:?} vs {:?}", request.integration_id),
    )?;
    if let Some(facts) = facts {
        ensure(
            request.integration_id == facts.user_id,
            "the integrationId is exactly the userId",
            || format!("{:?} vs {:?}", request.integration_id, facts.user_id),
        )?;
    }
    ensure(
        request.method == "PUT"
            && request.header("Authorization")
                == Some(format!("ApiKey-v1 {}", settings.api_key()).as_str())
            && request.header("Content-Type") == Some("application/json"),
        "the request carries the documented method and headers",
        || format!("{} {:?}", request.method, request.headers),
    )?;
    let body: Value = serde_json::from_str(&request.body).map_err(|e| Violation {
        oracle: "the body is valid JSON",
        detail: format!("{e}: {}", request.body),
    })?;
    let attributes = match &body {
        Value::Object(o) if o.len() == 1 => o.get("attributes").and_then(Value::as_object),
        _ => None,
    };
    let Some(attributes) = attributes else {
        return Err(Violation {
            oracle: "the body is {\"attributes\": {…}}",
            detail: request.body.clone(),
        });
    };
    for (key, value) in attributes {
        let shape_ok =
            is_scalar(value) || matches!(value, Value::Array(items) if items.iter().all(is_scalar));
        ensure(
            shape_ok,
            "attribute values are scalars or lists of scalars",
            || format!("`{key}` holds {value}"),
        )?;
        let allowed = settings.is_configured(key)
            || match facts {
                Some(facts) => facts.engage_key.as_deref() == Some(key),
                // Without facts, the mapper's own note is the only witness.
                None => mapped
                    .diagnostics
                    .iter()
                    .any(|d| matches!(&d.kind, Kind::EngageKeySent { key: k, .. } if k == key)),
            };
        ensure(
            allowed,
            "attribute keys are configured Custom Attributes or the Engage key",
            || format!("`{key}` sent"),
        )?;
        if let Some(values) = facts.and_then(|f| f.values.as_ref()) {
            ensure(
                values.get(key) == Some(value),
                "the body carries each value exactly as the event holds it",
                || {
                    format!(
                        "`{key}`: the event holds {:?}, the body {value}",
                        values.get(key)
                    )
                },
            )?;
        }
    }
    Ok(())
}

/// Determinism: the same input maps to byte-identical output.
fn check_same(first: &Mapped, second: &Mapped, what: &str) -> Result<(), Violation> {
    // Bytes, not values: the output must be byte-identical.
    let (a, b) = (
        first.to_json(true).to_string(),
        second.to_json(true).to_string(),
    );
    ensure(
        first == second && first.render() == second.render() && a == b,
        "mapping is deterministic",
        || format!("{what}: {first:?} vs {second:?}"),
    )
}

/// Checks the mapper on a typed event: total, deterministic, the same as
/// [`map_json`] on the event's JSON, and a request that keeps the rules
/// (URL, headers, body shape, attribute keys).
pub fn check_map_event(event: &Event, settings: &Settings) -> Result<Mapped, Violation> {
    let mapped = map_event(event, settings);
    check_same(&mapped, &map_event(event, settings), "map_event twice")?;
    if let Some(traits) = &event.traits {
        check_flatten(traits)?;
    }
    let json = serde_json::to_vec(event).map_err(|e| Violation {
        oracle: "events serialize",
        detail: e.to_string(),
    })?;
    if let Outcome::Send(request) = &mapped.outcome {
        let value = serde_json::to_value(event).unwrap_or_default();
        let facts = value.as_object().and_then(|o| facts_of_value(o, true));
        ensure(
            facts.is_some(),
            "only events with a userId are sent",
            || String::from_utf8_lossy(&json).into_owned(),
        )?;
        check_request(request, &mapped, settings, facts.as_ref())?;
    }
    // map_json on the event's text agrees with map_event on that text read
    // back (not on `event`: see `check_flatten` on floats).
    let reread: Event = serde_json::from_slice(&json).map_err(|e| Violation {
        oracle: "events read back from their JSON",
        detail: format!("{e}: {}", String::from_utf8_lossy(&json)),
    })?;
    let typed = map_event(&reread, settings);
    let from_json = map_json(&json, settings);
    ensure(from_json == typed, "map_json and map_event agree", || {
        format!(
            "{}\nmap_event: {typed:?}\nmap_json: {from_json:?}",
            String::from_utf8_lossy(&json)
        )
    })?;
    Ok(mapped)
}

/// Checks the mapper on raw bytes: total and deterministic, a request that
/// keeps the rules, and, when the bytes are a JSON event, the same result
/// as [`map_event`] on its canonical text.
pub fn check_map_json(bytes: &[u8], settings: &Settings) -> Result<Mapped, Violation> {
    let mapped = map_json(bytes, settings);
    check_same(&mapped, &map_json(bytes, settings), "map_json twice")?;
    // serde_json stops at 128 levels, so this cannot overflow the stack.
    let value = serde_json::from_slice::<Value>(bytes).ok();
    let object = value.as_ref().and_then(Value::as_object);
    if let Outcome::Send(request) = &mapped.outcome {
        let facts = object.and_then(|o| facts_of_value(o, false));
        check_request(request, &mapped, settings, facts.as_ref())?;
    }
    if let Some(object) = object {
        if let Some(Value::Object(traits)) = object.get("traits") {
            check_flatten(traits)?;
        }
        // The canonical text has no repeated keys, so both paths see one event.
        let canonical = serde_json::to_vec(object).unwrap_or_default();
        if let Ok(event) = serde_json::from_slice::<Event>(&canonical) {
            check_map_event(&event, settings)?;
            let from_text = map_json(&canonical, settings);
            let typed = map_event(&event, settings);
            ensure(from_text == typed, "map_json and map_event agree", || {
                format!("{}", String::from_utf8_lossy(&canonical))
            })?;
        }
    }
    Ok(mapped)
}
