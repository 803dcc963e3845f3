//! Observability and control: the journal, `/__admin/*`, fault injection and the rate limit.

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use serde_json::json;
use talon_fake::{Fake, FakeConfig, FaultPlan, StateFile, router};
use tower::ServiceExt;

use crate::support::*;

#[tokio::test]
async fn every_request_is_journalled_with_its_decision_and_a_redacted_key() {
    let fake = fake();
    put_profile(
        &fake,
        "u1",
        "?runRuleEngine=false",
        json!({"attributes": {"plan": "a"}}),
    )
    .await;
    put_profile(&fake, "u1", "", json!({"attributes": {"nope": 1}})).await;
    let j = fake.journal();
    assert_eq!(j.len(), 2);
    assert_eq!(j[0].seq, 1);
    assert_eq!(j[0].method, "PUT");
    assert_eq!(j[0].path, "/v2/customer_profiles/u1");
    assert_eq!(j[0].query.as_deref(), Some("runRuleEngine=false"));
    assert_eq!(j[0].body_json(), json!({"attributes": {"plan": "a"}}));
    assert_eq!(j[0].status, 200);
    assert_eq!(j[0].rule, "ok.profile_updated");
    assert!(j[0].headers.contains(&(
        "authorization".to_owned(),
        "ApiKey-v1 <redacted>".to_owned()
    )));
    assert_eq!(j[1].status, 400);
    assert_eq!(j[1].rule, "attribute.unknown");
    assert_eq!(
        j[1].response_json()["errors"][0]["source"]["pointer"],
        "/attributes/nope"
    );
}

#[tokio::test]
async fn the_journal_is_capped_and_counts_what_it_dropped() {
    let config = FakeConfig {
        journal_cap: 3,
        ..FakeConfig::default()
    };
    let fake = Fake::new(StateFile::default_state(), config).expect("loads");
    for i in 0..5 {
        put_profile(&fake, &format!("u{i}"), "", json!({})).await;
    }
    let seqs: Vec<u64> = fake.journal().iter().map(|e| e.seq).collect();
    assert_eq!(seqs, vec![3, 4, 5]);
    assert_eq!(fake.journal_dropped(), 2);
}

#[tokio::test]
async fn the_admin_endpoints_show_the_journal_and_state_and_are_not_journalled() {
    let fake = fake();
    put_profile(&fake, "u1", "", json!({"attributes": {"plan": "a"}})).await;
    let r = get(&fake, "/__admin/journal", None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json["dropped"], 0);
    assert_eq!(r.json["entries"].as_array().map(Vec::len), Some(1));
    let r = get(&fake, "/__admin/state", None).await;
    assert_eq!(r.json["profiles"][0]["integrationId"], "u1");
    assert_eq!(fake.journal().len(), 1);
}

#[tokio::test]
async fn only_paths_under_the_admin_prefix_reach_the_control_endpoints() {
    let fake = fake();
    // The control endpoints: answered, never journalled.
    assert_eq!(get(&fake, "/__admin/journal", None).await.status, 200);
    assert!(fake.journal().is_empty());
    // An unknown control path, and a path that only starts with the prefix's letters, are
    // Talon.One paths the fake does not know: a journalled 404 from the pipeline.
    for path in ["/__admin/nope", "/__administrator", "/__adminjournal"] {
        let r = get(&fake, path, None).await;
        assert_eq!(r.status, 404, "{path}");
        assert_eq!(last_rule(&fake), "route.not_found", "{path}");
    }
    assert_eq!(fake.journal().len(), 3);
}

#[tokio::test]
async fn reset_returns_to_the_initial_state_and_clears_the_journal() {
    let fake = fake();
    put_profile(&fake, "u1", "", json!({})).await;
    let r = call(&fake, "POST", "/__admin/reset", None, None).await;
    assert_eq!(r.status, 204);
    assert_eq!(fake.profile_count(), 0);
    assert!(fake.journal().is_empty());
    let r = raw(
        &fake,
        "POST",
        "/__admin/reset",
        None,
        b"{\"nope\":1}".to_vec(),
    )
    .await;
    assert_error_shape(&r, 400);
}

async fn set_faults(fake: &Fake, plan: serde_json::Value) {
    let r = call(fake, "PUT", "/__admin/faults", None, Some(plan)).await;
    assert_eq!(r.status, 204, "{}", r.json);
}

