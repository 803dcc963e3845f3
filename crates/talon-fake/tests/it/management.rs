//! The Management API: attributes, audiences and the Customers tab.

use serde_json::{Value, json};

use crate::support::*;

fn new_attr(name: &str, ty: &str) -> Value {
    json!({"entity": "CustomerProfile", "name": name, "title": name, "type": ty, "description": "d", "suggestions": [], "editable": true})
}

async fn post_attr(fake: &talon_fake::Fake, body: Value) -> Resp {
    call(fake, "POST", "/v1/attributes", Some(MKEY), Some(body)).await
}

#[tokio::test]
async fn a_created_attribute_can_be_used_in_profile_updates_at_once() {
    let fake = fake();
    let r = post_attr(&fake, new_attr("loyaltyTier", "string")).await;
    assert_eq!(r.status, 201);
    assert_eq!(r.json["name"], "loyaltyTier");
    assert_eq!(r.json["entity"], "CustomerProfile");
    let r = put_profile(
        &fake,
        "u1",
        "",
        json!({"attributes": {"loyaltyTier": "gold"}}),
    )
    .await;
    assert_eq!(r.status, 200);
}

#[rstest::rstest]
#[case::name_with_dash(json!({"name": "first-name"}), "/name")]
#[case::name_with_leading_digit(json!({"name": "1x"}), "/name")]
#[case::name_with_leading_underscore(json!({"name": "_x"}), "/name")]
#[case::bad_type(json!({"type": "integer"}), "/type")]
#[case::bad_entity(json!({"entity": "Customer"}), "/entity")]
#[case::bad_title(json!({"title": "#x"}), "/title")]
#[case::empty_suggestion(json!({"suggestions": [""]}), "/suggestions/0")]
#[case::unknown_field(json!({"colour": "red"}), "/colour")]
#[tokio::test]
async fn invalid_attributes_are_rejected(#[case] patch: Value, #[case] pointer: &str) {
    let fake = fake();
    let mut body = new_attr("okName", "string");
    for (k, v) in patch.as_object().expect("object") {
        body[k] = v.clone();
    }
    let r = post_attr(&fake, body).await;
    assert_eq!(assert_error_shape(&r, 400), vec![pointer]);
}

#[tokio::test]
async fn required_attribute_fields_are_enforced() {
    let fake = fake();
    for field in [
        "entity",
        "name",
        "title",
        "type",
        "description",
        "suggestions",
        "editable",
    ] {
        let mut body = new_attr("okName", "string");
        body.as_object_mut().expect("object").remove(field);
        let r = post_attr(&fake, body).await;
        assert_eq!(assert_error_shape(&r, 400), vec![format!("/{field}")]);
    }
}

#[tokio::test]
async fn list_types_are_valid_attribute_types() {
    let fake = fake();
    for (i, ty) in [
        "(list string)",
        "(list number)",
        "(list time)",
        "(list location)",
        "location",
    ]
    .iter()
    .enumerate()
    {
        let r = post_attr(&fake, new_attr(&format!("l{i}"), ty)).await;
        assert_eq!(r.status, 201, "{ty}: {}", r.json);
    }
}

#[tokio::test]
async fn attribute_names_are_unique_per_entity_but_case_sensitive() {
    let fake = fake();
    let r = post_attr(&fake, new_attr("email", "string")).await;
    assert_eq!(assert_error_shape(&r, 409), vec!["/name"]);
    let r = post_attr(&fake, new_attr("EMAIL", "string")).await;
    assert_eq!(r.status, 201);
}

#[tokio::test]
async fn attributes_are_listed_with_paging_and_entity_filter() {
    let fake = fake();
    let r = get(&fake, "/v1/attributes?pageSize=2&skip=1", Some(MKEY)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json["data"].as_array().map(Vec::len), Some(2));
    assert_eq!(r.json["data"][0]["id"], 2);
    assert!(r.json["totalResultSize"].as_u64().unwrap_or(0) > 20);
    let r = get(&fake, "/v1/attributes?entity=Event", Some(MKEY)).await;
    assert_eq!(r.json["totalResultSize"], 0);
    let r = get(&fake, "/v1/attributes?pageSize=0", Some(MKEY)).await;
    assert_eq!(assert_error_shape(&r, 400), vec!["pageSize"]);
    let r = get(&fake, "/v1/attributes?entity=Nope", Some(MKEY)).await;
    assert_eq!(assert_error_shape(&r, 400), vec!["entity"]);
}

#[tokio::test]
async fn an_attribute_is_read_and_only_its_description_like_fields_change() {
    let fake = fake();
    let r = get(&fake, "/v1/attributes/1", Some(MKEY)).await;
    assert_eq!(r.json["name"], "email");
    let mut body = r.json.clone();
    let obj = body.as_object_mut().expect("object");
    for k in ["id", "created", "accountId"] {
        obj.remove(k);
    }
    body["description"] = json!("changed");
    let r = put(&fake, "/v1/attributes/1", Some(MKEY), body.clone()).await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["description"], "changed");
    body["type"] = json!("number");
    let r = put(&fake, "/v1/attributes/1", Some(MKEY), body).await;
    assert_eq!(assert_error_shape(&r, 400), vec!["/type"]);
    let r = get(&fake, "/v1/attributes/999", Some(MKEY)).await;
    assert_error_shape(&r, 404);
}

#[tokio::test]
async fn audiences_are_listed() {
    let fake = fake();
    let r = get(&fake, "/v1/audiences?withTotalResultSize=true", Some(MKEY)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json["totalResultSize"], 1);
    assert_eq!(r.json["data"][0]["integrationId"], "aud_demo");
}

#[tokio::test]
async fn the_customers_tab_shows_profiles_updated_by_the_application() {
    let fake = fake();
    put_profile(&fake, "User1", "", json!({"attributes": {"plan": "a"}})).await;
    // Created by an audience action only: not attached to any application.
    post(
        &fake,
        "/v2/customer_audiences",
        Some(IKEY),
        json!({"data": [{"action": "add", "profileIntegrationId": "ghost", "audienceId": 1}]}),
    )
    .await;
    let r = get(
        &fake,
        "/v1/applications/1/customers?withTotalResultSize=true",
        Some(MKEY),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json["totalResultSize"], 1);
    assert_eq!(r.json["data"][0]["integrationId"], "User1");
    let r = get(
        &fake,
        "/v1/applications/1/customers?integrationId=user1",
        Some(MKEY),
    )
    .await;
    assert_eq!(
        r.json["data"],
        json!([]),
        "the integrationId filter is an exact, case-sensitive match"
    );
    let r = get(
        &fake,
        "/v1/applications/1/customers?integrationId=User1",
        Some(MKEY),
    )
    .await;
    let id = r.json["data"][0]["id"].as_i64().expect("id");
    let r = get(
        &fake,
        &format!("/v1/applications/1/customers/{id}"),
        Some(MKEY),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json["attributes"], json!({"plan": "a"}));
    let r = get(&fake, "/v1/applications/2/customers", Some(MKEY)).await;
    assert_error_shape(&r, 404);
    let r = get(&fake, "/v1/applications/1/customers/999", Some(MKEY)).await;
    assert_error_shape(&r, 404);
}
