//! Late requests and late responses: the faults whose effect the client cannot know.

use serde_json::{Value, json};
use talon_fake::{Fake, FaultPlan};

use crate::support::*;

fn logins(fake: &Fake, id: &str) -> Option<Value> {
    fake.state_dump()
        .profiles
        .into_iter()
        .find(|p| p.integration_id == id)
        .and_then(|p| p.attributes.get("logins").cloned())
}

fn rules(fake: &Fake) -> Vec<(u16, String)> {
    fake.journal()
        .into_iter()
        .map(|e| (e.status, e.rule))
        .collect()
}

fn with_plan(plan: &str) -> Fake {
    let fake = fake();
    fake.set_faults(FaultPlan::from_json(plan).expect("plan"));
    fake
}

const LATE_FIRST_OF_U1: &str = r#"{"rules": [{"integration_id": "u1",
    "respond": {"late_request": {"after_requests": 2, "max_ms": 60000}}, "times": 1}]}"#;

#[tokio::test]
async fn a_late_request_lands_after_the_given_number_of_newer_updates_and_overwrites_them() {
    let fake = with_plan(LATE_FIRST_OF_U1);
    let update = |n: i64| json!({"attributes": {"logins": n}});
    // The first attempt is held: the client sees its connection drop, nothing applied yet.
    let first = put_profile(&fake, "u1", "", update(1)).await;
    assert!(first.raw.is_empty(), "no answer reaches the client");
    assert_eq!(logins(&fake, "u1"), None);
    assert_eq!(fake.late_requests_held(), 1);
    // The client retries it, then sends updates 2 and 3.
    assert_eq!(put_profile(&fake, "u1", "", update(1)).await.status, 200);
    assert_eq!(put_profile(&fake, "u1", "", update(2)).await.status, 200);
    // Two updates were applied since: the late copy of update 1 landed right after update 2.
    assert_eq!(fake.late_requests_held(), 0);
    assert_eq!(logins(&fake, "u1"), Some(json!(1)));
    assert_eq!(put_profile(&fake, "u1", "", update(3)).await.status, 200);
    assert_eq!(logins(&fake, "u1"), Some(json!(3)));
    assert_eq!(
        rules(&fake),
        vec![
            (0, "fault.late_request".to_owned()),
            (200, "ok.profile_updated".to_owned()),
            (200, "ok.profile_updated".to_owned()),
            (200, "fault.late_request_applied".to_owned()),
            (200, "ok.profile_updated".to_owned()),
        ]
    );
}

#[tokio::test]
async fn updates_of_other_profiles_do_not_release_a_late_request() {
    let fake = with_plan(LATE_FIRST_OF_U1);
    put_profile(&fake, "u1", "", json!({"attributes": {"logins": 1}})).await;
    for i in 0..5 {
        put_profile(&fake, "u2", "", json!({"attributes": {"logins": i}})).await;
    }
    // A rejected update of u1 is not an applied one either.
    let rejected = put_profile(&fake, "u1", "", json!({"attributes": {"nope": 1}})).await;
    assert_eq!(rejected.status, 400);
    assert_eq!(fake.late_requests_held(), 1);
    assert_eq!(fake.release_late_requests(), 1);
    assert_eq!(logins(&fake, "u1"), Some(json!(1)));
}

#[tokio::test(start_paused = true)]
async fn a_late_request_lands_after_max_ms_when_no_newer_update_comes() {
    let fake = with_plan(
        r#"{"rules": [{"respond": {"late_request": {"after_requests": 3, "max_ms": 2000}}}]}"#,
    );
    put_profile(&fake, "u1", "", json!({"attributes": {"logins": 7}})).await;
    tokio::time::sleep(std::time::Duration::from_millis(1999)).await;
    assert_eq!(logins(&fake, "u1"), None);
    tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    assert_eq!(logins(&fake, "u1"), Some(json!(7)));
    assert_eq!(fake.late_requests_held(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_late_response_is_applied_at_once_and_answered_later() {
    let fake = with_plan(r#"{"rules": [{"respond": {"late_response_ms": 5000}, "times": 1}]}"#);
    let started = tokio::time::Instant::now();
    let task = {
        let fake = fake.clone();
        tokio::spawn(async move {
            put_profile(&fake, "u1", "", json!({"attributes": {"logins": 4}})).await
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert_eq!(
        logins(&fake, "u1"),
        Some(json!(4)),
        "applied before the answer"
    );
    assert!(!task.is_finished(), "the answer is not there yet");
    // A second update of the profile is not held up by the first one's slot.
    assert_eq!(
        put_profile(&fake, "u1", "", json!({"attributes": {"logins": 5}}))
            .await
            .status,
        200
    );
    let late = task.await.expect("the request ends");
    assert_eq!(late.status, 200);
    assert!(started.elapsed() >= std::time::Duration::from_millis(5000));
}

#[test]
fn every_fault_plan_fixture_parses() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/talon");
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).expect("fixtures") {
        let path = entry.expect("entry").path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("faults-") && name.ends_with(".json") {
            let text = std::fs::read_to_string(&path).expect("readable");
            if let Err(e) = FaultPlan::from_json(&text) {
                panic!("{name}: {e}");
            }
            names.push(name);
        }
    }
    names.sort();
    assert_eq!(
        names,
        [
            "faults-example.json",
            "faults-late.json",
            "faults-rate-limit.json"
        ]
    );
}
