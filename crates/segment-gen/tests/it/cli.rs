//! The `segment-gen` binary writes what the library generates, and the ledger beside it.

use std::process::Command;

use segment_gen::{Generator, Ledger, Scenario};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_segment-gen"))
}

#[test]
fn the_binary_writes_the_librarys_ndjson_to_stdout() {
    let out = bin()
        .args([
            "--seed",
            "7",
            "--users",
            "50",
            "--days",
            "4",
            "--profile",
            "edge",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let scenario = Scenario {
        users: 50,
        days: 4,
        ..Scenario::edge()
    };
    let mut expected = Vec::new();
    Generator::new(scenario, 7)
        .unwrap()
        .write_ndjson(&mut expected)
        .unwrap();
    assert_eq!(out.stdout, expected);
}

// The test reads back the files the binary wrote.
#[allow(clippy::disallowed_methods)]
#[test]
fn the_binary_writes_a_file_and_the_ledger_and_honours_the_event_cap() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("segment-gen-cli");
    std::fs::create_dir_all(&dir).unwrap();
    let (events, ledger) = (dir.join("events.ndjson"), dir.join("ledger.json"));
    let status = bin()
        .args([
            "--seed", "3", "--users", "30", "--days", "3", "--events", "40",
        ])
        .arg("--out")
        .arg(&events)
        .arg("--ledger")
        .arg(&ledger)
        .status()
        .unwrap();
    assert!(status.success());
    let ndjson = std::fs::read_to_string(&events).unwrap();
    assert_eq!(ndjson.lines().count(), 40);
    let ledger: Ledger = serde_json::from_str(&std::fs::read_to_string(&ledger).unwrap()).unwrap();
    assert_eq!(ledger.events, 40);
    let scenario = Scenario {
        users: 30,
        days: 3,
        max_events: Some(40),
        ..Scenario::default()
    };
    let mut generator = Generator::new(scenario, 3).unwrap();
    generator.write_ndjson(&mut std::io::sink()).unwrap();
    assert_eq!(ledger, generator.into_ledger());
}

#[test]
fn the_scenario_file_fixtures_load_and_flags_override_them() {
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/gen/small-edge.json"
    );
    let out = bin()
        .args(["--scenario", fixture, "--days", "2", "--seed", "5"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = include_str!("../../../../fixtures/gen/small-edge.json");
    let scenario: Scenario = serde_json::from_str(text).unwrap();
    let mut expected = Vec::new();
    Generator::new(
        Scenario {
            days: 2,
            ..scenario
        },
        5,
    )
    .unwrap()
    .write_ndjson(&mut expected)
    .unwrap();
    assert_eq!(out.stdout, expected);
}

#[test]
fn a_bad_share_is_an_error_with_exit_code_1_and_bad_usage_exit_code_2() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/gen/invalid-share.json");
    let out = bin().arg("--scenario").arg(dir).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("client_side_share must be between 0 and 1")
    );
    let out = bin().arg("--profile").arg("weird").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn the_help_text_is_stable() {
    let out = bin().arg("--help").output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    crate::snapshots::settings().bind(|| insta::assert_snapshot!("cli_help", help));
}
