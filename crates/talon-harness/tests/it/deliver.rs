//! Delivery through a real socket to the fake, under injected faults.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Value, json};
use talon_fake::{Fake, FakeConfig, FaultPlan, MockServer, StateFile};
use talon_harness::deliver::{self, DeliveryConfig};
use talon_harness::report::{EventReport, Outcome};
use talon_mapper::{Destination, Settings};

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
    run_at(plan, max_attempts, timeout, 8).await
}

async fn run_at(
    plan: &str,
    max_attempts: u32,
    timeout: Duration,
    concurrency: usize,
) -> (Vec<EventReport>, talon_harness::report::Summary, Fake) {
    let fake = Fake::new(StateFile::default_state(), FakeConfig::default()).unwrap();
    fake.set_faults(FaultPlan::from_json(plan).unwrap());
    let server = MockServer::start(fake.clone()).await.unwrap();
    let mut config = DeliveryConfig::new(server.uri());
    config.concurrency = concurrency;
    config.max_attempts = max_attempts;
    config.backoff_base = Duration::ZERO;
    config.seed = 3;
    config.timeout = timeout;
    let client = deliver::client(&config);
    let mut reports = Vec::new();
    let summary = deliver::run(
        events(),
        &Destination::Classic(settings()),
        &client,
        &config,
        |r| reports.push(r),
    )
    .await;
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
    let Outcome::Failed {
        attempts,
        status,
        error,
        unconfirmed,
    } = &failed[0].outcome
    else {
        unreachable!()
    };
    assert_eq!(*attempts, 3);
    assert_eq!(*status, Some(502), "the last status is kept");
    assert_eq!(*unconfirmed, 0, "an answered 502 applied nothing");
    assert!(error.starts_with("HTTP 502"), "{error}");
    let json = failed[0].to_json();
    assert_eq!(json["status"], 502);
    assert_eq!(json["attempts"], 3);
    assert!(json.get("unconfirmedAttempts").is_none());
    assert!(
        failed[0].explain()[0].contains("after 3 attempts, last status 502: HTTP 502"),
        "{:?}",
        failed[0].explain()
    );
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

// Paused time: the fake's 600 ms hold and the client's 150 ms limit run on
// tokio's clock, which jumps to the next timer only once every socket is idle,
// so the limit fires first however loaded the machine is.
#[tokio::test(start_paused = true)]
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
        matches!(
            first.outcome,
            Outcome::Delivered {
                attempts: 2,
                unconfirmed: 1,
                ..
            }
        ),
        "the timed-out attempt may have been applied: {:?}",
        first.outcome
    );
    assert_eq!(first.to_json()["possiblyAppliedOutOfOrder"], true);
    assert_eq!(profiles(&fake), expected(&events()));
    assert_eq!(
        reports
            .iter()
            .filter(|r| r.outcome.possibly_out_of_order())
            .count(),
        1,
        "only the timed-out event is flagged"
    );
}

const FAULTS: &str = r#"{"seed": 11, "rules": [
    {"path_prefix": "/v2/customer_profiles/", "respond": {"status": 503}, "probability": 0.1},
    {"path_prefix": "/v2/customer_profiles/", "respond": {"status": 429}, "probability": 0.05},
    {"path_prefix": "/v2/customer_profiles/", "respond": {"status": 500}, "probability": 0.05},
    {"path_prefix": "/v2/customer_profiles/", "respond": "drop_connection", "probability": 0.05}
]}"#;

