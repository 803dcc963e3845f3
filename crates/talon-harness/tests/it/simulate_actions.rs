//! `simulate --destination actions`: the shipped default subscriptions against an embedded fake
//! whose catalog matches them, verified by the Actions reference model; and the model held to
//! the fake on traffic today's generator does not send (orders, VIP audience tracks).

use serde_json::{Value, json};
use talon_fake::{Fake, FakeConfig, MockServer, StateFile};
use talon_harness::DestinationKind;
use talon_harness::deliver::{self, DeliveryConfig};
use talon_harness::simulation::{self, Simulation};
use talon_harness::world::World;
use talon_reference::actions::{ActionsReference, compare_actions};

use crate::{exits, harness, scratch};

fn scenario(users: u32, days: u32) -> segment_gen::Scenario {
    segment_gen::Scenario {
        users,
        days,
        audience_track_events: true,
        ..segment_gen::Scenario::default()
    }
}

fn simulation(scenario: segment_gen::Scenario, dump: Option<std::path::PathBuf>) -> Simulation {
    Simulation {
        scenario,
        seed: 4,
        faults: None,
        fail_on_reject: false,
        outcomes: None,
        dump_state: dump,
        serve: None,
        relay_rate_limit: None,
    }
}

/// Runs `scenario` through the Actions destination (seed 4), asserts it verified, and returns
/// its report and the fake's final state (dumped under `name`).
fn verified_run(
    scenario: &segment_gen::Scenario,
    name: &str,
) -> (talon_harness::output::RunReport, StateFile) {
    let dump = scratch(name).join("state.json");
    let report = simulation::run_for(
        simulation(scenario.clone(), Some(dump.clone())),
        DestinationKind::Actions,
        |_| {},
    )
    .unwrap();
    assert!(report.passed(), "{:#?}", report.checks);
    let state = StateFile::from_json(&std::fs::read_to_string(&dump).unwrap()).unwrap();
    (report, state)
}

#[test]
fn the_actions_world_matches_the_shipped_subscriptions() {
    let world = World::for_actions(&segment_gen::Scenario::default());
    let key = world
        .state
        .integration_keys
        .iter()
        .find(|k| k.key == world.settings_json["apiKey"])
        .expect("the settings' key is the deployment's");
    assert_eq!(key.platform.as_deref(), Some("Segment"));
    assert_eq!(
        world.settings_json["deployment"],
        format!("https://{}", world.state.effective_hostname())
    );
    assert_eq!(world.config.subscriptions.len(), 5);
    // Top-level traits only: `email`, Engage keys; no flattened `address_city`.
    assert!(world.catalog.contains_key("email"));
    assert!(world.catalog.contains_key("order_completed_last_30_days"));
    assert!(!world.catalog.keys().any(|k| k.starts_with("address")));
    assert_eq!(world.nested_traits, ["address", "company", "preferences"]);
    assert!(
        world
            .state
            .event_types
            .iter()
            .any(|e| e.name == "Order Completed")
    );
    let vip = &world.state.audiences[0];
    assert_eq!((vip.id, vip.integration.as_deref()), (1, Some("Segment")));
}

#[test]
fn a_simulation_through_the_actions_destination_verifies_against_the_model() {
    let report = simulation::run_for(
        simulation(scenario(60, 6), None),
        DestinationKind::Actions,
        |c| c.concurrency = 4,
    )
    .unwrap();
    assert!(report.passed(), "{:#?}", report.checks);
    let names: Vec<&str> = report.checks.iter().map(|c| c.name.as_str()).collect();
    assert!(names.contains(
        &"Talon.One holds what the Actions reference model of the default subscriptions says"
    ));
    let notes = report.notes.join("\n");
    assert!(
        notes.contains("Talon.One (Actions) destination")
            && notes.contains("`address`, `company`, `preferences` have no attribute")
            && notes.contains("nested trait skipped"),
        "{notes}"
    );
    let summary = report.summary.as_ref().unwrap();
    assert!(summary.delivered > 0);
    assert!(
        summary.by_subscription["Identify: update customer profile"].delivered > 0,
        "{:?}",
        summary.by_subscription
    );
}

