//! The relay's audiences: created, renamed and deleted by their Segment id, and the memberships
//! of many profiles by Talon.One's numeric ids.

use serde_json::{Value, json};

use crate::relay::*;
use crate::support::*;

fn audiences(fake: &talon_fake::Fake) -> Vec<talon_fake::Audience> {
    fake.state_dump().audiences
}

fn memberships(fake: &talon_fake::Fake, id: &str) -> Value {
    let p = fake.profile(id).expect("profile");
    Value::Array(
        p["audienceMemberships"]
            .as_array()
            .expect("memberships")
            .iter()
            .map(|m| m["id"].clone())
            .collect(),
    )
}

#[tokio::test]
async fn creating_an_audience_answers_201_with_the_segment_audience() {
    let fake = fake();
    let r = relay(
        &fake,
        "POST",
        "/segment/audiences",
        Some(json!({"audienceId": "382370BKDB946", "audienceName": "Travel audience"})),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert_eq!(
        r.json,
        json!({"accountId": 1, "created": "2024-01-01T00:00:00Z", "id": 2, "name": "Travel audience", "integration": "Segment", "integrationId": "382370BKDB946"})
    );
    assert_eq!(last_rule(&fake), "ok.relay_audience_created");
    // The deployment's own audience, as the Management API lists it.
    let r = get(&fake, "/v1/audiences", Some(MKEY)).await;
    let listed = r.json["data"].as_array().expect("data");
    assert!(
        listed.iter().any(|a| a["id"] == 2
            && a["integration"] == "Segment"
            && a["integrationId"] == "382370BKDB946"),
        "{}",
        r.json
    );
}

#[tokio::test]
async fn an_existing_segment_audience_id_gets_the_documented_409_and_nothing_new() {
    let fake = fake();
    let body = json!({"audienceId": "382370BKDB946", "audienceName": "Travel audience"});
    assert_eq!(
        relay(&fake, "POST", "/segment/audiences", Some(body.clone()))
            .await
            .status,
        201
    );
    let r = relay(&fake, "POST", "/segment/audiences", Some(body)).await;
    assert_eq!(
        assert_relay_error(&r, 409),
        "The audience with the ID '382370BKDB946' already exists"
    );
    assert_eq!(last_rule(&fake), "audience.duplicate_integration_id");
    // The default state's audience is of integration `segment`: the same platform.
    let r = relay(
        &fake,
        "POST",
        "/segment/audiences",
        Some(json!({"audienceId": "aud_demo", "audienceName": "Again"})),
    )
    .await;
    assert_eq!(
        assert_relay_error(&r, 409),
        "The audience with the ID 'aud_demo' already exists"
    );
    assert_eq!(audiences(&fake).len(), 2);
    // Another integration's id, or the same id in another case, is another audience.
    let r = post(
        &fake,
        "/v2/audiences",
        Some(IKEY),
        json!({"name": "mp", "integration": "mParticle", "integrationId": "shared"}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.json);
    for id in ["shared", "AUD_DEMO"] {
        let r = relay(
            &fake,
            "POST",
            "/segment/audiences",
            Some(json!({"audienceId": id, "audienceName": "Segment's"})),
        )
        .await;
        assert_eq!(r.status, 201, "{id}: {}", r.json);
    }
}

#[tokio::test]
async fn invalid_new_audiences_are_refused_and_nothing_is_created() {
    let fake = fake();
    let long = "x".repeat(1001);
    for (body, rule, pointer) in [
        (
            json!({"audienceId": "a"}),
            "body.missing_field",
            "/audienceName",
        ),
        (
            json!({"audienceName": "a"}),
            "body.missing_field",
            "/audienceId",
        ),
        (
            json!({"audienceId": "", "audienceName": "a"}),
            "body.invalid_field",
            "/audienceId",
        ),
        (
            json!({"audienceId": "a", "audienceName": ""}),
            "body.invalid_field",
            "/audienceName",
        ),
        (
            json!({"audienceId": long, "audienceName": "a"}),
            "body.invalid_field",
            "/audienceId",
        ),
        (
            json!({"audienceId": 7, "audienceName": "a"}),
            "body.invalid_field",
            "/audienceId",
        ),
        (
            json!({"audienceId": "a", "audienceName": "a", "name": "a"}),
            "body.unknown_field",
            "/name",
        ),
    ] {
        let r = relay(&fake, "POST", "/segment/audiences", Some(body.clone())).await;
        let error = assert_relay_error(&r, 400);
        assert!(
            error.contains(&format!("(at {pointer})")),
            "{body}: {error}"
        );
        assert_eq!(last_rule(&fake), rule, "{body}");
    }
    let name1000 = "n".repeat(1000);
    let r = relay(
        &fake,
        "POST",
        "/segment/audiences",
        Some(json!({"audienceId": "x".repeat(1000), "audienceName": name1000})),
    )
    .await;
    assert_eq!(r.status, 201, "1000 characters are allowed");
    assert_eq!(audiences(&fake).len(), 2);
}

#[tokio::test]
async fn renaming_by_the_segment_id_answers_200_and_an_unknown_id_404() {
    let fake = fake();
    // Segment sends only the name.
    let r = relay(
        &fake,
        "PUT",
        "/segment/audiences/aud_demo",
        Some(json!({"audienceName": "Renamed"})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(
        r.json,
        json!({"accountId": 1, "created": "2024-01-01T00:00:00Z", "id": 1, "name": "Renamed", "integration": "segment", "integrationId": "aud_demo"})
    );
    assert_eq!(last_rule(&fake), "ok.relay_audience_updated");
    assert_eq!(audiences(&fake)[0].name, "Renamed");
    // The schema's form, with the id repeated, is accepted too; a different id is not.
    let r = relay(
        &fake,
        "PUT",
        "/segment/audiences/aud_demo",
        Some(json!({"audienceId": "aud_demo", "audienceName": "Twice"})),
    )
    .await;
    assert_eq!(r.status, 200);
    let r = relay(
        &fake,
        "PUT",
        "/segment/audiences/aud_demo",
        Some(json!({"audienceId": "other", "audienceName": "Thrice"})),
    )
    .await;
    assert!(assert_relay_error(&r, 400).contains("(at /audienceId)"));
    assert_eq!(last_rule(&fake), "body.invalid_field");
    let r = relay(
        &fake,
        "PUT",
        "/segment/audiences/aud_demo",
        Some(json!({"audienceName": ""})),
    )
    .await;
    assert!(assert_relay_error(&r, 400).contains("(at /audienceName)"));
    assert_eq!(audiences(&fake)[0].name, "Twice");
    // By the Segment id, exactly: not Talon.One's numeric id, not another case.
    for path in ["/segment/audiences/1", "/segment/audiences/AUD_DEMO"] {
        let r = relay(&fake, "PUT", path, Some(json!({"audienceName": "x"}))).await;
        assert_eq!(assert_relay_error(&r, 404), "Not Found", "{path}");
        assert_eq!(last_rule(&fake), "audience.not_found");
        let notes = fake
            .journal()
            .pop()
            .and_then(|e| e.relay)
            .expect("relay")
            .notes;
        assert!(notes[0].contains("integrationId"), "{notes:?}");
    }
    assert_eq!(audiences(&fake)[0].name, "Twice");
}

#[tokio::test]
async fn audience_path_ids_are_strictly_percent_decoded() {
    let fake = fake();
    let r = relay(
        &fake,
        "POST",
        "/segment/audiences",
        Some(json!({"audienceId": "a b/c", "audienceName": "spaced"})),
    )
    .await;
    assert_eq!(r.status, 201);
    let r = relay(
        &fake,
        "PUT",
        "/segment/audiences/a%20b%2Fc",
        Some(json!({"audienceName": "found"})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["integrationId"], "a b/c");
    for path in ["/segment/audiences/a%FF", "/segment/audiences/a%G1"] {
        let r = relay(&fake, "DELETE", path, None).await;
        assert!(
            assert_relay_error(&r, 400).contains("(parameter audienceId)"),
            "{path}"
        );
        assert_eq!(last_rule(&fake), "path.invalid");
    }
    assert_eq!(audiences(&fake).len(), 2);
}

#[tokio::test]
async fn deleting_an_audience_removes_it_and_every_membership_of_it() {
    let fake = fake();
    let r = relay(
        &fake,
        "POST",
        "/segment/audiences",
        Some(json!({"audienceId": "seg-1", "audienceName": "Travel"})),
    )
    .await;
    let id = r.json["id"].clone();
    assert_eq!(id, 2);
    let r = relay(
        &fake,
        "PUT",
        "/segment/customer_profiles/audiences",
        Some(json!({"data": [
            {"customerProfileId": "u1", "adds": [1, 2]},
            {"customerProfileId": "u2", "adds": [2]}
        ]})),
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.json);
    assert_eq!(memberships(&fake, "u1"), json!([1, 2]));
    // DELETE has no body and no content type, as Segment sends it.
    let r = relay(&fake, "DELETE", "/segment/audiences/seg-1", None).await;
    assert_eq!(r.status, 204, "{}", r.json);
    assert!(r.raw.is_empty());
    assert_eq!(last_rule(&fake), "ok.relay_audience_deleted");
    assert_eq!(memberships(&fake, "u1"), json!([1]));
    assert_eq!(memberships(&fake, "u2"), json!([]));
    assert!(audiences(&fake).iter().all(|a| a.id != 2));
    let r = relay(&fake, "DELETE", "/segment/audiences/seg-1", None).await;
    assert_eq!(assert_relay_error(&r, 404), "Not Found");
    assert_eq!(last_rule(&fake), "audience.not_found");
}

#[tokio::test]
async fn memberships_of_many_profiles_are_changed_and_missing_profiles_created() {
    let fake = fake();
    let r = relay(
        &fake,
        "PUT",
        "/segment/customer_profiles/audiences",
        Some(json!({"data": [
            {"customerProfileId": "u1", "adds": [1], "deletes": []},
            {"customerProfileId": "u2", "deletes": [1]},
            {"customerProfileId": "u3"}
        ]})),
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.json);
    assert!(r.raw.is_empty());
    assert_eq!(last_rule(&fake), "ok.relay_customer_audiences_updated");
    assert_eq!(memberships(&fake, "u1"), json!([1]));
    assert_eq!(memberships(&fake, "u2"), json!([]));
    assert_eq!(memberships(&fake, "u3"), json!([]));
    let r = relay(
        &fake,
        "PUT",
        "/segment/customer_profiles/audiences",
        Some(json!({"data": [{"customerProfileId": "u1", "deletes": [1]}]})),
    )
    .await;
    assert_eq!(r.status, 204);
    assert_eq!(memberships(&fake, "u1"), json!([]));
}

#[tokio::test]
async fn a_bad_membership_item_refuses_every_item() {
    let fake = fake();
    let long = "x".repeat(1001);
    for (data, rule, pointer) in [
        (
            json!([{"customerProfileId": "u1", "adds": [1]}, {"customerProfileId": "u2", "deletes": [99]}]),
            "audience.unknown",
            "/data/1/deletes/0",
        ),
        (
            json!([{"customerProfileId": "u1", "adds": [1]}, {"customerProfileId": "u2", "adds": [1, 0]}]),
            "body.invalid_field",
            "/data/1/adds/1",
        ),
        (
            json!([{"customerProfileId": "u1", "adds": [-1]}]),
            "body.invalid_field",
            "/data/0/adds/0",
        ),
        (
            json!([{"customerProfileId": "u1", "adds": [1]}, {"customerProfileId": long, "adds": [1]}]),
            "integration_id.invalid",
            "/data/1/customerProfileId",
        ),
        (
            json!([{"customerProfileId": "", "adds": [1]}]),
            "integration_id.invalid",
            "/data/0/customerProfileId",
        ),
        (
            json!([{"customerProfileId": "u1", "adds": [1]}, {"adds": [1]}]),
            "body.missing_field",
            "/data/1/customerProfileId",
        ),
        (
            json!([{"customerProfileId": "u1", "add": [1]}]),
            "body.unknown_field",
            "/data/0/add",
        ),
        (
            json!([{"customerProfileId": "u1", "adds": ["1"]}]),
            "body.invalid_field",
            "/data/0/adds/0",
        ),
    ] {
        let r = relay(
            &fake,
            "PUT",
            "/segment/customer_profiles/audiences",
            Some(json!({ "data": data })),
        )
        .await;
        let error = assert_relay_error(&r, 400);
        assert!(
            error.contains(&format!("(at {pointer})")),
            "{data}: {error}"
        );
        assert_eq!(last_rule(&fake), rule, "{data}");
    }
    assert_eq!(fake.profile_count(), 0, "all or nothing");
}

#[tokio::test]
async fn at_most_1000_adds_and_deletes_in_all() {
    let fake = fake();
    let ones = |n: usize| vec![1; n];
    let r = relay(
        &fake,
        "PUT",
        "/segment/customer_profiles/audiences",
        Some(json!({"data": [
            {"customerProfileId": "u1", "adds": ones(500), "deletes": ones(300)},
            {"customerProfileId": "u2", "adds": ones(201)}
        ]})),
    )
    .await;
    assert!(assert_relay_error(&r, 400).contains("(at /data)"));
    assert_eq!(last_rule(&fake), "batch.too_many_audience_actions");
    assert_eq!(fake.profile_count(), 0);
    let r = relay(
        &fake,
        "PUT",
        "/segment/customer_profiles/audiences",
        Some(json!({"data": [
            {"customerProfileId": "u1", "adds": ones(500), "deletes": ones(300)},
            {"customerProfileId": "u2", "adds": ones(200)}
        ]})),
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.json);
    assert_eq!(memberships(&fake, "u2"), json!([1]));
}

#[tokio::test]
async fn the_audience_endpoints_need_the_segment_key_and_a_deployment() {
    let fake = fake();
    for (method, path, body) in [
        (
            "POST",
            "/segment/audiences",
            Some(json!({"audienceId": "a", "audienceName": "a"})),
        ),
        (
            "PUT",
            "/segment/audiences/aud_demo",
            Some(json!({"audienceName": "a"})),
        ),
        ("DELETE", "/segment/audiences/aud_demo", None),
        (
            "PUT",
            "/segment/customer_profiles/audiences",
            Some(json!({"data": [{"customerProfileId": "u1", "adds": [1]}]})),
        ),
    ] {
        let r = send(
            &fake,
            relay_request(method, path, Some(IKEY), Some(HOST), body.clone()),
        )
        .await;
        assert_relay_error(&r, 401);
        assert_eq!(last_rule(&fake), "auth.wrong_kind", "{method} {path}");
        let r = send(&fake, relay_request(method, path, Some(SKEY), None, body)).await;
        assert_eq!(assert_relay_error(&r, 400), "No Deployment URL specified");
    }
    assert_eq!(audiences(&fake).len(), 1);
    assert_eq!(audiences(&fake)[0].name, "Segment demo audience");
    assert_eq!(fake.profile_count(), 0);
}

#[tokio::test]
async fn audiences_and_created_attributes_land_in_the_deployment_the_request_names() {
    let fake = two_deployments();
    let r = send(
        &fake,
        relay_request(
            "POST",
            "/segment/audiences",
            Some(STAGING_KEY),
            Some(STAGING),
            Some(json!({"audienceId": "aud_demo", "audienceName": "Staging's"})),
        ),
    )
    .await;
    assert_eq!(
        r.status, 201,
        "production's aud_demo is another deployment's: {}",
        r.json
    );
    assert_eq!(r.json["accountId"], 2);
    assert_eq!(r.json["id"], 1);
    let r = send(
        &fake,
        relay_request(
            "PUT",
            "/segment/customer_profile/u1",
            Some(STAGING_KEY),
            Some(STAGING),
            Some(json!({"attributes": {"fresh": "x"}})),
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.json);
    let dump = fake.state_dump();
    assert_eq!(dump.audiences.len(), 1, "production unchanged");
    assert_eq!(dump.audiences[0].name, "Segment demo audience");
    assert!(!dump.attributes.iter().any(|a| a.name == "fresh"));
    let staging = &dump.deployments[0];
    assert_eq!(staging.audiences.len(), 1);
    assert_eq!(
        staging.audiences[0].integration_id.as_deref(),
        Some("aud_demo")
    );
    assert!(
        staging
            .attributes
            .iter()
            .any(|a| a.name == "fresh" && a.account_id == 2)
    );
    assert_eq!(staging.profiles[0].integration_id, "u1");
    assert!(fake.profile("u1").is_none());
}
