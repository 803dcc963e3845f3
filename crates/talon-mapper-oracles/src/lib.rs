//! Fuzz oracles for the flattener and the mapper, shared by the cargo-fuzz targets in `fuzz/` and the stable tests.
//!
//! Each `check_*` function runs the code under test on one input and
//! checks the properties that must hold for every input; it returns a
//! [`Violation`] naming the broken property instead of panicking, so a
//! test can print the input beside it. A panic inside the code under test
//! is itself a finding (the fuzzer reports it as a crash).
//!
//! They are a crate of their own, not a module of `talon-mapper`, so the
//! `flatten` fuzz build can compile them without coverage counters: the
//! fuzzer then steers by the code under test alone, and does not pay for
//! the oracle's branches on every input (`fuzz/README.md`). For the same
//! reason that target calls the flattener itself and hands the result to
//! [`check_flattened`]: the flattener's generic walk is compiled in the
//! crate that instantiates it.
//!
//! The rules themselves come from the reference model (`talon_reference`),
//! written once from the rules tables, never from the mapper. For the
//! flattener ([`check_flatten_tree`]), a plain walk of the input counts
//! what must be reported, and for each output key a second walk finds every
//! path that spells it and orders them by the model's collision rule
//! ([`talon_reference::rule5_path_order`]); both walk a [`TraitsTree`] and
//! allocate next to nothing, so the `flatten` target spends its time in the
//! flattener. For the mapper, the model says what each event must become
//! ([`talon_reference::destination`]), and the mapper must agree.
//!
//! ```
//! use segment_model::tree::{Order, TraitsTree};
//! use talon_mapper_oracles::{check_flatten, check_flatten_tree, check_map_json, settings_with};
//!
//! let traits = serde_json::json!({"address": {"city": "Berlin"}, "address_city": "Bonn"});
//! check_flatten(traits.as_object().unwrap()).expect("the flattener keeps its rules");
//! let tree = TraitsTree::from_map(traits.as_object().unwrap());
//! let flat = check_flatten_tree(&tree, Order::Reversed).expect("in either key order");
//! assert_eq!(flat.to_json()["address_city"], "Bonn");
//! let settings = settings_with(&["address_city"]);
//! check_map_json(br#"{"type":"identify","userId":"a/b","traits":{"x":1}}"#, &settings)
//!     .expect("the mapper keeps its rules");
//! ```

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use percent_encoding::percent_decode_str;
use segment_model::Event;
use segment_model::tree::{Order, TraitsTree, TreeEntry, TreeValue};
use serde::Deserialize;
use serde_json::{Map, Value};

use talon_mapper::flatten::{FlatTraits, FlatValue, Flattened, Leaf, Scalar, flatten};
use talon_mapper::request::PROFILE_PATH;
use talon_mapper::{Kind, Mapped, Request, Settings, map_event, map_json};
// The rules' constants too are the model's, so a change of the mapper's is caught.
use talon_reference::{MAX_DEPTH, SEPARATOR, rule5_path_order, rule5_value_order};

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

fn is_scalar(value: &Value) -> bool {
    matches!(value, Value::Bool(_) | Value::Number(_) | Value::String(_))
}

/// Checks the flattener on one traits object: [`check_key_order`] on the
/// same object, and [`flatten`] (the driver over a [`serde_json::Map`])
/// giving exactly what the deserializing driver ([`FlatTraits`]) gives.
pub fn check_flatten(traits: &Map<String, Value>) -> Result<(), Violation> {
    let flat = flatten(traits);
    let tree = TraitsTree::from_map(traits);
    let parsed = check_key_order(&tree)?;
    ensure(flat == parsed, "both drivers give the same result", || {
        format!("over the map:\n{flat:?}\nwhile deserializing:\n{parsed:?}")
    })
}

/// What the flattener must report, counted: from a plain walk of a traits
/// tree ([`Tally::of_tree`]), and from a result's diagnostics
/// ([`Tally::of_diagnostics`]).
#[derive(Debug, Default, PartialEq, Eq)]
struct Tally {
    nulls: usize,
    empty_objects: usize,
    too_deep: usize,
    unrepresentable: usize,
    mixed_lists: usize,
    collisions: usize,
}

/// A plain walk's counts: the tally, with the leaves it saw.
#[derive(Debug, Default)]
struct Census {
    /// Every non-object value, sendable or not.
    leaves: usize,
    /// Scalars and lists of scalars no deeper than [`MAX_DEPTH`].
    sendable: usize,
    /// Diagnostics the walk expects, collisions aside (they need the keys).
    tally: Tally,
}

