//! `talon-harness gen`: the generator's output, byte for byte.

use crate::{harness, scratch};

#[test]
fn gen_writes_the_generators_ndjson_and_ledger() {
    let output = harness(&["gen", "--seed", "7", "--users", "20", "--days", "3"], b"");
    assert!(output.status.success());
    let mut expected = Vec::new();
    let scenario = segment_gen::Scenario {
        users: 20,
        days: 3,
        ..segment_gen::Scenario::default()
    };
    let mut generator = segment_gen::Generator::new(scenario, 7).unwrap();
    generator.write_ndjson(&mut expected).unwrap();
    assert_eq!(output.stdout, expected);

    let dir = scratch("gen");
    let ledger = dir.join("ledger.json");
    let out = dir.join("events.ndjson");
    let output = harness(
        &[
            "gen",
            "--seed",
            "7",
            "--users",
            "20",
            "--days",
            "3",
            "--out",
            out.to_str().unwrap(),
            "--ledger",
            ledger.to_str().unwrap(),
        ],
        b"",
    );
    assert!(output.status.success());
    assert_eq!(std::fs::read(&out).unwrap(), expected);
    let ledger: segment_gen::Ledger =
        serde_json::from_slice(&std::fs::read(&ledger).unwrap()).unwrap();
    assert_eq!(ledger, generator.ledger());
}

// Moved from `segment-gen`'s own binary, which is gone: `gen` is now the one way in.
#[test]
fn gen_with_the_edge_profile_writes_the_edge_scenario() {
    let output = harness(
        &[
            "gen",
            "--seed",
            "7",
            "--users",
            "50",
            "--days",
            "4",
            "--profile",
            "edge",
        ],
        b"",
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let scenario = segment_gen::Scenario {
        users: 50,
        days: 4,
        ..segment_gen::Scenario::edge()
    };
    let mut expected = Vec::new();
    segment_gen::Generator::new(scenario, 7)
        .unwrap()
        .write_ndjson(&mut expected)
        .unwrap();
    assert_eq!(output.stdout, expected);
}

#[test]
fn gen_honours_the_event_cap_in_the_file_and_the_ledger() {
    let dir = scratch("gen-cap");
    let (events, ledger) = (dir.join("events.ndjson"), dir.join("ledger.json"));
    let output = harness(
        &[
            "gen",
            "--seed",
            "3",
            "--users",
            "30",
            "--days",
            "3",
            "--events",
            "40",
            "--out",
            events.to_str().unwrap(),
            "--ledger",
            ledger.to_str().unwrap(),
        ],
        b"",
    );
    assert!(output.status.success());
    let ndjson = std::fs::read_to_string(&events).unwrap();
    assert_eq!(ndjson.lines().count(), 40);
    let ledger: segment_gen::Ledger =
        serde_json::from_str(&std::fs::read_to_string(&ledger).unwrap()).unwrap();
    assert_eq!(ledger.events, 40);
    let scenario = segment_gen::Scenario {
        users: 30,
        days: 3,
        max_events: Some(40),
        ..segment_gen::Scenario::default()
    };
    let mut generator = segment_gen::Generator::new(scenario, 3).unwrap();
    generator.write_ndjson(&mut std::io::sink()).unwrap();
    assert_eq!(ledger, generator.into_ledger());
}

#[test]
fn gen_loads_a_scenario_file_and_its_flags_override_it() {
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/gen/small-edge.json"
    );
    let output = harness(
        &["gen", "--scenario", fixture, "--days", "2", "--seed", "5"],
        b"",
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = include_str!("../../../../fixtures/gen/small-edge.json");
    let scenario: segment_gen::Scenario = serde_json::from_str(text).unwrap();
    let mut expected = Vec::new();
    segment_gen::Generator::new(
        segment_gen::Scenario {
            days: 2,
            ..scenario
        },
        5,
    )
    .unwrap()
    .write_ndjson(&mut expected)
    .unwrap();
    assert_eq!(output.stdout, expected);
}

#[test]
fn gen_actions_writes_the_actions_scenario_and_its_ledger() {
    let expected = |scenario: segment_gen::Scenario| {
        let mut generator = segment_gen::Generator::new(scenario, 3).unwrap();
        let mut ndjson = Vec::new();
        generator.write_ndjson(&mut ndjson).unwrap();
        (ndjson, generator.into_ledger())
    };
    let actions = segment_gen::Scenario {
        users: 40,
        days: 4,
        ..segment_gen::Scenario::actions()
    };
    let dir = scratch("gen-actions");
    let ledger = dir.join("ledger.json");
    let sizes = ["--seed", "3", "--users", "40", "--days", "4"];
    let fixture = crate::repo("fixtures/gen/actions.json");
    for extra in [
        vec!["--actions"],
        vec!["--scenario", &fixture],
        vec!["--actions", "--commerce-share", "0.5"],
    ] {
        let ledger_arg = ["--ledger", ledger.to_str().unwrap()];
        let args: Vec<&str> = ["gen"]
            .iter()
            .chain(&sizes)
            .chain(&extra)
            .chain(&ledger_arg)
            .copied()
            .collect();
        let output = harness(&args, b"");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let scenario = if extra.contains(&"0.5") {
            segment_gen::Scenario {
                daily_commerce_share: 0.5,
                ..actions.clone()
            }
        } else {
            actions.clone()
        };
        let (ndjson, truth) = expected(scenario);
        assert_eq!(output.stdout, ndjson, "{extra:?}");
        let written: segment_gen::Ledger =
            serde_json::from_slice(&std::fs::read(&ledger).unwrap()).unwrap();
        assert!(!written.orders.is_empty(), "{extra:?}");
        assert_eq!(written, truth, "{extra:?}");
    }
    let output = harness(&["gen", "--commerce-share", "2", "--events", "1"], b"");
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("daily_commerce_share"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
