//! The one request pipeline: every stage (admission, auth, content type, body limit, faults,
//! journal, log) applies to every Talon.One route, the hot `PUT /v2/customer_profiles/{id}`
//! included.

use axum::body::Body;
use axum::http::Request;
use serde_json::{Value, json};
use talon_fake::{Fake, FakeConfig, FaultPlan, StateFile};

use crate::support::*;

/// Every route of the fake's Talon.One surface: method, path, the key it needs, and whether
/// it reads a JSON body.
const ROUTES: &[(&str, &str, &str, bool)] = &[
    ("PUT", "/v2/customer_profiles/u1", IKEY, true),
    ("PUT", "/v2/customer_profiles", IKEY, true),
    ("GET", "/v2/authping", IKEY, false),
    ("POST", "/v2/customer_audiences", IKEY, true),
    ("POST", "/v2/audiences", IKEY, true),
    ("PUT", "/v2/audiences/1", IKEY, true),
    ("DELETE", "/v2/audiences/1", IKEY, false),
    ("DELETE", "/v2/audiences/1/memberships", IKEY, false),
    ("PUT", "/v2/audience_customers/1/attributes", IKEY, true),
    ("GET", "/v1/attributes", MKEY, false),
    ("POST", "/v1/attributes", MKEY, true),
    ("GET", "/v1/attributes/1", MKEY, false),
    ("PUT", "/v1/attributes/1", MKEY, true),
    ("GET", "/v1/audiences", MKEY, false),
    ("GET", "/v1/applications", MKEY, false),
    ("GET", "/v1/applications/1/customers", MKEY, false),
    ("GET", "/v1/applications/1/customers/1", MKEY, false),
];

fn with_config(config: FakeConfig) -> Fake {
    Fake::new(StateFile::default_state(), config).expect("default state loads")
}

