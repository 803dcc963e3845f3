//! Segment's side: what the classic destination sends for one event (rules 1 to 7 and 9 of the rules table), one function per row.
//!
//! Every function reads a `serde_json::Value` and walks it plainly; none
//! is tuned for speed. Paths are owned `Vec<String>`s, values are cloned.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

/// The separator between the keys of nested objects (rule 4).
pub const SEPARATOR: &str = "_";

/// The deepest a leaf may sit: a path of at most this many keys (rule 4).
pub const MAX_DEPTH: usize = 32;

/// Why an event is not sent, by the mapper's stable reason codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    /// Not JSON, not an object, or no string `type`.
    InvalidEvent,
    /// A `type` other than `identify` (rule 1).
    UnsupportedType,
    /// No non-empty `userId` (rule 2).
    AnonymousUser,
    /// A `userId` that cannot be an integrationId (rules 2 and 3).
    InvalidUserId,
}

impl Skip {
    /// The snake_case reason code, as the mapper reports it.
    pub fn code(self) -> &'static str {
        match self {
            Self::InvalidEvent => "invalid_event",
            Self::UnsupportedType => "unsupported_type",
            Self::AnonymousUser => "anonymous_user",
            Self::InvalidUserId => "invalid_user_id",
        }
    }
}

/// One sendable leaf of the traits: its path, outermost key first, and its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Leaf {
    /// The keys from the traits object down to the value.
    pub path: Vec<String>,
    /// A scalar or a list of scalars.
    pub value: Value,
}

impl Leaf {
    /// The flattened key (rule 4).
    pub fn key(&self) -> String {
        rule4_key(&self.path)
    }
}

/// Engage's computation class (rule 7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum EngageClass {
    /// `audience` (also what Journeys send).
    Audience,
    /// `trait`: a computed trait.
    Trait,
}

impl EngageClass {
    /// The class as Segment writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Audience => "audience",
            Self::Trait => "trait",
        }
    }
}

/// The key Engage computed for an event (rule 7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngageKey {
    /// Audience or computed trait.
    pub class: EngageClass,
    /// `context.personas.computation_key`, non-empty.
    pub key: String,
}

/// What the destination sends for one event: the profile and its attributes (rule 9).
#[derive(Debug, Clone, PartialEq)]
pub struct Sent {
    /// The integrationId (rule 3).
    pub integration_id: String,
    /// The attributes of the body, keys sorted bytewise.
    pub attributes: Map<String, Value>,
}

/// Rule 1: only `identify` events are sent. An event that is not an object,
/// or whose `type` is missing or not a string, is not a readable event.
pub fn rule1_identify_only(event: &Value) -> Result<&Map<String, Value>, Skip> {
    let Value::Object(event) = event else {
        return Err(Skip::InvalidEvent);
    };
    match event.get("type") {
        Some(Value::String(kind)) if kind == "identify" => Ok(event),
        Some(Value::String(_)) => Err(Skip::UnsupportedType),
        _ => Err(Skip::InvalidEvent),
    }
}

/// Rule 2: only logged-in users. A non-empty string `userId` is kept as it
/// is; a number becomes its decimal string as JSON writes it; absent,
/// `null` or empty is anonymous; any other type cannot be an integrationId.
pub fn rule2_logged_in_users(event: &Map<String, Value>) -> Result<String, Skip> {
    match event.get("userId") {
        None | Some(Value::Null) => Err(Skip::AnonymousUser),
        Some(Value::String(id)) if id.is_empty() => Err(Skip::AnonymousUser),
        Some(Value::String(id)) => Ok(id.clone()),
        Some(Value::Number(n)) => Ok(n.to_string()),
        Some(_) => Err(Skip::InvalidUserId),
    }
}

/// Rule 3: the `userId` is the integrationId byte for byte, except `.` and
/// `..`, which cannot be a URL path segment.
pub fn rule3_integration_id(user_id: String) -> Result<String, Skip> {
    if user_id == "." || user_id == ".." {
        Err(Skip::InvalidUserId)
    } else {
        Ok(user_id)
    }
}

/// Rule 4's key: the path's keys joined with `_`.
pub fn rule4_key<S: AsRef<str>>(path: &[S]) -> String {
    let parts: Vec<&str> = path.iter().map(AsRef::as_ref).collect();
    parts.join(SEPARATOR)
}

/// Whether a value is a scalar: a string, a number or a boolean.
fn is_scalar(value: &Value) -> bool {
    matches!(value, Value::String(_) | Value::Number(_) | Value::Bool(_))
}

