//! Delivery through a real socket to the fake, under injected faults.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Value, json};
use talon_fake::{Fake, FakeConfig, FaultPlan, MockServer, StateFile};
use talon_harness::deliver::{self, DeliveryConfig};
use talon_harness::report::{EventReport, Outcome};
use talon_mapper::Settings;

const KEY: &str = "segment-demo-integration-key";

fn settings() -> Settings {
    // `vip` is configured but has no attribute in the default catalog, so
    // events carrying it are rejected whole.
    Settings::new(
        KEY,
        "https://demo.talon.one",
        &["email", "plan", "logins", "vip"],
    )
    .unwrap()
}

/// 400 events for 40 users: updates, some with an unknown attribute, and
/// some that are skipped.
fn events() -> Vec<(String, Vec<u8>)> {
    (0..400)
        .map(|i| {
            let user = format!("User{}", i % 40);
            let event = match i % 10 {
                0 => json!({"type": "track", "userId": user, "event": "x"}),
                1 => json!({"type": "identify", "anonymousId": "a", "traits": {"plan": "anon"}}),
                2 => json!({"type": "identify", "userId": user, "traits": {"vip": true, "plan": "never"}}),
                _ => json!({"type": "identify", "userId": user, "traits": {"email": format!("{i}@x.io"), "plan": format!("p{i}"), "logins": i}}),
            };
            (format!("events:{}", i + 1), event.to_string().into_bytes())
        })
        .collect()
}

/// What the profiles must hold: the last accepted value of each attribute.
fn expected(events: &[(String, Vec<u8>)]) -> BTreeMap<String, Value> {
    let mut profiles: BTreeMap<String, serde_json::Map<String, Value>> = BTreeMap::new();
    for (_, bytes) in events {
        let event: Value = serde_json::from_slice(bytes).unwrap();
        let traits = event["traits"].as_object();
        let (Some(user), Some(traits)) = (event["userId"].as_str(), traits) else {
            continue;
        };
        if event["type"] != "identify" || traits.contains_key("vip") {
            continue;
        }
        profiles
            .entry(user.to_owned())
            .or_default()
            .extend(traits.clone());
    }
    profiles
        .into_iter()
        .map(|(k, v)| (k, Value::Object(v)))
        .collect()
}

async fn run_with_faults(
    plan: &str,
    max_attempts: u32,
) -> (Vec<EventReport>, talon_harness::report::Summary, Fake) {
    run_with(plan, max_attempts, Duration::from_secs(10)).await
}

async fn run_with(
    plan: &str,
    max_attempts: u32,
    timeout: Duration,
) -> (Vec<EventReport>, talon_harness::report::Summary, Fake) {
    let fake = Fake::new(StateFile::default_state(), FakeConfig::default()).unwrap();
    fake.set_faults(FaultPlan::from_json(plan).unwrap());
    let server = MockServer::start(fake.clone()).await.unwrap();
    let mut config = DeliveryConfig::new(server.uri());
    config.concurrency = 8;
    config.max_attempts = max_attempts;
    config.backoff_base = Duration::ZERO;
    config.seed = 3;
    config.timeout = timeout;
    let client = deliver::client(&config);
    let mut reports = Vec::new();
    let summary = deliver::run(events(), &settings(), &client, &config, |r| reports.push(r)).await;
    server.shutdown().await;
    (reports, summary, fake)
}

fn profiles(fake: &Fake) -> BTreeMap<String, Value> {
    fake.state_dump()
        .profiles
        .into_iter()
        .map(|p| (p.integration_id, Value::Object(p.attributes)))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_gets_one_outcome_and_nothing_is_lost_under_faults() {
    let plan = r#"{"seed": 11, "rules": [
        {"path_prefix": "/v2/customer_profiles/", "respond": {"status": 503}, "probability": 0.1},
        {"path_prefix": "/v2/customer_profiles/", "respond": {"status": 429}, "probability": 0.05},
        {"path_prefix": "/v2/customer_profiles/", "respond": {"status": 500}, "probability": 0.05},
        {"path_prefix": "/v2/customer_profiles/", "respond": "drop_connection", "probability": 0.05}
    ]}"#;
    let (reports, summary, fake) = run_with_faults(plan, 30).await;
    assert_eq!(reports.len(), 400);
    assert!(
        reports.iter().enumerate().all(|(i, r)| r.index == i as u64),
        "reports come in input order"
    );
    assert!(summary.adds_up());
    assert_eq!(
        (summary.skipped, summary.rejected, summary.failed),
        (80, 40, 0)
    );
    assert_eq!(summary.delivered, 280);
    assert!(
        summary.retries() > 20,
        "the plan injected faults: {summary:?}"
    );
    assert_eq!(profiles(&fake), expected(&events()));
    for report in &reports {
        if let Outcome::Rejected { status, error, .. } = &report.outcome {
            assert_eq!(*status, 400);
            assert_eq!(error["errors"][0]["source"]["pointer"], "/attributes/vip");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exhausted_retries_are_reported_as_failed_with_the_last_error() {
    let plan = r#"{"rules": [{"integration_id": "User7", "respond": {"status": 502}}]}"#;
    let (reports, summary, fake) = run_with_faults(plan, 3).await;
    assert!(summary.adds_up());
    let failed: Vec<&EventReport> = reports
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Failed { .. }))
        .collect();
    // User7's events: i = 7, 17, …, 397 with i % 40 == 7 → 10 events, all identify updates.
    assert_eq!(failed.len(), 10);
    assert!(
        failed
            .iter()
            .all(|r| r.integration_id.as_deref() == Some("User7"))
    );
    let Outcome::Failed { attempts, error } = &failed[0].outcome else {
        unreachable!()
    };
    assert_eq!(*attempts, 3);
    assert!(error.starts_with("HTTP 502"), "{error}");
    assert!(!profiles(&fake).contains_key("User7"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_4xx_are_never_retried() {
    let (reports, summary, fake) = run_with_faults(r#"{"rules": []}"#, 5).await;
    assert_eq!(summary.rejected, 40);
    assert!(
        reports
            .iter()
            .filter(|r| r.outcome.kind() == "rejected")
            .all(|r| matches!(r.outcome, Outcome::Rejected { attempts: 1, .. }))
    );
    assert_eq!(summary.retries(), 0);
    let journal = fake.journal();
    assert_eq!(journal.len() as u64, summary.attempts);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timed_out_request_is_retried() {
    // The fake holds User3's first update past the client's time limit.
    let plan =
        r#"{"rules": [{"integration_id": "User3", "respond": {"delay_ms": 600}, "times": 1}]}"#;
    let (reports, summary, fake) = run_with(plan, 3, Duration::from_millis(150)).await;
    assert!(summary.adds_up());
    assert_eq!(summary.failed, 0);
    let first = reports
        .iter()
        .find(|r| r.integration_id.as_deref() == Some("User3"))
        .unwrap();
    assert!(
        matches!(first.outcome, Outcome::Delivered { attempts: 2, .. }),
        "{:?}",
        first.outcome
    );
    assert_eq!(profiles(&fake), expected(&events()));
}
