//! The relay's events: `PUT /segment/v2/events` and the deprecated `PUT /segment/event`, and
//! what the deployment stores of them.

use serde_json::{Value, json};
use talon_fake::{Fake, FakeConfig, StateFile};

use crate::relay::*;
use crate::support::*;

/// The default state with the event types `Order Completed` (declared) and `Product Viewed`
/// (named by an attribute), Event attributes `orderId` (string, Order Completed), `total`
/// (number, Order Completed), `sku` (string, Product Viewed) and `channel` (string, no event
/// type: every type), and a CustomerSession attribute that events must not accept.
pub(crate) fn events_state() -> StateFile {
    let mut state: Value =
        serde_json::from_str(talon_fake::DEFAULT_STATE_JSON).expect("default state");
    let attr = |id: i64, entity: &str, event_type: Option<&str>, name: &str, ty: &str| {
        let mut a = json!({"id": id, "entity": entity, "name": name, "title": name, "type": ty});
        if let Some(t) = event_type {
            a["eventType"] = json!(t);
        }
        a
    };
    let attrs = state["attributes"].as_array_mut().expect("attributes");
    attrs.push(attr(
        901,
        "Event",
        Some("Order Completed"),
        "orderId",
        "string",
    ));
    attrs.push(attr(
        902,
        "Event",
        Some("Order Completed"),
        "total",
        "number",
    ));
    attrs.push(attr(903, "Event", Some("Product Viewed"), "sku", "string"));
    attrs.push(attr(904, "Event", None, "channel", "string"));
    attrs.push(attr(905, "CustomerSession", None, "store", "string"));
    state["eventTypes"] = json!([{"name": "Order Completed"}]);
    StateFile::from_json(&state.to_string()).expect("state")
}

fn events_fake() -> Fake {
    Fake::new(events_state(), FakeConfig::default()).expect("loads")
}

fn events(fake: &Fake) -> Vec<Value> {
    fake.state_dump()
        .events
        .iter()
        .map(|e| serde_json::to_value(e).expect("json"))
        .collect()
}

async fn event(fake: &Fake, query: &str, body: Value) -> Resp {
    relay(
        fake,
        "PUT",
        &format!("/segment/v2/events{query}"),
        Some(body),
    )
    .await
}