fn scalar_class(value: TreeValue<'_>) -> Option<u8> {
    match value {
        TreeValue::Str(_) => Some(0),
        TreeValue::UInt(_) | TreeValue::Int(_) | TreeValue::Float(_) => Some(1),
        TreeValue::Bool(_) => Some(2),
        TreeValue::Null | TreeValue::Array(_) | TreeValue::Object(_) => None,
    }
}

/// A scalar, or a list of scalars.
fn sendable(tree: &TraitsTree<'_>, value: TreeValue<'_>) -> bool {
    match value {
        TreeValue::Array(items) => tree.items(items).iter().all(|v| scalar_class(*v).is_some()),
        other => scalar_class(other).is_some(),
    }
}

impl Census {
    fn of(tree: &TraitsTree<'_>) -> Self {
        let mut out = Self::default();
        out.walk(tree, tree.root(), 1);
        out
    }

    /// Recursive, bounded by the tree's depth: a built tree's, or at most
    /// `serde_json`'s 128 levels for one read from JSON.
    fn walk(&mut self, tree: &TraitsTree<'_>, entries: &[TreeEntry<'_>], depth: usize) {
        for entry in entries {
            match entry.value {
                TreeValue::Object(inner) if inner.is_empty() => self.tally.empty_objects += 1,
                TreeValue::Object(_) if depth >= MAX_DEPTH => self.tally.too_deep += 1,
                TreeValue::Object(inner) => self.walk(tree, tree.entries(inner), depth + 1),
                TreeValue::Null => {
                    self.leaves += 1;
                    self.tally.nulls += 1;
                }
                value if !sendable(tree, value) => {
                    self.leaves += 1;
                    self.tally.unrepresentable += 1;
                }
                value => {
                    self.leaves += 1;
                    self.sendable += 1;
                    if let TreeValue::Array(items) = value {
                        let classes = tree.items(items).iter().map(|v| scalar_class(*v));
                        if classes.clone().zip(classes.skip(1)).any(|(a, b)| a != b) {
                            self.tally.mixed_lists += 1;
                        }
                    }
                }
            }
        }
    }
}

impl Tally {
    fn of_diagnostics(flat: &Flattened<'_>) -> Self {
        let mut out = Self::default();
        for d in &flat.diagnostics {
            match d.kind {
                Kind::NullValue { .. } => out.nulls += 1,
                Kind::EmptyObject { .. } => out.empty_objects += 1,
                Kind::TooDeep { .. } => out.too_deep += 1,
                Kind::UnrepresentableArray { .. } => out.unrepresentable += 1,
                Kind::MixedList { .. } => out.mixed_lists += 1,
                Kind::Collision { .. } => out.collisions += 1,
                _ => {}
            }
        }
        out
    }
}

/// One output key checked against the tree: a walk that only enters
/// entries whose key starts the rest of the key finds every sendable path
/// that spells it, and compares each with the path the leaf came from.
struct KeyCheck<'l, 'a> {
    leaf: &'l Leaf<'a>,
    /// Sendable paths that spell the key.
    spellers: usize,
    /// Whether the leaf's own path, holding the leaf's value, is one of them.
    found: bool,
    /// A path the collision rule prefers to the leaf's, if any.
    preferred: Option<String>,
}

impl<'l, 'a> KeyCheck<'l, 'a> {
    fn run<'t>(tree: &'t TraitsTree<'_>, leaf: &'l Leaf<'a>, path: &mut Vec<&'t str>) -> Self {
        let mut out = Self {
            leaf,
            spellers: 0,
            found: false,
            preferred: None,
        };
        path.clear();
        out.walk(tree, tree.root(), &leaf.key, path);
        out
    }

    fn walk<'t>(
        &mut self,
        tree: &'t TraitsTree<'_>,
        entries: &'t [TreeEntry<'_>],
        rest: &str,
        path: &mut Vec<&'t str>,
    ) {
        for entry in entries {
            let Some(after) = rest.strip_prefix(entry.key.as_ref()) else {
                continue;
            };
            path.push(entry.key.as_ref());
            match entry.value {
                TreeValue::Object(inner) if !inner.is_empty() && path.len() < MAX_DEPTH => {
                    if let Some(after) = after.strip_prefix(SEPARATOR) {
                        self.walk(tree, tree.entries(inner), after, path);
                    }
                }
                value if after.is_empty() && sendable(tree, value) => {
                    self.spelled(tree, path, value);
                }
                _ => {}
            }
            path.pop();
        }
    }

    /// The model's collision rule between this path and the leaf's: by path
    /// ([`rule5_path_order`]), then, for one path written twice, by value
    /// ([`rule5_value_order`]).
    fn spelled(&mut self, tree: &TraitsTree<'_>, path: &[&str], value: TreeValue<'_>) {
        self.spellers += 1;
        let leaf = self.leaf;
        let order = rule5_path_order(
            (path.len(), path.iter().copied()),
            (leaf.depth(), leaf.segments()),
        );
        let preferred = match order {
            Ordering::Less => true,
            Ordering::Greater => false,
            Ordering::Equal if same_value(tree, &leaf.value, value) => {
                self.found = true;
                false
            }
            Ordering::Equal => rule5_value_order(
                &tree.to_value(value).to_string(),
                &serde_json::to_string(&leaf.value).unwrap_or_default(),
            )
            .is_lt(),
        };
        if preferred && self.preferred.is_none() {
            self.preferred = Some(format!("{path:?} holding {}", tree.to_value(value)));
        }
    }
}