#[tokio::test]
async fn a_status_fault_answers_the_given_times_for_the_matching_profile_only() {
    let fake = fake();
    set_faults(
        &fake,
        json!({"rules": [{"method": "PUT", "path_prefix": "/v2/customer_profiles/", "integration_id": "u1", "respond": {"status": 503}, "times": 2}]}),
    )
    .await;
    assert_eq!(put_profile(&fake, "u2", "", json!({})).await.status, 200);
    let r = put_profile(&fake, "u1", "", json!({"attributes": {"plan": "x"}})).await;
    assert_error_shape(&r, 503);
    assert_eq!(last_rule(&fake), "fault.status");
    assert_eq!(put_profile(&fake, "u1", "", json!({})).await.status, 503);
    assert_eq!(put_profile(&fake, "u1", "", json!({})).await.status, 200);
    assert!(
        fake.profile("u1").expect("stored")["attributes"]
            .as_object()
            .is_some_and(|m| m.is_empty()),
        "faulted requests change nothing"
    );
}

#[tokio::test]
async fn seeded_probabilistic_faults_repeat_exactly_for_the_same_seed() {
    async fn run() -> Vec<u16> {
        let fake = fake();
        fake.set_faults(
            FaultPlan::from_json(
                r#"{"seed": 42, "rules": [{"respond": {"status": 429}, "probability": 0.3}]}"#,
            )
            .expect("plan"),
        );
        let mut out = Vec::new();
        for i in 0..40 {
            out.push(
                put_profile(&fake, &format!("u{i}"), "", json!({}))
                    .await
                    .status
                    .as_u16(),
            );
        }
        out
    }
    let a = run().await;
    assert_eq!(a, run().await);
    assert!(a.contains(&429) && a.contains(&200));
}

#[tokio::test]
async fn a_dropped_connection_fault_aborts_the_response_body() {
    let fake = fake();
    fake.set_faults(
        FaultPlan::from_json(r#"{"rules": [{"respond": "drop_connection", "times": 1}]}"#)
            .expect("plan"),
    );
    let req = Request::builder()
        .uri("/v2/authping")
        .header("authorization", IKEY)
        .body(Body::empty())
        .expect("req");
    let resp = router(fake.clone()).oneshot(req).await.expect("infallible");
    assert!(resp.into_body().collect().await.is_err());
    assert_eq!(fake.journal()[0].rule, "fault.drop_connection");
    assert_eq!(get(&fake, "/v2/authping", Some(IKEY)).await.status, 204);
}

#[tokio::test(start_paused = true)]
async fn a_delayed_response_still_arrives_correct() {
    let fake = fake();
    set_faults(&fake, json!({"rules": [{"respond": {"delay_ms": 30000}}]})).await;
    let r = put_profile(&fake, "u1", "", json!({"attributes": {"plan": "x"}})).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        fake.profile("u1").expect("stored")["attributes"]["plan"],
        "x"
    );
}

#[tokio::test(start_paused = true)]
async fn the_rate_limit_answers_429_beyond_the_rate() {
    let fake = fake();
    set_faults(&fake, json!({"rate_limit_per_sec": 2})).await;
    let mut got = Vec::new();
    for _ in 0..3 {
        got.push(get(&fake, "/v2/authping", Some(IKEY)).await.status.as_u16());
    }
    assert_eq!(got, vec![204, 204, 429]);
    assert_eq!(last_rule(&fake), "fault.rate_limit");
    tokio::time::advance(std::time::Duration::from_secs(1)).await;
    assert_eq!(get(&fake, "/v2/authping", Some(IKEY)).await.status, 204);
}

#[tokio::test]
async fn an_invalid_fault_plan_is_refused() {
    let fake = fake();
    let r = put(
        &fake,
        "/__admin/faults",
        None,
        json!({"rules": [{"respond": {"status": 404}}]}),
    )
    .await;
    assert_error_shape(&r, 400);
    let r = get(&fake, "/__admin/faults", None).await;
    assert_eq!(r.json["rules"], json!([]));
}

#[test]
fn the_example_fault_plan_fixture_parses() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/talon/faults-example.json");
    let text = std::fs::read_to_string(path).expect("fixture");
    let plan = FaultPlan::from_json(&text).expect("valid plan");
    assert_eq!(plan.rules.len(), 5);
    // Only reproducible rules: no time-based rate limit (see `faults-rate-limit.json`).
    assert_eq!(plan.rate_limit_per_sec, None);
}

