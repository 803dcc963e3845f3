//! `PUT /v2/customer_profiles/{id}` and the batch endpoint: attributes, types, audiences, dry runs, 409.

use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn a_profile_update_creates_the_profile_and_returns_the_empty_integration_state() {
    let fake = fake();
    let r = put_profile(
        &fake,
        "user1",
        "",
        json!({"attributes": {"email": "a@example.com", "logins": 5}}),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json,
        json!({"effects": [], "createdCoupons": [], "createdReferrals": []})
    );
    let p = fake.profile("user1").expect("stored");
    assert_eq!(
        p["attributes"],
        json!({"email": "a@example.com", "logins": 5})
    );
    assert_eq!(last_rule(&fake), "ok.profile_updated");
}

#[tokio::test]
async fn updates_merge_attributes_into_the_existing_profile() {
    let fake = fake();
    put_profile(
        &fake,
        "u",
        "",
        json!({"attributes": {"email": "a@x", "plan": "free"}}),
    )
    .await;
    put_profile(&fake, "u", "", json!({"attributes": {"plan": "pro"}})).await;
    let p = fake.profile("u").expect("stored");
    assert_eq!(p["attributes"], json!({"email": "a@x", "plan": "pro"}));
}

#[tokio::test]
async fn the_customer_profile_is_returned_only_when_asked_with_the_rule_engine_on() {
    let fake = fake();
    let r = put_profile(
        &fake,
        "u1",
        "?runRuleEngine=true",
        json!({"attributes": {"firstName": "Ann"}, "responseContent": ["customerProfile"]}),
    )
    .await;
    assert_eq!(r.status, 200);
    let p = &r.json["customerProfile"];
    assert_eq!(p["integrationId"], "u1");
    assert_eq!(p["attributes"], json!({"firstName": "Ann"}));
    assert_eq!(
        p["created"], "2024-01-01T00:00:00Z",
        "the default clock is deterministic"
    );
}

#[tokio::test]
async fn response_content_without_the_rule_engine_is_rejected() {
    let fake = fake();
    let r = put_profile(
        &fake,
        "u1",
        "",
        json!({"responseContent": ["customerProfile"]}),
    )
    .await;
    assert_eq!(assert_error_shape(&r, 400), vec!["/responseContent"]);
    assert_eq!(
        fake.profile_count(),
        0,
        "a rejected request changes nothing"
    );
}

#[tokio::test]
async fn an_unknown_attribute_is_rejected_with_a_pointer_and_nothing_changes() {
    let fake = fake();
    put_profile(&fake, "u1", "", json!({"attributes": {"email": "old@x"}})).await;
    let r = put_profile(
        &fake,
        "u1",
        "",
        json!({"attributes": {"email": "new@x", "favouriteColour": "red"}}),
    )
    .await;
    assert_eq!(
        assert_error_shape(&r, 400),
        vec!["/attributes/favouriteColour"]
    );
    assert_eq!(
        fake.profile("u1").expect("kept")["attributes"]["email"],
        "old@x"
    );
    assert_eq!(last_rule(&fake), "attribute.unknown");
}

#[tokio::test]
async fn attribute_names_are_case_sensitive() {
    let fake = fake();
    let r = put_profile(&fake, "u1", "", json!({"attributes": {"Email": "a@x"}})).await;
    assert_eq!(assert_error_shape(&r, 400), vec!["/attributes/Email"]);
}

#[tokio::test]
async fn integration_ids_are_case_sensitive() {
    let fake = fake();
    put_profile(&fake, "User1", "", json!({"attributes": {"plan": "a"}})).await;
    put_profile(&fake, "user1", "", json!({"attributes": {"plan": "b"}})).await;
    assert_eq!(fake.profile_count(), 2);
    assert_eq!(
        fake.profile("User1").expect("kept")["attributes"]["plan"],
        "a"
    );
}

#[tokio::test]
async fn attributes_of_another_entity_are_unknown_for_profiles() {
    let fake = fake();
    let created = post(
        &fake,
        "/v1/attributes",
        Some(MKEY),
        json!({"entity": "Event", "name": "sessionOnly", "title": "Session only", "type": "string", "description": "", "suggestions": [], "editable": true}),
    )
    .await;
    assert_eq!(created.status, 201);
    let r = put_profile(&fake, "u1", "", json!({"attributes": {"sessionOnly": "x"}})).await;
    assert_eq!(assert_error_shape(&r, 400), vec!["/attributes/sessionOnly"]);
}