#[tokio::test]
async fn an_event_of_a_known_type_is_stored_with_its_attributes_and_creates_its_profile() {
    let fake = events_fake();
    let r = event(
        &fake,
        "",
        json!({"eventType": "Order Completed", "customerProfileId": "u1",
               "eventAttributes": {"orderId": "o-1", "total": 12.5, "channel": "web"}}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(
        r.json,
        json!({"effects": [], "createdCoupons": [], "createdReferrals": []})
    );
    assert!(fake.profile("u1").is_some(), "the profile is created");
    let stored = events(&fake);
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["id"], 1);
    assert_eq!(stored[0]["type"], "Order Completed");
    assert_eq!(stored[0]["profileId"], "u1");
    assert_eq!(stored[0]["applicationId"], 1);
    assert_eq!(
        stored[0]["attributes"],
        json!({"channel": "web", "orderId": "o-1", "total": 12.5})
    );
    assert!(
        stored[0]["created"]
            .as_str()
            .is_some_and(|t| t.starts_with("2024-01-01T"))
    );
    let last = fake.journal().pop().expect("journalled");
    assert_eq!(last.rule, "ok.relay_event_tracked");
    assert_eq!(
        last.relay.and_then(|r| r.deployment).as_deref(),
        Some("mycompany.europe-west1.talon.one")
    );
}

#[tokio::test]
async fn an_event_type_named_only_by_an_attribute_is_known_too() {
    let fake = events_fake();
    let r = event(
        &fake,
        "",
        json!({"eventType": "Product Viewed", "customerProfileId": "u1", "eventAttributes": {"sku": "S-1"}}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(events(&fake)[0]["attributes"], json!({"sku": "S-1"}));
}

#[tokio::test]
async fn an_unknown_event_type_is_refused_with_its_own_rule_and_changes_nothing() {
    let fake = events_fake();
    for t in ["order completed", "Order Completed ", "Signed Up"] {
        let r = event(
            &fake,
            "",
            json!({"eventType": t, "customerProfileId": "u1"}),
        )
        .await;
        let error = assert_relay_error(&r, 400);
        assert!(error.contains("(at /eventType)"), "{error}");
        assert_eq!(last_rule(&fake), "event.type_unknown", "{t:?}");
    }
    assert!(fake.profile("u1").is_none(), "nothing changed");
    assert!(events(&fake).is_empty());
}

#[tokio::test]
async fn an_attribute_of_another_event_type_entity_or_case_is_unknown_and_refused() {
    let fake = events_fake();
    for name in ["sku", "store", "OrderId", "email"] {
        let r = event(
            &fake,
            "",
            json!({"eventType": "Order Completed", "customerProfileId": "u1",
                   "eventAttributes": {"orderId": "o-1", name: "x"}}),
        )
        .await;
        let error = assert_relay_error(&r, 400);
        assert!(
            error.contains(&format!("(at /eventAttributes/{name})")),
            "{error}"
        );
        assert!(
            error.contains("entity Event of event type \"Order Completed\""),
            "{error}"
        );
        assert_eq!(last_rule(&fake), "attribute.unknown");
    }
    assert!(fake.profile("u1").is_none(), "all or nothing");
    assert!(events(&fake).is_empty());
}

#[tokio::test]
async fn with_skip_non_existing_attributes_unknown_event_attributes_are_skipped_and_journalled() {
    let fake = events_fake();
    let r = event(
        &fake,
        "?skipNonExistingAttributes=true",
        json!({"eventType": "Order Completed", "customerProfileId": "u1",
               "eventAttributes": {"orderId": "o-1", "Unknown": 1, "sku": "S"}}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(events(&fake)[0]["attributes"], json!({"orderId": "o-1"}));
    let relay = fake
        .journal()
        .pop()
        .and_then(|e| e.relay)
        .expect("relay entry");
    assert_eq!(
        relay.skipped,
        ["/eventAttributes/Unknown", "/eventAttributes/sku"]
    );
}

#[tokio::test]
async fn a_wrong_typed_event_attribute_is_refused_with_or_without_skip() {
    let fake = events_fake();
    for query in ["", "?skipNonExistingAttributes=true"] {
        let r = event(
            &fake,
            query,
            json!({"eventType": "Order Completed", "customerProfileId": "u1",
                   "eventAttributes": {"total": "12.5"}}),
        )
        .await;
        let error = assert_relay_error(&r, 400);
        assert!(error.contains("(at /eventAttributes/total)"), "{error}");
        assert_eq!(last_rule(&fake), "attribute.type");
    }
    assert!(events(&fake).is_empty());
}

#[tokio::test]
async fn an_event_without_a_type_or_a_profile_is_refused() {
    let fake = events_fake();
    let cases = [
        (json!({"customerProfileId": "u1"}), "body.missing_field"),
        (
            json!({"eventType": "", "customerProfileId": "u1"}),
            "body.invalid_field",
        ),
        (
            json!({"eventType": "Order Completed"}),
            "body.missing_field",
        ),
        (
            json!({"eventType": "Order Completed", "customerProfileId": ""}),
            "integration_id.invalid",
        ),
        (
            json!({"eventType": "Order Completed", "customerProfileId": "u1", "type": "string"}),
            "body.unknown_field",
        ),
        (
            json!({"eventType": "Order Completed", "customerProfileId": "u1", "eventAttributes": []}),
            "body.invalid_field",
        ),
    ];
    for (body, rule) in cases {
        let r = event(&fake, "", body.clone()).await;
        assert_relay_error(&r, 400);
        assert_eq!(last_rule(&fake), rule, "{body}");
    }
    assert!(events(&fake).is_empty());
    assert_eq!(fake.profile_count(), 0);
}

#[tokio::test]
async fn an_event_for_a_profile_with_every_update_slot_taken_gets_the_relays_429() {
    let fake = events_fake();
    let slots: Vec<_> = (0..talon_fake::DEFAULT_MAX_IN_FLIGHT_PER_PROFILE)
        .map(|_| fake.hold_profile("u1").expect("slot"))
        .collect();
    let body = json!({"eventType": "Order Completed", "customerProfileId": "u1"});
    let r = event(&fake, "", body.clone()).await;
    assert_relay_error(&r, 429);
    assert_eq!(last_rule(&fake), "relay.parallel_requests");
    assert!(events(&fake).is_empty());
    drop(slots);
    assert_eq!(event(&fake, "", body).await.status, 200);
}

#[tokio::test]
async fn stored_events_and_event_types_survive_a_dump_and_reload_byte_identically() {
    let fake = events_fake();
    for (i, t) in ["Order Completed", "Product Viewed"].iter().enumerate() {
        let r = event(
            &fake,
            "",
            json!({"eventType": t, "customerProfileId": format!("u{i}"), "eventAttributes": {"channel": "app"}}),
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
    assert_eq!(v["eventTypes"], json!([{"name": "Order Completed"}]));
    assert_eq!(v["events"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn a_state_file_with_an_event_of_an_unknown_type_is_refused() {
    let mut state = events_state();
    state.events.push(
        serde_json::from_value(
            json!({"id": 1, "applicationId": 1, "type": "Nope", "profileId": "u1"}),
        )
        .expect("record"),
    );
    let err = Fake::new(state, FakeConfig::default()).expect_err("inconsistent");
    assert!(err.to_string().contains("unknown event type"), "{err}");
}

// ------------------------------------------------------------------ deprecated PUT /segment/event

async fn legacy(fake: &Fake, body: Value) -> Resp {
    relay(fake, "PUT", "/segment/event", Some(body)).await
}

#[tokio::test]
async fn the_deprecated_event_creates_its_type_and_attributes_typed_by_attributes_info_or_detected()
{
    let fake = events_fake();
    let attributes_before = fake.state_dump().attributes.len();
    let r = legacy(
        &fake,
        json!({"customerProfileId": "u1", "eventType": "Signed Up", "type": "string",
               "eventAttributes": {"plan": "pro", "seats": 3, "trial": "true", "channel": "web"},
               "attributesInfo": [{"name": "trial", "type": "boolean"}]}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.json);
    for k in ["effects", "createdCoupons", "createdReferrals"] {
        assert_eq!(r.json[k], json!([]), "{k}");
    }
    let created: Vec<(String, String, String)> = r.json["createdAttributes"]
        .as_array()
        .expect("createdAttributes")
        .iter()
        .map(|a| {
            assert_eq!(a["entity"], "Event");
            assert_eq!(a["eventType"], "Signed Up");
            (
                a["name"].as_str().unwrap_or_default().to_owned(),
                a["type"].as_str().unwrap_or_default().to_owned(),
                a["created"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .map(|(n, t, c)| {
            assert!(c.starts_with("2024-"), "{c}");
            (n, t, String::new())
        })
        .collect();
    assert_eq!(
        created,
        [
            ("plan".to_owned(), "string".to_owned(), String::new()),
            ("seats".to_owned(), "number".to_owned(), String::new()),
            ("trial".to_owned(), "boolean".to_owned(), String::new()),
        ],
        "channel exists for every event type and is not created"
    );
    assert_eq!(last_rule(&fake), "ok.relay_deprecated_event_tracked");
    let state = fake.state_dump();
    assert_eq!(state.attributes.len(), attributes_before + 3);
    let v = serde_json::to_value(&state).expect("json");
    assert!(
        v["eventTypes"]
            .as_array()
            .expect("types")
            .contains(&json!({"name": "Signed Up", "type": "string"})),
        "{}",
        v["eventTypes"]
    );
    assert_eq!(
        events(&fake)[0]["attributes"],
        json!({"channel": "web", "plan": "pro", "seats": 3, "trial": true}),
        "trial converted to its attributesInfo type"
    );
    // The type and attributes now exist for the current endpoint.
    let r = event(
        &fake,
        "",
        json!({"eventType": "Signed Up", "customerProfileId": "u1", "eventAttributes": {"plan": "team"}}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.json);
}

#[tokio::test]
async fn a_later_different_type_for_an_existing_event_type_is_ignored_with_a_journal_note() {
    let fake = events_fake();
    let body = |ty: &str| json!({"customerProfileId": "u1", "eventType": "Signed Up", "type": ty});
    assert_eq!(legacy(&fake, body("string")).await.status, 200);
    let r = legacy(&fake, body("number")).await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["createdAttributes"], json!([]));
    let notes = fake
        .journal()
        .pop()
        .and_then(|e| e.relay)
        .map(|r| r.notes)
        .unwrap_or_default();
    assert!(
        notes.iter().any(|n| n.contains("\"number\" ignored")),
        "{notes:?}"
    );
    let v = serde_json::to_value(fake.state_dump()).expect("json");
    assert!(
        v["eventTypes"]
            .as_array()
            .expect("types")
            .contains(&json!({"name": "Signed Up", "type": "string"}))
    );
}

#[tokio::test]
async fn the_deprecated_event_refuses_what_it_cannot_create_and_changes_nothing() {
    let fake = events_fake();
    let before = fake.state_dump();
    let cases = [
        (
            json!({"customerProfileId": "u1", "eventType": "Signed Up", "type": "text"}),
            "body.invalid_field",
        ),
        (
            json!({"customerProfileId": "u1", "eventType": "Signed Up"}),
            "body.missing_field",
        ),
        (
            json!({"eventType": "Signed Up", "type": "string"}),
            "body.missing_field",
        ),
        (
            json!({"customerProfileId": "u1", "eventType": "Signed Up", "type": "string",
                   "eventAttributes": {"a": "x", "tags": ["a"]},
                   "attributesInfo": [{"name": "tags", "type": "(list string)"}]}),
            "body.invalid_field",
        ),
        (
            json!({"customerProfileId": "u1", "eventType": "Signed Up", "type": "string",
                   "eventAttributes": {"a": "x", "seats": "many"},
                   "attributesInfo": [{"name": "seats", "type": "number"}]}),
            "attribute.type",
        ),
        (
            json!({"customerProfileId": "u1", "eventType": "Signed Up", "type": "string",
                   "eventAttributes": {"a": "x", "nested": {"k": 1}}}),
            "attribute.type",
        ),
        (
            json!({"customerProfileId": "u1", "eventType": "Signed Up", "type": "string",
                   "eventAttributes": {"a": "x", "bad-name": 1}}),
            "attribute.invalid_name",
        ),
        (
            json!({"customerProfileId": "u1", "eventType": "Order Completed", "type": "string",
                   "eventAttributes": {"a": "x", "total": "12"}}),
            "attribute.type",
        ),
    ];
    for (body, rule) in cases {
        let r = legacy(&fake, body.clone()).await;
        assert_relay_error(&r, 400);
        assert_eq!(last_rule(&fake), rule, "{body}");
    }
    assert_eq!(fake.state_dump(), before, "nothing changed");
}

#[tokio::test]
async fn an_event_lands_in_the_deployment_the_header_names_and_each_dump_shows_its_own() {
    let mut staging = events_state();
    staging.hostname = Some("staging.europe-west1.talon.one".to_owned());
    staging.event_types.clear();
    let mut state = events_state();
    state.deployments.push(staging);
    let fake = Fake::new(state, FakeConfig::default()).expect("loads");
    let body = json!({"eventType": "Order Completed", "customerProfileId": "u1"});
    let r = send(
        &fake,
        relay_request(
            "PUT",
            "/segment/v2/events",
            Some(SKEY),
            Some("https://staging.europe-west1.talon.one/"),
            Some(body.clone()),
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.json);
    let dump = fake.state_dump();
    assert!(dump.events.is_empty(), "production has none");
    assert_eq!(dump.deployments[0].events.len(), 1);
    assert_eq!(dump.deployments[0].events[0].profile_id, "u1");
    // Staging declares no event types, but its Order Completed attributes name the type.
    assert!(dump.deployments[0].event_types.is_empty());
    assert_eq!(event(&fake, "", body).await.status, 200);
    assert_eq!(fake.state_dump().events.len(), 1);
}
