//! The reference model of the Talon.One (Actions) destination with its shipped default
//! subscriptions (`fixtures/actions/subscriptions.json`) against Talon.One's Segment relay:
//! what a deployment holds after a stream of events.
//!
//! Written from `talon-actions-destination.md` (§2 the actions' fields and requests, §4 the
//! relay's rules, §9 Segment's code observed on edge inputs), not from `talon-mapper`'s or
//! `talon-fake`'s code. One function per rule:
//!
//! | rule | source | function |
//! | --- | --- | --- |
//! | which default subscription fires for an event | the subscriptions file's triggers | [`ActionsReference::apply`] |
//! | `customerProfileId` is `$.userId`, required, coerced to a string by Ajv (a number to its decimal text, a boolean to `true`/`false`); empty, null, an object or array: not sent | §2.0, §9 ("`userId: true` → `/customer_profiles/true`", "`userId: \"\"` fails validation") | [`profile_id`] |
//! | the id is put into the URL unencoded: `#` starts a fragment and `?` the query (the `skipNonExistingAttributes` flag after it is lost), `/`, `\`, `.`/`..` change the path (no profile route), a trailing space is dropped, `%` must start a valid escape (else the relay refuses the path) | §9, §2 (`[?skip]`), `CONTRACT.md`'s strict decoding | [`route`] |
//! | profile update: attributes unflattened (a nested trait is its own unknown attribute), unknown ones skipped with the flag, else the whole update refused; one value of the wrong type (a `null` included) refuses the whole update; audience ids must exist and apply only with `runRuleEngine` | §2.6, §4.4, §4.6, §4.7, Facts' all-or-nothing type check | [`ActionsReference::profile_update`] |
//! | event: one stored per request, its type must exist (exact case), the profile created when missing | §2.9, §4.2 | [`ActionsReference::track`] |
//! | session (`Order Completed`): closed, its cart items from `properties.products`; Segment coerces a numeric `sku` to a string and a numeric string `quantity`/`price` to a number, and refuses a non-string `category` (not sent); Talon.One needs `sku` and `quantity` an integer ≥ 1 (a `null` product becomes `quantity` 0), `price` a number; one bad item refuses the whole session | §2.0, §2.11, §4.2 session body rules, §9 | [`ActionsReference::session`], [`cart_items`] |
//! | the same deployment from a generator's ledger instead of its events | the rows above | [`ledger`] |
//!
//! A userId that [`route`] sends to another profile (or nowhere) is not predicted: the
//! profile it reaches is [`ActionsState::unpredictable`], left out of the comparison, since
//! several such users reach one profile from several delivery lanes, in no order the model
//! can know.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use crate::talon::{Catalog, MAX_INTEGRATION_ID_CHARS, Profiles, fits};

pub mod ledger;

/// The `audience_key` of the shipped VIP subscriptions.
pub const VIP_AUDIENCE_KEY: &str = "vip_customers";
/// The Talon.One audience id the shipped VIP subscriptions hard-code.
pub const VIP_AUDIENCE_ID: i64 = 1;

/// What a deployment knows, by entity.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ActionsCatalog {
    /// `CustomerProfile` attributes.
    pub profile: Catalog,
    /// Custom event types.
    pub event_types: BTreeSet<String>,
    /// `Event` attributes (for every event type).
    pub event: Catalog,
    /// `CustomerSession` attributes.
    pub session: Catalog,
    /// Audience ids.
    pub audiences: BTreeSet<i64>,
}

/// A stored session, as far as the model follows it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSession {
    /// The profile it belongs to.
    pub profile_id: String,
    /// Its state.
    pub state: String,
    /// How many cart items it holds.
    pub cart_items: usize,
}

/// What a deployment holds that the Actions destination writes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ActionsState {
    /// Profiles and their attributes.
    pub profiles: Profiles,
    /// Audience memberships by profile (profiles without one may be absent).
    pub audiences: BTreeMap<String, BTreeSet<i64>>,
    /// Stored events by (profile, event type): how many.
    pub events: BTreeMap<(String, String), u64>,
    /// Sessions by integration id.
    pub sessions: BTreeMap<String, StoredSession>,
    /// Profiles a misrouted userId reached (see [`route`]): not compared.
    pub unpredictable: BTreeSet<String>,
}

/// Why the model sent nothing, or what it dropped, counted by a short reason.
pub type Tally = BTreeMap<&'static str, u64>;

/// The model: the shipped default subscriptions replaying events into a deployment.
#[derive(Debug, Clone, Default)]
pub struct ActionsReference {
    catalog: ActionsCatalog,
    /// What the deployment must hold.
    pub state: ActionsState,
    /// What happened to the events and traits, by reason.
    pub tally: Tally,
}

