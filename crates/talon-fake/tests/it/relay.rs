//! The Segment relay (`/segment/…`): the deployment it routes to, its auth and its envelope.

use axum::body::Body;
use axum::http::{HeaderValue, Request};
use base64::Engine as _;
use serde_json::{Value, json};
use talon_fake::{Fake, FakeConfig, StateFile};

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

/// A relay request with the Segment key, the default deployment and a raw body.
pub(crate) async fn relay_raw(
    fake: &Fake,
    method: &str,
    uri: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> Resp {
    let mut b = Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", SKEY)
        .header("destination-hostname", HOST);
    if let Some(ct) = content_type {
        b = b.header("content-type", ct);
    }
    send(fake, b.body(Body::from(body)).expect("request")).await
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

// ------------------------------------------------------------------ auth

const PROFILE: &str = "/segment/v2/customer_profiles/u1";

/// The default state with a third-party key made for another platform.
fn fake_with_other_platform_key() -> Fake {
    let mut v: Value = serde_json::from_str(talon_fake::DEFAULT_STATE_JSON).expect("json");
    v["integrationKeys"]
        .as_array_mut()
        .expect("keys")
        .push(json!({"key": "mparticle-key", "applicationId": 1, "platform": "mParticle"}));
    Fake::new(
        StateFile::from_json(&v.to_string()).expect("parses"),
        FakeConfig::default(),
    )
    .expect("loads")
}

#[tokio::test]
async fn without_authorization_the_relay_answers_missing_session_token_before_anything_else() {
    let fake = fake();
    for host in [Some(HOST), None] {
        let r = send(
            &fake,
            relay_request("PUT", PROFILE, None, host, Some(json!({}))),
        )
        .await;
        assert_eq!(assert_relay_error(&r, 401), "Missing Session Token");
        assert_eq!(last_rule(&fake), "auth.missing");
    }
    assert!(fake.profile("u1").is_none());
}

#[tokio::test]
async fn the_segment_key_opens_the_relay_as_apikey_v1_or_in_its_basic_form() {
    let fake = fake();
    let b64 = base64::engine::general_purpose::STANDARD.encode("ApiKey-v1 segment-demo-relay-key:");
    for (i, auth) in [SKEY.to_owned(), format!("Basic {b64}")].iter().enumerate() {
        let id = format!("u{i}");
        let r = send(
            &fake,
            relay_request(
                "PUT",
                &format!("/segment/v2/customer_profiles/{id}"),
                Some(auth),
                Some(HOST),
                Some(json!({"attributes": {"plan": "gold"}})),
            ),
        )
        .await;
        assert_eq!(r.status, 200, "{auth}: {}", r.json);
        assert_eq!(
            fake.profile(&id).expect("stored")["attributes"]["plan"],
            "gold"
        );
    }
}

#[tokio::test]
async fn integration_management_other_platform_and_unknown_keys_do_not_open_the_relay() {
    let fake = fake_with_other_platform_key();
    for (auth, rule) in [
        ("ApiKey-v1 segment-demo-integration-key", "auth.wrong_kind"),
        ("ApiKey-v1 segment-demo-management-key", "auth.wrong_kind"),
        ("ApiKey-v1 mparticle-key", "auth.wrong_kind"),
        ("ApiKey-v1 no-such-key", "auth.unknown_key"),
        (
            "ManagementKey-v1 segment-demo-management-key",
            "auth.malformed",
        ),
        ("Bearer segment-demo-relay-key", "auth.malformed"),
    ] {
        let r = send(
            &fake,
            relay_request("PUT", PROFILE, Some(auth), Some(HOST), Some(json!({}))),
        )
        .await;
        let error = assert_relay_error(&r, 401);
        assert!(error.starts_with("Invalid API key"), "{auth}: {error}");
        assert_eq!(last_rule(&fake), rule, "{auth}");
        // A key that cannot be read is refused before the deployment is looked up.
        let routed = (rule != "auth.malformed").then_some("mycompany.europe-west1.talon.one");
        let entry = fake.journal().pop().expect("journalled");
        assert_eq!(
            entry.relay.and_then(|r| r.deployment).as_deref(),
            routed,
            "{auth}"
        );
    }
    assert!(fake.profile("u1").is_none());
}

#[tokio::test]
async fn the_segment_key_does_not_open_the_integration_or_management_api() {
    let fake = fake();
    let r = put(
        &fake,
        "/v2/customer_profiles/x",
        Some(SKEY),
        json!({"attributes": {"plan": "a"}}),
    )
    .await;
    assert_eq!(assert_error_shape(&r, 401), vec!["Authorization"]);
    assert_eq!(last_rule(&fake), "auth.wrong_kind");
    assert!(fake.profile("x").is_none());
    let r = get(&fake, "/v1/attributes", Some(SKEY)).await;
    assert_error_shape(&r, 401);
    assert_eq!(last_rule(&fake), "auth.wrong_kind");
}

#[tokio::test]
async fn authping_answers_204_for_the_segment_key_with_or_without_a_destination_hostname() {
    let fake = fake();
    for host in [
        None,
        Some(HOST),
        Some("mycompany.europe-west1.talon.one"),
        Some("https://mycompany.europe-west1.talon.one/"),
    ] {
        let r = send(
            &fake,
            relay_request("GET", "/v2/authping", Some(SKEY), host, None),
        )
        .await;
        assert_eq!(r.status, 204, "{host:?}: {}", r.json);
        assert_eq!(last_rule(&fake), "ok.authping");
    }
    let r = send(
        &fake,
        relay_request(
            "GET",
            "/v2/authping",
            Some(SKEY),
            Some("https://elsewhere.talon.one"),
            None,
        ),
    )
    .await;
    assert_eq!(assert_error_shape(&r, 404), vec!["destination-hostname"]);
    assert_eq!(last_rule(&fake), "relay.deployment_unknown");
    let r = send(
        &fake,
        relay_request(
            "GET",
            "/v2/authping",
            Some("ApiKey-v1 nope"),
            Some(HOST),
            None,
        ),
    )
    .await;
    assert_error_shape(&r, 401);
}

// ------------------------------------------------------------------ destination-hostname

#[tokio::test]
async fn every_documented_form_of_the_hostname_reaches_the_same_deployment() {
    let fake = fake();
    for (i, host) in [
        "mycompany.europe-west1.talon.one",
        "https://mycompany.europe-west1.talon.one",
        "https://mycompany.europe-west1.talon.one/",
        "MyCompany.Europe-West1.TALON.one",
        "HTTPS://MYCOMPANY.europe-west1.talon.one/",
    ]
    .iter()
    .enumerate()
    {
        let id = format!("u{i}");
        let r = send(
            &fake,
            relay_request(
                "PUT",
                &format!("/segment/v2/customer_profiles/{id}"),
                Some(SKEY),
                Some(host),
                Some(json!({"attributes": {"plan": "a"}})),
            ),
        )
        .await;
        assert_eq!(r.status, 200, "{host}: {}", r.json);
        assert!(fake.profile(&id).is_some(), "{host}");
        let entry = fake.journal().pop().expect("journalled");
        assert_eq!(
            entry.relay.and_then(|r| r.deployment).as_deref(),
            Some("mycompany.europe-west1.talon.one"),
            "{host}"
        );
    }
}

#[tokio::test]
async fn a_hostname_with_a_path_query_or_double_slash_is_an_invalid_deployment() {
    let fake = fake();
    for host in [
        "https://mycompany.europe-west1.talon.one/v2",
        "mycompany.europe-west1.talon.one?x=1",
        "https://mycompany.europe-west1.talon.one//",
        "https:///mycompany.europe-west1.talon.one",
        "user@mycompany.europe-west1.talon.one",
    ] {
        let r = send(
            &fake,
            relay_request("PUT", PROFILE, Some(SKEY), Some(host), Some(json!({}))),
        )
        .await;
        let error = assert_relay_error(&r, 400);
        assert!(
            error.starts_with("Invalid Deployment URL"),
            "{host}: {error}"
        );
        assert_eq!(last_rule(&fake), "relay.deployment_invalid", "{host}");
        let entry = fake.journal().pop().expect("journalled");
        assert_eq!(entry.relay.expect("relay entry").deployment, None);
    }
    assert!(fake.profile("u1").is_none());
}

#[tokio::test]
async fn an_unknown_deployment_is_refused_naming_the_known_ones() {
    let fake = fake();
    let r = send(
        &fake,
        relay_request(
            "PUT",
            PROFILE,
            Some(SKEY),
            Some("https://other.europe-west1.talon.one/"),
            Some(json!({})),
        ),
    )
    .await;
    let error = assert_relay_error(&r, 400);
    assert!(
        error.contains("\"other.europe-west1.talon.one\""),
        "{error}"
    );
    assert!(
        error.contains("\"mycompany.europe-west1.talon.one\""),
        "{error}"
    );
    assert_eq!(last_rule(&fake), "relay.deployment_unknown");
    let entry = fake.journal().pop().expect("journalled");
    assert_eq!(entry.relay.expect("relay entry").deployment, None);
    assert!(
        entry
            .headers
            .iter()
            .any(|(k, v)| k == "destination-hostname"
                && v == "https://other.europe-west1.talon.one/"),
        "{:?}",
        entry.headers
    );
}

#[tokio::test]
async fn an_empty_hostname_is_no_deployment() {
    let fake = fake();
    for host in ["", "   "] {
        let r = send(
            &fake,
            relay_request("PUT", PROFILE, Some(SKEY), Some(host), Some(json!({}))),
        )
        .await;
        assert_eq!(assert_relay_error(&r, 400), "No Deployment URL specified");
        assert_eq!(last_rule(&fake), "relay.no_deployment");
    }
}

// ------------------------------------------------------------------ several deployments

pub(crate) const STAGING: &str = "staging.europe-west1.talon.one";
pub(crate) const STAGING_KEY: &str = "ApiKey-v1 staging-relay-key";

/// The default state (production) with a staging deployment of its own catalog and keys.
fn two_deployments_json() -> Value {
    let mut v: Value = serde_json::from_str(talon_fake::DEFAULT_STATE_JSON).expect("json");
    v["deployments"] = json!([{
        "accountId": 2,
        "hostname": format!("https://{STAGING}/"),
        "applications": [{"id": 7, "name": "Staging"}],
        "integrationKeys": [{"key": "staging-relay-key", "applicationId": 7, "platform": "Segment"}],
        "managementKeys": [],
        "attributes": [{"id": 1, "entity": "CustomerProfile", "name": "stagingOnly", "type": "string"}],
        "audiences": []
    }]);
    v
}

pub(crate) fn two_deployments() -> Fake {
    Fake::new(
        StateFile::from_json(&two_deployments_json().to_string()).expect("parses"),
        FakeConfig::default(),
    )
    .expect("loads")
}

#[tokio::test]
async fn one_fake_holds_two_deployments_each_with_its_own_catalog_and_profiles() {
    let fake = two_deployments();
    assert_eq!(
        fake.hostnames(),
        vec![
            "mycompany.europe-west1.talon.one".to_owned(),
            STAGING.to_owned()
        ]
    );
    // Staging's own attribute is unknown in production, and production's in staging.
    let r = send(
        &fake,
        relay_request(
            "PUT",
            PROFILE,
            Some(STAGING_KEY),
            Some(STAGING),
            Some(json!({"attributes": {"stagingOnly": "s"}})),
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.json);
    let entry = fake.journal().pop().expect("journalled");
    assert_eq!(
        entry.relay.and_then(|r| r.deployment).as_deref(),
        Some(STAGING)
    );
    assert!(fake.profile("u1").is_none(), "not in production");
    let dump = fake.state_dump();
    assert_eq!(dump.deployments.len(), 1);
    let staged = &dump.deployments[0].profiles;
    assert_eq!(staged.len(), 1);
    assert_eq!(staged[0].integration_id, "u1");
    assert_eq!(staged[0].attributes["stagingOnly"], "s");
    assert_eq!(staged[0].applications, vec![7]);

    let r = send(
        &fake,
        relay_request(
            "PUT",
            PROFILE,
            Some(STAGING_KEY),
            Some(STAGING),
            Some(json!({"attributes": {"plan": "gold"}})),
        ),
    )
    .await;
    assert!(assert_relay_error(&r, 400).contains("(at /attributes/plan)"));
    let r = relay(
        &fake,
        "PUT",
        PROFILE,
        Some(json!({"attributes": {"stagingOnly": "s"}})),
    )
    .await;
    assert!(assert_relay_error(&r, 400).contains("(at /attributes/stagingOnly)"));
    let r = relay(
        &fake,
        "PUT",
        PROFILE,
        Some(json!({"attributes": {"plan": "gold"}})),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        fake.profile("u1").expect("production")["attributes"]["plan"],
        "gold"
    );
    assert_eq!(
        fake.state_dump().deployments[0].profiles[0]
            .attributes
            .len(),
        1
    );
}

#[tokio::test]
async fn the_key_of_one_deployment_does_not_open_the_other_and_names_its_own() {
    let fake = two_deployments();
    let r = send(
        &fake,
        relay_request("PUT", PROFILE, Some(SKEY), Some(STAGING), Some(json!({}))),
    )
    .await;
    let error = assert_relay_error(&r, 401);
    assert!(
        error.contains("\"mycompany.europe-west1.talon.one\""),
        "{error}"
    );
    assert_eq!(last_rule(&fake), "auth.unknown_key");
    let r = send(
        &fake,
        relay_request(
            "PUT",
            PROFILE,
            Some(STAGING_KEY),
            Some(HOST),
            Some(json!({})),
        ),
    )
    .await;
    let error = assert_relay_error(&r, 401);
    assert!(error.contains(&format!("{STAGING:?}")), "{error}");
    assert_eq!(last_rule(&fake), "auth.unknown_key");
    assert!(fake.profile("u1").is_none());
    assert!(fake.state_dump().deployments[0].profiles.is_empty());
}

#[tokio::test]
async fn the_state_of_every_deployment_is_dumped_streamed_and_reloaded_to_the_same_bytes() {
    let fake = two_deployments();
    for (auth, host, attrs) in [
        (SKEY, HOST, json!({"plan": "gold"})),
        (STAGING_KEY, STAGING, json!({"stagingOnly": "s"})),
    ] {
        let r = send(
            &fake,
            relay_request(
                "PUT",
                PROFILE,
                Some(auth),
                Some(host),
                Some(json!({"attributes": attrs})),
            ),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.json);
    }
    let dump = fake.state_dump();
    assert_eq!(
        dump.deployments[0].hostname.as_deref(),
        Some("https://staging.europe-west1.talon.one/")
    );
    let text = dump.to_json_pretty();
    let mut streamed = Vec::new();
    fake.write_state(&mut streamed, false).expect("writes");
    assert_eq!(String::from_utf8(streamed).expect("utf-8"), text);
    let r = get(&fake, "/__admin/state?reveal_keys=true", None).await;
    assert_eq!(String::from_utf8_lossy(&r.raw), text);
    let admin: Value = serde_json::from_slice(&r.raw).expect("json");
    assert_eq!(
        admin["deployments"][0]["profiles"][0]["integrationId"],
        "u1"
    );
    let r = get(&fake, "/__admin/state", None).await;
    let redacted: Value = serde_json::from_slice(&r.raw).expect("json");
    assert_eq!(
        redacted["deployments"][0]["integrationKeys"][0]["key"],
        talon_fake::REDACTED_KEY
    );
    let again = Fake::new(
        StateFile::from_json(&text).expect("parses"),
        FakeConfig::default(),
    )
    .expect("loads");
    assert_eq!(again.state_dump().to_json_pretty(), text);
}

#[test]
fn inconsistent_deployments_are_refused() {
    let mut nested = two_deployments_json();
    nested["deployments"][0]["deployments"] = json!([{
        "hostname": "deeper.talon.one", "applications": [], "integrationKeys": [],
        "managementKeys": [], "attributes": []
    }]);
    let mut no_host = two_deployments_json();
    no_host["deployments"][0]
        .as_object_mut()
        .expect("object")
        .remove("hostname");
    let mut same_host = two_deployments_json();
    same_host["deployments"][0]["hostname"] = json!("HTTPS://MyCompany.europe-west1.talon.one/");
    let mut bad_host = two_deployments_json();
    bad_host["deployments"][0]["hostname"] = json!("https://staging.talon.one/v2");
    let mut bad_inner = two_deployments_json();
    bad_inner["deployments"][0]["integrationKeys"][0]["applicationId"] = json!(99);
    for (what, v) in [
        ("nested", nested),
        ("no hostname", no_host),
        ("same host", same_host),
        ("bad host", bad_host),
        ("bad inner state", bad_inner),
    ] {
        let s = StateFile::from_json(&v.to_string()).expect("parses");
        let err = Fake::new(s, FakeConfig::default()).expect_err(what);
        assert!(
            err.to_string().starts_with("inconsistent state file"),
            "{what}: {err}"
        );
    }
}

// ------------------------------------------------------------------ the profile endpoint

#[tokio::test]
async fn skip_non_existing_attributes_skips_unknown_ones_and_journals_them() {
    let fake = fake();
    let r = relay(
        &fake,
        "PUT",
        "/segment/v2/customer_profiles/u1?skipNonExistingAttributes=true",
        Some(json!({"attributes": {"plan": "gold", "Plan": "x", "a/b": 1}})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.json);
    let p = fake.profile("u1").expect("stored");
    assert_eq!(p["attributes"], json!({"plan": "gold"}));
    let entry = fake.journal().pop().expect("journalled");
    assert_eq!(entry.rule, "ok.relay_profile_updated");
    let mut skipped = entry.relay.expect("relay entry").skipped;
    skipped.sort();
    assert_eq!(skipped, vec!["/attributes/Plan", "/attributes/a~1b"]);
}

#[tokio::test]
async fn skip_non_existing_attributes_still_refuses_a_wrong_type() {
    let fake = fake();
    let r = relay(
        &fake,
        "PUT",
        "/segment/v2/customer_profiles/u1?skipNonExistingAttributes=true",
        Some(json!({"attributes": {"plan": "gold", "Plan": "x", "logins": "3"}})),
    )
    .await;
    let error = assert_relay_error(&r, 400);
    assert!(error.contains("(at /attributes/logins)"), "{error}");
    assert_eq!(last_rule(&fake), "attribute.type");
    assert!(fake.profile("u1").is_none(), "all or nothing");
}

#[tokio::test]
async fn without_skip_an_unknown_attribute_refuses_the_whole_update() {
    let fake = fake();
    for query in ["", "?skipNonExistingAttributes=false"] {
        let r = relay(
            &fake,
            "PUT",
            &format!("{PROFILE}{query}"),
            Some(json!({"attributes": {"plan": "gold", "Plan": "x"}})),
        )
        .await;
        assert!(assert_relay_error(&r, 400).contains("(at /attributes/Plan)"));
        assert_eq!(last_rule(&fake), "attribute.unknown");
    }
    assert!(fake.profile("u1").is_none());
}

#[tokio::test]
async fn a_skip_flag_that_is_not_true_or_false_is_a_query_error_in_the_relay_envelope() {
    let fake = fake();
    let r = relay(
        &fake,
        "PUT",
        &format!("{PROFILE}?skipNonExistingAttributes=maybe"),
        Some(json!({"attributes": {"plan": "gold"}})),
    )
    .await;
    let error = assert_relay_error(&r, 400);
    assert!(error.contains("skipNonExistingAttributes"), "{error}");
    assert_eq!(last_rule(&fake), "query.invalid");
    assert!(fake.profile("u1").is_none());
}

#[tokio::test]
async fn audience_changes_apply_with_the_rule_engine_and_unknown_ids_refuse_everything() {
    let fake = fake();
    let r = relay(
        &fake,
        "PUT",
        PROFILE,
        Some(json!({"attributes": {"plan": "a"}, "runRuleEngine": true, "audiencesChanges": {"adds": [1]}})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.json);
    let p = fake.profile("u1").expect("stored");
    assert_eq!(p["audienceMemberships"][0]["id"], 1);
    let r = relay(
        &fake,
        "PUT",
        PROFILE,
        Some(json!({"runRuleEngine": true, "audiencesChanges": {"deletes": [1]}})),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        fake.profile("u1").expect("stored")["audienceMemberships"],
        json!([])
    );
    let r = relay(
        &fake,
        "PUT",
        "/segment/v2/customer_profiles/u2",
        Some(json!({"attributes": {"plan": "a"}, "runRuleEngine": true, "audiencesChanges": {"adds": [1, 99]}})),
    )
    .await;
    assert!(assert_relay_error(&r, 400).contains("(at /audiencesChanges/adds/1)"));
    assert_eq!(last_rule(&fake), "audience.unknown");
    assert!(fake.profile("u2").is_none(), "nothing stored");
}

#[tokio::test]
async fn without_the_rule_engine_audience_changes_are_not_applied_and_the_journal_says_so() {
    let fake = fake();
    for (i, run) in [Some(false), None].iter().enumerate() {
        let id = format!("u{i}");
        let mut body = json!({"attributes": {"plan": "a"}, "audiencesChanges": {"adds": [1]}});
        if let Some(run) = run {
            body["runRuleEngine"] = json!(run);
        }
        let r = relay(
            &fake,
            "PUT",
            &format!("/segment/v2/customer_profiles/{id}"),
            Some(body),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.json);
        let p = fake.profile(&id).expect("stored");
        assert_eq!(p["attributes"]["plan"], "a");
        assert_eq!(p["audienceMemberships"], json!([]), "{run:?}");
        let notes = fake
            .journal()
            .pop()
            .and_then(|e| e.relay)
            .expect("relay")
            .notes;
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0].contains("runRuleEngine is false"), "{notes:?}");
    }
}

#[tokio::test]
async fn empty_bodies_and_empty_audience_changes_are_accepted_and_create_the_profile() {
    let fake = fake();
    for (id, body) in [
        ("u1", json!({})),
        ("u2", json!({"audiencesChanges": {}, "runRuleEngine": true})),
        (
            "u3",
            json!({"attributes": {}, "audiencesChanges": {"adds": [], "deletes": []}}),
        ),
    ] {
        let r = relay(
            &fake,
            "PUT",
            &format!("/segment/v2/customer_profiles/{id}"),
            Some(body),
        )
        .await;
        assert_eq!(r.status, 200, "{id}: {}", r.json);
        assert!(fake.profile(id).is_some(), "{id} created");
    }
}

#[tokio::test]
async fn audience_ids_below_1_are_refused() {
    let fake = fake();
    for (body, pointer) in [
        (json!({"adds": [0]}), "/audiencesChanges/adds/0"),
        (
            json!({"adds": [1], "deletes": [1, -3]}),
            "/audiencesChanges/deletes/1",
        ),
    ] {
        let r = relay(
            &fake,
            "PUT",
            PROFILE,
            Some(json!({"runRuleEngine": true, "audiencesChanges": body})),
        )
        .await;
        assert!(assert_relay_error(&r, 400).contains(&format!("(at {pointer})")));
        assert_eq!(last_rule(&fake), "body.invalid_field");
    }
    assert!(fake.profile("u1").is_none());
}

#[tokio::test]
async fn a_customer_profile_id_over_1000_characters_is_refused() {
    let fake = fake();
    let long = "x".repeat(1001);
    let r = relay(
        &fake,
        "PUT",
        &format!("/segment/v2/customer_profiles/{long}"),
        Some(json!({})),
    )
    .await;
    assert!(assert_relay_error(&r, 400).contains("(parameter customerProfileId)"));
    assert_eq!(last_rule(&fake), "integration_id.invalid");
    assert_eq!(fake.profile_count(), 0);
    let ok = "x".repeat(1000);
    let r = relay(
        &fake,
        "PUT",
        &format!("/segment/v2/customer_profiles/{ok}"),
        Some(json!({})),
    )
    .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn a_profile_with_every_parallel_slot_taken_gets_429() {
    let fake = fake();
    let held: Vec<_> = (0..talon_fake::DEFAULT_MAX_IN_FLIGHT_PER_PROFILE)
        .map(|_| fake.hold_profile("u1").expect("a slot"))
        .collect();
    let r = relay(
        &fake,
        "PUT",
        PROFILE,
        Some(json!({"attributes": {"plan": "a"}})),
    )
    .await;
    let error = assert_relay_error(&r, 429);
    assert!(error.contains("parallel"), "{error}");
    assert_eq!(last_rule(&fake), "relay.parallel_requests");
    assert!(fake.profile("u1").is_none());
    // Another profile is not held up; and once one slot is free the update goes through.
    let r = relay(
        &fake,
        "PUT",
        "/segment/v2/customer_profiles/u2",
        Some(json!({})),
    )
    .await;
    assert_eq!(r.status, 200);
    drop(held);
    let r = relay(
        &fake,
        "PUT",
        PROFILE,
        Some(json!({"attributes": {"plan": "a"}})),
    )
    .await;
    assert_eq!(r.status, 200);
}

// ------------------------------------------------------------------ bad input

#[rstest::rstest]
#[case::malformed_json(b"{\"attributes\": ".to_vec(), "body.malformed_json")]
#[case::array_body(b"[1,2]".to_vec(), "body.not_object")]
#[case::string_body(b"\"x\"".to_vec(), "body.not_object")]
#[case::empty_body(Vec::new(), "body.malformed_json")]
#[case::invalid_utf8(vec![b'{', b'"', 0xff, 0xfe, b'"', b':', b'1', b'}'], "body.invalid_utf8")]
#[case::deep_nesting(format!("{{\"attributes\":{}{}}}", "[".repeat(5000), "]".repeat(5000)).into_bytes(), "body.too_deep")]
#[case::unknown_field(br#"{"audienceChanges": {}}"#.to_vec(), "body.unknown_field")]
#[case::wrong_field_type(br#"{"runRuleEngine": "yes"}"#.to_vec(), "body.invalid_field")]
#[tokio::test]
async fn a_bad_body_gets_400_in_the_relay_envelope_and_changes_nothing(
    #[case] body: Vec<u8>,
    #[case] rule: &str,
) {
    let fake = fake();
    let r = relay_raw(&fake, "PUT", PROFILE, Some("application/json"), body).await;
    assert_relay_error(&r, 400);
    assert_eq!(last_rule(&fake), rule);
    assert_eq!(fake.profile_count(), 0);
}

#[tokio::test]
async fn a_body_over_the_limit_gets_413_in_the_relay_envelope() {
    let fake = fake();
    let big = format!(
        "{{\"attributes\":{{\"plan\":\"{}\"}}}}",
        "x".repeat(talon_fake::DEFAULT_BODY_LIMIT)
    );
    let r = relay_raw(
        &fake,
        "PUT",
        PROFILE,
        Some("application/json"),
        big.into_bytes(),
    )
    .await;
    assert_relay_error(&r, 413);
    assert_eq!(last_rule(&fake), "body.too_large");
    assert_eq!(fake.profile_count(), 0);
}

#[rstest::rstest]
#[case::missing(None)]
#[case::text(Some("text/plain"))]
#[tokio::test]
async fn a_body_not_declared_json_gets_415_in_the_relay_envelope(#[case] ct: Option<&str>) {
    let fake = fake();
    let r = relay_raw(&fake, "PUT", PROFILE, ct, b"{}".to_vec()).await;
    assert!(assert_relay_error(&r, 415).contains("Content-Type"));
    assert_eq!(last_rule(&fake), "body.content_type");
    assert_eq!(fake.profile_count(), 0);
}

#[tokio::test]
async fn a_path_id_that_is_not_strictly_percent_encoded_is_refused() {
    let fake = fake();
    for id in ["coll%FFx", "a%G1", "a%F", "%C3%28"] {
        let r = relay(
            &fake,
            "PUT",
            &format!("/segment/v2/customer_profiles/{id}"),
            Some(json!({})),
        )
        .await;
        assert!(
            assert_relay_error(&r, 400).contains("(parameter customerProfileId)"),
            "{id}"
        );
        assert_eq!(last_rule(&fake), "path.invalid", "{id}");
    }
    assert_eq!(fake.profile_count(), 0);
    let r = relay(
        &fake,
        "PUT",
        "/segment/v2/customer_profiles/caf%C3%A9",
        Some(json!({})),
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(fake.profile("café").is_some());
}

#[tokio::test]
async fn header_values_with_control_or_non_ascii_bytes_get_a_clear_4xx() {
    let fake = fake();
    let cases: [(&str, &[u8], u16, &str); 4] = [
        (
            "destination-hostname",
            b"mycompany\t.europe-west1.talon.one",
            400,
            "relay.deployment_invalid",
        ),
        (
            "destination-hostname",
            b"mycompany.europe-west1.talon.one\xff",
            400,
            "relay.deployment_invalid",
        ),
        (
            "authorization",
            b"ApiKey-v1 segment-demo-relay-key\t",
            401,
            "auth.unknown_key",
        ),
        (
            "authorization",
            b"ApiKey-v1 segment-demo-relay-key\xff",
            401,
            "auth.malformed",
        ),
    ];
    for (name, value, status, rule) in cases {
        let mut req = relay_request("PUT", PROFILE, Some(SKEY), Some(HOST), Some(json!({})));
        req.headers_mut().insert(
            name,
            HeaderValue::from_bytes(value).expect("a valid header value"),
        );
        let r = send(&fake, req).await;
        assert_relay_error(&r, status);
        assert_eq!(last_rule(&fake), rule, "{name}: {value:?}");
    }
    assert_eq!(fake.profile_count(), 0);
}

#[tokio::test]
async fn an_unknown_relay_path_is_404_and_a_wrong_method_405_in_the_relay_envelope() {
    let fake = fake();
    for path in [
        "/segment/nope",
        "/segment",
        "/segment/v2/customer_profiles",
        "/segment/v3/customer_profiles/u1",
    ] {
        let r = relay(&fake, "PUT", path, Some(json!({}))).await;
        assert_eq!(assert_relay_error(&r, 404), "Not Found", "{path}");
        assert_eq!(last_rule(&fake), "route.not_found");
    }
    for method in ["GET", "POST", "DELETE"] {
        let r = relay(&fake, method, PROFILE, None).await;
        assert_eq!(
            assert_relay_error(&r, 405),
            "Method Not Allowed",
            "{method}"
        );
        assert_eq!(last_rule(&fake), "route.method_not_allowed");
    }
    assert_eq!(fake.profile_count(), 0);
}

// ------------------------------------------------------------------ the journal

#[tokio::test]
async fn every_relay_request_is_one_journal_entry_with_its_deployment_header_and_rule() {
    let fake = fake();
    relay(
        &fake,
        "PUT",
        PROFILE,
        Some(json!({"attributes": {"plan": "a"}})),
    )
    .await;
    send(
        &fake,
        relay_request("PUT", PROFILE, Some(SKEY), None, Some(json!({}))),
    )
    .await;
    send(
        &fake,
        relay_request(
            "PUT",
            PROFILE,
            Some(SKEY),
            Some("nowhere.talon.one"),
            Some(json!({})),
        ),
    )
    .await;
    relay(
        &fake,
        "PUT",
        PROFILE,
        Some(json!({"attributes": {"Plan": "a"}})),
    )
    .await;
    let journal = fake.journal();
    assert_eq!(journal.len(), 4);
    let seen: Vec<(u16, &str, Option<&str>, Option<&str>)> = journal
        .iter()
        .map(|e| {
            (
                e.status,
                e.rule.as_str(),
                e.relay.as_ref().and_then(|r| r.deployment.as_deref()),
                e.headers
                    .iter()
                    .find(|(k, _)| k == "destination-hostname")
                    .map(|(_, v)| v.as_str()),
            )
        })
        .collect();
    let home = Some("mycompany.europe-west1.talon.one");
    assert_eq!(
        seen,
        vec![
            (200, "ok.relay_profile_updated", home, Some(HOST)),
            (400, "relay.no_deployment", None, None),
            (
                400,
                "relay.deployment_unknown",
                None,
                Some("nowhere.talon.one")
            ),
            (400, "attribute.unknown", home, Some(HOST)),
        ]
    );
    // The RequestUUID of a refusal is fixed by the entry's sequence number: a rerun gives the same.
    let again = crate::support::fake();
    relay(
        &again,
        "PUT",
        PROFILE,
        Some(json!({"attributes": {"plan": "a"}})),
    )
    .await;
    send(
        &again,
        relay_request("PUT", PROFILE, Some(SKEY), None, Some(json!({}))),
    )
    .await;
    assert_eq!(
        again.journal()[1].response_json()["RequestUUID"],
        journal[1].response_json()["RequestUUID"]
    );
    assert_ne!(
        journal[1].response_json()["RequestUUID"],
        journal[2].response_json()["RequestUUID"]
    );
}

#[tokio::test]
async fn no_relay_endpoint_answers_bad_input_with_anything_but_a_4xx_in_its_envelope() {
    let fake = fake();
    let before = fake.state_dump().to_json_pretty();
    let deep = format!("{{\"a\":{}{}}}", "[".repeat(5000), "]".repeat(5000));
    let bodies: [(Option<&str>, Vec<u8>); 7] = [
        (Some("application/json"), b"{\"attributes\": ".to_vec()),
        (Some("application/json"), b"[1]".to_vec()),
        (
            Some("application/json"),
            vec![b'{', b'"', 0xff, b'"', b':', b'1', b'}'],
        ),
        (Some("application/json"), deep.into_bytes()),
        (
            Some("application/json"),
            b"{\"data\": null, \"audienceId\": null, \"attributes\": null}".to_vec(),
        ),
        (Some("text/plain"), b"{}".to_vec()),
        (None, b"{}".to_vec()),
    ];
    for (method, path) in [
        ("PUT", "/segment/v2/customer_profiles/u1"),
        ("POST", "/segment/audiences"),
        ("PUT", "/segment/audiences/aud_demo"),
        ("PUT", "/segment/customer_profiles/audiences"),
        ("PUT", "/segment/customer_profile/u1"),
        ("PUT", "/segment/customer_profile_v2/u1"),
    ] {
        for (ct, body) in &bodies {
            let r = relay_raw(&fake, method, path, *ct, body.clone()).await;
            assert!(
                r.status.is_client_error(),
                "{method} {path} {ct:?}: {}",
                r.status
            );
            assert_relay_error(&r, r.status.as_u16());
        }
    }
    assert_eq!(
        fake.state_dump().to_json_pretty(),
        before,
        "nothing changed"
    );
}
