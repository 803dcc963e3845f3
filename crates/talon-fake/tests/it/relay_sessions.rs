//! The relay's customer sessions: `PUT /segment/v2/customer_sessions/{id}` and the deprecated
//! `PUT /segment/customer_sessions/{id}`, and what the deployment stores of them.

use axum::http::Request;
use serde_json::{Value, json};
use talon_fake::{Fake, FakeConfig, StateFile};

use crate::relay::*;
use crate::support::*;

/// The default state with CustomerSession attributes `store` (string), `channel` (string) and
/// CartItem attributes `color` (string), `size` (number); `email` stays a profile attribute.
fn sessions_state() -> StateFile {
    let mut state: Value =
        serde_json::from_str(talon_fake::DEFAULT_STATE_JSON).expect("default state");
    let attr = |id: i64, entity: &str, name: &str, ty: &str| json!({"id": id, "entity": entity, "name": name, "title": name, "type": ty});
    let attrs = state["attributes"].as_array_mut().expect("attributes");
    let mut store = attr(901, "CustomerSession", "store", "string");
    store["title"] = json!("Store");
    attrs.push(store);
    attrs.push(attr(902, "CustomerSession", "channel", "string"));
    attrs.push(attr(903, "CartItem", "color", "string"));
    attrs.push(attr(904, "CartItem", "size", "number"));
    StateFile::from_json(&state.to_string()).expect("state")
}

fn sessions_fake() -> Fake {
    Fake::new(sessions_state(), FakeConfig::default()).expect("loads")
}

fn session(fake: &Fake, id: &str) -> Option<Value> {
    fake.state_dump()
        .sessions
        .iter()
        .find(|s| s.integration_id == id)
        .map(|s| serde_json::to_value(s).expect("json"))
}

async fn put_session(fake: &Fake, id: &str, query: &str, body: Value) -> Resp {
    relay(
        fake,
        "PUT",
        &format!("/segment/v2/customer_sessions/{id}{query}"),
        Some(body),
    )
    .await
}

fn with_headers(
    mut req: Request<axum::body::Body>,
    headers: &[(&str, &str)],
) -> Request<axum::body::Body> {
    for (k, v) in headers {
        req.headers_mut().insert(
            axum::http::HeaderName::from_bytes(k.as_bytes()).expect("header name"),
            v.parse().expect("header value"),
        );
    }
    req
}

#[tokio::test]
async fn an_empty_session_answers_totals_of_positive_zero() {
    let fake = talon_fake::Fake::with_default_state();
    let r = put_session(&fake, "s0", "", json!({"profileId": "u1"})).await;
    assert_eq!(r.status, 200, "{}", r.json);
    let text = String::from_utf8_lossy(&r.raw);
    assert!(!text.contains("-0.0"), "a negative zero in {text}");
    assert_eq!(r.json["customerSession"]["additionalCostTotal"], 0.0);
}