fn same_scalar(scalar: &Scalar<'_>, value: TreeValue<'_>) -> bool {
    match (scalar, value) {
        (Scalar::String(a), TreeValue::Str(b)) => a == b,
        (Scalar::UInt(a), TreeValue::UInt(b)) => *a == b,
        (Scalar::UInt(a), TreeValue::Int(b)) => u64::try_from(b) == Ok(*a),
        (Scalar::Int(a), TreeValue::Int(b)) => *a == b,
        (Scalar::Float(a), TreeValue::Float(b)) => a.to_bits() == b.to_bits(),
        (Scalar::Bool(a), TreeValue::Bool(b)) => *a == b,
        _ => false,
    }
}

/// Whether a flattened value is exactly this tree value.
fn same_value(tree: &TraitsTree<'_>, flat: &FlatValue<'_>, value: TreeValue<'_>) -> bool {
    match (flat, value) {
        (FlatValue::Scalar(scalar), value) => same_scalar(scalar, value),
        (FlatValue::List(list), TreeValue::Array(items)) => {
            let items = tree.items(items);
            list.len() == items.len() && list.iter().zip(items).all(|(a, b)| same_scalar(a, *b))
        }
        (FlatValue::List(_), _) => false,
    }
}

/// Checks the flattener on one traits tree, read through the deserializing
/// driver ([`FlatTraits`], the fast path of [`map_json`]) with each
/// object's keys in `order`: [`check_flattened`] holds for the result.
/// Allocates little beyond what the flattener itself does, so a fuzzer can
/// run it at a high rate; the fuzzer draws the order too.
///
/// Returns the result, for more checks.
pub fn check_flatten_tree<'a>(
    tree: &TraitsTree<'a>,
    order: Order,
) -> Result<Flattened<'a>, Violation> {
    let flat = FlatTraits::deserialize(tree.deserializer(order))
        .map_err(|e| Violation {
            oracle: "the deserializing flattener reads any traits object",
            detail: e.to_string(),
        })?
        .0;
    check_flattened(tree, &flat)?;
    Ok(flat)
}

/// [`check_flatten_tree`] in both key orders, and the two results equal to
/// the last detail (the diagnostics' paths and their order included).
///
/// Returns the result.
pub fn check_key_order<'a>(tree: &TraitsTree<'a>) -> Result<Flattened<'a>, Violation> {
    let flat = check_flatten_tree(tree, Order::Given)?;
    let reversed = check_flatten_tree(tree, Order::Reversed)?;
    ensure(
        reversed == flat,
        "the result does not depend on the order of keys",
        || format!("keys in the given order:\n{flat:?}\nreversed:\n{reversed:?}"),
    )?;
    Ok(flat)
}

