//! A sample of the fake's responses, validated against the OpenAPI schema subset in `fixtures/talon/schemas/`.
//!
//! The validator is deliberately minimal (see the fixtures' README for its keywords); it
//! reports every violation with a JSON pointer.

use serde_json::{Value, json};

use crate::support::*;

fn schema_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/talon/schemas")
}

fn load(name: &str) -> Value {
    let text = std::fs::read_to_string(schema_dir().join(name)).expect("schema file");
    serde_json::from_str(&text).expect("schema json")
}

fn check(schema: &Value, v: &Value, at: &str, out: &mut Vec<String>) {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        return check(&load(r), v, at, out);
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        for s in all {
            check(s, v, at, out);
        }
    }
    if let Some(t) = schema.get("type").and_then(Value::as_str) {
        let ok = match t {
            "object" => v.is_object(),
            "array" => v.is_array(),
            "string" => v.is_string(),
            "integer" => v.is_i64() || v.is_u64(),
            "number" => v.is_number(),
            "boolean" => v.is_boolean(),
            "null" => v.is_null(),
            _ => false,
        };
        if !ok {
            out.push(format!("{at}: expected {t}, got {v}"));
            return;
        }
    }
    if let Some(e) = schema.get("enum").and_then(Value::as_array)
        && !e.contains(v)
    {
        out.push(format!("{at}: {v} not in enum"));
    }
    if let Some(s) = v.as_str() {
        let n = s.chars().count() as u64;
        if schema
            .get("minLength")
            .and_then(Value::as_u64)
            .is_some_and(|m| n < m)
        {
            out.push(format!("{at}: shorter than minLength"));
        }
        if schema
            .get("maxLength")
            .and_then(Value::as_u64)
            .is_some_and(|m| n > m)
        {
            out.push(format!("{at}: longer than maxLength"));
        }
        if schema.get("format").and_then(Value::as_str) == Some("date-time")
            && !talon_fake::rules::is_rfc3339(s)
        {
            out.push(format!("{at}: {s:?} is not a date-time"));
        }
    }
    if let Some(obj) = v.as_object() {
        for r in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(k) = r.as_str()
                && !obj.contains_key(k)
            {
                out.push(format!("{at}: missing required {k}"));
            }
        }
        if let Some(props) = schema.get("properties").and_then(Value::as_object) {
            for (k, s) in props {
                if let Some(x) = obj.get(k) {
                    check(s, x, &format!("{at}/{k}"), out);
                }
            }
        }
    }
    if let (Some(items), Some(arr)) = (schema.get("items"), v.as_array()) {
        for (i, x) in arr.iter().enumerate() {
            check(items, x, &format!("{at}/{i}"), out);
        }
    }
}

fn assert_valid(schema: &str, v: &Value) {
    let mut out = Vec::new();
    check(&load(schema), v, "", &mut out);
    assert!(out.is_empty(), "{schema}: {out:#?}\n{v:#}");
}

#[test]
fn the_validator_catches_violations() {
    let mut out = Vec::new();
    check(
        &load("ErrorResponseWithStatus.json"),
        &json!({"message": 1, "errors": [{"title": "x"}]}),
        "",
        &mut out,
    );
    assert_eq!(out.len(), 3, "{out:?}");
}

#[tokio::test]
async fn error_responses_match_error_response_with_status() {
    let fake = fake();
    let samples = [
        put_profile(&fake, "u1", "", json!({"attributes": {"nope": 1}})).await,
        call(&fake, "GET", "/v2/authping", None, None).await,
        raw(
            &fake,
            "PUT",
            "/v2/customer_profiles/u1",
            Some("application/json"),
            b"[".to_vec(),
        )
        .await,
        call(&fake, "GET", "/v1/attributes?pageSize=0", Some(MKEY), None).await,
        call(&fake, "DELETE", "/v2/audiences/9", Some(IKEY), None).await,
    ];
    for r in &samples {
        assert!(r.status.is_client_error());
        assert_valid("ErrorResponseWithStatus.json", &r.json);
    }
}

#[tokio::test]
async fn profile_responses_match_the_integration_api_schemas() {
    let fake = fake();
    let r = put_profile(
        &fake,
        "u1",
        "?runRuleEngine=true",
        json!({"attributes": {"email": "a@x", "birthday": "1990-01-01T00:00:00Z"}, "audiencesChanges": {"adds": [1], "deletes": []},
               "responseContent": ["customerProfile", "triggeredCampaigns", "ruleFailureReasons"]}),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_valid("CustomerProfileIntegrationResponseV2.json", &r.json);
    assert!(r.json.get("customerProfile").is_some());
    let r = put_profile(&fake, "u2", "", json!({})).await;
    assert_valid("CustomerProfileIntegrationResponseV2.json", &r.json);
    let r = call(
        &fake,
        "PUT",
        "/v2/customer_profiles?silent=no",
        Some(IKEY),
        Some(json!({"customerProfiles": [{"integrationId": "b"}]})),
    )
    .await;
    assert_valid("MultipleCustomerProfilesResponse.json", &r.json);
}

#[tokio::test]
async fn audience_and_management_responses_match_their_schemas() {
    let fake = fake();
    put_profile(&fake, "u1", "", json!({"attributes": {"plan": "x"}})).await;
    let r = call(
        &fake,
        "POST",
        "/v2/audiences",
        Some(IKEY),
        Some(
            json!({"name": "A", "integration": "segment", "integrationId": "x1", "sandbox": false}),
        ),
    )
    .await;
    assert_valid("Audience.json", &r.json);
    let r = call(
        &fake,
        "PUT",
        "/v2/audiences/1",
        Some(IKEY),
        Some(json!({"name": "B"})),
    )
    .await;
    assert_valid("Audience.json", &r.json);
    let r = call(
        &fake,
        "POST",
        "/v1/attributes",
        Some(MKEY),
        Some(json!({"entity": "CustomerProfile", "name": "tier", "title": "Tier", "type": "(list string)", "description": "", "suggestions": ["a"], "editable": true})),
    )
    .await;
    assert_valid("Attribute.json", &r.json);
    let r = call(&fake, "GET", "/v1/attributes", Some(MKEY), None).await;
    assert_valid("AttributesList.json", &r.json);
    let r = call(&fake, "GET", "/v1/audiences", Some(MKEY), None).await;
    assert_valid("AudiencesList.json", &r.json);
    let r = call(
        &fake,
        "GET",
        "/v1/applications/1/customers",
        Some(MKEY),
        None,
    )
    .await;
    assert_valid("ApplicationCustomers.json", &r.json);
    let id = r.json["data"][0]["id"].as_i64().expect("id");
    let r = call(
        &fake,
        "GET",
        &format!("/v1/applications/1/customers/{id}"),
        Some(MKEY),
        None,
    )
    .await;
    assert_valid("CustomerProfile.json", &r.json);
}
