//! Delivery of Talon.One (Actions) events through a real socket to the fake's Segment relay:
//! one request per matching subscription, each retried on its own, one outcome per event; and
//! client-side pacing under the relay's rate.

use std::time::Duration;

use serde_json::{Value, json};
use talon_fake::{Fake, FakeConfig, FaultPlan, MockServer, StateFile};
use talon_harness::deliver::{self, DeliveryConfig};
use talon_harness::report::{EventDelivery, EventReport, Outcome, Summary};
use talon_mapper::Destination;
use talon_mapper::actions::ActionsConfig;

const SETTINGS: &str = r#"{"apiKey": "segment-demo-relay-key", "deployment": "https://mycompany.europe-west1.talon.one"}"#;

fn actions() -> Destination {
    let subscriptions = std::fs::read_to_string(crate::repo("fixtures/actions/subscriptions.json"))
        .expect("the shipped subscriptions");
    Destination::Actions(ActionsConfig::from_json(SETTINGS, &subscriptions).expect("valid"))
}

/// The default demo deployment, plus the event type `Order Completed` when `with_event_type`.
fn state(with_event_type: bool) -> StateFile {
    let mut state = StateFile::default_state();
    if with_event_type {
        state.event_types.push(talon_fake::EventTypeRecord {
            name: "Order Completed".into(),
            ty: None,
        });
    }
    state
}

fn order(user: &str, order_id: Option<&str>) -> (String, Vec<u8>) {
    let mut properties = json!({
        "revenue": 25.0,
        "products": [{"sku": "SKU-1", "name": "Mug", "quantity": 2, "price": 12.5, "category": "home"}]
    });
    if let Some(id) = order_id {
        properties["order_id"] = id.into();
    }
    let event = json!({"type": "track", "event": "Order Completed", "userId": user, "properties": properties});
    ("events:1".into(), event.to_string().into_bytes())
}

async fn deliver_to(
    fake: &Fake,
    events: Vec<(String, Vec<u8>)>,
    configure: impl FnOnce(&mut DeliveryConfig),
) -> (Vec<EventDelivery>, Summary) {
    let server = MockServer::start(fake.clone()).await.unwrap();
    let mut config = DeliveryConfig::new(server.uri());
    config.backoff_base = Duration::ZERO;
    configure(&mut config);
    let client = deliver::client(&config);
    let mut deliveries = Vec::new();
    let (summary, _) =
        deliver::run_detailed(events, &actions(), &client, &config, |d| deliveries.push(d)).await;
    server.shutdown().await;
    (deliveries, summary)
}

