//! Seeded input lines for the Actions differential test: `{"settings", "subscriptions", "event"}`.
//!
//! Events of every type (identify, track, page, group) built from `segment-gen`'s identifies
//! (realistic and edge profiles: their ids, traits, nested objects, nulls) and crafted odd ids;
//! × every action of the destination (current and deprecated) × its default mapping (the
//! fields' defaults, `defaults.json`, checked against Segment's package) or a customised one;
//! with triggers of the shapes customers write. One `ChaCha8Rng` from the seed drives every
//! choice; the same seed gives the same lines.

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use segment_gen::{Generator, Profile, Scenario};
use serde_json::{Map, Value, json};

/// Every action of the destination, current and deprecated (`testAuthentication` is not an
/// action a subscription can name).
pub(crate) const ACTIONS: [&str; 11] = [
    "updateCustomerProfileV3",
    "trackEventV2",
    "updateCustomerSessionV2",
    "updateCustomerProfilesAudiences",
    "createAudience",
    "updateAudience",
    "deleteAudience",
    "updateCustomerProfile",
    "updateCustomerProfileV2",
    "trackEvent",
    "updateCustomerSession",
];

pub(crate) const EVENT_TYPES: [&str; 4] = ["identify", "track", "page", "group"];

/// Ids that change a URL once interpolated unencoded, or that JSON types differently.
pub(crate) const ODD_IDS: [&str; 16] = [
    r#""a#b""#,
    r#""a?b""#,
    r#""../x""#,
    "\"..\"",
    r#""a\\b""#,
    r#""tab\tid""#,
    r#""new\nline""#,
    r#"" lead""#,
    r#""trail ""#,
    r#""a b""#,
    r#""100%""#,
    r#""ü-ñ""#,
    "42",
    "true",
    r#""""#,
    "null",
];

/// The fields' default mappings per action, as Segment's package declares them.
pub(crate) fn defaults() -> Value {
    serde_json::from_str(include_str!("defaults.json")).expect("defaults.json is JSON")
}

/// One generated line and what it exercises.
#[derive(Debug, Clone)]
pub(crate) struct Case {
    pub(crate) action: &'static str,
    pub(crate) event_type: &'static str,
    pub(crate) default_mapping: bool,
    pub(crate) line: String,
}

/// `count` lines from `seed`.
pub(crate) fn cases(seed: u64, count: usize) -> Vec<Case> {
    let mut g = Gen::new(seed);
    (0..count).map(|i| g.case(i)).collect()
}

fn p(path: &str) -> Value {
    json!({ "@path": path })
}

fn array_path(path: &str, item: Value) -> Value {
    json!({ "@arrayPath": [path, item] })
}

struct Gen {
    rng: ChaCha8Rng,
    identifies: Vec<Value>,
    defaults: Value,
}

impl Gen {
    fn new(seed: u64) -> Self {
        let mut identifies = Vec::new();
        for (profile, salt) in [(Profile::Realistic, 0), (Profile::Edge, 1)] {
            let scenario = Scenario {
                users: 60,
                days: 4,
                ..Scenario::for_profile(profile)
            };
            let generator = Generator::new(scenario, seed.wrapping_mul(2).wrapping_add(salt))
                .expect("a valid scenario");
            identifies.extend(
                generator
                    .take(400)
                    .map(|e| serde_json::from_str::<Value>(&e.json).expect("segment-gen JSON")),
            );
        }
        Self {
            rng: ChaCha8Rng::seed_from_u64(seed),
            identifies,
            defaults: defaults(),
        }
    }