#[test]
fn the_actions_verification_fails_on_a_changed_profile_and_a_duplicated_event() {
    let scenario = scenario(30, 4);
    let (_, mut state) = verified_run(&scenario, "simulate-actions-tamper");
    let world = World::for_actions(&scenario);
    let (checks, _) = simulation::verification_actions(&scenario, 4, &world, &state).unwrap();
    assert_eq!(checks.len(), 2, "the model and the ledger");
    assert!(checks.iter().all(|c| c.passed), "{checks:#?}");

    let profile = state
        .profiles
        .iter_mut()
        .find(|p| p.attributes.contains_key("email"))
        .unwrap();
    profile.attributes.insert("email".into(), json!("changed"));
    let id = profile.integration_id.clone();
    state.events.push(talon_fake::EventRecord {
        id: 999,
        created: "2026-01-01T00:00:00Z".into(),
        application_id: 1,
        event_type: "Order Completed".into(),
        profile_id: id.clone(),
        attributes: serde_json::Map::new(),
    });
    let (checks, _) = simulation::verification_actions(&scenario, 4, &world, &state).unwrap();
    for check in &checks {
        assert!(!check.passed, "{}", check.name);
        let details = check.details.join("\n");
        assert!(
            details.contains(&format!("profile `{id}`: `email` should hold"))
                && details.contains(&format!(
                    "profile `{id}`: 0 `Order Completed` events should be stored but 1 are (duplicated)"
                )),
            "{}: {details}",
            check.name
        );
    }
}

#[test]
fn the_ledger_and_the_replayed_events_imply_the_same_actions_deployment() {
    for seed in [1, 2, 3] {
        let scenario = segment_gen::Scenario {
            users: 80,
            days: 5,
            ..segment_gen::Scenario::actions()
        };
        let world = World::for_actions(&scenario);
        let catalog = world.model_catalog();
        let mut generator = segment_gen::Generator::new(scenario.clone(), seed).unwrap();
        let mut model = ActionsReference::new(catalog.clone());
        let mut line = Vec::new();
        while generator.next_into(&mut line).is_some() {
            model.apply(&line);
            line.clear();
        }
        let (expected, problems) =
            simulation::actions_expected_from_ledger(&generator.into_ledger(), &catalog);
        assert!(problems.is_empty(), "seed {seed}: {problems:?}");
        assert_eq!(
            compare_actions(&model.state, &expected, &catalog),
            Vec::<String>::new(),
            "seed {seed}"
        );
        // Not an empty agreement: the commerce traffic stores events, closes sessions and
        // joins the VIP audience.
        assert!(expected.events.values().sum::<u64>() > 0, "seed {seed}");
        assert!(!expected.sessions.is_empty(), "seed {seed}");
        assert!(
            expected.audiences.values().any(|a| a.contains(&1)),
            "seed {seed}"
        );
        assert!(
            expected.profiles.values().any(|p| p.contains_key("email")),
            "seed {seed}"
        );
    }
}

#[test]
fn the_actions_ledger_check_fails_on_a_lost_session_and_a_lost_membership() {
    let scenario = segment_gen::Scenario {
        users: 60,
        days: 5,
        ..segment_gen::Scenario::actions()
    };
    let (report, mut state) = verified_run(&scenario, "simulate-actions-ledger");
    assert!(
        report
            .checks
            .iter()
            .any(|c| c.name == "Talon.One holds the generator's ledger under the Actions rules")
    );
    let world = World::for_actions(&scenario);
    let session = state
        .sessions
        .pop()
        .expect("the commerce traffic closed a session");
    let member = state
        .profiles
        .iter_mut()
        .find(|p| !p.audiences.is_empty())
        .expect("a VIP member");
    member.audiences.clear();
    let member = member.integration_id.clone();
    let (checks, _) = simulation::verification_actions(&scenario, 4, &world, &state).unwrap();
    let ledger = checks
        .iter()
        .find(|c| c.name == "Talon.One holds the generator's ledger under the Actions rules")
        .unwrap();
    assert!(!ledger.passed);
    let details = ledger.details.join("\n");
    assert!(
        details.contains(&format!(
            "session `{}` should be Some(",
            session.integration_id
        )) && details.contains(&format!(
            "profile `{member}`: audiences should be {{1}} but are {{}}"
        )),
        "{details}"
    );
}

