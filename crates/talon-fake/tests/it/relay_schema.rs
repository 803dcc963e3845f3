//! The relay's answers against the project's JSON Schemas of Talon.One's Third-party API
//! (`fixtures/talon/schemas/segment/`): Talon.One's documented examples validate, wrong bodies
//! do not, and the fake's own answers through `router(...)` do.
//!
//! Validation is the `jsonschema` crate's (draft 2020-12, formats asserted), with `$ref`s to
//! sibling files (and to the Integration API's schemas one folder up) resolved from disk.
//! The examples are the project's copies in `fixtures/talon/schemas/segment/examples/`
//! (their source is in the README there), so no test reads a file outside the repository.

use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::http::{HeaderValue, Request};
use serde_json::{Value, json};

use crate::relay::relay_request as to;
use crate::relay::*;
use crate::support::*;

const ENVELOPE: &str = "errorResponseWithStatus.json";
const PROFILE_V2: &str = "CustomerProfileIntegrationResponseV2.json";
const STATE_V2: &str = "IntegrationStateV2.json";
const AUDIENCE: &str = "CreateAndUpdateResponse.json";
const PROFILE_DEPRECATED: &str = "CustomerProfileResponse.json";
const PROFILE_DEPRECATED_V2: &str = "CustomerProfileResponseV2.json";
/// The Integration API's envelope, for the deployment's own `GET /v2/authping`.
const INTEGRATION_ENVELOPE: &str = "../ErrorResponseWithStatus.json";

/// The schema files of the segment folder (`defs.json` holds the shared `$defs`).
const SCHEMAS: [&str; 7] = [
    AUDIENCE,
    PROFILE_V2,
    PROFILE_DEPRECATED,
    PROFILE_DEPRECATED_V2,
    STATE_V2,
    "defs.json",
    ENVELOPE,
];

fn segment_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/talon/schemas/segment")
        .canonicalize()
        .expect("the segment schema folder exists")
}

