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

#[test]
fn the_simulation_runs_as_a_library_call_and_writes_its_outcomes() {
    use std::sync::{Arc, Mutex};
    use talon_harness::simulation::{self, Outcomes, Simulation};

    /// A stream that keeps what is written to it.
    #[derive(Clone, Default)]
    struct Kept(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Kept {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let scenario = segment_gen::Scenario {
        users: 30,
        days: 3,
        ..segment_gen::Scenario::default()
    };
    simulation::ensure_events(&scenario, 9).unwrap();
    let kept = Kept::default();
    let report = simulation::run(
        Simulation {
            scenario,
            seed: 9,
            faults: Some(simulation::fault_plan(0.1, 9)),
            fail_on_reject: false,
            outcomes: Some(Outcomes {
                writer: Box::new(kept.clone()),
                name: "kept".into(),
            }),
            dump_state: None,
            serve: None,
            relay_rate_limit: None,
        },
        |config| config.concurrency = 4,
    )
    .unwrap();
    assert!(report.passed(), "{:#?}", report.checks);
    let summary = report.summary.as_ref().unwrap();
    let lines = kept
        .0
        .lock()
        .unwrap()
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .count();
    assert_eq!(lines as u64, summary.events, "one outcome line per event");
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.contains("4 lanes, faults injected")),
        "{:#?}",
        report.notes
    );
    let empty = segment_gen::Scenario {
        users: 0,
        ..segment_gen::Scenario::default()
    };
    let refused = simulation::ensure_events(&empty, 9)
        .unwrap_err()
        .to_string();
    assert!(
        refused.contains("there is nothing to simulate"),
        "{refused}"
    );
}