/// Checks that `flat` is what the flattener's rules make of `tree`.
///
/// Properties: keys unique and sorted; no leaf deeper than [`MAX_DEPTH`];
/// every key the `_`-join of a real path, carrying that path's value, and
/// the path the collision rule keeps (a walk finds every path that spells
/// the key); every sendable leaf kept or reported as a collision, so no
/// more keys than leaves; every null, empty object, too-deep object,
/// unrepresentable array and mixed list reported; an already-flat object
/// without repeated keys comes back unchanged, with no diagnostic but
/// mixed lists. Values are scalars or lists of scalars by their type
/// ([`FlatValue`]).
pub fn check_flattened(tree: &TraitsTree<'_>, flat: &Flattened<'_>) -> Result<(), Violation> {
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
    let mut census = Census::of(tree);
    ensure(
        flat.leaves.len() <= census.leaves,
        "no more keys than leaves",
        || format!("{} keys from {} leaves", flat.leaves.len(), census.leaves),
    )?;

    let mut path = Vec::new();
    let mut spellers = 0;
    for leaf in &flat.leaves {
        ensure(
            leaf.depth() <= MAX_DEPTH,
            "no leaf sits deeper than MAX_DEPTH",
            || format!("`{}` is {} levels deep", leaf.key, leaf.depth()),
        )?;
        let check = KeyCheck::run(tree, leaf, &mut path);
        spellers += check.spellers;
        ensure(
            check.found,
            "each key is the `_`-join of a real path and carries its value",
            || {
                format!(
                    "`{}` from {} holding {:?}: no such path",
                    leaf.key,
                    leaf.path(),
                    leaf.value
                )
            },
        )?;
        ensure(
            check.preferred.is_none(),
            "each key comes from the path the collision rule keeps",
            || {
                format!(
                    "`{}` from {}, the rule keeps {}",
                    leaf.key,
                    leaf.path(),
                    check.preferred.unwrap_or_default()
                )
            },
        )?;
    }
    ensure(
        spellers == census.sendable,
        "every sendable leaf is kept or loses a collision",
        || {
            format!(
                "{spellers} of {} sendable leaves spell a key",
                census.sendable
            )
        },
    )?;
    census.tally.collisions = spellers - flat.leaves.len();
    let reported = Tally::of_diagnostics(flat);
    ensure(
        reported == census.tally,
        "every dropped value, mixed list and collision is reported",
        || format!("reported {reported:?}\nexpected {:?}", census.tally),
    )?;
    for d in &flat.diagnostics {
        if let Kind::Collision { key, kept, .. } = &d.kind {
            ensure(
                flat.leaves
                    .binary_search_by(|l| l.key.as_ref().cmp(key))
                    .is_ok_and(|i| flat.leaves[i].path() == *kept),
                "a collision names the kept path",
                || format!("{d}"),
            )?;
        }
    }

    // An already-flat object: every key its own path. Without repeated
    // keys (no collision), it must come back unchanged: the same keys, each
    // holding its value (checked above), and nothing to report but mixed lists.
    let root = tree.root();
    if census.tally.collisions == 0 && root.iter().all(|e| sendable(tree, e.value)) {
        ensure(
            flat.leaves.len() == root.len() && flat.leaves.iter().all(|l| l.depth() == 1),
            "flattening a flat object is the identity",
            || format!("{:?}", flat.to_json()),
        )?;
        ensure(
            flat.diagnostics
                .iter()
                .all(|d| matches!(d.kind, Kind::MixedList { .. })),
            "a flat object gets no diagnostic but mixed lists",
            || format!("{:?}", flat.diagnostics),
        )?;
    }
    Ok(())
}

// ------------------------------------------------------------------ mapper

/// What the request for an event must show, from the reference model.
#[derive(Debug)]
struct Facts {
    /// The integrationId the `userId` gives (rules 2 and 3).
    user_id: String,
    /// The Engage key that bypasses Custom Attributes, if any (rule 7).
    engage_key: Option<String>,
    /// Each flattened key's value under the collision rule (rules 4 and 5),
    /// when the event has no repeated keys (a built event, not raw text).
    values: Option<BTreeMap<String, Value>>,
}

fn facts_of_value(event: &Map<String, Value>, with_values: bool) -> Option<Facts> {
    let user_id = talon_reference::rule2_logged_in_users(event).ok()?;
    let engage_key = talon_reference::rule7_engage_key(event).map(|e| e.key);
    let values = with_values.then(|| match event.get("traits") {
        Some(Value::Object(traits)) => {
            talon_reference::rule5_collisions(talon_reference::rule4_flatten(traits))
                .into_iter()
                .map(|(key, leaf)| (key, leaf.value))
                .collect()
        }
        _ => BTreeMap::new(),
    });
    Some(Facts {
        user_id,
        engage_key,
        values,
    })
}

