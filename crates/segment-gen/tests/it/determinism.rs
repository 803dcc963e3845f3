//! The same scenario and seed give byte-identical NDJSON; time only moves forward.

use std::collections::BTreeSet;

use segment_gen::{Generator, Scenario};

use crate::support::{run, small, small_edge};

fn fast_path(scenario: Scenario, seed: u64) -> Vec<u8> {
    let mut generator = Generator::new(scenario, seed).unwrap();
    let mut out = Vec::new();
    generator.write_ndjson(&mut out).unwrap();
    out
}

#[test]
fn the_same_seed_and_scenario_give_byte_identical_ndjson() {
    for scenario in [small(200, 20), small_edge(100, 10)] {
        let a = fast_path(scenario.clone(), 42);
        let b = fast_path(scenario, 42);
        assert!(a.len() > 10_000);
        assert_eq!(a, b);
    }
}

#[test]
fn the_iterator_and_the_fast_path_write_the_same_bytes() {
    for scenario in [small(150, 15), small_edge(80, 8)] {
        let iterated = run(scenario.clone(), 9).ndjson();
        assert_eq!(iterated.into_bytes(), fast_path(scenario, 9));
    }
}

#[test]
fn different_seeds_give_different_streams_of_similar_size() {
    let a = fast_path(small(200, 20), 1);
    let b = fast_path(small(200, 20), 2);
    assert_ne!(a, b);
    let ratio = a.len() as f64 / b.len() as f64;
    assert!(
        (0.8..1.25).contains(&ratio),
        "sizes {} and {}",
        a.len(),
        b.len()
    );
}

#[test]
fn timestamps_never_decrease_along_the_stream() {
    let run = run(small(300, 30), 5);
    let stamps: Vec<String> = run
        .values()
        .map(|e| e["timestamp"].as_str().unwrap().to_owned())
        .collect();
    // RFC 3339 with fixed width sorts like time.
    assert!(stamps.windows(2).all(|w| w[0] <= w[1]));
    assert!(stamps[0].starts_with("2026-01-01T"));
    // Simulated days follow the date.
    for (meta, stamp) in run.metas.iter().zip(&stamps) {
        let day: u32 = stamp[8..10].parse().unwrap();
        let month: u32 = stamp[5..7].parse().unwrap();
        if month == 1 {
            assert!(day > meta.day, "{stamp} on simulated day {}", meta.day);
        }
    }
}

#[test]
fn message_ids_are_unique_within_a_run() {
    let run = run(small(300, 30), 5);
    let ids: BTreeSet<String> = run
        .values()
        .map(|e| e["messageId"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), run.lines.len());
}

#[test]
fn an_empty_scenario_yields_no_events_and_an_empty_ledger() {
    for scenario in [small(0, 10), small(10, 0)] {
        let run = run(scenario, 1);
        assert!(run.lines.is_empty());
        assert_eq!(run.ledger.events, 0);
        assert!(run.ledger.users.is_empty());
    }
}

#[test]
fn an_invalid_scenario_is_refused_with_the_field_named() {
    let err = Generator::new(
        Scenario {
            unicode_share: f64::NAN,
            ..Scenario::default()
        },
        1,
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("unicode_share must be between 0 and 1"),
        "{err}"
    );
    let err = Generator::new(
        Scenario {
            numeric_share: 0.9,
            mixed_case_share: 0.9,
            ..Scenario::default()
        },
        1,
    )
    .unwrap_err();
    assert!(err.to_string().contains("sum to"), "{err}");
}

#[test]
fn a_scenario_file_names_only_what_it_changes() {
    let scenario: Scenario = serde_json::from_str(r#"{"users": 5}"#).unwrap();
    assert_eq!(
        scenario,
        Scenario {
            users: 5,
            ..Scenario::default()
        }
    );
    assert!(serde_json::from_str::<Scenario>(r#"{"userz": 5}"#).is_err());
}
