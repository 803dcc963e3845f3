//! The relay's deprecated profile endpoints: attributes (and, in V2, audiences) created when
//! missing, typed by `attributesInfo` or detected, and nothing created when a check fails.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::relay::*;
use crate::support::*;

const V1: &str = "/segment/customer_profile/u1";
const V2: &str = "/segment/customer_profile_v2/u1";

/// `name → type` of the response's `createdAttributes`.
fn created(r: &Resp) -> BTreeMap<String, String> {
    r.json["createdAttributes"]
        .as_array()
        .expect("createdAttributes")
        .iter()
        .map(|a| {
            assert_eq!(a["entity"], "CustomerProfile", "{a}");
            (
                a["name"].as_str().expect("name").to_owned(),
                a["type"].as_str().expect("type").to_owned(),
            )
        })
        .collect()
}

fn catalog_size(fake: &talon_fake::Fake) -> usize {
    fake.state_dump().attributes.len()
}

fn memberships(fake: &talon_fake::Fake, id: &str) -> Vec<i64> {
    fake.profile(id).expect("profile")["audienceMemberships"]
        .as_array()
        .expect("memberships")
        .iter()
        .filter_map(|m| m["id"].as_i64())
        .collect()
}

#[tokio::test]
async fn missing_attributes_are_created_with_detected_types_and_listed() {
    let fake = fake();
    let before = catalog_size(&fake);
    let r = relay(
        &fake,
        "PUT",
        V1,
        Some(json!({"attributes": {"plan": "gold", "vip": true, "score": 4.5, "nick": "n", "tags": ["a", "b"], "lucky": [7, 1.5], "seen": "2024-01-01T00:00:00Z"}})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(last_rule(&fake), "ok.relay_deprecated_profile_updated");
    let made: BTreeMap<String, String> = [
        ("lucky", "(list number)"),
        ("nick", "string"),
        ("score", "number"),
        ("seen", "string"),
        ("tags", "(list string)"),
        ("vip", "boolean"),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_owned(), b.to_owned()))
    .collect();
    assert_eq!(created(&r), made);
    assert!(
        r.json.get("audiences").is_none(),
        "V1 has no audiences: {}",
        r.json
    );
    let p = &r.json["customerProfile"];
    assert_eq!(p["integrationId"], "u1");
    assert_eq!(p["attributes"]["plan"], "gold");
    assert_eq!(p["attributes"]["tags"], json!(["a", "b"]));
    assert_eq!(
        fake.profile("u1").expect("stored")["attributes"],
        p["attributes"]
    );
    assert_eq!(catalog_size(&fake), before + 6);
    // The catalog's own attributes now, for every endpoint: listed, and no longer created.
    let r = get(
        &fake,
        "/v1/attributes?entity=CustomerProfile&search=vip",
        Some(MKEY),
    )
    .await;
    assert!(
        r.json["data"]
            .as_array()
            .expect("data")
            .iter()
            .any(|a| a["name"] == "vip"),
        "{}",
        r.json
    );
    let r = relay(
        &fake,
        "PUT",
        V1,
        Some(json!({"attributes": {"vip": false}})),
    )
    .await;
    assert_eq!(r.json["createdAttributes"], json!([]));
    let r = relay(
        &fake,
        "PUT",
        "/segment/v2/customer_profiles/u2",
        Some(json!({"attributes": {"vip": true, "nick": "m"}})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.json);
}

#[tokio::test]
async fn attributes_info_types_new_attributes_and_converts_their_values() {
    let fake = fake();
    let r = relay(
        &fake,
        "PUT",
        V1,
        Some(json!({
            "attributes": {"hasClickedProduct": false, "flag": "true", "zip": "12345", "born": "2024-01-01T00:00:00Z", "home": "52.5,13.4", "logins": 3},
            "attributesInfo": [
                {"name": "hasClickedProduct", "type": "string"},
                {"name": "flag", "type": "boolean"},
                {"name": "zip", "type": "number"},
                {"name": "born", "type": "time"},
                {"name": "home", "type": "location"},
                {"name": "logins", "type": "number"},
                {"name": "notSent", "type": "string"}
            ]
        })),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.json);
    let made: Vec<(String, String)> = created(&r).into_iter().collect();
    assert_eq!(
        made,
        [
            ("born", "time"),
            ("flag", "boolean"),
            ("hasClickedProduct", "string"),
            ("home", "location"),
            ("zip", "number"),
        ]
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
    );
    let attrs = &fake.profile("u1").expect("stored")["attributes"];
    assert_eq!(attrs["hasClickedProduct"], "false");
    assert_eq!(attrs["flag"], true);
    assert_eq!(attrs["zip"], 12345);
    assert_eq!(attrs["born"], "2024-01-01T00:00:00Z");
    assert_eq!(attrs["logins"], 3);
    assert!(attrs.get("notSent").is_none());
    assert!(
        !fake
            .state_dump()
            .attributes
            .iter()
            .any(|a| a.name == "notSent")
    );
}

#[tokio::test]
async fn a_created_attribute_whose_title_is_taken_gets_a_numbered_title() {
    let fake = fake();
    // `email` (title "Email") exists; `Email` is another attribute (names are case-sensitive).
    let r = relay(
        &fake,
        "PUT",
        V1,
        Some(json!({"attributes": {"Email": "a@example.com"}})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["createdAttributes"][0]["name"], "Email");
    assert_eq!(r.json["createdAttributes"][0]["title"], "Email (2)");
    let attrs = &fake.profile("u1").expect("stored")["attributes"];
    assert_eq!(attrs["Email"], "a@example.com");
    assert!(attrs.get("email").is_none());
}

#[rstest::rstest]
#[case::null(json!({"attributes": {"fresh": 1, "x": null}}), "attribute.type_not_detected", "/attributes/x")]
#[case::object(json!({"attributes": {"fresh": 1, "x": {"a": 1}}}), "attribute.type_not_detected", "/attributes/x")]
#[case::empty_list(json!({"attributes": {"fresh": 1, "x": []}}), "attribute.type_not_detected", "/attributes/x")]
#[case::mixed_list(json!({"attributes": {"fresh": 1, "x": [1, "a"]}}), "attribute.type_not_detected", "/attributes/x")]
#[case::list_of_booleans(json!({"attributes": {"fresh": 1, "x": [true]}}), "attribute.type_not_detected", "/attributes/x")]
// Segment's default V1 mapping sends the whole traits, `attributesInfo` list included (AD §2.4).
#[case::attributes_info_inside_attributes(json!({"attributes": {"fresh": 1, "attributesInfo": [{"name": "fresh", "type": "number"}]}, "attributesInfo": [{"name": "fresh", "type": "number"}]}), "attribute.type_not_detected", "/attributes/attributesInfo")]
#[case::list_declared_string(json!({"attributes": {"fresh": 1, "x": ["a"]}, "attributesInfo": [{"name": "x", "type": "string"}]}), "attribute.list_not_convertible", "/attributes/x")]
#[case::existing_list_declared(json!({"attributes": {"fresh": 1, "interests": ["a"]}, "attributesInfo": [{"name": "interests", "type": "string"}]}), "attribute.list_not_convertible", "/attributes/interests")]
#[case::not_convertible(json!({"attributes": {"fresh": 1, "x": "many"}, "attributesInfo": [{"name": "x", "type": "number"}]}), "attribute.type", "/attributes/x")]
#[case::bad_name(json!({"attributes": {"fresh": 1, "first-name": "a"}}), "attribute.invalid_name", "/attributes/first-name")]
#[case::underscore_first(json!({"attributes": {"fresh": 1, "_x": "a"}}), "attribute.invalid_name", "/attributes/_x")]
#[case::list_type_declared(json!({"attributes": {"fresh": 1}, "attributesInfo": [{"name": "x", "type": "(list string)"}]}), "body.invalid_field", "/attributesInfo/0/type")]
#[case::declared_twice(json!({"attributes": {"fresh": 1}, "attributesInfo": [{"name": "x", "type": "string"}, {"name": "x", "type": "number"}]}), "body.invalid_field", "/attributesInfo/1/name")]
#[case::existing_wrong_type(json!({"attributes": {"fresh": 1, "logins": "3"}}), "attribute.type", "/attributes/logins")]
#[case::existing_declared_other_type(json!({"attributes": {"fresh": 1, "plan": "gold"}, "attributesInfo": [{"name": "plan", "type": "number"}]}), "attribute.type", "/attributes/plan")]
#[case::existing_wrong_element(json!({"attributes": {"fresh": 1, "interests": ["a", 2]}}), "attribute.type", "/attributes/interests/1")]
#[case::audience_id_below_1(json!({"attributes": {"fresh": 1}, "runRuleEngine": true, "audiencesChanges": {"adds": [0]}}), "body.invalid_field", "/audiencesChanges/adds/0")]
#[case::unknown_audience(json!({"attributes": {"fresh": 1}, "runRuleEngine": true, "audiencesChanges": {"adds": [99]}}), "audience.unknown", "/audiencesChanges/adds/0")]
#[case::v2_items_on_v1(json!({"attributes": {"fresh": 1}, "audiencesChanges": {"adds": [{"name": "a"}]}}), "body.invalid_field", "/audiencesChanges/adds/0")]
#[case::unknown_field(json!({"attributes": {"fresh": 1}, "skipNonExistingAttributes": true}), "body.unknown_field", "/skipNonExistingAttributes")]
#[tokio::test]
async fn a_refused_v1_update_creates_nothing(
    #[case] body: Value,
    #[case] rule: &str,
    #[case] pointer: &str,
) {
    let fake = fake();
    let before = catalog_size(&fake);
    let r = relay(&fake, "PUT", V1, Some(body)).await;
    let error = assert_relay_error(&r, 400);
    assert!(error.contains(&format!("(at {pointer})")), "{error}");
    assert_eq!(last_rule(&fake), rule);
    assert_eq!(catalog_size(&fake), before, "no attribute created");
    assert_eq!(fake.profile_count(), 0, "no profile stored");
}

#[tokio::test]
async fn v1_audience_ids_are_applied_only_with_the_rule_engine() {
    let fake = fake();
    let r = relay(
        &fake,
        "PUT",
        V1,
        Some(json!({"attributes": {"plan": "a"}, "audiencesChanges": {"adds": [1]}})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert!(memberships(&fake, "u1").is_empty());
    let notes = fake
        .journal()
        .pop()
        .and_then(|e| e.relay)
        .expect("relay")
        .notes;
    assert!(notes[0].contains("runRuleEngine is false"), "{notes:?}");
    let r = relay(
        &fake,
        "PUT",
        V1,
        Some(json!({"runRuleEngine": true, "audiencesChanges": {"adds": [1]}})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(memberships(&fake, "u1"), vec![1]);
    assert_eq!(r.json["customerProfile"]["audienceMemberships"][0]["id"], 1);
    let r = relay(
        &fake,
        "PUT",
        V1,
        Some(json!({"runRuleEngine": true, "audiencesChanges": {"deletes": [1]}})),
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(memberships(&fake, "u1").is_empty());
}

#[tokio::test]
async fn v2_joins_existing_audiences_by_integration_id_and_creates_new_ones_sanitised() {
    let fake = fake();
    let r = relay(
        &fake,
        "PUT",
        V2,
        Some(json!({
            "runRuleEngine": true,
            "attributes": {"plan": "gold"},
            "audiencesChanges": {"adds": [
                {"name": "My Travel audience1"},
                {"name": "Segment demo audience", "integrationId": "aud_demo"},
                {"name": "Spaced", "integrationId": "seg-1 x"}
            ]}
        })),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(last_rule(&fake), "ok.relay_deprecated_profile_v2_updated");
    let seen: Vec<(Value, Value, Value)> = r.json["audiences"]
        .as_array()
        .expect("audiences")
        .iter()
        .map(|a| {
            (
                a["name"].clone(),
                a["integrationId"].clone(),
                a["status"].clone(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            (
                json!("My Travel audience1"),
                json!("My_Travel_audience1"),
                json!("new")
            ),
            (
                json!("Segment demo audience"),
                json!("aud_demo"),
                json!("unmodified")
            ),
            (json!("Spaced"), json!("seg_1_x"), json!("new")),
        ]
    );
    assert_eq!(r.json["audiences"][0]["integration"], "Segment");
    assert_eq!(memberships(&fake, "u1"), vec![1, 2, 3]);
    assert_eq!(r.json["createdAttributes"], json!([]));
    // The same items again: found (by the given id, or by its sanitised form); a new name renames.
    let r = relay(
        &fake,
        "PUT",
        V2,
        Some(json!({
            "runRuleEngine": true,
            "audiencesChanges": {
                "adds": [{"name": "Spaced", "integrationId": "seg-1 x"}, {"name": "Renamed", "integrationId": "aud_demo"}],
                "deletes": [{"name": "My Travel audience1"}, {"name": "Nowhere", "integrationId": "none"}]
            }
        })),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.json);
    let statuses: Vec<(Value, Value)> = r.json["audiences"]
        .as_array()
        .expect("audiences")
        .iter()
        .map(|a| (a["integrationId"].clone(), a["status"].clone()))
        .collect();
    assert_eq!(
        statuses,
        vec![
            (json!("seg_1_x"), json!("unmodified")),
            (json!("aud_demo"), json!("updated")),
            (json!("My_Travel_audience1"), json!("unmodified")),
        ]
    );
    assert_eq!(memberships(&fake, "u1"), vec![1, 3]);
    let audiences = fake.state_dump().audiences;
    assert_eq!(audiences.len(), 3);
    assert_eq!(audiences[0].name, "Renamed");
    let notes = fake
        .journal()
        .pop()
        .and_then(|e| e.relay)
        .expect("relay")
        .notes;
    assert!(notes.iter().any(|n| n.contains("\"none\"")), "{notes:?}");
    // The relay's own audience endpoints see them: renamed by their Segment id.
    let r = relay(
        &fake,
        "PUT",
        "/segment/audiences/My_Travel_audience1",
        Some(json!({"audienceName": "Trips"})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.json);
}

#[tokio::test]
async fn two_items_that_sanitise_to_one_new_integration_id_make_one_audience() {
    let fake = fake();
    let r = relay(
        &fake,
        "PUT",
        V2,
        Some(json!({"runRuleEngine": true, "audiencesChanges": {"adds": [{"name": "a b"}, {"name": "a-b"}]}})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.json);
    let statuses: Vec<(Value, Value)> = r.json["audiences"]
        .as_array()
        .expect("audiences")
        .iter()
        .map(|a| (a["id"].clone(), a["status"].clone()))
        .collect();
    assert_eq!(
        statuses,
        vec![(json!(2), json!("new")), (json!(2), json!("updated"))]
    );
    let audiences = fake.state_dump().audiences;
    assert_eq!(audiences.len(), 2);
    assert_eq!(audiences[1].integration_id.as_deref(), Some("a_b"));
    assert_eq!(memberships(&fake, "u1"), vec![2]);
}

#[tokio::test]
async fn v2_without_the_rule_engine_creates_and_joins_no_audience() {
    let fake = fake();
    for run in [Some(false), None] {
        let mut body = json!({"attributes": {"fresh": "x"}, "audiencesChanges": {"adds": [{"name": "New one"}]}});
        if let Some(run) = run {
            body["runRuleEngine"] = json!(run);
        }
        let r = relay(&fake, "PUT", V2, Some(body)).await;
        assert_eq!(r.status, 200, "{}", r.json);
        assert_eq!(r.json["audiences"], json!([]));
        let notes = fake
            .journal()
            .pop()
            .and_then(|e| e.relay)
            .expect("relay")
            .notes;
        assert!(notes[0].contains("runRuleEngine is false"), "{notes:?}");
    }
    assert_eq!(fake.state_dump().audiences.len(), 1);
    assert!(memberships(&fake, "u1").is_empty());
    assert_eq!(
        fake.profile("u1").expect("stored")["attributes"]["fresh"],
        "x"
    );
}

#[rstest::rstest]
#[case::empty_name(json!({"adds": [{"name": ""}]}), "body.invalid_field", "/audiencesChanges/adds/0/name")]
#[case::missing_name(json!({"adds": [{"name": "ok"}, {"integrationId": "x"}]}), "body.missing_field", "/audiencesChanges/adds/1/name")]
#[case::empty_integration_id(json!({"deletes": [{"name": "a", "integrationId": ""}]}), "body.invalid_field", "/audiencesChanges/deletes/0/integrationId")]
#[case::numeric_ids(json!({"adds": [1]}), "body.invalid_field", "/audiencesChanges/adds/0")]
#[tokio::test]
async fn a_refused_v2_update_creates_no_attribute_and_no_audience(
    #[case] changes: Value,
    #[case] rule: &str,
    #[case] pointer: &str,
) {
    let fake = fake();
    let before = catalog_size(&fake);
    let r = relay(
        &fake,
        "PUT",
        V2,
        Some(
            json!({"runRuleEngine": true, "attributes": {"fresh": 1}, "audiencesChanges": changes}),
        ),
    )
    .await;
    let error = assert_relay_error(&r, 400);
    assert!(error.contains(&format!("(at {pointer})")), "{error}");
    assert_eq!(last_rule(&fake), rule);
    assert_eq!(catalog_size(&fake), before);
    assert_eq!(fake.state_dump().audiences.len(), 1);
    assert_eq!(fake.profile_count(), 0);
}

#[tokio::test]
async fn the_deprecated_endpoints_share_the_relays_auth_path_and_parallel_rules() {
    let fake = fake();
    for path in [V1, V2] {
        let r = send(
            &fake,
            relay_request("PUT", path, Some(IKEY), Some(HOST), Some(json!({}))),
        )
        .await;
        assert_relay_error(&r, 401);
        assert_eq!(last_rule(&fake), "auth.wrong_kind");
        let bad = path.replace("u1", "a%FF");
        let r = relay(
            &fake,
            "PUT",
            &bad,
            Some(json!({"attributes": {"fresh": 1}})),
        )
        .await;
        assert!(assert_relay_error(&r, 400).contains("(parameter customerProfileId)"));
        assert_eq!(last_rule(&fake), "path.invalid");
        let long = path.replace("u1", &"x".repeat(1001));
        let r = relay(
            &fake,
            "PUT",
            &long,
            Some(json!({"attributes": {"fresh": 1}})),
        )
        .await;
        assert_relay_error(&r, 400);
        assert_eq!(last_rule(&fake), "integration_id.invalid");
        let held: Vec<_> = (0..talon_fake::DEFAULT_MAX_IN_FLIGHT_PER_PROFILE)
            .map(|_| fake.hold_profile("u1").expect("a slot"))
            .collect();
        let r = relay(
            &fake,
            "PUT",
            path,
            Some(json!({"attributes": {"fresh": 1}})),
        )
        .await;
        assert_relay_error(&r, 429);
        assert_eq!(last_rule(&fake), "relay.parallel_requests");
        drop(held);
    }
    assert!(
        !fake
            .state_dump()
            .attributes
            .iter()
            .any(|a| a.name == "fresh")
    );
    assert_eq!(fake.profile_count(), 0);
}

#[tokio::test]
async fn what_the_deprecated_endpoints_created_is_dumped_and_reloads_to_the_same_dump() {
    let fake = fake();
    let r = relay(
        &fake,
        "PUT",
        V2,
        Some(json!({
            "runRuleEngine": true,
            "attributes": {"Email": "a@example.com", "tags": ["x"], "born": "2024-01-01T00:00:00Z"},
            "attributesInfo": [{"name": "born", "type": "time"}],
            "audiencesChanges": {"adds": [{"name": "My Travel audience1"}]}
        })),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.json);
    let text = fake.state_dump().to_json_pretty();
    let again = talon_fake::Fake::new(
        talon_fake::StateFile::from_json(&text).expect("parses"),
        talon_fake::FakeConfig::default(),
    )
    .expect("loads");
    assert_eq!(again.state_dump().to_json_pretty(), text);
    let mut streamed = Vec::new();
    fake.write_state(&mut streamed, false).expect("writes");
    assert_eq!(String::from_utf8(streamed).expect("utf-8"), text);
}
