//! A sample of the fake's responses, validated against the OpenAPI schema subset in `fixtures/talon/schemas/`.
//!
//! Validation is the `jsonschema` crate's (draft 2020-12), with `$ref`s
//! between the fixture files resolved from disk.

use serde_json::{Value, json};

use crate::support::*;

fn schema_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/talon/schemas")
        .canonicalize()
        .expect("the schema folder exists")
}

/// A validator for one schema file; sibling `$ref`s resolve against its folder.
fn validator(name: &str) -> jsonschema::Validator {
    validator_in(&schema_dir(), name)
}

fn validator_in(dir: &std::path::Path, name: &str) -> jsonschema::Validator {
    let path = dir.join(name);
    let text = std::fs::read_to_string(&path).expect("schema file");
    let schema: Value = serde_json::from_str(&text).expect("schema json");
    jsonschema::options()
        .with_base_uri(format!("file://{}", path.display()))
        .should_validate_formats(true)
        .build(&schema)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Every violation, as `pointer: message`.
fn violations(name: &str, v: &Value) -> Vec<String> {
    validator(name)
        .iter_errors(v)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

fn assert_valid(schema: &str, v: &Value) {
    let out = violations(schema, v);
    assert!(out.is_empty(), "{schema}: {out:#?}\n{v:#}");
}

#[test]
fn the_validator_catches_violations() {
    let out = violations(
        "ErrorResponseWithStatus.json",
        &json!({"message": 1, "errors": [{"title": "x"}]}),
    );
    // `message` is not a string, the error has no `source`, there is no `StatusCode`.
    assert_eq!(out.len(), 3, "{out:?}");
    // Through a `$ref` to a sibling file, and a `date-time` format.
    let out = violations(
        "CustomerProfileIntegrationResponseV2.json",
        &json!({"effects": [], "createdCoupons": [], "createdReferrals": [],
                "customerProfile": {"id": "seven", "created": "yesterday"}}),
    );
    assert!(
        out.iter().any(|e| e.starts_with("/customerProfile/id")),
        "{out:?}"
    );
    assert!(
        out.iter()
            .any(|e| e.starts_with("/customerProfile/created")),
        "{out:?}"
    );
}

#[test]
fn every_schema_file_is_a_valid_schema() {
    let missing = missing_schemas(&schema_dir());
    assert!(missing.is_empty(), "missing schema files: {missing:?}");
}

#[test]
fn an_empty_schema_folder_fails_the_schema_file_check() {
    let empty = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("no-schemas");
    std::fs::create_dir_all(&empty).unwrap();
    assert_eq!(missing_schemas(&empty), SCHEMAS);
}

/// Validates every `.json` file of `dir` as a schema (panicking on an invalid
/// one) and returns the [`SCHEMAS`] it does not hold: an empty or half-copied
/// folder must not pass as valid.
fn missing_schemas(dir: &std::path::Path) -> Vec<&'static str> {
    let mut checked = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            validator_in(dir, &name);
            checked.insert(name);
        }
    }
    SCHEMAS
        .iter()
        .copied()
        .filter(|name| !checked.contains(*name))
        .collect()
}

/// The schema files of `fixtures/talon/schemas/` that this suite validates against or `$ref`s.
const SCHEMAS: [&str; 9] = [
    "ApplicationCustomers.json",
    "Attribute.json",
    "AttributesList.json",
    "Audience.json",
    "AudiencesList.json",
    "CustomerProfile.json",
    "CustomerProfileIntegrationResponseV2.json",
    "ErrorResponseWithStatus.json",
    "MultipleCustomerProfilesResponse.json",
];

#[tokio::test]
async fn error_responses_match_error_response_with_status() {
    let fake = fake();
    let samples = [
        put_profile(&fake, "u1", "", json!({"attributes": {"nope": 1}})).await,
        get(&fake, "/v2/authping", None).await,
        raw(
            &fake,
            "PUT",
            "/v2/customer_profiles/u1",
            Some("application/json"),
            b"[".to_vec(),
        )
        .await,
        get(&fake, "/v1/attributes?pageSize=0", Some(MKEY)).await,
        delete(&fake, "/v2/audiences/9", Some(IKEY)).await,
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
    let r = put(
        &fake,
        "/v2/customer_profiles?silent=no",
        Some(IKEY),
        json!({"customerProfiles": [{"integrationId": "b"}]}),
    )
    .await;
    assert_valid("MultipleCustomerProfilesResponse.json", &r.json);
}

#[tokio::test]
async fn audience_and_management_responses_match_their_schemas() {
    let fake = fake();
    put_profile(&fake, "u1", "", json!({"attributes": {"plan": "x"}})).await;
    let r = post(
        &fake,
        "/v2/audiences",
        Some(IKEY),
        json!({"name": "A", "integration": "segment", "integrationId": "x1", "sandbox": false}),
    )
    .await;
    assert_valid("Audience.json", &r.json);
    let r = put(&fake, "/v2/audiences/1", Some(IKEY), json!({"name": "B"})).await;
    assert_valid("Audience.json", &r.json);
    let r = post(
        &fake,
        "/v1/attributes",
        Some(MKEY),
        json!({"entity": "CustomerProfile", "name": "tier", "title": "Tier", "type": "(list string)", "description": "", "suggestions": ["a"], "editable": true}),
    )
    .await;
    assert_valid("Attribute.json", &r.json);
    let r = get(&fake, "/v1/attributes", Some(MKEY)).await;
    assert_valid("AttributesList.json", &r.json);
    let r = get(&fake, "/v1/audiences", Some(MKEY)).await;
    assert_valid("AudiencesList.json", &r.json);
    let r = get(&fake, "/v1/applications/1/customers", Some(MKEY)).await;
    assert_valid("ApplicationCustomers.json", &r.json);
    let id = r.json["data"][0]["id"].as_i64().expect("id");
    let r = get(
        &fake,
        &format!("/v1/applications/1/customers/{id}"),
        Some(MKEY),
    )
    .await;
    assert_valid("CustomerProfile.json", &r.json);
}
