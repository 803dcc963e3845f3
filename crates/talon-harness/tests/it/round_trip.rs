//! The round-trip oracle as a stable test: the code the `round_trip` fuzz target runs, over its regression inputs and seeded scenarios.

use std::collections::BTreeMap;

use arbitrary::{Arbitrary, Unstructured};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::repo;

/// `fuzz/src/round_trip.rs`, included as it is, so both run one oracle.
#[path = "../../../../fuzz/src/round_trip.rs"]
#[allow(dead_code, unreachable_pub)]
mod oracle;

use oracle::{Scenario, check_round_trip};

/// The readable form of a regression: `{"configured", "catalog", "events"}`.
#[derive(serde::Deserialize)]
struct Readable {
    configured: Vec<String>,
    catalog: BTreeMap<String, talon_fake::rules::AttrType>,
    events: Vec<segment_model::Event>,
}

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
            let r: Readable = serde_json::from_slice(&bytes).unwrap();
            Scenario {
                configured: r.configured,
                catalog: r.catalog,
                events: r.events,
            }
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
