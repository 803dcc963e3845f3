//! Every bug-report bundle in `fixtures/bugs/`, end to end through a real socket.

use std::path::PathBuf;

use talon_harness::bundle::{EXPECTED_FILES, INPUT_FILES, differences, run_bundle, verify_bundle};

use crate::{assert_says, exits, harness, repo};

/// Every bundle folder in `fixtures/bugs/`, sorted.
pub(crate) fn bundles() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(repo("fixtures/bugs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

#[test]
fn there_are_at_least_ten_complete_bundles() {
    let dirs = bundles();
    assert!(dirs.len() >= 10, "{} bundles", dirs.len());
    for dir in dirs {
        for file in INPUT_FILES.iter().chain(EXPECTED_FILES) {
            assert!(dir.join(file).is_file(), "{} has no {file}", dir.display());
        }
    }
}

#[test]
fn every_bundle_behaves_as_its_expected_json_and_explanation_say() {
    for dir in bundles() {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let diff = verify_bundle(&dir).unwrap();
        assert!(
            diff.is_empty(),
            "{name}: {diff:#?}\n(if the change is intended: talon-harness repro {} --update-expected)",
            dir.display()
        );
    }
}

/// Copies a bundle's customer files and README into a fresh folder.
fn fresh_bundle(from: &str, name: &str) -> PathBuf {
    let dir = crate::scratch(name);
    for file in INPUT_FILES {
        std::fs::copy(
            repo(&format!("fixtures/bugs/{from}/{file}")),
            dir.join(file),
        )
        .unwrap();
    }
    dir
}

#[test]
fn a_bundle_made_with_update_expected_alone_passes_repro_and_the_bundles_check() {
    let dir = fresh_bundle("string_true_to_boolean", "fresh-bundle");
    let path = dir.to_str().unwrap();
    let output = harness(&["repro", path, "--update-expected"], b"");
    exits(&output, 0);
    for file in EXPECTED_FILES {
        assert!(
            dir.join(file).is_file(),
            "--update-expected wrote no {file}"
        );
    }
    let output = harness(&["repro", path], b"");
    let stdout = exits(&output, 0).stdout;
    assert_says(
        &stdout,
        &[
            "ok   bundle \"A string \"true\" sent to a boolean attribute\" behaves as expected.json and explanation.txt say",
        ],
    );
    assert_eq!(verify_bundle(&dir).unwrap(), Vec::<String>::new());

    // And a stale explanation is caught, by line.
    let explanation = std::fs::read_to_string(dir.join("explanation.txt")).unwrap();
    std::fs::write(
        dir.join("explanation.txt"),
        explanation.replace("logins = 4", "logins = 5"),
    )
    .unwrap();
    let output = harness(&["repro", path], b"");
    assert_eq!(output.status.code(), Some(1));
    let diff = verify_bundle(&dir).unwrap();
    assert_eq!(diff.len(), 1, "{diff:?}");
    assert!(
        diff[0]
            .ends_with(": expected \"    logins = 5 (number)\", got \"    logins = 4 (number)\""),
        "{diff:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn repro_says_what_a_rejected_update_would_have_changed_and_shows_the_customers_tab() {
    let output = harness(
        &["repro", &repo("fixtures/bugs/string_true_to_boolean")],
        b"",
    );
    let stdout = exits(&output, 0).stdout;
    let json = harness(
        &[
            "repro",
            &repo("fixtures/bugs/string_true_to_boolean"),
            "--report",
            "json",
        ],
        b"",
    );
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let explanation =
        std::fs::read_to_string(repo("fixtures/bugs/string_true_to_boolean/explanation.txt"))
            .unwrap();
    assert_eq!(json["explanation"].as_str(), Some(&*explanation));
    assert!(stdout.starts_with(&explanation), "{stdout}");
    for line in [
        "    lost: `logins` would have been 3; Talon.One still holds nothing\n",
        "    lost: `newsletter` would have been \"true\"; Talon.One still holds nothing\n",
        "## final profiles, as Talon.One's Customers tab shows them\nu-9009\n    logins = 4 (number)\n    newsletter = true (boolean)\n",
    ] {
        assert!(stdout.contains(line), "{line}\nnot in\n{stdout}");
    }
}

#[test]
fn a_lost_value_names_what_talon_one_still_holds_from_an_earlier_update() {
    let dir = fresh_bundle("string_true_to_boolean", "lost-values");
    // First a good update, then the string "true": the second is lost, the first held.
    std::fs::write(
        dir.join("events.ndjson"),
        concat!(
            r#"{"type": "identify", "userId": "u-9009", "traits": {"newsletter": true, "logins": 4}}"#,
            "\n",
            r#"{"type": "identify", "userId": "u-9009", "traits": {"newsletter": "true", "logins": 4}}"#,
            "\n"
        ),
    )
    .unwrap();
    let run = run_bundle(&dir).unwrap();
    assert!(
        run.explanation.contains(
            "    lost: `logins` would have been 4; Talon.One already holds 4\n    lost: `newsletter` would have been \"true\"; Talon.One still holds true\n"
        ),
        "{}",
        run.explanation
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn repro_of_a_folder_that_does_not_exist_says_so_and_what_a_bundle_holds() {
    let output = harness(&["repro", "fixtures/bugs/no_such_bundle"], b"");
    let stderr = exits(&output, 2).stderr;
    assert_says(
        &stderr,
        &[
            "the bundle folder fixtures/bugs/no_such_bundle does not exist; a bundle is a folder holding settings.json, talon-state.json, events.ndjson and README.md",
        ],
    );
}

#[test]
fn repro_of_a_bundle_missing_a_file_names_the_file() {
    let dir = fresh_bundle("numeric_user_id", "missing-file");
    std::fs::remove_file(dir.join("events.ndjson")).unwrap();
    let output = harness(&["repro", dir.to_str().unwrap()], b"");
    let stderr = exits(&output, 2).stderr;
    assert_says(
        &stderr,
        &[&format!(
            "the bundle {} has no events.ndjson; a bundle is a folder holding",
            dir.display()
        )],
    );
    std::fs::copy(
        repo("fixtures/bugs/numeric_user_id/events.ndjson"),
        dir.join("events.ndjson"),
    )
    .unwrap();
    let output = harness(&["repro", dir.to_str().unwrap()], b"");
    let stderr = exits(&output, 2).stderr;
    assert_says(
        &stderr,
        &[&format!(
            "the bundle {} has no expected.json; run `talon-harness repro {} --update-expected` to write it",
            dir.display(),
            dir.display()
        )],
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_bundle_that_no_longer_behaves_as_expected_is_reported_with_a_readable_diff() {
    let dir = repo("fixtures/bugs/trait_case_mismatch");
    let run = run_bundle(std::path::Path::new(&dir)).unwrap();
    let mut expected: talon_harness::bundle::Expected =
        serde_json::from_str(&std::fs::read_to_string(format!("{dir}/expected.json")).unwrap())
            .unwrap();
    expected.outcomes[0].outcome = "delivered".into();
    expected.outcomes[0].status = Some(200);
    expected
        .profiles
        .get_mut("u-1001")
        .unwrap()
        .insert("email".into(), "ada@example.com".into());
    let diff = differences(&run, &expected);
    assert_eq!(
        diff,
        [
            "events.ndjson:1: expected delivered (200), got rejected (400)",
            "profile `u-1001`: `email` should hold \"ada@example.com\" but holds nothing",
        ]
    );
}

#[test]
fn every_harness_snapshot_belongs_to_a_help_text_a_report_page_or_an_example_change() {
    for entry in std::fs::read_dir(repo("snapshots/talon-harness")).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        assert!(
            crate::cli::HELP_SNAPSHOTS
                .iter()
                .chain(crate::repro_html::REPORT_SNAPSHOTS)
                .any(|h| format!("{h}.snap") == name)
                || crate::diff::snapshot_names().contains(&name),
            "snapshots/talon-harness/{name} belongs to no help text, report page nor example change (a bundle's explanation is its explanation.txt): delete it"
        );
    }
}

#[test]
fn an_unreadable_line_in_a_bundle_is_a_finding_even_when_expected() {
    let dir = fresh_bundle("numeric_user_id", "unreadable-line");
    let mut events = std::fs::read_to_string(dir.join("events.ndjson")).unwrap();
    events.push_str("{\"type\": \"identify\", \"userId\": \n");
    std::fs::write(dir.join("events.ndjson"), &events).unwrap();
    let path = dir.to_str().unwrap();
    let output = harness(&["repro", path, "--update-expected"], b"");
    assert_eq!(
        output.status.code(),
        Some(1),
        "the finding is reported while writing too"
    );
    let output = harness(&["repro", path], b"");
    let stdout = exits(&output, 1).stdout;
    assert_says(
        &stdout,
        &["FAIL every line of events.ndjson is a readable Segment event"],
    );
    let diff = verify_bundle(&dir).unwrap();
    assert_eq!(diff.len(), 1, "{diff:?}");
    assert!(
        diff[0].starts_with("events.ndjson:3: not a readable Segment event: "),
        "{diff:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Copies an Actions bundle's files (the subscriptions and any classic settings too).
fn fresh_actions_bundle(from: &str, name: &str) -> PathBuf {
    let dir = fresh_bundle(from, name);
    for file in ["subscriptions.json", "classic-settings.json"] {
        let source = repo(&format!("fixtures/bugs/{from}/{file}"));
        if std::path::Path::new(&source).is_file() {
            std::fs::copy(source, dir.join(file)).unwrap();
        }
    }
    dir
}

#[test]
fn an_actions_bundle_without_its_subscriptions_is_refused_naming_the_file() {
    let dir = fresh_bundle("actions_null_trait", "actions-no-subscriptions");
    let output = harness(&["repro", dir.to_str().unwrap(), "--update-expected"], b"");
    let stderr = exits(&output, 2).stderr;
    assert_says(
        &stderr,
        &[&format!(
            "the bundle {} is for Talon.One (Actions) (its settings.json names a `deployment`) but has no subscriptions.json",
            dir.display()
        )],
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_actions_bundle_runs_through_the_relay_with_its_deployment_and_key() {
    let run = run_bundle(&PathBuf::from(repo(
        "fixtures/bugs/actions_unknown_attribute_rejects_the_whole_update",
    )))
    .unwrap();
    assert!(run.actions);
    let entries: Vec<_> = run.events.iter().flat_map(|e| &e.exchanges).collect();
    assert!(!entries.is_empty());
    for exchange in entries {
        assert!(
            exchange.entry.path.starts_with("/segment/"),
            "{}",
            exchange.entry.path
        );
        assert!(
            exchange
                .url
                .starts_with("https://integration.talon.one/segment/"),
            "the URL the destination addresses: {}",
            exchange.url
        );
        let relay = exchange.entry.relay.as_ref().expect("a relay entry");
        assert_eq!(
            relay.deployment.as_deref(),
            Some("shop.europe-west1.talon.one")
        );
        assert!(
            !exchange.entry.rule.starts_with("auth."),
            "the bundle's key opens the relay: {}",
            exchange.entry.rule
        );
    }
}

#[test]
fn a_bundle_with_both_destinations_sends_each_event_through_each_in_turn() {
    let run = run_bundle(&PathBuf::from(repo(
        "fixtures/bugs/actions_classic_and_actions_both_enabled",
    )))
    .unwrap();
    let sources: Vec<&str> = run.events.iter().map(|e| e.source.as_str()).collect();
    assert_eq!(
        sources,
        [
            "events.ndjson:1 (classic)",
            "events.ndjson:1 (Actions)",
            "events.ndjson:2 (classic)",
            "events.ndjson:2 (Actions)",
        ]
    );
    assert_eq!(run.run.reports.len(), 4);
    assert_eq!(run.run.summary.events, 4);
    for event in &run.events {
        let prefix = if event.source.ends_with("(classic)") {
            "/v2/customer_profiles/"
        } else {
            "/segment/"
        };
        assert!(
            event
                .exchanges
                .iter()
                .all(|x| x.entry.path.starts_with(prefix)),
            "{}: {:?}",
            event.source,
            event.exchanges
        );
        assert!(!event.exchanges.is_empty(), "{}", event.source);
    }
    // The outcomes name the destination, so expected.json tells the two apart.
    assert_eq!(
        run.actual.outcomes[1].source, "events.ndjson:1 (Actions)",
        "{:?}",
        run.actual.outcomes
    );
    assert!(run.explanation.contains("\nevents.ndjson:2 (classic): "));
}

#[test]
fn a_burst_bundle_sees_the_same_429s_on_every_run_whatever_the_machine_s_speed() {
    let dir = PathBuf::from(repo(
        "fixtures/bugs/actions_burst_over_60_requests_per_second",
    ));
    let kinds = |run: &talon_harness::bundle::BundleRun| -> Vec<(String, Option<u16>)> {
        run.run
            .reports
            .iter()
            .map(|r| {
                let status = match &r.outcome {
                    talon_harness::report::Outcome::Failed { status, .. } => *status,
                    _ => None,
                };
                (r.outcome.kind().to_owned(), status)
            })
            .collect()
    };
    let first = run_bundle(&dir).unwrap();
    let outcomes = kinds(&first);
    assert!(outcomes.len() > 60, "a burst over 60 requests");
    assert!(
        outcomes[..60].iter().all(|(k, _)| k == "delivered"),
        "{outcomes:?}"
    );
    assert!(
        outcomes[60..]
            .iter()
            .all(|o| *o == ("failed".to_owned(), Some(429))),
        "{outcomes:?}"
    );
    // Every refused attempt is the relay's rate limit, journalled; none reached the deployment.
    let refused: Vec<_> = first
        .run
        .journal
        .iter()
        .filter(|e| e.status == 429)
        .collect();
    assert!(refused.iter().all(|e| e.rule == "relay.rate_limit"));
    assert_eq!(refused.len(), (outcomes.len() - 60) * 3, "3 attempts each");
    assert_eq!(
        kinds(&run_bundle(&dir).unwrap()),
        outcomes,
        "the same again"
    );
}

#[test]
fn memberships_and_stored_events_that_differ_from_expected_json_are_named() {
    let dir = repo("fixtures/bugs/actions_deprecated_track_event_sends_type_string");
    let run = run_bundle(std::path::Path::new(&dir)).unwrap();
    let mut expected: talon_harness::bundle::Expected =
        serde_json::from_str(&std::fs::read_to_string(format!("{dir}/expected.json")).unwrap())
            .unwrap();
    assert_eq!(differences(&run, &expected), Vec::<String>::new());
    expected
        .memberships
        .insert("u-9101".into(), vec!["1 VIP customers".into()]);
    expected.events.pop();
    let diff = differences(&run, &expected);
    assert_eq!(diff.len(), 2, "{diff:?}");
    assert_eq!(
        diff[0],
        "profile `u-9101`: should be in 1 VIP customers but is in no audience"
    );
    assert!(
        diff[1].starts_with(
            "stored events: expected [{\"profile\":\"u-9101\",\"eventType\":\"Points Earned\""
        ),
        "{diff:?}"
    );
}

#[test]
fn an_actions_bundle_made_with_update_expected_alone_passes_repro() {
    let dir = fresh_actions_bundle("actions_classic_and_actions_both_enabled", "fresh-actions");
    let path = dir.to_str().unwrap();
    exits(&harness(&["repro", path, "--update-expected"], b""), 0);
    let stdout = exits(&harness(&["repro", path], b""), 0).stdout;
    assert_says(
        &stdout,
        &[
            "ok   bundle \"Classic and Actions destinations both enabled: every update arrives twice\" behaves as expected.json and explanation.txt say",
        ],
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("expected.json")).unwrap(),
        std::fs::read_to_string(repo(
            "fixtures/bugs/actions_classic_and_actions_both_enabled/expected.json"
        ))
        .unwrap()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn repro_json_explains_each_actions_event_as_explanation_txt_does() {
    let dir = repo("fixtures/bugs/actions_classic_and_actions_both_enabled");
    let output = harness(&["repro", &dir, "--report", "json"], b"");
    let json: serde_json::Value = serde_json::from_str(&exits(&output, 0).stdout).unwrap();
    let events = json["events"].as_array().unwrap();
    assert_eq!(events.len(), 4);
    assert_eq!(events[1]["source"], "events.ndjson:1 (Actions)");
    let lines: Vec<&str> = events[1]["explanation"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert_eq!(lines[1], "fired: `Identify: update customer profile`");
    let explanation = std::fs::read_to_string(format!("{dir}/explanation.txt")).unwrap();
    for line in &lines[1..] {
        assert!(explanation.contains(&format!("\n    {line}\n")), "{line}");
    }
}
