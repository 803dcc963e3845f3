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
fn every_harness_snapshot_belongs_to_a_help_text_or_a_report_page() {
    for entry in std::fs::read_dir(repo("snapshots/talon-harness")).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        assert!(
            crate::cli::HELP_SNAPSHOTS
                .iter()
                .chain(crate::repro_html::REPORT_SNAPSHOTS)
                .any(|h| format!("{h}.snap") == name),
            "snapshots/talon-harness/{name} belongs to no help text nor report page (a bundle's explanation is its explanation.txt): delete it"
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