fn kinds(delivery: &EventDelivery) -> Vec<(String, &'static str)> {
    delivery
        .requests
        .iter()
        .map(|r| (r.subscription.clone().unwrap_or_default(), r.outcome.kind()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_completed_event_sends_one_request_per_matching_subscription_in_order() {
    let fake = Fake::new(state(true), FakeConfig::default()).unwrap();
    let (deliveries, summary) = deliver_to(&fake, vec![order("u1", Some("o1"))], |_| {}).await;
    assert_eq!(deliveries.len(), 1);
    let delivery = &deliveries[0];
    assert_eq!(
        kinds(delivery),
        [
            ("Track: event".to_owned(), "delivered"),
            ("Order Completed: close session".to_owned(), "delivered"),
        ]
    );
    assert!(matches!(
        delivery.report.outcome,
        Outcome::Delivered { attempts: 2, .. }
    ));
    let paths: Vec<String> = fake.journal().iter().map(|e| e.path.clone()).collect();
    assert_eq!(
        paths,
        ["/segment/v2/events", "/segment/v2/customer_sessions/o1"],
        "sent in the mapper's order"
    );
    let dump = fake.state_dump();
    assert_eq!(dump.events.len(), 1);
    assert_eq!(dump.sessions.len(), 1);
    assert_eq!(dump.sessions[0].state, "closed");
    assert_eq!(summary.events, 1);
    assert_eq!(summary.attempts, 2);
    assert_eq!(summary.retries(), 0, "the second request is no retry");
    let line = delivery.to_json();
    assert_eq!(line["requests"][0]["subscription"], "Track: event");
    assert_eq!(
        line["requests"][0]["path"],
        "/segment/v2/events?skipNonExistingAttributes=true"
    );
    assert_eq!(line["requests"][1]["method"], "PUT");
    assert_eq!(line["requests"][1]["status"], 200);
    assert_eq!(summary.by_subscription["Track: event"].delivered, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_request_does_not_stop_the_others_and_the_event_is_rejected_naming_it() {
    // No event type `Order Completed`: the event request is refused, the session still goes.
    let fake = Fake::new(state(false), FakeConfig::default()).unwrap();
    let (deliveries, summary) = deliver_to(&fake, vec![order("u1", Some("o1"))], |_| {}).await;
    let delivery = &deliveries[0];
    assert_eq!(
        kinds(delivery),
        [
            ("Track: event".to_owned(), "rejected"),
            ("Order Completed: close session".to_owned(), "delivered"),
        ]
    );
    let Outcome::Rejected { status, error, .. } = &delivery.report.outcome else {
        panic!("{:?}", delivery.report.outcome)
    };
    assert_eq!(*status, 400);
    assert!(
        error["Error"].is_string(),
        "Talon.One's relay envelope: {error}"
    );
    assert_eq!(
        fake.state_dump().sessions.len(),
        1,
        "the session was applied"
    );
    let line = delivery.to_json();
    assert_eq!(line["outcome"], "rejected");
    assert_eq!(line["subscription"], "Track: event");
    assert_eq!(line["requests"][0]["error"]["StatusCode"], 400);
    let explained = delivery.explain().join("\n");
    assert!(
        explained.contains("`Track: event` PUT /segment/v2/events?skipNonExistingAttributes=true: rejected by Talon.One (400")
            && explained.contains("Talon.One rejected the request: ")
            && !explained.contains("nothing in this update was applied"),
        "{explained}"
    );
    let reason = summary.rejected_by_reason.keys().next().unwrap();
    assert!(reason.starts_with("`Track: event`: HTTP 400 "), "{reason}");
    assert_eq!(summary.by_subscription["Track: event"].rejected, 1);
    assert_eq!(
        summary.by_subscription["Order Completed: close session"].delivered,
        1
    );
    assert!(summary.adds_up());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_request_is_retried_on_its_own_after_the_relays_429() {
    let fake = Fake::new(state(true), FakeConfig::default()).unwrap();
    // The relay's 429 carries no Retry-After: the backoff decides the wait.
    fake.set_faults(
        FaultPlan::from_json(
            r#"{"rules": [{"path_prefix": "/segment/v2/events", "respond": {"status": 429}, "times": 2}]}"#,
        )
        .unwrap(),
    );
    let (deliveries, summary) = deliver_to(&fake, vec![order("u1", Some("o1"))], |_| {}).await;
    let delivery = &deliveries[0];
    let attempts: Vec<Value> = delivery.to_json()["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["attempts"].clone())
        .collect();
    assert_eq!(attempts, [json!(3), json!(1)]);
    assert!(matches!(
        delivery.report.outcome,
        Outcome::Delivered { attempts: 4, .. }
    ));
    assert_eq!(summary.retries(), 2);
    assert_eq!(fake.state_dump().events.len(), 1, "a 429 stores nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_request_makes_the_event_failed_even_when_another_was_delivered() {
    let fake = Fake::new(state(true), FakeConfig::default()).unwrap();
    fake.set_faults(
        FaultPlan::from_json(
            r#"{"rules": [{"path_prefix": "/segment/v2/customer_sessions/", "respond": {"status": 503}}]}"#,
        )
        .unwrap(),
    );
    let (deliveries, summary) =
        deliver_to(&fake, vec![order("u1", Some("o1"))], |c| c.max_attempts = 2).await;
    let delivery = &deliveries[0];
    assert_eq!(
        kinds(delivery),
        [
            ("Track: event".to_owned(), "delivered"),
            ("Order Completed: close session".to_owned(), "failed"),
        ]
    );
    let Outcome::Failed {
        attempts, error, ..
    } = &delivery.report.outcome
    else {
        panic!("{:?}", delivery.report.outcome)
    };
    assert_eq!(*attempts, 3);
    assert!(
        error.starts_with("subscription `Order Completed: close session`: HTTP 503"),
        "{error}"
    );
    assert_eq!(summary.failed, 1);
    assert_eq!(
        delivery.to_json()["subscription"],
        "Order Completed: close session"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptions_the_mapper_refused_are_listed_as_not_sent_with_segments_message() {
    // No order_id: Segment's validation refuses the session subscription; the event goes.
    let fake = Fake::new(state(true), FakeConfig::default()).unwrap();
    let (deliveries, summary) = deliver_to(&fake, vec![order("u1", None)], |_| {}).await;
    let delivery = &deliveries[0];
    assert_eq!(kinds(delivery), [("Track: event".to_owned(), "delivered")]);
    let line = delivery.to_json();
    assert_eq!(line["outcome"], "delivered");
    let not_sent = &line["requests"][1];
    assert_eq!(not_sent["subscription"], "Order Completed: close session");
    assert_eq!(not_sent["outcome"], "not_sent");
    assert_eq!(
        not_sent["message"],
        "The root value is missing the required field 'customerSessionId'."
    );
    assert_eq!(
        summary.by_subscription["Order Completed: close session"].not_sent,
        1
    );
    assert!(summary.render().contains("not sent (Segment's validation)"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_profiles_requests_go_in_input_order_whatever_the_concurrency() {
    // Identify then order then identify for one profile, many profiles at once: the journal
    // holds each profile's requests in the order of its events and their subscriptions.
    let fake = Fake::new(state(true), FakeConfig::default()).unwrap();
    let mut events = Vec::new();
    for round in 0..3 {
        for user in 0..20 {
            let id = format!("u{user}");
            let identify = json!({"type": "identify", "userId": id, "traits": {"logins": round}});
            events.push((
                format!("e:{}", events.len() + 1),
                identify.to_string().into_bytes(),
            ));
            let (_, bytes) = order(&id, Some(&format!("o{user}-{round}")));
            events.push((format!("e:{}", events.len() + 1), bytes));
        }
    }
    let (deliveries, summary) = deliver_to(&fake, events, |c| {
        c.concurrency = 8;
        // The default backoff: should the relay limit its rate, retries wait.
        c.backoff_base = Duration::from_millis(20);
    })
    .await;
    assert_eq!(deliveries.len(), 120);
    assert!(
        deliveries
            .iter()
            .enumerate()
            .all(|(i, d)| d.report.index == i as u64)
    );
    assert_eq!(summary.delivered, 120);
    for user in 0..20 {
        let id = format!("u{user}");
        let mine: Vec<String> = fake
            .journal()
            .iter()
            // Applied requests only: a refused attempt (a rate limit's 429) is retried.
            .filter(|e| (200..300).contains(&e.status))
            .filter(|e| {
                e.path.ends_with(&format!("/{id}")) || e.body.contains(&format!("\"{id}\""))
            })
            .map(|e| e.path.clone())
            .collect();
        let expected: Vec<String> = (0..3)
            .flat_map(|round| {
                [
                    format!("/segment/v2/customer_profiles/{id}"),
                    "/segment/v2/events".to_owned(),
                    format!("/segment/v2/customer_sessions/o{user}-{round}"),
                ]
            })
            .collect();
        assert_eq!(mine, expected, "{id}");
    }
    let profile = fake.profile("u3").unwrap();
    assert_eq!(profile["attributes"]["logins"], 2, "the last identify won");
}

#[test]
fn a_classic_events_outcome_line_is_its_reports_line() {
    let report = EventReport {
        index: 0,
        source: "e:1".into(),
        integration_id: Some("u1".into()),
        outcome: Outcome::Delivered {
            status: 200,
            attempts: 1,
            unconfirmed: 0,
        },
        diagnostics: Vec::new(),
    };
    let delivery = EventDelivery {
        report: report.clone(),
        requests: vec![talon_harness::report::RequestReport {
            subscription: None,
            method: "PUT",
            path: "/v2/customer_profiles/u1".into(),
            outcome: report.outcome.clone(),
        }],
    };
    assert_eq!(delivery.to_json(), report.to_json());
    assert_eq!(delivery.explain(), report.explain());
    let (mut one, mut other) = (Summary::default(), Summary::default());
    one.add(&report);
    other.add_delivery(&delivery);
    assert_eq!(one, other);
    assert_eq!(one.to_json().get("bySubscription"), None);
}

/// 300 identifies of 30 profiles through the relay of a fake that refuses beyond 60 requests
/// a second (the fault plan's limit, standing in for the relay's own): the journal's 429s.
async fn over_the_limit(pace: Option<u32>) -> (Summary, usize, Duration) {
    let fake = Fake::new(state(false), FakeConfig::default()).unwrap();
    fake.set_faults(FaultPlan::from_json(r#"{"rate_limit_per_sec": 60}"#).unwrap());
    let events: Vec<(String, Vec<u8>)> = (0..300)
        .map(|i| {
            let identify =
                json!({"type": "identify", "userId": format!("u{}", i % 30), "traits": {"logins": i}});
            (format!("e:{}", i + 1), identify.to_string().into_bytes())
        })
        .collect();
    let server = MockServer::start(fake.clone()).await.unwrap();
    let mut config = DeliveryConfig::new(server.uri());
    config.pace = pace;
    let client = deliver::client(&config);
    let start = tokio::time::Instant::now();
    let summary = deliver::run(events, &actions(), &client, &config, |_| {}).await;
    let took = start.elapsed();
    server.shutdown().await;
    let refused = fake.journal().iter().filter(|e| e.status == 429).count();
    (summary, refused, took)
}

// Paused time: the pacer's waits, the backoff and the fake's token bucket all run on tokio's
// clock, which moves only when every task waits, so the counts do not depend on the machine.
#[tokio::test(start_paused = true)]
async fn without_pacing_the_relays_429s_are_all_retried_and_with_it_none_happens() {
    let (unpaced, refused, _) = over_the_limit(None).await;
    assert_eq!(unpaced.delivered, 300, "no 429 left unretried: {unpaced:?}");
    assert!(refused > 0, "32 lanes at once go over 60 a second");
    assert!(unpaced.retries() > 0);

    let (paced, refused, took) = over_the_limit(Some(60)).await;
    assert_eq!(paced.delivered, 300);
    assert_eq!(refused, 0, "paced to the limit, no request is refused");
    assert_eq!(paced.retries(), 0);
    assert!(
        took >= Duration::from_secs(4),
        "300 requests at 60 a second: {took:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_pacer_is_shared_by_every_lane_of_a_client() {
    // One client, 32 lanes: 120 attempts at 40 a second take 2 s, whatever the lanes.
    let (paced, took) = {
        let fake = Fake::new(state(false), FakeConfig::default()).unwrap();
        let events: Vec<(String, Vec<u8>)> = (0..120)
            .map(|i| {
                let identify = json!({"type": "identify", "userId": format!("u{i}"), "traits": {}});
                (format!("e:{}", i + 1), identify.to_string().into_bytes())
            })
            .collect();
        let server = MockServer::start(fake.clone()).await.unwrap();
        let mut config = DeliveryConfig::new(server.uri());
        config.pace = Some(40);
        let client = deliver::client(&config);
        let start = tokio::time::Instant::now();
        let summary = deliver::run(events, &actions(), &client, &config, |_| {}).await;
        let took = start.elapsed();
        server.shutdown().await;
        (summary, took)
    };
    assert_eq!(paced.delivered, 120);
    assert_eq!(took, Duration::from_secs(2));
}

// Paused time, as `deliver::a_timed_out_request_is_retried`: the fake's late answer and the
// client's time limit run on tokio's clock, so the limit fires first on any machine.
#[tokio::test(start_paused = true)]
async fn a_retry_after_a_timed_out_event_request_stores_it_twice_and_both_say_so() {
    // The relay stores the event at once but answers after the client gave up: the retry
    // stores a second one (the event endpoint has no idempotency key).
    let fake = Fake::new(state(true), FakeConfig::default()).unwrap();
    fake.set_faults(
        FaultPlan::from_json(
            r#"{"rules": [{"path_prefix": "/segment/v2/events", "respond": {"late_response_ms": 600}, "times": 1}]}"#,
        )
        .unwrap(),
    );
    let event = order("u1", Some("o1"));
    let bytes = event.1.clone();
    let (deliveries, _) = deliver_to(&fake, vec![event], |c| {
        c.timeout = Duration::from_millis(150);
        c.backoff_base = Duration::from_millis(20);
    })
    .await;
    let delivery = &deliveries[0];
    assert!(
        delivery.report.outcome.possibly_out_of_order(),
        "{:?}",
        delivery.report.outcome
    );
    assert_eq!(delivery.to_json()["requests"][0]["unconfirmedAttempts"], 1);
    let dump = fake.state_dump();
    assert_eq!(dump.events.len(), 2, "stored twice");

    // The Actions check names it: one event expected, two stored.
    let catalog = talon_reference::actions::ActionsCatalog {
        event_types: ["Order Completed".to_owned()].into(),
        ..Default::default()
    };
    let mut model = talon_reference::actions::ActionsReference::new(catalog.clone());
    model.apply(&bytes);
    let actual = talon_harness::simulation::actions_state(&dump);
    let differences = talon_reference::actions::compare_actions(&model.state, &actual, &catalog);
    assert!(
        differences.contains(
            &"profile `u1`: 1 `Order Completed` events should be stored but 2 are (duplicated)"
                .to_owned()
        ),
        "{differences:?}"
    );
}