/// Where an id put unencoded into a relay path lands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// This id, with the query flag kept (`true`) or lost into a fragment or query (`false`).
    Id(String, bool),
    /// No route takes it (another path, or a path the relay refuses).
    Nowhere,
}

/// The profile id Segment sends for `value` (`$.userId`), or `None` when validation refuses it.
pub fn profile_id(value: Option<&Value>) -> Option<String> {
    let text = match value? {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => match n.as_i64() {
            Some(i) if i.unsigned_abs() <= 1 << 53 => i.to_string(),
            _ => return None,
        },
        _ => return None,
    };
    (!text.is_empty()).then_some(text)
}

/// Where `id`, interpolated unencoded into `…/{id}` (then `?skipNonExistingAttributes=true`),
/// lands at the relay.
pub fn route(id: &str) -> Route {
    let mut kept = true;
    let mut id: String = id
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    if let Some(at) = id.find(['#', '?']) {
        id.truncate(at);
        kept = false;
    }
    let id = id.trim_end_matches(' ');
    if id.is_empty() || id == "." || id == ".." || id.contains(['/', '\\']) {
        return Route::Nowhere;
    }
    match percent_decode(id) {
        Some(decoded) if !decoded.is_empty() => Route::Id(decoded, kept),
        _ => Route::Nowhere,
    }
}

/// A number as Segment's Ajv coercion makes one of a cart item's number field: a JSON number,
/// or a string of one (`"3"` → 3, §9).
fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
        _ => None,
    }
}

/// Strict percent-decoding: every `%` starts two hex digits, the result is UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

impl ActionsReference {
    /// A deployment with `catalog`, fed by the shipped default subscriptions.
    pub fn new(catalog: ActionsCatalog) -> Self {
        Self {
            catalog,
            ..Self::default()
        }
    }

    fn count(&mut self, reason: &'static str) {
        *self.tally.entry(reason).or_default() += 1;
    }

    /// Applies one event (JSON text): every default subscription whose trigger matches, in the
    /// subscriptions' order.
    pub fn apply(&mut self, event: &[u8]) {
        let Ok(Value::Object(event)) = serde_json::from_slice::<Value>(event) else {
            self.count("unreadable event");
            return;
        };
        let user = profile_id(event.get("userId"));
        match event.get("type").and_then(Value::as_str) {
            Some("identify") => {
                // Identify: update customer profile (V3, skip on, rule engine on, $.traits).
                let Some(user) = user else {
                    self.count("identify without a usable userId: not sent");
                    return;
                };
                let attributes = match event.get("traits") {
                    None | Some(Value::Null) => Some(Map::new()),
                    Some(Value::Object(traits)) => Some(traits.clone()),
                    Some(_) => None,
                };
                let Some(attributes) = attributes else {
                    self.count("identify whose traits are no object: not sent");
                    return;
                };
                self.profile_update(&user, &attributes, true, &[], &[]);
            }
            Some("track") => {
                let name = event.get("event");
                let audience = event
                    .get("properties")
                    .and_then(|p| p.get("audience_key"))
                    .and_then(Value::as_str);
                let entered = name.and_then(Value::as_str) == Some("Audience Entered");
                let exited = name.and_then(Value::as_str) == Some("Audience Exited");
                if !entered && !exited {
                    self.track(user.as_deref(), name, &event);
                }
                if name.and_then(Value::as_str) == Some("Order Completed") {
                    self.session(user.as_deref(), &event);
                }
                if (entered || exited) && audience == Some(VIP_AUDIENCE_KEY) {
                    let Some(user) = user else {
                        self.count("VIP audience track without a usable userId: not sent");
                        return;
                    };
                    let ids = [VIP_AUDIENCE_ID];
                    let (adds, deletes): (&[i64], &[i64]) =
                        if entered { (&ids, &[]) } else { (&[], &ids) };
                    // No skipNonExistingAttributes in these subscriptions; no attributes either.
                    self.profile_update(&user, &Map::new(), false, adds, deletes);
                }
            }
            _ => self.count("no subscription for its type"),
        }
    }