/// The differential check: the mapper sends what the reference model
/// says the destination sends (the same skip reason, or the same
/// integrationId and exactly the same attributes), for an event without
/// repeated keys.
fn check_agrees_with_model(
    event: &Value,
    mapped: &Mapped,
    settings: &Settings,
) -> Result<(), Violation> {
    let configured: BTreeSet<String> = settings.custom_attributes().iter().cloned().collect();
    let model = talon_reference::destination(event, &configured);
    let agree = match (mapped.skip(), mapped.requests.as_slice(), &model) {
        (Some(skip), [], Err(expected)) => skip.code() == expected.code(),
        (None, [request], Ok(sent)) => {
            let body: Option<Value> = serde_json::from_str(&request.body).ok();
            request.key == sent.integration_id
                && body.as_ref().and_then(|b| b.get("attributes"))
                    == Some(&Value::Object(sent.attributes.clone()))
        }
        _ => false,
    };
    ensure(agree, "the mapper and the reference model agree", || {
        let mut mapper: Vec<String> = mapped
            .requests
            .iter()
            .map(|request| format!("{} {}", request.key, request.body))
            .collect();
        mapper.extend(mapped.skip().map(|skip| format!("skip {}", skip.code())));
        let mapper = mapper.join("; ");
        let model = match &model {
            Err(skip) => format!("skip {}", skip.code()),
            Ok(sent) => format!(
                "{} {}",
                sent.integration_id,
                Value::Object(sent.attributes.clone())
            ),
        };
        format!("{event}\nthe mapper: {mapper}\nthe model: {model}")
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
        decoded.as_deref().ok() == Some(request.key.as_str()),
        "the integrationId in the URL decodes back to the integrationId",
        || format!("{segment:?} vs {:?}", request.key),
    )?;
    if let Some(facts) = facts {
        ensure(
            request.key == facts.user_id,
            "the integrationId is exactly the userId",
            || format!("{:?} vs {:?}", request.key, facts.user_id),
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
    let value = serde_json::to_value(event).unwrap_or_default();
    check_agrees_with_model(&value, &mapped, settings)?;
    if let Some(request) = mapped.request() {
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

/// The differential check on JSON text without repeated keys (what a
/// generator writes): [`map_json`] sends exactly what the reference model
/// says the destination sends (the same skip reason, or the same
/// integrationId and attributes). Text that is not JSON must be skipped
/// as an invalid event by both.
pub fn check_against_model(bytes: &[u8], settings: &Settings) -> Result<Mapped, Violation> {
    let mapped = map_json(bytes, settings);
    let event = serde_json::from_slice::<Value>(bytes).unwrap_or(Value::Null);
    check_agrees_with_model(&event, &mapped, settings)?;
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
    if let Some(request) = mapped.request() {
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

#[cfg(test)]
mod tests {
    use super::*;

    const EVENT: &[u8] = br#"{"type":"identify","userId":"u1",
        "traits":{"email":"e","address":{"city":"Berlin"},"address_city":"Bonn","name":"n"}}"#;

    fn agrees(mapped: &Mapped) -> Result<(), Violation> {
        let event: Value = serde_json::from_slice(EVENT).unwrap_or_default();
        check_agrees_with_model(&event, mapped, &settings_with(&["email", "address_city"]))
    }

    #[test]
    fn the_mapper_agrees_with_the_model_on_an_event_with_a_collision() {
        let mapped = check_against_model(EVENT, &settings_with(&["email", "address_city"]));
        let body = mapped.map(|m| m.request().map(|r| r.body.clone()));
        assert_eq!(
            body,
            Ok(Some(
                r#"{"attributes":{"address_city":"Bonn","email":"e"}}"#.to_owned()
            ))
        );
    }

    #[test]
    fn the_differential_check_fails_when_the_mapper_sends_another_body() {
        let mut mapped = map_json(EVENT, &settings_with(&["email", "address_city"]));
        assert_eq!(agrees(&mapped), Ok(()));
        if let Some(request) = mapped.requests.first_mut() {
            request.body = r#"{"attributes":{"address_city":"Berlin","email":"e"}}"#.into();
        }
        let violation = agrees(&mapped).map_err(|v| v.oracle);
        assert_eq!(violation, Err("the mapper and the reference model agree"));
    }

    #[test]
    fn the_differential_check_fails_when_the_mapper_skips_what_the_model_sends() {
        let mut mapped = map_json(EVENT, &settings_with(&["email", "address_city"]));
        mapped.requests.clear();
        mapped.skip = Some(talon_mapper::Skip::AnonymousUser);
        let violation = agrees(&mapped).map_err(|v| v.oracle);
        assert_eq!(violation, Err("the mapper and the reference model agree"));
    }

    #[test]
    fn the_differential_check_compares_skip_reasons() {
        let settings = settings_with(&[]);
        for (event, code) in [
            (
                &br#"{"type":"track","userId":"u1"}"#[..],
                "unsupported_type",
            ),
            (br#"{"type":"identify","userId":""}"#, "anonymous_user"),
            (br#"{"type":"identify","userId":".."}"#, "invalid_user_id"),
            (b"[1]", "invalid_event"),
            (b"not json", "invalid_event"),
        ] {
            let mapped = check_against_model(event, &settings);
            let skip = mapped.map(|m| m.skip().map(talon_mapper::Skip::code));
            assert_eq!(skip, Ok(Some(code)), "{}", String::from_utf8_lossy(event));
        }
    }
}