/// A request on `route` with its own key, a JSON body if it takes one, and `content_type`.
fn request(method: &str, path: &str, auth: Option<&str>, content_type: &str) -> Request<Body> {
    let mut b = Request::builder().method(method).uri(path);
    if let Some(a) = auth {
        b = b.header("authorization", a);
    }
    b.header("content-type", content_type)
        .body(Body::from(r#"{"attributes":{}}"#))
        .expect("request")
}

/// The status and rule of each journal entry, in order.
fn journalled(fake: &Fake) -> Vec<(u16, String, String)> {
    fake.journal()
        .into_iter()
        .map(|e| (e.status, e.rule, format!("{} {}", e.method, e.path)))
        .collect()
}

#[tokio::test]
async fn every_route_refuses_a_body_that_is_not_declared_as_json_with_415_and_journals_it() {
    let fake = fake();
    for (method, path, key, _) in ROUTES.iter().filter(|r| r.3) {
        let r = send(&fake, request(method, path, Some(key), "text/plain")).await;
        assert_eq!(
            (r.status.as_u16(), last_rule(&fake)),
            (415, "body.content_type".to_owned()),
            "{method} {path}: {}",
            r.json
        );
    }
    assert_eq!(fake.journal().len(), ROUTES.iter().filter(|r| r.3).count());
}

#[tokio::test]
async fn every_route_refuses_a_body_over_the_limit_with_413_before_anything_else() {
    let fake = with_config(FakeConfig {
        body_limit: 8,
        ..FakeConfig::default()
    });
    for (method, path, _, _) in ROUTES {
        // No key: the body limit is decided before auth.
        let r = send(&fake, request(method, path, None, "application/json")).await;
        assert_eq!(
            (r.status.as_u16(), last_rule(&fake)),
            (413, "body.too_large".to_owned()),
            "{method} {path}: {}",
            r.json
        );
    }
    assert_eq!(fake.journal().len(), ROUTES.len());
}

#[tokio::test]
async fn every_route_needs_its_key_and_refuses_the_other_kind_with_401() {
    let fake = fake();
    for (method, path, key, _) in ROUTES {
        let r = send(&fake, request(method, path, None, "application/json")).await;
        assert_eq!(
            assert_error_shape(&r, 401),
            vec!["Authorization"],
            "{method} {path}"
        );
        assert_eq!(last_rule(&fake), "auth.missing", "{method} {path}");
        let other = if *key == IKEY { MKEY } else { IKEY };
        let r = send(
            &fake,
            request(method, path, Some(other), "application/json"),
        )
        .await;
        assert_eq!(r.status.as_u16(), 401, "{method} {path}");
        assert_eq!(last_rule(&fake), "auth.wrong_kind", "{method} {path}");
    }
    assert_eq!(fake.journal().len(), 2 * ROUTES.len());
}

#[tokio::test]
async fn every_route_gets_a_scripted_fault_and_journals_it() {
    let fake = fake();
    let plan = r#"{"rules": [{"respond": {"status": 503}}]}"#;
    fake.set_faults(FaultPlan::from_json(plan).expect("plan"));
    for (method, path, key, _) in ROUTES {
        let r = send(&fake, request(method, path, Some(key), "application/json")).await;
        assert_eq!(
            assert_error_shape(&r, 503),
            Vec::<String>::new(),
            "{method} {path}"
        );
    }
    let journal = journalled(&fake);
    assert_eq!(journal.len(), ROUTES.len());
    for ((status, rule, what), (method, path, _, _)) in journal.iter().zip(ROUTES) {
        assert_eq!(
            (*status, rule.as_str(), what.as_str()),
            (503, "fault.status", format!("{method} {path}").as_str())
        );
    }
}

#[tokio::test]
async fn a_wrong_method_on_the_profile_route_is_journalled_like_on_every_other_route() {
    let fake = fake();
    for path in [
        "/v2/customer_profiles/u1",
        "/v2/audiences/1",
        "/v1/attributes",
    ] {
        let r = call(&fake, "PATCH", path, Some(IKEY), None).await;
        assert_eq!(assert_error_shape(&r, 405), Vec::<String>::new(), "{path}");
    }
    let rules: Vec<(u16, String)> = fake
        .journal()
        .into_iter()
        .map(|e| (e.status, e.rule))
        .collect();
    assert_eq!(rules, vec![(405, "route.method_not_allowed".to_owned()); 3]);
}

#[tokio::test]
async fn every_typed_body_refuses_a_misfit_with_a_pointer_at_the_field() {
    let fake = fake();
    let cases: &[(&str, &str, &str, Value, &str, &str)] = &[
        (
            "PUT",
            "/v2/customer_profiles/u1",
            IKEY,
            json!({"attributes": []}),
            "body.invalid_field",
            "/attributes",
        ),
        (
            "PUT",
            "/v2/customer_profiles/u1",
            IKEY,
            json!({"audiencesChanges": {"adds": []}}),
            "body.missing_field",
            "/audiencesChanges/deletes",
        ),
        (
            "PUT",
            "/v2/customer_profiles/u1",
            IKEY,
            json!({"audiencesChanges": {"adds": [1.5], "deletes": []}}),
            "body.invalid_field",
            "/audiencesChanges/adds/0",
        ),
        (
            "PUT",
            "/v2/customer_profiles/u1",
            IKEY,
            json!({"attributes": {}, "extra": 1}),
            "body.unknown_field",
            "/extra",
        ),
        (
            "PUT",
            "/v2/customer_profiles/u1",
            IKEY,
            json!({"attributes": null}),
            "body.invalid_field",
            "/attributes",
        ),
        (
            "PUT",
            "/v2/customer_profiles",
            IKEY,
            json!({"customerProfiles": [{"attributes": {}}]}),
            "body.missing_field",
            "/customerProfiles/0/integrationId",
        ),
        (
            "PUT",
            "/v2/customer_profiles",
            IKEY,
            json!({"customerProfiles": [["u1"]]}),
            "body.invalid_field",
            "/customerProfiles/0",
        ),
        (
            "POST",
            "/v2/customer_audiences",
            IKEY,
            json!({"data": [{"action": "add", "profileIntegrationId": "u1", "audienceId": "1"}]}),
            "body.invalid_field",
            "/data/0/audienceId",
        ),
        (
            "POST",
            "/v2/customer_audiences",
            IKEY,
            json!({}),
            "body.missing_field",
            "/data",
        ),
        (
            "POST",
            "/v2/audiences",
            IKEY,
            json!({"name": "a", "sandbox": "yes"}),
            "body.invalid_field",
            "/sandbox",
        ),
        (
            "PUT",
            "/v2/audiences/1",
            IKEY,
            json!({"name": "a", "subscribedApplicationsIds": [1, "2"]}),
            "body.invalid_field",
            "/subscribedApplicationsIds/1",
        ),
        (
            "PUT",
            "/v2/audience_customers/1/attributes",
            IKEY,
            json!([1]),
            "body.not_object",
            "",
        ),
        (
            "POST",
            "/v1/attributes",
            MKEY,
            json!({"entity": "CustomerProfile"}),
            "body.missing_field",
            "/name",
        ),
        (
            "PUT",
            "/v1/attributes/1",
            MKEY,
            json!({"entity": "CustomerProfile", "name": "a", "title": "a", "type": "string", "description": "", "suggestions": [3], "editable": true}),
            "body.invalid_field",
            "/suggestions/0",
        ),
    ];
    for (method, path, key, body, rule, pointer) in cases {
        let r = call(&fake, method, path, Some(key), Some(body.clone())).await;
        assert_eq!(
            (assert_error_shape(&r, 400), last_rule(&fake)),
            (vec![(*pointer).to_owned()], (*rule).to_owned()),
            "{method} {path} {body}"
        );
    }
    assert!(
        fake.state_dump().profiles.is_empty(),
        "a refused body changes nothing"
    );
}