/// Rule 4: every sendable leaf of a traits object, with its path. Nested
/// objects are walked into while their children stay within
/// [`MAX_DEPTH`] keys; `{}` gives nothing; `null`s are dropped; an array of
/// scalars is a leaf, any other array is dropped. Collisions are rule 5's.
pub fn rule4_flatten(traits: &Map<String, Value>) -> Vec<Leaf> {
    let mut leaves = Vec::new();
    walk(traits, &mut Vec::new(), &mut leaves);
    leaves
}

/// Recursive, at most [`MAX_DEPTH`] levels deep.
fn walk(object: &Map<String, Value>, path: &mut Vec<String>, leaves: &mut Vec<Leaf>) {
    for (key, value) in object {
        path.push(key.clone());
        match value {
            Value::Null => {}
            Value::Object(inner) => {
                if path.len() < MAX_DEPTH {
                    walk(inner, path, leaves);
                }
            }
            Value::Array(items) => {
                if items.iter().all(is_scalar) {
                    leaves.push(Leaf {
                        path: path.clone(),
                        value: value.clone(),
                    });
                }
            }
            scalar => leaves.push(Leaf {
                path: path.clone(),
                value: scalar.clone(),
            }),
        }
        path.pop();
    }
}

/// Rule 5's order of two paths that flatten to one key, each given as its
/// number of levels and its keys (outermost first): fewer levels first,
/// then the bytewise-first keys. `Equal` is one path written twice (a
/// repeated key in the JSON text): [`rule5_value_order`] decides.
pub fn rule5_path_order<'a>(
    (a_levels, a): (usize, impl Iterator<Item = &'a str>),
    (b_levels, b): (usize, impl Iterator<Item = &'a str>),
) -> Ordering {
    // The keys are only compared between paths of one length.
    a_levels.cmp(&b_levels).then_with(|| a.cmp(b))
}

/// Rule 5's order of two values of one path, given as their JSON text:
/// the bytewise-first text.
pub fn rule5_value_order(a_json: &str, b_json: &str) -> Ordering {
    a_json.cmp(b_json)
}

/// Rule 5: when paths collide on one key, the winner under
/// [`rule5_path_order`], then [`rule5_value_order`]. Keys sorted bytewise;
/// the order of leaves in the input never matters.
pub fn rule5_collisions(leaves: Vec<Leaf>) -> BTreeMap<String, Leaf> {
    let mut winners: BTreeMap<String, Leaf> = BTreeMap::new();
    for leaf in leaves {
        let key = leaf.key();
        let wins = match winners.get(&key) {
            None => true,
            Some(best) => {
                let by_path = rule5_path_order(
                    (leaf.path.len(), leaf.path.iter().map(String::as_str)),
                    (best.path.len(), best.path.iter().map(String::as_str)),
                );
                by_path
                    .then_with(|| {
                        rule5_value_order(&leaf.value.to_string(), &best.value.to_string())
                    })
                    .is_lt()
            }
        };
        if wins {
            winners.insert(key, leaf);
        }
    }
    winners
}

/// Rule 6: a flattened key is sent only if it equals a Custom Attributes
/// entry byte for byte (no case folding, no dotted spelling).
pub fn rule6_custom_attribute(key: &str, configured: &BTreeSet<String>) -> bool {
    configured.contains(key)
}

/// Rule 7: the key Engage computed, when `context.personas.computation_class`
/// is `audience` or `trait` and `computation_key` a non-empty string.
pub fn rule7_engage_key(event: &Map<String, Value>) -> Option<EngageKey> {
    let personas = event.get("context")?.get("personas")?;
    let class = match personas.get("computation_class")?.as_str()? {
        "audience" => EngageClass::Audience,
        "trait" => EngageClass::Trait,
        _ => return None,
    };
    let key = personas.get("computation_key")?.as_str()?;
    (!key.is_empty()).then(|| EngageKey {
        class,
        key: key.to_owned(),
    })
}

/// Rules 4 to 7 on an identify: the attributes its body carries. The
/// Engage key is sent whether configured or not.
pub fn rule7_attributes(
    event: &Map<String, Value>,
    configured: &BTreeSet<String>,
) -> Map<String, Value> {
    let Some(Value::Object(traits)) = event.get("traits") else {
        // No traits, or not an object: nothing to send (rule 9 still sends).
        return Map::new();
    };
    let engage = rule7_engage_key(event);
    rule5_collisions(rule4_flatten(traits))
        .into_iter()
        .filter(|(key, _)| {
            rule6_custom_attribute(key, configured)
                || engage.as_ref().is_some_and(|e| e.key == *key)
        })
        .map(|(key, leaf)| (key, leaf.value))
        .collect()
}

/// Rules 1 to 9 on one event: the profile update the destination sends
/// (an identify whose traits all drop is still sent, with no attributes),
/// or why nothing is sent.
pub fn destination(event: &Value, configured: &BTreeSet<String>) -> Result<Sent, Skip> {
    let event = rule1_identify_only(event)?;
    let integration_id = rule3_integration_id(rule2_logged_in_users(event)?)?;
    Ok(Sent {
        integration_id,
        attributes: rule7_attributes(event, configured),
    })
}

/// [`destination`] on JSON text: text that is not JSON is not a readable event.
pub fn destination_json(event: &[u8], configured: &BTreeSet<String>) -> Result<Sent, Skip> {
    let value: Value = serde_json::from_slice(event).map_err(|_| Skip::InvalidEvent)?;
    destination(&value, configured)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn configured(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|n| (*n).to_owned()).collect()
    }

    fn object(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    fn keys(leaves: &[Leaf]) -> Vec<String> {
        let mut keys: Vec<String> = leaves.iter().map(Leaf::key).collect();
        keys.sort();
        keys
    }

    #[test]
    fn rule1_sends_identify_only() {
        assert!(rule1_identify_only(&json!({"type": "identify"})).is_ok());
        assert_eq!(
            rule1_identify_only(&json!({"type": "track"})),
            Err(Skip::UnsupportedType)
        );
        assert_eq!(rule1_identify_only(&json!({})), Err(Skip::InvalidEvent));
        assert_eq!(
            rule1_identify_only(&json!({"type": 1})),
            Err(Skip::InvalidEvent)
        );
        assert_eq!(rule1_identify_only(&json!([1])), Err(Skip::InvalidEvent));
    }

    #[test]
    fn rule2_sends_logged_in_users_only() {
        let id = |v: Value| rule2_logged_in_users(&object(json!({ "userId": v })));
        assert_eq!(id(json!("john.doe")), Ok("john.doe".to_owned()));
        assert_eq!(id(json!(42)), Ok("42".to_owned()));
        assert_eq!(id(json!(-1.5)), Ok("-1.5".to_owned()));
        assert_eq!(id(json!("")), Err(Skip::AnonymousUser));
        assert_eq!(id(Value::Null), Err(Skip::AnonymousUser));
        assert_eq!(id(json!(true)), Err(Skip::InvalidUserId));
        assert_eq!(id(json!(["a"])), Err(Skip::InvalidUserId));
        let anonymous = object(json!({"anonymousId": "a1"}));
        assert_eq!(rule2_logged_in_users(&anonymous), Err(Skip::AnonymousUser));
    }

    #[test]
    fn rule3_keeps_the_user_id_byte_for_byte_but_dot_segments() {
        for id in ["a/b", "a#b", "A B", " x ", "ünï"] {
            assert_eq!(rule3_integration_id(id.to_owned()), Ok(id.to_owned()));
        }
        assert_eq!(rule3_integration_id(".".into()), Err(Skip::InvalidUserId));
        assert_eq!(rule3_integration_id("..".into()), Err(Skip::InvalidUserId));
        assert_eq!(rule3_integration_id("...".into()), Ok("...".to_owned()));
    }

    #[test]
    fn rule4_joins_nested_keys_with_an_underscore() {
        let leaves = rule4_flatten(&object(json!({
            "address": {"city": "Berlin"}, "a": {"b": {"c": 1}}
        })));
        assert_eq!(keys(&leaves), ["a_b_c", "address_city"]);
        assert_eq!(
            leaves.iter().find(|l| l.key() == "a_b_c").map(|l| &l.path),
            Some(&vec!["a".to_owned(), "b".to_owned(), "c".to_owned()])
        );
    }

    #[test]
    fn rule4_keeps_lists_of_scalars_and_drops_other_arrays_and_nulls() {
        let leaves = rule4_flatten(&object(json!({
            "tags": ["a", 1, true], "empty": [], "nested": [[1]], "objects": [{"a": 1}],
            "holes": [1, null], "gone": null, "nothing": {}
        })));
        assert_eq!(keys(&leaves), ["empty", "tags"]);
    }

    #[test]
    fn rule4_keeps_leaves_up_to_max_depth_keys_deep() {
        let mut deepest = json!("leaf");
        for i in (0..MAX_DEPTH).rev() {
            deepest = json!({ format!("k{i}"): deepest });
        }
        let leaves = rule4_flatten(&object(deepest.clone()));
        assert_eq!(leaves.len(), 1);
        assert_eq!(leaves[0].path.len(), MAX_DEPTH);
        let too_deep = json!({ "top": deepest });
        assert!(rule4_flatten(&object(too_deep)).is_empty());
    }

    #[test]
    fn rule5_prefers_the_fewest_levels_then_the_first_path_then_the_first_json() {
        let winners = rule5_collisions(rule4_flatten(&object(json!({
            "address": {"city": "Berlin"}, "address_city": "Bonn",
            "a_b": {"c": 1}, "a": {"b_c": 2},
        }))));
        assert_eq!(winners["address_city"].value, json!("Bonn"));
        // Both two levels deep: ["a", "b_c"] sorts before ["a_b", "c"].
        assert_eq!(winners["a_b_c"].value, json!(2));
        let repeated = vec![
            Leaf {
                path: vec!["k".into()],
                value: json!("b"),
            },
            Leaf {
                path: vec!["k".into()],
                value: json!("a"),
            },
        ];
        assert_eq!(rule5_collisions(repeated)["k"].value, json!("a"));
    }

    #[test]
    fn rule5_does_not_depend_on_the_order_of_the_leaves() {
        let leaves = rule4_flatten(&object(json!({
            "x": {"y": 1}, "x_y": 2, "p": {"q_r": 3}, "p_q": {"r": 4}
        })));
        let mut reversed = leaves.clone();
        reversed.reverse();
        assert_eq!(rule5_collisions(leaves), rule5_collisions(reversed));
    }

    #[test]
    fn rule6_matches_custom_attributes_byte_for_byte() {
        let names = configured(&["email", "address.city"]);
        assert!(rule6_custom_attribute("email", &names));
        assert!(!rule6_custom_attribute("Email", &names));
        assert!(!rule6_custom_attribute("address_city", &names));
    }

    #[test]
    fn rule7_reads_the_engage_key_of_audiences_and_computed_traits() {
        let event = |class: Value, key: Value| {
            object(json!({"context": {"personas": {
                "computation_class": class, "computation_key": key
            }}}))
        };
        assert_eq!(
            rule7_engage_key(&event(json!("audience"), json!("vip"))),
            Some(EngageKey {
                class: EngageClass::Audience,
                key: "vip".into()
            })
        );
        assert_eq!(
            rule7_engage_key(&event(json!("trait"), json!("ltv"))).map(|e| e.class),
            Some(EngageClass::Trait)
        );
        assert_eq!(rule7_engage_key(&event(json!("other"), json!("k"))), None);
        assert_eq!(rule7_engage_key(&event(json!("audience"), json!(""))), None);
        assert_eq!(rule7_engage_key(&event(json!("audience"), json!(1))), None);
        assert_eq!(rule7_engage_key(&object(json!({"context": 1}))), None);
    }

    #[test]
    fn rule7_sends_the_engage_key_without_custom_attributes() {
        let event = object(json!({
            "traits": {"vip": true, "email": "e", "name": "n"},
            "context": {"personas": {"computation_class": "audience", "computation_key": "vip"}}
        }));
        let sent = rule7_attributes(&event, &configured(&["email"]));
        assert_eq!(Value::Object(sent), json!({"email": "e", "vip": true}));
    }

    #[test]
    fn rule9_sends_an_identify_whose_traits_all_drop_with_no_attributes() {
        let event = json!({"type": "identify", "userId": "u1", "traits": {"name": null}});
        let sent = destination(&event, &configured(&["name"])).map(|s| s.attributes.len());
        assert_eq!(sent, Ok(0));
        let traits_not_object = json!({"type": "identify", "userId": "u1", "traits": [1]});
        assert!(destination(&traits_not_object, &configured(&[])).is_ok());
    }

    #[test]
    fn the_destination_applies_the_rules_in_order() {
        let names = configured(&["email", "address_city"]);
        let sent = destination_json(
            br#"{"type":"identify","userId":"john.doe",
                "traits":{"email":"j@example.com","name":"John","address":{"city":"Berlin"}}}"#,
            &names,
        );
        assert_eq!(
            sent,
            Ok(Sent {
                integration_id: "john.doe".into(),
                attributes: object(json!({"address_city": "Berlin", "email": "j@example.com"})),
            })
        );
        assert_eq!(
            destination_json(br#"{"type":"track","userId":"."}"#, &names),
            Err(Skip::UnsupportedType)
        );
        assert_eq!(
            destination_json(br#"{"type":"identify","userId":"."}"#, &names),
            Err(Skip::InvalidUserId)
        );
        assert_eq!(
            destination_json(b"not json", &names),
            Err(Skip::InvalidEvent)
        );
    }
}