#[tokio::test]
async fn a_session_with_cart_items_is_stored_and_answered_with_its_customer_session() {
    let fake = sessions_fake();
    let r = put_session(
        &fake,
        "s1",
        "",
        json!({"profileId": "u1", "couponCodes": ["XMAS"], "referralCode": "R1",
               "loyaltyCards": ["card-1"], "identifiers": ["1.2.3.4"],
               "cartItems": [{"sku": "SKU-1", "quantity": 2, "price": 10.5, "name": "Shoe",
                              "category": "shoes", "weight": 1130, "returnedQuantity": 0,
                              "attributes": {"color": "red", "size": 42}}],
               "additionalCosts": {"shipping": {"price": 4}},
               "attributes": {"store": "Berlin"}}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.json);
    for k in ["effects", "createdCoupons", "createdReferrals"] {
        assert_eq!(r.json[k], json!([]), "{k}");
    }
    let cs = &r.json["customerSession"];
    assert_eq!(cs["integrationId"], "s1");
    assert_eq!(cs["profileId"], "u1");
    assert_eq!(cs["state"], "open", "the default state");
    assert_eq!(cs["firstSession"], true);
    assert_eq!(cs["cartItemTotal"], 21.0);
    assert_eq!(cs["additionalCostTotal"], 4.0);
    assert_eq!(cs["total"], 25.0);
    assert_eq!(
        cs["cartItems"][0]["attributes"],
        json!({"color": "red", "size": 42})
    );
    assert!(fake.profile("u1").is_some(), "the profile is created");
    let stored = session(&fake, "s1").expect("stored");
    assert_eq!(stored["attributes"], json!({"store": "Berlin"}));
    assert_eq!(stored["couponCodes"], json!(["XMAS"]));
    assert_eq!(stored["applicationId"], 1);
    assert_eq!(last_rule(&fake), "ok.relay_session_updated");
}

#[tokio::test]
async fn unknown_session_and_cart_item_attributes_are_refused_or_skipped_with_the_flag() {
    let fake = sessions_fake();
    let body = json!({"profileId": "u1",
                      "cartItems": [{"sku": "A", "quantity": 1, "attributes": {"color": "red", "Color": "x"}}],
                      "attributes": {"store": "B", "email": "a@b.c"}});
    let r = put_session(&fake, "s1", "", body.clone()).await;
    let error = assert_relay_error(&r, 400);
    assert!(error.contains("(at /attributes/email)"), "{error}");
    assert!(error.contains("entity CustomerSession"), "{error}");
    assert_eq!(last_rule(&fake), "attribute.unknown");
    assert!(
        session(&fake, "s1").is_none() && fake.profile("u1").is_none(),
        "nothing changed"
    );
    let r = put_session(&fake, "s1", "?skipNonExistingAttributes=true", body).await;
    assert_eq!(r.status, 200, "{}", r.json);
    let stored = session(&fake, "s1").expect("stored");
    assert_eq!(stored["attributes"], json!({"store": "B"}));
    assert_eq!(
        stored["cartItems"][0]["attributes"],
        json!({"color": "red"})
    );
    let relay = fake
        .journal()
        .pop()
        .and_then(|e| e.relay)
        .expect("relay entry");
    assert_eq!(
        relay.skipped,
        ["/attributes/email", "/cartItems/0/attributes/Color"]
    );
}

#[tokio::test]
async fn a_wrong_typed_cart_item_attribute_is_refused_with_or_without_skip() {
    let fake = sessions_fake();
    for query in ["", "?skipNonExistingAttributes=true"] {
        let r = put_session(
            &fake,
            "s1",
            query,
            json!({"cartItems": [{"sku": "A", "quantity": 1}, {"sku": "B", "quantity": 1, "attributes": {"size": "42"}}]}),
        )
        .await;
        let error = assert_relay_error(&r, 400);
        assert!(
            error.contains("(at /cartItems/1/attributes/size)"),
            "{error}"
        );
        assert_eq!(last_rule(&fake), "attribute.type");
    }
    assert!(session(&fake, "s1").is_none());
}

#[tokio::test]
async fn cart_items_take_talon_ones_documented_types_not_segments_strings_and_floats() {
    let fake = sessions_fake();
    let cases = [
        (
            json!({"sku": "A", "quantity": 1.5}),
            "/cartItems/0/quantity",
            "body.invalid_field",
        ),
        (
            json!({"sku": "A", "quantity": "3"}),
            "/cartItems/0/quantity",
            "body.invalid_field",
        ),
        (
            json!({"sku": "A", "quantity": 0}),
            "/cartItems/0/quantity",
            "body.invalid_field",
        ),
        (json!({"sku": "A"}), "/cartItems/0", "body.missing_field"),
        (json!({"quantity": 1}), "/cartItems/0", "body.missing_field"),
        (
            json!({"sku": "A", "quantity": 1, "returnedQuantity": "1"}),
            "/cartItems/0/returnedQuantity",
            "body.invalid_field",
        ),
        (
            json!({"sku": "A", "quantity": 1, "weight": "1130"}),
            "/cartItems/0/weight",
            "body.invalid_field",
        ),
        (
            json!({"sku": "A", "quantity": 1, "position": "2"}),
            "/cartItems/0/position",
            "body.invalid_field",
        ),
        (
            json!({"sku": "A", "quantity": 1, "category": ["a"]}),
            "/cartItems/0/category",
            "body.invalid_field",
        ),
        (
            json!({"sku": "A", "quantity": 1, "remainingQuantity": -1}),
            "/cartItems/0/remainingQuantity",
            "body.invalid_field",
        ),
    ];
    for (item, pointer, rule) in cases {
        let r = put_session(&fake, "s1", "", json!({"cartItems": [item]})).await;
        let error = assert_relay_error(&r, 400);
        assert!(error.contains(pointer), "{item}: {error}");
        assert_eq!(last_rule(&fake), rule, "{item}");
    }
    assert!(session(&fake, "s1").is_none());
}

#[tokio::test]
async fn the_documented_list_and_length_limits_of_a_session_are_enforced() {
    let fake = sessions_fake();
    let long = "c".repeat(101);
    let item = json!({"sku": "A", "quantity": 1});
    let cases = [
        (json!({"couponCodes": vec!["c"; 101]}), "/couponCodes"),
        (json!({"couponCodes": [long.clone()]}), "/couponCodes/0"),
        (json!({"referralCode": long}), "/referralCode"),
        (json!({"loyaltyCards": ["a", "b"]}), "/loyaltyCards"),
        (
            json!({"identifiers": ["1", "2", "3", "4", "5", "6"]}),
            "/identifiers",
        ),
        (json!({"cartItems": vec![item.clone(); 1001]}), "/cartItems"),
        (json!({"state": "Open"}), "/state"),
        (
            json!({"additionalCosts": {"shipping": {"price": "4"}}}),
            "/additionalCosts/shipping/price",
        ),
    ];
    for (body, pointer) in cases {
        let r = put_session(&fake, "s1", "", body).await;
        let error = assert_relay_error(&r, 400);
        assert!(
            error.contains(&format!("(at {pointer})")),
            "{pointer}: {error}"
        );
        assert_eq!(last_rule(&fake), "body.invalid_field", "{pointer}");
    }
    // The limits themselves are allowed.
    let r = put_session(
        &fake,
        "s1",
        "",
        json!({"couponCodes": vec!["c".repeat(100); 100], "loyaltyCards": ["a"],
               "identifiers": ["1", "2", "3", "4", "5"], "cartItems": vec![item; 1000]}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.json);
}

#[tokio::test]
async fn session_states_follow_the_documented_transitions() {
    let fake = sessions_fake();
    let state = |s: &str| json!({"state": s});
    assert_eq!(put_session(&fake, "s1", "", json!({})).await.status, 200);
    // open → partially_returned only through returns.
    let r = put_session(&fake, "s1", "", state("partially_returned")).await;
    assert_relay_error(&r, 400);
    assert_eq!(last_rule(&fake), "session.invalid_transition");
    assert_eq!(
        put_session(&fake, "s1", "", state("closed")).await.status,
        200
    );
    // Without a state the session keeps its own.
    assert_eq!(put_session(&fake, "s1", "", json!({})).await.status, 200);
    assert_eq!(session(&fake, "s1").expect("s1")["state"], "closed");
    let r = put_session(&fake, "s1", "", state("open")).await;
    assert_relay_error(&r, 400);
    assert_eq!(last_rule(&fake), "session.invalid_transition");
    assert_eq!(
        put_session(&fake, "s1", "", state("cancelled"))
            .await
            .status,
        200
    );
    for s in ["open", "closed"] {
        let r = put_session(&fake, "s1", "", state(s)).await;
        assert_relay_error(&r, 400);
        assert_eq!(last_rule(&fake), "session.invalid_transition");
    }
    assert_eq!(session(&fake, "s1").expect("s1")["state"], "cancelled");
    let r = put_session(&fake, "s2", "", state("partially_returned")).await;
    assert_relay_error(&r, 400);
    assert!(session(&fake, "s2").is_none());
}

#[tokio::test]
async fn an_existing_session_keeps_its_profile_id() {
    let fake = sessions_fake();
    assert_eq!(
        put_session(&fake, "s1", "", json!({"profileId": "u1"}))
            .await
            .status,
        200
    );
    let r = put_session(
        &fake,
        "s1",
        "",
        json!({"profileId": "u2", "attributes": {"store": "x"}}),
    )
    .await;
    let error = assert_relay_error(&r, 400);
    assert!(error.contains("(at /profileId)"), "{error}");
    assert_eq!(last_rule(&fake), "session.profile_mismatch");
    assert!(fake.profile("u2").is_none());
    assert_eq!(session(&fake, "s1").expect("s1")["attributes"], json!({}));
    // The same profile, or none, is fine.
    assert_eq!(
        put_session(&fake, "s1", "", json!({"profileId": "u1"}))
            .await
            .status,
        200
    );
    assert_eq!(put_session(&fake, "s1", "", json!({})).await.status, 200);
    assert_eq!(session(&fake, "s1").expect("s1")["profileId"], "u1");
}

#[tokio::test]
async fn a_null_session_attribute_deletes_it_and_updates_merge_the_rest() {
    let fake = sessions_fake();
    let r = put_session(
        &fake,
        "s1",
        "",
        json!({"attributes": {"store": "B", "channel": "web"}}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.json);
    let r = put_session(&fake, "s1", "", json!({"attributes": {"store": null}})).await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["customerSession"]["firstSession"], false);
    assert_eq!(
        session(&fake, "s1").expect("s1")["attributes"],
        json!({"channel": "web"})
    );
}

#[tokio::test]
async fn callback_headers_are_checked_as_documented_and_recorded() {
    let fake = sessions_fake();
    let key = format!("X-API-Key {}", "k".repeat(32));
    let ok = [
        ("x-callback-destination-uri", "https://example.com/callback"),
        ("x-callback-api-key", key.as_str()),
        ("x-content-fields", "effects,customerProfile"),
        ("x-correlation-id", "corr-1"),
    ];
    let req = |h: &[(&str, &str)]| {
        with_headers(
            relay_request(
                "PUT",
                "/segment/v2/customer_sessions/s1",
                Some(SKEY),
                Some(HOST),
                Some(json!({})),
            ),
            h,
        )
    };
    let r = send(&fake, req(&ok)).await;
    assert_eq!(r.status, 200, "{}", r.json);
    let notes = fake
        .journal()
        .pop()
        .and_then(|e| e.relay)
        .map(|r| r.notes)
        .unwrap_or_default();
    assert!(
        notes
            .iter()
            .any(|n| n.contains("POST https://example.com/callback")),
        "{notes:?}"
    );
    assert!(
        notes.iter().any(|n| n.contains("effects,customerProfile")),
        "{notes:?}"
    );
    assert!(notes.iter().any(|n| n.contains("corr-1")), "{notes:?}");
    let short = format!("X-API-Key {}", "k".repeat(31));
    for bad in [
        ("x-callback-destination-uri", "undefined"),
        ("x-callback-destination-uri", "mydomain.com/api"),
        ("x-callback-api-key", "undefined"),
        ("x-callback-api-key", short.as_str()),
        ("x-content-fields", "undefined"),
        ("x-content-fields", "effects,,coupons"),
        ("x-content-fields", "Effects"),
    ] {
        let r = send(&fake, req(&[bad])).await;
        assert_relay_error(&r, 400);
        assert_eq!(last_rule(&fake), "relay.callback_header_invalid", "{bad:?}");
    }
    assert_eq!(session(&fake, "s1").expect("only the first")["id"], 1);
    assert_eq!(fake.state_dump().sessions.len(), 1);
}

#[tokio::test]
async fn a_session_with_every_update_slot_taken_gets_the_relays_429() {
    let fake = sessions_fake();
    let slots: Vec<_> = (0..talon_fake::DEFAULT_MAX_IN_FLIGHT_PER_PROFILE)
        .map(|_| fake.hold_session("s1").expect("slot"))
        .collect();
    let r = put_session(&fake, "s1", "", json!({})).await;
    assert_relay_error(&r, 429);
    assert_eq!(last_rule(&fake), "relay.parallel_requests");
    // Another session and a profile of the same id are not held.
    assert_eq!(put_session(&fake, "s2", "", json!({})).await.status, 200);
    assert!(fake.hold_profile("s1").is_some());
    drop(slots);
    assert_eq!(put_session(&fake, "s1", "", json!({})).await.status, 200);
}

#[tokio::test]
async fn stored_sessions_survive_a_dump_and_reload_byte_identically() {
    let fake = sessions_fake();
    for id in ["s2", "s1"] {
        let r = put_session(
            &fake,
            id,
            "",
            json!({"profileId": "u1", "cartItems": [{"sku": "A", "quantity": 1, "price": 2.5}], "attributes": {"store": id}}),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.json);
    }
    let dump = fake.state_dump().to_json_pretty();
    let again = Fake::new(
        StateFile::from_json(&dump).expect("parses"),
        FakeConfig::default(),
    )
    .expect("reloads");
    assert_eq!(again.state_dump().to_json_pretty(), dump);
    let mut streamed = Vec::new();
    fake.write_state(&mut streamed, false).expect("writes");
    assert_eq!(String::from_utf8(streamed).expect("utf-8"), dump);
    let v: Value = serde_json::from_str(&dump).expect("json");
    let ids: Vec<&str> = v["sessions"]
        .as_array()
        .expect("sessions")
        .iter()
        .filter_map(|s| s["integrationId"].as_str())
        .collect();
    assert_eq!(ids, ["s1", "s2"], "sorted by integration id");
    // A reloaded deployment continues the ids.
    let r = put_session(&again, "s3", "", json!({})).await;
    assert_eq!(r.json["customerSession"]["id"], 3);
}

// ------------------------------------------------------------------ deprecated endpoint

#[tokio::test]
async fn the_deprecated_session_endpoint_creates_session_and_cart_item_attributes() {
    let fake = sessions_fake();
    let before = fake.state_dump().attributes.len();
    let r = relay(
        &fake,
        "PUT",
        "/segment/customer_sessions/s1",
        Some(json!({
            "customerSession": {"profileId": "u1", "state": "open",
                "cartItems": [{"sku": "A", "quantity": 1, "attributes": {"material": "leather", "color": "red"}},
                              {"sku": "B", "quantity": 1, "attributes": {"material": "wool"}}],
                "attributes": {"store": "B", "vip": "true", "visits": 3}},
            "sessionAttributesInfo": [{"name": "vip", "type": "boolean"}],
            "cartItemAttributesInfo": []
        })),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.json);
    let created: Vec<(String, String, String)> = r.json["createdAttributes"]
        .as_array()
        .expect("createdAttributes")
        .iter()
        .map(|a| {
            (
                a["entity"].as_str().unwrap_or_default().to_owned(),
                a["name"].as_str().unwrap_or_default().to_owned(),
                a["type"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let t = |e: &str, n: &str, ty: &str| (e.to_owned(), n.to_owned(), ty.to_owned());
    assert_eq!(
        created,
        [
            t("CustomerSession", "vip", "boolean"),
            t("CustomerSession", "visits", "number"),
            t("CartItem", "material", "string"),
        ]
    );
    let ids: Vec<i64> = r.json["createdAttributes"]
        .as_array()
        .expect("created")
        .iter()
        .filter_map(|a| a["id"].as_i64())
        .collect();
    let mut unique = ids.clone();
    unique.dedup();
    assert_eq!(unique.len(), 3, "distinct ids: {ids:?}");
    assert_eq!(fake.state_dump().attributes.len(), before + 3);
    assert_eq!(
        r.json["customerSession"]["attributes"],
        json!({"store": "B", "vip": true, "visits": 3})
    );
    assert_eq!(last_rule(&fake), "ok.relay_deprecated_session_updated");
    // What was created is then known to the current endpoint.
    let r = put_session(
        &fake,
        "s1",
        "",
        json!({"cartItems": [{"sku": "A", "quantity": 1, "attributes": {"material": "silk"}}], "attributes": {"vip": false}}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.json);
}

#[tokio::test]
async fn the_deprecated_session_endpoint_keeps_the_session_rules_and_changes_nothing_when_refused()
{
    let fake = sessions_fake();
    let before = fake.state_dump();
    let cases = [
        (
            json!({"customerSession": {"cartItems": [{"sku": "A", "quantity": 1.5}]}}),
            "body.invalid_field",
        ),
        (
            json!({"customerSession": {"state": "partially_returned"}}),
            "session.invalid_transition",
        ),
        (
            json!({"customerSession": {"attributes": {"store": 1}}}),
            "attribute.type",
        ),
        (
            json!({"customerSession": {"attributes": {"x": {"a": 1}}}}),
            "attribute.type",
        ),
        (
            json!({"customerSession": {"attributes": {"a": "x"}},
                "sessionAttributesInfo": [{"name": "a", "type": "(list string)"}]}),
            "body.invalid_field",
        ),
        (
            json!({"customerSession": {"cartItems": [{"sku": "A", "quantity": 1, "attributes": {"n": "x"}},
                                                    {"sku": "B", "quantity": 1, "attributes": {"n": 2}}]}}),
            "attribute.type",
        ),
        (json!({}), "body.missing_field"),
    ];
    for (body, rule) in cases {
        let r = relay(
            &fake,
            "PUT",
            "/segment/customer_sessions/s1",
            Some(body.clone()),
        )
        .await;
        assert_relay_error(&r, 400);
        assert_eq!(last_rule(&fake), rule, "{body}");
    }
    assert_eq!(fake.state_dump(), before, "nothing changed");
}

#[tokio::test]
async fn an_attribute_whose_title_is_taken_is_refused_before_anything_is_created() {
    let fake = sessions_fake();
    let before = fake.state_dump();
    let r = relay(
        &fake,
        "PUT",
        "/segment/customer_sessions/s1",
        Some(json!({"customerSession": {"profileId": "u1", "attributes": {"fresh": 1, "Store": "x"}}})),
    )
    .await;
    let error = assert_relay_error(&r, 409);
    assert!(error.contains("(at /attributes/Store)"), "{error}");
    assert_eq!(last_rule(&fake), "attribute.duplicate");
    assert_eq!(fake.state_dump(), before, "fresh is not created either");
}

#[tokio::test]
async fn a_session_id_over_1000_characters_is_refused_as_a_path_parameter() {
    let fake = sessions_fake();
    let id = "s".repeat(1001);
    let r = put_session(&fake, &id, "", json!({})).await;
    let error = assert_relay_error(&r, 400);
    assert!(error.contains("customerSessionId"), "{error}");
    assert_eq!(last_rule(&fake), "integration_id.invalid");
    assert_eq!(
        put_session(&fake, &"s".repeat(1000), "", json!({}))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn a_state_file_with_an_inconsistent_session_is_refused() {
    let record = |extra: Value| {
        let mut s = json!({"integrationId": "s1", "id": 1, "applicationId": 1, "state": "open"});
        if let (Some(o), Some(e)) = (s.as_object_mut(), extra.as_object()) {
            o.extend(e.clone());
        }
        serde_json::from_value::<talon_fake::SessionRecord>(s).expect("record")
    };
    for (extra, why) in [
        (json!({"state": "Open"}), "unknown state"),
        (json!({"applicationId": 9}), "unknown application"),
        (json!({"profileId": ""}), "profileId"),
        (json!({"attributes": {"email": "a"}}), "not defined"),
        (json!({"id": 0}), "at least 1"),
    ] {
        let mut state = sessions_state();
        state.sessions.push(record(extra.clone()));
        let err = Fake::new(state, FakeConfig::default()).expect_err("inconsistent");
        assert!(err.to_string().contains(why), "{extra}: {err}");
    }
    let mut state = sessions_state();
    state.sessions.push(record(
        json!({"profileId": "u1", "attributes": {"store": "B"}}),
    ));
    assert!(Fake::new(state, FakeConfig::default()).is_ok());
}
