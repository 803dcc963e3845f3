//! Commerce tracks (Segment's E-commerce spec v2) and the Actions ground truth: shapes, funnel, amounts, ledger.

use std::collections::{BTreeMap, BTreeSet};

use segment_gen::{EventKind, Generator, Profile, Scenario};
use serde_json::{Value, json};

use crate::snapshots::settings;
use crate::support::{Run, recompute, run, small, small_edge, user_key, view};

fn actions(users: u32, days: u32) -> Scenario {
    Scenario {
        users,
        days,
        ..Scenario::actions()
    }
}

fn edge_actions(users: u32, days: u32) -> Scenario {
    small_edge(users, days).with_actions()
}

fn cents(value: &Value) -> i64 {
    let x = value
        .as_f64()
        .unwrap_or_else(|| panic!("{value} is not a number"));
    let c = (x * 100.0).round();
    assert!(
        (x * 100.0 - c).abs() < 1e-6,
        "{value} has more than two decimals"
    );
    c as i64
}

fn commerce(run: &Run) -> Vec<(segment_gen::EventMeta, Value)> {
    run.metas
        .iter()
        .copied()
        .zip(run.values())
        .filter(|(m, _)| m.kind.is_commerce())
        .collect()
}

#[test]
fn the_actions_preset_turns_commerce_and_both_audience_forms_on() {
    let scenario = Scenario::actions();
    assert!(scenario.commerce());
    assert!(scenario.audience_identify_events && scenario.audience_track_events);
    assert_eq!(scenario.profile, Profile::Realistic);
    assert!(!Scenario::default().commerce() && !Scenario::edge().commerce());
    // The shipped scenario file is the preset.
    let file: Scenario =
        serde_json::from_str(include_str!("../../../../fixtures/gen/actions.json")).unwrap();
    assert_eq!(file, scenario);
    // The first audience is the one the shipped Actions subscriptions use.
    let first = &scenario.audience_defs()[0];
    assert_eq!(
        (first.name.as_str(), first.key.as_str()),
        ("VIP Customers", "vip_customers")
    );
    let subscriptions = include_str!("../../../../fixtures/actions/subscriptions.json");
    assert!(subscriptions.contains(r#"properties.audience_key = \"vip_customers\""#));
    // An edge base keeps its profile and sizes.
    let edge = small_edge(10, 3).with_actions();
    assert_eq!(
        (edge.profile, edge.users, edge.days),
        (Profile::Edge, 10, 3)
    );
    assert!(edge.commerce());
}

#[test]
fn a_scenario_without_commerce_serializes_as_before_and_a_bad_share_is_refused() {
    let json = serde_json::to_value(Scenario::default()).unwrap();
    assert!(json.get("daily_commerce_share").is_none(), "{json}");
    let json = serde_json::to_value(Scenario::actions()).unwrap();
    assert_eq!(json["daily_commerce_share"], 0.3);
    let bad = Scenario {
        daily_commerce_share: 1.5,
        ..Scenario::default()
    };
    let err = Generator::new(bad, 1).unwrap_err().to_string();
    assert_eq!(err, "daily_commerce_share must be between 0 and 1, not 1.5");
}

#[test]
fn the_actions_scenario_gives_byte_identical_ndjson_and_ledger_for_the_same_seed() {
    let bytes = |scenario: Scenario| {
        let mut generator = Generator::new(scenario, 17).unwrap();
        let mut ndjson = Vec::new();
        generator.write_ndjson(&mut ndjson).unwrap();
        let mut ledger = Vec::new();
        generator.write_ledger(&mut ledger).unwrap();
        (ndjson, ledger)
    };
    for scenario in [actions(150, 15), edge_actions(100, 10)] {
        let a = bytes(scenario.clone());
        assert!(a.0.len() > 100_000);
        assert_eq!(a, bytes(scenario));
    }
}

#[test]
fn turning_commerce_on_changes_no_trait_membership_or_computed_value() {
    let off = Scenario {
        audience_track_events: true,
        ..small(250, 20)
    };
    let on = Scenario {
        daily_commerce_share: 0.4,
        ..off.clone()
    };
    let (off, on) = (run(off, 21), run(on, 21));
    assert!(on.lines.len() > off.lines.len() + 1000);
    assert_eq!(off.ledger.users, on.ledger.users);
    assert_eq!(off.ledger.audiences, on.ledger.audiences);
    assert_eq!(off.ledger.computed_traits, on.ledger.computed_traits);
    // The non-commerce events are the same events, in the same order.
    let strip = |run: &Run| -> Vec<Value> {
        run.values()
            .filter(|e| {
                e.get("event")
                    .is_none_or(|n| n.as_str().unwrap().starts_with("Audience"))
            })
            .map(|mut e| {
                for key in ["messageId", "timestamp", "sentAt", "receivedAt"] {
                    e.as_object_mut().unwrap().remove(key);
                }
                e
            })
            .collect()
    };
    assert_eq!(strip(&off), strip(&on));
}

#[test]
fn commerce_tracks_carry_ids_times_and_context_as_the_identifies_do() {
    let run = run(actions(300, 20), 22);
    let mut logged_in = BTreeSet::new();
    let mut kinds = BTreeMap::<&str, u64>::new();
    let mut anonymous = 0;
    for (meta, event) in run.metas.iter().zip(run.values()) {
        if meta.kind == EventKind::Login {
            logged_in.insert(user_key(&event).unwrap());
        }
        if !meta.kind.is_commerce() {
            continue;
        }
        *kinds.entry(meta.kind.as_str()).or_default() += 1;
        assert!(meta.track);
        assert_eq!(event["type"], "track");
        assert!(
            event["messageId"].as_str().is_some_and(|m| m.len() == 36),
            "{event}"
        );
        assert!(event["timestamp"].as_str().is_some_and(|t| t.len() == 24));
        let library = &event["context"]["library"]["name"];
        assert!(
            library == "analytics.js" || library == "analytics-node",
            "{event}"
        );
        assert_eq!(event["channel"] == "browser", library == "analytics.js");
        assert!(event["context"].get("personas").is_none());
        let name = event["event"].as_str().unwrap();
        assert!(
            [
                "Product Viewed",
                "Product Added",
                "Checkout Started",
                "Order Completed"
            ]
            .contains(&name),
            "{name}"
        );
        match user_key(&event) {
            // Logged in: the login identify came first.
            Some(user) => assert!(logged_in.contains(&user), "{user} shops before login"),
            None => {
                assert!(event["anonymousId"].is_string(), "{event}");
                anonymous += 1;
            }
        }
        // Every line is a Segment Spec payload.
        let parsed: segment_model::Event = serde_json::from_value(event.clone()).unwrap();
        assert_eq!(parsed.event.as_deref(), Some(name));
    }
    assert!(anonymous > 50, "{anonymous}");
    for kind in [
        "product_viewed",
        "product_added",
        "checkout_started",
        "order_completed",
    ] {
        assert!(kinds.get(kind).is_some_and(|&n| n > 50), "{kinds:?}");
        assert_eq!(run.ledger.counts.by_kind.get(kind), kinds.get(kind));
    }
    // Roughly the funnel's shares: adds 0.4 of views, orders 0.75 of checkouts.
    let ratio = |a: &str, b: &str| kinds[a] as f64 / kinds[b] as f64;
    assert!((0.3..0.5).contains(&ratio("product_added", "product_viewed")));
    assert!((0.6..0.9).contains(&ratio("order_completed", "checkout_started")));
}

/// A product as the realistic profile sends it.
fn check_product(product: &Value) {
    for key in [
        "product_id",
        "sku",
        "category",
        "name",
        "brand",
        "variant",
        "url",
        "image_url",
    ] {
        assert!(product[key].is_string(), "{key} in {product}");
    }
    assert!(product["sku"].as_str().unwrap().starts_with("SKU-"));
    let price = cents(&product["price"]);
    assert!(price > 0 && price % 10 != 0, "{product}");
    assert!(
        product["quantity"]
            .as_u64()
            .is_some_and(|q| (1..=3).contains(&q)),
        "{product}"
    );
    assert!(
        product["position"]
            .as_u64()
            .is_some_and(|p| (1..=24).contains(&p))
    );
}

#[test]
fn realistic_sessions_follow_the_funnel_and_orders_follow_the_revenue_rule() {
    let run = run(actions(400, 20), 23);
    // A user's events of one day are contiguous: group commerce by (user, day).
    let mut sessions = BTreeMap::<(u32, u32), Vec<Value>>::new();
    for (meta, event) in commerce(&run) {
        sessions
            .entry((meta.user, meta.day))
            .or_default()
            .push(event);
    }
    let mut order_ids = BTreeSet::new();
    let (mut orders, mut coupons) = (0, 0);
    for events in sessions.values() {
        let mut viewed: Option<Value> = None;
        let mut cart: Vec<Value> = Vec::new();
        let mut checkout: Option<&Value> = None;
        for event in events {
            let p = &event["properties"];
            match event["event"].as_str().unwrap() {
                "Product Viewed" => {
                    assert!(checkout.is_none(), "a view after the checkout");
                    check_product(p);
                    assert_eq!(p["quantity"], 1);
                    assert_eq!(p["value"], p["price"]);
                    viewed = Some(p.clone());
                }
                "Product Added" => {
                    // Added right after viewing it, each product once.
                    let seen = viewed.take().expect("an add follows its view");
                    assert_eq!(p["sku"], seen["sku"]);
                    assert!(p["cart_id"].as_str().unwrap().starts_with("cart_"));
                    check_product(p);
                    assert!(!cart.iter().any(|c| c["sku"] == p["sku"]));
                    let mut item = p.as_object().unwrap().clone();
                    for key in ["cart_id", "coupon", "currency"] {
                        item.remove(key);
                    }
                    cart.push(Value::Object(item));
                }
                "Checkout Started" => {
                    assert!(checkout.is_none());
                    assert_eq!(p["products"].as_array().unwrap(), &cart);
                    assert_eq!(p["value"], p["revenue"]);
                    checkout = Some(event);
                }
                "Order Completed" => {
                    let started = checkout.expect("an order follows its checkout");
                    let sp = &started["properties"];
                    assert_eq!(p["order_id"], sp["order_id"]);
                    assert_eq!(p["checkout_id"], sp["checkout_id"]);
                    assert_eq!(p["products"], sp["products"]);
                    assert!(order_ids.insert(p["order_id"].as_str().unwrap().to_owned()));
                    let products = p["products"].as_array().unwrap();
                    assert!((1..=5).contains(&products.len()), "{p}");
                    let items: i64 = products
                        .iter()
                        .map(|x| {
                            check_product(x);
                            cents(&x["price"]) * x["quantity"].as_i64().unwrap()
                        })
                        .sum();
                    let discount = cents(&p["discount"]);
                    assert_eq!(p["coupon"].is_string(), discount > 0, "{p}");
                    if discount > 0 {
                        assert_eq!(discount, items / 10);
                        coupons += 1;
                    }
                    let revenue = cents(&p["revenue"]);
                    assert_eq!(revenue, items - discount, "{p}");
                    assert_eq!(cents(&p["subtotal"]), revenue);
                    assert_eq!(
                        cents(&p["total"]),
                        revenue + cents(&p["tax"]) + cents(&p["shipping"])
                    );
                    assert!(["USD", "EUR", "GBP"].contains(&p["currency"].as_str().unwrap()));
                    orders += 1;
                }
                other => panic!("{other}"),
            }
        }
    }
    assert!(orders > 100, "{orders}");
    assert!(
        coupons > 10 && coupons < orders / 2,
        "{coupons} of {orders}"
    );
}

/// The Actions ground truth recomputed from the NDJSON alone: tracks by
/// name per userId, orders (`Order Completed`: the Track with `total`), and
/// audience Track calls.
#[derive(Debug, Default, PartialEq)]
struct Truth {
    tracks: BTreeMap<String, BTreeMap<String, u64>>,
    orders: Vec<Value>,
    audience_tracks: BTreeMap<String, [BTreeMap<String, Value>; 3]>,
}

fn recompute_actions(events: &[Value]) -> Truth {
    let mut t = Truth::default();
    for e in events.iter().filter(|e| e["type"] == "track") {
        let name = e["event"].as_str().unwrap_or("").to_owned();
        let user = user_key(e);
        if let Some(user) = &user {
            *t.tracks
                .entry(user.clone())
                .or_default()
                .entry(name.clone())
                .or_default() += 1;
        }
        let p = &e["properties"];
        if p.get("total").is_some() {
            let mut order = json!({
                "products": p["products"],
                "revenue": p["revenue"],
                "currency": p["currency"],
            });
            for (key, value) in [
                ("order_id", p.get("order_id")),
                ("user_id", user.as_ref().map(|_| &e["userId"])),
                ("anonymous_id", e.get("anonymousId")),
                ("event", e.get("event")),
                ("coupon", p.get("coupon")),
            ] {
                if let Some(v) = value {
                    // Numeric userIds are keyed in decimal, as strings.
                    let v = match v {
                        Value::Number(n) => Value::String(n.to_string()),
                        v => v.clone(),
                    };
                    order[key] = v;
                }
            }
            t.orders.push(order);
        }
        if let Some(key) = p["audience_key"].as_str() {
            let user = user.expect("Engage sends a userId");
            let entry = t.audience_tracks.entry(key.to_owned()).or_default();
            let member = p[key].as_bool().unwrap();
            let i = usize::from(!member);
            let n = entry[i].entry(user.clone()).or_insert(json!(0));
            *n = json!(n.as_u64().unwrap() + 1);
            entry[2].insert(user, json!(member));
        }
    }
    t
}

fn ledger_truth(run: &Run) -> Truth {
    let ledger = serde_json::to_value(&run.ledger).unwrap();
    let mut t = Truth {
        tracks: run.ledger.tracks.clone(),
        orders: ledger["orders"].as_array().cloned().unwrap_or_default(),
        ..Truth::default()
    };
    for a in &run.ledger.audience_tracks {
        let map =
            |m: &BTreeMap<String, u64>| m.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
        let members = a
            .members
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        // Audiences nobody was sent a Track for are absent from the NDJSON.
        if !a.members.is_empty() {
            t.audience_tracks
                .insert(a.key.clone(), [map(&a.entered), map(&a.exited), members]);
        }
    }
    t
}

/// Field by field, naming the first user, order or audience that differs.
fn assert_same(ledger: &Truth, ndjson: &Truth) {
    for (user, tracks) in &ndjson.tracks {
        assert_eq!(ledger.tracks.get(user), Some(tracks), "tracks of {user}");
    }
    assert_eq!(
        ledger.tracks.len(),
        ndjson.tracks.len(),
        "users with tracks"
    );
    for (i, (a, b)) in ledger.orders.iter().zip(&ndjson.orders).enumerate() {
        assert_eq!(a, b, "order {i}");
    }
    assert_eq!(ledger.orders.len(), ndjson.orders.len(), "orders");
    for (key, maps) in &ndjson.audience_tracks {
        let got = ledger.audience_tracks.get(key);
        for (i, what) in ["entered", "exited", "members"].iter().enumerate() {
            assert_eq!(got.map(|m| &m[i]), Some(&maps[i]), "{what} of {key}");
        }
    }
    assert_eq!(ledger, ndjson);
}

#[test]
fn the_actions_ledger_equals_a_recomputation_from_the_ndjson() {
    for (scenario, seed) in [(actions(300, 25), 24), (edge_actions(200, 20), 25)] {
        let run = run(scenario, seed);
        let events: Vec<Value> = run.values().collect();
        let truth = recompute_actions(&events);
        assert!(truth.orders.len() > 50, "{}", truth.orders.len());
        assert!(truth.audience_tracks.len() >= 2);
        assert_same(&ledger_truth(&run), &truth);
        // The classic parts still hold, commerce in the stream or not.
        assert_eq!(recompute(&events), view(&run.ledger));
        // Every order has its products and revenue; a realistic one its id.
        for order in &run.ledger.orders {
            assert!(!order.products.is_empty());
            if run.ledger.profile == Profile::Realistic {
                assert!(order.order_id.is_some());
                assert_eq!(order.event.as_deref(), Some("Order Completed"));
            }
        }
    }
}

#[test]
fn the_streamed_actions_ledger_equals_the_serialized_one_and_reads_back() {
    for scenario in [actions(120, 12), edge_actions(100, 10)] {
        let mut generator = Generator::new(scenario, 26).unwrap();
        generator.write_ndjson(&mut std::io::sink()).unwrap();
        let mut streamed = Vec::new();
        generator.write_ledger(&mut streamed).unwrap();
        let ledger = generator.into_ledger();
        assert_eq!(streamed, serde_json::to_vec(&ledger).unwrap());
        let back: segment_gen::Ledger = serde_json::from_slice(&streamed).unwrap();
        assert_eq!(back, ledger);
        assert!(!ledger.orders.is_empty() && !ledger.tracks.is_empty());
        assert!(!ledger.audience_tracks.is_empty());
    }
}

#[test]
fn a_capped_actions_run_has_the_ledger_of_exactly_the_emitted_events() {
    for cap in [0, 1, 50, 2000] {
        let scenario = Scenario {
            max_events: Some(cap),
            ..edge_actions(100, 10)
        };
        let run = run(scenario, 27);
        assert_eq!(run.lines.len() as u64, cap);
        let events: Vec<Value> = run.values().collect();
        assert_same(&ledger_truth(&run), &recompute_actions(&events));
    }
}

#[test]
fn named_audiences_come_first_and_their_keys_must_be_distinct_and_non_empty() {
    let named = Scenario {
        audiences: 3,
        audience_names: vec!["Gold Members".to_owned()],
        ..Scenario::default()
    };
    let keys: Vec<String> = named.audience_defs().into_iter().map(|a| a.key).collect();
    assert_eq!(
        keys,
        [
            "gold_members",
            "order_completed_last_30_days",
            "first_time_shopper"
        ]
    );
    let ledger = run(
        Scenario {
            users: 80,
            days: 6,
            ..named
        },
        30,
    )
    .ledger;
    assert_eq!(ledger.audiences[0].key, "gold_members");
    assert!(!ledger.audiences[0].members.is_empty());
    let refused = |names: &[&str]| {
        let scenario = Scenario {
            audience_names: names.iter().map(|n| (*n).to_owned()).collect(),
            ..Scenario::default()
        };
        Generator::new(scenario, 1).unwrap_err().to_string()
    };
    assert_eq!(
        refused(&["First-Time Shopper"]),
        "two audiences have the key \"first_time_shopper\""
    );
    assert_eq!(
        refused(&["!!"]),
        "the audience name \"!!\" has an empty key"
    );
    // Without names, a serialized scenario has no such field.
    let json = serde_json::to_value(Scenario::default()).unwrap();
    assert!(json.get("audience_names").is_none());
}

#[test]
fn ledgers_without_commerce_have_no_actions_fields() {
    let ledger = run(small_edge(60, 8), 28).ledger;
    assert!(ledger.tracks.is_empty() && ledger.orders.is_empty());
    assert!(ledger.audience_tracks.is_empty());
    let json = serde_json::to_value(&ledger).unwrap();
    for key in ["tracks", "orders", "audience_tracks"] {
        assert!(json.get(key).is_none(), "{key}");
    }
}

/// Which edge shapes a commerce event shows.
fn shapes(event: &Value) -> BTreeSet<&'static str> {
    let mut found = BTreeSet::new();
    match event.get("event").and_then(Value::as_str) {
        None => {
            found.insert("no event");
        }
        Some(name) if name.ends_with(' ') => {
            found.insert("trailing space");
        }
        Some(name) if name.chars().next().is_some_and(char::is_lowercase) => {
            found.insert("lower case");
        }
        Some(_) => {}
    }
    let p = &event["properties"];
    let products: Vec<&Value> = match p.get("products") {
        Some(list) => {
            if p.get("order_id").is_none() {
                found.insert("no order_id");
            }
            list.as_array().unwrap().iter().collect()
        }
        None => vec![p],
    };
    for product in products {
        if product.is_null() {
            found.insert("null product");
            continue;
        }
        if product["sku"].is_number() {
            found.insert("numeric sku");
        }
        if product["quantity"].is_string() {
            found.insert("string quantity");
        }
        if product["quantity"].is_f64() {
            found.insert("float quantity");
        }
        if product["category"].is_array() {
            found.insert("array category");
        }
    }
    found
}

#[test]
fn the_edge_profile_sends_every_commerce_shape_and_the_realistic_none() {
    let mut counts = BTreeMap::<&str, u64>::new();
    let edge = run(edge_actions(300, 20), 29);
    let tracks = commerce(&edge);
    for (_, event) in &tracks {
        for shape in shapes(event) {
            *counts.entry(shape).or_default() += 1;
        }
    }
    let all = [
        "no event",
        "trailing space",
        "lower case",
        "null product",
        "no order_id",
        "numeric sku",
        "string quantity",
        "float quantity",
        "array category",
    ];
    for shape in all {
        assert!(
            counts.get(shape).is_some_and(|&n| n >= 5),
            "{shape}: {counts:?}"
        );
    }
    // Each name shape is about 2% of commerce tracks.
    let share = counts["no event"] as f64 / tracks.len() as f64;
    assert!((0.01..0.03).contains(&share), "{share}");
    // Edge lines are still Segment payloads.
    for (_, event) in &tracks {
        let _: segment_model::Event = serde_json::from_value(event.clone()).unwrap();
    }
    let realistic = run(actions(300, 20), 29);
    for (_, event) in commerce(&realistic) {
        assert!(shapes(&event).is_empty(), "{event}");
    }
}

#[test]
fn the_first_session_with_an_order_does_not_drift() {
    let events: Vec<_> = Generator::new(Scenario::actions(), 1)
        .unwrap()
        .filter(|e| e.meta.kind.is_commerce())
        .take(400)
        .collect();
    let order = events
        .iter()
        .find(|e| e.meta.kind == EventKind::OrderCompleted)
        .expect("an order among the first commerce events");
    let session: String = events
        .iter()
        .filter(|e| (e.meta.user, e.meta.day) == (order.meta.user, order.meta.day))
        .map(|e| e.json.clone() + "\n")
        .collect();
    settings().bind(|| insta::assert_snapshot!("actions_session_seed_1", session));
}

#[test]
fn with_commerce_times_never_decrease_and_each_day_stays_on_its_date() {
    for scenario in [actions(400, 25), edge_actions(300, 25)] {
        let run = run(scenario, 31);
        let stamps: Vec<String> = run
            .values()
            .map(|e| e["timestamp"].as_str().unwrap().to_owned())
            .collect();
        assert!(stamps.windows(2).all(|w| w[0] <= w[1]));
        for (meta, stamp) in run.metas.iter().zip(&stamps) {
            let date: u32 = stamp[8..10].parse().unwrap();
            assert_eq!(date, meta.day + 1, "{stamp} on simulated day {}", meta.day);
        }
        let ids: BTreeSet<&str> = run
            .lines
            .iter()
            .map(|l| &l[l.find("messageId").unwrap() + 12..][..36])
            .collect();
        assert_eq!(ids.len(), run.lines.len(), "message ids are unique");
    }
}