/// What a run decided per event: kind, attempts, status, unconfirmed attempts.
fn decisions(reports: &[EventReport]) -> Vec<(String, u64, u64, u64)> {
    reports
        .iter()
        .map(|r| {
            let j = r.to_json();
            (
                r.outcome.kind().to_owned(),
                j["attempts"].as_u64().unwrap_or(0),
                j["status"].as_u64().unwrap_or(0),
                u64::from(r.outcome.unconfirmed()),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_plan_and_seed_give_the_same_outcomes_whatever_the_concurrency() {
    let (reports, summary, _) = run_at(FAULTS, 30, Duration::from_secs(10), 32).await;
    assert!(
        summary.retries() > 20,
        "the plan injected faults: {summary:?}"
    );
    let first = decisions(&reports);
    for run in 1..4 {
        let (reports, _, _) = run_at(FAULTS, 30, Duration::from_secs(10), 32).await;
        assert_eq!(decisions(&reports), first, "run {run} at concurrency 32");
    }
    // The coin does not depend on arrival order, so fewer lanes give the same faults too.
    let (reports, _, _) = run_at(FAULTS, 30, Duration::from_secs(10), 3).await;
    assert_eq!(decisions(&reports), first, "3 lanes");
}

/// Events for one profile: `logins` 1, 2, 3.
fn three_updates() -> Vec<(String, Vec<u8>)> {
    (1..=3)
        .map(|n| {
            let event = json!({"type": "identify", "userId": "u1", "traits": {"logins": n}});
            (format!("events:{n}"), event.to_string().into_bytes())
        })
        .collect()
}

async fn deliver_to(
    fake: &Fake,
    events: Vec<(String, Vec<u8>)>,
    configure: impl FnOnce(&mut DeliveryConfig),
) -> Vec<EventReport> {
    deliver_watched(fake, events, configure).await.0
}

async fn deliver_watched(
    fake: &Fake,
    events: Vec<(String, Vec<u8>)>,
    configure: impl FnOnce(&mut DeliveryConfig),
) -> (Vec<EventReport>, deliver::Watch) {
    let server = MockServer::start(fake.clone()).await.unwrap();
    let mut config = DeliveryConfig::new(server.uri());
    config.backoff_base = Duration::ZERO;
    configure(&mut config);
    let client = deliver::client(&config);
    let mut reports = Vec::new();
    let (_, watch) = deliver::run_watched(
        events,
        &Destination::Classic(settings()),
        &client,
        &config,
        |r| reports.push(r),
    )
    .await;
    drop(server);
    (reports, watch)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_request_lands_over_newer_updates_and_its_event_is_flagged() {
    // The first update reaches Talon.One only after the client retried it and sent updates 2
    // and 3: every event is delivered, and the profile ends with logins = 1.
    let fake = Fake::new(StateFile::default_state(), FakeConfig::default()).unwrap();
    fake.set_faults(
        FaultPlan::from_json(
            r#"{"rules": [{"integration_id": "u1", "times": 1,
                "respond": {"late_request": {"after_requests": 3, "max_ms": 600000}}}]}"#,
        )
        .unwrap(),
    );
    let (reports, watch) = deliver_watched(&fake, three_updates(), |_| {}).await;
    assert!(reports.iter().all(|r| r.outcome.kind() == "delivered"));
    assert_eq!(profiles(&fake)["u1"]["logins"], 1, "the late copy won");
    // Reading the flagged profile back finds it: the client last sent logins = 3.
    let actual = talon_harness::verify::profiles_of(&fake.state_dump());
    let mismatches: Vec<String> = watch
        .check(&actual, &BTreeMap::new())
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        mismatches,
        vec!["profile `u1`: `logins` should hold 3 but holds 1".to_owned()]
    );
    let flags: Vec<u32> = reports.iter().map(|r| r.outcome.unconfirmed()).collect();
    assert_eq!(flags, vec![1, 0, 0]);
    let json = reports[0].to_json();
    assert_eq!(json["possiblyAppliedOutOfOrder"], true);
    assert_eq!(json["unconfirmedAttempts"], 1);
    assert_eq!(json["attempts"], 2);
    let explained = reports[0].explain().join("\n");
    assert!(
        explained.contains("possibly applied out of order or twice")
            && explained.contains("read profile `u1` back"),
        "{explained}"
    );
    assert!(
        reports[1]
            .to_json()
            .get("possiblyAppliedOutOfOrder")
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_response_makes_the_retry_apply_the_update_twice_and_is_flagged() {
    let fake = Fake::new(StateFile::default_state(), FakeConfig::default()).unwrap();
    // The answer comes 60 s after the update, far beyond the client's 300 ms limit.
    fake.set_faults(
        FaultPlan::from_json(
            r#"{"rules": [{"integration_id": "u1", "times": 1, "respond": {"late_response_ms": 60000}}]}"#,
        )
        .unwrap(),
    );
    let events = three_updates().into_iter().take(1).collect();
    let (reports, watch) =
        deliver_watched(&fake, events, |c| c.timeout = Duration::from_millis(300)).await;
    // Applied twice, but an absolute update applied twice leaves the same values.
    let actual = talon_harness::verify::profiles_of(&fake.state_dump());
    assert_eq!(watch.profiles.len(), 1);
    assert!(watch.check(&actual, &BTreeMap::new()).is_empty());
    assert!(
        matches!(
            reports[0].outcome,
            Outcome::Delivered {
                attempts: 2,
                unconfirmed: 1,
                ..
            }
        ),
        "{:?}",
        reports[0].outcome
    );
    let applied: Vec<(u16, String)> = fake
        .journal()
        .into_iter()
        .map(|e| (e.status, e.body_json()["attributes"]["logins"].to_string()))
        .collect();
    assert_eq!(
        applied,
        vec![(200, "1".to_owned()), (200, "1".to_owned())],
        "applied twice"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_that_cannot_be_built_is_skipped_and_never_sent() {
    let fake = Fake::new(StateFile::default_state(), FakeConfig::default()).unwrap();
    let long = "x".repeat(100_000);
    let events = vec![(
        "events:1".to_owned(),
        json!({"type": "identify", "userId": long, "traits": {"logins": 1}})
            .to_string()
            .into_bytes(),
    )];
    let reports = deliver_to(&fake, events, |_| {}).await;
    let Outcome::Skipped { reason, message } = &reports[0].outcome else {
        panic!("{:?}", reports[0].outcome)
    };
    assert_eq!(*reason, "request_not_buildable");
    assert!(message.contains("never sent"), "{message}");
    assert!(fake.journal().is_empty(), "no attempt was made");
    assert_eq!(reports[0].to_json()["reason"], "request_not_buildable");
}

/// A free loopback port, with nothing listening on it.
fn free_port() -> std::net::SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

/// Delivers the first of [`three_updates`] with `config`; its reports, and how long
/// delivery took (on the test's clock, paused or not).
async fn deliver_one(config: &DeliveryConfig) -> (Vec<EventReport>, Duration) {
    let client = deliver::client(config);
    let started = tokio::time::Instant::now();
    let reports = deliver_all(&client, config, three_updates().into_iter().take(1)).await;
    (reports, started.elapsed())
}

/// Delivers `events` with the classic default settings; every event's report, in order.
async fn deliver_all(
    client: &deliver::Client,
    config: &DeliveryConfig,
    events: impl IntoIterator<Item = (String, Vec<u8>)>,
) -> Vec<EventReport> {
    let mut reports = Vec::new();
    deliver::run(
        events,
        &Destination::Classic(settings()),
        client,
        config,
        |r| reports.push(r),
    )
    .await;
    reports
}

fn paused_config(target: String) -> DeliveryConfig {
    let mut config = DeliveryConfig::new(target);
    config.concurrency = 4;
    config.backoff_base = Duration::from_millis(100);
    config.backoff_max = Duration::from_secs(1);
    config.timeout = Duration::from_secs(60);
    config
}

#[tokio::test(start_paused = true)]
async fn retries_stop_when_the_budget_is_spent() {
    let addr = free_port();
    let mut config = paused_config(format!("http://{addr}"));
    config.retry_budget = Duration::from_secs(5);
    let (reports, took) = deliver_one(&config).await;
    let Outcome::Failed {
        attempts,
        status,
        unconfirmed,
        error,
    } = &reports[0].outcome
    else {
        panic!("{:?}", reports[0].outcome)
    };
    assert!(*attempts > 5, "retried for the whole budget: {attempts}");
    assert_eq!(*status, None, "no attempt got an answer");
    assert_eq!(*unconfirmed, 0, "a refused connection applies nothing");
    assert!(error.starts_with("could not connect"), "{error}");
    assert!(
        took >= Duration::from_secs(5) && took < Duration::from_secs(6),
        "{took:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn events_sent_while_the_target_restarts_are_delivered_once_it_is_back() {
    let addr = free_port();
    let config = paused_config(format!("http://{addr}"));
    let client = deliver::client(&config);
    let batch = events();
    let delivery = {
        let config = config.clone();
        tokio::spawn(async move { deliver_all(&client, &config, batch).await })
    };
    // The target is down for 3 s (of the paused clock), then comes back on the same port.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let fake = Fake::new(StateFile::default_state(), FakeConfig::default()).unwrap();
    let server = MockServer::start_on(fake.clone(), addr).await.unwrap();
    let reports = delivery.await.unwrap();
    server.shutdown().await;
    let kinds: BTreeMap<&str, usize> = reports.iter().fold(BTreeMap::new(), |mut m, r| {
        *m.entry(r.outcome.kind()).or_default() += 1;
        m
    });
    assert_eq!(
        kinds,
        BTreeMap::from([("delivered", 280), ("rejected", 40), ("skipped", 80)])
    );
    assert!(
        reports
            .iter()
            .any(|r| matches!(r.outcome, Outcome::Delivered { attempts, .. } if attempts > 3)),
        "the first events waited for the target"
    );
    assert_eq!(profiles(&fake), expected(&events()));
}

/// A target that answers `first` (status and headers) to the first request and 204 after.
async fn answers_once(
    first: u16,
    retry_after: &'static str,
) -> (String, tokio::task::JoinHandle<()>) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};
    let seen = Arc::new(AtomicU32::new(0));
    let app = axum::Router::new().fallback(move || {
        let seen = seen.clone();
        async move {
            let status = if seen.fetch_add(1, Ordering::SeqCst) == 0 {
                first
            } else {
                204
            };
            let status = axum::http::StatusCode::from_u16(status).unwrap();
            (status, [("retry-after", retry_after)], "")
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let uri = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (uri, task)
}

#[tokio::test(start_paused = true)]
async fn retry_after_replaces_the_backoff_on_429_and_503() {
    for status in [429, 503] {
        let (uri, task) = answers_once(status, "7").await;
        let mut config = paused_config(uri);
        config.backoff_max = Duration::from_millis(10);
        let (reports, took) = deliver_one(&config).await;
        task.abort();
        assert!(
            matches!(reports[0].outcome, Outcome::Delivered { attempts: 2, .. }),
            "{:?}",
            reports[0].outcome
        );
        assert!(
            took >= Duration::from_secs(7) && took < Duration::from_secs(8),
            "{status}: waited {took:?}, as Retry-After asked"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_retry_after_beyond_the_budget_is_cut_to_it() {
    let (uri, task) = answers_once(429, "3600").await;
    let mut config = paused_config(uri);
    config.retry_budget = Duration::from_secs(2);
    config.max_attempts = 2;
    // The first attempt gets the 429; the second is made at the end of the budget (and gets 204).
    let (reports, took) = deliver_one(&config).await;
    task.abort();
    assert!(
        matches!(reports[0].outcome, Outcome::Delivered { attempts: 2, .. }),
        "{:?}",
        reports[0].outcome
    );
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(3),
        "waited the budget, not the hour: {took:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_429_exhausted_event_keeps_its_status() {
    let (uri, task) = answers_once(429, "1").await;
    let mut config = paused_config(uri);
    config.max_attempts = 1;
    let (reports, _) = deliver_one(&config).await;
    task.abort();
    let json = reports[0].to_json();
    assert_eq!(json["outcome"], "failed");
    assert_eq!(json["status"], 429);
    assert!(
        reports[0].explain()[0].contains("last status 429"),
        "{:?}",
        reports[0].explain()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_key_that_is_no_valid_header_value_is_skipped_unsent() {
    // Today's header would be left out silently, and Talon.One would answer 401.
    let fake = Fake::new(StateFile::default_state(), FakeConfig::default()).unwrap();
    let settings =
        Settings::new("key\nwith a newline", "https://demo.talon.one", &["logins"]).unwrap();
    let server = MockServer::start(fake.clone()).await.unwrap();
    let config = DeliveryConfig::new(server.uri());
    let client = deliver::client(&config);
    let mut reports = Vec::new();
    let events = three_updates().into_iter().take(1);
    deliver::run(
        events,
        &Destination::Classic(settings),
        &client,
        &config,
        |r| reports.push(r),
    )
    .await;
    server.shutdown().await;
    let Outcome::Skipped { reason, message } = &reports[0].outcome else {
        panic!("{:?}", reports[0].outcome)
    };
    assert_eq!(*reason, "request_not_buildable");
    assert!(
        message.contains("header `Authorization` is not valid in HTTP"),
        "{message}"
    );
    assert!(fake.journal().is_empty());
}

/// What a recording target saw of one request.
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// A target that records every request and answers 204.
async fn recording() -> (
    String,
    std::sync::Arc<std::sync::Mutex<Vec<Seen>>>,
    tokio::task::JoinHandle<()>,
) {
    use std::sync::{Arc, Mutex};
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let log = seen.clone();
    let app = axum::Router::new().fallback(move |request: axum::extract::Request| {
        let log = log.clone();
        async move {
            let (parts, body) = request.into_parts();
            let body = axum::body::to_bytes(body, 1 << 20)
                .await
                .unwrap_or_default();
            let headers = parts
                .headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or("?").to_owned()))
                .collect();
            log.lock().unwrap().push(Seen {
                method: parts.method.to_string(),
                path: parts.uri.to_string(),
                headers,
                body: body.to_vec(),
            });
            axum::http::StatusCode::NO_CONTENT
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let uri = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (uri, seen, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_sends_the_method_path_headers_and_body_the_mapper_set() {
    use rand::SeedableRng;
    use std::sync::Arc;
    let (uri, seen, task) = recording().await;
    let authority = uri.trim_start_matches("http://").to_owned();
    let config = DeliveryConfig::new(uri);
    let client = deliver::client(&config);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    // Requests as the Actions destination would build them: other methods, paths and headers.
    let delete = talon_mapper::Request::new(
        "DELETE",
        "https://integration.talon.one",
        "/segment/audiences/aud%201",
        vec![
            ("Authorization", Arc::from("ApiKey-v1 k")),
            ("destination-hostname", Arc::from("https://demo.talon.one")),
            ("user-agent", Arc::from("Segment (Actions)")),
        ],
        String::new(),
        "aud 1".into(),
    );
    let post = talon_mapper::Request::new(
        "POST",
        "https://integration.talon.one",
        "/segment/audiences?x=1",
        vec![
            ("Content-Type", Arc::from("application/json")),
            ("X-Correlation-ID", Arc::from("c-1")),
            ("X-Correlation-ID", Arc::from("c-2")),
        ],
        r#"{"audienceId":"a","audienceName":"A"}"#.into(),
        "a".into(),
    );
    let mut connection = client.connection();
    for request in [&delete, &post] {
        let outcome = deliver::send(&mut connection, &config, request, &mut rng).await;
        assert!(
            matches!(outcome, Outcome::Delivered { status: 204, .. }),
            "{outcome:?}"
        );
    }
    task.abort();
    let seen = seen.lock().unwrap().clone();
    let header = |s: &Seen, name: &str| -> Vec<String> {
        s.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
            .collect()
    };
    assert_eq!(seen.len(), 2, "{seen:#?}");
    assert_eq!(seen[0].method, "DELETE");
    assert_eq!(
        header(&seen[0], "host"),
        [authority],
        "HTTP/1.1's Host is added"
    );
    assert_eq!(seen[0].path, "/segment/audiences/aud%201");
    assert_eq!(
        header(&seen[0], "destination-hostname"),
        ["https://demo.talon.one"]
    );
    assert_eq!(header(&seen[0], "authorization"), ["ApiKey-v1 k"]);
    assert_eq!(header(&seen[0], "user-agent"), ["Segment (Actions)"]);
    assert!(header(&seen[0], "content-type").is_empty(), "{seen:#?}");
    assert!(seen[0].body.is_empty());
    assert_eq!(seen[1].method, "POST");
    assert_eq!(seen[1].path, "/segment/audiences?x=1");
    assert_eq!(header(&seen[1], "content-type"), ["application/json"]);
    assert_eq!(header(&seen[1], "x-correlation-id"), ["c-1", "c-2"]);
    assert_eq!(seen[1].body, br#"{"audienceId":"a","audienceName":"A"}"#);
}

/// Sends one `{method} /v2/customer_profiles/u1` with body `{}` to `target`, once.
async fn send_one_profile_update(target: &str, method: &'static str) -> Outcome {
    use rand::SeedableRng;
    let config = DeliveryConfig::new(target);
    let client = deliver::client(&config);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    let request = talon_mapper::Request::new(
        method,
        "https://demo.talon.one",
        "/v2/customer_profiles/u1",
        Vec::new(),
        "{}".into(),
        "u1".into(),
    );
    deliver::send(&mut client.connection(), &config, &request, &mut rng).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_method_http_does_not_allow_is_skipped_unsent() {
    let (uri, seen, task) = recording().await;
    let outcome = send_one_profile_update(&uri, "PUT ME").await;
    task.abort();
    let Outcome::Skipped { reason, message } = &outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(*reason, "request_not_buildable");
    assert!(message.contains("`PUT ME`"), "{message}");
    assert!(seen.lock().unwrap().is_empty());
}

/// A target that answers each connection's one request with 204 and
/// `Connection: close`, then closes it; it counts the connections it accepted.
async fn one_request_per_connection() -> (
    String,
    std::sync::Arc<std::sync::atomic::AtomicU32>,
    tokio::task::JoinHandle<()>,
) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let accepted = Arc::new(AtomicU32::new(0));
    let count = accepted.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let uri = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            let mut read = Vec::new();
            let mut buf = [0u8; 4096];
            // The head, then as many body bytes as Content-Length says.
            let complete = loop {
                let Ok(n) = socket.read(&mut buf).await else {
                    break false;
                };
                if n == 0 {
                    break false;
                }
                read.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&read).to_ascii_lowercase();
                if let Some(end) = text.find("\r\n\r\n") {
                    let length = text[..end]
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    if read.len() >= end + 4 + length {
                        break true;
                    }
                }
            };
            if complete {
                let _ = socket
                    .write_all(b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n")
                    .await;
            }
            let _ = socket.shutdown().await;
        }
    });
    (uri, accepted, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_the_target_closes_is_reopened_without_counting_an_attempt() {
    use std::sync::atomic::Ordering;
    let (uri, accepted, task) = one_request_per_connection().await;
    let mut config = DeliveryConfig::new(uri);
    config.concurrency = 1;
    let client = deliver::client(&config);
    let reports = deliver_all(&client, &config, three_updates()).await;
    task.abort();
    assert_eq!(reports.len(), 3);
    for report in &reports {
        assert!(
            matches!(
                report.outcome,
                Outcome::Delivered {
                    status: 204,
                    attempts: 1,
                    unconfirmed: 0
                }
            ),
            "{:?}",
            report.outcome
        );
    }
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        3,
        "one lane, one connection per request"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_that_is_no_http_url_makes_every_request_unbuildable() {
    for target in ["ftp://127.0.0.1:1", "127.0.0.1:1", "not a url"] {
        let outcome = send_one_profile_update(target, "PUT").await;
        let Outcome::Skipped { reason, message } = &outcome else {
            panic!("{target}: {outcome:?}")
        };
        assert_eq!(*reason, "request_not_buildable", "{target}");
        assert!(message.contains(target), "{message}");
    }
}
