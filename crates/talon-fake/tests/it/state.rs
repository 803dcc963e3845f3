//! State files: loading, consistency checks and deterministic dumps.

use serde_json::json;
use talon_fake::{Fake, FakeConfig, StateFile};

use crate::support::*;

#[test]
fn the_default_state_fixture_loads() {
    let s = StateFile::from_json(talon_fake::DEFAULT_STATE_JSON).expect("parses");
    assert_eq!(s.applications[0].id, 1);
    assert_eq!(s.applications[0].name, "Segment demo");
    assert!(
        s.attributes
            .iter()
            .any(|a| a.name == "company_employee_count")
    );
    assert!(Fake::new(s, FakeConfig::default()).is_ok());
}

#[tokio::test]
async fn a_dump_reloads_to_the_same_dump() {
    let fake = fake();
    put_profile(&fake, "b", "?runRuleEngine=true", json!({"attributes": {"plan": "x", "logins": 2}, "audiencesChanges": {"adds": [1], "deletes": []}})).await;
    put_profile(&fake, "a", "", json!({"attributes": {"email": "e@x"}})).await;
    let dump = fake.state_dump();
    assert_eq!(
        dump.profiles
            .iter()
            .map(|p| p.integration_id.as_str())
            .collect::<Vec<_>>(),
        vec!["a", "b"]
    );
    let text = dump.to_json_pretty();
    let again = Fake::new(
        StateFile::from_json(&text).expect("parses"),
        FakeConfig::default(),
    )
    .expect("loads");
    assert_eq!(again.state_dump().to_json_pretty(), text);
}

#[test]
fn inconsistent_state_files_are_refused() {
    let base =
        || serde_json::from_str::<serde_json::Value>(talon_fake::DEFAULT_STATE_JSON).expect("json");
    let mut unknown_app = base();
    unknown_app["integrationKeys"][0]["applicationId"] = json!(9);
    let mut bad_profile = base();
    bad_profile["profiles"] = json!([{"integrationId": "u", "attributes": {"Email": "x"}}]);
    let mut dup_profile = base();
    dup_profile["profiles"] = json!([{"integrationId": "u"}, {"integrationId": "u"}]);
    let mut bad_type = base();
    bad_type["profiles"] = json!([{"integrationId": "u", "attributes": {"logins": "3"}}]);
    for v in [unknown_app, bad_profile, dup_profile, bad_type] {
        let s = StateFile::from_json(&v.to_string()).expect("parses");
        assert!(Fake::new(s, FakeConfig::default()).is_err(), "{v}");
    }
    assert!(StateFile::from_json("{\"applications\": 1}").is_err());
}

#[test]
fn profiles_from_a_state_file_are_served() {
    let mut v =
        serde_json::from_str::<serde_json::Value>(talon_fake::DEFAULT_STATE_JSON).expect("json");
    v["profiles"] = json!([{"integrationId": "seeded", "id": 7, "attributes": {"plan": "pro"}, "audiences": [1], "applications": [1]}]);
    let fake = Fake::new(
        StateFile::from_json(&v.to_string()).expect("parses"),
        FakeConfig::default(),
    )
    .expect("loads");
    let p = fake.profile("seeded").expect("present");
    assert_eq!(p["id"], 7);
    assert_eq!(p["audienceMemberships"][0]["id"], 1);
}

#[tokio::test]
async fn the_streamed_state_is_byte_identical_to_the_pretty_dump() {
    let fake = fake();
    // Empty of profiles: the field is skipped in both.
    let mut out = Vec::new();
    fake.write_state(&mut out, false).expect("writes");
    assert_eq!(
        String::from_utf8(out).expect("utf-8"),
        fake.state_dump().to_json_pretty()
    );
    // Non-trivial: more profiles than one batch, odd ids, lists, nested strings, audiences.
    let r = put_profile(&fake, "b%22q%5Cuote", "?runRuleEngine=true", json!({"attributes": {"plan": "x\ny", "logins": 2}, "audiencesChanges": {"adds": [1], "deletes": []}})).await;
    assert_eq!(r.status, 200);
    let r = put_profile(
        &fake,
        "%E6%97%A5%E6%9C%AC",
        "",
        json!({"attributes": {"email": "e@x", "first_time_shopper": true}}),
    )
    .await;
    assert_eq!(r.status, 200);
    for i in 0..2500 {
        let attrs = serde_json::Map::from_iter([
            ("email".to_owned(), json!(format!("u{i}@x"))),
            ("logins".to_owned(), json!(i)),
        ]);
        fake.upsert_profile(1, &format!("user-{i:05}"), &attrs)
            .expect("stored");
    }
    post(
        &fake,
        "/v2/audiences",
        Some(IKEY),
        json!({"name": "Travel", "subscribedApplicationsIds": [1]}),
    )
    .await;
    let mut out = Vec::new();
    fake.write_state(&mut out, false).expect("writes");
    let streamed = String::from_utf8(out).expect("utf-8");
    assert_eq!(streamed, fake.state_dump().to_json_pretty());
    // Redacted: the same but for the keys.
    let mut out = Vec::new();
    fake.write_state(&mut out, true).expect("writes");
    let mut redacted = fake.state_dump();
    redacted.redact_keys();
    assert_eq!(
        String::from_utf8(out).expect("utf-8"),
        redacted.to_json_pretty()
    );
    // And over HTTP, with the keys revealed: the loadable state file.
    let r = get(&fake, "/__admin/state?reveal_keys=true", None).await;
    assert_eq!(String::from_utf8_lossy(&r.raw), streamed);
}
