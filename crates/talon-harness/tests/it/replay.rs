//! `talon-harness replay`: a customer's events against the embedded fake or a URL.

use serde_json::Value;

use crate::{exits, harness, repo, scratch};

fn lines(bytes: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(bytes)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn replay_writes_one_outcome_per_event_and_the_final_state() {
    let bundle = repo("fixtures/bugs/string_true_to_boolean");
    let dir = scratch("replay");
    let outcomes = dir.join("outcomes.ndjson");
    let state = dir.join("state.json");
    let junit = dir.join("junit.xml");
    let output = harness(
        &[
            "replay",
            "--settings",
            &format!("{bundle}/settings.json"),
            "--events",
            &format!("{bundle}/events.ndjson"),
            "--talon-state",
            &format!("{bundle}/talon-state.json"),
            "--outcomes",
            outcomes.to_str().unwrap(),
            "--dump-state",
            state.to_str().unwrap(),
            "--junit",
            junit.to_str().unwrap(),
        ],
        b"",
    );
    exits(&output, 0);
    let outcomes = lines(&std::fs::read(&outcomes).unwrap());
    assert_eq!(outcomes.len(), 2);
    assert_eq!(outcomes[0]["outcome"], "rejected");
    assert_eq!(outcomes[0]["status"], 400);
    assert_eq!(
        outcomes[0]["error"]["errors"][0]["source"]["pointer"],
        "/attributes/newsletter"
    );
    assert_eq!(outcomes[1]["outcome"], "delivered");
    let state: Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    assert_eq!(
        state["profiles"][0]["attributes"],
        serde_json::json!({"logins": 4, "newsletter": true})
    );
    let junit = std::fs::read_to_string(&junit).unwrap();
    assert!(
        junit.contains("every event has exactly one outcome"),
        "{junit}"
    );
}

#[test]
fn fail_on_reject_exits_1_with_the_reason_in_json() {
    let bundle = repo("fixtures/bugs/string_true_to_boolean");
    let output = harness(
        &[
            "replay",
            "--settings",
            &format!("{bundle}/settings.json"),
            "--events",
            "-",
            "--talon-state",
            &format!("{bundle}/talon-state.json"),
            "--fail-on-reject",
            "--report",
            "json",
        ],
        &std::fs::read(format!("{bundle}/events.ndjson")).unwrap(),
    );
    assert_eq!(output.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["passed"], false);
    assert_eq!(report["summary"]["rejected"], 1);
    let check = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "Talon.One rejected no event")
        .unwrap();
    assert_eq!(check["passed"], false);
    let details = check["details"][0].as_str().unwrap();
    assert!(
        details.contains("Talon.One rejected `newsletter`"),
        "{details}"
    );
}

#[test]
fn replay_sends_to_a_target_url() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let bundle = repo("fixtures/bugs/user_ids_with_slash_and_hash");
    let state = talon_fake::StateFile::from_json(
        &std::fs::read_to_string(format!("{bundle}/talon-state.json")).unwrap(),
    )
    .unwrap();
    let fake = talon_fake::Fake::new(state, talon_fake::FakeConfig::default()).unwrap();
    let server = runtime
        .block_on(talon_fake::MockServer::start(fake.clone()))
        .unwrap();
    let dir = scratch("replay-target");
    let dumped = dir.join("state.json");
    let output = harness(
        &[
            "replay",
            "--settings",
            &format!("{bundle}/settings.json"),
            "--events",
            &format!("{bundle}/events.ndjson"),
            "--target",
            &server.uri(),
            "--outcomes",
            "-",
            "--dump-state",
            dumped.to_str().unwrap(),
        ],
        b"",
    );
    exits(&output, 0);
    let ids: Vec<String> = fake
        .state_dump()
        .profiles
        .into_iter()
        .map(|p| p.integration_id)
        .collect();
    assert_eq!(ids, ["100%/?#", "org/42", "user#7"]);
    let dumped: Value = serde_json::from_slice(&std::fs::read(&dumped).unwrap()).unwrap();
    assert_eq!(dumped["profiles"].as_array().unwrap().len(), 3);
    runtime.block_on(server.shutdown());
}

#[test]
fn a_state_dumped_from_a_serve_loads_again_and_its_admin_token_is_sent() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let bundle = repo("fixtures/bugs/user_ids_with_slash_and_hash");
    let state = talon_fake::StateFile::from_json(
        &std::fs::read_to_string(format!("{bundle}/talon-state.json")).unwrap(),
    )
    .unwrap();
    let config = talon_fake::FakeConfig {
        admin_token: Some("s3cret".into()),
        ..talon_fake::FakeConfig::default()
    };
    let fake = talon_fake::Fake::new(state.clone(), config).unwrap();
    let server = runtime
        .block_on(talon_fake::MockServer::start(fake.clone()))
        .unwrap();
    let dir = scratch("replay-admin-token");
    let dumped = dir.join("state.json");
    let args = |token: Option<&str>| {
        let mut args = vec![
            "replay".to_owned(),
            "--settings".into(),
            format!("{bundle}/settings.json"),
            "--events".into(),
            format!("{bundle}/events.ndjson"),
            "--target".into(),
            server.uri(),
            "--dump-state".into(),
            dumped.display().to_string(),
        ];
        if let Some(token) = token {
            args.extend(["--admin-token".to_owned(), token.to_owned()]);
        }
        args
    };
    let refused = args(None);
    let refused: Vec<&str> = refused.iter().map(String::as_str).collect();
    let output = harness(&refused, b"");
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("nothing was sent"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(fake.state_dump().profiles.is_empty(), "nothing was sent");

    let ok = args(Some("s3cret"));
    let ok: Vec<&str> = ok.iter().map(String::as_str).collect();
    let output = harness(&ok, b"");
    exits(&output, 0);
    let reloaded =
        talon_fake::StateFile::from_json(&std::fs::read_to_string(&dumped).unwrap()).unwrap();
    assert_eq!(reloaded.profiles.len(), 3);
    assert_eq!(
        reloaded.integration_keys, state.integration_keys,
        "keys are revealed so the file loads as the deployment it came from"
    );
    runtime.block_on(server.shutdown());
}
