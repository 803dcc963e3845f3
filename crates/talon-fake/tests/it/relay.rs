//! The Segment relay (`/segment/…`): the deployment it routes to, its auth and its envelope.

use axum::body::Body;
use axum::http::Request;
use serde_json::{Value, json};

use crate::support::*;

/// The default state's third-party key made for Segment.
pub(crate) const SKEY: &str = "ApiKey-v1 segment-demo-relay-key";
/// The default state's deployment, as the Actions destination's setting sends it.
pub(crate) const HOST: &str = "https://mycompany.europe-west1.talon.one";

/// A relay request with the given `Authorization` and `destination-hostname` values.
pub(crate) fn relay_request(
    method: &str,
    uri: &str,
    auth: Option<&str>,
    host: Option<&str>,
    body: Option<Value>,
) -> Request<Body> {
    let mut req = request(method, uri, auth, body);
    if let Some(h) = host {
        req.headers_mut()
            .insert("destination-hostname", h.parse().expect("header value"));
    }
    req
}

/// A relay request with the Segment key and the default deployment.
pub(crate) async fn relay(
    fake: &talon_fake::Fake,
    method: &str,
    uri: &str,
    body: Option<Value>,
) -> Resp {
    send(
        fake,
        relay_request(method, uri, Some(SKEY), Some(HOST), body),
    )
    .await
}

/// Asserts the relay's envelope `{"StatusCode", "Error", "RequestUUID"}` and returns `Error`.
pub(crate) fn assert_relay_error(r: &Resp, status: u16) -> String {
    assert_eq!(r.status.as_u16(), status, "{}", r.json);
    let obj = r.json.as_object().expect("an object");
    assert_eq!(obj.len(), 3, "exactly three fields: {}", r.json);
    assert_eq!(r.json["StatusCode"], status);
    assert!(r.json["RequestUUID"].is_string(), "{}", r.json);
    r.json["Error"].as_str().expect("Error").to_owned()
}

#[tokio::test]
async fn a_profile_update_through_the_relay_lands_in_the_named_deployment() {
    let fake = fake();
    let r = relay(
        &fake,
        "PUT",
        "/segment/v2/customer_profiles/u1",
        Some(json!({"attributes": {"email": "a@example.com"}, "runRuleEngine": true, "audiencesChanges": {}})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(
        r.json,
        json!({"effects": [], "createdCoupons": [], "createdReferrals": []})
    );
    let p = fake.profile("u1").expect("created");
    assert_eq!(p["attributes"]["email"], "a@example.com");
    let last = fake.journal().pop().expect("journalled");
    assert_eq!(last.rule, "ok.relay_profile_updated");
    let relay = last.relay.expect("relay entry");
    assert_eq!(
        relay.deployment.as_deref(),
        Some("mycompany.europe-west1.talon.one")
    );
}

#[tokio::test]
async fn without_a_destination_hostname_the_relay_answers_the_documented_400() {
    let fake = fake();
    let r = send(
        &fake,
        relay_request(
            "PUT",
            "/segment/v2/customer_profiles/u1",
            Some(SKEY),
            None,
            Some(json!({})),
        ),
    )
    .await;
    assert_eq!(assert_relay_error(&r, 400), "No Deployment URL specified");
    assert_eq!(last_rule(&fake), "relay.no_deployment");
    assert!(fake.profile("u1").is_none());
}

#[tokio::test]
async fn an_unknown_attribute_is_refused_in_the_relay_envelope_with_the_deployments_answer_journalled()
 {
    let fake = fake();
    let r = relay(
        &fake,
        "PUT",
        "/segment/v2/customer_profiles/u1",
        Some(json!({"attributes": {"Email": "a@example.com"}})),
    )
    .await;
    let error = assert_relay_error(&r, 400);
    assert!(error.contains("(at /attributes/Email)"), "{error}");
    assert!(fake.profile("u1").is_none(), "all or nothing");
    let entry = fake.journal().pop().expect("journalled");
    assert_eq!(entry.rule, "attribute.unknown");
    let upstream: Value = serde_json::from_str(
        entry
            .relay
            .and_then(|r| r.upstream)
            .as_deref()
            .unwrap_or(""),
    )
    .expect("upstream");
    assert_eq!(
        upstream["errors"][0]["source"]["pointer"],
        "/attributes/Email"
    );
}
