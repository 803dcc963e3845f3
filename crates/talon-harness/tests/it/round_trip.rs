//! The round-trip oracle (`talon_round_trip`) as a stable test: the code the `round_trip` fuzz target runs, over its regression inputs and seeded scenarios.

use arbitrary::{Arbitrary, Unstructured};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use talon_round_trip::{Scenario, check_round_trip};

use crate::repo;

fn check(scenario: &Scenario, what: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    if let Err(violation) = runtime.block_on(check_round_trip(scenario)) {
        panic!("{what}: {violation}");
    }
}

#[test]
fn every_round_trip_regression_input_holds() {
    let dir = repo("fixtures/fuzz-regressions/round_trip");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        let scenario = if path.extension().is_some_and(|e| e == "json") {
            Scenario::from_readable_json(&bytes).unwrap()
        } else {
            // As libFuzzer hands raw inputs to the target.
            Scenario::arbitrary_take_rest(Unstructured::new(&bytes)).unwrap()
        };
        check(&scenario, &path.display().to_string());
        seen += 1;
    }
    assert!(seen > 0, "no regression inputs in {dir}");
}

#[test]
fn seeded_round_trip_scenarios_match_the_reference_model() {
    let mut rng = ChaCha8Rng::seed_from_u64(0x007a_100e);
    let mut checked = 0;
    for i in 0..1500 {
        let mut bytes = vec![0u8; 64 + (rng.next_u32() % 2048) as usize];
        rng.fill_bytes(&mut bytes);
        let Ok(scenario) = Scenario::arbitrary_take_rest(Unstructured::new(&bytes)) else {
            continue;
        };
        check(&scenario, &format!("seeded scenario {i}"));
        checked += 1;
    }
    assert!(checked > 1000, "only {checked} scenarios could be built");
}

#[test]
fn a_readable_scenario_names_its_types_as_talon_one_does() {
    let bad = br#"{"configured": [], "catalog": {"a": "String"}, "events": []}"#;
    assert_eq!(
        Scenario::from_readable_json(bad).map(|_| ()),
        Err("`a`: no Talon.One type is named \"String\"".to_owned())
    );
}

#[test]
fn the_fuzz_workspace_needs_no_cli_and_no_test_includes_a_file_by_path() {
    let manifest = std::fs::read_to_string(repo("fuzz/Cargo.toml")).unwrap();
    let depends_on = |name: &str| {
        manifest
            .lines()
            .any(|l| l.trim_start().starts_with(&format!("{name} =")))
    };
    assert!(
        depends_on("talon-round-trip") && !depends_on("talon-harness"),
        "fuzz/Cargo.toml:\n{manifest}"
    );
    let mut files = Vec::new();
    let mut dirs = vec![std::path::PathBuf::from(repo("crates"))];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() && !path.ends_with("target") {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    assert!(files.len() > 50, "only {} Rust files found", files.len());
    let attribute = ["#[", "path"].concat();
    let including: Vec<String> = files
        .iter()
        .filter(|p| std::fs::read_to_string(p).unwrap().contains(&attribute))
        .map(|p| p.display().to_string())
        .collect();
    assert_eq!(including, Vec::<String>::new(), "files pulled in by path");
}
