//! `talon-harness simulate`: the main job, end to end, and its verification failing when it must.

use serde_json::Value;

use crate::{assert_says, exits, harness};

/// Runs `simulate` with `args` and `--report json`: the exit code and the report.
fn simulate(args: &[&str]) -> (Option<i32>, Value) {
    let mut all = vec!["simulate", "--report", "json"];
    all.extend_from_slice(args);
    let output = harness(&all, b"");
    let report = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stdout)));
    (output.status.code(), report)
}

#[test]
fn simulate_with_faults_verifies_with_nothing_lost() {
    let (code, report) = simulate(&[
        "--users",
        "60",
        "--days",
        "6",
        "--seed",
        "5",
        "--fault-rate",
        "0.1",
    ]);
    assert_eq!(code, Some(0), "{report:#}");
    assert_eq!(report["passed"], true);
    let summary = &report["summary"];
    assert!(
        summary["retries"].as_u64().unwrap() > 0,
        "faults were injected: {summary}"
    );
    assert_eq!(summary["failed"], 0);
    let total: u64 = ["delivered", "rejected", "skipped", "failed"]
        .iter()
        .map(|k| summary[k].as_u64().unwrap())
        .sum();
    assert_eq!(total, summary["events"].as_u64().unwrap());
    let names: Vec<&str> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"Talon.One holds the generator's ledger under the mapping rules"));
}

#[test]
fn simulate_with_the_edge_profile_verifies_against_the_reference_model() {
    let (code, report) = simulate(&[
        "--profile",
        "edge",
        "--users",
        "40",
        "--days",
        "5",
        "--seed",
        "9",
    ]);
    assert_eq!(code, Some(0), "{report:#}");
    assert!(
        report["summary"]["rejected"].as_u64().unwrap() > 0,
        "the edge profile provokes rejections"
    );
}

#[test]
fn simulate_fails_verification_when_events_are_lost() {
    let dir = crate::scratch("simulate-lost");
    let plan = dir.join("faults.json");
    std::fs::write(
        &plan,
        r#"{"rules": [{"path_prefix": "/v2/customer_profiles/", "respond": {"status": 502}, "probability": 0.3}], "seed": 1}"#,
    )
    .unwrap();
    let junit = dir.join("junit.xml");
    let output = harness(
        &[
            "simulate",
            "--users",
            "30",
            "--days",
            "3",
            "--faults",
            plan.to_str().unwrap(),
            "--max-attempts",
            "1",
            "--junit",
            junit.to_str().unwrap(),
        ],
        b"",
    );
    let stdout = exits(&output, 1).stdout;
    assert_says(
        &stdout,
        &[
            "FAIL no event was lost",
            "FAIL Talon.One holds what the reference model of the rules says",
        ],
    );
    assert!(
        std::fs::read_to_string(&junit)
            .unwrap()
            .contains("<failure")
    );
}
