//! The relay over a real socket: `MockServer` on 127.0.0.1 driven with reqwest, with the
//! headers the Talon.One (Actions) destination sends.

use serde_json::{Value, json};
use talon_fake::{Fake, FakeConfig, ManualClock, MockServer, RelayClock, StateFile};

use crate::relay::{HOST, SKEY};

/// A request with the Actions destination's headers (`talon-actions-destination.md` §1:
/// `extendRequest`'s `Authorization` and `destination-hostname`, actions-core's `user-agent`
/// and, with a JSON body, `content-type`).
fn actions_request(
    client: &reqwest::Client,
    server: &MockServer,
    path: &str,
    body: Vec<u8>,
) -> reqwest::RequestBuilder {
    client
        .put(format!("{}{path}", server.uri()))
        .header("authorization", SKEY)
        .header("destination-hostname", HOST)
        .header("user-agent", "Segment (Actions)")
        .header("content-type", "application/json")
        .body(body)
}

/// Asserts the relay's envelope and returns `Error`.
async fn envelope(r: reqwest::Response, status: u16) -> String {
    assert_eq!(r.status().as_u16(), status);
    assert_eq!(
        r.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/json")
    );
    let body: Value = r.json().await.expect("a JSON body");
    let obj = body.as_object().expect("an object");
    assert_eq!(obj.len(), 3, "{body}");
    assert_eq!(body["StatusCode"], status);
    assert!(body["RequestUUID"].is_string(), "{body}");
    body["Error"].as_str().expect("Error").to_owned()
}

#[tokio::test]
async fn a_profile_update_with_the_actions_destinations_headers_is_stored_and_journalled() {
    let server = MockServer::start(crate::support::fake())
        .await
        .expect("starts");
    let client = reqwest::Client::new();
    // The body `updateCustomerProfileV3` sends (`talon-actions-destination.md` §2.6), with an
    // attribute the deployment lacks, skipped as asked.
    let body = json!({
        "audiencesChanges": {},
        "runRuleEngine": true,
        "attributes": {"email": "peter@example.com", "firstName": "Peter", "notInTheCatalog": 1},
    });
    let r = actions_request(
        &client,
        &server,
        "/segment/v2/customer_profiles/peter?skipNonExistingAttributes=true",
        serde_json::to_vec(&body).expect("json"),
    )
    .send()
    .await
    .expect("sent");
    assert_eq!(r.status(), 200);
    let answer: Value = r.json().await.expect("json");
    assert_eq!(
        answer,
        json!({"effects": [], "createdCoupons": [], "createdReferrals": []})
    );
    let p = server.fake().profile("peter").expect("stored");
    assert_eq!(p["attributes"]["email"], "peter@example.com");
    assert_eq!(p["attributes"]["firstName"], "Peter");
    assert!(p["attributes"].get("notInTheCatalog").is_none());

    let entry = server.fake().journal().pop().expect("journalled");
    assert_eq!(entry.rule, "ok.relay_profile_updated");
    assert_eq!(entry.path, "/segment/v2/customer_profiles/peter");
    let header = |name: &str| {
        entry
            .headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(header("user-agent").as_deref(), Some("Segment (Actions)"));
    assert_eq!(header("destination-hostname").as_deref(), Some(HOST));
    assert_eq!(header("content-type").as_deref(), Some("application/json"));
    assert_eq!(
        header("authorization").as_deref(),
        Some("ApiKey-v1 <redacted>"),
        "the key is redacted to its scheme"
    );
    let relay = entry.relay.expect("a relay entry");
    assert_eq!(
        relay.deployment.as_deref(),
        Some("mycompany.europe-west1.talon.one")
    );
    assert_eq!(relay.skipped, ["/attributes/notInTheCatalog"]);
    server.shutdown().await;
}

#[tokio::test]
async fn over_a_socket_the_sixty_first_request_in_a_second_gets_the_429_envelope_without_retry_after()
 {
    let clock = ManualClock::new();
    let fake = Fake::new(
        StateFile::default_state(),
        FakeConfig {
            relay_clock: RelayClock::Manual(clock.clone()),
            ..FakeConfig::default()
        },
    )
    .expect("loads");
    let server = MockServer::start(fake).await.expect("starts");
    let client = reqwest::Client::new();
    let body = br#"{"attributes":{"email":"a@example.com"}}"#;
    for i in 0..60 {
        let r = actions_request(
            &client,
            &server,
            &format!("/segment/v2/customer_profiles/u{i}"),
            body.to_vec(),
        )
        .send()
        .await
        .expect("sent");
        assert_eq!(r.status(), 200, "request {i}");
    }
    let r = actions_request(
        &client,
        &server,
        "/segment/v2/customer_profiles/u60",
        body.to_vec(),
    )
    .send()
    .await
    .expect("sent");
    assert!(
        r.headers().get("retry-after").is_none(),
        "Talon.One documents no Retry-After"
    );
    let error = envelope(r, 429).await;
    assert!(error.starts_with("Too many requests"), "{error}");
    assert!(server.fake().profile("u60").is_none());
    assert_eq!(
        server.fake().journal().pop().map(|e| e.rule).as_deref(),
        Some("relay.rate_limit")
    );
    // The client waits the second out, and is served again on the same connection.
    clock.advance_ms(1000);
    let r = actions_request(
        &client,
        &server,
        "/segment/v2/customer_profiles/u60",
        body.to_vec(),
    )
    .send()
    .await
    .expect("sent");
    assert_eq!(r.status(), 200);
    server.shutdown().await;
}

#[tokio::test]
async fn over_a_socket_a_malformed_or_non_utf8_body_gets_the_relays_envelope_and_changes_nothing() {
    let server = MockServer::start(crate::support::fake())
        .await
        .expect("starts");
    let client = reqwest::Client::new();
    for (body, rule) in [
        (
            br#"{"attributes": {"email": "#.to_vec(),
            "body.malformed_json",
        ),
        (
            b"{\"attributes\": {\"email\": \"\xff\"}}".to_vec(),
            "body.invalid_utf8",
        ),
        (b"[1, 2]".to_vec(), "body.not_object"),
    ] {
        let r = actions_request(&client, &server, "/segment/v2/customer_profiles/u1", body)
            .send()
            .await
            .expect("sent");
        let error = envelope(r, 400).await;
        assert!(!error.is_empty());
        assert_eq!(
            server.fake().journal().pop().map(|e| e.rule).as_deref(),
            Some(rule)
        );
    }
    assert!(server.fake().profile("u1").is_none());
    assert_eq!(server.fake().profile_count(), 0);
    server.shutdown().await;
}