#[tokio::test]
async fn the_state_endpoint_redacts_api_keys_unless_asked_to_reveal_them() {
    let fake = fake();
    let r = get(&fake, "/__admin/state", None).await;
    assert_eq!(r.status, 200);
    let text = String::from_utf8_lossy(&r.raw);
    assert!(!text.contains("segment-demo-integration-key"), "{text}");
    assert!(!text.contains("segment-demo-management-key"), "{text}");
    assert_eq!(
        r.json["integrationKeys"][0]["key"],
        talon_fake::REDACTED_KEY
    );
    assert_eq!(r.json["managementKeys"][0], talon_fake::REDACTED_KEY);
    let r = get(&fake, "/__admin/state?reveal_keys=true", None).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        String::from_utf8_lossy(&r.raw),
        fake.state_dump().to_json_pretty(),
        "revealed, the dump is the loadable state file"
    );
    let r = get(&fake, "/__admin/state?reveal_keys=yes", None).await;
    assert_eq!(assert_error_shape(&r, 400), vec!["reveal_keys"]);
}

#[tokio::test]
async fn with_an_admin_token_every_admin_endpoint_needs_it() {
    let fake = talon_fake::Fake::new(
        talon_fake::StateFile::default_state(),
        FakeConfig {
            admin_token: Some("s3cret".into()),
            ..FakeConfig::default()
        },
    )
    .expect("loads");
    for (method, uri) in [
        ("GET", "/__admin/journal"),
        ("GET", "/__admin/state"),
        ("POST", "/__admin/reset"),
        ("GET", "/__admin/faults"),
        ("PUT", "/__admin/faults"),
    ] {
        for auth in [
            None,
            Some("Bearer nope"),
            Some("s3cret"),
            Some("Bearer s3cre"),
        ] {
            let r = call(&fake, method, uri, auth, None).await;
            assert_eq!(
                assert_error_shape(&r, 401),
                vec!["Authorization"],
                "{method} {uri} {auth:?}"
            );
        }
    }
    let r = call(
        &fake,
        "GET",
        "/__admin/journal",
        Some("Bearer s3cret"),
        None,
    )
    .await;
    assert_eq!(r.status, 200);
    let r = call(&fake, "POST", "/__admin/reset", Some("Bearer s3cret"), None).await;
    assert_eq!(r.status, 204);
    // The Talon.One API itself is unaffected.
    let r = get(&fake, "/v2/authping", Some(IKEY)).await;
    assert_eq!(r.status, 204);
}

#[tokio::test]
async fn large_headers_and_queries_count_against_the_journal_budget_and_evict_old_entries() {
    let fake = Fake::new(
        StateFile::default_state(),
        FakeConfig {
            journal_max_bytes: 1024 * 1024,
            ..FakeConfig::default()
        },
    )
    .expect("loads");
    let big = "u".repeat(300 * 1024);
    for _ in 0..10 {
        let req = Request::builder()
            .method("GET")
            .uri("/v2/authping")
            .header("authorization", IKEY)
            .header("user-agent", big.as_str())
            .body(Body::empty())
            .expect("request");
        let r = send(&fake, req).await;
        assert_eq!(r.status, 204);
    }
    // 300 KiB of header each: at most three fit in 1 MiB.
    assert!(fake.journal().len() <= 3, "{}", fake.journal().len());
    assert_eq!(fake.journal_dropped() as usize + fake.journal().len(), 10);
    assert!(fake.journal_bytes() <= 1024 * 1024);
    assert!(fake.journal_bytes() >= fake.journal().len() * big.len());
    // The same for a long query string (a URI is at most 64 KiB), on the hot path.
    let query = format!("?x={}", "q".repeat(60 * 1024));
    for _ in 0..30 {
        put_profile(&fake, "u1", &query, json!({})).await;
    }
    assert!(fake.journal().len() <= 17, "{}", fake.journal().len());
    assert!(fake.journal_bytes() <= 1024 * 1024);
}

#[tokio::test]
async fn an_ordinary_request_costs_the_journal_well_under_a_kilobyte_besides_its_bodies() {
    let fake = fake();
    put_profile(&fake, "u1", "", json!({"attributes": {"plan": "a"}})).await;
    let e = &fake.journal()[0];
    let overhead = fake.journal_bytes() - e.body.len() - e.response_body.len();
    assert!(overhead < 1024, "{overhead}");
    assert!(overhead > e.path.len(), "{overhead}");
}