/// Events today's generator does not send yet: orders with products, an order without
/// products, a track of an unknown type and another case, VIP audience tracks, an anonymous
/// track, identifies with nested, unknown and wrong-typed traits.
fn crafted() -> Vec<Value> {
    let order = |user: &str, id: &str, quantity: Value| {
        json!({"type": "track", "userId": user, "event": "Order Completed",
        "properties": {"order_id": id, "revenue": 30.0, "products": [
            {"sku": "SKU-1", "name": "Mug", "quantity": quantity, "price": 12.5, "category": "home"},
            {"sku": "SKU-2", "name": "Tea", "quantity": 1, "price": 5.0}
        ]}})
    };
    let vip = |user: &str, event: &str| {
        json!({"type": "track", "userId": user, "event": event,
            "properties": {"audience_key": "vip_customers", "vip_customers": event == "Audience Entered"}})
    };
    vec![
        json!({"type": "identify", "userId": "u1", "traits": {"email": "u1@example.com", "plan": "pro", "address": {"city": "Berlin"}, "unknown": 1}}),
        json!({"type": "identify", "userId": "u2", "traits": {"email": "u2@example.com", "logins": "seven"}}),
        order("u1", "o1", json!(2)),
        order("u2", "o2", json!(1.5)),
        json!({"type": "track", "userId": "u2", "event": "Order Completed", "properties": {"order_id": "o5",
            "products": [{"sku": 12345, "quantity": "3", "price": "9.5"}]}}),
        json!({"type": "track", "userId": "u2", "event": "Order Completed", "properties": {"order_id": "o6",
            "products": [{"sku": "s", "quantity": 1, "category": ["a", "b"]}, null]}}),
        json!({"type": "track", "userId": "u3", "event": "Order Completed", "properties": {"order_id": "o7",
            "products": [null]}}),
        json!({"type": "track", "userId": "u3", "event": "Order Completed", "properties": {"order_id": "o3"}}),
        json!({"type": "track", "userId": "u1", "event": "Product Added", "properties": {"sku": "SKU-1"}}),
        json!({"type": "track", "userId": "u1", "event": "Product Added", "properties": {"sku": "SKU-2"}}),
        json!({"type": "track", "userId": "u1", "event": "product added"}),
        json!({"type": "track", "userId": "u1", "event": "Wishlist Shared"}),
        json!({"type": "track", "anonymousId": "a1", "event": "Product Viewed"}),
        vip("u1", "Audience Entered"),
        vip("u2", "Audience Entered"),
        vip("u2", "Audience Exited"),
        json!({"type": "track", "userId": "u3", "event": "Audience Entered", "properties": {"audience_key": "churn_risk"}}),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_actions_model_agrees_with_the_fake_on_orders_tracks_and_vip_audiences() {
    let world = World::for_actions(&segment_gen::Scenario::default());
    let fake = Fake::new(world.state.clone(), FakeConfig::default()).unwrap();
    let server = MockServer::start(fake.clone()).await.unwrap();
    let config = DeliveryConfig::new(server.uri());
    let client = deliver::client(&config);
    let events = crafted();
    let lines: Vec<(String, Vec<u8>)> = events
        .iter()
        .enumerate()
        .map(|(i, e)| (format!("e:{}", i + 1), e.to_string().into_bytes()))
        .collect();
    let destination = talon_mapper::Destination::Actions(world.config.clone());
    let summary = deliver::run(lines, &destination, &client, &config, |_| {}).await;
    server.shutdown().await;
    assert!(summary.adds_up());

    let mut model = ActionsReference::new(world.model_catalog());
    for event in &events {
        model.apply(event.to_string().as_bytes());
    }
    let actual = simulation::actions_state(&fake.state_dump());
    assert_eq!(
        compare_actions(&model.state, &actual, &world.model_catalog()),
        Vec::<String>::new()
    );
    // What the model holds, so the agreement is not an agreement on nothing.
    assert_eq!(
        Value::Object(model.state.profiles["u1"].clone()),
        json!({"email": "u1@example.com", "plan": "pro"})
    );
    assert!(
        model.state.profiles["u2"].is_empty(),
        "a wrong type refuses the update"
    );
    assert_eq!(model.state.audiences["u1"], [1].into());
    assert!(model.state.audiences["u2"].is_empty());
    assert_eq!(
        model.state.events[&("u1".to_owned(), "Product Added".to_owned())],
        2
    );
    assert_eq!(model.state.events.len(), 4, "{:?}", model.state.events);
    assert_eq!(model.state.sessions["o1"].cart_items, 2);
    assert!(
        !model.state.sessions.contains_key("o2"),
        "a float quantity refuses it"
    );
    assert_eq!(model.state.sessions["o3"].cart_items, 0);
    assert_eq!(
        model.state.sessions["o5"].cart_items, 1,
        "Segment coerces the sku, quantity and price"
    );
    assert!(!model.state.sessions.contains_key("o6"));
    assert!(!model.state.sessions.contains_key("o7"));
}

#[test]
fn simulate_actions_with_a_ten_percent_fault_plan_verifies_with_nothing_lost_or_duplicated() {
    let output = harness(
        &[
            "simulate",
            "--destination",
            "actions",
            "--users",
            "60",
            "--days",
            "6",
            "--seed",
            "5",
            "--fault-rate",
            "0.1",
            "--report",
            "json",
        ],
        b"",
    );
    let printed = exits(&output, 0);
    let report: Value = serde_json::from_str(&printed.stdout).unwrap();
    assert_eq!(report["passed"], true, "{report:#}");
    assert_eq!(report["destination"], "actions");
    let summary = &report["summary"];
    assert!(summary["retries"].as_u64().unwrap() > 0, "{summary}");
    assert_eq!(summary["failed"], 0);
    assert!(
        summary["bySubscription"]["Identify: update customer profile"]["delivered"].as_u64()
            > Some(0)
    );
}

#[test]
fn simulate_actions_paced_under_a_rate_limited_fake_leaves_no_429_unretried() {
    // The relay's own limit, Talon.One's 60 a second: the unpaced run's requests (well over a
    // hundred) go out within a fraction of a second from 32 lanes, far over it.
    let run = |pace: Option<&str>| {
        let mut args = vec![
            "simulate",
            "--destination",
            "actions",
            "--users",
            "40",
            "--days",
            "3",
            "--relay-rate-limit",
            "60",
            "--report",
            "json",
        ];
        if let Some(pace) = pace {
            args.extend(["--pace", pace]);
        }
        let output = harness(&args, b"");
        let printed = exits(&output, 0);
        let report: Value = serde_json::from_str(&printed.stdout).unwrap();
        assert_eq!(report["passed"], true, "{report:#}");
        report["summary"].clone()
    };
    let unpaced = run(None);
    assert!(unpaced["requests"].as_u64().unwrap() > 120, "{unpaced}");
    assert!(
        unpaced["retries"].as_u64().unwrap() > 0,
        "32 lanes at once go over 60 a second: {unpaced}"
    );
    // Paced to the limit itself, a request can still arrive a little late and meet the 61st
    // slot of the fake's window (its clock is not the client's): a few 429s may come, and each
    // is retried; none is left, and the run verifies the same.
    let paced = run(Some("60"));
    assert_eq!(paced["failed"], 0, "{paced}");
    assert_eq!(paced["delivered"], unpaced["delivered"]);
    assert!(
        paced["retries"].as_u64().unwrap() < unpaced["retries"].as_u64().unwrap(),
        "pacing avoids most refusals: {paced} against {unpaced}"
    );
}

#[test]
fn replay_infers_the_actions_destination_from_its_settings_and_fans_out_each_event() {
    let dir = scratch("replay-actions");
    let settings = dir.join("settings.json");
    std::fs::write(
        &settings,
        r#"{"apiKey": "segment-demo-relay-key", "deployment": "https://mycompany.europe-west1.talon.one/"}"#,
    )
    .unwrap();
    let events = dir.join("events.ndjson");
    std::fs::write(
        &events,
        concat!(
            r#"{"type":"identify","userId":"u1","traits":{"email":"a@b.c"}}"#,
            "\n",
            r#"{"type":"track","userId":"u1","event":"Order Completed","properties":{"order_id":"o1"}}"#,
            "\n"
        ),
    )
    .unwrap();
    let output = harness(
        &[
            "replay",
            "--settings",
            settings.to_str().unwrap(),
            "--events",
            events.to_str().unwrap(),
            "--outcomes",
            "-",
        ],
        b"",
    );
    let printed = exits(&output, 0);
    let lines: Vec<Value> = printed
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["outcome"], "delivered");
    assert_eq!(
        lines[0]["requests"][0]["subscription"],
        "Identify: update customer profile"
    );
    // The demo deployment has no event type `Order Completed`: the event is refused, the
    // session of the same Track still goes.
    assert_eq!(lines[1]["outcome"], "rejected");
    assert_eq!(lines[1]["subscription"], "Track: event");
    assert_eq!(lines[1]["requests"][1]["outcome"], "delivered");
    assert!(
        printed.stderr.contains("Talon.One (Actions) destination"),
        "{}",
        printed.stderr
    );
}

#[test]
fn replay_refuses_subscriptions_for_the_classic_destination() {
    let output = harness(
        &[
            "replay",
            "--destination",
            "classic",
            "--subscriptions",
            &crate::repo("fixtures/actions/subscriptions.json"),
            "--events",
            &crate::repo("fixtures/segment/alias_call.json"),
        ],
        b"",
    );
    let printed = exits(&output, 2);
    assert!(
        printed
            .stderr
            .contains("--subscriptions is for the Actions destination"),
        "{}",
        printed.stderr
    );
}
