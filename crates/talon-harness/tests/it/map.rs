//! `talon-harness map`: one result per input event.

use serde_json::Value;

use crate::{assert_says, exits, harness, repo};

#[test]
fn map_reports_one_result_per_fixture() {
    let output = harness(&["map", "--format", "ndjson"], b"");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let lines: Vec<Value> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let fixtures = std::fs::read_dir(repo("fixtures/segment")).unwrap().count();
    assert_eq!(lines.len(), fixtures);
    assert!(
        lines
            .iter()
            .all(|l| l["outcome"] == "send" || l["outcome"] == "skip")
    );
    assert!(
        lines
            .iter()
            .all(|l| { !l.to_string().contains("segment-demo-integration-key") })
    );
}

#[test]
fn map_reads_ndjson_from_stdin_and_reports_bad_lines() {
    let input = b"{\"type\":\"identify\",\"userId\":\"u1\",\"traits\":{\"email\":\"a@b.c\"}}\n\n{not json\n{\"type\":\"track\",\"userId\":\"u1\"}\n";
    let output = harness(
        &["map", "--events", "-", "--format", "ndjson", "--reveal-key"],
        input,
    );
    assert!(output.status.success());
    let lines: Vec<Value> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "the blank line is not an event");
    assert_eq!(lines[0]["source"], "-:1");
    assert_eq!(
        lines[0]["request"]["body"],
        serde_json::json!({"attributes": {"email": "a@b.c"}})
    );
    assert_eq!(
        lines[0]["request"]["headers"]["Authorization"],
        "ApiKey-v1 segment-demo-integration-key"
    );
    assert_eq!(lines[1]["source"], "-:3");
    assert_eq!(lines[1]["skip"]["reason"], "invalid_event");
    assert_eq!(lines[2]["skip"]["reason"], "unsupported_type");
}

#[test]
fn invalid_settings_are_reported_all_at_once_with_exit_code_2() {
    let dir = std::env::temp_dir().join(format!("talon-harness-settings-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("settings.json");
    std::fs::write(
        &path,
        r#"{"apiKey":"","applicationDomain":"demo.talon.one","customAttributes":["a.b"]}"#,
    )
    .unwrap();
    let output = harness(
        &["map", "--settings", path.to_str().unwrap(), "--events", "-"],
        b"",
    );
    let stderr = exits(&output, 2).stderr;
    assert_says(&stderr, &["`apiKey` is empty", "is not an absolute URL"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn fail_on_warning_exits_1_only_when_an_event_warns() {
    let clean = b"{\"type\":\"identify\",\"userId\":\"u1\",\"traits\":{\"email\":\"a@b.c\"}}\n";
    let output = harness(&["map", "--events", "-", "--fail-on-warning"], clean);
    assert_eq!(output.status.code(), Some(0));
    let warns = b"{\"type\":\"identify\",\"userId\":\"u1\",\"traits\":{\"Email\":\"a@b.c\"}}\n";
    let output = harness(&["map", "--events", "-", "--fail-on-warning"], warns);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&output.stdout)
            .contains("Custom Attributes lists `email` (names are case-sensitive)")
    );
}

/// `map`'s NDJSON lines for `events` under the default Actions subscriptions.
fn actions_lines(args: &[&str], events: &[u8]) -> Vec<Value> {
    let printed = exits(&harness(args, events), 0);
    printed
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn the_actions_destination_gives_one_line_per_request_with_its_subscription() {
    let identify =
        br#"{"type":"identify","userId":"u-1","traits":{"plan":"pro"},"messageId":"m1"}"#;
    let lines = actions_lines(
        &[
            "map",
            "--destination",
            "actions",
            "--events",
            "-",
            "--format",
            "ndjson",
        ],
        identify,
    );
    assert!(!lines.is_empty());
    for line in &lines {
        assert_eq!(line["outcome"], "request", "{line}");
        assert_eq!(line["source"], "-:1", "{line}");
        assert!(line["subscription"].is_string(), "{line}");
        assert!(
            line["url"]
                .as_str()
                .is_some_and(|u| u.starts_with("https://integration.talon.one/segment/")),
            "{line}"
        );
        assert_eq!(line["headers"]["authorization"], "ApiKey-v1 [redacted]");
        assert!(
            line["headers"]["destination-hostname"].is_string(),
            "{line}"
        );
    }
    assert!(
        lines.iter().any(|l| l["url"]
            .as_str()
            .is_some_and(|u| u.contains("/segment/v2/customer_profiles/u-1"))),
        "{lines:?}"
    );
}

#[test]
fn a_subscriptions_file_selects_the_actions_destination_and_a_skip_is_one_line() {
    let subscriptions = repo("fixtures/actions/subscriptions.json");
    let anonymous = br#"{"type":"identify","anonymousId":"a-1","traits":{"plan":"pro"}}"#;
    let lines = actions_lines(
        &[
            "map",
            "--subscriptions",
            &subscriptions,
            "--events",
            "-",
            "--format",
            "ndjson",
        ],
        anonymous,
    );
    // The identify matches but has no customerProfileId: Segment's own message, per subscription.
    assert!(
        lines.iter().any(|l| l["outcome"] == "rejected"
            && l["message"].as_str().is_some_and(
                |m| m.contains("The root value is missing the required field 'customerProfileId'.")
            )),
        "{lines:?}"
    );
    let alias = br#"{"type":"alias","userId":"u","previousId":"p"}"#;
    let lines = actions_lines(
        &[
            "map",
            "--subscriptions",
            &subscriptions,
            "--events",
            "-",
            "--format",
            "ndjson",
        ],
        alias,
    );
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["outcome"], "skip");
    assert_eq!(lines[0]["reason"], "no_subscription");
}

#[test]
fn subscriptions_with_the_classic_destination_are_a_usage_error() {
    let subscriptions = repo("fixtures/actions/subscriptions.json");
    let printed = exits(
        &harness(
            &[
                "map",
                "--destination",
                "classic",
                "--subscriptions",
                &subscriptions,
            ],
            b"",
        ),
        2,
    );
    assert_says(
        &printed.stderr,
        &["--subscriptions is for the Actions destination"],
    );
}