/// A validator for a schema file named relative to the segment folder.
fn validator(name: &str) -> jsonschema::Validator {
    let path = segment_dir()
        .join(name)
        .canonicalize()
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let text = std::fs::read_to_string(&path).expect("schema file");
    let schema: Value = serde_json::from_str(&text).expect("schema json");
    jsonschema::options()
        .with_base_uri(format!("file://{}", path.display()))
        .should_validate_formats(true)
        .build(&schema)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Every violation, as `pointer: message`.
fn violations(schema: &str, v: &Value) -> Vec<String> {
    validator(schema)
        .iter_errors(v)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

fn assert_valid(schema: &str, v: &Value, what: &str) {
    let out = violations(schema, v);
    assert!(out.is_empty(), "{what} against {schema}: {out:#?}\n{v:#}");
}

fn example(name: &str) -> Value {
    let path = segment_dir().join("examples").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

// ------------------------------------------------------------------ the schemas themselves

#[test]
fn every_schema_of_the_segment_folder_compiles_and_none_is_missing() {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(segment_dir()).expect("the folder lists") {
        let path = entry.expect("an entry").path();
        if path.extension().is_some_and(|e| e == "json") {
            let name = path.file_name().expect("a name").to_string_lossy();
            validator(&name);
            found.push(name.into_owned());
        }
    }
    found.sort_unstable();
    let mut expected: Vec<&str> = SCHEMAS.to_vec();
    expected.sort_unstable();
    assert_eq!(found, expected, "the schema files and SCHEMAS differ");
}

/// Talon.One's documented response bodies of the Postman folder "Segment", one file per
/// distinct body (the README of `examples/` says which requests show each), and their schema.
/// The 204s (batch audiences, delete audience) have no body.
const EXAMPLES: [(&str, &str); 8] = [
    ("profile-200.json", PROFILE_V2),
    ("integration-state-200.json", STATE_V2),
    ("audience-201.json", AUDIENCE),
    ("error-400-no-deployment.json", ENVELOPE),
    ("error-401-missing-session-token.json", ENVELOPE),
    ("error-404-not-found.json", ENVELOPE),
    ("error-409-audience-exists.json", ENVELOPE),
    ("error-429-too-many-requests.json", ENVELOPE),
];

/// Documented examples left out of [`EXAMPLES`], with why.
const EXCLUDED: [(&str, &str); 1] = [(
    "error-429-copy-paste-404-body.json",
    "the 429 examples of seven Segment requests are a copy-paste error: a 404 body whose RequestUUID is no UUID",
)];

#[test]
fn every_documented_example_of_the_segment_folder_validates_against_its_schema() {
    for (file, schema) in EXAMPLES {
        assert_valid(schema, &example(file), file);
    }
    // Every example file is either checked or excluded with a reason: none is forgotten.
    let mut files: Vec<String> = std::fs::read_dir(segment_dir().join("examples"))
        .expect("the examples folder lists")
        .map(|e| {
            e.expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|n| n.ends_with(".json"))
        .collect();
    files.sort_unstable();
    let mut listed: Vec<&str> = EXAMPLES
        .iter()
        .map(|(f, _)| *f)
        .chain(EXCLUDED.iter().map(|(f, _)| *f))
        .collect();
    listed.sort_unstable();
    assert_eq!(files, listed);
}

#[test]
fn the_documented_error_examples_carry_their_http_status_but_the_copy_paste_429_does_not() {
    for (file, status) in [
        ("error-400-no-deployment.json", 400),
        ("error-401-missing-session-token.json", 401),
        ("error-404-not-found.json", 404),
        ("error-409-audience-exists.json", 409),
        ("error-429-too-many-requests.json", 429),
    ] {
        assert_eq!(example(file)["StatusCode"], status, "{file}");
    }
    // Why it is excluded: shown under a 429, it says 404, and its id is not a UUID (the last
    // group has 14 hex digits), which the envelope schema catches.
    let (file, _why) = EXCLUDED[0];
    let bad = example(file);
    assert_eq!(bad["StatusCode"], 404);
    let out = violations(ENVELOPE, &bad);
    assert_eq!(out.len(), 1, "{out:?}");
    assert!(out[0].starts_with("/RequestUUID"), "{out:?}");
}

#[test]
fn a_wrong_body_fails_each_schema_where_it_is_wrong() {
    let mut profile = example("profile-200.json");
    profile["customerProfile"]["created"] = json!("yesterday");
    let mut state = example("integration-state-200.json");
    state["customerSession"]["state"] = json!("half-open");
    let mut audience = example("audience-201.json");
    audience
        .as_object_mut()
        .expect("an object")
        .remove("integrationId");
    let cases: [(&str, Value, &str); 12] = [
        (
            ENVELOPE,
            json!({"StatusCode": 400, "Error": "x", "RequestUUID": "not-a-uuid"}),
            "/RequestUUID",
        ),
        (
            ENVELOPE,
            json!({"message": "Not found", "errors": [], "StatusCode": 404}),
            "",
        ),
        (
            ENVELOPE,
            json!({"StatusCode": "400", "Error": "x", "RequestUUID": "fd2f7c55-d064-46e1-ab87-a39cb877cd82"}),
            "/StatusCode",
        ),
        (PROFILE_V2, json!({"effects": [], "createdCoupons": []}), ""),
        (PROFILE_V2, profile, "/customerProfile/created"),
        (
            PROFILE_V2,
            json!({"effects": [{"campaignId": 1}], "createdCoupons": [], "createdReferrals": []}),
            "/effects/0",
        ),
        (STATE_V2, state, "/customerSession/state"),
        (
            STATE_V2,
            json!({"effects": [], "createdCoupons": [], "createdReferrals": {}}),
            "/createdReferrals",
        ),
        (AUDIENCE, audience, ""),
        (PROFILE_DEPRECATED, json!({"createdAttributes": []}), ""),
        (
            PROFILE_DEPRECATED,
            json!({"customerProfile": example("profile-200.json")["customerProfile"], "createdAttributes": [{"name": "x"}]}),
            "/createdAttributes/0",
        ),
        (
            PROFILE_DEPRECATED_V2,
            json!({"customerProfile": example("profile-200.json")["customerProfile"],
                   "audiences": [{"id": 1, "created": "2020-06-10T09:05:27Z", "name": "A", "integrationId": "a", "status": "gone"}]}),
            "/audiences/0/status",
        ),
    ];
    for (schema, body, at) in cases {
        let out = violations(schema, &body);
        assert!(
            out.iter().any(|e| e.starts_with(&format!("{at}: "))),
            "{schema} should refuse {body} at {at:?}: {out:?}"
        );
    }
}

// ------------------------------------------------------------------ the fake's answers

/// What a live answer must be: a JSON body valid against a schema, or no body.
#[derive(Debug, Clone, Copy)]
enum Expect {
    Json(&'static str),
    Empty,
}

use Expect::{Empty, Json};

/// One live case: what it shows, the request (built against a fresh default fake), the
/// status and what the body must be. Add an endpoint's cases here, one line each.
type Case = (&'static str, Request<Body>, u16, Expect);

fn profile(uri_tail: &str, body: Value) -> Request<Body> {
    relay_request(
        "PUT",
        &format!("/segment/v2/customer_profiles/u1{uri_tail}"),
        Some(SKEY),
        Some(HOST),
        Some(body),
    )
}

fn with_header(mut req: Request<Body>, name: &'static str, value: &[u8]) -> Request<Body> {
    req.headers_mut().insert(
        name,
        HeaderValue::from_bytes(value).expect("a sendable header value"),
    );
    req
}

const P: &str = "/segment/v2/customer_profiles/u1";

// One line per case, so the table reads as one (and the lead can add the endpoints of parts A
// and B as lines).
#[rustfmt::skip]
fn cases() -> Vec<Case> {
    let ok = || Some(json!({"attributes": {"email": "a@example.com"}, "runRuleEngine": true, "audiencesChanges": {}}));
    let big = json!({"attributes": {"email": "x".repeat(2 * 1024 * 1024)}});
    let unknown = "nobody.talon.one";
    vec![
        ("profile 200", profile("", ok().expect("a body")), 200, Json(PROFILE_V2)),
        ("profile 200, skipped attribute", profile("?skipNonExistingAttributes=true", json!({"attributes": {"Nope": 1}})), 200, Json(PROFILE_V2)),
        ("400 no deployment", to("PUT", P, Some(SKEY), None, ok()), 400, Json(ENVELOPE)),
        ("400 invalid deployment", to("PUT", P, Some(SKEY), Some("https://x.talon.one/v2"), ok()), 400, Json(ENVELOPE)),
        ("400 unknown deployment", to("PUT", P, Some(SKEY), Some(unknown), ok()), 400, Json(ENVELOPE)),
        ("401 missing token", to("PUT", P, None, Some(HOST), ok()), 401, Json(ENVELOPE)),
        ("401 missing token, no deployment either", to("PUT", P, None, None, ok()), 401, Json(ENVELOPE)),
        ("401 unknown key", to("PUT", P, Some("ApiKey-v1 wrong"), Some(HOST), ok()), 401, Json(ENVELOPE)),
        ("401 integration key", to("PUT", P, Some(IKEY), Some(HOST), ok()), 401, Json(ENVELOPE)),
        ("401 management key", to("PUT", P, Some(MKEY), Some(HOST), ok()), 401, Json(ENVELOPE)),
        ("401 non-ASCII bytes in the key", with_header(profile("", json!({})), "authorization", b"ApiKey-v1 k\xff"), 401, Json(ENVELOPE)),
        ("400 unknown attribute", profile("", json!({"attributes": {"Email": "a@example.com"}})), 400, Json(ENVELOPE)),
        ("400 wrong type", profile("", json!({"attributes": {"email": 7}})), 400, Json(ENVELOPE)),
        ("400 unknown field", profile("", json!({"attributes": {}, "dry": true})), 400, Json(ENVELOPE)),
        ("400 bad query flag", profile("?skipNonExistingAttributes=maybe", json!({})), 400, Json(ENVELOPE)),
        ("400 malformed JSON", with_body(profile("", json!({})), b"{\"attributes\":"), 400, Json(ENVELOPE)),
        ("400 invalid UTF-8", with_body(profile("", json!({})), b"{\"attributes\":{\"email\":\"\xff\"}}"), 400, Json(ENVELOPE)),
        ("404 unknown path", to("PUT", "/segment/v3/nothing", Some(SKEY), Some(HOST), ok()), 404, Json(ENVELOPE)),
        ("405 wrong method", to("GET", P, Some(SKEY), Some(HOST), None), 405, Json(ENVELOPE)),
        ("413 body over the limit", profile("", big), 413, Json(ENVELOPE)),
        ("415 wrong content type", with_header(profile("", json!({})), "content-type", b"text/plain"), 415, Json(ENVELOPE)),
        ("authping 204, Segment key and deployment", to("GET", "/v2/authping", Some(SKEY), Some(HOST), None), 204, Empty),
        ("authping 204, Segment key alone", to("GET", "/v2/authping", Some(SKEY), None, None), 204, Empty),
        ("authping 404, unknown deployment", to("GET", "/v2/authping", Some(SKEY), Some(unknown), None), 404, Json(INTEGRATION_ENVELOPE)),
        ("audience 201", to("POST", "/segment/audiences", Some(SKEY), Some(HOST), Some(json!({"audienceId": "aud_new", "audienceName": "New"}))), 201, Json(AUDIENCE)),
        ("audience 409, existing id", to("POST", "/segment/audiences", Some(SKEY), Some(HOST), Some(json!({"audienceId": "aud_demo", "audienceName": "Again"}))), 409, Json(ENVELOPE)),
        ("audience renamed 200", to("PUT", "/segment/audiences/aud_demo", Some(SKEY), Some(HOST), Some(json!({"audienceName": "Renamed"}))), 200, Json(AUDIENCE)),
        ("audience rename 404, unknown id", to("PUT", "/segment/audiences/nope", Some(SKEY), Some(HOST), Some(json!({"audienceName": "Renamed"}))), 404, Json(ENVELOPE)),
        ("audience deleted 204", to("DELETE", "/segment/audiences/aud_demo", Some(SKEY), Some(HOST), None), 204, Empty),
        ("audience delete 404, unknown id", to("DELETE", "/segment/audiences/nope", Some(SKEY), Some(HOST), None), 404, Json(ENVELOPE)),
        ("memberships 204", to("PUT", "/segment/customer_profiles/audiences", Some(SKEY), Some(HOST), Some(json!({"data": [{"customerProfileId": "u1", "adds": [1]}]}))), 204, Empty),
        ("memberships 400, unknown audience", to("PUT", "/segment/customer_profiles/audiences", Some(SKEY), Some(HOST), Some(json!({"data": [{"customerProfileId": "u1", "adds": [99]}]}))), 400, Json(ENVELOPE)),
        ("event 400, unknown event type", to("PUT", "/segment/v2/events", Some(SKEY), Some(HOST), Some(json!({"eventType": "Nope", "customerProfileId": "u1"}))), 400, Json(ENVELOPE)),
        ("deprecated event 200, type created", to("PUT", "/segment/event", Some(SKEY), Some(HOST), Some(json!({"eventType": "Viewed", "type": "string", "customerProfileId": "u1", "eventAttributes": {"sku": "S1"}}))), 200, Json(STATE_V2)),
        ("session 200", to("PUT", "/segment/v2/customer_sessions/s1", Some(SKEY), Some(HOST), Some(json!({"profileId": "u1", "state": "open", "cartItems": [{"sku": "S1", "quantity": 1, "price": 9.5}]}))), 200, Json(STATE_V2)),
        ("session 400, float quantity", to("PUT", "/segment/v2/customer_sessions/s1", Some(SKEY), Some(HOST), Some(json!({"profileId": "u1", "cartItems": [{"sku": "S1", "quantity": 1.5}]}))), 400, Json(ENVELOPE)),
        ("deprecated session 200", to("PUT", "/segment/customer_sessions/s2", Some(SKEY), Some(HOST), Some(json!({"customerSession": {"profileId": "u1", "state": "open"}}))), 200, Json(STATE_V2)),
        ("deprecated profile 200", to("PUT", "/segment/customer_profile/u1", Some(SKEY), Some(HOST), Some(json!({"attributes": {"email": "a@example.com", "newFlag": true}}))), 200, Json(PROFILE_DEPRECATED)),
        ("deprecated profile v2 200", to("PUT", "/segment/customer_profile_v2/u1", Some(SKEY), Some(HOST), Some(json!({"attributes": {"email": "a@example.com"}, "runRuleEngine": true, "audiencesChanges": {"adds": [{"name": "Travel", "integrationId": "trv 1"}]}}))), 200, Json(PROFILE_DEPRECATED_V2)),
    ]
}

fn with_body(req: Request<Body>, body: &'static [u8]) -> Request<Body> {
    let (parts, _) = req.into_parts();
    Request::from_parts(parts, Body::from(body))
}

#[tokio::test]
async fn the_fakes_relay_answers_validate_against_their_schemas() {
    for (what, req, status, expect) in cases() {
        let fake = fake();
        let r = send(&fake, req).await;
        assert_eq!(r.status.as_u16(), status, "{what}: {}", r.json);
        match expect {
            Json(schema) => {
                assert_valid(schema, &r.json, what);
                if schema == ENVELOPE {
                    assert_eq!(r.json["StatusCode"], status, "{what}");
                }
            }
            Empty => assert!(r.raw.is_empty(), "{what}: {:?}", r.raw),
        }
    }
}

#[tokio::test]
async fn the_parallel_update_refusal_validates_against_the_envelope() {
    let fake = fake();
    let slots: Vec<_> = std::iter::from_fn(|| fake.hold_profile("u1"))
        .take(64)
        .collect();
    assert!(!slots.is_empty(), "the deployment has per-profile slots");
    let r = send(&fake, profile("", json!({"attributes": {}}))).await;
    assert_eq!(r.status, 429, "{}", r.json);
    assert_valid(ENVELOPE, &r.json, "429 parallel");
    assert_eq!(r.json["StatusCode"], 429);
}

#[tokio::test]
async fn a_tracked_event_answers_within_its_schema() {
    let mut state = talon_fake::StateFile::default_state();
    state.event_types.push(talon_fake::EventTypeRecord {
        name: "Order Completed".to_owned(),
        ty: None,
    });
    let fake = talon_fake::Fake::new(state, talon_fake::FakeConfig::default()).expect("state");
    let body =
        json!({"eventType": "Order Completed", "customerProfileId": "u1", "eventAttributes": {}});
    let r = send(
        &fake,
        to(
            "PUT",
            "/segment/v2/events",
            Some(SKEY),
            Some(HOST),
            Some(body),
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_valid(STATE_V2, &r.json, "event 200");
}