    /// `PUT /segment/v2/customer_profiles/{id}[?skip]` with these attributes and audience
    /// changes (`runRuleEngine: true`): all or nothing.
    pub fn profile_update(
        &mut self,
        id: &str,
        attributes: &Map<String, Value>,
        skip: bool,
        adds: &[i64],
        deletes: &[i64],
    ) {
        let (id, skip) = match route(id) {
            Route::Id(routed, kept) if routed == id => (routed, skip && kept),
            Route::Id(routed, _) => {
                self.count("profile update misrouted by its userId: not predicted");
                self.state.unpredictable.insert(routed);
                return;
            }
            Route::Nowhere => {
                self.count("profile update whose userId no route takes: nothing applied");
                return;
            }
        };
        if id.chars().count() > MAX_INTEGRATION_ID_CHARS {
            self.count("profile update refused: integration id too long");
            return;
        }
        let mut kept = Map::new();
        for (name, value) in attributes {
            match self.catalog.profile.get(name) {
                Some(ty) if fits(*ty, value) => {
                    kept.insert(name.clone(), value.clone());
                }
                Some(_) => {
                    self.count("profile update refused: a value of the wrong type");
                    return;
                }
                None if skip => {
                    if value.is_object() {
                        self.count("nested trait skipped (the destination does not flatten)");
                    } else {
                        self.count("unknown attribute skipped");
                    }
                }
                None => {
                    self.count("profile update refused: an unknown attribute, no skip flag");
                    return;
                }
            }
        }
        if adds
            .iter()
            .chain(deletes)
            .any(|a| !self.catalog.audiences.contains(a))
        {
            self.count("profile update refused: an unknown audience id");
            return;
        }
        self.state
            .profiles
            .entry(id.clone())
            .or_default()
            .extend(kept);
        let memberships = self.state.audiences.entry(id).or_default();
        memberships.extend(adds);
        for a in deletes {
            memberships.remove(a);
        }
    }

    /// `PUT /segment/v2/events?skip` (Track: event): `eventType` `$.event`, attributes
    /// `$.properties.attributes`.
    pub fn track(&mut self, user: Option<&str>, name: Option<&Value>, event: &Map<String, Value>) {
        let Some(user) = user else {
            self.count("track without a usable userId: not sent");
            return;
        };
        let event_type = match name {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => {
                self.count("track without an event name: not sent");
                return;
            }
        };
        if !self.catalog.event_types.contains(&event_type) {
            self.count("event refused: its type does not exist (exact case)");
            return;
        }
        if let Some(Value::Object(attributes)) =
            event.get("properties").and_then(|p| p.get("attributes"))
            && attributes
                .iter()
                .any(|(k, v)| self.catalog.event.get(k).is_some_and(|ty| !fits(*ty, v)))
        {
            self.count("event refused: an attribute of the wrong type");
            return;
        }
        self.state.profiles.entry(user.to_owned()).or_default();
        *self
            .state
            .events
            .entry((user.to_owned(), event_type))
            .or_default() += 1;
    }

    /// `PUT /segment/v2/customer_sessions/{order_id}?skip` (Order Completed: close session).
    pub fn session(&mut self, user: Option<&str>, event: &Map<String, Value>) {
        let properties = event.get("properties");
        let Some(session_id) = profile_id(properties.and_then(|p| p.get("order_id"))) else {
            self.count("order without an order_id: session not sent");
            return;
        };
        let items = match properties.and_then(|p| p.get("products")) {
            None => 0,
            Some(Value::Array(products)) => match cart_items(products) {
                Ok(items) => items,
                Err(reason) => {
                    self.count(reason);
                    return;
                }
            },
            Some(_) => {
                self.count("order whose products are no list: session not sent");
                return;
            }
        };
        let (session_id, _) = match route(&session_id) {
            Route::Id(routed, kept) if routed == session_id => (routed, kept),
            _ => {
                self.count("session whose order_id changes its path: not predicted");
                return;
            }
        };
        let profile = user.unwrap_or_default().to_owned();
        if let Some(existing) = self.state.sessions.get(&session_id)
            && existing.profile_id != profile
        {
            self.count("session refused: it belongs to another profile");
            return;
        }
        if !profile.is_empty() {
            self.state.profiles.entry(profile.clone()).or_default();
        }
        self.state.sessions.insert(
            session_id,
            StoredSession {
                profile_id: profile,
                state: "closed".into(),
                cart_items: items,
            },
        );
    }
}