    /// A number in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.rng.next_u64()) * n as u128) >> 64) as usize
    }

    /// True `percent` times in a hundred.
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())].clone()
    }

    fn case(&mut self, index: usize) -> Case {
        // Every action and event type in turn, so a few hundred lines reach each pair.
        let action = ACTIONS[index % ACTIONS.len()];
        let event_type = EVENT_TYPES[(index / ACTIONS.len()) % EVENT_TYPES.len()];
        let event = self.event(event_type);
        // Without a mapped id these actions' defaults always fail validation: fewer of them.
        let defaults_can_send = !matches!(
            action,
            "createAudience"
                | "updateAudience"
                | "deleteAudience"
                | "updateCustomerProfilesAudiences"
                | "updateCustomerSession"
                | "updateCustomerSessionV2"
        );
        let default_mapping = self.chance(if defaults_can_send { 40 } else { 12 });
        let mapping = if default_mapping {
            self.defaults[action].clone()
        } else {
            self.custom_mapping(action)
        };
        let mut subscriptions = vec![self.subscription(action, event_type, mapping, 0)];
        if self.chance(30) {
            let other = self.pick(&ACTIONS);
            let mapping = self.defaults[other].clone();
            subscriptions.push(self.subscription(other, event_type, mapping, 1));
        }
        if self.chance(10) {
            let mut disabled = self.subscription(action, event_type, json!({}), 2);
            disabled["enabled"] = json!(false);
            subscriptions.push(disabled);
        }
        let line = json!({
            "settings": self.settings(),
            "subscriptions": subscriptions,
            "event": event,
        })
        .to_string();
        Case {
            action,
            event_type,
            default_mapping,
            line,
        }
    }

    fn settings(&mut self) -> Value {
        // An empty deployment is rare in real setups (Segment sends it all the same).
        let deployment = if self.chance(3) {
            ""
        } else {
            self.pick(&[
                "https://yours.europe-west1.talon.one",
                "https://yours.europe-west1.talon.one/",
                "yours.us-east1.talon.one",
                "https://mycompany.asia-southeast1.talon.one/",
                "https://yours.europe-west1.talon.one/v2",
            ])
        };
        // A key that is not Latin-1 cannot be a header value: Segment's request fails.
        let api_key = if self.chance(4) {
            "ÄPI-ключ"
        } else {
            self.pick(&["0123456789abcdef", "key with spaces"])
        };
        json!({ "apiKey": api_key, "deployment": deployment })
    }

    fn subscription(&mut self, action: &str, event_type: &str, mapping: Value, n: usize) -> Value {
        json!({
            "id": format!("sub{n}"),
            "name": format!("{action} {n}"),
            "actionId": format!("action-{action}"),
            "actionSlug": action,
            "destinationId": "6234b137d3b6404a64f2a0f0",
            "modelId": "",
            "enabled": true,
            "trigger": self.trigger(event_type),
            "settings": mapping,
        })
    }

    /// Triggers of the shapes customers write; mostly ones that match the event's type.
    fn trigger(&mut self, event_type: &str) -> String {
        let matching = [
            format!("type = \"{event_type}\""),
            format!("type = \"{event_type}\" or type = \"identify\""),
            format!("type = \"{event_type}\" and userId exists"),
            format!("type != \"screen\" and type = \"{event_type}\""),
        ];
        let other = [
            "type = \"track\" and event = \"Order Completed\"".to_owned(),
            "event = \"Order Completed\" or event = \"Product Viewed\"".to_owned(),
            "type = \"track\" and event != \"Order Completed\"".to_owned(),
            "type = \"track\" and properties.total > 100".to_owned(),
            "type = \"identify\" and traits.email exists".to_owned(),
            "contains(event, \"Order\")".to_owned(),
            "type = \"group\" and traits.plan = \"enterprise\"".to_owned(),
            "properties.audience_key exists".to_owned(),
            "type = \"screen\"".to_owned(),
        ];
        if self.chance(65) {
            self.pick(&matching)
        } else {
            self.pick(&other)
        }
    }

    fn odd_id(&mut self) -> Value {
        serde_json::from_str(self.pick(&ODD_IDS)).expect("odd ids are JSON")
    }

    fn event(&mut self, event_type: &str) -> Value {
        let i = self.below(self.identifies.len());
        let base = self.identifies[i].clone();
        let mut event = base.as_object().cloned().unwrap_or_default();
        let traits = event.remove("traits").unwrap_or(Value::Null);
        if self.chance(25) {
            let id = self.odd_id();
            if id.is_null() && self.chance(50) {
                event.remove("userId");
            } else {
                event.insert("userId".into(), id);
            }
        }
        event.insert("type".into(), json!(event_type));
        if self.chance(50) {
            // What Engage adds to its audience events, and what audience mappings read.
            let key = self.pick(&[json!("vip_shoppers"), json!("a#b"), json!(7)]);
            let personas = json!({
                "computation_key": key,
                "computation_id": format!("aud_{}", self.below(100)),
                "computation_class": "audience",
            });
            let context = event.entry("context").or_insert_with(|| json!({}));
            if let Some(c) = context.as_object_mut() {
                c.insert("personas".into(), personas);
            }
        }
        match event_type {
            "identify" => {
                let traits = self.with_extras(traits);
                event.insert("traits".into(), traits);
            }
            "track" => {
                let name = self.pick(&[
                    json!("Order Completed"),
                    json!("Product Viewed"),
                    json!("Order Completed "),
                    json!("order completed"),
                    json!("Signed Up"),
                    json!("Audience Entered"),
                    Value::Null,
                ]);
                if !name.is_null() {
                    event.insert("event".into(), name);
                }
                let properties = self.properties(&traits);
                event.insert("properties".into(), properties);
            }
            "page" => {
                event.insert("name".into(), json!("Checkout"));
                let mut properties = self.properties(&traits);
                if let Some(o) = properties.as_object_mut() {
                    o.insert(
                        "url".into(),
                        json!("https://shop.example/checkout?step=2#pay"),
                    );
                    o.insert("title".into(), json!("Checkout"));
                }
                event.insert("properties".into(), properties);
            }
            _ => {
                let group_id = if self.chance(20) {
                    self.odd_id()
                } else {
                    json!(format!("org-{}", self.below(50)))
                };
                event.insert("groupId".into(), group_id);
                let plan = self.pick(&["enterprise", "free", "Enterprise"]);
                let mut traits = json!({ "name": "Acme", "plan": plan, "employees": 120 });
                if self.chance(30) {
                    traits["address"] = json!({ "city": "Berlin", "zip": null });
                }
                event.insert("traits".into(), traits);
            }
        }
        Value::Object(event)
    }

    /// A profile's traits plus, sometimes, what customers also put there: nulls, audience
    /// lists, `attributesInfo`, or no traits at all.
    fn with_extras(&mut self, traits: Value) -> Value {
        if self.chance(5) {
            return Value::Null;
        }
        let mut traits = match traits {
            Value::Object(o) => o,
            _ => Map::new(),
        };
        if self.chance(20) {
            traits.insert("nickname".into(), Value::Null);
        }
        if self.chance(15) {
            traits.insert(
                "attributesInfo".into(),
                json!([{ "name": "loyalty_tier", "type": "string" }, { "name": "visits", "type": "count" }]),
            );
        }
        if self.chance(15) {
            traits.insert(
                "audiences".into(),
                json!([{ "name": "VIP", "integrationId": "vip-1" }, { "name": null }]),
            );
        }
        if self.chance(10) {
            traits.insert("__proto__".into(), json!({ "polluted": true }));
        }
        if self.chance(8) {
            // JavaScript objects list integer-like keys first, in numeric order.
            traits.insert("10".into(), json!("ten"));
            traits.insert("2".into(), json!("two"));
        }
        Value::Object(traits)
    }

    /// Properties of a track or page event: an order with products, audience ids, the
    /// attributes objects the default mappings read, and odd values.
    fn properties(&mut self, traits: &Value) -> Value {
        let mut props = Map::new();
        let order_id = if self.chance(20) {
            self.odd_id()
        } else {
            json!(format!("order-{}", self.below(10_000)))
        };
        props.insert("order_id".into(), order_id);
        let total = self.pick(&[
            json!(42.5),
            json!(150),
            json!("99.90"),
            json!(0),
            Value::Null,
        ]);
        props.insert("total".into(), total);
        let coupon = self.pick(&[json!("SPRING10"), json!(10), json!(["A", "B"]), Value::Null]);
        props.insert("coupon".into(), coupon);
        let mut products = Vec::new();
        for i in 0..self.below(4) {
            let product = match self.below(9) {
                0 => Value::Null,
                3 => json!({ "sku": format!("SKU-{i}"), "name": "No price" }),
                1 => json!({ "sku": 12345, "name": null, "quantity": "3", "price": 9.99 }),
                2 => json!({ "sku": "SKU-X", "category": ["a", "b"], "quantity": 1, "price": 1 }),
                _ => json!({
                    "product_id": format!("p{i}"),
                    "sku": format!("SKU-{i}"),
                    "name": "Shirt",
                    "price": 19.5,
                    "quantity": 2,
                    "category": "Apparel",
                    "width": 3,
                    "attributes": { "color": "blue" },
                }),
            };
            products.push(product);
        }
        props.insert("products".into(), Value::Array(products));
        if self.chance(60) {
            let attributes = match traits {
                Value::Object(o) => {
                    let mut a = Map::new();
                    for (k, v) in o.iter().take(1 + self.below(4)) {
                        a.insert(k.clone(), v.clone());
                    }
                    Value::Object(a)
                }
                _ => json!({ "source": "web", "empty": "", "none": null }),
            };
            props.insert("attributes".into(), attributes);
        }
        if self.chance(25) {
            props.insert(
                "attributesInfo".into(),
                json!([{ "name": "color", "type": "string" }, { "name": "size" }]),
            );
        }
        let ids = self.pick(&[
            json!([1, 2]),
            json!(["3", 4]),
            json!(7),
            json!([]),
            Value::Null,
        ]);
        props.insert("add".into(), ids);
        let ids = self.pick(&[json!([5]), json!("6"), json!([-7356410144751616_i64])]);
        props.insert("remove".into(), ids);
        if self.chance(30) {
            props.insert(
                "audiencesToAdd".into(),
                json!([{ "name": "VIP", "integrationId": "vip" }, { "integrationId": "x" }]),
            );
        }
        let odd = self.odd_id();
        let audience = self.pick(&[json!("vip_shoppers"), json!(12), odd]);
        props.insert("audience_key".into(), audience);
        props.insert("audience_name".into(), json!("VIP shoppers"));
        Value::Object(props)
    }

    /// A mapping as a customer edits one: other paths, literals, wrong types, fields removed.
    fn custom_mapping(&mut self, action: &str) -> Value {
        let profile_id = self.pick(&[
            p("$.userId"),
            p("$.anonymousId"),
            p("$.traits.email"),
            p("$.context.traits.email"),
        ]);
        let skip = self.pick(&[json!(true), json!(false), json!("true")]);
        let mut m = match action {
            "updateCustomerProfileV3" => json!({
                "customerProfileId": profile_id,
                "skipNonExistingAttributes": skip,
                "addAudienceIds": self.pick(&[p("$.properties.add"), json!([1, 2]), json!("12")]),
                "deleteAudienceIds": p("$.properties.remove"),
                "runRuleEngine": self.pick(&[json!(false), json!("true"), json!(1)]),
                "attributes": self.pick(&[
                    p("$.traits"),
                    p("$.properties"),
                    json!({ "name": p("$.traits.name"), "city": p("$.traits.address.city"), "plan": "gold" }),
                ]),
            }),
            "trackEventV2" => json!({
                "customerProfileId": profile_id,
                "skipNonExistingAttributes": skip,
                "eventType": self.pick(&[p("$.event"), json!("order_completed"), p("$.name")]),
                "attributes": self.pick(&[p("$.properties"), p("$.properties.attributes"), json!({ "total": p("$.properties.total") })]),
            }),
            "updateCustomerSessionV2" => json!({
                "customerSessionId": self.pick(&[p("$.properties.order_id"), p("$.messageId"), p("$.userId"), p("$.context.personas.computation_id")]),
                "profileId": p("$.userId"),
                "skipNonExistingAttributes": skip,
                "contentFields": self.pick(&[json!("effects"), json!("effects,customerProfile")]),
                "callbackDestination": self.pick(&[json!("http://mydomain.com/api/callback_here"), Value::Null]),
                "callbackAPIKey": "X-API-Key 123",
                "couponCodes": p("$.properties.coupon"),
                "state": self.pick(&[json!("closed"), json!("open"), json!("done")]),
                "cartItems": array_path("$.properties.products", json!({
                    "name": p("$.name"), "sku": p("$.sku"), "quantity": p("$.quantity"),
                    "price": p("$.price"), "category": p("$.category"), "width": p("$.width"),
                    "attributes": p("$.attributes"),
                })),
                "identifiers": self.pick(&[p("$.anonymousId"), json!(["a", "b"])]),
                "attributes": p("$.properties.attributes"),
            }),
            "updateCustomerProfilesAudiences" => json!({
                "data": self.pick(&[
                    json!([{ "customerProfileId": p("$.userId"), "adds": p("$.properties.add"), "deletes": p("$.properties.remove") }]),
                    json!({ "customerProfileId": p("$.userId"), "adds": [1] }),
                    json!([{ "customerProfileId": p("$.userId"), "extra": 1 }, { "adds": [2] }]),
                ]),
            }),
            "createAudience" | "updateAudience" => json!({
                "audienceId": self.pick(&[p("$.properties.audience_key"), p("$.context.personas.computation_id"), p("$.context.personas.computation_key"), p("$.userId")]),
                "audienceName": self.pick(&[p("$.properties.audience_name"), p("$.context.personas.computation_key"), json!("VIP"), json!(7)]),
            }),
            "deleteAudience" => json!({
                "audienceId": self.pick(&[p("$.properties.audience_key"), p("$.groupId"), p("$.context.personas.computation_id"), p("$.userId")]),
            }),
            "updateCustomerProfile" => json!({
                "customerProfileId": profile_id,
                "attributes": p("$.traits"),
                "addAudienceIds": p("$.properties.add"),
                "runRuleEngine": true,
                "attributesInfo": array_path("$.traits.attributesInfo", json!({ "name": p("$.name"), "type": p("$.type") })),
            }),
            "updateCustomerProfileV2" => json!({
                "customerProfileId": profile_id,
                "audiencesToAdd": array_path("$.traits.audiences", json!({ "name": p("$.name"), "integrationId": p("$.integrationId") })),
                "audiencesToDelete": array_path("$.properties.audiencesToAdd", json!({ "name": p("$.name") })),
                "attributes": p("$.traits"),
                "runRuleEngine": false,
            }),
            "trackEvent" => json!({
                "customerProfileId": profile_id,
                "eventType": p("$.event"),
                "type": self.pick(&[json!("string"), json!("number"), json!(5)]),
                "attributes": p("$.properties"),
                "attributesInfo": array_path("$.properties.attributesInfo", json!({ "name": p("$.name"), "type": p("$.type") })),
            }),
            _ => json!({
                "customerSessionId": self.pick(&[p("$.properties.order_id"), p("$.messageId")]),
                "callbackCorrelationId": p("$.messageId"),
                "customerSession": {
                    "profileId": p("$.userId"),
                    "couponCodes": p("$.properties.coupon"),
                    "state": "open",
                    "cartItems": array_path("$.properties.products", json!({ "name": p("$.name"), "sku": p("$.sku"), "quantity": p("$.quantity"), "price": p("$.price") })),
                    "attributes": p("$.properties.attributes"),
                    "unknown": 1,
                },
                "sessionAttributesInfo": array_path("$.properties.attributesInfo", json!({ "name": p("$.name"), "type": p("$.type") })),
            }),
        };
        // Now and then a customer deletes a mapped field or adds one the action does not have.
        if self.chance(15)
            && let Some(o) = m.as_object_mut()
        {
            let keys: Vec<String> = o.keys().cloned().collect();
            let key = self.pick(&keys);
            o.remove(&key);
        }
        if self.chance(10)
            && let Some(o) = m.as_object_mut()
        {
            o.insert("notAField".into(), json!("x"));
        }
        m
    }
}
