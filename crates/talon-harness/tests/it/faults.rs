//! `simulate` under fault plans: the same plan and seed give the same outcomes on every run,
//! and late requests that leave a wrong final state fail the verification.

use serde_json::Value;

use crate::{harness, repo, scratch};

/// Runs `simulate --report json` with `args` and `--outcomes`: exit code, report, outcome lines.
fn simulate(name: &str, args: &[&str]) -> (Option<i32>, Value, Vec<Value>) {
    let dir = scratch(name);
    let outcomes = dir.join("outcomes.ndjson");
    let mut all = vec![
        "simulate",
        "--report",
        "json",
        "--outcomes",
        outcomes.to_str().unwrap(),
    ];
    all.extend_from_slice(args);
    let output = harness(&all, b"");
    let report = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let lines = std::fs::read_to_string(&outcomes)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (output.status.code(), report, lines)
}

#[test]
fn the_example_fault_plan_gives_the_same_outcomes_on_every_run() {
    let plan = repo("fixtures/talon/faults-example.json");
    let args = [
        "--users",
        "50",
        "--days",
        "2",
        "--concurrency",
        "32",
        "--faults",
        plan.as_str(),
    ];
    let (code, report, first) = simulate("faults-example-0", &args);
    assert_eq!(code, Some(0), "{report:#}");
    assert_eq!(report["summary"]["failed"], 0, "{report:#}");
    let retried = first
        .iter()
        .filter(|o| o["attempts"].as_u64().is_some_and(|a| a > 1))
        .count();
    assert!(retried > 0, "the plan injected faults");
    for run in 1..4 {
        let (code, _, again) = simulate(&format!("faults-example-{run}"), &args);
        assert_eq!(code, Some(0));
        assert_eq!(again, first, "run {run} differs from the first");
    }
}

#[test]
fn simulate_with_late_requests_fails_verification_and_names_the_profile() {
    let plan = repo("fixtures/talon/faults-late.json");
    let args = [
        "--users",
        "100",
        "--days",
        "10",
        "--seed",
        "1",
        "--faults",
        plan.as_str(),
    ];
    let (code, report, outcomes) = simulate("faults-late", &args);
    assert_eq!(code, Some(1), "{report:#}");
    assert_eq!(report["passed"], false);
    assert_eq!(report["summary"]["failed"], 0, "every event was delivered");
    // The events whose earlier attempt may have landed late are flagged.
    let flagged: Vec<&str> = outcomes
        .iter()
        .filter(|o| o["possiblyAppliedOutOfOrder"] == true)
        .map(|o| o["integrationId"].as_str().unwrap())
        .collect();
    assert!(!flagged.is_empty());
    // Both the reference model and the read-back of the flagged profiles find it.
    for name in [
        "Talon.One holds what the reference model of the rules says",
        "profiles with an unconfirmed attempt hold what was last sent to them",
    ] {
        let check = report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("no check {name:?}: {report:#}"));
        assert_eq!(check["passed"], false, "{name}");
        let details: Vec<&str> = check["details"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_str().unwrap())
            .collect();
        let names_one = |d: &&str| {
            flagged
                .iter()
                .any(|id| d.starts_with(&format!("profile `{id}`")))
        };
        assert!(
            details.iter().any(names_one),
            "{name}: a flagged profile is named: {details:?} / {flagged:?}"
        );
    }
}