#[rstest::rstest]
#[case::boolean_as_string("first_time_shopper", json!("true"))]
#[case::number_as_string("logins", json!("12"))]
#[case::string_as_number("email", json!(12))]
#[case::null_value("email", json!(null))]
#[case::object_value("plan", json!({"a": 1}))]
#[case::date_without_time("birthday", json!("1990-01-31"))]
#[case::time_as_epoch("createdAt", json!(1_700_000_000))]
#[case::list_as_scalar("interests", json!("golf"))]
#[case::bad_location("lastLocation", json!("somewhere"))]
#[tokio::test]
async fn a_value_of_the_wrong_type_is_rejected_without_coercion(
    #[case] name: &str,
    #[case] value: serde_json::Value,
) {
    let fake = fake();
    let r = put_profile(&fake, "u1", "", json!({"attributes": {name: value}})).await;
    assert_eq!(
        assert_error_shape(&r, 400),
        vec![format!("/attributes/{name}")]
    );
    assert_eq!(last_rule(&fake), "attribute.type");
    assert_eq!(fake.profile_count(), 0);
}

#[tokio::test]
async fn values_of_every_type_are_accepted_when_they_fit() {
    let fake = fake();
    let r = put_profile(
        &fake,
        "u1",
        "",
        json!({"attributes": {
            "email": "a@x", "logins": 3.5, "first_time_shopper": false,
            "birthday": "1990-01-31T00:00:00Z", "createdAt": "2024-02-01T10:00:00.123+02:00",
            "interests": ["golf", "chess"], "lastLocation": "52.52,13.405"
        }}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.json);
}

#[tokio::test]
async fn a_wrong_list_element_is_pointed_at_by_index() {
    let fake = fake();
    let r = put_profile(
        &fake,
        "u1",
        "",
        json!({"attributes": {"interests": ["golf", 3]}}),
    )
    .await;
    assert_eq!(assert_error_shape(&r, 400), vec!["/attributes/interests/1"]);
}

#[tokio::test]
async fn every_bad_attribute_is_reported_in_one_response() {
    let fake = fake();
    let r = put_profile(
        &fake,
        "u1",
        "",
        json!({"attributes": {"nope": 1, "logins": "x"}}),
    )
    .await;
    let mut pointers = assert_error_shape(&r, 400);
    pointers.sort();
    assert_eq!(pointers, vec!["/attributes/logins", "/attributes/nope"]);
}

#[tokio::test]
async fn audience_changes_are_applied_with_the_rule_engine() {
    let fake = fake();
    let r = put_profile(
        &fake,
        "u1",
        "?runRuleEngine=true",
        json!({"audiencesChanges": {"adds": [1], "deletes": []}}),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        fake.profile("u1").expect("stored")["audienceMemberships"],
        json!([{"id": 1, "name": "Segment demo audience"}])
    );
    put_profile(
        &fake,
        "u1",
        "?runRuleEngine=true",
        json!({"audiencesChanges": {"adds": [], "deletes": [1]}}),
    )
    .await;
    assert_eq!(
        fake.profile("u1").expect("stored")["audienceMemberships"],
        json!([])
    );
}

#[tokio::test]
async fn audience_changes_are_not_applied_without_the_rule_engine() {
    let fake = fake();
    let r = put_profile(
        &fake,
        "u1",
        "",
        json!({"audiencesChanges": {"adds": [1], "deletes": []}}),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        fake.profile("u1").expect("stored")["audienceMemberships"],
        json!([])
    );
}

#[rstest::rstest]
#[case::missing_deletes(json!({"adds": [1]}), "/audiencesChanges/deletes")]
#[case::missing_adds(json!({"deletes": [1]}), "/audiencesChanges/adds")]
#[case::empty_object(json!({}), "/audiencesChanges/adds")]
#[case::unknown_audience(json!({"adds": [1, 99], "deletes": []}), "/audiencesChanges/adds/1")]
#[case::string_id(json!({"adds": ["1"], "deletes": []}), "/audiencesChanges/adds/0")]
#[tokio::test]
async fn malformed_or_unknown_audience_changes_are_rejected(
    #[case] changes: serde_json::Value,
    #[case] pointer: &str,
) {
    let fake = fake();
    let r = put_profile(
        &fake,
        "u1",
        "?runRuleEngine=true",
        json!({"audiencesChanges": changes}),
    )
    .await;
    assert_eq!(assert_error_shape(&r, 400), vec![pointer]);
    assert_eq!(fake.profile_count(), 0);
}

#[tokio::test]
async fn a_dry_run_persists_nothing_but_answers_as_if_it_had() {
    let fake = fake();
    let r = put_profile(
        &fake,
        "u1",
        "?runRuleEngine=true&dry=true",
        json!({"attributes": {"plan": "pro"}, "responseContent": ["customerProfile"]}),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json["customerProfile"]["attributes"],
        json!({"plan": "pro"})
    );
    assert_eq!(fake.profile_count(), 0);
    assert_eq!(last_rule(&fake), "ok.profile_dry_run");
}

#[tokio::test]
async fn a_boolean_query_parameter_must_be_true_or_false() {
    let fake = fake();
    let r = put_profile(&fake, "u1", "?runRuleEngine=yes", json!({})).await;
    assert_eq!(assert_error_shape(&r, 400), vec!["runRuleEngine"]);
}

#[tokio::test]
async fn unknown_body_fields_are_rejected() {
    let fake = fake();
    let r = put_profile(
        &fake,
        "u1",
        "",
        json!({"audienceChanges": {"adds": [], "deletes": []}}),
    )
    .await;
    assert_eq!(assert_error_shape(&r, 400), vec!["/audienceChanges"]);
}

#[tokio::test]
async fn the_fourth_concurrent_update_of_one_profile_gets_409() {
    let fake = fake();
    let held: Vec<_> = (0..3)
        .map(|_| fake.hold_profile("busy").expect("slot"))
        .collect();
    let r = put_profile(&fake, "busy", "", json!({"attributes": {"plan": "x"}})).await;
    assert_eq!(assert_error_shape(&r, 409), vec!["integrationId"]);
    assert_eq!(
        r.json["message"],
        "Too many requests are updating this profile at the same time"
    );
    assert_eq!(fake.profile_count(), 0);
    let other = put_profile(&fake, "other", "", json!({})).await;
    assert_eq!(other.status, 200, "other profiles are not affected");
    drop(held);
    let again = put_profile(&fake, "busy", "", json!({"attributes": {"plan": "x"}})).await;
    assert_eq!(again.status, 200, "slots are released");
}

#[tokio::test]
async fn two_queued_updates_of_one_profile_are_still_accepted() {
    let fake = fake();
    let _held: Vec<_> = (0..2)
        .map(|_| fake.hold_profile("busy").expect("slot"))
        .collect();
    let r = put_profile(&fake, "busy", "", json!({})).await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn a_batch_update_returns_204_by_default_and_stores_every_profile() {
    let fake = fake();
    let r = put(
        &fake,
        "/v2/customer_profiles",
        Some(IKEY),
        json!({"customerProfiles": [{"integrationId": "a", "attributes": {"plan": "x"}}, {"integrationId": "b"}]}),
    )
    .await;
    assert_eq!(r.status, 204);
    assert_eq!(fake.profile_count(), 2);
}

#[tokio::test]
async fn a_batch_update_with_silent_no_returns_the_integration_states() {
    let fake = fake();
    let r = put(
        &fake,
        "/v2/customer_profiles?silent=no",
        Some(IKEY),
        json!({"customerProfiles": [{"integrationId": "a", "attributes": {"plan": "x"}}]}),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json["integrationStates"][0]["customerProfile"]["attributes"],
        json!({"plan": "x"})
    );
}

#[tokio::test]
async fn a_batch_with_one_bad_profile_changes_nothing() {
    let fake = fake();
    let r = put(
        &fake,
        "/v2/customer_profiles",
        Some(IKEY),
        json!({"customerProfiles": [{"integrationId": "a", "attributes": {"plan": "x"}}, {"integrationId": "b", "attributes": {"Plan": "x"}}]}),
    )
    .await;
    assert_eq!(
        assert_error_shape(&r, 400),
        vec!["/customerProfiles/1/attributes/Plan"]
    );
    assert_eq!(fake.profile_count(), 0);
}

#[tokio::test]
async fn a_batch_of_more_than_1000_profiles_is_rejected() {
    let fake = fake();
    let items: Vec<_> = (0..1001)
        .map(|i| json!({"integrationId": format!("u{i}")}))
        .collect();
    let r = put(
        &fake,
        "/v2/customer_profiles",
        Some(IKEY),
        json!({"customerProfiles": items}),
    )
    .await;
    assert_eq!(assert_error_shape(&r, 400), vec!["/customerProfiles"]);
    let items: Vec<_> = (0..1000)
        .map(|i| json!({"integrationId": format!("u{i}")}))
        .collect();
    let r = put(
        &fake,
        "/v2/customer_profiles",
        Some(IKEY),
        json!({"customerProfiles": items}),
    )
    .await;
    assert_eq!(r.status, 204);
}

#[tokio::test]
async fn a_batch_needs_an_integration_id_per_profile_and_a_valid_silent_value() {
    let fake = fake();
    let r = put(
        &fake,
        "/v2/customer_profiles",
        Some(IKEY),
        json!({"customerProfiles": [{"attributes": {}}]}),
    )
    .await;
    assert_eq!(
        assert_error_shape(&r, 400),
        vec!["/customerProfiles/0/integrationId"]
    );
    let r = put(
        &fake,
        "/v2/customer_profiles?silent=maybe",
        Some(IKEY),
        json!({}),
    )
    .await;
    assert_eq!(assert_error_shape(&r, 400), vec!["silent"]);
}
