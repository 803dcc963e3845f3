//! Audiences: creation, update, deletion, memberships and member attributes.

use serde_json::{Value, json};

use crate::support::*;

async fn create(fake: &talon_fake::Fake, body: Value) -> Resp {
    call(fake, "POST", "/v2/audiences", Some(IKEY), Some(body)).await
}

#[tokio::test]
async fn creating_an_audience_answers_201_with_the_audience() {
    let fake = fake();
    let r = create(
        &fake,
        json!({"name": "Travel", "integration": "segment", "integrationId": "aud_1"}),
    )
    .await;
    assert_eq!(r.status, 201);
    assert_eq!(r.json["id"], 2);
    assert_eq!(r.json["name"], "Travel");
    assert_eq!(r.json["accountId"], 1);
    assert!(r.json["created"].is_string());
}

#[tokio::test]
async fn an_existing_integration_id_in_the_same_integration_gets_409() {
    let fake = fake();
    let r = create(
        &fake,
        json!({"name": "Again", "integration": "segment", "integrationId": "aud_demo"}),
    )
    .await;
    assert_eq!(assert_error_shape(&r, 409), vec!["/integrationId"]);
    let r = create(
        &fake,
        json!({"name": "Other platform", "integration": "mparticle", "integrationId": "aud_demo"}),
    )
    .await;
    assert_eq!(r.status, 201);
}

#[rstest::rstest]
#[case::no_name(json!({}), "/name")]
#[case::empty_name(json!({"name": ""}), "/name")]
#[case::empty_integration_id(json!({"name": "a", "integrationId": ""}), "/integrationId")]
#[case::unknown_field(json!({"name": "a", "colour": "red"}), "/colour")]
#[case::bad_last_update(json!({"name": "a", "lastUpdate": "yesterday"}), "/lastUpdate")]
#[tokio::test]
async fn invalid_new_audiences_are_rejected(#[case] body: Value, #[case] pointer: &str) {
    let fake = fake();
    let r = create(&fake, body).await;
    assert_eq!(assert_error_shape(&r, 400), vec![pointer]);
}

#[tokio::test]
async fn renaming_an_audience_answers_200_and_unknown_ids_404() {
    let fake = fake();
    let r = put(
        &fake,
        "/v2/audiences/1",
        Some(IKEY),
        json!({"name": "Renamed"}),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json["name"], "Renamed");
    let r = put(&fake, "/v2/audiences/77", Some(IKEY), json!({"name": "x"})).await;
    assert_eq!(assert_error_shape(&r, 404), vec!["audienceId"]);
    let r = put(&fake, "/v2/audiences/abc", Some(IKEY), json!({"name": "x"})).await;
    assert_error_shape(&r, 400);
}

async fn member(fake: &talon_fake::Fake, id: &str) {
    let r = call(
        fake,
        "POST",
        "/v2/customer_audiences",
        Some(IKEY),
        Some(json!({"data": [{"action": "add", "profileIntegrationId": id, "audienceId": 1}]})),
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.json);
}

#[tokio::test]
async fn customer_audience_actions_add_and_delete_members() {
    let fake = fake();
    member(&fake, "u1").await;
    assert_eq!(
        fake.profile("u1").expect("created")["audienceMemberships"][0]["id"],
        1
    );
    let r = post(
        &fake,
        "/v2/customer_audiences",
        Some(IKEY),
        json!({"data": [{"action": "delete", "profileIntegrationId": "u1", "audienceId": 1}]}),
    )
    .await;
    assert_eq!(r.status, 204);
    assert_eq!(
        fake.profile("u1").expect("kept")["audienceMemberships"],
        json!([])
    );
}

#[tokio::test]
async fn customer_audience_actions_are_limited_to_1000_and_checked() {
    let fake = fake();
    let many: Vec<_> = (0..1001)
        .map(|i| json!({"action": "add", "profileIntegrationId": format!("u{i}"), "audienceId": 1}))
        .collect();
    let r = post(
        &fake,
        "/v2/customer_audiences",
        Some(IKEY),
        json!({"data": many}),
    )
    .await;
    assert_eq!(assert_error_shape(&r, 400), vec!["/data"]);
    let r = post(
        &fake,
        "/v2/customer_audiences",
        Some(IKEY),
        json!({"data": [{"action": "add", "profileIntegrationId": "a", "audienceId": 1}, {"action": "remove", "profileIntegrationId": "u1", "audienceId": 1}]}),
    )
    .await;
    assert_eq!(assert_error_shape(&r, 400), vec!["/data/1/action"]);
    let r = post(
        &fake,
        "/v2/customer_audiences",
        Some(IKEY),
        json!({"data": [{"action": "add", "profileIntegrationId": "a", "audienceId": 1}, {"action": "add", "profileIntegrationId": "u1", "audienceId": 9}]}),
    )
    .await;
    assert_eq!(assert_error_shape(&r, 404), vec!["/data/1/audienceId"]);
    assert_eq!(fake.profile_count(), 0, "all or nothing");
}

