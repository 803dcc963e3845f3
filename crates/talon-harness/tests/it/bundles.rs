//! Every bug-report bundle in `fixtures/bugs/`, end to end through a real socket.

use std::path::PathBuf;

use talon_harness::cmd::repro::{differences, run_bundle};

use crate::repo;

fn bundles() -> Vec<PathBuf> {
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
        for file in [
            "settings.json",
            "talon-state.json",
            "events.ndjson",
            "README.md",
            "expected.json",
        ] {
            assert!(dir.join(file).is_file(), "{} has no {file}", dir.display());
        }
    }
}

#[test]
fn every_bundle_behaves_as_its_expected_json_and_snapshot_say() {
    for dir in bundles() {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let run = run_bundle(&dir).unwrap();
        let expected =
            serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap())
                .unwrap();
        let diff = differences(&run, &expected);
        assert!(diff.is_empty(), "{name}: {diff:#?}");
        let outcomes: Vec<serde_json::Value> =
            run.run.reports.iter().map(|r| r.to_json()).collect();
        let rendered = format!(
            "{}\n## outcomes\n{}\n\n## final profiles\n{}\n",
            run.explanation,
            serde_json::to_string_pretty(&outcomes).unwrap(),
            serde_json::to_string_pretty(&run.actual.profiles).unwrap(),
        );
        insta::with_settings!({
            snapshot_path => "../../../../snapshots/talon-harness/bugs",
            prepend_module_to_snapshot => false,
            omit_expression => true,
        }, {
            insta::assert_snapshot!(name, rendered);
        });
    }
}

#[test]
fn a_bundle_that_no_longer_behaves_as_expected_is_reported_with_a_readable_diff() {
    let dir = repo("fixtures/bugs/trait_case_mismatch");
    let run = run_bundle(std::path::Path::new(&dir)).unwrap();
    let mut expected: talon_harness::cmd::repro::Expected =
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
fn every_harness_snapshot_belongs_to_a_bundle_or_a_help_text() {
    let bundles: Vec<String> = bundles()
        .iter()
        .map(|d| format!("{}.snap", d.file_name().unwrap().to_string_lossy()))
        .collect();
    for entry in std::fs::read_dir(repo("snapshots/talon-harness/bugs")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            bundles.contains(&name),
            "snapshots/talon-harness/bugs/{name} belongs to no bundle: delete it"
        );
    }
    for entry in std::fs::read_dir(repo("snapshots/talon-harness")).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        assert!(
            entry.path().is_dir()
                || crate::cli::HELP_SNAPSHOTS
                    .iter()
                    .any(|h| format!("{h}.snap") == name),
            "snapshots/talon-harness/{name} belongs to no help text: delete it"
        );
    }
}