/// How many cart items an order's `products` make, or why the session is not stored: Segment
/// refuses a non-string `category` (§9, "Category must be a string": not sent); Talon.One
/// needs each item an object with a `sku` (Segment coerces a number to a string), an integer
/// `quantity` ≥ 1 and a number `price` when given (numeric strings coerced by Segment), and
/// one bad item refuses the whole session.
pub fn cart_items(products: &[Value]) -> Result<usize, &'static str> {
    for product in products {
        if product
            .get("category")
            .is_some_and(|c| c.is_array() || c.is_object())
        {
            return Err("order with a cart item Segment refuses: session not sent");
        }
        let quantity = product.get("quantity").and_then(number);
        let sku_ok = matches!(product.get("sku"), Some(Value::String(s)) if !s.is_empty())
            || product.get("sku").is_some_and(Value::is_number);
        let price_ok = product.get("price").is_none_or(|p| number(p).is_some());
        let quantity_ok = quantity.is_some_and(|q| q >= 1.0 && q.fract() == 0.0);
        if !(product.is_object() && sku_ok && price_ok && quantity_ok) {
            return Err("session refused: a cart item Talon.One cannot take");
        }
    }
    Ok(products.len())
}

/// Every difference between what the deployment must hold (`expected`) and holds (`actual`),
/// in words, profiles that `expected` marks unpredictable left out; profile attributes
/// compared as [`crate::compare`] does (numbers by value, times by instant).
pub fn compare_actions(
    expected: &ActionsState,
    actual: &ActionsState,
    catalog: &ActionsCatalog,
) -> Vec<String> {
    let skip = &expected.unpredictable;
    let keep = |p: &Profiles| -> Profiles {
        p.iter()
            .filter(|(id, _)| !skip.contains(*id))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };
    let mut out: Vec<String> = crate::compare(
        &keep(&expected.profiles),
        &keep(&actual.profiles),
        &catalog.profile,
    )
    .iter()
    .map(ToString::to_string)
    .collect();
    let none = BTreeSet::new();
    let ids: BTreeSet<&String> = expected
        .audiences
        .keys()
        .chain(actual.audiences.keys())
        .collect();
    for id in ids.into_iter().filter(|id| !skip.contains(*id)) {
        let want = expected.audiences.get(id).unwrap_or(&none);
        let have = actual.audiences.get(id).unwrap_or(&none);
        if want != have {
            out.push(format!(
                "profile `{id}`: audiences should be {want:?} but are {have:?}"
            ));
        }
    }
    let keys: BTreeSet<&(String, String)> =
        expected.events.keys().chain(actual.events.keys()).collect();
    for key in keys.into_iter().filter(|(id, _)| !skip.contains(id)) {
        let want = expected.events.get(key).copied().unwrap_or(0);
        let have = actual.events.get(key).copied().unwrap_or(0);
        if want != have {
            let what = if have > want { "duplicated" } else { "lost" };
            out.push(format!(
                "profile `{}`: {want} `{}` events should be stored but {have} are ({what})",
                key.0, key.1
            ));
        }
    }
    let sessions: BTreeSet<&String> = expected
        .sessions
        .keys()
        .chain(actual.sessions.keys())
        .collect();
    for id in sessions {
        let (want, have) = (expected.sessions.get(id), actual.sessions.get(id));
        if want != have {
            out.push(format!("session `{id}` should be {want:?} but is {have:?}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::AttrType;

    /// A catalog for the model's tests and the ledger's.
    pub(super) fn catalog() -> ActionsCatalog {
        ActionsCatalog {
            profile: [
                ("email".to_owned(), AttrType::String),
                ("logins".to_owned(), AttrType::Number),
            ]
            .into(),
            event_types: ["Order Completed".to_owned(), "Product Added".to_owned()].into(),
            audiences: [1].into(),
            ..ActionsCatalog::default()
        }
    }

    fn apply(events: &[Value]) -> ActionsReference {
        let mut model = ActionsReference::new(catalog());
        for event in events {
            model.apply(event.to_string().as_bytes());
        }
        model
    }

    #[test]
    fn an_identify_sets_known_top_level_traits_and_skips_the_rest() {
        let model = apply(&[json!({"type": "identify", "userId": "u1",
            "traits": {"email": "a@b.c", "address": {"city": "Berlin"}, "plan": "pro"}})]);
        assert_eq!(
            Value::Object(model.state.profiles["u1"].clone()),
            json!({"email": "a@b.c"})
        );
        assert_eq!(
            model.tally["nested trait skipped (the destination does not flatten)"],
            1
        );
        assert_eq!(model.tally["unknown attribute skipped"], 1);
    }

    #[test]
    fn one_wrong_type_refuses_the_whole_update_a_null_included() {
        let model = apply(&[
            json!({"type": "identify", "userId": "u1", "traits": {"email": "a@b.c", "logins": "7"}}),
            json!({"type": "identify", "userId": "u2", "traits": {"email": null}}),
        ]);
        assert!(model.state.profiles.is_empty());
    }

    #[test]
    fn user_ids_are_coerced_and_misrouted_ones_are_not_predicted() {
        assert_eq!(profile_id(Some(&json!(1000000))), Some("1000000".into()));
        assert_eq!(profile_id(Some(&json!(true))), Some("true".into()));
        assert_eq!(profile_id(Some(&json!(""))), None);
        assert_eq!(profile_id(Some(&json!(null))), None);
        assert_eq!(route("u#5?ref=mail"), Route::Id("u".into(), false));
        assert_eq!(route("a?b"), Route::Id("a".into(), false));
        assert_eq!(route("team/5"), Route::Nowhere);
        assert_eq!(route("100% user 5"), Route::Nowhere);
        assert_eq!(route(".."), Route::Nowhere);
        assert_eq!(route("jürgen 5 "), Route::Id("jürgen 5".into(), true));
        let model = apply(&[
            json!({"type": "identify", "userId": "u#5?ref=mail", "traits": {"email": "x"}}),
        ]);
        assert!(model.state.profiles.is_empty());
        assert!(model.state.unpredictable.contains("u"));
    }

    #[test]
    fn tracks_store_one_event_each_of_a_known_type_and_create_the_profile() {
        let order = json!({"type": "track", "userId": "u1", "event": "Order Completed",
            "properties": {"order_id": "o1", "products": [{"sku": "s", "quantity": 2, "price": 1.5}]}});
        let model = apply(&[
            order.clone(),
            order,
            json!({"type": "track", "userId": "u1", "event": "order completed"}),
            json!({"type": "track", "anonymousId": "a", "event": "Order Completed"}),
        ]);
        assert_eq!(
            model.state.events[&("u1".to_owned(), "Order Completed".to_owned())],
            2
        );
        assert_eq!(model.state.events.len(), 1);
        assert!(model.state.profiles["u1"].is_empty());
        assert_eq!(
            model.state.sessions["o1"],
            StoredSession {
                profile_id: "u1".into(),
                state: "closed".into(),
                cart_items: 1
            }
        );
    }

    #[test]
    fn cart_items_take_segments_coercions_and_talon_ones_types() {
        let order = |id: &str, product: Value| {
            json!({"type": "track", "userId": "u1", "event": "Order Completed",
                "properties": {"order_id": id, "products": [product]}})
        };
        let model = apply(&[
            order("o1", json!({"sku": 12345, "quantity": "3", "price": "9.5"})),
            order("o2", json!({"sku": "s", "quantity": 1.5})),
            order(
                "o3",
                json!({"sku": "s", "quantity": 1, "category": ["a", "b"]}),
            ),
            order("o4", Value::Null),
        ]);
        assert_eq!(
            model.state.sessions["o1"].cart_items, 1,
            "coerced by Segment"
        );
        assert!(
            !model.state.sessions.contains_key("o2"),
            "no integer quantity"
        );
        assert!(
            !model.state.sessions.contains_key("o3"),
            "Segment refuses it"
        );
        assert!(!model.state.sessions.contains_key("o4"), "quantity 0");
        assert_eq!(
            model.state.events.values().sum::<u64>(),
            4,
            "the tracks still go"
        );
    }

    #[test]
    fn vip_audience_tracks_join_and_leave_audience_1_and_others_do_nothing() {
        let track = |event: &str, key: &str| {
            json!({"type": "track", "userId": "u1", "event": event,
                "properties": {"audience_key": key, key: true}})
        };
        let model = apply(&[track("Audience Entered", VIP_AUDIENCE_KEY)]);
        assert_eq!(model.state.audiences["u1"], BTreeSet::from([1]));
        assert!(
            model.state.events.is_empty(),
            "no Track: event for audience tracks"
        );
        let model = apply(&[
            track("Audience Entered", VIP_AUDIENCE_KEY),
            track("Audience Exited", VIP_AUDIENCE_KEY),
            track("Audience Entered", "churn_risk"),
        ]);
        assert!(model.state.audiences["u1"].is_empty());
    }

    #[test]
    fn the_comparison_names_lost_and_duplicated_events_and_leaves_unpredictable_profiles_out() {
        let mut expected = ActionsState::default();
        expected.events.insert(("u1".into(), "T".into()), 1);
        expected.unpredictable.insert("u".into());
        let mut actual = expected.clone();
        actual.events.insert(("u1".into(), "T".into()), 2);
        actual.profiles.insert("u".into(), Map::new());
        assert_eq!(
            compare_actions(&expected, &actual, &catalog()),
            ["profile `u1`: 1 `T` events should be stored but 2 are (duplicated)"]
        );
    }
}