#[tokio::test]
async fn deleting_an_audience_removes_it_and_every_membership() {
    let fake = fake();
    member(&fake, "u1").await;
    let r = delete(&fake, "/v2/audiences/1", Some(IKEY)).await;
    assert_eq!(r.status, 204);
    assert_eq!(
        fake.profile("u1").expect("kept")["audienceMemberships"],
        json!([])
    );
    let r = delete(&fake, "/v2/audiences/1", Some(IKEY)).await;
    assert_error_shape(&r, 404);
}

#[tokio::test]
async fn deleting_memberships_empties_the_audience_but_keeps_it() {
    let fake = fake();
    member(&fake, "u1").await;
    let r = delete(&fake, "/v2/audiences/1/memberships", Some(IKEY)).await;
    assert_eq!(r.status, 204);
    assert_eq!(
        fake.profile("u1").expect("kept")["audienceMemberships"],
        json!([])
    );
    assert_eq!(fake.state_dump().audiences.len(), 1);
    let r = delete(&fake, "/v2/audiences/5/memberships", Some(IKEY)).await;
    assert_error_shape(&r, 404);
}

#[tokio::test]
async fn audience_customer_attributes_are_set_on_every_member_only() {
    let fake = fake();
    member(&fake, "u1").await;
    put_profile(&fake, "u2", "", json!({"attributes": {"plan": "free"}})).await;
    let r = put(
        &fake,
        "/v2/audience_customers/1/attributes",
        Some(IKEY),
        json!({"plan": "vip"}),
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.json);
    assert_eq!(
        fake.profile("u1").expect("member")["attributes"]["plan"],
        "vip"
    );
    assert_eq!(
        fake.profile("u2").expect("other")["attributes"]["plan"],
        "free"
    );
    let r = put(
        &fake,
        "/v2/audience_customers/1/attributes",
        Some(IKEY),
        json!({"Plan": "vip"}),
    )
    .await;
    assert_eq!(assert_error_shape(&r, 400), vec!["/Plan"]);
    let r = put(
        &fake,
        "/v2/audience_customers/3/attributes",
        Some(IKEY),
        json!({"plan": "vip"}),
    )
    .await;
    assert_error_shape(&r, 404);
}

#[tokio::test]
async fn subscribed_application_ids_must_be_unique_and_known_on_create_and_update() {
    let fake = fake();
    let before = fake.state_dump();
    for (subs, pointer, rule) in [
        (
            json!([1, 1]),
            "/subscribedApplicationsIds/1",
            "audience.duplicate_application",
        ),
        (
            json!([99]),
            "/subscribedApplicationsIds/0",
            "audience.unknown_application",
        ),
        (
            json!([1, 99]),
            "/subscribedApplicationsIds/1",
            "audience.unknown_application",
        ),
    ] {
        let r = create(
            &fake,
            json!({"name": "Travel", "subscribedApplicationsIds": subs}),
        )
        .await;
        assert_eq!(assert_error_shape(&r, 400), vec![pointer], "{subs}");
        assert_eq!(last_rule(&fake), rule);
        let r = put(
            &fake,
            "/v2/audiences/1",
            Some(IKEY),
            json!({"name": "Renamed", "subscribedApplicationsIds": subs}),
        )
        .await;
        assert_eq!(assert_error_shape(&r, 400), vec![pointer], "{subs}");
        assert_eq!(last_rule(&fake), rule);
    }
    assert_eq!(fake.state_dump(), before, "nothing was stored");
    let r = create(
        &fake,
        json!({"name": "Travel", "subscribedApplicationsIds": [1]}),
    )
    .await;
    assert_eq!(r.status, 201);
    assert_eq!(r.json["subscribedApplicationsIds"], json!([1]));
    // An unknown audience is still 404, whatever its body says.
    let r = put(
        &fake,
        "/v2/audiences/77",
        Some(IKEY),
        json!({"name": "x", "subscribedApplicationsIds": [1, 1]}),
    )
    .await;
    assert_eq!(assert_error_shape(&r, 404), vec!["audienceId"]);
}
